/* Status names, error messages and the always-on assertion. */
#include "base_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *trn_status_str(trn_status s) {
    switch (s) {
    case TRN_OK: return "ok";
    case TRN_E_NOMEM: return "out of memory";
    case TRN_E_IO: return "i/o error";
    case TRN_E_PARSE: return "malformed input";
    case TRN_E_INVALID: return "invalid argument";
    case TRN_E_RANGE: return "value out of range";
    case TRN_E_FAULT: return "simulated program fault";
    case TRN_E_UNSUPPORTED: return "unsupported";
    case TRN_E_NOTFOUND: return "not found";
    }
    return "unknown status";
}

trn_status trn_err_set(trn_err *e, trn_status s, const char *fmt, ...) {
    if (!e) return s;
    e->status = s;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return s;
}

trn_status trn_err_prefix(trn_err *e, const char *fmt, ...) {
    if (!e) return TRN_OK;
    char head[TRN_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    size_t hl = strlen(head), ml = strnlen(e->msg, TRN_ERRMSG_MAX - 1);
    if (hl > TRN_ERRMSG_MAX - 1) hl = TRN_ERRMSG_MAX - 1;
    if (ml > TRN_ERRMSG_MAX - 1 - hl) ml = TRN_ERRMSG_MAX - 1 - hl;
    memmove(e->msg + hl, e->msg, ml);
    memcpy(e->msg, head, hl);
    e->msg[hl + ml] = '\0';
    return e->status;
}

void trn_assert_fail(const char *expr, const char *file, int line) {
    fprintf(stderr, "trnsim: internal error: %s:%d: assertion failed: %s\n", file, line, expr);
    abort();
}

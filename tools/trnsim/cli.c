/* Option parsing, error printing and status-to-exit-code mapping shared by all commands. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "trnsim %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_exit_for(trn_status s) {
    switch (s) {
    case TRN_OK: return CLI_EXIT_OK;
    case TRN_E_FAULT: return CLI_EXIT_FAIL;
    case TRN_E_INVALID:
    case TRN_E_RANGE: return CLI_EXIT_USAGE;
    default: return CLI_EXIT_BADINPUT;
    }
}

int cli_opt(const char *cmd, int argc, char **argv, int *i, const char *name, const char **value) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0') return 0;
    if (*i + 1 >= argc) {
        cli_error(cmd, "option %s needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int cli_is_help(const char *arg) {
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int cli_parse_u64(const char *cmd, const char *what, const char *text, uint64_t *v) {
    char *end = NULL;
    errno = 0;
    if (!*text || *text == '-') goto bad;
    unsigned long long x = strtoull(text, &end, 0);
    if (errno || *end) goto bad;
    *v = x;
    return 1;
bad:
    cli_error(cmd, "%s: expected a non-negative integer, got '%s'", what, text);
    return 0;
}

int cli_parse_param(const char *s, trn_param *p) {
    const char *eq = strchr(s, '=');
    if (!eq || eq == s || (size_t)(eq - s) >= TRN_NAME_MAX) return 0;
    memcpy(p->name, s, (size_t)(eq - s));
    p->name[eq - s] = '\0';
    char *end = NULL;
    long long v = strtoll(eq + 1, &end, 0);
    if (!eq[1] || *end) return 0;
    p->value = v;
    return 1;
}

int cli_store_value(const char *cmd, const char *flag, int kind, const char *v, void *dst) {
    if (kind == CLI_VAL_STR) {
        *(const char **)dst = v;
    } else if (kind == CLI_VAL_POS) {
        uint64_t x;
        if (!cli_parse_u64(cmd, flag, v, &x)) return CLI_EXIT_USAGE;
        if (x < 1 || x > (UINT64_C(1) << 40)) {
            cli_error(cmd, "%s: expected a positive integer up to 2^40, got '%s'", flag, v);
            return CLI_EXIT_USAGE;
        }
        *(uint64_t *)dst = x;
    } else {
        char *end = NULL;
        errno = 0;
        double x = strtod(v, &end);
        if (!*v || *end || errno || !isfinite(x) || x <= 0) {
            cli_error(cmd, "%s: expected a positive number, got '%s'", flag, v);
            return CLI_EXIT_USAGE;
        }
        *(double *)dst = x;
    }
    return 0;
}

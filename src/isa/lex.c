/* The .tasm lexer: the whole file becomes one token array, lines ending in TK_EOL, so the
 * assembler can run a loop body several times without lexing it again. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "isa_impl.h"

static int is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

trn_status isa_lex(const char *text, const char *path, isa_token **toks, size_t *ntoks,
                   trn_err *err) {
    isa_token *v = NULL;
    size_t n = 0, cap = 0;
    uint32_t line = 1;
    const char *ls = text; /* start of the current line */
    const char *s = text;
    int line_has = 0;
    trn_status st = TRN_OK;
#define PUSH(tok)                                                          \
    do {                                                                   \
        if (!isa_grow((void **)&v, &cap, n + 1, sizeof *v)) {              \
            st = trn_err_set(err, TRN_E_NOMEM, "%s: out of memory", path); \
            goto done;                                                     \
        }                                                                  \
        v[n++] = (tok);                                                    \
    } while (0)
#define FAIL(...)                                                                  \
    do {                                                                           \
        char m_[300];                                                              \
        snprintf(m_, sizeof m_, __VA_ARGS__);                                      \
        st = trn_err_set(err, TRN_E_PARSE, "%s:%u:%u: %s", path, (unsigned)t.line, \
                         (unsigned)t.col, m_);                                     \
        goto done;                                                                 \
    } while (0)
    for (;;) {
        char c = *s;
        isa_token t = {0};
        t.line = line;
        t.col = (uint32_t)(s - ls) + 1;
        t.off = (uint32_t)(s - text);
        if (c == '\0' || c == '\n') {
            if (line_has) {
                t.type = TK_EOL;
                PUSH(t);
            }
            line_has = 0;
            if (c == '\0') {
                t.type = TK_EOF;
                PUSH(t);
                break;
            }
            s++;
            line++;
            ls = s;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r') {
            s++;
            continue;
        }
        if (c == '#') {
            while (*s && *s != '\n') s++;
            continue;
        }
        line_has = 1;
        if (is_alpha(c) || (c == '.' && is_alpha(s[1]))) {
            const char *b = s;
            t.type = c == '.' ? TK_DIRECTIVE : TK_IDENT;
            s++;
            for (;;) {
                if (is_alpha(*s) || is_digit(*s))
                    s++;
                else if (*s == '.' && is_alpha(s[1]) && t.type == TK_IDENT)
                    s++;
                else
                    break;
            }
            t.len = (uint32_t)(s - b);
            if (t.len >= TRN_NAME_MAX) FAIL("name longer than %d characters", TRN_NAME_MAX - 1);
            PUSH(t);
            continue;
        }
        if (is_digit(c)) {
            const char *b = s;
            int isfloat = 0;
            if (c == '0' && (s[1] == 'x' || s[1] == 'X')) {
                s += 2;
                while (is_digit(*s) || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')) s++;
            } else {
                while (is_digit(*s)) s++;
                if (*s == '.' && s[1] != '.') {
                    isfloat = 1;
                    s++;
                    while (is_digit(*s)) s++;
                }
                if (*s == 'e' || *s == 'E') {
                    const char *e = s + 1;
                    if (*e == '+' || *e == '-') e++;
                    if (is_digit(*e)) {
                        isfloat = 1;
                        s = e;
                        while (is_digit(*s)) s++;
                    }
                }
            }
            if (is_alpha(*s)) FAIL("malformed number '%.*s'", (int)(s - b + 1), b);
            t.len = (uint32_t)(s - b);
            char buf[64];
            if (t.len >= sizeof buf) FAIL("number too long");
            memcpy(buf, b, t.len);
            buf[t.len] = '\0';
            errno = 0;
            if (isfloat) {
                t.type = TK_FLOAT;
                t.fval = strtod(buf, NULL);
            } else {
                t.type = TK_INT;
                unsigned long long u = strtoull(buf, NULL, 0);
                if (errno || u > (unsigned long long)INT64_MAX)
                    FAIL("integer %s is too large", buf);
                t.ival = (int64_t)u;
            }
            PUSH(t);
            continue;
        }
        if (c == '"') {
            const char *b = s++;
            while (*s && *s != '"' && *s != '\n') s += (*s == '\\' && s[1] && s[1] != '\n') ? 2 : 1;
            if (*s != '"') FAIL("unterminated string");
            s++;
            t.type = TK_STRING;
            t.len = (uint32_t)(s - b);
            PUSH(t);
            continue;
        }
        t.type = TK_PUNCT;
        t.len = 1;
        if (c == '>' && s[1] == '=') {
            t.punct = 'g';
            t.len = 2;
        } else if (c == '.' && s[1] == '.') {
            t.punct = 'r';
            t.len = 2;
        } else if (strchr("[]()=,:+-*/%", c)) {
            t.punct = c;
        } else {
            FAIL("unexpected character '%c'", c);
        }
        s += t.len;
        PUSH(t);
    }
done:
    if (st != TRN_OK) {
        free(v);
        v = NULL;
        n = 0;
    }
    *toks = v;
    *ntoks = n;
    return st;
#undef PUSH
#undef FAIL
}

int isa_tok_string(const char *text, const isa_token *t, char *buf, size_t n) {
    size_t o = 0;
    for (uint32_t i = 1; i + 1 < t->len; i++) {
        char c = text[t->off + i];
        if (c == '\\') c = text[t->off + ++i];
        if (o + 1 >= n) return 0;
        buf[o++] = c;
    }
    buf[o] = '\0';
    return 1;
}

/* The .tasm assembler: directives, static loops (unrolled here), integer expressions over
 * params and loop variables, operands with slices, `key=value` arguments checked against the
 * instruction table, and tensor placement. Hardware limits (partitions, SBUF/PSUM totals,
 * matmul shapes, engine/memory legality, dtypes per core version) are the verifier's
 * (verify.c); this file only rejects what is malformed or names nothing.
 *
 * Expression semantics: 64-bit integers, `/` and `%` are Python's floor division and modulo
 * (the kernels are ports of NKI Python), overflow and division by zero are errors. `.for i in
 * A..B step S` runs i = A, A+S, ... while i < B (B exclusive, S > 0). */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "isa_impl.h"

#define MAX_LOOP_DEPTH 32
#define MAX_OPERANDS   64

typedef struct asm_state {
    const char *text, *path;
    isa_token *tk;
    size_t ntk, pos;
    size_t *stmt; /* first token of each statement */
    size_t nstmt;
    size_t *match; /* .for statement -> its .end statement */
    isa_builder b;
    trn_program *p;
    const trn_asm_opts *opts;
    trn_err *err;
    char *override_used;
    struct {
        char name[TRN_NAME_MAX];
        int64_t value;
    } loop[MAX_LOOP_DEPTH];
    int nloop;
    long iterations; /* loop bodies run so far (bounded like the instruction count) */
    int header_done, have_kernel, file_core, file_grid_n, file_grid_i, have_source;
    uint32_t loc_line, loc_col;
    int have_loc;
} asm_state;

/* ---- errors and tokens ------------------------------------------------------------------ */

static trn_status errat(asm_state *A, const isa_token *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static trn_status errat(asm_state *A, const isa_token *t, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return trn_err_set(A->err, TRN_E_PARSE, "%s:%u:%u: %s", A->path, (unsigned)t->line,
                       (unsigned)t->col, msg);
}

#define TRY(x)                       \
    do {                             \
        trn_status s_ = (x);         \
        if (s_ != TRN_OK) return s_; \
    } while (0)

static isa_token *peek(asm_state *A) {
    return &A->tk[A->pos];
}
static isa_token *next(asm_state *A) {
    isa_token *t = &A->tk[A->pos];
    if (t->type != TK_EOL && t->type != TK_EOF) A->pos++;
    return t;
}
static int is_punct(const isa_token *t, char c) {
    return t->type == TK_PUNCT && t->punct == c;
}
static int at_eol(asm_state *A) {
    return peek(A)->type == TK_EOL || peek(A)->type == TK_EOF;
}

static void tok_text(asm_state *A, const isa_token *t, char *buf, size_t n) {
    size_t len = t->len < n - 1 ? t->len : n - 1;
    memcpy(buf, A->text + t->off, len);
    buf[len] = '\0';
}

/* What a token looks like in a message. */
static const char *tok_desc(asm_state *A, const isa_token *t, char *buf, size_t n) {
    if (t->type == TK_EOL || t->type == TK_EOF) return "end of line";
    char s[48];
    tok_text(A, t, s, sizeof s);
    snprintf(buf, n, "'%s'", s);
    return buf;
}

static trn_status expect_punct(asm_state *A, char c, const char *what) {
    isa_token *t = peek(A);
    if (!is_punct(t, c)) {
        char d[64];
        return errat(A, t, "expected %s, got %s", what, tok_desc(A, t, d, sizeof d));
    }
    next(A);
    return TRN_OK;
}

static trn_status expect_ident(asm_state *A, const char *what, char *buf, isa_token **at) {
    isa_token *t = peek(A);
    if (t->type != TK_IDENT) {
        char d[64];
        return errat(A, t, "expected %s, got %s", what, tok_desc(A, t, d, sizeof d));
    }
    tok_text(A, t, buf, TRN_NAME_MAX);
    if (at) *at = t;
    next(A);
    return TRN_OK;
}

static trn_status expect_eol(asm_state *A) {
    if (at_eol(A)) return TRN_OK;
    char d[64];
    return errat(A, peek(A), "unexpected %s at the end of the statement",
                 tok_desc(A, peek(A), d, sizeof d));
}

static void shape_str(const trn_tensor *t, char *buf, size_t n) {
    size_t o = (size_t)snprintf(buf, n, "[");
    for (int d = 0; d < t->rank && o < n; d++)
        o += (size_t)snprintf(buf + o, n - o, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
    if (o < n) snprintf(buf + o, n - o, "]");
}

/* ---- expressions ----------------------------------------------------------------------- */

static int grid_program_id(const asm_state *A) {
    return A->opts->num_programs ? A->opts->program_id : A->file_grid_i;
}
static int grid_num_programs(const asm_state *A) {
    return A->opts->num_programs ? A->opts->num_programs : (A->file_grid_n ? A->file_grid_n : 1);
}

static trn_status expr(asm_state *A, int64_t *v);

static trn_status primary(asm_state *A, int64_t *v) {
    isa_token *t = peek(A);
    char d[64];
    if (t->type == TK_INT) {
        *v = t->ival;
        next(A);
        return TRN_OK;
    }
    if (is_punct(t, '(')) {
        next(A);
        TRY(expr(A, v));
        return expect_punct(A, ')', "')'");
    }
    if (t->type == TK_IDENT) {
        char name[TRN_NAME_MAX];
        tok_text(A, t, name, sizeof name);
        next(A);
        for (int i = A->nloop - 1; i >= 0; i--) {
            if (strcmp(A->loop[i].name, name) == 0) {
                *v = A->loop[i].value;
                return TRN_OK;
            }
        }
        int pi = isa_find_param(A->p, name);
        if (pi >= 0) {
            *v = A->p->params[pi].value;
            return TRN_OK;
        }
        if (strcmp(name, "program_id") == 0) {
            *v = grid_program_id(A);
            return TRN_OK;
        }
        if (strcmp(name, "num_programs") == 0) {
            *v = grid_num_programs(A);
            return TRN_OK;
        }
        return errat(A, t,
                     "unknown name '%s' in an expression (expected a .param, a loop variable, "
                     "program_id or num_programs)",
                     name);
    }
    if (t->type == TK_FLOAT) return errat(A, t, "expected an integer, got a floating-point number");
    return errat(A, t, "expected an integer expression, got %s", tok_desc(A, t, d, sizeof d));
}

static trn_status unary(asm_state *A, int64_t *v) {
    isa_token *t = peek(A);
    if (is_punct(t, '-') || is_punct(t, '+')) {
        next(A);
        TRY(unary(A, v));
        if (t->punct == '-') {
            if (*v == INT64_MIN) return errat(A, t, "integer overflow");
            *v = -*v;
        }
        return TRN_OK;
    }
    return primary(A, v);
}

static trn_status term(asm_state *A, int64_t *v) {
    TRY(unary(A, v));
    for (;;) {
        isa_token *t = peek(A);
        if (!(is_punct(t, '*') || is_punct(t, '/') || is_punct(t, '%'))) return TRN_OK;
        next(A);
        int64_t r;
        TRY(unary(A, &r));
        if (t->punct == '*') {
            if (__builtin_mul_overflow(*v, r, v)) return errat(A, t, "integer overflow");
            continue;
        }
        if (r == 0) return errat(A, t, "division by zero");
        if (*v == INT64_MIN && r == -1) return errat(A, t, "integer overflow");
        int64_t q = *v / r;
        if ((*v % r != 0) && ((*v < 0) != (r < 0))) q--; /* floor, as Python's // */
        *v = t->punct == '/' ? q : *v - q * r;
    }
}

static trn_status expr(asm_state *A, int64_t *v) {
    TRY(term(A, v));
    for (;;) {
        isa_token *t = peek(A);
        if (!(is_punct(t, '+') || is_punct(t, '-'))) return TRN_OK;
        next(A);
        int64_t r;
        TRY(term(A, &r));
        if (t->punct == '+' ? __builtin_add_overflow(*v, r, v) : __builtin_sub_overflow(*v, r, v))
            return errat(A, t, "integer overflow");
    }
}

static trn_status expr_range(asm_state *A, int64_t lo, int64_t hi, const char *what, int64_t *v) {
    isa_token *t = peek(A);
    TRY(expr(A, v));
    if (*v < lo || *v > hi)
        return errat(A, t, "%s %lld is out of range [%lld, %lld]", what, (long long)*v,
                     (long long)lo, (long long)hi);
    return TRN_OK;
}

/* A number for FLOAT and SCALAR arguments: a float literal, inf, nan (each with an optional
 * sign) or an integer expression. */
static trn_status number(asm_state *A, double *v) {
    size_t save = A->pos;
    double sign = 1;
    isa_token *t = peek(A);
    if (is_punct(t, '-') || is_punct(t, '+')) {
        sign = t->punct == '-' ? -1 : 1;
        next(A);
        t = peek(A);
    }
    if (t->type == TK_FLOAT) {
        *v = sign * t->fval;
        next(A);
        return TRN_OK;
    }
    if (t->type == TK_IDENT) {
        char name[TRN_NAME_MAX];
        tok_text(A, t, name, sizeof name);
        if (strcmp(name, "inf") == 0 || strcmp(name, "nan") == 0) {
            *v = name[0] == 'i' ? sign * (double)INFINITY : (sign < 0 ? -(double)NAN : (double)NAN);
            next(A);
            return TRN_OK;
        }
    }
    A->pos = save;
    int64_t i;
    TRY(expr(A, &i));
    *v = (double)i;
    return TRN_OK;
}

/* ---- operands -------------------------------------------------------------------------- */

static trn_status subscripts(asm_state *A, int ti, trn_ap *ap) {
    const trn_tensor *t = &A->p->tensors[ti];
    char shp[96];
    int d = 0;
    next(A); /* '[' */
    for (;;) {
        isa_token *at = peek(A);
        if (d >= t->rank) {
            shape_str(t, shp, sizeof shp);
            return errat(A, at, "too many subscripts for '%s' %s", t->name, shp);
        }
        int64_t start = 0, stop = t->shape[d], step = 1;
        int slice = 0;
        if (!is_punct(at, ':')) TRY(expr(A, &start));
        if (is_punct(peek(A), ':')) {
            slice = 1;
            next(A);
            isa_token *u = peek(A);
            if (!is_punct(u, ',') && !is_punct(u, ']') && !is_punct(u, ':')) TRY(expr(A, &stop));
            if (is_punct(peek(A), ':')) {
                next(A);
                u = peek(A);
                if (!is_punct(u, ',') && !is_punct(u, ']')) {
                    TRY(expr(A, &step));
                    if (step <= 0) return errat(A, u, "slice step must be positive");
                }
            }
        }
        shape_str(t, shp, sizeof shp);
        trn_sel *s = &ap->sel[d];
        if (!slice) {
            if (start < 0 || start >= t->shape[d])
                return errat(A, at, "index %lld of dimension %d of '%s' %s is out of range",
                             (long long)start, d, t->name, shp);
            s->start = (int32_t)start;
            s->num = 1;
            s->step = 1;
            s->index = 1;
        } else {
            if (start < 0 || stop > t->shape[d] || start >= stop) {
                if (start >= 0 && stop <= t->shape[d])
                    return errat(A, at, "slice %lld:%lld of dimension %d of '%s' %s is empty",
                                 (long long)start, (long long)stop, d, t->name, shp);
                return errat(A, at, "slice %lld:%lld of dimension %d of '%s' %s is out of range",
                             (long long)start, (long long)stop, d, t->name, shp);
            }
            if (t->mem != TRN_MEM_HBM && d == 0 && step != 1)
                return errat(A, at,
                             "the partition dimension of '%s' cannot be strided (step %lld): "
                             "partition ranges are contiguous",
                             t->name, (long long)step);
            s->start = (int32_t)start;
            s->num = (int32_t)((stop - start - 1) / step + 1);
            s->step = (int32_t)(step > INT32_MAX ? INT32_MAX : step);
            s->index = 0;
        }
        d++;
        isa_token *sep = peek(A);
        if (is_punct(sep, ',')) {
            next(A);
            continue;
        }
        if (is_punct(sep, ']')) {
            next(A);
            return TRN_OK;
        }
        char dd[64];
        return errat(A, sep, "expected ',' or ']' in the subscripts of '%s', got %s", t->name,
                     tok_desc(A, sep, dd, sizeof dd));
    }
}

/* `name` or `name[...]`; the current token is the identifier. */
static trn_status access_pattern(asm_state *A, trn_ap *ap) {
    isa_token *t = peek(A);
    char d[64];
    if (t->type != TK_IDENT)
        return errat(A, t, "expected a tensor name, got %s", tok_desc(A, t, d, sizeof d));
    char name[TRN_NAME_MAX];
    tok_text(A, t, name, sizeof name);
    int ti = isa_find_tensor(A->p, name);
    if (ti < 0) return errat(A, t, "unknown tensor '%s'", name);
    next(A);
    memset(ap, 0, sizeof *ap);
    ap->tensor = ti;
    const trn_tensor *tt = &A->p->tensors[ti];
    for (int k = 0; k < tt->rank; k++) {
        ap->sel[k].start = 0;
        ap->sel[k].num = (int32_t)tt->shape[k];
        ap->sel[k].step = 1;
    }
    if (is_punct(peek(A), '[')) TRY(subscripts(A, ti, ap));
    trn_ap_resolve(ap, tt);
    return TRN_OK;
}

static int is_tensor_name(asm_state *A, const isa_token *t) {
    if (t->type != TK_IDENT) return 0;
    char name[TRN_NAME_MAX];
    tok_text(A, t, name, sizeof name);
    return isa_find_tensor(A->p, name) >= 0;
}

/* A list `[a, b]` or `(a, b)` or a single element; `elem` parses one element. */
typedef trn_status (*elem_fn)(asm_state *A, void *ctx, int i);

static trn_status list(asm_state *A, int max, const char *what, elem_fn elem, void *ctx, int *n) {
    isa_token *open = peek(A);
    *n = 0;
    if (!is_punct(open, '[') && !is_punct(open, '(')) {
        TRY(elem(A, ctx, 0));
        *n = 1;
        return TRN_OK;
    }
    char close = open->punct == '[' ? ']' : ')';
    next(A);
    if (is_punct(peek(A), close)) {
        next(A);
        return TRN_OK;
    }
    for (;;) {
        if (*n >= max) return errat(A, peek(A), "more than %d %s", max, what);
        TRY(elem(A, ctx, *n));
        (*n)++;
        isa_token *sep = peek(A);
        if (is_punct(sep, ',')) {
            next(A);
            continue;
        }
        if (is_punct(sep, close)) {
            next(A);
            return TRN_OK;
        }
        char d[64];
        return errat(A, sep, "expected ',' or '%c' in a list of %s, got %s", close, what,
                     tok_desc(A, sep, d, sizeof d));
    }
}

static trn_status int_elem(asm_state *A, void *ctx, int i) {
    return expr(A, (int64_t *)ctx + i);
}
static trn_status float_elem(asm_state *A, void *ctx, int i) {
    return number(A, (double *)ctx + i);
}
static trn_status ap_elem(asm_state *A, void *ctx, int i) {
    return access_pattern(A, (trn_ap *)ctx + i);
}
static trn_status pair_elem(asm_state *A, void *ctx, int i) {
    int64_t *v = (int64_t *)ctx + 2 * i;
    isa_token *t = peek(A);
    int n;
    if (!is_punct(t, '[') && !is_punct(t, '(')) return errat(A, t, "expected a [step, num] pair");
    TRY(list(A, 2, "pattern entries", int_elem, v, &n));
    if (n != 2) return errat(A, t, "expected a [step, num] pair");
    if (v[1] < 1) return errat(A, t, "pattern num must be positive");
    return TRN_OK;
}

/* Looks a keyword up with `find`; on failure lists `names` (n of them). */
static trn_status keyword(asm_state *A, int (*find)(const char *), const char *(*name)(int), int n,
                          const char *what, int64_t *v) {
    isa_token *t;
    char s[TRN_NAME_MAX];
    TRY(expect_ident(A, what, s, &t));
    int i = find(s);
    if (i >= 0) {
        *v = i;
        return TRN_OK;
    }
    char lst[600];
    size_t o = 0;
    for (int k = 0; k < n && o < sizeof lst; k++)
        o += (size_t)snprintf(lst + o, sizeof lst - o, "%s%s", k ? " " : "", name(k));
    return errat(A, t, "unknown %s '%s' (expected one of: %s)", what, s, lst);
}

static const char *alu_name_i(int i) {
    return trn_alu_name((trn_alu_op)i);
}
static const char *act_name_i(int i) {
    return trn_act_name((trn_act_func)i);
}
static const char *engine_name_i(int i) {
    return trn_engine_name((trn_engine)i);
}

static trn_status enum_value(asm_state *A, trn_isa_enum e, int64_t *v) {
    isa_token *t;
    char s[TRN_NAME_MAX];
    TRY(expect_ident(A, trn_isa_enum_name(e), s, &t));
    int i = trn_isa_enum_find(e, s);
    if (i >= 0) {
        *v = i;
        return TRN_OK;
    }
    char lst[200];
    size_t o = 0;
    for (int k = 0; k < trn_isa_enum_count(e) && o < sizeof lst; k++)
        o += (size_t)snprintf(lst + o, sizeof lst - o, "%s%s", k ? " " : "",
                              trn_isa_enum_value(e, k));
    return errat(A, t, "unknown %s '%s' (expected one of: %s)", trn_isa_enum_name(e), s, lst);
}

static trn_status boolean(asm_state *A, int64_t *v) {
    isa_token *t = peek(A);
    char s[TRN_NAME_MAX];
    if (t->type == TK_INT && (t->ival == 0 || t->ival == 1)) {
        *v = t->ival;
        next(A);
        return TRN_OK;
    }
    if (t->type == TK_IDENT) {
        tok_text(A, t, s, sizeof s);
        if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "false") ||
            !strcmp(s, "False")) {
            *v = s[0] == 't' || s[0] == 'T';
            next(A);
            return TRN_OK;
        }
    }
    char d[64];
    return errat(A, t, "expected true or false, got %s", tok_desc(A, t, d, sizeof d));
}

/* Parses the value of argument `spec` into ops[*nops...] (several for an AP list). */
static trn_status value(asm_state *A, const trn_isa_arg *spec, int key, uint16_t col,
                        trn_operand *ops, int *nops) {
    trn_operand *o = &ops[*nops];
    memset(o, 0, sizeof *o);
    o->key = (uint8_t)key;
    o->col = col;
    o->kind = (uint8_t)spec->kind;
    isa_token *t = peek(A);
    char s[TRN_NAME_MAX];
    int n;
    switch (spec->kind) {
    case TRN_ARG_AP_IN:
    case TRN_ARG_AP_OUT: TRY(access_pattern(A, &o->u.ap)); break;
    case TRN_ARG_AP_LIST: {
        trn_ap aps[TRN_MAX_AP_LIST];
        if (*nops + TRN_MAX_AP_LIST > MAX_OPERANDS) return errat(A, t, "too many operands");
        TRY(list(A, TRN_MAX_AP_LIST, "tensors", ap_elem, aps, &n));
        if (n == 0) return errat(A, t, "expected at least one tensor");
        for (int i = 0; i < n; i++) {
            ops[*nops + i] = *o;
            ops[*nops + i].kind = TRN_ARG_AP_IN;
            ops[*nops + i].u.ap = aps[i];
        }
        *nops += n;
        return TRN_OK;
    }
    case TRN_ARG_SCALAR:
        if (is_tensor_name(A, t)) {
            o->kind = TRN_ARG_AP_IN;
            TRY(access_pattern(A, &o->u.ap));
        } else {
            o->kind = TRN_ARG_FLOAT;
            TRY(number(A, &o->u.imm));
        }
        break;
    case TRN_ARG_FLOAT: TRY(number(A, &o->u.imm)); break;
    case TRN_ARG_INT: TRY(expr(A, &o->u.i)); break;
    case TRN_ARG_BOOL: TRY(boolean(A, &o->u.i)); break;
    case TRN_ARG_ALU:
        TRY(keyword(A, trn_alu_find, alu_name_i, TRN_ALU_COUNT, "ALU operator", &o->u.i));
        break;
    case TRN_ARG_ACT:
        TRY(keyword(A, trn_act_find, act_name_i, TRN_ACT_COUNT, "activation function", &o->u.i));
        break;
    case TRN_ARG_ENUM: TRY(enum_value(A, (trn_isa_enum)spec->enum_id, &o->u.i)); break;
    case TRN_ARG_INT_LIST:
    case TRN_ARG_PATTERN: {
        int64_t v[2 * TRN_MAX_LIST];
        if (spec->kind == TRN_ARG_INT_LIST) {
            TRY(list(A, TRN_MAX_LIST, "integers", int_elem, v, &n));
        } else {
            if (!is_punct(t, '[')) return errat(A, t, "expected a pattern [[step, num], ...]");
            TRY(list(A, 4, "[step, num] pairs", pair_elem, v, &n));
            if (n == 0) return errat(A, t, "expected at least one [step, num] pair");
            n *= 2;
        }
        long at = isa_add_ints(&A->b, (size_t)n);
        if (at < 0) return trn_err_set(A->err, TRN_E_NOMEM, "out of memory");
        memcpy(A->p->ints + at, v, (size_t)n * sizeof *v);
        o->u.list.first = (uint32_t)at;
        o->u.list.count = (uint32_t)n;
        break;
    }
    case TRN_ARG_FLOAT_LIST: {
        double v[TRN_MAX_LIST];
        TRY(list(A, TRN_MAX_LIST, "numbers", float_elem, v, &n));
        long at = isa_add_floats(&A->b, (size_t)n);
        if (at < 0) return trn_err_set(A->err, TRN_E_NOMEM, "out of memory");
        memcpy(A->p->floats + at, v, (size_t)n * sizeof *v);
        o->u.list.first = (uint32_t)at;
        o->u.list.count = (uint32_t)n;
        break;
    }
    case TRN_ARG_REG:
    case TRN_ARG_REG_OR_INT:
        if (t->type == TK_IDENT) {
            tok_text(A, t, s, sizeof s);
            int r = isa_find_reg(A->p, s);
            if (r >= 0) {
                next(A);
                o->kind = TRN_ARG_REG;
                o->u.i = r;
                break;
            }
            if (spec->kind == TRN_ARG_REG)
                return errat(A, t, "unknown register '%s' (define it with register_alloc)", s);
        } else if (spec->kind == TRN_ARG_REG) {
            char d[64];
            return errat(A, t, "expected a register name, got %s", tok_desc(A, t, d, sizeof d));
        }
        o->kind = TRN_ARG_INT;
        TRY(expr(A, &o->u.i));
        break;
    case TRN_ARG_REG_DEF: {
        isa_token *rt;
        TRY(expect_ident(A, "a register name", s, &rt));
        if (isa_find_reg(A->p, s) >= 0) return errat(A, rt, "register '%s' is already defined", s);
        if (A->p->nregs >= ISA_MAX_NAMES) return errat(A, rt, "too many registers");
        long r = isa_add_reg(&A->b, s);
        if (r < 0) return trn_err_set(A->err, TRN_E_NOMEM, "out of memory");
        o->u.i = r;
        break;
    }
    default: return errat(A, t, "internal: argument kind %d", (int)spec->kind);
    }
    (*nops)++;
    return TRN_OK;
}

static int cmp_operand(const void *a, const void *b) {
    const trn_operand *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return 0;
}

static trn_status instruction(asm_state *A) {
    isa_token *kt = next(A);
    char kw[TRN_NAME_MAX];
    tok_text(A, kt, kw, sizeof kw);
    int op = trn_isa_op_find(kw);
    if (op < 0) return errat(A, kt, "unknown instruction '%s'", kw);
    const trn_isa_op *row = trn_isa_op_get((trn_opcode)op);
    trn_operand ops[MAX_OPERANDS];
    int nops = 0, seen[MAX_OPERANDS] = {0};
    trn_instr in;
    memset(&in, 0, sizeof in);
    in.op = (trn_opcode)op;
    in.engine = row->engine;
    in.line = A->have_loc ? A->loc_line : kt->line;
    in.col = A->have_loc ? A->loc_col : kt->col;
    A->have_loc = 0;
    int engine_given = 0;
    while (!at_eol(A)) {
        if (is_punct(peek(A), ',')) { /* optional separators, as in a Python call */
            next(A);
            continue;
        }
        isa_token *keyt;
        char key[TRN_NAME_MAX];
        TRY(expect_ident(A, "an argument key=value", key, &keyt));
        TRY(expect_punct(A, '=', "'=' after the argument name"));
        if (strcmp(key, "engine") == 0) {
            if (engine_given) return errat(A, keyt, "argument 'engine' given twice");
            engine_given = 1;
            int64_t e = 0;
            TRY(keyword(A, trn_engine_find, engine_name_i, TRN_ENGINE_COUNT, "engine", &e));
            if (!(row->engines >> e & 1)) {
                char lst[120];
                size_t o = 0;
                for (int k = 0; k < TRN_ENGINE_COUNT; k++)
                    if (row->engines >> k & 1)
                        o += (size_t)snprintf(lst + o, sizeof lst - o, "%s%s", o ? " " : "",
                                              trn_engine_name((trn_engine)k));
                return errat(A, keyt, "%s cannot run on engine %s (allowed: %s)", row->name,
                             trn_engine_name((trn_engine)e), lst);
            }
            in.engine = (trn_engine)e;
            continue;
        }
        if (strcmp(key, "wait") == 0 || strcmp(key, "signal") == 0) {
            if (!A->p->manual_sync)
                return errat(A, keyt,
                             "'%s=' needs `.sync manual` (the assembler inserts semaphores "
                             "otherwise)",
                             key);
            char sem[TRN_NAME_MAX];
            isa_token *st;
            TRY(expect_ident(A, "a semaphore name", sem, &st));
            int si = isa_find_sem(A->p, sem);
            if (si < 0) {
                if (A->p->nsems >= ISA_MAX_NAMES) return errat(A, st, "too many semaphores");
                si = (int)isa_add_sem(&A->b, sem);
                if (si < 0) return trn_err_set(A->err, TRN_E_NOMEM, "out of memory");
            }
            if (key[0] == 'w') {
                if (in.nwait >= TRN_MAX_WAITS)
                    return errat(A, keyt, "at most %d wait= per instruction", TRN_MAX_WAITS);
                TRY(expect_punct(A, 'g', "'>=' after the semaphore name (wait=SEM>=VALUE)"));
                int64_t v;
                TRY(expr_range(A, 0, UINT32_MAX, "semaphore value", &v));
                in.wait[in.nwait].sem = (uint16_t)si;
                in.wait[in.nwait].value = (uint32_t)v;
                in.nwait++;
            } else {
                if (in.nsignal >= TRN_MAX_SIGNALS)
                    return errat(A, keyt, "at most %d signal= per instruction", TRN_MAX_SIGNALS);
                in.signal[in.nsignal++] = (uint16_t)si;
            }
            continue;
        }
        int ai = trn_isa_arg_find((trn_opcode)op, key);
        if (ai < 0) {
            char lst[400];
            size_t o = 0;
            for (int k = 0; k < row->nargs && o < sizeof lst; k++)
                o += (size_t)snprintf(lst + o, sizeof lst - o, "%s%s", k ? " " : "",
                                      row->args[k].key);
            return errat(A, keyt, "%s has no argument '%s' (expected: %s, engine)", row->name, key,
                         lst);
        }
        if (seen[ai]) return errat(A, keyt, "argument '%s' given twice", key);
        seen[ai] = 1;
        if (nops >= MAX_OPERANDS) return errat(A, keyt, "too many operands");
        TRY(value(A, &row->args[ai], ai,
                  (uint16_t)(keyt->col > UINT16_MAX ? UINT16_MAX : keyt->col), ops, &nops));
    }
    for (int k = 0; k < row->nargs; k++)
        if ((row->args[k].flags & TRN_ARGF_REQUIRED) && !seen[k])
            return errat(A, kt, "%s needs argument '%s' (%s)", row->name, row->args[k].key,
                         trn_argkind_name(row->args[k].kind));
    /* row order; stable, so the tensors of an AP list keep their written order */
    for (int i = 1; i < nops; i++) {
        trn_operand x = ops[i];
        int j = i;
        for (; j > 0 && cmp_operand(&ops[j - 1], &x) > 0; j--) ops[j] = ops[j - 1];
        ops[j] = x;
    }
    if (A->p->ninstrs >= ISA_MAX_INSTRS)
        return errat(A, kt, "more than %d instructions after unrolling the loops", ISA_MAX_INSTRS);
    long a0 = isa_add_args(&A->b, (size_t)nops);
    long ii = isa_add_instr(&A->b);
    if (a0 < 0 || ii < 0) return trn_err_set(A->err, TRN_E_NOMEM, "out of memory");
    memcpy(A->p->args + a0, ops, (size_t)nops * sizeof ops[0]);
    in.arg0 = (uint32_t)a0;
    in.nargs = (uint32_t)nops;
    A->p->instrs[ii] = in;
    return TRN_OK;
}

/* ---- directives ------------------------------------------------------------------------ */

static trn_status finish_header(asm_state *A, isa_token *t) {
    if (A->header_done) return TRN_OK;
    A->header_done = 1;
    int v = A->opts->core_version ? A->opts->core_version : (A->file_core ? A->file_core : 3);
    if (v < 2) return errat(A, t, "core version v%d does not exist (v2 is the first)", v);
    A->p->core_version = v;
    A->p->num_programs = grid_num_programs(A);
    A->p->program_id = grid_program_id(A);
    if (A->p->program_id < 0 || A->p->program_id >= A->p->num_programs)
        return errat(A, t, "program_id %d is outside the grid of %d programs", A->p->program_id,
                     A->p->num_programs);
    return TRN_OK;
}

static trn_status declaration(asm_state *A, isa_token *dt, const char *dir) {
    trn_tensor t;
    memset(&t, 0, sizeof t);
    if (!strcmp(dir, ".input"))
        t.role = TRN_ROLE_INPUT, t.mem = TRN_MEM_HBM;
    else if (!strcmp(dir, ".output"))
        t.role = TRN_ROLE_OUTPUT, t.mem = TRN_MEM_HBM;
    else if (!strcmp(dir, ".hbm"))
        t.role = TRN_ROLE_HBM, t.mem = TRN_MEM_HBM;
    else if (!strcmp(dir, ".sbuf"))
        t.role = TRN_ROLE_TILE, t.mem = TRN_MEM_SBUF;
    else
        t.role = TRN_ROLE_TILE, t.mem = TRN_MEM_PSUM;
    isa_token *nt, *tt;
    char dtn[TRN_NAME_MAX];
    TRY(expect_ident(A, "a tensor name", t.name, &nt));
    if (isa_find_tensor(A->p, t.name) >= 0)
        return errat(A, nt, "tensor '%s' is already declared", t.name);
    if (isa_find_param(A->p, t.name) >= 0 || !strcmp(t.name, "program_id") ||
        !strcmp(t.name, "num_programs") || isa_find_reg(A->p, t.name) >= 0)
        return errat(A, nt, "'%s' is already a parameter or register name", t.name);
    TRY(expect_ident(A, "a data type (bf16, f32, fp8_e4m3_legacy ...)", dtn, &tt));
    int packed;
    if (!isa_dtype_parse(dtn, &t.dtype, &packed)) {
        char lst[400];
        size_t o = 0;
        for (int k = 0; k < TRN_DTYPE_COUNT && o < sizeof lst; k++)
            o += (size_t)snprintf(lst + o, sizeof lst - o, "%s ", trn_dtype_name((trn_dtype)k));
        snprintf(lst + (o < sizeof lst ? o : sizeof lst - 1),
                 sizeof lst - (o < sizeof lst ? o : sizeof lst - 1),
                 "fp8_e4m3_x4 fp8_e5m2_x4 fp4_e2m1_x4");
        return errat(A, tt, "unknown data type '%s' (expected one of: %s)", dtn, lst);
    }
    t.packed = (uint8_t)packed;
    TRY(expect_punct(A, '[', "'[' and the shape"));
    for (;;) {
        isa_token *st = peek(A);
        if (t.rank >= TRN_MAX_RANK) return errat(A, st, "at most %d dimensions", TRN_MAX_RANK);
        int64_t v;
        TRY(expr(A, &v));
        if (v < 1 || v > INT32_MAX)
            return errat(A, st, "dimension %d of '%s' is %lld (expected 1 to %d)", t.rank, t.name,
                         (long long)v, INT32_MAX);
        t.shape[t.rank++] = v;
        if (is_punct(peek(A), ',')) {
            next(A);
            continue;
        }
        TRY(expect_punct(A, ']', "',' or ']' in the shape"));
        break;
    }
    isa_token *ot = NULL; /* offset=EXPR: an explicit placement (bytes inside each partition) */
    if (peek(A)->type == TK_IDENT) {
        char kw[TRN_NAME_MAX];
        tok_text(A, peek(A), kw, sizeof kw);
        if (!strcmp(kw, "offset")) {
            if (t.mem == TRN_MEM_HBM)
                return errat(A, peek(A), "offset= places .sbuf and .psum tiles only, not %s", dir);
            next(A);
            TRY(expect_punct(A, '=', "'=' after offset"));
            ot = peek(A);
            int64_t v;
            TRY(expr(A, &v));
            if (v < 0)
                return errat(A, ot,
                             "offset %lld of '%s' is negative (expected bytes inside "
                             "each partition, a multiple of %d)",
                             (long long)v, t.name, TRN_ALIGN_BYTES);
            t.placed = 1;
            t.addr = (uint64_t)v;
        }
    }
    TRY(expect_eol(A));
    t.line = A->have_loc ? A->loc_line : dt->line;
    A->have_loc = 0;
    trn_err e = {0};
    if (isa_place_tensor(A->p, &t, &e) != TRN_OK) return errat(A, ot ? ot : nt, "%s", e.msg);
    if (A->p->ntensors >= ISA_MAX_TENSORS) return errat(A, nt, "too many tensors");
    long i = isa_add_tensor(&A->b);
    if (i < 0) return trn_err_set(A->err, TRN_E_NOMEM, "out of memory");
    A->p->tensors[i] = t;
    return TRN_OK;
}

static trn_status directive(asm_state *A) {
    isa_token *dt = next(A);
    char dir[TRN_NAME_MAX];
    tok_text(A, dt, dir, sizeof dir);
    int header = !strcmp(dir, ".core") || !strcmp(dir, ".grid") || !strcmp(dir, ".sync");
    if (header && A->header_done)
        return errat(A, dt, "%s must come before .param, declarations and instructions", dir);
    if (A->nloop && strcmp(dir, ".loc"))
        return errat(A, dt, "%s is not allowed inside a .for loop", dir);
    char s[TRN_NAME_MAX];
    isa_token *t;
    if (!strcmp(dir, ".kernel")) {
        if (A->have_kernel) return errat(A, dt, "a second .kernel");
        TRY(expect_ident(A, "a kernel name", A->p->name, NULL));
        A->have_kernel = 1;
        return expect_eol(A);
    }
    if (!strcmp(dir, ".core")) {
        TRY(expect_ident(A, "a core version v2, v3, v4 ...", s, &t));
        char *end;
        long v = (s[0] == 'v') ? strtol(s + 1, &end, 10) : 0;
        if (v < 2 || v > 99 || *end) return errat(A, t, "expected a core version v2, v3, v4 ...");
        A->file_core = (int)v;
        return expect_eol(A);
    }
    if (!strcmp(dir, ".grid")) {
        int64_t n, i;
        TRY(expr_range(A, 1, 1 << 20, "number of programs", &n));
        TRY(expr_range(A, 0, n - 1, "program_id", &i));
        A->file_grid_n = (int)n;
        A->file_grid_i = (int)i;
        return expect_eol(A);
    }
    if (!strcmp(dir, ".sync")) {
        TRY(expect_ident(A, "manual or auto", s, &t));
        if (strcmp(s, "manual") && strcmp(s, "auto")) return errat(A, t, "expected manual or auto");
        A->p->manual_sync = s[0] == 'm';
        return expect_eol(A);
    }
    if (!strcmp(dir, ".loc")) {
        int64_t l, c = 0;
        TRY(expr_range(A, 1, UINT32_MAX, "line", &l));
        if (!at_eol(A)) TRY(expr_range(A, 0, UINT32_MAX, "column", &c));
        A->loc_line = (uint32_t)l;
        A->loc_col = (uint32_t)c;
        A->have_loc = 1;
        return expect_eol(A);
    }
    if (!strcmp(dir, ".source")) {
        t = peek(A);
        if (t->type != TK_STRING) return errat(A, t, "expected a quoted path");
        char *buf = malloc(t->len + 1);
        if (!buf) return trn_err_set(A->err, TRN_E_NOMEM, "out of memory");
        isa_tok_string(A->text, t, buf, t->len + 1);
        free(A->p->source_path);
        A->p->source_path = buf;
        A->have_source = 1;
        next(A);
        return expect_eol(A);
    }
    TRY(finish_header(A, dt));
    if (!strcmp(dir, ".param")) {
        isa_token *nt;
        trn_param prm;
        memset(&prm, 0, sizeof prm);
        TRY(expect_ident(A, "a parameter name", prm.name, &nt));
        if (isa_find_param(A->p, prm.name) >= 0 || isa_find_tensor(A->p, prm.name) >= 0 ||
            !strcmp(prm.name, "program_id") || !strcmp(prm.name, "num_programs"))
            return errat(A, nt, "'%s' is already defined", prm.name);
        TRY(expect_punct(A, '=', "'=' after the parameter name"));
        TRY(expr(A, &prm.value));
        TRY(expect_eol(A));
        for (int i = 0; i < A->opts->n_overrides; i++) {
            if (strcmp(A->opts->overrides[i].name, prm.name) == 0) {
                prm.value = A->opts->overrides[i].value;
                A->override_used[i] = 1;
            }
        }
        if (A->p->nparams >= ISA_MAX_NAMES) return errat(A, nt, "too many parameters");
        long i = isa_add_param(&A->b);
        if (i < 0) return trn_err_set(A->err, TRN_E_NOMEM, "out of memory");
        A->p->params[i] = prm;
        return TRN_OK;
    }
    if (!strcmp(dir, ".sem")) {
        isa_token *nt;
        TRY(expect_ident(A, "a semaphore name", s, &nt));
        if (!A->p->manual_sync) return errat(A, dt, ".sem needs `.sync manual`");
        if (isa_find_sem(A->p, s) >= 0) return errat(A, nt, "semaphore '%s' already exists", s);
        if (A->p->nsems >= ISA_MAX_NAMES) return errat(A, nt, "too many semaphores");
        if (isa_add_sem(&A->b, s) < 0) return trn_err_set(A->err, TRN_E_NOMEM, "out of memory");
        return expect_eol(A);
    }
    if (!strcmp(dir, ".input") || !strcmp(dir, ".output") || !strcmp(dir, ".hbm") ||
        !strcmp(dir, ".sbuf") || !strcmp(dir, ".psum"))
        return declaration(A, dt, dir);
    if (!strcmp(dir, ".end")) return errat(A, dt, ".end without a .for");
    return errat(A, dt,
                 "unknown directive '%s' (expected .kernel .param .input .output .hbm .sbuf "
                 ".psum .for .end .sync .sem .core .grid .source .loc)",
                 dir);
}

/* ---- statements and loops -------------------------------------------------------------- */

static int stmt_is(asm_state *A, size_t s, const char *dir) {
    const isa_token *t = &A->tk[A->stmt[s]];
    return t->type == TK_DIRECTIVE && t->len == strlen(dir) &&
           memcmp(A->text + t->off, dir, t->len) == 0;
}

static trn_status run(asm_state *A, size_t s0, size_t s1);

static trn_status loop(asm_state *A, size_t s) {
    isa_token *ft = next(A);
    if (A->nloop >= MAX_LOOP_DEPTH)
        return errat(A, ft, "loops nest deeper than %d", MAX_LOOP_DEPTH);
    TRY(finish_header(A, ft));
    char var[TRN_NAME_MAX], in[TRN_NAME_MAX];
    isa_token *vt, *it;
    TRY(expect_ident(A, "a loop variable", var, &vt));
    for (int i = 0; i < A->nloop; i++)
        if (!strcmp(A->loop[i].name, var))
            return errat(A, vt, "loop variable '%s' is already in use", var);
    if (isa_find_param(A->p, var) >= 0 || isa_find_tensor(A->p, var) >= 0 ||
        !strcmp(var, "program_id") || !strcmp(var, "num_programs"))
        return errat(A, vt, "loop variable '%s' hides another name", var);
    TRY(expect_ident(A, "'in'", in, &it));
    if (strcmp(in, "in")) return errat(A, it, "expected 'in', got '%s'", in);
    int64_t a, b, step = 1;
    TRY(expr(A, &a));
    TRY(expect_punct(A, 'r', "'..' between the loop bounds (.for i in A..B)"));
    TRY(expr(A, &b));
    if (!at_eol(A)) {
        TRY(expect_ident(A, "'step'", in, &it));
        if (strcmp(in, "step")) return errat(A, it, "expected 'step', got '%s'", in);
        isa_token *st = peek(A);
        TRY(expr(A, &step));
        if (step <= 0) return errat(A, st, "loop step must be positive");
    }
    TRY(expect_eol(A));
    int depth = A->nloop++;
    snprintf(A->loop[depth].name, TRN_NAME_MAX, "%s", var);
    for (int64_t v = a; v < b; v += step) {
        if (++A->iterations > ISA_MAX_INSTRS)
            return errat(A, ft, "the loops run more than %d iterations in all", ISA_MAX_INSTRS);
        A->loop[depth].value = v;
        trn_status st = run(A, s + 1, A->match[s]);
        if (st != TRN_OK) return st;
        if (v > INT64_MAX - step) break;
    }
    A->nloop--;
    return TRN_OK;
}

static trn_status run(asm_state *A, size_t s0, size_t s1) {
    for (size_t s = s0; s < s1; s++) {
        A->pos = A->stmt[s];
        isa_token *t = peek(A);
        if (stmt_is(A, s, ".for")) {
            TRY(loop(A, s));
            s = A->match[s];
            continue;
        }
        if (t->type == TK_DIRECTIVE) {
            TRY(directive(A));
            continue;
        }
        if (t->type != TK_IDENT) {
            char d[64];
            return errat(A, t, "expected an instruction or a directive, got %s",
                         tok_desc(A, t, d, sizeof d));
        }
        TRY(finish_header(A, t));
        TRY(instruction(A));
        TRY(expect_eol(A));
    }
    return TRN_OK;
}

/* Finds statements and matches each .for with its .end. */
static trn_status structure(asm_state *A) {
    size_t n = 0;
    for (size_t i = 0; i < A->ntk; i++)
        if (A->tk[i].type == TK_EOL) n++;
    A->stmt = malloc((n + 1) * sizeof *A->stmt);
    A->match = calloc(n + 1, sizeof *A->match);
    if (!A->stmt || !A->match) return trn_err_set(A->err, TRN_E_NOMEM, "out of memory");
    size_t start = 0;
    for (size_t i = 0; i < A->ntk; i++) {
        if (A->tk[i].type == TK_EOL) {
            A->stmt[A->nstmt++] = start;
            start = i + 1;
        }
    }
    size_t stack[MAX_LOOP_DEPTH];
    int depth = 0;
    for (size_t s = 0; s < A->nstmt; s++) {
        if (stmt_is(A, s, ".for")) {
            if (depth >= MAX_LOOP_DEPTH)
                return errat(A, &A->tk[A->stmt[s]], "loops nest deeper than %d", MAX_LOOP_DEPTH);
            stack[depth++] = s;
        } else if (stmt_is(A, s, ".end")) {
            if (depth == 0) return errat(A, &A->tk[A->stmt[s]], ".end without a .for");
            A->match[stack[--depth]] = s;
            isa_token *after = &A->tk[A->stmt[s] + 1];
            if (after->type != TK_EOL)
                return errat(A, after, "expected the end of the line after .end");
        }
    }
    if (depth) return errat(A, &A->tk[A->stmt[stack[depth - 1]]], ".for without a matching .end");
    return TRN_OK;
}

static void default_name(const char *path, char *name) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t o = 0;
    for (; *b && *b != '.' && o + 1 < TRN_NAME_MAX; b++)
        name[o++] =
            (char)((*b >= 'a' && *b <= 'z') || (*b >= 'A' && *b <= 'Z') || (*b >= '0' && *b <= '9')
                       ? *b
                       : '_');
    if (o == 0 || (name[0] >= '0' && name[0] <= '9')) {
        snprintf(name, TRN_NAME_MAX, "kernel");
        return;
    }
    name[o] = '\0';
}

trn_status trn_program_assemble(const char *text, const char *path, const trn_asm_opts *opts,
                                trn_program **out, trn_err *err) {
    static const trn_asm_opts none = {0};
    asm_state A;
    memset(&A, 0, sizeof A);
    *out = NULL;
    A.text = text;
    A.path = path ? path : "<text>";
    A.opts = opts ? opts : &none;
    A.err = err;
    if (A.opts->num_programs < 0 || A.opts->program_id < 0 ||
        (A.opts->num_programs && A.opts->program_id >= A.opts->num_programs))
        return trn_err_set(err, TRN_E_INVALID, "program id %d is outside a grid of %d",
                           A.opts->program_id, A.opts->num_programs);
    if (A.opts->core_version && A.opts->core_version < 2)
        return trn_err_set(err, TRN_E_INVALID, "core version v%d does not exist",
                           A.opts->core_version);
    trn_status st = isa_lex(text, A.path, &A.tk, &A.ntk, err);
    if (st != TRN_OK) return st;
    A.p = isa_program_new();
    A.b.p = A.p;
    A.override_used = calloc((size_t)A.opts->n_overrides + 1, 1);
    if (!A.p || !A.override_used) {
        st = trn_err_set(err, TRN_E_NOMEM, "out of memory");
        goto done;
    }
    st = structure(&A);
    if (st == TRN_OK) st = run(&A, 0, A.nstmt);
    if (st == TRN_OK) st = finish_header(&A, &A.tk[A.ntk - 1]);
    if (st == TRN_OK) {
        for (int i = 0; i < A.opts->n_overrides; i++) {
            if (A.override_used[i]) continue;
            char lst[300] = "";
            size_t o = 0;
            for (int k = 0; k < A.p->nparams && o < sizeof lst; k++)
                o += (size_t)snprintf(lst + o, sizeof lst - o, "%s%s", k ? " " : "",
                                      A.p->params[k].name);
            st = trn_err_set(err, TRN_E_INVALID, "--param %s: %s has no .param %s (it has: %s)",
                             A.opts->overrides[i].name, A.path, A.opts->overrides[i].name,
                             o ? lst : "none");
            break;
        }
    }
    if (st == TRN_OK) {
        if (!A.have_kernel) default_name(A.path, A.p->name);
        if (!A.have_source) {
            A.p->source_path = malloc(strlen(A.path) + 1);
            if (!A.p->source_path)
                st = trn_err_set(err, TRN_E_NOMEM, "out of memory");
            else
                strcpy(A.p->source_path, A.path);
        }
    }
done:
    free(A.tk);
    free(A.stmt);
    free(A.match);
    free(A.override_used);
    if (st != TRN_OK) {
        trn_program_destroy(A.p);
        return st;
    }
    *out = A.p;
    return TRN_OK;
}

trn_status trn_program_assemble_file(const char *path, const trn_asm_opts *opts, trn_program **out,
                                     trn_err *err) {
    void *data = NULL;
    size_t n = 0;
    *out = NULL;
    trn_status st = trn_file_read(path, &data, &n, err);
    if (st != TRN_OK) return st;
    if (strlen((const char *)data) != n) {
        free(data);
        return trn_err_set(err, TRN_E_PARSE, "%s: a NUL byte in the text (not a .tasm file?)",
                           path);
    }
    st = trn_program_assemble((const char *)data, path, opts, out, err);
    free(data);
    return st;
}

/* The graph IR: a tensor table and a list of ops in topological order. Adding an op checks
 * its inputs (count, rank, dimensions, dtype) against the op's rules and infers its outputs,
 * so a graph that was built is well-formed; the interpreter and the lowering never re-check.
 *
 * Deliberately left out: graph rewriting (fusion, dead-op removal) and serialization. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trnsim/graph.h"

static const char *const op_names[TRN_GOP_COUNT] = {
#define TRN_GOP_NAME_(n, s) #n,
    TRN_GRAPH_OPS(TRN_GOP_NAME_)
#undef TRN_GOP_NAME_
};

const char *trn_op_name(trn_op_kind k) {
    return (unsigned)k < TRN_GOP_COUNT ? op_names[k] : "?";
}

const char *trn_grole_name(trn_gtensor_role r) {
    static const char *const n[] = {"weight", "input", "activation", "kv_cache", "output", "const"};
    return (unsigned)r < sizeof n / sizeof n[0] ? n[r] : "?";
}

int64_t trn_gtensor_elems(const trn_gtensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++) n *= t->shape[i];
    return n;
}

trn_status trn_graph_init(const trn_model_config *cfg, const trn_step *step, trn_graph **out,
                          trn_err *err) {
    *out = NULL;
    trn_graph *g = calloc(1, sizeof *g);
    if (!g) return trn_err_set(err, TRN_E_NOMEM, "out of memory");
    g->cfg = cfg;
    g->step = *step;
    g->input = g->logits = -1;
    *out = g;
    return TRN_OK;
}

void trn_graph_destroy(trn_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->ntensors; i++) free((void *)g->tensors[i].const_data);
    free(g->tensors);
    free(g->ops);
    free(g);
}

int trn_graph_find(const trn_graph *g, const char *name) {
    for (int i = 0; i < g->ntensors; i++)
        if (strcmp(g->tensors[i].name, name) == 0) return i;
    return -1;
}

static void shape_str(int rank, const int64_t *shape, char *buf, size_t n) {
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < rank && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

int trn_graph_tensor(trn_graph *g, const char *name, trn_gtensor_role role, trn_dtype dt, int rank,
                     const int64_t *shape, trn_err *err) {
    if (strlen(name) >= TRN_GRAPH_NAME_MAX) {
        trn_err_set(err, TRN_E_INVALID, "graph: tensor name '%s' longer than %d bytes", name,
                    TRN_GRAPH_NAME_MAX - 1);
        return -1;
    }
    if (rank < 0 || rank > TRN_GRAPH_MAX_RANK) {
        trn_err_set(err, TRN_E_INVALID, "graph: tensor '%s': rank %d, expected 0..%d", name, rank,
                    TRN_GRAPH_MAX_RANK);
        return -1;
    }
    for (int i = 0; i < rank; i++)
        if (shape[i] < 1) {
            trn_err_set(err, TRN_E_INVALID,
                        "graph: tensor '%s': dimension %d is %lld, expected >= 1", name, i,
                        (long long)shape[i]);
            return -1;
        }
    if (trn_graph_find(g, name) >= 0) {
        trn_err_set(err, TRN_E_INVALID, "graph: tensor '%s' defined twice", name);
        return -1;
    }
    if (g->ntensors == g->cap_tensors) {
        int cap = g->cap_tensors ? 2 * g->cap_tensors : 64;
        trn_gtensor *t = realloc(g->tensors, (size_t)cap * sizeof *t);
        if (!t) {
            trn_err_set(err, TRN_E_NOMEM, "out of memory");
            return -1;
        }
        g->tensors = t;
        g->cap_tensors = cap;
    }
    trn_gtensor *t = &g->tensors[g->ntensors];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rank = rank;
    for (int i = 0; i < rank; i++) t->shape[i] = shape[i];
    t->dtype = dt;
    t->layout = TRN_LAYOUT_ROW_MAJOR;
    t->role = role;
    t->source = TRN_WSRC_TENSOR;
    t->producer = -1;
    return g->ntensors++;
}

/* ---- op checking ----------------------------------------------------------------------- */

typedef struct chk {
    trn_graph *g;
    const trn_gop *op;
    trn_err *err;
    int bad;
} chk;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
bad(chk *c, const char *fmt, ...) {
    if (c->bad) return;
    char msg[TRN_ERRMSG_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    trn_err_set(c->err, TRN_E_INVALID, "graph: op %s (%s): %s", trn_op_name(c->op->kind),
                c->op->label, msg);
    c->bad = 1;
}

/* Input i must exist (unless optional) and have `rank` dims equal to dims (-1: any). Returns
 * the tensor or NULL. */
static const trn_gtensor *in(chk *c, int i, int optional, trn_dtype dt, int rank, ...) {
    int idx = i < c->op->nin ? c->op->in[i] : -1;
    if (idx < 0) {
        if (!optional) bad(c, "input %d missing", i);
        return NULL;
    }
    if (idx >= c->g->ntensors) {
        bad(c, "input %d: no tensor %d", i, idx);
        return NULL;
    }
    const trn_gtensor *t = &c->g->tensors[idx];
    char got[96], want[96];
    int64_t d[TRN_GRAPH_MAX_RANK];
    va_list ap;
    va_start(ap, rank);
    for (int k = 0; k < rank; k++) d[k] = va_arg(ap, int64_t);
    va_end(ap);
    int ok = t->rank == rank && t->dtype == dt;
    for (int k = 0; ok && k < rank; k++) ok = d[k] < 0 || d[k] == t->shape[k];
    if (!ok) {
        shape_str(t->rank, t->shape, got, sizeof got);
        for (int k = 0; k < rank; k++)
            if (d[k] < 0) d[k] = k < t->rank ? t->shape[k] : 0;
        shape_str(rank, d, want, sizeof want);
        bad(c, "input %d '%s': %s %s, expected %s %s", i, t->name, trn_dtype_name(t->dtype), got,
            trn_dtype_name(dt), want);
        return NULL;
    }
    return t;
}

#define F32  TRN_DTYPE_F32
#define I32  TRN_DTYPE_INT32
#define A    ((int64_t)-1)
#define D(x) ((int64_t)(x))

int trn_graph_op(trn_graph *g, const trn_gop *op, const char *out0, const char *out1,
                 trn_err *err) {
    chk c = {g, op, err, 0};
    int64_t s0[TRN_GRAPH_MAX_RANK] = {0}, s1[TRN_GRAPH_MAX_RANK] = {0};
    int r0 = 2, r1 = 0;
    trn_dtype d0 = F32;
    const trn_gtensor *x = NULL, *w = NULL, *t = NULL;
    if (op->nin > TRN_GOP_MAX_IN) {
        bad(&c, "%d inputs, at most %d", op->nin, TRN_GOP_MAX_IN);
        return -1;
    }
    switch (op->kind) {
    case TRN_GOP_EMBED:
        if ((x = in(&c, 0, 0, I32, 1, A)) && (w = in(&c, 1, 0, F32, 2, A, A))) {
            s0[0] = x->shape[0];
            s0[1] = w->shape[1];
        }
        break;
    case TRN_GOP_POS_EMBED:
        if ((w = in(&c, 0, 0, F32, 2, A, A))) {
            if (op->pos0 < 0 || op->pos0 + g->step.tokens > w->shape[0])
                bad(&c, "positions %lld..%lld outside the table of %lld", (long long)op->pos0,
                    (long long)(op->pos0 + g->step.tokens - 1), (long long)w->shape[0]);
            s0[0] = g->step.tokens;
            s0[1] = w->shape[1];
        }
        break;
    case TRN_GOP_LINEAR:
        if ((x = in(&c, 0, 0, F32, 2, A, A))) {
            int64_t k = x->shape[1];
            int idx = op->nin > 1 ? op->in[1] : -1;
            int oi = idx >= 0 && idx < g->ntensors && g->tensors[idx].layout != TRN_LAYOUT_IN_OUT;
            w = oi ? in(&c, 1, 0, F32, 2, A, k) : in(&c, 1, 0, F32, 2, k, A);
            if (w) {
                int64_t n = oi ? w->shape[0] : w->shape[1];
                in(&c, 2, 1, F32, 1, n);
                s0[0] = x->shape[0];
                s0[1] = n;
            }
        }
        break;
    case TRN_GOP_ADD:
    case TRN_GOP_MUL:
    case TRN_GOP_SWIGLU:
        if ((x = in(&c, 0, 0, F32, 2, A, A)) && in(&c, 1, 0, F32, 2, x->shape[0], x->shape[1])) {
            s0[0] = x->shape[0];
            s0[1] = x->shape[1];
        }
        break;
    case TRN_GOP_RMSNORM:
    case TRN_GOP_LAYERNORM:
        if ((x = in(&c, 0, 0, F32, 2, A, A)) && in(&c, 1, 0, F32, 1, x->shape[1]) &&
            (op->kind == TRN_GOP_RMSNORM || in(&c, 2, 0, F32, 1, x->shape[1]))) {
            s0[0] = x->shape[0];
            s0[1] = x->shape[1];
            if (!(op->eps > 0)) bad(&c, "eps %g, expected > 0", op->eps);
        }
        break;
    case TRN_GOP_ROPE:
        if (op->heads < 1 || op->head_dim < 2 || op->head_dim % 2) {
            bad(&c, "heads %lld, head_dim %lld: expected >= 1 and an even head_dim",
                (long long)op->heads, (long long)op->head_dim);
            break;
        }
        if ((x = in(&c, 0, 0, F32, 2, A, op->heads * op->head_dim)) &&
            in(&c, 1, 0, F32, 1, op->head_dim / 2)) {
            s0[0] = x->shape[0];
            s0[1] = x->shape[1];
        }
        break;
    case TRN_GOP_ATTENTION: {
        int64_t h = op->heads, kv = op->kv_heads, d = op->head_dim;
        if (h < 1 || kv < 1 || d < 1 || h % kv) {
            bad(&c, "heads %lld, kv_heads %lld, head_dim %lld: expected kv_heads to divide heads",
                (long long)h, (long long)kv, (long long)d);
            break;
        }
        if ((x = in(&c, 0, 0, F32, 2, A, h * d)) && in(&c, 1, 0, F32, 2, x->shape[0], kv * d) &&
            in(&c, 2, 0, F32, 2, x->shape[0], kv * d) && (t = in(&c, 3, 0, F32, 2, A, kv * d)) &&
            in(&c, 4, 0, F32, 2, t->shape[0], kv * d)) {
            in(&c, 5, 1, F32, 1, h);
            if (op->pos0 < 0 || op->pos0 + x->shape[0] > t->shape[0])
                bad(&c, "positions %lld..%lld outside the KV cache of %lld", (long long)op->pos0,
                    (long long)(op->pos0 + x->shape[0] - 1), (long long)t->shape[0]);
            if (op->window < 0) bad(&c, "window %lld, expected >= 0", (long long)op->window);
            s0[0] = x->shape[0];
            s0[1] = h * d;
        }
        break;
    }
    case TRN_GOP_SOFTMAX:
    case TRN_GOP_GELU_TANH:
    case TRN_GOP_GELU:
    case TRN_GOP_SILU:
        if ((x = in(&c, 0, 0, F32, 2, A, A))) {
            s0[0] = x->shape[0];
            s0[1] = x->shape[1];
        }
        break;
    case TRN_GOP_SWIGLU_OAI:
        if ((x = in(&c, 0, 0, F32, 2, A, A))) {
            if (x->shape[1] % 2) bad(&c, "input width %lld is odd", (long long)x->shape[1]);
            s0[0] = x->shape[0];
            s0[1] = x->shape[1] / 2;
        }
        break;
    case TRN_GOP_SLICE_COLS:
        if ((x = in(&c, 0, 0, F32, 2, A, A))) {
            if (op->col0 < 0 || op->cols < 1 || op->col0 + op->cols > x->shape[1])
                bad(&c, "columns %lld..+%lld outside %lld", (long long)op->col0,
                    (long long)op->cols, (long long)x->shape[1]);
            s0[0] = x->shape[0];
            s0[1] = op->cols;
        }
        break;
    case TRN_GOP_LAST_ROW:
        if ((x = in(&c, 0, 0, F32, 2, A, A))) {
            s0[0] = 1;
            s0[1] = x->shape[1];
        }
        break;
    case TRN_GOP_MOE_ROUTER:
        if ((x = in(&c, 0, 0, F32, 2, A, A)) && (w = in(&c, 1, 0, F32, 2, A, x->shape[1]))) {
            in(&c, 2, 1, F32, 1, w->shape[0]);
            if (op->k < 1 || op->k > w->shape[0])
                bad(&c, "k %lld, expected 1..%lld experts", (long long)op->k,
                    (long long)w->shape[0]);
            s0[0] = s1[0] = x->shape[0];
            s0[1] = s1[1] = op->k;
            d0 = I32;
            r1 = 2;
        }
        break;
    case TRN_GOP_MOE_EXPERTS:
        if ((x = in(&c, 0, 0, F32, 2, A, A)) && in(&c, 1, 0, I32, 2, x->shape[0], op->k) &&
            in(&c, 2, 0, F32, 2, x->shape[0], op->k)) {
            int64_t hd = x->shape[1];
            if (op->expert == TRN_EXPERT_SWIGLU) {
                if ((w = in(&c, 3, 0, F32, 3, A, A, hd)))
                    (void)(in(&c, 4, 0, F32, 3, w->shape[0], w->shape[1], hd) &&
                           in(&c, 5, 0, F32, 3, w->shape[0], hd, w->shape[1]));
            } else if ((w = in(&c, 3, 0, F32, 3, A, hd, A))) {
                int64_t e = w->shape[0], i2 = w->shape[2];
                if (i2 % 2) bad(&c, "gate_up width %lld is odd", (long long)i2);
                (void)(in(&c, 4, 0, F32, 2, e, i2) && in(&c, 5, 0, F32, 3, e, i2 / 2, hd) &&
                       in(&c, 6, 0, F32, 2, e, hd));
            }
            if (w && (op->k < 1 || op->k > w->shape[0]))
                bad(&c, "k %lld, expected 1..%lld experts", (long long)op->k,
                    (long long)w->shape[0]);
            s0[0] = x->shape[0];
            s0[1] = hd;
        }
        break;
    default: bad(&c, "unknown op kind %d", (int)op->kind);
    }
    if (c.bad) return -1;
    int o0 = trn_graph_tensor(g, out0, TRN_GROLE_ACTIVATION, d0, r0, s0, err);
    if (o0 < 0) return -1;
    int o1 = -1;
    if (r1) {
        o1 = trn_graph_tensor(g, out1 ? out1 : "?", TRN_GROLE_ACTIVATION, F32, r1, s1, err);
        if (o1 < 0) return -1;
    }
    if (g->nops == g->cap_ops) {
        int cap = g->cap_ops ? 2 * g->cap_ops : 64;
        trn_gop *ops = realloc(g->ops, (size_t)cap * sizeof *ops);
        if (!ops) {
            trn_err_set(err, TRN_E_NOMEM, "out of memory");
            return -1;
        }
        g->ops = ops;
        g->cap_ops = cap;
    }
    trn_gop *o = &g->ops[g->nops];
    *o = *op;
    for (int i = op->nin; i < TRN_GOP_MAX_IN; i++) o->in[i] = -1;
    o->nout = r1 ? 2 : 1;
    o->out[0] = o0;
    o->out[1] = o1;
    g->tensors[o0].producer = g->nops;
    if (o1 >= 0) g->tensors[o1].producer = g->nops;
    g->nops++;
    return o0;
}

size_t trn_graph_dump(const trn_graph *g, char *buf, size_t n) {
    size_t k = 0;
    char sh[96];
#define PUT(...)                                                                   \
    do {                                                                           \
        int w_ = snprintf(k < n ? buf + k : NULL, k < n ? n - k : 0, __VA_ARGS__); \
        if (w_ > 0) k += (size_t)w_;                                               \
    } while (0)
    if (n) buf[0] = '\0';
    PUT("graph %s: %lld tokens at %lld, %d tensors, %d ops\n", g->cfg ? g->cfg->name : "?",
        (long long)g->step.tokens, (long long)g->step.pos0, g->ntensors, g->nops);
    for (int i = 0; i < g->nops; i++) {
        const trn_gop *o = &g->ops[i];
        const trn_gtensor *t = &g->tensors[o->out[0]];
        shape_str(t->rank, t->shape, sh, sizeof sh);
        PUT("%3d %-11s %-14s %s %s <-", i, trn_op_name(o->kind), o->label, t->name, sh);
        for (int j = 0; j < o->nin; j++)
            PUT(" %s", o->in[j] >= 0 ? g->tensors[o->in[j]].name : "-");
        PUT("\n");
    }
#undef PUT
    return k;
}

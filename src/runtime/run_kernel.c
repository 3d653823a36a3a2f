/* The model runner's kernel side: rk_op to trn_lower_op, the split of an op into per-core
 * pieces, the runtime's functional path (with resident images) and timing (one core, or the
 * pieces together on the chip), weight packing, the runtime wrappers of run.h. Left out: everything
 * about the graph (graph_run.c). */
#include <stdlib.h>
#include <string.h>

#include "run_impl.h"
#include "trnsim/lower.h"
#include "trnsim/runtime.h"

static int64_t cdiv(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

static trn_lower_op lower_of(const rk_op *k) {
    static const trn_lower_kind kinds[] = {
        TRN_LOWER_LINEAR,    TRN_LOWER_RMSNORM,    TRN_LOWER_LAYERNORM, TRN_LOWER_SOFTMAX,
        TRN_LOWER_ADD,       TRN_LOWER_MUL,        TRN_LOWER_SWIGLU,    TRN_LOWER_ROPE,
        TRN_LOWER_ATTENTION, TRN_LOWER_EMBED,      TRN_LOWER_ROUTER,    TRN_LOWER_GLU_OAI,
        TRN_LOWER_ACT,       TRN_LOWER_MOE_COMBINE};
    static const trn_act_func acts[] = {TRN_ACT_COPY, TRN_ACT_GELU, TRN_ACT_GELU_APPRX_TANH,
                                        TRN_ACT_SILU};
    trn_lower_op op = {0};
    op.kind = kinds[k->kind];
    /* the router reads the f32 logits of its LINEAR (routing not disturbed by a bf16 rounding) */
    op.dtype = k->kind == RK_ROUTER ? TRN_DTYPE_F32 : TRN_DTYPE_BF16;
    op.out_dtype = k->f32_out ? TRN_DTYPE_F32 : TRN_DTYPE_BF16;
    op.m = k->m, op.k = k->k, op.n = k->n;
    op.prec = (trn_precision)k->prec;
    op.bias = k->bias;
    op.act = acts[k->act];
    op.eps = k->eps;
    op.heads = k->heads, op.kv_heads = k->kv_heads, op.head_dim = k->head_dim;
    op.q_len = k->q_len, op.kv_len = k->kv_len;
    op.window = k->window, op.sinks = k->sinks, op.scale = k->scale;
    op.topk = k->topk, op.gating = k->gating, op.alpha = k->alpha, op.limit = k->limit;
    op.glu_oai = k->glu_oai;
    return op;
}

int rk_split(const rk_op *op, int cores, rk_piece *pc) {
    int64_t c = cores > 1 ? cores : 1, size, total;
    rk_axis ax = RK_AX_ROWS;
    if (op->kind == RK_LINEAR) {
        if (op->n >= TRN_LOWER_PANEL * c) { /* whole 512-column panels */
            ax = RK_AX_COLS, total = op->n;
            size = cdiv(cdiv(op->n, TRN_LOWER_PANEL), c) * TRN_LOWER_PANEL;
        } else if (op->m >= 128 * c) { /* whole 128-row tiles */
            total = op->m, size = cdiv(cdiv(op->m, 128), c) * 128;
        } else if (op->glu_oai) { /* even pieces: a gate, up pair stays on one core */
            ax = RK_AX_COLS, total = op->n, size = 2 * cdiv(op->n / 2, c);
        } else {
            ax = RK_AX_COLS, total = op->n, size = cdiv(op->n, c);
        }
    } else if (op->kind == RK_ATTENTION) {
        ax = RK_AX_HEADS, total = op->kv_heads, size = cdiv(op->kv_heads, c);
    } else { /* row ops, and EMBED by tokens (each core gathers its rows from the whole table) */
        total = op->m, size = cdiv(op->m, c);
    }
    if (size < 1) size = 1;
    int n = 0;
    for (int64_t lo = 0; lo < total || n == 0; lo += size) {
        rk_piece *p = &pc[n++];
        p->op = *op, p->axis = ax, p->lo = lo;
        p->hi = lo + size < total ? lo + size : total;
        int64_t w = p->hi - p->lo;
        if (ax == RK_AX_COLS)
            p->op.n = w;
        else if (ax == RK_AX_HEADS)
            p->op.kv_heads = w, p->op.heads = w * (op->heads / op->kv_heads);
        else
            p->op.m = w;
        if (total <= 0) break;
    }
    return n;
}

static void prof_of(const trn_op_profile *pr, rk_prof *p) {
    p->time_ns = pr->time_ns;
    p->flops = pr->flops;
    p->pe_mfu = pr->pe_mfu;
    p->bound = (int)pr->bound;
    p->hbm_bytes = pr->hbm_read_bytes + pr->hbm_write_bytes;
}

trn_status rk_time(trn_runtime *rt, const rk_piece *pc, int n, rk_prof *p, trn_err *err) {
    trn_lower_op ops[64];
    if (n < 1 || n > 64) return trn_err_set(err, TRN_E_RANGE, "run: %d pieces", n);
    for (int i = 0; i < n; i++) ops[i] = lower_of(&pc[i].op);
    trn_op_profile pr;
    trn_status s = trn_runtime_time_cores(rt, ops, n, &pr, err);
    if (s == TRN_OK) prof_of(&pr, p);
    return s;
}

struct rk_res {
    trn_resident *r;
};

trn_status rk_res_create(trn_runtime *rt, const rk_op *op, const rk_bind *w, int nw, rk_res **out,
                         trn_err *err) {
    trn_lower_op lo = lower_of(op);
    trn_binding b[4];
    *out = NULL;
    if (nw > 4) return trn_err_set(err, TRN_E_INVALID, "run: too many resident bindings");
    for (int i = 0; i < nw; i++) b[i] = (trn_binding){w[i].name, w[i].data, w[i].n};
    rk_res *r = calloc(1, sizeof *r);
    if (!r) return trn_err_set(err, TRN_E_NOMEM, "run: out of memory");
    trn_status s = trn_runtime_resident_create(rt, &lo, b, nw, &r->r, err);
    if (s != TRN_OK) {
        free(r);
        return s;
    }
    *out = r;
    return TRN_OK;
}

void rk_res_destroy(rk_res *r) {
    if (!r) return;
    trn_resident_destroy(r->r);
    free(r);
}

trn_status rk_run(trn_runtime *rt, const rk_op *k, rk_res *res, const rk_bind *in, int nin,
                  rk_bind *out, int nout, trn_err *err) {
    trn_lower_op op = lower_of(k);
    trn_binding bi[8], bo[2];
    if (nin > 8 || nout > 2) return trn_err_set(err, TRN_E_INVALID, "run: too many bindings");
    for (int i = 0; i < nin; i++) bi[i] = (trn_binding){in[i].name, in[i].data, in[i].n};
    for (int i = 0; i < nout; i++) bo[i] = (trn_binding){out[i].name, out[i].data, out[i].n};
    return res ? trn_runtime_run_resident(rt, res->r, bi, nin, bo, nout, NULL, err)
               : trn_runtime_run(rt, &op, bi, nin, bo, nout, NULL, err);
}

static int mx_pre(int prec) {
    return prec == TRN_PREC_MXFP4 || prec == TRN_PREC_MXFP8Q;
}

size_t rk_packed_elems(int prec, int64_t k, int64_t n, size_t *nscales) {
    int64_t cols = trn_lower_panel_cols(n), kp = cdiv(k, 512);
    if (mx_pre(prec)) { /* codes kp 128 n_pad, scales 16 kp n_pad (lower.h) */
        *nscales = (size_t)(16 * kp * cols);
        return (size_t)(kp * 128 * cols);
    }
    *nscales = 0;
    return (size_t)(k * cols);
}

trn_status rk_pack(int prec, const double *kn, int64_t k, int64_t n, double *out, double *scales,
                   trn_err *err) {
    if (mx_pre(prec))
        return trn_lower_pack_mx_weights(kn, k, n, trn_lower_mx_weight_dtype((trn_precision)prec),
                                         TRN_SCALE_OCP, out, scales, err);
    if (prec == TRN_PREC_MXFP8)
        trn_lower_pack_mx_panels(kn, k, n, out);
    else
        trn_lower_pack_panels(kn, k, n, out);
    return TRN_OK;
}

int rk_linear_prec(int prec, int64_t k) {
    if (prec == TRN_PREC_MXFP8 && k % 512) return TRN_PREC_BF16;
    if (mx_pre(prec) && k % 4) return TRN_PREC_BF16;
    return prec;
}

trn_status rk_check_prec(trn_runtime *rt, int prec, trn_err *err) {
    if (prec < 0 || prec >= TRN_PREC_COUNT)
        return trn_err_set(err, TRN_E_INVALID, "run: precision %d is unknown", prec);
    trn_lower_op probe = {0};
    probe.kind = TRN_LOWER_LINEAR, probe.m = 1, probe.k = 512, probe.n = 512;
    probe.dtype = probe.out_dtype = TRN_DTYPE_BF16, probe.prec = (trn_precision)prec,
    probe.act = TRN_ACT_COPY;
    trn_err e2 = {0};
    if (trn_lower_check(&probe, trn_runtime_target(rt), &e2) != TRN_OK)
        return trn_err_set(err, TRN_E_UNSUPPORTED,
                           "precision %s is not available on %s (NeuronCore-%s): %s",
                           trn_precision_name((trn_precision)prec), trn_runtime_chip(rt)->name,
                           trn_runtime_target(rt)->name, e2.msg);
    return TRN_OK;
}

int rk_cores(const trn_runtime *rt) {
    int c = (int)trn_runtime_chip(rt)->cores.value;
    return c >= 1 ? c : 1;
}

const char *rk_chip_name(const trn_runtime *rt) {
    return trn_runtime_chip(rt)->name;
}

/* ---- run.h wrappers ----------------------------------------------------------------------- */

trn_status trn_run_runtime_create(const trn_hw *hw, const char *chip, trn_runtime **out,
                                  trn_err *err) {
    return trn_runtime_create(hw, chip, out, err);
}

void trn_run_runtime_destroy(trn_runtime *rt) {
    trn_runtime_destroy(rt);
}

int trn_run_runtime_programs(const trn_runtime *rt) {
    int n = 0;
    trn_runtime_cache_stats(rt, &n, NULL, NULL);
    return n;
}

int trn_run_runtime_cores(const trn_runtime *rt) {
    return rk_cores(rt);
}

int trn_run_precision_find(const char *name) {
    return trn_precision_find(name);
}

const char *trn_run_precision_name(int prec) {
    return trn_precision_name((trn_precision)prec);
}

const char *trn_run_engine_short(int e) {
    return trn_engine_short((trn_engine)e);
}

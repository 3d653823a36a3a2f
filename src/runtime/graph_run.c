/* The model runner (include/trnsim/run.h): a graph step executed op by op, each op mapped to
 * lowered kernels run (functional) or timed (timing-only) through the runtime, host FP32 for
 * the ops with no lowering, the KV cache and activations in host buffers, the profile per op.
 * Each chip op is cut into per-core pieces (rk_split) whose blocks of the host tensors are
 * gathered, run, and scattered back; a LINEAR's weight columns stay resident in the HBM image of
 * each piece's program. Left out: batches, activations resident in HBM between ops. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "run_impl.h"
#include "trnsim/graph.h"

/* A resident HBM image: a LINEAR weight's columns (packed into the kernel's w layout, with
 * its bias), or an EMBED table, written once into the image of one per-core program and kept. */
typedef struct resident {
    char *key; /* weight, expert, columns, the program's shape */
    rk_res *res;
} resident;

typedef struct kvbuf {
    char name[TRN_GRAPH_NAME_MAX];
    float *data;
    int64_t width;
} kvbuf;

struct trn_run {
    const trn_model *m;
    const trn_model_config *cfg;
    const trn_weights *w;
    trn_runtime *rt;
    trn_run_opts o;
    int64_t max_ctx, pos;
    resident *rs;
    int nrs, caprs;
    kvbuf *kv;
    int nkv, capkv;
};

const char *trn_run_where_name(trn_run_where w) {
    static const char *const n[] = {"chip", "fused", "approx", "host"};
    return (unsigned)w < 4 ? n[w] : "?";
}

void trn_run_prof_fini(trn_run_prof *p) {
    if (!p) return;
    free(p->ops);
    memset(p, 0, sizeof *p);
}

double trn_run_prof_mfu(const trn_run_prof *p) {
    double t = 0, m = 0;
    for (int i = 0; i < p->nops; i++) t += p->ops[i].time_ns, m += p->ops[i].mfu_ns;
    return t > 0 ? m / t : 0;
}

static double wall_s(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int64_t cdiv(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

trn_status trn_run_create(const trn_model *m, const trn_weights *w, trn_runtime *rt,
                          const trn_run_opts *o, trn_run **out, trn_err *err) {
    *out = NULL;
    trn_run_opts opts = {0};
    if (o) opts = *o;
    if (!m || !rt) return trn_err_set(err, TRN_E_INVALID, "run: no model or no runtime");
    if (!opts.timing_only && !w)
        return trn_err_set(err, TRN_E_INVALID,
                           "run: a functional run needs weights (or the timing-only mode)");
    int cores = rk_cores(rt);
    if (opts.cores < 0 || opts.cores > cores)
        return trn_err_set(err, TRN_E_RANGE, "run: cores = %d (%s has %d NeuronCores)", opts.cores,
                           rk_chip_name(rt), cores);
    trn_status ps = rk_check_prec(rt, opts.prec, err);
    if (ps != TRN_OK) return ps;
    const trn_model_config *cfg = trn_model_config_of(m);
    if (opts.max_ctx < 0 || (cfg->max_positions > 0 && opts.max_ctx > cfg->max_positions))
        return trn_err_set(err, TRN_E_RANGE, "run: max_ctx = %lld (the model allows %lld)",
                           (long long)opts.max_ctx, (long long)cfg->max_positions);
    trn_run *r = calloc(1, sizeof *r);
    if (!r) return trn_err_set(err, TRN_E_NOMEM, "run: out of memory");
    r->m = m, r->cfg = cfg, r->w = w, r->rt = rt, r->o = opts;
    r->max_ctx = opts.max_ctx;
    *out = r;
    return TRN_OK;
}

void trn_run_destroy(trn_run *r) {
    if (!r) return;
    for (int i = 0; i < r->nrs; i++) free(r->rs[i].key), rk_res_destroy(r->rs[i].res);
    for (int i = 0; i < r->nkv; i++) free(r->kv[i].data);
    free(r->rs);
    free(r->kv);
    free(r);
}

void trn_run_reset(trn_run *r) {
    r->pos = 0;
    for (int i = 0; i < r->nkv; i++)
        memset(r->kv[i].data, 0, (size_t)(r->max_ctx * r->kv[i].width) * sizeof(float));
}

int64_t trn_run_pos(const trn_run *r) {
    return r->pos;
}

/* ---- the step's state ----------------------------------------------------------------------- */

typedef struct stepctx {
    trn_run *r;
    const trn_graph *g;
    void **buf; /* per tensor; NULL in timing-only mode */
    char *own;  /* 1: buf[i] malloc'd here */
    int *where; /* per op */
    int *fuse;  /* per op: LINEAR fused with op i + 1's activation (the act) */
    trn_err *err;
} stepctx;

/* A host FP32 matrix [rows, cols] bound to a kernel tensor, and how a split cuts it: rows
 * (by_rows, on the RK_AX_ROWS axis) or `unit` columns per unit of the piece's range (on the
 * RK_AX_COLS / RK_AX_HEADS axes; 0: never cut that way). */
typedef struct mat {
    const char *name;
    float *data;
    int64_t rows, cols;
    int by_rows;
    int64_t unit;
} mat;

/* The block of m a piece takes: rows r0.. r0 + nr - 1, columns c0 .. c0 + nc - 1. */
static void block(const mat *m, const rk_piece *pc, int64_t *r0, int64_t *nr, int64_t *c0,
                  int64_t *nc) {
    *r0 = 0, *nr = m->rows, *c0 = 0, *nc = m->cols;
    if (pc->axis == RK_AX_ROWS && m->by_rows) *r0 = pc->lo, *nr = pc->hi - pc->lo;
    if (pc->axis != RK_AX_ROWS && m->unit)
        *c0 = pc->lo * m->unit, *nc = (pc->hi - pc->lo) * m->unit;
}

/* The LINEAR weight of a launch: W (FP32, OUT_IN [n, k] or IN_OUT [k, n]) and its bias. */
typedef struct linw {
    const char *name;
    int e;
    const float *W, *bias;
    trn_layout lay;
    int64_t k, n;
} linw;

/* The resident image of piece pc of a LINEAR with weight lw (or of an EMBED with its table as
 * lw, [k rows, n columns] IN_OUT): found, or made (its columns packed, written once). */
static trn_status resident_of(stepctx *sc, const linw *lw, const rk_piece *pc, rk_res **out) {
    trn_run *r = sc->r;
    const rk_op *op = &pc->op;
    int64_t j0 = pc->axis == RK_AX_COLS ? pc->lo : 0, j1 = pc->axis == RK_AX_COLS ? pc->hi : lw->n;
    char key[TRN_GRAPH_NAME_MAX + 160];
    snprintf(key, sizeof key, "%s#%d#%lld:%lld|m=%lld k=%lld n=%lld p=%d a=%d b=%d f=%d g=%d",
             lw->name, lw->e, (long long)j0, (long long)j1, (long long)op->m, (long long)op->k,
             (long long)op->n, op->prec, (int)op->act, op->bias, op->f32_out, op->glu_oai);
    for (int i = 0; i < r->nrs; i++)
        if (!strcmp(r->rs[i].key, key)) {
            *out = r->rs[i].res;
            return TRN_OK;
        }
    if (r->nrs == r->caprs) {
        int cap = r->caprs ? 2 * r->caprs : 32;
        resident *nr = realloc(r->rs, (size_t)cap * sizeof *nr);
        if (!nr) return trn_err_set(sc->err, TRN_E_NOMEM, "run: out of memory");
        r->rs = nr, r->caprs = cap;
    }
    int64_t k = lw->k, n = lw->n, w = j1 - j0;
    int emb = op->kind == RK_EMBED; /* an EMBED table: bound as it is, "table" [k, n] */
    size_t nws = 0, nw = emb ? 1 : rk_packed_elems(op->prec, k, w, &nws);
    double *kn = malloc((size_t)(k * w) * sizeof *kn), *pw = calloc(nw, sizeof *pw);
    double *ws = nws ? calloc(nws, sizeof *ws) : NULL;
    double *b = op->bias ? malloc((size_t)w * sizeof *b) : NULL;
    char *kc = strdup(key);
    trn_status s = TRN_OK;
    if (!kn || !pw || (nws && !ws) || (op->bias && !b) || !kc) {
        s = trn_err_set(sc->err, TRN_E_NOMEM, "run: out of memory packing %s", lw->name);
    } else {
        for (int64_t i = 0; i < k; i++)
            for (int64_t j = 0; j < w; j++)
                kn[i * w + j] =
                    lw->lay == TRN_LAYOUT_IN_OUT ? lw->W[i * n + j0 + j] : lw->W[(j0 + j) * k + i];
        for (int64_t j = 0; b && j < w; j++) b[j] = lw->bias[j0 + j];
        if (!emb) s = rk_pack(op->prec, kn, k, w, pw, ws, sc->err);
        rk_bind wb[3] = {{"w", pw, nw}};
        if (emb) wb[0] = (rk_bind){"table", kn, (size_t)(k * w)};
        int nb = 1;
        if (nws) wb[nb++] = (rk_bind){"ws", ws, nws};
        if (op->bias) wb[nb++] = (rk_bind){"b", b, (size_t)w};
        rk_res *res = NULL;
        if (s == TRN_OK) s = rk_res_create(r->rt, op, wb, nb, &res, sc->err);
        if (s == TRN_OK) {
            r->rs[r->nrs++] = (resident){kc, res};
            kc = NULL;
            *out = res;
        }
    }
    free(kn), free(pw), free(ws), free(b), free(kc);
    return s;
}

/* op cut into *np per-core pieces pcs[] (room for 64) over the run's cores, and timed together
 * on the chip into *pr. */
static trn_status split_time(stepctx *sc, const rk_op *op, rk_piece *pcs, int *np, rk_prof *pr) {
    int cores = sc->r->o.cores > 1 ? sc->r->o.cores : 1;
    *np = rk_split(op, cores > 64 ? 64 : cores, pcs);
    return rk_time(sc->r->rt, pcs, *np, pr, sc->err);
}

/* One op: split over the run's cores (rk_split), timed (all pieces together on the chip) and,
 * in functional mode (in != NULL), each piece run on its block of the inputs, its output
 * written into its block of out[0]; a LINEAR's weight (lw) is the pieces' resident images. */
static trn_status launch(stepctx *sc, const rk_op *op, const mat *in, int nin, const mat *out,
                         const linw *lw, trn_run_opprof *p) {
    trn_run *r = sc->r;
    rk_piece pcs[64];
    rk_prof pr;
    int np = 0;
    trn_status s = split_time(sc, op, pcs, &np, &pr);
    for (int q = 0; q < np && s == TRN_OK && in; q++) {
        const rk_piece *pc = &pcs[q];
        rk_bind b[8], ob[1];
        int nb = 0;
        int64_t r0, nr, c0, nc;
        for (int j = 0; j < nin && s == TRN_OK; j++) {
            block(&in[j], pc, &r0, &nr, &c0, &nc);
            double *d = malloc((size_t)(nr * nc > 0 ? nr * nc : 1) * sizeof *d);
            if (!d) {
                s = trn_err_set(sc->err, TRN_E_NOMEM, "run: out of memory");
                break;
            }
            for (int64_t i = 0; i < nr; i++)
                for (int64_t c = 0; c < nc; c++)
                    d[i * nc + c] = in[j].data[(r0 + i) * in[j].cols + c0 + c];
            b[nb++] = (rk_bind){in[j].name, d, (size_t)(nr * nc)};
        }
        block(out, pc, &r0, &nr, &c0, &nc);
        if (pc->op.glu_oai && pc->axis == RK_AX_COLS) /* y of W's columns lo .. hi - 1, even */
            c0 = pc->lo / 2, nc = (pc->hi - pc->lo) / 2;
        double *y = s == TRN_OK ? malloc((size_t)(nr * nc > 0 ? nr * nc : 1) * sizeof *y) : NULL;
        if (s == TRN_OK && !y) s = trn_err_set(sc->err, TRN_E_NOMEM, "run: out of memory");
        rk_res *res = NULL;
        if (s == TRN_OK && lw) s = resident_of(sc, lw, pc, &res);
        if (s == TRN_OK) {
            ob[0] = (rk_bind){out->name, y, (size_t)(nr * nc)};
            s = rk_run(r->rt, &pc->op, res, b, nb, ob, 1, sc->err);
        }
        if (s == TRN_OK)
            for (int64_t i = 0; i < nr; i++)
                for (int64_t c = 0; c < nc; c++)
                    out->data[(r0 + i) * out->cols + c0 + c] = (float)y[i * nc + c];
        for (int j = 0; j < nb; j++) free(b[j].data);
        free(y);
    }
    if (s != TRN_OK) return trn_err_prefix(sc->err, "%s: ", p->name);
    p->launches++;
    p->time_ns += pr.time_ns;
    p->flops += pr.flops;
    p->mfu_ns += pr.pe_mfu * pr.time_ns;
    p->hbm_bytes += pr.hbm_bytes;
    if (pr.time_ns > p->bound_ns) p->bound_ns = pr.time_ns, p->bound = pr.bound;
    if (op->kind == RK_LINEAR) p->prec = op->prec;
    return TRN_OK;
}

/* y[m, n] = act(x[m, k] W (+ b)) on the chip; x, y NULL in timing-only mode. */
static trn_status linear(stepctx *sc, trn_run_opprof *p, const float *x, int64_t m, int64_t k,
                         int64_t n, const char *wname, int e, const float *W, trn_layout lay,
                         const float *bias, int has_bias, rk_act act, int f32_out, float *y) {
    rk_op op = {0};
    op.kind = RK_LINEAR, op.m = m, op.k = k, op.n = n;
    op.f32_out = f32_out, op.bias = has_bias, op.act = act;
    op.prec = rk_linear_prec(sc->r->o.prec, k);
    if (!sc->buf) return launch(sc, &op, NULL, 0, NULL, NULL, p);
    linw lw = {wname, e, W, bias, lay, k, n};
    mat in[1] = {{"x", (float *)x, m, k, 1, 0}};
    mat out = {"y", y, m, n, 1, 1};
    return launch(sc, &op, in, 1, &out, &lw, p);
}

/* y[m, n / 2] = GLU_OAI(x[m, k] W + b) on the chip, the clamped GLU fused into the LINEAR's
 * eviction (W IN_OUT [k, n], gate and up interleaved by column); x, y NULL in timing-only mode. */
static trn_status linear_glu(stepctx *sc, trn_run_opprof *p, const float *x, int64_t m, int64_t k,
                             int64_t n, const char *wname, int e, const float *W, const float *bias,
                             double alpha, double limit, float *y) {
    rk_op op = {0};
    op.kind = RK_LINEAR, op.m = m, op.k = k, op.n = n, op.bias = 1, op.act = RK_ACT_COPY;
    op.glu_oai = 1, op.alpha = alpha, op.limit = limit;
    op.prec = rk_linear_prec(sc->r->o.prec, k);
    if (!sc->buf) return launch(sc, &op, NULL, 0, NULL, NULL, p);
    linw lw = {wname, e, W, bias, TRN_LAYOUT_IN_OUT, k, n};
    mat in[1] = {{"x", (float *)x, m, k, 1, 0}};
    mat out = {"y", y, m, n / 2, 1, 1};
    return launch(sc, &op, in, 1, &out, &lw, p);
}

/* A row op with up to three inputs named n0.. (data NULL in timing-only mode): each [m, *],
 * cut by rows, except a norm's g and b ([1, n], whole on every core). */
static trn_status rowop(stepctx *sc, trn_run_opprof *p, const rk_op *op, int nin,
                        const char *const *names, const float *const *data, const size_t *cnt,
                        float *y, size_t ny) {
    if (!sc->buf) return launch(sc, op, NULL, 0, NULL, NULL, p);
    mat in[4];
    for (int j = 0; j < nin; j++) {
        int norm = op->kind == RK_RMSNORM || op->kind == RK_LAYERNORM;
        int64_t rows = norm && j > 0 ? 1 : op->m;
        in[j] = (mat){names[j], (float *)data[j], rows, (int64_t)cnt[j] / rows, rows > 1, 0};
    }
    mat out = {"y", y, op->m, (int64_t)ny / op->m, 1, 0};
    return launch(sc, op, in, nin, &out, NULL, p);
}

static rk_op row_op(rk_kind kind, int64_t m, int64_t n) {
    rk_op op = {0};
    op.kind = kind, op.m = m, op.n = n;
    return op;
}

static const trn_gtensor *T_(const stepctx *sc, int i) {
    return &sc->g->tensors[i];
}
static float *F_(const stepctx *sc, int i) {
    return sc->buf && i >= 0 ? (float *)sc->buf[i] : NULL;
}

/* Can ATTENTION op o run in the lowered kernel (sinks, sliding window and score scale
 * included)? 1: chip, 0: no (host). *L gets the keys the kernel reads: the context, or under a
 * window only its last T - 1 + window keys (all that the step's queries see). */
static int attn_route(const trn_gop *o, int64_t T, int64_t *L) {
    int64_t ctx = o->pos0 + T, D = o->head_dim;
    *L = o->window > 0 && T - 1 + o->window < ctx ? T - 1 + o->window : ctx;
    return D >= 1 && D <= 128 && (T > 1 || o->heads / o->kv_heads <= 128);
}

/* EMBED (ids: the step's tokens) and POS_EMBED (ids pos0 .. pos0 + T - 1, made here) on the
 * chip: the lowered row gather, split by tokens, the table resident in each piece's HBM image
 * (written once, rounded to bf16 by the core's write like every weight: exact for a bf16
 * checkpoint). The ids travel as floats, exact below 2^24. */
static trn_status embed_op(stepctx *sc, int i, trn_run_opprof *p) {
    const trn_gop *o = &sc->g->ops[i];
    int pos = o->kind == TRN_GOP_POS_EMBED, ti = o->in[pos ? 0 : 1];
    const trn_gtensor *tab = T_(sc, ti), *y = T_(sc, o->out[0]);
    int64_t V = tab->shape[0], H = tab->shape[tab->rank - 1], T = trn_gtensor_elems(y) / H;
    rk_op op = row_op(RK_EMBED, T, H);
    op.k = V;
    if (!sc->buf) return launch(sc, &op, NULL, 0, NULL, NULL, p);
    if (V > (1 << 24) || o->pos0 + T > (1 << 24))
        return trn_err_set(sc->err, TRN_E_UNSUPPORTED,
                           "run: %s: %lld table rows (the runner passes ids as floats, exact "
                           "below 2^24)",
                           tab->name, (long long)V);
    float *ids = malloc((size_t)T * sizeof *ids);
    if (!ids) return trn_err_set(sc->err, TRN_E_NOMEM, "run: out of memory");
    const int32_t *tok = pos ? NULL : (const int32_t *)sc->buf[o->in[0]];
    for (int64_t t = 0; t < T; t++) ids[t] = (float)(pos ? o->pos0 + t : (int64_t)tok[t]);
    linw lw = {tab->name, -1, F_(sc, ti), NULL, TRN_LAYOUT_IN_OUT, V, H};
    mat in[1] = {{"ids", ids, T, 1, 1, 0}};
    mat out = {"y", F_(sc, o->out[0]), T, H, 1, 0};
    trn_status s = launch(sc, &op, in, 1, &out, &lw, p);
    free(ids);
    return s;
}

static trn_status moe_experts(stepctx *sc, int i, trn_run_opprof *p);
static trn_status moe_router(stepctx *sc, int i, trn_run_opprof *p);

static trn_status exec_op(stepctx *sc, int i, trn_run_opprof *p) {
    const trn_graph *g = sc->g;
    const trn_gop *o = &g->ops[i];
    int64_t Tk = g->step.tokens;
    if (sc->where[i] == TRN_RUN_FUSED) return TRN_OK;
    if (sc->where[i] == TRN_RUN_HOST) {
        if (!sc->buf) return TRN_OK;
        return trn_ref_op(g, i, sc->buf, sc->err);
    }
    const trn_gtensor *y = T_(sc, o->out[0]);
    int64_t m = y->rank >= 2 ? y->shape[0] : 1, n = y->shape[y->rank - 1];
    size_t ny = (size_t)trn_gtensor_elems(y);
    float *yb = F_(sc, o->out[0]);
    switch (o->kind) {
    case TRN_GOP_LINEAR: {
        const trn_gtensor *x = T_(sc, o->in[0]), *w = T_(sc, o->in[1]);
        int64_t k = x->shape[x->rank - 1];
        int hb = o->nin > 2 && o->in[2] >= 0;
        rk_act act = RK_ACT_COPY;
        float *dst = yb;
        if (sc->fuse[i]) {
            trn_op_kind ak = g->ops[i + 1].kind;
            act = ak == TRN_GOP_GELU        ? RK_ACT_GELU
                  : ak == TRN_GOP_GELU_TANH ? RK_ACT_GELU_TANH
                                            : RK_ACT_SILU;
            dst = F_(sc, g->ops[i + 1].out[0]);
        }
        int odt = o->out[0] == g->logits;
        return linear(sc, p, F_(sc, o->in[0]), m, k, n, w->name, -1, F_(sc, o->in[1]), w->layout,
                      hb ? F_(sc, o->in[2]) : NULL, hb, act, odt, dst);
    }
    case TRN_GOP_RMSNORM:
    case TRN_GOP_LAYERNORM: {
        int ln = o->kind == TRN_GOP_LAYERNORM;
        rk_op op = row_op(ln ? RK_LAYERNORM : RK_RMSNORM, m, n);
        op.eps = o->eps;
        const char *nm[3] = {"x", "g", "b"};
        const float *d[3] = {F_(sc, o->in[0]), F_(sc, o->in[1]), ln ? F_(sc, o->in[2]) : NULL};
        size_t c[3] = {ny, (size_t)n, (size_t)n};
        return rowop(sc, p, &op, ln ? 3 : 2, nm, d, c, yb, ny);
    }
    case TRN_GOP_SOFTMAX: {
        rk_op op = row_op(RK_SOFTMAX, m, n);
        const char *nm[1] = {"x"};
        const float *d[1] = {F_(sc, o->in[0])};
        size_t c[1] = {ny};
        return rowop(sc, p, &op, 1, nm, d, c, yb, ny);
    }
    case TRN_GOP_ADD:
    case TRN_GOP_MUL:
    case TRN_GOP_SWIGLU: {
        rk_kind lk = o->kind == TRN_GOP_ADD ? RK_ADD : o->kind == TRN_GOP_MUL ? RK_MUL : RK_SWIGLU;
        rk_op op = row_op(lk, (int64_t)(ny / (size_t)n), n);
        int sw = lk == RK_SWIGLU;
        const char *nm[2] = {sw ? "g" : "a", sw ? "u" : "b"};
        const float *d[2] = {F_(sc, o->in[0]), F_(sc, o->in[1])};
        size_t c[2] = {ny, ny};
        return rowop(sc, p, &op, 2, nm, d, c, yb, ny);
    }
    case TRN_GOP_ROPE: {
        rk_op op = row_op(RK_ROPE, Tk, n);
        op.heads = o->heads, op.head_dim = o->head_dim;
        int64_t half = o->head_dim / 2;
        size_t nc = (size_t)(Tk * half);
        float *cs = NULL, *sn = NULL;
        if (sc->buf) {
            cs = malloc(nc * sizeof *cs), sn = malloc(nc * sizeof *sn);
            if (!cs || !sn) {
                free(cs), free(sn);
                return trn_err_set(sc->err, TRN_E_NOMEM, "run: out of memory");
            }
            const float *inv = T_(sc, o->in[1])->const_data;
            for (int64_t t = 0; t < Tk; t++) /* as HF: FP32 angle, cos/sin scaled */
                for (int64_t j = 0; j < half; j++) {
                    float ang = (float)(o->pos0 + t) * inv[j];
                    cs[t * half + j] = (float)(cos((double)ang) * o->scale);
                    sn[t * half + j] = (float)(sin((double)ang) * o->scale);
                }
        }
        const char *nm[3] = {"x", "cos", "sin"};
        const float *d[3] = {F_(sc, o->in[0]), cs, sn};
        size_t c[3] = {ny, nc, nc};
        trn_status s = rowop(sc, p, &op, 3, nm, d, c, yb, ny);
        free(cs), free(sn);
        return s;
    }
    case TRN_GOP_ATTENTION: {
        int64_t L = 0, KW = o->kv_heads * o->head_dim;
        (void)attn_route(o, Tk, &L); /* 1 here: route() sent the others to the host */
        rk_op op = row_op(RK_ATTENTION, Tk, 0);
        op.heads = o->heads, op.kv_heads = o->kv_heads, op.head_dim = o->head_dim;
        op.q_len = Tk, op.kv_len = L < Tk ? Tk : L;
        /* the window when it hides keys of the ones read, the sinks (GPT-OSS), the scale when
         * not 1 / sqrt(d) (the kernel's default, kept exact) */
        int has_sinks = o->nin > 5 && o->in[5] >= 0;
        op.window = o->window > 0 && o->window < op.kv_len ? o->window : 0;
        op.sinks = has_sinks;
        op.scale = fabs(o->scale * sqrt((double)o->head_dim) - 1.0) < 1e-9 ? 0 : o->scale;
        if (!sc->buf) return launch(sc, &op, NULL, 0, NULL, NULL, p);
        float *kc = F_(sc, o->in[3]), *vc = F_(sc, o->in[4]);
        memcpy(kc + o->pos0 * KW, F_(sc, o->in[1]), (size_t)(Tk * KW) * sizeof(float));
        memcpy(vc + o->pos0 * KW, F_(sc, o->in[2]), (size_t)(Tk * KW) * sizeof(float));
        /* split by kv heads: each core its heads' columns of q, k, v, o and the sinks; k and v
         * the last L rows of the cache (under a window the keys before are never seen) */
        int64_t D = o->head_dim, QW = o->heads * D, G = o->heads / o->kv_heads;
        int64_t k0 = (o->pos0 + Tk - L) * KW;
        mat in[4] = {{"q", F_(sc, o->in[0]), Tk, QW, 0, G * D},
                     {"k", kc + k0, L, KW, 0, D},
                     {"v", vc + k0, L, KW, 0, D},
                     {"sinks", has_sinks ? F_(sc, o->in[5]) : NULL, 1, o->heads, 0, G}};
        mat out = {"o", yb, Tk, QW, 0, G * D};
        return launch(sc, &op, in, has_sinks ? 4 : 3, &out, NULL, p);
    }
    case TRN_GOP_GELU:
    case TRN_GOP_GELU_TANH:
    case TRN_GOP_SILU: { /* an activation its LINEAR could not take (route's fuse rule) */
        rk_op op = row_op(RK_ACT, (int64_t)(ny / (size_t)n), n);
        op.act = o->kind == TRN_GOP_GELU        ? RK_ACT_GELU
                 : o->kind == TRN_GOP_GELU_TANH ? RK_ACT_GELU_TANH
                                                : RK_ACT_SILU;
        const char *nm[1] = {"x"};
        const float *d[1] = {F_(sc, o->in[0])};
        size_t c[1] = {ny};
        return rowop(sc, p, &op, 1, nm, d, c, yb, ny);
    }
    case TRN_GOP_SWIGLU_OAI: { /* x [m, 2n], gate and up interleaved -> y [m, n] */
        rk_op op = row_op(RK_GLU_OAI, (int64_t)(ny / (size_t)n), n);
        op.alpha = o->alpha, op.limit = o->limit;
        const char *nm[1] = {"x"};
        const float *d[1] = {F_(sc, o->in[0])};
        size_t c[1] = {2 * ny};
        return rowop(sc, p, &op, 1, nm, d, c, yb, ny);
    }
    case TRN_GOP_MOE_ROUTER: return moe_router(sc, i, p);
    case TRN_GOP_MOE_EXPERTS: return moe_experts(sc, i, p);
    case TRN_GOP_EMBED:
    case TRN_GOP_POS_EMBED: return embed_op(sc, i, p);
    default:
        return trn_err_set(sc->err, TRN_E_UNSUPPORTED, "run: op %s has no route",
                           trn_op_name(o->kind));
    }
}

/* The profile of one launch (rk_time's figures) added to op profile p. */
static void prof_add(trn_run_opprof *p, const rk_prof *pr) {
    p->launches++;
    p->time_ns += pr->time_ns;
    p->flops += pr->flops;
    p->mfu_ns += pr->pe_mfu * pr->time_ns;
    p->hbm_bytes += pr->hbm_bytes;
    if (pr->time_ns > p->bound_ns) p->bound_ns = pr->time_ns, p->bound = pr->bound;
}

/* The ROUTER kernel on logits lg [m, n] (f32; NULL in timing-only mode): split by token rows
 * over the cores (rk_split), timed together, each piece run on its rows; the expert ids and
 * gating weights [m, topk] written into ids and wts. */
static trn_status router_launch(stepctx *sc, const rk_op *op, const float *lg, int32_t *ids,
                                float *wts, trn_run_opprof *p) {
    trn_run *r = sc->r;
    rk_piece pcs[64];
    rk_prof pr;
    int np = 0;
    trn_status s = split_time(sc, op, pcs, &np, &pr);
    int64_t N = op->n, K = op->topk;
    for (int q = 0; q < np && s == TRN_OK && lg; q++) {
        int64_t r0 = pcs[q].lo, nr = pcs[q].hi - pcs[q].lo;
        double *x = malloc((size_t)(nr * N) * sizeof *x), *id = malloc((size_t)(nr * K) * 8),
               *w = malloc((size_t)(nr * K) * 8);
        if (!x || !id || !w) {
            s = trn_err_set(sc->err, TRN_E_NOMEM, "run: out of memory");
        } else {
            for (int64_t j = 0; j < nr * N; j++) x[j] = lg[r0 * N + j];
            rk_bind b[1] = {{"x", x, (size_t)(nr * N)}};
            rk_bind ob[2] = {{"ids", id, (size_t)(nr * K)}, {"w", w, (size_t)(nr * K)}};
            s = rk_run(r->rt, &pcs[q].op, NULL, b, 1, ob, 2, sc->err);
            for (int64_t j = 0; s == TRN_OK && j < nr * K; j++)
                ids[r0 * K + j] = (int32_t)id[j], wts[r0 * K + j] = (float)w[j];
        }
        free(x), free(id), free(w);
    }
    if (s != TRN_OK) return trn_err_prefix(sc->err, "%s: ", p->name);
    prof_add(p, &pr);
    return TRN_OK;
}

/* MOE_ROUTER on the chip: the router LINEAR (its weight resident, its bias if any) with f32
 * logits, so that the routing sees no bf16 rounding of them, then the ROUTER kernel (gating
 * and top-k) on those logits. The router's LINEAR stays bf16 in every run precision (HF's
 * MXFP4 checkpoints quantize only the experts). The logits are shown to on_op as
 * "<ids name>.logits" before the ids (the routing can be checked against them). */
static trn_status moe_router(stepctx *sc, int i, trn_run_opprof *p) {
    const trn_gop *o = &sc->g->ops[i];
    const trn_gtensor *x = T_(sc, o->in[0]), *w = T_(sc, o->in[1]);
    int io = w->layout == TRN_LAYOUT_IN_OUT;
    int64_t T = x->shape[0], H = x->shape[1], E = io ? w->shape[1] : w->shape[0];
    int hb = o->nin > 2 && o->in[2] >= 0;
    rk_op lo = {0};
    lo.kind = RK_LINEAR, lo.m = T, lo.k = H, lo.n = E, lo.f32_out = 1, lo.bias = hb;
    lo.act = RK_ACT_COPY, lo.prec = 0; /* trn_precision BF16 */
    rk_op ro = row_op(RK_ROUTER, T, E);
    ro.topk = o->k, ro.gating = (int)o->gating, ro.f32_out = 1;
    if (!sc->buf) {
        trn_status s = launch(sc, &lo, NULL, 0, NULL, NULL, p);
        return s == TRN_OK ? router_launch(sc, &ro, NULL, NULL, NULL, p) : s;
    }
    float *lg = malloc((size_t)(T * E) * sizeof *lg);
    if (!lg) return trn_err_set(sc->err, TRN_E_NOMEM, "run: out of memory");
    linw lw = {w->name, -1, F_(sc, o->in[1]), hb ? F_(sc, o->in[2]) : NULL, w->layout, H, E};
    mat in[1] = {{"x", F_(sc, o->in[0]), T, H, 1, 0}};
    mat out = {"y", lg, T, E, 1, 1};
    trn_status s = launch(sc, &lo, in, 1, &out, &lw, p);
    if (s == TRN_OK && sc->r->o.on_op) {
        char nm[TRN_GRAPH_NAME_MAX + 8];
        snprintf(nm, sizeof nm, "%s.logits", T_(sc, o->out[0])->name);
        sc->r->o.on_op(sc->r->o.on_op_ctx, nm, lg, T * E);
    }
    if (s == TRN_OK)
        s = router_launch(sc, &ro, lg, (int32_t *)sc->buf[o->out[0]], F_(sc, o->out[1]), p);
    free(lg);
    return s;
}

/* One row gather on the chip (the EMBED kernel, table not resident): y[r] = table[idx[r]] for
 * r < m, table [rows, n] and y [m, n] host FP32 (NULL in timing-only mode), idx exact in FP32. */
static trn_status gather(stepctx *sc, trn_run_opprof *p, const float *idx, int64_t m,
                         const float *table, int64_t rows, int64_t n, float *y) {
    rk_op op = row_op(RK_EMBED, m, n);
    op.k = rows;
    if (!sc->buf) return launch(sc, &op, NULL, 0, NULL, NULL, p);
    mat in[2] = {{"ids", (float *)idx, m, 1, 1, 0}, {"table", (float *)table, rows, n, 0, 0}};
    mat out = {"y", y, m, n, 1, 0};
    return launch(sc, &op, in, 2, &out, NULL, p);
}

/* MOE_EXPERTS on the chip, every data movement a kernel. The T k (token, slot) assignments
 * sorted by expert (stable: token order within an expert; host index arithmetic) give
 *   1. dispatch: one row gather (EMBED kernel) of x [T, H] into XS [T k, H], expert e's tokens
 *      in rows off_e .. off_e + c_e - 1;
 *   2. per expert its MLP on its rows of XS (Mixtral: gate, up, SWIGLU, down; GPT-OSS: gate_up
 *      with bias and the clamped GLU fused into its eviction (LINEAR glu_oai), down with bias)
 *      into the same rows of OS;
 *   3. un-dispatch: one row gather of OS into D [T, k, H], D[t, j] the output of token t's
 *      j-th expert;
 *   4. combine: one MOE_COMBINE kernel, y[t] = w[t, 0] D[t, 0] + w[t, 1] D[t, 1] + ... in
 *      slot order, the routing weights read as they are ([T, k] f32). Rounding as HF's bf16
 *      combine (and the MUL / ADD chain this replaced, bit for bit): the weights, each product
 *      and each partial sum in bf16.
 * Timing-only: balanced routing (ceil(T k / E) rows on each of min(E, T k) experts). */
static trn_status moe_experts(stepctx *sc, int i, trn_run_opprof *p) {
    const trn_graph *g = sc->g;
    const trn_gop *o = &g->ops[i];
    const trn_gtensor *x = T_(sc, o->in[0]), *w1 = T_(sc, o->in[3]);
    int64_t T = x->shape[0], H = x->shape[1], K = o->k, E = w1->shape[0];
    int oai = o->expert == TRN_EXPERT_OAI;
    int64_t I = oai ? w1->shape[2] / 2 : w1->shape[1], A = T * K;
    int64_t *cnt = calloc((size_t)E, sizeof *cnt), *off = calloc((size_t)E + 1, sizeof *off);
    if (!cnt || !off) {
        free(cnt), free(off);
        return trn_err_set(sc->err, TRN_E_NOMEM, "run: out of memory");
    }
    const int32_t *ids = sc->buf ? (const int32_t *)sc->buf[o->in[1]] : NULL;
    const float *wts = F_(sc, o->in[2]);
    if (ids) {
        for (int64_t j = 0; j < A; j++) cnt[ids[j]]++;
    } else {
        int64_t act = A < E ? A : E, per = A >= E ? cdiv(A, E) : 1;
        for (int64_t e = 0; e < act; e++) cnt[e] = per;
    }
    for (int64_t e = 0; e < E; e++) off[e + 1] = off[e] + cnt[e];
    int64_t AS = off[E]; /* rows of XS, OS: A (balanced: up to E - 1 more) */
    float *y = F_(sc, o->out[0]);
    float *xs = NULL, *os = NULL, *ga = NULL, *ua = NULL, *sa = NULL, *i1 = NULL, *i2 = NULL;
    int64_t *fill = NULL;
    trn_status s = TRN_OK;
    int64_t mx = 0;
    for (int64_t e = 0; e < E; e++) mx = cnt[e] > mx ? cnt[e] : mx;
    if (sc->buf) {
        size_t c = (size_t)(mx ? mx : 1), ah = (size_t)(A * H);
        xs = malloc(ah * sizeof *xs), os = malloc(ah * sizeof *os);
        ga = malloc(c * (size_t)(2 * I) * sizeof *ga), ua = malloc(c * (size_t)I * sizeof *ua);
        sa = malloc(c * (size_t)I * sizeof *sa);
        i1 = malloc((size_t)A * sizeof *i1), i2 = malloc((size_t)A * sizeof *i2);
        fill = calloc((size_t)E, sizeof *fill);
        if (!xs || !os || !ga || !ua || !sa || !i1 || !i2 || !fill)
            s = trn_err_set(sc->err, TRN_E_NOMEM, "run: out of memory");
        else if (T > (1 << 24) / (K > 0 ? K : 1))
            s = trn_err_set(sc->err, TRN_E_UNSUPPORTED,
                            "run: %s: %lld token slots (the runner passes gather indices as "
                            "floats, exact below 2^24)",
                            p->name, (long long)A);
        /* assignment a = t K + j goes to row off[e] + (its rank among e's) of XS; i1: the
         * token of each XS row; i2[a]: the OS row of token t's slot j, so the un-dispatch
         * writes D [T, K, H], MOE_COMBINE's d (a token's slots contiguous) */
        for (int64_t a = 0; s == TRN_OK && a < A; a++) {
            int64_t e = ids[a], r = off[e] + fill[e]++;
            i1[r] = (float)(a / K);
            i2[a] = (float)r;
        }
    }
    if (s == TRN_OK) s = gather(sc, p, i1, AS, F_(sc, o->in[0]), T, H, xs);
    const char *n3 = T_(sc, o->in[3])->name, *n4 = T_(sc, o->in[4])->name,
               *n5 = T_(sc, o->in[5])->name;
    const float *W3 = F_(sc, o->in[3]), *W4 = F_(sc, o->in[4]), *W5 = F_(sc, o->in[5]);
    const float *W6 = oai ? F_(sc, o->in[6]) : NULL;
    for (int64_t e = 0; e < E && s == TRN_OK; e++) {
        int64_t c = cnt[e];
        if (!c) continue;
        float *xe = xs ? xs + off[e] * H : NULL, *d = os ? os + off[e] * H : NULL;
        int fe = (int)e;
        if (!oai) { /* w1, w3 [E, I, H], w2 [E, H, I], all OUT_IN */
            s = linear(sc, p, xe, c, H, I, n3, fe, W3 ? W3 + e * I * H : NULL, TRN_LAYOUT_OUT_IN,
                       NULL, 0, RK_ACT_COPY, 0, ga);
            if (s == TRN_OK)
                s = linear(sc, p, xe, c, H, I, n4, fe, W4 ? W4 + e * I * H : NULL,
                           TRN_LAYOUT_OUT_IN, NULL, 0, RK_ACT_COPY, 0, ua);
            if (s == TRN_OK) {
                rk_op op = row_op(RK_SWIGLU, c, I);
                const char *nm[2] = {"g", "u"};
                const float *dd[2] = {ga, ua};
                size_t cc[2] = {(size_t)(c * I), (size_t)(c * I)};
                s = rowop(sc, p, &op, 2, nm, dd, cc, sa, (size_t)(c * I));
            }
            if (s == TRN_OK)
                s = linear(sc, p, sa, c, I, H, n5, fe, W5 ? W5 + e * H * I : NULL,
                           TRN_LAYOUT_OUT_IN, NULL, 0, RK_ACT_COPY, 0, d);
        } else { /* gate_up [E, H, 2I] + bias [E, 2I], down [E, I, H] + bias [E, H], IN_OUT */
            /* gate_up with the clamped GLU fused into its eviction (bit for bit gate_up then
             * GLU_OAI, one launch fewer) */
            s = linear_glu(sc, p, xe, c, H, 2 * I, n3, fe, W3 ? W3 + e * H * 2 * I : NULL,
                           W4 ? W4 + e * 2 * I : NULL, o->alpha, o->limit, sa);
            if (s == TRN_OK)
                s = linear(sc, p, sa, c, I, H, n5, fe, W5 ? W5 + e * I * H : NULL,
                           TRN_LAYOUT_IN_OUT, W6 ? W6 + e * H : NULL, 1, RK_ACT_COPY, 0, d);
        }
    }
    /* un-dispatch into D (XS's buffer, free again), then the combine: one MOE_COMBINE kernel,
     * y[t] = sum_j w[t, j] D[t, j] with HF's bf16 steps (w rounded to bf16, each product and
     * partial sum rounded, slots in order), split by tokens; w read as [T, K] f32 */
    if (s == TRN_OK) s = gather(sc, p, i2, A, os, AS, H, xs);
    if (s == TRN_OK) {
        rk_op op = row_op(RK_MOE_COMBINE, T, H);
        op.topk = K;
        const char *nm[2] = {"d", "w"};
        const float *dd[2] = {xs, wts};
        size_t cc[2] = {(size_t)(A * H), (size_t)A};
        s = rowop(sc, p, &op, 2, nm, dd, cc, y, (size_t)(T * H));
    }
    free(cnt), free(off), free(xs), free(os), free(ga), free(ua), free(sa), free(i1), free(i2),
        free(fill);
    return s;
}

/* ---- a step --------------------------------------------------------------------------------- */

static trn_status kv_get(trn_run *r, const trn_gtensor *t, float **out, trn_err *err) {
    for (int i = 0; i < r->nkv; i++)
        if (!strcmp(r->kv[i].name, t->name)) {
            *out = r->kv[i].data;
            return TRN_OK;
        }
    if (r->nkv == r->capkv) {
        int cap = r->capkv ? 2 * r->capkv : 16;
        kvbuf *nk = realloc(r->kv, (size_t)cap * sizeof *nk);
        if (!nk) return trn_err_set(err, TRN_E_NOMEM, "run: out of memory");
        r->kv = nk, r->capkv = cap;
    }
    kvbuf *k = &r->kv[r->nkv];
    snprintf(k->name, sizeof k->name, "%s", t->name);
    k->width = t->shape[1];
    k->data = calloc((size_t)(r->max_ctx * k->width), sizeof(float));
    if (!k->data) return trn_err_set(err, TRN_E_NOMEM, "run: out of memory (KV cache)");
    r->nkv++;
    *out = k->data;
    return TRN_OK;
}

static void route(stepctx *sc) {
    const trn_graph *g = sc->g;
    int *uses = calloc((size_t)g->ntensors, sizeof *uses);
    if (uses)
        for (int i = 0; i < g->nops; i++)
            for (int j = 0; j < g->ops[i].nin; j++)
                if (g->ops[i].in[j] >= 0) uses[g->ops[i].in[j]]++;
    for (int i = 0; i < g->nops; i++) {
        const trn_gop *o = &g->ops[i];
        int64_t L;
        switch (o->kind) {
        case TRN_GOP_LINEAR:
        case TRN_GOP_RMSNORM:
        case TRN_GOP_LAYERNORM:
        case TRN_GOP_SOFTMAX:
        case TRN_GOP_ADD:
        case TRN_GOP_MUL:
        case TRN_GOP_SWIGLU:
        case TRN_GOP_ROPE:
        case TRN_GOP_GELU:
        case TRN_GOP_GELU_TANH:
        case TRN_GOP_SILU:
        case TRN_GOP_SWIGLU_OAI:
        case TRN_GOP_MOE_ROUTER:
        case TRN_GOP_MOE_EXPERTS:
        case TRN_GOP_EMBED:
        case TRN_GOP_POS_EMBED: sc->where[i] = TRN_RUN_CHIP; break;
        case TRN_GOP_ATTENTION: {
            int a = attn_route(o, g->step.tokens, &L);
            sc->where[i] = a == 1 ? TRN_RUN_CHIP : TRN_RUN_HOST;
            break;
        }
        default: sc->where[i] = TRN_RUN_HOST; break;
        }
        if (o->kind == TRN_GOP_LINEAR && i + 1 < g->nops && uses && uses[o->out[0]] == 1) {
            const trn_gop *a = &g->ops[i + 1];
            if ((a->kind == TRN_GOP_GELU || a->kind == TRN_GOP_GELU_TANH ||
                 a->kind == TRN_GOP_SILU) &&
                a->in[0] == o->out[0]) {
                sc->fuse[i] = 1;
                sc->where[i + 1] = TRN_RUN_FUSED;
                i++;
            }
        }
    }
    free(uses);
}

static trn_status bind_all(stepctx *sc, const int32_t *tokens) {
    const trn_graph *g = sc->g;
    trn_run *r = sc->r;
    for (int i = 0; i < g->ntensors; i++) {
        const trn_gtensor *t = &g->tensors[i];
        switch (t->role) {
        case TRN_GROLE_WEIGHT:
            sc->buf[i] = trn_weights_data(r->w, t->name, NULL);
            if (!sc->buf[i])
                return trn_err_set(sc->err, TRN_E_INVALID, "run: the weights have no tensor '%s'",
                                   t->name);
            break;
        case TRN_GROLE_CONST: sc->buf[i] = (void *)t->const_data; break;
        case TRN_GROLE_KV_CACHE: {
            float *kv = NULL;
            trn_status s = kv_get(r, t, &kv, sc->err);
            if (s != TRN_OK) return s;
            sc->buf[i] = kv;
            break;
        }
        case TRN_GROLE_INPUT:
        case TRN_GROLE_ACTIVATION:
        case TRN_GROLE_OUTPUT: {
            int64_t n = trn_gtensor_elems(t);
            sc->buf[i] = calloc((size_t)(n ? n : 1), 4);
            if (!sc->buf[i]) return trn_err_set(sc->err, TRN_E_NOMEM, "run: out of memory");
            sc->own[i] = 1;
            if (t->role == TRN_GROLE_INPUT) memcpy(sc->buf[i], tokens, (size_t)n * 4);
            break;
        }
        }
    }
    return TRN_OK;
}

trn_status trn_run_step(trn_run *r, const int32_t *tokens, int64_t T, float *logits,
                        trn_run_prof *prof, trn_run_progress_fn cb, void *ctx, int64_t step,
                        int64_t steps, trn_err *err) {
    if (prof) memset(prof, 0, sizeof *prof);
    const trn_model_config *cfg = r->cfg;
    int fn = !r->o.timing_only;
    if (r->max_ctx == 0) r->max_ctx = cfg->max_positions > 0 ? cfg->max_positions : r->pos + T;
    if (T < 1 || r->pos + T > r->max_ctx)
        return trn_err_set(err, TRN_E_RANGE,
                           "run: %lld tokens at position %lld (the KV cache holds %lld)",
                           (long long)T, (long long)r->pos, (long long)r->max_ctx);
    if (fn) {
        if (!tokens) return trn_err_set(err, TRN_E_INVALID, "run: no token ids");
        for (int64_t t = 0; t < T; t++)
            if (tokens[t] < 0 || tokens[t] >= cfg->vocab)
                return trn_err_set(err, TRN_E_RANGE, "run: token %lld is id %d, expected 0..%lld",
                                   (long long)t, tokens[t], (long long)cfg->vocab - 1);
    }
    trn_step st = {T, r->pos, r->max_ctx, 0};
    trn_graph *g = NULL;
    trn_status s = trn_graph_build(r->m, &st, &g, err);
    if (s != TRN_OK) return s;
    stepctx sc = {r, g, NULL, NULL, NULL, NULL, err};
    sc.where = calloc((size_t)g->nops, sizeof *sc.where);
    sc.fuse = calloc((size_t)g->nops, sizeof *sc.fuse);
    trn_run_opprof *ops = calloc((size_t)g->nops, sizeof *ops);
    if (fn) {
        sc.buf = calloc((size_t)g->ntensors, sizeof *sc.buf);
        sc.own = calloc((size_t)g->ntensors, 1);
    }
    if (!sc.where || !sc.fuse || !ops || (fn && (!sc.buf || !sc.own))) {
        s = trn_err_set(err, TRN_E_NOMEM, "run: out of memory");
        goto done;
    }
    route(&sc);
    if (fn && (s = bind_all(&sc, tokens)) != TRN_OK) goto done;
    double total = 0;
    for (int i = 0; i < g->nops && s == TRN_OK; i++) {
        const trn_gop *o = &g->ops[i];
        trn_run_opprof *p = &ops[i];
        const char *nm = g->tensors[o->out[0]].name;
        snprintf(p->name, sizeof p->name, "%s", nm);
        const char *dot = o->layer >= 0 && nm[0] == 'l' ? strchr(nm, '.') : NULL;
        snprintf(p->cls, sizeof p->cls, "%s", dot ? dot + 1 : nm);
        p->kind = trn_op_name(o->kind), p->layer = o->layer, p->where = (trn_run_where)sc.where[i];
        p->prec = -1;
        if (cb) cb(ctx, step, steps, i, g->nops);
        s = exec_op(&sc, i, p);
        total += p->time_ns;
        /* a fused LINEAR wrote its activation's output, not its own */
        if (s == TRN_OK && fn && r->o.on_op && !sc.fuse[i])
            r->o.on_op(r->o.on_op_ctx, nm, sc.buf[o->out[0]],
                       trn_gtensor_elems(&g->tensors[o->out[0]]));
    }
    if (s != TRN_OK) goto done;
    if (fn && logits) {
        const trn_gtensor *lt = &g->tensors[g->logits];
        int64_t n = trn_gtensor_elems(lt);
        memcpy(logits, (float *)sc.buf[g->logits] + (n - cfg->vocab),
               (size_t)cfg->vocab * sizeof(float));
    }
    r->pos += T;
    if (prof) {
        prof->steps = 1, prof->tokens = T, prof->time_ns = total;
        prof->nops = g->nops, prof->ops = ops;
        ops = NULL;
    }
done:
    if (sc.buf)
        for (int i = 0; i < g->ntensors; i++)
            if (sc.own[i]) free(sc.buf[i]);
    free(sc.buf), free(sc.own), free(sc.where), free(sc.fuse), free(ops);
    trn_graph_destroy(g);
    return s;
}

/* ---- generation ----------------------------------------------------------------------------- */

static trn_status accumulate(trn_run_prof *dst, trn_run_prof *src, trn_err *err) {
    if (!dst->ops) {
        *dst = *src;
        memset(src, 0, sizeof *src);
        return TRN_OK;
    }
    if (dst->nops != src->nops)
        return trn_err_set(err, TRN_E_INVALID, "run: decode steps with %d and %d ops", dst->nops,
                           src->nops);
    dst->steps += src->steps, dst->tokens += src->tokens, dst->time_ns += src->time_ns;
    for (int i = 0; i < dst->nops; i++) {
        trn_run_opprof *a = &dst->ops[i];
        const trn_run_opprof *b = &src->ops[i];
        a->launches += b->launches, a->time_ns += b->time_ns, a->flops += b->flops;
        a->mfu_ns += b->mfu_ns, a->hbm_bytes += b->hbm_bytes;
        if (b->bound_ns > a->bound_ns) a->bound_ns = b->bound_ns, a->bound = b->bound;
    }
    trn_run_prof_fini(src);
    return TRN_OK;
}

void trn_run_result_fini(trn_run_result *res) {
    if (!res) return;
    free(res->tokens);
    free(res->logits);
    trn_run_prof_fini(&res->prefill);
    trn_run_prof_fini(&res->decode);
    memset(res, 0, sizeof *res);
}

trn_status trn_run_generate(trn_run *r, const int32_t *prompt, int64_t n, int64_t max_new,
                            const trn_sampling *s, int want_logits, trn_run_progress_fn cb,
                            void *ctx, trn_run_result *out, trn_err *err) {
    memset(out, 0, sizeof *out);
    const trn_model_config *cfg = r->cfg;
    int fn = !r->o.timing_only;
    if (n < 1 || max_new < 1)
        return trn_err_set(err, TRN_E_RANGE,
                           "run: %lld prompt tokens, max_new %lld (expected "
                           ">= 1 each)",
                           (long long)n, (long long)max_new);
    int64_t need = r->pos + n + max_new - 1;
    if (cfg->max_positions > 0 && need > cfg->max_positions)
        return trn_err_set(err, TRN_E_RANGE,
                           "run: %lld prompt tokens + %lld new need %lld positions, %s allows "
                           "%lld",
                           (long long)n, (long long)max_new, (long long)need, cfg->name,
                           (long long)cfg->max_positions);
    if (r->max_ctx == 0) r->max_ctx = need;
    if (need > r->max_ctx)
        return trn_err_set(err, TRN_E_RANGE, "run: %lld positions needed, the KV cache holds %lld",
                           (long long)need, (long long)r->max_ctx);
    int64_t V = cfg->vocab;
    double t0 = wall_s();
    out->prompt_len = n, out->steps = max_new, out->vocab = V;
    float *lg = fn ? malloc((size_t)V * sizeof *lg) : NULL;
    if (fn) {
        out->tokens = malloc((size_t)max_new * sizeof *out->tokens);
        if (want_logits) out->logits = malloc((size_t)(max_new * V) * sizeof *out->logits);
    }
    trn_status st = TRN_OK;
    if (fn && (!lg || !out->tokens || (want_logits && !out->logits)))
        st = trn_err_set(err, TRN_E_NOMEM, "run: out of memory");
    if (st == TRN_OK) st = trn_run_step(r, prompt, n, lg, &out->prefill, cb, ctx, 0, max_new, err);
    int32_t tok = 0;
    for (int64_t i = 0; st == TRN_OK; i++) {
        if (fn) {
            if (out->logits) memcpy(out->logits + i * V, lg, (size_t)V * sizeof *lg);
            tok = trn_sample(lg, V, s, (uint64_t)i, NULL);
            out->tokens[i] = tok;
        }
        if (i + 1 == max_new) break;
        trn_run_prof sp;
        st = trn_run_step(r, fn ? &tok : NULL, 1, lg, &sp, cb, ctx, i + 1, max_new, err);
        if (st == TRN_OK) st = accumulate(&out->decode, &sp, err);
    }
    free(lg);
    if (st != TRN_OK) {
        trn_run_result_fini(out);
        return st;
    }
    out->ttft_ns = out->prefill.time_ns;
    out->tpot_ns = out->decode.steps ? out->decode.time_ns / (double)out->decode.steps : 0;
    out->tokens_per_s = out->tpot_ns > 0   ? 1e9 / out->tpot_ns
                        : out->ttft_ns > 0 ? (double)n * 1e9 / out->ttft_ns
                                           : 0;
    out->wall_s = wall_s() - t0;
    return TRN_OK;
}

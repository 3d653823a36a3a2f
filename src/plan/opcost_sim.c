/* The planner's op costs from the chip simulator: each op the compiler can lower is mapped to a
 * representative shape (powers of two, capped), the representative is lowered and timed once
 * through the runtime's timing-only path (cached for the life of the provider), and the op's
 * time is its ideal time divided by the efficiency the representative achieved. Ops without a
 * lowering, or whose lowering fails, go to the roofline. docs/planner.md "Per-op costs from the
 * simulator" gives the scheme and its measured error.
 *
 * Deliberately left out: several threads (the cache is not locked), GPUs, fused ops (each
 * planner op is one kernel), the optimizer step (costed with the row ops' bandwidth). */
#include "plan_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trnsim/runtime.h"

/* Caps of the representative shapes: the largest shape timed is a few hundred host ms. */
#define GEMM_M_CAP    4096
#define GEMM_K_CAP    8192
#define GEMM_N_CAP    8192
#define ATTN_Q_CAP    1024
#define ATTN_KV_CAP   4096
#define DECODE_KV_CAP 32768
#define ROW_M         2048
#define ROW_N_CAP     8192
#define TILE          128 /* partitions: m and k of a GEMM piece are padded to this */

enum { C_GEMM, C_ATTN, C_ROW };

typedef struct sim_entry {
    int used;
    int cls;
    int64_t a, b, c, d;
    int ok;
    double t_rep, ideal_rep; /* simulated and ideal seconds of the representative */
} sim_entry;

struct trn_plan_opcost_sim {
    trn_plan_opcost_sim *self; /* the mutable provider behind the const ctx */
    trn_runtime *rt;
    const trn_model_config *mc;
    trn_plan_roofline roof;
    int64_t cores;
    sim_entry *tab;
    size_t cap, used;
    trn_plan_opcost_sim_stats st;
};

static double wall_s(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int64_t pow2_ceil(int64_t x) {
    int64_t p = 1;
    while (p < x) p *= 2;
    return p;
}

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

static int64_t pad(int64_t x, int64_t t) {
    return (x + t - 1) / t * t;
}

trn_status trn_plan_opcost_sim_create(const trn_hw *hw, const char *chip, const trn_model *model,
                                      const trn_plan_roofline *fallback, trn_plan_opcost_sim **out,
                                      trn_err *err) {
    *out = NULL;
    if (!model || !fallback)
        return trn_err_set(err, TRN_E_INVALID, "op-cost sim: a model and a fallback are needed");
    trn_plan_opcost_sim *s = calloc(1, sizeof *s);
    if (!s) return trn_err_set(err, TRN_E_NOMEM, "op-cost sim: out of memory");
    trn_status st = trn_runtime_create(hw, chip, &s->rt, err);
    if (st != TRN_OK) {
        free(s);
        return st;
    }
    s->self = s;
    s->mc = trn_model_config_of(model);
    s->roof = *fallback;
    s->cores = (int64_t)trn_runtime_chip(s->rt)->cores.value;
    if (s->cores < 1) s->cores = 1;
    s->cap = 256;
    s->tab = calloc(s->cap, sizeof *s->tab);
    if (!s->tab) {
        trn_runtime_destroy(s->rt);
        free(s);
        return trn_err_set(err, TRN_E_NOMEM, "op-cost sim: out of memory");
    }
    *out = s;
    return TRN_OK;
}

void trn_plan_opcost_sim_destroy(trn_plan_opcost_sim *s) {
    if (!s) return;
    trn_runtime_destroy(s->rt);
    free(s->tab);
    free(s);
}

void trn_plan_opcost_sim_stats_get(const trn_plan_opcost_sim *s, trn_plan_opcost_sim_stats *st) {
    *st = s->st;
}

/* ---- the cache: open addressing over (class, four dimensions) ------------------------------ */

static size_t slot_of(const trn_plan_opcost_sim *s, int cls, int64_t a, int64_t b, int64_t c,
                      int64_t d) {
    uint64_t h = 1469598103934665603ull;
    const uint64_t v[5] = {(uint64_t)cls, (uint64_t)a, (uint64_t)b, (uint64_t)c, (uint64_t)d};
    for (int i = 0; i < 5; i++) h = (h ^ v[i]) * 1099511628211ull;
    size_t i = (size_t)(h % s->cap);
    while (s->tab[i].used && !(s->tab[i].cls == cls && s->tab[i].a == a && s->tab[i].b == b &&
                               s->tab[i].c == c && s->tab[i].d == d))
        i = (i + 1) % s->cap;
    return i;
}

/* The entry of a representative, or a fresh one (used = 0) to fill; NULL when out of memory. */
static sim_entry *entry(trn_plan_opcost_sim *s, int cls, int64_t a, int64_t b, int64_t c,
                        int64_t d) {
    if (2 * (s->used + 1) > s->cap) {
        size_t oc = s->cap;
        sim_entry *old = s->tab, *nt = calloc(2 * oc, sizeof *nt);
        if (!nt) return NULL;
        s->tab = nt, s->cap = 2 * oc;
        for (size_t i = 0; i < oc; i++)
            if (old[i].used)
                s->tab[slot_of(s, old[i].cls, old[i].a, old[i].b, old[i].c, old[i].d)] = old[i];
        free(old);
    }
    sim_entry *e = &s->tab[slot_of(s, cls, a, b, c, d)];
    if (e->used) {
        s->st.hits++;
        return e;
    }
    e->cls = cls, e->a = a, e->b = b, e->c = c, e->d = d;
    return e;
}

static void finish(trn_plan_opcost_sim *s, sim_entry *e, int ok, double t, double ideal,
                   double t0) {
    e->used = 1;
    s->used++;
    e->ok = ok && t > 0 && ideal > 0;
    e->t_rep = t, e->ideal_rep = ideal;
    s->st.shapes++;
    s->st.sim_wall_s += wall_s() - t0;
}

/* ---- GEMM ------------------------------------------------------------------------------------ */

static int prec_of(trn_hw_dtype dt, trn_precision *p) {
    switch (dt) {
    case TRN_HW_BF16: *p = TRN_PREC_BF16; return 1;
    case TRN_HW_FP8: *p = TRN_PREC_FP8; return 1;
    case TRN_HW_MXFP8: *p = TRN_PREC_MXFP8; return 1;
    default: return 0;
    }
}

void trn_plan_opcost_sim_gemm_rep(int64_t m, int64_t k, int64_t n, trn_hw_dtype dtype, int64_t *bm,
                                  int64_t *bk, int64_t *bn) {
    *bm = min64(pow2_ceil(m < 1 ? 1 : m), GEMM_M_CAP);
    *bk = min64(pow2_ceil(k < 1 ? 1 : k), GEMM_K_CAP);
    *bn = min64(pow2_ceil(n < 1 ? 1 : n), GEMM_N_CAP);
    if (dtype == TRN_HW_MXFP8 && *bk < 512) *bk = 512;
}

/* Ideal seconds of a chip GEMM: the piece one core runs by the runtime's split (m and k padded
 * to 128 partitions) at the core's share of the peak and of the HBM bandwidth. */
static double gemm_ideal(const trn_plan_opcost_sim *s, int64_t m, int64_t k, int64_t n, double peak,
                         double a_bytes, double w_bytes, int *mem_bound) {
    int64_t pm, pn;
    trn_runtime_gemm_split(s->rt, m, n, &pm, &pn);
    double c = (double)s->cores;
    double tc = 2.0 * (double)pad(pm, TILE) * (double)pad(k, TILE) * (double)pn / (peak / c);
    double bytes = (double)pm * (double)k * a_bytes + (double)k * (double)pn * w_bytes +
                   (double)pm * (double)pn * a_bytes;
    double tm = bytes / (s->roof.hbm_bw_bps / c);
    if (mem_bound) *mem_bound = tm > tc;
    return tm > tc ? tm : tc;
}

static int gemm_time(trn_plan_opcost_sim *s, const trn_plan_op *op, trn_plan_op_time *out) {
    trn_precision prec;
    if (!prec_of(op->dtype, &prec) || op->m < 1 || op->k < 1 || op->n < 1) return 0;
    double peak = s->roof.peak_flops[op->dtype];
    if (peak <= 0) return 0;
    int64_t bm, bk, bn;
    trn_plan_opcost_sim_gemm_rep(op->m, op->k, op->n, op->dtype, &bm, &bk, &bn);
    sim_entry *e = entry(s, C_GEMM, bm, bk, bn, (int64_t)prec);
    if (!e) return 0;
    if (!e->used) {
        double t0 = wall_s(), t = 0;
        int ok = trn_runtime_gemm_seconds(s->rt, bm, bk, bn, prec, &t, NULL) == TRN_OK;
        /* the kernel's own element sizes: bf16 x and y; w bf16, fp8 (FP8 mode) or bf16
           quantized on chip (MXFP8) */
        double wb = prec == TRN_PREC_FP8 ? 1 : 2;
        finish(s, e, ok, t, ok ? gemm_ideal(s, bm, bk, bn, peak, 2, wb, NULL) : 0, t0);
    }
    if (!e->ok) return 0;
    int mb;
    double ideal = gemm_ideal(s, op->m, op->k, op->n, peak, op->a_bytes, op->w_bytes, &mb);
    out->seconds = ideal * (e->t_rep / e->ideal_rep) * op->count; /* count as the roofline */
    out->memory_bound = mb;
    return 1;
}

/* ---- attention ------------------------------------------------------------------------------ */

/* Units of attention work are (sequence, kv head, block of up to ATTN_Q_CAP queries); they are
 * spread over the cores. One unit of the representative runs on one core. */
static int attn_time(trn_plan_opcost_sim *s, const trn_plan_op *op, trn_plan_op_time *out) {
    const trn_model_config *c = s->mc;
    if (c->mla || c->kv_heads < 1 || c->heads % c->kv_heads || c->head_dim < 1) return 0;
    if (op->heads < 1 || op->q_len < 1 || op->batch < 1 || op->flops <= 0) return 0;
    int64_t g = c->heads / c->kv_heads, hd = c->head_dim;
    int64_t gq = min64(g, op->heads);        /* query heads per kv head on this chip */
    int64_t kvc = (op->heads + gq - 1) / gq; /* kv heads on this chip */
    /* mean keys a query sees, from the op's FLOPs (4 x head_dim per query head and key) */
    double keys =
        op->flops / (4.0 * (double)hd * (double)op->heads * (double)op->batch * (double)op->q_len);
    int64_t kbar = keys < 1 ? 1 : (int64_t)ceil(keys), q_rep, kv_rep;
    if (op->q_len == 1) { /* decode: one query against the cache */
        q_rep = 1;
        kv_rep = min64(pow2_ceil(kbar), DECODE_KV_CAP);
    } else { /* the last q_rep queries of a context whose mean visible keys are ~kbar */
        q_rep = min64(pow2_ceil(op->q_len), ATTN_Q_CAP);
        /* the last q of kv keys see kv - (q - 1) / 2 keys on average */
        double kv = keys + (double)(q_rep - 1) / 2;
        kv_rep = min64(pow2_ceil((int64_t)ceil(kv - 1e-9)), ATTN_KV_CAP);
        if (kv_rep < q_rep) kv_rep = q_rep;
    }
    sim_entry *e = entry(s, C_ATTN, gq, hd, q_rep, kv_rep);
    if (!e) return 0;
    double cores = (double)s->cores, peak = s->roof.peak_flops[TRN_HW_BF16];
    double bw = s->roof.hbm_bw_bps;
    if (!e->used) {
        double t0 = wall_s(), t = 0;
        int ok = trn_runtime_attention_seconds(s->rt, gq, 1, hd, q_rep, kv_rep, &t, NULL) == TRN_OK;
        trn_lower_op lo;
        memset(&lo, 0, sizeof lo);
        lo.kind = TRN_LOWER_ATTENTION;
        lo.heads = gq, lo.kv_heads = 1, lo.head_dim = hd, lo.q_len = lo.m = q_rep;
        lo.kv_len = kv_rep;
        double fl = trn_lower_flops(&lo);
        double by = 2.0 * 2 * (double)(kv_rep * hd) + 2.0 * 2 * (double)(q_rep * gq * hd);
        finish(s, e, ok, t, fmax(fl / (peak / cores), by / (bw / cores)), t0);
    }
    if (!e->ok || peak <= 0) return 0;
    int64_t blocks = (op->q_len + ATTN_Q_CAP - 1) / ATTN_Q_CAP;
    double units = (double)op->batch * (double)kvc * (double)blocks;
    double occ = units / (ceil(units / cores) * cores);
    double tc = op->flops / peak, tm = (op->kv_bytes + op->io_bytes) / bw;
    out->memory_bound = tm > tc;
    out->seconds = fmax(tc, tm) * (e->t_rep / e->ideal_rep) / occ;
    return 1;
}

/* ---- elementwise ---------------------------------------------------------------------------- */

/* The bandwidth fraction of rmsnorm + add + swiglu on [ROW_M, hidden]. */
static int row_time(trn_plan_opcost_sim *s, const trn_plan_op *op, trn_plan_op_time *out) {
    int64_t n = min64(pow2_ceil(s->mc->hidden > 0 ? s->mc->hidden : 1), ROW_N_CAP);
    sim_entry *e = entry(s, C_ROW, ROW_M, n, 0, 0);
    if (!e) return 0;
    double bw = s->roof.hbm_bw_bps;
    if (!e->used) {
        double t0 = wall_s(), t = 0, mn = (double)(ROW_M * n);
        static const trn_lower_kind kinds[3] = {TRN_LOWER_RMSNORM, TRN_LOWER_ADD, TRN_LOWER_SWIGLU};
        int ok = 1;
        for (int i = 0; i < 3 && ok; i++) {
            double ti = 0;
            ok = trn_runtime_rowop_seconds(s->rt, kinds[i], ROW_M, n, &ti, NULL) == TRN_OK;
            t += ti;
        }
        /* bf16 bytes: rmsnorm reads x and g and writes y; add and swiglu read two, write one */
        double bytes = 2 * (2 * mn + (double)n) + 2 * 3 * mn + 2 * 3 * mn;
        finish(s, e, ok, t, bytes / bw, t0);
    }
    if (!e->ok) return 0;
    out->memory_bound = 1;
    out->seconds = op->kv_bytes / bw * (e->t_rep / e->ideal_rep);
    return 1;
}

/* ---- the provider --------------------------------------------------------------------------- */

static void sim_time(const void *ctx, const trn_plan_op *op, trn_plan_op_time *out) {
    const trn_plan_opcost_sim *cs = ctx;
    trn_plan_opcost_sim *s = cs->self;
    int cls, ok = 0;
    switch (op->kind) {
    case TRN_PLAN_OP_GEMM: cls = C_GEMM, ok = gemm_time(s, op, out); break;
    case TRN_PLAN_OP_ATTENTION: cls = C_ATTN, ok = attn_time(s, op, out); break;
    default: cls = C_ROW, ok = row_time(s, op, out); break;
    }
    if (ok) {
        s->st.sim[cls]++;
        return;
    }
    s->st.fallback[cls]++;
    trn_plan_roofline_time(&s->roof, op, out);
}

trn_plan_op_cost trn_plan_opcost_sim_provider(trn_plan_opcost_sim *s) {
    trn_plan_op_cost c = {"simulator", sim_time, s};
    return c;
}

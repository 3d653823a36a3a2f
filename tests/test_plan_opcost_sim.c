/* LABELS: unit
 * The planner's simulator op-cost provider (src/plan/opcost_sim.c) against the runtime it is
 * built on: a representative GEMM shape is answered exactly as trn_runtime_gemm_seconds; other
 * shapes (off the powers of two, above the caps, decode sizes) stay within the error bound
 * docs/planner.md states, measured here against a full-shape timing of the same op; attention
 * of a representative and of a longer prompt against trn_runtime_attention_seconds; the
 * roofline answers what cannot be lowered (MXFP4, an unsupported precision, MLA attention) and
 * is counted; repeated shapes hit the cache; a planner search with the provider gives a finite
 * step time whose compute part is below the roofline's by about the ratio of the simulated
 * GEMM efficiency to the catalog's gemm_efficiency. */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "test_plan_util.h"
#include "trnsim/plan.h"
#include "trnsim/runtime.h"

/* The bounds docs/planner.md states for a GEMM off its representative (relative error of the
 * provider's time against the full-shape simulation): m a multiple of 128 (or below 128), and
 * m with a partial 128-row tile. */
#define GEMM_BOUND         0.05
#define GEMM_PARTIAL_BOUND 0.20
#define ATTN_BOUND         0.15

static trn_plan_opcost_sim *provider(const trn_plan_machine *m, const char *chip,
                                     const trn_model *md) {
    trn_plan_opcost_sim *s = NULL;
    trn_err err = {0};
    if (trn_plan_opcost_sim_create(hw, chip, md, &m->roof, &s, &err) != TRN_OK) {
        fprintf(stderr, "%s: %s\n", chip, err.msg);
        exit(1);
    }
    return s;
}

static trn_plan_op gemm(int64_t m, int64_t k, int64_t n, trn_hw_dtype dt) {
    trn_plan_op op;
    memset(&op, 0, sizeof op);
    op.kind = TRN_PLAN_OP_GEMM;
    op.dtype = dt;
    op.m = m, op.k = k, op.n = n, op.count = 1;
    op.a_bytes = 2;
    op.w_bytes = dt == TRN_HW_FP8 ? 1 : 2;
    return op;
}

static double provider_s(trn_plan_op_cost c, const trn_plan_op *op) {
    trn_plan_op_time t;
    c.time(c.ctx, op, &t);
    return t.seconds;
}

static void test_gemm(void) {
    trn_model *md = load("llama-3-8b");
    trn_plan_machine *m = machine("trn2.48xlarge", 1);
    trn_plan_opcost_sim *s = provider(m, "trn2", md);
    trn_plan_op_cost c = trn_plan_opcost_sim_provider(s);
    CHECK(strcmp(c.name, "simulator") == 0);
    trn_runtime *rt = NULL;
    trn_err err = {0};
    CHECK_EQ_INT(trn_runtime_create(hw, "trn2", &rt, &err), TRN_OK);

    /* representatives: exactly the runtime's time */
    static const int64_t reps[][3] = {{2048, 4096, 4096}, {16, 4096, 2048}, {4096, 8192, 8192}};
    for (int i = 0; i < 3; i++) {
        int64_t bm, bk, bn;
        trn_plan_opcost_sim_gemm_rep(reps[i][0], reps[i][1], reps[i][2], TRN_HW_BF16, &bm, &bk,
                                     &bn);
        CHECK(bm == reps[i][0] && bk == reps[i][1] && bn == reps[i][2]);
        double ref = 0;
        CHECK_EQ_INT(trn_runtime_gemm_seconds(rt, reps[i][0], reps[i][1], reps[i][2], TRN_PREC_BF16,
                                              &ref, &err),
                     TRN_OK);
        trn_plan_op op = gemm(reps[i][0], reps[i][1], reps[i][2], TRN_HW_BF16);
        double got = provider_s(c, &op);
        CHECK_MSG(fabs(got - ref) <= 1e-12 * ref, "rep %d: %.9g s vs runtime %.9g s", i, got, ref);
    }
    /* count multiplies */
    trn_plan_op op4 = gemm(2048, 4096, 4096, TRN_HW_BF16);
    double one = provider_s(c, &op4);
    op4.count = 4;
    CHECK(fabs(provider_s(c, &op4) - 4 * one) <= 1e-12 * one);

    /* off the representatives: off powers of two, above the caps, decode sizes, fp8 */
    static const struct {
        int64_t m, k, n;
        trn_hw_dtype dt;
    } other[] = {
        {3000, 4096, 6144, TRN_HW_BF16},  /* 70B attention n = 18432 / 3, off 2^k */
        {4096, 8192, 14336, TRN_HW_BF16}, /* n above the cap (8B MLP width) */
        {8192, 4096, 4096, TRN_HW_BF16},  /* m above the cap */
        {1536, 4096, 5120, TRN_HW_BF16},  /* m and n off 2^k */
        {24, 4096, 6144, TRN_HW_BF16},    /* decode batch 24 */
        {200, 4096, 4096, TRN_HW_BF16},   /* just above a 128-row tile */
        {2500, 4096, 4096, TRN_HW_FP8},   /* fp8 */
    };
    double worst = 0;
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        double ref = 0;
        trn_precision p = other[i].dt == TRN_HW_FP8 ? TRN_PREC_FP8 : TRN_PREC_BF16;
        CHECK_EQ_INT(
            trn_runtime_gemm_seconds(rt, other[i].m, other[i].k, other[i].n, p, &ref, &err),
            TRN_OK);
        trn_plan_op op = gemm(other[i].m, other[i].k, other[i].n, other[i].dt);
        double got = provider_s(c, &op), e = fabs(got / ref - 1);
        double bound = other[i].m > 128 && other[i].m % 128 ? GEMM_PARTIAL_BOUND : GEMM_BOUND;
        if (e > worst) worst = e;
        printf("gemm %5lld x %5lld x %5lld %s: provider %.4g ms, full simulation %.4g ms, "
               "error %+.1f%%\n",
               (long long)other[i].m, (long long)other[i].k, (long long)other[i].n,
               p == TRN_PREC_FP8 ? "fp8 " : "bf16", got * 1e3, ref * 1e3, 100 * (got / ref - 1));
        CHECK_MSG(e <= bound, "gemm %zu: error %.3f above the bound %.2f", i, e, bound);
    }
    printf("gemm: worst error %.1f%%\n", 100 * worst);

    /* the cache: a repeated shape and a shape of the same representative are hits */
    trn_plan_opcost_sim_stats st0, st1;
    trn_plan_opcost_sim_stats_get(s, &st0);
    trn_plan_op a = gemm(3000, 4096, 6144, TRN_HW_BF16), b = gemm(2900, 4000, 5000, TRN_HW_BF16);
    provider_s(c, &a);
    provider_s(c, &b);
    trn_plan_opcost_sim_stats_get(s, &st1);
    CHECK_EQ_INT(st1.shapes, st0.shapes);
    CHECK_EQ_INT(st1.hits, st0.hits + 2);
    CHECK_EQ_INT(st1.sim[0], st0.sim[0] + 2);
    CHECK_EQ_INT(st1.fallback[0], 0);

    /* the fallback: MXFP4 has no lowering, MXFP8 no trn2 peak (NeuronCore-v3): the roofline's
       time, counted, nothing simulated */
    trn_plan_op x4 = gemm(2048, 4096, 4096, TRN_HW_MXFP4),
                x8 = gemm(2048, 4096, 4096, TRN_HW_MXFP8);
    trn_plan_op_time tr, tp;
    trn_plan_roofline_time(&m->roof, &x4, &tr);
    c.time(c.ctx, &x4, &tp);
    CHECK(tp.seconds == tr.seconds && tp.memory_bound == tr.memory_bound);
    trn_plan_roofline_time(&m->roof, &x8, &tr);
    c.time(c.ctx, &x8, &tp);
    CHECK(tp.seconds == tr.seconds);
    trn_plan_opcost_sim_stats_get(s, &st1);
    CHECK_EQ_INT(st1.fallback[0], 2);
    CHECK_EQ_INT(st1.shapes, st0.shapes);

    trn_runtime_destroy(rt);
    trn_plan_opcost_sim_destroy(s);
    trn_plan_machine_destroy(m);

    /* trn1 has an FP8 peak but NeuronCore-v2 has no FP8 matmul: the lowering fails once, is
       remembered, and both lookups go to the roofline */
    m = machine("trn1.32xlarge", 1);
    s = provider(m, "trn1", md);
    c = trn_plan_opcost_sim_provider(s);
    trn_plan_op f8 = gemm(2048, 4096, 4096, TRN_HW_FP8);
    trn_plan_roofline_time(&m->roof, &f8, &tr);
    c.time(c.ctx, &f8, &tp);
    CHECK(tp.seconds == tr.seconds);
    c.time(c.ctx, &f8, &tp);
    trn_plan_opcost_sim_stats_get(s, &st1);
    CHECK_EQ_INT(st1.fallback[0], 2);
    CHECK_EQ_INT(st1.shapes, 1);
    CHECK_EQ_INT(st1.hits, 1);
    trn_plan_opcost_sim_destroy(s);
    trn_plan_machine_destroy(m);
    trn_model_destroy(md);
}

static trn_plan_op attn(const trn_model_config *mc, int64_t batch, int64_t heads, int64_t q,
                        int64_t kv) {
    trn_plan_op op;
    memset(&op, 0, sizeof op);
    op.kind = TRN_PLAN_OP_ATTENTION;
    op.dtype = TRN_HW_BF16;
    op.batch = batch, op.heads = heads, op.q_len = q;
    trn_lower_op lo;
    memset(&lo, 0, sizeof lo);
    lo.kind = TRN_LOWER_ATTENTION;
    lo.heads = heads, lo.kv_heads = heads / (mc->heads / mc->kv_heads);
    lo.head_dim = mc->head_dim, lo.q_len = lo.m = q, lo.kv_len = kv;
    op.flops = (double)batch * trn_lower_flops(&lo);
    op.kv_bytes = (double)batch * 2 * 2 * (double)(kv * lo.kv_heads * mc->head_dim);
    op.io_bytes = (double)batch * 2 * 2 * (double)(q * heads * mc->head_dim);
    return op;
}

static void test_attention_and_rows(void) {
    trn_model *md = load("llama-3-8b");
    const trn_model_config *mc = trn_model_config_of(md);
    trn_plan_machine *m = machine("trn2.48xlarge", 1);
    trn_plan_opcost_sim *s = provider(m, "trn2", md);
    trn_plan_op_cost c = trn_plan_opcost_sim_provider(s);
    trn_runtime *rt = NULL;
    trn_err err = {0};
    CHECK_EQ_INT(trn_runtime_create(hw, "trn2", &rt, &err), TRN_OK);
    /* all 32 heads (8 kv heads, one per core): one unit per core, the representative itself */
    double ref = 0;
    CHECK_EQ_INT(trn_runtime_attention_seconds(rt, 32, 8, 128, 512, 512, &ref, &err), TRN_OK);
    trn_plan_op op = attn(mc, 1, 32, 512, 512);
    double got = provider_s(c, &op);
    CHECK_MSG(fabs(got / ref - 1) <= 1e-9, "attention 512: %.6g vs %.6g", got, ref);
    /* a 2048-token prompt: the representative is the last 1024 queries of 2048 keys */
    CHECK_EQ_INT(trn_runtime_attention_seconds(rt, 32, 8, 128, 2048, 2048, &ref, &err), TRN_OK);
    op = attn(mc, 1, 32, 2048, 2048);
    got = provider_s(c, &op);
    printf("attention 32 heads, 2048 tokens: provider %.4g ms, full simulation %.4g ms, error "
           "%+.1f%%\n",
           got * 1e3, ref * 1e3, 100 * (got / ref - 1));
    CHECK_MSG(fabs(got / ref - 1) <= ATTN_BOUND, "attention 2048: %.4g vs %.4g", got, ref);
    /* a 4096-token prompt: above the query cap, 4 blocks of 1024 queries per unit */
    CHECK_EQ_INT(trn_runtime_attention_seconds(rt, 32, 8, 128, 4096, 4096, &ref, &err), TRN_OK);
    op = attn(mc, 1, 32, 4096, 4096);
    got = provider_s(c, &op);
    printf("attention 32 heads, 4096 tokens: provider %.4g ms, full simulation %.4g ms, error "
           "%+.1f%%\n",
           got * 1e3, ref * 1e3, 100 * (got / ref - 1));
    CHECK_MSG(fabs(got / ref - 1) <= ATTN_BOUND, "attention 4096: %.4g vs %.4g", got, ref);
    /* decode of 1 token against 1000 keys, 8 sequences: memory-bound, one unit per core */
    CHECK_EQ_INT(trn_runtime_attention_seconds(rt, 32, 8, 128, 1, 1000, &ref, &err), TRN_OK);
    op = attn(mc, 1, 32, 1, 1000);
    trn_plan_op_time t;
    c.time(c.ctx, &op, &t);
    printf("decode attention 1000 keys: provider %.4g us, full simulation %.4g us, error "
           "%+.1f%%\n",
           t.seconds * 1e6, ref * 1e6, 100 * (t.seconds / ref - 1));
    CHECK(t.memory_bound);
    CHECK_MSG(fabs(t.seconds / ref - 1) <= ATTN_BOUND, "decode: %.4g vs %.4g", t.seconds, ref);

    /* elementwise: bytes at the bandwidth the rmsnorm + add + swiglu mix achieved */
    trn_plan_op el;
    memset(&el, 0, sizeof el);
    el.kind = TRN_PLAN_OP_ELEMWISE;
    el.kv_bytes = 1e9;
    c.time(c.ctx, &el, &t);
    double ta = 0, tb = 0, tc = 0, mn = 2048.0 * 4096;
    CHECK_EQ_INT(trn_runtime_rowop_seconds(rt, TRN_LOWER_RMSNORM, 2048, 4096, &ta, &err), TRN_OK);
    CHECK_EQ_INT(trn_runtime_rowop_seconds(rt, TRN_LOWER_ADD, 2048, 4096, &tb, &err), TRN_OK);
    CHECK_EQ_INT(trn_runtime_rowop_seconds(rt, TRN_LOWER_SWIGLU, 2048, 4096, &tc, &err), TRN_OK);
    double bytes = 2 * (2 * mn + 4096) + 12 * mn;
    CHECK(t.memory_bound);
    CHECK_MSG(fabs(t.seconds - 1e9 / (bytes / (ta + tb + tc))) <= 1e-9 * t.seconds,
              "elementwise %.6g s", t.seconds);
    printf("elementwise: %.0f GB/s achieved (catalog HBM %.0f GB/s)\n",
           bytes / (ta + tb + tc) / 1e9, m->roof.hbm_bw_bps / 1e9);

    trn_plan_opcost_sim_stats st;
    trn_plan_opcost_sim_stats_get(s, &st);
    CHECK_EQ_INT(st.sim[1], 4);
    CHECK_EQ_INT(st.sim[2], 1);
    CHECK_EQ_INT(st.fallback[1] + st.fallback[2], 0);
    trn_runtime_destroy(rt);
    trn_plan_opcost_sim_destroy(s);

    /* MLA attention (DeepSeek-V3) has no lowering: the roofline, counted */
    trn_model *ds = load("deepseek-v3");
    s = provider(m, "trn2", ds);
    c = trn_plan_opcost_sim_provider(s);
    op = attn(mc, 1, 32, 512, 512);
    trn_plan_op_time tr;
    trn_plan_roofline_time(&m->roof, &op, &tr);
    c.time(c.ctx, &op, &t);
    CHECK(t.seconds == tr.seconds);
    trn_plan_opcost_sim_stats_get(s, &st);
    CHECK_EQ_INT(st.fallback[1], 1);
    CHECK_EQ_INT(st.sim[1], 0);
    trn_plan_opcost_sim_destroy(s);
    trn_model_destroy(ds);
    trn_plan_machine_destroy(m);
    trn_model_destroy(md);
}

static void test_planner(void) {
    /* Llama-3-8B on 4 trn2 chips, seq 512: the search with either provider */
    trn_model *md = load("llama-3-8b");
    trn_plan_machine *m = machine("trn2.48xlarge", 4);
    trn_plan_train w = {512, 32, TRN_HW_BF16, 0};
    trn_plan_config cfg = {1, 1, 4, 1, 1, 1, 1};
    trn_plan_train_result roof, sim;
    trn_err err = {0};
    CHECK_EQ_INT(trn_plan_train_eval(m, md, &w, &cfg, TRN_PLAN_RECOMPUTE_NONE, &roof, &err),
                 TRN_OK);
    trn_plan_opcost_sim *s = provider(m, "trn2", md);
    m->cost = trn_plan_opcost_sim_provider(s);
    CHECK_EQ_INT(trn_plan_train_eval(m, md, &w, &cfg, TRN_PLAN_RECOMPUTE_NONE, &sim, &err), TRN_OK);
    CHECK(isfinite(sim.step_time_s) && sim.step_time_s > 0);
    /* GEMMs dominate the compute; the simulator's lowered GEMMs reach ~0.9 of peak on these
       shapes against the catalog's gemm_efficiency (0.33): compute drops to between that
       ratio and ~0.6 of the roofline's */
    double ratio = sim.bd.compute_s / roof.bd.compute_s;
    printf("train 8B, 4 x trn2, seq 512: compute %.4g s (sim) vs %.4g s (roofline), ratio %.3f; "
           "step %.4g vs %.4g s\n",
           sim.bd.compute_s, roof.bd.compute_s, ratio, sim.step_time_s, roof.step_time_s);
    CHECK(ratio > m->roof.gemm_eff * 0.9 && ratio < 0.6);
    CHECK(sim.step_time_s < roof.step_time_s);
    trn_plan_train_result top[3];
    int found = 0;
    trn_plan_search_stats ss;
    CHECK_EQ_INT(
        trn_plan_train_search(m, md, &w, NULL, TRN_PLAN_THROUGHPUT, top, 3, &found, &ss, &err),
        TRN_OK);
    CHECK(found >= 1 && isfinite(top[0].step_time_s) && top[0].step_time_s > 0);
    trn_plan_opcost_sim_stats st;
    trn_plan_opcost_sim_stats_get(s, &st);
    printf("search: %lld configurations, %lld shapes simulated in %.2f s, %lld cache hits\n",
           (long long)ss.evaluated, (long long)st.shapes, st.sim_wall_s, (long long)st.hits);
    CHECK(st.hits > st.shapes);
    CHECK(st.sim[0] > 0 && st.sim[1] > 0 && st.sim[2] > 0);
    trn_plan_opcost_sim_destroy(s);
    trn_plan_machine_destroy(m);
    trn_model_destroy(md);
}

int main(void) {
    trn_err err = {0};
    if (trn_hw_create(&hw, &err) != TRN_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    test_gemm();
    test_attention_and_rows();
    test_planner();
    /* an unknown chip is named */
    trn_plan_opcost_sim *s = NULL;
    trn_plan_roofline r;
    memset(&r, 0, sizeof r);
    trn_model *md = load("llama-3-8b");
    CHECK_EQ_INT(trn_plan_opcost_sim_create(hw, "h100", md, &r, &s, &err), TRN_E_NOTFOUND);
    CHECK(strstr(err.msg, "h100") != NULL);
    trn_model_destroy(md);
    trn_hw_destroy(hw);
    return test_summary();
}

/* The runtime: program cache keyed by op shape and chip, functional runs with inputs and
 * outputs bound by name (checked against a plain C sum), timing-only profiles equal to the
 * timing model run directly on the same program, and the planner's op costs (cached, and a
 * GEMM's seconds equal to its profile's time). LABELS: unit */
#include "test_lower_util.h"
#include "trnsim/runtime.h"
#include "trnsim/timing.h"

static trn_hw *hw;

static void test_run_and_cache(void) {
    trn_runtime *rt = NULL;
    trn_err err = {0};
    CHECK_EQ_INT(trn_runtime_create(hw, "trn2", &rt, &err), TRN_OK);
    enum { M = 130, N = 300 };
    static double a[M * N], b[M * N], y[M * N];
    uint64_t s = 3;
    for (int i = 0; i < M * N; i++)
        a[i] = ct_bf16(ct_uniform(&s, -1, 1)), b[i] = ct_bf16(ct_uniform(&s, -1, 1));
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_ADD, op.m = M, op.n = N, op.dtype = TRN_DTYPE_BF16,
    op.out_dtype = TRN_DTYPE_F32;
    trn_binding in[2] = {{"a", a, M * N}, {"b", b, M * N}}, out[1] = {{"y", y, M * N}};
    trn_op_profile pr;
    CHECK_EQ_INT(trn_runtime_run(rt, &op, in, 2, out, 1, &pr, &err), TRN_OK);
    int bad = 0;
    for (int i = 0; i < M * N; i++) bad += (float)y[i] != (float)a[i] + (float)b[i];
    CHECK_EQ_INT(bad, 0);
    CHECK(pr.time_ns > 0 && pr.instrs > 0);
    CHECK_EQ_INT(pr.hbm_read_bytes, 2 * M * N * 2);
    CHECK_EQ_INT(pr.hbm_write_bytes, M * N * 4);
    /* the same shape again: a cache hit, the same profile */
    trn_op_profile p2;
    CHECK_EQ_INT(trn_runtime_time(rt, &op, &p2, &err), TRN_OK);
    CHECK(p2.time_ns == pr.time_ns);
    int progs;
    uint64_t hits, misses;
    trn_runtime_cache_stats(rt, &progs, &hits, &misses);
    CHECK_EQ_INT(progs, 1);
    CHECK_EQ_INT(hits, 1);
    CHECK_EQ_INT(misses, 1);
    /* binding errors name the tensor */
    trn_binding bad1[2] = {{"a", a, M * N}, {"c", b, M * N}};
    CHECK_EQ_INT(trn_runtime_run(rt, &op, bad1, 2, out, 1, NULL, &err), TRN_E_INVALID);
    CHECK(strstr(err.msg, "'b'") != NULL);
    trn_binding bad2[2] = {{"a", a, M * N - 1}, {"b", b, M * N}};
    CHECK_EQ_INT(trn_runtime_run(rt, &op, bad2, 2, out, 1, NULL, &err), TRN_E_INVALID);
    CHECK(strstr(err.msg, "'a'") != NULL && strstr(err.msg, "39000") != NULL);
    trn_binding bad3[1] = {{"z", y, M * N}};
    CHECK_EQ_INT(trn_runtime_run(rt, &op, in, 2, bad3, 1, NULL, &err), TRN_E_INVALID);
    CHECK(strstr(err.msg, "output named 'z'") != NULL);
    /* another shape is another program */
    op.n = N + 1;
    CHECK_EQ_INT(trn_runtime_time(rt, &op, &p2, &err), TRN_OK);
    trn_runtime_cache_stats(rt, &progs, NULL, NULL);
    CHECK_EQ_INT(progs, 2);
    trn_runtime_destroy(rt);
    CHECK_EQ_INT(trn_runtime_create(hw, "trn9", &rt, &err), TRN_E_NOTFOUND);
    CHECK(rt == NULL && strstr(err.msg, "trn9") != NULL);
}

/* The chip's cost of a GEMM is the time of its per-core piece (split rule of runtime.h), as
 * the timing model gives it for the lowered program; more work never costs less. */
static void test_costs(void) {
    trn_runtime *rt = NULL;
    trn_err err = {0};
    CHECK_EQ_INT(trn_runtime_create(hw, "trn3", &rt, &err), TRN_OK);
    /* split rule on 8 cores: N in panels, else M in tiles, else N evenly */
    int64_t pm, pn;
    trn_runtime_gemm_split(rt, 2048, 14336, &pm, &pn);
    CHECK(pm == 2048 && pn == 2048); /* 28 panels over 8 cores: 4 each */
    trn_runtime_gemm_split(rt, 2048, 1024, &pm, &pn);
    CHECK(pm == 256 && pn == 1024);
    trn_runtime_gemm_split(rt, 512, 1024, &pm, &pn);
    CHECK(pm == 512 && pn == 128);
    double s1 = 0, s2 = 0, s3 = 0;
    CHECK_EQ_INT(trn_runtime_gemm_seconds(rt, 512, 1024, 1024, TRN_PREC_BF16, &s1, &err), TRN_OK);
    CHECK_EQ_INT(trn_runtime_gemm_seconds(rt, 512, 2048, 1024, TRN_PREC_BF16, &s2, &err), TRN_OK);
    CHECK(s1 > 0 && s2 > s1);
    /* the cost is the timing model's time of the lowered per-core program */
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_LINEAR, op.m = 512, op.k = 1024, op.n = 128;
    op.dtype = op.out_dtype = TRN_DTYPE_BF16;
    const trn_program *p;
    CHECK_EQ_INT(trn_runtime_program(rt, &op, &p, &err), TRN_OK);
    trn_timing *tm = NULL;
    const trn_hw_chip *hc = trn_hw_chip_get(hw, "trn3");
    CHECK_EQ_INT(trn_timing_run(p, hc->core, hc, NULL, &tm, &err), TRN_OK);
    CHECK(trn_timing_report_get(tm)->total_ns * 1e-9 == s1);
    trn_timing_destroy(tm);
    /* at least the FLOPs at the chip's bf16 peak (cores x the core peak from the catalog) */
    CHECK(s1 >= 2.0 * 512 * 1024 * 1024 / trn_hw_chip_peak_flops(hc, TRN_HW_BF16));
    CHECK_EQ_INT(trn_runtime_attention_seconds(rt, 32, 8, 128, 1, 1024, &s3, &err), TRN_OK);
    CHECK(s3 > 0);
    CHECK_EQ_INT(trn_runtime_rowop_seconds(rt, TRN_LOWER_RMSNORM, 256, 1024, &s3, &err), TRN_OK);
    CHECK(s3 > 0);
    CHECK_EQ_INT(trn_runtime_rowop_seconds(rt, TRN_LOWER_LINEAR, 256, 1024, &s3, &err),
                 TRN_E_INVALID);
    CHECK_EQ_INT(trn_runtime_gemm_seconds(rt, 512, 1000, 1024, TRN_PREC_MXFP8, &s3, &err),
                 TRN_E_UNSUPPORTED); /* mxfp8 needs k a multiple of 512 */
    int progs;
    uint64_t hits;
    trn_runtime_cache_stats(rt, &progs, &hits, NULL);
    CHECK_EQ_INT(progs, 4);
    CHECK_EQ_INT(hits, 1);
    trn_runtime_destroy(rt);
}

int main(void) {
    if (trn_hw_create(&hw, NULL) != TRN_OK) return 2;
    test_run_and_cache();
    test_costs();
    trn_hw_destroy(hw);
    ct_done();
    return test_summary();
}

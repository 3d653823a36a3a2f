/* ATTENTION lowered to NeuronCore programs (flash style, GQA, causal), run on the functional
 * core against a plain double-precision softmax(q k^T / sqrt(d)) v over the visible keys.
 * The kernel rounds P to bf16 for the PV matmuls (relative error <= 2^-9 per weight) and
 * computes exp with ScalarE's libm-accurate function, so the check is an NMSE bound of 2e-5 on
 * the output (measured 1.1e-6 to 1.9e-6). Shapes: prefill with q_len < kv_len (a prefix already in
 * the cache), partial query tiles and key blocks crossing the mask diagonal; decode (q_len = 1)
 * with the GQA group on the partitions, with every kv head resident and with per-head loads.
 * LABELS: unit */
#include <math.h>

#include "test_lower_util.h"

/* ATTENTION lowered to NeuronCore programs (flash style, GQA, causal), run on the functional
 * core against a plain double-precision attention over the visible keys: softmax of q.k * scale
 * over keys [max(0, p - window + 1), p] of query position p (every key up to p without a
 * window), with the head's sink logit (GPT-OSS) joining the denominator when given, times v.
 * The kernel rounds P to bf16 for the PV matmuls (relative error <= 2^-9 per weight) and
 * computes exp with ScalarE's libm-accurate function, so the check is an NMSE bound of 2e-5 on
 * the output (measured 1.1e-6 to 1.9e-6). Sinks, window and scale leave that bound as it is:
 * the sink enters exactly (an FP32 copy of the logit as the initial running max, and
 * exp(sink - m) = 1 as the initial sum, rescaled like any block's sum), the window only removes
 * keys (the masked ones are -inf, exp gives exactly 0), and the scale is the same FP32 factor
 * inside ScalarE's exp; P is still rounded once to bf16. Shapes: prefill with q_len < kv_len (a
 * prefix already in the cache), partial query tiles and key blocks crossing the mask diagonal;
 * decode (q_len = 1) with the GQA group on the partitions, with every kv head resident and with
 * per-head loads; windows smaller than, equal to and larger than the context, not multiples of
 * the 128-key chunk, with and without sinks and scale, on NeuronCore-v2, v3 and v4. Timing: a
 * windowed prefill's simulated time against the full causal one and against its own at half
 * the context, and the FLOPs it reports.
 * LABELS: unit */
#include <math.h>

#include "test_lower_util.h"
#include "trnsim/runtime.h"

typedef struct feat {
    int64_t window; /* 0: every key */
    int sinks;
    double scale; /* 0: 1 / sqrt(d) */
} feat;

static void run_attn_f(int ver, int64_t S, int64_t L, int64_t H, int64_t HK, int64_t D, feat f) {
    uint64_t s = (uint64_t)(S * 131 + L + f.window * 7 + f.sinks);
    size_t nq = (size_t)(S * H * D), nk = (size_t)(L * HK * D);
    double *q = malloc(nq * sizeof *q), *k = malloc(nk * sizeof *k), *v = malloc(nk * sizeof *v);
    double *o = malloc(nq * sizeof *o), *sk = malloc((size_t)H * sizeof *sk);
    float *ref = malloc(nq * sizeof *ref);
    for (size_t i = 0; i < nq; i++) q[i] = ct_bf16(ct_uniform(&s, -2, 2));
    for (size_t i = 0; i < nk; i++) k[i] = ct_bf16(ct_uniform(&s, -2, 2));
    for (size_t i = 0; i < nk; i++) v[i] = ct_bf16(ct_uniform(&s, -1, 1));
    /* sink logits around the scores' range, some above every score of a row */
    for (int64_t h = 0; h < H; h++) sk[h] = ct_uniform(&s, -1, 3);
    double scale = f.scale > 0 ? f.scale : 1 / sqrt((double)D);
    double *w = malloc((size_t)L * sizeof *w);
    for (int64_t i = 0; i < S; i++)
        for (int64_t h = 0; h < H; h++) {
            int64_t kh = h / (H / HK), pos = L - S + i;
            int64_t lo = f.window > 0 && pos - f.window + 1 > 0 ? pos - f.window + 1 : 0;
            double mx = f.sinks ? sk[h] : -INFINITY, sum = 0;
            for (int64_t j = lo; j <= pos; j++) {
                double d = 0;
                for (int64_t c = 0; c < D; c++)
                    d += q[(i * H + h) * D + c] * k[(j * HK + kh) * D + c];
                w[j] = d * scale;
                mx = fmax(mx, w[j]);
            }
            for (int64_t j = lo; j <= pos; j++) sum += (w[j] = exp(w[j] - mx));
            if (f.sinks) sum += exp(sk[h] - mx);
            for (int64_t c = 0; c < D; c++) {
                double a = 0;
                for (int64_t j = lo; j <= pos; j++) a += w[j] * v[(j * HK + kh) * D + c];
                ref[(i * H + h) * D + c] = (float)(a / sum);
            }
        }
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_ATTENTION;
    op.dtype = TRN_DTYPE_BF16, op.out_dtype = TRN_DTYPE_F32;
    op.m = op.q_len = S, op.kv_len = L, op.heads = H, op.kv_heads = HK, op.head_dim = D;
    op.window = f.window, op.sinks = f.sinks, op.scale = f.scale;
    trn_program *p = lt_compile(&op, ver);
    trn_core *c = ct_core(p, ver, NULL);
    ct_put(c, "q", q, nq);
    ct_put(c, "k", k, nk);
    ct_put(c, "v", v, nk);
    if (f.sinks) ct_put(c, "sinks", sk, (size_t)H);
    lt_run(c, "attention");
    CHECK_EQ_INT(ct_get(c, "o", o, nq), 0);
    double num = 0, den = 0;
    for (size_t i = 0; i < nq; i++)
        num += (o[i] - ref[i]) * (o[i] - ref[i]), den += (double)ref[i] * ref[i];
    CHECK_MSG(num / den <= 2e-5, "attention v%d S=%lld L=%lld W=%lld sinks=%d: NMSE %.3g", ver,
              (long long)S, (long long)L, (long long)f.window, f.sinks, num / den);
    trn_core_destroy(c);
    trn_program_destroy(p);
    free(q), free(k), free(v), free(o), free(sk), free(ref), free(w);
}

static void run_attn(int ver, int64_t S, int64_t L, int64_t H, int64_t HK, int64_t D) {
    run_attn_f(ver, S, L, H, HK, D, (feat){0, 0, 0});
}

/* Visible keys of every query counted one by one. */
static double flops_direct(int64_t S, int64_t L, int64_t H, int64_t D, int64_t W) {
    double keys = 0;
    for (int64_t i = 0; i < S; i++) {
        int64_t p = L - S + i, n = p + 1;
        keys += (double)(W > 0 && W < n ? W : n);
    }
    return 4.0 * (double)(H * D) * keys;
}

/* Prefills under a 128-key window (with sinks) against full causal attention, 2048 and 4096
 * tokens: the kernel visits only the key blocks inside each tile's window and loads only the
 * keys the tiles reach, so its time grows with the context (4096 against 2048: 1.6 to 2.2x)
 * while full attention's grows with its square, and at 4096 tokens it is under a quarter of
 * it (visible keys 4096 x 128 - 128 x 127 / 2 against 4096 x 4097 / 2: 6%, the per-tile fixed
 * work on top). The FLOPs count the visible keys. */
static void test_window_time(int ver) {
    trn_hw *hw = NULL;
    trn_runtime *rt = NULL;
    trn_err err = {0};
    CHECK_EQ_INT(trn_hw_create(&hw, NULL), TRN_OK);
    CHECK_EQ_INT(trn_runtime_create(hw, ver == 3 ? "trn2" : "trn3", &rt, &err), TRN_OK);
    trn_op_profile full[2], win[2];
    for (int i = 0; i < 2; i++) {
        trn_lower_op op = {0};
        op.kind = TRN_LOWER_ATTENTION;
        op.dtype = op.out_dtype = TRN_DTYPE_BF16;
        op.m = op.q_len = op.kv_len = 2048 << i, op.heads = 4, op.kv_heads = 1;
        op.head_dim = 64;
        CHECK_EQ_INT(trn_runtime_time(rt, &op, &full[i], &err), TRN_OK);
        op.window = 128, op.sinks = 1;
        CHECK_EQ_INT(trn_runtime_time(rt, &op, &win[i], &err), TRN_OK);
        double n = 2048 << i;
        CHECK_NEAR(win[i].flops, 4.0 * 64 * 4 * (n * 128 - 128.0 * 127 / 2), 0.5);
        CHECK_NEAR(full[i].flops, 4.0 * 64 * 4 * (n * (n + 1) / 2), 0.5);
    }
    CHECK_MSG(win[1].time_ns < full[1].time_ns / 4, "v%d window 128 of 4096: %.1f us, full %.1f us",
              ver, win[1].time_ns * 1e-3, full[1].time_ns * 1e-3);
    double g = win[1].time_ns / win[0].time_ns;
    CHECK_MSG(g > 1.6 && g < 2.2, "v%d window 128: %.1f us at 4096 tokens, %.1f us at 2048", ver,
              win[1].time_ns * 1e-3, win[0].time_ns * 1e-3);
    trn_runtime_destroy(rt);
    trn_hw_destroy(hw);
}

static void test_flops(void) {
    /* windows below, at and past the first query's keys, not multiples of 128, prefix or not */
    int64_t cases[][5] = {{200, 260, 4, 64, 100}, {200, 260, 4, 64, 61},   {200, 260, 4, 64, 60},
                          {200, 260, 4, 64, 260}, {200, 260, 4, 64, 1000}, {1, 700, 8, 128, 300},
                          {1, 700, 8, 128, 0},    {130, 130, 2, 32, 1},    {130, 130, 2, 32, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        trn_lower_op op = {0};
        op.kind = TRN_LOWER_ATTENTION;
        op.q_len = op.m = cases[i][0], op.kv_len = cases[i][1], op.heads = cases[i][2];
        op.head_dim = cases[i][3], op.window = cases[i][4];
        double want = flops_direct(op.q_len, op.kv_len, op.heads, op.head_dim, op.window);
        CHECK_MSG(trn_lower_flops(&op) == want, "flops case %zu: %.17g, expected %.17g", i,
                  trn_lower_flops(&op), want);
    }
}

static void test_errors(void) {
    trn_lower_op op = {0};
    trn_err err = {0};
    op.kind = TRN_LOWER_ATTENTION, op.dtype = op.out_dtype = TRN_DTYPE_BF16;
    op.m = op.q_len = 4, op.kv_len = 8, op.heads = 6, op.kv_heads = 4, op.head_dim = 64;
    CHECK_EQ_INT(trn_lower_check(&op, ct_target(3), &err), TRN_E_INVALID);
    CHECK(strstr(err.msg, "kv_heads") != NULL);
    op.kv_heads = 2, op.head_dim = 256;
    CHECK_EQ_INT(trn_lower_check(&op, ct_target(3), &err), TRN_E_UNSUPPORTED);
    op.head_dim = 64, op.kv_len = 2;
    CHECK_EQ_INT(trn_lower_check(&op, ct_target(3), &err), TRN_E_INVALID);
    CHECK(strstr(err.msg, "q_len") != NULL);
    /* n, when given, is the width of q and o */
    op.kv_len = 8, op.n = 5;
    char *t0 = NULL;
    CHECK_EQ_INT(trn_lower_emit(&op, ct_target(3), &t0, &err), TRN_E_INVALID);
    CHECK(t0 == NULL && strstr(err.msg, "n = 5") != NULL);
    op.n = 0;
    /* one head's K and V must fit SBUF: a 64K-token cache is a clear error, not an overflow */
    op.q_len = op.m = 1, op.kv_len = 65536;
    char *txt = NULL;
    CHECK_EQ_INT(trn_lower_emit(&op, ct_target(3), &txt, &err), TRN_E_UNSUPPORTED);
    CHECK(txt == NULL && strstr(err.msg, "SBUF") != NULL && strstr(err.msg, "attention") != NULL);
    /* window, sinks and scale out of range name the field */
    op.kv_len = 8, op.window = -1;
    CHECK_EQ_INT(trn_lower_check(&op, ct_target(3), &err), TRN_E_INVALID);
    CHECK(strstr(err.msg, "window = -1") != NULL);
    op.window = 4, op.sinks = 2;
    CHECK_EQ_INT(trn_lower_check(&op, ct_target(3), &err), TRN_E_INVALID);
    CHECK(strstr(err.msg, "sinks = 2") != NULL);
    op.sinks = 1, op.scale = -0.5;
    CHECK_EQ_INT(trn_lower_check(&op, ct_target(3), &err), TRN_E_INVALID);
    CHECK(strstr(err.msg, "scale") != NULL);
    op.scale = NAN;
    CHECK_EQ_INT(trn_lower_check(&op, ct_target(3), &err), TRN_E_INVALID);
    op.scale = INFINITY;
    CHECK_EQ_INT(trn_lower_check(&op, ct_target(3), &err), TRN_E_INVALID);
    op.scale = 0.25;
    CHECK_EQ_INT(trn_lower_check(&op, ct_target(3), &err), TRN_OK);
}

int main(void) {
    run_attn(3, 200, 260, 4, 2, 64); /* prefill after a 60-token prefix, GQA 2:1 */
    run_attn(2, 130, 130, 2, 1, 32);
    run_attn(4, 1, 700, 8, 2, 128); /* decode: 4 heads per kv head, 2 key blocks */
    run_attn(3, 1, 37, 4, 4, 16);   /* decode, MHA, one short block */
    /* decode with a cache too large to keep every kv head resident: per-head loads (key
     * C0 p + c, then a 64-key tail chunk), 4 key blocks */
    run_attn(3, 1, 1600, 16, 16, 128);
    /* prefill, window smaller than the context, not a multiple of 128 (tiles start past key
     * 0, blocks masked below and on the diagonal), sinks, a scale of its own, GQA 2:1 */
    run_attn_f(3, 200, 260, 4, 2, 64, (feat){100, 1, 0.1});
    run_attn_f(4, 640, 640, 4, 1, 32, (feat){200, 1, 0});
    run_attn_f(2, 300, 700, 2, 1, 64, (feat){129, 1, 0});
    run_attn_f(3, 130, 130, 2, 1, 32, (feat){1, 0, 0}); /* each query sees itself only */
    /* a window over two 512-key blocks, no sinks, GQA 3:1 (groups of 4 tiles cut
     * across query rows) */
    run_attn_f(3, 1100, 1100, 6, 2, 32, (feat){600, 0, 0.3});
    /* three kv heads: the third reuses the first one's K/V ring slot, loaded while the second
     * one's last group runs; with and without a window */
    run_attn_f(4, 300, 300, 6, 3, 32, (feat){0, 1, 0});
    run_attn_f(2, 300, 300, 6, 3, 32, (feat){150, 1, 0});
    /* window equal to and larger than the context: every key, as without one */
    run_attn_f(2, 130, 130, 2, 1, 32, (feat){130, 1, 0});
    run_attn_f(4, 200, 260, 4, 2, 64, (feat){1000, 0, 0.2});
    /* decode: only the last W keys are read; every kv head resident, a short one, per head */
    run_attn_f(4, 1, 700, 8, 2, 128, (feat){300, 1, 0});
    run_attn_f(3, 1, 700, 8, 2, 128, (feat){700, 1, 0.05});
    run_attn_f(2, 1, 130, 8, 1, 64, (feat){100, 1, 0});
    run_attn_f(3, 1, 37, 4, 4, 16, (feat){1000, 1, 0});
    run_attn_f(3, 1, 1700, 16, 16, 128, (feat){1500, 1, 0});
    test_window_time(3);
    test_window_time(4);
    test_flops();
    test_errors();
    ct_done();
    return test_summary();
}

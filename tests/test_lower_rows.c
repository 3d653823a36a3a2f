/* Row ops lowered to NeuronCore programs, run on the functional core against plain C
 * references: ADD, MUL and ROPE bit-exact (each VectorE op is one FP32 IEEE operation with one
 * rounding, the reference does the same operations in the same order); RMSNORM, LAYERNORM,
 * SOFTMAX and SWIGLU, whose ScalarE functions (rsqrt, exp, silu) are libm-accurate in the
 * simulator and whose statistics are FP32 sums, against double-precision references within an
 * NMSE of 1e-5 (bf16 output) or 1e-11 (f32 output). Rows are not multiples of 128 (a partial last
 * tile), columns not multiples of 512; rows of 20000 columns take the streamed two-pass norms,
 * and 75 heads of 128 in f32 take RoPE's head groups. LABELS: unit */
#include <math.h>

#include "test_lower_util.h"

static double *rnd(size_t n, uint64_t *s, float lo, float hi, trn_dtype t) {
    double *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = lt_round(t, ct_uniform(s, lo, hi));
    return v;
}

static void check_out(const char *what, int ver, const double *y, const float *ref, size_t n,
                      trn_dtype yt, int exact) {
    if (exact) {
        size_t bad = 0;
        for (size_t i = 0; i < n; i++) bad += test_f32_bits((float)y[i]) != test_f32_bits(ref[i]);
        CHECK_MSG(bad == 0, "%s v%d: %zu of %zu differ", what, ver, bad, n);
    } else {
        /* NMSE bounds: the output rounding alone gives about ulp^2 / 12 (bf16 ~1.3e-6 at
         * worst, f32 ~2e-15); FP32 row statistics over hundreds of values add a few ULP */
        double num = 0, den = 0, bound = yt == TRN_DTYPE_BF16 ? 1e-5 : 1e-11;
        for (size_t i = 0; i < n; i++)
            num += (y[i] - ref[i]) * (y[i] - ref[i]), den += (double)ref[i] * ref[i];
        double e = den > 0 ? num / den : num;
        CHECK_MSG(e <= bound, "%s v%d: NMSE %.3g > %.3g", what, ver, e, bound);
    }
}

static void run_op(trn_lower_op *op, int ver, const char **in_names, double **in, size_t *in_n,
                   int nin, double *y, size_t ny) {
    trn_program *p = lt_compile(op, ver);
    trn_core *c = ct_core(p, ver, NULL);
    for (int i = 0; i < nin; i++) ct_put(c, in_names[i], in[i], in_n[i]);
    lt_run(c, trn_lower_kind_name(op->kind));
    CHECK_EQ_INT(ct_get(c, "y", y, ny), 0);
    trn_core_destroy(c);
    trn_program_destroy(p);
}

static void test_norms(int ver, trn_lower_kind kind, trn_dtype xt, trn_dtype yt, int M, int N) {
    uint64_t s = 77 + (uint64_t)kind + (uint64_t)N;
    /* an offset of 2 makes LAYERNORM's mean matter (a wide row's chunks combine their centred
     * sums of squares, Chan's formula) */
    double *x = rnd((size_t)M * N, &s, -3, kind == TRN_LOWER_LAYERNORM ? 7 : 3, xt);
    double *g = rnd(N, &s, 0.5, 1.5, TRN_DTYPE_BF16);
    double *b = rnd(N, &s, -1, 1, TRN_DTYPE_BF16), *y = malloc((size_t)M * N * sizeof *y);
    float *ref = malloc((size_t)M * N * sizeof *ref);
    trn_lower_op op = {0};
    op.kind = kind, op.m = M, op.n = N, op.dtype = xt, op.out_dtype = yt, op.eps = 1e-5;
    for (int r = 0; r < M; r++) {
        const double *xr = x + (size_t)r * N;
        double mean = 0, var = 0, mx = -INFINITY, se = 0;
        for (int i = 0; i < N; i++) mean += xr[i], mx = fmax(mx, xr[i]);
        mean /= N;
        for (int i = 0; i < N; i++)
            var += kind == TRN_LOWER_RMSNORM ? xr[i] * xr[i] : (xr[i] - mean) * (xr[i] - mean);
        var /= N;
        for (int i = 0; i < N; i++) se += exp(xr[i] - mx);
        for (int i = 0; i < N; i++) {
            double v;
            if (kind == TRN_LOWER_RMSNORM) /* x * rstd in the output dtype, then * g (HF) */
                v = (double)lt_round(yt, (float)(xr[i] / sqrt(var + 1e-5))) * g[i];
            else if (kind == TRN_LOWER_LAYERNORM)
                v = (xr[i] - mean) / sqrt(var + 1e-5) * g[i] + b[i];
            else
                v = exp(xr[i] - mx) / se;
            ref[(size_t)r * N + i] = lt_round(yt, (float)v);
        }
    }
    const char *names[3] = {"x", "g", "b"};
    double *ins[3] = {x, g, b};
    size_t ns[3] = {(size_t)M * N, N, N};
    int nin = kind == TRN_LOWER_SOFTMAX ? 1 : kind == TRN_LOWER_RMSNORM ? 2 : 3;
    run_op(&op, ver, names, ins, ns, nin, y, (size_t)M * N);
    check_out(trn_lower_kind_name(kind), ver, y, ref, (size_t)M * N, yt, 0);
    free(x), free(g), free(b), free(y), free(ref);
}

static void test_eltwise(int ver, trn_lower_kind kind, trn_dtype xt, trn_dtype yt) {
    enum { M = 200, N = 2600 }; /* two column chunks of 2048 and 552 */
    uint64_t s = 91 + (uint64_t)kind;
    double *a = rnd(M * N, &s, -4, 4, xt), *b = rnd(M * N, &s, -4, 4, xt);
    double *y = malloc(M * N * sizeof *y);
    float *ref = malloc(M * N * sizeof *ref);
    trn_lower_op op = {0};
    op.kind = kind, op.m = M, op.n = N, op.dtype = xt, op.out_dtype = yt;
    for (int i = 0; i < M * N; i++) {
        float fa = (float)a[i], fb = (float)b[i];
        if (kind == TRN_LOWER_ADD)
            ref[i] = lt_round(yt, fa + fb);
        else if (kind == TRN_LOWER_MUL)
            ref[i] = lt_round(yt, fa * fb);
        else /* silu(g) rounded to the input dtype first, as the kernel (and HF) do */
            ref[i] = lt_round(yt, lt_round(xt, (float)(a[i] / (1 + exp(-a[i])))) * fb);
    }
    const char *n1[2] = {"a", "b"}, *n2[2] = {"g", "u"};
    double *ins[2] = {a, b};
    size_t ns[2] = {M * N, M * N};
    run_op(&op, ver, kind == TRN_LOWER_SWIGLU ? n2 : n1, ins, ns, 2, y, M * N);
    check_out(trn_lower_kind_name(kind), ver, y, ref, M * N, yt, kind != TRN_LOWER_SWIGLU);
    free(a), free(b), free(y), free(ref);
}

static void test_rope(int ver, trn_dtype xt, trn_dtype yt, int H, int D) {
    enum { M = 150 };
    int D2 = D / 2;
    uint64_t s = 5;
    double *x = rnd(M * H * D, &s, -2, 2, xt);
    double *cs = malloc(M * D2 * sizeof *cs), *sn = malloc(M * D2 * sizeof *sn);
    for (int p = 0; p < M; p++)
        for (int i = 0; i < D2; i++) {
            double th = p * pow(10000.0, -2.0 * i / D);
            cs[p * D2 + i] = lt_round(xt, (float)cos(th));
            sn[p * D2 + i] = lt_round(xt, (float)sin(th));
        }
    double *y = malloc(M * H * D * sizeof *y);
    float *ref = malloc(M * H * D * sizeof *ref);
    for (int p = 0; p < M; p++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < D2; i++) {
                float x1 = (float)x[(p * H + h) * D + i], x2 = (float)x[(p * H + h) * D + D2 + i];
                float c = (float)cs[p * D2 + i], sv = (float)sn[p * D2 + i];
                /* the products rounded to the input dtype (as HF's bf16 math and the kernel) */
                float t1 = lt_round(xt, x1 * c), t2 = lt_round(xt, x2 * sv);
                float t3 = lt_round(xt, x2 * c), t4 = lt_round(xt, x1 * sv);
                ref[(p * H + h) * D + i] = lt_round(yt, t1 - t2);
                ref[(p * H + h) * D + D2 + i] = lt_round(yt, t3 + t4);
            }
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_ROPE, op.m = M, op.heads = H, op.head_dim = D;
    op.dtype = xt, op.out_dtype = yt;
    const char *names[3] = {"x", "cos", "sin"};
    double *ins[3] = {x, cs, sn};
    size_t ns[3] = {(size_t)(M * H * D), (size_t)(M * D2), (size_t)(M * D2)};
    run_op(&op, ver, names, ins, ns, 3, y, M * H * D);
    check_out("rope", ver, y, ref, M * H * D, yt, 1);
    free(x), free(cs), free(sn), free(y), free(ref);
}

static void test_errors(void) {
    trn_lower_op op = {0};
    trn_err err = {0};
    op.kind = TRN_LOWER_RMSNORM, op.m = 128, op.n = 64, op.dtype = op.out_dtype = TRN_DTYPE_BF16;
    CHECK_EQ_INT(trn_lower_check(&op, ct_target(3), &err), TRN_E_INVALID);
    CHECK(strstr(err.msg, "eps") != NULL);
    op.eps = 1e-6;
    op.n = 1 << 20; /* streamed rows, but the resident weight of 1M values cannot fit */
    char *txt = NULL;
    CHECK_EQ_INT(trn_lower_emit(&op, ct_target(3), &txt, &err), TRN_E_UNSUPPORTED);
    CHECK(strstr(err.msg, "SBUF") != NULL && strstr(err.msg, "rmsnorm") != NULL);
    op.kind = TRN_LOWER_ROPE, op.heads = 2, op.head_dim = 63;
    CHECK_EQ_INT(trn_lower_check(&op, ct_target(3), &err), TRN_E_INVALID);
    CHECK(strstr(err.msg, "head_dim") != NULL);
    CHECK_EQ_INT(trn_lower_kind_find("swiglu"), TRN_LOWER_SWIGLU);
    CHECK_EQ_INT(trn_lower_kind_find("conv"), -1);
}

int main(void) {
    test_norms(3, TRN_LOWER_RMSNORM, TRN_DTYPE_BF16, TRN_DTYPE_BF16, 300, 700);
    test_norms(2, TRN_LOWER_RMSNORM, TRN_DTYPE_F32, TRN_DTYPE_F32, 300, 700);
    test_norms(4, TRN_LOWER_LAYERNORM, TRN_DTYPE_BF16, TRN_DTYPE_F32, 300, 700);
    test_norms(3, TRN_LOWER_SOFTMAX, TRN_DTYPE_F32, TRN_DTYPE_F32, 300, 700);
    /* rows too wide for a whole row per partition: streamed in 2048-column chunks, the last
     * partial (20000 = 9 x 2048 + 1568); 130 rows give a partial second row tile */
    test_norms(3, TRN_LOWER_RMSNORM, TRN_DTYPE_BF16, TRN_DTYPE_BF16, 2, 20000);
    test_norms(2, TRN_LOWER_RMSNORM, TRN_DTYPE_F32, TRN_DTYPE_F32, 130, 20000);
    test_norms(4, TRN_LOWER_LAYERNORM, TRN_DTYPE_BF16, TRN_DTYPE_F32, 2, 20000);
    test_norms(2, TRN_LOWER_LAYERNORM, TRN_DTYPE_F32, TRN_DTYPE_F32, 130, 20000);
    test_norms(3, TRN_LOWER_SOFTMAX, TRN_DTYPE_F32, TRN_DTYPE_F32, 2, 20000);
    test_norms(4, TRN_LOWER_SOFTMAX, TRN_DTYPE_BF16, TRN_DTYPE_BF16, 130, 20000);
    test_eltwise(3, TRN_LOWER_ADD, TRN_DTYPE_BF16, TRN_DTYPE_BF16);
    test_eltwise(2, TRN_LOWER_MUL, TRN_DTYPE_F32, TRN_DTYPE_F32);
    test_eltwise(4, TRN_LOWER_SWIGLU, TRN_DTYPE_BF16, TRN_DTYPE_F32);
    test_rope(3, TRN_DTYPE_BF16, TRN_DTYPE_F32, 3, 64);
    test_rope(2, TRN_DTYPE_F32, TRN_DTYPE_F32, 3, 64);
    test_rope(4, TRN_DTYPE_BF16, TRN_DTYPE_BF16, 3, 64);
    /* 75 heads of 128 in f32 do not fit a 192 KiB partition: two head groups, 38 and 37 */
    test_rope(2, TRN_DTYPE_F32, TRN_DTYPE_F32, 75, 128);
    test_errors();
    ct_done();
    return test_summary();
}

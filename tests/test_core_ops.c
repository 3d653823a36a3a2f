/* Per-instruction semantics of the functional core (docs/semantics.md) against plain C
 * references written here. LABELS: unit
 *
 * Bit-exact: dma_copy casts, tensor_copy, nc_matmul (fmaf chain) with accumulate groups and
 * FP8 double_row, transposes (PE v3 bit-exact, PE v2 through the FMA chain, DVE), ALU ops of
 * tensor_tensor / tensor_scalar on FP32 and bitvec on int32, tensor_reduce, memset, iota,
 * affine_select, tensor_partition_reduce. Activation functions within 2 ULP of libm double.
 * Stochastic rounding: deterministic per seed, independent of everything else, and always
 * one of the two neighbours. */
#include <math.h>

#include "test_core_util.h"

enum { P = 128 };

/* Runs `text` (v `ver`) with input x (nx values) [and y] and returns output `out`. */
static trn_status run1(const char *text, int ver, const trn_core_opts *o, const double *x,
                       size_t nx, const double *y, size_t ny, double *out, size_t nout) {
    trn_program *p = ct_prog(text, "k.tasm", ver);
    trn_core *c = ct_core(p, ver, o);
    ct_put(c, "x", x, nx);
    if (y) ct_put(c, "y", y, ny);
    trn_err err = {0};
    trn_status s = trn_core_run(c, &err);
    if (s == TRN_OK)
        CHECK_EQ_INT(ct_get(c, "out", out, nout), 0);
    else
        fprintf(stderr, "run: %s\n", err.msg);
    trn_core_destroy(c);
    trn_program_destroy(p);
    return s;
}

static void test_dma_cast(void) {
    enum { F = 64 };
    static double x[P * F], out[P * F];
    uint64_t s = 1;
    for (int i = 0; i < P * F; i++) x[i] = ct_uniform(&s, -1000, 1000);
    x[0] = INFINITY, x[1] = -0.0, x[2] = 1e-40; /* subnormal stays */
    const char *k = ".input x f32 [128, 64]\n.output out f32 [128, 64]\n"
                    ".sbuf t bf16 [128, 64]\n.sbuf u bf16 [128, 64]\n"
                    "dma_copy dst=t src=x\ndma_copy dst=u src=t\ndma_copy dst=out src=u\n";
    CHECK(run1(k, 3, NULL, x, P * F, NULL, 0, out, P * F) == TRN_OK);
    int bad = 0;
    for (int i = 0; i < P * F; i++)
        bad += test_f32_bits((float)out[i]) != test_f32_bits(ct_bf16((float)x[i]));
    CHECK_MSG(bad == 0, "%d elements differ from RNE bf16", bad);
    /* HBM [128, 64] -> SBUF [64 partitions, 128]: element order is row-major on both sides */
    const char *k2 = ".input x f32 [128, 64]\n.output out f32 [64, 128]\n"
                     ".sbuf t f32 [64, 128]\ndma_copy dst=t src=x\ndma_copy dst=out src=t\n";
    CHECK(run1(k2, 3, NULL, x, P * F, NULL, 0, out, P * F) == TRN_OK);
    bad = 0;
    for (int i = 0; i < P * F; i++)
        bad += test_f32_bits((float)out[i]) != test_f32_bits((float)x[i]);
    CHECK_EQ_INT(bad, 0);
}

/* acc = fmaf chain of a[k][m] * b[k][n] from +0 */
static float ref_dot(const float *a, const float *b, int K, int M, int N, int m, int n) {
    float acc = 0.0f;
    for (int k = 0; k < K; k++) acc = fmaf(a[k * M + m], b[k * N + n], acc);
    return acc;
}

static void test_matmul(void) {
    enum { K = 128, M = 64, N = 96 };
    static double x[2 * K * M], y[2 * K * N], out[M * N];
    static float a[2 * K * M], b[2 * K * N];
    uint64_t s = 2;
    for (int i = 0; i < 2 * K * M; i++) x[i] = a[i] = ct_bf16(ct_uniform(&s, -2, 2));
    for (int i = 0; i < 2 * K * N; i++) y[i] = b[i] = ct_bf16(ct_uniform(&s, -2, 2));
    /* an accumulation group of two matmuls (x, y hold two K-slabs each) */
    const char *k = ".input x bf16 [256, 64]\n.input y bf16 [256, 96]\n.output out f32 [64, 96]\n"
                    ".sbuf xs bf16 [128, 2, 64]\n.sbuf ys bf16 [128, 2, 96]\n"
                    ".psum acc f32 [64, 96]\n.sbuf o f32 [64, 96]\n"
                    ".for j in 0..2\n dma_copy dst=xs[:, j, :] src=x[j*128:(j+1)*128, :]\n"
                    " dma_copy dst=ys[:, j, :] src=y[j*128:(j+1)*128, :]\n.end\n"
                    "nc_matmul dst=acc stationary=xs[:, 0, :] moving=ys[:, 0, :]\n"
                    "nc_matmul dst=acc stationary=xs[:, 1, :] moving=ys[:, 1, :] accumulate=true\n"
                    "tensor_copy dst=o src=acc\ndma_copy dst=out src=o\n";
    CHECK(run1(k, 3, NULL, x, 2 * K * M, y, 2 * K * N, out, M * N) == TRN_OK);
    int bad = 0;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            float t0 = ref_dot(a, b, K, M, N, m, n);
            float t1 = ref_dot(a + K * M, b + K * N, K, M, N, m, n);
            bad += test_f32_bits((float)out[m * N + n]) != test_f32_bits(t0 + t1);
        }
    CHECK_MSG(bad == 0, "%d of %d matmul elements differ from the fmaf chain", bad, M * N);

    /* FP8 double_row (v3): [64, 2, M] is K = 128 in the order k = 2p + r */
    static double x8[128 * 32], y8[128 * 48], out8[32 * 48];
    static float a8[128 * 32], b8[128 * 48];
    for (int i = 0; i < 128 * 32; i++) x8[i] = a8[i] = (float)((int)(test_rnd64(&s) % 17) - 8) / 4;
    for (int i = 0; i < 128 * 48; i++) y8[i] = b8[i] = (float)((int)(test_rnd64(&s) % 17) - 8) / 2;
    const char *k8 = ".input x fp8_e4m3_legacy [64, 2, 32]\n.input y fp8_e5m2 [64, 2, 48]\n"
                     ".output out f32 [32, 48]\n.sbuf xs fp8_e4m3_legacy [64, 2, 32]\n"
                     ".sbuf ys fp8_e5m2 [64, 2, 48]\n.psum acc f32 [32, 48]\n.sbuf o f32 [32, 48]\n"
                     "dma_copy dst=xs src=x\ndma_copy dst=ys src=y\n"
                     "nc_matmul dst=acc stationary=xs moving=ys perf_mode=double_row\n"
                     "tensor_copy dst=o src=acc\ndma_copy dst=out src=o\n";
    CHECK(run1(k8, 3, NULL, x8, 128 * 32, y8, 128 * 48, out8, 32 * 48) == TRN_OK);
    bad = 0;
    for (int m = 0; m < 32; m++)
        for (int n = 0; n < 48; n++)
            bad += test_f32_bits((float)out8[m * 48 + n]) !=
                   test_f32_bits(ref_dot(a8, b8, 128, 32, 48, m, n));
    CHECK_MSG(bad == 0, "double_row: %d elements differ", bad);
}

static void test_transpose(void) {
    enum { R = 96, C = 64 };
    static double x[R * C], out[R * C];
    uint64_t s = 3;
    for (int i = 0; i < R * C; i++) x[i] = ct_bf16(ct_uniform(&s, -8, 8));
    x[5] = INFINITY, x[7] = -0.0;
    const char *k = ".input x bf16 [96, 64]\n.output out bf16 [64, 96]\n.sbuf xs bf16 [96, 64]\n"
                    ".psum tp bf16 [64, 96]\n.sbuf o bf16 [64, 96]\n"
                    "dma_copy dst=xs src=x\nnc_transpose dst=tp data=xs\n"
                    "tensor_copy dst=o src=tp\ndma_copy dst=out src=o\n";
    CHECK(run1(k, 3, NULL, x, R * C, NULL, 0, out, R * C) == TRN_OK);
    int bad = 0;
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++)
            bad += test_f32_bits((float)out[c * R + r]) != test_f32_bits((float)x[r * C + c]);
    CHECK_MSG(bad == 0, "PE transpose v3: %d elements not bit-exact", bad);
    /* v2: a matmul against the identity, so the Inf poisons its column (Inf * 0 = NaN) and
     * -0 becomes +0 (the chain starts from +0) */
    const char *k2 = ".input x f32 [96, 64]\n.output out f32 [64, 96]\n.sbuf xs f32 [96, 64]\n"
                     ".psum tp f32 [64, 96]\n.sbuf o f32 [64, 96]\n"
                     "dma_copy dst=xs src=x\nnc_transpose dst=tp data=xs\n"
                     "tensor_copy dst=o src=tp\ndma_copy dst=out src=o\n";
    CHECK(run1(k2, 2, NULL, x, R * C, NULL, 0, out, R * C) == TRN_OK);
    CHECK(isinf(out[5 * R + 0]) && isnan(out[5 * R + 1]) && isnan(out[5 * R + 95]));
    CHECK_BITS_F32((float)out[7 * R + 0], 0.0f);
    CHECK_BITS_F32((float)out[8 * R + 0], (float)x[8]);
    /* DVE 32 x 32 */
    const char *k3 = ".input x f32 [32, 32]\n.output out f32 [32, 32]\n.sbuf xs f32 [32, 32]\n"
                     ".sbuf o f32 [32, 32]\ndma_copy dst=xs src=x\n"
                     "nc_transpose dst=o data=xs engine=vector\ndma_copy dst=out src=o\n";
    CHECK(run1(k3, 2, NULL, x, 32 * 32, NULL, 0, out, 32 * 32) == TRN_OK);
    bad = 0;
    for (int r = 0; r < 32; r++)
        for (int c = 0; c < 32; c++)
            bad += test_f32_bits((float)out[c * 32 + r]) != test_f32_bits((float)x[r * 32 + c]);
    CHECK_EQ_INT(bad, 0);
    /* nc_matmul is_transpose with an identity moving (v3): bit copy */
    static double id[64 * 64];
    for (int i = 0; i < 64 * 64; i++) id[i] = i / 64 == i % 64;
    const char *k4 = ".input x bf16 [64, 96]\n.input y bf16 [64, 64]\n.output out bf16 [96, 64]\n"
                     ".sbuf xs bf16 [64, 96]\n.sbuf ys bf16 [64, 64]\n.psum tp bf16 [96, 64]\n"
                     ".sbuf o bf16 [96, 64]\ndma_copy dst=xs src=x\ndma_copy dst=ys src=y\n"
                     "nc_matmul dst=tp stationary=xs moving=ys is_transpose=true\n"
                     "tensor_copy dst=o src=tp\ndma_copy dst=out src=o\n";
    CHECK(run1(k4, 3, NULL, x, 64 * 96, id, 64 * 64, out, 96 * 64) == TRN_OK);
    bad = 0;
    for (int r = 0; r < 64; r++)
        for (int c = 0; c < 96; c++)
            bad += test_f32_bits((float)out[c * 64 + r]) != test_f32_bits((float)x[r * 96 + c]);
    CHECK_EQ_INT(bad, 0);
}

/* libm double references, written independently of the simulator's formulas */
static double ref_act(const char *f, double x) {
    if (!strcmp(f, "exp")) return exp(x);
    if (!strcmp(f, "tanh")) return tanh(x);
    if (!strcmp(f, "sigmoid")) return 0.5 + 0.5 * tanh(0.5 * x);
    if (!strcmp(f, "relu")) return x > 0 ? x : 0;
    if (!strcmp(f, "gelu")) return x * 0.5 * erfc(-x / sqrt(2.0));
    if (!strcmp(f, "gelu_apprx_tanh"))
        return 0.5 * x * (1 + tanh(sqrt(2 / acos(-1.0)) * (x + 0.044715 * pow(x, 3))));
    if (!strcmp(f, "silu")) return x / (1 + exp(-x));
    if (!strcmp(f, "rsqrt")) return pow(x, -0.5);
    if (!strcmp(f, "reciprocal")) return 1 / x;
    if (!strcmp(f, "sqrt")) return sqrt(x);
    if (!strcmp(f, "log")) return log(x);
    if (!strcmp(f, "sin")) return sin(x);
    if (!strcmp(f, "square")) return x * x;
    if (!strcmp(f, "copy")) return x;
    if (!strcmp(f, "erf")) return 1 - erfc(x);
    if (!strcmp(f, "softplus")) return log(1 + exp(x));
    if (!strcmp(f, "abs")) return fabs(x);
    return NAN;
}

static void test_activation(void) {
    static const char *fns[] = {
        "exp",    "tanh",  "sigmoid",    "relu",     "gelu", "gelu_apprx_tanh",
        "silu",   "rsqrt", "reciprocal", "sqrt",     "log",  "sin",
        "square", "copy",  "erf",        "softplus", "abs"};
    enum { F = 32 };
    static double x[P * F], out[P * F];
    uint64_t s = 4;
    for (size_t fi = 0; fi < sizeof fns / sizeof fns[0]; fi++) {
        int pos = !strcmp(fns[fi], "rsqrt") || !strcmp(fns[fi], "sqrt") || !strcmp(fns[fi], "log");
        for (int i = 0; i < P * F; i++)
            x[i] = pos                       ? ct_uniform(&s, 0.01f, 50)
                   : !strcmp(fns[fi], "sin") ? ct_uniform(&s, -3.14f, 3.14f)
                                             : ct_uniform(&s, -6, 6);
        char k[512];
        snprintf(k, sizeof k,
                 ".input x f32 [128, 32]\n.output out f32 [128, 32]\n.sbuf t f32 [128, 32]\n"
                 ".sbuf o f32 [128, 32]\ndma_copy dst=t src=x\nactivation dst=o data=t op=%s\n"
                 "dma_copy dst=out src=o\n",
                 fns[fi]);
        CHECK(run1(k, 3, NULL, x, P * F, NULL, 0, out, P * F) == TRN_OK);
        int64_t worst = 0;
        for (int i = 0; i < P * F; i++) {
            float want = (float)ref_act(fns[fi], x[i]);
            int64_t d = test_ulp_dist_((float)out[i], want);
            /* near a zero of the function, compare absolutely (relative error is unbounded) */
            if (fabsf(want) < 1e-6f && fabs(out[i] - (double)want) < 1e-12) d = 0;
            if (d > worst) worst = d;
        }
        CHECK_MSG(worst <= 2, "activation %s: %lld ulp from libm double", fns[fi],
                  (long long)worst);
    }
    /* scale (tile), bias (immediate) and the add reduction into reduce_res */
    static double red[P];
    for (int i = 0; i < P * F; i++) x[i] = ct_uniform(&s, -2, 2);
    const char *k = ".input x f32 [128, 32]\n.output out f32 [128, 1]\n.sbuf t f32 [128, 32]\n"
                    ".sbuf o f32 [128, 32]\n.sbuf sc f32 [128, 1]\n.sbuf r f32 [128, 1]\n"
                    "dma_copy dst=t src=x\ntensor_copy dst=sc src=t[:, 0:1]\n"
                    "activation dst=o data=t op=exp scale=sc bias=0.5 reduce_op=add reduce_res=r\n"
                    "dma_copy dst=out src=r\n";
    CHECK(run1(k, 3, NULL, x, P * F, NULL, 0, red, P) == TRN_OK);
    int bad = 0;
    for (int p = 0; p < P; p++) {
        float acc = 0.0f, sc = (float)x[p * F];
        for (int f = 0; f < F; f++) acc += (float)exp((double)fmaf((float)x[p * F + f], sc, 0.5f));
        bad += test_ulp_dist_((float)red[p], acc) > 2 * F;
    }
    CHECK_EQ_INT(bad, 0);
}

static float ref_alu(const char *op, float a, float b) {
    if (!strcmp(op, "add")) return a + b;
    if (!strcmp(op, "subtract")) return a - b;
    if (!strcmp(op, "multiply")) return a * b;
    if (!strcmp(op, "divide")) return a / b;
    if (!strcmp(op, "maximum")) return a > b ? a : b;
    if (!strcmp(op, "minimum")) return a < b ? a : b;
    if (!strcmp(op, "greater")) return a > b;
    if (!strcmp(op, "less_equal")) return a <= b;
    if (!strcmp(op, "equal")) return a == b;
    return NAN;
}

static void test_alu(void) {
    static const char *ops[] = {"add",     "subtract", "multiply",   "divide", "maximum",
                                "minimum", "greater",  "less_equal", "equal"};
    enum { F = 48 };
    static double x[P * F], y[P * F], out[P * F];
    uint64_t s = 5;
    for (size_t oi = 0; oi < sizeof ops / sizeof ops[0]; oi++) {
        for (int i = 0; i < P * F; i++) {
            x[i] = ct_uniform(&s, -100, 100);
            y[i] = i % 7 ? ct_uniform(&s, -100, 100) : x[i];
        }
        char k[640];
        snprintf(k, sizeof k,
                 ".input x f32 [128, 48]\n.input y f32 [128, 48]\n.output out f32 [128, 48]\n"
                 ".sbuf a f32 [128, 48]\n.sbuf b f32 [128, 48]\n.sbuf o f32 [128, 48]\n"
                 "dma_copy dst=a src=x\ndma_copy dst=b src=y\n"
                 "tensor_tensor dst=o data1=a data2=b op=%s\ndma_copy dst=out src=o\n",
                 ops[oi]);
        CHECK(run1(k, 3, NULL, x, P * F, y, P * F, out, P * F) == TRN_OK);
        int bad = 0;
        for (int i = 0; i < P * F; i++)
            bad += test_f32_bits((float)out[i]) !=
                   test_f32_bits(ref_alu(ops[oi], (float)x[i], (float)y[i]));
        CHECK_MSG(bad == 0, "tensor_tensor %s: %d differ", ops[oi], bad);
    }
    /* tensor_scalar: (x - s[p]) * 3 and the reversed 10 / x (op1 reverse1) */
    for (int i = 0; i < P * F; i++) x[i] = ct_uniform(&s, 1, 100);
    const char *k = ".input x f32 [128, 48]\n.output out f32 [128, 48]\n.sbuf a f32 [128, 48]\n"
                    ".sbuf o f32 [128, 48]\n.sbuf sc f32 [128, 1]\n"
                    "dma_copy dst=a src=x\ntensor_copy dst=sc src=a[:, 5:6]\n"
                    "tensor_scalar dst=o data=a op0=subtract operand0=sc op1=divide operand1=3.0 "
                    "reverse1=true\ndma_copy dst=out src=o\n";
    CHECK(run1(k, 3, NULL, x, P * F, NULL, 0, out, P * F) == TRN_OK);
    int bad = 0;
    for (int i = 0; i < P * F; i++) {
        float t = (float)x[i] - (float)x[(i / F) * F + 5];
        bad += test_f32_bits((float)out[i]) != test_f32_bits(3.0f / t);
    }
    CHECK_EQ_INT(bad, 0);
    /* bitvec on int32 */
    static double xi[P * 8], yi[P * 8], oi[P * 8];
    for (int i = 0; i < P * 8; i++) {
        xi[i] = (double)(int32_t)test_rnd64(&s);
        yi[i] = (double)(int32_t)test_rnd64(&s);
    }
    const char *kb =
        ".input x int32 [128, 8]\n.input y int32 [128, 8]\n.output out int32 [128, 8]\n"
        ".sbuf a int32 [128, 8]\n.sbuf b int32 [128, 8]\n.sbuf o int32 [128, 8]\n"
        "dma_copy dst=a src=x\ndma_copy dst=b src=y\n"
        "tensor_tensor dst=o data1=a data2=b op=bitwise_xor\n"
        "tensor_scalar dst=o data=o op0=arith_shift_right operand0=3\n"
        "dma_copy dst=out src=o\n";
    CHECK(run1(kb, 3, NULL, xi, P * 8, yi, P * 8, oi, P * 8) == TRN_OK);
    bad = 0;
    for (int i = 0; i < P * 8; i++) {
        int32_t v = (int32_t)((uint32_t)(int32_t)xi[i] ^ (uint32_t)(int32_t)yi[i]);
        int32_t want = v < 0 ? ~(~v >> 3) : v >> 3;
        bad += (int32_t)oi[i] != want;
    }
    CHECK_EQ_INT(bad, 0);
}

static void test_reduce_misc(void) {
    enum { A = 4, B = 16 };
    static double x[P * A * B], out[P * A];
    uint64_t s = 6;
    for (int i = 0; i < P * A * B; i++) x[i] = ct_uniform(&s, -10, 10);
    const char *k =
        ".input x f32 [128, 4, 16]\n.output out f32 [128, 4]\n.sbuf a f32 [128, 4, 16]\n"
        ".sbuf o f32 [128, 4]\ndma_copy dst=a src=x\n"
        "tensor_reduce dst=o op=add data=a axis=2 negate=true\ndma_copy dst=out src=o\n";
    CHECK(run1(k, 3, NULL, x, P * A * B, NULL, 0, out, P * A) == TRN_OK);
    int bad = 0;
    for (int g = 0; g < P * A; g++) {
        float acc = (float)x[g * B];
        for (int r = 1; r < B; r++) acc += (float)x[g * B + r];
        bad += test_f32_bits((float)out[g]) != test_f32_bits(-acc);
    }
    CHECK_EQ_INT(bad, 0);
    /* max over both free axes */
    static double m1[P];
    const char *k2 =
        ".input x f32 [128, 4, 16]\n.output out f32 [128, 1]\n.sbuf a f32 [128, 4, 16]\n"
        ".sbuf o f32 [128, 1]\ndma_copy dst=a src=x\n"
        "tensor_reduce dst=o op=max data=a axis=[1, 2]\ndma_copy dst=out src=o\n";
    CHECK(run1(k2, 3, NULL, x, P * A * B, NULL, 0, m1, P) == TRN_OK);
    bad = 0;
    for (int p = 0; p < P; p++) {
        double m = -INFINITY;
        for (int i = 0; i < A * B; i++) m = fmax(m, x[p * A * B + i]);
        bad += m1[p] != m;
    }
    CHECK_EQ_INT(bad, 0);
    /* memset + iota + affine_select (causal mask: keep where p - j >= 0) + partition reduce */
    static double one[P * 64], o2[P * 64];
    for (int i = 0; i < P * 64; i++) one[i] = 1;
    const char *k3 = ".input x f32 [128, 64]\n.output out f32 [128, 64]\n.sbuf a f32 [128, 64]\n"
                     ".sbuf o f32 [128, 64]\n.sbuf io int32 [128, 64]\n.sbuf fo f32 [128, 64]\n"
                     "dma_copy dst=a src=x\n"
                     "affine_select dst=o pattern=[[-1, 64]] channel_multiplier=1 on_true_tile=a "
                     "on_false_value=-30000.0 cmp_op=greater_equal\n"
                     "iota dst=io pattern=[[2, 64]] offset=5 channel_multiplier=1000\n"
                     "tensor_copy dst=fo src=io\n"
                     "tensor_tensor dst=o data1=o data2=fo op=add\n"
                     "dma_copy dst=out src=o\n";
    CHECK(run1(k3, 3, NULL, one, P * 64, NULL, 0, o2, P * 64) == TRN_OK);
    bad = 0;
    for (int p = 0; p < P; p++)
        for (int j = 0; j < 64; j++) {
            double want = (p - j >= 0 ? 1.0 : -30000.0) + (5 + 1000 * p + 2 * j);
            bad += o2[p * 64 + j] != (double)(float)want;
        }
    CHECK_EQ_INT(bad, 0);
    static double pr[64];
    for (int i = 0; i < P * 64; i++) x[i] = ct_uniform(&s, -10, 10);
    const char *k4 = ".input x f32 [128, 64]\n.output out f32 [1, 64]\n.sbuf a f32 [128, 64]\n"
                     ".sbuf o f32 [1, 64]\n.sbuf z bf16 [128, 64]\ndma_copy dst=a src=x\n"
                     "memset dst=z value=0.0\n"
                     "tensor_partition_reduce dst=o op=add data=a\ndma_copy dst=out src=o\n";
    CHECK(run1(k4, 3, NULL, x, P * 64, NULL, 0, pr, 64) == TRN_OK);
    bad = 0;
    for (int f = 0; f < 64; f++) {
        float acc = (float)x[f];
        for (int p = 1; p < P; p++) acc += (float)x[p * 64 + f];
        bad += test_f32_bits((float)pr[f]) != test_f32_bits(acc);
    }
    CHECK_EQ_INT(bad, 0);
}

static void test_sr(void) {
    enum { F = 64 };
    static double x[P * F], o1[P * F], o2[P * F], o3[P * F], o4[P * F];
    uint64_t s = 7;
    for (int i = 0; i < P * F; i++) x[i] = ct_uniform(&s, -1, 1);
    /* x lives in f32 on chip, the down-cast to bf16 is the tensor_copy */
    const char *k2 = ".input x f32 [128, 64]\n.output out f32 [128, 64]\n.sbuf a f32 [128, 64]\n"
                     ".sbuf t bf16 [128, 64]\n.sbuf o f32 [128, 64]\ndma_copy dst=a src=x\n"
                     "tensor_copy dst=t src=a\ntensor_copy dst=o src=t\ndma_copy dst=out src=o\n";
    trn_core_opts sr = {TRN_ROUND_SR, 42, 0}, sr2 = {TRN_ROUND_SR, 43, 0};
    CHECK(run1(k2, 3, &sr, x, P * F, NULL, 0, o1, P * F) == TRN_OK);
    CHECK(run1(k2, 3, &sr, x, P * F, NULL, 0, o2, P * F) == TRN_OK);
    CHECK(run1(k2, 3, &sr2, x, P * F, NULL, 0, o3, P * F) == TRN_OK);
    CHECK(run1(k2, 3, NULL, x, P * F, NULL, 0, o4, P * F) == TRN_OK);
    int same12 = 0, same13 = 0, neighbour = 0, rne = 0, up = 0;
    for (int i = 0; i < P * F; i++) {
        uint32_t b = test_f32_bits((float)x[i]);
        float lo = test_f32_from_bits(b & 0xFFFF0000u);
        float hi = test_f32_from_bits((b & 0xFFFF0000u) + 0x10000u);
        same12 += o1[i] == o2[i];
        same13 += o1[i] == o3[i];
        neighbour += (float)o1[i] == lo || (float)o1[i] == hi;
        up += (float)o1[i] == hi;
        rne += test_f32_bits((float)o4[i]) == test_f32_bits(ct_bf16((float)x[i]));
    }
    CHECK_EQ_INT(same12, P * F);
    CHECK_MSG(same13 < P * F * 0.9, "seeds 42 and 43 agree on %d of %d", same13, P * F);
    CHECK_EQ_INT(neighbour, P * F);
    CHECK_MSG(up > P * F / 4 && up < P * F * 3 / 4, "SR rounded %d of %d up", up, P * F);
    CHECK_EQ_INT(rne, P * F);
}

static void test_faults(void) {
    trn_err err = {0};
    static double x[P * 8];
    for (int i = 0; i < P * 8; i++) x[i] = i;
    /* uninitialized read of a tile never written: names the instruction and its line */
    const char *k = ".input x f32 [128, 8]\n.output out f32 [128, 8]\n.sbuf a f32 [128, 8]\n"
                    ".sbuf b f32 [128, 8]\n.sbuf o f32 [128, 8]\n"
                    "dma_copy dst=a src=x\n"
                    "tensor_tensor dst=o data1=a data2=b op=add\n"
                    "dma_copy dst=out src=o\n";
    trn_program *p = ct_prog(k, "k.tasm", 3);
    trn_core *c = ct_core(p, 3, NULL);
    ct_put(c, "x", x, P * 8);
    CHECK(trn_core_run(c, &err) == TRN_E_FAULT);
    const trn_fault *f = trn_core_fault(c);
    CHECK(f && f->instr == 1 && f->line == 7 && f->op == TRN_OP_TENSOR_TENSOR &&
          f->engine == TRN_ENGINE_DVE);
    CHECK_CONTAINS(err.msg, "k.tasm:7:");
    CHECK_CONTAINS(err.msg, "uninitialized read: data2 'b'");
    CHECK_EQ_INT(trn_core_instr_total(c), 1);
    trn_core_destroy(c);
    /* a crafted program: the AP of the first dma_copy's dst pushed past its tile */
    trn_operand *o = &p->args[p->instrs[0].arg0];
    CHECK(o->kind == TRN_ARG_AP_OUT);
    o->u.ap.offset += 4;
    c = ct_core(p, 3, NULL);
    ct_put(c, "x", x, P * 8);
    CHECK(trn_core_run(c, &err) == TRN_E_FAULT);
    CHECK_CONTAINS(err.msg, "out-of-bounds access: dst 'a'");
    CHECK(trn_core_fault(c) && trn_core_fault(c)->instr == 0 && trn_core_fault(c)->line == 6);
    trn_core_destroy(c);
    o->u.ap.offset -= 4;
    o->u.ap.part_count = 129; /* more partitions than the tensor */
    c = ct_core(p, 3, NULL);
    ct_put(c, "x", x, P * 8);
    CHECK(trn_core_run(c, &err) == TRN_E_FAULT);
    CHECK_CONTAINS(err.msg, "out-of-bounds access");
    trn_core_destroy(c);
    /* missing input, and a core runs once */
    c = ct_core(p, 3, NULL);
    CHECK(trn_core_run(c, &err) == TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "input 'x' was never given");
    CHECK(trn_core_run(c, &err) == TRN_E_INVALID);
    trn_core_destroy(c);
    trn_program_destroy(p);

    /* a run-time operand error is reported, naming the instruction and its line */
    const char *k2 =
        ".input x f32 [128, 8]\n.output out f32 [128, 6]\n.sbuf a f32 [128, 8]\n"
        ".sbuf o f32 [128, 6]\ndma_copy dst=a src=x\nsequence_bounds dst=o segment_ids=a\n"
        "dma_copy dst=out src=o\n";
    p = ct_prog(k2, "k.tasm", 3);
    c = ct_core(p, 3, NULL);
    ct_put(c, "x", x, P * 8);
    CHECK(trn_core_run(c, &err) == TRN_E_FAULT);
    CHECK_CONTAINS(err.msg, "k.tasm:6: sequence_bounds (gpsimd, instruction 1): illegal operand");
    CHECK(trn_core_fault(c) && trn_core_fault(c)->status == TRN_E_FAULT);
    trn_core_destroy(c);
    trn_program_destroy(p);

    /* an illegal run-time operand: is_transpose with a moving that is not a permutation */
    const char *k3 = ".input x bf16 [32, 32]\n.output out bf16 [32, 32]\n.sbuf a bf16 [32, 32]\n"
                     ".psum tp bf16 [32, 32]\n.sbuf o bf16 [32, 32]\ndma_copy dst=a src=x\n"
                     "nc_matmul dst=tp stationary=a moving=a is_transpose=true\n"
                     "tensor_copy dst=o src=tp\ndma_copy dst=out src=o\n";
    p = ct_prog(k3, "k.tasm", 3);
    c = ct_core(p, 3, NULL);
    ct_put(c, "x", x, 32 * 32);
    CHECK(trn_core_run(c, &err) == TRN_E_FAULT);
    CHECK_CONTAINS(err.msg, "permutation matrix");
    trn_core_destroy(c);
    trn_program_destroy(p);
    /* accumulating into PSUM never written reads it: a fault, not garbage */
    const char *k4 = ".input x bf16 [32, 32]\n.output out f32 [32, 32]\n.sbuf a bf16 [32, 32]\n"
                     ".psum tp f32 [32, 32]\n.sbuf o f32 [32, 32]\ndma_copy dst=a src=x\n"
                     "nc_matmul dst=tp stationary=a moving=a accumulate=true\n"
                     "tensor_copy dst=o src=tp\ndma_copy dst=out src=o\n";
    p = ct_prog(k4, "k.tasm", 3);
    c = ct_core(p, 3, NULL);
    ct_put(c, "x", x, 32 * 32);
    CHECK(trn_core_run(c, &err) == TRN_E_FAULT);
    CHECK_CONTAINS(err.msg, "k.tasm:7: nc_matmul (tensor, instruction 1): uninitialized read: dst");
    trn_core_destroy(c);
    trn_program_destroy(p);
}

int main(void) {
    test_dma_cast();
    test_matmul();
    test_transpose();
    test_activation();
    test_alu();
    test_reduce_misc();
    test_sr();
    test_faults();
    ct_done();
    return test_summary();
}

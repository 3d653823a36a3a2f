/* The example kernels of examples/kernels/ run through the functional core and compared with
 * plain C references: tensor_add, matmul_tiled, mlp_tile and transpose bit for bit; softmax
 * and rmsnorm within an NMSE bound (their activation functions are libm-accurate, the
 * references use double); matmul_mx (v4) against the unquantized BF16 product within the
 * MXFP8 error bound. LABELS: unit */
#include <math.h>

#include "test_core_util.h"

static trn_core *load(const char *name, int ver, trn_program **p) {
    char path[256];
    snprintf(path, sizeof path, "examples/kernels/%s.tasm", name);
    *p = ct_prog(NULL, path, ver);
    return ct_core(*p, ver, NULL);
}

static void run_ok(trn_core *c, const char *what) {
    trn_err err = {0};
    trn_status s = trn_core_run(c, &err);
    CHECK_MSG(s == TRN_OK, "%s: %s", what, err.msg);
}

static float dot_chain(const float *a, const float *b, int K, int M, int N, int m, int n) {
    float acc = 0.0f;
    for (int k = 0; k < K; k++) acc = fmaf(a[k * M + m], b[k * N + n], acc);
    return acc;
}

static void test_tensor_add(void) {
    enum { N = 2048 };
    static double a[128 * N], b[128 * N], c[128 * N];
    uint64_t s = 10;
    for (int i = 0; i < 128 * N; i++) a[i] = ct_uniform(&s, -9, 9), b[i] = ct_uniform(&s, -9, 9);
    trn_program *p;
    trn_core *core = load("tensor_add", 3, &p);
    ct_put(core, "a", a, 128 * N);
    ct_put(core, "b", b, 128 * N);
    run_ok(core, "tensor_add");
    CHECK_EQ_INT(ct_get(core, "c", c, 128 * N), 0);
    int bad = 0;
    for (int i = 0; i < 128 * N; i++)
        bad += test_f32_bits((float)c[i]) != test_f32_bits((float)a[i] + (float)b[i]);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(trn_core_instr_count(core, TRN_ENGINE_DVE), 4);
    CHECK_EQ_INT(trn_core_instr_count(core, TRN_ENGINE_DMA), 12);
    trn_core_destroy(core);
    trn_program_destroy(p);
}

static void test_matmuls(int ver) {
    enum { M = 256, K = 512, N = 1024 };
    static double at[K * M], b[K * N], c[M * N];
    static float af[K * M], bf[K * N];
    uint64_t s = 11;
    for (int i = 0; i < K * M; i++) at[i] = af[i] = ct_bf16(ct_uniform(&s, -1, 1));
    for (int i = 0; i < K * N; i++) b[i] = bf[i] = ct_bf16(ct_uniform(&s, -1, 1));
    trn_program *p;
    trn_core *core = load("matmul_tiled", ver, &p);
    ct_put(core, "aT", at, K * M);
    ct_put(core, "b", b, K * N);
    run_ok(core, "matmul_tiled");
    CHECK_EQ_INT(ct_get(core, "c", c, M * N), 0);
    /* K/128 accumulated matmuls: chain per 128-slab, then fp32 additions in slab order */
    int bad = 0;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            float acc = 0.0f;
            for (int kt = 0; kt < K / 128; kt++) {
                float t = dot_chain(af + kt * 128 * M, bf + kt * 128 * N, 128, M, N, m, n);
                acc = kt ? acc + t : t;
            }
            bad += test_f32_bits((float)c[m * N + n]) != test_f32_bits(acc);
        }
    CHECK_MSG(bad == 0, "matmul_tiled v%d: %d of %d differ", ver, bad, M * N);
    trn_core_destroy(core);
    trn_program_destroy(p);

    /* mlp_tile: relu(xT^T @ w) */
    static double y[128 * 512];
    core = load("mlp_tile", ver, &p);
    ct_put(core, "xT", at, 128 * 128);
    ct_put(core, "w", b, 128 * 512);
    run_ok(core, "mlp_tile");
    CHECK_EQ_INT(ct_get(core, "y", y, 128 * 512), 0);
    bad = 0;
    for (int m = 0; m < 128; m++)
        for (int n = 0; n < 512; n++) {
            float v = dot_chain(af, bf, 128, 128, 512, m, n);
            bad += test_f32_bits((float)y[m * 512 + n]) != test_f32_bits(v > 0 ? v : 0.0f);
        }
    CHECK_MSG(bad == 0, "mlp_tile v%d: %d differ", ver, bad);
    trn_core_destroy(core);
    trn_program_destroy(p);
}

static void test_transpose(void) {
    static double x[128 * 128], y[128 * 128];
    uint64_t s = 12;
    for (int i = 0; i < 128 * 128; i++) x[i] = ct_bf16(ct_uniform(&s, -5, 5));
    x[3] = -INFINITY, x[300] = -0.0;
    trn_program *p;
    trn_core *core = load("transpose", 3, &p);
    ct_put(core, "x", x, 128 * 128);
    run_ok(core, "transpose");
    CHECK_EQ_INT(ct_get(core, "y", y, 128 * 128), 0);
    int bad = 0;
    for (int r = 0; r < 128; r++)
        for (int c = 0; c < 128; c++)
            bad += test_f32_bits((float)y[c * 128 + r]) != test_f32_bits((float)x[r * 128 + c]);
    CHECK_EQ_INT(bad, 0);
    trn_core_destroy(core);
    trn_program_destroy(p);
}

static void test_softmax_rmsnorm(void) {
    enum { N = 512, NR = 1024 };
    static double x[128 * N], y[128 * N];
    static float got[128 * NR], ref[128 * NR];
    uint64_t s = 13;
    for (int i = 0; i < 128 * N; i++) x[i] = ct_uniform(&s, -8, 8);
    trn_program *p;
    trn_core *core = load("softmax", 3, &p);
    ct_put(core, "x", x, 128 * N);
    run_ok(core, "softmax");
    CHECK_EQ_INT(ct_get(core, "y", y, 128 * N), 0);
    for (int r = 0; r < 128; r++) {
        double mx = -INFINITY, sum = 0;
        for (int j = 0; j < N; j++) mx = fmax(mx, x[r * N + j]);
        for (int j = 0; j < N; j++) sum += exp(x[r * N + j] - mx);
        for (int j = 0; j < N; j++) {
            ref[r * N + j] = (float)(exp(x[r * N + j] - mx) / sum);
            got[r * N + j] = (float)y[r * N + j];
        }
    }
    CHECK_NMSE(got, ref, 128 * N, 1e-12); /* FP32 pipeline: ~1e-14 observed */
    trn_core_destroy(core);
    trn_program_destroy(p);

    static double xr[128 * NR], g[128 * NR], yr[128 * NR];
    for (int i = 0; i < 128 * NR; i++) {
        xr[i] = ct_bf16(ct_uniform(&s, -3, 3));
        g[i] = ct_bf16(ct_uniform(&s, 0.5f, 1.5f));
    }
    core = load("rmsnorm", 3, &p);
    ct_put(core, "x", xr, 128 * NR);
    ct_put(core, "g", g, 128 * NR);
    run_ok(core, "rmsnorm");
    CHECK_EQ_INT(ct_get(core, "y", yr, 128 * NR), 0);
    for (int r = 0; r < 128; r++) {
        double ss = 0;
        for (int j = 0; j < NR; j++) ss += xr[r * NR + j] * xr[r * NR + j];
        double rs = 1 / sqrt(ss / NR + 1e-6);
        for (int j = 0; j < NR; j++) {
            ref[r * NR + j] = (float)(xr[r * NR + j] * rs * g[r * NR + j]);
            got[r * NR + j] = (float)yr[r * NR + j];
        }
    }
    /* two BF16 roundings (yt = x * rstd, then * g): each <= 2^-9 relative, NMSE ~1e-5 */
    CHECK_NMSE(got, ref, 128 * NR, 3e-5);
    trn_core_destroy(core);
    trn_program_destroy(p);
}

static void test_matmul_mx(void) {
    static double a[128 * 512], b[128 * 2048], c[128 * 512];
    static float ref[128 * 512], got[128 * 512];
    uint64_t s = 14;
    for (int i = 0; i < 128 * 512; i++) a[i] = ct_bf16(ct_uniform(&s, -1, 1));
    for (int i = 0; i < 128 * 2048; i++) b[i] = ct_bf16(ct_uniform(&s, -1, 1));
    trn_program *p;
    trn_core *core = load("matmul_mx", 4, &p);
    ct_put(core, "a", a, 128 * 512);
    ct_put(core, "b", b, 128 * 2048);
    run_ok(core, "matmul_mx");
    CHECK_EQ_INT(ct_get(core, "c", c, 128 * 512), 0);
    /* x4 element (p, m) of aq holds a[p][4m + j] in slot j, contraction index k = 4p + j */
    for (int m = 0; m < 128; m++)
        for (int n = 0; n < 512; n++) {
            double acc = 0;
            for (int p0 = 0; p0 < 128; p0++)
                for (int j = 0; j < 4; j++)
                    acc += a[p0 * 512 + 4 * m + j] * b[p0 * 2048 + 4 * n + j];
            ref[m * 512 + n] = (float)acc;
            got[m * 512 + n] = (float)c[m * 512 + n];
        }
    /* E4M3 elements (3 mantissa bits): relative error <= 2^-4 per element, ~1e-3 NMSE */
    CHECK_NMSE(got, ref, 128 * 512, 3e-3);
    trn_core_destroy(core);
    trn_program_destroy(p);
}

int main(void) {
    test_tensor_add();
    test_matmuls(2);
    test_matmuls(3);
    test_transpose();
    test_softmax_rmsnorm();
    test_matmul_mx();
    ct_done();
    return test_summary();
}

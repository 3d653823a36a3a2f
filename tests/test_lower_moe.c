/* The MoE and activation kernels (ROUTER, GLU_OAI, ACT, MOE_COMBINE) run through the runtime
 * (trn_runtime_run) on trn1, trn2 and trn3 against plain C references written here.
 *
 * ROUTER: expert ids identical to a reference that computes the scores with the kernel's
 * documented FP32 steps (softmax: x - max, exp in double rounded once, the sum in expert order,
 * an IEEE division; sigmoid in double rounded once; the logits) and picks the top k by
 * descending score, equal scores lowest index first, for the three gatings, on random logits
 * and on logits drawn from 7 values (many ties), m not a multiple of 128, n below max8's 8
 * (padded), k = 1, 2, 4 and 10 (two max8 rounds). Weights: bit-exact against that reference
 * (every step is one IEEE FP32 operation or a function the simulator evaluates in double and
 * rounds once, docs/semantics.md, the reference doing the same in the same order); and against
 * a double-precision reference of the same ids within a relative (n + k + 8) 2^-24: each FP32
 * step adds at most half an ULP (2^-24 relative) and the two sums add one per term.
 *
 * GLU_OAI: bit-exact against the documented rounding (the clamps exact, alpha g FP32, the
 * sigmoid, glu and u + 1 rounded to the activation dtype, the product to the output dtype), and
 * against the FP64 formula on the same inputs within an NMSE of 2e-5 with bf16 (four roundings,
 * each at most 2^-9 relative; independent, their squares add: at most 4 x 2^-18 = 1.5e-5;
 * measured 7e-6) or 1e-12 with f32 (a few FP32 roundings of 2^-24 each). ACT: gelu,
 * gelu_apprx_tanh, silu, relu against the FP64 formulas: f32 output within 2 ULP (the simulator's
 * functions are libm-accurate, docs/semantics.md), bf16 output within 1 bf16 ULP (one rounding of a
 * value that may sit 2 FP32 ULP off a bf16 tie). Bad fields are rejected with messages naming them.
 * LABELS: unit */
#include <math.h>

#include "test_lower_util.h"
#include "trnsim/runtime.h"

static trn_hw *hw;
static const char *const chips[3] = {"trn1", "trn2", "trn3"};
static trn_runtime *rts[3];
/* The measured figures, printed at the end: the worst router weight error against FP64
 * (relative to its bound), GLU_OAI NMSE (bf16, f32), ACT ULPs (f32, bf16). */
static double worst_wd_ratio, worst_glu[2];
static int64_t worst_ulp[2];

static double sigm(double x) {
    return 1.0 / (1.0 + exp(-x));
}

/* ---- ROUTER --------------------------------------------------------------------------------- */

/* The reference of one row: ids[k], weights in FP32 (the kernel's steps) and in double. */
static void ref_router_row(const float *x, int n, int k, int gate, int32_t *ids, float *w,
                           double *wd) {
    float s[64];
    double sd[64];
    if (gate == TRN_LOWER_GATE_SOFTMAX_TOPK) {
        float mx = x[0], den = 0.0f;
        double dd = 0;
        for (int e = 1; e < n; e++) mx = x[e] > mx ? x[e] : mx;
        for (int e = 0; e < n; e++) {
            s[e] = (float)exp((double)(x[e] - mx));
            den += s[e];
            sd[e] = exp((double)x[e] - mx);
            dd += sd[e];
        }
        for (int e = 0; e < n; e++) s[e] /= den, sd[e] /= dd;
    } else if (gate == TRN_LOWER_GATE_SIGMOID_TOPK) {
        for (int e = 0; e < n; e++) sd[e] = sigm(x[e]), s[e] = (float)sd[e];
    } else {
        for (int e = 0; e < n; e++) s[e] = x[e], sd[e] = x[e];
    }
    unsigned char taken[64] = {0};
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int e = 0; e < n; e++)
            if (!taken[e] && (best < 0 || s[e] > s[best])) best = e;
        taken[best] = 1;
        ids[j] = best, w[j] = s[best], wd[j] = sd[best];
    }
    if (gate == TRN_LOWER_GATE_TOPK_SOFTMAX) {
        float mx = w[0], den = 0.0f;
        double dd = 0, mxd = wd[0];
        for (int j = 0; j < k; j++) {
            w[j] = (float)exp((double)(w[j] - mx)), den += w[j];
            wd[j] = exp(wd[j] - mxd), dd += wd[j];
        }
        for (int j = 0; j < k; j++) w[j] /= den, wd[j] /= dd;
    } else {
        float sum = 0.0f;
        double sdd = 0;
        for (int j = 0; j < k; j++) sum += w[j], sdd += wd[j];
        for (int j = 0; j < k; j++) w[j] /= sum, wd[j] /= sdd;
    }
}

static void test_router(int c, int m, int n, int k, int gate, trn_dtype dt, int ties) {
    uint64_t s = 1000 + (uint64_t)(m * 31 + n * 7 + k * 3 + gate) + (uint64_t)ties * 99;
    size_t nx = (size_t)m * n, nk = (size_t)m * k;
    double *x = malloc(nx * sizeof *x), *ids = malloc(nk * sizeof *ids),
           *w = malloc(nk * sizeof *w);
    float *xf = malloc(nx * sizeof *xf);
    for (size_t i = 0; i < nx; i++) {
        /* ties: 7 values, so most rows hold equal logits (and equal scores) */
        float v = ties ? (float)((int)(test_rnd64(&s) % 7) - 3) * 0.75f : ct_uniform(&s, -4, 4);
        xf[i] = lt_round(dt, v);
        x[i] = xf[i];
    }
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_ROUTER, op.m = m, op.n = n, op.topk = k, op.gating = gate;
    op.dtype = dt, op.out_dtype = TRN_DTYPE_F32;
    trn_binding in[1] = {{"x", x, nx}}, out[2] = {{"ids", ids, nk}, {"w", w, nk}};
    trn_err err = {0};
    trn_status st = trn_runtime_run(rts[c], &op, in, 1, out, 2, NULL, &err);
    CHECK_MSG(st == TRN_OK, "router %s: %s", chips[c], err.msg);
    int bad_id = 0, bad_w = 0, bad_wd = 0;
    double bound = (n + k + 8) * ldexp(1.0, -24), worst = 0;
    for (int r = 0; r < m && st == TRN_OK; r++) {
        int32_t ri[64];
        float rw[64];
        double rwd[64];
        ref_router_row(xf + (size_t)r * n, n, k, gate, ri, rw, rwd);
        for (int j = 0; j < k; j++) {
            size_t q = (size_t)r * k + j;
            bad_id += ids[q] != ri[j];
            bad_w += test_f32_bits((float)w[q]) != test_f32_bits(rw[j]);
            double d = fabs(w[q] - rwd[j]) / fmax(rwd[j], 1e-30);
            worst = d > worst ? d : worst;
            bad_wd += !(d <= bound);
        }
    }
    if (worst / bound > worst_wd_ratio) worst_wd_ratio = worst / bound;
    CHECK_MSG(bad_id == 0, "router %s m=%d n=%d k=%d gate=%d ties=%d: %d ids differ", chips[c], m,
              n, k, gate, ties, bad_id);
    CHECK_MSG(bad_w == 0, "router %s m=%d n=%d k=%d gate=%d: %d weights not bit-exact", chips[c], m,
              n, k, gate, bad_w);
    CHECK_MSG(bad_wd == 0,
              "router %s m=%d n=%d k=%d gate=%d: %d weights off the FP64 one by > "
              "%.3g (worst %.3g)",
              chips[c], m, n, k, gate, bad_wd, bound, worst);
    free(x), free(ids), free(w), free(xf);
}

/* A row whose expert order must come from the tie rule alone: all logits equal except two. */
static void test_router_tie_order(int c) {
    enum { N = 12, K = 10 };
    double x[N], ids[K], w[K];
    for (int e = 0; e < N; e++) x[e] = 1.0;
    x[5] = 2.0, x[9] = 2.0;
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_ROUTER, op.m = 1, op.n = N, op.topk = K;
    op.gating = TRN_LOWER_GATE_TOPK_SOFTMAX, op.dtype = op.out_dtype = TRN_DTYPE_F32;
    trn_binding in[1] = {{"x", x, N}}, out[2] = {{"ids", ids, K}, {"w", w, K}};
    trn_err err = {0};
    CHECK_EQ_INT(trn_runtime_run(rts[c], &op, in, 1, out, 2, NULL, &err), TRN_OK);
    /* by hand: the two 2.0s (5, 9), then the 1.0s in index order 0, 1, 2, 3, 4, 6, 7, 8 */
    static const int want[K] = {5, 9, 0, 1, 2, 3, 4, 6, 7, 8};
    for (int j = 0; j < K; j++) CHECK_EQ_INT(ids[j], want[j]);
    /* weights: e^0 / (2 + 8 e^-1) and e^-1 / (2 + 8 e^-1) */
    double d = 2 + 8 * exp(-1.0);
    CHECK(fabs(w[0] - 1 / d) < 1e-6 && fabs(w[9] - exp(-1.0) / d) < 1e-6);
}

/* ---- GLU_OAI -------------------------------------------------------------------------------- */

static void test_glu(int c, int m, int n, trn_dtype dt, trn_dtype yt, double alpha, double limit) {
    uint64_t s = 500 + (uint64_t)(m + n) + (uint64_t)dt;
    size_t nx = (size_t)m * 2 * n, ny = (size_t)m * n;
    double *x = malloc(nx * sizeof *x), *y = malloc(ny * sizeof *y);
    float *ref = malloc(ny * sizeof *ref), *exact = malloc(ny * sizeof *exact);
    /* beyond +-limit on both sides, so both clamps act */
    for (size_t i = 0; i < nx; i++)
        x[i] = lt_round(dt, ct_uniform(&s, -1.6f * (float)limit, 1.6f * (float)limit));
    float L = (float)limit, A = (float)alpha;
    for (size_t i = 0; i < ny; i++) {
        float g = (float)x[2 * i], u = (float)x[2 * i + 1];
        float gc = lt_round(dt, g < L ? g : L);
        float sg = lt_round(dt, (float)sigm((double)(A * gc)));
        float gl = lt_round(dt, gc * sg);
        float uc = lt_round(dt, u > L ? L : u < -L ? -L : u);
        ref[i] = lt_round(yt, lt_round(dt, uc + 1.0f) * gl);
        double gd = fmin((double)g, limit), ud = fmax(fmin((double)u, limit), -limit);
        exact[i] = (float)((ud + 1) * gd * sigm(alpha * gd));
    }
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_GLU_OAI, op.m = m, op.n = n, op.dtype = dt, op.out_dtype = yt;
    op.alpha = alpha, op.limit = limit;
    trn_binding in[1] = {{"x", x, nx}}, out[1] = {{"y", y, ny}};
    trn_err err = {0};
    trn_status st = trn_runtime_run(rts[c], &op, in, 1, out, 1, NULL, &err);
    CHECK_MSG(st == TRN_OK, "glu_oai %s: %s", chips[c], err.msg);
    size_t bad = 0;
    double num = 0, den = 0;
    for (size_t i = 0; i < ny; i++) {
        bad += test_f32_bits((float)y[i]) != test_f32_bits(ref[i]);
        num += (y[i] - exact[i]) * (y[i] - exact[i]), den += (double)exact[i] * exact[i];
    }
    int b16 = yt == TRN_DTYPE_BF16 || dt == TRN_DTYPE_BF16;
    double bound = b16 ? 2e-5 : 1e-12;
    if (num / den > worst_glu[!b16]) worst_glu[!b16] = num / den;
    CHECK_MSG(bad == 0, "glu_oai %s m=%d n=%d %s: %zu of %zu not bit-exact", chips[c], m, n,
              trn_dtype_name(dt), bad, ny);
    CHECK_MSG(num / den <= bound, "glu_oai %s m=%d n=%d: NMSE %.3g > %.3g", chips[c], m, n,
              num / den, bound);
    free(x), free(y), free(ref), free(exact);
}

/* ---- ACT ------------------------------------------------------------------------------------ */

static double act_ref(trn_act_func f, double x) {
    switch (f) {
    case TRN_ACT_GELU: return 0.5 * x * (1 + erf(x / sqrt(2.0)));
    case TRN_ACT_GELU_APPRX_TANH:
        return 0.5 * x * (1 + tanh(sqrt(2 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
    case TRN_ACT_SILU: return x / (1 + exp(-x));
    default: return x > 0 ? x : 0;
    }
}

static int64_t ord32(float f) {
    int32_t i;
    memcpy(&i, &f, 4);
    return i < 0 ? -(int64_t)(i & 0x7FFFFFFF) : i;
}

static void test_act(int c, int m, int n, trn_act_func f, trn_dtype dt, trn_dtype yt) {
    uint64_t s = 300 + (uint64_t)f * 17 + (uint64_t)(m + n);
    size_t nn = (size_t)m * n;
    double *x = malloc(nn * sizeof *x), *y = malloc(nn * sizeof *y);
    for (size_t i = 0; i < nn; i++) x[i] = lt_round(dt, ct_uniform(&s, -6, 6));
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_ACT, op.m = m, op.n = n, op.dtype = dt, op.out_dtype = yt, op.act = f;
    trn_binding in[1] = {{"x", x, nn}}, out[1] = {{"y", y, nn}};
    trn_err err = {0};
    trn_status st = trn_runtime_run(rts[c], &op, in, 1, out, 1, NULL, &err);
    CHECK_MSG(st == TRN_OK, "act %s: %s", chips[c], err.msg);
    int64_t worst = 0;
    for (size_t i = 0; i < nn; i++) {
        float r = (float)act_ref(f, x[i]);
        int64_t d;
        if (yt == TRN_DTYPE_F32) {
            d = llabs(ord32((float)y[i]) - ord32(r));
        } else { /* bf16 ULPs: the FP32 bit distance over 2^16 */
            d = llabs(ord32((float)y[i]) - ord32(lt_round(yt, r))) >> 16;
        }
        worst = d > worst ? d : worst;
    }
    int f32 = yt == TRN_DTYPE_F32;
    if (worst > worst_ulp[!f32]) worst_ulp[!f32] = worst;
    CHECK_MSG(worst <= (yt == TRN_DTYPE_F32 ? 2 : 1), "act %s %s %s->%s: %lld ULP off", chips[c],
              trn_act_name(f), trn_dtype_name(dt), trn_dtype_name(yt), (long long)worst);
    free(x), free(y);
}

/* ---- bad fields ----------------------------------------------------------------------------- */

static void expect_bad(const trn_lower_op *op, const char *what) {
    trn_err err = {0};
    char *t = NULL;
    trn_status s = trn_lower_emit(op, trn_runtime_target(rts[1]), &t, &err);
    CHECK_MSG(s == TRN_E_INVALID, "%s: status %d", what, (int)s);
    CHECK_MSG(strstr(err.msg, what) != NULL, "message '%s' does not name '%s'", err.msg, what);
    CHECK(t == NULL);
}

static void test_bad_fields(void) {
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_ROUTER, op.m = 4, op.n = 8, op.topk = 9;
    op.dtype = op.out_dtype = TRN_DTYPE_F32;
    expect_bad(&op, "topk = 9");
    op.topk = 0;
    expect_bad(&op, "topk = 0");
    op.topk = 2, op.gating = 7;
    expect_bad(&op, "gating 7");
    op.gating = TRN_LOWER_GATE_SOFTMAX_TOPK, op.n = 16385;
    expect_bad(&op, "n = 16385");
    trn_lower_op g = {0};
    g.kind = TRN_LOWER_GLU_OAI, g.m = 4, g.n = 8, g.alpha = 1.702, g.limit = 0;
    g.dtype = g.out_dtype = TRN_DTYPE_BF16;
    expect_bad(&g, "limit = 0");
    g.limit = -7;
    expect_bad(&g, "limit = -7");
    g.limit = NAN;
    expect_bad(&g, "limit = nan");
    g.limit = 7, g.alpha = INFINITY;
    expect_bad(&g, "alpha = inf");
    trn_lower_op a = {0};
    a.kind = TRN_LOWER_ACT, a.m = 4, a.n = 8, a.act = TRN_ACT_EXP;
    a.dtype = a.out_dtype = TRN_DTYPE_BF16;
    expect_bad(&a, "act exp");
    a.act = TRN_ACT_SILU, a.n = 0;
    expect_bad(&a, "n = 0");
}

/* ---- MOE_COMBINE ---------------------------------------------------------------------------- */

/* y[t] = sum_j w[t, j] d[t, j] against the documented rounding worked in plain C (w rounded to
 * dtype, each FP32 product and partial sum rounded to out_dtype, slots in order): bit-exact.
 * Against the FP64 sum of the same inputs: each of the 2k roundings (w, the products, the sums)
 * moves the result by at most u (the unit roundoff: 2^-8 bf16, 2^-24 f32) times the sum of |w d|
 * over the slots, so |y - exact| <= 2k u sum_j |w_j d_j| (times 1 + 2k u for the growth, covered by
 * 2k + 1). Some d and w are exact zeros (their signs survive: -0 products). */
static double worst_comb_ratio;

static void test_combine(int c, int m, int k, int n, trn_dtype dt, trn_dtype yt) {
    uint64_t s = 700 + (uint64_t)(m * 13 + k * 5 + n) + (uint64_t)dt * 3 + (uint64_t)yt;
    size_t nd = (size_t)m * k * n, nw = (size_t)m * k, ny = (size_t)m * n;
    double *d = malloc(nd * sizeof *d), *w = malloc(nw * sizeof *w), *y = malloc(ny * sizeof *y);
    for (size_t i = 0; i < nd; i++)
        d[i] = i % 97 == 5 ? (i % 2 ? -0.0 : 0.0) : lt_round(dt, ct_uniform(&s, -3, 3));
    for (size_t i = 0; i < nw; i++) w[i] = i % 23 == 7 ? 0.0 : ct_uniform(&s, 0, 1);
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_MOE_COMBINE, op.m = m, op.n = n, op.topk = k;
    op.dtype = dt, op.out_dtype = yt;
    trn_binding in[2] = {{"d", d, nd}, {"w", w, nw}}, out[1] = {{"y", y, ny}};
    trn_err err = {0};
    trn_status st = trn_runtime_run(rts[c], &op, in, 2, out, 1, NULL, &err);
    CHECK_MSG(st == TRN_OK, "moe_combine %s: %s", chips[c], err.msg);
    double u = yt == TRN_DTYPE_BF16 || dt == TRN_DTYPE_BF16 ? ldexp(1.0, -8) : ldexp(1.0, -24);
    size_t bad = 0, far = 0;
    double worst = 0;
    for (int t = 0; t < m && st == TRN_OK; t++)
        for (int h = 0; h < n; h++) {
            float acc = 0.0f;
            double ex = 0, mag = 0;
            for (int j = 0; j < k; j++) {
                float wq = lt_round(dt, (float)w[(size_t)t * k + j]);
                float dv = (float)d[((size_t)t * k + j) * n + h];
                float p = lt_round(yt, wq * dv);
                acc = j ? lt_round(yt, acc + p) : p;
                ex += w[(size_t)t * k + j] * dv, mag += fabs(w[(size_t)t * k + j] * dv);
            }
            float got = (float)y[(size_t)t * n + h];
            bad += test_f32_bits(got) != test_f32_bits(acc);
            double bound = (2 * k + 1) * u * mag, e = fabs(got - ex);
            far += !(e <= bound);
            if (bound > 0 && e / bound > worst) worst = e / bound;
        }
    if (worst > worst_comb_ratio) worst_comb_ratio = worst;
    CHECK_MSG(bad == 0, "moe_combine %s m=%d k=%d n=%d %s->%s: %zu of %zu not bit-exact", chips[c],
              m, k, n, trn_dtype_name(dt), trn_dtype_name(yt), bad, ny);
    CHECK_MSG(far == 0,
              "moe_combine %s m=%d k=%d n=%d: %zu values off the FP64 sum by more than "
              "the bound",
              chips[c], m, k, n, far);
    free(d), free(w), free(y);
}

/* The kernel against the chain it replaces in the model runner: k MUL kernels (w broadcast to
 * [m, n], bf16) and k - 1 ADD kernels, y = w_0 d_0, then y = y + w_j d_j: bit-identical. */
static void test_combine_vs_chain(int c, int m, int k, int n) {
    uint64_t s = 900 + (uint64_t)(m + k + n);
    size_t nd = (size_t)m * k * n, nw = (size_t)m * k, ny = (size_t)m * n;
    double *d = malloc(nd * sizeof *d), *w = malloc(nw * sizeof *w), *y = malloc(ny * sizeof *y);
    double *a = malloc(ny * sizeof *a), *b = malloc(ny * sizeof *b), *p = malloc(ny * sizeof *p),
           *acc = malloc(ny * sizeof *acc), *t2 = malloc(ny * sizeof *t2);
    for (size_t i = 0; i < nd; i++) d[i] = lt_round(TRN_DTYPE_BF16, ct_uniform(&s, -3, 3));
    for (size_t i = 0; i < nw; i++) w[i] = ct_uniform(&s, 0, 1);
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_MOE_COMBINE, op.m = m, op.n = n, op.topk = k;
    op.dtype = op.out_dtype = TRN_DTYPE_BF16;
    trn_binding in[2] = {{"d", d, nd}, {"w", w, nw}}, out[1] = {{"y", y, ny}};
    trn_err err = {0};
    CHECK_MSG(trn_runtime_run(rts[c], &op, in, 2, out, 1, NULL, &err) == TRN_OK, "%s", err.msg);
    trn_lower_op mul = {0}, add;
    mul.kind = TRN_LOWER_MUL, mul.m = m, mul.n = n;
    mul.dtype = mul.out_dtype = TRN_DTYPE_BF16;
    add = mul, add.kind = TRN_LOWER_ADD;
    for (int j = 0; j < k; j++) {
        for (int t = 0; t < m; t++)
            for (int h = 0; h < n; h++) {
                a[(size_t)t * n + h] = w[(size_t)t * k + j];
                b[(size_t)t * n + h] = d[((size_t)t * k + j) * n + h];
            }
        trn_binding mi[2] = {{"a", a, ny}, {"b", b, ny}}, mo[1] = {{"y", j ? p : acc, ny}};
        CHECK(trn_runtime_run(rts[c], &mul, mi, 2, mo, 1, NULL, &err) == TRN_OK);
        if (!j) continue;
        trn_binding ai[2] = {{"a", acc, ny}, {"b", p, ny}}, ao[1] = {{"y", t2, ny}};
        CHECK(trn_runtime_run(rts[c], &add, ai, 2, ao, 1, NULL, &err) == TRN_OK);
        memcpy(acc, t2, ny * sizeof *acc);
    }
    size_t bad = 0;
    for (size_t i = 0; i < ny; i++)
        bad += test_f32_bits((float)y[i]) != test_f32_bits((float)acc[i]);
    CHECK_MSG(bad == 0, "moe_combine %s m=%d k=%d n=%d: %zu of %zu differ from the MUL/ADD chain",
              chips[c], m, k, n, bad, ny);
    free(d), free(w), free(y), free(a), free(b), free(p), free(acc), free(t2);
}

static void test_combine_bad(void) {
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_MOE_COMBINE, op.m = 4, op.n = 8, op.topk = 0;
    op.dtype = op.out_dtype = TRN_DTYPE_BF16;
    expect_bad(&op, "topk = 0");
    op.topk = 1025;
    expect_bad(&op, "topk = 1025");
    op.topk = 2, op.n = 0;
    expect_bad(&op, "n = 0");
    op.n = 8, op.m = 0;
    expect_bad(&op, "m = 0");
    op.m = 4, op.dtype = TRN_DTYPE_FP8_E4M3;
    expect_bad(&op, "dtype fp8_e4m3");
    op.dtype = TRN_DTYPE_BF16, op.out_dtype = TRN_DTYPE_INT32;
    expect_bad(&op, "out_dtype int32");
}

int main(void) {
    if (trn_hw_create(&hw, NULL) != TRN_OK) return 2;
    trn_err err = {0};
    for (int c = 0; c < 3; c++)
        if (trn_runtime_create(hw, chips[c], &rts[c], &err) != TRN_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 2;
        }
    for (int c = 0; c < 3; c++) {
        for (int gate = 0; gate < 3; gate++) {
            test_router(c, 300, 8, 2, gate, TRN_DTYPE_F32, 0);   /* Mixtral's shape */
            test_router(c, 130, 32, 4, gate, TRN_DTYPE_F32, 0);  /* GPT-OSS 20b's */
            test_router(c, 200, 16, 4, gate, TRN_DTYPE_F32, 1);  /* ties */
            test_router(c, 5, 6, 1, gate, TRN_DTYPE_BF16, 0);    /* n < 8: padded */
            test_router(c, 129, 24, 10, gate, TRN_DTYPE_F32, 1); /* k > 8, ties */
            test_router(c, 64, 64, 8, gate, TRN_DTYPE_BF16, 1);
        }
        test_router_tie_order(c);
        test_glu(c, 130, 200, TRN_DTYPE_BF16, TRN_DTYPE_BF16, 1.702, 7.0);
        test_glu(c, 40, 2100, TRN_DTYPE_F32, TRN_DTYPE_F32, 1.702, 2.3); /* two column chunks */
        test_glu(c, 3, 50, TRN_DTYPE_BF16, TRN_DTYPE_F32, 0.5, 1.0);
        static const trn_act_func fs[4] = {TRN_ACT_GELU, TRN_ACT_GELU_APPRX_TANH, TRN_ACT_SILU,
                                           TRN_ACT_RELU};
        for (int i = 0; i < 4; i++) {
            test_act(c, 130, 300, fs[i], TRN_DTYPE_BF16, TRN_DTYPE_BF16);
            test_act(c, 7, 2500, fs[i], TRN_DTYPE_F32, TRN_DTYPE_F32);
        }
    }
    for (int c = 0; c < 3; c++) {
        test_combine(c, 130, 1, 300, TRN_DTYPE_BF16, TRN_DTYPE_BF16);
        test_combine(c, 200, 2, 2100, TRN_DTYPE_BF16, TRN_DTYPE_BF16); /* two chunks */
        test_combine(c, 5, 4, 4100, TRN_DTYPE_BF16, TRN_DTYPE_BF16);   /* three */
        test_combine(c, 129, 4, 64, TRN_DTYPE_F32, TRN_DTYPE_F32);
        test_combine(c, 40, 3, 100, TRN_DTYPE_BF16, TRN_DTYPE_F32);
        test_combine(c, 20, 40, 300, TRN_DTYPE_F32, TRN_DTYPE_F32);   /* 150-column chunks */
        test_combine(c, 2, 1024, 40, TRN_DTYPE_BF16, TRN_DTYPE_BF16); /* the most slots */
        /* one token: the columns spread over 128, 120, 100 partitions; 127 (prime) cannot be */
        test_combine(c, 1, 2, 4096, TRN_DTYPE_BF16, TRN_DTYPE_BF16);
        test_combine(c, 1, 4, 2880, TRN_DTYPE_BF16, TRN_DTYPE_F32);
        test_combine(c, 1, 1, 300, TRN_DTYPE_BF16, TRN_DTYPE_BF16);
        test_combine(c, 1, 3, 127, TRN_DTYPE_BF16, TRN_DTYPE_BF16);
        test_combine(c, 1, 2, 640, TRN_DTYPE_F32, TRN_DTYPE_F32); /* f32: the row layout */
        test_combine_vs_chain(c, 131, 2, 70);
        test_combine_vs_chain(c, 3, 4, 2050);
        test_combine_vs_chain(c, 1, 4, 2880);
    }
    test_bad_fields();
    test_combine_bad();
    printf("router: ids and weights bit-exact; weights vs FP64 at most %.2f of the bound\n"
           "glu_oai: NMSE vs FP64 %.3g (bf16), %.3g (f32)\n"
           "act: %lld ULP (f32), %lld bf16 ULP (bf16)\n"
           "moe_combine: bit-exact, = the MUL/ADD chain; vs FP64 at most %.2f of the bound\n",
           worst_wd_ratio, worst_glu[0], worst_glu[1], (long long)worst_ulp[0],
           (long long)worst_ulp[1], worst_comb_ratio);
    for (int c = 0; c < 3; c++) trn_runtime_destroy(rts[c]);
    trn_hw_destroy(hw);
    ct_done();
    return test_summary();
}

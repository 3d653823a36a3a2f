/* LINEAR lowered to NeuronCore programs, run on the functional core against a plain C
 * reference that follows the matmul contract of docs/isa.md: each matmul instruction is one
 * FP32 FMA chain over its contraction rows in partition order (FP8 double-row: partition, then
 * the slot pair), and PSUM adds the instructions' tiles in program order. The instruction
 * order is the lowering's documented one (include/trnsim/lower.h: K chunks of `kc` slots, row
 * k0 + kc p + j at partition p, slot j; a tail chunk of floor(R/128) slots and one of R % 128
 * rows), so the results must be bit-exact, with the bias added as one more tile (1 * b) and
 * relu/copy evictions exact; GELU and SiLU are within 4 ULP of a double-precision reference.
 * Shapes are multi-tile with edges (m, k, n not multiples of 128 or 512). MXFP8 (on-chip
 * quantized weights) within an NMSE bound; MXFP4 and MXFP8Q (pre-quantized weights) bit-exact
 * against the MX matmul contract. LABELS: unit */
#include <math.h>

#include "test_lower_util.h"
#include "trnsim/runtime.h"
#include "trnsim/timing.h"

/* The weight panels of lower.h, worked here independently of the library: every panel 512
 * columns wide but the last, which takes the rest of n rounded up to a multiple of 8; panel i
 * at element 512 i of each per-panel block (512 k i for [k, width] panels). */
static int64_t ref_width(int64_t n, int64_t pi) {
    int64_t np = (n + 511) / 512;
    return pi < np - 1 ? 512 : (n - 512 * (np - 1) + 7) / 8 * 8;
}
static int64_t ref_cols(int64_t n) {
    int64_t np = (n + 511) / 512;
    return 512 * (np - 1) + ref_width(n, np - 1);
}

typedef struct lin_case {
    int ver;
    int64_t m, k, n;
    trn_precision prec;
    trn_dtype x, y;
    int bias;
    trn_act_func act;
    uint64_t sbuf_limit; /* 0: the target's; else forces smaller plans */
    int x_resident;      /* the plan the case exercises: -1 any */
} lin_case;

static float act_ref(trn_act_func a, float v) {
    double x = v;
    switch (a) {
    case TRN_ACT_RELU: return v > 0 ? v : 0.0f;
    case TRN_ACT_GELU: return (float)(0.5 * x * (1.0 + erf(x / sqrt(2.0))));
    case TRN_ACT_SILU: return (float)(x / (1.0 + exp(-x)));
    default: return v;
    }
}

/* One FMA chain over contraction rows rows[0..n) of row m of xq and column col of W, given
 * transposed (wt[col * K + k]) so both walks stay in cache. */
static float chain(const float *xq, const float *wt, int64_t K, int64_t m, int64_t col,
                   const int64_t *rows, int n) {
    const float *xr = xq + m * K, *wc = wt + col * K;
    float acc = 0.0f;
    for (int i = 0; i < n; i++) acc = fmaf(xr[rows[i]], wc[rows[i]], acc);
    return acc;
}

/* x_spill: trn_lower_op.x_spill (nonzero: the plan's spill must follow it); y_out (may be
 * NULL) receives y, M x N. */
static void run_case_ex(const lin_case *lc, int x_spill, double *y_out) {
    int64_t M = lc->m, K = lc->k, N = lc->n;
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_LINEAR;
    op.m = M, op.k = K, op.n = N;
    op.dtype = lc->x, op.out_dtype = lc->y, op.prec = lc->prec, op.bias = lc->bias;
    op.act = lc->act;
    op.sbuf_limit_bytes = lc->sbuf_limit;
    op.x_spill = x_spill;
    trn_lower_linear_plan plan;
    trn_status pst = trn_lower_linear_plan_get(&op, ct_target(lc->ver), &plan, NULL);
    CHECK_EQ_INT(pst, TRN_OK);
    if (pst != TRN_OK) return;
    if (lc->x_resident >= 0) CHECK_EQ_INT(plan.x_resident, lc->x_resident);
    if (x_spill) CHECK_EQ_INT(plan.spill, x_spill > 0);
    trn_dtype mdt = lc->prec == TRN_PREC_FP8 ? TRN_LOWER_FP8_DTYPE : TRN_DTYPE_BF16;
    size_t nwp = (size_t)(K * ref_cols(N));
    double *x = malloc(sizeof(double) * (size_t)(M * K)),
           *w = malloc(sizeof(double) * (size_t)(K * N));
    double *wp = malloc(sizeof(double) * nwp), *b = malloc(sizeof(double) * (size_t)N);
    double *y = malloc(sizeof(double) * (size_t)(M * N));
    float *xq = malloc(sizeof(float) * (size_t)(M * K)),
          *wq = malloc(sizeof(float) * (size_t)(K * N));
    float *ref = malloc(sizeof(float) * (size_t)(M * N));
    uint64_t s = 1000 + (uint64_t)(M + K + N);
    for (int64_t i = 0; i < M * K; i++) {
        float v = lt_round(lc->x, ct_uniform(&s, -2, 2));
        x[i] = v;
        xq[i] = lt_round(mdt, v); /* the on-chip operand: bf16, or FP8 with one RNE cast */
    }
    for (int64_t i = 0; i < K * N; i++) w[i] = wq[i] = lt_round(mdt, ct_uniform(&s, -1, 1));
    for (int64_t i = 0; i < N; i++) b[i] = ct_bf16(ct_uniform(&s, -4, 4));
    trn_lower_pack_panels(w, K, N, wp);
    float *wt = malloc(sizeof(float) * (size_t)(K * N));
    for (int64_t k = 0; k < K; k++)
        for (int64_t col = 0; col < N; col++) wt[col * K + k] = wq[k * N + col];

    /* the reference, in the lowering's documented instruction order */
    int64_t *rows = malloc(sizeof(int64_t) * 256);
    for (int64_t m = 0; m < M; m++)
        for (int64_t col = 0; col < N; col++) {
            float ps = 0;
            int first = 1;
            int64_t k0 = 0;
            while (k0 < K) {
                int slots, prows;
                if (K - k0 >= 128LL * plan.kc)
                    slots = plan.kc, prows = 128;
                else if (K - k0 >= 128)
                    slots = (int)((K - k0) / 128), prows = 128;
                else
                    slots = 1, prows = (int)(K - k0);
                for (int j = 0; j < slots;) {
                    int pair = lc->prec == TRN_PREC_FP8 && prows == 128 && j + 1 < slots;
                    int n = 0;
                    for (int p = 0; p < prows; p++)
                        for (int r = 0; r < (pair ? 2 : 1); r++)
                            rows[n++] = k0 + (int64_t)slots * p + j + r;
                    float tile = chain(xq, wt, K, m, col, rows, n);
                    ps = first ? tile : ps + tile;
                    first = 0;
                    j += pair ? 2 : 1;
                }
                k0 += (int64_t)slots * prows;
            }
            if (lc->bias) ps = ps + (float)b[col];
            ref[m * N + col] = lt_round(lc->y, act_ref(lc->act, ps));
        }
    free(rows);

    trn_program *p = lt_compile(&op, lc->ver);
    trn_core *c = ct_core(p, lc->ver, NULL);
    ct_put(c, "x", x, (size_t)(M * K));
    ct_put(c, "w", wp, nwp);
    if (lc->bias) ct_put(c, "b", b, (size_t)N);
    lt_run(c, "linear");
    CHECK_EQ_INT(ct_get(c, "y", y, (size_t)(M * N)), 0);
    int exact = lc->act == TRN_ACT_COPY || lc->act == TRN_ACT_RELU;
    if (exact) {
        int64_t bad = 0, first = -1;
        for (int64_t i = 0; i < M * N; i++)
            if (test_f32_bits((float)y[i]) != test_f32_bits(ref[i])) {
                if (first < 0) first = i;
                bad++;
            }
        CHECK_MSG(bad == 0,
                  "v%d m=%lld k=%lld n=%lld %s: %lld of %lld differ, first at %lld: %.9g vs %.9g",
                  lc->ver, (long long)M, (long long)K, (long long)N, trn_precision_name(lc->prec),
                  (long long)bad, (long long)(M * N), (long long)first, first >= 0 ? y[first] : 0.0,
                  first >= 0 ? ref[first] : 0.0);
    } else {
        /* 4 ULP of the output type, relative to max(|ref|, 1e-3) */
        double ulp = lc->y == TRN_DTYPE_BF16 ? 0x1p-8 : 0x1p-24;
        double e = lt_max_rel(y, ref, (size_t)(M * N), 1e-3);
        CHECK_MSG(e <= 4 * ulp, "v%d %s: max relative error %.3g > %.3g", lc->ver,
                  trn_act_name(lc->act), e, 4 * ulp);
    }
    if (y_out) memcpy(y_out, y, sizeof(double) * (size_t)(M * N));
    trn_core_destroy(c);
    trn_program_destroy(p);
    free(x), free(w), free(wp), free(b), free(y), free(xq), free(wq), free(wt), free(ref);
}

static void run_case(const lin_case *lc) {
    run_case_ex(lc, 0, NULL);
}

/* Spill to HBM: an SBUF limit leaves x no room to stay resident, so it is either re-transposed
 * for every weight panel or transposed once into HBM scratch and reloaded per panel. Both
 * kernels (the same K chunks: the same instruction order of the matmuls) give y bit for bit
 * equal to the reference and to each other, on the dma_transpose path (v3), TensorE
 * transposes (v2) and FP8 casts (v3); the spilled kernel packs its transposes' tiles into the
 * matmuls' space (offset= in the text, SBUF placed within the limit), and the simulated times
 * of the two are printed (the cost comparison's choice is checked in test_spill_choice). */
static void test_spill(void) {
    static const lin_case base[] = {
        {3, 140, 640, 1100, TRN_PREC_BF16, TRN_DTYPE_BF16, TRN_DTYPE_F32, 0, TRN_ACT_COPY, 7168, 0},
        {2, 140, 640, 1030, TRN_PREC_BF16, TRN_DTYPE_BF16, TRN_DTYPE_F32, 0, TRN_ACT_RELU, 7168, 0},
        {3, 130, 768, 1030, TRN_PREC_FP8, TRN_DTYPE_BF16, TRN_DTYPE_F32, 0, TRN_ACT_COPY, 6144, 0},
    };
    for (size_t i = 0; i < sizeof base / sizeof *base; i++) {
        lin_case a = base[i];
        size_t n = (size_t)(a.m * a.n);
        double *ya = calloc(n, sizeof(double)), *yb = calloc(n, sizeof(double));
        trn_lower_op op = {0};
        op.kind = TRN_LOWER_LINEAR, op.m = a.m, op.k = a.k, op.n = a.n, op.dtype = a.x;
        op.out_dtype = a.y, op.prec = a.prec, op.bias = a.bias, op.act = a.act;
        op.sbuf_limit_bytes = a.sbuf_limit;
        trn_lower_linear_plan pa, pb;
        op.x_spill = 1;
        CHECK_EQ_INT(trn_lower_linear_plan_get(&op, ct_target(a.ver), &pa, NULL), TRN_OK);
        op.x_spill = -1;
        CHECK_EQ_INT(trn_lower_linear_plan_get(&op, ct_target(a.ver), &pb, NULL), TRN_OK);
        CHECK_EQ_INT(pa.kc, pb.kc); /* the same contraction order */
        CHECK_EQ_INT(pa.spill, 1);
        CHECK_EQ_INT(pb.spill, 0);
        CHECK_EQ_INT(pb.x_resident, 0);
        if (pa.kc != pb.kc || !pa.spill || pb.spill) { /* the cases below would not be these */
            free(ya), free(yb);
            continue;
        }
        CHECK(pa.sbuf_bytes <= a.sbuf_limit);
        run_case_ex(&a, 1, ya);
        run_case_ex(&a, -1, yb);
        int64_t bad = 0;
        for (size_t j = 0; j < n; j++)
            bad += test_f32_bits((float)ya[j]) != test_f32_bits((float)yb[j]);
        CHECK_EQ_INT(bad, 0);
        /* the spilled kernel: HBM scratch, every tile placed, the transposes' staging sharing
         * space with the matmuls' tiles */
        op.x_spill = 1;
        char *text = NULL;
        CHECK_EQ_INT(trn_lower_emit(&op, ct_target(a.ver), &text, NULL), TRN_OK);
        if (text) {
            CHECK(strstr(text, ".hbm xh ") != NULL);
            CHECK(strstr(text, "src=xh[") != NULL);
            CHECK(strstr(text, "dma_transpose dst=xt") == NULL &&
                  strstr(text, "nc_transpose") == strstr(text, "nc_transpose dst=tp"));
            const char *xa = strstr(text, ".sbuf xa ");
            CHECK(xa != NULL);
        }
        free(text);
        double t[2];
        for (int k = 0; k < 2; k++) {
            op.x_spill = k ? -1 : 1;
            trn_program *p = lt_compile(&op, a.ver);
            CHECK(p->sbuf_bytes <= a.sbuf_limit);
            char nm[8];
            snprintf(nm, sizeof nm, "v%d", a.ver);
            trn_timing *tm = NULL;
            CHECK_EQ_INT(trn_timing_run(p, trn_hw_core_get(ct_hw_, nm), NULL, NULL, &tm, NULL),
                         TRN_OK);
            t[k] = tm ? trn_timing_report_get(tm)->total_ns : 0;
            trn_timing_destroy(tm);
            trn_program_destroy(p);
        }
        printf(
            "spill v%d m=%lld k=%lld n=%lld %s: spilled %.2f us, re-transposed %.2f us (%.3fx)\n",
            a.ver, (long long)a.m, (long long)a.k, (long long)a.n, trn_precision_name(a.prec),
            t[0] / 1e3, t[1] / 1e3, t[1] / t[0]);
        free(ya);
        free(yb);
    }
}

static void test_cases(void) {
    static const lin_case cases[] = {
        /* v3, dma_transpose path, several groups and a narrow last panel */
        {3, 256, 384, 640, TRN_PREC_BF16, TRN_DTYPE_BF16, TRN_DTYPE_F32, 0, TRN_ACT_COPY, 0, 2},
        /* edges everywhere: 2 token tiles (72 rows in the last), K = 2 slots + 44 rows, bias */
        {3, 200, 300, 600, TRN_PREC_BF16, TRN_DTYPE_BF16, TRN_DTYPE_BF16, 1, TRN_ACT_RELU, 0, -1},
        /* several K chunks (16 slots, then 1, then 24 rows), a 12-row last token tile */
        {4, 140, 2200, 130, TRN_PREC_BF16, TRN_DTYPE_BF16, TRN_DTYPE_F32, 1, TRN_ACT_COPY, 0, -1},
        /* v2: TensorE transposes of strided column sets */
        {2, 200, 384, 520, TRN_PREC_BF16, TRN_DTYPE_BF16, TRN_DTYPE_F32, 1, TRN_ACT_COPY, 0, -1},
        {2, 130, 260, 520, TRN_PREC_BF16, TRN_DTYPE_BF16, TRN_DTYPE_BF16, 0, TRN_ACT_GELU, 0, -1},
        /* f32 activations on v3: TensorE transposes, cast to bf16 on eviction */
        {3, 160, 384, 300, TRN_PREC_BF16, TRN_DTYPE_F32, TRN_DTYPE_F32, 0, TRN_ACT_SILU, 0, -1},
        /* FP8 double-row: pairs of slots, a single-row slot (K = 640 = 4 + 1 slots), tail */
        {3, 136, 640, 520, TRN_PREC_FP8, TRN_DTYPE_BF16, TRN_DTYPE_F32, 0, TRN_ACT_COPY, 0, -1},
        {4, 100, 700, 512, TRN_PREC_FP8, TRN_DTYPE_BF16, TRN_DTYPE_BF16, 1, TRN_ACT_RELU, 0, -1},
        /* x streamed with every weight chunk (an SBUF limit rules out the resident plans):
         * dma_transpose, TensorE transposes, FP8 casts; n = 520 = 512 + a last panel of 8
         * columns, planned with the tiles of the 512-wide first (n = 130 would fit x now) */
        {3, 140, 640, 520, TRN_PREC_BF16, TRN_DTYPE_BF16, TRN_DTYPE_F32, 0, TRN_ACT_COPY, 7168, 0},
        {2, 140, 640, 520, TRN_PREC_BF16, TRN_DTYPE_BF16, TRN_DTYPE_F32, 0, TRN_ACT_RELU, 7168, 0},
        {3, 130, 768, 520, TRN_PREC_FP8, TRN_DTYPE_BF16, TRN_DTYPE_F32, 0, TRN_ACT_COPY, 6144, 0},
        /* one resident block of x (two do not fit), two blocks */
        {3, 300, 640, 520, TRN_PREC_BF16, TRN_DTYPE_BF16, TRN_DTYPE_F32, 0, TRN_ACT_COPY, 19456, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) run_case(&cases[i]);
}

/* MXFP8 on NeuronCore-v4: both operands quantized on chip (E4M3 codes, one E8M0 scale per 32
 * contraction rows), against the unquantized product in double. An element at the top of its
 * block has a relative error of at most 2^-4 (3 mantissa bits, RNE), about 0.018 RMS; values
 * well below their block's maximum lose more (the scale follows the block max), so the output
 * NMSE is above the 2 x 0.018^2 = 6.5e-4 of top-of-block values: measured 1.1e-3 for these
 * uniform inputs. Bound 2e-3 (and above 1e-5: the operands really are quantized). */
static void test_mxfp8(int M, int K, int N) {
    size_t nwp = (size_t)(K * ref_cols(N));
    double *x = malloc(sizeof(double) * M * K), *w = malloc(sizeof(double) * K * N);
    double *wp = malloc(sizeof(double) * nwp), *y = malloc(sizeof(double) * M * N);
    float *ref = malloc(sizeof(float) * M * N);
    uint64_t s = 4242;
    for (int i = 0; i < M * K; i++) x[i] = ct_bf16(ct_uniform(&s, -2, 2));
    for (int i = 0; i < K * N; i++) w[i] = ct_bf16(ct_uniform(&s, -1, 1));
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double a = 0;
            for (int k = 0; k < K; k++) a += x[m * K + k] * w[k * N + n];
            ref[m * N + n] = (float)a;
        }
    trn_lower_pack_mx_panels(w, K, N, wp);
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_LINEAR, op.m = M, op.k = K, op.n = N, op.prec = TRN_PREC_MXFP8;
    op.dtype = TRN_DTYPE_BF16, op.out_dtype = TRN_DTYPE_F32;
    trn_program *p = lt_compile(&op, 4);
    trn_core *c = ct_core(p, 4, NULL);
    ct_put(c, "x", x, M * K);
    ct_put(c, "w", wp, nwp);
    lt_run(c, "linear mxfp8");
    CHECK_EQ_INT(ct_get(c, "y", y, M * N), 0);
    double num = 0, den = 0;
    for (int i = 0; i < M * N; i++)
        num += (y[i] - ref[i]) * (y[i] - ref[i]), den += (double)ref[i] * ref[i];
    CHECK_MSG(num / den <= 2e-3 && num / den > 1e-5, "mxfp8 NMSE %.3g (measured 1.1e-3)",
              num / den);
    trn_core_destroy(c);
    trn_program_destroy(p);
    free(x), free(w), free(wp), free(y), free(ref);
}

/* MXFP4 and MXFP8Q on NeuronCore-v4: w pre-quantized by trn_lower_pack_mx_weights (OCP scale
 * rule), x quantized on chip by quantize_mx (MXFP8 E4M3, NC4 scale rule). Bit-exact against
 * the MX matmul contract (docs/semantics.md): every operand decoded exactly (trn_mx_decode),
 * per 512-row pass one FP32 fused multiply-add chain over k in order from 0, passes added in
 * FP32 in PSUM; x quantized here with the NC4 rule per 32-k block of a row (as quantize_mx
 * does), w decoded from the packed words and scale rows by the layout lower.h documents. The
 * dequantized w is also checked against the original within FP4 / FP8 quantization error. */
static void test_mx_prequant(int M, int K, int N, trn_precision prec, trn_scale_rule rule) {
    trn_dtype el = trn_lower_mx_weight_dtype(prec);
    int bits = el == TRN_DTYPE_FP4_E2M1 ? 4 : 8;
    int64_t KP = (K + 511) / 512;
    size_t nw = (size_t)(KP * 128 * ref_cols(N)), ns = (size_t)(KP * 16 * ref_cols(N));
    double *x = malloc(sizeof(double) * M * K), *w = malloc(sizeof(double) * K * N);
    double *wc = malloc(sizeof(double) * nw), *wsc = malloc(sizeof(double) * ns);
    float *xd = malloc(sizeof(float) * M * K), *wd = malloc(sizeof(float) * K * N);
    double *y = malloc(sizeof(double) * M * N);
    float *ref = malloc(sizeof(float) * M * N);
    uint64_t s = 777 + (uint64_t)prec;
    for (int i = 0; i < M * K; i++) x[i] = ct_bf16(ct_uniform(&s, -2, 2));
    for (int i = 0; i < K * N; i++) w[i] = ct_uniform(&s, -1, 1);
    trn_err err = {0};
    CHECK_EQ_INT(trn_lower_pack_mx_weights(w, K, N, el, rule, wc, wsc, &err), TRN_OK);
    trn_cvt_opts o;
    memset(&o, 0, sizeof o);
    for (int m = 0; m < M; m++)
        for (int b = 0; b < (K + 31) / 32; b++) { /* a last partial block padded with zeros */
            float blk[32];
            uint8_t sc, cd[32];
            for (int i = 0; i < 32; i++) blk[i] = 32 * b + i < K ? (float)x[m * K + 32 * b + i] : 0;
            trn_mx_quantize_block(TRN_DTYPE_FP8_E4M3, TRN_SCALE_NC4, blk, 1, &o, &sc, cd);
            for (int i = 0; i < 32 && 32 * b + i < K; i++)
                xd[m * K + 32 * b + i] = trn_mx_decode(TRN_DTYPE_FP8_E4M3, sc, cd[i]);
        }
    double werr = 0, wden = 0;
    for (int k = 0; k < K; k++)
        for (int n = 0; n < N; n++) {
            int64_t pi = n / 512, c = n % 512, ps = k / 512, p = (k % 512) / 4, j = k % 4;
            int64_t wd_ = ref_width(N, pi);
            uint32_t word = (uint32_t)wc[pi * KP * 128 * 512 + (ps * 128 + p) * wd_ + c];
            uint8_t code = (uint8_t)((word >> (bits * j)) & ((1u << bits) - 1));
            uint8_t sc = (uint8_t)wsc[pi * 16 * KP * 512 + ((k % 512) / 32 * KP + ps) * wd_ + c];
            wd[k * N + n] = trn_mx_decode(el, sc, code);
            werr += (wd[k * N + n] - w[k * N + n]) * (wd[k * N + n] - w[k * N + n]);
            wden += w[k * N + n] * w[k * N + n];
        }
    /* weight NMSE of these uniform weights, measured: FP4 E2M1 (1 mantissa bit) 2.1e-2 with
     * the OCP scale rule (the block max may clamp to 6), 9.8e-3 with NC4; FP8 E4M3 2.4e-3
     * (OCP: clamps at 448) and 5.6e-4 (NC4). Bounds about 1.5x those. */
    int ocp = rule == TRN_SCALE_OCP;
    double wb = el == TRN_DTYPE_FP4_E2M1 ? (ocp ? 3e-2 : 1.5e-2) : (ocp ? 4e-3 : 1e-3);
    CHECK_MSG(werr / wden < wb && werr / wden > wb / 1000, "%s: weight NMSE %.3g (bound %.3g)",
              trn_precision_name(prec), werr / wden, wb);
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            float acc = 0;
            for (int ps = 0; ps < KP; ps++) {
                float t = 0; /* the padded rows contribute fmaf(0, 0, t) = t (t is never -0) */
                for (int k = ps * 512; k < ps * 512 + 512 && k < K; k++)
                    t = fmaf(xd[m * K + k], wd[k * N + n], t);
                acc = ps ? acc + t : t;
            }
            ref[m * N + n] = acc;
        }
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_LINEAR, op.m = M, op.k = K, op.n = N, op.prec = prec;
    op.dtype = TRN_DTYPE_BF16, op.out_dtype = TRN_DTYPE_F32;
    trn_program *p = lt_compile(&op, 4);
    trn_core *c = ct_core(p, 4, NULL);
    ct_put(c, "x", x, (size_t)M * K);
    ct_put(c, "w", wc, nw);
    ct_put(c, "ws", wsc, ns);
    lt_run(c, trn_precision_name(prec));
    CHECK_EQ_INT(ct_get(c, "y", y, (size_t)M * N), 0);
    size_t bad = 0;
    for (int i = 0; i < M * N; i++) bad += test_f32_bits((float)y[i]) != test_f32_bits(ref[i]);
    CHECK_MSG(bad == 0, "%s %dx%dx%d: %zu of %d differ from the MX contract",
              trn_precision_name(prec), M, K, N, bad, M * N);
    trn_core_destroy(c);
    trn_program_destroy(p);
    free(x), free(w), free(wc), free(wsc), free(xd), free(wd), free(y), free(ref);
}

/* The panel layout of lower.h on small and ragged n, checked element by element against the
 * layout worked above (ref_width / ref_cols): the widths the library reports (n = 1 -> 8,
 * 100 -> 104, 600 = 512 + 88, 601 = 512 + 96), every value of trn_lower_pack_panels and
 * trn_lower_pack_mx_panels at its documented place and the padding columns zero. */
static void test_pack_layout(void) {
    static const int64_t ns[] = {1, 8, 100, 128, 600, 601, 1024};
    static const int64_t widths[][2] = {{8, 0},    {8, 0},    {104, 0},  {128, 0},
                                        {512, 88}, {512, 96}, {512, 512}};
    for (size_t t = 0; t < sizeof ns / sizeof *ns; t++) {
        int64_t n = ns[t], np = (n + 511) / 512;
        for (int64_t pi = 0; pi < np; pi++) {
            CHECK_EQ_INT(trn_lower_panel_width(n, pi), widths[t][pi]);
            CHECK_EQ_INT(ref_width(n, pi), widths[t][pi]);
        }
        CHECK_EQ_INT(trn_lower_panel_cols(n), widths[t][0] + widths[t][1]);
        for (int mx = 0; mx < 2; mx++) {
            int64_t k = mx ? 512 : 3, cols = ref_cols(n);
            double *w = malloc(sizeof(double) * (size_t)(k * n));
            double *o = malloc(sizeof(double) * (size_t)(k * cols));
            for (int64_t i = 0; i < k * n; i++) w[i] = (double)(i + 1);
            for (int64_t i = 0; i < k * cols; i++) o[i] = -1; /* every element must be written */
            if (mx)
                trn_lower_pack_mx_panels(w, k, n, o);
            else
                trn_lower_pack_panels(w, k, n, o);
            int64_t bad = 0;
            for (int64_t pi = 0; pi < np; pi++) {
                int64_t wd = ref_width(n, pi);
                const double *pb = o + 512 * k * pi;
                for (int64_t r = 0; r < k; r++)
                    for (int64_t c = 0; c < wd; c++) {
                        int64_t col = 512 * pi + c;
                        double want = col < n ? w[r * n + col] : 0.0;
                        /* MXFP8: row 512 s + 4 p + j at (s, p, 4 c + j) of [k/512, 128, 4 wd] */
                        int64_t at =
                            mx ? ((r / 512 * 128 + r % 512 / 4) * wd + c) * 4 + r % 4 : r * wd + c;
                        bad += pb[at] != want;
                    }
            }
            CHECK_MSG(bad == 0, "pack %s n=%lld: %lld values misplaced", mx ? "mx" : "panels",
                      (long long)n, (long long)bad);
            free(w), free(o);
        }
    }
}

/* Small n (routers: Mixtral's 8 experts, GPT-OSS's 128) and a ragged last panel (600 = 512 +
 * 88): bit-exact against the references, bf16 and FP8 on NeuronCore-v3 (trn2), the MX modes on
 * v4 (trn3). */
static void test_small_n(void) {
    static const int64_t ns[] = {1, 8, 100, 128, 600};
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++) {
        int64_t n = ns[i];
        lin_case a = {3, 3, 640, n, TRN_PREC_BF16, TRN_DTYPE_BF16, TRN_DTYPE_F32, 1, TRN_ACT_COPY,
                      0, -1};
        run_case(&a);
        lin_case f = {3, 130,          768, n, TRN_PREC_FP8, TRN_DTYPE_BF16, TRN_DTYPE_BF16,
                      0, TRN_ACT_RELU, 0,   -1};
        run_case(&f);
        test_mx_prequant(3, 1024, (int)n, TRN_PREC_MXFP4, TRN_SCALE_OCP);
        test_mx_prequant(3, 520, (int)n, TRN_PREC_MXFP8Q, TRN_SCALE_OCP);
    }
    test_mxfp8(130, 512, 100);
    test_mxfp8(130, 1024, 8);
}

/* The HBM bytes a decode step (m = 1) reads, from the runtime's profile: x once (m k 2 bytes,
 * transposed once and resident) plus the weights, k x n_pad (n_pad: n rounded up to 8 for a
 * single panel, 512 + the rest rounded up to 8 beyond) x the bytes per weight: bf16 2, FP8 1,
 * MXFP8 2 (bf16 in HBM, quantized on chip); MXFP4 and MXFP8Q 128 ceil(k / 512) x4-packed words
 * (2 or 4 bytes) plus 16 ceil(k / 512) E8M0 scale bytes per column. */
static void test_hbm_bytes(void) {
    static const struct {
        const char *chip;
        trn_precision prec;
        int64_t k, n, pad; /* pad: n_pad worked by hand */
    } cs[] = {
        {"trn2", TRN_PREC_BF16, 4096, 8, 8},    {"trn2", TRN_PREC_BF16, 1024, 100, 104},
        {"trn2", TRN_PREC_FP8, 1024, 128, 128}, {"trn2", TRN_PREC_BF16, 512, 600, 600},
        {"trn3", TRN_PREC_MXFP8, 1024, 8, 8},   {"trn3", TRN_PREC_MXFP4, 2880, 128, 128},
        {"trn3", TRN_PREC_MXFP8Q, 1024, 1, 8},
    };
    trn_hw *hw = NULL;
    if (trn_hw_create(&hw, NULL) != TRN_OK) {
        CHECK(0);
        return;
    }
    for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) {
        trn_err err = {0};
        trn_runtime *rt = NULL;
        CHECK_EQ_INT(trn_runtime_create(hw, cs[i].chip, &rt, &err), TRN_OK);
        if (!rt) continue;
        int64_t k = cs[i].k, n = cs[i].n, kp = (k + 511) / 512;
        trn_lower_op op = {0};
        op.kind = TRN_LOWER_LINEAR, op.m = 1, op.k = k, op.n = n, op.prec = cs[i].prec;
        op.dtype = TRN_DTYPE_BF16, op.out_dtype = TRN_DTYPE_F32;
        int pq = cs[i].prec == TRN_PREC_MXFP4 || cs[i].prec == TRN_PREC_MXFP8Q;
        size_t nw = (size_t)(pq ? kp * 128 * cs[i].pad : k * cs[i].pad);
        size_t ns = (size_t)(16 * kp * cs[i].pad);
        double *x = calloc((size_t)k, sizeof(double)), *w = calloc(nw, sizeof(double));
        double *ws = calloc(ns, sizeof(double)), *y = calloc((size_t)n, sizeof(double));
        trn_binding in[3] = {{"x", x, (size_t)k}, {"w", w, nw}, {"ws", ws, ns}};
        trn_binding out[1] = {{"y", y, (size_t)n}};
        trn_op_profile prof;
        memset(&prof, 0, sizeof prof);
        trn_status st = trn_runtime_run(rt, &op, in, pq ? 3 : 2, out, 1, &prof, &err);
        CHECK_MSG(st == TRN_OK, "%s: %s", trn_precision_name(cs[i].prec), err.msg);
        uint64_t wb = 0;
        switch (cs[i].prec) {
        case TRN_PREC_FP8: wb = (uint64_t)(k * cs[i].pad); break;
        case TRN_PREC_MXFP4: wb = (uint64_t)(kp * 128 * cs[i].pad * 2 + ns); break;
        case TRN_PREC_MXFP8Q: wb = (uint64_t)(kp * 128 * cs[i].pad * 4 + ns); break;
        default: wb = (uint64_t)(k * cs[i].pad * 2); break;
        }
        uint64_t want = (uint64_t)k * 2 + wb;
        CHECK_MSG(prof.hbm_read_bytes == want,
                  "%s %s k=%lld n=%lld: %llu bytes read, %llu expected", cs[i].chip,
                  trn_precision_name(cs[i].prec), (long long)k, (long long)n,
                  (unsigned long long)prof.hbm_read_bytes, (unsigned long long)want);
        free(x), free(w), free(ws), free(y);
        trn_runtime_destroy(rt);
    }
    trn_hw_destroy(hw);
}

static void test_errors(void) {
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_LINEAR;
    op.m = 128, op.k = 128, op.n = 128;
    op.dtype = op.out_dtype = TRN_DTYPE_BF16;
    trn_err err = {0};
    op.prec = TRN_PREC_FP8;
    CHECK_EQ_INT(trn_lower_check(&op, ct_target(2), &err), TRN_E_UNSUPPORTED);
    CHECK(strstr(err.msg, "fp8") && strstr(err.msg, "v2"));
    op.prec = TRN_PREC_MXFP8;
    CHECK_EQ_INT(trn_lower_check(&op, ct_target(3), &err), TRN_E_UNSUPPORTED);
    CHECK(strstr(err.msg, "mxfp8") && strstr(err.msg, "v3"));
    CHECK_EQ_INT(trn_lower_check(&op, ct_target(4), &err), TRN_E_UNSUPPORTED); /* k = 128 */
    CHECK(strstr(err.msg, "multiple of 512") != NULL);
    op.prec = (trn_precision)trn_precision_find("mxfp4");
    CHECK_EQ_INT(op.prec, TRN_PREC_MXFP4);
    CHECK_EQ_INT(trn_precision_find("mxfp8q"), TRN_PREC_MXFP8Q);
    CHECK_EQ_INT(trn_lower_check(&op, ct_target(3), &err), TRN_E_UNSUPPORTED);
    CHECK(strstr(err.msg, "mxfp4") && strstr(err.msg, "v3"));
    op.k = 130;
    CHECK_EQ_INT(trn_lower_check(&op, ct_target(4), &err), TRN_E_UNSUPPORTED);
    CHECK(strstr(err.msg, "mxfp4") && strstr(err.msg, "multiple of 4"));
    op.k = 128;
    double wv[512] = {0}, cv[128], sv[16];
    CHECK_EQ_INT(trn_lower_pack_mx_weights(wv, 512, 1, TRN_DTYPE_BF16, TRN_SCALE_OCP, cv, sv, &err),
                 TRN_E_INVALID);
    CHECK(strstr(err.msg, "bf16") != NULL);
    CHECK_EQ_INT(
        trn_lower_pack_mx_weights(wv, 258, 1, TRN_DTYPE_FP4_E2M1, TRN_SCALE_OCP, cv, sv, &err),
        TRN_E_INVALID);
    CHECK(strstr(err.msg, "k = 258") != NULL);
    op.prec = TRN_PREC_BF16;
    op.act = TRN_ACT_EXP;
    CHECK_EQ_INT(trn_lower_check(&op, ct_target(3), &err), TRN_E_INVALID);
    CHECK(strstr(err.msg, "exp") != NULL);
    op.act = TRN_ACT_COPY;
    op.k = 0;
    CHECK_EQ_INT(trn_lower_check(&op, ct_target(3), &err), TRN_E_INVALID);
    CHECK(strstr(err.msg, "k = 0") != NULL);
    op.k = 128;
    op.dtype = TRN_DTYPE_INT8;
    CHECK_EQ_INT(trn_lower_check(&op, ct_target(3), &err), TRN_E_INVALID);
    CHECK(strstr(err.msg, "int8") != NULL);
    /* a bias row wider than SBUF cannot be lowered: a clear error, never an overflow */
    op.dtype = TRN_DTYPE_BF16;
    op.bias = 1;
    op.n = 1 << 20;
    char *txt = NULL;
    CHECK_EQ_INT(trn_lower_emit(&op, ct_target(3), &txt, &err), TRN_E_UNSUPPORTED);
    CHECK(txt == NULL && strstr(err.msg, "SBUF") != NULL);
}

/* The plan keeps SBUF within every target, a large GEMM in 512-token blocks (384 on v2, whose
 * PSUM also holds the transposes) with x resident, and the assembler places exactly the bytes
 * the plan counted. */
static void test_plan(void) {
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_LINEAR;
    op.m = 2048, op.k = 14336, op.n = 4096;
    op.dtype = op.out_dtype = TRN_DTYPE_BF16;
    for (int v = 2; v <= 4; v++) {
        trn_lower_linear_plan pl;
        CHECK_EQ_INT(trn_lower_linear_plan_get(&op, ct_target(v), &pl, NULL), TRN_OK);
        CHECK(pl.sbuf_bytes <= ct_target(v)->sbuf_bytes_per_partition);
        CHECK_EQ_INT(pl.tiles, v == 2 ? 3 : 4);
        CHECK_EQ_INT(pl.pe_transpose, v == 2);
        CHECK(pl.x_resident >= 1);
        trn_lower_op small = op;
        small.m = 128 * pl.tiles, small.n = 512; /* one block, one panel: the same tiles */
        trn_program *p = lt_compile(&small, v);
        trn_lower_linear_plan ps;
        CHECK_EQ_INT(trn_lower_linear_plan_get(&small, ct_target(v), &ps, NULL), TRN_OK);
        CHECK_EQ_INT(p->sbuf_bytes, ps.sbuf_bytes);
        trn_program_destroy(p);
    }
}

/* The plan's choice between spill and re-transpose on the dma_transpose path (v3, bf16): with
 * eb_x = eb_m, C_tr = C_ld / frac, so spill iff (np - 1) / frac > np + 1, i.e. from the first
 * np above (1 + frac) / (1 - frac) panels (frac = the catalog's dma_transpose_hbm_frac, 0.9:
 * 19, so 19 panels re-transpose and 20 spill). One panel never spills, even when asked. */
static void test_spill_choice(void) {
    const trn_isa_target *t = ct_target(3);
    double f = t->dma_transpose_frac;
    CHECK(f > 0 && f < 1);
    int64_t npmin = 2;
    while (!((double)(npmin - 1) / f > (double)(npmin + 1))) npmin++;
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_LINEAR, op.m = 140, op.k = 640, op.dtype = TRN_DTYPE_BF16;
    op.out_dtype = TRN_DTYPE_F32, op.sbuf_limit_bytes = 7168;
    trn_lower_linear_plan pl;
    for (int64_t np = npmin - 1; np <= npmin; np++) {
        op.n = np * 512;
        CHECK_EQ_INT(trn_lower_linear_plan_get(&op, t, &pl, NULL), TRN_OK);
        CHECK_EQ_INT(pl.x_resident, 0);
        CHECK_MSG(pl.spill == (np >= npmin), "%lld panels: spill %d", (long long)np, pl.spill);
    }
    op.n = 512, op.x_spill = 1;
    CHECK_EQ_INT(trn_lower_linear_plan_get(&op, t, &pl, NULL), TRN_OK);
    CHECK_EQ_INT(pl.spill, 0);
}

int main(void) {
    test_pack_layout();
    test_cases();
    test_small_n();
    test_hbm_bytes();
    test_mxfp8(130, 1024, 600);
    test_mxfp8(3, 512, 601); /* odd free sizes: a zero column of x, a padded weight column */
    test_mx_prequant(3, 512, 601, TRN_PREC_MXFP4, TRN_SCALE_NC4);
    test_mx_prequant(130, 1024, 600, TRN_PREC_MXFP8Q, TRN_SCALE_OCP);
    test_mx_prequant(3, 512, 601, TRN_PREC_MXFP8Q, TRN_SCALE_NC4);
    /* k not a multiple of 512: a last pass of 32 rows; GPT-OSS's hidden 2880 (5 x 512 + 320) */
    test_mx_prequant(130, 1056, 520, TRN_PREC_MXFP4, TRN_SCALE_OCP);
    test_mx_prequant(3, 2880, 601, TRN_PREC_MXFP4, TRN_SCALE_OCP);
    test_errors();
    test_plan();
    test_spill();
    test_spill_choice();
    ct_done();
    return test_summary();
}

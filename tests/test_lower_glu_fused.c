/* LINEAR with the clamped GLU fused into its eviction (glu_oai = 1, GPT-OSS's gate_up) runs
 * through the runtime (trn_runtime_run) on trn1, trn2 and trn3 and is checked bit for bit
 * against the unfused pair it replaces: LINEAR (same x, packed W, bias; bf16 y) then GLU_OAI
 * (bf16 dtype) on that y, both also through trn_runtime_run. Independently of the kernels, the
 * fused y is also checked bit for bit against GLU_OAI's documented rounding (lower.h: the clamps
 * exact, alpha g FP32, the sigmoid, g sigmoid and u + 1 rounded to bf16, the product to the
 * output dtype) worked here in C on the unfused LINEAR's y, and (bf16 weights, k <= 200) that
 * y against FP64 x W + b: the products of bf16 values are exact in FP32, each of the k + 1 FP32
 * additions errs by at most 2^-24 of a partial sum under k + 2 (|x|, |w| <= 1, |b| <= 2), and
 * the bf16 rounding by 2^-9 relative: |err| / max(|ref|, 1) <= 2^-9 + (k + 1)(k + 2) 2^-24,
 * under 2^-7 for k <= 200. Shapes: m not a multiple of 128, n = 2I for I = 2880 (GPT-OSS, 12
 * panels, the last 128 wide), 100 (one narrow panel) and 8, k with a partial 128-row slot, with
 * bias; bf16 and f32 outputs; FP8 weights on trn2, MXFP4 on trn3 (k = 2880 included), and the
 * spill plan (x transposed once into HBM scratch, reloaded per panel: plan checked) on all
 * three. Bad options are rejected naming the field, and the key tells the fused op from the
 * plain one. The runner's route: a small GPT-OSS (experts fused) gives the same tokens and
 * logits, bit for bit, on 1 and on 8 cores (gate_up split by columns at even boundaries).
 * LABELS: unit */
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_lower_util.h"
#include "trnsim/run.h"
#include "trnsim/runtime.h"

static trn_hw *hw;
static const char *const chips[3] = {"trn1", "trn2", "trn3"};
static trn_runtime *rts[3];

static double sigm(double x) {
    return 1.0 / (1.0 + exp(-x));
}

/* GLU_OAI's documented steps on one gate, up pair of bf16 values (test_lower_moe.c's
 * reference, dtype bf16): the output before its rounding to out_dtype. */
static float ref_glu(float g, float u, float L, float A) {
    const trn_dtype b = TRN_DTYPE_BF16;
    float gc = lt_round(b, g < L ? g : L);
    float sg = lt_round(b, (float)sigm((double)(A * gc)));
    float gl = lt_round(b, gc * sg);
    float uc = lt_round(b, u > L ? L : u < -L ? -L : u);
    return lt_round(b, uc + 1.0f) * gl;
}

static trn_status run(int c, const trn_lower_op *op, trn_binding *in, int nin, double *y, size_t ny,
                      trn_err *err) {
    trn_binding out[1] = {{"y", y, ny}};
    return trn_runtime_run(rts[c], op, in, nin, out, 1, NULL, err);
}

/* One shape on chip c: the fused LINEAR against LINEAR then GLU_OAI, and the references. */
static void test_fused(int c, int64_t m, int64_t k, int64_t n, trn_dtype yt, trn_precision prec,
                       double alpha, double limit, uint64_t sbuf) {
    uint64_t s = 900 + (uint64_t)(m * 7 + k * 3 + n) + (uint64_t)c;
    int64_t cols = trn_lower_panel_cols(n), kp = (k + 511) / 512, I = n / 2;
    int pq = prec == TRN_PREC_MXFP4;
    size_t nx = (size_t)(m * k), nwt = (size_t)(k * n), ng = (size_t)(m * n), ny = (size_t)(m * I);
    size_t nw = (size_t)(pq ? kp * 128 * cols : k * cols), ns = (size_t)(16 * kp * cols);
    double *x = malloc(nx * sizeof *x), *w = malloc(nwt * sizeof *w),
           *b = malloc((size_t)n * sizeof *b);
    double *wp = calloc(nw, sizeof *wp), *ws = pq ? calloc(ns, sizeof *ws) : NULL;
    double *g = malloc(ng * sizeof *g), *yu = malloc(ny * sizeof *yu),
           *yf = malloc(ny * sizeof *yf);
    if (!x || !w || !b || !wp || (pq && !ws) || !g || !yu || !yf) {
        CHECK(0);
        goto done;
    }
    for (size_t i = 0; i < nx; i++) x[i] = lt_round(TRN_DTYPE_BF16, ct_uniform(&s, -1, 1));
    for (size_t i = 0; i < nwt; i++) w[i] = lt_round(TRN_DTYPE_BF16, ct_uniform(&s, -1, 1));
    for (int64_t j = 0; j < n; j++) b[j] = lt_round(TRN_DTYPE_BF16, ct_uniform(&s, -2, 2));
    trn_err err = {0};
    if (pq)
        CHECK_EQ_INT(
            trn_lower_pack_mx_weights(w, k, n, TRN_DTYPE_FP4_E2M1, TRN_SCALE_OCP, wp, ws, &err),
            TRN_OK);
    else
        trn_lower_pack_panels(w, k, n, wp);
    trn_binding in[4] = {{"x", x, nx}, {"w", wp, nw}, {"b", b, (size_t)n}, {"ws", ws, ns}};
    int nin = pq ? 4 : 3;

    /* the unfused pair */
    trn_lower_op lin = {0};
    lin.kind = TRN_LOWER_LINEAR, lin.m = m, lin.k = k, lin.n = n, lin.prec = prec;
    lin.dtype = lin.out_dtype = TRN_DTYPE_BF16, lin.bias = 1, lin.act = TRN_ACT_COPY;
    lin.sbuf_limit_bytes = sbuf, lin.x_spill = sbuf ? 1 : 0; /* sbuf: the spill plan */
    trn_status st = run(c, &lin, in, nin, g, ng, &err);
    CHECK_MSG(st == TRN_OK, "linear %s: %s", chips[c], err.msg);
    trn_lower_op glu = {0};
    glu.kind = TRN_LOWER_GLU_OAI, glu.m = m, glu.n = I, glu.alpha = alpha, glu.limit = limit;
    glu.dtype = TRN_DTYPE_BF16, glu.out_dtype = yt;
    trn_binding gin[1] = {{"x", g, ng}};
    st = run(c, &glu, gin, 1, yu, ny, &err);
    CHECK_MSG(st == TRN_OK, "glu_oai %s: %s", chips[c], err.msg);

    /* the fused kernel */
    trn_lower_op fu = lin;
    fu.out_dtype = yt, fu.glu_oai = 1, fu.alpha = alpha, fu.limit = limit;
    if (sbuf) {
        trn_lower_linear_plan pl;
        CHECK_EQ_INT(trn_lower_linear_plan_get(&fu, ct_target(c + 2), &pl, &err), TRN_OK);
        CHECK_MSG(pl.spill == 1, "fused %s: plan without spill", chips[c]);
    }
    st = run(c, &fu, in, nin, yf, ny, &err);
    CHECK_MSG(st == TRN_OK, "fused %s m=%lld n=%lld: %s", chips[c], (long long)m, (long long)n,
              err.msg);

    /* the unfused LINEAR's y against FP64 (bf16 only: FP8 and MX quantize the operands) */
    if (prec == TRN_PREC_BF16 && k <= 200) {
        double worst = 0;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double r = b[j];
                for (int64_t q = 0; q < k; q++) r += x[i * k + q] * w[q * n + j];
                double d = fabs(g[i * n + j] - r) / fmax(fabs(r), 1.0);
                if (!(d <= worst)) worst = d;
            }
        CHECK_MSG(worst <= 1.0 / 128, "linear %s m=%lld n=%lld: worst error %.3g > 2^-7", chips[c],
                  (long long)m, (long long)n, worst);
    }
    size_t bad_pair = 0, bad_ref = 0, clamped = 0;
    float L = (float)limit, A = (float)alpha;
    for (size_t i = 0; i < ny; i++) {
        float gg = (float)g[2 * i], uu = (float)g[2 * i + 1];
        float r = lt_round(yt, ref_glu(gg, uu, L, A));
        clamped += gg > L || uu > L || uu < -L;
        bad_pair += test_f32_bits((float)yf[i]) != test_f32_bits((float)yu[i]);
        bad_ref += test_f32_bits((float)yf[i]) != test_f32_bits(r);
    }
    CHECK_MSG(bad_pair == 0, "fused %s %s m=%lld k=%lld n=%lld: %zu of %zu differ from the pair",
              chips[c], trn_precision_name(prec), (long long)m, (long long)k, (long long)n,
              bad_pair, ny);
    CHECK_MSG(bad_ref == 0, "fused %s m=%lld n=%lld: %zu of %zu differ from the reference",
              chips[c], (long long)m, (long long)n, bad_ref, ny);
    /* the clamps act on some values (the shapes with a few thousand pairs) */
    CHECK_MSG(ny < 1000 || clamped > 0, "fused %s n=%lld: no value reaches the limit", chips[c],
              (long long)n);
done:
    free(x), free(w), free(b), free(wp), free(ws), free(g), free(yu), free(yf);
}

/* Options rejected with the field named; the key differs. */
static void test_errors(void) {
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_LINEAR, op.m = 130, op.k = 64, op.n = 200, op.bias = 1;
    op.dtype = op.out_dtype = TRN_DTYPE_BF16, op.act = TRN_ACT_COPY;
    op.glu_oai = 1, op.alpha = 1.702, op.limit = 7.0;
    trn_err err = {0};
    CHECK_EQ_INT(trn_lower_check(&op, ct_target(3), &err), TRN_OK);
    char k0[512], k1[512];
    trn_lower_key(&op, k1, sizeof k1);
    trn_lower_op pl = op;
    pl.glu_oai = 0;
    trn_lower_key(&pl, k0, sizeof k0);
    CHECK(strcmp(k0, k1) != 0);
    CHECK_CONTAINS(k1, "glu=1");
    trn_lower_op o = op;
    o.n = 201;
    CHECK_EQ_INT(trn_lower_check(&o, ct_target(3), &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "n = 201");
    o = op, o.act = TRN_ACT_SILU;
    CHECK_EQ_INT(trn_lower_check(&o, ct_target(3), &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "act = silu");
    o = op, o.limit = 0;
    CHECK_EQ_INT(trn_lower_check(&o, ct_target(3), &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "limit = 0");
    o = op, o.limit = INFINITY;
    CHECK_EQ_INT(trn_lower_check(&o, ct_target(3), &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "limit");
    o = op, o.alpha = NAN;
    CHECK_EQ_INT(trn_lower_check(&o, ct_target(3), &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "alpha");
    o = op, o.glu_oai = 2;
    CHECK_EQ_INT(trn_lower_check(&o, ct_target(3), &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "glu_oai = 2");
    o = op, o.kind = TRN_LOWER_GLU_OAI, o.n = 100;
    CHECK_EQ_INT(trn_lower_check(&o, ct_target(3), &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "glu_oai = 1");
    /* the emitter refuses as the check does */
    char *tasm = NULL;
    o = op, o.n = 7;
    CHECK_EQ_INT(trn_lower_emit(&o, ct_target(3), &tasm, &err), TRN_E_INVALID);
    CHECK(tasm == NULL);
    free(tasm);
}

/* A small GPT-OSS (the runner fuses its experts' GLU; I = 36: gate_up n = 72) run on 1 and on
 * 8 cores of trn2: the 8-core split cuts gate_up by columns at even boundaries (pieces of 10
 * columns, 5 outputs, not panel- or 8-aligned), and the logits and tokens are identical. */
static const char *const OSS_CFG =
    "{\"architectures\": [\"GptOssForCausalLM\"], \"model_type\": \"gpt_oss\", \"hidden_size\": 64,"
    " \"intermediate_size\": 36, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
    " \"num_key_value_heads\": 2, \"head_dim\": 16, \"num_local_experts\": 4,"
    " \"num_experts_per_tok\": 2, \"vocab_size\": 256, \"max_position_embeddings\": 512,"
    " \"sliding_window\": 4, \"layer_types\": [\"sliding_attention\", \"full_attention\"],"
    " \"attention_bias\": true, \"swiglu_limit\": 7.0, \"rms_norm_eps\": 1e-05, \"rope_theta\":"
    " 150000, \"tie_word_embeddings\": false}";

static void test_model_split(void) {
    char dir[64] = "/tmp/trn_test_glu_XXXXXX", path[96];
    TRN_ASSERT(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    TRN_ASSERT(f && fputs(OSS_CFG, f) >= 0 && fclose(f) == 0);
    trn_err err = {0};
    trn_run_model *rm = NULL;
    CHECK_MSG(trn_run_model_open(path, 0, 7, &rm, &err) == TRN_OK, "%s", err.msg);
    int32_t prompt[6] = {3, 141, 59, 26, 5, 35};
    trn_run_result res[2];
    memset(res, 0, sizeof res);
    for (int k = 0; rm && k < 2; k++) {
        trn_run_opts o = {0};
        o.cores = k ? 8 : 1;
        trn_run *run = NULL;
        CHECK_EQ_INT(trn_run_create(trn_run_model_model(rm), trn_run_model_weights(rm), rts[1], &o,
                                    &run, &err),
                     TRN_OK);
        trn_status st = trn_run_generate(run, prompt, 6, 2, NULL, 1, NULL, NULL, &res[k], &err);
        CHECK_MSG(st == TRN_OK, "gpt-oss on %d cores: %s", o.cores, err.msg);
        trn_run_destroy(run);
    }
    if (rm && res[0].logits && res[1].logits) {
        CHECK(memcmp(res[0].tokens, res[1].tokens, 2 * sizeof(int32_t)) == 0);
        CHECK(memcmp(res[0].logits, res[1].logits, (size_t)(2 * res[0].vocab) * sizeof(float)) ==
              0);
    }
    trn_run_result_fini(&res[0]);
    trn_run_result_fini(&res[1]);
    trn_run_model_close(rm);
    remove(path);
    rmdir(dir);
}

int main(void) {
    if (trn_hw_create(&hw, NULL) != TRN_OK) return 2;
    trn_err err = {0};
    for (int c = 0; c < 3; c++)
        if (trn_runtime_create(hw, chips[c], &rts[c], &err) != TRN_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 2;
        }
    test_errors();
    test_model_split();
    for (int c = 0; c < 3; c++) {
        test_fused(c, 200, 136, 5760, TRN_DTYPE_BF16, TRN_PREC_BF16, 1.702, 3.0, 0); /* I = 2880 */
        test_fused(c, 130, 64, 200, TRN_DTYPE_BF16, TRN_PREC_BF16, 1.702, 7.0, 0);   /* I = 100 */
        test_fused(c, 5, 40, 16, TRN_DTYPE_F32, TRN_PREC_BF16, 0.5, 1.0, 0);         /* I = 8 */
    }
    test_fused(1, 300, 136, 1030, TRN_DTYPE_BF16, TRN_PREC_FP8, 1.702, 3.0, 0);
    test_fused(2, 130, 136, 200, TRN_DTYPE_BF16, TRN_PREC_MXFP4, 1.702, 3.0, 0);
    test_fused(2, 200, 2880, 1200, TRN_DTYPE_BF16, TRN_PREC_MXFP4, 1.702, 7.0, 0);
    for (int c = 0; c < 3; c++) /* x spilled, reloaded per panel; the eviction is the same */
        test_fused(c, 300, 1100, 1040, TRN_DTYPE_BF16, TRN_PREC_BF16, 1.702, 7.0, 12288);
    for (int c = 0; c < 3; c++) trn_runtime_destroy(rts[c]);
    trn_hw_destroy(hw);
    return test_summary();
}

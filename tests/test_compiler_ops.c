/* Each reference op on a hand-built graph with small inputs whose results are worked out by
 * hand here (softmax, GELU forms, SiLU, the GPT-OSS clamped SwiGLU, norms, RoPE, attention with
 * and without sinks and windows, sigmoid routing, slicing), through trn_ref_op, the loop
 * trn_ref_run uses.
 * LABELS: unit */
#include "harness.h"
#include "trnsim/graph.h"

static trn_model *model;
static trn_graph *g;
static void *buf[64];

static void fresh(void) {
    trn_graph_destroy(g);
    memset(buf, 0, sizeof buf);
    trn_step st = {1, 0, 4, 0};
    trn_err err = {0};
    g = NULL;
    CHECK(trn_graph_init(trn_model_config_of(model), &st, &g, &err) == TRN_OK);
}

/* A tensor holding `v` (n floats, or int32 when dt is INT32). */
static int tin(const char *name, int rank, const int64_t *shape, trn_dtype dt, const void *v) {
    trn_err err = {0};
    int i = trn_graph_tensor(g, name, TRN_GROLE_ACTIVATION, dt, rank, shape, &err);
    CHECK_MSG(i >= 0, "%s", err.msg);
    if (i >= 0) buf[i] = (void *)v;
    return i;
}

static float *outb[2]; /* malloc'd: the router writes int32 ids into outb[0] */

/* Adds op and runs it; returns its first output's data. */
static const float *run(trn_gop op, int nin, const int *in) {
    trn_err err = {0};
    op.nin = nin;
    for (int i = 0; i < nin; i++) op.in[i] = in[i];
    snprintf(op.label, sizeof op.label, "t");
    int o = trn_graph_op(g, &op, "out", "out_w", &err);
    CHECK_MSG(o >= 0, "%s", err.msg);
    if (o < 0) return outb[0];
    memset(outb[0], 0, 64 * sizeof(float));
    memset(outb[1], 0, 64 * sizeof(float));
    buf[o] = outb[0];
    if (g->ops[g->nops - 1].nout > 1) buf[g->ops[g->nops - 1].out[1]] = outb[1];
    CHECK_MSG(trn_ref_op(g, g->nops - 1, buf, &err) == TRN_OK, "%s", err.msg);
    return outb[0];
}

static trn_gop mk(trn_op_kind k) {
    trn_gop o;
    memset(&o, 0, sizeof o);
    o.kind = k;
    return o;
}

#define SH(...) ((const int64_t[]){__VA_ARGS__})

static void test_elementwise(void) {
    fresh();
    /* softmax(0, ln 2, ln 3) = (1, 2, 3) / 6 */
    static const float s[3] = {0.0f, 0.69314718f, 1.09861229f};
    int x = tin("x", 2, SH(1, 3), TRN_DTYPE_F32, s);
    const float *y = run(mk(TRN_GOP_SOFTMAX), 1, &x);
    CHECK_NEAR(y[0], 1 / 6.0, 1e-7);
    CHECK_NEAR(y[1], 2 / 6.0, 1e-7);
    CHECK_NEAR(y[2], 3 / 6.0, 1e-7);
    fresh();
    static const float a[4] = {1, -2, 0, 3};
    x = tin("x", 2, SH(2, 2), TRN_DTYPE_F32, a);
    /* GELU tanh form at 1: 0.5 (1 + tanh(sqrt(2/pi) 1.044715)) = 0.84119199 */
    y = run(mk(TRN_GOP_GELU_TANH), 1, &x);
    CHECK_NEAR(y[0], 0.8411919906082768, 1e-7);
    CHECK_NEAR(y[2], 0, 0);
    fresh();
    x = tin("x", 2, SH(2, 2), TRN_DTYPE_F32, a);
    y = run(mk(TRN_GOP_GELU), 1, &x); /* exact GELU(1) = Phi(1) = 0.84134475 */
    CHECK_NEAR(y[0], 0.8413447460685429, 1e-7);
    CHECK_NEAR(y[1], -2 * 0.022750131948179, 1e-7); /* -2 Phi(-2) */
    fresh();
    x = tin("x", 2, SH(2, 2), TRN_DTYPE_F32, a);
    y = run(mk(TRN_GOP_SILU), 1, &x); /* 1 sigmoid(1), -2 sigmoid(-2) */
    CHECK_NEAR(y[0], 0.7310585786300049, 1e-7);
    CHECK_NEAR(y[1], -0.2384058440442351, 1e-7);
    fresh();
    static const float b[4] = {2, 0.5f, 7, -1};
    x = tin("x", 2, SH(2, 2), TRN_DTYPE_F32, a);
    int z = tin("z", 2, SH(2, 2), TRN_DTYPE_F32, b);
    y = run(mk(TRN_GOP_MUL), 2, (int[]){x, z});
    CHECK_NEAR(y[1], -1, 0);
    CHECK_NEAR(y[3], -3, 0);
    fresh();
    x = tin("x", 2, SH(2, 2), TRN_DTYPE_F32, a);
    z = tin("z", 2, SH(2, 2), TRN_DTYPE_F32, b);
    y = run(mk(TRN_GOP_SWIGLU), 2, (int[]){x, z}); /* silu(1) x 2 */
    CHECK_NEAR(y[0], 2 * 0.7310585786300049, 1e-7);
    fresh();
    /* GPT-OSS: (gate, up) pairs (10, -9) and (1, 0.5), alpha 1.702, limit 7:
     * gate 10 -> 7, up -9 -> -7: (-7 + 1) 7 sigmoid(11.914); (0.5 + 1) 1 sigmoid(1.702) */
    static const float gu[4] = {10, -9, 1, 0.5f};
    x = tin("x", 2, SH(1, 4), TRN_DTYPE_F32, gu);
    trn_gop o = mk(TRN_GOP_SWIGLU_OAI);
    o.alpha = 1.702;
    o.limit = 7;
    y = run(o, 1, &x);
    CHECK_NEAR(y[0], -42 / (1 + exp(-11.914)), 1e-5);
    CHECK_NEAR(y[1], 1.5 / (1 + exp(-1.702)), 1e-7);
    fresh();
    x = tin("x", 2, SH(2, 2), TRN_DTYPE_F32, a);
    o = mk(TRN_GOP_SLICE_COLS);
    o.col0 = 1;
    o.cols = 1;
    y = run(o, 1, &x);
    CHECK_NEAR(y[0], -2, 0);
    CHECK_NEAR(y[1], 3, 0);
    fresh();
    x = tin("x", 2, SH(2, 2), TRN_DTYPE_F32, a);
    y = run(mk(TRN_GOP_LAST_ROW), 1, &x);
    CHECK_NEAR(y[0], 0, 0);
    CHECK_NEAR(y[1], 3, 0);
}

static void test_norms(void) {
    fresh();
    /* LayerNorm of (1, 2, 3, 4): mean 2.5, variance 1.25 -> (x - 2.5) / sqrt(1.25); w = 1,
     * b = (0, 0, 0, 1) */
    static const float x4[4] = {1, 2, 3, 4}, one[4] = {1, 1, 1, 1}, b[4] = {0, 0, 0, 1};
    int x = tin("x", 2, SH(1, 4), TRN_DTYPE_F32, x4);
    int w = tin("w", 1, SH(4), TRN_DTYPE_F32, one);
    int bb = tin("b", 1, SH(4), TRN_DTYPE_F32, b);
    trn_gop o = mk(TRN_GOP_LAYERNORM);
    o.eps = 1e-12;
    const float *y = run(o, 3, (int[]){x, w, bb});
    CHECK_NEAR(y[0], -1.5 / sqrt(1.25), 1e-6);
    CHECK_NEAR(y[3], 1.5 / sqrt(1.25) + 1, 1e-6);
    fresh();
    /* RMSNorm of (3, 4): mean square 12.5 -> (3, 4) / sqrt(12.5), times w = (2, 1) */
    static const float x2[2] = {3, 4}, w2[2] = {2, 1};
    x = tin("x", 2, SH(1, 2), TRN_DTYPE_F32, x2);
    w = tin("w", 1, SH(2), TRN_DTYPE_F32, w2);
    o = mk(TRN_GOP_RMSNORM);
    o.eps = 1e-12;
    y = run(o, 2, (int[]){x, w});
    CHECK_NEAR(y[0], 6 / sqrt(12.5), 1e-6);
    CHECK_NEAR(y[1], 4 / sqrt(12.5), 1e-6);
}

/* RoPE of one head, d = 4, inv_freq (1, 0.5), at position 2: pairs (0, 2) turn by 2 rad, (1, 3)
 * by 1 rad; x = (1, 0, 0, 1) -> (cos 2, -sin 1, sin 2, cos 1), times the factor 1.5. */
static void test_rope(void) {
    fresh();
    static const float x4[4] = {1, 0, 0, 1}, inv[2] = {1, 0.5f};
    int x = tin("x", 2, SH(1, 4), TRN_DTYPE_F32, x4);
    int f = tin("f", 1, SH(2), TRN_DTYPE_F32, inv);
    trn_gop o = mk(TRN_GOP_ROPE);
    o.heads = 1;
    o.head_dim = 4;
    o.pos0 = 2;
    o.scale = 1.5;
    const float *y = run(o, 2, (int[]){x, f});
    CHECK_NEAR(y[0], 1.5 * cos(2), 1e-6);
    CHECK_NEAR(y[1], -1.5 * sin(1), 1e-6);
    CHECK_NEAR(y[2], 1.5 * sin(2), 1e-6);
    CHECK_NEAR(y[3], 1.5 * cos(1), 1e-6);
}

/* One head of width 1 at position 1; the cache holds k = 0, v = 10 at position 0; the new
 * token has q = 1, k = ln 3, v = 2. Scores (0, ln 3): weights (1, 3) / 4 -> 4. With a sink
 * logit ln 4: (1, 3, 4) / 8 -> 2. With window 1: only itself -> 2 (v). */
static void attn_case(int sink, int64_t window, double want) {
    fresh();
    static const float q[1] = {1}, k[1] = {1.0986122886681098f}, v[1] = {2},
                       s[1] = {1.3862943611198906f};
    static float kc[4], vc[4];
    memset(kc, 0, sizeof kc);
    memset(vc, 0, sizeof vc);
    vc[0] = 10;
    int iq = tin("q", 2, SH(1, 1), TRN_DTYPE_F32, q);
    int ik = tin("k", 2, SH(1, 1), TRN_DTYPE_F32, k);
    int iv = tin("v", 2, SH(1, 1), TRN_DTYPE_F32, v);
    int ikc = tin("kc", 2, SH(4, 1), TRN_DTYPE_F32, kc);
    int ivc = tin("vc", 2, SH(4, 1), TRN_DTYPE_F32, vc);
    int is = tin("s", 1, SH(1), TRN_DTYPE_F32, s);
    trn_gop o = mk(TRN_GOP_ATTENTION);
    o.heads = o.kv_heads = o.head_dim = 1;
    o.pos0 = 1;
    o.window = window;
    o.scale = 1;
    const float *y = run(o, sink ? 6 : 5, (int[]){iq, ik, iv, ikc, ivc, is});
    CHECK_NEAR(y[0], want, 1e-6);
    CHECK_NEAR(kc[1], 1.0986122886681098, 1e-7); /* the new row is in the cache */
    CHECK_NEAR(vc[1], 2, 0);
}

/* GQA: 2 query heads share 1 KV head (both read the same keys and values). */
static void test_gqa(void) {
    fresh();
    static const float q[2] = {1, -1}, k[1] = {1}, v[1] = {5};
    static float kc[2], vc[2];
    kc[0] = 0;
    vc[0] = 1;
    int iq = tin("q", 2, SH(1, 2), TRN_DTYPE_F32, q);
    int ik = tin("k", 2, SH(1, 1), TRN_DTYPE_F32, k);
    int iv = tin("v", 2, SH(1, 1), TRN_DTYPE_F32, v);
    int ikc = tin("kc", 2, SH(2, 1), TRN_DTYPE_F32, kc);
    int ivc = tin("vc", 2, SH(2, 1), TRN_DTYPE_F32, vc);
    trn_gop o = mk(TRN_GOP_ATTENTION);
    o.heads = 2;
    o.kv_heads = 1;
    o.head_dim = 1;
    o.pos0 = 1;
    o.scale = 1;
    const float *y = run(o, 5, (int[]){iq, ik, iv, ikc, ivc});
    /* head 0: scores (0, 1): (1 + 5e) / (1 + e); head 1: scores (0, -1): (1 + 5/e) / (1 + 1/e) */
    double e = exp(1.0);
    CHECK_NEAR(y[0], (1 + 5 * e) / (1 + e), 1e-6);
    CHECK_NEAR(y[1], (1 + 5 / e) / (1 + 1 / e), 1e-6);
}

/* Sigmoid routing: logits (0, ln 3, -ln 3) -> scores (1/2, 3/4, 1/4); top-2 = experts 1, 0
 * with weights 0.75 / 1.25 = 0.6 and 0.4. Softmax-top-k on the same logits: softmax
 * (1, 3, 1/3) / (13/3) -> experts 1, 0 renormalized (3, 1) / 4. */
static void test_router(void) {
    static const float x1[1] = {1}, w[3] = {0, 1.0986122886681098f, -1.0986122886681098f};
    const trn_gating gs[2] = {TRN_GATE_SIGMOID_TOPK, TRN_GATE_SOFTMAX_TOPK};
    const double w0[2] = {0.6, 0.75};
    for (int i = 0; i < 2; i++) {
        fresh();
        int x = tin("x", 2, SH(1, 1), TRN_DTYPE_F32, x1);
        int iw = tin("w", 2, SH(3, 1), TRN_DTYPE_F32, w);
        trn_gop o = mk(TRN_GOP_MOE_ROUTER);
        o.k = 2;
        o.gating = gs[i];
        run(o, 2, (int[]){x, iw});
        const int32_t *ids = (const int32_t *)outb[0];
        CHECK_EQ_INT(ids[0], 1);
        CHECK_EQ_INT(ids[1], 0);
        CHECK_NEAR(outb[1][0], w0[i], 1e-6);
        CHECK_NEAR(outb[1][1], 1 - w0[i], 1e-6);
    }
}

static void test_errors(void) {
    fresh();
    static const float a[2] = {1, 2};
    int x = tin("x", 2, SH(1, 2), TRN_DTYPE_F32, a);
    trn_gop o = mk(TRN_GOP_SILU);
    o.nin = 1;
    o.in[0] = x;
    trn_err err = {0};
    CHECK(trn_graph_op(g, &o, "y", NULL, &err) >= 0);
    CHECK(trn_ref_op(g, 0, buf, &err) == TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "no buffer for output 'y'");
    CHECK(trn_ref_op(g, 5, buf, &err) == TRN_E_RANGE);
    buf[x] = NULL;
    CHECK(trn_ref_op(g, 0, buf, &err) == TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "no data for input 0 'x'");
}

int main(void) {
    trn_err err = {0};
    CHECK(trn_model_load("llama-3-8b", &model, &err) == TRN_OK);
    if (!model) return test_summary();
    outb[0] = calloc(64, sizeof(float));
    outb[1] = calloc(64, sizeof(float));
    test_elementwise();
    test_norms();
    test_rope();
    attn_case(0, 0, 4.0);
    attn_case(1, 0, 2.0);
    attn_case(0, 1, 2.0);
    test_gqa();
    test_router();
    test_errors();
    trn_graph_destroy(g);
    trn_model_destroy(model);
    free(outb[0]);
    free(outb[1]);
    return test_summary();
}

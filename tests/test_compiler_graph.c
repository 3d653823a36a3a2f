/* The graph IR and the builders: the weights of the graph of every catalog model of the four
 * families add up to the model layer's parameter count (an independent count from the config),
 * HF tensor names and shapes, prefill/decode step shapes, shape errors at build time, the
 * RoPE frequency tables (default, llama3, yarn) against the formulas worked out here, and
 * unsupported families.
 * LABELS: unit */
#include "harness.h"
#include "trnsim/graph.h"

static trn_model *load(const char *name) {
    trn_model *m = NULL;
    trn_err err = {0};
    CHECK_MSG(trn_model_load(name, &m, &err) == TRN_OK, "%s: %s", name, err.msg);
    return m;
}

static trn_graph *build(const trn_model *m, int64_t T, int64_t pos0, int64_t ctx, int all) {
    trn_step st = {T, pos0, ctx, all};
    trn_graph *g = NULL;
    trn_err err = {0};
    CHECK_MSG(trn_graph_build(m, &st, &g, &err) == TRN_OK, "%s", err.msg);
    return g;
}

static const trn_gtensor *tensor(const trn_graph *g, const char *name) {
    int i = trn_graph_find(g, name);
    CHECK_MSG(i >= 0, "no tensor %s", name);
    return i >= 0 ? &g->tensors[i] : NULL;
}

static void check_shape(const trn_graph *g, const char *name, int rank, int64_t d0, int64_t d1,
                        int64_t d2) {
    const trn_gtensor *t = tensor(g, name);
    if (!t) return;
    CHECK_EQ_INT(t->rank, rank);
    CHECK_EQ_INT(t->shape[0], d0);
    if (rank > 1) CHECK_EQ_INT(t->shape[1], d1);
    if (rank > 2) CHECK_EQ_INT(t->shape[2], d2);
}

/* Sum of the graph's weight elements = the model layer's total parameter count. */
static void test_catalog_params(void) {
    const char *names[] = {"llama-3-8b",  "llama-3.1-70b", "llama-2-7b", "mixtral-8x7b",
                           "gpt-oss-20b", "gpt-oss-120b",  "gpt-3-175b"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        trn_model *m = load(names[i]);
        if (!m) continue;
        trn_graph *g = build(m, 1, 0, 16, 0);
        if (g) {
            int64_t sum = 0;
            for (int k = 0; k < g->ntensors; k++)
                if (g->tensors[k].role == TRN_GROLE_WEIGHT)
                    sum += trn_gtensor_elems(&g->tensors[k]);
            trn_model_params p;
            trn_model_params_of(m, &p);
            CHECK_MSG(sum == p.total, "%s: graph weights %lld, model params %lld", names[i],
                      (long long)sum, (long long)p.total);
        }
        trn_graph_destroy(g);
        trn_model_destroy(m);
    }
}

static void test_llama_graph(void) {
    trn_model *m = load("llama-3.1-8b");
    if (!m) return;
    /* prefill of 7 tokens: logits of the last only */
    trn_graph *g = build(m, 7, 0, 32, 0);
    if (g) {
        check_shape(g, "model.layers.31.self_attn.q_proj.weight", 2, 4096, 4096, 0);
        check_shape(g, "model.layers.31.self_attn.k_proj.weight", 2, 1024, 4096, 0);
        check_shape(g, "model.layers.0.mlp.down_proj.weight", 2, 4096, 14336, 0);
        check_shape(g, "model.layers.0.self_attn.k_cache", 2, 32, 1024, 0);
        check_shape(g, "l0.q_rope", 2, 7, 4096, 0);
        check_shape(g, "l31.attn", 2, 7, 4096, 0);
        check_shape(g, "logits", 2, 1, 128256, 0);
        check_shape(g, "rope.inv_freq", 1, 64, 0, 0);
        CHECK_EQ_INT(g->tensors[g->logits].role, TRN_GROLE_OUTPUT);
        CHECK_EQ_INT(g->tensors[g->input].dtype, TRN_DTYPE_INT32);
        /* per layer: 2 norms, q k v, 2 rope, attention, o, add, gate up swiglu down, add = 15 */
        CHECK_EQ_INT(g->nops, 1 + 32 * 15 + 3);
        const trn_gtensor *w = tensor(g, "lm_head.weight");
        if (w) CHECK_EQ_INT(w->layout, TRN_LAYOUT_OUT_IN);
        /* topological: every input is produced earlier or is not an activation */
        int bad = 0;
        for (int i = 0; i < g->nops; i++)
            for (int j = 0; j < g->ops[i].nin; j++) {
                int t = g->ops[i].in[j];
                if (t >= 0 && g->tensors[t].role == TRN_GROLE_ACTIVATION)
                    bad += g->tensors[t].producer < 0 || g->tensors[t].producer >= i;
            }
        CHECK_EQ_INT(bad, 0);
        char buf[256];
        size_t need = trn_graph_dump(g, buf, sizeof buf);
        CHECK(need > sizeof buf);
        CHECK_CONTAINS(buf, "graph llama-3.1-8b: 7 tokens at 0");
    }
    trn_graph_destroy(g);
    /* decode at position 20, all logits */
    g = build(m, 1, 20, 32, 1);
    if (g) {
        int a = trn_graph_find(g, "l5.attn");
        CHECK(a >= 0 && g->ops[g->tensors[a].producer].pos0 == 20);
        check_shape(g, "logits", 2, 1, 128256, 0);
    }
    trn_graph_destroy(g);
    /* steps that do not fit */
    trn_step st = {4, 30, 32, 0};
    trn_err err = {0};
    CHECK(trn_graph_build(m, &st, &g, &err) == TRN_E_RANGE);
    CHECK(g == NULL);
    CHECK_CONTAINS(err.msg, "step of 4 tokens at position 30 does not fit a KV cache of 32");
    st = (trn_step){1, 0, 200000, 0};
    CHECK(trn_graph_build(m, &st, &g, &err) == TRN_E_RANGE);
    CHECK_CONTAINS(err.msg, "exceeds the model's 131072 positions");
    trn_model_destroy(m);
}

static void test_moe_graphs(void) {
    trn_model *m = load("mixtral-8x7b");
    trn_graph *g = m ? build(m, 3, 0, 8, 0) : NULL;
    if (g) {
        check_shape(g, "model.layers.0.block_sparse_moe.gate.weight", 2, 8, 4096, 0);
        check_shape(g, "model.layers.0.block_sparse_moe.experts.%d.w1.weight", 3, 8, 14336, 4096);
        check_shape(g, "model.layers.0.block_sparse_moe.experts.%d.w2.weight", 3, 8, 4096, 14336);
        check_shape(g, "l0.router", 2, 3, 2, 0);
        check_shape(g, "l0.router_w", 2, 3, 2, 0);
        const trn_gtensor *t = tensor(g, "l0.router");
        if (t) CHECK_EQ_INT(t->dtype, TRN_DTYPE_INT32);
        t = tensor(g, "model.layers.3.block_sparse_moe.experts.%d.w3.weight");
        if (t) CHECK_EQ_INT(t->source, TRN_WSRC_STACK);
    }
    trn_graph_destroy(g);
    trn_model_destroy(m);
    m = load("gpt-oss-20b");
    g = m ? build(m, 2, 0, 8, 0) : NULL;
    if (g) {
        check_shape(g, "model.layers.0.mlp.experts.gate_up_proj", 3, 32, 2880, 5760);
        check_shape(g, "model.layers.0.mlp.experts.down_proj", 3, 32, 2880, 2880);
        check_shape(g, "model.layers.0.mlp.experts.gate_up_proj_bias", 2, 32, 5760, 0);
        check_shape(g, "model.layers.0.self_attn.sinks", 1, 64, 0, 0);
        check_shape(g, "model.layers.0.self_attn.q_proj.bias", 1, 4096, 0, 0);
        check_shape(g, "model.layers.0.mlp.router.bias", 1, 32, 0, 0);
        check_shape(g, "l0.router", 2, 2, 4, 0);
        const trn_gtensor *t = tensor(g, "model.layers.5.mlp.experts.down_proj");
        if (t) {
            CHECK_EQ_INT(t->source, TRN_WSRC_MXFP4);
            CHECK_EQ_INT(t->layout, TRN_LAYOUT_IN_OUT);
        }
        /* layer_types: even layers slide over 128 keys, odd ones see everything */
        const trn_gtensor *a0 = tensor(g, "l0.attn"), *a1 = tensor(g, "l1.attn");
        if (a0 && a1) {
            CHECK_EQ_INT(g->ops[a0->producer].window, 128);
            CHECK_EQ_INT(g->ops[a1->producer].window, 0);
            CHECK_EQ_INT(g->ops[a0->producer].nin, 6); /* sinks */
        }
        t = tensor(g, "l0.experts");
        if (t) {
            const trn_gop *o = &g->ops[t->producer];
            CHECK_NEAR(o->alpha, 1.702, 0);
            CHECK_NEAR(o->limit, 7.0, 0);
            CHECK_EQ_INT(o->expert, TRN_EXPERT_OAI);
        }
        t = tensor(g, "l0.router");
        if (t) CHECK_EQ_INT(g->ops[t->producer].gating, TRN_GATE_TOPK_SOFTMAX);
    }
    trn_graph_destroy(g);
    trn_model_destroy(m);
}

static void test_gpt2_graph(void) {
    trn_model *m = load("gpt-3-175b");
    trn_graph *g = m ? build(m, 5, 0, 16, 1) : NULL;
    if (g) {
        check_shape(g, "transformer.h.0.attn.c_attn.weight", 2, 12288, 3 * 12288, 0);
        check_shape(g, "transformer.h.95.mlp.c_fc.weight", 2, 12288, 4 * 12288, 0);
        check_shape(g, "transformer.wpe.weight", 2, 2048, 12288, 0);
        check_shape(g, "l0.qkv", 2, 5, 3 * 12288, 0);
        check_shape(g, "l0.k", 2, 5, 12288, 0);
        check_shape(g, "logits", 2, 5, 50257, 0);
        const trn_gtensor *t = tensor(g, "transformer.h.0.attn.c_attn.weight");
        if (t) CHECK_EQ_INT(t->layout, TRN_LAYOUT_IN_OUT);
        t = tensor(g, "l0.gelu");
        if (t) CHECK_EQ_INT(g->ops[t->producer].kind, TRN_GOP_GELU_TANH);
        CHECK(trn_graph_find(g, "lm_head.weight") < 0); /* tied to wte */
    }
    trn_graph_destroy(g);
    trn_model_destroy(m);
}

static void test_unsupported(void) {
    const char *names[] = {"deepseek-v3", "bert-large"};
    for (int i = 0; i < 2; i++) {
        trn_model *m = load(names[i]);
        trn_graph *g = NULL;
        trn_step st = {1, 0, 4, 0};
        trn_err err = {0};
        if (m) CHECK(trn_graph_build(m, &st, &g, &err) == TRN_E_UNSUPPORTED);
        CHECK_CONTAINS(err.msg, "the compiler builds llama, mixtral, gpt_oss and gpt2 models");
        trn_model_destroy(m);
    }
}

/* Shapes are checked when an op is added. */
static void test_shape_errors(void) {
    trn_model *m = load("llama-3-8b");
    if (!m) return;
    trn_step st = {3, 0, 4, 0};
    trn_graph *g = NULL;
    trn_err err = {0};
    CHECK(trn_graph_init(trn_model_config_of(m), &st, &g, &err) == TRN_OK);
    int x = trn_graph_tensor(g, "x", TRN_GROLE_ACTIVATION, TRN_DTYPE_F32, 2,
                             (const int64_t[]){3, 8}, &err);
    int w =
        trn_graph_tensor(g, "w", TRN_GROLE_WEIGHT, TRN_DTYPE_F32, 2, (const int64_t[]){5, 7}, &err);
    g->tensors[w].layout = TRN_LAYOUT_OUT_IN;
    trn_gop op = {0};
    op.kind = TRN_GOP_LINEAR;
    op.nin = 2;
    op.in[0] = x;
    op.in[1] = w;
    snprintf(op.label, sizeof op.label, "l0.q");
    CHECK(trn_graph_op(g, &op, "y", NULL, &err) < 0);
    CHECK_CONTAINS(err.msg, "op LINEAR (l0.q): input 1 'w': f32 [5, 7], expected f32 [5, 8]");
    /* the [in, out] reading of the same weight needs [8, N] */
    g->tensors[w].layout = TRN_LAYOUT_IN_OUT;
    CHECK(trn_graph_op(g, &op, "y", NULL, &err) < 0);
    CHECK_CONTAINS(err.msg, "expected f32 [8, 7]");
    int w2 = trn_graph_tensor(g, "w2", TRN_GROLE_WEIGHT, TRN_DTYPE_F32, 2, (const int64_t[]){8, 6},
                              &err);
    g->tensors[w2].layout = TRN_LAYOUT_IN_OUT;
    op.in[1] = w2;
    int y = trn_graph_op(g, &op, "y", NULL, &err);
    CHECK(y >= 0);
    if (y >= 0) CHECK_EQ_INT(g->tensors[y].shape[1], 6);
    /* ADD of different shapes; a missing input; a duplicate name; GQA that does not divide */
    trn_gop add = {0};
    add.kind = TRN_GOP_ADD;
    add.nin = 2;
    add.in[0] = x;
    add.in[1] = y;
    CHECK(trn_graph_op(g, &add, "z", NULL, &err) < 0);
    CHECK_CONTAINS(err.msg, "input 1 'y': f32 [3, 6], expected f32 [3, 8]");
    add.nin = 1;
    CHECK(trn_graph_op(g, &add, "z", NULL, &err) < 0);
    CHECK_CONTAINS(err.msg, "input 1 missing");
    CHECK(trn_graph_tensor(g, "x", TRN_GROLE_ACTIVATION, TRN_DTYPE_F32, 1, (const int64_t[]){1},
                           &err) < 0);
    CHECK_CONTAINS(err.msg, "tensor 'x' defined twice");
    trn_gop at = {0};
    at.kind = TRN_GOP_ATTENTION;
    at.heads = 4;
    at.kv_heads = 3;
    at.head_dim = 2;
    CHECK(trn_graph_op(g, &at, "a", NULL, &err) < 0);
    CHECK_CONTAINS(err.msg, "expected kv_heads to divide heads");
    /* router ids must be int32 for the experts */
    trn_gop ex = {0};
    ex.kind = TRN_GOP_MOE_EXPERTS;
    ex.k = 2;
    ex.nin = 3;
    ex.in[0] = x;
    ex.in[1] = y;
    ex.in[2] = y;
    CHECK(trn_graph_op(g, &ex, "e", NULL, &err) < 0);
    CHECK_CONTAINS(err.msg, "input 1 'y': f32 [3, 6], expected int32 [3, 2]");
    trn_graph_destroy(g);
    trn_model_destroy(m);
    CHECK(strcmp(trn_op_name(TRN_GOP_SWIGLU_OAI), "SWIGLU_OAI") == 0);
    CHECK(strcmp(trn_op_name(TRN_GOP_COUNT), "?") == 0);
    CHECK(strcmp(trn_grole_name(TRN_GROLE_KV_CACHE), "kv_cache") == 0);
}

/* RoPE tables against the HF formulas (modeling_rope_utils.py) worked out independently. */
static void test_rope_tables(void) {
    double inv[256], af = 0;
    /* Llama 3.1: theta 5e5, d 128, factor 8, low 1, high 4, original 8192. Wavelength
     * 2 pi / f: below 8192/4 = 2048 kept, above 8192 divided by 8, between smoothed with
     * s = (8192 / wl - 1) / 3. */
    trn_model *m = load("llama-3.1-8b");
    if (m) {
        trn_rope_inv_freq(trn_model_config_of(m), inv, &af);
        CHECK_NEAR(af, 1.0, 0);
        long bad = 0;
        for (int i = 0; i < 64; i++) {
            double f = pow(500000.0, -i / 64.0), wl = 2 * 3.141592653589793 / f, want;
            if (wl < 2048)
                want = f;
            else if (wl > 8192)
                want = f / 8;
            else {
                double s = (8192 / wl - 1) / 3;
                want = (1 - s) * f / 8 + s * f;
            }
            bad += fabs(inv[i] - want) > 1e-12 * want;
        }
        CHECK_EQ_INT(bad, 0);
        /* i = 0: 1 (kept); i = 63: 5e5^(-63/64) / 8 */
        CHECK_NEAR(inv[0], 1.0, 0);
        CHECK_NEAR(inv[63], pow(500000.0, -63 / 64.0) / 8, 1e-18);
        /* the middle band (wavelengths 2048..8192) holds i = 29..34 */
        double f29 = pow(500000.0, -29 / 64.0), f34 = pow(500000.0, -34 / 64.0);
        CHECK(2 * 3.141592653589793 / f29 > 2048 && 2 * 3.141592653589793 / f34 < 8192);
        CHECK(2 * 3.141592653589793 / pow(500000.0, -28 / 64.0) < 2048);
        CHECK(2 * 3.141592653589793 / pow(500000.0, -35 / 64.0) > 8192);
        trn_model_destroy(m);
    }
    /* GPT-OSS YaRN: theta 150000, d 64, factor 32, beta_fast 32, beta_slow 1, original 4096,
     * truncate false: low = 64 ln(4096 / (32 2 pi)) / (2 ln 150000) = 8.0930...,
     * high = 64 ln(4096 / (2 pi)) / (2 ln 150000) = 17.398...; dims below low keep f, above
     * high take f / 32, between mix by the ramp (i - low) / (high - low); attention factor
     * 0.1 ln 32 + 1 = 1.34657. */
    m = load("gpt-oss-120b");
    if (m) {
        trn_rope_inv_freq(trn_model_config_of(m), inv, &af);
        CHECK_NEAR(af, 1.3465735902799727, 1e-15);
        double lo = 64 * log(4096 / (32 * 2 * 3.141592653589793)) / (2 * log(150000.0));
        double hi = 64 * log(4096 / (2 * 3.141592653589793)) / (2 * log(150000.0));
        CHECK_NEAR(lo, 8.093, 1e-3);
        CHECK_NEAR(hi, 17.398, 1e-3);
        for (int i = 0; i < 32; i++) {
            double f = pow(150000.0, -i / 32.0);
            double want = i <= 8 ? f : i >= 18 ? f / 32 : 0;
            if (i > 8 && i < 18) {
                double r = (i - lo) / (hi - lo);
                want = f / 32 * r + f * (1 - r);
            }
            CHECK_MSG(fabs(inv[i] - want) <= 1e-12 * want,
                      "yarn inv_freq[%d] = %.17g, expected %.17g", i, inv[i], want);
        }
        trn_model_destroy(m);
    }
    /* no scaling: theta^(-2i/d) */
    m = load("llama-3-8b");
    if (m) {
        trn_rope_inv_freq(trn_model_config_of(m), inv, &af);
        CHECK_NEAR(inv[1], pow(500000.0, -2.0 / 128), 1e-17);
        CHECK_NEAR(inv[32], pow(500000.0, -0.5), 1e-17);
        trn_model_destroy(m);
    }
}

/* Config numerics read by the model layer for the builders. */
static void test_config_numerics(void) {
    trn_model *m = load("gpt-oss-20b");
    if (m) {
        const trn_model_config *c = trn_model_config_of(m);
        CHECK_NEAR(c->swiglu_limit, 7.0, 0);
        CHECK_NEAR(c->rope_theta, 150000, 0);
        CHECK_EQ_INT(c->rope_kind, TRN_ROPE_YARN);
        CHECK_EQ_INT(c->rope_truncate, 0);
        CHECK_EQ_INT(c->rope_original_max_positions, 4096);
        CHECK_NEAR(c->norm_eps, 1e-5, 0);
        trn_model_destroy(m);
    }
    m = load("gpt-3-175b");
    if (m) {
        CHECK_EQ_INT(trn_model_config_of(m)->gelu_tanh, 1);
        CHECK_NEAR(trn_model_config_of(m)->rope_theta, 0, 0);
        trn_model_destroy(m);
    }
    trn_err err = {0};
    const char *bad =
        "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 8, "
        "\"intermediate_size\": 8, \"num_hidden_layers\": 1, \"num_attention_heads\": 2,"
        " \"vocab_size\": 8, \"max_position_embeddings\": 8, \"rope_scaling\": "
        "{\"rope_type\": \"dynamic\", \"factor\": 2.0}}";
    CHECK(trn_model_parse("bad.json", bad, &m, &err) == TRN_E_PARSE);
    CHECK_CONTAINS(err.msg, "bad.json: rope_scaling.rope_type: expected");
    CHECK_CONTAINS(err.msg, "got \"dynamic\"");
}

int main(void) {
    test_catalog_params();
    test_llama_graph();
    test_moe_graphs();
    test_gpt2_graph();
    test_unsupported();
    test_shape_errors();
    test_rope_tables();
    test_config_numerics();
    return test_summary();
}

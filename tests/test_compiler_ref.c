/* The reference forward pass on small models of each family (Llama, Mixtral, GPT-OSS,
 * GPT-2), built here from a config text and a fixed seed, written to .safetensors and loaded
 * back through the real loader:
 *   - KV-cache decode gives bit for bit the logits of recomputing the whole sequence
 *     (sliding-window layers included, past the window);
 *   - a Llama, a GPT-2 and a GPT-OSS model (sinks, sliding window, YaRN, MoE) written out here
 *     directly in double precision (not calling the graph) agree with the graph reference;
 *   - MoE routing (chosen experts and weights) equals a case worked by hand, for Mixtral's
 *     softmax-then-top-k and GPT-OSS's biased top-k-then-softmax, and the experts' combine
 *     equals a direct computation;
 *   - GPT-2's Conv1D weights ([in, out]) are used as y = x W + b;
 *   - sampling: greedy = argmax, top-k = 1 = greedy, same seed same tokens, top-p
 *     distribution; generation is fast on a 2-layer hidden-64 model.
 * LABELS: unit */
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "trnsim/graph.h"
#include "trnsim/io.h"

static const char *const LLAMA_CFG =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", \"hidden_size\": 64,"
    " \"intermediate_size\": 128, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
    " \"num_key_value_heads\": 2, \"vocab_size\": 256, \"max_position_embeddings\": 128,"
    " \"rms_norm_eps\": 1e-05, \"rope_theta\": 10000.0, \"tie_word_embeddings\": false,"
    " \"torch_dtype\": \"float32\"}";
static const char *const LLAMA3_CFG =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64, \"intermediate_size\": 96,"
    " \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 1,"
    " \"vocab_size\": 200, \"max_position_embeddings\": 256, \"rms_norm_eps\": 1e-05,"
    " \"rope_theta\": 500000.0, \"tie_word_embeddings\": true, \"rope_scaling\": {\"factor\": 8.0,"
    " \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\":"
    " 32, \"rope_type\": \"llama3\"}}";
static const char *const MIXTRAL_CFG =
    "{\"architectures\": [\"MixtralForCausalLM\"], \"hidden_size\": 64, \"intermediate_size\": 96,"
    " \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2,"
    " \"num_local_experts\": 4, \"num_experts_per_tok\": 2, \"vocab_size\": 256,"
    " \"max_position_embeddings\": 128, \"rope_theta\": 1000000.0, \"sliding_window\": null,"
    " \"rms_norm_eps\": 1e-05}";
static const char *const OSS_CFG =
    "{\"architectures\": [\"GptOssForCausalLM\"], \"model_type\": \"gpt_oss\", \"hidden_size\": 64,"
    " \"intermediate_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
    " \"num_key_value_heads\": 2, \"head_dim\": 16, \"num_local_experts\": 4,"
    " \"num_experts_per_tok\": 2, \"vocab_size\": 256, \"max_position_embeddings\": 512,"
    " \"sliding_window\": 4, \"layer_types\": [\"sliding_attention\", \"full_attention\"],"
    " \"attention_bias\": true, \"swiglu_limit\": 7.0, \"rms_norm_eps\": 1e-05, \"rope_theta\":"
    " 150000, \"rope_scaling\": {\"beta_fast\": 32.0, \"beta_slow\": 1.0, \"factor\": 4.0,"
    " \"original_max_position_embeddings\": 64, \"rope_type\": \"yarn\", \"truncate\": false},"
    " \"quantization_config\": {\"quant_method\": \"mxfp4\"}, \"tie_word_embeddings\": false}";
static const char *const GPT2_CFG =
    "{\"architectures\": [\"GPT2LMHeadModel\"], \"model_type\": \"gpt2\", \"n_embd\": 64,"
    " \"n_layer\": 2, \"n_head\": 4, \"n_positions\": 64, \"vocab_size\": 256,"
    " \"activation_function\": \"gelu_new\", \"layer_norm_epsilon\": 1e-05}";

static char tmpdir[64];

static trn_model *parse(const char *name, const char *json) {
    trn_model *m = NULL;
    trn_err err = {0};
    trn_status s = trn_model_parse(name, json, &m, &err);
    CHECK_MSG(s == TRN_OK, "%s: %s", name, err.msg);
    return m;
}

/* Random weights for m written as F32 and loaded back through the loader. */
static trn_weights *roundtrip(const trn_model *m, uint64_t seed, const char *file) {
    trn_err err = {0};
    trn_weights *w = NULL, *l = NULL;
    char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, file);
    CHECK_MSG(trn_weights_random(m, seed, 0.02, &w, &err) == TRN_OK, "%s", err.msg);
    if (!w) return NULL;
    CHECK_MSG(trn_weights_save(w, path, TRN_IO_F32, &err) == TRN_OK, "%s", err.msg);
    CHECK_MSG(trn_weights_load(m, path, &l, &err) == TRN_OK, "%s", err.msg);
    if (l) {
        /* F32 (and MXFP4 for GPT-OSS experts) round trips are exact */
        CHECK_EQ_INT(trn_weights_count(l), trn_weights_count(w));
        long diff = 0;
        for (int i = 0; i < trn_weights_count(w); i++) {
            int64_t n1 = 0, n2 = 0;
            const float *a = trn_weights_data(w, trn_weights_name(w, i), &n1);
            const float *b = trn_weights_data(l, trn_weights_name(w, i), &n2);
            CHECK_EQ_INT(n1, n2);
            if (b && n1 == n2) diff += memcmp(a, b, (size_t)n1 * 4) != 0;
        }
        CHECK_EQ_INT(diff, 0);
    }
    trn_weights_destroy(w);
    return l;
}

/* Logits of every position of `toks` (n) in one prefill. */
static float *full_logits(const trn_model *m, const trn_weights *w, const int32_t *toks, int64_t n,
                          int64_t ctx) {
    trn_err err = {0};
    trn_step st = {n, 0, ctx, 1};
    trn_graph *g = NULL;
    trn_ref *r = NULL;
    int64_t V = trn_model_config_of(m)->vocab;
    float *out = calloc((size_t)(n * V), sizeof(float));
    CHECK_MSG(trn_graph_build(m, &st, &g, &err) == TRN_OK, "%s", err.msg);
    CHECK_MSG(trn_ref_create(m, w, ctx, &r, &err) == TRN_OK, "%s", err.msg);
    if (g && r) CHECK_MSG(trn_ref_run(r, g, toks, out, &err) == TRN_OK, "%s", err.msg);
    trn_ref_destroy(r);
    trn_graph_destroy(g);
    return out;
}

/* Greedy generation from a prompt; every step's logits must equal (bit for bit) the row of a
 * full recompute of the sequence so far. */
static void check_kv_cache(const char *name, const trn_model *m, const trn_weights *w,
                           int64_t prompt_n, int64_t new_n) {
    int32_t prompt[16];
    int64_t V = trn_model_config_of(m)->vocab;
    for (int64_t i = 0; i < prompt_n; i++) prompt[i] = (int32_t)((i * 37 + 11) % V);
    trn_generation gen;
    trn_err err = {0};
    trn_sampling greedy = {0, 0, 1, 0};
    CHECK_MSG(trn_generate(m, w, prompt, prompt_n, new_n, &greedy, &gen, &err) == TRN_OK, "%s: %s",
              name, err.msg);
    if (!gen.tokens) return;
    int64_t n = prompt_n + new_n - 1;
    int32_t seq[64];
    memcpy(seq, prompt, (size_t)prompt_n * 4);
    for (int64_t i = 0; i + 1 < new_n; i++) seq[prompt_n + i] = gen.tokens[i];
    float *full = full_logits(m, w, seq, n, n);
    long mismatched = 0, tok_bad = 0;
    for (int64_t s = 0; s < new_n; s++) {
        const float *a = gen.logits + s * V, *b = full + (prompt_n - 1 + s) * V;
        for (int64_t v = 0; v < V; v++) mismatched += test_f32_bits(a[v]) != test_f32_bits(b[v]);
        /* greedy picks the argmax of its step's logits */
        int64_t best = 0;
        for (int64_t v = 1; v < V; v++)
            if (a[v] > a[best]) best = v;
        tok_bad += gen.tokens[s] != best;
    }
    CHECK_MSG(mismatched == 0, "%s: %ld decode logits differ from the full recompute", name,
              mismatched);
    CHECK_MSG(tok_bad == 0, "%s: %ld greedy tokens are not the argmax", name, tok_bad);
    /* the logits are not degenerate (all equal would make every check above trivial) */
    double var = 0, mean = 0;
    for (int64_t v = 0; v < V; v++) mean += gen.logits[v] / (double)V;
    for (int64_t v = 0; v < V; v++) var += (gen.logits[v] - mean) * (gen.logits[v] - mean);
    CHECK_MSG(var > 1e-6, "%s: logits variance %g", name, var);
    free(full);
    trn_generation_fini(&gen);
}

/* ---- an independent Llama forward pass in double ------------------------------------------ */

static const double *W(const trn_weights *w, const char *fmt, int l) {
    char nm[128];
    snprintf(nm, sizeof nm, fmt, l);
    int64_t n = 0;
    const float *f = trn_weights_data(w, nm, &n);
    CHECK_MSG(f != NULL, "no weight %s", nm);
    static double buf[16][64 * 256];
    static int slot;
    double *d = buf[slot++ % 16];
    for (int64_t i = 0; i < n && f; i++) d[i] = f[i];
    return d;
}

static void rms(const double *x, const double *g, double *y, int n, double eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    double r = 1 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) y[i] = x[i] * r * g[i];
}

/* y[o] = sum_i W[o][i] x[i] (nn.Linear) */
static void mv(const double *w, const double *x, double *y, int out, int in) {
    for (int o = 0; o < out; o++) {
        double a = 0;
        for (int i = 0; i < in; i++) a += w[o * in + i] * x[i];
        y[o] = a;
    }
}

/* Llama (LLAMA_CFG: H 64, 4 heads of 16, 2 KV heads, I 128, V 256, theta 1e4, no scaling):
 * logits [T][256] of tokens[T], from the HF modeling_llama.py equations. */
static void llama_direct(const trn_weights *w, const int32_t *tok, int T, double *logits) {
    enum { H = 64, NH = 4, KV = 2, D = 16, I = 128, V = 256, L = 2 };
    static double h[16][H], x[16][H], q[16][NH * D], k[16][KV * D], v[16][KV * D], o[16][NH * D];
    const double eps = 1e-5;
    const double *emb = W(w, "model.embed_tokens.weight", 0);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < H; i++) h[t][i] = emb[tok[t] * H + i];
    for (int l = 0; l < L; l++) {
        const double *ln1 = W(w, "model.layers.%d.input_layernorm.weight", l);
        const double *wq = W(w, "model.layers.%d.self_attn.q_proj.weight", l);
        const double *wk = W(w, "model.layers.%d.self_attn.k_proj.weight", l);
        const double *wv = W(w, "model.layers.%d.self_attn.v_proj.weight", l);
        const double *wo = W(w, "model.layers.%d.self_attn.o_proj.weight", l);
        for (int t = 0; t < T; t++) {
            rms(h[t], ln1, x[t], H, eps);
            mv(wq, x[t], q[t], NH * D, H);
            mv(wk, x[t], k[t], KV * D, H);
            mv(wv, x[t], v[t], KV * D, H);
            /* rotate_half RoPE: pairs (i, i + D/2), angle t * 10000^(-2i/D) */
            for (int hh = 0; hh < NH + KV; hh++) {
                double *r = hh < NH ? q[t] + hh * D : k[t] + (hh - NH) * D;
                for (int i = 0; i < D / 2; i++) {
                    double a = t * pow(10000.0, -2.0 * i / D), c = cos(a), s = sin(a);
                    double x1 = r[i], x2 = r[i + D / 2];
                    r[i] = x1 * c - x2 * s;
                    r[i + D / 2] = x2 * c + x1 * s;
                }
            }
        }
        for (int t = 0; t < T; t++)
            for (int hh = 0; hh < NH; hh++) {
                int g = hh / (NH / KV);
                double sc[16], mx = -1e300, den = 0;
                for (int j = 0; j <= t; j++) {
                    double a = 0;
                    for (int i = 0; i < D; i++) a += q[t][hh * D + i] * k[j][g * D + i];
                    sc[j] = a / sqrt((double)D);
                    mx = sc[j] > mx ? sc[j] : mx;
                }
                for (int j = 0; j <= t; j++) den += sc[j] = exp(sc[j] - mx);
                for (int i = 0; i < D; i++) {
                    double a = 0;
                    for (int j = 0; j <= t; j++) a += sc[j] / den * v[j][g * D + i];
                    o[t][hh * D + i] = a;
                }
            }
        const double *ln2 = W(w, "model.layers.%d.post_attention_layernorm.weight", l);
        const double *wg = W(w, "model.layers.%d.mlp.gate_proj.weight", l);
        const double *wu = W(w, "model.layers.%d.mlp.up_proj.weight", l);
        const double *wd = W(w, "model.layers.%d.mlp.down_proj.weight", l);
        for (int t = 0; t < T; t++) {
            double a[H], gg[I], uu[I], dd[H];
            mv(wo, o[t], a, H, NH * D);
            for (int i = 0; i < H; i++) h[t][i] += a[i];
            rms(h[t], ln2, x[t], H, eps);
            mv(wg, x[t], gg, I, H);
            mv(wu, x[t], uu, I, H);
            for (int i = 0; i < I; i++) gg[i] = gg[i] / (1 + exp(-gg[i])) * uu[i];
            mv(wd, gg, dd, H, I);
            for (int i = 0; i < H; i++) h[t][i] += dd[i];
        }
    }
    const double *nw = W(w, "model.norm.weight", 0);
    const double *head = W(w, "lm_head.weight", 0);
    for (int t = 0; t < T; t++) {
        rms(h[t], nw, x[t], H, eps);
        mv(head, x[t], logits + t * V, V, H);
    }
}

static void test_llama_direct(void) {
    trn_model *m = parse("llama-tiny.json", LLAMA_CFG);
    if (!m) return;
    trn_weights *w = roundtrip(m, 7, "llama.safetensors");
    if (w) {
        /* a larger weight scale so that attention is far from uniform */
        int n = trn_weights_count(w);
        for (int i = 0; i < n; i++) {
            const char *nm = trn_weights_name(w, i);
            int64_t k = 0;
            float *d = trn_weights_data(w, nm, &k);
            if (!strstr(nm, "norm"))
                for (int64_t j = 0; j < k; j++) d[j] *= 10.0f;
        }
        enum { T = 12 };
        int32_t tok[T] = {3, 141, 59, 26, 53, 58, 97, 93, 23, 84, 62, 64};
        double want[T * 256];
        llama_direct(w, tok, T, want);
        float *got = full_logits(m, w, tok, T, T);
        double num = 0, den = 0, maxd = 0;
        for (int i = 0; i < T * 256; i++) {
            double d = got[i] - want[i];
            num += d * d;
            den += want[i] * want[i];
            maxd = fabs(d) > maxd ? fabs(d) : maxd;
        }
        CHECK_MSG(num / den < 1e-10, "Llama graph vs direct: NMSE %.3g (max |diff| %.3g)",
                  num / den, maxd);
        CHECK(den / (T * 256) > 0.01); /* logits of a real size */
        /* and a wrong model (no RoPE) would not pass: the check can fail */
        free(got);
        check_kv_cache("llama", m, w, 5, 12);
    }
    trn_weights_destroy(w);
    trn_model_destroy(m);
}

/* GPT-2 (GPT2_CFG: H 64, 4 heads of 16, I 256, V 256), from the HF modeling_gpt2.py equations,
 * Conv1D weights [in, out] read as y = x W + b; logits [T][256]. */
static void ln(const double *x, const double *g, const double *b, double *y, int n) {
    double m = 0, v = 0;
    for (int i = 0; i < n; i++) m += x[i] / n;
    for (int i = 0; i < n; i++) v += (x[i] - m) * (x[i] - m) / n;
    for (int i = 0; i < n; i++) y[i] = (x[i] - m) / sqrt(v + 1e-5) * g[i] + b[i];
}

/* y[o] = b[o] + sum_i x[i] W[i][o] (Conv1D) */
static void conv1d(const double *w, const double *b, const double *x, double *y, int in, int out) {
    for (int o = 0; o < out; o++) {
        double a = b[o];
        for (int i = 0; i < in; i++) a += x[i] * w[i * out + o];
        y[o] = a;
    }
}

static void gpt2_direct(const trn_weights *w, const int32_t *tok, int T, double *logits) {
    enum { H = 64, NH = 4, D = 16, I = 256, V = 256, L = 2 };
    static double h[16][H], x[16][H], qkv[16][3 * H], o[16][H];
    const double *wte = W(w, "transformer.wte.weight", 0), *wpe = W(w, "transformer.wpe.weight", 0);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < H; i++) h[t][i] = wte[tok[t] * H + i] + wpe[t * H + i];
    for (int l = 0; l < L; l++) {
        const double *g1 = W(w, "transformer.h.%d.ln_1.weight", l),
                     *b1 = W(w, "transformer.h.%d.ln_1.bias", l);
        const double *ca = W(w, "transformer.h.%d.attn.c_attn.weight", l);
        const double *cab = W(w, "transformer.h.%d.attn.c_attn.bias", l);
        for (int t = 0; t < T; t++) {
            ln(h[t], g1, b1, x[t], H);
            conv1d(ca, cab, x[t], qkv[t], H, 3 * H);
        }
        for (int t = 0; t < T; t++)
            for (int hh = 0; hh < NH; hh++) {
                double sc[16], mx = -1e300, den = 0;
                for (int j = 0; j <= t; j++) {
                    double a = 0;
                    for (int i = 0; i < D; i++) a += qkv[t][hh * D + i] * qkv[j][H + hh * D + i];
                    sc[j] = a / sqrt((double)D);
                    mx = sc[j] > mx ? sc[j] : mx;
                }
                for (int j = 0; j <= t; j++) den += sc[j] = exp(sc[j] - mx);
                for (int i = 0; i < D; i++) {
                    double a = 0;
                    for (int j = 0; j <= t; j++) a += sc[j] / den * qkv[j][2 * H + hh * D + i];
                    o[t][hh * D + i] = a;
                }
            }
        const double *cp = W(w, "transformer.h.%d.attn.c_proj.weight", l);
        const double *cpb = W(w, "transformer.h.%d.attn.c_proj.bias", l);
        const double *g2 = W(w, "transformer.h.%d.ln_2.weight", l),
                     *b2 = W(w, "transformer.h.%d.ln_2.bias", l);
        const double *fc = W(w, "transformer.h.%d.mlp.c_fc.weight", l);
        const double *fcb = W(w, "transformer.h.%d.mlp.c_fc.bias", l);
        const double *pj = W(w, "transformer.h.%d.mlp.c_proj.weight", l);
        const double *pjb = W(w, "transformer.h.%d.mlp.c_proj.bias", l);
        for (int t = 0; t < T; t++) {
            double a[H], f[I], m[H];
            conv1d(cp, cpb, o[t], a, H, H);
            for (int i = 0; i < H; i++) h[t][i] += a[i];
            ln(h[t], g2, b2, x[t], H);
            conv1d(fc, fcb, x[t], f, H, I);
            for (int i = 0; i < I; i++) /* gelu_new */
                f[i] = 0.5 * f[i] *
                       (1 +
                        tanh(sqrt(2 / 3.141592653589793) * (f[i] + 0.044715 * f[i] * f[i] * f[i])));
            conv1d(pj, pjb, f, m, I, H);
            for (int i = 0; i < H; i++) h[t][i] += m[i];
        }
    }
    const double *gf = W(w, "transformer.ln_f.weight", 0), *bf = W(w, "transformer.ln_f.bias", 0);
    wte = W(w, "transformer.wte.weight", 0); /* W's 16 slots have been reused since */
    for (int t = 0; t < T; t++) {
        ln(h[t], gf, bf, x[t], H);
        for (int v = 0; v < V; v++) {
            double a = 0;
            for (int i = 0; i < H; i++) a += x[t][i] * wte[v * H + i]; /* tied head */
            logits[t * V + v] = a;
        }
    }
}

static void test_gpt2_direct(void) {
    trn_model *m = parse("gpt2-tiny.json", GPT2_CFG);
    if (!m) return;
    trn_weights *w = roundtrip(m, 17, "gpt2-direct.safetensors");
    if (w) {
        for (int i = 0; i < trn_weights_count(w); i++) {
            const char *nm = trn_weights_name(w, i);
            int64_t k = 0;
            float *d = trn_weights_data(w, nm, &k);
            if (!strstr(nm, "ln_"))
                for (int64_t j = 0; j < k; j++) d[j] *= 10.0f;
        }
        enum { T = 9 };
        int32_t tok[T] = {5, 250, 17, 17, 90, 3, 128, 64, 200};
        static double want[T * 256];
        gpt2_direct(w, tok, T, want);
        float *got = full_logits(m, w, tok, T, T);
        double num = 0, den = 0;
        for (int i = 0; i < T * 256; i++) {
            num += (got[i] - want[i]) * (got[i] - want[i]);
            den += want[i] * want[i];
        }
        CHECK_MSG(num / den < 1e-10, "GPT-2 graph vs direct: NMSE %.3g", num / den);
        CHECK(den / (T * 256) > 0.01);
        free(got);
    }
    trn_weights_destroy(w);
    trn_model_destroy(m);
}

/* GPT-OSS (OSS_CFG: H 64, 4 heads of 16, 2 KV heads, 4 experts of 64, top-2, window 4 on layer
 * 0, YaRN factor 4 over 64 positions, theta 150000), from HF modeling_gpt_oss.py and
 * modeling_rope_utils.py _compute_yarn_parameters; logits [T][256]. */
static void oss_direct(const trn_weights *w, const int32_t *tok, int T, double *logits) {
    enum { H = 64, NH = 4, KV = 2, D = 16, E = 4, K = 2, I = 64, V = 256, L = 2, WIN = 4 };
    static double h[16][H], x[16][H], q[16][NH * D], k[16][KV * D], v[16][KV * D], o[16][NH * D];
    const double eps = 1e-5, PI = 3.141592653589793, base = 150000, fac = 4, omp = 64;
    /* YaRN inverse frequencies and attention factor (truncate false: no floor / ceil) */
    double inv[D / 2], lo = D * log(omp / (32 * 2 * PI)) / (2 * log(base));
    double hi = D * log(omp / (1 * 2 * PI)) / (2 * log(base)), af = 0.1 * log(fac) + 1;
    lo = lo < 0 ? 0 : lo;
    hi = hi > D - 1 ? D - 1 : hi;
    for (int i = 0; i < D / 2; i++) {
        double f = 1 / pow(base, 2.0 * i / D), r = (i - lo) / (hi - lo);
        r = r < 0 ? 0 : r > 1 ? 1 : r;
        inv[i] = f / fac * r + f * (1 - r);
    }
    const double *emb = W(w, "model.embed_tokens.weight", 0);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < H; i++) h[t][i] = emb[tok[t] * H + i];
    for (int l = 0; l < L; l++) {
        const double *ln1 = W(w, "model.layers.%d.input_layernorm.weight", l);
        const double *wq = W(w, "model.layers.%d.self_attn.q_proj.weight", l);
        const double *bq = W(w, "model.layers.%d.self_attn.q_proj.bias", l);
        const double *wk = W(w, "model.layers.%d.self_attn.k_proj.weight", l);
        const double *bk = W(w, "model.layers.%d.self_attn.k_proj.bias", l);
        const double *wv = W(w, "model.layers.%d.self_attn.v_proj.weight", l);
        const double *bv = W(w, "model.layers.%d.self_attn.v_proj.bias", l);
        const double *sk = W(w, "model.layers.%d.self_attn.sinks", l);
        for (int t = 0; t < T; t++) {
            rms(h[t], ln1, x[t], H, eps);
            mv(wq, x[t], q[t], NH * D, H);
            mv(wk, x[t], k[t], KV * D, H);
            mv(wv, x[t], v[t], KV * D, H);
            for (int i = 0; i < NH * D; i++) q[t][i] += bq[i];
            for (int i = 0; i < KV * D; i++) k[t][i] += bk[i], v[t][i] += bv[i];
            for (int hh = 0; hh < NH + KV; hh++) { /* _apply_rotary_emb: halves */
                double *r = hh < NH ? q[t] + hh * D : k[t] + (hh - NH) * D;
                for (int i = 0; i < D / 2; i++) {
                    double c = cos(t * inv[i]) * af, s = sin(t * inv[i]) * af;
                    double x1 = r[i], x2 = r[i + D / 2];
                    r[i] = x1 * c - x2 * s;
                    r[i + D / 2] = x2 * c + x1 * s;
                }
            }
        }
        for (int t = 0; t < T; t++)
            for (int hh = 0; hh < NH; hh++) {
                int g = hh / (NH / KV), j0 = l == 0 && t - WIN + 1 > 0 ? t - WIN + 1 : 0;
                double sc[16], mx = sk[hh], den = 0; /* the sink joins the softmax */
                for (int j = j0; j <= t; j++) {
                    double a = 0;
                    for (int i = 0; i < D; i++) a += q[t][hh * D + i] * k[j][g * D + i];
                    sc[j] = a / sqrt((double)D);
                    mx = sc[j] > mx ? sc[j] : mx;
                }
                for (int j = j0; j <= t; j++) den += sc[j] = exp(sc[j] - mx);
                den += exp(sk[hh] - mx);
                for (int i = 0; i < D; i++) {
                    double a = 0;
                    for (int j = j0; j <= t; j++) a += sc[j] / den * v[j][g * D + i];
                    o[t][hh * D + i] = a;
                }
            }
        const double *wo = W(w, "model.layers.%d.self_attn.o_proj.weight", l);
        const double *bo = W(w, "model.layers.%d.self_attn.o_proj.bias", l);
        const double *ln2 = W(w, "model.layers.%d.post_attention_layernorm.weight", l);
        const double *rw = W(w, "model.layers.%d.mlp.router.weight", l);
        const double *rb = W(w, "model.layers.%d.mlp.router.bias", l);
        char nm[96];
        snprintf(nm, sizeof nm, "model.layers.%d.mlp.experts.gate_up_proj", l);
        const float *gu = trn_weights_data(w, nm, NULL);
        snprintf(nm, sizeof nm, "model.layers.%d.mlp.experts.gate_up_proj_bias", l);
        const float *gb = trn_weights_data(w, nm, NULL);
        snprintf(nm, sizeof nm, "model.layers.%d.mlp.experts.down_proj", l);
        const float *dn = trn_weights_data(w, nm, NULL);
        snprintf(nm, sizeof nm, "model.layers.%d.mlp.experts.down_proj_bias", l);
        const float *db = trn_weights_data(w, nm, NULL);
        CHECK(gu && gb && dn && db);
        if (!(gu && gb && dn && db)) return;
        for (int t = 0; t < T; t++) {
            double a[H], lg[E];
            mv(wo, o[t], a, H, NH * D);
            for (int i = 0; i < H; i++) h[t][i] += a[i] + bo[i];
            rms(h[t], ln2, x[t], H, eps);
            mv(rw, x[t], lg, E, H);
            int top[K];
            for (int e = 0; e < E; e++) lg[e] += rb[e];
            for (int s = 0; s < K; s++) { /* torch.topk */
                top[s] = -1;
                for (int e = 0; e < E; e++)
                    if ((s == 0 || e != top[0]) && (top[s] < 0 || lg[e] > lg[top[s]])) top[s] = e;
            }
            double z = exp(lg[top[1]] - lg[top[0]]), wt[K] = {1 / (1 + z), z / (1 + z)};
            for (int s = 0; s < K; s++) {
                int e = top[s];
                double act[I];
                for (int i = 0; i < I; i++) {
                    double gg = gb[e * 2 * I + 2 * i], uu = gb[e * 2 * I + 2 * i + 1];
                    for (int c = 0; c < H; c++) {
                        gg += x[t][c] * gu[(e * H + c) * 2 * I + 2 * i];
                        uu += x[t][c] * gu[(e * H + c) * 2 * I + 2 * i + 1];
                    }
                    gg = gg > 7 ? 7 : gg;
                    uu = uu > 7 ? 7 : uu < -7 ? -7 : uu;
                    act[i] = (uu + 1) * gg / (1 + exp(-1.702 * gg));
                }
                for (int c = 0; c < H; c++) {
                    double acc = db[e * H + c];
                    for (int i = 0; i < I; i++) acc += act[i] * dn[(e * I + i) * H + c];
                    h[t][c] += wt[s] * acc;
                }
            }
        }
    }
    const double *nw = W(w, "model.norm.weight", 0);
    const double *head = W(w, "lm_head.weight", 0);
    for (int t = 0; t < T; t++) {
        rms(h[t], nw, x[t], H, eps);
        mv(head, x[t], logits + t * V, V, H);
    }
}

static void test_oss_direct(void) {
    trn_model *m = parse("oss-tiny.json", OSS_CFG);
    if (!m) return;
    trn_weights *w = roundtrip(m, 23, "oss-direct.safetensors");
    if (w) {
        for (int i = 0; i < trn_weights_count(w); i++) {
            const char *nm = trn_weights_name(w, i);
            int64_t k = 0;
            float *d = trn_weights_data(w, nm, &k);
            if (!strstr(nm, "norm") && !strstr(nm, "sinks")) /* x8 keeps MXFP4 values exact */
                for (int64_t j = 0; j < k; j++) d[j] *= 8.0f;
        }
        enum { T = 10 };
        int32_t tok[T] = {1, 77, 200, 3, 3, 140, 9, 250, 31, 64};
        static double want[T * 256];
        oss_direct(w, tok, T, want);
        float *got = full_logits(m, w, tok, T, T);
        double num = 0, den = 0;
        for (int i = 0; i < T * 256; i++) {
            num += (got[i] - want[i]) * (got[i] - want[i]);
            den += want[i] * want[i];
        }
        CHECK_MSG(num / den < 1e-10, "GPT-OSS graph vs direct: NMSE %.3g", num / den);
        CHECK(den / (T * 256) > 0.01);
        free(got);
    }
    trn_weights_destroy(w);
    trn_model_destroy(m);
}

/* ---- MoE routing worked by hand -------------------------------------------------------------- */

/* Sets weight `name` to zero, or to `v` (n values). */
static void set_w(trn_weights *w, const char *name, const float *v, int64_t n) {
    int64_t k = 0;
    float *d = trn_weights_data(w, name, &k);
    CHECK_MSG(d != NULL, "no weight %s", name);
    if (!d) return;
    for (int64_t i = 0; i < k; i++) d[i] = v && i < n ? v[i] : 0.0f;
}

/* Token 5's embedding is all ones and layer 0's attention outputs zero, so the router input is
 * x = ones / sqrt(1 + eps) (post_attention_layernorm weight = 1), x0 = 1/sqrt(1 + 1e-5).
 * The router weight rows are a_e e_0 (+ bias), so the logits are a_e x0 (+ b_e). */
static void test_moe_routing(int oss) {
    trn_model *m = parse(oss ? "oss-tiny.json" : "mixtral-tiny.json", oss ? OSS_CFG : MIXTRAL_CFG);
    if (!m) return;
    const trn_model_config *c = trn_model_config_of(m);
    trn_weights *w = roundtrip(m, 11, oss ? "oss.safetensors" : "mixtral.safetensors");
    if (!w) {
        trn_model_destroy(m);
        return;
    }
    int64_t H = c->hidden, V = c->vocab;
    float *emb = trn_weights_data(w, "model.embed_tokens.weight", NULL);
    for (int64_t i = 0; i < H; i++) emb[5 * H + i] = 1.0f;
    set_w(w, "model.layers.0.self_attn.o_proj.weight", NULL, 0);
    if (oss) set_w(w, "model.layers.0.self_attn.o_proj.bias", NULL, 0);
    float ones[64];
    for (int i = 0; i < 64; i++) ones[i] = 1.0f;
    set_w(w, "model.layers.0.post_attention_layernorm.weight", ones, H);
    float rw[4 * 64] = {0};
    const float a[4] = {0.5f, 2.0f, -1.0f, 1.5f};
    for (int e = 0; e < 4; e++) rw[e * H] = a[e];
    set_w(w,
          oss ? "model.layers.0.mlp.router.weight" : "model.layers.0.block_sparse_moe.gate.weight",
          rw, 4 * H);
    const float bias[4] = {1.2f, 0, 0, 0};
    if (oss) set_w(w, "model.layers.0.mlp.router.bias", bias, 4);
    trn_err err = {0};
    trn_step st = {1, 0, 1, 0};
    trn_graph *g = NULL;
    trn_ref *r = NULL;
    CHECK_MSG(trn_graph_build(m, &st, &g, &err) == TRN_OK, "%s", err.msg);
    CHECK_MSG(trn_ref_create(m, w, 1, &r, &err) == TRN_OK, "%s", err.msg);
    int32_t tok = 5;
    float *logits = malloc((size_t)V * sizeof(float));
    if (g && r) CHECK_MSG(trn_ref_run(r, g, &tok, logits, &err) == TRN_OK, "%s", err.msg);
    const trn_gtensor *ti = NULL;
    const int32_t *ids = trn_ref_tensor(r, "l0.router", &ti);
    const float *wts = trn_ref_tensor(r, "l0.router_w", NULL);
    const float *x = trn_ref_tensor(r, "l0.mlp_norm", NULL);
    const float *y = trn_ref_tensor(r, "l0.experts", NULL);
    CHECK(ids && wts && x && y);
    if (ids && wts && x && y) {
        double x0 = 1.0 / sqrt(1.0 + 1e-5);
        CHECK_NEAR(x[0], x0, 1e-6);
        CHECK_NEAR(x[H - 1], x0, 1e-6);
        /* Mixtral: logits (0.5, 2, -1, 1.5) x0: top-2 = experts 1, 3 with softmax-renormalized
         * weights sigmoid(+-0.5 x0). GPT-OSS: logits (0.5 x0 + 1.2, 2 x0, -x0, 1.5 x0): top-2 =
         * experts 1, 0, weights softmax of those two = sigmoid(+-(1.5 x0 - 1.2)). */
        int e0 = 1, e1 = oss ? 0 : 3;
        double d = oss ? 1.5 * x0 - 1.2 : 0.5 * x0;
        double w0 = 1 / (1 + exp(-d));
        CHECK_EQ_INT(ids[0], e0);
        CHECK_EQ_INT(ids[1], e1);
        CHECK_NEAR(wts[0], w0, 1e-6);
        CHECK_NEAR(wts[1], 1 - w0, 1e-6);
        /* combine: y = w0 expert_e0(x) + w1 expert_e1(x), each expert computed directly */
        double want[64] = {0};
        int64_t I = c->expert_intermediate;
        for (int s = 0; s < 2; s++) {
            int e = s ? e1 : e0;
            double ws = s ? 1 - w0 : w0, act[128];
            if (!oss) {
                const float *w1 = trn_weights_data(
                    w, "model.layers.0.block_sparse_moe.experts.%d.w1.weight", NULL);
                const float *w3 = trn_weights_data(
                    w, "model.layers.0.block_sparse_moe.experts.%d.w3.weight", NULL);
                const float *w2 = trn_weights_data(
                    w, "model.layers.0.block_sparse_moe.experts.%d.w2.weight", NULL);
                CHECK(w1 && w2 && w3);
                if (!(w1 && w2 && w3)) break;
                for (int64_t i = 0; i < I; i++) {
                    double gg = 0, uu = 0;
                    for (int64_t k = 0; k < H; k++) {
                        gg += w1[(e * I + i) * H + k] * (double)x[k];
                        uu += w3[(e * I + i) * H + k] * (double)x[k];
                    }
                    act[i] = gg / (1 + exp(-gg)) * uu;
                }
                for (int64_t o = 0; o < H; o++) {
                    double acc = 0;
                    for (int64_t i = 0; i < I; i++) acc += w2[(e * H + o) * I + i] * act[i];
                    want[o] += ws * acc;
                }
            } else {
                /* HF GptOssExperts: gate_up = x @ gate_up_proj[e] + b; gate, up = [..., ::2],
                 * [..., 1::2]; clamp; (up + 1) * gate * sigmoid(1.702 gate) @ down_proj[e] + b */
                const float *gu =
                    trn_weights_data(w, "model.layers.0.mlp.experts.gate_up_proj", NULL);
                const float *gb =
                    trn_weights_data(w, "model.layers.0.mlp.experts.gate_up_proj_bias", NULL);
                const float *dn = trn_weights_data(w, "model.layers.0.mlp.experts.down_proj", NULL);
                const float *db =
                    trn_weights_data(w, "model.layers.0.mlp.experts.down_proj_bias", NULL);
                CHECK(gu && gb && dn && db);
                if (!(gu && gb && dn && db)) break;
                for (int64_t i = 0; i < I; i++) {
                    double gg = gb[e * 2 * I + 2 * i], uu = gb[e * 2 * I + 2 * i + 1];
                    for (int64_t k = 0; k < H; k++) {
                        gg += x[k] * (double)gu[(e * H + k) * 2 * I + 2 * i];
                        uu += x[k] * (double)gu[(e * H + k) * 2 * I + 2 * i + 1];
                    }
                    gg = gg > 7 ? 7 : gg;
                    uu = uu > 7 ? 7 : uu < -7 ? -7 : uu;
                    act[i] = (uu + 1) * gg / (1 + exp(-1.702 * gg));
                }
                for (int64_t o = 0; o < H; o++) {
                    double acc = db[e * H + o];
                    for (int64_t i = 0; i < I; i++) acc += act[i] * dn[(e * I + i) * H + o];
                    want[o] += ws * acc;
                }
            }
        }
        double num = 0, den = 0;
        for (int64_t o = 0; o < H; o++) {
            num += (y[o] - want[o]) * (y[o] - want[o]);
            den += want[o] * want[o];
        }
        CHECK_MSG(den > 0 && num / den < 1e-10, "%s experts combine: NMSE %.3g",
                  oss ? "gpt-oss" : "mixtral", num / den);
    }
    free(logits);
    trn_ref_destroy(r);
    trn_graph_destroy(g);
    trn_weights_destroy(w);
    trn_model_destroy(m);
}

/* Names with %d: the lookups above use the stacked name pattern itself. */

static void test_families_kv(void) {
    const struct {
        const char *name, *cfg;
        int64_t prompt, gen;
    } fam[] = {
        {"llama3-tied.json", LLAMA3_CFG, 7, 10},
        {"mixtral-tiny.json", MIXTRAL_CFG, 6, 10},
        {"oss-tiny.json", OSS_CFG, 3, 12}, /* 14 positions, past the window of 4 */
        {"gpt2-tiny.json", GPT2_CFG, 6, 10},
    };
    for (size_t i = 0; i < sizeof fam / sizeof fam[0]; i++) {
        trn_model *m = parse(fam[i].name, fam[i].cfg);
        if (!m) continue;
        char file[64];
        snprintf(file, sizeof file, "kv%zu.safetensors", i);
        trn_weights *w = roundtrip(m, 100 + i, file);
        if (w) {
            /* scale up so attention and routing are far from uniform */
            for (int k = 0; k < trn_weights_count(w); k++) {
                const char *nm = trn_weights_name(w, k);
                int64_t n = 0;
                float *d = trn_weights_data(w, nm, &n);
                if (!strstr(nm, "norm") && !strstr(nm, "ln_") && !strstr(nm, "experts"))
                    for (int64_t j = 0; j < n; j++) d[j] *= 8.0f;
            }
            check_kv_cache(fam[i].name, m, w, fam[i].prompt, fam[i].gen);
        }
        trn_weights_destroy(w);
        trn_model_destroy(m);
    }
}

/* The sliding window matters: GPT-OSS layer 0 sees 4 keys. Changing the first token changes
 * the logits at position 4 only through the full layer, and a model whose layers are both
 * sliding forgets it entirely at position >= 2 windows (2 layers x 3 steps back). */
static void test_sliding_window(void) {
    const char *all_sliding =
        "{\"architectures\": [\"GptOssForCausalLM\"], \"hidden_size\": 64, \"intermediate_size\":"
        " 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2,"
        " \"head_dim\": 16, \"num_local_experts\": 4, \"num_experts_per_tok\": 2, \"vocab_size\":"
        " 256, \"max_position_embeddings\": 64, \"sliding_window\": 4, \"layer_types\":"
        " [\"sliding_attention\", \"sliding_attention\"], \"rope_theta\": 150000}";
    trn_model *m = parse("oss-sliding.json", all_sliding);
    if (!m) return;
    trn_weights *w = roundtrip(m, 5, "sliding.safetensors");
    if (w) {
        int32_t a[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, b[10];
        memcpy(b, a, sizeof a);
        b[0] = 200;
        float *la = full_logits(m, w, a, 10, 10), *lb = full_logits(m, w, b, 10, 10);
        /* position 9 sees positions 6..9 in layer 1, which saw 3..9 in layer 0: not 0 */
        CHECK(memcmp(la + 9 * 256, lb + 9 * 256, 256 * 4) == 0);
        /* position 3 does see position 0 */
        CHECK(memcmp(la + 3 * 256, lb + 3 * 256, 256 * 4) != 0);
        free(la);
        free(lb);
    }
    trn_weights_destroy(w);
    trn_model_destroy(m);
}

/* GPT-2's c_attn.weight is stored [in, out] (Conv1D): qkv = x W + b, read here from the file
 * itself, not through the weights object. */
static void test_gpt2_conv1d(void) {
    trn_model *m = parse("gpt2-tiny.json", GPT2_CFG);
    if (!m) return;
    trn_weights *w = roundtrip(m, 3, "gpt2.safetensors");
    char path[128];
    snprintf(path, sizeof path, "%s/gpt2.safetensors", tmpdir);
    trn_safetensors *st = NULL;
    trn_err err = {0};
    trn_array wa = {0}, ba = {0};
    CHECK_MSG(trn_safetensors_open(path, &st, &err) == TRN_OK, "%s", err.msg);
    if (st) {
        CHECK(trn_safetensors_read_array(st, "transformer.h.0.attn.c_attn.weight", &wa, &err) ==
              TRN_OK);
        CHECK(trn_safetensors_read_array(st, "transformer.h.0.attn.c_attn.bias", &ba, &err) ==
              TRN_OK);
    }
    CHECK_EQ_INT(wa.shape[0], 64);
    CHECK_EQ_INT(wa.shape[1], 192);
    trn_step sp = {3, 0, 3, 0};
    trn_graph *g = NULL;
    trn_ref *r = NULL;
    CHECK(trn_graph_build(m, &sp, &g, &err) == TRN_OK);
    CHECK(trn_ref_create(m, w, 3, &r, &err) == TRN_OK);
    int32_t tok[3] = {10, 20, 30};
    if (g && r && w && wa.data) {
        CHECK_MSG(trn_ref_run(r, g, tok, NULL, &err) == TRN_OK, "%s", err.msg);
        const float *x = trn_ref_tensor(r, "l0.attn_norm", NULL);
        const float *qkv = trn_ref_tensor(r, "l0.qkv", NULL);
        const float *Wf = wa.data, *bf = ba.data;
        double maxd = 0, maxd_t = 0;
        for (int t = 0; t < 3; t++)
            for (int n = 0; n < 192; n++) {
                double acc = bf[n], acct = bf[n];
                for (int k = 0; k < 64; k++) {
                    acc += (double)x[t * 64 + k] * Wf[k * 192 + n];
                    /* the other reading ([out, in], as nn.Linear) of the same bytes */
                    acct += (double)x[t * 64 + k] * Wf[(n % 64) * 192 + (n / 64) * 64 + k];
                }
                maxd = fmax(maxd, fabs(acc - qkv[t * 192 + n]));
                maxd_t = fmax(maxd_t, fabs(acct - qkv[t * 192 + n]));
            }
        CHECK_MSG(maxd < 1e-5, "GPT-2 qkv vs x W + b: max |diff| %g", maxd);
        CHECK_MSG(maxd_t > 1e-3, "the transposed reading also matches (%g): test cannot fail",
                  maxd_t);
    }
    trn_array_fini(&wa);
    trn_array_fini(&ba);
    trn_safetensors_close(st);
    trn_ref_destroy(r);
    trn_graph_destroy(g);
    trn_weights_destroy(w);
    trn_model_destroy(m);
}

/* ---- sampling ------------------------------------------------------------------------------- */

static void test_sampling(void) {
    float l[6] = {0.5f, 2.0f, 1.0f, -1.0f, 2.0f, 0.0f};
    float p[6];
    /* greedy: the argmax, lowest index on ties */
    CHECK_EQ_INT(trn_sample(l, 6, NULL, 0, p), 1);
    CHECK_EQ_INT(p[1], 1);
    trn_sampling k1 = {1.0, 1, 1.0, 42};
    for (uint64_t s = 0; s < 50; s++) CHECK_EQ_INT(trn_sample(l, 6, &k1, s, NULL), 1);
    /* top-k = 2 at temperature 2: ids 1 and 4 (both 2.0) at 1/2 each */
    trn_sampling k2 = {2.0, 2, 1.0, 42};
    trn_sample(l, 6, &k2, 0, p);
    CHECK_NEAR(p[1], 0.5, 1e-7);
    CHECK_NEAR(p[4], 0.5, 1e-7);
    CHECK_NEAR(p[0] + p[2] + p[3] + p[5], 0, 0);
    /* top-p on (2, 1, 0, -1) at T = 1: softmax 0.6439, 0.2369, 0.0871, 0.0321; p = 0.7 keeps
     * the first two (cumulative 0.8808), renormalized to 0.7311, 0.2689 */
    float l2[4] = {2, 1, 0, -1};
    trn_sampling tp = {1.0, 0, 0.7, 9};
    trn_sample(l2, 4, &tp, 0, p);
    double e1 = 1 / (1 + exp(-1.0));
    CHECK_NEAR(p[0], e1, 1e-6);
    CHECK_NEAR(p[1], 1 - e1, 1e-6);
    CHECK_NEAR(p[2] + p[3], 0, 0);
    /* frequencies over many draws follow the kept distribution */
    int count[4] = {0};
    for (uint64_t s = 0; s < 20000; s++) count[trn_sample(l2, 4, &tp, s, NULL)]++;
    CHECK_EQ_INT(count[2] + count[3], 0);
    CHECK_NEAR(count[0] / 20000.0, e1, 0.015);
    /* no top-p: all four, at softmax frequencies */
    trn_sampling all = {1.0, 0, 1.0, 9};
    int c4[4] = {0};
    for (uint64_t s = 0; s < 20000; s++) c4[trn_sample(l2, 4, &all, s, NULL)]++;
    double z = exp(2) + exp(1) + 1 + exp(-1);
    for (int i = 0; i < 4; i++) CHECK_NEAR(c4[i] / 20000.0, exp(2 - i) / z, 0.015);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void test_generate_seeded(void) {
    trn_model *m = parse("llama-tiny.json", LLAMA_CFG);
    if (!m) return;
    trn_weights *w = roundtrip(m, 21, "gen.safetensors");
    int32_t prompt[4] = {1, 2, 3, 4};
    trn_sampling s1 = {1.0, 50, 0.95, 1234}, s2 = {1.0, 50, 0.95, 999};
    trn_generation a, b, c, gr, k1;
    trn_err err = {0};
    double t0 = now_s();
    CHECK(trn_generate(m, w, prompt, 4, 16, &s1, &a, &err) == TRN_OK);
    double dt = now_s() - t0;
    CHECK(trn_generate(m, w, prompt, 4, 16, &s1, &b, &err) == TRN_OK);
    CHECK(trn_generate(m, w, prompt, 4, 16, &s2, &c, &err) == TRN_OK);
    trn_sampling greedy = {0, 0, 1, 0}, topk1 = {0.8, 1, 1, 77};
    CHECK(trn_generate(m, w, prompt, 4, 16, &greedy, &gr, &err) == TRN_OK);
    CHECK(trn_generate(m, w, prompt, 4, 16, &topk1, &k1, &err) == TRN_OK);
    if (a.tokens && b.tokens && c.tokens && gr.tokens && k1.tokens) {
        CHECK(memcmp(a.tokens, b.tokens, 16 * 4) == 0);
        CHECK(memcmp(a.logits, b.logits, 16 * 256 * 4) == 0);
        CHECK(memcmp(a.tokens, c.tokens, 16 * 4) != 0);
        CHECK(memcmp(gr.tokens, k1.tokens, 16 * 4) == 0);
    }
    /* a 2-layer hidden-64 model generating 16 tokens: milliseconds */
    CHECK_MSG(dt < 1.0, "16 tokens took %.3f s", dt); /* ~3 ms in Release, ~40 ms under ASan */
    printf("llama-tiny (2 layers, hidden 64, vocab 256): 4-token prompt + 16 tokens in %.2f ms\n",
           dt * 1e3);
    /* bad requests */
    trn_generation bad;
    int32_t big = 256;
    CHECK(trn_generate(m, w, &big, 1, 2, NULL, &bad, &err) == TRN_E_RANGE);
    CHECK_CONTAINS(err.msg, "token 0 is id 256");
    CHECK(trn_generate(m, w, prompt, 4, 200, NULL, &bad, &err) == TRN_E_RANGE);
    CHECK_CONTAINS(err.msg, "exceed the model's 128 positions");
    trn_generation_fini(&a);
    trn_generation_fini(&b);
    trn_generation_fini(&c);
    trn_generation_fini(&gr);
    trn_generation_fini(&k1);
    trn_weights_destroy(w);
    trn_model_destroy(m);
}

static void cleanup(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/trn_test_cref_XXXXXX");
    TRN_ASSERT(mkdtemp(tmpdir));
    test_llama_direct();
    test_gpt2_direct();
    test_oss_direct();
    test_moe_routing(0);
    test_moe_routing(1);
    test_families_kv();
    test_sliding_window();
    test_gpt2_conv1d();
    test_sampling();
    test_generate_seeded();
    cleanup();
    return test_summary();
}

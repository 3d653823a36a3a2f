/* Model builders: one step's graph from a normalized HF config, with the checkpoint's tensor
 * names and layouts (docs/models.md lists them with their sources in HF transformers):
 *
 *   Llama    model.embed_tokens, model.layers.N.{input_layernorm, self_attn.{q,k,v,o}_proj,
 *            post_attention_layernorm, mlp.{gate,up,down}_proj}, model.norm, lm_head
 *   Mixtral  as Llama with model.layers.N.block_sparse_moe.{gate, experts.E.{w1,w2,w3}}
 *   GPT-OSS  as Llama with biased projections, self_attn.sinks, and
 *            model.layers.N.mlp.{router, experts.{gate_up_proj, down_proj}[_bias]}
 *   GPT-2    transformer.{wte, wpe, h.N.{ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc,
 *            mlp.c_proj}, ln_f}; Conv1D weights are stored [in, out]
 *
 * Deliberately left out: DeepSeek-V3 (MLA), BERT (an encoder), Mistral-style rolling caches. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trnsim/graph.h"

static const double PI = 3.14159265358979323846;

void trn_rope_inv_freq(const trn_model_config *c, double *inv, double *attn_factor) {
    int64_t d = c->head_dim, half = d / 2;
    double base = c->rope_theta, f = c->rope_factor;
    *attn_factor = 1.0;
    for (int64_t i = 0; i < half; i++) inv[i] = 1.0 / pow(base, (double)(2 * i) / (double)d);
    if (c->rope_kind == TRN_ROPE_LINEAR) {
        for (int64_t i = 0; i < half; i++) inv[i] /= f;
    } else if (c->rope_kind == TRN_ROPE_LLAMA3) {
        /* HF _compute_llama3_parameters: wavelengths longer than old_ctx / low_freq_factor
         * are divided by factor, shorter than old_ctx / high_freq_factor kept, and the band
         * between interpolated smoothly. */
        double old = (double)c->rope_original_max_positions;
        double lo = c->rope_low_freq_factor, hi = c->rope_high_freq_factor;
        double low_wl = old / lo, high_wl = old / hi;
        for (int64_t i = 0; i < half; i++) {
            double wl = 2.0 * PI / inv[i];
            if (wl > low_wl) {
                inv[i] /= f;
            } else if (wl >= high_wl) {
                double sm = (old / wl - lo) / (hi - lo);
                inv[i] = (1.0 - sm) * inv[i] / f + sm * inv[i];
            }
        }
    } else if (c->rope_kind == TRN_ROPE_YARN) {
        /* HF _compute_yarn_parameters: NTK-by-parts. Dimensions rotating more than beta_fast
         * times over the original context extrapolate (keep inv_freq), fewer than beta_slow
         * interpolate (inv_freq / factor), a linear ramp between; cos and sin are scaled by
         * the attention factor 0.1 ln(factor) + 1 unless the config gives one. */
        double omp = (double)c->rope_original_max_positions;
        double lo = (double)d * log(omp / (c->rope_beta_fast * 2.0 * PI)) / (2.0 * log(base));
        double hi = (double)d * log(omp / (c->rope_beta_slow * 2.0 * PI)) / (2.0 * log(base));
        if (c->rope_truncate) {
            lo = floor(lo);
            hi = ceil(hi);
        }
        if (lo < 0) lo = 0;
        if (hi > (double)(d - 1)) hi = (double)(d - 1);
        if (lo == hi) hi += 0.001;
        for (int64_t i = 0; i < half; i++) {
            double ramp = ((double)i - lo) / (hi - lo);
            ramp = ramp < 0 ? 0 : ramp > 1 ? 1 : ramp;
            double extra = 1.0 - ramp; /* inv_freq_extrapolation_factor */
            inv[i] = inv[i] / f * (1.0 - extra) + inv[i] * extra;
        }
        *attn_factor = c->rope_attention_factor > 0 ? c->rope_attention_factor
                       : f <= 1                     ? 1.0
                                                    : 0.1 * log(f) + 1.0;
    }
}

/* ---- a small builder context ----------------------------------------------------------- */

typedef struct bld {
    trn_graph *g;
    const trn_model_config *c;
    trn_err *err;
    int fail;
    int layer;
    char label[32];
} bld;

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static int
weight(bld *b, trn_layout lay, trn_wsource src, const int64_t *shape, const char *fmt, ...) {
    if (b->fail) return -1;
    char name[TRN_GRAPH_NAME_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    int i = trn_graph_find(b->g, name);
    if (i >= 0) return i; /* tied: the same tensor again */
    int rank = 0;
    while (rank < TRN_GRAPH_MAX_RANK && shape[rank]) rank++;
    i = trn_graph_tensor(b->g, name, TRN_GROLE_WEIGHT, TRN_DTYPE_F32, rank, shape, b->err);
    if (i < 0) {
        b->fail = 1;
        return -1;
    }
    b->g->tensors[i].layout = lay;
    b->g->tensors[i].source = src;
    return i;
}

#define SHAPE(...) ((const int64_t[TRN_GRAPH_MAX_RANK + 1]){__VA_ARGS__, 0})

/* Adds op `kind` with inputs (-1 = absent) and the given attributes; output named
 * "l<layer>.<what>" (or <what> outside the layers). */
static int add(bld *b, trn_gop op, const char *what, int nin, ...) {
    if (b->fail) return -1;
    char name[TRN_GRAPH_NAME_MAX];
    if (b->layer >= 0)
        snprintf(name, sizeof name, "l%d.%s", b->layer, what);
    else
        snprintf(name, sizeof name, "%s", what);
    va_list ap;
    va_start(ap, nin);
    op.nin = nin;
    for (int i = 0; i < nin; i++) op.in[i] = va_arg(ap, int);
    va_end(ap);
    op.layer = b->layer;
    snprintf(op.label, sizeof op.label, "%s", b->label);
    char name1[TRN_GRAPH_NAME_MAX + 8];
    snprintf(name1, sizeof name1, "%s_w", name);
    int o = trn_graph_op(b->g, &op, name, name1, b->err);
    if (o < 0) b->fail = 1;
    return o;
}

static trn_gop mk(trn_op_kind k) {
    trn_gop o;
    memset(&o, 0, sizeof o);
    o.kind = k;
    return o;
}

static void set_label(bld *b, const char *what) {
    if (b->layer >= 0)
        snprintf(b->label, sizeof b->label, "l%d.%s", b->layer, what);
    else
        snprintf(b->label, sizeof b->label, "%s", what);
}

/* ---- Llama, Mixtral, GPT-OSS ------------------------------------------------------------ */

static int linear(bld *b, int x, int w, int bias, const char *what) {
    trn_gop o = mk(TRN_GOP_LINEAR);
    return bias >= 0 ? add(b, o, what, 3, x, w, bias) : add(b, o, what, 2, x, w);
}

static void build_decoder(bld *b, const trn_model *m) {
    const trn_model_config *c = b->c;
    trn_graph *g = b->g;
    int64_t H = c->hidden, nh = c->heads, kvh = c->kv_heads, d = c->head_dim, V = c->vocab;
    int64_t I = c->intermediate, E = c->experts, IE = c->expert_intermediate;
    int64_t T = g->step.tokens, C = g->step.max_ctx;
    int oss = c->arch == TRN_MODEL_GPT_OSS, mix = c->arch == TRN_MODEL_MIXTRAL;
    const char *L = "model.layers";
    b->layer = -1;
    set_label(b, "embed");
    int ids = trn_graph_tensor(g, "tokens", TRN_GROLE_INPUT, TRN_DTYPE_INT32, 1, SHAPE(T), b->err);
    if (ids < 0) {
        b->fail = 1;
        return;
    }
    g->input = ids;
    int emb =
        weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(V, H), "model.embed_tokens.weight");
    int h = add(b, mk(TRN_GOP_EMBED), "embed", 2, ids, emb);
    /* RoPE table, shared by every layer */
    double *inv = malloc((size_t)(d / 2) * sizeof *inv);
    float *invf = malloc((size_t)(d / 2) * sizeof *invf);
    double af = 1;
    int rope = -1;
    if (!inv || !invf) {
        free(inv);
        free(invf);
        trn_err_set(b->err, TRN_E_NOMEM, "out of memory");
        b->fail = 1;
        return;
    }
    trn_rope_inv_freq(c, inv, &af);
    for (int64_t i = 0; i < d / 2; i++) invf[i] = (float)inv[i];
    free(inv);
    if (!b->fail)
        rope = trn_graph_tensor(g, "rope.inv_freq", TRN_GROLE_CONST, TRN_DTYPE_F32, 1, SHAPE(d / 2),
                                b->err);
    if (rope < 0) {
        free(invf);
        b->fail = 1;
        return;
    }
    g->tensors[rope].const_data = invf;
    int ab = c->attn_bias ? 1 : 0;
    for (int64_t l = 0; l < c->layers && !b->fail; l++) {
        trn_model_layer ly;
        if (trn_model_layer_at(m, l, &ly, b->err) != TRN_OK) {
            b->fail = 1;
            return;
        }
        b->layer = (int)l;
        set_label(b, "attn");
        int ln1 = weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(H),
                         "%s.%lld.input_layernorm.weight", L, (long long)l);
        trn_gop rn = mk(TRN_GOP_RMSNORM);
        rn.eps = c->norm_eps;
        int a = add(b, rn, "attn_norm", 2, h, ln1);
        int wq = weight(b, TRN_LAYOUT_OUT_IN, TRN_WSRC_TENSOR, SHAPE(nh * d, H),
                        "%s.%lld.self_attn.q_proj.weight", L, (long long)l);
        int bq = ab ? weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(nh * d),
                             "%s.%lld.self_attn.q_proj.bias", L, (long long)l)
                    : -1;
        int wk = weight(b, TRN_LAYOUT_OUT_IN, TRN_WSRC_TENSOR, SHAPE(kvh * d, H),
                        "%s.%lld.self_attn.k_proj.weight", L, (long long)l);
        int bk = ab ? weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(kvh * d),
                             "%s.%lld.self_attn.k_proj.bias", L, (long long)l)
                    : -1;
        int wv = weight(b, TRN_LAYOUT_OUT_IN, TRN_WSRC_TENSOR, SHAPE(kvh * d, H),
                        "%s.%lld.self_attn.v_proj.weight", L, (long long)l);
        int bv = ab ? weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(kvh * d),
                             "%s.%lld.self_attn.v_proj.bias", L, (long long)l)
                    : -1;
        int wo = weight(b, TRN_LAYOUT_OUT_IN, TRN_WSRC_TENSOR, SHAPE(H, nh * d),
                        "%s.%lld.self_attn.o_proj.weight", L, (long long)l);
        int bo = ab ? weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(H),
                             "%s.%lld.self_attn.o_proj.bias", L, (long long)l)
                    : -1;
        int sinks = c->attn_sinks ? weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(nh),
                                           "%s.%lld.self_attn.sinks", L, (long long)l)
                                  : -1;
        int q = linear(b, a, wq, bq, "q");
        int k = linear(b, a, wk, bk, "k");
        int v = linear(b, a, wv, bv, "v");
        trn_gop ro = mk(TRN_GOP_ROPE);
        ro.head_dim = d;
        ro.pos0 = g->step.pos0;
        ro.scale = af;
        ro.heads = nh;
        q = add(b, ro, "q_rope", 2, q, rope);
        ro.heads = kvh;
        k = add(b, ro, "k_rope", 2, k, rope);
        char nm[TRN_GRAPH_NAME_MAX];
        snprintf(nm, sizeof nm, "%s.%lld.self_attn.k_cache", L, (long long)l);
        int kc = b->fail ? -1
                         : trn_graph_tensor(g, nm, TRN_GROLE_KV_CACHE, TRN_DTYPE_F32, 2,
                                            SHAPE(C, kvh * d), b->err);
        snprintf(nm, sizeof nm, "%s.%lld.self_attn.v_cache", L, (long long)l);
        int vc = kc < 0 ? -1
                        : trn_graph_tensor(g, nm, TRN_GROLE_KV_CACHE, TRN_DTYPE_F32, 2,
                                           SHAPE(C, kvh * d), b->err);
        if (vc < 0) {
            b->fail = 1;
            return;
        }
        trn_gop at = mk(TRN_GOP_ATTENTION);
        at.heads = nh;
        at.kv_heads = kvh;
        at.head_dim = d;
        at.pos0 = g->step.pos0;
        at.window = ly.sliding ? c->sliding_window : 0;
        at.scale = 1.0 / sqrt((double)d);
        int o = sinks >= 0 ? add(b, at, "attn", 6, q, k, v, kc, vc, sinks)
                           : add(b, at, "attn", 5, q, k, v, kc, vc);
        o = linear(b, o, wo, bo, "attn_out");
        h = add(b, mk(TRN_GOP_ADD), "attn_res", 2, h, o);
        set_label(b, ly.moe ? "moe" : "mlp");
        int ln2 = weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(H),
                         "%s.%lld.post_attention_layernorm.weight", L, (long long)l);
        int x = add(b, rn, "mlp_norm", 2, h, ln2);
        int y;
        if (ly.moe && mix) {
            int rw = weight(b, TRN_LAYOUT_OUT_IN, TRN_WSRC_TENSOR, SHAPE(E, H),
                            "%s.%lld.block_sparse_moe.gate.weight", L, (long long)l);
            int w1 = weight(b, TRN_LAYOUT_OUT_IN, TRN_WSRC_STACK, SHAPE(E, IE, H),
                            "%s.%lld.block_sparse_moe.experts.%%d.w1.weight", L, (long long)l);
            int w3 = weight(b, TRN_LAYOUT_OUT_IN, TRN_WSRC_STACK, SHAPE(E, IE, H),
                            "%s.%lld.block_sparse_moe.experts.%%d.w3.weight", L, (long long)l);
            int w2 = weight(b, TRN_LAYOUT_OUT_IN, TRN_WSRC_STACK, SHAPE(E, H, IE),
                            "%s.%lld.block_sparse_moe.experts.%%d.w2.weight", L, (long long)l);
            trn_gop r = mk(TRN_GOP_MOE_ROUTER);
            r.k = c->experts_per_token;
            r.gating = TRN_GATE_SOFTMAX_TOPK;
            int ri = add(b, r, "router", 2, x, rw);
            trn_gop ex = mk(TRN_GOP_MOE_EXPERTS);
            ex.k = r.k;
            ex.expert = TRN_EXPERT_SWIGLU;
            y = add(b, ex, "experts", 6, x, ri, ri + 1, w1, w3, w2);
        } else if (ly.moe && oss) {
            trn_wsource src = c->quant_method && strcmp(c->quant_method, "mxfp4") == 0
                                  ? TRN_WSRC_MXFP4
                                  : TRN_WSRC_TENSOR;
            int rw = weight(b, TRN_LAYOUT_OUT_IN, TRN_WSRC_TENSOR, SHAPE(E, H),
                            "%s.%lld.mlp.router.weight", L, (long long)l);
            int rb = weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(E),
                            "%s.%lld.mlp.router.bias", L, (long long)l);
            int gu = weight(b, TRN_LAYOUT_IN_OUT, src, SHAPE(E, H, 2 * IE),
                            "%s.%lld.mlp.experts.gate_up_proj", L, (long long)l);
            int gub = weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(E, 2 * IE),
                             "%s.%lld.mlp.experts.gate_up_proj_bias", L, (long long)l);
            int dn = weight(b, TRN_LAYOUT_IN_OUT, src, SHAPE(E, IE, H),
                            "%s.%lld.mlp.experts.down_proj", L, (long long)l);
            int dnb = weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(E, H),
                             "%s.%lld.mlp.experts.down_proj_bias", L, (long long)l);
            trn_gop r = mk(TRN_GOP_MOE_ROUTER);
            r.k = c->experts_per_token;
            r.gating = TRN_GATE_TOPK_SOFTMAX;
            int ri = add(b, r, "router", 3, x, rw, rb);
            trn_gop ex = mk(TRN_GOP_MOE_EXPERTS);
            ex.k = r.k;
            ex.expert = TRN_EXPERT_OAI;
            ex.alpha = 1.702; /* GptOssExperts.alpha (HF modeling_gpt_oss.py) */
            ex.limit = c->swiglu_limit;
            y = add(b, ex, "experts", 7, x, ri, ri + 1, gu, gub, dn, dnb);
        } else {
            int mb = c->mlp_bias;
            int wg = weight(b, TRN_LAYOUT_OUT_IN, TRN_WSRC_TENSOR, SHAPE(I, H),
                            "%s.%lld.mlp.gate_proj.weight", L, (long long)l);
            int wu = weight(b, TRN_LAYOUT_OUT_IN, TRN_WSRC_TENSOR, SHAPE(I, H),
                            "%s.%lld.mlp.up_proj.weight", L, (long long)l);
            int wd = weight(b, TRN_LAYOUT_OUT_IN, TRN_WSRC_TENSOR, SHAPE(H, I),
                            "%s.%lld.mlp.down_proj.weight", L, (long long)l);
            int bg = mb ? weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(I),
                                 "%s.%lld.mlp.gate_proj.bias", L, (long long)l)
                        : -1;
            int bu = mb ? weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(I),
                                 "%s.%lld.mlp.up_proj.bias", L, (long long)l)
                        : -1;
            int bd = mb ? weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(H),
                                 "%s.%lld.mlp.down_proj.bias", L, (long long)l)
                        : -1;
            int gt = linear(b, x, wg, bg, "gate");
            int up = linear(b, x, wu, bu, "up");
            int s = add(b, mk(TRN_GOP_SWIGLU), "swiglu", 2, gt, up);
            y = linear(b, s, wd, bd, "down");
        }
        h = add(b, mk(TRN_GOP_ADD), "mlp_res", 2, h, y);
    }
    b->layer = -1;
    set_label(b, "head");
    if (!g->step.all_logits) h = add(b, mk(TRN_GOP_LAST_ROW), "last", 1, h);
    int nw = weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(H), "model.norm.weight");
    trn_gop rn = mk(TRN_GOP_RMSNORM);
    rn.eps = c->norm_eps;
    h = add(b, rn, "final_norm", 2, h, nw);
    int head = c->tied_embeddings
                   ? emb
                   : weight(b, TRN_LAYOUT_OUT_IN, TRN_WSRC_TENSOR, SHAPE(V, H), "lm_head.weight");
    g->logits = linear(b, h, head, -1, "logits");
}

/* ---- GPT-2 -------------------------------------------------------------------------------- */

static void build_gpt2(bld *b) {
    const trn_model_config *c = b->c;
    trn_graph *g = b->g;
    int64_t H = c->hidden, nh = c->heads, d = c->head_dim, V = c->vocab, I = c->intermediate;
    int64_t T = g->step.tokens, C = g->step.max_ctx, P = c->learned_positions;
    const char *R = "transformer";
    b->layer = -1;
    set_label(b, "embed");
    int ids = trn_graph_tensor(g, "tokens", TRN_GROLE_INPUT, TRN_DTYPE_INT32, 1, SHAPE(T), b->err);
    if (ids < 0) {
        b->fail = 1;
        return;
    }
    g->input = ids;
    int wte = weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(V, H), "%s.wte.weight", R);
    int wpe = weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(P, H), "%s.wpe.weight", R);
    int te = add(b, mk(TRN_GOP_EMBED), "tok_embed", 2, ids, wte);
    trn_gop pe = mk(TRN_GOP_POS_EMBED);
    pe.pos0 = g->step.pos0;
    int pos = add(b, pe, "pos_embed", 1, wpe);
    int h = add(b, mk(TRN_GOP_ADD), "embed", 2, te, pos);
    trn_gop ln = mk(TRN_GOP_LAYERNORM);
    ln.eps = c->norm_eps;
    for (int64_t l = 0; l < c->layers && !b->fail; l++) {
        b->layer = (int)l;
        set_label(b, "attn");
        long long L = (long long)l;
        int l1w = weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(H),
                         "%s.h.%lld.ln_1.weight", R, L);
        int l1b =
            weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(H), "%s.h.%lld.ln_1.bias", R, L);
        int caw = weight(b, TRN_LAYOUT_IN_OUT, TRN_WSRC_TENSOR, SHAPE(H, 3 * H),
                         "%s.h.%lld.attn.c_attn.weight", R, L);
        int cab = weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(3 * H),
                         "%s.h.%lld.attn.c_attn.bias", R, L);
        int cpw = weight(b, TRN_LAYOUT_IN_OUT, TRN_WSRC_TENSOR, SHAPE(H, H),
                         "%s.h.%lld.attn.c_proj.weight", R, L);
        int cpb = weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(H),
                         "%s.h.%lld.attn.c_proj.bias", R, L);
        int a = add(b, ln, "attn_norm", 3, h, l1w, l1b);
        int qkv = linear(b, a, caw, cab, "qkv");
        trn_gop sl = mk(TRN_GOP_SLICE_COLS);
        sl.cols = H;
        sl.col0 = 0;
        int q = add(b, sl, "q", 1, qkv);
        sl.col0 = H;
        int k = add(b, sl, "k", 1, qkv);
        sl.col0 = 2 * H;
        int v = add(b, sl, "v", 1, qkv);
        char nm[TRN_GRAPH_NAME_MAX];
        snprintf(nm, sizeof nm, "%s.h.%lld.attn.k_cache", R, L);
        int kc = b->fail ? -1
                         : trn_graph_tensor(g, nm, TRN_GROLE_KV_CACHE, TRN_DTYPE_F32, 2,
                                            SHAPE(C, H), b->err);
        snprintf(nm, sizeof nm, "%s.h.%lld.attn.v_cache", R, L);
        int vc = kc < 0 ? -1
                        : trn_graph_tensor(g, nm, TRN_GROLE_KV_CACHE, TRN_DTYPE_F32, 2, SHAPE(C, H),
                                           b->err);
        if (vc < 0) {
            b->fail = 1;
            return;
        }
        trn_gop at = mk(TRN_GOP_ATTENTION);
        at.heads = at.kv_heads = nh;
        at.head_dim = d;
        at.pos0 = g->step.pos0;
        at.scale = 1.0 / sqrt((double)d);
        int o = add(b, at, "attn", 5, q, k, v, kc, vc);
        o = linear(b, o, cpw, cpb, "attn_out");
        h = add(b, mk(TRN_GOP_ADD), "attn_res", 2, h, o);
        set_label(b, "mlp");
        int l2w = weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(H),
                         "%s.h.%lld.ln_2.weight", R, L);
        int l2b =
            weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(H), "%s.h.%lld.ln_2.bias", R, L);
        int fw = weight(b, TRN_LAYOUT_IN_OUT, TRN_WSRC_TENSOR, SHAPE(H, I),
                        "%s.h.%lld.mlp.c_fc.weight", R, L);
        int fb = weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(I),
                        "%s.h.%lld.mlp.c_fc.bias", R, L);
        int pw = weight(b, TRN_LAYOUT_IN_OUT, TRN_WSRC_TENSOR, SHAPE(I, H),
                        "%s.h.%lld.mlp.c_proj.weight", R, L);
        int pb = weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(H),
                        "%s.h.%lld.mlp.c_proj.bias", R, L);
        int x = add(b, ln, "mlp_norm", 3, h, l2w, l2b);
        int f = linear(b, x, fw, fb, "fc");
        f = add(b, mk(c->gelu_tanh ? TRN_GOP_GELU_TANH : TRN_GOP_GELU), "gelu", 1, f);
        f = linear(b, f, pw, pb, "proj");
        h = add(b, mk(TRN_GOP_ADD), "mlp_res", 2, h, f);
    }
    b->layer = -1;
    set_label(b, "head");
    if (!g->step.all_logits) h = add(b, mk(TRN_GOP_LAST_ROW), "last", 1, h);
    int fw = weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(H), "%s.ln_f.weight", R);
    int fb = weight(b, TRN_LAYOUT_ROW_MAJOR, TRN_WSRC_TENSOR, SHAPE(H), "%s.ln_f.bias", R);
    h = add(b, ln, "final_norm", 3, h, fw, fb);
    g->logits = linear(b, h, wte, -1, "logits"); /* GPT-2 always ties the head to wte */
}

trn_status trn_graph_build(const trn_model *m, const trn_step *step, trn_graph **out,
                           trn_err *err) {
    *out = NULL;
    trn_err local;
    if (!err) err = &local;
    const trn_model_config *c = trn_model_config_of(m);
    if (c->arch != TRN_MODEL_LLAMA && c->arch != TRN_MODEL_MIXTRAL &&
        c->arch != TRN_MODEL_GPT_OSS && c->arch != TRN_MODEL_GPT2)
        return trn_err_set(err, TRN_E_UNSUPPORTED,
                           "%s: the compiler builds llama, mixtral, gpt_oss and gpt2 models, not "
                           "%s",
                           c->file, trn_model_arch_name(c->arch));
    if (c->mla || (c->arch != TRN_MODEL_GPT2 && c->head_dim % 2))
        return trn_err_set(err, TRN_E_UNSUPPORTED, "%s: head_dim %lld: RoPE needs an even head_dim",
                           c->file, (long long)c->head_dim);
    if (step->tokens < 1 || step->pos0 < 0 || step->max_ctx < step->pos0 + step->tokens)
        return trn_err_set(err, TRN_E_RANGE,
                           "%s: step of %lld tokens at position %lld does not fit a KV cache of "
                           "%lld positions",
                           c->file, (long long)step->tokens, (long long)step->pos0,
                           (long long)step->max_ctx);
    if (step->max_ctx > c->max_positions)
        return trn_err_set(err, TRN_E_RANGE, "%s: context %lld exceeds the model's %lld positions",
                           c->file, (long long)step->max_ctx, (long long)c->max_positions);
    trn_graph *g = NULL;
    trn_status s = trn_graph_init(c, step, &g, err);
    if (s != TRN_OK) return s;
    bld b = {g, c, err, 0, -1, ""};
    if (c->arch == TRN_MODEL_GPT2)
        build_gpt2(&b);
    else
        build_decoder(&b, m);
    if (b.fail) {
        trn_graph_destroy(g);
        return err->status;
    }
    g->tensors[g->logits].role = TRN_GROLE_OUTPUT;
    *out = g;
    return TRN_OK;
}

/* What follows from a model's config alone: parameters per layer and in total (MoE total and
 * active), FLOPs per token (matmuls from the parameters a token multiplies, attention from
 * the keys each query sees) and KV-cache bytes. The formulas and their sources are in
 * docs/planner.md; every count is exact integer arithmetic on the config's shapes.
 *
 * Deliberately left out: elementwise FLOPs (norms, activations, softmax, rotary, router
 * top-k), which are below 0.1% of the matmul FLOPs for every model of the catalog, and MLA's
 * weight-absorbed decode form (the attention FLOPs are those of the plain form). */
#include "model_impl.h"

#include <stdio.h>

int plan_layer_is_moe(const trn_model_config *c, int64_t i) {
    if (!c->experts || i < c->first_dense_layers) return 0;
    return (i - c->first_dense_layers) % c->moe_layer_freq == 0;
}

/* Attention of one layer: projection matrices and the small vectors beside them. */
static void attn_split(const trn_model_config *c, int64_t *matrix, int64_t *small) {
    int64_t h = c->hidden;
    if (c->mla) {
        /* DeepSeek-V2/V3 MLA: q = W_qb norm(W_qa x) (or W_q x without q_lora_rank),
         * [c_kv, k_rope] = W_kva x, [k_nope, v] = W_kvb norm(c_kv), out = W_o o. */
        int64_t qk = c->qk_nope_head_dim + c->qk_rope_head_dim;
        int64_t q = c->q_lora_rank ? h * c->q_lora_rank + c->q_lora_rank * c->heads * qk
                                   : h * c->heads * qk;
        *matrix = q + h * (c->kv_lora_rank + c->qk_rope_head_dim) +
                  c->kv_lora_rank * c->heads * (c->qk_nope_head_dim + c->v_head_dim) +
                  c->heads * c->v_head_dim * h;
        *small = c->q_lora_rank + c->kv_lora_rank; /* q_a_layernorm, kv_a_layernorm */
        if (c->attn_bias) *small += c->q_lora_rank + c->kv_lora_rank + c->qk_rope_head_dim + h;
        return;
    }
    int64_t q = c->heads * c->head_dim, kv = c->kv_heads * c->head_dim;
    *matrix = h * q + 2 * h * kv + q * h;
    *small = (c->attn_bias ? q + 2 * kv + h : 0) + (c->attn_sinks ? c->heads : 0);
}

/* A feed-forward block of width `inter`: matrices and biases. */
static void mlp_split(const trn_model_config *c, int64_t inter, int64_t *matrix, int64_t *bias) {
    int64_t h = c->hidden;
    *matrix = (c->gated_mlp ? 3 : 2) * h * inter;
    *bias = c->mlp_bias ? (c->gated_mlp ? 2 * inter : inter) + h : 0;
}

void plan_layer_split(const trn_model *m, int64_t i, plan_lp *out) {
    const trn_model_config *c = &m->cfg;
    plan_lp p = {0};
    attn_split(c, &p.attn_matrix, &p.attn_small);
    p.norms = 2 * c->hidden * (c->layer_norm ? 2 : 1);
    if (plan_layer_is_moe(c, i)) {
        int64_t em, eb;
        mlp_split(c, c->expert_intermediate, &em, &eb);
        p.expert_matrix = c->experts * em;
        p.expert_bias = c->experts * eb;
        p.expert_one = em + eb;
        /* DeepSeek's shared experts form one MLP n_shared x moe_intermediate_size wide. */
        if (c->shared_experts)
            mlp_split(c, c->shared_experts * c->expert_intermediate, &p.mlp_matrix, &p.mlp_bias);
        p.router = c->experts * c->hidden + (c->router_bias ? c->experts : 0);
    } else {
        mlp_split(c, c->intermediate, &p.mlp_matrix, &p.mlp_bias);
    }
    *out = p;
}

trn_status trn_model_layer_at(const trn_model *m, int64_t i, trn_model_layer *out, trn_err *err) {
    const trn_model_config *c = &m->cfg;
    if (i < 0 || i >= c->layers)
        return trn_err_set(err, TRN_E_RANGE, "%s: layer %lld: expected 0 to %lld", c->name,
                           (long long)i, (long long)c->layers - 1);
    plan_lp p;
    plan_layer_split(m, i, &p);
    trn_model_layer l = {0};
    l.moe = plan_layer_is_moe(c, i);
    l.sliding = m->sliding[i];
    l.attn_params = p.attn_matrix + p.attn_small;
    l.mlp_params = p.mlp_matrix + p.mlp_bias + p.expert_matrix + p.expert_bias + p.router;
    l.mlp_active_params =
        p.mlp_matrix + p.mlp_bias + p.router + c->experts_per_token * p.expert_one;
    if (!l.moe) l.mlp_active_params = l.mlp_params;
    l.norm_params = p.norms;
    if (c->mla) {
        /* MLA caches the compressed latent c_kv and the shared RoPE key, not per-head K/V
         * (DeepSeek-V2 paper, section 2.1.2 and Table 1: (d_c + d_h^R) per layer). */
        l.kv_elems = c->kv_lora_rank + c->qk_rope_head_dim;
        l.attn_flops_per_key = 2 * c->heads * (c->qk_nope_head_dim + c->qk_rope_head_dim) +
                               2 * c->heads * c->v_head_dim;
    } else {
        l.kv_elems = c->causal ? 2 * c->kv_heads * c->head_dim : 0;
        l.attn_flops_per_key = 4 * c->heads * c->head_dim;
    }
    *out = l;
    return TRN_OK;
}

/* One MTP module (DeepSeek-V3 section 2.2): RMSNorms of the hidden state and of the next
 * token's embedding, the 2h -> h projection, one MoE decoder layer and the shared head's
 * norm. Its embedding and output head are the main model's. */
static int64_t mtp_params(const trn_model *m) {
    const trn_model_config *c = &m->cfg;
    if (!c->mtp_layers) return 0;
    plan_lp p;
    /* the module's layer is a MoE layer (index past the dense prefix) */
    int64_t moe_layer = c->first_dense_layers < c->layers ? c->first_dense_layers : 0;
    plan_layer_split(m, moe_layer, &p);
    int64_t layer = p.attn_matrix + p.attn_small + p.mlp_matrix + p.mlp_bias + p.expert_matrix +
                    p.expert_bias + p.router + p.norms;
    return c->mtp_layers * (2 * c->hidden + 2 * c->hidden * c->hidden + layer + c->hidden);
}

void trn_model_params_of(const trn_model *m, trn_model_params *out) {
    const trn_model_config *c = &m->cfg;
    trn_model_params r = {0};
    int64_t h = c->hidden, norm = c->layer_norm ? 2 * h : h;
    double wb = c->weight_bits / 8, lb = c->linear_weight_bits / 8, eb = c->expert_weight_bits / 8;
    double bytes = 0;
    int64_t active_mlp = 0, attn_all = 0;
    for (int64_t i = 0; i < c->layers; i++) {
        plan_lp p;
        trn_model_layer l;
        plan_layer_split(m, i, &p);
        trn_model_layer_at(m, i, &l, NULL);
        r.attn += l.attn_params;
        r.mlp += l.mlp_params;
        r.norms += l.norm_params;
        active_mlp += l.mlp_active_params;
        attn_all += l.attn_params;
        bytes += (double)p.attn_matrix * lb + (double)p.mlp_matrix * lb +
                 (double)p.expert_matrix * eb +
                 (double)(p.attn_small + p.mlp_bias + p.expert_bias + p.router + p.norms) * wb;
    }
    r.embed = c->vocab * h + c->learned_positions * h + c->token_types * h;
    if (c->arch == TRN_MODEL_BERT) {
        r.embed += 2 * h; /* embeddings LayerNorm; BERT has no final norm */
        if (m->bert_mlm) r.lm_head = h * h + h + 2 * h + c->vocab; /* transform, LN, bias */
        if (m->bert_pooler) r.other += h * h + h;
        if (m->bert_nsp) r.other += 2 * h + 2;
    } else {
        r.norms += norm; /* final norm */
        if (!c->tied_embeddings) r.lm_head = c->vocab * h;
    }
    r.total = r.embed + r.lm_head + r.attn + r.mlp + r.norms + r.other;
    r.active = r.total - r.mlp + active_mlp;
    r.nonembed = r.total - r.embed - r.lm_head;
    /* Per token: every layer's attention and active MLP, and the output projection (the tied
     * table is multiplied too); BERT's MLM transform is a further h x h matmul. */
    r.compute = attn_all + active_mlp + c->vocab * h + (m->bert_mlm ? h * h + h : 0);
    r.mtp = mtp_params(m);
    bytes += (double)(r.embed + r.lm_head + r.other) * wb;
    if (c->arch != TRN_MODEL_BERT) bytes += (double)norm * wb;
    r.weight_bytes = bytes;
    *out = r;
}

/* Keys a query sees, averaged over positions 1..s, with a window w (0: none). */
static double mean_keys(int causal, int64_t s, int64_t w) {
    if (!causal) return (double)(w && w < s ? w : s);
    if (!w || s <= w) return ((double)s + 1) / 2;
    return ((double)w * ((double)w + 1) / 2 + (double)(s - w) * (double)w) / (double)s;
}

static void flops_common(const trn_model *m, double keys_full, double keys_sliding,
                         trn_model_flops *out) {
    const trn_model_config *c = &m->cfg;
    trn_model_params p;
    trn_model_params_of(m, &p);
    double attn = 0;
    for (int64_t i = 0; i < c->layers; i++) {
        trn_model_layer l;
        trn_model_layer_at(m, i, &l, NULL);
        attn += (double)l.attn_flops_per_key * (l.sliding ? keys_sliding : keys_full);
    }
    out->matmul = 2.0 * (double)p.compute;
    out->attn = attn;
    out->forward = out->matmul + out->attn;
    out->train = 3.0 * out->forward;
    out->mean_keys = keys_full;
}

trn_status trn_model_flops_seq(const trn_model *m, int64_t seq_len, trn_model_flops *out,
                               trn_err *err) {
    const trn_model_config *c = &m->cfg;
    if (seq_len < 1)
        return trn_err_set(err, TRN_E_RANGE, "%s: sequence length: expected >= 1, got %lld",
                           c->name, (long long)seq_len);
    flops_common(m, mean_keys(c->causal, seq_len, 0),
                 mean_keys(c->causal, seq_len, c->sliding_window), out);
    return TRN_OK;
}

trn_status trn_model_flops_decode(const trn_model *m, int64_t ctx_len, trn_model_flops *out,
                                  trn_err *err) {
    const trn_model_config *c = &m->cfg;
    if (!c->causal)
        return trn_err_set(err, TRN_E_UNSUPPORTED,
                           "%s is an encoder (bidirectional): it has no decode step", c->name);
    if (ctx_len < 1)
        return trn_err_set(err, TRN_E_RANGE, "%s: context length: expected >= 1, got %lld", c->name,
                           (long long)ctx_len);
    int64_t w = c->sliding_window && c->sliding_window < ctx_len ? c->sliding_window : ctx_len;
    flops_common(m, (double)ctx_len, (double)w, out);
    return TRN_OK;
}

static int dtype_bytes(trn_dtype dt) {
    switch (dt) {
    case TRN_DTYPE_F32:
    case TRN_DTYPE_TF32:
    case TRN_DTYPE_INT32:
    case TRN_DTYPE_UINT32: return 4;
    case TRN_DTYPE_BF16:
    case TRN_DTYPE_F16:
    case TRN_DTYPE_INT16:
    case TRN_DTYPE_UINT16: return 2;
    case TRN_DTYPE_FP8_E4M3:
    case TRN_DTYPE_FP8_E5M2:
    case TRN_DTYPE_FP8_E4M3_LEGACY:
    case TRN_DTYPE_FP8_E3M4:
    case TRN_DTYPE_INT8:
    case TRN_DTYPE_UINT8: return 1;
    default: return 0;
    }
}

trn_status trn_model_kv_bytes(const trn_model *m, trn_dtype dt, int64_t ctx_len,
                              double *per_token_bytes, double *total_bytes, trn_err *err) {
    const trn_model_config *c = &m->cfg;
    int b = dtype_bytes(dt);
    if (!b)
        return trn_err_set(err, TRN_E_UNSUPPORTED,
                           "KV cache dtype %s: expected a whole-byte type (f32, bf16, f16, "
                           "fp8_e4m3, fp8_e5m2, int8 ...)",
                           trn_dtype_name(dt));
    if (ctx_len < 0)
        return trn_err_set(err, TRN_E_RANGE, "%s: context length: expected >= 0, got %lld", c->name,
                           (long long)ctx_len);
    double per = 0, total = 0;
    for (int64_t i = 0; i < c->layers; i++) {
        trn_model_layer l;
        trn_model_layer_at(m, i, &l, NULL);
        int64_t keep = l.sliding && c->sliding_window < ctx_len ? c->sliding_window : ctx_len;
        if (!l.sliding) per += (double)l.kv_elems * b;
        total += (double)l.kv_elems * b * (double)keep;
    }
    if (per_token_bytes) *per_token_bytes = per;
    if (total_bytes) *total_bytes = total;
    return TRN_OK;
}

/* trnsim model layer: transformer models described by their Hugging Face
 * config.json (models/<name>.json, embedded in the binary, or any config.json given by path),
 * and what follows from the config alone: parameter counts (total, MoE active, per layer),
 * FLOPs per token (forward, forward + backward, attention as a function of sequence length)
 * and KV-cache bytes per token. docs/planner.md has the formulas, their sources and the
 * derived counts beside the published ones.
 *
 * The compiler (graph builders) and the planner (workloads) both start from here.
 * Deliberately left out: weights (io.h reads .safetensors), workloads, parallelism, time,
 * cost and energy (plan.h). Nothing here reads weights; counts come from the config's shapes. */
#ifndef TRNSIM_MODEL_H
#define TRNSIM_MODEL_H

#include <stdint.h>

#include "trnsim/base.h"
#include "trnsim/num.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct trn_model trn_model;

/* Model families, from "architectures" or "model_type" of the config. */
typedef enum trn_model_arch {
    TRN_MODEL_LLAMA,       /* LlamaForCausalLM / "llama": GQA, SwiGLU, RMSNorm, RoPE */
    TRN_MODEL_MIXTRAL,     /* MixtralForCausalLM / "mixtral": Llama with top-k routed experts */
    TRN_MODEL_DEEPSEEK_V3, /* DeepseekV3ForCausalLM / "deepseek_v3": MLA + shared/routed MoE */
    TRN_MODEL_GPT_OSS,     /* GptOssForCausalLM / "gpt_oss": biased GQA with sinks, sliding
                             window on some layers, MoE with biased SwiGLU experts */
    TRN_MODEL_GPT2,        /* GPT2LMHeadModel / "gpt2" (GPT-3 is written in this form) */
    TRN_MODEL_BERT,        /* Bert{ForMaskedLM,ForPreTraining,Model} / "bert": encoder */
    TRN_MODEL_NARCH
} trn_model_arch;

/* "llama", "mixtral", "deepseek_v3", "gpt_oss", "gpt2", "bert" (the HF model_type); "?" when out
 * of range. */
const char *trn_model_arch_name(trn_model_arch a);

/* rope_scaling kinds the compiler implements (HF modeling_rope_utils.py names). */
typedef enum trn_model_rope_kind {
    TRN_ROPE_DEFAULT, /* no rope_scaling: inv_freq_i = theta^(-2i/d) */
    TRN_ROPE_LLAMA3,  /* "llama3": low/high-frequency wavelength bands (Llama 3.1) */
    TRN_ROPE_YARN,    /* "yarn": NTK-by-parts interpolation + attention factor (GPT-OSS) */
    TRN_ROPE_LINEAR,  /* "linear": positions divided by factor */
} trn_model_rope_kind;

/* The config, normalized across families (HF field names in comments). Counts are elements
 * or parameters; 0 means "not used by this family" unless said otherwise. */
typedef struct trn_model_config {
    const char *name;            /* catalog name ("llama-3-70b") or the path's file name */
    const char *file;            /* "models/llama-3-70b.json" or the path given */
    const char *source;          /* "_source" of the file, or NULL */
    const char *hf_architecture; /* "architectures"[0], or NULL when absent */
    trn_model_arch arch;
    int64_t hidden;            /* hidden_size / n_embd */
    int64_t layers;            /* num_hidden_layers / n_layer */
    int64_t heads;             /* num_attention_heads / n_head */
    int64_t kv_heads;          /* num_key_value_heads (= heads when absent) */
    int64_t head_dim;          /* head_dim (= hidden / heads when absent); MLA: unused */
    int64_t intermediate;      /* intermediate_size / n_inner: dense MLP width */
    int64_t vocab;             /* vocab_size */
    int64_t max_positions;     /* max_position_embeddings / n_positions */
    int tied_embeddings;       /* tie_word_embeddings (GPT-2 and BERT: always tied) */
    int causal;                /* 1 for decoders, 0 for BERT (bidirectional attention) */
    int gated_mlp;             /* 1: SwiGLU (gate, up, down); 0: two matrices (up, down) */
    int attn_bias;             /* q/k/v/o projections have biases */
    int mlp_bias;              /* MLP/expert projections have biases */
    int layer_norm;            /* 1: LayerNorm (weight + bias); 0: RMSNorm (weight) */
    int64_t learned_positions; /* rows of a learned position table (GPT-2, BERT), else 0 */
    int64_t token_types;       /* BERT type_vocab_size */
    /* mixture of experts */
    int64_t experts;             /* routed experts per MoE layer (num_local_experts,
                                    n_routed_experts); 0 for dense models */
    int64_t experts_per_token;   /* num_experts_per_tok */
    int64_t expert_intermediate; /* expert MLP width (moe_intermediate_size, else
                                    intermediate_size) */
    int64_t shared_experts;      /* n_shared_experts (always active) */
    int64_t first_dense_layers;  /* first_k_dense_replace: leading layers with a dense MLP */
    int64_t moe_layer_freq;      /* every moe_layer_freq-th layer after those is MoE (1) */
    int router_bias;             /* router has a bias (GPT-OSS) or a score-correction bias
                                    (DeepSeek-V3) of `experts` elements */
    /* multi-head latent attention (DeepSeek-V3); mla = 0 elsewhere */
    int mla;
    int64_t q_lora_rank;      /* 0: plain q_proj */
    int64_t kv_lora_rank;     /* compressed KV width, the cached latent */
    int64_t qk_rope_head_dim; /* decoupled RoPE key width (cached, shared by all heads) */
    int64_t qk_nope_head_dim;
    int64_t v_head_dim;
    int64_t mtp_layers; /* num_nextn_predict_layers: multi-token-prediction modules */
    /* attention span */
    int64_t sliding_window; /* keys a sliding layer sees (itself included); 0: none */
    int64_t sliding_layers; /* how many layers are sliding (layer_types) */
    int attn_sinks;         /* GPT-OSS learned per-head softmax sink */
    /* weight storage */
    double weight_bits;        /* torch_dtype bits (bf16/fp16 16, fp32 32) */
    double linear_weight_bits; /* layer matmul weights (fp8 block-quantized: 8 + scales) */
    double expert_weight_bits; /* routed expert matmul weights (mxfp4: 4 + 8/32 = 4.25) */
    const char *quant_method;  /* quantization_config.quant_method, or NULL */
    /* numerics the compiler's builders need (HF defaults of each family when absent) */
    double norm_eps;   /* rms_norm_eps (Llama 1e-6, Mixtral/GPT-OSS 1e-5), layer_norm_epsilon
                          (GPT-2 1e-5), layer_norm_eps (BERT 1e-12) */
    double rope_theta; /* rope_theta (Llama 10000, Mixtral 1e6, GPT-OSS 150000); 0: no RoPE */
    trn_model_rope_kind rope_kind;       /* rope_scaling.rope_type (or "type") */
    double rope_factor;                  /* rope_scaling.factor (1 when absent) */
    double rope_low_freq_factor;         /* llama3: low_freq_factor (1) */
    double rope_high_freq_factor;        /* llama3: high_freq_factor (4) */
    int64_t rope_original_max_positions; /* original_max_position_embeddings (llama3, yarn;
                                            max_positions when absent) */
    double rope_beta_fast;               /* yarn: beta_fast (32) */
    double rope_beta_slow;               /* yarn: beta_slow (1) */
    int rope_truncate;                   /* yarn: truncate (true) */
    double rope_attention_factor;        /* yarn: attention_factor; 0 when absent (the
                                            builder then uses 0.1 ln(factor) + 1) */
    double swiglu_limit;                 /* GPT-OSS swiglu_limit (7.0); 0 elsewhere */
    int gelu_tanh;                       /* GPT-2 activation_function gelu_new / gelu_pytorch_tanh
                                            (1) or exact erf "gelu" (0); BERT hidden_act */
} trn_model_config;

/* Loads a model: `name_or_path` (borrowed) is a catalog name ("llama-3-70b", case-insensitive)
 * or, when it contains '/' or ends in ".json", the path of an HF config.json. *out is taken by
 * the caller (trn_model_destroy); NULL on failure. Errors: TRN_E_NOTFOUND (unknown name,
 * the known names listed), TRN_E_IO, TRN_E_PARSE (the message names the file, the field and
 * what was expected), TRN_E_UNSUPPORTED (a family this planner does not know), TRN_E_NOMEM. */
trn_status trn_model_load(const char *name_or_path, trn_model **out, trn_err *err);
/* Same for config JSON text in memory; `file` names it in messages (both borrowed). */
trn_status trn_model_parse(const char *file, const char *json, trn_model **out, trn_err *err);
void trn_model_destroy(trn_model *m); /* NULL is a no-op */

/* The normalized config (borrowed, valid until trn_model_destroy). */
const trn_model_config *trn_model_config_of(const trn_model *m);

/* Names of the embedded catalog, in file-name order: the count, and name i (NULL when out
 * of range). */
int trn_model_catalog_count(void);
const char *trn_model_catalog_name(int i);

/* One layer. */
typedef struct trn_model_layer {
    int moe;                    /* 1: routed-expert MLP */
    int sliding;                /* 1: attention limited to sliding_window keys */
    int64_t attn_params;        /* projections, their biases, sinks, MLA latent norms */
    int64_t mlp_params;         /* dense MLP, or all routed + shared experts + router */
    int64_t mlp_active_params;  /* what one token uses: dense MLP, or k routed + shared +
                                   router */
    int64_t norm_params;        /* the layer's two pre/post norms */
    int64_t kv_elems;           /* KV-cache elements per token (GQA: 2 x kv_heads x head_dim;
                                   MLA: kv_lora_rank + qk_rope_head_dim; encoder: 0) */
    int64_t attn_flops_per_key; /* forward FLOPs per (query, key) pair: 2 x heads x (qk_dim
                                   + v_dim), scores QK^T and context AV */
} trn_model_layer;

/* Layer `i` (0-based) of the model. TRN_E_RANGE when i is not a layer. */
trn_status trn_model_layer_at(const trn_model *m, int64_t i, trn_model_layer *out, trn_err *err);

/* Parameter counts of the whole model. */
typedef struct trn_model_params {
    int64_t embed;       /* token table (+ learned positions + token types + BERT's embedding
                            LayerNorm) */
    int64_t lm_head;     /* untied output projection (0 when tied); BERT MLM head: transform
                            dense + LayerNorm + output bias */
    int64_t attn;        /* sum over layers */
    int64_t mlp;         /* sum over layers, every expert */
    int64_t norms;       /* per-layer norms + the final norm */
    int64_t other;       /* BERT pooler and next-sentence head (by architecture) */
    int64_t total;       /* all of the above */
    int64_t active;      /* per token: total less the routed experts a token does not use
                            (embedding tables included, as Mixtral and DeepSeek-V3 count) */
    int64_t nonembed;    /* total less embed and lm_head (Kaplan's N) */
    int64_t compute;     /* weights one token multiplies: active less the embedding tables
                            and norms, plus the LM head matrix (tied or not) */
    int64_t mtp;         /* DeepSeek-V3 multi-token-prediction module(s), NOT in total */
    double weight_bytes; /* stored bytes of `total` at the config's weight formats */
} trn_model_params;

void trn_model_params_of(const trn_model *m, trn_model_params *out);

/* FLOPs per token. matmul = 2 x params.compute; attn = sum over layers of attn_flops_per_key
 * x the keys a query sees; forward = matmul + attn; train = 3 x forward (backward is two
 * matmuls per forward matmul: Kaplan et al. 2020 section 2.1, Narayanan et al. 2021). */
typedef struct trn_model_flops {
    double matmul;
    double attn;
    double forward;
    double train;
    double mean_keys; /* keys a query sees on a full-attention layer, averaged */
} trn_model_flops;

/* Per token averaged over a sequence of seq_len tokens processed together (training,
 * prefill): causal models see (seq_len + 1) / 2 keys on average, sliding layers
 * min(t, window) at position t, encoders seq_len. TRN_E_RANGE when seq_len < 1. */
trn_status trn_model_flops_seq(const trn_model *m, int64_t seq_len, trn_model_flops *out,
                               trn_err *err);
/* One decode step: a new token attending to ctx_len keys (itself included; sliding layers
 * min(ctx_len, window)). TRN_E_RANGE when ctx_len < 1. */
trn_status trn_model_flops_decode(const trn_model *m, int64_t ctx_len, trn_model_flops *out,
                                  trn_err *err);

/* KV-cache bytes: *per_token_bytes is what each further token of a long context adds
 * (full-attention layers; sliding layers stop growing at the window), *total_bytes the
 * cache of one sequence of ctx_len tokens. dt is the cache element type (bf16, fp8_e4m3,
 * f32 ...; MX and sub-byte types are TRN_E_UNSUPPORTED). Encoders have no KV cache (0).
 * Either output may be NULL. TRN_E_RANGE when ctx_len < 0. */
trn_status trn_model_kv_bytes(const trn_model *m, trn_dtype dt, int64_t ctx_len,
                              double *per_token_bytes, double *total_bytes, trn_err *err);

#ifdef __cplusplus
}
#endif
#endif

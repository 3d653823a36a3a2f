/* Loading models: an embedded catalog name or the path of a Hugging Face config.json, parsed
 * into the normalized trn_model_config. The family comes from "architectures" (or
 * "model_type"); each family reads its own HF field names, with HF's defaults where the
 * field may be absent. Every error names the file and the field and says what was expected
 * ("x.json: num_key_value_heads: expected a divisor of num_attention_heads (64), got 7").
 * Unknown fields are ignored (HF configs carry many the planner does not need).
 *
 * Deliberately left out: families other than the six of trn_model_arch, and reading
 * weights. */
#include "model_impl.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const arch_names[TRN_MODEL_NARCH] = {
    "llama", "mixtral", "deepseek_v3", "gpt_oss", "gpt2", "bert",
};

const char *trn_model_arch_name(trn_model_arch a) {
    return (unsigned)a < TRN_MODEL_NARCH ? arch_names[a] : "?";
}

/* HF "architectures" class names the planner knows. */
static const struct {
    const char *cls;
    trn_model_arch arch;
} arch_classes[] = {
    {"LlamaForCausalLM", TRN_MODEL_LLAMA},
    {"MixtralForCausalLM", TRN_MODEL_MIXTRAL},
    {"DeepseekV3ForCausalLM", TRN_MODEL_DEEPSEEK_V3},
    {"GptOssForCausalLM", TRN_MODEL_GPT_OSS},
    {"GPT2LMHeadModel", TRN_MODEL_GPT2},
    {"BertForMaskedLM", TRN_MODEL_BERT},
    {"BertForPreTraining", TRN_MODEL_BERT},
    {"BertModel", TRN_MODEL_BERT},
};
#define NCLASSES (sizeof arch_classes / sizeof arch_classes[0])

typedef struct ld {
    const char *file;
    trn_err *err;
    const cJSON *root;
} ld;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static trn_status
fail(ld *c, const char *field, const char *fmt, ...) {
    char msg[TRN_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return trn_err_set(c->err, TRN_E_PARSE, "%s: %s: %s", c->file, field, msg);
}

/* The field, or NULL when absent or null (HF writes null for "not used"). */
static const cJSON *field(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

/* An integer field >= min. Absent: *out = dflt, or an error when dflt < 0 (required). */
static trn_status get_int(ld *c, const char *key, int64_t min, int64_t dflt, int64_t *out) {
    const cJSON *v = field(c->root, key);
    char t[64];
    if (!v) {
        if (dflt < 0) return fail(c, key, "missing (expected an integer >= %lld)", (long long)min);
        *out = dflt;
        return TRN_OK;
    }
    double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!(x == floor(x) && x >= (double)min && x <= 9007199254740992.0))
        return fail(c, key, "expected an integer >= %lld, got %s", (long long)min,
                    trn_json_describe(v, t, sizeof t));
    *out = (int64_t)x;
    return TRN_OK;
}

static trn_status get_bool(ld *c, const char *key, int dflt, int *out) {
    const cJSON *v = field(c->root, key);
    char t[64];
    if (!v) {
        *out = dflt;
        return TRN_OK;
    }
    if (!cJSON_IsBool(v))
        return fail(c, key, "expected true or false, got %s", trn_json_describe(v, t, sizeof t));
    *out = cJSON_IsTrue(v);
    return TRN_OK;
}

/* A string field or NULL when absent; an error when present and not a string. */
static trn_status get_str(ld *c, const cJSON *obj, const char *key, const char *path,
                          const char **out) {
    const cJSON *v = field(obj, key);
    char t[64];
    *out = NULL;
    if (!v) return TRN_OK;
    if (!cJSON_IsString(v))
        return fail(c, path, "expected a string, got %s", trn_json_describe(v, t, sizeof t));
    *out = v->valuestring;
    return TRN_OK;
}

/* The family from "architectures"[0] and/or "model_type"; both must agree when both given. */
static trn_status family(ld *c, trn_model_arch *arch, const char **cls) {
    const cJSON *a = field(c->root, "architectures");
    const char *mt = NULL;
    char t[64];
    trn_status s = get_str(c, c->root, "model_type", "model_type", &mt);
    if (s != TRN_OK) return s;
    int from_cls = -1, from_mt = -1;
    *cls = NULL;
    if (a) {
        if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < 1 ||
            !cJSON_IsString(cJSON_GetArrayItem(a, 0)))
            return fail(c, "architectures", "expected an array of class names, got %s",
                        trn_json_describe(a, t, sizeof t));
        *cls = cJSON_GetArrayItem(a, 0)->valuestring;
        for (size_t i = 0; i < NCLASSES; i++)
            if (strcmp(*cls, arch_classes[i].cls) == 0) from_cls = (int)arch_classes[i].arch;
        if (from_cls < 0) {
            char known[400] = "";
            for (size_t i = 0; i < NCLASSES; i++) {
                strncat(known, i ? ", " : "", sizeof known - strlen(known) - 1);
                strncat(known, arch_classes[i].cls, sizeof known - strlen(known) - 1);
            }
            return trn_err_set(c->err, TRN_E_UNSUPPORTED,
                               "%s: architectures[0]: unsupported architecture \"%s\" (the "
                               "planner knows %s)",
                               c->file, *cls, known);
        }
    }
    if (mt) {
        for (int i = 0; i < TRN_MODEL_NARCH; i++)
            if (strcmp(mt, arch_names[i]) == 0) from_mt = i;
        if (from_mt < 0)
            return trn_err_set(c->err, TRN_E_UNSUPPORTED,
                               "%s: model_type: unsupported model type \"%s\" (the planner knows "
                               "llama, mixtral, deepseek_v3, gpt_oss, gpt2, bert)",
                               c->file, mt);
    }
    if (from_cls < 0 && from_mt < 0)
        return fail(
            c, "architectures",
            "missing: expected \"architectures\" or \"model_type\" naming the model family");
    if (from_cls >= 0 && from_mt >= 0 && from_cls != from_mt)
        return fail(c, "model_type", "\"%s\" contradicts architectures[0] \"%s\" (expected \"%s\")",
                    mt, *cls, arch_names[from_cls]);
    *arch = (trn_model_arch)(from_cls >= 0 ? from_cls : from_mt);
    return TRN_OK;
}

/* torch_dtype (or transformers' newer "dtype") and quantization_config into weight bits. */
static trn_status weight_format(ld *c, trn_model_config *g) {
    const char *dt = NULL;
    trn_status s = get_str(c, c->root, "torch_dtype", "torch_dtype", &dt);
    if (s == TRN_OK && !dt) s = get_str(c, c->root, "dtype", "dtype", &dt);
    if (s != TRN_OK) return s;
    /* Absent: 16-bit, what every family here is published in. */
    g->weight_bits = 16;
    if (dt) {
        if (strcmp(dt, "float32") == 0)
            g->weight_bits = 32;
        else if (strcmp(dt, "bfloat16") != 0 && strcmp(dt, "float16") != 0)
            return fail(c, field(c->root, "torch_dtype") ? "torch_dtype" : "dtype",
                        "expected \"bfloat16\", \"float16\" or \"float32\", got \"%s\"", dt);
    }
    g->linear_weight_bits = g->expert_weight_bits = g->weight_bits;
    const cJSON *q = field(c->root, "quantization_config");
    if (!q) return TRN_OK;
    char t[64];
    if (!cJSON_IsObject(q))
        return fail(c, "quantization_config", "expected an object, got %s",
                    trn_json_describe(q, t, sizeof t));
    const char *qm = NULL;
    if ((s = get_str(c, q, "quant_method", "quantization_config.quant_method", &qm)) != TRN_OK)
        return s;
    if (qm && strcmp(qm, "mxfp4") == 0) {
        /* OCP MX: 32 E2M1 codes share one E8M0 scale, 4 + 8/32 bits per weight. Only the routed
         * experts are converted (modules_to_not_convert: attention, router, embeddings, head). */
        g->expert_weight_bits = 4.0 + 8.0 / 32.0;
    } else if (qm && strcmp(qm, "fp8") == 0) {
        /* DeepSeek-V3: E4M3 weights with one FP32 scale per weight_block_size block, for every
         * linear layer of the decoder layers; embeddings, head, norms and router stay 16-bit. */
        int64_t b0 = 128, b1 = 128;
        const cJSON *bs = field(q, "weight_block_size");
        if (bs) {
            if (!cJSON_IsArray(bs) || cJSON_GetArraySize(bs) != 2 ||
                !cJSON_IsNumber(cJSON_GetArrayItem(bs, 0)) ||
                !cJSON_IsNumber(cJSON_GetArrayItem(bs, 1)) ||
                cJSON_GetArrayItem(bs, 0)->valuedouble < 1 ||
                cJSON_GetArrayItem(bs, 1)->valuedouble < 1)
                return fail(c, "quantization_config.weight_block_size",
                            "expected two positive integers [rows, cols], got %s",
                            trn_json_describe(bs, t, sizeof t));
            b0 = (int64_t)cJSON_GetArrayItem(bs, 0)->valuedouble;
            b1 = (int64_t)cJSON_GetArrayItem(bs, 1)->valuedouble;
        }
        g->linear_weight_bits = g->expert_weight_bits = 8.0 + 32.0 / (double)(b0 * b1);
    } else {
        return fail(c, "quantization_config.quant_method", "expected \"mxfp4\" or \"fp8\", got %s",
                    qm ? qm : "nothing");
    }
    g->quant_method = qm;
    return TRN_OK;
}

/* layer_types (GPT-OSS): one "sliding_attention" or "full_attention" per layer; absent, HF's
 * default alternation (even layers sliding). */
static trn_status layer_types(ld *c, trn_model *m) {
    trn_model_config *g = &m->cfg;
    const cJSON *lt = field(c->root, "layer_types");
    char t[64], p[48];
    if (lt && (!cJSON_IsArray(lt) || cJSON_GetArraySize(lt) != g->layers))
        return fail(
            c, "layer_types", "expected an array of num_hidden_layers (%lld) strings, got %s",
            (long long)g->layers,
            cJSON_IsArray(lt) ? "an array of another length" : trn_json_describe(lt, t, sizeof t));
    for (int64_t i = 0; i < g->layers; i++) {
        int sl = (i % 2) == 0;
        if (lt) {
            const cJSON *e = cJSON_GetArrayItem(lt, (int)i);
            snprintf(p, sizeof p, "layer_types[%lld]", (long long)i);
            if (cJSON_IsString(e) && strcmp(e->valuestring, "sliding_attention") == 0)
                sl = 1;
            else if (cJSON_IsString(e) && strcmp(e->valuestring, "full_attention") == 0)
                sl = 0;
            else
                return fail(c, p, "expected \"sliding_attention\" or \"full_attention\", got %s",
                            trn_json_describe(e, t, sizeof t));
        }
        m->sliding[i] = (unsigned char)sl;
    }
    return TRN_OK;
}

/* A number field in obj > min (or >= min when incl); absent: dflt. */
static trn_status get_num(ld *c, const cJSON *obj, const char *key, const char *path, double min,
                          int incl, double dflt, double *out) {
    const cJSON *v = field(obj, key);
    char t[64];
    if (!v) {
        *out = dflt;
        return TRN_OK;
    }
    double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!(incl ? x >= min : x > min) || !isfinite(x))
        return fail(c, path, "expected a number %s %g, got %s", incl ? ">=" : ">", min,
                    trn_json_describe(v, t, sizeof t));
    *out = x;
    return TRN_OK;
}

/* What the compiler's builders need beyond the shapes: norm epsilon, RoPE base and scaling,
 * the GPT-OSS SwiGLU clamp, GPT-2's GELU form. HF's defaults per family where absent. */
static trn_status numerics(ld *c, trn_model_config *g) {
    trn_status s;
    char t[64];
    const cJSON *r = c->root;
    int gpt2 = g->arch == TRN_MODEL_GPT2, bert = g->arch == TRN_MODEL_BERT;
    double eps_dflt = g->arch == TRN_MODEL_LLAMA ? 1e-6 : bert ? 1e-12 : 1e-5;
    const char *eps_key = gpt2 ? "layer_norm_epsilon" : bert ? "layer_norm_eps" : "rms_norm_eps";
    if ((s = get_num(c, r, eps_key, eps_key, 0, 0, eps_dflt, &g->norm_eps)) != TRN_OK) return s;
    g->rope_theta = 0;
    if (!gpt2 && !bert) {
        double th = g->arch == TRN_MODEL_MIXTRAL   ? 1e6
                    : g->arch == TRN_MODEL_GPT_OSS ? 150000
                                                   : 1e4;
        if ((s = get_num(c, r, "rope_theta", "rope_theta", 1, 0, th, &g->rope_theta)) != TRN_OK)
            return s;
    }
    g->rope_kind = TRN_ROPE_DEFAULT;
    g->rope_factor = 1;
    g->rope_low_freq_factor = 1;
    g->rope_high_freq_factor = 4;
    g->rope_original_max_positions = g->max_positions;
    g->rope_beta_fast = 32;
    g->rope_beta_slow = 1;
    g->rope_truncate = 1;
    g->rope_attention_factor = 0;
    const cJSON *rs = field(r, "rope_scaling");
    if (rs && g->rope_theta > 0) {
        if (!cJSON_IsObject(rs))
            return fail(c, "rope_scaling", "expected an object or null, got %s",
                        trn_json_describe(rs, t, sizeof t));
        const char *ty = NULL;
        if ((s = get_str(c, rs, "rope_type", "rope_scaling.rope_type", &ty)) != TRN_OK) return s;
        if (!ty && (s = get_str(c, rs, "type", "rope_scaling.type", &ty)) != TRN_OK) return s;
        if (!ty || strcmp(ty, "default") == 0)
            g->rope_kind = TRN_ROPE_DEFAULT;
        else if (strcmp(ty, "llama3") == 0)
            g->rope_kind = TRN_ROPE_LLAMA3;
        else if (strcmp(ty, "yarn") == 0)
            g->rope_kind = TRN_ROPE_YARN;
        else if (strcmp(ty, "linear") == 0)
            g->rope_kind = TRN_ROPE_LINEAR;
        else
            return fail(c, "rope_scaling.rope_type",
                        "expected \"default\", \"linear\", \"llama3\" or \"yarn\", got \"%s\"", ty);
        double omp = (double)g->max_positions;
        if ((s = get_num(c, rs, "factor", "rope_scaling.factor", 0, 0, 1, &g->rope_factor)) ||
            (s = get_num(c, rs, "low_freq_factor", "rope_scaling.low_freq_factor", 0, 0, 1,
                         &g->rope_low_freq_factor)) ||
            (s = get_num(c, rs, "high_freq_factor", "rope_scaling.high_freq_factor", 0, 0, 4,
                         &g->rope_high_freq_factor)) ||
            (s = get_num(c, rs, "original_max_position_embeddings",
                         "rope_scaling.original_max_position_embeddings", 1, 1, omp, &omp)) ||
            (s = get_num(c, rs, "beta_fast", "rope_scaling.beta_fast", 0, 0, 32,
                         &g->rope_beta_fast)) ||
            (s = get_num(c, rs, "beta_slow", "rope_scaling.beta_slow", 0, 0, 1,
                         &g->rope_beta_slow)) ||
            (s = get_num(c, rs, "attention_factor", "rope_scaling.attention_factor", 0, 0, 0,
                         &g->rope_attention_factor)))
            return s;
        g->rope_original_max_positions = (int64_t)omp;
        const cJSON *tr = field(rs, "truncate");
        if (tr && !cJSON_IsBool(tr))
            return fail(c, "rope_scaling.truncate", "expected true or false, got %s",
                        trn_json_describe(tr, t, sizeof t));
        if (tr) g->rope_truncate = cJSON_IsTrue(tr);
        if (g->rope_kind == TRN_ROPE_LLAMA3 &&
            !(g->rope_high_freq_factor > g->rope_low_freq_factor))
            return fail(c, "rope_scaling.high_freq_factor",
                        "expected more than low_freq_factor (%g), got %g", g->rope_low_freq_factor,
                        g->rope_high_freq_factor);
    }
    g->swiglu_limit = 0;
    if (g->arch == TRN_MODEL_GPT_OSS &&
        (s = get_num(c, r, "swiglu_limit", "swiglu_limit", 0, 0, 7.0, &g->swiglu_limit)) != TRN_OK)
        return s;
    g->gelu_tanh = 0;
    if (gpt2 || bert) {
        const char *act = NULL;
        const char *k = gpt2 ? "activation_function" : "hidden_act";
        if ((s = get_str(c, r, k, k, &act)) != TRN_OK) return s;
        if (!act) act = gpt2 ? "gelu_new" : "gelu";
        if (strcmp(act, "gelu_new") == 0 || strcmp(act, "gelu_pytorch_tanh") == 0 ||
            strcmp(act, "gelu_fast") == 0)
            g->gelu_tanh = 1;
        else if (strcmp(act, "gelu") != 0)
            return fail(
                c, k, "expected \"gelu_new\", \"gelu_pytorch_tanh\" or \"gelu\", got \"%s\"", act);
    }
    return TRN_OK;
}

static trn_status parse_fields(ld *c, trn_model *m, const char *cls) {
    trn_model_config *g = &m->cfg;
    trn_status s = TRN_OK;
#define TRY(x)                             \
    do {                                   \
        if ((s = (x)) != TRN_OK) return s; \
    } while (0)
    int gpt2 = g->arch == TRN_MODEL_GPT2, bert = g->arch == TRN_MODEL_BERT;
    TRY(get_int(c, gpt2 ? "n_embd" : "hidden_size", 1, -1, &g->hidden));
    TRY(get_int(c, gpt2 ? "n_layer" : "num_hidden_layers", 1, -1, &g->layers));
    TRY(get_int(c, gpt2 ? "n_head" : "num_attention_heads", 1, -1, &g->heads));
    TRY(get_int(c, "vocab_size", 1, -1, &g->vocab));
    TRY(get_int(c, gpt2 ? "n_positions" : "max_position_embeddings", 1, -1, &g->max_positions));
    if (gpt2)
        TRY(get_int(c, "n_inner", 1, 4 * g->hidden, &g->intermediate));
    else
        TRY(get_int(c, "intermediate_size", 1, -1, &g->intermediate));
    TRY(get_int(c, "num_key_value_heads", 1, g->heads, &g->kv_heads));
    if (g->heads % g->kv_heads)
        return fail(c, "num_key_value_heads",
                    "expected a divisor of num_attention_heads (%lld), got %lld",
                    (long long)g->heads, (long long)g->kv_heads);
    if (!field(c->root, "head_dim") && g->arch != TRN_MODEL_DEEPSEEK_V3 && g->hidden % g->heads)
        return fail(c, gpt2 ? "n_head" : "num_attention_heads",
                    "expected a divisor of the hidden size (%lld) when head_dim is not given, "
                    "got %lld",
                    (long long)g->hidden, (long long)g->heads);
    TRY(get_int(c, "head_dim", 1, g->hidden / g->heads, &g->head_dim));
    /* GPT-2 and BERT always tie the output to the token table; HF's Llama-family default is
     * untied. */
    TRY(get_bool(c, "tie_word_embeddings", gpt2 || bert, &g->tied_embeddings));
    g->causal = !bert;
    g->gated_mlp = !(gpt2 || bert);
    g->layer_norm = gpt2 || bert;
    g->attn_bias = gpt2 || bert;
    g->mlp_bias = gpt2 || bert;
    if (gpt2 || bert) g->learned_positions = g->max_positions;
    if (bert) {
        TRY(get_int(c, "type_vocab_size", 0, 2, &g->token_types));
        /* HF BertModel has a pooler; BertForMaskedLM drops it and adds the MLM head;
         * BertForPreTraining has both plus the next-sentence classifier. */
        m->bert_pooler = !cls || strcmp(cls, "BertForMaskedLM") != 0;
        m->bert_mlm = cls && strcmp(cls, "BertModel") != 0;
        m->bert_nsp = cls && strcmp(cls, "BertForPreTraining") == 0;
    }
    if (g->arch == TRN_MODEL_LLAMA || g->arch == TRN_MODEL_MIXTRAL) {
        TRY(get_bool(c, "attention_bias", 0, &g->attn_bias));
        TRY(get_bool(c, "mlp_bias", 0, &g->mlp_bias));
    }
    if (g->arch == TRN_MODEL_MIXTRAL || g->arch == TRN_MODEL_GPT_OSS) {
        TRY(get_int(c, "num_local_experts", 1, -1, &g->experts));
        const char *k = g->arch == TRN_MODEL_GPT_OSS && !field(c->root, "num_experts_per_tok")
                            ? "experts_per_token"
                            : "num_experts_per_tok";
        TRY(get_int(c, k, 1, -1, &g->experts_per_token));
        g->expert_intermediate = g->intermediate;
        g->moe_layer_freq = 1;
    }
    if (g->arch == TRN_MODEL_GPT_OSS) {
        TRY(get_bool(c, "attention_bias", 1, &g->attn_bias));
        g->mlp_bias = 1; /* gate_up_proj_bias and down_proj_bias of every expert */
        g->router_bias = 1;
        g->attn_sinks = 1;
        TRY(layer_types(c, m));
    }
    if (g->arch == TRN_MODEL_DEEPSEEK_V3) {
        g->mla = 1;
        TRY(get_int(c, "q_lora_rank", 1, 0, &g->q_lora_rank));
        TRY(get_int(c, "kv_lora_rank", 1, -1, &g->kv_lora_rank));
        TRY(get_int(c, "qk_rope_head_dim", 1, -1, &g->qk_rope_head_dim));
        TRY(get_int(c, "qk_nope_head_dim", 1, -1, &g->qk_nope_head_dim));
        TRY(get_int(c, "v_head_dim", 1, -1, &g->v_head_dim));
        TRY(get_int(c, "n_routed_experts", 1, -1, &g->experts));
        TRY(get_int(c, "num_experts_per_tok", 1, -1, &g->experts_per_token));
        TRY(get_int(c, "moe_intermediate_size", 1, -1, &g->expert_intermediate));
        TRY(get_int(c, "n_shared_experts", 0, 0, &g->shared_experts));
        TRY(get_int(c, "first_k_dense_replace", 0, 0, &g->first_dense_layers));
        TRY(get_int(c, "moe_layer_freq", 1, 1, &g->moe_layer_freq));
        TRY(get_int(c, "num_nextn_predict_layers", 0, 0, &g->mtp_layers));
        TRY(get_bool(c, "attention_bias", 0, &g->attn_bias));
        g->router_bias = 1; /* e_score_correction_bias (noaux_tc routing) */
        g->head_dim = g->qk_nope_head_dim + g->qk_rope_head_dim;
        if (g->first_dense_layers > g->layers)
            return fail(c, "first_k_dense_replace",
                        "expected at most num_hidden_layers (%lld), got %lld", (long long)g->layers,
                        (long long)g->first_dense_layers);
    }
    if (g->experts && g->experts_per_token > g->experts)
        return fail(c,
                    g->arch == TRN_MODEL_DEEPSEEK_V3        ? "num_experts_per_tok"
                    : field(c->root, "num_experts_per_tok") ? "num_experts_per_tok"
                                                            : "experts_per_token",
                    "expected at most the number of experts (%lld), got %lld",
                    (long long)g->experts, (long long)g->experts_per_token);
    /* Sliding window: GPT-OSS on its sliding layers; Mistral-family configs on every layer when
     * the field is a number (Mixtral's is null). */
    if (g->arch == TRN_MODEL_GPT_OSS || g->arch == TRN_MODEL_MIXTRAL) {
        int64_t need = 0;
        for (int64_t i = 0; i < g->layers; i++) need += m->sliding[i];
        TRY(get_int(c, "sliding_window", 1, 0, &g->sliding_window));
        if (g->arch == TRN_MODEL_MIXTRAL && g->sliding_window)
            for (int64_t i = 0; i < g->layers; i++) m->sliding[i] = 1;
        if (g->arch == TRN_MODEL_GPT_OSS && need && !g->sliding_window)
            return fail(c, "sliding_window",
                        "missing (expected an integer >= 1: layer_types has sliding layers)");
    }
    for (int64_t i = 0; i < g->layers; i++) g->sliding_layers += m->sliding[i];
    if (!g->sliding_layers) g->sliding_window = 0;
    TRY(numerics(c, g));
    return weight_format(c, g);
#undef TRY
}

/* Copies the strings the config keeps into one block owned by the model. */
static int keep_strings(trn_model *m, const char *name, const char *file, const char *src,
                        const char *cls, const char *qm) {
    const char *in[5] = {name, file, src, cls, qm};
    size_t n = 0;
    for (int i = 0; i < 5; i++) n += in[i] ? strlen(in[i]) + 1 : 0;
    m->strings = malloc(n ? n : 1);
    if (!m->strings) return 0;
    char *p = m->strings;
    const char **out[5] = {&m->cfg.name, &m->cfg.file, &m->cfg.source, &m->cfg.hf_architecture,
                           &m->cfg.quant_method};
    for (int i = 0; i < 5; i++) {
        *out[i] = NULL;
        if (!in[i]) continue;
        size_t k = strlen(in[i]) + 1;
        memcpy(p, in[i], k);
        *out[i] = p;
        p += k;
    }
    return 1;
}

static void line_col(const char *text, const char *at, int *line, int *col) {
    *line = 1;
    *col = 1;
    for (const char *p = text; p < at && *p; p++) {
        if (*p == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

/* Parses text; `name` is the model's name (catalog name or the file's base name). */
static trn_status parse(const char *name, const char *file, const char *text, trn_model **out,
                        trn_err *err) {
    *out = NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        int line, col;
        line_col(text, end ? end : text, &line, &col);
        const char *p = text;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
        return trn_err_set(err, TRN_E_PARSE, "%s: malformed JSON at line %d, column %d%s", file,
                           line, col, *p ? "" : " (the file is empty)");
    }
    ld c = {file, err, root};
    trn_model *m = calloc(1, sizeof *m);
    trn_status s = m ? TRN_OK : trn_err_set(err, TRN_E_NOMEM, "out of memory");
    const char *cls = NULL, *src = NULL;
    if (s == TRN_OK && !cJSON_IsObject(root)) {
        char t[64];
        s = trn_err_set(err, TRN_E_PARSE, "%s: expected a JSON object (an HF config.json), got %s",
                        file, trn_json_describe(root, t, sizeof t));
    }
    if (s == TRN_OK) s = family(&c, &m->cfg.arch, &cls);
    if (s == TRN_OK) s = get_str(&c, root, "_source", "_source", &src);
    if (s == TRN_OK) {
        /* The layer count is needed before the per-layer table; read it once up front. */
        int64_t layers = 0;
        s = get_int(&c, m->cfg.arch == TRN_MODEL_GPT2 ? "n_layer" : "num_hidden_layers", 1, -1,
                    &layers);
        if (s == TRN_OK && layers > 100000)
            s = fail(&c, m->cfg.arch == TRN_MODEL_GPT2 ? "n_layer" : "num_hidden_layers",
                     "expected at most 100000 layers, got %lld", (long long)layers);
        if (s == TRN_OK && !(m->sliding = calloc((size_t)layers, 1)))
            s = trn_err_set(err, TRN_E_NOMEM, "out of memory");
    }
    if (s == TRN_OK) s = parse_fields(&c, m, cls);
    if (s == TRN_OK && !keep_strings(m, name, file, src, cls, m->cfg.quant_method))
        s = trn_err_set(err, TRN_E_NOMEM, "out of memory");
    cJSON_Delete(root);
    if (s != TRN_OK) {
        trn_model_destroy(m);
        return s;
    }
    *out = m;
    return TRN_OK;
}

trn_status trn_model_parse(const char *file, const char *json, trn_model **out, trn_err *err) {
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    char name[128];
    snprintf(name, sizeof name, "%s", base);
    size_t n = strlen(name);
    if (n > 5 && strcmp(name + n - 5, ".json") == 0) name[n - 5] = '\0';
    return parse(name, file, json, out, err);
}

static int name_eq(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

int trn_model_catalog_count(void) {
    int n = 0;
    while (trn_model_embedded_models[n].name) n++;
    return n;
}

const char *trn_model_catalog_name(int i) {
    return i >= 0 && i < trn_model_catalog_count() ? trn_model_embedded_models[i].name : NULL;
}

trn_status trn_model_load(const char *name_or_path, trn_model **out, trn_err *err) {
    *out = NULL;
    size_t n = strlen(name_or_path);
    if (strchr(name_or_path, '/') || (n > 5 && strcmp(name_or_path + n - 5, ".json") == 0)) {
        void *data = NULL;
        size_t size = 0;
        trn_status s = trn_file_read(name_or_path, &data, &size, err);
        if (s != TRN_OK) return s;
        if (strlen(data) != size) {
            free(data);
            return trn_err_set(err, TRN_E_PARSE, "%s: malformed JSON: contains a NUL byte",
                               name_or_path);
        }
        s = trn_model_parse(name_or_path, data, out, err);
        free(data);
        return s;
    }
    for (int i = 0; trn_model_embedded_models[i].name; i++) {
        const char *name = trn_model_embedded_models[i].name;
        if (name_eq(name_or_path, name)) {
            char file[160];
            snprintf(file, sizeof file, "models/%s.json", name);
            return parse(name, file, trn_model_embedded_models[i].text, out, err);
        }
    }
    char known[TRN_ERRMSG_MAX / 2] = "";
    for (int i = 0; i < trn_model_catalog_count(); i++) {
        strncat(known, i ? ", " : "", sizeof known - strlen(known) - 1);
        strncat(known, trn_model_catalog_name(i), sizeof known - strlen(known) - 1);
    }
    return trn_err_set(err, TRN_E_NOTFOUND,
                       "unknown model '%s' (expected one of %s, or the path of a config.json)",
                       name_or_path, known);
}

void trn_model_destroy(trn_model *m) {
    if (!m) return;
    free(m->strings);
    free(m->sliding);
    free(m);
}

const trn_model_config *trn_model_config_of(const trn_model *m) {
    return &m->cfg;
}

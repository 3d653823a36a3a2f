/* trnsim compiler, front half: the graph IR of one transformer step, the builders that make
 * it from a Hugging Face config (Llama, Mixtral, GPT-2, GPT-OSS), the weights (loaded from
 * .safetensors with validation, or drawn from a seed), the plain C FP32 reference interpreter
 * with its KV cache, sampling, the generate loop and a byte-level BPE tokenizer.
 *
 * A graph is one step of one sequence: a prefill of T tokens at positions 0..T-1, or a decode
 * of 1 token at position p (generally: T tokens at positions pos0..pos0+T-1 with the earlier
 * positions already in the KV cache). It is a plain list of ops in topological order over a
 * table of tensors; every shape is checked when the op is added. The same model gives the
 * same weight tensors, in the same order and with the same names, in every graph, so weights
 * are bound once by name. docs/models.md describes the ops, the families, their HF tensor
 * names and layouts (with sources) and what is not supported.
 *
 * Deliberately left out: the lowering to NeuronCore programs and their execution (lower.h,
 * runtime.h), batches of several sequences, DeepSeek-V3 (MLA) and BERT builders, training. */
#ifndef TRNSIM_GRAPH_H
#define TRNSIM_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "trnsim/base.h"
#include "trnsim/io.h"
#include "trnsim/model.h"
#include "trnsim/num.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- tensors --------------------------------------------------------------------------- */

#define TRN_GRAPH_MAX_RANK 4
#define TRN_GRAPH_NAME_MAX 96

typedef enum trn_gtensor_role {
    TRN_GROLE_WEIGHT,     /* a model parameter, bound by name from trn_weights */
    TRN_GROLE_INPUT,      /* the step's token ids (int32 [T]) */
    TRN_GROLE_ACTIVATION, /* produced by one op, consumed by later ones */
    TRN_GROLE_KV_CACHE,   /* per layer K or V cache [max_ctx, kv_heads x head_dim], persists
                            across steps; written in place by the attention op */
    TRN_GROLE_OUTPUT,     /* the logits */
    TRN_GROLE_CONST,      /* data computed at build time (RoPE inverse frequencies) */
} trn_gtensor_role;

/* How a 2-D (or stacked 3-D) matmul weight is stored. */
typedef enum trn_layout {
    TRN_LAYOUT_ROW_MAJOR, /* plain row-major, nothing more to say (activations, vectors) */
    TRN_LAYOUT_OUT_IN,    /* nn.Linear: W[out][in], y = x W^T (Llama, Mixtral, GPT-OSS attn) */
    TRN_LAYOUT_IN_OUT,    /* GPT-2 Conv1D and GPT-OSS experts: W[in][out], y = x W */
} trn_layout;

/* Where a weight comes from in an HF checkpoint. */
typedef enum trn_wsource {
    TRN_WSRC_TENSOR, /* one checkpoint tensor `hf_name` of the same shape (F32/F16/BF16) */
    TRN_WSRC_STACK,  /* [E, ...]: one tensor per expert, `hf_name` a printf pattern with %d */
    TRN_WSRC_MXFP4,  /* GPT-OSS [E, in, out] from `hf_name`_blocks (U8 [E, out, in/32, 16]) and
                        `hf_name`_scales (U8 [E, out, in/32], E8M0) */
} trn_wsource;

typedef struct trn_gtensor {
    char name[TRN_GRAPH_NAME_MAX]; /* weights: the HF name; others: "l3.attn.q" style */
    int rank;
    int64_t shape[TRN_GRAPH_MAX_RANK]; /* elements, outermost first */
    trn_dtype dtype;                   /* F32 everywhere except INPUT and router indices
                                          (INT32); the checkpoint's own type is in trn_weights */
    trn_layout layout;
    trn_gtensor_role role;
    trn_wsource source;      /* weights only */
    int producer;            /* index of the op that writes it, -1 for none */
    const float *const_data; /* CONST only: owned by the graph */
} trn_gtensor;

/* ---- ops ------------------------------------------------------------------------------- */

/* X(name, summary): the op table (docs/models.md lists the same rows). */
#define TRN_GRAPH_OPS(X)                                                                     \
    X(EMBED, "out[t] = table[ids[t]]: in0 ids int32 [T], in1 table [V, H]")                  \
    X(POS_EMBED, "out[t] = table[pos0 + t]: in0 table [P, H] (GPT-2 learned positions)")     \
    X(LINEAR, "out = x W^T (+ b) or x W (+ b) by W's layout: in0 x [T, K], in1 W, in2 bias") \
    X(ADD, "out = in0 + in1, same shapes")                                                   \
    X(MUL, "out = in0 * in1, same shapes")                                                   \
    X(RMSNORM, "out = x / sqrt(mean(x^2) + eps) * w: in0 x [T, H], in1 w [H]")               \
    X(LAYERNORM, "out = (x - mean) / sqrt(var + eps) * w + b: in0 x, in1 w, in2 b")          \
    X(ROPE, "rotate-half RoPE per head at positions pos0 + t: in0 x [T, heads x d], in1 "    \
            "inv_freq [d/2] (const); cos, sin scaled by fattr")                              \
    X(ATTENTION, "causal GQA attention with KV cache: in0 q, in1 k, in2 v, in3 k cache, "    \
                 "in4 v cache, in5 sinks [heads] (optional)")                                \
    X(SOFTMAX, "row softmax over the last dimension")                                        \
    X(GELU_TANH, "0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))")                          \
    X(GELU, "0.5 x (1 + erf(x / sqrt 2))")                                                   \
    X(SILU, "x sigmoid(x)")                                                                  \
    X(SWIGLU, "silu(in0) * in1 (Llama gate, up)")                                            \
    X(SWIGLU_OAI, "GPT-OSS: g = min(x[2i], limit), u = clamp(x[2i+1], +-limit), "            \
                  "(u + 1) g sigmoid(alpha g): in0 [T, 2I], out [T, I]")                     \
    X(SLICE_COLS, "out = in0[:, c0 : c0 + n] (GPT-2 fused q|k|v)")                           \
    X(LAST_ROW, "out = in0[T - 1 : T, :]")                                                   \
    X(MOE_ROUTER, "in0 x [T, H], in1 W [E, H], in2 bias [E] (optional) -> out0 expert ids "  \
                  "int32 [T, k], out1 weights [T, k]")                                       \
    X(MOE_EXPERTS, "routed expert MLPs, dispatch and weighted combine: in0 x, in1 ids, in2 " \
                   "weights, then the stacked expert weights")

typedef enum trn_op_kind {
#define TRN_GOP_ENUM_(n, s) TRN_GOP_##n,
    TRN_GRAPH_OPS(TRN_GOP_ENUM_)
#undef TRN_GOP_ENUM_
        TRN_GOP_COUNT
} trn_op_kind;

/* Router gating functions. */
typedef enum trn_gating {
    TRN_GATE_SOFTMAX_TOPK, /* Mixtral: softmax over all E logits, top-k, renormalized */
    TRN_GATE_TOPK_SOFTMAX, /* GPT-OSS: top-k of the (biased) logits, softmax over those k */
    TRN_GATE_SIGMOID_TOPK, /* sigmoid scores, top-k, renormalized (DeepSeek-V3 style without
                              group limits or score correction; no builder uses it yet) */
} trn_gating;

/* Expert MLP forms of MOE_EXPERTS. */
typedef enum trn_expert_kind {
    TRN_EXPERT_SWIGLU, /* Mixtral: in3 w1 (gate) [E, I, H], in4 w3 (up) [E, I, H], in5 w2
                          (down) [E, H, I], all OUT_IN: down(silu(x w1^T) * x w3^T) */
    TRN_EXPERT_OAI,    /* GPT-OSS: in3 gate_up [E, H, 2I] IN_OUT, in4 its bias [E, 2I], in5
                          down [E, I, H] IN_OUT, in6 its bias [E, H]; SWIGLU_OAI between */
} trn_expert_kind;

#define TRN_GOP_MAX_IN 8

typedef struct trn_gop {
    trn_op_kind kind;
    int nin, nout;
    int in[TRN_GOP_MAX_IN]; /* tensor indices; -1 for an absent optional input */
    int out[2];
    char label[32]; /* "l3.attn": layer and block, for profiles */
    int layer;      /* decoder layer, -1 outside the layers */
    /* attributes (which ones an op uses is in the op table) */
    int64_t heads, kv_heads, head_dim; /* ROPE, ATTENTION */
    int64_t pos0;                      /* ROPE, POS_EMBED, ATTENTION: first position */
    int64_t window;                    /* ATTENTION: keys seen, itself included; 0 = all */
    int64_t col0, cols;                /* SLICE_COLS: first column, count */
    int64_t k;                         /* MOE_*: experts per token */
    trn_gating gating;
    trn_expert_kind expert;
    double eps;   /* norms */
    double scale; /* ATTENTION: score scale (1/sqrt(d)); ROPE: cos/sin factor (YaRN) */
    double alpha; /* SWIGLU_OAI (1.702) */
    double limit; /* SWIGLU_OAI clamp, MOE_EXPERTS OAI */
} trn_gop;

/* What a graph computes. */
typedef struct trn_step {
    int64_t tokens;  /* T >= 1 */
    int64_t pos0;    /* position of the first token (0 for a prefill) */
    int64_t max_ctx; /* rows of the KV cache: pos0 + T <= max_ctx */
    int all_logits;  /* 1: logits of all T positions [T, V]; 0: of the last only [1, V] */
} trn_step;

typedef struct trn_graph {
    const trn_model_config *cfg; /* borrowed from the trn_model given to the builder */
    trn_step step;
    trn_gtensor *tensors;
    int ntensors;
    trn_gop *ops;
    int nops;
    int input;  /* index of the token-id tensor */
    int logits; /* index of the logits tensor */
    int cap_tensors, cap_ops;
} trn_graph;

/* "EMBED", "LINEAR", ... ; "?" when out of range. */
const char *trn_op_name(trn_op_kind k);
/* "weight", "input", "activation", "kv_cache", "output", "const". */
const char *trn_grole_name(trn_gtensor_role r);

/* Builds the graph of one step of model `m` (borrowed; must outlive the graph). Families:
 * Llama, Mixtral, GPT-2, GPT-OSS; others TRN_E_UNSUPPORTED naming the family. TRN_E_RANGE
 * for tokens < 1, pos0 < 0 or pos0 + tokens > max_ctx (or beyond a learned position table).
 * *out taken by the caller (trn_graph_destroy). */
trn_status trn_graph_build(const trn_model *m, const trn_step *step, trn_graph **out, trn_err *err);
void trn_graph_destroy(trn_graph *g); /* NULL is a no-op */

/* Index of the tensor called `name`, or -1. */
int trn_graph_find(const trn_graph *g, const char *name);
/* Elements of tensor t. */
int64_t trn_gtensor_elems(const trn_gtensor *t);
/* One line per op and per non-weight tensor, to `buf` (n bytes, always NUL-terminated);
 * returns the length it needed. */
size_t trn_graph_dump(const trn_graph *g, char *buf, size_t n);

/* ---- building blocks, for builders and tests ------------------------------------------- */

/* An empty graph for m's config; tensors and ops are added with the calls below. Each add
 * checks shapes and returns the new tensor index, or -1 with `err` set (TRN_E_INVALID, the
 * op's label and the shapes in the message). */
trn_status trn_graph_init(const trn_model_config *cfg, const trn_step *step, trn_graph **out,
                          trn_err *err);
int trn_graph_tensor(trn_graph *g, const char *name, trn_gtensor_role role, trn_dtype dt, int rank,
                     const int64_t *shape, trn_err *err);
/* Adds op `op` (its kind, attributes, label, layer and inputs filled in; nout and out
 * ignored): checks the inputs' shapes and types against the op's rules, infers the outputs'
 * shapes, adds them as activations named out0 (and out1 for MOE_ROUTER's weights). Returns
 * the first output's index, or -1 with `err` saying which op, which input, and the shapes. */
int trn_graph_op(trn_graph *g, const trn_gop *op, const char *out0, const char *out1, trn_err *err);

/* RoPE inverse frequencies of cfg (d/2 values for head dimension d = cfg->head_dim) and the
 * cos/sin factor, as HF's ROPE_INIT_FUNCTIONS compute them (default, linear, llama3, yarn). */
void trn_rope_inv_freq(const trn_model_config *cfg, double *inv_freq, double *attn_factor);

/* ---- weights --------------------------------------------------------------------------- */

typedef struct trn_weights trn_weights;

/* Most bytes of FP32 weights the reference holds in memory (a software limit, not a hardware
 * figure): larger models fail with TRN_E_UNSUPPORTED before anything is allocated, instead of
 * exhausting memory; they run on the timing-only path. */
#define TRN_WEIGHTS_MAX_BYTES ((int64_t)8 << 30)

/* Loads every weight of model m from `path`: a .safetensors file, a model.safetensors.index.json
 * (the files beside it), or a directory holding either. Accepts F32, F16 and BF16 tensors
 * (converted exactly to FP32) and GPT-OSS MXFP4 blocks/scales (U8, dequantized exactly).
 * Errors name the file and the tensor: TRN_E_NOTFOUND (missing tensor, with the expected
 * type and shape), TRN_E_PARSE (bad header, truncated file, wrong shape or dtype, bad index
 * JSON), TRN_E_IO, TRN_E_UNSUPPORTED (over TRN_WEIGHTS_MAX_BYTES). *out taken by the caller.
 * Stacked per-expert weights are named by their pattern ("...experts.%d.w1.weight"). */
trn_status trn_weights_load(const trn_model *m, const char *path, trn_weights **out, trn_err *err);
/* Seeded random weights for m: matrices, embeddings and biases N(0, std^2) (std = 0.02 is
 * HF's initializer_range), norm weights 1 + N(0, 0.1^2), attention sinks N(0, 1); element i
 * of a tensor uses words 2i, 2i + 1 of trn_rng_u32(seed ^ FNV-1a(name), .) (Box-Muller), so a
 * tensor never depends on the others. MXFP4 weights are rounded through MXFP4 so that
 * saving and loading gives them back exactly. TRN_E_RANGE for std <= 0, TRN_E_UNSUPPORTED
 * over TRN_WEIGHTS_MAX_BYTES. */
trn_status trn_weights_random(const trn_model *m, uint64_t seed, double std, trn_weights **out,
                              trn_err *err);
/* Writes the weights to one .safetensors file under their HF names (per-expert tensors split
 * out, MXFP4 as _blocks/_scales U8), float tensors as `dt` (TRN_IO_F32, F16 or BF16, RNE).
 * TRN_E_INVALID for another dt, TRN_E_IO. */
trn_status trn_weights_save(const trn_weights *w, const char *path, trn_io_type dt, trn_err *err);
void trn_weights_destroy(trn_weights *w); /* NULL is a no-op */

/* Number of weight tensors, and their names / FP32 data (borrowed from w) in graph order. */
int trn_weights_count(const trn_weights *w);
const char *trn_weights_name(const trn_weights *w, int i);
/* The FP32 data of the weight called `name`, laid out as the graph tensor says; NULL when
 * there is none. `elems` (may be NULL) gets its element count. Writable so tests can set
 * chosen values. */
float *trn_weights_data(const trn_weights *w, const char *name, int64_t *elems);

/* ---- reference interpreter --------------------------------------------------------------- */

/* A running sequence: the model, its weights (both borrowed) and the KV cache. */
typedef struct trn_ref trn_ref;

trn_status trn_ref_create(const trn_model *m, const trn_weights *w, int64_t max_ctx, trn_ref **out,
                          trn_err *err);
void trn_ref_destroy(trn_ref *r); /* NULL is a no-op */
/* Forgets the sequence (positions restart at 0; the cache is zeroed). */
void trn_ref_reset(trn_ref *r);
/* Runs graph g (its step's pos0 must equal the number of positions already cached) on
 * `tokens` (g->step.tokens ids, each < vocab) and copies its logits ([1, V] or [T, V]) to
 * `logits` (borrowed, may be NULL). Each op is a plain FP32 loop. TRN_E_RANGE for a token id
 * out of range or a wrong position, TRN_E_INVALID for a weight missing from w. */
trn_status trn_ref_run(trn_ref *r, const trn_graph *g, const int32_t *tokens, float *logits,
                       trn_err *err);
/* Tensor `name` of the last run (activations, router outputs; float or int32 data as its
 * dtype says), or NULL; borrowed until the next run. For tests and debugging. */
const void *trn_ref_tensor(const trn_ref *r, const char *name, const trn_gtensor **info);
/* Positions cached so far. */
int64_t trn_ref_pos(const trn_ref *r);
/* Runs op `op` of g alone on caller-owned buffers: buf[i] is the data of g->tensors[i] (FP32,
 * or int32 as its dtype says; only the op's inputs and outputs are read; borrowed). The same
 * loop trn_ref_run uses, so a lowered kernel can be checked op by op. An ATTENTION op writes its
 * k, v rows into the cache buffers. TRN_E_RANGE for a bad index, TRN_E_INVALID for a missing
 * buffer. */
trn_status trn_ref_op(const trn_graph *g, int op, void *const *buf, trn_err *err);

/* ---- sampling and generation ------------------------------------------------------------ */

typedef struct trn_sampling {
    double temperature; /* 0: greedy (argmax, lowest index on ties) */
    int64_t top_k;      /* keep the k most likely (0: all) */
    double top_p;       /* then the smallest prefix of cumulative probability >= top_p (1: all) */
    uint64_t seed;      /* step s draws u = trn_rng_u32(seed, s) / 2^32 */
} trn_sampling;

/* The token drawn from logits[0..vocab) at step `step`. Greedy when s is NULL or its
 * temperature is 0. With top_k = 1 the result is the argmax whatever the temperature.
 * `probs` (may be NULL, vocab floats) receives the final distribution (0 outside the kept
 * set), for tests. */
int32_t trn_sample(const float *logits, int64_t vocab, const trn_sampling *s, uint64_t step,
                   float *probs);

typedef struct trn_generation {
    int64_t steps;   /* generated tokens = max_new */
    int32_t *tokens; /* [steps], malloc'd */
    float *logits;   /* [steps, vocab], the last position's logits of each step, malloc'd */
    int64_t vocab;
} trn_generation;

/* Prefill of the prompt (n >= 1 ids), then max_new - 1 decode steps: token i is sampled from
 * the logits of step i. TRN_E_RANGE when n + max_new - 1 exceeds the positions the model
 * allows. out is filled (trn_generation_fini releases it). */
trn_status trn_generate(const trn_model *m, const trn_weights *w, const int32_t *prompt, int64_t n,
                        int64_t max_new, const trn_sampling *s, trn_generation *out, trn_err *err);
void trn_generation_fini(trn_generation *g);

/* ---- tokenizer ----------------------------------------------------------------------------- */

/* A byte-level BPE tokenizer (GPT-2 / Llama-3 tokenizer.json: model.type "BPE", model.vocab,
 * model.merges, added_tokens, the bytes-to-unicode map). Pre-tokenization is GPT-2's pattern
 * ('s 't 're 've 'm 'll 'd, letter runs, digit runs, other runs, whitespace), with every
 * non-ASCII byte counted as a letter. */
typedef struct trn_tokenizer trn_tokenizer;

trn_status trn_tokenizer_load(const char *path, trn_tokenizer **out, trn_err *err);
trn_status trn_tokenizer_parse(const char *file, const char *json, trn_tokenizer **out,
                               trn_err *err);
void trn_tokenizer_destroy(trn_tokenizer *t);
/* Encodes text (n bytes) into ids (malloc'd, taken) and their count. */
trn_status trn_tokenizer_encode(const trn_tokenizer *t, const char *text, size_t n, int32_t **ids,
                                int64_t *count, trn_err *err);
/* Decodes ids into a malloc'd NUL-terminated string (taken). TRN_E_RANGE for an unknown id. */
trn_status trn_tokenizer_decode(const trn_tokenizer *t, const int32_t *ids, int64_t count,
                                char **text, trn_err *err);
int64_t trn_tokenizer_vocab(const trn_tokenizer *t);

#ifdef __cplusplus
}
#endif
#endif

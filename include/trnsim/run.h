/* trnsim model runner: executes a model's graph (include/trnsim/graph.h) step by step on a
 * simulated NeuronCore through the lowered programs of include/trnsim/lower.h and the runtime
 * (include/trnsim/runtime.h), with a profile per op and per layer, and the generate loop
 * (prefill, then one decode step per new token) with TTFT, TPOT and tokens/s.
 *
 * Each graph op goes one of four ways (trn_run_where):
 *   chip    lowered and run on the simulated core (LINEAR with its bias and a following
 *           GELU/SiLU fused into the eviction, RMSNORM, LAYERNORM, SOFTMAX, ADD, MUL, SWIGLU,
 *           ROPE with cos/sin computed on the host as HF does, ATTENTION against the KV cache
 *           rows 0..pos0+T, MOE_ROUTER as a bf16 LINEAR with f32 logits and the ROUTER
 *           kernel, SWIGLU_OAI (GLU_OAI kernel), a GELU/SiLU that could not be fused (ACT
 *           kernel), MOE_EXPERTS as a row gather of the tokens by expert (EMBED kernel), one
 *           gate/up/GLU/down kernel chain per routed expert, a gather back by slot and the
 *           weighted combine as MUL and ADD kernels);
 *   fused   folded into the previous chip kernel (the activation after a LINEAR);
 *   approx  numerics on the host in FP32 (the reference loop), time from the nearest chip
 *           kernel: attention with GPT-OSS sinks or a sliding window shorter than the context
 *           (timed as full causal attention over min(context, window) keys for a decode step,
 *           over the whole context for a prefill: an overestimate);
 *   host    on the host in FP32 with no simulated time: EMBED and POS_EMBED (a DMA gather on
 *           the device), SLICE_COLS and LAST_ROW (address offsets).
 * Activations and the KV cache live in host FP32 buffers between ops and are bound as the
 * kernels' HBM inputs and outputs (rounded to the kernel's dtype on the way in: bf16
 * activations, f32 logits). Weights are resident: a LINEAR's weight (packed into the kernel's
 * panel layout; with MXFP4 / MXFP8Q quantized once on the host into MX codes "w" and E8M0
 * scales "ws" by trn_lower_pack_mx_weights, OCP scale rule) and bias are written once into the HBM
 * image of each program that uses them (trn_runtime_resident_create) and every later launch runs on
 * that image, writing only x.
 *
 * Several cores (opts.cores = N > 1): each chip op is cut into at most N per-core pieces, each
 * lowered with its own shape and run on its own NeuronCore; the pieces are timed together on the
 * chip (trn_runtime_time_cores: every core's DMA sharing the chip's HBM bandwidth), and the op's
 * time is the slowest core's. The cuts: a LINEAR by blocks of whole 512-column panels of W and y
 * when n >= 512 N, else by 128-row tiles of x and y when m >= 128 N, else by ceil(n / N)
 * columns; ATTENTION by ceil(kv_heads / N) kv heads (with their query heads' columns of q and
 * o); the row ops (norms, softmax, add, mul, swiglu, rope, router, glu_oai, act, embed) by
 * ceil(m / N) rows. Every output
 * element is computed by one core exactly as the whole op computes it (the same K order, the
 * same row or head), so the results equal the one-core run bit for bit.
 *
 * Timing-only: no buffers, no weights, no arithmetic; each distinct op shape is compiled and
 * timed once (the runtime's cache), so a full-size model costs the distinct shapes only. MoE
 * experts are then timed with a balanced routing: ceil(T k / E) tokens on each of min(E, T k)
 * experts. A functional run's times are the same timing model on the same programs, so both
 * paths agree op for op on dense models.
 *
 * Deliberately left out: batches of several sequences; overlap of consecutive ops, or ops on
 * different cores at once (the ops of a step run one after another, each on all its cores);
 * cross-core collectives (no piece needs another's data: every cut is of independent outputs);
 * activations resident in HBM between ops (they go through host buffers); GPT-OSS's MXFP4 expert
 * weights kept in their checkpoint codes (they are dequantized when loaded, and re-quantized
 * by the OCP rule when the run's precision is mxfp4). */
#ifndef TRNSIM_RUN_H
#define TRNSIM_RUN_H

#include <stdint.h>

#include "trnsim/base.h"
#include "trnsim/hw.h"
#include "trnsim/model.h"

/* This header names the runtime, weights and sampling types without including runtime.h or
 * graph.h, so that a command needs only this one header. */
typedef struct trn_runtime trn_runtime; /* runtime.h */
typedef struct trn_weights trn_weights; /* graph.h */
struct trn_sampling;                    /* graph.h */

#ifdef __cplusplus
extern "C" {
#endif

typedef enum trn_run_where {
    TRN_RUN_CHIP,
    TRN_RUN_FUSED,
    TRN_RUN_APPROX,
    TRN_RUN_HOST,
} trn_run_where;

/* "chip", "fused", "approx", "host". */
const char *trn_run_where_name(trn_run_where w);

typedef struct trn_run_opts {
    int prec;        /* LINEAR matmul precision, a trn_precision of lower.h (0: bf16) */
    int timing_only; /* 1: no weights, no arithmetic */
    int cores;       /* NeuronCores each chip op is split over, numerics and time (0 or 1:
                        one; at most the chip's cores): the cuts above */
    int64_t max_ctx; /* KV-cache rows; 0: set by the first trn_run_generate to the prompt
                        plus max_new, or by a first trn_run_step to the model's positions */
    /* Functional mode, for tests and debugging (may be NULL): called after each op with its
     * first output tensor's name and data (FP32, or int32 for router ids; borrowed); a
     * MOE_ROUTER also shows its chip logits [T, E] (FP32) as "<ids name>.logits" first. */
    void (*on_op)(void *ctx, const char *name, const void *data, int64_t elems);
    void *on_op_ctx;
} trn_run_opts;

#define TRN_RUN_NAME_MAX 96 /* = TRN_GRAPH_NAME_MAX */

/* The profile of one graph op in one step (or summed over steps). */
typedef struct trn_run_opprof {
    char name[TRN_RUN_NAME_MAX]; /* its output tensor ("l3.q", "logits") */
    char cls[TRN_RUN_NAME_MAX];  /* the name without its "l<i>." prefix: "q", "attn" */
    const char *kind;            /* the graph op: "LINEAR", "ATTENTION" (trn_op_name) */
    int layer;                   /* decoder layer, -1 outside */
    trn_run_where where;
    int64_t launches;   /* chip kernels run (MoE: 3 or 2 per routed expert) */
    double time_ns;     /* simulated time on the core (sum over launches) */
    double flops;       /* model FLOPs of its kernels (trn_lower_flops) */
    double mfu_ns;      /* sum over launches of pe_mfu x time: utilization = mfu_ns / time_ns */
    int bound;          /* trn_engine of its longest launch (trn_run_engine_short) */
    double bound_ns;    /* that launch's time */
    uint64_t hbm_bytes; /* DMA bytes HBM <-> SBUF of its kernels */
    int prec;           /* LINEAR kernels: the trn_precision they ran in (an mxfp8 run keeps
                           the linears whose K is not a multiple of 512 in bf16, an mxfp4 or
                           mxfp8q run those whose K is not a multiple of 4); else -1 */
} trn_run_opprof;

/* One step, or the sum of several steps with the same ops (the decode steps). */
typedef struct trn_run_prof {
    int64_t steps;  /* steps summed */
    int64_t tokens; /* tokens of those steps */
    double time_ns; /* sum of the ops' times: the ops run one after another */
    int nops;
    trn_run_opprof *ops; /* malloc'd, graph order */
} trn_run_prof;

void trn_run_prof_fini(trn_run_prof *p);
/* Utilization (time-weighted TensorE model utilization) of a profile or an op. */
double trn_run_prof_mfu(const trn_run_prof *p);

typedef struct trn_run trn_run;

/* A running sequence of model m (borrowed) with weights w (borrowed; NULL for timing-only)
 * on runtime rt (borrowed: its chip and program cache). Checks that the precision exists on
 * the chip (TRN_E_UNSUPPORTED naming the chip and its NeuronCore version) and `cores`
 * (TRN_E_RANGE); TRN_E_INVALID when a functional run has no weights. */
trn_status trn_run_create(const trn_model *m, const trn_weights *w, trn_runtime *rt,
                          const trn_run_opts *o, trn_run **out, trn_err *err);
void trn_run_destroy(trn_run *r); /* NULL is a no-op */
/* Forgets the sequence (positions restart at 0, the KV cache is zeroed). */
void trn_run_reset(trn_run *r);
/* Positions in the KV cache. */
int64_t trn_run_pos(const trn_run *r);

/* Called before each op: step (0 = prefill), steps in all, op index, ops of the step. */
typedef void (*trn_run_progress_fn)(void *ctx, int64_t step, int64_t steps, int op, int nops);

/* One step: T tokens (ids, borrowed; may be NULL in timing-only mode) at the next positions.
 * logits (may be NULL; ignored in timing-only mode) gets the last position's vocab logits.
 * prof (may be NULL) gets the step's profile (trn_run_prof_fini). Errors: TRN_E_RANGE past
 * max_ctx or for a token id out of range; the runtime's (TRN_E_FAULT, TRN_E_UNSUPPORTED). */
trn_status trn_run_step(trn_run *r, const int32_t *tokens, int64_t T, float *logits,
                        trn_run_prof *prof, trn_run_progress_fn cb, void *ctx, int64_t step,
                        int64_t steps, trn_err *err);

typedef struct trn_run_result {
    int64_t prompt_len, steps; /* prompt tokens; generated tokens (= max_new) */
    int32_t *tokens;           /* [steps] generated ids, malloc'd; NULL in timing-only mode */
    float *logits;             /* [steps, vocab] last-position logits per step, when asked */
    int64_t vocab;
    trn_run_prof prefill; /* step 0 */
    trn_run_prof decode;  /* the steps - 1 decode steps summed (steps = 0 when max_new = 1) */
    double ttft_ns;       /* prefill time: the first token */
    double tpot_ns;       /* mean decode step time (0 when there is none) */
    double tokens_per_s;  /* decode throughput 1e9 / tpot_ns (prefill tokens / TTFT when
                             there is no decode step) */
    double wall_s;        /* host seconds */
} trn_run_result;

/* Prefill of the prompt (n >= 1 ids, borrowed; NULL allowed in timing-only mode), then
 * max_new - 1 decode steps, sampling token i from step i's logits with trn_sample (s: NULL
 * is greedy), exactly as trn_generate does. want_logits: keep every step's logits. cb (may be
 * NULL) reports progress. out is filled (trn_run_result_fini). */
trn_status trn_run_generate(trn_run *r, const int32_t *prompt, int64_t n, int64_t max_new,
                            const struct trn_sampling *s, int want_logits, trn_run_progress_fn cb,
                            void *ctx, trn_run_result *out, trn_err *err);
void trn_run_result_fini(trn_run_result *res);

/* ---- helpers for callers that do not include runtime.h or graph.h (the CLI) --------------- */

/* trn_runtime_create / destroy, and the runtime's count of distinct programs. */
trn_status trn_run_runtime_create(const trn_hw *hw, const char *chip, trn_runtime **out,
                                  trn_err *err);
void trn_run_runtime_destroy(trn_runtime *rt);
int trn_run_runtime_programs(const trn_runtime *rt);
/* The NeuronCores of the runtime's chip (catalog `cores`, at least 1). */
int trn_run_runtime_cores(const trn_runtime *rt);
/* trn_precision_find / _name ("bf16", "fp8", "mxfp8", "mxfp4", "mxfp8q"); trn_engine_short ("PE",
 * "ACT" ...). */
int trn_run_precision_find(const char *name);
const char *trn_run_precision_name(int prec);
const char *trn_run_engine_short(int engine);

/* A model to run: its config, weights and tokenizer, from an HF checkpoint directory
 * (config.json, *.safetensors or model.safetensors.index.json, optional tokenizer.json), or
 * a config.json path or a catalog name (models/NAME.json) with seeded random weights (std
 * 0.02, trn_weights_random).
 * In timing-only mode no weights are loaded or made. */
typedef struct trn_run_model trn_run_model;

/* Errors: a directory without config.json or with bad weights: the loader's status and
 * message (file and tensor); an unknown name: TRN_E_NOTFOUND listing the catalog; a catalog
 * model whose FP32 weights exceed TRN_WEIGHTS_MAX_BYTES: TRN_E_UNSUPPORTED suggesting the
 * timing-only mode or a smaller model. *out taken (trn_run_model_close). */
trn_status trn_run_model_open(const char *dir_or_name, int timing_only, uint64_t seed,
                              trn_run_model **out, trn_err *err);
void trn_run_model_close(trn_run_model *rm); /* NULL is a no-op */
const trn_model *trn_run_model_model(const trn_run_model *rm);
const trn_weights *trn_run_model_weights(const trn_run_model *rm); /* NULL: timing-only */
int trn_run_model_random(const trn_run_model *rm);                 /* 1: seeded weights */
int trn_run_model_has_tokenizer(const trn_run_model *rm);
/* Writes the weights to one F32 .safetensors file under their HF names (trn_weights_save):
 * with the config.json beside it, a checkpoint directory trn_run_model_open reads back. */
trn_status trn_run_model_save(const trn_run_model *rm, const char *path, trn_err *err);
/* The tokenizer's encode (ids malloc'd, taken) and decode (text malloc'd, taken);
 * TRN_E_UNSUPPORTED without a tokenizer. */
trn_status trn_run_model_encode(const trn_run_model *rm, const char *text, int32_t **ids,
                                int64_t *n, trn_err *err);
trn_status trn_run_model_decode(const trn_run_model *rm, const int32_t *ids, int64_t n, char **text,
                                trn_err *err);

#ifdef __cplusplus
}
#endif
#endif

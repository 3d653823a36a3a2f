/* trnsim plan layer: the cluster planner. For a model (model.h), a catalog system (hw.h) and a
 * chip count it evaluates and searches parallel configurations (TP, PP with microbatches, DP,
 * EP for MoE, CP for long sequences, ZeRO stages) for three workloads: training, batch-mode
 * serving, and RL (rollout + policy update). Each evaluation gives the time (compute per op
 * from an op-cost provider, communication from the fabric layer, the pipeline bubble), the
 * memory per chip by category, cost and energy. docs/planner.md has every formula with its
 * source and the JSON schema of `trnsim plan`.
 *
 * Per-op compute time comes from an op-cost interface (trn_plan_op_cost): the roofline provider
 * here uses per-op-class efficiency factors from the catalog; the chip-simulator provider (at the
 * end of this header) plugs in through the same struct. Communication comes from fabric.h.
 *
 * Deliberately left out: request-rate serving (plan_des.h runs it on trn_plan_serve_step_s),
 * re-sharding between RL phases, interleaved/virtual pipeline stages, uneven layer splits
 * (a stage holds layers / pp layers of the model's average composition), failures and
 * checkpointing. */
#ifndef TRNSIM_PLAN_H
#define TRNSIM_PLAN_H

#include <stdint.h>

#include "trnsim/base.h"
#include "trnsim/fabric.h"
#include "trnsim/hw.h"
#include "trnsim/model.h"
#include "trnsim/num.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- op-cost interface ------------------------------------------------------------------ */

typedef enum trn_plan_op_kind {
    TRN_PLAN_OP_GEMM,      /* [m x k] x [k x n], `count` independent times */
    TRN_PLAN_OP_ATTENTION, /* fused attention core (scores, softmax, context) */
    TRN_PLAN_OP_ELEMWISE,  /* norms, activations, residuals, optimizer: bytes moved */
} trn_plan_op_kind;

/* One op on one chip. Fields a kind does not use are 0. */
typedef struct trn_plan_op {
    trn_plan_op_kind kind;
    trn_hw_dtype dtype; /* the matmul data type (peak); attention runs at bf16 */
    /* GEMM */
    int64_t m, k, n; /* rows of the activation (tokens), reduction, output columns */
    double count;    /* how many such GEMMs (experts, microbatches) */
    double a_bytes;  /* bytes per activation element (input and output) */
    double w_bytes;  /* bytes per weight element (0.53 for MXFP4 at 4.25 bits) */
    /* attention: batch x heads queries of q_len each over `keys` keys on average */
    int64_t batch, heads, q_len;
    double keys;
    double flops;    /* attention: total forward FLOPs of the op (from the model) */
    double kv_bytes; /* attention: K/V bytes read; elementwise: bytes read and written */
    double io_bytes; /* attention: Q and output bytes */
} trn_plan_op;

/* Seconds on one chip, and whether the op is bound by memory (1) or compute (0). */
typedef struct trn_plan_op_time {
    double seconds;
    int memory_bound;
} trn_plan_op_time;

/* An op-cost provider: `time` fills *out for one op. `ctx` is the provider's (borrowed). */
typedef struct trn_plan_op_cost {
    const char *name; /* "roofline" or "simulator" */
    void (*time)(const void *ctx, const trn_plan_op *op, trn_plan_op_time *out);
    const void *ctx;
} trn_plan_op_cost;

/* The roofline provider's parameters, per chip (from the catalog). */
typedef struct trn_plan_roofline {
    double peak_flops[TRN_HW_NDTYPES]; /* dense peak per data type, 0 = unsupported */
    double hbm_bw_bps;
    double gemm_eff, attn_eff, mem_eff; /* catalog efficiency factors */
    double gemm_tile;                   /* shape quantization tile edge */
} trn_plan_roofline;

/* GEMM: t = max(2 m k n count / (peak[dtype] x gemm_eff x q(m) x q(n)),
 *               (m k a + k n w + m n a) count / (bw x mem_eff)), q(d) = d / (ceil(d/T) T).
 * Attention: max(flops / (peak[bf16] x attn_eff), (kv_bytes + io_bytes) / (bw x mem_eff)).
 * Elementwise: kv_bytes / (bw x mem_eff). */
void trn_plan_roofline_time(const void *roofline, const trn_plan_op *op, trn_plan_op_time *out);

/* ---- the machine ------------------------------------------------------------------------ */

/* A system and a chip count as the planner sees it: per-chip figures from the catalog, the op
 * costs and the fabric. Create with trn_plan_machine_create; fields are read-only except
 * `cost`, which a caller may point at another provider. */
typedef struct trn_plan_machine {
    const trn_hw_system *sys; /* borrowed from the catalog */
    const char *device;       /* chip or GPU name */
    int64_t chips;
    int64_t domain;   /* scale-up domain (chips) */
    double hbm_bytes; /* per chip */
    trn_plan_roofline roof;
    trn_plan_op_cost cost; /* roofline over `roof` by default */
    double power_w, idle_power_frac, pue;
    double price_usd_per_chip_hour;
    trn_hw_origin price_origin; /* sourced, derived or assumed */
    const char *price_note;     /* the catalog's provenance text */
    trn_fabric *fabric;         /* owned */
} trn_plan_machine;

/* The machine for `chips` chips of `sys` (borrowed: the catalog must outlive it). chips 0: the
 * system's own count. TRN_E_INVALID naming the field when the catalog lacks a planner field
 * (gemm_efficiency, pue ...), errors of trn_fabric_create otherwise. */
trn_status trn_plan_machine_create(const trn_hw_system *sys, int64_t chips, trn_plan_machine **out,
                                   trn_err *err);
void trn_plan_machine_destroy(trn_plan_machine *m); /* NULL is a no-op */

/* ---- configurations --------------------------------------------------------------------- */

/* chips = tp x pp x cp x dp; ep divides dp (experts are sharded over ep of the data-parallel
 * ranks; dense weights are replicated over dp x cp). Ranks are laid out tp fastest, then cp,
 * dp, pp (Megatron-LM's order). */
typedef struct trn_plan_config {
    int64_t tp, pp, dp, ep, cp;
    int64_t microbatches; /* per step and pipeline (train); 1 for serve */
    int zero;             /* ZeRO stage 0..3 (3 = FSDP) */
} trn_plan_config;

/* Pins for the search: 0 = free. */
typedef struct trn_plan_pins {
    int64_t tp, pp, dp, ep, cp, microbatches;
    int zero;      /* -1 = free */
    int recompute; /* -1 = free */
} trn_plan_pins;

typedef enum trn_plan_objective {
    TRN_PLAN_THROUGHPUT, /* most tokens/s */
    TRN_PLAN_COST,       /* least $ per token (chips not pinned: fewer chips may win) */
    TRN_PLAN_LATENCY,    /* least step time (train) or end-to-end latency (serve) */
} trn_plan_objective;

typedef enum trn_plan_recompute {
    TRN_PLAN_RECOMPUTE_NONE,
    TRN_PLAN_RECOMPUTE_SELECTIVE, /* attention core recomputed (Korthikanti et al. 2022) */
    TRN_PLAN_RECOMPUTE_FULL,      /* every layer recomputed from its input */
} trn_plan_recompute;

const char *trn_plan_recompute_name(int r); /* "none", "selective", "full" */

/* Memory of the most loaded chip, bytes by category. */
typedef struct trn_plan_memory {
    double weights, grads, optimizer, activations, kv_cache, workspace;
    double total, capacity;
    int stage; /* the pipeline stage of that chip (0-based) */
} trn_plan_memory;

/* "chips of pipeline stage 0 need 101.2 GiB but have 96.0 GiB of HBM (5.2 GiB short); weights
 * dominate (60.1 GiB)" into buf (n bytes); returns buf. */
char *trn_plan_memory_explain(const trn_plan_memory *mem, char *buf, size_t n);

/* Where the time goes (seconds per step). The parts sum to the step time. */
typedef struct trn_plan_breakdown {
    double compute_s; /* compute-bound ops */
    double memory_s;  /* memory-bound ops (optimizer, norms, decode weight reads) */
    double tp_comm_s; /* exposed communication by parallelism */
    double pp_comm_s;
    double dp_comm_s;
    double ep_comm_s;
    double cp_comm_s;
    double bubble_s; /* pipeline fill and drain */
} trn_plan_breakdown;

/* ---- training --------------------------------------------------------------------------- */

typedef struct trn_plan_train {
    int64_t seq_len;
    int64_t global_batch;   /* sequences per step */
    trn_hw_dtype precision; /* BF16, FP8 or MXFP8 matmuls */
    double tokens;          /* tokens to train (0: time/cost/energy to train are 0) */
} trn_plan_train;

typedef struct trn_plan_train_result {
    trn_plan_config cfg;
    int recompute; /* trn_plan_recompute */
    int fits;      /* memory fits every chip */
    double step_time_s, tokens_per_s, mfu;
    double model_flops_per_step; /* 3 x forward FLOPs (6N + attention) x tokens */
    double utilization;          /* busy fraction of the step (power model) */
    trn_plan_memory mem;
    trn_plan_breakdown bd;
    double train_time_s, cost_usd, energy_j; /* for `tokens` */
    double usd_per_hour, power_w;            /* whole machine, average power incl. PUE */
} trn_plan_train_result;

/* Evaluates one configuration. TRN_E_INVALID with the rule broken (tp must divide heads ...)
 * for an illegal one; a legal one that does not fit returns TRN_OK with fits = 0. */
trn_status trn_plan_train_eval(const trn_plan_machine *m, const trn_model *model,
                               const trn_plan_train *w, const trn_plan_config *cfg, int recompute,
                               trn_plan_train_result *out, trn_err *err);

/* Statistics of a search. */
typedef struct trn_plan_search_stats {
    int64_t evaluated; /* legal configurations evaluated */
    int64_t fitting;   /* of those, the ones that fit (and meet the SLOs) */
} trn_plan_search_stats;

/* Searches every legal configuration (within `pins`, NULL = none) and fills top[0..k) best
 * first by `obj`; *found = how many were filled. When none fits: TRN_E_RANGE with the
 * explanation of the closest one (trn_plan_memory_explain) in err, and top[0] holds it. */
trn_status trn_plan_train_search(const trn_plan_machine *m, const trn_model *model,
                                 const trn_plan_train *w, const trn_plan_pins *pins,
                                 trn_plan_objective obj, trn_plan_train_result *top, int k,
                                 int *found, trn_plan_search_stats *stats, trn_err *err);

/* ---- serving (batch mode) --------------------------------------------------------------- */

typedef enum trn_plan_weights {
    TRN_PLAN_W_MODEL, /* the model's stored formats (config torch_dtype, quantization) */
    TRN_PLAN_W_BF16,
    TRN_PLAN_W_FP8,   /* every layer matmul weight FP8 (1 byte), embeddings 16-bit */
    TRN_PLAN_W_MXFP4, /* routed experts MXFP4 (4.25 bits), the rest 16-bit (MoE only) */
} trn_plan_weights;

typedef struct trn_plan_serve {
    int64_t input_len, output_len;
    int64_t batch; /* sequences in flight over the whole machine; 0: the largest that fits */
    trn_plan_weights weights;
    trn_dtype kv_dtype;            /* KV-cache element type (bf16, fp8_e4m3 ...) */
    double ttft_slo_s, tpot_slo_s; /* 0: no SLO */
} trn_plan_serve;

typedef struct trn_plan_serve_result {
    trn_plan_config cfg; /* dp = replicas */
    int fits;            /* memory fits and SLOs are met */
    int meets_slo;
    int64_t batch;     /* sequences over the machine */
    int64_t max_batch; /* largest batch that fits the memory, over the machine */
    double ttft_s, tpot_s, e2e_s;
    double throughput_tokens_per_s; /* output tokens/s over the machine */
    double throughput_per_chip;
    double usd_per_1m_input, usd_per_1m_output;
    double joules_per_token; /* per output token: batch energy / output tokens */
    double joules_per_input_token, joules_per_output_token; /* split like the cost */
    trn_plan_memory mem;
    trn_plan_breakdown prefill, decode; /* per prefill and per decode step */
    double usd_per_hour, power_w;
} trn_plan_serve_result;

/* One engine step of one replica (for plan_des.h and for TTFT/TPOT): prefill_tokens prompt
 * tokens (of sequences of mean length prefill_seq_len) plus decode_seqs sequences decoding one
 * token over decode_ctx_tokens keys in all. Returns seconds and fills *bd (may be NULL). */
double trn_plan_serve_step_s(const trn_plan_machine *m, const trn_model *model,
                             const trn_plan_serve *w, const trn_plan_config *cfg,
                             int64_t prefill_tokens, int64_t prefill_seq_len, int64_t decode_seqs,
                             double decode_ctx_tokens, trn_plan_breakdown *bd);

trn_status trn_plan_serve_eval(const trn_plan_machine *m, const trn_model *model,
                               const trn_plan_serve *w, const trn_plan_config *cfg,
                               trn_plan_serve_result *out, trn_err *err);
trn_status trn_plan_serve_search(const trn_plan_machine *m, const trn_model *model,
                                 const trn_plan_serve *w, const trn_plan_pins *pins,
                                 trn_plan_objective obj, trn_plan_serve_result *top, int k,
                                 int *found, trn_plan_search_stats *stats, trn_err *err);

/* A step function in plan_des.h's trn_des_step_fn form: `ctx` is a trn_plan_des_ctx (all
 * borrowed); prefill chunks are costed at the workload's input length. */
typedef struct trn_plan_des_ctx {
    const trn_plan_machine *machine;
    const trn_model *model;
    const trn_plan_serve *serve;
    const trn_plan_config *cfg;
} trn_plan_des_ctx;
double trn_plan_des_step(void *ctx, int64_t prefill_tokens, int64_t decode_seqs,
                         int64_t decode_ctx_tokens);

/* ---- RL: rollout + policy update -------------------------------------------------------- */

typedef struct trn_plan_rl {
    int64_t input_len, output_len; /* prompt and response tokens */
    int64_t rollouts;              /* sequences generated and trained on per step */
    trn_hw_dtype precision;        /* the update's matmul type; rollouts use bf16 weights */
    trn_dtype kv_dtype;
} trn_plan_rl;

typedef struct trn_plan_rl_result {
    trn_plan_serve_result rollout; /* the best serving configuration for all rollouts at once,
                                      or (when they do not fit) at its largest batch */
    double rollout_s;              /* waves x end-to-end latency of one batch */
    int64_t rollout_waves;         /* batches of rollouts one after another */
    trn_plan_breakdown rollout_bd; /* prefill + (output_len - 1) decode steps, per wave */
    trn_plan_train_result update;  /* one optimizer step on the rollouts */
    double step_time_s, usd_per_step, energy_j_per_step;
} trn_plan_rl_result;

/* Both phases searched on the same machine, each for `obj` (re-sharding the weights between
 * phases is not charged). Errors as the two searches. */
trn_status trn_plan_rl_search(const trn_plan_machine *m, const trn_model *model,
                              const trn_plan_rl *w, const trn_plan_pins *pins,
                              trn_plan_objective obj, trn_plan_rl_result *out, trn_err *err);

/* ---- helpers shared with the CLI and tests ---------------------------------------------- */

/* The matmul data type of a training precision name ("bf16", "fp8", "mxfp8"): 1 and *out,
 * or 0 for another name. */
int trn_plan_dtype_from_name(const char *name, trn_hw_dtype *out); /* bf16, fp8, mxfp8 */
/* The limiting resource of a breakdown: "compute", "memory bandwidth", "network" or
 * "pipeline bubble". */
const char *trn_plan_limiter(const trn_plan_breakdown *bd);

/* ---- op costs from the chip simulator (src/plan/opcost_sim.c) ----------------------------- */

/* A provider that answers each op the compiler can lower (GEMM in bf16, fp8 or mxfp8 where the
 * chip has it, attention, the elementwise row ops) from the simulator's timing-only run of the
 * lowered kernel (runtime.h), and everything else from the roofline it was given. To keep a
 * search fast it times a bounded set of representative shapes, each once for the life of the
 * provider, and derives an op's time from its representative's achieved efficiency:
 *   rep     = each dimension rounded up to a power of two and capped (GEMM m <= 4096,
 *             k, n <= 8192; attention one (sequence, kv head, block of <= 1024 queries)
 *             unit against <= 4096 keys, decode against <= 32768; elementwise a fixed
 *             rmsnorm + add + swiglu mix on [2048, hidden]);
 *   e       = ideal(rep) / simulated(rep), ideal = max(work / peak, bytes / bandwidth) of the
 *             piece one NeuronCore runs (GEMM: the runtime's split, m and k padded to 128);
 *   t(op)   = ideal(op) / e (x count; attention / core occupancy).
 * A representative op is answered exactly: t = trn_runtime_gemm_seconds. docs/planner.md
 * "Per-op costs from the simulator" gives the scheme and its measured error. Not for GPUs.
 * The provider is single-threaded (its cache is mutable behind the const ctx). */
typedef struct trn_plan_opcost_sim trn_plan_opcost_sim;

/* Which ops were answered how (per class: GEMM, attention, elementwise). */
typedef struct trn_plan_opcost_sim_stats {
    int64_t sim[3];      /* ops answered from the simulator */
    int64_t fallback[3]; /* ops answered by the roofline (no lowering, or the lowering failed) */
    int64_t hits;        /* lookups of a representative already timed (or known to fail) */
    int64_t shapes;      /* representatives timed (each lowered and simulated once) */
    double sim_wall_s;   /* host seconds spent lowering and simulating them */
} trn_plan_opcost_sim_stats;

/* A provider for Trainium chip `chip` of `hw` running `model` (both borrowed; they must outlive
 * it); `fallback` (copied) answers what the simulator cannot: pass the machine's `roof`.
 * TRN_E_NOTFOUND for an unknown chip or a GPU, TRN_E_INVALID without a model or fallback,
 * TRN_E_NOMEM. */
trn_status trn_plan_opcost_sim_create(const trn_hw *hw, const char *chip, const trn_model *model,
                                      const trn_plan_roofline *fallback, trn_plan_opcost_sim **out,
                                      trn_err *err);
void trn_plan_opcost_sim_destroy(trn_plan_opcost_sim *s); /* NULL is a no-op */

/* The provider (name "simulator", ctx = s) to assign to a machine's `cost`. */
trn_plan_op_cost trn_plan_opcost_sim_provider(trn_plan_opcost_sim *s);
void trn_plan_opcost_sim_stats_get(const trn_plan_opcost_sim *s, trn_plan_opcost_sim_stats *st);
/* The representative of an m x k x n GEMM: *bm, *bk, *bn (mxfp8 needs k >= 512). */
void trn_plan_opcost_sim_gemm_rep(int64_t m, int64_t k, int64_t n, trn_hw_dtype dtype, int64_t *bm,
                                  int64_t *bk, int64_t *bn);

#ifdef __cplusplus
}
#endif
#endif

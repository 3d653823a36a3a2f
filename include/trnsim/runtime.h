/* trnsim runtime layer: runs lowered ops (include/trnsim/lower.h) on a simulated NeuronCore
 * of a catalog chip and gathers their profiles.
 *
 * A runtime holds a program cache keyed by (op, shapes, dtypes, chip): an op shape is lowered,
 * assembled and verified once, and timed once. Two paths:
 *   - functional: inputs bound by name, the program run on the functional core
 *     (include/trnsim/core.h), outputs read by name, plus the timing profile;
 *   - timing-only: the same program through the timing model alone (no arithmetic, no data
 *     memory), the path full-size models and the planner use.
 * The op-cost functions give seconds per op for the planner from the timing-only path.
 *
 * Resident images: the inputs that do not change between launches (a LINEAR's packed weights and
 * bias) are written once into an HBM image of the program; every later launch runs a core on
 * that same image (as trn_core_create_shared makes one), writing only its other inputs.
 *
 * Launches reuse one core: the runtime keeps a work core and makes it new for each launch with
 * trn_core_reuse (the previous launch's writes forgotten at once), which gives the results,
 * faults and messages a fresh core gives; trn_runtime_set_fresh_cores restores a fresh core per
 * launch, the reference the tests compare with. The work core keeps the largest SBUF, PSUM and
 * own HBM any launch needed until the runtime is destroyed.
 *
 * Several cores: trn_runtime_time_cores times per-core programs (the pieces of one op, each
 * lowered with its own shape) together on the chip with trn_timing_run_cores, every core's DMA
 * sharing the chip's whole HBM bandwidth. A single op on one core keeps the timing model's
 * default, its fair share (1 / cores) of the chip's bandwidth.
 *
 * Deliberately left out: how an op is cut into pieces and their data (the model runner,
 * run_kernel.c and graph_run.c, does it: each piece is an ordinary lowered op), several chips,
 * the model graph and its weights (the compiler's graph and the model runner own them),
 * KV-cache management across steps. */
#ifndef TRNSIM_RUNTIME_H
#define TRNSIM_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "trnsim/base.h"
#include "trnsim/hw.h"
#include "trnsim/isa.h"
#include "trnsim/lower.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The profile of one op on one NeuronCore. */
typedef struct trn_op_profile {
    trn_lower_kind kind;
    double time_ns;        /* simulated time of the kernel */
    trn_engine bound;      /* engine with the most time on the critical path */
    double pe_mfu, pe_hfu; /* TensorE model and hardware utilization (timing.h) */
    double flops;          /* model FLOPs (trn_lower_flops) */
    uint64_t hbm_read_bytes, hbm_write_bytes; /* DMA bytes HBM -> SBUF, SBUF -> HBM */
    double engine_busy_ns[5];                 /* PE, ACT, DVE, Pool, SP busy time */
    int instrs;                               /* instructions of the program */
    double compile_wall_s; /* host seconds to lower + assemble + verify (0 on a cache hit) */
    double timing_wall_s;  /* host seconds of the timing model (0 on a cache hit) */
} trn_op_profile;

typedef struct trn_runtime trn_runtime;

/* A runtime for chip `chip` of catalog `hw` (borrowed; must outlive the runtime).
 * TRN_E_NOTFOUND names an unknown chip; TRN_E_NOMEM. */
trn_status trn_runtime_create(const trn_hw *hw, const char *chip, trn_runtime **out, trn_err *err);
void trn_runtime_destroy(trn_runtime *rt); /* NULL is a no-op */

/* The target the runtime compiles for (owned by rt). */
const trn_isa_target *trn_runtime_target(const trn_runtime *rt);
const trn_hw_chip *trn_runtime_chip(const trn_runtime *rt);

/* The cached program of `op` (compiled on first use; owned by rt). Errors of trn_lower_compile. */
trn_status trn_runtime_program(trn_runtime *rt, const trn_lower_op *op, const trn_program **out,
                               trn_err *err);

/* Timing-only: the profile of `op` (timed on first use, then from the cache). */
trn_status trn_runtime_time(trn_runtime *rt, const trn_lower_op *op, trn_op_profile *prof,
                            trn_err *err);

/* A named HBM tensor of a functional run: `n` values in row-major order (borrowed). */
typedef struct trn_binding {
    const char *name;
    double *data;
    size_t n;
} trn_binding;

/* Functional: compiles (cached) and runs `op` with inputs in[nin] (every .input of the kernel,
 * by name, each with exactly its element count) and reads outputs out[nout] into their data.
 * prof (may be NULL) gets the timing profile. Errors: TRN_E_INVALID naming an unknown tensor,
 * a missing input or a wrong count; TRN_E_FAULT with the fault's message. */
trn_status trn_runtime_run(trn_runtime *rt, const trn_lower_op *op, const trn_binding *in, int nin,
                           trn_binding *out, int nout, trn_op_profile *prof, trn_err *err);

/* A resident HBM image of `op`'s program with inputs w[nw] written once (names copied, data
 * borrowed for the call only). Errors as trn_runtime_run. */
typedef struct trn_resident trn_resident;
trn_status trn_runtime_resident_create(trn_runtime *rt, const trn_lower_op *op,
                                       const trn_binding *w, int nw, trn_resident **out,
                                       trn_err *err);
void trn_resident_destroy(trn_resident *r); /* NULL is a no-op */
/* trn_runtime_run on the image `res` (its resident inputs kept, in[nin] the others; the image
 * keeps whatever a run writes). The runtime must be the one that created res. */
trn_status trn_runtime_run_resident(trn_runtime *rt, trn_resident *res, const trn_binding *in,
                                    int nin, trn_binding *out, int nout, trn_op_profile *prof,
                                    trn_err *err);

/* Timing-only: ops[0..n-1] (the per-core pieces of one op, n = 1 .. the chip's cores) timed
 * together on n cores of the chip (trn_timing_run_cores, no cross-core instructions), cached by
 * the pieces' keys. *prof: time_ns and bound of the slowest core; flops, HBM bytes, busy times
 * and instructions summed; pe_mfu / pe_hfu time-weighted over the n cores (the utilization of
 * the n cores together). n = 1 is trn_runtime_time. TRN_E_RANGE for n out of range. */
trn_status trn_runtime_time_cores(trn_runtime *rt, const trn_lower_op *ops, int n,
                                  trn_op_profile *prof, trn_err *err);

/* on = 1: every functional launch creates and destroys its own core (the reference path);
 * on = 0 (the default): launches reuse the runtime's work core. Frees the work core. */
void trn_runtime_set_fresh_cores(trn_runtime *rt, int on);

/* Cache statistics: distinct programs, lookups that hit, lookups that compiled. */
void trn_runtime_cache_stats(const trn_runtime *rt, int *programs, uint64_t *hits,
                             uint64_t *misses);

/* ---- op costs for the planner (timing-only, cached by shape) ---------------------------- */

/* Seconds of an op on the runtime's whole chip: the op split evenly over the chip's NeuronCores
 * (catalog `cores`), each running its piece concurrently with its fair share of the chip's HBM
 * bandwidth (the timing model's default), so the chip's time is the time of one piece:
 *   GEMM       N split in 512-column panels when N >= 512 x cores, else M split in 128-row
 *              tiles when M >= 128 x cores, else N split in ceil(N / cores) columns;
 *   attention  kv heads split, ceil(kv_heads / cores) per core with their query heads;
 *   row ops    M split, ceil(m / cores) rows per core.
 * GEMM: y[m, n] = x[m, k] @ W[k, n], bf16 activations and output, precision `prec`. Errors of
 * trn_runtime_time (an unsupported precision names the chip). */
trn_status trn_runtime_gemm_seconds(trn_runtime *rt, int64_t m, int64_t k, int64_t n,
                                    trn_precision prec, double *seconds, trn_err *err);
/* Causal attention (bf16) for q_len queries against kv_len keys. */
trn_status trn_runtime_attention_seconds(trn_runtime *rt, int64_t heads, int64_t kv_heads,
                                         int64_t head_dim, int64_t q_len, int64_t kv_len,
                                         double *seconds, trn_err *err);
/* A row op (RMSNORM, LAYERNORM, SOFTMAX, ADD, MUL, SWIGLU) on [m, n] bf16. */
trn_status trn_runtime_rowop_seconds(trn_runtime *rt, trn_lower_kind kind, int64_t m, int64_t n,
                                     double *seconds, trn_err *err);
/* Any lowered op on the whole chip by the same rules (ROPE splits rows like the row ops; a
 * LINEAR with the fused GLU keeps its pieces' columns even, gate/up pairs together). */
trn_status trn_runtime_op_seconds(trn_runtime *rt, const trn_lower_op *op, double *seconds,
                                  trn_err *err);
/* The per-core piece of a chip GEMM by the split rule above: *pm, *pn (k is not split). */
void trn_runtime_gemm_split(const trn_runtime *rt, int64_t m, int64_t n, int64_t *pm, int64_t *pn);

#ifdef __cplusplus
}
#endif
#endif

/* trnsim core layer, functional part: one NeuronCore that executes an assembled program
 * (include/trnsim/isa.h) in program order and gives its results bit for bit as
 * docs/semantics.md defines them.
 *
 * Memories: SBUF (partitions x the program's SBUF bytes per partition), PSUM (same, PSUM
 * bytes), HBM (the program's HBM tensors at their addresses). Every byte has a "written"
 * shadow: reading a byte never written is a fault naming the first such read. Values are
 * stored in their dtype's bytes (BF16 2 bytes ...), little-endian.
 *
 * Deliberately left out: time. Results never depend on the timing model, which lives in
 * the scheduler/timing files of this layer and runs on the same program; a functional run
 * therefore reports no cycle for a fault (cycle = -1). Also left out: races and deadlocks of
 * `.sync manual` kernels (they need the timeline), and the instructions listed in
 * docs/semantics.md as not yet executed (TRN_E_UNSUPPORTED, with a fault record). */
#ifndef TRNSIM_CORE_H
#define TRNSIM_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "trnsim/base.h"
#include "trnsim/isa.h"
#include "trnsim/num.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How a run rounds its down-casts (every write of a value to a narrower dtype). */
typedef struct trn_core_opts {
    trn_round round; /* TRN_ROUND_RNE (default) or TRN_ROUND_SR */
    uint64_t seed;   /* SR stream; element e of instruction i's writes uses the random word
                        trn_rng_u32(seed, (i << 32) + e) */
    int saturate;    /* 1: overflow gives +-max finite; 0 (default): IEEE Inf / E4M3FN NaN */
} trn_core_opts;

/* A fault of the simulated program. */
#define TRN_FAULT_MSG_MAX 480
typedef struct trn_fault {
    trn_status status; /* TRN_E_FAULT, or TRN_E_UNSUPPORTED for an instruction not executed */
    int instr;         /* index in program order */
    trn_opcode op;     /* its opcode */
    trn_engine engine; /* its engine */
    uint32_t line;     /* its source line */
    int64_t cycle;     /* -1: functional run (no timeline) */
    char msg[TRN_FAULT_MSG_MAX]; /* "k.tasm:12: activation (scalar, instruction 3): what" */
} trn_fault;

typedef struct trn_core trn_core;

/* Creates a core for program `p` (borrowed: it must outlive the core) on target `t`
 * (borrowed, copied). The program should have passed trn_program_verify for `t`; the core
 * does not rely on it (a crafted program faults, it never crashes the simulator). `o` may be
 * NULL (RNE). TRN_E_INVALID (a core version below 2, memories larger than the target's),
 * TRN_E_NOMEM. *out is NULL on failure. */
trn_status trn_core_create(const trn_program *p, const trn_isa_target *t, const trn_core_opts *o,
                           trn_core **out, trn_err *err);
void trn_core_destroy(trn_core *c); /* NULL is a no-op */

/* Index of HBM tensor `name` (an .input, .output or .hbm), or -1. */
int trn_core_tensor_find(const trn_core *c, const char *name);

/* Writes n values (borrowed) into HBM tensor `tensor` (trn_core_tensor_find), n = its
 * element count, in row-major order, marking them written. Float dtypes: each value is
 * rounded to FP32 then converted with RNE (IEEE overflow); integer dtypes: rounded to nearest
 * even and clamped to the type's range (NaN gives 0). MX-packed tensors take their codes:
 * each value is the packed word as an integer. TRN_E_INVALID for a bad index or count. */
trn_status trn_core_tensor_write(trn_core *c, int tensor, const double *vals, size_t n,
                                 trn_err *err);
/* Reads HBM tensor `tensor` into vals[n] (borrowed): the exact value of every element (integer
 * types exactly, packed types as their code words). Elements never written read as 0 and are
 * counted in *unwritten (may be NULL). */
trn_status trn_core_tensor_read(const trn_core *c, int tensor, double *vals, size_t n,
                                size_t *unwritten, trn_err *err);

/* Runs the whole program in program order. TRN_OK; TRN_E_FAULT or TRN_E_UNSUPPORTED with
 * the fault in trn_core_fault() and its message in err; TRN_E_INVALID when an .input was never
 * written (naming it); TRN_E_NOMEM. A core runs once: a second call is TRN_E_INVALID. */
trn_status trn_core_run(trn_core *c, trn_err *err);

/* The fault of the last run, or NULL when it did not fault. Owned by the core. */
const trn_fault *trn_core_fault(const trn_core *c);

/* Instructions retired so far on engine `e` (0 for an engine out of range), and in all. */
uint64_t trn_core_instr_count(const trn_core *c, trn_engine e);
uint64_t trn_core_instr_total(const trn_core *c);

#ifdef __cplusplus
}
#endif
#endif

/* trnsim core layer, functional part: one NeuronCore that executes an assembled program
 * (include/trnsim/isa.h) in program order and gives its results bit for bit as
 * docs/semantics.md defines them.
 *
 * Memories: SBUF (partitions x the program's SBUF bytes per partition), PSUM (same, PSUM
 * bytes), HBM (the program's HBM tensors at their addresses). Every byte has a "written"
 * shadow: reading a byte never written is a fault naming the first such read. Values are
 * stored in their dtype's bytes (BF16 2 bytes ...), little-endian.
 *
 * Several cores of a grid (the chip layer) share one HBM: trn_core_create_shared, a step-wise
 * run (trn_core_run_to / trn_core_skip) so the chip layer can interleave cores and carry out the
 * cross-core instructions itself, and a race check of their HBM accesses (trn_hbm_race).
 *
 * Deliberately left out: time. Results never depend on the timing model, which lives in
 * the scheduler/timing files of this layer and runs on the same program; a functional run
 * therefore reports no cycle for a fault (cycle = -1). Also left out: races and deadlocks of
 * `.sync manual` kernels (they need the timeline), and the cross-core instructions
 * core_barrier and sendrecv, which the chip layer carries out (on a lone core they fault). */
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

/* Makes core c what trn_core_create (hbm NULL) or trn_core_create_shared (hbm, borrowed: it must
 * outlive c's use of it) would give for program `p` (borrowed) with c's target and options:
 * nothing written in SBUF, PSUM or c's own HBM, no fault, no instruction retired, registers,
 * accumulators and random states as new, no race check attached. The memories are kept and
 * their earlier writes forgotten at once (the written shadow moves to a new generation; nothing
 * is cleared byte by byte), so a runtime that launches many short kernels pays for what each
 * touches rather than for allocating and zeroing SBUF and PSUM per launch. c's own HBM is set
 * aside (not freed) while it borrows another core's; an HBM it borrowed is never touched (it
 * is the owner's), and a core whose HBM others borrow must not be reused while they do. The
 * checks and errors of the two create functions (TRN_E_INVALID too for hbm == c); after an
 * error c can only be reused again or destroyed. */
trn_status trn_core_reuse(trn_core *c, const trn_program *p, trn_core *hbm, trn_err *err);

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
 * written (naming it); TRN_E_NOMEM. A core runs once: a second call is TRN_E_INVALID (until
 * trn_core_reuse). */
trn_status trn_core_run(trn_core *c, trn_err *err);

/* The fault of the last run, or NULL when it did not fault. Owned by the core. */
const trn_fault *trn_core_fault(const trn_core *c);

/* Instructions retired so far on engine `e` (0 for an engine out of range), and in all. */
uint64_t trn_core_instr_count(const trn_core *c, trn_engine e);
uint64_t trn_core_instr_total(const trn_core *c);

/* ---- several cores sharing one HBM (used by the chip layer, include/trnsim/chip.h) ---------- */

/* Creates a core like trn_core_create whose HBM is core `hbm`'s (borrowed: it must outlive the
 * new core): the cores of a grid read and write one HBM image. `p` must declare the same HBM
 * tensors (names, dtypes, addresses, sizes) as hbm's program: TRN_E_INVALID naming the first
 * that differs. */
trn_status trn_core_create_shared(const trn_program *p, const trn_isa_target *t,
                                  const trn_core_opts *o, trn_core *hbm, trn_core **out,
                                  trn_err *err);

/* Index (program order) of the next instruction a step-wise run executes. */
int trn_core_next(const trn_core *c);
/* Runs the instructions from trn_core_next() up to, not including, `end` (clamped to the
 * program). Returns as trn_core_run, without its input check (trn_core_check_inputs). */
trn_status trn_core_run_to(trn_core *c, int end, trn_err *err);
/* Retires the next instruction without executing it (a cross-core instruction the chip layer
 * carries out), counting it on its engine. */
void trn_core_skip(trn_core *c);
/* TRN_E_INVALID naming the first .input none of whose bytes was written. */
trn_status trn_core_check_inputs(const trn_core *c, trn_err *err);

/* A tile copied out of a core: the data movement of a sendrecv in two steps (every sender's
 * tile first, then every receiver's, so exchanges in a ring or in place are exact). */
typedef struct trn_core_tile {
    uint32_t *codes; /* P x F element codes, row-major (malloc'd: trn_core_tile_fini) */
    uint32_t P;      /* partitions */
    int64_t F;       /* elements per partition */
    trn_dtype dtype;
    int packed;
    char name[TRN_NAME_MAX]; /* the tile's tensor */
} trn_core_tile;
/* Reads operand `key` (an SBUF/PSUM/HBM tile) of instruction i of core c into *out (taken).
 * TRN_E_FAULT (recorded on c, as instruction i) for an operand out of bounds or a byte never
 * written; TRN_E_NOMEM. */
trn_status trn_core_tile_get(trn_core *c, int i, const char *key, trn_core_tile *out, trn_err *err);
/* Writes `in` (borrowed; sent by core `from_core`) into operand `key` of instruction j of core c,
 * bit for bit, marking it written. TRN_E_FAULT (recorded on c) when the operand is out of bounds
 * or differs from `in` in dtype or shape. */
trn_status trn_core_tile_put(trn_core *c, int j, const char *key, const trn_core_tile *in,
                             int from_core, trn_err *err);
void trn_core_tile_fini(trn_core_tile *t); /* frees the codes; NULL is a no-op */

/* Cross-core race check on a shared HBM: every HBM byte remembers its last writer (core,
 * instruction, the writer's epoch); cores are ordered only by the sync groups they pass together
 * (vector clocks). A write or read of a byte whose last writer is another core not ordered
 * before the access is a race fault naming both cores and instructions. Deliberately left out:
 * a write after another core's unordered read (reads are not remembered). */
typedef struct trn_hbm_race trn_hbm_race;
/* For an HBM of `hbm_bytes` shared by `ncores` cores. TRN_E_INVALID, TRN_E_NOMEM. */
trn_status trn_hbm_race_create(uint64_t hbm_bytes, int ncores, trn_hbm_race **out, trn_err *err);
void trn_hbm_race_destroy(trn_hbm_race *r); /* NULL is a no-op */
/* Cores cores[0..n-1] pass a sync group together: what each did before is ordered before what
 * any of them does after. */
void trn_hbm_race_sync(trn_hbm_race *r, const int *cores, int n);
/* Checks every HBM access of core c as core `index` of r (borrowed: it must outlive c). */
void trn_core_attach_race(trn_core *c, trn_hbm_race *r, int index);

#ifdef __cplusplus
}
#endif
#endif

/* trnsim chip layer: a kernel launched on N NeuronCores of one chip (`--grid N`, the NKI SPMD
 * launch `kernel[N](...)`), all cores sharing the chip's HBM.
 *
 * The kernel is assembled N times, with program_id = 0 .. N-1 and num_programs = N, so each core
 * gets its own unrolled program (NKI's `nl.program_id(0)` / `nl.num_programs()`). Functionally
 * the cores share ONE HBM image (the kernel's .input, .output and .hbm tensors, each program
 * instance working on its slice) and each has its own SBUF and PSUM. The cores run one after
 * another in core order, each until its next cross-core instruction (core_barrier, sendrecv);
 * a sync group proceeds when all its members arrived, so results are deterministic. A group
 * some member never reaches is a deadlock fault naming the cores; HBM accesses of two cores
 * that no group orders are a race fault (docs/semantics.md, "Several cores").
 *
 * The timing model runs the N programs together (trn_timing_run_cores): each core's engines as
 * alone, every DMA transfer of every core sharing the chip's HBM bandwidth, the groups holding
 * their cores until the last member arrives (docs/timing-model.md, "Several cores").
 *
 * Ranks: sendrecv send_to_rank / recv_from_rank are 0 or 1 inside the core's pair (cores 2k and
 * 2k+1, which share an HBM stack), as NKI requires. core_barrier `cores` are program ids with
 * lnc = 1 (default; any set of the grid's cores), and 0 or 1 inside the pair with lnc = 2
 * (programs 2k and 2k+1 form one Logical NeuronCore).
 *
 * Deliberately left out: several chips (the fabric layer), the HBM stack each core is attached
 * to (the chip's bandwidth is one pool), and a write after another core's unordered read in the
 * race check. */
#ifndef TRNSIM_CHIP_H
#define TRNSIM_CHIP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trnsim/base.h"
#include "trnsim/core.h"
#include "trnsim/hw.h"
#include "trnsim/isa.h"
#include "trnsim/timing.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct trn_chip_opts {
    int grid;                   /* programs = cores, 1 .. the chip's cores (0: 1) */
    int lnc;                    /* 1 or 2 (0: 1); 2 needs NeuronCore-v3 or newer and an even grid */
    const trn_param *overrides; /* --param values (borrowed) */
    int n_overrides;
    trn_core_opts core; /* rounding of the functional run */
} trn_chip_opts;

typedef struct trn_chip trn_chip;

/* Assembles `.tasm` text (borrowed; `path` names it in messages) once per core for chip `hw`
 * (borrowed from the catalog, it must outlive the chip), verifies every program for the chip's
 * core version and matches the cross-core instructions. Errors: TRN_E_INVALID (grid outside
 * 1..cores, lnc not 1 or 2 or not available on the chip, an odd grid with lnc 2: the message names
 * the value and the limit), TRN_E_PARSE (assembly), TRN_E_FAULT (cross-core instructions that
 * name a core outside the grid, a barrier whose core list leaves out the core running it, a
 * sendrecv whose partner receives from another core), TRN_E_NOMEM. */
trn_status trn_chip_assemble(const trn_hw_chip *hw, const char *text, const char *path,
                             const trn_chip_opts *o, trn_chip **out, trn_err *err);
/* Same from a file. */
trn_status trn_chip_assemble_file(const trn_hw_chip *hw, const char *path, const trn_chip_opts *o,
                                  trn_chip **out, trn_err *err);
void trn_chip_destroy(trn_chip *c); /* NULL is a no-op */

int trn_chip_cores(const trn_chip *c);                            /* N */
int trn_chip_lnc(const trn_chip *c);                              /* 1 or 2 */
const trn_program *trn_chip_program(const trn_chip *c, int core); /* NULL out of range */
const trn_hw_chip *trn_chip_hw(const trn_chip *c);

/* ---- functional run ---------------------------------------------------------------------- */

/* Index of HBM tensor `name` (shared by all cores), or -1. */
int trn_chip_tensor_find(const trn_chip *c, const char *name);
/* Writes / reads an HBM tensor of the shared HBM, as trn_core_tensor_write / _read. */
trn_status trn_chip_tensor_write(trn_chip *c, int tensor, const double *vals, size_t n,
                                 trn_err *err);
trn_status trn_chip_tensor_read(trn_chip *c, int tensor, double *vals, size_t n, size_t *unwritten,
                                trn_err *err);
/* Runs all cores to the end. TRN_OK; TRN_E_FAULT / TRN_E_UNSUPPORTED with the first fault in
 * trn_chip_fault and "core I: ..." in err (a deadlock names every blocked core, its instruction
 * and the cores it waits for; a race both cores and instructions); TRN_E_INVALID for an input
 * never written; TRN_E_NOMEM. A chip runs once. */
trn_status trn_chip_run(trn_chip *c, trn_err *err);
/* The fault of the run (owned by the chip) and its core, or NULL. A deadlock has no single
 * instruction: its record is the first blocked core's. */
const trn_fault *trn_chip_fault(const trn_chip *c, int *core);
/* Instructions retired by core `core` on engine e, and by all cores on e (core = -1). */
uint64_t trn_chip_instr_count(const trn_chip *c, int core, trn_engine e);

/* ---- timing ------------------------------------------------------------------------------ */

/* Times the N programs together on the chip (no data needed). Errors as trn_timing_run_cores. */
trn_status trn_chip_time(trn_chip *c, trn_err *err);
/* Core `core`'s timing (owned by the chip), NULL before trn_chip_time or out of range. */
const trn_timing *trn_chip_timing(const trn_chip *c, int core);

/* The chip's totals of a timed run. */
typedef struct trn_chip_report {
    int cores, lnc;
    double total_ns;          /* the slowest core's time: the kernel's time on the chip */
    int slowest;              /* that core */
    uint64_t hbm_bytes;       /* HBM traffic of all cores (reads + writes) */
    double hbm_bps;           /* hbm_bytes / total_ns */
    double hbm_available_bps; /* the chip's HBM bandwidth */
    double matmul_macs;       /* all cores */
    double achieved_flops;    /* 2 x matmul_macs / total_ns */
    uint64_t instructions;    /* all cores */
} trn_chip_report;
/* Fills *r (zeroed before trn_chip_time). */
void trn_chip_report_get(const trn_chip *c, trn_chip_report *r);
/* The report as text: chip totals, then one row per core (time, engine utilizations, DMA bytes,
 * HBM bandwidth, bound). */
void trn_chip_print(const trn_chip *c, FILE *f);
/* As JSON (schema "trnsim.chip/1", docs/timing-model.md): the totals and "per_core", each a
 * "trnsim.timing/1" report. */
trn_status trn_chip_print_json(const trn_chip *c, FILE *f, trn_err *err);
/* The Chrome/Perfetto trace: one process (track group) per core. */
trn_status trn_chip_write_trace(const trn_chip *c, const char *path, trn_err *err);

#ifdef __cplusplus
}
#endif
#endif

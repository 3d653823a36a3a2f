/* trnsim timing model: how long a program takes on one NeuronCore, engine by engine, and why.
 *
 * A pure function of the program IR and the catalog's core-version and chip specs; it never
 * looks at data (DESIGN.md). The scheduler turns program order into per-engine in-order queues
 * (PE, ACT, DVE, Pool, SP and the core's DMA queues) with semaphore waits derived from RAW, WAR
 * and WAW conflicts on SBUF, PSUM and HBM (or, in `.sync manual` programs, the program's own
 * waits and signals); the cost model gives each instruction's duration from the
 * trainium-facts.md §3.4 formulas with the §3.7 performance modes; an event-driven simulation
 * runs the engines concurrently, DMA transfers sharing the chip's HBM bandwidth. The result is a
 * report (text and JSON, schema in docs/timing-model.md) and a Chrome/Perfetto trace.
 *
 * A `.sync manual` program is also checked for races: conflicting accesses on different
 * engines with no happens-before order through the program's semaphores (src/core/race.c).
 *
 * Several cores of one chip (trn_timing_run_cores, used by the chip layer for `--grid N`) run
 * in one simulation: each core's engines and queues as above, every DMA transfer of every core in
 * its data phase sharing the chip's HBM bandwidth max-min fairly, and the cross-core
 * instructions (core_barrier, sendrecv) holding their cores until every member arrives.
 *
 * Deliberately left out: functional execution (core.h), matching the cross-core instructions of
 * several programs (the chip layer's; this layer takes the groups as a table). The rules, sources
 * and assumptions are in docs/timing-model.md.
 */
#ifndef TRNSIM_TIMING_H
#define TRNSIM_TIMING_H

#include <stdint.h>
#include <stdio.h>

#include "trnsim/base.h"
#include "trnsim/hw.h"
#include "trnsim/isa.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Compute-engine tracks of the report: the first five trn_engine values (PE, ACT, DVE, POOL,
 * SP). DMA queues are separate tracks. */
#define TRN_TIMING_ENGINES 5

/* Options of a timing run. Every hardware constant of the model (clocks, cost constants,
 * semaphore latency, fast LoadStationary, DMA transpose rates, VectorE modes) is read from the
 * core version's catalog entry (hw/neuroncores.json, overridable with --hw); the options hold
 * only what depends on the run, not on the hardware. Zero-initialized options are valid (the
 * defaults); trn_timing_opts_init fills them too. */
typedef struct trn_timing_opts {
    int hbm_share_cores; /* cores sharing the chip's HBM bandwidth equally: this core gets
                            hbm_bw_bps / hbm_share_cores. 0 = the chip's core count (every core
                            busy: the core's fair share); 1 = this core alone. */
} trn_timing_opts;

/* Fills `o` with the defaults above. */
void trn_timing_opts_init(trn_timing_opts *o);

/* Dependence kinds of a wait (bit mask). ORDER: a manual-sync semaphore wait. */
enum { TRN_DEP_RAW = 1, TRN_DEP_WAR = 2, TRN_DEP_WAW = 4, TRN_DEP_SEM = 8 };

/* Why an instruction started when it did (the link of the critical path). */
typedef enum trn_timing_cause {
    TRN_CAUSE_NONE,   /* started at time 0 */
    TRN_CAUSE_ENGINE, /* its engine (or DMA queue) became free: in-order behind `pred` */
    TRN_CAUSE_WAIT,   /* a semaphore wait on `pred` (a dependence or a manual wait) */
    TRN_CAUSE_COUNT
} trn_timing_cause;

/* One wait of an instruction on an earlier one: the scheduler keeps at most one per engine
 * (the latest), as the Neuron compiler's per-queue semaphores do. */
typedef struct trn_timing_wait {
    int32_t instr; /* program index of the instruction waited on */
    uint8_t kinds; /* TRN_DEP_* bits of the conflicts it stands for */
} trn_timing_wait;

/* The timeline of one instruction. */
typedef struct trn_timing_instr {
    trn_engine engine;       /* engine whose queue holds it (DMA: the issuing sequencer or DMA) */
    double start_ns;         /* first cycle (a triggered DMA: the trigger's start) */
    double end_ns;           /* retirement (a DMA: the last of its queues' transfers) */
    uint64_t cycles;         /* duration in its engine's cycles (0 for DMA-queue work) */
    uint64_t formula_cycles; /* the cost rule's cycles alone, before MM_INIT, exposed
                                LoadStationary and the static dependent-instruction overhead */
    uint64_t bytes;          /* DMA: bytes moved (the larger of the read and written side) */
    uint8_t nwaits;          /* scheduler waits (auto sync); manual waits are in the program */
    trn_timing_wait waits[TRN_ENGINE_COUNT];
    trn_timing_cause cause;
    int32_t pred; /* instruction that bounded the start (cause != NONE), else -1 */
} trn_timing_instr;

/* Busy time of one track (a compute engine or a DMA queue). */
typedef struct trn_timing_track {
    char name[16];        /* "PE", "ACT", "DVE", "Pool", "SP", "DMA q0" ... */
    double hz;            /* clock (0 for DMA queues) */
    uint64_t instrs;      /* instructions (DMA queue: transfers with data) */
    double busy_ns;       /* sum of durations */
    double utilization;   /* busy_ns / total_ns */
    double total_cycles;  /* the kernel's time in this engine's cycles (0 for DMA queues) */
    uint64_t busy_cycles; /* sum of instruction cycles (0 for DMA queues) */
    uint64_t bytes;       /* DMA queue: bytes moved */
} trn_timing_track;

/* A run of consecutive critical-path instructions on one track. */
typedef struct trn_timing_segment {
    trn_engine engine;   /* TRN_ENGINE_DMA for DMA transfers */
    int32_t first, last; /* program indices of its first and last instruction */
    uint32_t first_line, last_line;
    uint32_t instrs; /* instructions in the run */
    double start_ns, end_ns;
    double busy_ns; /* sum of their durations (the rest is waiting) */
} trn_timing_segment;

typedef struct trn_timing_report {
    double total_ns;                             /* first start to last retirement */
    trn_timing_track engine[TRN_TIMING_ENGINES]; /* indexed by trn_engine */
    int ndma_queues;
    const trn_timing_track *dma_queue; /* ndma_queues tracks (owned by the trn_timing) */
    uint64_t dma_instrs;
    /* TensorE, as neuron-profile counts (element counts / (rows x cols x PE cycles)) */
    double matmul_macs;    /* sum of K x M x N over nc_matmul / nc_matmul_mx (model MACs) */
    double pe_hfu;         /* hardware: K_rows x M x N x passes of every PE instruction,
                              transposes included, / (pe_rows x pe_cols x kernel PE cycles) */
    double pe_mfu;         /* model: matmul MACs at their data type's peak rate / (pe_rows x
                              pe_cols x kernel PE cycles); 1 = TensorE at its peak all the time */
    double achieved_flops; /* 2 x matmul_macs / total time, FLOP/s */
    /* DMA bytes by direction and achieved bandwidth (bytes / total time) */
    uint64_t hbm_to_sbuf_bytes, sbuf_to_hbm_bytes, hbm_to_hbm_bytes, sbuf_to_sbuf_bytes;
    double hbm_to_sbuf_bps, sbuf_to_hbm_bps;
    double hbm_bps;           /* all HBM traffic (reads + writes) / total time */
    double hbm_available_bps; /* the HBM bandwidth this core may use */
    /* critical path: the chain of instructions and waits that ends last */
    int ncritical;
    const trn_timing_segment *critical;          /* ncritical runs, in time order (owned) */
    double critical_engine_ns[TRN_ENGINE_COUNT]; /* busy time on the path per engine */
    trn_engine bound; /* the engine with the most time on the critical path */
} trn_timing_report;

typedef struct trn_timing trn_timing;

/* Schedules and times program `p` (borrowed) on core version `core` of chip `chip` (both
 * borrowed from the catalog; `chip` may be NULL: then the HBM bandwidth does not limit DMA).
 * `o` may be NULL (defaults). *out is taken by the caller (trn_timing_destroy); NULL on
 * failure. Errors: TRN_E_INVALID (the program was assembled for another core version, or the
 * chip's core is not `core`), TRN_E_FAULT (a `.sync manual` deadlock: the message names the
 * blocked engines, their instructions and source lines and the waits; or a race: the message
 * names both instructions, their source lines and engines), TRN_E_NOMEM. */
trn_status trn_timing_run(const trn_program *p, const trn_hw_core *core, const trn_hw_chip *chip,
                          const trn_timing_opts *o, trn_timing **out, trn_err *err);
void trn_timing_destroy(trn_timing *t); /* NULL is a no-op */

/* The report (owned by t). */
const trn_timing_report *trn_timing_report_get(const trn_timing *t);
/* The per-instruction timeline: n entries in program order (owned by t). */
const trn_timing_instr *trn_timing_instrs(const trn_timing *t, int *n);
/* Transfer of DMA instruction `instr` on DMA queue `q`: start, data start (after the fixed
 * cost) and end in ns, bytes. Returns 0 when `instr` is not a DMA or q is out of range. */
int trn_timing_dma_piece(const trn_timing *t, int instr, int q, double *start_ns, double *data_ns,
                         double *end_ns, uint64_t *bytes);

/* The report as a text table on f. */
void trn_timing_print(const trn_timing *t, FILE *f);
/* The report as JSON on f (schema "trnsim.timing/1", docs/timing-model.md). TRN_E_NOMEM or
 * TRN_E_IO on failure. */
trn_status trn_timing_print_json(const trn_timing *t, FILE *f, trn_err *err);
/* Writes the Chrome/Perfetto trace ("traceEvents", complete events in µs, one thread per
 * engine and DMA queue) of t for program p (borrowed, the one timed) to `path`. */
trn_status trn_timing_write_trace(const trn_timing *t, const trn_program *p, const char *path,
                                  trn_err *err);
/* Same on an open stream. */
trn_status trn_timing_write_trace_file(const trn_timing *t, const trn_program *p, FILE *f,
                                       trn_err *err);

/* ---- several cores of one chip ------------------------------------------------------------ */

/* The cross-core instructions of a multi-core run, matched by the caller (the chip layer):
 * group_of[c][i] is the group of instruction i of program c, or -1 (only core_barrier and
 * sendrecv instructions have one); group_size[g] is the number of cores that must arrive
 * before group g proceeds (a member that never arrives is a deadlock). */
typedef struct trn_timing_sync {
    int ngroups;
    const int32_t *const *group_of; /* n arrays, one per program, of its instruction count */
    const int32_t *group_size;      /* ngroups */
} trn_timing_sync;

/* Times programs p[0..n-1] (borrowed) together on n cores of chip `chip` (borrowed, required):
 * each core as trn_timing_run does, except that the HBM bandwidth is the chip's whole
 * hbm_bw_bps shared max-min fairly by the data phases of every core's transfers in flight, and
 * that the instructions of a sync group start together: a core_barrier holds its engine until
 * every member arrived, then ends core_barrier_ns (catalog) after the last arrival; a sendrecv's
 * transfers start core_barrier_ns after the last member is ready, and every member retires when
 * the group's last transfer ends. `sync` may be NULL (no cross-core instructions). out[0..n-1]
 * get one timing per core (each destroyed with trn_timing_destroy; all NULL on failure).
 * Errors as trn_timing_run; a deadlock names the cores, their blocked instructions and the
 * members that never arrive. n = 1 gives exactly the timeline of trn_timing_run with
 * hbm_share_cores = 1 (tested on every example kernel). */
trn_status trn_timing_run_cores(const trn_program *const *p, int n, const trn_hw_core *core,
                                const trn_hw_chip *chip, const trn_timing_sync *sync,
                                trn_timing **out, trn_err *err);

/* Cores of a multi-core run this timing belongs to (1 for trn_timing_run), and its index. */
int trn_timing_cores(const trn_timing *t, int *index);

/* One Chrome/Perfetto trace of n timings (borrowed) of programs p (borrowed): one process (track
 * group) per core, named "core I: KERNEL", with its engine and DMA queue threads. n = 1 writes
 * the same bytes as trn_timing_write_trace_file. */
trn_status trn_timing_write_trace_cores(const trn_timing *const *t, const trn_program *const *p,
                                        int n, FILE *f, trn_err *err);

#ifdef __cplusplus
}
#endif
#endif

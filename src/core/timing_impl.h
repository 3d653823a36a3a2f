/* Private interface of the timing model (src/core/sched.c, cost.c, timing.c, trace.c): the
 * scheduler's output, the cost model's per-instruction costs and the DMA transfer plans, and
 * the trn_timing object the simulation fills. Nothing here touches data. */
#ifndef TRN_CORE_TIMING_IMPL_H
#define TRN_CORE_TIMING_IMPL_H

#include <stdint.h>

#include "trnsim/timing.h"

/* ---- scheduler (sched.c) ---------------------------------------------------------------- */

/* Dependences of one instruction: at most one wait per engine group (trn_engine), on the
 * latest conflicting instruction of that group; waits on the instruction's own in-order
 * queue are implied and dropped (a DMA's own group is kept: its transfers finish out of
 * order across queues). */
typedef struct sched_instr {
    uint8_t nwaits;
    trn_timing_wait waits[TRN_ENGINE_COUNT];
    uint8_t raw_prev; /* RAW on the previous instruction of the same engine queue */
} sched_instr;

typedef struct sched {
    int n;
    sched_instr *in; /* n entries, program order */
} sched;

/* Derives the waits of every instruction of `p` (auto sync) from RAW/WAR/WAW conflicts on SBUF
 * partitions x bytes, PSUM bytes (banks) and HBM byte ranges. In `.sync manual` programs every
 * entry is empty (the program's own semaphores order it). */
trn_status sched_build(const trn_program *p, sched *s, trn_err *err);
void sched_free(sched *s);

/* The operand footprints of every instruction of `p`, with the scheduler's overlap test (for
 * the race detector of `.sync manual` programs, race.c). */
typedef struct sched_fps sched_fps;
trn_status sched_fps_build(const trn_program *p, sched_fps **out); /* TRN_E_NOMEM */
void sched_fps_free(sched_fps *s);                                 /* NULL is a no-op */
/* 1 when an operand of instruction i and one of instruction j overlap and at least one of
 * them writes: *ti, *tj get their tensors, *wi, *wj 1 for a write (the first such pair). */
int sched_fps_conflict(sched_fps *s, int i, int j, int *ti, int *wi, int *tj, int *wj);

/* ---- cost model (cost.c) ---------------------------------------------------------------- */

/* The argument keys the cost model reads (cost.c names them). */
enum {
    COST_K_DST,
    COST_K_SRC,
    COST_K_SRCS,
    COST_K_DATA1,
    COST_K_DATA2,
    COST_K_DGE_MODE,
    COST_K_INDEX,
    COST_K_MOVING,
    COST_K_N,
    COST_K_NUM_ELEM_PER_IDX,
    COST_K_NUM_VALID_INDICES,
    COST_K_OP,
    COST_K_OP0,
    COST_K_OP1,
    COST_K_PERF_MODE,
    COST_K_PREDICATE,
    COST_K_REDUCE_RES,
    COST_K_STATIONARY,
    COST_K_VAL_DST,
    COST_K_VALUE,
    COST_K_SRC_INDEX,
    COST_NKEYS
};

/* Queues of the DMA split cost_dma remembers (more: computed each time). */
#define COST_SPLIT_MAX 64

/* What the core's cost model needs, in one place. */
typedef struct cost_ctx {
    const trn_program *p;
    const trn_hw_core *core;
    int version;                   /* NeuronCore version (2, 3, 4 ...) */
    double hz[TRN_TIMING_ENGINES]; /* clock of each compute engine, Hz */
    /* argument index of each COST_K_* key per opcode (-1: the opcode has no such argument);
     * filled for the opcodes of p */
    int8_t key[TRN_OP_COUNT][COST_NKEYS];
    /* cost_dma's last split of a DMA's bytes over the queues (split_nq 0: none yet) */
    int split_nq;
    uint64_t split_work;
    double split_rows;
    uint64_t split_bytes[COST_SPLIT_MAX];
} cost_ctx;

/* The static cost of one compute instruction (everything that does not depend on timing). */
typedef struct cost_instr {
    uint64_t cycles; /* the cost rule's cycles on its engine */
    /* TensorE only */
    uint8_t is_pe;      /* runs on TensorE */
    uint8_t is_matmul;  /* nc_matmul / nc_matmul_mx (loads a stationary) */
    uint64_t ls_cycles; /* LoadStationary of its stationary (fast LS) */
    double macs;        /* model MACs K x M x N (matmuls only) */
    double peak_rate;   /* MACs per PE per cycle of its data type (1 = BF16) */
    double hw_slots;    /* K_rows x M x N x passes (HFU numerator) */
} cost_instr;

/* Fills ctx from the core (borrowed); TRN_E_INVALID when the catalog lacks a clock or a
 * constant the program needs (a dma_transpose on a core without DMA transpose rates). */
trn_status cost_ctx_init(cost_ctx *ctx, const trn_program *p, const trn_hw_core *core,
                         trn_err *err);
/* The cost of compute instruction `i` (not for DMA instructions). */
void cost_compute(const cost_ctx *ctx, int i, cost_instr *c);
/* 1 when two matmuls use the same stationary (no new LoadStationary needed). */
int cost_same_stationary(const cost_ctx *ctx, int a, int b);

/* A DMA instruction's work: its transfer on each DMA queue, partition-wise (§3.6). */
typedef struct dma_plan {
    int nq;              /* DMA queues (the core's DMA engines) */
    uint64_t *bytes;     /* nq: bytes of each queue's transfer (0: no data) */
    int uniform;         /* every queue gets the same bytes */
    double buffer_bytes; /* contiguous bytes per buffer (the efficiency curve's input) */
    double rate_bpns;    /* bytes per ns of one queue: practical rate x efficiency x mode */
    int hbm_sides;       /* 0, 1 or 2: how many sides are in HBM (HBM bandwidth weight) */
    double fixed_ns;     /* per-queue fixed cost before data moves */
    double issue_ns;     /* time on the issuing sequencer (0 when engine is DMA) */
    uint64_t read_bytes, write_bytes; /* whole instruction */
    int src_mem, dst_mem;             /* trn_mem of the (first) source and the destination */
} dma_plan;

/* 1 when instruction `i` is a DMA (runs on the DMA queues). */
int cost_is_dma(const trn_program *p, int i);
/* is_dma[op] = 1 for every opcode that is a DMA (cost_is_dma of its instructions), for loops
 * over many instructions; is_dma has TRN_OP_COUNT entries. */
void cost_dma_ops(uint8_t *is_dma);
/* Plans DMA instruction `i` into `d` (d->bytes has room for the core's queue count). */
void cost_dma(cost_ctx *ctx, int i, dma_plan *d);

/* ---- the timing object (timing.c) ------------------------------------------------------- */

typedef struct dma_piece {
    double start_ns, data_ns, end_ns;
    uint64_t bytes;
    int32_t pred;  /* what bounded its start (critical path), -1 */
    uint8_t cause; /* trn_timing_cause */
} dma_piece;

struct trn_timing {
    trn_timing_report rep;
    const trn_hw_core *core;
    const trn_hw_chip *chip;
    trn_timing_opts opts;
    char kernel[TRN_NAME_MAX];
    int n;
    trn_timing_instr *in; /* n */
    int nq;               /* DMA queues */
    int32_t *dma_slot;    /* n: index of the instruction's pieces row, or -1 */
    int ndma;
    dma_piece *pieces;        /* ndma x nq */
    double *issue_end_ns;     /* n: end of a triggered DMA's issue on its sequencer, else 0 */
    trn_timing_track *queues; /* nq */
    trn_timing_segment *crit; /* rep.ncritical */
    int ncores;               /* cores of the run (trn_timing_run_cores), 1 alone */
    int core_index;           /* this core's index in the run */
};

/* The race check of a `.sync manual` program over the simulated timeline of `t` (race.c):
 * TRN_OK when every pair of conflicting accesses on different tracks is ordered by
 * happens-before, else TRN_E_FAULT naming the first racing pair (TRN_E_NOMEM). Auto-sync
 * programs return TRN_OK at once. */
trn_status race_check(const trn_program *p, const trn_timing *t, trn_err *err);

/* Formats the operands of instruction `i` as `key=value ...` into buf (size n). */
void timing_format_operands(const trn_program *p, int i, char *buf, size_t n);

#endif

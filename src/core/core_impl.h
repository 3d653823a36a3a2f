/* Private header of the core layer's functional part: the core's memories, resolved
 * operands ("views"), the load/store helpers every instruction uses, and one function per
 * executed instruction (src/core/ops/, dispatched from exec.c). Timing lives elsewhere. */
#ifndef TRN_CORE_IMPL_H
#define TRN_CORE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "trnsim/core.h"

/* Sequencer registers the simulator holds per engine (an implementation capacity, not a
 * hardware number: the catalog's registers_per_engine, 64 on every version, must not exceed it). */
#define CORE_MAX_REGS 256

/* One memory: bytes and a per-byte written shadow (1 = written). */
typedef struct core_mem {
    uint8_t *data;
    uint8_t *written;
    uint64_t part_bytes; /* SBUF/PSUM: bytes per partition; HBM: total bytes */
    uint32_t parts;      /* SBUF/PSUM: partitions; HBM: 1 */
} core_mem;

/* One engine's sequencer registers: the physical registers register_alloc took so far, in
 * order, each holding one virtual register of the program (its index), a 32-bit value and
 * whether that value was ever set. At most the target's registers_per_engine. */
typedef struct core_seqreg {
    uint32_t n;
    int32_t vreg[CORE_MAX_REGS];
    uint32_t val[CORE_MAX_REGS];
    uint8_t set[CORE_MAX_REGS];
} core_seqreg;

struct trn_core {
    const trn_program *p; /* borrowed */
    trn_isa_target t;
    trn_core_opts o;
    core_mem mem[TRN_MEM_COUNT];
    float act_acc[TRN_MAX_PARTITIONS];       /* ScalarE reduce accumulators (one per partition) */
    float dve_acc[TRN_MAX_PARTITIONS];       /* VectorE accumulators (exponential, range_select,
                                                select_reduce, tensor_scalar_reduce/_cumulative) */
    uint8_t dve_acc_set[TRN_MAX_PARTITIONS]; /* 1 once a dve_acc was reset or loaded */
    /* PRNG states, XORWOW (x0..x4, counter d) per lane (docs/semantics.md): VectorE has 4 per
     * lane, GpSimd 1. Seeded from trn_core_opts.seed on first use (rng_ready). */
    uint32_t rng_dve[TRN_MAX_PARTITIONS][4][6];
    uint32_t rng_pool[TRN_MAX_PARTITIONS][6];
    int rng_ready;
    core_seqreg seqreg[TRN_ENGINE_COUNT]; /* sequencer registers per engine (ops/regs.c) */
    int ran;
    int has_fault;
    trn_fault fault;
    uint64_t count[TRN_ENGINE_COUNT];
    /* the instruction being executed */
    int cur;
    uint64_t wcount; /* elements written so far by it (SR counter) */
    void **tmp;      /* scratch allocations of the instruction, freed after it */
    size_t ntmp, captmp;
    /* several cores (chip layer) */
    int hbm_borrowed;   /* mem[TRN_MEM_HBM] belongs to another core (trn_core_create_shared) */
    int next;           /* next instruction of a step-wise run */
    trn_hbm_race *race; /* cross-core HBM race check (borrowed), or NULL */
    int race_index;     /* this core in it */
};

/* The cross-core HBM race check (mem.c): per HBM byte its last writer, and vector clocks. */
struct trn_hbm_race {
    int n;             /* cores */
    uint64_t bytes;    /* HBM bytes */
    uint32_t *vc;      /* n x n: vc[a * n + b] = epochs of core b that core a is after */
    uint32_t *wrec;    /* bytes: the last write's record + 1, 0 = never written */
    struct hbm_write { /* one record per instruction and core that wrote HBM */
        int32_t core, instr;
        uint32_t epoch; /* the writer's own epoch at the write */
    } * rec;
    uint32_t nrec, caprec;
    const trn_program **prog; /* n: each core's program (borrowed), for messages */
};

/* A resolved tile or tensor operand: the element at (partition p, free index f) of the
 * operand lives at byte part_base(p) + off[f] of its memory. */
typedef struct core_view {
    const trn_tensor *t;
    core_mem *m;
    const char *key; /* argument name, for messages */
    uint32_t p0;     /* first partition (memory partition index) */
    uint32_t P;      /* partitions (HBM: 1) */
    int64_t F;       /* elements per partition */
    uint32_t eb;     /* bytes per element */
    int64_t *off;    /* F byte offsets inside a partition (HBM: inside the memory) */
} core_view;

/* Every op: execute instruction c->cur of the program. */
typedef trn_status core_op_fn(trn_core *c, const trn_instr *in);

/* ---- exec.c ---------------------------------------------------------------------------- */

/* Records a fault of the current instruction (status TRN_E_FAULT or TRN_E_UNSUPPORTED) and
 * returns its status. */
trn_status core_fault(trn_core *c, trn_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Scratch memory released after the instruction; NULL (after recording TRN_E_NOMEM as the
 * caller's return) when allocation fails. */
void *core_tmp(trn_core *c, size_t bytes);
/* Operand `key` of the instruction, or NULL. */
const trn_operand *core_arg(trn_core *c, const trn_instr *in, const char *key);
/* Integer / bool / enum operand value, or `def` when absent. */
int64_t core_arg_int(trn_core *c, const trn_instr *in, const char *key, int64_t def);

/* ---- mem.c ----------------------------------------------------------------------------- */

trn_status core_mem_init(trn_core *c);
void core_mem_fini(trn_core *c);
/* Resolves AP operand `o` into `v`, checking it lies inside its tensor and memory (a fault
 * otherwise). */
trn_status core_view_of(trn_core *c, const trn_operand *o, const char *key, core_view *v);
/* Resolves operand `key`; TRN_E_FAULT (illegal operand) when absent or not a tile. */
trn_status core_view_arg(trn_core *c, const trn_instr *in, const char *key, core_view *v);
/* Element codes (container rule of num.h: low elem_bytes bytes) of the view, [P][F]; faults
 * on a byte never written (naming the first). */
trn_status core_load_codes(trn_core *c, const core_view *v, uint32_t *out);
/* FP32 values of the view, [P][F] (trn_cvt_to_f32); packed MX types are illegal operands. */
trn_status core_load_f32(trn_core *c, const core_view *v, float *out);
/* Writes codes [P][F] and marks the bytes written. */
void core_store_codes(trn_core *c, const core_view *v, const uint32_t *in);
/* Writes code i only where mask[i] != 0 (the other elements are neither read nor written). */
void core_store_codes_masked(trn_core *c, const core_view *v, const uint32_t *in,
                             const uint8_t *mask);
/* Converts FP32 values [P][F] to the view's dtype with the run's rounding (SR counter: the
 * instruction's write count) and stores them. Packed MX types are illegal operands. */
trn_status core_store_f32(trn_core *c, const core_view *v, const float *in);
/* A scalar operand (immediate or [P,1] tile) as one FP32 value per partition of a P-partition
 * operand: out[P]. An absent operand gives `def`. */
trn_status core_load_scalar(trn_core *c, const trn_instr *in, const char *key, uint32_t P,
                            float def, float *out);
/* Code of FP32 x in dtype t with the run's rounding, using SR word number c->wcount++. */
uint32_t core_encode(trn_core *c, trn_dtype t, float x);

/* ---- ops/ ------------------------------------------------------------------------------ */

/* ALU operator on FP32 values (docs/semantics.md); bitvec operators are not valid here. */
float core_alu_f32(trn_alu_op op, float a, float b);
/* Bitvec operator on 32-bit patterns. */
uint32_t core_alu_bits(trn_alu_op op, uint32_t a, uint32_t b);
/* Sign-extends an integer dtype's code to 32 bits (unsigned types zero-extend). */
uint32_t core_int_bits(trn_dtype t, uint32_t code);

core_op_fn core_op_dma_copy;
core_op_fn core_op_nc_matmul;
core_op_fn core_op_nc_matmul_mx;
core_op_fn core_op_nc_transpose;
core_op_fn core_op_activation;
core_op_fn core_op_tensor_tensor;
core_op_fn core_op_tensor_scalar;
core_op_fn core_op_tensor_copy;
core_op_fn core_op_memset;
core_op_fn core_op_tensor_reduce;
core_op_fn core_op_reciprocal;
core_op_fn core_op_quantize_mx;
core_op_fn core_op_tensor_partition_reduce;
core_op_fn core_op_iota;
core_op_fn core_op_affine_select;
core_op_fn core_op_activate2;
core_op_fn core_op_scalar_tensor_tensor;
core_op_fn core_op_tensor_scalar_reduce;
core_op_fn core_op_tensor_scalar_cumulative;
core_op_fn core_op_tensor_tensor_scan;
core_op_fn core_op_tensor_copy_predicated;
core_op_fn core_op_range_select;
core_op_fn core_op_select_reduce;
core_op_fn core_op_exponential;
core_op_fn core_op_bn_stats;
core_op_fn core_op_bn_aggr;
core_op_fn core_op_max8;
core_op_fn core_op_nc_find_index8;
core_op_fn core_op_nc_match_replace8;
core_op_fn core_op_nc_stream_shuffle;
core_op_fn core_op_rng;
core_op_fn core_op_set_rng_seed;
core_op_fn core_op_rand2;
core_op_fn core_op_rand_set_state;
core_op_fn core_op_rand_get_state;
core_op_fn core_op_dropout;
core_op_fn core_op_nc_n_gather;
core_op_fn core_op_nonzero_with_count;
core_op_fn core_op_dma_transpose;
core_op_fn core_op_dma_compute;
core_op_fn core_op_local_gather;
core_op_fn core_op_sequence_bounds;
core_op_fn core_op_topk;
core_op_fn core_op_register_alloc;
core_op_fn core_op_register_move;
core_op_fn core_op_register_load;
core_op_fn core_op_register_store;

#endif

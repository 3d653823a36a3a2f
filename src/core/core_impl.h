/* Private header of the core layer's functional part: the core's memories, resolved
 * operands ("views"), the load/store helpers every instruction uses, and one function per
 * executed instruction (src/core/ops/, dispatched from exec.c). Timing lives elsewhere. */
#ifndef TRN_CORE_IMPL_H
#define TRN_CORE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "trnsim/core.h"

/* Scratch blocks larger than this are freed after their instruction rather than kept for the
 * next (an implementation capacity, not a hardware number). */
#define CORE_TMP_KEEP_BYTES ((size_t)16 << 20)

/* Sequencer registers the simulator holds per engine (an implementation capacity, not a
 * hardware number: the catalog's registers_per_engine, 64 on every version, must not exceed it). */
#define CORE_MAX_REGS 256

/* One memory: bytes and a per-byte written shadow: a byte is written when its shadow equals gen
 * (1 .. 255), and only then are its bytes observed (loads fault on the others,
 * trn_core_tensor_read gives 0). A reused core (trn_core_reuse) forgets every write at once by
 * moving gen on: every shadow value is <= gen, so none equals gen + 1; when gen would wrap the
 * shadow is zeroed and gen starts again at 1. A core that borrows another's HBM copies this
 * struct, gen included: the owner's gen must not move while it is borrowed. */
typedef struct core_mem {
    uint8_t *data;
    uint8_t *written;
    uint64_t part_bytes; /* SBUF/PSUM: bytes per partition; HBM: total bytes */
    uint32_t parts;      /* SBUF/PSUM: partitions; HBM: 1 */
    size_t cap;          /* bytes allocated for data and for written (>= parts x part_bytes) */
    uint8_t gen;
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
    /* scratch blocks: tmp[0, ntmp) handed to the current instruction, tmp[ntmp, nblk) free
     * for the next (kept across instructions and trn_core_reuse, up to CORE_TMP_KEEP_BYTES) */
    struct core_block {
        void *p;
        size_t bytes;
    } * tmp;
    size_t ntmp, nblk, captmp;
    /* several cores (chip layer) */
    int hbm_borrowed;   /* mem[TRN_MEM_HBM] belongs to another core (trn_core_create_shared) */
    core_mem hbm_spare; /* the core's own HBM while it borrows another's (trn_core_reuse) */
    int next;           /* next instruction of a step-wise run */
    trn_hbm_race *race; /* cross-core HBM race check (borrowed), or NULL */
    int race_index;     /* this core in it */
    int dma_ref;        /* tests only: a same-dtype dma_copy through the code path, its reference
                           (ops/dma.c); trn_core_reuse clears it */
    uint64_t dma_fast;  /* dma_copy moves done as byte copies (ops/dma.c), for tests */
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
    /* F byte offsets inside a partition (HBM: inside the memory); NULL for an HBM view of
     * consecutive elements (a DMA's HBM side can be the whole transfer, and its offsets would
     * cost more than its data): read offsets with core_view_off */
    int64_t *off;
    int64_t off0; /* the byte offset of element 0 as resolved */
    /* off as resolved when its first lin_F offsets are consecutive elements (off[f] = off0 +
     * f x eb), else NULL. The row-at-a-time paths of mem.c run only while v->off == lin and
     * v->F <= lin_F, so an op that narrows a copy of the view or points it at its own offsets
     * (pool_kernels.c) gets the element-wise path. */
    const int64_t *lin;
    int64_t lin_F;
} core_view;

/* The byte offset of element f of view v (see core_view.off). */
static inline int64_t core_view_off(const core_view *v, int64_t f) {
    return v->off ? v->off[f] : v->off0 + f * (int64_t)v->eb;
}

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
 * caller's return) when allocation fails. Its contents are indeterminate, as malloc's. */
void *core_tmp(trn_core *c, size_t bytes);
/* Releases every scratch block of the instruction. */
void core_tmp_reset(trn_core *c);
/* Operand `key` of the instruction, or NULL. */
const trn_operand *core_arg(trn_core *c, const trn_instr *in, const char *key);
/* Integer / bool / enum operand value, or `def` when absent. */
int64_t core_arg_int(trn_core *c, const trn_instr *in, const char *key, int64_t def);

/* ---- mem.c ----------------------------------------------------------------------------- */

trn_status core_mem_init(trn_core *c);
void core_mem_fini(trn_core *c);
/* Forgets every write to m (moves gen on). */
void core_mem_clear(core_mem *m);
/* Lays memory m out as `parts` x `part_bytes` with nothing written (m cleared first), growing
 * its allocation when needed. TRN_E_NOMEM (m then holds no memory). */
trn_status core_mem_layout(core_mem *m, uint32_t parts, uint64_t part_bytes);
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
/* The reference element-by-element forms of core_load_codes and core_store_codes, which take
 * whole rows at a time where the view allows it (tests/test_runtime_reuse.c compares them). */
trn_status core_load_codes_ref(trn_core *c, const core_view *v, uint32_t *out);
void core_store_codes_ref(trn_core *c, const core_view *v, const uint32_t *in);
/* 1 when the n written-shadow bytes at w all equal generation g. */
int core_all_written(const uint8_t *w, size_t n, uint8_t g);
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
/* out[i] = core_encode(c, t, in[i]) for i < n, in order; BF16 and FP32 under RNE without
 * saturation take a direct bit path (tests/test_runtime_reuse.c checks it against core_encode). */
void core_encode_f32s(trn_core *c, trn_dtype t, const float *in, uint32_t *out, size_t n);
/* out[i] = trn_cvt_from_f32(t, in[i], &TRN_CVT_RNE, 0), BF16 and FP32 by the same bit paths. */
void core_encode_rne(trn_dtype t, const float *in, uint32_t *out, size_t n);
/* out[i] = trn_cvt_to_f32(t, codes[i]) for i < n; BF16 and FP32 by their bits (checked against
 * trn_cvt_to_f32 for every BF16 code). */
void core_decode_codes(trn_dtype t, const uint32_t *codes, float *out, size_t n);

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

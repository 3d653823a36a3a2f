/* trnsim isa layer: the NeuronCore instruction set (one table, src/isa/isa.def), the program IR
 * the core simulator executes, the `.tasm` assembler and disassembler, the verifier and the
 * binary program format `.tprog`.
 *
 * A program is one sequential instruction stream in program order, with NKI's names
 * (`nki.isa`). Every instruction carries the engine it runs on (the row's default, or the one
 * named with `engine=`); splitting the stream into per-engine queues with semaphores is the
 * core's scheduler's job and is deliberately left out here, as are instruction semantics and
 * timing (the cost rule of each row is only named, the formulas live in the core).
 *
 * Shapes and offsets are in elements unless a name says `_bytes`. On-chip tensors (SBUF,
 * PSUM) have the partition dimension first; their address is a byte offset inside every
 * partition. HBM tensors are flat with a byte address. */
#ifndef TRNSIM_ISA_H
#define TRNSIM_ISA_H

#include <stdint.h>
#include <stdio.h>

#include "trnsim/base.h"
#include "trnsim/hw.h"
#include "trnsim/num.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the instruction table ------------------------------------------------------------- */

/* One opcode per row of src/isa/isa.def (trainium-facts.md §3.3), in table order. The table
 * is private; src/isa/table.c fails to compile unless every row names one of these ids and
 * the counts agree, and tests/test_isa_table.c checks the order. */
typedef enum trn_opcode {
    TRN_OP_NC_MATMUL,
    TRN_OP_NC_MATMUL_MX,
    TRN_OP_NC_TRANSPOSE,
    TRN_OP_ACTIVATION,
    TRN_OP_ACTIVATION_REDUCE,
    TRN_OP_ACTIVATE2,
    TRN_OP_TENSOR_TENSOR,
    TRN_OP_TENSOR_SCALAR,
    TRN_OP_SCALAR_TENSOR_TENSOR,
    TRN_OP_TENSOR_SCALAR_REDUCE,
    TRN_OP_TENSOR_SCALAR_CUMULATIVE,
    TRN_OP_TENSOR_TENSOR_SCAN,
    TRN_OP_TENSOR_REDUCE,
    TRN_OP_TENSOR_PARTITION_REDUCE,
    TRN_OP_TENSOR_COPY,
    TRN_OP_TENSOR_COPY_PREDICATED,
    TRN_OP_MEMSET,
    TRN_OP_IOTA,
    TRN_OP_AFFINE_SELECT,
    TRN_OP_RANGE_SELECT,
    TRN_OP_SELECT_REDUCE,
    TRN_OP_DROPOUT,
    TRN_OP_RNG,
    TRN_OP_SET_RNG_SEED,
    TRN_OP_RAND2,
    TRN_OP_RAND_SET_STATE,
    TRN_OP_RAND_GET_STATE,
    TRN_OP_RECIPROCAL,
    TRN_OP_EXPONENTIAL,
    TRN_OP_QUANTIZE_MX,
    TRN_OP_BN_STATS,
    TRN_OP_BN_AGGR,
    TRN_OP_MAX8,
    TRN_OP_NC_FIND_INDEX8,
    TRN_OP_NC_MATCH_REPLACE8,
    TRN_OP_NC_STREAM_SHUFFLE,
    TRN_OP_LOCAL_GATHER,
    TRN_OP_NC_N_GATHER,
    TRN_OP_SEQUENCE_BOUNDS,
    TRN_OP_NONZERO_WITH_COUNT,
    TRN_OP_TOPK,
    TRN_OP_DMA_COPY,
    TRN_OP_DMA_TRANSPOSE,
    TRN_OP_DMA_COMPUTE,
    TRN_OP_REGISTER_ALLOC,
    TRN_OP_REGISTER_MOVE,
    TRN_OP_REGISTER_LOAD,
    TRN_OP_REGISTER_STORE,
    TRN_OP_CORE_BARRIER,
    TRN_OP_SENDRECV,
    TRN_OP_COUNT
} trn_opcode;

/* Engines (profiler names in comments). A DMA instruction's engine is the sequencer that
 * issues it: DMA (default: the scheduler picks the queues), SP or ACT (hardware DGE), POOL
 * (software DGE). */
typedef enum trn_engine {
    TRN_ENGINE_PE,   /* TensorE, "tensor" */
    TRN_ENGINE_ACT,  /* ScalarE, "scalar" */
    TRN_ENGINE_DVE,  /* VectorE, "vector" */
    TRN_ENGINE_POOL, /* GpSimdE, "gpsimd" */
    TRN_ENGINE_SP,   /* Sync engine, "sync" */
    TRN_ENGINE_DMA,  /* the DMA queues, "dma" */
    TRN_ENGINE_COUNT
} trn_engine;

/* Cost rules: which formula of trainium-facts.md §3.4 gives an instruction's duration (the
 * formulas themselves are in docs/isa.md and the core's timing model). N = elements per
 * partition of the main input. */
typedef enum trn_cost {
    TRN_COST_MATMUL,       /* max(min(64, N_stationary), N_moving); FP32 x4 */
    TRN_COST_MATMUL_MX,    /* as MATMUL, K = 512 per pass (MX quad rate) */
    TRN_COST_TRANSPOSE,    /* PE: max(P, min(64, F)); DVE: max(MIN_II, N) */
    TRN_COST_ACT,          /* max(MIN_II, N) */
    TRN_COST_ACT_REDUCE,   /* max(MIN_II, N) + MIN_II */
    TRN_COST_DVE_1IN,      /* max(MIN_II, N), with the v3/v4 BF16 performance modes */
    TRN_COST_DVE_2IN,      /* tensor_tensor: max(MIN_II, N) or max(MIN_II, 2N) */
    TRN_COST_STT,          /* scalar_tensor_tensor: N or 2N */
    TRN_COST_SCAN,         /* max(MIN_II, 2N) */
    TRN_COST_REDUCE,       /* N/2 (BF16 add/max) or N */
    TRN_COST_COPY_PRED,    /* max(MIN_II, N) split SBUF/PSUM, else max(MIN_II, 2N) */
    TRN_COST_MEMSET,       /* max(MIN_II, N/2) for 0 in BF16/FP16, else max(MIN_II, N) */
    TRN_COST_RECIPROCAL,   /* max(MIN_II, 8N) */
    TRN_COST_BN_AGGR,      /* max(MIN_II, 13N/3) */
    TRN_COST_N,            /* N (max8, nc_find_index8, nc_match_replace8) */
    TRN_COST_EXPONENTIAL,  /* max(MIN_II, N/4): 4x ScalarE exp (v4) */
    TRN_COST_QUANTIZE_MX,  /* max(MIN_II, N/4): 4 elements per partition per cycle */
    TRN_COST_POOL,         /* GPSIMD_START + N */
    TRN_COST_LOCAL_GATHER, /* GPSIMD_START + n_idx k / C */
    TRN_COST_TOPK,         /* 4n + K */
    TRN_COST_DMA,          /* DMA model of §3.6 (fixed cost, bytes per partition) */
    TRN_COST_SEQ,          /* sequencer-only: a fixed static overhead */
    TRN_COST_COUNT
} trn_cost;

/* Kinds of `key=value` arguments. */
typedef enum trn_argkind {
    TRN_ARG_AP_IN,      /* tensor or tile read: `name` or `name[slices]` */
    TRN_ARG_AP_OUT,     /* tensor or tile written */
    TRN_ARG_AP_LIST,    /* list of tensors read: `[a, b[0:4]]` (up to 16) */
    TRN_ARG_SCALAR,     /* immediate number, or a [P, 1] tile read */
    TRN_ARG_FLOAT,      /* immediate number only */
    TRN_ARG_INT,        /* integer expression */
    TRN_ARG_BOOL,       /* true / false */
    TRN_ARG_ALU,        /* ALU operator (trn_alu_op) */
    TRN_ARG_ACT,        /* activation function (trn_act_func) */
    TRN_ARG_ENUM,       /* keyword of a small enum (trn_isa_enum) */
    TRN_ARG_INT_LIST,   /* tuple of integer expressions: `(64, 0)` or `[1, 2]` or `3` */
    TRN_ARG_PATTERN,    /* access pattern [[step, num], ...] (up to 4 pairs) */
    TRN_ARG_FLOAT_LIST, /* list of immediate numbers */
    TRN_ARG_REG,        /* a virtual register name */
    TRN_ARG_REG_DEF,    /* defines a virtual register name (register_alloc) */
    TRN_ARG_REG_OR_INT, /* virtual register or integer expression */
    TRN_ARGKIND_COUNT
} trn_argkind;

/* Memories, also used as bit masks (1 << mem). */
typedef enum trn_mem { TRN_MEM_HBM, TRN_MEM_SBUF, TRN_MEM_PSUM, TRN_MEM_COUNT } trn_mem;

/* Keyword enums of NKI (nki.isa.*). Values are the index in the enum's name list. */
typedef enum trn_isa_enum {
    TRN_ENUM_PERF_MODE,  /* none, double_row */
    TRN_ENUM_REDUCE_CMD, /* idle, reset, reduce, reset_reduce, load_reduce */
    TRN_ENUM_DGE_MODE,   /* unknown, none, swdge, hwdge */
    TRN_ENUM_OOB_MODE,   /* error, skip */
    TRN_ENUM_DMA_ENGINE, /* dma, gpsimd_dma */
    TRN_ENUM_COUNT
} trn_isa_enum;
enum { TRN_PERF_NONE, TRN_PERF_DOUBLE_ROW };
enum {
    TRN_REDUCE_CMD_IDLE,
    TRN_REDUCE_CMD_RESET,
    TRN_REDUCE_CMD_REDUCE,
    TRN_REDUCE_CMD_RESET_REDUCE,
    TRN_REDUCE_CMD_LOAD_REDUCE
};
enum { TRN_DGE_UNKNOWN, TRN_DGE_NONE, TRN_DGE_SWDGE, TRN_DGE_HWDGE };
enum { TRN_OOB_ERROR, TRN_OOB_SKIP };
enum { TRN_DMA_ENGINE_DMA, TRN_DMA_ENGINE_GPSIMD_DMA };

/* ALU operators, NKI names (nl.add ...). Arithmetic ones compute in FP32; bitvec ones treat
 * integers as bit patterns (VectorE only). */
typedef enum trn_alu_op {
    TRN_ALU_BYPASS,
    TRN_ALU_ADD,
    TRN_ALU_SUBTRACT,
    TRN_ALU_MULTIPLY,
    TRN_ALU_DIVIDE,
    TRN_ALU_MAXIMUM,
    TRN_ALU_MINIMUM,
    TRN_ALU_POWER,
    TRN_ALU_MOD,
    TRN_ALU_ABS,
    TRN_ALU_ABS_MAX,
    TRN_ALU_ABS_MIN,
    TRN_ALU_AVERAGE,
    TRN_ALU_RSQRT,
    TRN_ALU_EQUAL,
    TRN_ALU_NOT_EQUAL,
    TRN_ALU_GREATER,
    TRN_ALU_GREATER_EQUAL,
    TRN_ALU_LESS,
    TRN_ALU_LESS_EQUAL,
    TRN_ALU_LOGICAL_AND,
    TRN_ALU_LOGICAL_OR,
    TRN_ALU_LOGICAL_XOR,
    TRN_ALU_LOGICAL_NOT,
    TRN_ALU_BITWISE_AND, /* first bitvec operator */
    TRN_ALU_BITWISE_OR,
    TRN_ALU_BITWISE_XOR,
    TRN_ALU_INVERT,
    TRN_ALU_LEFT_SHIFT,
    TRN_ALU_RIGHT_SHIFT,
    TRN_ALU_ARITH_SHIFT_RIGHT,
    TRN_ALU_COUNT
} trn_alu_op;

/* Activation functions of ScalarE, NKI names (nl.exp ...). */
typedef enum trn_act_func {
    TRN_ACT_COPY, /* also "identity" */
    TRN_ACT_EXP,
    TRN_ACT_LOG,
    TRN_ACT_TANH,
    TRN_ACT_SIGMOID,
    TRN_ACT_RELU,
    TRN_ACT_GELU,
    TRN_ACT_GELU_APPRX_TANH,
    TRN_ACT_GELU_APPRX_SIGMOID,
    TRN_ACT_GELU_DX,
    TRN_ACT_SILU,
    TRN_ACT_SILU_DX,
    TRN_ACT_MISH,
    TRN_ACT_SOFTPLUS,
    TRN_ACT_ERF,
    TRN_ACT_ERF_DX,
    TRN_ACT_SQRT,
    TRN_ACT_RSQRT,
    TRN_ACT_RECIPROCAL,
    TRN_ACT_SQUARE,
    TRN_ACT_SIN,
    TRN_ACT_COS,
    TRN_ACT_ARCTAN,
    TRN_ACT_SIGN,
    TRN_ACT_ABS,
    TRN_ACT_COUNT
} trn_act_func;

/* Flags of an argument spec. */
enum {
    TRN_ARGF_REQUIRED = 1, /* must be given */
    TRN_ARGF_SAME = 2,     /* AP: same partitions and elements per partition as `dst` */
    TRN_ARGF_VECTOR = 4,   /* AP: a [P, 1] tile (P = the partitions of the main input) */
    TRN_ARGF_MAIN = 8,     /* AP: the main input (its free size is the cost rule's N) */
};

/* Data type classes of an AP argument (bit masks over trn_dtype, see trn_isa_dtype_ok). */
typedef enum trn_dtclass {
    TRN_DT_ANY,     /* any tensor dtype */
    TRN_DT_FLOAT,   /* floating point */
    TRN_DT_INT,     /* integers */
    TRN_DT_MM_IN,   /* matmul inputs: fp8 (legacy e4m3, e5m2, e3m4; OCP e4m3 v4+), bf16, f16, tf32,
                       f32 */
    TRN_DT_MM_OUT,  /* matmul output in PSUM: f32 (bf16 on v4+) */
    TRN_DT_MX,      /* MX x4-packed: fp8_e4m3_x4, fp8_e5m2_x4, fp4_e2m1_x4 (v4+) */
    TRN_DT_SCALE,   /* MX scales: uint8 or e8m0 */
    TRN_DT_UINT,    /* uint8/16/32 (predicates) */
    TRN_DT_U16,     /* uint16 (local_gather indices) */
    TRN_DT_U32,     /* uint32 */
    TRN_DT_IDX,     /* uint16 or uint32 (nc_find_index8 output) */
    TRN_DT_I32,     /* int32 */
    TRN_DT_F32I32,  /* float32 or int32 */
    TRN_DT_BF16,    /* bfloat16 */
    TRN_DT_F16BF16, /* float16 or bfloat16 */
    TRN_DT_FP8,     /* x4-packed MX fp8: fp8_e4m3_x4, fp8_e5m2_x4 (quantize_mx output) */
    TRN_DT_COUNT
} trn_dtclass;

/* One `key=value` argument of an instruction row. */
typedef struct trn_isa_arg {
    const char *key; /* NKI name: "dst", "stationary" ... */
    trn_argkind kind;
    uint8_t mems;      /* AP kinds: allowed memories, bit (1 << trn_mem) */
    trn_dtclass dtype; /* AP kinds: allowed data types */
    int enum_id;       /* TRN_ARG_ENUM: the trn_isa_enum; else -1 */
    unsigned flags;    /* TRN_ARGF_* */
} trn_isa_arg;

/* One row of the instruction table. */
typedef struct trn_isa_op {
    const char *name;  /* assembler keyword = NKI name ("nc_matmul") */
    trn_engine engine; /* default engine */
    unsigned engines;  /* allowed engines, bit (1 << trn_engine), default included */
    int min_version;   /* minimum NeuronCore version (2, 3, 4) */
    trn_cost cost;     /* cost rule */
    int nargs;
    const trn_isa_arg *args; /* nargs rows, in NKI signature order */
} trn_isa_op;

/* The row of opcode `op` (NULL when out of range). */
const trn_isa_op *trn_isa_op_get(trn_opcode op);
/* The opcode of an assembler keyword, or -1. */
int trn_isa_op_find(const char *name);
/* Index of argument `key` in row `op`, or -1. */
int trn_isa_arg_find(trn_opcode op, const char *key);

/* Names: canonical lower-case names as the assembler prints them. Never NULL ("?" when out
 * of range). */
const char *trn_engine_name(trn_engine e);   /* "tensor", "scalar", "vector", "gpsimd" ... */
const char *trn_engine_short(trn_engine e);  /* profiler names: "PE", "ACT", "DVE", "Pool" ... */
const char *trn_mem_name(trn_mem m);         /* "hbm", "sbuf", "psum" */
const char *trn_alu_name(trn_alu_op op);     /* "add", "subtract" ... */
const char *trn_act_name(trn_act_func f);    /* "exp", "relu" ... */
const char *trn_cost_name(trn_cost c);       /* "matmul", "dve_1in" ... */
const char *trn_cost_formula(trn_cost c);    /* the §3.4 formula in words */
const char *trn_argkind_name(trn_argkind k); /* "tile", "scalar" ... */
const char *trn_dtclass_name(trn_dtclass c); /* "any", "matmul input" ... */
const char *trn_isa_enum_name(trn_isa_enum e);
/* Value name of keyword enum `e`, or NULL when `v` is out of range. */
const char *trn_isa_enum_value(trn_isa_enum e, int v);
int trn_isa_enum_count(trn_isa_enum e);
/* 1 for the bitvec operators (integers as bit patterns). */
int trn_alu_is_bitvec(trn_alu_op op);
/* Lookups of names (an "nl." / "nisa." / "<enum>." prefix is ignored, aliases accepted:
 * "max" = maximum, "mult" = multiply, "identity" = copy, "pe" = tensor ...); -1 if unknown. */
int trn_engine_find(const char *name);
int trn_alu_find(const char *name);
int trn_act_find(const char *name);
int trn_isa_enum_find(trn_isa_enum e, const char *name);

/* Whether dtype `t` (x4-packed when `packed`) belongs to class `c` on NeuronCore version
 * `version`. */
int trn_isa_dtype_ok(trn_dtclass c, trn_dtype t, int packed, int version);

/* Writes docs/isa.md: the language, the IR, the .tprog format and one section per table
 * (instructions with their arguments, ALU operators, activation functions, enums, cost
 * rules). tests/test_isa_doc.c checks the committed file is this output. */
void trn_isa_doc(FILE *f);

/* ---- the program IR -------------------------------------------------------------------- */

#define TRN_MAX_RANK       5 /* tensor rank: partition + 4 free dims on chip; HBM any 5 */
#define TRN_MAX_PARTITIONS 128
#define TRN_MAX_WAITS      4  /* wait= per instruction (advanced mode) */
#define TRN_MAX_SIGNALS    4  /* signal= per instruction */
#define TRN_MAX_LIST       32 /* entries of an int or float list (shuffle_mask has 32) */
#define TRN_MAX_AP_LIST    16 /* tensors of an AP list (dma_compute srcs) */
#define TRN_NAME_MAX       64 /* bytes of a name, NUL included */
/* Allocation alignment of on-chip tensors inside a partition and of HBM tensors. The public
 * record gives sbuf_min_align/psum_min_align names but not values (trainium-facts §3.2):
 * assumed 64 bytes. PSUM tensors are also placed so that none straddles a 2 KiB bank unless it
 * is larger than a bank (then it starts on a bank boundary). */
#define TRN_ALIGN_BYTES     64
#define TRN_PSUM_BANK_BYTES 2048 /* AG2: 8 banks x 2 KiB per partition */

typedef enum trn_tensor_role {
    TRN_ROLE_INPUT,  /* .input: HBM, given by the caller */
    TRN_ROLE_OUTPUT, /* .output: HBM, returned to the caller */
    TRN_ROLE_HBM,    /* .hbm: HBM scratch */
    TRN_ROLE_TILE,   /* .sbuf / .psum: on-chip */
    TRN_ROLE_COUNT
} trn_tensor_role;

/* A declared tensor. */
typedef struct trn_tensor {
    char name[TRN_NAME_MAX];
    trn_mem mem;
    trn_tensor_role role;
    trn_dtype dtype;
    uint8_t packed; /* 1 for the MX x4-packed types (4 codes per element), else 0 */
    uint8_t rank;   /* 1..TRN_MAX_RANK; on chip, dim 0 is the partition dimension */
    uint8_t placed; /* on chip: 1 when the declaration gave offset= (addr is that offset) */
    int64_t shape[TRN_MAX_RANK];
    uint32_t elem_bytes; /* bytes of one element (4 codes for packed types) */
    uint64_t addr;       /* HBM: byte address; SBUF/PSUM: byte offset inside each partition */
    uint64_t bytes;      /* HBM: total bytes; SBUF/PSUM: bytes per partition */
    uint32_t line;       /* source line of the declaration */
} trn_tensor;

/* What one subscript of a tensor dimension selects, as written (kept so the disassembler
 * prints the operand back exactly). */
typedef struct trn_sel {
    int32_t start; /* first index */
    int32_t num;   /* elements selected (1 for an index) */
    int32_t step;  /* > 0 */
    int32_t index; /* 1: an integer index (the dimension is dropped, except a partition dim) */
} trn_sel;

/* An access pattern: where an operand lives and in which order its elements are visited.
 * The derived fields follow from `sel` and the tensor shape (trn_ap_resolve). */
typedef struct trn_ap {
    int32_t tensor;            /* index in trn_program.tensors */
    trn_sel sel[TRN_MAX_RANK]; /* one per tensor dimension */
    /* derived */
    uint16_t part_start; /* on chip: first partition; HBM: 0 */
    uint16_t part_count; /* on chip: partitions (contiguous); HBM: 1 */
    int64_t offset;      /* elements from the tensor start (on chip: inside a partition) */
    uint8_t nfree;       /* free dims, outermost first (HBM: every kept dim) */
    struct {
        int32_t num;  /* elements */
        int64_t step; /* elements */
    } free[TRN_MAX_RANK];
} trn_ap;

/* One argument of a decoded instruction. */
typedef struct trn_operand {
    uint8_t key;  /* index of the argument in the row (trn_isa_op.args) */
    uint8_t kind; /* trn_argkind of the value actually given (SCALAR args: TRN_ARG_AP_IN or
                     TRN_ARG_FLOAT; REG_OR_INT args: TRN_ARG_REG or TRN_ARG_INT) */
    uint16_t col; /* source column of the key */
    union {
        trn_ap ap;  /* AP_IN, AP_OUT (an AP_LIST argument is several operands with one key) */
        double imm; /* FLOAT */
        int64_t i;  /* INT, BOOL (0/1), ALU, ACT, ENUM (value index), REG (register index) */
        struct {
            uint32_t first, count; /* INT_LIST, PATTERN (pairs step, num): in trn_program.ints;
                                      FLOAT_LIST: in trn_program.floats */
        } list;
    } u;
} trn_operand;

/* A decoded instruction. */
typedef struct trn_instr {
    trn_opcode op;
    trn_engine engine;
    uint32_t line, col;   /* source position of the keyword */
    uint32_t arg0, nargs; /* operands trn_program.args[arg0 .. arg0 + nargs), in row order */
    uint8_t nwait, nsignal;
    struct {
        uint16_t sem;   /* index in trn_program.sems */
        uint32_t value; /* wait until the semaphore is >= value */
    } wait[TRN_MAX_WAITS];
    uint16_t signal[TRN_MAX_SIGNALS]; /* semaphores incremented when the instruction retires */
} trn_instr;

typedef struct trn_param {
    char name[TRN_NAME_MAX];
    int64_t value; /* final value (after --param overrides) */
} trn_param;

typedef struct trn_program {
    char name[TRN_NAME_MAX];      /* .kernel */
    char *source_path;            /* file it was assembled from (malloc'd) */
    int core_version;             /* NeuronCore version it was assembled for (2, 3, 4 ...) */
    int manual_sync;              /* 1 after `.sync manual` (advanced mode) */
    int program_id, num_programs; /* SPMD launch values the expressions saw */
    int nparams, ntensors, ninstrs, nsems, nregs;
    uint32_t nargs, nints, nfloats;
    trn_param *params;
    trn_tensor *tensors;
    trn_instr *instrs;          /* program order */
    trn_operand *args;          /* operand pool */
    int64_t *ints;              /* int list pool */
    double *floats;             /* float list pool */
    char (*sems)[TRN_NAME_MAX]; /* semaphore names (advanced mode), in order of first use */
    char (*regs)[TRN_NAME_MAX]; /* virtual register names, in order of definition */
    uint64_t sbuf_bytes;        /* allocated per partition */
    uint64_t psum_bytes;        /* allocated per partition */
    uint64_t hbm_bytes;         /* allocated in HBM */
} trn_program;

/* The hardware numbers the verifier checks against. */
typedef struct trn_isa_target {
    int version;         /* 2 = NeuronCore-v2 (Trn1) ... */
    const char *name;    /* "v3" */
    uint32_t partitions; /* 128 */
    uint64_t sbuf_bytes_per_partition;
    uint64_t psum_bytes_per_partition;
    uint32_t psum_banks;
    uint32_t matmul_n_max;           /* moving free size, FP32 PSUM */
    uint32_t matmul_n_max_bf16_psum; /* with BF16 PSUM (0 when unsupported) */
    uint32_t registers_per_engine;   /* 32-bit sequencer registers of each engine */
    /* cost figures the compiler weighs plans with (the catalog's, hw/neuroncores.json) */
    double dma_bps;            /* practical aggregate DMA bytes/s of a core */
    double dma_transpose_frac; /* dma_transpose HBM->SBUF rate / DMA rate (0: none, v2) */
    double pe_hz;              /* TensorE clock */
} trn_isa_target;

/* Fills `t` from a core version of the catalog (borrowed; its name "vN" gives the version). */
trn_status trn_isa_target_from_core(const trn_hw_core *core, trn_isa_target *t, trn_err *err);

/* Options of the assembler. */
typedef struct trn_asm_opts {
    const trn_param *overrides; /* --param values (borrowed), n_overrides of them */
    int n_overrides;
    int core_version; /* 2, 3, 4 ...; 0 = take `.core` from the file, else 3 */
    int num_programs; /* --grid N; 0 = take `.grid` from the file, else 1 */
    int program_id;   /* --program-id I (0 <= I < N) */
} trn_asm_opts;

/* Assembles `.tasm` text (borrowed, NUL-terminated; `path` names it in messages) into a new
 * program (*out, taken by the caller: trn_program_destroy), unrolling loops, evaluating
 * expressions and allocating on-chip tensors. `opts` may be NULL. Errors: TRN_E_PARSE with
 * "path:line:col: what was expected" (syntax, unknown names, slices out of range, missing
 * arguments), TRN_E_INVALID for an override naming no `.param`, TRN_E_NOMEM. */
trn_status trn_program_assemble(const char *text, const char *path, const trn_asm_opts *opts,
                                trn_program **out, trn_err *err);
/* Reads and assembles a file. */
trn_status trn_program_assemble_file(const char *path, const trn_asm_opts *opts, trn_program **out,
                                     trn_err *err);
void trn_program_destroy(trn_program *p); /* NULL is a no-op */

/* Checks the program against the hardware (§2.3-§2.6): partition counts and start partitions,
 * SBUF/PSUM totals, matmul shapes and PSUM banks, engine/memory legality, data types and modes
 * of the core version, operand shapes. The first violation gives TRN_E_INVALID with
 * "path:line:col: what, and the limit". */
trn_status trn_program_verify(const trn_program *p, const trn_isa_target *t, trn_err *err);

/* Recomputes the derived fields of `ap` from its selections and tensor `t` (borrowed). */
void trn_ap_resolve(trn_ap *ap, const trn_tensor *t);
/* Elements of the operand (partitions x free). */
int64_t trn_ap_elems(const trn_ap *ap);
/* Elements per partition (product of the free dims). */
int64_t trn_ap_free_elems(const trn_ap *ap);

/* The operand of argument `key` (row index, trn_isa_arg_find) of instruction `in`, or NULL
 * when absent. For AP lists, the first one. */
const trn_operand *trn_instr_arg(const trn_program *p, const trn_instr *in, int key);

/* .tprog: version TRN_TPROG_VERSION, little-endian (layout in docs/isa.md). */
#define TRN_TPROG_VERSION 2
/* Serializes `p` into a malloc'd buffer (*data taken by the caller, free()). */
trn_status trn_program_to_tprog(const trn_program *p, void **data, size_t *size_bytes,
                                trn_err *err);
/* Parses a .tprog image (borrowed); `name` names it in messages. TRN_E_PARSE for a wrong
 * magic, a future version, a bad checksum, a truncated or inconsistent file. */
trn_status trn_program_from_tprog(const void *data, size_t size_bytes, const char *name,
                                  trn_program **out, trn_err *err);
trn_status trn_program_write_tprog(const trn_program *p, const char *path, trn_err *err);
trn_status trn_program_read_tprog(const char *path, trn_program **out, trn_err *err);

/* Prints `.tasm` that assembles back to the identical program (and .tprog bytes): directives
 * `.core`, `.grid`, `.sync`, `.source` and `.loc LINE COL` keep what the text alone would
 * lose. */
void trn_program_disasm(const trn_program *p, FILE *f);

#ifdef __cplusplus
}
#endif
#endif

/* The instruction table (isa.def expanded into rows and argument specs) and every name table
 * of the layer: engines, memories, ALU operators, activation functions, keyword enums, cost
 * rules, data type classes. Lookups accept NKI spellings with their module prefix ("nl.add",
 * "nisa.reduce_cmd.reset") and a few aliases. */
#include <string.h>
#include <strings.h>

#include "isa_impl.h"

/* ---- rows ------------------------------------------------------------------------------ */

#define PE   (1u << TRN_ENGINE_PE)
#define ACT  (1u << TRN_ENGINE_ACT)
#define DVE  (1u << TRN_ENGINE_DVE)
#define POOL (1u << TRN_ENGINE_POOL)
#define SP   (1u << TRN_ENGINE_SP)
#define DMA  (1u << TRN_ENGINE_DMA)
#define M_H  (1u << TRN_MEM_HBM)
#define M_S  (1u << TRN_MEM_SBUF)
#define M_P  (1u << TRN_MEM_PSUM)
#define M_SP (M_S | M_P)
#define M_HS (M_H | M_S)
#define R    TRN_ARGF_REQUIRED
#define SAME TRN_ARGF_SAME
#define VEC  TRN_ARGF_VECTOR
#define MAIN TRN_ARGF_MAIN

#define A_(k, kind, m, dt, en, fl) {#k, TRN_ARG_##kind, (uint8_t)(m), dt, en, (unsigned)(fl)},
#define OUT(k, m, dt, fl)          A_(k, AP_OUT, M_##m, TRN_DT_##dt, -1, fl)
#define IN(k, m, dt, fl)           A_(k, AP_IN, M_##m, TRN_DT_##dt, -1, fl)
#define INS(k, m, dt, fl)          A_(k, AP_LIST, M_##m, TRN_DT_##dt, -1, fl)
#define SC(k, fl)                  A_(k, SCALAR, M_SP, TRN_DT_ANY, -1, fl)
#define FL(k, fl)                  A_(k, FLOAT, 0, TRN_DT_ANY, -1, fl)
#define INT(k, fl)                 A_(k, INT, 0, TRN_DT_ANY, -1, fl)
#define BO(k, fl)                  A_(k, BOOL, 0, TRN_DT_ANY, -1, fl)
#define ALU(k, fl)                 A_(k, ALU, 0, TRN_DT_ANY, -1, fl)
#define ACTF(k, fl)                A_(k, ACT, 0, TRN_DT_ANY, -1, fl)
#define EN(k, e, fl)               A_(k, ENUM, 0, TRN_DT_ANY, TRN_ENUM_##e, fl)
#define IL(k, fl)                  A_(k, INT_LIST, 0, TRN_DT_ANY, -1, fl)
#define PT(k, fl)                  A_(k, PATTERN, 0, TRN_DT_ANY, -1, fl)
#define FLL(k, fl)                 A_(k, FLOAT_LIST, 0, TRN_DT_ANY, -1, fl)
#define RG(k, fl)                  A_(k, REG, 0, TRN_DT_ANY, -1, fl)
#define RGD(k, fl)                 A_(k, REG_DEF, 0, TRN_DT_ANY, -1, fl)
#define RGI(k, fl)                 A_(k, REG_OR_INT, 0, TRN_DT_ANY, -1, fl)

#define ISA_OP(id, kw, eng, others, ver, cost, args) static const trn_isa_arg args_##id[] = {args};
#include "isa.def"
#undef ISA_OP

#define ISA_OP(id, kw, eng, others, ver, cost, args)                                            \
    [TRN_OP_##id] = {#kw,      TRN_ENGINE_##eng, (1u << TRN_ENGINE_##eng) | (others),           \
                     ver,      TRN_COST_##cost,  (int)(sizeof args_##id / sizeof args_##id[0]), \
                     args_##id},
static const trn_isa_op rows[] = {
#include "isa.def"
};
#undef ISA_OP
_Static_assert(sizeof rows / sizeof rows[0] == TRN_OP_COUNT,
               "isa.def and enum trn_opcode in trnsim/isa.h disagree");

const trn_isa_op *trn_isa_op_get(trn_opcode op) {
    return (unsigned)op < TRN_OP_COUNT ? &rows[op] : NULL;
}

int trn_isa_op_find(const char *name) {
    for (int i = 0; i < TRN_OP_COUNT; i++)
        if (strcmp(rows[i].name, name) == 0) return i;
    return -1;
}

int trn_isa_arg_find(trn_opcode op, const char *key) {
    const trn_isa_op *r = trn_isa_op_get(op);
    if (!r) return -1;
    for (int i = 0; i < r->nargs; i++)
        if (strcmp(r->args[i].key, key) == 0) return i;
    return -1;
}

/* ---- names ----------------------------------------------------------------------------- */

#define NAME_OF(table, i) ((unsigned)(i) < sizeof table / sizeof table[0] ? table[i] : "?")

static const char *engine_names[TRN_ENGINE_COUNT] = {"tensor", "scalar", "vector",
                                                     "gpsimd", "sync",   "dma"};
static const char *engine_short[TRN_ENGINE_COUNT] = {"PE", "ACT", "DVE", "Pool", "SP", "DMA"};
static const char *mem_names[TRN_MEM_COUNT] = {"hbm", "sbuf", "psum"};
static const char *alu_names[TRN_ALU_COUNT] = {
    "bypass",           "add",         "subtract",      "multiply",    "divide",
    "maximum",          "minimum",     "power",         "mod",         "abs",
    "abs_max",          "abs_min",     "average",       "rsqrt",       "equal",
    "not_equal",        "greater",     "greater_equal", "less",        "less_equal",
    "logical_and",      "logical_or",  "logical_xor",   "logical_not", "bitwise_and",
    "bitwise_or",       "bitwise_xor", "invert",        "left_shift",  "right_shift",
    "arith_shift_right"};
static const char *act_names[TRN_ACT_COUNT] = {"copy",
                                               "exp",
                                               "log",
                                               "tanh",
                                               "sigmoid",
                                               "relu",
                                               "gelu",
                                               "gelu_apprx_tanh",
                                               "gelu_apprx_sigmoid",
                                               "gelu_dx",
                                               "silu",
                                               "silu_dx",
                                               "mish",
                                               "softplus",
                                               "erf",
                                               "erf_dx",
                                               "sqrt",
                                               "rsqrt",
                                               "reciprocal",
                                               "square",
                                               "sin",
                                               "cos",
                                               "arctan",
                                               "sign",
                                               "abs"};
static const char *cost_names[TRN_COST_COUNT] = {
    "matmul",       "matmul_mx", "transpose", "act",         "act_reduce",  "dve_1in",
    "dve_2in",      "stt",       "scan",      "reduce",      "copy_pred",   "memset",
    "reciprocal",   "bn_aggr",   "n",         "exponential", "quantize_mx", "pool",
    "local_gather", "topk",      "dma",       "seq"};
static const char *cost_formulas[TRN_COST_COUNT] = {
    "max(min(64, N_stationary), N_moving) PE cycles for BF16/FP16/TF32/FP8 (FP32: 4x); "
    "FP8 perf_mode=double_row takes the same cycles for K = 256",
    "max(min(64, N_stationary), N_moving) PE cycles for K = 512 (MX quad rate, v4)",
    "PE: max(P, min(64, F)); DVE (32x32): max(MIN_II, N)",
    "max(MIN_II, N) ScalarE cycles",
    "max(MIN_II, N) + MIN_II",
    "max(MIN_II, N); v3 VectorE 4x when SBUF->SBUF BF16/FP16 contiguous, 2x otherwise for "
    "16-bit or one side in PSUM",
    "max(MIN_II, N) if one input is in PSUM and the other in SBUF, or all BF16 SBUF contiguous "
    "add/multiply/subtract; otherwise max(MIN_II, 2N)",
    "N if BF16, op0 = subtract, op1 = multiply and N even; else 2N",
    "max(MIN_II, 2N)",
    "N/2 if BF16 in and out with add or max; else N",
    "max(MIN_II, N) if src and predicate are split SBUF/PSUM; max(MIN_II, 2N) if both in SBUF",
    "max(MIN_II, N/2) for value 0 in BF16/FP16; else max(MIN_II, N)",
    "max(MIN_II, 8N)",
    "max(MIN_II, 13N/3)",
    "N",
    "exp at 4x the ScalarE rate: max(MIN_II, N/4) (v4)",
    "4 input elements per partition per cycle: max(MIN_II, N/4) (v4)",
    "GPSIMD_START (~150) + N GpSimd cycles",
    "GPSIMD_START + n_idx k / C, C = ((28 + 4k) / (4k)) / min(4 / dtype_bytes, k)",
    "4n + K GpSimd cycles per partition",
    "DMA model (trainium-facts §3.6): fixed cost per DMA, 16 queues, efficiency by bytes per "
    "partition, shared HBM bandwidth",
    "sequencer only: the static per-instruction overhead"};
static const char *argkind_names[TRN_ARGKIND_COUNT] = {
    "tile (read)",   "tile (written)",
    "list of tiles", "scalar or [P,1] tile",
    "float",         "int",
    "bool",          "ALU op",
    "activation",    "keyword",
    "int tuple",     "pattern [[step, num], ...]",
    "float list",    "register",
    "new register",  "register or int"};
static const char *dtclass_names[TRN_DT_COUNT] = {"any",
                                                  "float",
                                                  "int",
                                                  "fp8/bf16/f16/tf32/f32",
                                                  "f32 (bf16 v4+)",
                                                  "mx x4",
                                                  "uint8/e8m0",
                                                  "uint8/16/32",
                                                  "uint16",
                                                  "uint32",
                                                  "uint16/32",
                                                  "int32",
                                                  "f32/int32",
                                                  "bf16",
                                                  "f16/bf16",
                                                  "fp8 x4"};
static const char *enum_names[TRN_ENUM_COUNT] = {"perf_mode", "reduce_cmd", "dge_mode", "oob_mode",
                                                 "dma_engine"};
static const char *perf_vals[] = {"none", "double_row"};
static const char *reduce_cmd_vals[] = {"idle", "reset", "reduce", "reset_reduce", "load_reduce"};
static const char *dge_vals[] = {"unknown", "none", "swdge", "hwdge"};
static const char *oob_vals[] = {"error", "skip"};
static const char *dma_engine_vals[] = {"dma", "gpsimd_dma"};
static const struct {
    const char **v;
    int n;
} enum_vals[TRN_ENUM_COUNT] = {
    {perf_vals, 2}, {reduce_cmd_vals, 5}, {dge_vals, 4}, {oob_vals, 2}, {dma_engine_vals, 2}};

const char *trn_engine_name(trn_engine e) {
    return NAME_OF(engine_names, e);
}
const char *trn_engine_short(trn_engine e) {
    return NAME_OF(engine_short, e);
}
const char *trn_mem_name(trn_mem m) {
    return NAME_OF(mem_names, m);
}
const char *trn_alu_name(trn_alu_op op) {
    return NAME_OF(alu_names, op);
}
const char *trn_act_name(trn_act_func f) {
    return NAME_OF(act_names, f);
}
const char *trn_cost_name(trn_cost c) {
    return NAME_OF(cost_names, c);
}
const char *trn_cost_formula(trn_cost c) {
    return NAME_OF(cost_formulas, c);
}
const char *trn_argkind_name(trn_argkind k) {
    return NAME_OF(argkind_names, k);
}
const char *trn_dtclass_name(trn_dtclass c) {
    return NAME_OF(dtclass_names, c);
}
const char *trn_isa_enum_name(trn_isa_enum e) {
    return NAME_OF(enum_names, e);
}

const char *trn_isa_enum_value(trn_isa_enum e, int v) {
    if ((unsigned)e >= TRN_ENUM_COUNT || v < 0 || v >= enum_vals[e].n) return NULL;
    return enum_vals[e].v[v];
}
int trn_isa_enum_count(trn_isa_enum e) {
    return (unsigned)e < TRN_ENUM_COUNT ? enum_vals[e].n : 0;
}

int trn_alu_is_bitvec(trn_alu_op op) {
    return op >= TRN_ALU_BITWISE_AND && op < TRN_ALU_COUNT;
}

/* The part after the last '.', so "nl.add" and "nisa.reduce_cmd.reset" match. */
static const char *base_name(const char *s) {
    const char *d = strrchr(s, '.');
    return d ? d + 1 : s;
}

static int find_in(const char *const *names, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0) return i;
    return -1;
}

typedef struct alias {
    const char *name;
    int value;
} alias;

static int find_alias(const alias *a, const char *name) {
    for (; a->name; a++)
        if (strcmp(a->name, name) == 0) return a->value;
    return -1;
}

int trn_engine_find(const char *name) {
    static const alias al[] = {{"pe", TRN_ENGINE_PE},
                               {"act", TRN_ENGINE_ACT},
                               {"activation", TRN_ENGINE_ACT},
                               {"dve", TRN_ENGINE_DVE},
                               {"pool", TRN_ENGINE_POOL},
                               {"sp", TRN_ENGINE_SP},
                               {NULL, 0}};
    const char *b = base_name(name);
    char low[32];
    size_t n = strlen(b);
    if (n >= sizeof low) return -1;
    for (size_t i = 0; i <= n; i++) low[i] = (char)(b[i] >= 'A' && b[i] <= 'Z' ? b[i] + 32 : b[i]);
    /* nisa.vector_engine etc. */
    if (n > 7 && strcmp(low + n - 7, "_engine") == 0) low[n - 7] = '\0';
    int i = find_in(engine_names, TRN_ENGINE_COUNT, low);
    return i >= 0 ? i : find_alias(al, low);
}

int trn_alu_find(const char *name) {
    static const alias al[] = {{"max", TRN_ALU_MAXIMUM},
                               {"min", TRN_ALU_MINIMUM},
                               {"mult", TRN_ALU_MULTIPLY},
                               {"mul", TRN_ALU_MULTIPLY},
                               {"sub", TRN_ALU_SUBTRACT},
                               {"bitwise_not", TRN_ALU_INVERT},
                               {"logical_shift_left", TRN_ALU_LEFT_SHIFT},
                               {"logical_shift_right", TRN_ALU_RIGHT_SHIFT},
                               {"pow", TRN_ALU_POWER},
                               {NULL, 0}};
    const char *b = base_name(name);
    int i = find_in(alu_names, TRN_ALU_COUNT, b);
    return i >= 0 ? i : find_alias(al, b);
}

int trn_act_find(const char *name) {
    static const alias al[] = {{"identity", TRN_ACT_COPY}, {NULL, 0}};
    const char *b = base_name(name);
    int i = find_in(act_names, TRN_ACT_COUNT, b);
    return i >= 0 ? i : find_alias(al, b);
}

int trn_isa_enum_find(trn_isa_enum e, const char *name) {
    if ((unsigned)e >= TRN_ENUM_COUNT) return -1;
    return find_in(enum_vals[e].v, enum_vals[e].n, base_name(name));
}

/* ---- data types ------------------------------------------------------------------------ */

int trn_isa_dtype_ok(trn_dtclass c, trn_dtype t, int packed, int version) {
    if ((unsigned)t >= TRN_DTYPE_COUNT) return 0;
    if (t == TRN_DTYPE_FP6_E3M2 || t == TRN_DTYPE_FP6_E2M3) return 0; /* no tensor holds FP6 */
    if (t == TRN_DTYPE_FP8_E4M3 && version < 4) return 0;             /* OCP E4M3FN: v4+ */
    if (packed && version < 4) return 0;
    if (t == TRN_DTYPE_FP4_E2M1 && !packed) return 0; /* FP4 exists only x4-packed */
    if (packed && c != TRN_DT_ANY && c != TRN_DT_MX && c != TRN_DT_FP8) return 0;
    switch (c) {
    case TRN_DT_ANY: return 1;
    case TRN_DT_FLOAT: return trn_dtype_is_float(t);
    case TRN_DT_INT: return trn_dtype_is_int(t);
    case TRN_DT_MM_IN:
        return t == TRN_DTYPE_F32 || t == TRN_DTYPE_TF32 || t == TRN_DTYPE_BF16 ||
               t == TRN_DTYPE_F16 || t == TRN_DTYPE_FP8_E4M3 || t == TRN_DTYPE_FP8_E5M2 ||
               t == TRN_DTYPE_FP8_E4M3_LEGACY || t == TRN_DTYPE_FP8_E3M4;
    case TRN_DT_MM_OUT: return t == TRN_DTYPE_F32 || (t == TRN_DTYPE_BF16 && version >= 4);
    case TRN_DT_MX:
        return packed &&
               (t == TRN_DTYPE_FP8_E4M3 || t == TRN_DTYPE_FP8_E5M2 || t == TRN_DTYPE_FP4_E2M1);
    case TRN_DT_FP8: return packed && (t == TRN_DTYPE_FP8_E4M3 || t == TRN_DTYPE_FP8_E5M2);
    case TRN_DT_SCALE: return t == TRN_DTYPE_UINT8 || t == TRN_DTYPE_E8M0;
    case TRN_DT_UINT: return t == TRN_DTYPE_UINT8 || t == TRN_DTYPE_UINT16 || t == TRN_DTYPE_UINT32;
    case TRN_DT_U16: return t == TRN_DTYPE_UINT16;
    case TRN_DT_U32: return t == TRN_DTYPE_UINT32;
    case TRN_DT_IDX: return t == TRN_DTYPE_UINT16 || t == TRN_DTYPE_UINT32;
    case TRN_DT_I32: return t == TRN_DTYPE_INT32;
    case TRN_DT_F32I32: return t == TRN_DTYPE_F32 || t == TRN_DTYPE_INT32;
    case TRN_DT_BF16: return t == TRN_DTYPE_BF16;
    case TRN_DT_F16BF16: return t == TRN_DTYPE_F16 || t == TRN_DTYPE_BF16;
    default: return 0;
    }
}

uint32_t isa_elem_bytes(trn_dtype t, int packed) {
    if (packed) return (uint32_t)(4 * trn_dtype_bits(t) / 8); /* fp8 x4: 4 B, fp4 x4: 2 B */
    return (uint32_t)trn_dtype_container_bytes(t);
}

const char *isa_dtype_name(trn_dtype t, int packed, char *buf, size_t n) {
    snprintf(buf, n, "%s%s", trn_dtype_name(t), packed ? "_x4" : "");
    return buf;
}

int isa_dtype_parse(const char *name, trn_dtype *t, int *packed) {
    char buf[48];
    size_t n = strlen(name);
    if (n >= sizeof buf) return 0;
    memcpy(buf, name, n + 1);
    *packed = 0;
    if (n > 3 && strcmp(buf + n - 3, "_x4") == 0) {
        buf[n - 3] = '\0';
        *packed = 1;
    }
    if (trn_dtype_from_name(buf, t, NULL) != TRN_OK) return 0;
    if (*packed && *t != TRN_DTYPE_FP8_E4M3 && *t != TRN_DTYPE_FP8_E5M2 && *t != TRN_DTYPE_FP4_E2M1)
        return 0;
    return 1;
}

uint32_t isa_fnv1a(const void *data, size_t n) {
    const unsigned char *p = data;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

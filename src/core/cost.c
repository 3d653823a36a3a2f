/* The cost model: each instruction's duration in its engine's cycles from the trainium-facts.md
 * §3.4 formulas with the §3.7 performance modes, and each DMA's transfer plan (§3.6). Every
 * constant comes from the catalog (trn_hw_core, each with its source or the reason it is
 * assumed); the numbers inside the formulas (2N, 8N, 13N/3, N/4) are the published formulas
 * themselves. N is the free size (elements per partition) of the row's main operand; cost does not
 * depend on the partition count (lanes are parallel, AG2). Fractional formulas round up to whole
 * cycles.
 *
 * Deliberately left out: anything that depends on timing (MM_INIT on a cold TensorE, exposed
 * LoadStationary, the dependent-instruction overhead, HBM sharing): timing.c adds those. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "timing_impl.h"

/* The §3.4 TensorE formulas' "64" (max(min(64, N_stationary), N_moving), max(P, min(64, F))):
 * the catalog's TensorE minimum initiation interval (ISA-OLD, PERF). */
static double pe_min_ii(const trn_hw_core *c) {
    return c->pe_min_ii_cycles.value;
}

static uint64_t ceil_u64(double x) {
    return x <= 0 ? 0 : (uint64_t)ceil(x);
}

static uint64_t max_u64(uint64_t a, uint64_t b) {
    return a > b ? a : b;
}

/* The argument keys the cost model reads, by name (their index per opcode: cost_ctx.key). */
static const char *const key_name[COST_NKEYS] = {
    [COST_K_DST] = "dst",
    [COST_K_SRC] = "src",
    [COST_K_SRCS] = "srcs",
    [COST_K_DATA1] = "data1",
    [COST_K_DATA2] = "data2",
    [COST_K_DGE_MODE] = "dge_mode",
    [COST_K_INDEX] = "index",
    [COST_K_MOVING] = "moving",
    [COST_K_N] = "n",
    [COST_K_NUM_ELEM_PER_IDX] = "num_elem_per_idx",
    [COST_K_NUM_VALID_INDICES] = "num_valid_indices",
    [COST_K_OP] = "op",
    [COST_K_OP0] = "op0",
    [COST_K_OP1] = "op1",
    [COST_K_PERF_MODE] = "perf_mode",
    [COST_K_PREDICATE] = "predicate",
    [COST_K_REDUCE_RES] = "reduce_res",
    [COST_K_STATIONARY] = "stationary",
    [COST_K_VAL_DST] = "val_dst",
    [COST_K_VALUE] = "value",
    [COST_K_SRC_INDEX] = "src_index",
};

static int parse_version(const char *name) {
    if (!name || (name[0] != 'v' && name[0] != 'V')) return 0;
    char *end = NULL;
    long v = strtol(name + 1, &end, 10);
    return (end && !*end && v >= 2 && v < 100) ? (int)v : 0;
}

trn_status cost_ctx_init(cost_ctx *ctx, const trn_program *p, const trn_hw_core *core,
                         trn_err *err) {
    memset(ctx, 0, sizeof *ctx);
    ctx->p = p;
    ctx->core = core;
    ctx->version = parse_version(core->name);
    if (!ctx->version)
        return trn_err_set(err, TRN_E_INVALID, "core version '%s': expected vN",
                           core->name ? core->name : "");
    if (p->core_version && p->core_version != ctx->version)
        return trn_err_set(
            err, TRN_E_INVALID, "%s: program '%s' was assembled for NeuronCore-v%d, not %s",
            p->source_path ? p->source_path : "program", p->name, p->core_version, core->name);
    ctx->hz[TRN_ENGINE_PE] = core->tensor_hz.value;
    ctx->hz[TRN_ENGINE_ACT] = core->scalar_hz.value;
    ctx->hz[TRN_ENGINE_DVE] = core->vector_hz.value;
    ctx->hz[TRN_ENGINE_POOL] = core->gpsimd_hz.value;
    ctx->hz[TRN_ENGINE_SP] = core->sync_hz.value;
    static const char *const field[TRN_TIMING_ENGINES] = {"tensor_hz", "scalar_hz", "vector_hz",
                                                          "gpsimd_hz", "sync_hz"};
    for (int e = 0; e < TRN_TIMING_ENGINES; e++)
        if (!(ctx->hz[e] > 0))
            return trn_err_set(err, TRN_E_INVALID, "core version %s has no %s", core->name,
                               field[e]);
    if (!(core->dma_engines.value >= 1) || !(core->dma_engine_practical_bps.value > 0))
        return trn_err_set(err, TRN_E_INVALID,
                           "core version %s has no dma_engines or dma_engine_practical_bps",
                           core->name);
    if (!(core->pe_min_ii_cycles.value > 0) || !(core->pe_ls_speedup.value > 0) ||
        !(core->sem_latency_ns.value >= 0))
        return trn_err_set(err, TRN_E_INVALID,
                           "core version %s: pe_min_ii_cycles and pe_ls_speedup must be > 0 and "
                           "sem_latency_ns >= 0",
                           core->name);
    /* the argument index of each key the cost model reads, for the opcodes of the program */
    uint8_t seen[TRN_OP_COUNT] = {0};
    for (int i = 0; i < p->ninstrs; i++) {
        trn_opcode op = p->instrs[i].op;
        if ((unsigned)op >= TRN_OP_COUNT || seen[op]) continue;
        seen[op] = 1;
        for (int k = 0; k < COST_NKEYS; k++)
            ctx->key[op][k] = (int8_t)trn_isa_arg_find(op, key_name[k]);
    }
    /* DMA transpose exists from v3 [AG3]: a core without its rates cannot time one */
    for (int i = 0; i < p->ninstrs; i++) {
        if (p->instrs[i].op != TRN_OP_DMA_TRANSPOSE) continue;
        if (!(core->dma_transpose_hbm_frac.value > 0) || !(core->dma_transpose_sbuf_frac.value > 0))
            return trn_err_set(err, TRN_E_INVALID,
                               "%s:%u: dma_transpose: core version %s has no "
                               "dma_transpose_hbm_frac / dma_transpose_sbuf_frac",
                               p->source_path ? p->source_path : p->name,
                               (unsigned)p->instrs[i].line, core->name);
        break;
    }
    return TRN_OK;
}

int cost_is_dma(const trn_program *p, int i) {
    return trn_isa_op_get(p->instrs[i].op)->cost == TRN_COST_DMA;
}

void cost_dma_ops(uint8_t *is_dma) {
    for (int op = 0; op < TRN_OP_COUNT; op++) {
        const trn_isa_op *row = trn_isa_op_get((trn_opcode)op);
        is_dma[op] = row && row->cost == TRN_COST_DMA;
    }
}

/* ---- operand helpers --------------------------------------------------------------------- */

/* Argument `key` (COST_K_*) of instruction in, or NULL (its index resolved once per opcode). */
static const trn_operand *arg(const cost_ctx *x, const trn_instr *in, int key) {
    int k = x->key[in->op][key];
    return k < 0 ? NULL : trn_instr_arg(x->p, in, k);
}

static const trn_ap *arg_ap(const cost_ctx *x, const trn_instr *in, int key) {
    const trn_operand *o = arg(x, in, key);
    return o && (o->kind == TRN_ARG_AP_IN || o->kind == TRN_ARG_AP_OUT) ? &o->u.ap : NULL;
}

static int64_t arg_int(const cost_ctx *x, const trn_instr *in, int key, int64_t dflt) {
    const trn_operand *o = arg(x, in, key);
    return o && o->kind != TRN_ARG_FLOAT ? o->u.i : dflt;
}

static const trn_tensor *ten(const trn_program *p, const trn_ap *ap) {
    return &p->tensors[ap->tensor];
}

static int is16(const trn_program *p, const trn_ap *ap) {
    if (!ap) return 0;
    trn_dtype t = ten(p, ap)->dtype;
    return t == TRN_DTYPE_BF16 || t == TRN_DTYPE_F16;
}

static int is_bf16(const trn_program *p, const trn_ap *ap) {
    return ten(p, ap)->dtype == TRN_DTYPE_BF16;
}

static int mem_of(const trn_program *p, const trn_ap *ap) {
    return (int)ten(p, ap)->mem;
}

static int contiguous(const trn_ap *ap) {
    return ap->nfree == 0 || ap->free[ap->nfree - 1].step == 1;
}

/* The main operand (TRN_ARGF_MAIN) of instruction `in`, or NULL. */
static const trn_ap *main_ap(const trn_program *p, const trn_instr *in) {
    const trn_isa_op *row = trn_isa_op_get(in->op);
    for (int k = 0; k < row->nargs; k++) {
        if (!(row->args[k].flags & TRN_ARGF_MAIN)) continue;
        const trn_operand *o = trn_instr_arg(p, in, k);
        if (o && (o->kind == TRN_ARG_AP_IN || o->kind == TRN_ARG_AP_OUT)) return &o->u.ap;
    }
    return NULL;
}

/* Elements per partition per cycle of an engine, relative to the 1-per-lane baseline. */
static double per_lane(const trn_hw_core *c, double elems_per_cycle) {
    double lanes = c->partitions.value > 0 ? c->partitions.value : 128;
    double f = elems_per_cycle / lanes;
    return f >= 1 ? f : 1;
}

/* ---- compute instructions ---------------------------------------------------------------- */

/* max(MIN_II, x) with x in (possibly fractional) cycles, rounded up. */
static uint64_t ii(const trn_hw_core *c, double x) {
    return max_u64((uint64_t)c->min_ii_cycles.value, ceil_u64(x));
}

/* A DVE-family instruction run on GpSimd: GPSIMD_START + work at the GpSimd lane rate. */
static uint64_t on_pool(const trn_hw_core *c, double work) {
    return (uint64_t)c->gpsimd_start_cycles.value +
           ceil_u64(work / per_lane(c, c->gpsimd_elems_per_cycle.value));
}

/* The catalog's data-type class of a tensor's dtype (-1 for types the maps do not name). */
static int hw_dtype(trn_dtype t) {
    switch (t) {
    case TRN_DTYPE_F32: return TRN_HW_FP32;
    case TRN_DTYPE_TF32: return TRN_HW_TF32;
    case TRN_DTYPE_BF16: return TRN_HW_BF16;
    case TRN_DTYPE_F16: return TRN_HW_FP16;
    case TRN_DTYPE_FP8_E4M3:
    case TRN_DTYPE_FP8_E5M2:
    case TRN_DTYPE_FP8_E4M3_LEGACY:
    case TRN_DTYPE_FP8_E3M4: return TRN_HW_FP8;
    case TRN_DTYPE_INT8: return TRN_HW_INT8;
    default: return -1;
    }
}

/* VectorE performance-mode speed-up (elements per partition per cycle) of operand ap: the
 * catalog's vector_mode_elems_per_cycle for its data type per lane, 0 when its type has no
 * mode (AG3: BF16/FP16 on v3; AG4: BF16/FP16/FP8 on v4; none on v2). */
static double vmode(const cost_ctx *x, const trn_ap *ap) {
    if (!ap) return 0;
    int dt = hw_dtype(ten(x->p, ap)->dtype);
    if (dt < 0 || x->core->vector_mode_elems_per_cycle[dt].origin == TRN_HW_ABSENT) return 0;
    double lanes = x->core->partitions.value > 0 ? x->core->partitions.value : 128;
    return x->core->vector_mode_elems_per_cycle[dt].value / lanes;
}

/* tensor_copy / tensor_scalar on VectorE with the NC-v3+ performance modes (AG3): the full mode
 * (the catalog's mode rate per lane, 4x) when input and output both have a mode data type, are
 * in SBUF and innermost contiguous; half of it when one side is in PSUM or not contiguous. */
static uint64_t dve_copy_like(const cost_ctx *x, const trn_ap *in, const trn_ap *out, double n) {
    const trn_program *p = x->p;
    double mi = vmode(x, in), mo = vmode(x, out);
    double f16 = mi < mo ? mi : mo;
    double speed = 1;
    if (f16 > 1) {
        int sbuf = mem_of(p, in) == TRN_MEM_SBUF && mem_of(p, out) == TRN_MEM_SBUF;
        speed = (sbuf && contiguous(in) && contiguous(out)) ? f16 : f16 / 2;
        if (speed < 1) speed = 1;
    }
    return ii(x->core, n / speed);
}

static int alu_arg(const cost_ctx *x, const trn_instr *in, int key) {
    const trn_operand *o = arg(x, in, key);
    return o ? (int)o->u.i : -1;
}

static void cost_matmul(const cost_ctx *x, const trn_instr *in, cost_instr *c) {
    const trn_program *p = x->p;
    const trn_hw_core *core = x->core;
    const trn_ap *st = arg_ap(x, in, COST_K_STATIONARY), *mv = arg_ap(x, in, COST_K_MOVING);
    int mx = in->op == TRN_OP_NC_MATMUL_MX;
    int dr = !mx && arg_int(x, in, COST_K_PERF_MODE, TRN_PERF_NONE) == TRN_PERF_DOUBLE_ROW;
    double kpack = dr ? 2 : 1; /* double_row: [128, 2, M] */
    double m = st ? (double)trn_ap_free_elems(st) / kpack : 1;
    double n = mv ? (double)trn_ap_free_elems(mv) / kpack : 1;
    double krows = mv ? mv->part_count : 1;
    double k = krows * (mx ? 4 : dr ? 2 : 1);
    /* FP32 runs at tensor_rate[fp32] (0.25: 4 passes); FP8 double_row and MX pack 2x / 4x K
     * into the same cycles (their rate > 1 is in K, not in time) */
    double pass = 1, rate = 1;
    int f32 =
        (st && ten(p, st)->dtype == TRN_DTYPE_F32) || (mv && ten(p, mv)->dtype == TRN_DTYPE_F32);
    if (f32 && core->tensor_rate[TRN_HW_FP32].value > 0 &&
        core->tensor_rate[TRN_HW_FP32].value < 1) {
        rate = core->tensor_rate[TRN_HW_FP32].value;
        pass = ceil(1.0 / rate);
    } else if (mx) {
        int fp4 = mv && ten(p, mv)->dtype == TRN_DTYPE_FP4_E2M1;
        double r = core->tensor_rate[fp4 ? TRN_HW_MXFP4 : TRN_HW_MXFP8].value;
        rate = r > 0 ? r : 4;
    } else if (dr) {
        double r = core->tensor_rate[TRN_HW_FP8].value;
        rate = r > 0 ? r : 2;
    }
    double mm = m < pe_min_ii(core) ? m : pe_min_ii(core);
    if (n > mm) mm = n;
    c->cycles = (uint64_t)pass * ceil_u64(mm);
    c->is_matmul = 1;
    c->ls_cycles = (uint64_t)pass * ceil_u64(m / core->pe_ls_speedup.value);
    c->macs = k * m * n;
    c->peak_rate = rate;
    c->hw_slots = krows * m * n * pass * (mx ? 4 : dr ? 2 : 1);
}

void cost_compute(const cost_ctx *x, int i, cost_instr *c) {
    const trn_program *p = x->p;
    const trn_hw_core *core = x->core;
    const trn_instr *in = &p->instrs[i];
    const trn_isa_op *row = trn_isa_op_get(in->op);
    memset(c, 0, sizeof *c);
    c->is_pe = in->engine == TRN_ENGINE_PE;
    const trn_ap *ma = main_ap(p, in);
    double n = ma ? (double)trn_ap_free_elems(ma) : 1;
    double min_ii = core->min_ii_cycles.value;
    int pool = in->engine == TRN_ENGINE_POOL;
    switch (row->cost) {
    case TRN_COST_MATMUL:
    case TRN_COST_MATMUL_MX: cost_matmul(x, in, c); break;
    case TRN_COST_TRANSPOSE:
        if (in->engine == TRN_ENGINE_PE) {
            /* max(P, min(64, F)): data is the stationary [P, F], identity [P, P] moves */
            double pp = ma ? ma->part_count : 1;
            double mm = n < pe_min_ii(core) ? n : pe_min_ii(core);
            c->cycles = ceil_u64(pp > mm ? pp : mm);
            c->hw_slots = pp * n * pp;
        } else {
            c->cycles = ii(core, n);
        }
        break;
    case TRN_COST_ACT:
        /* + MIN_II for the ActReadAccumulator when a reduction result is written (AG2 §2.7) */
        c->cycles = ii(core, n) + (arg_ap(x, in, COST_K_REDUCE_RES) ? (uint64_t)min_ii : 0);
        break;
    case TRN_COST_ACT_REDUCE: c->cycles = ii(core, n) + (uint64_t)min_ii; break;
    case TRN_COST_DVE_1IN: {
        if (pool) {
            c->cycles = on_pool(core, n);
        } else if (in->engine == TRN_ENGINE_ACT) {
            /* NC-v4 ScalarE 2x BF16/FP16 mode for tensor_scalar / tensor_copy (AG4) */
            const trn_ap *out = arg_ap(x, in, COST_K_DST);
            double speed = (ma && out && is16(p, ma) && is16(p, out))
                               ? per_lane(core, core->scalar_elems_per_cycle_16bit.value) /
                                     per_lane(core, core->scalar_elems_per_cycle.value)
                               : 1;
            c->cycles = ii(core, n / (speed > 1 ? speed : 1));
        } else if (in->op == TRN_OP_TENSOR_COPY || in->op == TRN_OP_TENSOR_SCALAR) {
            c->cycles = dve_copy_like(x, ma, arg_ap(x, in, COST_K_DST), n);
        } else {
            c->cycles = ii(core, n);
        }
        break;
    }
    case TRN_COST_DVE_2IN: {
        if (pool) {
            c->cycles = on_pool(core, 2 * n);
            break;
        }
        const trn_ap *a = arg_ap(x, in, COST_K_DATA1), *b = arg_ap(x, in, COST_K_DATA2);
        const trn_ap *d = arg_ap(x, in, COST_K_DST);
        int ma_ = a ? mem_of(p, a) : TRN_MEM_SBUF, mb = b ? mem_of(p, b) : TRN_MEM_SBUF;
        int split = (ma_ == TRN_MEM_PSUM) != (mb == TRN_MEM_PSUM);
        double va = vmode(x, a), vb = vmode(x, b), vd = vmode(x, d);
        int allbf16 = a && b && d && is_bf16(p, a) && is_bf16(p, b) && is_bf16(p, d);
        int sbuf = ma_ == TRN_MEM_SBUF && mb == TRN_MEM_SBUF && d && mem_of(p, d) == TRN_MEM_SBUF;
        int op = alu_arg(x, in, COST_K_OP);
        int fast_op = op == TRN_ALU_ADD || op == TRN_ALU_MULTIPLY || op == TRN_ALU_SUBTRACT;
        /* NC-v3+ 2x mode (AG3): both inputs in SBUF, every operand of a mode data type */
        int mode = va > 1 && vb > 1 && vd > 1 && ma_ == TRN_MEM_SBUF && mb == TRN_MEM_SBUF;
        int one = split || mode ||
                  (allbf16 && sbuf && fast_op && contiguous(a) && contiguous(b) && contiguous(d));
        c->cycles = ii(core, one ? n : 2 * n);
        break;
    }
    case TRN_COST_STT: {
        int ok = ma && is_bf16(p, ma) && alu_arg(x, in, COST_K_OP0) == TRN_ALU_SUBTRACT &&
                 alu_arg(x, in, COST_K_OP1) == TRN_ALU_MULTIPLY && ((uint64_t)n % 2) == 0;
        c->cycles = ceil_u64(ok ? n : 2 * n);
        break;
    }
    case TRN_COST_SCAN: c->cycles = ii(core, 2 * n); break;
    case TRN_COST_REDUCE: {
        const trn_ap *d = arg_ap(x, in, COST_K_DST);
        int op = alu_arg(x, in, COST_K_OP);
        int half = ma && d && is_bf16(p, ma) && is_bf16(p, d) &&
                   (op == TRN_ALU_ADD || op == TRN_ALU_MAXIMUM);
        c->cycles = ceil_u64(half ? n / 2 : n);
        break;
    }
    case TRN_COST_COPY_PRED: {
        const trn_ap *src = arg_ap(x, in, COST_K_SRC), *pr = arg_ap(x, in, COST_K_PREDICATE);
        int split = !src || !pr || mem_of(p, src) != mem_of(p, pr);
        c->cycles = ii(core, split ? n : 2 * n);
        break;
    }
    case TRN_COST_MEMSET: {
        if (pool) {
            c->cycles = on_pool(core, n);
            break;
        }
        const trn_operand *v = arg(x, in, COST_K_VALUE);
        int zero = v && v->kind == TRN_ARG_FLOAT && v->u.imm == 0;
        c->cycles = ii(core, (zero && ma && is16(p, ma)) ? n / 2 : n);
        break;
    }
    case TRN_COST_RECIPROCAL: c->cycles = ii(core, 8 * n); break;
    case TRN_COST_BN_AGGR: c->cycles = ii(core, 13 * n / 3); break;
    case TRN_COST_N: c->cycles = ceil_u64(n); break;
    case TRN_COST_EXPONENTIAL:
    case TRN_COST_QUANTIZE_MX: c->cycles = ii(core, n / 4); break;
    case TRN_COST_POOL: c->cycles = on_pool(core, n); break;
    case TRN_COST_LOCAL_GATHER: {
        /* 150 + (n_idx k) / C, C = ((28 + 4k) / (4k)) / min(4 / dtype_bytes, k) */
        const trn_ap *idx = arg_ap(x, in, COST_K_INDEX);
        double kk = (double)arg_int(x, in, COST_K_NUM_ELEM_PER_IDX, 1);
        if (kk < 1) kk = 1;
        double nidx = (double)arg_int(x, in, COST_K_NUM_VALID_INDICES, 0);
        /* default: every index of a GpSimd core's partitions (partitions / gpsimd_cores) */
        double rows =
            core->gpsimd_cores.value > 0 ? core->partitions.value / core->gpsimd_cores.value : 1;
        if (nidx <= 0) nidx = idx ? rows * (double)trn_ap_free_elems(idx) : 1;
        double eb = ma ? ten(p, ma)->elem_bytes : 4;
        double lim = 4 / eb < kk ? 4 / eb : kk;
        double cc = ((28 + 4 * kk) / (4 * kk)) / lim;
        c->cycles = (uint64_t)core->gpsimd_start_cycles.value + ceil_u64(nidx * kk / cc);
        break;
    }
    case TRN_COST_TOPK: { /* 4 n + K: n the snake's elements, K = val_dst's free size */
        const trn_ap *vd = arg_ap(x, in, COST_K_VAL_DST);
        double k = vd ? (double)trn_ap_free_elems(vd) : 1;
        c->cycles = ceil_u64(4 * (double)arg_int(x, in, COST_K_N, 0) + k);
        break;
    }
    case TRN_COST_SEQ:
    case TRN_COST_DMA: /* a DMA's trigger: cost_dma */
    default: c->cycles = (uint64_t)core->static_overhead_cycles.value; break;
    }
}

int cost_same_stationary(const cost_ctx *x, int a, int b) {
    const trn_program *p = x->p;
    const trn_ap *sa = arg_ap(x, &p->instrs[a], COST_K_STATIONARY);
    const trn_ap *sb = arg_ap(x, &p->instrs[b], COST_K_STATIONARY);
    if (!sa || !sb || p->instrs[a].op != p->instrs[b].op) return 0;
    if (sa->tensor != sb->tensor || sa->offset != sb->offset || sa->part_start != sb->part_start ||
        sa->part_count != sb->part_count || sa->nfree != sb->nfree)
        return 0;
    for (int d = 0; d < sa->nfree; d++)
        if (sa->free[d].num != sb->free[d].num || sa->free[d].step != sb->free[d].step) return 0;
    return 1;
}

/* ---- DMA --------------------------------------------------------------------------------- */

/* Contiguous elements of the innermost run of ap, at most `cap`. */
static double run_elems(const trn_ap *ap, double cap) {
    int64_t run = 1;
    for (int k = ap->nfree; k > 0 && ap->free[k - 1].step == run; k--) run *= ap->free[k - 1].num;
    return (double)run < cap ? (double)run : cap;
}

void cost_dma(cost_ctx *x, int i, dma_plan *d) {
    const trn_program *p = x->p;
    const trn_hw_core *core = x->core;
    const trn_instr *in = &p->instrs[i];
    const trn_ap *dst = arg_ap(x, in, COST_K_DST);
    const trn_ap *src[TRN_MAX_AP_LIST];
    int nsrc = 0;
    int key = x->key[in->op][in->op == TRN_OP_DMA_COMPUTE ? COST_K_SRCS : COST_K_SRC];
    for (uint32_t k = 0; k < in->nargs && nsrc < TRN_MAX_AP_LIST; k++) {
        const trn_operand *o = &p->args[in->arg0 + k];
        if (o->key == key && o->kind == TRN_ARG_AP_IN) src[nsrc++] = &o->u.ap;
    }
    d->nq = (int)core->dma_engines.value;
    d->read_bytes = d->write_bytes = 0;
    d->src_mem = nsrc ? mem_of(p, src[0]) : TRN_MEM_SBUF;
    d->dst_mem = dst ? mem_of(p, dst) : TRN_MEM_SBUF;
    /* rows: the on-chip side's partitions (§3.6: 128 / 16 = 8 per queue); HBM <-> HBM: the
     * outermost dimension */
    double rows = 1, elems = dst ? (double)trn_ap_elems(dst) : 0;
    if (dst && d->dst_mem != TRN_MEM_HBM)
        rows = dst->part_count;
    else if (nsrc && d->src_mem != TRN_MEM_HBM)
        rows = src[0]->part_count;
    else if (dst && dst->nfree >= 2)
        rows = dst->free[0].num;
    if (rows < 1) rows = 1;
    double per_row = elems / rows;
    if (dst) d->write_bytes = (uint64_t)trn_ap_elems(dst) * ten(p, dst)->elem_bytes;
    double buf = dst ? run_elems(dst, per_row) * ten(p, dst)->elem_bytes : 0;
    /* an indirect gather (src_index) reads one row of src per partition of dst, `per_row`
     * elements each, not the whole src it may pick from: one descriptor per row, its buffer the
     * row's contiguous run */
    int gather = arg_ap(x, in, COST_K_SRC_INDEX) != NULL;
    for (int s = 0; s < nsrc; s++) {
        uint64_t n = gather ? (uint64_t)elems : (uint64_t)trn_ap_elems(src[s]);
        d->read_bytes += n * ten(p, src[s])->elem_bytes;
        double b = run_elems(src[s], per_row) * ten(p, src[s])->elem_bytes;
        if (b < buf || buf <= 0) buf = b;
    }
    uint64_t work = d->read_bytes > d->write_bytes ? d->read_bytes : d->write_bytes;
    if (x->split_nq == d->nq && x->split_work == work && x->split_rows == rows) {
        /* the same split as the previous DMA's (a function of work, rows and nq alone) */
        memcpy(d->bytes, x->split_bytes, sizeof *d->bytes * (size_t)d->nq);
    } else {
        uint64_t nrows = (uint64_t)rows, rpq = (nrows + (uint64_t)d->nq - 1) / (uint64_t)d->nq;
        uint64_t done = 0;
        for (int q = 0; q < d->nq; q++) {
            uint64_t r0 = (uint64_t)q * rpq, r1 = r0 + rpq;
            if (r0 > nrows) r0 = nrows;
            if (r1 > nrows) r1 = nrows;
            /* split `work` by rows; the last queue with rows takes the rounding remainder */
            uint64_t b = (uint64_t)((double)work * (double)r1 / rows) - done;
            if (r1 == nrows && r1 > r0) b = work - done;
            d->bytes[q] = r1 > r0 ? b : 0;
            done += d->bytes[q];
        }
        if (d->nq <= COST_SPLIT_MAX) {
            x->split_nq = d->nq;
            x->split_work = work;
            x->split_rows = rows;
            memcpy(x->split_bytes, d->bytes, sizeof *d->bytes * (size_t)d->nq);
        }
    }
    d->uniform = 1;
    for (int q = 1; q < d->nq && d->uniform; q++) d->uniform = d->bytes[q] == d->bytes[0];
    d->buffer_bytes = buf;
    double mode = 1;
    if (in->op == TRN_OP_DMA_TRANSPOSE)
        mode = d->src_mem == TRN_MEM_HBM ? core->dma_transpose_hbm_frac.value
                                         : core->dma_transpose_sbuf_frac.value;
    d->rate_bpns = core->dma_engine_practical_bps.value * 1e-9 *
                   trn_hw_dma_efficiency(core, buf > 0 ? buf : 1) * mode;
    d->hbm_sides = (d->src_mem == TRN_MEM_HBM) + (d->dst_mem == TRN_MEM_HBM);
    /* who generates the descriptors (§3.6): static (engine=DMA, or a sequencer without DGE):
     * dma_fixed_ns on each queue; hardware DGE from SP/ACT: hwdge_instr_ns on the issuing
     * sequencer, nothing more per queue; software DGE from GpSimd: a GpSimd kernel start on
     * Pool, then the fixed cost */
    int mode_dge = (int)arg_int(x, in, COST_K_DGE_MODE, TRN_DGE_UNKNOWN);
    d->issue_ns = 0;
    d->fixed_ns = core->dma_fixed_ns.value;
    if (in->engine == TRN_ENGINE_SP || in->engine == TRN_ENGINE_ACT) {
        int hw = core->dge_instances.value > 0 && core->hwdge_instr_ns.value > 0 &&
                 mode_dge != TRN_DGE_NONE && mode_dge != TRN_DGE_SWDGE;
        if (hw) {
            d->issue_ns = core->hwdge_instr_ns.value;
            d->fixed_ns = 0;
        } else {
            d->issue_ns = core->static_overhead_cycles.value * 1e9 / x->hz[in->engine];
        }
    } else if (in->engine == TRN_ENGINE_POOL) {
        d->issue_ns = core->gpsimd_start_cycles.value * 1e9 / x->hz[TRN_ENGINE_POOL];
    }
}

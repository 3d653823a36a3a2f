/* The functional NeuronCore: creates the memories, binds HBM tensors, runs the program in
 * program order through one switch over trn_opcode (one function per instruction in
 * src/core/ops/), and records the first fault. docs/semantics.md is the contract. A core can be
 * made new for another run (trn_core_reuse) keeping its memories and scratch blocks, so a
 * runtime launching many short kernels does not allocate and zero SBUF and PSUM per launch.
 * BF16 and FP32 tensors are bound and read a block at a time through the bit paths of mem.c.
 *
 * Deliberately left out: the timeline (semaphores, queues, cycles). Waits and signals of
 * `.sync manual` kernels do not change results in program order; races between them are the
 * timing model's to find. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

/* The checks of trn_core_create: program p fits target t, options o (may be NULL) are known. */
static trn_status check_fit(const trn_program *p, const trn_isa_target *t, const trn_core_opts *o,
                            trn_err *err) {
    if (!p || !t || t->version < 2 || t->partitions < 1 || t->partitions > TRN_MAX_PARTITIONS)
        return trn_err_set(err, TRN_E_INVALID, "core: no program or no valid target");
    if (p->sbuf_bytes > t->sbuf_bytes_per_partition || p->psum_bytes > t->psum_bytes_per_partition)
        return trn_err_set(err, TRN_E_INVALID,
                           "core: kernel %s needs %llu SBUF and %llu PSUM bytes per partition, %s "
                           "has %llu and %llu",
                           p->name, (unsigned long long)p->sbuf_bytes,
                           (unsigned long long)p->psum_bytes, t->name,
                           (unsigned long long)t->sbuf_bytes_per_partition,
                           (unsigned long long)t->psum_bytes_per_partition);
    if (o && (o->round != TRN_ROUND_RNE && o->round != TRN_ROUND_SR))
        return trn_err_set(err, TRN_E_INVALID, "core: unknown rounding mode %d", (int)o->round);
    return TRN_OK;
}

/* The checks of trn_core_create_shared: p declares the HBM tensors of hbm's program. */
static trn_status check_shared(const trn_program *p, const trn_core *hbm, trn_err *err) {
    if (!hbm || !p) return trn_err_set(err, TRN_E_INVALID, "core: no program or no HBM owner");
    const trn_program *q = hbm->p;
    int nh = 0, qh = 0;
    for (int i = 0; i < p->ntensors; i++) nh += p->tensors[i].mem == TRN_MEM_HBM;
    for (int i = 0; i < q->ntensors; i++) qh += q->tensors[i].mem == TRN_MEM_HBM;
    if (nh != qh || p->hbm_bytes != q->hbm_bytes)
        return trn_err_set(err, TRN_E_INVALID,
                           "core: program %d of kernel %s has %d HBM tensors (%llu bytes), program "
                           "%d has %d (%llu bytes): the cores of a grid share one HBM layout",
                           p->program_id, p->name, nh, (unsigned long long)p->hbm_bytes,
                           q->program_id, qh, (unsigned long long)q->hbm_bytes);
    for (int i = 0; i < p->ntensors; i++) {
        const trn_tensor *a = &p->tensors[i];
        if (a->mem != TRN_MEM_HBM) continue;
        int j = trn_core_tensor_find(hbm, a->name);
        const trn_tensor *b = j >= 0 ? &q->tensors[j] : NULL;
        if (!b || b->addr != a->addr || b->bytes != a->bytes || b->dtype != a->dtype ||
            b->role != a->role || b->rank != a->rank ||
            memcmp(b->shape, a->shape, sizeof a->shape) != 0)
            return trn_err_set(err, TRN_E_INVALID,
                               "core: HBM tensor '%s' of program %d of kernel %s differs from "
                               "program %d's (line %u): the cores of a grid share one HBM layout",
                               a->name, p->program_id, p->name, q->program_id, (unsigned)a->line);
    }
    return TRN_OK;
}

static trn_status no_memory(const trn_program *p, trn_err *err) {
    return trn_err_set(err, TRN_E_NOMEM,
                       "core: out of memory for SBUF %llu, PSUM %llu, HBM %llu bytes",
                       (unsigned long long)p->sbuf_bytes, (unsigned long long)p->psum_bytes,
                       (unsigned long long)p->hbm_bytes);
}

/* trn_core_create, with the HBM of core `hbm` when it is not NULL. */
static trn_status create(const trn_program *p, const trn_isa_target *t, const trn_core_opts *o,
                         trn_core *hbm, trn_core **out, trn_err *err) {
    *out = NULL;
    trn_status s = check_fit(p, t, o, err);
    if (s != TRN_OK) return s;
    trn_core *c = calloc(1, sizeof *c);
    if (!c) return trn_err_set(err, TRN_E_NOMEM, "core: out of memory");
    c->p = p;
    c->t = *t;
    if (o) c->o = *o;
    if (hbm) {
        c->hbm_borrowed = 1;
        c->mem[TRN_MEM_HBM] = hbm->mem[TRN_MEM_HBM];
    }
    if (core_mem_init(c) != TRN_OK) {
        trn_core_destroy(c);
        return no_memory(p, err);
    }
    *out = c;
    return TRN_OK;
}

trn_status trn_core_create(const trn_program *p, const trn_isa_target *t, const trn_core_opts *o,
                           trn_core **out, trn_err *err) {
    return create(p, t, o, NULL, out, err);
}

trn_status trn_core_create_shared(const trn_program *p, const trn_isa_target *t,
                                  const trn_core_opts *o, trn_core *hbm, trn_core **out,
                                  trn_err *err) {
    *out = NULL;
    trn_status s = check_shared(p, hbm, err);
    if (s != TRN_OK) return s;
    return create(p, t, o, hbm, out, err);
}

void core_tmp_reset(trn_core *c) {
    for (size_t i = 0; i < c->nblk;) {
        if (c->tmp[i].bytes > CORE_TMP_KEEP_BYTES) {
            free(c->tmp[i].p);
            c->tmp[i] = c->tmp[--c->nblk];
        } else {
            i++;
        }
    }
    c->ntmp = 0;
}

trn_status trn_core_reuse(trn_core *c, const trn_program *p, trn_core *hbm, trn_err *err) {
    if (!c) return trn_err_set(err, TRN_E_INVALID, "core: no core to reuse");
    if (hbm == c) return trn_err_set(err, TRN_E_INVALID, "core: a core cannot borrow its own HBM");
    trn_status s = check_fit(p, &c->t, NULL, err);
    if (s == TRN_OK && hbm) s = check_shared(p, hbm, err);
    if (s != TRN_OK) return s;
    core_tmp_reset(c);
    /* keep the memories, the scratch list, the target and the options; the rest as calloc'd */
    core_mem mem[TRN_MEM_COUNT], spare = c->hbm_spare;
    memcpy(mem, c->mem, sizeof mem);
    int borrowed = c->hbm_borrowed;
    struct core_block *tmp = c->tmp;
    size_t nblk = c->nblk, captmp = c->captmp;
    trn_isa_target t = c->t;
    trn_core_opts o = c->o;
    memset(c, 0, sizeof *c);
    c->p = p, c->t = t, c->o = o, c->tmp = tmp, c->nblk = nblk, c->captmp = captmp;
    /* the core's own HBM: in use, or set aside while another core's is borrowed */
    core_mem own = borrowed ? spare : mem[TRN_MEM_HBM];
    if (hbm) {
        core_mem_clear(&own);
        c->hbm_spare = own;
        c->hbm_borrowed = 1;
        c->mem[TRN_MEM_HBM] = hbm->mem[TRN_MEM_HBM];
    } else {
        c->mem[TRN_MEM_HBM] = own;
        s = core_mem_layout(&c->mem[TRN_MEM_HBM], 1, p->hbm_bytes);
    }
    c->mem[TRN_MEM_SBUF] = mem[TRN_MEM_SBUF];
    c->mem[TRN_MEM_PSUM] = mem[TRN_MEM_PSUM];
    if (s == TRN_OK) s = core_mem_layout(&c->mem[TRN_MEM_SBUF], t.partitions, p->sbuf_bytes);
    if (s == TRN_OK) s = core_mem_layout(&c->mem[TRN_MEM_PSUM], t.partitions, p->psum_bytes);
    return s == TRN_OK ? TRN_OK : no_memory(p, err);
}

void trn_core_destroy(trn_core *c) {
    if (!c) return;
    for (size_t i = 0; i < c->nblk; i++) free(c->tmp[i].p);
    free(c->tmp);
    core_mem_fini(c);
    free(c);
}

void *core_tmp(trn_core *c, size_t bytes) {
    /* the smallest free block that holds `bytes`, else a new one (a power of two, >= 64) */
    size_t best = c->nblk;
    for (size_t i = c->ntmp; i < c->nblk; i++)
        if (c->tmp[i].bytes >= bytes && (best == c->nblk || c->tmp[i].bytes < c->tmp[best].bytes))
            best = i;
    if (best == c->nblk) {
        if (c->nblk == c->captmp) {
            size_t n = c->captmp ? 2 * c->captmp : 16;
            struct core_block *a = realloc(c->tmp, n * sizeof *a);
            if (!a) return NULL;
            c->tmp = a;
            c->captmp = n;
        }
        size_t sz = 64;
        while (sz < bytes && sz < ((size_t)1 << 62)) sz *= 2;
        if (sz < bytes) return NULL;
        void *m = malloc(sz);
        if (!m) return NULL;
        c->tmp[c->nblk++] = (struct core_block){m, sz};
    }
    struct core_block b = c->tmp[best];
    c->tmp[best] = c->tmp[c->ntmp];
    c->tmp[c->ntmp++] = b;
    return b.p;
}

trn_status core_fault(trn_core *c, trn_status s, const char *fmt, ...) {
    if (c->has_fault) return c->fault.status;
    const trn_instr *in = &c->p->instrs[c->cur];
    trn_fault *f = &c->fault;
    c->has_fault = 1;
    f->status = s;
    f->instr = c->cur;
    f->op = in->op;
    f->engine = in->engine;
    f->line = in->line;
    f->cycle = -1;
    const trn_isa_op *row = trn_isa_op_get(in->op);
    char what[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(f->msg, sizeof f->msg, "%.100s:%u: %.24s (%.8s, instruction %d): %s",
             c->p->source_path ? c->p->source_path : "<program>", (unsigned)in->line,
             row ? row->name : "?", trn_engine_name(in->engine), c->cur, what);
    return s;
}

const trn_operand *core_arg(trn_core *c, const trn_instr *in, const char *key) {
    int k = trn_isa_arg_find(in->op, key);
    if (k < 0) return NULL;
    for (uint32_t i = 0; i < in->nargs; i++) {
        uint64_t j = (uint64_t)in->arg0 + i;
        if (j >= c->p->nargs) return NULL;
        if (c->p->args[j].key == k) return &c->p->args[j];
    }
    return NULL;
}

int64_t core_arg_int(trn_core *c, const trn_instr *in, const char *key, int64_t def) {
    const trn_operand *o = core_arg(c, in, key);
    if (!o) return def;
    if (o->kind == TRN_ARG_FLOAT) return (int64_t)o->u.imm;
    return o->u.i;
}

int trn_core_tensor_find(const trn_core *c, const char *name) {
    for (int i = 0; i < c->p->ntensors; i++)
        if (c->p->tensors[i].mem == TRN_MEM_HBM && strcmp(c->p->tensors[i].name, name) == 0)
            return i;
    return -1;
}

/* Element count and a sanity check of an HBM tensor. */
static trn_status hbm_tensor(const trn_core *c, int tensor, size_t n, trn_err *err,
                             const trn_tensor **out) {
    if (tensor < 0 || tensor >= c->p->ntensors || c->p->tensors[tensor].mem != TRN_MEM_HBM)
        return trn_err_set(err, TRN_E_INVALID, "core: %d is not an HBM tensor", tensor);
    const trn_tensor *t = &c->p->tensors[tensor];
    int64_t e = 1;
    for (int d = 0; d < t->rank; d++) e *= t->shape[d];
    if (!t->elem_bytes || t->addr + (uint64_t)e * t->elem_bytes > c->mem[TRN_MEM_HBM].part_bytes)
        return trn_err_set(err, TRN_E_INVALID, "core: tensor '%s' lies outside HBM", t->name);
    if ((int64_t)n != e)
        return trn_err_set(err, TRN_E_INVALID, "core: tensor '%s' has %lld elements, not %zu",
                           t->name, (long long)e, n);
    *out = t;
    return TRN_OK;
}

/* Round to nearest even and clamp into [lo, hi]; NaN gives 0. */
static int64_t to_int(double v, double lo, double hi) {
    if (v != v) return 0;
    v = nearbyint(v);
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    return (int64_t)v;
}

trn_status trn_core_tensor_write(trn_core *c, int tensor, const double *vals, size_t n,
                                 trn_err *err) {
    const trn_tensor *t;
    trn_status s = hbm_tensor(c, tensor, n, err, &t);
    if (s != TRN_OK) return s;
    core_mem *m = &c->mem[TRN_MEM_HBM];
    uint8_t *d = m->data + t->addr, *w = m->written + t->addr;
    if (!t->packed && (t->dtype == TRN_DTYPE_BF16 || t->dtype == TRN_DTYPE_F32)) {
        /* the codes of trn_cvt_from_f32 under TRN_CVT_RNE, a block at a time */
        uint32_t eb = t->elem_bytes;
        for (size_t i0 = 0; i0 < n; i0 += 256) {
            float f[256];
            uint32_t code[256];
            size_t k = n - i0 < 256 ? n - i0 : 256;
            for (size_t i = 0; i < k; i++) f[i] = (float)vals[i0 + i];
            core_encode_rne(t->dtype, f, code, k);
            uint8_t *o = d + i0 * eb;
            if (eb == 2)
                for (size_t i = 0; i < k; i++)
                    o[2 * i] = (uint8_t)code[i], o[2 * i + 1] = (uint8_t)(code[i] >> 8);
            else
                for (size_t i = 0; i < k; i++)
                    for (uint32_t b = 0; b < eb; b++) o[i * eb + b] = (uint8_t)(code[i] >> (8 * b));
        }
        memset(w, m->gen, n * eb);
        return TRN_OK;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t code;
        double v = vals[i];
        if (t->packed)
            code = (uint32_t)to_int(v, 0, 4294967295.0);
        else if (trn_dtype_is_int(t->dtype)) {
            switch (t->dtype) {
            case TRN_DTYPE_INT8: code = (uint32_t)to_int(v, -128, 127); break;
            case TRN_DTYPE_INT16: code = (uint32_t)to_int(v, -32768, 32767); break;
            case TRN_DTYPE_INT32: code = (uint32_t)to_int(v, -2147483648.0, 2147483647.0); break;
            case TRN_DTYPE_UINT8: code = (uint32_t)to_int(v, 0, 255); break;
            case TRN_DTYPE_UINT16: code = (uint32_t)to_int(v, 0, 65535); break;
            default: code = (uint32_t)to_int(v, 0, 4294967295.0); break;
            }
        } else {
            code = trn_cvt_from_f32(t->dtype, (float)v, &TRN_CVT_RNE, 0);
        }
        for (uint32_t b = 0; b < t->elem_bytes; b++) {
            d[i * t->elem_bytes + b] = (uint8_t)(code >> (8 * b));
            w[i * t->elem_bytes + b] = m->gen;
        }
    }
    return TRN_OK;
}

trn_status trn_core_tensor_read(const trn_core *c, int tensor, double *vals, size_t n,
                                size_t *unwritten, trn_err *err) {
    const trn_tensor *t;
    trn_status s = hbm_tensor(c, tensor, n, err, &t);
    if (s != TRN_OK) return s;
    const uint8_t *d = c->mem[TRN_MEM_HBM].data + t->addr;
    const uint8_t *w = c->mem[TRN_MEM_HBM].written + t->addr;
    const uint8_t g = c->mem[TRN_MEM_HBM].gen;
    size_t un = 0;
    if (!t->packed && (t->dtype == TRN_DTYPE_BF16 || t->dtype == TRN_DTYPE_F32)) {
        uint32_t eb = t->elem_bytes;
        for (size_t i0 = 0; i0 < n; i0 += 256) {
            float f[256];
            uint32_t code[256];
            size_t k = n - i0 < 256 ? n - i0 : 256;
            for (size_t i = 0; i < k; i++) {
                code[i] = 0;
                for (uint32_t b = 0; b < eb; b++)
                    code[i] |= (uint32_t)d[(i0 + i) * eb + b] << (8 * b);
            }
            core_decode_codes(t->dtype, code, f, k);
            for (size_t i = 0; i < k; i++) {
                int ok = 1;
                for (uint32_t b = 0; b < eb; b++) ok &= w[(i0 + i) * eb + b] == g;
                un += !ok;
                vals[i0 + i] = ok ? (double)f[i] : 0;
            }
        }
        if (unwritten) *unwritten = un;
        return TRN_OK;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t code = 0;
        int ok = 1;
        for (uint32_t b = 0; b < t->elem_bytes; b++) {
            code |= (uint32_t)d[i * t->elem_bytes + b] << (8 * b);
            ok &= w[i * t->elem_bytes + b] == g;
        }
        if (!ok) {
            un++;
            vals[i] = 0;
        } else if (t->packed || t->dtype == TRN_DTYPE_UINT32 || t->dtype == TRN_DTYPE_UINT16 ||
                   t->dtype == TRN_DTYPE_UINT8) {
            vals[i] = (double)code;
        } else if (trn_dtype_is_int(t->dtype)) {
            vals[i] = (double)(int32_t)core_int_bits(t->dtype, code);
        } else {
            vals[i] = (double)trn_cvt_to_f32(t->dtype, code);
        }
    }
    if (unwritten) *unwritten = un;
    return TRN_OK;
}

/* The one dispatch: opcode to semantics. Every row not listed is reported, not skipped. */
static trn_status execute(trn_core *c, const trn_instr *in) {
    switch (in->op) {
    case TRN_OP_DMA_COPY: return core_op_dma_copy(c, in);
    case TRN_OP_NC_MATMUL: return core_op_nc_matmul(c, in);
    case TRN_OP_NC_MATMUL_MX: return core_op_nc_matmul_mx(c, in);
    case TRN_OP_NC_TRANSPOSE: return core_op_nc_transpose(c, in);
    case TRN_OP_ACTIVATION:
    case TRN_OP_ACTIVATION_REDUCE: return core_op_activation(c, in);
    case TRN_OP_TENSOR_TENSOR: return core_op_tensor_tensor(c, in);
    case TRN_OP_TENSOR_SCALAR: return core_op_tensor_scalar(c, in);
    case TRN_OP_TENSOR_COPY: return core_op_tensor_copy(c, in);
    case TRN_OP_MEMSET: return core_op_memset(c, in);
    case TRN_OP_TENSOR_REDUCE: return core_op_tensor_reduce(c, in);
    case TRN_OP_RECIPROCAL: return core_op_reciprocal(c, in);
    case TRN_OP_QUANTIZE_MX: return core_op_quantize_mx(c, in);
    case TRN_OP_TENSOR_PARTITION_REDUCE: return core_op_tensor_partition_reduce(c, in);
    case TRN_OP_IOTA: return core_op_iota(c, in);
    case TRN_OP_AFFINE_SELECT: return core_op_affine_select(c, in);
    case TRN_OP_ACTIVATE2: return core_op_activate2(c, in);
    case TRN_OP_SCALAR_TENSOR_TENSOR: return core_op_scalar_tensor_tensor(c, in);
    case TRN_OP_TENSOR_SCALAR_REDUCE: return core_op_tensor_scalar_reduce(c, in);
    case TRN_OP_TENSOR_SCALAR_CUMULATIVE: return core_op_tensor_scalar_cumulative(c, in);
    case TRN_OP_TENSOR_TENSOR_SCAN: return core_op_tensor_tensor_scan(c, in);
    case TRN_OP_TENSOR_COPY_PREDICATED: return core_op_tensor_copy_predicated(c, in);
    case TRN_OP_RANGE_SELECT: return core_op_range_select(c, in);
    case TRN_OP_SELECT_REDUCE: return core_op_select_reduce(c, in);
    case TRN_OP_EXPONENTIAL: return core_op_exponential(c, in);
    case TRN_OP_BN_STATS: return core_op_bn_stats(c, in);
    case TRN_OP_BN_AGGR: return core_op_bn_aggr(c, in);
    case TRN_OP_MAX8: return core_op_max8(c, in);
    case TRN_OP_NC_FIND_INDEX8: return core_op_nc_find_index8(c, in);
    case TRN_OP_NC_MATCH_REPLACE8: return core_op_nc_match_replace8(c, in);
    case TRN_OP_NC_STREAM_SHUFFLE: return core_op_nc_stream_shuffle(c, in);
    case TRN_OP_RNG: return core_op_rng(c, in);
    case TRN_OP_SET_RNG_SEED: return core_op_set_rng_seed(c, in);
    case TRN_OP_RAND2: return core_op_rand2(c, in);
    case TRN_OP_RAND_SET_STATE: return core_op_rand_set_state(c, in);
    case TRN_OP_RAND_GET_STATE: return core_op_rand_get_state(c, in);
    case TRN_OP_DROPOUT: return core_op_dropout(c, in);
    case TRN_OP_NC_N_GATHER: return core_op_nc_n_gather(c, in);
    case TRN_OP_NONZERO_WITH_COUNT: return core_op_nonzero_with_count(c, in);
    case TRN_OP_DMA_TRANSPOSE: return core_op_dma_transpose(c, in);
    case TRN_OP_DMA_COMPUTE: return core_op_dma_compute(c, in);
    case TRN_OP_LOCAL_GATHER: return core_op_local_gather(c, in);
    case TRN_OP_SEQUENCE_BOUNDS: return core_op_sequence_bounds(c, in);
    case TRN_OP_TOPK: return core_op_topk(c, in);
    case TRN_OP_REGISTER_ALLOC: return core_op_register_alloc(c, in);
    case TRN_OP_REGISTER_MOVE: return core_op_register_move(c, in);
    case TRN_OP_REGISTER_LOAD: return core_op_register_load(c, in);
    case TRN_OP_REGISTER_STORE: return core_op_register_store(c, in);
    default: {
        const trn_isa_op *row = trn_isa_op_get(in->op);
        return core_fault(c, TRN_E_UNSUPPORTED,
                          "instruction %s is not yet executed by the simulator (docs/semantics.md "
                          "lists the executed ones)",
                          row ? row->name : "?");
    }
    }
}

trn_status trn_core_check_inputs(const trn_core *c, trn_err *err) {
    const trn_program *p = c->p;
    for (int i = 0; i < p->ntensors; i++) {
        const trn_tensor *t = &p->tensors[i];
        if (t->role != TRN_ROLE_INPUT || t->mem != TRN_MEM_HBM) continue;
        const uint8_t *w = c->mem[TRN_MEM_HBM].written;
        int any = 0;
        for (uint64_t b = t->addr;
             !any && b < t->addr + t->bytes && b < c->mem[TRN_MEM_HBM].part_bytes; b++)
            any = w[b] == c->mem[TRN_MEM_HBM].gen;
        if (!any && t->bytes)
            return trn_err_set(err, TRN_E_INVALID, "kernel %s: input '%s' was never given", p->name,
                               t->name);
    }
    return TRN_OK;
}

trn_status trn_core_run_to(trn_core *c, int end, trn_err *err) {
    const trn_program *p = c->p;
    if (end > p->ninstrs) end = p->ninstrs;
    if (c->has_fault) return trn_err_set(err, c->fault.status, "%s", c->fault.msg);
    for (int i = c->next; i < end; i++) {
        const trn_instr *in = &p->instrs[i];
        c->cur = i;
        c->wcount = 0;
        trn_status s;
        if (in->op == TRN_OP_CORE_BARRIER || in->op == TRN_OP_SENDRECV)
            /* carried out by the chip layer (trn_core_skip), never reached in a grid */
            s = core_fault(c, TRN_E_FAULT,
                           "%s synchronizes several cores: run the kernel on a grid (trnsim exec "
                           "--grid N)",
                           trn_isa_op_get(in->op)->name);
        else
            s = execute(c, in);
        core_tmp_reset(c);
        if (s == TRN_OK && c->has_fault) s = c->fault.status; /* a race found by a store */
        if (s == TRN_E_NOMEM && !c->has_fault)
            return trn_err_set(err, TRN_E_NOMEM, "core: out of memory in instruction %d", i);
        if (s != TRN_OK) return trn_err_set(err, s, "%s", c->fault.msg);
        if ((unsigned)in->engine < TRN_ENGINE_COUNT) c->count[in->engine]++;
        c->next = i + 1;
    }
    return TRN_OK;
}

trn_status trn_core_run(trn_core *c, trn_err *err) {
    if (c->ran) return trn_err_set(err, TRN_E_INVALID, "core: a core runs its program once");
    c->ran = 1;
    trn_status s = trn_core_check_inputs(c, err);
    if (s != TRN_OK) return s;
    return trn_core_run_to(c, c->p->ninstrs, err);
}

int trn_core_next(const trn_core *c) {
    return c->next;
}

void trn_core_skip(trn_core *c) {
    if (c->next >= c->p->ninstrs) return;
    const trn_instr *in = &c->p->instrs[c->next];
    if ((unsigned)in->engine < TRN_ENGINE_COUNT) c->count[in->engine]++;
    c->next++;
}

const trn_fault *trn_core_fault(const trn_core *c) {
    return c->has_fault ? &c->fault : NULL;
}

uint64_t trn_core_instr_count(const trn_core *c, trn_engine e) {
    return (unsigned)e < TRN_ENGINE_COUNT ? c->count[e] : 0;
}

uint64_t trn_core_instr_total(const trn_core *c) {
    uint64_t n = 0;
    for (int e = 0; e < TRN_ENGINE_COUNT; e++) n += c->count[e];
    return n;
}

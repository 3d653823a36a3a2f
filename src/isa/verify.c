/* The verifier: checks an assembled program against one NeuronCore version before it runs.
 * Rules and their sources (trainium-facts.md): partition counts and start partitions (§2.4),
 * SBUF/PSUM totals per partition (§2.2), matmul K/M/N limits and PSUM banks (§2.5, §2.6),
 * engine/memory connectivity (§2.3), data types and modes per core version (§2.5, §2.8, the
 * ISA pages), operand shapes of elementwise instructions. It stops at the first violation.
 *
 * Deliberately left out: anything that depends on data or on timing (out-of-bounds indirect
 * indices, races, deadlocks in `.sync manual` kernels): the core simulator reports those as
 * faults at run time. */
#include <stdarg.h>
#include <string.h>

#include "isa_impl.h"

typedef struct vctx {
    const trn_program *p;
    const trn_isa_target *t;
    trn_err *err;
    const trn_instr *in;
    const trn_isa_op *row;
} vctx;

static trn_status verr(vctx *V, uint32_t line, uint32_t col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static trn_status verr(vctx *V, uint32_t line, uint32_t col, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return trn_err_set(V->err, TRN_E_INVALID, "%s:%u:%u: %s",
                       V->p->source_path ? V->p->source_path : "<program>", (unsigned)line,
                       (unsigned)(col ? col : 1), msg);
}

/* Error at an operand of the current instruction (its column when known). */
#define OERR(o, ...) verr(V, V->in->line, (o) && (o)->col ? (o)->col : V->in->col, __VA_ARGS__)
#define IERR(...)    verr(V, V->in->line, V->in->col, __VA_ARGS__)
#define TRY(x)                       \
    do {                             \
        trn_status s_ = (x);         \
        if (s_ != TRN_OK) return s_; \
    } while (0)

static const trn_tensor *tens(vctx *V, const trn_operand *o) {
    return &V->p->tensors[o->u.ap.tensor];
}

static const char *dtname(const trn_tensor *t, char *buf, size_t n) {
    return isa_dtype_name(t->dtype, t->packed, buf, n);
}

static const trn_operand *arg(vctx *V, const char *key) {
    int k = trn_isa_arg_find(V->in->op, key);
    return k < 0 ? NULL : trn_instr_arg(V->p, V->in, k);
}

static int is_ap(const trn_operand *o) {
    return o && (o->kind == TRN_ARG_AP_IN || o->kind == TRN_ARG_AP_OUT);
}

static const trn_isa_arg *spec(vctx *V, const trn_operand *o) {
    return &V->row->args[o->key];
}

/* ---- tensors and totals ---------------------------------------------------------------- */

static trn_status dtype_supported(vctx *V, const trn_tensor *t) {
    char b[32];
    int v = V->t->version;
    if (t->dtype == TRN_DTYPE_FP6_E3M2 || t->dtype == TRN_DTYPE_FP6_E2M3)
        return verr(V, t->line, 1,
                    "tensor '%s': %s is not a NeuronCore tensor type (no engine stores FP6)",
                    t->name, dtname(t, b, sizeof b));
    if (t->dtype == TRN_DTYPE_FP4_E2M1 && !t->packed)
        return verr(V, t->line, 1, "tensor '%s': fp4_e2m1 exists only packed as fp4_e2m1_x4",
                    t->name);
    if (t->packed && v < 4)
        return verr(V, t->line, 1,
                    "tensor '%s': MX x4-packed type %s needs NeuronCore-v4 or newer (target %s)",
                    t->name, dtname(t, b, sizeof b), V->t->name);
    if (t->dtype == TRN_DTYPE_FP8_E4M3 && v < 4)
        return verr(V, t->line, 1,
                    "tensor '%s': fp8_e4m3 (OCP E4M3FN) needs NeuronCore-v4 or newer (target %s "
                    "has fp8_e4m3_legacy)",
                    t->name, V->t->name);
    return TRN_OK;
}

static trn_status totals(vctx *V, trn_mem mem, uint64_t used, uint64_t cap) {
    if (used <= cap) return TRN_OK;
    const char *nm = mem == TRN_MEM_SBUF ? "SBUF" : "PSUM";
    for (int i = 0; i < V->p->ntensors; i++) {
        const trn_tensor *t = &V->p->tensors[i];
        if (t->mem == mem && t->placed && t->addr + t->bytes > cap)
            return verr(V, t->line, 1,
                        "%s overflow: tensor '%s' at offset=%llu (%llu bytes) ends at byte %llu "
                        "of each partition; %s has %llu (%llu KiB)",
                        nm, t->name, (unsigned long long)t->addr, (unsigned long long)t->bytes,
                        (unsigned long long)(t->addr + t->bytes), V->t->name,
                        (unsigned long long)cap, (unsigned long long)(cap / 1024));
        if (t->mem == mem && t->addr + t->bytes > cap)
            return verr(V, t->line, 1,
                        "%s overflow: tensor '%s' ends at byte %llu of each partition; the "
                        "tiles need %llu bytes per partition and %s has %llu (%llu KiB)",
                        nm, t->name, (unsigned long long)(t->addr + t->bytes),
                        (unsigned long long)used, V->t->name, (unsigned long long)cap,
                        (unsigned long long)(cap / 1024));
    }
    return verr(V, 1, 1, "%s overflow: %llu bytes per partition, %s has %llu", nm,
                (unsigned long long)used, V->t->name, (unsigned long long)cap);
}

/* ---- operands -------------------------------------------------------------------------- */

static int part_start_ok(int start, int count) {
    if (count > 64) return start == 0;
    if (count > 32) return start == 0 || start == 64;
    return start % 32 == 0;
}

/* Engine <-> memory connectivity, trainium-facts §2.3. */
static trn_status engine_mem(vctx *V, const trn_operand *o, const trn_tensor *t, int out) {
    trn_engine e = V->in->engine;
    const char *why = NULL;
    if (t->mem == TRN_MEM_HBM && e != TRN_ENGINE_DMA)
        why = "compute engines reach HBM only through DMA";
    else if (e == TRN_ENGINE_PE && !out && t->mem != TRN_MEM_SBUF)
        why = "TensorE reads SBUF only";
    else if (e == TRN_ENGINE_PE && out && t->mem != TRN_MEM_PSUM)
        why = "TensorE writes PSUM only";
    else if (e == TRN_ENGINE_POOL && t->mem == TRN_MEM_PSUM)
        why = "GpSimd has no PSUM access";
    if (!why) return TRN_OK;
    return OERR(o, "%s on engine %s cannot %s %s tensor '%s': %s (trainium-facts §2.3)",
                V->row->name, trn_engine_name(e), out ? "write" : "read", trn_mem_name(t->mem),
                t->name, why);
}

static trn_status operand(vctx *V, const trn_operand *o) {
    const trn_isa_arg *s = spec(V, o);
    const trn_tensor *t = tens(V, o);
    const trn_ap *ap = &o->u.ap;
    int out = o->kind == TRN_ARG_AP_OUT;
    if (!(s->mems >> t->mem & 1)) {
        char lst[40] = "";
        size_t n = 0;
        for (int m = 0; m < TRN_MEM_COUNT; m++)
            if (s->mems >> m & 1)
                n += (size_t)snprintf(lst + n, sizeof lst - n, "%s%s", n ? " or " : "",
                                      trn_mem_name((trn_mem)m));
        return OERR(o, "%s of %s must be in %s, '%s' is in %s", s->key, V->row->name, lst, t->name,
                    trn_mem_name(t->mem));
    }
    if (V->row->cost != TRN_COST_DMA && V->row->cost != TRN_COST_SEQ) TRY(engine_mem(V, o, t, out));
    int skip_dt = V->in->op == TRN_OP_NC_MATMUL && !strcmp(s->key, "dst") &&
                  arg(V, "is_transpose") && arg(V, "is_transpose")->u.i;
    if (s->kind != TRN_ARG_SCALAR && !skip_dt &&
        !trn_isa_dtype_ok(s->dtype, t->dtype, t->packed, V->t->version)) {
        char b[32];
        return OERR(o, "%s of %s must be %s on %s, '%s' is %s", s->key, V->row->name,
                    trn_dtclass_name(s->dtype), V->t->name, t->name, dtname(t, b, sizeof b));
    }
    if (t->mem != TRN_MEM_HBM) {
        if (ap->part_count > V->t->partitions)
            return OERR(o, "'%s' uses %u partitions, %s has %u", t->name, ap->part_count,
                        V->t->name, V->t->partitions);
        if (!part_start_ok(ap->part_start, ap->part_count))
            return OERR(o,
                        "'%s' accesses %u partitions from partition %u; trainium-facts §2.4 "
                        "allows start 0 for 64 < P <= 128, 0 or 64 for 32 < P <= 64, and 0, 32, "
                        "64 or 96 for P <= 32",
                        t->name, ap->part_count, ap->part_start);
    }
    return TRN_OK;
}

/* ---- shapes ---------------------------------------------------------------------------- */

static trn_status same_shape(vctx *V, const trn_operand *o, const trn_operand *ref) {
    const trn_ap *a = &o->u.ap, *b = &ref->u.ap;
    if (V->row->cost == TRN_COST_DMA) {
        if (trn_ap_elems(a) != trn_ap_elems(b))
            return OERR(o, "%s '%s' has %lld elements, %s '%s' has %lld", spec(V, o)->key,
                        tens(V, o)->name, (long long)trn_ap_elems(a), spec(V, ref)->key,
                        tens(V, ref)->name, (long long)trn_ap_elems(b));
        return TRN_OK;
    }
    if (a->part_count != b->part_count || trn_ap_free_elems(a) != trn_ap_free_elems(b))
        return OERR(o,
                    "%s '%s' is %u partitions x %lld elements, %s '%s' is %u x %lld (the shapes "
                    "must agree)",
                    spec(V, o)->key, tens(V, o)->name, a->part_count,
                    (long long)trn_ap_free_elems(a), spec(V, ref)->key, tens(V, ref)->name,
                    b->part_count, (long long)trn_ap_free_elems(b));
    return TRN_OK;
}

static trn_status vector_shape(vctx *V, const trn_operand *o, const trn_operand *main) {
    const trn_ap *a = &o->u.ap;
    unsigned p = main ? main->u.ap.part_count : a->part_count;
    if (a->part_count != p || trn_ap_free_elems(a) != 1)
        return OERR(
            o, "%s '%s' must be a [%u, 1] tile (one element per partition), it is %u x %lld",
            spec(V, o)->key, tens(V, o)->name, p, a->part_count, (long long)trn_ap_free_elems(a));
    return TRN_OK;
}

static int64_t free_of(const trn_operand *o) {
    return trn_ap_free_elems(&o->u.ap);
}

static trn_status free_range(vctx *V, const trn_operand *o, int64_t lo, int64_t hi) {
    int64_t n = free_of(o);
    if (n < lo || n > hi)
        return OERR(o, "%s of %s has %lld elements per partition, the limit is %lld..%lld",
                    spec(V, o)->key, V->row->name, (long long)n, (long long)lo, (long long)hi);
    return TRN_OK;
}

static trn_status free_exact(vctx *V, const trn_operand *o, int64_t want) {
    if (free_of(o) != want)
        return OERR(o, "%s of %s must have %lld elements per partition, it has %lld",
                    spec(V, o)->key, V->row->name, (long long)want, (long long)free_of(o));
    return TRN_OK;
}

static trn_status not_both_psum(vctx *V, const trn_operand *a, const trn_operand *b) {
    if (is_ap(a) && is_ap(b) && tens(V, a)->mem == TRN_MEM_PSUM && tens(V, b)->mem == TRN_MEM_PSUM)
        return OERR(b, "%s: %s and %s cannot both be in PSUM", V->row->name, spec(V, a)->key,
                    spec(V, b)->key);
    return TRN_OK;
}

/* ---- instruction-specific rules -------------------------------------------------------- */

/* The src of an indirect dma_copy (src_index given): its rows are picked at run time, so it
 * is not the same shape as dst (gather_rules checks it instead). */
static int is_gather_src(vctx *V, const trn_operand *o) {
    return V->in->op == TRN_OP_DMA_COPY && !strcmp(spec(V, o)->key, "src") &&
           arg(V, "src_index") != NULL;
}

/* dma_copy with src_index: a software-DGE gather of rows of an HBM src into the partitions of
 * an SBUF dst (docs/semantics.md, DMA). */
static trn_status gather_rules(vctx *V) {
    const trn_operand *d = arg(V, "dst"), *s = arg(V, "src"), *ix = arg(V, "src_index");
    const trn_tensor *st = tens(V, s), *dt = tens(V, d);
    if (V->in->engine != TRN_ENGINE_POOL)
        return IERR("dma_copy with src_index (an indirect gather) needs software DGE: its "
                    "descriptors are made at run time from the indices, so issue it from "
                    "GpSimd with engine=gpsimd (engine is %s)",
                    trn_engine_name(V->in->engine));
    const trn_operand *dg = arg(V, "dge_mode");
    if (dg && dg->u.i != TRN_DGE_SWDGE && dg->u.i != TRN_DGE_UNKNOWN)
        return OERR(dg, "dma_copy with src_index gathers through software DGE: dge_mode must "
                        "be swdge or left out");
    if (st->mem != TRN_MEM_HBM)
        return OERR(s,
                    "src of a dma_copy with src_index must be an HBM tensor (its first "
                    "dimension is indexed), '%s' is in %s",
                    st->name, trn_mem_name(st->mem));
    if (dt->mem != TRN_MEM_SBUF)
        return OERR(d,
                    "dst of a dma_copy with src_index must be in sbuf (partition p receives "
                    "row src_index[p]), '%s' is in %s",
                    dt->name, trn_mem_name(dt->mem));
    if (s->u.ap.sel[0].index)
        return OERR(s,
                    "src '%s' of a dma_copy with src_index must keep its first dimension "
                    "(a slice, not an index): that dimension is the one indexed",
                    st->name);
    const trn_ap *ia = &ix->u.ap, *da = &d->u.ap;
    if (ia->part_count != da->part_count || trn_ap_free_elems(ia) != 1)
        return OERR(ix,
                    "src_index '%s' must be a [%u, 1] tile (one row index per partition of "
                    "dst), it is %u x %lld",
                    tens(V, ix)->name, da->part_count, ia->part_count,
                    (long long)trn_ap_free_elems(ia));
    int64_t rows = s->u.ap.sel[0].num, row = rows > 0 ? trn_ap_elems(&s->u.ap) / rows : 0;
    if (trn_ap_free_elems(da) != row)
        return OERR(d, "dst '%s' has %lld elements per partition, one row of src '%s' has %lld",
                    dt->name, (long long)trn_ap_free_elems(da), st->name, (long long)row);
    return TRN_OK;
}

static int is_fp8(trn_dtype d) {
    return d == TRN_DTYPE_FP8_E4M3 || d == TRN_DTYPE_FP8_E5M2 || d == TRN_DTYPE_FP8_E4M3_LEGACY;
}
static int is_fp32ish(trn_dtype d) {
    return d == TRN_DTYPE_F32 || d == TRN_DTYPE_TF32;
}

static trn_status matmul(vctx *V) {
    const trn_operand *dst = arg(V, "dst"), *st = arg(V, "stationary"), *mv = arg(V, "moving");
    const trn_operand *pm = arg(V, "perf_mode");
    int mx = V->in->op == TRN_OP_NC_MATMUL_MX;
    int dbl = pm && pm->u.i == TRN_PERF_DOUBLE_ROW;
    const trn_tensor *td = tens(V, dst), *ts = tens(V, st), *tm = tens(V, mv);
    char b1[32], b2[32];
    if (dbl) {
        if (V->t->version < 3)
            return OERR(pm, "perf_mode=double_row needs NeuronCore-v3 or newer (target %s)",
                        V->t->name);
        if (!is_fp8(ts->dtype) || !is_fp8(tm->dtype))
            return OERR(pm, "perf_mode=double_row needs fp8 stationary and moving (got %s and %s)",
                        dtname(ts, b1, sizeof b1), dtname(tm, b2, sizeof b2));
        if (arg(V, "tile_position") || arg(V, "tile_size"))
            return OERR(pm, "perf_mode=double_row cannot be combined with PE tiling");
        for (int k = 0; k < 2; k++) {
            const trn_operand *o = k ? mv : st;
            if (o->u.ap.nfree < 2 || o->u.ap.free[0].num != 2)
                return OERR(o,
                            "with perf_mode=double_row, %s must be [K/2, 2, ...]: its first free "
                            "dimension must be 2",
                            spec(V, o)->key);
        }
    }
    if (!mx) {
        if (is_fp32ish(ts->dtype) != is_fp32ish(tm->dtype))
            return OERR(mv, "nc_matmul cannot mix %s and %s: f32/tf32 goes with f32/tf32 only",
                        dtname(ts, b1, sizeof b1), dtname(tm, b2, sizeof b2));
        if ((ts->dtype == TRN_DTYPE_FP8_E4M3 && tm->dtype == TRN_DTYPE_FP8_E4M3_LEGACY) ||
            (tm->dtype == TRN_DTYPE_FP8_E4M3 && ts->dtype == TRN_DTYPE_FP8_E4M3_LEGACY))
            return OERR(mv, "nc_matmul cannot mix legacy fp8_e4m3_legacy with OCP fp8_e4m3");
    }
    int kmul = mx ? 4 : dbl ? 2 : 1;
    int64_t ks = st->u.ap.part_count, km = mv->u.ap.part_count;
    if (ks != km)
        return OERR(mv, "contraction mismatch: stationary has %lld partitions, moving %lld",
                    (long long)ks, (long long)km);
    int64_t K = ks * kmul, M = free_of(st) / (dbl ? 2 : 1), N = free_of(mv) / (dbl ? 2 : 1);
    if (K > 128 * kmul)
        return OERR(st, "K = %lld exceeds %d (128 partitions%s)", (long long)K, 128 * kmul,
                    mx    ? " x 4 MX"
                    : dbl ? " x 2 double_row"
                          : "");
    if (M > 128)
        return OERR(st, "M = %lld (stationary free size) exceeds 128 PE columns", (long long)M);
    uint32_t nmax = V->t->matmul_n_max;
    if (td->dtype == TRN_DTYPE_BF16 && V->t->matmul_n_max_bf16_psum)
        nmax = V->t->matmul_n_max_bf16_psum;
    if (N > (int64_t)nmax)
        return OERR(mv, "N = %lld (moving free size) exceeds %u on %s%s", (long long)N, nmax,
                    V->t->name, V->t->version < 4 ? " (one PSUM bank of FP32)" : "");
    if (dst->u.ap.part_count != M || free_of(dst) != N)
        return OERR(dst, "dst '%s' is %u x %lld, expected [M, N] = [%lld, %lld]", td->name,
                    dst->u.ap.part_count, (long long)free_of(dst), (long long)M, (long long)N);
    /* PSUM bank: the bytes of each partition the output touches */
    const trn_ap *a = &dst->u.ap;
    int64_t last = a->offset;
    for (int i = 0; i < a->nfree; i++) last += (int64_t)(a->free[i].num - 1) * a->free[i].step;
    uint64_t lo = td->addr + (uint64_t)a->offset * td->elem_bytes;
    uint64_t hi = td->addr + (uint64_t)last * td->elem_bytes + td->elem_bytes - 1;
    if (V->t->version < 4 && lo / TRN_PSUM_BANK_BYTES != hi / TRN_PSUM_BANK_BYTES)
        return OERR(dst,
                    "matmul output '%s' covers PSUM bytes %llu..%llu of each partition, crossing "
                    "a %d-byte bank boundary (on %s a matmul writes one bank)",
                    td->name, (unsigned long long)lo, (unsigned long long)hi, TRN_PSUM_BANK_BYTES,
                    V->t->name);
    const trn_operand *tp = arg(V, "tile_position"), *tz = arg(V, "tile_size");
    if ((tp == NULL) != (tz == NULL))
        return IERR("tile_position and tile_size must be given together");
    if (tp) {
        const int64_t *p = V->p->ints + tp->u.list.first, *z = V->p->ints + tz->u.list.first;
        if (tp->u.list.count != 2 || tz->u.list.count != 2)
            return OERR(tp, "tile_position and tile_size are (row, column) pairs");
        int64_t mn = V->t->version >= 3 ? 32 : 64;
        for (int i = 0; i < 2; i++) {
            if (z[i] != 128 && z[i] != 64 && !(z[i] == 32 && mn == 32))
                return OERR(tz, "tile size %lld: row/column tiles are 128, 64%s", (long long)z[i],
                            mn == 32 ? " or 32" : " (32 needs NeuronCore-v3)");
            if (p[i] < 0 || p[i] % z[i] || p[i] + z[i] > 128)
                return OERR(tp,
                            "tile position %lld must be a multiple of the tile size %lld "
                            "inside the 128 x 128 array",
                            (long long)p[i], (long long)z[i]);
        }
        if (V->t->version < 3 && z[0] == 32 && z[1] == 32)
            return OERR(tz, "on NeuronCore-v2 row and column tiles cannot both be 32");
        if (ks > z[0] || M > z[1])
            return OERR(tz, "stationary [%lld, %lld] does not fit tile (%lld, %lld)", (long long)ks,
                        (long long)M, (long long)z[0], (long long)z[1]);
        if (mx && (z[1] != 128 || p[1] != 0))
            return OERR(tz, "nc_matmul_mx supports row tiling only (column size 128, start 0)");
    }
    if (mx) {
        if (ks % 32)
            return OERR(st, "nc_matmul_mx needs a multiple of 32 partitions, got %lld",
                        (long long)ks);
        if (M % 2)
            return OERR(st, "nc_matmul_mx needs an even stationary free size, got %lld",
                        (long long)M);
    }
    return TRN_OK;
}

static trn_status transpose(vctx *V) {
    const trn_operand *dst = arg(V, "dst"), *d = arg(V, "data");
    int64_t p = d->u.ap.part_count, f = free_of(d);
    int lim = V->in->engine == TRN_ENGINE_PE ? 128 : 32;
    if (p > lim || f > lim)
        return OERR(d, "nc_transpose on %s handles at most [%d, %d], data is [%lld, %lld]",
                    trn_engine_name(V->in->engine), lim, lim, (long long)p, (long long)f);
    if (dst->u.ap.part_count != f || free_of(dst) != p)
        return OERR(dst, "dst of nc_transpose must be [%lld, %lld], it is [%u, %lld]", (long long)f,
                    (long long)p, dst->u.ap.part_count, (long long)free_of(dst));
    if (tens(V, dst)->dtype != tens(V, d)->dtype)
        return OERR(dst, "dst of nc_transpose must have the data type of data");
    return TRN_OK;
}

static trn_status reduce_axes(vctx *V) {
    const trn_operand *ax = arg(V, "axis"), *d = arg(V, "data");
    int rank = 1 + d->u.ap.nfree; /* partition + free dims of the operand */
    uint32_t n = ax->u.list.count;
    const int64_t *v = V->p->ints + ax->u.list.first;
    if (n == 0) return OERR(ax, "axis needs at least one dimension");
    for (uint32_t i = 0; i < n; i++) {
        int64_t want = rank - (int64_t)n + i;
        if (v[i] != want || want < 1)
            return OERR(ax,
                        "axis must list the last free dimensions of data in order (data has "
                        "rank %d: e.g. [%d])",
                        rank, rank - 1);
    }
    return TRN_OK;
}

static trn_status pattern_size(vctx *V, const trn_operand *pt, const trn_operand *dst) {
    int64_t prod = 1;
    for (uint32_t i = 1; i < pt->u.list.count; i += 2) prod *= V->p->ints[pt->u.list.first + i];
    if (prod != free_of(dst))
        return OERR(pt, "pattern covers %lld elements, dst has %lld per partition", (long long)prod,
                    (long long)free_of(dst));
    return TRN_OK;
}

static trn_status specific(vctx *V) {
    const trn_instr *in = V->in;
    int v = V->t->version;
    trn_engine e = in->engine;
    switch (in->op) {
    case TRN_OP_NC_MATMUL:
    case TRN_OP_NC_MATMUL_MX: return matmul(V);
    case TRN_OP_NC_TRANSPOSE: return transpose(V);
    case TRN_OP_ACTIVATION:
    case TRN_OP_ACTIVATION_REDUCE: {
        const trn_operand *bias = arg(V, "bias");
        if (bias && bias->kind == TRN_ARG_FLOAT && v < 3)
            return OERR(bias, "on NeuronCore-v2 bias must be a [P, 1] tile, not an immediate");
        return TRN_OK;
    }
    case TRN_OP_TENSOR_TENSOR: return not_both_psum(V, arg(V, "data1"), arg(V, "data2"));
    case TRN_OP_TENSOR_TENSOR_SCAN: return not_both_psum(V, arg(V, "data0"), arg(V, "data1"));
    case TRN_OP_SCALAR_TENSOR_TENSOR: return not_both_psum(V, arg(V, "data"), arg(V, "operand1"));
    case TRN_OP_TENSOR_COPY_PREDICATED: return not_both_psum(V, arg(V, "src"), arg(V, "predicate"));
    case TRN_OP_SELECT_REDUCE: return not_both_psum(V, arg(V, "on_true"), arg(V, "predicate"));
    case TRN_OP_TENSOR_SCALAR: {
        const trn_operand *o0 = arg(V, "op0"), *o1 = arg(V, "op1");
        if (o1 && trn_alu_is_bitvec((trn_alu_op)o0->u.i) != trn_alu_is_bitvec((trn_alu_op)o1->u.i))
            return OERR(o1, "op0 and op1 must both be arithmetic or both bitvec operators");
        if (trn_alu_is_bitvec((trn_alu_op)o0->u.i) && e != TRN_ENGINE_DVE)
            return OERR(o0, "bitvec operators run on the vector engine only");
        if ((o1 != NULL) != (arg(V, "operand1") != NULL))
            return IERR("op1 and operand1 must be given together");
        return TRN_OK;
    }
    case TRN_OP_TENSOR_COPY:
        if (e == TRN_ENGINE_ACT && v < 3)
            return IERR("tensor_copy on the scalar engine needs NeuronCore-v3 or newer "
                        "(use activation op=copy on v2)");
        return TRN_OK;
    case TRN_OP_TENSOR_REDUCE: return reduce_axes(V);
    case TRN_OP_IOTA:
    case TRN_OP_AFFINE_SELECT: return pattern_size(V, arg(V, "pattern"), arg(V, "dst"));
    case TRN_OP_RNG:
        if (e == TRN_ENGINE_POOL && v < 3)
            return IERR("rng on gpsimd needs NeuronCore-v3 or newer");
        return TRN_OK;
    case TRN_OP_RAND_SET_STATE:
    case TRN_OP_RAND_GET_STATE:
        if (e == TRN_ENGINE_DVE && v < 4)
            return IERR("%s on the vector engine needs NeuronCore-v4 or newer", V->row->name);
        return TRN_OK;
    case TRN_OP_BN_STATS:
        TRY(free_range(V, arg(V, "data"), 1, 512)); /* nl.tile_size.bn_stats_fmax */
        return free_exact(V, arg(V, "dst"), 6);
    case TRN_OP_BN_AGGR: {
        const trn_operand *d = arg(V, "data");
        if (free_of(d) % 3)
            return OERR(d,
                        "data of bn_aggr holds (count, mean, var*count) triples: %lld elements "
                        "per partition is not a multiple of 3",
                        (long long)free_of(d));
        return free_exact(V, arg(V, "dst"), 2);
    }
    case TRN_OP_MAX8:
        TRY(free_range(V, arg(V, "src"), 8, 16384));
        return free_exact(V, arg(V, "dst"), 8);
    case TRN_OP_NC_FIND_INDEX8:
        TRY(free_range(V, arg(V, "data"), 8, 16384));
        TRY(free_exact(V, arg(V, "vals"), 8));
        return free_exact(V, arg(V, "dst"), 8);
    case TRN_OP_NC_MATCH_REPLACE8:
        TRY(free_range(V, arg(V, "data"), 8, 16384));
        return free_exact(V, arg(V, "vals"), 8);
    case TRN_OP_NC_STREAM_SHUFFLE: {
        const trn_operand *m = arg(V, "shuffle_mask");
        if (m->u.list.count != 32)
            return OERR(m, "shuffle_mask has %u entries, expected 32", m->u.list.count);
        for (uint32_t i = 0; i < 32; i++) {
            int64_t x = V->p->ints[m->u.list.first + i];
            if ((x < 0 || x > 31) && x != 255)
                return OERR(m, "shuffle_mask entry %lld: expected 0..31 or 255", (long long)x);
        }
        return TRN_OK;
    }
    case TRN_OP_QUANTIZE_MX: {
        const trn_operand *s = arg(V, "src"), *d = arg(V, "dst");
        if (s->u.ap.part_count % 32)
            return OERR(s, "src of quantize_mx needs a multiple of 32 partitions, got %u",
                        s->u.ap.part_count);
        if (free_of(s) % 4 || free_of(d) * 4 != free_of(s))
            return OERR(d,
                        "dst of quantize_mx holds src's %lld elements per partition as x4 "
                        "packs: expected %lld, got %lld",
                        (long long)free_of(s), (long long)free_of(s) / 4, (long long)free_of(d));
        return TRN_OK;
    }
    case TRN_OP_DMA_COPY: {
        const trn_tensor *a = tens(V, arg(V, "dst")), *b = tens(V, arg(V, "src"));
        if ((a->packed || b->packed) && (a->dtype != b->dtype || a->packed != b->packed))
            return IERR("DMA cannot cast MX x4-packed types (dst and src dtypes must match)");
        const trn_operand *pr = arg(V, "priority");
        if (pr && (v < 4 || pr->u.i < 0 || pr->u.i > 3))
            return OERR(pr, "priority is 0..3 and needs NeuronCore-v4 or newer");
        const trn_operand *dg = arg(V, "dge_mode");
        if (dg && dg->u.i == TRN_DGE_HWDGE && v < 3)
            return OERR(dg, "dge_mode=hwdge needs NeuronCore-v3 or newer");
        return arg(V, "src_index") ? gather_rules(V) : TRN_OK;
    }
    case TRN_OP_DMA_TRANSPOSE: {
        const trn_tensor *b = tens(V, arg(V, "src"));
        if (b->elem_bytes != 2) return IERR("dma_transpose moves 2-byte data types only");
        return TRN_OK;
    }
    case TRN_OP_REGISTER_LOAD:
    case TRN_OP_REGISTER_STORE: {
        const trn_operand *o = arg(V, in->op == TRN_OP_REGISTER_LOAD ? "src" : "dst");
        if (trn_ap_elems(&o->u.ap) != 1 || tens(V, o)->elem_bytes > 4)
            return OERR(o, "%s moves one element of at most 32 bits", V->row->name);
        return TRN_OK;
    }
    case TRN_OP_SENDRECV: {
        const trn_operand *a = arg(V, "send_to_rank"), *b = arg(V, "recv_from_rank");
        if (a->u.i < 0 || a->u.i > 1 || b->u.i < 0 || b->u.i > 1)
            return IERR("sendrecv ranks are 0 or 1 (the two cores of an LNC=2 core)");
        return TRN_OK;
    }
    default: return TRN_OK;
    }
}

static trn_status instruction(vctx *V) {
    const trn_instr *in = V->in;
    const trn_isa_op *row = V->row;
    if (row->min_version > V->t->version)
        return IERR("%s needs NeuronCore-v%d or newer (target %s)", row->name, row->min_version,
                    V->t->name);
    const trn_operand *dst = NULL, *main = NULL;
    for (uint32_t i = 0; i < in->nargs; i++) {
        const trn_operand *o = &V->p->args[in->arg0 + i];
        unsigned fl = spec(V, o)->flags;
        if (!is_ap(o)) continue;
        if (!dst && o->kind == TRN_ARG_AP_OUT) dst = o;
        if (!main && (fl & TRN_ARGF_MAIN)) main = o;
        TRY(operand(V, o));
    }
    for (uint32_t i = 0; i < in->nargs; i++) {
        const trn_operand *o = &V->p->args[in->arg0 + i];
        const trn_isa_arg *s = spec(V, o);
        if (!is_ap(o)) continue;
        if ((s->flags & TRN_ARGF_SAME) && dst && o != dst && !is_gather_src(V, o))
            TRY(same_shape(V, o, dst));
        else if ((s->kind == TRN_ARG_SCALAR && !(s->flags & TRN_ARGF_SAME)) ||
                 (s->flags & TRN_ARGF_VECTOR))
            TRY(vector_shape(V, o, main));
    }
    return specific(V);
}

trn_status trn_program_verify(const trn_program *p, const trn_isa_target *t, trn_err *err) {
    vctx V = {p, t, err, NULL, NULL};
    if (!t || t->version < 2)
        return trn_err_set(err, TRN_E_INVALID, "verify: no target core version");
    for (int i = 0; i < p->ntensors; i++) {
        const trn_tensor *x = &p->tensors[i];
        TRY(dtype_supported(&V, x));
        if (x->mem != TRN_MEM_HBM && x->shape[0] > (int64_t)t->partitions)
            return verr(&V, x->line, 1,
                        "tensor '%s' has %lld partitions (its first dimension); %s has %u", x->name,
                        (long long)x->shape[0], t->name, t->partitions);
    }
    TRY(totals(&V, TRN_MEM_SBUF, p->sbuf_bytes, t->sbuf_bytes_per_partition));
    TRY(totals(&V, TRN_MEM_PSUM, p->psum_bytes, t->psum_bytes_per_partition));
    for (int i = 0; i < p->ninstrs; i++) {
        V.in = &p->instrs[i];
        V.row = trn_isa_op_get(V.in->op);
        TRY(instruction(&V));
    }
    return TRN_OK;
}

/* DMA instructions: dma_copy, dma_transpose, dma_compute. dma_copy moves between HBM and SBUF
 * in any direction (SBUF<->SBUF and HBM<->HBM included). Element i of src, in operand order
 * (partition-major, then the free dims outermost first; an HBM operand is its kept dims in order),
 * goes to element i of dst. Same dtype: the bytes are copied exactly (as byte runs when every
 * source byte was written and no race check is on, else through element codes, the reference
 * the byte path is tested against). Different dtypes: src -> FP32 -> dst with the run's rounding.
 *
 * dma_copy with src_index is the indirect (software DGE) gather: partition p of dst (SBUF)
 * receives row src_index[p] of src (HBM), counted inside the slice written for src's first
 * dimension, its other dimensions as written; an index outside that slice is an illegal operand
 * (oob_mode=error) or leaves partition p untouched (oob_mode=skip).
 *
 * Deliberately left out: the queues, descriptors and bandwidth (the timing model's), indirect
 * scatter (an indexed dst), and sendrecv (it needs a second core). */
#include <string.h>

#include "core_impl.h"

/* The end (exclusive) of the run of consecutive elements of view v that starts at element f of
 * a partition: the partition's end for a view of consecutive elements. */
static int64_t run_end(const core_view *v, int64_t f) {
    if (!v->off || (v->off == v->lin && v->F <= v->lin_F)) return v->F;
    const int64_t *o = v->off;
    int64_t e = f + 1;
    while (e < v->F && o[e] == o[e - 1] + (int64_t)v->eb) e++;
    return e;
}

/* Byte offset in its memory of element f of partition p (of the view) of v. */
static inline uint64_t byte_at(const core_view *v, uint32_t p, int64_t f) {
    return (uint64_t)(v->p0 + p) * v->m->part_bytes + (uint64_t)core_view_off(v, f);
}

/* 1 when every byte of view v was written. */
static int all_written(const core_view *v) {
    for (uint32_t p = 0; p < v->P; p++)
        for (int64_t f = 0, e; f < v->F; f = e) {
            e = run_end(v, f);
            if (!core_all_written(v->m->written + byte_at(v, p, f), (size_t)(e - f) * v->eb,
                                  v->m->gen))
                return 0;
        }
    return 1;
}

/* Copies the bytes of view s to view d in flat [P][F] order (the same element count and element
 * size), a run at a time where both are consecutive, marking d's bytes written. With `buf`, s is
 * instead the contiguous bytes at buf (when d and s share a memory, s is first gathered there). */
static void copy_runs(const core_view *d, const core_view *s, const uint8_t *buf) {
    size_t eb = d->eb, left = (size_t)d->P * (size_t)d->F;
    uint32_t ps = 0, pd = 0;
    int64_t fs = 0, fd = 0, es = 0, ed = 0;
    core_mem *m = d->m;
    while (left) {
        if (fd == ed) ed = run_end(d, fd);
        int64_t r = ed - fd;
        const uint8_t *from = buf;
        if (!buf) {
            if (fs == es) es = run_end(s, fs);
            if (es - fs < r) r = es - fs;
            from = s->m->data + byte_at(s, ps, fs);
        }
        uint64_t to = byte_at(d, pd, fd);
        memcpy(m->data + to, from, (size_t)r * eb);
        memset(m->written + to, m->gen, (size_t)r * eb);
        left -= (size_t)r;
        if (buf) buf += (size_t)r * eb;
        if ((fs += r) == s->F) ps++, fs = es = 0;
        if ((fd += r) == d->F) pd++, fd = ed = 0;
    }
}

/* The bytes of view v in flat [P][F] order, into buf. */
static void gather_runs(const core_view *v, uint8_t *buf) {
    for (uint32_t p = 0; p < v->P; p++)
        for (int64_t f = 0, e; f < v->F; f = e) {
            e = run_end(v, f);
            memcpy(buf, v->m->data + byte_at(v, p, f), (size_t)(e - f) * v->eb);
            buf += (size_t)(e - f) * v->eb;
        }
}

/* Copies n flat codes of view s into view d (both already resolved). Same dtype without a race
 * check: the bytes are copied a run at a time (every source byte checked written first; a byte
 * never written leaves the copy to the code path below, which names it), through a scratch copy
 * when d and s share a memory (they may overlap; the code path reads all of s before writing).
 * The code path is the reference (c->dma_ref, tests/test_core_dma_fast.c). */
static trn_status move(trn_core *c, const core_view *d, const core_view *s) {
    size_t n = (size_t)s->P * (size_t)s->F;
    if ((size_t)d->P * (size_t)d->F != n)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: dst '%s' has %zu elements, src '%s' has %zu",
                          d->t->name, (size_t)d->P * (size_t)d->F, s->t->name, n);
    int same = d->t->dtype == s->t->dtype && d->t->packed == s->t->packed;
    if (!same && (d->t->packed || s->t->packed))
        return core_fault(c, TRN_E_FAULT, "illegal operand: DMA cannot cast MX x4-packed types");
    if (same && !c->race && !c->dma_ref && d->eb == s->eb && all_written(s)) {
        uint8_t *buf = NULL;
        if (d->m == s->m) {
            if (!(buf = core_tmp(c, n * s->eb))) return TRN_E_NOMEM;
            gather_runs(s, buf);
        }
        copy_runs(d, s, buf);
        c->dma_fast++;
        return TRN_OK;
    }
    uint32_t *codes = core_tmp(c, n * sizeof *codes);
    if (!codes) return TRN_E_NOMEM;
    trn_status st = core_load_codes(c, s, codes);
    if (st != TRN_OK) return st;
    if (!same)
        for (size_t i = 0; i < n; i++)
            codes[i] = core_encode(c, d->t->dtype, trn_cvt_to_f32(s->t->dtype, codes[i]));
    core_store_codes(c, d, codes); /* [P][F] flat order is the same for both views */
    return TRN_OK;
}

/* The row index held by code `code` of an integer index tile of dtype t (signed types sign
 * extended, unsigned ones zero extended). */
static int64_t index_value(trn_dtype t, uint32_t code) {
    if (t == TRN_DTYPE_UINT8 || t == TRN_DTYPE_UINT16 || t == TRN_DTYPE_UINT32)
        return (int64_t)code;
    return (int64_t)(int32_t)core_int_bits(t, code);
}

/* dma_copy with src_index: one row of src per partition of dst, each moved as a dma_copy of
 * that row (so casts round as dma_copy's do). Only the rows gathered are read. */
static trn_status gather(trn_core *c, const trn_instr *in, const trn_operand *ix) {
    core_view d, iv;
    trn_status st = core_view_arg(c, in, "dst", &d);
    if (st == TRN_OK) st = core_view_of(c, ix, "src_index", &iv);
    if (st != TRN_OK) return st;
    const trn_operand *so = core_arg(c, in, "src");
    if (!so || so->kind != TRN_ARG_AP_IN || so->u.ap.tensor < 0 ||
        so->u.ap.tensor >= c->p->ntensors)
        return core_fault(c, TRN_E_FAULT, "illegal operand: src of the gather is not a tensor");
    const trn_tensor *t = &c->p->tensors[so->u.ap.tensor];
    const trn_sel s0 = so->u.ap.sel[0];
    if (t->mem != TRN_MEM_HBM || d.t->mem == TRN_MEM_HBM || s0.index || iv.P != d.P || iv.F != 1 ||
        !trn_dtype_is_int(iv.t->dtype))
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: a gather takes an HBM src with a sliced first "
                          "dimension, an on-chip dst and an integer [P, 1] src_index");
    uint32_t *codes = core_tmp(c, (size_t)iv.P * sizeof *codes);
    if (!codes) return TRN_E_NOMEM;
    if ((st = core_load_codes(c, &iv, codes)) != TRN_OK) return st;
    int skip = core_arg_int(c, in, "oob_mode", TRN_OOB_ERROR) == TRN_OOB_SKIP;
    for (uint32_t p = 0; p < d.P; p++) {
        int64_t r = index_value(iv.t->dtype, codes[p]);
        if (r < 0 || r >= s0.num) {
            if (skip) continue;
            return core_fault(c, TRN_E_FAULT,
                              "illegal operand: src_index '%s' [partition %u] = %lld: row %lld "
                              "lies outside src '%s' (rows 0..%d of its first dimension)",
                              iv.t->name, iv.p0 + p, (long long)r, (long long)r, t->name,
                              (int)s0.num - 1);
        }
        trn_operand row = *so;
        row.u.ap.sel[0] = (trn_sel){(int32_t)(s0.start + r * s0.step), 1, 1, 0};
        trn_ap_resolve(&row.u.ap, t);
        core_view sv, dv = d;
        if ((st = core_view_of(c, &row, "src", &sv)) != TRN_OK) return st;
        dv.p0 = d.p0 + p, dv.P = 1;
        if ((st = move(c, &dv, &sv)) != TRN_OK) return st;
    }
    return TRN_OK;
}

trn_status core_op_dma_copy(trn_core *c, const trn_instr *in) {
    const trn_operand *ix = core_arg(c, in, "src_index");
    if (ix) return gather(c, in, ix);
    core_view d, s;
    trn_status st = core_view_arg(c, in, "src", &s);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", &d);
    if (st != TRN_OK) return st;
    return move(c, &d, &s);
}

/* dma_transpose: src's logical shape is [partitions, free dims...] on chip, its kept dims in
 * HBM (2 to 4 dims); dst receives the permuted array in row-major order, dst index i taking
 * src axis axes[i] (default (1, 0), (2, 1, 0), (3, 1, 2, 0) by rank). Codes are copied. */
trn_status core_op_dma_transpose(trn_core *c, const trn_instr *in) {
    core_view d, s;
    trn_status st = core_view_arg(c, in, "src", &s);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", &d);
    if (st != TRN_OK) return st;
    const trn_ap *ap = &core_arg(c, in, "src")->u.ap;
    int64_t shape[TRN_MAX_RANK + 1];
    int r = 0;
    if (s.t->mem != TRN_MEM_HBM) shape[r++] = s.P;
    for (int i = 0; i < ap->nfree && r <= TRN_MAX_RANK; i++) shape[r++] = ap->free[i].num;
    static const int def[5][4] = {{0}, {0}, {1, 0}, {2, 1, 0}, {3, 1, 2, 0}};
    if (r < 2 || r > 4)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: dma_transpose takes a 2-, 3- or 4-dimensional src, it "
                          "has %d dimensions",
                          r);
    const trn_operand *ax = core_arg(c, in, "axes");
    if (ax && ax->kind == TRN_ARG_INT_LIST &&
        (uint64_t)ax->u.list.first + ax->u.list.count <= c->p->nints) {
        const int64_t *a = c->p->ints + ax->u.list.first;
        int same = ax->u.list.count == (uint32_t)r;
        for (int i = 0; same && i < r; i++) same = a[i] == def[r][i];
        if (!same)
            return core_fault(c, TRN_E_FAULT,
                              "illegal operand: axes for a %d-dimensional src must be %s", r,
                              r == 2   ? "(1, 0)"
                              : r == 3 ? "(2, 1, 0)"
                                       : "(3, 1, 2, 0)");
    }
    size_t n = (size_t)s.P * (size_t)s.F;
    if ((size_t)d.P * (size_t)d.F != n || d.t->dtype != s.t->dtype || d.t->packed != s.t->packed)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: dst '%s' must hold src's %zu elements in src's dtype",
                          d.t->name, n);
    uint32_t *x = core_tmp(c, n * sizeof *x), *y = core_tmp(c, n * sizeof *y);
    if (!x || !y) return TRN_E_NOMEM;
    if ((st = core_load_codes(c, &s, x)) != TRN_OK) return st;
    int64_t stride[4], dshape[4], j[4] = {0};
    stride[r - 1] = 1;
    for (int k = r - 2; k >= 0; k--) stride[k] = stride[k + 1] * shape[k + 1];
    for (int i = 0; i < r; i++) dshape[i] = shape[def[r][i]];
    for (size_t e = 0; e < n; e++) {
        int64_t off = 0;
        for (int i = 0; i < r; i++) off += j[i] * stride[def[r][i]];
        y[e] = x[off];
        for (int i = r - 1; i >= 0; i--) { /* row-major odometer over dst's shape */
            if (++j[i] < dshape[i]) break;
            j[i] = 0;
        }
    }
    core_store_codes(c, &d, y);
    return TRN_OK;
}

/* dma_compute: dst = srcs[0] * scales[0] + srcs[1] * scales[1] + ... in FP32, list order, each
 * multiply and add one rounding (x * 1.0 is exact), then one rounding to dst's dtype. */
trn_status core_op_dma_compute(trn_core *c, const trn_instr *in) {
    core_view d;
    trn_status st = core_view_arg(c, in, "dst", &d);
    if (st != TRN_OK) return st;
    trn_alu_op op = (trn_alu_op)core_arg_int(c, in, "reduce_op", TRN_ALU_ADD);
    if (op != TRN_ALU_ADD)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: dma_compute reduces with add only, not %s",
                          trn_alu_name(op));
    int key = trn_isa_arg_find(in->op, "srcs");
    const trn_operand *sc = core_arg(c, in, "scales");
    size_t n = (size_t)d.P * (size_t)d.F, nsrc = 0;
    float *acc = core_tmp(c, n * sizeof *acc), *x = core_tmp(c, n * sizeof *x);
    if (!acc || !x) return TRN_E_NOMEM;
    for (uint32_t a = 0; a < in->nargs; a++) {
        uint64_t k = (uint64_t)in->arg0 + a;
        if (k >= c->p->nargs || c->p->args[k].key != key) continue;
        core_view s;
        if ((st = core_view_of(c, &c->p->args[k], "srcs", &s)) != TRN_OK) return st;
        if ((size_t)s.P * (size_t)s.F != n)
            return core_fault(c, TRN_E_FAULT,
                              "illegal operand: srcs[%zu] '%s' has %zu elements, dst '%s' %zu",
                              nsrc, s.t->name, (size_t)s.P * (size_t)s.F, d.t->name, n);
        float scale = 1.0f;
        if (sc) {
            if (sc->kind != TRN_ARG_FLOAT_LIST || nsrc >= sc->u.list.count ||
                (uint64_t)sc->u.list.first + sc->u.list.count > c->p->nfloats)
                return core_fault(c, TRN_E_FAULT,
                                  "illegal operand: scales must give one value per src");
            scale = (float)c->p->floats[sc->u.list.first + nsrc];
        }
        if ((st = core_load_f32(c, &s, x)) != TRN_OK) return st;
        for (size_t i = 0; i < n; i++) acc[i] = nsrc ? acc[i] + x[i] * scale : x[i] * scale;
        nsrc++;
    }
    if (!nsrc || (sc && sc->u.list.count != nsrc))
        return core_fault(c, TRN_E_FAULT, "illegal operand: %zu srcs and %u scales", nsrc,
                          sc ? sc->u.list.count : 0u);
    return core_store_f32(c, &d, acc);
}

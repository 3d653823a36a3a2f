/* The memories of one NeuronCore (SBUF, PSUM, HBM) with their written shadows, and the
 * operand helpers every instruction uses: resolve an access pattern into byte offsets (with
 * bounds checks, so a crafted program faults instead of touching memory it does not own),
 * load codes or FP32 values (faulting on bytes never written), store codes or FP32 values
 * (rounding per the run's options). The HBM may be another core's (the cores of a grid share
 * one), and then every HBM access goes through the cross-core race check (trn_hbm_race), and
 * the sendrecv data movement (trn_core_exchange) lives here too.
 *
 * Deliberately left out: partition-access legality (start partitions, engine/memory
 * connectivity), which is the verifier's; the core checks only what keeps it safe and what a
 * verified program can still get wrong at run time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

trn_status core_mem_init(trn_core *c) {
    const trn_program *p = c->p;
    uint64_t need[TRN_MEM_COUNT] = {p->hbm_bytes, p->sbuf_bytes, p->psum_bytes};
    for (int m = 0; m < TRN_MEM_COUNT; m++) {
        core_mem *cm = &c->mem[m];
        if (m == TRN_MEM_HBM && c->hbm_borrowed) continue;
        cm->parts = m == TRN_MEM_HBM ? 1 : c->t.partitions;
        cm->part_bytes = need[m];
        size_t n = (size_t)(cm->part_bytes * cm->parts);
        cm->data = calloc(n ? n : 1, 1);
        cm->written = calloc(n ? n : 1, 1);
        if (!cm->data || !cm->written) return TRN_E_NOMEM;
    }
    return TRN_OK;
}

void core_mem_fini(trn_core *c) {
    for (int m = 0; m < TRN_MEM_COUNT; m++) {
        if (m == TRN_MEM_HBM && c->hbm_borrowed) {
            c->mem[m].data = c->mem[m].written = NULL;
            continue;
        }
        free(c->mem[m].data);
        free(c->mem[m].written);
        c->mem[m].data = c->mem[m].written = NULL;
    }
}

/* Elements of a tensor per partition (on chip) or in all (HBM). */
static int64_t tensor_elems(const trn_tensor *t) {
    int64_t n = 1;
    for (int d = t->mem == TRN_MEM_HBM ? 0 : 1; d < t->rank && d < TRN_MAX_RANK; d++)
        n *= t->shape[d];
    return n;
}

trn_status core_view_of(trn_core *c, const trn_operand *o, const char *key, core_view *v) {
    const trn_program *p = c->p;
    if (!o || (o->kind != TRN_ARG_AP_IN && o->kind != TRN_ARG_AP_OUT))
        return core_fault(c, TRN_E_FAULT, "illegal operand: %s is not a tile", key);
    const trn_ap *ap = &o->u.ap;
    if (ap->tensor < 0 || ap->tensor >= p->ntensors)
        return core_fault(c, TRN_E_FAULT, "illegal operand: %s names tensor %d of %d", key,
                          (int)ap->tensor, p->ntensors);
    const trn_tensor *t = &p->tensors[ap->tensor];
    memset(v, 0, sizeof *v);
    v->t = t;
    v->key = key;
    if (t->mem >= TRN_MEM_COUNT || (t->elem_bytes != 1 && t->elem_bytes != 2 && t->elem_bytes != 4))
        return core_fault(c, TRN_E_FAULT, "illegal operand: tensor '%s' has a bad memory or size",
                          t->name);
    v->m = &c->mem[t->mem];
    v->eb = t->elem_bytes;
    int onchip = t->mem != TRN_MEM_HBM;
    v->p0 = onchip ? ap->part_start : 0;
    v->P = onchip ? ap->part_count : 1;
    if (onchip && (v->P < 1 || (int64_t)v->p0 + v->P > t->shape[0] || v->p0 + v->P > v->m->parts))
        return core_fault(c, TRN_E_FAULT,
                          "out-of-bounds access: %s '%s' partitions %u..%u, the tensor has %lld",
                          key, t->name, v->p0, v->p0 + v->P - 1, (long long)t->shape[0]);
    if (ap->nfree > TRN_MAX_RANK)
        return core_fault(c, TRN_E_FAULT, "illegal operand: %s has %u free dimensions", key,
                          ap->nfree);
    int64_t F = 1, lo = ap->offset, hi = ap->offset;
    for (int i = 0; i < ap->nfree; i++) {
        int64_t n = ap->free[i].num, s = ap->free[i].step;
        if (n < 1 || n > (1 << 24) || s > ((int64_t)1 << 40) || s < -((int64_t)1 << 40))
            return core_fault(c, TRN_E_FAULT,
                              "illegal operand: %s dimension %d is (num %lld, "
                              "step %lld)",
                              key, i, (long long)n, (long long)s);
        F *= n;
        if (F > ((int64_t)1 << 32))
            return core_fault(c, TRN_E_FAULT, "illegal operand: %s has too many elements", key);
        if (s > 0)
            hi += (n - 1) * s;
        else
            lo += (n - 1) * s;
    }
    int64_t tn = tensor_elems(t);
    uint64_t end = t->addr + (uint64_t)(hi + 1) * v->eb;
    if (lo < 0 || hi >= tn || end > t->addr + t->bytes || end > v->m->part_bytes)
        return core_fault(c, TRN_E_FAULT,
                          "out-of-bounds access: %s '%s' reaches elements %lld..%lld of a tensor "
                          "of %lld%s (bytes %llu..%llu, %s has %llu)",
                          key, t->name, (long long)lo, (long long)hi, (long long)tn,
                          onchip ? " per partition" : "",
                          (unsigned long long)(t->addr + (uint64_t)(lo < 0 ? 0 : lo) * v->eb),
                          (unsigned long long)end, trn_mem_name(t->mem),
                          (unsigned long long)v->m->part_bytes);
    v->F = F;
    v->off = core_tmp(c, (size_t)F * sizeof *v->off);
    if (!v->off) return TRN_E_NOMEM;
    /* odometer over the free dims, outermost first */
    int32_t idx[TRN_MAX_RANK] = {0};
    int64_t cur = ap->offset;
    for (int64_t f = 0; f < F; f++) {
        v->off[f] = (int64_t)t->addr + cur * v->eb;
        for (int i = ap->nfree - 1; i >= 0; i--) {
            cur += ap->free[i].step;
            if (++idx[i] < ap->free[i].num) break;
            cur -= (int64_t)ap->free[i].num * ap->free[i].step;
            idx[i] = 0;
        }
    }
    return TRN_OK;
}

trn_status core_view_arg(trn_core *c, const trn_instr *in, const char *key, core_view *v) {
    const trn_operand *o = core_arg(c, in, key);
    if (!o) return core_fault(c, TRN_E_FAULT, "illegal operand: %s is missing", key);
    return core_view_of(c, o, key, v);
}

static inline uint8_t *at(const core_view *v, uint32_t p, int64_t f, uint8_t *base) {
    return base + (uint64_t)(v->p0 + p) * v->m->part_bytes + (uint64_t)v->off[f];
}

/* ---- the cross-core race check ------------------------------------------------------------ */

trn_status trn_hbm_race_create(uint64_t hbm_bytes, int ncores, trn_hbm_race **out, trn_err *err) {
    *out = NULL;
    if (ncores < 1 || ncores > 255)
        return trn_err_set(err, TRN_E_INVALID, "race check: %d cores (1..255)", ncores);
    trn_hbm_race *r = calloc(1, sizeof *r);
    if (!r) return trn_err_set(err, TRN_E_NOMEM, "race check: out of memory");
    size_t nb = (size_t)(hbm_bytes ? hbm_bytes : 1);
    r->n = ncores;
    r->bytes = hbm_bytes;
    r->vc = calloc((size_t)ncores * (size_t)ncores, sizeof *r->vc);
    r->wrec = calloc(nb, sizeof *r->wrec);
    r->prog = calloc((size_t)ncores, sizeof *r->prog);
    if (!r->vc || !r->wrec || !r->prog) {
        trn_hbm_race_destroy(r);
        return trn_err_set(err, TRN_E_NOMEM, "race check: out of memory for %llu HBM bytes",
                           (unsigned long long)hbm_bytes);
    }
    for (int c = 0; c < ncores; c++) r->vc[c * ncores + c] = 1; /* every core starts in epoch 1 */
    *out = r;
    return TRN_OK;
}

void trn_hbm_race_destroy(trn_hbm_race *r) {
    if (!r) return;
    free(r->vc);
    free(r->wrec);
    free(r->rec);
    free(r->prog);
    free(r);
}

void trn_hbm_race_sync(trn_hbm_race *r, const int *cores, int n) {
    if (!r || n < 1) return;
    int N = r->n;
    uint32_t *m = calloc((size_t)N, sizeof *m);
    if (!m) return; /* the check only loses precision: later accesses may look unordered */
    for (int k = 0; k < n; k++)
        for (int b = 0; b < N; b++)
            if (cores[k] >= 0 && cores[k] < N && r->vc[cores[k] * N + b] > m[b])
                m[b] = r->vc[cores[k] * N + b];
    for (int k = 0; k < n; k++) {
        int a = cores[k];
        if (a < 0 || a >= N) continue;
        memcpy(&r->vc[a * N], m, sizeof *m * (size_t)N);
    }
    for (int k = 0; k < n; k++)
        if (cores[k] >= 0 && cores[k] < N) r->vc[cores[k] * N + cores[k]] = m[cores[k]] + 1;
    free(m);
}

void trn_core_attach_race(trn_core *c, trn_hbm_race *r, int index) {
    c->race = r;
    c->race_index = index;
    if (r && index >= 0 && index < r->n) r->prog[index] = c->p;
}

/* Checks an access of HBM byte b by the current instruction of c; a write stamps it with record
 * `rec` (+ 1). Returns 1 and records a race fault when the byte's last writer is another core
 * not ordered before. */
static int race_byte(trn_core *c, const core_view *v, uint64_t b, uint32_t rec) {
    trn_hbm_race *r = c->race;
    if (b >= r->bytes) return 0;
    int me = c->race_index, N = r->n;
    uint32_t old = r->wrec[b];
    if (old) {
        const struct hbm_write *w = &r->rec[old - 1];
        if (w->core != me && w->epoch > r->vc[me * N + w->core]) {
            const trn_program *wp = r->prog[w->core];
            const trn_instr *win =
                wp && w->instr >= 0 && w->instr < wp->ninstrs ? &wp->instrs[w->instr] : NULL;
            core_fault(c, TRN_E_FAULT,
                       "race: core %d %s HBM tensor '%s' byte %llu, written by core %d (line %u "
                       "%s, instruction %d) with no core_barrier or sendrecv ordering the two",
                       me, rec ? "writes" : "reads", v->t->name,
                       (unsigned long long)(b - v->t->addr), (int)w->core,
                       win ? (unsigned)win->line : 0, win ? trn_isa_op_get(win->op)->name : "?",
                       (int)w->instr);
            return 1;
        }
    }
    if (rec) r->wrec[b] = rec;
    return 0;
}

/* The race check of every byte of an HBM view (mask: only elements with mask[i] != 0). */
static int race_view(trn_core *c, const core_view *v, int write, const uint8_t *mask) {
    if (!c->race || v->t->mem != TRN_MEM_HBM || c->has_fault) return 0;
    trn_hbm_race *r = c->race;
    uint32_t rec = 0;
    if (write) { /* this write's record (one per instruction and core) */
        const struct hbm_write *last = r->nrec ? &r->rec[r->nrec - 1] : NULL;
        uint32_t epoch = r->vc[c->race_index * r->n + c->race_index];
        if (last && last->core == c->race_index && last->instr == c->cur && last->epoch == epoch) {
            rec = r->nrec;
        } else {
            if (r->nrec == r->caprec) {
                uint32_t cap = r->caprec ? 2 * r->caprec : 64;
                struct hbm_write *q = realloc(r->rec, sizeof *q * cap);
                if (!q) return 0; /* the check only loses this write */
                r->rec = q;
                r->caprec = cap;
            }
            r->rec[r->nrec++] = (struct hbm_write){c->race_index, c->cur, epoch};
            rec = r->nrec;
        }
    }
    for (uint32_t p = 0; p < v->P; p++)
        for (int64_t f = 0; f < v->F; f++) {
            if (mask && !mask[(size_t)p * (size_t)v->F + (size_t)f]) continue;
            uint64_t b0 = (uint64_t)(at(v, p, f, v->m->data) - v->m->data);
            for (uint32_t k = 0; k < v->eb; k++)
                if (race_byte(c, v, b0 + k, rec)) return 1;
        }
    return 0;
}

trn_status core_load_codes(trn_core *c, const core_view *v, uint32_t *out) {
    if (race_view(c, v, 0, NULL)) return TRN_E_FAULT;
    for (uint32_t p = 0; p < v->P; p++) {
        for (int64_t f = 0; f < v->F; f++) {
            const uint8_t *w = at(v, p, f, v->m->written), *d = at(v, p, f, v->m->data);
            uint32_t code = 0;
            for (uint32_t b = 0; b < v->eb; b++) {
                if (!w[b]) {
                    uint64_t byte = (uint64_t)(w + b - v->m->written);
                    return core_fault(
                        c, TRN_E_FAULT,
                        "uninitialized read: %s '%s' element [partition %u, %lld] (%s partition "
                        "%llu byte %llu) was never written",
                        v->key, v->t->name, v->p0 + p, (long long)f, trn_mem_name(v->t->mem),
                        (unsigned long long)(byte / v->m->part_bytes),
                        (unsigned long long)(byte % v->m->part_bytes));
                }
                code |= (uint32_t)d[b] << (8 * b);
            }
            out[(size_t)p * (size_t)v->F + (size_t)f] = code;
        }
    }
    return TRN_OK;
}

trn_status core_load_f32(trn_core *c, const core_view *v, float *out) {
    if (v->t->packed)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: %s '%s' is an MX x4-packed type; only dma_copy, "
                          "tensor_copy and nc_matmul_mx read it",
                          v->key, v->t->name);
    size_t n = (size_t)v->P * (size_t)v->F;
    uint32_t *codes = core_tmp(c, n * sizeof *codes);
    if (!codes) return TRN_E_NOMEM;
    trn_status s = core_load_codes(c, v, codes);
    if (s != TRN_OK) return s;
    trn_dtype t = v->t->dtype;
    for (size_t i = 0; i < n; i++) out[i] = trn_cvt_to_f32(t, codes[i]);
    return TRN_OK;
}

void core_store_codes(trn_core *c, const core_view *v, const uint32_t *in) {
    race_view(c, v, 1, NULL); /* a race is recorded as the instruction's fault */
    for (uint32_t p = 0; p < v->P; p++) {
        for (int64_t f = 0; f < v->F; f++) {
            uint8_t *d = at(v, p, f, v->m->data), *w = at(v, p, f, v->m->written);
            uint32_t code = in[(size_t)p * (size_t)v->F + (size_t)f];
            for (uint32_t b = 0; b < v->eb; b++) {
                d[b] = (uint8_t)(code >> (8 * b));
                w[b] = 1;
            }
        }
    }
}

void core_store_codes_masked(trn_core *c, const core_view *v, const uint32_t *in,
                             const uint8_t *mask) {
    race_view(c, v, 1, mask);
    for (uint32_t p = 0; p < v->P; p++) {
        for (int64_t f = 0; f < v->F; f++) {
            size_t i = (size_t)p * (size_t)v->F + (size_t)f;
            if (!mask[i]) continue;
            uint8_t *d = at(v, p, f, v->m->data), *w = at(v, p, f, v->m->written);
            for (uint32_t b = 0; b < v->eb; b++) {
                d[b] = (uint8_t)(in[i] >> (8 * b));
                w[b] = 1;
            }
        }
    }
}

uint32_t core_encode(trn_core *c, trn_dtype t, float x) {
    uint32_t rand = 0;
    if (c->o.round == TRN_ROUND_SR)
        rand = trn_rng_u32(c->o.seed, ((uint64_t)(uint32_t)c->cur << 32) + c->wcount);
    c->wcount++;
    trn_cvt_opts o = {c->o.round, c->o.saturate, c->o.seed, 0};
    return trn_cvt_from_f32(t, x, &o, rand);
}

trn_status core_store_f32(trn_core *c, const core_view *v, const float *in) {
    if (v->t->packed)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: %s '%s' is an MX x4-packed type; only dma_copy, "
                          "tensor_copy and quantize_mx write it",
                          v->key, v->t->name);
    size_t n = (size_t)v->P * (size_t)v->F;
    uint32_t *codes = core_tmp(c, n * sizeof *codes);
    if (!codes) return TRN_E_NOMEM;
    for (size_t i = 0; i < n; i++) codes[i] = core_encode(c, v->t->dtype, in[i]);
    core_store_codes(c, v, codes);
    return TRN_OK;
}

trn_status core_load_scalar(trn_core *c, const trn_instr *in, const char *key, uint32_t P,
                            float def, float *out) {
    const trn_operand *o = core_arg(c, in, key);
    if (!o) {
        for (uint32_t p = 0; p < P; p++) out[p] = def;
        return TRN_OK;
    }
    if (o->kind == TRN_ARG_FLOAT) {
        for (uint32_t p = 0; p < P; p++) out[p] = (float)o->u.imm;
        return TRN_OK;
    }
    if (o->kind == TRN_ARG_INT || o->kind == TRN_ARG_BOOL) {
        for (uint32_t p = 0; p < P; p++) out[p] = (float)o->u.i;
        return TRN_OK;
    }
    core_view v;
    trn_status s = core_view_of(c, o, key, &v);
    if (s != TRN_OK) return s;
    if (v.P != P || v.F != 1)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: %s '%s' must be a [%u, 1] tile, it is %u x %lld", key,
                          v.t->name, P, v.P, (long long)v.F);
    return core_load_f32(c, &v, out);
}

/* ---- sendrecv ---------------------------------------------------------------------------- */

static trn_status tile_done(trn_core *c, trn_status st, trn_err *err) {
    for (size_t k = 0; k < c->ntmp; k++) free(c->tmp[k]);
    c->ntmp = 0;
    if (st == TRN_E_NOMEM && !c->has_fault)
        return trn_err_set(err, TRN_E_NOMEM, "sendrecv: out of memory");
    if (st != TRN_OK) return trn_err_set(err, st, "%s", c->fault.msg);
    return TRN_OK;
}

trn_status trn_core_tile_get(trn_core *c, int i, const char *key, trn_core_tile *out,
                             trn_err *err) {
    memset(out, 0, sizeof *out);
    if (i < 0 || i >= c->p->ninstrs)
        return trn_err_set(err, TRN_E_INVALID, "core: instruction %d out of range", i);
    c->cur = i;
    c->wcount = 0;
    core_view v;
    trn_status st = core_view_arg(c, &c->p->instrs[i], key, &v);
    if (st == TRN_OK) {
        size_t n = (size_t)v.P * (size_t)v.F;
        out->codes = malloc((n ? n : 1) * sizeof *out->codes);
        if (!out->codes) st = TRN_E_NOMEM;
        if (st == TRN_OK) st = core_load_codes(c, &v, out->codes);
        if (st == TRN_OK) {
            out->P = v.P;
            out->F = v.F;
            out->dtype = v.t->dtype;
            out->packed = v.t->packed;
            snprintf(out->name, sizeof out->name, "%s", v.t->name);
        } else {
            trn_core_tile_fini(out);
        }
    }
    return tile_done(c, st, err);
}

trn_status trn_core_tile_put(trn_core *c, int j, const char *key, const trn_core_tile *in,
                             int from_core, trn_err *err) {
    if (j < 0 || j >= c->p->ninstrs)
        return trn_err_set(err, TRN_E_INVALID, "core: instruction %d out of range", j);
    c->cur = j;
    c->wcount = 0;
    core_view d;
    trn_status st = core_view_arg(c, &c->p->instrs[j], key, &d);
    if (st == TRN_OK &&
        (d.t->dtype != in->dtype || d.t->packed != in->packed || d.P != in->P || d.F != in->F))
        st = core_fault(c, TRN_E_FAULT,
                        "illegal operand: %s '%s' is %s [%u, %lld], the tile '%s' core %d sends "
                        "is %s [%u, %lld] (the same dtype and shape expected)",
                        key, d.t->name, trn_dtype_name(d.t->dtype), d.P, (long long)d.F, in->name,
                        from_core, trn_dtype_name(in->dtype), in->P, (long long)in->F);
    if (st == TRN_OK) {
        core_store_codes(c, &d, in->codes);
        if (c->has_fault) st = c->fault.status; /* a race */
    }
    return tile_done(c, st, err);
}

void trn_core_tile_fini(trn_core_tile *t) {
    if (!t) return;
    free(t->codes);
    t->codes = NULL;
}

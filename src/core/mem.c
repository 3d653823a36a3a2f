/* The memories of one NeuronCore (SBUF, PSUM, HBM) with their written shadows, and the
 * operand helpers every instruction uses: resolve an access pattern into byte offsets (with
 * bounds checks, so a crafted program faults instead of touching memory it does not own),
 * load codes or FP32 values (faulting on bytes never written), store codes or FP32 values
 * (rounding per the run's options). The HBM may be another core's (the cores of a grid share
 * one), and then every HBM access goes through the cross-core race check (trn_hbm_race), and
 * the sendrecv data movement (trn_core_exchange) lives here too.
 *
 * Fast paths, each beside its reference and tested against it (tests/test_runtime_reuse.c):
 * loads and stores take a row of consecutive elements at a time (core_load_codes_ref and
 * core_store_codes_ref go element by element, and take over whenever a byte was never written,
 * to name it, or a race check is on); BF16 and FP32 convert by their bits (trn_cvt_to_f32 and
 * trn_cvt_from_f32 are the references), FP32 loads and stores of such rows convert where the
 * bytes lie; an HBM view of consecutive elements keeps no offset array. The written shadow is
 * a generation (core_mem.gen), so a reused core forgets a run's writes without clearing them.
 *
 * Deliberately left out: partition-access legality (start partitions, engine/memory
 * connectivity), which is the verifier's; the core checks only what keeps it safe and what a
 * verified program can still get wrong at run time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

void core_mem_clear(core_mem *m) {
    if (!m->written) return;
    if (m->gen < 255) {
        m->gen++;
        return;
    }
    memset(m->written, 0, m->cap);
    m->gen = 1;
}

trn_status core_mem_layout(core_mem *m, uint32_t parts, uint64_t part_bytes) {
    core_mem_clear(m);
    size_t n = (size_t)(part_bytes * parts);
    if (!m->data || n > m->cap) {
        free(m->data);
        free(m->written);
        m->data = calloc(n ? n : 1, 1);
        m->written = calloc(n ? n : 1, 1);
        m->cap = n ? n : 1;
        m->gen = 1;
        if (!m->data || !m->written) {
            free(m->data);
            free(m->written);
            m->data = m->written = NULL;
            m->cap = 0;
            return TRN_E_NOMEM;
        }
    }
    m->parts = parts;
    m->part_bytes = part_bytes;
    return TRN_OK;
}

trn_status core_mem_init(trn_core *c) {
    const trn_program *p = c->p;
    uint64_t need[TRN_MEM_COUNT] = {p->hbm_bytes, p->sbuf_bytes, p->psum_bytes};
    for (int m = 0; m < TRN_MEM_COUNT; m++) {
        if (m == TRN_MEM_HBM && c->hbm_borrowed) continue;
        trn_status s = core_mem_layout(&c->mem[m], m == TRN_MEM_HBM ? 1 : c->t.partitions, need[m]);
        if (s != TRN_OK) return s;
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
    free(c->hbm_spare.data);
    free(c->hbm_spare.written);
    c->hbm_spare.data = c->hbm_spare.written = NULL;
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
    v->off0 = (int64_t)t->addr + ap->offset * (int64_t)v->eb;
    /* consecutive elements when each dim (of more than one element) steps over the inner ones */
    int nf = ap->nfree;
    int64_t want = 1;
    int lin = 1;
    for (int i = nf - 1; i >= 0 && lin; i--) {
        if (ap->free[i].num == 1) continue;
        lin = ap->free[i].step == want;
        want *= ap->free[i].num;
    }
    v->lin_F = lin ? F : 0;
    if (lin && !onchip) { /* a DMA's whole HBM side: no offsets (core_view_off) */
        v->off = NULL, v->lin = NULL;
        return TRN_OK;
    }
    v->off = core_tmp(c, (size_t)F * sizeof *v->off);
    if (!v->off) return TRN_E_NOMEM;
    v->lin = lin ? v->off : NULL;
    /* the innermost dim as a run, then an odometer over the outer dims, outermost first */
    int64_t in_n = nf ? ap->free[nf - 1].num : 1, in_s = nf ? ap->free[nf - 1].step : 0;
    int64_t base = (int64_t)t->addr, eb = v->eb;
    int32_t idx[TRN_MAX_RANK] = {0};
    int64_t cur = ap->offset;
    for (int64_t f = 0; f < F; f += in_n) {
        int64_t *run = v->off + f;
        for (int64_t j = 0; j < in_n; j++) run[j] = base + (cur + j * in_s) * eb;
        for (int i = nf - 2; i >= 0; i--) {
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
    return base + (uint64_t)(v->p0 + p) * v->m->part_bytes + (uint64_t)core_view_off(v, f);
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

trn_status core_load_codes_ref(trn_core *c, const core_view *v, uint32_t *out) {
    if (race_view(c, v, 0, NULL)) return TRN_E_FAULT;
    for (uint32_t p = 0; p < v->P; p++) {
        for (int64_t f = 0; f < v->F; f++) {
            const uint8_t *w = at(v, p, f, v->m->written), *d = at(v, p, f, v->m->data);
            uint32_t code = 0;
            for (uint32_t b = 0; b < v->eb; b++) {
                if (w[b] != v->m->gen) {
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

/* 1 when the view's offsets are still the consecutive elements core_view_of found. */
static int linear(const core_view *v) {
    return v->off == v->lin && v->F <= v->lin_F;
}

/* Little-endian code of eb (1, 2, 4) bytes at d. */
static inline uint32_t get_code(const uint8_t *d, uint32_t eb) {
    switch (eb) {
    case 1: return d[0];
    case 2: return (uint32_t)d[0] | (uint32_t)d[1] << 8;
    default:
        return (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
    }
}

static inline void put_code(uint8_t *d, uint32_t eb, uint32_t code) {
    for (uint32_t b = 0; b < eb; b++) d[b] = (uint8_t)(code >> (8 * b));
}

/* 1 when the n shadow bytes at w all equal g, in blocks the compiler can vectorize. */
static int all_written(const uint8_t *w, size_t n, uint8_t g) {
    size_t i = 0;
    for (; i + 256 <= n; i += 256) {
        uint8_t acc = 0;
        for (size_t j = 0; j < 256; j++) acc |= (uint8_t)(w[i + j] ^ g);
        if (acc) return 0;
    }
    uint8_t acc = 0;
    for (; i < n; i++) acc |= (uint8_t)(w[i] ^ g);
    return !acc;
}

int core_all_written(const uint8_t *w, size_t n, uint8_t g) {
    return all_written(w, n, g);
}

/* core_load_codes_ref a row at a time: the written check of a row of consecutive elements is one
 * pass over its shadow; any byte never written (or a race check) leaves it to the reference,
 * which names the first such byte. */
trn_status core_load_codes(trn_core *c, const core_view *v, uint32_t *out) {
    const core_mem *m = v->m;
    uint32_t eb = v->eb;
    uint8_t g = m->gen;
    if (c->race || (eb != 1 && eb != 2 && eb != 4)) return core_load_codes_ref(c, v, out);
    size_t F = (size_t)v->F;
    int lin = linear(v);
    for (uint32_t p = 0; p < v->P; p++) {
        uint64_t pb = (uint64_t)(v->p0 + p) * m->part_bytes;
        uint32_t *o = out + (size_t)p * F;
        if (lin && F) {
            const uint8_t *w = m->written + pb + (uint64_t)v->off0;
            const uint8_t *d = m->data + pb + (uint64_t)v->off0;
            if (!all_written(w, F * eb, g)) return core_load_codes_ref(c, v, out);
            if (eb == 2)
                for (size_t f = 0; f < F; f++)
                    o[f] = (uint32_t)d[2 * f] | (uint32_t)d[2 * f + 1] << 8;
            else if (eb == 4)
                for (size_t f = 0; f < F; f++) o[f] = get_code(d + 4 * f, 4);
            else
                for (size_t f = 0; f < F; f++) o[f] = d[f];
            continue;
        }
        for (size_t f = 0; f < F; f++) {
            const uint8_t *w = m->written + pb + (uint64_t)core_view_off(v, (int64_t)f);
            int ok = w[0] == g && (eb < 2 || w[1] == g) && (eb < 4 || (w[2] == g && w[3] == g));
            if (!ok) return core_load_codes_ref(c, v, out);
            o[f] = get_code(m->data + pb + (uint64_t)core_view_off(v, (int64_t)f), eb);
        }
    }
    return TRN_OK;
}

static uint32_t bits_of(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static float float_of(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* BF16 code of FP32 bits u, RNE, IEEE overflow: trn_fp_encode's result for BF16 (a NaN keeps
 * its sign and top payload bits and is made quiet; otherwise the 16 dropped bits round to nearest
 * even, the carry running into the exponent, up to Inf). */
static uint32_t bf16_rne(uint32_t u) {
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u;
    return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

/* 1 when view v of an FP32 or BF16 tensor can be converted row by row where it lies: no race
 * check, consecutive elements (the fused paths of core_load_f32 and core_store_f32). */
static int direct_f32(const trn_core *c, const core_view *v) {
    trn_dtype t = v->t->dtype;
    return !c->race && !v->t->packed && linear(v) && v->F > 0 &&
           ((t == TRN_DTYPE_BF16 && v->eb == 2) || (t == TRN_DTYPE_F32 && v->eb == 4));
}

trn_status core_load_f32(trn_core *c, const core_view *v, float *out) {
    if (v->t->packed)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: %s '%s' is an MX x4-packed type; only dma_copy, "
                          "tensor_copy and nc_matmul_mx read it",
                          v->key, v->t->name);
    size_t n = (size_t)v->P * (size_t)v->F;
    if (direct_f32(c, v)) { /* BF16 / FP32 rows decoded where they lie */
        size_t F = (size_t)v->F;
        const core_mem *m = v->m;
        int bf16 = v->t->dtype == TRN_DTYPE_BF16;
        for (uint32_t p = 0; p < v->P; p++) {
            uint64_t at0 = (uint64_t)(v->p0 + p) * m->part_bytes + (uint64_t)v->off0;
            const uint8_t *d = m->data + at0;
            float *o = out + (size_t)p * F;
            if (!all_written(m->written + at0, F * v->eb, m->gen))
                break; /* the codes path faults */
            if (bf16)
                for (size_t f = 0; f < F; f++) {
                    uint32_t u = ((uint32_t)d[2 * f] | (uint32_t)d[2 * f + 1] << 8) << 16;
                    o[f] = float_of((u & 0x7fffffffu) > 0x7f800000u ? u | 0x400000u : u);
                }
            else
                for (size_t f = 0; f < F; f++) o[f] = float_of(get_code(d + 4 * f, 4));
            if (p + 1 == v->P) return TRN_OK;
        }
    }
    uint32_t *codes = core_tmp(c, n * sizeof *codes);
    if (!codes) return TRN_E_NOMEM;
    trn_status s = core_load_codes(c, v, codes);
    if (s != TRN_OK) return s;
    core_decode_codes(v->t->dtype, codes, out, n);
    return TRN_OK;
}

void core_store_codes_ref(trn_core *c, const core_view *v, const uint32_t *in) {
    race_view(c, v, 1, NULL); /* a race is recorded as the instruction's fault */
    for (uint32_t p = 0; p < v->P; p++) {
        for (int64_t f = 0; f < v->F; f++) {
            uint8_t *d = at(v, p, f, v->m->data), *w = at(v, p, f, v->m->written);
            uint32_t code = in[(size_t)p * (size_t)v->F + (size_t)f];
            for (uint32_t b = 0; b < v->eb; b++) {
                d[b] = (uint8_t)(code >> (8 * b));
                w[b] = v->m->gen;
            }
        }
    }
}

/* core_store_codes_ref a row at a time where the elements are consecutive. */
void core_store_codes(trn_core *c, const core_view *v, const uint32_t *in) {
    uint32_t eb = v->eb;
    if (c->race || (eb != 1 && eb != 2 && eb != 4)) {
        core_store_codes_ref(c, v, in);
        return;
    }
    core_mem *m = v->m;
    size_t F = (size_t)v->F;
    int lin = linear(v);
    for (uint32_t p = 0; p < v->P; p++) {
        uint64_t pb = (uint64_t)(v->p0 + p) * m->part_bytes;
        const uint32_t *s = in + (size_t)p * F;
        if (lin && F) {
            uint8_t *d = m->data + pb + (uint64_t)v->off0;
            if (eb == 2)
                for (size_t f = 0; f < F; f++) {
                    d[2 * f] = (uint8_t)s[f];
                    d[2 * f + 1] = (uint8_t)(s[f] >> 8);
                }
            else if (eb == 4)
                for (size_t f = 0; f < F; f++) put_code(d + 4 * f, 4, s[f]);
            else
                for (size_t f = 0; f < F; f++) d[f] = (uint8_t)s[f];
            memset(m->written + pb + (uint64_t)v->off0, m->gen, F * eb);
            continue;
        }
        for (size_t f = 0; f < F; f++) {
            put_code(m->data + pb + (uint64_t)core_view_off(v, (int64_t)f), eb, s[f]);
            memset(m->written + pb + (uint64_t)core_view_off(v, (int64_t)f), m->gen, eb);
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
                w[b] = v->m->gen;
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

void core_encode_rne(trn_dtype t, const float *in, uint32_t *out, size_t n) {
    if (t == TRN_DTYPE_F32) {
        for (size_t i = 0; i < n; i++) out[i] = bits_of(in[i]);
    } else if (t == TRN_DTYPE_BF16) {
        for (size_t i = 0; i < n; i++) out[i] = bf16_rne(bits_of(in[i]));
    } else {
        for (size_t i = 0; i < n; i++) out[i] = trn_cvt_from_f32(t, in[i], &TRN_CVT_RNE, 0);
    }
}

void core_encode_f32s(trn_core *c, trn_dtype t, const float *in, uint32_t *out, size_t n) {
    /* FP32: trn_cvt_from_f32 returns the bits whatever the rounding */
    if (t == TRN_DTYPE_F32 ||
        (t == TRN_DTYPE_BF16 && c->o.round == TRN_ROUND_RNE && !c->o.saturate)) {
        core_encode_rne(t, in, out, n);
        c->wcount += n; /* as n calls of core_encode */
        return;
    }
    for (size_t i = 0; i < n; i++) out[i] = core_encode(c, t, in[i]);
}

void core_decode_codes(trn_dtype t, const uint32_t *codes, float *out, size_t n) {
    if (t == TRN_DTYPE_F32) {
        for (size_t i = 0; i < n; i++) out[i] = float_of(codes[i]);
    } else if (t == TRN_DTYPE_BF16) { /* exact: the quiet bit set on a NaN, as trn_fp_decode */
        for (size_t i = 0; i < n; i++) {
            uint32_t u = codes[i] << 16;
            out[i] = float_of((u & 0x7fffffffu) > 0x7f800000u ? u | 0x400000u : u);
        }
    } else {
        for (size_t i = 0; i < n; i++) out[i] = trn_cvt_to_f32(t, codes[i]);
    }
}

trn_status core_store_f32(trn_core *c, const core_view *v, const float *in) {
    if (v->t->packed)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: %s '%s' is an MX x4-packed type; only dma_copy, "
                          "tensor_copy and quantize_mx write it",
                          v->key, v->t->name);
    size_t n = (size_t)v->P * (size_t)v->F;
    if (direct_f32(c, v) &&
        (v->t->dtype == TRN_DTYPE_F32 || (c->o.round == TRN_ROUND_RNE && !c->o.saturate))) {
        /* BF16 (RNE) / FP32 rows encoded where they go: core_encode_f32s + core_store_codes */
        size_t F = (size_t)v->F;
        core_mem *m = v->m;
        int bf16 = v->t->dtype == TRN_DTYPE_BF16;
        for (uint32_t p = 0; p < v->P; p++) {
            uint64_t at0 = (uint64_t)(v->p0 + p) * m->part_bytes + (uint64_t)v->off0;
            uint8_t *d = m->data + at0;
            const float *x = in + (size_t)p * F;
            if (bf16)
                for (size_t f = 0; f < F; f++) {
                    uint32_t code = bf16_rne(bits_of(x[f]));
                    d[2 * f] = (uint8_t)code, d[2 * f + 1] = (uint8_t)(code >> 8);
                }
            else
                for (size_t f = 0; f < F; f++) put_code(d + 4 * f, 4, bits_of(x[f]));
            memset(m->written + at0, m->gen, F * v->eb);
        }
        c->wcount += n;
        return TRN_OK;
    }
    uint32_t *codes = core_tmp(c, n * sizeof *codes);
    if (!codes) return TRN_E_NOMEM;
    core_encode_f32s(c, v->t->dtype, in, codes, n);
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
    core_tmp_reset(c);
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

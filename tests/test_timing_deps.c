/* The scheduler's dependences against a reference: a plain scan of every live access of a
 * region, each footprint an explicit list of byte intervals (the scheduler as first written,
 * O(live) per access, kept here verbatim), must give exactly the waits and RAW-on-previous flags
 * of src/core/sched.c (footprints as access patterns decided arithmetically, indexed by boxes)
 * on every example kernel and on synthetic kernels: random mixes of partial-partition, strided
 * and overlapping SBUF/PSUM/HBM accesses on all engines; pattern corner cases (random 3-D
 * slices with steps in every dim of one HBM tensor and one SBUF tile: single runs, rows of
 * several strides, partial rows, partition sub-ranges, irregular lists; PSUM banks and half
 * banks; many readers on every engine then a write); and the strided case that made the scan
 * quadratic (many disjoint column slices of one HBM tensor live at once). The timeline is a
 * function of these edges and the cost model, so equal edges mean the identical report and
 * trace; one run per kernel also compares the JSON report and trace bytes of two runs.
 * LABELS: unit */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timing_impl.h"
#include "harness.h"

/* ---- the reference: a scan over every live access ----------------------------------------- */

/* More contiguous runs than this in one operand and it is kept as its hull (conservative). */
#define MAX_RUNS 1024

typedef struct ival {
    uint64_t lo, hi; /* [lo, hi) bytes */
} ival;

typedef struct footprint {
    uint8_t mem;
    uint8_t write;
    uint16_t p0, p1;       /* partitions [p0, p1); HBM: 0, 1 */
    uint32_t first, count; /* intervals in the pool */
} footprint;

typedef struct access {
    int32_t instr;
    uint8_t group; /* engine group that retires it in order (trn_engine; DMA for DMAs) */
    footprint f;
} access;

typedef struct region {
    access *a;
    int n, cap;
} region;

typedef struct builder {
    const trn_program *p;
    ival *pool;
    uint32_t npool, cappool;
    int *region_of; /* tensor -> region */
    region *regions;
    int nregions;
} builder;

static int cmp_ival(const void *a, const void *b) {
    const ival *x = a, *y = b;
    if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
    return x->hi < y->hi ? -1 : x->hi > y->hi;
}

static int pool_push(builder *b, uint64_t lo, uint64_t hi) {
    if (b->npool == b->cappool) {
        uint32_t cap = b->cappool ? b->cappool * 2 : 1024;
        ival *q = realloc(b->pool, cap * sizeof *q);
        if (!q) return 0;
        b->pool = q;
        b->cappool = cap;
    }
    b->pool[b->npool].lo = lo;
    b->pool[b->npool].hi = hi;
    b->npool++;
    return 1;
}

/* The footprint of operand `ap` into f (intervals appended to the pool, sorted, merged). */
static trn_status footprint_of(builder *b, const trn_ap *ap, int write, footprint *f) {
    const trn_tensor *t = &b->p->tensors[ap->tensor];
    uint64_t eb = t->elem_bytes;
    f->mem = (uint8_t)t->mem;
    f->write = (uint8_t)write;
    f->p0 = t->mem == TRN_MEM_HBM ? 0 : ap->part_start;
    f->p1 = t->mem == TRN_MEM_HBM ? 1 : (uint16_t)(ap->part_start + ap->part_count);
    f->first = b->npool;
    /* merge the innermost contiguous dims into one run */
    int k = ap->nfree;
    int64_t run = 1;
    while (k > 0 && ap->free[k - 1].step == run) {
        run *= ap->free[k - 1].num;
        k--;
    }
    uint64_t runs = 1;
    for (int d = 0; d < k; d++) runs *= (uint64_t)ap->free[d].num;
    uint64_t base = t->addr;
    if (runs > MAX_RUNS) {
        int64_t span = 0;
        for (int d = 0; d < ap->nfree; d++)
            span += (int64_t)(ap->free[d].num - 1) * ap->free[d].step;
        if (!pool_push(b, base + (uint64_t)ap->offset * eb,
                       base + (uint64_t)(ap->offset + span + 1) * eb))
            return TRN_E_NOMEM;
        f->count = 1;
        return TRN_OK;
    }
    int32_t idx[TRN_MAX_RANK] = {0};
    for (uint64_t r = 0; r < runs; r++) {
        int64_t off = ap->offset;
        for (int d = 0; d < k; d++) off += (int64_t)idx[d] * ap->free[d].step;
        if (!pool_push(b, base + (uint64_t)off * eb, base + (uint64_t)(off + run) * eb))
            return TRN_E_NOMEM;
        for (int d = k - 1; d >= 0; d--) {
            if (++idx[d] < ap->free[d].num) break;
            idx[d] = 0;
        }
    }
    ival *v = b->pool + f->first;
    uint32_t n = (uint32_t)runs, m = 0;
    int sorted = 1;
    for (uint32_t i = 1; i < n && sorted; i++) sorted = v[i - 1].lo <= v[i].lo;
    if (!sorted) qsort(v, n, sizeof *v, cmp_ival);
    for (uint32_t i = 0; i < n; i++) {
        if (m && v[i].lo <= v[m - 1].hi) {
            if (v[i].hi > v[m - 1].hi) v[m - 1].hi = v[i].hi;
        } else {
            v[m++] = v[i];
        }
    }
    b->npool = f->first + m;
    f->count = m;
    return TRN_OK;
}

/* 1 when some interval of a and some interval of b share a byte: every pair is tried (the
 * scheduler's merge walk is not reused, so a bug there cannot hide here). */
static int ivals_overlap(const ival *a, uint32_t na, const ival *b, uint32_t nb) {
    for (uint32_t i = 0; i < na; i++)
        for (uint32_t j = 0; j < nb; j++)
            if (a[i].lo < b[j].hi && b[j].lo < a[i].hi) return 1;
    return 0;
}

/* 1 when every byte of b is in a: a is merged (no two intervals touch), so each interval of b
 * must lie inside a single interval of a; every pair is tried. */
static int ivals_cover(const ival *a, uint32_t na, const ival *b, uint32_t nb) {
    for (uint32_t j = 0; j < nb; j++) {
        int inside = 0;
        for (uint32_t i = 0; i < na && !inside; i++)
            inside = a[i].lo <= b[j].lo && b[j].hi <= a[i].hi;
        if (!inside) return 0;
    }
    return 1;
}

static int fp_overlap(const builder *b, const footprint *x, const footprint *y) {
    if (x->mem != y->mem || x->p1 <= y->p0 || y->p1 <= x->p0) return 0;
    return ivals_overlap(b->pool + x->first, x->count, b->pool + y->first, y->count);
}

static int fp_cover(const builder *b, const footprint *x, const footprint *y) {
    if (x->mem != y->mem || x->p0 > y->p0 || x->p1 < y->p1) return 0;
    return ivals_cover(b->pool + x->first, x->count, b->pool + y->first, y->count);
}

/* Regions: tensors of one memory whose allocations overlap are one region. */
static trn_status regions_init(builder *b) {
    const trn_program *p = b->p;
    b->region_of = malloc(sizeof(int) * (size_t)(p->ntensors ? p->ntensors : 1));
    b->regions = calloc((size_t)(p->ntensors ? p->ntensors : 1), sizeof(region));
    if (!b->region_of || !b->regions) return TRN_E_NOMEM;
    for (int i = 0; i < p->ntensors; i++) {
        const trn_tensor *t = &p->tensors[i];
        b->region_of[i] = -1;
        for (int j = 0; j < i && b->region_of[i] < 0; j++) {
            const trn_tensor *u = &p->tensors[j];
            if (u->mem == t->mem && u->addr < t->addr + t->bytes && t->addr < u->addr + u->bytes)
                b->region_of[i] = b->region_of[j];
        }
        if (b->region_of[i] < 0) b->region_of[i] = b->nregions++;
    }
    return TRN_OK;
}

static trn_status region_add(region *r, const access *a) {
    if (r->n == r->cap) {
        int cap = r->cap ? r->cap * 2 : 8;
        access *q = realloc(r->a, sizeof *q * (size_t)cap);
        if (!q) return TRN_E_NOMEM;
        r->a = q;
        r->cap = cap;
    }
    r->a[r->n++] = *a;
    return TRN_OK;
}

/* The engine group that retires instruction `in` in order, and the queue it sits in. */
static int group_of(const trn_program *p, int i) {
    return cost_is_dma(p, i) ? TRN_ENGINE_DMA : (int)p->instrs[i].engine;
}

#define MAX_ACC (2 * TRN_MAX_AP_LIST + 16)

/* The operands of instruction i as footprints (reads and writes) and their regions. */
static trn_status operands(builder *b, int i, footprint *fp, int *reg, int *nfp) {
    const trn_program *p = b->p;
    const trn_instr *in = &p->instrs[i];
    int n = 0;
    int rmw = 0; /* the destination is also read (accumulating matmul, predicated copy) */
    if (in->op == TRN_OP_NC_MATMUL || in->op == TRN_OP_NC_MATMUL_MX) {
        const trn_operand *acc = trn_instr_arg(p, in, trn_isa_arg_find(in->op, "accumulate"));
        rmw = acc && acc->u.i;
    } else if (in->op == TRN_OP_TENSOR_COPY_PREDICATED) {
        rmw = 1;
    }
    for (uint32_t k = 0; k < in->nargs && n < MAX_ACC - 1; k++) {
        const trn_operand *o = &p->args[in->arg0 + k];
        if (o->kind != TRN_ARG_AP_IN && o->kind != TRN_ARG_AP_OUT) continue;
        int w = o->kind == TRN_ARG_AP_OUT;
        reg[n] = b->region_of[o->u.ap.tensor];
        trn_status s = footprint_of(b, &o->u.ap, w, &fp[n++]);
        if (s) return s;
        if (w && rmw) {
            reg[n] = reg[n - 1];
            s = footprint_of(b, &o->u.ap, 0, &fp[n++]);
            if (s) return s;
        }
    }
    *nfp = n;
    return TRN_OK;
}

/* Waits of one instruction being built: the latest conflicting instruction per group. */
typedef struct pending {
    int32_t latest[TRN_ENGINE_COUNT];
    uint8_t kinds[TRN_ENGINE_COUNT];
    uint8_t raw_prev;
} pending;

static void add_wait(pending *w, int queue, int32_t prev_same, int group, int32_t instr, int kind) {
    if (group == queue && group != TRN_ENGINE_DMA) {
        if (kind == TRN_DEP_RAW && instr == prev_same) w->raw_prev = 1;
        return; /* implied by the in-order queue */
    }
    if (instr > w->latest[group]) w->latest[group] = instr;
    w->kinds[group] |= (uint8_t)kind;
}

/* Drops the accesses of r that f (an access of instruction `instr`, group `group`) makes
 * redundant: everything a write covers; the covered earlier reads of its own group for a read. */
static void region_prune(const builder *b, region *r, const footprint *f, int group) {
    int m = 0;
    for (int k = 0; k < r->n; k++) {
        const access *a = &r->a[k];
        int drop = fp_cover(b, f, &a->f) && (f->write || (!a->f.write && a->group == group));
        if (!drop) r->a[m++] = *a;
    }
    r->n = m;
}

static void builder_free(builder *b) {
    for (int r = 0; r < b->nregions; r++) free(b->regions[r].a);
    free(b->regions);
    free(b->region_of);
    free(b->pool);
}

static trn_status ref_build(const trn_program *p, sched *s, trn_err *err) {
    memset(s, 0, sizeof *s);
    s->n = p->ninstrs;
    s->in = calloc((size_t)(p->ninstrs ? p->ninstrs : 1), sizeof *s->in);
    if (!s->in) return trn_err_set(err, TRN_E_NOMEM, "scheduler: out of memory");
    if (p->manual_sync) return TRN_OK;
    builder b;
    memset(&b, 0, sizeof b);
    b.p = p;
    trn_status st = regions_init(&b);
    int32_t prev_in_queue[TRN_ENGINE_COUNT];
    for (int g = 0; g < TRN_ENGINE_COUNT; g++) prev_in_queue[g] = -1;
    footprint fp[MAX_ACC];
    int reg[MAX_ACC];
    for (int i = 0; i < p->ninstrs && st == TRN_OK; i++) {
        const trn_instr *in = &p->instrs[i];
        int group = group_of(p, i);
        int queue = (int)in->engine; /* a DMA issued by a sequencer: its trigger's queue */
        int nfp = 0;
        st = operands(&b, i, fp, reg, &nfp);
        if (st) break;
        pending w;
        memset(&w, 0, sizeof w);
        for (int g = 0; g < TRN_ENGINE_COUNT; g++) w.latest[g] = -1;
        for (int k = 0; k < nfp; k++) {
            const region *r = &b.regions[reg[k]];
            for (int j = 0; j < r->n; j++) {
                const access *a = &r->a[j];
                if (!(fp[k].write || a->f.write) || !fp_overlap(&b, &fp[k], &a->f)) continue;
                int kind = !fp[k].write ? TRN_DEP_RAW : a->f.write ? TRN_DEP_WAW : TRN_DEP_WAR;
                add_wait(&w, queue, prev_in_queue[queue], a->group, a->instr, kind);
            }
        }
        for (int k = 0; k < nfp && st == TRN_OK; k++) {
            region *r = &b.regions[reg[k]];
            region_prune(&b, r, &fp[k], group);
            access a = {i, (uint8_t)group, fp[k]};
            st = region_add(r, &a);
        }
        sched_instr *si = &s->in[i];
        si->raw_prev = w.raw_prev;
        for (int g = 0; g < TRN_ENGINE_COUNT; g++) {
            if (w.latest[g] < 0) continue;
            si->waits[si->nwaits].instr = w.latest[g];
            si->waits[si->nwaits].kinds = w.kinds[g];
            si->nwaits++;
        }
        prev_in_queue[queue] = i;
    }
    builder_free(&b);
    if (st) {
        free(s->in);
        s->in = NULL;
        return trn_err_set(err, st, "scheduler: out of memory");
    }
    return TRN_OK;
}

/* ---- comparison ---------------------------------------------------------------------------- */

static trn_hw *hw;
static int nkernels, nedges;

/* Schedules p both ways and checks every instruction's waits and RAW-on-previous flag agree. */
static void compare(const trn_program *p, const char *what) {
    sched a, b;
    trn_err e = {0};
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    trn_status sa = sched_build(p, &a, &e), sb = ref_build(p, &b, &e);
    CHECK_MSG(sa == TRN_OK && sb == TRN_OK, "%s: %s", what, e.msg);
    int bad = 0;
    for (int i = 0; sa == TRN_OK && sb == TRN_OK && i < p->ninstrs; i++) {
        const sched_instr *x = &a.in[i], *y = &b.in[i];
        int same = x->nwaits == y->nwaits && x->raw_prev == y->raw_prev;
        for (int k = 0; same && k < x->nwaits; k++)
            same = x->waits[k].instr == y->waits[k].instr && x->waits[k].kinds == y->waits[k].kinds;
        nedges += y->nwaits;
        if (!same && bad++ < 3)
            CHECK_MSG(0, "%s: instruction %d: %d waits (first #%d), reference %d (first #%d)", what,
                      i, x->nwaits, x->nwaits ? x->waits[0].instr : -1, y->nwaits,
                      y->nwaits ? y->waits[0].instr : -1);
    }
    CHECK_MSG(bad == 0, "%s: %d instructions differ", what, bad);
    sched_free(&a);
    free(b.in);
    nkernels++;
}

static trn_program *build(const char *text, const char *name, int v) {
    char core[8];
    snprintf(core, sizeof core, "v%d", v);
    trn_asm_opts o = {0};
    o.core_version = v;
    trn_program *p = NULL;
    trn_err e = {0};
    trn_isa_target tg;
    if (trn_program_assemble(text, name, &o, &p, &e) != TRN_OK ||
        trn_isa_target_from_core(trn_hw_core_get(hw, core), &tg, &e) != TRN_OK ||
        trn_program_verify(p, &tg, &e) != TRN_OK) {
        CHECK_MSG(0, "%s: %s", name, e.msg);
        trn_program_destroy(p);
        return NULL;
    }
    return p;
}

/* ---- synthetic kernels --------------------------------------------------------------------- */

typedef struct gen {
    char *buf;
    size_t n, cap;
    uint64_t s; /* xorshift state */
} gen;

static void emit(gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void emit(gen *g, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(g->buf + g->n, g->cap - g->n, fmt, ap);
        va_end(ap);
        if (k >= 0 && (size_t)k < g->cap - g->n) {
            g->n += (size_t)k;
            return;
        }
        g->cap = g->cap * 2 + (size_t)k + 256;
        g->buf = realloc(g->buf, g->cap);
        if (!g->buf) abort();
    }
}

static unsigned rnd(gen *g, unsigned n) {
    g->s ^= g->s << 13;
    g->s ^= g->s >> 7;
    g->s ^= g->s << 17;
    return (unsigned)(g->s % n);
}

/* A slice "t[p0:p0+P, c0:c0+F*st:st]" of a [128, width] tensor with P partitions and F
 * elements per partition (legal partition starts, §2.4). */
static void slice(gen *g, char *out, size_t n, const char *t, int P, int F, int width) {
    int starts = P > 64 ? 1 : P > 32 ? 2 : 4;
    int p0 = (int)rnd(g, (unsigned)starts) * (P > 64 ? 0 : P > 32 ? 64 : 32);
    int st = 1 + (int)rnd(g, 3);
    if ((F - 1) * st + 1 > width) st = 1;
    int c0 = (int)rnd(g, (unsigned)(width - (F - 1) * st));
    snprintf(out, n, "%s[%d:%d, %d:%d:%d]", t, p0, p0 + P, c0, c0 + (F - 1) * st + 1, st);
}

/* n random instructions over SBUF tiles, two PSUM banks and two HBM tensors, on every engine. */
static char *random_kernel(uint64_t seed, int n) {
    gen g = {NULL, 0, 0, seed * 2654435761U + 1};
    emit(&g, ".kernel rnd\n.input h f32 [128, 4096]\n.output o f32 [128, 4096]\n"
             ".sbuf x f32 [128, 512]\n.sbuf y f32 [128, 512]\n.sbuf z f32 [128, 512]\n"
             ".sbuf w bf16 [128, 128]\n.sbuf a bf16 [128, 512]\n.psum acc f32 [128, 2, 512]\n");
    static const char *const tiles[] = {"x", "y", "z"};
    static const char *const seq[] = {"sync", "scalar", "gpsimd"};
    char d[96], s1[96], s2[96];
    for (int i = 0; i < n; i++) {
        static const int Ps[] = {128, 64, 32, 16};
        static const int Fs[] = {16, 32, 64, 100, 128};
        int P = Ps[rnd(&g, 4)], F = Fs[rnd(&g, 5)];
        const char *td = tiles[rnd(&g, 3)], *ta = tiles[rnd(&g, 3)], *tb = tiles[rnd(&g, 3)];
        slice(&g, d, sizeof d, td, P, F, 512);
        slice(&g, s1, sizeof s1, ta, P, F, 512);
        slice(&g, s2, sizeof s2, tb, P, F, 512);
        switch (rnd(&g, 9)) {
        case 0: emit(&g, "activation dst=%s data=%s op=exp\n", d, s1); break;
        case 1: emit(&g, "tensor_scalar dst=%s data=%s op0=add operand0=1.0\n", d, s1); break;
        case 2:
            emit(&g, "tensor_scalar dst=%s data=%s op0=add operand0=1.0 engine=gpsimd\n", d, s1);
            break;
        case 3: emit(&g, "tensor_tensor dst=%s data1=%s data2=%s op=add\n", d, s1, s2); break;
        case 4: {
            int bank = (int)rnd(&g, 2);
            emit(&g,
                 "nc_matmul dst=acc[:, %d, 0:%d] stationary=w moving=a[:, 0:%d] accumulate=%s\n",
                 bank, F, F, rnd(&g, 2) ? "true" : "false");
            break;
        }
        case 5: {
            int bank = (int)rnd(&g, 2);
            emit(&g, "tensor_copy dst=%s src=acc[0:%d, %d, 0:%d]\n", d, P, bank, F);
            break;
        }
        case 6: {
            char h[96];
            slice(&g, h, sizeof h, rnd(&g, 2) ? "h" : "o", P, F, 4096);
            emit(&g, "dma_copy dst=%s src=%s engine=%s\n", d, h, seq[rnd(&g, 3)]);
            break;
        }
        case 7: {
            char h[96];
            slice(&g, h, sizeof h, "o", P, F, 4096);
            emit(&g, "dma_copy dst=%s src=%s%s\n", h, s1, rnd(&g, 2) ? " engine=sync" : "");
            break;
        }
        default: emit(&g, "memset dst=%s value=0.0\n", d); break;
        }
    }
    return g.buf;
}

/* The strided case: `rounds` passes over `slices` column blocks of one HBM output, each block
 * loaded, computed and stored, with every block's store live at once; every 16th block also
 * reads back a block that straddles two earlier ones. */
static char *strided_kernel(int slices, int rounds) {
    gen g = {NULL, 0, 0, 1};
    int cw = 32;
    emit(&g,
         ".kernel strided\n.input h f32 [128, %d]\n.output o f32 [128, %d]\n"
         ".sbuf x f32 [128, 2, 32]\n.sbuf y f32 [128, 2, 32]\n",
         slices * cw, slices * cw);
    for (int r = 0; r < rounds; r++)
        for (int j = 0; j < slices; j++) {
            int b = j % 2;
            emit(&g, "dma_copy dst=x[:, %d, :] src=h[:, %d:%d]\n", b, j * cw, (j + 1) * cw);
            emit(&g, "activation dst=y[:, %d, :] data=x[:, %d, :] op=exp\n", b, b);
            emit(&g, "dma_copy dst=o[:, %d:%d] src=y[:, %d, :] engine=sync\n", j * cw, (j + 1) * cw,
                 b);
            if (j % 16 == 15 && j >= 1)
                emit(&g, "dma_copy dst=x[:, %d, :] src=o[:, %d:%d]\n", b, j * cw - cw / 2,
                     j * cw + cw / 2);
        }
    return g.buf;
}

/* Corner cases of the footprint patterns: one HBM tensor g [16, 8, 64] and one SBUF tile s [128,
 * 8, 64] addressed by random 3-D slices (partition sub-ranges, row and column windows, steps 1-3
 * in every dim), so that footprints come as single runs, rows of several strides (dim 1 or dim 0
 * rows, partial rows), and irregular lists; PSUM accesses in two banks and across a bank's half;
 * and bursts of many reads on every engine followed by a write (WAR with many readers, WAW). */
static void pslice(gen *g, char *out, size_t n, const char *t, int d0, int P, int A, int B,
                   int p0fixed) {
    int sa = 1 + (int)rnd(g, 3), sb = 1 + (int)rnd(g, 3);
    if ((A - 1) * sa + 1 > 8) sa = 1;
    if ((B - 1) * sb + 1 > 64) sb = 1;
    int p0 = p0fixed >= 0 ? p0fixed : (int)rnd(g, (unsigned)(d0 - P + 1));
    int a0 = (int)rnd(g, (unsigned)(8 - (A - 1) * sa)),
        b0 = (int)rnd(g, (unsigned)(64 - (B - 1) * sb));
    snprintf(out, n, "%s[%d:%d, %d:%d:%d, %d:%d:%d]", t, p0, p0 + P, a0, a0 + (A - 1) * sa + 1, sa,
             b0, b0 + (B - 1) * sb + 1, sb);
}

static char *pattern_kernel(uint64_t seed, int n) {
    gen g = {NULL, 0, 0, seed * 0x9e3779b97f4a7c15ULL + 7};
    emit(&g, ".kernel pat\n.input g f32 [16, 8, 64]\n.output o f32 [16, 8, 64]\n"
             ".sbuf s f32 [128, 8, 64]\n.sbuf u f32 [128, 8, 64]\n.psum acc f32 [128, 2, 512]\n"
             ".sbuf w bf16 [128, 128]\n.sbuf a bf16 [128, 512]\n");
    static const char *const eng[] = {"", " engine=sync", " engine=scalar", " engine=gpsimd"};
    char d[128], s1[128];
    for (int i = 0; i < n; i++) {
        static const int Ps[] = {16, 8, 4, 1};
        static const int As[] = {1, 2, 4, 8};
        static const int Bs[] = {1, 8, 32, 64};
        int P = Ps[rnd(&g, 4)], A = As[rnd(&g, 4)], B = Bs[rnd(&g, 4)];
        /* SBUF partition starts: 0, 32, 64, 96 (legal for up to 32 partitions) */
        int sp0 = (int)rnd(&g, 4) * 32;
        switch (rnd(&g, 8)) {
        case 0: /* HBM -> SBUF */
            pslice(&g, d, sizeof d, rnd(&g, 2) ? "s" : "u", 128, P, A, B, sp0);
            pslice(&g, s1, sizeof s1, rnd(&g, 2) ? "g" : "o", 16, P, A, B, -1);
            emit(&g, "dma_copy dst=%s src=%s%s\n", d, s1, eng[rnd(&g, 4)]);
            break;
        case 1: /* SBUF -> HBM */
            pslice(&g, d, sizeof d, "o", 16, P, A, B, -1);
            pslice(&g, s1, sizeof s1, rnd(&g, 2) ? "s" : "u", 128, P, A, B, sp0);
            emit(&g, "dma_copy dst=%s src=%s%s\n", d, s1, eng[rnd(&g, 4)]);
            break;
        case 2: { /* many readers of overlapping windows on every engine, then a write */
            int k = 2 + (int)rnd(&g, 6);
            for (int j = 0; j < k; j++) {
                pslice(&g, d, sizeof d, "u", 128, P, A, B, sp0);
                pslice(&g, s1, sizeof s1, "s", 128, P, A, B, sp0);
                static const char *const ops[] = {"activation dst=%s data=%s op=exp\n",
                                                  "tensor_copy dst=%s src=%s\n",
                                                  "tensor_copy dst=%s src=%s engine=gpsimd\n"};
                emit(&g, ops[rnd(&g, 3)], d, s1);
            }
            pslice(&g, d, sizeof d, "s", 128, P, A, B, sp0);
            emit(&g, "memset dst=%s value=0.0\n", d);
            break;
        }
        case 3:
            pslice(&g, d, sizeof d, rnd(&g, 2) ? "s" : "u", 128, P, A, B, sp0);
            pslice(&g, s1, sizeof s1, rnd(&g, 2) ? "s" : "u", 128, P, A, B, sp0);
            emit(&g, "tensor_scalar dst=%s data=%s op0=add operand0=1.0\n", d, s1);
            break;
        case 4: { /* PSUM: a bank, a half bank, or straddling the two halves of one bank */
            int bank = (int)rnd(&g, 2), c0 = (int)rnd(&g, 3) * 128, F = 128 * (1 + (int)rnd(&g, 3));
            if (c0 + F > 512) F = 512 - c0;
            emit(&g,
                 "nc_matmul dst=acc[:, %d, %d:%d] stationary=w moving=a[:, 0:%d] accumulate=%s\n",
                 bank, c0, c0 + F, F, rnd(&g, 2) ? "true" : "false");
            break;
        }
        case 5: {
            int bank = (int)rnd(&g, 2), c0 = (int)rnd(&g, 8) * 64;
            emit(&g, "tensor_copy dst=u[0:%d, %d, 0:64] src=acc[0:%d, %d, %d:%d]\n", P,
                 (int)rnd(&g, 8), P, bank, c0, c0 + 64);
            break;
        }
        case 6: /* HBM -> HBM */
            pslice(&g, d, sizeof d, "o", 16, P, A, B, -1);
            pslice(&g, s1, sizeof s1, "g", 16, P, A, B, -1);
            emit(&g, "dma_copy dst=%s src=%s\n", d, s1);
            break;
        default:
            pslice(&g, d, sizeof d, rnd(&g, 2) ? "s" : "u", 128, P, A, B, sp0);
            emit(&g, "memset dst=%s value=0.0%s\n", d, rnd(&g, 2) ? " engine=gpsimd" : "");
            break;
        }
    }
    return g.buf;
}

/* Two runs of a kernel give the same report and trace bytes. */
static void same_twice(const trn_program *p, int v, const char *what) {
    char core[8];
    snprintf(core, sizeof core, "v%d", v);
    char *out[2][2] = {{NULL, NULL}, {NULL, NULL}};
    for (int k = 0; k < 2; k++) {
        trn_timing *t = NULL;
        trn_err e = {0};
        CHECK_MSG(trn_timing_run(p, trn_hw_core_get(hw, core), NULL, NULL, &t, &e) == TRN_OK,
                  "%s: %s", what, e.msg);
        if (!t) return;
        for (int j = 0; j < 2; j++) {
            size_t n = 0;
            FILE *f = open_memstream(&out[k][j], &n);
            if (!f) abort();
            if (j)
                trn_timing_write_trace_file(t, p, f, &e);
            else
                trn_timing_print_json(t, f, &e);
            fclose(f);
        }
        trn_timing_destroy(t);
    }
    for (int j = 0; j < 2; j++) {
        CHECK_MSG(out[0][j] && out[1][j] && !strcmp(out[0][j], out[1][j]), "%s: %s differs", what,
                  j ? "trace" : "report");
        free(out[0][j]);
        free(out[1][j]);
    }
}

int main(void) {
    if (trn_hw_create(&hw, NULL) != TRN_OK) return 1;
    /* the example kernels, on every core version they assemble for */
    DIR *dir = opendir("examples/kernels");
    CHECK(dir != NULL);
    struct dirent *de;
    while (dir && (de = readdir(dir))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".tasm")) continue;
        char path[512];
        snprintf(path, sizeof path, "examples/kernels/%s", de->d_name);
        for (int v = 2; v <= 4; v++) {
            trn_asm_opts o = {0};
            o.core_version = v;
            trn_program *p = NULL;
            trn_err e = {0};
            if (trn_program_assemble_file(path, &o, &p, &e) == TRN_OK) compare(p, path);
            trn_program_destroy(p);
        }
    }
    if (dir) closedir(dir);
    CHECK(nkernels >= 8);
    /* random kernels */
    for (uint64_t seed = 1; seed <= 40; seed++) {
        char *text = random_kernel(seed, 400);
        char name[32];
        snprintf(name, sizeof name, "random-%d.tasm", (int)seed);
        trn_program *p = build(text, name, 3);
        if (p) {
            compare(p, name);
            if (seed <= 3) same_twice(p, 3, name);
        }
        trn_program_destroy(p);
        free(text);
    }
    /* footprint pattern corner cases */
    int npat = 0;
    for (uint64_t seed = 1; seed <= 60; seed++) {
        char *text = pattern_kernel(seed, 300);
        char name[32];
        snprintf(name, sizeof name, "pattern-%d.tasm", (int)seed);
        trn_program *p = build(text, name, 3);
        if (p) {
            compare(p, name);
            npat++;
            if (seed <= 2) same_twice(p, 3, name);
        }
        trn_program_destroy(p);
        free(text);
    }
    CHECK(npat == 60);
    /* the strided case */
    {
        char *text = strided_kernel(128, 3);
        trn_program *p = build(text, "strided.tasm", 3);
        if (p) {
            compare(p, "strided.tasm");
            same_twice(p, 3, "strided.tasm");
        }
        trn_program_destroy(p);
        free(text);
    }
    CHECK(nedges > 1000); /* the kernels really have dependences to compare */
    printf("%d kernels, %d reference edges\n", nkernels, nedges);
    trn_hw_destroy(hw);
    return test_summary();
}

/* The scheduler: program order becomes per-engine in-order queues with semaphore waits, the way
 * the Neuron compiler inserts them. Every operand is a footprint (memory, partition range, byte
 * intervals inside each partition, or HBM byte intervals); an instruction waits on the latest
 * earlier instruction of each engine whose footprint conflicts with one of its own (RAW, WAR,
 * WAW). Waits on the instruction's own in-order queue are implied and dropped, and only the
 * latest instruction per engine is kept, so an instruction has at most one wait per engine.
 *
 * Per memory region (tensors whose allocations overlap share one) a list of live accesses is
 * kept; a write removes every access it covers, and a read removes the earlier reads of its own
 * engine that it covers (they retire before it), which keeps the lists and the edges short.
 *
 * Deliberately left out: `.sync manual` programs (their own semaphores order them; checking
 * them for races is the race detector's job) and register dependences between sequencers. */
#include <stdlib.h>
#include <string.h>

#include "timing_impl.h"

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

/* 1 when the byte intervals of a and b intersect (both sorted and merged). */
static int ivals_overlap(const ival *a, uint32_t na, const ival *b, uint32_t nb) {
    uint32_t i = 0, j = 0;
    while (i < na && j < nb) {
        if (a[i].hi <= b[j].lo)
            i++;
        else if (b[j].hi <= a[i].lo)
            j++;
        else
            return 1;
    }
    return 0;
}

/* 1 when every byte of b is in a. */
static int ivals_cover(const ival *a, uint32_t na, const ival *b, uint32_t nb) {
    uint32_t i = 0;
    for (uint32_t j = 0; j < nb; j++) {
        while (i < na && a[i].hi <= b[j].lo) i++;
        if (i == na || a[i].lo > b[j].lo || a[i].hi < b[j].hi) return 0;
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

trn_status sched_build(const trn_program *p, sched *s, trn_err *err) {
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
        sched_free(s);
        return trn_err_set(err, st, "scheduler: out of memory");
    }
    return TRN_OK;
}

void sched_free(sched *s) {
    free(s->in);
    s->in = NULL;
    s->n = 0;
}

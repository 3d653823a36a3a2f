/* The scheduler: program order becomes per-engine in-order queues with semaphore waits, the way
 * the Neuron compiler inserts them. Every operand is a footprint (memory, partition range, byte
 * intervals inside each partition, or HBM byte intervals); an instruction waits on the latest
 * earlier instruction of each engine whose footprint conflicts with one of its own (RAW, WAR,
 * WAW). Waits on the instruction's own in-order queue are implied and dropped, and only the
 * latest instruction per engine is kept, so an instruction has at most one wait per engine.
 *
 * Per memory region (tensors whose allocations overlap share one) a set of live accesses is
 * kept; a write removes every access it covers, and a read removes the earlier reads of its own
 * engine that it covers (they retire before it), which keeps the sets and the edges short. The
 * live accesses of a region sit in an interval tree on their byte hulls (a treap keyed by the
 * hull's start, each node holding the largest end of its subtree), so an access finds the
 * live accesses whose hull meets its own in O(log live + hits) instead of scanning them all.
 * Only those candidates get the exact partition and byte tests, and the wait of each engine is
 * the max over them, so the edges are exactly those of a scan over every live access
 * (tests/test_timing_deps.c keeps that scan as the reference). Strided slices of one tensor
 * whose hulls interleave (column blocks of an HBM output: every hull spans all rows) are all
 * candidates of each other, so that case is still O(live slices) per access.
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
    uint8_t live;  /* 0 once a later access made it redundant */
    footprint f;
} access;

/* A node of a region's interval tree: one byte interval of one live access. */
typedef struct tnode {
    uint64_t lo, hi; /* [lo, hi) */
    uint64_t maxhi;  /* largest hi in the subtree */
    int32_t acc;     /* access (index in builder.acc) */
    int32_t l, r;    /* children, -1 */
    uint32_t prio;   /* heap priority (a hash of the node's slot: deterministic) */
} tnode;

typedef struct region {
    int32_t root;   /* interval tree of the live accesses' intervals, -1 when empty */
    int32_t *empty; /* live accesses with no interval (a zero-size operand): scanned */
    int nempty, capempty;
} region;

typedef struct builder {
    const trn_program *p;
    ival *pool;
    uint32_t npool, cappool;
    int *region_of; /* tensor -> region */
    region *regions;
    int nregions;
    access *acc; /* every access ever added, in order */
    int32_t nacc, capacc;
    tnode *node; /* tree nodes; free ones chained through .l */
    int32_t nnode, capnode, freenode;
    uint32_t *stamp; /* per access: the query that last reported it */
    uint32_t curstamp;
    int32_t *cand; /* candidates of the current query */
    int32_t ncand, capcand;
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
    /* y's hull outside x's: not covered (skips the walk) */
    if (y->count && (!x->count || b->pool[y->first].lo < b->pool[x->first].lo ||
                     b->pool[y->first + y->count - 1].hi > b->pool[x->first + x->count - 1].hi))
        return 0;
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

/* ---- the interval tree (a treap on (lo, acc) with subtree max hi) ------------------------ */

static uint32_t hash32(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

static void pull(tnode *nd, int32_t x) {
    uint64_t m = nd[x].hi;
    if (nd[x].l >= 0 && nd[nd[x].l].maxhi > m) m = nd[nd[x].l].maxhi;
    if (nd[x].r >= 0 && nd[nd[x].r].maxhi > m) m = nd[nd[x].r].maxhi;
    nd[x].maxhi = m;
}

static int key_less(const tnode *a, const tnode *b) {
    return a->lo != b->lo ? a->lo < b->lo : a->acc < b->acc;
}

static int32_t rot_right(tnode *nd, int32_t x) {
    int32_t y = nd[x].l;
    nd[x].l = nd[y].r;
    nd[y].r = x;
    pull(nd, x);
    pull(nd, y);
    return y;
}

static int32_t rot_left(tnode *nd, int32_t x) {
    int32_t y = nd[x].r;
    nd[x].r = nd[y].l;
    nd[y].l = x;
    pull(nd, x);
    pull(nd, y);
    return y;
}

static int32_t tree_insert(tnode *nd, int32_t t, int32_t x) {
    if (t < 0) return x;
    if (key_less(&nd[x], &nd[t])) {
        nd[t].l = tree_insert(nd, nd[t].l, x);
        if (nd[nd[t].l].prio > nd[t].prio) return rot_right(nd, t);
    } else {
        nd[t].r = tree_insert(nd, nd[t].r, x);
        if (nd[nd[t].r].prio > nd[t].prio) return rot_left(nd, t);
    }
    pull(nd, t);
    return t;
}

/* Removes the node with key (lo, acc) from subtree t; *gone gets its slot. */
static int32_t tree_remove(tnode *nd, int32_t t, uint64_t lo, int32_t acc, int32_t *gone) {
    if (t < 0) return t;
    if (nd[t].lo == lo && nd[t].acc == acc) {
        *gone = t;
        int32_t l = nd[t].l, r = nd[t].r;
        if (l < 0) return r;
        if (r < 0) return l;
        /* rotate the higher-priority child up, then remove from below */
        if (nd[l].prio > nd[r].prio) {
            int32_t y = rot_right(nd, t);
            nd[y].r = tree_remove(nd, nd[y].r, lo, acc, gone);
            pull(nd, y);
            return y;
        }
        int32_t y = rot_left(nd, t);
        nd[y].l = tree_remove(nd, nd[y].l, lo, acc, gone);
        pull(nd, y);
        return y;
    }
    if (lo < nd[t].lo || (lo == nd[t].lo && acc < nd[t].acc))
        nd[t].l = tree_remove(nd, nd[t].l, lo, acc, gone);
    else
        nd[t].r = tree_remove(nd, nd[t].r, lo, acc, gone);
    pull(nd, t);
    return t;
}

static int cand_push(builder *b, int32_t a) {
    if (b->stamp[a] == b->curstamp) return 1;
    b->stamp[a] = b->curstamp;
    if (b->ncand == b->capcand) {
        int32_t cap = b->capcand ? b->capcand * 2 : 64;
        int32_t *q = realloc(b->cand, sizeof *q * (size_t)cap);
        if (!q) return 0;
        b->cand = q;
        b->capcand = cap;
    }
    b->cand[b->ncand++] = a;
    return 1;
}

/* Reports every access with an interval of subtree t intersecting [lo, hi). */
static int tree_query(builder *b, int32_t t, uint64_t lo, uint64_t hi) {
    const tnode *nd = b->node;
    while (t >= 0 && nd[t].maxhi > lo) {
        if (!tree_query(b, nd[t].l, lo, hi)) return 0;
        if (nd[t].lo >= hi) return 1; /* the right subtree starts later still */
        if (nd[t].hi > lo && !cand_push(b, nd[t].acc)) return 0;
        t = nd[t].r;
    }
    return 1;
}

/* The live accesses of region r that footprint f may overlap or cover, into b->cand: those
 * whose hull intersects f's hull, and those with no interval. */
static trn_status candidates(builder *b, const region *r, const footprint *f) {
    b->ncand = 0;
    if (++b->curstamp == 0) { /* wrapped: forget every stamp */
        memset(b->stamp, 0, sizeof *b->stamp * (size_t)b->capacc);
        b->curstamp = 1;
    }
    const ival *v = b->pool + f->first;
    if (f->count && !tree_query(b, r->root, v[0].lo, v[f->count - 1].hi)) return TRN_E_NOMEM;
    for (int k = 0; k < r->nempty; k++)
        if (!cand_push(b, r->empty[k])) return TRN_E_NOMEM;
    return TRN_OK;
}

/* Adds access `a` to region r (its intervals into the tree). */
static trn_status region_add(builder *b, region *r, const access *a) {
    if (b->nacc == b->capacc) {
        int32_t cap = b->capacc ? b->capacc * 2 : 1024;
        access *q = realloc(b->acc, sizeof *q * (size_t)cap);
        if (!q) return TRN_E_NOMEM;
        b->acc = q;
        uint32_t *st = realloc(b->stamp, sizeof *st * (size_t)cap);
        if (!st) return TRN_E_NOMEM;
        memset(st + b->capacc, 0, sizeof *st * (size_t)(cap - b->capacc));
        b->stamp = st;
        b->capacc = cap;
    }
    int32_t id = b->nacc++;
    b->acc[id] = *a;
    b->acc[id].live = 1;
    if (a->f.count == 0) {
        if (r->nempty == r->capempty) {
            int cap = r->capempty ? r->capempty * 2 : 4;
            int32_t *q = realloc(r->empty, sizeof *q * (size_t)cap);
            if (!q) return TRN_E_NOMEM;
            r->empty = q;
            r->capempty = cap;
        }
        r->empty[r->nempty++] = id;
        return TRN_OK;
    }
    /* one node per access: the hull of its intervals (the exact test is on the candidates) */
    const ival *v = b->pool + a->f.first;
    int32_t x = b->freenode;
    if (x >= 0) {
        b->freenode = b->node[x].l;
    } else {
        if (b->nnode == b->capnode) {
            int32_t cap = b->capnode ? b->capnode * 2 : 1024;
            tnode *q = realloc(b->node, sizeof *q * (size_t)cap);
            if (!q) return TRN_E_NOMEM;
            b->node = q;
            b->capnode = cap;
        }
        x = b->nnode++;
    }
    tnode *nd = &b->node[x];
    nd->lo = v[0].lo;
    nd->hi = nd->maxhi = v[a->f.count - 1].hi;
    nd->acc = id;
    nd->l = nd->r = -1;
    nd->prio = hash32((uint32_t)x * 2654435761U + (uint32_t)id);
    r->root = tree_insert(b->node, r->root, x);
    return TRN_OK;
}

/* Takes access `id` out of region r. */
static void region_drop(builder *b, region *r, int32_t id) {
    access *a = &b->acc[id];
    a->live = 0;
    if (a->f.count == 0) {
        for (int k = 0; k < r->nempty; k++)
            if (r->empty[k] == id) {
                r->empty[k] = r->empty[--r->nempty];
                break;
            }
        return;
    }
    int32_t gone = -1;
    r->root = tree_remove(b->node, r->root, b->pool[a->f.first].lo, id, &gone);
    TRN_ASSERT(gone >= 0);
    b->node[gone].l = b->freenode;
    b->freenode = gone;
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

/* Drops the accesses of r that f (an access of group `group`) makes redundant: everything a
 * write covers; the covered earlier reads of its own group for a read. */
static trn_status region_prune(builder *b, region *r, const footprint *f, int group) {
    trn_status st = candidates(b, r, f);
    if (st) return st;
    for (int32_t k = 0; k < b->ncand; k++) {
        const access *a = &b->acc[b->cand[k]];
        if ((f->write || (!a->f.write && a->group == group)) && fp_cover(b, f, &a->f))
            region_drop(b, r, b->cand[k]);
    }
    return TRN_OK;
}

static void builder_free(builder *b) {
    for (int r = 0; r < b->nregions; r++) free(b->regions[r].empty);
    free(b->regions);
    free(b->acc);
    free(b->node);
    free(b->stamp);
    free(b->cand);
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
    b.freenode = -1;
    trn_status st = regions_init(&b);
    for (int r = 0; st == TRN_OK && r < b.nregions; r++) b.regions[r].root = -1;
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
        for (int k = 0; k < nfp && st == TRN_OK; k++) {
            st = candidates(&b, &b.regions[reg[k]], &fp[k]);
            for (int32_t j = 0; j < b.ncand && st == TRN_OK; j++) {
                const access *a = &b.acc[b.cand[j]];
                if (!(fp[k].write || a->f.write) || !fp_overlap(&b, &fp[k], &a->f)) continue;
                int kind = !fp[k].write ? TRN_DEP_RAW : a->f.write ? TRN_DEP_WAW : TRN_DEP_WAR;
                add_wait(&w, queue, prev_in_queue[queue], a->group, a->instr, kind);
            }
        }
        for (int k = 0; k < nfp && st == TRN_OK; k++) {
            region *r = &b.regions[reg[k]];
            st = region_prune(&b, r, &fp[k], group);
            access a = {i, (uint8_t)group, 1, fp[k]};
            if (st == TRN_OK) st = region_add(&b, r, &a);
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

/* The scheduler: program order becomes per-engine in-order queues with semaphore waits, the way
 * the Neuron compiler inserts them. Every operand is a footprint (memory, partition range, and
 * the bytes it touches inside each partition, or in HBM); an instruction waits on the latest
 * earlier instruction of each engine whose footprint conflicts with one of its own (RAW, WAR,
 * WAW). Waits on the instruction's own in-order queue are implied and dropped, and only the
 * latest instruction per engine is kept, so an instruction has at most one wait per engine.
 *
 * A footprint is kept as its access pattern, not as a list of intervals: n rows of len bytes
 * `stride` apart (a single run is one row; a [rows, columns] slice of a wider tensor is one row
 * per partition row or HBM row), so overlap and cover of two patterns with one stride are
 * decided in O(1); only irregular patterns (several non-mergeable levels, negative steps) keep
 * their explicit intervals, walked as before. The byte sets, and so the edges, are exactly
 * those of the explicit intervals (tests/test_timing_deps.c keeps the interval scheduler as the
 * reference and compares every wait).
 *
 * Per memory region (tensors whose allocations overlap share one) a set of live accesses is
 * kept; a write removes every access it covers, and a read removes the earlier reads of its own
 * engine that it covers (they retire before it), which keeps the sets and the edges short. A
 * removed access's slot, index node and intervals are reused or freed, so memory follows the
 * live set, not the program. The live accesses of a region are indexed by their bounding boxes
 * in a (row, column) plane whose row pitch is the region's first row stride, so the column
 * slices of one tensor do not all meet one another: up to FLAT_MAX of them in a plain array of
 * boxes, scanned, and beyond that in an interval tree (a treap keyed by the box's first column,
 * each node holding the largest end of its subtree); only the candidates the index reports get
 * the exact partition and byte tests, and the wait of each engine is the max over them.
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

/* A footprint's byte set inside each partition of [p0, p1) (HBM: the one range 0, 1):
 *   FP_ROWS  n rows of len bytes, `stride` bytes apart, the first at lo: the access pattern of
 *            almost every operand (one contiguous run: n = 1; a [rows, columns] slice of a
 *            wider tensor: one row per run). Canonical: len > 0, and len < stride when n > 1
 *            (rows that touch or overlap are one run), so the rows are exactly the sorted,
 *            merged intervals the explicit form would hold.
 *   FP_LIST  anything else (three or more irregular levels, negative steps, zero-size dims):
 *            the explicit sorted, merged intervals, owned by the footprint (n = 0: empty).
 * Overlap and cover of two FP_ROWS with the same stride (or one of them a single run) are
 * decided arithmetically in O(1); other pairs walk the explicit intervals. */
enum { FP_ROWS, FP_LIST };

typedef struct footprint {
    uint8_t mem;
    uint8_t write;
    uint8_t kind;
    uint16_t p0, p1;      /* partitions [p0, p1); HBM: 0, 1 */
    uint32_t n;           /* rows (FP_ROWS) or intervals (FP_LIST) */
    uint64_t lo, hi;      /* hull [lo, hi) (FP_LIST with n = 0: 0, 0) */
    uint64_t len, stride; /* FP_ROWS */
    ival *v;              /* FP_LIST: n intervals (malloc'd, owned) */
} footprint;

typedef struct access {
    int32_t instr;
    uint8_t group; /* engine group that retires it in order (trn_engine; DMA for DMAs) */
    uint8_t live;  /* 0 once a later access made it redundant (its slot is then free) */
    int32_t node;  /* its tree node, -1 when it has none (an empty footprint); free: next */
    footprint f;
} access;

/* A node of a region's index: the bounding box of one live access in the region's (row,
 * column) plane (see box_of). */
typedef struct tnode {
    uint64_t lo, hi;   /* columns [lo, hi): the key */
    uint64_t maxhi;    /* largest hi in the subtree */
    uint64_t rlo, rhi; /* rows [rlo, rhi] */
    int32_t acc;       /* access (index in builder.acc) */
    int32_t l, r;      /* children, -1 */
    uint32_t prio;     /* heap priority (a hash of the node's slot: deterministic) */
} tnode;

/* A bounding box in a region's (row, column) plane: columns [lo, hi), rows [rlo, rhi]. */
typedef struct box {
    uint64_t lo, hi, rlo, rhi;
} box;

/* Live accesses (with a non-empty footprint) a region keeps in a plain array, scanned, before
 * its index becomes a tree: most regions (a tile's buffers) hold fewer. */
#define FLAT_MAX 32

typedef struct region {
    uint8_t tree;   /* the index is the treap at root (for good once FLAT_MAX is passed) */
    int32_t root;   /* tree: the treap of the live accesses, -1 when empty */
    int32_t *flat;  /* !tree: the nodes of the live accesses (each node's .l: its position) */
    box *fbox;      /* !tree: their boxes (copies of the nodes', scanned) */
    int nflat;      /* !tree: entries of flat and fbox */
    uint64_t pitch; /* row pitch of the index plane in bytes; 0: one row (columns = bytes) */
    int32_t *empty; /* live accesses with an empty footprint: scanned */
    int nempty, capempty;
    uint8_t written; /* some instruction writes it; else its reads conflict with nothing */
} region;

typedef struct builder {
    const trn_program *p;
    int *region_of; /* tensor -> region */
    region *regions;
    int nregions;
    access *acc; /* access slots; free ones chained through .node */
    int32_t nacc, capacc, freeacc;
    tnode *node; /* tree nodes; free ones chained through .l */
    int32_t nnode, capnode, freenode;
    int key_acc[2]; /* argument index of `accumulate` in nc_matmul, nc_matmul_mx */
    int32_t *cand;  /* candidates of the current instruction's queries, one run per operand */
    int32_t ncand, capcand;
    ival scratch[2][MAX_RUNS]; /* FP_ROWS expanded for a walk */
} builder;

static int cmp_ival(const void *a, const void *b) {
    const ival *x = a, *y = b;
    if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
    return x->hi < y->hi ? -1 : x->hi > y->hi;
}

static void fp_release(footprint *f) {
    if (f->kind == FP_LIST) free(f->v);
    f->v = NULL;
}

/* The explicit intervals of `ap` (the runs of the merged innermost dims, sorted and merged),
 * as the scheduler first computed them. */
static trn_status footprint_list(const trn_ap *ap, uint64_t base, uint64_t eb, int k, int64_t run,
                                 uint64_t runs, footprint *f) {
    f->kind = FP_LIST;
    f->n = 0;
    f->lo = f->hi = 0;
    f->v = NULL;
    if (runs == 0) return TRN_OK;
    ival *v = malloc(sizeof *v * (size_t)runs);
    if (!v) return TRN_E_NOMEM;
    int32_t idx[TRN_MAX_RANK] = {0};
    for (uint64_t r = 0; r < runs; r++) {
        int64_t off = ap->offset;
        for (int d = 0; d < k; d++) off += (int64_t)idx[d] * ap->free[d].step;
        v[r].lo = base + (uint64_t)off * eb;
        v[r].hi = base + (uint64_t)(off + run) * eb;
        for (int d = k - 1; d >= 0; d--) {
            if (++idx[d] < ap->free[d].num) break;
            idx[d] = 0;
        }
    }
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
    f->v = v;
    f->n = m;
    f->lo = v[0].lo;
    f->hi = v[m - 1].hi;
    return TRN_OK;
}

static void set_rows(footprint *f, uint64_t start, uint64_t len, uint64_t stride, uint64_t n) {
    f->kind = FP_ROWS;
    f->v = NULL;
    if (n > 1 && stride <= len) { /* the rows touch: one run */
        len += (n - 1) * stride;
        n = 1;
    }
    if (n == 1) stride = len;
    f->n = (uint32_t)n;
    f->lo = start;
    f->len = len;
    f->stride = stride;
    f->hi = start + (n - 1) * stride + len;
}

/* The footprint of operand `ap` into f. The byte set is that of the runs of its merged
 * innermost contiguous dims (more than MAX_RUNS runs: their hull); FP_ROWS when at most one
 * outer level remains after dropping single-element and zero-step dims and merging dims that
 * continue one another, else FP_LIST. */
static trn_status footprint_of(builder *b, const trn_ap *ap, int write, footprint *f) {
    const trn_tensor *t = &b->p->tensors[ap->tensor];
    uint64_t eb = t->elem_bytes;
    f->mem = (uint8_t)t->mem;
    f->write = (uint8_t)write;
    f->p0 = t->mem == TRN_MEM_HBM ? 0 : ap->part_start;
    f->p1 = t->mem == TRN_MEM_HBM ? 1 : (uint16_t)(ap->part_start + ap->part_count);
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
        uint64_t lo = base + (uint64_t)ap->offset * eb;
        uint64_t hi = base + (uint64_t)(ap->offset + span + 1) * eb;
        if (lo < hi) {
            set_rows(f, lo, hi - lo, 0, 1);
            return TRN_OK;
        }
        f->kind = FP_LIST;
        f->v = malloc(sizeof *f->v);
        if (!f->v) return TRN_E_NOMEM;
        f->v[0].lo = f->lo = lo;
        f->v[0].hi = f->hi = hi;
        f->n = 1;
        return TRN_OK;
    }
    if (runs > 0 && run > 0 && ap->offset >= 0) {
        int64_t num[TRN_MAX_RANK], step[TRN_MAX_RANK];
        int m = 0, ok = 1;
        for (int d = 0; d < k && ok; d++) {
            if (ap->free[d].step < 0) ok = 0;
            if (ap->free[d].num == 1 || ap->free[d].step == 0) continue;
            num[m] = ap->free[d].num;
            step[m++] = ap->free[d].step;
        }
        while (ok && m >= 2 && step[m - 2] == num[m - 1] * step[m - 1]) {
            num[m - 2] *= num[m - 1];
            step[m - 2] = step[m - 1];
            m--;
        }
        if (ok && m <= 1) {
            uint64_t start = base + (uint64_t)ap->offset * eb, len = (uint64_t)run * eb;
            if (m == 0)
                set_rows(f, start, len, 0, 1);
            else
                set_rows(f, start, len, (uint64_t)step[0] * eb, (uint64_t)num[0]);
            return TRN_OK;
        }
    }
    return footprint_list(ap, base, eb, k, run, runs, f);
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

/* The explicit intervals of f (FP_ROWS written into buf, MAX_RUNS long). */
static const ival *fp_ivals(const footprint *f, ival *buf) {
    if (f->kind == FP_LIST) return f->v;
    for (uint32_t i = 0; i < f->n; i++) {
        buf[i].lo = f->lo + i * f->stride;
        buf[i].hi = buf[i].lo + f->len;
    }
    return buf;
}

static int64_t floordiv(int64_t a, int64_t s) {
    int64_t q = a / s;
    return (a % s != 0 && a < 0) ? q - 1 : q;
}

/* Two FP_ROWS with one row stride s (a single run takes the other's): some row of x meets
 * some row of y. Rows i of x and j of y meet iff -y.len < d + (j - i) s < x.len, d = y.lo -
 * x.lo; the set of k = j - i satisfying it is an interval, so its least member decides. */
static int rows_overlap(const footprint *x, const footprint *y, int64_t s) {
    int64_t d = (int64_t)(y->lo - x->lo);
    int64_t k = floordiv(-(int64_t)y->len - d, s) + 1;
    if (k < -(int64_t)(x->n - 1)) k = -(int64_t)(x->n - 1);
    return k <= (int64_t)y->n - 1 && d + k * s < (int64_t)x->len;
}

static int fp_overlap(builder *b, const footprint *x, const footprint *y) {
    if (x->mem != y->mem || x->p1 <= y->p0 || y->p1 <= x->p0) return 0;
    if (x->kind == FP_ROWS && y->kind == FP_ROWS) {
        if (x->hi <= y->lo || y->hi <= x->lo) return 0;
        if (x->n == 1 && y->n == 1) return 1;
        if (x->n == 1 || y->n == 1 || x->stride == y->stride)
            return rows_overlap(x, y, (int64_t)(x->n == 1 ? y->stride : x->stride));
    }
    return ivals_overlap(fp_ivals(x, b->scratch[0]), x->n, fp_ivals(y, b->scratch[1]), y->n);
}

/* 1 when every byte of y is in x. */
static int fp_cover(builder *b, const footprint *x, const footprint *y) {
    if (x->mem != y->mem || x->p0 > y->p0 || x->p1 < y->p1) return 0;
    if (x->kind == FP_ROWS && y->kind == FP_ROWS) {
        if (y->lo < x->lo || y->hi > x->hi) return 0;
        if (x->n == 1) return 1;
        uint64_t s = x->stride, d = y->lo - x->lo;
        if (y->n == 1) { /* one run: inside one row of x */
            uint64_t i = d / s;
            return y->hi <= x->lo + i * s + x->len;
        }
        if (y->stride == s) /* row j of y inside row j + d / s of x */
            return d % s + y->len <= x->len && d / s + y->n <= x->n;
    }
    return ivals_cover(fp_ivals(x, b->scratch[0]), x->n, fp_ivals(y, b->scratch[1]), y->n);
}

/* Regions: tensors of one memory whose allocations overlap are one region. */
static trn_status regions_init(builder *b) {
    const trn_program *p = b->p;
    b->region_of = malloc(sizeof(int) * (size_t)(p->ntensors ? p->ntensors : 1));
    b->regions = calloc((size_t)(p->ntensors ? p->ntensors : 1), sizeof(region));
    if (!b->region_of || !b->regions) return TRN_E_NOMEM;
    /* union-find over overlapping pairs, so that a tile aliasing two others (offset=) joins
     * their regions into one (the transitive closure); each set's root is its lowest index, so
     * regions are numbered in the order of their first tensor */
    int *up = malloc(sizeof(int) * (size_t)(p->ntensors ? p->ntensors : 1));
    if (!up) return TRN_E_NOMEM;
    for (int i = 0; i < p->ntensors; i++) {
        const trn_tensor *t = &p->tensors[i];
        up[i] = i;
        for (int j = 0; j < i; j++) {
            const trn_tensor *u = &p->tensors[j];
            if (u->mem == t->mem && u->addr < t->addr + t->bytes && t->addr < u->addr + u->bytes) {
                int ri = i, rj = j;
                while (up[ri] != ri) ri = up[ri];
                while (up[rj] != rj) rj = up[rj];
                if (ri != rj) up[ri > rj ? ri : rj] = ri < rj ? ri : rj;
            }
        }
    }
    for (int i = 0; i < p->ntensors; i++) {
        int r = i;
        while (up[r] != r) r = up[r];
        b->region_of[i] = r == i ? b->nregions++ : b->region_of[r];
    }
    free(up);
    for (int r = 0; r < b->nregions; r++) b->regions[r].root = -1;
    /* the regions some instruction writes (a core_barrier counts as writing its data, as
     * operands() does) */
    for (int i = 0; i < p->ninstrs; i++) {
        const trn_instr *in = &p->instrs[i];
        for (uint32_t k = 0; k < in->nargs; k++) {
            const trn_operand *o = &p->args[in->arg0 + k];
            if (o->kind != TRN_ARG_AP_OUT &&
                !(o->kind == TRN_ARG_AP_IN && in->op == TRN_OP_CORE_BARRIER))
                continue;
            if (o->u.ap.tensor >= 0 && o->u.ap.tensor < p->ntensors)
                b->regions[b->region_of[o->u.ap.tensor]].written = 1;
        }
    }
    return TRN_OK;
}

/* ---- the index (a treap on (column lo, access) with subtree max column hi) ----------------
 *
 * Each live access is one node: the bounding box of its bytes in the region's plane of rows
 * of `pitch` bytes (byte x is row x / pitch, column x % pitch; pitch 0: one row). The pitch is
 * the stride of the region's first multi-row footprint, so the column slices of one tensor
 * (every hull spanning all rows) get disjoint column ranges and only the slices a query really
 * meets are reported. A box holds every byte of its access, so the exact tests on the reported
 * candidates give exactly the edges of a scan over every live access. */

static uint32_t hash32(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

static box box_of(uint64_t pitch, const footprint *f) {
    box q;
    if (!pitch) {
        q.lo = f->lo;
        q.hi = f->hi;
        q.rlo = q.rhi = 0;
        return q;
    }
    q.rlo = f->lo / pitch;
    q.rhi = (f->hi - 1) / pitch;
    if (q.rlo == q.rhi) {
        q.lo = f->lo % pitch;
        q.hi = (f->hi - 1) % pitch + 1;
    } else if (f->kind == FP_ROWS && f->n > 1 && f->stride % pitch == 0 &&
               f->lo % pitch + f->len <= pitch) {
        q.lo = f->lo % pitch;
        q.hi = q.lo + f->len;
    } else {
        q.lo = 0;
        q.hi = pitch;
    }
    return q;
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

/* Removes node x from subtree t. */
static int32_t tree_remove(tnode *nd, int32_t t, int32_t x) {
    if (t < 0) return t;
    if (t == x) {
        int32_t l = nd[t].l, r = nd[t].r;
        if (l < 0) return r;
        if (r < 0) return l;
        /* rotate the higher-priority child up, then remove from below */
        if (nd[l].prio > nd[r].prio) {
            int32_t y = rot_right(nd, t);
            nd[y].r = tree_remove(nd, nd[y].r, x);
            pull(nd, y);
            return y;
        }
        int32_t y = rot_left(nd, t);
        nd[y].l = tree_remove(nd, nd[y].l, x);
        pull(nd, y);
        return y;
    }
    if (key_less(&nd[x], &nd[t]))
        nd[t].l = tree_remove(nd, nd[t].l, x);
    else
        nd[t].r = tree_remove(nd, nd[t].r, x);
    pull(nd, t);
    return t;
}

static int cand_push(builder *b, int32_t a) {
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

/* Reports every access of subtree t whose box meets q. */
static int tree_query(builder *b, int32_t t, const box *q) {
    const tnode *nd = b->node;
    while (t >= 0 && nd[t].maxhi > q->lo) {
        int32_t l = nd[t].l;
        if (l >= 0 && nd[l].maxhi > q->lo && !tree_query(b, l, q)) return 0;
        if (nd[t].lo >= q->hi) return 1; /* the right subtree starts later still */
        if (nd[t].hi > q->lo && nd[t].rlo <= q->rhi && q->rlo <= nd[t].rhi &&
            !cand_push(b, nd[t].acc))
            return 0;
        t = nd[t].r;
    }
    return 1;
}

/* Reports every node of a flat region whose box meets q: tree_query's test, node by node. */
static int flat_query(builder *b, const region *r, const box *q) {
    for (int k = 0; k < r->nflat; k++) {
        const box *x = &r->fbox[k];
        if (x->lo < q->hi && x->hi > q->lo && x->rlo <= q->rhi && q->rlo <= x->rhi &&
            !cand_push(b, b->node[r->flat[k]].acc))
            return 0;
    }
    return 1;
}

/* The box of node x, as flat_query scans it. */
static box node_box(const tnode *x) {
    box q = {x->lo, x->hi, x->rlo, x->rhi};
    return q;
}

/* The live accesses of region r that footprint f may overlap or cover, appended to b->cand:
 * those whose box meets f's, and those with an empty footprint (each access has at most one
 * node, so none is reported twice). */
static trn_status candidates(builder *b, const region *r, const footprint *f) {
    if (f->n) {
        box q = box_of(r->pitch, f);
        if (!(r->tree ? tree_query(b, r->root, &q) : flat_query(b, r, &q))) return TRN_E_NOMEM;
    }
    for (int k = 0; k < r->nempty; k++)
        if (!cand_push(b, r->empty[k])) return TRN_E_NOMEM;
    return TRN_OK;
}

static void node_set(builder *b, const region *r, int32_t x, int32_t id) {
    tnode *nd = &b->node[x];
    box q = box_of(r->pitch, &b->acc[id].f);
    nd->lo = q.lo;
    nd->hi = nd->maxhi = q.hi;
    nd->rlo = q.rlo;
    nd->rhi = q.rhi;
    nd->acc = id;
    nd->l = nd->r = -1;
    nd->prio = hash32((uint32_t)x * 2654435761U + (uint32_t)id);
}

/* Gives region r the pitch p and re-inserts its nodes with their new boxes. */
static trn_status region_repitch(builder *b, region *r, uint64_t p) {
    r->pitch = p;
    if (!r->tree) {
        for (int k = 0; k < r->nflat; k++) {
            node_set(b, r, r->flat[k], b->node[r->flat[k]].acc);
            b->node[r->flat[k]].l = k;
            r->fbox[k] = node_box(&b->node[r->flat[k]]);
        }
        return TRN_OK;
    }
    if (r->root < 0) return TRN_OK;
    int32_t *stack = malloc(sizeof *stack * (size_t)b->capnode);
    int32_t *out = malloc(sizeof *out * (size_t)b->capnode);
    if (!stack || !out) {
        free(stack);
        free(out);
        return TRN_E_NOMEM;
    }
    int32_t nout = 0, top = 0;
    stack[top++] = r->root;
    while (top) {
        int32_t x = stack[--top];
        out[nout++] = x;
        if (b->node[x].l >= 0) stack[top++] = b->node[x].l;
        if (b->node[x].r >= 0) stack[top++] = b->node[x].r;
    }
    r->root = -1;
    for (int32_t k = 0; k < nout; k++) {
        node_set(b, r, out[k], b->node[out[k]].acc);
        r->root = tree_insert(b->node, r->root, out[k]);
    }
    free(stack);
    free(out);
    return TRN_OK;
}

/* Adds access `a` to region r (its box into the index); the access takes a->f's intervals.
 * keep >= 0: the slot of a dropped access whose node has a's box (region_prune): a takes the
 * slot and the node stays where it is in the tree. *out gets the access's slot. */
static trn_status region_add(builder *b, region *r, const access *a, int32_t keep, int32_t *out) {
    if (keep >= 0) {
        int32_t x = b->acc[keep].node;
        b->acc[keep] = *a;
        b->acc[keep].live = 1;
        b->acc[keep].node = x;
        *out = keep;
        return TRN_OK;
    }
    int32_t id = b->freeacc;
    if (id < 0 && b->nacc == b->capacc) {
        int32_t cap = b->capacc ? b->capacc * 2 : 1024;
        access *q = realloc(b->acc, sizeof *q * (size_t)cap);
        if (!q) return TRN_E_NOMEM;
        b->acc = q;
        b->capacc = cap;
    }
    /* room first: on failure the caller still owns a's intervals */
    if (a->f.n == 0 && r->nempty == r->capempty) {
        int cap = r->capempty ? r->capempty * 2 : 4;
        int32_t *q = realloc(r->empty, sizeof *q * (size_t)cap);
        if (!q) return TRN_E_NOMEM;
        r->empty = q;
        r->capempty = cap;
    }
    if (a->f.n && b->freenode < 0 && b->nnode == b->capnode) {
        int32_t cap = b->capnode ? b->capnode * 2 : 1024;
        tnode *q = realloc(b->node, sizeof *q * (size_t)cap);
        if (!q) return TRN_E_NOMEM;
        b->node = q;
        b->capnode = cap;
    }
    if (a->f.n && !r->tree && !r->flat) {
        r->flat = malloc(sizeof *r->flat * FLAT_MAX);
        r->fbox = malloc(sizeof *r->fbox * FLAT_MAX);
        if (!r->flat || !r->fbox) {
            free(r->flat);
            free(r->fbox);
            r->flat = NULL;
            r->fbox = NULL;
            return TRN_E_NOMEM;
        }
    }
    if (a->f.n && !r->pitch && a->f.kind == FP_ROWS && a->f.n > 1) {
        trn_status st = region_repitch(b, r, a->f.stride);
        if (st) return st;
    }
    if (id >= 0)
        b->freeacc = b->acc[id].node;
    else
        id = b->nacc++;
    b->acc[id] = *a;
    b->acc[id].live = 1;
    b->acc[id].node = -1;
    *out = id;
    if (a->f.n == 0) {
        r->empty[r->nempty++] = id;
        return TRN_OK;
    }
    int32_t x = b->freenode;
    if (x >= 0)
        b->freenode = b->node[x].l;
    else
        x = b->nnode++;
    node_set(b, r, x, id);
    b->acc[id].node = x;
    if (!r->tree && r->nflat == FLAT_MAX) { /* too many to scan: the nodes go into the tree */
        for (int k = 0; k < r->nflat; k++) {
            tnode *y = &b->node[r->flat[k]];
            y->l = y->r = -1;
            y->maxhi = y->hi;
            r->root = tree_insert(b->node, r->root, r->flat[k]);
        }
        r->nflat = 0;
        r->tree = 1;
    }
    if (r->tree) {
        r->root = tree_insert(b->node, r->root, x);
    } else {
        b->node[x].l = r->nflat;
        r->fbox[r->nflat] = node_box(&b->node[x]);
        r->flat[r->nflat++] = x;
    }
    return TRN_OK;
}

/* Takes access `id` out of region r and frees its slot. */
static void region_drop(builder *b, region *r, int32_t id) {
    access *a = &b->acc[id];
    a->live = 0;
    if (a->node < 0) {
        for (int k = 0; k < r->nempty; k++)
            if (r->empty[k] == id) {
                r->empty[k] = r->empty[--r->nempty];
                break;
            }
    } else {
        if (r->tree) {
            r->root = tree_remove(b->node, r->root, a->node);
        } else {
            int k = b->node[a->node].l;
            r->nflat--;
            r->flat[k] = r->flat[r->nflat];
            r->fbox[k] = r->fbox[r->nflat];
            b->node[r->flat[k]].l = k;
        }
        b->node[a->node].l = b->freenode;
        b->freenode = a->node;
    }
    fp_release(&a->f);
    a->node = b->freeacc;
    b->freeacc = id;
}

/* The engine group that retires instruction `in` in order, and the queue it sits in. */
static int group_of(const trn_program *p, const uint8_t *is_dma, int i) {
    return is_dma[p->instrs[i].op] ? TRN_ENGINE_DMA : (int)p->instrs[i].engine;
}

#define MAX_ACC (2 * TRN_MAX_AP_LIST + 16)

/* The operands of instruction i as footprints (reads and writes) and their regions. */
static trn_status operands(builder *b, int i, footprint *fp, int *reg, int *ten, int *nfp) {
    const trn_program *p = b->p;
    const trn_instr *in = &p->instrs[i];
    int n = 0;
    int rmw = 0; /* the destination is also read (accumulating matmul, predicated copy) */
    if (in->op == TRN_OP_NC_MATMUL || in->op == TRN_OP_NC_MATMUL_MX) {
        const trn_operand *acc = trn_instr_arg(p, in, b->key_acc[in->op == TRN_OP_NC_MATMUL_MX]);
        rmw = acc && acc->u.i;
    } else if (in->op == TRN_OP_TENSOR_COPY_PREDICATED) {
        rmw = 1;
    }
    /* A core_barrier orders its `data` both ways: it waits for the writes before it (a read)
     * and the accesses after it wait for it (a write), so it is read and written here. */
    int barrier = in->op == TRN_OP_CORE_BARRIER;
    if (barrier) rmw = 1;
    for (uint32_t k = 0; k < in->nargs && n < MAX_ACC - 1; k++) {
        const trn_operand *o = &p->args[in->arg0 + k];
        if (o->kind != TRN_ARG_AP_IN && o->kind != TRN_ARG_AP_OUT) continue;
        int w = o->kind == TRN_ARG_AP_OUT || barrier;
        reg[n] = b->region_of[o->u.ap.tensor];
        if (ten) ten[n] = (int)o->u.ap.tensor;
        trn_status s = footprint_of(b, &o->u.ap, w, &fp[n]);
        if (!s) n++;
        if (!s && w && rmw) {
            reg[n] = reg[n - 1];
            if (ten) ten[n] = ten[n - 1];
            s = footprint_of(b, &o->u.ap, 0, &fp[n]);
            if (!s) n++;
        }
        if (s) {
            while (n > 0) fp_release(&fp[--n]);
            return s;
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

/* 1 when the index node x holds box q. */
static int node_is(const tnode *x, const box *q) {
    return x->lo == q->lo && x->hi == q->hi && x->rlo == q->rlo && x->rhi == q->rhi;
}

/* Drops the accesses of r that f (an access of instruction i, group `group`) makes redundant:
 * everything a write covers; the covered earlier reads of its own group for a read. The
 * candidates are cand[0, nc) (found before instruction i changed anything: those no longer
 * live or now holding an access of i are skipped) and the accesses `mine` that i added to r
 * already. *keep gets the slot of one dropped access whose node has f's box, left in the tree
 * for region_add, or -1. */
static void region_prune(builder *b, region *r, const footprint *f, int group, int32_t i,
                         const int32_t *cand, int32_t nc, const int32_t *mine, int nmine,
                         int32_t *keep) {
    *keep = -1;
    /* f's box, unless adding f will change the region's pitch */
    int reuse = f->n && (r->pitch || f->kind != FP_ROWS || f->n == 1);
    box q = {0, 0, 0, 0};
    if (reuse) q = box_of(r->pitch, f);
    for (int32_t k = 0; k < nc + nmine; k++) {
        int32_t id = k < nc ? cand[k] : mine[k - nc];
        access *a = &b->acc[id];
        if (!a->live || (k < nc && a->instr == i)) continue;
        if (!(f->write || (!a->f.write && a->group == group)) || !fp_cover(b, f, &a->f)) continue;
        if (reuse && *keep < 0 && a->node >= 0 && node_is(&b->node[a->node], &q)) {
            *keep = id;
            a->live = 0;
            fp_release(&a->f);
        } else {
            region_drop(b, r, id);
        }
    }
}

static void builder_free(builder *b) {
    for (int r = 0; r < b->nregions; r++) {
        free(b->regions[r].empty);
        free(b->regions[r].flat);
        free(b->regions[r].fbox);
    }
    for (int32_t a = 0; a < b->nacc; a++)
        if (b->acc[a].live) fp_release(&b->acc[a].f);
    free(b->regions);
    free(b->acc);
    free(b->node);
    free(b->cand);
    free(b->region_of);
    free(b);
}

trn_status sched_build(const trn_program *p, sched *s, trn_err *err) {
    memset(s, 0, sizeof *s);
    s->n = p->ninstrs;
    s->in = calloc((size_t)(p->ninstrs ? p->ninstrs : 1), sizeof *s->in);
    if (!s->in) return trn_err_set(err, TRN_E_NOMEM, "scheduler: out of memory");
    if (p->manual_sync) return TRN_OK;
    builder *b = calloc(1, sizeof *b);
    if (!b) {
        sched_free(s);
        return trn_err_set(err, TRN_E_NOMEM, "scheduler: out of memory");
    }
    b->p = p;
    b->freenode = -1;
    b->freeacc = -1;
    b->key_acc[0] = trn_isa_arg_find(TRN_OP_NC_MATMUL, "accumulate");
    b->key_acc[1] = trn_isa_arg_find(TRN_OP_NC_MATMUL_MX, "accumulate");
    trn_status st = regions_init(b);
    uint8_t is_dma[TRN_OP_COUNT];
    cost_dma_ops(is_dma);
    int32_t prev_in_queue[TRN_ENGINE_COUNT];
    for (int g = 0; g < TRN_ENGINE_COUNT; g++) prev_in_queue[g] = -1;
    footprint fp[MAX_ACC];
    int reg[MAX_ACC];
    for (int i = 0; i < p->ninstrs && st == TRN_OK; i++) {
        const trn_instr *in = &p->instrs[i];
        int group = group_of(p, is_dma, i);
        int queue = (int)in->engine; /* a DMA issued by a sequencer: its trigger's queue */
        int nfp = 0;
        st = operands(b, i, fp, reg, NULL, &nfp);
        if (st) break;
        pending w;
        memset(&w, 0, sizeof w);
        for (int g = 0; g < TRN_ENGINE_COUNT; g++) w.latest[g] = -1;
        int32_t cstart[MAX_ACC + 1];
        b->ncand = 0;
        for (int k = 0; k < nfp && st == TRN_OK; k++) {
            cstart[k] = b->ncand;
            /* a region nothing writes holds only reads: no conflict, nothing to index */
            if (!b->regions[reg[k]].written) continue;
            st = candidates(b, &b->regions[reg[k]], &fp[k]);
            for (int32_t j = cstart[k]; j < b->ncand && st == TRN_OK; j++) {
                const access *a = &b->acc[b->cand[j]];
                if (!(fp[k].write || a->f.write) || !fp_overlap(b, &fp[k], &a->f)) continue;
                int kind = !fp[k].write ? TRN_DEP_RAW : a->f.write ? TRN_DEP_WAW : TRN_DEP_WAR;
                add_wait(&w, queue, prev_in_queue[queue], a->group, a->instr, kind);
            }
        }
        cstart[nfp] = b->ncand;
        int added = 0; /* fp[0, added) now belong to their accesses */
        int32_t mine[MAX_ACC];
        for (int k = 0; k < nfp && st == TRN_OK; k++) {
            region *r = &b->regions[reg[k]];
            if (!r->written) { /* never indexed (see above): the footprint is released */
                fp_release(&fp[k]);
                mine[k] = -1;
                if (added == k) added = k + 1;
                continue;
            }
            int32_t mk[MAX_ACC], keep;
            int nmk = 0;
            for (int j = 0; j < k; j++)
                if (reg[j] == reg[k]) mk[nmk++] = mine[j];
            region_prune(b, r, &fp[k], group, i, b->cand + cstart[k], cstart[k + 1] - cstart[k], mk,
                         nmk, &keep);
            access a = {i, (uint8_t)group, 1, -1, fp[k]};
            st = region_add(b, r, &a, keep, &mine[k]);
            if (st == TRN_OK) added = k + 1;
        }
        for (int k = added; k < nfp; k++) fp_release(&fp[k]);
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
    builder_free(b);
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

/* ---- footprints for the race detector (race.c) ------------------------------------------- */

struct sched_fps {
    builder *b;
    int32_t *first; /* n + 1: the footprints of instruction i are fp[first[i], first[i + 1]) */
    footprint *fp;
    int *ten; /* tensor of each footprint */
};

void sched_fps_free(sched_fps *s) {
    if (!s) return;
    if (s->fp)
        for (int32_t k = 0; k < s->first[s->b->p->ninstrs]; k++) fp_release(&s->fp[k]);
    builder_free(s->b);
    free(s->first);
    free(s->fp);
    free(s->ten);
    free(s);
}

trn_status sched_fps_build(const trn_program *p, sched_fps **out) {
    *out = NULL;
    sched_fps *s = calloc(1, sizeof *s);
    if (!s) return TRN_E_NOMEM;
    s->b = calloc(1, sizeof *s->b);
    s->first = calloc((size_t)p->ninstrs + 1, sizeof *s->first);
    if (!s->b || !s->first) {
        free(s->b);
        free(s->first);
        free(s);
        return TRN_E_NOMEM;
    }
    s->b->p = p;
    s->b->key_acc[0] = trn_isa_arg_find(TRN_OP_NC_MATMUL, "accumulate");
    s->b->key_acc[1] = trn_isa_arg_find(TRN_OP_NC_MATMUL_MX, "accumulate");
    trn_status st = regions_init(s->b);
    size_t cap = 0;
    for (int i = 0; i < p->ninstrs && st == TRN_OK; i++) {
        footprint fp[MAX_ACC];
        int reg[MAX_ACC], ten[MAX_ACC], nfp = 0;
        st = operands(s->b, i, fp, reg, ten, &nfp);
        if (st) break;
        size_t need = (size_t)s->first[i] + (size_t)nfp;
        if (need > cap) {
            size_t nc = cap ? cap * 2 : 64;
            while (nc < need) nc *= 2;
            footprint *f = realloc(s->fp, nc * sizeof *f);
            if (f) s->fp = f;
            int *t = realloc(s->ten, nc * sizeof *t);
            if (t) s->ten = t;
            if (!f || !t) {
                for (int k = 0; k < nfp; k++) fp_release(&fp[k]);
                s->first[i + 1] = s->first[i];
                st = TRN_E_NOMEM;
                break;
            }
            cap = nc;
        }
        for (int k = 0; k < nfp; k++) {
            s->fp[s->first[i] + k] = fp[k];
            s->ten[s->first[i] + k] = ten[k];
        }
        s->first[i + 1] = s->first[i] + nfp;
    }
    if (st) {
        for (int i = 0; i < p->ninstrs; i++)
            if (s->first[i + 1] < s->first[i]) s->first[i + 1] = s->first[i];
        sched_fps_free(s);
        return st;
    }
    *out = s;
    return TRN_OK;
}

int sched_fps_conflict(sched_fps *s, int i, int j, int *ti, int *wi, int *tj, int *wj) {
    for (int32_t x = s->first[i]; x < s->first[i + 1]; x++)
        for (int32_t y = s->first[j]; y < s->first[j + 1]; y++) {
            const footprint *a = &s->fp[x], *c = &s->fp[y];
            if (!(a->write || c->write) || !fp_overlap(s->b, a, c)) continue;
            *ti = s->ten[x];
            *wi = a->write;
            *tj = s->ten[y];
            *wj = c->write;
            return 1;
        }
    return 0;
}

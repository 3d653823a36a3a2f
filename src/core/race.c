/* The race detector of `.sync manual` programs: a dynamic check over the simulated timeline.
 *
 * Happens-before is program order on each compute engine's in-order queue, plus one edge per
 * manual wait: a wait on SEM >= V is ordered after every signal of SEM up to and including the
 * V-th in the simulated timeline (the increments sorted by the time they become visible, as
 * the simulation counts them: the release-sequence rule of dynamic race detectors), closed
 * transitively with vector clocks. A DMA instruction's transfer starts after its issue on its
 * sequencer (a triggered DMA: the sequencer's history up to the issue is before it, the
 * sequencer's later instructions are not) or after its own waits (a DMA on the DMA queues), and
 * after the start of the previous DMA (the queues take transfers in program order); its
 * transfer is ordered before what its signals release. Two DMA transfers are not ordered by
 * program order: their pieces run out of order across the queues (the scheduler keeps DMA->DMA
 * waits for the same reason).
 *
 * Tracks of the vector clocks: the five compute engines, then chains of DMA transfers, each
 * DMA joining the first chain whose last transfer happens before it (else a new chain), so the
 * clocks stay as wide as the DMA concurrency, not the DMA count. Two accesses race when their
 * footprints overlap (the scheduler's footprints and overlap test), at least one writes, and
 * neither happens before the other; the first racing pair in program order (the later
 * instruction first, then the earlier) is reported. O(n^2) pairs in the worst case: manual
 * programs are hand-written and short. */
#include <stdlib.h>
#include <string.h>

#include "timing_impl.h"

typedef struct sig {
    double t;
    int32_t instr;
} sig;

typedef struct rd {
    const trn_program *p;
    const trn_timing *t;
    int T;             /* tracks allocated (5 + DMA count) */
    int ntracks;       /* tracks in use */
    uint32_t *pool;    /* stored clocks */
    size_t npool, cap; /* entries */
    size_t *off;       /* n: offset of instruction i's release clock in pool */
    int *len;          /* n: its length (-1: not computed) */
    int *track;        /* n: track of its access */
    uint32_t *clock;   /* n: clock of its access on that track */
    uint32_t *chain;   /* T: last clock of each DMA chain track */
    uint32_t *zero;    /* T zeros */
    sig **sigs;        /* nsems: increments sorted by visibility */
    int *nsig;
    size_t **pre; /* nsems: pool offsets of prefix joins (length T), lazily */
    int *npre;
} rd;

static int cmp_sig(const void *a, const void *b) {
    const sig *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->instr < y->instr ? -1 : x->instr > y->instr;
}

typedef struct ev {
    double t;
    int32_t instr;
    uint8_t sub; /* 0: a compute instruction or a DMA's issue; 1: a DMA's transfer */
} ev;

static int cmp_ev(const void *a, const void *b) {
    const ev *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    if (x->instr != y->instr) return x->instr < y->instr ? -1 : 1;
    return x->sub - y->sub;
}

/* Appends `len` clocks of v to the pool; the offset in *off. */
static int store(rd *R, const uint32_t *v, int len, size_t *off) {
    if (R->npool + (size_t)len > R->cap) {
        size_t nc = R->cap ? R->cap * 2 : 1024;
        while (nc < R->npool + (size_t)len) nc *= 2;
        uint32_t *q = realloc(R->pool, nc * sizeof *q);
        if (!q) return 0;
        R->pool = q;
        R->cap = nc;
    }
    memcpy(R->pool + R->npool, v, (size_t)len * sizeof *v);
    *off = R->npool;
    R->npool += (size_t)len;
    return 1;
}

static void join(uint32_t *v, const uint32_t *w, int len) {
    for (int k = 0; k < len; k++)
        if (w[k] > v[k]) v[k] = w[k];
}

/* Joins into v what instruction i's manual waits acquire. */
static int acquire(rd *R, int i, uint32_t *v) {
    const trn_instr *in = &R->p->instrs[i];
    for (int k = 0; k < in->nwait; k++) {
        int s = in->wait[k].sem;
        int need = (int)in->wait[k].value;
        if (need > R->nsig[s]) need = R->nsig[s];
        while (R->npre[s] < need) { /* extend the prefix joins of s */
            int m = R->npre[s];
            size_t off;
            if (!store(R, R->zero, R->T, &off)) return 0;
            if (m) join(R->pool + off, R->pool + R->pre[s][m - 1], R->T);
            int32_t j = R->sigs[s][m].instr;
            if (R->len[j] >= 0) join(R->pool + off, R->pool + R->off[j], R->len[j]);
            R->pre[s][m] = off;
            R->npre[s]++;
        }
        if (need > 0) join(v, R->pool + R->pre[s][need - 1], R->T);
    }
    return 1;
}

/* 1 when the access of instruction a happens before instruction b. */
static int hb(const rd *R, int a, int b) {
    int k = R->track[a];
    return k < R->len[b] && R->pool[R->off[b] + (size_t)k] >= R->clock[a];
}

static void rd_free(rd *R) {
    if (R->sigs)
        for (int s = 0; s < R->p->nsems; s++) free(R->sigs[s]);
    if (R->pre)
        for (int s = 0; s < R->p->nsems; s++) free(R->pre[s]);
    free(R->sigs);
    free(R->pre);
    free(R->nsig);
    free(R->npre);
    free(R->pool);
    free(R->off);
    free(R->len);
    free(R->track);
    free(R->clock);
    free(R->chain);
    free(R->zero);
}

/* The clocks of every instruction, walking the timeline. */
static int clocks(rd *R) {
    const trn_program *p = R->p;
    const trn_timing *t = R->t;
    int n = p->ninstrs, T = R->T;
    size_t nn = (size_t)(n ? n : 1);
    ev *e = malloc(2 * nn * sizeof *e);
    uint32_t *eng = calloc((size_t)TRN_TIMING_ENGINES * (size_t)T, sizeof *eng);
    uint32_t *v = calloc((size_t)T, sizeof *v);
    uint32_t *prev = calloc((size_t)T, sizeof *prev); /* start of the previous DMA */
    size_t *ioff = malloc(nn * sizeof *ioff);         /* a triggered DMA's issue clock */
    int ok = e && eng && v && prev && ioff;
    int ne = 0;
    for (int i = 0; ok && i < n; i++) {
        int slot = t->dma_slot[i];
        if (slot < 0) {
            e[ne++] = (ev){t->in[i].start_ns, i, 0};
            continue;
        }
        double s = -1;
        for (int q = 0; q < t->nq; q++) {
            double x = t->pieces[(size_t)slot * (size_t)t->nq + (size_t)q].start_ns;
            if (s < 0 || x < s) s = x;
        }
        if (p->instrs[i].engine != TRN_ENGINE_DMA) e[ne++] = (ev){t->in[i].start_ns, i, 0};
        e[ne++] = (ev){s, i, 1};
    }
    if (ok) qsort(e, (size_t)ne, sizeof *e, cmp_ev);
    for (int x = 0; ok && x < ne; x++) {
        int i = e[x].instr;
        const trn_instr *in = &p->instrs[i];
        int dma = t->dma_slot[i] >= 0;
        if (!dma || !e[x].sub) { /* on its engine: in order, then its waits */
            uint32_t *ev_ = eng + (size_t)in->engine * (size_t)T;
            ok = acquire(R, i, ev_);
            if (!ok) break;
            if (dma) { /* a triggered DMA: the issue clock */
                ok = store(R, ev_, T, &ioff[i]);
                continue;
            }
            ev_[in->engine]++;
            R->track[i] = (int)in->engine;
            R->clock[i] = ev_[in->engine];
            ok = store(R, ev_, T, &R->off[i]);
            R->len[i] = T;
            continue;
        }
        /* a DMA transfer */
        memcpy(v, prev, (size_t)T * sizeof *v);
        if (in->engine != TRN_ENGINE_DMA)
            join(v, R->pool + ioff[i], T);
        else
            ok = acquire(R, i, v);
        if (!ok) break;
        memcpy(prev, v, (size_t)T * sizeof *v);
        int k = TRN_TIMING_ENGINES;
        while (k < R->ntracks && v[k] < R->chain[k]) k++;
        if (k == R->ntracks) R->ntracks++;
        v[k] = ++R->chain[k];
        R->track[i] = k;
        R->clock[i] = v[k];
        ok = store(R, v, T, &R->off[i]);
        R->len[i] = T;
    }
    free(e);
    free(eng);
    free(v);
    free(prev);
    free(ioff);
    return ok;
}

static const char *verb(int w) {
    return w ? "writes" : "reads";
}

trn_status race_check(const trn_program *p, const trn_timing *t, trn_err *err) {
    if (!p->manual_sync || p->ninstrs < 2) return TRN_OK;
    rd R;
    memset(&R, 0, sizeof R);
    R.p = p;
    R.t = t;
    R.T = TRN_TIMING_ENGINES + t->ndma;
    R.ntracks = TRN_TIMING_ENGINES;
    int n = p->ninstrs;
    size_t nn = (size_t)n, ns = (size_t)(p->nsems ? p->nsems : 1);
    R.off = calloc(nn, sizeof *R.off);
    R.len = malloc(nn * sizeof *R.len);
    R.track = calloc(nn, sizeof *R.track);
    R.clock = calloc(nn, sizeof *R.clock);
    R.chain = calloc((size_t)R.T, sizeof *R.chain);
    R.zero = calloc((size_t)R.T, sizeof *R.zero);
    R.sigs = calloc(ns, sizeof *R.sigs);
    R.nsig = calloc(ns, sizeof *R.nsig);
    R.pre = calloc(ns, sizeof *R.pre);
    R.npre = calloc(ns, sizeof *R.npre);
    int ok = R.off && R.len && R.track && R.clock && R.chain && R.zero && R.sigs && R.nsig &&
             R.pre && R.npre;
    for (int i = 0; ok && i < n; i++) {
        R.len[i] = -1;
        for (int k = 0; k < p->instrs[i].nsignal; k++) R.nsig[p->instrs[i].signal[k]]++;
    }
    for (int s = 0; ok && s < p->nsems; s++) {
        R.sigs[s] = malloc((size_t)(R.nsig[s] ? R.nsig[s] : 1) * sizeof **R.sigs);
        R.pre[s] = malloc((size_t)(R.nsig[s] ? R.nsig[s] : 1) * sizeof **R.pre);
        ok = R.sigs[s] && R.pre[s];
        R.nsig[s] = 0;
    }
    for (int i = 0; ok && i < n; i++)
        for (int k = 0; k < p->instrs[i].nsignal; k++) {
            int s = p->instrs[i].signal[k];
            R.sigs[s][R.nsig[s]++] = (sig){t->in[i].end_ns, i};
        }
    for (int s = 0; ok && s < p->nsems; s++)
        qsort(R.sigs[s], (size_t)R.nsig[s], sizeof **R.sigs, cmp_sig);
    sched_fps *fp = NULL;
    if (ok) ok = clocks(&R);
    if (ok) ok = sched_fps_build(p, &fp) == TRN_OK;
    trn_status st = ok ? TRN_OK : trn_err_set(err, TRN_E_NOMEM, "race check: out of memory");
    for (int j = 1; st == TRN_OK && j < n; j++) {
        if (R.len[j] < 0) continue;
        for (int i = 0; i < j; i++) {
            int ti, wi, tj, wj;
            if (R.len[i] < 0 || hb(&R, i, j) || hb(&R, j, i)) continue;
            if (!sched_fps_conflict(fp, i, j, &ti, &wi, &tj, &wj)) continue;
            const trn_instr *a = &p->instrs[i], *b = &p->instrs[j];
            const char *src = p->source_path ? p->source_path : p->name;
            st = trn_err_set(err, TRN_E_FAULT,
                             "race: %s:%u %s (%s) %s %s and %s:%u %s (%s) %s %s with no "
                             "happens-before order",
                             src, (unsigned)a->line, trn_isa_op_get(a->op)->name,
                             trn_engine_name(a->engine), verb(wi), p->tensors[ti].name, src,
                             (unsigned)b->line, trn_isa_op_get(b->op)->name,
                             trn_engine_name(b->engine), verb(wj), p->tensors[tj].name);
            break;
        }
    }
    sched_fps_free(fp);
    rd_free(&R);
    return st;
}

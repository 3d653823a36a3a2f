/* The timing simulation: each compute engine (PE, ACT, DVE, Pool, SP) retires its queue in
 * order at its own clock; an instruction starts when its engine is free and its waits are met
 * (plus the semaphore latency) and lasts what the cost model says, plus three effects that
 * depend on the timeline: MM_INIT when TensorE starts cold (idle before, or first), the part
 * of a LoadStationary the previous matmul does not hide (background LS), and the static
 * per-instruction overhead when a Vector/Scalar/GpSimd/Sync instruction waited on the result
 * it reads (RAW stall). DMA instructions are split over the core's DMA queues; each queue runs
 * its transfers in order (fixed cost, then bytes at the queue's rate), and the transfers in
 * their data phase share the HBM bandwidth of the core max-min fairly. Event-driven and
 * deterministic: no randomness, a fixed scan order, the same doubles in the same order. Queues
 * in lock-step (the 16 transfers of one DMA) are simulated once, as a lane (see lane_split).
 *
 * Several cores (trn_timing_run_cores) are one simulation: one clock, every core stepped in
 * core order at each event, the HBM bandwidth of the chip shared by the data phases of every
 * core's transfers, and the cross-core sync groups (core_barrier, sendrecv) released when their
 * last member arrives. One core alone runs the same code with one member.
 *
 * Deliberately left out: pipeline fill/drain latencies (not published), PSUM write latency,
 * HBM bank/channel effects, DMA QoS priorities (v4), the HBM stack a core is attached to (the
 * chip's bandwidth is one pool). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "timing_impl.h"

void trn_timing_opts_init(trn_timing_opts *o) {
    memset(o, 0, sizeof *o);
    o->hbm_share_cores = 0; /* the chip's core count: this core's fair share */
}

typedef struct engine_state {
    int *queue; /* program indices */
    int n, head;
    double free_ns; /* end of the last instruction started */
    int32_t last;   /* last instruction started, -1 */
} engine_state;

typedef struct queue_state {
    int head;  /* index in the DMA list */
    int phase; /* 0 idle, 1 fixed cost, 2 moving data */
    double free_ns;
    double phase_end; /* phase 1: end of the fixed cost */
    double rem;       /* phase 2: bytes left */
    double cap, rate; /* phase 2: bytes/ns alone, and now */
    double fin;       /* phase 2: projected end at the current rate */
    int hbm;          /* HBM sides of the current transfer */
    int32_t instr;    /* instruction of the current transfer */
    int32_t prev;     /* instruction of the previous transfer, -1 */
} queue_state;

/* Queues in lock-step: one state for all its members (see lane_split). */
typedef struct lane {
    queue_state s;
    int32_t *mem; /* members (queue indices) */
    int nm;
} lane;

typedef struct sem_inc {
    double t; /* visible from */
    int32_t instr;
} sem_inc;

typedef struct sem_state {
    sem_inc *inc;
    int n, cap;
} sem_state;

/* A ready time once it is final: every wait of an auto-sync instruction is known. */
typedef struct ready_memo {
    double t, raw;
    int32_t pred;
    int32_t block; /* a wait not known yet at the last look (0: none; else 1 + its index) */
    uint8_t ok;
    uint8_t issued; /* a DMA issued by a sequencer (released by its issue, not by waits) */
} ready_memo;

/* One cross-core sync group of a multi-core run. */
typedef struct xgroup {
    int size;     /* members expected */
    int narrived; /* members ready so far */
    int ndone;    /* sendrecv: members whose own transfers ended */
    double arrive_max, release, end_max;
    int32_t first; /* its member slots in xsim.mcore / minstr: first .. first + size - 1 */
} xgroup;

typedef struct sim sim;

/* The multi-core run: every core's sim, the groups and the shared HBM budget. */
typedef struct xsim {
    sim *S; /* n */
    int n;
    xgroup *g;
    int ng;
    int32_t *mcore, *minstr; /* member slots (arrival order) */
    double barrier_ns;       /* core_barrier_ns: cross-core semaphore round */
    double hbm_bpns;         /* the chip's HBM bandwidth, bytes/ns, shared by all cores */
    int *idx;                /* 2 x (all queues): scratch of share_rates */
    /* share_rates' last input (caps and HBM sides in its order) and shares (as bits) */
    int memo_n;
    int memo_single;  /* every (cap, sides) of the memo is the first one */
    int memo_uniform; /* every share of the memo is the first one */
    double *memo_cap;
    int *memo_hbm;
    uint64_t *memo_rate;
} xsim;

struct sim {
    const trn_program *p;
    trn_timing *tm;
    cost_ctx ctx;
    sched sc;
    cost_instr *ci;       /* n (zero for DMA instructions) */
    dma_plan *plan;       /* ndma */
    uint64_t *plan_bytes; /* ndma x nq */
    int32_t *dma_list;    /* ndma program indices */
    engine_state eng[TRN_TIMING_ENGINES];
    lane *lanes;        /* nq slots: lanes[0 .. nl-1] in use */
    int nl;             /* lanes in use */
    int32_t *lane_of;   /* nq: the lane of each queue */
    int32_t *lane_mem;  /* nq x nq: member storage of the lane slots */
    uint64_t *qrate;    /* nq: scratch of share_rates (each queue's rate, as bits) */
    int lanes_changed;  /* a lane started, changed phase or retired: try merging */
    double *dma_end;    /* ndma: latest end of a DMA's pieces so far (-1: none) */
    int32_t *dma_qlast; /* ndma: the first queue whose piece ends at dma_end */
    uint8_t *known;     /* n: end_ns is final */
    ready_memo *memo;   /* n: ready_time of instructions without semaphore waits, once final */
    uint8_t *triggered; /* n: a DMA's issue on its sequencer is done */
    int *pieces_done;   /* n */
    int32_t *trig_pred; /* n: a triggered DMA's issue: its pred */
    uint8_t *trig_cause;
    sem_state *sems;
    int32_t pe_loaded; /* instruction whose stationary is in the PE array, -1 */
    double lat;        /* semaphore latency, ns */
    double hbm_bpns;   /* HBM bandwidth of this core, bytes/ns (0: unlimited) */
    int rates_dirty;
    double hfu_slots, mfu_slots, macs;
    /* multi-core runs */
    xsim *X;            /* the run (one core alone: a run of one) */
    int core_index;     /* this core in X */
    const int32_t *grp; /* n: sync group of each instruction, -1; NULL: none */
    uint8_t *arrived;   /* n: a group instruction registered its arrival */
};

/* ---- readiness --------------------------------------------------------------------------- */

static int cmp_inc(const void *a, const void *b) {
    const sem_inc *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->instr < y->instr ? -1 : x->instr > y->instr;
}

/* When instruction i's waits are all met (INFINITY while that is not known yet); *pred gets
 * the wait that is met last, *raw the time its RAW waits are met (-1 if none). */
static double ready_slow(sim *S, int i, int32_t *pred, double *raw) {
    ready_memo *mo = &S->memo[i];
    const trn_instr *in = &S->p->instrs[i];
    const sched_instr *si = &S->sc.in[i];
    double best = -1;
    *pred = -1;
    *raw = -1;
    for (int k = 0; k < si->nwaits; k++) {
        int32_t j = si->waits[k].instr;
        if (!S->known[j]) {
            mo->block = j + 1;
            return INFINITY;
        }
        double t = S->tm->in[j].end_ns + S->lat;
        if (t > best) best = t, *pred = j;
        if ((si->waits[k].kinds & TRN_DEP_RAW) && t > *raw) *raw = t;
    }
    for (int k = 0; k < in->nwait; k++) {
        sem_state *s = &S->sems[in->wait[k].sem];
        uint32_t v = in->wait[k].value;
        if (v == 0) continue;
        if ((uint32_t)s->n < v) return INFINITY;
        qsort(s->inc, (size_t)s->n, sizeof *s->inc, cmp_inc);
        double t = s->inc[v - 1].t;
        if (t > best) best = t, *pred = s->inc[v - 1].instr;
        if (t > *raw) *raw = t; /* a manual wait stands for a RAW */
    }
    if (in->nwait == 0) { /* every wait known: final (semaphore counts still grow) */
        mo->t = best > 0 ? best : 0;
        mo->raw = *raw;
        mo->pred = *pred;
        mo->ok = 1;
    }
    return best > 0 ? best : 0;
}

/* ready_slow, answered from the memo when it is final or still blocked on the same wait. */
static inline double ready_time(sim *S, int i, int32_t *pred, double *raw) {
    const ready_memo *mo = &S->memo[i];
    if (mo->ok) {
        *pred = mo->pred;
        *raw = mo->raw;
        return mo->t;
    }
    if (mo->block && !S->known[mo->block - 1]) return INFINITY;
    return ready_slow(S, i, pred, raw);
}

static int signal_all(sim *S, int i) {
    const trn_instr *in = &S->p->instrs[i];
    for (int k = 0; k < in->nsignal; k++) {
        sem_state *s = &S->sems[in->signal[k]];
        if (s->n == s->cap) {
            int cap = s->cap ? s->cap * 2 : 8;
            sem_inc *q = realloc(s->inc, sizeof *q * (size_t)cap);
            if (!q) return 0;
            s->inc = q;
            s->cap = cap;
        }
        s->inc[s->n].t = S->tm->in[i].end_ns + S->lat;
        s->inc[s->n].instr = i;
        s->n++;
    }
    return 1;
}

/* ---- cross-core sync groups -------------------------------------------------------------- */

/* Registers the arrival of group instruction i of S's core at time `at` (once). */
static void arrive(sim *S, int i, double at) {
    if (S->arrived[i]) return;
    S->arrived[i] = 1;
    xsim *X = S->X;
    xgroup *g = &X->g[S->grp[i]];
    if (g->narrived < g->size) {
        X->mcore[g->first + g->narrived] = S->core_index;
        X->minstr[g->first + g->narrived] = i;
    }
    g->narrived++;
    if (at > g->arrive_max) g->arrive_max = at;
    if (g->narrived == g->size) g->release = g->arrive_max + X->barrier_ns;
}

/* When group instruction i may proceed: INFINITY until every member arrived. */
static inline double group_release(const sim *S, int i) {
    const xgroup *g = &S->X->g[S->grp[i]];
    return g->narrived >= g->size ? g->release : INFINITY;
}

static inline int in_group(const sim *S, int i) {
    return S->grp && S->grp[i] >= 0;
}

static int signal_all(sim *S, int i);

/* A core_barrier at the head of compute engine e at t, its waits met: it arrives; once the whole
 * group arrived it holds the engine from its arrival to the group's release. */
static int start_group_compute(sim *S, int e, int i, double t, int32_t pred, double ready) {
    trn_timing_instr *ti = &S->tm->in[i];
    if (!S->arrived[i]) ti->start_ns = t;
    arrive(S, i, t);
    double end = group_release(S, i);
    if (end == INFINITY) return 0;
    if (end < t) end = t;
    engine_state *E = &S->eng[e];
    trn_timing_cause cause = TRN_CAUSE_NONE;
    int32_t why = -1;
    if (ready > E->free_ns && pred >= 0) {
        cause = TRN_CAUSE_WAIT;
        why = pred;
    } else if (E->last >= 0) {
        cause = TRN_CAUSE_ENGINE;
        why = E->last;
    } else if (pred >= 0) {
        cause = TRN_CAUSE_WAIT;
        why = pred;
    }
    uint64_t cycles = (uint64_t)ceil((end - ti->start_ns) * S->ctx.hz[e] * 1e-9 - 1e-9);
    ti->cycles = cycles;
    ti->formula_cycles = S->ci[i].cycles;
    trn_timing_track *tr = &S->tm->rep.engine[e];
    tr->instrs++;
    tr->busy_ns += end - ti->start_ns;
    tr->busy_cycles += cycles;
    E->free_ns = end;
    E->last = i;
    E->head++;
    ti->end_ns = end;
    ti->cause = cause;
    ti->pred = why;
    S->known[i] = 1;
    return signal_all(S, i) ? 1 : -1;
}

/* ---- compute engines --------------------------------------------------------------------- */

static int try_start_compute(sim *S, int e, double t) {
    engine_state *E = &S->eng[e];
    if (E->head >= E->n || E->free_ns > t) return 0;
    int i = E->queue[E->head];
    int32_t pred;
    double raw;
    double ready = ready_time(S, i, &pred, &raw);
    if (ready > t) return 0;
    const trn_hw_core *core = S->ctx.core;
    trn_timing_instr *ti = &S->tm->in[i];
    int dma = S->tm->dma_slot[i] >= 0;
    if (!dma && in_group(S, i)) return start_group_compute(S, e, i, t, pred, ready);
    const cost_instr *c = &S->ci[i];
    uint64_t cycles;
    if (dma) {
        const dma_plan *d = &S->plan[S->tm->dma_slot[i]];
        cycles = (uint64_t)ceil(d->issue_ns * S->ctx.hz[e] * 1e-9 - 1e-9);
        ti->formula_cycles = cycles;
    } else {
        cycles = c->cycles;
        ti->formula_cycles = cycles;
        if (c->is_pe) {
            int cold = E->last < 0 || t > E->free_ns;
            if (cold) cycles += (uint64_t)core->mm_init_cycles.value;
            if (c->is_matmul) {
                if (S->pe_loaded < 0 || !cost_same_stationary(&S->ctx, S->pe_loaded, i)) {
                    uint64_t prev = cold ? 0 : S->ci[E->last].cycles;
                    cycles += c->ls_cycles > prev ? c->ls_cycles - prev : 0;
                }
                S->pe_loaded = i;
            } else {
                S->pe_loaded = -1;
            }
            S->hfu_slots += c->hw_slots;
            if (c->is_matmul) {
                S->macs += c->macs;
                S->mfu_slots += c->macs / (c->peak_rate > 0 ? c->peak_rate : 1);
            }
        } else {
            int stalled =
                (S->sc.in[i].raw_prev && t <= E->free_ns) || (raw >= 0 && raw >= E->free_ns);
            if (stalled) cycles += (uint64_t)core->static_overhead_cycles.value;
        }
    }
    double end = t + (double)cycles * 1e9 / S->ctx.hz[e];
    trn_timing_cause cause = TRN_CAUSE_NONE;
    int32_t why = -1;
    if (ready > E->free_ns && pred >= 0) {
        cause = TRN_CAUSE_WAIT;
        why = pred;
    } else if (E->last >= 0) {
        cause = TRN_CAUSE_ENGINE;
        why = E->last;
    } else if (pred >= 0) {
        cause = TRN_CAUSE_WAIT;
        why = pred;
    }
    ti->start_ns = t;
    ti->cycles = cycles;
    trn_timing_track *tr = &S->tm->rep.engine[e];
    tr->instrs++;
    tr->busy_ns += end - t;
    tr->busy_cycles += cycles;
    E->free_ns = end;
    E->last = i;
    E->head++;
    if (dma) {
        S->tm->issue_end_ns[i] = end;
        S->triggered[i] = 1;
        S->trig_pred[i] = why;
        S->trig_cause[i] = (uint8_t)cause;
    } else {
        ti->end_ns = end;
        ti->cause = cause;
        ti->pred = why;
        S->known[i] = 1;
        if (!signal_all(S, i)) return -1;
    }
    return 1;
}

/* ---- DMA queues -------------------------------------------------------------------------- */

/* The queues are simulated in lanes: a lane is a set of queues whose states are identical, so
 * what one of them does, all of them do with the same doubles; the lane's state is computed once
 * and only each queue's own outputs (its pieces, its track) are written per member. A lane
 * splits when its members part (a DMA gives them different byte counts, or the HBM sharing gives
 * them different rates) and two lanes merge again when their states become equal (lanes_merge).
 * The common case, a DMA of 128 partitions over 16 queues, is one lane: 16 queues for the price
 * of one. */

static inline queue_state *queue_of(const sim *S, int q) {
    return &S->lanes[S->lane_of[q]].s;
}

/* Splits lane l by key[q] of its members: l keeps the members with its first member's key, each
 * other key gets a new lane (a copy of the state) appended at S->nl. */
static void lane_split(sim *S, int l, const uint64_t *key) {
    lane *L = &S->lanes[l];
    uint64_t k0 = key[L->mem[0]];
    int keep = 0, first = S->nl;
    for (int a = 0; a < L->nm; a++) {
        int q = L->mem[a];
        if (key[q] == k0) {
            L->mem[keep++] = q;
            continue;
        }
        int m = first;
        while (m < S->nl && key[S->lanes[m].mem[0]] != key[q]) m++;
        if (m == S->nl) {
            S->lanes[m].s = L->s;
            S->lanes[m].nm = 0;
            S->nl++;
        }
        S->lanes[m].mem[S->lanes[m].nm++] = q;
        S->lane_of[q] = m;
    }
    L->nm = keep;
}

/* 1 when lanes a and b will do the same from now on: their states agree in every field the
 * simulation still reads (an idle queue's transfer fields are stale, a busy one's free_ns and,
 * before its data phase, its rate and fin). */
static int lanes_equal(const queue_state *a, const queue_state *b) {
    if (a->phase != b->phase || a->head != b->head || a->prev != b->prev) return 0;
    if (a->phase == 0) return a->free_ns == b->free_ns;
    if (a->instr != b->instr || a->rem != b->rem || a->cap != b->cap || a->hbm != b->hbm) return 0;
    if (a->phase == 1) return a->phase_end == b->phase_end;
    return a->rate == b->rate && a->fin == b->fin;
}

/* Merges every pair of lanes whose states became equal. */
static void lanes_merge(sim *S) {
    S->lanes_changed = 0;
    for (int a = 0; a < S->nl; a++)
        for (int b = a + 1; b < S->nl; b++) {
            if (!lanes_equal(&S->lanes[a].s, &S->lanes[b].s)) continue;
            lane *A = &S->lanes[a], *B = &S->lanes[b];
            for (int k = 0; k < B->nm; k++) {
                A->mem[A->nm++] = B->mem[k];
                S->lane_of[B->mem[k]] = a;
            }
            B->nm = 0;
            /* the last lane moves into b's place (b's member storage goes to the end) */
            int last = --S->nl;
            if (b != last) {
                lane t = S->lanes[b];
                S->lanes[b] = S->lanes[last];
                S->lanes[last] = t;
                for (int k = 0; k < S->lanes[b].nm; k++) S->lane_of[S->lanes[b].mem[k]] = b;
            }
            b--;
        }
}

/* Pieces of the DMA in `slot` on queues from qmin up ended at `end`: keeps the latest end and
 * the first queue with it. */
static inline void piece_ended(sim *S, int slot, double end, int qmin) {
    if (end > S->dma_end[slot] || (end == S->dma_end[slot] && qmin < S->dma_qlast[slot])) {
        S->dma_end[slot] = end;
        S->dma_qlast[slot] = qmin;
    }
}

static int finish_dma(sim *S, int i) {
    trn_timing *tm = S->tm;
    trn_timing_instr *ti = &tm->in[i];
    int slot = tm->dma_slot[i];
    const dma_piece *row = &tm->pieces[(size_t)slot * (size_t)tm->nq];
    /* the last transfer to end bounds the instruction (the first queue of those ending last:
     * piece_ended); its start tells why */
    int qlast = S->dma_qlast[slot];
    double end = S->dma_end[slot];
    ti->end_ns = end;
    ti->cause = (trn_timing_cause)row[qlast].cause;
    ti->pred = row[qlast].pred;
    if (in_group(S, i)) {
        /* a sendrecv retires with its group: when the last member's transfers end */
        xsim *X = S->X;
        xgroup *g = &X->g[S->grp[i]];
        g->ndone++;
        if (end > g->end_max) g->end_max = end;
        if (g->ndone < g->size) return 1;
        for (int k = 0; k < g->size; k++) {
            sim *M = &X->S[X->mcore[g->first + k]];
            int j = X->minstr[g->first + k];
            M->tm->in[j].end_ns = g->end_max;
            M->known[j] = 1;
            if (!signal_all(M, j)) return 0;
        }
        return 1;
    }
    S->known[i] = 1;
    return signal_all(S, i);
}

/* Lane l (idle, every member with the same byte count of DMA i) starts its transfers at t. */
static int lane_begin(sim *S, int l, int i, double t, trn_timing_cause cause, int32_t pred) {
    trn_timing *tm = S->tm;
    lane *L = &S->lanes[l];
    queue_state *Q = &L->s;
    int slot = tm->dma_slot[i];
    const dma_plan *d = &S->plan[slot];
    dma_piece *row = &tm->pieces[(size_t)slot * (size_t)tm->nq];
    uint64_t bytes = d->bytes[L->mem[0]];
    int qmin = L->mem[0];
    for (int k = 0; k < L->nm; k++) {
        dma_piece *pc = &row[L->mem[k]];
        pc->start_ns = t;
        pc->bytes = bytes;
        pc->cause = (uint8_t)cause;
        pc->pred = pred;
        pc->data_ns = t; /* the data phase's start when there is no fixed cost */
        if (L->mem[k] < qmin) qmin = L->mem[k];
    }
    Q->instr = i;
    S->lanes_changed = 1;
    if (bytes == 0) {
        for (int k = 0; k < L->nm; k++) row[L->mem[k]].end_ns = t;
        piece_ended(S, slot, t, qmin);
        Q->head++;
        Q->prev = i;
        if ((S->pieces_done[i] += L->nm) == tm->nq && !finish_dma(S, i)) return -1;
        return 1;
    }
    Q->phase = 1;
    Q->phase_end = t + d->fixed_ns;
    Q->cap = d->rate_bpns;
    Q->hbm = d->hbm_sides;
    Q->rem = (double)bytes;
    if (d->fixed_ns <= 0) {
        Q->phase = 2;
        S->rates_dirty = 1;
    }
    return 1;
}

static int try_start_lane(sim *S, int l, double t) {
    queue_state *Q = &S->lanes[l].s;
    trn_timing *tm = S->tm;
    if (Q->phase != 0 || Q->head >= tm->ndma || Q->free_ns > t) return 0;
    int i = S->dma_list[Q->head];
    trn_timing_instr *ti = &tm->in[i];
    int issued = S->memo[i].issued;
    double release;
    int32_t pred = -1;
    trn_timing_cause cause = TRN_CAUSE_NONE;
    if (issued) {
        if (!S->triggered[i] || tm->issue_end_ns[i] > t) return 0;
        release = tm->issue_end_ns[i];
        pred = S->trig_pred[i];
        cause = (trn_timing_cause)S->trig_cause[i];
    } else {
        double raw;
        release = ready_time(S, i, &pred, &raw);
        if (release > t) return 0;
        cause = pred >= 0 ? TRN_CAUSE_WAIT : TRN_CAUSE_NONE;
    }
    if (in_group(S, i)) { /* a sendrecv: its transfers start when the whole group is ready */
        arrive(S, i, release);
        double r = group_release(S, i);
        if (r > t) return 0;
        if (r > release) release = r;
    }
    if (t < ti->start_ns) ti->start_ns = t;
    if (Q->prev >= 0 && Q->free_ns >= release) {
        cause = TRN_CAUSE_ENGINE; /* in order behind the queue's previous transfer */
        pred = Q->prev;
    }
    /* members with other byte counts part into lanes of their own */
    const dma_plan *d = &S->plan[tm->dma_slot[i]];
    const uint64_t *bytes = d->bytes;
    const lane *L = &S->lanes[l];
    uint64_t b0 = bytes[L->mem[0]];
    int same = 1;
    if (!d->uniform)
        for (int k = 1; k < L->nm && same; k++) same = bytes[L->mem[k]] == b0;
    int from = S->nl;
    if (!same) lane_split(S, l, bytes);
    int to = S->nl;
    if (lane_begin(S, l, i, t, cause, pred) < 0) return -1;
    for (int m = from; m < to; m++)
        if (lane_begin(S, m, i, t, cause, pred) < 0) return -1;
    return 1;
}

/* 1 when idle lane l surely cannot start a transfer at t (try_start_lane would return 0);
 * 0 when it has to look. */
static inline int lane_blocked(const sim *S, int l, double t) {
    const queue_state *Q = &S->lanes[l].s;
    if (Q->phase != 0 || Q->head >= S->tm->ndma || Q->free_ns > t) return 1;
    int i = S->dma_list[Q->head];
    const ready_memo *mo = &S->memo[i];
    if (in_group(S, i) && S->arrived[i]) return group_release(S, i) > t;
    if (mo->issued) return !S->triggered[i] || S->tm->issue_end_ns[i] > t;
    if (mo->ok) return mo->t > t;
    return mo->block && !S->known[mo->block - 1];
}

/* Max-min fair shares of the HBM bandwidth among the transfers moving data on every core of
 * the run (weighted by their HBM sides), each capped at its queue rate. Transfers are visited in
 * core order, then queue order; the sort by cap is stable, so the shares are deterministic. */
static void share_rates(xsim *X, double t) {
    int *idx = X->idx; /* pairs (core, queue) */
    int n = 0;
    double budget = X->hbm_bpns, weight = 0, demand = 0;
    /* the demand summed per lane: it differs from the per-queue sum below by rounding only
     * (relative 1e-12 at most for fewer than 10^3 queues), so when it is clearly below the
     * budget every share is its cap and the per-queue pass is skipped */
    double approx = 0;
    lane *one = NULL; /* the only lane moving HBM data, if one */
    int nhbm = 0;
    for (int c = 0; c < X->n; c++) {
        sim *S = &X->S[c];
        for (int l = 0; l < S->nl; l++) {
            queue_state *Q = &S->lanes[l].s;
            if (Q->phase != 2) continue;
            Q->rate = Q->cap;
            if (Q->hbm > 0) {
                approx += Q->cap * Q->hbm * S->lanes[l].nm;
                one = &S->lanes[l];
                nhbm++;
            }
        }
    }
    int skip = !(X->hbm_bpns > 0) || approx * (1 + 1e-11) < X->hbm_bpns * (1 - 1e-9);
    if (!skip && nhbm == 1) {
        /* one lane: its members in queue order are the per-queue pass's transfers, all with one
         * (cap, sides), so the demand is the same sum and the shares are the memo's when it
         * holds that sequence and gave every transfer one share */
        const queue_state *Q = &one->s;
        for (int k = 0; k < one->nm; k++) demand += Q->cap * Q->hbm;
        if (demand <= X->hbm_bpns * (1 - 1e-9)) {
            skip = 1;
        } else if (X->memo_single && X->memo_uniform && X->memo_n == one->nm &&
                   X->memo_cap[0] == Q->cap && X->memo_hbm[0] == Q->hbm) {
            memcpy(&one->s.rate, &X->memo_rate[0], sizeof one->s.rate);
            skip = 1;
        }
        demand = 0;
    }
    for (int c = 0; c < X->n && !skip; c++) {
        sim *S = &X->S[c];
        for (int q = 0; q < S->tm->nq; q++) {
            const queue_state *Q = queue_of(S, q);
            if (Q->phase != 2 || Q->hbm <= 0) continue;
            idx[2 * n] = c;
            idx[2 * n + 1] = q;
            n++;
            weight += Q->hbm;
            demand += Q->cap * Q->hbm;
        }
    }
#define QOF(k) queue_of(&X->S[idx[2 * (k)]], idx[2 * (k) + 1])
    /* When every transfer fits (the caps' sum below the budget), each one's share is its cap:
     * in the loop below, the budget left at transfer a is at least the caps left, so
     * budget / weight >= cap_a (caps ascending). The 1e-9 margin keeps rounding from deciding,
     * so skipping the loop gives the same rates bit for bit (they are the caps, set above). */
    if (demand <= X->hbm_bpns * (1 - 1e-9)) n = 0;
    /* ascending caps (insertion sort: stable, deterministic) */
    for (int a = 1; a < n; a++) {
        int vc = idx[2 * a], vq = idx[2 * a + 1], b = a;
        double cap = queue_of(&X->S[vc], vq)->cap;
        while (b > 0 && QOF(b - 1)->cap > cap) {
            idx[2 * b] = idx[2 * (b - 1)];
            idx[2 * b + 1] = idx[2 * (b - 1) + 1];
            b--;
        }
        idx[2 * b] = vc;
        idx[2 * b + 1] = vq;
    }
    /* each queue's share (its lane's members may get shares an ulp apart: they part); the
     * shares depend only on the (cap, HBM sides) sequence in this order, so the last one's are
     * reused when it repeats */
    int hit = n > 0 && n == X->memo_n;
    for (int a = 0; a < n && hit; a++) {
        const queue_state *Q = QOF(a);
        hit = Q->cap == X->memo_cap[a] && Q->hbm == X->memo_hbm[a];
    }
    for (int a = 0; a < n && !hit; a++) {
        const queue_state *Q = QOF(a);
        double fair = budget / weight, rate = Q->cap <= fair ? Q->cap : fair;
        X->memo_cap[a] = Q->cap;
        X->memo_hbm[a] = Q->hbm;
        memcpy(&X->memo_rate[a], &rate, sizeof rate);
        budget -= rate * Q->hbm;
        weight -= Q->hbm;
        if (budget < 0) budget = 0;
    }
    if (n > 0 && !hit) {
        X->memo_n = n;
        X->memo_single = X->memo_uniform = 1;
        for (int a = 1; a < n; a++) {
            X->memo_single &= X->memo_cap[a] == X->memo_cap[0] && X->memo_hbm[a] == X->memo_hbm[0];
            X->memo_uniform &= X->memo_rate[a] == X->memo_rate[0];
        }
    }
    for (int a = 0; a < n; a++) X->S[idx[2 * a]].qrate[idx[2 * a + 1]] = X->memo_rate[a];
#undef QOF
    for (int c = 0; c < X->n; c++) {
        sim *S = &X->S[c];
        if (n > 0)
            for (int l = 0, nl = S->nl; l < nl; l++) {
                lane *L = &S->lanes[l];
                if (L->s.phase != 2 || L->s.hbm <= 0) continue;
                uint64_t b0 = S->qrate[L->mem[0]];
                int same = 1;
                for (int k = 1; k < L->nm && same; k++) same = S->qrate[L->mem[k]] == b0;
                int from = S->nl;
                if (!same) lane_split(S, l, S->qrate);
                for (int m = l; m < S->nl; m = m == l ? from : m + 1) {
                    uint64_t bits = S->qrate[S->lanes[m].mem[0]];
                    memcpy(&S->lanes[m].s.rate, &bits, sizeof bits);
                }
            }
        for (int l = 0; l < S->nl; l++) {
            queue_state *Q = &S->lanes[l].s;
            if (Q->phase == 2) Q->fin = Q->rate > 0 ? t + Q->rem / Q->rate : INFINITY;
        }
        S->rates_dirty = 0;
    }
}

/* Moves the data phases from t to tn and retires what ends by tn. */
static int advance_queues(sim *S, double t, double tn) {
    trn_timing *tm = S->tm;
    for (int l = 0; l < S->nl; l++) {
        lane *L = &S->lanes[l];
        queue_state *Q = &L->s;
        if (Q->phase == 2) {
            Q->rem -= Q->rate * (tn - t);
            if (Q->fin <= tn || Q->rem <= 1e-9) {
                int i = Q->instr, slot = tm->dma_slot[i], qmin = L->mem[0];
                dma_piece *row = &tm->pieces[(size_t)slot * (size_t)tm->nq];
                for (int k = 0; k < L->nm; k++) {
                    int q = L->mem[k];
                    dma_piece *pc = &row[q];
                    pc->end_ns = tn;
                    trn_timing_track *tr = &tm->queues[q];
                    tr->instrs++;
                    tr->bytes += pc->bytes;
                    tr->busy_ns += tn - pc->start_ns;
                    if (q < qmin) qmin = q;
                }
                piece_ended(S, slot, tn, qmin);
                Q->phase = 0;
                Q->free_ns = tn;
                Q->head++;
                Q->prev = i;
                S->rates_dirty = 1;
                S->lanes_changed = 1;
                if ((S->pieces_done[i] += L->nm) == tm->nq && !finish_dma(S, i)) return 0;
            }
        } else if (Q->phase == 1 && Q->phase_end <= tn) {
            Q->phase = 2;
            dma_piece *row = &tm->pieces[(size_t)tm->dma_slot[Q->instr] * (size_t)tm->nq];
            for (int k = 0; k < L->nm; k++) row[L->mem[k]].data_ns = Q->phase_end;
            S->rates_dirty = 1;
            S->lanes_changed = 1;
        }
    }
    if (S->lanes_changed && S->nl > 1) lanes_merge(S);
    return 1;
}

/* ---- deadlock ---------------------------------------------------------------------------- */

static trn_status deadlock(sim *S, trn_err *err) {
    const trn_program *p = S->p;
    char msg[TRN_ERRMSG_MAX];
    size_t m = 0;
    int nblocked = 0;
    msg[0] = 0;
    for (int e = 0; e <= TRN_TIMING_ENGINES; e++) {
        int i;
        const char *name;
        if (e < TRN_TIMING_ENGINES) {
            if (S->eng[e].head >= S->eng[e].n) continue;
            i = S->eng[e].queue[S->eng[e].head];
            name = trn_engine_name((trn_engine)e);
        } else {
            int h = S->tm->ndma;
            for (int q = 0; q < S->tm->nq; q++)
                if (queue_of(S, q)->head < h && queue_of(S, q)->phase == 0)
                    h = queue_of(S, q)->head;
            if (h >= S->tm->ndma) continue;
            i = S->dma_list[h];
            if (p->instrs[i].engine != TRN_ENGINE_DMA) continue; /* blocked behind its issue */
            name = "dma";
        }
        const trn_instr *in = &p->instrs[i];
        nblocked++;
        m += (size_t)snprintf(msg + m, m < sizeof msg ? sizeof msg - m : 0, "%s%s (line %u %s",
                              nblocked > 1 ? "; " : "", name, (unsigned)in->line,
                              trn_isa_op_get(in->op)->name);
        for (int k = 0; k < in->nwait && m < sizeof msg; k++)
            m += (size_t)snprintf(msg + m, sizeof msg - m, ", waits %s>=%u, reaches %d",
                                  p->sems[in->wait[k].sem], (unsigned)in->wait[k].value,
                                  S->sems[in->wait[k].sem].n);
        if (m < sizeof msg) m += (size_t)snprintf(msg + m, sizeof msg - m, ")");
    }
    return trn_err_set(err, TRN_E_FAULT, "%s: deadlock: %d engine%s blocked forever: %s",
                       p->source_path ? p->source_path : p->name, nblocked,
                       nblocked == 1 ? "" : "s", msg);
}

/* ---- the run ----------------------------------------------------------------------------- */

/* A deadlock of a multi-core run: every core with work left, its blocked instructions, and for a
 * sync group the cores that have not arrived. */
static trn_status deadlock_cores(xsim *X, trn_err *err) {
    char msg[TRN_ERRMSG_MAX];
    size_t m = 0;
    msg[0] = 0;
#define PUT(...)                                                                         \
    do {                                                                                 \
        if (m < sizeof msg) m += (size_t)snprintf(msg + m, sizeof msg - m, __VA_ARGS__); \
    } while (0)
    int nblocked = 0;
    for (int c = 0; c < X->n; c++) {
        sim *S = &X->S[c];
        const trn_program *p = S->p;
        for (int e = 0; e <= TRN_TIMING_ENGINES; e++) {
            int i;
            const char *name;
            if (e < TRN_TIMING_ENGINES) {
                if (S->eng[e].head >= S->eng[e].n) continue;
                i = S->eng[e].queue[S->eng[e].head];
                name = trn_engine_name((trn_engine)e);
            } else {
                int h = S->tm->ndma;
                for (int q = 0; q < S->tm->nq; q++)
                    if (queue_of(S, q)->head < h && queue_of(S, q)->phase == 0)
                        h = queue_of(S, q)->head;
                if (h >= S->tm->ndma) continue;
                i = S->dma_list[h];
                if (p->instrs[i].engine != TRN_ENGINE_DMA) continue;
                name = "dma";
            }
            const trn_instr *in = &p->instrs[i];
            PUT("%score %d %s (line %u %s", nblocked ? "; " : "", c, name, (unsigned)in->line,
                trn_isa_op_get(in->op)->name);
            nblocked++;
            if (in_group(S, i)) {
                int32_t g = S->grp[i];
                int have = 0, first = 1;
                for (int d = 0; d < X->n; d++) {
                    sim *D = &X->S[d];
                    for (int j = 0; D->grp && j < D->tm->n; j++) {
                        if (D->grp[j] != g) continue;
                        have++;
                        if (!D->arrived[j]) {
                            PUT("%s core %d (line %u)", first ? ", waits for" : ",", d,
                                (unsigned)D->p->instrs[j].line);
                            first = 0;
                        }
                    }
                }
                if (have < X->g[g].size)
                    PUT("%s %d core%s that never reach a matching %s", first ? ", waits for" : ",",
                        X->g[g].size - have, X->g[g].size - have == 1 ? "" : "s",
                        trn_isa_op_get(in->op)->name);
            }
            for (int k = 0; k < in->nwait; k++)
                PUT(", waits %s>=%u, reaches %d", p->sems[in->wait[k].sem],
                    (unsigned)in->wait[k].value, S->sems[in->wait[k].sem].n);
            PUT(")");
        }
    }
#undef PUT
    const trn_program *p0 = X->S[0].p;
    return trn_err_set(err, TRN_E_FAULT,
                       "%s: deadlock of %d cores: %d engine%s blocked forever: %s",
                       p0->source_path ? p0->source_path : p0->name, X->n, nblocked,
                       nblocked == 1 ? "" : "s", msg);
}

/* Starts everything that can start at t on one core: 1 when something did, -1 out of memory. */
static int step_core(sim *S, double t) {
    int progress = 0;
    for (int e = 0; e < TRN_TIMING_ENGINES; e++) {
        int r = try_start_compute(S, e, t);
        if (r < 0) return -1;
        progress |= r;
    }
    for (int l = 0; l < S->nl; l++) {
        if (lane_blocked(S, l, t)) continue;
        int r = try_start_lane(S, l, t);
        if (r < 0) return -1;
        progress |= r;
    }
    return progress;
}

/* The next time after t at which something changes on the core (INFINITY: nothing will). */
static double next_event(sim *S, double t) {
    trn_timing *tm = S->tm;
    double tn = INFINITY;
    int32_t pred;
    double raw;
    for (int e = 0; e < TRN_TIMING_ENGINES; e++) {
        engine_state *E = &S->eng[e];
        if (E->free_ns > t && E->free_ns < tn) tn = E->free_ns;
        if (E->head < E->n) {
            double r = ready_time(S, E->queue[E->head], &pred, &raw);
            if (r > t && r < tn) tn = r;
        }
    }
    for (int l = 0; l < S->nl; l++) {
        const queue_state *Q = &S->lanes[l].s;
        if (Q->phase == 1 && Q->phase_end > t && Q->phase_end < tn) tn = Q->phase_end;
        if (Q->phase == 2 && Q->fin < tn) tn = Q->fin > t ? Q->fin : t;
        if (Q->phase == 0 && Q->head < tm->ndma) {
            int i = S->dma_list[Q->head];
            double r;
            if (in_group(S, i) && S->arrived[i])
                r = group_release(S, i);
            else
                r = !S->memo[i].issued ? ready_time(S, i, &pred, &raw)
                                       : (S->triggered[i] ? tm->issue_end_ns[i] : INFINITY);
            if (r > t && r < tn) tn = r;
        }
    }
    return tn;
}

static trn_status simulate(xsim *X, trn_err *err) {
    double t = 0;
    for (;;) {
        int progress = 1;
        while (progress) {
            progress = 0;
            for (int c = 0; c < X->n; c++) {
                int r = step_core(&X->S[c], t);
                if (r < 0) return trn_err_set(err, TRN_E_NOMEM, "timing: out of memory");
                progress |= r;
            }
        }
        int dirty = 0;
        for (int c = 0; c < X->n; c++) dirty |= X->S[c].rates_dirty;
        if (dirty) share_rates(X, t);
        double tn = INFINITY;
        for (int c = 0; c < X->n; c++) {
            double r = next_event(&X->S[c], t);
            if (r < tn) tn = r;
        }
        if (tn == INFINITY) break;
        for (int c = 0; c < X->n; c++)
            if (!advance_queues(&X->S[c], t, tn))
                return trn_err_set(err, TRN_E_NOMEM, "timing: out of memory");
        t = tn;
    }
    int stuck = 0;
    for (int c = 0; c < X->n; c++) {
        sim *S = &X->S[c];
        for (int e = 0; e < TRN_TIMING_ENGINES; e++) stuck |= S->eng[e].head < S->eng[e].n;
        for (int l = 0; l < S->nl; l++) stuck |= S->lanes[l].s.head < S->tm->ndma;
    }
    if (!stuck) return TRN_OK;
    return X->n == 1 && X->ng == 0 ? deadlock(&X->S[0], err) : deadlock_cores(X, err);
}

static int track_of(const trn_timing *tm, const trn_program *p, int i) {
    return tm->dma_slot[i] >= 0 ? TRN_ENGINE_DMA : (int)p->instrs[i].engine;
}

static trn_status critical_path(sim *S) {
    trn_timing *tm = S->tm;
    const trn_program *p = S->p;
    int last = -1;
    for (int i = 0; i < tm->n; i++)
        if (last < 0 || tm->in[i].end_ns >= tm->in[last].end_ns) last = i;
    if (last < 0) return TRN_OK;
    int32_t *chain = malloc(sizeof *chain * (size_t)tm->n);
    if (!chain) return TRN_E_NOMEM;
    int nc = 0;
    for (int i = last; i >= 0 && nc < tm->n; i = tm->in[i].pred) {
        chain[nc++] = i;
        if (tm->in[i].cause == TRN_CAUSE_NONE) break;
    }
    tm->crit = calloc((size_t)nc, sizeof *tm->crit);
    if (!tm->crit) {
        free(chain);
        return TRN_E_NOMEM;
    }
    int ns = 0;
    double covered = 0; /* end of the path so far: time already attributed */
    for (int k = nc - 1; k >= 0; k--) {
        int i = chain[k];
        int e = track_of(tm, p, i);
        const trn_timing_instr *ti = &tm->in[i];
        /* A DMA's interval starts at its trigger, so it can overlap its predecessor on the
         * path (queued behind it): only the time past the path's end so far is its own, and
         * the per-engine path times add up to at most the kernel's time. */
        double from = ti->start_ns > covered ? ti->start_ns : covered;
        double busy = ti->end_ns > from ? ti->end_ns - from : 0;
        if (ti->end_ns > covered) covered = ti->end_ns;
        tm->rep.critical_engine_ns[e] += busy;
        trn_timing_segment *g = ns ? &tm->crit[ns - 1] : NULL;
        if (!g || (int)g->engine != e) {
            g = &tm->crit[ns++];
            g->engine = (trn_engine)e;
            g->first = i;
            g->first_line = p->instrs[i].line;
            g->start_ns = ti->start_ns;
        }
        g->last = i;
        g->last_line = p->instrs[i].line;
        g->instrs++;
        g->end_ns = ti->end_ns;
        g->busy_ns += busy;
    }
    free(chain);
    tm->rep.ncritical = ns;
    tm->rep.critical = tm->crit;
    int b = 0;
    for (int e = 1; e < TRN_ENGINE_COUNT; e++)
        if (tm->rep.critical_engine_ns[e] > tm->rep.critical_engine_ns[b]) b = e;
    tm->rep.bound = (trn_engine)b;
    return TRN_OK;
}

static void report(sim *S) {
    trn_timing *tm = S->tm;
    trn_timing_report *r = &tm->rep;
    const trn_program *p = S->p;
    double total = 0;
    for (int i = 0; i < tm->n; i++)
        if (tm->in[i].end_ns > total) total = tm->in[i].end_ns;
    r->total_ns = total;
    for (int e = 0; e < TRN_TIMING_ENGINES; e++) {
        trn_timing_track *tr = &r->engine[e];
        snprintf(tr->name, sizeof tr->name, "%s", trn_engine_short((trn_engine)e));
        tr->hz = S->ctx.hz[e];
        tr->total_cycles = total * tr->hz * 1e-9;
        tr->utilization = total > 0 ? tr->busy_ns / total : 0;
    }
    for (int q = 0; q < tm->nq; q++) {
        trn_timing_track *tr = &tm->queues[q];
        snprintf(tr->name, sizeof tr->name, "DMA q%d", q);
        tr->utilization = total > 0 ? tr->busy_ns / total : 0;
    }
    r->ndma_queues = tm->nq;
    r->dma_queue = tm->queues;
    r->dma_instrs = (uint64_t)tm->ndma;
    uint64_t hbm = 0;
    for (int k = 0; k < tm->ndma; k++) {
        const dma_plan *d = &S->plan[k];
        if (d->src_mem == TRN_MEM_HBM && d->dst_mem == TRN_MEM_HBM)
            r->hbm_to_hbm_bytes += d->write_bytes;
        else if (d->src_mem == TRN_MEM_HBM)
            r->hbm_to_sbuf_bytes += d->write_bytes;
        else if (d->dst_mem == TRN_MEM_HBM)
            r->sbuf_to_hbm_bytes += d->write_bytes;
        else
            r->sbuf_to_sbuf_bytes += d->write_bytes;
        hbm += (d->src_mem == TRN_MEM_HBM ? d->read_bytes : 0) +
               (d->dst_mem == TRN_MEM_HBM ? d->write_bytes : 0);
    }
    if (total > 0) {
        r->hbm_to_sbuf_bps = (double)r->hbm_to_sbuf_bytes / total * 1e9;
        r->sbuf_to_hbm_bps = (double)r->sbuf_to_hbm_bytes / total * 1e9;
        r->hbm_bps = (double)hbm / total * 1e9;
        double pe_cycles = total * S->ctx.hz[TRN_ENGINE_PE] * 1e-9;
        double array = S->ctx.core->pe_rows.value * S->ctx.core->pe_cols.value;
        r->pe_hfu = S->hfu_slots / (array * pe_cycles);
        r->pe_mfu = S->mfu_slots / (array * pe_cycles);
        r->achieved_flops = 2 * S->macs / (total * 1e-9);
    }
    r->matmul_macs = S->macs;
    r->hbm_available_bps = S->hbm_bpns * 1e9;
    (void)p;
}

static void sim_free(sim *S) {
    free(S->arrived);
    sched_free(&S->sc);
    free(S->ci);
    free(S->plan);
    free(S->plan_bytes);
    free(S->dma_list);
    for (int e = 0; e < TRN_TIMING_ENGINES; e++) free(S->eng[e].queue);
    free(S->lanes);
    free(S->lane_of);
    free(S->lane_mem);
    free(S->qrate);
    free(S->dma_end);
    free(S->dma_qlast);
    free(S->known);
    free(S->memo);
    free(S->triggered);
    free(S->pieces_done);
    free(S->trig_pred);
    free(S->trig_cause);
    if (S->sems)
        for (int k = 0; k < S->p->nsems; k++) free(S->sems[k].inc);
    free(S->sems);
}

void trn_timing_destroy(trn_timing *t) {
    if (!t) return;
    free(t->in);
    free(t->dma_slot);
    free(t->pieces);
    free(t->issue_end_ns);
    free(t->queues);
    free(t->crit);
    free(t);
}

/* Builds the simulation of program p on one core (S zeroed by the caller): the timing object
 * (S->tm), the schedule, the costs and the queues. On failure everything is released. */
static trn_status sim_setup(sim *S, const trn_program *p, const trn_hw_core *core,
                            const trn_hw_chip *chip, const trn_timing_opts *o, trn_err *err) {
    memset(S, 0, sizeof *S);
    S->p = p;
    S->pe_loaded = -1;
    trn_status st = cost_ctx_init(&S->ctx, p, core, err);
    if (st) return st;
    trn_timing *tm = calloc(1, sizeof *tm);
    if (!tm) return trn_err_set(err, TRN_E_NOMEM, "timing: out of memory");
    S->tm = tm;
    tm->core = core;
    tm->chip = chip;
    tm->opts = *o;
    tm->ncores = 1;
    snprintf(tm->kernel, sizeof tm->kernel, "%s", p->name);
    int n = p->ninstrs;
    size_t nn = (size_t)(n ? n : 1);
    tm->n = n;
    tm->nq = (int)core->dma_engines.value;
    tm->in = calloc(nn, sizeof *tm->in);
    tm->dma_slot = malloc(nn * sizeof *tm->dma_slot);
    tm->issue_end_ns = calloc(nn, sizeof *tm->issue_end_ns);
    tm->queues = calloc((size_t)tm->nq, sizeof *tm->queues);
    S->ci = calloc(nn, sizeof *S->ci);
    S->known = calloc(nn, 1);
    S->memo = calloc(nn, sizeof *S->memo);
    S->triggered = calloc(nn, 1);
    S->pieces_done = calloc(nn, sizeof *S->pieces_done);
    S->trig_pred = calloc(nn, sizeof *S->trig_pred);
    S->trig_cause = calloc(nn, 1);
    S->arrived = calloc(nn, 1);
    S->lanes = calloc((size_t)tm->nq, sizeof *S->lanes);
    S->lane_of = calloc((size_t)tm->nq, sizeof *S->lane_of);
    S->lane_mem = calloc((size_t)tm->nq * (size_t)tm->nq, sizeof *S->lane_mem);
    S->qrate = calloc((size_t)tm->nq, sizeof *S->qrate);
    S->sems = calloc((size_t)(p->nsems ? p->nsems : 1), sizeof *S->sems);
    for (int e = 0; e < TRN_TIMING_ENGINES; e++) {
        S->eng[e].queue = malloc(nn * sizeof(int));
        S->eng[e].last = -1;
        if (!S->eng[e].queue) st = TRN_E_NOMEM;
    }
    if (!tm->in || !tm->dma_slot || !tm->issue_end_ns || !tm->queues || !S->ci || !S->known ||
        !S->memo || !S->triggered || !S->pieces_done || !S->trig_pred || !S->trig_cause ||
        !S->arrived || !S->lanes || !S->lane_of || !S->lane_mem || !S->qrate || !S->sems)
        st = TRN_E_NOMEM;
    if (st == TRN_OK) {
        uint8_t is_dma[TRN_OP_COUNT];
        cost_dma_ops(is_dma);
        for (int i = 0; i < n; i++) tm->dma_slot[i] = is_dma[p->instrs[i].op] ? tm->ndma++ : -1;
        size_t nd = (size_t)(tm->ndma ? tm->ndma : 1);
        S->dma_list = malloc(nd * sizeof *S->dma_list);
        S->plan = calloc(nd, sizeof *S->plan);
        S->plan_bytes = calloc(nd * (size_t)tm->nq, sizeof *S->plan_bytes);
        tm->pieces = calloc(nd * (size_t)tm->nq, sizeof *tm->pieces);
        S->dma_end = malloc(nd * sizeof *S->dma_end);
        S->dma_qlast = calloc(nd, sizeof *S->dma_qlast);
        if (!S->dma_list || !S->plan || !S->plan_bytes || !tm->pieces || !S->dma_end ||
            !S->dma_qlast)
            st = TRN_E_NOMEM;
        for (int k = 0; S->dma_end && k < tm->ndma; k++) S->dma_end[k] = -1;
    }
    if (st) {
        sim_free(S);
        trn_timing_destroy(tm);
        S->tm = NULL;
        return trn_err_set(err, TRN_E_NOMEM, "timing: out of memory");
    }
    st = sched_build(p, &S->sc, err);
    if (st) {
        sim_free(S);
        trn_timing_destroy(tm);
        S->tm = NULL;
        return st;
    }
    for (int i = 0; i < n; i++) {
        trn_timing_instr *ti = &tm->in[i];
        const trn_instr *in = &p->instrs[i];
        const sched_instr *si = &S->sc.in[i];
        ti->engine = in->engine;
        ti->pred = -1;
        ti->nwaits = si->nwaits;
        memcpy(ti->waits, si->waits, sizeof ti->waits);
        int slot = tm->dma_slot[i];
        if (slot >= 0) {
            S->dma_list[slot] = i;
            S->memo[i].issued = in->engine != TRN_ENGINE_DMA;
            S->plan[slot].bytes = S->plan_bytes + (size_t)slot * (size_t)tm->nq;
            cost_dma(&S->ctx, i, &S->plan[slot]);
            ti->bytes = S->plan[slot].read_bytes > S->plan[slot].write_bytes
                            ? S->plan[slot].read_bytes
                            : S->plan[slot].write_bytes;
            ti->start_ns = INFINITY;
        } else {
            cost_compute(&S->ctx, i, &S->ci[i]);
        }
        if (slot < 0 || in->engine != TRN_ENGINE_DMA) {
            engine_state *E = &S->eng[in->engine];
            E->queue[E->n++] = i;
        }
    }
    /* one lane of every queue, idle */
    for (int l = 0; l < tm->nq; l++) S->lanes[l].mem = S->lane_mem + (size_t)l * (size_t)tm->nq;
    S->nl = 1;
    S->lanes[0].s.prev = -1;
    for (int q = 0; q < tm->nq; q++) S->lanes[0].mem[S->lanes[0].nm++] = q;
    S->lat = core->sem_latency_ns.value;
    return TRN_OK;
}

/* After a successful simulation: the race check, the report and the critical path. */
static trn_status sim_finish(sim *S, trn_err *err) {
    trn_timing *tm = S->tm;
    trn_status st = race_check(S->p, tm, err); /* `.sync manual` programs only */
    if (st == TRN_OK) {
        for (int i = 0; i < tm->n; i++)
            if (tm->in[i].start_ns == INFINITY) tm->in[i].start_ns = tm->in[i].end_ns;
        report(S);
        if (critical_path(S)) st = trn_err_set(err, TRN_E_NOMEM, "timing: out of memory");
    }
    return st;
}

/* share_rates' scratch for totq queues in all: 1, or 0 out of memory (X's scratch NULL). */
static int xsim_scratch(xsim *X, int totq) {
    size_t n = (size_t)(totq > 0 ? totq : 1);
    X->idx = malloc(sizeof *X->idx * 2 * n);
    X->memo_cap = malloc(sizeof *X->memo_cap * n);
    X->memo_hbm = malloc(sizeof *X->memo_hbm * n);
    X->memo_rate = malloc(sizeof *X->memo_rate * n);
    X->memo_n = 0;
    return X->idx && X->memo_cap && X->memo_hbm && X->memo_rate;
}

static void xsim_scratch_free(xsim *X) {
    free(X->idx);
    free(X->memo_cap);
    free(X->memo_hbm);
    free(X->memo_rate);
    X->idx = NULL;
    X->memo_cap = NULL;
    X->memo_hbm = NULL;
    X->memo_rate = NULL;
}

static trn_status check_args(const trn_hw_core *core, const trn_hw_chip *chip,
                             const trn_timing_opts *o, trn_err *err) {
    if (chip && chip->core && chip->core != core)
        return trn_err_set(err, TRN_E_INVALID, "chip %s has NeuronCore %s, not %s", chip->name,
                           chip->core_version, core->name);
    if (o->hbm_share_cores < 0)
        return trn_err_set(err, TRN_E_INVALID, "timing options: hbm_share_cores must be >= 0");
    return TRN_OK;
}

trn_status trn_timing_run(const trn_program *p, const trn_hw_core *core, const trn_hw_chip *chip,
                          const trn_timing_opts *o, trn_timing **out, trn_err *err) {
    *out = NULL;
    if (!p || !core) return trn_err_set(err, TRN_E_INVALID, "timing: no program or core");
    trn_timing_opts defaults;
    if (!o) {
        trn_timing_opts_init(&defaults);
        o = &defaults;
    }
    trn_status st = check_args(core, chip, o, err);
    if (st) return st;
    sim S;
    st = sim_setup(&S, p, core, chip, o, err);
    if (st) return st;
    trn_timing *tm = S.tm;
    if (chip && chip->hbm_bw_bps.value > 0) {
        int share = o->hbm_share_cores ? o->hbm_share_cores : (int)chip->cores.value;
        if (share < 1) share = 1;
        S.hbm_bpns = chip->hbm_bw_bps.value * 1e-9 / share;
    }
    xsim X;
    memset(&X, 0, sizeof X);
    X.S = &S;
    X.n = 1;
    X.hbm_bpns = S.hbm_bpns;
    S.X = &X;
    st = xsim_scratch(&X, tm->nq) ? simulate(&X, err)
                                  : trn_err_set(err, TRN_E_NOMEM, "timing: out of memory");
    xsim_scratch_free(&X);
    if (st == TRN_OK) st = sim_finish(&S, err);
    sim_free(&S);
    if (st) {
        trn_timing_destroy(tm);
        return st;
    }
    *out = tm;
    return TRN_OK;
}

trn_status trn_timing_run_cores(const trn_program *const *p, int n, const trn_hw_core *core,
                                const trn_hw_chip *chip, const trn_timing_sync *sync,
                                trn_timing **out, trn_err *err) {
    if (n < 1 || !p || !core || !chip)
        return trn_err_set(err, TRN_E_INVALID, "timing: no programs, core or chip");
    for (int c = 0; c < n; c++) out[c] = NULL;
    trn_timing_opts o;
    trn_timing_opts_init(&o);
    o.hbm_share_cores = 1; /* the whole chip's bandwidth, shared dynamically */
    trn_status st = check_args(core, chip, &o, err);
    if (st) return st;
    for (int c = 0; c < n; c++)
        if (!p[c]) return trn_err_set(err, TRN_E_INVALID, "timing: program %d missing", c);
    xsim X;
    memset(&X, 0, sizeof X);
    X.n = n;
    X.hbm_bpns = chip->hbm_bw_bps.value > 0 ? chip->hbm_bw_bps.value * 1e-9 : 0;
    X.barrier_ns = core->core_barrier_ns.value;
    X.S = calloc((size_t)n, sizeof *X.S);
    if (!X.S) return trn_err_set(err, TRN_E_NOMEM, "timing: out of memory");
    int ready = 0, totq = 0;
    for (; ready < n; ready++) {
        if ((st = sim_setup(&X.S[ready], p[ready], core, chip, &o, err)) != TRN_OK) break;
        sim *S = &X.S[ready];
        S->X = &X;
        S->core_index = ready;
        S->hbm_bpns = X.hbm_bpns;
        S->tm->ncores = n;
        S->tm->core_index = ready;
        totq += S->tm->nq;
    }
    if (st == TRN_OK && sync && sync->ngroups > 0) {
        X.ng = sync->ngroups;
        X.g = calloc((size_t)X.ng, sizeof *X.g);
        size_t slots = 0;
        for (int g = 0; X.g && g < X.ng; g++) {
            X.g[g].size = sync->group_size[g] > 0 ? sync->group_size[g] : 1;
            X.g[g].first = (int32_t)slots;
            X.g[g].release = INFINITY;
            slots += (size_t)X.g[g].size;
        }
        X.mcore = calloc(slots ? slots : 1, sizeof *X.mcore);
        X.minstr = calloc(slots ? slots : 1, sizeof *X.minstr);
        if (!X.g || !X.mcore || !X.minstr)
            st = trn_err_set(err, TRN_E_NOMEM, "timing: out of memory");
        for (int c = 0; st == TRN_OK && c < n; c++) {
            X.S[c].grp = sync->group_of[c];
            for (int i = 0; X.S[c].grp && i < p[c]->ninstrs; i++)
                if (X.S[c].grp[i] >= X.ng)
                    st = trn_err_set(err, TRN_E_INVALID,
                                     "timing: instruction %d of core %d names sync group %d of %d",
                                     i, c, (int)X.S[c].grp[i], X.ng);
        }
    }
    if (st == TRN_OK && !xsim_scratch(&X, totq))
        st = trn_err_set(err, TRN_E_NOMEM, "timing: out of memory");
    if (st == TRN_OK) st = simulate(&X, err);
    for (int c = 0; st == TRN_OK && c < n; c++) st = sim_finish(&X.S[c], err);
    for (int c = 0; c < ready; c++) {
        out[c] = X.S[c].tm;
        sim_free(&X.S[c]);
    }
    if (st)
        for (int c = 0; c < n; c++) {
            trn_timing_destroy(out[c]);
            out[c] = NULL;
        }
    free(X.S);
    free(X.g);
    free(X.mcore);
    free(X.minstr);
    xsim_scratch_free(&X);
    return st;
}

int trn_timing_cores(const trn_timing *t, int *index) {
    if (index) *index = t->core_index;
    return t->ncores;
}

const trn_timing_report *trn_timing_report_get(const trn_timing *t) {
    return &t->rep;
}

const trn_timing_instr *trn_timing_instrs(const trn_timing *t, int *n) {
    if (n) *n = t->n;
    return t->in;
}

int trn_timing_dma_piece(const trn_timing *t, int instr, int q, double *start_ns, double *data_ns,
                         double *end_ns, uint64_t *bytes) {
    if (instr < 0 || instr >= t->n || q < 0 || q >= t->nq || t->dma_slot[instr] < 0) return 0;
    const dma_piece *pc = &t->pieces[(size_t)t->dma_slot[instr] * (size_t)t->nq + (size_t)q];
    if (start_ns) *start_ns = pc->start_ns;
    if (data_ns) *data_ns = pc->data_ns;
    if (end_ns) *end_ns = pc->end_ns;
    if (bytes) *bytes = pc->bytes;
    return 1;
}

/* ---- printing ---------------------------------------------------------------------------- */

static const char *track_name(trn_engine e) {
    return e == TRN_ENGINE_DMA ? "DMA" : trn_engine_short(e);
}

void trn_timing_print(const trn_timing *t, FILE *f) {
    const trn_timing_report *r = &t->rep;
    if (t->ncores > 1) fprintf(f, "core %d of %d: ", t->core_index, t->ncores);
    fprintf(f, "kernel %s on %s%s%s: %.3f us (%d instructions)\n", t->kernel,
            t->core->description ? t->core->description : t->core->name, t->chip ? ", chip " : "",
            t->chip ? t->chip->name : "", r->total_ns * 1e-3, t->n);
    fprintf(f, "%-8s %8s %14s %7s %14s %14s %10s\n", "engine", "instrs", "busy ns", "util",
            "busy cycles", "total cycles", "clock GHz");
    for (int e = 0; e < TRN_TIMING_ENGINES; e++) {
        const trn_timing_track *tr = &r->engine[e];
        fprintf(f, "%-8s %8llu %14.1f %6.1f%% %14llu %14.0f %10.3f\n", tr->name,
                (unsigned long long)tr->instrs, tr->busy_ns, 100 * tr->utilization,
                (unsigned long long)tr->busy_cycles, tr->total_cycles, tr->hz * 1e-9);
    }
    fprintf(f, "%-8s %8s %14s %7s %14s\n", "queue", "xfers", "busy ns", "util", "bytes");
    for (int q = 0; q < r->ndma_queues; q++) {
        const trn_timing_track *tr = &r->dma_queue[q];
        if (!tr->instrs) continue;
        fprintf(f, "%-8s %8llu %14.1f %6.1f%% %14llu\n", tr->name, (unsigned long long)tr->instrs,
                tr->busy_ns, 100 * tr->utilization, (unsigned long long)tr->bytes);
    }
    fprintf(f,
            "DMA: %llu instructions; HBM->SBUF %llu B (%.1f GB/s), SBUF->HBM %llu B (%.1f GB/s), "
            "HBM->HBM %llu B, SBUF->SBUF %llu B; HBM traffic %.1f GB/s of %.1f GB/s available%s\n",
            (unsigned long long)r->dma_instrs, (unsigned long long)r->hbm_to_sbuf_bytes,
            r->hbm_to_sbuf_bps * 1e-9, (unsigned long long)r->sbuf_to_hbm_bytes,
            r->sbuf_to_hbm_bps * 1e-9, (unsigned long long)r->hbm_to_hbm_bytes,
            (unsigned long long)r->sbuf_to_sbuf_bytes, r->hbm_bps * 1e-9,
            r->hbm_available_bps * 1e-9, t->ncores > 1 ? " (the chip's, shared by all cores)" : "");
    fprintf(f, "TensorE: %.0f MACs, %.2f TFLOP/s, HFU %.1f%%, MFU %.1f%%\n", r->matmul_macs,
            r->achieved_flops * 1e-12, 100 * r->pe_hfu, 100 * r->pe_mfu);
    fprintf(f, "critical path: bound by %s (", track_name(r->bound));
    int first = 1;
    for (int e = 0; e < TRN_ENGINE_COUNT; e++) {
        if (r->critical_engine_ns[e] <= 0) continue;
        fprintf(f, "%s%s %.1f ns", first ? "" : ", ", track_name((trn_engine)e),
                r->critical_engine_ns[e]);
        first = 0;
    }
    fprintf(f, ")\n");
    for (int k = 0; k < r->ncritical; k++) {
        const trn_timing_segment *g = &r->critical[k];
        fprintf(f, "  %-5s %5u instr (#%d-#%d, lines %u-%u)  %12.1f .. %12.1f ns  busy %.1f ns\n",
                track_name(g->engine), g->instrs, g->first, g->last, g->first_line, g->last_line,
                g->start_ns, g->end_ns, g->busy_ns);
    }
}

static cJSON *track_json(const trn_timing_track *tr, int dma) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "name", tr->name);
    cJSON_AddNumberToObject(o, dma ? "transfers" : "instructions", (double)tr->instrs);
    cJSON_AddNumberToObject(o, "busy_ns", tr->busy_ns);
    cJSON_AddNumberToObject(o, "utilization", tr->utilization);
    if (dma) {
        cJSON_AddNumberToObject(o, "bytes", (double)tr->bytes);
    } else {
        cJSON_AddNumberToObject(o, "clock_hz", tr->hz);
        cJSON_AddNumberToObject(o, "busy_cycles", (double)tr->busy_cycles);
        cJSON_AddNumberToObject(o, "total_cycles", tr->total_cycles);
    }
    return o;
}

static cJSON *report_json(const trn_timing *t) {
    const trn_timing_report *r = &t->rep;
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    cJSON_AddStringToObject(root, "schema", "trnsim.timing/1");
    cJSON_AddStringToObject(root, "kernel", t->kernel);
    cJSON_AddStringToObject(root, "core", t->core->name);
    if (t->chip)
        cJSON_AddStringToObject(root, "chip", t->chip->name);
    else
        cJSON_AddNullToObject(root, "chip");
    if (t->ncores > 1) {
        cJSON_AddNumberToObject(root, "cores", t->ncores);
        cJSON_AddNumberToObject(root, "core_index", t->core_index);
    }
    cJSON_AddNumberToObject(root, "instructions", t->n);
    cJSON_AddNumberToObject(root, "total_ns", r->total_ns);
    cJSON *tc = cJSON_AddObjectToObject(root, "total_cycles");
    for (int e = 0; e < TRN_TIMING_ENGINES && tc; e++)
        cJSON_AddNumberToObject(tc, r->engine[e].name, r->engine[e].total_cycles);
    cJSON *eng = cJSON_AddArrayToObject(root, "engines");
    for (int e = 0; e < TRN_TIMING_ENGINES && eng; e++)
        cJSON_AddItemToArray(eng, track_json(&r->engine[e], 0));
    cJSON *qs = cJSON_AddArrayToObject(root, "dma_queues");
    for (int q = 0; q < r->ndma_queues && qs; q++)
        cJSON_AddItemToArray(qs, track_json(&r->dma_queue[q], 1));
    cJSON *pe = cJSON_AddObjectToObject(root, "tensor");
    if (pe) {
        cJSON_AddNumberToObject(pe, "matmul_macs", r->matmul_macs);
        cJSON_AddNumberToObject(pe, "hfu", r->pe_hfu);
        cJSON_AddNumberToObject(pe, "mfu", r->pe_mfu);
        cJSON_AddNumberToObject(pe, "achieved_flops", r->achieved_flops);
    }
    cJSON *dma = cJSON_AddObjectToObject(root, "dma");
    if (dma) {
        cJSON_AddNumberToObject(dma, "instructions", (double)r->dma_instrs);
        cJSON_AddNumberToObject(dma, "hbm_to_sbuf_bytes", (double)r->hbm_to_sbuf_bytes);
        cJSON_AddNumberToObject(dma, "sbuf_to_hbm_bytes", (double)r->sbuf_to_hbm_bytes);
        cJSON_AddNumberToObject(dma, "hbm_to_hbm_bytes", (double)r->hbm_to_hbm_bytes);
        cJSON_AddNumberToObject(dma, "sbuf_to_sbuf_bytes", (double)r->sbuf_to_sbuf_bytes);
        cJSON_AddNumberToObject(dma, "hbm_to_sbuf_bps", r->hbm_to_sbuf_bps);
        cJSON_AddNumberToObject(dma, "sbuf_to_hbm_bps", r->sbuf_to_hbm_bps);
        cJSON_AddNumberToObject(dma, "hbm_bps", r->hbm_bps);
        cJSON_AddNumberToObject(dma, "hbm_available_bps", r->hbm_available_bps);
    }
    cJSON *cp = cJSON_AddObjectToObject(root, "critical_path");
    if (cp) {
        cJSON_AddStringToObject(cp, "bound", track_name(r->bound));
        cJSON *en = cJSON_AddObjectToObject(cp, "engine_ns");
        for (int e = 0; e < TRN_ENGINE_COUNT && en; e++)
            cJSON_AddNumberToObject(en, track_name((trn_engine)e), r->critical_engine_ns[e]);
        cJSON *segs = cJSON_AddArrayToObject(cp, "segments");
        for (int k = 0; k < r->ncritical && segs; k++) {
            const trn_timing_segment *g = &r->critical[k];
            cJSON *s = cJSON_CreateObject();
            if (!s) break;
            cJSON_AddStringToObject(s, "engine", track_name(g->engine));
            cJSON_AddNumberToObject(s, "first", g->first);
            cJSON_AddNumberToObject(s, "last", g->last);
            cJSON_AddNumberToObject(s, "first_line", g->first_line);
            cJSON_AddNumberToObject(s, "last_line", g->last_line);
            cJSON_AddNumberToObject(s, "instructions", g->instrs);
            cJSON_AddNumberToObject(s, "start_ns", g->start_ns);
            cJSON_AddNumberToObject(s, "end_ns", g->end_ns);
            cJSON_AddNumberToObject(s, "busy_ns", g->busy_ns);
            cJSON_AddItemToArray(segs, s);
        }
    }
    cJSON *pa = cJSON_AddObjectToObject(root, "params");
    if (pa) {
        /* the catalog values the run used (the schema's original keys) */
        const trn_hw_core *c = t->core;
        cJSON_AddNumberToObject(pa, "sem_latency_ns", c->sem_latency_ns.value);
        cJSON_AddNumberToObject(pa, "pe_ls_speedup", c->pe_ls_speedup.value);
        cJSON_AddNumberToObject(pa, "dma_transpose_hbm", c->dma_transpose_hbm_frac.value);
        cJSON_AddNumberToObject(pa, "dma_transpose_sbuf", c->dma_transpose_sbuf_frac.value);
        cJSON_AddNumberToObject(pa, "pe_min_ii_cycles", c->pe_min_ii_cycles.value);
        cJSON_AddNumberToObject(pa, "sync_hz", r->engine[TRN_ENGINE_SP].hz);
        cJSON_AddNumberToObject(pa, "hbm_share_cores", t->opts.hbm_share_cores);
    }
    return root;
}

trn_status trn_timing_print_json(const trn_timing *t, FILE *f, trn_err *err) {
    cJSON *root = report_json(t);
    char *s = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!s) return trn_err_set(err, TRN_E_NOMEM, "timing JSON: out of memory");
    int ok = fputs(s, f) >= 0 && fputc('\n', f) != EOF;
    cJSON_free(s);
    return ok ? TRN_OK : trn_err_set(err, TRN_E_IO, "timing JSON: write failed");
}

/* Collective costs: alpha-beta formulas for ring, direct (mesh), recursive halving-doubling and
 * hierarchical algorithms over a group of ranks placed first + i x stride on the fabric's chips.
 * docs/fabric.md states each formula and its source (Thakur, Rabenseifner & Gropp 2005;
 * Patarasuk & Yuan 2009; the Neuron collective pages; nccl-tests' bus bandwidth).
 *
 * A group is split into its part inside one scale-up domain (m ranks) and its part across
 * domains (k = ceil(n / m) domains). Inside a domain the torus geometry of the m ranks gives the
 * links each algorithm can use; across domains every rank has its own NIC. O(dims + log n), no
 * allocation.
 *
 * Left out: contention with other collectives, pipelining of a flat ring across the domain
 * boundary beyond the multi-channel rate, in-network reduction (NVLink SHARP), LNC ranks. */
#include <math.h>

#include "fabric_impl.h"

static int is_pow2(int64_t x) {
    return x > 0 && (x & (x - 1)) == 0;
}

static int ilog2(int64_t x) { /* floor(log2 x), x >= 1 */
    int l = 0;
    while (x > 1) x >>= 1, l++;
    return l;
}

/* ---- the level inside one domain -------------------------------------------------------- */

/* The m ranks of stride s inside one domain. On a torus the chip index runs over dims[0]
 * fastest; the ranks cover, in each dimension, e positions h apart. A dimension they cover
 * whole (e x h = size, size >= 3) is a ring with two links per chip; a part of one is a line
 * with one usable link per chip and direction. */
static void intra_level(const trn_fabric *f, int64_t m, int64_t s, fab_level *L) {
    L->p = m;
    L->alpha = f->hop_s;
    L->msg = f->msg_s;
    L->nclass = 0;
    if (m <= 1) {
        L->ring_bps = L->p2p_bps = f->scaleup_bps;
        L->mesh_spb = 0;
        return;
    }
    if (!f->torus) {
        double b = f->switch_bps;
        L->ring_bps = L->p2p_bps = b;
        L->mesh_spb = (double)(m - 1) / (double)m / b;
        L->nclass = 1;
        L->rhd_steps[0] = ilog2(m);
        L->rhd_bps[0] = b;
        L->rhd_alpha[0] = f->hop_s;
        return;
    }
    int e[FAB_MAX_DIMS], links[FAB_MAX_DIMS], h[FAB_MAX_DIMS];
    int regular = 1;
    int64_t rem = m, st = s;
    for (int d = 0; d < f->ndims; d++) {
        int64_t size = f->dims[d];
        e[d] = 1, h[d] = 1, links[d] = 0;
        if (rem <= 1) continue;
        if (st >= size) {
            if (st % size) regular = 0;
            st /= size;
            continue;
        }
        if (size % st) {
            regular = 0;
            break;
        }
        int64_t span = size / st; /* positions the stride visits in this dimension */
        int64_t ext = rem < span ? rem : span;
        e[d] = (int)ext;
        h[d] = (int)st;
        links[d] = (ext == span && size >= 3) ? 2 : 1;
        rem = (rem + ext - 1) / ext;
        st = 1;
    }
    if (!regular || rem > 1) {
        /* A stride that does not follow the torus dimensions: one ring over one link of the
         * slowest dimension; direct traffic as on a ring of m over that one link (distance
         * sum floor(m^2/4) x S/m bytes). */
        double b = f->link_bps[0];
        for (int d = 1; d < f->ndims; d++)
            if (f->link_bps[d] < b) b = f->link_bps[d];
        L->ring_bps = L->p2p_bps = b;
        L->mesh_spb = (double)(m / 2) * (double)((m + 1) / 2) / (double)m / b;
        L->nclass = 1;
        L->rhd_steps[0] = ilog2(m);
        L->rhd_bps[0] = b;
        L->rhd_alpha[0] = f->hop_s;
        return;
    }
    L->ring_bps = 0;
    L->mesh_spb = 0;
    L->p2p_bps = 0;
    int order[FAB_MAX_DIMS], nused = 0;
    for (int d = 0; d < f->ndims; d++) {
        if (e[d] < 2) continue;
        double b = f->link_bps[d];
        L->ring_bps += links[d] * b;
        if (L->p2p_bps == 0) L->p2p_bps = b; /* rank i+1 sits in the first covered dimension */
        /* Direct traffic: each rank sends S/m to every other; the bytes crossing dimension d
         * are S/m x (sum of the d-distances to all peers) x h, spread over the rank's links
         * of dimension d. Distance sums from the worst-placed rank: ring floor(e^2/4), line
         * e(e-1)/2. */
        double dist = links[d] == 2 && e[d] * h[d] == f->dims[d] ? (double)(e[d] * e[d] / 4)
                                                                 : (double)e[d] * (e[d] - 1) / 2.0;
        double others = (double)m / e[d];
        double t = dist * h[d] * others / (double)m / (links[d] * b);
        if (t > L->mesh_spb) L->mesh_spb = t;
        order[nused++] = d;
    }
    /* Recursive halving: the big early steps go to the fastest links. */
    for (int i = 1; i < nused; i++)
        for (int j = i; j > 0 && f->link_bps[order[j]] > f->link_bps[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1], order[j - 1] = t;
        }
    for (int i = 0; i < nused; i++) {
        int d = order[i];
        L->rhd_steps[i] = ilog2(e[d]);
        L->rhd_bps[i] = f->link_bps[d];
        L->rhd_alpha[i] = f->hop_s;
    }
    L->nclass = nused;
}

/* ---- levels across domains ---------------------------------------------------------------- */

/* Latency and per-rank rate across domains for a group spanning `span` chips. */
static void scaleout(const trn_fabric *f, int64_t span, double *alpha, double *bps) {
    int lv = fab_tree_levels(f, span);
    *alpha = f->efa_s + 2.0 * (lv - 1) * f->switch_s;
    *bps = lv > 1 ? f->efa_bps / f->oversub : f->efa_bps;
}

/* k domains, one rank each (the inter-domain step of a hierarchical algorithm, or a group
 * whose stride is a whole domain). */
static void inter_level(int64_t k, double alpha, double bps, double msg, fab_level *L) {
    L->p = k;
    L->alpha = alpha;
    L->msg = msg;
    L->ring_bps = L->p2p_bps = bps;
    L->mesh_spb = k > 1 ? (double)(k - 1) / (double)k / bps : 0;
    L->nclass = 1;
    L->rhd_steps[0] = ilog2(k);
    L->rhd_bps[0] = bps;
    L->rhd_alpha[0] = alpha;
}

/* All n = m x k ranks as one flat group: every step waits for its slowest link. A ring
 * crosses each domain boundary on m channels at once, one per NIC (Trn1's multi-channel flat
 * ring [CCINTER], NCCL's rings); direct traffic sends (n-m)/n of its bytes over the rank's own
 * NIC; RHD pairs inside the domain for its first log2 m steps. */
static void flat_level(const fab_level *in, int64_t n, int64_t m, double alpha, double bps,
                       double msg, fab_level *L) {
    L->p = n;
    L->alpha = alpha;
    L->msg = msg;
    double agg = (double)m * bps;
    L->ring_bps = in->p > 1 && in->ring_bps < agg ? in->ring_bps : agg;
    L->p2p_bps = bps;
    double a = in->mesh_spb * (double)m / (double)n; /* pieces are S/n, not S/m */
    double b = (double)(n - m) / (double)n / bps;
    L->mesh_spb = a > b ? a : b;
    int left = ilog2(n), nc = 0, intra = ilog2(m);
    for (int c = 0; c < in->nclass && intra > 0 && left > 0; c++) {
        int st = in->rhd_steps[c] < intra ? in->rhd_steps[c] : intra;
        if (st <= 0) continue;
        L->rhd_steps[nc] = st;
        L->rhd_bps[nc] = in->rhd_bps[c];
        L->rhd_alpha[nc] = in->rhd_alpha[c];
        nc++;
        intra -= st, left -= st;
    }
    if (left > 0) {
        L->rhd_steps[nc] = left;
        L->rhd_bps[nc] = bps;
        L->rhd_alpha[nc] = alpha;
        nc++;
    }
    L->nclass = nc;
}

/* ---- the formulas ------------------------------------------------------------------------- */

typedef struct part {
    double lat, bw;
    int steps;
} part;

static void add(part *a, part b) {
    a->lat += b.lat;
    a->bw += b.bw;
    a->steps += b.steps;
}

/* Reduce-scatter of S bytes per rank (or, the same cost mirrored, all-gather to S bytes). */
static part rs_cost(const fab_level *L, trn_coll_algo algo, double S) {
    part r = {0, 0, 0};
    int64_t p = L->p;
    if (p <= 1) return r;
    double frac = (double)(p - 1) / (double)p;
    switch (algo) {
    case TRN_ALGO_RING: /* p-1 steps, (p-1)/p S over the ring rate [Patarasuk & Yuan 2009] */
        r.steps = (int)(p - 1);
        r.lat = (double)(p - 1) * (L->alpha + L->msg);
        r.bw = frac * S / L->ring_bps;
        break;
    case TRN_ALGO_MESH: /* one direct step: p-1 messages of S/p [CCINTRA 2-step mesh] */
        r.steps = 1;
        r.lat = L->alpha + (double)(p - 1) * L->msg;
        r.bw = S * L->mesh_spb;
        break;
    default: { /* RHD: log2 p steps of S/2, S/4, ... [Thakur et al. 2005, recursive halving] */
        double piece = S;
        for (int c = 0; c < L->nclass; c++)
            for (int i = 0; i < L->rhd_steps[c]; i++) {
                piece *= 0.5;
                r.steps++;
                r.lat += L->rhd_alpha[c] + L->msg;
                r.bw += piece / L->rhd_bps[c];
            }
        break;
    }
    }
    return r;
}

static part bcast_cost(const fab_level *L, trn_coll_algo algo, double S) {
    part r = {0, 0, 0};
    int64_t p = L->p;
    if (p <= 1) return r;
    switch (algo) {
    case TRN_ALGO_RING: /* pipelined chain: p-1 steps of latency, S once over the ring */
        r.steps = (int)(p - 1);
        r.lat = (double)(p - 1) * (L->alpha + L->msg);
        r.bw = S / L->ring_bps;
        break;
    case TRN_ALGO_MESH: /* direct scatter + direct all-gather [van de Geijn; Thakur et al.] */
        r.steps = 2;
        r.lat = 2.0 * (L->alpha + (double)(p - 1) * L->msg);
        r.bw = 2.0 * S * L->mesh_spb;
        break;
    default: /* binomial tree: log2 p steps, each the whole message [Thakur et al. 2005] */
        for (int c = 0; c < L->nclass; c++) {
            r.steps += L->rhd_steps[c];
            r.lat += L->rhd_steps[c] * (L->rhd_alpha[c] + L->msg);
            r.bw += L->rhd_steps[c] * S / L->rhd_bps[c];
        }
        break;
    }
    return r;
}

static part a2a_cost(const fab_level *L, trn_coll_algo algo, double S) {
    part r = {0, 0, 0};
    int64_t p = L->p;
    if (p <= 1) return r;
    switch (algo) {
    case TRN_ALGO_RING: /* store-and-forward ring: chunk j travels j hops, S(p-1)/2 sent */
        r.steps = (int)(p - 1);
        r.lat = (double)(p - 1) * (L->alpha + L->msg);
        r.bw = S * (double)(p - 1) / 2.0 / L->ring_bps;
        break;
    case TRN_ALGO_MESH: /* direct (pairwise): p-1 messages of S/p at once */
        r.steps = 1;
        r.lat = L->alpha + (double)(p - 1) * L->msg;
        r.bw = S * L->mesh_spb;
        break;
    default: /* Bruck: log2 p steps of S/2 [Thakur et al. 2005] */
        for (int c = 0; c < L->nclass; c++) {
            r.steps += L->rhd_steps[c];
            r.lat += L->rhd_steps[c] * (L->rhd_alpha[c] + L->msg);
            r.bw += L->rhd_steps[c] * (S / 2.0) / L->rhd_bps[c];
        }
        break;
    }
    return r;
}

static part p2p_cost(const fab_level *L, double S) {
    part r = {L->alpha + L->msg, S / L->p2p_bps, 1};
    return r;
}

/* One collective at one level with a concrete flat algorithm. */
static part level_cost(const fab_level *L, trn_coll c, trn_coll_algo algo, double S) {
    part r = {0, 0, 0};
    switch (c) {
    case TRN_COLL_ALLREDUCE: /* reduce-scatter + all-gather [Rabenseifner; Patarasuk & Yuan] */
        r = rs_cost(L, algo, S);
        add(&r, rs_cost(L, algo, S));
        break;
    case TRN_COLL_ALLGATHER:
    case TRN_COLL_REDUCE_SCATTER: r = rs_cost(L, algo, S); break;
    case TRN_COLL_ALLTOALL: r = a2a_cost(L, algo, S); break;
    case TRN_COLL_BROADCAST: r = bcast_cost(L, algo, S); break;
    default: r = p2p_cost(L, S); break;
    }
    return r;
}

/* The fastest legal flat algorithm at a level (ring, mesh, RHD when p is a power of two). */
static part best_cost(const fab_level *L, trn_coll c, double S) {
    part best = level_cost(L, c, TRN_ALGO_RING, S);
    part m = level_cost(L, c, TRN_ALGO_MESH, S);
    if (m.lat + m.bw < best.lat + best.bw) best = m;
    if (is_pow2(L->p)) {
        part h = level_cost(L, c, TRN_ALGO_RHD, S);
        if (h.lat + h.bw < best.lat + best.bw) best = h;
    }
    return best;
}

/* Hierarchical [CCINTER]: allreduce = RS inside + allreduce across on S/m + AG inside;
 * reduce-scatter = RS inside, RS across on S/m; all-gather = AG across on S/m, AG inside;
 * broadcast = scatter inside, broadcast across on S/m (m NICs at once), AG inside;
 * all-to-all = inside (regroup by destination domain), then across on S. */
static part hier_cost(const fab_level *in, const fab_level *out, trn_coll c, double S) {
    double m = (double)in->p;
    part r = {0, 0, 0};
    switch (c) {
    case TRN_COLL_ALLREDUCE:
        r = best_cost(in, TRN_COLL_REDUCE_SCATTER, S);
        add(&r, best_cost(out, TRN_COLL_ALLREDUCE, S / m));
        add(&r, best_cost(in, TRN_COLL_ALLGATHER, S));
        break;
    case TRN_COLL_REDUCE_SCATTER:
        r = best_cost(in, TRN_COLL_REDUCE_SCATTER, S);
        add(&r, best_cost(out, TRN_COLL_REDUCE_SCATTER, S / m));
        break;
    case TRN_COLL_ALLGATHER:
        r = best_cost(out, TRN_COLL_ALLGATHER, S / m);
        add(&r, best_cost(in, TRN_COLL_ALLGATHER, S));
        break;
    case TRN_COLL_BROADCAST:
        r = best_cost(in, TRN_COLL_REDUCE_SCATTER, S); /* a scatter moves the same bytes */
        add(&r, best_cost(out, TRN_COLL_BROADCAST, S / m));
        add(&r, best_cost(in, TRN_COLL_ALLGATHER, S));
        break;
    default: /* all-to-all */
        r = best_cost(in, TRN_COLL_ALLTOALL, S);
        add(&r, best_cost(out, TRN_COLL_ALLTOALL, S));
        break;
    }
    return r;
}

static double bus_factor(trn_coll c, int64_t n) {
    switch (c) {
    case TRN_COLL_ALLREDUCE: return 2.0 * (double)(n - 1) / (double)n;
    case TRN_COLL_ALLGATHER:
    case TRN_COLL_REDUCE_SCATTER:
    case TRN_COLL_ALLTOALL: return (double)(n - 1) / (double)n;
    default: return 1.0;
    }
}

trn_status trn_fabric_collective(const trn_fabric *f, trn_coll c, const trn_fabric_group *g,
                                 double bytes, trn_coll_algo algo, trn_coll_cost *out,
                                 trn_err *err) {
    if (!f || !g || !out) return trn_err_set(err, TRN_E_INVALID, "collective: NULL argument");
    trn_coll_cost zero = {0};
    zero.algo = (unsigned)algo < TRN_ALGO_COUNT && algo != TRN_ALGO_AUTO ? algo : TRN_ALGO_RING;
    zero.ranks_per_domain = zero.domains = 1;
    *out = zero;
    if ((unsigned)c >= TRN_COLL_COUNT)
        return trn_err_set(err, TRN_E_INVALID, "collective %d: expected 0 to %d", (int)c,
                           TRN_COLL_COUNT - 1);
    if ((unsigned)algo >= TRN_ALGO_COUNT)
        return trn_err_set(err, TRN_E_INVALID, "collective algorithm %d: expected 0 to %d",
                           (int)algo, TRN_ALGO_COUNT - 1);
    int64_t n = g->size, s = g->stride;
    if (n < 1)
        return trn_err_set(err, TRN_E_RANGE, "%s: group size %lld: expected at least 1",
                           trn_coll_name(c), (long long)n);
    if (s < 1)
        return trn_err_set(err, TRN_E_RANGE, "%s: group stride %lld: expected at least 1",
                           trn_coll_name(c), (long long)s);
    if (s > f->chips || n > f->chips / s)
        return trn_err_set(err, TRN_E_RANGE,
                           "%s: a group of %lld ranks with stride %lld needs more chips than "
                           "the fabric's %lld (size x stride must be <= chips)",
                           trn_coll_name(c), (long long)n, (long long)s, (long long)f->chips);
    if (!(bytes >= 0) || isinf(bytes))
        return trn_err_set(err, TRN_E_RANGE, "%s: %g bytes: expected a finite number >= 0",
                           trn_coll_name(c), bytes);
    if (n == 1) return TRN_OK;

    /* The part inside one domain: ranks 0..m-1 share domain 0 (groups are aligned). */
    int64_t m = s >= f->domain ? 1 : f->domain / s;
    if (m > n) m = n;
    int64_t k = (n + m - 1) / m;
    out->ranks_per_domain = m;
    out->domains = k;

    if (c == TRN_COLL_P2P && algo != TRN_ALGO_AUTO && algo != TRN_ALGO_RING)
        return trn_err_set(err, TRN_E_UNSUPPORTED,
                           "p2p is one send to the next rank: algorithm '%s' does not apply "
                           "(use auto or ring)",
                           trn_coll_algo_name(algo));
    if (algo == TRN_ALGO_RHD && !is_pow2(n))
        return trn_err_set(err, TRN_E_UNSUPPORTED,
                           "%s: recursive halving-doubling needs a power-of-two group, got %lld "
                           "ranks",
                           trn_coll_name(c), (long long)n);
    if (algo == TRN_ALGO_HIERARCHICAL && k == 1)
        return trn_err_set(err, TRN_E_UNSUPPORTED,
                           "%s: hierarchical needs a group that spans scale-up domains; %lld "
                           "ranks with stride %lld stay inside one domain of %lld chips",
                           trn_coll_name(c), (long long)n, (long long)s, (long long)f->domain);

    if (bytes == 0) return TRN_OK; /* nothing to send */

    fab_level in, flat, across;
    intra_level(f, m, s, &in);
    if (k == 1) {
        flat = in;
    } else {
        double a, b;
        scaleout(f, (n - 1) * s + 1, &a, &b);
        flat_level(&in, n, m, a, b, f->msg_s, &flat);
        inter_level(k, a, b, f->msg_s, &across);
    }

    part best = {0, 0, 0};
    trn_coll_algo chosen = algo;
    if (algo == TRN_ALGO_AUTO) {
        static const trn_coll_algo cand[] = {TRN_ALGO_RING, TRN_ALGO_MESH, TRN_ALGO_RHD,
                                             TRN_ALGO_HIERARCHICAL};
        double bt = INFINITY;
        for (unsigned i = 0; i < sizeof cand / sizeof cand[0]; i++) {
            trn_coll_algo a = cand[i];
            if (c == TRN_COLL_P2P && a != TRN_ALGO_RING) continue;
            if (a == TRN_ALGO_RHD && !is_pow2(n)) continue;
            if (a == TRN_ALGO_HIERARCHICAL && k == 1) continue;
            part p = a == TRN_ALGO_HIERARCHICAL ? hier_cost(&in, &across, c, bytes)
                                                : level_cost(&flat, c, a, bytes);
            if (p.lat + p.bw < bt) bt = p.lat + p.bw, best = p, chosen = a;
        }
    } else if (algo == TRN_ALGO_HIERARCHICAL) {
        best = hier_cost(&in, &across, c, bytes);
    } else {
        best = level_cost(&flat, c, algo, bytes);
    }
    out->latency_s = best.lat;
    out->bandwidth_s = best.bw;
    out->time_s = best.lat + best.bw;
    out->algo = chosen;
    out->steps = best.steps;
    out->crosses_domains = k > 1;
    out->bus_bw_bps = out->time_s > 0 ? bytes / out->time_s * bus_factor(c, n) : 0;
    return TRN_OK;
}

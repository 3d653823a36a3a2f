/* The fabric object: a catalog system's topology and link figures turned into the per-link,
 * per-direction rates and per-step latencies the collective costs use (coll.c). Everything
 * that depends only on the system and the chip count is computed here, once, so a collective
 * costs O(dims + log n) with no allocation.
 *
 * Left out: the topology of the scale-out network beyond its tier count (every tier is a
 * full-bisection or uniformly oversubscribed fat tree), link failures, adaptive routing. */
#include <math.h>
#include <stdlib.h>

#include "fabric_impl.h"

static const char *const coll_names[TRN_COLL_COUNT] = {
    "allreduce", "allgather", "reduce-scatter", "all-to-all", "broadcast", "p2p",
};
static const char *const algo_names[TRN_ALGO_COUNT] = {
    "auto", "ring", "mesh", "rhd", "hierarchical",
};

const char *trn_coll_name(trn_coll c) {
    return (unsigned)c < TRN_COLL_COUNT ? coll_names[c] : NULL;
}

const char *trn_coll_algo_name(trn_coll_algo a) {
    return (unsigned)a < TRN_ALGO_COUNT ? algo_names[a] : NULL;
}

/* Chips one tier-L fat tree reaches: a leaf has radix x o/(1+o) down ports (o = down:up
 * oversubscription); tier 2 joins `radix` leaves; each tier above multiplies by radix/2 (the
 * folded Clos of Leiserson's fat trees: k ports give k^2/2 hosts in two tiers at o = 1). */
int fab_tree_levels(const trn_fabric *f, int64_t chips) {
    if (!f->has_efa) return 0;
    double reach = floor(f->radix * f->oversub / (1.0 + f->oversub));
    if (reach < 1) reach = 1;
    int levels = 1;
    while (reach < (double)chips && levels < 16) {
        reach *= levels == 1 ? f->radix : f->radix / 2;
        levels++;
    }
    return levels;
}

static trn_status need(const trn_hw_system *s, const trn_hw_num *n, const char *field,
                       const char *why, trn_err *err) {
    if (n->origin != TRN_HW_ABSENT) return TRN_OK;
    return trn_err_set(err, TRN_E_INVALID,
                       "system '%s' has no %s: the fabric model needs it%s (docs/fabric.md)",
                       s->name, field, why);
}

trn_status trn_fabric_create(const trn_hw_system *sys, int64_t chips, trn_fabric **out,
                             trn_err *err) {
    if (out) *out = NULL;
    if (!sys || !out) return trn_err_set(err, TRN_E_INVALID, "fabric: NULL system or output");
    if (chips < 1 || chips > 1000000)
        return trn_err_set(err, TRN_E_RANGE,
                           "fabric of %lld chips: expected 1 to 1,000,000 (the largest "
                           "UltraCluster)",
                           (long long)chips);
    trn_status st;
    if ((st = need(sys, &sys->scaleup_send_frac, "scaleup_send_frac", "", err)) ||
        (st = need(sys, &sys->scaleup_efficiency, "scaleup_efficiency", "", err)) ||
        (st = need(sys, &sys->msg_overhead_ns, "msg_overhead_ns", "", err)))
        return st;
    int64_t domain = (int64_t)sys->scaleup_domain.value;
    if (chips > domain) {
        const char *why = " to join more than one scale-up domain";
        if ((st = need(sys, &sys->efa_bps, "efa_bps", why, err)) ||
            (st = need(sys, &sys->efa_latency_ns, "efa_latency_ns", why, err)) ||
            (st = need(sys, &sys->efa_efficiency, "efa_efficiency", why, err)) ||
            (st = need(sys, &sys->efa_switch_latency_ns, "efa_switch_latency_ns", why, err)) ||
            (st = need(sys, &sys->efa_switch_radix, "efa_switch_radix", why, err)) ||
            (st = need(sys, &sys->efa_oversubscription, "efa_oversubscription", why, err)))
            return st;
        if (sys->efa_switch_radix.value < 2)
            return trn_err_set(err, TRN_E_INVALID,
                               "system '%s': efa_switch_radix %g: expected at least 2", sys->name,
                               sys->efa_switch_radix.value);
    }

    /* The scale-up topology: an UltraCluster's ("fabric") is its node's. */
    const trn_hw_topology *topo = &sys->topology;
    if (topo->kind == TRN_HW_TOPO_FABRIC) {
        if (!sys->node || sys->node->topology.kind == TRN_HW_TOPO_FABRIC)
            return trn_err_set(err, TRN_E_INVALID,
                               "system '%s': a fabric topology needs a node system with a torus, "
                               "ring or switch topology",
                               sys->name);
        topo = &sys->node->topology;
    }

    trn_fabric *f = calloc(1, sizeof *f);
    if (!f) return trn_err_set(err, TRN_E_NOMEM, "fabric: out of memory");
    f->sys = sys;
    f->chips = chips;
    f->domain = domain;
    double send = sys->scaleup_bw_bps.value * sys->scaleup_send_frac.value;
    double eff = sys->scaleup_efficiency.value;
    f->scaleup_bps = send * eff;
    if (topo->kind == TRN_HW_TOPO_SWITCH) {
        f->torus = 0;
        f->switch_bps = send * eff;
    } else {
        f->torus = 1;
        if (topo->kind == TRN_HW_TOPO_RING || topo->ndims < 1) {
            f->ndims = 1;
            f->dims[0] = (int)domain;
        } else {
            f->ndims = topo->ndims;
            for (int d = 0; d < topo->ndims; d++) f->dims[d] = topo->dims[d];
        }
        /* Each dimension has two links per chip (+ and -). An UltraServer built of torus
         * instances keeps the instance's links for the instance's dimensions and spreads the
         * rest of its per-chip bandwidth over the added ones (Trn2 UltraServer: 1,024 GB/s on
         * X/Y, 256 GB/s on Z [TRN2-SYS]). Otherwise all links are equal. */
        const trn_hw_system *node = sys->node;
        int inner = 0;
        if (node && node->topology.kind == TRN_HW_TOPO_TORUS && node->topology.ndims < f->ndims &&
            node->scaleup_bw_bps.value < sys->scaleup_bw_bps.value) {
            inner = node->topology.ndims;
            for (int d = 0; d < inner; d++)
                if (node->topology.dims[d] != f->dims[d]) inner = 0;
        }
        for (int d = 0; d < f->ndims; d++) {
            double bw;
            if (inner && d < inner)
                bw = node->scaleup_bw_bps.value / (2.0 * inner);
            else if (inner)
                bw = (sys->scaleup_bw_bps.value - node->scaleup_bw_bps.value) /
                     (2.0 * (f->ndims - inner));
            else
                bw = sys->scaleup_bw_bps.value / (2.0 * f->ndims);
            f->link_bps[d] = bw * sys->scaleup_send_frac.value * eff;
        }
    }
    f->hop_s = sys->hop_latency_ns.value * 1e-9;
    f->msg_s = sys->msg_overhead_ns.value * 1e-9;
    if (chips > domain) {
        f->has_efa = 1;
        f->efa_bps = sys->efa_bps.value * sys->efa_efficiency.value;
        f->efa_s = sys->efa_latency_ns.value * 1e-9;
        f->switch_s = sys->efa_switch_latency_ns.value * 1e-9;
        f->radix = sys->efa_switch_radix.value;
        f->oversub = sys->efa_oversubscription.value;
        f->tree_levels = fab_tree_levels(f, chips);
    }
    *out = f;
    return TRN_OK;
}

void trn_fabric_destroy(trn_fabric *f) {
    free(f);
}

void trn_fabric_get_info(const trn_fabric *f, trn_fabric_info *out) {
    out->chips = f->chips;
    out->domain = f->domain;
    out->scaleup_bps = f->scaleup_bps;
    out->hop_latency_s = f->hop_s;
    out->scaleout_bps = f->has_efa ? f->efa_bps : 0;
    out->scaleout_latency_s = f->has_efa ? f->efa_s : 0;
    out->tree_levels = f->tree_levels;
}

/* Private declarations of the fabric layer: the fabric object (the catalog parameters turned
 * into per-link, per-direction rates and per-step latencies once, at create time) and the
 * per-level view the collective costs are computed from. */
#ifndef TRN_FABRIC_IMPL_H
#define TRN_FABRIC_IMPL_H

#include "trnsim/fabric.h"

#define FAB_MAX_DIMS    4
#define FAB_MAX_CLASSES (FAB_MAX_DIMS + 1) /* RHD step classes: torus dims + scale-out */

struct trn_fabric {
    const trn_hw_system *sys; /* borrowed */
    int64_t chips;
    int64_t domain;         /* chips per scale-up domain */
    int torus;              /* 1: torus (or ring) links, 0: a switch, all-to-all */
    int ndims;              /* torus dimensions */
    int dims[FAB_MAX_DIMS]; /* chips along each (dims[0] varies fastest with the chip index) */
    double link_bps[FAB_MAX_DIMS]; /* torus: one link of that dimension, one direction, after
                                      the efficiency factor */
    double switch_bps;             /* switch: one chip into the switch, one direction, effective */
    double scaleup_bps;            /* all of a chip's scale-up links, one direction, effective */
    double hop_s;                  /* scale-up per-step latency */
    double msg_s;                  /* per-message issue cost */
    int has_efa;                   /* 0 when the fabric is one domain */
    double efa_bps;                /* per chip, one direction, effective */
    double efa_s;                  /* EFA latency through one switch tier */
    double switch_s;               /* one more switch traversal */
    double radix;                  /* ports per scale-out switch */
    double oversub;                /* leaf down:up ratio */
    int tree_levels;               /* for the whole fabric */
};

/* One level of a collective (inside a domain, across domains, or both flattened): what the
 * alpha-beta formulas of coll.c need. */
typedef struct fab_level {
    int64_t p;       /* ranks */
    double alpha;    /* per-step latency of the slowest step (s) */
    double msg;      /* per-message issue cost (s) */
    double ring_bps; /* per-rank send rate of ring collectives (all usable rings) */
    double mesh_spb; /* seconds per byte of S for one direct phase in which each rank
                        sends S/p to each of the p-1 others (link congestion included) */
    double p2p_bps;  /* one send to the next rank */
    int nclass;      /* RHD step classes, in the order the halving uses them */
    int rhd_steps[FAB_MAX_CLASSES];
    double rhd_bps[FAB_MAX_CLASSES];
    double rhd_alpha[FAB_MAX_CLASSES];
} fab_level;

/* Fat-tree levels a span of `chips` consecutive chips needs (1 = one leaf switch). */
int fab_tree_levels(const trn_fabric *f, int64_t chips);

#endif

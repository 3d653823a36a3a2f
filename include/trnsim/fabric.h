/* trnsim fabric layer: how long collectives take on a real topology.
 *
 * A fabric is N chips (or GPUs) of one catalog system (hw/systems.json): chips inside a
 * scale-up domain are joined by NeuronLink (a torus on trn1/trn2 and the Trn2 UltraServer),
 * NeuronSwitch (Trn3 UltraServers, all-to-all) or NVLink (GPU systems); domains are joined by
 * EFA / InfiniBand through a two-level fat tree, up to 1,000,000 chips. Collective algorithms
 * follow trainium-facts.md §4.3 (ring, mesh / direct, recursive halving-doubling, hierarchical),
 * the fastest legal one chosen by message size unless one is asked for; each is an alpha-beta
 * cost with the topology's per-hop latency and per-link bandwidth. docs/fabric.md lists the
 * formulas and their sources.
 *
 * Deliberately left out: moving data (the functional collectives of a multi-chip run), contention
 * between collectives running at the same time (the caller decides what overlaps), transports. */
#ifndef TRNSIM_FABRIC_H
#define TRNSIM_FABRIC_H

#include <stdint.h>

#include "trnsim/base.h"
#include "trnsim/hw.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum trn_coll {
    TRN_COLL_ALLREDUCE,
    TRN_COLL_ALLGATHER,      /* bytes: the gathered (output) size on each rank */
    TRN_COLL_REDUCE_SCATTER, /* bytes: the input size on each rank */
    TRN_COLL_ALLTOALL,       /* bytes: what each rank sends in all (bytes / n to each peer) */
    TRN_COLL_BROADCAST,
    TRN_COLL_P2P, /* one send between neighbouring ranks (pipeline stages) */
    TRN_COLL_COUNT
} trn_coll;

typedef enum trn_coll_algo {
    TRN_ALGO_AUTO, /* the fastest legal algorithm for this size and group */
    TRN_ALGO_RING,
    TRN_ALGO_MESH,         /* direct: every rank to every rank at once (switches, small groups) */
    TRN_ALGO_RHD,          /* recursive halving-doubling (power-of-two groups) */
    TRN_ALGO_HIERARCHICAL, /* inside each scale-up domain, across domains, inside again */
    TRN_ALGO_COUNT
} trn_coll_algo;

const char *trn_coll_name(trn_coll c);           /* "allreduce" ... */
const char *trn_coll_algo_name(trn_coll_algo a); /* "auto", "ring" ... */

typedef struct trn_fabric trn_fabric;

/* A fabric of `chips` chips of system `sys` (borrowed from the catalog; it must outlive the
 * fabric). chips < the system's own count uses part of one system; more spans several systems
 * joined by EFA/InfiniBand. TRN_E_RANGE for chips < 1 or > 1,000,000 (the message says the
 * limit), TRN_E_INVALID when the system lacks a field the model needs (named). */
trn_status trn_fabric_create(const trn_hw_system *sys, int64_t chips, trn_fabric **out,
                             trn_err *err);
void trn_fabric_destroy(trn_fabric *f); /* NULL is a no-op */

/* A communicator: `size` ranks, rank i on chip first + i x stride (stride 1: consecutive chips,
 * e.g. TP inside a domain; stride = TP x PP: DP ranks spread across domains). */
typedef struct trn_fabric_group {
    int64_t size;
    int64_t stride;
} trn_fabric_group;

/* What a collective costs. time_s = latency_s + bandwidth_s. */
typedef struct trn_coll_cost {
    double time_s;
    double latency_s;         /* the alpha terms: steps x per-step latency */
    double bandwidth_s;       /* the beta terms: bytes on the slowest link / its bandwidth */
    trn_coll_algo algo;       /* the algorithm used (never AUTO) */
    int steps;                /* communication steps */
    double bus_bw_bps;        /* algorithm bandwidth as nccl-tests define busbw */
    int crosses_domains;      /* 1 when part of the traffic leaves the scale-up domain */
    int64_t ranks_per_domain; /* m: the group's ranks inside one scale-up domain */
    int64_t domains;          /* k = ceil(size / m): scale-up domains the group spans */
} trn_coll_cost;

/* Cost of collective `c` of `bytes` per rank over `g` with algorithm `algo`. TRN_E_RANGE for a
 * group that does not fit the fabric (size < 1, stride < 1, size x stride > chips) or bytes
 * negative or not finite; TRN_E_INVALID for an unknown collective or algorithm;
 * TRN_E_UNSUPPORTED for an algorithm illegal for the group: RHD on a non-power-of-two,
 * HIERARCHICAL on a group inside one scale-up domain, anything but AUTO/RING for P2P. A group
 * of one, or zero bytes, costs 0. Groups are aligned (first = 0 in the formula above): ranks
 * 0..m-1 share a domain, m = min(size, domain / stride). O(dims + log size), no allocation,
 * thread-safe (the fabric is read-only). */
trn_status trn_fabric_collective(const trn_fabric *f, trn_coll c, const trn_fabric_group *g,
                                 double bytes, trn_coll_algo algo, trn_coll_cost *out,
                                 trn_err *err);

/* The fabric's parameters as used (per chip): scale-up domain size and link bandwidth, hop
 * latency, scale-out bandwidth and latency, fat-tree levels for the fabric's chip count. */
typedef struct trn_fabric_info {
    int64_t chips;
    int64_t domain;     /* chips per scale-up domain */
    double scaleup_bps; /* per chip, all links, one direction, after scaleup_efficiency */
    double hop_latency_s;
    double scaleout_bps;       /* per chip (EFA / InfiniBand), one direction, after
                                  efa_efficiency; 0 for a fabric of one domain */
    double scaleout_latency_s; /* through one leaf switch; 0 for one domain */
    int tree_levels; /* 0: one domain; else fat-tree switch tiers the fabric's chips need (1:
                        one leaf; from efa_switch_radix, e.g. 3 for 1,000,000 at radix 256) */
} trn_fabric_info;
void trn_fabric_get_info(const trn_fabric *f, trn_fabric_info *out);

#ifdef __cplusplus
}
#endif
#endif

/* The fabric layer: every algorithm against its closed form, worked out here from the catalog
 * fields (not from the library's intermediate values); AUTO picks the latency-optimal algorithm
 * for small messages and the bandwidth-optimal one for large; costs grow with bytes and group
 * size; a group of one costs nothing; leaving the scale-up domain costs more; 1,000,000 chips
 * work; bad input fails with messages; one published measurement (nccl-tests ring allreduce
 * bus bandwidth on 8 x H100) within its tolerance.
 *
 * `test_fabric --table` prints the example table of docs/fabric.md instead.
 * LABELS: unit */
#include <stdint.h>
#include <time.h>

#include "harness.h"
#include "trnsim/fabric.h"

#define GIB (1024.0 * 1024.0 * 1024.0)
#define MIB (1024.0 * 1024.0)

static trn_hw *hw;

/* Relative tolerance for closed forms: they repeat the library's arithmetic in another order. */
#define CHECK_REL(a, b) CHECK_NEAR((a), (b), fabs((double)(b)) * 1e-12)

static const trn_hw_system *sysget(const char *name) {
    const trn_hw_system *s = trn_hw_system_get(hw, name);
    CHECK_MSG(s != NULL, "system %s missing", name);
    return s;
}

static trn_fabric *fab(const char *name, int64_t chips) {
    trn_fabric *f = NULL;
    trn_err err = {0};
    const trn_hw_system *s = sysget(name);
    if (!s) return NULL;
    trn_status st = trn_fabric_create(s, chips, &f, &err);
    CHECK_MSG(st == TRN_OK && f, "fabric %s x %lld: %s", name, (long long)chips, err.msg);
    return f;
}

static trn_coll_cost cost(const trn_fabric *f, trn_coll c, int64_t n, int64_t stride, double bytes,
                          trn_coll_algo a) {
    trn_coll_cost r = {0};
    trn_err err = {0};
    trn_fabric_group g = {n, stride};
    trn_status st = trn_fabric_collective(f, c, &g, bytes, a, &r, &err);
    CHECK_MSG(st == TRN_OK, "%s %s n=%lld s=%lld: %s", trn_coll_name(c), trn_coll_algo_name(a),
              (long long)n, (long long)stride, err.msg);
    return r;
}

/* Per-step latency inside a domain and across: hop (or EFA) latency + one message's issue
 * cost, from the catalog. */
static double alpha_in(const trn_hw_system *s) {
    return (s->hop_latency_ns.value + s->msg_overhead_ns.value) * 1e-9;
}
static double alpha_out(const trn_hw_system *s, int switch_tiers) {
    return (s->efa_latency_ns.value + 2.0 * (switch_tiers - 1) * s->efa_switch_latency_ns.value +
            s->msg_overhead_ns.value) *
           1e-9;
}
/* One direction of everything a chip has, after the efficiency factor. */
static double chip_bps(const trn_hw_system *s) {
    return s->scaleup_bw_bps.value * s->scaleup_send_frac.value * s->scaleup_efficiency.value;
}
static double efa_bps(const trn_hw_system *s) {
    return s->efa_bps.value * s->efa_efficiency.value;
}

static void test_names(void) {
    CHECK(strcmp(trn_coll_name(TRN_COLL_ALLREDUCE), "allreduce") == 0);
    CHECK(strcmp(trn_coll_name(TRN_COLL_ALLTOALL), "all-to-all") == 0);
    CHECK(strcmp(trn_coll_algo_name(TRN_ALGO_RHD), "rhd") == 0);
    CHECK(strcmp(trn_coll_algo_name(TRN_ALGO_HIERARCHICAL), "hierarchical") == 0);
    CHECK(trn_coll_name(TRN_COLL_COUNT) == NULL);
    CHECK(trn_coll_algo_name((trn_coll_algo)-1) == NULL);
}

/* trn2.48xlarge: a 4 x 4 torus, 4 links per chip sharing 1,024 GB/s [TRN2-SYS]; a link sends
 * 1,024e9 / 4 x send share x efficiency one way. */
static void test_trn2_torus(void) {
    const trn_hw_system *s = sysget("trn2.48xlarge");
    trn_fabric *f = fab("trn2.48xlarge", 16);
    if (!s || !f) return;
    double S = GIB, b = s->scaleup_bw_bps.value / 4 * s->scaleup_send_frac.value *
                        s->scaleup_efficiency.value;
    double a = alpha_in(s), o = s->msg_overhead_ns.value * 1e-9;
    CHECK_NEAR(b, 102.4e9, 1); /* 1,024 GB/s / 4 links / 2 directions x 0.8 */

    /* ring allreduce, 16 ranks on all 4 links: 2(n-1) steps, 2(n-1)/n S / (4 b) */
    trn_coll_cost r = cost(f, TRN_COLL_ALLREDUCE, 16, 1, S, TRN_ALGO_RING);
    CHECK_REL(r.time_s, 30 * a + 2.0 * 15 / 16 * S / (4 * b));
    CHECK_REL(r.latency_s, 30 * a);
    CHECK_EQ_INT(r.steps, 30);
    CHECK_EQ_INT(r.algo, TRN_ALGO_RING);
    CHECK_EQ_INT(r.crosses_domains, 0);
    CHECK_REL(r.bus_bw_bps, S / r.time_s * 2 * 15 / 16);
    /* 1 GiB: 48 us of latency + 4.92 ms of transfer */
    CHECK_NEAR(r.time_s, 4.9632e-3, 1e-6);

    /* RHD: 2 log2 16 = 8 steps, each partner one link away (the torus as a 4-D hypercube
     * [CCINTRA]): 2 (S/2 + S/4 + S/8 + S/16) / b */
    r = cost(f, TRN_COLL_ALLREDUCE, 16, 1, S, TRN_ALGO_RHD);
    CHECK_REL(r.time_s, 8 * a + 2 * (S / 2 + S / 4 + S / 8 + S / 16) / b);
    CHECK_EQ_INT(r.steps, 8);

    /* mesh (2-step): each phase p-1 messages; every rank sends S/16 to each peer; a peer
     * 0,1,2,1 hops away per ring dimension: 4 ring-hops x 4 rows = 16 x S/16 per dimension
     * over its 2 links */
    r = cost(f, TRN_COLL_ALLREDUCE, 16, 1, S, TRN_ALGO_MESH);
    double phase_lat = s->hop_latency_ns.value * 1e-9 + 15 * o;
    CHECK_REL(r.time_s, 2 * phase_lat + 2 * (S / 16 * 16) / (2 * b));
    CHECK_EQ_INT(r.steps, 2);

    /* reduce-scatter and all-gather: half the ring allreduce */
    trn_coll_cost rs = cost(f, TRN_COLL_REDUCE_SCATTER, 16, 1, S, TRN_ALGO_RING);
    trn_coll_cost ag = cost(f, TRN_COLL_ALLGATHER, 16, 1, S, TRN_ALGO_RING);
    CHECK_REL(rs.time_s, 15 * a + 15.0 / 16 * S / (4 * b));
    CHECK_REL(ag.time_s, rs.time_s);
    CHECK_REL(rs.bus_bw_bps, S / rs.time_s * 15 / 16);

    /* TP = 4 along X (stride 1): one full ring of 4, 2 links */
    r = cost(f, TRN_COLL_ALLREDUCE, 4, 1, S, TRN_ALGO_RING);
    CHECK_REL(r.time_s, 6 * a + 2.0 * 3 / 4 * S / (2 * b));
    /* 8 ranks = 4 x 2: the X ring (2 links) + a line of 2 in Y (1 link) */
    r = cost(f, TRN_COLL_ALLREDUCE, 8, 1, S, TRN_ALGO_RING);
    CHECK_REL(r.time_s, 14 * a + 2.0 * 7 / 8 * S / (3 * b));
    /* 4 ranks of stride 4 run along Y: the same as along X */
    trn_coll_cost y = cost(f, TRN_COLL_ALLREDUCE, 4, 4, S, TRN_ALGO_RING);
    CHECK_REL(y.time_s, cost(f, TRN_COLL_ALLREDUCE, 4, 1, S, TRN_ALGO_RING).time_s);

    /* a stride that does not follow the dimensions (3 on a 4-wide torus): one link, direct
     * traffic as on a ring of 5 over it (distance sum 0+1+2+2+1 = 6 pieces of S/5) */
    r = cost(f, TRN_COLL_ALLREDUCE, 5, 3, S, TRN_ALGO_RING);
    CHECK_REL(r.time_s, 8 * a + 2.0 * 4 / 5 * S / b);
    r = cost(f, TRN_COLL_ALLREDUCE, 5, 3, S, TRN_ALGO_MESH);
    CHECK_REL(r.time_s, 2 * (s->hop_latency_ns.value * 1e-9 + 4 * o) + 2 * (6 * S / 5) / b);

    /* broadcast: ring = pipelined chain (n-1 steps, S once), RHD = binomial tree */
    r = cost(f, TRN_COLL_BROADCAST, 16, 1, S, TRN_ALGO_RING);
    CHECK_REL(r.time_s, 15 * a + S / (4 * b));
    CHECK_REL(r.bus_bw_bps, S / r.time_s);
    r = cost(f, TRN_COLL_BROADCAST, 16, 1, S, TRN_ALGO_RHD);
    CHECK_REL(r.time_s, 4 * a + 4 * S / b);

    /* all-to-all: direct = one phase of 15 messages with mesh congestion; ring forwards
     * S (n-1)/2; Bruck log2 n steps of S/2 */
    r = cost(f, TRN_COLL_ALLTOALL, 16, 1, S, TRN_ALGO_MESH);
    CHECK_REL(r.time_s, phase_lat + (S / 16 * 16) / (2 * b));
    r = cost(f, TRN_COLL_ALLTOALL, 16, 1, S, TRN_ALGO_RING);
    CHECK_REL(r.time_s, 15 * a + S * 15 / 2 / (4 * b));
    r = cost(f, TRN_COLL_ALLTOALL, 16, 1, S, TRN_ALGO_RHD);
    CHECK_REL(r.time_s, 4 * a + 4 * (S / 2) / b);

    /* p2p to the neighbour: one message over one link */
    r = cost(f, TRN_COLL_P2P, 2, 1, S, TRN_ALGO_AUTO);
    CHECK_REL(r.time_s, a + S / b);
    CHECK_REL(r.bus_bw_bps, S / r.time_s);
    trn_fabric_destroy(f);
}

/* Trn2 UltraServer: X/Y links from the instance (1,024 GB/s over 4), Z links from the rest
 * (256 GB/s over 2) [TRN2-SYS]. */
static void test_trn2_ultraserver(void) {
    const trn_hw_system *s = sysget("trn2-ultraserver"), *node = sysget("trn2.48xlarge");
    trn_fabric *f = fab("trn2-ultraserver", 64);
    if (!s || !node || !f) return;
    double sf = s->scaleup_send_frac.value * s->scaleup_efficiency.value;
    double bxy = node->scaleup_bw_bps.value / 4 * sf;
    double bz = (s->scaleup_bw_bps.value - node->scaleup_bw_bps.value) / 2 * sf;
    double a = alpha_in(s), S = 256 * MIB;
    CHECK_NEAR(bz, 51.2e9, 1);
    /* 4 ranks of stride 16 form the Z ring: 2 Z links */
    trn_coll_cost r = cost(f, TRN_COLL_ALLREDUCE, 4, 16, S, TRN_ALGO_RING);
    CHECK_REL(r.time_s, 6 * a + 1.5 * S / (2 * bz));
    /* all 64: six links */
    r = cost(f, TRN_COLL_ALLREDUCE, 64, 1, S, TRN_ALGO_RING);
    CHECK_REL(r.time_s, 126 * a + 2.0 * 63 / 64 * S / (4 * bxy + 2 * bz));
    /* RHD over 64: X, Y steps (2 each) on the fast links first, then Z's 2 */
    r = cost(f, TRN_COLL_ALLREDUCE, 64, 1, S, TRN_ALGO_RHD);
    double rs = S / 2 / bxy + S / 4 / bxy + S / 8 / bxy + S / 16 / bxy + S / 32 / bz + S / 64 / bz;
    CHECK_REL(r.time_s, 12 * a + 2 * rs);
    trn_fabric_destroy(f);
}

/* NVSwitch (p5.48xlarge, 8 x H100): every GPU reaches every other at its full rate. */
static void test_nvswitch(void) {
    const trn_hw_system *s = sysget("p5.48xlarge");
    trn_fabric *f = fab("p5.48xlarge", 8);
    if (!s || !f) return;
    double B = chip_bps(s), a = alpha_in(s), o = s->msg_overhead_ns.value * 1e-9, S = GIB;
    CHECK_NEAR(B, 360e9, 1); /* 900 GB/s / 2 x 0.8 */
    /* the GPU systems' scale-up figure is their GPU's NVLink figure */
    static const char *const gsys[] = {"p5.48xlarge", "p5e.48xlarge", "p6-b200.48xlarge",
                                       "gb200-nvl72"};
    for (int i = 0; i < 4; i++) {
        const trn_hw_system *gs = sysget(gsys[i]);
        CHECK(gs && gs->gpu && gs->scaleup_bw_bps.value == gs->gpu->nvlink_bw_bps.value);
    }
    trn_coll_cost r = cost(f, TRN_COLL_ALLREDUCE, 8, 1, S, TRN_ALGO_RING);
    CHECK_REL(r.time_s, 14 * a + 2.0 * 7 / 8 * S / B);
    r = cost(f, TRN_COLL_ALLREDUCE, 8, 1, S, TRN_ALGO_RHD);
    CHECK_REL(r.time_s, 6 * a + 2.0 * 7 / 8 * S / B);
    r = cost(f, TRN_COLL_ALLREDUCE, 8, 1, S, TRN_ALGO_MESH);
    double ph = s->hop_latency_ns.value * 1e-9 + 7 * o;
    CHECK_REL(r.time_s, 2 * ph + 2.0 * 7 / 8 * S / B);
    r = cost(f, TRN_COLL_ALLTOALL, 8, 1, S, TRN_ALGO_MESH);
    CHECK_REL(r.time_s, ph + 7.0 / 8 * S / B);
    r = cost(f, TRN_COLL_BROADCAST, 8, 1, S, TRN_ALGO_RING);
    CHECK_REL(r.time_s, 7 * a + S / B);
    trn_fabric_destroy(f);

    /* GB200 NVL72: one NVLink domain of 72, 1.8 TB/s per GPU */
    const trn_hw_system *g = sysget("gb200-nvl72");
    f = fab("gb200-nvl72", 72);
    if (!g || !f) return;
    r = cost(f, TRN_COLL_ALLGATHER, 72, 1, S, TRN_ALGO_RING);
    CHECK_REL(r.time_s, 71 * alpha_in(g) + 71.0 / 72 * S / chip_bps(g));
    CHECK_EQ_INT(r.crosses_domains, 0);
    trn_fabric_destroy(f);
}

/* Across domains: 4 trn2.48xlarge (64 chips) on EFA, one leaf switch tier. */
static void test_scaleout(void) {
    const trn_hw_system *s = sysget("trn2.48xlarge");
    trn_fabric *f = fab("trn2.48xlarge", 64);
    if (!s || !f) return;
    double S = GIB, b = s->scaleup_bw_bps.value / 4 * s->scaleup_send_frac.value *
                        s->scaleup_efficiency.value;
    double a = alpha_in(s), ax = alpha_out(s, 1), bx = efa_bps(s);
    double o = s->msg_overhead_ns.value * 1e-9;
    trn_fabric_info info;
    trn_fabric_get_info(f, &info);
    CHECK_EQ_INT(info.domain, 16);
    CHECK_EQ_INT(info.tree_levels, 1); /* 64 chips under one leaf of 128 down ports */
    CHECK_NEAR(info.scaleout_bps, 22.5e9, 1);

    /* DP = 4, stride 16: one rank per instance, a flat ring over EFA */
    trn_coll_cost r = cost(f, TRN_COLL_ALLREDUCE, 4, 16, S, TRN_ALGO_RING);
    CHECK_REL(r.time_s, 6 * ax + 1.5 * S / bx);
    CHECK_EQ_INT(r.crosses_domains, 1);
    CHECK_EQ_INT(r.ranks_per_domain, 1);
    CHECK_EQ_INT(r.domains, 4);
    r = cost(f, TRN_COLL_ALLREDUCE, 16, 2, S, TRN_ALGO_AUTO); /* 8 + 8 in two instances */
    CHECK_EQ_INT(r.ranks_per_domain, 8);
    CHECK_EQ_INT(r.domains, 2);
    /* p2p between pipeline stages in different instances */
    r = cost(f, TRN_COLL_P2P, 4, 16, S, TRN_ALGO_AUTO);
    CHECK_REL(r.time_s, ax + S / bx);

    /* all 64 hierarchically: ring reduce-scatter inside (large S), direct allreduce of S/16
     * across the 4 instances on 16 NICs at once (3 messages, latency-cheapest with the same
     * bandwidth as ring and RHD), ring all-gather inside */
    r = cost(f, TRN_COLL_ALLREDUCE, 64, 1, S, TRN_ALGO_HIERARCHICAL);
    double inside = 15 * a + 15.0 / 16 * S / (4 * b);
    double across = 2 * (ax - o + 3 * o) + 2.0 * 3 / 4 * (S / 16) / bx;
    CHECK_REL(r.time_s, 2 * inside + across);
    /* flat ring over all 64: 126 steps at EFA latency; the boundary crossed on 16 NICs */
    r = cost(f, TRN_COLL_ALLREDUCE, 64, 1, S, TRN_ALGO_RING);
    double ring_bps = 16 * bx < 4 * b ? 16 * bx : 4 * b;
    CHECK_REL(r.time_s, 126 * ax + 2.0 * 63 / 64 * S / ring_bps);
    /* AUTO: at 1 GiB the flat ring's 126 EFA steps (1.9 ms) cost less than running the
     * three hierarchical phases one after the other (the ring overlaps the inside and the
     * across traffic); at 1 MiB the hierarchical one wins */
    r = cost(f, TRN_COLL_ALLREDUCE, 64, 1, S, TRN_ALGO_AUTO);
    CHECK_EQ_INT(r.algo, TRN_ALGO_RING);
    r = cost(f, TRN_COLL_ALLREDUCE, 64, 1, MIB, TRN_ALGO_AUTO);
    CHECK_EQ_INT(r.algo, TRN_ALGO_HIERARCHICAL);

    /* leaving the domain costs more: 16 ranks inside one instance vs 16 of stride 2 (8 in
     * each of two instances) vs 16 of stride 4 */
    double prev = 0;
    for (int64_t st = 1; st <= 4; st *= 2) {
        trn_coll_cost c = cost(f, TRN_COLL_ALLREDUCE, 16, st, 64 * MIB, TRN_ALGO_AUTO);
        CHECK_EQ_INT(c.crosses_domains, st > 1);
        CHECK_MSG(c.time_s > prev, "stride %lld: %g s <= %g s", (long long)st, c.time_s, prev);
        prev = c.time_s;
    }
    trn_fabric_destroy(f);
}

/* 1,000,000 Trainium3 in 144-chip UltraServers: three switch tiers (128 chips per leaf,
 * 32,768 per two tiers, 4.2 M per three at radix 256). */
static void test_million(void) {
    const trn_hw_system *s = sysget("trn3-ultracluster");
    trn_fabric *f = fab("trn3-ultracluster", 1000000);
    if (!s || !f) return;
    trn_fabric_info info;
    trn_fabric_get_info(f, &info);
    CHECK_EQ_INT(info.chips, 1000000);
    CHECK_EQ_INT(info.domain, 144);
    CHECK_EQ_INT(info.tree_levels, 3);
    /* DP over 6,944 UltraServers (stride 144): flat ring, 3 tiers of latency */
    int64_t n = 1000000 / 144;
    double S = GIB;
    trn_coll_cost r = cost(f, TRN_COLL_ALLREDUCE, n, 144, S, TRN_ALGO_RING);
    double ax = alpha_out(s, 3);
    CHECK_REL(r.time_s, 2.0 * (n - 1) * ax + 2.0 * (n - 1) / n * S / efa_bps(s));
    /* everything: AUTO finishes, crosses, beats the flat ring */
    trn_coll_cost all = cost(f, TRN_COLL_ALLREDUCE, 1000000, 1, S, TRN_ALGO_AUTO);
    trn_coll_cost flat = cost(f, TRN_COLL_ALLREDUCE, 1000000, 1, S, TRN_ALGO_RING);
    CHECK(all.crosses_domains == 1 && isfinite(all.time_s) && all.time_s > 0);
    CHECK(all.time_s < flat.time_s);
    CHECK_EQ_INT(all.algo, TRN_ALGO_HIERARCHICAL);
    trn_fabric_destroy(f);

    /* tier counts at the edges of a tier */
    f = fab("trn3-ultracluster", 128 * 256);
    if (f) {
        trn_fabric_get_info(f, &info);
        CHECK_EQ_INT(info.tree_levels, 2);
        trn_fabric_destroy(f);
    }
    f = fab("trn3-ultracluster", 128 * 256 + 1);
    if (f) {
        trn_fabric_get_info(f, &info);
        CHECK_EQ_INT(info.tree_levels, 3);
        trn_fabric_destroy(f);
    }
    f = fab("trn3-ultracluster", 144);
    if (f) {
        trn_fabric_get_info(f, &info);
        CHECK_EQ_INT(info.tree_levels, 0);
        trn_fabric_destroy(f);
    }
}

/* inf2.48xlarge: a ring of 12 [INF2-SYS], two links per chip sharing 192 GiB/s. */
static void test_ring(void) {
    const trn_hw_system *s = sysget("inf2.48xlarge");
    trn_fabric *f = fab("inf2.48xlarge", 12);
    if (!s || !f) return;
    double b =
        s->scaleup_bw_bps.value / 2 * s->scaleup_send_frac.value * s->scaleup_efficiency.value;
    double a = alpha_in(s), S = 256 * MIB;
    trn_coll_cost r = cost(f, TRN_COLL_ALLREDUCE, 12, 1, S, TRN_ALGO_RING);
    CHECK_REL(r.time_s, 22 * a + 2.0 * 11 / 12 * S / (2 * b));
    /* 8 of the 12 are a line: one link each way */
    r = cost(f, TRN_COLL_ALLGATHER, 8, 1, S, TRN_ALGO_RING);
    CHECK_REL(r.time_s, 7 * a + 7.0 / 8 * S / b);
    trn_fabric_destroy(f);
}

/* The fat tree's oversubscription divides the rate of groups that leave a leaf; a new catalog
 * with one field overridden, as an architect's --hw file would. */
static void test_oversubscription(void) {
    trn_hw *h2 = NULL;
    trn_err err = {0};
    if (trn_hw_create(&h2, &err) != TRN_OK) return;
    const char *json = "{\"systems\": {\"trn2.48xlarge\": {\"efa_oversubscription\": "
                       "{\"value\": 3, \"assumed\": \"a what-if\"}}}}";
    CHECK_EQ_INT(trn_hw_load_string(h2, "what-if.json", json, &err), TRN_OK);
    const trn_hw_system *s = trn_hw_system_get(h2, "trn2.48xlarge");
    trn_fabric *f = NULL;
    CHECK_EQ_INT(trn_fabric_create(s, 4096, &f, &err), TRN_OK);
    if (f) {
        /* a leaf holds floor(256 x 3/4) = 192 chips: 8 ranks of stride 16 span 113 chips
         * (one tier), 16 of stride 16 span 241 (two tiers, a third of the rate, +1 us) */
        double bx = efa_bps(s), S = GIB;
        trn_coll_cost r = cost(f, TRN_COLL_ALLGATHER, 8, 16, S, TRN_ALGO_RING);
        CHECK_REL(r.time_s, 7 * alpha_out(s, 1) + 7.0 / 8 * S / bx);
        r = cost(f, TRN_COLL_ALLGATHER, 16, 16, S, TRN_ALGO_RING);
        CHECK_REL(r.time_s, 15 * alpha_out(s, 2) + 15.0 / 16 * S / (bx / 3));
        trn_fabric_destroy(f);
    }
    trn_hw_destroy(h2);
}

/* AUTO: the minimum over the legal algorithms; latency-optimal for small messages,
 * bandwidth-optimal for large ones. */
static void test_auto(void) {
    static const char *const systems[] = {"trn1.32xlarge",    "trn2.48xlarge",
                                          "trn2-ultraserver", "trn3-gen2-ultraserver",
                                          "p5.48xlarge",      "gb200-nvl72"};
    for (size_t i = 0; i < sizeof systems / sizeof systems[0]; i++) {
        const trn_hw_system *s = sysget(systems[i]);
        if (!s) continue;
        int64_t D = (int64_t)s->scaleup_domain.value;
        trn_fabric *f = fab(systems[i], 4 * D);
        if (!f) continue;
        int64_t groups[][2] = {{D, 1}, {4 * D, 1}, {4, D}};
        for (int gi = 0; gi < 3; gi++) {
            int64_t n = groups[gi][0], st = groups[gi][1];
            for (int c = 0; c < TRN_COLL_P2P; c++) {
                double small = 1024, large = 4 * GIB;
                for (int big = 0; big < 2; big++) {
                    double S = big ? large : small;
                    trn_coll_cost au = cost(f, (trn_coll)c, n, st, S, TRN_ALGO_AUTO);
                    double best = INFINITY, best_lat = INFINITY, best_bw = INFINITY;
                    for (int a = TRN_ALGO_RING; a < TRN_ALGO_COUNT; a++) {
                        trn_coll_cost r;
                        trn_fabric_group g = {n, st};
                        if (trn_fabric_collective(f, (trn_coll)c, &g, S, (trn_coll_algo)a, &r,
                                                  NULL) != TRN_OK)
                            continue;
                        if (r.time_s < best) best = r.time_s;
                        if (r.latency_s < best_lat) best_lat = r.latency_s;
                        if (r.bandwidth_s < best_bw) best_bw = r.bandwidth_s;
                    }
                    CHECK_MSG(au.time_s == best, "%s %s n=%lld: auto %g, best %g", systems[i],
                              trn_coll_name((trn_coll)c), (long long)n, au.time_s, best);
                    if (!big)
                        CHECK_MSG(au.latency_s <= best_lat * 1.05,
                                  "%s %s n=%lld 1 KiB: auto (%s) latency %g, best %g", systems[i],
                                  trn_coll_name((trn_coll)c), (long long)n,
                                  trn_coll_algo_name(au.algo), au.latency_s, best_lat);
                    else if (gi != 1) /* a mixed group: see docs/fabric.md */
                        CHECK_MSG(au.bandwidth_s <= best_bw * 1.05,
                                  "%s %s n=%lld 4 GiB: auto (%s) transfer %g, best %g", systems[i],
                                  trn_coll_name((trn_coll)c), (long long)n,
                                  trn_coll_algo_name(au.algo), au.bandwidth_s, best_bw);
                }
            }
        }
        trn_fabric_destroy(f);
    }
    /* trn2.48xlarge allreduce: direct (mesh) for small messages, ring for large ones, as the
     * Neuron intra-node page places them (mesh < 1 MB, ring-class KangaRing > 56 MB) */
    trn_fabric *f = fab("trn2.48xlarge", 16);
    if (!f) return;
    CHECK_EQ_INT(cost(f, TRN_COLL_ALLREDUCE, 16, 1, 64 * 1024, TRN_ALGO_AUTO).algo, TRN_ALGO_MESH);
    CHECK_EQ_INT(cost(f, TRN_COLL_ALLREDUCE, 16, 1, 256 * MIB, TRN_ALGO_AUTO).algo, TRN_ALGO_RING);
    trn_fabric_destroy(f);
}

/* Cost never falls as bytes or the group grow; a group of one and zero bytes cost nothing. */
static void test_monotonic(void) {
    static const char *const systems[] = {
        "inf2.48xlarge",         "trn1.32xlarge", "trn2.48xlarge",    "trn2-ultraserver",
        "trn3-gen1-ultraserver", "p5.48xlarge",   "p6-b200.48xlarge", "gb200-nvl72"};
    for (size_t i = 0; i < sizeof systems / sizeof systems[0]; i++) {
        const trn_hw_system *s = sysget(systems[i]);
        if (!s) continue;
        int64_t chips = s->efa_bps.origin ? 4096 : (int64_t)s->scaleup_domain.value;
        trn_fabric *f = fab(systems[i], chips);
        if (!f) continue;
        for (int c = 0; c < TRN_COLL_COUNT; c++)
            for (int a = TRN_ALGO_AUTO; a < TRN_ALGO_COUNT; a++) {
                double prev = -1;
                for (double S = 1; S <= 16 * GIB; S *= 4) {
                    trn_coll_cost r;
                    trn_fabric_group g = {chips >= 64 ? 64 : 8, 1};
                    if (trn_fabric_collective(f, (trn_coll)c, &g, S, (trn_coll_algo)a, &r, NULL))
                        break;
                    CHECK_MSG(r.time_s >= prev, "%s %s %s: %g B took %g s < %g s", systems[i],
                              trn_coll_name((trn_coll)c), trn_coll_algo_name((trn_coll_algo)a), S,
                              r.time_s, prev);
                    CHECK_NEAR(r.time_s, r.latency_s + r.bandwidth_s, 1e-15);
                    prev = r.time_s;
                }
                /* Group size: on a switch every size; on a torus from one whole domain up,
                 * because a sub-torus can have fewer links per chip than a bigger one (TP=8 on
                 * 4 x 2 uses 3 links, TP=16 on 4 x 4 uses 4: docs/fabric.md). Also the DP
                 * direction: ranks a whole domain apart. */
                int64_t D = (int64_t)s->scaleup_domain.value;
                int torus = s->topology.kind != TRN_HW_TOPO_SWITCH;
                for (int64_t st = 1; st <= D; st *= (D > 1 ? D : 2)) {
                    if (st == D && chips == D) break;
                    prev = -1;
                    for (int64_t n = 1; n * st <= chips; n *= 2) {
                        trn_coll_cost r;
                        trn_fabric_group g = {n, st};
                        if (st == 1 && torus && n > 1 && n < D) continue;
                        if (trn_fabric_collective(f, (trn_coll)c, &g, 64 * MIB, (trn_coll_algo)a,
                                                  &r, NULL))
                            continue;
                        if (n == 1) CHECK(r.time_s == 0 && r.steps == 0 && r.algo != TRN_ALGO_AUTO);
                        if (c != TRN_COLL_P2P && a == TRN_ALGO_AUTO)
                            CHECK_MSG(r.time_s >= prev, "%s %s auto: %lld x %lld ranks %g s < %g s",
                                      systems[i], trn_coll_name((trn_coll)c), (long long)n,
                                      (long long)st, r.time_s, prev);
                        prev = r.time_s;
                    }
                }
            }
        trn_coll_cost z = cost(f, TRN_COLL_ALLREDUCE, 8, 1, 0, TRN_ALGO_AUTO);
        CHECK(z.time_s == 0 && z.bus_bw_bps == 0);
        trn_fabric_destroy(f);
    }
}

static void check_err(const trn_fabric *f, trn_coll c, int64_t n, int64_t st, double bytes,
                      trn_coll_algo a, trn_status want, const char *msg) {
    trn_coll_cost r;
    trn_err err = {0};
    trn_fabric_group g = {n, st};
    trn_status s = trn_fabric_collective(f, c, &g, bytes, a, &r, &err);
    CHECK_EQ_INT(s, want);
    CHECK_CONTAINS(err.msg, msg);
}

static void test_errors(void) {
    trn_fabric *f = NULL;
    trn_err err = {0};
    const trn_hw_system *trn2 = sysget("trn2.48xlarge"), *inf2 = sysget("inf2.48xlarge");
    if (!trn2 || !inf2) return;
    CHECK_EQ_INT(trn_fabric_create(trn2, 0, &f, &err), TRN_E_RANGE);
    CHECK_CONTAINS(err.msg, "1 to 1,000,000");
    CHECK(f == NULL);
    CHECK_EQ_INT(trn_fabric_create(trn2, 1000001, &f, &err), TRN_E_RANGE);
    CHECK_EQ_INT(trn_fabric_create(inf2, 24, &f, &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "inf2.48xlarge");
    CHECK_CONTAINS(err.msg, "efa_bps");
    CHECK_EQ_INT(trn_fabric_create(inf2, 12, &f, &err), TRN_OK); /* one domain needs no EFA */
    trn_fabric_destroy(f);
    trn_fabric_destroy(NULL);

    /* a system without the collective fields */
    const char *json = "{\"systems\": {\"bare\": {\"description\": \"test\", \"chip\": \"trn2\","
                       " \"chips\": {\"value\": 16, \"assumed\": \"test\"},"
                       " \"topology\": {\"kind\": \"torus\", \"dims\": [4, 4], \"assumed\": \"t\"},"
                       " \"scaleup_domain\": {\"value\": 16, \"assumed\": \"test\"},"
                       " \"scaleup_bw_bps\": {\"value\": 1e12, \"assumed\": \"test\"},"
                       " \"hop_latency_ns\": {\"value\": 1000, \"assumed\": \"test\"}}}}";
    CHECK_EQ_INT(trn_hw_load_string(hw, "bare.json", json, &err), TRN_OK);
    const trn_hw_system *bare = trn_hw_system_get(hw, "bare");
    CHECK_EQ_INT(trn_fabric_create(bare, 16, &f, &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "scaleup_send_frac");

    f = fab("trn2.48xlarge", 64);
    if (!f) return;
    check_err(f, TRN_COLL_ALLREDUCE, 0, 1, 1, TRN_ALGO_AUTO, TRN_E_RANGE, "group size 0");
    check_err(f, TRN_COLL_ALLREDUCE, 4, 0, 1, TRN_ALGO_AUTO, TRN_E_RANGE, "stride 0");
    check_err(f, TRN_COLL_ALLREDUCE, 4, INT64_MAX, 1, TRN_ALGO_AUTO, TRN_E_RANGE,
              "size x stride must be <= chips");
    check_err(f, TRN_COLL_ALLREDUCE, INT64_MAX / 2, 4, 1, TRN_ALGO_AUTO, TRN_E_RANGE,
              "fabric's 64");
    check_err(f, TRN_COLL_ALLREDUCE, 33, 2, 1, TRN_ALGO_AUTO, TRN_E_RANGE, "33 ranks");
    check_err(f, TRN_COLL_ALLREDUCE, 4, 1, -1, TRN_ALGO_AUTO, TRN_E_RANGE, "-1 bytes");
    check_err(f, TRN_COLL_ALLREDUCE, 4, 1, NAN, TRN_ALGO_AUTO, TRN_E_RANGE, "finite");
    check_err(f, TRN_COLL_ALLREDUCE, 4, 1, INFINITY, TRN_ALGO_AUTO, TRN_E_RANGE, "finite");
    check_err(f, TRN_COLL_ALLREDUCE, 6, 1, 1, TRN_ALGO_RHD, TRN_E_UNSUPPORTED, "power-of-two");
    check_err(f, TRN_COLL_ALLREDUCE, 8, 1, 1, TRN_ALGO_HIERARCHICAL, TRN_E_UNSUPPORTED,
              "one domain of 16");
    check_err(f, TRN_COLL_P2P, 2, 1, 1, TRN_ALGO_MESH, TRN_E_UNSUPPORTED, "p2p");
    check_err(f, TRN_COLL_COUNT, 2, 1, 1, TRN_ALGO_AUTO, TRN_E_INVALID, "collective");
    check_err(f, TRN_COLL_ALLREDUCE, 2, 1, 1, TRN_ALGO_COUNT, TRN_E_INVALID, "algorithm");
    /* RHD on 6 ranks is refused, AUTO on 6 ranks skips it */
    trn_coll_cost r = cost(f, TRN_COLL_ALLREDUCE, 6, 1, 1e6, TRN_ALGO_AUTO);
    CHECK(r.algo != TRN_ALGO_RHD && r.time_s > 0);
    trn_fabric_destroy(f);
}

/* nccl-tests ring allreduce on 8 x H100 (NVSwitch): bus bandwidth ~370 GB/s, "450GB/s is the
 * line rate. With the protocol overhead (~20%) NCCL can get an effective NVLink bandwidth of
 * 370GB/s, which you can observe as BusBw ... with NCCL_ALGO=RING" (NCCL maintainer,
 * https://github.com/NVIDIA/nccl-tests/issues/212). Tolerance 5%. The efficiency in the
 * catalog comes from the same statement's "~20%", so this checks the topology, the ring
 * formula and the busbw definition, not the efficiency. */
static void test_validation(void) {
    trn_fabric *f = fab("p5.48xlarge", 8);
    if (!f) return;
    trn_coll_cost r = cost(f, TRN_COLL_ALLREDUCE, 8, 1, 8 * GIB, TRN_ALGO_RING);
    CHECK_MSG(fabs(r.bus_bw_bps / 370e9 - 1) < 0.05, "busbw %.1f GB/s, measured 370",
              r.bus_bw_bps / 1e9);
    trn_fabric_destroy(f);
}

/* The planner calls this 100,000s of times per second: time a mixed batch (reported only). */
static void test_speed(void) {
    trn_fabric *f = fab("trn3-ultracluster", 1000000);
    if (!f) return;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double sum = 0;
    int calls = 0;
    for (int i = 0; i < 20000; i++) {
        trn_coll_cost r;
        trn_fabric_group g = {(int64_t)1 << (i % 20), i % 3 ? 1 : 144};
        if (g.size * g.stride > 1000000) g.stride = 1;
        if (trn_fabric_collective(f, (trn_coll)(i % TRN_COLL_COUNT), &g, (double)(i + 1) * 4096,
                                  TRN_ALGO_AUTO, &r, NULL) == TRN_OK)
            sum += r.time_s;
        calls++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    CHECK(sum > 0);
    printf("speed: %d AUTO collectives in %.3f ms (%.2f M/s)\n", calls, s * 1e3, calls / s / 1e6);
    trn_fabric_destroy(f);
}

/* The example table of docs/fabric.md. */
static void print_table(void) {
    struct row {
        const char *sys;
        int64_t chips, n, stride;
        trn_coll c;
        double bytes;
        const char *what;
    } rows[] = {
        {"trn2.48xlarge", 16, 16, 1, TRN_COLL_ALLREDUCE, 64 * 1024, "TP=16"},
        {"trn2.48xlarge", 16, 16, 1, TRN_COLL_ALLREDUCE, 4 * MIB, "TP=16"},
        {"trn2.48xlarge", 16, 16, 1, TRN_COLL_ALLREDUCE, GIB, "TP=16"},
        {"trn2.48xlarge", 16, 4, 1, TRN_COLL_ALLREDUCE, 64 * MIB, "TP=4 (X ring)"},
        {"trn2-ultraserver", 64, 4, 16, TRN_COLL_ALLREDUCE, 64 * MIB, "TP=4 (Z ring)"},
        {"trn2-ultraserver", 64, 64, 1, TRN_COLL_ALLREDUCE, GIB, "all 64"},
        {"trn2-ultraserver", 64, 64, 1, TRN_COLL_ALLTOALL, 64 * MIB, "EP=64"},
        {"trn3-gen2-ultraserver", 144, 144, 1, TRN_COLL_ALLREDUCE, GIB, "all 144"},
        {"trn3-gen2-ultraserver", 144, 64, 1, TRN_COLL_ALLTOALL, 64 * MIB, "EP=64"},
        {"p5.48xlarge", 8, 8, 1, TRN_COLL_ALLREDUCE, GIB, "TP=8"},
        {"p5.48xlarge", 8, 8, 1, TRN_COLL_ALLREDUCE, 8 * GIB, "nccl-tests point"},
        {"gb200-nvl72", 72, 72, 1, TRN_COLL_ALLREDUCE, GIB, "all 72"},
        {"trn2.48xlarge", 1024, 64, 16, TRN_COLL_ALLREDUCE, GIB, "DP=64 across instances"},
        {"trn2-ultraserver", 4096, 4096, 1, TRN_COLL_ALLREDUCE, GIB, "all 4,096"},
        {"trn2.48xlarge", 64, 4, 16, TRN_COLL_P2P, 64 * MIB, "PP stage to stage"},
        {"p5.48xlarge", 1024, 128, 8, TRN_COLL_ALLREDUCE, GIB, "DP=128 across instances"},
        {"trn3-ultracluster", 1000000, 6944, 144, TRN_COLL_ALLREDUCE, GIB, "DP=6,944 x 144"},
        {"trn3-ultracluster", 1000000, 1000000, 1, TRN_COLL_ALLREDUCE, GIB, "all 1,000,000"},
    };
    printf("| system | chips | group (n x stride) | what | collective | bytes | algorithm | "
           "steps | latency | transfer | time | busbw |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        trn_fabric *f = fab(rows[i].sys, rows[i].chips);
        if (!f) continue;
        trn_coll_cost r =
            cost(f, rows[i].c, rows[i].n, rows[i].stride, rows[i].bytes, TRN_ALGO_AUTO);
        char b[32];
        if (rows[i].bytes >= GIB)
            snprintf(b, sizeof b, "%g GiB", rows[i].bytes / GIB);
        else if (rows[i].bytes >= MIB)
            snprintf(b, sizeof b, "%g MiB", rows[i].bytes / MIB);
        else
            snprintf(b, sizeof b, "%g KiB", rows[i].bytes / 1024);
        printf("| %s | %lld | %lld x %lld | %s | %s | %s | %s | %d | %.1f us | %.1f us | %.3f ms "
               "| %.1f GB/s |\n",
               rows[i].sys, (long long)rows[i].chips, (long long)rows[i].n,
               (long long)rows[i].stride, rows[i].what, trn_coll_name(rows[i].c), b,
               trn_coll_algo_name(r.algo), r.steps, r.latency_s * 1e6, r.bandwidth_s * 1e6,
               r.time_s * 1e3, r.bus_bw_bps / 1e9);
        trn_fabric_destroy(f);
    }
}

/* Where AUTO changes algorithm as the message grows (powers of two from 1 KiB to 16 GiB). */
static void print_crossovers(void) {
    struct row {
        const char *sys;
        int64_t chips, n, stride;
        trn_coll c;
    } rows[] = {
        {"trn2.48xlarge", 16, 16, 1, TRN_COLL_ALLREDUCE},
        {"trn2-ultraserver", 64, 64, 1, TRN_COLL_ALLREDUCE},
        {"trn3-gen2-ultraserver", 144, 128, 1, TRN_COLL_ALLREDUCE},
        {"p5.48xlarge", 8, 8, 1, TRN_COLL_ALLREDUCE},
        {"trn2.48xlarge", 64, 64, 1, TRN_COLL_ALLREDUCE},
        {"trn2.48xlarge", 1024, 64, 16, TRN_COLL_ALLREDUCE},
        {"trn2-ultraserver", 4096, 4096, 1, TRN_COLL_ALLREDUCE},
        {"trn2-ultraserver", 4096, 64, 64, TRN_COLL_ALLTOALL},
    };
    printf("\n| system | chips | group | collective | AUTO by message size |\n");
    printf("|---|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        trn_fabric *f = fab(rows[i].sys, rows[i].chips);
        if (!f) continue;
        char line[512] = "";
        size_t len = 0;
        int prev = -1;
        for (double S = 1024; S <= 16 * GIB; S *= 2) {
            trn_coll_cost r = cost(f, rows[i].c, rows[i].n, rows[i].stride, S, TRN_ALGO_AUTO);
            if ((int)r.algo == prev) continue;
            char b[32];
            if (S >= GIB)
                snprintf(b, sizeof b, "%g GiB", S / GIB);
            else if (S >= MIB)
                snprintf(b, sizeof b, "%g MiB", S / MIB);
            else
                snprintf(b, sizeof b, "%g KiB", S / 1024);
            len += (size_t)snprintf(line + len, sizeof line - len, "%s%s from %s",
                                    prev < 0 ? "" : ", ", trn_coll_algo_name(r.algo), b);
            prev = (int)r.algo;
        }
        printf("| %s | %lld | %lld x %lld | %s | %s |\n", rows[i].sys, (long long)rows[i].chips,
               (long long)rows[i].n, (long long)rows[i].stride, trn_coll_name(rows[i].c), line);
        trn_fabric_destroy(f);
    }
}

int main(int argc, char **argv) {
    trn_err err = {0};
    if (trn_hw_create(&hw, &err) != TRN_OK) {
        fprintf(stderr, "catalog: %s\n", err.msg);
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "--table") == 0) {
        print_table();
        print_crossovers();
        trn_hw_destroy(hw);
        return 0;
    }
    test_names();
    test_trn2_torus();
    test_trn2_ultraserver();
    test_nvswitch();
    test_scaleout();
    test_million();
    test_ring();
    test_oversubscription();
    test_auto();
    test_monotonic();
    test_errors();
    test_validation();
    test_speed();
    trn_hw_destroy(hw);
    return test_summary();
}

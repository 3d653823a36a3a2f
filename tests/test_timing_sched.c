/* The scheduler and the timing simulation: independent engines overlap (total = max), a RAW
 * chain across engines serializes (total = sum + semaphore latencies + the static overhead
 * of each stalled reader), WAR and WAW waits, no wait between disjoint partitions, bytes,
 * PSUM banks and HBM ranges, at most one wait per engine; DMA time = fixed cost + bytes /
 * (rate x efficiency) per queue, HBM sharing when many transfers are in flight, hardware DGE
 * issue on the sequencer; `.sync manual` programs run on their own semaphores and a wait that
 * can never be met is a deadlock naming the blocked engines. Expected times are computed here
 * from the catalog's constants and the documented formulas.
 * LABELS: unit */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "trnsim/timing.h"

static trn_hw *hw;
/* The catalog with v3's semaphore latency raised to 50 ns (a --hw what-if), and the options
 * that select it in go(): the waits below then show the latency. */
static trn_hw *hw_lat;
static trn_timing_opts o_lat;
#define LAT_NS 50

#define DECLS                        \
    ".kernel k\n"                    \
    ".input  hin  f32 [128, 4096]\n" \
    ".output hout f32 [128, 4096]\n" \
    ".sbuf x  f32 [128, 512]\n"      \
    ".sbuf y  f32 [128, 512]\n"      \
    ".sbuf z  f32 [128, 512]\n"      \
    ".sbuf w  bf16 [128, 128]\n"     \
    ".sbuf a  bf16 [128, 512]\n"     \
    ".sbuf big f32 [128, 4096]\n"    \
    ".psum acc f32 [128, 2, 512]\n"

typedef struct run {
    trn_program *p;
    trn_timing *t;
    const trn_timing_report *r;
    const trn_timing_instr *in;
    int n;
    trn_status st;
    trn_err err;
} run;

static run go(int v, const char *chip, const char *body, const trn_timing_opts *o) {
    run R;
    memset(&R, 0, sizeof R);
    char name[16];
    snprintf(name, sizeof name, "v%d", v);
    trn_hw *cat = o == &o_lat ? hw_lat : hw;
    const trn_hw_core *core = trn_hw_core_get(cat, name);
    const trn_hw_chip *ch = chip ? trn_hw_chip_get(cat, chip) : NULL;
    trn_asm_opts ao = {0};
    ao.core_version = v;
    trn_isa_target tg;
    R.st = trn_program_assemble(body, "t.tasm", &ao, &R.p, &R.err);
    if (!R.st) R.st = trn_isa_target_from_core(core, &tg, &R.err);
    if (!R.st) R.st = trn_program_verify(R.p, &tg, &R.err);
    if (!R.st) R.st = trn_timing_run(R.p, core, ch, o, &R.t, &R.err);
    if (R.t) {
        R.r = trn_timing_report_get(R.t);
        R.in = trn_timing_instrs(R.t, &R.n);
    }
    return R;
}

static void done(run *R) {
    trn_timing_destroy(R->t);
    trn_program_destroy(R->p);
}

static int has_wait(const run *R, int i, int on, int kind) {
    for (int k = 0; k < R->in[i].nwaits; k++)
        if (R->in[i].waits[k].instr == on && (R->in[i].waits[k].kinds & kind)) return 1;
    return 0;
}

/* DMA efficiency of the catalog's curve, computed here: per-buffer overhead t_d such that
 * the efficiency at dma_saturation_bytes is dma_sat_efficiency. */
static double eff(const trn_hw_core *c, double b) {
    double bw = c->dma_engine_practical_bps.value * 1e-9;
    double td = c->dma_saturation_bytes.value / bw * (1 / c->dma_sat_efficiency.value - 1);
    return (b / bw) / (td + b / bw);
}

#define NEAR(a, b) CHECK_NEAR((a), (b), 1e-6 * fabs((double)(b)) + 1e-6)

int main(void) {
    if (trn_hw_create(&hw, NULL) != TRN_OK) return 1;
    const trn_hw_core *v3 = trn_hw_core_get(hw, "v3");
    const double act_ns = 1e9 / v3->scalar_hz.value, dve_ns = 1e9 / v3->vector_hz.value;
    const double II = v3->min_ii_cycles.value, STATIC = v3->static_overhead_cycles.value;
    trn_timing_opts_init(&o_lat);
    trn_err le = {0};
    if (trn_hw_create(&hw_lat, NULL) != TRN_OK ||
        trn_hw_load_string(hw_lat, "lat.json",
                           "{\"core_versions\": {\"v3\": {\"sem_latency_ns\": "
                           "{\"value\": 50, \"assumed\": \"test\"}}}}",
                           &le) != TRN_OK) {
        fprintf(stderr, "%s\n", le.msg);
        return 1;
    }
    /* the shipped catalog's semaphore latency is an assumption, and the model reads it */
    CHECK_EQ_INT(v3->sem_latency_ns.origin, TRN_HW_ASSUMED);
    CHECK_NEAR(trn_hw_core_get(hw_lat, "v3")->sem_latency_ns.value, LAT_NS, 0);

    /* independent engines overlap: total = max */
    {
        run R = go(3, NULL,
                   DECLS "activation dst=y data=x op=exp\n"
                         "tensor_scalar dst=z[:, 0:100] data=x[:, 0:100] op0=add operand0=1.0\n",
                   &o_lat);
        CHECK_MSG(R.st == TRN_OK, "%s", R.err.msg);
        if (R.t) {
            CHECK_EQ_INT(R.in[1].nwaits, 0);
            NEAR(R.in[1].start_ns, 0);
            NEAR(R.r->total_ns, fmax(512 * act_ns, fmax(II, 100) * dve_ns));
        }
        done(&R);
    }
    /* RAW chain ACT -> DVE -> ACT: each reader waits (+ latency) and pays the static overhead */
    {
        run R = go(3, NULL,
                   DECLS "activation dst=y data=x op=exp\n"
                         "tensor_scalar dst=z data=y op0=add operand0=1.0\n"
                         "activation dst=x data=z op=exp\n",
                   &o_lat);
        CHECK_MSG(R.st == TRN_OK, "%s", R.err.msg);
        if (R.t) {
            CHECK(has_wait(&R, 1, 0, TRN_DEP_RAW));
            CHECK(has_wait(&R, 2, 1, TRN_DEP_RAW));
            double t0 = 512 * act_ns;
            double t1 = t0 + 50 + (512 + STATIC) * dve_ns;
            double t2 = t1 + 50 + (512 + STATIC) * act_ns;
            NEAR(R.in[1].start_ns, t0 + 50);
            NEAR(R.r->total_ns, t2);
            CHECK(R.r->bound == TRN_ENGINE_ACT);
            CHECK_EQ_INT(R.r->ncritical, 3);
        }
        done(&R);
    }
    /* a dependent instruction on the same engine: no semaphore, but the static overhead */
    {
        run R =
            go(3, NULL, DECLS "activation dst=y data=x op=exp\nactivation dst=z data=y op=exp\n",
               &o_lat);
        if (R.t) {
            CHECK_EQ_INT(R.in[1].nwaits, 0);
            NEAR(R.r->total_ns, (512 + 512 + STATIC) * act_ns);
        }
        done(&R);
    }
    /* WAR: ACT overwrites what DVE reads; WAW: two writers. No static overhead for either. */
    {
        run R = go(3, NULL,
                   DECLS "tensor_scalar dst=z data=x op0=add operand0=1.0\n"
                         "activation dst=x[:, 0:64] data=y[:, 0:64] op=exp\n"
                         "activation dst=z[:, 0:64] data=y[:, 0:64] op=exp\n",
                   &o_lat);
        CHECK_MSG(R.st == TRN_OK, "%s", R.err.msg);
        if (R.t) {
            CHECK(has_wait(&R, 1, 0, TRN_DEP_WAR));
            CHECK(!has_wait(&R, 1, 0, TRN_DEP_RAW));
            CHECK(R.in[1].nwaits == 1);
            CHECK(R.in[2].nwaits == 1 && R.in[2].waits[0].instr == 0 &&
                  R.in[2].waits[0].kinds == (TRN_DEP_WAW));
            double e0 = 512 * dve_ns;
            NEAR(R.in[1].start_ns, e0 + 50);
            CHECK_EQ_INT(R.in[1].cycles, (long long)II);
            NEAR(R.r->total_ns, e0 + 50 + 2 * II * act_ns);
        }
        done(&R);
    }
    /* disjoint partitions, bytes, PSUM banks: no waits; overlapping ones: waits */
    {
        run R = go(3, NULL,
                   DECLS "tensor_scalar dst=y[0:64, :] data=x[0:64, :] op0=add operand0=1.0\n"
                         "activation dst=y[64:128, :] data=x[64:128, :] op=exp\n"
                         "tensor_scalar dst=z[:, 0:256] data=x[:, 0:256] op0=add operand0=1.0\n"
                         "activation dst=z[:, 256:512] data=x[:, 256:512] op=exp\n"
                         "nc_matmul dst=acc[:, 0, :] stationary=w moving=a\n"
                         "activation dst=x data=acc[:, 1, :] op=exp\n"
                         "activation dst=z data=acc[:, 0, :] op=exp\n"
                         "tensor_scalar dst=y[:, 0:512:2] data=x[:, 0:512:2] op0=add operand0=1.0\n"
                         "activation dst=y[:, 1:512:2] data=z[:, 1:512:2] op=exp\n",
                   &o_lat);
        CHECK_MSG(R.st == TRN_OK, "%s", R.err.msg);
        if (R.t) {
            CHECK_EQ_INT(R.in[1].nwaits, 0);
            CHECK_EQ_INT(R.in[3].nwaits, 0);
            CHECK(!has_wait(&R, 5, 4, TRN_DEP_RAW | TRN_DEP_WAR | TRN_DEP_WAW));
            CHECK(has_wait(&R, 6, 4, TRN_DEP_RAW));
            CHECK(!has_wait(&R, 8, 7, TRN_DEP_RAW | TRN_DEP_WAR | TRN_DEP_WAW));
            CHECK(has_wait(&R, 7, 5, TRN_DEP_RAW)); /* x written by #5 */
        }
        done(&R);
    }
    /* one wait per engine: the latest conflicting instruction stands for the earlier ones */
    {
        run R = go(3, NULL,
                   DECLS "tensor_scalar dst=y[:, 0:128] data=x[:, 0:128] op0=add operand0=1.0\n"
                         "tensor_scalar dst=y[:, 128:256] data=x[:, 0:128] op0=add operand0=1.0\n"
                         "tensor_scalar dst=y[:, 256:512] data=x[:, 0:256] op0=add operand0=1.0\n"
                         "activation dst=z data=y op=exp\n",
                   &o_lat);
        if (R.t) {
            CHECK_EQ_INT(R.in[3].nwaits, 1);
            CHECK(has_wait(&R, 3, 2, TRN_DEP_RAW));
        }
        done(&R);
    }
    /* HBM ranges: a load of rows 64.. does not wait for a store of rows 0..63; rows 0.. does */
    {
        run R = go(3, NULL,
                   DECLS "dma_copy dst=hout[0:64, 0:512] src=x[0:64, :]\n"
                         "dma_copy dst=y[0:64, :] src=hout[64:128, 0:512]\n"
                         "dma_copy dst=z[0:64, 0:128] src=hout[0:64, 0:256:2]\n",
                   &o_lat);
        CHECK_MSG(R.st == TRN_OK, "%s", R.err.msg);
        if (R.t) {
            CHECK_EQ_INT(R.in[1].nwaits, 0);
            CHECK(has_wait(&R, 2, 0, TRN_DEP_RAW));
            CHECK(R.in[2].start_ns >= R.in[0].end_ns + 50);
        }
        done(&R);
    }
    /* DMA time: fixed cost + bytes per queue / (practical rate x efficiency(bytes/partition)) */
    for (int v = 2; v <= 4; v++) {
        char name[16];
        snprintf(name, sizeof name, "v%d", v);
        const trn_hw_core *c = trn_hw_core_get(hw, name);
        int nq = (int)c->dma_engines.value;
        for (int cols = 16; cols <= 4096; cols *= 4) {
            char body[1024];
            snprintf(body, sizeof body, DECLS "dma_copy dst=big[:, 0:%d] src=hin[:, 0:%d]\n", cols,
                     cols);
            run R = go(v, NULL, body, NULL);
            CHECK_MSG(R.st == TRN_OK, "%s", R.err.msg);
            if (R.t) {
                double per_part = cols * 4.0, qbytes = per_part * (128 / nq);
                double want = c->dma_fixed_ns.value + qbytes / (c->dma_engine_practical_bps.value *
                                                                1e-9 * eff(c, per_part));
                NEAR(R.r->total_ns, want);
                double s, d, e;
                uint64_t b;
                CHECK(trn_timing_dma_piece(R.t, 0, nq - 1, &s, &d, &e, &b));
                CHECK_EQ_INT(b, (long long)qbytes);
                NEAR(d - s, c->dma_fixed_ns.value);
                CHECK_EQ_INT(R.r->hbm_to_sbuf_bytes, 128 * (long long)per_part);
            }
            done(&R);
        }
    }
    /* a 32-partition tile: ceil(32 / 16) = 2 partitions per queue; an 8-partition one: 1 on
     * queues 0..7, nothing on the rest */
    {
        run R = go(3, NULL,
                   DECLS "dma_copy dst=big[0:32, :] src=hin[0:32, :]\n"
                         "dma_copy dst=big[64:72, :] src=hin[0:8, :]\n",
                   NULL);
        if (R.t) {
            uint64_t b0 = 0, b7 = 0, b8 = 1, b15 = 0;
            CHECK(trn_timing_dma_piece(R.t, 0, 15, NULL, NULL, NULL, &b15));
            CHECK_EQ_INT(b15, 2 * 4096 * 4);
            CHECK(trn_timing_dma_piece(R.t, 1, 0, NULL, NULL, NULL, &b0));
            CHECK(trn_timing_dma_piece(R.t, 1, 7, NULL, NULL, NULL, &b7));
            CHECK(trn_timing_dma_piece(R.t, 1, 8, NULL, NULL, NULL, &b8));
            CHECK_EQ_INT(b0, 4096 * 4);
            CHECK_EQ_INT(b7, 4096 * 4);
            CHECK_EQ_INT(b8, 0);
            CHECK(!trn_timing_dma_piece(R.t, 1, 16, NULL, NULL, NULL, NULL));
        }
        done(&R);
    }
    /* HBM sharing: when the core's share of HBM is below 16 queues' rate, all transfers in
     * flight together move bytes at the share: time = fixed + total bytes / share */
    {
        const trn_hw_chip *trn2 = trn_hw_chip_get(hw, "trn2");
        trn_timing_opts so;
        trn_timing_opts_init(&so);
        so.hbm_share_cores = 64; /* 2.9 TB/s / 64 = 45 GB/s, well below 16 x 23 x eff */
        run R = go(3, "trn2", DECLS "dma_copy dst=big src=hin\n", &so);
        CHECK_MSG(R.st == TRN_OK, "%s", R.err.msg);
        if (R.t) {
            double share = trn2->hbm_bw_bps.value * 1e-9 / 64;
            NEAR(R.r->hbm_available_bps, share * 1e9);
            NEAR(R.r->total_ns, v3->dma_fixed_ns.value + 128.0 * 4096 * 4 / share);
        }
        done(&R);
        /* two loads in flight at once share it too: twice the bytes, twice the data time */
        R = go(3, "trn2",
               DECLS ".sbuf big2 f32 [128, 4096]\n"
                     "dma_copy dst=big src=hin\ndma_copy dst=big2 src=hin\n",
               &so);
        if (R.t) {
            double share = trn2->hbm_bw_bps.value * 1e-9 / 64;
            double per_q = 8.0 * 4096 * 4;
            double cap = v3->dma_engine_practical_bps.value * 1e-9 * eff(v3, 4096 * 4);
            (void)cap;
            /* both are HBM-bound, in order on each queue: fixed, data, fixed, data; the second
             * load's data phase runs alone at the share */
            NEAR(R.r->total_ns, 2 * (v3->dma_fixed_ns.value + 16 * per_q / share));
        }
        done(&R);
        /* SBUF -> SBUF does not touch HBM */
        R = go(3, "trn2", DECLS "dma_copy dst=big src=big\n", &so);
        if (R.t)
            NEAR(R.r->total_ns, v3->dma_fixed_ns.value + 8.0 * 4096 * 4 /
                                                             (v3->dma_engine_practical_bps.value *
                                                              1e-9 * eff(v3, 4096 * 4)));
        done(&R);
    }
    /* hardware DGE: issued from SP, hwdge_instr_ns on the sequencer, no per-queue fixed cost */
    {
        run R =
            go(3, NULL, DECLS "dma_copy dst=big[:, 0:1024] src=hin[:, 0:1024] engine=sync\n", NULL);
        CHECK_MSG(R.st == TRN_OK, "%s", R.err.msg);
        if (R.t) {
            double want = v3->hwdge_instr_ns.value +
                          8.0 * 4096 / (v3->dma_engine_practical_bps.value * 1e-9 * eff(v3, 4096));
            NEAR(R.r->total_ns, want);
            CHECK_EQ_INT(R.r->engine[TRN_ENGINE_SP].instrs, 1);
            NEAR(R.r->engine[TRN_ENGINE_SP].busy_ns, v3->hwdge_instr_ns.value);
        }
        done(&R);
    }
    /* manual sync: the program's semaphores order it; the example runs */
    {
        run R = go(3, NULL,
                   ".kernel m\n.sync manual\n.sbuf x f32 [128, 512]\n.sbuf y f32 [128, 512]\n"
                   "activation dst=y data=x op=exp signal=s\n"
                   "tensor_scalar dst=x data=y op0=add operand0=1.0 wait=s>=1\n",
                   &o_lat);
        CHECK_MSG(R.st == TRN_OK, "%s", R.err.msg);
        if (R.t) {
            CHECK_EQ_INT(R.in[1].nwaits, 0);
            NEAR(R.in[1].start_ns, 512 * act_ns + 50);
        }
        done(&R);
    }
    /* a wait that is never signalled, and two engines waiting on each other: deadlocks */
    {
        run R = go(3, NULL,
                   ".kernel m\n.sync manual\n.sbuf x f32 [128, 512]\n.sbuf y f32 [128, 512]\n"
                   "activation dst=y data=x op=exp signal=s\n"
                   "tensor_scalar dst=x data=y op0=add operand0=1.0 wait=s>=2\n",
                   NULL);
        CHECK(R.st == TRN_E_FAULT && R.t == NULL);
        CHECK_CONTAINS(R.err.msg, "deadlock");
        CHECK_CONTAINS(R.err.msg, "vector (line 6 tensor_scalar, waits s>=2, reaches 1)");
        done(&R);
        R = go(3, NULL,
               ".kernel m\n.sync manual\n.sbuf x f32 [128, 512]\n.sbuf y f32 [128, 512]\n"
               "activation dst=y data=x op=exp wait=b>=1 signal=a\n"
               "tensor_scalar dst=x data=y op0=add operand0=1.0 wait=a>=1 signal=b\n"
               "dma_copy dst=y src=x wait=a>=1\n",
               NULL);
        CHECK(R.st == TRN_E_FAULT);
        CHECK_CONTAINS(R.err.msg, "3 engines blocked");
        CHECK_CONTAINS(R.err.msg, "scalar (line 5");
        CHECK_CONTAINS(R.err.msg, "vector (line 6");
        CHECK_CONTAINS(R.err.msg, "dma (line 7");
        done(&R);
    }
    /* the trace file: written to a path, same bytes as on a stream; an unwritable path fails */
    {
        run R =
            go(3, NULL, DECLS "dma_copy dst=x src=hin[:, 0:512]\nactivation dst=y data=x op=exp\n",
               NULL);
        if (R.t) {
            const char *path = "test_timing_sched_trace.json";
            trn_err e = {0};
            CHECK(trn_timing_write_trace(R.t, R.p, path, &e) == TRN_OK);
            void *data = NULL;
            size_t size = 0;
            CHECK(trn_file_read(path, &data, &size, &e) == TRN_OK);
            char *buf = NULL;
            size_t n = 0;
            FILE *f = open_memstream(&buf, &n);
            CHECK(f && trn_timing_write_trace_file(R.t, R.p, f, &e) == TRN_OK);
            if (f) fclose(f);
            CHECK(data && buf && size == n && memcmp(data, buf, n) == 0);
            CHECK_CONTAINS(buf, "\"name\":\"activation\"");
            CHECK_CONTAINS(buf, "\"operands\":\"dst=y op=exp data=x\"");
            free(data);
            free(buf);
            remove(path);
            CHECK(trn_timing_write_trace(R.t, R.p, "/nonexistent-dir/t.json", &e) == TRN_E_IO);
            CHECK_CONTAINS(e.msg, "/nonexistent-dir/t.json");
        }
        done(&R);
    }
    /* wrong core version */
    {
        trn_program *p = NULL;
        trn_asm_opts ao = {0};
        ao.core_version = 3;
        trn_err e = {0};
        trn_timing *t = NULL;
        CHECK(trn_program_assemble(DECLS "activation dst=y data=x op=exp\n", "t.tasm", &ao, &p,
                                   &e) == TRN_OK);
        CHECK(trn_timing_run(p, trn_hw_core_get(hw, "v2"), NULL, NULL, &t, &e) == TRN_E_INVALID);
        CHECK(t == NULL);
        CHECK_CONTAINS(e.msg, "assembled for NeuronCore-v3");
        trn_program_destroy(p);
    }
    trn_hw_destroy(hw_lat);
    trn_hw_destroy(hw);
    return test_summary();
}

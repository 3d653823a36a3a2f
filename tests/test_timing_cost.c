/* The cost model against the documented formulas (trainium-facts.md §3.4 with the §3.7
 * performance modes), computed here from the catalog's constants, not by calling cost.c: an
 * isolated instruction of each cost rule on each core version (v2, v3, v4) takes exactly the
 * formula's cycles, and its time in ns is those cycles at its engine's clock. An isolated
 * TensorE instruction starts cold, so it also pays MM_INIT and (matmuls) the fast
 * LoadStationary of its stationary, ceil(M / pe_ls_speedup) cycles. Every constant is read
 * here from the catalog fields (pe_min_ii_cycles, pe_ls_speedup, vector_mode_elems_per_cycle,
 * sync_hz, dma_transpose_*_frac ...), and a what-if catalog that changes each of them checks
 * that the model follows the catalog rather than built-in numbers.
 * LABELS: unit */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "trnsim/timing.h"

static trn_hw *hw;
static trn_hw *cat; /* the catalog one() times on: hw, or the what-if catalog */

static const char *decls = ".kernel k\n"
                           ".sbuf a   bf16 [128, 512]\n"
                           ".sbuf b   bf16 [128, 512]\n"
                           ".sbuf c   bf16 [128, 512]\n"
                           ".sbuf x   f32  [128, 512]\n"
                           ".sbuf y   f32  [128, 512]\n"
                           ".sbuf z   f32  [128, 512]\n"
                           ".sbuf s   f32  [128, 1]\n"
                           ".sbuf r6  f32  [128, 6]\n"
                           ".sbuf m8  f32  [128, 8]\n"
                           ".sbuf u8t uint8 [128, 512]\n"
                           ".sbuf blk bf16 [32, 32]\n"
                           ".sbuf w   bf16 [128, 128]\n"
                           ".sbuf wf  f32  [128, 128]\n"
                           ".sbuf xf  f32  [128, 512]\n"
                           ".psum ps  f32  [128, 512]\n"
                           ".psum pb  bf16 [128, 512]\n";

/* Times a one-instruction program on core `v` (2, 3, 4); returns the instruction's cycles and
 * sets *ns to the total time, or returns -1 when it does not assemble/verify/run. */
static long long one(int v, const char *instr, double *ns, int *engine) {
    char text[4096], name[16];
    snprintf(text, sizeof text, "%s%s\n", decls, instr);
    snprintf(name, sizeof name, "v%d", v);
    const trn_hw_core *core = trn_hw_core_get(cat, name);
    trn_asm_opts o = {0};
    o.core_version = v;
    trn_program *p = NULL;
    trn_err e = {0};
    trn_isa_target tg;
    long long cyc = -1;
    if (trn_program_assemble(text, "cost.tasm", &o, &p, &e) == TRN_OK &&
        trn_isa_target_from_core(core, &tg, &e) == TRN_OK &&
        trn_program_verify(p, &tg, &e) == TRN_OK) {
        trn_timing *t = NULL;
        if (trn_timing_run(p, core, NULL, NULL, &t, &e) == TRN_OK) {
            int n = 0;
            const trn_timing_instr *in = trn_timing_instrs(t, &n);
            cyc = n == 1 ? (long long)in[0].cycles : -1;
            *ns = trn_timing_report_get(t)->total_ns;
            *engine = (int)in[0].engine;
        }
        trn_timing_destroy(t);
    }
    if (cyc < 0) fprintf(stderr, "v%d: '%s': %s\n", v, instr, e.msg);
    trn_program_destroy(p);
    return cyc;
}

static double clock_of(const trn_hw_core *c, int engine) {
    switch (engine) {
    case TRN_ENGINE_PE: return c->tensor_hz.value;
    case TRN_ENGINE_ACT: return c->scalar_hz.value;
    case TRN_ENGINE_DVE: return c->vector_hz.value;
    case TRN_ENGINE_POOL: return c->gpsimd_hz.value;
    case TRN_ENGINE_SP: return c->sync_hz.value;
    default: return 0;
    }
}

static long long mx(long long a, long long b) {
    return a > b ? a : b;
}

static long long cdiv(long long a, long long b) {
    return (a + b - 1) / b;
}

static long long mn(long long a, long long b) {
    return a < b ? a : b;
}

/* VectorE performance-mode speed-up of a catalog data type: its mode elements/cycle per lane
 * (0 when the type has no mode on that core). */
static long long vmode(const trn_hw_core *c, trn_hw_dtype dt) {
    const trn_hw_num *m = &c->vector_mode_elems_per_cycle[dt];
    return m->origin ? (long long)(m->value / c->partitions.value) : 0;
}

/* DMA efficiency of the catalog's curve, computed here (as in test_timing_sched.c). */
static double eff(const trn_hw_core *c, double b) {
    double bw = c->dma_engine_practical_bps.value * 1e-9;
    double td = c->dma_saturation_bytes.value / bw * (1 / c->dma_sat_efficiency.value - 1);
    return (b / bw) / (td + b / bw);
}

/* Checks instruction `instr` on version v takes `expect` cycles and expect / clock ns. */
#define EXPECT(v, instr, expect)                                                             \
    do {                                                                                     \
        double ns_ = 0;                                                                      \
        int eng_ = 0;                                                                        \
        long long got_ = one((v), (instr), &ns_, &eng_);                                     \
        long long want_ = (expect);                                                          \
        CHECK_MSG(got_ == want_, "v%d '%s': %lld cycles, expected %lld", (v), (instr), got_, \
                  want_);                                                                    \
        if (got_ == want_) {                                                                 \
            double hz_ = clock_of(core, eng_);                                               \
            CHECK_MSG(fabs(ns_ - (double)want_ * 1e9 / hz_) <= 1e-9 * ns_ + 1e-9,            \
                      "v%d '%s': %.6f ns, expected %.6f", (v), (instr), ns_,                 \
                      (double)want_ * 1e9 / hz_);                                            \
        }                                                                                    \
    } while (0)

/* The rules checked on each core version of catalog `cat`. */
static void rules(void) {
    for (int v = 2; v <= 4; v++) {
        char name[16];
        snprintf(name, sizeof name, "v%d", v);
        const trn_hw_core *core = trn_hw_core_get(cat, name);
        long long II = (long long)core->min_ii_cycles.value;          /* MIN_II */
        long long INIT = (long long)core->mm_init_cycles.value;       /* MM_INIT */
        long long START = (long long)core->gpsimd_start_cycles.value; /* GPSIMD_START */
        long long STATIC = (long long)core->static_overhead_cycles.value;
        long long PEII = (long long)core->pe_min_ii_cycles.value; /* TensorE's "64" */
        double LS = core->pe_ls_speedup.value;                    /* fast LoadStationary */
#define LSC(m) ((long long)ceil((m) / LS))
        /* VectorE BF16 modes: elements per partition per cycle (no mode on v2, 4 on v3/v4) */
        long long v16 = mn(vmode(core, TRN_HW_BF16), vmode(core, TRN_HW_FP16));
        if (v16 < 1) v16 = 1;
        long long v8 = vmode(core, TRN_HW_FP8); /* FP8: a mode on v4 only [AG4] */
        long long a16 = (long long)(core->scalar_elems_per_cycle_16bit.value /
                                    core->scalar_elems_per_cycle.value);
        long long fp32 = (long long)(1 / core->tensor_rate[TRN_HW_FP32].value); /* 4 */

        /* matmul: max(min(PE_MIN_II, M), N) (+ MM_INIT + ceil(M / LS) when cold), FP32 x 4 */
        EXPECT(v, "nc_matmul dst=ps stationary=w moving=a",
               INIT + LSC(128) + mx(mn(PEII, 128), 512));
        EXPECT(v, "nc_matmul dst=ps[:, 0:32] stationary=w moving=a[:, 0:32]",
               INIT + LSC(128) + mx(mn(PEII, 128), 32));
        EXPECT(v, "nc_matmul dst=ps[0:32, 0:16] stationary=w[:, 0:32] moving=a[:, 0:16]",
               INIT + LSC(32) + mx(mn(PEII, 32), 16));
        EXPECT(v, "nc_matmul dst=ps stationary=wf moving=xf",
               INIT + fp32 * LSC(128) + fp32 * mx(mn(PEII, 128), 512));
        if (v >= 3) {
            /* FP8 double_row: K = 256 in the cycles of K = 128 */
            char t8[1024];
            snprintf(t8, sizeof t8,
                     ".sbuf s8 fp8_e4m3%s [128, 2, 128]\n.sbuf m8b fp8_e4m3%s [128, 2, 512]\n"
                     "nc_matmul dst=ps stationary=s8 moving=m8b perf_mode=double_row",
                     v == 3 ? "_legacy" : "", v == 3 ? "_legacy" : "");
            EXPECT(v, t8, INIT + LSC(128) + mx(mn(PEII, 128), 512));
        }
        if (v >= 4) {
            EXPECT(v,
                   ".sbuf aq fp8_e4m3_x4 [128, 128]\n.sbuf bq fp8_e4m3_x4 [128, 512]\n"
                   ".sbuf sa uint8 [128, 128]\n.sbuf sb uint8 [128, 512]\n"
                   "nc_matmul_mx dst=ps stationary=aq moving=bq stationary_scale=sa "
                   "moving_scale=sb",
                   INIT + LSC(128) + mx(mn(PEII, 128), 512));
        }
        /* PE transpose: max(P, min(PE_MIN_II, F)); DVE transpose: max(MIN_II, N) */
        EXPECT(v, "nc_transpose dst=pb[:, 0:128] data=w", INIT + mx(128, mn(PEII, 128)));
        EXPECT(v, "nc_transpose dst=pb[0:16, 0:16] data=w[0:16, 0:16]",
               INIT + mx(16, mn(PEII, 16)));
        EXPECT(v, "nc_transpose dst=blk data=c[0:32, 0:32] engine=vector", mx(II, 32));

        /* ScalarE: max(MIN_II, N), + MIN_II with a reduction result */
        EXPECT(v, "activation dst=y data=x op=exp", mx(II, 512));
        EXPECT(v, "activation dst=y[:, 0:16] data=x[:, 0:16] op=exp", II);
        EXPECT(v, "activation dst=y data=x op=exp reduce_op=add reduce_res=s", mx(II, 512) + II);
        EXPECT(v, "activation_reduce dst=y data=x op=exp reduce_op=add reduce_res=s",
               mx(II, 512) + II);
        EXPECT(v, "tensor_scalar dst=y data=x op0=multiply operand0=2.0 engine=scalar",
               mx(II, 512));
        EXPECT(v, "tensor_scalar dst=c data=a op0=multiply operand0=2.0 engine=scalar",
               mx(II, cdiv(512, a16)));
        if (v >= 3) EXPECT(v, "tensor_copy dst=c src=a engine=scalar", mx(II, cdiv(512, a16)));

        /* VectorE one input: max(MIN_II, N) with the BF16 modes */
        EXPECT(v, "tensor_scalar dst=y data=x op0=add operand0=1.0", mx(II, 512));
        EXPECT(v, "tensor_scalar dst=c data=a op0=add operand0=1.0", mx(II, cdiv(512, v16)));
        EXPECT(v, "tensor_copy dst=c src=a", mx(II, cdiv(512, v16)));
        EXPECT(v, "tensor_copy dst=pb src=a", mx(II, cdiv(512, v16 > 1 ? v16 / 2 : 1)));
        EXPECT(v, "tensor_copy dst=c[:, 0:256] src=a[:, 0:512:2]",
               mx(II, cdiv(256, v16 > 1 ? v16 / 2 : 1)));
        EXPECT(v, "tensor_copy dst=y src=x", mx(II, 512));
        /* FP8: the mode only where the catalog gives FP8 one (v4 [AG4]); a BF16 -> FP8 copy
         * needs both sides to have a mode */
        EXPECT(v,
               ".sbuf f8a fp8_e5m2 [128, 512]\n.sbuf f8b fp8_e5m2 [128, 512]\n"
               "tensor_copy dst=f8b src=f8a",
               mx(II, cdiv(512, v8 > 1 ? v8 : 1)));
        EXPECT(v, ".sbuf f8b fp8_e5m2 [128, 512]\ntensor_copy dst=f8b src=a",
               mx(II, cdiv(512, v8 > 1 ? mn(v8, v16) : 1)));
        EXPECT(v, "tensor_copy dst=y[:, 0:40] src=x[:, 0:40]", II);
        EXPECT(v,
               "tensor_scalar_reduce dst=y data=x op0=add operand0=1.0 reduce_op=add "
               "reduce_res=s",
               mx(II, 512) + II);

        /* tensor_tensor: N with one input in PSUM, BF16 SBUF contiguous add/mul/sub, or (v3+)
         * all BF16/FP16 in SBUF; else 2N */
        EXPECT(v, "tensor_tensor dst=z data1=x data2=y op=add", mx(II, 2 * 512));
        EXPECT(v, "tensor_tensor dst=z data1=ps data2=y op=maximum", mx(II, 512));
        EXPECT(v, "tensor_tensor dst=c data1=a data2=b op=multiply", mx(II, 512));
        EXPECT(v, "tensor_tensor dst=c data1=a data2=b op=maximum",
               mx(II, v16 > 1 ? 512 : 2 * 512));
        EXPECT(v,
               ".sbuf f8a fp8_e5m2 [128, 512]\n.sbuf f8b fp8_e5m2 [128, 512]\n"
               "tensor_tensor dst=f8b data1=f8a data2=f8b op=maximum",
               mx(II, v8 > 1 ? 512 : 2 * 512));
        EXPECT(v, "tensor_tensor dst=z data1=x data2=y op=add engine=gpsimd", START + 2 * 512);

        /* scalar_tensor_tensor: N for BF16 subtract-then-multiply with N even, else 2N */
        EXPECT(v,
               "scalar_tensor_tensor dst=c data=a op0=subtract operand0=1.0 op1=multiply "
               "operand1=b",
               512);
        EXPECT(v,
               "scalar_tensor_tensor dst=z data=x op0=subtract operand0=1.0 op1=multiply "
               "operand1=y",
               2 * 512);
        EXPECT(v, "tensor_tensor_scan dst=z data0=x data1=y initial=0.0 op0=multiply op1=add",
               mx(II, 2 * 512));
        /* tensor_reduce: N/2 for BF16 add/max, else N */
        EXPECT(v, "tensor_reduce dst=c[:, 0:1] op=add data=a axis=1", 512 / 2);
        EXPECT(v, "tensor_reduce dst=s op=add data=x axis=1", 512);
        EXPECT(v, "tensor_copy_predicated dst=y src=x predicate=u8t", mx(II, 2 * 512));
        /* memset: N/2 for 0 in BF16/FP16; GpSimd: GPSIMD_START + N */
        EXPECT(v, "memset dst=a value=0.0", mx(II, 512 / 2));
        EXPECT(v, "memset dst=x value=1.0", mx(II, 512));
        EXPECT(v, "memset dst=x[:, 0:100] value=1.0", mx(II, 100));
        EXPECT(v, "memset dst=x value=0.0 engine=gpsimd", START + 512);
        EXPECT(v, "reciprocal dst=y data=x", mx(II, 8 * 512));
        EXPECT(v, "reciprocal dst=y[:, 0:4] data=x[:, 0:4]", mx(II, 32));
        EXPECT(v, "bn_aggr dst=y[:, 0:2] data=r6", mx(II, cdiv(13 * 6, 3)));
        EXPECT(v, "bn_aggr dst=y[:, 0:2] data=x[:, 0:300]", mx(II, cdiv(13 * 300, 3)));
        EXPECT(v, "bn_stats dst=r6 data=x", mx(II, 512));
        EXPECT(v, "max8 dst=m8 src=x", 512);
        EXPECT(v, "iota dst=x pattern=[[1, 512]] offset=0", START + 512);
        EXPECT(v, "tensor_partition_reduce dst=y op=add data=x", START + 512);
        if (v >= 4) {
            EXPECT(v, "exponential dst=y src=x", mx(II, 512 / 4));
            EXPECT(v,
                   ".sbuf q4 fp8_e4m3_x4 [128, 128]\n.sbuf qs uint8 [128, 16]\n"
                   "quantize_mx dst=q4 src=a dst_scale=qs",
                   mx(II, 512 / 4));
        }
        /* sequencer-only: the static overhead, at the SP clock (sync_hz) */
        EXPECT(v, "register_alloc dst=r0 x=3", STATIC);
        /* DMA transpose (v3+, 2-byte types): fixed cost + bytes per queue at the DMA rate x
         * efficiency x the catalog's transpose fraction (HBM source or SBUF source) */
        if (v >= 3) {
            const char *src[2] = {".input ht bf16 [128, 128]\n", ".sbuf ht bf16 [128, 128]\n"};
            for (int k = 0; k < 2; k++) {
                char body[512];
                snprintf(body, sizeof body, "%sdma_transpose dst=w src=ht", src[k]);
                double ns = 0;
                int eng = 0;
                long long c = one(v, body, &ns, &eng);
                double frac = k == 0 ? core->dma_transpose_hbm_frac.value
                                     : core->dma_transpose_sbuf_frac.value;
                double qbytes = 128.0 * 128 * 2 / core->dma_engines.value;
                double want =
                    core->dma_fixed_ns.value + qbytes / (core->dma_engine_practical_bps.value *
                                                         1e-9 * eff(core, 128 * 2) * frac);
                CHECK_MSG(c >= 0 && fabs(ns - want) <= 1e-6 * want, "v%d %s: %.3f ns, want %.3f", v,
                          body, ns, want);
            }
        }
#undef LSC
    }
}

/* A what-if catalog: every timing constant of the catalog changed on v3 and v4. */
static const char *whatif =
    "{\"core_versions\": {\"v3\": {"
    "\"pe_min_ii_cycles\": {\"value\": 32, \"assumed\": \"what-if\"},"
    "\"pe_ls_speedup\": {\"value\": 2, \"assumed\": \"what-if\"},"
    "\"sync_hz\": {\"value\": 0.5e9, \"assumed\": \"what-if\"},"
    "\"dma_transpose_hbm_frac\": {\"value\": 0.45, \"assumed\": \"what-if\"},"
    "\"dma_transpose_sbuf_frac\": {\"value\": 0.2, \"assumed\": \"what-if\"},"
    "\"vector_mode_elems_per_cycle\": {\"fp8\": {\"value\": 256, \"assumed\": \"what-if\"}}},"
    "\"v4\": {"
    "\"pe_min_ii_cycles\": {\"value\": 100, \"assumed\": \"what-if\"},"
    "\"pe_ls_speedup\": {\"value\": 1, \"assumed\": \"what-if\"},"
    "\"sync_hz\": {\"value\": 2e9, \"assumed\": \"what-if\"},"
    "\"vector_mode_elems_per_cycle\": {\"bf16\": {\"value\": 256, \"assumed\": \"what-if\"}}}}}";

int main(void) {
    if (trn_hw_create(&hw, NULL) != TRN_OK) return 1;
    cat = hw;
    rules();
    trn_hw *w = NULL;
    trn_err e = {0};
    CHECK(trn_hw_create(&w, NULL) == TRN_OK);
    CHECK_MSG(w && trn_hw_load_string(w, "whatif.json", whatif, &e) == TRN_OK, "%s", e.msg);
    if (w) {
        /* the what-if really differs from the shipped values the rules saw */
        const trn_hw_core *a = trn_hw_core_get(hw, "v3"), *b = trn_hw_core_get(w, "v3");
        CHECK(a->pe_min_ii_cycles.value != b->pe_min_ii_cycles.value);
        CHECK(a->pe_ls_speedup.value != b->pe_ls_speedup.value);
        CHECK(a->sync_hz.value != b->sync_hz.value);
        CHECK(a->dma_transpose_hbm_frac.value != b->dma_transpose_hbm_frac.value);
        CHECK(a->vector_mode_elems_per_cycle[TRN_HW_FP8].origin == TRN_HW_ABSENT);
        cat = w;
        rules();
        /* spot values, written out: v3 matmul M=128, N=16 cold: 64 + ceil(128 / 2) + 32 */
        double ns = 0;
        int eng = 0;
        CHECK_EQ_INT(one(3, "nc_matmul dst=ps[:, 0:16] stationary=w moving=a[:, 0:16]", &ns, &eng),
                     64 + 64 + 32);
        CHECK_EQ_INT(one(4, "register_alloc dst=r0 x=3", &ns, &eng), 100);
        CHECK_NEAR(ns, 100 / 2.0, 1e-9); /* 100 cycles at 2 GHz */
        cat = hw;
    }
    trn_hw_destroy(w);
    /* v2 has no DMA transpose rates: a dma_transpose there is refused with the reason */
    {
        trn_program *p = NULL;
        trn_asm_opts ao = {0};
        trn_timing *t = NULL;
        ao.core_version = 2;
        CHECK(trn_program_assemble(".kernel k\n.input ht bf16 [128, 128]\n.sbuf w bf16 [128, 128]\n"
                                   "dma_transpose dst=w src=ht\n",
                                   "v2.tasm", &ao, &p, &e) == TRN_OK);
        if (p) {
            CHECK(trn_timing_run(p, trn_hw_core_get(hw, "v2"), NULL, NULL, &t, &e) ==
                  TRN_E_INVALID);
            CHECK_CONTAINS(e.msg, "dma_transpose_hbm_frac");
            CHECK_CONTAINS(e.msg, "v2.tasm:4");
        }
        trn_timing_destroy(t);
        trn_program_destroy(p);
    }
    trn_hw_destroy(hw);
    return test_summary();
}

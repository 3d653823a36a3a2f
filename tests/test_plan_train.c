/* The planner's training model against values worked by hand from the formulas of
 * docs/planner.md: memory per chip by category (ZeRO paper's 2 + 2 + 12 bytes per parameter,
 * Korthikanti et al. 2022 activations), the 1F1B bubble (p - 1) / (m + p - 1), MFU of a case
 * where every op runs at a known fraction of peak, the roofline provider's GEMM formula with
 * tile quantization, the power model; the search against a brute force over every legal
 * configuration, pins, illegal configurations and the out-of-memory explanation; uneven
 * pipeline stages (ceil(layers / pp) on the busiest one). */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "test_plan_util.h"
#include "trnsim/plan.h"

#define GIB 1073741824.0

/* Parameters of the model that are layer matmuls (everything but tables and norms). */
static double layer_params(const trn_model *md) {
    trn_model_params p;
    trn_model_params_of(md, &p);
    return (double)(p.attn + p.mlp);
}

static void test_memory_zero1(void) {
    /* Llama-3-8B, ZeRO-1 over 8 data-parallel chips, one 4096-token sequence per chip */
    trn_model *md = load("llama-3-8b");
    trn_plan_machine *m = machine("trn2.48xlarge", 8);
    trn_model_params p;
    trn_model_params_of(md, &p);
    double N = (double)p.total;
    CHECK_EQ_INT(p.total, 8030261248LL);
    trn_plan_train w = {4096, 8, TRN_HW_BF16, 0};
    trn_plan_config c = {1, 1, 8, 1, 1, 1, 1};
    trn_plan_train_result r;
    trn_err err = {0};
    CHECK_EQ_INT(trn_plan_train_eval(m, md, &w, &c, TRN_PLAN_RECOMPUTE_NONE, &r, &err), TRN_OK);
    CHECK_NEAR(r.mem.weights, 2 * N, 1e-3);
    CHECK_NEAR(r.mem.grads, 2 * N, 1e-3);
    CHECK_NEAR(r.mem.optimizer, 12 * N / 8, 1e-3);
    /* Korthikanti: sbh (34 + 5 a s / h) per layer, 32 layers, + output layer 4sbh + 4sbV */
    double s = 4096, b = 1, h = 4096, a = 32, V = 128256;
    double act = s * b * h * (34 + 5 * a * s / h) * 32 + 4 * s * b * h + 4 * s * b * V;
    CHECK_NEAR(r.mem.activations, act, 1e-3);
    CHECK_NEAR(r.mem.workspace, 0, 0);
    CHECK_NEAR(r.mem.total, 2 * N + 2 * N + 1.5 * N + act, 1e-2);
    /* 16.1 + 16.1 + 12.0 GB of states + 131 GB activations: does not fit 96 GiB */
    CHECK(!r.fits);
    CHECK_NEAR(r.mem.capacity, 96 * GIB, 0);
    /* selective recompute drops the 5as/h term; full keeps 2sbh per layer */
    CHECK_EQ_INT(trn_plan_train_eval(m, md, &w, &c, TRN_PLAN_RECOMPUTE_SELECTIVE, &r, &err),
                 TRN_OK);
    CHECK_NEAR(r.mem.activations, s * b * h * 34 * 32 + 4 * s * b * h + 4 * s * b * V, 1e-3);
    CHECK_EQ_INT(trn_plan_train_eval(m, md, &w, &c, TRN_PLAN_RECOMPUTE_FULL, &r, &err), TRN_OK);
    CHECK_NEAR(r.mem.activations, 2 * s * b * h * 32 + 4 * s * b * h + 4 * s * b * V, 1e-3);
    CHECK_NEAR(r.mem.workspace, s * b * h * (34 + 5 * a * s / h), 1e-3);
    CHECK(r.fits); /* 44.2 GB of states + 12.6 GB of activations */
    /* ZeRO-3: weights and gradients sharded too; two layers' weights gathered */
    c.zero = 3;
    CHECK_EQ_INT(trn_plan_train_eval(m, md, &w, &c, TRN_PLAN_RECOMPUTE_FULL, &r, &err), TRN_OK);
    CHECK_NEAR(r.mem.weights, 2 * N / 8, 1e-3);
    CHECK_NEAR(r.mem.grads, 2 * N / 8, 1e-3);
    CHECK_NEAR(r.mem.workspace, s * b * h * (34 + 5 * a * s / h) + 2 * 2 * layer_params(md) / 32,
               1e-3);
    /* TP 2 x DP 4: layer matmuls and tables split by 2, norms replicated */
    trn_plan_config c2 = {2, 1, 4, 1, 1, 1, 0};
    CHECK_EQ_INT(trn_plan_train_eval(m, md, &w, &c2, TRN_PLAN_RECOMPUTE_NONE, &r, &err), TRN_OK);
    double per_chip =
        layer_params(md) / 2 + (double)p.norms + (double)p.embed / 2 + (double)p.lm_head / 2;
    CHECK_NEAR(r.mem.weights, 2 * per_chip, 1e-3);
    CHECK_NEAR(r.mem.optimizer, 12 * per_chip, 1e-2);
    trn_plan_machine_destroy(m);
    trn_model_destroy(md);
}

static void test_bubble(void) {
    /* tp 2 x pp 4 on 8 chips, 8 microbatches: bubble / (step - optimizer) = 3 / 11 */
    trn_model *md = load("llama-3-8b");
    trn_plan_machine *m = machine("trn2.48xlarge", 8);
    trn_model_params p;
    trn_model_params_of(md, &p);
    trn_plan_train w = {2048, 16, TRN_HW_BF16, 0};
    trn_plan_config c = {2, 4, 1, 1, 1, 8, 0};
    trn_plan_train_result r;
    trn_err err = {0};
    CHECK_EQ_INT(trn_plan_train_eval(m, md, &w, &c, TRN_PLAN_RECOMPUTE_NONE, &r, &err), TRN_OK);
    /* optimizer step of the last stage: 28 bytes per parameter (read and write 12 bytes of fp32
     * states, read 2 of gradient, write 2 of weight) at HBM bandwidth x mem_efficiency */
    double last = layer_params(md) / 4 / 2 + (double)p.norms / 4 + (double)p.lm_head / 2;
    double opt = last * 28 / (2.9e12 * 0.85);
    CHECK_NEAR(m->roof.hbm_bw_bps, 2.9e12, 0);
    CHECK_NEAR(m->roof.mem_eff, 0.85, 0);
    CHECK_NEAR(r.bd.dp_comm_s, 0, 0); /* dp 1: no gradient synchronization */
    CHECK_NEAR(r.bd.bubble_s / (r.step_time_s - opt), 3.0 / 11.0, 1e-12);
    /* memory: the first stage holds min(m, p) = 4 microbatches in flight */
    double s = 2048, b = 2, h = 4096;
    double act = s * b * h * (34.0 / 2 + 5 * 32 * s / (h * 2)) * 8 * 4;
    CHECK_EQ_INT(r.mem.stage, 0);
    CHECK_NEAR(r.mem.activations, act, 1e-3);
    trn_plan_machine_destroy(m);
    trn_model_destroy(md);
}

/* An op-cost provider that runs every matmul and attention at exactly half the bf16 peak and
 * everything memory-bound in no time. */
static void half_peak(const void *ctx, const trn_plan_op *op, trn_plan_op_time *out) {
    double x = *(const double *)ctx;
    out->memory_bound = 0;
    if (op->kind == TRN_PLAN_OP_GEMM)
        out->seconds = 2.0 * (double)op->m * (double)op->k * (double)op->n * op->count / x;
    else if (op->kind == TRN_PLAN_OP_ATTENTION)
        out->seconds = op->flops / x;
    else
        out->seconds = 0, out->memory_bound = 1;
}

static void test_mfu(void) {
    trn_model *md = load("llama-3-8b");
    trn_plan_machine *m = machine("trn2.48xlarge", 1);
    double x = 0.5 * m->roof.peak_flops[TRN_HW_BF16];
    CHECK_NEAR(m->roof.peak_flops[TRN_HW_BF16], 8 * 128 * 128 * 2 * 2.4e9, 1); /* 629 TFLOP/s */
    m->cost = (trn_plan_op_cost){"half-peak", half_peak, &x};
    trn_plan_train w = {4096, 4, TRN_HW_BF16, 0};
    trn_plan_config c = {1, 1, 1, 1, 1, 4, 0};
    trn_plan_train_result r;
    trn_err err = {0};
    CHECK_EQ_INT(trn_plan_train_eval(m, md, &w, &c, TRN_PLAN_RECOMPUTE_NONE, &r, &err), TRN_OK);
    trn_model_flops f;
    trn_model_flops_seq(md, 4096, &f, &err);
    /* step = 3 x forward FLOPs of 4 x 4096 tokens at half the peak; MFU = 0.5 */
    CHECK_NEAR(r.step_time_s, f.train * 4 * 4096 / x, 1e-9 * r.step_time_s);
    CHECK_NEAR(r.mfu, 0.5, 1e-9);
    CHECK_NEAR(r.model_flops_per_step, f.train * 4 * 4096, 1);
    CHECK_NEAR(r.tokens_per_s, 4 * 4096 / r.step_time_s, 1e-6);
    /* full recompute adds one forward of the layers: 4 / 3 of the layer time */
    CHECK_EQ_INT(trn_plan_train_eval(m, md, &w, &c, TRN_PLAN_RECOMPUTE_FULL, &r, &err), TRN_OK);
    trn_model_params p;
    trn_model_params_of(md, &p);
    double T = 4 * 4096, head = 2 * T * (double)p.lm_head;
    double layers_fwd = f.forward * T - head;
    CHECK_NEAR(r.step_time_s, (4 * layers_fwd + 3 * head) / x, 1e-9 * r.step_time_s);
    /* power model: chips x P x (idle + (1 - idle) u) x PUE, u = busy fraction = 1 here */
    CHECK_NEAR(r.utilization, 1, 1e-12);
    CHECK_NEAR(r.power_w, 500 * (0.2 + 0.8 * 1) * 1.15, 1e-9);
    /* time, cost and energy to train 1e9 tokens */
    w.tokens = 1e9;
    CHECK_EQ_INT(trn_plan_train_eval(m, md, &w, &c, TRN_PLAN_RECOMPUTE_NONE, &r, &err), TRN_OK);
    CHECK_NEAR(r.train_time_s, 1e9 / r.tokens_per_s, 1e-6);
    CHECK_NEAR(r.cost_usd, r.train_time_s / 3600 * 3.0, 1e-9);
    CHECK_NEAR(r.energy_j, 575 * r.train_time_s, 1e-3);
    trn_plan_machine_destroy(m);
    trn_model_destroy(md);
}

static void test_roofline(void) {
    trn_plan_roofline r;
    memset(&r, 0, sizeof r);
    r.peak_flops[TRN_HW_BF16] = 1e15;
    r.peak_flops[TRN_HW_FP8] = 2e15;
    r.hbm_bw_bps = 1e12;
    r.gemm_eff = 0.5, r.attn_eff = 0.25, r.mem_eff = 0.8, r.gemm_tile = 128;
    trn_plan_op op;
    memset(&op, 0, sizeof op);
    op.kind = TRN_PLAN_OP_GEMM;
    op.dtype = TRN_HW_BF16;
    op.m = 4096, op.k = 4096, op.n = 4096, op.count = 1, op.a_bytes = 2, op.w_bytes = 2;
    trn_plan_op_time t;
    trn_plan_roofline_time(&r, &op, &t);
    /* 2 x 4096^3 / (1e15 x 0.5) = 274.9 us against 3 x 32 MiB / 0.8 TB/s = 125.8 us */
    CHECK_NEAR(t.seconds, 2.0 * 4096 * 4096 * 4096 / 5e14, 1e-15);
    CHECK(!t.memory_bound);
    op.dtype = TRN_HW_FP8; /* twice the peak */
    trn_plan_roofline_time(&r, &op, &t);
    CHECK_NEAR(t.seconds, 2.0 * 4096 * 4096 * 4096 / 1e15, 1e-15);
    /* m = 100: the tile of 128 is 100/128 used; the weight read dominates */
    op.dtype = TRN_HW_BF16;
    op.m = 100;
    trn_plan_roofline_time(&r, &op, &t);
    double tc = 2.0 * 100 * 4096 * 4096 / (5e14 * (100.0 / 128));
    double tm = (100.0 * 4096 * 2 + 4096.0 * 4096 * 2 + 100.0 * 4096 * 2) / 8e11;
    CHECK_NEAR(t.seconds, tm > tc ? tm : tc, 1e-15);
    CHECK(t.memory_bound == (tm > tc));
    /* decode GEMM, m = 1: memory-bound, bytes / (bw x eff) */
    op.m = 1;
    op.w_bytes = 0.53125; /* MXFP4 */
    trn_plan_roofline_time(&r, &op, &t);
    CHECK(t.memory_bound);
    CHECK_NEAR(t.seconds, (4096 * 2 + 4096.0 * 4096 * 0.53125 + 4096 * 2) / 8e11, 1e-15);
    /* attention and elementwise */
    memset(&op, 0, sizeof op);
    op.kind = TRN_PLAN_OP_ATTENTION;
    op.flops = 1e12, op.kv_bytes = 1e8, op.io_bytes = 1e8;
    trn_plan_roofline_time(&r, &op, &t);
    CHECK_NEAR(t.seconds, 1e12 / 2.5e14, 1e-15);
    op.kind = TRN_PLAN_OP_ELEMWISE;
    op.kv_bytes = 8e8;
    trn_plan_roofline_time(&r, &op, &t);
    CHECK_NEAR(t.seconds, 1e-3, 1e-15);
    CHECK(t.memory_bound);
}

static void test_errors(void) {
    trn_model *md = load("llama-3-8b");
    trn_plan_machine *m = machine("trn2.48xlarge", 8);
    trn_plan_train w = {4096, 8, TRN_HW_BF16, 0};
    trn_plan_train_result r;
    trn_err err = {0};
    trn_plan_config bad[] = {
        {3, 1, 8, 1, 1, 1, 0}, /* product 24 */
        {8, 1, 1, 1, 1, 1, 0}, /* fine: the control */
        {1, 3, 8, 1, 1, 1, 0}, /* product */
        {1, 1, 8, 2, 1, 1, 0}, /* ep on a dense model */
        {1, 1, 8, 1, 1, 3, 0}, /* microbatches 3 of 1 sequence */
        {1, 2, 4, 1, 1, 1, 2}, /* ZeRO-2 with a pipeline */
    };
    const char *want[] = {"expected the 8 chips",       NULL,
                          "expected the 8 chips",       "has no experts",
                          "microbatches 3 must divide", "ZeRO-2/3 need pp 1"};
    for (int i = 0; i < 6; i++) {
        trn_status s = trn_plan_train_eval(m, md, &w, &bad[i], 0, &r, &err);
        if (!want[i]) {
            CHECK_EQ_INT(s, TRN_OK);
        } else {
            CHECK_EQ_INT(s, TRN_E_INVALID);
            CHECK_CONTAINS(err.msg, want[i]);
        }
    }
    trn_plan_machine_destroy(m);
    m = machine("trn2.48xlarge", 24);
    trn_plan_config c3 = {3, 1, 8, 1, 1, 1, 0};
    w.global_batch = 8;
    CHECK_EQ_INT(trn_plan_train_eval(m, md, &w, &c3, 0, &r, &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "tp 3 must divide the 32 attention heads");
    trn_plan_machine_destroy(m);
    /* a precision the device lacks */
    m = machine("p5.48xlarge", 8);
    w.precision = TRN_HW_MXFP8;
    trn_plan_config c = {1, 1, 8, 1, 1, 1, 0};
    CHECK_EQ_INT(trn_plan_train_eval(m, md, &w, &c, 0, &r, &err), TRN_E_UNSUPPORTED);
    CHECK_CONTAINS(err.msg, "h100-sxm has no mxfp8 peak");
    trn_plan_machine_destroy(m);
    trn_model_destroy(md);
}

static int better(const trn_plan_train_result *a, const trn_plan_train_result *b) {
    return a->tokens_per_s > b->tokens_per_s;
}

static void test_search(void) {
    /* Mixtral 8x7B on a Trn2 UltraServer: the search's best against every legal configuration */
    trn_model *md = load("mixtral-8x7b");
    trn_plan_machine *m = machine("trn2-ultraserver", 64);
    trn_plan_train w = {4096, 128, TRN_HW_BF16, 0};
    trn_plan_train_result top[8];
    int n = 0;
    trn_plan_search_stats st;
    trn_err err = {0};
    CHECK_EQ_INT(trn_plan_train_search(m, md, &w, NULL, TRN_PLAN_THROUGHPUT, top, 8, &n, &st, &err),
                 TRN_OK);
    CHECK_EQ_INT(n, 8);
    CHECK(st.fitting > 8 && st.evaluated >= st.fitting);
    for (int i = 0; i < n; i++) CHECK(top[i].fits && top[i].mem.total <= top[i].mem.capacity);
    for (int i = 1; i < n; i++) CHECK(!better(&top[i], &top[0]));
    /* brute force: every (tp, pp, cp, dp, ep, microbatches, zero, recompute) with a product of
     * 64, through the public evaluator */
    int64_t evaluated = 0, fitting = 0, beaten = 0;
    static const int64_t d64[] = {1, 2, 4, 8, 16, 32, 64};
    for (int a = 0; a < 7; a++)
        for (int b = 0; b < 7; b++)
            for (int c = 0; c < 7; c++) {
                int64_t tp = d64[a], pp = d64[b], cp = d64[c];
                if (tp * pp * cp > 64) continue;
                int64_t dp = 64 / (tp * pp * cp);
                for (int e = 0; e < 7; e++)
                    for (int64_t mb = 1; mb <= 128; mb *= 2) /* 128 / dp is a power of 2 */
                        for (int z = 0; z <= 3; z++)
                            for (int rc = 0; rc <= 2; rc++) {
                                trn_plan_config cfg = {tp, pp, dp, d64[e], cp, mb, z};
                                trn_plan_train_result r;
                                if (trn_plan_train_eval(m, md, &w, &cfg, rc, &r, NULL) != TRN_OK)
                                    continue;
                                if (z > 0 && dp * cp == 1) continue; /* pruned by the search */
                                evaluated++;
                                if (!r.fits) continue;
                                fitting++;
                                if (better(&r, &top[0])) beaten++;
                            }
            }
    CHECK_EQ_INT(evaluated, st.evaluated);
    CHECK_EQ_INT(fitting, st.fitting);
    CHECK_EQ_INT(beaten, 0);
    /* pins: tp 4 and zero 1 in every result */
    trn_plan_pins pins = {4, 0, 0, 0, 0, 0, 1, -1};
    CHECK_EQ_INT(
        trn_plan_train_search(m, md, &w, &pins, TRN_PLAN_THROUGHPUT, top, 8, &n, &st, &err),
        TRN_OK);
    CHECK(n > 0);
    for (int i = 0; i < n; i++) CHECK(top[i].cfg.tp == 4 && top[i].cfg.zero == 1);
    /* latency and cost objectives order by step time and $ per token */
    CHECK_EQ_INT(trn_plan_train_search(m, md, &w, NULL, TRN_PLAN_LATENCY, top, 8, &n, &st, &err),
                 TRN_OK);
    for (int i = 1; i < n; i++) CHECK(top[i].step_time_s >= top[i - 1].step_time_s);
    trn_plan_machine_destroy(m);
    trn_model_destroy(md);
}

static void test_oom(void) {
    /* Llama-3-70B training on one p5.48xlarge: 16 bytes of states per parameter alone are
     * 1.13 TB against 8 x 80 GB */
    trn_model *md = load("llama-3-70b");
    trn_plan_machine *m = machine("p5.48xlarge", 0);
    CHECK_EQ_INT(m->chips, 8);
    trn_plan_train w = {4096, 64, TRN_HW_BF16, 0};
    trn_plan_train_result top[2];
    int n = 5;
    trn_err err = {0};
    CHECK_EQ_INT(
        trn_plan_train_search(m, md, &w, NULL, TRN_PLAN_THROUGHPUT, top, 2, &n, NULL, &err),
        TRN_E_RANGE);
    CHECK_EQ_INT(n, 0);
    CHECK_CONTAINS(err.msg, "llama-3-70b does not fit on 8 x h100-sxm");
    CHECK_CONTAINS(err.msg, "chips of pipeline stage 0 need");
    CHECK_CONTAINS(err.msg, "74.5 GiB of HBM");
    CHECK_CONTAINS(err.msg, "GiB short");
    CHECK_CONTAINS(err.msg, "optimizer state dominates");
    /* the closest configuration is returned in top[0]: optimizer 12 x params / (tp 8) */
    trn_model_params p;
    trn_model_params_of(md, &p);
    CHECK(!top[0].fits);
    CHECK_NEAR(top[0].mem.optimizer / GIB, 12.0 * (double)p.total / 8 / GIB, 2.0);
    char buf[256];
    trn_plan_memory mem = {10 * GIB, 0, 0, 50 * GIB, 0, 0, 60 * GIB, 40 * GIB, 3};
    trn_plan_memory_explain(&mem, buf, sizeof buf);
    CHECK(strcmp(buf, "chips of pipeline stage 3 need 60.0 GiB but have 40.0 GiB of HBM (20.0 GiB "
                      "short); activations dominate (50.0 GiB)") == 0);
    trn_plan_machine_destroy(m);
    trn_model_destroy(md);
}

/* Uneven stages (pp pinned, not dividing the layers): the busiest stage holds ceil(L / pp)
 * layers. llama-3-8b (32 layers), tp 1, dp 1, 8 microbatches of 1 x 2048 tokens on H100s:
 * pp 2, 4, 5 hold 16, 8 and ceil(32 / 5) = 7 layers on the last stage, so with c1 one layer's
 * forward + backward compute over the 8 microbatches and h the head's,
 *   compute(pp) = 8 lps c1 + h  =>  compute(4) - compute(5) = (compute(2) - compute(4)) / 8.
 * The first stage holds min(m, p) = 5 microbatches of 7 layers of activations. The search
 * never picks an uneven pp by itself (only a pin does), and pp above the layers is refused. */
static void test_uneven_stages(void) {
    trn_model *md = load("llama-3-8b");
    trn_plan_train w = {2048, 8, TRN_HW_BF16, 0};
    trn_plan_train_result r[3];
    trn_err err = {0};
    const int64_t pps[3] = {2, 4, 5};
    for (int i = 0; i < 3; i++) {
        trn_plan_machine *m = machine("p5.48xlarge", pps[i]);
        trn_plan_config c = {1, pps[i], 1, 1, 1, 8, 0};
        CHECK_EQ_INT(trn_plan_train_eval(m, md, &w, &c, TRN_PLAN_RECOMPUTE_NONE, &r[i], &err),
                     TRN_OK);
        trn_plan_machine_destroy(m);
    }
    double c2 = r[0].bd.compute_s, c4 = r[1].bd.compute_s, c5 = r[2].bd.compute_s;
    CHECK(c2 > c4 && c4 > c5);
    CHECK_NEAR(c4 - c5, (c2 - c4) / 8, 1e-9 * c4);
    double s = 2048, b = 1, h = 4096;
    CHECK_EQ_INT(r[2].mem.stage, 0);
    CHECK_NEAR(r[2].mem.activations, s * b * h * (34.0 + 5 * 32 * s / h) * 7 * 5, 1e-3);
    /* the search: unpinned, 5 chips allow pp 1 or 5 only as 5 x 1 x 1; pp 5 does not divide
     * the 32 layers, so only tp and dp splits remain (tp 5 and dp 5 are illegal: no plan) */
    trn_plan_machine *m = machine("p5.48xlarge", 5);
    trn_plan_pins free_pins = {0, 0, 0, 0, 0, 0, -1, -1};
    int found = 0;
    trn_status st =
        trn_plan_train_search(m, md, &w, &free_pins, TRN_PLAN_THROUGHPUT, r, 1, &found, NULL, &err);
    CHECK(st != TRN_OK || found == 0);
    trn_plan_pins pp5 = {0, 5, 0, 0, 0, 8, 0, TRN_PLAN_RECOMPUTE_NONE};
    CHECK_EQ_INT(
        trn_plan_train_search(m, md, &w, &pp5, TRN_PLAN_THROUGHPUT, r, 1, &found, NULL, &err),
        TRN_OK);
    CHECK_EQ_INT(found, 1);
    CHECK_NEAR(r[0].bd.compute_s, c5, 1e-12 * c5);
    trn_plan_machine_destroy(m);
    m = machine("p5.48xlarge", 64);
    trn_plan_config c = {1, 64, 1, 1, 1, 8, 0};
    CHECK_EQ_INT(trn_plan_train_eval(m, md, &w, &c, 0, &r[0], &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "pp 64 exceeds the 32 layers");
    trn_plan_machine_destroy(m);
    trn_model_destroy(md);
}

int main(void) {
    trn_err err = {0};
    if (trn_hw_create(&hw, &err) != TRN_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    test_memory_zero1();
    test_bubble();
    test_mfu();
    test_roofline();
    test_errors();
    test_search();
    test_oom();
    test_uneven_stages();
    trn_hw_destroy(hw);
    return test_summary();
}

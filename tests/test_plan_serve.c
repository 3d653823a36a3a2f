/* The planner's serving and RL models against values worked by hand from docs/planner.md: a
 * memory-bound decode step is bytes / (HBM bandwidth x efficiency) (dense and MoE, where one
 * token reads k of E experts), a compute-bound prefill is the sum of its ops at the roofline,
 * $ per 1M tokens and joules per token from the price and power model, the largest batch that
 * fits, SLO-limited batches, the search against a brute force, errors, the DES step hook and an
 * RL step. */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "test_plan_util.h"
#include "trnsim/plan.h"

#define GIB 1073741824.0

static void test_decode_memory_bound(void) {
    /* Llama-3-8B, one sequence, one H100: TPOT = (matmul weights + KV) / (3.35 TB/s x 0.85)
     * up to the activations' own bytes (< 1%). (On a trn2 chip, with the GEMM efficiency
     * calibrated in docs/validation.md, the one-row GEMMs padded to the 128-row tile cost more
     * than the weight reads: there decode at batch 1 is compute-bound.) */
    trn_model *md = load("llama-3-8b");
    trn_plan_machine *m = machine("p5.48xlarge", 1);
    trn_plan_serve w = {512, 64, 1, TRN_PLAN_W_BF16, TRN_DTYPE_BF16, 0, 0};
    trn_plan_config c = {1, 1, 1, 1, 1, 1, 0};
    trn_plan_serve_result r;
    trn_err err = {0};
    CHECK_EQ_INT(trn_plan_serve_eval(m, md, &w, &c, &r, &err), TRN_OK);
    trn_model_params p;
    trn_model_params_of(md, &p);
    double kv = 0;
    trn_model_kv_bytes(md, TRN_DTYPE_BF16, 512 + 32, NULL, &kv, &err);
    CHECK_NEAR(kv, 131072.0 * 544, 0); /* 32 layers x 2 x 8 x 128 x 2 bytes per token */
    double bytes = 2.0 * (double)p.compute + kv;
    double t = bytes / (3.35e12 * 0.85);
    CHECK(r.tpot_s >= t);
    CHECK_MSG(r.tpot_s <= 1.01 * t, "tpot %g vs bytes/bw %g", r.tpot_s, t);
    CHECK(r.decode.compute_s < 0.05 * r.tpot_s); /* one token: the weights dominate */
    CHECK_EQ_INT(r.batch, 1);
    CHECK_NEAR(r.e2e_s, r.ttft_s + 63 * r.tpot_s, 1e-12);
    CHECK_NEAR(r.throughput_tokens_per_s, 64 / r.e2e_s, 1e-9);
    trn_plan_machine_destroy(m);
    trn_model_destroy(md);

    /* Mixtral 8x7B: one token reads 2 of the 8 experts of each layer, 1 - (1 - 2/8)^1 = 1/4 */
    md = load("mixtral-8x7b");
    m = machine("p5.48xlarge", 1);
    CHECK_EQ_INT(trn_plan_serve_eval(m, md, &w, &c, &r, &err), TRN_OK);
    trn_model_params_of(md, &p);
    trn_model_kv_bytes(md, TRN_DTYPE_BF16, 544, NULL, &kv, &err);
    t = (2.0 * (double)p.compute + kv) / (3.35e12 * 0.85);
    CHECK(r.tpot_s >= t);
    CHECK_MSG(r.tpot_s <= 1.01 * t, "tpot %g vs bytes/bw %g", r.tpot_s, t);
    trn_plan_machine_destroy(m);
    trn_model_destroy(md);
}

static void test_prefill_cost_energy(void) {
    /* Llama-3-8B prefill of one 2048-token prompt on one trn2 chip, every op by hand */
    trn_model *md = load("llama-3-8b");
    trn_plan_machine *m = machine("trn2.48xlarge", 1);
    trn_plan_serve w = {2048, 128, 1, TRN_PLAN_W_BF16, TRN_DTYPE_BF16, 0, 0};
    trn_plan_config c = {1, 1, 1, 1, 1, 1, 0};
    trn_plan_serve_result r;
    trn_err err = {0};
    CHECK_EQ_INT(trn_plan_serve_eval(m, md, &w, &c, &r, &err), TRN_OK);
    double P = 629.1456e12, T = 2048, h = 4096, f = 14336, V = 128256, L = 32;
    CHECK_NEAR(m->roof.peak_flops[TRN_HW_BF16], P, 1);
    trn_model_flops fl;
    trn_model_flops_seq(md, 2048, &fl, &err);
    /* projections (q 4096 + k 1024 + v 1024 + o 4096 columns) and SwiGLU (3 x 14336) at
     * the catalog's GEMM efficiency, the LM head of the last token (m = 1: 1/128 of the tile
     * used, but memory-bound), attention at 0.5 of peak, elementwise 2 bytes x (10h + 3f) per
     * token */
    double ge = m->roof.gemm_eff; /* the catalog's (calibrated, docs/validation.md) */
    double gemm = L * 2 * T * h * (10240 + 3 * f) / (P * ge);
    double head_c = 2 * 1 * h * V / (P * ge / 128);
    double head_m = (1 * h * 2 + h * V * 2 + 1 * V * 2) / (2.9e12 * 0.85);
    double attn = fl.attn * T / (P * 0.5);
    double elem = L * T * 2 * (10 * h + 3 * f) / (2.9e12 * 0.85);
    double ttft = gemm + (head_c > head_m ? head_c : head_m) + attn + elem;
    CHECK_NEAR(r.ttft_s, ttft, 1e-9 * ttft);
    /* $ per 1M tokens: 1 chip x 3.00 $/h; prefill time charged to the 2048 input tokens, the
     * 127 decode steps to the 128 output tokens */
    CHECK_NEAR(r.usd_per_1m_input, 3.0 / 3600 * ttft / 2048 * 1e6, 1e-9);
    CHECK_NEAR(r.usd_per_1m_output, 3.0 / 3600 * 127 * r.tpot_s / 128 * 1e6, 1e-9);
    /* energy: no communication, so the chip is busy (u = 1) in both phases: 500 W x 1.15 PUE */
    CHECK_NEAR(r.joules_per_input_token, 575 * ttft / 2048, 1e-9);
    CHECK_NEAR(r.joules_per_output_token, 575 * 127 * r.tpot_s / 128, 1e-9);
    CHECK_NEAR(r.joules_per_token, 575 * r.e2e_s / 128, 1e-9);
    /* the DES hook gives the same step times */
    trn_plan_des_ctx dc = {m, md, &w, &c};
    CHECK_NEAR(trn_plan_des_step(&dc, 2048, 0, 0), r.ttft_s, 1e-12);
    CHECK_NEAR(trn_plan_des_step(&dc, 0, 1, 2048 + 64), r.tpot_s, 1e-12);
    trn_plan_machine_destroy(m);
    trn_model_destroy(md);
}

static void test_batch_limits(void) {
    trn_model *md = load("llama-3-70b");
    trn_plan_machine *m = machine("trn2.48xlarge", 16);
    trn_plan_serve w = {2048, 256, 0, TRN_PLAN_W_MODEL, TRN_DTYPE_BF16, 0, 0};
    trn_plan_config c = {4, 1, 4, 1, 1, 1, 0};
    trn_plan_serve_result r, r2;
    trn_err err = {0};
    CHECK_EQ_INT(trn_plan_serve_eval(m, md, &w, &c, &r, &err), TRN_OK);
    CHECK(r.fits && r.batch == r.max_batch && r.batch % 4 == 0);
    CHECK(r.mem.total <= r.mem.capacity);
    /* KV per chip: batch / 4 replicas x KV of 2304 tokens / tp 4 (8 KV heads split 4 ways) */
    double kv = 0;
    trn_model_kv_bytes(md, TRN_DTYPE_BF16, 2304, NULL, &kv, &err);
    CHECK_NEAR(r.mem.kv_cache, (double)(r.batch / 4) * kv / 4, 1e-3);
    /* weights per chip: 16-bit, matmuls / 4 */
    trn_model_params p;
    trn_model_params_of(md, &p);
    CHECK_NEAR(
        r.mem.weights,
        2 * ((double)(p.attn + p.mlp) / 4 + (double)p.norms + (double)(p.embed + p.lm_head) / 4),
        1e-3);
    /* one more sequence per replica does not fit */
    w.batch = r.max_batch + 4;
    CHECK_EQ_INT(trn_plan_serve_eval(m, md, &w, &c, &r2, &err), TRN_OK);
    CHECK(!r2.fits && r2.mem.total > r2.mem.capacity);
    /* a TPOT SLO between the times of batch 8 and batch 64 per replica */
    trn_plan_serve_result a, b;
    w.batch = 32;
    trn_plan_serve_eval(m, md, &w, &c, &a, &err);
    w.batch = 256;
    trn_plan_serve_eval(m, md, &w, &c, &b, &err);
    CHECK(a.tpot_s < b.tpot_s && a.ttft_s < b.ttft_s);
    w.batch = 0;
    w.tpot_slo_s = (a.tpot_s + b.tpot_s) / 2;
    CHECK_EQ_INT(trn_plan_serve_eval(m, md, &w, &c, &r, &err), TRN_OK);
    CHECK(r.fits && r.meets_slo && r.tpot_s <= w.tpot_slo_s);
    CHECK(r.batch > 32 && r.batch < 256);
    w.batch = r.batch + 4; /* the next batch breaks the SLO */
    CHECK_EQ_INT(trn_plan_serve_eval(m, md, &w, &c, &r2, &err), TRN_OK);
    CHECK(r2.tpot_s > w.tpot_slo_s && !r2.meets_slo && !r2.fits);
    trn_plan_machine_destroy(m);
    trn_model_destroy(md);
}

static void test_serve_search(void) {
    trn_model *md = load("mixtral-8x7b");
    trn_plan_machine *m = machine("trn2-ultraserver", 64);
    trn_plan_serve w = {1024, 256, 0, TRN_PLAN_W_MODEL, TRN_DTYPE_BF16, 0, 0};
    trn_plan_serve_result top[4], r;
    int n = 0;
    trn_plan_search_stats st;
    trn_err err = {0};
    CHECK_EQ_INT(trn_plan_serve_search(m, md, &w, NULL, TRN_PLAN_THROUGHPUT, top, 4, &n, &st, &err),
                 TRN_OK);
    CHECK_EQ_INT(n, 4);
    static const int64_t d[] = {1, 2, 4, 8, 16, 32, 64};
    int64_t evaluated = 0, beaten = 0;
    for (int a = 0; a < 7; a++)
        for (int b = 0; b < 7; b++)
            for (int e = 0; e < 7; e++) {
                if (d[a] * d[b] > 64) continue;
                trn_plan_config c = {d[a], d[b], 64 / (d[a] * d[b]), d[e], 1, 1, 0};
                if (trn_plan_serve_eval(m, md, &w, &c, &r, NULL) != TRN_OK) continue;
                evaluated++;
                if (r.fits && r.throughput_tokens_per_s > top[0].throughput_tokens_per_s) beaten++;
            }
    CHECK_EQ_INT(evaluated, st.evaluated);
    CHECK_EQ_INT(beaten, 0);
    for (int i = 1; i < n; i++)
        CHECK(top[i].throughput_tokens_per_s <= top[i - 1].throughput_tokens_per_s);
    /* pinned ep */
    trn_plan_pins pins = {0, 0, 0, 8, 0, 0, -1, -1};
    CHECK_EQ_INT(trn_plan_serve_search(m, md, &w, &pins, TRN_PLAN_LATENCY, top, 4, &n, &st, &err),
                 TRN_OK);
    for (int i = 0; i < n; i++) CHECK(top[i].cfg.ep == 8);
    for (int i = 1; i < n; i++) CHECK(top[i].e2e_s >= top[i - 1].e2e_s);
    trn_plan_machine_destroy(m);
    trn_model_destroy(md);
}

static void test_serve_errors(void) {
    trn_model *md = load("llama-3-8b");
    trn_plan_machine *m = machine("trn2.48xlarge", 16);
    trn_plan_serve w = {1024, 128, 0, TRN_PLAN_W_MXFP4, TRN_DTYPE_BF16, 0, 0};
    trn_plan_serve_result r[2];
    int n;
    trn_err err = {0};
    CHECK_EQ_INT(trn_plan_serve_search(m, md, &w, NULL, 0, r, 2, &n, NULL, &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "mxfp4 applies to routed experts; llama-3-8b has none");
    w.weights = TRN_PLAN_W_BF16;
    trn_plan_config c = {1, 1, 16, 1, 2, 1, 0};
    CHECK_EQ_INT(trn_plan_serve_eval(m, md, &w, &c, r, &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "training only");
    w.input_len = 9000;
    CHECK_EQ_INT(trn_plan_serve_search(m, md, &w, NULL, 0, r, 2, &n, NULL, &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "exceeds llama-3-8b's 8192 positions");
    trn_model_destroy(md);
    md = load("bert-large");
    w.input_len = 128;
    CHECK_EQ_INT(trn_plan_serve_search(m, md, &w, NULL, 0, r, 2, &n, NULL, &err),
                 TRN_E_UNSUPPORTED);
    CHECK_CONTAINS(err.msg, "encoder");
    trn_model_destroy(md);
    trn_plan_machine_destroy(m);
    /* an SLO nothing meets */
    md = load("llama-3-8b");
    m = machine("trn1.32xlarge", 16);
    trn_plan_serve s = {2048, 128, 0, TRN_PLAN_W_BF16, TRN_DTYPE_BF16, 0, 1e-6};
    CHECK_EQ_INT(trn_plan_serve_search(m, md, &s, NULL, 0, r, 2, &n, NULL, &err), TRN_E_RANGE);
    CHECK_CONTAINS(err.msg, "meets no SLO");
    trn_plan_machine_destroy(m);
    trn_model_destroy(md);
}

static void test_rl(void) {
    trn_model *md = load("llama-3-8b");
    trn_plan_machine *m = machine("trn2.48xlarge", 16);
    trn_plan_rl w = {512, 1024, 256, TRN_HW_BF16, TRN_DTYPE_BF16};
    trn_plan_rl_result r;
    trn_err err = {0};
    CHECK_EQ_INT(trn_plan_rl_search(m, md, &w, NULL, TRN_PLAN_THROUGHPUT, &r, &err), TRN_OK);
    CHECK_NEAR(r.step_time_s, r.rollout_s + r.update.step_time_s, 1e-12);
    /* 256 rollouts fit at once: one wave, 16 per replica */
    CHECK_EQ_INT(r.rollout.batch, 256);
    CHECK_EQ_INT(r.rollout_waves, 1);
    CHECK_NEAR(r.rollout_s, r.rollout.e2e_s, 0);
    CHECK(r.update.fits);
    CHECK_NEAR(r.update.tokens_per_s * r.update.step_time_s, 256.0 * 1536, 1e-3);
    CHECK_NEAR(r.usd_per_step, r.step_time_s / 3600 * 16 * 3.0, 1e-9);
    CHECK_NEAR(r.energy_j_per_step,
               r.rollout.power_w * r.rollout_s + r.update.power_w * r.update.step_time_s, 1e-6);
    /* 1024 decode steps of 16 sequences per replica: the 16-row GEMMs padded to the 128-row
     * tile (q = 1/8) at the calibrated GEMM efficiency 0.33 cost 2 x 8e9 x 128 / (629 T x 0.33)
     * = 9.9 ms a step, more than reading the 16 GB of weights (6.5 ms): compute-bound */
    CHECK(m->roof.gemm_eff < 0.5);
    CHECK(strcmp(trn_plan_limiter(&r.rollout_bd), "compute") == 0);
    CHECK(strcmp(trn_plan_limiter(&r.update.bd), "compute") == 0);
    /* 65,536 rollouts of 4,096 tokens exceed the KV cache: waves of the largest batch */
    trn_plan_rl big = {2048, 2048, 65536, TRN_HW_BF16, TRN_DTYPE_BF16};
    CHECK_EQ_INT(trn_plan_rl_search(m, md, &big, NULL, TRN_PLAN_THROUGHPUT, &r, &err), TRN_OK);
    CHECK(r.rollout_waves > 1);
    CHECK_EQ_INT(r.rollout_waves, (65536 + r.rollout.batch - 1) / r.rollout.batch);
    CHECK(r.rollout.batch == r.rollout.max_batch);
    CHECK_NEAR(r.rollout_s, (double)r.rollout_waves * r.rollout.e2e_s, 1e-9);
    trn_plan_machine_destroy(m);
    trn_model_destroy(md);
}

int main(void) {
    trn_err err = {0};
    if (trn_hw_create(&hw, &err) != TRN_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    test_decode_memory_bound();
    test_prefill_cost_energy();
    test_batch_limits();
    test_serve_search();
    test_serve_errors();
    test_rl();
    trn_hw_destroy(hw);
    return test_summary();
}

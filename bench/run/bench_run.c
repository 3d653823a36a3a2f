/* The model runner (include/trnsim/run.h): host speed of the functional path (simulated
 * tokens per host second on the catalog's tiny-llama, every op's numerics on the functional
 * NeuronCore) and host wall time and peak memory of the timing-only path at full size
 * (Llama-3-8B prefill of 2048 tokens + decode steps, Llama-3-70B, Mixtral 8x7B, GPT-OSS-120B),
 * each with a fresh program cache so compile and timing of every distinct shape count.
 *
 * Usage: bench_run [chip] (default trn2). Run by `make bench`, never by CTest. Figures go to
 * docs/performance.md ("Model runner"). */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "trnsim/plan.h"
#include "trnsim/run.h"
#include "trnsim/trnsim.h"

static double now_s(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_s(void) {
    return (double)clock() / CLOCKS_PER_SEC;
}

static double peak_mib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* Linux: KiB */
}

static int functional(const trn_hw *hw, const char *chip) {
    trn_err err = {0};
    trn_run_model *rm = NULL;
    trn_runtime *rt = NULL;
    trn_run *run = NULL;
    trn_run_result res;
    int32_t prompt[16];
    for (int i = 0; i < 16; i++) prompt[i] = (int32_t)(i * 31 + 7);
    enum { NEW = 32 };
    if (trn_run_model_open("tiny-llama", 0, 0, &rm, &err) != TRN_OK ||
        trn_run_runtime_create(hw, chip, &rt, &err) != TRN_OK)
        goto fail;
    trn_run_opts o = {0};
    /* on one core, then split over the chip's 8: first a warm-up that compiles every program,
     * then the measured run from the cache (each run binds its resident weights afresh); last,
     * one core from the cache again with a fresh core created per launch
     * (trn_runtime_set_fresh_cores, the reference path), against the reused work core */
    double rate[5] = {0};
    for (int pass = 0; pass < 5; pass++) {
        o.cores = pass < 2 || pass == 4 ? 1 : 8;
        trn_runtime_set_fresh_cores(rt, pass == 4);
        if (trn_run_create(trn_run_model_model(rm), trn_run_model_weights(rm), rt, &o, &run,
                           &err) != TRN_OK)
            goto fail;
        double t0 = now_s(), c0 = cpu_s();
        if (trn_run_generate(run, prompt, 16, NEW, NULL, 0, NULL, NULL, &res, &err) != TRN_OK)
            goto fail;
        double dt = now_s() - t0, dc = cpu_s() - c0;
        rate[pass] = NEW / dc;
        printf("tiny-llama functional on %s, %d core%s (%s): 16-token prompt + %d tokens: %.2f s "
               "wall, %.2f s CPU: %.2f tokens per CPU second (simulated TTFT %.1f us, TPOT %.1f "
               "us)\n",
               chip, o.cores, o.cores > 1 ? "s" : "",
               pass == 4  ? "programs cached, a fresh core per launch"
               : pass % 2 ? "programs cached"
                          : "cold, compiling",
               NEW, dt, dc, NEW / dc, res.ttft_ns / 1e3, res.tpot_ns / 1e3);
        if (pass == 4)
            printf("  the reused work core: %.2fx the fresh cores' tokens per CPU second\n",
                   rate[1] / rate[4]);
        trn_run_result_fini(&res);
        trn_run_destroy(run);
        run = NULL;
    }
    trn_run_runtime_destroy(rt);
    trn_run_model_close(rm);
    return 0;
fail:
    fprintf(stderr, "bench_run: %s\n", err.msg);
    trn_run_destroy(run);
    trn_run_runtime_destroy(rt);
    trn_run_model_close(rm);
    return 1;
}

static int timing(const trn_hw *hw, const char *chip, const char *model, int64_t prompt,
                  int64_t new_tokens, int cores) {
    trn_err err = {0};
    trn_run_model *rm = NULL;
    trn_runtime *rt = NULL;
    trn_run *run = NULL;
    trn_run_result res;
    double t0 = now_s(), c0 = cpu_s();
    trn_run_opts o = {0};
    o.timing_only = 1, o.cores = cores;
    if (trn_run_model_open(model, 1, 0, &rm, &err) != TRN_OK ||
        trn_run_runtime_create(hw, chip, &rt, &err) != TRN_OK ||
        trn_run_create(trn_run_model_model(rm), NULL, rt, &o, &run, &err) != TRN_OK ||
        trn_run_generate(run, NULL, prompt, new_tokens, NULL, 0, NULL, NULL, &res, &err) !=
            TRN_OK) {
        fprintf(stderr, "bench_run: %s: %s\n", model, err.msg);
        trn_run_destroy(run);
        trn_run_runtime_destroy(rt);
        trn_run_model_close(rm);
        return 1;
    }
    double dt = now_s() - t0, dc = cpu_s() - c0;
    printf("%-14s %5lld + %3lld  %d core%s  %7.2f s %7.2f s  %7.0f MiB  %4d  %12.2f  %10.3f  "
           "%6.1f%%\n",
           model, (long long)prompt, (long long)new_tokens - 1, cores, cores > 1 ? "s" : " ", dt,
           dc, peak_mib(), trn_run_runtime_programs(rt), res.ttft_ns / 1e6, res.tpot_ns / 1e6,
           100 * trn_run_prof_mfu(&res.prefill));
    trn_run_result_fini(&res);
    trn_run_destroy(run);
    trn_run_runtime_destroy(rt);
    trn_run_model_close(rm);
    return 0;
}

/* ---- Llama-3-8B on one trn2 chip: the simulator's ops beside the planner's roofline -------- */

enum { H8 = 4096, NH8 = 32, NKV8 = 8, HD8 = 128, FF8 = 14336, V8 = 128256, L8 = 32 };

static double sim_cls(const trn_run_prof *p, const char *cls) {
    double t = 0;
    for (int i = 0; i < p->nops; i++)
        if (!strcmp(p->ops[i].cls, cls)) t += p->ops[i].time_ns;
    return t / (double)(p->steps ? p->steps : 1);
}

static double roof_gemm(const trn_plan_machine *pm, int64_t m, int64_t k, int64_t n) {
    trn_plan_op op = {0};
    op.kind = TRN_PLAN_OP_GEMM, op.dtype = TRN_HW_BF16, op.m = m, op.k = k, op.n = n;
    op.count = 1, op.a_bytes = 2, op.w_bytes = 2;
    trn_plan_op_time t;
    pm->cost.time(pm->cost.ctx, &op, &t);
    return t.seconds * 1e9;
}

static double roof_bytes(const trn_plan_machine *pm, double bytes) {
    trn_plan_op op = {0};
    op.kind = TRN_PLAN_OP_ELEMWISE, op.kv_bytes = bytes;
    trn_plan_op_time t;
    pm->cost.time(pm->cost.ctx, &op, &t);
    return t.seconds * 1e9;
}

/* Causal attention of T queries at positions ctx - T .. ctx - 1. */
static double roof_attn(const trn_plan_machine *pm, int64_t T, int64_t ctx) {
    double pairs = (double)T * (double)(ctx - T) + (double)T * (double)(T + 1) / 2;
    trn_plan_op op = {0};
    op.kind = TRN_PLAN_OP_ATTENTION, op.batch = 1, op.heads = NH8, op.q_len = T;
    op.keys = pairs / (double)T;
    op.flops = 4.0 * NH8 * HD8 * pairs;
    op.kv_bytes = 2.0 * (double)ctx * NKV8 * HD8 * 2;
    op.io_bytes = 2.0 * (double)T * NH8 * HD8 * 2;
    trn_plan_op_time t;
    pm->cost.time(pm->cost.ctx, &op, &t);
    return t.seconds * 1e9;
}

static int roofline_compare(const trn_hw *hw) {
    trn_err err = {0};
    trn_run_model *rm = NULL;
    trn_runtime *rt = NULL;
    trn_run *run = NULL;
    trn_plan_machine *pm = NULL;
    trn_run_result res;
    trn_run_opts o = {0};
    o.timing_only = 1, o.cores = 8;
    const int64_t T = 2048;
    if (trn_run_model_open("llama-3-8b", 1, 0, &rm, &err) != TRN_OK ||
        trn_run_runtime_create(hw, "trn2", &rt, &err) != TRN_OK ||
        trn_run_create(trn_run_model_model(rm), NULL, rt, &o, &run, &err) != TRN_OK ||
        trn_run_generate(run, NULL, T, 2, NULL, 0, NULL, NULL, &res, &err) != TRN_OK ||
        trn_plan_machine_create(trn_hw_system_get(hw, "trn2.48xlarge"), 1, &pm, &err) != TRN_OK) {
        fprintf(stderr, "bench_run: roofline comparison: %s\n", err.msg);
        trn_run_destroy(run);
        trn_run_runtime_destroy(rt);
        trn_run_model_close(rm);
        return 1;
    }
    /* per layer: class, simulator (all layers / 32), roofline of the same op, prefill then
     * the decode step at 2049 keys */
    struct {
        const char *cls;
        double rp, rd;
    } rows[] = {
        {"attn_norm", roof_bytes(pm, 4.0 * T * H8 + 2 * H8), roof_bytes(pm, 4.0 * H8 + 2 * H8)},
        {"q", roof_gemm(pm, T, H8, H8), roof_gemm(pm, 1, H8, H8)},
        {"k", roof_gemm(pm, T, H8, NKV8 * HD8), roof_gemm(pm, 1, H8, NKV8 * HD8)},
        {"v", roof_gemm(pm, T, H8, NKV8 * HD8), roof_gemm(pm, 1, H8, NKV8 * HD8)},
        {"q_rope", roof_bytes(pm, 4.0 * T * H8 + 4.0 * T * HD8),
         roof_bytes(pm, 4.0 * H8 + 4.0 * HD8)},
        {"k_rope", roof_bytes(pm, 4.0 * T * NKV8 * HD8 + 4.0 * T * HD8),
         roof_bytes(pm, 4.0 * NKV8 * HD8 + 4.0 * HD8)},
        {"attn", roof_attn(pm, T, T), roof_attn(pm, 1, T + 1)},
        {"attn_out", roof_gemm(pm, T, H8, H8), roof_gemm(pm, 1, H8, H8)},
        {"attn_res", roof_bytes(pm, 6.0 * T * H8), roof_bytes(pm, 6.0 * H8)},
        {"mlp_norm", roof_bytes(pm, 4.0 * T * H8 + 2 * H8), roof_bytes(pm, 4.0 * H8 + 2 * H8)},
        {"gate", roof_gemm(pm, T, H8, FF8), roof_gemm(pm, 1, H8, FF8)},
        {"up", roof_gemm(pm, T, H8, FF8), roof_gemm(pm, 1, H8, FF8)},
        {"swiglu", roof_bytes(pm, 6.0 * T * FF8), roof_bytes(pm, 6.0 * FF8)},
        {"down", roof_gemm(pm, T, FF8, H8), roof_gemm(pm, 1, FF8, H8)},
        {"mlp_res", roof_bytes(pm, 6.0 * T * H8), roof_bytes(pm, 6.0 * H8)},
    };
    printf("\nLlama-3-8B on one trn2 chip (8 NeuronCores, each op split over them), prefill of "
           "%lld tokens\nand the decode step at %lld keys, per layer, in us: the simulator "
           "(timing-only) beside\nthe planner's roofline (%s provider, catalog efficiencies)\n",
           (long long)T, (long long)T + 1, pm->cost.name);
    printf("  %-10s %12s %12s %7s %12s %12s %7s\n", "op", "sim prefill", "roofline", "ratio",
           "sim decode", "roofline", "ratio");
    double sp = 0, rp = 0, sd = 0, rd = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double a = sim_cls(&res.prefill, rows[i].cls) / L8,
               b = sim_cls(&res.decode, rows[i].cls) / L8;
        sp += a, rp += rows[i].rp, sd += b, rd += rows[i].rd;
        printf("  %-10s %12.2f %12.2f %7.2f %12.2f %12.2f %7.2f\n", rows[i].cls, a / 1e3,
               rows[i].rp / 1e3, a / rows[i].rp, b / 1e3, rows[i].rd / 1e3, b / rows[i].rd);
    }
    printf("  %-10s %12.2f %12.2f %7.2f %12.2f %12.2f %7.2f\n", "layer", sp / 1e3, rp / 1e3,
           sp / rp, sd / 1e3, rd / 1e3, sd / rd);
    double lh = sim_cls(&res.prefill, "logits"), lhd = sim_cls(&res.decode, "logits");
    double rl = roof_gemm(pm, 1, H8, V8);
    printf("  %-10s %12.2f %12.2f %7.2f %12.2f %12.2f %7.2f\n", "lm_head", lh / 1e3, rl / 1e3,
           lh / rl, lhd / 1e3, rl / 1e3, lhd / rl);
    printf("  %-10s %12.2f %12.2f %7.2f %12.2f %12.2f %7.2f   (32 layers + final norm + head)\n",
           "model", res.ttft_ns / 1e3, (L8 * rp + rl) / 1e3, res.ttft_ns / (L8 * rp + rl),
           res.tpot_ns / 1e3, (L8 * rd + rl) / 1e3, res.tpot_ns / (L8 * rd + rl));
    trn_plan_machine_destroy(pm);
    trn_run_result_fini(&res);
    trn_run_destroy(run);
    trn_run_runtime_destroy(rt);
    trn_run_model_close(rm);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--roofline")) { /* the docs/models.md table alone */
        trn_hw *h = NULL;
        if (trn_hw_create(&h, NULL) != TRN_OK) return 1;
        int r = roofline_compare(h);
        trn_hw_destroy(h);
        return r;
    }
    const char *chip = argc > 1 ? argv[1] : "trn2";
    trn_hw *hw = NULL;
    trn_err err = {0};
    if (trn_hw_create(&hw, &err) != TRN_OK) {
        fprintf(stderr, "bench_run: %s\n", err.msg);
        return 1;
    }
    int bad = functional(hw, chip);
    printf("\ntiming-only at full size on %s (fresh program cache each; peak RSS of the process so "
           "far)\n",
           chip);
    printf("%-14s %-12s %-7s %9s %9s %11s %5s %12s %10s %7s\n", "model", "prompt+dec", "split",
           "wall", "CPU", "peak RSS", "progs", "TTFT ms", "TPOT ms", "PE util");
    bad |= timing(hw, chip, "llama-3-8b", 2048, 9, 1);
    bad |= timing(hw, chip, "llama-3-8b", 2048, 9, 8);
    bad |= timing(hw, chip, "llama-3-70b", 2048, 9, 8);
    bad |= timing(hw, chip, "mixtral-8x7b", 2048, 9, 8);
    bad |= timing(hw, chip, "gpt-oss-120b", 2048, 9, 8);
    bad |= roofline_compare(hw);
    trn_hw_destroy(hw);
    return bad;
}

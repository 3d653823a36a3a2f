/* trnsim demo: what `make demo` runs on embedded defaults: the hardware catalog, a tiled BF16
 * matmul kernel run on Trainium1, 2 and 3 (bit-exact against the documented matmul contract,
 * with each generation's timing side by side), the compiler's flash-style attention kernel on
 * trn2 and trn3 (against a double-precision reference), a numerics tour (one activation-like
 * vector through every Trainium data type), the catalog's tiny-llama generating on a simulated trn2
 * and trn3 NeuronCore with the per-layer and per-op profile side by side, and the planner's
 * `plan serve` of Llama-3-70B on trn2.48xlarge and on p5.48xlarge. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "trnsim/core.h"
#include "trnsim/run.h"
#include "trnsim/runtime.h"
#include "trnsim/timing.h"

#define DEMO_N 256

/* One row of the table: three sample values, NMSE of y against x, how many non-zero inputs
 * became zero and how many outliers (|x| > 448) lost more than 10%. */
static void row(const char *name, const float *x, const float *y, size_t n) {
    double num = 0, den = 0;
    int zeroed = 0, clipped = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)y[i] - x[i];
        num += d * d;
        den += (double)x[i] * x[i];
        zeroed += x[i] != 0 && y[i] == 0;
        clipped += fabsf(x[i]) > 448 && fabs(d) > 0.1 * fabsf(x[i]);
    }
    printf("  %-22s %10.6g %10.6g %10.6g  %9.3e %7d %8d\n", name, (double)y[1], (double)y[7],
           (double)y[100], num / den, zeroed, clipped);
}

static void numerics_tour(void) {
    /* A deterministic activation-like vector: a smooth signal over four decades plus one
     * outlier per 32-block, the case that separates per-tensor from per-block scaling. */
    static float x[DEMO_N], y[DEMO_N];
    static uint32_t codes[DEMO_N];
    static uint8_t scales[DEMO_N / TRN_MX_BLOCK], mx[DEMO_N];
    for (int i = 0; i < DEMO_N; i++) {
        float r = (float)(trn_rng_u32(2026, (uint64_t)i) >> 8) * 0x1p-24f; /* [0, 1) */
        x[i] = sinf(0.37f * (float)i) * powf(10.0f, -2.0f + 3.0f * r);
        if (i % TRN_MX_BLOCK == 7) x[i] = 300.0f + 4.0f * (float)i;
    }
    printf("\nNumerics: %d activation-like values (one outlier per block of 32) through each "
           "type\n",
           DEMO_N);
    printf("  %-22s %10s %10s %10s  %9s %7s %8s\n", "type", "x[1]", "x[7]", "x[100]", "NMSE",
           "zeroed", "clipped");
    row("f32 (input)", x, x, DEMO_N);
    static const trn_dtype scalar[] = {TRN_DTYPE_TF32, TRN_DTYPE_BF16, TRN_DTYPE_F16,
                                       TRN_DTYPE_FP8_E4M3, TRN_DTYPE_FP8_E5M2};
    for (size_t k = 0; k < sizeof scalar / sizeof scalar[0]; k++) {
        trn_cvt_array(scalar[k], x, codes, DEMO_N, &TRN_CVT_RNE_SAT);
        /* codes are in the dtype's container; decode from the same buffer */
        trn_decode_array(scalar[k], codes, y, DEMO_N);
        row(trn_dtype_name(scalar[k]), x, y, DEMO_N);
    }
    static const trn_dtype mxe[] = {TRN_DTYPE_FP8_E4M3, TRN_DTYPE_FP8_E5M2, TRN_DTYPE_FP6_E3M2,
                                    TRN_DTYPE_FP4_E2M1, TRN_DTYPE_INT8};
    for (size_t k = 0; k < sizeof mxe / sizeof mxe[0]; k++) {
        char name[40];
        snprintf(name, sizeof name, "mx%s (ocp scale)", trn_dtype_name(mxe[k]));
        trn_mx_quantize(mxe[k], TRN_SCALE_OCP, x, DEMO_N, &TRN_CVT_RNE, scales, mx);
        trn_mx_dequantize(mxe[k], scales, mx, DEMO_N, y);
        row(name, x, y, DEMO_N);
    }
    printf(
        "  Unscaled fp8_e4m3 saturates outliers at 448; MX formats give each block of 32 its\n"
        "  own power-of-two scale, so outliers survive and small values in the same block\n"
        "  lose precision. Try: trnsim num quantize --format mxfp4_e2m1 --in X.f32 --out Y.f32\n");
}

/* examples/kernels/matmul_tiled.tasm, embedded so the demo needs no files. */
static const char demo_kernel[] =
    ".kernel matmul_tiled\n"
    ".param M = 256\n"
    ".param K = 512\n"
    ".param N = 1024\n"
    ".input  aT bf16 [K, M]\n"
    ".input  b  bf16 [K, N]\n"
    ".output c  f32  [M, N]\n"
    ".sbuf   at bf16 [128, K/128, M]\n"
    ".sbuf   bt bf16 [128, K/128, N]\n"
    ".psum   acc f32 [128, 2, 512]\n"
    ".sbuf   ct f32  [128, M/128, N]\n"
    ".for kt in 0..K/128\n"
    "    dma_copy dst=at[:, kt, :] src=aT[kt*128:(kt+1)*128, :]\n"
    "    dma_copy dst=bt[:, kt, :] src=b[kt*128:(kt+1)*128, :]\n"
    ".end\n"
    ".for mt in 0..M/128\n"
    "  .for nt in 0..N/512\n"
    "    nc_matmul dst=acc[:, nt%2, :] stationary=at[:, 0, mt*128:(mt+1)*128] "
    "moving=bt[:, 0, nt*512:(nt+1)*512] accumulate=false\n"
    "    .for kt in 1..K/128\n"
    "      nc_matmul dst=acc[:, nt%2, :] stationary=at[:, kt, mt*128:(mt+1)*128] "
    "moving=bt[:, kt, nt*512:(nt+1)*512] accumulate=true\n"
    "    .end\n"
    "    tensor_copy dst=ct[:, mt, nt*512:(nt+1)*512] src=acc[:, nt%2, :]\n"
    "  .end\n"
    "  dma_copy dst=c[mt*128:(mt+1)*128, :] src=ct[:, mt, :]\n"
    ".end\n";

enum { DM = 256, DK = 512, DN = 1024 };

/* The contract of docs/semantics.md: each nc_matmul is an fmaf chain over its 128 k in order
 * from +0, accumulated into PSUM with one FP32 addition per chunk. */
static void demo_reference(const double *aT, const double *b, float *c) {
    for (int m = 0; m < DM; m++)
        for (int n = 0; n < DN; n++) {
            float acc = 0.0f;
            for (int kt = 0; kt < DK / 128; kt++) {
                float t = 0.0f;
                for (int k = kt * 128; k < (kt + 1) * 128; k++)
                    t = fmaf((float)aT[(size_t)k * DM + m], (float)b[(size_t)k * DN + n], t);
                acc = kt ? acc + t : t;
            }
            c[(size_t)m * DN + n] = acc;
        }
}

/* One chip: assemble for its core, time it, run it, compare with the reference. Prints a row;
 * returns 0 on success. */
static int kernel_row(trn_cli *cli, const char *chip, const double *aT, const double *b,
                      const float *ref, double *out) {
    const trn_hw_chip *hc = trn_hw_chip_get(cli->hw, chip);
    trn_isa_target target;
    trn_asm_opts ao = {0};
    trn_err err = {0};
    trn_program *p = NULL;
    trn_timing *tm = NULL;
    trn_core *core = NULL;
    int rc = 1;
    if (!hc || trn_isa_target_from_core(hc->core, &target, &err) != TRN_OK) goto fail;
    ao.core_version = target.version;
    if (trn_program_assemble(demo_kernel, "demo:matmul_tiled", &ao, &p, &err) != TRN_OK ||
        trn_program_verify(p, &target, &err) != TRN_OK ||
        trn_timing_run(p, hc->core, hc, NULL, &tm, &err) != TRN_OK ||
        trn_core_create(p, &target, NULL, &core, &err) != TRN_OK ||
        trn_core_tensor_write(core, trn_core_tensor_find(core, "aT"), aT, (size_t)DK * DM, &err) ||
        trn_core_tensor_write(core, trn_core_tensor_find(core, "b"), b, (size_t)DK * DN, &err) ||
        trn_core_run(core, &err) != TRN_OK ||
        trn_core_tensor_read(core, trn_core_tensor_find(core, "c"), out, (size_t)DM * DN, NULL,
                             &err) != TRN_OK)
        goto fail;
    size_t same = 0;
    for (size_t i = 0; i < (size_t)DM * DN; i++) same += (float)out[i] == ref[i];
    const trn_timing_report *r = trn_timing_report_get(tm);
    printf("  %-6s %-4s %9.2f %9.2f %7.1f%% %7.1f%% %9.1f  %-5s %7zu/%zu\n", chip, target.name,
           r->total_ns / 1e3, r->engine[TRN_ENGINE_PE].busy_ns / 1e3,
           100 * r->engine[TRN_ENGINE_PE].utilization, 100 * r->pe_mfu, r->hbm_bps / 1e9,
           trn_engine_short(r->bound), same, (size_t)DM * DN);
    rc = same == (size_t)DM * DN ? 0 : 1;
    goto done;
fail:
    cli_error("demo", "%s: %s", chip, err.msg);
done:
    trn_core_destroy(core);
    trn_timing_destroy(tm);
    trn_program_destroy(p);
    return rc;
}

static int kernel_tour(trn_cli *cli) {
    static double aT[DK * DM], b[DK * DN], out[DM * DN];
    static float ref[DM * DN];
    for (size_t i = 0; i < (size_t)DK * DM; i++) /* BF16-exact inputs in [-2, 2) */
        aT[i] =
            trn_bf16_to_f32(trn_bf16_from_f32((float)((int32_t)trn_rng_u32(1, i) >> 8) * 0x1p-22f));
    for (size_t i = 0; i < (size_t)DK * DN; i++)
        b[i] =
            trn_bf16_to_f32(trn_bf16_from_f32((float)((int32_t)trn_rng_u32(2, i) >> 8) * 0x1p-22f));
    demo_reference(aT, b, ref);
    printf("\nKernel: examples/kernels/matmul_tiled.tasm, c[256,1024] = aT^T @ b (BF16, K = 512),\n"
           "run on one NeuronCore of each generation; results checked bit for bit against the\n"
           "documented matmul contract (docs/semantics.md)\n");
    printf("  %-6s %-4s %9s %9s %8s %8s %9s  %-5s %15s\n", "chip", "core", "time us", "PE us",
           "PE util", "MFU", "HBM GB/s", "bound", "bit-exact");
    int bad = 0;
    bad |= kernel_row(cli, "trn1", aT, b, ref, out);
    bad |= kernel_row(cli, "trn2", aT, b, ref, out);
    bad |= kernel_row(cli, "trn3", aT, b, ref, out);
    printf("  Per-engine timeline: trnsim exec examples/kernels/matmul_tiled.tasm --chip trn2 "
           "--timing-only --trace t.json\n");
    return bad;
}

/* ---- the compiler's attention kernel on trn2 and trn3 ----------------------------------- */

enum { AQ = 256, AL = 1024, AH = 8, AKV = 2, AD = 128 };

/* softmax(q k^T / sqrt(d)) v per head, causal (query i at position AL - AQ + i), GQA: query
 * head h reads kv head h / (AH / AKV); in double. */
static void attention_reference(const double *q, const double *k, const double *v, double *o) {
    static double p[AL];
    for (int i = 0; i < AQ; i++)
        for (int h = 0; h < AH; h++) {
            int g = h / (AH / AKV), pos = AL - AQ + i;
            double mx = -INFINITY, sum = 0;
            for (int j = 0; j <= pos; j++) {
                double s = 0;
                for (int d = 0; d < AD; d++)
                    s += q[(size_t)i * AH * AD + h * AD + d] * k[(size_t)j * AKV * AD + g * AD + d];
                p[j] = s / sqrt((double)AD);
                mx = p[j] > mx ? p[j] : mx;
            }
            for (int j = 0; j <= pos; j++) sum += p[j] = exp(p[j] - mx);
            for (int d = 0; d < AD; d++) {
                double acc = 0;
                for (int j = 0; j <= pos; j++) acc += p[j] * v[(size_t)j * AKV * AD + g * AD + d];
                o[(size_t)i * AH * AD + h * AD + d] = acc / sum;
            }
        }
}

static int attention_tour(trn_cli *cli) {
    static double q[AQ * AH * AD], k[AL * AKV * AD], v[AL * AKV * AD], o[AQ * AH * AD],
        ref[AQ * AH * AD];
    for (size_t i = 0; i < (size_t)AQ * AH * AD; i++) /* BF16-exact inputs in [-1, 1) */
        q[i] =
            trn_bf16_to_f32(trn_bf16_from_f32((float)((int32_t)trn_rng_u32(3, i) >> 8) * 0x1p-23f));
    for (size_t i = 0; i < (size_t)AL * AKV * AD; i++) {
        k[i] =
            trn_bf16_to_f32(trn_bf16_from_f32((float)((int32_t)trn_rng_u32(4, i) >> 8) * 0x1p-23f));
        v[i] =
            trn_bf16_to_f32(trn_bf16_from_f32((float)((int32_t)trn_rng_u32(5, i) >> 8) * 0x1p-23f));
    }
    attention_reference(q, k, v, ref);
    printf("\nKernel: the compiler's flash-style attention (src/compiler/lower_attn.c), %d queries "
           "against\n%d cached keys, %d heads sharing %d KV heads, head dim %d, causal; checked "
           "against a\ndouble-precision softmax(q k^T / sqrt(d)) v\n",
           AQ, AL, AH, AKV, AD);
    printf("  %-6s %-4s %9s %8s %8s %8s %8s  %-5s %10s\n", "chip", "core", "time us", "PE util",
           "ACT us", "DVE us", "instrs", "bound", "NMSE");
    int bad = 0;
    for (int c = 0; c < 2; c++) {
        const char *chip = c ? "trn3" : "trn2";
        trn_runtime *rt = NULL;
        trn_err err = {0};
        trn_lower_op op = {0};
        op.kind = TRN_LOWER_ATTENTION, op.dtype = TRN_DTYPE_BF16, op.out_dtype = TRN_DTYPE_F32;
        op.m = op.q_len = AQ, op.kv_len = AL, op.heads = AH, op.kv_heads = AKV, op.head_dim = AD;
        trn_binding in[3] = {{"q", q, sizeof q / sizeof q[0]},
                             {"k", k, sizeof k / sizeof k[0]},
                             {"v", v, sizeof v / sizeof v[0]}};
        trn_binding out[1] = {{"o", o, sizeof o / sizeof o[0]}};
        trn_op_profile pr;
        if (trn_runtime_create(cli->hw, chip, &rt, &err) != TRN_OK ||
            trn_runtime_run(rt, &op, in, 3, out, 1, &pr, &err) != TRN_OK) {
            cli_error("demo", "attention on %s: %s", chip, err.msg);
            trn_runtime_destroy(rt);
            bad = 1;
            continue;
        }
        double num = 0, den = 0;
        for (size_t i = 0; i < (size_t)AQ * AH * AD; i++)
            num += (o[i] - ref[i]) * (o[i] - ref[i]), den += ref[i] * ref[i];
        printf("  %-6s %-4s %9.2f %7.1f%% %8.2f %8.2f %8d  %-5s %10.2e\n", chip,
               trn_runtime_target(rt)->name, pr.time_ns / 1e3, 100 * pr.pe_mfu,
               pr.engine_busy_ns[TRN_ENGINE_ACT] / 1e3, pr.engine_busy_ns[TRN_ENGINE_DVE] / 1e3,
               pr.instrs, trn_engine_short(pr.bound), num / den);
        /* bf16 probabilities times bf16 v, FP32 accumulation: about 1e-5 (tests/test_lower_attn) */
        bad |= !(num / den < 1e-3);
        trn_runtime_destroy(rt);
    }
    printf("  The lowering emits it as .tasm (docs/lowering.md); a hand-written one is "
           "examples/kernels/flash_attention.tasm\n");
    return bad;
}

/* ---- a model on the simulated chip ------------------------------------------------------- */

enum { DEMO_NEW = 8 };

static double op_ns(const trn_run_prof *p, const char *cls) {
    double t = 0;
    for (int i = 0; i < p->nops; i++)
        if (!strcmp(p->ops[i].cls, cls)) t += p->ops[i].time_ns;
    return t;
}

static double layer_ns(const trn_run_prof *p, int l) {
    double t = 0;
    for (int i = 0; i < p->nops; i++)
        if (p->ops[i].layer == l) t += p->ops[i].time_ns;
    return t;
}

static int model_tour(trn_cli *cli) {
    static const char *const chips[2] = {"trn2", "trn3"};
    static const int32_t prompt[] = {15, 72, 101, 108, 108, 111, 44, 32, 84, 114, 97, 105};
    const int64_t np = (int64_t)(sizeof prompt / sizeof prompt[0]);
    trn_err err = {0};
    trn_run_model *rm = NULL;
    trn_runtime *rt[2] = {NULL, NULL};
    trn_run *run = NULL;
    trn_run_result res[2];
    memset(res, 0, sizeof res);
    int rc = 1;
    if (trn_run_model_open("tiny-llama", 0, 0, &rm, &err) != TRN_OK) goto fail;
    const trn_model *m = trn_run_model_model(rm);
    const trn_model_config *c = trn_model_config_of(m);
    for (int k = 0; k < 2; k++) {
        trn_run_opts o = {0};
        if (trn_run_runtime_create(cli->hw, chips[k], &rt[k], &err) != TRN_OK ||
            trn_run_create(m, trn_run_model_weights(rm), rt[k], &o, &run, &err) != TRN_OK ||
            trn_run_generate(run, prompt, np, DEMO_NEW, NULL, 0, NULL, NULL, &res[k], &err) !=
                TRN_OK)
            goto fail;
        trn_run_destroy(run);
        run = NULL;
    }
    printf("\nModel: models/tiny-llama.json (Llama-3 style: %lld layers, hidden %lld, %lld heads, "
           "%lld kv heads,\nvocab %lld; seeded random weights), a %lld-token prompt and %d greedy "
           "tokens. Every op is\nlowered to a NeuronCore program and run with real numerics on one "
           "simulated NeuronCore\n(bf16 operands, FP32 accumulation).\n",
           (long long)c->layers, (long long)c->hidden, (long long)c->heads, (long long)c->kv_heads,
           (long long)c->vocab, (long long)np, DEMO_NEW);
    for (int k = 0; k < 2; k++) {
        printf("  %s tokens:", chips[k]);
        for (int i = 0; i < DEMO_NEW; i++) printf(" %d", res[k].tokens[i]);
        printf("\n");
    }
    printf("  %-22s %12s %12s\n", "simulated", chips[0], chips[1]);
    printf("  %-22s %12.2f %12.2f\n", "TTFT us (prefill)", res[0].ttft_ns / 1e3,
           res[1].ttft_ns / 1e3);
    printf("  %-22s %12.2f %12.2f\n", "TPOT us (decode step)", res[0].tpot_ns / 1e3,
           res[1].tpot_ns / 1e3);
    printf("  %-22s %12.0f %12.0f\n", "decode tokens/s", res[0].tokens_per_s, res[1].tokens_per_s);
    printf("  %-22s %12s %12s %12s %12s\n", "per layer, us", "prefill", "prefill", "decode",
           "decode");
    for (int l = 0; l < (int)c->layers; l++) {
        char name[24];
        snprintf(name, sizeof name, "layer %d", l);
        printf("  %-22s %12.2f %12.2f %12.2f %12.2f\n", name, layer_ns(&res[0].prefill, l) / 1e3,
               layer_ns(&res[1].prefill, l) / 1e3,
               layer_ns(&res[0].decode, l) / 1e3 / (DEMO_NEW - 1),
               layer_ns(&res[1].decode, l) / 1e3 / (DEMO_NEW - 1));
    }
    printf("  %-22s %12.2f %12.2f %12.2f %12.2f\n", "embed, norm, lm_head",
           layer_ns(&res[0].prefill, -1) / 1e3, layer_ns(&res[1].prefill, -1) / 1e3,
           layer_ns(&res[0].decode, -1) / 1e3 / (DEMO_NEW - 1),
           layer_ns(&res[1].decode, -1) / 1e3 / (DEMO_NEW - 1));
    static const char *const cls[] = {"attn_norm", "q",        "k",    "v",  "q_rope", "k_rope",
                                      "attn",      "attn_out", "gate", "up", "swiglu", "down"};
    printf("  per op (all layers)\n");
    for (size_t i = 0; i < sizeof cls / sizeof cls[0]; i++)
        printf("    %-20s %12.2f %12.2f %12.2f %12.2f\n", cls[i],
               op_ns(&res[0].prefill, cls[i]) / 1e3, op_ns(&res[1].prefill, cls[i]) / 1e3,
               op_ns(&res[0].decode, cls[i]) / 1e3 / (DEMO_NEW - 1),
               op_ns(&res[1].decode, cls[i]) / 1e3 / (DEMO_NEW - 1));
    printf("  At this size every kernel is bound by DMA fixed costs, not TensorE.\n");
    /* full size, timing only: the same lowering, no weights */
    trn_run_model_close(rm);
    rm = NULL;
    if (trn_run_model_open("llama-3-8b", 1, 0, &rm, &err) != TRN_OK) goto fail;
    printf("\nLlama-3-8B at full size, timing only (same programs, no arithmetic): prefill of 2048 "
           "tokens\nand one decode step, each op split over the chip's 8 NeuronCores\n");
    printf("  %-22s %12s %12s\n", "simulated", chips[0], chips[1]);
    double f[2][3];
    for (int k = 0; k < 2; k++) {
        trn_run_opts o = {0};
        o.timing_only = 1, o.cores = 8;
        trn_run_result r8;
        if (trn_run_create(trn_run_model_model(rm), NULL, rt[k], &o, &run, &err) != TRN_OK ||
            trn_run_generate(run, NULL, 2048, 2, NULL, 0, NULL, NULL, &r8, &err) != TRN_OK)
            goto fail;
        f[k][0] = r8.ttft_ns, f[k][1] = r8.tpot_ns, f[k][2] = trn_run_prof_mfu(&r8.prefill);
        trn_run_result_fini(&r8);
        trn_run_destroy(run);
        run = NULL;
    }
    printf("  %-22s %12.2f %12.2f\n", "TTFT ms", f[0][0] / 1e6, f[1][0] / 1e6);
    printf("  %-22s %12.2f %12.2f\n", "TPOT ms", f[0][1] / 1e6, f[1][1] / 1e6);
    printf("  %-22s %11.1f%% %11.1f%%\n", "prefill PE util", 100 * f[0][2], 100 * f[1][2]);
    printf("  Per layer and op: trnsim run --model llama-3-8b --timing-only --prompt-len 2048 "
           "--cores 8\n");
    rc = 0;
    goto done;
fail:
    cli_error("demo", "tiny-llama: %s", err.msg);
done:
    for (int k = 0; k < 2; k++) trn_run_result_fini(&res[k]), trn_run_runtime_destroy(rt[k]);
    trn_run_destroy(run);
    trn_run_model_close(rm);
    return rc;
}

/* The planner on the same model family at full size, through `trnsim plan serve` itself. */
static int plan_tour(trn_cli *cli) {
    static const char *const sys[2] = {"trn2.48xlarge", "p5.48xlarge"};
    printf("\nPlanner: serving Llama-3-70B (2048 prompt tokens, 256 generated) on one "
           "trn2.48xlarge\n(16 Trainium2) and on one p5.48xlarge (8 H100), the best plan of each "
           "under an interactive\nSLO (TTFT <= 2 s, TPOT <= 50 ms), both on the calibrated "
           "roofline so they compare\non one basis (trnsim plan serve)\n\n");
    int rc = 0;
    for (int k = 0; k < 2; k++) {
        char *args[] = {
            "plan",          "serve", "--model",   "llama-3-70b", "--system",      (char *)sys[k],
            "--top",         "1",     "--op-cost", "roofline",    "--ttft-slo-ms", "2000",
            "--tpot-slo-ms", "50",    NULL};
        fflush(stdout);
        rc |= cmd_plan(cli, (int)(sizeof args / sizeof *args) - 1, args);
        fflush(stdout);
        printf("\n");
    }
    return rc;
}

int cmd_demo(trn_cli *cli, int argc, char **argv) {
    if (argc > 1 && cli_is_help(argv[1])) {
        printf("usage: trnsim demo\n\nA short tour of trnsim on built-in data: the hardware "
               "catalog, a matmul kernel on\ntrn1/2/3, the numerics, a small Llama-style model "
               "generating on trn2 and trn3,\nLlama-3-8B timing-only, and the planner serving "
               "Llama-3-70B on trn2.48xlarge and\np5.48xlarge.\n");
        return CLI_EXIT_OK;
    }
    if (argc > 1) {
        cli_error("demo", "unexpected argument '%s'", argv[1]);
        return CLI_EXIT_USAGE;
    }
    printf("trnsim %s: a software AWS Trainium\n\n", TRN_VERSION_STRING);
    trn_hw_print_table(cli->hw, stdout);
    printf(
        "\nOne entry in detail, with every figure's source: trnsim info trn3-gen2-ultraserver\n");
    int bad = kernel_tour(cli);
    bad |= attention_tour(cli);
    numerics_tour();
    bad |= model_tour(cli);
    bad |= plan_tour(cli);
    return bad ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

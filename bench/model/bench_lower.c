/* The lowering and the runtime's timing-only path on Llama-3-8B shapes (hidden 4096, 32 heads,
 * 8 kv heads, head dim 128, MLP 14336, vocab 128256, 32 layers), prefill of 2048 tokens and one
 * decode step at 2048 tokens of context, on one NeuronCore of trn2 and trn3 (bf16; the GEMMs
 * also in fp8 on NeuronCore-v3+ and mxfp8, mxfp8q and mxfp4 on v4+).
 *
 * Per op: simulated time, TensorE model utilization (pe_mfu), bound engine, and the host wall
 * seconds to lower + assemble + verify and to time it. Then the whole prefill (32 identical
 * layers + the LM head on the last token) from the runtime's cache, each distinct op shape
 * compiled and timed once, with the total host wall time and peak RSS.
 *
 * Then wide row ops (run_wide): the streamed norms and the head-grouped RoPE of bigger models;
 * and narrow LINEARs (run_narrow): MoE routers, whose weight panel is only n columns wide.
 *
 * Usage: bench_lower [chip ...] (default trn2 trn3). Run by `make bench`, never by CTest.
 * Left out: multi-core splits (one NeuronCore runs each op with its fair HBM share). */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "trnsim/runtime.h"
#include "trnsim/trnsim.h"

enum { T = 2048, HID = 4096, NH = 32, NKV = 8, HD = 128, FF = 14336, VOCAB = 128256, LAYERS = 32 };

typedef struct row {
    const char *name;
    trn_lower_op op;
    int per_layer; /* times per layer (0: once per forward) */
} row;

static trn_lower_op lin(int64_t m, int64_t k, int64_t n, trn_precision p) {
    trn_lower_op o = {0};
    o.kind = TRN_LOWER_LINEAR, o.m = m, o.k = k, o.n = n, o.prec = p;
    o.dtype = o.out_dtype = TRN_DTYPE_BF16;
    return o;
}
static trn_lower_op rowop(trn_lower_kind k, int64_t m, int64_t n) {
    trn_lower_op o = {0};
    o.kind = k, o.m = m, o.n = n, o.eps = 1e-5;
    o.dtype = o.out_dtype = TRN_DTYPE_BF16;
    return o;
}
static trn_lower_op rope(int64_t m, int64_t h) {
    trn_lower_op o = rowop(TRN_LOWER_ROPE, m, h * HD);
    o.heads = h, o.head_dim = HD;
    return o;
}
static trn_lower_op attn(int64_t q, int64_t kv) {
    trn_lower_op o = {0};
    o.kind = TRN_LOWER_ATTENTION, o.dtype = o.out_dtype = TRN_DTYPE_BF16;
    o.m = o.q_len = q, o.kv_len = kv, o.heads = NH, o.kv_heads = NKV, o.head_dim = HD;
    return o;
}

static double now(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int layer_rows(row *r, int64_t m, int64_t kv, trn_precision p) {
    int n = 0;
    r[n++] = (row){"rmsnorm", rowop(TRN_LOWER_RMSNORM, m, HID), 2};
    r[n++] = (row){"qkv proj", lin(m, HID, (NH + 2 * NKV) * HD, p), 1};
    r[n++] = (row){"rope q", rope(m, NH), 1};
    r[n++] = (row){"rope k", rope(m, NKV), 1};
    r[n++] = (row){"attention", attn(m, kv), 1};
    r[n++] = (row){"o proj", lin(m, NH * HD, HID, p), 1};
    r[n++] = (row){"residual add", rowop(TRN_LOWER_ADD, m, HID), 2};
    r[n++] = (row){"gate, up proj", lin(m, HID, FF, p), 2};
    r[n++] = (row){"swiglu", rowop(TRN_LOWER_SWIGLU, m, FF), 1};
    r[n++] = (row){"down proj", lin(m, FF, HID, p), 1};
    r[n++] = (row){"lm head (last token)", lin(1, HID, VOCAB, p), 0};
    return n;
}

static int run_phase(trn_runtime *rt, const char *chip, const char *phase, int64_t m, int64_t kv,
                     trn_precision p) {
    row r[16];
    int n = layer_rows(r, m, kv, p);
    printf("\n%s, %s, %s (%lld tokens, context %lld):\n", chip, phase, trn_precision_name(p),
           (long long)m, (long long)kv);
    printf("  %-22s %10s %7s %7s %6s %9s %9s %8s\n", "op", "time us", "x/layer", "PE MFU", "bound",
           "compile s", "timing s", "instrs");
    double layer_ns = 0, once_ns = 0, t0 = now();
    for (int i = 0; i < n; i++) {
        trn_op_profile pr;
        trn_err err = {0};
        if (trn_runtime_time(rt, &r[i].op, &pr, &err) != TRN_OK) {
            fprintf(stderr, "bench_lower: %s %s: %s\n", chip, r[i].name, err.msg);
            return 1;
        }
        printf("  %-22s %10.1f %7d %6.1f%% %6s %9.3f %9.3f %8d\n", r[i].name, pr.time_ns / 1e3,
               r[i].per_layer, 100 * pr.pe_mfu, trn_engine_short(pr.bound), pr.compile_wall_s,
               pr.timing_wall_s, pr.instrs);
        if (r[i].per_layer)
            layer_ns += r[i].per_layer * pr.time_ns;
        else
            once_ns += pr.time_ns;
    }
    /* the whole forward from the cache: every op of every layer looked up again */
    for (int l = 0; l < LAYERS; l++)
        for (int i = 0; i < n; i++) {
            trn_op_profile pr;
            if (trn_runtime_time(rt, &r[i].op, &pr, NULL) != TRN_OK) return 1;
        }
    printf("  layer %.3f ms, forward (%d layers + LM head) %.3f ms on one NeuronCore; host wall "
           "%.2f s\n",
           layer_ns / 1e6, LAYERS, (LAYERS * layer_ns + once_ns) / 1e6, now() - t0);
    /* the whole chip: every op split over its cores (trn_runtime_op_seconds) */
    double chip_layer = 0, chip_once = 0;
    for (int i = 0; i < n; i++) {
        double sec;
        trn_err err = {0};
        if (trn_runtime_op_seconds(rt, &r[i].op, &sec, &err) != TRN_OK) {
            fprintf(stderr, "bench_lower: %s %s (chip): %s\n", chip, r[i].name, err.msg);
            return 1;
        }
        if (r[i].per_layer)
            chip_layer += r[i].per_layer * sec;
        else
            chip_once += sec;
    }
    printf("  whole chip (%g NeuronCores, each op split over them): layer %.3f ms, forward "
           "%.3f ms\n",
           trn_runtime_chip(rt)->cores.value, chip_layer * 1e3,
           (LAYERS * chip_layer + chip_once) * 1e3);
    return 0;
}

/* Row ops of models wider than Llama-3-8B (2048 tokens): RMSNorm of Llama-3.1-405B (hidden
 * 16384) and LayerNorm of GPT-3 175B (hidden 12288), which stream their rows in two passes
 * (a whole row per partition does not fit SBUF), beside the whole-row RMSNorm of Llama-3-8B;
 * RoPE of 128 heads of 128 (done in head groups). HBM GB/s = DMA bytes / simulated time, and
 * its share of one NeuronCore's fair part of the chip's HBM bandwidth (catalog). */
static int run_wide(trn_runtime *rt, const char *chip) {
    row r[] = {{"rmsnorm 4096 (whole)", rowop(TRN_LOWER_RMSNORM, T, HID), 1},
               {"rmsnorm 16384", rowop(TRN_LOWER_RMSNORM, T, 16384), 1},
               {"layernorm 12288", rowop(TRN_LOWER_LAYERNORM, T, 12288), 1},
               {"softmax 32768", rowop(TRN_LOWER_SOFTMAX, T, 32768), 1},
               {"rope 128 x 128", rope(T, 128), 1}};
    const trn_hw_chip *hc = trn_runtime_chip(rt);
    double share = hc->hbm_bw_bps.value / hc->cores.value;
    printf("\n%s, wide rows (%d tokens, bf16):\n  %-22s %10s %6s %9s %9s\n", chip, T, "op",
           "time us", "bound", "HBM GB/s", "of share");
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        trn_op_profile pr;
        trn_err err = {0};
        if (trn_runtime_time(rt, &r[i].op, &pr, &err) != TRN_OK) {
            fprintf(stderr, "bench_lower: %s %s: %s\n", chip, r[i].name, err.msg);
            return 1;
        }
        double bps = (double)(pr.hbm_read_bytes + pr.hbm_write_bytes) / (pr.time_ns * 1e-9);
        printf("  %-22s %10.1f %6s %9.1f %8.0f%%\n", r[i].name, pr.time_ns / 1e3,
               trn_engine_short(pr.bound), bps / 1e9, 100 * bps / share);
    }
    return 0;
}

/* Narrow LINEARs: the MoE routers of Mixtral-8x7B (k = 4096, n = 8 experts) and GPT-OSS-120B
 * (k = 2880, n = 128), decode (1 token) and prefill (2048), bf16, whose weight panel is only as
 * wide as n rounded up to TRN_LOWER_PANEL_ALIGN (lower.h): HBM bytes read by one NeuronCore,
 * time on one NeuronCore and with the op split over the chip's. */
static int run_narrow(trn_runtime *rt, const char *chip) {
    static const struct {
        const char *name;
        int64_t k, n;
    } rs[] = {{"mixtral router", 4096, 8}, {"gpt-oss router", 2880, 128}};
    printf("\n%s, MoE router linears (bf16):\n  %-22s %7s %10s %12s %10s\n", chip, "op", "tokens",
           "time us", "HBM read B", "chip us");
    for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++)
        for (int64_t m = 1; m <= T; m += T - 1) {
            trn_lower_op o = lin(m, rs[i].k, rs[i].n, TRN_PREC_BF16);
            trn_op_profile pr;
            double sec = 0;
            trn_err err = {0};
            if (trn_runtime_time(rt, &o, &pr, &err) != TRN_OK ||
                trn_runtime_op_seconds(rt, &o, &sec, &err) != TRN_OK) {
                fprintf(stderr, "bench_lower: %s %s: %s\n", chip, rs[i].name, err.msg);
                return 1;
            }
            printf("  %-22s %7lld %10.2f %12llu %10.2f\n", rs[i].name, (long long)m,
                   pr.time_ns / 1e3, (unsigned long long)pr.hbm_read_bytes, sec * 1e6);
        }
    return 0;
}

int main(int argc, char **argv) {
    static const char *def[] = {"trn2", "trn3"};
    const char **chips = argc > 1 ? (const char **)argv + 1 : def;
    int nchips = argc > 1 ? argc - 1 : 2;
    trn_hw *hw = NULL;
    trn_err err = {0};
    if (trn_hw_create(&hw, &err) != TRN_OK) {
        fprintf(stderr, "bench_lower: %s\n", err.msg);
        return 1;
    }
    double t0 = now();
    int rc = 0;
    for (int c = 0; c < nchips && !rc; c++) {
        trn_runtime *rt = NULL;
        if (trn_runtime_create(hw, chips[c], &rt, &err) != TRN_OK) {
            fprintf(stderr, "bench_lower: %s\n", err.msg);
            rc = 1;
            break;
        }
        double tc = now();
        rc = run_phase(rt, chips[c], "prefill", T, T, TRN_PREC_BF16);
        printf("  Llama-3-8B prefill of %d tokens, timing-only, cold cache: %.2f s wall\n", T,
               now() - tc);
        if (!rc) rc = run_phase(rt, chips[c], "decode", 1, T, TRN_PREC_BF16);
        int ver = trn_runtime_target(rt)->version;
        if (!rc && ver >= 3) rc = run_phase(rt, chips[c], "prefill", T, T, TRN_PREC_FP8);
        if (!rc && ver >= 4) rc = run_phase(rt, chips[c], "prefill", T, T, TRN_PREC_MXFP8);
        /* MX weights pre-quantized in HBM (codes + scales): MXFP8Q and MXFP4 */
        if (!rc && ver >= 4) rc = run_phase(rt, chips[c], "prefill", T, T, TRN_PREC_MXFP8Q);
        if (!rc && ver >= 4) rc = run_phase(rt, chips[c], "prefill", T, T, TRN_PREC_MXFP4);
        if (!rc && ver >= 4) rc = run_phase(rt, chips[c], "decode", 1, T, TRN_PREC_MXFP4);
        if (!rc) rc = run_wide(rt, chips[c]);
        if (!rc) rc = run_narrow(rt, chips[c]);
        int progs;
        uint64_t hits, misses;
        trn_runtime_cache_stats(rt, &progs, &hits, &misses);
        printf("  cache: %d programs, %llu hits, %llu misses\n", progs, (unsigned long long)hits,
               (unsigned long long)misses);
        trn_runtime_destroy(rt);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("\ntotal wall %.2f s, peak RSS %.0f MB\n", now() - t0, ru.ru_maxrss / 1024.0);
    trn_hw_destroy(hw);
    return rc;
}

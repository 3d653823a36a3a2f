/* Numerics fast-path throughput on one core: FP32 -> BF16 / FP8 array conversions and MX
 * quantize, dequantize and both for MXFP8 (E4M3) and MXFP4, in GB/s of FP32 input (of FP32
 * output for dequantize alone), for the reference and for every SIMD level this CPU and build
 * support. Each figure is also given as
 * a ratio to memcpy of the same input buffer, measured in the same run, so runs on different
 * (or noisy) machines compare. Every timed SIMD output is checked bit for bit against the
 * reference output before it is reported.
 *
 * Usage: bench_num [MiB of FP32 input, default 64]. Run by `make bench`, never by CTest.
 * Left out: multi-threaded figures (the library's kernels are single-threaded). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trnsim/num.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* What one timed run does, on the shared buffers. */
typedef enum job {
    JOB_MEMCPY,
    JOB_CVT,    /* trn_cvt_array (or _ref) to `dtype` */
    JOB_MX_Q,   /* trn_mx_quantize (or _ref) */
    JOB_MX_QDQ, /* trn_mx_quantize (or _ref) then trn_mx_dequantize */
    JOB_MX_DQ,  /* dequantize alone, of what the previous run quantized */
} job;

typedef struct bufs {
    const float *in;
    size_t n;
    void *out;    /* n * 4 bytes: codes of a conversion, or memcpy's copy */
    uint8_t *sc;  /* ceil(n / 32) MX scales */
    uint8_t *mxc; /* MX codes, n rounded up to 32 */
    float *back;  /* n dequantized values */
} bufs;

typedef struct kernel {
    const char *name;
    job what;
    trn_dtype dtype;
    trn_cvt_opts opts;
} kernel;

static void run_once(const kernel *k, const bufs *b, int ref) {
    switch (k->what) {
    case JOB_MEMCPY: memcpy(b->out, b->in, b->n * sizeof(float)); break;
    case JOB_CVT:
        if (ref)
            trn_cvt_array_ref(k->dtype, b->in, b->out, b->n, &k->opts);
        else
            trn_cvt_array(k->dtype, b->in, b->out, b->n, &k->opts);
        break;
    case JOB_MX_DQ:
        if (ref)
            trn_mx_dequantize_ref(k->dtype, b->sc, b->mxc, b->n, b->back);
        else
            trn_mx_dequantize(k->dtype, b->sc, b->mxc, b->n, b->back);
        break;
    case JOB_MX_Q:
    case JOB_MX_QDQ:
        if (ref)
            trn_mx_quantize_ref(k->dtype, TRN_SCALE_OCP, b->in, b->n, &k->opts, b->sc, b->mxc);
        else
            trn_mx_quantize(k->dtype, TRN_SCALE_OCP, b->in, b->n, &k->opts, b->sc, b->mxc);
        if (k->what == JOB_MX_QDQ && ref)
            trn_mx_dequantize_ref(k->dtype, b->sc, b->mxc, b->n, b->back);
        else if (k->what == JOB_MX_QDQ)
            trn_mx_dequantize(k->dtype, b->sc, b->mxc, b->n, b->back);
        break;
    }
}

/* Best time of `reps` runs, in seconds. */
static double best_of(const kernel *k, const bufs *b, int ref, int reps) {
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        run_once(k, b, ref);
        double t = now_s() - t0;
        if (t < best) best = t;
    }
    return best;
}

static size_t out_bytes(const kernel *k, const bufs *b) {
    size_t nb = (b->n + TRN_MX_BLOCK - 1) / TRN_MX_BLOCK;
    switch (k->what) {
    case JOB_CVT: return b->n * (size_t)trn_dtype_container_bytes(k->dtype);
    case JOB_MX_Q: return nb + nb * TRN_MX_BLOCK;
    case JOB_MX_QDQ:
    case JOB_MX_DQ: return b->n * sizeof(float);
    default: return 0;
    }
}

static const void *out_ptr(const kernel *k, const bufs *b) {
    switch (k->what) {
    case JOB_CVT: return b->out;
    case JOB_MX_Q: return b->mxc;
    default: return b->back;
    }
}

static void cpu_model(char *dst, size_t cap) {
    snprintf(dst, cap, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            snprintf(dst, cap, "%s", colon + 2);
            dst[strcspn(dst, "\n")] = 0;
            break;
        }
    }
    fclose(f);
}

int main(int argc, char **argv) {
    size_t mib = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 64;
    if (mib == 0 || mib > 4096) {
        fprintf(stderr, "usage: bench_num [MiB of FP32 input, 1..4096, default 64]\n");
        return 2;
    }
    bufs b;
    b.n = mib * 1024 * 1024 / sizeof(float);
    size_t nb = (b.n + TRN_MX_BLOCK - 1) / TRN_MX_BLOCK;
    float *in = malloc(b.n * sizeof(float));
    b.out = malloc(b.n * sizeof(float));
    b.sc = malloc(nb);
    b.mxc = malloc(nb * TRN_MX_BLOCK);
    b.back = malloc(b.n * sizeof(float));
    void *ref_out = malloc(b.n * sizeof(float));
    if (!in || !b.out || !b.sc || !b.mxc || !b.back || !ref_out) {
        fprintf(stderr, "bench_num: out of memory for %zu MiB\n", mib);
        return 1;
    }
    /* Activation-like data: random signs and mantissas over 2^-12 .. 2^4 (no NaN / Inf). */
    uint64_t z = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < b.n; i++) {
        z ^= z << 13, z ^= z >> 7, z ^= z << 17;
        uint32_t r = (uint32_t)(z >> 32);
        uint32_t bits = (r & 0x80000000u) | ((115u + (r >> 23) % 17u) << 23) | (r & 0x7fffffu);
        memcpy(&in[i], &bits, 4);
    }
    b.in = in;
    memset(b.out, 0, b.n * sizeof(float)); /* fault every page in before timing */
    memset(b.sc, 0, nb);
    memset(b.mxc, 0, nb * TRN_MX_BLOCK);
    memset(b.back, 0, b.n * sizeof(float));
    memset(ref_out, 0, b.n * sizeof(float));

    const trn_cvt_opts rne = TRN_CVT_RNE, sr = {TRN_ROUND_SR, 0, 1234, 0};
    const kernel kernels[] = {
        {"fp32->bf16 rne", JOB_CVT, TRN_DTYPE_BF16, rne},
        {"fp32->bf16 sr", JOB_CVT, TRN_DTYPE_BF16, sr},
        {"fp32->fp8_e4m3 rne", JOB_CVT, TRN_DTYPE_FP8_E4M3, rne},
        {"fp32->fp8_e5m2 rne", JOB_CVT, TRN_DTYPE_FP8_E5M2, rne},
        {"mxfp8_e4m3 quantize", JOB_MX_Q, TRN_DTYPE_FP8_E4M3, rne},
        {"mxfp8_e4m3 dequantize", JOB_MX_DQ, TRN_DTYPE_FP8_E4M3, rne},
        {"mxfp8_e4m3 quant+dequant", JOB_MX_QDQ, TRN_DTYPE_FP8_E4M3, rne},
        {"mxfp4 quantize", JOB_MX_Q, TRN_DTYPE_FP4_E2M1, rne},
        {"mxfp4 dequantize", JOB_MX_DQ, TRN_DTYPE_FP4_E2M1, rne},
        {"mxfp4 quant+dequant", JOB_MX_QDQ, TRN_DTYPE_FP4_E2M1, rne},
    };
    const int nk = (int)(sizeof kernels / sizeof kernels[0]);
    const int reps_fast = 7, reps_ref = 2;

    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    const double gb = (double)(b.n * sizeof(float)) / 1e9;
    const kernel cp = {"memcpy", JOB_MEMCPY, TRN_DTYPE_F32, rne};
    const double memcpy_gbs = gb / best_of(&cp, &b, 0, reps_fast);
    printf("bench_num: %s, one core, %zu MiB of FP32 input, best of %d runs (reference: %d)\n", cpu,
           mib, reps_fast, reps_ref);
    printf("memcpy: %.2f GB/s\n\n", memcpy_gbs);
    printf("%-26s %-8s %9s %9s\n", "kernel", "level", "GB/s", "x memcpy");

    const trn_simd all[] = {TRN_SIMD_AVX2, TRN_SIMD_AVX512};
    int status = 0;
    for (int k = 0; k < nk; k++) {
        const kernel *kk = &kernels[k];
        trn_simd_force(TRN_SIMD_NONE); /* the reference dequantize, when timed with it */
        double t = best_of(kk, &b, 1, reps_ref);
        printf("%-26s %-8s %9.2f %9.3f\n", kk->name, "ref", gb / t, gb / t / memcpy_gbs);
        memcpy(ref_out, out_ptr(kk, &b), out_bytes(kk, &b));
        for (int l = 0; l < 2; l++) {
            if (trn_simd_force(all[l]) != TRN_OK) {
                printf("%-26s %-8s %9s %9s\n", kk->name, trn_simd_name(all[l]), "-",
                       "(unsupported)");
                continue;
            }
            t = best_of(kk, &b, 0, reps_fast);
            int same = memcmp(ref_out, out_ptr(kk, &b), out_bytes(kk, &b)) == 0;
            printf("%-26s %-8s %9.2f %9.3f%s\n", kk->name, trn_simd_name(all[l]), gb / t,
                   gb / t / memcpy_gbs, same ? "" : "  MISMATCH with the reference");
            if (!same) status = 1;
        }
    }
    trn_simd_force(trn_simd_detect());
    free(in);
    free(b.out);
    free(b.sc);
    free(b.mxc);
    free(b.back);
    free(ref_out);
    return status;
}

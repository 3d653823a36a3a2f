/* Functional throughput of the TensorE matmul kernel (src/core/ops/matmul_kernel.c) on a
 * 2048 x 2048 x 2048 problem, psum[M,N] = stationary[K,M]^T @ moving[K,N], with BF16-
 * representable FP32 inputs, against OpenBLAS cblas_sgemm on one thread in the same run.
 *
 * Rows:
 *   tiled    as the simulator runs it: one trn_mm call per PSUM tile and K chunk
 *            (K 128 x M 128 x N 512), accumulating over the 16 K chunks of each tile
 *   one call trn_mm on the whole problem
 *   sgemm    cblas_sgemm(RowMajor, Trans, NoTrans), OPENBLAS single-threaded
 *   ref      trn_mm_ref (the fmaf loop), timed on one 128-row slab of the tiled run
 * at every SIMD level this CPU and build support (trn_simd_force). GFLOP/s counts 2 M N K
 * flops (10^9 per s), best of several runs; the rows are timed in turn within each run, so
 * the ratios to sgemm compare runs under the same machine load. Before a figure is printed the
 * tiled output is checked bit for bit against trn_mm_ref on one 128 x 512 PSUM tile; a difference
 * prints MISMATCH and the benchmark exits with status 1. The portable C level is timed on one
 * 128-row slab, as the reference is.
 *
 * Usage: bench_sim [runs, default 5]. Run by `make bench`, never by CTest.
 * Left out: simulated instructions per second (needs the core simulator) and threads. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/ops/matmul_kernel.h"
#include "trnsim/num.h"

#ifdef TRN_HAVE_CBLAS
#include <cblas.h>
#endif

enum { DIM = 2048, TK = 128, TM = 128, TN = 512 };

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void cpu_model(char *dst, size_t cap) {
    snprintf(dst, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            colon += 1 + (colon[1] == ' ');
            colon[strcspn(colon, "\n")] = 0;
            snprintf(dst, cap, "%s", colon);
            break;
        }
    }
    fclose(f);
}

/* xorshift64* words -> BF16-representable FP32 values, random sign, magnitudes 2^-4 .. 2^4 */
static void fill_bf16(float *x, size_t n, uint64_t seed) {
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        uint32_t r = (uint32_t)((s * UINT64_C(0x2545F4914F6CDD1D)) >> 32);
        uint32_t bits = (r & 0x80000000u) | ((123u + (r >> 16) % 9u) << 23) | (r & 0x007F0000u);
        memcpy(&x[i], &bits, 4);
    }
}

/* The tiled run over rows [m_lo, m_hi) of psum: per PSUM tile, 16 accumulating K chunks. */
static void run_tiled(const float *st, const float *mv, float *ps, size_t m_lo, size_t m_hi,
                      int ref) {
    for (size_t m0 = m_lo; m0 < m_hi; m0 += TM)
        for (size_t n0 = 0; n0 < DIM; n0 += TN)
            for (size_t k0 = 0; k0 < DIM; k0 += TK) {
                const float *s = st + k0 * DIM + m0, *v = mv + k0 * DIM + n0;
                float *p = ps + m0 * DIM + n0;
                if (ref)
                    trn_mm_ref(TK, TM, TN, s, DIM, v, DIM, p, DIM, k0 > 0);
                else
                    trn_mm(TK, TM, TN, s, DIM, v, DIM, p, DIM, k0 > 0);
            }
}

typedef enum job { JOB_TILED, JOB_TILED_SLAB, JOB_ONE_CALL, JOB_REF_SLAB, JOB_SGEMM } job;

/* Seconds of one run of job j, and the flops it does. */
static double time_job(job j, const float *st, const float *mv, float *ps, double *flops) {
    size_t rows = j == JOB_TILED_SLAB || j == JOB_REF_SLAB ? TM : DIM;
    *flops = 2.0 * (double)rows * DIM * DIM;
    double t0 = now_s();
    switch (j) {
    case JOB_TILED: run_tiled(st, mv, ps, 0, DIM, 0); break;
    case JOB_TILED_SLAB: run_tiled(st, mv, ps, 0, TM, 0); break;
    case JOB_REF_SLAB: run_tiled(st, mv, ps, 0, TM, 1); break;
    case JOB_ONE_CALL: trn_mm(DIM, DIM, DIM, st, DIM, mv, DIM, ps, DIM, 0); break;
    case JOB_SGEMM:
#ifdef TRN_HAVE_CBLAS
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, DIM, DIM, DIM, 1.0f, st, DIM, mv, DIM,
                    0.0f, ps, DIM);
#endif
        break;
    }
    return now_s() - t0;
}

/* The first PSUM tile of a tiled run of trn_mm against the same tile by trn_mm_ref. */
static int tile_matches(const float *st, const float *mv, const float *ps) {
    float *want = calloc((size_t)TM * TN, sizeof(float));
    if (!want) return 0;
    for (size_t k0 = 0; k0 < DIM; k0 += TK)
        trn_mm_ref(TK, TM, TN, st + k0 * DIM, DIM, mv + k0 * DIM, DIM, want, TN, k0 > 0);
    int ok = 1;
    for (size_t i = 0; i < TM && ok; i++)
        ok = memcmp(want + i * TN, ps + i * DIM, TN * sizeof(float)) == 0;
    free(want);
    return ok;
}

/* A row of the report: what it times, at which level, its best time. */
typedef struct row {
    char label[48];
    job what;
    trn_simd simd;
    double best_s, flops;
} row;

static void print_row(const row *r, double sgemm_gf) {
    double gf = r->flops / r->best_s * 1e-9;
    printf("%-30s %8.2f GFLOP/s", r->label, gf);
    if (sgemm_gf > 0) printf("  %6.3f x sgemm", gf / sgemm_gf);
    printf("\n");
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    if (runs < 1) runs = 1;
    size_t n = (size_t)DIM * DIM;
    float *st = malloc(n * sizeof(float)), *mv = malloc(n * sizeof(float)),
          *ps = malloc(n * sizeof(float));
    if (!st || !mv || !ps) {
        fprintf(stderr, "bench_sim: out of memory\n");
        return 1;
    }
    fill_bf16(st, n, 1);
    fill_bf16(mv, n, 2);
    memset(ps, 0, n * sizeof(float));

    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    trn_simd active = trn_simd_active();
    printf("TensorE matmul kernel, %d x %d x %d (K x M x N), BF16-representable FP32 inputs\n", DIM,
           DIM, DIM);
    printf("cpu: %s\nsimd: detected %s, active %s (kernel %s)\n", cpu,
           trn_simd_name(trn_simd_detect()), trn_simd_name(active), trn_mm_kernel_name());
    printf("tiled: K %d x M %d x N %d per trn_mm call, accumulating over K; best of %d runs, "
           "interleaved\n",
           TK, TM, TN, runs);

    /* The rows, each level the CPU and build have; the rows are timed in turn within each
     * run, so a slow spell of a shared machine hits all of them alike. */
    row rows[8];
    int nrows = 0, status = 0;
#ifdef TRN_HAVE_CBLAS
    openblas_set_num_threads(1);
    rows[nrows++] = (row){"sgemm (OpenBLAS, 1 thread)", JOB_SGEMM, active, 1e30, 0};
#endif
    const trn_simd levels[] = {TRN_SIMD_AVX512, TRN_SIMD_AVX2, TRN_SIMD_NONE};
    for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++) {
        if (levels[l] > trn_simd_detect() || trn_simd_force(levels[l]) != TRN_OK) continue;
        const char *name = trn_mm_kernel_name();
        if (levels[l] == TRN_SIMD_NONE) { /* fmaf calls: one 128-row slab is enough */
            row r = {"", JOB_TILED_SLAB, levels[l], 1e30, 0};
            snprintf(r.label, sizeof r.label, "tiled %s (slab)", name);
            rows[nrows++] = r;
            continue;
        }
        row r = {"", JOB_TILED, levels[l], 1e30, 0};
        snprintf(r.label, sizeof r.label, "tiled %s", name);
        rows[nrows++] = r;
        r.what = JOB_ONE_CALL;
        snprintf(r.label, sizeof r.label, "one call %s", name);
        rows[nrows++] = r;
    }
    rows[nrows++] = (row){"ref trn_mm_ref (slab)", JOB_REF_SLAB, active, 1e30, 0};

    for (int i = 0; i < nrows; i++) { /* warm-up: pages, OpenBLAS's buffers */
        trn_simd_force(rows[i].simd);
        if (rows[i].what != JOB_REF_SLAB && rows[i].what != JOB_TILED_SLAB)
            time_job(rows[i].what, st, mv, ps, &rows[i].flops);
    }
    for (int run = 0; run < runs; run++) {
        for (int i = 0; i < nrows; i++) {
            /* the fmaf rows take seconds each: two runs of them */
            int slow = rows[i].what == JOB_REF_SLAB || rows[i].what == JOB_TILED_SLAB;
            if (slow && run >= 2) continue;
            trn_simd_force(rows[i].simd);
            double t = time_job(rows[i].what, st, mv, ps, &rows[i].flops);
            if (t < rows[i].best_s) rows[i].best_s = t;
            if ((rows[i].what == JOB_TILED || rows[i].what == JOB_TILED_SLAB) && run == 0 &&
                !tile_matches(st, mv, ps)) {
                printf("%s: MISMATCH against trn_mm_ref\n", rows[i].label);
                status = 1;
            }
        }
    }
    trn_simd_force(active);

    double sgemm_gf = 0;
#ifdef TRN_HAVE_CBLAS
    sgemm_gf = rows[0].flops / rows[0].best_s * 1e-9;
    printf("OpenBLAS core: %s\n", openblas_get_corename());
#else
    printf("sgemm: not measured (built without OpenBLAS / cblas.h)\n");
#endif
    for (int i = 0; i < nrows; i++) print_row(&rows[i], sgemm_gf);

    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        printf("peak memory: %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);
    free(st);
    free(mv);
    free(ps);
    return status;
}

/* Speed of the timing model: simulated instructions per second of trn_timing_run (scheduler,
 * cost model, event-driven simulation and report; timing-only, no arithmetic) on large kernels
 * assembled from .tasm text generated here, best of several runs, and the peak memory of the
 * process while each kernel runs (VmHWM, reset before each kernel): with the assembled program
 * alone (before the timing runs), and in all. Each figure
 * is printed with its ratio to a baseline measured in the same run: a trivial pass over the same
 * program's instruction array (read every instruction's opcode, engine and operand count), so the
 * ratio says how many trivial passes one timing run costs, whatever the machine.
 *
 * Kernels (NeuronCore-v3, chip trn2):
 *   matmul   tiled matmul C[2048, 2048] = A @ B in BF16: B resident in SBUF, one 128-row slab of
 *            A at a time, 16 K chunks accumulated per 128 x 512 PSUM tile, evicted by VectorE,
 *            stored per slab (1,156 instructions: the run is repeated to fill the timer)
 *   stream   an elementwise pipeline of 125,000 instructions: load a [128, 512] tile, exp on
 *            ScalarE, add on VectorE, store, over 8 rotating buffers
 *   strided  125,000 instructions storing 128 different 32-column slices of one HBM output in
 *            turn (every slice's store live at once), with read-backs straddling two slices:
 *            the case that made a scan over live accesses quadratic
 *
 * Usage: bench_timing [runs, default 5]. Run by `make bench`, never by CTest.
 * Left out: functional execution (bench_sim) and --grid runs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "trnsim/timing.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static const char *const matmul_tasm =
    ".kernel matmul_2048\n"
    ".param M = 2048\n.param K = 2048\n.param N = 2048\n"
    ".input  aT bf16 [K, M]\n.input  b  bf16 [K, N]\n.output c  f32  [M, N]\n"
    ".sbuf   at  bf16 [128, K/128, 128]\n.sbuf   bt  bf16 [128, K/128, N]\n"
    ".psum   acc f32  [128, 2, 512]\n.sbuf   ct  f32  [128, N]\n"
    ".for kt in 0..K/128\n"
    "    dma_copy dst=bt[:, kt, :] src=b[kt*128:(kt+1)*128, :]\n"
    ".end\n"
    ".for mt in 0..M/128\n"
    "    .for kt in 0..K/128\n"
    "        dma_copy dst=at[:, kt, :] src=aT[kt*128:(kt+1)*128, mt*128:(mt+1)*128]\n"
    "    .end\n"
    "    .for nt in 0..N/512\n"
    "        nc_matmul dst=acc[:, nt%2, :] stationary=at[:, 0, :] "
    "moving=bt[:, 0, nt*512:(nt+1)*512] accumulate=false\n"
    "        .for kt in 1..K/128\n"
    "            nc_matmul dst=acc[:, nt%2, :] stationary=at[:, kt, :] "
    "moving=bt[:, kt, nt*512:(nt+1)*512] accumulate=true\n"
    "        .end\n"
    "        tensor_copy dst=ct[:, nt*512:(nt+1)*512] src=acc[:, nt%2, :]\n"
    "    .end\n"
    "    dma_copy dst=c[mt*128:(mt+1)*128, :] src=ct\n"
    ".end\n";

static const char *const stream_tasm =
    ".kernel stream\n"
    ".input  h f32 [1024, 4096]\n.output o f32 [1024, 4096]\n"
    ".sbuf   x f32 [128, 8, 512]\n.sbuf   y f32 [128, 8, 512]\n"
    ".for r in 0..3906\n"
    "    .for j in 0..8\n"
    "        dma_copy dst=x[:, j, :] src=h[(r%8)*128:(r%8+1)*128, j*512:(j+1)*512]\n"
    "        activation dst=y[:, j, :] data=x[:, j, :] op=exp\n"
    "        tensor_scalar dst=x[:, j, :] data=y[:, j, :] op0=add operand0=1.0\n"
    "        dma_copy dst=o[(r%8)*128:(r%8+1)*128, j*512:(j+1)*512] src=x[:, j, :]\n"
    "    .end\n"
    ".end\n"
    "dma_copy dst=x[:, 0, :] src=h[0:128, 0:512]\n";

static const char *const strided_tasm =
    ".kernel strided\n"
    ".input  h f32 [128, 4096]\n.output o f32 [128, 4096]\n"
    ".sbuf   x f32 [128, 2, 32]\n.sbuf   y f32 [128, 2, 32]\n"
    ".for r in 0..320\n"
    "    .for j in 0..128\n"
    "        dma_copy dst=x[:, j%2, :] src=h[:, j*32:(j+1)*32]\n"
    "        activation dst=y[:, j%2, :] data=x[:, j%2, :] op=exp\n"
    "        dma_copy dst=o[:, j*32:(j+1)*32] src=y[:, j%2, :] engine=sync\n"
    "    .end\n"
    "    .for j in 1..9\n"
    "        dma_copy dst=x[:, 0, :] src=o[:, j*448-16:j*448+16]\n"
    "    .end\n"
    ".end\n"
    ".for j in 0..32\n"
    "    dma_copy dst=x[:, 1, :] src=o[:, j*128:j*128+32]\n"
    ".end\n";

/* The baseline: one trivial pass over the instruction array. */
static volatile uint64_t sink;
static void baseline_pass(const trn_program *p) {
    uint64_t s = 0;
    for (int i = 0; i < p->ninstrs; i++)
        s += (uint64_t)p->instrs[i].op + (uint64_t)p->instrs[i].engine + p->instrs[i].nargs;
    sink += s;
}

/* Peak resident memory in KiB since the last peak_reset (VmHWM; getrusage where /proc lacks
 * it, then cumulative over the process). */
static long peak_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kib = atol(line + 6);
    if (f) fclose(f);
    if (kib >= 0) return kib;
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

static void peak_reset(void) {
#ifdef __GLIBC__
    malloc_trim(0); /* give the previous kernel's freed memory back first */
#endif
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

/* Best instructions per second of fn over `runs` runs, each repeated to last >= 0.2 s. */
static double best_rate(const trn_program *p, int runs, int timing, const trn_hw_core *core,
                        const trn_hw_chip *chip, double *total_ns) {
    double best = 0;
    for (int r = 0; r < runs; r++) {
        long reps = 0;
        double t0 = now_s(), t1;
        do {
            if (timing) {
                trn_timing *t = NULL;
                trn_err e = {0};
                if (trn_timing_run(p, core, chip, NULL, &t, &e) != TRN_OK) {
                    fprintf(stderr, "%s: %s\n", p->name, e.msg);
                    exit(1);
                }
                *total_ns = trn_timing_report_get(t)->total_ns;
                trn_timing_destroy(t);
            } else {
                baseline_pass(p);
            }
            reps++;
            t1 = now_s();
        } while (t1 - t0 < 0.2);
        double rate = (double)p->ninstrs * (double)reps / (t1 - t0);
        if (rate > best) best = rate;
    }
    return best;
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    if (runs < 1) runs = 1;
    trn_hw *hw = NULL;
    trn_err e = {0};
    if (trn_hw_create(&hw, &e) != TRN_OK) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    const trn_hw_chip *chip = trn_hw_chip_get(hw, "trn2");
    const trn_hw_core *core = chip->core;
    static const struct {
        const char *name, *text;
    } kernels[] = {{"matmul", NULL}, {"stream", NULL}, {"strided", NULL}};
    const char *texts[3] = {matmul_tasm, stream_tasm, strided_tasm};
    printf("timing model speed on NeuronCore-%s (chip %s), best of %d runs\n", core->name,
           chip->name, runs);
    printf("%-8s %8s %12s %14s %14s %10s %10s %10s\n", "kernel", "instrs", "predicted", "instr/s",
           "baseline/s", "ratio", "prog MiB", "peak MiB");
    for (int k = 0; k < 3; k++) {
        peak_reset();
        trn_asm_opts o = {0};
        o.core_version = 3;
        trn_program *p = NULL;
        trn_isa_target tg;
        if (trn_program_assemble(texts[k], kernels[k].name, &o, &p, &e) != TRN_OK ||
            trn_isa_target_from_core(core, &tg, &e) != TRN_OK ||
            trn_program_verify(p, &tg, &e) != TRN_OK) {
            fprintf(stderr, "%s: %s\n", kernels[k].name, e.msg);
            return 1;
        }
        double total_ns = 0;
        double before = (double)peak_kib() / 1024;
        double base = best_rate(p, runs, 0, core, chip, &total_ns);
        double rate = best_rate(p, runs, 1, core, chip, &total_ns);
        printf("%-8s %8d %9.1f us %14.3e %14.3e %10.2e %10.1f %10.1f\n", kernels[k].name,
               p->ninstrs, total_ns * 1e-3, rate, base, rate / base, before,
               (double)peak_kib() / 1024);
        trn_program_destroy(p);
    }
    trn_hw_destroy(hw);
    return 0;
}

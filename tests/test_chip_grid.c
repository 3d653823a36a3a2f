/* The chip layer's functional run (--grid N): the SPMD example kernel examples/kernels/spmd_add
 * on 1, 2, 4 and 8 cores of trn2 against a plain C reference (bit for bit: one FP32 add per
 * element); core_barrier ordering a shared HBM scratch between cores; sendrecv exchanges (a
 * pair, a ring of 4 and LNC=2 pairs) against the permutation they define; faults: a barrier
 * one core never reaches (deadlock naming both cores), two cores writing the same HBM bytes
 * with no barrier between (race naming both), and every static error of the matching and the
 * options.
 * LABELS: unit */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "trnsim/chip.h"

static trn_hw *hw;

static trn_chip *make(const char *chip, const char *text, int grid, int lnc, trn_status want,
                      trn_err *e) {
    trn_chip_opts o = {grid, lnc, NULL, 0, {0}};
    trn_chip *c = NULL;
    trn_status s = trn_chip_assemble(trn_hw_chip_get(hw, chip), text, "t.tasm", &o, &c, e);
    CHECK_MSG(s == want, "grid %d lnc %d: status %d, expected %d: %s", grid, lnc, (int)s, (int)want,
              e->msg);
    return c;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
/* A value FP32 holds exactly (24 significant bits), so inputs reach HBM unrounded. */
static double rnd(void) {
    return (double)((int32_t)(test_rnd64(&rng) >> 32) / 256) / 1024.0;
}

static void write_tensor(trn_chip *c, const char *name, const double *v, size_t n) {
    trn_err e = {0};
    int t = trn_chip_tensor_find(c, name);
    CHECK(t >= 0);
    CHECK_MSG(trn_chip_tensor_write(c, t, v, n, &e) == TRN_OK, "%s", e.msg);
}

static void read_tensor(trn_chip *c, const char *name, double *v, size_t n, size_t *unwritten) {
    trn_err e = {0};
    int t = trn_chip_tensor_find(c, name);
    CHECK(t >= 0);
    CHECK_MSG(trn_chip_tensor_read(c, t, v, n, unwritten, &e) == TRN_OK, "%s", e.msg);
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) n = 0;
    if (s) s[n] = 0;
    fclose(f);
    return s;
}

/* spmd_add: c = a + b, R = 1024 rows split among the programs; FP32 adds are exact to compare. */
static void test_spmd_add(void) {
    char *text = read_text("examples/kernels/spmd_add.tasm");
    CHECK(text != NULL);
    if (!text) return;
    const int R = 1024, N = 512;
    size_t n = (size_t)R * N;
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
    for (size_t i = 0; i < n; i++) a[i] = rnd(), b[i] = rnd();
    const int grids[] = {1, 2, 4, 8};
    for (int g = 0; g < 4; g++) {
        trn_err e = {0};
        trn_chip_opts o = {grids[g], 1, NULL, 0, {0}};
        trn_chip *ch = NULL;
        CHECK_MSG(trn_chip_assemble(trn_hw_chip_get(hw, "trn2"), text, "spmd_add.tasm", &o, &ch,
                                    &e) == TRN_OK,
                  "%s", e.msg);
        if (!ch) continue;
        CHECK_EQ_INT(trn_chip_cores(ch), grids[g]);
        /* each program holds R / grid / 128 tiles of 4 instructions */
        for (int k = 0; k < grids[g]; k++) {
            const trn_program *p = trn_chip_program(ch, k);
            CHECK_EQ_INT(p->program_id, k);
            CHECK_EQ_INT(p->num_programs, grids[g]);
            CHECK_EQ_INT(p->ninstrs, 4 * (R / grids[g] / 128));
        }
        write_tensor(ch, "a", a, n);
        write_tensor(ch, "b", b, n);
        CHECK_MSG(trn_chip_run(ch, &e) == TRN_OK, "grid %d: %s", grids[g], e.msg);
        size_t un = 1;
        read_tensor(ch, "c", c, n, &un);
        CHECK_EQ_INT(un, 0);
        size_t bad = 0;
        for (size_t i = 0; i < n; i++) bad += (float)c[i] != (float)((float)a[i] + (float)b[i]);
        CHECK_MSG(bad == 0, "grid %d: %zu of %zu elements differ from the C reference", grids[g],
                  bad, n);
        /* every core retired its share: 2 loads and 1 store (DMA), 1 add (DVE) per tile */
        CHECK_EQ_INT(trn_chip_instr_count(ch, -1, TRN_ENGINE_DVE), R / 128);
        CHECK_EQ_INT(trn_chip_instr_count(ch, grids[g] - 1, TRN_ENGINE_DVE), R / 128 / grids[g]);
        trn_chip_destroy(ch);
    }
    free(a);
    free(b);
    free(c);
    free(text);
}

/* Each core writes its half of a shared scratch, a barrier, then each reads the other half:
 * y[k] = x[1 - k] (rows of 128). Without the barrier the read of the other half is a fault. */
static const char *k_swap = ".kernel swap\n"
                            ".input  x f32 [256, 64]\n"
                            ".output y f32 [256, 64]\n"
                            ".hbm    s f32 [256, 64]\n"
                            ".sbuf   t f32 [128, 64]\n"
                            ".sbuf   u f32 [128, 64]\n"
                            "dma_copy dst=t src=x[program_id*128:(program_id+1)*128, :]\n"
                            "dma_copy dst=s[program_id*128:(program_id+1)*128, :] src=t\n"
                            "%s\n"
                            "dma_copy dst=u src=s[(1-program_id)*128:(2-program_id)*128, :]\n"
                            "dma_copy dst=y[program_id*128:(program_id+1)*128, :] src=u\n";

static void test_barrier(void) {
    char text[2048];
    snprintf(text, sizeof text, k_swap, "core_barrier data=s cores=(0, 1)");
    trn_err e = {0};
    trn_chip *c = make("trn2", text, 2, 1, TRN_OK, &e);
    if (!c) return;
    double x[256 * 64], y[256 * 64];
    for (int i = 0; i < 256 * 64; i++) x[i] = rnd();
    write_tensor(c, "x", x, 256 * 64);
    CHECK_MSG(trn_chip_run(c, &e) == TRN_OK, "%s", e.msg);
    read_tensor(c, "y", y, 256 * 64, NULL);
    int bad = 0;
    for (int r = 0; r < 256; r++)
        for (int j = 0; j < 64; j++) bad += y[r * 64 + j] != x[((r + 128) % 256) * 64 + j];
    CHECK_EQ_INT(bad, 0);
    /* the barrier retires on Pool on both cores */
    CHECK_EQ_INT(trn_chip_instr_count(c, 0, TRN_ENGINE_POOL), 1);
    CHECK_EQ_INT(trn_chip_instr_count(c, 1, TRN_ENGINE_POOL), 1);
    trn_chip_destroy(c);

    /* no barrier: core 0 runs first and reads core 1's half before it exists */
    snprintf(text, sizeof text, k_swap, "");
    c = make("trn2", text, 2, 1, TRN_OK, &e);
    if (!c) return;
    write_tensor(c, "x", x, 256 * 64);
    CHECK(trn_chip_run(c, &e) == TRN_E_FAULT);
    CHECK_CONTAINS(e.msg, "core 0:");
    CHECK_CONTAINS(e.msg, "uninitialized read");
    int core = -1;
    CHECK(trn_chip_fault(c, &core) != NULL && core == 0);
    trn_chip_destroy(c);
}

/* Deadlock: only program 0 executes the barrier. */
static void test_deadlock(void) {
    const char *text = ".kernel dl\n"
                       ".input x f32 [128, 8]\n"
                       ".sbuf t f32 [128, 8]\n"
                       "dma_copy dst=t src=x\n"
                       ".for i in 0..1-program_id\n"
                       "core_barrier data=x cores=(0, 1)\n"
                       ".end\n"
                       "dma_copy dst=t src=x\n";
    trn_err e = {0};
    trn_chip *c = make("trn2", text, 2, 1, TRN_OK, &e);
    if (!c) return;
    double x[128 * 8] = {0};
    write_tensor(c, "x", x, 128 * 8);
    CHECK(trn_chip_run(c, &e) == TRN_E_FAULT);
    CHECK_CONTAINS(e.msg, "deadlock");
    CHECK_CONTAINS(e.msg, "core 0 waits at line 6 core_barrier (cores 0 1) for core 1");
    CHECK_CONTAINS(e.msg, "finished its program");
    int core = -1;
    const trn_fault *f = trn_chip_fault(c, &core);
    CHECK(f && core == 0 && f->line == 6 && f->op == TRN_OP_CORE_BARRIER);
    trn_chip_destroy(c);

    /* the timing model finds the same deadlock without data */
    c = make("trn2", text, 2, 1, TRN_OK, &e);
    if (!c) return;
    CHECK(trn_chip_time(c, &e) == TRN_E_FAULT);
    CHECK_CONTAINS(e.msg, "deadlock of 2 cores");
    CHECK_CONTAINS(e.msg, "core 0 gpsimd (line 6 core_barrier");
    CHECK_CONTAINS(e.msg, "1 core that never reach a matching core_barrier");
    trn_chip_destroy(c);

    /* crossed barriers on 3 cores: each waits for a core that waits elsewhere */
    const char *cyc = ".kernel cyc\n"
                      ".input x f32 [128, 8]\n"
                      "core_barrier data=x cores=(program_id, (program_id+1)%3)\n"
                      "core_barrier data=x cores=(program_id, (program_id+2)%3)\n";
    c = make("trn2", cyc, 3, 1, TRN_OK, &e);
    if (!c) return;
    write_tensor(c, "x", x, 128 * 8);
    CHECK(trn_chip_run(c, &e) == TRN_E_FAULT);
    CHECK_CONTAINS(e.msg, "core 0 waits at line 3 core_barrier (cores 0 1) for core 1 (blocked at "
                          "line 3 core_barrier)");
    trn_chip_destroy(c);
}

/* Two cores write the same HBM bytes with nothing ordering them: a race naming both. With a
 * barrier between the writes the same program is legal (the last write wins). */
static void test_race(void) {
    const char *fmt = ".kernel ww\n"
                      ".input x f32 [128, 8]\n"
                      ".output y f32 [128, 8]\n"
                      ".sbuf t f32 [128, 8]\n"
                      "dma_copy dst=t src=x\n"
                      ".for i in 0..program_id\n"
                      "%s\n"
                      ".end\n"
                      "dma_copy dst=y src=t\n"
                      ".for i in 0..1-program_id\n"
                      "%s\n"
                      ".end\n";
    char text[1024];
    snprintf(text, sizeof text, fmt, "", "");
    trn_err e = {0};
    trn_chip *c = make("trn2", text, 2, 1, TRN_OK, &e);
    if (!c) return;
    double x[128 * 8];
    for (int i = 0; i < 128 * 8; i++) x[i] = i;
    write_tensor(c, "x", x, 128 * 8);
    CHECK(trn_chip_run(c, &e) == TRN_E_FAULT);
    CHECK_CONTAINS(e.msg, "core 1:");
    CHECK_CONTAINS(e.msg, "race: core 1 writes HBM tensor 'y' byte 0, written by core 0 (line 9 "
                          "dma_copy, instruction 1)");
    trn_chip_destroy(c);

    snprintf(text, sizeof text, fmt, "core_barrier data=y cores=(0, 1)",
             "core_barrier data=y cores=(0, 1)");
    c = make("trn2", text, 2, 1, TRN_OK, &e);
    if (!c) return;
    write_tensor(c, "x", x, 128 * 8);
    CHECK_MSG(trn_chip_run(c, &e) == TRN_OK, "%s", e.msg);
    trn_chip_destroy(c);
}

/* sendrecv: each core loads its 128-row slice of x, sends it to `to` and receives from `from`,
 * and stores what it received as its slice of y: y[k] = x[from(k)]. */
static void check_exchange(const char *to, const char *from, int grid, int lnc,
                           const int *expect_from) {
    char text[2048];
    snprintf(text, sizeof text,
             ".kernel xchg\n"
             ".input  x f32 [%d, 32]\n"
             ".output y f32 [%d, 32]\n"
             ".sbuf   t f32 [128, 32]\n"
             ".sbuf   r f32 [128, 32]\n"
             "dma_copy dst=t src=x[program_id*128:(program_id+1)*128, :]\n"
             "sendrecv src=t dst=r send_to_rank=%s recv_from_rank=%s pipe_id=0\n"
             "dma_copy dst=y[program_id*128:(program_id+1)*128, :] src=r\n",
             128 * grid, 128 * grid, to, from);
    trn_err e = {0};
    trn_chip *c = make("trn2", text, grid, lnc, TRN_OK, &e);
    if (!c) return;
    size_t n = (size_t)128 * 32 * (size_t)grid;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) x[i] = rnd();
    write_tensor(c, "x", x, n);
    CHECK_MSG(trn_chip_run(c, &e) == TRN_OK, "%s", e.msg);
    read_tensor(c, "y", y, n, NULL);
    size_t bad = 0;
    for (int k = 0; k < grid; k++)
        for (size_t i = 0; i < (size_t)128 * 32; i++)
            bad += y[(size_t)k * 128 * 32 + i] != x[(size_t)expect_from[k] * 128 * 32 + i];
    CHECK_MSG(bad == 0, "grid %d lnc %d: %zu elements not from the expected core", grid, lnc, bad);
    free(x);
    free(y);
    trn_chip_destroy(c);
}

static void test_sendrecv(void) {
    const int pair[] = {1, 0};
    check_exchange("1-program_id", "1-program_id", 2, 1, pair);
    /* ranks are 0 or 1 inside the core's pair (the two cores of an HBM stack): grid 4 is the
     * pairs (0, 1) and (2, 3), with LNC=1 and LNC=2 alike */
    const int pairs[] = {1, 0, 3, 2};
    check_exchange("1-program_id%2", "1-program_id%2", 4, 1, pairs);
    check_exchange("1-program_id%2", "1-program_id%2", 4, 2, pairs);

    /* a partner that receives from someone else: a static fault naming both */
    trn_err e = {0};
    const char *bad = ".kernel b\n.sbuf t f32 [128, 8]\n.sbuf r f32 [128, 8]\n"
                      "memset dst=t value=0\n"
                      "sendrecv src=t dst=r send_to_rank=1-program_id recv_from_rank=1 "
                      "pipe_id=0\n";
    trn_chip *c = make("trn2", bad, 2, 1, TRN_E_FAULT, &e);
    CHECK(c == NULL);
    CHECK_CONTAINS(e.msg, "t.tasm:5: sendrecv (core 0, instruction 1): sends to core 1, whose "
                          "matching sendrecv (pipe_id 0, line 5) receives from core 1, not 0");
    /* a partner that never arrives: deadlock in both runs */
    const char *lone = ".kernel l\n.input x f32 [128, 8]\n.sbuf t f32 [128, 8]\n"
                       ".sbuf r f32 [128, 8]\n"
                       "dma_copy dst=t src=x\n"
                       ".for i in 0..1-program_id\n"
                       "sendrecv src=t dst=r send_to_rank=1 recv_from_rank=1 pipe_id=3\n"
                       ".end\n";
    c = make("trn2", lone, 2, 1, TRN_OK, &e);
    if (c) {
        double x[128 * 8] = {0};
        write_tensor(c, "x", x, 128 * 8);
        CHECK(trn_chip_run(c, &e) == TRN_E_FAULT);
        CHECK_CONTAINS(e.msg, "core 0 waits at line 7 sendrecv (cores 0 1) for core 1 (it "
                              "finished its program");
        trn_chip_destroy(c);
    }
    c = make("trn2", lone, 2, 1, TRN_OK, &e);
    if (c) {
        CHECK(trn_chip_time(c, &e) == TRN_E_FAULT);
        CHECK_CONTAINS(e.msg, "core 0 dma (line 7 sendrecv");
        trn_chip_destroy(c);
    }
}

/* Bad options and bad cross-core operands. */
static void test_errors(void) {
    trn_err e = {0};
    const char *k = ".kernel k\n.input x f32 [128, 8]\ncore_barrier data=x cores=(0, 1)\n";
    CHECK(make("trn2", k, 9, 1, TRN_E_INVALID, &e) == NULL);
    CHECK_CONTAINS(e.msg, "--grid 9: chip trn2 has 8 NeuronCores (1..8)");
    CHECK(make("trn1", k, 2, 2, TRN_E_INVALID, &e) == NULL);
    CHECK_CONTAINS(e.msg, "--lnc 2: chip trn1 (NeuronCore-v2) has no Logical NeuronCores");
    CHECK(make("trn2", k, 3, 2, TRN_E_INVALID, &e) == NULL);
    CHECK_CONTAINS(e.msg, "whole number of core pairs");
    CHECK(make("trn2", k, 2, 3, TRN_E_INVALID, &e) == NULL);
    CHECK_CONTAINS(e.msg, "--lnc 3");
    /* a rank outside the grid */
    const char *far = ".kernel f\n.input x f32 [128, 8]\ncore_barrier data=x cores=(0, 5)\n";
    CHECK(make("trn2", far, 2, 1, TRN_E_FAULT, &e) == NULL);
    CHECK_CONTAINS(e.msg, "t.tasm:3: core_barrier (core 0, instruction 0): cores names rank 5");
    /* with LNC=2 ranks are 0 or 1 */
    CHECK(make("trn2", far, 2, 2, TRN_E_FAULT, &e) == NULL);
    CHECK_CONTAINS(e.msg, "inside the pair");
    /* a barrier that leaves out its own core */
    const char *other =
        ".kernel o\n.input x f32 [128, 8]\ncore_barrier data=x cores=(1-program_id)\n";
    CHECK(make("trn2", other, 2, 1, TRN_E_FAULT, &e) == NULL);
    CHECK_CONTAINS(e.msg, "leaves out core 0");
    /* a barrier on one core alone (grid 1) is a no-op group */
    trn_chip *c = make("trn2", ".kernel s\n.input x f32 [128, 8]\ncore_barrier data=x cores=(0)\n",
                       1, 1, TRN_OK, &e);
    if (c) {
        double x[128 * 8] = {0};
        write_tensor(c, "x", x, 128 * 8);
        CHECK_MSG(trn_chip_run(c, &e) == TRN_OK, "%s", e.msg);
        CHECK_MSG(trn_chip_time(c, &e) == TRN_OK, "%s", e.msg);
        trn_chip_destroy(c);
    }
    /* an input never written */
    c = make("trn2", k, 2, 1, TRN_OK, &e);
    if (c) {
        CHECK(trn_chip_run(c, &e) == TRN_E_INVALID);
        CHECK_CONTAINS(e.msg, "input 'x' was never given");
        trn_chip_destroy(c);
    }
    /* HBM layouts that differ between programs */
    const char *lay = ".kernel l\n.input x f32 [128, 8 + program_id]\n.sbuf t f32 [128, 8]\n"
                      "dma_copy dst=t src=x[:, 0:8]\n";
    c = make("trn2", lay, 2, 1, TRN_OK, &e);
    if (c) {
        double x[128 * 8] = {0};
        int t = trn_chip_tensor_find(c, "x");
        CHECK(trn_chip_tensor_write(c, t, x, 128 * 8, &e) == TRN_E_INVALID);
        CHECK_CONTAINS(e.msg, "share one HBM layout");
        trn_chip_destroy(c);
    }
    /* a single-core run of a kernel with a barrier says it needs a grid */
    trn_program *p = NULL;
    CHECK(trn_program_assemble(k, "t.tasm", NULL, &p, &e) == TRN_OK);
    trn_isa_target tg;
    trn_isa_target_from_core(trn_hw_chip_get(hw, "trn2")->core, &tg, &e);
    trn_core *core = NULL;
    if (p && trn_core_create(p, &tg, NULL, &core, &e) == TRN_OK) {
        double x[128 * 8] = {0};
        trn_core_tensor_write(core, 0, x, 128 * 8, &e);
        CHECK(trn_core_run(core, &e) == TRN_E_FAULT);
        CHECK_CONTAINS(e.msg, "core_barrier synchronizes several cores: run the kernel on a grid");
    }
    trn_core_destroy(core);
    trn_program_destroy(p);
}

int main(void) {
    trn_err e = {0};
    if (trn_hw_create(&hw, &e) != TRN_OK) {
        fprintf(stderr, "catalog: %s\n", e.msg);
        return 1;
    }
    test_spmd_add();
    test_barrier();
    test_deadlock();
    test_race();
    test_sendrecv();
    test_errors();
    trn_hw_destroy(hw);
    return test_summary();
}

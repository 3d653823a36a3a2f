/* The timing of several cores of one chip (trn_timing_run_cores, trn_chip_time):
 *  - one core through the multi-core engine gives exactly the single-core timeline (every
 *    example kernel on trn1, trn2, trn3: report JSON and trace bytes identical);
 *  - HBM-bound DMA: N cores each moving 2 MiB HBM->SBUF on a chip whose HBM (100 GB/s, an
 *    override) is the bound take 1300 + N x 2 MiB / (100 B/ns) ns, worked by hand below;
 *    HBM->HBM copies on the real trn2 at 8 cores: every queue gets 2.9 TB/s / (2 sides x 16
 *    queues x 8 cores);
 *  - compute-bound kernels scale perfectly: the same work on every core takes exactly the
 *    one-core time, and work split N ways takes 1/N of it;
 *  - core_barrier ends core_barrier_ns after the last member arrives, on every member; a
 *    sendrecv's transfers start core_barrier_ns after its group is ready and every member
 *    retires with the last transfer;
 *  - the chip report's totals and the multi-core trace (one process per core).
 * LABELS: unit */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "trnsim/chip.h"

static trn_hw *hw;

static trn_chip *make(const trn_hw *h, const char *chip, const char *text, int grid) {
    trn_chip_opts o = {grid, 1, NULL, 0, {0}};
    trn_chip *c = NULL;
    trn_err e = {0};
    trn_status s = trn_chip_assemble(trn_hw_chip_get(h, chip), text, "t.tasm", &o, &c, &e);
    CHECK_MSG(s == TRN_OK, "grid %d: %s", grid, e.msg);
    if (s) return NULL;
    s = trn_chip_time(c, &e);
    CHECK_MSG(s == TRN_OK, "grid %d: %s", grid, e.msg);
    if (s) {
        trn_chip_destroy(c);
        return NULL;
    }
    return c;
}

static double total(const trn_chip *c, int core) {
    return trn_timing_report_get(trn_chip_timing(c, core))->total_ns;
}

static char *capture(const trn_timing *t, const trn_program *p, int trace) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f) abort();
    trn_err e = {0};
    if (trace)
        trn_timing_write_trace_file(t, p, f, &e);
    else
        trn_timing_print_json(t, f, &e);
    fclose(f);
    return buf;
}

/* ---- one core: the single-core timeline, exactly --------------------------------------- */

static void test_identity(void) {
    DIR *d = opendir("examples/kernels");
    CHECK(d != NULL);
    if (!d) return;
    const char *chips[] = {"trn1", "trn2", "trn3"};
    int compared = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".tasm")) continue;
        char path[512];
        snprintf(path, sizeof path, "examples/kernels/%s", de->d_name);
        for (int k = 0; k < 3; k++) {
            const trn_hw_chip *hc = trn_hw_chip_get(hw, chips[k]);
            trn_isa_target tg;
            trn_err e = {0};
            trn_isa_target_from_core(hc->core, &tg, &e);
            trn_asm_opts ao = {NULL, 0, tg.version, 0, 0};
            trn_program *p = NULL;
            if (trn_program_assemble_file(path, &ao, &p, &e) != TRN_OK ||
                trn_program_verify(p, &tg, &e) != TRN_OK) {
                trn_program_destroy(p); /* a dtype this generation lacks */
                continue;
            }
            trn_timing_opts o;
            trn_timing_opts_init(&o);
            o.hbm_share_cores = 1;
            trn_timing *a = NULL, *b[1] = {NULL};
            trn_status sa = trn_timing_run(p, hc->core, hc, &o, &a, &e);
            const trn_program *pp = p;
            trn_status sb = trn_timing_run_cores(&pp, 1, hc->core, hc, NULL, b, &e);
            CHECK_MSG(sa == sb, "%s on %s: %d vs %d", path, chips[k], (int)sa, (int)sb);
            if (sa == TRN_OK && sb == TRN_OK) {
                int n1, n2;
                const trn_timing_instr *x = trn_timing_instrs(a, &n1),
                                       *y = trn_timing_instrs(b[0], &n2);
                int diff = n1 != n2;
                for (int i = 0; !diff && i < n1; i++)
                    diff = x[i].start_ns != y[i].start_ns || x[i].end_ns != y[i].end_ns ||
                           x[i].cycles != y[i].cycles || x[i].pred != y[i].pred;
                CHECK_MSG(!diff, "%s on %s: the timelines differ", path, chips[k]);
                char *ja = capture(a, p, 0), *jb = capture(b[0], p, 0);
                char *ta = capture(a, p, 1), *tb = capture(b[0], p, 1);
                CHECK_MSG(!strcmp(ja, jb), "%s on %s: report JSON differs", path, chips[k]);
                CHECK_MSG(!strcmp(ta, tb), "%s on %s: trace differs", path, chips[k]);
                free(ja);
                free(jb);
                free(ta);
                free(tb);
                compared++;
            }
            trn_timing_destroy(a);
            trn_timing_destroy(b[0]);
            trn_program_destroy(p);
        }
    }
    closedir(d);
    CHECK_MSG(compared >= 30, "only %d kernel x chip pairs compared", compared);
}

/* ---- HBM-bound DMA ------------------------------------------------------------------------ */

/* Each program loads its own 128 x 4096 f32 slice (2 MiB) into SBUF with one dma_copy. */
static const char *k_load = ".kernel load\n"
                            ".input  x f32 [1024, 4096]\n"
                            ".sbuf   t f32 [128, 4096]\n"
                            "dma_copy dst=t src=x[program_id*128:(program_id+1)*128, :]\n";

static void test_hbm_bound(void) {
    /* A chip whose HBM gives 100 GB/s: the bound for any number of cores. The dma_copy is split
     * partition-wise over the 16 DMA queues: 8 partitions x 16 KiB = 131072 B per queue. With N
     * cores, 16 N transfers move data at once, each capped at the queue's rate (23 GB/s x the
     * efficiency at 16 KiB buffers, about 22.4 B/ns) and sharing 100 B/ns fairly: 100 / (16 N)
     * B/ns each (6.25 B/ns at N = 1, below the cap). Each transfer pays the fixed cost
     * dma_fixed_ns = 1300 ns first, so
     *   T(N) = 1300 + 131072 / (100 / (16 N)) = 1300 + 20971.52 N ns. */
    trn_hw *h = NULL;
    trn_err e = {0};
    CHECK(trn_hw_create(&h, &e) == TRN_OK);
    const char *ov = "{\"chips\": {\"trn2\": {\"hbm_bw_bps\": {\"value\": 100e9, \"assumed\": "
                     "\"test: an HBM slower than the DMA engines\"}}}}";
    CHECK_MSG(trn_hw_load_string(h, "test.json", ov, &e) == TRN_OK, "%s", e.msg);
    double t1 = 0;
    for (int n = 1; n <= 8; n *= 2) {
        trn_chip *c = make(h, "trn2", k_load, n);
        if (!c) continue;
        double want = 1300 + 20971.52 * n;
        for (int k = 0; k < n; k++)
            CHECK_MSG(fabs(total(c, k) - want) < 1e-6 * want,
                      "N=%d core %d: %.3f ns, expected %.3f", n, k, total(c, k), want);
        trn_chip_report r;
        trn_chip_report_get(c, &r);
        CHECK_NEAR(r.total_ns, want, 1e-6 * want);
        CHECK_EQ_INT(r.hbm_bytes, (uint64_t)n * 2097152);
        CHECK_NEAR(r.hbm_available_bps, 100e9, 1);
        if (n == 1) t1 = r.total_ns;
        printf("HBM-bound load, %d core%s: %.1f ns (%.2f x one core)\n", n, n > 1 ? "s" : "",
               r.total_ns, r.total_ns / t1);
        trn_chip_destroy(c);
    }
    trn_hw_destroy(h);

    /* Real trn2 (2.9 TB/s): HBM->HBM copies weigh 2 (read and write). Each program copies a
     * 128 x 1024 f32 slice (512 KiB): 16 queues x 32768 B. With 8 cores, 128 transfers of weight
     * 2 share 2900 B/ns: 2900 / 256 = 11.328125 B/ns each, below the queue cap (about 20.7 B/ns
     * at 4 KiB rows), so T(8) = 1300 + 32768 / 11.328125 = 4192.6 ns. One core alone is not
     * HBM-bound (32 x the cap < 2900 B/ns) and is faster. */
    const char *k_copy = ".kernel hcopy\n"
                         ".input  x f32 [1024, 1024]\n"
                         ".output y f32 [1024, 1024]\n"
                         "dma_copy dst=y[program_id*128:(program_id+1)*128, :] "
                         "src=x[program_id*128:(program_id+1)*128, :]\n";
    trn_chip *c8 = make(hw, "trn2", k_copy, 8), *c1 = make(hw, "trn2", k_copy, 1);
    if (c8 && c1) {
        double want = 1300 + 32768 / (2900.0 / 256);
        for (int k = 0; k < 8; k++)
            CHECK_MSG(fabs(total(c8, k) - want) < 1e-6 * want, "core %d: %.3f ns, expected %.3f", k,
                      total(c8, k), want);
        CHECK(total(c1, 0) < want);
        printf("trn2 HBM->HBM copy: 1 core %.1f ns, 8 cores %.1f ns (HBM-bound)\n", total(c1, 0),
               total(c8, 0));
    }
    trn_chip_destroy(c8);
    trn_chip_destroy(c1);
}

/* ---- compute-bound ------------------------------------------------------------------------ */

static void test_compute_bound(void) {
    /* the same VectorE/ScalarE chain on every core, one small load (64 B per partition, far
     * from any HBM limit): every core's time is the one-core time exactly */
    const char *weak = ".kernel weak\n"
                       ".input x f32 [128, 16]\n"
                       ".sbuf  t f32 [128, 16]\n"
                       ".sbuf  a f32 [128, 2048]\n"
                       ".sbuf  b f32 [128, 2048]\n"
                       "dma_copy dst=t src=x\n"
                       "memset dst=a value=1.5\n"
                       ".for i in 0..32\n"
                       "tensor_scalar dst=b data=a op0=multiply operand0=1.0001\n"
                       "activation dst=a data=b op=exp\n"
                       ".end\n";
    trn_chip *c1 = make(hw, "trn2", weak, 1);
    for (int n = 2; n <= 8 && c1; n *= 2) {
        trn_chip *c = make(hw, "trn2", weak, n);
        if (!c) continue;
        for (int k = 0; k < n; k++)
            CHECK_MSG(total(c, k) == total(c1, 0), "N=%d core %d: %.3f ns vs %.3f alone", n, k,
                      total(c, k), total(c1, 0));
        trn_chip_destroy(c);
    }
    /* work split N ways (strong scaling): 64 / N iterations per core. The time is a one-off
     * part c (the memset and the first dependence) plus the iterations, so with
     * c = 2 T(2) - T(1) every T(N) must be c + (T(1) - c) / N exactly: perfect scaling. */
    const char *strong = ".kernel strong\n"
                         ".sbuf  a f32 [128, 2048]\n"
                         ".sbuf  b f32 [128, 2048]\n"
                         "memset dst=a value=1.5\n"
                         ".for i in 0..64/num_programs\n"
                         "tensor_scalar dst=b data=a op0=multiply operand0=1.0001\n"
                         "activation dst=a data=b op=exp\n"
                         ".end\n";
    trn_chip *s1 = make(hw, "trn2", strong, 1), *s2 = make(hw, "trn2", strong, 2);
    double c0 = s1 && s2 ? 2 * total(s2, 0) - total(s1, 0) : 0;
    CHECK(c0 > 0 && c0 < 0.05 * (s1 ? total(s1, 0) : 0));
    for (int n = 4; n <= 8 && s1 && s2; n *= 2) {
        trn_chip *c = make(hw, "trn2", strong, n);
        if (!c) continue;
        double want = c0 + (total(s1, 0) - c0) / n;
        for (int k = 0; k < n; k++)
            CHECK_MSG(fabs(total(c, k) - want) < 1e-9 * want,
                      "N=%d core %d: %.3f ns, expected %.3f", n, k, total(c, k), want);
        printf("compute-bound split %d ways: %.1f ns vs %.1f ns alone (speed-up %.3f; %.1f ns "
               "one-off)\n",
               n, total(c, 0), total(s1, 0), total(s1, 0) / total(c, 0), c0);
        trn_chip_destroy(c);
    }
    trn_chip_destroy(s2);
    trn_chip_destroy(c1);
    trn_chip_destroy(s1);
}

/* ---- barrier and sendrecv ----------------------------------------------------------------- */

static void test_barrier_timing(void) {
    /* program 1 does 8 more VectorE instructions before storing its half of s: its barrier (which
     * waits for the store: it orders s) arrives last; both barriers end core_barrier_ns (1300 ns
     * on trn2) after that arrival, and the load of the other half waits for the barrier */
    const char *k = ".kernel bt\n"
                    ".hbm    s f32 [256, 512]\n"
                    ".sbuf   a f32 [128, 512]\n"
                    "memset dst=a value=0\n"
                    ".for i in 0..1+8*program_id\n"
                    "tensor_scalar dst=a data=a op0=add operand0=1.0 engine=vector\n"
                    ".end\n"
                    "dma_copy dst=s[program_id*128:(program_id+1)*128, :] src=a\n"
                    "core_barrier data=s cores=(0, 1)\n"
                    "dma_copy dst=a src=s[(1-program_id)*128:(2-program_id)*128, :]\n";
    trn_chip *c = make(hw, "trn2", k, 2);
    if (!c) return;
    const trn_program *p0 = trn_chip_program(c, 0), *p1 = trn_chip_program(c, 1);
    int n0, n1;
    const trn_timing_instr *t0 = trn_timing_instrs(trn_chip_timing(c, 0), &n0);
    const trn_timing_instr *t1 = trn_timing_instrs(trn_chip_timing(c, 1), &n1);
    int b0 = n0 - 2, b1 = n1 - 2;
    CHECK(p0->instrs[b0].op == TRN_OP_CORE_BARRIER && p1->instrs[b1].op == TRN_OP_CORE_BARRIER);
    double barrier_ns = trn_hw_chip_get(hw, "trn2")->core->core_barrier_ns.value;
    CHECK_NEAR(barrier_ns, 1300, 0);
    /* each arrives when its store retired (semaphore latency 0 on trn2) */
    CHECK_NEAR(t0[b0].start_ns, t0[b0 - 1].end_ns, 1e-9);
    CHECK_NEAR(t1[b1].start_ns, t1[b1 - 1].end_ns, 1e-9);
    CHECK(t1[b1].start_ns > t0[b0].start_ns + 1000); /* core 1 arrives last */
    CHECK_NEAR(t0[b0].end_ns, t1[b1].start_ns + barrier_ns, 1e-9);
    CHECK_NEAR(t1[b1].end_ns, t1[b1].start_ns + barrier_ns, 1e-9);
    CHECK(t0[n0 - 1].start_ns >= t0[b0].end_ns);
    CHECK(t1[n1 - 1].start_ns >= t1[b1].end_ns);
    trn_chip_destroy(c);
}

static void test_sendrecv_timing(void) {
    /* program 1 loads 4x more before the exchange; the exchange's transfers start 1300 ns after
     * the later core is ready, and both cores retire it with the last transfer */
    const char *k = ".kernel sr\n"
                    ".input  x f32 [256, 2048]\n"
                    ".sbuf   w f32 [128, 2048]\n"
                    ".sbuf   t f32 [128, 64]\n"
                    ".sbuf   r f32 [128, 64]\n"
                    ".for i in 0..1+3*program_id\n"
                    "dma_copy dst=w src=x[program_id*128:(program_id+1)*128, :]\n"
                    ".end\n"
                    "tensor_copy dst=t src=w[:, 0:64]\n"
                    "sendrecv src=t dst=r send_to_rank=1-program_id recv_from_rank=1-program_id "
                    "pipe_id=0\n";
    trn_chip *c = make(hw, "trn2", k, 2);
    if (!c) return;
    const trn_timing *tm[2] = {trn_chip_timing(c, 0), trn_chip_timing(c, 1)};
    int n[2];
    const trn_timing_instr *ti[2] = {trn_timing_instrs(tm[0], &n[0]),
                                     trn_timing_instrs(tm[1], &n[1])};
    int s0 = n[0] - 1, s1 = n[1] - 1;
    /* ready: after the tensor_copy before it */
    double ready = fmax(ti[0][s0 - 1].end_ns, ti[1][s1 - 1].end_ns);
    double first = INFINITY, last = 0;
    for (int k2 = 0; k2 < 2; k2++)
        for (int q = 0; q < 16; q++) {
            double st, dt, en;
            uint64_t by;
            if (!trn_timing_dma_piece(tm[k2], n[k2] - 1, q, &st, &dt, &en, &by) || !by) continue;
            if (st < first) first = st;
            if (en > last) last = en;
        }
    CHECK_NEAR(first, ready + 1300, 1e-6);
    CHECK_NEAR(ti[0][s0].end_ns, last, 1e-9);
    CHECK_NEAR(ti[1][s1].end_ns, last, 1e-9);
    trn_chip_destroy(c);
}

/* ---- report and trace --------------------------------------------------------------------- */

static void test_report_trace(void) {
    char *text = NULL;
    FILE *f = fopen("examples/kernels/spmd_add.tasm", "rb");
    CHECK(f != NULL);
    if (!f) return;
    text = calloc(1, 1 << 16);
    size_t got = fread(text, 1, (1 << 16) - 1, f);
    fclose(f);
    CHECK(got > 0);
    trn_chip *c = make(hw, "trn2", text, 4);
    free(text);
    if (!c) return;
    trn_chip_report r;
    trn_chip_report_get(c, &r);
    CHECK_EQ_INT(r.cores, 4);
    CHECK_EQ_INT(r.hbm_bytes, 3 * 1024 * 512 * 4); /* a, b read and c written once in all */
    double mx = 0;
    for (int k = 0; k < 4; k++) mx = fmax(mx, total(c, k));
    CHECK(r.total_ns == mx);
    CHECK_NEAR(r.hbm_bps, r.hbm_bytes / r.total_ns * 1e9, 1e-3);
    /* JSON parses and carries one report per core */
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    trn_err e = {0};
    CHECK(trn_chip_print_json(c, m, &e) == TRN_OK);
    fclose(m);
    cJSON *root = cJSON_Parse(buf);
    CHECK(root != NULL);
    cJSON *pc = cJSON_GetObjectItem(root, "per_core");
    CHECK_EQ_INT(cJSON_GetArraySize(pc), 4);
    CHECK_EQ_INT(
        (int)cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(pc, 3), "core_index")), 3);
    CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(root, "total_ns")), r.total_ns, 1e-6);
    cJSON_Delete(root);
    free(buf);
    /* the trace: one named process per core, slices on each */
    const char *path = "build-test-chip-trace.json";
    CHECK(trn_chip_write_trace(c, path, &e) == TRN_OK);
    FILE *tf = fopen(path, "rb");
    char *tr = calloc(1, 1 << 20);
    size_t tn = tf ? fread(tr, 1, (1 << 20) - 1, tf) : 0;
    if (tf) fclose(tf);
    remove(path);
    CHECK(tn > 0);
    root = cJSON_Parse(tr);
    CHECK(root != NULL);
    int procs[4] = {0}, slices[4] = {0};
    cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItem(root, "traceEvents")) {
        int pid = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(x, "pid"));
        const char *nm = cJSON_GetStringValue(cJSON_GetObjectItem(x, "name"));
        const char *ph = cJSON_GetStringValue(cJSON_GetObjectItem(x, "ph"));
        if (pid < 0 || pid > 3 || !nm || !ph) continue;
        if (!strcmp(nm, "process_name")) procs[pid]++;
        if (!strcmp(ph, "X")) slices[pid]++;
    }
    for (int k = 0; k < 4; k++) {
        CHECK_EQ_INT(procs[k], 1);
        CHECK_EQ_INT(slices[k],
                     2 * 16 * 2 + 2 * 16 + 2); /* 2 loads + 1 store on 16 queues, 2 adds */
    }
    cJSON_Delete(root);
    free(tr);
    trn_chip_destroy(c);
}

int main(void) {
    trn_err e = {0};
    if (trn_hw_create(&hw, &e) != TRN_OK) {
        fprintf(stderr, "catalog: %s\n", e.msg);
        return 1;
    }
    test_identity();
    test_hbm_bound();
    test_compute_bound();
    test_barrier_timing();
    test_sendrecv_timing();
    test_report_trace();
    trn_hw_destroy(hw);
    return test_summary();
}

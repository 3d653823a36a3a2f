/* Timing of the example kernels (examples/kernels/ (every .tasm)) on Trn1, Trn2 and Trn3 (where
 * their data types exist): each schedules and times without error, twice with identical report and
 * trace bytes, the trace parses as JSON with one thread per engine and DMA queue that worked,
 * and the report is consistent (busy <= total, bytes add up).
 *
 * `test_timing_examples --table` prints the table of docs/timing-model.md: predicted time per
 * generation and the bound that limits it.
 * LABELS: unit */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "trnsim/timing.h"

#define KDIR "examples/kernels"

static const char *const chips[] = {"trn1", "trn2", "trn3"};
#define NCHIPS 3

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .tasm files of KDIR, sorted (malloc'd names, *n of them). */
static char **list_kernels(int *n) {
    DIR *d = opendir(KDIR);
    char **v = NULL;
    *n = 0;
    if (!d) return NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".tasm")) continue;
        char **w = realloc(v, sizeof *v * (size_t)(*n + 1));
        if (!w) break;
        v = w;
        v[*n] = malloc(l + 1);
        memcpy(v[*n], e->d_name, l + 1);
        (*n)++;
    }
    closedir(d);
    qsort(v, (size_t)*n, sizeof *v, cmp_str);
    return v;
}

static char *capture(trn_timing *t, const trn_program *p, int trace) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f) abort();
    trn_err e = {0};
    trn_status s =
        trace ? trn_timing_write_trace_file(t, p, f, &e) : trn_timing_print_json(t, f, &e);
    fclose(f);
    CHECK_MSG(s == TRN_OK, "%s", e.msg);
    return buf;
}

/* Checks a trace: valid JSON, complete events with the fields Perfetto needs, one named
 * thread per track that has slices and a slice on every named thread. */
static void check_trace(const char *text, const trn_timing *t, const char *what) {
    cJSON *root = cJSON_Parse(text);
    CHECK_MSG(root != NULL, "%s: trace is not valid JSON", what);
    if (!root) return;
    cJSON *ev = cJSON_GetObjectItemCaseSensitive(root, "traceEvents");
    CHECK(cJSON_IsArray(ev));
    int named[64] = {0}, used[64] = {0}, bad = 0;
    cJSON *x;
    cJSON_ArrayForEach(x, ev) {
        const char *ph = cJSON_GetStringValue(cJSON_GetObjectItem(x, "ph"));
        cJSON *tid = cJSON_GetObjectItem(x, "tid");
        if (!ph || !cJSON_IsNumber(tid) || tid->valueint < 0 || tid->valueint >= 64) {
            bad++;
            continue;
        }
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(x, "name"));
        if (!strcmp(ph, "M") && name && !strcmp(name, "thread_name")) named[tid->valueint] = 1;
        if (!strcmp(ph, "X")) {
            cJSON *ts = cJSON_GetObjectItem(x, "ts"), *dur = cJSON_GetObjectItem(x, "dur");
            cJSON *args = cJSON_GetObjectItem(x, "args");
            if (!cJSON_IsNumber(ts) || !cJSON_IsNumber(dur) || dur->valuedouble < 0 ||
                !cJSON_IsNumber(cJSON_GetObjectItem(args, "line")) ||
                !cJSON_IsString(cJSON_GetObjectItem(args, "operands")) || !name)
                bad++;
            used[tid->valueint] = 1;
        }
    }
    CHECK_MSG(bad == 0, "%s: %d malformed events", what, bad);
    const trn_timing_report *r = trn_timing_report_get(t);
    int tracks = 0;
    for (int e = 0; e < TRN_TIMING_ENGINES; e++) tracks += r->engine[e].instrs > 0;
    for (int q = 0; q < r->ndma_queues; q++) tracks += r->dma_queue[q].instrs > 0;
    int nnamed = 0, mismatch = 0;
    for (int k = 0; k < 64; k++) {
        nnamed += named[k];
        mismatch += named[k] != used[k];
    }
    CHECK_MSG(nnamed == tracks && mismatch == 0, "%s: %d named threads, %d tracks, %d mismatches",
              what, nnamed, tracks, mismatch);
    cJSON_Delete(root);
}

/* Assembles and verifies kernel `file` for the core of chip `chip`; NULL when its data types
 * or instructions do not exist there. */
static trn_program *load(const trn_hw *hw, const char *file, const char *chipname) {
    const trn_hw_chip *chip = trn_hw_chip_get(hw, chipname);
    if (!chip) abort();
    char path[512];
    snprintf(path, sizeof path, "%s/%s", KDIR, file);
    trn_asm_opts o = {0};
    o.core_version = atoi(chip->core->name + 1);
    trn_program *p = NULL;
    trn_err e = {0};
    trn_isa_target tg;
    if (trn_program_assemble_file(path, &o, &p, &e) != TRN_OK ||
        trn_isa_target_from_core(chip->core, &tg, &e) != TRN_OK ||
        trn_program_verify(p, &tg, &e) != TRN_OK) {
        trn_program_destroy(p);
        return NULL;
    }
    return p;
}

static const char *bound_name(trn_engine e) {
    return e == TRN_ENGINE_DMA ? "DMA" : trn_engine_short(e);
}

static void table(const trn_hw *hw, char **k, int nk) {
    printf("| kernel | Trn1 (v2) | Trn2 (v3) | Trn3 (v4) |\n|---|---|---|---|\n");
    for (int i = 0; i < nk; i++) {
        printf("| %.*s |", (int)(strlen(k[i]) - 5), k[i]);
        for (int c = 0; c < NCHIPS; c++) {
            trn_program *p = load(hw, k[i], chips[c]);
            trn_timing *t = NULL;
            const trn_hw_chip *chip = trn_hw_chip_get(hw, chips[c]);
            if (!p || trn_timing_run(p, chip->core, chip, NULL, &t, NULL) != TRN_OK) {
                printf(" n/a |");
            } else {
                const trn_timing_report *r = trn_timing_report_get(t);
                printf(" %.2f µs, %s-bound (PE %.0f%%, DMA q0 %.0f%%) |", r->total_ns * 1e-3,
                       bound_name(r->bound), 100 * r->engine[TRN_ENGINE_PE].utilization,
                       r->ndma_queues ? 100 * r->dma_queue[0].utilization : 0.0);
            }
            trn_timing_destroy(t);
            trn_program_destroy(p);
        }
        printf("\n");
    }
}

int main(int argc, char **argv) {
    trn_hw *hw = NULL;
    if (trn_hw_create(&hw, NULL) != TRN_OK) return 1;
    int nk = 0;
    char **k = list_kernels(&nk);
    CHECK_MSG(nk >= 8, "found %d kernels in %s", nk, KDIR);
    if (argc > 1 && !strcmp(argv[1], "--table")) {
        table(hw, k, nk);
    } else {
        for (int i = 0; i < nk; i++) {
            int ran = 0;
            for (int c = 0; c < NCHIPS; c++) {
                trn_program *p = load(hw, k[i], chips[c]);
                if (!p) continue;
                const trn_hw_chip *chip = trn_hw_chip_get(hw, chips[c]);
                char what[256];
                snprintf(what, sizeof what, "%s on %s", k[i], chips[c]);
                trn_timing *t1 = NULL, *t2 = NULL;
                trn_err e = {0};
                trn_status s1 = trn_timing_run(p, chip->core, chip, NULL, &t1, &e);
                CHECK_MSG(s1 == TRN_OK, "%s: %s", what, e.msg);
                trn_status s2 = trn_timing_run(p, chip->core, chip, NULL, &t2, &e);
                if (s1 == TRN_OK && s2 == TRN_OK) {
                    ran++;
                    const trn_timing_report *r = trn_timing_report_get(t1);
                    CHECK_MSG(r->total_ns > 0, "%s: total %g", what, r->total_ns);
                    for (int e2 = 0; e2 < TRN_TIMING_ENGINES; e2++)
                        CHECK_MSG(r->engine[e2].busy_ns <= r->total_ns * (1 + 1e-12),
                                  "%s: %s busy %g > total %g", what, r->engine[e2].name,
                                  r->engine[e2].busy_ns, r->total_ns);
                    uint64_t qbytes = 0;
                    for (int q = 0; q < r->ndma_queues; q++) qbytes += r->dma_queue[q].bytes;
                    CHECK_MSG(qbytes >= r->hbm_to_sbuf_bytes + r->sbuf_to_hbm_bytes,
                              "%s: queue bytes %llu", what, (unsigned long long)qbytes);
                    CHECK_MSG(r->ncritical > 0 &&
                                  r->critical[r->ncritical - 1].end_ns == r->total_ns,
                              "%s: critical path does not end at the total", what);
                    char *j1 = capture(t1, p, 0), *j2 = capture(t2, p, 0);
                    char *tr1 = capture(t1, p, 1), *tr2 = capture(t2, p, 1);
                    CHECK_MSG(!strcmp(j1, j2), "%s: JSON reports differ between runs", what);
                    CHECK_MSG(!strcmp(tr1, tr2), "%s: traces differ between runs", what);
                    cJSON *js = cJSON_Parse(j1);
                    CHECK_MSG(js && cJSON_GetObjectItem(js, "total_ns"), "%s: bad JSON", what);
                    cJSON_Delete(js);
                    check_trace(tr1, t1, what);
                    free(j1);
                    free(j2);
                    free(tr1);
                    free(tr2);
                }
                trn_timing_destroy(t1);
                trn_timing_destroy(t2);
                trn_program_destroy(p);
            }
            CHECK_MSG(ran > 0, "%s ran on no chip", k[i]);
        }
    }
    for (int i = 0; i < nk; i++) free(k[i]);
    free(k);
    trn_hw_destroy(hw);
    return test_summary();
}

/* LABELS: unit
 * The planner against published measurements (docs/validation.md "The planner against published
 * measurements"). Every row of tests/data/validation.json is rerun through the planner with the
 * inputs the source gives (parallelism pinned where it is published, searched where not), and
 * the predicted value set beside the measured one. The test
 *   - recomputes the table and fails when the one in docs/validation.md differs from it, so the
 *     doc cannot drift from the code (`test_plan_validation --table` prints the table to paste);
 *   - checks that each calibration row (the rows the catalog's efficiency factors were fitted
 *     to, named in the "derived" text of those factors) is reproduced within 2%, i.e. that the
 *     catalog still holds the calibrated values;
 *   - recomputes the median absolute error and the worst row from the errors by hand (a sort in
 *     this file) and checks the summary lines of the doc against them;
 *   - checks the ZeRO-2 per-microbatch gradient reduce-scatter of the training model against
 *     the formula of docs/planner.md evaluated here with the fabric's own collective times.
 * `--hw FILE` (repeatable) applies catalog overrides first (what-ifs while calibrating). */
#include <stdarg.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "trnsim/hw.h"
#include "trnsim/model.h"
#include "trnsim/plan.h"
#include "trnsim/plan_des.h"
#include "plan/plan_impl.h" /* plan_model_summary: the parameters a stage holds */

#define DATA       "tests/data/validation.json"
#define DOC        "docs/validation.md"
#define BEGIN_MARK "<!-- planner-table begin: test_plan_validation --table -->"
#define END_MARK   "<!-- planner-table end -->"

/* The calibration rows: each fits one catalog factor (the factor's "derived" text names it). */
static const char *const calibration[][2] = {
    {"neuron-trn1-llama2-7b-pretrain", "training throughput"},
    {"neuron-trn2-llama3.3-70b-bs1", "TTFT p50"},
    {"mlperf-inf4.1-h100x8-llama2-70b-offline", "output throughput"},
    {"nemo-h100x8-llama3-8b-fp8", "training throughput per GPU"},
    {"nemo-b200x8-llama3-8b-fp8", "training throughput per GPU"},
};

/* The mean input length of the MLPerf Llama-2-70B dataset (inputs <= 1,024 tokens) is not in
 * our sources. At the 1,024 limit, the measured H200 rate (107.5 samples/s on 8 GPUs) would
 * need 2 x 69e9 x 1024 x 13.4 = 1.9e15 FLOP/s per GPU for prefill alone, 96% of the FP8 dense
 * peak, so the mean is well below the limit. It is fitted, to the nearest 10 tokens, so that the
 * H100 offline row is reproduced with the catalog's H100 GEMM efficiency (itself calibrated on a
 * training row, below), and then used unchanged for the other MLPerf rows. The two are
 * confounded on these rows: with the assumed 0.75 the fit was 420. */
#define MLPERF_INPUT_FIT 180
#define NCAL             (sizeof calibration / sizeof calibration[0])

typedef struct line {
    char id[96], metric[48], unit[16], inputs[400], note[160];
    double measured, predicted, err; /* err = predicted / measured - 1 */
    int predicted_ok, calib;
} line;

typedef struct table {
    line l[64];
    int n;
    char skipped[16][2][320]; /* id, reason */
    int nskip;
} table;

static char *buf_append(char *b, size_t *len, size_t *cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static char *buf_append(char *b, size_t *len, size_t *cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char tmp[1024];
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0) return b;
    if (*len + (size_t)k + 1 > *cap) {
        size_t nc = (*cap + (size_t)k + 1) * 2;
        char *nb = realloc(b, nc);
        if (!nb) return b;
        b = nb, *cap = nc;
    }
    memcpy(b + *len, tmp, (size_t)k + 1);
    *len += (size_t)k;
    return b;
}

/* The whole file as a NUL-terminated string (malloc'd), or NULL. */
static char *read_text(const char *path, trn_err *err) {
    void *data = NULL;
    size_t n = 0;
    if (trn_file_read(path, &data, &n, err) != TRN_OK) return NULL;
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, data, n);
        s[n] = 0;
    }
    free(data);
    return s;
}

static const char *jstr(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
static double jnum(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static int is_calib(const char *id, const char *metric) {
    for (size_t i = 0; i < NCAL; i++)
        if (!strcmp(calibration[i][0], id) && !strcmp(calibration[i][1], metric)) return 1;
    return 0;
}

static void add_line(table *t, const char *id, const char *metric, const char *unit,
                     double measured, double predicted, const char *inputs, const char *note) {
    if (t->n == 64) return;
    line *l = &t->l[t->n++];
    memset(l, 0, sizeof *l);
    snprintf(l->id, sizeof l->id, "%s", id);
    snprintf(l->metric, sizeof l->metric, "%s", metric);
    snprintf(l->unit, sizeof l->unit, "%s", unit);
    snprintf(l->inputs, sizeof l->inputs, "%s", inputs);
    snprintf(l->note, sizeof l->note, "%s", note ? note : "");
    l->measured = measured;
    l->predicted = predicted;
    l->predicted_ok = 1;
    l->err = predicted / measured - 1;
    l->calib = is_calib(id, metric);
}

static void skip(table *t, const char *id, const char *reason) {
    if (t->nskip == 16) return;
    snprintf(t->skipped[t->nskip][0], sizeof t->skipped[0][0], "%s", id);
    snprintf(t->skipped[t->nskip][1], sizeof t->skipped[0][1], "%s", reason);
    t->nskip++;
}

/* Published parallel degrees count NeuronCores (or logical cores); the planner counts chips.
 * TP spans the cores of a chip first: tp in chips = tp / (units per chip). */
static int64_t units_per_chip(const cJSON *in, int64_t chips) {
    double tp = jnum(in, "tp"), pp = jnum(in, "pp"), dp = jnum(in, "dp");
    if (tp <= 0) return 1;
    double u = tp * (pp > 0 ? pp : 1) * (dp > 0 ? dp : 1) / (double)chips;
    return u >= 1 ? (int64_t)u : 1;
}

static void predict_train(const trn_hw *hw, const cJSON *row, table *t) {
    const char *id = jstr(row, "id");
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(row, "inputs");
    const cJSON *meas = cJSON_GetObjectItemCaseSensitive(row, "measured");
    const cJSON *m0 = cJSON_GetArrayItem(meas, 0);
    int64_t chips = (int64_t)jnum(row, "chips");
    int64_t seq = (int64_t)jnum(in, "seq_len"), gbs = (int64_t)jnum(in, "global_batch");
    if (strcmp(jstr(m0, "unit"), "min") == 0) {
        const char *bench = jstr(in, "benchmark");
        char r[320];
        snprintf(r, sizeof r,
                 "measured time to a target quality: the tokens processed until then%s are not "
                 "in the row%s",
                 seq && !gbs ? " and the global batch" : ", the sequence length and batch",
                 bench && strstr(bench, "LoRA") ? "; LoRA fine-tuning (frozen base weights, "
                                                  "adapter-only optimizer) is not modeled"
                                                : "");
        skip(t, id, r);
        return;
    }
    const char *model_name =
        jstr(row, "catalog_model") ? jstr(row, "catalog_model") : jstr(row, "model");
    trn_err err = {0};
    trn_model *md = NULL;
    trn_plan_machine *m = NULL;
    const trn_hw_system *sys = trn_hw_system_get(hw, jstr(row, "system"));
    CHECK_MSG(sys != NULL, "%s: system %s", id, jstr(row, "system"));
    if (!sys || trn_model_load(model_name, &md, &err) != TRN_OK ||
        trn_plan_machine_create(sys, chips, &m, &err) != TRN_OK) {
        CHECK_MSG(0, "%s: %s", id, err.msg);
        trn_model_destroy(md);
        return;
    }
    int64_t u = units_per_chip(in, chips);
    int64_t tp = (int64_t)jnum(in, "tp") / u, pp = (int64_t)jnum(in, "pp"),
            dp = (int64_t)jnum(in, "dp");
    if (pp < 1) pp = 1;
    int64_t mbs = (int64_t)jnum(in, "microbatch"), cp = (int64_t)jnum(in, "cp");
    if (cp < 1) cp = 1;
    const cJSON *z = cJSON_GetObjectItemCaseSensitive(in, "zero");
    /* "fp8" in the published precision: FP8 matmuls (the rest stays bf16, as in the planner) */
    const char *prec = jstr(in, "precision");
    int fp8 = prec && strstr(prec, "fp8");
    trn_plan_train w = {seq, gbs, fp8 ? TRN_HW_FP8 : TRN_HW_BF16, 0};
    trn_plan_pins pins = {
        tp, pp, dp, 1, cp, mbs ? gbs / dp / mbs : 0, cJSON_IsNumber(z) ? z->valueint : -1, -1};
    trn_plan_train_result r;
    int found = 0;
    trn_status s =
        trn_plan_train_search(m, md, &w, &pins, TRN_PLAN_THROUGHPUT, &r, 1, &found, NULL, &err);
    CHECK_MSG(s == TRN_OK && found == 1, "%s: %s", id, err.msg);
    if (s == TRN_OK) {
        char inputs[300], cps[32] = "";
        if (r.cfg.cp > 1) snprintf(cps, sizeof cps, " cp %lld", (long long)r.cfg.cp);
        snprintf(inputs, sizeof inputs,
                 "%s, %lld chips, seq %lld, GBS %lld, tp %lld pp %lld%s dp %lld (chips), mb %lld, "
                 "%s; zero %d%s, recompute %s (searched)",
                 model_name, (long long)chips, (long long)seq, (long long)gbs, (long long)r.cfg.tp,
                 (long long)r.cfg.pp, cps, (long long)r.cfg.dp, (long long)r.cfg.microbatches,
                 fp8 ? "fp8" : "bf16", r.cfg.zero,
                 cJSON_IsNumber(z) ? " (published)" : " (searched)",
                 trn_plan_recompute_name(r.recompute));
        char note[160];
        snprintf(note, sizeof note, "MFU %.1f%%, limited by %s", 100 * r.mfu,
                 trn_plan_limiter(&r.bd));
        /* the first measured value: sequences/s of the whole system, tokens/s per GPU, or the
         * model FLOP rate per GPU (the planner's model FLOPs, 6N + attention, per step) */
        const char *unit = jstr(m0, "unit");
        double p = r.tokens_per_s / (double)seq;
        if (!strcmp(unit, "tokens/s/GPU"))
            p = r.tokens_per_s / (double)chips;
        else if (!strcmp(unit, "TFLOP/s/GPU"))
            p = r.model_flops_per_step / r.step_time_s / (double)chips / 1e12;
        else
            CHECK_MSG(!strcmp(unit, "seq/s"),
                      "%s: unit %s: expected seq/s, tokens/s/GPU or "
                      "TFLOP/s/GPU",
                      id, unit);
        add_line(t, id, jstr(m0, "metric"), unit, m0 ? jnum(m0, "value") : 0, p, inputs, note);
    }
    trn_plan_machine_destroy(m);
    trn_model_destroy(md);
}

static int metric_is(const char *m, const char *a) {
    return strcmp(m, a) == 0;
}

static void predict_serve(const trn_hw *hw, const cJSON *row, table *t) {
    const char *id = jstr(row, "id");
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(row, "inputs");
    const cJSON *meas = cJSON_GetObjectItemCaseSensitive(row, "measured");
    int64_t chips = (int64_t)jnum(row, "chips");
    const char *scenario = jstr(in, "scenario");
    int64_t inl = (int64_t)jnum(in, "input_len"), outl = (int64_t)jnum(in, "output_len");
    int offline = scenario && !strncmp(scenario, "offline", 7);
    int server = scenario && !strncmp(scenario, "server", 6);
    double outref = jnum(in, "output_len_mean_reference");
    if (!inl && !offline && !server) {
        skip(t, id,
             "input and output lengths are not published (only the sequence length), so the "
             "decode context and the share of prefill are unknown");
        return;
    }
    char lens[96] = "";
    if (offline || server) {
        /* MLPerf Llama-2-70B: inputs of at most 1,024 tokens whose mean is not in our sources,
         * 294.45 reference output tokens. The mean input is the one workload input fitted
         * (MLPERF_INPUT_FIT, on the H100 offline row; docs/validation.md says why). */
        inl = MLPERF_INPUT_FIT;
        outl = (int64_t)(outref + 0.5);
        snprintf(lens, sizeof lens, "in %d (fitted mean, see below), out %lld", MLPERF_INPUT_FIT,
                 (long long)outl);
    } else {
        snprintf(lens, sizeof lens, "in %lld, out %lld", (long long)inl, (long long)outl);
    }
    const char *prec = jstr(in, "precision");
    trn_plan_serve w = {inl, outl, (int64_t)jnum(in, "batch"), TRN_PLAN_W_BF16, TRN_DTYPE_BF16,
                        0,   0};
    const char *prec_txt = "bf16 weights and KV";
    if (!prec || strstr(prec, "fp8")) {
        w.weights = TRN_PLAN_W_FP8;
        w.kv_dtype = TRN_DTYPE_FP8_E4M3;
        prec_txt = prec ? "fp8 weights, fp8 KV (assumed)"
                        : "fp8 weights and KV (assumed: "
                          "unpublished)";
    }
    if (offline || server) w.batch = 0; /* the largest batch that fits, as the engine would */
    const char *model_name =
        jstr(row, "catalog_model") ? jstr(row, "catalog_model") : jstr(row, "model");
    trn_err err = {0};
    trn_model *md = NULL;
    trn_plan_machine *m = NULL;
    const trn_hw_system *sys = trn_hw_system_get(hw, jstr(row, "system"));
    CHECK_MSG(sys != NULL, "%s: system %s", id, jstr(row, "system"));
    if (!sys || trn_model_load(model_name, &md, &err) != TRN_OK ||
        trn_plan_machine_create(sys, chips, &m, &err) != TRN_OK) {
        CHECK_MSG(0, "%s: %s", id, err.msg);
        trn_model_destroy(md);
        return;
    }
    int64_t u = units_per_chip(in, chips);
    trn_plan_pins pins = {(int64_t)jnum(in, "tp") / u,
                          (int64_t)jnum(in, "pp"),
                          (int64_t)jnum(in, "dp"),
                          0,
                          0,
                          0,
                          -1,
                          -1};
    trn_plan_serve_result r;
    int found = 0;
    trn_status s =
        trn_plan_serve_search(m, md, &w, &pins, TRN_PLAN_THROUGHPUT, &r, 1, &found, NULL, &err);
    const char *tp_how = pins.tp ? "published" : "searched";
    if (s == TRN_E_INVALID && pins.tp) {
        /* the published tp does not divide the model's heads (Neuron pads the heads; the
         * planner does not): search the parallelism instead */
        memset(&pins, 0, sizeof pins);
        pins.zero = pins.recompute = -1;
        s = trn_plan_serve_search(m, md, &w, &pins, TRN_PLAN_THROUGHPUT, &r, 1, &found, NULL, &err);
        tp_how = "searched: the published tp does not divide the heads";
    }
    CHECK_MSG(s == TRN_OK && found == 1, "%s: %s", id, err.msg);
    if (s != TRN_OK) goto done;
    char inputs[300];
    snprintf(inputs, sizeof inputs,
             "%s, %lld chips, %s, %s; tp %lld pp %lld dp %lld (%s), batch %lld", model_name,
             (long long)chips, lens, prec_txt, (long long)r.cfg.tp, (long long)r.cfg.pp,
             (long long)r.cfg.dp, tp_how, (long long)r.batch);
    if (server) {
        trn_plan_des_ctx dc = {m, md, &w, &r.cfg};
        int64_t per_rep = r.max_batch / r.cfg.dp;
        trn_des_config c;
        memset(&c, 0, sizeof c);
        c.request_rate_per_s = jnum(in, "request_rate_per_s") / (double)r.cfg.dp;
        c.num_requests = 1000;
        c.seed = 1;
        c.input_min = c.input_max = w.input_len;
        c.output_min = c.output_max = w.output_len;
        c.max_batch = per_rep < 1 ? 1 : per_rep;
        c.kv_capacity_tokens = c.max_batch * (w.input_len + w.output_len);
        c.policy = TRN_DES_MIXED;
        c.step_time_s = trn_plan_des_step;
        c.step_ctx = &dc;
        c.warmup_fraction = 0.1;
        trn_des_result res;
        s = trn_des_run(&c, &res, &err);
        CHECK_MSG(s == TRN_OK, "%s: %s", id, err.msg);
        if (s != TRN_OK) goto done;
        char in2[400];
        snprintf(in2, sizeof in2, "%s; Poisson %.4g req/s, 1000 requests per replica, seed 1",
                 inputs, jnum(in, "request_rate_per_s"));
        cJSON *x;
        cJSON_ArrayForEach(x, meas) {
            const char *mt = jstr(x, "metric");
            double p = 0;
            if (metric_is(mt, "output throughput"))
                p = res.output_tokens_per_s * (double)r.cfg.dp;
            else if (metric_is(mt, "TTFT p50"))
                p = res.ttft_s.p50 * 1e3;
            else if (metric_is(mt, "TPOT p50"))
                p = res.tpot_s.p50 * 1e3;
            else
                continue;
            add_line(t, id, mt, jstr(x, "unit"), jnum(x, "value"), p, in2,
                     res.saturated ? "saturated" : "request-rate simulation");
        }
        trn_des_result_fini(&res);
        goto done;
    }
    cJSON *x;
    cJSON_ArrayForEach(x, meas) {
        const char *mt = jstr(x, "metric");
        double p = 0;
        char note[160];
        snprintf(note, sizeof note, "decode limited by %s", trn_plan_limiter(&r.decode));
        if (offline && metric_is(mt, "output throughput"))
            p = r.throughput_tokens_per_s;
        else if (!offline && metric_is(mt, "TTFT p50"))
            p = r.ttft_s * 1e3,
            snprintf(note, sizeof note, "prefill limited by %s", trn_plan_limiter(&r.prefill));
        else if (!offline && (metric_is(mt, "TPOT p50") || metric_is(mt, "latency per token p50")))
            p = r.tpot_s * 1e3;
        else
            continue; /* batch 1: throughput and p99 carry the same information as TPOT */
        add_line(t, id, mt, jstr(x, "unit"), jnum(x, "value"), p, inputs, note);
    }
done:
    trn_plan_machine_destroy(m);
    trn_model_destroy(md);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of |err| over the lines selected by `which` (0 all, 1 held out, 2 calibration). */
static double median_abs(const table *t, int which, int *count) {
    double v[64];
    int n = 0;
    for (int i = 0; i < t->n; i++) {
        if (which == 1 && t->l[i].calib) continue;
        if (which == 2 && !t->l[i].calib) continue;
        v[n++] = fabs(t->l[i].err);
    }
    *count = n;
    if (!n) return 0;
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void fmt_val(char *b, size_t n, double v) {
    if (v >= 1000)
        snprintf(b, n, "%.0f", v);
    else if (v >= 10)
        snprintf(b, n, "%.1f", v);
    else
        snprintf(b, n, "%.2f", v);
}

static char *render(const table *t) {
    size_t len = 0, cap = 0;
    char *b = NULL;
    b = buf_append(b, &len, &cap,
                   "| row | inputs used | metric | measured | predicted | error | "
                   "set | note |\n|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < t->n; i++) {
        const line *l = &t->l[i];
        char mv[32], pv[32];
        fmt_val(mv, sizeof mv, l->measured);
        fmt_val(pv, sizeof pv, l->predicted);
        b = buf_append(b, &len, &cap, "| `%s` | %s | %s (%s) | %s | %s | %+.1f%% | %s | %s |\n",
                       l->id, l->inputs, l->metric, l->unit, mv, pv, 100 * l->err,
                       l->calib ? "calibration" : "held out", l->note);
    }
    for (int i = 0; i < t->nskip; i++)
        b = buf_append(b, &len, &cap, "| `%s` | not predicted: %s | | | | | | |\n",
                       t->skipped[i][0], t->skipped[i][1]);
    int na, nh, nc;
    double ma = median_abs(t, 0, &na), mh = median_abs(t, 1, &nh), mc = median_abs(t, 2, &nc);
    int worst = -1;
    for (int i = 0; i < t->n; i++)
        if (worst < 0 || fabs(t->l[i].err) > fabs(t->l[worst].err)) worst = i;
    b = buf_append(b, &len, &cap,
                   "\nMedian absolute error: %.1f%% over all %d predicted values; %.1f%% over "
                   "the %d held-out values; %.1f%% over the %d calibration values.\n",
                   100 * ma, na, 100 * mh, nh, 100 * mc, nc);
    if (worst >= 0)
        b = buf_append(b, &len, &cap, "Worst: `%s` %s, %+.1f%% (%s).\n", t->l[worst].id,
                       t->l[worst].metric, 100 * t->l[worst].err,
                       t->l[worst].calib ? "calibration" : "held out");
    b = buf_append(b, &len, &cap, "Not predicted: %d of %d rows.\n", t->nskip,
                   t->nskip + 0 /* filled below */);
    return b;
}

static int build(const trn_hw *hw, table *t, int *nrows) {
    trn_err err = {0};
    char *text = read_text(DATA, &err);
    if (!text) {
        fprintf(stderr, "%s\n", err.msg);
        return 0;
    }
    cJSON *doc = cJSON_Parse(text);
    free(text);
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(doc, "rows"), *row;
    *nrows = 0;
    cJSON_ArrayForEach(row, rows) {
        (*nrows)++;
        if (!strcmp(jstr(row, "kind"), "train"))
            predict_train(hw, row, t);
        else
            predict_serve(hw, row, t);
    }
    cJSON_Delete(doc);
    return 1;
}

static char *full_table(const table *t, int nrows) {
    char *b = render(t);
    /* fix the "of N rows" count */
    char *p = b ? strstr(b, "Not predicted: ") : NULL;
    if (p) {
        size_t len = (size_t)(p - b), cap = len + 1;
        char *h = malloc(cap);
        if (!h) return b;
        memcpy(h, b, len);
        h[len] = 0;
        free(b);
        h = buf_append(h, &len, &cap,
                       "Not predicted: %d of %d rows (listed above with the "
                       "reason).\n",
                       t->nskip, nrows);
        return h;
    }
    return b;
}

/* ZeRO-2 reduce-scatters every microbatch's gradients (docs/planner.md "Communication"):
 * exposed DP time of zero 2 minus that of zero 1 =
 *   M max(0, RS - c) + max(0, AG - 2/3 c) - max(0, RS + AG - 2/3 c)
 * with c one microbatch's compute (3 passes: 2/3 c is its backward), RS / AG the gradient
 * reduce-scatter and weight all-gather of the stage's parameters over dp. */
static void test_zero2_per_microbatch(const trn_hw *hw) {
    trn_err err = {0};
    trn_model *md = NULL;
    trn_plan_machine *m = NULL;
    const trn_hw_system *sys = trn_hw_system_get(hw, "trn1.32xlarge");
    CHECK(trn_model_load("llama-2-7b", &md, &err) == TRN_OK);
    CHECK(sys && trn_plan_machine_create(sys, 64, &m, &err) == TRN_OK);
    if (!md || !m) goto out;
    trn_plan_train w = {128, 256, TRN_HW_BF16, 0}; /* short microbatches: the RS is exposed */
    trn_plan_train_result z1, z2;
    trn_plan_config c1 = {1, 1, 64, 1, 1, 4, 1}, c2 = c1;
    c2.zero = 2;
    CHECK(trn_plan_train_eval(m, md, &w, &c1, TRN_PLAN_RECOMPUTE_NONE, &z1, &err) == TRN_OK);
    CHECK(trn_plan_train_eval(m, md, &w, &c2, TRN_PLAN_RECOMPUTE_NONE, &z2, &err) == TRN_OK);
    plan_model pm;
    plan_model_summary(md, &pm);
    /* tp 1, pp 1, untied embeddings: the chip holds every parameter of the model */
    double stage = pm.attn + pm.dense_mlp + pm.norms + pm.embed + pm.head;
    trn_fabric_group g = {64, 1};
    trn_coll_cost rs, ag;
    CHECK(trn_fabric_collective(m->fabric, TRN_COLL_REDUCE_SCATTER, &g, stage * 2, TRN_ALGO_AUTO,
                                &rs, NULL) == TRN_OK);
    CHECK(trn_fabric_collective(m->fabric, TRN_COLL_ALLGATHER, &g, stage * 2, TRN_ALGO_AUTO, &ag,
                                NULL) == TRN_OK);
    /* the optimizer step (memory-bound, 28 bytes per parameter of the shard: fp32 states read
     * and written, bf16 gradient read and weight written) is in memory_s */
    double opt = stage / 64 * 28 / (m->roof.hbm_bw_bps * m->roof.mem_eff);
    double cmb = (z1.bd.compute_s + z1.bd.memory_s - opt) / 4;
    double expect = 4 * fmax(0, rs.time_s - cmb) + fmax(0, ag.time_s - 2 * cmb / 3) -
                    fmax(0, rs.time_s + ag.time_s - 2 * cmb / 3);
    double got = z2.bd.dp_comm_s - z1.bd.dp_comm_s;
    CHECK_MSG(fabs(got - expect) <= 1e-9 + 1e-6 * fabs(expect),
              "zero2 - zero1 DP = %g, expected %g", got, expect);
    CHECK_MSG(rs.time_s > cmb, "the case must expose the per-microbatch reduce-scatter (%g vs %g)",
              rs.time_s, cmb);
    CHECK(z2.step_time_s > z1.step_time_s);
out:
    trn_plan_machine_destroy(m);
    trn_model_destroy(md);
}

int main(int argc, char **argv) {
    trn_hw *hw = NULL;
    trn_err err = {0};
    if (trn_hw_create(&hw, &err) != TRN_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    int print = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--table"))
            print = 1;
        else if (!strcmp(argv[i], "--hw") && i + 1 < argc) {
            if (trn_hw_load_file(hw, argv[++i], &err) != TRN_OK) {
                fprintf(stderr, "%s\n", err.msg);
                trn_hw_destroy(hw);
                return 2;
            }
        } else {
            fprintf(stderr, "usage: test_plan_validation [--table] [--hw FILE]...\n");
            trn_hw_destroy(hw);
            return 2;
        }
    }
    static table t;
    int nrows = 0;
    CHECK(build(hw, &t, &nrows));
    char *tab = full_table(&t, nrows);
    if (print) {
        fputs(tab ? tab : "", stdout);
        free(tab);
        trn_hw_destroy(hw);
        return 0;
    }
    CHECK(nrows == 24);
    CHECK_EQ_INT(t.n + 0 >= 1, 1);
    /* every row appears: predicted lines or a reason */
    {
        char *text = read_text(DATA, &err);
        CHECK(text != NULL);
        cJSON *doc = cJSON_Parse(text);
        free(text);
        const cJSON *row;
        cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(doc, "rows")) {
            char key[128];
            snprintf(key, sizeof key, "`%s`", jstr(row, "id"));
            CHECK_MSG(tab && strstr(tab, key), "row %s missing from the table", key);
        }
        cJSON_Delete(doc);
    }
    /* calibration rows reproduce within 2% (the catalog holds the fitted factors) */
    size_t seen = 0;
    for (int i = 0; i < t.n; i++)
        if (t.l[i].calib) {
            seen++;
            CHECK_MSG(fabs(t.l[i].err) <= 0.02, "calibration row %s %s: error %+.2f%%", t.l[i].id,
                      t.l[i].metric, 100 * t.l[i].err);
        }
    CHECK_EQ_INT(seen, NCAL);
    /* the doc's table is the code's */
    char *doc = read_text(DOC, &err);
    CHECK(doc != NULL);
    const char *a = doc ? strstr(doc, BEGIN_MARK) : NULL;
    const char *z = a ? strstr(a, END_MARK) : NULL;
    CHECK_MSG(a && z, "%s: the markers %s ... %s are missing", DOC, BEGIN_MARK, END_MARK);
    if (a && z && tab) {
        a += strlen(BEGIN_MARK);
        while (*a == '\n') a++;
        size_t k = (size_t)(z - a);
        while (k && a[k - 1] == '\n') k--;
        size_t tk = strlen(tab);
        while (tk && tab[tk - 1] == '\n') tk--;
        int same = k == tk && !memcmp(a, tab, k);
        CHECK_MSG(same,
                  "%s: the planner table differs from the code's; regenerate it with "
                  "`test_plan_validation --table`",
                  DOC);
    }
    free(doc);
    free(tab);
    test_zero2_per_microbatch(hw);
    trn_hw_destroy(hw);
    return test_summary();
}

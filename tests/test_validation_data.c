/* The validation and claims data files (tests/data/validation.json, tests/data/claims.json,
 * described in docs/validation-sources.md) are well-formed: every row names its source, its
 * model and system in trnsim's catalogs, its workload inputs and at least one measured value
 * with a unit; derived values are the stated arithmetic on the published ones; parallelism
 * degrees multiply out to the chips the row claims (NeuronCores per chip from hw/chips.json).
 * The checker is shown to reject broken rows, so the checks can fail.
 * LABELS: unit */
#include "harness.h"
#include "trnsim/base.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <unistd.h>

static cJSON *load(const char *path) {
    void *data = NULL;
    size_t n = 0;
    trn_err e = {0};
    if (trn_file_read(path, &data, &n, &e) != TRN_OK) {
        fprintf(stderr, "%s\n", e.msg);
        return NULL;
    }
    cJSON *j = cJSON_ParseWithLength(data, n);
    if (!j) fprintf(stderr, "%s: not valid JSON near '%.40s'\n", path, cJSON_GetErrorPtr());
    free(data);
    return j;
}

/* ---- helpers for the checker: each problem is counted and the first is kept ------------ */

typedef struct probe {
    int problems;
    char first[512];
    const cJSON *systems, *chips; /* hw catalog objects */
} probe;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
bad(probe *p, const char *fmt, ...) {
    if (p->problems++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->first, sizeof p->first, fmt, ap);
        va_end(ap);
    }
}

static const char *str(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static int num(const cJSON *o, const char *k, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v)) return 0;
    *out = v->valuedouble;
    return 1;
}

static int model_exists(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "models/%s.json", name);
    return access(path, R_OK) == 0;
}

/* NeuronCores (physical) per chip of a system's chip, 0 for GPUs. */
static int cores_per_chip(const probe *p, const char *system) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(p->systems, system);
    const char *chip = s ? str(s, "chip") : NULL;
    const cJSON *c = chip ? cJSON_GetObjectItemCaseSensitive(p->chips, chip) : NULL;
    const cJSON *cores = c ? cJSON_GetObjectItemCaseSensitive(c, "cores") : NULL;
    double v;
    return cores && num(cores, "value", &v) ? (int)v : 0;
}

static int system_chips(const probe *p, const char *system) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(p->systems, system);
    const cJSON *c = s ? cJSON_GetObjectItemCaseSensitive(s, "chips") : NULL;
    double v;
    return c && num(c, "value", &v) ? (int)v : 0;
}

static void check_source(probe *p, const char *where, const cJSON *src, int allow_none) {
    if (!cJSON_IsObject(src)) {
        bad(p, "%s: source: expected an object", where);
        return;
    }
    const char *type = str(src, "type");
    if (!type || (strcmp(type, "primary") && strcmp(type, "secondary") &&
                  !(allow_none && !strcmp(type, "none"))))
        bad(p, "%s: source.type: expected primary or secondary, got %s", where,
            type ? type : "nothing");
    if (!str(src, "title")) bad(p, "%s: source.title: expected a non-empty string", where);
    const char *url = str(src, "url");
    if (type && strcmp(type, "none") && (!url || strncmp(url, "http", 4)))
        bad(p, "%s: source.url: expected an http(s) address", where);
}

/* ---- validation.json --------------------------------------------------------------------- */

static void check_row(probe *p, const cJSON *row, int i) {
    char where[160];
    const char *id = str(row, "id");
    snprintf(where, sizeof where, "rows[%d] (%s)", i, id ? id : "no id");
    if (!id) bad(p, "%s: id: expected a non-empty string", where);
    const char *kind = str(row, "kind");
    if (!kind || (strcmp(kind, "train") && strcmp(kind, "serve")))
        bad(p, "%s: kind: expected train or serve", where);
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(row, "source");
    check_source(p, where, src, 0);
    if (src && !str(src, "quote")) bad(p, "%s: source.quote: expected the published text", where);

    const char *model = str(row, "model"), *cat = str(row, "catalog_model");
    if (!model)
        bad(p, "%s: model: expected a name", where);
    else if (!model_exists(cat ? cat : model))
        bad(p, "%s: model: '%s' is not in models/ (give catalog_model)", where, cat ? cat : model);
    const char *system = str(row, "system");
    if (!system || !cJSON_GetObjectItemCaseSensitive(p->systems, system))
        bad(p, "%s: system: '%s' is not in hw/systems.json", where, system ? system : "");
    double chips = 0, nodes;
    if (!num(row, "chips", &chips) || chips < 1 || chips != floor(chips))
        bad(p, "%s: chips: expected a whole number >= 1", where);
    if (system && num(row, "nodes", &nodes) && nodes * system_chips(p, system) != chips)
        bad(p, "%s: nodes x chips per %s (%g x %d) != chips (%g)", where, system, nodes,
            system_chips(p, system), chips);

    const cJSON *in = cJSON_GetObjectItemCaseSensitive(row, "inputs");
    if (!cJSON_IsObject(in) || !in->child) {
        bad(p, "%s: inputs: expected a non-empty object", where);
        return;
    }
    double seq = 0, gb, tp = 0, pp = 1, dp = 1, lnc = 1, x;
    if (kind && !strcmp(kind, "train") && !num(in, "seq_len", &seq) && !str(in, "benchmark"))
        bad(p, "%s: inputs.seq_len: a training row needs its sequence length", where);
    if (kind && !strcmp(kind, "train") && num(in, "seq_len", &seq) &&
        !num(in, "global_batch", &gb) && !str(in, "benchmark"))
        bad(p, "%s: inputs.global_batch: a training row needs its batch", where);
    if (kind && !strcmp(kind, "serve") && !num(in, "batch", &x) && !str(in, "scenario"))
        bad(p, "%s: inputs: a serving row needs batch or scenario", where);
    /* parallelism multiplies out to the hardware */
    if (num(in, "tp", &tp) && num(in, "dp", &dp)) {
        num(in, "pp", &pp);
        num(in, "lnc", &lnc);
        int cpc = system ? cores_per_chip(p, system) : 0;
        double units = cpc ? chips * cpc / lnc : chips;
        if (tp * pp * dp != units)
            bad(p, "%s: tp x pp x dp = %g, expected %g (%g chips x %d cores / LNC %g)", where,
                tp * pp * dp, units, chips, cpc ? cpc : 1, lnc);
    }

    const cJSON *meas = cJSON_GetObjectItemCaseSensitive(row, "measured");
    if (!cJSON_IsArray(meas) || cJSON_GetArraySize(meas) < 1) {
        bad(p, "%s: measured: expected at least one value", where);
        return;
    }
    double seq_per_s = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, meas) {
        double v;
        if (!str(m, "metric") || !str(m, "unit") || !num(m, "value", &v) || !(v > 0) ||
            !isfinite(v))
            bad(p, "%s: measured: each entry needs metric, unit and a finite value > 0", where);
        else if (!strcmp(str(m, "unit"), "seq/s") &&
                 !cJSON_GetObjectItemCaseSensitive(m, "derived"))
            seq_per_s = v;
    }
    cJSON_ArrayForEach(m, meas) {
        const char *d = str(m, "derived"), *u = str(m, "unit");
        double v;
        if (!d || !u || !num(m, "value", &v)) continue;
        /* the only derivation used: tokens/s = seq/s x seq_len */
        if (strcmp(u, "tokens/s") || seq_per_s <= 0 || seq <= 0)
            bad(p, "%s: derived '%s': not a seq/s x seq_len derivation", where, d);
        else if (fabs(v - seq_per_s * seq) > 1e-9 * v)
            bad(p, "%s: derived tokens/s %.6f != %g seq/s x %g", where, v, seq_per_s, seq);
    }
}

static void check_validation(probe *p, const cJSON *root) {
    double ver;
    if (!num(root, "schema_version", &ver) || ver != 1) bad(p, "schema_version: expected 1");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(root, "rows");
    if (!cJSON_IsArray(rows) || cJSON_GetArraySize(rows) < 10) {
        bad(p, "rows: expected an array of at least 10 rows");
        return;
    }
    int i = 0, ntrain = 0, nserve = 0, ntrn = 0, ngpu = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, rows) {
        check_row(p, r, i);
        const char *id = str(r, "id"), *kind = str(r, "kind"), *sys = str(r, "system");
        int j = 0;
        const cJSON *q;
        cJSON_ArrayForEach(q, rows) {
            if (j++ < i + 1) continue;
            if (id && str(q, "id") && !strcmp(id, str(q, "id")))
                bad(p, "rows[%d]: id '%s' is used twice", i, id);
        }
        ntrain += kind && !strcmp(kind, "train");
        nserve += kind && !strcmp(kind, "serve");
        if (sys && cores_per_chip(p, sys))
            ntrn++;
        else if (sys)
            ngpu++;
        i++;
    }
    if (!ntrain || !nserve || !ntrn || !ngpu)
        bad(p, "rows: expected training and serving rows on Neuron and GPU systems (%d/%d/%d/%d)",
            ntrain, nserve, ntrn, ngpu);
}

/* ---- claims.json ------------------------------------------------------------------------- */

static void check_claims(probe *p, const cJSON *root) {
    const cJSON *cl = cJSON_GetObjectItemCaseSensitive(root, "claims");
    if (!cJSON_IsArray(cl) || cJSON_GetArraySize(cl) < 4) {
        bad(p, "claims: expected an array of at least 4 claims");
        return;
    }
    int i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cl) {
        char where[160];
        const char *id = str(c, "id");
        snprintf(where, sizeof where, "claims[%d] (%s)", i++, id ? id : "no id");
        static const char *const need[] = {"id", "claim", "claimant", "wording"};
        for (int k = 0; k < 4; k++)
            if (!str(c, need[k])) bad(p, "%s: %s: expected a non-empty string", where, need[k]);
        const cJSON *srcs = cJSON_GetObjectItemCaseSensitive(c, "sources"), *s;
        if (!cJSON_IsArray(srcs) || !cJSON_GetArraySize(srcs))
            bad(p, "%s: sources: expected at least one", where);
        cJSON_ArrayForEach(s, srcs) check_source(p, where, s, 1);
        const cJSON *nums = cJSON_GetObjectItemCaseSensitive(c, "numbers");
        if (!cJSON_IsObject(nums) || !nums->child)
            bad(p, "%s: numbers: expected the figures", where);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "test");
        if (!cJSON_IsObject(t)) {
            bad(p, "%s: test: expected the workload to test it under", where);
            continue;
        }
        const char *model = str(t, "model");
        if (!model || !model_exists(model))
            bad(p, "%s: test.model: '%s' is not in models/", where, model ? model : "");
        const cJSON *sys = cJSON_GetObjectItemCaseSensitive(t, "systems"), *y;
        if (!cJSON_IsArray(sys) || cJSON_GetArraySize(sys) < 2)
            bad(p, "%s: test.systems: expected the systems compared", where);
        cJSON_ArrayForEach(y, sys) {
            if (!cJSON_IsString(y) || !cJSON_GetObjectItemCaseSensitive(p->systems, y->valuestring))
                bad(p, "%s: test.systems: '%s' is not in hw/systems.json", where,
                    cJSON_IsString(y) ? y->valuestring : "?");
        }
        if (!cJSON_GetObjectItemCaseSensitive(t, "workload") || !str(t, "metric") ||
            !str(t, "holds_if"))
            bad(p, "%s: test: expected workload, metric and holds_if", where);
    }
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_files(const cJSON *val, const cJSON *claims, probe *base) {
    probe p = *base;
    check_validation(&p, val);
    CHECK_MSG(p.problems == 0, "validation.json: %d problems, first: %s", p.problems, p.first);
    probe q = *base;
    check_claims(&q, claims);
    CHECK_MSG(q.problems == 0, "claims.json: %d problems, first: %s", q.problems, q.first);
    /* the claims the issue lists are all there */
    static const char *const ids[] = {"trn3-ultraserver-362pf-4.4x", "up-to-50pct-lower-cost",
                                      "trn2-vs-p5e-30-40pct", "tokens-cost-latency-table"};
    const cJSON *cl = cJSON_GetObjectItemCaseSensitive(claims, "claims");
    for (int k = 0; k < 4; k++) {
        int found = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, cl) found |= str(c, "id") && !strcmp(str(c, "id"), ids[k]);
        CHECK_MSG(found, "claim %s missing", ids[k]);
    }
}

static void expect_problem(const cJSON *val, probe *base, void (*mutate)(cJSON *),
                           const char *want) {
    cJSON *copy = cJSON_Duplicate(val, 1);
    mutate(copy);
    probe p = *base;
    check_validation(&p, copy);
    CHECK(p.problems > 0);
    CHECK_CONTAINS(p.first, want);
    cJSON_Delete(copy);
}

static cJSON *row(cJSON *root, int i) {
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "rows"), i);
}

static void drop_source(cJSON *r) {
    cJSON_DeleteItemFromObject(row(r, 2), "source");
}
static void bad_system(cJSON *r) {
    cJSON_ReplaceItemInObject(row(r, 0), "system", cJSON_CreateString("p4d.24xlarge"));
}
static void bad_derived(cJSON *r) {
    cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(row(r, 0), "measured"), 1);
    cJSON_ReplaceItemInObject(m, "value", cJSON_CreateNumber(392807));
}
static void bad_tp(cJSON *r) {
    cJSON *in = cJSON_GetObjectItemCaseSensitive(row(r, 0), "inputs");
    cJSON_ReplaceItemInObject(in, "dp", cJSON_CreateNumber(16));
}
static void no_measure(cJSON *r) {
    cJSON_ReplaceItemInObject(row(r, 1), "measured", cJSON_CreateArray());
}
static void dup_id(cJSON *r) {
    cJSON_ReplaceItemInObject(row(r, 3), "id", cJSON_CreateString(str(row(r, 0), "id")));
}

int main(void) {
    cJSON *val = load("tests/data/validation.json"), *claims = load("tests/data/claims.json");
    cJSON *sys = load("hw/systems.json"), *chips = load("hw/chips.json");
    CHECK(val && claims && sys && chips);
    if (!val || !claims || !sys || !chips) return test_summary();
    probe base = {0};
    base.systems = cJSON_GetObjectItemCaseSensitive(sys, "systems");
    base.chips = cJSON_GetObjectItemCaseSensitive(chips, "chips");
    CHECK(cores_per_chip(&base, "trn1.32xlarge") == 2 && cores_per_chip(&base, "p5.48xlarge") == 0);

    test_files(val, claims, &base);
    /* the checker catches what it should */
    expect_problem(val, &base, drop_source, "rows[2] (neuron-trn1-llama2-7b-pretrain): source");
    expect_problem(val, &base, bad_system, "system: 'p4d.24xlarge' is not in hw/systems.json");
    expect_problem(val, &base, bad_derived, "derived tokens/s 392807.000000 != 47.95 seq/s x 8192");
    expect_problem(val, &base, bad_tp, "tp x pp x dp = 512, expected 1024");
    expect_problem(val, &base, no_measure, "measured: expected at least one value");
    expect_problem(val, &base, dup_id, "is used twice");

    cJSON_Delete(val), cJSON_Delete(claims), cJSON_Delete(sys), cJSON_Delete(chips);
    return test_summary();
}

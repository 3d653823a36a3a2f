/* trnsim compare: one workload across catalog systems, and the public claims about Trainium
 * (docs/planner.md "Comparing systems" and "Claims").
 *   compare --model M --workload train|serve [flags]   every system with its best configuration
 *                                                      from the planner's search, ranked by $
 *                                                      per 1M tokens; --svg: cost bars
 *   compare --claims                                   each claim of tests/data/claims.json
 *                                                      (embedded at build time) beside trnsim's
 *                                                      figure for its concrete workload
 * Deliberately left out: RL (use `trnsim plan rl`), request-rate serving (`plan serve
 * --request-rate`), searching the chip count per system (one system's worth, or --chips). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "trnsim/model.h"
#include "trnsim/plan.h"
#include "trnsim/svg.h"

/* tests/data/<name>.json, embedded by cmake/embed_json.cmake (CMakeLists.txt, the trnsim
 * target). */
typedef struct trn_cli_embedded_file {
    const char *name;
    const char *text;
} trn_cli_embedded_file;
extern const trn_cli_embedded_file trn_cli_embedded_data[];

static const char *const default_systems[] = {
    "trn1.32xlarge",         "trn2.48xlarge",         "trn2-ultraserver",
    "trn3-gen1-ultraserver", "trn3-gen2-ultraserver", "p5.48xlarge",
    "p5e.48xlarge",          "p6-b200.48xlarge",      "gb200-nvl72",
};
#define NDEFAULT (int)(sizeof default_systems / sizeof default_systems[0])
#define MAXSYS   64

static void help(void) {
    printf(
        "usage: trnsim compare --model M --workload train|serve [--systems a,b,...] [--chips N]\n"
        "                      [workload flags] [--json] [--svg FILE]\n"
        "       trnsim compare --claims [--json]\n\n"
        "The same workload on every system, each with its best configuration from the planner's\n"
        "search (docs/planner.md), ranked by dollars per 1M tokens (training: tokens trained;\n"
        "serving: output tokens, prefill time included), with throughput, latency, energy per\n"
        "token and the price assumed. Prices marked * are assumed, not published.\n\n"
        "  --model M          a catalog model or a config.json path\n"
        "  --workload W       train or serve\n"
        "  --systems LIST     comma-separated catalog systems (default: trn1.32xlarge,\n"
        "                     trn2.48xlarge, trn2-ultraserver, trn3-gen1-ultraserver,\n"
        "                     trn3-gen2-ultraserver, p5.48xlarge, p5e.48xlarge,\n"
        "                     p6-b200.48xlarge, gb200-nvl72)\n"
        "  --chips N          chips on every system (default: one system's worth each)\n"
        "  --json             machine-readable output\n"
        "  --svg FILE         a bar chart of $ per 1M tokens across the systems\n"
        "  --op-cost P        per-op compute times: roofline (default: every system on the\n"
        "                     catalog's calibrated efficiency factors) or sim (Trainium rows\n"
        "                     from the chip simulator, GPU rows roofline; docs/planner.md)\n"
        "train: --seq-len N (4096) --global-batch N (the smallest multiple of the chips >= 1024)\n"
        "       --precision bf16|fp8|mxfp8 (bf16) --zero 0-3|fsdp --recompute none|selective|full\n"
        "serve: --input-len N (2048) --output-len N (256) --batch N (largest that fits)\n"
        "       --precision model|bf16|fp8|mxfp4 (model) --kv-dtype bf16|fp8\n"
        "       --ttft-slo-ms X --tpot-slo-ms X\n\n"
        "--claims: each public claim about Trainium (tests/data/claims.json, built in) beside\n"
        "trnsim's figure for a concrete workload, with the verdict and the assumptions (prices)\n"
        "it rests on.\n\n"
        "Exit codes: 0 ok (systems the model does not fit are listed, not fatal); 2 usage;\n"
        "3 unknown model or system.\n");
}

typedef struct copts {
    const char *model, *workload, *systems, *svg, *precision, *kv, *zero, *recompute, *op_cost;
    uint64_t chips, seq_len, global_batch, input_len, output_len, batch;
    double ttft_slo_ms, tpot_slo_ms;
    int json, claims;
} copts;

enum { F_ANY = 0, F_TRAIN = 1, F_SERVE = 2 };
typedef struct copt {
    const char *name;
    int kind, only;
    size_t off;
} copt;
#define OPT(n, k, w, f) \
    { n, k, w, offsetof(copts, f) }
static const copt copt_table[] = {
    OPT("--model", CLI_VAL_STR, F_ANY, model),
    OPT("--workload", CLI_VAL_STR, F_ANY, workload),
    OPT("--systems", CLI_VAL_STR, F_ANY, systems),
    OPT("--svg", CLI_VAL_STR, F_ANY, svg),
    OPT("--chips", CLI_VAL_POS, F_ANY, chips),
    OPT("--precision", CLI_VAL_STR, F_ANY, precision),
    OPT("--op-cost", CLI_VAL_STR, F_ANY, op_cost),
    OPT("--seq-len", CLI_VAL_POS, F_TRAIN, seq_len),
    OPT("--global-batch", CLI_VAL_POS, F_TRAIN, global_batch),
    OPT("--zero", CLI_VAL_STR, F_TRAIN, zero),
    OPT("--recompute", CLI_VAL_STR, F_TRAIN, recompute),
    OPT("--input-len", CLI_VAL_POS, F_SERVE, input_len),
    OPT("--output-len", CLI_VAL_POS, F_SERVE, output_len),
    OPT("--batch", CLI_VAL_POS, F_SERVE, batch),
    OPT("--kv-dtype", CLI_VAL_STR, F_SERVE, kv),
    OPT("--ttft-slo-ms", CLI_VAL_NUM, F_SERVE, ttft_slo_ms),
    OPT("--tpot-slo-ms", CLI_VAL_NUM, F_SERVE, tpot_slo_ms),
};
#define NCOPT (sizeof copt_table / sizeof copt_table[0])

/* Returns 0, -1 (help printed) or an exit code. */
static int parse(int argc, char **argv, copts *o, const copt **given, int *ngiven) {
    memset(o, 0, sizeof *o);
    *ngiven = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            help();
            return -1;
        }
        if (!strcmp(argv[i], "--json")) {
            o->json = 1;
            continue;
        }
        if (!strcmp(argv[i], "--claims")) {
            o->claims = 1;
            continue;
        }
        const copt *hit = NULL;
        const char *v = NULL;
        for (size_t k = 0; k < NCOPT && !hit; k++) {
            int r = cli_opt("compare", argc, argv, &i, copt_table[k].name, &v);
            if (r < 0) return CLI_EXIT_USAGE;
            if (r > 0) hit = &copt_table[k];
        }
        if (!hit) {
            cli_error("compare", "unknown option '%s' (try `trnsim compare --help`)", argv[i]);
            return CLI_EXIT_USAGE;
        }
        if (*ngiven < 32) given[(*ngiven)++] = hit;
        int r = cli_store_value("compare", hit->name, hit->kind, v, (char *)o + hit->off);
        if (r) return r;
    }
    return 0;
}

static const char *origin_word(trn_hw_origin o) {
    return o == TRN_HW_ASSUMED ? "assumed" : o == TRN_HW_DERIVED ? "derived" : "published";
}

/* ---- one system, one workload -------------------------------------------------------------- */

typedef struct cmp_row {
    char system[64], device[32];
    int64_t chips;
    int ok;
    char note[600]; /* why it has no result */
    trn_plan_config cfg;
    int recompute;
    int64_t global_batch, batch;
    double usd_per_1m;   /* ranking key: $ per 1M tokens (train) or output tokens (serve) */
    double tokens_per_s; /* trained tokens/s, or output tokens/s */
    double step_s, mfu;  /* train */
    double ttft_s, tpot_s, usd_in, usd_out; /* serve */
    double joules_per_token, power_w, usd_per_hour;
    double price, peak_flops;
    trn_hw_origin price_origin;
    const char *limiter;
    const char *op_cost; /* the provider of the compute times: "roofline" or "simulator" */
} cmp_row;

/* --op-cost sim: one simulator provider per Trainium chip, shared by its systems. */
typedef struct sim_set {
    const trn_hw *hw;
    const trn_model *md;
    int n;
    const char *chip[MAXSYS];
    trn_plan_opcost_sim *p[MAXSYS];
} sim_set;

static trn_plan_opcost_sim *sim_for(sim_set *ss, const trn_plan_machine *m, trn_err *err) {
    for (int i = 0; i < ss->n; i++)
        if (!strcmp(ss->chip[i], m->device)) return ss->p[i];
    if (ss->n == MAXSYS || trn_plan_opcost_sim_create(ss->hw, m->device, ss->md, &m->roof,
                                                      &ss->p[ss->n], err) != TRN_OK)
        return NULL;
    ss->chip[ss->n] = m->device;
    return ss->p[ss->n++];
}

typedef struct workload {
    int train;
    trn_plan_train tw;
    trn_plan_serve sw;
    trn_plan_pins pins;
    trn_plan_objective obj;
    sim_set *sim; /* --op-cost sim (Trainium systems); NULL: the roofline everywhere */
} workload;

static void row_train(const trn_plan_train_result *r, cmp_row *x) {
    x->ok = 1;
    x->cfg = r->cfg;
    x->recompute = r->recompute;
    x->tokens_per_s = r->tokens_per_s;
    x->step_s = r->step_time_s;
    x->mfu = r->mfu;
    x->usd_per_hour = r->usd_per_hour;
    x->power_w = r->power_w;
    x->usd_per_1m = r->usd_per_hour / 3600 / r->tokens_per_s * 1e6;
    x->joules_per_token = r->power_w / r->tokens_per_s;
    x->limiter = trn_plan_limiter(&r->bd);
}

static void row_serve(const trn_plan_serve_result *r, cmp_row *x) {
    x->ok = 1;
    x->cfg = r->cfg;
    x->recompute = -1;
    x->batch = r->batch;
    x->tokens_per_s = r->throughput_tokens_per_s;
    x->ttft_s = r->ttft_s;
    x->tpot_s = r->tpot_s;
    x->usd_in = r->usd_per_1m_input;
    x->usd_out = r->usd_per_1m_output;
    x->usd_per_hour = r->usd_per_hour;
    x->power_w = r->power_w;
    x->usd_per_1m = r->usd_per_hour / 3600 / r->throughput_tokens_per_s * 1e6;
    x->joules_per_token = r->joules_per_token;
    x->limiter = trn_plan_limiter(&r->decode);
}

/* Runs the workload on `chips` chips of `sys` (0: the system's own count) into *x; a result
 * that cannot be had (nothing fits, precision unsupported) leaves x->ok = 0 with the reason.
 * Returns the library status. */
static trn_status run_one(const trn_hw_system *sys, int64_t chips, const trn_model *md,
                          const workload *wl, cmp_row *x, trn_plan_train_result *tr,
                          trn_plan_serve_result *sr) {
    memset(x, 0, sizeof *x);
    snprintf(x->system, sizeof x->system, "%s", sys->name);
    trn_err err = {0};
    trn_plan_machine *m = NULL;
    trn_status s = trn_plan_machine_create(sys, chips, &m, &err);
    if (s != TRN_OK) {
        snprintf(x->note, sizeof x->note, "%s", err.msg);
        return s;
    }
    if (wl->sim && m->sys->chip) {
        trn_plan_opcost_sim *p = sim_for(wl->sim, m, &err);
        if (!p) {
            snprintf(x->note, sizeof x->note, "--op-cost sim: %s", err.msg);
            trn_plan_machine_destroy(m);
            return TRN_E_UNSUPPORTED;
        }
        m->cost = trn_plan_opcost_sim_provider(p);
    }
    x->op_cost = m->cost.name;
    snprintf(x->device, sizeof x->device, "%s", m->device);
    x->chips = m->chips;
    x->price = m->price_usd_per_chip_hour;
    x->price_origin = m->price_origin;
    int found = 0;
    trn_plan_train_result trl;
    trn_plan_serve_result srl;
    if (!tr) tr = &trl;
    if (!sr) sr = &srl;
    if (wl->train) {
        trn_plan_train w = wl->tw;
        if (!w.global_batch) w.global_batch = (1024 + m->chips - 1) / m->chips * m->chips;
        x->global_batch = w.global_batch;
        x->peak_flops = m->roof.peak_flops[w.precision];
        s = trn_plan_train_search(m, md, &w, &wl->pins, wl->obj, tr, 1, &found, NULL, &err);
        if (s == TRN_OK) row_train(tr, x);
    } else {
        s = trn_plan_serve_search(m, md, &wl->sw, &wl->pins, wl->obj, sr, 1, &found, NULL, &err);
        if (s == TRN_OK) row_serve(sr, x);
    }
    if (s != TRN_OK) snprintf(x->note, sizeof x->note, "%s", err.msg);
    trn_plan_machine_destroy(m);
    return s;
}

static int by_cost(const void *a, const void *b) {
    const cmp_row *x = a, *y = b;
    if (x->ok != y->ok) return y->ok - x->ok;
    if (!x->ok) return 0;
    return (x->usd_per_1m > y->usd_per_1m) - (x->usd_per_1m < y->usd_per_1m);
}

static void cfg_str(const cmp_row *x, int train, char *b, size_t n) {
    char ep[32] = "";
    if (x->cfg.ep > 1) snprintf(ep, sizeof ep, " ep%lld", (long long)x->cfg.ep);
    if (train)
        snprintf(b, n, "tp%lld pp%lld cp%lld dp%lld%s z%d %s", (long long)x->cfg.tp,
                 (long long)x->cfg.pp, (long long)x->cfg.cp, (long long)x->cfg.dp, ep, x->cfg.zero,
                 trn_plan_recompute_name(x->recompute));
    else /* x replicas */
        snprintf(b, n, "tp%lld pp%lld x%lld%s", (long long)x->cfg.tp, (long long)x->cfg.pp,
                 (long long)x->cfg.dp, ep);
}

static cJSON *cfg_json(const trn_plan_config *c, int recompute) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "tp", (double)c->tp);
    cJSON_AddNumberToObject(o, "pp", (double)c->pp);
    cJSON_AddNumberToObject(o, "dp", (double)c->dp);
    cJSON_AddNumberToObject(o, "ep", (double)c->ep);
    cJSON_AddNumberToObject(o, "cp", (double)c->cp);
    cJSON_AddNumberToObject(o, "microbatches", (double)c->microbatches);
    cJSON_AddNumberToObject(o, "zero", c->zero);
    if (recompute >= 0) cJSON_AddStringToObject(o, "recompute", trn_plan_recompute_name(recompute));
    return o;
}

static int print_json_doc(cJSON *o) {
    char *text = o ? cJSON_Print(o) : NULL;
    cJSON_Delete(o);
    if (!text) {
        cli_error("compare", "out of memory");
        return CLI_EXIT_FAIL;
    }
    printf("%s\n", text);
    free(text);
    return CLI_EXIT_OK;
}

static int write_svg(const char *path, const cmp_row *rows, int n, const char *model, int train) {
    const char *cats[MAXSYS];
    double vals[MAXSYS];
    int k = 0;
    for (int i = 0; i < n; i++)
        if (rows[i].ok) cats[k] = rows[i].system, vals[k++] = rows[i].usd_per_1m;
    if (!k) {
        cli_error("compare", "--svg %s: no system has a result to plot", path);
        return CLI_EXIT_FAIL;
    }
    char title[160];
    snprintf(title, sizeof title, "%s %s: USD per 1M %s (lower is better)", model,
             train ? "training" : "serving", train ? "tokens" : "output tokens");
    trn_svg_bar_chart c;
    memset(&c, 0, sizeof c);
    c.title = title;
    c.y.label = train ? "USD per 1M tokens" : "USD per 1M output tokens";
    c.categories = cats;
    c.ncategories = k;
    c.ngroups = 1;
    c.values = vals;
    c.rank = 1;
    c.value_labels = 1;
    c.width_px = 140 * k + 120 < 720 ? 720 : 140 * k + 120;
    char *svg = NULL;
    trn_err err = {0};
    trn_status s = trn_svg_bars(&c, &svg, &err);
    if (s == TRN_OK) s = trn_file_write(path, svg, strlen(svg), &err);
    free(svg);
    if (s != TRN_OK) {
        cli_error("compare", "--svg: %s", err.msg);
        return CLI_EXIT_BADINPUT;
    }
    return 0;
}

static int parse_zero_rc(const copts *o, trn_plan_pins *p) {
    p->zero = -1, p->recompute = -1;
    if (o->zero) {
        if (!strcmp(o->zero, "fsdp"))
            p->zero = 3;
        else if (strlen(o->zero) == 1 && o->zero[0] >= '0' && o->zero[0] <= '3')
            p->zero = o->zero[0] - '0';
        else {
            cli_error("compare", "--zero: expected 0, 1, 2, 3 or fsdp, got '%s'", o->zero);
            return 0;
        }
    }
    if (o->recompute) {
        for (int i = 0; i <= 2; i++)
            if (!strcmp(o->recompute, trn_plan_recompute_name(i))) p->recompute = i;
        if (p->recompute < 0) {
            cli_error("compare", "--recompute: expected none, selective or full, got '%s'",
                      o->recompute);
            return 0;
        }
    }
    return 1;
}

static int parse_weights(const char *s, trn_plan_weights *out) {
    static const char *const names[] = {"model", "bf16", "fp8", "mxfp4"};
    if (!s) return *out = TRN_PLAN_W_MODEL, 1;
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i])) return *out = (trn_plan_weights)i, 1;
    cli_error("compare", "--precision: expected model, bf16, fp8 or mxfp4 for serve, got '%s'", s);
    return 0;
}

static int parse_kv(const char *s, trn_dtype *out) {
    trn_err err = {0};
    if (!s) s = "bf16";
    if (!strcmp(s, "fp8")) s = "fp8_e4m3";
    if (trn_dtype_from_name(s, out, &err) != TRN_OK || trn_dtype_bits(*out) % 8) {
        cli_error("compare", "--kv-dtype: expected bf16, fp8 or another whole-byte type, got '%s'",
                  s);
        return 0;
    }
    return 1;
}

static void known_systems(const trn_hw *hw, char *buf, size_t n) {
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < trn_hw_count(hw, TRN_HW_KIND_SYSTEM) && k + 1 < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? ", " : "",
                              trn_hw_entry_name(trn_hw_at(hw, TRN_HW_KIND_SYSTEM, i)));
}

static int compare_workload(trn_cli *cli, const copts *o, const copt **given, int ngiven) {
    if (!o->workload || (strcmp(o->workload, "train") && strcmp(o->workload, "serve"))) {
        cli_error("compare", "--workload: expected train or serve%s%s%s",
                  o->workload ? ", got '" : " (try `trnsim compare --help`)",
                  o->workload ? o->workload : "", o->workload ? "'" : "");
        return CLI_EXIT_USAGE;
    }
    workload wl;
    memset(&wl, 0, sizeof wl);
    wl.train = !strcmp(o->workload, "train");
    for (int i = 0; i < ngiven; i++)
        if (given[i]->only && given[i]->only != (wl.train ? F_TRAIN : F_SERVE)) {
            cli_error("compare", "%s does not apply to --workload %s", given[i]->name, o->workload);
            return CLI_EXIT_USAGE;
        }
    if (!o->model) {
        cli_error("compare", "expected --model M (try `trnsim compare --help`)");
        return CLI_EXIT_USAGE;
    }
    if (o->op_cost && strcmp(o->op_cost, "roofline") && strcmp(o->op_cost, "sim")) {
        cli_error("compare", "--op-cost: expected roofline or sim, got '%s'", o->op_cost);
        return CLI_EXIT_USAGE;
    }
    wl.obj = TRN_PLAN_COST;
    wl.pins.zero = wl.pins.recompute = -1;
    if (wl.train) {
        wl.tw.precision = TRN_HW_BF16;
        if (o->precision && !trn_plan_dtype_from_name(o->precision, &wl.tw.precision)) {
            cli_error("compare", "--precision: expected bf16, fp8 or mxfp8 for train, got '%s'",
                      o->precision);
            return CLI_EXIT_USAGE;
        }
        if (!parse_zero_rc(o, &wl.pins)) return CLI_EXIT_USAGE;
        wl.tw.global_batch = (int64_t)o->global_batch;
    } else {
        if (!parse_weights(o->precision, &wl.sw.weights) || !parse_kv(o->kv, &wl.sw.kv_dtype))
            return CLI_EXIT_USAGE;
        wl.sw.batch = (int64_t)o->batch;
        wl.sw.ttft_slo_s = o->ttft_slo_ms / 1e3;
        wl.sw.tpot_slo_s = o->tpot_slo_ms / 1e3;
    }
    /* systems */
    const trn_hw_system *sys[MAXSYS];
    int ns = 0;
    char list[2048];
    snprintf(list, sizeof list, "%s", o->systems ? o->systems : "");
    if (o->systems) {
        for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
            const trn_hw_system *s = trn_hw_system_get(cli->hw, tok);
            if (!s) {
                char known[1024];
                known_systems(cli->hw, known, sizeof known);
                cli_error("compare", "--systems: unknown system '%s' (known: %s)", tok, known);
                return CLI_EXIT_BADINPUT;
            }
            if (ns == MAXSYS) {
                cli_error("compare", "--systems: at most %d systems", MAXSYS);
                return CLI_EXIT_USAGE;
            }
            sys[ns++] = s;
        }
        if (!ns) {
            cli_error("compare", "--systems: expected a comma-separated list of systems");
            return CLI_EXIT_USAGE;
        }
    } else {
        for (int i = 0; i < NDEFAULT; i++) {
            const trn_hw_system *s = trn_hw_system_get(cli->hw, default_systems[i]);
            if (s) sys[ns++] = s;
        }
    }
    trn_model *md = NULL;
    trn_err err = {0};
    if (trn_model_load(o->model, &md, &err) != TRN_OK) {
        cli_error("compare", "--model: %s", err.msg);
        return CLI_EXIT_BADINPUT;
    }
    const trn_model_config *mc = trn_model_config_of(md);
    if (wl.train) {
        wl.tw.seq_len = o->seq_len ? (int64_t)o->seq_len
                                   : (mc->max_positions < 4096 ? mc->max_positions : 4096);
    } else {
        wl.sw.output_len = o->output_len ? (int64_t)o->output_len : 256;
        wl.sw.input_len = o->input_len ? (int64_t)o->input_len : 2048;
        if (!o->output_len && wl.sw.output_len >= mc->max_positions)
            wl.sw.output_len = mc->max_positions / 8;
        if (!o->input_len && wl.sw.input_len + wl.sw.output_len > mc->max_positions)
            wl.sw.input_len = mc->max_positions - wl.sw.output_len;
    }
    cmp_row *rows = calloc((size_t)ns, sizeof *rows);
    if (!rows) {
        trn_model_destroy(md);
        cli_error("compare", "out of memory");
        return CLI_EXIT_FAIL;
    }
    sim_set sims;
    memset(&sims, 0, sizeof sims);
    sims.hw = cli->hw, sims.md = md;
    if (o->op_cost && !strcmp(o->op_cost, "sim")) wl.sim = &sims;
    int rc = 0;
    for (int i = 0; i < ns && !rc; i++) {
        trn_status s = run_one(sys[i], (int64_t)o->chips, md, &wl, &rows[i], NULL, NULL);
        if (s == TRN_E_RANGE && rows[i].chips == 0) { /* the machine itself: a bad --chips */
            cli_error("compare", "--chips %llu on %s: %s", (unsigned long long)o->chips,
                      sys[i]->name, rows[i].note);
            rc = CLI_EXIT_USAGE;
        }
    }
    for (int i = 0; i < sims.n; i++) trn_plan_opcost_sim_destroy(sims.p[i]);
    if (rc) {
        free(rows);
        trn_model_destroy(md);
        return rc;
    }
    qsort(rows, (size_t)ns, sizeof *rows, by_cost);
    const char *prec = o->precision ? o->precision : wl.train ? "bf16" : "model";
    if (o->json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "workload", o->workload);
        cJSON_AddStringToObject(j, "model", mc->name);
        cJSON_AddStringToObject(j, "precision", prec);
        if (wl.train) {
            cJSON_AddNumberToObject(j, "seq_len", (double)wl.tw.seq_len);
        } else {
            cJSON_AddNumberToObject(j, "input_len", (double)wl.sw.input_len);
            cJSON_AddNumberToObject(j, "output_len", (double)wl.sw.output_len);
        }
        cJSON_AddStringToObject(j, "chips_rule",
                                o->chips ? "--chips on every system" : "one system's worth each");
        cJSON_AddStringToObject(j, "ranked_by",
                                wl.train ? "usd_per_1m_tokens"
                                         : "usd_per_1m_tokens (output, "
                                           "prefill time included)");
        cJSON *arr = cJSON_AddArrayToObject(j, "systems");
        for (int i = 0; i < ns; i++) {
            const cmp_row *x = &rows[i];
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "rank", x->ok ? i + 1 : 0);
            cJSON_AddStringToObject(e, "system", x->system);
            cJSON_AddStringToObject(e, "device", x->device);
            cJSON_AddNumberToObject(e, "chips", (double)x->chips);
            cJSON_AddBoolToObject(e, "fits", x->ok);
            cJSON_AddNumberToObject(e, "price_usd_per_chip_hour", x->price);
            cJSON_AddStringToObject(e, "price_provenance", origin_word(x->price_origin));
            if (x->op_cost) cJSON_AddStringToObject(e, "op_cost", x->op_cost);
            if (!x->ok) {
                cJSON_AddStringToObject(e, "reason", x->note);
            } else {
                cJSON_AddItemToObject(e, "config", cfg_json(&x->cfg, x->recompute));
                cJSON_AddNumberToObject(e, "usd_per_1m_tokens", x->usd_per_1m);
                cJSON_AddNumberToObject(e, "tokens_per_s", x->tokens_per_s);
                if (wl.train) {
                    cJSON_AddNumberToObject(e, "global_batch", (double)x->global_batch);
                    cJSON_AddNumberToObject(e, "step_time_s", x->step_s);
                    cJSON_AddNumberToObject(e, "mfu", x->mfu);
                } else {
                    cJSON_AddNumberToObject(e, "batch", (double)x->batch);
                    cJSON_AddNumberToObject(e, "ttft_ms", x->ttft_s * 1e3);
                    cJSON_AddNumberToObject(e, "tpot_ms", x->tpot_s * 1e3);
                    cJSON_AddNumberToObject(e, "usd_per_1m_input_tokens", x->usd_in);
                    cJSON_AddNumberToObject(e, "usd_per_1m_output_tokens", x->usd_out);
                }
                cJSON_AddNumberToObject(e, "joules_per_token", x->joules_per_token);
                cJSON_AddNumberToObject(e, "usd_per_hour", x->usd_per_hour);
                cJSON_AddNumberToObject(e, "power_w", x->power_w);
                cJSON_AddStringToObject(e, "limited_by", x->limiter);
            }
            cJSON_AddItemToArray(arr, e);
        }
        rc = print_json_doc(j);
    } else {
        if (wl.train)
            printf("compare train: %s, seq-len %lld, %s, global batch %s; chips: %s\n", mc->name,
                   (long long)wl.tw.seq_len, prec,
                   o->global_batch ? "as given" : "the smallest multiple of the chips >= 1024",
                   o->chips ? "--chips on every system"
                            : "one system's worth each (--chips N "
                              "to set)");
        else
            printf("compare serve: %s, input %lld, output %lld tokens, weights %s, KV %s%s; chips: "
                   "%s\n",
                   mc->name, (long long)wl.sw.input_len, (long long)wl.sw.output_len, prec,
                   o->kv ? o->kv : "bf16", o->batch ? "" : ", the largest batch that fits",
                   o->chips ? "--chips on every system"
                            : "one system's worth each (--chips N "
                              "to set)");
        printf("each system's configuration is the planner's best by $ per token; ranked by $ per "
               "1M %s\n",
               wl.train ? "tokens trained" : "output tokens (prefill time included)");
        printf("compute times: %s\n\n",
               wl.sim ? "the chip simulator for Trainium systems (engine-level efficiency, not "
                        "the Neuron stack's end to end), the roofline for GPUs: not one basis"
                      : "the roofline with the catalog's efficiency factors for every system");
        if (wl.train)
            printf("rank  system                 chips device    config                        "
                   "   tokens/s   step s   MFU   $/1M tok  J/token  $/chip-h\n");
        else
            printf(
                "rank  system                 chips device    config               batch  TTFT ms  "
                "TPOT ms   tokens/s  $/1M out  J/token  $/chip-h\n");
        int any_assumed = 0;
        for (int i = 0; i < ns; i++) {
            const cmp_row *x = &rows[i];
            char cs[96], price[32];
            snprintf(price, sizeof price, "%.2f%s", x->price,
                     x->price_origin == TRN_HW_ASSUMED ? "*" : "");
            any_assumed |= x->price_origin == TRN_HW_ASSUMED;
            if (!x->ok) {
                printf("  -   %-22s %5lld %-9s does not fit or cannot run: %s\n", x->system,
                       (long long)x->chips, x->device, x->note);
                continue;
            }
            cfg_str(x, wl.train, cs, sizeof cs);
            if (wl.train)
                printf("%3d   %-22s %5lld %-9s %-30s %10.0f %8.3f %4.0f%% %10.4g %8.3g  %s\n",
                       i + 1, x->system, (long long)x->chips, x->device, cs, x->tokens_per_s,
                       x->step_s, 100 * x->mfu, x->usd_per_1m, x->joules_per_token, price);
            else
                printf("%3d   %-22s %5lld %-9s %-20s %5lld %8.1f %8.2f %10.0f %9.4g %8.3g  %s\n",
                       i + 1, x->system, (long long)x->chips, x->device, cs, (long long)x->batch,
                       x->ttft_s * 1e3, x->tpot_s * 1e3, x->tokens_per_s, x->usd_per_1m,
                       x->joules_per_token, price);
        }
        printf("\n$/chip-h is the catalog price per chip-hour%s; J/token includes the PUE. "
               "Formulas: docs/planner.md.\n",
               any_assumed ? " (* assumed, not published: the ranking of those systems rests on "
                             "it; override with --hw)"
                           : "");
    }
    int nok = 0;
    for (int i = 0; i < ns; i++) nok += rows[i].ok;
    if (!rc && o->svg) rc = write_svg(o->svg, rows, ns, mc->name, wl.train);
    if (!rc && nok == 0) {
        cli_error("compare", "%s: no system can run this workload (the reasons are listed above)",
                  mc->name);
        rc = CLI_EXIT_FAIL;
    }
    free(rows);
    trn_model_destroy(md);
    return rc;
}

/* ---- claims -------------------------------------------------------------------------------- */

static const char *jstr(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* What trnsim finds for one claim. */
typedef struct verdict {
    char figures[1600]; /* trnsim's numbers, one per line */
    char verdict[800];
    char assumptions[1000];
    cJSON *json; /* the same numbers, keyed */
} verdict;

static void addf(char *b, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void addf(char *b, size_t n, const char *fmt, ...) {
    size_t k = strlen(b);
    if (k + 1 >= n) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b + k, n - k, fmt, ap);
    va_end(ap);
}

typedef struct claim_ctx {
    trn_cli *cli;
    trn_model *md;
} claim_ctx;

/* Train or serve one system for a claim; 1 on success. */
static int claim_train(claim_ctx *c, const char *sysname, int64_t chips, int64_t seq, int64_t gbs,
                       trn_hw_dtype prec, trn_plan_objective obj, cmp_row *x,
                       trn_plan_train_result *r, verdict *v) {
    const trn_hw_system *s = trn_hw_system_get(c->cli->hw, sysname);
    if (!s) {
        addf(v->figures, sizeof v->figures, "  %s: not in the catalog\n", sysname);
        return 0;
    }
    workload wl;
    memset(&wl, 0, sizeof wl);
    wl.train = 1;
    wl.tw.seq_len = seq, wl.tw.global_batch = gbs, wl.tw.precision = prec;
    wl.pins.zero = wl.pins.recompute = -1;
    wl.obj = obj;
    trn_status st = run_one(s, chips, c->md, &wl, x, r, NULL);
    if (st != TRN_OK && gbs) { /* the batch does not split over this chip count: the default */
        wl.tw.global_batch = 0;
        st = run_one(s, chips, c->md, &wl, x, r, NULL);
    }
    if (st != TRN_OK) {
        addf(v->figures, sizeof v->figures, "  %s x %lld: no result (%s)\n", sysname,
             (long long)chips, x->note);
        return 0;
    }
    char cs[96];
    cfg_str(x, 1, cs, sizeof cs);
    addf(v->figures, sizeof v->figures,
         "  %s (%lld x %s, %s, GBS %lld): %.0f tokens/s, MFU %.0f%%, $%.4g per 1M tokens, "
         "%.3g J/token, $%.2f/chip-h (%s)\n",
         sysname, (long long)x->chips, x->device, cs, (long long)x->global_batch, x->tokens_per_s,
         100 * x->mfu, x->usd_per_1m, x->joules_per_token, x->price, origin_word(x->price_origin));
    return 1;
}

static int claim_serve(claim_ctx *c, const char *sysname, int64_t chips, const trn_plan_serve *w,
                       trn_plan_objective obj, cmp_row *x, trn_plan_serve_result *r, verdict *v) {
    const trn_hw_system *s = trn_hw_system_get(c->cli->hw, sysname);
    if (!s) {
        addf(v->figures, sizeof v->figures, "  %s: not in the catalog\n", sysname);
        return 0;
    }
    workload wl;
    memset(&wl, 0, sizeof wl);
    wl.sw = *w;
    wl.pins.zero = wl.pins.recompute = -1;
    wl.obj = obj;
    if (run_one(s, chips, c->md, &wl, x, NULL, r) != TRN_OK) {
        addf(v->figures, sizeof v->figures, "  %s x %lld: no result (%s)\n", sysname,
             (long long)chips, x->note);
        return 0;
    }
    char cs[96];
    cfg_str(x, 0, cs, sizeof cs);
    addf(v->figures, sizeof v->figures,
         "  %s (%lld x %s, %s, batch %lld): %.0f output tokens/s (%.1f per chip), TTFT %.1f ms, "
         "TPOT %.2f ms, $%.4g per 1M output tokens, %.3g J/token, $%.2f/chip-h (%s)\n",
         sysname, (long long)x->chips, x->device, cs, (long long)x->batch, x->tokens_per_s,
         x->tokens_per_s / (double)x->chips, x->ttft_s * 1e3, x->tpot_s * 1e3, x->usd_per_1m,
         x->joules_per_token, x->price, origin_word(x->price_origin));
    return 1;
}

static void price_assumption(verdict *v, const cmp_row *x) {
    if (!x->system[0]) return;
    char t[128];
    snprintf(t, sizeof t, "%s $%.2f/chip-h", x->system, x->price);
    if (strstr(v->assumptions, t)) return;
    addf(v->assumptions, sizeof v->assumptions, "%s%s (%s)", v->assumptions[0] ? "; " : "", t,
         origin_word(x->price_origin));
}

static int load_model(claim_ctx *c, const char *name, verdict *v) {
    trn_model_destroy(c->md);
    c->md = NULL;
    trn_err err = {0};
    if (!name || trn_model_load(name, &c->md, &err) != TRN_OK) {
        addf(v->figures, sizeof v->figures, "  model %s: %s\n", name ? name : "(none)", err.msg);
        return 0;
    }
    return 1;
}

static const char *holds(int ok) {
    return ok ? "HOLDS" : "DOES NOT HOLD";
}

static void claim_peak_44(claim_ctx *c, const cJSON *cl, verdict *v) {
    const cJSON *num = cJSON_GetObjectItemCaseSensitive(cl, "numbers");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(cl, "test");
    const cJSON *wk = cJSON_GetObjectItemCaseSensitive(t, "workload");
    trn_plan_machine *m3 = NULL, *m2 = NULL;
    trn_err err = {0};
    const trn_hw_system *s3 = trn_hw_system_get(c->cli->hw, "trn3-gen2-ultraserver");
    const trn_hw_system *s2 = trn_hw_system_get(c->cli->hw, "trn2-ultraserver");
    if (!s3 || !s2 || trn_plan_machine_create(s3, 0, &m3, &err) != TRN_OK ||
        trn_plan_machine_create(s2, 0, &m2, &err) != TRN_OK) {
        addf(v->verdict, sizeof v->verdict, "cannot be evaluated: %s", err.msg);
        trn_plan_machine_destroy(m3);
        return;
    }
    double p3 = m3->roof.peak_flops[TRN_HW_MXFP8] * (double)m3->chips;
    double p2 = m2->roof.peak_flops[TRN_HW_FP8] * (double)m2->chips;
    addf(v->figures, sizeof v->figures,
         "  peak: trn3-gen2-ultraserver %lld chips x %.4g TFLOPS MXFP8 = %.1f PFLOPS (claim %g); "
         "trn2-ultraserver %lld x %.4g TFLOPS FP8 = %.1f PFLOPS; ratio %.2f (claim %g)\n",
         (long long)m3->chips, m3->roof.peak_flops[TRN_HW_MXFP8] / 1e12, p3 / 1e15,
         jnum(num, "trn3_ultraserver_pflops_fp8"), (long long)m2->chips,
         m2->roof.peak_flops[TRN_HW_FP8] / 1e12, p2 / 1e15, p3 / p2,
         jnum(num, "ratio_compute_vs_trn2_ultraserver"));
    cJSON_AddNumberToObject(v->json, "trn3_ultraserver_pflops_mxfp8", p3 / 1e15);
    cJSON_AddNumberToObject(v->json, "peak_ratio", p3 / p2);
    trn_plan_machine_destroy(m3);
    trn_plan_machine_destroy(m2);
    cmp_row x3, x2;
    trn_plan_train_result r3, r2;
    int64_t seq = (int64_t)jnum(wk, "seq_len"), gbs = (int64_t)jnum(wk, "global_batch");
    if (!load_model(c, jstr(t, "model"), v)) return;
    int ok3 = claim_train(c, "trn3-gen2-ultraserver", 0, seq, gbs, TRN_HW_MXFP8,
                          TRN_PLAN_THROUGHPUT, &x3, &r3, v);
    int ok2 = claim_train(c, "trn2-ultraserver", 0, seq, gbs, TRN_HW_FP8, TRN_PLAN_THROUGHPUT, &x2,
                          &r2, v);
    double claim = jnum(num, "ratio_compute_vs_trn2_ultraserver");
    int peak_ok = p3 / p2 >= 0.95 * claim;
    if (ok3 && ok2) {
        double ra = x3.tokens_per_s / x2.tokens_per_s;
        double re = x2.joules_per_token / x3.joules_per_token;
        addf(v->figures, sizeof v->figures,
             "  achieved: %.2fx the tokens/s per UltraServer (%.2fx per chip); energy per token "
             "%.2fx lower (claim: 4x energy efficiency)\n",
             ra, ra * (double)x2.chips / (double)x3.chips, re);
        cJSON_AddNumberToObject(v->json, "achieved_ratio", ra);
        cJSON_AddNumberToObject(v->json, "energy_per_token_ratio", re);
        snprintf(v->verdict, sizeof v->verdict,
                 "as peak compute: %s (%.2fx, within 5%% of %g); as achieved training "
                 "throughput: %s (%.2fx vs 'up to' %g)",
                 holds(peak_ok), p3 / p2, claim, holds(ra >= claim), ra, claim);
    } else {
        snprintf(v->verdict, sizeof v->verdict, "as peak compute: %s (%.2fx); achieved: no result",
                 holds(peak_ok), p3 / p2);
    }
    addf(v->assumptions, sizeof v->assumptions,
         "MXFP8 on Trn3 against FP8 on Trn2 (the claim's own basis); no prices involved; the Trn3 "
         "GEMM efficiency is the Trn2 one (docs/validation.md)");
}

static void claim_50pct(claim_ctx *c, const cJSON *cl, verdict *v) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(cl, "test");
    const cJSON *wk = cJSON_GetObjectItemCaseSensitive(t, "workload");
    if (!load_model(c, jstr(t, "model"), v)) return;
    int64_t seq = (int64_t)jnum(wk, "seq_len"), gbs = (int64_t)jnum(wk, "global_batch");
    double tokens = jnum(wk, "tokens_to_train");
    cmp_row xt, xg, best;
    trn_plan_train_result r;
    int okt =
        claim_train(c, "trn1.32xlarge", 256, seq, gbs, TRN_HW_BF16, TRN_PLAN_COST, &xt, &r, v);
    /* the GPU side: the cheapest per token of 8 to 256 H100s */
    int okg = 0;
    memset(&best, 0, sizeof best);
    const trn_hw_system *s = trn_hw_system_get(c->cli->hw, "p5.48xlarge");
    for (int64_t n = 8; s && n <= 256; n *= 2) {
        workload wl;
        memset(&wl, 0, sizeof wl);
        wl.train = 1;
        wl.tw.seq_len = seq, wl.tw.global_batch = gbs, wl.tw.precision = TRN_HW_BF16;
        wl.pins.zero = wl.pins.recompute = -1;
        wl.obj = TRN_PLAN_COST;
        if (run_one(s, n, c->md, &wl, &xg, NULL, NULL) == TRN_OK &&
            (!okg || xg.usd_per_1m < best.usd_per_1m))
            best = xg, okg = 1;
    }
    if (okg) {
        char cs[96];
        cfg_str(&best, 1, cs, sizeof cs);
        addf(v->figures, sizeof v->figures,
             "  p5.48xlarge, the cheapest per token of 8 to 256 GPUs (%lld x %s, %s): %.0f "
             "tokens/s, $%.4g per 1M tokens, $%.2f/chip-h (%s)\n",
             (long long)best.chips, best.device, cs, best.tokens_per_s, best.usd_per_1m, best.price,
             origin_word(best.price_origin));
    }
    if (okt && okg) {
        double ct = xt.usd_per_1m * tokens / 1e6, cg = best.usd_per_1m * tokens / 1e6;
        double ratio = ct / cg;
        addf(v->figures, sizeof v->figures,
             "  to train %.3g tokens: trn1 $%.4g, p5 $%.4g; trn1 / p5 = %.2f\n", tokens, ct, cg,
             ratio);
        cJSON_AddNumberToObject(v->json, "cost_ratio_trn1_over_p5", ratio);
        snprintf(v->verdict, sizeof v->verdict,
                 "cannot be rerun as stated (its baseline, P4d/A100, is not in the catalog); "
                 "against P5 (H100) the 50%% saving %s: trn1 costs %.2fx the P5 cost to train",
                 ratio <= 0.5 ? "holds" : "does not hold", ratio);
    }
    price_assumption(v, &xt);
    price_assumption(v, &best);
    addf(v->assumptions, sizeof v->assumptions,
         "; the trn1 GEMM efficiency is calibrated on this very workload's measured row "
         "(neuron-trn1-llama2-7b-pretrain), the H100 one is assumed (0.75)");
}

/* One half of the P5e claim: the price-performance ratio of trn2 over p5e for one workload
 * (`what`, JSON keys `key`_ratio and `key`_breakeven_trn2_usd_per_chip_hour), the trn2 price at
 * which it reaches `lo`, and the half verdict ("`label` holds (r)") written into part[200]. */
static void p5e_part(verdict *v, const char *what, const char *key, const char *label,
                     const cmp_row *a, const cmp_row *b, double lo, char *part) {
    double ratio = (a->tokens_per_s / a->usd_per_hour) / (b->tokens_per_s / b->usd_per_hour);
    double be = a->price * ratio / lo;
    addf(v->figures, sizeof v->figures,
         "  %s price-performance trn2 / p5e = %.2f; it reaches %.2f at a trn2 price of "
         "$%.2f/chip-h or less\n",
         what, ratio, lo, be);
    char k[64];
    snprintf(k, sizeof k, "%s_ratio", key);
    cJSON_AddNumberToObject(v->json, k, ratio);
    snprintf(k, sizeof k, "%s_breakeven_trn2_usd_per_chip_hour", key);
    cJSON_AddNumberToObject(v->json, k, be);
    snprintf(part, 200, "%s %s (%.2f)", label, ratio >= lo ? "holds" : "fails", ratio);
}

static void claim_p5e(claim_ctx *c, const cJSON *cl, verdict *v) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(cl, "test");
    const cJSON *wks = cJSON_GetObjectItemCaseSensitive(t, "workload");
    if (!load_model(c, jstr(t, "model"), v)) return;
    const cJSON *wt = cJSON_GetArrayItem(wks, 0), *wsv = cJSON_GetArrayItem(wks, 1);
    cmp_row a, b, sa, sb;
    trn_plan_train_result r;
    trn_plan_serve_result sr;
    int64_t chips = (int64_t)jnum(wt, "chips");
    int ok = claim_train(c, "trn2.48xlarge", chips, (int64_t)jnum(wt, "seq_len"),
                         (int64_t)jnum(wt, "global_batch"), TRN_HW_BF16, TRN_PLAN_COST, &a, &r, v);
    ok &= claim_train(c, "p5e.48xlarge", chips, (int64_t)jnum(wt, "seq_len"),
                      (int64_t)jnum(wt, "global_batch"), TRN_HW_BF16, TRN_PLAN_COST, &b, &r, v);
    trn_plan_serve w = {(int64_t)jnum(wsv, "input_len"),
                        (int64_t)jnum(wsv, "output_len"),
                        (int64_t)jnum(wsv, "batch"),
                        TRN_PLAN_W_BF16,
                        TRN_DTYPE_BF16,
                        0,
                        0};
    int oks = claim_serve(c, "trn2.48xlarge", (int64_t)jnum(wsv, "chips"), &w, TRN_PLAN_COST, &sa,
                          &sr, v);
    oks &=
        claim_serve(c, "p5e.48xlarge", (int64_t)jnum(wsv, "chips"), &w, TRN_PLAN_COST, &sb, &sr, v);
    double lo = 1.30;
    char part[2][200] = {"", ""};
    if (ok) p5e_part(v, "training", "train", "training", &a, &b, lo, part[0]);
    if (oks) p5e_part(v, "serving (batch 1)", "serve", "serving", &sa, &sb, lo, part[1]);
    snprintf(v->verdict, sizeof v->verdict,
             "at the catalog prices: %s%s%s (claim: 1.30-1.40); the trn2 price is assumed, so the "
             "break-even prices above are the testable statement",
             part[0], part[0][0] && part[1][0] ? "; " : "", part[1]);
    price_assumption(v, &a);
    price_assumption(v, &b);
}

static void claim_table(claim_ctx *c, const cJSON *cl, verdict *v) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(cl, "test");
    const cJSON *wk = cJSON_GetObjectItemCaseSensitive(t, "workload");
    const cJSON *sys = cJSON_GetObjectItemCaseSensitive(t, "systems");
    const cJSON *budget = cJSON_GetObjectItemCaseSensitive(wk, "fleet_usd_per_hour");
    if (!load_model(c, jstr(t, "model"), v)) return;
    trn_plan_serve w = {(int64_t)jnum(wk, "input_len"),
                        (int64_t)jnum(wk, "output_len"),
                        0,
                        TRN_PLAN_W_FP8,
                        TRN_DTYPE_FP8_E4M3,
                        jnum(wk, "ttft_slo_ms") / 1e3,
                        jnum(wk, "tpot_slo_ms") / 1e3};
    const cJSON *b0 = cJSON_GetArrayItem(budget, 0), *b1 = cJSON_GetArrayItem(budget, 1);
    double bt = cJSON_IsNumber(b0) ? b0->valuedouble : 0,
           bg = cJSON_IsNumber(b1) ? b1->valuedouble : 0;
    const cJSON *s;
    cmp_row best_t, best_g;
    int have_t = 0, have_g = 0;
    cJSON_ArrayForEach(s, sys) {
        cmp_row x;
        trn_plan_serve_result r;
        if (!cJSON_IsString(s) || !claim_serve(c, s->valuestring, 0, &w, TRN_PLAN_COST, &x, &r, v))
            continue;
        int trn = !strncmp(x.device, "trn", 3);
        double fleet = x.tokens_per_s / x.usd_per_hour * (trn ? bt : bg);
        addf(v->figures, sizeof v->figures, "    a $%.1f/h fleet of %s: %.3gM output tokens/s\n",
             trn ? bt : bg, x.system, fleet / 1e6);
        price_assumption(v, &x);
        if (trn && (!have_t || x.usd_per_1m < best_t.usd_per_1m)) best_t = x, have_t = 1;
        if (!trn && (!have_g || x.usd_per_1m < best_g.usd_per_1m)) best_g = x, have_g = 1;
    }
    if (have_t && have_g) {
        double rt = (best_t.tokens_per_s / best_t.usd_per_hour * bt) /
                    (best_g.tokens_per_s / best_g.usd_per_hour * bg);
        double rc = best_t.usd_per_1m / best_g.usd_per_1m, rl = best_t.tpot_s / best_g.tpot_s;
        addf(v->figures, sizeof v->figures,
             "  cheapest Trainium (%s) / cheapest GPU (%s): fleet throughput %.2fx (table: 1.2x), "
             "$ per 1M tokens %.2fx (table: 0.545x), TPOT %.2fx (table: 0.667x)\n",
             best_t.system, best_g.system, rt, rc, rl);
        cJSON_AddNumberToObject(v->json, "throughput_ratio", rt);
        cJSON_AddNumberToObject(v->json, "cost_ratio", rc);
        cJSON_AddNumberToObject(v->json, "tpot_ratio", rl);
    }
    snprintf(v->verdict, sizeof v->verdict,
             "unverifiable as stated (no source, model or systems); trnsim's own figures for the "
             "declared workload are above");
    addf(v->assumptions, sizeof v->assumptions,
         "; the workload (MLPerf Llama-2-70B server lengths, FP8, the SLOs, the two fleet "
         "budgets the table implies) is trnsim's choice, not the claim's");
}

static void claim_gptoss(claim_ctx *c, const cJSON *cl, verdict *v) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(cl, "test");
    const cJSON *wk = cJSON_GetObjectItemCaseSensitive(t, "workload");
    const cJSON *num = cJSON_GetObjectItemCaseSensitive(cl, "numbers");
    if (!load_model(c, jstr(t, "model"), v)) return;
    trn_plan_serve w3 = {(int64_t)jnum(wk, "input_len"),
                         (int64_t)jnum(wk, "output_len"),
                         0,
                         TRN_PLAN_W_MXFP4,
                         TRN_DTYPE_BF16,
                         0,
                         jnum(wk, "tpot_slo_ms") / 1e3};
    trn_plan_serve w2 = w3;
    w2.weights = TRN_PLAN_W_FP8;
    cmp_row a, b, a1, b1;
    trn_plan_serve_result r;
    int ok = claim_serve(c, "trn3-gen2-ultraserver", 0, &w3, TRN_PLAN_THROUGHPUT, &a, &r, v);
    ok &= claim_serve(c, "trn2-ultraserver", 0, &w2, TRN_PLAN_THROUGHPUT, &b, &r, v);
    w3.batch = w2.batch = 1, w3.tpot_slo_s = w2.tpot_slo_s = 0;
    int ok1 = claim_serve(c, "trn3-gen2-ultraserver", 0, &w3, TRN_PLAN_LATENCY, &a1, &r, v);
    ok1 &= claim_serve(c, "trn2-ultraserver", 0, &w2, TRN_PLAN_LATENCY, &b1, &r, v);
    double rt = 0, rl = 0;
    if (ok) rt = (a.tokens_per_s / (double)a.chips) / (b.tokens_per_s / (double)b.chips);
    if (ok1) rl = b1.tpot_s / a1.tpot_s;
    addf(v->figures, sizeof v->figures,
         "  per-chip throughput at the SLO trn3 / trn2 = %.2f (claim %g); batch-1 TPOT trn2 / trn3 "
         "= %.2f (claim %g)\n",
         rt, jnum(num, "throughput_per_chip_ratio"), rl, jnum(num, "response_speed_ratio"));
    cJSON_AddNumberToObject(v->json, "throughput_per_chip_ratio", rt);
    cJSON_AddNumberToObject(v->json, "response_speed_ratio", rl);
    snprintf(v->verdict, sizeof v->verdict,
             "throughput per chip %s (%.2fx vs 3x); response speed %s "
             "(%.2fx vs 4x)",
             ok && rt >= jnum(num, "throughput_per_chip_ratio") ? "holds" : "does not hold", rt,
             ok1 && rl >= jnum(num, "response_speed_ratio") ? "holds" : "does not hold", rl);
    addf(v->assumptions, sizeof v->assumptions,
         "the workload (GPT-OSS-120B, 1,024 in / 1,024 out, MXFP4 experts on Trn3, FP8 on Trn2, "
         "TPOT <= 50 ms) is trnsim's choice; no prices involved");
}

static void claim_tco(claim_ctx *c, const cJSON *cl, verdict *v) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(cl, "test");
    const cJSON *wk = cJSON_GetObjectItemCaseSensitive(t, "workload");
    if (!load_model(c, jstr(t, "model"), v)) return;
    int64_t chips = (int64_t)jnum(wk, "chips");
    cmp_row a, b;
    trn_plan_train_result ra, rb;
    int ok = claim_train(c, "trn2-ultraserver", chips, (int64_t)jnum(wk, "seq_len"),
                         (int64_t)jnum(wk, "global_batch"), TRN_HW_BF16, TRN_PLAN_COST, &a, &ra, v);
    ok &= claim_train(c, "p5.48xlarge", chips, (int64_t)jnum(wk, "seq_len"),
                      (int64_t)jnum(wk, "global_batch"), TRN_HW_BF16, TRN_PLAN_COST, &b, &rb, v);
    if (ok) {
        double pa = a.usd_per_hour / (ra.model_flops_per_step / ra.step_time_s / 1e15);
        double pb = b.usd_per_hour / (rb.model_flops_per_step / rb.step_time_s / 1e15);
        double be = a.price * 0.55 / (pa / pb);
        addf(v->figures, sizeof v->figures,
             "  USD per achieved PFLOP-hour: trn2-ultraserver $%.3g, p5 $%.3g; ratio %.2f (claim "
             "0.55); 0.55 at a trn2 price of $%.2f/chip-h or less\n",
             pa, pb, pa / pb, be);
        cJSON_AddNumberToObject(v->json, "usd_per_pflop_hour_ratio", pa / pb);
        cJSON_AddNumberToObject(v->json, "breakeven_trn2_usd_per_chip_hour", be);
        snprintf(v->verdict, sizeof v->verdict,
                 "per PFLOP-hour at the catalog prices: %s (%.2f vs <= 0.55); TCO (capital and "
                 "operating cost) is outside trnsim",
                 pa / pb <= 0.55 ? "holds" : "does not hold", pa / pb);
    }
    price_assumption(v, &a);
    price_assumption(v, &b);
}

static const struct {
    const char *id;
    void (*fn)(claim_ctx *, const cJSON *, verdict *);
} claim_fns[] = {
    {"trn3-ultraserver-362pf-4.4x", claim_peak_44},
    {"up-to-50pct-lower-cost", claim_50pct},
    {"trn2-vs-p5e-30-40pct", claim_p5e},
    {"tokens-cost-latency-table", claim_table},
    {"trn3-gpt-oss-3x-per-chip", claim_gptoss},
    {"trn2-ultra-tco-vs-h100", claim_tco},
};

static int compare_claims(trn_cli *cli, const copts *o, int ngiven) {
    if (ngiven) {
        cli_error("compare", "--claims takes only --json");
        return CLI_EXIT_USAGE;
    }
    const char *text = NULL;
    for (int i = 0; trn_cli_embedded_data[i].name; i++)
        if (!strcmp(trn_cli_embedded_data[i].name, "claims")) text = trn_cli_embedded_data[i].text;
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    const cJSON *claims = cJSON_GetObjectItemCaseSensitive(doc, "claims");
    if (!cJSON_IsArray(claims)) {
        cJSON_Delete(doc);
        cli_error("compare", "built-in claims (tests/data/claims.json): missing or malformed");
        return CLI_EXIT_BADINPUT;
    }
    claim_ctx c = {cli, NULL};
    cJSON *out = o->json ? cJSON_CreateObject() : NULL;
    cJSON *arr = out ? cJSON_AddArrayToObject(out, "claims") : NULL;
    const cJSON *cl;
    int k = 0;
    cJSON_ArrayForEach(cl, claims) {
        verdict v;
        memset(&v, 0, sizeof v);
        v.json = cJSON_CreateObject();
        const char *id = jstr(cl, "id");
        int done = 0;
        for (size_t i = 0; i < sizeof claim_fns / sizeof claim_fns[0]; i++)
            if (id && !strcmp(id, claim_fns[i].id)) claim_fns[i].fn(&c, cl, &v), done = 1;
        if (!done)
            snprintf(v.verdict, sizeof v.verdict, "not evaluated: this trnsim has no test for it");
        if (!v.verdict[0]) snprintf(v.verdict, sizeof v.verdict, "no result (see the figures)");
        const cJSON *srcs = cJSON_GetObjectItemCaseSensitive(cl, "sources"), *s;
        if (out) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "id", id ? id : "");
            cJSON_AddStringToObject(e, "claim", jstr(cl, "claim") ? jstr(cl, "claim") : "");
            cJSON_AddStringToObject(e, "claimant",
                                    jstr(cl, "claimant") ? jstr(cl, "claimant") : "");
            cJSON_AddStringToObject(e, "wording", jstr(cl, "wording") ? jstr(cl, "wording") : "");
            cJSON *su = cJSON_AddArrayToObject(e, "sources");
            cJSON_ArrayForEach(s, srcs) {
                cJSON *so = cJSON_CreateObject();
                cJSON_AddStringToObject(so, "type", jstr(s, "type") ? jstr(s, "type") : "");
                if (jstr(s, "url")) cJSON_AddStringToObject(so, "url", jstr(s, "url"));
                cJSON_AddItemToArray(su, so);
            }
            cJSON_AddStringToObject(
                e, "holds_if",
                jstr(cJSON_GetObjectItemCaseSensitive(cl, "test"), "holds_if")
                    ? jstr(cJSON_GetObjectItemCaseSensitive(cl, "test"), "holds_if")
                    : "");
            cJSON_AddItemToObject(e, "trnsim", v.json);
            v.json = NULL;
            cJSON_AddStringToObject(e, "figures", v.figures);
            cJSON_AddStringToObject(e, "verdict", v.verdict);
            cJSON_AddStringToObject(e, "assumptions", v.assumptions);
            cJSON_AddItemToArray(arr, e);
        } else {
            printf("%s%d. %s  [%s]\n", k ? "\n" : "", k + 1, jstr(cl, "claim"), id ? id : "?");
            printf("   claimant: %s; source:", jstr(cl, "claimant") ? jstr(cl, "claimant") : "?");
            cJSON_ArrayForEach(s, srcs) {
                printf(" %s %s", jstr(s, "type") ? jstr(s, "type") : "?",
                       jstr(s, "url") ? jstr(s, "url") : "(none found)");
                break; /* the first; --json lists all */
            }
            printf("\n   holds if: %s\n   trnsim:\n%s",
                   jstr(cJSON_GetObjectItemCaseSensitive(cl, "test"), "holds_if")
                       ? jstr(cJSON_GetObjectItemCaseSensitive(cl, "test"), "holds_if")
                       : "?",
                   v.figures);
            printf("   verdict: %s\n", v.verdict);
            if (v.assumptions[0])
                printf("   assumptions: %s\n",
                       v.assumptions[0] == ';' ? v.assumptions + 2 : v.assumptions);
        }
        cJSON_Delete(v.json);
        k++;
    }
    if (!out)
        printf("\nPrices marked assumed are not published (hw/*.json says why); override them "
               "with --hw FILE.json to retest a claim. Sources and wording: "
               "docs/validation-sources.md.\n");
    trn_model_destroy(c.md);
    cJSON_Delete(doc);
    return out ? print_json_doc(out) : CLI_EXIT_OK;
}

int cmd_compare(trn_cli *cli, int argc, char **argv) {
    copts o;
    const copt *given[32];
    int ngiven = 0;
    int rc = parse(argc, argv, &o, given, &ngiven);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    if (o.claims) return compare_claims(cli, &o, ngiven);
    return compare_workload(cli, &o, given, ngiven);
}

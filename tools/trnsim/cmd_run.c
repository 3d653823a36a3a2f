/* trnsim run: a Hugging Face model (checkpoint directory or catalog name) generating on a
 * simulated Trainium chip through the lowered NeuronCore programs (include/trnsim/run.h),
 * with TTFT, TPOT, tokens/s and the per-layer and per-op profile. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "trnsim/graph.h"
#include "trnsim/run.h"
#include "trnsim/runtime.h"

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: trnsim run --model DIR|NAME [--chip trn1|trn2|trn3]\n"
        "                  [--prompt TEXT | --tokens ID,ID,... | --prompt-len N]\n"
        "                  [--max-new N] [--precision bf16|fp8|mxfp8|mxfp4|mxfp8q]\n"
        "                  [--temperature T [--top-k K] [--top-p P] [--seed N]]\n"
        "                  [--timing-only] [--cores N [--lnc 1|2]] [--trace FILE.json] [--json]\n"
        "                  [--logits FILE.npy] [--weight-seed N] [--top N]\n"
        "                  [--save-weights FILE.safetensors]\n\n"
        "Runs a model's prefill and decode steps on a simulated NeuronCore, every op\n"
        "lowered to a NeuronCore program (docs/models.md, \"Running a model\").\n\n"
        "  --model DIR|NAME   a Hugging Face checkpoint directory (config.json,\n"
        "                     *.safetensors, optional tokenizer.json), a config.json or a\n"
        "                     catalog model (models/NAME.json): seeded random weights\n"
        "  --chip C           catalog chip (default trn2)\n"
        "  --prompt TEXT      encoded with the checkpoint's tokenizer.json\n"
        "  --tokens IDS       the prompt as token ids\n"
        "  --prompt-len N     timing-only: a prompt of N tokens (ids do not matter)\n"
        "  --max-new N        tokens to generate (default 8)\n"
        "  --precision P      matmul precision (default bf16; fp8 on trn2+; mxfp8, and\n"
        "                     mxfp4 / mxfp8q with weights pre-quantized to MX, on trn3)\n"
        "  --temperature T    sample with temperature T, 0 to 100 (default 0: greedy)\n"
        "  --top-k K          keep the K most likely tokens (default 0: all)\n"
        "  --top-p P          then the smallest set of probability >= P, 0 < P <= 1\n"
        "                     (default 1: all)\n"
        "  --seed N           seed of the sampling draws (default 0)\n"
        "  --timing-only      no weights, no arithmetic: the timing of the same programs\n"
        "  --cores N          split each op over N NeuronCores of the chip, numerics and\n"
        "                     time (default: all of the chip's with --timing-only, else 1)\n"
        "  --lnc 1|2          Logical NeuronCore size (trn2+): with 2, --cores counts\n"
        "                     logical cores of two physical ones each, and each op is\n"
        "                     split over all their physical cores (default 1)\n"
        "  --trace FILE.json  Perfetto/Chrome trace of the ops (prefill, then the mean\n"
        "                     decode step)\n"
        "  --json             the summary and the profiles as JSON (docs/models.md)\n"
        "  --logits FILE.npy  the last position's logits of every step, float32 [steps, V]\n"
        "  --weight-seed N    seed of the random weights of a catalog model (default 0)\n"
        "  --top N            op classes in the text breakdown (default 12)\n"
        "  --save-weights F   write the weights used (F32 .safetensors): with config.json\n"
        "                     beside it, a checkpoint directory for --model DIR\n");
}

/* ---- progress bar --------------------------------------------------------------------------- */

typedef struct progress {
    int on;
    double last;
} progress;

static double now_s(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void on_progress(void *ctx, int64_t step, int64_t steps, int op, int nops) {
    progress *p = ctx;
    double t = now_s();
    if (!p->on || t - p->last < 0.1) return;
    p->last = t;
    double f = ((double)step + (double)op / nops) / (double)steps;
    int w = (int)(f * 30);
    fprintf(stderr, "\r[%.*s%*s] %s %lld/%lld op %d/%d ", w, "##############################",
            30 - w, "", step ? "decode" : "prefill", (long long)step + 1, (long long)steps, op + 1,
            nops);
    fflush(stderr);
}

/* ---- summaries ------------------------------------------------------------------------------ */

typedef struct cls_sum {
    char cls[TRN_RUN_NAME_MAX];
    const char *kind;
    int where;
    int64_t launches;
    double time_ns, mfu_ns, bound_ns;
    int bound;
} cls_sum;

/* Sums p's ops by class ("q", "attn" ...) into s (at most cap), in first-seen order. */
static int by_class(const trn_run_prof *p, cls_sum *s, int cap) {
    int n = 0;
    for (int i = 0; i < p->nops; i++) {
        const trn_run_opprof *o = &p->ops[i];
        int j = 0;
        while (j < n && strcmp(s[j].cls, o->cls)) j++;
        if (j == n) {
            if (n == cap) continue;
            memset(&s[n], 0, sizeof s[n]);
            snprintf(s[n].cls, sizeof s[n].cls, "%s", o->cls);
            s[n].kind = o->kind, s[n].where = (int)o->where;
            n++;
        }
        s[j].launches += o->launches, s[j].time_ns += o->time_ns, s[j].mfu_ns += o->mfu_ns;
        if (o->bound_ns > s[j].bound_ns) s[j].bound_ns = o->bound_ns, s[j].bound = o->bound;
    }
    return n;
}

static int cmp_time(const void *a, const void *b) {
    double x = ((const cls_sum *)a)->time_ns, y = ((const cls_sum *)b)->time_ns;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Time of layer l (-1: outside the layers, before `l0` when pre, else after). */
static double layer_ns(const trn_run_prof *p, int l, int pre) {
    double t = 0;
    int seen = 0;
    for (int i = 0; i < p->nops; i++) {
        if (p->ops[i].layer >= 0) seen = 1;
        if (p->ops[i].layer == l && (l >= 0 || seen != pre)) t += p->ops[i].time_ns;
    }
    return t;
}

static void print_text(const trn_run_result *res, int64_t layers, int top) {
    const trn_run_prof *pf = &res->prefill, *dc = &res->decode;
    double ds = dc->steps ? (double)dc->steps : 1;
    printf("\nPer layer (simulated us; decode: mean per step)\n");
    printf("  %-16s %12s %6s %12s %6s\n", "layer", "prefill", "share", "decode", "share");
    for (int64_t l = -1; l <= layers; l++) {
        int ll = l == layers ? -1 : (int)l, pre = l == -1;
        double a = layer_ns(pf, ll, pre), b = layer_ns(dc, ll, pre) / ds;
        int64_t e = l; /* layers with the same times print as one row "lA-lB (each)" */
        while (l >= 0 && e + 1 < layers && layer_ns(pf, (int)e + 1, 0) == a &&
               layer_ns(dc, (int)e + 1, 0) / ds == b)
            e++;
        char name[64];
        if (l == -1)
            snprintf(name, sizeof name, "embed");
        else if (l == layers)
            snprintf(name, sizeof name, "head");
        else if (e > l)
            snprintf(name, sizeof name, "l%lld-l%lld (each)", (long long)l, (long long)e);
        else
            snprintf(name, sizeof name, "l%lld", (long long)l);
        printf("  %-16s %12.2f %5.1f%% %12.2f %5.1f%%\n", name, a / 1e3,
               pf->time_ns > 0 ? 100 * a / pf->time_ns : 0, b / 1e3,
               dc->time_ns > 0 ? 100 * b * ds / dc->time_ns : 0);
        l = e;
    }
    for (int k = 0; k < 2; k++) {
        const trn_run_prof *p = k ? dc : pf;
        if (!p->nops) continue;
        cls_sum s[64];
        int n = by_class(p, s, 64);
        qsort(s, (size_t)n, sizeof s[0], cmp_time);
        double div = k ? ds : 1;
        printf("\nPer op, all layers (%s%s)\n", k ? "decode, mean per step" : "prefill",
               n > top ? ", the longest" : "");
        printf("  %-12s %-12s %-6s %9s %12s %6s %-5s %8s\n", "op", "kind", "where", "kernels",
               "time us", "share", "bound", "PE util");
        for (int i = 0; i < n && i < top; i++) {
            int chip = s[i].time_ns > 0;
            printf("  %-12s %-12s %-6s %9lld %12.2f %5.1f%% %-5s", s[i].cls, s[i].kind,
                   trn_run_where_name((trn_run_where)s[i].where),
                   (long long)((double)s[i].launches / div + 0.5), s[i].time_ns / div / 1e3,
                   p->time_ns > 0 ? 100 * s[i].time_ns / p->time_ns : 0,
                   chip ? trn_run_engine_short(s[i].bound) : "-");
            if (chip)
                printf(" %7.1f%%\n", 100 * s[i].mfu_ns / s[i].time_ns);
            else
                printf(" %8s\n", "-");
        }
    }
}

/* A JSON string; bytes that are not valid UTF-8 (a random model's text) become U+FFFD. */
static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    while (*u) {
        unsigned char c = *u;
        if (c < 0x80) {
            if (c == '"' || c == '\\')
                fprintf(f, "\\%c", c);
            else if (c < 0x20)
                fprintf(f, "\\u%04x", c);
            else
                fputc(c, f);
            u++;
            continue;
        }
        int len = c >= 0xc2 && c <= 0xdf   ? 2
                  : c >= 0xe0 && c <= 0xef ? 3
                  : c >= 0xf0 && c <= 0xf4 ? 4
                                           : 0;
        int ok = len > 0;
        for (int k = 1; ok && k < len; k++) ok = (u[k] & 0xc0) == 0x80;
        if (ok) {
            fwrite(u, 1, (size_t)len, f);
            u += len;
        } else {
            fputs("\\ufffd", f);
            u++;
        }
    }
    fputc('"', f);
}

static void json_prof(FILE *f, const char *key, const trn_run_prof *p, int64_t layers) {
    fprintf(f, "  \"%s\": {\"steps\": %lld, \"tokens\": %lld, \"time_us\": %.6g, \"mfu\": %.6g,\n",
            key, (long long)p->steps, (long long)p->tokens, p->time_ns / 1e3, trn_run_prof_mfu(p));
    fprintf(f, "    \"layers\": [");
    for (int64_t l = 0; l < layers; l++)
        fprintf(f, "%s{\"layer\": %lld, \"time_us\": %.6g}", l ? ", " : "", (long long)l,
                layer_ns(p, (int)l, 0) / 1e3);
    fprintf(f, "],\n    \"ops\": [");
    for (int i = 0; i < p->nops; i++) {
        const trn_run_opprof *o = &p->ops[i];
        fprintf(f, "%s\n      {\"name\": ", i ? "," : "");
        json_str(f, o->name);
        fprintf(f, ", \"class\": ");
        json_str(f, o->cls);
        fprintf(f,
                ", \"kind\": \"%s\", \"layer\": %d, \"where\": \"%s\", \"kernels\": %lld, "
                "\"time_us\": %.6g, \"flops\": %.6g, \"mfu\": %.6g, \"bound\": \"%s\", "
                "\"hbm_bytes\": %llu, \"precision\": %s%s%s}",
                o->kind, o->layer, trn_run_where_name(o->where), (long long)o->launches,
                o->time_ns / 1e3, o->flops, o->time_ns > 0 ? o->mfu_ns / o->time_ns : 0,
                o->launches ? trn_run_engine_short(o->bound) : "-",
                (unsigned long long)o->hbm_bytes, o->prec >= 0 ? "\"" : "",
                o->prec >= 0 ? trn_run_precision_name(o->prec) : "null", o->prec >= 0 ? "\"" : "");
    }
    fprintf(f, "]}");
}

static int write_trace(const char *path, const trn_run_result *res) {
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    fprintf(f, "{\"traceEvents\": [\n");
    fprintf(f, "{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": 0, \"args\": {\"name\": "
               "\"NeuronCore 0\"}},\n");
    double ts = 0;
    int first = 1;
    for (int k = 0; k < 2; k++) {
        const trn_run_prof *p = k ? &res->decode : &res->prefill;
        double div = k && p->steps ? (double)p->steps : 1;
        for (int i = 0; i < p->nops; i++) {
            const trn_run_opprof *o = &p->ops[i];
            if (o->time_ns <= 0) continue;
            fprintf(f,
                    "%s{\"name\": \"%s\", \"cat\": \"%s\", \"ph\": \"X\", \"pid\": 0, \"tid\": "
                    "%d, \"ts\": %.3f, \"dur\": %.3f, \"args\": {\"kind\": \"%s\", \"bound\": "
                    "\"%s\"}}",
                    first ? "" : ",\n", o->name, k ? "decode (mean step)" : "prefill", k, ts / 1e3,
                    o->time_ns / div / 1e3, o->kind, trn_run_engine_short(o->bound));
            first = 0;
            ts += o->time_ns / div;
        }
    }
    fprintf(f, "\n]}\n");
    return fclose(f) == 0;
}

/* ---- the command ---------------------------------------------------------------------------- */

static int parse_ids(const char *s, int32_t **ids, int64_t *n) {
    int64_t cap = 16, k = 0;
    int32_t *v = malloc((size_t)cap * sizeof *v);
    if (!v) return 0;
    while (*s) {
        char *end;
        long long x = strtoll(s, &end, 10);
        if (end == s || x < 0 || x > INT32_MAX || (*end && *end != ',')) {
            free(v);
            return 0;
        }
        if (k == cap) {
            int32_t *nv = realloc(v, (size_t)(cap *= 2) * sizeof *v);
            if (!nv) {
                free(v);
                return 0;
            }
            v = nv;
        }
        v[k++] = (int32_t)x;
        s = *end ? end + 1 : end;
    }
    if (!k) {
        free(v);
        return 0;
    }
    *ids = v, *n = k;
    return 1;
}

/* A finite number in [lo, hi] (lo excluded when open_lo). */
static int parse_real(const char *s, double lo, double hi, int open_lo, double *v) {
    char *end;
    double x = strtod(s, &end);
    if (end == s || *end || !isfinite(x) || x < lo || x > hi || (open_lo && x == lo)) return 0;
    *v = x;
    return 1;
}

int cmd_run(trn_cli *cli, int argc, char **argv) {
    const char *model = NULL, *chip = "trn2", *prompt = NULL, *tokens = NULL, *prec = "bf16";
    const char *trace = NULL, *logits = NULL, *save = NULL;
    const char *temp_s = NULL, *topp_s = NULL;
    uint64_t max_new = 8, seed = 0, wseed = 0, cores = UINT64_MAX, prompt_len = 0, top = 12;
    uint64_t top_k = 0, lnc = 1;
    int timing_only = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL, *a = argv[i];
        int m;
        if (cli_is_help(a)) {
            usage(stdout);
            return CLI_EXIT_OK;
        }
        if (!strcmp(a, "--timing-only")) {
            timing_only = 1;
            continue;
        }
        if (!strcmp(a, "--json")) {
            json = 1;
            continue;
        }
#define OPT(name, var)                                         \
    if ((m = cli_opt("run", argc, argv, &i, name, &v)) != 0) { \
        if (m < 0) return CLI_EXIT_USAGE;                      \
        var = v;                                               \
        continue;                                              \
    }
#define NUM(name, var)                                                            \
    if ((m = cli_opt("run", argc, argv, &i, name, &v)) != 0) {                    \
        if (m < 0 || !cli_parse_u64("run", name, v, &var)) return CLI_EXIT_USAGE; \
        continue;                                                                 \
    }
        OPT("--model", model)
        OPT("--chip", chip)
        OPT("--prompt", prompt)
        OPT("--tokens", tokens)
        OPT("--precision", prec)
        OPT("--trace", trace)
        OPT("--logits", logits)
        OPT("--save-weights", save)
        OPT("--temperature", temp_s)
        OPT("--top-p", topp_s)
        NUM("--max-new", max_new)
        NUM("--seed", seed)
        NUM("--weight-seed", wseed)
        NUM("--top-k", top_k)
        NUM("--cores", cores)
        NUM("--lnc", lnc)
        NUM("--prompt-len", prompt_len)
        NUM("--top", top)
#undef OPT
#undef NUM
        cli_error("run", "unknown option '%s' (try trnsim run --help)", a);
        return CLI_EXIT_USAGE;
    }
    if (!model) {
        cli_error("run", "--model DIR|NAME is required (try trnsim run --help)");
        return CLI_EXIT_USAGE;
    }
    if (!!prompt + !!tokens + !!prompt_len != 1) {
        cli_error("run", "give exactly one of --prompt TEXT, --tokens ID,ID,... and "
                         "--prompt-len N");
        return CLI_EXIT_USAGE;
    }
    if (prompt_len && !timing_only) {
        cli_error("run", "--prompt-len is for --timing-only runs (give --tokens or --prompt)");
        return CLI_EXIT_USAGE;
    }
    if (max_new < 1 || max_new > 1000000 || prompt_len > 10000000 ||
        (cores > 1024 && cores != UINT64_MAX)) {
        cli_error("run", "--max-new must be 1 to 1000000, --prompt-len at most 10000000, "
                         "--cores at most the chip's NeuronCores");
        return CLI_EXIT_USAGE;
    }
    if (lnc != 1 && lnc != 2) {
        cli_error("run", "--lnc %llu: expected 1 or 2", (unsigned long long)lnc);
        return CLI_EXIT_USAGE;
    }
    if (timing_only && (logits || save)) {
        cli_error("run", "--logits and --save-weights need a functional run (no --timing-only)");
        return CLI_EXIT_USAGE;
    }
    int p = trn_run_precision_find(prec);
    if (p < 0) {
        cli_error("run", "--precision '%s' (expected bf16, fp8, mxfp8, mxfp4 or mxfp8q)", prec);
        return CLI_EXIT_USAGE;
    }
    trn_sampling smp = {0, 0, 1, 0};
    if (temp_s && !parse_real(temp_s, 0, 100, 0, &smp.temperature)) {
        cli_error("run", "--temperature '%s' (expected a number from 0 to 100; 0 is greedy)",
                  temp_s);
        return CLI_EXIT_USAGE;
    }
    if (topp_s && !parse_real(topp_s, 0, 1, 1, &smp.top_p)) {
        cli_error("run", "--top-p '%s' (expected a number with 0 < P <= 1)", topp_s);
        return CLI_EXIT_USAGE;
    }
    if (top_k > (uint64_t)INT32_MAX) {
        cli_error("run", "--top-k %llu is too large (0 keeps every token)",
                  (unsigned long long)top_k);
        return CLI_EXIT_USAGE;
    }
    smp.top_k = (int64_t)top_k, smp.seed = seed;
    int sampled = smp.temperature > 0; /* else greedy: --top-k, --top-p, --seed unused */

    trn_err err = {0};
    trn_runtime *rt = NULL;
    trn_run_model *rm = NULL;
    trn_run *run = NULL;
    int32_t *ids = NULL;
    int64_t n = 0;
    char *text = NULL;
    trn_run_result res = {0};
    int rc = CLI_EXIT_OK;
    trn_status s = trn_run_runtime_create(cli->hw, chip, &rt, &err);
    if (s != TRN_OK) {
        cli_error("run", "--chip %s", err.msg);
        return CLI_EXIT_USAGE;
    }
    int chip_cores = trn_run_runtime_cores(rt);
    if (lnc == 2 && (trn_runtime_target(rt)->version < 3 || chip_cores < 2)) {
        cli_error("run",
                  "--lnc 2: chip %s (NeuronCore-%s) has no Logical NeuronCores (LNC=2 pairs the "
                  "physical cores of NeuronCore-v3 and newer: trn2, trn3)",
                  chip, trn_runtime_target(rt)->name);
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    /* the whole chip for timing; one (logical) core keeps functional runs fast */
    if (cores == UINT64_MAX) cores = timing_only ? (uint64_t)chip_cores / lnc : 1;
    if (cores < 1 || cores * lnc > (uint64_t)chip_cores) {
        if (lnc == 2)
            cli_error("run", "--cores %llu with --lnc 2: %s has %d Logical NeuronCores of 2",
                      (unsigned long long)cores, chip, chip_cores / 2);
        else
            cli_error("run", "--cores %llu: %s has %d NeuronCores", (unsigned long long)cores, chip,
                      chip_cores);
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    cores *= lnc; /* the physical cores each op is split over */
    s = trn_run_model_open(model, timing_only, wseed, &rm, &err);
    if (s != TRN_OK) {
        cli_error("run", "%s", err.msg);
        rc = s == TRN_E_NOMEM                                ? CLI_EXIT_FAIL
             : s == TRN_E_UNSUPPORTED && !strchr(model, '/') ? CLI_EXIT_USAGE
                                                             : CLI_EXIT_BADINPUT;
        goto done;
    }
    if (save && trn_run_model_save(rm, save, &err) != TRN_OK) {
        cli_error("run", "--save-weights: %s", err.msg);
        rc = CLI_EXIT_BADINPUT;
        goto done;
    }
    const trn_model *m = trn_run_model_model(rm);
    const trn_model_config *cfg = trn_model_config_of(m);
    if (tokens && !parse_ids(tokens, &ids, &n)) {
        cli_error("run", "--tokens '%s' (expected comma-separated non-negative ids)", tokens);
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    if (prompt) {
        s = trn_run_model_encode(rm, prompt, &ids, &n, &err);
        if (s != TRN_OK || n == 0) {
            cli_error("run", "--prompt: %s", s != TRN_OK ? err.msg : "encodes to no tokens");
            rc = CLI_EXIT_USAGE;
            goto done;
        }
    }
    if (prompt_len) n = (int64_t)prompt_len;
    for (int64_t i = 0; ids && i < n; i++)
        if (ids[i] >= cfg->vocab) {
            cli_error("run", "--tokens: id %d is out of range (%s has a vocabulary of %lld)",
                      ids[i], cfg->name, (long long)cfg->vocab);
            rc = CLI_EXIT_USAGE;
            goto done;
        }
    trn_run_opts o = {0};
    o.prec = p, o.timing_only = timing_only, o.cores = (int)cores;
    s = trn_run_create(m, trn_run_model_weights(rm), rt, &o, &run, &err);
    if (s != TRN_OK) {
        cli_error("run", "%s", err.msg);
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    progress pg = {isatty(2) && !json, 0};
    s = trn_run_generate(run, ids, n, (int64_t)max_new, sampled ? &smp : NULL, logits != NULL,
                         on_progress, &pg, &res, &err);
    if (pg.on) fprintf(stderr, "\r%60s\r", "");
    if (s != TRN_OK) {
        cli_error("run", "%s", err.msg);
        /* a model family or an op shape the compiler cannot build: the model is the bad input */
        rc = s == TRN_E_RANGE || s == TRN_E_INVALID ? CLI_EXIT_USAGE
             : s == TRN_E_UNSUPPORTED               ? CLI_EXIT_BADINPUT
                                                    : CLI_EXIT_FAIL;
        goto done;
    }
    if (res.tokens && trn_run_model_has_tokenizer(rm) &&
        trn_run_model_decode(rm, res.tokens, res.steps, &text, &err) != TRN_OK)
        text = NULL;
    if (logits) {
        trn_array a = {0};
        int64_t shape[2] = {res.steps, res.vocab};
        if (trn_array_init(&a, TRN_IO_F32, 2, shape, &err) != TRN_OK ||
            (memcpy(a.data, res.logits, a.nbytes), trn_npy_write(logits, &a, &err)) != TRN_OK) {
            cli_error("run", "--logits: %s", err.msg);
            rc = CLI_EXIT_BADINPUT;
        }
        trn_array_fini(&a);
        if (rc) goto done;
    }
    if (trace && !write_trace(trace, &res)) {
        cli_error("run", "--trace: cannot write '%s'", trace);
        rc = CLI_EXIT_BADINPUT;
        goto done;
    }
    const char *core = trn_hw_chip_get(cli->hw, chip)->core_version;
    int programs = trn_run_runtime_programs(rt);
    const char *wsrc = timing_only                ? "none (timing-only)"
                       : trn_run_model_random(rm) ? "seeded random"
                                                  : "checkpoint";
    if (json) {
        printf("{\n  \"model\": ");
        json_str(stdout, cfg->name);
        printf(", \"chip\": \"%s\", \"core\": \"%s\", \"precision\": \"%s\", \"cores\": %d, "
               "\"lnc\": %d,\n",
               chip, core, trn_run_precision_name(p), (int)(cores ? cores : 1), (int)lnc);
        printf("  \"timing_only\": %s, \"weights\": \"%s\", \"weight_seed\": %llu,\n",
               timing_only ? "true" : "false",
               timing_only                ? "none"
               : trn_run_model_random(rm) ? "random"
                                          : "checkpoint",
               (unsigned long long)wseed);
        if (sampled)
            printf("  \"sampling\": {\"temperature\": %.6g, \"top_k\": %lld, \"top_p\": %.6g, "
                   "\"seed\": %llu},\n",
                   smp.temperature, (long long)smp.top_k, smp.top_p, (unsigned long long)seed);
        else
            printf("  \"sampling\": \"greedy\",\n");
        printf("  \"prompt_tokens\": %lld, \"new_tokens\": %lld, \"generated\": ",
               (long long)res.prompt_len, (long long)res.steps);
        if (res.tokens) {
            printf("[");
            for (int64_t i = 0; i < res.steps; i++) printf("%s%d", i ? ", " : "", res.tokens[i]);
            printf("]");
        } else {
            printf("null");
        }
        printf(", \"text\": ");
        if (text)
            json_str(stdout, text);
        else
            printf("null");
        printf(",\n  \"ttft_us\": %.6g, \"tpot_us\": %.6g, \"tokens_per_s\": %.6g, "
               "\"programs\": %d, \"wall_s\": %.3f,\n",
               res.ttft_ns / 1e3, res.tpot_ns / 1e3, res.tokens_per_s, programs, res.wall_s);
        json_prof(stdout, "prefill", &res.prefill, cfg->layers);
        printf(",\n");
        json_prof(stdout, "decode", &res.decode, cfg->layers);
        printf("\n}\n");
    } else {
        char lnc_s[48] = "";
        if (lnc == 2) snprintf(lnc_s, sizeof lnc_s, " as %d logical, LNC=2", (int)(cores / 2));
        printf("trnsim run: %s on %s (NeuronCore-%s, %d core%s%s), %s, weights: %s", cfg->name,
               chip, core, (int)cores, cores > 1 ? "s" : "", lnc_s, trn_run_precision_name(p),
               wsrc);
        if (!timing_only && trn_run_model_random(rm))
            printf(" (seed %llu; no checkpoint given, so the text is meaningless)",
                   (unsigned long long)wseed);
        if (sampled)
            printf("\nsampling: temperature %g, top-k %lld, top-p %g, seed %llu", smp.temperature,
                   (long long)smp.top_k, smp.top_p, (unsigned long long)seed);
        printf("\nprompt: %lld tokens; ", (long long)n);
        if (res.tokens) {
            printf("generated %lld:", (long long)res.steps);
            for (int64_t i = 0; i < res.steps; i++) printf(" %d", res.tokens[i]);
            printf("\n");
            if (text) printf("text: %s\n", text);
        } else {
            printf("%lld steps timed (timing-only: no tokens)\n", (long long)res.steps);
        }
        printf("TTFT %.2f us   TPOT %.2f us   %.1f tokens/s   (simulated; %s)\n", res.ttft_ns / 1e3,
               res.tpot_ns / 1e3, res.tokens_per_s,
               res.decode.steps ? "decode tokens/s = 1 / TPOT" : "prefill tokens / TTFT");
        printf("prefill PE util %.1f%%, decode %.1f%%; %d programs compiled; host %.2f s\n",
               100 * trn_run_prof_mfu(&res.prefill), 100 * trn_run_prof_mfu(&res.decode), programs,
               res.wall_s);
        print_text(&res, cfg->layers, (int)top);
    }
done:
    free(text);
    free(ids);
    trn_run_result_fini(&res);
    trn_run_destroy(run);
    trn_run_model_close(rm);
    trn_run_runtime_destroy(rt);
    return rc;
}

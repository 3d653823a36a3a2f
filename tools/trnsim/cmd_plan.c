/* trnsim plan: the cluster planner (src/plan, docs/planner.md).
 *   plan model NAME        a model's parameter counts, weight bytes, FLOPs per token, KV cache
 *   plan train|serve|rl    the best parallel configuration of a workload on a catalog system,
 *                          its time, memory per chip, cost and energy, the top alternatives and
 *                          the breakdown that explains them; --json is a stable interface
 *   --svg FILE             (train, serve) the scaling curve (throughput vs chips, the best
 *                          configuration at each count) above the time breakdown
 * Deliberately left out: cross-system comparison (`trnsim compare`). */
#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "trnsim/model.h"
#include "trnsim/plan.h"
#include "trnsim/plan_des.h"
#include "trnsim/svg.h"

#define GIB 1073741824.0

static void list_models(FILE *f) {
    for (int i = 0; i < trn_model_catalog_count(); i++)
        fprintf(f, "%s%s", trn_model_catalog_name(i),
                i + 1 < trn_model_catalog_count() ? ", " : "\n");
}

static void help_model(void) {
    printf("usage: trnsim plan model NAME|CONFIG.json [--seq-len N] [--kv-dtype D] [--json]\n\n"
           "Counts derived from a model's Hugging Face config.json: parameters (total, MoE\n"
           "active, embedding, attention, MLP, norms), stored weight bytes, FLOPs per token\n"
           "(forward and forward + backward at --seq-len, attention included) and KV-cache\n"
           "bytes per token. NAME is a model of the built-in catalog (models/*.json):\n  ");
    list_models(stdout);
    printf("or the path of any config.json of these families (llama, mixtral, deepseek_v3,\n"
           "gpt_oss, gpt2, bert).\n\n"
           "  --seq-len N    tokens per sequence for the FLOPs (default 4096, or the model's\n"
           "                 maximum when smaller)\n"
           "  --kv-dtype D   KV-cache element type (default bf16; fp8_e4m3, f32 ...)\n"
           "  --json         machine-readable output\n\n"
           "Formulas and the derived vs published table: docs/planner.md.\n");
}

static void help_workloads(void) {
    printf(
        "usage: trnsim plan train|serve|rl --model M --system S [--chips N] [workload flags]\n"
        "                  [--objective throughput|cost|latency] [--tp N] [--pp N] [--dp N]\n"
        "                  [--ep N] [--cp N] [--microbatches N] [--top K] [--json]\n\n"
        "Searches every legal parallel configuration (TP divides the heads, PP the layers, EP\n"
        "the experts and DP, CP the sequence; tp x pp x cp x dp = chips), checks memory per\n"
        "chip, and prints the best one by the objective with its time, memory, cost and\n"
        "energy, the top alternatives, and the breakdown (compute, memory-bound time, exposed\n"
        "communication per parallelism, pipeline bubble). --tp/--pp/--dp/--ep/--cp pin any.\n\n"
        "common\n"
        "  --model M            a catalog model or a config.json path\n"
        "  --system S           a catalog system (trnsim info lists them)\n"
        "  --chips N            chips to plan for (default: the system's; with --objective\n"
        "                       cost and no --chips, every divisor of the system's count is\n"
        "                       tried and the cheapest per token wins)\n"
        "  --objective O        throughput (default), cost ($ per token), latency\n"
        "  --top K              alternatives to show (default 5)\n"
        "  --json               the stable JSON schema of docs/planner.md\n"
        "  --op-cost P          per-op compute times: roofline (catalog efficiency factors)\n"
        "                       or sim (the chip simulator's timing of the lowered ops, cached\n"
        "                       by shape; Trainium only). Default: sim on Trainium, roofline on\n"
        "                       GPUs\n"
        "  --svg FILE           (train, serve) write the scaling curve (throughput vs chips,\n"
        "                       log-log, the best configuration at each power of two up to\n"
        "                       4x the chips) above the time breakdown of the best plan\n"
        "train\n"
        "  --seq-len N          tokens per sequence (default 4096, or the model's maximum)\n"
        "  --global-batch N     sequences per optimizer step (default: the smallest multiple\n"
        "                       of the chips >= 1024)\n"
        "  --precision P        bf16 (default), fp8, mxfp8 matmuls\n"
        "  --zero Z             0, 1, 2, 3 or fsdp (= 3); default: searched\n"
        "  --recompute R        none, selective, full; default: searched\n"
        "  --tokens N           tokens to train (default 20 per active parameter, Chinchilla)\n"
        "serve\n"
        "  --input-len N        prompt tokens (default 2048, less when the model has fewer\n"
        "                       positions)\n"
        "  --output-len N       generated tokens (default 256)\n"
        "  --batch N            sequences in flight over all replicas (default: the largest\n"
        "                       that fits and meets the SLOs)\n"
        "  --precision P        weights: model (the config's formats, default), bf16, fp8,\n"
        "                       mxfp4 (MoE experts)\n"
        "  --kv-dtype D         KV cache: bf16 (default), fp8\n"
        "  --ttft-slo-ms X      time-to-first-token limit\n"
        "  --tpot-slo-ms X      time-per-output-token limit\n"
        "  --request-rate R     requests/s over the machine: a discrete-event simulation of\n"
        "                       the chosen configuration (Poisson arrivals, continuous batching)\n"
        "                       reports p50/p90/p99 latencies; --requests N (default 1000),\n"
        "                       --seed N (default 1)\n"
        "rl (one step: generate --batch rollouts, then one policy update on them)\n"
        "  --input-len N --output-len N --batch N --precision bf16|fp8|mxfp8 --kv-dtype D\n\n"
        "Exit codes: 0 ok; 1 no configuration fits (the message says which chip runs out, by\n"
        "how much, and what dominates); 2 usage (a bad or non-divisible flag); 3 unknown model\n"
        "or system. Formulas and sources: docs/planner.md.\n");
}

static void help(void) {
    printf("usage: trnsim plan model NAME|CONFIG.json [--seq-len N] [--kv-dtype D] [--json]\n"
           "       trnsim plan train|serve|rl --model M --system S [flags] (see `trnsim plan "
           "train --help`)\n\n"
           "The cluster planner. Models of the built-in catalog:\n  ");
    list_models(stdout);
    printf("\n");
    help_workloads();
}

static void print_text(const trn_model_config *c, const trn_model_params *p,
                       const trn_model_flops *f, int64_t seq, const char *kvdt, double kv) {
    printf("%s (%s, %s)\n", c->name, trn_model_arch_name(c->arch), c->file);
    if (c->source) printf("  source: %s\n", c->source);
    printf("  hidden %lld, layers %lld, heads %lld (kv %lld), vocab %lld", (long long)c->hidden,
           (long long)c->layers, (long long)c->heads, (long long)c->kv_heads, (long long)c->vocab);
    if (c->experts)
        printf(", experts %lld (%lld per token, %lld shared)", (long long)c->experts,
               (long long)c->experts_per_token, (long long)c->shared_experts);
    if (c->mla) printf(", MLA kv_lora_rank %lld", (long long)c->kv_lora_rank);
    if (c->sliding_layers)
        printf(", %lld sliding layers of %lld", (long long)c->sliding_layers,
               (long long)c->sliding_window);
    printf("\n\nparameters\n");
    const struct {
        const char *label;
        int64_t v;
    } rows[] = {
        {"embedding", p->embed}, {"lm head", p->lm_head}, {"attention", p->attn},
        {"mlp", p->mlp},         {"norms", p->norms},     {"other", p->other},
        {"total", p->total},     {"active", p->active},   {"non-embedding", p->nonembed},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        printf("  %-14s %16lld  %9.3fB\n", rows[i].label, (long long)rows[i].v, rows[i].v / 1e9);
    if (p->mtp)
        printf("  %-14s %16lld  %9.3fB  (multi-token prediction, not in total)\n", "mtp",
               (long long)p->mtp, p->mtp / 1e9);
    printf("  weights        %.2f GiB", p->weight_bytes / 1073741824.0);
    if (c->quant_method) printf(" (%s)", c->quant_method);
    printf("\n\nper token at seq-len %lld\n", (long long)seq);
    printf("  forward        %.4g GFLOP (matmul %.4g + attention %.4g)\n", f->forward / 1e9,
           f->matmul / 1e9, f->attn / 1e9);
    printf("  train (3x)     %.4g GFLOP\n", f->train / 1e9);
    printf("  KV cache       %.0f bytes (%s)\n", kv, kvdt);
}

static int print_json(const trn_model_config *c, const trn_model_params *p,
                      const trn_model_flops *f, int64_t seq, const char *kvdt, double kv) {
    cJSON *o = cJSON_CreateObject();
    int ok = o && cJSON_AddStringToObject(o, "name", c->name) &&
             cJSON_AddStringToObject(o, "family", trn_model_arch_name(c->arch)) &&
             cJSON_AddStringToObject(o, "file", c->file);
    cJSON *pp = ok ? cJSON_AddObjectToObject(o, "params") : NULL;
    ok = pp && cJSON_AddNumberToObject(pp, "embed", (double)p->embed) &&
         cJSON_AddNumberToObject(pp, "lm_head", (double)p->lm_head) &&
         cJSON_AddNumberToObject(pp, "attn", (double)p->attn) &&
         cJSON_AddNumberToObject(pp, "mlp", (double)p->mlp) &&
         cJSON_AddNumberToObject(pp, "norms", (double)p->norms) &&
         cJSON_AddNumberToObject(pp, "other", (double)p->other) &&
         cJSON_AddNumberToObject(pp, "total", (double)p->total) &&
         cJSON_AddNumberToObject(pp, "active", (double)p->active) &&
         cJSON_AddNumberToObject(pp, "nonembed", (double)p->nonembed) &&
         cJSON_AddNumberToObject(pp, "compute", (double)p->compute) &&
         cJSON_AddNumberToObject(pp, "mtp", (double)p->mtp) &&
         cJSON_AddNumberToObject(o, "weight_bytes", p->weight_bytes) &&
         cJSON_AddNumberToObject(o, "seq_len", (double)seq);
    cJSON *ff = ok ? cJSON_AddObjectToObject(o, "flops_per_token") : NULL;
    ok = ff && cJSON_AddNumberToObject(ff, "matmul", f->matmul) &&
         cJSON_AddNumberToObject(ff, "attn", f->attn) &&
         cJSON_AddNumberToObject(ff, "forward", f->forward) &&
         cJSON_AddNumberToObject(ff, "train", f->train) &&
         cJSON_AddStringToObject(o, "kv_dtype", kvdt) &&
         cJSON_AddNumberToObject(o, "kv_bytes_per_token", kv);
    char *text = ok ? cJSON_Print(o) : NULL;
    cJSON_Delete(o);
    if (!text) {
        cli_error("plan", "out of memory");
        return CLI_EXIT_FAIL;
    }
    printf("%s\n", text);
    free(text);
    return CLI_EXIT_OK;
}

static int plan_model(int argc, char **argv) {
    const char *name = NULL, *seq_s = NULL, *kvdt = "bf16";
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (cli_is_help(argv[i])) {
            help_model();
            return CLI_EXIT_OK;
        }
        if ((r = cli_opt("plan", argc, argv, &i, "--seq-len", &v)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            seq_s = v;
        } else if ((r = cli_opt("plan", argc, argv, &i, "--kv-dtype", &v)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            kvdt = v;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (argv[i][0] == '-') {
            cli_error("plan", "unknown option '%s' (try `trnsim plan model --help`)", argv[i]);
            return CLI_EXIT_USAGE;
        } else if (name) {
            cli_error("plan", "one model at a time (got '%s' and '%s')", name, argv[i]);
            return CLI_EXIT_USAGE;
        } else {
            name = argv[i];
        }
    }
    if (!name) {
        cli_error("plan", "model: expected a model NAME or CONFIG.json (try `trnsim plan model "
                          "--help`)");
        return CLI_EXIT_USAGE;
    }
    uint64_t seq = 0;
    if (seq_s) {
        if (!cli_parse_u64("plan", "--seq-len", seq_s, &seq)) return CLI_EXIT_USAGE;
        if (seq < 1 || seq > (UINT64_C(1) << 30)) {
            cli_error("plan", "--seq-len: expected 1 to 1073741824, got '%s'", seq_s);
            return CLI_EXIT_USAGE;
        }
    }
    trn_err err = {0};
    trn_dtype dt;
    if (trn_dtype_from_name(kvdt, &dt, &err) != TRN_OK) {
        cli_error("plan", "--kv-dtype: %s", err.msg);
        return CLI_EXIT_USAGE;
    }
    trn_model *m = NULL;
    trn_status s = trn_model_load(name, &m, &err);
    if (s != TRN_OK) {
        cli_error("plan", "%s", err.msg);
        return CLI_EXIT_BADINPUT;
    }
    const trn_model_config *c = trn_model_config_of(m);
    if (!seq) seq = c->max_positions < 4096 ? (uint64_t)c->max_positions : 4096;
    trn_model_params p;
    trn_model_flops f;
    double kv = 0;
    trn_model_params_of(m, &p);
    s = trn_model_flops_seq(m, (int64_t)seq, &f, &err);
    if (s == TRN_OK) s = trn_model_kv_bytes(m, dt, 0, &kv, NULL, &err);
    int rc = CLI_EXIT_OK;
    if (s != TRN_OK) {
        cli_error("plan", "%s", err.msg);
        rc = CLI_EXIT_USAGE;
    } else if (json) {
        rc = print_json(c, &p, &f, (int64_t)seq, kvdt, kv);
    } else {
        print_text(c, &p, &f, (int64_t)seq, kvdt, kv);
    }
    trn_model_destroy(m);
    return rc;
}

/* ---- workloads ----------------------------------------------------------------------------- */

enum { W_TRAIN = 1, W_SERVE = 2, W_RL = 4, W_ALL = 7 };

typedef struct wopts {
    const char *model, *system, *precision, *kv, *zero, *recompute, *objective, *svg, *op_cost;
    uint64_t chips, seq_len, global_batch, input_len, output_len, batch, top, requests, seed;
    uint64_t tp, pp, dp, ep, cp, microbatches;
    double tokens, ttft_slo_ms, tpot_slo_ms, request_rate;
    int json;
} wopts;

typedef struct wopt {
    const char *name;
    int kind, where;
    size_t off;
} wopt;

#define OPT(n, k, w, f) \
    { n, k, w, offsetof(wopts, f) }
static const wopt wopt_table[] = {
    OPT("--model", CLI_VAL_STR, W_ALL, model),
    OPT("--system", CLI_VAL_STR, W_ALL, system),
    OPT("--chips", CLI_VAL_POS, W_ALL, chips),
    OPT("--objective", CLI_VAL_STR, W_ALL, objective),
    OPT("--top", CLI_VAL_POS, W_ALL, top),
    OPT("--tp", CLI_VAL_POS, W_ALL, tp),
    OPT("--pp", CLI_VAL_POS, W_ALL, pp),
    OPT("--dp", CLI_VAL_POS, W_ALL, dp),
    OPT("--ep", CLI_VAL_POS, W_ALL, ep),
    OPT("--cp", CLI_VAL_POS, W_TRAIN | W_RL, cp),
    OPT("--microbatches", CLI_VAL_POS, W_TRAIN | W_RL, microbatches),
    OPT("--precision", CLI_VAL_STR, W_ALL, precision),
    OPT("--seq-len", CLI_VAL_POS, W_TRAIN, seq_len),
    OPT("--global-batch", CLI_VAL_POS, W_TRAIN, global_batch),
    OPT("--zero", CLI_VAL_STR, W_TRAIN | W_RL, zero),
    OPT("--recompute", CLI_VAL_STR, W_TRAIN | W_RL, recompute),
    OPT("--tokens", CLI_VAL_NUM, W_TRAIN, tokens),
    OPT("--input-len", CLI_VAL_POS, W_SERVE | W_RL, input_len),
    OPT("--output-len", CLI_VAL_POS, W_SERVE | W_RL, output_len),
    OPT("--batch", CLI_VAL_POS, W_SERVE | W_RL, batch),
    OPT("--kv-dtype", CLI_VAL_STR, W_SERVE | W_RL, kv),
    OPT("--ttft-slo-ms", CLI_VAL_NUM, W_SERVE, ttft_slo_ms),
    OPT("--tpot-slo-ms", CLI_VAL_NUM, W_SERVE, tpot_slo_ms),
    OPT("--request-rate", CLI_VAL_NUM, W_SERVE, request_rate),
    OPT("--requests", CLI_VAL_POS, W_SERVE, requests),
    OPT("--seed", CLI_VAL_POS, W_SERVE, seed),
    OPT("--svg", CLI_VAL_STR, W_TRAIN | W_SERVE, svg),
    OPT("--op-cost", CLI_VAL_STR, W_ALL, op_cost),
};
#define NWOPT (sizeof wopt_table / sizeof wopt_table[0])

static const char *wname(int w) {
    return w == W_TRAIN ? "train" : w == W_SERVE ? "serve" : "rl";
}

/* Parses argv into *o. Returns 0 or an exit code. */
static int parse_wopts(int w, int argc, char **argv, wopts *o) {
    memset(o, 0, sizeof *o);
    o->tokens = -1;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            help_workloads();
            return -1;
        }
        if (strcmp(argv[i], "--json") == 0) {
            o->json = 1;
            continue;
        }
        const wopt *hit = NULL;
        const char *v = NULL;
        for (size_t k = 0; k < NWOPT && !hit; k++) {
            int r = cli_opt("plan", argc, argv, &i, wopt_table[k].name, &v);
            if (r < 0) return CLI_EXIT_USAGE;
            if (r > 0) hit = &wopt_table[k];
        }
        if (!hit) {
            cli_error("plan", "%s: unknown option '%s' (try `trnsim plan %s --help`)", wname(w),
                      argv[i], wname(w));
            return CLI_EXIT_USAGE;
        }
        if (!(hit->where & w)) {
            cli_error("plan", "%s: %s does not apply to `plan %s`", wname(w), hit->name, wname(w));
            return CLI_EXIT_USAGE;
        }
        int r = cli_store_value("plan", hit->name, hit->kind, v, (char *)o + hit->off);
        if (r) return r;
    }
    if (!o->model || !o->system) {
        cli_error("plan", "%s: expected --model M and --system S (try `trnsim plan %s --help`)",
                  wname(w), wname(w));
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static void list_systems(const trn_hw *hw, char *buf, size_t n) {
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < trn_hw_count(hw, TRN_HW_KIND_SYSTEM) && k + 1 < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? ", " : "",
                              trn_hw_entry_name(trn_hw_at(hw, TRN_HW_KIND_SYSTEM, i)));
}

/* Checks the pins against the model and the chips: exit 2 naming the flag. */
static int check_pins(const wopts *o, const trn_model_config *c, int64_t chips, int64_t seq,
                      int w) {
    const struct {
        const char *flag;
        uint64_t v;
        int64_t must_divide;
        const char *what;
    } rules[] = {
        {"--tp", o->tp, c->heads, "attention heads"},
        {"--pp", o->pp, c->layers, "layers"},
        {"--ep", o->ep, c->experts ? c->experts : 1, "experts"},
        {"--cp", o->cp, seq, "sequence length"},
    };
    if (o->ep > 1 && !c->experts) {
        cli_error("plan", "--ep %llu: %s has no experts (ep must be 1)", (unsigned long long)o->ep,
                  c->name);
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (rules[i].v && (int64_t)rules[i].v > 0 && rules[i].must_divide % (int64_t)rules[i].v) {
            cli_error("plan", "%s %llu: must divide the %lld %s of %s", rules[i].flag,
                      (unsigned long long)rules[i].v, (long long)rules[i].must_divide,
                      rules[i].what, c->name);
            return CLI_EXIT_USAGE;
        }
    uint64_t prod = (o->tp ? o->tp : 1) * (o->pp ? o->pp : 1) * (o->dp ? o->dp : 1) *
                    (o->cp && w != W_SERVE ? o->cp : 1);
    if (prod > (uint64_t)chips || (uint64_t)chips % prod) {
        cli_error("plan", "--tp/--pp/--dp/--cp: their product %llu must divide the %lld chips",
                  (unsigned long long)prod, (long long)chips);
        return CLI_EXIT_USAGE;
    }
    if (o->ep && o->dp && o->dp % o->ep) {
        cli_error("plan", "--ep %llu: must divide --dp %llu", (unsigned long long)o->ep,
                  (unsigned long long)o->dp);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static int parse_objective(const char *s, trn_plan_objective *out) {
    if (!s || strcmp(s, "throughput") == 0)
        *out = TRN_PLAN_THROUGHPUT;
    else if (strcmp(s, "cost") == 0)
        *out = TRN_PLAN_COST;
    else if (strcmp(s, "latency") == 0)
        *out = TRN_PLAN_LATENCY;
    else {
        cli_error("plan", "--objective: expected throughput, cost or latency, got '%s'", s);
        return 0;
    }
    return 1;
}

static int parse_kv(const char *s, trn_dtype *out) {
    trn_err err = {0};
    if (!s) s = "bf16";
    if (strcmp(s, "fp8") == 0) s = "fp8_e4m3";
    if (trn_dtype_from_name(s, out, &err) != TRN_OK || trn_dtype_bits(*out) % 8) {
        cli_error("plan", "--kv-dtype: expected bf16, fp8 or another whole-byte type, got '%s'", s);
        return 0;
    }
    return 1;
}

static const char *origin_word(trn_hw_origin o) {
    return o == TRN_HW_ASSUMED ? "assumed" : o == TRN_HW_DERIVED ? "derived" : "published";
}

static void bd_text(const char *label, const trn_plan_breakdown *b) {
    double t = b->compute_s + b->memory_s + b->tp_comm_s + b->pp_comm_s + b->dp_comm_s +
               b->ep_comm_s + b->cp_comm_s + b->bubble_s;
    printf("  %-16s compute %.4g s (%.0f%%), memory-bound %.4g s (%.0f%%), exposed comm TP %.3g "
           "PP %.3g DP %.3g EP %.3g CP %.3g s, bubble %.3g s (%.0f%%)\n",
           label, b->compute_s, 100 * b->compute_s / t, b->memory_s, 100 * b->memory_s / t,
           b->tp_comm_s, b->pp_comm_s, b->dp_comm_s, b->ep_comm_s, b->cp_comm_s, b->bubble_s,
           100 * b->bubble_s / t);
}

static void mem_text(const trn_plan_memory *m) {
    printf("  memory per chip  %.1f of %.1f GiB (stage %d): weights %.1f, gradients %.1f, "
           "optimizer %.1f, activations %.1f, KV cache %.1f, workspace %.1f\n",
           m->total / GIB, m->capacity / GIB, m->stage, m->weights / GIB, m->grads / GIB,
           m->optimizer / GIB, m->activations / GIB, m->kv_cache / GIB, m->workspace / GIB);
}

static void cfg_text(const trn_plan_config *c, int train) {
    if (train)
        printf("tp %lld, pp %lld, cp %lld, dp %lld, ep %lld, microbatches %lld, zero %d",
               (long long)c->tp, (long long)c->pp, (long long)c->cp, (long long)c->dp,
               (long long)c->ep, (long long)c->microbatches, c->zero);
    else
        printf("tp %lld, pp %lld, dp %lld replicas, ep %lld", (long long)c->tp, (long long)c->pp,
               (long long)c->dp, (long long)c->ep);
}

/* JSON builders (NULL-safe: a failed allocation makes the final print fail). */
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

static cJSON *mem_json(const trn_plan_memory *m) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "weights", m->weights / GIB);
    cJSON_AddNumberToObject(o, "gradients", m->grads / GIB);
    cJSON_AddNumberToObject(o, "optimizer", m->optimizer / GIB);
    cJSON_AddNumberToObject(o, "activations", m->activations / GIB);
    cJSON_AddNumberToObject(o, "kv_cache", m->kv_cache / GIB);
    cJSON_AddNumberToObject(o, "workspace", m->workspace / GIB);
    cJSON_AddNumberToObject(o, "total", m->total / GIB);
    cJSON_AddNumberToObject(o, "capacity", m->capacity / GIB);
    cJSON_AddNumberToObject(o, "stage", m->stage);
    return o;
}

static cJSON *bd_json(const trn_plan_breakdown *b) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "compute", b->compute_s);
    cJSON_AddNumberToObject(o, "memory_bound", b->memory_s);
    cJSON_AddNumberToObject(o, "tp_comm", b->tp_comm_s);
    cJSON_AddNumberToObject(o, "pp_comm", b->pp_comm_s);
    cJSON_AddNumberToObject(o, "dp_comm", b->dp_comm_s);
    cJSON_AddNumberToObject(o, "ep_comm", b->ep_comm_s);
    cJSON_AddNumberToObject(o, "cp_comm", b->cp_comm_s);
    cJSON_AddNumberToObject(o, "bubble", b->bubble_s);
    cJSON_AddStringToObject(o, "limited_by", trn_plan_limiter(b));
    return o;
}

static void head_json(cJSON *o, const char *workload, const trn_model_config *mc,
                      const trn_plan_machine *m, trn_plan_objective obj) {
    static const char *const objs[] = {"throughput", "cost", "latency"};
    cJSON_AddStringToObject(o, "workload", workload);
    cJSON_AddStringToObject(o, "model", mc->name);
    cJSON_AddStringToObject(o, "system", m->sys->name);
    cJSON_AddStringToObject(o, "device", m->device);
    cJSON_AddNumberToObject(o, "chips", (double)m->chips);
    cJSON_AddStringToObject(o, "objective", objs[obj]);
    cJSON_AddNumberToObject(o, "price_usd_per_chip_hour", m->price_usd_per_chip_hour);
    cJSON_AddStringToObject(o, "price_provenance", origin_word(m->price_origin));
    cJSON_AddNumberToObject(o, "pue", m->pue);
    cJSON_AddStringToObject(o, "op_cost", m->cost.name);
}

static int print_json_doc(cJSON *o) {
    char *text = o ? cJSON_Print(o) : NULL;
    cJSON_Delete(o);
    if (!text) {
        cli_error("plan", "out of memory");
        return CLI_EXIT_FAIL;
    }
    printf("%s\n", text);
    free(text);
    return CLI_EXIT_OK;
}

static cJSON *train_json(const trn_plan_train_result *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "config", cfg_json(&r->cfg, r->recompute));
    cJSON_AddNumberToObject(o, "step_time_s", r->step_time_s);
    cJSON_AddNumberToObject(o, "tokens_per_s", r->tokens_per_s);
    cJSON_AddNumberToObject(o, "mfu", r->mfu);
    cJSON_AddItemToObject(o, "memory_per_chip_gib", mem_json(&r->mem));
    cJSON_AddItemToObject(o, "breakdown_s", bd_json(&r->bd));
    cJSON_AddNumberToObject(o, "model_flops_per_step", r->model_flops_per_step);
    cJSON_AddNumberToObject(o, "usd_per_hour", r->usd_per_hour);
    cJSON_AddNumberToObject(o, "power_w", r->power_w);
    return o;
}

static cJSON *serve_json(const trn_plan_serve_result *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "config", cfg_json(&r->cfg, -1));
    cJSON_AddNumberToObject(o, "batch", (double)r->batch);
    cJSON_AddNumberToObject(o, "max_batch", (double)r->max_batch);
    cJSON_AddNumberToObject(o, "ttft_ms", r->ttft_s * 1e3);
    cJSON_AddNumberToObject(o, "tpot_ms", r->tpot_s * 1e3);
    cJSON_AddNumberToObject(o, "e2e_latency_ms", r->e2e_s * 1e3);
    cJSON_AddNumberToObject(o, "throughput_tokens_per_s", r->throughput_tokens_per_s);
    cJSON_AddNumberToObject(o, "throughput_tokens_per_s_per_chip", r->throughput_per_chip);
    cJSON_AddNumberToObject(o, "usd_per_1m_input_tokens", r->usd_per_1m_input);
    cJSON_AddNumberToObject(o, "usd_per_1m_output_tokens", r->usd_per_1m_output);
    cJSON_AddNumberToObject(o, "joules_per_token", r->joules_per_token);
    cJSON_AddNumberToObject(o, "joules_per_input_token", r->joules_per_input_token);
    cJSON_AddNumberToObject(o, "joules_per_output_token", r->joules_per_output_token);
    cJSON_AddItemToObject(o, "memory_per_chip_gib", mem_json(&r->mem));
    cJSON_AddItemToObject(o, "prefill_breakdown_s", bd_json(&r->prefill));
    cJSON_AddItemToObject(o, "decode_breakdown_s", bd_json(&r->decode));
    cJSON_AddNumberToObject(o, "usd_per_hour", r->usd_per_hour);
    cJSON_AddNumberToObject(o, "power_w", r->power_w);
    return o;
}

/* Merges every member of `src` into `dst` (src is consumed). */
static void merge(cJSON *dst, cJSON *src) {
    while (src && src->child) {
        cJSON *it = cJSON_DetachItemViaPointer(src, src->child);
        cJSON_AddItemToObject(dst, it->string, it);
    }
    cJSON_Delete(src);
}

/* ---- --op-cost: per-op compute times from the roofline or the chip simulator --------------- */

static struct {
    int sim;   /* the simulator provider for Trainium machines */
    int asked; /* --op-cost sim given explicitly */
    const trn_hw *hw;
    const trn_model *model;
    trn_plan_opcost_sim *p; /* created for the first Trainium machine, shared by the rest */
} opc;

/* Reads --op-cost (NULL: the default, sim for Trainium). 1 ok, 0 usage error. */
static int op_cost_setup(trn_cli *cli, const wopts *o, const trn_model *md) {
    memset(&opc, 0, sizeof opc);
    if (o->op_cost && strcmp(o->op_cost, "roofline") && strcmp(o->op_cost, "sim")) {
        cli_error("plan", "--op-cost: expected roofline or sim, got '%s'", o->op_cost);
        return 0;
    }
    opc.sim = !o->op_cost || strcmp(o->op_cost, "sim") == 0;
    opc.asked = o->op_cost && opc.sim;
    opc.hw = cli->hw;
    opc.model = md;
    return 1;
}

static void op_cost_done(void) {
    trn_plan_opcost_sim_destroy(opc.p);
    memset(&opc, 0, sizeof opc);
}

/* Points m's op costs at the simulator when asked (Trainium only). exit code or 0. */
static int op_cost_attach(trn_plan_machine *m) {
    if (!opc.sim) return 0;
    if (!m->sys->chip) {
        if (!opc.asked) return 0;
        cli_error("plan",
                  "--op-cost sim: %s has %s GPUs; the simulator models Trainium chips only (use "
                  "--op-cost roofline)",
                  m->sys->name, m->device);
        return CLI_EXIT_USAGE;
    }
    trn_err err = {0};
    if (!opc.p && trn_plan_opcost_sim_create(opc.hw, m->device, opc.model, &m->roof, &opc.p,
                                             &err) != TRN_OK) {
        cli_error("plan", "--op-cost sim: %s", err.msg);
        return CLI_EXIT_BADINPUT;
    }
    m->cost = trn_plan_opcost_sim_provider(opc.p);
    return 0;
}

/* "compute times: ..." naming the provider and, for the simulator, what it answered. */
static void op_cost_text(const trn_plan_machine *m) {
    if (!opc.p || m->cost.ctx != opc.p) {
        printf("compute times: roofline (catalog efficiency: GEMM %.2f, attention %.2f, memory "
               "%.2f of peak)\n",
               m->roof.gemm_eff, m->roof.attn_eff, m->roof.mem_eff);
        return;
    }
    trn_plan_opcost_sim_stats st;
    trn_plan_opcost_sim_stats_get(opc.p, &st);
    printf("compute times: simulator (%s, timing-only: %lld shapes simulated in %.2f s, %lld "
           "cache hits); from the simulator %lld GEMM, %lld attention, %lld elementwise ops; "
           "roofline fallback %lld GEMM, %lld attention, %lld elementwise\n",
           m->device, (long long)st.shapes, st.sim_wall_s, (long long)st.hits, (long long)st.sim[0],
           (long long)st.sim[1], (long long)st.sim[2], (long long)st.fallback[0],
           (long long)st.fallback[1], (long long)st.fallback[2]);
}

/* The machine for o->chips (or the system's). exit code or 0. */
static int make_machine(trn_cli *cli, const wopts *o, int64_t chips, trn_plan_machine **m) {
    trn_err err = {0};
    const trn_hw_system *sys = trn_hw_system_get(cli->hw, o->system);
    if (!sys) {
        char known[1024];
        list_systems(cli->hw, known, sizeof known);
        cli_error("plan", "--system: unknown system '%s' (known: %s)", o->system, known);
        return CLI_EXIT_BADINPUT;
    }
    trn_status s = trn_plan_machine_create(sys, chips, m, &err);
    if (s == TRN_E_RANGE) {
        cli_error("plan", "--chips %lld: %s", (long long)chips, err.msg);
        return CLI_EXIT_USAGE;
    }
    if (s != TRN_OK) {
        cli_error("plan", "%s", err.msg);
        return CLI_EXIT_BADINPUT;
    }
    int rc = op_cost_attach(*m);
    if (rc) {
        trn_plan_machine_destroy(*m);
        *m = NULL;
    }
    return rc;
}

static trn_plan_pins pins_of(const wopts *o, int zero, int recompute) {
    trn_plan_pins p = {(int64_t)o->tp, (int64_t)o->pp,           (int64_t)o->dp, (int64_t)o->ep,
                       (int64_t)o->cp, (int64_t)o->microbatches, zero,           recompute};
    return p;
}

/* Chip counts to try: the one asked for, or for --objective cost without --chips every divisor
 * of the system's count. */
static int chip_counts(const trn_hw_system *sys, const wopts *o, trn_plan_objective obj,
                       int64_t *out, int cap) {
    int64_t n = (int64_t)sys->chips.value;
    if (o->chips) {
        out[0] = (int64_t)o->chips;
        return 1;
    }
    if (obj != TRN_PLAN_COST) {
        out[0] = n;
        return 1;
    }
    int k = 0;
    for (int64_t d = 1; d <= n && k < cap; d++)
        if (n % d == 0) out[k++] = d;
    return k;
}

static int status_exit(trn_status s) {
    if (s == TRN_E_RANGE) return CLI_EXIT_FAIL; /* nothing fits */
    if (s == TRN_E_NOTFOUND || s == TRN_E_PARSE || s == TRN_E_IO) return CLI_EXIT_BADINPUT;
    return CLI_EXIT_USAGE;
}

static int load_model(const char *name, trn_model **md) {
    trn_err err = {0};
    if (trn_model_load(name, md, &err) != TRN_OK) {
        cli_error("plan", "--model: %s", err.msg);
        return CLI_EXIT_BADINPUT;
    }
    return 0;
}

static int parse_zero_rc(const wopts *o, int *zero, int *rc) {
    *zero = -1, *rc = -1;
    if (o->zero) {
        if (strcmp(o->zero, "fsdp") == 0)
            *zero = 3;
        else if (strlen(o->zero) == 1 && o->zero[0] >= '0' && o->zero[0] <= '3')
            *zero = o->zero[0] - '0';
        else {
            cli_error("plan", "--zero: expected 0, 1, 2, 3 or fsdp, got '%s'", o->zero);
            return 0;
        }
    }
    if (o->recompute) {
        for (int i = 0; i <= 2; i++)
            if (strcmp(o->recompute, trn_plan_recompute_name(i)) == 0) *rc = i;
        if (*rc < 0) {
            cli_error("plan", "--recompute: expected none, selective or full, got '%s'",
                      o->recompute);
            return 0;
        }
    }
    return 1;
}

/* ---- --svg: the scaling curve above the time breakdown -------------------------------------- */

#define SVG_MAXPTS 24

/* Chip counts of the scaling curve: powers of two up to 4x the planned count (at least the
 * system's own count), with the planned count itself, at most 1,000,000. */
static int svg_counts(int64_t planned, int64_t sys_chips, int64_t *out) {
    int64_t top = 4 * planned > sys_chips ? 4 * planned : sys_chips;
    if (top > 1000000) top = 1000000;
    int n = 0, have = 0;
    for (int64_t c = 1; c <= top && n < SVG_MAXPTS - 1; c *= 2) {
        if (!have && planned < c) out[n++] = planned, have = 1;
        if (c == planned) have = 1;
        out[n++] = c;
    }
    if (!have && n < SVG_MAXPTS) out[n++] = planned;
    return n;
}

/* Stacks two SVG documents (each "<?xml ...?>\n<svg ...>...</svg>") vertically into one. */
static char *svg_stack(const char *a, int ha, const char *b, int hb, int w) {
    const char *pa = strstr(a, "<svg"), *pb = strstr(b, "<svg");
    if (!pa || !pb) return NULL;
    size_t n = strlen(pa) + strlen(pb) + 512;
    char *out = malloc(n);
    if (!out) return NULL;
    snprintf(
        out, n,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
        "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n<g>\n%s</g>\n<g "
        "transform=\"translate(0,%d)\">\n%s</g>\n</svg>\n",
        w, ha + hb, w, ha + hb, pa, ha, pb);
    return out;
}

static const char *const bd_parts[] = {"compute", "memory-bound", "TP comm", "PP comm",
                                       "DP comm", "EP comm",      "CP comm", "bubble"};

static void bd_values(const trn_plan_breakdown *b, double scale, double *v) {
    v[0] = b->compute_s * scale, v[1] = b->memory_s * scale, v[2] = b->tp_comm_s * scale;
    v[3] = b->pp_comm_s * scale, v[4] = b->dp_comm_s * scale, v[5] = b->ep_comm_s * scale;
    v[6] = b->cp_comm_s * scale, v[7] = b->bubble_s * scale;
}

/* Renders the line chart and the stacked bars and writes them to `path`. */
static int svg_write(const char *path, const trn_svg_line_chart *lc,
                     const trn_svg_stack_chart *sc) {
    char *a = NULL, *b = NULL, *both = NULL;
    trn_err err = {0};
    trn_status s = trn_svg_line(lc, &a, &err);
    if (s == TRN_OK) s = trn_svg_stacked(sc, &b, &err);
    if (s == TRN_OK) {
        both = svg_stack(a, 440, b, 440, 720);
        s = both ? trn_file_write(path, both, strlen(both), &err)
                 : trn_err_set(&err, TRN_E_NOMEM, "out of memory");
    }
    free(a);
    free(b);
    free(both);
    if (s != TRN_OK) {
        cli_error("plan", "--svg %s: %s", path, err.msg);
        return CLI_EXIT_BADINPUT;
    }
    return 0;
}

static int svg_train(trn_cli *cli, const wopts *o, const trn_model *md, const trn_plan_train *w0,
                     int zero, int rcm, const trn_plan_machine *bm,
                     const trn_plan_train_result *top, int found) {
    int64_t counts[SVG_MAXPTS];
    double x[SVG_MAXPTS], y[SVG_MAXPTS], lin[SVG_MAXPTS];
    int nc = svg_counts(bm->chips, (int64_t)bm->sys->chips.value, counts), n = 0;
    for (int i = 0; i < nc; i++) {
        trn_plan_machine *m = NULL;
        if (trn_plan_machine_create(bm->sys, counts[i], &m, NULL) != TRN_OK) continue;
        op_cost_attach(m); /* as for the planned machine, where it succeeded */
        trn_plan_train w = *w0;
        if (!o->global_batch) w.global_batch = (1024 + m->chips - 1) / m->chips * m->chips;
        trn_plan_pins pins = pins_of(o, zero, rcm);
        trn_plan_train_result r;
        int k = 0;
        if (trn_plan_train_search(m, md, &w, &pins, TRN_PLAN_THROUGHPUT, &r, 1, &k, NULL, NULL) ==
                TRN_OK &&
            k == 1)
            x[n] = (double)m->chips, y[n++] = r.tokens_per_s;
        trn_plan_machine_destroy(m);
    }
    if (!n) {
        cli_error("plan", "--svg: no chip count of the curve has a fitting configuration");
        return CLI_EXIT_FAIL;
    }
    for (int i = 0; i < n; i++) lin[i] = y[0] * x[i] / x[0];
    char title[200], t2[200];
    snprintf(title, sizeof title, "%s training on %s: tokens/s vs chips",
             trn_model_config_of(md)->name, bm->sys->name);
    trn_svg_series ser[2] = {{"trnsim", x, y, n}, {"linear from the first point", x, lin, n}};
    trn_svg_line_chart lc;
    memset(&lc, 0, sizeof lc);
    lc.title = title;
    lc.x.label = "chips";
    lc.x.log = 1;
    lc.y.label = "tokens/s";
    lc.y.log = 1;
    lc.series = ser;
    lc.nseries = n > 1 ? 2 : 1;
    lc.markers = 1;
    /* the breakdown: the best plan and its alternatives, seconds per step */
    const char *rows[8];
    char names[8][64];
    double vals[8 * 8];
    int nr = found < 8 ? found : 8;
    for (int i = 0; i < nr; i++) {
        snprintf(names[i], sizeof names[i], "tp%lld pp%lld cp%lld dp%lld mb%lld z%d %s",
                 (long long)top[i].cfg.tp, (long long)top[i].cfg.pp, (long long)top[i].cfg.cp,
                 (long long)top[i].cfg.dp, (long long)top[i].cfg.microbatches, top[i].cfg.zero,
                 trn_plan_recompute_name(top[i].recompute));
        rows[i] = names[i];
        bd_values(&top[i].bd, 1, vals + 8 * i);
    }
    snprintf(t2, sizeof t2, "time per step on %lld chips, the best plan first",
             (long long)bm->chips);
    trn_svg_stack_chart sc;
    memset(&sc, 0, sizeof sc);
    sc.title = t2;
    sc.x.label = "seconds per step";
    sc.rows = rows;
    sc.nrows = nr;
    sc.parts = bd_parts;
    sc.nparts = 8;
    sc.values = vals;
    (void)cli;
    return svg_write(o->svg, &lc, &sc);
}

static int svg_serve(const wopts *o, const trn_model *md, const trn_plan_serve *w,
                     const trn_plan_machine *bm, const trn_plan_serve_result *best) {
    int64_t counts[SVG_MAXPTS];
    double x[SVG_MAXPTS], y[SVG_MAXPTS], lin[SVG_MAXPTS];
    int nc = svg_counts(bm->chips, (int64_t)bm->sys->chips.value, counts), n = 0;
    for (int i = 0; i < nc; i++) {
        trn_plan_machine *m = NULL;
        if (trn_plan_machine_create(bm->sys, counts[i], &m, NULL) != TRN_OK) continue;
        op_cost_attach(m); /* as for the planned machine, where it succeeded */
        trn_plan_pins pins = pins_of(o, -1, -1);
        trn_plan_serve_result r;
        int k = 0;
        if (trn_plan_serve_search(m, md, w, &pins, TRN_PLAN_THROUGHPUT, &r, 1, &k, NULL, NULL) ==
                TRN_OK &&
            k == 1)
            x[n] = (double)m->chips, y[n++] = r.throughput_tokens_per_s;
        trn_plan_machine_destroy(m);
    }
    if (!n) {
        cli_error("plan", "--svg: no chip count of the curve has a fitting configuration");
        return CLI_EXIT_FAIL;
    }
    for (int i = 0; i < n; i++) lin[i] = y[0] * x[i] / x[0];
    char title[200];
    snprintf(title, sizeof title, "%s serving on %s: output tokens/s vs chips",
             trn_model_config_of(md)->name, bm->sys->name);
    trn_svg_series ser[2] = {{"trnsim", x, y, n}, {"linear from the first point", x, lin, n}};
    trn_svg_line_chart lc;
    memset(&lc, 0, sizeof lc);
    lc.title = title;
    lc.x.label = "chips";
    lc.x.log = 1;
    lc.y.label = "output tokens/s";
    lc.y.log = 1;
    lc.series = ser;
    lc.nseries = n > 1 ? 2 : 1;
    lc.markers = 1;
    /* prefill and one decode step of the best plan, each in % of its own time */
    const char *rows[2] = {"prefill (TTFT)", "decode step (TPOT)"};
    double vals[16];
    bd_values(&best->prefill, 100 / best->ttft_s, vals);
    bd_values(&best->decode, 100 / best->tpot_s, vals + 8);
    trn_svg_stack_chart sc;
    memset(&sc, 0, sizeof sc);
    sc.title = "where the time goes (% of TTFT and of TPOT)";
    sc.x.label = "% of the phase";
    sc.x.fixed = 1;
    sc.x.min = 0;
    sc.x.max = 100;
    sc.rows = rows;
    sc.nrows = 2;
    sc.parts = bd_parts;
    sc.nparts = 8;
    sc.values = vals;
    return svg_write(o->svg, &lc, &sc);
}

static int plan_train(trn_cli *cli, int argc, char **argv) {
    wopts o;
    int rc = parse_wopts(W_TRAIN, argc, argv, &o);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    trn_plan_objective obj;
    int zero, rcm;
    if (!parse_objective(o.objective, &obj) || !parse_zero_rc(&o, &zero, &rcm))
        return CLI_EXIT_USAGE;
    trn_plan_train w = {0, (int64_t)o.global_batch, TRN_HW_BF16, 0};
    if (o.precision && !trn_plan_dtype_from_name(o.precision, &w.precision)) {
        cli_error("plan", "--precision: expected bf16, fp8 or mxfp8, got '%s'", o.precision);
        return CLI_EXIT_USAGE;
    }
    int top_k = o.top ? (int)(o.top > 100 ? 100 : o.top) : 5;
    trn_model *md = NULL;
    if ((rc = load_model(o.model, &md))) return rc;
    if (!op_cost_setup(cli, &o, md)) {
        trn_model_destroy(md);
        return CLI_EXIT_USAGE;
    }
    const trn_model_config *mc = trn_model_config_of(md);
    w.seq_len =
        o.seq_len ? (int64_t)o.seq_len : (mc->max_positions < 4096 ? mc->max_positions : 4096);
    trn_model_params mp;
    trn_model_params_of(md, &mp);
    w.tokens = o.tokens > 0 ? o.tokens : 20.0 * (double)mp.active;
    const trn_hw_system *sys = trn_hw_system_get(cli->hw, o.system);
    int64_t counts[256];
    int nc = sys ? chip_counts(sys, &o, obj, counts, 256) : 1;
    if (!sys) counts[0] = 0;
    trn_plan_train_result *top = calloc((size_t)top_k, sizeof *top), *best = NULL;
    trn_plan_train_result *cand = calloc((size_t)top_k, sizeof *cand);
    trn_plan_machine *bm = NULL;
    trn_plan_search_stats total = {0, 0};
    trn_err err = {0}, first_err = {0};
    trn_status first_s = TRN_OK;
    int found = 0;
    rc = 0;
    for (int i = 0; i < nc && top && cand; i++) {
        trn_plan_machine *m = NULL;
        if ((rc = make_machine(cli, &o, counts[i], &m))) break;
        if ((rc = check_pins(&o, mc, m->chips, w.seq_len, W_TRAIN))) {
            trn_plan_machine_destroy(m);
            if (nc > 1) {
                rc = 0;
                continue;
            }
            break;
        }
        trn_plan_pins pins = pins_of(&o, zero, rcm);
        trn_plan_search_stats st;
        int n = 0;
        /* default global batch: the smallest multiple of the chips >= 1024 (dp = chips is
         * then always legal) */
        if (!o.global_batch) w.global_batch = (1024 + m->chips - 1) / m->chips * m->chips;
        trn_status s = trn_plan_train_search(m, md, &w, &pins, obj, cand, top_k, &n, &st, &err);
        total.evaluated += st.evaluated, total.fitting += st.fitting;
        if (s != TRN_OK) {
            if (first_s == TRN_OK) first_s = s, first_err = err;
            trn_plan_machine_destroy(m);
            if (s != TRN_E_RANGE && s != TRN_E_INVALID) break;
            continue;
        }
        double cs = cand[0].usd_per_hour / cand[0].tokens_per_s;
        if (!best || cs < best->usd_per_hour / best->tokens_per_s) {
            memcpy(top, cand, (size_t)n * sizeof *top);
            found = n;
            best = top;
            trn_plan_machine_destroy(bm);
            bm = m;
        } else {
            trn_plan_machine_destroy(m);
        }
    }
    if (!rc && (!top || !cand)) {
        cli_error("plan", "out of memory");
        rc = CLI_EXIT_FAIL;
    }
    if (!rc && !best) {
        cli_error("plan", "train: %s", first_err.msg);
        rc = status_exit(first_s);
    }
    if (!rc) {
        trn_plan_train_result *r = &top[0];
        if (o.json) {
            cJSON *j = cJSON_CreateObject();
            head_json(j, "train", mc, bm, obj);
            cJSON_AddNumberToObject(j, "seq_len", (double)w.seq_len);
            cJSON_AddNumberToObject(j, "global_batch", (double)w.global_batch);
            cJSON_AddStringToObject(j, "precision", o.precision ? o.precision : "bf16");
            merge(j, train_json(r));
            cJSON_AddNumberToObject(j, "tokens_to_train", w.tokens);
            cJSON_AddNumberToObject(j, "time_to_train_s", r->train_time_s);
            cJSON_AddNumberToObject(j, "cost_to_train_usd", r->cost_usd);
            cJSON_AddNumberToObject(j, "energy_to_train_j", r->energy_j);
            cJSON *alt = cJSON_AddArrayToObject(j, "alternatives");
            for (int i = 1; i < found; i++) cJSON_AddItemToArray(alt, train_json(&top[i]));
            cJSON *se = cJSON_AddObjectToObject(j, "search");
            cJSON_AddNumberToObject(se, "evaluated", (double)total.evaluated);
            cJSON_AddNumberToObject(se, "fitting", (double)total.fitting);
            rc = print_json_doc(j);
        } else {
            double peak = bm->roof.peak_flops[w.precision];
            printf("plan train: %s on %lld x %s (%s), seq-len %lld, global batch %lld, %s, "
                   "objective %s\n",
                   mc->name, (long long)bm->chips, bm->device, bm->sys->name, (long long)w.seq_len,
                   (long long)w.global_batch, o.precision ? o.precision : "bf16",
                   o.objective ? o.objective : "throughput");
            op_cost_text(bm);
            printf("searched %lld configurations, %lld fit\n\nbest: ", (long long)total.evaluated,
                   (long long)total.fitting);
            cfg_text(&r->cfg, 1);
            printf(", recompute %s\n", trn_plan_recompute_name(r->recompute));
            printf("  step time        %.4g s\n", r->step_time_s);
            printf("  tokens/s         %.0f (%.0f per chip)\n", r->tokens_per_s,
                   r->tokens_per_s / (double)bm->chips);
            printf("  MFU              %.1f%% (6N + attention FLOPs over %.0f TFLOP/s per chip)\n",
                   100 * r->mfu, peak / 1e12);
            mem_text(&r->mem);
            bd_text("breakdown", &r->bd);
            printf("  limited by       %s\n", trn_plan_limiter(&r->bd));
            printf("  to train %.3g tokens: %.2f days, $%.4g at %.4g $/chip-hour (%s), %.4g MWh "
                   "at %.1f kW average (PUE %.2f)\n",
                   w.tokens, r->train_time_s / 86400, r->cost_usd, bm->price_usd_per_chip_hour,
                   origin_word(bm->price_origin), r->energy_j / 3.6e9, r->power_w / 1e3, bm->pue);
            if (found > 1) {
                printf("\nalternatives\n   tp   pp   cp     dp   ep    mb zero recompute   step_s "
                       "     tokens/s   MFU  mem GiB  limited by\n");
                for (int i = 1; i < found; i++) {
                    const trn_plan_train_result *a = &top[i];
                    printf("  %3lld %4lld %4lld %6lld %4lld %5lld %4d %-9s %8.4g %13.0f %5.1f%% "
                           "%7.1f  %s\n",
                           (long long)a->cfg.tp, (long long)a->cfg.pp, (long long)a->cfg.cp,
                           (long long)a->cfg.dp, (long long)a->cfg.ep,
                           (long long)a->cfg.microbatches, a->cfg.zero,
                           trn_plan_recompute_name(a->recompute), a->step_time_s, a->tokens_per_s,
                           100 * a->mfu, a->mem.total / GIB, trn_plan_limiter(&a->bd));
                }
            }
        }
    }
    if (!rc && o.svg) rc = svg_train(cli, &o, md, &w, zero, rcm, bm, top, found);
    trn_plan_machine_destroy(bm);
    free(top);
    free(cand);
    trn_model_destroy(md);
    return rc;
}

static int parse_serve_weights(const char *s, trn_plan_weights *out) {
    static const char *const names[] = {"model", "bf16", "fp8", "mxfp4"};
    if (!s) {
        *out = TRN_PLAN_W_MODEL;
        return 1;
    }
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (trn_plan_weights)i;
            return 1;
        }
    cli_error("plan", "--precision: expected model, bf16, fp8 or mxfp4, got '%s'", s);
    return 0;
}

/* Request-rate mode: the chosen configuration's replica under Poisson arrivals (plan_des.h). */
static int run_des(const trn_plan_machine *m, const trn_model *md, const trn_plan_serve *w,
                   const trn_plan_serve_result *r, const wopts *o, cJSON *j) {
    trn_plan_des_ctx dc = {m, md, w, &r->cfg};
    int64_t per_rep = r->max_batch / r->cfg.dp;
    trn_des_config c;
    memset(&c, 0, sizeof c);
    c.request_rate_per_s = o->request_rate / (double)r->cfg.dp;
    c.num_requests = o->requests ? (int64_t)o->requests : 1000;
    c.seed = o->seed ? o->seed : 1;
    c.input_min = c.input_max = w->input_len;
    c.output_min = c.output_max = w->output_len;
    c.max_batch = per_rep < 1 ? 1 : per_rep;
    c.kv_capacity_tokens = c.max_batch * (w->input_len + w->output_len);
    c.policy = TRN_DES_MIXED;
    c.step_time_s = trn_plan_des_step;
    c.step_ctx = &dc;
    c.warmup_fraction = 0.1;
    trn_des_result res;
    trn_err err = {0};
    if (trn_des_run(&c, &res, &err) != TRN_OK) {
        cli_error("plan", "--request-rate: %s", err.msg);
        return CLI_EXIT_USAGE;
    }
    double dp = (double)r->cfg.dp;
    if (j) {
        cJSON *d = cJSON_AddObjectToObject(j, "request_rate");
        cJSON_AddNumberToObject(d, "requests_per_s", o->request_rate);
        cJSON_AddNumberToObject(d, "replicas", dp);
        cJSON_AddNumberToObject(d, "requests_simulated_per_replica", (double)res.requests);
        const struct {
            const char *k;
            const trn_des_dist *v;
        } ds[] = {{"ttft_ms", &res.ttft_s}, {"tpot_ms", &res.tpot_s}, {"e2e_ms", &res.e2e_s}};
        for (int i = 0; i < 3; i++) {
            cJSON *x = cJSON_AddObjectToObject(d, ds[i].k);
            cJSON_AddNumberToObject(x, "p50", ds[i].v->p50 * 1e3);
            cJSON_AddNumberToObject(x, "p90", ds[i].v->p90 * 1e3);
            cJSON_AddNumberToObject(x, "p99", ds[i].v->p99 * 1e3);
        }
        cJSON_AddNumberToObject(d, "throughput_tokens_per_s", res.output_tokens_per_s * dp);
        cJSON_AddNumberToObject(d, "mean_batch_per_replica", res.mean_batch);
        cJSON_AddBoolToObject(d, "saturated", res.saturated);
    } else {
        printf("\nrequest rate %.4g/s over %lld replicas (%lld requests per replica simulated, "
               "continuous batching up to %lld, seed %llu)%s\n",
               o->request_rate, (long long)r->cfg.dp, (long long)res.requests,
               (long long)c.max_batch, (unsigned long long)c.seed,
               res.saturated ? ": SATURATED, the queue grows" : "");
        printf("  TTFT ms   p50 %.1f  p90 %.1f  p99 %.1f\n", res.ttft_s.p50 * 1e3,
               res.ttft_s.p90 * 1e3, res.ttft_s.p99 * 1e3);
        printf("  TPOT ms   p50 %.2f  p90 %.2f  p99 %.2f\n", res.tpot_s.p50 * 1e3,
               res.tpot_s.p90 * 1e3, res.tpot_s.p99 * 1e3);
        printf("  E2E ms    p50 %.0f  p90 %.0f  p99 %.0f\n", res.e2e_s.p50 * 1e3,
               res.e2e_s.p90 * 1e3, res.e2e_s.p99 * 1e3);
        printf("  throughput %.0f output tokens/s, mean batch %.1f per replica\n",
               res.output_tokens_per_s * dp, res.mean_batch);
    }
    trn_des_result_fini(&res);
    return 0;
}

static void serve_text(const trn_plan_machine *m, const trn_plan_serve_result *r,
                       const trn_plan_serve *w) {
    printf("best: ");
    cfg_text(&r->cfg, 0);
    printf("; batch %lld (largest that fits: %lld)\n", (long long)r->batch,
           (long long)r->max_batch);
    printf("  TTFT             %.2f ms (prefill of the batch)\n", r->ttft_s * 1e3);
    printf("  TPOT             %.3f ms (decode step at the mean context)\n", r->tpot_s * 1e3);
    printf("  end to end       %.2f ms\n", r->e2e_s * 1e3);
    printf("  throughput       %.0f output tokens/s (%.1f per chip)\n", r->throughput_tokens_per_s,
           r->throughput_per_chip);
    printf("  cost             $%.4g per 1M input tokens, $%.4g per 1M output tokens (prefill time "
           "charged to input, decode to output; %.4g $/chip-hour, %s)\n",
           r->usd_per_1m_input, r->usd_per_1m_output, m->price_usd_per_chip_hour,
           origin_word(m->price_origin));
    printf("  energy           %.4g J per output token (%.4g J per input token in prefill, %.4g J "
           "per output token in decode; PUE %.2f)\n",
           r->joules_per_token, r->joules_per_input_token, r->joules_per_output_token, m->pue);
    mem_text(&r->mem);
    bd_text("prefill", &r->prefill);
    bd_text("decode step", &r->decode);
    printf("  limited by       prefill: %s; decode: %s\n", trn_plan_limiter(&r->prefill),
           trn_plan_limiter(&r->decode));
    (void)w;
}

static int plan_serve(trn_cli *cli, int argc, char **argv) {
    wopts o;
    int rc = parse_wopts(W_SERVE, argc, argv, &o);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    trn_plan_objective obj;
    trn_plan_serve w = {o.input_len ? (int64_t)o.input_len : 2048,
                        o.output_len ? (int64_t)o.output_len : 256,
                        (int64_t)o.batch,
                        TRN_PLAN_W_MODEL,
                        TRN_DTYPE_BF16,
                        o.ttft_slo_ms / 1e3,
                        o.tpot_slo_ms / 1e3};
    if (!parse_objective(o.objective, &obj) || !parse_serve_weights(o.precision, &w.weights) ||
        !parse_kv(o.kv, &w.kv_dtype))
        return CLI_EXIT_USAGE;
    if (o.request_rate > 0 && o.batch) {
        cli_error("plan", "serve: --batch and --request-rate exclude each other (batch mode or "
                          "request-rate mode)");
        return CLI_EXIT_USAGE;
    }
    int top_k = o.top ? (int)(o.top > 100 ? 100 : o.top) : 5;
    trn_model *md = NULL;
    if ((rc = load_model(o.model, &md))) return rc;
    if (!op_cost_setup(cli, &o, md)) {
        trn_model_destroy(md);
        return CLI_EXIT_USAGE;
    }
    const trn_model_config *mc = trn_model_config_of(md);
    /* default lengths within the model's positions: the output first, the prompt the rest */
    if (!o.output_len && w.output_len >= mc->max_positions) w.output_len = mc->max_positions / 8;
    if (!o.input_len && w.input_len + w.output_len > mc->max_positions)
        w.input_len = mc->max_positions - w.output_len;
    const trn_hw_system *sys = trn_hw_system_get(cli->hw, o.system);
    int64_t counts[256];
    int nc = sys ? chip_counts(sys, &o, obj, counts, 256) : 1;
    if (!sys) counts[0] = 0;
    trn_plan_serve_result *top = calloc((size_t)top_k, sizeof *top), *best = NULL;
    trn_plan_serve_result *cand = calloc((size_t)top_k, sizeof *cand);
    trn_plan_machine *bm = NULL;
    trn_plan_search_stats total = {0, 0};
    trn_err err = {0}, first_err = {0};
    trn_status first_s = TRN_OK;
    int found = 0;
    rc = 0;
    for (int i = 0; i < nc && top && cand; i++) {
        trn_plan_machine *m = NULL;
        if ((rc = make_machine(cli, &o, counts[i], &m))) break;
        if ((rc = check_pins(&o, mc, m->chips, 1, W_SERVE))) {
            trn_plan_machine_destroy(m);
            if (nc > 1) {
                rc = 0;
                continue;
            }
            break;
        }
        trn_plan_pins pins = pins_of(&o, -1, -1);
        trn_plan_search_stats st;
        int n = 0;
        trn_status s = trn_plan_serve_search(m, md, &w, &pins, obj, cand, top_k, &n, &st, &err);
        total.evaluated += st.evaluated, total.fitting += st.fitting;
        if (s != TRN_OK) {
            if (first_s == TRN_OK) first_s = s, first_err = err;
            trn_plan_machine_destroy(m);
            if (s != TRN_E_RANGE && s != TRN_E_INVALID) break;
            continue;
        }
        double cs = cand[0].usd_per_hour / cand[0].throughput_tokens_per_s;
        if (!best || cs < best->usd_per_hour / best->throughput_tokens_per_s) {
            memcpy(top, cand, (size_t)n * sizeof *top);
            found = n;
            best = top;
            trn_plan_machine_destroy(bm);
            bm = m;
        } else {
            trn_plan_machine_destroy(m);
        }
    }
    if (!rc && (!top || !cand)) {
        cli_error("plan", "out of memory");
        rc = CLI_EXIT_FAIL;
    }
    if (!rc && !best) {
        cli_error("plan", "serve: %s", first_err.msg);
        rc = status_exit(first_s);
    }
    if (!rc) {
        if (o.json) {
            cJSON *j = cJSON_CreateObject();
            head_json(j, "serve", mc, bm, obj);
            cJSON_AddNumberToObject(j, "input_len", (double)w.input_len);
            cJSON_AddNumberToObject(j, "output_len", (double)w.output_len);
            cJSON_AddStringToObject(j, "precision", o.precision ? o.precision : "model");
            merge(j, serve_json(&top[0]));
            cJSON *alt = cJSON_AddArrayToObject(j, "alternatives");
            for (int i = 1; i < found; i++) cJSON_AddItemToArray(alt, serve_json(&top[i]));
            cJSON *se = cJSON_AddObjectToObject(j, "search");
            cJSON_AddNumberToObject(se, "evaluated", (double)total.evaluated);
            cJSON_AddNumberToObject(se, "fitting", (double)total.fitting);
            if (o.request_rate > 0) rc = run_des(bm, md, &w, &top[0], &o, j);
            if (rc)
                cJSON_Delete(j);
            else
                rc = print_json_doc(j);
        } else {
            printf("plan serve: %s on %lld x %s (%s), input %lld, output %lld tokens, weights %s, "
                   "KV %s, objective %s\n",
                   mc->name, (long long)bm->chips, bm->device, bm->sys->name,
                   (long long)w.input_len, (long long)w.output_len,
                   o.precision ? o.precision : "model", o.kv ? o.kv : "bf16",
                   o.objective ? o.objective : "throughput");
            if (w.ttft_slo_s > 0 || w.tpot_slo_s > 0)
                printf("SLO: TTFT <= %g ms, TPOT <= %g ms (0: none)\n", o.ttft_slo_ms,
                       o.tpot_slo_ms);
            op_cost_text(bm);
            printf("searched %lld configurations, %lld fit\n\n", (long long)total.evaluated,
                   (long long)total.fitting);
            serve_text(bm, &top[0], &w);
            if (found > 1) {
                printf("\nalternatives\n   tp   pp     dp   ep    batch    TTFT ms   TPOT ms   "
                       "tokens/s  $/1M in  $/1M out  J/token\n");
                for (int i = 1; i < found; i++) {
                    const trn_plan_serve_result *a = &top[i];
                    printf("  %3lld %4lld %6lld %4lld %8lld %10.1f %9.3f %10.0f %8.4g %9.4g "
                           "%8.4g\n",
                           (long long)a->cfg.tp, (long long)a->cfg.pp, (long long)a->cfg.dp,
                           (long long)a->cfg.ep, (long long)a->batch, a->ttft_s * 1e3,
                           a->tpot_s * 1e3, a->throughput_tokens_per_s, a->usd_per_1m_input,
                           a->usd_per_1m_output, a->joules_per_token);
                }
            }
            if (o.request_rate > 0) rc = run_des(bm, md, &w, &top[0], &o, NULL);
        }
    }
    if (!rc && o.svg) rc = svg_serve(&o, md, &w, bm, &top[0]);
    trn_plan_machine_destroy(bm);
    free(top);
    free(cand);
    trn_model_destroy(md);
    return rc;
}

static int plan_rl(trn_cli *cli, int argc, char **argv) {
    wopts o;
    int rc = parse_wopts(W_RL, argc, argv, &o);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    trn_plan_objective obj;
    int zero, rcm;
    trn_plan_rl w = {o.input_len ? (int64_t)o.input_len : 1024,
                     o.output_len ? (int64_t)o.output_len : 1024, o.batch ? (int64_t)o.batch : 256,
                     TRN_HW_BF16, TRN_DTYPE_BF16};
    if (!parse_objective(o.objective, &obj) || !parse_zero_rc(&o, &zero, &rcm) ||
        !parse_kv(o.kv, &w.kv_dtype))
        return CLI_EXIT_USAGE;
    if (o.precision && !trn_plan_dtype_from_name(o.precision, &w.precision)) {
        cli_error("plan", "--precision: expected bf16, fp8 or mxfp8, got '%s'", o.precision);
        return CLI_EXIT_USAGE;
    }
    trn_model *md = NULL;
    if ((rc = load_model(o.model, &md))) return rc;
    if (!op_cost_setup(cli, &o, md)) {
        trn_model_destroy(md);
        return CLI_EXIT_USAGE;
    }
    const trn_model_config *mc = trn_model_config_of(md);
    trn_plan_machine *m = NULL;
    if ((rc = make_machine(cli, &o, (int64_t)o.chips, &m)) ||
        (rc = check_pins(&o, mc, m->chips, w.input_len + w.output_len, W_RL))) {
        trn_plan_machine_destroy(m);
        trn_model_destroy(md);
        return rc;
    }
    trn_plan_pins pins = pins_of(&o, zero, rcm);
    trn_plan_rl_result r;
    trn_err err = {0};
    trn_status s = trn_plan_rl_search(m, md, &w, &pins, obj, &r, &err);
    if (s != TRN_OK) {
        cli_error("plan", "rl: %s", err.msg);
        rc = status_exit(s);
    } else if (o.json) {
        cJSON *j = cJSON_CreateObject();
        head_json(j, "rl", mc, m, obj);
        cJSON_AddNumberToObject(j, "input_len", (double)w.input_len);
        cJSON_AddNumberToObject(j, "output_len", (double)w.output_len);
        cJSON_AddNumberToObject(j, "rollouts", (double)w.rollouts);
        cJSON_AddNumberToObject(j, "step_time_s", r.step_time_s);
        cJSON_AddNumberToObject(j, "usd_per_step", r.usd_per_step);
        cJSON_AddNumberToObject(j, "energy_per_step_j", r.energy_j_per_step);
        cJSON_AddItemToObject(j, "config", cfg_json(&r.update.cfg, r.update.recompute));
        cJSON *ro = serve_json(&r.rollout);
        cJSON_AddNumberToObject(ro, "time_s", r.rollout_s);
        cJSON_AddNumberToObject(ro, "waves", (double)r.rollout_waves);
        cJSON_AddStringToObject(ro, "limited_by", trn_plan_limiter(&r.rollout_bd));
        cJSON_AddItemToObject(j, "rollout", ro);
        cJSON *up = train_json(&r.update);
        cJSON_AddNumberToObject(up, "time_s", r.update.step_time_s);
        cJSON_AddStringToObject(up, "limited_by", trn_plan_limiter(&r.update.bd));
        cJSON_AddItemToObject(j, "update", up);
        rc = print_json_doc(j);
    } else {
        printf("plan rl: %s on %lld x %s (%s), %lld rollouts of %lld + %lld tokens, update in %s\n",
               mc->name, (long long)m->chips, m->device, m->sys->name, (long long)w.rollouts,
               (long long)w.input_len, (long long)w.output_len, o.precision ? o.precision : "bf16");
        op_cost_text(m);
        printf(
            "step %.4g s: rollout %.4g s + policy update %.4g s; $%.4g and %.4g kWh per step\n\n",
            r.step_time_s, r.rollout_s, r.update.step_time_s, r.usd_per_step,
            r.energy_j_per_step / 3.6e6);
        printf("rollout (%lld wave%s, bf16 weights), limited by %s\n", (long long)r.rollout_waves,
               r.rollout_waves == 1 ? "" : "s", trn_plan_limiter(&r.rollout_bd));
        serve_text(m, &r.rollout, NULL);
        printf("\npolicy update, limited by %s\nbest: ", trn_plan_limiter(&r.update.bd));
        cfg_text(&r.update.cfg, 1);
        printf(", recompute %s\n  step time        %.4g s, %.0f tokens/s, MFU %.1f%%\n",
               trn_plan_recompute_name(r.update.recompute), r.update.step_time_s,
               r.update.tokens_per_s, 100 * r.update.mfu);
        mem_text(&r.update.mem);
        bd_text("breakdown", &r.update.bd);
    }
    trn_plan_machine_destroy(m);
    trn_model_destroy(md);
    return rc;
}

int cmd_plan(trn_cli *cli, int argc, char **argv) {
    if (argc < 2) {
        cli_error("plan", "expected a subcommand: model, train, serve or rl (try `trnsim plan "
                          "--help`)");
        return CLI_EXIT_USAGE;
    }
    if (cli_is_help(argv[1])) {
        help();
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "model") == 0) return plan_model(argc - 1, argv + 1);
    int rc = -1;
    if (strcmp(argv[1], "train") == 0) rc = plan_train(cli, argc - 1, argv + 1);
    if (strcmp(argv[1], "serve") == 0) rc = plan_serve(cli, argc - 1, argv + 1);
    if (strcmp(argv[1], "rl") == 0) rc = plan_rl(cli, argc - 1, argv + 1);
    op_cost_done();
    if (rc >= 0) return rc;
    cli_error("plan", "unknown subcommand '%s' (model, train, serve, rl)", argv[1]);
    return CLI_EXIT_USAGE;
}

/* trnsim plan: the cluster planner. This build has `plan model`: a model's parameter counts
 * (total, MoE active, per component), weight bytes, FLOPs per token at a sequence length and
 * KV-cache bytes per token, from its HF config (src/plan). Workloads come in later parts of
 * issue 5. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "trnsim/model.h"

static void help(void) {
    printf("usage: trnsim plan model NAME|CONFIG.json [--seq-len N] [--kv-dtype D] [--json]\n\n"
           "Counts derived from a model's Hugging Face config.json: parameters (total, MoE\n"
           "active, embedding, attention, MLP, norms), stored weight bytes, FLOPs per token\n"
           "(forward and forward + backward at --seq-len, attention included) and KV-cache\n"
           "bytes per token. NAME is a model of the built-in catalog (models/*.json):\n  ");
    for (int i = 0; i < trn_model_catalog_count(); i++)
        printf("%s%s", trn_model_catalog_name(i), i + 1 < trn_model_catalog_count() ? ", " : "\n");
    printf("or the path of any config.json of these families (llama, mixtral, deepseek_v3,\n"
           "gpt_oss, gpt2, bert).\n\n"
           "  --seq-len N    tokens per sequence for the FLOPs (default 4096, or the model's\n"
           "                 maximum when smaller)\n"
           "  --kv-dtype D   KV-cache element type (default bf16; fp8_e4m3, f32 ...)\n"
           "  --json         machine-readable output\n\n"
           "Formulas and the derived vs published table: docs/planner.md.\n");
}

static void print_text(const trn_model_config *c, const trn_model_params *p, const trn_model_flops *f,
                       int64_t seq, const char *kvdt, double kv) {
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

static int print_json(const trn_model_config *c, const trn_model_params *p, const trn_model_flops *f,
                      int64_t seq, const char *kvdt, double kv) {
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
            help();
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

int cmd_plan(trn_cli *cli, int argc, char **argv) {
    (void)cli;
    if (argc < 2) {
        cli_error("plan", "expected a subcommand: model (try `trnsim plan --help`)");
        return CLI_EXIT_USAGE;
    }
    if (cli_is_help(argv[1])) {
        help();
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "model") == 0) return plan_model(argc - 1, argv + 1);
    cli_error("plan", "unknown subcommand '%s' (this build has: model)", argv[1]);
    return CLI_EXIT_USAGE;
}

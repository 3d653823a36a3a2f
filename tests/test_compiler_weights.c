/* The weight loader: F32 / F16 / BF16 tensors and GPT-OSS MXFP4 blocks/scales convert
 * exactly to FP32, sharded checkpoints load through model.safetensors.index.json, random
 * weights are deterministic and sensibly scaled, and every bad checkpoint (missing tensor,
 * wrong shape, wrong dtype, truncated file, bad header, bad index) fails with TRN_E_* and a
 * message naming the file and the tensor.
 * LABELS: unit */
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "trnsim/graph.h"
#include "trnsim/io.h"

static const char *const LLAMA_CFG =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64, \"intermediate_size\": 128,"
    " \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2,"
    " \"vocab_size\": 256, \"max_position_embeddings\": 128}";
static const char *const OSS_CFG =
    "{\"architectures\": [\"GptOssForCausalLM\"], \"hidden_size\": 64, \"intermediate_size\": 32,"
    " \"num_hidden_layers\": 1, \"num_attention_heads\": 4, \"num_key_value_heads\": 2,"
    " \"head_dim\": 16, \"num_local_experts\": 3, \"num_experts_per_tok\": 2, \"vocab_size\": 64,"
    " \"max_position_embeddings\": 64, \"sliding_window\": 8, \"layer_types\":"
    " [\"sliding_attention\"], \"quantization_config\": {\"quant_method\": \"mxfp4\"}}";
static const char *const MIXTRAL_CFG =
    "{\"architectures\": [\"MixtralForCausalLM\"], \"hidden_size\": 32, \"intermediate_size\": 48,"
    " \"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"num_key_value_heads\": 1,"
    " \"num_local_experts\": 3, \"num_experts_per_tok\": 2, \"vocab_size\": 50,"
    " \"max_position_embeddings\": 32}";

static char dir[64];

static const char *at(const char *file) {
    static char p[4][160];
    static int k;
    char *s = p[k++ % 4];
    snprintf(s, 160, "%s/%s", dir, file);
    return s;
}

static trn_model *parse(const char *name, const char *json) {
    trn_model *m = NULL;
    trn_err err = {0};
    CHECK_MSG(trn_model_parse(name, json, &m, &err) == TRN_OK, "%s", err.msg);
    return m;
}

/* All tensors of a .safetensors file, read back as arrays. */
typedef struct filecopy {
    size_t n;
    char **names;
    trn_array *arrays;
} filecopy;

static void read_all(const char *path, filecopy *fc) {
    trn_safetensors *st = NULL;
    trn_err err = {0};
    memset(fc, 0, sizeof *fc);
    CHECK_MSG(trn_safetensors_open(path, &st, &err) == TRN_OK, "%s", err.msg);
    if (!st) return;
    fc->n = trn_safetensors_count(st);
    fc->names = calloc(fc->n, sizeof *fc->names);
    fc->arrays = calloc(fc->n, sizeof *fc->arrays);
    for (size_t i = 0; i < fc->n; i++) {
        const trn_tensor_info *t = trn_safetensors_tensor(st, i);
        fc->names[i] = strdup(t->name);
        CHECK(trn_safetensors_read_array(st, t->name, &fc->arrays[i], &err) == TRN_OK);
    }
    trn_safetensors_close(st);
}

static void free_all(filecopy *fc) {
    for (size_t i = 0; i < fc->n; i++) {
        free(fc->names[i]);
        trn_array_fini(&fc->arrays[i]);
    }
    free(fc->names);
    free(fc->arrays);
}

/* Writes fc to `path`, leaving out `skip` and replacing `swap` with `with` (may be NULL). */
static void write_variant(const filecopy *fc, const char *path, const char *skip, const char *swap,
                          const trn_array *with) {
    trn_named_array *l = calloc(fc->n, sizeof *l);
    size_t n = 0;
    for (size_t i = 0; i < fc->n; i++) {
        if (skip && strcmp(fc->names[i], skip) == 0) continue;
        l[n].name = fc->names[i];
        l[n].array = swap && strcmp(fc->names[i], swap) == 0 ? with : &fc->arrays[i];
        n++;
    }
    trn_err err = {0};
    CHECK_MSG(trn_safetensors_write(path, l, n, NULL, 0, &err) == TRN_OK, "%s", err.msg);
    free(l);
}

static trn_status load_err(const trn_model *m, const char *path, trn_err *err) {
    trn_weights *w = NULL;
    trn_status s = trn_weights_load(m, path, &w, err);
    CHECK(s == TRN_OK ? w != NULL : w == NULL);
    trn_weights_destroy(w);
    return s;
}

static void test_bad_checkpoints(void) {
    trn_model *m = parse("llama.json", LLAMA_CFG);
    trn_weights *w = NULL;
    trn_err err = {0};
    CHECK(trn_weights_random(m, 1, 0.02, &w, &err) == TRN_OK);
    const char *good = at("good.safetensors");
    CHECK(trn_weights_save(w, good, TRN_IO_F32, &err) == TRN_OK);
    CHECK(load_err(m, good, &err) == TRN_OK);
    filecopy fc;
    read_all(good, &fc);
    const char *victim = "model.layers.1.mlp.up_proj.weight";

    /* missing tensor */
    const char *p = at("missing.safetensors");
    write_variant(&fc, p, victim, NULL, NULL);
    CHECK(load_err(m, p, &err) == TRN_E_NOTFOUND);
    CHECK_CONTAINS(err.msg, p);
    CHECK_CONTAINS(err.msg, "tensor 'model.layers.1.mlp.up_proj.weight' missing");
    CHECK_CONTAINS(err.msg, "[128, 64]");

    /* wrong shape: [64, 128] instead of [128, 64] */
    trn_array bad = {0};
    CHECK(trn_array_init(&bad, TRN_IO_F32, 2, (const int64_t[]){64, 128}, &err) == TRN_OK);
    p = at("shape.safetensors");
    write_variant(&fc, p, NULL, victim, &bad);
    CHECK(load_err(m, p, &err) == TRN_E_PARSE);
    CHECK_CONTAINS(err.msg, p);
    CHECK_CONTAINS(err.msg, "tensor 'model.layers.1.mlp.up_proj.weight': shape [64, 128], "
                            "expected [128, 64]");
    trn_array_fini(&bad);

    /* wrong dtype: I32 */
    CHECK(trn_array_init(&bad, TRN_IO_I32, 2, (const int64_t[]){128, 64}, &err) == TRN_OK);
    p = at("dtype.safetensors");
    write_variant(&fc, p, NULL, victim, &bad);
    CHECK(load_err(m, p, &err) == TRN_E_PARSE);
    CHECK_CONTAINS(err.msg, p);
    CHECK_CONTAINS(err.msg, "tensor 'model.layers.1.mlp.up_proj.weight': dtype I32, expected F32, "
                            "F16 or BF16");
    trn_array_fini(&bad);

    /* truncated file: the last 100 bytes cut off */
    void *data = NULL;
    size_t size = 0;
    CHECK(trn_file_read(good, &data, &size, &err) == TRN_OK);
    p = at("truncated.safetensors");
    CHECK(trn_file_write(p, data, size - 100, &err) == TRN_OK);
    CHECK(load_err(m, p, &err) == TRN_E_PARSE);
    CHECK_CONTAINS(err.msg, p);
    CHECK_CONTAINS(err.msg, "loading tensor 'model.embed_tokens.weight'");
    CHECK_CONTAINS(err.msg, "truncated");

    /* bad header: its JSON broken */
    char *bytes = data;
    bytes[8] = '[';
    bytes[9] = '[';
    p = at("header.safetensors");
    CHECK(trn_file_write(p, data, size, &err) == TRN_OK);
    CHECK(load_err(m, p, &err) == TRN_E_PARSE);
    CHECK_CONTAINS(err.msg, p);
    CHECK_CONTAINS(err.msg, "tensor 'model.embed_tokens.weight'");
    CHECK_CONTAINS(err.msg, "header");
    free(data);

    /* no such file or directory */
    CHECK(load_err(m, at("nothing.safetensors"), &err) == TRN_E_IO);
    CHECK_CONTAINS(err.msg, "nothing.safetensors");
    CHECK(load_err(m, dir, &err) == TRN_E_IO); /* a directory without a checkpoint */
    CHECK_CONTAINS(err.msg, "no model.safetensors");

    free_all(&fc);
    trn_weights_destroy(w);
    trn_model_destroy(m);
}

/* A checkpoint split over two files with an index, in a directory: loads to the same values;
 * an index naming a file without the tensor, or missing weight_map, is an error. */
static void test_sharded(void) {
    trn_model *m = parse("llama.json", LLAMA_CFG);
    trn_weights *w = NULL, *l = NULL;
    trn_err err = {0};
    CHECK(trn_weights_random(m, 2, 0.02, &w, &err) == TRN_OK);
    const char *whole = at("whole.safetensors");
    CHECK(trn_weights_save(w, whole, TRN_IO_F32, &err) == TRN_OK);
    filecopy fc;
    read_all(whole, &fc);
    char sub[128];
    snprintf(sub, sizeof sub, "%s/sharded", dir);
    TRN_ASSERT(mkdir(sub, 0700) == 0);
    trn_named_array *a = calloc(fc.n, sizeof *a), *b = calloc(fc.n, sizeof *b);
    size_t na = 0, nb = 0;
    char *index = calloc(1, 65536);
    strcat(index, "{\"metadata\": {\"total_size\": 0}, \"weight_map\": {");
    for (size_t i = 0; i < fc.n; i++) {
        int first = i % 2 == 0;
        trn_named_array *dst = first ? &a[na++] : &b[nb++];
        dst->name = fc.names[i];
        dst->array = &fc.arrays[i];
        char line[256];
        snprintf(line, sizeof line, "%s\"%s\": \"model-0000%d-of-00002.safetensors\"",
                 i ? ", " : "", fc.names[i], first ? 1 : 2);
        strcat(index, line);
    }
    strcat(index, "}}");
    char p1[192], p2[192], pi[192];
    snprintf(p1, sizeof p1, "%s/model-00001-of-00002.safetensors", sub);
    snprintf(p2, sizeof p2, "%s/model-00002-of-00002.safetensors", sub);
    snprintf(pi, sizeof pi, "%s/model.safetensors.index.json", sub);
    CHECK(trn_safetensors_write(p1, a, na, NULL, 0, &err) == TRN_OK);
    CHECK(trn_safetensors_write(p2, b, nb, NULL, 0, &err) == TRN_OK);
    CHECK(trn_file_write(pi, index, strlen(index), &err) == TRN_OK);
    CHECK_MSG(trn_weights_load(m, sub, &l, &err) == TRN_OK, "%s", err.msg);
    if (l) {
        long diff = 0;
        for (int i = 0; i < trn_weights_count(w); i++) {
            int64_t n = 0;
            const float *x = trn_weights_data(w, trn_weights_name(w, i), &n);
            const float *y = trn_weights_data(l, trn_weights_name(w, i), NULL);
            diff += memcmp(x, y, (size_t)n * 4) != 0;
        }
        CHECK_EQ_INT(diff, 0);
    }
    trn_weights_destroy(l);
    /* shard 2 replaced by shard 1: the index points at a file without the tensor */
    CHECK(trn_safetensors_write(p2, a, na, NULL, 0, &err) == TRN_OK);
    CHECK(load_err(m, pi, &err) == TRN_E_PARSE);
    CHECK_CONTAINS(err.msg, "model-00002-of-00002.safetensors: tensor '");
    CHECK_CONTAINS(err.msg, "is not in this file");
    /* an index without weight_map */
    CHECK(trn_file_write(pi, "{\"metadata\": {}}", 16, &err) == TRN_OK);
    CHECK(load_err(m, pi, &err) == TRN_E_PARSE);
    CHECK_CONTAINS(err.msg, "model.safetensors.index.json: weight_map: missing");
    free(index);
    free(a);
    free(b);
    free_all(&fc);
    trn_weights_destroy(w);
    trn_model_destroy(m);
}

/* F16 and BF16 checkpoints load to the RNE-rounded values exactly. */
static void test_half_types(void) {
    trn_model *m = parse("mixtral.json", MIXTRAL_CFG);
    trn_weights *w = NULL;
    trn_err err = {0};
    CHECK(trn_weights_random(m, 3, 0.02, &w, &err) == TRN_OK);
    const trn_io_type types[2] = {TRN_IO_F16, TRN_IO_BF16};
    for (int k = 0; k < 2; k++) {
        const char *p = at(k ? "bf16.safetensors" : "f16.safetensors");
        CHECK(trn_weights_save(w, p, types[k], &err) == TRN_OK);
        /* the file really holds 16-bit per-expert tensors */
        trn_safetensors *st = NULL;
        const trn_tensor_info *t = NULL;
        CHECK(trn_safetensors_open(p, &st, &err) == TRN_OK);
        CHECK(st && trn_safetensors_find(st, "model.layers.0.block_sparse_moe.experts.2.w2.weight",
                                         &t, &err) == TRN_OK);
        if (t) {
            CHECK_EQ_INT(t->type, types[k]);
            CHECK_EQ_INT(t->shape[0], 32);
            CHECK_EQ_INT(t->shape[1], 48);
        }
        trn_safetensors_close(st);
        trn_weights *l = NULL;
        CHECK_MSG(trn_weights_load(m, p, &l, &err) == TRN_OK, "%s", err.msg);
        long bad = 0, changed = 0;
        for (int i = 0; l && i < trn_weights_count(w); i++) {
            int64_t n = 0;
            const float *x = trn_weights_data(w, trn_weights_name(w, i), &n);
            const float *y = trn_weights_data(l, trn_weights_name(w, i), NULL);
            for (int64_t j = 0; j < n; j++) {
                float want = k ? trn_bf16_to_f32(trn_bf16_from_f32(x[j]))
                               : trn_f16_to_f32(trn_f16_from_f32(x[j]));
                bad += test_f32_bits(y[j]) != test_f32_bits(want);
                changed += y[j] != x[j];
            }
        }
        CHECK_EQ_INT(bad, 0);
        CHECK(changed > 0); /* the rounding did happen */
        trn_weights_destroy(l);
    }
    trn_weights_destroy(w);
    trn_model_destroy(m);
}

/* GPT-OSS MXFP4: blocks [E, out, in/32, 16] and scales [E, out, in/32] in the file; one block
 * decoded by hand: element 2j in the low nibble of byte j, value FP4 x 2^(scale - 127). */
static void test_mxfp4(void) {
    trn_model *m = parse("oss.json", OSS_CFG);
    trn_weights *w = NULL, *l = NULL;
    trn_err err = {0};
    CHECK_MSG(trn_weights_random(m, 4, 0.02, &w, &err) == TRN_OK, "%s", err.msg);
    const char *p = at("oss.safetensors");
    CHECK(trn_weights_save(w, p, TRN_IO_BF16, &err) == TRN_OK);
    filecopy fc;
    read_all(p, &fc);
    const trn_array *blk = NULL, *sc = NULL;
    for (size_t i = 0; i < fc.n; i++) {
        if (strcmp(fc.names[i], "model.layers.0.mlp.experts.gate_up_proj_blocks") == 0)
            blk = &fc.arrays[i];
        if (strcmp(fc.names[i], "model.layers.0.mlp.experts.gate_up_proj_scales") == 0)
            sc = &fc.arrays[i];
    }
    CHECK(blk && sc);
    if (blk && sc) {
        CHECK_EQ_INT(blk->type, TRN_IO_U8);
        CHECK_EQ_INT(blk->rank, 4);
        CHECK_EQ_INT(blk->shape[0], 3);
        CHECK_EQ_INT(blk->shape[1], 64); /* 2 x intermediate */
        CHECK_EQ_INT(blk->shape[2], 2);  /* hidden / 32 */
        CHECK_EQ_INT(blk->shape[3], 16);
        CHECK_EQ_INT(sc->rank, 3);
    }
    CHECK_MSG(trn_weights_load(m, p, &l, &err) == TRN_OK, "%s", err.msg);
    const float *gw =
        l ? trn_weights_data(l, "model.layers.0.mlp.experts.gate_up_proj", NULL) : NULL;
    const float *gw0 = trn_weights_data(w, "model.layers.0.mlp.experts.gate_up_proj", NULL);
    if (gw && blk && sc) {
        /* expert 2, output column 5, input rows 32..63 (block 1) */
        static const float fp4[16] = {0,     0.5f,  1,  1.5f,  2,  3,  4,  6,
                                      -0.0f, -0.5f, -1, -1.5f, -2, -3, -4, -6};
        const uint8_t *b = (const uint8_t *)blk->data + ((2 * 64 + 5) * 2 + 1) * 16;
        int s = ((const uint8_t *)sc->data)[(2 * 64 + 5) * 2 + 1];
        long bad = 0;
        for (int j = 0; j < 32; j++) {
            int code = j % 2 ? b[j / 2] >> 4 : b[j / 2] & 15;
            float want = (float)ldexp(fp4[code], s - 127);
            bad += gw[(2 * 64 + 32 + j) * 64 + 5] != want;
        }
        CHECK_EQ_INT(bad, 0);
        /* the random weights were made MXFP4-exact, so the round trip is exact */
        CHECK(memcmp(gw, gw0, 3 * 64 * 64 * 4) == 0);
    }
    trn_weights_destroy(l);
    /* the scales tensor with the wrong dtype */
    trn_array bad = {0};
    CHECK(trn_array_init(&bad, TRN_IO_F32, 3, (const int64_t[]){3, 64, 2}, &err) == TRN_OK);
    const char *q = at("oss-bad.safetensors");
    write_variant(&fc, q, NULL, "model.layers.0.mlp.experts.gate_up_proj_scales", &bad);
    CHECK(load_err(m, q, &err) == TRN_E_PARSE);
    CHECK_CONTAINS(err.msg, "tensor 'model.layers.0.mlp.experts.gate_up_proj_scales': dtype F32, "
                            "expected U8");
    trn_array_fini(&bad);
    free_all(&fc);
    trn_weights_destroy(w);
    trn_model_destroy(m);
}

/* Random weights: deterministic per seed, N(0, std^2) for matrices, 1 + N(0, 0.01) for norms. */
static void test_random(void) {
    trn_model *m = parse("llama.json", LLAMA_CFG);
    trn_weights *a = NULL, *b = NULL, *c = NULL;
    trn_err err = {0};
    CHECK(trn_weights_random(m, 9, 0.02, &a, &err) == TRN_OK);
    CHECK(trn_weights_random(m, 9, 0.02, &b, &err) == TRN_OK);
    CHECK(trn_weights_random(m, 10, 0.02, &c, &err) == TRN_OK);
    int64_t n = 0;
    const float *x = trn_weights_data(a, "model.layers.0.mlp.down_proj.weight", &n);
    const float *y = trn_weights_data(b, "model.layers.0.mlp.down_proj.weight", NULL);
    const float *z = trn_weights_data(c, "model.layers.0.mlp.down_proj.weight", NULL);
    CHECK_EQ_INT(n, 64 * 128);
    CHECK(memcmp(x, y, (size_t)n * 4) == 0);
    CHECK(memcmp(x, z, (size_t)n * 4) != 0);
    double mean = 0, var = 0;
    for (int64_t i = 0; i < n; i++) mean += x[i] / (double)n;
    for (int64_t i = 0; i < n; i++) var += (x[i] - mean) * (x[i] - mean) / (double)n;
    CHECK_NEAR(mean, 0, 3 * 0.02 / sqrt((double)n) + 1e-6);
    CHECK_NEAR(sqrt(var), 0.02, 0.02 * 0.05);
    const float *g = trn_weights_data(a, "model.norm.weight", &n);
    double gm = 0;
    for (int64_t i = 0; i < n; i++) gm += g[i] / (double)n;
    CHECK_NEAR(gm, 1.0, 0.05);
    /* 2 layers x 9 + embed + norm + head */
    CHECK_EQ_INT(trn_weights_count(a), 21);
    trn_weights_destroy(c);
    CHECK(trn_weights_random(m, 9, -1, &c, &err) == TRN_E_RANGE);
    CHECK(c == NULL);
    /* a full-size model is refused up front, nothing allocated */
    trn_model *big = NULL;
    CHECK(trn_model_load("llama-3-8b", &big, &err) == TRN_OK);
    if (big) {
        CHECK(trn_weights_random(big, 1, 0.02, &c, &err) == TRN_E_UNSUPPORTED);
        CHECK_CONTAINS(err.msg, "llama-3-8b: FP32 weights would take 29.9 GiB");
        CHECK(trn_weights_load(big, dir, &c, &err) == TRN_E_UNSUPPORTED);
        CHECK(c == NULL);
    }
    trn_model_destroy(big);
    trn_weights_destroy(a);
    trn_weights_destroy(b);
    trn_model_destroy(m);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/trn_test_cw_XXXXXX");
    TRN_ASSERT(mkdtemp(dir));
    test_bad_checkpoints();
    test_sharded();
    test_half_types();
    test_mxfp4();
    test_random();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return test_summary();
}

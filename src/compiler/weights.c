/* Model weights in FP32 for the reference: loaded from HF .safetensors checkpoints (one file,
 * or a sharded model.safetensors.index.json) with every tensor checked against the graph's
 * weight table, drawn from a seed, and written back out as .safetensors.
 *
 * The weight table is the WEIGHT tensors of a one-token graph of the model: every graph of a
 * model has the same ones. Conversions are exact (F16, BF16 and MXFP4 all widen to FP32).
 *
 * Deliberately left out: memory mapping, lazy or partial loading, FP8 checkpoints
 * (DeepSeek-V3), writing sharded checkpoints. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "trnsim/graph.h"
#include "trnsim/io.h"

typedef struct wentry {
    trn_gtensor t; /* name, shape, layout, source */
    float *data;
    int64_t elems;
} wentry;

struct trn_weights {
    int n;
    wentry *e;
};

void trn_weights_destroy(trn_weights *w) {
    if (!w) return;
    for (int i = 0; i < w->n; i++) free(w->e[i].data);
    free(w->e);
    free(w);
}

int trn_weights_count(const trn_weights *w) {
    return w->n;
}

const char *trn_weights_name(const trn_weights *w, int i) {
    return i >= 0 && i < w->n ? w->e[i].t.name : NULL;
}

float *trn_weights_data(const trn_weights *w, const char *name, int64_t *elems) {
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->e[i].t.name, name) == 0) {
            if (elems) *elems = w->e[i].elems;
            return w->e[i].data;
        }
    return NULL;
}

/* The weight table of m, with zeroed data. */
static trn_status table(const trn_model *m, trn_weights **out, trn_err *err) {
    *out = NULL;
    trn_step st = {1, 0, 1, 0};
    trn_graph *g = NULL;
    trn_status s = trn_graph_build(m, &st, &g, err);
    if (s != TRN_OK) return s;
    int n = 0;
    double bytes = 0;
    for (int i = 0; i < g->ntensors; i++)
        if (g->tensors[i].role == TRN_GROLE_WEIGHT) {
            n++;
            bytes += 4.0 * (double)trn_gtensor_elems(&g->tensors[i]);
        }
    if (bytes > (double)TRN_WEIGHTS_MAX_BYTES) {
        trn_graph_destroy(g);
        return trn_err_set(err, TRN_E_UNSUPPORTED,
                           "%s: FP32 weights would take %.1f GiB, more than the reference's limit "
                           "of %.0f GiB (full-size models run timing-only)",
                           trn_model_config_of(m)->name, bytes / 1073741824.0,
                           (double)TRN_WEIGHTS_MAX_BYTES / 1073741824.0);
    }
    trn_weights *w = calloc(1, sizeof *w);
    if (w) w->e = calloc((size_t)n, sizeof *w->e);
    if (!w || !w->e) {
        trn_graph_destroy(g);
        trn_weights_destroy(w);
        return trn_err_set(err, TRN_E_NOMEM, "out of memory");
    }
    for (int i = 0; i < g->ntensors; i++) {
        const trn_gtensor *t = &g->tensors[i];
        if (t->role != TRN_GROLE_WEIGHT) continue;
        wentry *e = &w->e[w->n++];
        e->t = *t;
        e->elems = trn_gtensor_elems(t);
        e->data = calloc((size_t)e->elems, sizeof(float));
        if (!e->data) {
            trn_graph_destroy(g);
            trn_weights_destroy(w);
            return trn_err_set(err, TRN_E_NOMEM, "out of memory for weight '%s'", t->name);
        }
    }
    trn_graph_destroy(g);
    *out = w;
    return TRN_OK;
}

static void shape_str(int rank, const int64_t *shape, char *buf, size_t n) {
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < rank && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

/* ---- loading ------------------------------------------------------------------------------ */

typedef struct shard {
    char *path;
    trn_safetensors *st; /* opened on first use */
} shard;

typedef struct loader {
    const char *where; /* the file named in "missing" messages: the .safetensors or the index */
    shard *shards;
    int nshards;
    cJSON *index; /* weight_map of an index, or NULL (one file: shards[0]) */
    char *dir;    /* directory of the index, with '/' */
} loader;

static void loader_fini(loader *l) {
    for (int i = 0; i < l->nshards; i++) {
        free(l->shards[i].path);
        trn_safetensors_close(l->shards[i].st);
    }
    free(l->shards);
    cJSON_Delete(l->index);
    free(l->dir);
}

static int is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

static trn_status add_shard(loader *l, const char *path, int *idx, trn_err *err) {
    for (int i = 0; i < l->nshards; i++)
        if (strcmp(l->shards[i].path, path) == 0) {
            *idx = i;
            return TRN_OK;
        }
    shard *s = realloc(l->shards, (size_t)(l->nshards + 1) * sizeof *s);
    if (!s) return trn_err_set(err, TRN_E_NOMEM, "out of memory");
    l->shards = s;
    s[l->nshards].path = malloc(strlen(path) + 1);
    if (!s[l->nshards].path) return trn_err_set(err, TRN_E_NOMEM, "out of memory");
    strcpy(s[l->nshards].path, path);
    s[l->nshards].st = NULL;
    *idx = l->nshards++;
    return TRN_OK;
}

/* path: a .safetensors file, an index .json, or a directory holding one of them. */
static trn_status loader_open(loader *l, const char *path, char *buf, size_t bufn, trn_err *err) {
    memset(l, 0, sizeof *l);
    const char *file = path;
    if (is_dir(path)) {
        snprintf(buf, bufn, "%s/model.safetensors.index.json", path);
        if (!exists(buf)) snprintf(buf, bufn, "%s/model.safetensors", path);
        if (!exists(buf))
            return trn_err_set(err, TRN_E_IO,
                               "%s: no model.safetensors or model.safetensors.index.json in this "
                               "directory",
                               path);
        file = buf;
    }
    l->where = file;
    size_t n = strlen(file);
    int idx = 0;
    if (n < 5 || strcmp(file + n - 5, ".json") != 0) return add_shard(l, file, &idx, err);
    /* a sharded checkpoint: {"metadata": {...}, "weight_map": {"name": "file", ...}} */
    void *text = NULL;
    size_t size = 0;
    trn_status s = trn_file_read(file, &text, &size, err);
    if (s != TRN_OK) return s;
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root) return trn_err_set(err, TRN_E_PARSE, "%s: malformed JSON", file);
    cJSON *wm = cJSON_DetachItemFromObjectCaseSensitive(root, "weight_map");
    cJSON_Delete(root);
    if (!cJSON_IsObject(wm)) {
        cJSON_Delete(wm);
        return trn_err_set(err, TRN_E_PARSE,
                           "%s: weight_map: missing (expected an object of tensor name to file)",
                           file);
    }
    for (cJSON *e = wm->child; e; e = e->next)
        if (!cJSON_IsString(e) || strchr(e->valuestring, '/') || !e->valuestring[0]) {
            cJSON_Delete(wm);
            return trn_err_set(err, TRN_E_PARSE,
                               "%s: weight_map.%s: expected a file name beside the index", file,
                               e->string);
        }
    l->index = wm;
    const char *slash = strrchr(file, '/');
    size_t dn = slash ? (size_t)(slash - file) + 1 : 0;
    l->dir = malloc(dn + 1);
    if (!l->dir) return trn_err_set(err, TRN_E_NOMEM, "out of memory");
    memcpy(l->dir, file, dn);
    l->dir[dn] = '\0';
    return TRN_OK;
}

/* Finds `name`: the open file holding it and its entry. TRN_E_NOTFOUND when absent (no
 * message: the caller says what was expected). Errors opening the file name it. */
static trn_status locate(loader *l, const char *name, trn_safetensors **st,
                         const trn_tensor_info **t, trn_err *err) {
    int idx = 0;
    trn_status s;
    if (l->index) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(l->index, name);
        if (!f) return TRN_E_NOTFOUND;
        char *p = malloc(strlen(l->dir) + strlen(f->valuestring) + 1);
        if (!p) return trn_err_set(err, TRN_E_NOMEM, "out of memory");
        strcpy(p, l->dir);
        strcat(p, f->valuestring);
        s = add_shard(l, p, &idx, err);
        free(p);
        if (s != TRN_OK) return s;
    }
    shard *sh = &l->shards[idx];
    if (!sh->st && (s = trn_safetensors_open(sh->path, &sh->st, err)) != TRN_OK) return s;
    *st = sh->st;
    if (trn_safetensors_find(sh->st, name, t, NULL) != TRN_OK) {
        if (l->index)
            return trn_err_set(err, TRN_E_PARSE,
                               "%s: tensor '%s' is not in this file, which %s names for it",
                               sh->path, name, l->where);
        return TRN_E_NOTFOUND;
    }
    return TRN_OK;
}

/* Reads float tensor `name` of `rank`/`shape` into dst (FP32). GPT-2 checkpoints are saved
 * both with and without the "transformer." prefix; either is accepted. */
static trn_status read_float(loader *l, const char *name, int rank, const int64_t *shape,
                             float *dst, trn_err *err) {
    trn_safetensors *st = NULL;
    const trn_tensor_info *t = NULL;
    char want[96], got[96];
    shape_str(rank, shape, want, sizeof want);
    trn_status s = locate(l, name, &st, &t, err);
    if (s == TRN_E_NOTFOUND && strncmp(name, "transformer.", 12) == 0)
        s = locate(l, name + 12, &st, &t, err);
    if (s == TRN_E_NOTFOUND)
        return trn_err_set(err, TRN_E_NOTFOUND,
                           "%s: tensor '%s' missing (expected F32, F16 or BF16 %s)", l->where, name,
                           want);
    if (s != TRN_OK) return trn_err_prefix(err, "loading tensor '%s': ", name);
    const char *file = trn_safetensors_path(st);
    if (t->type != TRN_IO_F32 && t->type != TRN_IO_F16 && t->type != TRN_IO_BF16)
        return trn_err_set(err, TRN_E_PARSE, "%s: tensor '%s': dtype %s, expected F32, F16 or BF16",
                           file, name, trn_io_type_name(t->type));
    int same = t->rank == rank;
    for (int i = 0; same && i < rank; i++) same = t->shape[i] == shape[i];
    if (!same) {
        shape_str(t->rank, t->shape, got, sizeof got);
        return trn_err_set(err, TRN_E_PARSE, "%s: tensor '%s': shape %s, expected %s", file, name,
                           got, want);
    }
    int64_t n = trn_shape_elems(rank, shape);
    size_t bytes = (size_t)n * trn_io_type_size(t->type);
    void *raw = t->type == TRN_IO_F32 ? (void *)dst : malloc(bytes ? bytes : 1);
    if (!raw) return trn_err_set(err, TRN_E_NOMEM, "out of memory");
    s = trn_safetensors_read(st, t, raw, bytes, err);
    if (s == TRN_OK && t->type != TRN_IO_F32) {
        const uint16_t *h = raw;
        for (int64_t i = 0; i < n; i++)
            dst[i] = t->type == TRN_IO_F16 ? trn_f16_to_f32((trn_f16){h[i]})
                                           : trn_bf16_to_f32((trn_bf16){h[i]});
    }
    if (raw != dst) free(raw);
    if (s != TRN_OK) return trn_err_prefix(err, "loading tensor '%s': ", name);
    return TRN_OK;
}

/* Reads U8 tensor `name` of the given shape into a malloc'd buffer. */
static trn_status read_u8(loader *l, const char *name, int rank, const int64_t *shape,
                          uint8_t **out, trn_err *err) {
    trn_safetensors *st = NULL;
    const trn_tensor_info *t = NULL;
    char want[96], got[96];
    shape_str(rank, shape, want, sizeof want);
    *out = NULL;
    trn_status s = locate(l, name, &st, &t, err);
    if (s == TRN_E_NOTFOUND)
        return trn_err_set(err, TRN_E_NOTFOUND, "%s: tensor '%s' missing (expected U8 %s)",
                           l->where, name, want);
    if (s != TRN_OK) return trn_err_prefix(err, "loading tensor '%s': ", name);
    const char *file = trn_safetensors_path(st);
    if (t->type != TRN_IO_U8)
        return trn_err_set(err, TRN_E_PARSE, "%s: tensor '%s': dtype %s, expected U8 (MXFP4)", file,
                           name, trn_io_type_name(t->type));
    int same = t->rank == rank;
    for (int i = 0; same && i < rank; i++) same = t->shape[i] == shape[i];
    if (!same) {
        shape_str(t->rank, t->shape, got, sizeof got);
        return trn_err_set(err, TRN_E_PARSE, "%s: tensor '%s': shape %s, expected %s", file, name,
                           got, want);
    }
    size_t bytes = (size_t)trn_shape_elems(rank, shape);
    uint8_t *buf = malloc(bytes ? bytes : 1);
    if (!buf) return trn_err_set(err, TRN_E_NOMEM, "out of memory");
    if ((s = trn_safetensors_read(st, t, buf, bytes, err)) != TRN_OK) {
        free(buf);
        return trn_err_prefix(err, "loading tensor '%s': ", name);
    }
    *out = buf;
    return TRN_OK;
}

/* GPT-OSS MXFP4: W[e][i][o] (graph shape [E, in, out]) from blocks [E, out, in/32, 16] and
 * scales [E, out, in/32] (HF integrations/mxfp4.py convert_moe_packed_tensors: element 2j of a
 * block in the low nibble of byte j, value FP4 x 2^(scale - 127), then transposed). */
static trn_status read_mxfp4(loader *l, const wentry *e, trn_err *err) {
    int64_t E = e->t.shape[0], in = e->t.shape[1], out = e->t.shape[2];
    if (in % TRN_MX_BLOCK)
        return trn_err_set(err, TRN_E_UNSUPPORTED,
                           "%s: weight '%s': MXFP4 needs an input width divisible by 32, got %lld",
                           l->where, e->t.name, (long long)in);
    int64_t nb = in / TRN_MX_BLOCK;
    char bn[TRN_GRAPH_NAME_MAX + 16], sn[TRN_GRAPH_NAME_MAX + 16];
    snprintf(bn, sizeof bn, "%s_blocks", e->t.name);
    snprintf(sn, sizeof sn, "%s_scales", e->t.name);
    uint8_t *blocks = NULL, *scales = NULL;
    trn_status s = read_u8(l, bn, 4, (const int64_t[]){E, out, nb, 16}, &blocks, err);
    if (s == TRN_OK) s = read_u8(l, sn, 3, (const int64_t[]){E, out, nb}, &scales, err);
    if (s == TRN_OK) {
        uint8_t codes[TRN_MX_BLOCK];
        for (int64_t x = 0; x < E; x++)
            for (int64_t o = 0; o < out; o++)
                for (int64_t b = 0; b < nb; b++) {
                    int64_t r = (x * out + o) * nb + b;
                    trn_unpack_gptoss_mxfp4(blocks + r * 16, codes);
                    for (int j = 0; j < TRN_MX_BLOCK; j++)
                        e->data[(x * in + b * TRN_MX_BLOCK + j) * out + o] =
                            trn_mx_decode(TRN_DTYPE_FP4_E2M1, scales[r], codes[j]);
                }
    }
    free(blocks);
    free(scales);
    return s;
}

trn_status trn_weights_load(const trn_model *m, const char *path, trn_weights **out, trn_err *err) {
    *out = NULL;
    trn_weights *w = NULL;
    trn_status s = table(m, &w, err);
    if (s != TRN_OK) return s;
    loader l;
    char buf[4096];
    s = loader_open(&l, path, buf, sizeof buf, err);
    for (int i = 0; s == TRN_OK && i < w->n; i++) {
        wentry *e = &w->e[i];
        if (e->t.source == TRN_WSRC_TENSOR) {
            s = read_float(&l, e->t.name, e->t.rank, e->t.shape, e->data, err);
        } else if (e->t.source == TRN_WSRC_STACK) {
            int64_t per = e->elems / e->t.shape[0];
            for (int64_t x = 0; s == TRN_OK && x < e->t.shape[0]; x++) {
                char nm[TRN_GRAPH_NAME_MAX + 16];
                snprintf(nm, sizeof nm, e->t.name, (int)x);
                s = read_float(&l, nm, e->t.rank - 1, e->t.shape + 1, e->data + x * per, err);
            }
        } else {
            s = read_mxfp4(&l, e, err);
        }
    }
    loader_fini(&l);
    if (s != TRN_OK) {
        trn_weights_destroy(w);
        return s;
    }
    *out = w;
    return TRN_OK;
}

/* ---- random weights ----------------------------------------------------------------------- */

static uint64_t fnv1a(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* Standard normal number i of stream `stream` (Box-Muller over two 32-bit words, the first
 * mapped to (0, 1] so the log is finite). */
static double normal(uint64_t stream, uint64_t i) {
    double u1 = ((double)trn_rng_u32(stream, 2 * i) + 1.0) / 4294967296.0;
    double u2 = (double)trn_rng_u32(stream, 2 * i + 1) / 4294967296.0;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

trn_status trn_weights_random(const trn_model *m, uint64_t seed, double std, trn_weights **out,
                              trn_err *err) {
    *out = NULL;
    if (!(std > 0 && std < 1e6))
        return trn_err_set(err, TRN_E_RANGE, "random weights: std %g, expected > 0", std);
    trn_weights *w = NULL;
    trn_status s = table(m, &w, err);
    if (s != TRN_OK) return s;
    for (int i = 0; i < w->n; i++) {
        wentry *e = &w->e[i];
        const char *nm = e->t.name;
        uint64_t stream = seed ^ fnv1a(nm);
        int norm = strstr(nm, "norm") || strstr(nm, ".ln_");
        int sink = ends_with(nm, ".sinks");
        for (int64_t j = 0; j < e->elems; j++) {
            double z = normal(stream, (uint64_t)j);
            e->data[j] = (float)(norm ? 1.0 + 0.1 * z : sink ? z : std * z);
        }
        if (e->t.source == TRN_WSRC_MXFP4) {
            /* round through MXFP4 along the input axis (stride = out), as a checkpoint holds */
            int64_t E = e->t.shape[0], in = e->t.shape[1], o = e->t.shape[2];
            if (in % TRN_MX_BLOCK) {
                trn_weights_destroy(w);
                return trn_err_set(err, TRN_E_UNSUPPORTED,
                                   "weight '%s': MXFP4 needs an input width divisible by 32", nm);
            }
            trn_cvt_opts rne = TRN_CVT_RNE;
            uint8_t sc, codes[TRN_MX_BLOCK];
            for (int64_t x = 0; x < E; x++)
                for (int64_t b = 0; b < in / TRN_MX_BLOCK; b++)
                    for (int64_t c = 0; c < o; c++) {
                        float *p = e->data + (x * in + b * TRN_MX_BLOCK) * o + c;
                        trn_mx_quantize_block(TRN_DTYPE_FP4_E2M1, TRN_SCALE_OCP, p, (ptrdiff_t)o,
                                              &rne, &sc, codes);
                        trn_mx_dequantize_block(TRN_DTYPE_FP4_E2M1, sc, codes, p, (ptrdiff_t)o);
                    }
        }
    }
    *out = w;
    return TRN_OK;
}

/* ---- saving ------------------------------------------------------------------------------- */

typedef struct saver {
    trn_named_array *list;
    trn_array *arrays;
    char **names;
    size_t n, cap;
} saver;

static trn_array *save_slot(saver *sv, const char *name, trn_err *err) {
    if (sv->n == sv->cap) {
        size_t cap = sv->cap ? 2 * sv->cap : 64;
        trn_named_array *l = realloc(sv->list, cap * sizeof *l);
        if (l) sv->list = l;
        trn_array *a = realloc(sv->arrays, cap * sizeof *a);
        if (a) sv->arrays = a;
        char **nm = realloc(sv->names, cap * sizeof *nm);
        if (nm) sv->names = nm;
        if (!l || !a || !nm) {
            trn_err_set(err, TRN_E_NOMEM, "out of memory");
            return NULL;
        }
        sv->cap = cap;
    }
    char *p = malloc(strlen(name) + 1);
    if (!p) {
        trn_err_set(err, TRN_E_NOMEM, "out of memory");
        return NULL;
    }
    strcpy(p, name);
    sv->names[sv->n] = p;
    memset(&sv->arrays[sv->n], 0, sizeof(trn_array));
    return &sv->arrays[sv->n++];
}

static trn_status save_float(saver *sv, const char *name, trn_io_type dt, int rank,
                             const int64_t *shape, const float *src, trn_err *err) {
    trn_array *a = save_slot(sv, name, err);
    if (!a) return TRN_E_NOMEM;
    trn_status s = trn_array_init(a, dt, rank, shape, err);
    if (s != TRN_OK) return s;
    int64_t n = trn_array_elems(a);
    if (dt == TRN_IO_F32) {
        memcpy(a->data, src, (size_t)n * sizeof(float));
    } else {
        uint16_t *h = a->data;
        for (int64_t i = 0; i < n; i++)
            h[i] =
                dt == TRN_IO_F16 ? trn_f16_from_f32(src[i]).bits : trn_bf16_from_f32(src[i]).bits;
    }
    return TRN_OK;
}

static trn_status save_mxfp4(saver *sv, const wentry *e, trn_err *err) {
    int64_t E = e->t.shape[0], in = e->t.shape[1], out = e->t.shape[2], nb = in / TRN_MX_BLOCK;
    char bn[TRN_GRAPH_NAME_MAX + 16], sn[TRN_GRAPH_NAME_MAX + 16];
    snprintf(bn, sizeof bn, "%s_blocks", e->t.name);
    snprintf(sn, sizeof sn, "%s_scales", e->t.name);
    trn_array *ba = save_slot(sv, bn, err);
    if (!ba) return TRN_E_NOMEM;
    trn_status s = trn_array_init(ba, TRN_IO_U8, 4, (const int64_t[]){E, out, nb, 16}, err);
    if (s != TRN_OK) return s;
    trn_array *sa = save_slot(sv, sn, err);
    if (!sa) return TRN_E_NOMEM;
    if ((s = trn_array_init(sa, TRN_IO_U8, 3, (const int64_t[]){E, out, nb}, err)) != TRN_OK)
        return s;
    uint8_t *blocks = ba->data, *scales = sa->data, codes[TRN_MX_BLOCK];
    trn_cvt_opts rne = TRN_CVT_RNE;
    for (int64_t x = 0; x < E; x++)
        for (int64_t o = 0; o < out; o++)
            for (int64_t b = 0; b < nb; b++) {
                int64_t r = (x * out + o) * nb + b;
                trn_mx_quantize_block(TRN_DTYPE_FP4_E2M1, TRN_SCALE_OCP,
                                      e->data + (x * in + b * TRN_MX_BLOCK) * out + o,
                                      (ptrdiff_t)out, &rne, &scales[r], codes);
                trn_pack_gptoss_mxfp4(codes, blocks + r * 16);
            }
    return TRN_OK;
}

trn_status trn_weights_save(const trn_weights *w, const char *path, trn_io_type dt, trn_err *err) {
    if (dt != TRN_IO_F32 && dt != TRN_IO_F16 && dt != TRN_IO_BF16)
        return trn_err_set(err, TRN_E_INVALID, "%s: weights are saved as F32, F16 or BF16, not %s",
                           path, trn_io_type_name(dt));
    saver sv = {0};
    trn_status s = TRN_OK;
    for (int i = 0; s == TRN_OK && i < w->n; i++) {
        const wentry *e = &w->e[i];
        if (e->t.source == TRN_WSRC_TENSOR) {
            s = save_float(&sv, e->t.name, dt, e->t.rank, e->t.shape, e->data, err);
        } else if (e->t.source == TRN_WSRC_STACK) {
            int64_t per = e->elems / e->t.shape[0];
            for (int64_t x = 0; s == TRN_OK && x < e->t.shape[0]; x++) {
                char nm[TRN_GRAPH_NAME_MAX + 16];
                snprintf(nm, sizeof nm, e->t.name, (int)x);
                s = save_float(&sv, nm, dt, e->t.rank - 1, e->t.shape + 1, e->data + x * per, err);
            }
        } else {
            s = save_mxfp4(&sv, e, err);
        }
    }
    for (size_t i = 0; i < sv.n; i++) {
        sv.list[i].name = sv.names[i];
        sv.list[i].array = &sv.arrays[i];
    }
    if (s == TRN_OK) s = trn_safetensors_write(path, sv.list, sv.n, NULL, 0, err);
    for (size_t i = 0; i < sv.n; i++) {
        trn_array_fini(&sv.arrays[i]);
        free(sv.names[i]);
    }
    free(sv.list);
    free(sv.arrays);
    free(sv.names);
    return s;
}

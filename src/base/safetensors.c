/* The Hugging Face .safetensors format: an 8-byte little-endian header size N, N bytes of
 * JSON ({"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets"}, ...}), then
 * the data buffer, offsets relative to its start.
 *
 * Opening reads and validates only the header (checkpoints are many GB); tensor bytes are
 * read on demand with pread, so readers on several threads share one handle. The checks are
 * those of the reference implementation (huggingface/safetensors, Metadata::validate): known
 * dtype, size = elements x itemsize, tensors back to back covering the whole buffer.
 * Deliberately left out: mmap, sharded checkpoints, dtypes beyond the reference's list. */
#include "base_impl.h"
#include "trnsim/io.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The reference rejects larger headers (MAX_HEADER_SIZE = 100_000_000). */
#define ST_MAX_HEADER 100000000ULL
/* Integers in the header are read by cJSON as doubles: exact below 2^53 (8 PiB). */
#define ST_MAX_INT 9007199254740992.0

struct trn_safetensors {
    char *path;
    int fd;
    uint64_t data_start; /* 8 + N: file offset of the data buffer */
    uint64_t data_bytes; /* size of the data buffer */
    size_t n;
    trn_tensor_info *t;              /* header order */
    const trn_tensor_info **by_name; /* sorted by name, for find */
    size_t n_meta;
    char **meta; /* key, value, key, value ... */
};

static int cmp_name(const void *a, const void *b) {
    const trn_tensor_info *x = *(const trn_tensor_info *const *)a;
    const trn_tensor_info *y = *(const trn_tensor_info *const *)b;
    return strcmp(x->name, y->name);
}

static int cmp_offset(const void *a, const void *b) {
    const trn_tensor_info *x = *(const trn_tensor_info *const *)a;
    const trn_tensor_info *y = *(const trn_tensor_info *const *)b;
    if (x->begin_bytes != y->begin_bytes) return x->begin_bytes < y->begin_bytes ? -1 : 1;
    if (x->end_bytes != y->end_bytes) return x->end_bytes < y->end_bytes ? -1 : 1;
    return 0;
}

static char *dupstr(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* "[2, 3]" */
static void fmt_dims(char *buf, size_t cap, int rank, const int64_t *shape) {
    size_t o = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < rank && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

static int json_uint(const cJSON *j, uint64_t *v) {
    if (!cJSON_IsNumber(j)) return 0;
    double d = j->valuedouble;
    if (!(d >= 0) || d >= ST_MAX_INT || d != floor(d)) return 0;
    *v = (uint64_t)d;
    return 1;
}

void trn_safetensors_close(trn_safetensors *st) {
    if (!st) return;
    if (st->fd >= 0) close(st->fd);
    for (size_t i = 0; i < st->n; i++) free((char *)st->t[i].name);
    for (size_t i = 0; i < 2 * st->n_meta; i++) free(st->meta[i]);
    free(st->t);
    free(st->by_name);
    free(st->meta);
    free(st->path);
    free(st);
}

/* One tensor entry `j` called `name` into *t (name not yet set). */
static trn_status parse_tensor(const trn_safetensors *st, const char *name, const cJSON *j,
                               trn_tensor_info *t, trn_err *err) {
    const char *path = st->path;
    if (!cJSON_IsObject(j))
        return trn_err_set(err, TRN_E_PARSE, "%s: tensor '%s': expected a JSON object", path, name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(j, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(j, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(j, "data_offsets");
    const char *missing = !dt ? "dtype" : !sh ? "shape" : !off ? "data_offsets" : NULL;
    if (missing)
        return trn_err_set(err, TRN_E_PARSE, "%s: tensor '%s': missing field \"%s\"", path, name,
                           missing);
    if (!cJSON_IsString(dt) || trn_io_type_from_name(dt->valuestring, &t->type) != TRN_OK)
        return trn_err_set(err, TRN_E_PARSE,
                           "%s: tensor '%s': unknown dtype %s%s%s (expected F32, F16, BF16, F64, "
                           "F8_E4M3, F8_E5M2, I8, I16, I32, I64, U8, U16, U32, U64 or BOOL)",
                           path, name, cJSON_IsString(dt) ? "\"" : "",
                           cJSON_IsString(dt) ? dt->valuestring : "(not a string)",
                           cJSON_IsString(dt) ? "\"" : "");
    if (!cJSON_IsArray(sh))
        return trn_err_set(err, TRN_E_PARSE, "%s: tensor '%s': \"shape\" must be an array", path,
                           name);
    int rank = cJSON_GetArraySize(sh);
    if (rank > TRN_IO_MAX_RANK)
        return trn_err_set(err, TRN_E_UNSUPPORTED,
                           "%s: tensor '%s': %d dimensions, at most %d are supported", path, name,
                           rank, TRN_IO_MAX_RANK);
    t->rank = rank;
    int i = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, sh) {
        uint64_t v;
        if (!json_uint(d, &v))
            return trn_err_set(err, TRN_E_PARSE,
                               "%s: tensor '%s': shape entry %d is not a non-negative integer",
                               path, name, i);
        t->shape[i++] = (int64_t)v;
    }
    uint64_t b, e;
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 || !json_uint(off->child, &b) ||
        !json_uint(off->child->next, &e))
        return trn_err_set(err, TRN_E_PARSE,
                           "%s: tensor '%s': \"data_offsets\" must be [begin, end], two "
                           "non-negative integers",
                           path, name);
    t->begin_bytes = b;
    t->end_bytes = e;
    char dims[256];
    fmt_dims(dims, sizeof dims, rank, t->shape);
    if (e < b)
        return trn_err_set(err, TRN_E_PARSE,
                           "%s: tensor '%s': data_offsets [%llu, %llu] end before they begin", path,
                           name, (unsigned long long)b, (unsigned long long)e);
    if (e > st->data_bytes)
        return trn_err_set(err, TRN_E_PARSE,
                           "%s: tensor '%s': data_offsets [%llu, %llu] run past the data buffer "
                           "of %llu bytes (truncated file?)",
                           path, name, (unsigned long long)b, (unsigned long long)e,
                           (unsigned long long)st->data_bytes);
    size_t size = trn_io_type_size(t->type);
    int64_t n = trn_shape_elems(rank, t->shape);
    if (n < 0)
        return trn_err_set(err, TRN_E_RANGE, "%s: tensor '%s': shape %s has too many elements",
                           path, name, dims);
    if ((uint64_t)n * size != e - b)
        return trn_err_set(err, TRN_E_PARSE,
                           "%s: tensor '%s': shape %s x %zu bytes (%s) = %llu bytes, but "
                           "data_offsets [%llu, %llu] hold %llu",
                           path, name, dims, size, trn_io_type_name(t->type),
                           (unsigned long long)((uint64_t)n * size), (unsigned long long)b,
                           (unsigned long long)e, (unsigned long long)(e - b));
    return TRN_OK;
}

static trn_status parse_meta(trn_safetensors *st, const cJSON *j, trn_err *err) {
    if (!cJSON_IsObject(j))
        return trn_err_set(err, TRN_E_PARSE, "%s: \"__metadata__\" must be an object of strings",
                           st->path);
    size_t n = (size_t)cJSON_GetArraySize(j);
    st->meta = calloc(2 * n + 1, sizeof *st->meta);
    if (!st->meta) return trn_err_set(err, TRN_E_NOMEM, "%s: out of memory", st->path);
    const cJSON *kv;
    cJSON_ArrayForEach(kv, j) {
        if (!cJSON_IsString(kv))
            return trn_err_set(err, TRN_E_PARSE, "%s: \"__metadata__\" entry '%s' is not a string",
                               st->path, kv->string);
        char *k = dupstr(kv->string), *v = dupstr(kv->valuestring);
        st->meta[2 * st->n_meta] = k;
        st->meta[2 * st->n_meta + 1] = v;
        st->n_meta++;
        if (!k || !v) return trn_err_set(err, TRN_E_NOMEM, "%s: out of memory", st->path);
    }
    return TRN_OK;
}

/* The parsed header `root` into st; checks names and the layout of the data buffer. */
static trn_status load_header(trn_safetensors *st, const cJSON *root, trn_err *err) {
    const char *path = st->path;
    if (!cJSON_IsObject(root))
        return trn_err_set(err, TRN_E_PARSE, "%s: the header is not a JSON object", path);
    size_t count = (size_t)cJSON_GetArraySize(root);
    st->t = calloc(count + 1, sizeof *st->t);
    st->by_name = calloc(count + 1, sizeof *st->by_name);
    if (!st->t || !st->by_name) return trn_err_set(err, TRN_E_NOMEM, "%s: out of memory", path);
    const cJSON *j;
    int have_meta = 0;
    trn_status s;
    cJSON_ArrayForEach(j, root) {
        if (strcmp(j->string, "__metadata__") == 0) {
            if (have_meta++)
                return trn_err_set(err, TRN_E_PARSE, "%s: \"__metadata__\" appears twice", path);
            if ((s = parse_meta(st, j, err))) return s;
            continue;
        }
        trn_tensor_info *t = &st->t[st->n];
        if ((s = parse_tensor(st, j->string, j, t, err))) return s;
        if (!(t->name = dupstr(j->string)))
            return trn_err_set(err, TRN_E_NOMEM, "%s: out of memory", path);
        st->by_name[st->n] = t;
        st->n++;
    }

    /* Unique names. */
    qsort(st->by_name, st->n, sizeof *st->by_name, cmp_name);
    for (size_t i = 1; i < st->n; i++) {
        if (strcmp(st->by_name[i - 1]->name, st->by_name[i]->name) == 0)
            return trn_err_set(err, TRN_E_PARSE, "%s: tensor '%s' appears twice in the header",
                               path, st->by_name[i]->name);
    }

    /* Back to back over the whole buffer, as the reference's validate() demands. */
    const trn_tensor_info **by_off = malloc((st->n + 1) * sizeof *by_off);
    if (!by_off) return trn_err_set(err, TRN_E_NOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < st->n; i++) by_off[i] = &st->t[i];
    qsort(by_off, st->n, sizeof *by_off, cmp_offset);
    uint64_t pos = 0;
    s = TRN_OK;
    for (size_t i = 0; i < st->n && !s; i++) {
        const trn_tensor_info *t = by_off[i];
        if (t->begin_bytes < pos)
            s = trn_err_set(
                err, TRN_E_PARSE, "%s: tensor '%s' [%llu, %llu) overlaps tensor '%s' [%llu, %llu)",
                path, t->name, (unsigned long long)t->begin_bytes, (unsigned long long)t->end_bytes,
                by_off[i - 1]->name, (unsigned long long)by_off[i - 1]->begin_bytes,
                (unsigned long long)by_off[i - 1]->end_bytes);
        else if (t->begin_bytes > pos)
            s = trn_err_set(err, TRN_E_PARSE,
                            "%s: bytes [%llu, %llu) of the data buffer belong to no tensor "
                            "(tensor '%s' begins at %llu)",
                            path, (unsigned long long)pos, (unsigned long long)t->begin_bytes,
                            t->name, (unsigned long long)t->begin_bytes);
        pos = t->end_bytes;
    }
    free(by_off);
    if (s) return s;
    if (pos != st->data_bytes)
        return trn_err_set(err, TRN_E_PARSE,
                           "%s: the last %llu bytes of the data buffer belong to no tensor "
                           "(tensors end at %llu, the buffer at %llu)",
                           path, (unsigned long long)(st->data_bytes - pos),
                           (unsigned long long)pos, (unsigned long long)st->data_bytes);
    return TRN_OK;
}

/* Reads exactly n bytes at offset `at`. */
static int pread_all(int fd, void *dst, size_t n, uint64_t at) {
    char *p = dst;
    while (n > 0) {
        ssize_t r = pread(fd, p, n, (off_t)at);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return 0;
        p += r;
        n -= (size_t)r;
        at += (uint64_t)r;
    }
    return 1;
}

static trn_status open_file(trn_safetensors *st, trn_err *err) {
    const char *path = st->path;
    st->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (st->fd < 0) return trn_err_set(err, TRN_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(st->fd, &sb) != 0)
        return trn_err_set(err, TRN_E_IO, "%s: cannot stat: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode)) return trn_err_set(err, TRN_E_IO, "%s: not a regular file", path);
    uint64_t file_bytes = (uint64_t)sb.st_size;
    unsigned char nb[8];
    if (file_bytes < 8 || !pread_all(st->fd, nb, 8, 0))
        return trn_err_set(err, TRN_E_PARSE,
                           "%s: not a .safetensors file: %llu bytes, too short for the 8-byte "
                           "header size",
                           path, (unsigned long long)file_bytes);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | nb[i];
    if (hlen > file_bytes - 8)
        return trn_err_set(err, TRN_E_PARSE,
                           "%s: header size %llu runs past the end of the file (%llu bytes): "
                           "truncated, or not a .safetensors file",
                           path, (unsigned long long)hlen, (unsigned long long)file_bytes);
    if (hlen > ST_MAX_HEADER)
        return trn_err_set(err, TRN_E_PARSE, "%s: header size %llu is over the limit of %llu", path,
                           (unsigned long long)hlen, ST_MAX_HEADER);
    st->data_start = 8 + hlen;
    st->data_bytes = file_bytes - st->data_start;
    char *text = malloc((size_t)hlen + 1);
    if (!text) return trn_err_set(err, TRN_E_NOMEM, "%s: out of memory", path);
    if (!pread_all(st->fd, text, (size_t)hlen, 8)) {
        free(text);
        return trn_err_set(err, TRN_E_IO, "%s: read error in the header", path);
    }
    text[hlen] = '\0';
    if (hlen == 0 || text[0] != '{' || memchr(text, '\0', (size_t)hlen)) {
        free(text);
        return trn_err_set(err, TRN_E_PARSE,
                           "%s: the header is not a JSON object (expected '{' at byte 8)", path);
    }
    const char *stop = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &stop, 1);
    if (!root) {
        size_t at = stop && stop >= text ? (size_t)(stop - text) : 0;
        free(text);
        return trn_err_set(err, TRN_E_PARSE, "%s: bad JSON in the header at byte %zu of %llu", path,
                           at, (unsigned long long)hlen);
    }
    free(text);
    trn_status s = load_header(st, root, err);
    cJSON_Delete(root);
    return s;
}

trn_status trn_safetensors_open(const char *path, trn_safetensors **out, trn_err *err) {
    *out = NULL;
    trn_safetensors *st = calloc(1, sizeof *st);
    if (st) st->fd = -1;
    if (!st || !(st->path = dupstr(path))) {
        free(st);
        return trn_err_set(err, TRN_E_NOMEM, "%s: out of memory", path);
    }
    trn_status s = open_file(st, err);
    if (s) {
        trn_safetensors_close(st);
        return s;
    }
    *out = st;
    return TRN_OK;
}

const char *trn_safetensors_path(const trn_safetensors *st) {
    return st->path;
}
size_t trn_safetensors_count(const trn_safetensors *st) {
    return st->n;
}

const trn_tensor_info *trn_safetensors_tensor(const trn_safetensors *st, size_t i) {
    return i < st->n ? &st->t[i] : NULL;
}

trn_status trn_safetensors_find(const trn_safetensors *st, const char *name,
                                const trn_tensor_info **t, trn_err *err) {
    *t = NULL;
    size_t lo = 0, hi = st->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->by_name[mid]->name, name);
        if (c == 0) {
            *t = st->by_name[mid];
            return TRN_OK;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!err) return TRN_E_NOTFOUND;
    char list[200];
    size_t o = 0;
    list[0] = '\0';
    for (size_t i = 0; i < st->n; i++) {
        size_t need = strlen(st->t[i].name) + 6;
        if (o + need >= sizeof list - 8) {
            snprintf(list + o, sizeof list - o, ", ...");
            break;
        }
        o += (size_t)snprintf(list + o, sizeof list - o, "%s'%s'", i ? ", " : "", st->t[i].name);
    }
    return trn_err_set(err, TRN_E_NOTFOUND, "%s: no tensor named '%s' (the file has %zu%s%s)",
                       st->path, name, st->n,
                       st->n == 1 ? " tensor: " : " tensors: ", st->n ? list : "none");
}

trn_status trn_safetensors_expect(const trn_safetensors *st, const char *name, trn_io_type type,
                                  int rank, const int64_t *shape, const trn_tensor_info **t,
                                  trn_err *err) {
    trn_status s = trn_safetensors_find(st, name, t, err);
    if (s) return s;
    const trn_tensor_info *x = *t;
    int same = x->rank == rank;
    for (int i = 0; same && i < rank; i++) same = x->shape[i] == shape[i];
    if (x->type != type || !same) {
        char got[256], want[256];
        fmt_dims(got, sizeof got, x->rank, x->shape);
        fmt_dims(want, sizeof want, rank, shape);
        *t = NULL;
        return trn_err_set(err, TRN_E_INVALID, "%s: tensor '%s': %s %s, expected %s %s", st->path,
                           name, trn_io_type_name(x->type), got, trn_io_type_name(type), want);
    }
    return TRN_OK;
}

size_t trn_safetensors_meta_count(const trn_safetensors *st) {
    return st->n_meta;
}

const char *trn_safetensors_meta_key(const trn_safetensors *st, size_t i) {
    return i < st->n_meta ? st->meta[2 * i] : NULL;
}

const char *trn_safetensors_meta_value(const trn_safetensors *st, size_t i) {
    return i < st->n_meta ? st->meta[2 * i + 1] : NULL;
}

const char *trn_safetensors_meta(const trn_safetensors *st, const char *key) {
    for (size_t i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta[2 * i], key) == 0) return st->meta[2 * i + 1];
    return NULL;
}

trn_status trn_safetensors_read(const trn_safetensors *st, const trn_tensor_info *t, void *dst,
                                size_t dst_bytes, trn_err *err) {
    uint64_t n = t->end_bytes - t->begin_bytes;
    if (dst_bytes != n)
        return trn_err_set(err, TRN_E_INVALID, "%s: tensor '%s' is %llu bytes, the destination %zu",
                           st->path, t->name, (unsigned long long)n, dst_bytes);
    if (n && !pread_all(st->fd, dst, (size_t)n, st->data_start + t->begin_bytes))
        return trn_err_set(err, TRN_E_IO,
                           "%s: tensor '%s': cannot read %llu bytes at offset %llu (file "
                           "changed since it was opened?)",
                           st->path, t->name, (unsigned long long)n,
                           (unsigned long long)(st->data_start + t->begin_bytes));
    return TRN_OK;
}

trn_status trn_safetensors_read_array(const trn_safetensors *st, const char *name, trn_array *out,
                                      trn_err *err) {
    memset(out, 0, sizeof *out);
    const trn_tensor_info *t;
    trn_status s = trn_safetensors_find(st, name, &t, err);
    if (s) return s;
    if ((s = trn_array_init(out, t->type, t->rank, t->shape, err))) {
        trn_err_prefix(err, "%s: tensor '%s': ", st->path, name);
        return s;
    }
    if ((s = trn_safetensors_read(st, t, out->data, out->nbytes, err))) trn_array_fini(out);
    return s;
}

/* ---- writer -------------------------------------------------------------------------- */

/* A growing byte string; `oom` once an allocation failed. */
typedef struct buf {
    char *p;
    size_t len, cap;
    int oom;
} buf;

static void put(buf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(buf *b, const char *s) {
    put(b, s, strlen(s));
}

static void putu(buf *b, uint64_t v) {
    char t[24];
    snprintf(t, sizeof t, "%llu", (unsigned long long)v);
    puts_(b, t);
}

/* A JSON string as serde_json escapes it. */
static void put_json_str(buf *b, const char *s) {
    put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        const char *e = NULL;
        switch (c) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        default:
            if (c < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                e = esc;
            }
        }
        if (e)
            puts_(b, e);
        else
            put(b, s, 1);
    }
    put(b, "\"", 1);
}

typedef struct wt {
    const trn_named_array *t;
    size_t size; /* bytes per element */
} wt;

static int cmp_wname(const void *a, const void *b) {
    return strcmp(((const wt *)a)->t->name, ((const wt *)b)->t->name);
}

/* Largest element size first, then by name: the reference's order, which aligns every
 * tensor to its element size without padding. */
static int cmp_layout(const void *a, const void *b) {
    const wt *x = a, *y = b;
    if (x->size != y->size) return x->size > y->size ? -1 : 1;
    return strcmp(x->t->name, y->t->name);
}

static trn_status check_inputs(const char *path, const trn_named_array *tensors, size_t n,
                               const trn_kv *meta, size_t n_meta, wt *w, trn_err *err) {
    for (size_t i = 0; i < n; i++) {
        const char *name = tensors[i].name;
        const trn_array *a = tensors[i].array;
        if (!name || !*name || strcmp(name, "__metadata__") == 0)
            return trn_err_set(err, TRN_E_INVALID, "%s: tensor %zu has an empty or reserved name",
                               path, i);
        int64_t elems = a ? trn_array_elems(a) : -1;
        size_t size = a ? trn_io_type_size(a->type) : 0;
        if (!a || !size || a->rank < 0 || a->rank > TRN_IO_MAX_RANK || elems < 0 ||
            (uint64_t)elems * size != a->nbytes || (a->nbytes && !a->data))
            return trn_err_set(err, TRN_E_INVALID,
                               "%s: tensor '%s': the array's bytes do not match its shape and "
                               "type",
                               path, name);
        w[i] = (wt){&tensors[i], size};
    }
    for (size_t i = 0; i < n_meta; i++) {
        if (!meta[i].key || !meta[i].value)
            return trn_err_set(err, TRN_E_INVALID, "%s: metadata entry %zu is NULL", path, i);
        for (size_t k = 0; k < i; k++)
            if (strcmp(meta[k].key, meta[i].key) == 0)
                return trn_err_set(err, TRN_E_INVALID, "%s: metadata key '%s' appears twice", path,
                                   meta[i].key);
    }
    /* Sorted by name first, so that duplicates are neighbours, then into layout order. */
    qsort(w, n, sizeof *w, cmp_wname);
    for (size_t i = 1; i < n; i++)
        if (strcmp(w[i - 1].t->name, w[i].t->name) == 0)
            return trn_err_set(err, TRN_E_INVALID, "%s: tensor '%s' appears twice", path,
                               w[i].t->name);
    qsort(w, n, sizeof *w, cmp_layout);
    return TRN_OK;
}

trn_status trn_safetensors_write(const char *path, const trn_named_array *tensors, size_t n,
                                 const trn_kv *meta, size_t n_meta, trn_err *err) {
    wt *w = malloc((n + 1) * sizeof *w);
    if (!w) return trn_err_set(err, TRN_E_NOMEM, "%s: out of memory", path);
    trn_status s = check_inputs(path, tensors, n, meta, n_meta, w, err);
    if (s) {
        free(w);
        return s;
    }

    buf b = {0};
    put(&b, "{", 1);
    if (n_meta) {
        puts_(&b, "\"__metadata__\":{");
        for (size_t i = 0; i < n_meta; i++) {
            if (i) put(&b, ",", 1);
            put_json_str(&b, meta[i].key);
            put(&b, ":", 1);
            put_json_str(&b, meta[i].value);
        }
        put(&b, "}", 1);
    }
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const trn_array *a = w[i].t->array;
        if (i || n_meta) put(&b, ",", 1);
        put_json_str(&b, w[i].t->name);
        puts_(&b, ":{\"dtype\":\"");
        puts_(&b, trn_io_type_name(a->type));
        puts_(&b, "\",\"shape\":[");
        for (int d = 0; d < a->rank; d++) {
            if (d) put(&b, ",", 1);
            putu(&b, (uint64_t)a->shape[d]);
        }
        puts_(&b, "],\"data_offsets\":[");
        putu(&b, off);
        put(&b, ",", 1);
        off += a->nbytes;
        putu(&b, off);
        puts_(&b, "]}");
    }
    put(&b, "}", 1);
    while (b.len % 8) put(&b, " ", 1);
    if (b.oom) {
        free(b.p);
        free(w);
        return trn_err_set(err, TRN_E_NOMEM, "%s: out of memory", path);
    }

    unsigned char nb[8];
    for (int i = 0; i < 8; i++) nb[i] = (unsigned char)((uint64_t)b.len >> (8 * i));
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(b.p);
        free(w);
        return trn_err_set(err, TRN_E_IO, "%s: cannot create: %s", path, strerror(errno));
    }
    int ok = fwrite(nb, 1, 8, f) == 8 && fwrite(b.p, 1, b.len, f) == b.len;
    for (size_t i = 0; ok && i < n; i++) {
        const trn_array *a = w[i].t->array;
        ok = !a->nbytes || fwrite(a->data, 1, a->nbytes, f) == a->nbytes;
    }
    ok = (fclose(f) == 0) && ok;
    free(b.p);
    free(w);
    if (!ok) {
        remove(path);
        return trn_err_set(err, TRN_E_IO, "%s: write failed", path);
    }
    return TRN_OK;
}

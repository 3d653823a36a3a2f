/* File element types, owned dense arrays, and the NumPy .npy format (versions 1.0, 2.0, 3.0,
 * as numpy/lib/format.py defines it).
 *
 * The reader parses the header dict with a small parser for exactly the Python literals
 * np.save writes (strings, True/False, tuples of integers), never an eval, and checks every
 * field before it allocates. A fortran_order file is transposed to row-major on the way in.
 * Deliberately left out: big-endian, complex, string and structured dtypes, .npz. */
#include "base_impl.h"
#include "trnsim/io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "trnsim's file readers assume a little-endian host"
#endif

/* ---- element types ------------------------------------------------------------------- */

static const struct {
    const char *name;  /* safetensors dtype */
    const char *descr; /* NumPy descr as np.save writes it, NULL when NumPy has none */
    size_t size;
} types[TRN_IO_TYPE_COUNT] = {
    [TRN_IO_F32] = {"F32", "<f4", 4},        [TRN_IO_F16] = {"F16", "<f2", 2},
    [TRN_IO_BF16] = {"BF16", NULL, 2},       [TRN_IO_F64] = {"F64", "<f8", 8},
    [TRN_IO_F8_E4M3] = {"F8_E4M3", NULL, 1}, [TRN_IO_F8_E5M2] = {"F8_E5M2", NULL, 1},
    [TRN_IO_I8] = {"I8", "|i1", 1},          [TRN_IO_I16] = {"I16", "<i2", 2},
    [TRN_IO_I32] = {"I32", "<i4", 4},        [TRN_IO_I64] = {"I64", "<i8", 8},
    [TRN_IO_U8] = {"U8", "|u1", 1},          [TRN_IO_U16] = {"U16", "<u2", 2},
    [TRN_IO_U32] = {"U32", "<u4", 4},        [TRN_IO_U64] = {"U64", "<u8", 8},
    [TRN_IO_BOOL] = {"BOOL", "|b1", 1},
};

static int type_ok(trn_io_type t) {
    return (unsigned)t < TRN_IO_TYPE_COUNT;
}

const char *trn_io_type_name(trn_io_type t) {
    return type_ok(t) ? types[t].name : "?";
}
size_t trn_io_type_size(trn_io_type t) {
    return type_ok(t) ? types[t].size : 0;
}
const char *trn_io_type_npy_descr(trn_io_type t) {
    return type_ok(t) ? types[t].descr : NULL;
}

trn_status trn_io_type_from_name(const char *name, trn_io_type *t) {
    for (int i = 0; i < TRN_IO_TYPE_COUNT; i++) {
        if (strcmp(name, types[i].name) == 0) {
            *t = (trn_io_type)i;
            return TRN_OK;
        }
    }
    return TRN_E_NOTFOUND;
}

/* ---- arrays -------------------------------------------------------------------------- */

int64_t trn_shape_elems(int rank, const int64_t *shape) {
    /* Bounded so that elems x 8 bytes still fits in int64 (and in size_t on 64-bit hosts). */
    const int64_t max = INT64_MAX / 8;
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (shape[i] < 0) return -1;
        if (shape[i] == 0) n = 0;
    }
    if (n == 0) return 0;
    for (int i = 0; i < rank; i++) {
        if (shape[i] > max / n) return -1;
        n *= shape[i];
    }
    return n;
}

int64_t trn_array_elems(const trn_array *a) {
    return trn_shape_elems(a->rank, a->shape);
}

trn_status trn_array_init(trn_array *a, trn_io_type type, int rank, const int64_t *shape,
                          trn_err *err) {
    memset(a, 0, sizeof *a);
    if (!type_ok(type)) return trn_err_set(err, TRN_E_INVALID, "array: unknown type %d", type);
    if (rank < 0 || rank > TRN_IO_MAX_RANK)
        return trn_err_set(err, TRN_E_INVALID, "array: rank %d, expected 0..%d", rank,
                           TRN_IO_MAX_RANK);
    for (int i = 0; i < rank; i++) {
        if (shape[i] < 0)
            return trn_err_set(err, TRN_E_INVALID, "array: dimension %d is %lld, expected >= 0", i,
                               (long long)shape[i]);
    }
    int64_t n = trn_shape_elems(rank, shape);
    if (n < 0 || (uint64_t)n > SIZE_MAX / types[type].size)
        return trn_err_set(err, TRN_E_RANGE, "array: too many elements");
    size_t nbytes = (size_t)n * types[type].size;
    void *data = calloc(nbytes ? nbytes : 1, 1);
    if (!data) return trn_err_set(err, TRN_E_NOMEM, "array: out of memory (%zu bytes)", nbytes);
    a->type = type;
    a->rank = rank;
    for (int i = 0; i < rank; i++) a->shape[i] = shape[i];
    a->data = data;
    a->nbytes = nbytes;
    return TRN_OK;
}

void trn_array_fini(trn_array *a) {
    if (!a) return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* ---- .npy reader --------------------------------------------------------------------- */

#define NPY_MAGIC     "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_ALIGN     64
/* np.save leaves room to grow the first axis to 21 digits (numpy/lib/format.py). */
#define NPY_GROWTH_DIGITS 21
/* Far above any real header (a rank-8 header is < 300 bytes); bounds a corrupt length. */
#define NPY_MAX_HEADER (64u << 20)

#define NPY_SUPPORTED "'<f2' '<f4' '<f8' '|i1' '<i2' '<i4' '<i8' '|u1' '<u2' '<u4' '<u8' '|b1'"

/* "(2, 3)", "(5,)" or "()", as Python writes a tuple. */
static void fmt_shape(char *buf, size_t cap, int rank, const int64_t *shape) {
    size_t o = (size_t)snprintf(buf, cap, "(");
    for (int i = 0; i < rank && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (o < cap) snprintf(buf + o, cap - o, rank == 1 ? ",)" : ")");
}

/* Parser state for the header dict. */
typedef struct hdr {
    const char *p, *end;
    const char *path;
    trn_err *err;
} hdr;

static void skip_ws(hdr *h) {
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
        h->p++;
}

static trn_status hdr_fail(hdr *h, trn_status s, const char *what) {
    return trn_err_set(h->err, s, "%s: bad .npy header: %s", h->path, what);
}

/* A Python string literal in ' or " quotes, without escapes, into buf. */
static trn_status parse_str(hdr *h, char *buf, size_t cap, const char *what) {
    skip_ws(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"')) return hdr_fail(h, TRN_E_PARSE, what);
    char q = *h->p++;
    size_t n = 0;
    while (h->p < h->end && *h->p != q) {
        if (*h->p == '\\' || *h->p == '\n' || n + 1 >= cap) return hdr_fail(h, TRN_E_PARSE, what);
        buf[n++] = *h->p++;
    }
    if (h->p >= h->end) return hdr_fail(h, TRN_E_PARSE, "unterminated string");
    h->p++;
    buf[n] = '\0';
    return TRN_OK;
}

static int at_word(hdr *h, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(h->end - h->p) < n || memcmp(h->p, w, n) != 0) return 0;
    const char *after = h->p + n;
    if (after < h->end && (*after == '_' || (*after >= 'a' && *after <= 'z') ||
                           (*after >= 'A' && *after <= 'Z') || (*after >= '0' && *after <= '9')))
        return 0;
    h->p = after;
    return 1;
}

static trn_status parse_bool(hdr *h, int *v) {
    skip_ws(h);
    if (at_word(h, "True"))
        *v = 1;
    else if (at_word(h, "False"))
        *v = 0;
    else
        return hdr_fail(h, TRN_E_PARSE, "'fortran_order' must be True or False");
    return TRN_OK;
}

/* A tuple of non-negative Python integers: (), (5,), (2, 3) or (2, 3,). */
static trn_status parse_shape(hdr *h, int *rank, int64_t *shape) {
    char msg[160];
    skip_ws(h);
    if (h->p >= h->end || *h->p != '(')
        return hdr_fail(h, TRN_E_PARSE, "'shape' must be a tuple of integers such as (2, 3)");
    h->p++;
    int n = 0, trailing_comma = 0;
    for (;;) {
        skip_ws(h);
        if (h->p < h->end && *h->p == ')') {
            h->p++;
            break;
        }
        if (n > 0 && !trailing_comma)
            return hdr_fail(h, TRN_E_PARSE, "'shape' entries must be separated by commas");
        if (h->p < h->end && *h->p == '-')
            return hdr_fail(h, TRN_E_PARSE, "'shape' has a negative dimension");
        if (h->p >= h->end || *h->p < '0' || *h->p > '9')
            return hdr_fail(h, TRN_E_PARSE, "'shape' has an entry that is not an integer");
        int64_t v = 0;
        while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
            int d = *h->p++ - '0';
            if (v > (INT64_MAX - d) / 10)
                return hdr_fail(h, TRN_E_RANGE, "a 'shape' dimension does not fit in 64 bits");
            v = v * 10 + d;
        }
        if (h->p < h->end && (*h->p == 'L' || *h->p == 'l')) h->p++; /* Python 2 long */
        if (h->p < h->end && (*h->p == '.' || *h->p == 'e' || *h->p == 'E' || *h->p == 'j' ||
                              *h->p == '_' || *h->p == 'x'))
            return hdr_fail(h, TRN_E_PARSE, "'shape' has an entry that is not an integer");
        if (n == TRN_IO_MAX_RANK) {
            snprintf(msg, sizeof msg, "arrays of more than %d dimensions are not supported",
                     TRN_IO_MAX_RANK);
            return hdr_fail(h, TRN_E_UNSUPPORTED, msg);
        }
        shape[n++] = v;
        skip_ws(h);
        trailing_comma = 0;
        if (h->p < h->end && *h->p == ',') {
            h->p++;
            trailing_comma = 1;
        } else if (h->p >= h->end || *h->p != ')') {
            return hdr_fail(h, TRN_E_PARSE, "'shape' has an entry that is not an integer");
        }
    }
    if (n == 1 && !trailing_comma)
        return hdr_fail(h, TRN_E_PARSE, "'shape' (N) is an integer, not a tuple; expected (N,)");
    *rank = n;
    return TRN_OK;
}

/* Maps a descr such as '<f4' to a type. */
static trn_status descr_type(hdr *h, const char *descr, trn_io_type *t) {
    char msg[320];
    char order = descr[0];
    const char *code = descr + 1;
    if (order != '<' && order != '>' && order != '|' && order != '=') {
        order = '=';
        code = descr;
    }
    for (int i = 0; i < TRN_IO_TYPE_COUNT; i++) {
        if (!types[i].descr || strcmp(code, types[i].descr + 1) != 0) continue;
        if (order == '>' && types[i].size > 1) {
            snprintf(msg, sizeof msg,
                     "big-endian descr '%s' is not supported (save with "
                     "a.astype(a.dtype.newbyteorder('<'))); supported: " NPY_SUPPORTED,
                     descr);
            return hdr_fail(h, TRN_E_UNSUPPORTED, msg);
        }
        /* '|' and '=' mean "native", which is little-endian on every host we build for. */
        *t = (trn_io_type)i;
        return TRN_OK;
    }
    snprintf(msg, sizeof msg, "descr '%s' is not supported; supported: " NPY_SUPPORTED, descr);
    return hdr_fail(h, TRN_E_UNSUPPORTED, msg);
}

/* The header dict: exactly the keys 'descr', 'fortran_order', 'shape' in any order. */
static trn_status parse_header(hdr *h, trn_io_type *type, int *fortran, int *rank, int64_t *shape) {
    trn_status s;
    int have_descr = 0, have_fortran = 0, have_shape = 0;
    char key[32], descr[64], msg[160];
    skip_ws(h);
    if (h->p >= h->end || *h->p != '{')
        return hdr_fail(h, TRN_E_PARSE, "not a Python dict (expected '{')");
    h->p++;
    for (;;) {
        skip_ws(h);
        if (h->p < h->end && *h->p == '}') {
            h->p++;
            break;
        }
        if ((s = parse_str(h, key, sizeof key, "expected a quoted key or '}'"))) return s;
        skip_ws(h);
        if (h->p >= h->end || *h->p != ':') return hdr_fail(h, TRN_E_PARSE, "expected ':'");
        h->p++;
        int *seen = NULL;
        if (strcmp(key, "descr") == 0) {
            seen = &have_descr;
            skip_ws(h);
            if (h->p < h->end && *h->p == '[')
                return hdr_fail(h, TRN_E_UNSUPPORTED, "structured dtypes are not supported");
            if ((s = parse_str(h, descr, sizeof descr, "'descr' must be a string such as '<f4'")))
                return s;
        } else if (strcmp(key, "fortran_order") == 0) {
            seen = &have_fortran;
            if ((s = parse_bool(h, fortran))) return s;
        } else if (strcmp(key, "shape") == 0) {
            seen = &have_shape;
            if ((s = parse_shape(h, rank, shape))) return s;
        } else {
            snprintf(msg, sizeof msg,
                     "unexpected key '%s' (expected 'descr', 'fortran_order', 'shape')", key);
            return hdr_fail(h, TRN_E_PARSE, msg);
        }
        if (*seen) {
            snprintf(msg, sizeof msg, "key '%s' appears twice", key);
            return hdr_fail(h, TRN_E_PARSE, msg);
        }
        *seen = 1;
        skip_ws(h);
        if (h->p < h->end && *h->p == ',')
            h->p++;
        else if (h->p >= h->end || *h->p != '}')
            return hdr_fail(h, TRN_E_PARSE, "expected ',' or '}' after a value");
    }
    skip_ws(h);
    if (h->p != h->end) return hdr_fail(h, TRN_E_PARSE, "unexpected text after the dict");
    const char *missing = !have_descr     ? "descr"
                          : !have_fortran ? "fortran_order"
                          : !have_shape   ? "shape"
                                          : NULL;
    if (missing) {
        snprintf(msg, sizeof msg, "missing key '%s' (expected 'descr', 'fortran_order', 'shape')",
                 missing);
        return hdr_fail(h, TRN_E_PARSE, msg);
    }
    return descr_type(h, descr, type);
}

/* Column-major `in` to row-major `out`, both `rank` dims `shape` of `size`-byte elements. */
static void fortran_to_c(char *out, const char *in, int rank, const int64_t *shape, size_t size,
                         int64_t n) {
    int64_t stride[TRN_IO_MAX_RANK], idx[TRN_IO_MAX_RANK] = {0}, src = 0;
    for (int k = 0; k < rank; k++) stride[k] = k ? stride[k - 1] * shape[k - 1] : 1;
    for (int64_t c = 0; c < n; c++) {
        memcpy(out + (size_t)c * size, in + (size_t)src * size, size);
        for (int k = rank - 1; k >= 0; k--) {
            src += stride[k];
            if (++idx[k] < shape[k]) break;
            src -= stride[k] * shape[k];
            idx[k] = 0;
        }
    }
}

static uint32_t le32(const unsigned char *b) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Everything after fopen; `f` is closed by the caller. */
static trn_status npy_read_file(FILE *f, const char *path, trn_array *out, trn_err *err) {
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        return trn_err_set(err, TRN_E_IO, "%s: cannot stat: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return trn_err_set(err, TRN_E_IO, "%s: not a regular file", path);
    uint64_t file_bytes = (uint64_t)st.st_size;

    unsigned char pre[12];
    size_t got = fread(pre, 1, 8, f);
    if (got < 8 || memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN) != 0) {
        if (ferror(f)) return trn_err_set(err, TRN_E_IO, "%s: read error", path);
        return trn_err_set(err, TRN_E_PARSE,
                           "%s: not a .npy file: expected the magic string \\x93NUMPY at the "
                           "start%s",
                           path, got < 8 ? " (file too short)" : "");
    }
    int major = pre[6], minor = pre[7];
    if ((major != 1 && major != 2 && major != 3) || minor != 0)
        return trn_err_set(err, TRN_E_UNSUPPORTED,
                           "%s: .npy format version %d.%d is not supported (expected 1.0, 2.0 "
                           "or 3.0)",
                           path, major, minor);
    size_t len_bytes = major == 1 ? 2 : 4;
    if (fread(pre + 8, 1, len_bytes, f) != len_bytes)
        return trn_err_set(err, TRN_E_PARSE, "%s: truncated .npy header length", path);
    uint64_t hlen = major == 1 ? (uint64_t)pre[8] | (uint64_t)pre[9] << 8 : le32(pre + 8);
    uint64_t data_off = 8 + len_bytes + hlen;
    if (data_off > file_bytes)
        return trn_err_set(err, TRN_E_PARSE,
                           "%s: truncated: the header says it is %llu bytes but the file has "
                           "only %llu bytes in all",
                           path, (unsigned long long)hlen, (unsigned long long)file_bytes);
    if (hlen > NPY_MAX_HEADER)
        return trn_err_set(err, TRN_E_PARSE, "%s: .npy header of %llu bytes is implausibly large",
                           path, (unsigned long long)hlen);
    char *text = malloc(hlen + 1);
    if (!text) return trn_err_set(err, TRN_E_NOMEM, "%s: out of memory", path);
    if (fread(text, 1, hlen, f) != hlen) {
        free(text);
        return trn_err_set(err, TRN_E_IO, "%s: read error in the header", path);
    }
    text[hlen] = '\0';

    hdr h = {text, text + hlen, path, err};
    trn_io_type type = TRN_IO_F32;
    int fortran = 0, rank = 0;
    int64_t shape[TRN_IO_MAX_RANK] = {0};
    trn_status s = parse_header(&h, &type, &fortran, &rank, shape);
    free(text);
    if (s) return s;

    char shp[256];
    fmt_shape(shp, sizeof shp, rank, shape);
    size_t size = types[type].size;
    int64_t n = trn_shape_elems(rank, shape);
    if (n < 0 || (uint64_t)n > SIZE_MAX / size)
        return trn_err_set(err, TRN_E_RANGE, "%s: shape %s has too many elements to address", path,
                           shp);
    uint64_t want = (uint64_t)n * size, have = file_bytes - data_off;
    if (have != want)
        return trn_err_set(err, TRN_E_PARSE,
                           "%s: %s: data is %llu bytes, expected %llu (shape %s x %zu bytes of "
                           "'%s')",
                           path, have < want ? "truncated" : "trailing bytes after the array",
                           (unsigned long long)have, (unsigned long long)want, shp, size,
                           types[type].descr);

    char *data = malloc(want ? (size_t)want : 1);
    if (!data) return trn_err_set(err, TRN_E_NOMEM, "%s: out of memory (%s)", path, shp);
    if (fread(data, 1, (size_t)want, f) != want) {
        free(data);
        return trn_err_set(err, TRN_E_IO, "%s: read error in the data", path);
    }
    if (fortran && rank > 1 && n > 1) {
        char *c = malloc((size_t)want);
        if (!c) {
            free(data);
            return trn_err_set(err, TRN_E_NOMEM, "%s: out of memory (%s)", path, shp);
        }
        fortran_to_c(c, data, rank, shape, size, n);
        free(data);
        data = c;
    }
    out->type = type;
    out->rank = rank;
    for (int i = 0; i < rank; i++) out->shape[i] = shape[i];
    out->data = data;
    out->nbytes = (size_t)want;
    return TRN_OK;
}

trn_status trn_npy_read(const char *path, trn_array *out, trn_err *err) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return trn_err_set(err, TRN_E_IO, "%s: cannot open: %s", path, strerror(errno));
    trn_status s = npy_read_file(f, path, out, err);
    fclose(f);
    return s;
}

/* ---- .npy writer --------------------------------------------------------------------- */

trn_status trn_npy_write(const char *path, const trn_array *a, trn_err *err) {
    if (!type_ok(a->type) || a->rank < 0 || a->rank > TRN_IO_MAX_RANK)
        return trn_err_set(err, TRN_E_INVALID, "%s: bad array (type %d, rank %d)", path, a->type,
                           a->rank);
    const char *descr = types[a->type].descr;
    if (!descr)
        return trn_err_set(err, TRN_E_UNSUPPORTED, "%s: NumPy has no %s dtype; convert first", path,
                           types[a->type].name);
    int64_t n = trn_array_elems(a);
    if (n < 0 || (uint64_t)n * types[a->type].size != a->nbytes || (a->nbytes && !a->data))
        return trn_err_set(err, TRN_E_INVALID,
                           "%s: array of %zu bytes does not match its shape and type", path,
                           a->nbytes);

    /* The header exactly as numpy/lib/format.py _write_array_header builds it. */
    char shp[256], text[512];
    fmt_shape(shp, sizeof shp, a->rank, a->shape);
    int len = snprintf(text, sizeof text, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                       descr, shp);
    if (a->rank > 0) {
        char first[24];
        int digits = snprintf(first, sizeof first, "%lld", (long long)a->shape[0]);
        for (int i = digits; i < NPY_GROWTH_DIGITS; i++) text[len++] = ' ';
    }
    /* _wrap_header: spaces then '\n' so that the data starts at a multiple of 64; version 1.0
     * when the length fits in 16 bits. A rank-8 header is < 400 bytes, so 2.0 never arises. */
    size_t hlen = (size_t)len + 1;
    size_t pad = NPY_ALIGN - (NPY_MAGIC_LEN + 2 + 2 + hlen) % NPY_ALIGN;
    TRN_ASSERT(hlen + pad <= 0xFFFF);
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    pre[8] = (unsigned char)((hlen + pad) & 0xFF);
    pre[9] = (unsigned char)((hlen + pad) >> 8);
    for (size_t i = 0; i < pad; i++) text[len++] = ' ';
    text[len++] = '\n';

    FILE *f = fopen(path, "wb");
    if (!f) return trn_err_set(err, TRN_E_IO, "%s: cannot create: %s", path, strerror(errno));
    int ok = fwrite(pre, 1, sizeof pre, f) == sizeof pre &&
             fwrite(text, 1, (size_t)len, f) == (size_t)len &&
             (!a->nbytes || fwrite(a->data, 1, a->nbytes, f) == a->nbytes);
    ok = (fclose(f) == 0) && ok;
    if (!ok) {
        remove(path);
        return trn_err_set(err, TRN_E_IO, "%s: write failed", path);
    }
    return TRN_OK;
}

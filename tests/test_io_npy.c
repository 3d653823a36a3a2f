/* .npy reader and writer: round trips of every type at ranks 0..5, the bytes np.save writes
 * (built here by hand from the format spec and checked against tests/data, made by
 * tests/data/make_io_golden.py), fortran_order, versions 2.0 and 3.0 with a large header,
 * and every malformed-file case with its status and message.
 * LABELS: unit golden */
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "trnsim/io.h"

static char dir[64];
static char path[128];

/* Writes `n` bytes to the scratch file `name` and returns its path. */
static const char *scratch(const char *name, const void *bytes, size_t n) {
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    TRN_ASSERT(f);
    if (n) TRN_ASSERT(fwrite(bytes, 1, n, f) == n);
    fclose(f);
    return path;
}

/* A .npy file of version major.0 with header text `hdr` as given (the caller pads it) and
 * `data`. */
static const char *npy_file(const char *name, int major, const char *hdr, const void *data,
                            size_t data_bytes) {
    size_t hlen = strlen(hdr), o = 0;
    unsigned char *b = malloc(12 + hlen + data_bytes);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = 0;
    o = 8;
    for (int i = 0; i < (major == 1 ? 2 : 4); i++) b[o++] = (unsigned char)(hlen >> (8 * i));
    memcpy(b + o, hdr, hlen);
    if (data_bytes) memcpy(b + o + hlen, data, data_bytes);
    const char *p = scratch(name, b, o + hlen + data_bytes);
    free(b);
    return p;
}

static int read_file(const char *p, unsigned char **bytes, size_t *n) {
    void *d;
    trn_err e;
    if (trn_file_read(p, &d, n, &e) != TRN_OK) { /* an empty buffer, so callers can go on */
        *bytes = calloc(1, 1);
        *n = 0;
        return 0;
    }
    *bytes = d;
    return 1;
}

static void test_round_trips(void) {
    static const int64_t dims[5] = {2, 3, 1, 4, 3};
    uint64_t rng = 0x1234567;
    trn_err e = {0};
    int types_done = 0;
    for (int t = 0; t < TRN_IO_TYPE_COUNT; t++) {
        if (!trn_io_type_npy_descr((trn_io_type)t)) continue;
        types_done++;
        for (int rank = 0; rank <= 5; rank++) {
            trn_array a, b;
            CHECK_EQ_INT(trn_array_init(&a, (trn_io_type)t, rank, dims, &e), TRN_OK);
            unsigned char *p = a.data;
            for (size_t i = 0; i < a.nbytes; i++) p[i] = (unsigned char)test_rnd64(&rng);
            if (t == TRN_IO_BOOL)
                for (size_t i = 0; i < a.nbytes; i++) p[i] &= 1;
            const char *fp = scratch("rt.npy", "", 0);
            CHECK_EQ_INT(trn_npy_write(fp, &a, &e), TRN_OK);
            CHECK_EQ_INT(trn_npy_read(fp, &b, &e), TRN_OK);
            CHECK_EQ_INT(b.type, t);
            CHECK_EQ_INT(b.rank, rank);
            for (int i = 0; i < rank; i++) CHECK_EQ_INT(b.shape[i], dims[i]);
            CHECK_EQ_INT(b.nbytes, a.nbytes);
            CHECK(b.data && memcmp(a.data, b.data, a.nbytes) == 0);
            /* The data starts at a multiple of 64 and the header ends in '\n'. */
            unsigned char *raw;
            size_t n;
            CHECK(read_file(fp, &raw, &n));
            size_t off = n - a.nbytes;
            CHECK_EQ_INT(off % 64, 0);
            CHECK_EQ_INT(raw[off - 1], '\n');
            CHECK_EQ_INT(raw[8] | raw[9] << 8, off - 10);
            free(raw);
            trn_array_fini(&a);
            trn_array_fini(&b);
        }
    }
    CHECK_EQ_INT(types_done, 12);
    /* Empty arrays anywhere in the shape. */
    int64_t shp[3] = {2, 0, 3};
    trn_array a, b;
    CHECK_EQ_INT(trn_array_init(&a, TRN_IO_F32, 3, shp, &e), TRN_OK);
    CHECK(a.data != NULL);
    CHECK_EQ_INT(a.nbytes, 0);
    const char *fp = scratch("empty.npy", "", 0);
    CHECK_EQ_INT(trn_npy_write(fp, &a, &e), TRN_OK);
    CHECK_EQ_INT(trn_npy_read(fp, &b, &e), TRN_OK);
    CHECK_EQ_INT(b.rank, 3);
    CHECK_EQ_INT(b.shape[1], 0);
    CHECK_EQ_INT(b.nbytes, 0);
    CHECK(b.data != NULL);
    trn_array_fini(&a);
    trn_array_fini(&b);
    trn_array_fini(&b); /* a zeroed array: no-op */
    trn_array_fini(NULL);
}

/* The exact bytes of np.save(np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1), from
 * the spec: magic, version 1.0, header length 118 (0x76), the sorted dict, 21 - 1 = 20
 * spaces of growth room, 38 spaces of padding and '\n' so that 10 + 118 = 128 = 2 x 64. */
static void test_golden(void) {
    char hdr[119];
    snprintf(hdr, sizeof hdr, "%s%*s\n",
             "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20 + 38, "");
    CHECK_EQ_INT(strlen(hdr), 118);
    unsigned char want[128 + 24];
    memcpy(want, "\x93NUMPY\x01\x00\x76\x00", 10);
    memcpy(want + 10, hdr, 118);
    float v[6];
    for (int i = 0; i < 6; i++) v[i] = 0.5f * (float)i - 1.0f;
    memcpy(want + 128, v, 24);

    trn_err e = {0};
    int64_t shp[2] = {2, 3};
    trn_array a;
    CHECK_EQ_INT(trn_array_init(&a, TRN_IO_F32, 2, shp, &e), TRN_OK);
    memcpy(a.data, v, 24);
    const char *fp = scratch("golden.npy", "", 0);
    CHECK_EQ_INT(trn_npy_write(fp, &a, &e), TRN_OK);
    unsigned char *got, *gold;
    size_t n, gn;
    CHECK(read_file(fp, &got, &n));
    CHECK_EQ_INT(n, sizeof want);
    CHECK(n == sizeof want && memcmp(got, want, n) == 0);
    CHECK(read_file("tests/data/npy_f32_2x3.npy", &gold, &gn));
    CHECK(gn == n && memcmp(got, gold, n) == 0);
    free(got);
    free(gold);
    trn_array_fini(&a);

    /* 0-d int16 -7: "'shape': ()" and no growth room (a scalar has no first axis). */
    int16_t m7 = -7;
    CHECK_EQ_INT(trn_array_init(&a, TRN_IO_I16, 0, NULL, &e), TRN_OK);
    memcpy(a.data, &m7, 2);
    CHECK_EQ_INT(trn_npy_write(fp, &a, &e), TRN_OK);
    CHECK(read_file(fp, &got, &n));
    CHECK(read_file("tests/data/npy_i16_scalar.npy", &gold, &gn));
    CHECK_EQ_INT(n, 130);
    CHECK(gn == n && memcmp(got, gold, n) == 0);
    CHECK(memcmp(got + 10, "{'descr': '<i2', 'fortran_order': False, 'shape': (), }  ", 57) == 0);
    free(got);
    free(gold);
    trn_array_fini(&a);

    /* uint8 (0,): "(0,)" and '|u1'. */
    int64_t zero = 0;
    CHECK_EQ_INT(trn_array_init(&a, TRN_IO_U8, 1, &zero, &e), TRN_OK);
    CHECK_EQ_INT(trn_npy_write(fp, &a, &e), TRN_OK);
    CHECK(read_file(fp, &got, &n));
    CHECK(read_file("tests/data/npy_u8_empty.npy", &gold, &gn));
    CHECK_EQ_INT(n, 128);
    CHECK(gn == n && memcmp(got, gold, n) == 0);
    CHECK(memcmp(got + 10, "{'descr': '|u1', 'fortran_order': False, 'shape': (0,), }", 57) == 0);
    free(got);
    free(gold);
    trn_array_fini(&a);

    /* A header long enough that the growth room moves the data from 128 to 192. */
    int64_t long_shape[5] = {0, 123456789, 123456789, 123456789, 123456789};
    CHECK_EQ_INT(trn_array_init(&a, TRN_IO_F32, 5, long_shape, &e), TRN_OK);
    CHECK_EQ_INT(trn_npy_write(fp, &a, &e), TRN_OK);
    CHECK(read_file(fp, &got, &n));
    CHECK(read_file("tests/data/npy_f32_growth.npy", &gold, &gn));
    CHECK_EQ_INT(n, 192);
    CHECK(gn == n && memcmp(got, gold, n) == 0);
    free(got);
    free(gold);
    trn_array_fini(&a);

    /* Reading the golden files back. */
    trn_array b;
    CHECK_EQ_INT(trn_npy_read("tests/data/npy_f32_2x3.npy", &b, &e), TRN_OK);
    CHECK_EQ_INT(b.type, TRN_IO_F32);
    CHECK(b.nbytes == 24 && memcmp(b.data, v, 24) == 0);
    trn_array_fini(&b);
    CHECK_EQ_INT(trn_npy_read("tests/data/npy_i16_scalar.npy", &b, &e), TRN_OK);
    CHECK_EQ_INT(b.rank, 0);
    CHECK_EQ_INT(b.nbytes, 2);
    CHECK_EQ_INT(((int16_t *)b.data)[0], -7);
    trn_array_fini(&b);

    /* fortran_order True is transposed to row-major: element (i, j, k) holds 12i + 4j + k. */
    CHECK_EQ_INT(trn_npy_read("tests/data/npy_f64_fortran.npy", &b, &e), TRN_OK);
    CHECK_EQ_INT(b.type, TRN_IO_F64);
    CHECK_EQ_INT(b.rank, 3);
    CHECK(b.shape[0] == 2 && b.shape[1] == 3 && b.shape[2] == 4);
    int in_order = b.nbytes == 24 * 8;
    for (int i = 0; in_order && i < 24; i++) in_order = ((double *)b.data)[i] == (double)i;
    CHECK(in_order);
    trn_array_fini(&b);
}

static void test_versions(void) {
    trn_err e = {0};
    trn_array b;
    float v[3] = {1.5f, -2.0f, 3.25f};
    /* Version 2.0 with a header of 70,000 bytes (a 32-bit length), and 3.0. */
    size_t big = 70000;
    char *hdr = malloc(big + 1);
    const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
    memset(hdr, ' ', big);
    memcpy(hdr, dict, strlen(dict));
    hdr[big - 1] = '\n';
    hdr[big] = '\0';
    for (int major = 2; major <= 3; major++) {
        const char *fp = npy_file("v2.npy", major, hdr, v, sizeof v);
        CHECK_EQ_INT(trn_npy_read(fp, &b, &e), TRN_OK);
        CHECK_EQ_INT(b.rank, 1);
        CHECK_EQ_INT(b.shape[0], 3);
        CHECK(b.nbytes == 12 && memcmp(b.data, v, 12) == 0);
        trn_array_fini(&b);
    }
    free(hdr);

    /* Equivalent spellings np.load accepts: keys in another order, double quotes, no
     * trailing comma, Python 2 longs, '<' for a one-byte type, no final newline. */
    int32_t iv[6] = {1, 2, 3, 4, 5, 6};
    const char *fp = npy_file("alt.npy", 1,
                              "{\"shape\": (2L, 3L), \"fortran_order\": False, \"descr\": \"<i4\"}",
                              iv, sizeof iv);
    CHECK_EQ_INT(trn_npy_read(fp, &b, &e), TRN_OK);
    CHECK_EQ_INT(b.type, TRN_IO_I32);
    CHECK(b.rank == 2 && b.shape[0] == 2 && b.shape[1] == 3);
    trn_array_fini(&b);
    unsigned char u8[2] = {7, 9};
    fp = npy_file("u8.npy", 1, "{'descr': '<u1', 'fortran_order': True, 'shape': (2,), }\n", u8, 2);
    CHECK_EQ_INT(trn_npy_read(fp, &b, &e), TRN_OK);
    CHECK(b.type == TRN_IO_U8 && b.nbytes == 2 && ((unsigned char *)b.data)[1] == 9);
    trn_array_fini(&b);
}

/* One malformed file: expected status and a message naming the file and the problem; the
 * output array stays zeroed. */
static void bad(int line, const char *fp, trn_status want, const char *sub) {
    trn_err e = {0};
    trn_array b;
    memset(&b, 0xAB, sizeof b);
    trn_status s = trn_npy_read(fp, &b, &e);
    if (s != want || !strstr(e.msg, fp) || !strstr(e.msg, sub) || b.data || b.nbytes)
        fprintf(stderr, "case at line %d: status %d, message \"%s\"\n", line, s, e.msg);
    CHECK_EQ_INT(s, want);
    CHECK_CONTAINS(e.msg, fp);
    CHECK_CONTAINS(e.msg, sub);
    CHECK(b.data == NULL && b.nbytes == 0);
    CHECK_EQ_INT(trn_npy_read(fp, &b, NULL), want); /* the same without a message buffer */
}

#define BAD_HDR(hdr, data, n, want, sub) \
    bad(__LINE__, npy_file("bad.npy", 1, hdr, data, n), want, sub)

static void test_malformed(void) {
    float v[16] = {0}; /* room for the longest data below */
    bad(__LINE__, "/nonexistent/dir/x.npy", TRN_E_IO, "cannot open");
    bad(__LINE__, dir, TRN_E_IO, "not a regular file");
    bad(__LINE__, scratch("short.npy", "\x93NUM", 4), TRN_E_PARSE, "magic string");
    bad(__LINE__, scratch("magic.npy", "\x93NUMPX\x01\x00\x00\x00", 10), TRN_E_PARSE,
        "expected the magic string \\x93NUMPY");
    bad(__LINE__, scratch("v4.npy", "\x93NUMPY\x04\x00\x00\x00", 10), TRN_E_UNSUPPORTED,
        "version 4.0 is not supported (expected 1.0, 2.0 or 3.0)");
    bad(__LINE__, scratch("v11.npy", "\x93NUMPY\x01\x01\x00\x00", 10), TRN_E_UNSUPPORTED,
        "version 1.1");
    bad(__LINE__, scratch("nolen.npy", "\x93NUMPY\x02\x00\x05", 9), TRN_E_PARSE,
        "truncated .npy header length");
    bad(__LINE__, scratch("hlen.npy", "\x93NUMPY\x01\x00\xff\x00{}", 12), TRN_E_PARSE,
        "the header says it is 255 bytes");

    const char *ok = "'fortran_order': False, 'shape': (2, 3), }";
    char h[512];
    BAD_HDR("[1, 2]", v, 24, TRN_E_PARSE, "not a Python dict");
    BAD_HDR("{'descr': '<f4', 'fortran_order': False}", v, 24, TRN_E_PARSE, "missing key 'shape'");
    BAD_HDR("{'fortran_order': False, 'shape': (6,)}", v, 24, TRN_E_PARSE, "missing key 'descr'");
    BAD_HDR("{'descr': '<f4', 'shape': (6,)}", v, 24, TRN_E_PARSE, "missing key 'fortran_order'");
    BAD_HDR("{'descr': '<f4', 'extra': 1, 'fortran_order': False, 'shape': (6,)}", v, 24,
            TRN_E_PARSE, "unexpected key 'extra'");
    BAD_HDR("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", v, 24,
            TRN_E_PARSE, "key 'descr' appears twice");
    snprintf(h, sizeof h, "{'descr': '>f4', %s", ok);
    BAD_HDR(h, v, 24, TRN_E_UNSUPPORTED, "big-endian descr '>f4' is not supported");
    snprintf(h, sizeof h, "{'descr': '<c8', %s", ok);
    BAD_HDR(h, v, 48, TRN_E_UNSUPPORTED, "descr '<c8' is not supported; supported: '<f2' '<f4'");
    snprintf(h, sizeof h, "{'descr': '<U5', %s", ok);
    BAD_HDR(h, v, 24, TRN_E_UNSUPPORTED, "descr '<U5' is not supported");
    snprintf(h, sizeof h, "{'descr': [('a', '<f4')], %s", ok);
    BAD_HDR(h, v, 24, TRN_E_UNSUPPORTED, "structured dtypes");
    snprintf(h, sizeof h, "{'descr': 4, %s", ok);
    BAD_HDR(h, v, 24, TRN_E_PARSE, "'descr' must be a string");
    BAD_HDR("{'descr': '<f4', 'fortran_order': 'yes', 'shape': (6,)}", v, 24, TRN_E_PARSE,
            "'fortran_order' must be True or False");
    BAD_HDR("{'descr': '<f4', 'fortran_order': Truest, 'shape': (6,)}", v, 24, TRN_E_PARSE,
            "'fortran_order' must be True or False");
    BAD_HDR("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 6)}", v, 24, TRN_E_PARSE,
            "'shape' has a negative dimension");
    BAD_HDR("{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,)}", v, 24, TRN_E_PARSE,
            "'shape' has an entry that is not an integer");
    BAD_HDR("{'descr': '<f4', 'fortran_order': False, 'shape': ('a',)}", v, 24, TRN_E_PARSE,
            "'shape' has an entry that is not an integer");
    BAD_HDR("{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}", v, 24, TRN_E_PARSE,
            "not an integer");
    BAD_HDR("{'descr': '<f4', 'fortran_order': False, 'shape': (6)}", v, 24, TRN_E_PARSE,
            "is an integer, not a tuple; expected (N,)");
    BAD_HDR("{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}", v, 24, TRN_E_PARSE,
            "'shape' must be a tuple");
    BAD_HDR("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", v, 24,
            TRN_E_RANGE, "does not fit in 64 bits");
    BAD_HDR("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", v, 24,
            TRN_E_RANGE, "shape (4294967296, 4294967296) has too many elements");
    BAD_HDR("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,6)}", v, 24,
            TRN_E_UNSUPPORTED, "more than 8 dimensions");
    BAD_HDR("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)} x", v, 24, TRN_E_PARSE,
            "unexpected text after the dict");
    BAD_HDR("{'descr': '<f4' 'fortran_order': False, 'shape': (6,)}", v, 24, TRN_E_PARSE,
            "expected ',' or '}'");
    BAD_HDR("{'descr': '<f4, 'fortran_order': False, 'shape': (6,)}", v, 24, TRN_E_PARSE,
            "bad .npy header");
    BAD_HDR("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", v, 20, TRN_E_PARSE,
            "truncated: data is 20 bytes, expected 24 (shape (2, 3) x 4 bytes of '<f4')");
    BAD_HDR("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", v, 28, TRN_E_PARSE,
            "trailing bytes after the array: data is 28 bytes, expected 24");
    BAD_HDR("{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", v, 0, TRN_E_PARSE,
            "data is 0 bytes, expected 4");
}

static void test_write_errors(void) {
    trn_err e = {0};
    trn_array a;
    int64_t two = 2;
    const char *fp = scratch("w.npy", "", 0);
    for (int t = 0; t < TRN_IO_TYPE_COUNT; t++) {
        if (trn_io_type_npy_descr((trn_io_type)t)) continue;
        CHECK_EQ_INT(trn_array_init(&a, (trn_io_type)t, 1, &two, &e), TRN_OK);
        CHECK_EQ_INT(trn_npy_write(fp, &a, &e), TRN_E_UNSUPPORTED);
        CHECK_CONTAINS(e.msg, fp);
        CHECK_CONTAINS(e.msg, trn_io_type_name((trn_io_type)t));
        trn_array_fini(&a);
    }
    CHECK_EQ_INT(trn_array_init(&a, TRN_IO_F32, 1, &two, &e), TRN_OK);
    a.nbytes = 4; /* inconsistent with the shape */
    CHECK_EQ_INT(trn_npy_write(fp, &a, &e), TRN_E_INVALID);
    CHECK_CONTAINS(e.msg, "does not match its shape");
    a.nbytes = 8;
    CHECK_EQ_INT(trn_npy_write("/nonexistent/dir/y.npy", &a, &e), TRN_E_IO);
    CHECK_CONTAINS(e.msg, "/nonexistent/dir/y.npy");
    trn_array_fini(&a);

    int64_t neg = -1, huge[2] = {INT64_MAX / 4, 16};
    CHECK_EQ_INT(trn_array_init(&a, TRN_IO_F32, 1, &neg, &e), TRN_E_INVALID);
    CHECK(a.data == NULL);
    CHECK_EQ_INT(trn_array_init(&a, TRN_IO_F32, 2, huge, &e), TRN_E_RANGE);
    CHECK_EQ_INT(trn_array_init(&a, TRN_IO_F32, 9, huge, &e), TRN_E_INVALID);
    CHECK_EQ_INT(trn_shape_elems(2, huge), -1);
}

static void test_types(void) {
    for (int t = 0; t < TRN_IO_TYPE_COUNT; t++) {
        trn_io_type back = TRN_IO_TYPE_COUNT;
        CHECK_EQ_INT(trn_io_type_from_name(trn_io_type_name((trn_io_type)t), &back), TRN_OK);
        CHECK_EQ_INT(back, t);
        size_t sz = trn_io_type_size((trn_io_type)t);
        CHECK(sz == 1 || sz == 2 || sz == 4 || sz == 8);
        const char *d = trn_io_type_npy_descr((trn_io_type)t);
        if (d) CHECK_EQ_INT((size_t)(d[2] - '0'), sz);
    }
    trn_io_type x = TRN_IO_F32;
    CHECK_EQ_INT(trn_io_type_from_name("f32", &x), TRN_E_NOTFOUND);
    CHECK_EQ_INT(trn_io_type_size(TRN_IO_TYPE_COUNT), 0);
    CHECK(strcmp(trn_io_type_name(TRN_IO_BF16), "BF16") == 0);
    CHECK(strcmp(trn_io_type_npy_descr(TRN_IO_BOOL), "|b1") == 0);
    CHECK(trn_io_type_npy_descr(TRN_IO_BF16) == NULL);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/trn_test_npy_XXXXXX");
    TRN_ASSERT(mkdtemp(dir));
    test_types();
    test_round_trips();
    test_golden();
    test_versions();
    test_malformed();
    test_write_errors();
    static const char *names[] = {"rt.npy",    "empty.npy", "golden.npy", "v2.npy", "alt.npy",
                                  "u8.npy",    "short.npy", "magic.npy",  "v4.npy", "v11.npy",
                                  "nolen.npy", "hlen.npy",  "bad.npy",    "w.npy"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        remove(path);
    }
    CHECK_EQ_INT(rmdir(dir), 0);
    return test_summary();
}

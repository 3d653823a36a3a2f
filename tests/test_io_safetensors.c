/* .safetensors reader and writer: round trip of every type at ranks 0..5 with metadata,
 * header padding and layout, byte equality with tests/data/st_small.safetensors (made by
 * tests/data/make_io_golden.py), reads by name, unknown names, and every validation error
 * with its status and a message naming the file and the tensor.
 * LABELS: unit golden */
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "trnsim/io.h"

static char dir[64];
static char path[128];

static const char *scratch_path(const char *name) {
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* A file: 8-byte length of `json`, `json`, then `data_bytes` bytes of 0x5A. */
static const char *st_file(const char *json, size_t data_bytes) {
    const char *p = scratch_path("bad.safetensors");
    FILE *f = fopen(p, "wb");
    TRN_ASSERT(f);
    uint64_t n = strlen(json);
    unsigned char nb[8];
    for (int i = 0; i < 8; i++) nb[i] = (unsigned char)(n >> (8 * i));
    fwrite(nb, 1, 8, f);
    fwrite(json, 1, n, f);
    for (size_t i = 0; i < data_bytes; i++) fputc(0x5A, f);
    fclose(f);
    return p;
}

static void test_round_trip(void) {
    static const int64_t dims[5] = {3, 2, 1, 2, 3};
    enum { NT = TRN_IO_TYPE_COUNT * 6 };
    trn_array arrays[NT];
    trn_named_array named[NT];
    char names[NT][32];
    uint64_t rng = 99;
    trn_err e = {0};
    size_t n = 0;
    for (int t = 0; t < TRN_IO_TYPE_COUNT; t++) {
        for (int rank = 0; rank <= 5; rank++, n++) {
            CHECK_EQ_INT(trn_array_init(&arrays[n], (trn_io_type)t, rank, dims, &e), TRN_OK);
            unsigned char *p = arrays[n].data;
            for (size_t i = 0; i < arrays[n].nbytes; i++) p[i] = (unsigned char)test_rnd64(&rng);
            snprintf(names[n], sizeof names[n], "model.%s.r%d", trn_io_type_name((trn_io_type)t),
                     rank);
            named[n] = (trn_named_array){names[n], &arrays[n]};
        }
    }
    trn_kv meta[2] = {{"format", "pt"}, {"odd \"key\"\n", "caf\xc3\xa9\t\\"}};
    const char *fp = scratch_path("rt.safetensors");
    CHECK_EQ_INT(trn_safetensors_write(fp, named, n, meta, 2, &e), TRN_OK);

    /* Header: length a multiple of 8, padded with spaces, JSON starting with '{'. */
    void *raw;
    size_t raw_n;
    CHECK_EQ_INT(trn_file_read(fp, &raw, &raw_n, &e), TRN_OK);
    const unsigned char *rb = raw;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | rb[i];
    CHECK_EQ_INT(hlen % 8, 0);
    CHECK(hlen < raw_n && rb[8] == '{');
    size_t last = 8 + (size_t)hlen - 1;
    while (last > 8 && rb[last] == ' ') last--;
    CHECK_EQ_INT(rb[last], '}');
    free(raw);

    trn_safetensors *st;
    CHECK_EQ_INT(trn_safetensors_open(fp, &st, &e), TRN_OK);
    CHECK_EQ_INT(trn_safetensors_count(st), n);
    CHECK(strcmp(trn_safetensors_path(st), fp) == 0);
    CHECK_EQ_INT(trn_safetensors_meta_count(st), 2);
    CHECK(strcmp(trn_safetensors_meta_key(st, 1), meta[1].key) == 0);
    CHECK(strcmp(trn_safetensors_meta_value(st, 1), meta[1].value) == 0);
    CHECK(strcmp(trn_safetensors_meta(st, "format"), "pt") == 0);
    CHECK(trn_safetensors_meta(st, "nope") == NULL);
    CHECK(trn_safetensors_meta_key(st, 2) == NULL);
    /* File order: back to back, element sizes not increasing, each aligned to its size. */
    uint64_t pos = 0;
    size_t prev_size = 8;
    for (size_t i = 0; i < n; i++) {
        const trn_tensor_info *t = trn_safetensors_tensor(st, i);
        size_t sz = trn_io_type_size(t->type);
        CHECK_EQ_INT(t->begin_bytes, pos);
        CHECK_EQ_INT(t->begin_bytes % sz, 0);
        CHECK(sz <= prev_size);
        prev_size = sz;
        pos = t->end_bytes;
    }
    CHECK(trn_safetensors_tensor(st, n) == NULL);
    for (size_t i = 0; i < n; i++) {
        trn_array b;
        CHECK_EQ_INT(trn_safetensors_read_array(st, names[i], &b, &e), TRN_OK);
        CHECK_EQ_INT(b.type, arrays[i].type);
        CHECK_EQ_INT(b.rank, arrays[i].rank);
        for (int d = 0; d < b.rank; d++) CHECK_EQ_INT(b.shape[d], arrays[i].shape[d]);
        CHECK(b.nbytes == arrays[i].nbytes && memcmp(b.data, arrays[i].data, b.nbytes) == 0);
        trn_array_fini(&b);
    }
    trn_safetensors_close(st);
    for (size_t i = 0; i < n; i++) trn_array_fini(&arrays[i]);

    /* No tensors, no metadata: "{}" and six spaces. */
    CHECK_EQ_INT(trn_safetensors_write(fp, NULL, 0, NULL, 0, &e), TRN_OK);
    CHECK_EQ_INT(trn_file_read(fp, &raw, &raw_n, &e), TRN_OK);
    CHECK(raw_n == 16 && memcmp(raw, "\x08\0\0\0\0\0\0\0{}      ", 16) == 0);
    free(raw);
    CHECK_EQ_INT(trn_safetensors_open(fp, &st, &e), TRN_OK);
    CHECK_EQ_INT(trn_safetensors_count(st), 0);
    const trn_tensor_info *t;
    CHECK_EQ_INT(trn_safetensors_find(st, "x", &t, &e), TRN_E_NOTFOUND);
    CHECK_CONTAINS(e.msg, "(the file has 0 tensors: none)");
    trn_safetensors_close(st);
    trn_safetensors_close(NULL);
}

/* The golden checkpoint: same arrays as make_io_golden.py, written and read. */
static void test_golden(void) {
    trn_err e = {0};
    int64_t s23[2] = {2, 3}, s3 = 3, s24[2] = {2, 4}, s2 = 2;
    trn_array w, b, blocks, scales, step;
    CHECK_EQ_INT(trn_array_init(&w, TRN_IO_F32, 2, s23, &e), TRN_OK);
    CHECK_EQ_INT(trn_array_init(&b, TRN_IO_BF16, 1, &s3, &e), TRN_OK);
    CHECK_EQ_INT(trn_array_init(&blocks, TRN_IO_U8, 2, s24, &e), TRN_OK);
    CHECK_EQ_INT(trn_array_init(&scales, TRN_IO_U8, 1, &s2, &e), TRN_OK);
    CHECK_EQ_INT(trn_array_init(&step, TRN_IO_I64, 0, NULL, &e), TRN_OK);
    for (int i = 0; i < 6; i++) ((float *)w.data)[i] = 0.5f * (float)i - 1.0f;
    for (int i = 0; i < 3; i++) ((uint16_t *)b.data)[i] = (uint16_t)(0x3F80 + i);
    for (int i = 0; i < 8; i++) ((uint8_t *)blocks.data)[i] = (uint8_t)(17 * i);
    ((uint8_t *)scales.data)[0] = 127;
    ((uint8_t *)scales.data)[1] = 128;
    *(int64_t *)step.data = -5;
    trn_named_array named[5] = {
        {"w", &w}, {"b", &b}, {"mlp.blocks", &blocks}, {"mlp.scales", &scales}, {"step", &step}};
    trn_kv meta[2] = {{"format", "pt"}, {"note", "tab\there \"quoted\""}};
    const char *fp = scratch_path("golden.safetensors");
    CHECK_EQ_INT(trn_safetensors_write(fp, named, 5, meta, 2, &e), TRN_OK);
    void *got, *gold;
    size_t n, gn;
    CHECK_EQ_INT(trn_file_read(fp, &got, &n, &e), TRN_OK);
    CHECK_EQ_INT(trn_file_read("tests/data/st_small.safetensors", &gold, &gn, &e), TRN_OK);
    CHECK_EQ_INT(n, gn);
    CHECK(n == gn && memcmp(got, gold, n) == 0);
    free(got);
    free(gold);

    trn_safetensors *st;
    CHECK_EQ_INT(trn_safetensors_open("tests/data/st_small.safetensors", &st, &e), TRN_OK);
    CHECK_EQ_INT(trn_safetensors_count(st), 5);
    static const char *order[5] = {"step", "w", "b", "mlp.blocks", "mlp.scales"};
    for (int i = 0; i < 5; i++) CHECK(strcmp(trn_safetensors_tensor(st, i)->name, order[i]) == 0);
    CHECK(strcmp(trn_safetensors_meta(st, "note"), "tab\there \"quoted\"") == 0);

    const trn_tensor_info *t;
    CHECK_EQ_INT(trn_safetensors_find(st, "mlp.blocks", &t, &e), TRN_OK);
    CHECK(t && t->type == TRN_IO_U8 && t->rank == 2 && t->shape[1] == 4);
    uint8_t buf[8];
    CHECK_EQ_INT(trn_safetensors_read(st, t, buf, 8, &e), TRN_OK);
    CHECK(memcmp(buf, blocks.data, 8) == 0);
    CHECK_EQ_INT(trn_safetensors_read(st, t, buf, 7, &e), TRN_E_INVALID);
    CHECK_CONTAINS(e.msg, "tensor 'mlp.blocks' is 8 bytes, the destination 7");
    trn_array x;
    CHECK_EQ_INT(trn_safetensors_read_array(st, "w", &x, &e), TRN_OK);
    CHECK(x.nbytes == 24 && memcmp(x.data, w.data, 24) == 0);
    trn_array_fini(&x);
    CHECK_EQ_INT(trn_safetensors_read_array(st, "step", &x, &e), TRN_OK);
    CHECK(x.rank == 0 && x.nbytes == 8 && *(int64_t *)x.data == -5);
    trn_array_fini(&x);

    /* Unknown name: the file, the name and what the file has. */
    CHECK_EQ_INT(trn_safetensors_find(st, "lm_head.weight", &t, &e), TRN_E_NOTFOUND);
    CHECK(t == NULL);
    CHECK_CONTAINS(e.msg, "tests/data/st_small.safetensors: no tensor named 'lm_head.weight'");
    CHECK_CONTAINS(e.msg, "the file has 5 tensors: 'step', 'w', 'b', 'mlp.blocks'");
    CHECK_EQ_INT(trn_safetensors_find(st, "zzz", &t, NULL), TRN_E_NOTFOUND);
    memset(&x, 0x11, sizeof x);
    CHECK_EQ_INT(trn_safetensors_read_array(st, "nope", &x, &e), TRN_E_NOTFOUND);
    CHECK(x.data == NULL);

    /* expect: type and shape checks name the file and the tensor. */
    int64_t want23[2] = {2, 3}, want32[2] = {3, 2};
    CHECK_EQ_INT(trn_safetensors_expect(st, "w", TRN_IO_F32, 2, want23, &t, &e), TRN_OK);
    CHECK(t && strcmp(t->name, "w") == 0);
    CHECK_EQ_INT(trn_safetensors_expect(st, "w", TRN_IO_F32, 2, want32, &t, &e), TRN_E_INVALID);
    CHECK(t == NULL);
    CHECK_CONTAINS(e.msg, "st_small.safetensors: tensor 'w': F32 [2, 3], expected F32 [3, 2]");
    CHECK_EQ_INT(trn_safetensors_expect(st, "b", TRN_IO_F16, 1, &s3, &t, &e), TRN_E_INVALID);
    CHECK_CONTAINS(e.msg, "tensor 'b': BF16 [3], expected F16 [3]");
    CHECK_EQ_INT(trn_safetensors_expect(st, "q", TRN_IO_F16, 1, &s3, &t, &e), TRN_E_NOTFOUND);
    trn_safetensors_close(st);

    /* Truncating the golden file by one byte is caught at open, naming the last tensor. */
    CHECK_EQ_INT(trn_file_read("tests/data/st_small.safetensors", &gold, &gn, &e), TRN_OK);
    CHECK_EQ_INT(trn_file_write(fp, gold, gn - 1, &e), TRN_OK);
    free(gold);
    CHECK_EQ_INT(trn_safetensors_open(fp, &st, &e), TRN_E_PARSE);
    CHECK(st == NULL);
    CHECK_CONTAINS(e.msg, fp);
    CHECK_CONTAINS(e.msg, "tensor 'mlp.scales': data_offsets [46, 48] run past the data buffer "
                          "of 47 bytes (truncated file?)");

    trn_array_fini(&w);
    trn_array_fini(&b);
    trn_array_fini(&blocks);
    trn_array_fini(&scales);
    trn_array_fini(&step);
}

static void bad(int line, const char *fp, trn_status want, const char *sub) {
    trn_err e = {0};
    trn_safetensors *st = (trn_safetensors *)&e; /* must come back NULL */
    trn_status s = trn_safetensors_open(fp, &st, &e);
    if (s != want || !strstr(e.msg, fp) || !strstr(e.msg, sub))
        fprintf(stderr, "case at line %d: status %d, message \"%s\"\n", line, s, e.msg);
    CHECK_EQ_INT(s, want);
    CHECK_CONTAINS(e.msg, fp);
    CHECK_CONTAINS(e.msg, sub);
    CHECK(st == NULL);
    trn_safetensors_close(s == TRN_OK ? st : NULL);
    CHECK_EQ_INT(trn_safetensors_open(fp, &st, NULL), want); /* without a message buffer */
    trn_safetensors_close(st);
}

#define BAD(json, data_bytes, want, sub) bad(__LINE__, st_file(json, data_bytes), want, sub)
#define T24                              "\"dtype\":\"F32\",\"shape\":[2,3]"

static void test_malformed(void) {
    bad(__LINE__, "/nonexistent/m.safetensors", TRN_E_IO, "cannot open");
    bad(__LINE__, dir, TRN_E_IO, "not a regular file");
    const char *fp = scratch_path("short.safetensors");
    trn_err e;
    CHECK_EQ_INT(trn_file_write(fp, "\x02\0\0", 3, &e), TRN_OK);
    bad(__LINE__, fp, TRN_E_PARSE, "3 bytes, too short for the 8-byte header size");
    CHECK_EQ_INT(trn_file_write(fp, "\xff\0\0\0\0\0\0\0{}", 10, &e), TRN_OK);
    bad(__LINE__, fp, TRN_E_PARSE, "header size 255 runs past the end of the file (10 bytes)");
    CHECK_EQ_INT(trn_file_write(fp, "\x00\0\0\0\0\0\0\0", 8, &e), TRN_OK);
    bad(__LINE__, fp, TRN_E_PARSE, "the header is not a JSON object");

    BAD("[1, 2]", 0, TRN_E_PARSE, "the header is not a JSON object (expected '{' at byte 8)");
    BAD("{\"a\": {\"dtype\": \"F32\",}", 0, TRN_E_PARSE, "bad JSON in the header at byte");
    BAD("{} x", 0, TRN_E_PARSE, "bad JSON in the header");
    BAD("{\"a\": 3}", 0, TRN_E_PARSE, "tensor 'a': expected a JSON object");
    BAD("{\"a\":{\"shape\":[2,3],\"data_offsets\":[0,24]}}", 24, TRN_E_PARSE,
        "tensor 'a': missing field \"dtype\"");
    BAD("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,24]}}", 24, TRN_E_PARSE,
        "tensor 'a': missing field \"shape\"");
    BAD("{\"a\":{" T24 "}}", 24, TRN_E_PARSE, "tensor 'a': missing field \"data_offsets\"");
    BAD("{\"a\":{\"dtype\":\"F128\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", 24, TRN_E_PARSE,
        "tensor 'a': unknown dtype \"F128\" (expected F32, F16, BF16");
    BAD("{\"a\":{\"dtype\":7,\"shape\":[2,3],\"data_offsets\":[0,24]}}", 24, TRN_E_PARSE,
        "tensor 'a': unknown dtype (not a string)");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":6,\"data_offsets\":[0,24]}}", 24, TRN_E_PARSE,
        "tensor 'a': \"shape\" must be an array");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,-3],\"data_offsets\":[0,24]}}", 24, TRN_E_PARSE,
        "tensor 'a': shape entry 1 is not a non-negative integer");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,24]}}", 24, TRN_E_PARSE,
        "tensor 'a': shape entry 0 is not a non-negative integer");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,6],\"data_offsets\":[0,24]}}", 24,
        TRN_E_UNSUPPORTED, "tensor 'a': 9 dimensions, at most 8 are supported");
    BAD("{\"a\":{" T24 ",\"data_offsets\":[0]}}", 24, TRN_E_PARSE,
        "tensor 'a': \"data_offsets\" must be [begin, end]");
    BAD("{\"a\":{" T24 ",\"data_offsets\":[0,\"24\"]}}", 24, TRN_E_PARSE,
        "tensor 'a': \"data_offsets\" must be [begin, end]");
    BAD("{\"a\":{" T24 ",\"data_offsets\":[24,0]}}", 24, TRN_E_PARSE,
        "tensor 'a': data_offsets [24, 0] end before they begin");
    BAD("{\"a\":{" T24 ",\"data_offsets\":[0,20]}}", 20, TRN_E_PARSE,
        "tensor 'a': shape [2, 3] x 4 bytes (F32) = 24 bytes, but data_offsets [0, 20] hold 20");
    BAD("{\"a\":{" T24 ",\"data_offsets\":[0,24]}}", 20, TRN_E_PARSE,
        "tensor 'a': data_offsets [0, 24] run past the data buffer of 20 bytes");
    BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,1]}}", 1,
        TRN_E_RANGE, "tensor 'a': shape [4294967296, 4294967296] has too many elements");
    BAD("{\"a\":{" T24 ",\"data_offsets\":[0,24]},\"b\":{" T24 ",\"data_offsets\":[16,40]}}", 40,
        TRN_E_PARSE, "tensor 'b' [16, 40) overlaps tensor 'a' [0, 24)");
    BAD("{\"a\":{" T24 ",\"data_offsets\":[0,24]},\"b\":{" T24 ",\"data_offsets\":[28,52]}}", 52,
        TRN_E_PARSE,
        "bytes [24, 28) of the data buffer belong to no tensor (tensor 'b' begins at 28)");
    BAD("{\"a\":{" T24 ",\"data_offsets\":[0,24]}}", 30, TRN_E_PARSE,
        "the last 6 bytes of the data buffer belong to no tensor");
    BAD("{\"a\":{" T24 ",\"data_offsets\":[0,24]},\"a\":{" T24 ",\"data_offsets\":[24,48]}}", 48,
        TRN_E_PARSE, "tensor 'a' appears twice in the header");
    BAD("{\"__metadata__\":{\"k\":1},\"a\":{" T24 ",\"data_offsets\":[0,24]}}", 24, TRN_E_PARSE,
        "\"__metadata__\" entry 'k' is not a string");
    BAD("{\"__metadata__\":[\"k\"],\"a\":{" T24 ",\"data_offsets\":[0,24]}}", 24, TRN_E_PARSE,
        "\"__metadata__\" must be an object of strings");
    BAD("{\"__metadata__\":{},\"__metadata__\":{}}", 0, TRN_E_PARSE,
        "\"__metadata__\" appears twice");

    /* Valid edge cases: header padded with spaces, empty tensors, keys in any order. */
    const char *ok = st_file("{\"e\":{\"data_offsets\":[0,0],\"shape\":[0,3],\"dtype\":\"F16\"},"
                             "\"s\":{\"dtype\":\"BOOL\",\"shape\":[],\"data_offsets\":[0,1]}}    ",
                             1);
    trn_safetensors *st;
    CHECK_EQ_INT(trn_safetensors_open(ok, &st, &e), TRN_OK);
    CHECK_EQ_INT(trn_safetensors_count(st), 2);
    trn_array x;
    CHECK_EQ_INT(trn_safetensors_read_array(st, "e", &x, &e), TRN_OK);
    CHECK(x.nbytes == 0 && x.rank == 2 && x.data != NULL);
    trn_array_fini(&x);
    CHECK_EQ_INT(trn_safetensors_read_array(st, "s", &x, &e), TRN_OK);
    CHECK(x.nbytes == 1 && ((unsigned char *)x.data)[0] == 0x5A);
    trn_array_fini(&x);
    trn_safetensors_close(st);
}

static void test_write_errors(void) {
    trn_err e = {0};
    int64_t two = 2;
    trn_array a, c;
    CHECK_EQ_INT(trn_array_init(&a, TRN_IO_F32, 1, &two, &e), TRN_OK);
    CHECK_EQ_INT(trn_array_init(&c, TRN_IO_U8, 1, &two, &e), TRN_OK);
    const char *fp = scratch_path("w.safetensors");
    trn_named_array dup[3] = {{"x", &a}, {"y", &c}, {"x", &c}};
    CHECK_EQ_INT(trn_safetensors_write(fp, dup, 3, NULL, 0, &e), TRN_E_INVALID);
    CHECK_CONTAINS(e.msg, "tensor 'x' appears twice");
    CHECK_CONTAINS(e.msg, fp);
    trn_named_array empty[1] = {{"", &a}};
    CHECK_EQ_INT(trn_safetensors_write(fp, empty, 1, NULL, 0, &e), TRN_E_INVALID);
    CHECK_CONTAINS(e.msg, "empty or reserved name");
    trn_named_array reserved[1] = {{"__metadata__", &a}};
    CHECK_EQ_INT(trn_safetensors_write(fp, reserved, 1, NULL, 0, &e), TRN_E_INVALID);
    a.nbytes = 4;
    trn_named_array one[1] = {{"x", &a}};
    CHECK_EQ_INT(trn_safetensors_write(fp, one, 1, NULL, 0, &e), TRN_E_INVALID);
    CHECK_CONTAINS(e.msg, "tensor 'x': the array's bytes do not match its shape and type");
    a.nbytes = 8;
    trn_kv meta[2] = {{"k", "1"}, {"k", "2"}};
    CHECK_EQ_INT(trn_safetensors_write(fp, one, 1, meta, 2, &e), TRN_E_INVALID);
    CHECK_CONTAINS(e.msg, "metadata key 'k' appears twice");
    CHECK_EQ_INT(trn_safetensors_write("/nonexistent/w.safetensors", one, 1, meta, 1, &e),
                 TRN_E_IO);
    CHECK_CONTAINS(e.msg, "/nonexistent/w.safetensors");
    trn_array_fini(&a);
    trn_array_fini(&c);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/trn_test_st_XXXXXX");
    TRN_ASSERT(mkdtemp(dir));
    test_round_trip();
    test_golden();
    test_malformed();
    test_write_errors();
    static const char *names[] = {"rt.safetensors", "golden.safetensors", "bad.safetensors",
                                  "short.safetensors", "w.safetensors"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) remove(scratch_path(names[i]));
    CHECK_EQ_INT(rmdir(dir), 0);
    return test_summary();
}

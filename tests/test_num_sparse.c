/* N:M structured sparsity: pattern parsing, compress/expand roundtrips for every pattern on
 * random tiles, padding of short groups, the tag layout by hand, and the error messages for
 * a dense group and for bad tags.
 * LABELS: unit */
#include "harness.h"
#include "trnsim/num.h"

static const trn_nm PATTERNS[] = {{4, 16}, {4, 12}, {4, 8}, {2, 8}, {2, 4}, {1, 4}, {1, 2}};
#define NPAT ((int)(sizeof PATTERNS / sizeof PATTERNS[0]))

static uint64_t ctr;
static uint64_t rnd(void) {
    return trn_rng_u64(3, ctr++);
}

static void test_parse(void) {
    static const char *ok[] = {"4:16", "4:12", "4:8", "2:8", "2:4", "1:4", "1:2"};
    trn_err err = {0};
    for (int i = 0; i < NPAT; i++) {
        trn_nm p = {0, 0};
        CHECK_EQ_INT(trn_nm_parse(ok[i], &p, &err), TRN_OK);
        CHECK(p.m == PATTERNS[i].m && p.n == PATTERNS[i].n);
    }
    static const char *bad[] = {"3:16", "4:4", "2:16",  "8:16", "4:",   ":16",     "4:16x",
                                "4-16", "",    " 4:16", "0:2",  "-1:2", "4:016:1", "1:2 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        trn_nm p = {9, 9};
        CHECK_EQ_INT(trn_nm_parse(bad[i], &p, &err), TRN_E_INVALID);
        CHECK(p.m == 9 && p.n == 9);
    }
    CHECK_EQ_INT(trn_nm_parse("3:16", NULL, &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "'3:16'");
    CHECK_CONTAINS(err.msg, "4:16 4:12 4:8 2:8 2:4 1:4 1:2");
}

/* Hand-checked layout: 4:8 on one row of 16, tags packed 4 per uint16, low nibble first. */
static void test_layout(void) {
    const trn_nm p = {4, 8};
    const float dense[16] = {0, 1, 0, 2, 0, 0, 3, 4, /* group 0: positions 1 3 6 7 */
                             5, 0, 0, 0, 0, 6, 0, 0 /* group 1: 0 5, padded with 1 2 */};
    float values[8];
    uint16_t tags[2];
    trn_err err = {0};
    CHECK_EQ_INT(trn_nm_tag_words(p, 16), 2);
    CHECK_EQ_INT(trn_nm_compress(p, dense, 1, 16, values, tags, &err), TRN_OK);
    CHECK_EQ_HEX(tags[0], 0x7631);
    CHECK_EQ_HEX(tags[1], 0x5210);
    const float want[8] = {1, 2, 3, 4, 5, 0, 0, 6};
    CHECK(memcmp(values, want, sizeof want) == 0);
    float back[16];
    CHECK_EQ_INT(trn_nm_expand(p, values, tags, 1, 16, back, &err), TRN_OK);
    CHECK(memcmp(back, dense, sizeof dense) == 0);

    /* 1:4 with 8 columns: two tags in one word, the unused nibbles written 0. */
    const trn_nm q = {1, 4};
    const float d2[8] = {0, 0, 0, 7, 0, 0, 0, 0};
    uint16_t t2[1] = {0xffff};
    CHECK_EQ_INT(trn_nm_tag_words(q, 8), 1);
    CHECK_EQ_INT(trn_nm_compress(q, d2, 1, 8, values, t2, &err), TRN_OK);
    CHECK_EQ_HEX(t2[0], 0x0003);
    CHECK(values[0] == 7 && values[1] == 0);
    /* Unused nibbles are not tags: expand ignores them. */
    t2[0] = 0xab03;
    CHECK_EQ_INT(trn_nm_expand(q, values, t2, 1, 8, back, &err), TRN_OK);
    CHECK(memcmp(back, d2, sizeof d2) == 0);
    /* NaN counts as a non-zero and survives; -0 does not and comes back +0. */
    const float d3[4] = {-0.0f, NAN, 0, 0};
    CHECK_EQ_INT(trn_nm_compress(q, d3, 1, 4, values, t2, &err), TRN_OK);
    CHECK_EQ_HEX(t2[0], 1);
    CHECK(isnan(values[0]));
    CHECK_EQ_INT(trn_nm_expand(q, values, t2, 1, 4, back, &err), TRN_OK);
    CHECK_BITS_F32(back[0], 0.0f);
    CHECK(isnan(back[1]));
}

/* Random tiles that respect each pattern (some groups short, some empty) roundtrip exactly. */
static void test_roundtrip(void) {
    enum { R = 37, GROUPS = 9 };
    static float dense[R * 16 * GROUPS], back[R * 16 * GROUPS], values[R * 4 * GROUPS];
    static uint16_t tags[R * GROUPS];
    trn_err err = {0};
    for (int k = 0; k < NPAT; k++) {
        const trn_nm p = PATTERNS[k];
        const size_t cols = (size_t)p.n * GROUPS, vrow = (size_t)p.m * GROUPS;
        const size_t tw = trn_nm_tag_words(p, cols);
        CHECK_EQ_INT(tw, (vrow + 3) / 4);
        for (int trial = 0; trial < 20; trial++) {
            for (size_t i = 0; i < R * cols; i++) dense[i] = 0;
            for (size_t r = 0; r < R; r++) {
                for (size_t g = 0; g < GROUPS; g++) {
                    unsigned nz = (unsigned)(rnd() % (p.m + 1u)); /* 0..m non-zeros */
                    for (unsigned j = 0; j < nz;) {
                        size_t at = r * cols + g * p.n + rnd() % p.n;
                        if (dense[at] != 0) continue;
                        float v = (float)(int)(rnd() % 2001) - 1000.0f;
                        dense[at] = v != 0 ? v * 0.125f : 1.0f;
                        j++;
                    }
                }
            }
            memset(tags, 0xff, sizeof tags);
            CHECK_EQ_INT(trn_nm_compress(p, dense, R, cols, values, tags, &err), TRN_OK);
            /* Tags strictly increasing in each group, values at their positions. */
            int ok = 1;
            for (size_t r = 0; r < R; r++) {
                for (size_t g = 0; g < GROUPS; g++) {
                    int prev = -1;
                    for (unsigned j = 0; j < p.m; j++) {
                        size_t idx = g * p.m + j;
                        unsigned t = (tags[r * tw + idx / 4] >> (4 * (idx % 4))) & 0xf;
                        ok &= (int)t > prev && t < p.n;
                        ok &= values[r * vrow + idx] == dense[r * cols + g * p.n + t];
                        prev = (int)t;
                    }
                }
            }
            CHECK_MSG(ok, "%u:%u: tags or values wrong", p.m, p.n);
            CHECK_EQ_INT(trn_nm_expand(p, values, tags, R, cols, back, &err), TRN_OK);
            CHECK(memcmp(back, dense, R * cols * sizeof(float)) == 0);
        }
    }
}

static void test_errors(void) {
    trn_err err = {0};
    enum { C = 64 };
    static float dense[4 * C], values[4 * 16];
    static uint16_t tags[4 * 4];
    const trn_nm p = {4, 16};
    for (int i = 0; i < 4 * C; i++) dense[i] = i % 5 == 0 ? 1.0f : 0.0f;
    /* Row 3, group 2 (columns 32..47) gets a fifth non-zero. */
    for (int i = 32; i < 48; i++) dense[3 * C + i] = 0;
    for (int i = 0; i < 5; i++) dense[3 * C + 32 + 3 * i] = 2.0f;
    CHECK_EQ_INT(trn_nm_compress(p, dense, 4, C, values, tags, &err), TRN_E_INVALID);
    CHECK(strcmp(err.msg, "row 3, group 2 (columns 32..47): 5 non-zeros, 4:16 allows at most 4") ==
          0);
    CHECK_CONTAINS(err.msg, "row 3, group 2");
    /* Exactly m non-zeros is fine. */
    dense[3 * C + 44] = 0;
    CHECK_EQ_INT(trn_nm_compress(p, dense, 4, C, values, tags, &err), TRN_OK);

    /* Bad shapes and patterns. */
    const trn_nm bad = {3, 16};
    CHECK_EQ_INT(trn_nm_compress(bad, dense, 4, C, values, tags, &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "3:16");
    CHECK_EQ_INT(trn_nm_expand(bad, values, tags, 4, C, dense, &err), TRN_E_INVALID);
    CHECK_EQ_INT(trn_nm_tag_words(bad, C), 0);
    const trn_nm zero = {0, 0};
    CHECK_EQ_INT(trn_nm_tag_words(zero, C), 0);
    CHECK_EQ_INT(trn_nm_compress(zero, dense, 4, C, values, tags, &err), TRN_E_INVALID);
    const trn_nm p12 = {4, 12};
    CHECK_EQ_INT(trn_nm_compress(p12, dense, 4, C, values, tags, &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "64");
    CHECK_CONTAINS(err.msg, "12");

    /* Bad tags: out of range (4:12, tag 13), repeated, decreasing. */
    float v[4] = {1, 2, 3, 4}, out[12];
    uint16_t t[1] = {0xd210};
    CHECK_EQ_INT(trn_nm_expand(p12, v, t, 1, 12, out, &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "row 0, group 0 (columns 0..11)");
    CHECK_CONTAINS(err.msg, "tag 3 is 13");
    t[0] = 0xb220;
    CHECK_EQ_INT(trn_nm_expand(p12, v, t, 1, 12, out, &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "tag 2 is 2");
    t[0] = 0x1b20;
    CHECK_EQ_INT(trn_nm_expand(p12, v, t, 1, 12, out, &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "tag 3 is 1");
    t[0] = 0xb520;
    CHECK_EQ_INT(trn_nm_expand(p12, v, t, 1, 12, out, &err), TRN_OK);
    const float want[12] = {1, 0, 2, 0, 0, 3, 0, 0, 0, 0, 0, 4};
    CHECK(memcmp(out, want, sizeof want) == 0);
    /* Second row, second group of 2:4: names row 1, group 1. */
    const trn_nm p24 = {2, 4};
    float v2[8] = {0}, out2[16];
    uint16_t t2[2] = {0x3131, 0x2231}; /* row 1 group 1: tags 2, 2 */
    CHECK_EQ_INT(trn_nm_expand(p24, v2, t2, 2, 8, out2, &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "row 1, group 1 (columns 4..7)");
}

int main(void) {
    test_parse();
    test_layout();
    test_roundtrip();
    test_errors();
    return test_summary();
}

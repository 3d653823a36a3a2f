/* Packings of MX element codes: NKI x4 words, ggml block_mxfp4, GPT-OSS `.blocks`. Byte
 * layouts against hand-written bytes, roundtrips over random codes, and decoding through
 * each tool's own lookup table (ggml kvalues_mxfp4 with its half scale, GPT-OSS FP4_VALUES
 * with ldexp) against trn_mx_decode.
 * LABELS: unit */
#include "harness.h"
#include "trnsim/num.h"

static uint64_t ctr;
static uint8_t rnd8(void) {
    return (uint8_t)(trn_rng_u64(7, ctr++) >> 56);
}

static void test_x4(void) {
    const uint8_t c8[4] = {0x01, 0x7e, 0x80, 0xff};
    CHECK_EQ_HEX(trn_pack_fp8_x4(c8), 0xff807e01u);
    uint8_t u[4];
    trn_unpack_fp8_x4(0x44332211u, u);
    CHECK(u[0] == 0x11 && u[1] == 0x22 && u[2] == 0x33 && u[3] == 0x44);
    /* Little-endian memory of the word: element 0 is the first byte (NKI's view(uint32)). */
    uint32_t w = trn_pack_fp8_x4(c8);
    uint8_t mem[4];
    memcpy(mem, &w, 4);
    const uint16_t one = 1;
    if (*(const uint8_t *)&one == 1) CHECK(memcmp(mem, c8, 4) == 0);

    const uint8_t c4[4] = {0x1, 0x7, 0x8, 0xf};
    CHECK_EQ_HEX(trn_pack_fp4_x4(c4), 0xf871u);
    trn_unpack_fp4_x4(0xabcdu, u);
    CHECK(u[0] == 0xd && u[1] == 0xc && u[2] == 0xb && u[3] == 0xa);

    long bad = 0;
    for (int n = 0; n < 20000; n++) {
        uint8_t a[4], b[4];
        for (int i = 0; i < 4; i++) a[i] = rnd8();
        trn_unpack_fp8_x4(trn_pack_fp8_x4(a), b);
        bad += memcmp(a, b, 4) != 0;
        for (int i = 0; i < 4; i++) a[i] &= 0xf;
        trn_unpack_fp4_x4(trn_pack_fp4_x4(a), b);
        bad += memcmp(a, b, 4) != 0;
    }
    /* Every 16-bit word roundtrips through the unpacked codes. */
    for (uint32_t x = 0; x < 0x10000; x++) {
        trn_unpack_fp4_x4((uint16_t)x, u);
        bad += trn_pack_fp4_x4(u) != x;
    }
    CHECK_EQ_INT(bad, 0);
}

/* ggml-common.h kvalues_mxfp4 (doubled E2M1) and ggml_e8m0_to_fp32_half: 2^(e - 128). */
static const int8_t kvalues_mxfp4[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
/* gpt_oss/torch/weights.py FP4_VALUES. */
static const float fp4_values[16] = {+0.0f, +0.5f, +1.0f, +1.5f, +2.0f, +3.0f, +4.0f, +6.0f,
                                     -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

static void test_ggml(void) {
    uint8_t codes[32], out[17], back[32], sc;
    for (int j = 0; j < 16; j++) codes[j] = (uint8_t)j, codes[j + 16] = (uint8_t)(15 - j);
    trn_pack_ggml_mxfp4(0x7c, codes, out);
    const uint8_t want[17] = {0x7c, 0xf0, 0xe1, 0xd2, 0xc3, 0xb4, 0xa5, 0x96, 0x87,
                              0x78, 0x69, 0x5a, 0x4b, 0x3c, 0x2d, 0x1e, 0x0f};
    CHECK(memcmp(out, want, 17) == 0);
    trn_unpack_ggml_mxfp4(want, &sc, back);
    CHECK_EQ_HEX(sc, 0x7c);
    CHECK(memcmp(back, codes, 32) == 0);

    /* A real block: quantize with the library, pack, decode the way ggml does. */
    float v[32], got[32];
    for (int i = 0; i < 32; i++) v[i] = (float)((i * 13) % 29 - 14) * 0.37f;
    uint8_t s;
    trn_mx_quantize(TRN_DTYPE_FP4_E2M1, TRN_SCALE_OCP, v, 32, &TRN_CVT_RNE, &s, codes);
    trn_pack_ggml_mxfp4(s, codes, out);
    trn_mx_dequantize_block(TRN_DTYPE_FP4_E2M1, s, codes, got, 1);
    int ok = 1;
    for (int j = 0; j < 16; j++) {
        float d = ldexpf(1.0f, (int)out[0] - 128); /* ggml_e8m0_to_fp32_half */
        ok &= got[j] == kvalues_mxfp4[out[1 + j] & 0xf] * d;
        ok &= got[j + 16] == kvalues_mxfp4[out[1 + j] >> 4] * d;
    }
    CHECK(ok);

    long bad = 0;
    for (int n = 0; n < 5000; n++) {
        uint8_t c[32], b[32], blk[17], s2;
        for (int i = 0; i < 32; i++) c[i] = rnd8() & 0xf;
        uint8_t s1 = rnd8();
        trn_pack_ggml_mxfp4(s1, c, blk);
        trn_unpack_ggml_mxfp4(blk, &s2, b);
        bad += s1 != s2 || memcmp(c, b, 32) != 0;
        /* Every nibble decodes through ggml's table like trn_mx_decode (finite scales). */
        if (s1 == 0 || s1 == 0xff) continue;
        for (int j = 0; j < 16; j++) {
            float d = ldexpf(1.0f, (int)blk[0] - 128);
            float lo = kvalues_mxfp4[blk[1 + j] & 0xf] * d, hi = kvalues_mxfp4[blk[1 + j] >> 4] * d;
            bad += lo != trn_mx_decode(TRN_DTYPE_FP4_E2M1, s1, c[j]);
            bad += hi != trn_mx_decode(TRN_DTYPE_FP4_E2M1, s1, c[j + 16]);
        }
    }
    CHECK_EQ_INT(bad, 0);
}

static void test_gptoss(void) {
    uint8_t codes[32], out[16], back[32];
    for (int i = 0; i < 32; i++) codes[i] = (uint8_t)(i % 16);
    trn_pack_gptoss_mxfp4(codes, out);
    const uint8_t want[16] = {0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
                              0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe};
    CHECK(memcmp(out, want, 16) == 0);
    trn_unpack_gptoss_mxfp4(want, back);
    CHECK(memcmp(back, codes, 32) == 0);
    /* Same block, different layouts: ggml puts element 1 in byte 1, GPT-OSS in byte 0. */
    uint8_t g[17];
    trn_pack_ggml_mxfp4(127, codes, g);
    CHECK(memcmp(g + 1, out, 16) != 0);

    long bad = 0;
    for (int n = 0; n < 5000; n++) {
        uint8_t c[32], b[32], blk[16];
        for (int i = 0; i < 32; i++) c[i] = rnd8() & 0xf;
        uint8_t s = (uint8_t)(1 + rnd8() % 254);
        trn_pack_gptoss_mxfp4(c, blk);
        trn_unpack_gptoss_mxfp4(blk, b);
        bad += memcmp(c, b, 32) != 0;
        /* weights.py: lut[idx_lo], lut[idx_hi] interleaved, then ldexp(., scale - 127). */
        for (int j = 0; j < 16; j++) {
            float lo = ldexpf(fp4_values[blk[j] & 0xf], s - 127);
            float hi = ldexpf(fp4_values[blk[j] >> 4], s - 127);
            bad +=
                test_f32_bits(lo) != test_f32_bits(trn_mx_decode(TRN_DTYPE_FP4_E2M1, s, c[2 * j]));
            bad += test_f32_bits(hi) !=
                   test_f32_bits(trn_mx_decode(TRN_DTYPE_FP4_E2M1, s, c[2 * j + 1]));
        }
    }
    CHECK_EQ_INT(bad, 0);
}

/* Trn3 tiles: K placement for both maps, the tile packers against hand-computed words. */
static void test_tile(void) {
    size_t p;
    int j;
    trn_mx_kmap_place(TRN_MX_KMAP_STRIDED, 128, 300, &p, &j);
    CHECK(p == 44 && j == 2);
    trn_mx_kmap_place(TRN_MX_KMAP_BLOCKED, 128, 37, &p, &j);
    CHECK(p == 9 && j == 1);
    trn_mx_kmap_place(TRN_MX_KMAP_BLOCKED, 128, 511, &p, &j);
    CHECK(p == 127 && j == 3);
    trn_mx_kmap_place(TRN_MX_KMAP_STRIDED, 32, 127, &p, &j);
    CHECK(p == 31 && j == 3);
    /* Both maps are bijections; BLOCKED puts OCP block g in partitions 8g..8g+7 and STRIDED
     * puts k = 0..7, 128..135, 256..263, 384..391 in scaling group 0 (parts 128). */
    static const size_t parts_list[] = {8, 32, 96, 128};
    for (int m = 0; m < 2; m++) {
        trn_mx_kmap map = m ? TRN_MX_KMAP_BLOCKED : TRN_MX_KMAP_STRIDED;
        for (int pi = 0; pi < 4; pi++) {
            size_t parts = parts_list[pi];
            static unsigned char seen[128 * 4];
            memset(seen, 0, sizeof seen);
            int ok = 1;
            for (size_t k = 0; k < 4 * parts; k++) {
                trn_mx_kmap_place(map, parts, k, &p, &j);
                ok &= p < parts && j >= 0 && j < 4 && !seen[4 * p + (size_t)j];
                seen[4 * p + (size_t)j] = 1;
                if (map == TRN_MX_KMAP_BLOCKED) ok &= p / 8 == k / 32;
                if (map == TRN_MX_KMAP_STRIDED && parts == 128) ok &= (p / 8 == 0) == (k % 128 < 8);
            }
            CHECK_MSG(ok, "map %d, %zu partitions", m, parts);
        }
    }

    enum { PARTS = 16, K = 4 * PARTS, F = 3 };
    uint8_t codes[K * F], back[K * F];
    uint32_t w8[PARTS * F];
    uint16_t w4[PARTS * F];
    trn_err err = {0};
    for (int k = 0; k < K; k++)
        for (int c = 0; c < F; c++) codes[k * F + c] = (uint8_t)(k * 3 + c * 97);
    CHECK_EQ_INT(
        trn_pack_mx_x4_tile(TRN_DTYPE_FP8_E4M3, TRN_MX_KMAP_STRIDED, codes, PARTS, F, w8, &err),
        TRN_OK);
    /* Partition 1, column 0: k = 1, 17, 33, 49 -> 3, 51, 99, 147. */
    CHECK_EQ_HEX(w8[1 * F + 0], 0x93633303u);
    CHECK_EQ_INT(
        trn_unpack_mx_x4_tile(TRN_DTYPE_FP8_E4M3, TRN_MX_KMAP_STRIDED, w8, PARTS, F, back, &err),
        TRN_OK);
    CHECK(memcmp(back, codes, sizeof codes) == 0);
    CHECK_EQ_INT(
        trn_pack_mx_x4_tile(TRN_DTYPE_FP8_E5M2, TRN_MX_KMAP_BLOCKED, codes, PARTS, F, w8, &err),
        TRN_OK);
    /* Partition 9, column 2: k = 36..39 -> (108..117) + 194 = 302.. -> 0x2e 0x31 0x34 0x37. */
    CHECK_EQ_HEX(w8[9 * F + 2], 0x3734312eu);
    memset(back, 0, sizeof back);
    trn_unpack_mx_x4_tile(TRN_DTYPE_FP8_E5M2, TRN_MX_KMAP_BLOCKED, w8, PARTS, F, back, &err);
    CHECK(memcmp(back, codes, sizeof codes) == 0);
    for (int i = 0; i < K * F; i++) codes[i] &= 0xf;
    CHECK_EQ_INT(
        trn_pack_mx_x4_tile(TRN_DTYPE_FP4_E2M1, TRN_MX_KMAP_BLOCKED, codes, PARTS, F, w4, &err),
        TRN_OK);
    CHECK_EQ_HEX(w4[0], 0x9630); /* k = 0..3, column 0: 0, 3, 6, 9 */
    memset(back, 0, sizeof back);
    trn_unpack_mx_x4_tile(TRN_DTYPE_FP4_E2M1, TRN_MX_KMAP_BLOCKED, w4, PARTS, F, back, &err);
    CHECK(memcmp(back, codes, sizeof codes) == 0);

    CHECK_EQ_INT(
        trn_pack_mx_x4_tile(TRN_DTYPE_INT8, TRN_MX_KMAP_BLOCKED, codes, PARTS, F, w8, &err),
        TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "int8");
    CHECK_EQ_INT(
        trn_unpack_mx_x4_tile(TRN_DTYPE_FP8_E4M3, TRN_MX_KMAP_BLOCKED, w8, 12, F, back, &err),
        TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "12");
}

int main(void) {
    test_tile();
    test_x4();
    test_ggml();
    test_gptoss();
    return test_summary();
}

/* Packings of unpacked MX element codes into the memory layouts other tools use: NKI x4
 * words (float8_*_x4, float4_e2m1fn_x4), llama.cpp/ggml block_mxfp4 and GPT-OSS checkpoint
 * `.blocks` (docs/numerics.md sec. 4.5-4.6, sources MXT, GGML, GOSS).
 *
 * Everything else keeps one code per byte; these functions only move bits. Left out: the
 * physical placement of Trn3 scale tiles across SBUF partitions (a simulator concern) and
 * the hardware's own K permutation, which no document fixes (both operands must agree). */
#include "num_impl.h"

uint32_t trn_pack_fp8_x4(const uint8_t codes[4]) {
    return (uint32_t)codes[0] | (uint32_t)codes[1] << 8 | (uint32_t)codes[2] << 16 |
           (uint32_t)codes[3] << 24;
}

void trn_unpack_fp8_x4(uint32_t word, uint8_t codes[4]) {
    for (int i = 0; i < 4; i++) codes[i] = (uint8_t)(word >> (8 * i));
}

uint16_t trn_pack_fp4_x4(const uint8_t codes[4]) {
    return (uint16_t)((codes[0] & 0xfu) | (codes[1] & 0xfu) << 4 | (codes[2] & 0xfu) << 8 |
                      (codes[3] & 0xfu) << 12);
}

void trn_unpack_fp4_x4(uint16_t word, uint8_t codes[4]) {
    for (int i = 0; i < 4; i++) codes[i] = (uint8_t)((word >> (4 * i)) & 0xfu);
}

void trn_pack_ggml_mxfp4(uint8_t scale, const uint8_t codes[TRN_MX_BLOCK], uint8_t out[17]) {
    out[0] = scale;
    for (int j = 0; j < 16; j++)
        out[1 + j] = (uint8_t)((codes[j] & 0xfu) | (codes[j + 16] & 0xfu) << 4);
}

void trn_unpack_ggml_mxfp4(const uint8_t in[17], uint8_t *scale, uint8_t codes[TRN_MX_BLOCK]) {
    *scale = in[0];
    for (int j = 0; j < 16; j++) {
        codes[j] = in[1 + j] & 0xfu;
        codes[j + 16] = in[1 + j] >> 4;
    }
}

void trn_pack_gptoss_mxfp4(const uint8_t codes[TRN_MX_BLOCK], uint8_t out[16]) {
    for (int j = 0; j < 16; j++)
        out[j] = (uint8_t)((codes[2 * j] & 0xfu) | (codes[2 * j + 1] & 0xfu) << 4);
}

void trn_unpack_gptoss_mxfp4(const uint8_t in[16], uint8_t codes[TRN_MX_BLOCK]) {
    for (int j = 0; j < 16; j++) {
        codes[2 * j] = in[j] & 0xfu;
        codes[2 * j + 1] = in[j] >> 4;
    }
}

void trn_mx_kmap_place(trn_mx_kmap map, size_t parts, size_t k, size_t *partition, int *slot) {
    TRN_ASSERT(k < 4 * parts);
    if (map == TRN_MX_KMAP_STRIDED) {
        *partition = k % parts;
        *slot = (int)(k / parts);
    } else {
        *partition = 8 * (k / 32) + (k % 32) / 4;
        *slot = (int)(k % 4);
    }
}

static trn_status tile_check(trn_dtype elem, trn_mx_kmap map, size_t parts, trn_err *err) {
    if (elem != TRN_DTYPE_FP8_E4M3 && elem != TRN_DTYPE_FP8_E5M2 && elem != TRN_DTYPE_FP4_E2M1)
        return trn_err_set(err, TRN_E_INVALID,
                           "no x4 packing for %s (expected fp8_e4m3, fp8_e5m2 or fp4_e2m1)",
                           trn_dtype_name(elem));
    if (map != TRN_MX_KMAP_STRIDED && map != TRN_MX_KMAP_BLOCKED)
        return trn_err_set(err, TRN_E_INVALID, "unknown K map %d", (int)map);
    if (map == TRN_MX_KMAP_BLOCKED && parts % 8 != 0)
        return trn_err_set(err, TRN_E_INVALID,
                           "the blocked K map needs a multiple of 8 partitions, got %zu", parts);
    return TRN_OK;
}

/* Contraction index of (partition p, slot j): the inverse of trn_mx_kmap_place. */
static size_t kmap_k(trn_mx_kmap map, size_t parts, size_t p, int j) {
    if (map == TRN_MX_KMAP_STRIDED) return parts * (size_t)j + p;
    return 32 * (p / 8) + 4 * (p % 8) + (size_t)j;
}

trn_status trn_pack_mx_x4_tile(trn_dtype elem, trn_mx_kmap map, const uint8_t *codes, size_t parts,
                               size_t f, void *out, trn_err *err) {
    trn_status st = tile_check(elem, map, parts, err);
    if (st != TRN_OK) return st;
    for (size_t p = 0; p < parts; p++) {
        for (size_t c = 0; c < f; c++) {
            uint8_t four[4];
            for (int j = 0; j < 4; j++) four[j] = codes[kmap_k(map, parts, p, j) * f + c];
            if (elem == TRN_DTYPE_FP4_E2M1)
                ((uint16_t *)out)[p * f + c] = trn_pack_fp4_x4(four);
            else
                ((uint32_t *)out)[p * f + c] = trn_pack_fp8_x4(four);
        }
    }
    return TRN_OK;
}

trn_status trn_unpack_mx_x4_tile(trn_dtype elem, trn_mx_kmap map, const void *in, size_t parts,
                                 size_t f, uint8_t *codes, trn_err *err) {
    trn_status st = tile_check(elem, map, parts, err);
    if (st != TRN_OK) return st;
    for (size_t p = 0; p < parts; p++) {
        for (size_t c = 0; c < f; c++) {
            uint8_t four[4];
            if (elem == TRN_DTYPE_FP4_E2M1)
                trn_unpack_fp4_x4(((const uint16_t *)in)[p * f + c], four);
            else
                trn_unpack_fp8_x4(((const uint32_t *)in)[p * f + c], four);
            for (int j = 0; j < 4; j++) codes[kmap_k(map, parts, p, j) * f + c] = four[j];
        }
    }
    return TRN_OK;
}

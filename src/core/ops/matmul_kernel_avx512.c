/* AVX-512 micro-kernel of the TensorE matmul (contract and panel layout in matmul_kernel.h):
 * a 12 x 32 block of FP32 accumulators, 24 zmm registers, held across the whole K block.
 * Each k step loads two vectors of moving (16 columns each) and broadcasts 12 stationary
 * values; vfmadd231ps rounds once per step exactly as fmaf, and the vectors run across n, so
 * every element sees its own k order. Tails in n are masked loads and stores; tails in m are
 * rows not stored (the packed panels are zero-padded). */
#include "matmul_kernel.h"

#include <immintrin.h>
#include <stdint.h>

#define MR TRN_MM_MR_AVX512
#define NR TRN_MM_NR_AVX512

void trn_mm_ukernel_avx512(size_t kc, const float *ap, const float *bp, const float *part,
                           size_t part_stride, float *out, size_t out_stride, size_t mr, size_t nr,
                           int add) {
    __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32  ? (__mmask16)0xFFFF
                   : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1)
                             : (__mmask16)0;
    __m512 c[MR][2];
#pragma GCC unroll 12
    for (size_t i = 0; i < MR; i++) {
        if (part && i < mr) {
            c[i][0] = _mm512_maskz_loadu_ps(m0, part + i * part_stride);
            c[i][1] = _mm512_maskz_loadu_ps(m1, part + i * part_stride + 16);
        } else {
            c[i][0] = _mm512_setzero_ps();
            c[i][1] = _mm512_setzero_ps();
        }
    }
    for (size_t p = 0; p < kc; p++, ap += MR, bp += NR) {
        __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16);
#pragma GCC unroll 12
        for (size_t i = 0; i < MR; i++) {
            __m512 a = _mm512_set1_ps(ap[i]);
            c[i][0] = _mm512_fmadd_ps(a, b0, c[i][0]);
            c[i][1] = _mm512_fmadd_ps(a, b1, c[i][1]);
        }
    }
    const __m512 qnan = _mm512_castsi512_ps(_mm512_set1_epi32(0x7FC00000));
#pragma GCC unroll 12
    for (size_t i = 0; i < MR; i++) {
        if (i >= mr) break;
        float *o = out + i * out_stride;
        __m512 v0 = c[i][0], v1 = c[i][1];
        if (add) {
            v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, o), v0);
            v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, o + 16), v1);
        }
        v0 = _mm512_mask_mov_ps(v0, _mm512_cmp_ps_mask(v0, v0, _CMP_UNORD_Q), qnan);
        v1 = _mm512_mask_mov_ps(v1, _mm512_cmp_ps_mask(v1, v1, _CMP_UNORD_Q), qnan);
        _mm512_mask_storeu_ps(o, m0, v0);
        _mm512_mask_storeu_ps(o + 16, m1, v1);
    }
}

/* AVX2 + FMA micro-kernel of the TensorE matmul (contract and panel layout in
 * matmul_kernel.h): a 6 x 16 block of FP32 accumulators in 12 ymm registers, held across the
 * whole K block. Each k step loads two vectors of moving (8 columns each) and broadcasts 6
 * stationary values; vfmadd231ps rounds once per step exactly as fmaf, and the vectors run
 * across n, so every element sees its own k order. Tails in n use vmaskmovps; tails in m are
 * rows not stored (the packed panels are zero-padded). */
#include "matmul_kernel.h"

#include <immintrin.h>
#include <stdint.h>

#define MR TRN_MM_MR_AVX2
#define NR TRN_MM_NR_AVX2

void trn_mm_ukernel_avx2(size_t kc, const float *ap, const float *bp, const float *part,
                         size_t part_stride, float *out, size_t out_stride, size_t mr, size_t nr,
                         int add) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)nr), lane);
    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)nr - 8), lane);
    __m256 c[MR][2];
#pragma GCC unroll 6
    for (size_t i = 0; i < MR; i++) {
        if (part && i < mr) {
            c[i][0] = _mm256_maskload_ps(part + i * part_stride, m0);
            c[i][1] = _mm256_maskload_ps(part + i * part_stride + 8, m1);
        } else {
            c[i][0] = _mm256_setzero_ps();
            c[i][1] = _mm256_setzero_ps();
        }
    }
    for (size_t p = 0; p < kc; p++, ap += MR, bp += NR) {
        __m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8);
#pragma GCC unroll 6
        for (size_t i = 0; i < MR; i++) {
            __m256 a = _mm256_broadcast_ss(ap + i);
            c[i][0] = _mm256_fmadd_ps(a, b0, c[i][0]);
            c[i][1] = _mm256_fmadd_ps(a, b1, c[i][1]);
        }
    }
    const __m256 qnan = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FC00000));
#pragma GCC unroll 6
    for (size_t i = 0; i < MR; i++) {
        if (i >= mr) break;
        float *o = out + i * out_stride;
        __m256 v0 = c[i][0], v1 = c[i][1];
        if (add) {
            v0 = _mm256_add_ps(_mm256_maskload_ps(o, m0), v0);
            v1 = _mm256_add_ps(_mm256_maskload_ps(o + 8, m1), v1);
        }
        v0 = _mm256_blendv_ps(v0, qnan, _mm256_cmp_ps(v0, v0, _CMP_UNORD_Q));
        v1 = _mm256_blendv_ps(v1, qnan, _mm256_cmp_ps(v1, v1, _CMP_UNORD_Q));
        _mm256_maskstore_ps(o, m0, v0);
        _mm256_maskstore_ps(o + 8, m1, v1);
    }
}

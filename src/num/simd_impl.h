/* Internal interface between the dispatchers (simd.c, mx.c), the selector (simd_kernels.c) and
 * the SIMD kernels (simd_avx2.c, simd_avx512.c). CMake defines TRN_HAVE_AVX2_KERNELS /
 * TRN_HAVE_AVX512_KERNELS for this layer when it compiled the kernel files. */
#ifndef TRN_SIMD_IMPL_H
#define TRN_SIMD_IMPL_H

#include "trnsim/num.h"

#ifndef TRN_HAVE_AVX2_KERNELS
#define TRN_HAVE_AVX2_KERNELS 0
#endif
#ifndef TRN_HAVE_AVX512_KERNELS
#define TRN_HAVE_AVX512_KERNELS 0
#endif

/* Each hook runs the kernels of level `s` with the same contract as the reference named, or
 * returns 0 (doing nothing) when level `s` has no kernel for the request, so the caller runs
 * the reference. */
int trn_cvt_array_simd(trn_simd s, trn_dtype t, const float *in, void *out, size_t n,
                       const trn_cvt_opts *o); /* trn_cvt_array_ref */
int trn_mx_quantize_simd(trn_simd s, trn_dtype elem, trn_scale_rule rule, const float *in, size_t n,
                         const trn_cvt_opts *o, uint8_t *scales,
                         uint8_t *codes); /* trn_mx_quantize_ref */
int trn_mx_dequantize_simd(trn_simd s, trn_dtype elem, const uint8_t *scales, const uint8_t *codes,
                           size_t n, float *out); /* trn_mx_dequantize_ref */

/* The kernels, compiled with per-file AVX flags; only the selector calls them. */
#if TRN_HAVE_AVX2_KERNELS
void trn_cvt_array_avx2(trn_dtype t, const float *in, void *out, size_t n, const trn_cvt_opts *o);
void trn_mx_quantize_avx2(trn_dtype elem, trn_scale_rule rule, const float *in, size_t n,
                          const trn_cvt_opts *o, uint8_t *scales, uint8_t *codes);
void trn_mx_dequantize_avx2(trn_dtype elem, const uint8_t *scales, const uint8_t *codes, size_t n,
                            float *out);
#endif
#if TRN_HAVE_AVX512_KERNELS
void trn_cvt_array_avx512(trn_dtype t, const float *in, void *out, size_t n, const trn_cvt_opts *o);
void trn_mx_quantize_avx512(trn_dtype elem, trn_scale_rule rule, const float *in, size_t n,
                            const trn_cvt_opts *o, uint8_t *scales, uint8_t *codes);
void trn_mx_dequantize_avx512(trn_dtype elem, const uint8_t *scales, const uint8_t *codes, size_t n,
                              float *out);
#endif

#endif

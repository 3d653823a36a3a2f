/* Internal interface between the dispatcher (simd.c) and the SIMD kernels. */
#ifndef TRN_SIMD_IMPL_H
#define TRN_SIMD_IMPL_H

#include "trnsim/num.h"

#ifndef TRN_HAVE_AVX2_KERNELS
#define TRN_HAVE_AVX2_KERNELS 0
/* MX quantize of a flat array with the kernels of level `s`; same contract as
 * trn_mx_quantize_ref. Returns 0 (doing nothing) when level `s` has no kernel for the
 * request. */
int trn_mx_quantize_simd(trn_simd s, trn_dtype elem, trn_scale_rule rule, const float *in, size_t n,
                         const trn_cvt_opts *o, uint8_t *scales, uint8_t *codes);

#endif
#ifndef TRN_HAVE_AVX512_KERNELS
#define TRN_HAVE_AVX512_KERNELS 0
/* MX quantize of a flat array with the kernels of level `s`; same contract as
 * trn_mx_quantize_ref. Returns 0 (doing nothing) when level `s` has no kernel for the
 * request. */
int trn_mx_quantize_simd(trn_simd s, trn_dtype elem, trn_scale_rule rule, const float *in, size_t n,
                         const trn_cvt_opts *o, uint8_t *scales, uint8_t *codes);

#endif

/* Converts with the kernels of level `s` when they cover (t, o); returns 0 (doing nothing)
 * when they do not, so the caller runs the reference. */
int trn_cvt_array_simd(trn_simd s, trn_dtype t, const float *in, void *out, size_t n,
                       const trn_cvt_opts *o);

/* MX quantize of a flat array with the kernels of level `s`; same contract as
 * trn_mx_quantize_ref. Returns 0 (doing nothing) when level `s` has no kernel for the
 * request. */
int trn_mx_quantize_simd(trn_simd s, trn_dtype elem, trn_scale_rule rule, const float *in, size_t n,
                         const trn_cvt_opts *o, uint8_t *scales, uint8_t *codes);

#endif

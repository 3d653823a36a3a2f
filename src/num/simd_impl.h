/* Internal interface between the dispatcher (simd.c) and the SIMD kernels. */
#ifndef TRN_SIMD_IMPL_H
#define TRN_SIMD_IMPL_H

#include "trnsim/num.h"

#ifndef TRN_HAVE_AVX2_KERNELS
#define TRN_HAVE_AVX2_KERNELS 0
#endif
#ifndef TRN_HAVE_AVX512_KERNELS
#define TRN_HAVE_AVX512_KERNELS 0
#endif

/* Converts with the kernels of level `s` when they cover (t, o); returns 0 (doing nothing)
 * when they do not, so the caller runs the reference. */
int trn_cvt_array_simd(trn_simd s, trn_dtype t, const float *in, void *out, size_t n,
                       const trn_cvt_opts *o);

#endif

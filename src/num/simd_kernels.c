/* Selection among the SIMD kernels compiled into this build. This file is compiled without
 * AVX flags: it only calls the kernels in simd_avx2.c / simd_avx512.c through the plain C
 * declarations below, each guarded by the macro CMake defines when the file was built.
 *
 * Covered at both levels: FP32 to every float dtype (F32, TF32, BF16, F16, the four FP8, FP6,
 * FP4) with RNE or SR, saturating or not; MX quantize of flat arrays for every element type and
 * scale rule; MX dequantize. Integer and E8M0 targets return 0, so the reference runs. */
#include "num_impl.h"
#include "simd_impl.h"

static int round_ok(const trn_cvt_opts *o) {
    return o->round == TRN_ROUND_RNE || o->round == TRN_ROUND_SR;
}

int trn_cvt_array_simd(trn_simd s, trn_dtype t, const float *in, void *out, size_t n,
                       const trn_cvt_opts *o) {
    if (!trn_dtype_is_float(t) || !round_ok(o)) return 0;
    if (t == TRN_DTYPE_F32) { /* the identity on bits, whatever the options */
        if (n) memmove(out, in, n * sizeof(float));
        return 1;
    }
    switch (s) {
#if TRN_HAVE_AVX2_KERNELS
    case TRN_SIMD_AVX2: trn_cvt_array_avx2(t, in, out, n, o); return 1;
#endif
#if TRN_HAVE_AVX512_KERNELS
    case TRN_SIMD_AVX512: trn_cvt_array_avx512(t, in, out, n, o); return 1;
#endif
    default: return 0;
    }
}

int trn_mx_quantize_simd(trn_simd s, trn_dtype elem, trn_scale_rule rule, const float *in, size_t n,
                         const trn_cvt_opts *o, uint8_t *scales, uint8_t *codes) {
    (void)in, (void)n, (void)scales, (void)codes; /* unused in a build without kernels */
    if (!trn_mx_elem_ok(elem) || !round_ok(o)) return 0;
    if (rule != TRN_SCALE_OCP && rule != TRN_SCALE_NC4 && rule != TRN_SCALE_RCEIL) return 0;
    switch (s) {
#if TRN_HAVE_AVX2_KERNELS
    case TRN_SIMD_AVX2: trn_mx_quantize_avx2(elem, rule, in, n, o, scales, codes); return 1;
#endif
#if TRN_HAVE_AVX512_KERNELS
    case TRN_SIMD_AVX512: trn_mx_quantize_avx512(elem, rule, in, n, o, scales, codes); return 1;
#endif
    default: return 0;
    }
}

int trn_mx_dequantize_simd(trn_simd s, trn_dtype elem, const uint8_t *scales, const uint8_t *codes,
                           size_t n, float *out) {
    (void)scales, (void)codes, (void)n, (void)out; /* unused in a build without kernels */
    if (!trn_mx_elem_ok(elem)) return 0;
    switch (s) {
#if TRN_HAVE_AVX2_KERNELS
    case TRN_SIMD_AVX2: trn_mx_dequantize_avx2(elem, scales, codes, n, out); return 1;
#endif
#if TRN_HAVE_AVX512_KERNELS
    case TRN_SIMD_AVX512: trn_mx_dequantize_avx512(elem, scales, codes, n, out); return 1;
#endif
    default: return 0;
    }
}

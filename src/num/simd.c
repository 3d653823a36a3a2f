/* Run-time choice of the numerics fast paths. The level is detected once from CPUID (capped
 * by the TRN_SIMD environment variable) and can be forced by tests and benchmarks; every fast
 * path falls back to the reference when it has no kernel for a request. */
#include "num_impl.h"

#include <stdlib.h>

#include "simd_impl.h"

static int detected = -1, active = -1;

static int cpu_has(trn_simd s) {
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (s == TRN_SIMD_AVX2) return __builtin_cpu_supports("avx2") && TRN_HAVE_AVX2_KERNELS;
    if (s == TRN_SIMD_AVX512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
               TRN_HAVE_AVX512_KERNELS;
#endif
    return s == TRN_SIMD_NONE;
}

trn_simd trn_simd_detect(void) {
    if (detected < 0) {
        trn_simd best = cpu_has(TRN_SIMD_AVX512) ? TRN_SIMD_AVX512
                        : cpu_has(TRN_SIMD_AVX2) ? TRN_SIMD_AVX2
                                                 : TRN_SIMD_NONE;
        const char *env = getenv("TRN_SIMD");
        if (env && strcmp(env, "none") == 0) best = TRN_SIMD_NONE;
        if (env && strcmp(env, "avx2") == 0 && best > TRN_SIMD_AVX2) best = TRN_SIMD_AVX2;
        detected = (int)best;
    }
    return (trn_simd)detected;
}

trn_simd trn_simd_active(void) {
    if (active < 0) active = (int)trn_simd_detect();
    return (trn_simd)active;
}

trn_status trn_simd_force(trn_simd s) {
    if (!cpu_has(s)) return TRN_E_UNSUPPORTED;
    active = (int)s;
    return TRN_OK;
}

const char *trn_simd_name(trn_simd s) {
    switch (s) {
    case TRN_SIMD_NONE: return "none";
    case TRN_SIMD_AVX2: return "avx2";
    case TRN_SIMD_AVX512: return "avx512";
    }
    return "invalid";
}

void trn_cvt_array(trn_dtype t, const float *in, void *out, size_t n, const trn_cvt_opts *o) {
    trn_simd s = trn_simd_active();
    if (s != TRN_SIMD_NONE && trn_cvt_array_simd(s, t, in, out, n, o)) return;
    trn_cvt_array_ref(t, in, out, n, o);
}

/* AVX2 kernels for the numerics fast paths: FP32 to any binary float format (RNE or SR,
 * saturating or not), the OCP MX quantizer and dequantizer, bit-identical to trn_fp_encode,
 * trn_mx_quantize_ref and trn_mx_decode. The algorithm is simd_avx512.c's (see there), on 8 lanes:
 * integer arithmetic on the FP32 bits only, so MXCSR (rounding mode, DAZ, FTZ) cannot change
 * a result. Work goes in groups of 32 values (one MX block, or 32 codes that pack into one
 * 256-bit store); a trailing partial group is copied through a zero-padded buffer, so no byte
 * outside in[0..n) is read and none outside the n output codes is written. AVX2 has no 64-bit
 * multiply, so the SplitMix64 stream of stochastic rounding uses three 32x32 -> 64 products
 * per 64-bit product. Left out: integer and E8M0 targets (the selector sends those to the
 * reference). */
#include "num_impl.h"

#include <immintrin.h>

/* Entry points (declared again in simd_kernels.c, which is compiled without AVX flags). The
 * caller has checked that t is a float dtype, elem an MX element type and o->round valid. */
void trn_cvt_array_avx2(trn_dtype t, const float *in, void *out, size_t n, const trn_cvt_opts *o);
void trn_mx_quantize_avx2(trn_dtype elem, trn_scale_rule rule, const float *in, size_t n,
                          const trn_cvt_opts *o, uint8_t *scales, uint8_t *codes);
void trn_mx_dequantize_avx2(trn_dtype elem, const uint8_t *scales, const uint8_t *codes, size_t n,
                            float *out);

#define V1(x) _mm256_set1_epi32((int)(x))

static inline __m256i sel(__m256i mask, __m256i a, __m256i b) { /* mask ? a : b, per lane */
    return _mm256_blendv_epi8(b, a, mask);
}

/* A target format's constants, broadcast to every lane (simd_avx512.c's fmtk). */
typedef struct fmtk {
    __m256i mshift;   /* 23 - M */
    __m256i emin_m1;  /* FP32 exponent field of the target's smallest normal, minus 1 */
    __m256i sub_s;    /* 23 - M + emin_eu: a subnormal's shift is this minus max(eu, 1) */
    __m256i off;      /* (emin_eu - 1) << M: FP32 exponent offset inside a normal's code */
    __m256i maxc;     /* largest finite magnitude code */
    __m256i ovf;      /* magnitude code of an overflow: maxc (saturating), Inf, or NaN (FN) */
    __m256i nan_or;   /* NaN magnitude code = ((a >> mshift) & nan_pay) | nan_or */
    __m256i nan_pay;  /* payload bits kept by IEEE formats, 0 otherwise */
    __m256i nan_sign; /* all ones if NaN keeps its sign (0 for formats without NaN) */
    __m128i sign_at;  /* E + M, position of the sign bit */
} fmtk;

static fmtk fmtk_make(const trn_fpfmt *f, int saturate) {
    const int M = f->mbits, top = (1 << f->ebits) - 1, mall = (1 << M) - 1;
    const int emin_eu = 128 - f->bias;
    const int maxc = (int)trn_fpfmt_max_code(f);
    fmtk k;
    k.mshift = V1(23 - M);
    k.emin_m1 = V1(emin_eu - 1);
    k.sub_s = V1(23 - M + emin_eu);
    k.off = V1((emin_eu - 1) * (1 << M));
    k.maxc = V1(maxc);
    if (f->specials == TRN_SPECIALS_NONE) saturate = 1;
    k.ovf = V1(saturate ? maxc : f->specials == TRN_SPECIALS_IEEE ? top << M : (top << M) | mall);
    switch (f->specials) {
    case TRN_SPECIALS_IEEE:
        k.nan_or = V1((top << M) | (1 << (M - 1)));
        k.nan_pay = V1(mall);
        k.nan_sign = V1(-1);
        break;
    case TRN_SPECIALS_FN:
        k.nan_or = V1((top << M) | mall);
        k.nan_pay = V1(0);
        k.nan_sign = V1(-1);
        break;
    case TRN_SPECIALS_NONE: k.nan_or = k.nan_pay = k.nan_sign = V1(0); break;
    }
    k.sign_at = _mm_cvtsi32_si128(f->ebits + M);
    return k;
}

/* val >> s rounded (RNE, or SR with random words rnd), as in simd_avx512.c. */
static inline __m256i round_shift(__m256i val, __m256i s, int sr, __m256i rnd) {
    const __m256i one = V1(1);
    if (!sr) {
        s = _mm256_min_epi32(s, V1(31)); /* val < 2^24 when s > 31: rounds to 0 either way */
        __m256i half_m1 = _mm256_sub_epi32(_mm256_sllv_epi32(one, _mm256_sub_epi32(s, one)), one);
        __m256i lsb = _mm256_and_si256(_mm256_srav_epi32(val, s), one);
        return _mm256_srav_epi32(_mm256_add_epi32(_mm256_add_epi32(val, half_m1), lsb), s);
    }
    __m256i q = _mm256_srav_epi32(val, s);
    __m256i rem = _mm256_and_si256(val, _mm256_sub_epi32(_mm256_sllv_epi32(one, s), one));
    __m256i frac = _mm256_or_si256(_mm256_sllv_epi32(rem, _mm256_sub_epi32(V1(32), s)),
                                   _mm256_srlv_epi32(val, _mm256_sub_epi32(s, V1(32))));
    /* Unsigned frac > ~rnd, i.e. frac + rnd >= 2^32, with signed compares on biased values. */
    const __m256i bias = V1(0x80000000u);
    __m256i up =
        _mm256_cmpgt_epi32(_mm256_xor_si256(frac, bias), _mm256_xor_si256(rnd, V1(0x7fffffff)));
    return _mm256_sub_epi32(q, up); /* up is -1 where the magnitude rounds up */
}

/* Codes of 8 FP32 values (bits u) in the format of k, as trn_fp_encode does. */
static inline __m256i encode8(const fmtk *k, __m256i u, int sr, __m256i rnd) {
    const __m256i one = V1(1);
    __m256i a = _mm256_and_si256(u, V1(0x7fffffff));
    __m256i eu = _mm256_srli_epi32(a, 23);
    __m256i norm = _mm256_cmpgt_epi32(eu, k->emin_m1);
    __m256i sig = _mm256_or_si256(_mm256_and_si256(a, V1(0x7fffff)),
                                  _mm256_slli_epi32(_mm256_min_epi32(eu, one), 23));
    __m256i s = sel(norm, k->mshift, _mm256_sub_epi32(k->sub_s, _mm256_max_epi32(eu, one)));
    __m256i r = round_shift(sel(norm, a, sig), s, sr, rnd);
    __m256i mag = _mm256_sub_epi32(r, _mm256_and_si256(k->off, norm));
    mag = sel(_mm256_cmpgt_epi32(mag, k->maxc), k->ovf, mag);
    __m256i sign = _mm256_sll_epi32(_mm256_srli_epi32(u, 31), k->sign_at);
    __m256i nan = _mm256_or_si256(_mm256_and_si256(_mm256_srlv_epi32(a, k->mshift), k->nan_pay),
                                  _mm256_or_si256(k->nan_or, _mm256_and_si256(sign, k->nan_sign)));
    __m256i isnan = _mm256_cmpgt_epi32(a, V1(0x7f800000));
    return sel(isnan, nan, _mm256_or_si256(mag, sign));
}

/* trn_rng_u32(seed, counter + j) for 8 consecutive j: SplitMix64 states in two vectors of 4,
 * advanced by 8 * golden per call. */
typedef struct rng8 {
    __m256i z0, z1;
} rng8;

#define GOLDEN UINT64_C(0x9E3779B97F4A7C15)

static rng8 rng8_make(uint64_t seed, uint64_t counter) {
    uint64_t z[8];
    for (int j = 0; j < 8; j++) z[j] = seed + (counter + (uint64_t)j + 1) * GOLDEN;
    return (rng8){_mm256_loadu_si256((const __m256i *)z),
                  _mm256_loadu_si256((const __m256i *)(z + 4))};
}

/* Low 64 bits of z * c for a constant c: lo*lo + ((hi*lo + lo*hi) << 32). */
static inline __m256i mul64(__m256i z, uint64_t c) {
    const __m256i clo = _mm256_set1_epi64x((long long)(c & 0xffffffffu));
    const __m256i chi = _mm256_set1_epi64x((long long)(c >> 32));
    __m256i cross =
        _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(z, 32), clo), _mm256_mul_epu32(z, chi));
    return _mm256_add_epi64(_mm256_mul_epu32(z, clo), _mm256_slli_epi64(cross, 32));
}

static inline __m256i mix64(__m256i z) {
    z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 30)), UINT64_C(0xBF58476D1CE4E5B9));
    z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 27)), UINT64_C(0x94D049BB133111EB));
    return _mm256_xor_si256(z, _mm256_srli_epi64(z, 31));
}

static inline __m256i rng8_next(rng8 *g) {
    const __m256i step = _mm256_set1_epi64x((long long)(8 * GOLDEN));
    /* The high halves of the 8 words: lanes [0 1 4 5 | 2 3 6 7] after the shuffle. */
    __m256 hi = _mm256_shuffle_ps(_mm256_castsi256_ps(mix64(g->z0)),
                                  _mm256_castsi256_ps(mix64(g->z1)), _MM_SHUFFLE(3, 1, 3, 1));
    g->z0 = _mm256_add_epi64(g->z0, step);
    g->z1 = _mm256_add_epi64(g->z1, step);
    return _mm256_permute4x64_epi64(_mm256_castps_si256(hi), _MM_SHUFFLE(3, 1, 2, 0));
}

/* 32 codes (each < 256) from four vectors, in element order. */
static inline __m256i pack_bytes(__m256i c0, __m256i c1, __m256i c2, __m256i c3) {
    __m256i b = _mm256_packus_epi16(_mm256_packus_epi32(c0, c1), _mm256_packus_epi32(c2, c3));
    return _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* 16 codes (each < 65536) from two vectors, in element order. */
static inline __m256i pack_words(__m256i c0, __m256i c1) {
    return _mm256_permute4x64_epi64(_mm256_packus_epi32(c0, c1), _MM_SHUFFLE(3, 1, 2, 0));
}

/* Converts the 32 values at in into 32 codes at out (`bytes` each). */
static inline void cvt32(const fmtk *k, int shift, int bytes, const float *in, uint8_t *out, int sr,
                         rng8 *g) {
    __m256i c[4];
    for (int j = 0; j < 4; j++) {
        __m256i rnd = sr ? rng8_next(g) : _mm256_setzero_si256();
        c[j] = encode8(k, _mm256_loadu_si256((const __m256i *)(in + 8 * j)), sr, rnd);
    }
    switch (bytes) {
    case 1: _mm256_storeu_si256((__m256i *)out, pack_bytes(c[0], c[1], c[2], c[3])); break;
    case 2:
        _mm256_storeu_si256((__m256i *)out, pack_words(c[0], c[1]));
        _mm256_storeu_si256((__m256i *)(out + 32), pack_words(c[2], c[3]));
        break;
    default:
        for (int j = 0; j < 4; j++)
            _mm256_storeu_si256((__m256i *)(out + 32 * j),
                                _mm256_sll_epi32(c[j], _mm_cvtsi32_si128(shift)));
        break;
    }
}

static inline void cvt_loop(const fmtk *k, int shift, int bytes, const float *in, void *out,
                            size_t n, int sr, rng8 *g) {
    uint8_t *o8 = out;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) cvt32(k, shift, bytes, in + i, o8 + i * bytes, sr, g);
    if (i < n) {
        float pad[32] = {0};
        uint8_t res[32 * 4];
        memcpy(pad, in + i, (n - i) * sizeof(float));
        cvt32(k, shift, bytes, pad, res, sr, g);
        memcpy(o8 + i * bytes, res, (n - i) * bytes);
    }
}

/* out[i] = trn_cvt_from_f32(t, in[i], o, trn_rng_u32(o->seed, o->counter + i)) for a float
 * dtype t other than F32: the code, shifted left by 13 for TF32, in t's container. */
void trn_cvt_array_avx2(trn_dtype t, const float *in, void *out, size_t n, const trn_cvt_opts *o) {
    trn_fpfmt f = trn_fpfmt_of(t);
    fmtk k = fmtk_make(&f, o->saturate);
    int shift = t == TRN_DTYPE_TF32 ? 13 : 0, bytes = trn_dtype_container_bytes(t);
    if (o->round == TRN_ROUND_SR) {
        rng8 g = rng8_make(o->seed, o->counter);
        cvt_loop(&k, shift, bytes, in, out, n, 1, &g);
    } else {
        cvt_loop(&k, shift, bytes, in, out, n, 0, NULL);
    }
}

/* ---- MX quantize ------------------------------------------------------------------------ */

/* Constants of one (element type, scale rule) pair (simd_avx512.c's mxk: the target's
 * exponent range moves by the block's scale exponent se instead of V being scaled). */
typedef struct mxk {
    int int8;       /* MXINT8: round(V / X * 64), symmetric clamp to +-127, two's complement */
    int M;          /* element mantissa bits (0 for INT8) */
    int scale_sub;  /* se = floor(log2 amax) - scale_sub (+1 under RCEIL, see rceil_frac) */
    int rceil_frac; /* RCEIL: se + 1 when amax's normalized fraction bits exceed this; else -1 */
    int emin0;      /* the block's emin_eu is emin0 + se (FP elements) */
    int base0;      /* a subnormal lane's right shift is base0 + se - eux */
    __m256i mshift, maxc;
    __m128i sign_at;
} mxk;

static mxk mxk_make(trn_dtype elem, trn_scale_rule rule) {
    mxk k;
    int emax = trn_mx_emax(elem);
    float maxv;
    k.int8 = elem == TRN_DTYPE_INT8;
    if (k.int8) {
        k.M = 0;
        k.emin0 = 0;
        k.base0 = 150 - 6; /* code = sig * 2^(eux - 150 + 6 - se) */
        k.maxc = V1(127);
        k.sign_at = _mm_cvtsi32_si128(0);
        maxv = 127.0f / 64.0f;
    } else {
        trn_fpfmt f = trn_fpfmt_of(elem);
        k.M = f.mbits;
        k.emin0 = 128 - f.bias;
        k.base0 = 23 - f.mbits + k.emin0;
        k.maxc = V1(trn_fpfmt_max_code(&f));
        k.sign_at = _mm_cvtsi32_si128(f.ebits + f.mbits);
        maxv = trn_fpfmt_max(&f);
    }
    k.mshift = V1(23 - k.M);
    k.scale_sub = rule == TRN_SCALE_NC4 ? emax - 1 : emax;
    k.rceil_frac = -1;
    if (rule == TRN_SCALE_RCEIL) { /* max_elem / 2^emax is in [1, 2) for every element type */
        uint32_t mm = f32_bits(maxv) - ((uint32_t)emax << 23);
        TRN_ASSERT((mm >> 23) == 127);
        k.rceil_frac = (int)(mm & 0x7fffffu);
    }
    return k;
}

/* Scale exponent of a block whose largest magnitude `amax` (FP32 bits) is finite, non-zero:
 * floor(log2 amax) from the bits, as trn_mx_scale, clamped to [-127, 127]. */
static int mx_scale_exp(const mxk *k, uint32_t amax) {
    int eu = (int)(amax >> 23), e;
    uint32_t frac;
    if (eu) {
        e = eu - 127;
        frac = amax & 0x7fffffu;
    } else {
        int top = 31 - __builtin_clz(amax);
        e = top - 149;
        frac = (amax << (23 - top)) & 0x7fffffu;
    }
    int se = e - k->scale_sub;
    if (k->rceil_frac >= 0 && (int)frac > k->rceil_frac) se++;
    return se < -127 ? -127 : se > 127 ? 127 : se;
}

/* Codes of 8 finite values of a block (emin_m1, off and base already moved by its se). */
static inline __m256i mx_encode8(const mxk *k, __m256i u, __m256i emin_m1, __m256i off,
                                 __m256i base, int sr, __m256i rnd) {
    __m256i a = _mm256_and_si256(u, V1(0x7fffffff));
    /* FP32 subnormals: float(a) is exact and its bits minus 149 << 23 are a * 2^-149 with an
     * extended (zero or negative) exponent field. */
    __m256i sub32 = _mm256_cmpeq_epi32(_mm256_srli_epi32(a, 23), _mm256_setzero_si256());
    __m256i ax =
        sel(sub32, _mm256_sub_epi32(_mm256_castps_si256(_mm256_cvtepi32_ps(a)), V1(149 << 23)), a);
    __m256i eux = _mm256_srai_epi32(ax, 23);
    __m256i norm = _mm256_cmpgt_epi32(eux, emin_m1);
    __m256i sig = _mm256_or_si256(_mm256_and_si256(ax, V1(0x7fffff)), V1(0x800000));
    __m256i s = sel(norm, k->mshift, _mm256_sub_epi32(base, eux));
    __m256i r = round_shift(sel(norm, ax, sig), s, sr, rnd);
    /* +-0 needs no special case: its extended exponent -149 is below any block's emin_eu
     * (se >= -127), and a right shift of at least 155 rounds the significand to 0. */
    __m256i mag = _mm256_min_epi32(_mm256_sub_epi32(r, _mm256_and_si256(off, norm)), k->maxc);
    if (k->int8) {
        __m256i neg = _mm256_srai_epi32(u, 31);
        return _mm256_and_si256(sel(neg, _mm256_sub_epi32(_mm256_setzero_si256(), mag), mag),
                                V1(0xff));
    }
    return _mm256_or_si256(mag, _mm256_sll_epi32(_mm256_srli_epi32(u, 31), k->sign_at));
}

/* One block of 32 values at in: its scale byte and 32 codes. */
static inline void mx_block(const mxk *k, const float *in, uint8_t *scale, uint8_t *codes, int sr,
                            rng8 *g) {
    __m256i u[4], rnd[4];
    const __m256i abs = V1(0x7fffffff);
    for (int j = 0; j < 4; j++) {
        u[j] = _mm256_loadu_si256((const __m256i *)(in + 8 * j));
        rnd[j] = sr ? rng8_next(g) : _mm256_setzero_si256();
    }
    __m256i m = _mm256_max_epu32(
        _mm256_max_epu32(_mm256_and_si256(u[0], abs), _mm256_and_si256(u[1], abs)),
        _mm256_max_epu32(_mm256_and_si256(u[2], abs), _mm256_and_si256(u[3], abs)));
    __m128i h = _mm_max_epu32(_mm256_castsi256_si128(m), _mm256_extracti128_si256(m, 1));
    h = _mm_max_epu32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(1, 0, 3, 2)));
    h = _mm_max_epu32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1)));
    uint32_t amax = (uint32_t)_mm_cvtsi128_si32(h);
    if (amax >= 0x7f800000u) { /* NaN or Inf: scale NaN, codes 0 */
        *scale = 0xff;
        _mm256_storeu_si256((__m256i *)codes, _mm256_setzero_si256());
        return;
    }
    int se = amax ? mx_scale_exp(k, amax) : -127;
    *scale = (uint8_t)(se + 127);
    __m256i emin_m1 = V1(k->int8 ? INT32_MAX : k->emin0 + se - 1);
    __m256i off = V1((k->emin0 + se - 1) * (1 << k->M));
    __m256i base = V1(k->base0 + se);
    __m256i c[4];
    for (int j = 0; j < 4; j++) c[j] = mx_encode8(k, u[j], emin_m1, off, base, sr, rnd[j]);
    _mm256_storeu_si256((__m256i *)codes, pack_bytes(c[0], c[1], c[2], c[3]));
}

static inline void mx_loop(const mxk *k, const float *in, size_t n, uint8_t *scales, uint8_t *codes,
                           int sr, rng8 *g) {
    size_t b = 0;
    for (; (b + 1) * TRN_MX_BLOCK <= n; b++)
        mx_block(k, in + b * TRN_MX_BLOCK, &scales[b], codes + b * TRN_MX_BLOCK, sr, g);
    if (b * TRN_MX_BLOCK < n) { /* trailing partial block, padded with zeros */
        float pad[TRN_MX_BLOCK] = {0};
        memcpy(pad, in + b * TRN_MX_BLOCK, (n - b * TRN_MX_BLOCK) * sizeof(float));
        mx_block(k, pad, &scales[b], codes + b * TRN_MX_BLOCK, sr, g);
    }
}

/* trn_mx_quantize_ref for any MX element type and scale rule. */
void trn_mx_quantize_avx2(trn_dtype elem, trn_scale_rule rule, const float *in, size_t n,
                          const trn_cvt_opts *o, uint8_t *scales, uint8_t *codes) {
    mxk k = mxk_make(elem, rule);
    if (o->round == TRN_ROUND_SR) {
        rng8 g = rng8_make(o->seed, o->counter);
        mx_loop(&k, in, n, scales, codes, 1, &g);
    } else {
        mx_loop(&k, in, n, scales, codes, 0, NULL);
    }
}

/* ---- MX dequantize ---------------------------------------------------------------------- */

/* Element values P as FP32 bits: trn_mx_decode(elem, 127, c) for every byte c, so that a
 * code's unused high bits are ignored exactly as the reference ignores them. */
typedef struct dqk {
    trn_dtype elem;
    uint32_t lut[256];
    __m256i nan; /* trn_mx_decode of any code under scale 0xFF */
} dqk;

/* out[0..32) = trn_mx_decode(elem, scale, codes[i]) (simd_avx512.c's dq_block): X * P as an
 * exponent addition, exact while the product is a normal FP32; 0 when some product of the
 * block would not be (the caller then takes the reference). */
static inline int dq_block(const dqk *k, uint8_t scale, const uint8_t *codes, float *out) {
    if (scale == 0xff) {
        for (int j = 0; j < 4; j++) _mm256_storeu_si256((__m256i *)(out + 8 * j), k->nan);
        return 1;
    }
    const __m256i se = V1((int)scale - 127), zero = _mm256_setzero_si256();
    __m256i p[4], fin[4], bad = zero;
    for (int j = 0; j < 4; j++) {
        __m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(codes + 8 * j)));
        p[j] = _mm256_i32gather_epi32((const int *)k->lut, idx, 4);
        __m256i e = _mm256_and_si256(_mm256_srli_epi32(p[j], 23), V1(0xff));
        fin[j] = _mm256_andnot_si256(
            _mm256_or_si256(_mm256_cmpeq_epi32(e, zero), _mm256_cmpeq_epi32(e, V1(0xff))), V1(-1));
        __m256i e2 = _mm256_add_epi32(e, se);
        bad = _mm256_or_si256(
            bad, _mm256_and_si256(fin[j], _mm256_or_si256(_mm256_cmpgt_epi32(V1(1), e2),
                                                          _mm256_cmpgt_epi32(e2, V1(254)))));
    }
    if (!_mm256_testz_si256(bad, bad)) return 0;
    const __m256i add = _mm256_slli_epi32(se, 23);
    for (int j = 0; j < 4; j++)
        _mm256_storeu_si256((__m256i *)(out + 8 * j),
                            _mm256_add_epi32(p[j], _mm256_and_si256(fin[j], add)));
    return 1;
}

/* trn_mx_dequantize: out[0..n) from ceil(n/32) scales and the n codes (reads no code past n). */
void trn_mx_dequantize_avx2(trn_dtype elem, const uint8_t *scales, const uint8_t *codes, size_t n,
                            float *out) {
    dqk k;
    k.elem = elem;
    for (int c = 0; c < 256; c++) k.lut[c] = f32_bits(trn_mx_decode(elem, 127, (uint8_t)c));
    k.nan = V1(f32_bits(trn_mx_decode(elem, 0xff, 0)));
    for (size_t b = 0; b * TRN_MX_BLOCK < n; b++) {
        size_t i = b * TRN_MX_BLOCK, len = n - i < TRN_MX_BLOCK ? n - i : TRN_MX_BLOCK;
        uint8_t c[TRN_MX_BLOCK] = {0};
        float v[TRN_MX_BLOCK];
        const uint8_t *src = codes + i;
        float *dst = out + i;
        if (len < TRN_MX_BLOCK) { /* trailing partial block through padded buffers */
            memcpy(c, src, len);
            src = c;
            dst = v;
        }
        if (!dq_block(&k, scales[b], src, dst))
            for (size_t j = 0; j < len; j++) dst[j] = trn_mx_decode(elem, scales[b], src[j]);
        if (dst == v) memcpy(out + i, v, len * sizeof(float));
    }
}

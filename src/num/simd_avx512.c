/* AVX-512 (F, BW, VL, DQ) kernels for the numerics fast paths: FP32 to any binary float format
 * (RNE or SR, saturating or not), the OCP MX quantizer and dequantizer, bit-identical to
 * trn_fp_encode, trn_mx_quantize_ref and trn_mx_decode. 16 FP32 lanes per vector; tails use
 * masked loads and stores, so no byte outside the n inputs is read and none outside the n
 * outputs is written. DQ is used for the 64-bit multiplies of the SR random stream.
 *
 * The encoder works on the FP32 bits with integer arithmetic only, as fp.c does, so the
 * result does not depend on MXCSR (rounding mode, DAZ, FTZ). For |x| = a (FP32 bits without
 * the sign) with exponent field eu:
 *   normal in the target (eu >= emin_eu): round a >> (23 - M) as an integer, then subtract
 *     the exponent offset; a carry out of the mantissa is the correct next binade.
 *   subnormal in the target: round the significand right by 23 - M + (emin_eu - eu).
 * Overflow is decided after rounding by comparing the magnitude code with the largest finite
 * code. Left out: integer and E8M0 targets (the selector sends those to the reference). */
#include "num_impl.h"

#include <immintrin.h>

/* Entry points (declared again in simd_kernels.c, which is compiled without AVX flags). The
 * caller has checked that t is a float dtype, elem an MX element type and o->round valid. */
void trn_cvt_array_avx512(trn_dtype t, const float *in, void *out, size_t n, const trn_cvt_opts *o);
void trn_mx_quantize_avx512(trn_dtype elem, trn_scale_rule rule, const float *in, size_t n,
                            const trn_cvt_opts *o, uint8_t *scales, uint8_t *codes);
void trn_mx_dequantize_avx512(trn_dtype elem, const uint8_t *scales, const uint8_t *codes, size_t n,
                              float *out);

#define V1(x) _mm512_set1_epi32((int)(x))

/* A target format's constants, broadcast to every lane. */
typedef struct fmtk {
    __m512i mshift;   /* 23 - M */
    __m512i emin_eu;  /* FP32 exponent field of the target's smallest normal */
    __m512i off;      /* (emin_eu - 1) << M: FP32 exponent offset inside a normal's code */
    __m512i maxc;     /* largest finite magnitude code */
    __m512i ovf;      /* magnitude code of an overflow: maxc (saturating), Inf, or NaN (FN) */
    __m512i nan_or;   /* NaN magnitude code = ((a >> mshift) & nan_pay) | nan_or */
    __m512i nan_pay;  /* payload bits kept by IEEE formats, 0 otherwise */
    __m512i nan_sign; /* all ones if NaN keeps its sign (0 for formats without NaN) */
    __m128i sign_at;  /* E + M, position of the sign bit */
} fmtk;

static fmtk fmtk_make(const trn_fpfmt *f, int saturate) {
    const int M = f->mbits, top = (1 << f->ebits) - 1, mall = (1 << M) - 1;
    const int emin_eu = 128 - f->bias;
    const int maxc = (int)trn_fpfmt_max_code(f);
    fmtk k;
    k.mshift = V1(23 - M);
    k.emin_eu = V1(emin_eu);
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

/* Rounds val >> s (s >= 1 per lane) to an integer: RNE when sr == 0, otherwise up iff
 * floor(frac * 2^32) + rnd >= 2^32 (trn_round_shift). val may be negative (MX extended
 * exponents) only in lanes where s < 32; arithmetic shifts keep floor semantics there. */
static inline __m512i round_shift(__m512i val, __m512i s, int sr, __m512i rnd) {
    const __m512i one = V1(1);
    if (!sr) {
        s = _mm512_min_epi32(s, V1(31)); /* val < 2^24 when s > 31: rounds to 0 either way */
        __m512i half_m1 = _mm512_sub_epi32(_mm512_sllv_epi32(one, _mm512_sub_epi32(s, one)), one);
        __m512i lsb = _mm512_and_si512(_mm512_srav_epi32(val, s), one);
        return _mm512_srav_epi32(_mm512_add_epi32(_mm512_add_epi32(val, half_m1), lsb), s);
    }
    /* Counts of 32 or more give 0 in sllv/srlv, which is what each term needs. */
    __m512i q = _mm512_srav_epi32(val, s);
    __m512i rem = _mm512_and_si512(val, _mm512_sub_epi32(_mm512_sllv_epi32(one, s), one));
    __m512i frac = _mm512_or_si512(_mm512_sllv_epi32(rem, _mm512_sub_epi32(V1(32), s)),
                                   _mm512_srlv_epi32(val, _mm512_sub_epi32(s, V1(32))));
    __mmask16 up = _mm512_cmpgt_epu32_mask(frac, _mm512_xor_si512(rnd, V1(-1)));
    return _mm512_mask_add_epi32(q, up, q, one);
}

/* Codes of 16 FP32 values (bits u) in the format of k, as trn_fp_encode does. */
static inline __m512i encode16(const fmtk *k, __m512i u, int sr, __m512i rnd) {
    const __m512i one = V1(1);
    __m512i a = _mm512_and_si512(u, V1(0x7fffffff));
    __m512i eu = _mm512_srli_epi32(a, 23);
    __mmask16 norm = _mm512_cmpge_epi32_mask(eu, k->emin_eu);
    /* Subnormal in the target: significand (hidden bit only for FP32 normals), value
     * sig * 2^(max(eu,1) - 150). */
    __m512i sig = _mm512_or_si512(_mm512_and_si512(a, V1(0x7fffff)),
                                  _mm512_slli_epi32(_mm512_min_epi32(eu, one), 23));
    __m512i s =
        _mm512_sub_epi32(_mm512_add_epi32(k->mshift, k->emin_eu), _mm512_max_epi32(eu, one));
    s = _mm512_mask_mov_epi32(s, norm, k->mshift);
    __m512i val = _mm512_mask_mov_epi32(sig, norm, a);
    __m512i r = round_shift(val, s, sr, rnd);
    __m512i mag = _mm512_mask_sub_epi32(r, norm, r, k->off);
    mag = _mm512_mask_mov_epi32(mag, _mm512_cmpgt_epi32_mask(mag, k->maxc), k->ovf);
    __m512i sign = _mm512_sll_epi32(_mm512_srli_epi32(u, 31), k->sign_at);
    __m512i nan = _mm512_or_si512(_mm512_and_si512(_mm512_srlv_epi32(a, k->mshift), k->nan_pay),
                                  _mm512_or_si512(k->nan_or, _mm512_and_si512(sign, k->nan_sign)));
    __mmask16 isnan = _mm512_cmpgt_epi32_mask(a, V1(0x7f800000));
    return _mm512_mask_mov_epi32(_mm512_or_si512(mag, sign), isnan, nan);
}

/* Counter-based random words trn_rng_u32(seed, counter + j) for 16 consecutive j: the
 * SplitMix64 states seed + (counter + j + 1) * golden live in two vectors of 8 and advance
 * by 16 * golden per call. */
typedef struct rng16 {
    __m512i z0, z1;
} rng16;

#define GOLDEN UINT64_C(0x9E3779B97F4A7C15)

static rng16 rng16_make(uint64_t seed, uint64_t counter) {
    uint64_t z[16];
    for (int j = 0; j < 16; j++) z[j] = seed + (counter + (uint64_t)j + 1) * GOLDEN;
    return (rng16){_mm512_loadu_si512(z), _mm512_loadu_si512(z + 8)};
}

static inline __m512i mix64(__m512i z) {
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)),
                           _mm512_set1_epi64((long long)UINT64_C(0xBF58476D1CE4E5B9)));
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)),
                           _mm512_set1_epi64((long long)UINT64_C(0x94D049BB133111EB)));
    return _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
}

static inline __m512i rng16_next(rng16 *g) {
    const __m512i hi = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512i step = _mm512_set1_epi64((long long)(16 * GOLDEN));
    __m512i w = _mm512_permutex2var_epi32(mix64(g->z0), hi, mix64(g->z1));
    g->z0 = _mm512_add_epi64(g->z0, step);
    g->z1 = _mm512_add_epi64(g->z1, step);
    return w;
}

static inline void store16(void *out, size_t i, int bytes, int shift, __m512i c, __mmask16 m) {
    switch (bytes) {
    case 1: _mm512_mask_cvtepi32_storeu_epi8((uint8_t *)out + i, m, c); break;
    case 2: _mm512_mask_cvtepi32_storeu_epi16((uint16_t *)out + i, m, c); break;
    default:
        _mm512_mask_storeu_epi32((uint32_t *)out + i, m,
                                 _mm512_sll_epi32(c, _mm_cvtsi32_si128(shift)));
        break;
    }
}

/* The loop body is instantiated per rounding mode so the RNE loop carries no RNG. */
static inline void cvt_loop(const fmtk *k, int shift, int bytes, const float *in, void *out,
                            size_t n, int sr, rng16 *g) {
    size_t i = 0;
    __m512i rnd = _mm512_setzero_si512();
    for (; i + 16 <= n; i += 16) {
        if (sr) rnd = rng16_next(g);
        __m512i c = encode16(k, _mm512_loadu_si512(in + i), sr, rnd);
        switch (bytes) {
        case 1: _mm_storeu_si128((__m128i *)((uint8_t *)out + i), _mm512_cvtepi32_epi8(c)); break;
        case 2:
            _mm256_storeu_si256((__m256i *)((uint16_t *)out + i), _mm512_cvtepi32_epi16(c));
            break;
        default: store16(out, i, bytes, shift, c, 0xffff); break;
        }
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        if (sr) rnd = rng16_next(g);
        __m512i c = encode16(k, _mm512_maskz_loadu_epi32(m, in + i), sr, rnd);
        store16(out, i, bytes, shift, c, m);
    }
}

/* out[i] = trn_cvt_from_f32(t, in[i], o, trn_rng_u32(o->seed, o->counter + i)) for a float
 * dtype t other than F32: the code, shifted left by 13 for TF32, in t's container. */
void trn_cvt_array_avx512(trn_dtype t, const float *in, void *out, size_t n,
                          const trn_cvt_opts *o) {
    trn_fpfmt f = trn_fpfmt_of(t);
    fmtk k = fmtk_make(&f, o->saturate);
    int shift = t == TRN_DTYPE_TF32 ? 13 : 0, bytes = trn_dtype_container_bytes(t);
    if (o->round == TRN_ROUND_SR) {
        rng16 g = rng16_make(o->seed, o->counter);
        cvt_loop(&k, shift, bytes, in, out, n, 1, &g);
    } else {
        cvt_loop(&k, shift, bytes, in, out, n, 0, NULL);
    }
}

/* ---- MX quantize ------------------------------------------------------------------------ */

/* Constants of one (element type, scale rule) pair. A block with scale exponent se quantizes
 * V / 2^se; instead of scaling V, the target's exponent range moves by se (emin_eu + se), so
 * the division is exact for free. FP32 subnormal inputs are first normalized into an extended
 * exponent field that may be zero or negative (a block of tiny values has se = -127, which
 * puts even them in the target's normal range). */
typedef struct mxk {
    int int8;       /* MXINT8: round(V / X * 64), symmetric clamp to +-127, two's complement */
    int M;          /* element mantissa bits (0 for INT8) */
    int scale_sub;  /* se = floor(log2 amax) - scale_sub (+1 under RCEIL, see rceil_frac) */
    int rceil_frac; /* RCEIL: se + 1 when amax's normalized fraction bits exceed this; else -1 */
    int emin0;      /* the block's emin_eu is emin0 + se (FP elements) */
    int base0;      /* a subnormal lane's right shift is base0 + se - eux */
    __m512i mshift, maxc;
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

/* Codes of 16 finite values of a block (emin_eu, off and base already moved by its se). */
static inline __m512i mx_encode16(const mxk *k, __m512i u, __m512i emin_eu, __m512i off,
                                  __m512i base, int sr, __m512i rnd) {
    __m512i a = _mm512_and_si512(u, V1(0x7fffffff));
    /* float(a) is exact for a < 2^23 (int -> float conversion of a representable value does not
     * round), and its bits minus 149 << 23 are a * 2^-149 with an extended exponent field. */
    __mmask16 sub32 = _mm512_cmpeq_epi32_mask(_mm512_srli_epi32(a, 23), _mm512_setzero_si512());
    __m512i ax =
        _mm512_mask_sub_epi32(a, sub32, _mm512_castps_si512(_mm512_cvtepi32_ps(a)), V1(149 << 23));
    __m512i eux = _mm512_srai_epi32(ax, 23);
    __mmask16 norm = _mm512_cmpge_epi32_mask(eux, emin_eu);
    __m512i sig = _mm512_or_si512(_mm512_and_si512(ax, V1(0x7fffff)), V1(0x800000));
    __m512i s = _mm512_mask_mov_epi32(_mm512_sub_epi32(base, eux), norm, k->mshift);
    __m512i val = _mm512_mask_mov_epi32(sig, norm, ax);
    __m512i r = round_shift(val, s, sr, rnd);
    /* +-0 needs no special case: its extended exponent -149 is below any block's emin_eu
     * (se >= -127), and a right shift of at least 155 rounds the significand to 0. */
    __m512i mag = _mm512_min_epi32(_mm512_mask_sub_epi32(r, norm, r, off), k->maxc);
    if (k->int8)
        return _mm512_mask_sub_epi32(mag, _mm512_cmplt_epi32_mask(u, _mm512_setzero_si512()),
                                     _mm512_setzero_si512(), mag);
    return _mm512_or_si512(mag, _mm512_sll_epi32(_mm512_srli_epi32(u, 31), k->sign_at));
}

static inline void mx_loop(const mxk *k, const float *in, size_t n, uint8_t *scales, uint8_t *codes,
                           int sr, rng16 *g) {
    const size_t nblocks = (n + TRN_MX_BLOCK - 1) / TRN_MX_BLOCK;
    __m512i rnd0 = _mm512_setzero_si512(), rnd1 = rnd0;
    for (size_t b = 0; b < nblocks; b++) {
        const size_t i = b * TRN_MX_BLOCK, rest = n - i;
        __m512i u0, u1;
        if (rest >= TRN_MX_BLOCK) {
            u0 = _mm512_loadu_si512(in + i);
            u1 = _mm512_loadu_si512(in + i + 16);
        } else { /* trailing partial block, padded with zeros */
            u0 = _mm512_maskz_loadu_epi32((__mmask16)((1u << (rest < 16 ? rest : 16)) - 1), in + i);
            u1 = rest > 16
                     ? _mm512_maskz_loadu_epi32((__mmask16)((1u << (rest - 16)) - 1), in + i + 16)
                     : _mm512_setzero_si512();
        }
        if (sr) {
            rnd0 = rng16_next(g);
            rnd1 = rng16_next(g);
        }
        const __m512i abs = V1(0x7fffffff);
        uint32_t amax = _mm512_reduce_max_epu32(
            _mm512_max_epu32(_mm512_and_si512(u0, abs), _mm512_and_si512(u1, abs)));
        if (amax >= 0x7f800000u) { /* NaN or Inf: scale NaN, codes 0 */
            scales[b] = 0xff;
            _mm256_storeu_si256((__m256i *)(codes + i), _mm256_setzero_si256());
            continue;
        }
        int se = amax ? mx_scale_exp(k, amax) : -127;
        scales[b] = (uint8_t)(se + 127);
        __m512i emin_eu = V1(k->int8 ? INT32_MAX : k->emin0 + se);
        __m512i off = V1((k->emin0 + se - 1) * (1 << k->M));
        __m512i base = V1(k->base0 + se);
        __m512i c0 = mx_encode16(k, u0, emin_eu, off, base, sr, rnd0);
        __m512i c1 = mx_encode16(k, u1, emin_eu, off, base, sr, rnd1);
        _mm_storeu_si128((__m128i *)(codes + i), _mm512_cvtepi32_epi8(c0));
        _mm_storeu_si128((__m128i *)(codes + i + 16), _mm512_cvtepi32_epi8(c1));
    }
}

/* trn_mx_quantize_ref for any MX element type and scale rule. */
void trn_mx_quantize_avx512(trn_dtype elem, trn_scale_rule rule, const float *in, size_t n,
                            const trn_cvt_opts *o, uint8_t *scales, uint8_t *codes) {
    mxk k = mxk_make(elem, rule);
    if (o->round == TRN_ROUND_SR) {
        rng16 g = rng16_make(o->seed, o->counter);
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
    __m512i lut16; /* lut[0..15]: the whole table of a 4-bit element type */
    int small;     /* 1 for FP4 (permute from lut16), 0 otherwise (gather from lut) */
    __m512i nan;   /* trn_mx_decode of any code under scale 0xFF */
} dqk;

static void dqk_make(dqk *k, trn_dtype elem) {
    k->elem = elem;
    for (int c = 0; c < 256; c++) k->lut[c] = f32_bits(trn_mx_decode(elem, 127, (uint8_t)c));
    k->lut16 = _mm512_loadu_si512(k->lut);
    k->small = elem == TRN_DTYPE_FP4_E2M1;
    k->nan = V1(f32_bits(trn_mx_decode(elem, 0xff, 0)));
}

/* out[i] = trn_mx_decode(elem, scale, codes[i]) for the n <= 32 codes of one block. X * P is an
 * exponent addition, exact whenever the product stays a normal FP32 (every P is an FP32
 * normal, zero, Inf or NaN); a block where it would not (scales near 2^+-127) takes the
 * reference's trn_mx_decode element by element. */
static inline void dq_block(const dqk *k, uint8_t scale, const uint8_t *codes, size_t n,
                            float *out) {
    const __mmask16 m[2] = {(__mmask16)(n >= 16 ? 0xffff : (1u << n) - 1),
                            (__mmask16)(n >= 32  ? 0xffff
                                        : n > 16 ? (1u << (n - 16)) - 1
                                                 : 0)};
    if (scale == 0xff) {
        _mm512_mask_storeu_epi32(out, m[0], k->nan);
        if (m[1]) _mm512_mask_storeu_epi32(out + 16, m[1], k->nan);
        return;
    }
    const int se = (int)scale - 127;
    __m512i p[2];
    __mmask16 fin[2];
    int bad = 0;
    for (int h = 0; h < 2; h++) {
        /* (an empty second half loads nothing; its address stays inside the block) */
        const uint8_t *src = m[h] ? codes + 16 * h : codes;
        __m512i idx = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m[h], src));
        p[h] = k->small ? _mm512_permutexvar_epi32(idx, k->lut16)
                        : _mm512_i32gather_epi32(idx, (const int *)k->lut, 4);
        __m512i e = _mm512_and_si512(_mm512_srli_epi32(p[h], 23), V1(0xff));
        fin[h] = _mm512_cmpneq_epi32_mask(e, _mm512_setzero_si512()) &
                 _mm512_cmpneq_epi32_mask(e, V1(0xff)); /* finite, non-zero */
        __m512i e2 = _mm512_add_epi32(e, V1(se));
        bad |= fin[h] & m[h] &
               (_mm512_cmplt_epi32_mask(e2, V1(1)) | _mm512_cmpgt_epi32_mask(e2, V1(254)));
    }
    if (bad) {
        for (size_t i = 0; i < n; i++) out[i] = trn_mx_decode(k->elem, scale, codes[i]);
        return;
    }
    for (int h = 0; h < 2 && m[h]; h++)
        _mm512_mask_storeu_epi32(out + 16 * h, m[h],
                                 _mm512_mask_add_epi32(p[h], fin[h], p[h], V1(se * (1 << 23))));
}

/* trn_mx_dequantize: out[0..n) from ceil(n/32) scales and the n codes (reads no code past n). */
void trn_mx_dequantize_avx512(trn_dtype elem, const uint8_t *scales, const uint8_t *codes, size_t n,
                              float *out) {
    dqk k;
    dqk_make(&k, elem);
    for (size_t b = 0; b * TRN_MX_BLOCK < n; b++) {
        size_t i = b * TRN_MX_BLOCK, len = n - i < TRN_MX_BLOCK ? n - i : TRN_MX_BLOCK;
        dq_block(&k, scales[b], codes + i, len, out + i);
    }
}

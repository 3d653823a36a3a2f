/* OCP MX block formats (MX v1.0): the E8M0 shared scale under three rules, element
 * quantization of a block of 32 values, dequantization and the exact block dot product.
 *
 * Everything is integer or exponent arithmetic: the scale exponent comes from the FP32 bits
 * (never log2f), V / X is an exponent adjustment (never a division), the element rounding is
 * the generic encoder in fp.c and a block dot product is an exact 128-bit fixed-point sum
 * rounded once. Decisions and sources: docs/numerics.md sec. 4 and 7.
 *
 * Left out: memory layouts (pack.c), SIMD kernels (simd_*.c, reached through the hook in
 * trn_mx_quantize), scale rules beyond OCP / NC4 / RCEIL (torchao CEIL and EVEN). */
#include "num_impl.h"

#include <math.h>

#include "simd_impl.h"

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

static const char *const rule_names[] = {
    [TRN_SCALE_OCP] = "ocp",
    [TRN_SCALE_NC4] = "nc4",
    [TRN_SCALE_RCEIL] = "rceil",
};
#define NRULES ((int)(sizeof rule_names / sizeof rule_names[0]))

const char *trn_scale_rule_name(trn_scale_rule r) {
    return (unsigned)r < (unsigned)NRULES ? rule_names[r] : "invalid";
}

trn_status trn_scale_rule_from_name(const char *name, trn_scale_rule *r, trn_err *err) {
    for (int i = 0; i < NRULES; i++) {
        if (strcmp(name, rule_names[i]) == 0) {
            *r = (trn_scale_rule)i;
            return TRN_OK;
        }
    }
    return trn_err_set(err, TRN_E_NOTFOUND, "unknown MX scale rule '%s' (expected ocp, nc4, rceil)",
                       name);
}

int trn_mx_elem_ok(trn_dtype elem) {
    switch (elem) {
    case TRN_DTYPE_FP8_E4M3:
    case TRN_DTYPE_FP8_E5M2:
    case TRN_DTYPE_FP6_E3M2:
    case TRN_DTYPE_FP6_E2M3:
    case TRN_DTYPE_FP4_E2M1:
    case TRN_DTYPE_INT8: return 1;
    default: return 0;
    }
}

/* docs/numerics.md sec. 1: exponent of the largest normal (MX v1.0 Table 1, OFP8). */
int trn_mx_emax(trn_dtype elem) {
    switch (elem) {
    case TRN_DTYPE_FP8_E4M3: return 8;
    case TRN_DTYPE_FP8_E5M2: return 15;
    case TRN_DTYPE_FP6_E3M2: return 4;
    case TRN_DTYPE_FP6_E2M3: return 2;
    case TRN_DTYPE_FP4_E2M1: return 2;
    case TRN_DTYPE_INT8: return 0;
    default: break;
    }
    TRN_ASSERT(!"not an MX element type");
    return 0;
}

/* Largest element magnitude: the format's max normal, or 127/64 for MXINT8. */
static float elem_max(trn_dtype elem) {
    if (elem == TRN_DTYPE_INT8) return 127.0f / 64.0f;
    trn_fpfmt f = trn_fpfmt_of(elem);
    return trn_fpfmt_max(&f);
}

/* floor(log2 |x|) of a finite non-zero FP32 magnitude `a`, exactly from the bits. */
static int ilog2_bits(uint32_t a) {
    int eu = (int)(a >> 23);
    if (eu) return eu - 127;
    return -149 + (31 - __builtin_clz(a)); /* subnormal: top set mantissa bit */
}

/* The unclamped scale exponent of a finite non-zero magnitude `a` (FP32 bits). */
static int scale_exp(trn_dtype elem, trn_scale_rule rule, uint32_t a) {
    int e = ilog2_bits(a), emax = trn_mx_emax(elem);
    switch (rule) {
    case TRN_SCALE_OCP: return e - emax;
    case TRN_SCALE_NC4: return e - (emax - 1);
    case TRN_SCALE_RCEIL: {
        /* Smallest s with 2^s max_elem >= amax. With s0 = e - emax, amax / 2^s0 is
         * 2^emax * m (m in [1, 2) amax's normalized significand) and max_elem is
         * 2^emax * mm (mm in [1, 2)), so s = s0 iff m <= mm, else s0 + 1. Both m and mm are
         * exact FP32 values, so the comparison is exact. */
        uint32_t sig = a >> 23 ? a & 0x7fffffu : (a << (23 - (e + 149))) & 0x7fffffu;
        float m = f32_from_bits(0x3f800000u | sig);
        float mm = ldexpf(elem_max(elem), -emax);
        return e - emax + (m > mm);
    }
    }
    TRN_ASSERT(!"invalid scale rule");
    return 0;
}

uint8_t trn_mx_scale(trn_dtype elem, trn_scale_rule rule, float amax) {
    TRN_ASSERT(trn_mx_elem_ok(elem));
    uint32_t a = f32_bits(amax) & 0x7fffffffu;
    if (a >= 0x7f800000u) return 0xff; /* NaN or Inf */
    if (a == 0) return 0x00;           /* all-zero block: 2^-127 (torchao, TE, Neuron QMX) */
    int s = scale_exp(elem, rule, a);
    s = s < -127 ? -127 : s > 127 ? 127 : s;
    return (uint8_t)(s + 127);
}

/* x * 2^k as FP32, exactly, for |x * 2^k| < 2^128. Results below 2^-126 come back as a
 * signed zero: every MX element quantum is >= 2^-16, so such a value is below 2^-110 quanta
 * and gives code +-0 under RNE and under SR (floor(frac * 2^32) = 0 never rounds up). */
static float scale_pow2(float x, int k) {
    uint32_t u = f32_bits(x), sign = u & 0x80000000u, a = u & 0x7fffffffu;
    if (a == 0) return x;
    int e = ilog2_bits(a);
    uint32_t sig = a >> 23 ? (a & 0x7fffffu) | 0x800000u : a << (23 - (e + 149));
    int ne = e + k;
    if (ne < -126) return f32_from_bits(sign);
    TRN_ASSERT(ne <= 127);
    return f32_from_bits(sign | ((uint32_t)(ne + 127) << 23) | (sig & 0x7fffffu));
}

/* One element: the code of v / 2^s rounded by `round` and clamped to +-max normal. */
static uint8_t quant_elem(trn_dtype elem, const trn_fpfmt *f, float v, int s, trn_round round,
                          uint32_t rand) {
    if (elem == TRN_DTYPE_INT8) {
        /* round(v / X * 64), symmetric clamp to +-127 (docs/numerics.md sec. 4.2, 7.4). */
        trn_cvt_opts o = {round, 1, 0, 0};
        uint32_t c = trn_cvt_from_f32(TRN_DTYPE_INT8, scale_pow2(v, 6 - s), &o, rand);
        return c == 0x80 ? 0x81 : (uint8_t)c;
    }
    return (uint8_t)trn_fp_encode(f, scale_pow2(v, -s), round, rand, 1);
}

/* One block: in[i * stride], random word o->counter + i * rstride, codes[i * cstride]. */
static void quant_block(trn_dtype elem, trn_scale_rule rule, const float *in, ptrdiff_t stride,
                        const trn_cvt_opts *o, uint64_t rstride, uint8_t *scale, uint8_t *codes,
                        ptrdiff_t cstride) {
    uint32_t amax = 0;
    for (int i = 0; i < TRN_MX_BLOCK; i++) {
        uint32_t a = f32_bits(in[i * stride]) & 0x7fffffffu;
        amax = a > amax ? a : amax; /* magnitudes order like their bit patterns */
    }
    uint8_t sc = trn_mx_scale(elem, rule, f32_from_bits(amax));
    *scale = sc;
    if (sc == 0xff) { /* NaN or Inf in the block: every element decodes NaN; codes are 0 */
        for (int i = 0; i < TRN_MX_BLOCK; i++) codes[i * cstride] = 0;
        return;
    }
    int s = (int)sc - 127;
    trn_fpfmt f =
        elem == TRN_DTYPE_INT8 ? (trn_fpfmt){0, 0, 0, TRN_SPECIALS_NONE} : trn_fpfmt_of(elem);
    for (int i = 0; i < TRN_MX_BLOCK; i++) {
        uint32_t r =
            o->round == TRN_ROUND_SR ? trn_rng_u32(o->seed, o->counter + (uint64_t)i * rstride) : 0;
        codes[i * cstride] = quant_elem(elem, &f, in[i * stride], s, o->round, r);
    }
}

void trn_mx_quantize_block(trn_dtype elem, trn_scale_rule rule, const float *in, ptrdiff_t stride,
                           const trn_cvt_opts *o, uint8_t *scale, uint8_t codes[TRN_MX_BLOCK]) {
    TRN_ASSERT(trn_mx_elem_ok(elem));
    quant_block(elem, rule, in, stride, o, 1, scale, codes, 1);
}

void trn_mx_quantize_ref(trn_dtype elem, trn_scale_rule rule, const float *in, size_t n,
                         const trn_cvt_opts *o, uint8_t *scales, uint8_t *codes) {
    TRN_ASSERT(trn_mx_elem_ok(elem));
    size_t nfull = n / TRN_MX_BLOCK;
    trn_cvt_opts ob = *o;
    for (size_t b = 0; b < nfull; b++) {
        ob.counter = o->counter + (uint64_t)b * TRN_MX_BLOCK;
        quant_block(elem, rule, in + b * TRN_MX_BLOCK, 1, &ob, 1, &scales[b],
                    codes + b * TRN_MX_BLOCK, 1);
    }
    size_t rest = n - nfull * TRN_MX_BLOCK;
    if (rest) { /* trailing partial block, padded with zeros */
        float pad[TRN_MX_BLOCK] = {0};
        memcpy(pad, in + nfull * TRN_MX_BLOCK, rest * sizeof(float));
        ob.counter = o->counter + (uint64_t)nfull * TRN_MX_BLOCK;
        quant_block(elem, rule, pad, 1, &ob, 1, &scales[nfull], codes + nfull * TRN_MX_BLOCK, 1);
    }
}

void trn_mx_quantize(trn_dtype elem, trn_scale_rule rule, const float *in, size_t n,
                     const trn_cvt_opts *o, uint8_t *scales, uint8_t *codes) {
    trn_simd s = trn_simd_active();
    if (s != TRN_SIMD_NONE && trn_mx_quantize_simd(s, elem, rule, in, n, o, scales, codes)) return;
    trn_mx_quantize_ref(elem, rule, in, n, o, scales, codes);
}

trn_status trn_mx_quantize_2d(trn_dtype elem, trn_scale_rule rule, const float *in, size_t rows,
                              size_t cols, int axis, const trn_cvt_opts *o, uint8_t *scales,
                              uint8_t *codes, trn_err *err) {
    if (!trn_mx_elem_ok(elem))
        return trn_err_set(err, TRN_E_INVALID,
                           "%s is not an MX element type (expected fp8_e4m3 fp8_e5m2 fp6_e3m2 "
                           "fp6_e2m3 fp4_e2m1 int8)",
                           trn_dtype_name(elem));
    if (axis != 0 && axis != 1)
        return trn_err_set(err, TRN_E_INVALID, "MX block axis must be 0 or 1, got %d", axis);
    size_t len = axis == 0 ? rows : cols;
    if (len % TRN_MX_BLOCK != 0)
        return trn_err_set(err, TRN_E_INVALID,
                           "MX blocks run along axis %d, whose length %zu is not a multiple of %d",
                           axis, len, TRN_MX_BLOCK);
    /* Element (r, c) uses random word o->counter + r * cols + c, its row-major index, so
     * axis 1 matches trn_mx_quantize on the flat array. */
    if (axis == 1) {
        trn_mx_quantize(elem, rule, in, rows * cols, o, scales, codes);
        return TRN_OK;
    }
    trn_cvt_opts ob = *o;
    for (size_t rb = 0; rb < rows / TRN_MX_BLOCK; rb++) {
        for (size_t c = 0; c < cols; c++) {
            size_t at = rb * TRN_MX_BLOCK * cols + c;
            ob.counter = o->counter + at;
            quant_block(elem, rule, in + at, (ptrdiff_t)cols, &ob, cols, &scales[rb * cols + c],
                        codes + at, (ptrdiff_t)cols);
        }
    }
    return TRN_OK;
}

/* The exact value of an element code as sig * 2^exp (sig signed), for the dot product.
 * exp is the element type's smallest quantum, so sig is an integer: |sig| < 2^32.
 * Returns 0 for a NaN or Inf code (E4M3 / E5M2 only). */
static int elem_fixed(trn_dtype elem, uint8_t code, int64_t *sig) {
    if (elem == TRN_DTYPE_INT8) {
        *sig = (int8_t)code;
        return 1;
    }
    trn_fpfmt f = trn_fpfmt_of(elem);
    const int E = f.ebits, M = f.mbits;
    uint32_t top = (1u << E) - 1, ef = (code >> M) & top, mf = code & ((1u << M) - 1);
    if (f.specials == TRN_SPECIALS_IEEE && ef == top) return 0;
    if (f.specials == TRN_SPECIALS_FN && ef == top && mf == (1u << M) - 1) return 0;
    int64_t m = ef ? (int64_t)(mf | (1u << M)) << (ef - 1) : (int64_t)mf;
    *sig = (code >> (E + M)) & 1 ? -m : m;
    return 1;
}

/* Exponent of the element type's smallest quantum (value = sig * 2^this). */
static int elem_q(trn_dtype elem) {
    if (elem == TRN_DTYPE_INT8) return -6;
    trn_fpfmt f = trn_fpfmt_of(elem);
    return 1 - f.bias - f.mbits;
}

/* s * 2^e rounded once to FP32: RNE, subnormal results, overflow to Inf. */
static float round_i128(i128 s, int e) {
    if (s == 0) return 0.0f;
    uint32_t sign = s < 0 ? 0x80000000u : 0;
    u128 mag = s < 0 ? -(u128)s : (u128)s;
    uint64_t hi = (uint64_t)(mag >> 64), lo = (uint64_t)mag;
    int nb = hi ? 128 - __builtin_clzll(hi) : 64 - __builtin_clzll(lo); /* bit length */
    int q = nb - 1 + e - 23; /* exponent of the FP32 quantum at this magnitude */
    if (q < -149) q = -149;
    int shift = q - e;
    u128 m;
    if (shift <= 0) {
        m = mag << -shift;
    } else if (shift >= 128) {
        m = 0; /* mag < 2^72 is far below half a quantum */
    } else {
        m = mag >> shift;
        u128 rem = mag & (((u128)1 << shift) - 1), half = (u128)1 << (shift - 1);
        if (rem > half || (rem == half && (m & 1))) m++;
    }
    if (m == (u128)1 << 24) { /* rounding carried into the next binade */
        m >>= 1;
        q++;
    }
    /* Now m < 2^24 and value = m * 2^q; q = -149 covers subnormals and the smallest binade,
     * where the bit pattern is m itself. */
    if (q + 150 > 254 && m >= (1u << 23)) return f32_from_bits(sign | 0x7f800000u);
    if (m < (1u << 23)) return f32_from_bits(sign | (uint32_t)m);
    return f32_from_bits(sign | ((uint32_t)(q + 150) << 23) | ((uint32_t)m & 0x7fffffu));
}

float trn_mx_dot(trn_dtype elem_a, const uint8_t *scales_a, const uint8_t *codes_a,
                 trn_dtype elem_b, const uint8_t *scales_b, const uint8_t *codes_b,
                 size_t nblocks) {
    TRN_ASSERT(trn_mx_elem_ok(elem_a) && trn_mx_elem_ok(elem_b));
    const int qab = elem_q(elem_a) + elem_q(elem_b);
    float acc = 0.0f;
    for (size_t b = 0; b < nblocks; b++) {
        const uint8_t *ca = codes_a + b * TRN_MX_BLOCK, *cb = codes_b + b * TRN_MX_BLOCK;
        float blk;
        if (scales_a[b] == 0xff || scales_b[b] == 0xff) {
            blk = NAN;
        } else {
            /* Products of element sigs are < 2^64 and 32 of them sum below 2^69. */
            i128 sum = 0;
            int special = 0;
            for (int i = 0; i < TRN_MX_BLOCK && !special; i++) {
                int64_t sa, sb;
                if (!elem_fixed(elem_a, ca[i], &sa) || !elem_fixed(elem_b, cb[i], &sb))
                    special = 1;
                else
                    sum += (i128)sa * sb;
            }
            if (special) {
                /* An element NaN or Inf: IEEE rules decide between NaN and +-Inf, and the
                 * finite terms cannot matter, so a double sum of the element values is exact
                 * enough; the scales (finite, positive) do not change the outcome. */
                double d = 0;
                for (int i = 0; i < TRN_MX_BLOCK; i++)
                    d += (double)trn_mx_decode(elem_a, 127, ca[i]) *
                         (double)trn_mx_decode(elem_b, 127, cb[i]);
                blk = (float)d;
            } else {
                blk = round_i128(sum, qab + ((int)scales_a[b] - 127) + ((int)scales_b[b] - 127));
            }
        }
        acc += blk;
    }
    return acc;
}

float trn_mx_decode(trn_dtype elem, uint8_t scale, uint8_t code) {
    TRN_ASSERT(trn_mx_elem_ok(elem));
    if (scale == 0xff) return NAN;
    float p = elem == TRN_DTYPE_INT8 ? (float)(int8_t)code / 64.0f : trn_cvt_to_f32(elem, code);
    /* X * P is exact, except that 2^128 and above (NC4 / RCEIL scales) overflow to Inf: P has
     * at most 8 significant bits, so no value lies between FLT_MAX and 2^128. */
    return ldexpf(p, (int)scale - 127);
}

void trn_mx_dequantize_block(trn_dtype elem, uint8_t scale, const uint8_t codes[TRN_MX_BLOCK],
                             float *out, ptrdiff_t stride) {
    for (int i = 0; i < TRN_MX_BLOCK; i++) out[i * stride] = trn_mx_decode(elem, scale, codes[i]);
}

void trn_mx_dequantize_ref(trn_dtype elem, const uint8_t *scales, const uint8_t *codes, size_t n,
                           float *out) {
    for (size_t i = 0; i < n; i++) out[i] = trn_mx_decode(elem, scales[i / TRN_MX_BLOCK], codes[i]);
}

void trn_mx_dequantize(trn_dtype elem, const uint8_t *scales, const uint8_t *codes, size_t n,
                       float *out) {
    trn_simd s = trn_simd_active();
    if (s != TRN_SIMD_NONE && trn_mx_dequantize_simd(s, elem, scales, codes, n, out)) return;
    trn_mx_dequantize_ref(elem, scales, codes, n, out);
}

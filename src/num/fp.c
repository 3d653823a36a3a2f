/* The reference conversions between FP32 and every binary floating-point format, written
 * with integer arithmetic only: an FP32 value is sig * 2^exp with sig < 2^24, and rounding
 * is done on the integer quotient by the target's quantum. Fast paths elsewhere are tested
 * bit for bit against these functions.
 *
 * Left out: formats wider than FP32 and modes the hardware does not have (round toward
 * zero, FTZ). */
#include "num_impl.h"

#include <math.h>

static int fmt_emax(const trn_fpfmt *f) /* exponent of the largest finite binade */
{
    int top = (1 << f->ebits) - 1;
    return (f->specials == TRN_SPECIALS_IEEE ? top - 1 : top) - f->bias;
}

uint32_t trn_fpfmt_max_code(const trn_fpfmt *f) {
    uint32_t top = (1u << f->ebits) - 1, mall = (1u << f->mbits) - 1;
    switch (f->specials) {
    case TRN_SPECIALS_IEEE: return ((top - 1) << f->mbits) | mall;
    case TRN_SPECIALS_FN: return (top << f->mbits) | (mall - 1);
    case TRN_SPECIALS_NONE: break;
    }
    return (top << f->mbits) | mall;
}

uint64_t trn_fpfmt_ncodes(const trn_fpfmt *f) {
    return UINT64_C(1) << (1 + f->ebits + f->mbits); /* 2^32 for FP32: wider than uint32_t */
}

float trn_fpfmt_max(const trn_fpfmt *f) {
    return trn_fp_decode(f, trn_fpfmt_max_code(f));
}

float trn_fpfmt_min_subnormal(const trn_fpfmt *f) {
    return ldexpf(1.0f, 1 - f->bias - f->mbits);
}

trn_status trn_fpfmt_with_bias(trn_fpfmt f, int bias, trn_fpfmt *out, trn_err *err) {
    /* Every value must stay an exact FP32: max binade <= 127, min subnormal >= 2^-149. */
    trn_fpfmt g = f;
    g.bias = 0;
    int lo = fmt_emax(&g) - 127, hi = 150 - (int)f.mbits;
    if (bias < lo || bias > hi)
        return trn_err_set(err, TRN_E_RANGE,
                           "exponent bias %d puts E%dM%d outside the FP32 range (allowed %d..%d)",
                           bias, f.ebits, f.mbits, lo, hi);
    g.bias = (int16_t)bias;
    *out = g;
    return TRN_OK;
}

uint64_t trn_round_shift(uint64_t sig, int shift, trn_round round, uint32_t rand) {
    if (shift <= 0) return sig << -shift;
    uint64_t n = shift >= 64 ? 0 : sig >> shift;
    uint64_t rem = shift >= 64 ? sig : sig & ((UINT64_C(1) << shift) - 1);
    if (rem == 0) return n;
    if (round == TRN_ROUND_RNE) {
        if (shift > 63) return n; /* rem < 2^24 is far below half */
        uint64_t half = UINT64_C(1) << (shift - 1);
        if (rem > half || (rem == half && (n & 1))) n++;
        return n;
    }
    uint64_t frac32 =
        shift <= 32 ? rem << (32 - shift) : (shift - 32 >= 64 ? 0 : rem >> (shift - 32));
    if (frac32 + rand >= (UINT64_C(1) << 32)) n++;
    return n;
}

uint32_t trn_fp_encode(const trn_fpfmt *f, float x, trn_round round, uint32_t rand, int saturate) {
    const int E = f->ebits, M = f->mbits;
    const uint32_t u = f32_bits(x), sign = (u >> 31) << (E + M);
    const uint32_t a = u & 0x7fffffffu, top = (1u << E) - 1;
    const uint32_t maxc = trn_fpfmt_max_code(f);
    if (f->specials == TRN_SPECIALS_NONE) saturate = 1;
    if (a > 0x7f800000u) { /* NaN */
        switch (f->specials) {
        case TRN_SPECIALS_IEEE: {
            uint32_t payload = M >= 23 ? (a & 0x7fffffu) << (M - 23) : (a & 0x7fffffu) >> (23 - M);
            return sign | (top << M) | payload | (1u << (M - 1));
        }
        case TRN_SPECIALS_FN: return sign | (top << M) | ((1u << M) - 1);
        case TRN_SPECIALS_NONE: return 0;
        }
    }
    uint32_t mag;
    if (a == 0x7f800000u) {
        mag = maxc + 1; /* treated as an overflow below */
    } else if (a == 0) {
        return sign;
    } else {
        int eu = (int)(a >> 23);
        uint64_t sig = eu ? (a & 0x7fffffu) | 0x800000u : (a & 0x7fffffu);
        int exp2 = eu ? eu - 150 : -149;          /* value = sig * 2^exp2 */
        int e = 63 - __builtin_clzll(sig) + exp2; /* floor(log2 value) */
        int emin = 1 - f->bias;
        if (e > fmt_emax(f) + 1) {
            mag = maxc + 1;
        } else {
            int eeff = e < emin ? emin : e;
            int q = eeff - M; /* exponent of the quantum */
            uint64_t n = trn_round_shift(sig, q - exp2, round, rand);
            uint64_t m64 = ((uint64_t)(eeff + f->bias - 1) << M) + n;
            if (n == 0) return sign;
            mag = m64 > maxc ? maxc + 1 : (uint32_t)m64;
        }
    }
    if (mag <= maxc) return sign | mag;
    if (saturate) return sign | maxc;
    if (f->specials == TRN_SPECIALS_IEEE) return sign | (top << M);
    return sign | (top << M) | ((1u << M) - 1); /* FN: NaN */
}

float trn_fp_decode(const trn_fpfmt *f, uint32_t code) {
    const int E = f->ebits, M = f->mbits;
    const uint32_t top = (1u << E) - 1;
    const uint32_t s = (code >> (E + M)) & 1;
    const uint32_t ef = (code >> M) & top, mf = code & ((1u << M) - 1);
    if (f->specials == TRN_SPECIALS_IEEE && ef == top) {
        uint32_t payload = M >= 23 ? mf >> (M - 23) : mf << (23 - M);
        return f32_from_bits((s << 31) | 0x7f800000u | (mf ? (payload | 0x400000u) : 0));
    }
    if (f->specials == TRN_SPECIALS_FN && ef == top && mf == (1u << M) - 1)
        return f32_from_bits((s << 31) | 0x7fc00000u);
    float v = ef ? ldexpf((float)(mf | (1u << M)), (int)ef - f->bias - M)
                 : ldexpf((float)mf, 1 - f->bias - M);
    return s ? -v : v;
}

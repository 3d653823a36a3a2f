/* An exact reference for scalar FP32 -> narrow float conversion, written independently of
 * src/num/fp.c: the format's code table is enumerated, every finite code is an integer
 * significand times a power of two, and an input is rounded by binary search over that
 * table plus exact integer comparisons on a local grid (no float arithmetic, no shift-based
 * rounding). Used by tests/test_num_*.c.
 *
 * Semantics restated from docs/numerics.md sec. 2-3: RNE ties go to the even code; SR rounds
 * the magnitude up iff floor(frac * 2^32) + R >= 2^32 where frac = (|x| - lo) / (hi - lo);
 * overflow is decided after rounding against the value one quantum above the max finite
 * (the "next code" of an unbounded exponent range); saturating: +-max, otherwise Inf (IEEE)
 * or NaN (FN); formats without specials always saturate and give +0 for NaN.
 *
 * Left out: formats wider than 23 mantissa bits (FP32 itself). */
#ifndef TRN_TEST_NUM_REF_H
#define TRN_TEST_NUM_REF_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "trnsim/num.h"

__extension__ typedef unsigned __int128 ref_u128;

/* sig * 2^exp exactly (sig may be 0). */
typedef struct ref_val {
    uint64_t sig;
    int exp;
} ref_val;

enum { REF_FINITE, REF_INF, REF_NAN };

typedef struct ref_fmt {
    int E, M, bias;
    trn_fp_specials sp;
    uint32_t nmag; /* finite magnitudes are exactly the codes 0 .. nmag-1 */
    uint32_t inf;  /* magnitude code of +Inf (IEEE only) */
    uint32_t nan;  /* magnitude code of the canonical NaN (all ones; IEEE: quiet, no payload) */
    ref_val *val;  /* nmag + 1 entries; val[nmag] = max + one quantum (hypothetical) */
} ref_fmt;

static inline int ref_bitlen(uint64_t x) {
    return x ? 64 - __builtin_clzll(x) : 0;
}

/* Exact comparison of two non-negative values: -1, 0, 1. */
static inline int ref_cmp(ref_val a, ref_val b) {
    if (a.sig == 0 || b.sig == 0) return (a.sig != 0) - (b.sig != 0);
    int la = ref_bitlen(a.sig) + a.exp, lb = ref_bitlen(b.sig) + b.exp;
    if (la != lb) return la < lb ? -1 : 1;
    /* Same leading bit position: exponents differ by less than 64. */
    ref_u128 x = a.sig, y = b.sig;
    if (a.exp > b.exp)
        x <<= (a.exp - b.exp);
    else
        y <<= (b.exp - a.exp);
    return x < y ? -1 : x > y;
}

/* Class of a code (sign bit ignored), straight from the format rules. */
static inline int ref_class(const ref_fmt *f, uint32_t code) {
    uint32_t top = (1u << f->E) - 1, mall = (1u << f->M) - 1;
    uint32_t ef = (code >> f->M) & top, mf = code & mall;
    if (f->sp == TRN_SPECIALS_IEEE && ef == top) return mf ? REF_NAN : REF_INF;
    if (f->sp == TRN_SPECIALS_FN && ef == top && mf == mall) return REF_NAN;
    return REF_FINITE;
}

/* Exact value of a finite magnitude code. */
static inline ref_val ref_code_val(const ref_fmt *f, uint32_t code) {
    uint32_t mall = (1u << f->M) - 1, ef = (code >> f->M) & ((1u << f->E) - 1);
    uint32_t mf = code & mall;
    if (ef == 0) return (ref_val){mf, 1 - f->bias - f->M};
    return (ref_val){mf + (uint64_t)mall + 1, (int)ef - f->bias - f->M};
}

static inline void ref_fmt_fini(ref_fmt *f) {
    free(f->val);
    f->val = NULL;
}

/* Builds the table; aborts when the format breaks an assumption the reference needs
 * (finite codes a prefix of the magnitudes, values strictly increasing). */
static inline void ref_fmt_init(ref_fmt *f, trn_fpfmt d) {
    f->E = d.ebits, f->M = d.mbits, f->bias = d.bias, f->sp = d.specials;
    uint32_t nall = 1u << (f->E + f->M);
    f->val = malloc(sizeof(ref_val) * (nall + 1));
    if (!f->val) abort();
    f->nmag = 0, f->inf = f->nan = 0;
    for (uint32_t c = 0; c < nall; c++) {
        int k = ref_class(f, c);
        if (k == REF_INF) f->inf = c;
        if (k == REF_NAN && c == nall - 1) f->nan = c;
        if (k != REF_FINITE) continue;
        if (c != f->nmag) {
            fprintf(stderr, "num_ref: finite codes are not a prefix (code 0x%x)\n", c);
            abort();
        }
        f->val[f->nmag] = ref_code_val(f, c);
        if (c && ref_cmp(f->val[c - 1], f->val[c]) >= 0) {
            fprintf(stderr, "num_ref: values not increasing at code 0x%x\n", c);
            abort();
        }
        f->nmag++;
    }
    ref_val mx = f->val[f->nmag - 1];
    f->val[f->nmag] = (ref_val){mx.sig + 1, mx.exp};
}

/* The value of FP32 magnitude bits `a` (finite). */
static inline ref_val ref_from_f32(uint32_t a) {
    uint32_t ef = (a >> 23) & 0xff, mf = a & 0x7fffff;
    if (ef == 0) return (ref_val){mf, -149};
    return (ref_val){mf | 0x800000u, (int)ef - 150};
}

/* FP32 bits of +v when v is exactly representable (returns 1), else 0. */
static inline int ref_to_f32(ref_val v, uint32_t *bits) {
    if (v.sig == 0) {
        *bits = 0;
        return 1;
    }
    int lead = ref_bitlen(v.sig) - 1 + v.exp; /* v in [2^lead, 2^(lead+1)) */
    if (lead > 127) return 0;
    int q = lead >= -126 ? lead - 23 : -149; /* FP32 quantum at this magnitude */
    uint64_t n;
    if (v.exp >= q) {
        if (v.exp - q > 40) return 0;
        n = v.sig << (v.exp - q);
    } else {
        int s = q - v.exp;
        if (s >= 64 || (v.sig & ((UINT64_C(1) << s) - 1))) return 0;
        n = v.sig >> s;
    }
    if (lead >= -126) {
        *bits = ((uint32_t)(lead + 127) << 23) | ((uint32_t)n & 0x7fffff);
    } else {
        *bits = (uint32_t)n; /* subnormal: n < 2^23 */
    }
    return 1;
}

/* The rounding of a positive finite value x, in detail. */
typedef struct ref_round_info {
    uint32_t k;    /* largest magnitude code with val <= x (nmag if x >= hypothetical) */
    int exact;     /* x == val[k] */
    int mid;       /* sign of x - (val[k] + val[k+1]) / 2 when inexact */
    uint64_t frac; /* floor((x - val[k]) / (val[k+1] - val[k]) * 2^32) when inexact */
} ref_round_info;

static inline ref_round_info ref_locate(const ref_fmt *f, ref_val x) {
    ref_round_info r = {0, 0, 0, 0};
    if (ref_cmp(x, f->val[f->nmag]) >= 0) {
        r.k = f->nmag;
        r.exact = 1; /* rounds to the hypothetical code or beyond: overflow either way */
        return r;
    }
    uint32_t lo = 0, hi = f->nmag - 1; /* val[lo] <= x */
    while (lo < hi) {
        uint32_t m = lo + (hi - lo + 1) / 2;
        if (ref_cmp(f->val[m], x) <= 0)
            lo = m;
        else
            hi = m - 1;
    }
    r.k = lo;
    if (ref_cmp(f->val[lo], x) == 0) {
        r.exact = 1;
        return r;
    }
    ref_val a = f->val[lo], b = f->val[lo + 1];
    if (a.sig == 0 && ref_cmp(x, (ref_val){b.sig, b.exp - 40}) < 0) {
        /* x < val[1] 2^-40: below the midpoint and frac < 2^-40, so floor(frac 2^32) = 0. */
        r.mid = -1;
        return r;
    }
    int g = x.exp;
    if (a.exp < g) g = a.exp;
    if (b.exp < g) g = b.exp;
    /* Bounded spreads (val[k] <= x < val[k+1] <= 2 val[k], or the 2^-40 cut above) keep
     * every term below 2^100. */
    if (x.exp - g > 70 || a.exp - g > 70 || b.exp - g > 70) {
        fprintf(stderr, "num_ref: grid spread too large\n");
        abort();
    }
    ref_u128 X = (ref_u128)x.sig << (x.exp - g), A = (ref_u128)a.sig << (a.exp - g);
    ref_u128 B = (ref_u128)b.sig << (b.exp - g);
    ref_u128 twox = 2 * X, ab = A + B;
    r.mid = twox < ab ? -1 : twox > ab;
    r.frac = (uint64_t)(((X - A) << 32) / (B - A));
    return r;
}

/* The code of FP32 `xbits` in format f: RNE (sr = 0) or SR with word R; saturate as in
 * trn_fp_encode. */
static inline uint32_t ref_encode(const ref_fmt *f, uint32_t xbits, int sr, uint32_t R, int sat) {
    const uint32_t S = (xbits >> 31) << (f->E + f->M), a = xbits & 0x7fffffffu;
    const uint32_t top = (1u << f->E) - 1;
    if (f->sp == TRN_SPECIALS_NONE) sat = 1;
    if (a > 0x7f800000u) {
        if (f->sp == TRN_SPECIALS_NONE) return 0;
        if (f->sp == TRN_SPECIALS_FN) return S | f->nan;
        return S | (top << f->M) | ((a & 0x7fffff) >> (23 - f->M)) | (1u << (f->M - 1));
    }
    uint32_t mag;
    if (a == 0x7f800000u) {
        mag = f->nmag;
    } else if (a == 0) {
        return S;
    } else {
        ref_round_info r = ref_locate(f, ref_from_f32(a));
        mag = r.k;
        if (!r.exact) {
            int up;
            if (sr)
                up = r.frac + R >= (UINT64_C(1) << 32);
            else
                up = r.mid > 0 || (r.mid == 0 && (r.k & 1));
            mag += (uint32_t)up;
        }
    }
    if (mag < f->nmag) return S | mag;
    if (sat) return S | (f->nmag - 1);
    return S | (f->sp == TRN_SPECIALS_IEEE ? f->inf : f->nan);
}

#endif

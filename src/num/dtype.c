/* The dtype table (names, widths, float descriptors) and conversions between FP32 and any
 * dtype: floats through the generic encoder in fp.c, integers by rounding to an integer and
 * clamping, E8M0 as a power of two. */
#include "num_impl.h"

#include <math.h>
#include <stdio.h>

typedef struct dtype_row {
    const char *name;
    int bits;
    int container_bytes;
    trn_fpfmt fmt; /* ebits == 0 for non-float rows */
    int64_t imin, imax;
} dtype_row;

#define FP(e, m, b, sp) \
    { e, m, b, TRN_SPECIALS_##sp }
#define NOFP \
    { 0, 0, 0, TRN_SPECIALS_NONE }

/* Formats and ranges: docs/numerics.md sec. 1 (OFP8, MX v1.0, NKI data types). */
static const dtype_row rows[TRN_DTYPE_COUNT] = {
    [TRN_DTYPE_F32] = {"f32", 32, 4, FP(8, 23, 127, IEEE), 0, 0},
    [TRN_DTYPE_TF32] = {"tf32", 19, 4, FP(8, 10, 127, IEEE), 0, 0},
    [TRN_DTYPE_BF16] = {"bf16", 16, 2, FP(8, 7, 127, IEEE), 0, 0},
    [TRN_DTYPE_F16] = {"f16", 16, 2, FP(5, 10, 15, IEEE), 0, 0},
    [TRN_DTYPE_FP8_E4M3] = {"fp8_e4m3", 8, 1, FP(4, 3, 7, FN), 0, 0},
    [TRN_DTYPE_FP8_E5M2] = {"fp8_e5m2", 8, 1, FP(5, 2, 15, IEEE), 0, 0},
    [TRN_DTYPE_FP8_E4M3_LEGACY] = {"fp8_e4m3_legacy", 8, 1, FP(4, 3, 7, IEEE), 0, 0},
    [TRN_DTYPE_FP8_E3M4] = {"fp8_e3m4", 8, 1, FP(3, 4, 3, IEEE), 0, 0},
    [TRN_DTYPE_FP6_E3M2] = {"fp6_e3m2", 6, 1, FP(3, 2, 3, NONE), 0, 0},
    [TRN_DTYPE_FP6_E2M3] = {"fp6_e2m3", 6, 1, FP(2, 3, 1, NONE), 0, 0},
    [TRN_DTYPE_FP4_E2M1] = {"fp4_e2m1", 4, 1, FP(2, 1, 1, NONE), 0, 0},
    [TRN_DTYPE_INT8] = {"int8", 8, 1, NOFP, INT8_MIN, INT8_MAX},
    [TRN_DTYPE_INT16] = {"int16", 16, 2, NOFP, INT16_MIN, INT16_MAX},
    [TRN_DTYPE_INT32] = {"int32", 32, 4, NOFP, INT32_MIN, INT32_MAX},
    [TRN_DTYPE_UINT8] = {"uint8", 8, 1, NOFP, 0, UINT8_MAX},
    [TRN_DTYPE_UINT16] = {"uint16", 16, 2, NOFP, 0, UINT16_MAX},
    [TRN_DTYPE_UINT32] = {"uint32", 32, 4, NOFP, 0, UINT32_MAX},
    [TRN_DTYPE_E8M0] = {"e8m0", 8, 1, NOFP, 0, 0},
};

const char *trn_dtype_name(trn_dtype t) {
    return (unsigned)t < TRN_DTYPE_COUNT ? rows[t].name : "invalid";
}

trn_status trn_dtype_from_name(const char *name, trn_dtype *t, trn_err *err) {
    for (int i = 0; i < TRN_DTYPE_COUNT; i++) {
        if (strcmp(name, rows[i].name) == 0) {
            *t = (trn_dtype)i;
            return TRN_OK;
        }
    }
    char list[400] = "";
    size_t len = 0;
    for (int i = 0; i < TRN_DTYPE_COUNT && len < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? " " : "", rows[i].name);
    return trn_err_set(err, TRN_E_NOTFOUND, "unknown data type '%s' (expected one of: %s)", name,
                       list);
}

int trn_dtype_bits(trn_dtype t) {
    TRN_ASSERT((unsigned)t < TRN_DTYPE_COUNT);
    return rows[t].bits;
}
int trn_dtype_container_bytes(trn_dtype t) {
    TRN_ASSERT((unsigned)t < TRN_DTYPE_COUNT);
    return rows[t].container_bytes;
}
int trn_dtype_is_float(trn_dtype t) {
    return t <= TRN_DTYPE_FP4_E2M1;
}
int trn_dtype_is_int(trn_dtype t) {
    return t >= TRN_DTYPE_INT8 && t <= TRN_DTYPE_UINT32;
}

trn_fpfmt trn_fpfmt_of(trn_dtype t) {
    TRN_ASSERT(trn_dtype_is_float(t));
    return rows[t].fmt;
}

/* |x| (FP32 magnitude bits `a`) rounded to an integer, saturated at 2^40 (beyond every
 * integer dtype). */
static uint64_t round_to_int(uint32_t a, trn_round round, uint32_t rand) {
    int eu = (int)(a >> 23);
    if (eu >= 127 + 40) return UINT64_C(1) << 40;
    uint64_t sig = eu ? (a & 0x7fffffu) | 0x800000u : (a & 0x7fffffu);
    return trn_round_shift(sig, eu ? 150 - eu : 149, round, rand); /* value = sig 2^-shift */
}

static uint32_t int_from_f32(const dtype_row *r, float x, trn_round round, uint32_t rand) {
    uint32_t u = f32_bits(x), a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return 0; /* NaN */
    int64_t v = (int64_t)round_to_int(a, round, rand);
    if (u >> 31) v = -v;
    if (v < r->imin) v = r->imin;
    if (v > r->imax) v = r->imax;
    return (uint32_t)v & (r->bits == 32 ? 0xffffffffu : ((1u << r->bits) - 1));
}

/* Nearest power of two, ties (1.5 * 2^k) up, clamped to [2^-127, 2^127]. */
static uint32_t e8m0_from_f32(float x) {
    uint32_t u = f32_bits(x);
    if ((u >> 31) || (u & 0x7fffffffu) == 0 || (u & 0x7fffffffu) >= 0x7f800000u) return 0xff;
    int e;
    double m = frexp((double)x, &e); /* x = m 2^e, m in [0.5, 1), exact */
    int k = m >= 0.75 ? e : e - 1;
    k = k < -127 ? -127 : k > 127 ? 127 : k;
    return (uint32_t)(k + 127);
}

uint32_t trn_cvt_from_f32(trn_dtype t, float x, const trn_cvt_opts *o, uint32_t rand) {
    const dtype_row *r = &rows[t];
    switch (t) {
    case TRN_DTYPE_F32: return f32_bits(x);
    case TRN_DTYPE_TF32: return trn_fp_encode(&r->fmt, x, o->round, rand, o->saturate) << 13;
    case TRN_DTYPE_E8M0: return e8m0_from_f32(x);
    default: break;
    }
    if (trn_dtype_is_float(t)) return trn_fp_encode(&r->fmt, x, o->round, rand, o->saturate);
    return int_from_f32(r, x, o->round, rand);
}

/* FP32 bits `u` with the quiet bit set when they are a NaN: widening a NaN code gives a quiet
 * NaN with its sign and payload, as trn_fp_decode does for every narrower format (IEEE 754
 * convertFormat never returns a signaling NaN). */
static uint32_t quiet(uint32_t u) {
    return (u & 0x7fffffffu) > 0x7f800000u ? u | 0x400000u : u;
}

float trn_cvt_to_f32(trn_dtype t, uint32_t code) {
    const dtype_row *r = &rows[t];
    switch (t) {
    case TRN_DTYPE_F32: return f32_from_bits(code);
    case TRN_DTYPE_TF32: return f32_from_bits(quiet(code & 0xffffe000u));
    case TRN_DTYPE_E8M0:
        return (code & 0xff) == 0xff ? NAN : ldexpf(1.0f, (int)(code & 0xff) - 127);
    case TRN_DTYPE_INT8: return (float)(int8_t)code;
    case TRN_DTYPE_INT16: return (float)(int16_t)code;
    case TRN_DTYPE_INT32: return (float)(int32_t)code;
    case TRN_DTYPE_UINT8: return (float)(uint8_t)code;
    case TRN_DTYPE_UINT16: return (float)(uint16_t)code;
    case TRN_DTYPE_UINT32: return (float)code;
    default: break;
    }
    return trn_fp_decode(&r->fmt, code);
}

trn_bf16 trn_bf16_from_f32(float x) {
    return (trn_bf16){(uint16_t)trn_fp_encode(&rows[TRN_DTYPE_BF16].fmt, x, TRN_ROUND_RNE, 0, 0)};
}
float trn_bf16_to_f32(trn_bf16 h) {
    return f32_from_bits(quiet((uint32_t)h.bits << 16));
}
trn_f16 trn_f16_from_f32(float x) {
    return (trn_f16){(uint16_t)trn_fp_encode(&rows[TRN_DTYPE_F16].fmt, x, TRN_ROUND_RNE, 0, 0)};
}
float trn_f16_to_f32(trn_f16 h) {
    return trn_fp_decode(&rows[TRN_DTYPE_F16].fmt, h.bits);
}

static void store_code(void *out, int bytes, size_t i, uint32_t c) {
    switch (bytes) {
    case 1: ((uint8_t *)out)[i] = (uint8_t)c; break;
    case 2: ((uint16_t *)out)[i] = (uint16_t)c; break;
    default: ((uint32_t *)out)[i] = c; break;
    }
}

static uint32_t load_code(const void *in, int bytes, size_t i) {
    switch (bytes) {
    case 1: return ((const uint8_t *)in)[i];
    case 2: return ((const uint16_t *)in)[i];
    default: return ((const uint32_t *)in)[i];
    }
}

void trn_cvt_array_ref(trn_dtype t, const float *in, void *out, size_t n, const trn_cvt_opts *o) {
    int bytes = rows[t].container_bytes;
    for (size_t i = 0; i < n; i++) {
        uint32_t rand = o->round == TRN_ROUND_SR ? trn_rng_u32(o->seed, o->counter + i) : 0;
        store_code(out, bytes, i, trn_cvt_from_f32(t, in[i], o, rand));
    }
}

void trn_decode_array(trn_dtype t, const void *in, float *out, size_t n) {
    int bytes = rows[t].container_bytes;
    for (size_t i = 0; i < n; i++) out[i] = trn_cvt_to_f32(t, load_code(in, bytes, i));
}

/* OCP MX block formats: scale rules, element quantization (RNE and SR), decoding, 2-D blocks
 * and the exact block dot product, against references written independently here (element
 * values from the bit layout, nearest code by exhaustive search, scales from frexp, exact
 * dot sums by error-free double arithmetic with round-to-odd).
 * LABELS: unit */
#include <float.h>

#include "harness.h"
#include "trnsim/num.h"

/* ---- independent element tables ---------------------------------------------------------- */

typedef struct etype {
    trn_dtype t;
    int ebits, mbits, bias; /* ebits 0: MXINT8 */
    int ncodes, sign_bit, emax;
    double maxv;
    unsigned max_code; /* magnitude code of the largest finite value */
} etype;

/* docs/numerics.md sec. 1 (OFP8, MX v1.0 Table 1). */
static const etype ETYPES[] = {
    {TRN_DTYPE_FP8_E4M3, 4, 3, 7, 256, 0x80, 8, 448.0, 0x7e},
    {TRN_DTYPE_FP8_E5M2, 5, 2, 15, 256, 0x80, 15, 57344.0, 0x7b},
    {TRN_DTYPE_FP6_E3M2, 3, 2, 3, 64, 0x20, 4, 28.0, 0x1f},
    {TRN_DTYPE_FP6_E2M3, 2, 3, 1, 64, 0x20, 2, 7.5, 0x1f},
    {TRN_DTYPE_FP4_E2M1, 2, 1, 1, 16, 0x8, 2, 6.0, 0x7},
    {TRN_DTYPE_INT8, 0, 0, 0, 256, 0, 0, 127.0 / 64.0, 0x7f},
};
#define NETYPES ((int)(sizeof ETYPES / sizeof ETYPES[0]))
static const trn_scale_rule RULES[] = {TRN_SCALE_OCP, TRN_SCALE_NC4, TRN_SCALE_RCEIL};

/* Exact value of an element code (scale 1) from its bit layout. */
static double ref_value(const etype *e, unsigned code) {
    if (e->ebits == 0) return (int8_t)code / 64.0;
    int E = e->ebits, M = e->mbits;
    unsigned s = (code >> (E + M)) & 1, ef = (code >> M) & ((1u << E) - 1);
    unsigned mf = code & ((1u << M) - 1);
    if (e->t == TRN_DTYPE_FP8_E4M3 && ef == 15 && mf == 7) return NAN;
    if (e->t == TRN_DTYPE_FP8_E5M2 && ef == 31) return mf ? NAN : s ? -INFINITY : INFINITY;
    double v = ef ? ldexp(1.0 + mf / (double)(1 << M), (int)ef - e->bias)
                  : ldexp(mf / (double)(1 << M), 1 - e->bias);
    return s ? -v : v;
}

/* Nearest finite code to the exact y (ties to the even code), clamped, sign of y kept. */
static unsigned ref_rne(const etype *e, double y) {
    if (e->ebits == 0) {
        double z = rint(y * 64.0); /* default rounding mode: ties to even */
        z = z > 127 ? 127 : z < -127 ? -127 : z;
        return (uint8_t)(int8_t)z;
    }
    double a = fabs(y), bestd = INFINITY;
    unsigned best = 0;
    for (unsigned c = 0; c <= e->max_code; c++) {
        double d = fabs(ref_value(e, c) - a);
        if (d < bestd || (d == bestd && (c & 1) == 0)) bestd = d, best = c;
    }
    return best | (signbit(y) ? (unsigned)e->sign_bit : 0);
}

/* Stochastic rounding with random word R: up iff floor(frac * 2^32) + R >= 2^32, clamped. */
static unsigned ref_sr(const etype *e, double y, uint32_t R) {
    double a = fabs(y);
    if (e->ebits == 0) {
        double z = a * 64.0, lo = floor(z);
        double m = lo >= 127 ? 127 : lo + (floor((z - lo) * 4294967296.0) + R >= 4294967296.0);
        m = m > 127 ? 127 : m;
        return (uint8_t)(int8_t)(y < 0 ? -m : m);
    }
    unsigned lo = 0;
    while (lo < e->max_code && ref_value(e, lo + 1) <= a) lo++;
    unsigned c = lo;
    if (lo < e->max_code && ref_value(e, lo) != a) {
        double vl = ref_value(e, lo), ulp = ref_value(e, lo + 1) - vl;
        if (floor((a - vl) / ulp * 4294967296.0) + R >= 4294967296.0) c = lo + 1;
    }
    return c | (signbit(y) ? (unsigned)e->sign_bit : 0);
}

/* Scale byte from frexp (exact) and a search for RCEIL. */
static unsigned ref_scale(const etype *e, trn_scale_rule rule, double amax) {
    if (isnan(amax) || isinf(amax)) return 0xff;
    if (amax == 0) return 0;
    int ex;
    frexp(amax, &ex);
    int fl = ex - 1, s = 0;
    switch (rule) {
    case TRN_SCALE_OCP: s = fl - e->emax; break;
    case TRN_SCALE_NC4: s = fl - e->emax + 1; break;
    case TRN_SCALE_RCEIL:
        s = fl - e->emax - 3;
        while (ldexp(e->maxv, s) < amax) s++;
        break;
    }
    s = s < -127 ? -127 : s > 127 ? 127 : s;
    return (unsigned)(s + 127);
}

/* Reference quantization of one block; rand_base is the random word index of element 0. */
static void ref_block(const etype *e, trn_scale_rule rule, const float *v, trn_round round,
                      uint64_t seed, uint64_t rand_base, uint64_t rstride, unsigned *scale,
                      unsigned codes[32]) {
    double amax = 0;
    int special = 0;
    for (int i = 0; i < 32; i++) {
        if (isnan(v[i]) || isinf(v[i])) special = 1;
        if (fabs((double)v[i]) > amax) amax = fabs((double)v[i]);
    }
    *scale = special ? 0xff : ref_scale(e, rule, amax);
    for (int i = 0; i < 32; i++) {
        if (special) {
            codes[i] = 0;
            continue;
        }
        double y = ldexp((double)v[i], 127 - (int)*scale); /* exact in double */
        codes[i] = round == TRN_ROUND_RNE
                       ? ref_rne(e, y)
                       : ref_sr(e, y, trn_rng_u32(seed, rand_base + (uint64_t)i * rstride));
    }
}

/* ---- test data -------------------------------------------------------------------------- */

static uint64_t rng_state = 0x1234567u;
static uint64_t rnd(void) {
    return trn_rng_u64(99, rng_state++);
}

static float f32_of(uint32_t u) {
    float x;
    memcpy(&x, &u, 4);
    return x;
}

/* One random FP32 value about 2^eb with a random number of significant bits. */
static float rand_value(int eb) {
    uint64_t r = rnd();
    int keep = (int)(r % 25); /* significant mantissa bits kept */
    uint32_t mant = (uint32_t)(r >> 8) & 0x7fffffu;
    mant &= keep == 0 ? 0 : ~((1u << (23 - (keep > 23 ? 23 : keep))) - 1) & 0x7fffffu;
    double v = ldexp(1.0 + mant / 8388608.0, eb > 127 ? 127 : eb);
    float f = (float)v; /* subnormal targets round here; any float will do */
    return (r >> 40) & 1 ? -f : f;
}

/* A block whose magnitudes spread down from 2^base: zeros, -0, exact powers of two, values
 * with few significant bits (ties in the element grid) and full-precision values. */
static void rand_block(float v[32], int base) {
    int spread = 1 + (int)(rnd() % 30);
    for (int i = 0; i < 32; i++) {
        uint64_t r = rnd();
        if (r % 16 == 0)
            v[i] = (r >> 8) & 1 ? -0.0f : 0.0f;
        else
            v[i] = rand_value(base - (int)((r >> 16) % (unsigned)spread));
    }
}

static int rand_base(void) {
    uint64_t r = rnd() % 8;
    if (r == 0) return -149 + (int)(rnd() % 24); /* only subnormals */
    if (r == 1) return 120 + (int)(rnd() % 8);   /* near FLT_MAX */
    return -140 + (int)(rnd() % 268);
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_names(void) {
    trn_scale_rule r;
    trn_err err = {0};
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(trn_scale_rule_from_name(trn_scale_rule_name(RULES[i]), &r, &err), TRN_OK);
        CHECK_EQ_INT(r, RULES[i]);
    }
    CHECK(strcmp(trn_scale_rule_name(TRN_SCALE_NC4), "nc4") == 0);
    CHECK_EQ_INT(trn_scale_rule_from_name("floor", &r, &err), TRN_E_NOTFOUND);
    CHECK_CONTAINS(err.msg, "floor");
    CHECK_CONTAINS(err.msg, "rceil");
    for (int t = 0; t < TRN_DTYPE_COUNT; t++) {
        int want = 0;
        for (int k = 0; k < NETYPES; k++) want |= ETYPES[k].t == (trn_dtype)t;
        CHECK_EQ_INT(trn_mx_elem_ok((trn_dtype)t), want);
    }
    for (int k = 0; k < NETYPES; k++) CHECK_EQ_INT(trn_mx_emax(ETYPES[k].t), ETYPES[k].emax);
}

/* Every code of every element type, several scales, against exact arithmetic. */
static void test_decode_all_codes(void) {
    /* Spot values first (docs/numerics.md sec. 1). */
    CHECK_BITS_F32(trn_mx_decode(TRN_DTYPE_FP8_E4M3, 127, 0x7e), 448.0f);
    CHECK(isnan(trn_mx_decode(TRN_DTYPE_FP8_E4M3, 127, 0x7f)));
    CHECK_BITS_F32(trn_mx_decode(TRN_DTYPE_FP8_E4M3, 127, 0x01), 0x1p-9f);
    CHECK_BITS_F32(trn_mx_decode(TRN_DTYPE_FP8_E5M2, 127, 0x7b), 57344.0f);
    CHECK_BITS_F32(trn_mx_decode(TRN_DTYPE_FP8_E5M2, 127, 0xfc), -INFINITY);
    CHECK_BITS_F32(trn_mx_decode(TRN_DTYPE_FP6_E3M2, 127, 0x1f), 28.0f);
    CHECK_BITS_F32(trn_mx_decode(TRN_DTYPE_FP6_E3M2, 127, 0x01), 0.0625f);
    CHECK_BITS_F32(trn_mx_decode(TRN_DTYPE_FP6_E2M3, 127, 0x3f), -7.5f);
    CHECK_BITS_F32(trn_mx_decode(TRN_DTYPE_FP6_E2M3, 127, 0x01), 0.125f);
    CHECK_BITS_F32(trn_mx_decode(TRN_DTYPE_FP4_E2M1, 127, 0x7), 6.0f);
    CHECK_BITS_F32(trn_mx_decode(TRN_DTYPE_FP4_E2M1, 127, 0x9), -0.5f);
    CHECK_BITS_F32(trn_mx_decode(TRN_DTYPE_FP4_E2M1, 127, 0x8), -0.0f);
    CHECK_BITS_F32(trn_mx_decode(TRN_DTYPE_INT8, 127, 0x80), -2.0f);
    CHECK_BITS_F32(trn_mx_decode(TRN_DTYPE_INT8, 130, 0x80), -16.0f);
    CHECK_BITS_F32(trn_mx_decode(TRN_DTYPE_INT8, 127, 0x7f), 1.984375f);
    CHECK_BITS_F32(trn_mx_decode(TRN_DTYPE_INT8, 0, 0x01), 0x1p-133f);
    CHECK_BITS_F32(trn_mx_decode(TRN_DTYPE_FP4_E2M1, 0, 0x1), 0x1p-128f);
    CHECK_BITS_F32(trn_mx_decode(TRN_DTYPE_FP8_E4M3, 254, 0x7e), INFINITY); /* 448 2^127 */
    CHECK_BITS_F32(trn_mx_decode(TRN_DTYPE_FP8_E4M3, 247, 0x78), INFINITY); /* 256 * 2^120 */
    CHECK_BITS_F32(trn_mx_decode(TRN_DTYPE_FP8_E4M3, 247, 0x77), 0x1.ep127f);

    static const unsigned scales[] = {0, 1, 20, 100, 120, 127, 128, 140, 200, 240, 250, 254, 255};
    for (int k = 0; k < NETYPES; k++) {
        const etype *e = &ETYPES[k];
        for (size_t si = 0; si < sizeof scales / sizeof scales[0]; si++) {
            unsigned sc = scales[si];
            long bad = 0;
            for (unsigned c = 0; c < (unsigned)e->ncodes; c++) {
                float got = trn_mx_decode(e->t, (uint8_t)sc, (uint8_t)c);
                double v = ref_value(e, c);
                if (sc == 0xff || isnan(v)) {
                    bad += !isnan(got);
                    continue;
                }
                double x = ldexp(v, (int)sc - 127); /* exact in double */
                float want = fabs(x) >= 0x1p128 ? (x < 0 ? -INFINITY : INFINITY) : (float)x;
                CHECK(fabs(x) >= 0x1p128 || (double)want == x); /* the FP32 value is exact */
                bad += test_f32_bits(got) != test_f32_bits(want);
            }
            CHECK_MSG(bad == 0, "%s scale 0x%02x: %ld codes decode wrong", trn_dtype_name(e->t), sc,
                      bad);
            /* The block decoder with a stride agrees with the scalar one. */
            uint8_t codes[32];
            float out[64];
            for (int i = 0; i < 32; i++) codes[i] = (uint8_t)((i * 7 + 3) % e->ncodes);
            trn_mx_dequantize_block(e->t, (uint8_t)sc, codes, out, 2);
            int same = 1;
            for (int i = 0; i < 32; i++) {
                float w = trn_mx_decode(e->t, (uint8_t)sc, codes[i]);
                same &= test_f32_bits(out[2 * i]) == test_f32_bits(w) ||
                        (isnan(out[2 * i]) && isnan(w));
            }
            CHECK(same);
        }
    }
}

static void test_scale_rules(void) {
    const trn_dtype E4 = TRN_DTYPE_FP8_E4M3, I8 = TRN_DTYPE_INT8;
    /* Just below 2^20: floor(log2) = 19, where an FP32 log2 rounds to 20. */
    float below = f32_of(0x497fffffu);
    CHECK_EQ_HEX(trn_mx_scale(E4, TRN_SCALE_OCP, below), 127 + 19 - 8);
    CHECK_EQ_HEX(trn_mx_scale(E4, TRN_SCALE_NC4, below), 127 + 19 - 7);
    CHECK_EQ_HEX(trn_mx_scale(E4, TRN_SCALE_RCEIL, below), 127 + 12); /* 1.99.. > 1.75 */
    CHECK_EQ_HEX(trn_mx_scale(E4, TRN_SCALE_OCP, FLT_MAX), 127 + 119);
    CHECK_EQ_HEX(trn_mx_scale(E4, TRN_SCALE_NC4, FLT_MAX), 127 + 120);
    CHECK_EQ_HEX(trn_mx_scale(E4, TRN_SCALE_RCEIL, FLT_MAX), 127 + 120);
    CHECK_EQ_HEX(trn_mx_scale(TRN_DTYPE_FP8_E5M2, TRN_SCALE_OCP, -FLT_MAX), 127 + 112);
    /* MXINT8 reaches the E8M0 top: 128 clamps to 127. */
    CHECK_EQ_HEX(trn_mx_scale(I8, TRN_SCALE_OCP, FLT_MAX), 0xfe);
    CHECK_EQ_HEX(trn_mx_scale(I8, TRN_SCALE_NC4, FLT_MAX), 0xfe);
    CHECK_EQ_HEX(trn_mx_scale(I8, TRN_SCALE_RCEIL, FLT_MAX), 0xfe);
    CHECK_EQ_HEX(trn_mx_scale(I8, TRN_SCALE_RCEIL, 0x1.fcp126f), 0xfd); /* == 127/64 2^126 */
    /* Specials, zero, subnormals, the lower clamp. */
    CHECK_EQ_HEX(trn_mx_scale(E4, TRN_SCALE_OCP, NAN), 0xff);
    CHECK_EQ_HEX(trn_mx_scale(E4, TRN_SCALE_RCEIL, INFINITY), 0xff);
    CHECK_EQ_HEX(trn_mx_scale(E4, TRN_SCALE_NC4, -INFINITY), 0xff);
    CHECK_EQ_HEX(trn_mx_scale(E4, TRN_SCALE_OCP, 0.0f), 0x00);
    CHECK_EQ_HEX(trn_mx_scale(E4, TRN_SCALE_OCP, -0.0f), 0x00);
    CHECK_EQ_HEX(trn_mx_scale(E4, TRN_SCALE_OCP, 0x1p-149f), 0x00);
    CHECK_EQ_HEX(trn_mx_scale(TRN_DTYPE_FP4_E2M1, TRN_SCALE_OCP, 0x1p-120f), 127 - 122);
    CHECK_EQ_HEX(trn_mx_scale(TRN_DTYPE_FP4_E2M1, TRN_SCALE_OCP, 0x1.8p-125f), 0x00);
    CHECK_EQ_HEX(trn_mx_scale(TRN_DTYPE_FP4_E2M1, TRN_SCALE_NC4, 0x1p-125f), 127 - 126);
    /* Subnormal amax: floor(log2) from the top mantissa bit. */
    CHECK_EQ_HEX(trn_mx_scale(I8, TRN_SCALE_OCP, 0x1.8p-140f), 0x00);
    CHECK_EQ_HEX(trn_mx_scale(I8, TRN_SCALE_OCP, f32_of(0x00400001u)), 0x00);
    /* RCEIL is exact at the boundary amax = 2^s max_elem. */
    CHECK_EQ_HEX(trn_mx_scale(E4, TRN_SCALE_RCEIL, 448.0f), 127);
    CHECK_EQ_HEX(trn_mx_scale(E4, TRN_SCALE_RCEIL, nextafterf(448.0f, 1e9f)), 128);
    CHECK_EQ_HEX(trn_mx_scale(E4, TRN_SCALE_RCEIL, 256.0f), 127);
    CHECK_EQ_HEX(trn_mx_scale(E4, TRN_SCALE_RCEIL, nextafterf(224.0f, 0.0f)), 126);
    CHECK_EQ_HEX(trn_mx_scale(TRN_DTYPE_FP4_E2M1, TRN_SCALE_RCEIL, 6.0f), 127);
    CHECK_EQ_HEX(trn_mx_scale(TRN_DTYPE_FP4_E2M1, TRN_SCALE_RCEIL, 6.0000005f), 128);

    /* Every rule against the frexp reference, over all binades and subnormals. */
    long bad = 0;
    for (int n = 0; n < 200000; n++) {
        const etype *e = &ETYPES[n % NETYPES];
        trn_scale_rule rule = RULES[(n / NETYPES) % 3];
        float a = n % 3 == 0 ? f32_of((uint32_t)rnd() & 0x7fffffffu) : rand_value(rand_base());
        unsigned want = ref_scale(e, rule, fabs((double)a));
        bad += trn_mx_scale(e->t, rule, a) != want;
    }
    CHECK_MSG(bad == 0, "%ld scale bytes differ from the frexp reference", bad);
}

static int block_equal(const etype *e, trn_scale_rule rule, const float *v, unsigned rs,
                       const unsigned *rc, uint8_t s, const uint8_t *c) {
    for (int i = 0; i < 32; i++) {
        if (rc[i] != c[i]) {
            fprintf(stderr, "%s %s: v[%d] = %a: code 0x%02x, expected 0x%02x (scale 0x%02x)\n",
                    trn_dtype_name(e->t), trn_scale_rule_name(rule), i, (double)v[i], c[i], rc[i],
                    s);
            return 0;
        }
    }
    if (rs != s) {
        fprintf(stderr, "%s %s: scale 0x%02x, expected 0x%02x\n", trn_dtype_name(e->t),
                trn_scale_rule_name(rule), s, rs);
        return 0;
    }
    return 1;
}

/* Quantizes v with the library (block, flat ref and dispatcher) and checks the reference. */
static int check_block(const etype *e, trn_scale_rule rule, const float *v, const trn_cvt_opts *o) {
    unsigned rs, rc[32];
    uint8_t s1, c1[32], s2, c2[32], s3, c3[32];
    ref_block(e, rule, v, o->round, o->seed, o->counter, 1, &rs, rc);
    trn_mx_quantize_block(e->t, rule, v, 1, o, &s1, c1);
    trn_mx_quantize_ref(e->t, rule, v, 32, o, &s2, c2);
    trn_mx_quantize(e->t, rule, v, 32, o, &s3, c3);
    int ok = block_equal(e, rule, v, rs, rc, s1, c1);
    ok &= s1 == s2 && memcmp(c1, c2, 32) == 0 && s1 == s3 && memcmp(c1, c3, 32) == 0;
    return ok;
}

static const etype *etype_of(trn_dtype t) {
    for (int k = 0; k < NETYPES; k++)
        if (ETYPES[k].t == t) return &ETYPES[k];
    return NULL;
}

/* The edge blocks of docs/numerics.md sec. 4.2, with hand-computed expectations. */
static void test_edge_blocks(void) {
    const trn_cvt_opts rne = TRN_CVT_RNE;
    const trn_dtype E4 = TRN_DTYPE_FP8_E4M3;
    float v[32];
    uint8_t s, c[32];

    /* amax just below 2^20: X = 2^11 (OCP), the largest element 511.99.. clamps to 448. */
    for (int i = 0; i < 32; i++) v[i] = (float)(i - 16) * 1000.0f;
    v[5] = f32_of(0x497fffffu);
    trn_mx_quantize_block(E4, TRN_SCALE_OCP, v, 1, &rne, &s, c);
    CHECK_EQ_HEX(s, 127 + 11);
    CHECK_EQ_HEX(c[5], 0x7e);
    CHECK(check_block(etype_of(E4), TRN_SCALE_OCP, v, &rne));
    /* NC4: X = 2^12, 255.99.. rounds to 256 (code 0x78), no clamp. */
    trn_mx_quantize_block(E4, TRN_SCALE_NC4, v, 1, &rne, &s, c);
    CHECK_EQ_HEX(s, 127 + 12);
    CHECK_EQ_HEX(c[5], 0x78);
    CHECK(check_block(etype_of(E4), TRN_SCALE_NC4, v, &rne));

    /* FLT_MAX: OCP X = 2^119, 448 X finite; NC4 X = 2^120, 256 X = 2^128 decodes to Inf. */
    for (int i = 0; i < 32; i++) v[i] = i % 2 ? -1e30f : 3e37f;
    v[7] = FLT_MAX;
    v[8] = -FLT_MAX;
    trn_mx_quantize_block(E4, TRN_SCALE_OCP, v, 1, &rne, &s, c);
    CHECK_EQ_HEX(s, 0xf6);
    CHECK_EQ_HEX(c[7], 0x7e);
    CHECK_EQ_HEX(c[8], 0xfe);
    CHECK_BITS_F32(trn_mx_decode(E4, s, c[7]), 0x1.cp127f);
    trn_mx_quantize_block(E4, TRN_SCALE_NC4, v, 1, &rne, &s, c);
    CHECK_EQ_HEX(s, 0xf7);
    CHECK_EQ_HEX(c[7], 0x78);
    CHECK_BITS_F32(trn_mx_decode(E4, s, c[7]), INFINITY);
    CHECK_BITS_F32(trn_mx_decode(E4, s, c[8]), -INFINITY);
    for (int r = 0; r < 3; r++)
        for (int k = 0; k < NETYPES; k++) CHECK(check_block(&ETYPES[k], RULES[r], v, &rne));

    /* Only FP32 subnormals: X = 2^-127, elements V * 2^127. */
    for (int i = 0; i < 32; i++)
        v[i] = f32_of((uint32_t)(i * 262143u + 5u) | (i % 3 ? 0 : 1u << 31));
    v[9] = f32_of(0x007fffffu);  /* (2 - 2^-22) 2^-127 -> 2.0 under E4M3 */
    v[10] = f32_of(0x00000001u); /* 2^-149 -> 2^-22, rounds to +0 */
    v[11] = f32_of(0x80000001u); /* -> -0 */
    trn_mx_quantize_block(E4, TRN_SCALE_OCP, v, 1, &rne, &s, c);
    CHECK_EQ_HEX(s, 0x00);
    CHECK_EQ_HEX(c[9], 0x40);
    CHECK_EQ_HEX(c[10], 0x00);
    CHECK_EQ_HEX(c[11], 0x80);
    for (int r = 0; r < 3; r++)
        for (int k = 0; k < NETYPES; k++) CHECK(check_block(&ETYPES[k], RULES[r], v, &rne));

    /* All-zero block (signed zeros): scale 0x00, codes +-0. */
    for (int i = 0; i < 32; i++) v[i] = i % 3 == 1 ? -0.0f : 0.0f;
    for (int k = 0; k < NETYPES; k++) {
        const etype *e = &ETYPES[k];
        for (int r = 0; r < 3; r++) {
            trn_mx_quantize_block(e->t, RULES[r], v, 1, &rne, &s, c);
            CHECK_EQ_HEX(s, 0x00);
            int ok = 1;
            for (int i = 0; i < 32; i++) ok &= c[i] == (i % 3 == 1 ? e->sign_bit : 0);
            CHECK_MSG(ok, "%s: zero block codes", trn_dtype_name(e->t));
        }
    }
    /* Signed zeros among normal values keep their sign. */
    for (int i = 0; i < 32; i++) v[i] = (float)i;
    v[3] = -0.0f;
    v[4] = 0.0f;
    v[6] = -1e-30f; /* rounds to -0 */
    for (int k = 0; k < NETYPES; k++) {
        trn_mx_quantize_block(ETYPES[k].t, TRN_SCALE_OCP, v, 1, &rne, &s, c);
        CHECK_EQ_HEX(c[3], ETYPES[k].sign_bit);
        CHECK_EQ_HEX(c[4], 0);
        CHECK_EQ_HEX(c[6], ETYPES[k].sign_bit);
        CHECK_BITS_F32(trn_mx_decode(ETYPES[k].t, s, c[3]), ETYPES[k].sign_bit ? -0.0f : 0.0f);
    }

    /* NaN, +Inf, -Inf anywhere: scale 0xFF, codes 0, everything decodes NaN. */
    const float specials[] = {NAN, -NAN, INFINITY, -INFINITY};
    for (int k = 0; k < NETYPES; k++) {
        for (int sp = 0; sp < 4; sp++) {
            for (int i = 0; i < 32; i++) v[i] = (float)(i + 1);
            v[(sp * 11 + k) % 32] = specials[sp];
            for (int r = 0; r < 3; r++) {
                memset(c, 0x55, 32);
                trn_mx_quantize_block(ETYPES[k].t, RULES[r], v, 1, &rne, &s, c);
                CHECK_EQ_HEX(s, 0xff);
                int ok = 1;
                for (int i = 0; i < 32; i++)
                    ok &= c[i] == 0 && isnan(trn_mx_decode(ETYPES[k].t, s, c[i]));
                CHECK(ok);
            }
        }
    }

    /* Clamp zone: amax / X in [2^emax, 2^(emax+1)) above max normal clamps to max normal. */
    for (int k = 0; k < NETYPES; k++) {
        const etype *e = &ETYPES[k];
        for (int sh = -100; sh <= 100; sh += 25) {
            for (int i = 0; i < 32; i++) v[i] = ldexpf((float)(i % 5), sh - 3);
            v[0] = ldexpf(2.0f - 0x1p-10f, e->emax + sh);
            v[1] = -v[0];
            trn_mx_quantize_block(e->t, TRN_SCALE_OCP, v, 1, &rne, &s, c);
            CHECK_EQ_HEX(s, 127 + sh);
            CHECK_EQ_HEX(c[0], e->max_code);
            CHECK_EQ_HEX(c[1], e->ebits ? e->sign_bit | e->max_code : 0x81);
            CHECK(check_block(e, TRN_SCALE_OCP, v, &rne));
        }
    }
    for (int i = 0; i < 32; i++) v[i] = 0;
    v[0] = 500.0f * 0x1p-20f;
    v[1] = 464.0f * 0x1p-20f; /* tie between 448 and the missing 480: even, no overflow */
    v[2] = 480.0f * 0x1p-20f;
    v[3] = -470.0f * 0x1p-20f;
    trn_mx_quantize_block(E4, TRN_SCALE_OCP, v, 1, &rne, &s, c);
    CHECK_EQ_HEX(s, 127 - 20);
    CHECK_EQ_HEX(c[0], 0x7e);
    CHECK_EQ_HEX(c[1], 0x7e);
    CHECK_EQ_HEX(c[2], 0x7e);
    CHECK_EQ_HEX(c[3], 0xfe);
    CHECK_BITS_F32(trn_mx_decode(E4, s, c[0]), 448.0f * 0x1p-20f);
    /* E5M2: clamps to 57344, never Inf. */
    for (int i = 0; i < 32; i++) v[i] = 0;
    v[0] = 65000.0f;
    v[1] = -61440.0f; /* tie 57344 / 61440 would overflow; saturates */
    trn_mx_quantize_block(TRN_DTYPE_FP8_E5M2, TRN_SCALE_OCP, v, 1, &rne, &s, c);
    CHECK_EQ_HEX(s, 127);
    CHECK_EQ_HEX(c[0], 0x7b);
    CHECK_EQ_HEX(c[1], 0xfb);

    /* MXINT8: +-127 clamp, 0x80 never produced, -2.0 decodes. */
    for (int i = 0; i < 32; i++) v[i] = (float)(i - 16) / 16.0f;
    v[0] = -1.999f; /* -127.9 -> -128 -> clamp -127 */
    v[1] = 1.999f;
    v[2] = -1.0f;
    trn_mx_quantize_block(TRN_DTYPE_INT8, TRN_SCALE_OCP, v, 1, &rne, &s, c);
    CHECK_EQ_HEX(s, 127);
    CHECK_EQ_HEX(c[0], 0x81);
    CHECK_EQ_HEX(c[1], 0x7f);
    CHECK_EQ_HEX(c[2], 0xc0);
    CHECK_BITS_F32(trn_mx_decode(TRN_DTYPE_INT8, s, c[0]), -1.984375f);
    CHECK_BITS_F32(trn_mx_decode(TRN_DTYPE_INT8, 128, 0x80), -4.0f);
    /* NC4 on MXINT8 at FLT_MAX: the scale clamps at 2^127 and the element at 127. */
    for (int i = 0; i < 32; i++) v[i] = 0;
    v[0] = -FLT_MAX;
    trn_mx_quantize_block(TRN_DTYPE_INT8, TRN_SCALE_NC4, v, 1, &rne, &s, c);
    CHECK_EQ_HEX(s, 0xfe);
    CHECK_EQ_HEX(c[0], 0x81);

    /* NC4 = OCP + 1 and never clamps the largest element; RCEIL never clamps. */
    long nc4_bad = 0, rceil_bad = 0;
    for (int n = 0; n < 3000; n++) {
        const etype *e = &ETYPES[n % NETYPES];
        rand_block(v, -100 + (int)(rnd() % 200));
        double amax = 0;
        int at = 0;
        for (int i = 0; i < 32; i++)
            if (fabs((double)v[i]) > amax) amax = fabs((double)v[i]), at = i;
        if (amax == 0) continue;
        uint8_t so, sn, sr, cn[32], cr[32];
        trn_mx_quantize_block(e->t, TRN_SCALE_OCP, v, 1, &rne, &so, c);
        trn_mx_quantize_block(e->t, TRN_SCALE_NC4, v, 1, &rne, &sn, cn);
        trn_mx_quantize_block(e->t, TRN_SCALE_RCEIL, v, 1, &rne, &sr, cr);
        double pn = fabs(ref_value(e, cn[at]));
        nc4_bad += sn != so + 1 || pn > ldexp(1, e->emax) || pn < ldexp(1, e->emax - 1);
        /* RCEIL: amax <= X max_elem, so the RNE result never exceeds max_elem unclamped. */
        double y = ldexp(amax, 127 - sr); /* amax / X, exact */
        rceil_bad += y > e->maxv || (sr > 0 && 2 * y <= e->maxv) || cr[at] == 0;
    }
    CHECK_MSG(nc4_bad == 0, "%ld NC4 blocks with a scale not OCP + 1 or a clamped maximum",
              nc4_bad);
    CHECK_MSG(rceil_bad == 0, "%ld RCEIL blocks clamp", rceil_bad);
}

/* Random blocks of every magnitude against the exhaustive-search reference, RNE and SR. */
static void test_random_blocks(void) {
    long bad = 0, total = 0;
    float v[32];
    for (int k = 0; k < NETYPES; k++) {
        for (int r = 0; r < 3; r++) {
            for (int n = 0; n < 1500; n++) {
                rand_block(v, rand_base());
                trn_cvt_opts o = TRN_CVT_RNE;
                if (n % 2) {
                    o.round = TRN_ROUND_SR;
                    o.seed = rnd();
                    o.counter = rnd() >> 20;
                }
                total++;
                bad += !check_block(&ETYPES[k], RULES[r], v, &o);
            }
        }
    }
    CHECK_MSG(bad == 0, "%ld of %ld random blocks differ from the reference", bad, total);
}

/* SR is unbiased: the mean of many SR quantizations equals the exact value. */
static void test_sr_unbiased(void) {
    const int N = 20000;
    float v[32];
    for (int i = 0; i < 32; i++) v[i] = 0;
    /* E2M1, amax 5.3: X = 1, no element in the clamp zone; ulp 0.5, 1 or 2 by binade. */
    const float vals[] = {5.3f, 0.3f, 1.2f, 2.7f, 3.3f, -0.7f, -4.9f, 0.01f};
    for (int i = 0; i < 8; i++) v[i] = vals[i];
    double sum[8] = {0};
    trn_cvt_opts o = {TRN_ROUND_SR, 1, 777, 0};
    uint8_t s, c[32];
    for (int t = 0; t < N; t++) {
        o.counter = (uint64_t)t * 32;
        trn_mx_quantize_block(TRN_DTYPE_FP4_E2M1, TRN_SCALE_OCP, v, 1, &o, &s, c);
        for (int i = 0; i < 8; i++) sum[i] += trn_mx_decode(TRN_DTYPE_FP4_E2M1, s, c[i]);
    }
    CHECK_EQ_HEX(s, 127);
    for (int i = 0; i < 8; i++) {
        double ulp = fabs(vals[i]) >= 4 ? 2 : fabs(vals[i]) >= 2 ? 1 : 0.5;
        double tol = 5 * (ulp / 2) / sqrt((double)N);
        CHECK_NEAR(sum[i] / N, vals[i], tol);
    }
    /* Word counter + 32 b + i: block 1 of a flat array equals its block with counter + 32. */
    float w[64];
    for (int i = 0; i < 64; i++) w[i] = (float)(i * 37 % 61) / 7.0f - 4.0f;
    uint8_t sf[2], cf[64];
    o.counter = 1000;
    trn_mx_quantize_ref(TRN_DTYPE_FP6_E2M3, TRN_SCALE_OCP, w, 64, &o, sf, cf);
    o.counter = 1032;
    trn_mx_quantize_block(TRN_DTYPE_FP6_E2M3, TRN_SCALE_OCP, w + 32, 1, &o, &s, c);
    CHECK(s == sf[1] && memcmp(c, cf + 32, 32) == 0);
}

/* Flat arrays with a partial block, dequantize, and the 2-D layouts. */
static void test_arrays(void) {
    enum { N = 70, NP = 96 };
    float in[NP] = {0}, out[N];
    for (int i = 0; i < N; i++) in[i] = rand_value(-5 + (int)(rnd() % 10));
    for (int k = 0; k < NETYPES; k++) {
        const etype *e = &ETYPES[k];
        uint8_t s1[3], c1[NP], s2[3], c2[NP];
        trn_cvt_opts o = {TRN_ROUND_SR, 1, 5, 17};
        memset(c1, 0x5a, NP);
        trn_mx_quantize_ref(e->t, TRN_SCALE_OCP, in, N, &o, s1, c1);
        trn_mx_quantize(e->t, TRN_SCALE_OCP, in, NP, &o, s2, c2);
        CHECK(memcmp(s1, s2, 3) == 0 && memcmp(c1, c2, NP) == 0);
        int zero = 1;
        for (int i = N; i < NP; i++) zero &= c1[i] == 0;
        CHECK(zero);
        trn_mx_dequantize(e->t, s1, c1, N, out);
        int ok = 1;
        for (int i = 0; i < N; i++)
            ok &= test_f32_bits(out[i]) == test_f32_bits(trn_mx_decode(e->t, s1[i / 32], c1[i]));
        CHECK(ok);
    }

    /* 2-D: axis 0 blocks run down columns; element (r, c) uses word counter + r * cols + c. */
    enum { R = 64, C = 40 };
    static float m[R * C];
    for (int i = 0; i < R * C; i++) m[i] = rand_value(-20 + (int)(rnd() % 40));
    m[5 * C + 7] = NAN; /* poisons block (0, 7) only */
    trn_err err = {0};
    for (int k = 0; k < NETYPES; k++) {
        const etype *e = &ETYPES[k];
        trn_cvt_opts o = {k % 2 ? TRN_ROUND_SR : TRN_ROUND_RNE, 1, 11, 3};
        uint8_t sc[R / 32 * C], cd[R * C];
        CHECK_EQ_INT(trn_mx_quantize_2d(e->t, TRN_SCALE_NC4, m, R, C, 0, &o, sc, cd, &err), TRN_OK);
        int ok = 1;
        for (int rb = 0; rb < R / 32; rb++) {
            for (int c = 0; c < C; c++) {
                float col[32];
                unsigned rs, rc[32];
                for (int i = 0; i < 32; i++) col[i] = m[(rb * 32 + i) * C + c];
                ref_block(e, TRN_SCALE_NC4, col, o.round, o.seed,
                          o.counter + (uint64_t)(rb * 32 * C + c), C, &rs, rc);
                ok &= sc[rb * C + c] == rs;
                for (int i = 0; i < 32; i++) ok &= cd[(rb * 32 + i) * C + c] == rc[i];
            }
        }
        CHECK_MSG(ok, "%s: 2-D axis 0 differs from the reference", trn_dtype_name(e->t));
        CHECK_EQ_HEX(sc[7], 0xff);
        CHECK(sc[8] != 0xff && sc[C + 7] != 0xff);
        /* Axis 1 equals the flat quantization. */
        uint8_t sa[R * C / 32], ca[R * C], sb[R * C / 32], cb[R * C];
        CHECK_EQ_INT(trn_mx_quantize_2d(e->t, TRN_SCALE_OCP, m, C, R, 1, &o, sa, ca, &err), TRN_OK);
        trn_mx_quantize_ref(e->t, TRN_SCALE_OCP, m, R * C, &o, sb, cb);
        CHECK(memcmp(sa, sb, sizeof sa) == 0 && memcmp(ca, cb, sizeof ca) == 0);
    }
    uint8_t sc[64], cd[64 * 64];
    CHECK_EQ_INT(trn_mx_quantize_2d(TRN_DTYPE_FP8_E4M3, TRN_SCALE_OCP, m, 20, 64, 0, &TRN_CVT_RNE,
                                    sc, cd, &err),
                 TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "axis 0");
    CHECK_CONTAINS(err.msg, "20");
    CHECK_EQ_INT(trn_mx_quantize_2d(TRN_DTYPE_FP8_E4M3, TRN_SCALE_OCP, m, 32, 50, 1, &TRN_CVT_RNE,
                                    sc, cd, &err),
                 TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "axis 1");
    CHECK_CONTAINS(err.msg, "50");
    CHECK_EQ_INT(trn_mx_quantize_2d(TRN_DTYPE_FP8_E4M3, TRN_SCALE_OCP, m, 32, 32, 2, &TRN_CVT_RNE,
                                    sc, cd, &err),
                 TRN_E_INVALID);
    CHECK_EQ_INT(
        trn_mx_quantize_2d(TRN_DTYPE_BF16, TRN_SCALE_OCP, m, 32, 32, 0, &TRN_CVT_RNE, sc, cd, &err),
        TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "bf16");
}

/* ---- dot products ----------------------------------------------------------------------- */

/* a + b = s + *err exactly (Knuth's TwoSum). */
static double two_sum(double a, double b, double *err) {
    double s = a + b, bb = s - a;
    *err = (a - (s - bb)) + (b - bb);
    return s;
}

/* X_A X_B sum P_A P_B of one block, exactly, rounded once to FP32. The products are exact
 * doubles; products below 2^T and above it are summed separately, each exactly (checked),
 * their sum is rounded to odd in double, scaled, and rounded to FP32 (round-to-odd with 53
 * >= 24 + 2 bits makes the double rounding correct). */
static float ref_block_dot(const etype *ea, unsigned sa, const uint8_t *ca, const etype *eb,
                           unsigned sb, const uint8_t *cb, int *exact) {
    if (sa == 0xff || sb == 0xff) return NAN;
    int qa = ea->ebits ? 1 - ea->bias - ea->mbits : -6,
        qb = eb->ebits ? 1 - eb->bias - eb->mbits : -6;
    double T = ldexp(1, qa + qb + 48), hi = 0, lo = 0, err;
    int special = 0;
    for (int i = 0; i < 32; i++) {
        double p = ref_value(ea, ca[i]) * ref_value(eb, cb[i]);
        if (!isfinite(p) || !isfinite(ref_value(ea, ca[i])) || !isfinite(ref_value(eb, cb[i])))
            special = 1;
        if (fabs(p) >= T)
            hi = two_sum(hi, p, &err);
        else
            lo = two_sum(lo, p, &err);
        if (!special && err != 0) *exact = 0;
    }
    if (special) {
        double d = 0;
        for (int i = 0; i < 32; i++) d += ref_value(ea, ca[i]) * ref_value(eb, cb[i]);
        return (float)d;
    }
    double s = two_sum(hi, lo, &err);
    if (err != 0) {
        uint64_t u;
        memcpy(&u, &s, 8);
        if ((u & 1) == 0) s = nextafter(s, err > 0 ? INFINITY : -INFINITY);
    }
    s = ldexp(s, (int)sa + (int)sb - 254);
    return (float)s;
}

static float ref_dot(const etype *ea, const uint8_t *sa, const uint8_t *ca, const etype *eb,
                     const uint8_t *sb, const uint8_t *cb, size_t nb, int *exact) {
    float acc = 0.0f;
    for (size_t b = 0; b < nb; b++)
        acc += ref_block_dot(ea, sa[b], ca + 32 * b, eb, sb[b], cb + 32 * b, exact);
    return acc;
}

static int same_f32(float a, float b) {
    return test_f32_bits(a) == test_f32_bits(b) || (isnan(a) && isnan(b));
}

static uint8_t rand_finite_code(const etype *e) {
    for (;;) {
        uint8_t c = (uint8_t)(rnd() % (unsigned)e->ncodes);
        if (isfinite(ref_value(e, c))) return c;
    }
}

static void test_dot(void) {
    const trn_dtype E4 = TRN_DTYPE_FP8_E4M3, E5 = TRN_DTYPE_FP8_E5M2;
    uint8_t ca[32 * 8], cb[32 * 8], sa[8], sb[8];
    int exact = 1;

    /* Massive cancellation inside a block: exact, where a naive FP32 sum gives 0. */
    memset(ca, 0, 32);
    memset(cb, 0, 32);
    ca[0] = 0x7e, cb[0] = 0x7e; /* 448 * 448 */
    ca[1] = 0x01, cb[1] = 0x01; /* 2^-9 * 2^-9 */
    ca[2] = 0xfe, cb[2] = 0x7e; /* -448 * 448 */
    sa[0] = sb[0] = 127;
    CHECK_BITS_F32(trn_mx_dot(E4, sa, ca, E4, sb, cb, 1), 0x1p-18f);
    {
        float naive = 0;
        for (int i = 0; i < 32; i++)
            naive += trn_mx_decode(E4, 127, ca[i]) * trn_mx_decode(E4, 127, cb[i]);
        CHECK(naive != 0x1p-18f); /* the case really needs the exact sum */
    }
    memset(ca, 0, 32);
    memset(cb, 0, 32);
    ca[0] = 0x7b, cb[0] = 0x7b; /* 57344^2 */
    ca[1] = 0x01, cb[1] = 0x01; /* 2^-16 * 2^-16 */
    ca[2] = 0x7b, cb[2] = 0xfb;
    ca[3] = 0x02, cb[3] = 0x03; /* 2^-15 * 3 2^-16 */
    sa[0] = 100, sb[0] = 36;    /* X_A X_B = 2^-118: 7 2^-150 = 3.5 subnormal quanta, to even */
    CHECK_BITS_F32(trn_mx_dot(E5, sa, ca, E5, sb, cb, 1), 4 * 0x1p-149f);
    sa[0] = 100, sb[0] = 10; /* far below the smallest subnormal: +0 */
    CHECK_BITS_F32(trn_mx_dot(E5, sa, ca, E5, sb, cb, 1), 0.0f);
    sa[0] = 127, sb[0] = 127;
    CHECK_BITS_F32(trn_mx_dot(E5, sa, ca, E5, sb, cb, 1), 7 * 0x1p-32f);
    /* Mixed types: E5M2 x MXINT8, 0x80 = -2.0. */
    memset(ca, 0, 32);
    memset(cb, 0, 32);
    ca[0] = 0x3c, cb[0] = 0x80; /* 1.0 * -2.0 */
    ca[1] = 0x40, cb[1] = 0x01; /* 2.0 * 1/64 */
    sa[0] = 130, sb[0] = 120;
    CHECK_BITS_F32(trn_mx_dot(E5, sa, ca, TRN_DTYPE_INT8, sb, cb, 1),
                   (-2.0f + 1.0f / 32) * 0x1p-4f);
    /* Overflow to Inf and a subnormal rounded once (ties to even). */
    for (int i = 0; i < 32; i++) ca[i] = 0x7b, cb[i] = 0x7b;
    sa[0] = 254, sb[0] = 127;
    CHECK_BITS_F32(trn_mx_dot(E5, sa, ca, E5, sb, cb, 1), INFINITY);
    memset(ca, 0, 32);
    memset(cb, 0, 32);
    ca[0] = 0x07, cb[0] = 0x01; /* 7 2^-9 * 2^-9 = 7 2^-18 */
    sa[0] = 0, sb[0] = 127 - 3; /* 7 2^-18 2^-127 2^-3 = 14 2^-149, exact */
    CHECK_BITS_F32(trn_mx_dot(E4, sa, ca, E4, sb, cb, 1), 14 * 0x1p-149f);
    ca[0] = 0x05, cb[0] = 0x04; /* 20 2^-18 */
    sb[0] = 127 - 7;            /* 20 2^-152 = 2.5 quanta: tie, to even (2) */
    CHECK_BITS_F32(trn_mx_dot(E4, sa, ca, E4, sb, cb, 1), 2 * 0x1p-149f);
    ca[1] = 0x01, cb[1] = 0x01; /* 21 2^-152 = 2.625 quanta: 3 */
    CHECK_BITS_F32(trn_mx_dot(E4, sa, ca, E4, sb, cb, 1), 3 * 0x1p-149f);
    ca[2] = 0x81, cb[2] = 0x02; /* 19 2^-152 = 2.375 quanta: 2 */
    CHECK_BITS_F32(trn_mx_dot(E4, sa, ca, E4, sb, cb, 1), 2 * 0x1p-149f);
    /* NaN scale, element NaN, Inf * 0, Inf * x. */
    memset(ca, 0, 64);
    memset(cb, 0, 64);
    sa[0] = sb[0] = sa[1] = sb[1] = 127;
    sa[1] = 0xff;
    CHECK(isnan(trn_mx_dot(E4, sa, ca, E4, sb, cb, 2)));
    sa[1] = 127;
    CHECK_BITS_F32(trn_mx_dot(E4, sa, ca, E4, sb, cb, 2), 0.0f);
    ca[40] = 0x7f; /* E4M3 NaN element */
    CHECK(isnan(trn_mx_dot(E4, sa, ca, E4, sb, cb, 2)));
    ca[40] = 0;
    ca[3] = 0x7c; /* E5M2 +Inf times 0 */
    CHECK(isnan(trn_mx_dot(E5, sa, ca, E4, sb, cb, 2)));
    cb[3] = 0xb8; /* times -1 */
    CHECK_BITS_F32(trn_mx_dot(E5, sa, ca, E4, sb, cb, 2), -INFINITY);
    ca[4] = 0xfc, cb[4] = 0x38; /* -Inf * 1: -Inf + -Inf */
    CHECK_BITS_F32(trn_mx_dot(E5, sa, ca, E4, sb, cb, 2), -INFINITY);
    ca[5] = 0x7c, cb[5] = 0x38; /* + Inf: NaN */
    CHECK(isnan(trn_mx_dot(E5, sa, ca, E4, sb, cb, 2)));
    CHECK_BITS_F32(trn_mx_dot(E4, sa, ca, E4, sb, cb, 0), 0.0f);

    /* Every pair of element types, random codes and scales, against the reference. */
    long bad = 0, total = 0;
    for (int ka = 0; ka < NETYPES; ka++) {
        for (int kb = 0; kb < NETYPES; kb++) {
            const etype *ea = &ETYPES[ka], *eb = &ETYPES[kb];
            for (int n = 0; n < 400; n++) {
                size_t nb = 1 + rnd() % 8;
                for (size_t b = 0; b < nb; b++) {
                    uint64_t r = rnd() % 8;
                    sa[b] = (uint8_t)(r < 5 ? 110 + rnd() % 35 : rnd() % 255);
                    sb[b] = (uint8_t)(r < 5    ? 110 + rnd() % 35
                                      : r == 7 ? 254 - rnd() % 3
                                               : rnd() % 255);
                    for (int i = 0; i < 32; i++) {
                        ca[32 * b + i] = rand_finite_code(ea);
                        cb[32 * b + i] = rand_finite_code(eb);
                    }
                    if (n % 3 == 0) { /* cancel the second half against the first */
                        for (int i = 0; i < 15; i++) {
                            ca[32 * b + 16 + i] =
                                ca[32 * b + i] ^ (uint8_t)(ea->ebits ? ea->sign_bit : 0);
                            cb[32 * b + 16 + i] = cb[32 * b + i];
                            if (!ea->ebits)
                                ca[32 * b + 16 + i] = (uint8_t) - (int8_t)ca[32 * b + i];
                        }
                    }
                }
                float got = trn_mx_dot(ea->t, sa, ca, eb->t, sb, cb, nb);
                float want = ref_dot(ea, sa, ca, eb, sb, cb, nb, &exact);
                total++;
                if (!same_f32(got, want)) {
                    if (bad < 5)
                        fprintf(stderr, "dot %s x %s (%zu blocks): %a, expected %a\n",
                                trn_dtype_name(ea->t), trn_dtype_name(eb->t), nb, (double)got,
                                (double)want);
                    bad++;
                }
            }
        }
    }
    CHECK_MSG(exact, "the reference's bucket sums were not exact");
    CHECK_MSG(bad == 0, "%ld of %ld random dot products differ from the reference", bad, total);

    /* Quantize-then-dot: equals the dot of the dequantized vectors, and approximates the FP32
     * dot closely under NC4; the OCP rule clamps |x| in (0.875, 1) to 0.875 here (X = 2^-9,
     * 448 X), the accuracy cost docs/numerics.md sec. 4.2 describes. */
    enum { K = 256 };
    float x[K], y[K], dx[K], dy[K];
    for (int i = 0; i < K; i++) x[i] = sinf((float)i), y[i] = cosf((float)i * 0.7f);
    uint8_t qa[K], qb[K], xs[K / 32], ys[K / 32];
    double d = 0;
    for (int i = 0; i < K; i++) d += (double)x[i] * y[i];
    double err_rule[2];
    for (int r = 0; r < 2; r++) {
        trn_mx_quantize(E4, RULES[r], x, K, &TRN_CVT_RNE, xs, qa);
        trn_mx_quantize(E4, RULES[r], y, K, &TRN_CVT_RNE, ys, qb);
        trn_mx_dequantize(E4, xs, qa, K, dx);
        trn_mx_dequantize(E4, ys, qb, K, dy);
        double dq = 0;
        for (int i = 0; i < K; i++) dq += (double)dx[i] * dy[i];
        float got = trn_mx_dot(E4, xs, qa, E4, ys, qb, K / 32);
        CHECK_NEAR(got, dq, 1e-6 * fabs(dq) + 1e-6);
        err_rule[r] = fabs(got - d);
    }
    /* E4M3 normals carry a relative error <= 2^-4 each, so a product <= 2^-3 + 2^-8. */
    double l1 = 0;
    for (int i = 0; i < K; i++) l1 += fabs((double)x[i] * y[i]);
    CHECK_MSG(err_rule[1] <= 0.13 * l1, "NC4 dot error %g > %g", err_rule[1], 0.13 * l1);
    CHECK_MSG(err_rule[0] > err_rule[1], "OCP dot error %g <= NC4 error %g", err_rule[0],
              err_rule[1]);
}

/* A checkpoint's MXFP4 weights (GPT-OSS stores E2M1 codes with E8M0 scales, blocks of 32 along
 * the input axis) are dequantized when loaded, and the runner's mxfp4 mode quantizes them again
 * with the OCP rule (docs/models.md). That gives back every value exactly, though not always the
 * same codes: a block whose largest code magnitude is c (0.5 .. 6) at scale 2^s gets scale
 * 2^(s + floor(log2 c) - 2), so its codes are multiplied by 2^(2 - floor(log2 c)) (x8 for c =
 * 0.5, x4 for 1 and 1.5, x2 for 2 and 3, x1 for 4 and 6), and every E2M1 value up to c lands on
 * an E2M1 value again. Checked for every scale byte whose block stays finite and whose new scale
 * stays in E8M0's range (3 .. 252; all-zero blocks decode to zero under any scale), for every
 * largest-code level, on random blocks, bit for bit (the sign of zero included). */
static void test_requant_exact(void) {
    static const float mag[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
    long bad = 0, total = 0;
    for (int s = 3; s <= 252; s++)
        for (int top = 1; top < 8; top++)
            for (int rep = 0; rep < 4; rep++) {
                uint8_t codes[TRN_MX_BLOCK], scale2, codes2[TRN_MX_BLOCK];
                float v[TRN_MX_BLOCK];
                for (int i = 0; i < TRN_MX_BLOCK; i++) {
                    uint64_t r = rnd();
                    int m = i == 0 ? top : (int)(r % (uint64_t)(top + 1)); /* magnitude index */
                    codes[i] = (uint8_t)(m | ((r >> 8) & 1 ? 8 : 0));      /* E2M1: sign bit 3 */
                    v[i] = trn_mx_decode(TRN_DTYPE_FP4_E2M1, (uint8_t)s, codes[i]);
                }
                if (fabsf(v[0]) != ldexpf(mag[top], s - 127)) bad++; /* the decode itself */
                trn_cvt_opts o = TRN_CVT_RNE;
                trn_mx_quantize_block(TRN_DTYPE_FP4_E2M1, TRN_SCALE_OCP, v, 1, &o, &scale2, codes2);
                for (int i = 0; i < TRN_MX_BLOCK; i++) {
                    float w = trn_mx_decode(TRN_DTYPE_FP4_E2M1, scale2, codes2[i]);
                    uint32_t a, b;
                    memcpy(&a, &v[i], 4), memcpy(&b, &w, 4);
                    bad += a != b;
                    total++;
                }
            }
    CHECK_MSG(bad == 0, "%ld of %ld MXFP4 values change when dequantized and re-quantized", bad,
              total);
}

int main(void) {
    test_names();
    test_decode_all_codes();
    test_scale_rules();
    test_edge_blocks();
    test_random_blocks();
    test_sr_unbiased();
    test_arrays();
    test_dot();
    test_requant_exact();
    return test_summary();
}

/* Scalar numerics against an independent exact reference (tests/num_ref.h): the format
 * table and its documented constants, every code of every FP8/FP6/FP4/BF16/FP16/TF32 format
 * decoded and re-encoded, a dense FP32 sweep around every code and midpoint plus random bit
 * patterns for RNE, SR and both overflow modes, cFP8 biases, integers, E8M0 and dtype names.
 * Stochastic rounding's convention and statistics live in test_num_sr.c.
 * LABELS: unit */
#include <float.h>

#include "harness.h"
#include "num_ref.h"
#include "trnsim/num.h"

static const trn_dtype fp_types[] = {
    TRN_DTYPE_TF32,     TRN_DTYPE_BF16,     TRN_DTYPE_F16,
    TRN_DTYPE_FP8_E4M3, TRN_DTYPE_FP8_E5M2, TRN_DTYPE_FP8_E4M3_LEGACY,
    TRN_DTYPE_FP8_E3M4, TRN_DTYPE_FP6_E3M2, TRN_DTYPE_FP6_E2M3,
    TRN_DTYPE_FP4_E2M1,
};
#define N_FP_TYPES (sizeof fp_types / sizeof fp_types[0])

/* ---- format table and documented constants (docs/numerics.md sec. 1) ------------------- */

static void test_format_table(void) {
    static const struct {
        trn_dtype t;
        int e, m, bias;
        trn_fp_specials sp;
        float max, min_sub, min_norm;
    } tab[] = {
        {TRN_DTYPE_F32, 8, 23, 127, TRN_SPECIALS_IEEE, FLT_MAX, 0x1p-149f, 0x1p-126f},
        {TRN_DTYPE_TF32, 8, 10, 127, TRN_SPECIALS_IEEE, 0x1.ffcp127f, 0x1p-136f, 0x1p-126f},
        {TRN_DTYPE_BF16, 8, 7, 127, TRN_SPECIALS_IEEE, 0x1.fep127f, 0x1p-133f, 0x1p-126f},
        {TRN_DTYPE_F16, 5, 10, 15, TRN_SPECIALS_IEEE, 65504.0f, 0x1p-24f, 0x1p-14f},
        {TRN_DTYPE_FP8_E4M3, 4, 3, 7, TRN_SPECIALS_FN, 448.0f, 0x1p-9f, 0x1p-6f},
        {TRN_DTYPE_FP8_E5M2, 5, 2, 15, TRN_SPECIALS_IEEE, 57344.0f, 0x1p-16f, 0x1p-14f},
        {TRN_DTYPE_FP8_E4M3_LEGACY, 4, 3, 7, TRN_SPECIALS_IEEE, 240.0f, 0x1p-9f, 0x1p-6f},
        {TRN_DTYPE_FP8_E3M4, 3, 4, 3, TRN_SPECIALS_IEEE, 15.5f, 0x1p-6f, 0.25f},
        {TRN_DTYPE_FP6_E3M2, 3, 2, 3, TRN_SPECIALS_NONE, 28.0f, 0.0625f, 0.25f},
        {TRN_DTYPE_FP6_E2M3, 2, 3, 1, TRN_SPECIALS_NONE, 7.5f, 0.125f, 1.0f},
        {TRN_DTYPE_FP4_E2M1, 2, 1, 1, TRN_SPECIALS_NONE, 6.0f, 0.5f, 1.0f},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        trn_fpfmt f = trn_fpfmt_of(tab[i].t);
        CHECK_EQ_INT(f.ebits, tab[i].e);
        CHECK_EQ_INT(f.mbits, tab[i].m);
        CHECK_EQ_INT(f.bias, tab[i].bias);
        CHECK_EQ_INT(f.specials, tab[i].sp);
        CHECK_BITS_F32(trn_fpfmt_max(&f), tab[i].max);
        CHECK_BITS_F32(trn_fpfmt_min_subnormal(&f), tab[i].min_sub);
        CHECK_EQ_HEX(trn_fpfmt_ncodes(&f), UINT64_C(1) << (1 + tab[i].e + tab[i].m));
        if (tab[i].t == TRN_DTYPE_F32) continue;
        /* Smallest normal = code 1 << M; max via the public decode of the max code. */
        CHECK_BITS_F32(
            trn_cvt_to_f32(tab[i].t, tab[i].t == TRN_DTYPE_TF32 ? 1u << 23 : 1u << f.mbits),
            tab[i].min_norm);
        CHECK_BITS_F32(trn_cvt_to_f32(tab[i].t, tab[i].t == TRN_DTYPE_TF32 ? 1u << 13 : 1u),
                       tab[i].min_sub);
    }
    /* Documented max codes (OFP8, MX): 448 = S.1111.110, 57344 = S.11110.11, 240 = S.1110.111,
     * 28 = S.111.11, 7.5 = S.11.111, 6 = S.11.1. */
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_FP8_E4M3, 0x7e), 448.0f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_FP8_E4M3, 0xfe), -448.0f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_FP8_E5M2, 0x7b), 57344.0f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_FP8_E4M3_LEGACY, 0x77), 240.0f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_FP8_E3M4, 0x6f), 15.5f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_FP6_E3M2, 0x1f), 28.0f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_FP6_E3M2, 0x3f), -28.0f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_FP6_E2M3, 0x1f), 7.5f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_FP4_E2M1, 0x7), 6.0f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_FP4_E2M1, 0xf), -6.0f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_FP4_E2M1, 0x8), -0.0f);
    /* FP4 magnitudes {0, 0.5, 1, 1.5, 2, 3, 4, 6} (MX). */
    static const float fp4[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
    for (uint32_t c = 0; c < 8; c++) CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_FP4_E2M1, c), fp4[c]);
    /* Max subnormals: 0.875 2^-6 (E4M3), 0.75 2^-14 (E5M2), 0.1875 (E3M2), 0.875 (E2M3). */
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_FP8_E4M3, 0x07), 0.875f * 0x1p-6f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_FP8_E5M2, 0x03), 0.75f * 0x1p-14f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_FP6_E3M2, 0x03), 0.1875f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_FP6_E2M3, 0x07), 0.875f);
    /* Specials: E4M3FN NaN only at S.1111.111; E5M2 Inf at S.11111.00. */
    CHECK(isnan(trn_cvt_to_f32(TRN_DTYPE_FP8_E4M3, 0x7f)));
    CHECK(isnan(trn_cvt_to_f32(TRN_DTYPE_FP8_E4M3, 0xff)));
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_FP8_E4M3, 0x78), 256.0f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_FP8_E5M2, 0x7c), INFINITY);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_FP8_E5M2, 0xfc), -INFINITY);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_FP8_E4M3_LEGACY, 0x78), INFINITY);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_FP8_E3M4, 0x70), INFINITY);
}

/* ---- exhaustive decode / re-encode ----------------------------------------------------- */

/* Code in the dtype's container <-> the format's plain code (TF32 sits in FP32 bits). */
static uint32_t to_container(trn_dtype t, uint32_t c) {
    return t == TRN_DTYPE_TF32 ? c << 13 : c;
}

static void test_exhaustive_codes(void) {
    for (size_t ti = 0; ti < N_FP_TYPES; ti++) {
        trn_dtype t = fp_types[ti];
        trn_fpfmt fd = trn_fpfmt_of(t);
        ref_fmt f;
        ref_fmt_init(&f, fd);
        const char *name = trn_dtype_name(t);
        uint32_t ncodes = 1u << (1 + f.E + f.M), magmask = (1u << (f.E + f.M)) - 1;
        for (uint32_t c = 0; c < ncodes; c++) {
            uint32_t mag = c & magmask, neg = c >> (f.E + f.M);
            uint32_t cc = to_container(t, c);
            float d = trn_cvt_to_f32(t, cc);
            uint32_t db = test_f32_bits(d);
            int cls = ref_class(&f, mag);
            if (cls == REF_FINITE) {
                uint32_t eb = 0;
                int ok = ref_to_f32(f.val[mag], &eb);
                CHECK_MSG(ok, "%s code 0x%x not representable in FP32", name, c);
                eb |= neg << 31;
                CHECK_MSG(db == eb, "%s decode 0x%x = 0x%08x, expected 0x%08x", name, c, db, eb);
                CHECK_BITS_F32(trn_fp_decode(&fd, c), test_f32_from_bits(eb));
            } else if (cls == REF_INF) {
                CHECK_MSG(db == ((neg << 31) | 0x7f800000u), "%s decode 0x%x = 0x%08x (Inf)", name,
                          c, db);
            } else {
                /* NaN keeps its sign and top payload bits and is quiet (num.h). */
                uint32_t want = (neg << 31) | 0x7fc00000u;
                if (f.sp == TRN_SPECIALS_IEEE) want |= (mag & ((1u << f.M) - 1)) << (23 - f.M);
                CHECK_MSG(db == want, "%s decode NaN 0x%x = 0x%08x, expected 0x%08x", name, c, db,
                          want);
            }
            /* Re-encode: identity for non-NaN codes in both overflow modes (Inf saturates). */
            for (int sat = 0; sat < 2; sat++) {
                trn_cvt_opts o = {TRN_ROUND_RNE, sat, 0, 0};
                uint32_t back = trn_cvt_from_f32(t, d, &o, 0);
                uint32_t want = cc;
                if (cls == REF_INF && sat)
                    want = to_container(t, (neg << (f.E + f.M)) | (f.nmag - 1));
                if (cls == REF_NAN) {
                    uint32_t bm = (t == TRN_DTYPE_TF32 ? back >> 13 : back) & magmask;
                    CHECK_MSG(ref_class(&f, bm) == REF_NAN &&
                                  (back >> (f.E + f.M + (t == TRN_DTYPE_TF32 ? 13 : 0))) == neg,
                              "%s NaN code 0x%x re-encodes to 0x%x", name, c, back);
                } else {
                    CHECK_MSG(back == want, "%s code 0x%x -> %a -> 0x%x (sat %d)", name, c,
                              (double)d, back, sat);
                }
                /* SR leaves exact values alone whatever the word. */
                trn_cvt_opts s = {TRN_ROUND_SR, sat, 0, 0};
                if (cls != REF_NAN)
                    CHECK_MSG(trn_cvt_from_f32(t, d, &s, 0xffffffffu) == want,
                              "%s code 0x%x SR re-encode", name, c);
            }
            /* The reference agrees with itself on decoded values. */
            if (cls == REF_FINITE) CHECK_EQ_HEX(ref_encode(&f, db, 0, 0, 0), c);
        }
        ref_fmt_fini(&f);
    }
}

/* BF16 and FP16 typed helpers against the generic path, every code. */
static void test_typed_16(void) {
    for (uint32_t c = 0; c < 65536; c++) {
        trn_bf16 b = {(uint16_t)c};
        trn_f16 h = {(uint16_t)c};
        CHECK_BITS_F32(trn_bf16_to_f32(b), trn_cvt_to_f32(TRN_DTYPE_BF16, c));
        CHECK_BITS_F32(trn_f16_to_f32(h), trn_cvt_to_f32(TRN_DTYPE_F16, c));
        float xb = trn_bf16_to_f32(b), xh = trn_f16_to_f32(h);
        if (!isnan(xb)) CHECK_EQ_HEX(trn_bf16_from_f32(xb).bits, c);
        if (!isnan(xh)) CHECK_EQ_HEX(trn_f16_from_f32(xh).bits, c);
    }
    /* BF16 RNE equals the classic integer formula (bits + 0x7fff + lsb) >> 16 for every
     * non-NaN input (an independent reference), and the typed helper equals the generic one. */
    uint64_t st = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 400000; i++) {
        uint32_t u = (uint32_t)test_rnd64(&st);
        if (i < 65536) u = ((uint32_t)i << 16) | (uint32_t)(test_rnd64(&st) & 0xffff);
        float x = test_f32_from_bits(u);
        trn_cvt_opts o = TRN_CVT_RNE;
        uint32_t g = trn_cvt_from_f32(TRN_DTYPE_BF16, x, &o, 0);
        CHECK_EQ_HEX(trn_bf16_from_f32(x).bits, g);
        CHECK_EQ_HEX(trn_f16_from_f32(x).bits, trn_cvt_from_f32(TRN_DTYPE_F16, x, &o, 0));
        if ((u & 0x7fffffffu) <= 0x7f800000u) {
            uint32_t want = (u + 0x7fffu + ((u >> 16) & 1)) >> 16;
            CHECK_MSG(g == want, "bf16(0x%08x) = 0x%x, expected 0x%x", u, g, want);
        }
    }
}

/* ---- sweeps against the reference ----------------------------------------------------- */

typedef struct sweep {
    const char *name;
    trn_dtype t; /* TRN_DTYPE_COUNT: only trn_fp_encode on fd */
    trn_fpfmt fd;
    ref_fmt f;
    uint64_t rng;
    long inputs;
} sweep;

static uint32_t enc(sweep *s, uint32_t x, trn_round r, uint32_t R, int sat) {
    if (s->t == TRN_DTYPE_COUNT) return trn_fp_encode(&s->fd, test_f32_from_bits(x), r, R, sat);
    trn_cvt_opts o = {r, sat, 0, 0};
    uint32_t c = trn_cvt_from_f32(s->t, test_f32_from_bits(x), &o, R);
    return s->t == TRN_DTYPE_TF32 ? c >> 13 : c;
}

/* One FP32 input through RNE and SR (fixed, random and threshold words), both overflow
 * modes, against the reference. */
static void check_input(sweep *s, uint32_t x) {
    s->inputs++;
    for (int sat = 0; sat < 2; sat++) {
        uint32_t got = enc(s, x, TRN_ROUND_RNE, 0, sat), want = ref_encode(&s->f, x, 0, 0, sat);
        CHECK_MSG(got == want, "%s RNE sat=%d x=0x%08x (%a): got 0x%x, expected 0x%x", s->name, sat,
                  x, (double)test_f32_from_bits(x), got, want);
        uint32_t words[6] = {0, 0xffffffffu, (uint32_t)test_rnd64(&s->rng), 0x80000000u, 0, 0};
        int nw = 4;
        uint32_t a = x & 0x7fffffffu;
        if (a != 0 && a < 0x7f800000u) {
            ref_round_info ri = ref_locate(&s->f, ref_from_f32(a));
            if (!ri.exact && ri.frac > 0) { /* the exact SR threshold: 2^32 - F rounds up */
                words[nw++] = (uint32_t)((UINT64_C(1) << 32) - ri.frac);
                words[nw++] = (uint32_t)((UINT64_C(1) << 32) - ri.frac - 1);
            }
        }
        for (int w = 0; w < nw; w++) {
            got = enc(s, x, TRN_ROUND_SR, words[w], sat);
            want = ref_encode(&s->f, x, 1, words[w], sat);
            CHECK_MSG(got == want, "%s SR R=0x%08x sat=%d x=0x%08x (%a): got 0x%x, expected 0x%x",
                      s->name, words[w], sat, x, (double)test_f32_from_bits(x), got, want);
        }
    }
}

/* x and its FP32 neighbours within 3 ulp, both signs. */
static void check_around(sweep *s, uint32_t x) {
    for (int j = -3; j <= 3; j++) {
        int64_t b = (int64_t)x + j;
        if (b < 0 || b > 0x7f800000) continue;
        check_input(s, (uint32_t)b);
        check_input(s, (uint32_t)b | 0x80000000u);
    }
}

/* Every code value and every midpoint between neighbouring codes (including the one between
 * max and the first overflowing value), each +-3 ulp; `stride` > 1 samples the magnitudes
 * of wide formats (every code of the lowest and highest binades is always taken). */
static void sweep_codes(sweep *s, uint32_t stride) {
    const ref_fmt *f = &s->f;
    uint32_t binade = 1u << f->M;
    for (uint32_t c = 0; c <= f->nmag; c++) {
        int edge = c < 3 * binade || c + 3 * binade > f->nmag;
        if (stride > 1 && !edge && c % stride) continue;
        uint32_t xb;
        if (ref_to_f32(f->val[c], &xb)) check_around(s, xb);
        if (c == f->nmag) break;
        ref_val a = f->val[c], b = f->val[c + 1];
        int g = a.exp < b.exp ? a.exp : b.exp;
        ref_val mid = {(a.sig << (a.exp - g)) + (b.sig << (b.exp - g)), g - 1};
        if (ref_to_f32(mid, &xb)) check_around(s, xb);
    }
}

static void sweep_specials(sweep *s) {
    static const uint32_t sp[] = {
        0x00000000u, 0x00000001u, 0x00000002u, 0x00000003u, 0x007fffffu, 0x00400000u,
        0x00400001u, 0x003fffffu, 0x00800000u, 0x7f7fffffu, 0x7f800000u, 0x7f800001u,
        0x7fa00000u, 0x7fc00000u, 0x7fc00001u, 0x7fffffffu, 0x7fbfffffu, 0x7f812345u,
        0x3f800000u, 0x3f800001u, 0x3fffffffu, 0x4b000000u, 0x4b7fffffu, 0x7f000000u,
    };
    for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) {
        check_input(s, sp[i]);
        check_input(s, sp[i] | 0x80000000u);
    }
    /* FP32 subnormals: the smallest 2000 and a stride over the rest. */
    for (uint32_t m = 1; m < 2000; m++) check_input(s, m);
    for (uint32_t m = 2000; m < 0x800000u; m += 4099) {
        check_input(s, m);
        check_input(s, m | 0x80000000u);
    }
}

static void sweep_random(sweep *s, long n) {
    for (long i = 0; i < n; i++) {
        uint32_t u = (uint32_t)test_rnd64(&s->rng);
        /* Half uniformly random bits, half random mantissas in the format's own range. */
        if (i & 1) {
            int e = (int)(test_rnd64(&s->rng) % (unsigned)(2 * s->f.bias + 8 + s->f.M)) -
                    s->f.bias - s->f.M - 3;
            int eb = e + 127;
            if (eb < 0) eb = 0;
            if (eb > 254) eb = 254;
            u = (u & 0x807fffffu) | ((uint32_t)eb << 23);
        }
        check_input(s, u);
    }
}

static void run_sweep(const char *name, trn_dtype t, trn_fpfmt fd, uint32_t stride, long nrand) {
    sweep s = {name, t, fd, {0}, 0x1234567u + (uint64_t)fd.bias * 977u + fd.mbits, 0};
    ref_fmt_init(&s.f, fd);
    long fails = test_failed_;
    sweep_codes(&s, stride);
    sweep_specials(&s);
    sweep_random(&s, nrand);
    ref_fmt_fini(&s.f);
    if (test_failed_ != fails) fprintf(stderr, "sweep %s: failures above\n", name);
    printf("sweep %-24s %8ld inputs\n", name, s.inputs);
}

static void test_sweeps(void) {
    for (size_t i = 0; i < N_FP_TYPES; i++) {
        trn_dtype t = fp_types[i];
        uint32_t stride = t == TRN_DTYPE_TF32                         ? 97
                          : t == TRN_DTYPE_BF16 || t == TRN_DTYPE_F16 ? 3
                                                                      : 1;
        run_sweep(trn_dtype_name(t), t, trn_fpfmt_of(t), stride, 100000);
    }
}

/* ---- explicit boundaries (docs/numerics.md sec. 3) ------------------------------------- */

static uint32_t cvt(trn_dtype t, float x, int sat) {
    trn_cvt_opts o = {TRN_ROUND_RNE, sat, 0, 0};
    return trn_cvt_from_f32(t, x, &o, 0);
}

static void test_boundaries(void) {
    const trn_dtype E4 = TRN_DTYPE_FP8_E4M3, E5 = TRN_DTYPE_FP8_E5M2;
    /* E4M3: 464 ties 448 / (480) and goes to the even 448; the next FP32 overflows. */
    CHECK_EQ_HEX(cvt(E4, 464.0f, 0), 0x7e);
    CHECK_EQ_HEX(cvt(E4, 464.0f, 1), 0x7e);
    CHECK_EQ_HEX(cvt(E4, -464.0f, 0), 0xfe);
    CHECK_EQ_HEX(cvt(E4, nextafterf(464.0f, INFINITY), 0), 0x7f);
    CHECK_EQ_HEX(cvt(E4, nextafterf(464.0f, INFINITY), 1), 0x7e);
    CHECK_EQ_HEX(cvt(E4, -nextafterf(464.0f, INFINITY), 0), 0xff);
    CHECK_EQ_HEX(cvt(E4, -nextafterf(464.0f, INFINITY), 1), 0xfe);
    CHECK_EQ_HEX(cvt(E4, 448.0f, 0), 0x7e);
    CHECK_EQ_HEX(cvt(E4, 1e10f, 0), 0x7f);
    CHECK_EQ_HEX(cvt(E4, INFINITY, 0), 0x7f);
    CHECK_EQ_HEX(cvt(E4, INFINITY, 1), 0x7e);
    CHECK_EQ_HEX(cvt(E4, -INFINITY, 1), 0xfe);
    CHECK_EQ_HEX(cvt(E4, NAN, 1), 0x7f);
    CHECK_EQ_HEX(cvt(E4, -NAN, 0), 0xff);
    CHECK_EQ_HEX(cvt(E4, 0x1p-9f, 0), 0x01);
    CHECK_EQ_HEX(cvt(E4, 0x1p-10f, 0), 0x00);                   /* tie 0 / min sub */
    CHECK_EQ_HEX(cvt(E4, nextafterf(0x1p-10f, 1.0f), 0), 0x01); /* just above the tie */
    CHECK_EQ_HEX(cvt(E4, 3 * 0x1p-10f, 0), 0x02);               /* tie 1 / 2 -> 2 */
    CHECK_EQ_HEX(cvt(E4, -0.0f, 0), 0x80);
    /* E5M2: 61440 ties 57344 (odd) / 65536 (even) and overflows. */
    CHECK_EQ_HEX(cvt(E5, 61440.0f, 0), 0x7c);
    CHECK_EQ_HEX(cvt(E5, 61440.0f, 1), 0x7b);
    CHECK_EQ_HEX(cvt(E5, nextafterf(61440.0f, 0.0f), 0), 0x7b);
    CHECK_EQ_HEX(cvt(E5, -61440.0f, 0), 0xfc);
    CHECK_EQ_HEX(cvt(E5, 57344.0f, 0), 0x7b);
    CHECK_EQ_HEX(cvt(E5, INFINITY, 0), 0x7c);
    CHECK_EQ_HEX(cvt(E5, INFINITY, 1), 0x7b);
    CHECK_EQ_HEX(cvt(E5, NAN, 0) & 0x7c, 0x7c);
    CHECK_EQ_HEX(cvt(E5, NAN, 0), 0x7e);  /* quiet, no payload */
    CHECK_EQ_HEX(cvt(E5, -NAN, 1), 0xfe); /* NaN is not saturated */
    /* Legacy E4M3 (max 240 = S.1110.111): 248 ties to the even 256 and overflows to Inf. */
    CHECK_EQ_HEX(cvt(TRN_DTYPE_FP8_E4M3_LEGACY, 248.0f, 0), 0x78);
    CHECK_EQ_HEX(cvt(TRN_DTYPE_FP8_E4M3_LEGACY, 248.0f, 1), 0x77);
    CHECK_EQ_HEX(cvt(TRN_DTYPE_FP8_E4M3_LEGACY, nextafterf(248.0f, 0.0f), 0), 0x77);
    /* E3M4 (max 15.5): 15.75 ties to the even 16 and overflows. */
    CHECK_EQ_HEX(cvt(TRN_DTYPE_FP8_E3M4, 15.75f, 0), 0x70);
    CHECK_EQ_HEX(cvt(TRN_DTYPE_FP8_E3M4, 15.75f, 1), 0x6f);
    CHECK_EQ_HEX(cvt(TRN_DTYPE_FP8_E3M4, 15.7f, 0), 0x6f);
    /* FP6/FP4 always saturate, NaN -> +0. */
    CHECK_EQ_HEX(cvt(TRN_DTYPE_FP6_E3M2, 30.0f, 0), 0x1f);
    CHECK_EQ_HEX(cvt(TRN_DTYPE_FP6_E3M2, 1e30f, 0), 0x1f);
    CHECK_EQ_HEX(cvt(TRN_DTYPE_FP6_E3M2, -INFINITY, 0), 0x3f);
    CHECK_EQ_HEX(cvt(TRN_DTYPE_FP6_E3M2, NAN, 0), 0x00);
    CHECK_EQ_HEX(cvt(TRN_DTYPE_FP6_E3M2, -NAN, 0), 0x00);
    CHECK_EQ_HEX(cvt(TRN_DTYPE_FP6_E2M3, 7.75f, 0), 0x1f);
    CHECK_EQ_HEX(cvt(TRN_DTYPE_FP6_E2M3, -100.0f, 0), 0x3f);
    static const struct {
        float x;
        uint32_t c;
    } fp4[] = {{0.25f, 0x0}, {0.26f, 0x1},  {0.75f, 0x2}, {1.25f, 0x2}, {1.75f, 0x4},
               {2.5f, 0x4},  {3.5f, 0x6},   {5.0f, 0x6},  {5.01f, 0x7}, {7.0f, 0x7},
               {1e9f, 0x7},  {-0.25f, 0x8}, {-5.0f, 0xe}, {-7.0f, 0xf}};
    for (size_t i = 0; i < sizeof fp4 / sizeof fp4[0]; i++)
        CHECK_MSG(cvt(TRN_DTYPE_FP4_E2M1, fp4[i].x, 0) == fp4[i].c, "fp4(%g) = 0x%x, expected 0x%x",
                  (double)fp4[i].x, cvt(TRN_DTYPE_FP4_E2M1, fp4[i].x, 0), fp4[i].c);
    CHECK_EQ_HEX(cvt(TRN_DTYPE_FP4_E2M1, NAN, 0), 0x0);
    CHECK_EQ_HEX(cvt(TRN_DTYPE_FP4_E2M1, INFINITY, 0), 0x7);
    /* BF16: the midpoint above max (0x7f7f8000) ties to the even Inf; FLT_MAX overflows. */
    CHECK_EQ_HEX(trn_bf16_from_f32(test_f32_from_bits(0x7f7f8000u)).bits, 0x7f80);
    CHECK_EQ_HEX(trn_bf16_from_f32(test_f32_from_bits(0x7f7f7fffu)).bits, 0x7f7f);
    CHECK_EQ_HEX(trn_bf16_from_f32(FLT_MAX).bits, 0x7f80);
    CHECK_EQ_HEX(trn_bf16_from_f32(-FLT_MAX).bits, 0xff80);
    CHECK_EQ_HEX(cvt(TRN_DTYPE_BF16, FLT_MAX, 1), 0x7f7f);
    CHECK_EQ_HEX(cvt(TRN_DTYPE_BF16, INFINITY, 1), 0x7f7f);
    CHECK_EQ_HEX(trn_bf16_from_f32(test_f32_from_bits(0x7f812345u)).bits, 0x7fc1); /* quieted */
    CHECK_EQ_HEX(trn_bf16_from_f32(test_f32_from_bits(0xff800001u)).bits, 0xffc0);
    CHECK_EQ_HEX(trn_bf16_from_f32(1.00390625f).bits, 0x3f80); /* 1 + 2^-8 ties to 1 */
    CHECK_EQ_HEX(trn_bf16_from_f32(1.01171875f).bits, 0x3f82); /* 1 + 3 2^-8 ties to 1 + 2^-6 */
    CHECK_EQ_HEX(trn_bf16_from_f32(0x1p-149f).bits, 0x0000);
    CHECK_EQ_HEX(trn_bf16_from_f32(0x1p-133f).bits, 0x0001);
    /* FP16: 65520 ties 65504 (odd) / 65536 and overflows; subnormal ties. */
    CHECK_EQ_HEX(trn_f16_from_f32(65520.0f).bits, 0x7c00);
    CHECK_EQ_HEX(trn_f16_from_f32(nextafterf(65520.0f, 0.0f)).bits, 0x7bff);
    CHECK_EQ_HEX(cvt(TRN_DTYPE_F16, 65520.0f, 1), 0x7bff);
    CHECK_EQ_HEX(trn_f16_from_f32(-1e6f).bits, 0xfc00);
    CHECK_EQ_HEX(trn_f16_from_f32(0x1p-24f).bits, 0x0001);
    CHECK_EQ_HEX(trn_f16_from_f32(0x1p-25f).bits, 0x0000);
    CHECK_EQ_HEX(trn_f16_from_f32(nextafterf(0x1p-25f, 1.0f)).bits, 0x0001);
    CHECK_EQ_HEX(trn_f16_from_f32(3 * 0x1p-25f).bits, 0x0002);
    CHECK_EQ_HEX(trn_f16_from_f32(0x1.ff8p-15f).bits, 0x03ff); /* max subnormal */
    CHECK_EQ_HEX(trn_f16_from_f32(0x1.ffcp-15f).bits, 0x0400); /* tie: up into the normals */
    CHECK_EQ_HEX(trn_f16_from_f32(nextafterf(0x1.ffcp-15f, 0.0f)).bits, 0x03ff);
    CHECK_EQ_HEX(trn_f16_from_f32(2049.0f).bits, 0x6800); /* 2048: tie to even */
    CHECK_EQ_HEX(trn_f16_from_f32(2051.0f).bits, 0x6802); /* 2052 */
    /* TF32: low 13 bits zero, RNE on bit 13. */
    CHECK_EQ_HEX(cvt(TRN_DTYPE_TF32, test_f32_from_bits(0x3f801000u), 0), 0x3f800000u);
    CHECK_EQ_HEX(cvt(TRN_DTYPE_TF32, test_f32_from_bits(0x3f803000u), 0), 0x3f804000u);
    CHECK_EQ_HEX(cvt(TRN_DTYPE_TF32, test_f32_from_bits(0x3f801001u), 0), 0x3f802000u);
    CHECK_EQ_HEX(cvt(TRN_DTYPE_TF32, FLT_MAX, 0), 0x7f800000u);
    CHECK_EQ_HEX(cvt(TRN_DTYPE_TF32, FLT_MAX, 1), 0x7f7fe000u);
    CHECK_EQ_HEX(cvt(TRN_DTYPE_TF32, test_f32_from_bits(0x7f800001u), 0), 0x7fc00000u);
    /* F32 is the identity, NaN payloads included. */
    trn_cvt_opts o = TRN_CVT_RNE;
    CHECK_EQ_HEX(trn_cvt_from_f32(TRN_DTYPE_F32, test_f32_from_bits(0x7f800001u), &o, 0),
                 0x7f800001u);
    CHECK_EQ_HEX(trn_cvt_from_f32(TRN_DTYPE_F32, test_f32_from_bits(0x00000001u), &o, 0),
                 0x00000001u);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_F32, 0xff800001u), test_f32_from_bits(0xff800001u));
}

/* The FP32 descriptor through the generic encoder/decoder is the identity (NaN quieted). */
static void test_f32_descriptor(void) {
    trn_fpfmt f = trn_fpfmt_of(TRN_DTYPE_F32);
    uint64_t st = 3;
    for (int i = 0; i < 300000; i++) {
        uint32_t u = (uint32_t)test_rnd64(&st);
        if (i < 1000) u = (uint32_t)i | (i & 1 ? 0x80000000u : 0) | (i & 2 ? 0x7f7ffc00u : 0);
        float x = test_f32_from_bits(u);
        uint32_t want = (u & 0x7fffffffu) > 0x7f800000u ? u | 0x400000u : u;
        CHECK_EQ_HEX(trn_fp_encode(&f, x, TRN_ROUND_RNE, 0, 0), want);
        CHECK_EQ_HEX(trn_fp_encode(&f, x, TRN_ROUND_SR, 0xffffffffu, 1),
                     (u & 0x7fffffffu) == 0x7f800000u ? (u & 0x80000000u) | 0x7f7fffffu : want);
        CHECK_EQ_HEX(test_f32_bits(trn_fp_decode(&f, u)), want);
    }
}

/* ---- cFP8 bias (trn_fpfmt_with_bias) --------------------------------------------------- */

/* Independent range: every finite value of the re-biased format is an exact FP32. */
static int bias_fits(trn_fpfmt d, int bias) {
    d.bias = (int16_t)bias;
    ref_fmt f;
    ref_fmt_init(&f, d);
    uint32_t b;
    int ok = ref_to_f32(f.val[f.nmag - 1], &b) && ref_to_f32(f.val[1], &b);
    ref_fmt_fini(&f);
    return ok;
}

static void test_bias(void) {
    static const trn_dtype ts[] = {
        TRN_DTYPE_FP8_E4M3, TRN_DTYPE_FP8_E5M2, TRN_DTYPE_FP8_E4M3_LEGACY, TRN_DTYPE_FP8_E3M4,
        TRN_DTYPE_FP6_E3M2, TRN_DTYPE_FP6_E2M3, TRN_DTYPE_FP4_E2M1};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        trn_fpfmt d = trn_fpfmt_of(ts[i]);
        int lo = 1000, hi = -1000;
        for (int b = -400; b <= 400; b++) {
            int fits = bias_fits(d, b);
            trn_fpfmt g = {0, 0, 0, TRN_SPECIALS_IEEE};
            trn_err err = {0};
            trn_status st = trn_fpfmt_with_bias(d, b, &g, &err);
            CHECK_MSG((st == TRN_OK) == fits, "%s bias %d: status %d, fits %d",
                      trn_dtype_name(ts[i]), b, st, fits);
            if (st != TRN_OK) {
                CHECK_EQ_INT(st, TRN_E_RANGE);
                CHECK_EQ_INT(err.status, TRN_E_RANGE);
                CHECK_CONTAINS(err.msg, "bias");
                CHECK(trn_fpfmt_with_bias(d, b, &g, NULL) == TRN_E_RANGE);
                continue;
            }
            if (b < lo) lo = b;
            if (b > hi) hi = b;
            CHECK(g.ebits == d.ebits && g.mbits == d.mbits && g.specials == d.specials);
            CHECK_EQ_INT(g.bias, b);
            /* Codes unchanged, values scaled by 2^(default - b): every code, exactly. */
            int sh = d.bias - b;
            ref_fmt f;
            ref_fmt_init(&f, d);
            for (uint32_t c = 0; c < trn_fpfmt_ncodes(&d); c++) {
                float v0 = trn_fp_decode(&d, c), v1 = trn_fp_decode(&g, c);
                if (isnan(v0)) {
                    CHECK(isnan(v1));
                    continue;
                }
                if (isinf(v0)) {
                    CHECK_BITS_F32(v1, v0);
                    continue;
                }
                uint32_t mag = c & ((1u << (d.ebits + d.mbits)) - 1), eb = 0;
                ref_val v = f.val[mag];
                v.exp += sh;
                CHECK(ref_to_f32(v, &eb));
                eb |= (c >> (d.ebits + d.mbits)) << 31;
                CHECK_MSG(test_f32_bits(v1) == eb, "%s bias %d code 0x%x: %a",
                          trn_dtype_name(ts[i]), b, c, (double)v1);
                /* Re-encoding under the new bias returns the same code. */
                CHECK_EQ_HEX(trn_fp_encode(&g, v1, TRN_ROUND_RNE, 0, 0), c);
            }
            ref_fmt_fini(&f);
        }
        /* The documented rule: max binade <= 127 and min subnormal >= 2^-149. */
        CHECK_EQ_INT(hi, 150 - d.mbits);
        printf("bias %-16s allowed %d..%d\n", trn_dtype_name(ts[i]), lo, hi);
    }
    /* Full sweeps at the extreme and a shifted bias. */
    trn_fpfmt g;
    char name[64];
    static const struct {
        trn_dtype t;
        int bias;
    } sw[] = {{TRN_DTYPE_FP8_E4M3, -112}, {TRN_DTYPE_FP8_E4M3, 147},  {TRN_DTYPE_FP8_E4M3, 11},
              {TRN_DTYPE_FP8_E5M2, -97},  {TRN_DTYPE_FP8_E5M2, 148},  {TRN_DTYPE_FP8_E5M2, 20},
              {TRN_DTYPE_FP8_E3M4, 146},  {TRN_DTYPE_FP8_E3M4, -120}, {TRN_DTYPE_FP6_E3M2, 0},
              {TRN_DTYPE_FP4_E2M1, -124}, {TRN_DTYPE_FP4_E2M1, 149}};
    for (size_t i = 0; i < sizeof sw / sizeof sw[0]; i++) {
        trn_status st = trn_fpfmt_with_bias(trn_fpfmt_of(sw[i].t), sw[i].bias, &g, NULL);
        CHECK_MSG(st == TRN_OK, "%s bias %d rejected", trn_dtype_name(sw[i].t), sw[i].bias);
        if (st != TRN_OK) continue;
        snprintf(name, sizeof name, "%s/bias%d", trn_dtype_name(sw[i].t), sw[i].bias);
        run_sweep(name, TRN_DTYPE_COUNT, g, 1, 30000);
    }
    /* Concrete cFP8 case: E4M3 with bias 8 halves every value (max 224). */
    CHECK(trn_fpfmt_with_bias(trn_fpfmt_of(TRN_DTYPE_FP8_E4M3), 8, &g, NULL) == TRN_OK);
    CHECK_BITS_F32(trn_fpfmt_max(&g), 224.0f);
    CHECK_BITS_F32(trn_fpfmt_min_subnormal(&g), 0x1p-10f);
    CHECK_EQ_HEX(trn_fp_encode(&g, 232.0f, TRN_ROUND_RNE, 0, 0), 0x7e);
    CHECK_EQ_HEX(trn_fp_encode(&g, 233.0f, TRN_ROUND_RNE, 0, 0), 0x7f);
}

/* ---- integers -------------------------------------------------------------------------- */

static const struct {
    trn_dtype t;
    int64_t lo, hi;
    uint32_t mask;
} int_types[] = {
    {TRN_DTYPE_INT8, -128, 127, 0xff},
    {TRN_DTYPE_INT16, -32768, 32767, 0xffff},
    {TRN_DTYPE_INT32, -2147483648LL, 2147483647LL, 0xffffffffu},
    {TRN_DTYPE_UINT8, 0, 255, 0xff},
    {TRN_DTYPE_UINT16, 0, 65535, 0xffff},
    {TRN_DTYPE_UINT32, 0, 4294967295LL, 0xffffffffu},
};

/* Reference in double arithmetic (every step exact for an FP32 input): round the magnitude
 * (nearbyint = RNE, or SR on floor(frac 2^32)), restore the sign, clamp; NaN -> 0. */
static uint32_t ref_int(size_t ti, float xf, int sr, uint32_t R) {
    double x = (double)xf;
    if (isnan(x)) return 0;
    double a = fabs(x), r;
    if (a > 0x1p60) {
        r = a;
    } else if (sr) {
        double fl = floor(a), F = floor((a - fl) * 0x1p32);
        r = fl + ((F + (double)R >= 0x1p32) ? 1 : 0);
    } else {
        r = nearbyint(a);
    }
    double v = signbit(x) ? -r : r;
    if (v < (double)int_types[ti].lo) v = (double)int_types[ti].lo;
    if (v > (double)int_types[ti].hi) v = (double)int_types[ti].hi;
    return (uint32_t)(int64_t)v & int_types[ti].mask;
}

static void check_int_input(size_t ti, float x, uint64_t *st) {
    trn_dtype t = int_types[ti].t;
    trn_cvt_opts rne = TRN_CVT_RNE, sr = {TRN_ROUND_SR, 0, 0, 0};
    uint32_t got = trn_cvt_from_f32(t, x, &rne, 0), want = ref_int(ti, x, 0, 0);
    CHECK_MSG(got == want, "%s RNE %a: 0x%x, expected 0x%x", trn_dtype_name(t), (double)x, got,
              want);
    uint32_t words[5] = {0, 0xffffffffu, (uint32_t)test_rnd64(st), 0, 0};
    int nw = 3;
    double a = fabs((double)x);
    if (!isnan(x) && a < 0x1p40) {
        double F = floor((a - floor(a)) * 0x1p32);
        if (F > 0) {
            words[nw++] = (uint32_t)(0x1p32 - F);
            words[nw++] = (uint32_t)(0x1p32 - F - 1);
        }
    }
    for (int w = 0; w < nw; w++) {
        got = trn_cvt_from_f32(t, x, &sr, words[w]);
        want = ref_int(ti, x, 1, words[w]);
        CHECK_MSG(got == want, "%s SR R=0x%x %a: 0x%x, expected 0x%x", trn_dtype_name(t), words[w],
                  (double)x, got, want);
    }
}

static void test_integers(void) {
    /* Literal cases (RNE): ties to even, -0.5 -> 0, clamping, NaN -> 0. */
    static const struct {
        trn_dtype t;
        float x;
        uint32_t c;
    } lit[] = {
        {TRN_DTYPE_INT8, -0.5f, 0x00},
        {TRN_DTYPE_INT8, 0.5f, 0x00},
        {TRN_DTYPE_INT8, 1.5f, 0x02},
        {TRN_DTYPE_INT8, 2.5f, 0x02},
        {TRN_DTYPE_INT8, 3.5f, 0x04},
        {TRN_DTYPE_INT8, -2.5f, 0xfe},
        {TRN_DTYPE_INT8, -3.5f, 0xfc},
        {TRN_DTYPE_INT8, 126.5f, 0x7e},
        {TRN_DTYPE_INT8, 127.5f, 0x7f},
        {TRN_DTYPE_INT8, 1000.0f, 0x7f},
        {TRN_DTYPE_INT8, -128.5f, 0x80},
        {TRN_DTYPE_INT8, -1e30f, 0x80},
        {TRN_DTYPE_INT8, NAN, 0x00},
        {TRN_DTYPE_INT8, INFINITY, 0x7f},
        {TRN_DTYPE_INT8, -INFINITY, 0x80},
        {TRN_DTYPE_INT8, -0.0f, 0x00},
        {TRN_DTYPE_UINT8, -1.0f, 0x00},
        {TRN_DTYPE_UINT8, 255.5f, 0xff},
        {TRN_DTYPE_UINT8, 254.5f, 0xfe},
        {TRN_DTYPE_UINT8, -0.5f, 0x00},
        {TRN_DTYPE_INT16, 32767.5f, 0x7fff},
        {TRN_DTYPE_INT16, -32768.5f, 0x8000},
        {TRN_DTYPE_INT16, -1.0f, 0xffff},
        {TRN_DTYPE_UINT16, 65535.5f, 0xffff},
        {TRN_DTYPE_INT32, 2147483520.0f, 0x7fffff80u},
        {TRN_DTYPE_INT32, 2147483648.0f, 0x7fffffffu},
        {TRN_DTYPE_INT32, -2147483648.0f, 0x80000000u},
        {TRN_DTYPE_INT32, -1e20f, 0x80000000u},
        {TRN_DTYPE_INT32, NAN, 0},
        {TRN_DTYPE_INT32, -2.5f, 0xfffffffeu},
        {TRN_DTYPE_UINT32, 4294967040.0f, 0xffffff00u},
        {TRN_DTYPE_UINT32, 4294967296.0f, 0xffffffffu},
        {TRN_DTYPE_UINT32, INFINITY, 0xffffffffu},
        {TRN_DTYPE_UINT32, -INFINITY, 0},
        {TRN_DTYPE_UINT32, 0x1p-149f, 0},
    };
    trn_cvt_opts rne = TRN_CVT_RNE;
    for (size_t i = 0; i < sizeof lit / sizeof lit[0]; i++) {
        uint32_t g = trn_cvt_from_f32(lit[i].t, lit[i].x, &rne, 0);
        CHECK_MSG(g == lit[i].c, "%s(%a) = 0x%x, expected 0x%x", trn_dtype_name(lit[i].t),
                  (double)lit[i].x, g, lit[i].c);
    }
    /* SR literal cases: 2.25 with R = 0.75 * 2^32 rounds up to 3, one less stays at 2;
     * -2.25 rounds its magnitude the same way. */
    trn_cvt_opts sr = {TRN_ROUND_SR, 0, 0, 0};
    CHECK_EQ_HEX(trn_cvt_from_f32(TRN_DTYPE_INT8, 2.25f, &sr, 0xc0000000u), 3);
    CHECK_EQ_HEX(trn_cvt_from_f32(TRN_DTYPE_INT8, 2.25f, &sr, 0xbfffffffu), 2);
    CHECK_EQ_HEX(trn_cvt_from_f32(TRN_DTYPE_INT8, -2.25f, &sr, 0xc0000000u), 0xfd);
    CHECK_EQ_HEX(trn_cvt_from_f32(TRN_DTYPE_INT8, 127.5f, &sr, 0xffffffffu), 0x7f);
    CHECK_EQ_HEX(trn_cvt_from_f32(TRN_DTYPE_UINT8, 0x1p-33f, &sr, 0xffffffffu), 0);
    CHECK_EQ_HEX(trn_cvt_from_f32(TRN_DTYPE_UINT8, 0x1p-32f, &sr, 0xffffffffu), 1);

    uint64_t st = 42;
    for (size_t ti = 0; ti < sizeof int_types / sizeof int_types[0]; ti++) {
        /* Every quarter step in [-300, 300] and around the type limits, +-2 ulp. */
        double lims[] = {0, (double)int_types[ti].lo, (double)int_types[ti].hi};
        for (int l = 0; l < 3; l++) {
            for (int q = -1200; q <= 1200; q++) {
                float x = (float)(lims[l] + q * 0.25);
                for (int j = -2; j <= 2; j++) {
                    uint32_t b = test_f32_bits(x) + (uint32_t)j;
                    check_int_input(ti, test_f32_from_bits(b), &st);
                }
            }
        }
        static const uint32_t sp[] = {0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00001u,
                                      0x00000001u, 0x80000001u, 0x80000000u, 0x5f800000u,
                                      0xdf800000u, 0x4f800000u, 0xcf000000u, 0x4effffffu};
        for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++)
            check_int_input(ti, test_f32_from_bits(sp[i]), &st);
        for (int i = 0; i < 100000; i++) {
            uint32_t u = (uint32_t)test_rnd64(&st);
            if (i & 1) u = (u & 0x807fffffu) | ((uint32_t)(110 + i % 48) << 23);
            check_int_input(ti, test_f32_from_bits(u), &st);
        }
    }

    /* Decode: every 8- and 16-bit code exactly; INT32/UINT32 round to nearest even. */
    for (uint32_t c = 0; c < 65536; c++) {
        if (c < 256) {
            CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_INT8, c),
                           (float)(c < 128 ? (int)c : (int)c - 256));
            CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_UINT8, c), (float)c);
        }
        CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_INT16, c),
                       (float)(c < 32768 ? (int)c : (int)c - 65536));
        CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_UINT16, c), (float)c);
    }
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_INT32, 16777217u), 16777216.0f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_INT32, 16777219u), 16777220.0f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_INT32, 0x7fffffffu), 2147483648.0f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_INT32, 0x80000000u), -2147483648.0f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_INT32, 0x80000001u), -2147483648.0f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_INT32, 0xffffffffu), -1.0f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_UINT32, 0xffffffffu), 4294967296.0f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_UINT32, 0x80000080u), 2147483648.0f);
    CHECK_BITS_F32(trn_cvt_to_f32(TRN_DTYPE_UINT32, 0x80000180u), 2147484160.0f);
    /* Round trip of every FP32-exact integer pattern sampled. */
    for (int i = 0; i < 100000; i++) {
        uint32_t u = (uint32_t)test_rnd64(&st) >> (i % 32);
        float fu = trn_cvt_to_f32(TRN_DTYPE_UINT32, u), fi = trn_cvt_to_f32(TRN_DTYPE_INT32, u);
        CHECK_BITS_F32(fu, (float)(double)u);
        CHECK_BITS_F32(fi, (float)(double)(int32_t)u);
        if (fu < 4294967296.0f && (uint32_t)(double)fu == u)
            CHECK_EQ_HEX(trn_cvt_from_f32(TRN_DTYPE_UINT32, fu, &rne, 0), u);
    }
}

/* ---- E8M0 ------------------------------------------------------------------------------ */

static uint32_t ref_e8m0(uint32_t xb) {
    if ((xb >> 31) || (xb & 0x7fffffffu) == 0 || (xb & 0x7fffffffu) >= 0x7f800000u) return 0xff;
    ref_val v = ref_from_f32(xb);
    int k = ref_bitlen(v.sig) - 1 + v.exp;         /* 2^k <= x < 2^(k+1) */
    if (ref_cmp(v, (ref_val){3, k - 1}) >= 0) k++; /* x >= 1.5 2^k: ties go up */
    if (k < -127) k = -127;
    if (k > 127) k = 127;
    return (uint32_t)(k + 127);
}

static void test_e8m0(void) {
    trn_cvt_opts o = TRN_CVT_RNE;
    for (uint32_t c = 0; c < 256; c++) {
        float d = trn_cvt_to_f32(TRN_DTYPE_E8M0, c);
        if (c == 0xff) {
            CHECK(isnan(d));
            continue;
        }
        /* 2^(c-127): exponent field c for c >= 1; 2^-127 is the FP32 subnormal 0x00400000. */
        CHECK_BITS_F32(d, test_f32_from_bits(c ? c << 23 : 0x00400000u));
        CHECK_EQ_HEX(trn_cvt_from_f32(TRN_DTYPE_E8M0, d, &o, 0), c);
        CHECK_EQ_HEX(trn_cvt_from_f32(TRN_DTYPE_E8M0, d * 1.5f, &o, 0), c == 254 ? 254 : c + 1);
        CHECK_EQ_HEX(trn_cvt_from_f32(TRN_DTYPE_E8M0, nextafterf(d * 1.5f, 0), &o, 0), c);
    }
    static const struct {
        float x;
        uint32_t c;
    } lit[] = {{1.0f, 127},    {2.0f, 128},      {3.0f, 129},      {2.9f, 128},    {0.75f, 127},
               {0.74f, 126},   {FLT_MAX, 254},   {0x1p127f, 254},  {0x1p-127f, 0}, {0x1p-149f, 0},
               {0x1p-126f, 1}, {0.0f, 0xff},     {-0.0f, 0xff},    {-1.0f, 0xff},  {INFINITY, 0xff},
               {NAN, 0xff},    {0x1.8p-127f, 1}, {0x1.7fp-127f, 0}};
    for (size_t i = 0; i < sizeof lit / sizeof lit[0]; i++)
        CHECK_MSG(trn_cvt_from_f32(TRN_DTYPE_E8M0, lit[i].x, &o, 0) == lit[i].c,
                  "e8m0(%a) = 0x%x, expected 0x%x", (double)lit[i].x,
                  trn_cvt_from_f32(TRN_DTYPE_E8M0, lit[i].x, &o, 0), lit[i].c);
    uint64_t st = 7;
    for (int i = 0; i < 300000; i++) {
        uint32_t u = (uint32_t)test_rnd64(&st);
        if (i < 2000) u = (uint32_t)i;
        CHECK_EQ_HEX(trn_cvt_from_f32(TRN_DTYPE_E8M0, test_f32_from_bits(u), &o, 0), ref_e8m0(u));
    }
}

/* ---- dtype table and names ------------------------------------------------------------- */

static void test_names(void) {
    static const struct {
        const char *name;
        int bits, bytes, is_float, is_int;
    } tab[TRN_DTYPE_COUNT] = {
        [TRN_DTYPE_F32] = {"f32", 32, 4, 1, 0},
        [TRN_DTYPE_TF32] = {"tf32", 19, 4, 1, 0},
        [TRN_DTYPE_BF16] = {"bf16", 16, 2, 1, 0},
        [TRN_DTYPE_F16] = {"f16", 16, 2, 1, 0},
        [TRN_DTYPE_FP8_E4M3] = {"fp8_e4m3", 8, 1, 1, 0},
        [TRN_DTYPE_FP8_E5M2] = {"fp8_e5m2", 8, 1, 1, 0},
        [TRN_DTYPE_FP8_E4M3_LEGACY] = {"fp8_e4m3_legacy", 8, 1, 1, 0},
        [TRN_DTYPE_FP8_E3M4] = {"fp8_e3m4", 8, 1, 1, 0},
        [TRN_DTYPE_FP6_E3M2] = {"fp6_e3m2", 6, 1, 1, 0},
        [TRN_DTYPE_FP6_E2M3] = {"fp6_e2m3", 6, 1, 1, 0},
        [TRN_DTYPE_FP4_E2M1] = {"fp4_e2m1", 4, 1, 1, 0},
        [TRN_DTYPE_INT8] = {"int8", 8, 1, 0, 1},
        [TRN_DTYPE_INT16] = {"int16", 16, 2, 0, 1},
        [TRN_DTYPE_INT32] = {"int32", 32, 4, 0, 1},
        [TRN_DTYPE_UINT8] = {"uint8", 8, 1, 0, 1},
        [TRN_DTYPE_UINT16] = {"uint16", 16, 2, 0, 1},
        [TRN_DTYPE_UINT32] = {"uint32", 32, 4, 0, 1},
        [TRN_DTYPE_E8M0] = {"e8m0", 8, 1, 0, 0},
    };
    for (int i = 0; i < TRN_DTYPE_COUNT; i++) {
        trn_dtype t = (trn_dtype)i, got = TRN_DTYPE_COUNT;
        CHECK_MSG(strcmp(trn_dtype_name(t), tab[i].name) == 0, "name(%d) = %s", i,
                  trn_dtype_name(t));
        trn_err err = {0};
        CHECK_EQ_INT(trn_dtype_from_name(tab[i].name, &got, &err), TRN_OK);
        CHECK_EQ_INT(got, t);
        CHECK_EQ_INT(trn_dtype_bits(t), tab[i].bits);
        CHECK_EQ_INT(trn_dtype_container_bytes(t), tab[i].bytes);
        CHECK_EQ_INT(trn_dtype_is_float(t), tab[i].is_float);
        CHECK_EQ_INT(trn_dtype_is_int(t), tab[i].is_int);
    }
    CHECK(strcmp(trn_dtype_name(TRN_DTYPE_COUNT), "invalid") == 0);
    trn_err err = {0};
    trn_dtype got = TRN_DTYPE_BF16;
    CHECK_EQ_INT(trn_dtype_from_name("fp8_e4m3fnuz", &got, &err), TRN_E_NOTFOUND);
    CHECK_EQ_INT(err.status, TRN_E_NOTFOUND);
    CHECK_CONTAINS(err.msg, "'fp8_e4m3fnuz'");
    for (int i = 0; i < TRN_DTYPE_COUNT; i++) CHECK_CONTAINS(err.msg, tab[i].name);
    CHECK_EQ_INT(trn_dtype_from_name("", &got, NULL), TRN_E_NOTFOUND);
    CHECK_EQ_INT(trn_dtype_from_name("BF16", &got, NULL), TRN_E_NOTFOUND);
}

int main(void) {
    test_format_table();
    test_names();
    test_boundaries();
    test_exhaustive_codes();
    test_f32_descriptor();
    test_typed_16();
    test_e8m0();
    test_integers();
    test_sweeps();
    test_bias();
    return test_summary();
}

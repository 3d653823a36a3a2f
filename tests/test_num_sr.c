/* Stochastic rounding, exactly and statistically: the convention "round the magnitude up iff
 * floor(frac * 2^32) + R >= 2^32" (docs/numerics.md sec. 2) against the exact reference in
 * num_ref.h for every float format, its closed form for FP32 -> BF16, threshold words,
 * unbiasedness over trn_rng_u32 streams (6-sigma binomial bounds), the Neuron rounding-modes
 * example, and the counter rule of trn_cvt_array_ref (splitting an array never changes bits).
 * LABELS: unit */
#include "harness.h"
#include "num_ref.h"
#include "trnsim/num.h"

static uint32_t sr(trn_dtype t, float x, uint32_t R, int sat) {
    trn_cvt_opts o = {TRN_ROUND_SR, sat, 0, 0};
    return trn_cvt_from_f32(t, x, &o, R);
}

/* FP32 -> BF16 SR is (|bits| + (R >> 16)) >> 16 with the sign put back, for every non-NaN
 * input (Inf and the carry from max into Inf included, non-saturating). */
static void test_bf16_closed_form(void) {
    uint64_t st = 0xb16b00b5u;
    for (long i = 0; i < 2000000; i++) {
        uint32_t u = (uint32_t)test_rnd64(&st), R = (uint32_t)test_rnd64(&st);
        if (i % 4 == 1) u = (u & 0x8000ffffu) | 0x7f7f0000u; /* top binade: carries into Inf */
        if (i % 4 == 2) u &= 0x807fffffu;                    /* FP32 subnormals */
        if (i % 8 == 3) R = (uint32_t)(0x10000u - (u & 0xffffu)) << 16;       /* exact threshold */
        if (i % 8 == 7) R = ((uint32_t)(0x10000u - (u & 0xffffu)) << 16) - 1; /* one below */
        uint32_t a = u & 0x7fffffffu;
        if (a > 0x7f800000u) continue;
        uint32_t want = ((u >> 31) << 15) | ((a + (R >> 16)) >> 16);
        uint32_t got = sr(TRN_DTYPE_BF16, test_f32_from_bits(u), R, 0);
        CHECK_MSG(got == want, "bf16 SR x=0x%08x R=0x%08x: 0x%x, expected 0x%x", u, R, got, want);
    }
    /* Literal: 1 + 2^-9 is a quarter of the way to the next BF16 (1 + 2^-7). */
    CHECK_EQ_HEX(sr(TRN_DTYPE_BF16, 1.001953125f, 0xc0000000u, 0), 0x3f81);
    CHECK_EQ_HEX(sr(TRN_DTYPE_BF16, 1.001953125f, 0xbfffffffu, 0), 0x3f80);
    CHECK_EQ_HEX(sr(TRN_DTYPE_BF16, -1.001953125f, 0xc0000000u, 0), 0xbf81);
    CHECK_EQ_HEX(sr(TRN_DTYPE_BF16, 1.001953125f, 0, 0), 0x3f80);
    /* Max carries into Inf, or stays at max when saturating. */
    CHECK_EQ_HEX(sr(TRN_DTYPE_BF16, test_f32_from_bits(0x7f7f0001u), 0xffffffffu, 0), 0x7f80);
    CHECK_EQ_HEX(sr(TRN_DTYPE_BF16, test_f32_from_bits(0x7f7f0001u), 0xffffffffu, 1), 0x7f7f);
    CHECK_EQ_HEX(sr(TRN_DTYPE_BF16, test_f32_from_bits(0x7f7f0001u), 0xfffeffffu, 0), 0x7f7f);
    /* NaN stays NaN (quieted), whatever the word. */
    CHECK_EQ_HEX(sr(TRN_DTYPE_BF16, test_f32_from_bits(0x7f800001u), 0xffffffffu, 0), 0x7fc0);
    CHECK_EQ_HEX(sr(TRN_DTYPE_BF16, test_f32_from_bits(0xffc00000u), 0xffffffffu, 1), 0xffc0);
}

/* The convention against the reference for every float format: random inputs with random
 * words, the threshold words 2^32 - F and 2^32 - F - 1, R = 0 (truncation) and R = 2^32 - 1
 * (rounds up iff F >= 1). */
static void test_convention(void) {
    static const trn_dtype ts[] = {TRN_DTYPE_TF32,     TRN_DTYPE_BF16,
                                   TRN_DTYPE_F16,      TRN_DTYPE_FP8_E4M3,
                                   TRN_DTYPE_FP8_E5M2, TRN_DTYPE_FP8_E4M3_LEGACY,
                                   TRN_DTYPE_FP8_E3M4, TRN_DTYPE_FP6_E3M2,
                                   TRN_DTYPE_FP6_E2M3, TRN_DTYPE_FP4_E2M1};
    uint64_t st = 99;
    for (size_t ti = 0; ti < sizeof ts / sizeof ts[0]; ti++) {
        trn_dtype t = ts[ti];
        ref_fmt f;
        ref_fmt_init(&f, trn_fpfmt_of(t));
        int shift = t == TRN_DTYPE_TF32 ? 13 : 0;
        long ups = 0, downs = 0;
        for (long i = 0; i < 150000; i++) {
            uint32_t u = (uint32_t)test_rnd64(&st);
            /* Mostly inputs inside the format's range, where rounding is nontrivial. */
            if (i % 4) {
                int e =
                    (int)(test_rnd64(&st) % (unsigned)(2 * f.bias + 6 + f.M)) - f.bias - f.M - 2;
                int eb = e + 127 < 0 ? 0 : e + 127 > 254 ? 254 : e + 127;
                u = (u & 0x807fffffu) | ((uint32_t)eb << 23);
            }
            uint32_t a = u & 0x7fffffffu;
            uint32_t words[5] = {(uint32_t)test_rnd64(&st), 0, 0xffffffffu, 0, 0};
            int nw = 3;
            ref_round_info ri = {0, 1, 0, 0};
            if (a && a < 0x7f800000u) ri = ref_locate(&f, ref_from_f32(a));
            if (!ri.exact && ri.frac) {
                words[nw++] = (uint32_t)((UINT64_C(1) << 32) - ri.frac);
                words[nw++] = (uint32_t)((UINT64_C(1) << 32) - ri.frac - 1);
            }
            for (int sat = 0; sat < 2; sat++) {
                for (int w = 0; w < nw; w++) {
                    uint32_t got = sr(t, test_f32_from_bits(u), words[w], sat) >> shift;
                    uint32_t want = ref_encode(&f, u, 1, words[w], sat);
                    CHECK_MSG(got == want, "%s SR x=0x%08x R=0x%08x sat=%d: 0x%x, expected 0x%x",
                              trn_dtype_name(t), u, words[w], sat, got, want);
                }
            }
            if (!ri.exact && a < 0x7f800000u && ri.k + 1 < f.nmag) {
                /* Direct statement of the rule on the magnitude code. */
                uint32_t m = (sr(t, test_f32_from_bits(a), 0, 1) >> shift);
                CHECK_EQ_HEX(m, ri.k); /* R = 0 truncates */
                m = sr(t, test_f32_from_bits(a), 0xffffffffu, 1) >> shift;
                CHECK_EQ_HEX(m, ri.frac ? ri.k + 1 : ri.k);
                if (ri.frac) {
                    uint32_t th = (uint32_t)((UINT64_C(1) << 32) - ri.frac);
                    CHECK_EQ_HEX(sr(t, test_f32_from_bits(a), th, 1) >> shift, ri.k + 1);
                    CHECK_EQ_HEX(sr(t, test_f32_from_bits(a), th - 1, 1) >> shift, ri.k);
                    ups++;
                } else {
                    downs++;
                }
            }
        }
        CHECK(ups > 1000);
        ref_fmt_fini(&f);
    }
    /* F = floor(frac 2^32) = 0 never rounds up: FP4 (quantum 0.5 near 0) at 2^-34 has
     * frac = 2^-33; at 2^-33, frac = 2^-32 and R = 2^32 - 1 rounds up to 0.5. */
    CHECK_EQ_HEX(sr(TRN_DTYPE_FP4_E2M1, 0x1p-34f, 0xffffffffu, 1), 0x0);
    CHECK_EQ_HEX(sr(TRN_DTYPE_FP4_E2M1, 0x1p-33f, 0xffffffffu, 1), 0x1);
    CHECK_EQ_HEX(sr(TRN_DTYPE_FP4_E2M1, 0x1p-33f, 0xfffffffeu, 1), 0x0);
    CHECK_EQ_HEX(sr(TRN_DTYPE_FP4_E2M1, -0x1p-33f, 0xffffffffu, 1), 0x9);
    /* E4M3: 449 is 1/32 of the way from 448 to the (overflowing) 480. */
    CHECK_EQ_HEX(sr(TRN_DTYPE_FP8_E4M3, 449.0f, 0xf8000000u, 0), 0x7f); /* up: NaN */
    CHECK_EQ_HEX(sr(TRN_DTYPE_FP8_E4M3, 449.0f, 0xf8000000u, 1), 0x7e); /* up: saturates */
    CHECK_EQ_HEX(sr(TRN_DTYPE_FP8_E4M3, 449.0f, 0xf7ffffffu, 0), 0x7e); /* down */
    /* E5M2 57345 rounds up into Inf; Inf is not a rounding. */
    CHECK_EQ_HEX(sr(TRN_DTYPE_FP8_E5M2, 57345.0f, 0xffffffffu, 0), 0x7c);
    CHECK_EQ_HEX(sr(TRN_DTYPE_FP8_E5M2, INFINITY, 0, 0), 0x7c);
    CHECK_EQ_HEX(sr(TRN_DTYPE_FP8_E5M2, -INFINITY, 0, 1), 0xfb);
    CHECK_EQ_HEX(sr(TRN_DTYPE_FP6_E3M2, NAN, 0xffffffffu, 0), 0x00);
}

/* Counts round-ups of x over n words trn_rng_u32(seed, i) and checks the count against the
 * exact probability F / 2^32 within 6 binomial standard deviations, and that the mean of the
 * decoded results is within 6 sigma of x. */
static void check_unbiased(trn_dtype t, float x, uint64_t seed, long n) {
    uint32_t a = test_f32_bits(x) & 0x7fffffffu;
    uint64_t F; /* floor(frac 2^32), from the exact reference (floats) or in double (ints) */
    if (trn_dtype_is_float(t)) {
        ref_fmt f;
        ref_fmt_init(&f, trn_fpfmt_of(t));
        ref_round_info ri = ref_locate(&f, ref_from_f32(a));
        ref_fmt_fini(&f);
        CHECK(!ri.exact);
        F = ri.frac;
    } else {
        double m = fabs((double)x);
        F = (uint64_t)floor((m - floor(m)) * 0x1p32);
    }
    CHECK(F > 0);
    trn_cvt_opts rne = TRN_CVT_RNE;
    float lo = trn_cvt_to_f32(t, sr(t, x, 0, 0));                       /* truncation */
    float hi = trn_cvt_to_f32(t, sr(t, x, 0xffffffffu, 0));             /* round up */
    double p = (double)F / 0x1p32, ulp = fabs((double)hi - (double)lo); /* exact */
    double sum = 0;
    long ups = 0;
    for (long i = 0; i < n; i++) {
        float y = trn_cvt_to_f32(t, sr(t, x, trn_rng_u32(seed, (uint64_t)i), 0));
        CHECK(y == lo || y == hi);
        ups += y == hi;
        sum += (double)y;
    }
    double sd = sqrt((double)n * p * (1 - p));
    CHECK_MSG(fabs((double)ups - (double)n * p) <= 6 * sd + 1,
              "%s x=%a: %ld ups of %ld, expected %.1f +- %.1f", trn_dtype_name(t), (double)x, ups,
              n, (double)n * p, 6 * sd);
    double mean = sum / (double)n, tol = 6 * ulp * sqrt(p * (1 - p) / (double)n) + 1e-12 * fabs(x);
    CHECK_MSG(fabs(mean - (double)x) <= tol, "%s x=%a: mean %.10g, tol %.3g", trn_dtype_name(t),
              (double)x, mean, tol);
    /* RNE of the same input is always one of the two neighbours. */
    float r = trn_cvt_to_f32(t, trn_cvt_from_f32(t, x, &rne, 0));
    CHECK(r == lo || r == hi);
}

static void test_statistics(void) {
    check_unbiased(TRN_DTYPE_BF16, 1.0f + 0x1p-9f, 1, 200000); /* p = 1/4 */
    check_unbiased(TRN_DTYPE_BF16, -3.14159265f, 2, 200000);
    check_unbiased(TRN_DTYPE_BF16, 0x1.234568p-130f, 3, 200000); /* subnormal */
    check_unbiased(TRN_DTYPE_F16, 0.1f, 4, 200000);
    check_unbiased(TRN_DTYPE_F16, 1024.3f, 5, 200000);
    check_unbiased(TRN_DTYPE_FP8_E4M3, 3.3f, 6, 200000);
    check_unbiased(TRN_DTYPE_FP8_E4M3, -0.0015f, 7, 200000); /* subnormal */
    check_unbiased(TRN_DTYPE_FP8_E5M2, 1000.0f, 8, 200000);
    check_unbiased(TRN_DTYPE_FP8_E3M4, 1.03f, 9, 200000);
    check_unbiased(TRN_DTYPE_FP6_E3M2, 5.9f, 10, 200000);
    check_unbiased(TRN_DTYPE_FP6_E2M3, 0.01f, 11, 200000); /* p = 0.08 */
    check_unbiased(TRN_DTYPE_FP4_E2M1, 4.999f, 12, 200000);
    check_unbiased(TRN_DTYPE_TF32, 1.0f + 0x1p-20f, 13, 200000); /* p = 1/1024 */
    check_unbiased(TRN_DTYPE_INT8, 2.7f, 14, 200000);
    check_unbiased(TRN_DTYPE_INT16, -100.01f, 15, 200000);
    check_unbiased(TRN_DTYPE_UINT8, 0.5f, 16, 200000);

    /* The same through trn_cvt_array_ref: element i uses trn_rng_u32(seed, counter + i). */
    enum { N = 100000 };
    static float in[N];
    static uint16_t out[N];
    for (int i = 0; i < N; i++) in[i] = 1.0f + 0x1p-9f + 0x1p-11f; /* 5/16 of a BF16 ulp */
    trn_cvt_opts o = {TRN_ROUND_SR, 0, 77, 1000};
    trn_cvt_array_ref(TRN_DTYPE_BF16, in, out, N, &o);
    long ups = 0;
    for (int i = 0; i < N; i++) {
        CHECK(out[i] == 0x3f80 || out[i] == 0x3f81);
        ups += out[i] == 0x3f81;
    }
    double p = 5.0 / 16, sd = sqrt(N * p * (1 - p));
    CHECK_MSG(fabs((double)ups - N * p) <= 6 * sd, "array SR: %ld ups, expected %.0f", ups, N * p);
}

/* The Neuron "Rounding Modes" example: adding 0.5 to 1024 in FP16 2048 times. With RNE each
 * sum 1024.5 ties back to the even 1024, so the total never moves; with SR the expected total
 * is 2048 (each step adds 0.5 in expectation; the per-step variance is at most 0.75, so over
 * 64 independent runs the mean is within 6 sigma = 6 sqrt(2048 0.75 / 64) of 2048). */
static void test_neuron_example(void) {
    trn_cvt_opts rne = TRN_CVT_RNE;
    float y = 1024.0f;
    for (int i = 0; i < 2048; i++)
        y = trn_cvt_to_f32(TRN_DTYPE_F16, trn_cvt_from_f32(TRN_DTYPE_F16, y + 0.5f, &rne, 0));
    CHECK_BITS_F32(y, 1024.0f);
    double total = 0;
    for (int run = 0; run < 64; run++) {
        y = 1024.0f;
        for (int i = 0; i < 2048; i++) {
            uint32_t R = trn_rng_u32(1000 + (uint64_t)run, (uint64_t)i);
            y = trn_cvt_to_f32(TRN_DTYPE_F16, sr(TRN_DTYPE_F16, y + 0.5f, R, 0));
        }
        CHECK(y >= 1024.0f && y <= 3072.0f);
        total += (double)y;
    }
    double mean = total / 64, tol = 6 * sqrt(2048 * 0.75 / 64);
    CHECK_MSG(fabs(mean - 2048) <= tol, "FP16 SR 1024 + 2048 x 0.5: mean %.2f", mean);
}

/* Array conversions: element i equals the scalar conversion with word
 * trn_rng_u32(seed, counter + i), and splitting the array (counter advanced by the first
 * part's length) gives identical bits, for every dtype. */
static void test_array_split(void) {
    enum { N = 1537 };
    static float in[N];
    static uint32_t whole[N], parts[N];
    uint64_t st = 5;
    for (int i = 0; i < N; i++) {
        uint32_t u = (uint32_t)test_rnd64(&st);
        u = (u & 0x807fffffu) | ((uint32_t)(100 + i % 60) << 23);
        in[i] = test_f32_from_bits(u);
    }
    in[0] = NAN, in[1] = INFINITY, in[2] = -0.0f, in[3] = 1e30f, in[4] = -1e-40f;
    for (int t = 0; t < TRN_DTYPE_COUNT; t++) {
        int bytes = trn_dtype_container_bytes((trn_dtype)t);
        for (int sat = 0; sat < 2; sat++) {
            trn_cvt_opts o = {TRN_ROUND_SR, sat, 0xfeedu + (uint64_t)t, 123456789};
            memset(whole, 0, sizeof whole);
            memset(parts, 0, sizeof parts);
            trn_cvt_array_ref((trn_dtype)t, in, whole, N, &o);
            static const size_t cuts[] = {0, 1, 700, N - 1, N};
            for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
                size_t k = cuts[c];
                trn_cvt_opts o2 = o;
                trn_cvt_array_ref((trn_dtype)t, in, parts, k, &o2);
                o2.counter = o.counter + k;
                trn_cvt_array_ref((trn_dtype)t, in + k, (char *)parts + k * (size_t)bytes, N - k,
                                  &o2);
                CHECK_MSG(memcmp(whole, parts, (size_t)N * (size_t)bytes) == 0,
                          "%s split at %zu differs", trn_dtype_name((trn_dtype)t), k);
            }
            for (int i = 0; i < N; i++) {
                uint32_t w = bytes == 1   ? ((uint8_t *)whole)[i]
                             : bytes == 2 ? ((uint16_t *)whole)[i]
                                          : whole[i];
                uint32_t s = trn_cvt_from_f32((trn_dtype)t, in[i], &o,
                                              trn_rng_u32(o.seed, o.counter + (uint64_t)i));
                CHECK_MSG(w == s, "%s element %d: 0x%x, scalar 0x%x", trn_dtype_name((trn_dtype)t),
                          i, w, s);
            }
        }
    }
    /* RNE arrays ignore seed and counter. */
    trn_cvt_opts a = {TRN_ROUND_RNE, 0, 1, 2}, b = {TRN_ROUND_RNE, 0, 3, 4};
    trn_cvt_array_ref(TRN_DTYPE_FP8_E4M3, in, whole, N, &a);
    trn_cvt_array_ref(TRN_DTYPE_FP8_E4M3, in, parts, N, &b);
    CHECK(memcmp(whole, parts, N) == 0);
    /* Different counters give different streams (the counter is really used). */
    trn_cvt_opts c1 = {TRN_ROUND_SR, 0, 9, 0}, c2 = {TRN_ROUND_SR, 0, 9, 1};
    trn_cvt_array_ref(TRN_DTYPE_BF16, in, whole, N, &c1);
    trn_cvt_array_ref(TRN_DTYPE_BF16, in, parts, N, &c2);
    CHECK(memcmp(whole, parts, N * 2) != 0);
    /* trn_decode_array is trn_cvt_to_f32 per element. */
    static float dec[N];
    trn_decode_array(TRN_DTYPE_BF16, whole, dec, N);
    for (int i = 0; i < N; i++)
        CHECK_BITS_F32(dec[i], trn_cvt_to_f32(TRN_DTYPE_BF16, ((uint16_t *)whole)[i]));
}

int main(void) {
    test_bf16_closed_form();
    test_convention();
    test_statistics();
    test_neuron_example();
    test_array_split();
    return test_summary();
}

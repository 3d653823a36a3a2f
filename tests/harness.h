/* The in-tree test harness: checks for equality, bit equality, ULP distance, NMSE and
 * substrings. Each failed check prints file:line and both values (the first 30 in full,
 * then only counted). A test program ends with `return test_summary();`, which prints
 * "N passed, N failed" and returns the exit status CTest reads. */
#ifndef TRN_TEST_HARNESS_H
#define TRN_TEST_HARNESS_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long test_passed_, test_failed_;

static inline int test_fail_(const char *file, int line) {
    test_failed_++;
    if (test_failed_ <= 30) fprintf(stderr, "FAIL %s:%d: ", file, line);
    return test_failed_ <= 30;
}

#define CHECK(cond)                              \
    do {                                         \
        if (cond)                                \
            test_passed_++;                      \
        else if (test_fail_(__FILE__, __LINE__)) \
            fprintf(stderr, "%s\n", #cond);      \
    } while (0)

#define CHECK_MSG(cond, ...)                       \
    do {                                           \
        if (cond)                                  \
            test_passed_++;                        \
        else if (test_fail_(__FILE__, __LINE__)) { \
            fprintf(stderr, "%s: ", #cond);        \
            fprintf(stderr, __VA_ARGS__);          \
            fputc('\n', stderr);                   \
        }                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                           \
    do {                                                             \
        long long a_ = (long long)(a), b_ = (long long)(b);          \
        CHECK_MSG(a_ == b_, "%s = %lld, expected %lld", #a, a_, b_); \
    } while (0)

#define CHECK_EQ_HEX(a, b)                                                          \
    do {                                                                            \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                            \
        CHECK_MSG(a_ == b_, "%s = 0x%" PRIx64 ", expected 0x%" PRIx64, #a, a_, b_); \
    } while (0)

static inline uint32_t test_f32_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    return u;
}

static inline float test_f32_from_bits(uint32_t u) {
    float x;
    memcpy(&x, &u, 4);
    return x;
}

/* Test-local xorshift64* (Vigna), independent of the library's trn_rng. */
static inline uint64_t test_rnd64(uint64_t *state) {
    uint64_t x = *state;
    x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
    *state = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

/* Same FP32 bits (so -0 != +0 and NaN payloads matter). */
#define CHECK_BITS_F32(a, b)                                                                   \
    do {                                                                                       \
        float a_ = (a), b_ = (b);                                                              \
        CHECK_MSG(test_f32_bits(a_) == test_f32_bits(b_),                                      \
                  "%s = %a (0x%08x), expected %a (0x%08x)", #a, (double)a_, test_f32_bits(a_), \
                  (double)b_, test_f32_bits(b_));                                              \
    } while (0)

/* Distance in units in the last place between two finite FP32 values of any sign. */
static inline int64_t test_ulp_dist_(float a, float b) {
    int64_t ia = (int32_t)test_f32_bits(a), ib = (int32_t)test_f32_bits(b);
    if (ia < 0) ia = (int64_t)INT32_MIN - ia;
    if (ib < 0) ib = (int64_t)INT32_MIN - ib;
    return ia > ib ? ia - ib : ib - ia;
}

#define CHECK_ULP(a, b, max_ulp)                                                               \
    do {                                                                                       \
        float a_ = (a), b_ = (b);                                                              \
        int64_t d_ = test_ulp_dist_(a_, b_);                                                   \
        CHECK_MSG(d_ <= (max_ulp), "%s = %.9g, expected %.9g (%lld ulp > %d)", #a, (double)a_, \
                  (double)b_, (long long)d_, (int)(max_ulp));                                  \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                             \
    do {                                                                                  \
        double a_ = (double)(a), b_ = (double)(b);                                        \
        CHECK_MSG(fabs(a_ - b_) <= (tol), "%s = %.12g, expected %.12g +- %g", #a, a_, b_, \
                  (double)(tol));                                                         \
    } while (0)

/* Normalized mean squared error sum (got-ref)^2 / sum ref^2. */
static inline double test_nmse_(const float *got, const float *ref, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - (double)ref[i];
        num += d * d;
        den += (double)ref[i] * (double)ref[i];
    }
    return den > 0 ? num / den : num;
}

#define CHECK_NMSE(got, ref, n, max_nmse)                                         \
    do {                                                                          \
        double e_ = test_nmse_((got), (ref), (n));                                \
        CHECK_MSG(e_ <= (max_nmse), "NMSE(%s, %s) = %.3g > %.3g", #got, #ref, e_, \
                  (double)(max_nmse));                                            \
    } while (0)

#define CHECK_CONTAINS(s, sub)                                                                  \
    do {                                                                                        \
        const char *s_ = (s);                                                                   \
        CHECK_MSG(s_ &&strstr(s_, (sub)), "\"%s\" does not contain \"%s\"", s_ ? s_ : "(null)", \
                  (sub));                                                                       \
    } while (0)

static inline int test_summary(void) {
    if (test_failed_ > 30) fprintf(stderr, "... %ld more failures not shown\n", test_failed_ - 30);
    printf("%ld passed, %ld failed\n", test_passed_, test_failed_);
    return test_failed_ ? 1 : 0;
}

#endif

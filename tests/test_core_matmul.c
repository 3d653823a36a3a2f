/* The TensorE matmul kernel (src/core/ops/matmul_kernel.h). LABELS: unit
 *
 * 1. The reference against the contract itself: exact integer sums, a case where the k
 *    order changes the result, one where fusing does, one where the single psum addition
 *    does, signed zeros, K = 0, Inf/NaN (canonical NaN), subnormals, overflow.
 * 2. trn_mm against trn_mm_ref bit for bit at every SIMD level this CPU and build have
 *    (forced with trn_simd_force, plus none), on hardware shapes and on every tail of the
 *    micro-tiles and cache blocks, with odd strides and unaligned pointers (the stride
 *    padding of psum must come back untouched), for mixed-magnitude, BF16- and
 *    FP8-representable values and values full of NaN/Inf/-0/subnormals, with and without
 *    accumulate, and as a PSUM tile accumulated over K chunks. */
#include "harness.h"

#include <float.h>

#include "core/ops/matmul_kernel.h"

static float bits_f32(uint32_t u) {
    return test_f32_from_bits(u);
}

static const uint32_t QNAN = 0x7FC00000u;

/* ---- 1. the reference against the contract -------------------------------------------- */

/* Inputs small integers: every product and partial sum is an integer below 2^24, exact in
 * FP32, so the result must equal the int64 sum whatever the order. */
static void test_ref_exact(void) {
    enum { K = 37, M = 5, N = 9 };
    float s[K * M], v[K * N], p[M * N];
    int64_t want[M * N];
    uint64_t rng = 11;
    for (int i = 0; i < K * M; i++) s[i] = (float)((int)(test_rnd64(&rng) % 33) - 16);
    for (int i = 0; i < K * N; i++) v[i] = (float)((int)(test_rnd64(&rng) % 33) - 16);
    for (int acc = 0; acc < 2; acc++) {
        for (int i = 0; i < M * N; i++) {
            p[i] = (float)((int)(test_rnd64(&rng) % 2001) - 1000);
            want[i] = acc ? (int64_t)p[i] : 0;
        }
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++)
                for (int k = 0; k < K; k++)
                    want[m * N + n] += (int64_t)s[k * M + m] * (int64_t)v[k * N + n];
        trn_mm_ref(K, M, N, s, M, v, N, p, N, acc);
        int bad = 0;
        for (int i = 0; i < M * N; i++) bad += (int64_t)p[i] != want[i];
        CHECK_MSG(bad == 0, "accumulate=%d: %d of %d elements differ from the exact sum", acc, bad,
                  M * N);
    }
}

/* One output element: stationary column s[0..k-1], moving column v[0..k-1]. */
static float dot1(size_t k, const float *s, const float *v, float psum, int acc, int fast) {
    float p = psum;
    if (fast)
        trn_mm(k, 1, 1, s, 1, v, 1, &p, 1, acc);
    else
        trn_mm_ref(k, 1, 1, s, 1, v, 1, &p, 1, acc);
    return p;
}

/* Cases whose answer depends on the exact contract; each also shows that the tempting
 * alternative (another order, no fusing, psum in the chain) gives something else, so the
 * check can fail. Run on the reference and on trn_mm at the active level. */
static void test_contract_cases(int fast) {
    const float two24 = 16777216.0f;
    /* k order: 2^24 + 1 rounds back to 2^24 (tie to even), so in order 0..2 the sum is 0;
     * reversed, -2^24 + 1 is exact and the sum is 1 (the exact answer). */
    float s3[3] = {1, 1, 1}, v3[3] = {two24, 1, -two24}, r3[3] = {-two24, 1, two24};
    CHECK_BITS_F32(dot1(3, s3, v3, 0, 0, fast), 0.0f);
    CHECK_BITS_F32(dot1(3, s3, r3, 0, 0, fast), 1.0f);

    /* fusing: (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 is not an FP32 value. After -(1 + 2^-11), the
     * fused step keeps 2^-24; rounding the product first would give 0. */
    float a = 1.0f + 0x1p-12f, b = 1.0f + 0x1p-11f;
    float sf[2] = {-1.0f, a}, vf[2] = {b, a};
    CHECK_BITS_F32(dot1(2, sf, vf, 0, 0, fast), 0x1p-24f);
    volatile float prod = a * a; /* rounded product, the unfused way */
    CHECK_BITS_F32((float)(-b + prod), 0.0f);

    /* psum is added once, after the tile: 2^24 + (1 + 1) = 2^24 + 2 exactly, where starting
     * the chain at psum would round twice back to 2^24. */
    float s2[2] = {1, 1}, v2[2] = {1, 1};
    CHECK_BITS_F32(dot1(2, s2, v2, two24, 1, fast), two24 + 2.0f);
    CHECK_BITS_F32(fmaf(1, 1, fmaf(1, 1, two24)), two24);
    CHECK_BITS_F32(dot1(2, s2, v2, two24, 0, fast), 2.0f);

    /* signed zeros: the chain starts at +0, so a -0 product gives +0; K = 0 gives +0, and
     * accumulating +0 into -0 gives +0. */
    float sm[1] = {-1.0f}, vz[1] = {0.0f};
    CHECK_BITS_F32(dot1(1, sm, vz, 5.0f, 0, fast), 0.0f);
    CHECK_BITS_F32(dot1(0, sm, vz, -0.0f, 1, fast), 0.0f);
    CHECK_BITS_F32(dot1(0, sm, vz, -3.0f, 1, fast), -3.0f);
    CHECK_BITS_F32(dot1(0, sm, vz, -3.0f, 0, fast), 0.0f);
    CHECK_EQ_HEX(test_f32_bits(dot1(0, sm, vz, bits_f32(0xFFC00001u), 1, fast)), QNAN);
    /* exact cancellation gives +0 too (RNE), even from negative terms */
    float sc[2] = {-1.0f, 1.0f}, vc[2] = {3.0f, 3.0f};
    CHECK_BITS_F32(dot1(2, sc, vc, -0.0f, 1, fast), 0.0f);

    /* Inf and NaN: Inf * 0 and Inf - Inf are NaN, stored canonical; NaN inputs of any sign or
     * payload come out canonical; Inf propagates; FLT_MAX * 2 overflows. */
    float inf = INFINITY;
    float si[2] = {inf, 1.0f}, vi0[2] = {0.0f, 1.0f}, vi1[2] = {2.0f, 1.0f};
    CHECK_EQ_HEX(test_f32_bits(dot1(2, si, vi0, 0, 0, fast)), QNAN);
    CHECK_BITS_F32(dot1(2, si, vi1, 0, 0, fast), inf);
    CHECK_EQ_HEX(test_f32_bits(dot1(2, si, vi1, -inf, 1, fast)), QNAN);
    float sn[2] = {bits_f32(0xFFA12345u), 1.0f}, sn2[2] = {1.0f, bits_f32(0x7F812345u)};
    CHECK_EQ_HEX(test_f32_bits(dot1(2, sn, vi1, 0, 0, fast)), QNAN);
    CHECK_EQ_HEX(test_f32_bits(dot1(2, sn2, vi1, 0, 0, fast)), QNAN);
    CHECK_EQ_HEX(test_f32_bits(dot1(2, s2, v2, bits_f32(0xFF800001u), 1, fast)), QNAN);
    float so[2] = {FLT_MAX, FLT_MAX}, vo[2] = {1.0f, 1.0f}, vo2[2] = {1.0f, -1.0f};
    CHECK_BITS_F32(dot1(2, so, vo, 0, 0, fast), inf);
    CHECK_BITS_F32(dot1(2, so, vo2, 0, 0, fast), 0.0f); /* FLT_MAX - FLT_MAX, no overflow */

    /* subnormals are kept: 2^-126 * 2^-10 = 2^-136 exactly, and sums of them are exact */
    float ss[3] = {0x1p-126f, 0x1p-126f, -0x1p-149f}, vs[3] = {0x1p-10f, 0x1p-10f, 1.0f};
    CHECK_BITS_F32(dot1(3, ss, vs, 0, 0, fast), 0x1p-135f - 0x1p-149f);
    /* a product of exactly half the smallest subnormal ties to even: +0 */
    float st[1] = {0x1p-100f}, vt[1] = {0x1p-50f};
    CHECK_BITS_F32(dot1(1, st, vt, 0, 0, fast), 0.0f);
    float su[1] = {0x1p-100f}, vu[1] = {0x1.8p-49f}; /* 1.5 * 2^-149 rounds to even: 2^-148 */
    CHECK_BITS_F32(dot1(1, su, vu, 0, 0, fast), 0x1p-148f);
}

/* ---- 2. trn_mm against trn_mm_ref ----------------------------------------------------- */

typedef enum dist { D_MIXED, D_BF16, D_FP8, D_SPECIAL, D_COUNT } dist;
static const char *dist_name[D_COUNT] = {"mixed", "bf16", "fp8", "special"};

/* One random value of distribution d; for D_SPECIAL, a special value comes with probability
 * about 8 / (8 + 4 k), so that a k-long dot product is often, not always, finite. */
static float random_value(dist d, uint64_t *rng, size_t k) {
    uint64_t r = test_rnd64(rng);
    uint32_t sign = (uint32_t)(r >> 63) << 31;
    switch (d) {
    case D_MIXED: {
        /* exponents 2^-20 .. 2^20 and full mantissas: partial sums round, and cancel */
        uint32_t e = 127u - 20u + (uint32_t)(r >> 32) % 41u;
        return bits_f32(sign | e << 23 | ((uint32_t)r & 0x7FFFFFu));
    }
    case D_BF16: {
        uint32_t e = 127u - 30u + (uint32_t)(r >> 32) % 61u;
        return bits_f32(sign | e << 23 | ((uint32_t)r & 0x7F0000u));
    }
    case D_FP8: {
        /* OCP E4M3: 3 mantissa bits, normals 2^-6 .. 448, subnormals k * 2^-9 */
        uint32_t u = (uint32_t)(r >> 32);
        if (u % 8 == 0) { /* zero or subnormal */
            float x = (float)(u / 8 % 8) * 0x1p-9f;
            return sign ? -x : x;
        }
        uint32_t e = 127u - 6u + u % 15u, mant = (uint32_t)r & 0x7u;
        float x = bits_f32(sign | e << 23 | mant << 20);
        return fabsf(x) > 448.0f ? copysignf(448.0f, x) : x;
    }
    case D_SPECIAL: {
        uint32_t u = (uint32_t)((r >> 32) % (8u + 4u * (uint64_t)k));
        switch (u) {
        case 0: return bits_f32(sign | 0x7F800000u);                             /* +-Inf */
        case 1: return bits_f32(sign | 0x7FC00000u | ((uint32_t)r & 0xFFFFu));   /* qNaN */
        case 2: return bits_f32(sign | 0x7F800001u | ((uint32_t)r & 0x3FFFFFu)); /* sNaN */
        case 3: return bits_f32(sign);                                           /* +-0 */
        case 4:
        case 5: return bits_f32(sign | ((uint32_t)r & 0x7FFFFFu)); /* subnormal */
        case 6: return bits_f32(sign | 0x7F7FFFFFu);               /* +-FLT_MAX */
        case 7: return bits_f32(sign | 0x00800000u);               /* +-FLT_MIN */
        default: {
            uint32_t e = 1u + (uint32_t)(r >> 40) % 254u; /* any normal exponent */
            return bits_f32(sign | e << 23 | ((uint32_t)r & 0x7FFFFFu));
        }
        }
    }
    case D_COUNT: break;
    }
    return 0.0f;
}

typedef struct level {
    trn_simd simd;
    const char *prefix; /* trn_mm_kernel_name() must start with it */
} level;

static level levels[3];
static int n_levels;

static void find_levels(void) {
    const level all[3] = {
        {TRN_SIMD_NONE, "c "}, {TRN_SIMD_AVX2, "avx2 "}, {TRN_SIMD_AVX512, "avx512 "}};
    for (int i = 0; i < 3; i++) {
        if (trn_simd_force(all[i].simd) != TRN_OK) continue;
        const char *name = trn_mm_kernel_name();
        /* a level the CPU has must run its own kernel, not a silent fallback */
        CHECK_MSG(strncmp(name, all[i].prefix, strlen(all[i].prefix)) == 0, "forced %s, kernel %s",
                  trn_simd_name(all[i].simd), name);
        levels[n_levels++] = all[i];
    }
}

typedef struct shape {
    size_t k, m, n;
} shape;

static const float GUARD = 1234.5f; /* in psum's stride padding: must survive */

/* One case: random operands with strides, psum with guard padding; trn_mm at each level
 * against one trn_mm_ref result, bit for bit, guards included. */
static void diff_case(shape sh, dist d, int acc, size_t pad_s, size_t pad_v, size_t pad_p,
                      uint64_t seed) {
    size_t ss = sh.m + pad_s, vs = sh.n + pad_v, ps = sh.n + pad_p;
    /* +1: operands start one float past an allocation, so never 64-byte aligned */
    size_t ns = (sh.k ? sh.k : 1) * ss + 1, nv = (sh.k ? sh.k : 1) * vs + 1,
           np = (sh.m ? sh.m : 1) * ps + 1;
    float *s = malloc(ns * sizeof(float)), *v = malloc(nv * sizeof(float)),
          *p0 = malloc(np * sizeof(float)), *want = malloc(np * sizeof(float)),
          *got = malloc(np * sizeof(float));
    if (!s || !v || !p0 || !want || !got) {
        CHECK_MSG(0, "out of memory");
        goto out;
    }
    uint64_t rng = seed;
    for (size_t i = 0; i < ns; i++) s[i] = random_value(d, &rng, sh.k);
    for (size_t i = 0; i < nv; i++) v[i] = random_value(d, &rng, sh.k);
    for (size_t i = 0; i < np; i++) p0[i] = GUARD;
    for (size_t i = 0; i < sh.m; i++)
        for (size_t j = 0; j < sh.n; j++) p0[1 + i * ps + j] = random_value(d, &rng, sh.k);
    memcpy(want, p0, np * sizeof(float));
    trn_mm_ref(sh.k, sh.m, sh.n, s + 1, ss, v + 1, vs, want + 1, ps, acc);
    for (int l = 0; l < n_levels; l++) {
        trn_simd_force(levels[l].simd);
        memcpy(got, p0, np * sizeof(float));
        trn_mm(sh.k, sh.m, sh.n, s + 1, ss, v + 1, vs, got + 1, ps, acc);
        size_t bad = np;
        for (size_t i = 0; i < np && bad == np; i++)
            if (test_f32_bits(got[i]) != test_f32_bits(want[i])) bad = i;
        CHECK_MSG(bad == np,
                  "%s K=%zu M=%zu N=%zu %s acc=%d strides +%zu/+%zu/+%zu: psum element %zu "
                  "(row %zu, column %zu, counting the leading guard) = 0x%08x, reference 0x%08x",
                  trn_mm_kernel_name(), sh.k, sh.m, sh.n, dist_name[d], acc, pad_s, pad_v, pad_p,
                  bad, bad ? (bad - 1) / ps : 0, bad ? (bad - 1) % ps : 0,
                  bad < np ? test_f32_bits(got[bad]) : 0u,
                  bad < np ? test_f32_bits(want[bad]) : 0u);
    }
out:
    free(s);
    free(v);
    free(p0);
    free(want);
    free(got);
}

static void test_differential(void) {
    /* hardware tiles, then every tail of the micro-tiles (MR 4/6/12, NR 16/32) and of the
     * cache blocks (KC 256, MC 128/144, NC 2048) */
    static const shape hw[] = {{128, 128, 512}, {128, 128, 128}, {1, 128, 512},
                               {128, 1, 512},   {128, 128, 1},   {128, 64, 256}};
    static const shape tails[] = {
        {1, 1, 1},    {2, 1, 1},     {1, 3, 17},    {3, 5, 7},    {7, 12, 32},  {5, 13, 33},
        {9, 11, 31},  {4, 6, 16},    {6, 7, 15},    {2, 4, 48},   {3, 25, 47},  {17, 24, 64},
        {31, 35, 65}, {33, 49, 95},  {8, 143, 9},   {8, 145, 17}, {5, 289, 20}, {255, 9, 40},
        {256, 9, 40}, {257, 13, 41}, {513, 14, 33}, {600, 3, 70}, {2, 3, 2049}, {3, 2, 2100},
        {0, 5, 9},    {0, 1, 33},    {4, 0, 8},     {4, 8, 0},    {1, 1, 100},  {100, 1, 1}};
    uint64_t seed = 1;
    for (size_t i = 0; i < sizeof hw / sizeof hw[0]; i++)
        for (int d = 0; d < D_COUNT; d++)
            for (int acc = 0; acc < 2; acc++)
                diff_case(hw[i], (dist)d, acc, i % 2 ? 3 : 0, i % 2 ? 5 : 0, i % 2 ? 7 : 0, seed++);
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++)
        for (int d = 0; d < D_COUNT; d++)
            for (int acc = 0; acc < 2; acc++)
                for (int pad = 0; pad < 2; pad++)
                    diff_case(tails[i], (dist)d, acc, pad ? 1 : 0, pad ? 3 : 0, pad ? 13 : 0,
                              seed++);
}

/* A 128 x 512 PSUM tile accumulated over four K chunks of 128, as the simulator runs a tiled
 * matmul: the fast chain of calls equals the reference chain at every level. */
static void test_psum_chain(void) {
    enum { K = 512, M = 128, N = 512, KT = 128 };
    float *s = malloc(sizeof(float) * K * M), *v = malloc(sizeof(float) * K * N),
          *want = malloc(sizeof(float) * M * N), *got = malloc(sizeof(float) * M * N);
    if (!s || !v || !want || !got) {
        CHECK_MSG(0, "out of memory");
        goto out;
    }
    uint64_t rng = 99;
    for (size_t i = 0; i < (size_t)K * M; i++) s[i] = random_value(D_BF16, &rng, K);
    for (size_t i = 0; i < (size_t)K * N; i++) v[i] = random_value(D_BF16, &rng, K);
    for (size_t k0 = 0; k0 < K; k0 += KT)
        trn_mm_ref(KT, M, N, s + k0 * M, M, v + k0 * N, N, want, N, k0 > 0);
    for (int l = 0; l < n_levels; l++) {
        trn_simd_force(levels[l].simd);
        for (size_t k0 = 0; k0 < K; k0 += KT)
            trn_mm(KT, M, N, s + k0 * M, M, v + k0 * N, N, got, N, k0 > 0);
        CHECK_MSG(memcmp(got, want, sizeof(float) * M * N) == 0, "%s: PSUM chain differs",
                  trn_mm_kernel_name());
    }
out:
    free(s);
    free(v);
    free(want);
    free(got);
}

int main(void) {
    trn_simd initial = trn_simd_active();
    test_ref_exact();
    test_contract_cases(0);
    find_levels();
    CHECK(n_levels >= 1);
    for (int l = 0; l < n_levels; l++) {
        trn_simd_force(levels[l].simd);
        test_contract_cases(1);
    }
    test_differential();
    test_psum_chain();
    trn_simd_force(initial);
    printf("levels tested:");
    for (int l = 0; l < n_levels; l++) printf(" %s", trn_simd_name(levels[l].simd));
    printf("\n");
    return test_summary();
}

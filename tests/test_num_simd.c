/* The numerics fast paths against the reference, bit for bit, at every SIMD level this CPU and
 * build support (levels it lacks are skipped with a note; TRN_SIMD_NONE always runs):
 * trn_cvt_array vs trn_cvt_array_ref for every float dtype under RNE and SR, saturating or
 * not; trn_mx_quantize vs trn_mx_quantize_ref for every element type and scale rule; MX
 * dequantize vs the reference loop. Inputs are a dense structured sweep (every FP32 value
 * within 2 ulp of each code and each rounding midpoint of the target: all codes of formats
 * up to 8 bits, every BF16 boundary, a sample of TF32 / F16 codes; every FP32 exponent with
 * tie patterns at every mantissa position; specials; random bits; SR exactly at its
 * threshold), and array lengths cover the vector tails. A few hand-worked values pin the
 * semantics independently of the reference. TRN_TEST_EXHAUSTIVE=1 adds all 2^32 FP32 inputs
 * for BF16 / E4M3 / E5M2 under RNE, saturating and not (about 20 minutes).
 * LABELS: unit */
#include <float.h>

#include "harness.h"
#include "trnsim/num.h"

static uint64_t rng_state = 0x243f6a8885a308d3u;
static uint32_t rnd(void) { /* test inputs only */
    return (uint32_t)(test_rnd64(&rng_state) >> 32);
}

#define from_bits test_f32_from_bits
#define bits      test_f32_bits

/* ---- input sets ------------------------------------------------------------------------ */

typedef struct vec {
    float *v;
    size_t n, cap;
} vec;

static void push(vec *s, uint32_t u) {
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 4096;
        s->v = realloc(s->v, s->cap * sizeof(float));
        if (!s->v) abort();
    }
    s->v[s->n++] = from_bits(u);
}

/* Both signs of every FP32 magnitude within k ulp of magnitude bits a. */
static void push_near(vec *s, uint32_t a, int k) {
    for (int d = -k; d <= k; d++) {
        int64_t m = (int64_t)a + d;
        if (m < 0 || m > 0x7fffffff) continue;
        push(s, (uint32_t)m);
        push(s, (uint32_t)m | 0x80000000u);
    }
}

static void push_specials(vec *s) {
    static const uint32_t sp[] = {
        0x00000000, 0x00000001, 0x00000002, 0x00000003, 0x007fffff, 0x00400000, 0x00400001,
        0x00800000, 0x3f800000, 0x7f7fffff, 0x7f800000, /* +-0 .. FLT_MAX, Inf */
        0x7f800001, 0x7f800002, 0x7fbfffff, 0x7fc00000, 0x7fc00001, 0x7fd55555, 0x7fe00000,
        0x7ff00000, 0x7fffffff, 0x7f900000, 0x7fa00000, 0x7f80ffff, 0x7f810000, /* NaNs */
    };
    for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) {
        push(s, sp[i]);
        push(s, sp[i] | 0x80000000u);
    }
    for (int i = 0; i < 2000; i++) push(s, 0x7f800000u | (rnd() & 0x807fffffu) | 1u); /* NaNs */
}

/* Every FP32 exponent field with mantissas that put a tie, a tie +-1 and all-ones below each
 * bit position, over a few random upper parts (both parities of every rounding position). */
static void push_exponent_sweep(vec *s, int uppers) {
    for (uint32_t e = 0; e < 256; e++) {
        for (int k = 0; k < 23; k++) {
            for (int h = 0; h < uppers; h++) {
                uint32_t hi = h == 0 ? 0 : h == 1 ? 0x7fffffu : rnd();
                uint32_t m = (hi & ~((2u << k) - 1)) | (1u << k);
                for (int d = -1; d <= 1; d++) {
                    uint32_t mm = (m + (uint32_t)d) & 0x7fffffu;
                    push(s, (e << 23) | mm | (rnd() & 0x80000000u));
                }
            }
        }
        push(s, e << 23);
        push(s, (e << 23) | 0x80000000u);
    }
}

/* The largest finite magnitude code of f (codes above it are Inf or NaN). */
static uint32_t max_code(const trn_fpfmt *f) {
    uint32_t c = trn_fpfmt_ncodes(f) / 2 - 1;
    while (isnan(trn_fp_decode(f, c)) || isinf(trn_fp_decode(f, c))) c--;
    return c;
}

/* Every FP32 value within 2 ulp of each non-negative finite code of t and of each midpoint
 * between neighbouring codes, including the overflow midpoint max + ulp/2. Formats of more
 * than 8 bits: every code of the lowest and the highest 256, one in `stride` in between (the
 * BF16 and exponent sweeps cover their rounding positions densely). */
static void push_format_edges(vec *s, trn_dtype t) {
    trn_fpfmt f = trn_fpfmt_of(t);
    uint32_t half = trn_fpfmt_ncodes(&f) / 2, max = max_code(&f);
    uint32_t stride = half > 4096 ? 61 : 1;
    for (uint32_t c = 0; c < max; c++) {
        if (c % stride && c >= 256 && c + 256 < max) continue;
        float v = trn_fp_decode(&f, c), w = trn_fp_decode(&f, c + 1);
        push_near(s, bits(v), 2);
        push_near(s, bits(v + (w - v) / 2), 2); /* exact: adjacent codes */
    }
    float mx = trn_fp_decode(&f, max), pm = trn_fp_decode(&f, max - 1);
    push_near(s, bits(mx), 2);
    float top = mx + (mx - pm) / 2; /* max + half its ulp: the overflow tie */
    if (top < FLT_MAX) push_near(s, bits(top), 2);
}

/* Every BF16 code boundary and midpoint, +-1, for all 65536 upper halves. */
static void push_bf16_dense(vec *s) {
    static const uint32_t lo[] = {0x0000, 0x0001, 0x7fff, 0x8000, 0x8001, 0xffff};
    for (uint32_t h = 0; h < 65536; h++)
        for (size_t j = 0; j < sizeof lo / sizeof lo[0]; j++) push(s, (h << 16) | lo[j]);
}

static void push_random(vec *s, size_t n) {
    for (size_t i = 0; i < n; i++) push(s, rnd());
}

/* ---- SIMD levels ----------------------------------------------------------------------- */

static trn_simd levels[3];
static int nlevels;

static void find_levels(void) {
    const trn_simd all[] = {TRN_SIMD_NONE, TRN_SIMD_AVX2, TRN_SIMD_AVX512};
    for (int i = 0; i < 3; i++) {
        if (trn_simd_force(all[i]) == TRN_OK)
            levels[nlevels++] = all[i];
        else
            printf("note: SIMD level %s not supported by this CPU or build, skipped\n",
                   trn_simd_name(all[i]));
    }
    CHECK(nlevels >= 1 && levels[0] == TRN_SIMD_NONE);
}

/* ---- array conversions ----------------------------------------------------------------- */

static uint32_t code_at(const void *p, int bytes, size_t i) {
    switch (bytes) {
    case 1: return ((const uint8_t *)p)[i];
    case 2: return ((const uint16_t *)p)[i];
    default: return ((const uint32_t *)p)[i];
    }
}

static const char *opts_name(const trn_cvt_opts *o) {
    if (o->round == TRN_ROUND_RNE) return o->saturate ? "rne-sat" : "rne";
    return o->saturate ? "sr-sat" : "sr";
}

/* trn_cvt_array at every level equals the reference on in[0..n). */
static void check_cvt(trn_dtype t, const trn_cvt_opts *o, const float *in, size_t n) {
    int bytes = trn_dtype_container_bytes(t);
    void *ref = malloc(n * bytes + 1), *got = malloc(n * bytes + 1);
    trn_cvt_array_ref(t, in, ref, n, o);
    for (int l = 0; l < nlevels; l++) {
        trn_simd_force(levels[l]);
        memset(got, 0xa5, n * bytes);
        trn_cvt_array(t, in, got, n, o);
        size_t bad = n;
        for (size_t i = 0; i < n && bad == n; i++)
            if (code_at(got, bytes, i) != code_at(ref, bytes, i)) bad = i;
        CHECK_MSG(bad == n, "%s %s %s, %zu values: in[%zu] = 0x%08x gives 0x%x, reference 0x%x",
                  trn_simd_name(levels[l]), trn_dtype_name(t), opts_name(o), n, bad,
                  bad < n ? bits(in[bad]) : 0, bad < n ? code_at(got, bytes, bad) : 0,
                  bad < n ? code_at(ref, bytes, bad) : 0);
    }
    free(ref);
    free(got);
}

static const trn_dtype float_types[] = {
    TRN_DTYPE_F32,
    TRN_DTYPE_TF32,
    TRN_DTYPE_BF16,
    TRN_DTYPE_F16,
    TRN_DTYPE_FP8_E4M3,
    TRN_DTYPE_FP8_E5M2,
    TRN_DTYPE_FP8_E4M3_LEGACY,
    TRN_DTYPE_FP8_E3M4,
    TRN_DTYPE_FP6_E3M2,
    TRN_DTYPE_FP6_E2M3,
    TRN_DTYPE_FP4_E2M1,
};
#define NFLOAT ((int)(sizeof float_types / sizeof float_types[0]))

static const trn_cvt_opts opts_list[] = {
    {TRN_ROUND_RNE, 0, 0, 0},
    {TRN_ROUND_RNE, 1, 0, 0},
    {TRN_ROUND_SR, 0, 0x0123456789abcdefu, 77},
    {TRN_ROUND_SR, 1, 42, UINT64_MAX - 1000}, /* the counter wraps inside the array */
};
#define NOPTS ((int)(sizeof opts_list / sizeof opts_list[0]))

static void test_cvt_sweep(void) {
    vec common = {0};
    push_specials(&common);
    push_exponent_sweep(&common, 4);
    push_random(&common, 200000);
    for (int d = 0; d < NFLOAT; d++) {
        trn_dtype t = float_types[d];
        vec s = {0};
        for (size_t i = 0; i < common.n; i++) push(&s, bits(common.v[i]));
        if (t != TRN_DTYPE_F32) push_format_edges(&s, t);
        if (t == TRN_DTYPE_BF16) push_bf16_dense(&s);
        for (int k = 0; k < NOPTS; k++) check_cvt(t, &opts_list[k], s.v, s.n);
        free(s.v);
    }
    free(common.v);
}

/* Lengths around the vector widths, unaligned pointers, and no write past the n codes. */
static void test_cvt_tails(void) {
    static const size_t lens[] = {0,  1,  2,  3,  7,  8,  9,  15,  16, 17,
                                  31, 32, 33, 47, 63, 64, 65, 100, 257};
    const trn_dtype types[] = {TRN_DTYPE_TF32, TRN_DTYPE_BF16, TRN_DTYPE_FP8_E4M3,
                               TRN_DTYPE_FP4_E2M1};
    float in[300];
    for (int i = 0; i < 300; i++) in[i] = from_bits(rnd() & 0xc3ffffffu); /* mostly |x| < 4 */
    uint32_t refw[300 + 16], gotw[300 + 16]; /* codes start one container into got */
    uint8_t *ref = (uint8_t *)refw, *got = (uint8_t *)gotw;
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        size_t n = lens[li];
        for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
            trn_dtype t = types[ti];
            int bytes = trn_dtype_container_bytes(t);
            for (int k = 0; k < NOPTS; k++) {
                for (int off = 0; off < 3; off += 2) {
                    const float *src = in + off; /* misaligned for every vector width */
                    trn_cvt_array_ref(t, src, ref, n, &opts_list[k]);
                    for (int l = 0; l < nlevels; l++) {
                        trn_simd_force(levels[l]);
                        memset(got, 0x5a, sizeof gotw);
                        trn_cvt_array(t, src, got + bytes, n, &opts_list[k]);
                        int ok = memcmp(got + bytes, ref, n * bytes) == 0;
                        for (size_t j = 0; j < sizeof gotw; j++)
                            if (j < (size_t)bytes || j >= (n + 1) * bytes) ok &= got[j] == 0x5a;
                        CHECK_MSG(ok, "%s %s %s n=%zu off=%d: codes differ or a guard byte changed",
                                  trn_simd_name(levels[l]), trn_dtype_name(t),
                                  opts_name(&opts_list[k]), n, off);
                    }
                }
            }
        }
    }
}

/* Stochastic rounding exactly at its boundary. An FP32 value with exponent field
 * eu = 23 - M + emin_eu - 32 lies below the target's smallest subnormal q with
 * frac(|x| / q) * 2^32 = its 24-bit significand f, so it rounds up to q iff f + R >= 2^32.
 * Elements whose random word R allows it get f = 2^32 - R (must round up) or f = 2^32 - R - 1
 * (must not); the rest are random. Checked against that rule and against the reference. */
static void test_sr_boundary(void) {
    const trn_dtype types[] = {TRN_DTYPE_F16,      TRN_DTYPE_FP8_E4M3,       TRN_DTYPE_FP8_E5M2,
                               TRN_DTYPE_FP8_E3M4, TRN_DTYPE_FP6_E3M2,       TRN_DTYPE_FP6_E2M3,
                               TRN_DTYPE_FP4_E2M1, TRN_DTYPE_FP8_E4M3_LEGACY};
    const size_t n = 1u << 17;
    const trn_cvt_opts o = {TRN_ROUND_SR, 0, 0xfeedfacecafebeefu, 1000};
    float *in = malloc(n * sizeof(float));
    int8_t *want = malloc(n);
    uint16_t *got = malloc(n * 2);
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        trn_dtype t = types[ti];
        trn_fpfmt f = trn_fpfmt_of(t);
        uint32_t eu = (uint32_t)(23 - f.mbits + 128 - f.bias - 32);
        uint32_t magmask = (1u << (f.ebits + f.mbits)) - 1;
        size_t nb = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = trn_rng_u32(o.seed, o.counter + i);
            uint64_t sig = (1ull << 32) - r - (i & 1);
            want[i] = -1;
            in[i] = from_bits(rnd() & 0xbfffffffu);
            if (sig >= (1u << 23) && sig < (1u << 24)) {
                in[i] =
                    from_bits((rnd() & 0x80000000u) | (eu << 23) | ((uint32_t)sig - (1u << 23)));
                want[i] = (int8_t) !(i & 1);
                nb++;
            }
        }
        check_cvt(t, &o, in, n);
        for (int l = 0; l < nlevels; l++) {
            trn_simd_force(levels[l]);
            trn_cvt_array(t, in, got, n, &o); /* 1- or 2-byte codes; read back as such */
            size_t bad = 0;
            for (size_t i = 0; i < n; i++)
                if (want[i] >= 0 &&
                    (code_at(got, trn_dtype_container_bytes(t), i) & magmask) != (uint32_t)want[i])
                    bad++;
            CHECK_MSG(nb > 20 && bad == 0, "%s %s SR boundary: %zu of %zu wrong",
                      trn_simd_name(levels[l]), trn_dtype_name(t), bad, nb);
        }
    }
    free(in);
    free(want);
    free(got);
}

/* Values worked out by hand from the format definitions (docs/numerics.md sec. 3), checked
 * at every level without the reference. */
static void test_cvt_known(void) {
    const trn_cvt_opts rne = TRN_CVT_RNE, sat = TRN_CVT_RNE_SAT;
    const float e4m3_in[] = {464.0f,
                             nextafterf(464.0f, 1e9f),
                             -464.0f,
                             448.0f,
                             1e30f,
                             INFINITY,
                             -INFINITY,
                             from_bits(0x7fc00000),
                             from_bits(0xff800001),
                             0x1p-9f,
                             0x1p-10f,
                             0x1.000002p-10f,
                             0x1.8p-9f,
                             -0.0f,
                             0x1p-149f};
    const uint8_t e4m3_rne[] = {0x7e, 0x7f, 0xfe, 0x7e, 0x7f, 0x7f, 0xff, 0x7f,
                                0xff, 0x01, 0x00, 0x01, 0x02, 0x80, 0x00};
    const uint8_t e4m3_sat[] = {0x7e, 0x7e, 0xfe, 0x7e, 0x7e, 0x7e, 0xfe, 0x7f,
                                0xff, 0x01, 0x00, 0x01, 0x02, 0x80, 0x00};
    const float e5m2_in[] = {57344.0f, 61440.0f, 61439.996f, INFINITY, from_bits(0x7fa00000)};
    const uint8_t e5m2_rne[] = {0x7b, 0x7c, 0x7b, 0x7c, 0x7f}; /* NaN keeps payload bit */
    const uint8_t e5m2_sat[] = {0x7b, 0x7b, 0x7b, 0x7b, 0x7f};
    const float bf_in[] = {1.0f,
                           from_bits(0x3f808000),
                           from_bits(0x3f818000),
                           FLT_MAX,
                           from_bits(0x7f800001),
                           from_bits(0xffc12345),
                           from_bits(0x00008000)};
    const uint16_t bf_rne[] = {0x3f80, 0x3f80, 0x3f82, 0x7f80, 0x7fc0, 0xffc1, 0x0000};
    const uint16_t bf_sat[] = {0x3f80, 0x3f80, 0x3f82, 0x7f7f, 0x7fc0, 0xffc1, 0x0000};
    const float fp4_in[] = {5.0f, 7.0f, -7.5f, from_bits(0xffc00000), 0.25f, 0.75f, -0.0f};
    const uint8_t fp4_any[] = {0x6, 0x7, 0xf, 0x0, 0x0, 0x2, 0x8};
    for (int l = 0; l < nlevels; l++) {
        trn_simd_force(levels[l]);
        uint8_t c8[16];
        uint16_t c16[8];
        trn_cvt_array(TRN_DTYPE_FP8_E4M3, e4m3_in, c8, 15, &rne);
        for (int i = 0; i < 15; i++) CHECK_EQ_HEX(c8[i], e4m3_rne[i]);
        trn_cvt_array(TRN_DTYPE_FP8_E4M3, e4m3_in, c8, 15, &sat);
        for (int i = 0; i < 15; i++) CHECK_EQ_HEX(c8[i], e4m3_sat[i]);
        trn_cvt_array(TRN_DTYPE_FP8_E5M2, e5m2_in, c8, 5, &rne);
        for (int i = 0; i < 5; i++) CHECK_EQ_HEX(c8[i], e5m2_rne[i]);
        trn_cvt_array(TRN_DTYPE_FP8_E5M2, e5m2_in, c8, 5, &sat);
        for (int i = 0; i < 5; i++) CHECK_EQ_HEX(c8[i], e5m2_sat[i]);
        trn_cvt_array(TRN_DTYPE_BF16, bf_in, c16, 7, &rne);
        for (int i = 0; i < 7; i++) CHECK_EQ_HEX(c16[i], bf_rne[i]);
        trn_cvt_array(TRN_DTYPE_BF16, bf_in, c16, 7, &sat);
        for (int i = 0; i < 7; i++) CHECK_EQ_HEX(c16[i], bf_sat[i]);
        trn_cvt_array(TRN_DTYPE_FP4_E2M1, fp4_in, c8, 7, &rne);
        for (int i = 0; i < 7; i++) CHECK_EQ_HEX(c8[i], fp4_any[i]);
        /* SR on BF16 is (|bits| + (R >> 16)) >> 16 (docs/numerics.md sec. 2). */
        trn_cvt_opts sr = {TRN_ROUND_SR, 0, 99, 5};
        float x[40];
        for (int i = 0; i < 40; i++) x[i] = from_bits(0x3f800000u + (uint32_t)i * 0x0ccdu);
        uint16_t c[40];
        trn_cvt_array(TRN_DTYPE_BF16, x, c, 40, &sr);
        for (int i = 0; i < 40; i++)
            CHECK_EQ_HEX(c[i], (bits(x[i]) + (trn_rng_u32(99, 5 + (uint64_t)i) >> 16)) >> 16);
    }
}

/* ---- MX quantize ----------------------------------------------------------------------- */

static const trn_dtype mx_types[] = {TRN_DTYPE_FP8_E4M3, TRN_DTYPE_FP8_E5M2, TRN_DTYPE_FP6_E3M2,
                                     TRN_DTYPE_FP6_E2M3, TRN_DTYPE_FP4_E2M1, TRN_DTYPE_INT8};
#define NMX ((int)(sizeof mx_types / sizeof mx_types[0]))

static void check_mx(trn_dtype elem, trn_scale_rule rule, const trn_cvt_opts *o, const float *in,
                     size_t n) {
    size_t nb = (n + 31) / 32;
    uint8_t *rs = malloc(nb + 1), *rc = malloc(nb * 32 + 1);
    uint8_t *gs = malloc(nb + 2), *gc = malloc(nb * 32 + 2);
    trn_mx_quantize_ref(elem, rule, in, n, o, rs, rc);
    for (int l = 0; l < nlevels; l++) {
        trn_simd_force(levels[l]);
        memset(gs, 0xa5, nb + 2);
        memset(gc, 0xa5, nb * 32 + 2);
        trn_mx_quantize(elem, rule, in, n, o, gs, gc);
        size_t bad = nb;
        for (size_t b = 0; b < nb && bad == nb; b++)
            if (gs[b] != rs[b] || memcmp(gc + 32 * b, rc + 32 * b, 32) != 0) bad = b;
        int i = 0;
        while (bad < nb && i < 31 && gc[32 * bad + i] == rc[32 * bad + i]) i++;
        CHECK_MSG(bad == nb && gs[nb] == 0xa5 && gc[nb * 32] == 0xa5,
                  "%s MX %s %s %s, n=%zu: block %zu scale 0x%02x (ref 0x%02x), element %d "
                  "in 0x%08x code 0x%02x (ref 0x%02x)",
                  trn_simd_name(levels[l]), trn_dtype_name(elem), trn_scale_rule_name(rule),
                  opts_name(o), n, bad, bad < nb ? gs[bad] : 0, bad < nb ? rs[bad] : 0, i,
                  bad < nb && 32 * bad + i < n ? bits(in[32 * bad + i]) : 0,
                  bad < nb ? gc[32 * bad + i] : 0, bad < nb ? rc[32 * bad + i] : 0);
    }
    free(rs);
    free(rc);
    free(gs);
    free(gc);
}

/* Blocks whose largest magnitude has exponent field ea (0 = FP32 subnormal) and whose other
 * elements sit at most `spread` binades below it. */
static void push_block_random(vec *s, uint32_t ea, int spread) {
    int lead = (int)(rnd() % 32);
    for (int i = 0; i < 32; i++) {
        uint32_t sign = rnd() & 0x80000000u, m = rnd() & 0x7fffffu;
        int e = i == lead ? (int)ea : (int)ea - (int)(rnd() % (uint32_t)(spread + 1));
        if (ea == 0) m >>= rnd() % 24; /* subnormal block: smaller subnormals */
        push(s, sign | (e > 0 ? (uint32_t)e << 23 : 0) | m);
    }
}

/* Blocks of element ties: one element fixes amax = 2^(se + emax) (so the OCP scale is 2^se),
 * the others are every midpoint between neighbouring element codes times 2^se, +-1 ulp. */
static void push_block_ties(vec *s, trn_dtype elem, int se) {
    float step = elem == TRN_DTYPE_INT8 ? 1.0f / 64 : 0; /* MXINT8 grid: k / 64 */
    float mids[600];
    int nm = 0;
    if (elem == TRN_DTYPE_INT8) {
        for (int k = 0; k <= 127; k++) mids[nm++] = ((float)k + 0.5f) * step;
    } else {
        trn_fpfmt f = trn_fpfmt_of(elem);
        uint32_t max = max_code(&f);
        for (uint32_t c = 0; c < max; c++) {
            float a = trn_fp_decode(&f, c), b = trn_fp_decode(&f, c + 1);
            mids[nm++] = a + (b - a) / 2;
        }
        float mx = trn_fp_decode(&f, max), pm = trn_fp_decode(&f, max - 1);
        mids[nm++] = mx + (mx - pm) / 2; /* clamp zone */
    }
    int emax = trn_mx_emax(elem);
    size_t start = s->n;
    for (int j = 0; j < nm; j++) {
        for (int d = -1; d <= 1; d++) {
            if ((s->n - start) % 32 == 0) push(s, bits(ldexpf(1.0f, se + emax)));
            float v = ldexpf(mids[j], se);
            uint32_t u = bits(v) + (uint32_t)d;
            push(s, v == 0 ? 0 : u | (rnd() & 0x80000000u));
        }
    }
    while ((s->n - start) % 32) push(s, 0);
}

static void push_block_specials(vec *s) {
    const uint32_t bad[] = {0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        for (int pos = 0; pos < 32; pos += 31) { /* a NaN / Inf first or last in the block */
            for (int i = 0; i < 32; i++) push(s, i == pos ? bad[k] : bits((float)i - 16.0f));
        }
    }
    for (int i = 0; i < 32; i++) push(s, 0);           /* all +0 */
    for (int i = 0; i < 32; i++) push(s, 0x80000000u); /* all -0 */
    for (int i = 0; i < 32; i++) push(s, (uint32_t)(i & 1) << 31);
    for (int i = 0; i < 32; i++) push(s, i ? rnd() & 0x807fffffu : 1u); /* subnormals only */
    for (int i = 0; i < 32; i++) push(s, i ? rnd() | 0x7f000000u : 0x7f7fffffu);        /* huge */
    for (int i = 0; i < 32; i++) push(s, i == 5 ? 0x7f7fffffu : (rnd() & 0x807fffffu)); /* wide */
    const float edges[] = {448.0f, 464.0f, 480.0f, 57344.0f, 61440.0f, 6.0f, 7.0f, 1.984375f};
    for (size_t k = 0; k < sizeof edges / sizeof edges[0]; k++) {
        for (int sh = -130; sh <= 120; sh += 25) { /* amax exactly at, or 1 ulp off, an edge */
            for (int d = -1; d <= 1; d++) {
                uint32_t e = bits(ldexpf(edges[k], sh)) + (uint32_t)d;
                for (int i = 0; i < 32; i++) push(s, i % 4 ? rnd() % (e + 1) : e);
            }
        }
    }
}

static void test_mx(void) {
    vec s = {0};
    push_block_specials(&s);
    for (uint32_t ea = 0; ea < 255; ea++) {
        push_block_random(&s, ea, 3);
        push_block_random(&s, ea, 30);
    }
    for (int d = 0; d < NMX; d++) {
        for (int se = -127; se <= 120; se += 7) push_block_ties(&s, mx_types[d], se);
    }
    /* The cvt sweep's random bits, cut into blocks. */
    push_random(&s, 65536);
    const trn_scale_rule rules[] = {TRN_SCALE_OCP, TRN_SCALE_NC4, TRN_SCALE_RCEIL};
    for (int d = 0; d < NMX; d++)
        for (int r = 0; r < 3; r++)
            for (int k = 0; k < NOPTS; k += 1) {
                if (opts_list[k].saturate) continue; /* MX elements always saturate */
                check_mx(mx_types[d], rules[r], &opts_list[k], s.v, s.n);
            }
    /* Partial trailing blocks and short arrays. */
    static const size_t lens[] = {0, 1, 5, 16, 17, 31, 33, 48, 63, 65, 95, 97};
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
        for (int d = 0; d < NMX; d++)
            for (int k = 0; k < NOPTS; k += 2)
                check_mx(mx_types[d], TRN_SCALE_OCP, &opts_list[k], s.v + 3, lens[li]);
    free(s.v);
}

/* Hand-worked MXFP8 / MXFP4 blocks (docs/numerics.md sec. 4.2-4.3). */
static void test_mx_known(void) {
    float in[32] = {0};
    in[0] = 448.0f * 4; /* amax 1792 = 1.75 * 2^10: OCP scale 2^(10 - 8) = 2^2 -> 0x81 */
    in[1] = 464.0f * 4; /* 464: ties to 448 after the exponent adjustment */
    in[2] = -1.0f;      /* -0.25: E4M3 0x80 | (e=5, m=0) = 0xa8 */
    in[3] = -0.0f;      /* keeps its sign */
    in[4] = 0.0f;       /* +0 */
    trn_cvt_opts o = TRN_CVT_RNE;
    for (int l = 0; l < nlevels; l++) {
        trn_simd_force(levels[l]);
        uint8_t sc, c[32];
        trn_mx_quantize(TRN_DTYPE_FP8_E4M3, TRN_SCALE_OCP, in, 32, &o, &sc, c);
        CHECK_EQ_HEX(sc, 0x81);
        CHECK_EQ_HEX(c[0], 0x7e);
        CHECK_EQ_HEX(c[1], 0x7e);
        CHECK_EQ_HEX(c[2], 0xa8);
        CHECK_EQ_HEX(c[3], 0x80);
        CHECK_EQ_HEX(c[4], 0x00);
        /* MXFP4: amax 7 = 1.75 * 2^2 -> scale 2^0; 7 clamps to 6 (0x7), 2.5 ties to 2 (0x4),
         * -0.75 ties to -1 (0xa, mantissa even). */
        float f4[3] = {7.0f, 2.5f, -0.75f};
        trn_mx_quantize(TRN_DTYPE_FP4_E2M1, TRN_SCALE_OCP, f4, 3, &o, &sc, c);
        CHECK_EQ_HEX(sc, 0x7f);
        CHECK_EQ_HEX(c[0], 0x7);
        CHECK_EQ_HEX(c[1], 0x4);
        CHECK_EQ_HEX(c[2], 0xa);
        CHECK_EQ_HEX(c[3], 0x0); /* padding */
        float nan_blk[32] = {1.0f, 2.0f};
        nan_blk[17] = -INFINITY;
        trn_mx_quantize(TRN_DTYPE_FP8_E4M3, TRN_SCALE_OCP, nan_blk, 32, &o, &sc, c);
        CHECK_EQ_HEX(sc, 0xff);
        CHECK_EQ_HEX(c[0] | c[1] | c[17], 0);
    }
}

/* ---- MX dequantize --------------------------------------------------------------------- */

/* Every code byte under every scale byte, then random blocks, at every level: the dispatching
 * trn_mx_dequantize against trn_mx_dequantize_ref. */
static void test_mx_dequant(void) {
    const size_t nb = 256 * 8 + 64, n = nb * 32;
    uint8_t *sc = malloc(nb), *codes = malloc(n);
    float *ref = malloc(n * sizeof(float)), *got = malloc((n + 1) * sizeof(float));
    for (size_t b = 0; b < nb; b++) { /* 8 blocks per scale byte: all 256 codes each time */
        sc[b] = b < 256 * 8 ? (uint8_t)(b / 8) : (uint8_t)rnd();
        for (int i = 0; i < 32; i++)
            codes[32 * b + i] = b < 256 * 8 ? (uint8_t)(32 * (b % 8) + (size_t)i) : (uint8_t)rnd();
    }
    static const size_t lens[] = {0, 1, 15, 16, 17, 31, 32, 33, 47, 64, 65, 100};
    for (int d = 0; d < NMX; d++) {
        trn_dtype elem = mx_types[d];
        for (size_t li = 0; li <= sizeof lens / sizeof lens[0]; li++) {
            size_t len = li < sizeof lens / sizeof lens[0] ? lens[li] : n;
            trn_mx_dequantize_ref(elem, sc, codes, len, ref);
            for (int l = 0; l < nlevels; l++) {
                trn_simd_force(levels[l]);
                memset(got, 0xa5, (len + 1) * sizeof(float));
                trn_mx_dequantize(elem, sc, codes, len, got);
                size_t bad = len;
                for (size_t i = 0; i < len && bad == len; i++)
                    if (bits(got[i]) != bits(ref[i])) bad = i;
                CHECK_MSG(bad == len && bits(got[len]) == 0xa5a5a5a5u,
                          "%s MX dequantize %s, n=%zu: out[%zu] (scale 0x%02x code 0x%02x) "
                          "= 0x%08x, reference 0x%08x",
                          trn_simd_name(levels[l]), trn_dtype_name(elem), len, bad,
                          bad < len ? sc[bad / 32] : 0, bad < len ? codes[bad] : 0,
                          bad < len ? bits(got[bad]) : 0, bad < len ? bits(ref[bad]) : 0);
            }
        }
    }
    free(sc);
    free(codes);
    free(ref);
    free(got);
}

/* ---- optional: every FP32 input ------------------------------------------------------- */

static void test_exhaustive(void) {
    const trn_dtype types[] = {TRN_DTYPE_BF16, TRN_DTYPE_FP8_E4M3, TRN_DTYPE_FP8_E5M2};
    const size_t chunk = 1u << 20;
    float *in = malloc(chunk * sizeof(float));
    for (size_t ti = 0; ti < 3; ti++) {
        for (int k = 0; k < 2; k++) {
            long mismatches = 0;
            for (uint64_t base = 0; base < (1ull << 32); base += chunk) {
                for (size_t i = 0; i < chunk; i++) in[i] = from_bits((uint32_t)(base + i));
                long before = test_failed_;
                check_cvt(types[ti], &opts_list[k], in, chunk);
                mismatches += test_failed_ - before;
            }
            printf("exhaustive %s %s: %ld mismatching chunks\n", trn_dtype_name(types[ti]),
                   opts_name(&opts_list[k]), mismatches);
        }
    }
    free(in);
}

int main(void) {
    find_levels();
    test_cvt_known();
    test_cvt_tails();
    test_sr_boundary();
    test_cvt_sweep();
    test_mx_known();
    test_mx();
    test_mx_dequant();
    const char *ex = getenv("TRN_TEST_EXHAUSTIVE");
    if (ex && strcmp(ex, "1") == 0) test_exhaustive();
    trn_simd_force(trn_simd_detect());
    return test_summary();
}

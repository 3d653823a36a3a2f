/* Per-instruction semantics of the functional core, second part (docs/semantics.md): the
 * VectorE accumulator instructions, scans, selects, statistics, max8/find/match, the stream
 * shuffle, activate2, exponential, the PRNG family (XORWOW, reimplemented here), GpSimd
 * gathers and DMA transpose/compute, each against a plain C reference written here, bit-exact,
 * and their run-time faults. LABELS: unit */
#include <float.h>
#include <math.h>

#include "test_core_util.h"

enum { P = 128 };

typedef struct io {
    const char *name;
    double *v;
    size_t n;
} io;

static char last_err[512];

/* Assembles `k` for version `ver`, binds inputs, runs, reads outputs (all must be written). */
static trn_status run(const char *k, int ver, const trn_core_opts *o, const io *in, int nin,
                      const io *out, int nout) {
    trn_program *p = ct_prog(k, "k.tasm", ver);
    trn_core *c = ct_core(p, ver, o);
    for (int i = 0; i < nin; i++) ct_put(c, in[i].name, in[i].v, in[i].n);
    trn_err err = {0};
    trn_status s = trn_core_run(c, &err);
    snprintf(last_err, sizeof last_err, "%s", s == TRN_OK ? "" : err.msg);
    if (s == TRN_OK)
        for (int i = 0; i < nout; i++) CHECK_EQ_INT(ct_get(c, out[i].name, out[i].v, out[i].n), 0);
    trn_core_destroy(c);
    trn_program_destroy(p);
    return s;
}

/* Runs `k` expecting a fault whose message contains `what`. */
static void expect_fault(const char *k, int ver, const io *in, int nin, const char *what) {
    trn_status s = run(k, ver, NULL, in, nin, NULL, 0);
    CHECK_MSG(s == TRN_E_FAULT, "expected a fault containing '%s', got status %d", what, (int)s);
    CHECK_CONTAINS(last_err, what);
}

static int bits_differ(double got, float want) {
    return test_f32_bits((float)got) != test_f32_bits(want);
}

static void fill(double *x, size_t n, uint64_t *s, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = ct_uniform(s, lo, hi);
}

/* ---- scalar_tensor_tensor, tensor_scalar_reduce, tensor_tensor_scan, cumulative ---------- */

static void test_stt_and_reduce(void) {
    enum { F = 40 };
    static double x[P * F], y[P * F], o[P * F], r[P], r2[P];
    uint64_t s = 11;
    fill(x, P * F, &s, -4, 4);
    fill(y, P * F, &s, -4, 4);
    x[3] = -0.0, x[5] = INFINITY;
    /* (sc - x) * y with sc a [P,1] tile, result rounded to bf16 */
    const char *k = ".input x f32 [128, 40]\n.input y f32 [128, 40]\n.output out f32 [128, 40]\n"
                    ".sbuf a f32 [128, 40]\n.sbuf b f32 [128, 40]\n.sbuf sc f32 [128, 1]\n"
                    ".sbuf o bf16 [128, 40]\ndma_copy dst=a src=x\ndma_copy dst=b src=y\n"
                    "tensor_copy dst=sc src=a[:, 7:8]\n"
                    "scalar_tensor_tensor dst=o data=a op0=subtract operand0=sc reverse0=true "
                    "op1=multiply operand1=b\ndma_copy dst=out src=o\n";
    io in[] = {{"x", x, P * F}, {"y", y, P * F}}, out[] = {{"out", o, P * F}};
    CHECK(run(k, 3, NULL, in, 2, out, 1) == TRN_OK);
    int bad = 0;
    for (int i = 0; i < P * F; i++)
        bad += bits_differ(o[i], ct_bf16(((float)x[i / F * F + 7] - (float)x[i]) * (float)y[i]));
    CHECK_MSG(bad == 0, "scalar_tensor_tensor: %d differ", bad);

    /* tensor_scalar_reduce: x * 0.5 summed, then a second instruction continues the sum
     * (reduce_cmd=reduce), then a max with load_reduce from a tile */
    const char *k2 =
        ".input x f32 [128, 40]\n.input y f32 [128, 40]\n.output out f32 [128, 40]\n"
        ".output r f32 [128, 1]\n.output r2 f32 [128, 1]\n.sbuf a f32 [128, 40]\n"
        ".sbuf b f32 [128, 40]\n.sbuf o f32 [128, 40]\n.sbuf ra f32 [128, 1]\n"
        ".sbuf rb f32 [128, 1]\ndma_copy dst=a src=x\ndma_copy dst=b src=y\n"
        "tensor_scalar_reduce dst=o data=b op0=multiply operand0=0.5 reduce_op=add reduce_res=ra\n"
        "tensor_scalar_reduce dst=o data=a op0=add operand0=1.0 reduce_op=add reduce_res=ra "
        "reduce_cmd=reduce\n"
        "tensor_scalar_reduce dst=o data=b op0=subtract operand0=0.25 reduce_op=max "
        "reduce_res=rb reduce_cmd=load_reduce reduce_init=a[:, 0:1]\n"
        "dma_copy dst=out src=o\ndma_copy dst=r src=ra\ndma_copy dst=r2 src=rb\n";
    fill(x, P * F, &s, -4, 4);
    io out2[] = {{"out", o, P * F}, {"r", r, P}, {"r2", r2, P}};
    CHECK(run(k2, 3, NULL, in, 2, out2, 3) == TRN_OK);
    bad = 0;
    for (int p = 0; p < P; p++) {
        float acc = 0.0f, m = (float)x[p * F];
        for (int f = 0; f < F; f++) acc += (float)y[p * F + f] * 0.5f;
        for (int f = 0; f < F; f++) acc += (float)x[p * F + f] + 1.0f;
        for (int f = 0; f < F; f++) {
            float v = (float)y[p * F + f] - 0.25f;
            m = v > m ? v : m;
            bad += bits_differ(o[p * F + f], v);
        }
        bad += bits_differ(r[p], acc) + bits_differ(r2[p], m);
    }
    CHECK_MSG(bad == 0, "tensor_scalar_reduce: %d differ", bad);

    /* tensor_tensor_scan: r = x[i] * r + y[i] (a linear recurrence), initial from a tile */
    const char *k3 = ".input x f32 [128, 40]\n.input y f32 [128, 40]\n.output out f32 [128, 40]\n"
                     ".sbuf a f32 [128, 40]\n.sbuf b f32 [128, 40]\n.sbuf o f32 [128, 40]\n"
                     "dma_copy dst=a src=x\ndma_copy dst=b src=y\n"
                     "tensor_tensor_scan dst=o data0=a data1=b initial=b[:, 0:1] op0=multiply "
                     "op1=add\ndma_copy dst=out src=o\n";
    fill(x, P * F, &s, -1, 1);
    CHECK(run(k3, 2, NULL, in, 2, out, 1) == TRN_OK);
    bad = 0;
    for (int p = 0; p < P; p++) {
        float st = (float)y[p * F];
        for (int f = 0; f < F; f++) {
            st = (float)x[p * F + f] * st + (float)y[p * F + f];
            bad += bits_differ(o[p * F + f], st);
        }
    }
    CHECK_MSG(bad == 0, "tensor_tensor_scan: %d differ", bad);
    /* reversed operands: r = y[i] - (r - x[i]) */
    const char *k4 = ".input x f32 [128, 40]\n.input y f32 [128, 40]\n.output out f32 [128, 40]\n"
                     ".sbuf a f32 [128, 40]\n.sbuf b f32 [128, 40]\n.sbuf o f32 [128, 40]\n"
                     "dma_copy dst=a src=x\ndma_copy dst=b src=y\n"
                     "tensor_tensor_scan dst=o data0=a data1=b initial=2.5 op0=subtract "
                     "op1=subtract reverse0=true reverse1=true\ndma_copy dst=out src=o\n";
    CHECK(run(k4, 2, NULL, in, 2, out, 1) == TRN_OK);
    bad = 0;
    for (int p = 0; p < P; p++) {
        float st = 2.5f;
        for (int f = 0; f < F; f++) {
            st = (float)y[p * F + f] - (st - (float)x[p * F + f]);
            bad += bits_differ(o[p * F + f], st);
        }
    }
    CHECK_MSG(bad == 0, "tensor_tensor_scan reversed: %d differ", bad);

    /* tensor_scalar_cumulative: prefix sums of x * 2, continued by a second instruction
     * (reduce), then a running max loaded from imm1 */
    const char *k5 = ".input x f32 [128, 40]\n.input y f32 [128, 40]\n.output out f32 [128, 40]\n"
                     ".output r f32 [128, 1]\n.sbuf a f32 [128, 40]\n.sbuf b f32 [128, 40]\n"
                     ".sbuf o f32 [128, 40]\n.sbuf o2 f32 [128, 40]\n.sbuf z f32 [128, 1]\n"
                     "dma_copy dst=a src=x\ndma_copy dst=b src=y\n"
                     "tensor_scalar_cumulative dst=o src=a op0=multiply imm0=2.0 op1=add\n"
                     "tensor_scalar_cumulative dst=o2 src=b op0=add imm0=0.0 op1=add "
                     "reduce_cmd=reduce\n"
                     "tensor_copy dst=z src=o2[:, 39:40]\n"
                     "tensor_scalar_cumulative dst=o src=b op0=subtract imm0=a[:, 1:2] "
                     "op1=maximum imm1=0.75 reduce_cmd=load_reduce\n"
                     "dma_copy dst=out src=o\ndma_copy dst=r src=z\n";
    io out5[] = {{"out", o, P * F}, {"r", r, P}};
    CHECK(run(k5, 3, NULL, in, 2, out5, 2) == TRN_OK);
    bad = 0;
    for (int p = 0; p < P; p++) {
        float acc = 0.0f, m = 0.75f;
        for (int f = 0; f < F; f++) acc = (float)x[p * F + f] * 2.0f + acc;
        for (int f = 0; f < F; f++) acc = ((float)y[p * F + f] + 0.0f) + acc;
        bad += bits_differ(r[p], acc);
        for (int f = 0; f < F; f++) {
            float v = (float)y[p * F + f] - (float)x[p * F + 1];
            m = v > m ? v : m;
            bad += bits_differ(o[p * F + f], m);
        }
    }
    CHECK_MSG(bad == 0, "tensor_scalar_cumulative: %d differ", bad);
}

/* ---- selects ------------------------------------------------------------------------------ */

static void test_selects(void) {
    enum { F = 48 };
    static double x[P * F], pr[P * F], o[P * F], r[P];
    uint64_t s = 12;
    fill(x, P * F, &s, -50, 50);
    for (int i = 0; i < P * F; i++) pr[i] = (double)(test_rnd64(&s) % 3); /* 0, 1 or 2 */
    /* tensor_copy_predicated: a tile src where pred != 0, dst otherwise keeps its memset */
    const char *k = ".input x f32 [128, 48]\n.input y uint8 [128, 48]\n.output out f32 [128, 48]\n"
                    ".sbuf a f32 [128, 48]\n.sbuf m uint8 [128, 48]\n.sbuf o f32 [128, 48]\n"
                    "dma_copy dst=a src=x\ndma_copy dst=m src=y\nmemset dst=o value=7.0\n"
                    "tensor_copy_predicated dst=o src=a predicate=m\n"
                    "tensor_copy_predicated dst=o[:, 0:8] src=-1.5 predicate=m[:, 0:8] "
                    "reverse_pred=true\ndma_copy dst=out src=o\n";
    io in[] = {{"x", x, P * F}, {"y", pr, P * F}}, out[] = {{"out", o, P * F}};
    CHECK(run(k, 2, NULL, in, 2, out, 1) == TRN_OK);
    int bad = 0;
    for (int i = 0; i < P * F; i++) {
        float want = pr[i] != 0 ? (float)x[i] : 7.0f;
        if (i % F < 8 && pr[i] == 0) want = -1.5f;
        bad += bits_differ(o[i], want);
    }
    CHECK_MSG(bad == 0, "tensor_copy_predicated: %d differ", bad);
    /* a predicated copy into a tile never written writes only the selected elements */
    const char *kp = ".input x f32 [128, 48]\n.input y uint8 [128, 48]\n.output out f32 [128, 48]\n"
                     ".sbuf a f32 [128, 48]\n.sbuf m uint8 [128, 48]\n.sbuf o f32 [128, 48]\n"
                     "dma_copy dst=a src=x\ndma_copy dst=m src=y\n"
                     "tensor_copy_predicated dst=o src=a predicate=m\ndma_copy dst=out src=o\n";
    expect_fault(kp, 2, in, 2, "uninitialized read: src 'o'");

    /* select_reduce: where(pred, x, on_false[p]) and its max into reduce_res */
    const char *k2 = ".input x f32 [128, 48]\n.input y int8 [128, 48]\n.output out bf16 [128, 48]\n"
                     ".output r f32 [128, 1]\n.sbuf a f32 [128, 48]\n.sbuf m int8 [128, 48]\n"
                     ".sbuf o bf16 [128, 48]\n.sbuf rr f32 [128, 1]\n"
                     "dma_copy dst=a src=x\ndma_copy dst=m src=y\n"
                     "select_reduce dst=o predicate=m on_true=a on_false=a[:, 0:1] "
                     "reduce_res=rr reduce_cmd=reset_reduce\n"
                     "dma_copy dst=out src=o\ndma_copy dst=r src=rr\n";
    io out2[] = {{"out", o, P * F}, {"r", r, P}};
    CHECK(run(k2, 2, NULL, in, 2, out2, 2) == TRN_OK);
    bad = 0;
    for (int p = 0; p < P; p++) {
        float m = -INFINITY;
        for (int f = 0; f < F; f++) {
            float v = pr[p * F + f] != 0 ? (float)x[p * F + f] : (float)x[p * F];
            m = v > m ? v : m;
            bad += bits_differ(o[p * F + f], ct_bf16(v));
        }
        bad += bits_differ(r[p], m);
    }
    CHECK_MSG(bad == 0, "select_reduce: %d differ", bad);

    /* range_select (v3): keep bound0[p] <= range_start + f < bound1[p], fill -FLT_MAX */
    static double b[P * 2];
    for (int p = 0; p < P; p++) b[2 * p] = p % 30, b[2 * p + 1] = p % 30 + 1 + p % 17;
    const char *k3 = ".input x f32 [128, 48]\n.input y f32 [128, 2]\n.output out f32 [128, 48]\n"
                     ".output r f32 [128, 1]\n.sbuf a f32 [128, 48]\n.sbuf bd f32 [128, 2]\n"
                     ".sbuf o f32 [128, 48]\n.sbuf rr f32 [128, 1]\n"
                     "dma_copy dst=a src=x\ndma_copy dst=bd src=y\n"
                     "range_select dst=o on_true_tile=a comp_op0=greater_equal comp_op1=less "
                     "bound0=bd[:, 0:1] bound1=bd[:, 1:2] range_start=3 reduce_res=rr\n"
                     "dma_copy dst=out src=o\ndma_copy dst=r src=rr\n";
    io in3[] = {{"x", x, P * F}, {"y", b, P * 2}};
    CHECK(run(k3, 3, NULL, in3, 2, out2, 2) == TRN_OK);
    bad = 0;
    for (int p = 0; p < P; p++) {
        float m = -INFINITY;
        for (int f = 0; f < F; f++) {
            double idx = 3 + f;
            float v = idx >= b[2 * p] && idx < b[2 * p + 1] ? (float)x[p * F + f] : -FLT_MAX;
            m = v > m ? v : m;
            bad += bits_differ(o[p * F + f], v);
        }
        bad += bits_differ(r[p], m);
    }
    CHECK_MSG(bad == 0, "range_select: %d differ", bad);
}

/* ---- statistics, max8, find, match --------------------------------------------------------- */

static void test_stats_max8(void) {
    enum { F = 700 };
    static double x[P * F], st[P * 12], ag[P * 2];
    uint64_t s = 13;
    fill(x, P * F, &s, -3, 5);
    const char *k = ".input x f32 [128, 700]\n.output out f32 [128, 12]\n.output m f32 [128, 2]\n"
                    ".sbuf a f32 [128, 700]\n.sbuf st f32 [128, 12]\n.sbuf ag f32 [128, 2]\n"
                    "dma_copy dst=a src=x\nbn_stats dst=st[:, 0:6] data=a[:, 0:512]\n"
                    "bn_stats dst=st[:, 6:12] data=a[:, 512:700]\nbn_aggr dst=ag data=st\n"
                    "dma_copy dst=out src=st\ndma_copy dst=m src=ag\n";
    io in[] = {{"x", x, P * F}}, out[] = {{"out", st, P * 12}, {"m", ag, P * 2}};
    CHECK(run(k, 2, NULL, in, 1, out, 2) == TRN_OK);
    int bad = 0;
    double worst = 0;
    for (int p = 0; p < P; p++) {
        float tr[12];
        for (int t = 0; t < 2; t++) {
            const double *r = x + p * F + 512 * t;
            int n = t ? 188 : 512;
            for (int h = 0; h < 2; h++) {
                float sum = 0, m2 = 0, cnt = 0;
                for (int f = h; f < n; f += 2) sum += (float)r[f], cnt += 1;
                float mean = sum / cnt;
                for (int f = h; f < n; f += 2) m2 += ((float)r[f] - mean) * ((float)r[f] - mean);
                tr[6 * t + 3 * h] = cnt, tr[6 * t + 3 * h + 1] = mean, tr[6 * t + 3 * h + 2] = m2;
            }
        }
        for (int i = 0; i < 12; i++) bad += bits_differ(st[p * 12 + i], tr[i]);
        float n = 0, sum = 0, m2 = 0;
        for (int i = 0; i < 12; i += 3) n += tr[i], sum += tr[i] * tr[i + 1];
        float mean = sum / n;
        for (int i = 0; i < 12; i += 3)
            m2 += tr[i + 2] + tr[i] * ((tr[i + 1] - mean) * (tr[i + 1] - mean));
        bad += bits_differ(ag[2 * p], mean) + bits_differ(ag[2 * p + 1], m2 / n);
        /* and close to the exact statistics */
        double dm = 0, dv = 0;
        for (int f = 0; f < F; f++) dm += x[p * F + f];
        dm /= F;
        for (int f = 0; f < F; f++) dv += (x[p * F + f] - dm) * (x[p * F + f] - dm);
        dv /= F;
        worst = fmax(worst, fabs(ag[2 * p] - dm) + fabs(ag[2 * p + 1] - dv) / dv);
    }
    CHECK_MSG(bad == 0, "bn_stats/bn_aggr: %d differ", bad);
    CHECK_MSG(worst < 1e-4, "bn_aggr far from the exact mean/variance: %g", worst);

    /* max8 on values with duplicates, find_index8 of them, match_replace8 with -inf */
    enum { G = 64 };
    static double y[P * G], m8[P * 8], ix[P * 8], rp[P * G], ri[P * 8];
    for (int i = 0; i < P * G; i++) y[i] = (double)(int)(test_rnd64(&s) % 40) - 20;
    y[5] = -0.0, y[6] = 0.0;
    const char *k2 = ".input y f32 [128, 64]\n.output m8 f32 [128, 8]\n.output ix uint32 [128, 8]\n"
                     ".output rp f32 [128, 64]\n.output ri uint16 [128, 8]\n.sbuf a f32 [128, 64]\n"
                     ".sbuf mx f32 [128, 8]\n.sbuf id uint32 [128, 8]\n.sbuf o f32 [128, 64]\n"
                     ".sbuf oi uint16 [128, 8]\ndma_copy dst=a src=y\nmax8 dst=mx src=a\n"
                     "nc_find_index8 dst=id data=a vals=mx\n"
                     "nc_match_replace8 dst=o data=a vals=mx imm=-1e30 dst_idx=oi\n"
                     "dma_copy dst=m8 src=mx\ndma_copy dst=ix src=id\ndma_copy dst=rp src=o\n"
                     "dma_copy dst=ri src=oi\n";
    io in2[] = {{"y", y, P * G}},
       out2[] = {{"m8", m8, P * 8}, {"ix", ix, P * 8}, {"rp", rp, P * G}, {"ri", ri, P * 8}};
    CHECK(run(k2, 2, NULL, in2, 1, out2, 4) == TRN_OK);
    bad = 0;
    for (int p = 0; p < P; p++) {
        double v[G], tmp;
        int taken[G] = {0};
        for (int f = 0; f < G; f++) v[f] = y[p * G + f];
        for (int j = 0; j < 8; j++) { /* selection: largest, first index among equals */
            int b = -1;
            for (int f = 0; f < G; f++)
                if (!taken[f] && (b < 0 || v[f] > v[b])) b = f;
            taken[b] = 1;
            tmp = v[b];
            bad += m8[p * 8 + j] != tmp;
            int first = 0;
            while (v[first] != tmp) first++;
            bad += ix[p * 8 + j] != first;
        }
        /* match_replace: the j-th value replaces its first not-yet-replaced occurrence */
        int rep[G] = {0};
        for (int j = 0; j < 8; j++) {
            int f = 0;
            while (f < G && (rep[f] || v[f] != m8[p * 8 + j])) f++;
            CHECK(f < G);
            if (f < G) rep[f] = 1;
            bad += ri[p * 8 + j] != f;
        }
        for (int f = 0; f < G; f++)
            bad += bits_differ(rp[p * G + f], rep[f] ? -1e30f : (float)v[f]);
    }
    CHECK_MSG(bad == 0, "max8/find_index8/match_replace8: %d differ", bad);
    /* +0 ranks above -0 (partition 0 holds both) */
    static double z[P * 8];
    for (int i = 0; i < P * 8; i++) z[i] = i % 8 == 2 ? 0.0 : i % 8 == 1 ? -0.0 : -1.0 - i % 8;
    const char *k3 = ".input y f32 [128, 8]\n.output m8 f32 [128, 8]\n.sbuf a f32 [128, 8]\n"
                     ".sbuf mx f32 [128, 8]\ndma_copy dst=a src=y\nmax8 dst=mx src=a\n"
                     "dma_copy dst=m8 src=mx\n";
    io in3[] = {{"y", z, P * 8}}, out3[] = {{"m8", m8, P * 8}};
    CHECK(run(k3, 2, NULL, in3, 1, out3, 1) == TRN_OK);
    CHECK_BITS_F32((float)m8[0], 0.0f);
    CHECK_BITS_F32((float)m8[1], -0.0f);
    CHECK_BITS_F32((float)m8[2], -1.0f);
    /* a value not present: all-ones index */
    static double w[P * 8];
    for (int i = 0; i < P * 8; i++) w[i] = i % 8;
    const char *k4 = ".input y f32 [128, 8]\n.output ix uint32 [128, 8]\n.sbuf a f32 [128, 8]\n"
                     ".sbuf v f32 [128, 8]\n.sbuf id uint32 [128, 8]\ndma_copy dst=a src=y\n"
                     "tensor_scalar dst=v data=a op0=add operand0=0.5\n"
                     "nc_find_index8 dst=id data=a vals=v\ndma_copy dst=ix src=id\n";
    io out4[] = {{"ix", ix, P * 8}};
    io in4[] = {{"y", w, P * 8}};
    CHECK(run(k4, 2, NULL, in4, 1, out4, 1) == TRN_OK);
    CHECK_EQ_HEX((uint32_t)ix[0], 0xFFFFFFFFu);
}

/* ---- ScalarE activate2, VectorE exponential ------------------------------------------------ */

static void test_act2_exp(void) {
    enum { F = 32 };
    static double x[P * F], o[P * F], r[P];
    uint64_t s = 14;
    fill(x, P * F, &s, -3, 3);
    const char *k = ".input x f32 [128, 32]\n.output out f32 [128, 32]\n.output r f32 [128, 1]\n"
                    ".sbuf a f32 [128, 32]\n.sbuf o f32 [128, 32]\n.sbuf rr f32 [128, 1]\n"
                    "dma_copy dst=a src=x\n"
                    "activate2 dst=o op=exp data=a imm0=a[:, 0:1] imm1=0.25 op0=multiply "
                    "op1=subtract reduce_op=max reduce_res=rr\n"
                    "dma_copy dst=out src=o\ndma_copy dst=r src=rr\n";
    io in[] = {{"x", x, P * F}}, out[] = {{"out", o, P * F}, {"r", r, P}};
    CHECK(run(k, 4, NULL, in, 1, out, 2) == TRN_OK);
    int bad = 0;
    for (int p = 0; p < P; p++) {
        float m = -INFINITY;
        for (int f = 0; f < F; f++) {
            float v = (float)exp((double)((float)x[p * F + f] * (float)x[p * F] - 0.25f));
            m = v > m ? v : m;
            bad += bits_differ(o[p * F + f], v);
        }
        bad += bits_differ(r[p], m);
    }
    CHECK_MSG(bad == 0, "activate2: %d differ", bad);
    /* relu with relu_param (PReLU), reversed subtract: relu(0.5 - x) */
    const char *k2 = ".input x f32 [128, 32]\n.output out f32 [128, 32]\n.sbuf a f32 [128, 32]\n"
                     ".sbuf o f32 [128, 32]\ndma_copy dst=a src=x\n"
                     "activate2 dst=o op=relu data=a imm0=0.5 imm1=0.0 op0=subtract op1=bypass "
                     "reverse0=true relu_param=0.125\ndma_copy dst=out src=o\n";
    CHECK(run(k2, 4, NULL, in, 1, out, 1) == TRN_OK);
    bad = 0;
    for (int i = 0; i < P * F; i++) {
        float v = 0.5f - (float)x[i];
        bad += bits_differ(o[i], v < 0 ? 0.125f * v : v);
    }
    CHECK_MSG(bad == 0, "activate2 prelu: %d differ", bad);
    /* exponential: exp(x - max[p]) into bf16 and its FP32 sum on top of reduce_init */
    const char *k3 = ".input x f32 [128, 32]\n.output out f32 [128, 32]\n.output r f32 [128, 1]\n"
                     ".sbuf a f32 [128, 32]\n.sbuf o bf16 [128, 32]\n.sbuf rr f32 [128, 1]\n"
                     ".sbuf mx f32 [128, 1]\ndma_copy dst=a src=x\n"
                     "tensor_reduce dst=mx op=max data=a axis=1\n"
                     "exponential dst=o src=a max_value=mx reduce_res=rr reduce_cmd=load_reduce "
                     "reduce_init=2.0\ndma_copy dst=out src=o\ndma_copy dst=r src=rr\n";
    CHECK(run(k3, 4, NULL, in, 1, out, 2) == TRN_OK);
    bad = 0;
    for (int p = 0; p < P; p++) {
        float m = -INFINITY, acc = 2.0f;
        for (int f = 0; f < F; f++) m = fmaxf(m, (float)x[p * F + f]);
        for (int f = 0; f < F; f++) {
            float v = (float)exp((double)((float)x[p * F + f] - m));
            acc += v;
            bad += bits_differ(o[p * F + f], ct_bf16(v));
        }
        bad += bits_differ(r[p], acc);
    }
    CHECK_MSG(bad == 0, "exponential: %d differ", bad);
}

/* ---- shuffle, gathers, nonzero, DMA -------------------------------------------------------- */

static void test_moves(void) {
    enum { F = 16 };
    static double x[64 * F], o[64 * F];
    uint64_t s = 15;
    fill(x, 64 * F, &s, -9, 9);
    /* reverse each quadrant, except lanes 3 and 4 (255: dst keeps its memset value) */
    char mask[256] = "[";
    for (int i = 0; i < 32; i++)
        snprintf(mask + strlen(mask), sizeof mask - strlen(mask), "%d%s",
                 i == 3 || i == 4 ? 255 : 31 - i, i < 31 ? ", " : "]");
    char k[1024];
    snprintf(k, sizeof k,
             ".input x f32 [64, 16]\n.output out f32 [64, 16]\n.sbuf a f32 [64, 16]\n"
             ".sbuf o f32 [64, 16]\ndma_copy dst=a src=x\nmemset dst=o value=3.0\n"
             "nc_stream_shuffle dst=o src=a shuffle_mask=%s\ndma_copy dst=out src=o\n",
             mask);
    io in[] = {{"x", x, 64 * F}}, out[] = {{"out", o, 64 * F}};
    CHECK(run(k, 2, NULL, in, 1, out, 1) == TRN_OK);
    int bad = 0;
    for (int p = 0; p < 64; p++)
        for (int f = 0; f < F; f++) {
            int l = p % 32;
            float want = l == 3 || l == 4 ? 3.0f : (float)x[((p / 32) * 32 + 31 - l) * F + f];
            bad += bits_differ(o[p * F + f], want);
        }
    CHECK_MSG(bad == 0, "nc_stream_shuffle: %d differ", bad);

    /* nc_n_gather: dst[p][i] = data[p][idx[p][i]] on flattened free dims, bit-exact bf16 */
    static double d[P * 24], id[P * 10], g[P * 10];
    fill(d, P * 24, &s, -9, 9);
    for (int i = 0; i < P * 24; i++) d[i] = ct_bf16((float)d[i]);
    for (int i = 0; i < P * 10; i++) id[i] = (double)(test_rnd64(&s) % 24);
    const char *k2 = ".input x bf16 [128, 4, 6]\n.input y uint32 [128, 10]\n"
                     ".output out bf16 [128, 10]\n.sbuf a bf16 [128, 4, 6]\n"
                     ".sbuf ix uint32 [128, 10]\n.sbuf o bf16 [128, 10]\n"
                     "dma_copy dst=a src=x\ndma_copy dst=ix src=y\n"
                     "nc_n_gather dst=o data=a indices=ix\ndma_copy dst=out src=o\n";
    io in2[] = {{"x", d, P * 24}, {"y", id, P * 10}}, out2[] = {{"out", g, P * 10}};
    CHECK(run(k2, 2, NULL, in2, 2, out2, 1) == TRN_OK);
    bad = 0;
    for (int i = 0; i < P * 10; i++) bad += g[i] != d[i / 10 * 24 + (int)id[i]];
    CHECK_MSG(bad == 0, "nc_n_gather: %d differ", bad);
    id[P * 10 - 3] = 24;
    expect_fault(k2, 2, in2, 2,
                 "k.tasm:9: nc_n_gather (gpsimd, instruction 2): illegal operand: indices 'ix' "
                 "[partition 127, 7] = 24 is outside data's 0..23");

    /* nonzero_with_count (v3): partitions 0, 16, ... only */
    static double nz[P * 12], no[P * 13];
    for (int i = 0; i < P * 12; i++) nz[i] = test_rnd64(&s) % 3 ? 0.0 : (double)(i % 5);
    nz[1] = -0.0;
    const char *k3 = ".input x f32 [128, 12]\n.output out int32 [128, 13]\n.sbuf a f32 [128, 12]\n"
                     ".sbuf o int32 [128, 13]\ndma_copy dst=a src=x\nmemset dst=o value=77\n"
                     "nonzero_with_count dst=o src=a index_offset=100 padding_val=-5\n"
                     "dma_copy dst=out src=o\n";
    io in3[] = {{"x", nz, P * 12}}, out3[] = {{"out", no, P * 13}};
    CHECK(run(k3, 3, NULL, in3, 1, out3, 1) == TRN_OK);
    bad = 0;
    for (int p = 0; p < P; p++) {
        int n = 0;
        double want[13];
        for (int f = 0; f < 12; f++)
            if (nz[p * 12 + f] != 0) want[n++] = 100 + f;
        for (int f = n; f < 12; f++) want[f] = -5;
        want[12] = n;
        for (int f = 0; f < 13; f++) bad += no[p * 13 + f] != (p % 16 ? 77 : want[f]);
    }
    CHECK_MSG(bad == 0, "nonzero_with_count: %d differ", bad);

    /* dma_transpose: HBM [64, 96] -> SBUF [96, 64]; SBUF [4, 6, 8] -> [8, 6, 4] */
    static double t[64 * 96], to[96 * 64];
    fill(t, 64 * 96, &s, -9, 9);
    for (int i = 0; i < 64 * 96; i++) t[i] = ct_bf16((float)t[i]);
    t[0] = -0.0, t[1] = INFINITY;
    const char *k4 = ".input x bf16 [64, 96]\n.output out bf16 [96, 64]\n.sbuf o bf16 [96, 64]\n"
                     "dma_transpose dst=o src=x\ndma_copy dst=out src=o\n";
    io in4[] = {{"x", t, 64 * 96}}, out4[] = {{"out", to, 96 * 64}};
    CHECK(run(k4, 3, NULL, in4, 1, out4, 1) == TRN_OK);
    bad = 0;
    for (int r = 0; r < 64; r++)
        for (int c = 0; c < 96; c++) bad += bits_differ(to[c * 64 + r], (float)t[r * 96 + c]);
    CHECK_MSG(bad == 0, "dma_transpose 2D: %d differ", bad);
    const char *k5 = ".input x bf16 [4, 6, 8]\n.output out bf16 [8, 6, 4]\n"
                     ".sbuf a bf16 [4, 6, 8]\n.sbuf o bf16 [8, 6, 4]\ndma_copy dst=a src=x\n"
                     "dma_transpose dst=o src=a axes=(2, 1, 0)\ndma_copy dst=out src=o\n";
    io out5[] = {{"out", to, 192}};
    io in5[] = {{"x", t, 192}};
    CHECK(run(k5, 3, NULL, in5, 1, out5, 1) == TRN_OK);
    bad = 0;
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 6; b++)
            for (int c = 0; c < 8; c++)
                bad += bits_differ(to[(c * 6 + b) * 4 + a], (float)t[(a * 6 + b) * 8 + c]);
    CHECK_MSG(bad == 0, "dma_transpose 3D: %d differ", bad);

    /* dma_compute: x * 1 + y * 0.5 + z * -2 into bf16 (HBM to SBUF) */
    static double u[P * 8], v[P * 8], w[P * 8], dc[P * 8];
    fill(u, P * 8, &s, -9, 9);
    fill(v, P * 8, &s, -9, 9);
    fill(w, P * 8, &s, -9, 9);
    const char *k6 = ".input x f32 [128, 8]\n.input y f32 [128, 8]\n.input z bf16 [128, 8]\n"
                     ".output out bf16 [128, 8]\n.sbuf o bf16 [128, 8]\n"
                     "dma_compute dst=o srcs=[x, y, z] reduce_op=add scales=[1.0, 0.5, -2.0]\n"
                     "dma_copy dst=out src=o\n";
    for (int i = 0; i < P * 8; i++) w[i] = ct_bf16((float)w[i]);
    io in6[] = {{"x", u, P * 8}, {"y", v, P * 8}, {"z", w, P * 8}}, out6[] = {{"out", dc, P * 8}};
    CHECK(run(k6, 2, NULL, in6, 3, out6, 1) == TRN_OK);
    bad = 0;
    for (int i = 0; i < P * 8; i++) {
        float acc = (float)u[i] * 1.0f;
        acc = acc + (float)v[i] * 0.5f;
        acc = acc + (float)w[i] * -2.0f;
        bad += bits_differ(dc[i], ct_bf16(acc));
    }
    CHECK_MSG(bad == 0, "dma_compute: %d differ", bad);
}

/* ---- the PRNG ------------------------------------------------------------------------------ */

static uint32_t ref_seed_word(uint64_t seed, uint64_t i) {
    uint64_t z = seed + (i + 1) * UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

/* Marsaglia xorwow, written from the 2003 paper. */
static uint32_t ref_xorwow(uint32_t st[6]) {
    uint32_t t = st[4] ^ (st[4] >> 2), v = st[0];
    st[4] = st[3], st[3] = st[2], st[2] = st[1], st[1] = v;
    st[0] = (t ^ (t << 1)) ^ (v ^ (v << 4));
    st[5] += 362437u;
    return st[0] + st[5];
}

/* VectorE state k of lane l (engine 0) or GpSimd lane l (engine 1, k = 0) seeded from seed. */
static void ref_state(uint32_t st[6], uint64_t seed, int engine, int l, int k) {
    for (int w = 0; w < 6; w++)
        st[w] = ref_seed_word(seed, ((uint64_t)((engine * 128 + l) * 4 + k)) * 6 + (uint64_t)w);
}

static void test_prng(void) {
    enum { F = 10 };
    static double o[P * F], o2[P * F], o3[P * F], first[P * F];
    /* rng (VectorE, default state from the run seed 77) into uint32, then set_rng_seed 12345 */
    static double seedv[1] = {12345};
    const char *k = ".input x uint32 [1, 1]\n.output out uint32 [128, 10]\n"
                    ".output out2 uint16 [128, 10]\n.sbuf sd uint32 [1, 1]\n"
                    ".sbuf o uint32 [128, 10]\n.sbuf o2 uint16 [128, 10]\n"
                    "rng dst=o\ndma_copy dst=sd src=x\nset_rng_seed src_seeds=sd\nrng dst=o2\n"
                    "dma_copy dst=out src=o\ndma_copy dst=out2 src=o2\n";
    trn_core_opts opt = {TRN_ROUND_RNE, 77, 0};
    io in[] = {{"x", seedv, 1}}, out[] = {{"out", o, P * F}, {"out2", o2, P * F}};
    CHECK(run(k, 2, &opt, in, 1, out, 2) == TRN_OK);
    int bad = 0;
    for (int p = 0; p < P; p++) {
        uint32_t st[4][6], st2[4][6];
        for (int q = 0; q < 4; q++)
            ref_state(st[q], 77, 0, p, q), ref_state(st2[q], 12345, 0, p, q);
        for (int f = 0; f < F; f++) {
            bad += (uint32_t)o[p * F + f] != ref_xorwow(st[f % 4]);
            bad += (uint32_t)o2[p * F + f] != (ref_xorwow(st2[f % 4]) & 0xFFFFu);
        }
    }
    CHECK_MSG(bad == 0, "rng / set_rng_seed: %d differ", bad);
    memcpy(first, o, sizeof first);

    /* GpSimd (v3): rand_set_state from a tile, rng, rand_get_state gives the advanced state */
    static double sv[P * 6], gs[P * 6];
    uint64_t s = 16;
    for (int i = 0; i < P * 6; i++) sv[i] = (double)(uint32_t)test_rnd64(&s);
    const char *k2 =
        ".input x uint32 [128, 6]\n.output out uint32 [128, 10]\n"
        ".output st uint32 [128, 6]\n.sbuf a uint32 [128, 6]\n.sbuf o uint32 [128, 10]\n"
        ".sbuf g uint32 [128, 6]\ndma_copy dst=a src=x\n"
        "rand_set_state src_seeds=a\nrng dst=o engine=gpsimd\nrand_get_state dst=g\n"
        "dma_copy dst=out src=o\ndma_copy dst=st src=g\n";
    io in2[] = {{"x", sv, P * 6}}, out2[] = {{"out", o, P * F}, {"st", gs, P * 6}};
    CHECK(run(k2, 3, NULL, in2, 1, out2, 2) == TRN_OK);
    bad = 0;
    for (int p = 0; p < P; p++) {
        uint32_t st[6];
        for (int w = 0; w < 6; w++) st[w] = (uint32_t)sv[p * 6 + w];
        for (int f = 0; f < F; f++) bad += (uint32_t)o[p * F + f] != ref_xorwow(st);
        for (int w = 0; w < 6; w++) bad += (uint32_t)gs[p * 6 + w] != st[w];
    }
    CHECK_MSG(bad == 0, "rand_set_state / rand_get_state (gpsimd): %d differ", bad);

    /* VectorE v4: 24 state words, rand2 in [-2, 3), dropout p = 0.3 / 0 / 1 */
    static double sv4[P * 24], xin[P * F];
    for (int i = 0; i < P * 24; i++) sv4[i] = (double)(uint32_t)test_rnd64(&s);
    fill(xin, P * F, &s, -5, 5);
    const char *k3 = ".input x uint32 [128, 24]\n.input y f32 [128, 10]\n"
                     ".output out f32 [128, 10]\n.output out2 f32 [128, 10]\n"
                     ".output out3 f32 [128, 10]\n.sbuf a uint32 [128, 24]\n"
                     ".sbuf b f32 [128, 10]\n.sbuf o f32 [128, 10]\n.sbuf o2 f32 [128, 10]\n"
                     ".sbuf o3 f32 [128, 10]\n.sbuf o4 f32 [128, 10]\ndma_copy dst=a src=x\n"
                     "dma_copy dst=b src=y\nrand_set_state src_seeds=a engine=vector\n"
                     "rand2 dst=o min=-2.0 max=3.0\ndropout dst=o2 data=b prob=0.3\n"
                     "dropout dst=o3 data=b prob=0.0\ndropout dst=o4 data=b prob=1.0\n"
                     "tensor_tensor dst=o3 data1=o3 data2=o4 op=add\n"
                     "dma_copy dst=out src=o\ndma_copy dst=out2 src=o2\ndma_copy dst=out3 src=o3\n";
    io in3[] = {{"x", sv4, P * 24}, {"y", xin, P * F}},
       out3[] = {{"out", o, P * F}, {"out2", o2, P * F}, {"out3", o3, P * F}};
    CHECK(run(k3, 4, NULL, in3, 2, out3, 3) == TRN_OK);
    bad = 0;
    int dropped = 0;
    for (int p = 0; p < P; p++) {
        uint32_t st[4][6];
        for (int w = 0; w < 24; w++) st[w / 6][w % 6] = (uint32_t)sv4[p * 24 + w];
        for (int f = 0; f < F; f++) {
            float u = (float)(ref_xorwow(st[f % 4]) >> 8) / 16777216.0f;
            bad += bits_differ(o[p * F + f], -2.0f + 5.0f * u);
        }
        for (int f = 0; f < F; f++) {
            float u = (float)(ref_xorwow(st[f % 4]) >> 8) / 16777216.0f;
            float want = u >= 0.3f ? (float)xin[p * F + f] : 0.0f;
            dropped += want == 0.0f;
            bad += bits_differ(o2[p * F + f], want);
        }
        for (int f = 0; f < F; f++) bad += bits_differ(o3[p * F + f], (float)xin[p * F + f]);
    }
    CHECK_MSG(bad == 0, "rand2 / dropout: %d differ", bad);
    CHECK_MSG(dropped > P * F / 5 && dropped < P * F * 2 / 5, "dropout p=0.3 dropped %d of %d",
              dropped, P * F);
    /* same seed, same numbers; another seed, others */
    trn_core_opts o78 = {TRN_ROUND_RNE, 78, 0};
    io o1[] = {{"out", o3, P * F}, {"out2", o2, P * F}};
    CHECK(run(k, 2, &opt, in, 1, o1, 2) == TRN_OK);
    bad = 0;
    for (int i = 0; i < P * F; i++) bad += o3[i] != first[i];
    CHECK_EQ_INT(bad, 0);
    CHECK(run(k, 2, &o78, in, 1, o1, 2) == TRN_OK);
    int same = 0;
    for (int i = 0; i < P * F; i++) same += o3[i] == first[i];
    CHECK_MSG(same < 5, "seeds 77 and 78 agree on %d values", same);
}

/* ---- faults -------------------------------------------------------------------------------- */

static void test_faults(void) {
    static double x[P * 16];
    for (int i = 0; i < P * 16; i++) x[i] = i % 16;
    io in[] = {{"x", x, P * 16}};
    const char *hdr = ".input x f32 [128, 16]\n.output out f32 [128, 16]\n.sbuf a f32 [128, 16]\n"
                      ".sbuf o f32 [128, 16]\n.sbuf r f32 [128, 1]\n.sbuf i int32 [128, 16]\n"
                      "dma_copy dst=a src=x\n";
    char k[1024], k2[1024];
    /* a continuing reduce of a VectorE accumulator never reset */
    snprintf(k2, sizeof k2,
             "%smemset dst=i value=1\nselect_reduce dst=o predicate=i on_true=a "
             "on_false=0.0 reduce_res=r reduce_cmd=reduce\n",
             hdr);
    expect_fault(k2, 2, in, 1,
                 "k.tasm:9: select_reduce (vector, instruction 2): uninitialized read: the "
                 "VectorE accumulator of partition 0");
    snprintf(k, sizeof k,
             "%sscalar_tensor_tensor dst=o data=a op0=bitwise_and operand0=1 "
             "op1=add operand1=a\n",
             hdr);
    expect_fault(k, 2, in, 1, "illegal operand: op0 must be an arithmetic operator");
    snprintf(k, sizeof k, "%stensor_scalar_cumulative dst=i src=a op0=add imm0=1.0 op1=add\n", hdr);
    expect_fault(k, 2, in, 1, "does not take int32 ('i')");
    snprintf(k, sizeof k,
             "%srange_select dst=o on_true_tile=a comp_op0=add comp_op1=less "
             "bound0=1.0 bound1=5.0\n",
             hdr);
    expect_fault(k, 3, in, 1, "illegal operand: comp_op0/comp_op1");
    snprintf(k, sizeof k, "%srand2 dst=o min=2.0 max=2.0\n", hdr);
    expect_fault(k, 4, in, 1, "rand2 needs min < max, partition 0 has min 2, max 2");
    snprintf(k, sizeof k, "%sactivate2 dst=o op=exp data=a imm0=1.0 imm1=1.0 op0=add op1=add\n",
             hdr);
    expect_fault(k, 4, in, 1, "activate2 (op0, op1) = (add, add)");
    snprintf(k, sizeof k,
             ".input x f32 [128, 16]\n.sbuf a f32 [128, 16]\n.sbuf o f32 [128, 16]\n"
             "dma_copy dst=a src=x\nnc_stream_shuffle dst=o src=a[0:16, :] "
             "shuffle_mask=[20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, "
             "17, 18, 19, 0, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31]\n");
    expect_fault(k, 2, in, 1, "shuffle_mask[0] = 20 reads src partition 20 of 16");
    snprintf(k, sizeof k,
             ".input x f32 [128, 16]\n.sbuf a bf16 [128, 16]\n.sbuf o f16 [16, 128]\n"
             "dma_transpose dst=o src=a\n");
    expect_fault(k, 3, in, 1, "must hold src's 2048 elements in src's dtype");
    snprintf(k, sizeof k,
             "%stensor_scalar_reduce dst=o data=a op0=add operand0=1.0 "
             "reduce_op=abs_max reduce_res=r\n",
             hdr);
    expect_fault(k, 2, in, 1, "reduce_op abs_max (tensor_scalar_reduce takes add");
}

int main(void) {
    test_stt_and_reduce();
    test_selects();
    test_stats_max8();
    test_act2_exp();
    test_moves();
    test_prng();
    test_faults();
    ct_done();
    return test_summary();
}

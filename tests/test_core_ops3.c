/* Per-instruction semantics of the functional core, third part (docs/semantics.md): the GpSimd
 * kernels local_gather, sequence_bounds and topk, the sequencer registers (register_alloc,
 * _move, _load, _store) and activation's reduce_cmd=load_reduce, each against a plain C
 * reference written here (bit-exact), and their run-time faults, which name the file, line,
 * instruction and engine, and the cost rules of local_gather and topk. LABELS: unit */
#include <math.h>

#include "test_core_util.h"

/* Runs `k`, which must stop with TRN_E_FAULT whose message contains `what`. */
static void want_fault(const char *k, int ver, const ct_io *ins, int nin, const char *what) {
    ct_outcome r = ct_exec(k, ver, ins, nin, NULL, 0);
    CHECK_MSG(r.s == TRN_E_FAULT, "expected a fault containing '%s', got status %d (%s)", what,
              (int)r.s, r.msg);
    CHECK_CONTAINS(r.msg, what);
}

static uint32_t bits_of(double v) {
    return test_f32_bits((float)v);
}

/* ---- local_gather ----------------------------------------------------------------------- */

/* Reference: core g's index list is its 16-partition index slice read partition-first
 * (np.flatten(order='F') of [16, K]); partition p of the core gets, for each valid index j,
 * the k elements src[p][L[j] .. L[j] + k - 1] of its own row. */
static void ref_local_gather(const double *src, size_t M, const double *ix, size_t K, size_t P,
                             size_t nv, size_t k, double *out) {
    for (size_t p = 0; p < P; p++) {
        size_t g = p / 16;
        for (size_t j = 0; j < nv; j++) {
            size_t q = g * 16 + j % 16, col = j / 16;
            size_t at = (size_t)ix[q * K + col];
            for (size_t e = 0; e < k; e++) out[p * nv * k + j * k + e] = src[p * M + at + e];
        }
    }
}

static void test_local_gather(void) {
    enum { P = 128, M = 64, K = 4, KE = 2 };
    static double src[P * M], ix[P * K], out[P * 16 * K * KE], ref[P * 16 * K * KE];
    uint64_t s = 21;
    for (size_t i = 0; i < P * M; i++) src[i] = ct_uniform(&s, -100, 100);
    src[5] = -0.0, src[70] = INFINITY, src[200] = -INFINITY;
    for (size_t i = 0; i < P * K; i++) ix[i] = (double)(test_rnd64(&s) % (M - KE + 1));
    ix[0] = 0, ix[1] = M - KE; /* both ends of the row */
    const char *k = ".input x f32 [128, 64]\n.input i uint16 [128, 4]\n.output out f32 [128, 128]\n"
                    ".sbuf a f32 [128, 64]\n.sbuf ix uint16 [128, 4]\n.sbuf o f32 [128, 128]\n"
                    "dma_copy dst=a src=x\ndma_copy dst=ix src=i\n"
                    "local_gather dst=o src_buffer=a index=ix num_elem_per_idx=2\n"
                    "dma_copy dst=out src=o\n";
    ct_io in[] = {{"x", src, P * M}, {"i", ix, P * K}}, o[] = {{"out", out, P * 128}};
    CHECK(ct_exec(k, 2, in, 2, o, 1).s == TRN_OK);
    ref_local_gather(src, M, ix, K, P, 16 * K, KE, ref);
    int bad = 0;
    for (size_t i = 0; i < P * 128; i++) bad += bits_of(out[i]) != bits_of(ref[i]);
    CHECK_MSG(bad == 0, "local_gather f32 k=2: %d of %d differ", bad, P * 128);

    /* int16 data with two free dims (flattened), 32 partitions (2 cores), 4 elements per index,
     * num_valid_indices=20 of the 32 slots: core 1's slots past 20 (partitions 20..31 at
     * position 1) are never written, so reading one would be an uninitialized-read fault */
    enum { P2 = 32, M2 = 48, NV = 20, KE2 = 4 };
    static double s2[P2 * M2], i2[P2 * 2], o2[P2 * NV * KE2], r2[P2 * NV * KE2];
    for (size_t i = 0; i < P2 * M2; i++) s2[i] = (double)((int)(test_rnd64(&s) % 65536) - 32768);
    for (size_t i = 0; i < P2 * 2; i++) i2[i] = (double)(test_rnd64(&s) % (M2 - KE2 + 1));
    const char *k2 =
        ".input x int16 [32, 6, 8]\n.input i uint16 [32, 2]\n.output out int16 [32, 80]\n"
        ".sbuf a int16 [32, 6, 8]\n.sbuf ix uint16 [32, 2]\n.sbuf o int16 [32, 80]\n"
        "dma_copy dst=a src=x\ndma_copy dst=ix[:, 0:1] src=i[:, 0:1]\n"
        "dma_copy dst=ix[0:20, 1:2] src=i[0:20, 1:2]\n"
        "local_gather dst=o src_buffer=a index=ix num_elem_per_idx=4 num_valid_indices=20\n"
        "dma_copy dst=out src=o\n";
    ct_io in2[] = {{"x", s2, P2 * M2}, {"i", i2, P2 * 2}}, o2s[] = {{"out", o2, P2 * 80}};
    CHECK(ct_exec(k2, 3, in2, 2, o2s, 1).s == TRN_OK);
    ref_local_gather(s2, M2, i2, 2, P2, NV, KE2, r2);
    bad = 0;
    for (size_t i = 0; i < P2 * 80; i++) bad += o2[i] != r2[i];
    CHECK_MSG(bad == 0, "local_gather i16 k=4 nv=20: %d of %d differ", bad, P2 * 80);

    /* an index whose k elements run past the row: a fault naming the index, its partition,
     * position and value, and the line, instruction and engine */
    ix[5 * K + 1] = M - 1; /* core 0, partition 5, position 1: elements 63..64 of 0..63 */
    ct_outcome r = ct_exec(k, 2, in, 2, NULL, 0);
    CHECK(r.s == TRN_E_FAULT);
    CHECK_CONTAINS(r.msg, "k.tasm:9: local_gather (gpsimd, instruction 2): illegal operand: "
                          "index 'ix' [partition 5, 1] = 63: elements 63..64 lie outside "
                          "src_buffer 'a' (0..63 per partition)");
    CHECK_EQ_INT(r.f.line, 9);
    CHECK_EQ_INT(r.f.instr, 2);
    CHECK_EQ_INT(r.f.engine, TRN_ENGINE_POOL);
    CHECK_EQ_INT(r.f.op, TRN_OP_LOCAL_GATHER);
    CHECK_EQ_INT(r.f.cycle, -1);
    ix[5 * K + 1] = 0;

    /* operands the hardware does not take, and a gathered element never written (the first
     * uninitialized read): partitions, dst's free size, the index fill, the instruction's
     * options and the expected message */
    static const struct {
        int parts, dst_free, fill;
        const char *opts, *what;
    } bad_lg[] = {
        {16, 48, 0, " num_elem_per_idx=3", "num_elem_per_idx=3 (1, 2, 4, 8, 16 or 32)"},
        {16, 17, 0, " num_valid_indices=17", "num_valid_indices=17; a core's index slice holds 16"},
        {8, 8, 0, "", "P a multiple of 16"},
        {16, 8, 0, "", "dst 'o' must hold num_valid_indices x num_elem_per_idx = 16"},
        {16, 16, 5, "", "uninitialized read: src_buffer (gathered position) 'a'"},
    };
    static double x16[16 * 8];
    ct_io in3[] = {{"x", x16, 16 * 8}};
    for (size_t t = 0; t < sizeof bad_lg / sizeof bad_lg[0]; t++) {
        char kk[512];
        int np = bad_lg[t].parts;
        snprintf(kk, sizeof kk,
                 ".input x f32 [16, 8]\n.sbuf a f32 [%d, 8]\n.sbuf ix uint16 [%d, 1]\n"
                 ".sbuf o f32 [%d, %d]\ndma_copy dst=a[:, 0:4] src=x[0:%d, 0:4]\n"
                 "memset dst=ix value=%d\nlocal_gather dst=o src_buffer=a index=ix%s\n",
                 np, np, np, bad_lg[t].dst_free, np, bad_lg[t].fill, bad_lg[t].opts);
        want_fault(kk, 2, in3, 1, bad_lg[t].what);
    }
}

/* ---- sequence_bounds -------------------------------------------------------------------- */

/* Reference: element i of a run of equal non-zero IDs spanning [b, e] gets start b and
 * (exclusive) end e + 1; padding (ID 0) gets start N and end -1. */
static void ref_bounds(const double *id, size_t N, double *lo, double *hi) {
    for (size_t i = 0; i < N; i++) {
        if (id[i] == 0) {
            lo[i] = (double)N, hi[i] = -1;
            continue;
        }
        size_t b = i, e = i;
        while (b > 0 && id[b - 1] == id[i]) b--;
        while (e + 1 < N && id[e + 1] == id[i]) e++;
        lo[i] = (double)b, hi[i] = (double)(e + 1);
    }
}

static void test_sequence_bounds(void) {
    enum { N = 24 };
    /* padding at both ends and inside; ID 1 in two separate runs; runs of length 1 */
    static double id[N] = {0, 0, 1, 1, 1, 2, 2, 0, 3, 1, 1, 4, 4, 4, 4, 0, 5, 6, 7, 7, 0, 9, 9, 9},
                  out[2 * N], lo[N], hi[N];
    const char *k = ".input s int32 [1, 24]\n.output out int32 [1, 2, 24]\n.sbuf a int32 [1, 24]\n"
                    ".sbuf o int32 [1, 2, 24]\ndma_copy dst=a src=s\n"
                    "sequence_bounds dst=o segment_ids=a\ndma_copy dst=out src=o\n";
    ct_io in[] = {{"s", id, N}}, o[] = {{"out", out, 2 * N}};
    CHECK(ct_exec(k, 2, in, 1, o, 1).s == TRN_OK);
    ref_bounds(id, N, lo, hi);
    int bad = 0;
    for (size_t i = 0; i < N; i++) bad += out[i] != lo[i] || out[N + i] != hi[i];
    CHECK_MSG(bad == 0, "sequence_bounds int32: %d of %d differ", bad, N);
    /* two values worked by hand: element 9 (ID 1, second run 9..10) and element 0 (padding) */
    CHECK(out[9] == 9 && out[N + 9] == 11 && out[0] == N && out[N] == -1);

    /* float32 IDs, 8 partitions each its own sequence, float32 dst; -0.0 is padding too */
    enum { PF = 8, NF = 100 };
    static double f[PF * NF], fo[PF * 2 * NF], flo[NF], fhi[NF];
    uint64_t s = 5;
    for (size_t i = 0; i < PF * NF; i++) f[i] = (double)(test_rnd64(&s) % 3);
    f[7] = -0.0;
    const char *kf = ".input s f32 [8, 100]\n.output out f32 [8, 200]\n.sbuf a f32 [8, 100]\n"
                     ".sbuf o f32 [8, 2, 100]\ndma_copy dst=a src=s\n"
                     "sequence_bounds dst=o segment_ids=a\ndma_copy dst=out src=o\n";
    ct_io inf[] = {{"s", f, PF * NF}}, of[] = {{"out", fo, PF * 2 * NF}};
    CHECK(ct_exec(kf, 3, inf, 1, of, 1).s == TRN_OK);
    bad = 0;
    for (size_t p = 0; p < PF; p++) {
        ref_bounds(f + p * NF, NF, flo, fhi);
        for (size_t i = 0; i < NF; i++)
            bad += fo[p * 2 * NF + i] != flo[i] || fo[p * 2 * NF + NF + i] != fhi[i];
    }
    CHECK_MSG(bad == 0, "sequence_bounds f32: %d of %d differ", bad, PF * NF);

    /* IDs must be non-negative integers; shapes must match */
    id[4] = -2;
    want_fault(k, 2, in, 1, "segment_ids 'a' [partition 0, 4] = -2: segment IDs are non-negative");
    id[4] = 1;
    f[3] = 1.5;
    want_fault(kf, 3, inf, 1, "segment_ids 'a' [partition 0, 3] = 1.5");
    want_fault(".input s int32 [1, 24]\n.sbuf a int32 [1, 24]\n.sbuf o int32 [1, 24]\n"
               "dma_copy dst=a src=s\nsequence_bounds dst=o segment_ids=a\n",
               2, in, 1, "dst [P, 2, N] float32/int32; got 1 x 24 and 1 x 24");
}

/* ---- topk ------------------------------------------------------------------------------- */

/* a ranks above b: NaN above everything else, +0 above -0, otherwise numeric order. */
static int beats(float a, float b) {
    if (isnan(b)) return 0;
    if (isnan(a)) return 1;
    if (a == 0 && b == 0) return signbit(b) && !signbit(a);
    return a > b;
}

static void test_topk(void) {
    enum { P = 32, X = 8, NS = 100, K = 20 };
    static double src[P * X], val[P * K], idx[P * K];
    uint64_t s = 77;
    /* few distinct values (many ties), and in the storage slots past n (snake index >= 100,
     * i.e. position 6 of partitions 4..15 and position 7) values that would win if read */
    for (size_t i = 0; i < P * X; i++)
        src[i] = ct_bf16((float)((int)(test_rnd64(&s) % 13) - 6) / 2);
    for (size_t p = 0; p < P; p++)
        for (size_t x = 0; x < X; x++)
            if (x * 16 + p % 16 >= NS) src[p * X + x] = 1e30;
    src[3 * X + 2] = NAN; /* group 0, snake index 35 */
    src[20 * X + 0] = INFINITY, src[21 * X + 0] = -0.0, src[22 * X + 0] = 0.0; /* group 1 */
    const char *k = ".input x bf16 [32, 8]\n.output v bf16 [32, 20]\n.output i uint32 [32, 20]\n"
                    ".sbuf a bf16 [32, 8]\n.sbuf vd bf16 [32, 20]\n.sbuf id uint32 [32, 20]\n"
                    "dma_copy dst=a src=x\nmemset dst=vd value=7\nmemset dst=id value=9\n"
                    "topk val_dst=vd idx_dst=id src=a n=100\n"
                    "dma_copy dst=v src=vd\ndma_copy dst=i src=id\n";
    ct_io in[] = {{"x", src, P * X}}, o[] = {{"v", val, P * K}, {"i", idx, P * K}};
    CHECK(ct_exec(k, 3, in, 1, o, 2).s == TRN_OK);
    int bad = 0;
    for (size_t g = 0; g < P / 16; g++) {
        float snake[NS];
        int taken[NS] = {0};
        for (size_t j = 0; j < NS; j++) snake[j] = (float)src[(g * 16 + j % 16) * X + j / 16];
        for (size_t r = 0; r < 32; r++) { /* results land at (r % 16, r / 16): positions 0, 1 */
            size_t at = g * 16 + r % 16, col = r / 16;
            double gv = val[at * K + col], gi = idx[at * K + col];
            if (r >= K) { /* the rest of the last written position: -Inf and all ones */
                bad += !(isinf(gv) && gv < 0) || gi != 4294967295.0;
                continue;
            }
            size_t best = NS;
            for (size_t j = 0; j < NS; j++)
                if (!taken[j] && (best == NS || beats(snake[j], snake[best]))) best = j;
            taken[best] = 1;
            int same = isnan(snake[best]) ? isnan(gv) : bits_of(gv) == test_f32_bits(snake[best]);
            bad += !same || gi != (double)best;
        }
        for (size_t q = 0; q < 16; q++) /* positions 2.. were not written: the memsets stay */
            for (size_t col = 2; col < K; col++)
                bad += val[(g * 16 + q) * K + col] != 7 || idx[(g * 16 + q) * K + col] != 9;
    }
    CHECK_MSG(bad == 0, "topk: %d results differ", bad);
    /* worked by hand: group 1's largest is +Inf at snake index 4 (partition 20, position 0),
     * group 0's is the NaN at snake index 35 */
    CHECK(isinf(val[16 * K]) && idx[16 * K] == 4);
    CHECK(isnan(val[0]) && idx[0] == 35);

    /* worked by hand: signed zeros and ties, one core, n = 16, k = 8: +0 ranks above -0, equal
     * values keep snake order; the other 8 slots of position 0 get -Inf / all ones */
    static double z[16] = {-1, -0.0, -2, 0.0, -INFINITY, -1, -0.0, -3,
                           -1, 0.0,  -5, -1,  -7,        -8, -9,   -10},
                  zv[16 * 8], zi[16 * 8];
    static const double want_i[8] = {3, 9, 1, 6, 0, 5, 8, 11};
    static const double want_v[8] = {0.0, 0.0, -0.0, -0.0, -1, -1, -1, -1};
    ct_io zin[] = {{"x", z, 16}}, zout[] = {{"v", zv, 16 * 8}, {"i", zi, 16 * 8}};
    CHECK(ct_exec(".input x bf16 [16, 1]\n.output v bf16 [16, 8]\n.output i uint32 [16, 8]\n"
                  ".sbuf a bf16 [16, 1]\n.sbuf vd bf16 [16, 8]\n.sbuf id uint32 [16, 8]\n"
                  "dma_copy dst=a src=x\nmemset dst=vd value=0\nmemset dst=id value=0\n"
                  "topk val_dst=vd idx_dst=id src=a n=16\n"
                  "dma_copy dst=v src=vd\ndma_copy dst=i src=id\n",
                  2, zin, 1, zout, 2)
              .s == TRN_OK);
    for (int r = 0; r < 16; r++) {
        double gv = zv[r * 8], gi = zi[r * 8];
        if (r < 8)
            CHECK_MSG(gi == want_i[r] && gv == want_v[r] && !signbit(gv) == !signbit(want_v[r]),
                      "topk result %d: value %g index %g, expected %g at %g", r, gv, gi, want_v[r],
                      want_i[r]);
        else
            CHECK(isinf(gv) && gv < 0 && gi == 4294967295.0);
    }

    want_fault(".input x bf16 [32, 8]\n.sbuf a bf16 [32, 8]\n.sbuf vd bf16 [32, 4]\n"
               ".sbuf id uint32 [32, 4]\ndma_copy dst=a src=x\n"
               "topk val_dst=vd idx_dst=id src=a n=7\n",
               3, in, 1, "n=7: 8 <= n < 65536");
    want_fault(".input x bf16 [32, 8]\n.sbuf a bf16 [32, 8]\n.sbuf vd bf16 [32, 4]\n"
               ".sbuf id uint32 [32, 4]\ndma_copy dst=a src=x\n"
               "topk val_dst=vd idx_dst=id src=a n=129\n",
               3, in, 1, "must hold ceil(n / 16) = 9 positions per partition, it has 8");
    want_fault(".input x bf16 [32, 8]\n.sbuf a bf16 [32, 8]\n.sbuf vd bf16 [32, 12]\n"
               ".sbuf id uint32 [32, 12]\ndma_copy dst=a src=x\n"
               "topk val_dst=vd idx_dst=id src=a n=10\n",
               3, in, 1,
               "k (val_dst's 12 elements per partition) must be 1 <= k < 32768 and "
               "k <= n = 10");
    /* a snake element never written */
    want_fault(".input x bf16 [32, 8]\n.sbuf a bf16 [32, 8]\n.sbuf vd bf16 [32, 4]\n"
               ".sbuf id uint32 [32, 4]\ndma_copy dst=a[:, 0:2] src=x[:, 0:2]\n"
               "topk val_dst=vd idx_dst=id src=a n=40\n",
               3, in, 1, "uninitialized read: src 'a' element [partition 0, 2]");
}

/* ---- sequencer registers ---------------------------------------------------------------- */

static void test_registers(void) {
    static double a[4] = {11, -22, 2147483647, -2147483648.0}, f[1] = {1.5}, h[1] = {-3}, o[8],
                  t[2], u[1];
    const char *k =
        ".input a int32 [4]\n.input f f32 [1]\n.input h int16 [1]\n.output o int32 [8]\n"
        ".output t int32 [1, 2]\n.output u uint16 [1]\n.sbuf sa int32 [1, 4]\n.sbuf st int32 [1, "
        "2]\n"
        "dma_copy dst=sa src=a\n"
        "register_alloc dst=ra x=-7\nregister_store dst=o[0:1] src=ra\n"
        "register_alloc dst=rb\nregister_load dst=rb src=a[2:3]\n" /* from HBM */
        "register_store dst=o[1:2] src=rb\n"
        "register_move dst=ra src=rb\nregister_store dst=o[2:3] src=ra\n"
        "register_move dst=ra src=4294967295\nregister_store dst=o[3:4] src=ra\n"
        "register_load dst=rb src=f\nregister_store dst=o[4:5] src=rb\n" /* FP32 bits */
        "register_load dst=rb src=h\nregister_store dst=o[5:6] src=rb\n" /* sign-extended */
        "register_store dst=u src=rb\n"                                  /* low 16 bits */
        "register_alloc dst=rv x=5 engine=vector\n" /* the vector engine's sequencer */
        "register_load dst=rv src=sa[0:1, 3:4] engine=vector\n"
        "register_store dst=st[0:1, 0:1] src=rv engine=vector\n"
        "register_move dst=rv src=-2147483648 engine=vector\n"
        "register_store dst=st[0:1, 1:2] src=rv engine=vector\n"
        "register_alloc dst=rw x=123\nregister_store dst=o[6:7] src=rw\n"
        "register_alloc dst=rz x=0\nregister_store dst=o[7:8] src=rz\n"
        "dma_copy dst=t src=st\n";
    ct_io in[] = {{"a", a, 4}, {"f", f, 1}, {"h", h, 1}},
          out[] = {{"o", o, 8}, {"t", t, 2}, {"u", u, 1}};
    CHECK(ct_exec(k, 2, in, 3, out, 3).s == TRN_OK);
    CHECK(o[0] == -7);
    CHECK(o[1] == 2147483647 && o[2] == 2147483647);
    CHECK(o[3] == -1);
    CHECK(o[4] == (double)(int32_t)0x3FC00000u);
    CHECK(o[5] == -3 && u[0] == 65533);
    CHECK(t[0] == -2147483648.0 && t[1] == -2147483648.0);
    CHECK(o[6] == 123 && o[7] == 0);

    /* float data moved through a register keeps its bits (BF16 -1.5 = 0xBFC0) */
    static double b[1] = {-1.5}, bo[1];
    ct_io inb[] = {{"b", b, 1}}, outb[] = {{"bo", bo, 1}};
    CHECK(ct_exec(".input b bf16 [1]\n.output bo bf16 [1]\nregister_alloc dst=r\n"
                  "register_load dst=r src=b\nregister_store dst=bo src=r\n",
                  3, inb, 1, outb, 1)
              .s == TRN_OK);
    CHECK(bo[0] == -1.5);

    /* faults */
    want_fault(".input a int32 [4]\n.output o int32 [4]\nregister_alloc dst=r\n"
               "register_store dst=o[0:1] src=r\n",
               2, in, 1,
               "k.tasm:4: register_store (sync, instruction 1): uninitialized read: register r "
               "(register_alloc at line 3) was never set");
    want_fault(".input a int32 [4]\nregister_alloc dst=r x=1\n"
               "register_move dst=r src=2 engine=vector\n",
               2, in, 1,
               "k.tasm:3: register_move (vector, instruction 1): illegal operand: register r "
               "lives in the sync sequencer (register_alloc at line 2); this instruction runs "
               "on vector");
    want_fault(".input a int32 [4]\nregister_alloc dst=r x=4294967296\n", 2, in, 1,
               "x=4294967296 does not fit a 32-bit register");
    want_fault(
        ".input a int32 [4]\nregister_alloc dst=r x=1\nregister_move dst=r src=-2147483649\n", 2,
        in, 1, "src=-2147483649 does not fit");
    /* the sync sequencer has registers_per_engine (64) registers: 64 fit, the 65th does not;
     * another engine's sequencer has its own 64 */
    static char big[8192];
    size_t m = (size_t)snprintf(big, sizeof big, ".input a int32 [4]\n");
    for (int i = 0; i < 64; i++)
        m += (size_t)snprintf(big + m, sizeof big - m, "register_alloc dst=s%d x=%d\n", i, i);
    for (int i = 0; i < 64; i++)
        m += (size_t)snprintf(big + m, sizeof big - m, "register_alloc dst=v%d engine=vector\n", i);
    CHECK(ct_exec(big, 2, in, 1, NULL, 0).s == TRN_OK);
    snprintf(big + m, sizeof big - m, "register_alloc dst=s64\n");
    want_fault(big, 2, in, 1,
               "k.tasm:130: register_alloc (sync, instruction 128): illegal operand: register "
               "s64 would be register number 65 of the sync sequencer, which has 64 "
               "(registers_per_engine of v2)");
}

/* ---- activation reduce_cmd=load_reduce -------------------------------------------------- */

static void test_load_reduce(void) {
    enum { P = 128, F = 16 };
    static double x[P * F], r0[P], r1[P], r2[P], y[P * F];
    uint64_t s = 99;
    for (size_t i = 0; i < P * F; i++) x[i] = ct_uniform(&s, -8, 8);
    for (size_t p = 0; p < P; p++) r0[p] = ct_uniform(&s, -50, 50);
    /* add: rr starts at r0, folds 2x in free order; a second instruction continues (reduce)
     * into another tile; then maximum with load_reduce from a bf16 tile */
    const char *k =
        ".input x f32 [128, 16]\n.input r f32 [128, 1]\n.output y f32 [128, 16]\n"
        ".output r1 f32 [128, 1]\n.output r2 bf16 [128, 1]\n.sbuf a f32 [128, 16]\n"
        ".sbuf o f32 [128, 16]\n.sbuf ra f32 [128, 1]\n.sbuf rb f32 [128, 1]\n"
        ".sbuf rc bf16 [128, 1]\ndma_copy dst=a src=x\ndma_copy dst=ra src=r\n"
        "activation dst=o op=copy data=a scale=2.0 reduce_op=add reduce_res=ra "
        "reduce_cmd=load_reduce\n"
        "activation dst=o op=copy data=a reduce_op=add reduce_res=rb reduce_cmd=reduce\n"
        "dma_copy dst=rc src=r\n"
        "activation dst=o op=copy data=a reduce_op=maximum reduce_res=rc reduce_cmd=load_reduce\n"
        "dma_copy dst=y src=o\ndma_copy dst=r1 src=rb\ndma_copy dst=r2 src=rc\n";
    ct_io in[] = {{"x", x, P * F}, {"r", r0, P}},
          out[] = {{"y", y, P * F}, {"r1", r1, P}, {"r2", r2, P}};
    CHECK(ct_exec(k, 2, in, 2, out, 3).s == TRN_OK);
    int bad = 0;
    for (size_t p = 0; p < P; p++) {
        float acc = (float)r0[p]; /* load */
        for (size_t f = 0; f < F; f++) acc = acc + 2.0f * (float)x[p * F + f];
        for (size_t f = 0; f < F; f++) acc = acc + (float)x[p * F + f]; /* reduce continues */
        float mx = ct_bf16((float)r0[p]);
        for (size_t f = 0; f < F; f++) mx = fmaxf(mx, (float)x[p * F + f]);
        bad += bits_of(r1[p]) != test_f32_bits(acc) || bits_of(r2[p]) != test_f32_bits(ct_bf16(mx));
    }
    CHECK_MSG(bad == 0, "load_reduce: %d of %d partitions differ", bad, P);

    want_fault(".input x f32 [128, 16]\n.sbuf a f32 [128, 16]\n.sbuf o f32 [128, 16]\n"
               "dma_copy dst=a src=x\n"
               "activation dst=o op=copy data=a reduce_op=add reduce_cmd=load_reduce\n",
               2, in, 1, "load_reduce on activation loads reduce_res, which is missing");
    want_fault(".input x f32 [128, 16]\n.sbuf a f32 [128, 16]\n.sbuf o f32 [128, 16]\n"
               ".sbuf ra f32 [128, 1]\ndma_copy dst=a src=x\n"
               "activation dst=o op=copy data=a reduce_op=add reduce_res=ra "
               "reduce_cmd=load_reduce\n",
               2, in, 1, "uninitialized read: reduce_res 'ra'");
}

/* ---- cost rules of the GpSimd kernels ---------------------------------------------------- */

/* The cost rule's cycles of instruction `i` of `k` on core version `ver` (-1 on failure). */
static long long formula_cycles(const char *k, int ver, int i) {
    trn_program *p = ct_prog(k, "k.tasm", ver);
    char name[8];
    snprintf(name, sizeof name, "v%d", ver);
    trn_timing *t = NULL;
    long long cyc = -1;
    if (trn_timing_run(p, trn_hw_core_get(ct_hw_, name), NULL, NULL, &t, NULL) == TRN_OK) {
        int n = 0;
        const trn_timing_instr *in = trn_timing_instrs(t, &n);
        if (i < n) cyc = (long long)in[i].formula_cycles;
    }
    trn_timing_destroy(t);
    trn_program_destroy(p);
    return cyc;
}

static void test_costs(void) {
    const trn_hw_core *v3 = trn_hw_core_get(ct_hw_, "v3");
    long long start = (long long)v3->gpsimd_start_cycles.value;
    /* local_gather [NKI]: GPSIMD_START + n_idx k / C, C = ((28 + 4k) / (4k)) / min(4 / bytes, k);
     * f32, k = 2, the default n_idx = a core's 16 x 4 indices: C = (36 / 8) / 1 = 4.5,
     * 64 * 2 / 4.5 = 28.4 -> 29 */
    CHECK_EQ_INT(formula_cycles(".sbuf a f32 [128, 64]\n.sbuf ix uint16 [128, 4]\n"
                                ".sbuf o f32 [128, 128]\n"
                                "local_gather dst=o src_buffer=a index=ix num_elem_per_idx=2\n",
                                3, 0),
                 start + 29);
    /* bf16, k = 4, 20 valid indices: C = (44 / 16) / 2 = 1.375, 80 / 1.375 = 58.2 -> 59 */
    CHECK_EQ_INT(formula_cycles(".sbuf a bf16 [32, 48]\n.sbuf ix uint16 [32, 2]\n"
                                ".sbuf o bf16 [32, 80]\nlocal_gather dst=o src_buffer=a index=ix "
                                "num_elem_per_idx=4 num_valid_indices=20\n",
                                3, 0),
                 start + 59);
    /* topk [NKI]: 4 n + K, n the snake's elements, K = val_dst's free size: 4 * 100 + 20 */
    CHECK_EQ_INT(
        formula_cycles(".sbuf a bf16 [32, 8]\n.sbuf vd bf16 [32, 20]\n"
                       ".sbuf id uint32 [32, 20]\ntopk val_dst=vd idx_dst=id src=a n=100\n",
                       3, 0),
        420);
}

int main(void) {
    test_local_gather();
    test_sequence_bounds();
    test_topk();
    test_registers();
    test_load_reduce();
    test_costs();
    ct_done();
    return test_summary();
}

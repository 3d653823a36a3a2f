/* The functional fast paths against their references, bit for bit:
 *   - core_load_codes / core_store_codes (a row at a time) and core_load_f32 / core_store_f32
 *     (rows converted where they lie) against core_load_codes_ref / core_store_codes_ref with
 *     trn_cvt_to_f32 / core_encode (element by element) on linear, strided, 3-D, byte, PSUM and
 *     HBM views, narrowed and re-pointed views, with never-written bytes scattered in, under RNE,
 *     SR and saturation: the same codes and values, the same memories and SR counter afterwards,
 *     the same fault and message;
 *   - the BF16 / FP32 bit paths of decode and encode against trn_cvt_to_f32 (every BF16 code)
 *     and trn_cvt_from_f32 / core_encode (every BF16 upper half with the rounding-boundary lower
 *     halves), with the SR counter advanced as by core_encode;
 *   - trn_core_tensor_write / read against trn_cvt_from_f32 / trn_cvt_to_f32 element by element;
 *   - a reused core (trn_core_reuse) against a fresh core per run: every example kernel (on v3,
 *     forwards then backwards, and on v4 those v3 lacks), one core reused across all of them;
 *     uninitialized reads of SBUF, PSUM and the core's own HBM that the previous run on the
 *     same core wrote are still faults with the fresh core's message, also past the 255-run
 *     wrap of the written shadow; a run after a faulting run; a second trn_core_run; an input
 *     never given; a borrowed HBM that a reuse leaves alone;
 *   - the runtime's work core against trn_runtime_set_fresh_cores: tiny-llama generating on 1 and
 *     2 cores gives the same tokens, logits and simulated times, twice; a binding error between
 *     two launches changes nothing.
 * LABELS: unit */
#include "core/core_impl.h"
#include "test_lower_util.h"
#include "trnsim/run.h"
#include "trnsim/runtime.h"

/* ---- load / store paths -------------------------------------------------------------------- */

static const char *views_src = ".kernel views\n"
                               ".input  x  bf16 [128, 64]\n"
                               ".hbm    h  f32  [8, 300]\n"
                               ".sbuf   a  bf16 [128, 64]\n"
                               ".sbuf   b  f32  [128, 4, 16]\n"
                               ".sbuf   u  uint8 [128, 40]\n"
                               ".psum   q  f32  [128, 32]\n"
                               "tensor_copy dst=a src=a\n"
                               "tensor_copy dst=a[0:32, 0:19] src=a[32:64, 5:62:3]\n"
                               "tensor_copy dst=b[:, 1:3, :] src=b[:, 0:2, :]\n"
                               "tensor_copy dst=b[:, :, 0:8] src=b[:, :, 8:16]\n"
                               "tensor_copy dst=u[:, 0:20] src=u[:, 1:40:2]\n"
                               "tensor_copy dst=q[:, 0:16] src=q[:, 16:32]\n"
                               "dma_copy dst=h[1:5, 10:74] src=b[0:4, :, :]\n"
                               "dma_copy dst=h[2:4, 0:64] src=h[6:8, 100:164]\n"
                               "dma_copy dst=a src=x\n";

/* Fills every memory of c with the same pseudo-random bytes, about one byte in 2000 never
 * written. */
static void scramble(trn_core *c, uint64_t seed) {
    for (int m = 0; m < TRN_MEM_COUNT; m++) {
        core_mem *cm = &c->mem[m];
        size_t n = (size_t)cm->parts * cm->part_bytes;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = test_rnd64(&seed);
            cm->data[i] = (uint8_t)r;
            cm->written[i] = (r >> 20) % 2000 == 0 ? 0 : cm->gen;
        }
    }
}

static int same_mems(const trn_core *a, const trn_core *b) {
    for (int m = 0; m < TRN_MEM_COUNT; m++) {
        size_t n = (size_t)a->mem[m].parts * a->mem[m].part_bytes;
        if (memcmp(a->mem[m].data, b->mem[m].data, n) ||
            memcmp(a->mem[m].written, b->mem[m].written, n))
            return 0;
    }
    return 1;
}

/* One load of view va (core A, fast) and vb (core B, reference): the same status, codes up to
 * the fault, fault message. Returns the status. */
static trn_status load_both(trn_core *A, trn_core *B, const core_view *va, const core_view *vb,
                            const char *what) {
    size_t n = (size_t)va->P * (size_t)va->F;
    uint32_t *x = calloc(n, sizeof *x), *y = calloc(n, sizeof *y);
    A->has_fault = B->has_fault = 0;
    trn_status sa = core_load_codes(A, va, x), sb = core_load_codes_ref(B, vb, y);
    CHECK_MSG(sa == sb, "%s: status %d vs %d", what, sa, sb);
    if (sa == TRN_OK && sb == TRN_OK)
        CHECK_MSG(memcmp(x, y, n * sizeof *x) == 0, "%s: codes differ", what);
    else
        CHECK_MSG(A->has_fault && B->has_fault && !strcmp(A->fault.msg, B->fault.msg),
                  "%s: fault '%s' vs '%s'", what, A->fault.msg, B->fault.msg);
    free(x);
    free(y);
    A->has_fault = B->has_fault = 0;
    return sa;
}

/* core_load_f32 / core_store_f32 (rows converted where they lie) on A against the codes path
 * element by element on B: core_load_codes_ref + trn_cvt_to_f32, core_encode +
 * core_store_codes_ref. */
static void f32_both(trn_core *A, trn_core *B, const core_view *va, const core_view *vb,
                     uint64_t *rs, const char *what) {
    if (va->t->packed || trn_dtype_is_int(va->t->dtype)) return;
    size_t n = (size_t)va->P * (size_t)va->F;
    float *x = calloc(n, sizeof *x), *y = calloc(n, sizeof *y);
    uint32_t *codes = calloc(n, sizeof *codes);
    A->has_fault = B->has_fault = 0;
    trn_status sa = core_load_f32(A, va, x), sb = core_load_codes_ref(B, vb, codes);
    for (size_t e = 0; sb == TRN_OK && e < n; e++) y[e] = trn_cvt_to_f32(vb->t->dtype, codes[e]);
    CHECK_MSG(sa == sb, "%s: f32 load status %d vs %d", what, sa, sb);
    if (sa == TRN_OK && sb == TRN_OK)
        CHECK_MSG(memcmp(x, y, n * sizeof *x) == 0, "%s: f32 values differ", what);
    else
        CHECK_MSG(!strcmp(A->fault.msg, B->fault.msg), "%s: fault '%s' vs '%s'", what, A->fault.msg,
                  B->fault.msg);
    A->has_fault = B->has_fault = 0;
    static const uint32_t special[] = {0x7fc00001u, 0xff800000u, 0x7f7fffffu, 0x80000001u,
                                       0x3f808000u, 0x3f818000u, 0x00000000u, 0x80000000u};
    for (size_t e = 0; e < n; e++) {
        uint64_t r = test_rnd64(rs);
        x[e] = r % 5 == 0 ? test_f32_from_bits(special[(r >> 8) % 8])
                          : test_f32_from_bits((uint32_t)(r >> 16));
    }
    uint64_t w0 = A->wcount;
    CHECK_EQ_INT(core_store_f32(A, va, x), TRN_OK);
    for (size_t e = 0; e < n; e++) codes[e] = core_encode(B, vb->t->dtype, x[e]);
    core_store_codes_ref(B, vb, codes);
    CHECK_MSG(same_mems(A, B), "%s: memories differ after the f32 stores", what);
    CHECK_EQ_INT(A->wcount - w0, n);
    CHECK_EQ_INT(A->wcount, B->wcount);
    free(x);
    free(y);
    free(codes);
}

static void test_load_store_paths(const trn_core_opts *opts) {
    trn_program *p = ct_prog(views_src, "views.tasm", 3);
    trn_core *A = ct_core(p, 3, opts), *B = ct_core(p, 3, opts);
    scramble(A, 11);
    scramble(B, 11);
    CHECK(same_mems(A, B));
    static const char *const keys[2] = {"src", "dst"};
    int faults = 0, linear_views = 0, hbm_runs = 0;
    uint64_t rs = 5;
    for (int i = 0; i < p->ninstrs; i++) {
        for (int k = 0; k < 2; k++) {
            A->cur = B->cur = i;
            core_view va, vb;
            CHECK_EQ_INT(core_view_arg(A, &p->instrs[i], keys[k], &va), TRN_OK);
            CHECK_EQ_INT(core_view_arg(B, &p->instrs[i], keys[k], &vb), TRN_OK);
            linear_views += va.lin != NULL || va.off == NULL;
            hbm_runs += va.off == NULL; /* an HBM view of consecutive elements, no offsets */
            char what[64];
            snprintf(what, sizeof what, "instruction %d %s", i, keys[k]);
            faults += load_both(A, B, &va, &vb, what) != TRN_OK;
            f32_both(A, B, &va, &vb, &rs, what);
            /* store random codes through both paths, then both load them back exactly */
            size_t n = (size_t)va.P * (size_t)va.F;
            uint32_t *codes = calloc(n, sizeof *codes), *back = calloc(n, sizeof *back);
            uint32_t mask = va.eb == 4 ? 0xffffffffu : (1u << (8 * va.eb)) - 1;
            for (size_t e = 0; e < n; e++) codes[e] = (uint32_t)test_rnd64(&rs) & mask;
            core_store_codes(A, &va, codes);
            core_store_codes_ref(B, &vb, codes);
            CHECK_MSG(same_mems(A, B), "%s: memories differ after the stores", what);
            CHECK_EQ_INT(core_load_codes(A, &va, back), TRN_OK);
            CHECK_MSG(memcmp(codes, back, n * sizeof *back) == 0, "%s: stored codes lost", what);
            /* the view narrowed to one partition and half its elements, as ops do to a copy */
            core_view na = va, nb = vb;
            na.p0 += va.P > 2 ? 2 : 0, nb.p0 = na.p0, na.P = nb.P = 1;
            na.F = nb.F = va.F > 1 ? va.F / 2 : 1;
            load_both(A, B, &na, &nb, what);
            f32_both(A, B, &na, &nb, &rs, what);
            /* re-pointed at reversed offsets (pool_kernels.c's gathered view): element-wise */
            int64_t *rev = calloc((size_t)va.F, sizeof *rev);
            for (int64_t f = 0; f < va.F; f++) rev[f] = core_view_off(&va, va.F - 1 - f);
            core_view ra = va, rb = vb;
            ra.off = rb.off = rev;
            load_both(A, B, &ra, &rb, what);
            f32_both(A, B, &ra, &rb, &rs, what);
            for (size_t e = 0; e < n; e++) codes[e] = (uint32_t)test_rnd64(&rs) & mask;
            core_store_codes(A, &ra, codes);
            core_store_codes_ref(B, &rb, codes);
            CHECK_MSG(same_mems(A, B), "%s: memories differ after reversed stores", what);
            free(rev);
            free(codes);
            free(back);
        }
    }
    CHECK(faults > 0);        /* the scattered holes were found by both paths */
    CHECK(linear_views >= 6); /* and the row-at-a-time path was taken */
    CHECK(hbm_runs >= 1);
    trn_core_destroy(A);
    trn_core_destroy(B);
    trn_program_destroy(p);
}

/* ---- conversions --------------------------------------------------------------------------- */

static void test_conversions(void) {
    /* decode: every BF16 code, and FP32 bit patterns including NaNs */
    static uint32_t codes[65536];
    static float got[65536];
    for (uint32_t i = 0; i < 65536; i++) codes[i] = i;
    core_decode_codes(TRN_DTYPE_BF16, codes, got, 65536);
    int bad = 0;
    for (uint32_t i = 0; i < 65536; i++)
        bad += test_f32_bits(got[i]) != test_f32_bits(trn_cvt_to_f32(TRN_DTYPE_BF16, i));
    CHECK_EQ_INT(bad, 0);
    for (uint32_t i = 0; i < 65536; i++) codes[i] = i * 65537u + (i & 7);
    core_decode_codes(TRN_DTYPE_F32, codes, got, 65536);
    bad = 0;
    for (uint32_t i = 0; i < 65536; i++)
        bad += test_f32_bits(got[i]) != test_f32_bits(trn_cvt_to_f32(TRN_DTYPE_F32, codes[i]));
    CHECK_EQ_INT(bad, 0);
    /* encode: every upper half with the lower halves at and around the rounding boundary */
    static const uint32_t lows[] = {0, 1, 0x7fff, 0x8000, 0x8001, 0xffff, 0x4000, 0xc123};
    enum { NL = sizeof lows / sizeof lows[0] };
    static float in[65536 * NL];
    static uint32_t out[65536 * NL];
    for (uint32_t h = 0; h < 65536; h++)
        for (int l = 0; l < NL; l++)
            in[h * NL + (uint32_t)l] = test_f32_from_bits(h << 16 | lows[l]);
    size_t n = 65536 * NL;
    core_encode_rne(TRN_DTYPE_BF16, in, out, n);
    bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += out[i] != trn_cvt_from_f32(TRN_DTYPE_BF16, in[i], &TRN_CVT_RNE, 0);
    CHECK_EQ_INT(bad, 0);
    core_encode_rne(TRN_DTYPE_F32, in, out, n);
    bad = 0;
    for (size_t i = 0; i < n; i++) bad += out[i] != test_f32_bits(in[i]);
    CHECK_EQ_INT(bad, 0);
    /* core_encode_f32s = core_encode element by element, for each rounding option, with the
     * SR counter where core_encode leaves it */
    trn_program *p = ct_prog(views_src, "views.tasm", 3);
    trn_core_opts opts[3] = {{TRN_ROUND_RNE, 0, 0}, {TRN_ROUND_SR, 77, 0}, {TRN_ROUND_RNE, 0, 1}};
    trn_dtype dts[4] = {TRN_DTYPE_BF16, TRN_DTYPE_F32, TRN_DTYPE_F16, TRN_DTYPE_FP8_E4M3};
    enum { M = 65536 };
    static uint32_t ref[M];
    for (int o = 0; o < 3; o++)
        for (int d = 0; d < 4; d++) {
            trn_core *a = ct_core(p, 3, &opts[o]), *b = ct_core(p, 3, &opts[o]);
            a->cur = b->cur = 5, a->wcount = b->wcount = 9;
            core_encode_f32s(a, dts[d], in + 1000, out, M);
            for (size_t i = 0; i < M; i++) ref[i] = core_encode(b, dts[d], in[1000 + i]);
            CHECK_MSG(memcmp(out, ref, sizeof ref) == 0, "encode option %d dtype %d", o, d);
            CHECK_EQ_INT(a->wcount, b->wcount);
            trn_core_destroy(a);
            trn_core_destroy(b);
        }
    trn_program_destroy(p);
}

/* ---- tensor binding ---------------------------------------------------------------------------
 */

static void test_tensor_io(void) {
    const char *src = ".kernel io\n"
                      ".input  a bf16 [3, 700]\n"
                      ".input  b f32  [2, 350]\n"
                      ".input  i int8 [50]\n"
                      ".output y bf16 [700]\n"
                      ".sbuf   t bf16 [1, 700]\n"
                      "dma_copy dst=t src=a[1:2, :]\n"
                      "dma_copy dst=y src=t[0, :]\n";
    trn_program *p = ct_prog(src, "io.tasm", 3);
    trn_core *c = ct_core(p, 3, NULL);
    enum { NA = 2100, NB = 700 };
    static double va[NA], vb[NB], back[NA];
    static const double special[] = {0.0,   -0.0,     1e39,      -1e39,      3.4e38,
                                     1e-40, -1e-45,   1.0 / 3,   65504.0,    NAN,
                                     -NAN,  INFINITY, -INFINITY, 1.00390625, 1.005859375};
    uint64_t s = 17;
    for (int i = 0; i < NA; i++)
        va[i] = i < 15 ? special[i] : ct_uniform(&s, -300, 300) * pow(2.0, i % 60 - 30);
    for (int i = 0; i < NB; i++) vb[i] = i < 15 ? special[i] : ct_uniform(&s, -5, 5) * 1e-3;
    ct_put(c, "a", va, NA);
    ct_put(c, "b", vb, NB);
    const trn_tensor *ta = &p->tensors[trn_core_tensor_find(c, "a")];
    const trn_tensor *tb = &p->tensors[trn_core_tensor_find(c, "b")];
    const core_mem *h = &c->mem[TRN_MEM_HBM];
    int bad = 0;
    for (int i = 0; i < NA; i++) {
        uint32_t want = trn_cvt_from_f32(TRN_DTYPE_BF16, (float)va[i], &TRN_CVT_RNE, 0);
        uint32_t code = h->data[ta->addr + 2 * (size_t)i] |
                        (uint32_t)h->data[ta->addr + 2 * (size_t)i + 1] << 8;
        bad += code != want;
    }
    for (int i = 0; i < NB; i++) {
        uint32_t code = 0;
        for (int k = 0; k < 4; k++)
            code |= (uint32_t)h->data[tb->addr + 4 * (size_t)i + k] << 8 * k;
        bad += code != test_f32_bits((float)vb[i]);
    }
    CHECK_EQ_INT(bad, 0);
    size_t un = 99;
    CHECK_EQ_INT(trn_core_tensor_read(c, trn_core_tensor_find(c, "a"), back, NA, &un, NULL),
                 TRN_OK);
    CHECK_EQ_INT(un, 0);
    bad = 0;
    for (int i = 0; i < NA; i++) {
        float want = trn_cvt_to_f32(
            TRN_DTYPE_BF16, trn_cvt_from_f32(TRN_DTYPE_BF16, (float)va[i], &TRN_CVT_RNE, 0));
        bad += memcmp(&back[i], &(double){(double)want}, sizeof(double)) != 0;
    }
    CHECK_EQ_INT(bad, 0);
    /* the output before the run: never written, read as 0 and counted */
    CHECK_EQ_INT(ct_get(c, "y", back, 700), 700);
    CHECK(back[0] == 0 && back[699] == 0);
    /* the int8 input was never given */
    trn_err err = {0};
    CHECK_EQ_INT(trn_core_run(c, &err), TRN_E_INVALID);
    CHECK(strstr(err.msg, "'i'") != NULL);
    trn_core_destroy(c);
    trn_program_destroy(p);
}

/* ---- reused cores -------------------------------------------------------------------------- */

/* The outcome of one run: status, fault message, instructions per engine, every HBM tensor. */
typedef struct outcome {
    trn_status s;
    char msg[TRN_FAULT_MSG_MAX + 64];
    uint64_t count[TRN_ENGINE_COUNT];
    double *vals;
    size_t n, unwritten;
} outcome;

static outcome run_on(trn_core *c, const trn_program *p, uint64_t seed, int bind) {
    outcome o;
    memset(&o, 0, sizeof o);
    if (bind) ct_bind_random(c, p, seed);
    trn_err err = {0};
    o.s = trn_core_run(c, &err);
    snprintf(o.msg, sizeof o.msg, "%s", o.s == TRN_OK ? "" : err.msg);
    for (int e = 0; e < TRN_ENGINE_COUNT; e++) o.count[e] = trn_core_instr_count(c, (trn_engine)e);
    for (int i = 0; i < p->ntensors; i++)
        if (p->tensors[i].mem == TRN_MEM_HBM)
            o.n += (size_t)(p->tensors[i].bytes / p->tensors[i].elem_bytes);
    o.vals = calloc(o.n ? o.n : 1, sizeof *o.vals);
    size_t at = 0;
    for (int i = 0; i < p->ntensors; i++) {
        const trn_tensor *t = &p->tensors[i];
        if (t->mem != TRN_MEM_HBM) continue;
        size_t n = 1, un = 0;
        for (int d = 0; d < t->rank; d++) n *= (size_t)t->shape[d];
        if (trn_core_tensor_read(c, i, o.vals + at, n, &un, NULL) == TRN_OK) o.unwritten += un;
        at += (size_t)(t->bytes / t->elem_bytes);
    }
    return o;
}

static int same_outcome(const outcome *a, const outcome *b) {
    return a->s == b->s && !strcmp(a->msg, b->msg) &&
           !memcmp(a->count, b->count, sizeof a->count) && a->n == b->n &&
           a->unwritten == b->unwritten && !memcmp(a->vals, b->vals, a->n * sizeof *a->vals);
}

/* p run on a fresh core against p run on `reused` after trn_core_reuse (hbm: the HBM owner, or
 * NULL). Returns the fresh outcome's status. */
static trn_status fresh_vs_reused(const trn_program *p, int ver, trn_core *reused, trn_core *hbm_a,
                                  trn_core *hbm_b, uint64_t seed, int bind, const char *what) {
    trn_core *f = NULL;
    trn_status s = hbm_a ? trn_core_create_shared(p, ct_target(ver), NULL, hbm_a, &f, NULL)
                         : trn_core_create(p, ct_target(ver), NULL, &f, NULL);
    CHECK_EQ_INT(s, TRN_OK);
    trn_err err = {0};
    CHECK_MSG(trn_core_reuse(reused, p, hbm_b, &err) == TRN_OK, "%s: %s", what, err.msg);
    outcome a = run_on(f, p, seed, bind), b = run_on(reused, p, seed, bind);
    CHECK_MSG(same_outcome(&a, &b), "%s: fresh '%s' (%d) vs reused '%s' (%d)", what, a.msg, a.s,
              b.msg, b.s);
    trn_status r = a.s;
    free(a.vals);
    free(b.vals);
    trn_core_destroy(f);
    return r;
}

static void test_examples_reused(void) {
    static const char *const names[] = {
        "add_manual",   "flash_attention", "gelu_mlp",   "layernorm",
        "matmul_fp8",   "matmul_fp8_ocp",  "matmul_mx",  "matmul_mxfp4",
        "matmul_mxfp8", "matmul_tiled",    "mlp_tile",   "rmsnorm",
        "softmax",      "spmd_add",        "tensor_add", "transpose"};
    enum { NN = sizeof names / sizeof names[0] };
    int ran = 0, ok = 0, done[NN] = {0};
    for (int ver = 3; ver <= 4; ver++) { /* v3, then on v4 the kernels v3 lacks (MX) */
        trn_program *progs[NN] = {0};
        for (int i = 0; i < NN; i++) {
            if (done[i]) continue;
            char path[128];
            snprintf(path, sizeof path, "examples/kernels/%s.tasm", names[i]);
            trn_asm_opts o = {0};
            o.core_version = ver;
            if (trn_program_assemble_file(path, &o, &progs[i], NULL) != TRN_OK ||
                trn_program_verify(progs[i], ct_target(ver), NULL) != TRN_OK) {
                trn_program_destroy(progs[i]);
                progs[i] = NULL;
            }
            done[i] = progs[i] != NULL;
        }
        trn_core *reused = NULL;
        /* forwards, then on v3 backwards: every layout follows a different one */
        for (int k = 0; k < (ver == 3 ? 2 : 1) * NN; k++) {
            int i = k < NN ? k : 2 * NN - 1 - k;
            if (!progs[i]) continue;
            if (!reused) reused = ct_core(progs[i], ver, NULL);
            char what[96];
            snprintf(what, sizeof what, "%s on v%d (pass %d)", names[i], ver, k / NN);
            ok += fresh_vs_reused(progs[i], ver, reused, NULL, NULL, 1000 + (uint64_t)k, 1, what) ==
                  TRN_OK;
            ran++;
        }
        trn_core_destroy(reused);
        for (int i = 0; i < NN; i++) trn_program_destroy(progs[i]);
    }
    CHECK(ran >= 28);      /* 15 kernels on v3 twice, matmul_mx once on v4 today */
    CHECK_EQ_INT(ok, ran); /* and run cleanly on these inputs */
}

/* W writes t (SBUF), q (PSUM) and y (HBM); each R reads one of them without writing it first. */
#define DECLS                                                                      \
    ".input  x f32 [128, 64]\n.output y f32 [128, 64]\n.sbuf pad f32 [128, 100]\n" \
    ".sbuf t f32 [128, 64]\n.psum q f32 [128, 64]\n"
static const char *w_src = ".kernel w\n" DECLS "dma_copy dst=t src=x\n"
                           "tensor_copy dst=q src=t\n"
                           "activation dst=t data=q op=exp\n"
                           "dma_copy dst=y src=t\n";
static const char *r_sbuf = ".kernel r_sbuf\n" DECLS "dma_copy dst=y src=t\n";
static const char *r_psum = ".kernel r_psum\n" DECLS "tensor_copy dst=t src=q\n";
static const char *r_hbm = ".kernel r_hbm\n" DECLS "dma_copy dst=t src=y\n";
/* the SBUF bytes of W's t (448 .. 703 of each partition) under another name */
static const char *r_shift = ".kernel r_shift\n.input x f32 [128, 64]\n.output y f32 [128, 64]\n"
                             ".sbuf t2 f32 [128, 176]\n.psum q f32 [128, 64]\n"
                             "dma_copy dst=y src=t2[:, 112:176]\n";

static void test_reuse_faults(void) {
    trn_program *w = ct_prog(w_src, "w.tasm", 3);
    trn_program *r[4] = {ct_prog(r_sbuf, "r_sbuf.tasm", 3), ct_prog(r_psum, "r_psum.tasm", 3),
                         ct_prog(r_hbm, "r_hbm.tasm", 3), ct_prog(r_shift, "r_shift.tasm", 3)};
    static const char *const what[4] = {"(sbuf partition 0 byte 448)", "(psum partition 0 byte 0)",
                                        "(hbm partition 0 byte 32768)",
                                        "(sbuf partition 0 byte 448)"};
    static const char *const name[4] = {"'t'", "'q'", "'y'", "'t2'"};
    trn_core *c = ct_core(w, 3, NULL);
    int faults = 0, good = 0;
    /* 300 rounds: the written shadow's generation wraps (255) on the way */
    for (int round = 0; round < 300; round++) {
        good += fresh_vs_reused(w, 3, c, NULL, NULL, (uint64_t)round, 1, "w") == TRN_OK;
        int k = round % 4;
        trn_core *f = ct_core(r[k], 3, NULL);
        outcome a = run_on(f, r[k], 1, 1);
        CHECK_EQ_INT(trn_core_reuse(c, r[k], NULL, NULL), TRN_OK);
        outcome b = run_on(c, r[k], 1, 1);
        CHECK_MSG(same_outcome(&a, &b), "round %d: fresh '%s' vs reused '%s'", round, a.msg, b.msg);
        faults += b.s == TRN_E_FAULT && strstr(b.msg, "uninitialized read") &&
                  strstr(b.msg, what[k]) && strstr(b.msg, name[k]);
        free(a.vals);
        free(b.vals);
        trn_core_destroy(f);
    }
    CHECK_EQ_INT(good, 300);
    CHECK_EQ_INT(faults, 300);
    /* 600 reuses: the generation went round 1..255 twice (1 + 600 mod 255) */
    CHECK_EQ_INT(c->mem[TRN_MEM_SBUF].gen, 91);
    /* a core runs once until reused */
    trn_err err = {0};
    CHECK_EQ_INT(trn_core_reuse(c, w, NULL, NULL), TRN_OK);
    outcome a = run_on(c, w, 3, 1);
    CHECK_EQ_INT(a.s, TRN_OK);
    CHECK_EQ_INT(trn_core_run(c, &err), TRN_E_INVALID);
    CHECK(strstr(err.msg, "once") != NULL);
    /* an input the previous run was given is not given to this one */
    CHECK_EQ_INT(trn_core_reuse(c, w, NULL, NULL), TRN_OK);
    outcome b = run_on(c, w, 3, 0);
    CHECK_EQ_INT(b.s, TRN_E_INVALID);
    CHECK(strstr(b.msg, "'x' was never given") != NULL);
    CHECK_EQ_INT(b.unwritten, b.n); /* nothing of the last run's HBM is left */
    free(a.vals);
    free(b.vals);
    /* a program too large for the target: create's error, and the core still reusable */
    trn_program big = *w;
    big.sbuf_bytes = ct_target(3)->sbuf_bytes_per_partition + 1;
    CHECK_EQ_INT(trn_core_reuse(c, &big, NULL, &err), TRN_E_INVALID);
    CHECK(strstr(err.msg, "SBUF") != NULL);
    CHECK(fresh_vs_reused(w, 3, c, NULL, NULL, 9, 1, "w after an error") == TRN_OK);

    /* a borrowed HBM: runs on it match fresh shared cores, a reuse does not clear it */
    trn_core *oa = ct_core(w, 3, NULL), *ob = ct_core(w, 3, NULL);
    ct_bind_random(oa, w, 42);
    ct_bind_random(ob, w, 42);
    CHECK(fresh_vs_reused(w, 3, c, oa, ob, 0, 0, "w on a borrowed HBM") == TRN_OK);
    double y[128 * 64];
    CHECK_EQ_INT(trn_core_reuse(c, w, NULL, NULL), TRN_OK); /* back to its own HBM */
    CHECK_EQ_INT(ct_get(c, "y", y, 128 * 64), 128 * 64);
    CHECK_EQ_INT(ct_get(ob, "y", y, 128 * 64), 0);
    /* r_hbm reads the y that w left in the borrowed HBM: no fault, on both */
    CHECK(fresh_vs_reused(r[2], 3, c, oa, ob, 0, 0, "r_hbm on a borrowed HBM") == TRN_OK);
    /* a mismatched layout is refused as trn_core_create_shared refuses it */
    trn_program *io = ct_prog(".kernel o\n.input z f32 [4]\n.output y f32 [4]\n.sbuf s f32 [4, 1]\n"
                              "dma_copy dst=s src=z[:]\ndma_copy dst=y[:] src=s\n",
                              "o.tasm", 3);
    CHECK_EQ_INT(trn_core_reuse(c, io, ob, &err), TRN_E_INVALID);
    CHECK(strstr(err.msg, "share one HBM layout") != NULL);
    CHECK(fresh_vs_reused(io, 3, c, NULL, NULL, 5, 1, "o after a refused reuse") == TRN_OK);
    trn_program_destroy(io);
    trn_core_destroy(oa);
    trn_core_destroy(ob);
    trn_core_destroy(c);
    trn_program_destroy(w);
    for (int k = 0; k < 4; k++) trn_program_destroy(r[k]);
}

/* ---- the runtime's work core ------------------------------------------------------------------
 */

typedef struct gen_out {
    int32_t tokens[4];
    float *logits;
    int64_t n;
    double ttft, tpot;
} gen_out;

static gen_out generate(trn_runtime *rt, const trn_run_model *rm, int cores) {
    gen_out g;
    memset(&g, 0, sizeof g);
    trn_run_opts o = {0};
    o.cores = cores;
    trn_run *run = NULL;
    trn_run_result res;
    trn_err err = {0};
    int32_t prompt[8];
    for (int i = 0; i < 8; i++) prompt[i] = i * 37 + 5;
    trn_status s =
        trn_run_create(trn_run_model_model(rm), trn_run_model_weights(rm), rt, &o, &run, &err);
    if (s == TRN_OK) s = trn_run_generate(run, prompt, 8, 3, NULL, 1, NULL, NULL, &res, &err);
    CHECK_MSG(s == TRN_OK, "generate: %s", err.msg);
    if (s == TRN_OK) {
        for (int i = 0; i < 3; i++) g.tokens[i] = res.tokens[i];
        g.n = res.steps * res.vocab;
        g.logits = malloc((size_t)g.n * sizeof *g.logits);
        memcpy(g.logits, res.logits, (size_t)g.n * sizeof *g.logits);
        g.ttft = res.ttft_ns, g.tpot = res.tpot_ns;
        trn_run_result_fini(&res);
    }
    trn_run_destroy(run);
    return g;
}

static int same_gen(const gen_out *a, const gen_out *b) {
    return a->n > 0 && a->n == b->n && !memcmp(a->tokens, b->tokens, sizeof a->tokens) &&
           !memcmp(a->logits, b->logits, (size_t)a->n * sizeof *a->logits) && a->ttft == b->ttft &&
           a->tpot == b->tpot;
}

static void test_runtime_work_core(void) {
    trn_hw *hw = NULL;
    trn_err err = {0};
    CHECK_EQ_INT(trn_hw_create(&hw, NULL), TRN_OK);
    trn_run_model *rm = NULL;
    CHECK_EQ_INT(trn_run_model_open("tiny-llama", 0, 0, &rm, &err), TRN_OK);
    trn_runtime *fresh = NULL, *work = NULL;
    CHECK_EQ_INT(trn_runtime_create(hw, "trn2", &fresh, &err), TRN_OK);
    CHECK_EQ_INT(trn_runtime_create(hw, "trn2", &work, &err), TRN_OK);
    trn_runtime_set_fresh_cores(fresh, 1);
    for (int cores = 1; cores <= 2; cores++) {
        gen_out a = generate(fresh, rm, cores), b = generate(work, rm, cores),
                c = generate(work, rm, cores);
        CHECK_MSG(same_gen(&a, &b), "tiny-llama on %d cores: the work core differs", cores);
        CHECK_MSG(same_gen(&b, &c), "tiny-llama on %d cores: not deterministic", cores);
        free(a.logits);
        free(b.logits);
        free(c.logits);
    }
    /* a binding error between two launches of the work core */
    enum { M = 7, N = 90 };
    static double x[M * N], z[M * N], y1[M * N], y2[M * N];
    uint64_t s = 9;
    for (int i = 0; i < M * N; i++) x[i] = ct_uniform(&s, -2, 2), z[i] = ct_uniform(&s, -2, 2);
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_ADD, op.m = M, op.n = N, op.dtype = TRN_DTYPE_BF16,
    op.out_dtype = TRN_DTYPE_F32;
    trn_binding in[2] = {{"a", x, M * N}, {"b", z, M * N}}, o1[1] = {{"y", y1, M * N}},
                o2[1] = {{"y", y2, M * N}}, bad[1] = {{"y", y2, M * N - 1}};
    CHECK_EQ_INT(trn_runtime_run(fresh, &op, in, 2, o1, 1, NULL, &err), TRN_OK);
    CHECK_EQ_INT(trn_runtime_run(work, &op, in, 2, bad, 1, NULL, &err), TRN_E_INVALID);
    CHECK_EQ_INT(trn_runtime_run(work, &op, in, 2, o2, 1, NULL, &err), TRN_OK);
    CHECK(memcmp(y1, y2, sizeof y1) == 0);
    int wrong = 0; /* and against a plain C sum of the BF16 inputs */
    for (int i = 0; i < M * N; i++)
        wrong += (float)y2[i] != ct_bf16((float)x[i]) + ct_bf16((float)z[i]);
    CHECK_EQ_INT(wrong, 0);
    trn_runtime_destroy(fresh);
    trn_runtime_destroy(work);
    trn_run_model_close(rm);
    trn_hw_destroy(hw);
}

int main(void) {
    trn_core_opts sr = {TRN_ROUND_SR, 99, 0}, sat = {TRN_ROUND_RNE, 0, 1};
    test_load_store_paths(NULL);
    test_load_store_paths(&sr);
    test_load_store_paths(&sat);
    test_conversions();
    test_tensor_io();
    test_examples_reused();
    test_reuse_faults();
    test_runtime_work_core();
    ct_done();
    return test_summary();
}

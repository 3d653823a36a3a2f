/* The byte-copy path of a same-dtype dma_copy (src/core/ops/dma.c) against its reference, the
 * code path (load codes, store codes; trn_core.dma_ref = 1), bit for bit:
 *   - random dma_copy instructions between SBUF (2-D and 3-D tiles, partition offsets) and HBM
 *     in every direction (HBM->SBUF, SBUF->HBM, SBUF->SBUF, HBM->HBM, a tensor onto itself,
 *     overlapping), contiguous and strided slices of different shapes holding the same element
 *     count, in bf16, f32, int8 and fp8_e4m3, and the indirect gather form (src_index, rows in
 *     and out of range), executed one by one on two cores that start with the same memories
 *     (pseudo-random bytes, a few never written): after every instruction the same status, the
 *     same fault message, every byte of SBUF, PSUM and HBM and of their written shadows equal;
 *   - every example kernel run on a fresh core both ways: the same status, message, instruction
 *     counts and memories, written shadows included;
 *   - a cross-core race on a shared HBM with the race check on: the same fault both ways.
 * LABELS: unit */
#include "core/core_impl.h"
#include "test_core_util.h"

static const char *const dtypes[] = {"bf16", "f32", "int8", "fp8_e4m3"};
enum { ND = 4, SP = 128, SW = 80, HR = 48, UI = 4, UJ = 20 };

/* Fills every memory of c with the same pseudo-random bytes, about one in `holes` never
 * written, with the written shadows' generation moved on to gen (as reuses do). */
static void scramble(trn_core *c, uint64_t seed, unsigned holes, uint8_t gen) {
    for (int m = 0; m < TRN_MEM_COUNT; m++) {
        core_mem *cm = &c->mem[m];
        while (cm->gen != gen) core_mem_clear(cm);
        size_t n = (size_t)cm->parts * cm->part_bytes;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = test_rnd64(&seed);
            cm->data[i] = (uint8_t)r;
            cm->written[i] = (r >> 20) % holes == 0 ? 0 : cm->gen;
        }
    }
}

static int same_mems(const trn_core *a, const trn_core *b) {
    for (int m = 0; m < TRN_MEM_COUNT; m++) {
        size_t n = (size_t)a->mem[m].parts * a->mem[m].part_bytes;
        if (a->mem[m].gen != b->mem[m].gen || memcmp(a->mem[m].data, b->mem[m].data, n) ||
            memcmp(a->mem[m].written, b->mem[m].written, n))
            return 0;
    }
    return 1;
}

static unsigned rnd(uint64_t *s, unsigned n) {
    return (unsigned)(test_rnd64(s) % n);
}

/* A legal first partition for r partitions (trainium-facts 2.4, as the verifier checks). */
static unsigned p_start(uint64_t *s, unsigned r) {
    return r > 64 ? 0 : r > 32 ? 64 * rnd(s, 2) : 32 * rnd(s, 4);
}

/* Appends "lo:hi[:step]" taking k of n indices (step 1 when k is large), at out. */
static int dim_slice(char *out, size_t cap, uint64_t *s, unsigned n, unsigned k) {
    unsigned step = 1 + rnd(s, 3);
    if ((k - 1) * step + 1 > n || rnd(s, 3) == 0) step = 1;
    unsigned start = rnd(s, n - ((k - 1) * step + 1) + 1);
    if (step == 1) return snprintf(out, cap, "%u:%u", start, start + k);
    return snprintf(out, cap, "%u:%u:%u", start, start + (k - 1) * step + 1, step);
}

/* The free part of a slice of `f` elements per row of tensor kind `kind` (0, 1: [., SW] 2-D;
 * 2: [., UI, UJ] 3-D), or 0 when f does not fit. */
static int free_slice(char *out, size_t cap, uint64_t *s, int kind, unsigned f) {
    if (kind < 2) {
        if (f > SW) return 0;
        return dim_slice(out, cap, s, SW, f);
    }
    for (unsigned i = UI; i >= 1; i--) {
        if (f % i || f / i > UJ) continue;
        int k = dim_slice(out, cap, s, UI, i);
        out[k++] = ',';
        out[k++] = ' ';
        return k + dim_slice(out + k, cap - (size_t)k, s, UJ, f / i);
    }
    return 0;
}

/* Side of a copy: tensor `name` (kinds 0..2 SBUF s, t, u; 3, 4 HBM g, h) of dtype d. Writes
 * "name_d[rows, free]" for r rows (partitions on chip) of f elements, or returns 0. */
static int operand(char *out, size_t cap, uint64_t *s, int kind, int d, unsigned r, unsigned f) {
    static const char names[] = "stugh";
    int onchip = kind < 3;
    if (r > (onchip ? SP : HR)) return 0;
    char fr[64];
    if (!free_slice(fr, sizeof fr, s, onchip ? kind : 0, f)) return 0;
    char rows[32];
    if (onchip) {
        unsigned p0 = p_start(s, r);
        snprintf(rows, sizeof rows, "%u:%u", p0, p0 + r);
    } else {
        dim_slice(rows, sizeof rows, s, HR, r);
    }
    return snprintf(out, cap, "%c_%s[%s, %s]", names[kind], dtypes[d], rows, fr);
}

/* A random dma_copy (or gather) line into out. */
static void random_copy(char *out, size_t cap, uint64_t *s) {
    for (;;) {
        int d = (int)rnd(s, ND);
        if (rnd(s, 6) == 0) { /* gather: partition p of dst gets row ix[p] of the src slice */
            unsigned P = 1 + rnd(s, 64), p0 = p_start(s, P), w = 1 + rnd(s, SW);
            unsigned nr = 1 + rnd(s, HR), r0 = rnd(s, HR - nr + 1), c0 = rnd(s, SW - w + 1);
            snprintf(out, cap,
                     "dma_copy dst=s_%s[%u:%u, 0:%u] src=%c_%s[%u:%u, %u:%u] "
                     "src_index=ix[%u:%u, :] engine=gpsimd\n",
                     dtypes[d], p0, p0 + P, w, rnd(s, 2) ? 'g' : 'h', dtypes[d], r0, r0 + nr, c0,
                     c0 + w, p0, p0 + P);
            return;
        }
        int ks = (int)rnd(s, 5), kd = (int)rnd(s, 5);
        unsigned r = 1 + rnd(s, ks < 3 ? SP : HR), f = 1 + rnd(s, ks == 2 ? UI * UJ : SW);
        unsigned n = r * f;
        char so[128], dop[128];
        if (!operand(so, sizeof so, s, ks, d, r, f)) continue;
        /* dst: another factorization of n */
        unsigned divs[256], nd = 0;
        for (unsigned q = 1; q <= n && nd < 256; q++)
            if (n % q == 0 && q <= (kd < 3 ? SP : HR) && n / q <= (kd == 2 ? UI * UJ : SW))
                divs[nd++] = q;
        if (!nd) continue;
        unsigned q = divs[rnd(s, nd)];
        if (!operand(dop, sizeof dop, s, kd, d, q, n / q)) continue;
        snprintf(out, cap, "dma_copy dst=%s src=%s\n", dop, so);
        return;
    }
}

/* One program of n random copies. */
static trn_program *random_prog(uint64_t seed, int n) {
    size_t cap = 512 + (size_t)n * 200;
    char *text = malloc(cap);
    size_t at = (size_t)snprintf(text, cap, ".kernel dmas\n.sbuf ix int32 [%d, 1]\n", SP);
    for (int d = 0; d < ND; d++)
        at += (size_t)snprintf(text + at, cap - at,
                               ".sbuf s_%s %s [%d, %d]\n.sbuf t_%s %s [%d, %d]\n"
                               ".sbuf u_%s %s [%d, %d, %d]\n.hbm g_%s %s [%d, %d]\n"
                               ".hbm h_%s %s [%d, %d]\n",
                               dtypes[d], dtypes[d], SP, SW, dtypes[d], dtypes[d], SP, SW,
                               dtypes[d], dtypes[d], SP, UI, UJ, dtypes[d], dtypes[d], HR, SW,
                               dtypes[d], dtypes[d], HR, SW);
    uint64_t s = seed;
    for (int i = 0; i < n; i++) random_copy(text + at, cap - at, &s), at += strlen(text + at);
    trn_program *p = ct_prog(text, "dmas.tasm", 4);
    free(text);
    return p;
}

/* Writes row indexes into ix (mostly in range of every gather's slice, some up to 52). */
static void set_index(trn_core *c, uint64_t seed) {
    const trn_tensor *t = &c->p->tensors[0];
    core_mem *m = &c->mem[TRN_MEM_SBUF];
    for (uint32_t p = 0; p < SP; p++) {
        uint32_t v = rnd(&seed, 8) == 0 ? rnd(&seed, HR + 5) : rnd(&seed, 2);
        uint8_t *d = m->data + (uint64_t)p * m->part_bytes + t->addr;
        for (int b = 0; b < 4; b++) d[b] = (uint8_t)(v >> (8 * b));
        memset(m->written + (uint64_t)p * m->part_bytes + t->addr, m->gen, 4);
    }
}

static void test_random_copies(void) {
    int faults = 0, ok = 0, gathers = 0, fast_before = 0;
    for (int round = 0; round < 6; round++) {
        enum { N = 150 };
        trn_program *p = random_prog(77 + (uint64_t)round, N);
        trn_core *A = ct_core(p, 4, NULL), *B = ct_core(p, 4, NULL);
        unsigned holes = round % 2 ? 3000 : 60000; /* dense holes: most copies fault */
        uint8_t gen = (uint8_t)(1 + 50 * round);   /* 1, 51, ..., 251 */
        scramble(A, 5 + (uint64_t)round, holes, gen);
        scramble(B, 5 + (uint64_t)round, holes, gen);
        set_index(A, (uint64_t)round);
        set_index(B, (uint64_t)round);
        B->dma_ref = 1;
        CHECK(same_mems(A, B));
        for (int i = 0; i < p->ninstrs; i++) {
            A->cur = B->cur = i;
            A->has_fault = B->has_fault = 0;
            uint64_t fa = A->dma_fast;
            trn_status sa = core_op_dma_copy(A, &p->instrs[i]);
            trn_status sb = core_op_dma_copy(B, &p->instrs[i]);
            core_tmp_reset(A);
            core_tmp_reset(B);
            CHECK_MSG(sa == sb, "instruction %d (line %u): status %d vs %d", i, p->instrs[i].line,
                      sa, sb);
            CHECK_EQ_INT(A->has_fault, B->has_fault);
            if (A->has_fault && B->has_fault)
                CHECK_MSG(!strcmp(A->fault.msg, B->fault.msg), "instruction %d: '%s' vs '%s'", i,
                          A->fault.msg, B->fault.msg);
            CHECK_MSG(same_mems(A, B), "instruction %d (line %u): memories differ", i,
                      p->instrs[i].line);
            faults += sa != TRN_OK;
            ok += sa == TRN_OK;
            fast_before += A->dma_fast > fa && sa != TRN_OK; /* a gather faulting late */
            gathers += core_arg(A, &p->instrs[i], "src_index") != NULL;
        }
        CHECK(A->dma_fast > 0);
        CHECK_EQ_INT(B->dma_fast, 0);
        trn_core_destroy(A);
        trn_core_destroy(B);
        trn_program_destroy(p);
    }
    /* both outcomes were seen many times, gathers among them */
    CHECK(faults >= 50);
    CHECK(ok >= 300);
    CHECK(gathers >= 60);
    CHECK(fast_before >= 1);
}

/* ---- whole kernels ------------------------------------------------------------------------ */

/* p on a fresh core, with the byte path (ref 0) or the code path (ref 1). */
static trn_core *run_kernel(const trn_program *p, int ver, int ref, trn_status *s, char *msg,
                            size_t cap) {
    trn_core *c = ct_core(p, ver, NULL);
    c->dma_ref = ref;
    ct_bind_random(c, p, 99);
    trn_err err = {0};
    *s = trn_core_run(c, &err);
    snprintf(msg, cap, "%s", *s == TRN_OK ? "" : err.msg);
    return c;
}

static void test_example_kernels(void) {
    static const char *const names[] = {
        "add_manual",   "flash_attention", "gelu_mlp",   "layernorm",
        "matmul_fp8",   "matmul_fp8_ocp",  "matmul_mx",  "matmul_mxfp4",
        "matmul_mxfp8", "matmul_tiled",    "mlp_tile",   "rmsnorm",
        "softmax",      "spmd_add",        "tensor_add", "transpose"};
    enum { NN = sizeof names / sizeof names[0] };
    int ran = 0;
    uint64_t fast = 0;
    for (int i = 0; i < NN; i++) {
        for (int ver = 3; ver <= 4; ver++) {
            char path[128];
            snprintf(path, sizeof path, "examples/kernels/%s.tasm", names[i]);
            trn_asm_opts o = {0};
            o.core_version = ver;
            trn_program *p = NULL;
            if (trn_program_assemble_file(path, &o, &p, NULL) != TRN_OK ||
                trn_program_verify(p, ct_target(ver), NULL) != TRN_OK) {
                trn_program_destroy(p);
                continue;
            }
            trn_status sa, sb;
            char ma[512], mb[512];
            trn_core *A = run_kernel(p, ver, 0, &sa, ma, sizeof ma);
            trn_core *B = run_kernel(p, ver, 1, &sb, mb, sizeof mb);
            CHECK_MSG(sa == sb && !strcmp(ma, mb), "%s v%d: '%s' vs '%s'", names[i], ver, ma, mb);
            CHECK_MSG(sa == TRN_OK, "%s v%d: %s", names[i], ver, ma);
            for (int e = 0; e < TRN_ENGINE_COUNT; e++)
                CHECK_EQ_INT(trn_core_instr_count(A, (trn_engine)e),
                             trn_core_instr_count(B, (trn_engine)e));
            CHECK_MSG(same_mems(A, B), "%s v%d: memories differ", names[i], ver);
            CHECK_EQ_INT(B->dma_fast, 0);
            fast += A->dma_fast;
            ran++;
            trn_core_destroy(A);
            trn_core_destroy(B);
            trn_program_destroy(p);
            break; /* the first version that takes it */
        }
    }
    CHECK_EQ_INT(ran, NN);
    CHECK(fast >= NN); /* every kernel loads or stores through the byte path */
}

/* ---- the race check ----------------------------------------------------------------------- */

static const char *race_src = ".kernel race\n.input x f32 [128, 64]\n.output y f32 [128, 64]\n"
                              ".sbuf t f32 [128, 64]\n"
                              "dma_copy dst=t src=x\n"
                              "dma_copy dst=y src=t\n"
                              "dma_copy dst=t src=y\n";

/* Core 0 runs the kernel, then core 1 (sharing its HBM, no barrier) does: its write of y races
 * with core 0's. Returns core 1's message. */
static void race_run(const trn_program *p, int ref, char *msg, size_t cap) {
    trn_core *c0 = ct_core(p, 3, NULL), *c1 = NULL;
    CHECK_EQ_INT(trn_core_create_shared(p, ct_target(3), NULL, c0, &c1, NULL), TRN_OK);
    trn_hbm_race *r = NULL;
    CHECK_EQ_INT(trn_hbm_race_create(c0->mem[TRN_MEM_HBM].part_bytes, 2, &r, NULL), TRN_OK);
    trn_core_attach_race(c0, r, 0);
    trn_core_attach_race(c1, r, 1);
    c0->dma_ref = c1->dma_ref = ref;
    ct_bind_random(c0, p, 3);
    trn_err err = {0};
    CHECK_EQ_INT(trn_core_run(c0, &err), TRN_OK);
    CHECK_EQ_INT(trn_core_run(c1, &err), TRN_E_FAULT);
    snprintf(msg, cap, "%s", err.msg);
    CHECK_EQ_INT(c0->dma_fast + c1->dma_fast, 0); /* the race check sees every access */
    trn_core_destroy(c1);
    trn_core_destroy(c0);
    trn_hbm_race_destroy(r);
}

static void test_race(void) {
    trn_program *p = ct_prog(race_src, "race.tasm", 3);
    char a[512], b[512];
    race_run(p, 0, a, sizeof a);
    race_run(p, 1, b, sizeof b);
    CHECK_MSG(!strcmp(a, b), "'%s' vs '%s'", a, b);
    CHECK(strstr(a, "race: core 1 writes HBM tensor 'y' byte 0, written by core 0") != NULL);
    trn_program_destroy(p);
}

int main(void) {
    test_random_copies();
    test_example_kernels();
    test_race();
    ct_done();
    return test_summary();
}

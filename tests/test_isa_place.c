/* Explicit placement of on-chip tiles (`offset=` on .sbuf and .psum): the placement rule of
 * unplaced tiles around placed ones, the alignment and bank rules and the verifier's memory
 * bound (errors with file:line:col naming the limit), aliasing (tiles sharing bytes), the
 * disassembly and .tprog round trip, a .tprog whose placed tile was moved off its alignment
 * (rejected), and the scheduler on aliased tiles: a write to one tile waits for an earlier
 * read of another that shares its bytes (WAR), a tile aliasing two others depends on both,
 * with the functional results equal to a plain C reference.
 * LABELS: unit */
#include "harness.h"
#include "isa/isa_impl.h"
#include "test_core_util.h"
#include "trnsim/timing.h"

static trn_status assemble(const char *text, trn_program **p, trn_err *e) {
    trn_asm_opts o = {0};
    o.core_version = 3;
    memset(e, 0, sizeof *e);
    return trn_program_assemble(text, "k.tasm", &o, p, e);
}

static const trn_tensor *tensor(const trn_program *p, const char *name) {
    for (int i = 0; i < p->ntensors; i++)
        if (!strcmp(p->tensors[i].name, name)) return &p->tensors[i];
    return NULL;
}

static void expect_asm_error(const char *text, const char *want) {
    trn_program *p = NULL;
    trn_err e;
    trn_status s = assemble(text, &p, &e);
    CHECK_MSG(s == TRN_E_PARSE, "expected a parse error for:\n%s(got %d)", text, (int)s);
    CHECK_CONTAINS(e.msg, want);
    trn_program_destroy(p);
}

#define PLACED                                                                         \
    ".kernel k\n"                                                                      \
    ".sbuf a f32 [128, 16]\n"                 /* 64 B: unplaced, at 0 */               \
    ".sbuf b f32 [128, 512] offset=4096\n"    /* 2048 B at 4096 */                     \
    ".sbuf c f32 [128, 3]\n"                  /* 12 B: above every end so far: 6144 */ \
    ".sbuf d bf16 [128, 64] offset=0\n"       /* 128 B over a and the gap after it */  \
    ".psum p f32 [128, 512] offset=2048\n"    /* bank 1 */                             \
    ".psum q f32 [128, 16]\n"                 /* unplaced: 4096 */                     \
    ".psum r f32 [128, 2, 512] offset=4096\n" /* two banks from bank 2: aliases q */   \
    "memset dst=a value=1.0\n"

static void test_placement(void) {
    trn_program *p = NULL;
    trn_err e;
    CHECK_MSG(assemble(PLACED, &p, &e) == TRN_OK, "%s", e.msg);
    if (!p) return;
    static const struct {
        const char *name;
        uint64_t addr, bytes;
        int placed;
    } want[] = {{"a", 0, 64, 0},      {"b", 4096, 2048, 1}, {"c", 6144, 12, 0},  {"d", 0, 128, 1},
                {"p", 2048, 2048, 1}, {"q", 4096, 64, 0},   {"r", 4096, 4096, 1}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const trn_tensor *t = tensor(p, want[i].name);
        CHECK(t != NULL);
        if (!t) continue;
        CHECK_MSG(t->addr == want[i].addr, "%s at %llu, expected %llu", t->name,
                  (unsigned long long)t->addr, (unsigned long long)want[i].addr);
        CHECK_EQ_INT(t->bytes, want[i].bytes);
        CHECK_EQ_INT(t->placed, want[i].placed);
    }
    CHECK_EQ_INT(p->sbuf_bytes, 6144 + 12); /* the highest end */
    CHECK_EQ_INT(p->psum_bytes, 4096 + 4096);
    CHECK_EQ_INT(trn_program_verify(p, ct_target(3), &e), TRN_OK);
    /* disassembly: offset= exactly for the placed tiles, and the same bytes back */
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    trn_program_disasm(p, f);
    fclose(f);
    CHECK_CONTAINS(text, ".sbuf   b f32 [128, 512] offset=4096");
    CHECK_CONTAINS(text, ".psum   r f32 [128, 2, 512] offset=4096");
    CHECK(strstr(text, ".sbuf   a f32 [128, 16]  #") != NULL);
    trn_program *q = NULL;
    void *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    CHECK_EQ_INT(trn_program_assemble(text, "disasm.tasm", NULL, &q, &e), TRN_OK);
    CHECK_EQ_INT(trn_program_to_tprog(p, &b1, &n1, &e), TRN_OK);
    if (q) CHECK_EQ_INT(trn_program_to_tprog(q, &b2, &n2, &e), TRN_OK);
    CHECK(b1 && b2 && n1 == n2 && !memcmp(b1, b2, n1));
    /* .tprog: loads back with the flags; then d's offset moved to 32 (checksum fixed up) is
     * rejected as a tile not where the placement rules put it */
    trn_program *l = NULL;
    CHECK_MSG(trn_program_from_tprog(b1, n1, "p.tprog", &l, &e) == TRN_OK, "%s", e.msg);
    if (l) {
        CHECK_EQ_INT(tensor(l, "d")->placed, 1);
        CHECK_EQ_INT(tensor(l, "d")->addr, 0);
        CHECK_EQ_INT(tensor(l, "c")->placed, 0);
        CHECK_EQ_INT(tensor(l, "r")->addr, 4096);
    }
    trn_program_destroy(l);
    l = NULL;
    uint8_t *d = b1;
    /* tensor record of d: u32 length 1, 'd', u8 mem, role, dtype, flags, rank, 2 x i64 shape,
     * then the u64 address */
    size_t at = 0;
    for (size_t i = 32; i + 6 < n1 && !at; i++)
        if (d[i] == 1 && d[i + 1] == 0 && d[i + 2] == 0 && d[i + 3] == 0 && d[i + 4] == 'd' &&
            d[i + 8] == 2 && d[i + 9] == 2)
            at = i + 5 + 5 + 16;
    CHECK(at != 0);
    if (at) {
        CHECK_EQ_INT(d[at], 0);
        d[at] = 32;
        uint32_t sum = isa_fnv1a(d + 32, n1 - 32);
        for (int i = 0; i < 4; i++) d[24 + i] = (uint8_t)(sum >> (8 * i));
        CHECK_EQ_INT(trn_program_from_tprog(b1, n1, "p.tprog", &l, &e), TRN_E_PARSE);
        CHECK_CONTAINS(e.msg, "p.tprog");
        CHECK_CONTAINS(e.msg, "'d'");
        CHECK(l == NULL);
    }
    trn_program_destroy(l);
    free(b1);
    free(b2);
    free(text);
    trn_program_destroy(q);
    trn_program_destroy(p);
}

static void test_errors(void) {
    expect_asm_error(".sbuf a f32 [128, 16] offset=100\n",
                     "k.tasm:1:30: offset 100 of 'a' is not a multiple of the 64-byte alignment");
    expect_asm_error(".psum p f32 [128, 32] offset=1984\n",
                     "k.tasm:1:30: offset 1984 of 'p' (128 bytes) straddles a 2048-byte PSUM "
                     "bank");
    expect_asm_error(".psum p f32 [128, 1024] offset=1024\n",
                     "k.tasm:1:32: offset 1024 of 'p' (4096 bytes, more than a 2048-byte PSUM "
                     "bank) does not start on a bank");
    expect_asm_error(".sbuf a f32 [128, 16] offset=0 - 64\n", "k.tasm:1:30: offset -64 of 'a' "
                                                              "is negative");
    expect_asm_error(".input x f32 [128, 16] offset=0\n",
                     "k.tasm:1:24: offset= places .sbuf and .psum tiles only, not .input");
    expect_asm_error(".sbuf a f32 [128, 16] offset 64\n", "k.tasm:1:30: expected '=' after offset");
    expect_asm_error(".sbuf a f32 [128, 16] offset=1125899906842624\n",
                     "k.tasm:1:30: offset 1125899906842624 of 'a' is out of range");
    expect_asm_error(".sbuf a f32 [128, 16] place=0\n", "k.tasm:1:23: unexpected 'place'");
    /* the memory bound is the verifier's (the target's bytes per partition) */
    const trn_isa_target *t = ct_target(3);
    uint64_t cap = t->sbuf_bytes_per_partition;
    char text[256], want[256];
    trn_program *p = NULL;
    trn_err e;
    snprintf(text, sizeof text, ".sbuf a f32 [128, 16]\n.sbuf b f32 [128, 512] offset=%llu\n",
             (unsigned long long)(cap - 2048));
    CHECK_EQ_INT(assemble(text, &p, &e), TRN_OK);
    if (p) CHECK_MSG(trn_program_verify(p, t, &e) == TRN_OK, "%s", e.msg); /* ends at cap */
    trn_program_destroy(p);
    p = NULL;
    snprintf(text, sizeof text, ".sbuf a f32 [128, 16]\n.sbuf b f32 [128, 512] offset=%llu\n",
             (unsigned long long)(cap - 1024));
    CHECK_EQ_INT(assemble(text, &p, &e), TRN_OK);
    if (p) {
        CHECK_EQ_INT(trn_program_verify(p, t, &e), TRN_E_INVALID);
        snprintf(want, sizeof want,
                 "k.tasm:2:1: SBUF overflow: tensor 'b' at offset=%llu (2048 bytes) ends at "
                 "byte %llu of each partition; %s has %llu",
                 (unsigned long long)(cap - 1024), (unsigned long long)(cap + 1024), t->name,
                 (unsigned long long)cap);
        CHECK_CONTAINS(e.msg, want);
    }
    trn_program_destroy(p);
    p = NULL;
    snprintf(text, sizeof text, ".psum a f32 [128, 512] offset=%llu\n",
             (unsigned long long)t->psum_bytes_per_partition);
    CHECK_EQ_INT(assemble(text, &p, &e), TRN_OK);
    if (p) {
        CHECK_EQ_INT(trn_program_verify(p, t, &e), TRN_E_INVALID);
        CHECK_CONTAINS(e.msg, "k.tasm:1:1: PSUM overflow: tensor 'a' at offset=");
    }
    trn_program_destroy(p);
}

/* Functional run of p (verified for v3) with inputs x, z; outputs y, w. */
static void run_core(const trn_program *p, const double *x, const double *z, double *y, double *w,
                     int n) {
    trn_core *c = ct_core(p, 3, NULL);
    ct_put(c, "x", x, (size_t)n);
    ct_put(c, "z", z, (size_t)n);
    trn_err e = {0};
    CHECK_MSG(trn_core_run(c, &e) == TRN_OK, "%s", e.msg);
    CHECK_EQ_INT(ct_get(c, "y", y, (size_t)n), 0);
    CHECK_EQ_INT(ct_get(c, "w", w, (size_t)n), 0);
    trn_core_destroy(c);
}

static int has_wait(const trn_timing_instr *in, int i, int on, int kind) {
    for (int k = 0; k < in[i].nwaits; k++)
        if (in[i].waits[k].instr == on && (in[i].waits[k].kinds & kind)) return 1;
    return 0;
}

/* b reuses a's bytes after a's last read: y = 2x through a, w = z + 1 through b */
#define ALIAS_BODY(BPLACE)                                                                         \
    ".kernel alias\n.input x f32 [128, 512]\n.input z f32 [128, 512]\n"                            \
    ".output y f32 [128, 512]\n.output w f32 [128, 512]\n"                                         \
    ".sbuf a f32 [128, 512] offset=0\n.sbuf b f32 [128, 512]" BPLACE "\n"                          \
    ".sbuf c f32 [128, 512] offset=8192\n.sbuf e f32 [128, 512] offset=12288\n"                    \
    "dma_copy dst=a src=x\n"                                          /* 0 */                      \
    "tensor_scalar dst=c data=a op0=multiply operand0=2.0\n"          /* 1: reads a */             \
    "dma_copy dst=y src=c\n"                                          /* 2 */                      \
    "dma_copy dst=b src=z\n"                                          /* 3: WAR on 1 if aliased */ \
    "tensor_scalar dst=e data=b op0=add operand0=1.0 engine=gpsimd\n" /* 4 */                      \
    "dma_copy dst=w src=e\n"                                          /* 5 */

static void test_alias_war(void) {
    enum { N = 128 * 512 };
    static double x[N], z[N], y[N], w[N];
    uint64_t s = 7;
    (void)ct_target(3);
    for (int i = 0; i < N; i++) x[i] = ct_uniform(&s, -100, 100), z[i] = ct_uniform(&s, -100, 100);
    const trn_hw_core *core = trn_hw_core_get(ct_hw_, "v3");
    for (int aliased = 1; aliased >= 0; aliased--) {
        trn_program *p =
            ct_prog(aliased ? ALIAS_BODY(" offset=0") : ALIAS_BODY(" offset=4096"), "a.tasm", 3);
        CHECK_EQ_INT(tensor(p, "b")->addr, aliased ? 0 : 4096);
        run_core(p, x, z, y, w, N);
        int bad = 0;
        for (int i = 0; i < N; i++) {
            float xf = (float)x[i], zf = (float)z[i];
            bad += test_f32_bits((float)y[i]) != test_f32_bits(xf * 2.0f);
            bad += test_f32_bits((float)w[i]) != test_f32_bits(zf + 1.0f);
        }
        CHECK_EQ_INT(bad, 0);
        trn_timing *tm = NULL;
        trn_err e = {0};
        CHECK_MSG(trn_timing_run(p, core, NULL, NULL, &tm, &e) == TRN_OK, "%s", e.msg);
        if (tm) {
            int n = 0;
            const trn_timing_instr *in = trn_timing_instrs(tm, &n);
            CHECK_EQ_INT(n, 6);
            /* the load into b waits for the read of a only when they share bytes, and then
             * starts after that read ends */
            CHECK_EQ_INT(has_wait(in, 3, 1, TRN_DEP_WAR), aliased);
            if (aliased) CHECK(in[3].start_ns >= in[1].end_ns);
            CHECK(has_wait(in, 4, 3, TRN_DEP_RAW));
            CHECK(has_wait(in, 1, 0, TRN_DEP_RAW));
        }
        trn_timing_destroy(tm);
        trn_program_destroy(p);
    }
}

/* c aliases both a and b (which do not overlap each other): reading c depends on both
 * writes (the scheduler joins the three into one region) */
static void test_alias_two(void) {
    const char *text = ".kernel two\n.input x f32 [128, 512]\n.output y f32 [128, 1024]\n"
                       ".sbuf a f32 [128, 512] offset=0\n.sbuf b f32 [128, 512] offset=2048\n"
                       ".sbuf c f32 [128, 1024] offset=0\n.sbuf d f32 [128, 1024] offset=4096\n"
                       "dma_copy dst=a src=x\n"                            /* 0 */
                       "tensor_scalar dst=a data=a op0=add operand0=1.0\n" /* 1 */
                       "tensor_scalar dst=b data=a op0=multiply operand0=3.0 engine=gpsimd\n"
                       "activation dst=d data=c op=copy\n" /* 3: reads a and b through c */
                       "dma_copy dst=y src=d\n";
    trn_program *p = ct_prog(text, "two.tasm", 3);
    const trn_hw_core *core = trn_hw_core_get(ct_hw_, "v3");
    trn_timing *tm = NULL;
    trn_err e = {0};
    CHECK_MSG(trn_timing_run(p, core, NULL, NULL, &tm, &e) == TRN_OK, "%s", e.msg);
    if (tm) {
        int n = 0;
        const trn_timing_instr *in = trn_timing_instrs(tm, &n);
        CHECK(has_wait(in, 3, 1, TRN_DEP_RAW)); /* a, on VectorE */
        CHECK(has_wait(in, 3, 2, TRN_DEP_RAW)); /* b, on GpSimd */
        CHECK(in[3].start_ns >= in[2].end_ns);
    }
    trn_timing_destroy(tm);
    enum { N = 128 * 512 };
    static double x[N], y[2 * N];
    uint64_t s = 9;
    for (int i = 0; i < N; i++) x[i] = ct_uniform(&s, -50, 50);
    trn_core *c = ct_core(p, 3, NULL);
    ct_put(c, "x", x, N);
    CHECK_MSG(trn_core_run(c, &e) == TRN_OK, "%s", e.msg);
    CHECK_EQ_INT(ct_get(c, "y", y, 2 * N), 0);
    int bad = 0;
    for (int r = 0; r < 128; r++)
        for (int j = 0; j < 512; j++) {
            float a1 = (float)x[r * 512 + j] + 1.0f;
            bad += test_f32_bits((float)y[r * 1024 + j]) != test_f32_bits(a1);
            bad += test_f32_bits((float)y[r * 1024 + 512 + j]) != test_f32_bits(a1 * 3.0f);
        }
    CHECK_EQ_INT(bad, 0);
    trn_core_destroy(c);
    trn_program_destroy(p);
}

int main(void) {
    test_placement();
    test_errors();
    test_alias_war();
    test_alias_two();
    ct_done();
    return test_summary();
}

/* .tprog: every example round-trips through the binary format byte for byte and field for
 * field; the loader rejects a wrong magic, a future version, a checksum mismatch, truncation,
 * trailing bytes and inconsistent content (with a valid checksum), naming the file; random
 * corruption never crashes it.
 * LABELS: unit */
#include "harness.h"
#include "isa_test_util.h"

static const char *examples[] = {"tensor_add", "mlp_tile",  "matmul_tiled", "softmax",
                                 "rmsnorm",    "transpose", "add_manual",   "matmul_mx"};

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
/* Recomputes the header checksum after an edit of the payload. */
static void reseal(uint8_t *d, size_t n) {
    put32(d + 24, isa_fnv1a(d + 32, n - 32));
}

static trn_status load(const void *d, size_t n, trn_err *e) {
    trn_program *p = NULL;
    memset(e, 0, sizeof *e);
    trn_status s = trn_program_from_tprog(d, n, "x.tprog", &p, e);
    CHECK((s == TRN_OK) == (p != NULL));
    trn_program_destroy(p);
    return s;
}

static void test_roundtrips(void) {
    for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "examples/kernels/%s.tasm", examples[i]);
        trn_program *p = NULL, *q = NULL;
        trn_err e = {0};
        CHECK_EQ_INT(trn_program_assemble_file(path, NULL, &p, &e), TRN_OK);
        if (!p) continue;
        void *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        CHECK_EQ_INT(trn_program_to_tprog(p, &a, &na, &e), TRN_OK);
        CHECK_EQ_INT(trn_program_from_tprog(a, na, path, &q, &e), TRN_OK);
        if (q) {
            CHECK(!strcmp(q->name, p->name) && !strcmp(q->source_path, p->source_path));
            CHECK_EQ_INT(q->ninstrs, p->ninstrs);
            CHECK_EQ_INT(q->ntensors, p->ntensors);
            CHECK_EQ_INT(q->sbuf_bytes, p->sbuf_bytes);
            CHECK_EQ_INT(q->core_version, p->core_version);
            for (int k = 0; k < p->ninstrs; k++) {
                const trn_instr *x = &p->instrs[k], *y = &q->instrs[k];
                CHECK(x->op == y->op && x->engine == y->engine && x->line == y->line &&
                      x->col == y->col && x->nargs == y->nargs && x->nwait == y->nwait);
                for (uint32_t j = 0; j < x->nargs; j++) {
                    const trn_operand *u = &p->args[x->arg0 + j], *v = &q->args[y->arg0 + j];
                    CHECK(u->key == v->key && u->kind == v->kind);
                    if (u->kind == TRN_ARG_AP_IN || u->kind == TRN_ARG_AP_OUT)
                        CHECK(u->u.ap.offset == v->u.ap.offset &&
                              u->u.ap.part_count == v->u.ap.part_count &&
                              trn_ap_elems(&u->u.ap) == trn_ap_elems(&v->u.ap));
                }
            }
            CHECK_EQ_INT(trn_program_to_tprog(q, &b, &nb, &e), TRN_OK);
            CHECK(na == nb && memcmp(a, b, na) == 0);
            CHECK(test_roundtrip(q));
        }
        /* files */
        CHECK_EQ_INT(trn_program_write_tprog(p, "test_isa_tprog.tmp", &e), TRN_OK);
        trn_program *r = NULL;
        CHECK_EQ_INT(trn_program_read_tprog("test_isa_tprog.tmp", &r, &e), TRN_OK);
        CHECK(r && r->ninstrs == p->ninstrs);
        trn_program_destroy(r);
        free(a);
        free(b);
        trn_program_destroy(p);
        trn_program_destroy(q);
    }
    remove("test_isa_tprog.tmp");
    trn_program *r = NULL;
    trn_err e = {0};
    CHECK_EQ_INT(trn_program_read_tprog("no/such.tprog", &r, &e), TRN_E_IO);
    CHECK_CONTAINS(e.msg, "no/such.tprog");
}

static void test_rejections(void) {
    trn_program *p = NULL;
    trn_err e = {0};
    CHECK_EQ_INT(trn_program_assemble_file("examples/kernels/add_manual.tasm", NULL, &p, &e),
                 TRN_OK);
    if (!p) return;
    uint8_t *d = NULL;
    size_t n = 0;
    CHECK_EQ_INT(trn_program_to_tprog(p, (void **)&d, &n, &e), TRN_OK);
    trn_program_destroy(p);
    uint8_t *c = malloc(n + 8);
    CHECK_EQ_INT(load(d, n, &e), TRN_OK);
    /* magic */
    memcpy(c, d, n);
    c[0] = 'X';
    CHECK_EQ_INT(load(c, n, &e), TRN_E_PARSE);
    CHECK_CONTAINS(e.msg, "x.tprog: not a .tprog file (bad magic)");
    CHECK_EQ_INT(load("TRN", 3, &e), TRN_E_PARSE);
    CHECK_CONTAINS(e.msg, "bad magic");
    /* future version */
    memcpy(c, d, n);
    put32(c + 8, TRN_TPROG_VERSION + 1);
    CHECK_EQ_INT(load(c, n, &e), TRN_E_PARSE);
    CHECK_CONTAINS(e.msg, "x.tprog: .tprog version 3 is newer than this trnsim reads (2)");
    /* checksum */
    memcpy(c, d, n);
    c[n / 2] ^= 0x10;
    CHECK_EQ_INT(load(c, n, &e), TRN_E_PARSE);
    CHECK_CONTAINS(e.msg, "x.tprog: .tprog checksum mismatch (the file is corrupt)");
    /* truncation at every length, and trailing bytes */
    int all = 1;
    for (size_t k = 0; k < n; k++) {
        trn_status s = load(d, k, &e);
        if (s != TRN_E_PARSE || !strstr(e.msg, "x.tprog")) all = 0;
    }
    CHECK_MSG(all, "every truncation is a parse error naming the file");
    CHECK_EQ_INT(load(d, n - 1, &e), TRN_E_PARSE);
    CHECK_CONTAINS(e.msg, "truncated .tprog");
    memcpy(c, d, n);
    memset(c + n, 0, 8);
    CHECK_EQ_INT(load(c, n + 8, &e), TRN_E_PARSE);
    CHECK_CONTAINS(e.msg, "8 bytes of garbage after the .tprog payload");
    /* valid checksum, inconsistent content: a tensor address the allocator would not give */
    memcpy(c, d, n);
    /* the first tensor record follows name and path: find the address of 'a' (0) and the
       HBM total by re-serializing an edited program instead of guessing offsets */
    trn_program *q = NULL;
    CHECK_EQ_INT(trn_program_from_tprog(d, n, "x.tprog", &q, &e), TRN_OK);
    if (q) {
        uint8_t *m = NULL;
        size_t mn = 0;
        q->tensors[1].addr += 64;
        CHECK_EQ_INT(trn_program_to_tprog(q, (void **)&m, &mn, &e), TRN_OK);
        CHECK_EQ_INT(load(m, mn, &e), TRN_E_PARSE);
        CHECK_CONTAINS(e.msg,
                       "x.tprog: corrupt .tprog: tensor 'c' is not where the allocator puts it");
        free(m);
        q->tensors[1].addr -= 64;
        q->instrs[1].op = (trn_opcode)TRN_OP_COUNT; /* serialized as an out-of-range u16 */
        CHECK_EQ_INT(trn_program_to_tprog(q, (void **)&m, &mn, &e), TRN_OK);
        CHECK_EQ_INT(load(m, mn, &e), TRN_E_PARSE);
        CHECK_CONTAINS(e.msg, "instruction 1: bad opcode");
        free(m);
        q->instrs[1].op = TRN_OP_TENSOR_SCALAR;
        q->instrs[1].engine = TRN_ENGINE_PE; /* not an engine of tensor_scalar */
        CHECK_EQ_INT(trn_program_to_tprog(q, (void **)&m, &mn, &e), TRN_OK);
        CHECK_EQ_INT(load(m, mn, &e), TRN_E_PARSE);
        CHECK_CONTAINS(e.msg, "bad engine");
        free(m);
        trn_program_destroy(q);
    }
    /* random corruption with a valid checksum: never a crash, OK or a parse error */
    uint64_t rs = 12345;
    int fine = 1;
    for (int it = 0; it < 3000; it++) {
        memcpy(c, d, n);
        int flips = 1 + (int)(test_rnd64(&rs) % 4);
        for (int f = 0; f < flips; f++) {
            size_t at = 32 + (size_t)(test_rnd64(&rs) % (n - 32));
            c[at] ^= (uint8_t)(1u << (test_rnd64(&rs) % 8));
        }
        reseal(c, n);
        trn_status s = load(c, n, &e);
        if (s != TRN_OK && s != TRN_E_PARSE) fine = 0;
        if (s == TRN_OK) { /* what loads must also verify or fail cleanly, and print */
            trn_program *z = NULL;
            trn_program_from_tprog(c, n, "x.tprog", &z, &e);
            if (z) {
                trn_status vs = trn_program_verify(z, test_target(3), &e);
                if (vs != TRN_OK && vs != TRN_E_INVALID) fine = 0;
                free(test_disasm(z));
            }
            trn_program_destroy(z);
        }
    }
    CHECK_MSG(fine, "random corruption gave an unexpected status");
    free(c);
    free(d);
}

int main(void) {
    test_roundtrips();
    test_rejections();
    test_hw_done();
    return test_summary();
}

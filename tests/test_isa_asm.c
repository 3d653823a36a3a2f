/* The .tasm assembler: lexer, expressions, params and overrides, loops, slices and the access
 * patterns they give, argument values, tensor placement, advanced mode, and the errors with
 * file:line:col for malformed input.
 * LABELS: unit */
#include "harness.h"
#include "isa_test_util.h"

#define T2(x) ".sbuf a f32 [128, 512]\n.sbuf b f32 [128, 512]\n" x
#define HDR   ".kernel k\n.input x f32 [128, 512]\n.sbuf a f32 [128, 512]\n.sbuf b f32 [128, 512]\n"

/* Assembling `text` fails with TRN_E_PARSE and the message contains `want`. */
static void expect_error(const char *text, const char *want) {
    trn_program *p = NULL;
    trn_err e;
    trn_status s = test_asm(text, 3, &p, &e);
    CHECK_MSG(s == TRN_E_PARSE, "expected a parse error for:\n%s\n(got %d)", text, (int)s);
    CHECK_CONTAINS(e.msg, want);
    CHECK(p == NULL);
}

static trn_program *ok(const char *text) {
    trn_program *p = NULL;
    trn_err e;
    trn_status s = test_asm(text, 3, &p, &e);
    CHECK_MSG(s == TRN_OK, "%s\n%s", e.msg, text);
    return p;
}

static int64_t param(const trn_program *p, const char *name) {
    for (int i = 0; i < p->nparams; i++)
        if (!strcmp(p->params[i].name, name)) return p->params[i].value;
    return -999999;
}

static void test_expressions(void) {
    trn_program *p = ok(".param A = 7\n"
                        ".param B = (A + 3) * 2 - 10 / 3\n" /* 20 - 3 */
                        ".param C = -7 / 2\n"               /* floor: -4 */
                        ".param D = -7 % 2\n"               /* Python: 1 */
                        ".param E = 7 % -2\n"               /* -1 */
                        ".param F = 0x10 + -(-3) * +2\n"    /* 22 */
                        ".param G = A * A % 5 + (1)\n");    /* 49 % 5 + 1 = 5 */
    if (p) {
        CHECK_EQ_INT(param(p, "A"), 7);
        CHECK_EQ_INT(param(p, "B"), 17);
        CHECK_EQ_INT(param(p, "C"), -4);
        CHECK_EQ_INT(param(p, "D"), 1);
        CHECK_EQ_INT(param(p, "E"), -1);
        CHECK_EQ_INT(param(p, "F"), 22);
        CHECK_EQ_INT(param(p, "G"), 5);
        CHECK(!strcmp(p->name, "k")); /* default name: the file stem of k.tasm */
        CHECK(!strcmp(p->source_path, "k.tasm"));
        CHECK_EQ_INT(p->core_version, 3);
    }
    trn_program_destroy(p);
    expect_error(".param A = 4\n.param B = A / (A - 4)\n", "k.tasm:2:14: division by zero");
    expect_error(".param A = 5 % 0\n", "k.tasm:1:14: division by zero");
    expect_error(".param A = 9223372036854775807 + 1\n", "k.tasm:1:32: integer overflow");
    expect_error(".param A = 4611686018427387904 * 2\n", "integer overflow");
    expect_error(".param A = 99999999999999999999\n",
                 "k.tasm:1:12: integer 99999999999999999999 is too large");
    expect_error(".param A = B + 1\n", "k.tasm:1:12: unknown name 'B' in an expression");
    expect_error(".param A = (1 + 2\n", "k.tasm:1:18: expected ')', got end of line");
    expect_error(".param A = 1.5\n", "expected an integer, got a floating-point number");
    expect_error(".param A = 1\n.param A = 2\n", "k.tasm:2:8: 'A' is already defined");
    expect_error(".param A = 1 $\n", "k.tasm:1:14: unexpected character '$'");
    expect_error(".param A = 12ab\n", "malformed number");
}

static void test_overrides_and_grid(void) {
    const char *text = ".param N = 4\n.param P = program_id * 10 + num_programs\n";
    trn_param ov[1] = {{"N", 64}};
    trn_asm_opts o = {ov, 1, 4, 8, 3};
    trn_program *p = NULL;
    trn_err e = {0};
    CHECK_EQ_INT(trn_program_assemble(text, "g.tasm", &o, &p, &e), TRN_OK);
    if (p) {
        CHECK_EQ_INT(param(p, "N"), 64);
        CHECK_EQ_INT(param(p, "P"), 38);
        CHECK_EQ_INT(p->core_version, 4);
        CHECK_EQ_INT(p->program_id, 3);
        CHECK_EQ_INT(p->num_programs, 8);
        CHECK(test_roundtrip(p));
    }
    trn_program_destroy(p);
    p = NULL;
    trn_param bad[1] = {{"Q", 1}};
    trn_asm_opts o2 = {bad, 1, 0, 0, 0};
    CHECK_EQ_INT(trn_program_assemble(text, "g.tasm", &o2, &p, &e), TRN_E_INVALID);
    CHECK_CONTAINS(e.msg, "--param Q: g.tasm has no .param Q (it has: N P)");
    trn_asm_opts o3 = {NULL, 0, 0, 2, 2};
    CHECK_EQ_INT(trn_program_assemble(text, "g.tasm", &o3, &p, &e), TRN_E_INVALID);
    /* the file's .core and .grid apply when the caller gives none */
    CHECK_EQ_INT(test_asm(".core v4\n.grid 4 2\n.param P = program_id\n", 0, &p, &e), TRN_OK);
    if (p) {
        CHECK_EQ_INT(p->core_version, 4);
        CHECK_EQ_INT(p->num_programs, 4);
        CHECK_EQ_INT(param(p, "P"), 2);
    }
    trn_program_destroy(p);
    expect_error(".param A = 1\n.core v4\n", "k.tasm:2:1: .core must come before");
    expect_error(".core v1\n", "expected a core version");
    expect_error(".grid 2 2\n", "program_id 2 is out of range [0, 1]");
}

static void test_loops(void) {
    trn_program *p = ok(HDR ".param T = 2\n"
                            ".for i in 0..T + 1\n"
                            "  .for j in 0..4 step 2   # two iterations\n"
                            "    tensor_copy dst=a[i*32:i*32+32, j:j+8] src=b[0:32, 0:8]\n"
                            "  .end\n"
                            ".end\n"
                            ".for z in 5..5\n"
                            "  memset dst=a value=1\n"
                            ".end\n"
                            "memset dst=b value=2   # after the loops\n");
    if (p) {
        CHECK_EQ_INT(p->ninstrs, 7);
        int k = 0;
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 4; j += 2, k++) {
                const trn_instr *in = &p->instrs[k];
                const trn_ap *ap = &trn_instr_arg(p, in, 0)->u.ap;
                CHECK_EQ_INT(ap->part_start, i * 32);
                CHECK_EQ_INT(ap->part_count, 32);
                CHECK_EQ_INT(ap->offset, j);
                CHECK_EQ_INT(in->line, 8);
                CHECK_EQ_INT(in->col, 5);
            }
        }
        CHECK_EQ_INT(p->instrs[6].op, TRN_OP_MEMSET);
        CHECK_EQ_INT(p->instrs[6].line, 14);
    }
    trn_program_destroy(p);
    expect_error(HDR ".for i in 0..4\nmemset dst=a value=0\n",
                 "k.tasm:5:1: .for without a matching .end");
    expect_error(HDR ".end\n", "k.tasm:5:1: .end without a .for");
    expect_error(HDR ".for i in 0..2\n.sbuf c f32 [1, 1]\n.end\n",
                 "k.tasm:6:1: .sbuf is not allowed inside a .for loop");
    expect_error(HDR ".for i in 0..2\n.for i in 0..2\n.end\n.end\n",
                 "k.tasm:6:6: loop variable 'i' is already in use");
    expect_error(HDR ".for i in 0..2 step 0\n.end\n", "k.tasm:5:21: loop step must be positive");
    expect_error(HDR ".for i from 0..2\n.end\n", "expected 'in', got 'from'");
    expect_error(HDR ".for i in 0 2\n.end\n", "k.tasm:5:13: expected '..' between the loop bounds");
    expect_error(HDR ".for a in 0..2\n.end\n", "loop variable 'a' hides another name");
    expect_error(HDR ".for i in 0..9223372036854775807\n.end\n",
                 "k.tasm:5:1: the loops run more than");
    trn_program *q = ok(HDR "memset dst=a[:, 0:512:1000] value=0\n");
    CHECK(q && trn_instr_arg(q, &q->instrs[0], 0)->u.ap.free[0].num == 1);
    trn_program_destroy(q);
}

static void test_slices(void) {
    trn_program *p = ok(".input h f32 [4, 8, 16]\n"
                        ".sbuf t bf16 [128, 4, 64]\n"
                        ".sbuf u bf16 [128, 4, 64]\n"
                        "dma_copy dst=t[0:1, 0, 0:32] src=h[1, 2:4, 0:16:1]\n"
                        "tensor_copy dst=t[5, 1:3, 1:64:2] src=u[64:65, 0:2, 1::2]\n"
                        "tensor_copy dst=t[:, 3] src=u[:, 0, :]\n");
    if (p) {
        const trn_ap *d = &trn_instr_arg(p, &p->instrs[0], 0)->u.ap;
        const trn_ap *s = &trn_instr_arg(p, &p->instrs[0], 1)->u.ap;
        CHECK_EQ_INT(d->part_start, 0);
        CHECK_EQ_INT(d->part_count, 1);
        CHECK_EQ_INT(d->nfree, 1); /* the index 0 drops the middle dim */
        CHECK_EQ_INT(d->free[0].num, 32);
        CHECK_EQ_INT(s->offset, 1 * 128 + 2 * 16); /* HBM: element offset from the start */
        CHECK_EQ_INT(s->nfree, 2);
        CHECK_EQ_INT(s->free[0].num, 2);
        CHECK_EQ_INT(s->free[0].step, 16);
        CHECK_EQ_INT(s->free[1].num, 16);
        CHECK_EQ_INT(trn_ap_elems(s), 32);
        const trn_ap *d1 = &trn_instr_arg(p, &p->instrs[1], 0)->u.ap;
        const trn_ap *s1 = &trn_instr_arg(p, &p->instrs[1], 1)->u.ap;
        CHECK_EQ_INT(d1->part_start, 5); /* a partition index keeps its dimension */
        CHECK_EQ_INT(d1->part_count, 1);
        CHECK_EQ_INT(d1->offset, 64 + 1);
        CHECK_EQ_INT(d1->free[0].num, 2);
        CHECK_EQ_INT(d1->free[0].step, 64);
        CHECK_EQ_INT(d1->free[1].num, 32); /* 1:64:2 */
        CHECK_EQ_INT(d1->free[1].step, 2);
        CHECK_EQ_INT(s1->free[1].num, 32); /* 1::2 */
        CHECK_EQ_INT(trn_ap_free_elems(s1), 64);
        const trn_ap *d2 = &trn_instr_arg(p, &p->instrs[2], 0)->u.ap;
        CHECK_EQ_INT(d2->part_count, 128);
        CHECK_EQ_INT(d2->offset, 3 * 64);
        CHECK_EQ_INT(d2->nfree, 1); /* omitted trailing dim is whole */
        CHECK_EQ_INT(d2->free[0].num, 64);
        CHECK(test_roundtrip(p));
    }
    trn_program_destroy(p);
    expect_error(".sbuf wt bf16 [128, 128]\n.sbuf o bf16 [128, 256]\n\n\n\n\n\n\n\n\n\n"
                 "tensor_copy dst=o src=wt[0:128, 0:256]\n",
                 "k.tasm:12:33: slice 0:256 of dimension 1 of 'wt' [128, 128] is out of range");
    expect_error(T2("memset dst=a[128] value=0\n"),
                 "k.tasm:3:14: index 128 of dimension 0 of 'a' [128, 512] is out of range");
    expect_error(T2("memset dst=a[0, -1] value=0\n"), "index -1 of dimension 1");
    expect_error(T2("memset dst=a[:, 4:4] value=0\n"),
                 "slice 4:4 of dimension 1 of 'a' [128, 512] is empty");
    expect_error(T2("memset dst=a[:, :, 0] value=0\n"),
                 "k.tasm:3:20: too many subscripts for 'a' [128, 512]");
    expect_error(T2("memset dst=a[0:128:2] value=0\n"),
                 "partition dimension of 'a' cannot be strided");
    expect_error(T2("memset dst=a[:, 0:8:0] value=0\n"), "slice step must be positive");
    expect_error(T2("memset dst=a[:, 0 value=0\n"), "expected ',' or ']' in the subscripts of 'a'");
    expect_error(T2("memset dst=c value=0\n"), "k.tasm:3:12: unknown tensor 'c'");
}

static void test_arguments(void) {
    trn_program *p = ok(
        ".input h f32 [128, 512]\n"
        ".output o f32 [128, 512]\n"
        ".sbuf a f32 [128, 512]\n.sbuf b f32 [128, 512]\n.sbuf v f32 [128, 1]\n"
        ".sbuf i int32 [128, 512]\n"
        "tensor_scalar dst=a, data=b, op0=nl.max, operand0=-2.5e-3 op1=mult operand1=v\n"
        "activation dst=a data=b op=nl.identity scale=inf bias=v reduce_cmd=nisa.reduce_cmd.reset\n"
        "iota dst=i pattern=[[1, 8], [8, 64]] channel_multiplier=-1\n"
        "dma_compute dst=o srcs=[h, a, b] reduce_op=add\n"
        "memset dst=a value=-nan engine=nisa.gpsimd_engine\n");
    if (p) {
        const trn_instr *in = &p->instrs[0];
        CHECK_EQ_INT(trn_instr_arg(p, in, 2)->u.i, TRN_ALU_MAXIMUM);
        CHECK_EQ_INT(trn_instr_arg(p, in, 3)->kind, TRN_ARG_FLOAT);
        CHECK_BITS_F32((float)trn_instr_arg(p, in, 3)->u.imm, -2.5e-3f);
        CHECK_EQ_INT(trn_instr_arg(p, in, 5)->u.i, TRN_ALU_MULTIPLY);
        CHECK_EQ_INT(trn_instr_arg(p, in, 6)->kind, TRN_ARG_AP_IN);
        CHECK(trn_instr_arg(p, in, 4) == NULL); /* reverse0 not given */
        in = &p->instrs[1];
        CHECK_EQ_INT(trn_instr_arg(p, in, 1)->u.i, TRN_ACT_COPY);
        CHECK(isinf(trn_instr_arg(p, in, 4)->u.imm));
        CHECK_EQ_INT(trn_instr_arg(p, in, 7)->u.i, TRN_REDUCE_CMD_RESET);
        in = &p->instrs[2];
        const trn_operand *pt = trn_instr_arg(p, in, 1);
        CHECK_EQ_INT(pt->u.list.count, 4);
        CHECK_EQ_INT(p->ints[pt->u.list.first + 3], 64);
        CHECK_EQ_INT(trn_instr_arg(p, in, 3)->u.i, -1);
        in = &p->instrs[3];
        CHECK_EQ_INT(in->nargs, 5); /* dst, three srcs, reduce_op */
        CHECK_EQ_INT(p->args[in->arg0 + 1].u.ap.tensor, 0);
        CHECK_EQ_INT(p->args[in->arg0 + 2].u.ap.tensor, 2);
        CHECK_EQ_INT(p->args[in->arg0 + 3].u.ap.tensor, 3);
        in = &p->instrs[4];
        CHECK_EQ_INT(in->engine, TRN_ENGINE_POOL);
        CHECK(isnan(trn_instr_arg(p, in, 1)->u.imm));
        CHECK(test_roundtrip(p));
    }
    trn_program_destroy(p);
    expect_error(T2("matmul dst=a\n"), "k.tasm:3:1: unknown instruction 'matmul'");
    expect_error(T2("memset dst=a val=0\n"),
                 "k.tasm:3:14: memset has no argument 'val' (expected: dst value, engine)");
    expect_error(T2("memset dst=a\n"), "k.tasm:3:1: memset needs argument 'value' (float)");
    expect_error(T2("memset dst=a value=1 dst=b\n"), "k.tasm:3:22: argument 'dst' given twice");
    expect_error(T2("memset dst=a value=1 engine=tensor\n"),
                 "memset cannot run on engine tensor (allowed: vector gpsimd)");
    expect_error(T2("memset dst=a value=1 engine=warp\n"),
                 "unknown engine 'warp' (expected one of: tensor scalar");
    expect_error(T2("tensor_tensor dst=a data1=a data2=b op=plus\n"),
                 "k.tasm:3:40: unknown ALU operator 'plus'");
    expect_error(T2("activation dst=a data=b op=swish\n"), "unknown activation function 'swish'");
    expect_error(
        T2("activation dst=a data=b op=exp reduce_cmd=go\n"),
        "unknown reduce_cmd 'go' (expected one of: idle reset reduce reset_reduce load_reduce)");
    expect_error(T2("tensor_reduce dst=a op=add data=b axis=1 negate=maybe\n"),
                 "expected true or false, got 'maybe'");
    expect_error(T2("memset dst=a value=1 wait=s>=1\n"),
                 "k.tasm:3:22: 'wait=' needs `.sync manual`");
    expect_error(T2("memset dst=a value\n"),
                 "k.tasm:3:19: expected '=' after the argument name, got end of line");
    expect_error(T2("iota dst=a pattern=[1, 2]\n"), "expected a [step, num] pair");
    expect_error(T2("register_move dst=r src=1\n"),
                 "unknown register 'r' (define it with register_alloc)");
    expect_error(T2("register_alloc dst=r\nregister_alloc dst=r\n"),
                 "k.tasm:4:20: register 'r' is already defined");
    expect_error(T2(".sbuf a f32 [1, 1]\n"), "k.tasm:3:7: tensor 'a' is already declared");
    expect_error(".sbuf a f33 [1, 1]\n",
                 "k.tasm:1:9: unknown data type 'f33' (expected one of: f32 tf32 bf16");
    expect_error(".sbuf a f32 [0, 1]\n", "dimension 0 of 'a' is 0 (expected 1 to");
    expect_error(".sbuf a f32 [1, 1, 1, 1, 1, 1]\n", "at most 5 dimensions");
    expect_error(".frob\n", "k.tasm:1:1: unknown directive '.frob'");
    expect_error(".kernel a\n.kernel b\n", "k.tasm:2:1: a second .kernel");
    expect_error(".source \"abc\n", "k.tasm:1:9: unterminated string");
    expect_error("# only a comment\n  42\n",
                 "k.tasm:2:3: expected an instruction or a directive, got '42'");
}

static void test_placement(void) {
    trn_program *p = ok(".input x bf16 [3, 5]\n"    /* 30 bytes */
                        ".output y f32 [2]\n"       /* at 64 */
                        ".sbuf a bf16 [128, 3]\n"   /* 6 B/partition at 0 */
                        ".sbuf b f32 [64, 10]\n"    /* at 64 */
                        ".psum p f32 [128, 384]\n"  /* 1536 B at 0 */
                        ".psum q f32 [128, 256]\n"  /* 1024 B: 1536 would straddle bank 0/1 */
                        ".psum r f32 [128, 1024]\n" /* 4096 B: starts on a bank */
                        ".sbuf c fp8_e4m3_x4 [128, 4]\n"
                        ".sbuf d fp4_e2m1_x4 [128, 4]\n");
    if (p) {
        const trn_tensor *t = p->tensors;
        CHECK_EQ_INT(t[0].addr, 0);
        CHECK_EQ_INT(t[0].bytes, 30);
        CHECK_EQ_INT(t[0].role, TRN_ROLE_INPUT);
        CHECK_EQ_INT(t[1].addr, 64);
        CHECK_EQ_INT(t[1].role, TRN_ROLE_OUTPUT);
        CHECK_EQ_INT(p->hbm_bytes, 72);
        CHECK_EQ_INT(t[2].addr, 0);
        CHECK_EQ_INT(t[2].bytes, 6);
        CHECK_EQ_INT(t[3].addr, 64);
        CHECK_EQ_INT(t[3].bytes, 40);
        CHECK_EQ_INT(t[4].addr, 0);
        CHECK_EQ_INT(t[5].addr, 2048);
        CHECK_EQ_INT(t[6].addr, 4096);
        CHECK_EQ_INT(p->psum_bytes, 8192);
        CHECK_EQ_INT(t[7].elem_bytes, 4);
        CHECK_EQ_INT(t[7].packed, 1);
        CHECK_EQ_INT(t[8].elem_bytes, 2);
        CHECK_EQ_INT(t[8].addr, 192);
        CHECK_EQ_INT(p->sbuf_bytes, 200);
    }
    trn_program_destroy(p);
}

static void test_manual_mode(void) {
    trn_program *p =
        ok(".kernel m\n.sync manual\n.sem early\n"
           ".input h f32 [128, 64]\n.sbuf a f32 [128, 64]\n"
           "dma_copy dst=a src=h engine=sync signal=ld signal=early\n"
           "memset dst=a value=0 engine=gpsimd wait=ld>=1 wait=early>=2 signal=done\n");
    if (p) {
        CHECK_EQ_INT(p->manual_sync, 1);
        CHECK_EQ_INT(p->nsems, 3);
        CHECK(!strcmp(p->sems[0], "early") && !strcmp(p->sems[1], "ld"));
        const trn_instr *a = &p->instrs[0], *b = &p->instrs[1];
        CHECK_EQ_INT(a->engine, TRN_ENGINE_SP);
        CHECK_EQ_INT(a->nsignal, 2);
        CHECK_EQ_INT(a->signal[0], 1);
        CHECK_EQ_INT(b->engine, TRN_ENGINE_POOL);
        CHECK_EQ_INT(b->nwait, 2);
        CHECK_EQ_INT(b->wait[0].sem, 1);
        CHECK_EQ_INT(b->wait[0].value, 1);
        CHECK_EQ_INT(b->wait[1].value, 2);
        CHECK_EQ_INT(b->signal[0], 2);
        CHECK(test_roundtrip(p));
    }
    trn_program_destroy(p);
    expect_error(".sync manual\n.sbuf a f32 [1, 1]\nmemset dst=a value=0 wait=s\n",
                 "k.tasm:3:28: expected '>=' after the semaphore name");
    expect_error(".sem s\n", "k.tasm:1:1: .sem needs `.sync manual`");
    expect_error(".sync later\n", "expected manual or auto");
}

static void test_files(void) {
    trn_program *p = NULL;
    trn_err e = {0};
    CHECK_EQ_INT(trn_program_assemble_file("no/such/file.tasm", NULL, &p, &e), TRN_E_IO);
    CHECK_CONTAINS(e.msg, "no/such/file.tasm");
    CHECK_EQ_INT(trn_program_assemble_file("examples/kernels/mlp_tile.tasm", NULL, &p, &e), TRN_OK);
    if (p) {
        CHECK(!strcmp(p->name, "mlp_tile"));
        CHECK_EQ_INT(p->ninstrs, 5);
        CHECK_EQ_INT(p->ntensors, 7);
        CHECK_EQ_INT(p->instrs[2].op, TRN_OP_NC_MATMUL);
        CHECK_EQ_INT(p->instrs[2].line, 15);
        CHECK_EQ_INT(p->instrs[2].engine, TRN_ENGINE_PE);
        CHECK_EQ_INT(p->instrs[3].engine, TRN_ENGINE_ACT);
        CHECK_EQ_INT(p->instrs[0].engine, TRN_ENGINE_DMA);
    }
    trn_program_destroy(p);
}

int main(void) {
    test_expressions();
    test_overrides_and_grid();
    test_loops();
    test_slices();
    test_arguments();
    test_placement();
    test_manual_mode();
    test_files();
    test_hw_done();
    return test_summary();
}

/* The instruction table: every row of isa.def assembles with a minimal valid use, verifies on
 * its minimum core version (and not on the one before), and its disassembly assembles back to
 * the same .tprog bytes; the name tables and lookups agree; docs/isa.md is the generator's
 * output.
 * LABELS: unit */
#include "harness.h"
#include "isa_test_util.h"

static const char *base = ".input  h    f32 [128, 512]\n"
                          ".input  hq   bf16 [128, 128]\n"
                          ".output o    f32 [128, 512]\n"
                          ".hbm    one  int32 [1, 1]\n"
                          ".sbuf   s    f32 [128, 512]\n"
                          ".sbuf   s2   f32 [128, 512]\n"
                          ".sbuf   sb   bf16 [128, 512]\n"
                          ".sbuf   sq   bf16 [128, 128]\n"
                          ".psum   pq   bf16 [128, 128]\n"
                          ".sbuf   v    f32 [128, 1]\n"
                          ".sbuf   v2   f32 [128, 1]\n"
                          ".psum   ps   f32 [128, 512]\n"
                          ".sbuf   u8   uint8 [128, 512]\n"
                          ".sbuf   u16  uint16 [128, 512]\n"
                          ".sbuf   u32  uint32 [128, 512]\n"
                          ".sbuf   i32  int32 [128, 512]\n"
                          ".sbuf   nz   int32 [128, 512]\n"
                          ".sbuf   sbd  int32 [1, 2, 512]\n"
                          ".sbuf   s6   f32 [128, 6]\n"
                          ".sbuf   s2e  f32 [128, 2]\n"
                          ".sbuf   s8   f32 [128, 8]\n"
                          ".sbuf   tv   bf16 [128, 8]\n"
                          ".sbuf   u8i  uint32 [128, 8]\n"
                          ".sbuf   seeds uint32 [128, 6]\n";
static const char *v4 = ".sbuf   mxa  fp8_e4m3_x4 [128, 128]\n"
                        ".sbuf   mxb  fp8_e4m3_x4 [128, 512]\n"
                        ".sbuf   sca  uint8 [128, 128]\n"
                        ".sbuf   scb  uint8 [128, 512]\n"
                        ".sbuf   sbx  bf16 [128, 2048]\n";

typedef struct use {
    trn_opcode op;
    int needs_v4_tensors;
    const char *text;
} use;

static const use uses[] = {
    {TRN_OP_NC_MATMUL, 0, "nc_matmul dst=ps stationary=sb[:, 0:128] moving=sb"},
    {TRN_OP_NC_MATMUL_MX, 1,
     "nc_matmul_mx dst=ps stationary=mxa moving=mxb stationary_scale=sca moving_scale=scb"},
    {TRN_OP_NC_TRANSPOSE, 0, "nc_transpose dst=pq data=sq"},
    {TRN_OP_ACTIVATION, 0, "activation dst=s data=ps op=exp scale=2.0 bias=v"},
    {TRN_OP_ACTIVATION_REDUCE, 0,
     "activation_reduce dst=s data=s2 op=exp reduce_op=add reduce_res=v"},
    {TRN_OP_ACTIVATE2, 0, "activate2 dst=s data=s2 op=gelu imm0=2.0 imm1=0.5 op0=multiply op1=add"},
    {TRN_OP_TENSOR_TENSOR, 0, "tensor_tensor dst=s data1=s2 data2=ps op=add"},
    {TRN_OP_TENSOR_SCALAR, 0,
     "tensor_scalar dst=s data=s2 op0=multiply operand0=v op1=add operand1=1.5"},
    {TRN_OP_SCALAR_TENSOR_TENSOR, 0,
     "scalar_tensor_tensor dst=s data=s2 op0=subtract operand0=v op1=multiply operand1=ps"},
    {TRN_OP_TENSOR_SCALAR_REDUCE, 0,
     "tensor_scalar_reduce dst=s data=s2 op0=add operand0=1.0 reduce_op=max reduce_res=v"},
    {TRN_OP_TENSOR_SCALAR_CUMULATIVE, 0,
     "tensor_scalar_cumulative dst=s src=s2 op0=multiply op1=add imm0=2.0"},
    {TRN_OP_TENSOR_TENSOR_SCAN, 0,
     "tensor_tensor_scan dst=s data0=s2 data1=ps initial=0.0 op0=multiply op1=add"},
    {TRN_OP_TENSOR_REDUCE, 0, "tensor_reduce dst=v op=add data=s2 axis=1 negate=true"},
    {TRN_OP_TENSOR_PARTITION_REDUCE, 0, "tensor_partition_reduce dst=s[0:1, :] op=add data=s2"},
    {TRN_OP_TENSOR_COPY, 0, "tensor_copy dst=s src=ps"},
    {TRN_OP_TENSOR_COPY_PREDICATED, 0, "tensor_copy_predicated dst=s src=s2 predicate=u8"},
    {TRN_OP_MEMSET, 0, "memset dst=s value=0 engine=gpsimd"},
    {TRN_OP_IOTA, 0, "iota dst=i32 pattern=[[1, 512]] offset=0 channel_multiplier=512"},
    {TRN_OP_AFFINE_SELECT, 0,
     "affine_select dst=s pattern=[[-1, 512]] channel_multiplier=1 on_true_tile=s2 "
     "on_false_value=-inf cmp_op=greater_equal"},
    {TRN_OP_RANGE_SELECT, 0,
     "range_select dst=s on_true_tile=s2 comp_op0=greater_equal comp_op1=less bound0=v "
     "bound1=v2 reduce_res=v reduce_op=max range_start=0 on_false_value=-3.4028235e38"},
    {TRN_OP_SELECT_REDUCE, 0,
     "select_reduce dst=s predicate=u8 on_true=s2 on_false=0.0 reduce_res=v "
     "reduce_cmd=reset_reduce"},
    {TRN_OP_DROPOUT, 0, "dropout dst=s data=s2 prob=0.1"},
    {TRN_OP_RNG, 0, "rng dst=u32"},
    {TRN_OP_SET_RNG_SEED, 0, "set_rng_seed src_seeds=u32[0:1, 0:1]"},
    {TRN_OP_RAND2, 0, "rand2 dst=s min=0.0 max=1.0"},
    {TRN_OP_RAND_SET_STATE, 0, "rand_set_state src_seeds=seeds"},
    {TRN_OP_RAND_GET_STATE, 0, "rand_get_state dst=seeds"},
    {TRN_OP_RECIPROCAL, 0, "reciprocal dst=s data=s2"},
    {TRN_OP_EXPONENTIAL, 0,
     "exponential dst=s src=s2 max_value=v reduce_res=v2 reduce_cmd=reset_reduce"},
    {TRN_OP_QUANTIZE_MX, 1, "quantize_mx dst=mxb src=sbx dst_scale=scb"},
    {TRN_OP_BN_STATS, 0, "bn_stats dst=s6 data=s2"},
    {TRN_OP_BN_AGGR, 0, "bn_aggr dst=s2e data=s6"},
    {TRN_OP_MAX8, 0, "max8 dst=s8 src=s2"},
    {TRN_OP_NC_FIND_INDEX8, 0, "nc_find_index8 dst=u8i data=s2 vals=s8"},
    {TRN_OP_NC_MATCH_REPLACE8, 0, "nc_match_replace8 dst=s data=s2 vals=s8 imm=0.0 dst_idx=u8i"},
    {TRN_OP_NC_STREAM_SHUFFLE, 0,
     "nc_stream_shuffle dst=s src=s2 shuffle_mask=[31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, "
     "20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 255]"},
    {TRN_OP_LOCAL_GATHER, 0,
     "local_gather dst=s src_buffer=s2 index=u16[:, 0:4] num_elem_per_idx=1"},
    {TRN_OP_NC_N_GATHER, 0, "nc_n_gather dst=s data=s2 indices=u32"},
    {TRN_OP_SEQUENCE_BOUNDS, 0, "sequence_bounds dst=sbd segment_ids=i32[0:1, :]"},
    {TRN_OP_NONZERO_WITH_COUNT, 0,
     "nonzero_with_count dst=nz src=i32[:, 0:511] index_offset=0 padding_val=-1"},
    {TRN_OP_TOPK, 0, "topk val_dst=tv idx_dst=u8i src=sb n=512"},
    {TRN_OP_DMA_COPY, 0, "dma_copy dst=s src=h dge_mode=none"},
    {TRN_OP_DMA_TRANSPOSE, 0, "dma_transpose dst=sq src=hq axes=(1, 0)"},
    {TRN_OP_DMA_COMPUTE, 0, "dma_compute dst=o srcs=[h, s] reduce_op=add scales=[1.0, 1.0]"},
    {TRN_OP_REGISTER_ALLOC, 0, "register_alloc dst=r0 x=5"},
    {TRN_OP_REGISTER_MOVE, 0,
     "register_alloc dst=r0\nregister_alloc dst=r1\nregister_move dst=r1 src=r0"},
    {TRN_OP_REGISTER_LOAD, 0, "register_alloc dst=r0\nregister_load dst=r0 src=one"},
    {TRN_OP_REGISTER_STORE, 0, "register_alloc dst=r0 x=3\nregister_store dst=one src=r0"},
    {TRN_OP_CORE_BARRIER, 0, "core_barrier data=h cores=(0, 1)"},
    {TRN_OP_SENDRECV, 0, "sendrecv src=s dst=s2 send_to_rank=1 recv_from_rank=0 pipe_id=0"},
};
#define NUSES (sizeof uses / sizeof uses[0])

static char *kernel(const use *u) {
    size_t n = strlen(base) + strlen(v4) + strlen(u->text) + 64;
    char *t = malloc(n);
    snprintf(t, n, ".kernel row\n%s%s%s\n", base, u->needs_v4_tensors ? v4 : "", u->text);
    return t;
}

static void test_every_row(void) {
    int covered[TRN_OP_COUNT] = {0};
    for (size_t i = 0; i < NUSES; i++) {
        const use *u = &uses[i];
        const trn_isa_op *row = trn_isa_op_get(u->op);
        covered[u->op]++;
        char *text = kernel(u);
        int ver = row->min_version > 2 ? row->min_version : 2;
        trn_program *p = NULL;
        trn_err e;
        trn_status s = test_asm(text, ver, &p, &e);
        CHECK_MSG(s == TRN_OK, "%s: %s", row->name, e.msg);
        if (s == TRN_OK) {
            CHECK_EQ_INT(p->instrs[p->ninstrs - 1].op, u->op);
            s = trn_program_verify(p, test_target(ver), &e);
            CHECK_MSG(s == TRN_OK, "%s on v%d: %s", row->name, ver, e.msg);
            CHECK_MSG(test_roundtrip(p), "%s round trip", row->name);
            /* the newest core runs every row */
            CHECK_MSG(trn_program_verify(p, test_target(4), &e) == TRN_OK, "%s on v4: %s",
                      row->name, e.msg);
        }
        trn_program_destroy(p);
        /* one version too early: rejected by name (v4 tensors fail first on their line) */
        if (row->min_version > 2 && !u->needs_v4_tensors) {
            s = test_check(text, row->min_version - 1, &e);
            CHECK_EQ_INT(s, TRN_E_INVALID);
            char want[80];
            snprintf(want, sizeof want, "%s needs NeuronCore-v%d or newer", row->name,
                     row->min_version);
            CHECK_CONTAINS(e.msg, want);
        } else if (u->needs_v4_tensors) {
            CHECK_EQ_INT(test_check(text, 3, &e), TRN_E_INVALID);
            CHECK_CONTAINS(e.msg, "needs NeuronCore-v4 or newer");
        }
        free(text);
    }
    for (int op = 0; op < TRN_OP_COUNT; op++)
        CHECK_MSG(covered[op] == 1, "row %s has %d uses in this test", trn_isa_op_get(op)->name,
                  covered[op]);
}

static void test_table(void) {
    CHECK_EQ_INT(TRN_OP_COUNT, 50);
    for (int op = 0; op < TRN_OP_COUNT; op++) {
        const trn_isa_op *r = trn_isa_op_get((trn_opcode)op);
        CHECK(r && r->name && r->nargs > 0 && r->nargs <= 16);
        if (!r || !r->name) continue;
        CHECK_EQ_INT(trn_isa_op_find(r->name), op);
        CHECK(r->engines >> r->engine & 1);
        CHECK(r->min_version >= 2 && r->min_version <= 4);
        CHECK((unsigned)r->cost < TRN_COST_COUNT);
        int mains = 0, required = 0, aps = 0;
        for (int k = 0; k < r->nargs; k++) {
            const trn_isa_arg *a = &r->args[k];
            CHECK_EQ_INT(trn_isa_arg_find((trn_opcode)op, a->key), k);
            CHECK(strcmp(a->key, "engine") && strcmp(a->key, "wait") && strcmp(a->key, "signal"));
            mains += (a->flags & TRN_ARGF_MAIN) != 0;
            required += (a->flags & TRN_ARGF_REQUIRED) != 0;
            if (a->kind == TRN_ARG_ENUM) CHECK(a->enum_id >= 0 && a->enum_id < TRN_ENUM_COUNT);
            if (a->kind == TRN_ARG_AP_IN || a->kind == TRN_ARG_AP_OUT ||
                a->kind == TRN_ARG_AP_LIST) {
                CHECK(a->mems != 0);
                aps++;
            }
        }
        /* the cost rule's N comes from exactly one tile (register-only rows have none) */
        CHECK_MSG(mains == (aps > 0), "%s has %d MAIN arguments", r->name, mains);
        CHECK(required >= 1);
    }
    CHECK(trn_isa_op_get(TRN_OP_COUNT) == NULL);
    CHECK_EQ_INT(trn_isa_op_find("nc_matmul"), TRN_OP_NC_MATMUL);
    CHECK_EQ_INT(trn_isa_op_find("nope"), -1);
    CHECK_EQ_INT(trn_isa_op_get(TRN_OP_NC_MATMUL_MX)->min_version, 4);
    CHECK_EQ_INT(trn_isa_op_get(TRN_OP_RANGE_SELECT)->min_version, 3);
    CHECK_EQ_INT(trn_isa_op_get(TRN_OP_NC_TRANSPOSE)->engine, TRN_ENGINE_PE);
    CHECK(trn_isa_op_get(TRN_OP_NC_TRANSPOSE)->engines >> TRN_ENGINE_DVE & 1);
    CHECK_EQ_INT(trn_isa_op_get(TRN_OP_DMA_COPY)->cost, TRN_COST_DMA);
    /* names and aliases */
    CHECK_EQ_INT(trn_alu_find("nl.add"), TRN_ALU_ADD);
    CHECK_EQ_INT(trn_alu_find("max"), TRN_ALU_MAXIMUM);
    CHECK_EQ_INT(trn_alu_find("nl.multiply"), TRN_ALU_MULTIPLY);
    CHECK_EQ_INT(trn_alu_find("bitwise_xor"), TRN_ALU_BITWISE_XOR);
    CHECK_EQ_INT(trn_alu_find("plus"), -1);
    CHECK(trn_alu_is_bitvec(TRN_ALU_LEFT_SHIFT) && !trn_alu_is_bitvec(TRN_ALU_ADD));
    CHECK_EQ_INT(trn_act_find("identity"), TRN_ACT_COPY);
    CHECK_EQ_INT(trn_act_find("nl.gelu_apprx_tanh"), TRN_ACT_GELU_APPRX_TANH);
    CHECK_EQ_INT(trn_engine_find("nisa.vector_engine"), TRN_ENGINE_DVE);
    CHECK_EQ_INT(trn_engine_find("PE"), TRN_ENGINE_PE);
    CHECK_EQ_INT(trn_engine_find("gpsimd"), TRN_ENGINE_POOL);
    CHECK_EQ_INT(trn_isa_enum_find(TRN_ENUM_REDUCE_CMD, "nisa.reduce_cmd.reset_reduce"),
                 TRN_REDUCE_CMD_RESET_REDUCE);
    CHECK_EQ_INT(trn_isa_enum_find(TRN_ENUM_PERF_MODE, "double_row"), TRN_PERF_DOUBLE_ROW);
    for (int i = 0; i < TRN_ALU_COUNT; i++) CHECK_EQ_INT(trn_alu_find(trn_alu_name(i)), i);
    for (int i = 0; i < TRN_ACT_COUNT; i++) CHECK_EQ_INT(trn_act_find(trn_act_name(i)), i);
    for (int i = 0; i < TRN_ENGINE_COUNT; i++) CHECK_EQ_INT(trn_engine_find(trn_engine_name(i)), i);
    for (int c = 0; c < TRN_COST_COUNT; c++)
        CHECK(strcmp(trn_cost_name(c), "?") && strcmp(trn_cost_formula(c), "?"));
    CHECK(strcmp(trn_alu_name(TRN_ALU_COUNT), "?") == 0);
    /* dtype classes per version */
    CHECK(!trn_isa_dtype_ok(TRN_DT_MM_IN, TRN_DTYPE_FP8_E4M3, 0, 3));
    CHECK(trn_isa_dtype_ok(TRN_DT_MM_IN, TRN_DTYPE_FP8_E4M3, 0, 4));
    CHECK(trn_isa_dtype_ok(TRN_DT_MM_IN, TRN_DTYPE_FP8_E4M3_LEGACY, 0, 2));
    CHECK(!trn_isa_dtype_ok(TRN_DT_MM_OUT, TRN_DTYPE_BF16, 0, 3));
    CHECK(trn_isa_dtype_ok(TRN_DT_MM_OUT, TRN_DTYPE_BF16, 0, 4));
    CHECK(trn_isa_dtype_ok(TRN_DT_MX, TRN_DTYPE_FP4_E2M1, 1, 4));
    CHECK(!trn_isa_dtype_ok(TRN_DT_MX, TRN_DTYPE_FP8_E5M2, 0, 4));
    CHECK(!trn_isa_dtype_ok(TRN_DT_ANY, TRN_DTYPE_FP6_E2M3, 0, 4));
    CHECK(!trn_isa_dtype_ok(TRN_DT_FLOAT, TRN_DTYPE_INT8, 0, 4));
}

static void test_doc(void) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    trn_isa_doc(f);
    fclose(f);
    void *file = NULL;
    size_t fn = 0;
    trn_err e = {0};
    trn_status s = trn_file_read("docs/isa.md", &file, &fn, &e);
    CHECK_MSG(s == TRN_OK, "%s", e.msg);
    CHECK_MSG(s == TRN_OK && fn == n && memcmp(file, buf, n) == 0,
              "docs/isa.md differs from the generator: run `trnsim asm --isa-doc > docs/isa.md`");
    /* every instruction has its section */
    for (int op = 0; op < TRN_OP_COUNT; op++) {
        char h[64];
        snprintf(h, sizeof h, "#### `%s`", trn_isa_op_get(op)->name);
        CHECK_CONTAINS(buf, h);
    }
    CHECK_CONTAINS(buf, "sum over k = 0..K-1 in order of fp32 fused multiply-adds");
    free(file);
    free(buf);
}

int main(void) {
    test_table();
    test_every_row();
    test_doc();
    test_hw_done();
    return test_summary();
}

/* The verifier: each rule rejects a bad kernel with the source position and the limit, and
 * accepts the legal neighbour of that kernel; every example kernel verifies on the core
 * versions it targets.
 * LABELS: unit */
#include "harness.h"
#include "isa_test_util.h"

#define BASE                                    \
    ".input  h  f32 [128, 512]\n"  /* line 1 */ \
    ".sbuf   s  f32 [128, 512]\n"  /* line 2 */ \
    ".sbuf   s2 f32 [128, 512]\n"  /* line 3 */ \
    ".sbuf   sb bf16 [128, 512]\n" /* line 4 */ \
    ".psum   ps f32 [128, 512]\n"  /* line 5 */ \
    ".psum   p2 f32 [128, 512]\n"  /* line 6 */ \
    ".sbuf   v  f32 [128, 1]\n"    /* line 7 */

static void bad(const char *text, int version, const char *want) {
    trn_err e;
    trn_status s = test_check(text, version, &e);
    CHECK_MSG(s == TRN_E_INVALID, "expected a verifier error on v%d for:\n%s\n(got %d: %s)",
              version, text, (int)s, e.msg);
    CHECK_CONTAINS(e.msg, want);
}

static void good(const char *text, int version) {
    trn_err e;
    CHECK_MSG(test_check(text, version, &e) == TRN_OK, "v%d: %s\n%s", version, e.msg, text);
}

static void test_partitions(void) {
    good(BASE "tensor_copy dst=s[64:104] src=s2[0:40]\n", 3);
    bad(BASE "tensor_copy dst=s[32:72] src=s2[0:40]\n", 3,
        "k.tasm:8:13: 's' accesses 40 partitions from partition 32; trainium-facts §2.4 allows "
        "start 0 for 64 < P <= 128, 0 or 64 for 32 < P <= 64");
    good(BASE "tensor_copy dst=s[96:128] src=s2[32:64]\n", 3);
    bad(BASE "tensor_copy dst=s[0:32] src=s2[16:48]\n", 3,
        "k.tasm:8:25: 's2' accesses 32 partitions from partition 16");
    bad(BASE "tensor_copy dst=s[5, 0] src=s2[0, 0]\n", 3, "from partition 5");
    good(BASE "memset dst=s[0:72] value=0\n", 2);
}

static void test_memory_totals(void) {
    /* v3: 224 KiB per partition; 60000 f32 = 240000 B fits only v4 (256 KiB) */
    const char *big = ".sbuf a f32 [128, 1000]\n.sbuf big f32 [128, 59000]\n";
    bad(big, 3,
        "k.tasm:2:1: SBUF overflow: tensor 'big' ends at byte 240032 of each partition; "
        "the tiles need 240032 bytes per partition and v3 has 229376 (224 KiB)");
    good(big, 4);
    bad(big, 2, "v2 has 196608 (192 KiB)");
    bad(".psum a f32 [128, 512]\n.psum b f32 [128, 3585]\n", 3,
        "k.tasm:2:1: PSUM overflow: tensor 'b' ends at byte 16388");
    good(".psum a f32 [128, 512]\n.psum b f32 [128, 3584]\n", 3);
    bad(".sbuf t f32 [256, 4]\n", 3,
        "k.tasm:1:1: tensor 't' has 256 partitions (its first dimension); v3 has 128");
}

static void test_matmul(void) {
    const char *mm = ".sbuf st bf16 [128, 128]\n.sbuf mv bf16 [128, 1024]\n"
                     ".psum acc f32 [128, 1024]\n.sbuf st64 bf16 [64, 128]\n"
                     ".sbuf wide bf16 [128, 256]\n";
    char t[1024];
    snprintf(t, sizeof t, "%snc_matmul dst=acc[:, 0:512] stationary=st moving=mv[:, 0:512]\n", mm);
    good(t, 2);
    snprintf(t, sizeof t, "%snc_matmul dst=acc stationary=st moving=mv\n", mm);
    bad(t, 3, "k.tasm:6:33: N = 1024 (moving free size) exceeds 512 on v3 (one PSUM bank of FP32)");
    good(t, 4);
    snprintf(t, sizeof t, "%snc_matmul dst=acc[:, 256:768] stationary=st moving=mv[:, 0:512]\n",
             mm);
    bad(t, 3,
        "k.tasm:6:11: matmul output 'acc' covers PSUM bytes 1024..3071 of each partition, "
        "crossing a 2048-byte bank boundary");
    good(t, 4);
    snprintf(t, sizeof t, "%snc_matmul dst=acc[:, 0:512] stationary=st64 moving=mv[:, 0:512]\n",
             mm);
    bad(t, 3, "contraction mismatch: stationary has 64 partitions, moving 128");
    snprintf(t, sizeof t, "%snc_matmul dst=acc[:, 0:512] stationary=wide moving=mv[:, 0:512]\n",
             mm);
    bad(t, 3, "M = 256 (stationary free size) exceeds 128 PE columns");
    snprintf(t, sizeof t, "%snc_matmul dst=acc[:, 0:256] stationary=st moving=mv[:, 0:512]\n", mm);
    bad(t, 3, "dst 'acc' is 128 x 256, expected [M, N] = [128, 512]");
    snprintf(t, sizeof t,
             "%s.psum ob bf16 [128, 512]\nnc_matmul dst=ob stationary=st moving=mv[:, 0:512]\n",
             mm);
    bad(t, 3, "dst of nc_matmul must be f32 (bf16 v4+) on v3, 'ob' is bf16");
    good(t, 4);
    snprintf(t, sizeof t,
             "%s.sbuf f3 f32 [128, 512]\nnc_matmul dst=acc[:, 0:512] stationary=st moving=f3\n",
             mm);
    bad(t, 3, "nc_matmul cannot mix bf16 and f32");
    /* FP8 double row: [128, 2, M] x [128, 2, N], v3+ */
    const char *dr = ".sbuf st fp8_e4m3_legacy [128, 2, 128]\n.sbuf mv fp8_e5m2 [128, 2, 512]\n"
                     ".psum acc f32 [128, 512]\n.sbuf sbf bf16 [128, 2, 128]\n";
    snprintf(t, sizeof t, "%snc_matmul dst=acc stationary=st moving=mv perf_mode=double_row\n", dr);
    good(t, 3);
    bad(t, 2, "perf_mode=double_row needs NeuronCore-v3 or newer (target v2)");
    snprintf(t, sizeof t, "%snc_matmul dst=acc stationary=sbf moving=mv perf_mode=double_row\n",
             dr);
    bad(t, 3, "perf_mode=double_row needs fp8 stationary and moving (got bf16 and fp8_e5m2)");
    snprintf(t, sizeof t,
             "%snc_matmul dst=acc stationary=st[:, 0, :] moving=mv[:, 0, :] perf_mode=double_row\n",
             dr);
    bad(t, 3, "its first free dimension must be 2");
    /* PE tiling */
    snprintf(t, sizeof t,
             "%snc_matmul dst=acc[0:32, 0:512] stationary=st[0:32, 0:32] moving=mv[0:32, 0:512] "
             "tile_position=(32, 64) tile_size=(32, 32)\n",
             mm);
    good(t, 3);
    bad(t, 2, "tile size 32: row/column tiles are 128, 64 (32 needs NeuronCore-v3)");
    snprintf(t, sizeof t,
             "%snc_matmul dst=acc[0:32, 0:512] stationary=st[0:32, 0:32] moving=mv[0:32, 0:512] "
             "tile_position=(16, 0) tile_size=(32, 32)\n",
             mm);
    bad(t, 3, "tile position 16 must be a multiple of the tile size 32");
}

static void test_engines_and_memories(void) {
    bad(BASE "nc_matmul dst=ps stationary=ps[:, 0:128] moving=s\n", 3,
        "k.tasm:8:18: stationary of nc_matmul must be in sbuf, 'ps' is in psum");
    bad(BASE "tensor_copy dst=s src=ps engine=gpsimd\n", 3,
        "k.tasm:8:19: tensor_copy on engine gpsimd cannot read psum tensor 'ps': GpSimd has no "
        "PSUM access (trainium-facts §2.3)");
    good(BASE "tensor_copy dst=s src=s2 engine=gpsimd\n", 3);
    bad(BASE "nc_transpose dst=s[:, 0:128] data=s2[:, 0:128]\n", 3,
        "nc_transpose on engine tensor cannot write sbuf tensor 's': TensorE writes PSUM only");
    good(BASE "nc_transpose dst=s[0:32, 0:32] data=ps[0:32, 0:32] engine=vector\n", 3);
    bad(BASE "nc_transpose dst=s[0:64, 0:64] data=ps[0:64, 0:64] engine=vector\n", 3,
        "nc_transpose on vector handles at most [32, 32], data is [64, 64]");
    bad(BASE "tensor_tensor dst=s data1=h data2=s2 op=add\n", 3,
        "k.tasm:8:21: data1 of tensor_tensor must be in sbuf or psum, 'h' is in hbm");
    bad(BASE "dma_copy dst=ps src=h\n", 3,
        "dst of dma_copy must be in hbm or sbuf, 'ps' is in psum");
    bad(BASE "tensor_tensor dst=s data1=ps data2=p2 op=add\n", 3,
        "tensor_tensor: data1 and data2 cannot both be in PSUM");
    good(BASE "tensor_tensor dst=s data1=ps data2=s2 op=add\n", 3);
}

static void test_versions_and_dtypes(void) {
    bad(".sbuf e fp8_e4m3 [128, 4]\n", 3,
        "k.tasm:1:1: tensor 'e': fp8_e4m3 (OCP E4M3FN) needs NeuronCore-v4 or newer");
    good(".sbuf e fp8_e4m3 [128, 4]\n", 4);
    bad(".sbuf e fp6_e3m2 [128, 4]\n", 4, "fp6_e3m2 is not a NeuronCore tensor type");
    bad(".sbuf e fp4_e2m1 [128, 4]\n", 4, "fp4_e2m1 exists only packed as fp4_e2m1_x4");
    bad(".sbuf e fp8_e5m2_x4 [128, 4]\n", 3, "MX x4-packed type fp8_e5m2_x4 needs NeuronCore-v4");
    bad(BASE "activate2 dst=s data=s2 op=exp imm0=1.0 imm1=0.0 op0=multiply op1=add\n", 3,
        "k.tasm:8:1: activate2 needs NeuronCore-v4 or newer (target v3)");
    bad(BASE "activation dst=s data=s2 op=exp bias=0.5\n", 2,
        "on NeuronCore-v2 bias must be a [P, 1] tile");
    good(BASE "activation dst=s data=s2 op=exp bias=0.5\n", 3);
    bad(BASE "tensor_copy dst=s src=s2 engine=scalar\n", 2,
        "tensor_copy on the scalar engine needs NeuronCore-v3");
    good(BASE "tensor_copy dst=s src=s2 engine=scalar\n", 3);
    bad(".sbuf u uint32 [128, 8]\nrng dst=u engine=gpsimd\n", 2,
        "rng on gpsimd needs NeuronCore-v3");
    bad(".sbuf u uint32 [128, 24]\nrand_get_state dst=u engine=vector\n", 3,
        "rand_get_state on the vector engine needs NeuronCore-v4");
    bad(BASE "rng dst=s\n", 3, "dst of rng must be int on v3, 's' is f32");
    bad(BASE "dma_copy dst=s src=h priority=1\n", 3, "priority is 0..3 and needs NeuronCore-v4");
    bad(BASE "dma_copy dst=s src=h dge_mode=hwdge\n", 2, "dge_mode=hwdge needs NeuronCore-v3");
    bad(".sbuf a bf16 [128, 512]\n.sbuf q fp8_e4m3_x4 [128, 128]\n.sbuf sc uint8 [128, 128]\n"
        "quantize_mx dst=q src=a[0:100, :] dst_scale=sc\n",
        4, "src of quantize_mx needs a multiple of 32 partitions, got 100");
}

static void test_shapes(void) {
    bad(BASE "tensor_tensor dst=s data1=s2 data2=s[:, 0:256] op=add\n", 3,
        "k.tasm:8:30: data2 's' is 128 partitions x 256 elements, dst 's' is 128 x 512 (the "
        "shapes must agree)");
    bad(BASE "tensor_scalar dst=s data=s2 op0=add operand0=s2\n", 3,
        "operand0 's2' must be a [128, 1] tile (one element per partition), it is 128 x 512");
    good(BASE "tensor_scalar dst=s[0:64] data=s2[0:64] op0=add operand0=v[0:64]\n", 3);
    bad(BASE "dma_copy dst=s src=h[:, 0:511]\n", 3,
        "src 'h' has 65408 elements, dst 's' has 65536");
    good(BASE "dma_copy dst=s[0:64, :] src=h[0:128, 0:256]\n", 3);
    good(BASE "bn_stats dst=s[:, 0:6] data=s2\n", 3);
    bad(BASE ".sbuf w f32 [128, 600]\nbn_stats dst=s[:, 0:6] data=w[:, 0:513]\n", 3,
        "data of bn_stats has 513 elements per partition, the limit is 1..512");
    bad(BASE "bn_aggr dst=s[:, 0:2] data=s2[:, 0:7]\n", 3, "not a multiple of 3");
    bad(BASE "max8 dst=s[:, 0:8] src=s2[:, 0:4]\n", 3,
        "src of max8 has 4 elements per partition, the limit is 8..16384");
    bad(BASE "tensor_reduce dst=v op=add data=s2 axis=0\n", 3,
        "axis must list the last free dimensions of data in order");
    good(".sbuf d f32 [128, 4, 8]\n.sbuf r f32 [128, 1]\ntensor_reduce dst=r op=max data=d "
         "axis=[1, 2]\n",
         3);
    bad(BASE "iota dst=s pattern=[[1, 256]]\n", 3,
        "pattern covers 256 elements, dst has 512 per partition");
    bad(BASE "nc_stream_shuffle dst=s src=s2 shuffle_mask=[0, 1]\n", 3,
        "shuffle_mask has 2 entries, expected 32");
    bad(BASE "tensor_scalar dst=s data=s2 op0=add operand0=1.0 op1=bitwise_and operand1=1.0\n", 3,
        "op0 and op1 must both be arithmetic or both bitvec operators");
}

static void test_examples(void) {
    static const struct {
        const char *file;
        int from;
    } ex[] = {{"tensor_add", 2}, {"mlp_tile", 2},  {"matmul_tiled", 2}, {"softmax", 2},
              {"rmsnorm", 2},    {"transpose", 2}, {"add_manual", 2},   {"matmul_mx", 4}};
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        for (int v = 2; v <= 4; v++) {
            char path[128];
            snprintf(path, sizeof path, "examples/kernels/%s.tasm", ex[i].file);
            trn_asm_opts o = {0};
            o.core_version = v;
            trn_program *p = NULL;
            trn_err e = {0};
            trn_status s = trn_program_assemble_file(path, &o, &p, &e);
            CHECK_MSG(s == TRN_OK, "%s", e.msg);
            if (s == TRN_OK) {
                s = trn_program_verify(p, test_target(v), &e);
                if (v >= ex[i].from)
                    CHECK_MSG(s == TRN_OK, "%s on v%d: %s", path, v, e.msg);
                else
                    CHECK_MSG(s == TRN_E_INVALID, "%s should fail on v%d", path, v);
                CHECK(test_roundtrip(p));
            }
            trn_program_destroy(p);
        }
    }
}

int main(void) {
    test_partitions();
    test_memory_totals();
    test_matmul();
    test_engines_and_memories();
    test_versions_and_dtypes();
    test_shapes();
    test_examples();
    test_hw_done();
    return test_summary();
}

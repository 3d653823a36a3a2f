/* The indirect (gather) form of dma_copy, src_index=IDS: partition p of dst receives row
 * IDS[p] of src's first dimension. Checked against a plain C gather written here, bit for bit,
 * on bf16, f32 and int32 tables, with the edge rows 0 and V-1, a sliced src (rows counted inside
 * the slice, columns as written), a cast (f32 table into a bf16 tile, RNE), a uint16 index tile
 * and a partition-offset dst; an index out of range is a fault naming the file, line,
 * instruction, engine, partition and value (oob_mode=skip leaves that partition untouched);
 * the verifier's rules come with file:line:col; the program survives .tprog and the
 * disassembler; and the timing follows docs/timing-model.md's formula worked here from the
 * catalog, with the whole (sliced) table a dependence of later writes. LABELS: unit */
#include <math.h>

#include "test_core_util.h"
#include "trnsim/timing.h"

static uint32_t bits_of(double v) {
    return test_f32_bits((float)v);
}

/* The reference gather: out[p][j] = tab[(r0 + ids[p] * rs) * W + c0 + j], j < w. */
static void ref_gather(const double *tab, int64_t W, const double *ids, int P, int64_t r0,
                       int64_t rs, int64_t c0, int64_t w, double *out) {
    for (int p = 0; p < P; p++)
        for (int64_t j = 0; j < w; j++)
            out[p * w + j] = tab[(r0 + (int64_t)ids[p] * rs) * W + c0 + j];
}

static int count_diff(const double *a, const double *b, size_t n) {
    int bad = 0;
    for (size_t i = 0; i < n; i++) bad += bits_of(a[i]) != bits_of(b[i]);
    return bad;
}

enum { V = 300, H = 40, P = 128 };
static double tab[V * H], ids[P], out[P * H], ref[P * H];

/* Random rows of a [300, 40] table of dtype dt (values representable in it), ids 0 and 299
 * among them, on core version ver. */
static void gather_dtype(const char *dt, int ver, uint64_t seed) {
    uint64_t s = seed;
    for (int i = 0; i < V * H; i++) {
        if (!strcmp(dt, "int32"))
            tab[i] = (double)(int32_t)(uint32_t)test_rnd64(&s);
        else if (!strcmp(dt, "bf16"))
            tab[i] = ct_bf16(ct_uniform(&s, -50, 50));
        else
            tab[i] = ct_uniform(&s, -50, 50);
    }
    tab[7] = -0.0;
    for (int p = 0; p < P; p++) ids[p] = (double)(test_rnd64(&s) % V);
    ids[0] = 0, ids[1] = V - 1, ids[127] = V - 1, ids[64] = 0, ids[2] = ids[3];
    char k[1024];
    snprintf(k, sizeof k,
             ".input table %s [300, 40]\n.input ids int32 [128, 1]\n.output y %s [128, 40]\n"
             ".sbuf ix int32 [128, 1]\n.sbuf gt %s [128, 40]\n"
             "dma_copy dst=ix src=ids\n"
             "dma_copy dst=gt src=table src_index=ix engine=gpsimd\n"
             "dma_copy dst=y src=gt\n",
             dt, dt, dt);
    ct_io in[] = {{"table", tab, V * H}, {"ids", ids, P}}, o[] = {{"y", out, P * H}};
    ct_outcome r = ct_exec(k, ver, in, 2, o, 1);
    CHECK_MSG(r.s == TRN_OK, "%s v%d: %s", dt, ver, r.msg);
    ref_gather(tab, H, ids, P, 0, 1, 0, H, ref);
    int bad = count_diff(out, ref, P * H);
    if (!strcmp(dt, "int32")) { /* int32 values beyond 2^24 are not floats: compare exactly */
        bad = 0;
        for (int i = 0; i < P * H; i++) bad += out[i] != ref[i];
    }
    CHECK_MSG(bad == 0, "gather %s v%d: %d of %d differ", dt, ver, bad, P * H);
}

static void test_gather(void) {
    gather_dtype("bf16", 2, 1);
    gather_dtype("f32", 3, 2);
    gather_dtype("int32", 4, 3);
    gather_dtype("bf16", 4, 4);

    /* a sliced src: rows 10, 12, .., 298 (145 of them) and columns 8..23; a uint16 index
     * tile; 32 partitions from partition 32; an f32 table cast into a bf16 tile (RNE) */
    uint64_t s = 9;
    for (int i = 0; i < V * H; i++) tab[i] = ct_uniform(&s, -50, 50);
    double id2[32], o2[32 * 16], r2[32 * 16];
    for (int p = 0; p < 32; p++) id2[p] = (double)(test_rnd64(&s) % 145);
    id2[0] = 0, id2[31] = 144;
    const char *k = ".input table f32 [300, 40]\n.input ids uint16 [32, 1]\n"
                    ".output y bf16 [32, 16]\n"
                    ".sbuf ix uint16 [64, 1]\n.sbuf gt bf16 [64, 16]\n"
                    "dma_copy dst=ix[32:64, :] src=ids\n"
                    "dma_copy dst=gt[32:64, :] src=table[10:300:2, 8:24] src_index=ix[32:64, :] "
                    "engine=gpsimd dge_mode=swdge\n"
                    "dma_copy dst=y src=gt[32:64, :]\n";
    ct_io in[] = {{"table", tab, V * H}, {"ids", id2, 32}}, o[] = {{"y", o2, 32 * 16}};
    ct_outcome r = ct_exec(k, 3, in, 2, o, 1);
    CHECK_MSG(r.s == TRN_OK, "sliced: %s", r.msg);
    ref_gather(tab, H, id2, 32, 10, 2, 8, 16, r2);
    for (int i = 0; i < 32 * 16; i++) r2[i] = ct_bf16((float)r2[i]);
    CHECK_MSG(count_diff(o2, r2, 32 * 16) == 0, "sliced f32->bf16 gather differs");
}

static const char *fk = ".input table f32 [300, 40]\n.input ids int32 [128, 1]\n"
                        ".output y f32 [128, 40]\n"
                        ".sbuf ix int32 [128, 1]\n.sbuf gt f32 [128, 40]\n"
                        "dma_copy dst=ix src=ids\n"
                        "memset dst=gt value=7.5\n"
                        "dma_copy dst=gt src=table src_index=ix engine=gpsimd%s\n"
                        "dma_copy dst=y src=gt\n";

static void test_faults(void) {
    uint64_t s = 5;
    for (int i = 0; i < V * H; i++) tab[i] = ct_uniform(&s, -50, 50);
    for (int p = 0; p < P; p++) ids[p] = (double)(test_rnd64(&s) % V);
    char k[1024];
    snprintf(k, sizeof k, fk, "");
    ct_io in[] = {{"table", tab, V * H}, {"ids", ids, P}}, o[] = {{"y", out, P * H}};
    /* one past the end, then a negative id: faults naming line, instruction, engine,
     * partition and value */
    ids[5] = V;
    ct_outcome r = ct_exec(k, 3, in, 2, NULL, 0);
    CHECK(r.s == TRN_E_FAULT);
    CHECK_CONTAINS(r.msg, "k.tasm:8: dma_copy (gpsimd, instruction 2): illegal operand: "
                          "src_index 'ix' [partition 5] = 300: row 300 lies outside src 'table' "
                          "(rows 0..299 of its first dimension)");
    CHECK_EQ_INT(r.f.line, 8);
    CHECK_EQ_INT(r.f.instr, 2);
    CHECK_EQ_INT(r.f.engine, TRN_ENGINE_POOL);
    CHECK_EQ_INT(r.f.op, TRN_OP_DMA_COPY);
    ids[5] = 3, ids[100] = -1;
    r = ct_exec(k, 3, in, 2, NULL, 0);
    CHECK(r.s == TRN_E_FAULT);
    CHECK_CONTAINS(r.msg, "src_index 'ix' [partition 100] = -1: row -1 lies outside");

    /* oob_mode=skip: partitions 5 and 100 keep the memset value, the others get their rows */
    ids[5] = V + 17;
    snprintf(k, sizeof k, fk, " oob_mode=skip");
    r = ct_exec(k, 3, in, 2, o, 1);
    CHECK_MSG(r.s == TRN_OK, "skip: %s", r.msg);
    int bad = 0;
    for (int p = 0; p < P; p++)
        for (int j = 0; j < H; j++) {
            double want = (p == 5 || p == 100) ? 7.5 : tab[(int)ids[p] * H + j];
            bad += bits_of(out[p * H + j]) != bits_of(want);
        }
    CHECK_MSG(bad == 0, "oob_mode=skip: %d elements differ", bad);
}

/* The verifier's rules: each bad line gives "k.tasm:LINE:COL: ..." with the reason. */
static void expect_bad(const char *body, const char *want) {
    char text[1024];
    snprintf(text, sizeof text,
             ".input table bf16 [300, 40]\n.input ids int32 [128, 1]\n"
             ".sbuf ix int32 [128, 2]\n.sbuf fx f32 [128, 1]\n.sbuf gt bf16 [128, 40]\n"
             ".sbuf st bf16 [128, 40]\n.output y bf16 [128, 40]\n%s\n",
             body);
    trn_asm_opts o = {0};
    o.core_version = 3;
    trn_program *p = NULL;
    trn_err e = {0};
    trn_status s = trn_program_assemble(text, "k.tasm", &o, &p, &e);
    if (s == TRN_OK) s = trn_program_verify(p, ct_target(3), &e);
    CHECK_MSG(s != TRN_OK, "'%s' was accepted", body);
    CHECK_CONTAINS(e.msg, want);
    trn_program_destroy(p);
}

static void test_rules(void) {
    expect_bad("dma_copy dst=gt src=table src_index=fx engine=gpsimd",
               "k.tasm:8:27: src_index of dma_copy must be int on v3, 'fx' is f32");
    expect_bad("dma_copy dst=gt src=table src_index=ix engine=gpsimd",
               "k.tasm:8:27: src_index 'ix' must be a [128, 1] tile (one row index per "
               "partition of dst), it is 128 x 2");
    expect_bad("dma_copy dst=gt src=table src_index=ix[0:64, 0:1] engine=gpsimd",
               "k.tasm:8:27: src_index 'ix' must be a [128, 1] tile");
    expect_bad("dma_copy dst=gt src=st src_index=ix[:, 0:1] engine=gpsimd",
               "k.tasm:8:17: src of a dma_copy with src_index must be an HBM tensor");
    expect_bad("dma_copy dst=y src=table src_index=ix[:, 0:1] engine=gpsimd",
               "k.tasm:8:10: dst of a dma_copy with src_index must be in sbuf");
    expect_bad("dma_copy dst=gt src=table src_index=ix[:, 0:1]",
               "k.tasm:8:1: dma_copy with src_index (an indirect gather) needs software DGE");
    expect_bad("dma_copy dst=gt src=table src_index=ix[:, 0:1] engine=sync",
               "engine=gpsimd (engine is sync)");
    expect_bad("dma_copy dst=gt src=table src_index=ix[:, 0:1] engine=gpsimd dge_mode=hwdge",
               "k.tasm:8:62: dma_copy with src_index gathers through software DGE");
    expect_bad("dma_copy dst=gt src=table[5, :] src_index=ix[:, 0:1] engine=gpsimd",
               "k.tasm:8:17: src 'table' of a dma_copy with src_index must keep its first "
               "dimension");
    expect_bad("dma_copy dst=gt src=table[:, 0:20] src_index=ix[:, 0:1] engine=gpsimd",
               "k.tasm:8:10: dst 'gt' has 40 elements per partition, one row of src 'table' has "
               "20");
    expect_bad("dma_copy dst=gt src=table src_index=ids engine=gpsimd",
               "k.tasm:8:27: src_index of dma_copy must be in sbuf, 'ids' is in hbm");
}

/* .tprog bytes of text assembled for v3. */
static int tprog_of(const char *text, void **data, size_t *n) {
    trn_asm_opts o = {0};
    o.core_version = 3;
    trn_program *p = NULL;
    trn_err e = {0};
    int ok = trn_program_assemble(text, "k.tasm", &o, &p, &e) == TRN_OK &&
             trn_program_to_tprog(p, data, n, &e) == TRN_OK;
    if (!ok) fprintf(stderr, "%s\n", e.msg);
    trn_program_destroy(p);
    return ok;
}

static void test_roundtrip(void) {
    const char *k = ".input table bf16 [300, 40]\n.input ids int32 [64, 1]\n"
                    ".output y bf16 [64, 16]\n.sbuf ix int32 [64, 1]\n.sbuf gt bf16 [64, 16]\n"
                    "dma_copy dst=ix src=ids\n"
                    "dma_copy dst=gt src=table[10:300:2, 8:24] src_index=ix engine=gpsimd "
                    "oob_mode=skip\n"
                    "dma_copy dst=y src=gt\n";
    void *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    CHECK(tprog_of(k, &a, &na));
    /* the .tprog loads back to a program that disassembles to text giving the same bytes */
    trn_program *p = NULL;
    trn_err e = {0};
    CHECK(trn_program_from_tprog(a, na, "k.tprog", &p, &e) == TRN_OK);
    FILE *f = tmpfile();
    CHECK(f != NULL);
    char text[8192] = "";
    if (f && p) {
        trn_program_disasm(p, f);
        rewind(f);
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = 0;
        fclose(f);
    }
    CHECK_CONTAINS(text, "src=table[10:299:2, 8:24] oob_mode=skip src_index=ix engine=gpsimd");
    CHECK(tprog_of(text, &b, &nb));
    CHECK_MSG(na == nb && a && b && !memcmp(a, b, na), "disasm round trip changed the .tprog");
    trn_program_destroy(p);
    free(a), free(b);
}

/* DMA efficiency of the catalog's curve, computed here (as in test_timing_cost.c). */
static double eff(const trn_hw_core *c, double bytes) {
    double bw = c->dma_engine_practical_bps.value * 1e-9;
    double td = c->dma_saturation_bytes.value / bw * (1 / c->dma_sat_efficiency.value - 1);
    return (bytes / bw) / (td + bytes / bw);
}

/* One gather of 128 rows of 256 bf16 (512 bytes) from a [1000, 256] table, alone, then a write
 * of the table's last row: the gather takes GpSimd's kernel start (software DGE) on Pool, then
 * on each of the 16 queues the fixed cost and its 8 rows at the practical rate x the
 * efficiency of one row's 512 bytes; it reads 128 rows, not the table; the write waits for it. */
static void test_timing(void) {
    const char *k = ".input table bf16 [1000, 256]\n.sbuf ix int32 [128, 1]\n"
                    ".sbuf gt bf16 [128, 256]\n.sbuf rw bf16 [1, 256]\n"
                    "iota dst=ix pattern=[[0, 1]] offset=0 channel_multiplier=7\n"
                    "memset dst=rw value=1\n"
                    "dma_copy dst=gt src=table src_index=ix engine=gpsimd\n"
                    "dma_copy dst=table[999:1000, :] src=rw\n";
    for (int v = 2; v <= 4; v++) {
        char name[8];
        snprintf(name, sizeof name, "v%d", v);
        trn_program *p = ct_prog(k, "t.tasm", v);
        const trn_hw_core *core = trn_hw_core_get(ct_hw_, name);
        trn_timing *t = NULL;
        trn_err e = {0};
        CHECK_MSG(trn_timing_run(p, core, NULL, NULL, &t, &e) == TRN_OK, "v%d: %s", v, e.msg);
        if (t) {
            int n = 0;
            const trn_timing_instr *in = trn_timing_instrs(t, &n);
            double issue = ceil(core->gpsimd_start_cycles.value) * 1e9 / core->gpsimd_hz.value;
            double qbytes = 128.0 * 256 * 2 / core->dma_engines.value;
            double want = issue + core->dma_fixed_ns.value +
                          qbytes / (core->dma_engine_practical_bps.value * 1e-9 * eff(core, 512));
            double got = in[2].end_ns - in[2].start_ns;
            CHECK_MSG(fabs(got - want) <= 1e-6 * want, "v%d gather: %.3f ns, want %.3f", v, got,
                      want);
            CHECK_EQ_INT((long long)in[2].bytes, 128 * 256 * 2);
            CHECK_EQ_INT(in[2].engine, TRN_ENGINE_POOL);
            CHECK_MSG(in[3].start_ns >= in[2].end_ns - 1e-9,
                      "v%d: the table write starts at %.1f ns, before the gather ends (%.1f)", v,
                      in[3].start_ns, in[2].end_ns);
        }
        trn_timing_destroy(t);
        trn_program_destroy(p);
    }
}

int main(void) {
    test_gather();
    test_faults();
    test_rules();
    test_roundtrip();
    test_timing();
    ct_done();
    return test_summary();
}

/* The lowered EMBED kernel (y[t, :] = table[ids[t], :]) run through the runtime on trn1, trn2
 * and trn3 against a plain C gather, bit for bit: the table rounded to its dtype on the way in
 * (RNE, the core's write), then to the output dtype by the gather's cast (RNE; bf16 -> f32 is
 * exact). Shapes: m not a multiple of 128, rows wider than one 8192-column chunk, a single
 * token, the edge ids 0 and k-1. Also: the double-buffered pipeline is faster than its tiles one
 * after another, an id out of range is the gather's fault through the runtime, and bad shapes
 * are refused with a message naming the field. LABELS: unit */
#include "test_lower_util.h"
#include "trnsim/runtime.h"

static trn_hw *hw;

/* The value x takes in dtype t, written here (bf16 by ct_bf16's RNE; f32 exact). */
static double in_dtype(trn_dtype t, double x) {
    return t == TRN_DTYPE_BF16 ? ct_bf16((float)x) : (double)(float)x;
}

/* Runs EMBED m x [k, n] (dtype dt -> out_dtype ot) on chip with random ids (0 and k-1 among
 * them) and checks every output bit. */
static void embed_case(const char *chip, int64_t m, int64_t k, int64_t n, trn_dtype dt,
                       trn_dtype ot, uint64_t seed) {
    trn_runtime *rt = NULL;
    trn_err err = {0};
    CHECK_EQ_INT(trn_runtime_create(hw, chip, &rt, &err), TRN_OK);
    double *tab = malloc((size_t)(k * n) * sizeof *tab), *ids = malloc((size_t)m * sizeof *ids);
    double *y = malloc((size_t)(m * n) * sizeof *y);
    if (!rt || !tab || !ids || !y) abort();
    uint64_t s = seed;
    for (int64_t i = 0; i < k * n; i++) tab[i] = ct_uniform(&s, -3, 3);
    for (int64_t t = 0; t < m; t++) ids[t] = (double)(test_rnd64(&s) % (uint64_t)k);
    ids[0] = (double)(k - 1);
    if (m > 1) ids[m - 1] = 0;
    if (m > 200) ids[200] = ids[3];
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_EMBED, op.m = m, op.k = k, op.n = n, op.dtype = dt, op.out_dtype = ot;
    trn_binding in[2] = {{"ids", ids, (size_t)m}, {"table", tab, (size_t)(k * n)}};
    trn_binding out[1] = {{"y", y, (size_t)(m * n)}};
    trn_op_profile pr;
    trn_status st = trn_runtime_run(rt, &op, in, 2, out, 1, &pr, &err);
    CHECK_MSG(st == TRN_OK, "%s embed m=%lld k=%lld n=%lld: %s", chip, (long long)m, (long long)k,
              (long long)n, err.msg);
    int64_t bad = 0;
    for (int64_t t = 0; st == TRN_OK && t < m; t++)
        for (int64_t j = 0; j < n; j++) {
            double want = in_dtype(ot, in_dtype(dt, tab[(int64_t)ids[t] * n + j]));
            bad += test_f32_bits((float)y[t * n + j]) != test_f32_bits((float)want);
        }
    CHECK_MSG(bad == 0, "%s embed m=%lld k=%lld n=%lld %s->%s: %lld of %lld differ", chip,
              (long long)m, (long long)k, (long long)n, trn_dtype_name(dt), trn_dtype_name(ot),
              (long long)bad, (long long)(m * n));
    /* it moves the gathered rows and the ids, not the table (the profile counts a transfer's
     * written bytes: the rows as they land in SBUF, in the output dtype) */
    if (st == TRN_OK) {
        uint64_t eb = (uint64_t)trn_dtype_container_bytes(ot);
        CHECK_EQ_INT((long long)pr.hbm_read_bytes, (long long)((uint64_t)(m * n) * eb + 4 * m));
        CHECK_EQ_INT((long long)pr.hbm_write_bytes,
                     (long long)((uint64_t)(m * n) * trn_dtype_container_bytes(ot)));
        CHECK(pr.flops == 0 && pr.time_ns > 0);
    }
    free(tab), free(ids), free(y);
    trn_runtime_destroy(rt);
}

static void test_embed(void) {
    embed_case("trn2", 300, 1000, 96, TRN_DTYPE_BF16, TRN_DTYPE_BF16, 1);
    embed_case("trn1", 130, 50, 8192 + 300, TRN_DTYPE_F32, TRN_DTYPE_BF16, 2); /* 2 chunks */
    embed_case("trn3", 1, 7, 5, TRN_DTYPE_BF16, TRN_DTYPE_F32, 3);
    embed_case("trn3", 257, 4096, 64, TRN_DTYPE_F32, TRN_DTYPE_F32, 4);
    embed_case("trn2", 128, 2, 3 * 8192, TRN_DTYPE_BF16, TRN_DTYPE_BF16, 5); /* 3 full chunks */
}

/* The kernel's text: one gather per (tile, chunk), issued from GpSimd, the next one ahead of
 * the current store. */
static void test_text(void) {
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_EMBED, op.m = 200, op.k = 10, op.n = 8200;
    op.dtype = op.out_dtype = TRN_DTYPE_BF16;
    char *t = NULL;
    trn_err err = {0};
    CHECK_EQ_INT(trn_lower_emit(&op, ct_target(3), &t, &err), TRN_OK);
    if (!t) return;
    int gathers = 0;
    for (const char *q = t; (q = strstr(q, "src_index=")) != NULL; q++) gathers++;
    CHECK_EQ_INT(gathers, 4); /* 2 tiles x 2 chunks */
    const char *g2 = strstr(t, "dma_copy dst=gt[0:128, 1, 0:8] src=table[0:10, 8192:8200] "
                               "src_index=ix[0:128, 0:1] engine=gpsimd");
    const char *s1 = strstr(t, "dma_copy dst=y[0:128, 0:8192] src=gt[0:128, 0, 0:8192]");
    CHECK_MSG(g2 && s1 && g2 < s1, "the second gather is not issued before the first store:\n%s",
              t);
    CHECK(strstr(t, "dma_copy dst=ix[0:72, 1:2] src=ids[128:200, 0:1]") != NULL);
    free(t);
}

/* Double buffering: 8 tiles take less than 8 times one tile (same chip, same columns). */
static void test_overlap(void) {
    trn_runtime *rt = NULL;
    trn_err err = {0};
    CHECK_EQ_INT(trn_runtime_create(hw, "trn2", &rt, &err), TRN_OK);
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_EMBED, op.k = 128256, op.n = 4096;
    op.dtype = op.out_dtype = TRN_DTYPE_BF16;
    trn_op_profile one, eight;
    op.m = 128;
    CHECK_EQ_INT(trn_runtime_time(rt, &op, &one, &err), TRN_OK);
    op.m = 1024;
    CHECK_EQ_INT(trn_runtime_time(rt, &op, &eight, &err), TRN_OK);
    CHECK_MSG(eight.time_ns < 8 * one.time_ns * 0.9, "8 tiles %.1f ns, one tile %.1f ns",
              eight.time_ns, one.time_ns);
    printf("embed trn2 k=128256 n=4096 bf16: m=128 %.2f us, m=1024 %.2f us\n", one.time_ns / 1e3,
           eight.time_ns / 1e3);
    trn_runtime_destroy(rt);
}

static void test_errors(void) {
    trn_runtime *rt = NULL;
    trn_err err = {0};
    CHECK_EQ_INT(trn_runtime_create(hw, "trn2", &rt, &err), TRN_OK);
    /* an id out of range: the gather's fault, through the runtime */
    double tab[4 * 3] = {0}, ids[2] = {1, 4}, y[6];
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_EMBED, op.m = 2, op.k = 4, op.n = 3;
    op.dtype = op.out_dtype = TRN_DTYPE_F32;
    trn_binding in[2] = {{"ids", ids, 2}, {"table", tab, 12}}, out[1] = {{"y", y, 6}};
    CHECK_EQ_INT(trn_runtime_run(rt, &op, in, 2, out, 1, NULL, &err), TRN_E_FAULT);
    CHECK_CONTAINS(err.msg, "src_index 'ix' [partition 1] = 4: row 4 lies outside src 'table' "
                            "(rows 0..3 of its first dimension)");
    trn_runtime_destroy(rt);
    /* bad shapes */
    const trn_isa_target *t = ct_target(3);
    op.k = 0;
    CHECK_EQ_INT(trn_lower_check(&op, t, &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "embed: k = 0 table rows, n = 3 columns (expected k 1 to 2147483647");
    op.k = 4, op.n = (1 << 20) + 1;
    CHECK_EQ_INT(trn_lower_check(&op, t, &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "n = 1048577 columns");
    op.n = 3, op.m = 0;
    CHECK_EQ_INT(trn_lower_check(&op, t, &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "embed: m = 0");
    op.m = 2, op.dtype = TRN_DTYPE_INT32;
    CHECK_EQ_INT(trn_lower_check(&op, t, &err), TRN_E_INVALID);
    CHECK_CONTAINS(err.msg, "embed: dtype int32 (expected bf16 or f32)");
    op.dtype = TRN_DTYPE_F32;
    CHECK_EQ_INT(trn_lower_check(&op, t, &err), TRN_OK);
    CHECK_EQ_INT((long long)trn_lower_flops(&op), 0);
}

int main(void) {
    if (trn_hw_create(&hw, NULL) != TRN_OK) return 2;
    test_embed();
    test_text();
    test_overlap();
    test_errors();
    trn_hw_destroy(hw);
    ct_done();
    return test_summary();
}

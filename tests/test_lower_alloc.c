/* The lowering's on-chip allocator: lw_pack on hand-worked sets of live intervals (SBUF and
 * PSUM, with the exact offsets worked out below), and the emitter's use of it: every tile of a
 * lowered kernel is declared with offset=, tiles stay apart (declaration order) when that
 * fits, and the RMSNORM of a row too wide for its tiles side by side fits by reuse, with the
 * declared sum and the placed peak reported.
 * LABELS: unit */
#include "compiler/lower_impl.h"
#include "harness.h"
#include "isa_test_util.h"

static void test_pack_sbuf(void) {
    /* bytes, first, last. Order by size (ties by index): A F B C D E G.
     *   A 4096 [0,10]  -> 0     (nothing placed)
     *   F 4096 [11,12] -> 0     (A ends at 10: no conflict)
     *   B 2048 [0,4]   -> 4096  (0 clashes A)
     *   C 2048 [5,10]  -> 4096  (clashes A only; B is dead by 5)
     *   D 1024 [3,7]   -> 6144  (A, B and C are live: 0 and 4096 clash)
     *   E  960 [11,12] -> 4096  (F only: 0 clashes)
     *   G   64 unused  -> 0
     * peak 7168, against 15296 bytes side by side */
    lw_ival iv[] = {{4096, 0, 10, 9}, {2048, 0, 4, 9},   {2048, 5, 10, 9}, {1024, 3, 7, 9},
                    {960, 11, 12, 9}, {4096, 11, 12, 9}, {64, -1, -1, 9}};
    static const uint64_t want[] = {0, 4096, 4096, 6144, 4096, 0, 0};
    CHECK_EQ_INT(lw_pack(iv, 7, 0), 7168);
    for (int i = 0; i < 7; i++) CHECK_EQ_INT(iv[i].off, want[i]);
    /* every pair live at once is apart */
    for (int i = 0; i < 7; i++)
        for (int j = 0; j < i; j++)
            if (iv[i].first >= 0 && iv[j].first >= 0 && iv[i].first <= iv[j].last &&
                iv[j].first <= iv[i].last)
                CHECK(iv[i].off + iv[i].bytes <= iv[j].off || iv[j].off + iv[j].bytes <= iv[i].off);
}

static void test_pack_psum(void) {
    /* Order S P Q R T.
     *   S 4096 [6,9] -> 0     (larger than a bank: on a bank)
     *   P 2048 [0,5] -> 0     (S is not live yet)
     *   Q 1536 [0,2] -> 2048  (0 clashes P)
     *   R 1024 [3,5] -> 2048  (clashes P only; Q is dead by 3)
     *   T 1024 [0,5] -> 4096  (0: P; 2048: Q; 3072: Q; 3584 would straddle banks 1 and 2)
     * peak 5120 */
    lw_ival iv[] = {
        {2048, 0, 5, 1}, {1536, 0, 2, 1}, {1024, 3, 5, 1}, {4096, 6, 9, 1}, {1024, 0, 5, 1}};
    static const uint64_t want[] = {0, 2048, 2048, 0, 4096};
    CHECK_EQ_INT(lw_pack(iv, 5, 1), 5120);
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(iv[i].off, want[i]);
    CHECK_EQ_INT(lw_pack(iv, 0, 1), 0);
}

/* Offset given to tile `name` in `text`, or -1. */
static long long offset_of(const char *text, const char *decl) {
    const char *p = strstr(text, decl);
    if (!p) return -1;
    const char *o = strstr(p, "offset=");
    const char *nl = strchr(p, '\n');
    if (!o || (nl && o > nl)) return -1;
    return atoll(o + 7);
}

static void test_emitter(void) {
    const trn_isa_target *t = test_target(3);
    /* rmsnorm, a row of n per partition: tiles xt (2 rows of x), sq, xh, yt (2), st, ones, grow,
     * gbc, ps. grow and ps are dead once g is broadcast into gbc, sq once the sum of squares
     * is taken */
    trn_lower_op op;
    memset(&op, 0, sizeof op);
    op.kind = TRN_LOWER_RMSNORM;
    op.dtype = op.out_dtype = TRN_DTYPE_BF16;
    op.m = 256;
    op.n = 4096;
    op.eps = 1e-5;
    char *text = NULL;
    trn_err e = {0};
    CHECK_MSG(trn_lower_emit(&op, t, &text, &e) == TRN_OK, "%s", e.msg);
    if (text) { /* side by side fits: declaration order, as the assembler would place them */
        CHECK_EQ_INT(offset_of(text, ".sbuf xt "), 0);
        CHECK_EQ_INT(offset_of(text, ".sbuf sq "), 2 * 4096 * 2);
        CHECK_EQ_INT(offset_of(text, ".psum ps "), 0);
        CHECK(strstr(text, "] offset=") != NULL);
        trn_program *p = NULL;
        CHECK_MSG(trn_lower_compile(&op, t, &p, &e) == TRN_OK, "%s", e.msg);
        if (p) CHECK_EQ_INT(p->sbuf_bytes, 16384 * 3 + 8192 + 64 + 256 + 8192 * 2);
        trn_program_destroy(p);
    }
    free(text);
}

/* trn_lower_mem_get: RMSNORM of 4096 (bf16) on v3. Tiles: xt 16384 (2 rows), sq 16384, xh
 * 8192, yt 16384, st 64, ones 256, grow 8192, gbc 8192: the sum 74048. ones and grow live only
 * while g is broadcast into gbc (before the first row is loaded), the rest from then on; by
 * size: xt 0, sq 16384, yt 32768, xh 49152, grow 0 (only gbc meets it), gbc 57344, ones 8192
 * (above grow), st 65536: the peak 65600. PSUM: ps alone, 2048. A row of 11264 on v2: side
 * by side 18 x 11264 + 320 = 203072 bytes, over the 196608 of a partition: the row is streamed
 * in chunks instead (the whole-row kernel's peak, 16 x 11264 + 64 = 180288, would fit; see
 * lower_rows.c). */
static void test_mem(void) {
    trn_lower_op op;
    memset(&op, 0, sizeof op);
    op.kind = TRN_LOWER_RMSNORM;
    op.dtype = op.out_dtype = TRN_DTYPE_BF16;
    op.m = 256, op.n = 4096, op.eps = 1e-5;
    trn_lower_mem m;
    trn_err e = {0};
    CHECK_MSG(trn_lower_mem_get(&op, test_target(3), &m, &e) == TRN_OK, "%s", e.msg);
    CHECK_EQ_INT(m.tiles, 9);
    CHECK_EQ_INT(m.sbuf_sum, 74048);
    CHECK_EQ_INT(m.sbuf_peak, 65600);
    CHECK_EQ_INT(m.psum_sum, 2048);
    CHECK_EQ_INT(m.psum_peak, 2048);
    CHECK_EQ_INT(m.packed, 0);
    op.m = 130, op.n = 11264;
    CHECK_MSG(trn_lower_mem_get(&op, test_target(2), &m, &e) == TRN_OK, "%s", e.msg);
    CHECK(m.sbuf_sum <= 196608); /* the chunked kernel */
    CHECK_EQ_INT(m.packed, 0);
    /* a limit below the single largest tile: the message names the tile */
    op.kind = TRN_LOWER_LINEAR, op.m = 128, op.k = 128, op.n = 512, op.sbuf_limit_bytes = 64;
    CHECK_EQ_INT(trn_lower_mem_get(&op, test_target(3), &m, &e), TRN_E_UNSUPPORTED);
}

/* The emitter's live ranges on a hand-written body: A, B, C of 1024 bytes each; C is written
 * inside a loop that also reads A, so both ranges extend to the whole loop and A and C conflict
 * (instructions: 0 memset A; loop: 1 copy A -> B, 2 memset C; 3 copy B -> C). Side by side
 * (3072) exceeds the 2560 allowed, so the tiles are packed: A 0, B 1024, C 2048 (peak 3072,
 * still too much: lw_finish fails naming both figures). Without the loop, A dies at 1 and C
 * takes its bytes: A 0, B 1024, C 0, peak 2048, and the declarations carry those offsets. */
static void test_loop_ranges(void) {
    trn_lower_op op;
    memset(&op, 0, sizeof op);
    op.kind = TRN_LOWER_ADD;
    op.sbuf_limit_bytes = 2560;
    for (int loop = 1; loop >= 0; loop--) {
        lw e;
        lw_init(&e, &op, test_target(3));
        lw_printf(&e, ".kernel k\n");
        for (int i = 0; i < 3; i++)
            lw_tile(&e, TRN_MEM_SBUF,
                    i == 0   ? "A"
                    : i == 1 ? "B"
                             : "C",
                    TRN_DTYPE_F32, 2, (int64_t[]){128, 256});
        lw_printf(&e, "memset dst=A value=1.0\n%s", loop ? ".for i in 0..2\n" : "");
        lw_printf(&e, "tensor_copy dst=B[:, 0:256] src=A\nmemset dst=C value=0.0\n%s",
                  loop ? ".end\n" : "");
        lw_printf(&e, "tensor_copy dst=C src=B\n");
        uint64_t sb = 0, ps = 0;
        lw_peak(&e, &sb, &ps);
        CHECK_EQ_INT(e.tiles[0].first, 0);
        CHECK_EQ_INT(e.tiles[0].last, loop ? 2 : 1);
        CHECK_EQ_INT(e.tiles[1].first, 1);
        CHECK_EQ_INT(e.tiles[1].last, 3);
        CHECK_EQ_INT(e.tiles[2].first, loop ? 1 : 2); /* the loop: from its start */
        CHECK_EQ_INT(e.tiles[2].last, 3);
        CHECK_EQ_INT(sb, loop ? 3072 : 2048);
        CHECK_EQ_INT(e.tiles[2].off, loop ? 2048 : 0);
        trn_err err = {0};
        trn_status st = lw_finish(&e, &err);
        if (loop) {
            CHECK_EQ_INT(st, TRN_E_UNSUPPORTED);
            CHECK(strstr(err.msg, "needs 3072 bytes of SBUF per partition") != NULL);
            CHECK(strstr(err.msg, "3072 declared") != NULL);
            CHECK(strstr(err.msg, "is limited to 2560") != NULL);
        } else {
            CHECK_EQ_INT(st, TRN_OK);
            CHECK(e.buf && strstr(e.buf, ".sbuf A      f32 [128, 256] offset=0\n"
                                         ".sbuf B      f32 [128, 256] offset=1024\n"
                                         ".sbuf C      f32 [128, 256] offset=0\n"
                                         "memset dst=A") != NULL);
        }
        lw_fini(&e);
    }
}

int main(void) {
    test_pack_sbuf();
    test_pack_psum();
    test_emitter();
    test_mem();
    test_loop_ranges();
    test_hw_done();
    return test_summary();
}

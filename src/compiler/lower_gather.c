/* EMBED: y[t, :] = table[ids[t], :], the token (or position) embedding as a row gather on the
 * chip. Tokens go 128 to a tile, one per partition; each tile's ids are DMA'd into SBUF (the
 * next tile's a tile ahead), and one indirect dma_copy per column chunk (src_index: software
 * DGE, issued from GpSimd) gathers the tile's rows of the table into SBUF, casting to the output
 * dtype on the way (dma_copy's src -> FP32 -> dst rounding); a plain DMA stores the chunk. The
 * gather of step i is issued before the store of step i - 1, into the other of two buffers, so
 * the two overlap.
 *
 * Deliberately left out: ids outside 0..k-1 are the gather's run-time fault (no clamping, no
 * padding row), and a table larger than one HBM is the runner's concern. */
#include "lower_impl.h"

#define LL (long long)

/* Columns of one gathered chunk: 8192 bf16 columns are 16 KiB per partition (a Llama-3 row of
 * 4096 in one chunk); wider rows are gathered in chunks, each its own indirect DMA. */
#define EMBED_CHUNK 8192

/* The store's queue: ScalarE's (hardware DGE) on v3+, as the row ops store. */
static const char *st_eng(lw *e) {
    return e->t->version >= 3 ? " engine=scalar" : "";
}

trn_status lw_embed(lw *e, trn_err *err) {
    const trn_lower_op *op = e->op;
    int64_t M = op->m, V = op->k, N = op->n, CW = lw_min(N, EMBED_CHUNK);
    lw_printf(e,
              ".kernel embed\n.input ids int32 [%lld, 1]\n.input table %s [%lld, %lld]\n"
              ".output y %s [%lld, %lld]\n",
              LL M, trn_dtype_name(op->dtype), LL V, LL N, trn_dtype_name(op->out_dtype), LL M,
              LL N);
    lw_tile(e, TRN_MEM_SBUF, "ix", TRN_DTYPE_INT32, 2, (int64_t[]){128, 2});
    lw_tile(e, TRN_MEM_SBUF, "gt", op->out_dtype, 3, (int64_t[]){128, 2, CW});
    trn_status s = lw_check_fit(e, "embed", err);
    if (s != TRN_OK) return s;
    const char *ld = lw_dma_engine(e);
    int64_t nt = lw_cdiv(M, 128), nc = lw_cdiv(N, CW), steps = nt * nc;
    lw_printf(e, "dma_copy dst=ix[0:%lld, 0:1] src=ids[0:%lld, 0:1]%s\n", LL lw_min(128, M),
              LL lw_min(128, M), ld);
    for (int64_t i = 0; i <= steps; i++) {
        if (i < steps) {
            int64_t t = i / nc, c = i % nc, r0 = t * 128, r = lw_min(128, M - r0), c0 = c * CW,
                    w = lw_min(CW, N - c0);
            if (c == 0 && t + 1 < nt) { /* the next tile's ids, into the other slot */
                int64_t n0 = r0 + 128, nr = lw_min(128, M - n0);
                lw_printf(e, "dma_copy dst=ix[0:%lld, %d:%d] src=ids[%lld:%lld, 0:1]%s\n", LL nr,
                          (int)((t + 1) % 2), (int)((t + 1) % 2 + 1), LL n0, LL(n0 + nr), ld);
            }
            lw_printf(e,
                      "dma_copy dst=gt[0:%lld, %d, 0:%lld] src=table[0:%lld, %lld:%lld] "
                      "src_index=ix[0:%lld, %d:%d] engine=gpsimd\n",
                      LL r, (int)(i % 2), LL w, LL V, LL c0, LL(c0 + w), LL r, (int)(t % 2),
                      (int)(t % 2 + 1));
        }
        if (i == 0) continue;
        int64_t j = i - 1, r0 = j / nc * 128, r = lw_min(128, M - r0), c0 = j % nc * CW,
                w = lw_min(CW, N - c0);
        lw_printf(e, "dma_copy dst=y[%lld:%lld, %lld:%lld] src=gt[0:%lld, %d, 0:%lld]%s\n", LL r0,
                  LL(r0 + r), LL c0, LL(c0 + w), LL r, (int)(j % 2), LL w, st_eng(e));
    }
    return TRN_OK;
}

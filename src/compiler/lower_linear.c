/* LINEAR: y[m, n] = act(x[m, k] @ W[k, n] + b) as one NeuronCore kernel.
 *
 * Tiling. Tokens go in blocks of 128 * T (T token tiles); output columns in groups of one
 * 512-column weight panel (one PSUM bank of FP32 per token tile; the last panel only as wide as
 * the rest of n rounded up to TRN_LOWER_PANEL_ALIGN, lower.h). For each (block, group) the
 * weights stream in K chunks: the chunk [kc slots x 128 rows, width] comes in one DMA from the
 * panel (contiguous, since w is stored panel-major). Row k0 + kc p + j of a chunk sits at
 * partition p, slot j (the row-major split a single DMA gives), and x must be transposed to
 * the same mapping: by one dma_transpose of x[block rows, chunk columns] (v3+, bf16 x), or on
 * v2 and for f32 x by row loads and TensorE transposes of strided column sets. When it fits,
 * the block's transposed x stays resident for every panel (two blocks: the next one loads
 * during this one), else it is streamed with each weight chunk: re-transposed per panel, or
 * (spill, when spill_pays) transposed once into the HBM scratch tensor xh in a first phase and
 * reloaded per panel by plain DMA, the two phases' tiles sharing SBUF and PSUM. Each token tile is
 * stationary for one matmul per slot (FP8: per slot pair in double-row mode) with the panel slot as
 * the moving operand, accumulating in its PSUM bank; banks rotate through a ring so the next group
 * starts while ScalarE evicts the last one, fusing the activation (and, with a bias, one K = 1
 * matmul ones x b first); with glu_oai the evicted bf16 tile then takes GLU_OAI's steps in SBUF
 * (emit_store: gate, up pairs of one panel, bit for bit LINEAR then GLU_OAI). Weight chunks are
 * triple- or double-buffered: the load of chunk s + 2 (s + 1) is issued before the matmuls of chunk
 * s, from the SP queue (hardware DGE); ScalarE issues the stores right after its evictions. MXFP8
 * has its own kernel (lw_linear_mx, at the end). Left out: splitting K across cores, weights kept
 * resident across calls, MX weights pre-quantized in HBM. */
#include <stdio.h>
#include <string.h>

#include "lower_impl.h"

#define LL (long long)

typedef struct chunk {
    int64_t k0;
    int slots, prows;
} chunk;

typedef struct lplan {
    trn_lower_linear_plan pub;
    int nbuf;        /* ring depth of the chunk buffers */
    int xres;        /* x resident per token block: 0 streamed with W, 1 or 2 blocks in SBUF */
    int ks;          /* K slots in all (floor(k / 128), + 1 for a partial slot) */
    trn_dtype mdt;   /* matmul operand dtype */
    int fp8, fp8cvt; /* fp8 mode; x converted on chip after a bf16 dma_transpose */
    int spill;       /* x transposed once per block into HBM scratch xh, reloaded per panel */
} lplan;

static int make_chunks(int64_t K, int kc, chunk *out, int max) {
    int n = 0;
    int64_t k0 = 0;
    while (K - k0 >= 128 * (int64_t)kc && n < max) {
        out[n++] = (chunk){k0, kc, 128};
        k0 += 128 * (int64_t)kc;
    }
    int64_t r = K - k0;
    if (r >= 128 && n < max) {
        out[n++] = (chunk){k0, (int)(r / 128), 128};
        k0 += 128 * (r / 128);
        r -= 128 * (r / 128);
    }
    if (r > 0 && n < max) out[n++] = (chunk){k0, 1, (int)r};
    return n;
}

/* The eviction's tiles, per partition: ys [2, T, P] (bf16 with glu_oai: the gate_up values as
 * a bf16 y holds them); with glu_oai also GLU_OAI's four bf16 temporaries and its output, each
 * [2, P / 2] (a ring of two token tiles). */
static uint64_t glu_bytes(const trn_lower_op *op, int T, int64_t P) {
    if (!op->glu_oai) return lw_tile_bytes(op->out_dtype, 2LL * T * P);
    return lw_tile_bytes(TRN_DTYPE_BF16, 2LL * T * P) + 4 * lw_tile_bytes(TRN_DTYPE_BF16, P) +
           lw_tile_bytes(op->out_dtype, P);
}

/* Declares the eviction's tiles of glu_bytes. */
static void glu_tiles(lw *e, int T, int64_t P) {
    const trn_lower_op *op = e->op;
    lw_tile(e, TRN_MEM_SBUF, "ys", op->glu_oai ? TRN_DTYPE_BF16 : op->out_dtype, 4,
            (int64_t[]){128, 2, T, P});
    if (!op->glu_oai) return;
    static const char *const tn[4] = {"gc", "sg", "gl", "uc"};
    for (int q = 0; q < 4; q++)
        lw_tile(e, TRN_MEM_SBUF, tn[q], TRN_DTYPE_BF16, 3, (int64_t[]){128, 2, P / 2});
    lw_tile(e, TRN_MEM_SBUF, "gy", op->out_dtype, 3, (int64_t[]){128, 2, P / 2});
}

/* The store of an evicted tile ys[0:r, yb, ti, 0:ncols] (rows row0.., columns n0.. of x W + b).
 * Plain: y[rows, n0 .. n0 + ncols] at once. glu_oai: GLU_OAI's instructions of lw_glu_oai
 * (lower_moe.c), in its order and with its rounding, on the tile's gate (even) and up (odd)
 * columns into ring slot *ring of the GLU tiles, and the store of y[rows, n0 / 2 .. (n0 +
 * ncols) / 2] one tile late (as lw_glu_oai: on v3+ ScalarE's queue issues it, and it would hold
 * ScalarE's next eviction behind this tile's last VectorE op): pend holds it, printed by the
 * next call, and by the kernel after its last tile. */
static void emit_store(lw *e, int64_t r, int yb, int64_t ti, int64_t ncols, int64_t row0,
                       int64_t n0, const char *st_eng, int *ring, char *pend, size_t npend) {
    const trn_lower_op *op = e->op;
    if (!op->glu_oai) {
        lw_printf(e, "dma_copy dst=y[%lld:%lld, %lld:%lld] src=ys[0:%lld, %d, %lld, 0:%lld]%s\n",
                  LL row0, LL(row0 + r), LL n0, LL(n0 + ncols), LL r, yb, LL ti, LL ncols, st_eng);
        return;
    }
    int b = *ring;
    *ring ^= 1;
    int64_t w = ncols / 2;
    static const char *const tn[4] = {"gc", "sg", "gl", "uc"};
    char t[5][80];
    for (int q = 0; q < 4; q++)
        snprintf(t[q], sizeof t[q], "%s[0:%lld, %d, 0:%lld]", tn[q], LL r, b, LL w);
    snprintf(t[4], sizeof t[4], "gy[0:%lld, %d, 0:%lld]", LL r, b, LL w);
    const char *ue = e->t->version >= 3 ? " engine=scalar" : "";
    lw_printf(e,
              "tensor_scalar dst=%s data=ys[0:%lld, %d, %lld, 0:%lld:2] op0=minimum "
              "operand0=%.17g\n"
              "tensor_scalar dst=%s data=ys[0:%lld, %d, %lld, 1:%lld:2] op0=minimum "
              "operand0=%.17g op1=maximum operand1=%.17g%s\n"
              "tensor_scalar dst=%s data=%s op0=add operand0=1.0\n"
              "activation dst=%s data=%s op=sigmoid scale=%.17g\n"
              "tensor_tensor dst=%s data1=%s data2=%s op=multiply\n"
              "tensor_tensor dst=%s data1=%s data2=%s op=multiply\n",
              t[0], LL r, yb, LL ti, LL ncols, op->limit, t[3], LL r, yb, LL ti, LL ncols,
              op->limit, -op->limit, ue, t[3], t[3], t[1], t[0], op->alpha, t[2], t[0], t[1], t[4],
              t[3], t[2]);
    if (pend[0]) lw_printf(e, "%s", pend);
    snprintf(pend, npend, "dma_copy dst=y[%lld:%lld, %lld:%lld] src=%s%s\n", LL row0, LL(row0 + r),
             LL(n0 / 2), LL((n0 + ncols) / 2), t[4], st_eng);
}

/* SBUF bytes per partition of a plan. Without spill every tile lives through the whole
 * kernel: the sum. With spill the kernel runs in two phases, all of x transposed and stored
 * first (xa, xs / xb), then the matmuls (wt, xt, ys, bias): no tile lives in both, so the
 * allocator (lw_pack) gives each phase the same space and the need is the larger phase. */
static uint64_t plan_bytes(const trn_lower_op *op, const lplan *p, int T, int kc, int nbuf,
                           int xres, int spill) {
    int64_t MB = 128 * (int64_t)T;
    uint64_t b = 0, a = 0;
    int64_t P = trn_lower_panel_width(op->n, 0);        /* the widest panel */
    b += lw_tile_bytes(p->mdt, (int64_t)nbuf * kc * P); /* wt */
    if (xres)
        b += lw_tile_bytes(p->mdt, (int64_t)xres * p->ks * MB); /* xt, resident */
    else
        b += lw_tile_bytes(p->mdt, (int64_t)nbuf * kc * MB); /* xt */
    uint64_t *st = spill ? &a : &b;                          /* the transposes' staging */
    if (spill) a += lw_tile_bytes(p->mdt, 2LL * kc * MB);    /* xa */
    if (p->pub.pe_transpose) *st += lw_tile_bytes(op->dtype, 2LL * T * 128 * kc); /* xs */
    if (p->fp8cvt)
        *st += lw_tile_bytes(TRN_DTYPE_BF16, (int64_t)(xres || spill ? 2 : nbuf) * kc * MB);
    b += glu_bytes(op, T, P); /* ys, and the GLU's tiles */
    if (op->bias) b += lw_tile_bytes(TRN_DTYPE_BF16, 128) + lw_tile_bytes(TRN_DTYPE_BF16, op->n);
    return a > b ? a : b;
}

/* Spill or re-transpose, for a streamed x of block MB x K read by np panels. One
 * transposition of the block costs C_tr: on DMA, MB K eb_x / (dma_bps dma_transpose_frac); on
 * TensorE, the row loads MB K eb_x / dma_bps plus one PE pass per slot and 128-row tile, ks MB
 * cycles at pe_hz. A store or a reload of the transposed block costs C_ld = MB K eb_m /
 * dma_bps (eb_m: the matmul dtype's bytes). Re-transposing costs np C_tr, spilling C_tr + C_ld
 * (the store) + np C_ld: spill when (np - 1) C_tr > (np + 1) C_ld. The rates are the target's
 * (the catalog's); with no DMA rate the comparison cannot be made and x is re-transposed. */
static int spill_pays(const trn_lower_op *op, const trn_isa_target *t, const lplan *p, int T,
                      int64_t np) {
    if (np < 2 || !(t->dma_bps > 0)) return 0;
    double MB = 128.0 * T, K = (double)op->k;
    double ebx = (double)trn_dtype_container_bytes(op->dtype);
    double ebm = (double)trn_dtype_container_bytes(p->mdt);
    double ctr;
    if (!p->pub.pe_transpose) {
        if (!(t->dma_transpose_frac > 0)) return 0;
        ctr = MB * K * ebx / (t->dma_bps * t->dma_transpose_frac);
    } else {
        if (!(t->pe_hz > 0)) return 0;
        ctr = MB * K * ebx / t->dma_bps + (double)p->ks * MB / t->pe_hz;
    }
    double cld = MB * K * ebm / t->dma_bps;
    return (double)(np - 1) * ctr > (double)(np + 1) * cld;
}

static trn_status plan_linear(const trn_lower_op *op, const trn_isa_target *t, lplan *p,
                              trn_err *err) {
    trn_status s = trn_lower_check(op, t, err);
    if (s != TRN_OK) return s;
    if (op->kind != TRN_LOWER_LINEAR)
        return trn_err_set(err, TRN_E_INVALID, "linear plan of a %s op",
                           trn_lower_kind_name(op->kind));
    memset(p, 0, sizeof *p);
    p->fp8 = op->prec == TRN_PREC_FP8;
    p->mdt = p->fp8 ? TRN_LOWER_FP8_DTYPE : TRN_DTYPE_BF16;
    p->pub.pe_transpose = t->version < 3 || op->dtype != TRN_DTYPE_BF16;
    p->fp8cvt = p->fp8 && !p->pub.pe_transpose;
    int banks = (int)(t->psum_bytes_per_partition / TRN_PSUM_BANK_BYTES);
    if (banks > (int)t->psum_banks) banks = (int)t->psum_banks;
    /* the TensorE transposes' PSUM ring takes a bank, except with spill: the transposes
     * then run before the accumulators live and share their banks */
    int rkeep = banks - (p->pub.pe_transpose ? 1 : 0), rspill = banks;
    int64_t kslots = op->k / 128 > 0 ? op->k / 128 : 1;
    int64_t np = lw_cdiv(op->n, TRN_LOWER_PANEL);
    int tmax = (int)lw_min(4, lw_cdiv(op->m, 128));
    /* token tiles: bounded by the ring without spill in every plan (a spill's extra bank
     * deepens its ring; a fourth token tile on v2 by spill alone is not measured to pay) */
    if (tmax > rkeep / 2) tmax = rkeep / 2;
    p->ks = (int)(op->k / 128 + (op->k % 128 ? 1 : 0));
    uint64_t limit = t->sbuf_bytes_per_partition;
    if (op->sbuf_limit_bytes && op->sbuf_limit_bytes < limit) limit = op->sbuf_limit_bytes;
    static const int kcs[] = {16, 8, 4, 2, 1};
    /* the most token tiles first (weight reuse), then x resident for the whole block (x read
     * and transposed once per block instead of once per panel), then, for a streamed x, the
     * cheaper of spill and re-transpose (spill_pays) before the other, then deeper rings */
    for (int T = tmax; T >= 1; T--)
        for (int v = 0; v < 4; v++) {
            int xres = v < 2 ? 2 - v : 0, spill = 0;
            if (v >= 2) {
                int pref = op->x_spill > 0 || (op->x_spill == 0 && spill_pays(op, t, p, T, np));
                spill = v == 2 ? pref : !pref;
                if (spill && (np < 2 || op->x_spill < 0)) continue;
                if (!spill && op->x_spill > 0 && np >= 2) continue;
            }
            for (int nbuf = 3; nbuf >= 2; nbuf--)
                for (size_t i = 0; i < sizeof kcs / sizeof *kcs; i++) {
                    int kc = (int)lw_min(kcs[i], kslots);
                    if (p->fp8 && kc > 1 && kc % 2) kc--;
                    uint64_t b = plan_bytes(op, p, T, kc, nbuf, xres, spill);
                    /* keep chunks of at least 4 slots (fewer, larger DMAs) before giving up
                     * a buffer or a token tile */
                    if (b <= limit && (kc >= 4 || kc == kslots || T == 1)) {
                        p->pub.tiles = T;
                        p->pub.kc = kc;
                        p->pub.acc_banks = spill ? rspill : rkeep;
                        p->nbuf = nbuf;
                        p->xres = xres;
                        p->spill = p->pub.spill = spill;
                        p->pub.x_resident = xres;
                        p->pub.sbuf_bytes = b;
                        return TRN_OK;
                    }
                }
        }
    return trn_err_set(err, TRN_E_UNSUPPORTED,
                       "linear m=%lld k=%lld n=%lld: even one token tile and one K slot need "
                       "%llu bytes of SBUF per partition, NeuronCore-%s allows %llu",
                       (long long)op->m, (long long)op->k, (long long)op->n,
                       (unsigned long long)plan_bytes(op, p, 1, 1, 2, 0, 0), t->name,
                       (unsigned long long)limit);
}

trn_status trn_lower_linear_plan_get(const trn_lower_op *op, const trn_isa_target *t,
                                     trn_lower_linear_plan *plan, trn_err *err) {
    lplan p;
    if (op && lw_prec_mx(op->prec))
        return trn_err_set(err, TRN_E_INVALID,
                           "linear: the %s kernel has a fixed plan (512-row passes, x "
                           "resident); see docs/lowering.md",
                           trn_precision_name(op->prec));
    trn_status s = plan_linear(op, t, &p, err);
    if (s == TRN_OK) *plan = p.pub;
    return s;
}

/* Chunk c of panel pi into ring slot b: rows k0 .. k0 + slots prows of the panel, [k, wp]
 * row-major at element 512 k pi of w, one contiguous range. */
static void emit_wload(lw *e, const chunk *c, int64_t pi, int b) {
    int64_t K = e->op->k, wp = trn_lower_panel_width(e->op->n, pi);
    int64_t at = pi * K * TRN_LOWER_PANEL + c->k0 * wp;
    lw_printf(e, "dma_copy dst=wt[0:%d, %d, 0:%d, 0:%lld] src=w[%lld:%lld]%s\n", c->prows, b,
              c->slots, LL wp, LL at, LL(at + (int64_t)c->slots * c->prows * wp), lw_dma_engine(e));
}

/* Brings x's chunk `c` of block (m0, mrows) into dst[:, ring, base .. base + slots, 0:mrows]
 * (dst: xt, or the spill's xa), transposed (k on the partitions); `stage` picks the staging
 * buffer (xs / xb) it passes through. */
static void emit_xload(lw *e, const lplan *p, const char *dst, const chunk *c, int64_t m0,
                       int64_t mrows, int ring, int base, int stage) {
    const char *eng = lw_dma_engine(e);
    int64_t rows = (int64_t)c->slots * c->prows;
    if (!p->pub.pe_transpose) {
        if (p->fp8cvt) {
            lw_printf(e,
                      "dma_transpose dst=xb[0:%d, %d, 0:%d, 0:%lld] src=x[%lld:%lld, "
                      "%lld:%lld]%s\n",
                      c->prows, stage, c->slots, LL mrows, LL m0, LL(m0 + mrows), LL c->k0,
                      LL(c->k0 + rows), eng);
            /* the cast to FP8 alternates VectorE and GpSimd */
            for (int j = 0; j < c->slots; j++)
                lw_printf(e,
                          "tensor_copy dst=%s[0:%d, %d, %d, 0:%lld] src=xb[0:%d, %d, %d, "
                          "0:%lld]%s\n",
                          dst, c->prows, ring, base + j, LL mrows, c->prows, stage, j, LL mrows,
                          j % 2 ? " engine=gpsimd" : "");
        } else {
            lw_printf(e,
                      "dma_transpose dst=%s[0:%d, %d, %d:%d, 0:%lld] src=x[%lld:%lld, "
                      "%lld:%lld]%s\n",
                      dst, c->prows, ring, base, base + c->slots, LL mrows, LL m0, LL(m0 + mrows),
                      LL c->k0, LL(c->k0 + rows), eng);
        }
        return;
    }
    int xsb = stage % 2;
    for (int64_t t0 = 0; t0 < mrows; t0 += 128) {
        int64_t r = lw_min(128, mrows - t0), ti = t0 / 128;
        lw_printf(e, "dma_copy dst=xs[0:%lld, %d, %lld, 0:%lld] src=x[%lld:%lld, %lld:%lld]%s\n",
                  LL r, xsb, LL ti, LL rows, LL(m0 + t0), LL(m0 + t0 + r), LL c->k0,
                  LL(c->k0 + rows), eng);
    }
    for (int64_t t0 = 0; t0 < mrows; t0 += 128) {
        int64_t r = lw_min(128, mrows - t0), ti = t0 / 128;
        for (int j = 0; j < c->slots; j++, e->tp_ring ^= 1) {
            lw_printf(e,
                      "nc_transpose dst=tp[0:%d, %d, 0:%lld] data=xs[0:%lld, %d, %lld, "
                      "%d:%lld:%d]\n",
                      c->prows, e->tp_ring, LL r, LL r, xsb, LL ti, j, LL rows, c->slots);
            lw_printf(e, "tensor_copy dst=%s[0:%d, %d, %d, %lld:%lld] src=tp[0:%d, %d, 0:%lld]\n",
                      dst, c->prows, ring, base + j, LL t0, LL(t0 + r), c->prows, e->tp_ring, LL r);
        }
    }
}

trn_status lw_linear_mx(lw *e, trn_err *err);

trn_status lw_linear(lw *e, trn_err *err) {
    const trn_lower_op *op = e->op;
    if (lw_prec_mx(op->prec)) return lw_linear_mx(e, err);
    lplan p;
    trn_status s = plan_linear(op, e->t, &p, err);
    if (s != TRN_OK) return s;
    chunk ch[4096];
    int base[4096];
    int nch = make_chunks(op->k, p.pub.kc, ch, 4096);
    if (ch[nch - 1].k0 + (int64_t)ch[nch - 1].slots * ch[nch - 1].prows != op->k)
        return trn_err_set(err, TRN_E_UNSUPPORTED, "linear: k = %lld needs more than 4096 chunks",
                           LL op->k);
    for (int c = 0, b = 0; c < nch; b += ch[c].slots, c++) base[c] = b;
    int T = p.pub.tiles, kc = p.pub.kc, R = p.pub.acc_banks, nb = p.nbuf, xr = p.xres;
    int64_t MB = 128 * (int64_t)T, M = op->m, N = op->n, K = op->k;
    int64_t np = lw_cdiv(N, TRN_LOWER_PANEL), P = trn_lower_panel_width(N, 0);
    lw_printf(e,
              "# plan: %d token tiles per block, K chunks of %d slots (%d in all), %d-deep "
              "weight ring, x %s, %d PSUM banks for accumulators, x transposed by %s\n",
              T, kc, nch, nb,
              xr        ? (xr == 2 ? "resident per block (2 blocks)" : "resident per block")
              : p.spill ? "spilled (transposed once into HBM scratch xh, reloaded per panel)"
                        : "streamed with the weights",
              R, p.pub.pe_transpose ? "TensorE" : "dma_transpose");
    lw_printf(e, ".kernel linear\n.input x %s [%lld, %lld]\n.input w %s [%lld]\n",
              trn_dtype_name(op->dtype), LL M, LL K, trn_dtype_name(p.mdt),
              LL(K * trn_lower_panel_cols(N)));
    if (op->bias) lw_printf(e, ".input b bf16 [1, %lld]\n", LL N);
    lw_printf(e, ".output y %s [%lld, %lld]\n", trn_dtype_name(op->out_dtype), LL M,
              LL(op->glu_oai ? N / 2 : N));
    int64_t nblk = lw_cdiv(M, MB);
    if (p.spill) /* x transposed: [block, partition p, slot j, token], as xt holds it */
        lw_printf(e, ".hbm xh %s [%lld, 128, %d, %lld]\n", trn_dtype_name(p.mdt), LL nblk, p.ks,
                  LL MB);
    lw_tile(e, TRN_MEM_SBUF, "wt", p.mdt, 4, (int64_t[]){128, nb, kc, P});
    lw_tile(e, TRN_MEM_SBUF, "xt", p.mdt, 4, (int64_t[]){128, xr ? xr : nb, xr ? p.ks : kc, MB});
    if (p.pub.pe_transpose)
        lw_tile(e, TRN_MEM_SBUF, "xs", op->dtype, 4, (int64_t[]){128, 2, T, 128LL * kc});
    if (p.fp8cvt)
        lw_tile(e, TRN_MEM_SBUF, "xb", TRN_DTYPE_BF16, 4,
                (int64_t[]){128, xr || p.spill ? 2 : nb, kc, MB});
    if (p.spill) lw_tile(e, TRN_MEM_SBUF, "xa", p.mdt, 4, (int64_t[]){128, 2, kc, MB});
    glu_tiles(e, T, P);
    if (op->bias) {
        lw_tile(e, TRN_MEM_SBUF, "ones", TRN_DTYPE_BF16, 2, (int64_t[]){1, 128});
        lw_tile(e, TRN_MEM_SBUF, "bt", TRN_DTYPE_BF16, 2, (int64_t[]){1, N});
    }
    lw_tile(e, TRN_MEM_PSUM, "acc", TRN_DTYPE_F32, 3, (int64_t[]){128, R, TRN_LOWER_PANEL});
    if (p.pub.pe_transpose) lw_tile(e, TRN_MEM_PSUM, "tp", op->dtype, 3, (int64_t[]){128, 2, 128});
    s = lw_check_fit(e, "linear", err);
    if (s != TRN_OK) return s;
    const char *ld = lw_dma_engine(e);
    int stage = 0;
    if (p.spill) /* phase 1: every block's x transposed once, chunk by chunk, and stored */
        for (int64_t blk = 0; blk < nblk; blk++) {
            int64_t m0 = blk * MB, mrows = lw_min(MB, M - m0);
            for (int c = 0; c < nch; c++, stage ^= 1) {
                emit_xload(e, &p, "xa", &ch[c], m0, mrows, stage, 0, stage);
                lw_printf(e,
                          "dma_copy dst=xh[%lld, 0:%d, %d:%d, 0:%lld] src=xa[0:%d, %d, 0:%d, "
                          "0:%lld]%s\n",
                          LL blk, ch[c].prows, base[c], base[c] + ch[c].slots, LL mrows,
                          ch[c].prows, stage, ch[c].slots, LL mrows, ld);
            }
        }
    /* phase 2 (the only one without spill): the matmuls */
    if (op->bias) lw_printf(e, "memset dst=ones value=1.0\ndma_copy dst=bt src=b%s\n", ld);

    /* the flat list of steps: (block, group, chunk) */
    int64_t nsteps = nblk * np * nch;
    const char *act = trn_act_name(op->act);
    const char *st_eng = e->t->version >= 3 ? " engine=scalar" : "";
    int gring = 0;
    char pend[320] = "";
#define STEP_DECODE(s_, blk_, g_, c_) \
    int64_t blk_ = (s_) / (np * nch); \
    int64_t g_ = ((s_) / nch) % np;   \
    int c_ = (int)((s_) % nch)
    /* loads of step sn: its weight chunk; x's chunk (streamed), or the whole block's x when
     * sn starts a block and two blocks of x fit (resident, prefetched a block ahead) */
#define LOAD_STEP(sn)                                                                            \
    do {                                                                                         \
        STEP_DECODE(sn, lb, lg, lc);                                                             \
        int64_t lm0 = lb * MB, lmr = lw_min(MB, M - lm0);                                        \
        emit_wload(e, &ch[lc], lg, (int)((sn) % nb));                                            \
        if (!xr && p.spill)                                                                      \
            lw_printf(e,                                                                         \
                      "dma_copy dst=xt[0:%d, %d, 0:%d, 0:%lld] src=xh[%lld, 0:%d, %d:%d, "       \
                      "0:%lld]%s\n",                                                             \
                      ch[lc].prows, (int)((sn) % nb), ch[lc].slots, LL lmr, LL lb, ch[lc].prows, \
                      base[lc], base[lc] + ch[lc].slots, LL lmr, ld);                            \
        else if (!xr)                                                                            \
            emit_xload(e, &p, "xt", &ch[lc], lm0, lmr, (int)((sn) % nb), 0, (int)((sn) % nb));   \
        else if (xr == 2 && lg == 0 && lc == 0)                                                  \
            for (int xc = 0; xc < nch; xc++, stage ^= 1)                                         \
                emit_xload(e, &p, "xt", &ch[xc], lm0, lmr, (int)(lb % 2), base[xc], stage);      \
    } while (0)
    for (int64_t s0 = 0; s0 < nb - 1 && s0 < nsteps; s0++) LOAD_STEP(s0);
    for (int64_t st = 0; st < nsteps; st++) {
        if (st + nb - 1 < nsteps) LOAD_STEP(st + nb - 1);
        STEP_DECODE(st, blk, g, c);
        int64_t m0 = blk * MB, mrows = lw_min(MB, M - m0), gi = blk * np + g;
        int64_t n0 = g * TRN_LOWER_PANEL, ncols = lw_min(TRN_LOWER_PANEL, N - n0);
        int b = (int)(st % nb), xb = xr ? (xr == 2 ? (int)(blk % 2) : 0) : b;
        if (xr == 1 && g == 0 && c == 0) /* one block of x: loaded when the block starts */
            for (int xc = 0; xc < nch; xc++, stage ^= 1)
                emit_xload(e, &p, "xt", &ch[xc], m0, mrows, 0, base[xc], stage);
        const chunk *cc = &ch[c];
        int sb = xr ? base[c] : 0; /* x slot of the chunk's slot 0 */
        for (int j = 0; j < cc->slots;) {
            int pair = p.fp8 && cc->prows == 128 && j + 1 < cc->slots;
            for (int64_t t0 = 0; t0 < mrows; t0 += 128) {
                int64_t r = lw_min(128, mrows - t0);
                int bank = (int)((gi * T + t0 / 128) % R);
                int first = c == 0 && j == 0;
                if (pair)
                    lw_printf(e,
                              "nc_matmul dst=acc[0:%lld, %d, 0:%lld] stationary=xt[:, %d, %d:%d, "
                              "%lld:%lld] moving=wt[:, %d, %d:%d, 0:%lld] perf_mode=double_row%s\n",
                              LL r, bank, LL ncols, xb, sb + j, sb + j + 2, LL t0, LL(t0 + r), b, j,
                              j + 2, LL ncols, first ? "" : " accumulate=true");
                else
                    lw_printf(e,
                              "nc_matmul dst=acc[0:%lld, %d, 0:%lld] stationary=xt[0:%d, %d, %d, "
                              "%lld:%lld] moving=wt[0:%d, %d, %d, 0:%lld]%s\n",
                              LL r, bank, LL ncols, cc->prows, xb, sb + j, LL t0, LL(t0 + r),
                              cc->prows, b, j, LL ncols, first ? "" : " accumulate=true");
            }
            j += pair ? 2 : 1;
        }
        if (c != nch - 1) continue;
        /* the group is complete: bias, eviction with the activation, store */
        int yb = (int)(gi % 2);
        for (int64_t t0 = 0; t0 < mrows; t0 += 128) {
            int64_t r = lw_min(128, mrows - t0);
            int bank = (int)((gi * T + t0 / 128) % R);
            if (op->bias)
                lw_printf(e,
                          "nc_matmul dst=acc[0:%lld, %d, 0:%lld] stationary=ones[0:1, 0:%lld] "
                          "moving=bt[0:1, %lld:%lld] accumulate=true\n",
                          LL r, bank, LL ncols, LL r, LL n0, LL(n0 + ncols));
            lw_printf(e,
                      "activation dst=ys[0:%lld, %d, %lld, 0:%lld] data=acc[0:%lld, %d, 0:%lld] "
                      "op=%s\n",
                      LL r, yb, LL(t0 / 128), LL ncols, LL r, bank, LL ncols, act);
            emit_store(e, r, yb, t0 / 128, ncols, m0 + t0, n0, st_eng, &gring, pend, sizeof pend);
        }
    }
    lw_printf(e, "%s", pend);
#undef LOAD_STEP
#undef STEP_DECODE
    return TRN_OK;
}

/* ---- MXFP8 (NeuronCore-v4) ------------------------------------------------------------------
 * nc_matmul_mx contracts K = 512 per instruction: 128 partitions x 4 codes packed in one
 * fp8_e4m3_x4 element, row k0 + 4p + j at partition p, slot j, one E8M0 scale per 32 rows (8
 * partitions x 4 slots) and column. Both operands are quantized on chip by quantize_mx
 * (VectorE), which packs slot j of element m from column 4m + j of a bf16 source:
 *   - x: per 512-row pass, one dma_transpose of x[block, pass] into [128, 4, MB] (row 4p + j
 *     at slot j), four strided copies interleave it to [128, MB, 4], quantize_mx; the codes
 *     and scales of the whole block stay resident for every panel;
 *   - w: stored for this mode as [panels, k/512, 128, 2048] bf16, element (p, 4n + j) of pass s
 *     being W[512 s + 4p + j][512 panel + n] (trn_lower_pack_mx_panels), so one contiguous DMA
 *     brings a pass already interleaved; quantize_mx runs once per (block, panel, pass).
 * MXFP4 and MXFP8Q take w pre-quantized (trn_lower_pack_mx_weights): a pass is one DMA of
 * codes, already interleaved, and a panel's scales for all its passes come in four DMAs when
 * its first pass does (scale rows 4i..4i+3 to partitions 32i..32i+3, where nc_matmul_mx reads
 * them; four small DMAs per pass made the kernel DMA-bound on descriptors); nothing to
 * quantize, and the weight bytes per value fall from 2 (bf16) to 0.5 + 1/32 (FP4) or 1 + 1/32
 * (FP8). Their k need only be a multiple of 4 (GPT-OSS: 2880): the last pass transposes the
 * rest of x onto k_rest / 4 partitions, zeroes the others, and its weight rows are zero codes. */
trn_status lw_linear_mx(lw *e, trn_err *err) {
    const trn_lower_op *op = e->op;
    const trn_isa_target *t = e->t;
    int64_t M = op->m, K = op->k, N = op->n, np = lw_cdiv(N, TRN_LOWER_PANEL), KP = lw_cdiv(K, 512);
    int64_t P = trn_lower_panel_width(N, 0), NP = trn_lower_panel_cols(N);
    int T = (int)lw_min(4, lw_cdiv(M, 128));
    int R = (int)(t->psum_bytes_per_partition / TRN_PSUM_BANK_BYTES), nb = 3;
    if (T > R / 2) T = R / 2;
    int64_t MB = 128 * (int64_t)T;
    /* pq: w pre-quantized in HBM (MXFP4, MXFP8Q); wdt: the x4 word type of its codes */
    int pq = op->prec != TRN_PREC_MXFP8, fp4 = op->prec == TRN_PREC_MXFP4;
    const char *wdt = fp4 ? "fp4_e2m1_x4" : "fp8_e4m3_x4";
    if (pq) nb = 6; /* a deeper ring hides more DMA latency (4 and 10 measured slower) */
    lw_printf(e,
              "# plan: %s, %d token tiles per block, x quantized once per block and resident, "
              "weights %s per pass in a %d-deep ring\n",
              trn_precision_name(op->prec), T, pq ? "loaded pre-quantized" : "quantized", nb);
    if (pq)
        lw_printf(e,
                  ".kernel linear_mx\n.input x bf16 [%lld, %lld]\n.input w %s [%lld]\n.input ws "
                  "uint8 [%lld]\n",
                  LL M, LL K, wdt, LL(KP * 128 * NP), LL(16 * KP * NP));
    else
        lw_printf(e, ".kernel linear_mx\n.input x bf16 [%lld, %lld]\n.input w bf16 [%lld]\n", LL M,
                  LL K, LL(K * NP));
    if (op->bias) lw_printf(e, ".input b bf16 [1, %lld]\n", LL N);
    lw_printf(e, ".output y %s [%lld, %lld]\n", trn_dtype_name(op->out_dtype), LL M,
              LL(op->glu_oai ? N / 2 : N));
    if (!pq) lw_tile(e, TRN_MEM_SBUF, "wi", TRN_DTYPE_BF16, 3, (int64_t[]){128, nb, 4 * P});
    lw_tile_text(e, TRN_MEM_SBUF, "wq", wdt, fp4 ? 2 : 4, 3, (int64_t[]){128, nb, P});
    if (pq) /* a panel's scales for all its passes, two panels deep */
        lw_tile(e, TRN_MEM_SBUF, "wsc", TRN_DTYPE_UINT8, 4, (int64_t[]){128, 2, KP, P});
    else
        lw_tile(e, TRN_MEM_SBUF, "wsc", TRN_DTYPE_UINT8, 3, (int64_t[]){128, nb, P});
    lw_tile(e, TRN_MEM_SBUF, "xt", TRN_DTYPE_BF16, 4, (int64_t[]){128, 2, 4, MB});
    lw_tile(e, TRN_MEM_SBUF, "xi", TRN_DTYPE_BF16, 3, (int64_t[]){128, MB, 4});
    lw_tile_text(e, TRN_MEM_SBUF, "xq", "fp8_e4m3_x4", 4, 3, (int64_t[]){128, KP, MB});
    lw_tile(e, TRN_MEM_SBUF, "xs", TRN_DTYPE_UINT8, 3, (int64_t[]){128, KP, MB});
    glu_tiles(e, T, P);
    if (op->bias) {
        lw_tile(e, TRN_MEM_SBUF, "ones", TRN_DTYPE_BF16, 2, (int64_t[]){1, 128});
        lw_tile(e, TRN_MEM_SBUF, "bt", TRN_DTYPE_BF16, 2, (int64_t[]){1, N});
    }
    lw_tile(e, TRN_MEM_PSUM, "acc", TRN_DTYPE_F32, 3, (int64_t[]){128, R, TRN_LOWER_PANEL});
    trn_status s =
        lw_check_fit(e, pq ? (fp4 ? "linear (mxfp4)" : "linear (mxfp8q)") : "linear (mxfp8)", err);
    if (s != TRN_OK) return s;
    const char *ld = lw_dma_engine(e), *st_eng = " engine=scalar";
    if (op->bias) lw_printf(e, "memset dst=ones value=1.0\ndma_copy dst=bt src=b%s\n", ld);
    int64_t nblk = lw_cdiv(M, MB), nsteps = nblk * np * KP;
    const char *act = trn_act_name(op->act);
    int xst = 0, gring = 0;
    char pend[320] = "";
    /* weight pass sn: load + quantize into ring slot sn % nb; panel g_ (width w_) starts at
     * element 512 g_ of each panel-sized block (lower.h), its pass p_ at p_ 128 w_ of it (codes,
     * MXFP8's bf16: 4 values per code) and its scale rows 4i .. 4i + 3 at 4 i KP w_ */
#define WSTEP(sn)                                                                                 \
    do {                                                                                          \
        int64_t g_ = ((sn) / KP) % np, p_ = (sn) % KP, w_ = trn_lower_panel_width(N, g_);         \
        int b_ = (int)((sn) % nb);                                                                \
        int64_t c_ = (g_ * KP * TRN_LOWER_PANEL + p_ * w_) * 128 * (pq ? 1 : 4);                  \
        int64_t n_ = 128 * w_ * (pq ? 1 : 4);                                                     \
        if (pq) {                                                                                 \
            lw_printf(e, "dma_copy dst=wq[:, %d, 0:%lld] src=w[%lld:%lld]%s\n", b_, LL w_, LL c_, \
                      LL(c_ + n_), ld);                                                           \
            for (int i_ = 0; p_ == 0 && i_ < 4; i_++) {                                           \
                int64_t s_ = (g_ * 16 * TRN_LOWER_PANEL + 4 * i_ * w_) * KP;                      \
                lw_printf(e, "dma_copy dst=wsc[%d:%d, %d, :, 0:%lld] src=ws[%lld:%lld]%s\n",      \
                          32 * i_, 32 * i_ + 4, (int)(((sn) / KP) % 2), LL w_, LL s_,             \
                          LL(s_ + 4 * KP * w_), ld);                                              \
            }                                                                                     \
        } else                                                                                    \
            lw_printf(e,                                                                          \
                      "dma_copy dst=wi[:, %d, 0:%lld] src=w[%lld:%lld]%s\n"                       \
                      "quantize_mx dst=wq[:, %d, 0:%lld] src=wi[:, %d, 0:%lld] "                  \
                      "dst_scale=wsc[:, %d, 0:%lld]\n",                                           \
                      b_, LL(4 * w_), LL c_, LL(c_ + n_), ld, b_, LL w_, b_, LL(4 * w_), b_,      \
                      LL w_);                                                                     \
    } while (0)
    for (int64_t s0 = 0; s0 < nb - 1 && s0 < nsteps; s0++) WSTEP(s0);
    for (int64_t st = 0; st < nsteps; st++) {
        if (st + nb - 1 < nsteps) WSTEP(st + nb - 1);
        int64_t blk = st / (np * KP), g = (st / KP) % np, ps = st % KP;
        int64_t m0 = blk * MB, mrows = lw_min(MB, M - m0), gi = blk * np + g;
        int64_t n0 = g * TRN_LOWER_PANEL, ncols = lw_min(TRN_LOWER_PANEL, N - n0);
        int b = (int)(st % nb);
        /* nc_matmul_mx takes even free sizes: an odd block gets one zero column of x (its
         * output row is never stored), an odd last panel one of the zero-padded weights */
        int64_t me = mrows + (mrows & 1), ne = ncols + (ncols & 1);
        if (g == 0 && ps == 0) /* the block's x: transposed, interleaved, quantized once */
            for (int64_t q = 0; q < KP; q++, xst ^= 1) {
                /* the last pass of a k that is not a multiple of 512 (MXFP4, MXFP8Q) covers
                 * kw rows on kw / 4 partitions; the others are zero (code 0 is +0) */
                int64_t kw = lw_min(512, K - q * 512), pp = kw / 4;
                if (me != mrows)
                    lw_printf(e, "memset dst=xt[:, %d, :, %lld:%lld] value=0.0\n", xst, LL mrows,
                              LL me);
                if (pp < 128) /* all partitions (an access may start at 0 only), then x */
                    lw_printf(e, "memset dst=xt[:, %d, :, 0:%lld] value=0.0\n", xst, LL me);
                lw_printf(e,
                          "dma_transpose dst=xt[0:%lld, %d, :, 0:%lld] src=x[%lld:%lld, "
                          "%lld:%lld]%s\n",
                          LL pp, xst, LL mrows, LL m0, LL(m0 + mrows), LL(q * 512),
                          LL(q * 512 + kw), ld);
                for (int j = 0; j < 4; j++)
                    lw_printf(e, "tensor_copy dst=xi[:, 0:%lld, %d] src=xt[:, %d, %d, 0:%lld]%s\n",
                              LL me, j, xst, j, LL me, j % 2 ? " engine=gpsimd" : "");
                lw_printf(e,
                          "quantize_mx dst=xq[:, %lld, 0:%lld] src=xi[:, 0:%lld, :] "
                          "dst_scale=xs[:, %lld, 0:%lld]\n",
                          LL q, LL me, LL me, LL q, LL me);
            }
        char wscale[64];
        if (pq)
            snprintf(wscale, sizeof wscale, "wsc[:, %d, %lld, 0:%lld]", (int)(gi % 2), LL ps,
                     LL ne);
        else
            snprintf(wscale, sizeof wscale, "wsc[:, %d, 0:%lld]", b, LL ne);
        for (int64_t t0 = 0; t0 < mrows; t0 += 128) {
            int64_t r = lw_min(128, me - t0);
            int bank = (int)((gi * T + t0 / 128) % R);
            lw_printf(e,
                      "nc_matmul_mx dst=acc[0:%lld, %d, 0:%lld] stationary=xq[:, %lld, %lld:%lld] "
                      "moving=wq[:, %d, 0:%lld] stationary_scale=xs[:, %lld, %lld:%lld] "
                      "moving_scale=%s%s\n",
                      LL r, bank, LL ne, LL ps, LL t0, LL(t0 + r), b, LL ne, LL ps, LL t0,
                      LL(t0 + r), wscale, ps ? " accumulate=true" : "");
        }
        if (ps != KP - 1) continue;
        int yb = (int)(gi % 2);
        for (int64_t t0 = 0; t0 < mrows; t0 += 128) {
            int64_t r = lw_min(128, mrows - t0);
            int bank = (int)((gi * T + t0 / 128) % R);
            if (op->bias)
                lw_printf(e,
                          "nc_matmul dst=acc[0:%lld, %d, 0:%lld] stationary=ones[0:1, 0:%lld] "
                          "moving=bt[0:1, %lld:%lld] accumulate=true\n",
                          LL r, bank, LL ncols, LL r, LL n0, LL(n0 + ncols));
            lw_printf(e,
                      "activation dst=ys[0:%lld, %d, %lld, 0:%lld] data=acc[0:%lld, %d, 0:%lld] "
                      "op=%s\n",
                      LL r, yb, LL(t0 / 128), LL ncols, LL r, bank, LL ncols, act);
            emit_store(e, r, yb, t0 / 128, ncols, m0 + t0, n0, st_eng, &gring, pend, sizeof pend);
        }
    }
    lw_printf(e, "%s", pend);
#undef WSTEP
    return TRN_OK;
}

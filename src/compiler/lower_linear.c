/* LINEAR: y[m, n] = act(x[m, k] @ W[k, n] + b) as one NeuronCore kernel.
 *
 * Tiling. Tokens go in blocks of 128 * T (T token tiles); output columns in groups of one
 * 512-column weight panel (one PSUM bank of FP32 per token tile). For each (block, group) the
 * weights stream in K chunks: the chunk [kc slots x 128 rows, 512] comes in one DMA from the
 * panel (contiguous, since w is stored panel-major). Row k0 + kc p + j of a chunk sits at
 * partition p, slot j (the row-major split a single DMA gives), and x must be transposed to
 * the same mapping: by one dma_transpose of x[block rows, chunk columns] (v3+, bf16 x), or on
 * v2 and for f32 x by row loads and TensorE transposes of strided column sets. When it fits,
 * the block's transposed x stays resident for every panel (two blocks: the next one loads
 * during this one), else it is streamed with each weight chunk. Each token tile is stationary
 * for one matmul per slot (FP8: per slot pair in double-row mode) with the panel slot as the
 * moving operand, accumulating in its PSUM bank; banks rotate through a ring so the next group
 * starts while ScalarE evicts the last one, fusing the activation (and, with a bias, one K = 1
 * matmul ones x b first). Weight chunks are triple- or double-buffered: the load of chunk s + 2
 * (s + 1) is issued before the matmuls of chunk s, from the SP queue (hardware DGE); ScalarE
 * issues the stores right after its evictions. MXFP8 has its own kernel (lw_linear_mx, at the
 * end). Left out: splitting K across cores, weights kept resident across calls, MX weights
 * pre-quantized in HBM. */
#include <stdio.h>
#include <string.h>

#include "lower_impl.h"

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

static uint64_t plan_bytes(const trn_lower_op *op, const lplan *p, int T, int kc, int nbuf,
                           int xres) {
    int64_t MB = 128 * (int64_t)T;
    uint64_t b = 0;
    b += lw_tile_bytes(p->mdt, (int64_t)nbuf * kc * TRN_LOWER_PANEL); /* wt */
    if (xres)
        b += lw_tile_bytes(p->mdt, (int64_t)xres * p->ks * MB); /* xt, resident */
    else
        b += lw_tile_bytes(p->mdt, (int64_t)nbuf * kc * MB);                    /* xt */
    if (p->pub.pe_transpose) b += lw_tile_bytes(op->dtype, 2LL * T * 128 * kc); /* xs */
    if (p->fp8cvt) b += lw_tile_bytes(TRN_DTYPE_BF16, (int64_t)(xres ? 2 : nbuf) * kc * MB);
    b += lw_tile_bytes(op->out_dtype, 2LL * T * TRN_LOWER_PANEL); /* ys */
    if (op->bias) b += lw_tile_bytes(TRN_DTYPE_BF16, 128) + lw_tile_bytes(TRN_DTYPE_BF16, op->n);
    return b;
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
    p->pub.acc_banks = banks - (p->pub.pe_transpose ? 1 : 0);
    int64_t kslots = op->k / 128 > 0 ? op->k / 128 : 1;
    int tmax = (int)lw_min(4, lw_cdiv(op->m, 128));
    if (tmax > p->pub.acc_banks / 2) tmax = p->pub.acc_banks / 2;
    p->ks = (int)(op->k / 128 + (op->k % 128 ? 1 : 0));
    uint64_t limit = t->sbuf_bytes_per_partition;
    if (op->sbuf_limit_bytes && op->sbuf_limit_bytes < limit) limit = op->sbuf_limit_bytes;
    static const int kcs[] = {16, 8, 4, 2, 1};
    /* the most token tiles first (weight reuse), then x resident for the whole block (x read
     * and transposed once per block instead of once per panel), then deeper rings */
    for (int T = tmax; T >= 1; T--)
        for (int xres = 2; xres >= 0; xres--)
            for (int nbuf = 3; nbuf >= 2; nbuf--)
                for (size_t i = 0; i < sizeof kcs / sizeof *kcs; i++) {
                    int kc = (int)lw_min(kcs[i], kslots);
                    if (p->fp8 && kc > 1 && kc % 2) kc--;
                    uint64_t b = plan_bytes(op, p, T, kc, nbuf, xres);
                    /* keep chunks of at least 4 slots (fewer, larger DMAs) before giving up
                     * a buffer or a token tile */
                    if (b <= limit && (kc >= 4 || kc == kslots || T == 1)) {
                        p->pub.tiles = T;
                        p->pub.kc = kc;
                        p->nbuf = nbuf;
                        p->xres = xres;
                        p->pub.x_resident = xres;
                        p->pub.sbuf_bytes = b;
                        return TRN_OK;
                    }
                }
    return trn_err_set(err, TRN_E_UNSUPPORTED,
                       "linear m=%lld k=%lld n=%lld: even one token tile and one K slot need "
                       "%llu bytes of SBUF per partition, NeuronCore-%s allows %llu",
                       (long long)op->m, (long long)op->k, (long long)op->n,
                       (unsigned long long)plan_bytes(op, p, 1, 1, 2, 0), t->name,
                       (unsigned long long)(op->sbuf_limit_bytes && op->sbuf_limit_bytes <
                                                                        t->sbuf_bytes_per_partition
                                                ? op->sbuf_limit_bytes
                                                : t->sbuf_bytes_per_partition));
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

#define LL (long long)

static void emit_wload(lw *e, const chunk *c, int64_t pi, int b) {
    lw_printf(e, "dma_copy dst=wt[0:%d, %d, 0:%d, :] src=w[%lld, %lld:%lld, :]%s\n", c->prows, b,
              c->slots, LL pi, LL c->k0, LL(c->k0 + (int64_t)c->slots * c->prows),
              lw_dma_engine(e));
}

/* Brings x's chunk `c` of block (m0, mrows) into xt[:, ring, base .. base + slots, 0:mrows],
 * transposed (k on the partitions); `stage` picks the staging buffer (xs / xb) it passes
 * through. */
static void emit_xload(lw *e, const lplan *p, const chunk *c, int64_t m0, int64_t mrows, int ring,
                       int base, int stage) {
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
                          "tensor_copy dst=xt[0:%d, %d, %d, 0:%lld] src=xb[0:%d, %d, %d, "
                          "0:%lld]%s\n",
                          c->prows, ring, base + j, LL mrows, c->prows, stage, j, LL mrows,
                          j % 2 ? " engine=gpsimd" : "");
        } else {
            lw_printf(e,
                      "dma_transpose dst=xt[0:%d, %d, %d:%d, 0:%lld] src=x[%lld:%lld, "
                      "%lld:%lld]%s\n",
                      c->prows, ring, base, base + c->slots, LL mrows, LL m0, LL(m0 + mrows),
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
            lw_printf(e, "tensor_copy dst=xt[0:%d, %d, %d, %lld:%lld] src=tp[0:%d, %d, 0:%lld]\n",
                      c->prows, ring, base + j, LL t0, LL(t0 + r), c->prows, e->tp_ring, LL r);
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
    int64_t np = lw_cdiv(N, TRN_LOWER_PANEL);
    lw_printf(e,
              "# plan: %d token tiles per block, K chunks of %d slots (%d in all), %d-deep "
              "weight ring, x %s, %d PSUM banks for accumulators, x transposed by %s\n",
              T, kc, nch, nb,
              xr ? (xr == 2 ? "resident per block (2 blocks)" : "resident per block")
                 : "streamed with the weights",
              R, p.pub.pe_transpose ? "TensorE" : "dma_transpose");
    lw_printf(e, ".kernel linear\n.input x %s [%lld, %lld]\n.input w %s [%lld, %lld, %d]\n",
              trn_dtype_name(op->dtype), LL M, LL K, trn_dtype_name(p.mdt), LL np, LL K,
              TRN_LOWER_PANEL);
    if (op->bias) lw_printf(e, ".input b bf16 [1, %lld]\n", LL N);
    lw_printf(e, ".output y %s [%lld, %lld]\n", trn_dtype_name(op->out_dtype), LL M, LL N);
    lw_tile(e, TRN_MEM_SBUF, "wt", p.mdt, 4, (int64_t[]){128, nb, kc, TRN_LOWER_PANEL});
    lw_tile(e, TRN_MEM_SBUF, "xt", p.mdt, 4, (int64_t[]){128, xr ? xr : nb, xr ? p.ks : kc, MB});
    if (p.pub.pe_transpose)
        lw_tile(e, TRN_MEM_SBUF, "xs", op->dtype, 4, (int64_t[]){128, 2, T, 128LL * kc});
    if (p.fp8cvt)
        lw_tile(e, TRN_MEM_SBUF, "xb", TRN_DTYPE_BF16, 4, (int64_t[]){128, xr ? 2 : nb, kc, MB});
    lw_tile(e, TRN_MEM_SBUF, "ys", op->out_dtype, 4, (int64_t[]){128, 2, T, TRN_LOWER_PANEL});
    if (op->bias) {
        lw_tile(e, TRN_MEM_SBUF, "ones", TRN_DTYPE_BF16, 2, (int64_t[]){1, 128});
        lw_tile(e, TRN_MEM_SBUF, "bt", TRN_DTYPE_BF16, 2, (int64_t[]){1, N});
    }
    lw_tile(e, TRN_MEM_PSUM, "acc", TRN_DTYPE_F32, 3, (int64_t[]){128, R, TRN_LOWER_PANEL});
    if (p.pub.pe_transpose) lw_tile(e, TRN_MEM_PSUM, "tp", op->dtype, 3, (int64_t[]){128, 2, 128});
    s = lw_check_fit(e, "linear", err);
    if (s != TRN_OK) return s;
    if (op->bias)
        lw_printf(e, "memset dst=ones value=1.0\ndma_copy dst=bt src=b%s\n", lw_dma_engine(e));

    /* the flat list of steps: (block, group, chunk) */
    int64_t nblk = lw_cdiv(M, MB), nsteps = nblk * np * nch;
    const char *act = trn_act_name(op->act);
    const char *st_eng = e->t->version >= 3 ? " engine=scalar" : "";
    int stage = 0;
#define STEP_DECODE(s_, blk_, g_, c_) \
    int64_t blk_ = (s_) / (np * nch); \
    int64_t g_ = ((s_) / nch) % np;   \
    int c_ = (int)((s_) % nch)
    /* loads of step sn: its weight chunk; x's chunk (streamed), or the whole block's x when
     * sn starts a block and two blocks of x fit (resident, prefetched a block ahead) */
#define LOAD_STEP(sn)                                                                    \
    do {                                                                                 \
        STEP_DECODE(sn, lb, lg, lc);                                                     \
        int64_t lm0 = lb * MB, lmr = lw_min(MB, M - lm0);                                \
        emit_wload(e, &ch[lc], lg, (int)((sn) % nb));                                    \
        if (!xr)                                                                         \
            emit_xload(e, &p, &ch[lc], lm0, lmr, (int)((sn) % nb), 0, (int)((sn) % nb)); \
        else if (xr == 2 && lg == 0 && lc == 0)                                          \
            for (int xc = 0; xc < nch; xc++, stage ^= 1)                                 \
                emit_xload(e, &p, &ch[xc], lm0, lmr, (int)(lb % 2), base[xc], stage);    \
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
                emit_xload(e, &p, &ch[xc], m0, mrows, 0, base[xc], stage);
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
            lw_printf(e,
                      "dma_copy dst=y[%lld:%lld, %lld:%lld] src=ys[0:%lld, %d, %lld, 0:%lld]%s\n",
                      LL(m0 + t0), LL(m0 + t0 + r), LL n0, LL(n0 + ncols), LL r, yb, LL(t0 / 128),
                      LL ncols, st_eng);
        }
    }
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
                  ".kernel linear_mx\n.input x bf16 [%lld, %lld]\n.input w %s [%lld, %lld, 128, "
                  "512]\n.input ws uint8 [%lld, 16, %lld, 512]\n",
                  LL M, LL K, wdt, LL np, LL KP, LL np, LL KP);
    else
        lw_printf(e,
                  ".kernel linear_mx\n.input x bf16 [%lld, %lld]\n.input w bf16 [%lld, %lld, 128, "
                  "2048]\n",
                  LL M, LL K, LL np, LL KP);
    if (op->bias) lw_printf(e, ".input b bf16 [1, %lld]\n", LL N);
    lw_printf(e, ".output y %s [%lld, %lld]\n", trn_dtype_name(op->out_dtype), LL M, LL N);
    if (!pq) lw_tile(e, TRN_MEM_SBUF, "wi", TRN_DTYPE_BF16, 3, (int64_t[]){128, nb, 2048});
    lw_printf(e, ".sbuf wq %s [128, %d, 512]\n", wdt, nb);
    e->sbuf_bytes += lw_tile_bytes(fp4 ? TRN_DTYPE_BF16 : TRN_DTYPE_F32, (int64_t)nb * 512);
    if (pq) /* a panel's scales for all its passes, two panels deep */
        lw_tile(e, TRN_MEM_SBUF, "wsc", TRN_DTYPE_UINT8, 4, (int64_t[]){128, 2, KP, 512});
    else
        lw_tile(e, TRN_MEM_SBUF, "wsc", TRN_DTYPE_UINT8, 3, (int64_t[]){128, nb, 512});
    lw_tile(e, TRN_MEM_SBUF, "xt", TRN_DTYPE_BF16, 4, (int64_t[]){128, 2, 4, MB});
    lw_tile(e, TRN_MEM_SBUF, "xi", TRN_DTYPE_BF16, 3, (int64_t[]){128, MB, 4});
    lw_printf(e, ".sbuf xq fp8_e4m3_x4 [128, %lld, %lld]\n", LL KP, LL MB);
    e->sbuf_bytes += lw_tile_bytes(TRN_DTYPE_F32, KP * MB);
    lw_tile(e, TRN_MEM_SBUF, "xs", TRN_DTYPE_UINT8, 3, (int64_t[]){128, KP, MB});
    lw_tile(e, TRN_MEM_SBUF, "ys", op->out_dtype, 4, (int64_t[]){128, 2, T, TRN_LOWER_PANEL});
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
    int xst = 0;
    /* weight pass sn: load + quantize into ring slot sn % nb */
#define WSTEP(sn)                                                                                  \
    do {                                                                                           \
        int64_t g_ = ((sn) / KP) % np, p_ = (sn) % KP;                                             \
        int b_ = (int)((sn) % nb);                                                                 \
        if (pq) {                                                                                  \
            lw_printf(e, "dma_copy dst=wq[:, %d, :] src=w[%lld, %lld, :, :]%s\n", b_, LL g_,       \
                      LL p_, ld);                                                                  \
            for (int i_ = 0; p_ == 0 && i_ < 4; i_++)                                              \
                lw_printf(e, "dma_copy dst=wsc[%d:%d, %d, :, :] src=ws[%lld, %d:%d, :, :]%s\n",    \
                          32 * i_, 32 * i_ + 4, (int)(((sn) / KP) % 2), LL g_, 4 * i_, 4 * i_ + 4, \
                          ld);                                                                     \
        } else                                                                                     \
            lw_printf(e,                                                                           \
                      "dma_copy dst=wi[:, %d, :] src=w[%lld, %lld, :, :]%s\n"                      \
                      "quantize_mx dst=wq[:, %d, :] src=wi[:, %d, :] dst_scale=wsc[:, %d, :]\n",   \
                      b_, LL g_, LL p_, ld, b_, b_, b_);                                           \
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
                      "op=%s\n"
                      "dma_copy dst=y[%lld:%lld, %lld:%lld] src=ys[0:%lld, %d, %lld, 0:%lld]%s\n",
                      LL r, yb, LL(t0 / 128), LL ncols, LL r, bank, LL ncols, act, LL(m0 + t0),
                      LL(m0 + t0 + r), LL n0, LL(n0 + ncols), LL r, yb, LL(t0 / 128), LL ncols,
                      st_eng);
        }
    }
#undef WSTEP
    return TRN_OK;
}

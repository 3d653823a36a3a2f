/* The MoE and activation kernels: ROUTER (gating and top-k over the router logits), GLU_OAI
 * (GPT-OSS's clamped GLU), ACT (an activation on its own) and MOE_COMBINE (the routing-weighted
 * sum of each token's expert outputs). Tokens are on the partitions,
 * 128 to a tile, and tiles go through two-deep rings (the load of tile i + 1 issued from SP
 * before the compute of tile i; the stores issued from ScalarE's queue on v3+), as the row ops
 * of lower_rows.c.
 *
 * ROUTER contract (the one src/compiler/ref.c's router follows, for finite logits): scores
 * (softmax over the n logits, sigmoid, or the logits themselves) in FP32; the top k by
 * descending score, equal scores lowest expert index first; weights the chosen scores
 * renormalized by their FP32 sum in slot order (SOFTMAX_TOPK, SIGMOID_TOPK) or their softmax
 * (TOPK_SOFTMAX). The top k are rounds of max8 (the 8 largest, descending) and
 * nc_match_replace8 (each value's first not yet taken element in free order, replaced by -inf,
 * its index written to the ids): the first-in-free-order match is the lowest-index tie rule.
 * Left out: NaN or infinite logits (an -inf logit ties with the replaced elements), more than
 * 16384 experts (max8's limit; SBUF may hold fewer: an f32 row of n takes 12 n bytes per
 * partition), expert capacity limits. */
#include <stdio.h>

#include "lower_impl.h"

#define LL (long long)

static const char *st_eng(lw *e) {
    return e->t->version >= 3 ? " engine=scalar" : "";
}

/* ---- ROUTER ----------------------------------------------------------------------------- */

trn_status lw_router(lw *e, trn_err *err) {
    const trn_lower_op *op = e->op;
    int64_t M = op->m, N = op->n, K = op->topk;
    /* max8 reads at least 8 elements: fewer experts are padded with -inf columns, which rank
     * below every finite score and, at a higher index, lose every tie */
    int64_t NP = N < 8 ? 8 : N, R = lw_cdiv(K, 8);
    const char *xd = trn_dtype_name(op->dtype);
    int g = op->gating;
    lw_printf(e, ".kernel router\n.input x %s [%lld, %lld]\n.output ids uint32 [%lld, %lld]\n", xd,
              LL M, LL N, LL M, LL K);
    lw_printf(e, ".output w f32 [%lld, %lld]\n", LL M, LL K);
    lw_tile(e, TRN_MEM_SBUF, "xt", op->dtype, 3, (int64_t[]){128, 2, NP});
    lw_tile(e, TRN_MEM_SBUF, "sc", TRN_DTYPE_F32, 2, (int64_t[]){128, NP}); /* scores */
    lw_tile(e, TRN_MEM_SBUF, "v8", TRN_DTYPE_F32, 2, (int64_t[]){128, 8 * R});
    lw_tile(e, TRN_MEM_SBUF, "ix", TRN_DTYPE_UINT32, 3, (int64_t[]){128, 2, 8 * R});
    lw_tile(e, TRN_MEM_SBUF, "wt", TRN_DTYPE_F32, 3, (int64_t[]){128, 2, K});
    lw_tile(e, TRN_MEM_SBUF, "st", TRN_DTYPE_F32, 2, (int64_t[]){128, 4});
    trn_status s = lw_check_fit(e, "router", err);
    if (s != TRN_OK) return s;
    const char *ld = lw_dma_engine(e);
    if (NP > N) {
        lw_printf(e, "memset dst=xt[:, :, %lld:%lld] value=-inf\n", LL N, LL NP);
        lw_printf(e, "memset dst=sc[:, %lld:%lld] value=-inf\n", LL N, LL NP);
    }
    int64_t nt = lw_cdiv(M, 128);
    for (int64_t i = 0; i <= nt; i++) {
        if (i < nt) {
            int64_t r0 = i * 128, r = lw_min(128, M - r0);
            lw_printf(e, "dma_copy dst=xt[0:%lld, %d, 0:%lld] src=x[%lld:%lld, :]%s\n", LL r,
                      (int)(i % 2), LL N, LL r0, LL(r0 + r), ld);
        }
        if (i == 0) continue;
        int64_t j = i - 1, r0 = j * 128, r = lw_min(128, M - r0);
        int b = (int)(j % 2);
        /* per-row statistics: st[:, 0] max, 1 -max, 2 sum of exp, 3 the weights' sum */
        char st[4][48], x[64], sc[64], wt[64];
        for (int c = 0; c < 4; c++)
            snprintf(st[c], sizeof st[c], "st[0:%lld, %d:%d]", LL r, c, c + 1);
        snprintf(x, sizeof x, "xt[0:%lld, %d, 0:%lld]", LL r, b, LL N);
        snprintf(sc, sizeof sc, "sc[0:%lld, 0:%lld]", LL r, LL NP);
        snprintf(wt, sizeof wt, "wt[0:%lld, %d, :]", LL r, b);
        /* the scores: softmax exactly as the reference computes it (x - max in FP32, exp
         * rounded once to FP32, the sum folded in expert order, an IEEE division) */
        const char *src = sc;
        if (g == TRN_LOWER_GATE_SOFTMAX_TOPK)
            lw_printf(e,
                      "tensor_reduce dst=%s op=max data=%s axis=1\n"
                      "tensor_scalar dst=%s data=%s op0=multiply operand0=-1.0\n"
                      "activation dst=sc[0:%lld, 0:%lld] data=%s op=exp bias=%s reduce_op=add "
                      "reduce_res=%s\n"
                      "tensor_scalar dst=sc[0:%lld, 0:%lld] data=sc[0:%lld, 0:%lld] op0=divide "
                      "operand0=%s\n",
                      st[0], x, st[1], st[0], LL r, LL N, x, st[1], st[2], LL r, LL N, LL r, LL N,
                      st[2]);
        else if (g == TRN_LOWER_GATE_SIGMOID_TOPK)
            lw_printf(e, "activation dst=sc[0:%lld, 0:%lld] data=%s op=sigmoid\n", LL r, LL N, x);
        else { /* the logits themselves: the first round reads them (and the pad) from xt */
            snprintf(x, sizeof x, "xt[0:%lld, %d, 0:%lld]", LL r, b, LL NP);
            src = x;
        }
        /* top k: round q takes the 8 largest left, then replaces them (first match in free
         * order, so equal scores go lowest index first) by -inf, writing their indices */
        for (int64_t q = 0; q < R; q++)
            lw_printf(e,
                      "max8 dst=v8[0:%lld, %lld:%lld] src=%s\n"
                      "nc_match_replace8 dst=%s data=%s vals=v8[0:%lld, %lld:%lld] imm=-inf "
                      "dst_idx=ix[0:%lld, %d, %lld:%lld]\n",
                      LL r, LL(8 * q), LL(8 * q + 8), q ? sc : src, sc, q ? sc : src, LL r,
                      LL(8 * q), LL(8 * q + 8), LL r, b, LL(8 * q), LL(8 * q + 8));
        /* the weights: the softmax of the k chosen logits, or the chosen scores over their
         * sum (in slot order) */
        if (g == TRN_LOWER_GATE_TOPK_SOFTMAX)
            lw_printf(e,
                      "tensor_scalar dst=%s data=v8[0:%lld, 0:1] op0=multiply operand0=-1.0\n"
                      "activation dst=%s data=v8[0:%lld, 0:%lld] op=exp bias=%s reduce_op=add "
                      "reduce_res=%s\n"
                      "tensor_scalar dst=%s data=%s op0=divide operand0=%s\n",
                      st[1], LL r, wt, LL r, LL K, st[1], st[3], wt, wt, st[3]);
        else
            lw_printf(e,
                      "tensor_reduce dst=%s op=add data=v8[0:%lld, 0:%lld] axis=1\n"
                      "tensor_scalar dst=%s data=v8[0:%lld, 0:%lld] op0=divide operand0=%s\n",
                      st[3], LL r, LL K, wt, LL r, LL K, st[3]);
        lw_printf(e,
                  "dma_copy dst=w[%lld:%lld, :] src=wt[0:%lld, %d, :]%s\n"
                  "dma_copy dst=ids[%lld:%lld, :] src=ix[0:%lld, %d, 0:%lld]%s\n",
                  LL r0, LL(r0 + r), LL r, b, st_eng(e), LL r0, LL(r0 + r), LL r, b, LL K,
                  st_eng(e));
    }
    return TRN_OK;
}

/* ---- GLU_OAI ---------------------------------------------------------------------------- */

/* Output columns of one chunk of GLU_OAI and ACT. */
#define COL_CHUNK 2048
/* MOE_COMBINE: SBUF bytes per partition of its ring of d (a third of trn1's 192 KiB) */
#define COMB_RING_BYTES 65536

/* y = (clamp(u, -limit, limit) + 1) glu, glu = g sigmoid(alpha g), g = min(x[2i], limit),
 * u = x[2i+1] (strided views of the loaded row: step 2 from column 0 or 1). Rounding, as HF's
 * GPT-OSS rounds its bf16 tensors (and as SWIGLU rounds silu(g)): the clamps are exact; alpha g
 * stays FP32 inside the ScalarE instruction (sigmoid(fmaf(g, alpha, 0)), where HF rounds the
 * product first); the sigmoid, glu and u + 1 are rounded to dtype; the product to out_dtype.
 * With f32 activations every step is one FP32 operation in the order of the reference
 * (ref.c). Engines: the clamp of g, glu, + 1 and the product on VectorE (bf16: its fast
 * modes), the sigmoid and the clamp of u on ScalarE (v2: VectorE). */
trn_status lw_glu_oai(lw *e, trn_err *err) {
    const trn_lower_op *op = e->op;
    int64_t M = op->m, N = op->n, CW = lw_min(N, COL_CHUNK);
    const char *xd = trn_dtype_name(op->dtype);
    lw_printf(e, ".kernel glu_oai\n.input x %s [%lld, %lld]\n.output y %s [%lld, %lld]\n", xd, LL M,
              LL(2 * N), trn_dtype_name(op->out_dtype), LL M, LL N);
    lw_tile(e, TRN_MEM_SBUF, "xt", op->dtype, 3, (int64_t[]){128, 2, 2 * CW});
    static const char *const tn[4] = {"gc", "sg", "gl", "uc"};
    for (int q = 0; q < 4; q++)
        lw_tile(e, TRN_MEM_SBUF, tn[q], op->dtype, 3, (int64_t[]){128, 2, CW});
    lw_tile(e, TRN_MEM_SBUF, "yt", op->out_dtype, 3, (int64_t[]){128, 2, CW});
    trn_status s = lw_check_fit(e, "glu_oai", err);
    if (s != TRN_OK) return s;
    const char *ld = lw_dma_engine(e), *ue = e->t->version >= 3 ? " engine=scalar" : "";
    int64_t nr = lw_cdiv(M, 128), nc = lw_cdiv(N, CW), nt = nr * nc;
    char pend[160] = "";
    for (int64_t i = 0; i <= nt; i++) {
        if (i < nt) {
            int64_t r0 = i / nc * 128, c0 = i % nc * CW, r = lw_min(128, M - r0),
                    w = lw_min(CW, N - c0);
            lw_printf(e, "dma_copy dst=xt[0:%lld, %d, 0:%lld] src=x[%lld:%lld, %lld:%lld]%s\n",
                      LL r, (int)(i % 2), LL(2 * w), LL r0, LL(r0 + r), LL(2 * c0),
                      LL(2 * (c0 + w)), ld);
        }
        if (i == 0) continue;
        int64_t j = i - 1, r0 = j / nc * 128, c0 = j % nc * CW, r = lw_min(128, M - r0),
                w = lw_min(CW, N - c0);
        int b = (int)(j % 2);
        char t[5][80];
        for (int q = 0; q < 4; q++)
            snprintf(t[q], sizeof t[q], "%s[0:%lld, %d, 0:%lld]", tn[q], LL r, b, LL w);
        snprintf(t[4], sizeof t[4], "yt[0:%lld, %d, 0:%lld]", LL r, b, LL w);
        /* in an order that lets the engines overlap: VectorE clamps g while ScalarE clamps u,
         * VectorE adds 1 to u while ScalarE takes the sigmoid */
        lw_printf(e,
                  "tensor_scalar dst=%s data=xt[0:%lld, %d, 0:%lld:2] op0=minimum "
                  "operand0=%.17g\n"
                  "tensor_scalar dst=%s data=xt[0:%lld, %d, 1:%lld:2] op0=minimum "
                  "operand0=%.17g op1=maximum operand1=%.17g%s\n"
                  "tensor_scalar dst=%s data=%s op0=add operand0=1.0\n"
                  "activation dst=%s data=%s op=sigmoid scale=%.17g\n"
                  "tensor_tensor dst=%s data1=%s data2=%s op=multiply\n"
                  "tensor_tensor dst=%s data1=%s data2=%s op=multiply\n",
                  t[0], LL r, b, LL(2 * w), op->limit, t[3], LL r, b, LL(2 * w), op->limit,
                  -op->limit, ue, t[3], t[3], t[1], t[0], op->alpha, t[2], t[0], t[1], t[4], t[3],
                  t[2]);
        /* the store one tile late (as the norms, lower_rows.c): on v3+ ScalarE's queue issues
         * it, and it would hold ScalarE's next clamp behind this tile's last VectorE op */
        if (pend[0]) lw_printf(e, "%s", pend);
        snprintf(pend, sizeof pend, "dma_copy dst=y[%lld:%lld, %lld:%lld] src=%s%s\n", LL r0,
                 LL(r0 + r), LL c0, LL(c0 + w), t[4], st_eng(e));
    }
    lw_printf(e, "%s", pend);
    return TRN_OK;
}

/* ---- ACT -------------------------------------------------------------------------------- */

/* y = act(x) on ScalarE (f evaluated on the FP32 value, rounded once to out_dtype), rows and
 * column chunks through a two-deep ring. */
trn_status lw_act(lw *e, trn_err *err) {
    const trn_lower_op *op = e->op;
    int64_t M = op->m, N = op->n, CW = lw_min(N, COL_CHUNK);
    lw_printf(e, ".kernel act\n.input x %s [%lld, %lld]\n.output y %s [%lld, %lld]\n",
              trn_dtype_name(op->dtype), LL M, LL N, trn_dtype_name(op->out_dtype), LL M, LL N);
    lw_tile(e, TRN_MEM_SBUF, "xt", op->dtype, 3, (int64_t[]){128, 2, CW});
    lw_tile(e, TRN_MEM_SBUF, "yt", op->out_dtype, 3, (int64_t[]){128, 2, CW});
    trn_status s = lw_check_fit(e, "act", err);
    if (s != TRN_OK) return s;
    const char *ld = lw_dma_engine(e);
    int64_t nr = lw_cdiv(M, 128), nc = lw_cdiv(N, CW), nt = nr * nc;
    for (int64_t i = 0; i <= nt; i++) {
        if (i < nt) {
            int64_t r0 = i / nc * 128, c0 = i % nc * CW, r = lw_min(128, M - r0),
                    w = lw_min(CW, N - c0);
            lw_printf(e, "dma_copy dst=xt[0:%lld, %d, 0:%lld] src=x[%lld:%lld, %lld:%lld]%s\n",
                      LL r, (int)(i % 2), LL w, LL r0, LL(r0 + r), LL c0, LL(c0 + w), ld);
        }
        if (i == 0) continue;
        int64_t j = i - 1, r0 = j / nc * 128, c0 = j % nc * CW, r = lw_min(128, M - r0),
                w = lw_min(CW, N - c0);
        int b = (int)(j % 2);
        lw_printf(e,
                  "activation dst=yt[0:%lld, %d, 0:%lld] data=xt[0:%lld, %d, 0:%lld] op=%s\n"
                  "dma_copy dst=y[%lld:%lld, %lld:%lld] src=yt[0:%lld, %d, 0:%lld]%s\n",
                  LL r, b, LL w, LL r, b, LL w, trn_act_name(op->act), LL r0, LL(r0 + r), LL c0,
                  LL(c0 + w), LL r, b, LL w, st_eng(e));
    }
    return TRN_OK;
}

/* ---- MOE_COMBINE ------------------------------------------------------------------------ */

/* y[t] = sum over slots j = 0 .. k-1, in that order, of w[t, j] d[t, j] (d [m, k, n] in dtype,
 * the k expert outputs of each token in slot order: the runner's un-dispatch gather writes
 * them so, and a split by tokens then cuts d into contiguous blocks; w [m, k] f32; k =
 * op->topk). Rounding, as HF's combine and the MUL / ADD kernels it replaces: w rounded to dtype
 * (HF casts the routing weights to the hidden dtype), each product w d rounded to out_dtype,
 * each partial sum (y + w_j d_j, left to right) rounded to out_dtype; the FP32 product of two
 * bf16 values is exact, so each step rounds once. Tokens on the partitions: for each 128-row
 * tile and chunk of columns, one DMA loads the k slots' chunks ([r, k, w], contiguous per
 * partition when the chunk is a whole row) into a two-deep ring, one tile ahead of the
 * compute; w's rows once per row tile (converted on VectorE). Each product is a tensor_scalar
 * with w[t, j] as the per-partition operand ([P, 1]); each sum a tensor_tensor add into the
 * accumulator (the first product is written there). v3+: all on VectorE (the products in its
 * 4x 16-bit mode); v2: the products on ScalarE (NKI runs tensor_scalar there too), the adds
 * on VectorE, so the two engines overlap. The store from ScalarE's queue (v3+), where it holds
 * no compute back. One token (m = 1, bf16): combine_spread. */

/* The largest divisor of n up to 128: the partitions one token's n columns are spread over. */
static int64_t spread_groups(int64_t n) {
    for (int64_t g = 128; g > 1; g--)
        if (n % g == 0) return g;
    return 1;
}

/* MOE_COMBINE of one token (m = 1, a decode step): with the token on one partition every
 * instruction would stream all n columns through one lane, so its columns are spread over G
 * partitions (G the largest divisor of n up to 128, C = n / G each): d, w and y are declared by
 * their spread shapes (the same elements, row-major: d [k, G, C], y [G, C]), slot j's [G, C]
 * block is one DMA, and the k weights, rounded to bf16 on partition 0, are broadcast to every
 * partition by K = 1 matmuls against a row of ones (exact, lw_bcast_row; a -0 weight arrives as
 * +0). The products and sums are those of the row layout, element by element. */
static trn_status combine_spread(lw *e, int64_t G, trn_err *err) {
    const trn_lower_op *op = e->op;
    int64_t N = op->n, K = op->topk, C = N / G;
    lw_printf(e,
              ".kernel moe_combine\n.input d %s [%lld, %lld, %lld]\n.input w f32 [1, %lld]\n"
              ".output y %s [%lld, %lld]\n",
              trn_dtype_name(op->dtype), LL K, LL G, LL C, LL K, trn_dtype_name(op->out_dtype),
              LL G, LL C);
    lw_tile(e, TRN_MEM_SBUF, "dt", op->dtype, 3, (int64_t[]){128, K, C});
    lw_tile(e, TRN_MEM_SBUF, "wf", TRN_DTYPE_F32, 2, (int64_t[]){1, K});
    lw_tile(e, TRN_MEM_SBUF, "w1", TRN_DTYPE_BF16, 2, (int64_t[]){1, K});
    lw_tile(e, TRN_MEM_SBUF, "ones", TRN_DTYPE_BF16, 2, (int64_t[]){1, 128});
    lw_tile(e, TRN_MEM_PSUM, "ps", TRN_DTYPE_F32, 2, (int64_t[]){128, 512});
    lw_tile(e, TRN_MEM_SBUF, "wq", TRN_DTYPE_BF16, 2, (int64_t[]){128, K});
    lw_tile(e, TRN_MEM_SBUF, "pr", op->out_dtype, 3, (int64_t[]){128, 2, C});
    lw_tile(e, TRN_MEM_SBUF, "yt", op->out_dtype, 2, (int64_t[]){128, C});
    trn_status s = lw_check_fit(e, "moe_combine", err);
    if (s != TRN_OK) return s;
    const char *ld = lw_dma_engine(e), *me = e->t->version >= 3 ? "" : " engine=scalar";
    lw_printf(e, "dma_copy dst=wf[0:1, :] src=w[0:1, :]%s\n", ld);
    for (int64_t j = 0; j < K; j++)
        lw_printf(e, "dma_copy dst=dt[0:%lld, %lld, :] src=d[%lld, :, :]%s\n", LL G, LL j, LL j,
                  ld);
    lw_printf(e, "memset dst=ones value=1.0\ntensor_copy dst=w1 src=wf\n");
    lw_bcast_row(e, "wq", "w1", "ps", "ones", K);
    char y[48];
    snprintf(y, sizeof y, "yt[0:%lld, :]", LL G);
    for (int64_t q = 0; q < K; q++) {
        char p[48];
        snprintf(p, sizeof p, "pr[0:%lld, %d, :]", LL G, (int)(q % 2));
        lw_printf(e,
                  "tensor_scalar dst=%s data=dt[0:%lld, %lld, :] op0=multiply operand0=wq[0:%lld, "
                  "%lld:%lld]%s\n",
                  q ? p : y, LL G, LL q, LL G, LL q, LL(q + 1), me);
        if (q) lw_printf(e, "tensor_tensor dst=%s data1=%s data2=%s op=add\n", y, y, p);
    }
    lw_printf(e, "dma_copy dst=y[:, :] src=%s%s\n", y, st_eng(e));
    return TRN_OK;
}

trn_status lw_moe_combine(lw *e, trn_err *err) {
    const trn_lower_op *op = e->op;
    int64_t M = op->m, N = op->n, K = op->topk;
    /* columns per chunk: the ring of d (two steps of k chunks) in at most COMB_RING_BYTES per
     * partition; a row's chunks equal, and enough of them for 4 pipeline steps where chunks of
     * 512 columns or more allow (with fewer steps the first load and the last compute are
     * exposed: trn2, [2048, 4, 2880] on 8 cores, 39.2 us with chunks of 2048 + 832, 37.0 with
     * whole rows, 33.3 with 4 equal steps) */
    int64_t eb = (int64_t)trn_dtype_container_bytes(op->dtype);
    int64_t cmax = lw_min(2 * COL_CHUNK, COMB_RING_BYTES / (2 * K * eb));
    if (cmax < 1) cmax = 1;
    int64_t nc = lw_cdiv(N, cmax), nr = lw_cdiv(M, 128), want = lw_min(lw_cdiv(4, nr), N / 512);
    if (nc < want) nc = want;
    int64_t CW = lw_cdiv(N, nc), G = spread_groups(N);
    /* one token, bf16 (the broadcast's matmul), enough partitions to gain, one chunk's bytes */
    if (M == 1 && op->dtype == TRN_DTYPE_BF16 && G >= 8 && N / G <= cmax)
        return combine_spread(e, G, err);
    const char *dd = trn_dtype_name(op->dtype), *yd = trn_dtype_name(op->out_dtype);
    lw_printf(e,
              ".kernel moe_combine\n.input d %s [%lld, %lld, %lld]\n.input w f32 [%lld, %lld]\n"
              ".output y %s [%lld, %lld]\n",
              dd, LL M, LL K, LL N, LL M, LL K, yd, LL M, LL N);
    lw_tile(e, TRN_MEM_SBUF, "dt", op->dtype, 4, (int64_t[]){128, 2, K, CW});
    lw_tile(e, TRN_MEM_SBUF, "wf", TRN_DTYPE_F32, 3, (int64_t[]){128, 2, K});
    lw_tile(e, TRN_MEM_SBUF, "wq", op->dtype, 3, (int64_t[]){128, 2, K});
    lw_tile(e, TRN_MEM_SBUF, "pr", op->out_dtype, 3, (int64_t[]){128, 2, CW});
    lw_tile(e, TRN_MEM_SBUF, "yt", op->out_dtype, 3, (int64_t[]){128, 2, CW});
    trn_status s = lw_check_fit(e, "moe_combine", err);
    if (s != TRN_OK) return s;
    const char *ld = lw_dma_engine(e), *me = e->t->version >= 3 ? "" : " engine=scalar";
    nc = lw_cdiv(N, CW);
    int64_t nt = nr * nc;
    int pq = 0; /* the next slot of the products' ring */
    for (int64_t i = 0; i <= nt; i++) {
        if (i < nt) {
            int64_t r0 = i / nc * 128, c0 = i % nc * CW, r = lw_min(128, M - r0),
                    w = lw_min(CW, N - c0);
            if (c0 == 0)
                lw_printf(e, "dma_copy dst=wf[0:%lld, %d, :] src=w[%lld:%lld, :]%s\n", LL r,
                          (int)(i / nc % 2), LL r0, LL(r0 + r), ld);
            lw_printf(e,
                      "dma_copy dst=dt[0:%lld, %d, :, 0:%lld] src=d[%lld:%lld, :, %lld:%lld]%s\n",
                      LL r, (int)(i % 2), LL w, LL r0, LL(r0 + r), LL c0, LL(c0 + w), ld);
        }
        if (i == 0) continue;
        int64_t j = i - 1, r0 = j / nc * 128, c0 = j % nc * CW, r = lw_min(128, M - r0),
                w = lw_min(CW, N - c0);
        int b = (int)(j % 2), wb = (int)(j / nc % 2);
        if (c0 == 0)
            lw_printf(e, "tensor_copy dst=wq[0:%lld, %d, :] src=wf[0:%lld, %d, :]\n", LL r, wb,
                      LL r, wb);
        char y[64];
        snprintf(y, sizeof y, "yt[0:%lld, %d, 0:%lld]", LL r, b, LL w);
        for (int64_t q = 0; q < K; q++) {
            char p[64];
            snprintf(p, sizeof p, "pr[0:%lld, %d, 0:%lld]", LL r, pq, LL w);
            lw_printf(e,
                      "tensor_scalar dst=%s data=dt[0:%lld, %d, %lld, 0:%lld] op0=multiply "
                      "operand0=wq[0:%lld, %d, %lld:%lld]%s\n",
                      q ? p : y, LL r, b, LL q, LL w, LL r, wb, LL q, LL(q + 1), me);
            if (q) {
                lw_printf(e, "tensor_tensor dst=%s data1=%s data2=%s op=add\n", y, y, p);
                pq ^= 1;
            }
        }
        lw_printf(e, "dma_copy dst=y[%lld:%lld, %lld:%lld] src=%s%s\n", LL r0, LL(r0 + r), LL c0,
                  LL(c0 + w), y, st_eng(e));
    }
    return TRN_OK;
}

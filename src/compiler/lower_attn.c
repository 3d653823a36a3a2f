/* ATTENTION: causal multi-head attention with GQA, flash style, for prefill (q_len > 1) and a
 * decode step (q_len = 1) against the KV cache in HBM.
 *
 * Per kv head, K and V ([kv_len, head_dim] slices of k and v) are loaded in 128-key chunks
 * (key 128 c + p at partition p of chunk c) into a two-deep ring, so the next head's loads run
 * during this head's work; K is transposed once on TensorE into kT [head_dim, kv_len]. A query
 * tile is 128 queries of one head (prefill) or the heads / kv_heads query heads of the group
 * at the one decode position (decode: GQA heads share the K/V stream and fill the partitions).
 * Its qT comes from a TensorE transpose. Keys are visited in blocks of 512 (one PSUM bank of
 * scores) up to the tile's last visible key, with an online softmax: running row max m and sum
 * l, the PV accumulator rescaled by exp(m_old - m_new), one normalization at the end. Blocks
 * that reach past a row's position are masked by affine_select (keep key <= position). P is
 * rounded to bf16 for the PV matmuls (FP32 accumulation).
 * Engines: TensorE q k^T, the transposes and PV; VectorE scale, max, rescaling and evictions;
 * ScalarE the exponentials with fused row sums; GpSimd the mask. Left out: kv_len beyond what
 * SBUF holds for one head (a clear error), sliding windows, ALiBi. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lower_impl.h"

#define LL (long long)
#define KB 512
/* query tiles in flight (their key blocks software-pipelined): PSUM holds 4 score banks, 2 of
 * transposed probabilities, 1 of PV results and the transposes */
#define NU 4

typedef struct att {
    lw *e;
    int64_t D, LC;
    int cm;    /* affine_select channel multiplier: 1 prefill (a position per row), 0 decode */
    int64_t G; /* query heads per kv head */
    double scale;
    const char *ld, *se;
    int tti;   /* ring index of the transpose PSUM buffer */
    int allkv; /* decode: K and V of every kv head resident, [128, chunks, kv_heads, d] */
} att;

typedef struct qtile {
    int64_t hq, q0, R, pos0, kend, nb;
    int64_t hk; /* its kv head */
    int kb;     /* the kv head's ring slot */
} qtile;

static void tile_start(att *a, const qtile *x, int u) {
    lw *e = a->e;
    int64_t R = x->R, D = a->D;
    if (!a->cm)
        lw_printf(e, "dma_copy dst=qs[0:%lld, %d, :] src=q[0:1, %lld:%lld]%s\n", LL R, u,
                  LL(x->hq * D), LL((x->hq + a->G) * D), a->ld);
    else
        lw_printf(e, "dma_copy dst=qs[0:%lld, %d, :] src=q[%lld:%lld, %lld:%lld]%s\n", LL R, u,
                  LL x->q0, LL(x->q0 + R), LL(x->hq * D), LL((x->hq + 1) * D), a->ld);
    lw_printf(e,
              "nc_transpose dst=ttp[0:%lld, %d, 0:%lld] data=qs[0:%lld, %d, :]\n"
              "tensor_copy dst=qT[0:%lld, %d, 0:%lld] src=ttp[0:%lld, %d, 0:%lld]\n"
              "memset dst=st[0:%lld, %d, 1:2] value=inf\n"
              "memset dst=st[0:%lld, %d, 6:7] value=0.0\n"
              "memset dst=acc[0:%lld, %d, :] value=0.0\n",
              LL D, a->tti, LL R, LL R, u, LL D, u, LL R, LL D, a->tti, LL R, LL R, u, LL R, u,
              LL R, u);
    a->tti ^= 1;
}

/* Key block j of tile x. Stats columns of st[:, u, :]: 0/1 nm = -max/sqrt(d) (new in column
 * j % 2, old in the other), 3 block max, 4 block exp sum, 5 alpha, 6 running sum, 7 1/sum. */
static void tile_block(att *a, const qtile *x, int u, int64_t j, int phase) {
    lw *e = a->e;
    int64_t R = x->R, D = a->D, k0 = j * KB, nk = lw_min(KB, x->kend - k0);
    int mo = (int)((j + 1) % 2), mn = (int)(j % 2);
    char sv[64];
    int masked = k0 + nk - 1 > x->pos0;
    if (masked)
        snprintf(sv, sizeof sv, "sc[0:%lld, %d, 0:%lld]", LL R, u, LL nk);
    else
        snprintf(sv, sizeof sv, "sp[0:%lld, %d, 0:%lld]", LL R, u, LL nk);
    int64_t nc = lw_cdiv(nk, 128);
    switch (phase) {
    case 0:
        /* scores stay raw in PSUM: the max is taken there and ScalarE applies the 1/sqrt(d) scale
         * inside exp(scale s + nm); only blocks that need the mask are copied to SBUF (GpSimd does
         * not read PSUM) */
        lw_printf(e,
                  "nc_matmul dst=sp[0:%lld, %d, 0:%lld] stationary=qT[0:%lld, %d, 0:%lld] "
                  "moving=kT[0:%lld, %d, %lld:%lld]\n",
                  LL R, u, LL nk, LL D, u, LL R, LL D, x->kb, LL k0, LL(k0 + nk));
        if (masked)
            lw_printf(
                e,
                "%s dst=sc[0:%lld, %d, 0:%lld] %s=sp[0:%lld, %d, 0:%lld]%s\n"
                "affine_select dst=sc[0:%lld, %d, 0:%lld] on_true_tile=sc[0:%lld, %d, 0:%lld] "
                "pattern=[[-1, %lld]] channel_multiplier=%d offset=%lld on_false_value=-inf\n",
                /* the copy on ScalarE, which has room (v2: activation copy) */
                e->t->version >= 3 ? "tensor_copy" : "activation", LL R, u, LL nk,
                e->t->version >= 3 ? "src" : "data", LL R, u, LL nk,
                e->t->version >= 3 ? " engine=scalar" : " op=copy", LL R, u, LL nk, LL R, u, LL nk,
                LL nk, a->cm, LL(x->pos0 - k0));
        return;
#define STC(c) "st[0:%lld, %d, %d:%d]"
    case 1:
        /* the block max: VectorE, or every other unmasked block ScalarE (a copy to SBUF with a
         * fused max), balancing the two engines */
        if (!masked && j % 2 == 1) {
            lw_printf(e,
                      "activation dst=sc[0:%lld, %d, 0:%lld] data=%s op=copy reduce_op=maximum "
                      "reduce_res=st[0:%lld, %d, 3:4]\n",
                      LL R, u, LL nk, sv, LL R, u);
            snprintf(sv, sizeof sv, "st[0:%lld, %d, 3:4]", LL R, u);
            lw_printf(e,
                      "tensor_scalar dst=st[0:%lld, %d, %d:%d] data=%s op0=multiply operand0=%.17g "
                      "op1=minimum operand1=st[0:%lld, %d, %d:%d]\n",
                      LL R, u, mn, mn + 1, sv, -a->scale, LL R, u, mo, mo + 1);
            return;
        }
        /* nm_new = min(-scale bm, nm_old) = -scale max(bm, m_old) */
        lw_printf(e,
                  "tensor_reduce dst=st[0:%lld, %d, 3:4] op=max data=%s axis=1\n"
                  "tensor_scalar dst=" STC(mn) " data=st[0:%lld, %d, 3:4] op0=multiply "
                                               "operand0=%.17g op1=minimum operand1=" STC(mo) "\n",
                  LL R, u, sv, LL R, u, mn, mn + 1, LL R, u, -a->scale, LL R, u, mo, mo + 1);
        return;
    case 2:
        lw_printf(e,
                  "activation dst=pb[0:%lld, %d, 0:%lld] data=%s op=exp scale=%.17g "
                  "bias=" STC(
                      mn) " reduce_op=add reduce_res=st[0:%lld, %d, 4:5]\n"
                          /* alpha = exp(scale m_old - scale m_new) = exp(-nm_old + nm_new) */
                          "activation dst=st[0:%lld, %d, 5:6] data=" STC(
                              mo) " op=exp scale=-1.0 bias=" STC(mn) "\n"
                                                                     "tensor_scalar dst=st[0:%lld, "
                                                                     "%d, 6:7] data=st[0:%lld, %d, "
                                                                     "6:7] op0=multiply "
                                                                     "operand0=st[0:%lld, %d, 5:6] "
                                                                     "op1=add operand1=st[0:%lld, "
                                                                     "%d, 4:5]\n",
                  LL R, u, LL nk, sv, a->scale, LL R, u, mn, mn + 1, LL R, u, LL R, u, LL R, u, mo,
                  mo + 1, LL R, u, mn, mn + 1, LL R, u, LL R, u, LL R, u, LL R, u);
        return;
#undef STC
    case 3:
        for (int64_t c = 0; c < nc; c++) {
            int64_t w = lw_min(128, nk - c * 128);
            lw_printf(
                e,
                "nc_transpose dst=ptp[0:%lld, %d, %lld, 0:%lld] data=pb[0:%lld, %d, %lld:%lld]\n",
                LL w, u, LL c, LL R, LL R, u, LL(c * 128), LL(c * 128 + w));
        }
        for (int64_t c = 0; c < nc; c++) {
            int64_t w = lw_min(128, nk - c * 128);
            /* one copy per chunk, so each PV matmul starts as soon as its chunk is there; on
             * v3 alternately VectorE (N / 2 from PSUM) and ScalarE, on v4 (ScalarE's 2x 16-bit
             * rate [AG4]) all on ScalarE, on v2 (no ScalarE tensor_copy) an activation copy */
            const char *fmt;
            if (e->t->version < 3)
                fmt = "activation dst=pt[0:%lld, %d, %lld, 0:%lld] data=ptp[0:%lld, %d, %lld, "
                      "0:%lld] op=copy\n";
            else if (c % 2 || e->t->version >= 4)
                fmt = "tensor_copy dst=pt[0:%lld, %d, %lld, 0:%lld] src=ptp[0:%lld, %d, %lld, "
                      "0:%lld] engine=scalar\n";
            else
                fmt = "tensor_copy dst=pt[0:%lld, %d, %lld, 0:%lld] src=ptp[0:%lld, %d, %lld, "
                      "0:%lld]\n";
            lw_printf(e, fmt, LL w, u, LL c, LL R, LL w, u, LL c, LL R);
        }
        return;
    case 4:
        for (int64_t c = 0; c < nc; c++) {
            int64_t w = lw_min(128, nk - c * 128), kc = (k0 + c * 128) / 128;
            lw_printf(e,
                      "nc_matmul dst=ops[0:%lld, %d, :] stationary=pt[0:%lld, %d, %lld, 0:%lld] "
                      "moving=vv[0:%lld, %lld, %lld, :]%s\n",
                      LL R, u, LL w, u, LL c, LL R, LL w, a->allkv ? LL kc : LL x->kb,
                      a->allkv ? LL x->hk : LL kc, c ? " accumulate=true" : "");
        }
        return;
    default:
        /* acc = acc * alpha + p v */
        lw_printf(
            e,
            "scalar_tensor_tensor dst=acc[0:%lld, %d, :] data=acc[0:%lld, %d, :] op0=multiply "
            "operand0=st[0:%lld, %d, 5:6] op1=add operand1=ops[0:%lld, %d, :]\n",
            LL R, u, LL R, u, LL R, u, LL R, u);
    }
    (void)D;
}

static void tile_end(att *a, const qtile *x, int u) {
    lw *e = a->e;
    int64_t R = x->R, D = a->D;
    lw_printf(e,
              "reciprocal dst=st[0:%lld, %d, 7:8] data=st[0:%lld, %d, 6:7]\n"
              "tensor_scalar dst=ot[0:%lld, %d, :] data=acc[0:%lld, %d, :] op0=multiply "
              "operand0=st[0:%lld, %d, 7:8]\n",
              LL R, u, LL R, u, LL R, u, LL R, u, LL R, u);
    if (!a->cm)
        lw_printf(e, "dma_copy dst=o[0:1, %lld:%lld] src=ot[0:%lld, %d, :]%s\n", LL(x->hq * D),
                  LL((x->hq + a->G) * D), LL R, u, a->se);
    else
        lw_printf(e, "dma_copy dst=o[%lld:%lld, %lld:%lld] src=ot[0:%lld, %d, :]%s\n", LL x->q0,
                  LL(x->q0 + R), LL(x->hq * D), LL((x->hq + 1) * D), LL R, u, a->se);
}

trn_status lw_attention(lw *e, trn_err *err) {
    const trn_lower_op *op = e->op;
    int64_t S = op->q_len, L = op->kv_len, H = op->heads, HK = op->kv_heads, D = op->head_dim;
    int64_t G = H / HK, LC = lw_cdiv(L, 128);
    int decode = S == 1;
    if (op->dtype != TRN_DTYPE_BF16)
        return trn_err_set(err, TRN_E_UNSUPPORTED,
                           "attention: q, k, v in %s (the lowering takes bf16)",
                           trn_dtype_name(op->dtype));
    if (op->n != 0 && op->n != H * D)
        return trn_err_set(err, TRN_E_INVALID,
                           "attention: n = %lld (0, or heads x head_dim = %lld: the width of q "
                           "and o)",
                           LL op->n, LL(H * D));
    if (decode && G > 128)
        return trn_err_set(err, TRN_E_UNSUPPORTED,
                           "attention: %lld query heads per kv head (decode takes at most 128)",
                           LL G);
    const char *yd = trn_dtype_name(op->out_dtype);
    lw_printf(e,
              ".kernel attention\n.input q bf16 [%lld, %lld]\n.input k bf16 [%lld, %lld]\n"
              ".input v bf16 [%lld, %lld]\n.output o %s [%lld, %lld]\n",
              LL S, LL(H * D), LL L, LL(HK * D), LL L, LL(HK * D), yd, LL S, LL(H * D));
    /* decode with K and V of all kv heads small enough: loaded once, whole rows (contiguous
     * kv_heads x d runs per partition) instead of one head's 2 d bytes per row */
    int allkv = decode && L >= 128 && 2 * lw_tile_bytes(TRN_DTYPE_BF16, LC * HK * D) <= 96 * 1024;
    if (allkv) {
        lw_tile(e, TRN_MEM_SBUF, "kk", TRN_DTYPE_BF16, 4, (int64_t[]){128, LC, HK, D});
        lw_tile(e, TRN_MEM_SBUF, "vv", TRN_DTYPE_BF16, 4, (int64_t[]){128, LC, HK, D});
    } else {
        lw_tile(e, TRN_MEM_SBUF, "kk", TRN_DTYPE_BF16, 4, (int64_t[]){128, 2, LC, D});
        lw_tile(e, TRN_MEM_SBUF, "vv", TRN_DTYPE_BF16, 4, (int64_t[]){128, 2, LC, D});
    }
    lw_tile(e, TRN_MEM_SBUF, "kT", TRN_DTYPE_BF16, 3, (int64_t[]){128, 2, LC * 128});
    /* per query tile state, NU tiles in flight (u = 0 .. NU - 1) */
    lw_tile(e, TRN_MEM_SBUF, "qs", TRN_DTYPE_BF16, 3, (int64_t[]){128, NU, D});
    lw_tile(e, TRN_MEM_SBUF, "qT", TRN_DTYPE_BF16, 3, (int64_t[]){128, NU, 128});
    lw_tile(e, TRN_MEM_SBUF, "sc", TRN_DTYPE_F32, 3, (int64_t[]){128, NU, KB});
    lw_tile(e, TRN_MEM_SBUF, "pb", TRN_DTYPE_BF16, 3, (int64_t[]){128, NU, KB});
    lw_tile(e, TRN_MEM_SBUF, "pt", TRN_DTYPE_BF16, 4, (int64_t[]){128, NU, KB / 128, 128});
    lw_tile(e, TRN_MEM_SBUF, "acc", TRN_DTYPE_F32, 3, (int64_t[]){128, NU, D});
    lw_tile(e, TRN_MEM_SBUF, "ot", op->out_dtype, 3, (int64_t[]){128, NU, D});
    /* stats per tile: nm (two ping-pong columns: -max / sqrt(d), old and new), bm, rs, al, l,
     * rl */
    lw_tile(e, TRN_MEM_SBUF, "st", TRN_DTYPE_F32, 3, (int64_t[]){128, NU, 8});
    lw_tile(e, TRN_MEM_PSUM, "sp", TRN_DTYPE_F32, 3, (int64_t[]){128, NU, KB});
    lw_tile(e, TRN_MEM_PSUM, "ptp", TRN_DTYPE_BF16, 4, (int64_t[]){128, NU, KB / 128, 128});
    lw_tile(e, TRN_MEM_PSUM, "ops", TRN_DTYPE_F32, 3, (int64_t[]){128, NU, D});
    lw_tile(e, TRN_MEM_PSUM, "ttp", TRN_DTYPE_BF16, 3, (int64_t[]){128, 2, 128});
    trn_status s = lw_check_fit(e, "attention", err);
    if (s != TRN_OK) return s;
    const char *ld = lw_dma_engine(e);
    att a = {e,  D,
             LC, decode ? 0 : 1,
             G,  1.0 / sqrt((double)D),
             ld, e->t->version >= 3 ? " engine=scalar" : "",
             0,  allkv};
    for (int64_t h = 0; h <= HK; h++) {
        if (h == 0 && allkv) {
            /* every key of every kv head: key C0 p + c at partition p, chunk c (decode does
             * not care about key order), the last L % 128 keys as one more chunk */
            int64_t C0 = L / 128, L0 = C0 * 128, r = L - L0;
            for (int q = 0; q < 2; q++) {
                lw_printf(e, "dma_copy dst=%s[:, 0:%lld, :, :] src=%s[0:%lld, :]%s\n",
                          q ? "vv" : "kk", LL C0, q ? "v" : "k", LL L0, ld);
                if (r)
                    lw_printf(e, "dma_copy dst=%s[0:%lld, %lld, :, :] src=%s[%lld:%lld, :]%s\n",
                              q ? "vv" : "kk", LL r, LL C0, q ? "v" : "k", LL L0, LL L, ld);
            }
        } else if (allkv) {
        } else if (h < HK && decode && L >= 128) {
            /* decode sees every key, so their order does not matter: the first L0 = 128 C0
             * keys load in one DMA each for K and V with key C0 p + c at partition p, chunk c
             * (a contiguous run per partition), the rest (< 128) as one more chunk */
            int64_t C0 = L / 128, L0 = C0 * 128, r = L - L0;
            for (int q = 0; q < 2; q++) {
                lw_printf(e, "dma_copy dst=%s[:, %d, 0:%lld, :] src=%s[0:%lld, %lld:%lld]%s\n",
                          q ? "vv" : "kk", (int)(h % 2), LL C0, q ? "v" : "k", LL L0, LL(h * D),
                          LL((h + 1) * D), ld);
                if (r)
                    lw_printf(
                        e, "dma_copy dst=%s[0:%lld, %d, %lld, :] src=%s[%lld:%lld, %lld:%lld]%s\n",
                        q ? "vv" : "kk", LL r, (int)(h % 2), LL C0, q ? "v" : "k", LL L0, LL L,
                        LL(h * D), LL((h + 1) * D), ld);
            }
        } else if (h < HK) { /* loads of kv head h (the ring lets them run ahead of head h - 1) */
            for (int64_t c = 0; c < LC; c++) {
                int64_t r = lw_min(128, L - c * 128);
                for (int q = 0; q < 2; q++)
                    lw_printf(
                        e, "dma_copy dst=%s[0:%lld, %d, %lld, :] src=%s[%lld:%lld, %lld:%lld]%s\n",
                        q ? "vv" : "kk", LL r, (int)(h % 2), LL c, q ? "v" : "k", LL(c * 128),
                        LL(c * 128 + r), LL(h * D), LL((h + 1) * D), ld);
            }
        }
        if (h == 0) continue;
        int64_t hk = h - 1;
        int kb = (int)(hk % 2);
        for (int64_t c = 0; c < LC; c++, a.tti ^= 1) {
            int64_t r = lw_min(128, L - c * 128);
            lw_printf(e,
                      "nc_transpose dst=ttp[0:%lld, %d, 0:%lld] data=kk[0:%lld, %lld, %lld, :]\n"
                      "tensor_copy dst=kT[0:%lld, %d, %lld:%lld] src=ttp[0:%lld, %d, 0:%lld]\n",
                      LL D, a.tti, LL r, LL r, allkv ? LL c : LL kb, allkv ? LL hk : LL c, LL D, kb,
                      LL(c * 128), LL(c * 128 + r), LL D, a.tti, LL r);
        }
        /* query tiles of this kv head, two at a time, their key blocks interleaved so one
         * tile's softmax chain runs while the other's matmuls do */
        int64_t nqt = lw_cdiv(S, 128), nq = decode ? 1 : G * nqt;
        for (int64_t t = 0; t < nq; t += NU) {
            qtile q[NU];
            int nu = (int)lw_min(NU, nq - t);
            int64_t nbmax = 0;
            for (int u = 0; u < nu; u++) {
                qtile *x = &q[u];
                int64_t tt = t + u;
                x->hq = decode ? hk * G : hk * G + tt / nqt;
                x->q0 = decode ? 0 : (tt % nqt) * 128;
                x->R = decode ? G : lw_min(128, S - x->q0);
                x->pos0 = L - S + x->q0;
                x->kend = decode ? L : x->pos0 + x->R;
                x->nb = lw_cdiv(x->kend, KB);
                x->kb = kb;
                x->hk = hk;
                if (x->nb > nbmax) nbmax = x->nb;
                tile_start(&a, x, u);
            }
            /* software pipeline: the phases of block j of both tiles in turn, and the
             * accumulator update of block j - 1 deferred past block j's max, so no in-order
             * engine queue waits on one tile's chain while the other's work is ready */
            for (int64_t j = 0; j <= nbmax; j++) {
                for (int ph = 0; ph < 2; ph++)
                    for (int u = 0; u < nu; u++)
                        if (j < q[u].nb) tile_block(&a, &q[u], u, j, ph);
                for (int u = 0; u < nu; u++)
                    if (j >= 1 && j <= q[u].nb) tile_block(&a, &q[u], u, j - 1, 5);
                for (int ph = 2; ph < 5; ph++)
                    for (int u = 0; u < nu; u++)
                        if (j < q[u].nb) tile_block(&a, &q[u], u, j, ph);
            }
            for (int u = 0; u < nu; u++) tile_end(&a, &q[u], u);
        }
    }
    return TRN_OK;
}

/* ATTENTION: causal multi-head attention with GQA, flash style, for prefill (q_len > 1) and a
 * decode step (q_len = 1) against the KV cache in HBM, with an optional sliding window, per-head
 * sink logits (GPT-OSS) and score scale.
 *
 * K and V of a kv head ([kv_len, head_dim] slices of k and v) are loaded in 128-key chunks
 * (prefill: key 128 c + p at partition p of chunk c) into a two-deep ring, so the next head's
 * loads run during this head's work; K is transposed on TensorE into kT [head_dim, kv_len]. A
 * query tile is 128 queries of one head (prefill) or the heads / kv_heads query heads of the
 * group at the one decode position (decode: GQA heads share the K/V stream and fill the
 * partitions). Its qT comes from a TensorE transpose. Keys are visited in blocks of 512 (one
 * PSUM bank of scores) up to the tile's last visible key, with an online softmax: running row
 * max m and sum l, the PV accumulator rescaled by exp(m_old - m_new), one normalization at the
 * end. Blocks that reach past a row's position are masked by affine_select (keep key <=
 * position). P is rounded to bf16 for the PV matmuls (FP32 accumulation).
 * Prefill schedule (prefill()): per kv head the tiles in position order (the GQA heads of one
 * query tile, then the next), four in flight with their blocks software-pipelined; K and V
 * loaded and K transposed chunk by chunk as the tiles reach them; one DMA per run of heads for
 * queries and for outputs; the next group's loads issued before this group's stores.
 * Sinks: m starts at the head's sink logit and l at exp(sink - m) = 1, so the sink joins every
 * row's max and denominator and nothing else. Sliding window W (each query sees keys
 * position - W + 1 .. position): a decode step reads only the last W keys; a prefill tile's
 * blocks start at its first visible key rounded down to a chunk (work and loads follow the
 * window) and blocks reaching before a row's first key are masked by a second affine_select.
 * Engines: TensorE q k^T, the transposes and PV; VectorE the max, rescaling and evictions;
 * ScalarE the exponentials with fused row sums and evictions; GpSimd the masks and (prefill
 * without a window) the running statistics. Left out: kv_len beyond what SBUF holds for one head
 * (a clear error), ALiBi. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lower_impl.h"

#define LL (long long)
static int64_t lw_max(int64_t a, int64_t b) {
    return a > b ? a : b;
}
#define KB 512
/* query tiles in flight (their key blocks software-pipelined): PSUM holds 4 score banks, 2 of
 * transposed probabilities, 1 of PV results and the transposes */
#define NU 4
/* prefill without a window: the running statistics' updates (SBUF only) on GpSimd, which has
 * room, off VectorE's chain (under a window GpSimd's masks fill it) */
#define ST_ENG (a->cm && !a->W ? " engine=gpsimd" : "")

typedef struct att {
    lw *e;
    int64_t D, LC;
    int cm;    /* affine_select channel multiplier: 1 prefill (a position per row), 0 decode */
    int64_t G; /* query heads per kv head */
    double scale;
    const char *ld, *se;
    int tti;   /* ring index of the transpose PSUM buffer */
    int allkv; /* decode: K and V of every kv head resident, [128, chunks, kv_heads, d] */
    int64_t W; /* prefill: the sliding window (0: every key up to the position) */
    int sinks; /* 1: the running max and sum start at the head's sink logit (skb) */
} att;

typedef struct qtile {
    int64_t hq, q0, R, pos0, kend, nb;
    int64_t kbeg; /* key of block 0: 0, or under a window the tile's first visible key rounded
                     down to a 128-key chunk */
    int64_t hk;   /* its kv head */
    int kb;       /* the kv head's ring slot */
} qtile;

/* The queries of tiles x[u0 .. u0 + n - 1] (one run: the same rows, consecutive heads) into
 * qs[:, u0 .., :], one DMA. */
static void tile_load(att *a, const qtile *x, int u0, int n) {
    lw *e = a->e;
    const qtile *f = &x[u0];
    int64_t R = f->R, D = a->D;
    if (!a->cm)
        lw_printf(e, "dma_copy dst=qs[0:%lld, %d, :] src=q[0:1, %lld:%lld]%s\n", LL R, u0,
                  LL(f->hq * D), LL((f->hq + a->G) * D), a->ld);
    else if (n == 1)
        lw_printf(e, "dma_copy dst=qs[0:%lld, %d, :] src=q[%lld:%lld, %lld:%lld]%s\n", LL R, u0,
                  LL f->q0, LL(f->q0 + R), LL(f->hq * D), LL((f->hq + 1) * D), a->ld);
    else
        lw_printf(e, "dma_copy dst=qs[0:%lld, %d:%d, :] src=q[%lld:%lld, %lld:%lld]%s\n", LL R, u0,
                  u0 + n, LL f->q0, LL(f->q0 + R), LL(f->hq * D), LL((f->hq + n) * D), a->ld);
}

/* qT of the loaded tile, and its statistics and accumulator reset. Prefill (VectorE the
 * busiest engine): the PSUM copy on ScalarE, the resets on GpSimd, no accumulator reset (block
 * 0 writes it). */
static void tile_start(att *a, const qtile *x, int u) {
    lw *e = a->e;
    int64_t R = x->R, D = a->D;
    const char *cp = "tensor_copy", *sv = "src", *ce = "", *pool = "";
    if (a->cm) {
        cp = e->t->version >= 3 ? "tensor_copy" : "activation";
        sv = e->t->version >= 3 ? "src" : "data";
        ce = e->t->version >= 3 ? " engine=scalar" : " op=copy";
        pool = " engine=gpsimd";
    }
    lw_printf(e,
              "nc_transpose dst=ttp[0:%lld, %d, 0:%lld] data=qs[0:%lld, %d, :]\n"
              "%s dst=qT[0:%lld, %d, 0:%lld] %s=ttp[0:%lld, %d, 0:%lld]%s\n",
              LL D, a->tti, LL R, LL R, u, cp, LL D, u, LL R, sv, LL D, a->tti, LL R, ce);
    if (a->sinks && a->cm) /* m = the sink logit (nm = -sink, skb holds it), l = 1 */
        lw_printf(e,
                  "tensor_copy dst=st[0:%lld, %d, 1:2] src=skb[0:%lld, %lld:%lld]%s\n"
                  "memset dst=st[0:%lld, %d, 6:7] value=1.0%s\n",
                  LL R, u, LL R, LL x->hq, LL(x->hq + 1), pool, LL R, u, pool);
    else if (a->sinks) /* decode: skb holds the group's sinks */
        lw_printf(e,
                  "tensor_scalar dst=st[0:%lld, %d, 1:2] data=skb[0:%lld, %lld:%lld] op0=multiply "
                  "operand0=-1.0\n"
                  "memset dst=st[0:%lld, %d, 6:7] value=1.0\n",
                  LL R, u, LL R, LL x->hk, LL(x->hk + 1), LL R, u);
    else
        lw_printf(e,
                  "memset dst=st[0:%lld, %d, 1:2] value=inf%s\n"
                  "memset dst=st[0:%lld, %d, 6:7] value=0.0%s\n",
                  LL R, u, pool, LL R, u, pool);
    if (!a->cm) lw_printf(e, "memset dst=acc[0:%lld, %d, :] value=0.0\n", LL R, u);
    a->tti ^= 1;
}

/* Key block j of tile x. Stats columns of st[:, u, :]: 0/1 nm = -max/sqrt(d) (new in column
 * j % 2, old in the other), 3 block max, 4 block exp sum, 5 alpha, 6 running sum, 7 1/sum. */
static void tile_block(att *a, const qtile *x, int u, int64_t j, int phase) {
    lw *e = a->e;
    int64_t R = x->R, D = a->D, k0 = x->kbeg + j * KB, nk = lw_min(KB, x->kend - k0);
    int mo = (int)((j + 1) % 2), mn = (int)(j % 2);
    char sv[64];
    /* causal: a key past the first row's position; window: a key before the last row's first
     * visible key pos0 + R - W */
    int causal = k0 + nk - 1 > x->pos0, low = a->W > 0 && k0 < x->pos0 + R - a->W;
    int masked = causal || low;
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
        if (masked) /* the copy on ScalarE, which has room (v2: activation copy) */
            lw_printf(e, "%s dst=sc[0:%lld, %d, 0:%lld] %s=sp[0:%lld, %d, 0:%lld]%s\n",
                      e->t->version >= 3 ? "tensor_copy" : "activation", LL R, u, LL nk,
                      e->t->version >= 3 ? "src" : "data", LL R, u, LL nk,
                      e->t->version >= 3 ? " engine=scalar" : " op=copy");
        /* keep key k0 + i <= position pos0 + p, over the columns past pos0, which some row
         * masks (GpSimd's time is per column) */
        if (causal) {
            int64_t c0 = lw_max(0, x->pos0 + 1 - k0), n = nk - c0;
            lw_printf(e,
                      "affine_select dst=sc[0:%lld, %d, %lld:%lld] on_true_tile=sc[0:%lld, %d, "
                      "%lld:%lld] pattern=[[-1, %lld]] channel_multiplier=%d offset=%lld "
                      "on_false_value=-inf\n",
                      LL R, u, LL c0, LL nk, LL R, u, LL c0, LL nk, LL n, a->cm,
                      LL(x->pos0 - k0 - c0));
        }
        /* keep key k0 + i >= pos0 + p - W + 1 (prefill only: decode reads just its window),
         * over the columns before the last row's first key */
        if (low) {
            int64_t n = lw_min(nk, x->pos0 + R - a->W - k0);
            lw_printf(
                e,
                "affine_select dst=sc[0:%lld, %d, 0:%lld] on_true_tile=sc[0:%lld, %d, 0:%lld] "
                "pattern=[[1, %lld]] channel_multiplier=-1 offset=%lld on_false_value=-inf\n",
                LL R, u, LL n, LL R, u, LL n, LL n, LL(k0 - x->pos0 + a->W - 1));
        }
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
                      "op1=minimum operand1=st[0:%lld, %d, %d:%d]%s\n",
                      LL R, u, mn, mn + 1, sv, -a->scale, LL R, u, mo, mo + 1, ST_ENG);
            return;
        }
        /* nm_new = min(-scale bm, nm_old) = -scale max(bm, m_old) */
        lw_printf(
            e,
            "tensor_reduce dst=st[0:%lld, %d, 3:4] op=max data=%s axis=1\n"
            "tensor_scalar dst=" STC(mn) " data=st[0:%lld, %d, 3:4] op0=multiply "
                                         "operand0=%.17g op1=minimum operand1=" STC(mo) "%s\n",
            LL R, u, sv, LL R, u, mn, mn + 1, LL R, u, -a->scale, LL R, u, mo, mo + 1, ST_ENG);
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
                                                                     "%d, 4:5]%s\n",
                  LL R, u, LL nk, sv, a->scale, LL R, u, mn, mn + 1, LL R, u, LL R, u, LL R, u, mo,
                  mo + 1, LL R, u, mn, mn + 1, LL R, u, LL R, u, LL R, u, LL R, u, ST_ENG);
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
        /* prefill: block 0 starts acc (none for a one-block tile: tile_end reads ops) */
        if (a->cm && j == 0) {
            if (x->nb > 1)
                lw_printf(e, "tensor_copy dst=acc[0:%lld, %d, :] src=ops[0:%lld, %d, :]\n", LL R, u,
                          LL R, u);
            return;
        }
        /* acc = acc * alpha + p v */
        lw_printf(
            e,
            "scalar_tensor_tensor dst=acc[0:%lld, %d, :] data=acc[0:%lld, %d, :] op0=multiply "
            "operand0=st[0:%lld, %d, 5:6] op1=add operand1=ops[0:%lld, %d, :]\n",
            LL R, u, LL R, u, LL R, u, LL R, u);
    }
    (void)D;
}

/* o = acc / l of tile x into ot[:, u, :]. */
static void tile_end(att *a, const qtile *x, int u) {
    int64_t R = x->R;
    if (a->cm) { /* prefill: one division, from PSUM for a one-block tile */
        lw_printf(a->e,
                  "tensor_scalar dst=ot[0:%lld, %d, :] data=%s[0:%lld, %d, :] op0=divide "
                  "operand0=st[0:%lld, %d, 6:7]\n",
                  LL R, u, x->nb > 1 ? "acc" : "ops", LL R, u, LL R, u);
        return;
    }
    lw_printf(a->e,
              "reciprocal dst=st[0:%lld, %d, 7:8] data=st[0:%lld, %d, 6:7]\n"
              "tensor_scalar dst=ot[0:%lld, %d, :] data=acc[0:%lld, %d, :] op0=multiply "
              "operand0=st[0:%lld, %d, 7:8]\n",
              LL R, u, LL R, u, LL R, u, LL R, u, LL R, u);
}

/* ot of tiles x[u0 .. u0 + n - 1] (one run, as tile_load) to o, one DMA. */
static void tile_store(att *a, const qtile *x, int u0, int n) {
    lw *e = a->e;
    const qtile *f = &x[u0];
    int64_t R = f->R, D = a->D;
    if (!a->cm)
        lw_printf(e, "dma_copy dst=o[0:1, %lld:%lld] src=ot[0:%lld, %d, :]%s\n", LL(f->hq * D),
                  LL((f->hq + a->G) * D), LL R, u0, a->se);
    else if (n == 1)
        lw_printf(e, "dma_copy dst=o[%lld:%lld, %lld:%lld] src=ot[0:%lld, %d, :]%s\n", LL f->q0,
                  LL(f->q0 + R), LL(f->hq * D), LL((f->hq + 1) * D), LL R, u0, a->se);
    else
        lw_printf(e, "dma_copy dst=o[%lld:%lld, %lld:%lld] src=ot[0:%lld, %d:%d, :]%s\n", LL f->q0,
                  LL(f->q0 + R), LL(f->hq * D), LL((f->hq + n) * D), LL R, u0, u0 + n, a->se);
}

/* Chunk c (keys 128 c ..) of kv head h's K and V into ring slot h % 2 (rows ko .. of k, v). */
static void kv_chunk(att *a, int64_t c, int64_t h, int64_t L, int64_t ko) {
    int64_t r = lw_min(128, L - c * 128), D = a->D;
    for (int q = 0; q < 2; q++)
        lw_printf(a->e, "dma_copy dst=%s[0:%lld, %d, %lld, :] src=%s[%lld:%lld, %lld:%lld]%s\n",
                  q ? "vv" : "kk", LL r, (int)(h % 2), LL c, q ? "v" : "k", LL(ko + c * 128),
                  LL(ko + c * 128 + r), LL(h * D), LL((h + 1) * D), a->ld);
}

/* Chunk c (keys 128 c ..) of kv head hk's K, transposed into kT[:, hk % 2, 128 c ..]. */
static void kt_chunk(att *a, int64_t c, int64_t hk, int64_t L) {
    int64_t r = lw_min(128, L - c * 128);
    int kb = (int)(hk % 2);
    lw_printf(a->e,
              "nc_transpose dst=ttp[0:%lld, %d, 0:%lld] data=kk[0:%lld, %lld, %lld, :]\n"
              "tensor_copy dst=kT[0:%lld, %d, %lld:%lld] src=ttp[0:%lld, %d, 0:%lld]\n",
              LL a->D, a->tti, LL r, LL r, a->allkv ? LL c : LL kb, a->allkv ? LL hk : LL c,
              LL a->D, kb, LL(c * 128), LL(c * 128 + r), LL a->D, a->tti, LL r);
    a->tti ^= 1;
}

/* Query tile tt of kv head hk, in position order (the G query heads of query tile 0, then of
 * tile 1 ...); decode: the one tile of the group. */
static void tile_init(const att *a, qtile *x, int64_t tt, int64_t hk, int64_t S, int64_t L) {
    int64_t G = a->G;
    int decode = !a->cm;
    x->hq = decode ? hk * G : hk * G + tt % G;
    x->q0 = decode ? 0 : tt / G * 128;
    x->R = decode ? G : lw_min(128, S - x->q0);
    x->pos0 = L - S + x->q0;
    x->kend = decode ? L : x->pos0 + x->R;
    x->kbeg = a->W ? lw_max(0, x->pos0 - a->W + 1) / 128 * 128 : 0;
    x->nb = lw_cdiv(x->kend - x->kbeg, KB);
    x->kb = (int)(hk % 2);
    x->hk = hk;
}

/* The key blocks of tiles q[0 .. nu - 1], software-pipelined: the phases of block j of the
 * tiles in turn, and the accumulator update of block j - 1 deferred past block j's max, so no
 * in-order engine queue waits on one tile's chain while another's work is ready. */
static void tile_blocks(att *a, const qtile *q, int nu, int64_t nbmax) {
    for (int64_t j = 0; j <= nbmax; j++) {
        for (int ph = 0; ph < 2; ph++)
            for (int u = 0; u < nu; u++)
                if (j < q[u].nb) tile_block(a, &q[u], u, j, ph);
        for (int u = 0; u < nu; u++)
            if (j >= 1 && j <= q[u].nb) tile_block(a, &q[u], u, j - 1, 5);
        for (int ph = 2; ph < 5; ph++)
            for (int u = 0; u < nu; u++)
                if (j < q[u].nb) tile_block(a, &q[u], u, j, ph);
    }
}

/* The runs of tiles q[0 .. nu - 1] (consecutive heads of the same query rows): loaded
 * (store = 0) or stored. */
static void tile_runs(att *a, const qtile *q, int nu, int store) {
    for (int u0 = 0; u0 < nu;) {
        int n = 1;
        while (u0 + n < nu && q[u0 + n].q0 == q[u0].q0 && q[u0 + n].hq == q[u0].hq + n) n++;
        if (store)
            tile_store(a, q, u0, n);
        else
            tile_load(a, q, u0, n);
        u0 += n;
    }
}

/* Group (hk, t) of a prefill (tiles t .. t + NU - 1 in position order) into nx:
 * its queries loaded, and K and V of kv head hk up to the last key it reaches (chunks *lc ..).
 * Returns its tile count. */
static int prefetch(att *a, qtile *nx, int64_t hk, int64_t t, int64_t S, int64_t L, int64_t nq,
                    int64_t *lc) {
    int n = (int)lw_min(NU, nq - t);
    int64_t kneed = 0;
    for (int u = 0; u < n; u++) {
        tile_init(a, &nx[u], t + u, hk, S, L);
        kneed = lw_max(kneed, nx[u].kend);
    }
    tile_runs(a, nx, n, 0);
    for (; *lc < lw_cdiv(kneed, 128); (*lc)++) kv_chunk(a, *lc, hk, L, 0);
    return n;
}

/* Prefill: per kv head the query tiles in position order (the G heads of query tile 0, then of
 * tile 1 ...), groups of NU (so a group's tiles reach about the same keys); each group's query
 * rows of its heads in one DMA, and its outputs; K and V loaded and K transposed chunk by
 * chunk as the groups reach them (under a window the loads follow the window; the first groups
 * overlap the loads); the next group's queries and keys loaded before this group's results are
 * stored (the DMAs of one issuing engine go in program order), crossing into the next kv head.
 * Keys below chunk cmin are never read. */
static void prefill(att *a, int64_t S, int64_t L, int64_t HK, int64_t cmin) {
    int64_t nq = a->G * lw_cdiv(S, 128), lc = cmin; /* lc: the next chunk of K, V to load */
    qtile q[NU], nx[NU];
    int nnx = prefetch(a, nx, 0, 0, S, L, nq, &lc);
    for (int64_t hk = 0; hk < HK; hk++) {
        int64_t ct = cmin; /* next chunk of kT to transpose */
        for (int64_t t = 0; t < nq; t += NU) {
            int nu = nnx;
            int64_t nbmax = 0, kneed = 0;
            for (int u = 0; u < nu; u++) {
                q[u] = nx[u];
                nbmax = lw_max(nbmax, q[u].nb);
                kneed = lw_max(kneed, q[u].kend);
            }
            for (; ct < lw_cdiv(kneed, 128); ct++) kt_chunk(a, ct, hk, L);
            for (int u = 0; u < nu; u++) tile_start(a, &q[u], u);
            tile_blocks(a, q, nu, nbmax);
            /* the next group, of this kv head or of the next (ring slot (hk + 1) % 2) */
            if (t + NU < nq)
                nnx = prefetch(a, nx, hk, t + NU, S, L, nq, &lc);
            else if (hk + 1 < HK)
                lc = cmin, nnx = prefetch(a, nx, hk + 1, 0, S, L, nq, &lc);
            for (int u = 0; u < nu; u++) tile_end(a, &q[u], u);
            tile_runs(a, q, nu, 1);
        }
    }
}

trn_status lw_attention(lw *e, trn_err *err) {
    const trn_lower_op *op = e->op;
    int64_t S = op->q_len, L = op->kv_len, H = op->heads, HK = op->kv_heads, D = op->head_dim;
    int64_t G = H / HK;
    int decode = S == 1;
    /* the window, 0 when it covers every key; a decode step reads only the last W keys (rows
     * ko.. of k and v) and sees all of them, so from here on L counts the keys it reads */
    int64_t W = op->window > 0 && op->window < L ? op->window : 0, ko = 0;
    if (decode && W) ko = L - W, W = 0;
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
    if (op->sinks) lw_printf(e, ".input sinks f32 [1, %lld]\n", LL H);
    L -= ko;
    int64_t LC = lw_cdiv(L, 128);
    /* prefill under a window: keys before the first query's window are never read */
    int64_t cmin = W ? lw_max(0, L - S - W + 1) / 128 : 0;
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
    /* sinks: skb[p, h] minus the sink of query head h on every partition (prefill), or the sink
     * of the group of kv head h's query head p (decode) */
    if (op->sinks && decode) {
        lw_tile(e, TRN_MEM_SBUF, "skb", TRN_DTYPE_F32, 2, (int64_t[]){G, HK});
    } else if (op->sinks) {
        lw_tile(e, TRN_MEM_SBUF, "skr", TRN_DTYPE_F32, 2, (int64_t[]){1, H});
        lw_tile(e, TRN_MEM_SBUF, "one", TRN_DTYPE_F32, 2, (int64_t[]){1, 128});
        lw_tile(e, TRN_MEM_SBUF, "skb", TRN_DTYPE_F32, 2, (int64_t[]){128, H});
    }
    lw_tile(e, TRN_MEM_PSUM, "sp", TRN_DTYPE_F32, 3, (int64_t[]){128, NU, KB});
    lw_tile(e, TRN_MEM_PSUM, "ptp", TRN_DTYPE_BF16, 4, (int64_t[]){128, NU, KB / 128, 128});
    lw_tile(e, TRN_MEM_PSUM, "ops", TRN_DTYPE_F32, 3, (int64_t[]){128, NU, D});
    lw_tile(e, TRN_MEM_PSUM, "ttp", TRN_DTYPE_BF16, 3, (int64_t[]){128, 2, 128});
    trn_status s = lw_check_fit(e, "attention", err);
    if (s != TRN_OK) return s;
    const char *ld = lw_dma_engine(e);
    att a = {e, D, LC, decode ? 0 : 1, G, op->scale > 0 ? op->scale : 1.0 / sqrt((double)D),
             /* stores: decode from ACT, prefill (ACT's queue full of the tiles' work) from SP
              * behind the next group's loads */
             ld, e->t->version >= 3 && decode ? " engine=scalar" : ld, 0, allkv, W, op->sinks};
    if (op->sinks && decode) {
        /* the group of kv head h: sinks h G .. h G + G - 1 onto partitions 0 .. G - 1 */
        for (int64_t h = 0; h < HK; h++)
            lw_printf(e, "dma_copy dst=skb[0:%lld, %lld:%lld] src=sinks[0:1, %lld:%lld]%s\n", LL G,
                      LL h, LL(h + 1), LL(h * G), LL((h + 1) * G), ld);
    } else if (op->sinks) {
        /* the row of sinks, negated, to every partition: K = 1 FP32 matmuls ones^T x sinks
         * (exact: 1 * s + 0) through the first score bank before any score uses it */
        lw_printf(e, "dma_copy dst=skr src=sinks%s\nmemset dst=one value=1.0\n", ld);
        for (int64_t c0 = 0; c0 < H; c0 += KB) {
            int64_t w = lw_min(KB, H - c0);
            lw_printf(e,
                      "nc_matmul dst=sp[0:128, 0, 0:%lld] stationary=one moving=skr[0:1, "
                      "%lld:%lld]\ntensor_scalar dst=skb[:, %lld:%lld] data=sp[0:128, 0, 0:%lld] "
                      "op0=multiply operand0=-1.0\n",
                      LL w, LL c0, LL(c0 + w), LL c0, LL(c0 + w), LL w);
        }
    }
    if (!decode) {
        prefill(&a, S, L, HK, cmin);
        return TRN_OK;
    }
    /* decode: per kv head its loads (the ring lets them run ahead of head h - 1), then the one
     * tile of its group */
    for (int64_t h = 0; h <= HK; h++) {
        if (h == 0 && allkv) {
            /* every key of every kv head: key C0 p + c at partition p, chunk c (decode does
             * not care about key order), the last L % 128 keys as one more chunk */
            int64_t C0 = L / 128, L0 = C0 * 128, r = L - L0;
            for (int q = 0; q < 2; q++) {
                lw_printf(e, "dma_copy dst=%s[:, 0:%lld, :, :] src=%s[%lld:%lld, :]%s\n",
                          q ? "vv" : "kk", LL C0, q ? "v" : "k", LL ko, LL(ko + L0), ld);
                if (r)
                    lw_printf(e, "dma_copy dst=%s[0:%lld, %lld, :, :] src=%s[%lld:%lld, :]%s\n",
                              q ? "vv" : "kk", LL r, LL C0, q ? "v" : "k", LL(ko + L0), LL(ko + L),
                              ld);
            }
        } else if (allkv) {
        } else if (h < HK && L >= 128) {
            /* decode sees every key, so their order does not matter: the first L0 = 128 C0
             * keys load in one DMA each for K and V with key C0 p + c at partition p, chunk c
             * (a contiguous run per partition), the rest (< 128) as one more chunk */
            int64_t C0 = L / 128, L0 = C0 * 128, r = L - L0;
            for (int q = 0; q < 2; q++) {
                lw_printf(e, "dma_copy dst=%s[:, %d, 0:%lld, :] src=%s[%lld:%lld, %lld:%lld]%s\n",
                          q ? "vv" : "kk", (int)(h % 2), LL C0, q ? "v" : "k", LL ko, LL(ko + L0),
                          LL(h * D), LL((h + 1) * D), ld);
                if (r)
                    lw_printf(
                        e, "dma_copy dst=%s[0:%lld, %d, %lld, :] src=%s[%lld:%lld, %lld:%lld]%s\n",
                        q ? "vv" : "kk", LL r, (int)(h % 2), LL C0, q ? "v" : "k", LL(ko + L0),
                        LL(ko + L), LL(h * D), LL((h + 1) * D), ld);
            }
        } else if (h < HK) {
            for (int64_t c = 0; c < LC; c++) kv_chunk(&a, c, h, L, ko);
        }
        if (h == 0) continue;
        int64_t hk = h - 1;
        for (int64_t c = 0; c < LC; c++) kt_chunk(&a, c, hk, L);
        qtile q;
        tile_init(&a, &q, 0, hk, S, L);
        tile_load(&a, &q, 0, 1);
        tile_start(&a, &q, 0);
        tile_blocks(&a, &q, 1, q.nb);
        tile_end(&a, &q, 0);
        tile_store(&a, &q, 0, 1);
    }
    return TRN_OK;
}

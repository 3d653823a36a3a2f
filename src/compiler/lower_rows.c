/* Row ops: RMSNORM, LAYERNORM, SOFTMAX (a whole row per partition: statistics need it),
 * ADD, MUL, SWIGLU (rows and column chunks) and ROPE (a row of all heads per partition).
 * Rows are tiled 128 to a tile; tiles go through a two-deep ring, so the load of tile i + 1
 * (issued from SP, hardware DGE on v3+) runs while tile i is computed, and ScalarE's queue
 * issues the store. Norm weights ([1, n]) are broadcast to the 128 partitions once per kernel
 * by K = 1 matmuls against a row of ones (exact). Statistics are FP32; the affine parts on
 * VectorE, the transcendental parts (square with a fused row sum, rsqrt, exp with a fused row
 * sum, silu) on ScalarE. Rows too long for a whole row per partition are streamed in column chunks,
 * two passes (rownorm_chunked). Left out: norm weights longer than SBUF holds resident (a clear
 * error), fusing a norm into the following matmul. */
#include <stdio.h>
#include <string.h>

#include "lower_impl.h"

#define LL (long long)

static const char *st_eng(lw *e) {
    return e->t->version >= 3 ? " engine=scalar" : "";
}

/* Columns of one chunk of the streamed (two-pass) row kernels. */
#define ROW_CHUNK 2048

/* RMSNORM, LAYERNORM, SOFTMAX over rows too long for a whole row per partition: the row is
 * streamed twice in ROW_CHUNK-column chunks. Pass 1 keeps per-chunk statistics in columns of
 * `st` (RMSNORM: sums of squares; LAYERNORM: sums and sums of squares about each chunk's own
 * mean, combined by Chan's formula M2 = sum M2_c + sum n_c (mean_c - mean)^2; SOFTMAX: chunk
 * maxima and sums of exp(x - max_c), combined as S = sum S_c exp(max_c - max)); pass 2
 * reloads each chunk and normalizes it. The weights g, b are broadcast to all partitions once
 * (loaded ROW_CHUNK columns at a time) and stay resident. Every (tile, pass, chunk) step loads its
 * chunk into a two-deep ring one step ahead of its compute. */
static trn_status rownorm_chunked(lw *e, trn_err *err) {
    const trn_lower_op *op = e->op;
    int64_t M = op->m, N = op->n, CW = lw_min(N, ROW_CHUNK), nc = lw_cdiv(N, CW);
    const char *kn = trn_lower_kind_name(op->kind);
    int norm = op->kind != TRN_LOWER_SOFTMAX, ln = op->kind == TRN_LOWER_LAYERNORM;
    int rms = op->kind == TRN_LOWER_RMSNORM;
    /* st columns: A [0, nc), B [nc, 2nc), C [2nc, 3nc), D [3nc, 4nc) per chunk, then T + 0..7 */
    int64_t A = 0, B = nc, C = 2 * nc, D = 3 * nc, T = 4 * nc;
    lw_tile(e, TRN_MEM_SBUF, "xt", op->dtype, 3, (int64_t[]){128, 2, CW});
    lw_tile(e, TRN_MEM_SBUF, "sq", TRN_DTYPE_F32, 2, (int64_t[]){128, CW});
    if (rms)
        lw_tile(e, TRN_MEM_SBUF, "xh", op->out_dtype, 3, (int64_t[]){128, 2, CW});
    else
        lw_tile(e, TRN_MEM_SBUF, "xn", TRN_DTYPE_F32, 3, (int64_t[]){128, 2, CW});
    lw_tile(e, TRN_MEM_SBUF, "yt", op->out_dtype, 3, (int64_t[]){128, 2, CW});
    lw_tile(e, TRN_MEM_SBUF, "st", TRN_DTYPE_F32, 2, (int64_t[]){128, T + 8});
    if (norm) {
        lw_tile(e, TRN_MEM_SBUF, "ones", TRN_DTYPE_BF16, 2, (int64_t[]){1, 128});
        lw_tile(e, TRN_MEM_SBUF, "grow", TRN_DTYPE_BF16, 3, (int64_t[]){1, 2, CW});
        lw_tile(e, TRN_MEM_SBUF, "gbc", TRN_DTYPE_BF16, 2, (int64_t[]){128, N});
        if (ln) lw_tile(e, TRN_MEM_SBUF, "bbc", TRN_DTYPE_BF16, 2, (int64_t[]){128, N});
        lw_tile(e, TRN_MEM_PSUM, "ps", TRN_DTYPE_F32, 3, (int64_t[]){128, 2, 512});
    }
    trn_status s = lw_check_fit(e, kn, err);
    if (s != TRN_OK) return s;
    const char *ld = lw_dma_engine(e);
    if (norm) {
        /* g (and b) in ROW_CHUNK-column pieces through a two-deep ring, each broadcast by
         * K = 1 matmuls of 512 columns into alternate PSUM banks */
        lw_printf(e, "memset dst=ones value=1.0\n");
        int q = 0, qp = 0;
        for (int v = 0; v < 1 + ln; v++)
            for (int64_t c0 = 0; c0 < N; c0 += CW, q ^= 1) {
                int64_t w = lw_min(CW, N - c0);
                lw_printf(e, "dma_copy dst=grow[0:1, %d, 0:%lld] src=%s[0:1, %lld:%lld]%s\n", q,
                          LL w, v ? "b" : "g", LL c0, LL(c0 + w), ld);
                for (int64_t k0 = 0; k0 < w; k0 += 512, qp ^= 1) {
                    int64_t u = lw_min(512, w - k0);
                    /* the PSUM-to-SBUF copies alternate between VectorE and ScalarE */
                    int v2 = e->t->version < 3;
                    lw_printf(e,
                              "nc_matmul dst=ps[:, %d, 0:%lld] stationary=ones moving=grow[0:1, "
                              "%d, %lld:%lld]\n"
                              "%s dst=%s[:, %lld:%lld] %s=ps[:, %d, 0:%lld]%s\n",
                              qp, LL u, q, LL k0, LL(k0 + u),
                              qp && v2 ? "activation" : "tensor_copy", v ? "bbc" : "gbc",
                              LL(c0 + k0), LL(c0 + k0 + u), qp && v2 ? "data" : "src", qp, LL u,
                              !qp  ? ""
                              : v2 ? " op=copy"
                                   : " engine=scalar");
                }
            }
    }
    int64_t nt = lw_cdiv(M, 128), steps = nt * 2 * nc;
    char pend[160] = "";
    for (int64_t i = 0; i <= steps; i++) {
        if (i < steps) {
            int64_t r0 = i / (2 * nc) * 128, c0 = i % nc * CW, r = lw_min(128, M - r0),
                    w = lw_min(CW, N - c0);
            lw_printf(e, "dma_copy dst=xt[0:%lld, %d, 0:%lld] src=x[%lld:%lld, %lld:%lld]%s\n",
                      LL r, (int)(i % 2), LL w, LL r0, LL(r0 + r), LL c0, LL(c0 + w), ld);
        }
        if (i == 0) continue;
        int64_t j = i - 1, r0 = j / (2 * nc) * 128, c = j % nc, c0 = c * CW,
                r = lw_min(128, M - r0), w = lw_min(CW, N - c0);
        int pass = (int)(j / nc % 2), b = (int)(j % 2);
        char x[96], y[96], sc[96], xn[96];
        snprintf(x, sizeof x, "xt[0:%lld, %d, 0:%lld]", LL r, b, LL w);
        snprintf(y, sizeof y, "yt[0:%lld, %d, 0:%lld]", LL r, b, LL w);
        snprintf(sc, sizeof sc, "sq[0:%lld, 0:%lld]", LL r, LL w);
        snprintf(xn, sizeof xn, "%s[0:%lld, %d, 0:%lld]", rms ? "xh" : "xn", LL r, b, LL w);
#define COL(k) LL r, LL(k), LL((k) + 1)
#define STC    "st[0:%lld, %lld:%lld]"
        if (pass == 0) {
            if (rms)
                lw_printf(e,
                          "activation dst=%s data=%s op=square reduce_op=add reduce_res=" STC "\n",
                          sc, x, COL(A + c));
            else if (ln)
                lw_printf(e,
                          "tensor_reduce dst=" STC " op=add data=%s axis=1\n"
                          "tensor_scalar dst=" STC " data=" STC
                          " op0=divide operand0=%lld op1=multiply operand1=-1.0\n"
                          "activation dst=%s data=%s op=square bias=" STC
                          " reduce_op=add reduce_res=" STC "\n",
                          COL(A + c), x, COL(B + c), COL(A + c), LL w, sc, x, COL(B + c),
                          COL(C + c));
            else
                lw_printf(e,
                          "tensor_reduce dst=" STC " op=max data=%s axis=1\n"
                          "tensor_scalar dst=" STC " data=" STC " op0=multiply operand0=-1.0\n"
                          "activation dst=%s data=%s op=exp bias=" STC
                          " reduce_op=add reduce_res=" STC "\n",
                          COL(A + c), x, COL(B + c), COL(A + c), sc, x, COL(B + c), COL(C + c));
            if (c == nc - 1) { /* combine the chunks' statistics */
                if (rms)
                    lw_printf(e,
                              "tensor_reduce dst=" STC " op=add data=st[0:%lld, %lld:%lld] "
                              "axis=1\n"
                              "tensor_scalar dst=" STC " data=" STC
                              " op0=divide operand0=%lld op1=add operand1=%.17g\n"
                              "activation dst=" STC " data=" STC " op=rsqrt\n",
                              COL(T), LL r, LL A, LL(A + nc), COL(T + 1), COL(T), LL N, op->eps,
                              COL(T + 2), COL(T + 1));
                else if (ln) {
                    /* T: sum, T+1: -mean, T+2: mean, D: n_c (mean_c - mean)^2 (full chunks
                     * at once, then the last), T+3: M2, T+4: var + eps, T+5: rstd, T+6: -mean rstd
                     */
                    int64_t nf = N % CW ? nc - 1 : nc;
                    lw_printf(e,
                              "tensor_reduce dst=" STC " op=add data=st[0:%lld, %lld:%lld] "
                              "axis=1\n"
                              "tensor_scalar dst=" STC " data=" STC
                              " op0=divide operand0=%lld op1=multiply operand1=-1.0\n"
                              "tensor_scalar dst=" STC " data=" STC " op0=divide operand0=%lld\n",
                              COL(T), LL r, LL A, LL(A + nc), COL(T + 1), COL(T), LL N, COL(T + 2),
                              COL(T), LL N);
                    for (int part = 0; part < 2; part++) {
                        int64_t k0 = part ? nf : 0, k1 = part ? nc : nf;
                        if (k1 <= k0) continue;
                        lw_printf(e,
                                  "activation dst=st[0:%lld, %lld:%lld] data=st[0:%lld, "
                                  "%lld:%lld] op=square bias=" STC "\n"
                                  "tensor_scalar dst=st[0:%lld, %lld:%lld] data=st[0:%lld, "
                                  "%lld:%lld] op0=multiply operand0=%lld\n",
                                  LL r, LL(D + k0), LL(D + k1), LL r, LL(B + k0), LL(B + k1),
                                  COL(T + 2), LL r, LL(D + k0), LL(D + k1), LL r, LL(D + k0),
                                  LL(D + k1), LL(part ? N - nf * CW : CW));
                    }
                    lw_printf(e,
                              "tensor_reduce dst=" STC " op=add data=st[0:%lld, %lld:%lld] "
                              "axis=1\n"
                              "tensor_scalar dst=" STC " data=" STC
                              " op0=divide operand0=%lld op1=add operand1=%.17g\n"
                              "activation dst=" STC " data=" STC " op=rsqrt\n"
                              "tensor_tensor dst=" STC " data1=" STC " data2=" STC " op=multiply\n",
                              COL(T + 3), LL r, LL C, LL(D + nc), COL(T + 4), COL(T + 3), LL N,
                              op->eps, COL(T + 5), COL(T + 4), COL(T + 6), COL(T + 1), COL(T + 5));
                } else
                    /* T: max, T+1: -max, D: exp(max_c - max) * S_c, T+2: S, T+3: 1 / S */
                    lw_printf(e,
                              "tensor_reduce dst=" STC " op=max data=st[0:%lld, %lld:%lld] "
                              "axis=1\n"
                              "tensor_scalar dst=" STC " data=" STC " op0=multiply operand0=-1.0\n"
                              "activation dst=st[0:%lld, %lld:%lld] data=st[0:%lld, %lld:%lld] "
                              "op=exp bias=" STC "\n"
                              "tensor_tensor dst=st[0:%lld, %lld:%lld] data1=st[0:%lld, "
                              "%lld:%lld] data2=st[0:%lld, %lld:%lld] op=multiply\n"
                              "tensor_reduce dst=" STC " op=add data=st[0:%lld, %lld:%lld] "
                              "axis=1\n"
                              "reciprocal dst=" STC " data=" STC "\n",
                              COL(T), LL r, LL A, LL(A + nc), COL(T + 1), COL(T), LL r, LL D,
                              LL(D + nc), LL r, LL A, LL(A + nc), COL(T + 1), LL r, LL D,
                              LL(D + nc), LL r, LL D, LL(D + nc), LL r, LL C, LL(C + nc),
                              COL(T + 2), LL r, LL D, LL(D + nc), COL(T + 3), COL(T + 2));
            }
            continue;
        }
        if (rms)
            lw_printf(e,
                      "activation dst=%s data=%s op=copy scale=" STC "\n"
                      "tensor_tensor dst=%s data1=%s data2=gbc[0:%lld, %lld:%lld] op=multiply\n",
                      xn, x, COL(T + 2), y, xn, LL r, LL c0, LL(c0 + w));
        else if (ln)
            /* x rstd - mean rstd on ScalarE, * g on GpSimd, + b on VectorE: the three
             * engines share the pass (VectorE also has pass 1's row sums) */
            lw_printf(e,
                      "activation dst=%s data=%s op=copy scale=" STC " bias=" STC "\n"
                      "tensor_tensor dst=%s data1=%s data2=gbc[0:%lld, %lld:%lld] op=multiply "
                      "engine=gpsimd\n"
                      "tensor_tensor dst=%s data1=%s data2=bbc[0:%lld, %lld:%lld] op=add\n",
                      xn, x, COL(T + 5), COL(T + 6), xn, xn, LL r, LL c0, LL(c0 + w), y, xn, LL r,
                      LL c0, LL(c0 + w));
        else
            lw_printf(e,
                      "activation dst=%s data=%s op=exp bias=" STC "\n"
                      "tensor_scalar dst=%s data=%s op0=multiply operand0=" STC "\n",
                      xn, x, COL(T + 1), y, xn, COL(T + 3));
#undef COL
#undef STC
        /* the store is issued one step late: on v3+ ScalarE's queue issues it, and it would
         * otherwise hold ScalarE's next instruction behind this chunk's last VectorE op */
        if (pend[0]) lw_printf(e, "%s", pend);
        snprintf(pend, sizeof pend, "dma_copy dst=y[%lld:%lld, %lld:%lld] src=%s%s\n", LL r0,
                 LL(r0 + r), LL c0, LL(c0 + w), y, st_eng(e));
    }
    lw_printf(e, "%s", pend);
    return TRN_OK;
}

trn_status lw_rownorm(lw *e, trn_err *err) {
    const trn_lower_op *op = e->op;
    int64_t M = op->m, N = op->n;
    const char *xd = trn_dtype_name(op->dtype), *yd = trn_dtype_name(op->out_dtype);
    const char *kn = trn_lower_kind_name(op->kind);
    int norm = op->kind != TRN_LOWER_SOFTMAX, ln = op->kind == TRN_LOWER_LAYERNORM;
    lw_printf(e, ".kernel %s\n.input x %s [%lld, %lld]\n", kn, xd, LL M, LL N);
    if (norm) lw_printf(e, ".input g bf16 [1, %lld]\n", LL N);
    if (ln) lw_printf(e, ".input b bf16 [1, %lld]\n", LL N);
    lw_printf(e, ".output y %s [%lld, %lld]\n", yd, LL M, LL N);
    lw_mark(e);
    lw_tile(e, TRN_MEM_SBUF, "xt", op->dtype, 3, (int64_t[]){128, 2, N});
    lw_tile(e, TRN_MEM_SBUF, "sq", TRN_DTYPE_F32, 2, (int64_t[]){128, N});
    if (op->kind == TRN_LOWER_RMSNORM)
        lw_tile(e, TRN_MEM_SBUF, "xh", op->out_dtype, 2, (int64_t[]){128, N});
    else
        lw_tile(e, TRN_MEM_SBUF, "xn", TRN_DTYPE_F32, 2, (int64_t[]){128, N});
    lw_tile(e, TRN_MEM_SBUF, "yt", op->out_dtype, 3, (int64_t[]){128, 2, N});
    lw_tile(e, TRN_MEM_SBUF, "st", TRN_DTYPE_F32, 2, (int64_t[]){128, 8});
    if (norm) {
        lw_tile(e, TRN_MEM_SBUF, "ones", TRN_DTYPE_BF16, 2, (int64_t[]){1, 128});
        lw_tile(e, TRN_MEM_SBUF, "grow", TRN_DTYPE_BF16, 2, (int64_t[]){1, N});
        lw_tile(e, TRN_MEM_SBUF, "gbc", TRN_DTYPE_BF16, 2, (int64_t[]){128, N});
        if (ln) {
            lw_tile(e, TRN_MEM_SBUF, "brow", TRN_DTYPE_BF16, 2, (int64_t[]){1, N});
            lw_tile(e, TRN_MEM_SBUF, "bbc", TRN_DTYPE_BF16, 2, (int64_t[]){128, N});
        }
        lw_tile(e, TRN_MEM_PSUM, "ps", TRN_DTYPE_F32, 2, (int64_t[]){128, 512});
    }
    if (e->sbuf_bytes > lw_sbuf_cap(e)) {
        /* a whole row per partition does not fit side by side: stream the row in column
         * chunks. (Placed by live range the whole-row kernel needs less, 89% for RMSNORM, and
         * for a few rows far less, and would read x once instead of twice; but measured in
         * the simulator it is slower for the few-row norms of GPT-3 175B and Llama-3.1-405B,
         * 1.4x-1.9x on trn1-trn3, and for every LAYERNORM tried: the streamed kernel
         * overlaps its chunks' loads and its engines, the packed whole-row kernel
         * serializes a tile's steps. See docs/lowering.md, Allocation.) */
        lw_rewind(e);
        return rownorm_chunked(e, err);
    }
    trn_status s = lw_check_fit(e, kn, err);
    if (s != TRN_OK) return s;
    const char *ld = lw_dma_engine(e);
    if (norm) {
        lw_printf(e, "memset dst=ones value=1.0\ndma_copy dst=grow src=g%s\n", ld);
        lw_bcast_row(e, "gbc", "grow", "ps", "ones", N);
        if (ln) {
            lw_printf(e, "dma_copy dst=brow src=b%s\n", ld);
            lw_bcast_row(e, "bbc", "brow", "ps", "ones", N);
        }
    }
    /* st columns: 0 sum, 1 -mean (or -max), 2 sum of squares (or exp sum), 3 var, 4 rstd */
    int64_t nt = lw_cdiv(M, 128);
    char pend[192] = "";
    for (int64_t i = 0; i <= nt; i++) {
        if (i < nt) {
            int64_t r = lw_min(128, M - i * 128);
            lw_printf(e, "dma_copy dst=xt[0:%lld, %d, :] src=x[%lld:%lld, :]%s\n", LL r,
                      (int)(i % 2), LL(i * 128), LL(i * 128 + r), ld);
        }
        if (i == 0) continue;
        int64_t j = i - 1, r = lw_min(128, M - j * 128);
        int b = (int)(j % 2);
        char x[64], y[64];
        snprintf(x, sizeof x, "xt[0:%lld, %d, :]", LL r, b);
        snprintf(y, sizeof y, "yt[0:%lld, %d, :]", LL r, b);
#define ST(c) "st[0:%lld, " #c ":" #c "+1]"
        if (op->kind == TRN_LOWER_RMSNORM) {
            char c2[48], c3[48], c4[48];
            snprintf(c2, sizeof c2, "st[0:%lld, 2:3]", LL r);
            snprintf(c3, sizeof c3, "st[0:%lld, 3:4]", LL r);
            snprintf(c4, sizeof c4, "st[0:%lld, 4:5]", LL r);
            lw_printf(
                e, "activation dst=sq[0:%lld, :] data=%s op=square reduce_op=add reduce_res=%s\n",
                LL r, x, c2);
            lw_printf(
                e, "tensor_scalar dst=%s data=%s op0=divide operand0=%lld op1=add operand1=%.17g\n",
                c3, c2, LL N, op->eps);
            lw_printf(e, "activation dst=%s data=%s op=rsqrt\n", c4, c3);
            /* x * rstd on ScalarE, in the output dtype (HF casts the normalized row to the
             * activation dtype before the weight), then * g on VectorE */
            lw_printf(e, "activation dst=xh[0:%lld, :] data=%s op=copy scale=%s\n", LL r, x, c4);
            lw_printf(e,
                      "tensor_tensor dst=%s data1=xh[0:%lld, :] data2=gbc[0:%lld, :] op=multiply\n",
                      y, LL r, LL r);
        } else if (ln) {
            lw_printf(e,
                      "tensor_reduce dst=" ST(
                          0) " op=add data=%s axis=1\n"
                             "tensor_scalar dst=" ST(1) " data=" ST(
                                 0) " op0=divide operand0=%lld op1=multiply "
                                    "operand1=-1.0\n"
                                    "activation dst=sq[0:%lld, :] data=%s op=square "
                                    "bias=" ST(1) " reduce_op=add reduce_res=" ST(
                                        2) "\n"
                                           "tensor_scalar dst=" ST(3) " data=" ST(
                                               2) " op0=divide operand0=%lld op1=add "
                                                  "operand1=%.17g\n"
                                                  "activation dst=" ST(4) " data=" ST(
                                                      3) " op=rsqrt\n"
                                                         "tensor_scalar dst=xn[0:%lld, :] "
                                                         "data=%s op0=add operand0=" ST(
                                                             1) " op1=multiply "
                                                                "operand1=" ST(4) "\n"
                                                                                  "tensor_"
                                                                                  "tensor "
                                                                                  "dst=xn["
                                                                                  "0:%lld,"
                                                                                  " :] "
                                                                                  "data1="
                                                                                  "xn[0:%"
                                                                                  "lld, "
                                                                                  ":] "
                                                                                  "data2="
                                                                                  "gbc[0:%"
                                                                                  "lld, "
                                                                                  ":] "
                                                                                  "op="
                                                                                  "multipl"
                                                                                  "y\n"
                                                                                  "tensor_"
                                                                                  "tensor "
                                                                                  "dst=%s "
                                                                                  "data1="
                                                                                  "xn[0:%"
                                                                                  "lld, "
                                                                                  ":] "
                                                                                  "data2="
                                                                                  "bbc[0:%"
                                                                                  "lld, "
                                                                                  ":] "
                                                                                  "op="
                                                                                  "add\n",
                      LL r, x, LL r, LL r, LL N, LL r, x, LL r, LL r, LL r, LL r, LL N, op->eps,
                      LL r, LL r, LL r, x, LL r, LL r, LL r, LL r, LL r, y, LL r, LL r);
        } else {
            lw_printf(
                e,
                "tensor_reduce dst=" ST(0) " op=max data=%s axis=1\n"
                                           "tensor_scalar dst=" ST(1) " data=" ST(
                                               0) " op0=multiply operand0=-1.0\n"
                                                  "activation dst=xn[0:%lld, :] data=%s op=exp "
                                                  "bias=" ST(1) " reduce_op=add reduce_res=" ST(
                                                      2) "\n"
                                                         "reciprocal dst=" ST(4) " data=" ST(
                                                             2) "\n"
                                                                "tensor_scalar dst=%s "
                                                                "data=xn[0:%lld, :] op0=multiply "
                                                                "operand0=" ST(4) "\n",
                LL r, x, LL r, LL r, LL r, x, LL r, LL r, LL r, LL r, y, LL r, LL r);
        }
#undef ST
        /* the store one tile late, as in rownorm_chunked */
        if (pend[0]) lw_printf(e, "%s", pend);
        snprintf(pend, sizeof pend, "dma_copy dst=y[%lld:%lld, :] src=%s%s\n", LL(j * 128),
                 LL(j * 128 + r), y, st_eng(e));
    }
    lw_printf(e, "%s", pend);
    return TRN_OK;
}

trn_status lw_eltwise(lw *e, trn_err *err) {
    const trn_lower_op *op = e->op;
    int64_t M = op->m, N = op->n, CW = lw_min(N, 2048);
    const char *xd = trn_dtype_name(op->dtype), *kn = trn_lower_kind_name(op->kind);
    int sw = op->kind == TRN_LOWER_SWIGLU;
    const char *a = sw ? "g" : "a", *b = sw ? "u" : "b";
    lw_printf(e,
              ".kernel %s\n.input %s %s [%lld, %lld]\n.input %s %s [%lld, %lld]\n"
              ".output y %s [%lld, %lld]\n",
              kn, a, xd, LL M, LL N, b, xd, LL M, LL N, trn_dtype_name(op->out_dtype), LL M, LL N);
    lw_tile(e, TRN_MEM_SBUF, "at", op->dtype, 3, (int64_t[]){128, 2, CW});
    lw_tile(e, TRN_MEM_SBUF, "bt", op->dtype, 3, (int64_t[]){128, 2, CW});
    /* silu(g) in the activation dtype, as HF's act_fn(gate) * up computes it: with bf16 the
     * VectorE multiply runs in its all-bf16 mode */
    if (sw) lw_tile(e, TRN_MEM_SBUF, "sg", op->dtype, 2, (int64_t[]){128, CW});
    lw_tile(e, TRN_MEM_SBUF, "yt", op->out_dtype, 3, (int64_t[]){128, 2, CW});
    trn_status s = lw_check_fit(e, kn, err);
    if (s != TRN_OK) return s;
    const char *ld = lw_dma_engine(e);
    int64_t nr = lw_cdiv(M, 128), nc = lw_cdiv(N, CW), nt = nr * nc;
    for (int64_t i = 0; i <= nt; i++) {
        if (i < nt) {
            int64_t r0 = i / nc * 128, c0 = i % nc * CW, r = lw_min(128, M - r0),
                    w = lw_min(CW, N - c0);
            for (int q = 0; q < 2; q++)
                lw_printf(e, "dma_copy dst=%s[0:%lld, %d, 0:%lld] src=%s[%lld:%lld, %lld:%lld]%s\n",
                          q ? "bt" : "at", LL r, (int)(i % 2), LL w, q ? b : a, LL r0, LL(r0 + r),
                          LL c0, LL(c0 + w), ld);
        }
        if (i == 0) continue;
        int64_t j = i - 1, r0 = j / nc * 128, c0 = j % nc * CW, r = lw_min(128, M - r0),
                w = lw_min(CW, N - c0);
        int k = (int)(j % 2);
        if (sw)
            lw_printf(e,
                      "activation dst=sg[0:%lld, 0:%lld] data=at[0:%lld, %d, 0:%lld] op=silu\n"
                      "tensor_tensor dst=yt[0:%lld, %d, 0:%lld] data1=sg[0:%lld, 0:%lld] "
                      "data2=bt[0:%lld, %d, 0:%lld] op=multiply\n",
                      LL r, LL w, LL r, k, LL w, LL r, k, LL w, LL r, LL w, LL r, k, LL w);
        else
            lw_printf(e,
                      "tensor_tensor dst=yt[0:%lld, %d, 0:%lld] data1=at[0:%lld, %d, 0:%lld] "
                      "data2=bt[0:%lld, %d, 0:%lld] op=%s\n",
                      LL r, k, LL w, LL r, k, LL w, LL r, k, LL w,
                      op->kind == TRN_LOWER_ADD ? "add" : "multiply");
        lw_printf(e, "dma_copy dst=y[%lld:%lld, %lld:%lld] src=yt[0:%lld, %d, 0:%lld]%s\n", LL r0,
                  LL(r0 + r), LL c0, LL(c0 + w), LL r, k, LL w, st_eng(e));
    }
    return TRN_OK;
}

/* SBUF bytes per partition of the RoPE kernel's tiles for a group of hg heads. */
static uint64_t rope_bytes(const trn_lower_op *op, int64_t hg) {
    int64_t D2 = op->head_dim / 2;
    return lw_tile_bytes(op->dtype, 2 * hg * 2 * D2) + lw_tile_bytes(op->dtype, 2 * 2 * D2) +
           lw_tile_bytes(op->dtype, 2 * 2 * hg * D2) + 2 * lw_tile_bytes(op->dtype, hg * D2) +
           lw_tile_bytes(op->out_dtype, 2 * hg * 2 * D2);
}

trn_status lw_rope(lw *e, trn_err *err) {
    const trn_lower_op *op = e->op;
    int64_t M = op->m, H = op->heads, D = op->head_dim, D2 = D / 2;
    /* heads per step: all of them when they fit, else halved until they do (many heads of a
     * wide model: a row tile is done in head groups) */
    int64_t HG = H;
    while (HG > 1 && rope_bytes(op, HG) > e->t->sbuf_bytes_per_partition) HG = lw_cdiv(HG, 2);
    int64_t ng = lw_cdiv(H, HG);
    const char *xd = trn_dtype_name(op->dtype);
    lw_printf(e,
              ".kernel rope\n.input x %s [%lld, %lld]\n.input cos %s [%lld, %lld]\n"
              ".input sin %s [%lld, %lld]\n.output y %s [%lld, %lld]\n",
              xd, LL M, LL(H * D), xd, LL M, LL D2, xd, LL M, LL D2, trn_dtype_name(op->out_dtype),
              LL M, LL(H * D));
    lw_tile(e, TRN_MEM_SBUF, "xt", op->dtype, 5, (int64_t[]){128, 2, HG, 2, D2});
    lw_tile(e, TRN_MEM_SBUF, "cs", op->dtype, 4, (int64_t[]){128, 2, 2, D2});
    lw_tile(e, TRN_MEM_SBUF, "cb", op->dtype, 5, (int64_t[]){128, 2, 2, HG, D2});
    /* the products in the activation dtype, as HF's q * cos + rotate_half(q) * sin rounds
     * them (with bf16, VectorE runs its bf16 mode) */
    lw_tile(e, TRN_MEM_SBUF, "t1", op->dtype, 3, (int64_t[]){128, HG, D2});
    lw_tile(e, TRN_MEM_SBUF, "t2", op->dtype, 3, (int64_t[]){128, HG, D2});
    lw_tile(e, TRN_MEM_SBUF, "yt", op->out_dtype, 5, (int64_t[]){128, 2, HG, 2, D2});
    trn_status s = lw_check_fit(e, "rope", err);
    if (s != TRN_OK) return s;
    const char *ld = lw_dma_engine(e);
    int64_t nt = lw_cdiv(M, 128), steps = nt * ng;
    for (int64_t i = 0; i <= steps; i++) {
        if (i < steps) {
            int64_t t = i / ng, g = i % ng, r0 = t * 128, r = lw_min(128, M - r0), h0 = g * HG,
                    nh = lw_min(HG, H - h0);
            int k = (int)(i % 2), kt = (int)(t % 2);
            lw_printf(e,
                      "dma_copy dst=xt[0:%lld, %d, 0:%lld, :, :] src=x[%lld:%lld, %lld:%lld]%s\n",
                      LL r, k, LL nh, LL r0, LL(r0 + r), LL(h0 * D), LL((h0 + nh) * D), ld);
            if (g == 0) {
                lw_printf(e,
                          "dma_copy dst=cs[0:%lld, 0, %d, :] src=cos[%lld:%lld, :]%s\n"
                          "dma_copy dst=cs[0:%lld, 1, %d, :] src=sin[%lld:%lld, :]%s\n",
                          LL r, kt, LL r0, LL(r0 + r), ld, LL r, kt, LL r0, LL(r0 + r), ld);
                /* cos and sin repeated for every head of a group by doubling (head 0 from the
                 * table, then heads [w, 2w) from [0, w): log2(heads) + 1 copies), on ScalarE,
                 * which is otherwise idle here (v2 has no ScalarE copy: activation) */
                const char *cp = e->t->version >= 3 ? "tensor_copy" : "activation";
                const char *src = e->t->version >= 3 ? "src" : "data";
                const char *tail = e->t->version >= 3 ? " engine=scalar" : " op=copy";
                for (int q = 0; q < 2; q++) {
                    lw_printf(e, "%s dst=cb[0:%lld, %d, %d, 0, :] %s=cs[0:%lld, %d, %d, :]%s\n", cp,
                              LL r, kt, q, src, LL r, q, kt, tail);
                    for (int64_t w = 1; w < HG; w *= 2) {
                        int64_t nw = lw_min(w, HG - w);
                        lw_printf(e,
                                  "%s dst=cb[0:%lld, %d, %d, %lld:%lld, :] %s=cb[0:%lld, %d, %d, "
                                  "0:%lld, :]%s\n",
                                  cp, LL r, kt, q, LL w, LL(w + nw), src, LL r, kt, q, LL nw, tail);
                    }
                }
            }
        }
        if (i == 0) continue;
        int64_t j = i - 1, t = j / ng, g = j % ng, r0 = t * 128, r = lw_min(128, M - r0),
                h0 = g * HG, nh = lw_min(HG, H - h0);
        int k = (int)(j % 2), kt = (int)(t % 2);
        /* y1 = x1 cos - x2 sin, y2 = x2 cos + x1 sin; one product on GpSimd, balancing it
         * against VectorE */
        static const char *const ops[2] = {"subtract", "add"};
        for (int half = 0; half < 2; half++) {
            lw_printf(e,
                      "tensor_tensor dst=t1[0:%lld, 0:%lld, :] data1=xt[0:%lld, %d, 0:%lld, %d, :] "
                      "data2=cb[0:%lld, %d, 0, 0:%lld, :] op=multiply\n"
                      "tensor_tensor dst=t2[0:%lld, 0:%lld, :] data1=xt[0:%lld, %d, 0:%lld, %d, :] "
                      "data2=cb[0:%lld, %d, 1, 0:%lld, :] op=multiply%s\n"
                      "tensor_tensor dst=yt[0:%lld, %d, 0:%lld, %d, :] data1=t1[0:%lld, 0:%lld, :] "
                      "data2=t2[0:%lld, 0:%lld, :] op=%s\n",
                      LL r, LL nh, LL r, k, LL nh, half, LL r, kt, LL nh, LL r, LL nh, LL r, k,
                      LL nh, 1 - half, LL r, kt, LL nh, half ? "" : " engine=gpsimd", LL r, k,
                      LL nh, half, LL r, LL nh, LL r, LL nh, ops[half]);
        }
        lw_printf(e, "dma_copy dst=y[%lld:%lld, %lld:%lld] src=yt[0:%lld, %d, 0:%lld, :, :]%s\n",
                  LL r0, LL(r0 + r), LL(h0 * D), LL((h0 + nh) * D), LL r, k, LL nh, st_eng(e));
    }
    return TRN_OK;
}

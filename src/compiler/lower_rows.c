/* Row ops: RMSNORM, LAYERNORM, SOFTMAX (a whole row per partition: statistics need it),
 * ADD, MUL, SWIGLU (rows and column chunks) and ROPE (a row of all heads per partition).
 * Rows are tiled 128 to a tile; tiles go through a two-deep ring, so the load of tile i + 1
 * (issued from SP, hardware DGE on v3+) runs while tile i is computed, and ScalarE's queue
 * issues the store. Norm weights ([1, n]) are broadcast to the 128 partitions once per kernel
 * by K = 1 matmuls against a row of ones (exact). Statistics are FP32; the affine parts on
 * VectorE, the transcendental parts (square with a fused row sum, rsqrt, exp with a fused row
 * sum, silu) on ScalarE. Left out: rows longer than SBUF holds (a clear error), fusing a norm
 * into the following matmul. */
#include <stdio.h>
#include <string.h>

#include "lower_impl.h"

#define LL (long long)

static const char *st_eng(lw *e) {
    return e->t->version >= 3 ? " engine=scalar" : "";
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
        lw_printf(e, "dma_copy dst=y[%lld:%lld, :] src=%s%s\n", LL(j * 128), LL(j * 128 + r), y,
                  st_eng(e));
    }
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

trn_status lw_rope(lw *e, trn_err *err) {
    const trn_lower_op *op = e->op;
    int64_t M = op->m, H = op->heads, D = op->head_dim, D2 = D / 2;
    const char *xd = trn_dtype_name(op->dtype);
    lw_printf(e,
              ".kernel rope\n.input x %s [%lld, %lld]\n.input cos %s [%lld, %lld]\n"
              ".input sin %s [%lld, %lld]\n.output y %s [%lld, %lld]\n",
              xd, LL M, LL(H * D), xd, LL M, LL D2, xd, LL M, LL D2, trn_dtype_name(op->out_dtype),
              LL M, LL(H * D));
    lw_tile(e, TRN_MEM_SBUF, "xt", op->dtype, 5, (int64_t[]){128, 2, H, 2, D2});
    lw_tile(e, TRN_MEM_SBUF, "cs", op->dtype, 4, (int64_t[]){128, 2, 2, D2});
    lw_tile(e, TRN_MEM_SBUF, "cb", op->dtype, 5, (int64_t[]){128, 2, 2, H, D2});
    /* the products in the activation dtype, as HF's q * cos + rotate_half(q) * sin rounds
     * them (with bf16, VectorE runs its bf16 mode) */
    lw_tile(e, TRN_MEM_SBUF, "t1", op->dtype, 3, (int64_t[]){128, H, D2});
    lw_tile(e, TRN_MEM_SBUF, "t2", op->dtype, 3, (int64_t[]){128, H, D2});
    lw_tile(e, TRN_MEM_SBUF, "yt", op->out_dtype, 5, (int64_t[]){128, 2, H, 2, D2});
    trn_status s = lw_check_fit(e, "rope", err);
    if (s != TRN_OK) return s;
    const char *ld = lw_dma_engine(e);
    int64_t nt = lw_cdiv(M, 128);
    for (int64_t i = 0; i <= nt; i++) {
        if (i < nt) {
            int64_t r0 = i * 128, r = lw_min(128, M - r0);
            int k = (int)(i % 2);
            lw_printf(e,
                      "dma_copy dst=xt[0:%lld, %d, :, :, :] src=x[%lld:%lld, :]%s\n"
                      "dma_copy dst=cs[0:%lld, 0, %d, :] src=cos[%lld:%lld, :]%s\n"
                      "dma_copy dst=cs[0:%lld, 1, %d, :] src=sin[%lld:%lld, :]%s\n",
                      LL r, k, LL r0, LL(r0 + r), ld, LL r, k, LL r0, LL(r0 + r), ld, LL r, k,
                      LL r0, LL(r0 + r), ld);
            /* cos and sin repeated for every head by doubling (head 0 from the table, then heads
             * [w, 2w) from [0, w): log2(heads) + 1 copies), on ScalarE, which is otherwise idle
             * here (v2 has no ScalarE copy: activation) */
            const char *cp = e->t->version >= 3 ? "tensor_copy" : "activation";
            const char *src = e->t->version >= 3 ? "src" : "data";
            const char *tail = e->t->version >= 3 ? " engine=scalar" : " op=copy";
            for (int q = 0; q < 2; q++) {
                lw_printf(e, "%s dst=cb[0:%lld, %d, %d, 0, :] %s=cs[0:%lld, %d, %d, :]%s\n", cp,
                          LL r, k, q, src, LL r, q, k, tail);
                for (int64_t w = 1; w < H; w *= 2) {
                    int64_t nh = lw_min(w, H - w);
                    lw_printf(e,
                              "%s dst=cb[0:%lld, %d, %d, %lld:%lld, :] %s=cb[0:%lld, %d, %d, "
                              "0:%lld, :]%s\n",
                              cp, LL r, k, q, LL w, LL(w + nh), src, LL r, k, q, LL nh, tail);
                }
            }
        }
        if (i == 0) continue;
        int64_t j = i - 1, r0 = j * 128, r = lw_min(128, M - r0);
        int k = (int)(j % 2);
        /* y1 = x1 cos - x2 sin, y2 = x2 cos + x1 sin; one product on GpSimd, balancing it
         * against VectorE */
        static const char *const ops[2] = {"subtract", "add"};
        for (int half = 0; half < 2; half++) {
            lw_printf(e,
                      "tensor_tensor dst=t1[0:%lld, :, :] data1=xt[0:%lld, %d, :, %d, :] "
                      "data2=cb[0:%lld, %d, 0, :, :] op=multiply\n"
                      "tensor_tensor dst=t2[0:%lld, :, :] data1=xt[0:%lld, %d, :, %d, :] "
                      "data2=cb[0:%lld, %d, 1, :, :] op=multiply%s\n"
                      "tensor_tensor dst=yt[0:%lld, %d, :, %d, :] data1=t1[0:%lld, :, :] "
                      "data2=t2[0:%lld, :, :] op=%s\n",
                      LL r, LL r, k, half, LL r, k, LL r, LL r, k, 1 - half, LL r, k,
                      half ? "" : " engine=gpsimd", LL r, k, half, LL r, LL r, ops[half]);
        }
        lw_printf(e, "dma_copy dst=y[%lld:%lld, :] src=yt[0:%lld, %d, :, :, :]%s\n", LL r0,
                  LL(r0 + r), LL r, k, st_eng(e));
    }
    return TRN_OK;
}

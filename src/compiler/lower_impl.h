/* Private to the lowering (src/compiler/lower_*.c): the .tasm emitter and the per-op emit
 * functions. The emitter appends printf-formatted lines to a growing buffer and keeps the
 * SBUF/PSUM bytes per partition that the declared on-chip tiles take (the assembler's
 * placement: each tile aligned to TRN_ALIGN_BYTES, a PSUM tile never straddling a bank), so an
 * op can size its tiles before it emits them. */
#ifndef TRN_LOWER_IMPL_H
#define TRN_LOWER_IMPL_H

#include <stdarg.h>
#include <stddef.h>

#include "trnsim/lower.h"

typedef struct lw {
    char *buf;
    size_t len, cap;
    size_t mark; /* a position in buf an op may rewind to (len = mark) */
    int oom;
    const trn_isa_target *t;
    const trn_lower_op *op;
    uint64_t sbuf_bytes, psum_bytes; /* per partition, as the assembler will place them */
    int tp_ring;                     /* next slot of a two-deep PSUM transpose ring */
} lw;

void lw_init(lw *e, const trn_lower_op *op, const trn_isa_target *t);
void lw_fini(lw *e);
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void lw_printf(lw *e, const char *fmt, ...);

/* Declares an on-chip tile `.sbuf|.psum name dtype [d0, d1, ...]` (rank dims, d0 the
 * partitions) and adds its bytes per partition to the running totals. */
void lw_tile(lw *e, trn_mem mem, const char *name, trn_dtype dt, int rank, const int64_t *dims);
/* Bytes per partition of a tile of `free_elems` elements of dtype dt, aligned. */
uint64_t lw_tile_bytes(trn_dtype dt, int64_t free_elems);
/* Where a DMA is issued from: " engine=sync" on cores with hardware DGE (no per-queue fixed
 * cost), "" (the DMA queues' static descriptors) otherwise. */
const char *lw_dma_engine(lw *e);
/* Fails with TRN_E_UNSUPPORTED when the declared tiles exceed the target. */
trn_status lw_check_fit(lw *e, const char *what, trn_err *err);

/* Broadcasts row vector `src` ([1, n] in SBUF, bf16) to every partition of `dst` ([128, n] in
 * SBUF) through PSUM tile `ps` ([128, 512] f32, one bank) with K = 1 matmuls against the
 * SBUF tile `ones` ([1, 128] bf16 of 1.0): exact (1 * g + 0). */
void lw_bcast_row(lw *e, const char *dst, const char *src, const char *ps, const char *ones,
                  int64_t n);

trn_status lw_linear(lw *e, trn_err *err);
trn_status lw_rownorm(lw *e, trn_err *err); /* RMSNORM, LAYERNORM, SOFTMAX */
trn_status lw_eltwise(lw *e, trn_err *err); /* ADD, MUL, SWIGLU */
trn_status lw_rope(lw *e, trn_err *err);
trn_status lw_attention(lw *e, trn_err *err);
trn_status lw_embed(lw *e, trn_err *err);   /* lower_gather.c */
trn_status lw_router(lw *e, trn_err *err);  /* lower_moe.c */
trn_status lw_glu_oai(lw *e, trn_err *err); /* lower_moe.c */
trn_status lw_act(lw *e, trn_err *err);     /* lower_moe.c */

/* 1 for the precisions whose LINEAR runs nc_matmul_mx (MXFP8, MXFP4, MXFP8Q). */
static inline int lw_prec_mx(trn_precision p) {
    return p == TRN_PREC_MXFP8 || p == TRN_PREC_MXFP4 || p == TRN_PREC_MXFP8Q;
}

/* Integer helpers of the tiling arithmetic. */
static inline int64_t lw_min(int64_t a, int64_t b) {
    return a < b ? a : b;
}
static inline int64_t lw_cdiv(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

#endif

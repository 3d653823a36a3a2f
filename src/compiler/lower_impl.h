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

/* A declared on-chip tile, recorded by lw_tile and placed when the kernel is complete
 * (lw_finish): its live range is the span of instructions that name it. */
typedef struct lw_tile_rec {
    char name[TRN_NAME_MAX];
    char dtype[24]; /* as the declaration writes it ("bf16", "fp8_e4m3_x4") */
    trn_mem mem;
    int rank;
    int64_t dims[TRN_MAX_RANK];
    uint64_t bytes;      /* per partition, aligned to TRN_ALIGN_BYTES */
    size_t pos;          /* e->len when it was declared */
    int64_t first, last; /* instructions (0-based, program order) of its first and last use;
                            -1 when no instruction names it */
    uint64_t off;        /* the offset it is given (bytes inside each partition) */
} lw_tile_rec;

typedef struct lw {
    char *buf;
    size_t len, cap;
    size_t mark; /* a position in buf an op may rewind to (lw_mark, lw_rewind) */
    int oom;
    const trn_isa_target *t;
    const trn_lower_op *op;
    uint64_t sbuf_bytes, psum_bytes; /* per partition: the declared tiles' sum (every tile
                                        after the last, as a layout without reuse places them) */
    int tp_ring;                     /* next slot of a two-deep PSUM transpose ring */
    /* the allocator (lw_tile records, lw_finish places) */
    lw_tile_rec *tiles;
    int ntiles, captiles;
    size_t decl_at;                /* where the declarations go: the first lw_tile's e->len */
    uint64_t base_sbuf, base_psum; /* bytes of tiles declared by hand before the first lw_tile */
    int mark_ntiles;               /* lw_mark's saved state */
    uint64_t mark_sbuf, mark_psum;
    const char *fit_what;          /* lw_check_fit's name of the kernel ("linear") */
    uint64_t sbuf_peak, psum_peak; /* after lw_finish: the bytes per partition placed */
    int packed;                    /* after lw_finish: 1 when tiles share space (reuse) */
} lw;

/* One live interval of the allocator: `bytes` (aligned) live over instructions [first, last]
 * (first = -1: never used, conflicts with nothing). lw_pack fills off. */
typedef struct lw_ival {
    uint64_t bytes;
    int64_t first, last;
    uint64_t off;
} lw_ival;

/* Interval packing: the intervals in order of size, largest first (ties: the lower index
 * first), each at the lowest offset (aligned to TRN_ALIGN_BYTES; psum: never straddling a
 * TRN_PSUM_BANK_BYTES bank unless larger, then on a bank) where it overlaps no interval
 * already placed whose live range meets its own. The candidates are 0 and the ends of those
 * intervals, so the search is O(n^2) per interval. Returns the peak (the highest end). */
uint64_t lw_pack(lw_ival *iv, int n, int psum);

void lw_init(lw *e, const trn_lower_op *op, const trn_isa_target *t);
void lw_fini(lw *e);
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void lw_printf(lw *e, const char *fmt, ...);

/* Declares an on-chip tile `.sbuf|.psum name dtype [d0, d1, ...]` (rank dims, d0 the
 * partitions) and adds its bytes per partition to the running sums. The declaration is
 * recorded, not printed: lw_finish places every tile from the live ranges and writes the
 * declarations with offset= where the first tile was declared. */
void lw_tile(lw *e, trn_mem mem, const char *name, trn_dtype dt, int rank, const int64_t *dims);
/* lw_tile for a type written as text (the MX x4-packed types: "fp8_e4m3_x4") taking
 * elem_bytes per element. */
void lw_tile_text(lw *e, trn_mem mem, const char *name, const char *dtype, uint32_t elem_bytes,
                  int rank, const int64_t *dims);
/* SBUF bytes per partition the kernel may use: the target's, or op->sbuf_limit_bytes when
 * lower. */
uint64_t lw_sbuf_cap(const lw *e);
/* Saves the emitter's position (text, tiles, sums); lw_rewind returns to it. */
void lw_mark(lw *e);
void lw_rewind(lw *e);
/* The bytes per partition the recorded tiles need with the body emitted so far: the packing
 * of their live ranges (lw_pack), or the plain layout's sum when that fits (see lw_finish). */
void lw_peak(lw *e, uint64_t *sbuf, uint64_t *psum);
/* Completes the kernel: live ranges, placement, the declarations spliced in with offset=,
 * and the fit check of the placed bytes. The placement keeps the tiles apart (declaration
 * order, the assembler's rule) when that fits the SBUF (op->sbuf_limit_bytes when set) and
 * PSUM; only when it does not are tiles with disjoint live ranges packed into shared space
 * (lw_pack), since sharing orders the later tile's first write after the earlier one's last
 * access. TRN_E_UNSUPPORTED names the need and the limit. */
trn_status lw_finish(lw *e, trn_err *err);
/* Bytes per partition of a tile of `free_elems` elements of dtype dt, aligned. */
uint64_t lw_tile_bytes(trn_dtype dt, int64_t free_elems);
/* Where a DMA is issued from: " engine=sync" on cores with hardware DGE (no per-queue fixed
 * cost), "" (the DMA queues' static descriptors) otherwise. */
const char *lw_dma_engine(lw *e);
/* Names the kernel for the fit check of lw_finish, and fails with TRN_E_UNSUPPORTED at once
 * when a single declared tile exceeds the target (no placement can fit it). */
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
trn_status lw_embed(lw *e, trn_err *err);       /* lower_gather.c */
trn_status lw_router(lw *e, trn_err *err);      /* lower_moe.c */
trn_status lw_glu_oai(lw *e, trn_err *err);     /* lower_moe.c */
trn_status lw_act(lw *e, trn_err *err);         /* lower_moe.c */
trn_status lw_moe_combine(lw *e, trn_err *err); /* lower_moe.c */

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

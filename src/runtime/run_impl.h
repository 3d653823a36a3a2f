/* Private to the model runner: the kernel side (run_kernel.c, which includes lower.h and
 * runtime.h) seen from the graph side (graph_run.c, which includes graph.h). The interface
 * between the two uses plain types only, so each side depends on one of the two IRs. */
#ifndef TRN_RUN_IMPL_H
#define TRN_RUN_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "trnsim/run.h"

/* The lowered kernels the runner launches (lower.h's trn_lower_kind, same meaning). */
typedef enum rk_kind {
    RK_LINEAR,
    RK_RMSNORM,
    RK_LAYERNORM,
    RK_SOFTMAX,
    RK_ADD,
    RK_MUL,
    RK_SWIGLU,
    RK_ROPE,
    RK_ATTENTION,
    RK_EMBED,
    RK_ROUTER,
    RK_GLU_OAI,
    RK_ACT,
    RK_MOE_COMBINE,
} rk_kind;

/* LINEAR's fused activation. */
typedef enum rk_act { RK_ACT_COPY, RK_ACT_GELU, RK_ACT_GELU_TANH, RK_ACT_SILU } rk_act;

typedef struct rk_op {
    rk_kind kind;
    int64_t m, k, n; /* as trn_lower_op; activations bf16 */
    int f32_out;     /* 1: the output in f32 (the logits), else bf16 */
    int bias;
    rk_act act;
    double eps;
    int64_t heads, kv_heads, head_dim, q_len, kv_len;
    int64_t window;      /* ATTENTION: sliding window (0: all keys) */
    int sinks;           /* ATTENTION: 1 with a "sinks" input */
    double scale;        /* ATTENTION: 0 = 1 / sqrt(head_dim) */
    int64_t topk;        /* ROUTER; MOE_COMBINE: slots per token */
    int gating;          /* ROUTER: trn_lower_gating */
    double alpha, limit; /* GLU_OAI; LINEAR with glu_oai */
    int prec;            /* LINEAR: its trn_precision */
    int glu_oai;         /* LINEAR: 1 fuses GLU_OAI into the eviction (lower.h): W's n columns
                            gate, up interleaved, y [m, n / 2]; a split by columns keeps pairs */
} rk_op;

typedef struct rk_prof {
    double time_ns, flops, pe_mfu;
    int bound; /* trn_engine */
    uint64_t hbm_bytes;
} rk_prof;

typedef struct rk_bind {
    const char *name;
    double *data;
    size_t n;
} rk_bind;

/* A per-core piece of an op split over the cores of the chip: the piece's own op (its shape)
 * and the range it covers, lo .. hi - 1, on its axis: RK_AX_ROWS rows of every [m, *] tensor
 * (a LINEAR's x and y, a row op's inputs and y), RK_AX_COLS columns of a LINEAR's W, b and y
 * (with glu_oai: an even range of W's and b's columns, y's lo / 2 .. hi / 2 - 1),
 * RK_AX_HEADS kv heads of an attention (their query heads' columns of q and o, their columns
 * of k and v). */
typedef enum rk_axis { RK_AX_ROWS, RK_AX_COLS, RK_AX_HEADS } rk_axis;
typedef struct rk_piece {
    rk_op op;
    rk_axis axis;
    int64_t lo, hi;
} rk_piece;
/* Splits op over `cores` cores (run.h's rule): fills pc[0 .. n-1] (room for `cores`) and
 * returns n, 1 .. cores (1: the whole op, its own piece, axis rows over all of them). */
int rk_split(const rk_op *op, int cores, rk_piece *pc);

/* Times the pieces pc[0..n-1] of one op: n = 1 on one core (its fair share of HBM bandwidth),
 * n > 1 together on n cores of the chip sharing its HBM bandwidth (trn_runtime_time_cores). */
trn_status rk_time(trn_runtime *rt, const rk_piece *pc, int n, rk_prof *p, trn_err *err);

/* A resident HBM image of op's program with inputs w[nw] written once (trn_resident). */
typedef struct rk_res rk_res;
trn_status rk_res_create(trn_runtime *rt, const rk_op *op, const rk_bind *w, int nw, rk_res **out,
                         trn_err *err);
void rk_res_destroy(rk_res *r);
/* Runs op functionally (res: on that image, in[] the other inputs; NULL: every input in in[]),
 * outputs read into out[]. No profile (rk_time). */
trn_status rk_run(trn_runtime *rt, const rk_op *op, rk_res *res, const rk_bind *in, int nin,
                  rk_bind *out, int nout, trn_err *err);
/* Elements of LINEAR's packed w for W[k, n] in precision prec, and in *nscales those of its
 * E8M0 scales ws (MXFP4 / MXFP8Q: pre-quantized codes and scales, lower.h; else 0). */
size_t rk_packed_elems(int prec, int64_t k, int64_t n, size_t *nscales);
/* The packing: bf16 panels, MX panels (MXFP8), or MX codes into out and scales into scales
 * (MXFP4, MXFP8Q: trn_lower_pack_mx_weights, OCP scale rule). */
trn_status rk_pack(int prec, const double *kn, int64_t k, int64_t n, double *out, double *scales,
                   trn_err *err);
/* The precision a LINEAR with contraction k runs in when prec is asked for: MXFP8 needs k a
 * multiple of 512 (one MX matmul pass), MXFP4 and MXFP8Q k a multiple of 4 (the x4-packed
 * codes); the other linears of such a run stay bf16. (Cores older than NeuronCore-v4 have
 * no MX mode at all: rk_check_prec refuses the run.) */
int rk_linear_prec(int prec, int64_t k);
/* TRN_E_UNSUPPORTED naming the chip when prec has no LINEAR on it; TRN_E_INVALID unknown. */
trn_status rk_check_prec(trn_runtime *rt, int prec, trn_err *err);
int rk_cores(const trn_runtime *rt);
const char *rk_chip_name(const trn_runtime *rt);

#endif

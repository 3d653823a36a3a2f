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
    int prec; /* LINEAR: its trn_precision */
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

/* Runs (in != NULL) or times (in == NULL) op; with cores > 1 the time is that of the per-core
 * piece (run.h). */
trn_status rk_launch(trn_runtime *rt, int cores, const rk_op *op, const rk_bind *in, int nin,
                     rk_bind *out, int nout, rk_prof *p, trn_err *err);
/* Elements of LINEAR's packed w for W[k, n], and the packing (panels, or MX panels). */
size_t rk_packed_elems(int64_t k, int64_t n);
void rk_pack(int prec, const double *kn, int64_t k, int64_t n, double *out);
/* The precision a LINEAR with contraction k runs in when prec is asked for: MXFP8 needs k a
 * multiple of 512 (one MX matmul pass), other linears of an mxfp8 run stay bf16. */
int rk_linear_prec(int prec, int64_t k);
/* TRN_E_UNSUPPORTED naming the chip when prec has no LINEAR on it; TRN_E_INVALID unknown. */
trn_status rk_check_prec(trn_runtime *rt, int prec, trn_err *err);
int rk_cores(const trn_runtime *rt);
const char *rk_chip_name(const trn_runtime *rt);

#endif

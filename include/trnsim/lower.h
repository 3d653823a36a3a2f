/* trnsim compiler layer, back half: lowering of transformer ops to NeuronCore programs.
 *
 * Each op, given its shapes and data types, becomes `.tasm` text (the language kernel authors
 * write, docs/isa.md), emitted by a small emitter and assembled and verified by the real
 * assembler, so every compiled kernel can be dumped and read. The lowering chooses the tiling
 * (rows or tokens on the 128 partitions, K streamed in chunks, PSUM bank rings), the on-chip
 * buffers (fixed rings reused across iterations, sized so that the verifier's SBUF/PSUM
 * limits always hold; shapes that cannot fit are a TRN_E_UNSUPPORTED naming the need and the
 * limit) and the DMA order (loads of the next tile issued before the compute of the current
 * one). docs/lowering.md describes each op's kernel.
 *
 * Deliberately left out: the graph (ops come with explicit shapes; the model runner,
 * include/trnsim/run.h, maps graph nodes to these), multi-core splits of one kernel, spills
 * other than LINEAR's transposed x (x_spill), MoE expert dispatch (the model runner gathers
 * rows with EMBED) and sampling. On-chip tiles are placed by live range (docs/lowering.md).
 *
 * HBM tensor names and layouts of each kernel (all row-major):
 *   LINEAR     x [m, k] (dtype), w [k * n_pad] (weights in column panels, each [k, width]
 *              row-major: 512 wide but the last, whose width is the rest of n rounded up to
 *              TRN_LOWER_PANEL_ALIGN and zero padded; panel i at element 512 k i; n_pad =
 *              trn_lower_panel_cols(n): trn_lower_pack_panels; MXFP8:
 *              trn_lower_pack_mx_panels; MXFP4, MXFP8Q: codes w and scales ws from
 *              trn_lower_pack_mx_weights), optional b [1, n] bf16 -> y [m, n] (out_dtype) =
 *              act(x @ W + b); glu_oai: y [m, n / 2] = GLU_OAI(bf16(x @ W + b))
 *   RMSNORM    x [m, n], g [1, n] bf16 -> y [m, n] = x * rsqrt(mean(x^2) + eps) * g, the
 *              normalized x rounded to out_dtype before * g (as HF does)
 *   LAYERNORM  x [m, n], g [1, n], b [1, n] bf16 -> y = (x - mean) * rsqrt(var + eps) * g + b
 *   SOFTMAX    x [m, n] -> y [m, n] = softmax over each row
 *   ADD, MUL   a [m, n], b [m, n] -> y [m, n]
 *   SWIGLU     g [m, n], u [m, n] -> y [m, n] = silu(g) * u, silu(g) rounded to dtype
 *   ROPE       x [m, heads * head_dim], cos [m, head_dim/2], sin [m, head_dim/2] -> y: the
 *              rotate-half rotary embedding of each head (Llama / GPT-NeoX convention),
 *              x1 cos - x2 sin and x2 cos + x1 sin with the products rounded to dtype
 *   ATTENTION  q [q_len, heads * head_dim], k [kv_len, kv_heads * head_dim], v (like k),
 *              with sinks: sinks [1, heads] f32 -> o [q_len, heads * head_dim]: causal
 *              softmax(q k^T * scale) v per head (scale 0: 1 / sqrt(head_dim)), query i at
 *              position p = kv_len - q_len + i seeing keys max(0, p - window + 1) .. p (window
 *              0: 0 .. p), head h's sink logit joining each row's softmax denominator, query
 *              head h reading kv head h / (heads / kv_heads) (GQA); q_len = 1 is a decode step
 *              against a KV cache.
 *   EMBED      ids int32 [m, 1], table [k, n] (dtype) -> y [m, n] (out_dtype): y[t] =
 *              table[ids[t]], an indirect-DMA row gather (an id outside 0..k-1 faults)
 *   ROUTER     x [m, n] (dtype, the router logits of n experts) -> ids uint32 [m, topk], w f32
 *              [m, topk]: per row the topk experts by descending score (softmax, sigmoid or
 *              the logits, per gating), equal scores lowest index first, and their weights
 *              (renormalized scores, or the softmax of the chosen logits); FP32 throughout
 *   GLU_OAI    x [m, 2n] (gate, up interleaved by column) -> y [m, n] = (clamp(u, +-limit) + 1)
 *              * g sigmoid(alpha g), g = min(gate, limit); the sigmoid, g sigmoid and u + 1
 *              rounded to dtype (HF's bf16 steps; alpha g stays FP32), y to out_dtype
 *   ACT        x [m, n] -> y [m, n] = act(x) (gelu, gelu_apprx_tanh, silu, relu), rounded once
 *   MOE_COMBINE d [m, topk, n] (dtype: each token's topk expert outputs, in slot order), w f32
 *              [m, topk] (routing weights) -> y [m, n] (out_dtype) = sum over j = 0 .. topk-1
 *              in order of w[t, j] d[t, j]: w rounded to dtype, each product and each partial
 *              sum rounded to out_dtype (HF's bf16 combine)
 */
#ifndef TRNSIM_LOWER_H
#define TRNSIM_LOWER_H

#include <stdint.h>

#include "trnsim/base.h"
#include "trnsim/isa.h"
#include "trnsim/num.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum trn_lower_kind {
    TRN_LOWER_LINEAR,
    TRN_LOWER_RMSNORM,
    TRN_LOWER_LAYERNORM,
    TRN_LOWER_SOFTMAX,
    TRN_LOWER_ADD,
    TRN_LOWER_MUL,
    TRN_LOWER_SWIGLU,
    TRN_LOWER_ROPE,
    TRN_LOWER_ATTENTION,
    TRN_LOWER_EMBED,   /* row gather by token ids (lower_gather.c) */
    TRN_LOWER_ROUTER,  /* MoE gating and top-k (lower_moe.c) */
    TRN_LOWER_GLU_OAI, /* GPT-OSS clamped GLU (lower_moe.c) */
    TRN_LOWER_ACT,     /* y = act(x), an activation not fused into a LINEAR (lower_moe.c) */
    TRN_LOWER_MOE_COMBINE,
    TRN_LOWER_KIND_COUNT
} trn_lower_kind;

/* Matmul precision of LINEAR. BF16: bf16 operands. FP8: x cast to FP8 (E4M3, NKI float8_e4m3)
 * on chip, w stored in FP8, double-row matmuls (NeuronCore-v3+). MXFP8 (NeuronCore-v4+): x and
 * w (bf16, w in the layout of trn_lower_pack_mx_panels) quantized on chip by quantize_mx to
 * OCP E4M3 with E8M0 block scales, nc_matmul_mx (k a multiple of 512). MXFP4 and MXFP8Q
 * (NeuronCore-v4+, k a multiple of 4): w pre-quantized in HBM as MX codes (FP4 E2M1, or OCP
 * FP8 E4M3) and E8M0 scales (trn_lower_pack_mx_weights: inputs "w" and "ws"), x quantized on
 * chip to MXFP8 (E4M3) by quantize_mx, nc_matmul_mx. Accumulation is FP32 in PSUM in every
 * mode. */
typedef enum trn_precision {
    TRN_PREC_BF16,
    TRN_PREC_FP8,
    TRN_PREC_MXFP8,
    TRN_PREC_MXFP4,  /* MX FP4 weights pre-quantized in HBM (MoE experts: GPT-OSS) */
    TRN_PREC_MXFP8Q, /* MX FP8 weights pre-quantized in HBM */
    TRN_PREC_COUNT
} trn_precision;

/* One op with its shapes. Zero-initialize, then set what the kind uses. */
typedef struct trn_lower_op {
    trn_lower_kind kind;
    trn_dtype dtype;     /* activations in HBM (inputs): bf16 or f32 */
    trn_dtype out_dtype; /* the output: bf16 or f32 */
    int64_t m, k, n;     /* LINEAR: x[m, k] @ w[k, n]; row ops: [m rows, n columns] */
    trn_precision prec;  /* LINEAR */
    int bias;            /* LINEAR: 1 adds b[n] */
    trn_act_func act;    /* LINEAR: fused activation: TRN_ACT_COPY (none), GELU, SILU, RELU */
    double eps;          /* RMSNORM, LAYERNORM */
    int64_t heads, kv_heads, head_dim; /* ROPE (heads, head_dim), ATTENTION */
    int64_t q_len, kv_len;             /* ATTENTION */
    int64_t window; /* ATTENTION: keys each query sees, itself included (sliding window); 0 all */
    int sinks;      /* ATTENTION: 1 adds input "sinks" [1, heads] f32, one logit per head that
                       joins every row's softmax denominator (GPT-OSS) */
    double scale;   /* ATTENTION: score scale; 0 = 1 / sqrt(head_dim) */
    int64_t topk;   /* ROUTER: experts per token; MOE_COMBINE: slots per token (1 to 1024) */
    int gating;     /* ROUTER: trn_lower_gating */
    double alpha, limit;       /* GLU_OAI: sigmoid slope, clamp */
    uint64_t sbuf_limit_bytes; /* LINEAR: SBUF bytes per partition the kernel may use; 0 = all
                                  of the target's (a lower limit leaves room, and tests the
                                  streaming plans) */
    int x_spill; /* LINEAR, when x is not resident: 0 chooses between re-transposing x for
                    every weight panel and spilling it (transposed once, stored to HBM scratch,
                    reloaded per panel) by the cost comparison of docs/lowering.md; 1 always
                    spills (when more than one panel reads it), -1 never */
    int glu_oai; /* LINEAR: 1 fuses GLU_OAI (alpha, limit) into the eviction: W's n columns are
                    gate, up interleaved (2j gate, 2j + 1 up; n even), each evicted tile is
                    rounded to bf16 as an unfused LINEAR with a bf16 y writes it, then takes
                    GLU_OAI's steps (bf16 dtype) and y [m, n / 2] (out_dtype) is stored: bit for
                    bit LINEAR then GLU_OAI; act must be copy; 0 plain LINEAR */
} trn_lower_op;

/* ROUTER's gating (the same rules as the graph's trn_gating). */
typedef enum trn_lower_gating {
    TRN_LOWER_GATE_SOFTMAX_TOPK, /* softmax over all n logits, top-k, renormalized (Mixtral) */
    TRN_LOWER_GATE_TOPK_SOFTMAX, /* top-k of the logits, softmax over those k (GPT-OSS) */
    TRN_LOWER_GATE_SIGMOID_TOPK, /* sigmoid scores, top-k, renormalized */
} trn_lower_gating;

/* Names for messages and cache keys: "linear", "rmsnorm" ...; "bf16", "fp8", "mxfp8",
 * "mxfp4", "mxfp8q". */
const char *trn_lower_kind_name(trn_lower_kind k);
const char *trn_precision_name(trn_precision p);
int trn_lower_kind_find(const char *name); /* -1 if unknown */
int trn_precision_find(const char *name);  /* -1 if unknown */

/* The FP8 data type LINEAR's FP8 mode stores w in and casts x to. */
#define TRN_LOWER_FP8_DTYPE TRN_DTYPE_FP8_E4M3_LEGACY
/* Columns of one weight panel (one PSUM bank of FP32). */
#define TRN_LOWER_PANEL 512
/* The last (or only) panel of LINEAR's w is only as wide as the rest of n rounded up to a
 * multiple of this: a router of 8 experts streams k x 8 weights, not k x 512. 8 keeps the
 * MX kernels' moving free size even (nc_matmul_mx) and costs at most 7 zero columns; the DMA
 * of a weight chunk stays one contiguous run per partition at any width (docs/lowering.md). */
#define TRN_LOWER_PANEL_ALIGN 8

/* How LINEAR tiles its matmul (trn_lower_linear_plan). The contraction of a K chunk starting
 * at row k0 with `slots` slots of 128 partitions puts row k0 + slots * p + j at partition p,
 * slot j; the chunks are full (128 * kc rows) except at the end of K, where the rest R is one
 * chunk of floor(R / 128) slots followed by one chunk of one slot on R % 128 partitions. Each
 * output tile accumulates, in PSUM, one matmul per slot (FP8 double-row: per slot pair
 * (2i, 2i + 1), chained over p then the pair) in chunk then slot order. */
typedef struct trn_lower_linear_plan {
    int tiles;           /* token tiles of 128 per block (the block is 128 * tiles tokens) */
    int kc;              /* slots per full K chunk (even in FP8 mode) */
    int acc_banks;       /* PSUM banks in the accumulator ring */
    int pe_transpose;    /* 1: x is transposed on TensorE (v2, or f32 x); 0: by dma_transpose */
    int x_resident;      /* blocks of transposed x kept in SBUF for all panels (1 or 2); 0: x
                            is streamed with each weight chunk */
    int spill;           /* 1: x_resident = 0 and x is transposed once per block into an
                            HBM scratch tensor and reloaded per panel by plain DMA (the
                            transposes' tiles share space with the matmul's: see
                            docs/lowering.md); 0: a streamed x is re-transposed per panel */
    uint64_t sbuf_bytes; /* SBUF bytes per partition the kernel needs (with spill: the placed
                            peak, the two phases sharing space) */
} trn_lower_linear_plan;

trn_status trn_lower_linear_plan_get(const trn_lower_op *op, const trn_isa_target *t,
                                     trn_lower_linear_plan *plan, trn_err *err);

/* Checks `op` for target `t` (borrowed). TRN_E_INVALID names the field and what was expected;
 * TRN_E_UNSUPPORTED says what the target or the lowering cannot do. */
trn_status trn_lower_check(const trn_lower_op *op, const trn_isa_target *t, trn_err *err);

/* Emits the `.tasm` kernel of `op` for target `t` into a malloc'd NUL-terminated string
 * (*tasm, taken by the caller: free()). Errors as trn_lower_check, TRN_E_NOMEM. */
trn_status trn_lower_emit(const trn_lower_op *op, const trn_isa_target *t, char **tasm,
                          trn_err *err);

/* Emits, assembles for t->version and verifies: *out is taken by the caller
 * (trn_program_destroy). An assembler or verifier error here is a bug of the lowering and is
 * reported as TRN_E_INVALID with the assembler's message. */
trn_status trn_lower_compile(const trn_lower_op *op, const trn_isa_target *t, trn_program **out,
                             trn_err *err);

/* On-chip bytes per partition of the kernel of `op` for `t`: each memory's tiles side by side
 * (the sum, as a layout without reuse places them), and the peak of their placement by live
 * range (interval packing over the instructions that use each tile, docs/lowering.md);
 * `packed` is 1 when the emitted kernel uses the packing (its tiles do not fit side by side).
 * Errors as trn_lower_emit. */
typedef struct trn_lower_mem {
    uint64_t sbuf_sum, sbuf_peak; /* SBUF bytes per partition */
    uint64_t psum_sum, psum_peak; /* PSUM bytes per partition */
    int tiles;                    /* on-chip tiles declared */
    int packed;
} trn_lower_mem;
trn_status trn_lower_mem_get(const trn_lower_op *op, const trn_isa_target *t, trn_lower_mem *m,
                             trn_err *err);

/* A short key of the op's shapes and types ("linear m=2048 k=4096 n=4096 x=bf16 y=bf16 bf16
 * act=copy bias=0"): equal keys compile to the same program on the same target. */
void trn_lower_key(const trn_lower_op *op, char *buf, size_t n);

/* Width of panel pi (0-based) of LINEAR's w for an n-column W: TRN_LOWER_PANEL for every
 * panel but the last, the last n - 512 (panels - 1) rounded up to TRN_LOWER_PANEL_ALIGN. */
int64_t trn_lower_panel_width(int64_t n, int64_t pi);
/* The columns of all panels together, n_pad = 512 (ceil(n / 512) - 1) + the last's width:
 * LINEAR's w holds k * n_pad values (MXFP4 / MXFP8Q: codes ceil(k / 512) 128 n_pad, scales
 * 16 ceil(k / 512) n_pad). */
int64_t trn_lower_panel_cols(int64_t n);

/* Packs a row-major W[k, n] (borrowed, k * n values) into the panel layout of LINEAR's w:
 * panel i, [k, width_i] row-major, at element 512 k i, columns past n zero; out has
 * k * trn_lower_panel_cols(n) values (borrowed). */
void trn_lower_pack_panels(const double *w, int64_t k, int64_t n, double *out);

/* Packs W[k, n] (k a multiple of 512) into the MXFP8 (on-chip quantized) layout of LINEAR's w:
 * panel i (width wi) at element 512 k i as [k / 512, 128, 4 wi]: element (s, p, 4 c + j) =
 * W[512 s + 4 p + j][512 i + c], zero padded (out has k * trn_lower_panel_cols(n) values). */
void trn_lower_pack_mx_panels(const double *w, int64_t k, int64_t n, double *out);

/* The MX element type of LINEAR's pre-quantized weights: FP4_E2M1 (MXFP4), FP8_E4M3 (MXFP8Q);
 * TRN_DTYPE_COUNT for the other precisions. */
trn_dtype trn_lower_mx_weight_dtype(trn_precision p);

/* Quantizes a row-major W[k, n] (borrowed, k a multiple of 4) for LINEAR's MXFP4 / MXFP8Q
 * modes, each block of 32 consecutive k of a column with scale rule `rule` (TRN_SCALE_OCP for
 * checkpoints' MX weights), RNE; kp = ceil(k/512) passes, rows past k zero; panel i of
 * width wi (trn_lower_panel_width): codes -> "w", panel i at element 512 kp 128 i as
 * [kp, 128, wi] x4-packed words (elem FP4_E2M1: fp4_e2m1_x4; FP8_E4M3: fp8_e4m3_x4), word
 * (s, p, c) holding in slot j (nibble or byte j, low first) the code of W[512 s + 4 p + j]
 * [512 i + c]; scales -> "ws", panel i at element 512 16 kp i as [16, kp, wi] E8M0 bytes,
 * (g, s, c) the scale of the block of k = 512 s + 32 g .. + 31 (a panel's scales of one g
 * for every pass contiguous). codes has kp 128 n_pad values, scales 16 kp n_pad.
 * Columns past n are zero (codes 0, scales of an all-zero block). Values are doubles as
 * trn_core_tensor_write takes them (packed words and bytes as integers). TRN_E_INVALID for an
 * elem other than FP4_E2M1 / FP8_E4M3 or k not a multiple of 4. */
trn_status trn_lower_pack_mx_weights(const double *w, int64_t k, int64_t n, trn_dtype elem,
                                     trn_scale_rule rule, double *codes, double *scales,
                                     trn_err *err);

/* Model FLOPs of the op (2 per MAC of its matmuls; attention counts the causal half it
 * computes: q k^T and p v over the visible keys), for utilization and planner figures. */
double trn_lower_flops(const trn_lower_op *op);

#ifdef __cplusplus
}
#endif
#endif

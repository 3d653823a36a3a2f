/* Serving internals shared with the search (src/plan/search.c). */
#ifndef TRN_PLAN_SERVE_IMPL_H
#define TRN_PLAN_SERVE_IMPL_H

#include "plan_impl.h"

/* What a serving evaluation needs, computed once per workload. */
typedef struct plan_serve_ctx {
    plan_model pm;
    const trn_model *model;
    double lin_b, exp_b, emb_b;  /* bytes per weight: layer matmuls, routed experts, tables */
    trn_hw_dtype lin_dt, exp_dt; /* matmul data types (a missing peak falls back to bf16) */
    double kv_b;                 /* bytes per KV element */
    trn_model_flops fl_prefill;  /* per token over the prompt */
    trn_model_flops fl_decode;   /* one decode step at the mean context */
    double kv_seq_bytes;         /* KV cache of one sequence at input + output tokens */
    double kv_mean_bytes;        /* at the mean decode context input + output / 2 */
} plan_serve_ctx;

trn_status plan_serve_prepare(const trn_model *model, const trn_plan_serve *w, plan_serve_ctx *sc,
                              trn_err *err);
trn_status plan_serve_check(const plan_model *pm, const trn_plan_serve *w, const trn_plan_config *c,
                            int64_t chips, trn_err *err);
double plan_serve_step(const trn_plan_machine *m, const plan_serve_ctx *sc,
                       const trn_plan_config *c, double P, double S, double D, double kv_read,
                       double attn_decode_flops, double attn_prefill_flops,
                       trn_plan_breakdown *out);
trn_status plan_serve_eval(const trn_plan_machine *m, const plan_serve_ctx *sc,
                           const trn_plan_serve *w, const trn_plan_config *c,
                           trn_plan_serve_result *out, trn_err *err);

#endif

/* Private declarations of the plan layer: the model summary every evaluation reads (sums over
 * layers computed once per model, so evaluating a configuration does no per-layer loop), and
 * small helpers shared by the train, serve and search files. */
#ifndef TRN_PLAN_IMPL_H
#define TRN_PLAN_IMPL_H

#include "trnsim/plan.h"

#define GIB 1073741824.0

/* What the planner needs of a model, summed over its layers. Parameter counts are elements. */
typedef struct plan_model {
    const trn_model_config *c;
    double layers, hidden, vocab, heads, kv_heads;
    double attn;          /* attention parameters, all layers */
    double dense_mlp;     /* dense MLPs + shared experts + routers, all layers */
    double experts;       /* routed expert parameters, all layers (every expert) */
    double expert_active; /* routed expert parameters one token uses, all layers */
    double per_expert;    /* parameters of one routed expert (one layer) */
    double moe_layers;    /* layers with routed experts */
    double n_experts, topk;
    double norms;     /* per-layer norms, all layers, + final norm */
    double embed;     /* input tables */
    double head;      /* LM head matrix V x h (tied or not: the last stage holds it) */
    double kv_elems;  /* KV-cache elements per token, all layers */
    double kv_shards; /* how many TP ranks can split the KV heads (GQA: kv_heads; MLA: 1) */
    double mlp_mats;  /* matrices per MLP: 3 (SwiGLU) or 2 */
} plan_model;

void plan_model_summary(const trn_model *model, plan_model *pm);

/* Time of one op through the machine's provider. */
static inline trn_plan_op_time plan_op(const trn_plan_machine *m, const trn_plan_op *op) {
    trn_plan_op_time t;
    m->cost.time(m->cost.ctx, op, &t);
    return t;
}

/* Adds an op time to a breakdown's compute or memory part, times `times`. */
static inline void plan_account(trn_plan_breakdown *bd, trn_plan_op_time t, double times) {
    if (t.memory_bound)
        bd->memory_s += t.seconds * times;
    else
        bd->compute_s += t.seconds * times;
}

/* Collective time on the machine's fabric (0 for groups of one). */
double plan_coll(const trn_plan_machine *m, trn_coll c, int64_t size, int64_t stride, double bytes);

/* Average power (W, whole machine, PUE included) at a busy fraction u. */
double plan_power_w(const trn_plan_machine *m, double u);

double plan_bd_sum(const trn_plan_breakdown *bd);
void plan_bd_scale_add(trn_plan_breakdown *dst, const trn_plan_breakdown *src, double k);

#endif

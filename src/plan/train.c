/* Training: one configuration's memory per chip (weights, gradients, optimizer state,
 * activations, workspace), step time (per-op compute from the op-cost provider, exposed
 * communication per parallelism from the fabric, the 1F1B bubble), MFU, cost and energy.
 * docs/planner.md "Training" has every formula and its source.
 *
 * Uneven stages (pp not dividing the layers, only when pp is pinned) are planned by their
 * busiest stage: ceil(layers / pp) layers. Deliberately left out: interleaved pipeline
 * schedules, communication of the vocabulary-parallel cross entropy, host offload. */
#include "plan_impl.h"
#include "train_impl.h"

#include <math.h>
#include <string.h>

#define BF16_BYTES 2.0
#define GRAD_BYTES 2.0  /* bf16 gradients (ZeRO paper's mixed-precision Adam, section 3.1) */
#define OPT_BYTES  12.0 /* fp32 master weights + two fp32 Adam moments (ZeRO paper, K = 12) */
#define OPT_STEP_BYTES                                                   \
    (2 * OPT_BYTES + GRAD_BYTES + BF16_BYTES) /* read+write states, read \
                                                grads, write bf16 weights */

/* Layers of the busiest pipeline stage: layers / pp, or ceil(layers / pp) when pp does not
 * divide them (Llama 3 405B: 126 layers over 16 stages, 8 on the busiest). */
static double stage_layers(const plan_model *pm, int64_t pp) {
    int64_t L = pm->c->layers;
    return L % pp ? (double)((L + pp - 1) / pp) : pm->layers / (double)pp;
}

static int64_t at_least_1(double x) {
    int64_t v = (int64_t)llround(x);
    return v < 1 ? 1 : v;
}

trn_status plan_train_check(const plan_model *pm, const trn_plan_train *w, const trn_plan_config *c,
                            int64_t chips, trn_err *err) {
    const trn_model_config *mc = pm->c;
    if (c->tp < 1 || c->pp < 1 || c->dp < 1 || c->ep < 1 || c->cp < 1 || c->microbatches < 1)
        return trn_err_set(err, TRN_E_INVALID,
                           "tp, pp, dp, ep, cp and microbatches must be at least 1");
    if (c->tp * c->pp * c->cp * c->dp != chips)
        return trn_err_set(
            err, TRN_E_INVALID,
            "tp x pp x cp x dp = %lld x %lld x %lld x %lld = %lld, expected the %lld "
            "chips",
            (long long)c->tp, (long long)c->pp, (long long)c->cp, (long long)c->dp,
            (long long)(c->tp * c->pp * c->cp * c->dp), (long long)chips);
    if (mc->heads % c->tp)
        return trn_err_set(err, TRN_E_INVALID, "tp %lld must divide the %lld attention heads",
                           (long long)c->tp, (long long)mc->heads);
    if (!mc->mla && mc->kv_heads % c->tp && c->tp % mc->kv_heads)
        return trn_err_set(err, TRN_E_INVALID,
                           "tp %lld must divide the %lld KV heads or be a multiple of them",
                           (long long)c->tp, (long long)mc->kv_heads);
    if (c->pp > mc->layers)
        return trn_err_set(err, TRN_E_INVALID, "pp %lld exceeds the %lld layers", (long long)c->pp,
                           (long long)mc->layers);
    if (c->ep > 1 && !mc->experts)
        return trn_err_set(err, TRN_E_INVALID, "ep %lld: %s has no experts (ep must be 1)",
                           (long long)c->ep, mc->name);
    if (mc->experts && mc->experts % c->ep)
        return trn_err_set(err, TRN_E_INVALID, "ep %lld must divide the %lld experts",
                           (long long)c->ep, (long long)mc->experts);
    if (c->dp % c->ep)
        return trn_err_set(err, TRN_E_INVALID, "ep %lld must divide dp %lld", (long long)c->ep,
                           (long long)c->dp);
    if (w->seq_len % c->cp)
        return trn_err_set(err, TRN_E_INVALID, "cp %lld must divide the sequence length %lld",
                           (long long)c->cp, (long long)w->seq_len);
    if (w->global_batch % c->dp)
        return trn_err_set(err, TRN_E_INVALID, "dp %lld must divide the global batch %lld",
                           (long long)c->dp, (long long)w->global_batch);
    if ((w->global_batch / c->dp) % c->microbatches)
        return trn_err_set(
            err, TRN_E_INVALID,
            "microbatches %lld must divide the %lld sequences per data-parallel rank",
            (long long)c->microbatches, (long long)(w->global_batch / c->dp));
    if (c->zero < 0 || c->zero > 3)
        return trn_err_set(err, TRN_E_INVALID, "zero %d: expected 0 to 3", c->zero);
    if (c->zero >= 2 && c->pp > 1)
        return trn_err_set(err, TRN_E_INVALID,
                           "zero %d with pp %lld: gradients and weights sharded over data-parallel "
                           "ranks do not combine with pipeline microbatches (ZeRO-2/3 need pp 1)",
                           c->zero, (long long)c->pp);
    return TRN_OK;
}

/* Parameters on one chip of stage st: dense (replicated over dp x cp) and routed experts
 * (replicated over dp x cp / ep). */
static void stage_params(const plan_model *pm, const trn_plan_config *c, int64_t st, double *dense,
                         double *expert) {
    double tp = (double)c->tp, pp = (double)c->pp;
    if (pm->c->layers % c->pp) /* uneven stages: the busiest one's share of the layers */
        pp = pm->layers / stage_layers(pm, c->pp);
    *dense = (pm->attn + pm->dense_mlp) / pp / tp + (pm->norms) / pp;
    *expert = pm->experts / pp / (tp * (double)c->ep);
    if (st == 0) *dense += pm->embed / tp;
    if (st == c->pp - 1 && !(pm->c->tied_embeddings && c->pp == 1)) *dense += pm->head / tp;
}

/* Korthikanti et al. 2022 activation bytes of one layer for one microbatch of b sequences of
 * s tokens (per CP rank) with tensor + sequence parallelism of t. */
static double layer_act(const plan_model *pm, double s, double b, double t, int rc) {
    double h = pm->hidden, a = pm->heads, sbh = s * b * h;
    switch (rc) {
    case TRN_PLAN_RECOMPUTE_FULL: return 2 * sbh / t;
    case TRN_PLAN_RECOMPUTE_SELECTIVE: return 34 * sbh / t;
    default: return sbh * (34 / t + 5 * a * s / (h * t));
    }
}

void plan_train_memory(const trn_plan_machine *m, const plan_model *pm, const trn_plan_train *w,
                       const trn_plan_config *c, int rc, trn_plan_memory *out) {
    double tp = (double)c->tp, ep = (double)c->ep;
    double D = (double)(c->dp * c->cp), De = D / ep;
    double s = (double)(w->seq_len / c->cp);
    double b = (double)(w->global_batch / c->dp / c->microbatches);
    double per_layer = layer_act(pm, s, b, tp, rc);
    double lps = stage_layers(pm, c->pp);
    int64_t stages[2] = {0, c->pp - 1};
    memset(out, 0, sizeof *out);
    for (int i = 0; i < (c->pp > 1 ? 2 : 1); i++) {
        int64_t st = stages[i];
        double pd, pe;
        stage_params(pm, c, st, &pd, &pe);
        trn_plan_memory x;
        memset(&x, 0, sizeof x);
        x.stage = (int)st;
        x.capacity = m->hbm_bytes;
        x.weights = BF16_BYTES * (pd / (c->zero >= 3 ? D : 1) + pe / (c->zero >= 3 ? De : 1));
        x.grads = GRAD_BYTES * (pd / (c->zero >= 2 ? D : 1) + pe / (c->zero >= 2 ? De : 1));
        x.optimizer = OPT_BYTES * (pd / (c->zero >= 1 ? D : 1) + pe / (c->zero >= 1 ? De : 1));
        double inflight = (double)(c->microbatches < c->pp - st ? c->microbatches : c->pp - st);
        x.activations = per_layer * lps * inflight;
        if (st == c->pp - 1) /* output layer: final norm input + fp32 logits (their section 4.3) */
            x.activations += 4 * s * b * pm->hidden / tp + 4 * s * b * pm->vocab / tp;
        if (rc == TRN_PLAN_RECOMPUTE_FULL)
            x.workspace += layer_act(pm, s, b, tp, TRN_PLAN_RECOMPUTE_NONE);
        if (c->zero >= 3) /* the gathered weights of the layer in use and the one prefetched */
            x.workspace +=
                2 * BF16_BYTES * (pm->attn + pm->dense_mlp + pm->experts / ep) / pm->layers / tp;
        x.total = x.weights + x.grads + x.optimizer + x.activations + x.workspace;
        if (i == 0 || x.total > out->total) *out = x;
    }
}

/* Forward time of one layer of the average composition, per microbatch of T tokens, into *bd;
 * *attn_s gets the attention core's part. */
static void layer_forward(const trn_plan_machine *m, const plan_model *pm, const trn_plan_train *w,
                          const trn_plan_config *c, double attn_flops_tok, double T,
                          trn_plan_breakdown *bd, double *attn_s) {
    double h = pm->hidden, tp = (double)c->tp, L = pm->layers;
    trn_plan_op op;
    memset(&op, 0, sizeof op);
    op.kind = TRN_PLAN_OP_GEMM;
    op.dtype = w->precision;
    op.m = at_least_1(T);
    op.k = (int64_t)h;
    op.count = 1;
    op.a_bytes = BF16_BYTES;
    op.w_bytes = BF16_BYTES;
    op.n = at_least_1(pm->attn / L / (h * tp));
    plan_account(bd, plan_op(m, &op), 1);
    if (pm->dense_mlp > 0) {
        op.n = at_least_1(pm->dense_mlp / L / (h * tp));
        plan_account(bd, plan_op(m, &op), 1);
    }
    if (pm->moe_layers > 0) {
        double E = pm->n_experts, ep = (double)c->ep;
        op.count = E / ep * (pm->moe_layers / L);
        op.m = at_least_1(T * ep * pm->topk / E);
        op.n = at_least_1(pm->per_expert / (h * tp));
        plan_account(bd, plan_op(m, &op), 1);
    }
    trn_plan_op at;
    memset(&at, 0, sizeof at);
    at.kind = TRN_PLAN_OP_ATTENTION;
    at.dtype = TRN_HW_BF16;
    at.batch = at_least_1(T / (double)(w->seq_len / c->cp));
    at.heads = (int64_t)(pm->heads / tp);
    at.q_len = w->seq_len / c->cp;
    at.keys = (double)(w->seq_len + 1) / 2;
    at.flops = T * attn_flops_tok / L / tp;
    double kv_split = tp < pm->kv_shards ? tp : pm->kv_shards;
    at.kv_bytes = (double)at.batch * (double)w->seq_len * pm->kv_elems / L * BF16_BYTES / kv_split;
    at.io_bytes = 2 * T * h / tp * BF16_BYTES;
    trn_plan_op_time ta = plan_op(m, &at);
    plan_account(bd, ta, 1);
    *attn_s = ta.seconds;
    trn_plan_op el;
    memset(&el, 0, sizeof el);
    el.kind = TRN_PLAN_OP_ELEMWISE;
    double f_width = (pm->dense_mlp + pm->expert_active) / L / (pm->mlp_mats * h);
    el.kv_bytes = T * BF16_BYTES * (10 * h + 3 * f_width) / tp;
    plan_account(bd, plan_op(m, &el), 1);
}

trn_status plan_train_eval(const trn_plan_machine *m, const plan_model *pm,
                           const trn_model_flops *fl, const trn_plan_train *w,
                           const trn_plan_config *c, int rc, trn_plan_train_result *out,
                           trn_err *err) {
    trn_status s = plan_train_check(pm, w, c, m->chips, err);
    if (s != TRN_OK) return s;
    if (rc < TRN_PLAN_RECOMPUTE_NONE || rc > TRN_PLAN_RECOMPUTE_FULL)
        return trn_err_set(err, TRN_E_INVALID, "recompute %d: expected none, selective or full",
                           rc);
    memset(out, 0, sizeof *out);
    out->cfg = *c;
    out->recompute = rc;
    plan_train_memory(m, pm, w, c, rc, &out->mem);
    out->fits = out->mem.total <= out->mem.capacity;

    double tp = (double)c->tp, pp = (double)c->pp, h = pm->hidden;
    double b = (double)(w->global_batch / c->dp / c->microbatches);
    double T = b * (double)(w->seq_len / c->cp); /* tokens per chip per microbatch */
    double lps = stage_layers(pm, c->pp);

    /* forward of the slowest (last) stage */
    trn_plan_breakdown layer = {0}, head = {0}, mb = {0};
    double attn_s = 0;
    layer_forward(m, pm, w, c, fl->attn, T, &layer, &attn_s);
    {
        trn_plan_op op;
        memset(&op, 0, sizeof op);
        op.kind = TRN_PLAN_OP_GEMM;
        op.dtype = w->precision;
        op.m = at_least_1(T);
        op.k = (int64_t)h;
        op.n = at_least_1(pm->vocab / tp);
        op.count = 1;
        op.a_bytes = op.w_bytes = BF16_BYTES;
        plan_account(&head, plan_op(m, &op), 1);
        trn_plan_op el;
        memset(&el, 0, sizeof el);
        el.kind = TRN_PLAN_OP_ELEMWISE;
        el.kv_bytes = T * pm->vocab / tp * 4 * 2; /* fp32 logits: softmax and its gradient */
        plan_account(&head, plan_op(m, &el), 1);
    }
    /* forward 1x, backward 2x (Kaplan et al. 2020 section 2.1), recompute adds forwards */
    double fwd_passes = 1 + (rc == TRN_PLAN_RECOMPUTE_FULL ? 1 : 0);
    plan_bd_scale_add(&mb, &layer, lps * (fwd_passes + 2));
    plan_bd_scale_add(&mb, &head, 3);
    if (rc == TRN_PLAN_RECOMPUTE_SELECTIVE) mb.compute_s += attn_s * lps;
    double mb_compute = mb.compute_s + mb.memory_s;
    double bwd_compute = (plan_bd_sum(&layer) * lps + plan_bd_sum(&head)) * 2;

    /* tensor parallel with sequence parallelism: 2 all-gathers + 2 reduce-scatters of the
     * layer's [T, h] activations per pass (forward, backward, recomputed forward) */
    double act_bytes = T * h * BF16_BYTES;
    if (c->tp > 1) {
        double set = 2 * (plan_coll(m, TRN_COLL_ALLGATHER, c->tp, 1, act_bytes) +
                          plan_coll(m, TRN_COLL_REDUCE_SCATTER, c->tp, 1, act_bytes));
        mb.tp_comm_s += set * lps * (fwd_passes + 1);
    }
    /* context parallel: all-gather K/V forward, reduce-scatter dK/dV backward, overlapped with
     * the attention core */
    if (c->cp > 1) {
        double kv_split = tp < pm->kv_shards ? tp : pm->kv_shards;
        double kv = b * (double)w->seq_len * pm->kv_elems / pm->layers * BF16_BYTES / kv_split;
        double ag = plan_coll(m, TRN_COLL_ALLGATHER, c->cp, c->tp, kv);
        double rs = plan_coll(m, TRN_COLL_REDUCE_SCATTER, c->cp, c->tp, kv);
        double e = fmax(0, ag - attn_s) * fwd_passes + fmax(0, rs - 2 * attn_s);
        mb.cp_comm_s += e * lps;
    }
    /* expert parallel: dispatch + combine all-to-all per MoE layer and pass */
    if (c->ep > 1 && pm->moe_layers > 0) {
        double a2a =
            plan_coll(m, TRN_COLL_ALLTOALL, c->ep, c->tp * c->cp, T * pm->topk * h * BF16_BYTES);
        mb.ep_comm_s += 2 * a2a * (pm->moe_layers / pm->layers * lps) * (fwd_passes + 1);
    }
    /* pipeline: activations forward and gradients backward across each stage boundary */
    if (c->pp > 1) {
        double p2p = plan_coll(m, TRN_COLL_P2P, 2, c->tp * c->cp * c->dp, act_bytes / tp);
        mb.pp_comm_s += 2 * p2p;
    }
    /* ZeRO-3 gathers the stage's weights for the forward and the backward of every
     * microbatch; ZeRO-2 and -3 keep only a shard of the gradients, so every microbatch's
     * gradients are reduce-scattered as its backward produces them (ZeRO paper section 5.2;
     * DeepSpeed reduces in buckets during each backward). Both overlap that microbatch's
     * compute. */
    double pd, pe;
    stage_params(pm, c, c->pp - 1, &pd, &pe);
    double D = (double)(c->dp * c->cp), De = D / (double)c->ep;
    int64_t Dn = c->dp * c->cp, Den = Dn / c->ep;
    double rs_grads = plan_coll(m, TRN_COLL_REDUCE_SCATTER, Dn, c->tp, pd * GRAD_BYTES) +
                      plan_coll(m, TRN_COLL_REDUCE_SCATTER, Den, c->tp * c->ep, pe * GRAD_BYTES);
    if (c->zero >= 2) {
        double per_mb = rs_grads;
        if (c->zero >= 3)
            per_mb += 2 * (plan_coll(m, TRN_COLL_ALLGATHER, Dn, c->tp, pd * BF16_BYTES) +
                           plan_coll(m, TRN_COLL_ALLGATHER, Den, c->tp * c->ep, pe * BF16_BYTES));
        mb.dp_comm_s += fmax(0, per_mb - mb_compute);
    }
    double t_mb = plan_bd_sum(&mb);
    trn_plan_breakdown *bd = &out->bd;
    plan_bd_scale_add(bd, &mb, (double)c->microbatches);
    bd->bubble_s = (pp - 1) * t_mb;

    /* data parallel gradient synchronization after the last microbatch, overlapped with its
     * backward; ZeRO-1/2 all-gather the updated bf16 weights */
    double gd = pd * GRAD_BYTES, ge = pe * GRAD_BYTES, t_dp = 0;
    if (c->zero == 0) {
        t_dp = plan_coll(m, TRN_COLL_ALLREDUCE, Dn, c->tp, gd) +
               plan_coll(m, TRN_COLL_ALLREDUCE, Den, c->tp * c->ep, ge);
    } else {
        if (c->zero == 1) t_dp = rs_grads; /* ZeRO-2/3 did theirs per microbatch (above) */
        if (c->zero <= 2)
            t_dp += plan_coll(m, TRN_COLL_ALLGATHER, Dn, c->tp, pd * BF16_BYTES) +
                    plan_coll(m, TRN_COLL_ALLGATHER, Den, c->tp * c->ep, pe * BF16_BYTES);
    }
    bd->dp_comm_s += fmax(0, t_dp - bwd_compute);
    /* optimizer step: memory-bound over the chip's shard of the states */
    {
        trn_plan_op el;
        memset(&el, 0, sizeof el);
        el.kind = TRN_PLAN_OP_ELEMWISE;
        el.kv_bytes = (pd / (c->zero >= 1 ? D : 1) + pe / (c->zero >= 1 ? De : 1)) * OPT_STEP_BYTES;
        plan_account(bd, plan_op(m, &el), 1);
    }
    double step = plan_bd_sum(bd);
    double tokens = (double)w->global_batch * (double)w->seq_len;
    out->step_time_s = step;
    out->tokens_per_s = tokens / step;
    out->model_flops_per_step = fl->train * tokens;
    out->mfu =
        out->model_flops_per_step / (step * (double)m->chips * m->roof.peak_flops[w->precision]);
    out->utilization = (bd->compute_s + bd->memory_s) / step;
    out->power_w = plan_power_w(m, out->utilization);
    out->usd_per_hour = (double)m->chips * m->price_usd_per_chip_hour;
    if (w->tokens > 0) {
        out->train_time_s = w->tokens / out->tokens_per_s;
        out->cost_usd = out->train_time_s / 3600 * out->usd_per_hour;
        out->energy_j = out->power_w * out->train_time_s;
    }
    return TRN_OK;
}

trn_status plan_train_prepare(const trn_plan_machine *m, const trn_model *model,
                              const trn_plan_train *w, plan_model *pm, trn_model_flops *fl,
                              trn_err *err) {
    if (w->seq_len < 1)
        return trn_err_set(err, TRN_E_INVALID, "seq-len: expected at least 1, got %lld",
                           (long long)w->seq_len);
    if (w->global_batch < 1)
        return trn_err_set(err, TRN_E_INVALID, "global-batch: expected at least 1, got %lld",
                           (long long)w->global_batch);
    if ((unsigned)w->precision >= TRN_HW_NDTYPES || m->roof.peak_flops[w->precision] <= 0)
        return trn_err_set(err, TRN_E_UNSUPPORTED, "precision %s: %s has no %s peak in the catalog",
                           trn_hw_dtype_name(w->precision) ? trn_hw_dtype_name(w->precision) : "?",
                           m->device,
                           trn_hw_dtype_name(w->precision) ? trn_hw_dtype_name(w->precision) : "?");
    plan_model_summary(model, pm);
    if (w->seq_len > pm->c->max_positions)
        return trn_err_set(err, TRN_E_INVALID, "seq-len %lld exceeds %s's %lld positions",
                           (long long)w->seq_len, pm->c->name, (long long)pm->c->max_positions);
    return trn_model_flops_seq(model, w->seq_len, fl, err);
}

trn_status trn_plan_train_eval(const trn_plan_machine *m, const trn_model *model,
                               const trn_plan_train *w, const trn_plan_config *cfg, int recompute,
                               trn_plan_train_result *out, trn_err *err) {
    plan_model pm;
    trn_model_flops fl;
    trn_status s = plan_train_prepare(m, model, w, &pm, &fl, err);
    if (s != TRN_OK) return s;
    return plan_train_eval(m, &pm, &fl, w, cfg, recompute, out, err);
}

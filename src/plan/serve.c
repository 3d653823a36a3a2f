/* Batch-mode serving: a batch of sequences of input_len prompt tokens and output_len generated
 * tokens on replicas of tp x pp chips (experts sharded over ep replicas). TTFT is the prefill
 * step of the whole batch, TPOT a decode step at the mean context, memory per chip holds the
 * weights, the batch's KV cache and the prefill workspace. docs/planner.md "Serving".
 *
 * Deliberately left out: request arrivals and continuous batching (plan_des.h drives
 * trn_plan_serve_step_s for those), speculative decoding, prefix caching, disaggregated
 * prefill/decode. */
#include "plan_impl.h"
#include "serve_impl.h"

#include <math.h>
#include <string.h>

#define ACT_BYTES 2.0 /* bf16 activations */

static int64_t at_least_1(double x) {
    int64_t v = (int64_t)llround(x);
    return v < 1 ? 1 : v;
}

trn_status plan_serve_prepare(const trn_model *model, const trn_plan_serve *w, plan_serve_ctx *sc,
                              trn_err *err) {
    memset(sc, 0, sizeof *sc);
    plan_model_summary(model, &sc->pm);
    sc->model = model;
    const trn_model_config *c = sc->pm.c;
    if (!c->causal)
        return trn_err_set(err, TRN_E_UNSUPPORTED,
                           "%s is an encoder (%s): it generates no tokens to serve", c->name,
                           trn_model_arch_name(c->arch));
    if (w->input_len < 1 || w->output_len < 1)
        return trn_err_set(err, TRN_E_INVALID, "%s: expected at least 1 token, got %lld",
                           w->input_len < 1 ? "input-len" : "output-len",
                           (long long)(w->input_len < 1 ? w->input_len : w->output_len));
    if (w->input_len + w->output_len > c->max_positions)
        return trn_err_set(
            err, TRN_E_INVALID, "input-len + output-len = %lld exceeds %s's %lld positions",
            (long long)(w->input_len + w->output_len), c->name, (long long)c->max_positions);
    double emb = c->weight_bits / 8;
    switch (w->weights) {
    case TRN_PLAN_W_MODEL:
        sc->lin_b = c->linear_weight_bits / 8, sc->exp_b = c->expert_weight_bits / 8;
        sc->emb_b = emb;
        sc->lin_dt = c->linear_weight_bits <= 8.5 ? TRN_HW_FP8 : TRN_HW_BF16;
        sc->exp_dt = c->expert_weight_bits <= 4.5   ? TRN_HW_MXFP4
                     : c->expert_weight_bits <= 8.5 ? TRN_HW_FP8
                                                    : TRN_HW_BF16;
        break;
    case TRN_PLAN_W_BF16:
        sc->lin_b = sc->exp_b = sc->emb_b = 2;
        sc->lin_dt = sc->exp_dt = TRN_HW_BF16;
        break;
    case TRN_PLAN_W_FP8:
        sc->lin_b = sc->exp_b = 1, sc->emb_b = 2;
        sc->lin_dt = sc->exp_dt = TRN_HW_FP8;
        break;
    case TRN_PLAN_W_MXFP4:
        if (!c->experts)
            return trn_err_set(err, TRN_E_INVALID,
                               "precision mxfp4 applies to routed experts; %s has none", c->name);
        sc->lin_b = sc->emb_b = 2, sc->exp_b = 4.25 / 8;
        sc->lin_dt = TRN_HW_BF16, sc->exp_dt = TRN_HW_MXFP4;
        break;
    default: return trn_err_set(err, TRN_E_INVALID, "unknown weight format %d", (int)w->weights);
    }
    int bits = trn_dtype_bits(w->kv_dtype);
    if (bits % 8)
        return trn_err_set(err, TRN_E_UNSUPPORTED, "kv dtype: expected a whole-byte type");
    sc->kv_b = bits / 8;
    trn_status s = trn_model_flops_seq(model, w->input_len, &sc->fl_prefill, err);
    if (s == TRN_OK)
        s = trn_model_flops_decode(model, w->input_len + w->output_len / 2, &sc->fl_decode, err);
    if (s == TRN_OK)
        s = trn_model_kv_bytes(model, w->kv_dtype, w->input_len + w->output_len, NULL,
                               &sc->kv_seq_bytes, err);
    if (s == TRN_OK)
        s = trn_model_kv_bytes(model, w->kv_dtype, w->input_len + w->output_len / 2, NULL,
                               &sc->kv_mean_bytes, err);
    return s;
}

/* One step of one replica (see trn_plan_serve_step_s). */
double plan_serve_step(const trn_plan_machine *m, const plan_serve_ctx *sc,
                       const trn_plan_config *c, double P, double S, double D, double kv_read,
                       double attn_decode_flops, double attn_prefill_flops,
                       trn_plan_breakdown *out) {
    const plan_model *pm = &sc->pm;
    double h = pm->hidden, tp = (double)c->tp, L = pm->layers, tokens = P + D;
    trn_plan_breakdown layer = {0}, bd = {0};
    trn_plan_op op;
    memset(&op, 0, sizeof op);
    op.kind = TRN_PLAN_OP_GEMM;
    op.m = at_least_1(tokens);
    op.k = (int64_t)h;
    op.count = 1;
    op.a_bytes = ACT_BYTES;
    op.dtype = sc->lin_dt;
    op.w_bytes = sc->lin_b;
    op.n = at_least_1(pm->attn / L / (h * tp));
    plan_account(&layer, plan_op(m, &op), 1);
    if (pm->dense_mlp > 0) {
        op.n = at_least_1(pm->dense_mlp / L / (h * tp));
        plan_account(&layer, plan_op(m, &op), 1);
    }
    if (pm->moe_layers > 0) {
        double E = pm->n_experts, ep = (double)c->ep, k = pm->topk;
        double routed = tokens * ep; /* tokens of the ep replicas that share these experts */
        double active = 1 - pow(1 - k / E, routed); /* chance an expert gets at least one */
        op.dtype = sc->exp_dt;
        op.w_bytes = sc->exp_b;
        op.count = E / ep * (pm->moe_layers / L) * active;
        op.m = at_least_1(routed * k / E / active);
        op.n = at_least_1(pm->per_expert / (h * tp));
        plan_account(&layer, plan_op(m, &op), 1);
    }
    double kv_split = tp < pm->kv_shards ? tp : pm->kv_shards;
    trn_plan_op at;
    memset(&at, 0, sizeof at);
    at.kind = TRN_PLAN_OP_ATTENTION;
    at.dtype = TRN_HW_BF16;
    at.batch = at_least_1(D + P / S);
    at.heads = (int64_t)(pm->heads / tp);
    at.q_len = P > 0 ? (int64_t)S : 1;
    at.flops = (attn_prefill_flops + attn_decode_flops) / L / tp;
    /* K/V: the decode contexts read, the prompt's K/V written and read back */
    at.kv_bytes = (kv_read + 2 * P * pm->kv_elems * sc->kv_b) / L / kv_split;
    at.io_bytes = 2 * tokens * h / tp * ACT_BYTES;
    plan_account(&layer, plan_op(m, &at), 1);
    trn_plan_op el;
    memset(&el, 0, sizeof el);
    el.kind = TRN_PLAN_OP_ELEMWISE;
    double f_width = (pm->dense_mlp + pm->expert_active) / L / (pm->mlp_mats * h);
    el.kv_bytes = tokens * ACT_BYTES * (10 * h + 3 * f_width) / tp;
    plan_account(&layer, plan_op(m, &el), 1);
    /* a token passes every stage in turn: L layers of per-chip time */
    plan_bd_scale_add(&bd, &layer, L);
    /* LM head for the sequences that emit a token */
    memset(&op, 0, sizeof op);
    op.kind = TRN_PLAN_OP_GEMM;
    op.dtype = TRN_HW_BF16;
    op.m = at_least_1(D + P / S);
    op.k = (int64_t)h;
    op.n = at_least_1(pm->vocab / tp);
    op.count = 1;
    op.a_bytes = ACT_BYTES;
    op.w_bytes = sc->emb_b;
    plan_account(&bd, plan_op(m, &op), 1);
    /* communication on the critical path */
    double act = tokens * h * ACT_BYTES;
    if (c->tp > 1) bd.tp_comm_s += 2 * L * plan_coll(m, TRN_COLL_ALLREDUCE, c->tp, 1, act);
    if (c->ep > 1 && pm->moe_layers > 0)
        bd.ep_comm_s += 2 * pm->moe_layers *
                        plan_coll(m, TRN_COLL_ALLTOALL, c->ep, c->tp * c->pp, act * pm->topk);
    if (c->pp > 1) bd.pp_comm_s += (double)(c->pp - 1) * plan_coll(m, TRN_COLL_P2P, 2, c->tp, act);
    if (out) *out = bd;
    return plan_bd_sum(&bd);
}

double trn_plan_serve_step_s(const trn_plan_machine *m, const trn_model *model,
                             const trn_plan_serve *w, const trn_plan_config *cfg,
                             int64_t prefill_tokens, int64_t prefill_seq_len, int64_t decode_seqs,
                             double decode_ctx_tokens, trn_plan_breakdown *bd) {
    plan_serve_ctx sc;
    if (plan_serve_prepare(model, w, &sc, NULL) != TRN_OK) return HUGE_VAL;
    double S = prefill_seq_len > 0 ? (double)prefill_seq_len : 1;
    double attn_p = 0, attn_d = 0, kv_read = 0;
    trn_model_flops f;
    if (prefill_tokens > 0 && trn_model_flops_seq(model, (int64_t)S, &f, NULL) == TRN_OK)
        attn_p = f.attn * (double)prefill_tokens;
    if (decode_seqs > 0) {
        int64_t ctx = (int64_t)llround(decode_ctx_tokens / (double)decode_seqs);
        if (ctx < 1) ctx = 1;
        double kv = 0;
        if (trn_model_flops_decode(model, ctx, &f, NULL) == TRN_OK)
            attn_d = f.attn * (double)decode_seqs;
        if (trn_model_kv_bytes(model, w->kv_dtype, ctx, NULL, &kv, NULL) == TRN_OK)
            kv_read = kv * (double)decode_seqs;
    }
    return plan_serve_step(m, &sc, cfg, (double)prefill_tokens, S, (double)decode_seqs, kv_read,
                           attn_d, attn_p, bd);
}

trn_status plan_serve_check(const plan_model *pm, const trn_plan_serve *w, const trn_plan_config *c,
                            int64_t chips, trn_err *err) {
    const trn_model_config *mc = pm->c;
    if (c->tp < 1 || c->pp < 1 || c->dp < 1 || c->ep < 1)
        return trn_err_set(err, TRN_E_INVALID, "tp, pp, dp and ep must be at least 1");
    if (c->cp != 1)
        return trn_err_set(err, TRN_E_INVALID,
                           "cp %lld: context parallelism is modelled for training only (cp 1)",
                           (long long)c->cp);
    if (c->tp * c->pp * c->dp != chips)
        return trn_err_set(err, TRN_E_INVALID,
                           "tp x pp x dp = %lld x %lld x %lld = %lld, expected the %lld chips",
                           (long long)c->tp, (long long)c->pp, (long long)c->dp,
                           (long long)(c->tp * c->pp * c->dp), (long long)chips);
    if (mc->heads % c->tp)
        return trn_err_set(err, TRN_E_INVALID, "tp %lld must divide the %lld attention heads",
                           (long long)c->tp, (long long)mc->heads);
    if (!mc->mla && mc->kv_heads % c->tp && c->tp % mc->kv_heads)
        return trn_err_set(err, TRN_E_INVALID,
                           "tp %lld must divide the %lld KV heads or be a multiple of them",
                           (long long)c->tp, (long long)mc->kv_heads);
    if (mc->layers % c->pp)
        return trn_err_set(err, TRN_E_INVALID, "pp %lld must divide the %lld layers",
                           (long long)c->pp, (long long)mc->layers);
    if (c->ep > 1 && !mc->experts)
        return trn_err_set(err, TRN_E_INVALID, "ep %lld: %s has no experts (ep must be 1)",
                           (long long)c->ep, mc->name);
    if (mc->experts && mc->experts % c->ep)
        return trn_err_set(err, TRN_E_INVALID, "ep %lld must divide the %lld experts",
                           (long long)c->ep, (long long)mc->experts);
    if (c->dp % c->ep)
        return trn_err_set(err, TRN_E_INVALID, "ep %lld must divide dp %lld (the replicas)",
                           (long long)c->ep, (long long)c->dp);
    if (w->batch > 0 && w->batch % c->dp)
        return trn_err_set(err, TRN_E_INVALID, "dp %lld (replicas) must divide the batch %lld",
                           (long long)c->dp, (long long)w->batch);
    return TRN_OK;
}

/* Memory of the most loaded chip for b sequences per replica. */
static void serve_memory(const trn_plan_machine *m, const plan_serve_ctx *sc,
                         const trn_plan_serve *w, const trn_plan_config *c, double b,
                         trn_plan_memory *out) {
    const plan_model *pm = &sc->pm;
    double tp = (double)c->tp, pp = (double)c->pp, h = pm->hidden;
    double kv_split = tp < pm->kv_shards ? tp : pm->kv_shards;
    memset(out, 0, sizeof *out);
    for (int i = 0; i < (c->pp > 1 ? 2 : 1); i++) {
        int64_t st = i == 0 ? 0 : c->pp - 1;
        trn_plan_memory x;
        memset(&x, 0, sizeof x);
        x.stage = (int)st;
        x.capacity = m->hbm_bytes;
        x.weights = (pm->attn + pm->dense_mlp) / pp / tp * sc->lin_b +
                    pm->experts / pp / (tp * (double)c->ep) * sc->exp_b +
                    pm->norms / pp * sc->emb_b;
        if (st == 0) x.weights += pm->embed / tp * sc->emb_b;
        if (st == c->pp - 1 && !(pm->c->tied_embeddings && c->pp == 1))
            x.weights += pm->head / tp * sc->emb_b;
        x.kv_cache = b * sc->kv_seq_bytes / pp / kv_split;
        double f_width = (pm->dense_mlp + pm->expert_active) / pm->layers / (pm->mlp_mats * h);
        /* one layer's live activations of the prefill: [b x input, 4h + 2f] / tp, and fp32
         * logits of the b sequences */
        x.workspace = b * (double)w->input_len * (4 * h + 2 * f_width) / tp * ACT_BYTES;
        if (st == c->pp - 1) x.workspace += b * pm->vocab / tp * 4;
        x.total = x.weights + x.kv_cache + x.workspace;
        if (i == 0 || x.total > out->total) *out = x;
    }
}

/* Largest b per replica that fits (0 when even the weights do not). */
static int64_t serve_max_batch(const trn_plan_machine *m, const plan_serve_ctx *sc,
                               const trn_plan_serve *w, const trn_plan_config *c) {
    trn_plan_memory m0, m1;
    serve_memory(m, sc, w, c, 0, &m0);
    serve_memory(m, sc, w, c, 1, &m1);
    double per_seq = m1.total - m0.total, free_b = m->hbm_bytes - m0.total;
    if (free_b < 0 || per_seq <= 0) return 0;
    double b = floor(free_b / per_seq);
    while (b >= 1) { /* the two stages may differ: confirm against the exact memory */
        trn_plan_memory x;
        serve_memory(m, sc, w, c, b, &x);
        if (x.total <= m->hbm_bytes) break;
        b -= 1;
    }
    return b > 4e15 ? (int64_t)4e15 : (int64_t)b;
}

/* TTFT and TPOT of b sequences per replica. */
static void serve_times(const trn_plan_machine *m, const plan_serve_ctx *sc,
                        const trn_plan_serve *w, const trn_plan_config *c, double b, double *ttft,
                        double *tpot, trn_plan_breakdown *bp, trn_plan_breakdown *bdd) {
    double in = (double)w->input_len;
    *ttft = plan_serve_step(m, sc, c, b * in, in, 0, 0, 0, sc->fl_prefill.attn * b * in, bp);
    *tpot =
        plan_serve_step(m, sc, c, 0, in, b, b * sc->kv_mean_bytes, sc->fl_decode.attn * b, 0, bdd);
}

static int meets(const trn_plan_serve *w, double ttft, double tpot) {
    return (w->ttft_slo_s <= 0 || ttft <= w->ttft_slo_s) &&
           (w->tpot_slo_s <= 0 || tpot <= w->tpot_slo_s);
}

trn_status plan_serve_eval(const trn_plan_machine *m, const plan_serve_ctx *sc,
                           const trn_plan_serve *w, const trn_plan_config *c,
                           trn_plan_serve_result *out, trn_err *err) {
    trn_status s = plan_serve_check(&sc->pm, w, c, m->chips, err);
    if (s != TRN_OK) return s;
    memset(out, 0, sizeof *out);
    out->cfg = *c;
    out->cfg.microbatches = 1;
    out->cfg.zero = 0;
    int64_t bmax = serve_max_batch(m, sc, w, c);
    out->max_batch = bmax * c->dp;
    int64_t b;
    double ttft, tpot;
    trn_plan_breakdown bp, bdd;
    if (w->batch > 0) {
        b = w->batch / c->dp;
    } else if (bmax < 1) {
        b = 1;
    } else { /* the largest batch that fits and meets the SLOs: times grow with b */
        int64_t lo = 1, hi = bmax;
        serve_times(m, sc, w, c, (double)hi, &ttft, &tpot, &bp, &bdd);
        if (!meets(w, ttft, tpot)) {
            while (lo < hi) {
                int64_t mid = lo + (hi - lo + 1) / 2;
                serve_times(m, sc, w, c, (double)mid, &ttft, &tpot, &bp, &bdd);
                if (meets(w, ttft, tpot))
                    lo = mid;
                else
                    hi = mid - 1;
            }
        } else {
            lo = hi;
        }
        b = lo;
    }
    serve_memory(m, sc, w, c, (double)b, &out->mem);
    serve_times(m, sc, w, c, (double)b, &ttft, &tpot, &bp, &bdd);
    double in = (double)w->input_len, on = (double)w->output_len, bd = (double)b;
    out->batch = b * c->dp;
    out->ttft_s = ttft;
    out->tpot_s = tpot;
    out->e2e_s = ttft + (on - 1) * tpot;
    out->prefill = bp;
    out->decode = bdd;
    out->throughput_tokens_per_s = (double)c->dp * bd * on / out->e2e_s;
    out->throughput_per_chip = out->throughput_tokens_per_s / (double)m->chips;
    out->usd_per_hour = (double)m->chips * m->price_usd_per_chip_hour;
    double usd_rep_s = (double)(c->tp * c->pp) * m->price_usd_per_chip_hour / 3600;
    out->usd_per_1m_input = usd_rep_s * ttft / (bd * in) * 1e6;
    out->usd_per_1m_output = usd_rep_s * (on - 1) * tpot / (bd * on) * 1e6;
    double up = (bp.compute_s + bp.memory_s) / ttft, ud = (bdd.compute_s + bdd.memory_s) / tpot;
    double rep = 1 / (double)c->dp; /* one replica's share of the machine's power */
    double e_in = plan_power_w(m, up) * rep * ttft;
    double e_out = plan_power_w(m, ud) * rep * (on - 1) * tpot;
    out->joules_per_input_token = e_in / (bd * in);
    out->joules_per_output_token = e_out / (bd * on);
    out->joules_per_token = (e_in + e_out) / (bd * on);
    out->power_w = (e_in + e_out) / rep / out->e2e_s;
    out->meets_slo = meets(w, ttft, tpot);
    out->fits = bmax >= 1 && b <= bmax && out->meets_slo;
    return TRN_OK;
}

trn_status trn_plan_serve_eval(const trn_plan_machine *m, const trn_model *model,
                               const trn_plan_serve *w, const trn_plan_config *cfg,
                               trn_plan_serve_result *out, trn_err *err) {
    plan_serve_ctx sc;
    trn_status s = plan_serve_prepare(model, w, &sc, err);
    if (s != TRN_OK) return s;
    return plan_serve_eval(m, &sc, w, cfg, out, err);
}

double trn_plan_des_step(void *ctx, int64_t prefill_tokens, int64_t decode_seqs,
                         int64_t decode_ctx_tokens) {
    const trn_plan_des_ctx *d = ctx;
    return trn_plan_serve_step_s(d->machine, d->model, d->serve, d->cfg, prefill_tokens,
                                 d->serve->input_len, decode_seqs, (double)decode_ctx_tokens, NULL);
}

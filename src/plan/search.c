/* The search: every legal configuration of a machine for a workload, evaluated and ranked by
 * the objective, best K kept. Legal: tp divides the heads (and the KV heads, or is a multiple of
 * them), pp divides the layers, ep divides the experts and dp, cp divides the sequence, dp and
 * the microbatches divide the global batch; pins fix any of them. docs/planner.md "Search".
 *
 * Deliberately left out: chip counts (the caller searches over machines), heuristics that skip
 * configurations (the search is exhaustive over the legal set). */
#include "plan_impl.h"
#include "serve_impl.h"
#include "train_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Divisors of n in increasing order (at most cap). */
static int divisors(int64_t n, int64_t *out, int cap) {
    int k = 0;
    for (int64_t d = 1; d * d <= n; d++)
        if (n % d == 0 && k < cap) out[k++] = d;
    int small = k;
    for (int i = small - 1; i >= 0; i--) {
        int64_t q = n / out[i];
        if (q != out[i] && k < cap) out[k++] = q;
    }
    return k;
}

#define MAXDIV 1024 /* n <= 1,000,000 has at most 240 divisors */

static double train_score(const trn_plan_train_result *r, trn_plan_objective obj) {
    switch (obj) {
    case TRN_PLAN_COST: return r->usd_per_hour / r->tokens_per_s; /* lower is better */
    case TRN_PLAN_LATENCY: return r->step_time_s;
    default: return -r->tokens_per_s;
    }
}

/* Last tie-break of the total order on results (score, simplicity, headroom, then these
 * fields), so that the best is the same whatever the evaluation order. */
static int cfg_less(const trn_plan_config *a, const trn_plan_config *b) {
    const int64_t x[7] = {a->tp, a->pp, a->cp, a->ep, a->dp, a->microbatches, a->zero};
    const int64_t y[7] = {b->tp, b->pp, b->cp, b->ep, b->dp, b->microbatches, b->zero};
    for (int i = 0; i < 7; i++)
        if (x[i] != y[i]) return x[i] < y[i];
    return 0;
}

static int train_better(const trn_plan_train_result *a, const trn_plan_train_result *b,
                        trn_plan_objective obj) {
    double sa = train_score(a, obj), sb = train_score(b, obj);
    if (sa != sb) return sa < sb;
    /* ties (communication fully hidden): the simpler configuration, then more headroom */
    int64_t ma = a->cfg.tp * a->cfg.pp * a->cfg.cp, mb = b->cfg.tp * b->cfg.pp * b->cfg.cp;
    if (ma != mb) return ma < mb;
    if (a->cfg.zero != b->cfg.zero) return a->cfg.zero < b->cfg.zero;
    if (a->recompute != b->recompute) return a->recompute < b->recompute;
    if (a->cfg.microbatches != b->cfg.microbatches)
        return a->cfg.microbatches < b->cfg.microbatches;
    if (a->mem.total != b->mem.total) return a->mem.total < b->mem.total;
    return cfg_less(&a->cfg, &b->cfg);
}

static void train_insert(trn_plan_train_result *top, int k, int *n, const trn_plan_train_result *r,
                         trn_plan_objective obj) {
    if (*n == k && !train_better(r, &top[k - 1], obj)) return;
    int i = *n < k ? (*n)++ : k - 1;
    while (i > 0 && train_better(r, &top[i - 1], obj)) {
        top[i] = top[i - 1];
        i--;
    }
    top[i] = *r;
}

trn_status trn_plan_train_search(const trn_plan_machine *m, const trn_model *model,
                                 const trn_plan_train *w, const trn_plan_pins *pins,
                                 trn_plan_objective obj, trn_plan_train_result *top, int k,
                                 int *found, trn_plan_search_stats *stats, trn_err *err) {
    *found = 0;
    if (stats) memset(stats, 0, sizeof *stats);
    if (k < 1) return trn_err_set(err, TRN_E_INVALID, "top: expected at least 1, got %d", k);
    plan_model pm;
    trn_model_flops fl;
    trn_status s = plan_train_prepare(m, model, w, &pm, &fl, err);
    if (s != TRN_OK) return s;
    trn_plan_pins none = {0, 0, 0, 0, 0, 0, -1, -1};
    if (!pins) pins = &none;
    const trn_model_config *mc = pm.c;
    int64_t N = m->chips;
    int64_t dtp[MAXDIV], dcp[MAXDIV], dpp[MAXDIV], dep[MAXDIV], dmb[MAXDIV];
    int ntp = divisors(N, dtp, MAXDIV);
    trn_plan_train_result r, closest;
    int have_closest = 0;
    int64_t evaluated = 0, fitting = 0;
    for (int a = 0; a < ntp; a++) {
        int64_t tp = dtp[a];
        if (pins->tp && tp != pins->tp) continue;
        if (mc->heads % tp) continue;
        if (!mc->mla && mc->kv_heads % tp && tp % mc->kv_heads) continue;
        int ncp = divisors(N / tp, dcp, MAXDIV);
        for (int b = 0; b < ncp; b++) {
            int64_t cp = dcp[b];
            if (pins->cp && cp != pins->cp) continue;
            if (w->seq_len % cp) continue;
            int npp = divisors(N / tp / cp, dpp, MAXDIV);
            for (int c = 0; c < npp; c++) {
                int64_t pp = dpp[c];
                if (pins->pp && pp != pins->pp) continue;
                if (mc->layers % pp && !pins->pp) continue; /* uneven stages only when pinned */
                int64_t dp = N / tp / cp / pp;
                if (pins->dp && dp != pins->dp) continue;
                if (w->global_batch % dp) continue;
                int nep = mc->experts ? divisors(dp, dep, MAXDIV) : (dep[0] = 1, 1);
                int nmb = divisors(w->global_batch / dp, dmb, MAXDIV);
                for (int e = 0; e < nep; e++) {
                    int64_t ep = dep[e];
                    if (pins->ep && ep != pins->ep) continue;
                    if (mc->experts && mc->experts % ep) continue;
                    for (int f = 0; f < nmb; f++) {
                        int64_t mb = dmb[f];
                        if (pins->microbatches && mb != pins->microbatches) continue;
                        for (int z = 0; z <= 3; z++) {
                            if (pins->zero >= 0 && z != pins->zero) continue;
                            if (z >= 2 && pp > 1) continue;
                            if (z > 0 && dp * cp == 1 && pins->zero < 0)
                                continue; /* nothing to shard over */
                            for (int rc = 0; rc <= 2; rc++) {
                                if (pins->recompute >= 0 && rc != pins->recompute) continue;
                                trn_plan_config cfg = {tp, pp, dp, ep, cp, mb, z};
                                if (plan_train_eval(m, &pm, &fl, w, &cfg, rc, &r, NULL) != TRN_OK)
                                    continue;
                                evaluated++;
                                if (!r.fits) {
                                    double over = r.mem.total / r.mem.capacity;
                                    if (!have_closest ||
                                        over < closest.mem.total / closest.mem.capacity) {
                                        closest = r;
                                        have_closest = 1;
                                    }
                                    continue;
                                }
                                fitting++;
                                train_insert(top, k, found, &r, obj);
                            }
                        }
                    }
                }
            }
        }
    }
    if (stats) stats->evaluated = evaluated, stats->fitting = fitting;
    if (*found) return TRN_OK;
    if (!have_closest)
        return trn_err_set(err, TRN_E_INVALID,
                           "no legal configuration of %lld chips for %s (seq-len %lld, global "
                           "batch %lld) within the pins: tp must divide the heads, pp the layers, "
                           "cp the sequence, and dp = chips / (tp pp cp) the global batch (a "
                           "global batch that is a multiple of the chips always has one)",
                           (long long)N, mc->name, (long long)w->seq_len,
                           (long long)w->global_batch);
    top[0] = closest;
    char why[256];
    trn_plan_memory_explain(&closest.mem, why, sizeof why);
    return trn_err_set(err, TRN_E_RANGE,
                       "%s does not fit on %lld x %s: the closest configuration (tp %lld, pp %lld, "
                       "dp %lld, ep %lld, cp %lld, microbatches %lld, zero %d, recompute %s): %s",
                       mc->name, (long long)N, m->device, (long long)closest.cfg.tp,
                       (long long)closest.cfg.pp, (long long)closest.cfg.dp,
                       (long long)closest.cfg.ep, (long long)closest.cfg.cp,
                       (long long)closest.cfg.microbatches, closest.cfg.zero,
                       trn_plan_recompute_name(closest.recompute), why);
}

/* ---- serving ----------------------------------------------------------------------------- */

static double serve_score(const trn_plan_serve_result *r, trn_plan_objective obj) {
    switch (obj) {
    case TRN_PLAN_COST: return r->usd_per_hour / r->throughput_tokens_per_s;
    case TRN_PLAN_LATENCY: return r->e2e_s;
    default: return -r->throughput_tokens_per_s;
    }
}

static int serve_better(const trn_plan_serve_result *a, const trn_plan_serve_result *b,
                        trn_plan_objective obj) {
    double sa = serve_score(a, obj), sb = serve_score(b, obj);
    if (sa != sb) return sa < sb;
    int64_t ma = a->cfg.tp * a->cfg.pp, mb = b->cfg.tp * b->cfg.pp;
    if (ma != mb) return ma < mb;
    if (a->mem.total != b->mem.total) return a->mem.total < b->mem.total;
    return cfg_less(&a->cfg, &b->cfg);
}

trn_status trn_plan_serve_search(const trn_plan_machine *m, const trn_model *model,
                                 const trn_plan_serve *w, const trn_plan_pins *pins,
                                 trn_plan_objective obj, trn_plan_serve_result *top, int k,
                                 int *found, trn_plan_search_stats *stats, trn_err *err) {
    *found = 0;
    if (stats) memset(stats, 0, sizeof *stats);
    if (k < 1) return trn_err_set(err, TRN_E_INVALID, "top: expected at least 1, got %d", k);
    plan_serve_ctx sc;
    trn_status s = plan_serve_prepare(model, w, &sc, err);
    if (s != TRN_OK) return s;
    trn_plan_pins none = {0, 0, 0, 0, 0, 0, -1, -1};
    if (!pins) pins = &none;
    if (pins->cp > 1)
        return trn_err_set(err, TRN_E_INVALID,
                           "cp %lld: context parallelism is modelled for training only (cp 1)",
                           (long long)pins->cp);
    const trn_model_config *mc = sc.pm.c;
    int64_t N = m->chips, dtp[MAXDIV], dpp[MAXDIV], dep[MAXDIV];
    int ntp = divisors(N, dtp, MAXDIV);
    trn_plan_serve_result r, closest;
    double closest_over = 0;
    int have_closest = 0;
    int64_t evaluated = 0, fitting = 0;
    for (int a = 0; a < ntp; a++) {
        int64_t tp = dtp[a];
        if (pins->tp && tp != pins->tp) continue;
        if (mc->heads % tp) continue;
        if (!mc->mla && mc->kv_heads % tp && tp % mc->kv_heads) continue;
        int npp = divisors(N / tp, dpp, MAXDIV);
        for (int c = 0; c < npp; c++) {
            int64_t pp = dpp[c];
            if (pins->pp && pp != pins->pp) continue;
            if (mc->layers % pp) continue;
            int64_t dp = N / tp / pp;
            if (pins->dp && dp != pins->dp) continue;
            if (w->batch > 0 && w->batch % dp) continue;
            int nep = mc->experts ? divisors(dp, dep, MAXDIV) : (dep[0] = 1, 1);
            for (int e = 0; e < nep; e++) {
                int64_t ep = dep[e];
                if (pins->ep && ep != pins->ep) continue;
                if (mc->experts && mc->experts % ep) continue;
                trn_plan_config cfg = {tp, pp, dp, ep, 1, 1, 0};
                if (plan_serve_eval(m, &sc, w, &cfg, &r, NULL) != TRN_OK) continue;
                evaluated++;
                if (!r.fits) {
                    /* closest: least memory over capacity; an SLO miss that fits counts as 1 */
                    double over = r.mem.total / r.mem.capacity;
                    if (!r.meets_slo && r.mem.total <= r.mem.capacity) over = 1;
                    if (!have_closest || over < closest_over) {
                        closest = r;
                        closest_over = over;
                        have_closest = 1;
                    }
                    continue;
                }
                fitting++;
                if (*found == k && !serve_better(&r, &top[k - 1], obj)) continue;
                int i = *found < k ? (*found)++ : k - 1;
                while (i > 0 && serve_better(&r, &top[i - 1], obj)) {
                    top[i] = top[i - 1];
                    i--;
                }
                top[i] = r;
            }
        }
    }
    if (stats) stats->evaluated = evaluated, stats->fitting = fitting;
    if (*found) return TRN_OK;
    if (!have_closest)
        return trn_err_set(err, TRN_E_INVALID,
                           "no legal configuration of %lld chips for %s within the pins: tp must "
                           "divide the heads, pp the layers, dp the batch",
                           (long long)N, mc->name);
    top[0] = closest;
    char why[256];
    trn_plan_memory_explain(&closest.mem, why, sizeof why);
    if (closest.mem.total <= closest.mem.capacity && !closest.meets_slo)
        return trn_err_set(err, TRN_E_RANGE,
                           "%s on %lld x %s meets no SLO: the closest configuration (tp %lld, pp "
                           "%lld, dp %lld, ep %lld) at batch 1 per replica has TTFT %.1f ms and "
                           "TPOT %.2f ms",
                           mc->name, (long long)N, m->device, (long long)closest.cfg.tp,
                           (long long)closest.cfg.pp, (long long)closest.cfg.dp,
                           (long long)closest.cfg.ep, closest.ttft_s * 1e3, closest.tpot_s * 1e3);
    return trn_err_set(err, TRN_E_RANGE,
                       "%s does not fit on %lld x %s: the closest configuration (tp %lld, pp %lld, "
                       "dp %lld, ep %lld) at batch %lld: %s",
                       mc->name, (long long)N, m->device, (long long)closest.cfg.tp,
                       (long long)closest.cfg.pp, (long long)closest.cfg.dp,
                       (long long)closest.cfg.ep, (long long)closest.batch, why);
}

/* ---- RL ---------------------------------------------------------------------------------- */

trn_status trn_plan_rl_search(const trn_plan_machine *m, const trn_model *model,
                              const trn_plan_rl *w, const trn_plan_pins *pins,
                              trn_plan_objective obj, trn_plan_rl_result *out, trn_err *err) {
    memset(out, 0, sizeof *out);
    if (w->rollouts < 1)
        return trn_err_set(err, TRN_E_INVALID, "batch (rollouts): expected at least 1, got %lld",
                           (long long)w->rollouts);
    /* all rollouts in one batch when they fit; else waves of the largest batch that fits */
    trn_plan_serve sw = {
        w->input_len, w->output_len, w->rollouts, TRN_PLAN_W_BF16, w->kv_dtype, 0, 0};
    trn_plan_pins sp = {0, 0, 0, 0, 0, 0, -1, -1};
    if (pins) sp = *pins, sp.cp = 0; /* serving has no context parallelism */
    int found = 0;
    trn_status s =
        trn_plan_serve_search(m, model, &sw, &sp, obj, &out->rollout, 1, &found, NULL, err);
    if (s == TRN_E_RANGE || s == TRN_E_INVALID) {
        sw.batch = 0;
        s = trn_plan_serve_search(m, model, &sw, &sp, obj, &out->rollout, 1, &found, NULL, err);
    }
    if (s != TRN_OK) return trn_err_prefix(err, "rollout: ");
    trn_plan_serve_result *r = &out->rollout;
    out->rollout_waves = (w->rollouts + r->batch - 1) / r->batch;
    out->rollout_s = (double)out->rollout_waves * r->e2e_s;
    out->rollout_bd = r->prefill;
    plan_bd_scale_add(&out->rollout_bd, &r->decode, (double)w->output_len - 1);
    trn_plan_train tw = {w->input_len + w->output_len, w->rollouts, w->precision, 0};
    s = trn_plan_train_search(m, model, &tw, pins, obj, &out->update, 1, &found, NULL, err);
    if (s != TRN_OK) return trn_err_prefix(err, "policy update: ");
    out->step_time_s = out->rollout_s + out->update.step_time_s;
    out->usd_per_step = out->step_time_s / 3600 * (double)m->chips * m->price_usd_per_chip_hour;
    out->energy_j_per_step =
        r->power_w * out->rollout_s + out->update.power_w * out->update.step_time_s;
    return TRN_OK;
}

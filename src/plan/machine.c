/* The planner's view of a system: per-chip figures from the catalog (peaks per data type,
 * HBM, the roofline efficiency factors, power model, price, PUE), the roofline op-cost
 * provider, the fabric for collectives, and the model summary. docs/planner.md "The machine".
 *
 * Deliberately left out: anything workload-specific (train.c, serve.c). */
#include "plan_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- roofline provider ------------------------------------------------------------------- */

/* Fraction of a tile-padded dimension that is useful: d / (ceil(d / T) T). */
static double quant(int64_t d, double tile) {
    if (d <= 0 || tile <= 1) return 1;
    double tiles = ceil((double)d / tile);
    return (double)d / (tiles * tile);
}

void trn_plan_roofline_time(const void *ctx, const trn_plan_op *op, trn_plan_op_time *out) {
    const trn_plan_roofline *r = ctx;
    double mem_bps = r->hbm_bw_bps * r->mem_eff;
    double tc = 0, tm = 0;
    switch (op->kind) {
    case TRN_PLAN_OP_GEMM: {
        double peak = r->peak_flops[op->dtype];
        if (peak <= 0) peak = r->peak_flops[TRN_HW_BF16];
        double m = (double)op->m, k = (double)op->k, n = (double)op->n;
        double flops = 2 * m * k * n * op->count;
        tc = flops / (peak * r->gemm_eff * quant(op->m, r->gemm_tile) * quant(op->n, r->gemm_tile));
        tm =
            (m * k * op->a_bytes + k * n * op->w_bytes + m * n * op->a_bytes) * op->count / mem_bps;
        break;
    }
    case TRN_PLAN_OP_ATTENTION:
        tc = op->flops / (r->peak_flops[TRN_HW_BF16] * r->attn_eff);
        tm = (op->kv_bytes + op->io_bytes) / mem_bps;
        break;
    case TRN_PLAN_OP_ELEMWISE: tm = op->kv_bytes / mem_bps; break;
    }
    out->memory_bound = tm > tc;
    out->seconds = tm > tc ? tm : tc;
}

/* ---- machine ----------------------------------------------------------------------------- */

static trn_status need(const trn_hw_num *v, const char *entry, const char *field, trn_err *err) {
    if (v->origin != TRN_HW_ABSENT) return TRN_OK;
    return trn_err_set(err, TRN_E_INVALID,
                       "%s: %s: the planner needs this catalog field (docs/hardware.md)", entry,
                       field);
}

trn_status trn_plan_machine_create(const trn_hw_system *sys, int64_t chips, trn_plan_machine **out,
                                   trn_err *err) {
    *out = NULL;
    if (!sys) return trn_err_set(err, TRN_E_INVALID, "plan: no system given");
    if (chips == 0) chips = (int64_t)sys->chips.value;
    if (chips < 1 || chips > 1000000)
        return trn_err_set(err, TRN_E_RANGE, "chips: expected 1 to 1000000, got %lld",
                           (long long)chips);
    const trn_hw_num *eff[5], *power, *price;
    const char *dev;
    if (sys->chip) {
        const trn_hw_chip *c = sys->chip;
        dev = c->name;
        eff[0] = &c->gemm_efficiency, eff[1] = &c->gemm_tile, eff[2] = &c->attn_efficiency;
        eff[3] = &c->mem_efficiency, eff[4] = &c->idle_power_frac;
        power = &c->power_w, price = &c->price_usd_per_chip_hour;
    } else {
        const trn_hw_gpu *g = sys->gpu;
        dev = g->name;
        eff[0] = &g->gemm_efficiency, eff[1] = &g->gemm_tile, eff[2] = &g->attn_efficiency;
        eff[3] = &g->mem_efficiency, eff[4] = &g->idle_power_frac;
        power = &g->power_w, price = &g->price_usd_per_gpu_hour;
    }
    static const char *const names[5] = {"gemm_efficiency", "gemm_tile", "attn_efficiency",
                                         "mem_efficiency", "idle_power_frac"};
    trn_status s;
    for (int i = 0; i < 5; i++)
        if ((s = need(eff[i], dev, names[i], err)) != TRN_OK) return s;
    if ((s = need(&sys->pue, sys->name, "pue", err)) != TRN_OK) return s;
    if (sys->pue.value < 1)
        return trn_err_set(err, TRN_E_INVALID, "%s: pue: expected >= 1, got %g", sys->name,
                           sys->pue.value);
    trn_plan_machine *m = calloc(1, sizeof *m);
    if (!m) return trn_err_set(err, TRN_E_NOMEM, "plan: out of memory");
    m->sys = sys;
    m->device = dev;
    m->chips = chips;
    m->domain = (int64_t)sys->scaleup_domain.value;
    for (int dt = 0; dt < TRN_HW_NDTYPES; dt++) {
        double p = 0;
        if (sys->chip) {
            p = trn_hw_chip_peak_flops(sys->chip, (trn_hw_dtype)dt);
            if (p <= 0 && sys->chip->published.peak_flops[dt].origin)
                p = sys->chip->published.peak_flops[dt].value;
        } else if (sys->gpu->peak_flops[dt].origin) {
            p = sys->gpu->peak_flops[dt].value;
        }
        m->roof.peak_flops[dt] = p;
    }
    m->hbm_bytes = sys->chip ? sys->chip->hbm_bytes.value : sys->gpu->hbm_bytes.value;
    m->roof.hbm_bw_bps = sys->chip ? sys->chip->hbm_bw_bps.value : sys->gpu->hbm_bw_bps.value;
    m->roof.gemm_eff = eff[0]->value;
    m->roof.gemm_tile = eff[1]->value;
    m->roof.attn_eff = eff[2]->value;
    m->roof.mem_eff = eff[3]->value;
    m->idle_power_frac = eff[4]->value;
    m->power_w = power->value;
    m->pue = sys->pue.value;
    m->price_usd_per_chip_hour = price->value;
    m->price_origin = price->origin;
    m->price_note = price->source;
    m->cost.name = "roofline";
    m->cost.time = trn_plan_roofline_time;
    m->cost.ctx = &m->roof;
    if ((s = trn_fabric_create(sys, chips, &m->fabric, err)) != TRN_OK) {
        free(m);
        return s;
    }
    *out = m;
    return TRN_OK;
}

void trn_plan_machine_destroy(trn_plan_machine *m) {
    if (!m) return;
    trn_fabric_destroy(m->fabric);
    free(m);
}

double plan_coll(const trn_plan_machine *m, trn_coll c, int64_t size, int64_t stride,
                 double bytes) {
    if (size <= 1 || bytes <= 0) return 0;
    trn_fabric_group g = {size, stride};
    trn_coll_cost cost;
    if (trn_fabric_collective(m->fabric, c, &g, bytes, TRN_ALGO_AUTO, &cost, NULL) != TRN_OK)
        return HUGE_VAL; /* a group the fabric cannot place: never chosen */
    return cost.time_s;
}

double plan_power_w(const trn_plan_machine *m, double u) {
    if (u < 0) u = 0;
    if (u > 1) u = 1;
    double per_chip = m->power_w * (m->idle_power_frac + (1 - m->idle_power_frac) * u);
    return per_chip * (double)m->chips * m->pue;
}

double plan_bd_sum(const trn_plan_breakdown *b) {
    return b->compute_s + b->memory_s + b->tp_comm_s + b->pp_comm_s + b->dp_comm_s + b->ep_comm_s +
           b->cp_comm_s + b->bubble_s;
}

void plan_bd_scale_add(trn_plan_breakdown *d, const trn_plan_breakdown *s, double k) {
    d->compute_s += k * s->compute_s;
    d->memory_s += k * s->memory_s;
    d->tp_comm_s += k * s->tp_comm_s;
    d->pp_comm_s += k * s->pp_comm_s;
    d->dp_comm_s += k * s->dp_comm_s;
    d->ep_comm_s += k * s->ep_comm_s;
    d->cp_comm_s += k * s->cp_comm_s;
    d->bubble_s += k * s->bubble_s;
}

const char *trn_plan_limiter(const trn_plan_breakdown *b) {
    double net = b->tp_comm_s + b->pp_comm_s + b->dp_comm_s + b->ep_comm_s + b->cp_comm_s;
    if (b->compute_s >= b->memory_s && b->compute_s >= net && b->compute_s >= b->bubble_s)
        return "compute";
    if (b->memory_s >= net && b->memory_s >= b->bubble_s) return "memory bandwidth";
    if (net >= b->bubble_s) return "network";
    return "pipeline bubble";
}

const char *trn_plan_recompute_name(int r) {
    switch (r) {
    case TRN_PLAN_RECOMPUTE_NONE: return "none";
    case TRN_PLAN_RECOMPUTE_SELECTIVE: return "selective";
    case TRN_PLAN_RECOMPUTE_FULL: return "full";
    }
    return "?";
}

int trn_plan_dtype_from_name(const char *name, trn_hw_dtype *out) {
    static const struct {
        const char *n;
        trn_hw_dtype dt;
    } t[] = {{"bf16", TRN_HW_BF16}, {"fp8", TRN_HW_FP8}, {"mxfp8", TRN_HW_MXFP8}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(name, t[i].n) == 0) {
            *out = t[i].dt;
            return 1;
        }
    return 0;
}

char *trn_plan_memory_explain(const trn_plan_memory *mem, char *buf, size_t n) {
    static const char *const names[6] = {"weights",     "gradients", "optimizer state",
                                         "activations", "KV cache",  "workspace"};
    const double v[6] = {mem->weights,     mem->grads,    mem->optimizer,
                         mem->activations, mem->kv_cache, mem->workspace};
    static const int plural[6] = {1, 1, 0, 1, 0, 0};
    int big = 0;
    for (int i = 1; i < 6; i++)
        if (v[i] > v[big]) big = i;
    double short_by = mem->total - mem->capacity;
    if (short_by > 0)
        snprintf(buf, n,
                 "chips of pipeline stage %d need %.1f GiB but have %.1f GiB of HBM (%.1f GiB "
                 "short); %s dominate%s (%.1f GiB)",
                 mem->stage, mem->total / GIB, mem->capacity / GIB, short_by / GIB, names[big],
                 plural[big] ? "" : "s", v[big] / GIB);
    else
        snprintf(buf, n,
                 "chips of pipeline stage %d use %.1f of %.1f GiB of HBM; %s dominate%s (%.1f GiB)",
                 mem->stage, mem->total / GIB, mem->capacity / GIB, names[big],
                 plural[big] ? "" : "s", v[big] / GIB);
    return buf;
}

/* ---- model summary ----------------------------------------------------------------------- */

void plan_model_summary(const trn_model *model, plan_model *pm) {
    const trn_model_config *c = trn_model_config_of(model);
    memset(pm, 0, sizeof *pm);
    pm->c = c;
    pm->layers = (double)c->layers;
    pm->hidden = (double)c->hidden;
    pm->vocab = (double)c->vocab;
    pm->heads = (double)c->heads;
    pm->kv_heads = (double)c->kv_heads;
    pm->n_experts = (double)c->experts;
    pm->topk = (double)c->experts_per_token;
    pm->mlp_mats = c->gated_mlp ? 3 : 2;
    pm->kv_shards = c->mla ? 1 : (double)c->kv_heads;
    for (int64_t i = 0; i < c->layers; i++) {
        trn_model_layer l;
        if (trn_model_layer_at(model, i, &l, NULL) != TRN_OK) continue;
        pm->attn += (double)l.attn_params;
        pm->norms += (double)l.norm_params;
        pm->kv_elems += (double)l.kv_elems;
        if (l.moe && c->experts > c->experts_per_token) {
            double pe = (double)(l.mlp_params - l.mlp_active_params) /
                        (double)(c->experts - c->experts_per_token);
            pm->per_expert = pe;
            pm->experts += pe * (double)c->experts;
            pm->expert_active += pe * (double)c->experts_per_token;
            pm->dense_mlp += (double)l.mlp_params - pe * (double)c->experts;
            pm->moe_layers += 1;
        } else {
            pm->dense_mlp += (double)l.mlp_params;
        }
    }
    trn_model_params p;
    trn_model_params_of(model, &p);
    pm->embed = (double)p.embed;
    pm->head = (double)c->vocab * (double)c->hidden;
    pm->norms = (double)p.norms;
}

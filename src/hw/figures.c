/* Derived figures: what follows from the catalog's parameters by multiplication (TensorE
 * peak = PE rows x columns x 2 FLOP x clock x rate; chip = cores x core; system = chips x
 * chip), listed beside the figure the vendor published so the two can be compared. The
 * simulator uses the derived figures; trainium-facts.md §1.2 explains why AWS's chip totals
 * can differ. */
#include "hw_impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

double trn_hw_core_peak_flops(const trn_hw_core *core, trn_hw_dtype dt) {
    if (!core || (unsigned)dt >= TRN_HW_NDTYPES || !core->tensor_rate[dt].origin) return 0;
    return core->pe_rows.value * core->pe_cols.value * 2.0 * core->tensor_hz.value *
           core->tensor_rate[dt].value;
}

double trn_hw_chip_peak_flops(const trn_hw_chip *chip, trn_hw_dtype dt) {
    if (!chip) return 0;
    return chip->cores.value * trn_hw_core_peak_flops(chip->core, dt);
}

static double unit_peak(const trn_hw_system *sys, trn_hw_dtype dt) {
    if (sys->chip) return trn_hw_chip_peak_flops(sys->chip, dt);
    if (sys->gpu && (unsigned)dt < TRN_HW_NDTYPES && sys->gpu->peak_flops[dt].origin)
        return sys->gpu->peak_flops[dt].value;
    return 0;
}

double trn_hw_system_peak_flops(const trn_hw_system *sys, trn_hw_dtype dt) {
    return sys ? sys->chips.value * unit_peak(sys, dt) : 0;
}

double trn_hw_system_hbm_bytes(const trn_hw_system *sys) {
    if (!sys) return 0;
    return sys->chips.value * (sys->chip ? sys->chip->hbm_bytes.value : sys->gpu->hbm_bytes.value);
}

double trn_hw_system_hbm_bw_bps(const trn_hw_system *sys) {
    if (!sys) return 0;
    return sys->chips.value *
           (sys->chip ? sys->chip->hbm_bw_bps.value : sys->gpu->hbm_bw_bps.value);
}

double trn_hw_system_power_w(const trn_hw_system *sys) {
    if (!sys) return 0;
    return sys->chips.value * (sys->chip ? sys->chip->power_w.value : sys->gpu->power_w.value);
}

double trn_hw_system_price_usd_per_hour(const trn_hw_system *sys) {
    if (!sys) return 0;
    return sys->chips.value * (sys->chip ? sys->chip->price_usd_per_chip_hour.value
                                         : sys->gpu->price_usd_per_gpu_hour.value);
}

double trn_hw_dma_buffer_overhead_ns(const trn_hw_core *core) {
    /* eff(b) = (b/bw) / (t_d + b/bw) = e at b = saturation  =>  t_d = (b/bw)(1/e - 1) */
    double t_sat_ns = core->dma_saturation_bytes.value / core->dma_engine_practical_bps.value * 1e9;
    return t_sat_ns * (1.0 / core->dma_sat_efficiency.value - 1.0);
}

double trn_hw_dma_efficiency(const trn_hw_core *core, double bytes) {
    if (bytes <= 0) return 0;
    double t_ns = bytes / core->dma_engine_practical_bps.value * 1e9;
    return t_ns / (trn_hw_dma_buffer_overhead_ns(core) + t_ns);
}

/* ---- the figure lists -------------------------------------------------------------------- */

typedef struct figs {
    trn_hw_figure *rows;
    int n;
} figs;

#if defined(__GNUC__)
__attribute__((format(printf, 6, 7)))
#endif
static void
add(figs *f, const char *key, const char *label, trn_hw_unit unit, double derived, const char *fmt,
    ...) {
    if (f->n >= TRN_HW_MAX_FIGURES) return;
    trn_hw_figure *r = &f->rows[f->n++];
    memset(r, 0, sizeof *r);
    r->key = key;
    r->label = label;
    r->unit = unit;
    r->derived = derived;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->formula, sizeof r->formula, fmt, ap);
    va_end(ap);
}

static int assumed(const trn_hw_num *x) {
    return x->origin == TRN_HW_ASSUMED;
}

/* Marks the last row as resting on assumed inputs when `a` is set. */
static void mark(figs *f, int a) {
    if (f->n && a) f->rows[f->n - 1].assumed_inputs = 1;
}

static int core_peak_assumed(const trn_hw_core *c, int d) {
    return assumed(&c->tensor_hz) || assumed(&c->pe_rows) || assumed(&c->pe_cols) ||
           assumed(&c->tensor_rate[d]);
}

static int chip_peak_assumed(const trn_hw_chip *c, int d) {
    return assumed(&c->cores) || core_peak_assumed(c->core, d);
}

/* Attaches the published figure to the last row when it was given. */
static void pub(figs *f, const trn_hw_num *n) {
    if (f->n && n && n->origin) f->rows[f->n - 1].published = n;
}

static const char *const peak_keys[TRN_HW_NDTYPES] = {
    "peak_flops.fp32",  "peak_flops.tf32", "peak_flops.bf16",
    "peak_flops.fp16",  "peak_flops.fp8",  "peak_flops.mxfp8",
    "peak_flops.mxfp4", "peak_flops.int8", "peak_flops.sparse",
};
static const char *const peak_labels[TRN_HW_NDTYPES] = {
    "FP32 peak",  "TF32 peak",  "BF16 peak", "FP16 peak",          "FP8 peak",
    "MXFP8 peak", "MXFP4 peak", "INT8 peak", "sparse 16-bit peak",
};

static void core_figs(figs *f, const trn_hw_core *c) {
    char a[48], b[48];
    for (int d = 0; d < TRN_HW_NDTYPES; d++) {
        const trn_hw_num *p = &c->published.tensor_peak_flops[d];
        if (!c->tensor_rate[d].origin && !p->origin) continue;
        if (c->tensor_rate[d].origin)
            add(f, peak_keys[d], peak_labels[d], TRN_HW_UNIT_FLOPS,
                trn_hw_core_peak_flops(c, (trn_hw_dtype)d), "%gx%g PEs x 2 x %s x %g",
                c->pe_rows.value, c->pe_cols.value,
                trn_hw_format(c->tensor_hz.value, TRN_HW_UNIT_HZ, a, sizeof a),
                c->tensor_rate[d].value);
        else
            add(f, peak_keys[d], peak_labels[d], TRN_HW_UNIT_FLOPS, 0, "no %s TensorE rate",
                trn_hw_dtype_name((trn_hw_dtype)d));
        mark(f, c->tensor_rate[d].origin && core_peak_assumed(c, d));
        pub(f, p);
    }
    add(f, "sbuf_bytes", "SBUF", TRN_HW_UNIT_BYTES,
        c->partitions.value * c->sbuf_bytes_per_partition.value, "%g partitions x %s",
        c->partitions.value,
        trn_hw_format(c->sbuf_bytes_per_partition.value, TRN_HW_UNIT_BYTES, a, sizeof a));
    mark(f, assumed(&c->partitions) || assumed(&c->sbuf_bytes_per_partition));
    pub(f, &c->published.sbuf_bytes);
    add(f, "psum_bytes", "PSUM", TRN_HW_UNIT_BYTES,
        c->partitions.value * c->psum_bytes_per_partition.value, "%g partitions x %s",
        c->partitions.value,
        trn_hw_format(c->psum_bytes_per_partition.value, TRN_HW_UNIT_BYTES, a, sizeof a));
    mark(f, assumed(&c->partitions) || assumed(&c->psum_bytes_per_partition));
    pub(f, &c->published.psum_bytes);
    add(f, "dma_bps", "DMA bandwidth, practical", TRN_HW_UNIT_BPS,
        c->dma_engines.value * c->dma_engine_practical_bps.value, "%g engines x %s",
        c->dma_engines.value,
        trn_hw_format(c->dma_engine_practical_bps.value, TRN_HW_UNIT_BPS, a, sizeof a));
    mark(f, assumed(&c->dma_engines) || assumed(&c->dma_engine_practical_bps));
    pub(f, &c->published.dma_bps);
    add(f, "dma_bps_theoretical", "DMA bandwidth, theoretical", TRN_HW_UNIT_BPS,
        c->dma_engines.value * c->dma_engine_bps.value, "%g engines x %s", c->dma_engines.value,
        trn_hw_format(c->dma_engine_bps.value, TRN_HW_UNIT_BPS, a, sizeof a));
    mark(f, assumed(&c->dma_engines) || assumed(&c->dma_engine_bps));
    add(f, "vector_elems_per_s", "VectorE BF16 elements/s", TRN_HW_UNIT_PER_S,
        c->vector_elems_per_cycle_16bit.value * c->vector_hz.value, "%g elem/cycle x %s",
        c->vector_elems_per_cycle_16bit.value,
        trn_hw_format(c->vector_hz.value, TRN_HW_UNIT_HZ, a, sizeof a));
    mark(f, assumed(&c->vector_elems_per_cycle_16bit) || assumed(&c->vector_hz));
    add(f, "dma_buffer_overhead_ns", "DMA per-buffer overhead", TRN_HW_UNIT_NS,
        trn_hw_dma_buffer_overhead_ns(c), "%s/partition at %g efficiency",
        trn_hw_format(c->dma_saturation_bytes.value, TRN_HW_UNIT_BYTES, a, sizeof a),
        c->dma_sat_efficiency.value);
    mark(f, 1) /* dma_sat_efficiency is an assumption everywhere */;
    add(f, "dma_efficiency_512", "DMA efficiency at 512 B/partition", TRN_HW_UNIT_RATIO,
        trn_hw_dma_efficiency(c, 512), "overhead %s",
        trn_hw_format(trn_hw_dma_buffer_overhead_ns(c), TRN_HW_UNIT_NS, b, sizeof b));
    mark(f, 1);
}

static void chip_figs(figs *f, const trn_hw_chip *c) {
    char a[48], b[48];
    const trn_hw_core *core = c->core;
    for (int d = 0; d < TRN_HW_NDTYPES; d++) {
        const trn_hw_num *p = &c->published.peak_flops[d];
        if (!core->tensor_rate[d].origin && !p->origin) continue;
        double per = trn_hw_core_peak_flops(core, (trn_hw_dtype)d);
        if (per > 0)
            add(f, peak_keys[d], peak_labels[d], TRN_HW_UNIT_FLOPS, c->cores.value * per,
                "%g cores x %s", c->cores.value,
                trn_hw_format(per, TRN_HW_UNIT_FLOPS, a, sizeof a));
        else
            add(f, peak_keys[d], peak_labels[d], TRN_HW_UNIT_FLOPS, 0, "no %s TensorE rate in %s",
                trn_hw_dtype_name((trn_hw_dtype)d), core->name);
        mark(f, per > 0 && chip_peak_assumed(c, d));
        pub(f, p);
    }
    double sbuf = core->partitions.value * core->sbuf_bytes_per_partition.value;
    add(f, "sbuf_bytes", "SBUF", TRN_HW_UNIT_BYTES, c->cores.value * sbuf, "%g cores x %s",
        c->cores.value, trn_hw_format(sbuf, TRN_HW_UNIT_BYTES, a, sizeof a));
    mark(f, assumed(&c->cores) || assumed(&core->sbuf_bytes_per_partition));
    pub(f, &c->published.sbuf_bytes);
    double dma = core->dma_engines.value * core->dma_engine_bps.value;
    add(f, "dma_bps", "DMA bandwidth, theoretical", TRN_HW_UNIT_BPS, c->cores.value * dma,
        "%g cores x %g engines x %s", c->cores.value, core->dma_engines.value,
        trn_hw_format(core->dma_engine_bps.value, TRN_HW_UNIT_BPS, a, sizeof a));
    mark(f, assumed(&c->cores) || assumed(&core->dma_engine_bps));
    pub(f, &c->published.dma_bps);
    add(f, "neuronlink_link_bps", "NeuronLink per link", TRN_HW_UNIT_BPS,
        c->neuronlink_bw_bps.value / c->neuronlink_links.value, "%s / %g links",
        trn_hw_format(c->neuronlink_bw_bps.value, TRN_HW_UNIT_BPS, a, sizeof a),
        c->neuronlink_links.value);
    mark(f, assumed(&c->neuronlink_bw_bps) || assumed(&c->neuronlink_links));
    add(f, "hbm_bytes_per_core", "HBM per core", TRN_HW_UNIT_BYTES,
        c->hbm_bytes.value / c->cores.value, "%s / %g cores",
        trn_hw_format(c->hbm_bytes.value, TRN_HW_UNIT_BYTES, a, sizeof a), c->cores.value);
    mark(f, assumed(&c->hbm_bytes) || assumed(&c->cores));
    double bf16 = trn_hw_chip_peak_flops(c, TRN_HW_BF16);
    add(f, "bf16_flop_per_hbm_byte", "BF16 FLOP per HBM byte", TRN_HW_UNIT_FLOP_PER_BYTE,
        bf16 / c->hbm_bw_bps.value, "%s / %s", trn_hw_format(bf16, TRN_HW_UNIT_FLOPS, a, sizeof a),
        trn_hw_format(c->hbm_bw_bps.value, TRN_HW_UNIT_BPS, b, sizeof b));
    mark(f, chip_peak_assumed(c, TRN_HW_BF16) || assumed(&c->hbm_bw_bps));
    add(f, "bf16_flops_per_w", "BF16 FLOP/s per W", TRN_HW_UNIT_FLOPS_PER_W,
        bf16 / c->power_w.value, "%s / %g W", trn_hw_format(bf16, TRN_HW_UNIT_FLOPS, a, sizeof a),
        c->power_w.value);
    mark(f, chip_peak_assumed(c, TRN_HW_BF16) || assumed(&c->power_w));
}

static void gpu_figs(figs *f, const trn_hw_gpu *g) {
    char a[48], b[48];
    double bf16 = g->peak_flops[TRN_HW_BF16].value;
    if (!g->peak_flops[TRN_HW_BF16].origin) return;
    add(f, "bf16_flop_per_hbm_byte", "BF16 FLOP per HBM byte", TRN_HW_UNIT_FLOP_PER_BYTE,
        bf16 / g->hbm_bw_bps.value, "%s / %s", trn_hw_format(bf16, TRN_HW_UNIT_FLOPS, a, sizeof a),
        trn_hw_format(g->hbm_bw_bps.value, TRN_HW_UNIT_BPS, b, sizeof b));
    mark(f, assumed(&g->hbm_bw_bps));
    add(f, "bf16_flops_per_w", "BF16 FLOP/s per W", TRN_HW_UNIT_FLOPS_PER_W,
        bf16 / g->power_w.value, "%s / %g W", trn_hw_format(bf16, TRN_HW_UNIT_FLOPS, a, sizeof a),
        g->power_w.value);
    mark(f, assumed(&g->power_w));
}

static void system_figs(figs *f, const trn_hw_system *s) {
    char a[48];
    const char *unit = s->chip_name;
    const trn_hw_chip *c = s->chip;
    const trn_hw_gpu *g = s->gpu;
    double n = s->chips.value;
    int an = assumed(&s->chips);
    for (int d = 0; d < TRN_HW_NDTYPES; d++) {
        const trn_hw_num *p = &s->published.peak_flops[d];
        double per = unit_peak(s, (trn_hw_dtype)d);
        if (per <= 0 && !p->origin) continue;
        if (per > 0)
            add(f, peak_keys[d], peak_labels[d], TRN_HW_UNIT_FLOPS, n * per, "%g x %s %s", n, unit,
                trn_hw_format(per, TRN_HW_UNIT_FLOPS, a, sizeof a));
        else
            add(f, peak_keys[d], peak_labels[d], TRN_HW_UNIT_FLOPS, 0, "no %s rate for %s",
                trn_hw_dtype_name((trn_hw_dtype)d), unit);
        mark(f, per > 0 && (an || (c ? chip_peak_assumed(c, d) : assumed(&g->peak_flops[d]))));
        pub(f, p);
    }
    const trn_hw_num *hbm = c ? &c->hbm_bytes : &g->hbm_bytes;
    add(f, "hbm_bytes", "HBM", TRN_HW_UNIT_BYTES, trn_hw_system_hbm_bytes(s), "%g x %s", n,
        trn_hw_format(hbm->value, TRN_HW_UNIT_BYTES, a, sizeof a));
    mark(f, an || assumed(hbm));
    pub(f, &s->published.hbm_bytes);
    const trn_hw_num *bw = c ? &c->hbm_bw_bps : &g->hbm_bw_bps;
    add(f, "hbm_bw_bps", "HBM bandwidth", TRN_HW_UNIT_BPS, trn_hw_system_hbm_bw_bps(s), "%g x %s",
        n, trn_hw_format(bw->value, TRN_HW_UNIT_BPS, a, sizeof a));
    mark(f, an || assumed(bw));
    pub(f, &s->published.hbm_bw_bps);
    if (s->efa_bps.origin) {
        add(f, "efa_bps", "EFA bandwidth", TRN_HW_UNIT_BPS, n * s->efa_bps.value, "%g x %s", n,
            trn_hw_format(s->efa_bps.value, TRN_HW_UNIT_BPS, a, sizeof a));
        mark(f, an || assumed(&s->efa_bps));
        pub(f, &s->published.efa_bps);
    }
    add(f, "scaleup_bps", "scale-up bandwidth, all chips", TRN_HW_UNIT_BPS,
        n * s->scaleup_bw_bps.value, "%g x %s", n,
        trn_hw_format(s->scaleup_bw_bps.value, TRN_HW_UNIT_BPS, a, sizeof a));
    mark(f, an || assumed(&s->scaleup_bw_bps));
    const trn_hw_num *w = c ? &c->power_w : &g->power_w;
    add(f, "power_w", "accelerator power", TRN_HW_UNIT_W, trn_hw_system_power_w(s), "%g x %g W", n,
        w->value);
    mark(f, an || assumed(w));
    const trn_hw_num *usd = c ? &c->price_usd_per_chip_hour : &g->price_usd_per_gpu_hour;
    add(f, "price_usd_per_hour", "price", TRN_HW_UNIT_USD_PER_HOUR,
        trn_hw_system_price_usd_per_hour(s), "%g x %s", n,
        trn_hw_format(usd->value, TRN_HW_UNIT_USD_PER_HOUR, a, sizeof a));
    mark(f, an || assumed(usd));
    pub(f, &s->published.price_usd_per_hour);
    if (s->node)
        add(f, "nodes", "nodes", TRN_HW_UNIT_COUNT, n / s->node->chips.value,
            "%g chips / %g per %s", n, s->node->chips.value, s->node->name);
}

int trn_hw_figures(const trn_hw *hw, trn_hw_entry e, trn_hw_figure *rows) {
    (void)hw;
    figs f = {rows, 0};
    if (!e.u.core) return 0;
    switch (e.kind) {
    case TRN_HW_KIND_CORE: core_figs(&f, e.u.core); break;
    case TRN_HW_KIND_CHIP: chip_figs(&f, e.u.chip); break;
    case TRN_HW_KIND_SYSTEM: system_figs(&f, e.u.system); break;
    case TRN_HW_KIND_GPU: gpu_figs(&f, e.u.gpu); break;
    }
    return f.n;
}

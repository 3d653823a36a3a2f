/* The catalog for people: unit formatting, the overview tables `trnsim info` prints, and one
 * entry in detail with every parameter's provenance and the derived figures beside the
 * published ones. Machine-readable output is in json.c. */
#include "hw_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* v is a short exact figure in `unit`: from 1 to 9999 with at most 4 significant digits
 * ("20.25 TiB", "820 GiB/s", "2.9 TB/s"). */
static int exact_in(double v, double unit) {
    double x = v / unit;
    if (x < 1 || x >= 10000) return 0;
    double scale = x < 10 ? 1000 : x < 100 ? 100 : x < 1000 ? 10 : 1;
    x *= scale;
    return fabs(x - nearbyint(x)) <= 1e-9 * x;
}

#define NUNITS 6
static const double bin_units[NUNITS] = {1152921504606846976.0, 1125899906842624.0, 1099511627776.0,
                                         1073741824.0,          1048576.0,          1024.0};
static const char *const bin_names[NUNITS] = {"EiB", "PiB", "TiB", "GiB", "MiB", "KiB"};
static const double dec_units[NUNITS] = {1e18, 1e15, 1e12, 1e9, 1e6, 1e3};
static const char *const dec_names[NUNITS] = {"EB", "PB", "TB", "GB", "MB", "kB"};

/* Bytes (or bytes/s with suffix "/s"): the binary or decimal unit that states v exactly,
 * trying binary first for sizes and decimal first for rates. */
static char *fmt_bytes(double v, int rate, char *buf, size_t n) {
    const char *suf = rate ? "/s" : "";
    for (int pass = 0; pass < 2; pass++) {
        int bin = rate ? pass == 1 : pass == 0;
        for (int i = 0; i < NUNITS; i++) {
            double u = bin ? bin_units[i] : dec_units[i];
            if (exact_in(v, u)) {
                snprintf(buf, n, "%.6g %s%s", v / u, bin ? bin_names[i] : dec_names[i], suf);
                return buf;
            }
        }
    }
    for (int i = 0; i < NUNITS; i++)
        if (v >= dec_units[i]) {
            snprintf(buf, n, "%.4g %s%s", v / dec_units[i], dec_names[i], suf);
            return buf;
        }
    snprintf(buf, n, "%.4g B%s", v, suf);
    return buf;
}

static char *fmt_si(double v, const char *unit, char *buf, size_t n) {
    static const double u[] = {1e18, 1e15, 1e12, 1e9, 1e6, 1e3};
    static const char *const p[] = {"E", "P", "T", "G", "M", "k"};
    for (int i = 0; i < 6; i++)
        if (fabs(v) >= u[i]) {
            snprintf(buf, n, "%.4g %s%s", v / u[i], p[i], unit);
            return buf;
        }
    snprintf(buf, n, "%.4g %s", v, unit);
    return buf;
}

char *trn_hw_format(double v, trn_hw_unit unit, char *buf, size_t n) {
    switch (unit) {
    case TRN_HW_UNIT_BYTES: return fmt_bytes(v, 0, buf, n);
    case TRN_HW_UNIT_BPS: return fmt_bytes(v, 1, buf, n);
    case TRN_HW_UNIT_HZ: return fmt_si(v, "Hz", buf, n);
    case TRN_HW_UNIT_FLOPS: return fmt_si(v, "FLOP/s", buf, n);
    case TRN_HW_UNIT_W:
        return v >= 1e4 ? fmt_si(v, "W", buf, n) : (snprintf(buf, n, "%.4g W", v), buf);
    case TRN_HW_UNIT_USD_PER_HOUR:
        if (v >= 1e6)
            snprintf(buf, n, "$%.4gM/h", v / 1e6);
        else if (v >= 1e4)
            snprintf(buf, n, "$%.4gk/h", v / 1e3);
        else
            snprintf(buf, n, "$%.2f/h", v);
        return buf;
    case TRN_HW_UNIT_CYCLES: snprintf(buf, n, "%g cycles", v); return buf;
    case TRN_HW_UNIT_NS:
        if (v >= 1e6)
            snprintf(buf, n, "%.4g ms", v / 1e6);
        else if (v >= 1e3)
            snprintf(buf, n, "%.4g us", v / 1e3);
        else
            snprintf(buf, n, "%.4g ns", v);
        return buf;
    case TRN_HW_UNIT_ELEMS_PER_CYCLE: snprintf(buf, n, "%g elem/cycle", v); return buf;
    case TRN_HW_UNIT_FLOP_PER_BYTE: snprintf(buf, n, "%.4g FLOP/B", v); return buf;
    case TRN_HW_UNIT_FLOPS_PER_W: snprintf(buf, n, "%.4g GFLOP/s/W", v / 1e9); return buf;
    case TRN_HW_UNIT_RATIO: snprintf(buf, n, "%.4g", v); return buf;
    case TRN_HW_UNIT_PER_S: return fmt_si(v, "/s", buf, n);
    case TRN_HW_UNIT_COUNT: break;
    }
    snprintf(buf, n, "%.10g", v);
    return buf;
}

/* ---- a small table printer: cells, widths from the content ------------------------------ */

#define TCOLS 12
#define TROWS 40
#define TCELL 48

typedef struct table {
    int ncols, nrows;
    char cell[TROWS][TCOLS][TCELL];
} table;

static void row(table *t, const char *const *cells) {
    if (t->nrows >= TROWS) return;
    for (int c = 0; c < t->ncols; c++)
        snprintf(t->cell[t->nrows][c], TCELL, "%s", cells[c] ? cells[c] : "");
    t->nrows++;
}

static void print_tab(const table *t, FILE *f) {
    int w[TCOLS] = {0};
    for (int r = 0; r < t->nrows; r++)
        for (int c = 0; c < t->ncols; c++) {
            int l = (int)strlen(t->cell[r][c]);
            if (l > w[c]) w[c] = l;
        }
    for (int r = 0; r < t->nrows; r++) {
        char line[TCOLS * (TCELL + 2) + 4];
        size_t len = 0;
        for (int c = 0; c < t->ncols; c++)
            len += (size_t)snprintf(line + len, sizeof line - len, "  %-*s", w[c], t->cell[r][c]);
        while (len && line[len - 1] == ' ') line[--len] = '\0';
        fprintf(f, "%s\n", line);
    }
}

/* A number with '*' when assumed. */
static const char *val(const trn_hw_num *x, trn_hw_unit unit, char *buf, size_t n) {
    if (!x->origin) return "-";
    trn_hw_format(x->value, unit, buf, n);
    if (x->origin == TRN_HW_ASSUMED) strncat(buf, "*", n - strlen(buf) - 1);
    return buf;
}

/* FLOP/s without the unit, for table cells: "78.64T", "2.517P". */
static char *short_flops(double v, char *buf, size_t n) {
    static const double u[] = {1e18, 1e15, 1e12, 1e9};
    static const char *const p[] = {"E", "P", "T", "G"};
    for (int i = 0; i < 4; i++)
        if (v >= u[i]) {
            snprintf(buf, n, "%.4g%s", v / u[i], p[i]);
            return buf;
        }
    snprintf(buf, n, "%.4g", v);
    return buf;
}

/* A derived peak, with the published one in brackets when they differ by more than 0.5%. */
static const char *peak(double derived, const trn_hw_num *published, char *buf, size_t n) {
    char a[20], b[20];
    int has_pub = published && published->origin;
    if (derived <= 0 && !has_pub) return "-";
    if (has_pub) short_flops(published->value, b, sizeof b);
    if (derived <= 0) {
        snprintf(buf, n, "- [%s]", b);
        return buf;
    }
    short_flops(derived, a, sizeof a);
    if (has_pub && fabs(derived - published->value) > 0.005 * published->value)
        snprintf(buf, n, "%s [%s]", a, b);
    else
        snprintf(buf, n, "%s", a);
    return buf;
}

static const char *topo_text(const trn_hw_topology *t, char *buf, size_t n) {
    switch (t->kind) {
    case TRN_HW_TOPO_TORUS: {
        size_t len = (size_t)snprintf(buf, n, "torus ");
        for (int d = 0; d < t->ndims && len < n; d++)
            len += (size_t)snprintf(buf + len, n - len, d ? "x%d" : "%d", t->dims[d]);
        break;
    }
    case TRN_HW_TOPO_SWITCH:
        snprintf(buf, n, "switch, %d level%s", t->switch_levels, t->switch_levels > 1 ? "s" : "");
        break;
    case TRN_HW_TOPO_RING: snprintf(buf, n, "ring"); break;
    case TRN_HW_TOPO_FABRIC: snprintf(buf, n, "EFA fabric"); break;
    }
    return buf;
}

static const char *name_cell(const char *name, int projected, char *buf, size_t n) {
    snprintf(buf, n, "%s%s", name, projected ? " (projected)" : "");
    return buf;
}

void trn_hw_print_table(const trn_hw *hw, FILE *f) {
    char c[TCOLS][TCELL];
    table *t = calloc(1, sizeof *t);
    if (!t) return;
    fprintf(
        f,
        "Hardware catalog: %d NeuronCore versions, %d chips, %d systems, %d GPUs.\n"
        "Trainium peaks are derived from the engines (cores x 128x128 PEs x 2 x clock x rate),\n"
        "with the published figure in [brackets] where it differs by more than 0.5%%.\n"
        "* = assumed, not published (the reason is in `trnsim info NAME`).\n",
        hw->n[0], hw->n[1], hw->n[2], hw->n[3]);

    fprintf(f, "\nNeuronCore versions\n");
    t->ncols = 10;
    t->nrows = 0;
    row(t, (const char *const[]){"name", "chips", "TensorE", "BF16/core", "FP8/core", "MX/core",
                                 "SBUF", "PSUM", "DMA/core", "DMA engines"});
    for (int i = 0; i < hw->n[TRN_HW_KIND_CORE]; i++) {
        const trn_hw_core *k = hw->items[TRN_HW_KIND_CORE][i];
        char chips[TCELL] = "";
        for (int j = 0; j < hw->n[TRN_HW_KIND_CHIP]; j++) {
            const trn_hw_chip *ch = hw->items[TRN_HW_KIND_CHIP][j];
            if (ch->core == k)
                snprintf(chips + strlen(chips), sizeof chips - strlen(chips), "%s%s",
                         chips[0] ? "," : "", ch->name);
        }
        trn_hw_num sb = k->sbuf_bytes_per_partition, ps = k->psum_bytes_per_partition,
                   dma = k->dma_engine_practical_bps;
        sb.value *= k->partitions.value;
        ps.value *= k->partitions.value;
        dma.value *= k->dma_engines.value;
        row(t,
            (const char *const[]){name_cell(k->name, k->projected, c[0], TCELL), chips,
                                  val(&k->tensor_hz, TRN_HW_UNIT_HZ, c[2], TCELL),
                                  peak(trn_hw_core_peak_flops(k, TRN_HW_BF16),
                                       &k->published.tensor_peak_flops[TRN_HW_BF16], c[3], TCELL),
                                  peak(trn_hw_core_peak_flops(k, TRN_HW_FP8),
                                       &k->published.tensor_peak_flops[TRN_HW_FP8], c[4], TCELL),
                                  peak(trn_hw_core_peak_flops(k, TRN_HW_MXFP8),
                                       &k->published.tensor_peak_flops[TRN_HW_MXFP8], c[5], TCELL),
                                  val(&sb, TRN_HW_UNIT_BYTES, c[6], TCELL),
                                  val(&ps, TRN_HW_UNIT_BYTES, c[7], TCELL),
                                  val(&dma, TRN_HW_UNIT_BPS, c[8], TCELL),
                                  val(&k->dma_engines, TRN_HW_UNIT_COUNT, c[9], TCELL)});
    }
    print_tab(t, f);

    fprintf(f, "\nChips (peaks in FLOP/s)\n");
    t->ncols = 12;
    t->nrows = 0;
    row(t, (const char *const[]){"name", "core", "cores", "BF16", "FP8", "MXFP8", "HBM", "HBM BW",
                                 "NeuronLink", "CC-cores", "power", "$/chip-h"});
    for (int i = 0; i < hw->n[TRN_HW_KIND_CHIP]; i++) {
        const trn_hw_chip *k = hw->items[TRN_HW_KIND_CHIP][i];
        row(t, (const char *const[]){
                   name_cell(k->name, k->projected, c[0], TCELL), k->core_version,
                   val(&k->cores, TRN_HW_UNIT_COUNT, c[2], TCELL),
                   peak(trn_hw_chip_peak_flops(k, TRN_HW_BF16),
                        &k->published.peak_flops[TRN_HW_BF16], c[3], TCELL),
                   peak(trn_hw_chip_peak_flops(k, TRN_HW_FP8), &k->published.peak_flops[TRN_HW_FP8],
                        c[4], TCELL),
                   peak(trn_hw_chip_peak_flops(k, TRN_HW_MXFP8),
                        &k->published.peak_flops[TRN_HW_MXFP8], c[5], TCELL),
                   val(&k->hbm_bytes, TRN_HW_UNIT_BYTES, c[6], TCELL),
                   val(&k->hbm_bw_bps, TRN_HW_UNIT_BPS, c[7], TCELL),
                   val(&k->neuronlink_bw_bps, TRN_HW_UNIT_BPS, c[8], TCELL),
                   val(&k->cc_cores, TRN_HW_UNIT_COUNT, c[9], TCELL),
                   val(&k->power_w, TRN_HW_UNIT_W, c[10], TCELL),
                   val(&k->price_usd_per_chip_hour, TRN_HW_UNIT_USD_PER_HOUR, c[11], TCELL)});
    }
    print_tab(t, f);

    fprintf(f, "\nGPUs for comparison (dense peaks in FLOP/s; FP4 in the MXFP4 column)\n");
    t->ncols = 10;
    t->nrows = 0;
    row(t, (const char *const[]){"name", "BF16", "FP8", "MXFP4", "FP32", "HBM", "HBM BW", "NVLink",
                                 "power", "$/GPU-h"});
    for (int i = 0; i < hw->n[TRN_HW_KIND_GPU]; i++) {
        const trn_hw_gpu *g = hw->items[TRN_HW_KIND_GPU][i];
        row(t, (const char *const[]){
                   name_cell(g->name, g->projected, c[0], TCELL),
                   peak(g->peak_flops[TRN_HW_BF16].value, NULL, c[1], TCELL),
                   peak(g->peak_flops[TRN_HW_FP8].value, NULL, c[2], TCELL),
                   peak(g->peak_flops[TRN_HW_MXFP4].value, NULL, c[3], TCELL),
                   peak(g->peak_flops[TRN_HW_FP32].value, NULL, c[4], TCELL),
                   val(&g->hbm_bytes, TRN_HW_UNIT_BYTES, c[5], TCELL),
                   val(&g->hbm_bw_bps, TRN_HW_UNIT_BPS, c[6], TCELL),
                   val(&g->nvlink_bw_bps, TRN_HW_UNIT_BPS, c[7], TCELL),
                   val(&g->power_w, TRN_HW_UNIT_W, c[8], TCELL),
                   val(&g->price_usd_per_gpu_hour, TRN_HW_UNIT_USD_PER_HOUR, c[9], TCELL)});
    }
    print_tab(t, f);

    fprintf(f, "\nSystems (peaks in FLOP/s; HBM and EFA are totals, scale-up is per chip)\n");
    t->ncols = 11;
    t->nrows = 0;
    row(t, (const char *const[]){"name", "chips", "topology", "BF16", "FP8", "MXFP8", "HBM",
                                 "HBM BW", "scale-up", "EFA", "$/h"});
    for (int i = 0; i < hw->n[TRN_HW_KIND_SYSTEM]; i++) {
        const trn_hw_system *s = hw->items[TRN_HW_KIND_SYSTEM][i];
        char chips[TCELL];
        snprintf(chips, sizeof chips, "%.0f x %s", s->chips.value, s->chip_name);
        trn_hw_num hbm = {trn_hw_system_hbm_bytes(s), TRN_HW_DERIVED, "", NULL, NULL};
        trn_hw_num bw = {trn_hw_system_hbm_bw_bps(s), TRN_HW_DERIVED, "", NULL, NULL};
        trn_hw_num efa = s->efa_bps;
        efa.value *= s->chips.value;
        /* A system's price: the published instance price, else chips x chip price (assumed
         * whenever the chip price is). */
        trn_hw_num price = s->published.price_usd_per_hour;
        if (!price.origin) {
            const trn_hw_num *per =
                s->chip ? &s->chip->price_usd_per_chip_hour : &s->gpu->price_usd_per_gpu_hour;
            price = *per;
            price.value = trn_hw_system_price_usd_per_hour(s);
        }
        row(t,
            (const char *const[]){
                name_cell(s->name, s->projected, c[0], TCELL), chips,
                topo_text(&s->topology, c[2], TCELL),
                peak(trn_hw_system_peak_flops(s, TRN_HW_BF16),
                     s->chip ? &s->published.peak_flops[TRN_HW_BF16] : NULL, c[3], TCELL),
                peak(trn_hw_system_peak_flops(s, TRN_HW_FP8),
                     s->chip ? &s->published.peak_flops[TRN_HW_FP8] : NULL, c[4], TCELL),
                peak(trn_hw_system_peak_flops(s, TRN_HW_MXFP8),
                     s->chip ? &s->published.peak_flops[TRN_HW_MXFP8] : NULL, c[5], TCELL),
                val(&hbm, TRN_HW_UNIT_BYTES, c[6], TCELL), val(&bw, TRN_HW_UNIT_BPS, c[7], TCELL),
                val(&s->scaleup_bw_bps, TRN_HW_UNIT_BPS, c[8], TCELL),
                val(&efa, TRN_HW_UNIT_BPS, c[9], TCELL),
                val(&price, TRN_HW_UNIT_USD_PER_HOUR, c[10], TCELL)});
    }
    print_tab(t, f);
    free(t);
}

/* ---- one entry ----------------------------------------------------------------------------- */

static void prov_line(const trn_hw_num *x, FILE *f) {
    switch (x->origin) {
    case TRN_HW_SOURCED: fprintf(f, "[%s]", x->source); break;
    case TRN_HW_DERIVED: fprintf(f, "derived: %s", x->source); break;
    case TRN_HW_ASSUMED: fprintf(f, "ASSUMED: %s", x->source); break;
    case TRN_HW_ABSENT: break;
    }
}

static void param(const char *label, const char *text, const trn_hw_num *x, FILE *f) {
    fprintf(f, "  %-38s %-18s ", label, text);
    prov_line(x, f);
    fputc('\n', f);
    if (x->note) fprintf(f, "  %-38s %-18s note: %s\n", "", "", x->note);
}

static void params(const void *entry, const hw_field *fields, FILE *f) {
    char buf[64], label[96];
    for (const hw_field *fl = fields; fl->key; fl++) {
        switch (fl->kind) {
        case FK_NUM: {
            const trn_hw_num *x = HW_CAT(entry, fl->off, trn_hw_num);
            if (x->origin)
                param(fl->label, trn_hw_format(x->value, fl->unit, buf, sizeof buf), x, f);
            break;
        }
        case FK_MAP:
            for (int d = 0; d < TRN_HW_NDTYPES; d++) {
                const trn_hw_num *x = &HW_CAT(entry, fl->off, trn_hw_num)[d];
                if (!x->origin) continue;
                snprintf(label, sizeof label, "%s, %s", fl->label,
                         trn_hw_dtype_name((trn_hw_dtype)d));
                param(label, trn_hw_format(x->value, fl->unit, buf, sizeof buf), x, f);
            }
            break;
        case FK_TOPO: {
            const trn_hw_topology *t = HW_CAT(entry, fl->off, trn_hw_topology);
            param(fl->label, topo_text(t, buf, sizeof buf), &t->prov, f);
            break;
        }
        case FK_STR:
        case FK_BOOL:
        case FK_OBJ: break; /* shown in the header, or as figures */
        }
    }
}

void trn_hw_print_entry(const trn_hw *hw, trn_hw_entry e, FILE *f) {
    if (!e.u.core) return;
    const hw_kind_info *k = &hw_kinds[e.kind];
    const void *p = e.u.core;
    fprintf(f, "%s: %s (%s%s, from %s)\n", HW_NAME(p), *HW_CAT(p, k->off_desc, const char *),
            k->what, *HW_CAT(p, k->off_projected, int) ? ", PROJECTED: not shipping hardware" : "",
            *HW_CAT(p, k->off_file, const char *));
    if (e.kind == TRN_HW_KIND_CHIP)
        fprintf(f, "  NeuronCore version: %s (%s)\n", e.u.chip->core_version,
                e.u.chip->core->description);
    if (e.kind == TRN_HW_KIND_SYSTEM) {
        const trn_hw_system *s = e.u.system;
        fprintf(f, "  %.0f x %s (%s)", s->chips.value, s->chip_name,
                s->chip ? s->chip->description : s->gpu->description);
        if (s->node)
            fprintf(f, ", built of %s (%.0f chips each)", s->node->name, s->node->chips.value);
        fputc('\n', f);
    }
    if (e.kind == TRN_HW_KIND_CORE) {
        fprintf(f, "  used by:");
        for (int j = 0; j < hw->n[TRN_HW_KIND_CHIP]; j++) {
            const trn_hw_chip *ch = hw->items[TRN_HW_KIND_CHIP][j];
            if (ch->core == e.u.core) fprintf(f, " %s", ch->name);
        }
        fputc('\n', f);
    }
    fprintf(f, "\nParameters ([KEY] = source in trainium-facts.md or the URL given)\n");
    params(p, k->fields, f);

    trn_hw_figure rows[TRN_HW_MAX_FIGURES];
    int n = trn_hw_figures(hw, e, rows);
    if (!n) return;
    fprintf(f, "\nDerived figures beside the published ones\n");
    table *t = calloc(1, sizeof *t);
    if (!t) return;
    t->ncols = 6;
    row(t, (const char *const[]){"figure", "derived", "from", "published", "source", "diff"});
    int starred = 0;
    for (int i = 0; i < n; i++) {
        const trn_hw_figure *r = &rows[i];
        char d[TCELL] = "-", pb[TCELL] = "-", src[TCELL] = "", diff[TCELL] = "";
        if (r->derived > 0) trn_hw_format(r->derived, r->unit, d, sizeof d);
        if (r->derived > 0 && r->assumed_inputs) {
            strncat(d, "*", sizeof d - strlen(d) - 1);
            starred = 1;
        }
        if (r->published) {
            trn_hw_format(r->published->value, r->unit, pb, sizeof pb);
            snprintf(src, sizeof src, "%s%s",
                     r->published->origin == TRN_HW_SOURCED   ? ""
                     : r->published->origin == TRN_HW_DERIVED ? "derived: "
                                                              : "ASSUMED: ",
                     r->published->source);
            if (strlen(r->published->source) > 28) strcpy(src + 25, "...");
            if (r->derived > 0) {
                double pct = (r->derived - r->published->value) / r->published->value * 100.0;
                if (fabs(pct) < 1e-9)
                    snprintf(diff, sizeof diff, "0");
                else if (fabs(pct) < 0.05)
                    snprintf(diff, sizeof diff, "%+.2g%%", pct);
                else
                    snprintf(diff, sizeof diff, "%+.1f%%", pct);
            }
        }
        row(t, (const char *const[]){r->label, d, r->formula, pb, src, diff});
    }
    print_tab(t, f);
    free(t);
    if (starred) fprintf(f, "  * derived from at least one assumed value\n");
    /* Explain the published figures that differ from the derived ones (or have none), and
     * give the sources the table had to shorten. */
    int notes = 0;
    for (int i = 0; i < n; i++) {
        const trn_hw_num *pbn = rows[i].published;
        if (!pbn) continue;
        int differs =
            rows[i].derived <= 0 || fabs(rows[i].derived - pbn->value) > 0.005 * pbn->value;
        if (!(differs && pbn->note) && strlen(pbn->source) <= 28) continue;
        if (!notes++) fprintf(f, "\nAbout the published figures\n");
        fprintf(f, "  %s: ", rows[i].label);
        prov_line(pbn, f);
        if (pbn->note && differs) fprintf(f, ". %s", pbn->note);
        fputc('\n', f);
    }
}

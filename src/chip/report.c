/* The reports of a timed chip run: the chip's totals (the slowest core's time, HBM traffic of all
 * cores against the chip's bandwidth, TensorE work) and one row per core, as text and JSON, and
 * the multi-core Perfetto trace. Every number comes from the cores' timing reports.
 *
 * Deliberately left out: anything not in those reports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chip_impl.h"

void trn_chip_report_get(const trn_chip *c, trn_chip_report *r) {
    memset(r, 0, sizeof *r);
    r->cores = c->n;
    r->lnc = c->lnc;
    r->hbm_available_bps = c->hw->hbm_bw_bps.value;
    if (!c->tm[0]) return;
    for (int k = 0; k < c->n; k++) {
        const trn_timing_report *t = trn_timing_report_get(c->tm[k]);
        if (t->total_ns > r->total_ns) r->total_ns = t->total_ns, r->slowest = k;
        r->hbm_bytes += t->hbm_to_sbuf_bytes + t->sbuf_to_hbm_bytes + 2 * t->hbm_to_hbm_bytes;
        r->matmul_macs += t->matmul_macs;
        r->instructions += (uint64_t)c->p[k]->ninstrs;
    }
    if (r->total_ns > 0) {
        r->hbm_bps = (double)r->hbm_bytes / r->total_ns * 1e9;
        r->achieved_flops = 2 * r->matmul_macs / (r->total_ns * 1e-9);
    }
}

static const char *bound_name(trn_engine e) {
    return e == TRN_ENGINE_DMA ? "DMA" : trn_engine_short(e);
}

void trn_chip_print(const trn_chip *c, FILE *f) {
    trn_chip_report r;
    trn_chip_report_get(c, &r);
    fprintf(f, "chip %s: kernel %s on %d NeuronCore%s (LNC=%d): %.3f us (core %d is the slowest)\n",
            c->hw->name, c->p[0]->name, c->n, c->n == 1 ? "" : "s", c->lnc, r.total_ns * 1e-3,
            r.slowest);
    fprintf(f,
            "HBM: %llu B moved by all cores, %.1f GB/s of the chip's %.1f GB/s shared by every "
            "transfer in flight; TensorE %.0f MACs, %.2f TFLOP/s\n",
            (unsigned long long)r.hbm_bytes, r.hbm_bps * 1e-9, r.hbm_available_bps * 1e-9,
            r.matmul_macs, r.achieved_flops * 1e-12);
    fprintf(f, "%-5s %12s %7s %6s %6s %6s %6s %6s %14s %10s %-5s\n", "core", "time us", "instrs",
            "PE", "ACT", "DVE", "Pool", "SP", "HBM bytes", "HBM GB/s", "bound");
    for (int k = 0; k < c->n && c->tm[k]; k++) {
        const trn_timing_report *t = trn_timing_report_get(c->tm[k]);
        uint64_t hb = t->hbm_to_sbuf_bytes + t->sbuf_to_hbm_bytes + 2 * t->hbm_to_hbm_bytes;
        fprintf(f, "%-5d %12.3f %7d", k, t->total_ns * 1e-3, c->p[k]->ninstrs);
        for (int e = 0; e < TRN_TIMING_ENGINES; e++)
            fprintf(f, " %5.1f%%", 100 * t->engine[e].utilization);
        fprintf(f, " %14llu %10.1f %-5s\n", (unsigned long long)hb, t->hbm_bps * 1e-9,
                bound_name(t->bound));
    }
}

trn_status trn_chip_print_json(const trn_chip *c, FILE *f, trn_err *err) {
    trn_chip_report r;
    trn_chip_report_get(c, &r);
    fprintf(f,
            "{\"schema\": \"trnsim.chip/1\", \"chip\": \"%s\", \"kernel\": \"%s\", \"cores\": %d, "
            "\"lnc\": %d, \"total_ns\": %.17g, \"slowest_core\": %d, \"instructions\": %llu, "
            "\"hbm_bytes\": %llu, \"hbm_bps\": %.17g, \"hbm_available_bps\": %.17g, "
            "\"matmul_macs\": %.17g, \"achieved_flops\": %.17g, \"per_core\": [\n",
            c->hw->name, c->p[0]->name, c->n, c->lnc, r.total_ns, r.slowest,
            (unsigned long long)r.instructions, (unsigned long long)r.hbm_bytes, r.hbm_bps,
            r.hbm_available_bps, r.matmul_macs, r.achieved_flops);
    for (int k = 0; k < c->n && c->tm[k]; k++) {
        if (k) fputs(",\n", f);
        trn_status st = trn_timing_print_json(c->tm[k], f, err);
        if (st) return st;
    }
    fputs("]}\n", f);
    return ferror(f) ? trn_err_set(err, TRN_E_IO, "chip JSON: write failed") : TRN_OK;
}

trn_status trn_chip_write_trace(const trn_chip *c, const char *path, trn_err *err) {
    if (!c->tm[0]) return trn_err_set(err, TRN_E_INVALID, "chip: not timed yet");
    FILE *f = fopen(path, "wb");
    if (!f) return trn_err_set(err, TRN_E_IO, "%s: cannot open for writing", path);
    trn_status s = trn_timing_write_trace_cores((const trn_timing *const *)c->tm,
                                                (const trn_program *const *)c->p, c->n, f, err);
    if (s) trn_err_prefix(err, "%s: ", path);
    if (fclose(f) != 0 && s == TRN_OK) s = trn_err_set(err, TRN_E_IO, "%s: write failed", path);
    return s;
}

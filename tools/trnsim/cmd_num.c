/* trnsim num: the numerics library on raw float32 files.
 *   quantize  MX block quantization then dequantization (blocks of 32 in flat order)
 *   convert   scalar conversion to a data type and back
 *   formats   the formats with their ranges
 * Files are little-endian float32 with no header (DESIGN.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char quantize_usage[] =
    "usage: trnsim num quantize --format F [--scale-rule ocp|nc4|rceil] [--round rne|sr\n"
    "                           [--seed N]] --in IN.f32 --out OUT.f32 [--codes OUT.bin]\n\n"
    "Quantizes raw float32 values to an OCP MX block format and writes them back\n"
    "dequantized. Blocks are 32 consecutive values in file order; a trailing partial block\n"
    "is padded with zeros (and reported). --codes writes, per block, its E8M0 scale byte\n"
    "followed by its 32 element codes, one byte each.\n\n"
    "  F: mxfp8_e4m3 mxfp8_e5m2 mxfp6_e3m2 mxfp6_e2m3 mxfp4_e2m1 mxint8\n"
    "  --scale-rule  ocp (default): floor(log2 amax) - emax;  nc4: NeuronCore-v4\n"
    "                quantize_mx, 2x the ocp scale;  rceil: ceil(log2(amax / max))\n"
    "  --round       rne (default) or sr (stochastic, random stream --seed N, default 0)\n";

static const char convert_usage[] =
    "usage: trnsim num convert --to F [--saturate|--no-saturate] [--round rne|sr [--seed N]]\n"
    "                          --in IN.f32 --out OUT.f32\n\n"
    "Converts raw float32 values to data type F and back to float32.\n\n"
    "  F: f32 tf32 bf16 f16 fp8_e4m3 fp8_e5m2 fp8_e4m3_legacy fp8_e3m4 fp6_e3m2 fp6_e2m3\n"
    "     fp4_e2m1 int8 int16 int32 uint8 uint16 uint32\n"
    "  --no-saturate (default): overflow gives Inf (IEEE-style formats) or NaN (fp8_e4m3);\n"
    "  --saturate: overflow and +-Inf give +-max finite. fp6/fp4 and integers always\n"
    "  saturate (they have no Inf or NaN; NaN converts to 0).\n"
    "  --round       rne (default) or sr (stochastic, random stream --seed N, default 0)\n";

static const char num_usage[] = "usage: trnsim num quantize|convert|formats [options]\n\n"
                                "  quantize  MX block quantization and back (see --help)\n"
                                "  convert   scalar conversion to a data type and back\n"
                                "  formats   every data type with its range\n";

/* Options shared by quantize and convert. */
typedef struct num_args {
    const char *format, *rule, *round, *seed, *in, *out, *codes;
    int saturate; /* -1 unset */
} num_args;

static int parse_args(const char *cmd, int argc, char **argv, int quantize, num_args *a) {
    memset(a, 0, sizeof *a);
    a->saturate = -1;
    for (int i = 1; i < argc; i++) {
        int m = 0;
        if (quantize) {
            if (!m) m = cli_opt(cmd, argc, argv, &i, "--format", &a->format);
            if (!m) m = cli_opt(cmd, argc, argv, &i, "--scale-rule", &a->rule);
            if (!m) m = cli_opt(cmd, argc, argv, &i, "--codes", &a->codes);
        } else {
            if (!m) m = cli_opt(cmd, argc, argv, &i, "--to", &a->format);
            if (!m && strcmp(argv[i], "--saturate") == 0) a->saturate = 1, m = 1;
            if (!m && strcmp(argv[i], "--no-saturate") == 0) a->saturate = 0, m = 1;
        }
        if (!m) m = cli_opt(cmd, argc, argv, &i, "--round", &a->round);
        if (!m) m = cli_opt(cmd, argc, argv, &i, "--seed", &a->seed);
        if (!m) m = cli_opt(cmd, argc, argv, &i, "--in", &a->in);
        if (!m) m = cli_opt(cmd, argc, argv, &i, "--out", &a->out);
        if (m < 0) return 0;
        if (m == 0) {
            cli_error(cmd, "unknown argument '%s' (see --help)", argv[i]);
            return 0;
        }
    }
    const char *missing = !a->format ? (quantize ? "--format" : "--to")
                          : !a->in   ? "--in"
                          : !a->out  ? "--out"
                                     : NULL;
    if (missing) {
        cli_error(cmd, "missing %s (see --help)", missing);
        return 0;
    }
    return 1;
}

static int parse_round(const char *cmd, const num_args *a, trn_cvt_opts *o) {
    *o = TRN_CVT_RNE;
    if (a->round && strcmp(a->round, "sr") == 0)
        o->round = TRN_ROUND_SR;
    else if (a->round && strcmp(a->round, "rne") != 0) {
        cli_error(cmd, "--round: expected rne or sr, got '%s'", a->round);
        return 0;
    }
    if (a->seed && o->round != TRN_ROUND_SR) {
        cli_error(cmd, "--seed only applies to --round sr");
        return 0;
    }
    return !a->seed || cli_parse_u64(cmd, "--seed", a->seed, &o->seed);
}

/* Reads a raw float32 file: a size that is not a multiple of 4 is a bad input file. */
static int read_f32(const char *cmd, const char *path, float **data, size_t *n) {
    trn_err err = {0};
    void *buf;
    size_t bytes;
    if (trn_file_read(path, &buf, &bytes, &err) != TRN_OK) {
        cli_error(cmd, "%s", err.msg);
        return 0;
    }
    if (bytes % 4) {
        cli_error(cmd,
                  "%s: %zu bytes is not a whole number of float32 values (expected a "
                  "multiple of 4 bytes, little-endian float32, no header)",
                  path, bytes);
        free(buf);
        return 0;
    }
    *data = buf;
    *n = bytes / 4;
    return 1;
}

static int write_file(const char *cmd, const char *path, const void *data, size_t bytes) {
    trn_err err = {0};
    if (trn_file_write(path, data, bytes, &err) == TRN_OK) return 1;
    cli_error(cmd, "%s", err.msg);
    return 0;
}

/* Error statistics of `out` against `in` over finite inputs with finite outputs. */
static void print_error_stats(const float *in, const float *out, size_t n) {
    double num = 0, den = 0, max_abs = 0;
    size_t exact = 0, nonfinite_out = 0, nonfinite_in = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(in[i])) {
            nonfinite_in++;
            continue;
        }
        if (!isfinite(out[i])) {
            nonfinite_out++;
            continue;
        }
        double d = (double)out[i] - (double)in[i];
        exact += d == 0;
        num += d * d;
        den += (double)in[i] * in[i];
        if (fabs(d) > max_abs) max_abs = fabs(d);
    }
    printf("  exact          %zu of %zu values\n", exact, n);
    printf("  max abs error  %.6g\n", max_abs);
    printf("  NMSE           %.6g\n", den > 0 ? num / den : 0.0);
    if (nonfinite_in) printf("  non-finite in  %zu values (NaN or Inf)\n", nonfinite_in);
    if (nonfinite_out)
        printf("  overflowed     %zu finite values became Inf or NaN\n", nonfinite_out);
}

static int quantize(int argc, char **argv) {
    const char *cmd = "num quantize";
    num_args a;
    trn_cvt_opts o;
    trn_scale_rule rule = TRN_SCALE_OCP;
    trn_dtype elem;
    trn_err err = {0};
    if (!parse_args(cmd, argc, argv, 1, &a) || !parse_round(cmd, &a, &o)) return CLI_EXIT_USAGE;
    if (a.rule && trn_scale_rule_from_name(a.rule, &rule, &err) != TRN_OK) {
        cli_error(cmd, "--scale-rule: %s", err.msg);
        return CLI_EXIT_USAGE;
    }
    const char *ename = strncmp(a.format, "mx", 2) == 0 ? a.format + 2 : "";
    int ok = *ename && trn_dtype_from_name(ename, &elem, NULL) == TRN_OK && trn_mx_elem_ok(elem);
    if (!ok) {
        cli_error(cmd,
                  "--format: unknown MX format '%s' (expected mxfp8_e4m3 mxfp8_e5m2 mxfp6_e3m2 "
                  "mxfp6_e2m3 mxfp4_e2m1 mxint8; scalar types go through `trnsim num convert`)",
                  a.format);
        return CLI_EXIT_USAGE;
    }

    float *in, *out = NULL;
    size_t n;
    if (!read_f32(cmd, a.in, &in, &n)) return CLI_EXIT_BADINPUT;
    size_t nblocks = (n + TRN_MX_BLOCK - 1) / TRN_MX_BLOCK;
    uint8_t *scales = malloc(nblocks + 1), *codes = malloc(nblocks * TRN_MX_BLOCK + 1);
    uint8_t *record = a.codes ? malloc(nblocks * (TRN_MX_BLOCK + 1) + 1) : NULL;
    out = malloc(n * sizeof *out + 1);
    int rc = CLI_EXIT_OK;
    if (!scales || !codes || !out || (a.codes && !record)) {
        cli_error(cmd, "out of memory for %zu values", n);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    trn_mx_quantize(elem, rule, in, n, &o, scales, codes);
    trn_mx_dequantize(elem, scales, codes, n, out);
    if (!write_file(cmd, a.out, out, n * sizeof *out)) {
        rc = CLI_EXIT_BADINPUT;
        goto done;
    }
    if (a.codes) {
        for (size_t b = 0; b < nblocks; b++) {
            record[b * (TRN_MX_BLOCK + 1)] = scales[b];
            memcpy(record + b * (TRN_MX_BLOCK + 1) + 1, codes + b * TRN_MX_BLOCK, TRN_MX_BLOCK);
        }
        if (!write_file(cmd, a.codes, record, nblocks * (TRN_MX_BLOCK + 1))) {
            rc = CLI_EXIT_BADINPUT;
            goto done;
        }
    }

    size_t nan_blocks = 0;
    int smin = 255, smax = -1;
    for (size_t b = 0; b < nblocks; b++) {
        if (scales[b] == 0xff) {
            nan_blocks++;
            continue;
        }
        if (scales[b] < smin) smin = scales[b];
        if (scales[b] > smax) smax = scales[b];
    }
    printf("%s: %zu values, %zu blocks of %d, scale rule %s, rounding %s\n", a.format, n, nblocks,
           TRN_MX_BLOCK, trn_scale_rule_name(rule), o.round == TRN_ROUND_SR ? "sr" : "rne");
    if (n % TRN_MX_BLOCK)
        printf("  last block     padded with %zu zeros (%zu values in the file)\n",
               (size_t)(TRN_MX_BLOCK - n % TRN_MX_BLOCK), n);
    if (smax >= 0) printf("  scales         2^%d .. 2^%d\n", smin - 127, smax - 127);
    if (nan_blocks)
        printf("  NaN blocks     %zu (a NaN or Inf in the block: scale 0xFF, all NaN)\n",
               nan_blocks);
    print_error_stats(in, out, n);
    if (a.codes)
        printf("  codes          %s: %zu bytes (per block: scale byte, 32 codes)\n", a.codes,
               nblocks * (TRN_MX_BLOCK + 1));
done:
    free(in), free(out), free(scales), free(codes), free(record);
    return rc;
}

static int convert(int argc, char **argv) {
    const char *cmd = "num convert";
    num_args a;
    trn_cvt_opts o;
    trn_dtype t = TRN_DTYPE_F32;
    trn_err err = {0};
    if (!parse_args(cmd, argc, argv, 0, &a) || !parse_round(cmd, &a, &o)) return CLI_EXIT_USAGE;
    if (trn_dtype_from_name(a.format, &t, &err) != TRN_OK || t == TRN_DTYPE_E8M0) {
        cli_error(cmd, "--to: %s", t == TRN_DTYPE_E8M0 ? "e8m0 is a scale type" : err.msg);
        return CLI_EXIT_USAGE;
    }
    o.saturate = a.saturate == 1;

    float *in, *out;
    size_t n;
    if (!read_f32(cmd, a.in, &in, &n)) return CLI_EXIT_BADINPUT;
    void *codes = malloc(n * 4 + 1);
    out = malloc(n * sizeof *out + 1);
    int rc = CLI_EXIT_OK;
    if (!codes || !out) {
        cli_error(cmd, "out of memory for %zu values", n);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    trn_cvt_array(t, in, codes, n, &o);
    trn_decode_array(t, codes, out, n);
    if (!write_file(cmd, a.out, out, n * sizeof *out)) {
        rc = CLI_EXIT_BADINPUT;
        goto done;
    }
    printf("%s: %zu values, rounding %s, %s\n", a.format, n, o.round == TRN_ROUND_SR ? "sr" : "rne",
           o.saturate ? "saturating" : "non-saturating");
    print_error_stats(in, out, n);
done:
    free(in), free(out), free(codes);
    return rc;
}

static int formats(void) {
    printf("%-16s %5s %-6s %14s %14s %14s  %s\n", "type", "bits", "E/M", "max", "min normal",
           "min subnormal", "specials");
    for (int i = 0; i < TRN_DTYPE_COUNT; i++) {
        trn_dtype t = (trn_dtype)i;
        if (!trn_dtype_is_float(t)) continue;
        trn_fpfmt f = trn_fpfmt_of(t);
        static const char *sp[] = {"Inf, NaN", "NaN only (S.1111.111)", "none: all finite"};
        char em[16];
        snprintf(em, sizeof em, "%d/%d", f.ebits, f.mbits);
        printf("%-16s %5d %-6s %14.7g %14.7g %14.7g  %s\n", trn_dtype_name(t), trn_dtype_bits(t),
               em, (double)trn_fpfmt_max(&f), ldexp(1.0, 1 - f.bias),
               (double)trn_fpfmt_min_subnormal(&f), sp[f.specials]);
    }
    printf("\nMX block formats (32 elements, one E8M0 scale 2^(s-127), 0xFF = NaN):\n");
    printf("  mxfp8_e4m3 mxfp8_e5m2 mxfp6_e3m2 mxfp6_e2m3 mxfp4_e2m1 mxint8\n");
    printf("Integers: int8 int16 int32 uint8 uint16 uint32 (round, then clamp; NaN -> 0)\n");
    return CLI_EXIT_OK;
}

int cmd_num(trn_cli *cli, int argc, char **argv) {
    (void)cli;
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(num_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *sub = argv[1];
    int help = argc > 2 && cli_is_help(argv[2]);
    if (strcmp(sub, "quantize") == 0) {
        if (help) return fputs(quantize_usage, stdout), CLI_EXIT_OK;
        return quantize(argc - 1, argv + 1);
    }
    if (strcmp(sub, "convert") == 0) {
        if (help) return fputs(convert_usage, stdout), CLI_EXIT_OK;
        return convert(argc - 1, argv + 1);
    }
    if (strcmp(sub, "formats") == 0) {
        if (help) return printf("usage: trnsim num formats\n"), CLI_EXIT_OK;
        return formats();
    }
    cli_error("num", "unknown subcommand '%s' (expected quantize, convert or formats)", sub);
    return CLI_EXIT_USAGE;
}

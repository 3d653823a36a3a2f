/* trnsim demo: what `make demo` runs on embedded defaults. For now: the hardware catalog and
 * a numerics tour (one activation-like vector through every Trainium data type). Later
 * issues add a kernel run and a model run. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define DEMO_N 256

/* One row of the table: three sample values, NMSE of y against x, how many non-zero inputs
 * became zero and how many outliers (|x| > 448) lost more than 10%. */
static void row(const char *name, const float *x, const float *y, size_t n) {
    double num = 0, den = 0;
    int zeroed = 0, clipped = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)y[i] - x[i];
        num += d * d;
        den += (double)x[i] * x[i];
        zeroed += x[i] != 0 && y[i] == 0;
        clipped += fabsf(x[i]) > 448 && fabs(d) > 0.1 * fabsf(x[i]);
    }
    printf("  %-22s %10.6g %10.6g %10.6g  %9.3e %7d %8d\n", name, (double)y[1], (double)y[7],
           (double)y[100], num / den, zeroed, clipped);
}

static void numerics_tour(void) {
    /* A deterministic activation-like vector: a smooth signal over four decades plus one
     * outlier per 32-block, the case that separates per-tensor from per-block scaling. */
    static float x[DEMO_N], y[DEMO_N];
    static uint32_t codes[DEMO_N];
    static uint8_t scales[DEMO_N / TRN_MX_BLOCK], mx[DEMO_N];
    for (int i = 0; i < DEMO_N; i++) {
        float r = (float)(trn_rng_u32(2026, (uint64_t)i) >> 8) * 0x1p-24f; /* [0, 1) */
        x[i] = sinf(0.37f * (float)i) * powf(10.0f, -2.0f + 3.0f * r);
        if (i % TRN_MX_BLOCK == 7) x[i] = 300.0f + 4.0f * (float)i;
    }
    printf("\nNumerics: %d activation-like values (one outlier per block of 32) through each "
           "type\n",
           DEMO_N);
    printf("  %-22s %10s %10s %10s  %9s %7s %8s\n", "type", "x[1]", "x[7]", "x[100]", "NMSE",
           "zeroed", "clipped");
    row("f32 (input)", x, x, DEMO_N);
    static const trn_dtype scalar[] = {TRN_DTYPE_TF32, TRN_DTYPE_BF16, TRN_DTYPE_F16,
                                       TRN_DTYPE_FP8_E4M3, TRN_DTYPE_FP8_E5M2};
    for (size_t k = 0; k < sizeof scalar / sizeof scalar[0]; k++) {
        trn_cvt_array(scalar[k], x, codes, DEMO_N, &TRN_CVT_RNE_SAT);
        /* codes are in the dtype's container; decode from the same buffer */
        trn_decode_array(scalar[k], codes, y, DEMO_N);
        row(trn_dtype_name(scalar[k]), x, y, DEMO_N);
    }
    static const trn_dtype mxe[] = {TRN_DTYPE_FP8_E4M3, TRN_DTYPE_FP8_E5M2, TRN_DTYPE_FP6_E3M2,
                                    TRN_DTYPE_FP4_E2M1, TRN_DTYPE_INT8};
    for (size_t k = 0; k < sizeof mxe / sizeof mxe[0]; k++) {
        char name[40];
        snprintf(name, sizeof name, "mx%s (ocp scale)", trn_dtype_name(mxe[k]));
        trn_mx_quantize(mxe[k], TRN_SCALE_OCP, x, DEMO_N, &TRN_CVT_RNE, scales, mx);
        trn_mx_dequantize(mxe[k], scales, mx, DEMO_N, y);
        row(name, x, y, DEMO_N);
    }
    printf(
        "  Unscaled fp8_e4m3 saturates outliers at 448; MX formats give each block of 32 its\n"
        "  own power-of-two scale, so outliers survive and small values in the same block\n"
        "  lose precision. Try: trnsim num quantize --format mxfp4_e2m1 --in X.f32 --out Y.f32\n");
}

int cmd_demo(trn_cli *cli, int argc, char **argv) {
    if (argc > 1 && cli_is_help(argv[1])) {
        printf("usage: trnsim demo\n\nA short tour of trnsim on built-in data: the hardware "
               "catalog and the numerics.\n");
        return CLI_EXIT_OK;
    }
    if (argc > 1) {
        cli_error("demo", "unexpected argument '%s'", argv[1]);
        return CLI_EXIT_USAGE;
    }
    printf("trnsim %s: a software AWS Trainium\n\n", TRN_VERSION_STRING);
    trn_hw_print_table(cli->hw, stdout);
    printf(
        "\nOne entry in detail, with every figure's source: trnsim info trn3-gen2-ultraserver\n");
    numerics_tour();
    return CLI_EXIT_OK;
}

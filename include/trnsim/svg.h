/* trnsim SVG charts: line charts (scaling curves, optionally log-x for 1 to 1,000,000 chips),
 * grouped or ranked bar charts ($ per 1M tokens across systems) and stacked horizontal bars
 * (a step's time split into compute / exposed communication / bubble / memory-bound). The
 * planner's `--svg FILE` writes these; anything else may too.
 *
 * Output is a standalone SVG 1.1 document, byte-for-byte deterministic: coordinates are
 * printed with two decimals ("%.2f", -0.00 written as 0.00), tick labels and values with
 * fixed rules (below), colours from a fixed palette (Okabe-Ito, colour-blind safe) in series
 * order. Text is XML-escaped (& < > " ' become entities; control characters other than tab
 * and newline become spaces; bytes that are not well-formed UTF-8 become '?').
 *
 * Geometry (so a reader, or a test, can place any datum by hand). W x H is the canvas
 * (default 720 x 440). The plot area spans x from L to W - 24 - G and y from 48 to H - 56,
 * where L = 72 (line and bar charts) or max(72, 12 + 7 c) for stacked bars with row labels
 * of at most c characters (capped at 260), and G is the legend column: 0 without a legend,
 * else min(36 + 7 m, 240) for legend names of at most m characters. Bar charts wrap a
 * category label wider than its slot at spaces (up to 4 lines) and raise the plot's bottom by
 * 14 px for each line past the first. A value v maps to
 * x = L + (v - lo) / (hi - lo) (x1 - L) and y = y1 - (v - lo) / (hi - lo) (y1 - 48), with
 * log10(v) in place of v on a log axis.
 *
 * Axis ranges: fixed when asked; otherwise linear axes round outward to a multiple of the
 * tick step, the smallest of {1, 2, 5} x 10^k that is >= (max - min) / 5, and include 0 when
 * all data are >= 0 (y of line charts, all bar axes); log axes round outward to decades, with
 * a tick at every decade (every k-th when there are more than 10). Tick labels use the fewest
 * decimals the step needs, and SI suffixes from 1000 up (1k, 2.5k, 1M, 1G, 1T). Bar values are
 * printed with 3 significant digits ("%.3g", SI suffixes from 1000 up).
 *
 * Deliberately left out: interactivity, fonts (the viewer's sans-serif), text measurement
 * (widths are estimated at 7 px per character), pie charts, 3-D. */
#ifndef TRNSIM_SVG_H
#define TRNSIM_SVG_H

#include <stdint.h>

#include "trnsim/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct trn_svg_axis {
    const char *label; /* with its unit, e.g. "chips" or "tokens/s"; NULL: none */
    int log;           /* 1: log10 scale, every value must be > 0 */
    int fixed;         /* 1: the range is [min, max] as given; 0: from the data */
    double min, max;
} trn_svg_axis;

typedef struct trn_svg_series {
    const char *name;    /* legend entry; NULL: none */
    const double *x, *y; /* borrowed, n finite values each */
    int64_t n;           /* >= 1 */
} trn_svg_series;

typedef struct trn_svg_line_chart {
    const char *title; /* NULL: none */
    trn_svg_axis x, y;
    const trn_svg_series *series; /* borrowed, nseries >= 1 */
    int nseries;
    int markers;             /* 1: a dot at every point */
    int width_px, height_px; /* 0: 720 x 440; otherwise at least 240 x 180 */
} trn_svg_line_chart;

/* Bars: for each category (e.g. a system) one bar per group (e.g. input and output cost). */
typedef struct trn_svg_bar_chart {
    const char *title;
    trn_svg_axis y;                /* value axis (log not supported: bars start at 0) */
    const char *const *categories; /* borrowed, ncategories >= 1 */
    int ncategories;
    const char *const *groups; /* legend names, ngroups of them; NULL with ngroups = 1: none */
    int ngroups;               /* >= 1 */
    const double *values;      /* [ncategories][ngroups], finite and >= 0 */
    int rank;                  /* 0: given order; 1: ascending by group 0; -1: descending */
    int value_labels;          /* 1: the value above each bar */
    int width_px, height_px;
} trn_svg_bar_chart;

/* Horizontal bars, each split into parts laid end to end from 0. */
typedef struct trn_svg_stack_chart {
    const char *title;
    trn_svg_axis x;          /* value axis along the bars (log not supported) */
    const char *const *rows; /* borrowed, nrows >= 1: one bar each, top to bottom */
    int nrows;
    const char *const *parts; /* legend names, nparts >= 1 */
    int nparts;
    const double *values; /* [nrows][nparts], finite and >= 0 */
    int width_px, height_px;
} trn_svg_stack_chart;

/* Each renders the chart into a malloc'd NUL-terminated string *svg (taken by the caller:
 * free() it; NULL on failure). TRN_E_INVALID names the series / category / row and the value
 * that is wrong (empty, NaN, infinite, <= 0 on a log axis, negative bar); TRN_E_RANGE for a
 * canvas too small or a fixed range that is empty; TRN_E_NOMEM. */
trn_status trn_svg_line(const trn_svg_line_chart *c, char **svg, trn_err *err);
trn_status trn_svg_bars(const trn_svg_bar_chart *c, char **svg, trn_err *err);
trn_status trn_svg_stacked(const trn_svg_stack_chart *c, char **svg, trn_err *err);

/* Writes `text` (borrowed, NUL-terminated) XML-escaped as described above into buf (n bytes,
 * always NUL-terminated, truncated at a character boundary when it does not fit). Returns the
 * length the whole escaped text needs, excluding the NUL. */
size_t trn_svg_escape(const char *text, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif

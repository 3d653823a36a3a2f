/* SVG charts (svg.h has the geometry, the number formats and the escaping rules).
 *
 * Each chart is written into a growing string: validate every input first (so a bad datum
 * never leaves half a document), compute the axis ranges and ticks, then emit the canvas,
 * grid, axes, data and legend in that order.
 *
 * Deliberately left out: anything svg.h leaves out; no dependency beyond libc and libm. */
#include "base_impl.h"
#include "trnsim/svg.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Okabe & Ito (2008), "Color Universal Design": the eight colours, black last. */
static const char *const palette[8] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                       "#E69F00", "#56B4E9", "#F0E442", "#000000"};
static const char *const dashes[3] = {"", " stroke-dasharray=\"6 3\"", " stroke-dasharray=\"2 2\""};

enum {
    DEF_W = 720,
    DEF_H = 440,
    MIN_W = 240,
    MIN_H = 180,
    MAX_DIM = 20000,
    TOP = 48,
    BOTTOM = 56,
    RIGHT = 24,
    LEFT = 72,
    CHAR_PX = 7,
    MAX_LEFT = 260,
    MAX_LEGEND = 240,
    MAX_TICKS = 64,
    MAX_LINES = 4, /* lines of a wrapped category label */
    LINE_PX = 14,
};

/* ---- the output string ------------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_grow(sbuf *b, size_t need) {
    if (b->oom || b->len + need + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + need + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return;
    }
    b->p = p, b->cap = cap;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
sb_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    sb_grow(b, (size_t)n);
    if (b->oom) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* ---- text -------------------------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates, at
 * most U+10FFFF), or 0 when it is not one. */
static int utf8_len(const unsigned char *s) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    int n = c >= 0xC2 && c <= 0xDF   ? 2
            : c >= 0xE0 && c <= 0xEF ? 3
            : c >= 0xF0 && c <= 0xF4 ? 4
                                     : 0;
    if (!n) return 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && s[1] < 0xA0) return 0; /* overlong */
    if (c == 0xED && s[1] > 0x9F) return 0; /* surrogates */
    if (c == 0xF0 && s[1] < 0x90) return 0; /* overlong */
    if (c == 0xF4 && s[1] > 0x8F) return 0; /* > U+10FFFF */
    return n;
}

size_t trn_svg_escape(const char *text, char *buf, size_t n) {
    size_t need = 0, w = 0;
    int full = 0;
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    while (*s) {
        const char *rep;
        char one[5] = {0};
        int adv = 1;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        default:
            if (*s < 0x20 && *s != '\t' && *s != '\n') {
                rep = " ";
            } else {
                adv = utf8_len(s);
                if (adv == 0) {
                    rep = "?";
                    adv = 1;
                } else {
                    memcpy(one, s, (size_t)adv);
                    rep = one;
                }
            }
        }
        size_t k = strlen(rep);
        if (!full && buf && w + k < n) {
            memcpy(buf + w, rep, k);
            w += k;
        } else {
            full = 1;
        }
        need += k;
        s += adv;
    }
    if (buf && n) buf[w] = 0;
    return need;
}

static void sb_text(sbuf *b, const char *text) {
    size_t k = trn_svg_escape(text, NULL, 0);
    sb_grow(b, k);
    if (b->oom) return;
    trn_svg_escape(text, b->p + b->len, k + 1);
    b->len += k;
}

/* Characters for width estimates (UTF-8 continuation bytes do not count). */
static int text_chars(const char *s) {
    int n = 0;
    for (; s && *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* ---- numbers ----------------------------------------------------------------------------- */

/* Coordinates: "%.2f" with -0.00 written as 0.00. */
static const char *px(char *buf, double v) {
    snprintf(buf, 32, "%.2f", v);
    if (strcmp(buf, "-0.00") == 0) strcpy(buf, "0.00");
    return buf;
}

static void trim_zeros(char *s) {
    char *dot = strchr(s, '.');
    if (!dot) return;
    char *e = s + strlen(s) - 1;
    while (e > dot && *e == '0') *e-- = 0;
    if (e == dot) *e = 0;
}

/* A tick label: SI suffix from 1000 up (at most 2 decimals, trailing zeros dropped), else
 * `decimals` fixed decimals. */
static void fmt_tick(char *buf, size_t n, double v, int decimals) {
    static const char si[] = "kMGTPE";
    double a = fabs(v);
    if (a >= 1000) {
        int m = 0;
        while (a >= 1000 && m < 6) a /= 1000, v /= 1000, m++;
        snprintf(buf, n, "%.2f", v);
        trim_zeros(buf);
        size_t l = strlen(buf);
        if (l + 1 < n) buf[l] = si[m - 1], buf[l + 1] = 0;
        return;
    }
    snprintf(buf, n, "%.*f", decimals, v);
    if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1))
        memmove(buf, buf + 1, strlen(buf));
}

/* A bar value: 3 significant digits, SI suffix from 1000 up. */
static void fmt_value(char *buf, size_t n, double v) {
    static const char si[] = "kMGTPE";
    double a = fabs(v);
    int m = 0;
    while (a >= 1000 && m < 6) a /= 1000, v /= 1000, m++;
    snprintf(buf, n, "%.3g", v);
    if (m) {
        size_t l = strlen(buf);
        if (l + 1 < n) buf[l] = si[m - 1], buf[l + 1] = 0;
    }
}

/* ---- axes -------------------------------------------------------------------------------- */

typedef struct scale {
    int log;
    double lo, hi; /* range in data units */
    double p0, p1; /* pixels of lo and hi */
    int nticks;
    double ticks[MAX_TICKS];
    int decimals;
} scale;

static double nice_step(double raw) {
    double p = pow(10, floor(log10(raw)));
    const double m[3] = {1, 2, 5};
    for (int i = 0; i < 3; i++)
        if (m[i] * p >= raw * (1 - 1e-12)) return m[i] * p;
    return 10 * p;
}

/* Sets lo, hi, ticks from the data range [dmin, dmax] (finite; > 0 for log). */
static void make_scale(scale *s, const trn_svg_axis *a, double dmin, double dmax, int zero) {
    s->log = a->log;
    s->nticks = 0;
    s->decimals = 0;
    if (a->log) {
        double l0 = a->fixed ? log10(a->min) : floor(log10(dmin));
        double l1 = a->fixed ? log10(a->max) : ceil(log10(dmax));
        if (l1 <= l0) l1 = l0 + 1;
        s->lo = l0, s->hi = l1; /* in decades */
        double d0 = ceil(l0 - 1e-9), d1 = floor(l1 + 1e-9);
        int every = (int)ceil((d1 - d0 + 1) / 10.0);
        if (every < 1) every = 1;
        for (double d = d0; d <= d1 && s->nticks < MAX_TICKS; d += every) s->ticks[s->nticks++] = d;
        return;
    }
    double lo = a->fixed ? a->min : dmin, hi = a->fixed ? a->max : dmax;
    if (!a->fixed && zero && lo > 0) lo = 0;
    double span = hi - lo;
    if (!(span > 0)) span = fabs(hi) > 0 ? fabs(hi) : 1;
    double step = nice_step(span / 5);
    if (!a->fixed) {
        lo = floor(lo / step + 1e-9) * step;
        hi = ceil(hi / step - 1e-9) * step;
        if (hi <= lo) hi = lo + step;
    }
    s->lo = lo, s->hi = hi;
    double k0 = ceil(lo / step - 1e-9), k1 = floor(hi / step + 1e-9);
    for (double k = k0; k <= k1 && s->nticks < MAX_TICKS; k++) s->ticks[s->nticks++] = k * step;
    int dec = (int)-floor(log10(step) + 1e-9);
    s->decimals = dec > 0 ? (dec < 9 ? dec : 9) : 0;
}

/* Pixel of data value v (already log10 for log scales when `is_log_value`). */
static double map_raw(const scale *s, double u) {
    return s->p0 + (u - s->lo) / (s->hi - s->lo) * (s->p1 - s->p0);
}

static double map(const scale *s, double v) {
    return map_raw(s, s->log ? log10(v) : v);
}

static void tick_label(const scale *s, int i, char *buf, size_t n) {
    if (!s->log) {
        fmt_tick(buf, n, s->ticks[i], s->decimals);
        return;
    }
    double d = s->ticks[i], v = pow(10, d);
    if (d >= 0) v = round(v);
    fmt_tick(buf, n, v, d < 0 ? (int)-d : 0);
}

/* ---- validation -------------------------------------------------------------------------- */

static trn_status check_dims(int *w, int *h, trn_err *err) {
    if (*w == 0) *w = DEF_W;
    if (*h == 0) *h = DEF_H;
    if (*w < MIN_W || *h < MIN_H || *w > MAX_DIM || *h > MAX_DIM)
        return trn_err_set(err, TRN_E_RANGE,
                           "svg: canvas %d x %d px: expected %d to %d wide and %d to %d high", *w,
                           *h, MIN_W, MAX_DIM, MIN_H, MAX_DIM);
    return TRN_OK;
}

static trn_status check_axis(const trn_svg_axis *a, const char *which, int log_ok, trn_err *err) {
    if (a->log && !log_ok)
        return trn_err_set(err, TRN_E_INVALID,
                           "svg: %s axis: a log scale is not supported here "
                           "(bars start at 0)",
                           which);
    if (!a->fixed) return TRN_OK;
    if (!(isfinite(a->min) && isfinite(a->max) && a->min < a->max))
        return trn_err_set(err, TRN_E_RANGE,
                           "svg: %s axis: fixed range [%g, %g]: expected finite min < max", which,
                           a->min, a->max);
    if (a->log && !(a->min > 0))
        return trn_err_set(err, TRN_E_RANGE,
                           "svg: %s axis: fixed log range [%g, %g]: expected min > 0", which,
                           a->min, a->max);
    return TRN_OK;
}

static trn_status check_point(double v, int log, int series, const char *name, int64_t i,
                              const char *what, trn_err *err) {
    if (isfinite(v) && (!log || v > 0)) return TRN_OK;
    return trn_err_set(err, TRN_E_INVALID,
                       "svg: series %d (\"%s\") point %lld: %s is %g, expected a finite value%s",
                       series, name, (long long)i, what, v, log ? " > 0 (log axis)" : "");
}

/* ---- common pieces ----------------------------------------------------------------------- */

static int legend_width(const char *const *names, int n) {
    int m = 0, any = 0;
    for (int i = 0; i < n; i++)
        if (names[i]) {
            any = 1;
            int c = text_chars(names[i]);
            if (c > m) m = c;
        }
    if (!any) return 0;
    int g = 36 + CHAR_PX * m;
    return g < MAX_LEGEND ? g : MAX_LEGEND;
}

static void head(sbuf *b, int w, int h, const char *title) {
    sb_printf(b,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
              "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
              "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
              "<rect class=\"background\" x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" "
              "fill=\"white\"/>\n",
              w, h, w, h, w, h);
    if (title) {
        sb_printf(b,
                  "<text class=\"title\" x=\"%d\" y=\"28\" text-anchor=\"middle\" "
                  "font-size=\"16\" font-weight=\"bold\">",
                  w / 2);
        sb_text(b, title);
        sb_printf(b, "</text>\n");
    }
}

/* Horizontal value axis at the bottom (x) with grid lines up to y0. */
static void axis_x(sbuf *b, const scale *s, double y0, double y1, const char *label, double xmid,
                   int h) {
    char p[32], q[32], t[64];
    sb_printf(b, "<g class=\"x-axis\">\n");
    for (int i = 0; i < s->nticks; i++) {
        double x = map_raw(s, s->ticks[i]);
        px(p, x);
        sb_printf(b,
                  "<line class=\"grid\" x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" "
                  "stroke=\"#dddddd\"/>\n",
                  p, px(q, y0), p, px(t, y1));
        tick_label(s, i, t, sizeof t);
        sb_printf(b, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" ", p, px(q, y1), p);
        sb_printf(b, "y2=\"%s\" stroke=\"black\"/>\n", px(q, y1 + 5));
        sb_printf(b, "<text class=\"tick\" x=\"%s\" y=\"%s\" text-anchor=\"middle\">%s</text>\n", p,
                  px(q, y1 + 18), t);
    }
    sb_printf(b, "<line x1=\"%s\" y1=\"%s\" ", px(p, s->p0), px(q, y1));
    sb_printf(b, "x2=\"%s\" y2=\"%s\" stroke=\"black\"/>\n", px(p, s->p1), px(q, y1));
    if (label) {
        sb_printf(b, "<text class=\"x-label\" x=\"%s\" y=\"%d\" text-anchor=\"middle\">",
                  px(p, xmid), h - 14);
        sb_text(b, label);
        sb_printf(b, "</text>\n");
    }
    sb_printf(b, "</g>\n");
}

/* Vertical value axis at x0 with grid lines across to x1. */
static void axis_y(sbuf *b, const scale *s, double x0, double x1, const char *label, double ymid) {
    char p[32], q[32], t[64];
    sb_printf(b, "<g class=\"y-axis\">\n");
    for (int i = 0; i < s->nticks; i++) {
        double y = map_raw(s, s->ticks[i]);
        px(p, y);
        sb_printf(b, "<line class=\"grid\" x1=\"%s\" y1=\"%s\" ", px(q, x0), p);
        sb_printf(b, "x2=\"%s\" y2=\"%s\" stroke=\"#dddddd\"/>\n", px(t, x1), p);
        sb_printf(b, "<line x1=\"%s\" y1=\"%s\" ", px(q, x0 - 5), p);
        sb_printf(b, "x2=\"%s\" y2=\"%s\" stroke=\"black\"/>\n", px(q, x0), p);
        tick_label(s, i, t, sizeof t);
        sb_printf(b, "<text class=\"tick\" x=\"%s\" y=\"%s\" text-anchor=\"end\">%s</text>\n",
                  px(q, x0 - 8), px(p, y + 4), t);
    }
    sb_printf(b, "<line x1=\"%s\" y1=\"%s\" ", px(p, x0), px(q, s->p0));
    sb_printf(b, "x2=\"%s\" y2=\"%s\" stroke=\"black\"/>\n", px(p, x0), px(q, s->p1));
    if (label) {
        sb_printf(b, "<text class=\"y-label\" x=\"16\" y=\"%s\" text-anchor=\"middle\" ",
                  px(p, ymid));
        sb_printf(b, "transform=\"rotate(-90 16 %s)\">", p);
        sb_text(b, label);
        sb_printf(b, "</text>\n");
    }
    sb_printf(b, "</g>\n");
}

/* Legend column at x (swatches of `kind` 0 = line, 1 = box). */
static void legend(sbuf *b, const char *const *names, int n, double x, int kind) {
    char p[32], q[32];
    sb_printf(b, "<g class=\"legend\">\n");
    int row = 0;
    for (int i = 0; i < n; i++) {
        if (!names[i]) continue;
        double y = TOP + 8 + 20 * row++;
        if (kind == 0)
            sb_printf(b,
                      "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" "
                      "stroke-width=\"2\"%s/>\n",
                      px(p, x + 12), px(q, y), px((char[32]){0}, x + 32), q, palette[i % 8],
                      dashes[(i / 8) % 3]);
        else
            sb_printf(b, "<rect x=\"%s\" y=\"%s\" width=\"14\" height=\"14\" fill=\"%s\"/>\n",
                      px(p, x + 14), px(q, y - 7), palette[i % 8]);
        sb_printf(b, "<text x=\"%s\" y=\"%s\">", px(p, x + 36), px(q, y + 4));
        sb_text(b, names[i]);
        sb_printf(b, "</text>\n");
    }
    sb_printf(b, "</g>\n");
}

static trn_status finish(sbuf *b, char **svg, trn_err *err) {
    sb_printf(b, "</svg>\n");
    if (b->oom) {
        free(b->p);
        return trn_err_set(err, TRN_E_NOMEM, "svg: out of memory");
    }
    *svg = b->p;
    return TRN_OK;
}

/* ---- line charts ------------------------------------------------------------------------- */

trn_status trn_svg_line(const trn_svg_line_chart *c, char **svg, trn_err *err) {
    if (svg) *svg = NULL;
    if (!c || !svg) return trn_err_set(err, TRN_E_INVALID, "svg: no chart or output given");
    int w = c->width_px, h = c->height_px;
    trn_status st = check_dims(&w, &h, err);
    if (!st) st = check_axis(&c->x, "x", 1, err);
    if (!st) st = check_axis(&c->y, "y", 1, err);
    if (st) return st;
    if (c->nseries < 1 || c->nseries > 256 || !c->series)
        return trn_err_set(err, TRN_E_INVALID, "svg: line chart: expected 1 to 256 series, got %d",
                           c->nseries);
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    const char *names[256];
    const int nn = c->nseries;
    for (int s = 0; s < c->nseries; s++) {
        const trn_svg_series *r = &c->series[s];
        const char *nm = r->name ? r->name : "";
        if (r->n < 1 || !r->x || !r->y)
            return trn_err_set(err, TRN_E_INVALID,
                               "svg: series %d (\"%s\"): expected at least one point, got %lld", s,
                               nm, (long long)r->n);
        for (int64_t i = 0; i < r->n; i++) {
            st = check_point(r->x[i], c->x.log, s, nm, i, "x", err);
            if (!st) st = check_point(r->y[i], c->y.log, s, nm, i, "y", err);
            if (st) return st;
            xmin = fmin(xmin, r->x[i]), xmax = fmax(xmax, r->x[i]);
            ymin = fmin(ymin, r->y[i]), ymax = fmax(ymax, r->y[i]);
        }
        names[s] = r->name;
    }
    int g = legend_width(names, nn);
    scale sx, sy;
    make_scale(&sx, &c->x, xmin, xmax, 0);
    make_scale(&sy, &c->y, ymin, ymax, 1);
    sx.p0 = LEFT, sx.p1 = w - RIGHT - g;
    sy.p0 = h - BOTTOM, sy.p1 = TOP;

    sbuf b = {0};
    char p[32], q[32];
    head(&b, w, h, c->title);
    sb_printf(&b, "<clipPath id=\"plot-area\"><rect x=\"%s\" y=\"%d\" ", px(p, sx.p0), TOP);
    sb_printf(&b, "width=\"%s\" height=\"%d\"/></clipPath>\n", px(q, sx.p1 - sx.p0),
              h - BOTTOM - TOP);
    axis_x(&b, &sx, TOP, h - BOTTOM, c->x.label, (sx.p0 + sx.p1) / 2, h);
    axis_y(&b, &sy, sx.p0, sx.p1, c->y.label, (sy.p0 + sy.p1) / 2);
    for (int s = 0; s < c->nseries; s++) {
        const trn_svg_series *r = &c->series[s];
        sb_printf(&b,
                  "<polyline class=\"series\" clip-path=\"url(#plot-area)\" fill=\"none\" "
                  "stroke=\"%s\" stroke-width=\"2\"%s points=\"",
                  palette[s % 8], dashes[(s / 8) % 3]);
        for (int64_t i = 0; i < r->n; i++)
            sb_printf(&b, "%s%s,%s", i ? " " : "", px(p, map(&sx, r->x[i])),
                      px(q, map(&sy, r->y[i])));
        sb_printf(&b, "\"/>\n");
        if (c->markers)
            for (int64_t i = 0; i < r->n; i++)
                sb_printf(&b,
                          "<circle class=\"marker\" cx=\"%s\" cy=\"%s\" r=\"3\" fill=\"%s\"/>\n",
                          px(p, map(&sx, r->x[i])), px(q, map(&sy, r->y[i])), palette[s % 8]);
    }
    if (g) legend(&b, names, nn, sx.p1, 0);
    return finish(&b, svg, err);
}

/* Splits `t` at spaces into at most MAX_LINES lines of at most `maxch` characters (greedy; a
 * word longer than that gets a line of its own; what does not fit in MAX_LINES stays on the
 * last). Writes byte offsets and lengths; returns the line count (>= 1). */
static int wrap(const char *t, int maxch, int *start, int *len) {
    int n = 0, cur_start = 0, cur_chars = 0, i = 0;
    const int tl = (int)strlen(t);
    start[0] = 0, len[0] = tl;
    while (i < tl) {
        while (i < tl && t[i] == ' ') i++;
        int ws = i, wc = 0;
        while (i < tl && t[i] != ' ') wc += ((unsigned char)t[i++] & 0xC0) != 0x80;
        if (wc == 0) break;
        if (n == 0 && cur_chars == 0) { /* first word */
            cur_start = ws, cur_chars = wc, n = 1;
        } else if (cur_chars + 1 + wc <= maxch || n == MAX_LINES) {
            cur_chars += 1 + wc;
        } else {
            start[n - 1] = cur_start;
            n++, cur_start = ws, cur_chars = wc;
        }
        start[n - 1] = cur_start, len[n - 1] = i - cur_start;
    }
    return n > 0 ? n : 1;
}

/* ---- bar charts -------------------------------------------------------------------------- */

typedef struct rank_item {
    double v;
    int i;
} rank_item;

static int rank_up(const void *a, const void *b) {
    const rank_item *x = a, *y = b;
    if (x->v != y->v) return x->v < y->v ? -1 : 1;
    return x->i - y->i;
}

static int rank_down(const void *a, const void *b) {
    const rank_item *x = a, *y = b;
    if (x->v != y->v) return x->v > y->v ? -1 : 1;
    return x->i - y->i;
}

static trn_status check_table(const char *const *labels, int nl, const char *lname,
                              const char *const *cols, int nc, const char *cname, const double *v,
                              trn_err *err) {
    if (nl < 1 || !labels)
        return trn_err_set(err, TRN_E_INVALID, "svg: expected at least one %s, got %d", lname, nl);
    if (nc < 1 || nc > 256)
        return trn_err_set(err, TRN_E_INVALID, "svg: expected 1 to 256 %ss, got %d", cname, nc);
    if (!v) return trn_err_set(err, TRN_E_INVALID, "svg: no values given");
    for (int i = 0; i < nl; i++)
        for (int j = 0; j < nc; j++) {
            double x = v[(size_t)i * (size_t)nc + (size_t)j];
            if (!(isfinite(x) && x >= 0))
                return trn_err_set(err, TRN_E_INVALID,
                                   "svg: %s %d (\"%s\") %s %d (\"%s\"): value is %g, expected a "
                                   "finite value >= 0",
                                   lname, i, labels[i] ? labels[i] : "", cname, j,
                                   cols && cols[j] ? cols[j] : "", x);
        }
    return TRN_OK;
}

trn_status trn_svg_bars(const trn_svg_bar_chart *c, char **svg, trn_err *err) {
    if (svg) *svg = NULL;
    if (!c || !svg) return trn_err_set(err, TRN_E_INVALID, "svg: no chart or output given");
    int w = c->width_px, h = c->height_px;
    trn_status st = check_dims(&w, &h, err);
    if (!st) st = check_axis(&c->y, "y", 0, err);
    if (!st)
        st = check_table(c->categories, c->ncategories, "category", c->groups, c->ngroups, "group",
                         c->values, err);
    if (st) return st;
    const int nc = c->ncategories, ng = c->ngroups;
    rank_item *ord = malloc((size_t)nc * sizeof *ord);
    if (!ord) return trn_err_set(err, TRN_E_NOMEM, "svg: out of memory");
    double vmax = 0;
    for (int i = 0; i < nc; i++) {
        ord[i] = (rank_item){c->values[(size_t)i * (size_t)ng], i};
        for (int j = 0; j < ng; j++)
            vmax = fmax(vmax, c->values[(size_t)i * (size_t)ng + (size_t)j]);
    }
    if (c->rank > 0) qsort(ord, (size_t)nc, sizeof *ord, rank_up);
    if (c->rank < 0) qsort(ord, (size_t)nc, sizeof *ord, rank_down);

    int g = c->groups ? legend_width(c->groups, ng) : 0;
    const double x0 = LEFT, x1 = w - RIGHT - g, slot = (x1 - x0) / nc, bw = 0.8 * slot / ng;
    int maxch = (int)(slot / CHAR_PX), nlines = 1;
    for (int i = 0; i < nc; i++) {
        int st0[MAX_LINES], ln0[MAX_LINES];
        int k = wrap(c->categories[i], maxch, st0, ln0);
        if (k > nlines) nlines = k;
    }
    scale sy;
    make_scale(&sy, &c->y, 0, vmax, 1);
    sy.p0 = h - BOTTOM - LINE_PX * (nlines - 1), sy.p1 = TOP;

    sbuf b = {0};
    char p[32], q[32], r[32], s[32];
    head(&b, w, h, c->title);
    axis_y(&b, &sy, x0, x1, c->y.label, (sy.p0 + sy.p1) / 2);
    sb_printf(&b, "<line x1=\"%s\" y1=\"%s\" ", px(p, x0), px(q, sy.p0));
    sb_printf(&b, "x2=\"%s\" y2=\"%s\" stroke=\"black\"/>\n", px(p, x1), q);
    sb_printf(&b, "<g class=\"bars\">\n");
    for (int k = 0; k < nc; k++) {
        int i = ord[k].i;
        for (int j = 0; j < ng; j++) {
            double v = c->values[(size_t)i * (size_t)ng + (size_t)j];
            double bx = x0 + k * slot + 0.1 * slot + j * bw, top = map(&sy, v);
            if (top < TOP) top = TOP; /* clipped at a fixed maximum */
            sb_printf(&b, "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\"/>\n",
                      px(p, bx), px(q, top), px(r, bw), px(s, sy.p0 - top), palette[j % 8]);
            if (c->value_labels) {
                char t[32];
                fmt_value(t, sizeof t, v);
                sb_printf(&b,
                          "<text class=\"value\" x=\"%s\" y=\"%s\" text-anchor=\"middle\" "
                          "font-size=\"10\">%s</text>\n",
                          px(p, bx + bw / 2), px(q, top - 4), t);
            }
        }
        double cx = x0 + (k + 0.5) * slot, cy = sy.p0 + 18;
        sb_printf(&b, "<text class=\"category\" x=\"%s\" y=\"%s\" text-anchor=\"middle\">",
                  px(p, cx), px(q, cy));
        int st0[MAX_LINES], ln0[MAX_LINES];
        int nl = wrap(c->categories[i], maxch, st0, ln0);
        if (nl == 1) {
            sb_text(&b, c->categories[i]);
        } else {
            for (int l = 0; l < nl; l++) {
                char line[512];
                int len = ln0[l] < 511 ? ln0[l] : 511;
                memcpy(line, c->categories[i] + st0[l], (size_t)len);
                line[len] = 0;
                sb_printf(&b, "<tspan x=\"%s\" dy=\"%d\">", p, l ? LINE_PX : 0);
                sb_text(&b, line);
                sb_printf(&b, "</tspan>");
            }
        }
        sb_printf(&b, "</text>\n");
    }
    sb_printf(&b, "</g>\n");
    free(ord);
    if (g) legend(&b, c->groups, ng, x1, 1);
    return finish(&b, svg, err);
}

/* ---- stacked horizontal bars ------------------------------------------------------------- */

trn_status trn_svg_stacked(const trn_svg_stack_chart *c, char **svg, trn_err *err) {
    if (svg) *svg = NULL;
    if (!c || !svg) return trn_err_set(err, TRN_E_INVALID, "svg: no chart or output given");
    int w = c->width_px, h = c->height_px;
    trn_status st = check_dims(&w, &h, err);
    if (!st) st = check_axis(&c->x, "x", 0, err);
    if (!st)
        st = check_table(c->rows, c->nrows, "row", c->parts, c->nparts, "part", c->values, err);
    if (st) return st;
    if (!c->parts) return trn_err_set(err, TRN_E_INVALID, "svg: stacked bars: no part names given");
    const int nr = c->nrows, np = c->nparts;
    double vmax = 0;
    int maxlab = 0;
    for (int i = 0; i < nr; i++) {
        double sum = 0;
        for (int j = 0; j < np; j++) sum += c->values[(size_t)i * (size_t)np + (size_t)j];
        vmax = fmax(vmax, sum);
        int k = text_chars(c->rows[i]);
        if (k > maxlab) maxlab = k;
    }
    int left = 12 + CHAR_PX * maxlab;
    left = left < LEFT ? LEFT : left > MAX_LEFT ? MAX_LEFT : left;
    int g = legend_width(c->parts, np);
    scale sx;
    make_scale(&sx, &c->x, 0, vmax, 1);
    sx.p0 = left, sx.p1 = w - RIGHT - g;
    const double y0 = TOP, y1 = h - BOTTOM, slot = (y1 - y0) / nr, bh = 0.6 * slot;

    sbuf b = {0};
    char p[32], q[32], r[32], s[32];
    head(&b, w, h, c->title);
    axis_x(&b, &sx, y0, y1, c->x.label, (sx.p0 + sx.p1) / 2, h);
    sb_printf(&b, "<line x1=\"%s\" y1=\"%s\" ", px(p, sx.p0), px(q, y0));
    sb_printf(&b, "x2=\"%s\" y2=\"%s\" stroke=\"black\"/>\n", p, px(q, y1));
    sb_printf(&b, "<g class=\"stacks\">\n");
    for (int i = 0; i < nr; i++) {
        double by = y0 + i * slot + 0.2 * slot, cum = 0;
        for (int j = 0; j < np; j++) {
            double v = c->values[(size_t)i * (size_t)np + (size_t)j];
            double a = map(&sx, cum), e = map(&sx, cum + v);
            if (e > sx.p1) e = sx.p1; /* clipped at a fixed maximum */
            if (a > sx.p1) a = sx.p1;
            cum += v;
            sb_printf(&b, "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\"/>\n",
                      px(p, a), px(q, by), px(r, e - a), px(s, bh), palette[j % 8]);
        }
        sb_printf(&b, "<text class=\"row\" x=\"%s\" y=\"%s\" text-anchor=\"end\">",
                  px(p, sx.p0 - 8), px(q, by + bh / 2 + 4));
        sb_text(&b, c->rows[i]);
        sb_printf(&b, "</text>\n");
    }
    sb_printf(&b, "</g>\n");
    legend(&b, c->parts, np, sx.p1, 1);
    return finish(&b, svg, err);
}

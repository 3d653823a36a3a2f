/* SVG charts (svg.h): every document is well-formed XML (a small checker here, and Python's
 * xml.etree when python3 is installed), data land on the pixels the documented geometry gives
 * when worked by hand, log axes tick at decades, text is escaped, and bad data are refused
 * with a message naming the datum.
 * LABELS: unit */
#include "harness.h"
#include "trnsim/svg.h"

#include <ctype.h>
#include <unistd.h>

/* ---- a tiny XML well-formedness checker -------------------------------------------------- */

/* Accepts the five predefined entities and numeric character references. */
static int entity_ok(const char **p) {
    static const char *const ents[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (int i = 0; i < 5; i++)
        if (strncmp(*p, ents[i], strlen(ents[i])) == 0) {
            *p += strlen(ents[i]);
            return 1;
        }
    if ((*p)[1] == '#') {
        const char *q = *p + 2;
        while (isalnum((unsigned char)*q)) q++;
        if (*q == ';' && q > *p + 2) {
            *p = q + 1;
            return 1;
        }
    }
    return 0;
}

static int name_char(char c) {
    return isalnum((unsigned char)c) || c == '_' || c == ':' || c == '-' || c == '.';
}

/* 1 when `s` is one well-formed element (after an optional XML declaration); else 0 and a
 * reason in why. Text must not hold a raw '>' either, so escaping is checked too. */
static int xml_ok(const char *s, char *why, size_t n) {
    const char *stack[64];
    size_t len[64];
    int depth = 0, roots = 0;
    const char *p = s;
    if (strncmp(p, "<?xml", 5) == 0) {
        p = strstr(p, "?>");
        if (!p) return snprintf(why, n, "unterminated declaration"), 0;
        p += 2;
    }
    while (*p) {
        if (*p != '<') {
            if (!isspace((unsigned char)*p) && depth == 0)
                return snprintf(why, n, "text outside the root at %.20s", p), 0;
            if (*p == '>') return snprintf(why, n, "raw '>' in text at %.20s", p), 0;
            if (*p != '&')
                p++;
            else if (!entity_ok(&p))
                return snprintf(why, n, "bad entity at %.20s", p), 0;
            continue;
        }
        if (p[1] == '/') { /* end tag */
            const char *q = p + 2, *e = q;
            while (name_char(*e)) e++;
            if (depth == 0 || (size_t)(e - q) != len[depth - 1] ||
                strncmp(q, stack[depth - 1], len[depth - 1]) != 0)
                return snprintf(why, n, "mismatched end tag at %.30s", p), 0;
            while (isspace((unsigned char)*e)) e++;
            if (*e != '>') return snprintf(why, n, "bad end tag at %.30s", p), 0;
            depth--;
            p = e + 1;
            continue;
        }
        const char *q = p + 1, *e = q;
        if (!(isalpha((unsigned char)*e) || *e == '_'))
            return snprintf(why, n, "bad tag name at %.30s", p), 0;
        while (name_char(*e)) e++;
        const char *names[64];
        size_t nlen[64];
        int nattr = 0;
        for (;;) { /* attributes */
            int sp = 0;
            while (isspace((unsigned char)*e)) e++, sp = 1;
            if (*e == '>' || (e[0] == '/' && e[1] == '>')) break;
            if (!sp) return snprintf(why, n, "no space before attribute at %.30s", e), 0;
            const char *a = e;
            while (name_char(*e)) e++;
            if (e == a || *e != '=' || (e[1] != '"' && e[1] != '\''))
                return snprintf(why, n, "bad attribute at %.30s", a), 0;
            for (int i = 0; i < nattr; i++)
                if (nlen[i] == (size_t)(e - a) && strncmp(names[i], a, nlen[i]) == 0)
                    return snprintf(why, n, "duplicate attribute at %.30s", a), 0;
            if (nattr < 64) names[nattr] = a, nlen[nattr++] = (size_t)(e - a);
            char quote = e[1];
            e += 2;
            while (*e && *e != quote) {
                if (*e == '<') return snprintf(why, n, "'<' in attribute at %.30s", a), 0;
                if (*e == '&') {
                    if (!entity_ok(&e)) return snprintf(why, n, "bad entity at %.30s", e), 0;
                } else {
                    e++;
                }
            }
            if (!*e) return snprintf(why, n, "unterminated attribute at %.30s", a), 0;
            e++;
        }
        if (depth == 0) roots++;
        if (*e == '/') {
            p = e + 2;
        } else {
            if (depth == 64) return snprintf(why, n, "too deep"), 0;
            stack[depth] = q, len[depth++] = (size_t)(strcspn(q, " \t\n/>"));
            p = e + 1;
        }
    }
    if (depth) return snprintf(why, n, "%d unclosed elements", depth), 0;
    if (roots != 1) return snprintf(why, n, "%d root elements", roots), 0;
    return 1;
}

/* Every document made is checked here and kept for the python3 pass. */
static char *docs[32];
static int ndocs;

static void check_doc(char *svg) {
    char why[128] = "";
    CHECK_MSG(svg && xml_ok(svg, why, sizeof why), "not well-formed: %s", why);
    if (svg && ndocs < 32) docs[ndocs++] = svg;
}

/* Substring count. */
static int count(const char *s, const char *sub) {
    int k = 0;
    for (const char *p = s; (p = strstr(p, sub)); p += strlen(sub)) k++;
    return k;
}

/* ---- line charts ------------------------------------------------------------------------- */

static void test_line_pixels(void) {
    /* 500 x 300, no legend: plot x 72..476 (404 px), y 244..48 (196 px). x in [0, 100],
     * y in [0, 50]: (25, 10) -> (72 + 0.25 x 404, 244 - 0.2 x 196) = (173.00, 204.80). */
    const double x[3] = {0, 25, 100}, y[3] = {0, 10, 50};
    trn_svg_series s = {NULL, x, y, 3};
    trn_svg_line_chart c = {
        .title = "t", .series = &s, .nseries = 1, .width_px = 500, .height_px = 300};
    c.x = (trn_svg_axis){"chips", 0, 1, 0, 100};
    c.y = (trn_svg_axis){"tokens/s", 0, 1, 0, 50};
    char *svg = NULL;
    trn_err e;
    CHECK_EQ_INT(trn_svg_line(&c, &svg, &e), TRN_OK);
    check_doc(svg);
    CHECK_CONTAINS(svg, "points=\"72.00,244.00 173.00,204.80 476.00,48.00\"");
    /* x ticks every 20 (100 / 5): the tick at 20 sits at 72 + 0.2 x 404 = 152.80 */
    CHECK_CONTAINS(svg,
                   "<text class=\"tick\" x=\"152.80\" y=\"262.00\" text-anchor=\"middle\">20<");
    /* y ticks every 10: 30 at 244 - 0.6 x 196 = 126.40, label baseline 4 px lower */
    CHECK_CONTAINS(svg, "<text class=\"tick\" x=\"64.00\" y=\"130.40\" text-anchor=\"end\">30<");
    CHECK_EQ_INT(count(svg, "class=\"tick\""), 6 + 6);
    CHECK_CONTAINS(svg, ">tokens/s</text>");
    CHECK_CONTAINS(svg, "width=\"500\" height=\"300\"");
    CHECK(strstr(svg, "class=\"legend\"") == NULL);

    /* The same twice: the same bytes. */
    char *again = NULL;
    CHECK_EQ_INT(trn_svg_line(&c, &again, &e), TRN_OK);
    CHECK(again && strcmp(svg, again) == 0);
    free(again);

    /* A pixel of -0.001 prints as 0.00, never -0.00. */
    const double xm[2] = {-72.001 / 404, 1}, ym[2] = {0, 1};
    trn_svg_series sm = {NULL, xm, ym, 2};
    c.series = &sm;
    c.x = (trn_svg_axis){NULL, 0, 1, 0, 1};
    CHECK_EQ_INT(trn_svg_line(&c, &again, &e), TRN_OK);
    CHECK_CONTAINS(again, "points=\"0.00,");
    CHECK(strstr(again, "-0.00") == NULL);
    check_doc(again);
}

static void test_line_log(void) {
    /* 720 x 440 with a legend of 4-character names: G = 36 + 28 = 64, plot x 72..632
     * (560 px), y 384..48. x on log10 from 1 to 1M: 6 decades of 93.33 px. */
    const double x[4] = {1, 10, 1000, 1e6}, y1[4] = {1, 2, 3, 4}, y2[4] = {0.5, 1, 2, 4};
    trn_svg_series s[2] = {{"trn2", x, y1, 4}, {"h100", x, y2, 4}};
    trn_svg_line_chart c = {.title = "Throughput vs chips", .series = s, .nseries = 2};
    c.x = (trn_svg_axis){"chips", 1, 0, 0, 0};
    c.y = (trn_svg_axis){"tokens/s", 0, 0, 0, 0};
    c.markers = 1;
    char *svg = NULL;
    trn_err e;
    CHECK_EQ_INT(trn_svg_line(&c, &svg, &e), TRN_OK);
    check_doc(svg);
    /* y from 0 (all data >= 0) to 4 in steps of 1: y(2) = 384 - 0.5 x 336 = 216 */
    CHECK_CONTAINS(svg, "points=\"72.00,300.00 165.33,216.00 352.00,132.00 632.00,48.00\"");
    const char *labels[7] = {"1", "10", "100", "1k", "10k", "100k", "1M"};
    const char *xs[7] = {"72.00", "165.33", "258.67", "352.00", "445.33", "538.67", "632.00"};
    for (int i = 0; i < 7; i++) {
        char want[128];
        snprintf(want, sizeof want,
                 "<text class=\"tick\" x=\"%s\" y=\"402.00\" text-anchor=\"middle\">%s</text>",
                 xs[i], labels[i]);
        CHECK_CONTAINS(svg, want);
    }
    CHECK_CONTAINS(svg, ">trn2</text>");
    CHECK_CONTAINS(svg, ">h100</text>");
    CHECK_EQ_INT(count(svg, "<circle"), 8);
    CHECK_EQ_INT(count(svg, "<polyline"), 2);
    CHECK_CONTAINS(svg, "stroke=\"#D55E00\""); /* the second colour */

    /* 13 decades (1e-3 .. 1e9): a tick every 2nd decade, starting at the first. */
    const double xw[2] = {1e-3, 1e9}, yw[2] = {1, 1};
    trn_svg_series sw = {NULL, xw, yw, 2};
    c.series = &sw, c.nseries = 1;
    char *wide = NULL;
    CHECK_EQ_INT(trn_svg_line(&c, &wide, &e), TRN_OK);
    check_doc(wide);
    CHECK_CONTAINS(wide, ">0.001</text>");
    CHECK_CONTAINS(wide, ">0.1</text>");
    CHECK_CONTAINS(wide, ">1G</text>");
    CHECK(strstr(wide, ">0.01</text>") == NULL && strstr(wide, ">1</text>") == NULL);
}

static void test_line_auto_ticks(void) {
    /* y data 0.5 .. 9.3: from 0, step nice(9.3 / 5 = 1.86) = 2, so 0 2 4 6 8 10. */
    const double x[2] = {0, 1}, y[2] = {0.5, 9.3};
    trn_svg_series s = {NULL, x, y, 2};
    trn_svg_line_chart c = {.series = &s, .nseries = 1};
    char *svg = NULL;
    trn_err e;
    CHECK_EQ_INT(trn_svg_line(&c, &svg, &e), TRN_OK);
    check_doc(svg);
    for (int v = 0; v <= 10; v += 2) {
        char want[32];
        snprintf(want, sizeof want, "\">%d</text>", v);
        CHECK_CONTAINS(svg, want);
    }
    CHECK(strstr(svg, "\">12</text>") == NULL);
    /* decimals follow the step: 0.0 .. 1.0 in 0.2 */
    const double ys[2] = {0.05, 0.93};
    s.y = ys;
    char *small = NULL;
    CHECK_EQ_INT(trn_svg_line(&c, &small, &e), TRN_OK);
    CHECK_CONTAINS(small, "\">0.2</text>");
    CHECK_CONTAINS(small, "\">1.0</text>");
    check_doc(small);
    /* SI suffixes: 0 .. 2.5M in steps of 500k */
    const double yb[2] = {1e5, 2.5e6};
    s.y = yb;
    char *big = NULL;
    CHECK_EQ_INT(trn_svg_line(&c, &big, &e), TRN_OK);
    CHECK_CONTAINS(big, "\">500k</text>");
    CHECK_CONTAINS(big, "\">1.5M</text>");
    CHECK_CONTAINS(big, "\">2.5M</text>");
    check_doc(big);
}

/* ---- escaping ---------------------------------------------------------------------------- */

static void test_escape(void) {
    char buf[128];
    size_t k = trn_svg_escape("a<b & c>d \"q\" 'x'", buf, sizeof buf);
    CHECK(strcmp(buf, "a&lt;b &amp; c&gt;d &quot;q&quot; &apos;x&apos;") == 0);
    CHECK_EQ_INT(k, strlen(buf));
    trn_svg_escape("x\x01y\tz", buf, sizeof buf);
    CHECK(strcmp(buf, "x y\tz") == 0);
    trn_svg_escape("\xc2\xb5s \xff \xe2\x82\xac", buf, sizeof buf); /* µs, a stray byte, € */
    CHECK(strcmp(buf, "\xc2\xb5s ? \xe2\x82\xac") == 0);
    trn_svg_escape("\xed\xa0\x80", buf, sizeof buf); /* a UTF-16 surrogate: not UTF-8 */
    CHECK(strcmp(buf, "???") == 0);
    /* truncation never splits an entity; the return value is the full length */
    k = trn_svg_escape("a&b", buf, 6);
    CHECK(strcmp(buf, "a") == 0 && k == 7);
    k = trn_svg_escape("a&b", buf, 7);
    CHECK(strcmp(buf, "a&amp;") == 0 && k == 7);

    const double x[1] = {1}, y[1] = {1};
    trn_svg_series s = {"<&>", x, y, 1};
    trn_svg_line_chart c = {.title = "cost <$> & \"energy\"", .series = &s, .nseries = 1};
    c.x.label = "x < y";
    char *svg = NULL;
    trn_err e;
    CHECK_EQ_INT(trn_svg_line(&c, &svg, &e), TRN_OK);
    check_doc(svg);
    CHECK_CONTAINS(svg, ">cost &lt;$&gt; &amp; &quot;energy&quot;</text>");
    CHECK_CONTAINS(svg, ">&lt;&amp;&gt;</text>");
    CHECK_CONTAINS(svg, ">x &lt; y</text>");
}

/* ---- bars -------------------------------------------------------------------------------- */

static void test_bars(void) {
    /* 500 x 300, one unnamed group: plot x 72..476, y 244..48. Max 0.22 -> step
     * nice(0.044) = 0.05 -> axis 0..0.25. Ranked ascending: trn2 0.12, p6 0.18, p5 0.22.
     * Slot 404 / 3 = 134.667, bar 0.8 slot = 107.73, offset 0.1 slot = 13.47.
     * trn2: x 85.47, top 244 - 0.48 x 196 = 149.92, height 94.08. */
    const char *cats[3] = {"p5", "trn2", "p6"};
    const double v[3] = {0.22, 0.12, 0.18};
    trn_svg_bar_chart c = {.title = "$ per 1M tokens",
                           .categories = cats,
                           .ncategories = 3,
                           .ngroups = 1,
                           .values = v,
                           .rank = 1,
                           .value_labels = 1,
                           .width_px = 500,
                           .height_px = 300};
    c.y.label = "USD per 1M output tokens";
    char *svg = NULL;
    trn_err e;
    CHECK_EQ_INT(trn_svg_bars(&c, &svg, &e), TRN_OK);
    check_doc(svg);
    CHECK_CONTAINS(svg, "<rect x=\"85.47\" y=\"149.92\" width=\"107.73\" height=\"94.08\"");
    CHECK_CONTAINS(svg, "<rect x=\"220.13\" y=\"102.88\" width=\"107.73\" height=\"141.12\"");
    CHECK_CONTAINS(svg, "<rect x=\"354.80\" y=\"71.52\" width=\"107.73\" height=\"172.48\"");
    CHECK_CONTAINS(svg, "x=\"139.33\" y=\"145.92\" text-anchor=\"middle\" font-size=\"10\">0.12<");
    const char *a = strstr(svg, ">trn2<"), *b = strstr(svg, ">p6<"), *d = strstr(svg, ">p5<");
    CHECK(a && b && d && a < b && b < d);
    CHECK_CONTAINS(svg, "\">0.25</text>");
    CHECK_CONTAINS(svg, "\">0.05</text>");
    /* A label wider than its slot (19 characters) wraps at spaces; the plot's bottom rises by
     * 14 px per extra line: y 230..48 (182 px), so 1 of 0..4 -> top 184.50, height 45.50. */
    const char *wcats[3] = {"a rather long category name", "b", "c"};
    const double wv[3] = {1, 2, 4};
    trn_svg_bar_chart wc = {.categories = wcats,
                            .ncategories = 3,
                            .ngroups = 1,
                            .values = wv,
                            .width_px = 500,
                            .height_px = 300};
    wc.y = (trn_svg_axis){NULL, 0, 1, 0, 4};
    char *wrapped = NULL;
    CHECK_EQ_INT(trn_svg_bars(&wc, &wrapped, &e), TRN_OK);
    CHECK_CONTAINS(wrapped, "<rect x=\"85.47\" y=\"184.50\" width=\"107.73\" height=\"45.50\"");
    CHECK_CONTAINS(wrapped, "<tspan x=\"139.33\" dy=\"0\">a rather long</tspan><tspan "
                            "x=\"139.33\" dy=\"14\">category name</tspan>");
    CHECK_CONTAINS(wrapped, "text-anchor=\"middle\">b</text>");
    check_doc(wrapped);
    /* descending */
    c.rank = -1;
    char *down = NULL;
    CHECK_EQ_INT(trn_svg_bars(&c, &down, &e), TRN_OK);
    a = strstr(down, ">trn2<"), d = strstr(down, ">p5<");
    CHECK(a && d && d < a);
    check_doc(down);

    /* Two named groups: G = 36 + 7 x 6 = 78, plot x 72..398, slot 163, bar 65.2; category 0
     * group 1 at 72 + 16.3 + 65.2 = 153.50; fixed range 0..1: 0.5 -> top 146, height 98. */
    const char *two[2] = {"trn2", "h100"}, *groups[2] = {"input", "output"};
    const double v2[4] = {0.25, 0.5, 1.5, 1e4};
    trn_svg_bar_chart g = {.categories = two,
                           .ncategories = 2,
                           .groups = groups,
                           .ngroups = 2,
                           .values = v2,
                           .value_labels = 1,
                           .width_px = 500,
                           .height_px = 300};
    g.y = (trn_svg_axis){"USD", 0, 1, 0, 1};
    char *grp = NULL;
    CHECK_EQ_INT(trn_svg_bars(&g, &grp, &e), TRN_OK);
    check_doc(grp);
    CHECK_CONTAINS(grp, "<rect x=\"153.50\" y=\"146.00\" width=\"65.20\" height=\"98.00\"");
    CHECK_CONTAINS(grp, ">output</text>");
    CHECK_CONTAINS(grp, "font-size=\"10\">10k<"); /* 3 significant digits with SI */
    /* values above a fixed maximum are clipped at the top of the plot */
    CHECK_CONTAINS(grp, "y=\"48.00\" width=\"65.20\" height=\"196.00\"");
}

static void test_stacked(void) {
    /* 600 x 300, row labels of 4 characters (L = 72), legend of 12 (G = 120): plot x
     * 72..456 (384 px), x fixed 0..10 (38.4 px per unit); 2 rows of 98 px, bars 58.8 high
     * from 19.6 px into the slot. Row 0 = 2 + 1 + 0.5. */
    const char *rows[2] = {"trn2", "h100"}, *parts[3] = {"compute", "exposed comm", "bubble"};
    const double v[6] = {2, 1, 0.5, 3, 0, 1};
    trn_svg_stack_chart c = {.title = "Step time",
                             .rows = rows,
                             .nrows = 2,
                             .parts = parts,
                             .nparts = 3,
                             .values = v,
                             .width_px = 600,
                             .height_px = 300};
    c.x = (trn_svg_axis){"ms per step", 0, 1, 0, 10};
    char *svg = NULL;
    trn_err e;
    CHECK_EQ_INT(trn_svg_stacked(&c, &svg, &e), TRN_OK);
    check_doc(svg);
    CHECK_CONTAINS(svg, "<rect x=\"72.00\" y=\"67.60\" width=\"76.80\" height=\"58.80\" "
                        "fill=\"#0072B2\"");
    CHECK_CONTAINS(svg, "<rect x=\"148.80\" y=\"67.60\" width=\"38.40\" height=\"58.80\" "
                        "fill=\"#D55E00\"");
    CHECK_CONTAINS(svg, "<rect x=\"187.20\" y=\"67.60\" width=\"19.20\" height=\"58.80\" "
                        "fill=\"#009E73\"");
    CHECK_CONTAINS(svg, "<rect x=\"72.00\" y=\"165.60\" width=\"115.20\"");
    CHECK_CONTAINS(svg, "<rect x=\"187.20\" y=\"165.60\" width=\"0.00\"");
    CHECK_CONTAINS(svg, ">exposed comm</text>");
    CHECK_CONTAINS(svg, ">ms per step</text>");
    /* long row labels widen the left margin to 12 + 7 x 28 = 208 */
    const char *longrows[2] = {"a very long system name here", "x"};
    c.rows = longrows;
    char *wide = NULL;
    CHECK_EQ_INT(trn_svg_stacked(&c, &wide, &e), TRN_OK);
    CHECK_CONTAINS(wide, "<rect x=\"208.00\" y=\"67.60\"");
    check_doc(wide);
    /* auto axis: the longest bar (4) -> 0..4 in steps of 1 */
    c.x = (trn_svg_axis){NULL, 0, 0, 0, 0};
    char *autox = NULL;
    CHECK_EQ_INT(trn_svg_stacked(&c, &autox, &e), TRN_OK);
    CHECK_CONTAINS(autox, "\">4</text>");
    CHECK(strstr(autox, "\">5</text>") == NULL);
    check_doc(autox);
}

/* ---- bad input --------------------------------------------------------------------------- */

static void expect_line_err(const trn_svg_line_chart *c, trn_status st, const char *sub) {
    char *svg = (char *)1;
    trn_err e = {0};
    CHECK_EQ_INT(trn_svg_line(c, &svg, &e), st);
    CHECK(svg == NULL);
    CHECK_CONTAINS(e.msg, sub);
}

static void test_errors(void) {
    const double x[3] = {1, 2, 3}, y[3] = {1, NAN, 3}, yi[3] = {1, 2, INFINITY}, x0[3] = {0, 1, 2};
    trn_svg_series s[2] = {{"a", x, x, 3}, {"b", x, y, 3}};
    trn_svg_line_chart c = {.series = s, .nseries = 2};
    expect_line_err(&c, TRN_E_INVALID, "series 1 (\"b\") point 1: y is nan, expected a finite");
    s[1].y = yi;
    expect_line_err(&c, TRN_E_INVALID, "series 1 (\"b\") point 2: y is inf");
    s[1].y = x, s[1].n = 0;
    expect_line_err(&c, TRN_E_INVALID, "series 1 (\"b\"): expected at least one point, got 0");
    s[1].n = 3, s[1].x = x0;
    c.x.log = 1;
    expect_line_err(&c, TRN_E_INVALID, "point 0: x is 0, expected a finite value > 0 (log axis)");
    c.x.log = 0;
    c.nseries = 0;
    expect_line_err(&c, TRN_E_INVALID, "expected 1 to 256 series, got 0");
    c.nseries = 2, c.width_px = 100;
    expect_line_err(&c, TRN_E_RANGE, "canvas 100 x 440 px");
    c.width_px = 0;
    c.y = (trn_svg_axis){NULL, 0, 1, 5, 5};
    expect_line_err(&c, TRN_E_RANGE, "y axis: fixed range [5, 5]: expected finite min < max");
    c.y = (trn_svg_axis){NULL, 1, 1, 0, 5};
    expect_line_err(&c, TRN_E_RANGE, "y axis: fixed log range [0, 5]: expected min > 0");

    const char *cats[2] = {"p5", "trn2"};
    const double bad[2] = {1, -1};
    trn_svg_bar_chart b = {.categories = cats, .ncategories = 2, .ngroups = 1, .values = bad};
    char *svg = (char *)1;
    trn_err e = {0};
    CHECK_EQ_INT(trn_svg_bars(&b, &svg, &e), TRN_E_INVALID);
    CHECK(svg == NULL);
    CHECK_CONTAINS(e.msg, "category 1 (\"trn2\") group 0 (\"\"): value is -1, expected a finite "
                          "value >= 0");
    b.ncategories = 0;
    CHECK_EQ_INT(trn_svg_bars(&b, &svg, &e), TRN_E_INVALID);
    CHECK_CONTAINS(e.msg, "expected at least one category, got 0");
    b.ncategories = 1, b.y.log = 1;
    CHECK_EQ_INT(trn_svg_bars(&b, &svg, &e), TRN_E_INVALID);
    CHECK_CONTAINS(e.msg, "log scale is not supported");

    const char *rows[1] = {"trn2"}, *parts[2] = {"compute", "bubble"};
    const double sv[2] = {1, NAN};
    trn_svg_stack_chart st = {.rows = rows, .nrows = 1, .parts = parts, .nparts = 2, .values = sv};
    CHECK_EQ_INT(trn_svg_stacked(&st, &svg, &e), TRN_E_INVALID);
    CHECK_CONTAINS(e.msg, "row 0 (\"trn2\") part 1 (\"bubble\"): value is nan");
    CHECK_EQ_INT(trn_svg_line(NULL, &svg, &e), TRN_E_INVALID);
}

/* ---- an independent parser --------------------------------------------------------------- */

static void test_python_xml(void) {
    if (system("python3 -c 'import xml.etree.ElementTree' >/dev/null 2>&1") != 0) {
        printf("python3 not found: the xml.etree pass is skipped\n");
        return;
    }
    char dir[] = "/tmp/trn_svg_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char cmd[4096];
    int w = snprintf(cmd, sizeof cmd,
                     "python3 -c 'import sys, xml.etree.ElementTree as E\n"
                     "for f in sys.argv[1:]:\n"
                     "    r = E.parse(f).getroot()\n"
                     "    assert r.tag == \"{http://www.w3.org/2000/svg}svg\", f\n"
                     "print(len(sys.argv) - 1, \"documents parsed\")'");
    for (int i = 0; i < ndocs; i++) {
        char path[64];
        snprintf(path, sizeof path, "%s/%02d.svg", dir, i);
        FILE *f = fopen(path, "wb");
        CHECK(f != NULL);
        if (!f) continue;
        fputs(docs[i], f);
        fclose(f);
        w += snprintf(cmd + w, sizeof cmd - (size_t)w, " %s", path);
    }
    CHECK_EQ_INT(system(cmd), 0);
    for (int i = 0; i < ndocs; i++) {
        char path[64];
        snprintf(path, sizeof path, "%s/%02d.svg", dir, i);
        remove(path);
    }
    rmdir(dir);
}

static void test_checker(void) {
    /* the checker itself rejects what it should */
    char why[128];
    CHECK(xml_ok("<?xml version=\"1.0\"?>\n<a b=\"&lt;&#60;\"><c/>x &amp; y</a>\n", why, 128));
    CHECK(!xml_ok("<a><b></a></b>", why, 128));
    CHECK(!xml_ok("<a>x & y</a>", why, 128));
    CHECK(!xml_ok("<a>1 > 0</a>", why, 128));
    CHECK(!xml_ok("<a x=\"1\" x=\"2\"/>", why, 128));
    CHECK(!xml_ok("<a x=\"<\"/>", why, 128));
    CHECK(!xml_ok("<a/><b/>", why, 128));
    CHECK(!xml_ok("<a>", why, 128));
    CHECK(!xml_ok("<a x=1/>", why, 128));
}

int main(void) {
    test_checker();
    test_line_pixels();
    test_line_log();
    test_line_auto_ticks();
    test_escape();
    test_bars();
    test_stacked();
    test_errors();
    CHECK(ndocs >= 15);
    test_python_xml();
    for (int i = 0; i < ndocs; i++) free(docs[i]);
    return test_summary();
}

/* N:M structured sparsity of the TensorE stationary operand (docs/numerics.md sec. 6): rows
 * compressed to m values of every n plus 4-bit position tags, four per uint16, and expanded
 * back to dense before an ordinary matmul.
 *
 * Left out: the hardware's physical tag order (undocumented; the logical order here sits
 * behind trn_nm_compress / trn_nm_expand only) and sparse matmul itself. */
#include "num_impl.h"

#include <stdio.h>
#include <stdlib.h>

/* NeuronCore-v3 / v4 TensorE patterns (docs/numerics.md sec. 6, sources NC3, NC4). */
static const trn_nm patterns[] = {{4, 16}, {4, 12}, {4, 8}, {2, 8}, {2, 4}, {1, 4}, {1, 2}};
#define NPATTERNS    (sizeof patterns / sizeof patterns[0])
#define PATTERN_LIST "4:16 4:12 4:8 2:8 2:4 1:4 1:2"

static int pattern_ok(trn_nm p) {
    for (size_t i = 0; i < NPATTERNS; i++)
        if (patterns[i].m == p.m && patterns[i].n == p.n) return 1;
    return 0;
}

static trn_status check_shape(trn_nm p, size_t cols, trn_err *err) {
    if (!pattern_ok(p))
        return trn_err_set(err, TRN_E_INVALID,
                           "sparsity pattern %u:%u is not supported (expected %s)", p.m, p.n,
                           PATTERN_LIST);
    if (cols % p.n != 0)
        return trn_err_set(err, TRN_E_INVALID,
                           "%u:%u sparsity needs a multiple of %u columns, got %zu", p.m, p.n, p.n,
                           cols);
    return TRN_OK;
}

trn_status trn_nm_parse(const char *text, trn_nm *p, trn_err *err) {
    char *end;
    long m = strtol(text, &end, 10);
    if (text[0] >= '0' && text[0] <= '9' && *end == ':' && end[1] >= '0' && end[1] <= '9') {
        const char *ntext = end + 1;
        long n = strtol(ntext, &end, 10);
        if (*end == '\0' && m > 0 && m <= 16 && n > 0 && n <= 16) {
            trn_nm q = {(uint8_t)m, (uint8_t)n};
            if (pattern_ok(q)) {
                *p = q;
                return TRN_OK;
            }
        }
    }
    return trn_err_set(err, TRN_E_INVALID, "sparsity pattern '%s' is not supported (expected %s)",
                       text, PATTERN_LIST);
}

size_t trn_nm_tag_words(trn_nm p, size_t cols) {
    if (!pattern_ok(p)) return 0;
    return (cols / p.n * p.m + 3) / 4;
}

static void put_tag(uint16_t *row_tags, size_t j, unsigned tag) {
    uint16_t *w = &row_tags[j / 4];
    unsigned sh = 4 * (unsigned)(j % 4);
    *w = (uint16_t)((*w & ~(0xfu << sh)) | (tag & 0xfu) << sh);
}

static unsigned get_tag(const uint16_t *row_tags, size_t j) {
    return (row_tags[j / 4] >> (4 * (j % 4))) & 0xfu;
}

trn_status trn_nm_compress(trn_nm p, const float *dense, size_t rows, size_t cols, float *values,
                           uint16_t *tags, trn_err *err) {
    trn_status st = check_shape(p, cols, err);
    if (st != TRN_OK) return st;
    const size_t groups = cols / p.n, vrow = groups * p.m, twords = trn_nm_tag_words(p, cols);
    for (size_t r = 0; r < rows; r++) {
        const float *d = dense + r * cols;
        float *v = values + r * vrow;
        uint16_t *t = tags + r * twords;
        for (size_t w = 0; w < twords; w++) t[w] = 0; /* unused nibbles of the last word: 0 */
        for (size_t g = 0; g < groups; g++) {
            const float *dg = d + g * p.n;
            unsigned nz = 0;
            for (unsigned i = 0; i < p.n; i++) nz += dg[i] != 0.0f; /* NaN counts, -0 does not */
            if (nz > p.m)
                return trn_err_set(err, TRN_E_INVALID,
                                   "row %zu, group %zu (columns %zu..%zu): %u non-zeros, %u:%u "
                                   "allows at most %u",
                                   r, g, g * p.n, g * p.n + p.n - 1, nz, p.m, p.n, p.m);
            /* Keep every non-zero and the lowest zero positions up to m, in position order. */
            unsigned pad = p.m - nz, k = 0;
            for (unsigned i = 0; i < p.n && k < p.m; i++) {
                int keep = dg[i] != 0.0f;
                if (!keep && pad) {
                    keep = 1;
                    pad--;
                }
                if (!keep) continue;
                v[g * p.m + k] = dg[i] != 0.0f ? dg[i] : 0.0f;
                put_tag(t, g * p.m + k, i);
                k++;
            }
        }
    }
    return TRN_OK;
}

trn_status trn_nm_expand(trn_nm p, const float *values, const uint16_t *tags, size_t rows,
                         size_t cols, float *dense, trn_err *err) {
    trn_status st = check_shape(p, cols, err);
    if (st != TRN_OK) return st;
    const size_t groups = cols / p.n, vrow = groups * p.m, twords = trn_nm_tag_words(p, cols);
    for (size_t r = 0; r < rows; r++) {
        const float *v = values + r * vrow;
        const uint16_t *t = tags + r * twords;
        float *d = dense + r * cols;
        for (size_t g = 0; g < groups; g++) {
            float *dg = d + g * p.n;
            for (unsigned i = 0; i < p.n; i++) dg[i] = 0.0f;
            int prev = -1;
            for (unsigned k = 0; k < p.m; k++) {
                unsigned tag = get_tag(t, g * p.m + k);
                if (tag >= p.n)
                    return trn_err_set(err, TRN_E_INVALID,
                                       "row %zu, group %zu (columns %zu..%zu): tag %u is %u, "
                                       "outside the group of %u",
                                       r, g, g * p.n, g * p.n + p.n - 1, k, tag, p.n);
                if ((int)tag <= prev)
                    return trn_err_set(err, TRN_E_INVALID,
                                       "row %zu, group %zu (columns %zu..%zu): tag %u is %u, not "
                                       "above tag %u (%d); positions must strictly increase",
                                       r, g, g * p.n, g * p.n + p.n - 1, k, tag, k - 1, prev);
                dg[tag] = v[g * p.m + k];
                prev = (int)tag;
            }
        }
    }
    return TRN_OK;
}

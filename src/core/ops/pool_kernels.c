/* GpSimdE instructions that run as kernels on the engine's eight cores, each core owning 16
 * consecutive partitions (counted from the operand's first partition): local_gather and topk,
 * which work on a core's 16 partitions together, and sequence_bounds (docs/semantics.md).
 *
 * A "snake" is how these instructions lay a list over a core's 16 partitions: element j at
 * partition j % 16, free position j / 16. Data move bit for bit; indices read from memory are
 * checked, so an index outside its tile is a fault naming it, never a read outside the tile.
 *
 * Deliberately left out: local_gather on an index slice shared by fewer than 16 partitions
 * (the partition count must be a multiple of 16, as documented). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

enum { LANES = 16 }; /* partitions per GpSimd core [NKI local_gather, topk] */

/* Row q of group g of view v, its first `cnt` free positions. */
static core_view snake_row(const core_view *v, uint32_t g, uint32_t q, size_t cnt) {
    core_view r = *v;
    r.p0 += g * LANES + q;
    r.P = 1;
    r.F = (int64_t)cnt;
    return r;
}

/* Free positions partition q of a snake of n elements uses. */
static size_t snake_count(size_t n, uint32_t q) {
    return n > q ? (n - q + LANES - 1) / LANES : 0;
}

/* Codes of elements 0..n-1 of the snake of group g of v into out[n]; slots past n are not read
 * (the caller checks ceil(n / 16) <= v->F). */
static trn_status snake_load(trn_core *c, const core_view *v, uint32_t g, size_t n, uint32_t *out) {
    uint32_t *row = core_tmp(c, ((n + LANES - 1) / LANES) * sizeof *row + 1);
    if (!row) return TRN_E_NOMEM;
    for (uint32_t q = 0; q < LANES; q++) {
        size_t cnt = snake_count(n, q);
        if (!cnt) continue;
        core_view r = snake_row(v, g, q, cnt);
        trn_status st = core_load_codes(c, &r, row);
        if (st != TRN_OK) return st;
        for (size_t t = 0; t < cnt; t++) out[t * LANES + q] = row[t];
    }
    return TRN_OK;
}

/* Writes in[n] as elements 0..n-1 of the snake of group g of v. */
static trn_status snake_store(trn_core *c, const core_view *v, uint32_t g, size_t n,
                              const uint32_t *in) {
    uint32_t *row = core_tmp(c, ((n + LANES - 1) / LANES) * sizeof *row + 1);
    if (!row) return TRN_E_NOMEM;
    for (uint32_t q = 0; q < LANES; q++) {
        size_t cnt = snake_count(n, q);
        if (!cnt) continue;
        for (size_t t = 0; t < cnt; t++) row[t] = in[t * LANES + q];
        core_view r = snake_row(v, g, q, cnt);
        core_store_codes(c, &r, row);
    }
    return TRN_OK;
}

/* ---- local_gather ----------------------------------------------------------------------- */

trn_status core_op_local_gather(trn_core *c, const trn_instr *in) {
    core_view d, s, ix;
    trn_status st = core_view_arg(c, in, "src_buffer", &s);
    if (st == TRN_OK) st = core_view_arg(c, in, "index", &ix);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", &d);
    if (st != TRN_OK) return st;
    size_t P = s.P, F = (size_t)s.F, K = (size_t)ix.F;
    if (P % LANES || ix.P != P || d.P != P || d.t->dtype != s.t->dtype ||
        d.t->packed != s.t->packed || ix.t->dtype != TRN_DTYPE_UINT16)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: local_gather needs src_buffer [P, M] with P a multiple "
                          "of 16, uint16 index [P, K] and dst [P, ...] of src_buffer's dtype; got "
                          "%u, %u and %u partitions",
                          s.P, ix.P, d.P);
    int64_t k = core_arg_int(c, in, "num_elem_per_idx", 1);
    if (k != 1 && k != 2 && k != 4 && k != 8 && k != 16 && k != 32)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: num_elem_per_idx=%lld (1, 2, 4, 8, 16 or 32)",
                          (long long)k);
    int64_t nv = core_arg_int(c, in, "num_valid_indices", (int64_t)(LANES * K));
    if (nv < 1 || nv > (int64_t)(LANES * K) || nv > 4096)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: num_valid_indices=%lld; a core's index slice holds "
                          "%zu (16 x %zu) and a core gathers at most 4096",
                          (long long)nv, LANES * K, K);
    size_t n = (size_t)nv, per = n * (size_t)k;
    if ((size_t)d.F != per)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: dst '%s' must hold num_valid_indices x "
                          "num_elem_per_idx = %zu elements per partition, it holds %lld",
                          d.t->name, per, (long long)d.F);
    uint32_t *idx = core_tmp(c, n * sizeof *idx), *out = core_tmp(c, P * per * sizeof *out);
    int64_t *off = core_tmp(c, per * sizeof *off);
    if (!idx || !out || !off) return TRN_E_NOMEM;
    for (uint32_t g = 0; g < P / LANES; g++) {
        /* the core's indices, partition dimension first: index j is at (16g + j % 16, j / 16) */
        if ((st = snake_load(c, &ix, g, n, idx)) != TRN_OK) return st;
        for (size_t j = 0; j < n; j++) {
            if ((size_t)idx[j] + (size_t)k > F)
                return core_fault(c, TRN_E_FAULT,
                                  "illegal operand: index '%s' [partition %zu, %zu] = %u: "
                                  "elements %u..%u lie outside src_buffer '%s' (0..%zu per "
                                  "partition)",
                                  ix.t->name, ix.p0 + g * LANES + j % LANES, j / LANES, idx[j],
                                  idx[j], idx[j] + (uint32_t)k - 1, s.t->name, F - 1);
            for (int64_t e = 0; e < k; e++) off[j * (size_t)k + (size_t)e] = s.off[idx[j] + e];
        }
        /* the gathered elements of the core's 16 partitions, read where they are */
        core_view gv = s;
        gv.key = "src_buffer (gathered position)";
        gv.p0 += g * LANES;
        gv.P = LANES;
        gv.F = (int64_t)per;
        gv.off = off;
        if ((st = core_load_codes(c, &gv, out + (size_t)g * LANES * per)) != TRN_OK) return st;
    }
    core_store_codes(c, &d, out);
    return TRN_OK;
}

/* ---- sequence_bounds -------------------------------------------------------------------- */

trn_status core_op_sequence_bounds(trn_core *c, const trn_instr *in) {
    core_view d, s;
    trn_status st = core_view_arg(c, in, "segment_ids", &s);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", &d);
    if (st != TRN_OK) return st;
    size_t P = s.P, N = (size_t)s.F;
    trn_dtype ts = s.t->dtype, td = d.t->dtype;
    if (d.P != s.P || (size_t)d.F != 2 * N || (ts != TRN_DTYPE_F32 && ts != TRN_DTYPE_INT32) ||
        (td != TRN_DTYPE_F32 && td != TRN_DTYPE_INT32))
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: sequence_bounds needs float32/int32 segment_ids "
                          "[P, N] and dst [P, 2, N] float32/int32; got %u x %zu and %u x %lld",
                          s.P, N, d.P, (long long)d.F);
    uint32_t *code = core_tmp(c, P * N * sizeof *code);
    double *id = core_tmp(c, N * sizeof *id);
    float *y = core_tmp(c, P * 2 * N * sizeof *y);
    if (!code || !id || !y) return TRN_E_NOMEM;
    if ((st = core_load_codes(c, &s, code)) != TRN_OK) return st;
    for (size_t p = 0; p < P; p++) {
        for (size_t i = 0; i < N; i++) {
            uint32_t u = code[p * N + i];
            double v = ts == TRN_DTYPE_INT32 ? (double)(int32_t)u : (double)trn_cvt_to_f32(ts, u);
            if (!(v >= 0) || v != floor(v) || isinf(v))
                return core_fault(c, TRN_E_FAULT,
                                  "illegal operand: segment_ids '%s' [partition %zu, %zu] = %g: "
                                  "segment IDs are non-negative integers",
                                  s.t->name, s.p0 + p, i, v);
            id[i] = v;
        }
        /* runs of equal IDs; ID 0 is padding: start N, end -1; end is exclusive [NKI] */
        float *lo = y + p * 2 * N, *hi = lo + N;
        for (size_t i = 0; i < N; i++)
            lo[i] = id[i] == 0 ? (float)N : i > 0 && id[i] == id[i - 1] ? lo[i - 1] : (float)i;
        for (size_t i = N; i-- > 0;)
            hi[i] = id[i] == 0                        ? -1.0f
                    : i + 1 < N && id[i] == id[i + 1] ? hi[i + 1]
                                                      : (float)(i + 1);
    }
    return core_store_f32(c, &d, y);
}

/* ---- topk ------------------------------------------------------------------------------- */

/* Rank key of a BF16 code, larger first: NaN above +Inf, +0 above -0, else numeric order. */
static uint32_t bf16_rank(uint32_t code) {
    if ((code & 0x7FFFu) > 0x7F80u) return 0x10000u;
    return (code & 0x8000u) ? 0x7FFFu - (code & 0x7FFFu) : 0x8000u + code;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

trn_status core_op_topk(trn_core *c, const trn_instr *in) {
    core_view vd, id, s;
    trn_status st = core_view_arg(c, in, "src", &s);
    if (st == TRN_OK) st = core_view_arg(c, in, "val_dst", &vd);
    if (st == TRN_OK) st = core_view_arg(c, in, "idx_dst", &id);
    if (st != TRN_OK) return st;
    size_t P = s.P, K = (size_t)vd.F;
    int64_t n = core_arg_int(c, in, "n", 0);
    if (P % LANES || vd.P != P || id.P != P || id.F != vd.F || s.t->dtype != TRN_DTYPE_BF16 ||
        vd.t->dtype != TRN_DTYPE_BF16 || id.t->dtype != TRN_DTYPE_UINT32 || s.t->packed)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: topk needs bf16 src [P, X] with P a multiple of 16, "
                          "bf16 val_dst and uint32 idx_dst [P, k]; got %u, %u and %u partitions",
                          s.P, vd.P, id.P);
    if (n < 8 || n >= 65536 || (size_t)(n + LANES - 1) / LANES > (size_t)s.F)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: n=%lld: 8 <= n < 65536 and src '%s' must hold "
                          "ceil(n / 16) = %lld positions per partition, it has %lld",
                          (long long)n, s.t->name, (long long)((n + LANES - 1) / LANES),
                          (long long)s.F);
    if (K < 1 || K >= 32768 || K > (size_t)n)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: k (val_dst's %zu elements per partition) must be "
                          "1 <= k < 32768 and k <= n = %lld",
                          K, (long long)n);
    size_t N = (size_t)n, W = (K + LANES - 1) / LANES * LANES; /* whole positions written */
    uint32_t *x = core_tmp(c, N * sizeof *x), *val = core_tmp(c, W * sizeof *val),
             *pos = core_tmp(c, W * sizeof *pos);
    uint64_t *order = core_tmp(c, N * sizeof *order);
    if (!x || !val || !pos || !order) return TRN_E_NOMEM;
    for (uint32_t g = 0; g < P / LANES; g++) {
        if ((st = snake_load(c, &s, g, N, x)) != TRN_OK) return st;
        /* largest first; equal ranks keep snake order */
        for (size_t j = 0; j < N; j++)
            order[j] = ((uint64_t)(0x10000u - bf16_rank(x[j])) << 32) | (uint64_t)j;
        qsort(order, N, sizeof *order, cmp_u64);
        for (size_t j = 0; j < W; j++) {
            uint32_t at = (uint32_t)order[j < N ? j : 0];
            val[j] = j < K ? x[at] : 0xFF80u;  /* -Inf past k (ours) */
            pos[j] = j < K ? at : 0xFFFFFFFFu; /* all ones past k (ours) */
        }
        if ((st = snake_store(c, &vd, g, W, val)) != TRN_OK ||
            (st = snake_store(c, &id, g, W, pos)) != TRN_OK)
            return st;
    }
    return TRN_OK;
}

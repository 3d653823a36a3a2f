/* TensorE instructions: nc_matmul (plain, FP8 double_row, is_transpose), nc_matmul_mx (v4 MX
 * quad mode) and nc_transpose (on PE, and its 32 x 32 VectorE form). The arithmetic is
 * trn_mm (matmul_kernel.h), whose FMA-chain contract docs/semantics.md restates; this file
 * only decodes operands, gathers the contraction order of each mode and writes PSUM.
 *
 * Deliberately left out: PE tiling (tile_position / tile_size change where in the array a
 * matmul runs, i.e. its timing, not its result) and the *_onezero hints (timing only). */
#include <string.h>

#include "core_impl.h"
#include "ops/matmul_kernel.h"

static trn_status load_f32(trn_core *c, const core_view *v, float **out) {
    *out = core_tmp(c, (size_t)v->P * (size_t)v->F * sizeof **out);
    if (!*out) return TRN_E_NOMEM;
    return core_load_f32(c, v, *out);
}

/* psum[M][N] (FP32) from dst when accumulating, then trn_mm, then the write-back. */
static trn_status mm_into(trn_core *c, const core_view *d, size_t K, size_t M, size_t N,
                          const float *a, const float *b, int acc) {
    if (d->P != M || (size_t)d->F != N)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: dst '%s' is %u x %lld, the product is [%zu, %zu]",
                          d->t->name, d->P, (long long)d->F, M, N);
    float *ps = core_tmp(c, M * N * sizeof *ps);
    if (!ps) return TRN_E_NOMEM;
    if (acc) {
        trn_status s = core_load_f32(c, d, ps);
        if (s != TRN_OK) return s;
    }
    trn_mm(K, M, N, a, M, b, N, ps, N, acc);
    return core_store_f32(c, d, ps);
}

/* Transpose mode with a permutation as moving: dst[m][n] = stationary[k(n)][m] bit for bit,
 * k(n) the row holding column n's single 1.0. FP8 data lands zero-extended in 16 bits. */
static trn_status pe_transpose_mode(trn_core *c, const core_view *d, const core_view *s,
                                    const core_view *mv) {
    size_t K = s->P, M = (size_t)s->F, N = (size_t)mv->F;
    float *b;
    trn_status st = load_f32(c, mv, &b);
    if (st != TRN_OK) return st;
    int same = d->t->dtype == s->t->dtype;
    if (!same && !(s->eb == 1 && d->eb == 2))
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: transpose mode writes %s data as %s; dst must have "
                          "the stationary's dtype (16 bits for fp8)",
                          trn_dtype_name(s->t->dtype), trn_dtype_name(d->t->dtype));
    if (d->P != M || (size_t)d->F != N)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: dst '%s' is %u x %lld, expected "
                          "[%zu, %zu]",
                          d->t->name, d->P, (long long)d->F, M, N);
    uint32_t *in = core_tmp(c, K * M * sizeof *in), *out = core_tmp(c, M * N * sizeof *out);
    if (!in || !out) return TRN_E_NOMEM;
    if ((st = core_load_codes(c, s, in)) != TRN_OK) return st;
    for (size_t n = 0; n < N; n++) {
        size_t row = K, ones = 0;
        for (size_t k = 0; k < K; k++) {
            float x = b[k * N + n];
            if (x == 1.0f)
                row = k, ones++;
            else if (x != 0.0f)
                ones = 2;
        }
        if (ones != 1)
            return core_fault(c, TRN_E_FAULT,
                              "illegal operand: is_transpose needs moving to be a permutation "
                              "matrix (one 1.0 per column, zeros elsewhere); column %zu is not",
                              n);
        for (size_t m = 0; m < M; m++) out[m * N + n] = in[row * M + m];
    }
    core_store_codes(c, d, out);
    return TRN_OK;
}

trn_status core_op_nc_matmul(trn_core *c, const trn_instr *in) {
    core_view d, s, m;
    trn_status st = core_view_arg(c, in, "stationary", &s);
    if (st == TRN_OK) st = core_view_arg(c, in, "moving", &m);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", &d);
    if (st != TRN_OK) return st;
    if (s.P != m.P)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: stationary has %u partitions, moving %u", s.P, m.P);
    int acc = (int)core_arg_int(c, in, "accumulate", 0);
    if (core_arg_int(c, in, "is_transpose", 0) && c->t.version >= 3)
        return pe_transpose_mode(c, &d, &s, &m);
    size_t K = s.P, M = (size_t)s.F, N = (size_t)m.F;
    if (core_arg_int(c, in, "perf_mode", TRN_PERF_NONE) == TRN_PERF_DOUBLE_ROW) {
        /* [P, 2, M] row-major is [2P, M] with k = 2p + r: one chain over 2P rows */
        const trn_ap *as = &core_arg(c, in, "stationary")->u.ap;
        const trn_ap *am = &core_arg(c, in, "moving")->u.ap;
        if (as->nfree < 2 || as->free[0].num != 2 || am->nfree < 2 || am->free[0].num != 2)
            return core_fault(c, TRN_E_FAULT,
                              "illegal operand: double_row needs stationary and "
                              "moving shaped [K/2, 2, ...]");
        K *= 2, M /= 2, N /= 2;
    }
    float *a, *b;
    if ((st = load_f32(c, &s, &a)) != TRN_OK || (st = load_f32(c, &m, &b)) != TRN_OK) return st;
    return mm_into(c, &d, K, M, N, a, b, acc);
}

/* Dequantizes an x4-packed MX operand [P][F] with its scale tile into x[4P][F], k = 4p + j
 * (slot j of partition p); group g = p / 8 takes its scale from row 32 (g / 4) + g % 4 of the
 * scale operand, column f. */
static trn_status mx_operand(trn_core *c, const core_view *v, const core_view *sv, float **x) {
    size_t P = v->P, F = (size_t)v->F;
    if (!v->t->packed)
        return core_fault(c, TRN_E_FAULT, "illegal operand: %s '%s' must be MX x4-packed", v->key,
                          v->t->name);
    if (P % 8 || sv->F != v->F)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: %s needs a multiple of 8 partitions and a scale tile "
                          "'%s' with its %zu columns",
                          v->key, sv->t->name, F);
    size_t need = 32 * ((P / 8 - 1) / 4) + (P / 8 - 1) % 4 + 1;
    if (need > sv->P)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: scale tile '%s' has %u partitions, %zu groups need %zu",
                          sv->t->name, sv->P, P / 8, need);
    uint32_t *codes = core_tmp(c, P * F * sizeof *codes);
    uint32_t *sc = core_tmp(c, (size_t)sv->P * F * sizeof *sc);
    *x = core_tmp(c, 4 * P * F * sizeof **x);
    if (!codes || !sc || !*x) return TRN_E_NOMEM;
    trn_status st = core_load_codes(c, v, codes);
    if (st != TRN_OK) return st;
    /* only the scale rows in use must have been written */
    for (size_t g = 0; g < P / 8; g++) {
        core_view row = *sv;
        row.p0 += (uint32_t)(32 * (g / 4) + g % 4);
        row.P = 1;
        if ((st = core_load_codes(c, &row, sc + (32 * (g / 4) + g % 4) * F)) != TRN_OK) return st;
    }
    trn_dtype el = v->t->dtype;
    for (size_t p = 0; p < P; p++) {
        size_t srow = 32 * (p / 32) + (p / 8) % 4;
        for (size_t f = 0; f < F; f++) {
            uint8_t q[4];
            if (v->eb == 4)
                trn_unpack_fp8_x4(codes[p * F + f], q);
            else
                trn_unpack_fp4_x4((uint16_t)codes[p * F + f], q);
            uint8_t scale = (uint8_t)sc[srow * F + f];
            for (int j = 0; j < 4; j++)
                (*x)[(4 * p + (size_t)j) * F + f] = trn_mx_decode(el, scale, q[j]);
        }
    }
    return TRN_OK;
}

trn_status core_op_nc_matmul_mx(trn_core *c, const trn_instr *in) {
    core_view d, s, m, ss, ms;
    trn_status st = core_view_arg(c, in, "stationary", &s);
    if (st == TRN_OK) st = core_view_arg(c, in, "moving", &m);
    if (st == TRN_OK) st = core_view_arg(c, in, "stationary_scale", &ss);
    if (st == TRN_OK) st = core_view_arg(c, in, "moving_scale", &ms);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", &d);
    if (st != TRN_OK) return st;
    if (s.P != m.P)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: stationary has %u partitions, moving %u", s.P, m.P);
    float *a, *b;
    if ((st = mx_operand(c, &s, &ss, &a)) != TRN_OK || (st = mx_operand(c, &m, &ms, &b)) != TRN_OK)
        return st;
    return mm_into(c, &d, 4 * (size_t)s.P, (size_t)s.F, (size_t)m.F, a, b,
                   (int)core_arg_int(c, in, "accumulate", 0));
}

trn_status core_op_nc_transpose(trn_core *c, const trn_instr *in) {
    core_view d, s;
    trn_status st = core_view_arg(c, in, "data", &s);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", &d);
    if (st != TRN_OK) return st;
    size_t P = s.P, F = (size_t)s.F;
    if (d.P != F || (size_t)d.F != P || d.t->dtype != s.t->dtype || d.t->packed != s.t->packed)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: dst '%s' must be [%zu, %zu] of data's dtype", d.t->name,
                          F, P);
    if (in->engine == TRN_ENGINE_PE && c->t.version < 3) {
        /* NeuronCore-v2: a matmul against the identity, so values pass through the FMA chain
         * (Inf or NaN in a column makes NaN, -0 becomes +0) and are rounded back to dtype */
        float *a, *id = core_tmp(c, P * P * sizeof *id);
        if (!id) return TRN_E_NOMEM;
        if ((st = load_f32(c, &s, &a)) != TRN_OK) return st;
        for (size_t i = 0; i < P * P; i++) id[i] = i / P == i % P ? 1.0f : 0.0f;
        return mm_into(c, &d, P, F, P, a, id, 0);
    }
    uint32_t *x = core_tmp(c, P * F * sizeof *x), *y = core_tmp(c, P * F * sizeof *y);
    if (!x || !y) return TRN_E_NOMEM;
    if ((st = core_load_codes(c, &s, x)) != TRN_OK) return st;
    for (size_t p = 0; p < P; p++)
        for (size_t f = 0; f < F; f++) y[f * P + p] = x[p * F + f];
    core_store_codes(c, &d, y);
    return TRN_OK;
}

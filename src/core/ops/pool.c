/* GpSimdE instructions: tensor_partition_reduce, iota, affine_select, nc_n_gather,
 * nonzero_with_count (GpSimd's rng and PRNG state ops live with VectorE's in vector.c). Index
 * arithmetic is exact (64-bit integers, wrapped to int32 as the engine's int32 math); values go
 * through FP32 like the other engines. local_gather, sequence_bounds and topk, which work on
 * a GpSimd core's 16 partitions together, are in pool_kernels.c. */
#include <math.h>
#include <string.h>

#include "core_impl.h"

trn_status core_op_tensor_partition_reduce(trn_core *c, const trn_instr *in) {
    core_view d, s;
    trn_status st = core_view_arg(c, in, "data", &s);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", &d);
    if (st != TRN_OK) return st;
    size_t P = s.P, F = (size_t)s.F;
    if (d.P != 1 || d.F != s.F)
        return core_fault(c, TRN_E_FAULT, "illegal operand: dst '%s' must be [1, %zu]", d.t->name,
                          F);
    trn_alu_op op = (trn_alu_op)core_arg_int(c, in, "op", TRN_ALU_ADD);
    if (op == TRN_ALU_BITWISE_AND || op == TRN_ALU_BITWISE_OR) {
        if (!trn_dtype_is_int(s.t->dtype) || !trn_dtype_is_int(d.t->dtype) || s.t->packed)
            return core_fault(c, TRN_E_FAULT, "illegal operand: %s needs integer tiles",
                              trn_alu_name(op));
        uint32_t *x = core_tmp(c, P * F * sizeof *x);
        if (!x) return TRN_E_NOMEM;
        if ((st = core_load_codes(c, &s, x)) != TRN_OK) return st;
        for (size_t f = 0; f < F; f++) {
            uint32_t a = core_int_bits(s.t->dtype, x[f]);
            for (size_t p = 1; p < P; p++)
                a = core_alu_bits(op, a, core_int_bits(s.t->dtype, x[p * F + f]));
            x[f] = a;
        }
        core_store_codes(c, &d, x);
        return TRN_OK;
    }
    if (op != TRN_ALU_ADD && op != TRN_ALU_MAXIMUM && op != TRN_ALU_MINIMUM &&
        op != TRN_ALU_AVERAGE)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: tensor_partition_reduce op %s (add, average, maximum, "
                          "minimum, bitwise_and, bitwise_or)",
                          trn_alu_name(op));
    float *x = core_tmp(c, P * F * sizeof *x);
    if (!x) return TRN_E_NOMEM;
    if ((st = core_load_f32(c, &s, x)) != TRN_OK) return st;
    trn_alu_op step = op == TRN_ALU_AVERAGE ? TRN_ALU_ADD : op;
    for (size_t f = 0; f < F; f++) {
        float a = x[f];
        for (size_t p = 1; p < P; p++) a = core_alu_f32(step, a, x[p * F + f]);
        x[f] = op == TRN_ALU_AVERAGE ? a / (float)P : a;
    }
    return core_store_f32(c, &d, x);
}

/* offset + partition * channel_multiplier + sum of step * index over the pattern, for every
 * element of dst in order, wrapped to int32. */
static trn_status affine(trn_core *c, const trn_instr *in, const core_view *d, int32_t **out) {
    const trn_operand *pt = core_arg(c, in, "pattern");
    if (!pt || pt->kind != TRN_ARG_PATTERN || pt->u.list.count % 2 ||
        pt->u.list.count > 2 * TRN_MAX_RANK ||
        (uint64_t)pt->u.list.first + pt->u.list.count > c->p->nints)
        return core_fault(c, TRN_E_FAULT, "illegal operand: bad pattern");
    const int64_t *pat = c->p->ints + pt->u.list.first;
    int nd = (int)pt->u.list.count / 2;
    int64_t F = 1;
    for (int i = 0; i < nd; i++) {
        if (pat[2 * i + 1] < 1) return core_fault(c, TRN_E_FAULT, "illegal operand: pattern num");
        F *= pat[2 * i + 1];
        if (F > d->F) break;
    }
    if (F != d->F)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: pattern covers %lld elements, dst has %lld",
                          (long long)F, (long long)d->F);
    int64_t off = core_arg_int(c, in, "offset", 0);
    int64_t cm = core_arg_int(c, in, "channel_multiplier", 0);
    *out = core_tmp(c, (size_t)d->P * (size_t)F * sizeof **out);
    if (!*out) return TRN_E_NOMEM;
    for (uint32_t p = 0; p < d->P; p++) {
        int64_t idx[TRN_MAX_RANK] = {0};
        for (int64_t f = 0; f < F; f++) {
            int64_t v = off + (int64_t)p * cm;
            for (int i = 0; i < nd; i++) v += pat[2 * i] * idx[i];
            (*out)[(size_t)p * (size_t)F + (size_t)f] = (int32_t)(uint32_t)v;
            for (int i = nd - 1; i >= 0; i--) {
                if (++idx[i] < pat[2 * i + 1]) break;
                idx[i] = 0;
            }
        }
    }
    return TRN_OK;
}

trn_status core_op_iota(trn_core *c, const trn_instr *in) {
    core_view d;
    int32_t *v;
    trn_status st = core_view_arg(c, in, "dst", &d);
    if (st == TRN_OK) st = affine(c, in, &d, &v);
    if (st != TRN_OK) return st;
    size_t n = (size_t)d.P * (size_t)d.F;
    uint32_t *codes = core_tmp(c, n * sizeof *codes);
    if (!codes) return TRN_E_NOMEM;
    if (d.t->packed) return core_fault(c, TRN_E_FAULT, "illegal operand: iota into MX x4 data");
    for (size_t i = 0; i < n; i++) {
        int64_t x = v[i], lo = 0, hi = 0;
        switch (d.t->dtype) {
        case TRN_DTYPE_INT8: lo = -128, hi = 127; break;
        case TRN_DTYPE_INT16: lo = -32768, hi = 32767; break;
        case TRN_DTYPE_INT32: lo = INT32_MIN, hi = INT32_MAX; break;
        case TRN_DTYPE_UINT8: hi = 255; break;
        case TRN_DTYPE_UINT16: hi = 65535; break;
        case TRN_DTYPE_UINT32: hi = INT32_MAX; break;
        default: break;
        }
        if (trn_dtype_is_int(d.t->dtype))
            codes[i] = (uint32_t)(x < lo ? lo : x > hi ? hi : x); /* saturating integer cast */
        else
            codes[i] = core_encode(c, d.t->dtype, (float)x); /* int32 -> FP32 RNE -> dtype */
    }
    core_store_codes(c, &d, codes);
    return TRN_OK;
}

trn_status core_op_affine_select(trn_core *c, const trn_instr *in) {
    core_view d, s;
    int32_t *v;
    trn_status st = core_view_arg(c, in, "on_true_tile", &s);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", &d);
    if (st == TRN_OK && (d.P != s.P || d.F != s.F))
        return core_fault(c, TRN_E_FAULT, "illegal operand: dst and on_true_tile shapes differ");
    if (st == TRN_OK) st = affine(c, in, &d, &v);
    if (st != TRN_OK) return st;
    trn_alu_op cmp = (trn_alu_op)core_arg_int(c, in, "cmp_op", TRN_ALU_GREATER_EQUAL);
    const trn_operand *fo = core_arg(c, in, "on_false_value");
    float fv = !fo ? 0.0f : fo->kind == TRN_ARG_FLOAT ? (float)fo->u.imm : (float)fo->u.i;
    size_t n = (size_t)d.P * (size_t)d.F;
    float *x = core_tmp(c, n * sizeof *x);
    if (!x) return TRN_E_NOMEM;
    if ((st = core_load_f32(c, &s, x)) != TRN_OK) return st;
    for (size_t i = 0; i < n; i++) {
        int32_t e = v[i];
        int keep;
        switch (cmp) {
        case TRN_ALU_EQUAL: keep = e == 0; break;
        case TRN_ALU_NOT_EQUAL: keep = e != 0; break;
        case TRN_ALU_GREATER: keep = e > 0; break;
        case TRN_ALU_GREATER_EQUAL: keep = e >= 0; break;
        case TRN_ALU_LESS: keep = e < 0; break;
        case TRN_ALU_LESS_EQUAL: keep = e <= 0; break;
        default:
            return core_fault(c, TRN_E_FAULT, "illegal operand: cmp_op %s is not a comparison",
                              trn_alu_name(cmp));
        }
        if (!keep) x[i] = fv;
    }
    return core_store_f32(c, &d, x);
}

trn_status core_op_nc_n_gather(trn_core *c, const trn_instr *in) {
    core_view d, s, ix;
    trn_status st = core_view_arg(c, in, "data", &s);
    if (st == TRN_OK) st = core_view_arg(c, in, "indices", &ix);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", &d);
    if (st != TRN_OK) return st;
    if (d.P != s.P || ix.P != s.P || d.F != ix.F || d.t->dtype != s.t->dtype ||
        d.t->packed != s.t->packed || ix.t->dtype != TRN_DTYPE_UINT32)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: nc_n_gather needs dst [P, N] of data's dtype, data "
                          "[P, M] and uint32 indices [P, N]");
    size_t P = s.P, F = (size_t)s.F, N = (size_t)ix.F;
    uint32_t *x = core_tmp(c, P * F * sizeof *x), *idx = core_tmp(c, P * N * sizeof *idx);
    if (!x || !idx) return TRN_E_NOMEM;
    if ((st = core_load_codes(c, &ix, idx)) != TRN_OK || (st = core_load_codes(c, &s, x)) != TRN_OK)
        return st;
    for (size_t p = 0; p < P; p++)
        for (size_t i = 0; i < N; i++) {
            uint32_t k = idx[p * N + i];
            if (k >= F)
                return core_fault(c, TRN_E_FAULT,
                                  "illegal operand: indices '%s' [partition %zu, %zu] = %u is "
                                  "outside data's 0..%zu",
                                  ix.t->name, ix.p0 + p, i, k, F - 1);
            idx[p * N + i] = x[p * F + k]; /* the code, bit-exact */
        }
    core_store_codes(c, &d, idx);
    return TRN_OK;
}

trn_status core_op_nonzero_with_count(trn_core *c, const trn_instr *in) {
    core_view d, s;
    trn_status st = core_view_arg(c, in, "src", &s);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", &d);
    if (st != TRN_OK) return st;
    size_t P = s.P, T = (size_t)s.F;
    if (d.P != s.P || (size_t)d.F != T + 1 || d.t->dtype != TRN_DTYPE_INT32 ||
        (s.t->dtype != TRN_DTYPE_F32 && s.t->dtype != TRN_DTYPE_INT32))
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: nonzero_with_count needs src [P, T] float32/int32 and "
                          "dst [P, T + 1] int32");
    uint32_t *x = core_tmp(c, P * T * sizeof *x), *y = core_tmp(c, P * (T + 1) * sizeof *y);
    uint8_t *m = core_tmp(c, P * (T + 1));
    if (!x || !y || !m) return TRN_E_NOMEM;
    int64_t off = core_arg_int(c, in, "index_offset", 0),
            pad = core_arg_int(c, in, "padding_val", -1);
    memset(m, 0, P * (T + 1));
    for (size_t p = 0; p < P; p += 16) { /* each GpSimd core's partition 0 only */
        core_view row = s;
        row.p0 += (uint32_t)p, row.P = 1;
        if ((st = core_load_codes(c, &row, x + p * T)) != TRN_OK) return st;
        size_t n = 0;
        for (size_t f = 0; f < T; f++) {
            uint32_t v = x[p * T + f];
            int nz = s.t->dtype == TRN_DTYPE_F32 ? (v & 0x7FFFFFFFu) != 0 : v != 0; /* -0 is 0 */
            if (nz) y[p * (T + 1) + n++] = (uint32_t)(off + (int64_t)f);
        }
        for (size_t f = n; f < T; f++) y[p * (T + 1) + f] = (uint32_t)pad;
        y[p * (T + 1) + T] = (uint32_t)n;
        memset(m + p * (T + 1), 1, T + 1);
    }
    core_store_codes_masked(c, &d, y, m);
    return TRN_OK;
}

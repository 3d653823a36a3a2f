/* VectorE instructions (some also on ScalarE / GpSimd, same semantics): tensor_tensor,
 * tensor_scalar, tensor_copy, memset, tensor_reduce, reciprocal, quantize_mx,
 * scalar_tensor_tensor, tensor_copy_predicated, tensor_tensor_scan, the accumulator
 * instructions (tensor_scalar_reduce, tensor_scalar_cumulative, range_select, select_reduce,
 * exponential), bn_stats/bn_aggr, max8, nc_find_index8, nc_match_replace8,
 * nc_stream_shuffle, and the PRNG family (rng, set_rng_seed, rand2, rand_set/get_state,
 * dropout; GpSimd's too); and the ALU operators they share. Arithmetic is FP32 on values decoded
 * from each operand's dtype, the result rounded once to dst's dtype; bitvec operators work on
 * 32-bit integer patterns.
 *
 * Deliberately left out: the performance modes (timing only). */
#include <float.h>
#include <math.h>
#include <string.h>

#include "core_impl.h"

/* maximum / minimum: NaN if either is NaN; +0 beats -0 for max, -0 for min. */
static float fmax_(float a, float b) {
    if (a != a || b != b) return a + b;
    if (a == b) return signbit(a) ? b : a;
    return a > b ? a : b;
}
static float fmin_(float a, float b) {
    if (a != a || b != b) return a + b;
    if (a == b) return signbit(a) ? a : b;
    return a < b ? a : b;
}

float core_alu_f32(trn_alu_op op, float a, float b) {
    switch (op) {
    case TRN_ALU_BYPASS: return a;
    case TRN_ALU_ADD: return a + b;
    case TRN_ALU_SUBTRACT: return a - b;
    case TRN_ALU_MULTIPLY: return a * b;
    case TRN_ALU_DIVIDE: return a / b;
    case TRN_ALU_MAXIMUM: return fmax_(a, b);
    case TRN_ALU_MINIMUM: return fmin_(a, b);
    case TRN_ALU_POWER: return (float)pow((double)a, (double)b);
    case TRN_ALU_MOD: {
        double r = fmod((double)a, (double)b);
        if (r != 0 && ((r < 0) != (b < 0))) r += (double)b;
        return (float)r;
    }
    case TRN_ALU_ABS: return fabsf(a);
    case TRN_ALU_ABS_MAX: return fmax_(fabsf(a), fabsf(b));
    case TRN_ALU_ABS_MIN: return fmin_(fabsf(a), fabsf(b));
    case TRN_ALU_AVERAGE: return (float)(((double)a + (double)b) * 0.5);
    case TRN_ALU_RSQRT: return (float)(1.0 / sqrt((double)a));
    case TRN_ALU_EQUAL: return a == b ? 1.0f : 0.0f;
    case TRN_ALU_NOT_EQUAL: return a != b ? 1.0f : 0.0f;
    case TRN_ALU_GREATER: return a > b ? 1.0f : 0.0f;
    case TRN_ALU_GREATER_EQUAL: return a >= b ? 1.0f : 0.0f;
    case TRN_ALU_LESS: return a < b ? 1.0f : 0.0f;
    case TRN_ALU_LESS_EQUAL: return a <= b ? 1.0f : 0.0f;
    case TRN_ALU_LOGICAL_AND: return (a != 0 && b != 0) ? 1.0f : 0.0f;
    case TRN_ALU_LOGICAL_OR: return (a != 0 || b != 0) ? 1.0f : 0.0f;
    case TRN_ALU_LOGICAL_XOR: return ((a != 0) != (b != 0)) ? 1.0f : 0.0f;
    case TRN_ALU_LOGICAL_NOT: return a == 0 ? 1.0f : 0.0f;
    default: return NAN; /* bitvec: never called with them */
    }
}

uint32_t core_alu_bits(trn_alu_op op, uint32_t a, uint32_t b) {
    unsigned s = b & 31;
    switch (op) {
    case TRN_ALU_BITWISE_AND: return a & b;
    case TRN_ALU_BITWISE_OR: return a | b;
    case TRN_ALU_BITWISE_XOR: return a ^ b;
    case TRN_ALU_INVERT: return ~a;
    case TRN_ALU_LEFT_SHIFT: return a << s;
    case TRN_ALU_RIGHT_SHIFT: return a >> s;
    case TRN_ALU_ARITH_SHIFT_RIGHT: return (a >> 31) ? ~(~a >> s) : a >> s;
    default: return a;
    }
}

uint32_t core_int_bits(trn_dtype t, uint32_t code) {
    switch (t) {
    case TRN_DTYPE_INT8: return (uint32_t)(int32_t)(int8_t)(uint8_t)code;
    case TRN_DTYPE_INT16: return (uint32_t)(int32_t)(int16_t)(uint16_t)code;
    default: return code;
    }
}

static int alu_ok(trn_alu_op op) {
    return (unsigned)op < TRN_ALU_COUNT;
}

/* Views of dst and one same-shaped input. */
static trn_status pair(trn_core *c, const trn_instr *in, const char *src, core_view *d,
                       core_view *s) {
    trn_status st = core_view_arg(c, in, src, s);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", d);
    if (st != TRN_OK) return st;
    if (d->P != s->P || d->F != s->F)
        return core_fault(
            c, TRN_E_FAULT, "illegal operand: dst '%s' is %u x %lld, %s '%s' is %u x %lld",
            d->t->name, d->P, (long long)d->F, src, s->t->name, s->P, (long long)s->F);
    return TRN_OK;
}

static trn_status need_int(trn_core *c, const core_view *v, trn_alu_op op) {
    if (trn_dtype_is_int(v->t->dtype) && !v->t->packed) return TRN_OK;
    return core_fault(c, TRN_E_FAULT,
                      "illegal operand: bitvec operator %s needs integer data, %s '%s' is %s",
                      trn_alu_name(op), v->key, v->t->name, trn_dtype_name(v->t->dtype));
}

static trn_status load_bits(trn_core *c, const core_view *v, uint32_t **out) {
    size_t n = (size_t)v->P * (size_t)v->F;
    *out = core_tmp(c, n * sizeof **out);
    if (!*out) return TRN_E_NOMEM;
    trn_status st = core_load_codes(c, v, *out);
    for (size_t i = 0; st == TRN_OK && i < n; i++)
        (*out)[i] = core_int_bits(v->t->dtype, (*out)[i]);
    return st;
}

static trn_status load_vals(trn_core *c, const core_view *v, float **out) {
    *out = core_tmp(c, (size_t)v->P * (size_t)v->F * sizeof **out);
    if (!*out) return TRN_E_NOMEM;
    return core_load_f32(c, v, *out);
}

trn_status core_op_tensor_tensor(trn_core *c, const trn_instr *in) {
    core_view d, a, b;
    trn_status st = pair(c, in, "data1", &d, &a);
    if (st == TRN_OK) st = pair(c, in, "data2", &d, &b);
    if (st != TRN_OK) return st;
    trn_alu_op op = (trn_alu_op)core_arg_int(c, in, "op", TRN_ALU_ADD);
    if (!alu_ok(op)) return core_fault(c, TRN_E_FAULT, "illegal operand: ALU operator %d", op);
    size_t n = (size_t)d.P * (size_t)d.F;
    if (trn_alu_is_bitvec(op)) {
        uint32_t *x, *y;
        if ((st = need_int(c, &a, op)) || (st = need_int(c, &b, op)) || (st = need_int(c, &d, op)))
            return st;
        if ((st = load_bits(c, &a, &x)) != TRN_OK || (st = load_bits(c, &b, &y)) != TRN_OK)
            return st;
        for (size_t i = 0; i < n; i++) x[i] = core_alu_bits(op, x[i], y[i]);
        core_store_codes(c, &d, x);
        return TRN_OK;
    }
    float *x, *y;
    if ((st = load_vals(c, &a, &x)) != TRN_OK || (st = load_vals(c, &b, &y)) != TRN_OK) return st;
    for (size_t i = 0; i < n; i++) x[i] = core_alu_f32(op, x[i], y[i]);
    return core_store_f32(c, &d, x);
}

/* A scalar operand as 32-bit integer patterns, one per partition. */
static trn_status scalar_bits(trn_core *c, const trn_instr *in, const char *key, uint32_t P,
                              uint32_t *out) {
    const trn_operand *o = core_arg(c, in, key);
    if (!o) return core_fault(c, TRN_E_FAULT, "illegal operand: %s is missing", key);
    if (o->kind == TRN_ARG_FLOAT || o->kind == TRN_ARG_INT) {
        double v = o->kind == TRN_ARG_FLOAT ? o->u.imm : (double)o->u.i;
        if (v != floor(v) || v < -2147483648.0 || v > 4294967295.0)
            return core_fault(c, TRN_E_FAULT,
                              "illegal operand: %s = %g is not a 32-bit integer for a bitvec "
                              "operator",
                              key, v);
        uint32_t b = v < 0 ? (uint32_t)(int32_t)v : (uint32_t)v;
        for (uint32_t p = 0; p < P; p++) out[p] = b;
        return TRN_OK;
    }
    core_view v;
    trn_status st = core_view_of(c, o, key, &v);
    if (st != TRN_OK) return st;
    if (v.P != P || v.F != 1)
        return core_fault(c, TRN_E_FAULT, "illegal operand: %s must be a [%u, 1] tile", key, P);
    if ((st = need_int(c, &v, TRN_ALU_BITWISE_AND)) != TRN_OK) return st;
    if ((st = core_load_codes(c, &v, out)) != TRN_OK) return st;
    for (uint32_t p = 0; p < P; p++) out[p] = core_int_bits(v.t->dtype, out[p]);
    return TRN_OK;
}

trn_status core_op_tensor_scalar(trn_core *c, const trn_instr *in) {
    core_view d, s;
    trn_status st = pair(c, in, "data", &d, &s);
    if (st != TRN_OK) return st;
    trn_alu_op op[2] = {(trn_alu_op)core_arg_int(c, in, "op0", TRN_ALU_BYPASS),
                        (trn_alu_op)core_arg_int(c, in, "op1", TRN_ALU_BYPASS)};
    int nops = core_arg(c, in, "op1") ? 2 : 1;
    int rev[2] = {(int)core_arg_int(c, in, "reverse0", 0), (int)core_arg_int(c, in, "reverse1", 0)};
    const char *okey[2] = {"operand0", "operand1"};
    size_t P = d.P, F = (size_t)d.F;
    if (!alu_ok(op[0]) || !alu_ok(op[1]))
        return core_fault(c, TRN_E_FAULT, "illegal operand: ALU operator out of range");
    if (trn_alu_is_bitvec(op[0])) {
        uint32_t *x, *sc = core_tmp(c, P * sizeof *sc);
        if (!sc) return TRN_E_NOMEM;
        if ((st = need_int(c, &s, op[0])) || (st = need_int(c, &d, op[0]))) return st;
        if ((st = load_bits(c, &s, &x)) != TRN_OK) return st;
        for (int k = 0; k < nops; k++) {
            if (!trn_alu_is_bitvec(op[k]))
                return core_fault(c, TRN_E_FAULT,
                                  "illegal operand: op0 and op1 must both be "
                                  "bitvec or both arithmetic");
            if ((st = scalar_bits(c, in, okey[k], d.P, sc)) != TRN_OK) return st;
            for (size_t i = 0; i < P * F; i++)
                x[i] = rev[k] ? core_alu_bits(op[k], sc[i / F], x[i])
                              : core_alu_bits(op[k], x[i], sc[i / F]);
        }
        core_store_codes(c, &d, x);
        return TRN_OK;
    }
    float *x, *sc = core_tmp(c, P * sizeof *sc);
    if (!sc) return TRN_E_NOMEM;
    if ((st = load_vals(c, &s, &x)) != TRN_OK) return st;
    for (int k = 0; k < nops; k++) {
        if (trn_alu_is_bitvec(op[k]))
            return core_fault(c, TRN_E_FAULT,
                              "illegal operand: op0 and op1 must both be bitvec or both "
                              "arithmetic");
        if ((st = core_load_scalar(c, in, okey[k], d.P, 0.0f, sc)) != TRN_OK) return st;
        for (size_t i = 0; i < P * F; i++)
            x[i] = rev[k] ? core_alu_f32(op[k], sc[i / F], x[i])
                          : core_alu_f32(op[k], x[i], sc[i / F]);
    }
    return core_store_f32(c, &d, x);
}

trn_status core_op_tensor_copy(trn_core *c, const trn_instr *in) {
    core_view d, s;
    trn_status st = pair(c, in, "src", &d, &s);
    if (st != TRN_OK) return st;
    if (d.t->dtype == s.t->dtype && d.t->packed == s.t->packed) {
        uint32_t *x = core_tmp(c, (size_t)s.P * (size_t)s.F * sizeof *x);
        if (!x) return TRN_E_NOMEM;
        if ((st = core_load_codes(c, &s, x)) != TRN_OK) return st;
        core_store_codes(c, &d, x); /* bit-exact */
        return TRN_OK;
    }
    float *x;
    if ((st = load_vals(c, &s, &x)) != TRN_OK) return st;
    return core_store_f32(c, &d, x);
}

trn_status core_op_memset(trn_core *c, const trn_instr *in) {
    core_view d;
    trn_status st = core_view_arg(c, in, "dst", &d);
    if (st != TRN_OK) return st;
    const trn_operand *o = core_arg(c, in, "value");
    double v = !o ? 0.0 : o->kind == TRN_ARG_FLOAT ? o->u.imm : (double)o->u.i;
    size_t n = (size_t)d.P * (size_t)d.F;
    uint32_t *x = core_tmp(c, n * sizeof *x), code;
    if (!x) return TRN_E_NOMEM;
    if (d.t->packed)
        return core_fault(c, TRN_E_FAULT, "illegal operand: memset of an MX x4-packed tile");
    if (trn_dtype_is_int(d.t->dtype) && v == floor(v) && fabs(v) < 4294967296.0) {
        /* integers exactly (FP32 would round values above 2^24), clamped to the type */
        int64_t iv = (int64_t)v, lo = 0, hi = 0;
        switch (d.t->dtype) {
        case TRN_DTYPE_INT8: lo = -128, hi = 127; break;
        case TRN_DTYPE_INT16: lo = -32768, hi = 32767; break;
        case TRN_DTYPE_INT32: lo = INT32_MIN, hi = INT32_MAX; break;
        case TRN_DTYPE_UINT8: hi = 255; break;
        case TRN_DTYPE_UINT16: hi = 65535; break;
        default: hi = UINT32_MAX; break;
        }
        code = (uint32_t)(iv < lo ? lo : iv > hi ? hi : iv);
        for (size_t i = 0; i < n; i++) x[i] = code;
    } else {
        for (size_t i = 0; i < n; i++) x[i] = core_encode(c, d.t->dtype, (float)v);
    }
    core_store_codes(c, &d, x);
    return TRN_OK;
}

trn_status core_op_tensor_reduce(trn_core *c, const trn_instr *in) {
    core_view d, s;
    trn_status st = core_view_arg(c, in, "data", &s);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", &d);
    if (st != TRN_OK) return st;
    const trn_operand *ax = core_arg(c, in, "axis");
    const trn_ap *ap = &core_arg(c, in, "data")->u.ap;
    uint32_t nax = ax && ax->kind == TRN_ARG_INT_LIST ? ax->u.list.count : 0;
    if (nax < 1 || nax > ap->nfree)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: axis must name 1..%u trailing free dimensions",
                          (unsigned)ap->nfree);
    size_t R = 1;
    for (uint32_t i = ap->nfree - nax; i < ap->nfree; i++) R *= (size_t)ap->free[i].num;
    size_t P = s.P, G = (size_t)s.F / R;
    if (d.P != P || (size_t)d.F != G)
        return core_fault(c, TRN_E_FAULT, "illegal operand: dst '%s' must be [%zu, %zu]", d.t->name,
                          P, G);
    trn_alu_op op = (trn_alu_op)core_arg_int(c, in, "op", TRN_ALU_ADD);
    int neg = (int)core_arg_int(c, in, "negate", 0);
    if (trn_alu_is_bitvec(op)) {
        if (op != TRN_ALU_BITWISE_AND && op != TRN_ALU_BITWISE_OR && op != TRN_ALU_BITWISE_XOR)
            return core_fault(c, TRN_E_FAULT, "illegal operand: tensor_reduce with %s",
                              trn_alu_name(op));
        uint32_t *x, *y = core_tmp(c, P * G * sizeof *y);
        if (!y) return TRN_E_NOMEM;
        if ((st = need_int(c, &s, op)) || (st = need_int(c, &d, op)) || (st = load_bits(c, &s, &x)))
            return st;
        for (size_t g = 0; g < P * G; g++) {
            uint32_t a = x[g * R];
            for (size_t r = 1; r < R; r++) a = core_alu_bits(op, a, x[g * R + r]);
            y[g] = neg ? 0u - a : a;
        }
        core_store_codes(c, &d, y);
        return TRN_OK;
    }
    if (op != TRN_ALU_ADD && op != TRN_ALU_MULTIPLY && op != TRN_ALU_MAXIMUM &&
        op != TRN_ALU_MINIMUM && op != TRN_ALU_ABS_MAX && op != TRN_ALU_ABS_MIN)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: tensor_reduce op %s (add, multiply, maximum, "
                          "minimum, abs_max, abs_min or bitwise and/or/xor)",
                          trn_alu_name(op));
    float *x, *y = core_tmp(c, P * G * sizeof *y);
    if (!y) return TRN_E_NOMEM;
    if ((st = load_vals(c, &s, &x)) != TRN_OK) return st;
    int absop = op == TRN_ALU_ABS_MAX || op == TRN_ALU_ABS_MIN;
    for (size_t g = 0; g < P * G; g++) {
        float a = absop ? fabsf(x[g * R]) : x[g * R];
        for (size_t r = 1; r < R; r++) a = core_alu_f32(op, a, x[g * R + r]);
        y[g] = neg ? -a : a;
    }
    return core_store_f32(c, &d, y);
}

trn_status core_op_reciprocal(trn_core *c, const trn_instr *in) {
    core_view d, s;
    float *x;
    trn_status st = pair(c, in, "data", &d, &s);
    if (st == TRN_OK) st = load_vals(c, &s, &x);
    if (st != TRN_OK) return st;
    for (size_t i = 0; i < (size_t)s.P * (size_t)s.F; i++) x[i] = 1.0f / x[i];
    return core_store_f32(c, &d, x);
}

/* quantize_mx (v4): src [P][4F] BF16/FP16 -> dst [P][F] x4 codes + scales. Group (g, f) is
 * src partitions 8g..8g+7, columns 4f..4f+3 (32 values, element 4q + j = partition 8g + q,
 * column 4f + j); scale rule NC4 (trn_mx_scale); the scale byte goes to row
 * 32 (g / 4) + g % 4 of dst_scale, column f; other rows of dst_scale are not written. */
trn_status core_op_quantize_mx(trn_core *c, const trn_instr *in) {
    core_view d, s, sc;
    trn_status st = core_view_arg(c, in, "src", &s);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", &d);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst_scale", &sc);
    if (st != TRN_OK) return st;
    size_t P = s.P, F = (size_t)d.F;
    trn_dtype el = d.t->dtype;
    if (!d.t->packed || d.eb != 4 || (el != TRN_DTYPE_FP8_E4M3 && el != TRN_DTYPE_FP8_E5M2))
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: dst must be fp8_e4m3_x4 or "
                          "fp8_e5m2_x4");
    size_t ngroups = P / 8;
    if (P % 8 || d.P != P || (size_t)s.F != 4 * F || (size_t)sc.F != F || !ngroups ||
        32 * ((ngroups - 1) / 4) + (ngroups - 1) % 4 >= sc.P)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: quantize_mx shapes: src [%u, %lld], dst [%u, %lld], "
                          "dst_scale [%u, %lld]",
                          s.P, (long long)s.F, d.P, (long long)d.F, sc.P, (long long)sc.F);
    float *x;
    uint32_t *q = core_tmp(c, P * F * sizeof *q), *srow = core_tmp(c, F * sizeof *srow);
    if (!q || !srow) return TRN_E_NOMEM;
    if ((st = load_vals(c, &s, &x)) != TRN_OK) return st;
    trn_cvt_opts o = {c->o.round, 1, c->o.seed, 0};
    for (size_t g = 0; g < ngroups; g++) {
        for (size_t f = 0; f < F; f++) {
            float blk[TRN_MX_BLOCK];
            uint8_t codes[TRN_MX_BLOCK], scale;
            for (size_t qq = 0; qq < 8; qq++)
                for (size_t j = 0; j < 4; j++)
                    blk[4 * qq + j] = x[(8 * g + qq) * 4 * F + 4 * f + j];
            o.counter = ((uint64_t)(uint32_t)c->cur << 32) + c->wcount;
            c->wcount += TRN_MX_BLOCK;
            trn_mx_quantize_block(el, TRN_SCALE_NC4, blk, 1, &o, &scale, codes);
            for (size_t qq = 0; qq < 8; qq++)
                q[(8 * g + qq) * F + f] = trn_pack_fp8_x4(codes + 4 * qq);
            srow[f] = scale;
        }
        core_view row = sc;
        row.p0 += (uint32_t)(32 * (g / 4) + g % 4);
        row.P = 1;
        core_store_codes(c, &row, srow);
    }
    core_store_codes(c, &d, q);
    return TRN_OK;
}

/* ---- VectorE accumulator instructions ----------------------------------------------------
 * One FP32 accumulator per partition (c->dve_acc, indexed by the memory partition), shared by
 * tensor_scalar_reduce, tensor_scalar_cumulative, range_select, select_reduce and exponential.
 * reset sets it to the identity of the reduce operator, load_reduce to a given value; reading
 * one never reset or loaded is an uninitialized-read fault. */

/* Identity of a VectorE reduce operator (add/subtract 0, multiply 1, max -Inf, min +Inf). */
static float acc_identity(trn_alu_op op) {
    switch (op) {
    case TRN_ALU_MULTIPLY: return 1.0f;
    case TRN_ALU_MAXIMUM: return -INFINITY;
    case TRN_ALU_MINIMUM: return INFINITY;
    default: return 0.0f;
    }
}

/* Partitions p0 .. p0 + P - 1 must exist as accumulator lanes. */
static trn_status lanes_ok(trn_core *c, uint32_t p0, size_t P) {
    if (P > TRN_MAX_PARTITIONS || p0 + P > TRN_MAX_PARTITIONS)
        return core_fault(c, TRN_E_FAULT, "illegal operand: partitions %u..%zu beyond %d lanes", p0,
                          p0 + P - 1, TRN_MAX_PARTITIONS);
    return TRN_OK;
}

/* Applies the start of reduce_cmd `cmd` to lanes p0.. (reset to `id`, load from init[P]) and
 * checks that a continuing reduce finds its lanes set. Returns TRN_OK when the instruction then
 * folds its values in (*fold = 1) or not. */
static trn_status acc_start(trn_core *c, int64_t cmd, uint32_t p0, size_t P, float id,
                            const float *init, int *fold) {
    trn_status st = lanes_ok(c, p0, P);
    if (st != TRN_OK) return st;
    *fold = cmd == TRN_REDUCE_CMD_REDUCE || cmd == TRN_REDUCE_CMD_RESET_REDUCE ||
            cmd == TRN_REDUCE_CMD_LOAD_REDUCE;
    for (size_t p = 0; p < P; p++) {
        if (cmd == TRN_REDUCE_CMD_RESET || cmd == TRN_REDUCE_CMD_RESET_REDUCE)
            c->dve_acc[p0 + p] = id;
        else if (cmd == TRN_REDUCE_CMD_LOAD_REDUCE)
            c->dve_acc[p0 + p] = init[p];
        if (cmd != TRN_REDUCE_CMD_IDLE && cmd != TRN_REDUCE_CMD_REDUCE) c->dve_acc_set[p0 + p] = 1;
    }
    return TRN_OK;
}

/* An accumulator lane about to be read or continued: fault if never reset or loaded. */
static trn_status acc_check(trn_core *c, uint32_t p0, size_t P) {
    for (size_t p = 0; p < P; p++)
        if (!c->dve_acc_set[p0 + p])
            return core_fault(c, TRN_E_FAULT,
                              "uninitialized read: the VectorE accumulator of partition %zu was "
                              "never reset or loaded (use reduce_cmd=reset_reduce or load_reduce)",
                              p0 + p);
    return TRN_OK;
}

/* Writes lanes p0.. of the accumulator to reduce_res when it is given. */
static trn_status acc_out(trn_core *c, const trn_instr *in, uint32_t p0, size_t P) {
    const trn_operand *rr = core_arg(c, in, "reduce_res");
    if (!rr) return TRN_OK;
    core_view r;
    trn_status st = core_view_of(c, rr, "reduce_res", &r);
    if (st != TRN_OK) return st;
    if (r.P != P || r.F != 1)
        return core_fault(c, TRN_E_FAULT, "illegal operand: reduce_res must be [%zu, 1]", P);
    if ((st = acc_check(c, p0, P)) != TRN_OK) return st;
    return core_store_f32(c, &r, c->dve_acc + p0);
}

/* Folds the FP32 values x[P][F] into the accumulator with `op` (acc = acc op x, in order). */
static trn_status acc_fold(trn_core *c, uint32_t p0, size_t P, size_t F, trn_alu_op op,
                           const float *x) {
    trn_status st = acc_check(c, p0, P);
    if (st != TRN_OK) return st;
    for (size_t p = 0; p < P; p++) {
        float a = c->dve_acc[p0 + p];
        for (size_t f = 0; f < F; f++) a = core_alu_f32(op, a, x[p * F + f]);
        c->dve_acc[p0 + p] = a;
    }
    return TRN_OK;
}

static trn_status arith_only(trn_core *c, const char *key, trn_alu_op op) {
    if (alu_ok(op) && !trn_alu_is_bitvec(op)) return TRN_OK;
    return core_fault(c, TRN_E_FAULT, "illegal operand: %s must be an arithmetic operator, not %s",
                      key, trn_alu_name(op));
}

trn_status core_op_scalar_tensor_tensor(trn_core *c, const trn_instr *in) {
    core_view d, s, t;
    trn_status st = pair(c, in, "data", &d, &s);
    if (st == TRN_OK) st = pair(c, in, "operand1", &d, &t);
    if (st != TRN_OK) return st;
    trn_alu_op op0 = (trn_alu_op)core_arg_int(c, in, "op0", TRN_ALU_BYPASS);
    trn_alu_op op1 = (trn_alu_op)core_arg_int(c, in, "op1", TRN_ALU_BYPASS);
    if ((st = arith_only(c, "op0", op0)) != TRN_OK || (st = arith_only(c, "op1", op1)) != TRN_OK)
        return st;
    int r0 = (int)core_arg_int(c, in, "reverse0", 0), r1 = (int)core_arg_int(c, in, "reverse1", 0);
    size_t P = d.P, F = (size_t)d.F;
    float *x, *y, *sc = core_tmp(c, P * sizeof *sc);
    if (!sc) return TRN_E_NOMEM;
    if ((st = core_load_scalar(c, in, "operand0", d.P, 0.0f, sc)) != TRN_OK ||
        (st = load_vals(c, &s, &x)) != TRN_OK || (st = load_vals(c, &t, &y)) != TRN_OK)
        return st;
    for (size_t i = 0; i < P * F; i++) {
        float v = r0 ? core_alu_f32(op0, sc[i / F], x[i]) : core_alu_f32(op0, x[i], sc[i / F]);
        x[i] = r1 ? core_alu_f32(op1, y[i], v) : core_alu_f32(op1, v, y[i]);
    }
    return core_store_f32(c, &d, x);
}

trn_status core_op_tensor_scalar_reduce(trn_core *c, const trn_instr *in) {
    core_view d, s;
    trn_status st = pair(c, in, "data", &d, &s);
    if (st != TRN_OK) return st;
    trn_alu_op op0 = (trn_alu_op)core_arg_int(c, in, "op0", TRN_ALU_BYPASS);
    trn_alu_op rop = (trn_alu_op)core_arg_int(c, in, "reduce_op", TRN_ALU_ADD);
    int64_t cmd = core_arg_int(c, in, "reduce_cmd", TRN_REDUCE_CMD_RESET_REDUCE);
    if ((st = arith_only(c, "op0", op0)) != TRN_OK) return st;
    if (rop != TRN_ALU_ADD && rop != TRN_ALU_MULTIPLY && rop != TRN_ALU_MAXIMUM &&
        rop != TRN_ALU_MINIMUM)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: reduce_op %s (tensor_scalar_reduce takes add, "
                          "multiply, maximum, minimum)",
                          trn_alu_name(rop));
    int rev = (int)core_arg_int(c, in, "reverse0", 0), fold;
    size_t P = d.P, F = (size_t)d.F;
    float *x, *sc = core_tmp(c, P * sizeof *sc), *init = core_tmp(c, P * sizeof *init);
    if (!sc || !init) return TRN_E_NOMEM;
    if (cmd == TRN_REDUCE_CMD_LOAD_REDUCE && !core_arg(c, in, "reduce_init"))
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: reduce_cmd=load_reduce needs reduce_init");
    if ((st = core_load_scalar(c, in, "operand0", d.P, 0.0f, sc)) != TRN_OK ||
        (st = core_load_scalar(c, in, "reduce_init", d.P, 0.0f, init)) != TRN_OK ||
        (st = load_vals(c, &s, &x)) != TRN_OK)
        return st;
    for (size_t i = 0; i < P * F; i++)
        x[i] = rev ? core_alu_f32(op0, sc[i / F], x[i]) : core_alu_f32(op0, x[i], sc[i / F]);
    if ((st = acc_start(c, cmd, s.p0, P, acc_identity(rop), init, &fold)) != TRN_OK) return st;
    if (fold && (st = acc_fold(c, s.p0, P, F, rop, x)) != TRN_OK) return st;
    if ((st = core_store_f32(c, &d, x)) != TRN_OK) return st;
    return acc_out(c, in, s.p0, P);
}

trn_status core_op_tensor_scalar_cumulative(trn_core *c, const trn_instr *in) {
    core_view d, s;
    trn_status st = pair(c, in, "src", &d, &s);
    if (st != TRN_OK) return st;
    trn_alu_op op0 = (trn_alu_op)core_arg_int(c, in, "op0", TRN_ALU_BYPASS);
    trn_alu_op op1 = (trn_alu_op)core_arg_int(c, in, "op1", TRN_ALU_ADD);
    int64_t cmd = core_arg_int(c, in, "reduce_cmd", TRN_REDUCE_CMD_RESET_REDUCE);
    if ((st = arith_only(c, "op0", op0)) != TRN_OK) return st;
    if (op1 != TRN_ALU_ADD && op1 != TRN_ALU_SUBTRACT && op1 != TRN_ALU_MULTIPLY &&
        op1 != TRN_ALU_MAXIMUM && op1 != TRN_ALU_MINIMUM)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: op1 %s (tensor_scalar_cumulative accumulates with add, "
                          "subtract, multiply, maximum, minimum)",
                          trn_alu_name(op1));
    if (cmd != TRN_REDUCE_CMD_RESET_REDUCE && cmd != TRN_REDUCE_CMD_REDUCE &&
        cmd != TRN_REDUCE_CMD_LOAD_REDUCE)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: reduce_cmd %s (tensor_scalar_cumulative takes "
                          "reset_reduce, reduce, load_reduce)",
                          trn_isa_enum_value(TRN_ENUM_REDUCE_CMD, (int)cmd));
    const trn_tensor *bad = s.t->dtype == TRN_DTYPE_INT32 || s.t->dtype == TRN_DTYPE_UINT32 ? s.t
                            : d.t->dtype == TRN_DTYPE_INT32 || d.t->dtype == TRN_DTYPE_UINT32
                                ? d.t
                                : NULL;
    if (bad)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: tensor_scalar_cumulative does not take %s ('%s')",
                          trn_dtype_name(bad->dtype), bad->name);
    if (cmd == TRN_REDUCE_CMD_LOAD_REDUCE && !core_arg(c, in, "imm1"))
        return core_fault(c, TRN_E_FAULT, "illegal operand: reduce_cmd=load_reduce needs imm1");
    size_t P = d.P, F = (size_t)d.F;
    int fold;
    float *x, *i0 = core_tmp(c, P * sizeof *i0), *i1 = core_tmp(c, P * sizeof *i1);
    if (!i0 || !i1) return TRN_E_NOMEM;
    if ((st = core_load_scalar(c, in, "imm0", d.P, 0.0f, i0)) != TRN_OK ||
        (st = core_load_scalar(c, in, "imm1", d.P, 0.0f, i1)) != TRN_OK ||
        (st = load_vals(c, &s, &x)) != TRN_OK)
        return st;
    if ((st = acc_start(c, cmd, s.p0, P, acc_identity(op1), i1, &fold)) != TRN_OK ||
        (st = acc_check(c, s.p0, P)) != TRN_OK)
        return st;
    for (size_t p = 0; p < P; p++) {
        float reg = c->dve_acc[s.p0 + p];
        for (size_t f = 0; f < F; f++) {
            reg = core_alu_f32(op1, core_alu_f32(op0, x[p * F + f], i0[p]), reg);
            x[p * F + f] = reg;
        }
        c->dve_acc[s.p0 + p] = reg;
    }
    return core_store_f32(c, &d, x);
}

trn_status core_op_tensor_tensor_scan(trn_core *c, const trn_instr *in) {
    core_view d, a, b;
    trn_status st = pair(c, in, "data0", &d, &a);
    if (st == TRN_OK) st = pair(c, in, "data1", &d, &b);
    if (st != TRN_OK) return st;
    trn_alu_op op0 = (trn_alu_op)core_arg_int(c, in, "op0", TRN_ALU_ADD);
    trn_alu_op op1 = (trn_alu_op)core_arg_int(c, in, "op1", TRN_ALU_ADD);
    if ((st = arith_only(c, "op0", op0)) != TRN_OK || (st = arith_only(c, "op1", op1)) != TRN_OK)
        return st;
    int r0 = (int)core_arg_int(c, in, "reverse0", 0), r1 = (int)core_arg_int(c, in, "reverse1", 0);
    size_t P = d.P, F = (size_t)d.F;
    float *x, *y, *init = core_tmp(c, P * sizeof *init);
    if (!init) return TRN_E_NOMEM;
    if ((st = core_load_scalar(c, in, "initial", d.P, 0.0f, init)) != TRN_OK ||
        (st = load_vals(c, &a, &x)) != TRN_OK || (st = load_vals(c, &b, &y)) != TRN_OK)
        return st;
    for (size_t p = 0; p < P; p++) {
        float r = init[p]; /* the carried state stays FP32 (never rounded to dst's dtype) */
        for (size_t f = 0; f < F; f++) {
            size_t i = p * F + f;
            float t = r0 ? core_alu_f32(op0, r, x[i]) : core_alu_f32(op0, x[i], r);
            r = r1 ? core_alu_f32(op1, y[i], t) : core_alu_f32(op1, t, y[i]);
            x[i] = r;
        }
    }
    return core_store_f32(c, &d, x);
}

/* Predicate codes of an integer tile as 0/1 (nonzero = true), flipped when `reverse`. */
static trn_status load_pred(trn_core *c, const core_view *v, int reverse, uint8_t **out) {
    size_t n = (size_t)v->P * (size_t)v->F;
    uint32_t *codes = core_tmp(c, n * sizeof *codes);
    *out = core_tmp(c, n);
    if (!codes || !*out) return TRN_E_NOMEM;
    if (!trn_dtype_is_int(v->t->dtype) || v->t->packed)
        return core_fault(c, TRN_E_FAULT, "illegal operand: predicate '%s' must be an integer tile",
                          v->t->name);
    trn_status st = core_load_codes(c, v, codes);
    for (size_t i = 0; st == TRN_OK && i < n; i++)
        (*out)[i] = (uint8_t)((codes[i] != 0) != !!reverse);
    return st;
}

trn_status core_op_tensor_copy_predicated(trn_core *c, const trn_instr *in) {
    core_view d, pv;
    trn_status st = core_view_arg(c, in, "dst", &d);
    if (st == TRN_OK) st = pair(c, in, "predicate", &d, &pv);
    if (st != TRN_OK) return st;
    uint8_t *m;
    if ((st = load_pred(c, &pv, (int)core_arg_int(c, in, "reverse_pred", 0), &m)) != TRN_OK)
        return st;
    size_t P = d.P, F = (size_t)d.F, n = P * F;
    uint32_t *codes = core_tmp(c, n * sizeof *codes);
    if (!codes) return TRN_E_NOMEM;
    if (d.t->packed) return core_fault(c, TRN_E_FAULT, "illegal operand: dst is MX x4-packed");
    const trn_operand *so = core_arg(c, in, "src");
    if (so && (so->kind == TRN_ARG_AP_IN || so->kind == TRN_ARG_AP_OUT)) {
        core_view s;
        if ((st = pair(c, in, "src", &d, &s)) != TRN_OK) return st;
        if (s.t->dtype == d.t->dtype && !s.t->packed) {
            if ((st = core_load_codes(c, &s, codes)) != TRN_OK) return st; /* bit-exact */
        } else {
            float *x;
            if ((st = load_vals(c, &s, &x)) != TRN_OK) return st;
            for (size_t i = 0; i < n; i++)
                if (m[i]) codes[i] = core_encode(c, d.t->dtype, x[i]);
        }
    } else {
        float *sc = core_tmp(c, P * sizeof *sc);
        if (!sc) return TRN_E_NOMEM;
        if ((st = core_load_scalar(c, in, "src", d.P, 0.0f, sc)) != TRN_OK) return st;
        for (size_t i = 0; i < n; i++)
            if (m[i]) codes[i] = core_encode(c, d.t->dtype, sc[i / F]);
    }
    core_store_codes_masked(c, &d, codes, m);
    return TRN_OK;
}

static int is_cmp(trn_alu_op op) {
    return op == TRN_ALU_EQUAL || op == TRN_ALU_LESS || op == TRN_ALU_LESS_EQUAL ||
           op == TRN_ALU_GREATER || op == TRN_ALU_GREATER_EQUAL;
}

/* reduce_cmd with the activation rule: reduce_res given means reset_reduce by default. */
static int64_t cmd_default(trn_core *c, const trn_instr *in, int64_t def) {
    return core_arg_int(c, in, "reduce_cmd",
                        core_arg(c, in, "reduce_res") ? TRN_REDUCE_CMD_RESET_REDUCE : def);
}

trn_status core_op_range_select(trn_core *c, const trn_instr *in) {
    core_view d, s;
    trn_status st = pair(c, in, "on_true_tile", &d, &s);
    if (st != TRN_OK) return st;
    trn_alu_op c0 = (trn_alu_op)core_arg_int(c, in, "comp_op0", TRN_ALU_EQUAL);
    trn_alu_op c1 = (trn_alu_op)core_arg_int(c, in, "comp_op1", TRN_ALU_EQUAL);
    trn_alu_op rop = (trn_alu_op)core_arg_int(c, in, "reduce_op", TRN_ALU_MAXIMUM);
    int64_t cmd = core_arg_int(c, in, "reduce_cmd", TRN_REDUCE_CMD_RESET_REDUCE);
    if (!is_cmp(c0) || !is_cmp(c1))
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: comp_op0/comp_op1 must be equal, less, less_equal, "
                          "greater or greater_equal (got %s, %s)",
                          trn_alu_name(c0), trn_alu_name(c1));
    if (rop != TRN_ALU_MAXIMUM)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: range_select reduces with maximum only");
    if (cmd == TRN_REDUCE_CMD_LOAD_REDUCE)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: range_select has no initial value for load_reduce");
    const trn_operand *fo = core_arg(c, in, "on_false_value");
    float fv = !fo ? -FLT_MAX : fo->kind == TRN_ARG_FLOAT ? (float)fo->u.imm : (float)fo->u.i;
    int64_t start = core_arg_int(c, in, "range_start", 0);
    size_t P = d.P, F = (size_t)d.F;
    int fold;
    float *x, *b0 = core_tmp(c, P * sizeof *b0), *b1 = core_tmp(c, P * sizeof *b1);
    if (!b0 || !b1) return TRN_E_NOMEM;
    if ((st = core_load_scalar(c, in, "bound0", d.P, 0.0f, b0)) != TRN_OK ||
        (st = core_load_scalar(c, in, "bound1", d.P, 0.0f, b1)) != TRN_OK ||
        (st = load_vals(c, &s, &x)) != TRN_OK)
        return st;
    for (size_t p = 0; p < P; p++)
        for (size_t f = 0; f < F; f++) {
            float idx = (float)(start + (int64_t)f); /* compared in FP32 */
            if (core_alu_f32(c0, idx, b0[p]) == 0.0f || core_alu_f32(c1, idx, b1[p]) == 0.0f)
                x[p * F + f] = fv;
        }
    if ((st = acc_start(c, cmd, s.p0, P, -INFINITY, NULL, &fold)) != TRN_OK) return st;
    if (fold && (st = acc_fold(c, s.p0, P, F, rop, x)) != TRN_OK) return st;
    if ((st = core_store_f32(c, &d, x)) != TRN_OK) return st;
    return acc_out(c, in, s.p0, P);
}

trn_status core_op_select_reduce(trn_core *c, const trn_instr *in) {
    core_view d, s, pv;
    trn_status st = pair(c, in, "on_true", &d, &s);
    if (st == TRN_OK) st = pair(c, in, "predicate", &d, &pv);
    if (st != TRN_OK) return st;
    trn_alu_op rop = (trn_alu_op)core_arg_int(c, in, "reduce_op", TRN_ALU_MAXIMUM);
    int64_t cmd = cmd_default(c, in, TRN_REDUCE_CMD_IDLE);
    if (rop != TRN_ALU_MAXIMUM)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: select_reduce reduces with maximum only");
    if (cmd == TRN_REDUCE_CMD_LOAD_REDUCE)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: select_reduce has no initial value for load_reduce");
    size_t P = d.P, F = (size_t)d.F;
    int fold;
    uint8_t *m;
    float *x, *of = core_tmp(c, P * sizeof *of);
    if (!of) return TRN_E_NOMEM;
    if ((st = load_pred(c, &pv, (int)core_arg_int(c, in, "reverse_pred", 0), &m)) != TRN_OK ||
        (st = core_load_scalar(c, in, "on_false", d.P, 0.0f, of)) != TRN_OK ||
        (st = load_vals(c, &s, &x)) != TRN_OK)
        return st;
    for (size_t i = 0; i < P * F; i++)
        if (!m[i]) x[i] = of[i / F];
    if ((st = acc_start(c, cmd, s.p0, P, -INFINITY, NULL, &fold)) != TRN_OK) return st;
    if (fold && (st = acc_fold(c, s.p0, P, F, rop, x)) != TRN_OK) return st;
    if ((st = core_store_f32(c, &d, x)) != TRN_OK) return st;
    return acc_out(c, in, s.p0, P);
}

trn_status core_op_exponential(trn_core *c, const trn_instr *in) {
    core_view d, s;
    trn_status st = pair(c, in, "src", &d, &s);
    if (st != TRN_OK) return st;
    int64_t cmd = cmd_default(c, in, TRN_REDUCE_CMD_IDLE);
    size_t P = d.P, F = (size_t)d.F;
    int fold;
    float *x, *mx = core_tmp(c, P * sizeof *mx), *init = core_tmp(c, P * sizeof *init);
    if (!mx || !init) return TRN_E_NOMEM;
    if ((st = core_load_scalar(c, in, "max_value", d.P, 0.0f, mx)) != TRN_OK ||
        (st = core_load_scalar(c, in, "reduce_init", d.P, 0.0f, init)) != TRN_OK ||
        (st = load_vals(c, &s, &x)) != TRN_OK)
        return st;
    for (size_t i = 0; i < P * F; i++) x[i] = (float)exp((double)(x[i] - mx[i / F]));
    if ((st = acc_start(c, cmd, s.p0, P, 0.0f, init, &fold)) != TRN_OK) return st;
    if (fold && (st = acc_fold(c, s.p0, P, F, TRN_ALU_ADD, x)) != TRN_OK) return st;
    if ((st = core_store_f32(c, &d, x)) != TRN_OK) return st;
    return acc_out(c, in, s.p0, P);
}

/* ---- statistics ------------------------------------------------------------------------ */

trn_status core_op_bn_stats(trn_core *c, const trn_instr *in) {
    core_view d, s;
    trn_status st = core_view_arg(c, in, "data", &s);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", &d);
    if (st != TRN_OK) return st;
    size_t P = s.P, F = (size_t)s.F;
    if (d.P != P || d.F != 6)
        return core_fault(c, TRN_E_FAULT, "illegal operand: dst '%s' must be [%zu, 6]", d.t->name,
                          P);
    float *x, *y = core_tmp(c, P * 6 * sizeof *y);
    if (!y) return TRN_E_NOMEM;
    if ((st = load_vals(c, &s, &x)) != TRN_OK) return st;
    for (size_t p = 0; p < P; p++) {
        const float *r = x + p * F;
        for (size_t h = 0; h < 2; h++) { /* even elements, then odd */
            size_t n = F / 2 + (h == 0 ? F % 2 : 0);
            float sum = 0.0f, m2 = 0.0f, mean;
            for (size_t f = h; f < F; f += 2) sum += r[f];
            mean = n ? sum / (float)n : 0.0f;
            for (size_t f = h; f < F; f += 2) {
                float dv = r[f] - mean;
                m2 += dv * dv;
            }
            y[p * 6 + 3 * h] = (float)n;
            y[p * 6 + 3 * h + 1] = mean;
            y[p * 6 + 3 * h + 2] = m2;
        }
    }
    return core_store_f32(c, &d, y);
}

trn_status core_op_bn_aggr(trn_core *c, const trn_instr *in) {
    core_view d, s;
    trn_status st = core_view_arg(c, in, "data", &s);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", &d);
    if (st != TRN_OK) return st;
    size_t P = s.P, F = (size_t)s.F;
    if (F % 3 || d.P != P || d.F != 2)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: bn_aggr needs data [P, 3k] and dst [P, 2], got [%u, "
                          "%lld] and [%u, %lld]",
                          s.P, (long long)s.F, d.P, (long long)d.F);
    float *x, *y = core_tmp(c, P * 2 * sizeof *y);
    if (!y) return TRN_E_NOMEM;
    if ((st = load_vals(c, &s, &x)) != TRN_OK) return st;
    for (size_t p = 0; p < P; p++) {
        const float *r = x + p * F;
        float n = 0.0f, sum = 0.0f, m2 = 0.0f, mean;
        for (size_t k = 0; k < F; k += 3) /* triples with count 0 take no part */
            if (r[k] != 0.0f) n += r[k], sum += r[k] * r[k + 1];
        mean = n != 0.0f ? sum / n : 0.0f;
        for (size_t k = 0; k < F; k += 3)
            if (r[k] != 0.0f) {
                float dv = r[k + 1] - mean;
                m2 += r[k + 2] + r[k] * (dv * dv);
            }
        y[2 * p] = mean;
        y[2 * p + 1] = n != 0.0f ? m2 / n : 0.0f;
    }
    return core_store_f32(c, &d, y);
}

/* ---- max8 / find / match-replace -------------------------------------------------------- */

/* The order max8 ranks by: NaN above +Inf, +0 above -0, otherwise IEEE. */
static int ranks_above(float a, float b) {
    if (a != a) return b == b;
    if (b != b) return 0;
    if (a == b) return !signbit(a) && signbit(b);
    return a > b;
}

trn_status core_op_max8(trn_core *c, const trn_instr *in) {
    core_view d, s;
    trn_status st = core_view_arg(c, in, "src", &s);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", &d);
    if (st != TRN_OK) return st;
    size_t P = s.P, F = (size_t)s.F;
    if (F < 8 || d.P != P || d.F != 8)
        return core_fault(
            c, TRN_E_FAULT,
            "illegal operand: max8 needs src [P, >= 8] and dst [P, 8], got [%u, %lld] "
            "and [%u, %lld]",
            s.P, (long long)s.F, d.P, (long long)d.F);
    float *x, *y = core_tmp(c, P * 8 * sizeof *y);
    uint8_t *taken = core_tmp(c, F);
    if (!y || !taken) return TRN_E_NOMEM;
    if ((st = load_vals(c, &s, &x)) != TRN_OK) return st;
    for (size_t p = 0; p < P; p++) {
        memset(taken, 0, F);
        for (size_t j = 0; j < 8; j++) {
            size_t best = F;
            for (size_t f = 0; f < F; f++)
                if (!taken[f] && (best == F || ranks_above(x[p * F + f], x[p * F + best])))
                    best = f;
            taken[best] = 1;
            y[p * 8 + j] = x[p * F + best];
        }
    }
    return core_store_f32(c, &d, y);
}

/* The 8 values per partition of `vals` ([P, 8]) as FP32. */
static trn_status load_vals8(trn_core *c, const trn_instr *in, uint32_t P, float **out) {
    core_view v;
    trn_status st = core_view_arg(c, in, "vals", &v);
    if (st != TRN_OK) return st;
    if (v.P != P || v.F != 8)
        return core_fault(c, TRN_E_FAULT, "illegal operand: vals '%s' must be [%u, 8]", v.t->name,
                          P);
    return load_vals(c, &v, out);
}

/* Index of the first element of row r[F] equal to v (FP32 ==) and not yet taken, or F. */
static size_t find_first(const float *r, size_t F, float v, const uint8_t *taken) {
    for (size_t f = 0; f < F; f++)
        if (r[f] == v && (!taken || !taken[f])) return f;
    return F;
}

static uint32_t all_ones(const core_view *v) {
    return v->eb == 4 ? 0xFFFFFFFFu : (uint32_t)((1u << (8 * v->eb)) - 1);
}

static trn_status need_index_dst(trn_core *c, const core_view *v, uint32_t P) {
    if ((v->t->dtype != TRN_DTYPE_UINT16 && v->t->dtype != TRN_DTYPE_UINT32) || v->t->packed ||
        v->P != P || v->F != 8)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: %s '%s' must be a [%u, 8] uint16 or uint32 tile",
                          v->key, v->t->name, P);
    return TRN_OK;
}

trn_status core_op_nc_find_index8(trn_core *c, const trn_instr *in) {
    core_view d, s;
    float *x = NULL, *v = NULL;
    trn_status st = core_view_arg(c, in, "data", &s);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", &d);
    if (st == TRN_OK) st = need_index_dst(c, &d, s.P);
    if (st == TRN_OK) st = load_vals8(c, in, s.P, &v);
    if (st == TRN_OK) st = load_vals(c, &s, &x);
    if (st != TRN_OK) return st;
    size_t P = s.P, F = (size_t)s.F;
    uint32_t *idx = core_tmp(c, P * 8 * sizeof *idx);
    if (!idx) return TRN_E_NOMEM;
    for (size_t p = 0; p < P; p++)
        for (size_t j = 0; j < 8; j++) {
            size_t f = find_first(x + p * F, F, v[p * 8 + j], NULL);
            idx[p * 8 + j] = f < F ? (uint32_t)f : all_ones(&d);
        }
    core_store_codes(c, &d, idx);
    return TRN_OK;
}

trn_status core_op_nc_match_replace8(trn_core *c, const trn_instr *in) {
    core_view d, s, di;
    float *x = NULL, *v = NULL;
    trn_status st = pair(c, in, "data", &d, &s);
    if (st == TRN_OK) st = load_vals8(c, in, s.P, &v);
    if (st == TRN_OK) st = load_vals(c, &s, &x);
    if (st != TRN_OK) return st;
    const trn_operand *io = core_arg(c, in, "dst_idx");
    if (io && ((st = core_view_of(c, io, "dst_idx", &di)) != TRN_OK ||
               (st = need_index_dst(c, &di, s.P)) != TRN_OK))
        return st;
    const trn_operand *im = core_arg(c, in, "imm");
    float imm = !im ? 0.0f : im->kind == TRN_ARG_FLOAT ? (float)im->u.imm : (float)im->u.i;
    size_t P = s.P, F = (size_t)s.F;
    int same = d.t->dtype == s.t->dtype && !d.t->packed && !s.t->packed;
    uint32_t *codes = core_tmp(c, P * F * sizeof *codes), *idx = core_tmp(c, P * 8 * sizeof *idx);
    uint8_t *taken = core_tmp(c, P * F);
    if (!codes || !idx || !taken) return TRN_E_NOMEM;
    if (same && (st = core_load_codes(c, &s, codes)) != TRN_OK) return st;
    memset(taken, 0, P * F);
    for (size_t p = 0; p < P; p++)
        for (size_t j = 0; j < 8; j++) { /* each value takes the first match not yet taken */
            size_t f = find_first(x + p * F, F, v[p * 8 + j], taken + p * F);
            if (f < F) taken[p * F + f] = 1;
            idx[p * 8 + j] = f < F ? (uint32_t)f : io ? all_ones(&di) : 0;
        }
    for (size_t i = 0; i < P * F; i++)
        if (taken[i] || !same) codes[i] = core_encode(c, d.t->dtype, taken[i] ? imm : x[i]);
    core_store_codes(c, &d, codes);
    if (io) core_store_codes(c, &di, idx);
    return TRN_OK;
}

trn_status core_op_nc_stream_shuffle(trn_core *c, const trn_instr *in) {
    core_view d, s;
    trn_status st = core_view_arg(c, in, "src", &s);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", &d);
    if (st != TRN_OK) return st;
    const trn_operand *mo = core_arg(c, in, "shuffle_mask");
    if (!mo || mo->kind != TRN_ARG_INT_LIST || mo->u.list.count != 32 ||
        (uint64_t)mo->u.list.first + 32 > c->p->nints)
        return core_fault(c, TRN_E_FAULT, "illegal operand: shuffle_mask must list 32 entries");
    const int64_t *mask = c->p->ints + mo->u.list.first;
    if (d.F != s.F || d.t->dtype != s.t->dtype || d.t->packed != s.t->packed)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: dst '%s' and src '%s' must have the same dtype and "
                          "elements per partition",
                          d.t->name, s.t->name);
    size_t F = (size_t)s.F;
    uint32_t *src = core_tmp(c, (size_t)s.P * F * sizeof *src);
    uint32_t *out = core_tmp(c, (size_t)d.P * F * sizeof *out);
    uint8_t *m = core_tmp(c, (size_t)d.P * F);
    if (!src || !out || !m) return TRN_E_NOMEM;
    if ((st = core_load_codes(c, &s, src)) != TRN_OK) return st; /* all read first: in-place ok */
    for (uint32_t i = 0; i < d.P; i++) {
        int64_t k = mask[i % 32];
        uint32_t sp = (i / 32) * 32 + (uint32_t)k;
        if (k == 255) {
            memset(m + (size_t)i * F, 0, F); /* partition left unmodified */
            continue;
        }
        if (k < 0 || k > 31 || sp >= s.P)
            return core_fault(
                c, TRN_E_FAULT,
                "illegal operand: shuffle_mask[%u] = %lld reads src partition %lld of "
                "%u (dst partition %u)",
                i % 32, (long long)k, (long long)((i / 32) * 32 + k), s.P, i);
        memcpy(out + (size_t)i * F, src + (size_t)sp * F, F * sizeof *out);
        memset(m + (size_t)i * F, 1, F);
    }
    core_store_codes_masked(c, &d, out, m);
    return TRN_OK;
}

/* ---- the PRNG: XORWOW per lane ------------------------------------------------------------
 * Marsaglia's xorwow (J. Stat. Softw. 8(14), 2003; the generator of cuRAND): five 32-bit words
 * x0..x4 and a Weyl counter d, all six saved and restored by rand_get/set_state. VectorE has 4
 * states per lane (trainium-facts §2.7: 4 x 32-bit values per lane per cycle), element f of a
 * partition draws from state f % 4; GpSimd has one per lane. Seeding (ours): word w of state k
 * of lane l of engine e (0 VectorE, 1 GpSimd) is seed_word(seed, ((e * 128 + l) * 4 + k) * 6 + w),
 * from trn_core_opts.seed at the start of a run and from the 32-bit value of set_rng_seed. */

static uint32_t seed_word(uint64_t seed, uint64_t i) {
    uint64_t z = seed + (i + 1) * UINT64_C(0x9E3779B97F4A7C15); /* splitmix64 */
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    z ^= z >> 31;
    return (uint32_t)(z >> 32);
}

static void seed_state(uint32_t *s, uint64_t seed, uint64_t i) {
    for (int w = 0; w < 6; w++) s[w] = seed_word(seed, i * 6 + (uint64_t)w);
    if (!(s[0] | s[1] | s[2] | s[3] | s[4])) s[0] = 1; /* all-zero is xorwow's fixed point */
}

static void seed_dve(trn_core *c, uint64_t seed) {
    for (uint64_t l = 0; l < TRN_MAX_PARTITIONS; l++)
        for (uint64_t k = 0; k < 4; k++) seed_state(c->rng_dve[l][k], seed, l * 4 + k);
}

static void rng_init(trn_core *c) {
    if (c->rng_ready) return;
    seed_dve(c, c->o.seed);
    for (uint64_t l = 0; l < TRN_MAX_PARTITIONS; l++)
        seed_state(c->rng_pool[l], c->o.seed, (TRN_MAX_PARTITIONS + l) * 4);
    c->rng_ready = 1;
}

static uint32_t xorwow(uint32_t *s) {
    uint32_t t = s[4], v = s[0];
    s[4] = s[3], s[3] = s[2], s[2] = s[1], s[1] = v;
    t ^= t >> 2;
    t ^= t << 1;
    t ^= v ^ (v << 4);
    s[0] = t;
    s[5] += 362437u;
    return t + s[5];
}

/* The next 32 random bits for element f of memory partition lane on engine e. */
static uint32_t rng_next(trn_core *c, trn_engine e, uint32_t lane, size_t f) {
    return e == TRN_ENGINE_POOL ? xorwow(c->rng_pool[lane]) : xorwow(c->rng_dve[lane][f % 4]);
}

/* A uniform FP32 in [0, 1): the top 24 bits times 2^-24 (exact). */
static float rng_unit(uint32_t r) {
    return (float)(r >> 8) * 0x1p-24f;
}

trn_status core_op_rng(trn_core *c, const trn_instr *in) {
    core_view d;
    trn_status st = core_view_arg(c, in, "dst", &d);
    if (st == TRN_OK) st = lanes_ok(c, d.p0, d.P);
    if (st != TRN_OK) return st;
    if (!trn_dtype_is_int(d.t->dtype) || d.t->packed)
        return core_fault(c, TRN_E_FAULT, "illegal operand: rng writes integer tiles, '%s' is %s",
                          d.t->name, trn_dtype_name(d.t->dtype));
    size_t F = (size_t)d.F;
    uint32_t *x = core_tmp(c, d.P * F * sizeof *x);
    if (!x) return TRN_E_NOMEM;
    rng_init(c);
    for (uint32_t p = 0; p < d.P; p++)
        for (size_t f = 0; f < F; f++) x[p * F + f] = rng_next(c, in->engine, d.p0 + p, f);
    core_store_codes(c, &d, x); /* the low bits of each 32-bit value */
    return TRN_OK;
}

trn_status core_op_set_rng_seed(trn_core *c, const trn_instr *in) {
    core_view s;
    uint32_t seed;
    trn_status st = core_view_arg(c, in, "src_seeds", &s);
    if (st != TRN_OK) return st;
    if (s.P != 1 || s.F != 1 || s.eb != 4 || s.t->packed)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: src_seeds '%s' must be a [1, 1] tile of a 32-bit type",
                          s.t->name);
    if ((st = core_load_codes(c, &s, &seed)) != TRN_OK) return st;
    rng_init(c);
    seed_dve(c, seed);
    return TRN_OK;
}

/* The [P, 6] (GpSimd) or [P, 24] (VectorE) uint32 state tile of rand_set/get_state. */
static trn_status state_view(trn_core *c, const trn_instr *in, const char *key, core_view *v) {
    trn_status st = core_view_arg(c, in, key, v);
    if (st != TRN_OK) return st;
    int64_t want = in->engine == TRN_ENGINE_POOL ? 6 : 24;
    if (v->F != want || v->t->dtype != TRN_DTYPE_UINT32 || v->t->packed)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: %s '%s' must be uint32 with %lld words per partition "
                          "(XORWOW state%s on %s)",
                          key, v->t->name, (long long)want, want == 6 ? "" : "s x 4",
                          trn_engine_name(in->engine));
    return lanes_ok(c, v->p0, v->P);
}

static uint32_t *state_of(trn_core *c, trn_engine e, uint32_t lane) {
    return e == TRN_ENGINE_POOL ? c->rng_pool[lane] : &c->rng_dve[lane][0][0];
}

trn_status core_op_rand_set_state(trn_core *c, const trn_instr *in) {
    core_view s;
    trn_status st = state_view(c, in, "src_seeds", &s);
    if (st != TRN_OK) return st;
    uint32_t *x = core_tmp(c, s.P * (size_t)s.F * sizeof *x);
    if (!x) return TRN_E_NOMEM;
    if ((st = core_load_codes(c, &s, x)) != TRN_OK) return st;
    rng_init(c);
    for (uint32_t p = 0; p < s.P; p++)
        memcpy(state_of(c, in->engine, s.p0 + p), x + (size_t)p * (size_t)s.F,
               (size_t)s.F * sizeof *x);
    return TRN_OK;
}

trn_status core_op_rand_get_state(trn_core *c, const trn_instr *in) {
    core_view d;
    trn_status st = state_view(c, in, "dst", &d);
    if (st != TRN_OK) return st;
    uint32_t *x = core_tmp(c, d.P * (size_t)d.F * sizeof *x);
    if (!x) return TRN_E_NOMEM;
    rng_init(c);
    for (uint32_t p = 0; p < d.P; p++)
        memcpy(x + (size_t)p * (size_t)d.F, state_of(c, in->engine, d.p0 + p),
               (size_t)d.F * sizeof *x);
    core_store_codes(c, &d, x);
    return TRN_OK;
}

trn_status core_op_rand2(trn_core *c, const trn_instr *in) {
    core_view d;
    trn_status st = core_view_arg(c, in, "dst", &d);
    if (st == TRN_OK) st = lanes_ok(c, d.p0, d.P);
    if (st != TRN_OK) return st;
    size_t P = d.P, F = (size_t)d.F;
    float *x = core_tmp(c, P * F * sizeof *x), *lo = core_tmp(c, P * sizeof *lo),
          *hi = core_tmp(c, P * sizeof *hi);
    if (!x || !lo || !hi) return TRN_E_NOMEM;
    if ((st = core_load_scalar(c, in, "min", d.P, 0.0f, lo)) != TRN_OK ||
        (st = core_load_scalar(c, in, "max", d.P, 1.0f, hi)) != TRN_OK)
        return st;
    for (size_t p = 0; p < P; p++)
        if (!(lo[p] < hi[p]))
            return core_fault(c, TRN_E_FAULT,
                              "illegal operand: rand2 needs min < max, partition %zu has min %g, "
                              "max %g",
                              p, (double)lo[p], (double)hi[p]);
    rng_init(c);
    for (size_t p = 0; p < P; p++) {
        float w = hi[p] - lo[p];
        for (size_t f = 0; f < F; f++)
            x[p * F + f] = lo[p] + w * rng_unit(rng_next(c, TRN_ENGINE_DVE, d.p0 + (uint32_t)p, f));
    }
    return core_store_f32(c, &d, x);
}

trn_status core_op_dropout(trn_core *c, const trn_instr *in) {
    core_view d, s;
    trn_status st = pair(c, in, "data", &d, &s);
    if (st == TRN_OK) st = lanes_ok(c, d.p0, d.P);
    if (st != TRN_OK) return st;
    size_t P = d.P, F = (size_t)d.F, n = P * F;
    float *x, *prob = core_tmp(c, P * sizeof *prob);
    uint32_t *codes = core_tmp(c, n * sizeof *codes);
    if (!prob || !codes) return TRN_E_NOMEM;
    int same = d.t->dtype == s.t->dtype && !d.t->packed && !s.t->packed;
    if ((st = core_load_scalar(c, in, "prob", d.P, 0.0f, prob)) != TRN_OK ||
        (st = load_vals(c, &s, &x)) != TRN_OK || (same && (st = core_load_codes(c, &s, codes))))
        return st;
    rng_init(c);
    for (size_t i = 0; i < n; i++) {
        int keep =
            rng_unit(rng_next(c, TRN_ENGINE_DVE, d.p0 + (uint32_t)(i / F), i % F)) >= prob[i / F];
        if (!keep || !same) codes[i] = core_encode(c, d.t->dtype, keep ? x[i] : 0.0f);
    }
    core_store_codes(c, &d, codes);
    return TRN_OK;
}

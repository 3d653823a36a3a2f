/* VectorE instructions (some also on ScalarE / GpSimd, same semantics): tensor_tensor,
 * tensor_scalar, tensor_copy, memset, tensor_reduce, reciprocal, quantize_mx; and the ALU
 * operators they share. Arithmetic is FP32 on values decoded from each operand's dtype, the
 * result rounded once to dst's dtype; bitvec operators work on 32-bit integer patterns.
 *
 * Deliberately left out: the performance modes (timing only) and the instructions listed
 * in docs/semantics.md as not yet executed. */
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

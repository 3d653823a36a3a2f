/* ScalarE instructions: activation, activation_reduce and activate2 (v4),
 *   y = f(fmaf(data, scale, bias))  (FP32, one rounding),  dst = y rounded to dst's dtype,
 * with an optional free-dim reduction of the FP32 y values into the engine's per-partition
 * accumulators (reduce_cmd) and out to reduce_res.
 *
 * Functions are evaluated in double precision with libm on the FP32 argument and rounded once
 * to FP32: the hardware's piecewise-polynomial tables and their error are not public, so the
 * simulator gives the (nearly) correctly rounded value everywhere, including outside the
 * documented valid ranges (sin beyond [-pi, pi] etc.), where hardware results are undefined.
 *
 * Deliberately left out: the activation-table load cost (timing). */
#include <math.h>

#include "core_impl.h"

static double sigm(double x) {
    return 1.0 / (1.0 + exp(-x));
}

/* f of trn_act_func in double precision. */
static double act(trn_act_func f, double x) {
    const double rs2 = 0.70710678118654752440, rs2pi = 0.39894228040143267794;
    switch (f) {
    case TRN_ACT_COPY: return x;
    case TRN_ACT_EXP: return exp(x);
    case TRN_ACT_LOG: return log(x);
    case TRN_ACT_TANH: return tanh(x);
    case TRN_ACT_SIGMOID: return sigm(x);
    case TRN_ACT_RELU: return x > 0 ? x : 0.0 * (x == x ? 1 : x); /* NaN stays NaN, -0 -> +0 */
    case TRN_ACT_GELU: return 0.5 * x * (1.0 + erf(x * rs2));
    case TRN_ACT_GELU_APPRX_TANH:
        return 0.5 * x * (1.0 + tanh(0.79788456080286535588 * (x + 0.044715 * x * x * x)));
    case TRN_ACT_GELU_APPRX_SIGMOID: return x * sigm(1.702 * x);
    case TRN_ACT_GELU_DX: return 0.5 * (1.0 + erf(x * rs2)) + x * rs2pi * exp(-0.5 * x * x);
    case TRN_ACT_SILU: return x * sigm(x);
    case TRN_ACT_SILU_DX: {
        double s = sigm(x);
        return s * (1.0 + x * (1.0 - s));
    }
    case TRN_ACT_MISH: return x * tanh(log1p(exp(x)));
    case TRN_ACT_SOFTPLUS: return x > 30 ? x + log1p(exp(-x)) : log1p(exp(x));
    case TRN_ACT_ERF: return erf(x);
    case TRN_ACT_ERF_DX: return 1.12837916709551257390 * exp(-x * x);
    case TRN_ACT_SQRT: return sqrt(x);
    case TRN_ACT_RSQRT: return 1.0 / sqrt(x);
    case TRN_ACT_RECIPROCAL: return 1.0 / x;
    case TRN_ACT_SQUARE: return x * x;
    case TRN_ACT_SIN: return sin(x);
    case TRN_ACT_COS: return cos(x);
    case TRN_ACT_ARCTAN: return atan(x);
    case TRN_ACT_SIGN: return x > 0 ? 1.0 : x < 0 ? -1.0 : x; /* +-0 and NaN unchanged */
    case TRN_ACT_ABS: return fabs(x);
    default: return NAN;
    }
}

/* Reduction step of an accumulator; 0 when `op` is not a reduce operator of ScalarE. */
static int reduce_ok(trn_alu_op op) {
    return op == TRN_ALU_ADD || op == TRN_ALU_MAXIMUM || op == TRN_ALU_MINIMUM ||
           op == TRN_ALU_ABS_MAX || op == TRN_ALU_ABS_MIN;
}

static float reduce_init(trn_alu_op op) {
    switch (op) {
    case TRN_ALU_MAXIMUM: return -INFINITY;
    case TRN_ALU_MINIMUM: return INFINITY;
    case TRN_ALU_ABS_MIN: return INFINITY;
    default: return 0.0f; /* add, abs_max */
    }
}

/* The ScalarE reduction shared by activation and activate2, then the stores: the per-partition
 * accumulators are reset and/or fed the P x F results `v` per reduce_cmd, `v` is written to
 * `d`, and the accumulators to reduce_res `rr` when given. */
static trn_status reduce_store(trn_core *c, const trn_operand *rr, int64_t cmd, trn_alu_op rop,
                               const core_view *xv, const core_view *dv, const float *v, size_t P,
                               size_t F) {
    trn_status st;
    const core_view x = *xv, d = *dv;
    if (cmd != TRN_REDUCE_CMD_IDLE && !reduce_ok(rop))
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: reduce_op %s (ScalarE reduces with add, maximum, "
                          "minimum, abs_max, abs_min)",
                          trn_alu_name(rop));
    if (P > TRN_MAX_PARTITIONS || x.p0 + P > TRN_MAX_PARTITIONS)
        return core_fault(c, TRN_E_FAULT, "illegal operand: too many partitions");
    if (cmd == TRN_REDUCE_CMD_RESET || cmd == TRN_REDUCE_CMD_RESET_REDUCE)
        for (size_t p = 0; p < P; p++) c->act_acc[x.p0 + p] = reduce_init(rop);
    if (cmd == TRN_REDUCE_CMD_REDUCE || cmd == TRN_REDUCE_CMD_RESET_REDUCE)
        for (size_t p = 0; p < P; p++) {
            float a = c->act_acc[x.p0 + p];
            for (size_t f = 0; f < F; f++) a = core_alu_f32(rop, a, v[p * F + f]);
            c->act_acc[x.p0 + p] = a;
        }
    if ((st = core_store_f32(c, &d, v)) != TRN_OK) return st;
    if (rr) {
        core_view r;
        if ((st = core_view_of(c, rr, "reduce_res", &r)) != TRN_OK) return st;
        if (r.P != P || r.F != 1)
            return core_fault(c, TRN_E_FAULT, "illegal operand: reduce_res must be [%zu, 1]", P);
        return core_store_f32(c, &r, c->act_acc + x.p0);
    }
    return TRN_OK;
}

trn_status core_op_activation(trn_core *c, const trn_instr *in) {
    core_view d, x;
    trn_status st = core_view_arg(c, in, "data", &x);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", &d);
    if (st != TRN_OK) return st;
    if (d.P != x.P || d.F != x.F)
        return core_fault(c, TRN_E_FAULT, "illegal operand: dst and data shapes differ");
    trn_act_func fn = (trn_act_func)core_arg_int(c, in, "op", TRN_ACT_COPY);
    if ((unsigned)fn >= TRN_ACT_COUNT)
        return core_fault(c, TRN_E_FAULT, "illegal operand: activation function %d", (int)fn);
    size_t P = x.P, F = (size_t)x.F;
    float *v = core_tmp(c, P * F * sizeof *v), *scale = core_tmp(c, P * sizeof *scale),
          *bias = core_tmp(c, P * sizeof *bias);
    if (!v || !scale || !bias) return TRN_E_NOMEM;
    if ((st = core_load_scalar(c, in, "scale", x.P, 1.0f, scale)) != TRN_OK ||
        (st = core_load_scalar(c, in, "bias", x.P, 0.0f, bias)) != TRN_OK ||
        (st = core_load_f32(c, &x, v)) != TRN_OK)
        return st;
    for (size_t p = 0; p < P; p++)
        for (size_t f = 0; f < F; f++)
            v[p * F + f] = (float)act(fn, (double)fmaf(v[p * F + f], scale[p], bias[p]));

    /* the reduction: reduce_res given (or activation_reduce) means reset_reduce by default */
    const trn_operand *rr = core_arg(c, in, "reduce_res");
    int64_t cmd =
        core_arg_int(c, in, "reduce_cmd", rr ? TRN_REDUCE_CMD_RESET_REDUCE : TRN_REDUCE_CMD_IDLE);
    trn_alu_op rop = (trn_alu_op)core_arg_int(c, in, "reduce_op", TRN_ALU_ADD);
    if (cmd == TRN_REDUCE_CMD_LOAD_REDUCE) {
        /* ours: activation has no initial-value operand, so the value loaded is reduce_res's
         * (read before the instruction, as FP32), then the results fold onto it */
        if (!rr)
            return core_fault(c, TRN_E_FAULT,
                              "illegal operand: load_reduce on activation loads reduce_res, "
                              "which is missing");
        if ((st = core_load_scalar(c, in, "reduce_res", x.P, 0.0f, c->act_acc + x.p0)) != TRN_OK)
            return st;
        cmd = TRN_REDUCE_CMD_REDUCE;
    }
    return reduce_store(c, rr, cmd, rop, &x, &d, v, P, F);
}

/* activate2 (v4): v = (data op0 imm0) op1 imm1 (each op one FP32 rounding; bypass skips it,
 * reverse puts the immediate first), y = f(v), the same reduction as activation. relu_param
 * (ours): with op=relu, negative v give relu_param * v (PReLU); 0 (default) is plain relu. */
trn_status core_op_activate2(trn_core *c, const trn_instr *in) {
    core_view d, x;
    trn_status st = core_view_arg(c, in, "data", &x);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", &d);
    if (st != TRN_OK) return st;
    if (d.P != x.P || d.F != x.F)
        return core_fault(c, TRN_E_FAULT, "illegal operand: dst and data shapes differ");
    trn_act_func fn = (trn_act_func)core_arg_int(c, in, "op", TRN_ACT_COPY);
    if ((unsigned)fn >= TRN_ACT_COUNT)
        return core_fault(c, TRN_E_FAULT, "illegal operand: activation function %d", (int)fn);
    trn_alu_op op0 = (trn_alu_op)core_arg_int(c, in, "op0", TRN_ALU_BYPASS);
    trn_alu_op op1 = (trn_alu_op)core_arg_int(c, in, "op1", TRN_ALU_BYPASS);
    /* the six documented (op0, op1) pairs */
    int ok = (op0 == TRN_ALU_MULTIPLY &&
              (op1 == TRN_ALU_ADD || op1 == TRN_ALU_SUBTRACT || op1 == TRN_ALU_BYPASS)) ||
             ((op0 == TRN_ALU_ADD || op0 == TRN_ALU_SUBTRACT || op0 == TRN_ALU_BYPASS) &&
              op1 == TRN_ALU_BYPASS);
    if (!ok)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: activate2 (op0, op1) = (%s, %s); ScalarE takes "
                          "(multiply, add|subtract|bypass), (add|subtract|bypass, bypass)",
                          trn_alu_name(op0), trn_alu_name(op1));
    int r0 = (int)core_arg_int(c, in, "reverse0", 0), r1 = (int)core_arg_int(c, in, "reverse1", 0);
    size_t P = x.P, F = (size_t)x.F;
    float *v = core_tmp(c, P * F * sizeof *v), *i0 = core_tmp(c, P * sizeof *i0),
          *i1 = core_tmp(c, P * sizeof *i1), *rp = core_tmp(c, P * sizeof *rp);
    if (!v || !i0 || !i1 || !rp) return TRN_E_NOMEM;
    if ((st = core_load_scalar(c, in, "imm0", x.P, 0.0f, i0)) != TRN_OK ||
        (st = core_load_scalar(c, in, "imm1", x.P, 0.0f, i1)) != TRN_OK ||
        (st = core_load_scalar(c, in, "relu_param", x.P, 0.0f, rp)) != TRN_OK ||
        (st = core_load_f32(c, &x, v)) != TRN_OK)
        return st;
    for (size_t p = 0; p < P; p++)
        for (size_t f = 0; f < F; f++) {
            float a = v[p * F + f];
            if (op0 != TRN_ALU_BYPASS)
                a = r0 ? core_alu_f32(op0, i0[p], a) : core_alu_f32(op0, a, i0[p]);
            if (op1 != TRN_ALU_BYPASS)
                a = r1 ? core_alu_f32(op1, i1[p], a) : core_alu_f32(op1, a, i1[p]);
            v[p * F + f] = fn == TRN_ACT_RELU && rp[p] != 0.0f && a < 0 ? rp[p] * a
                                                                        : (float)act(fn, (double)a);
        }
    const trn_operand *rr = core_arg(c, in, "reduce_res");
    int64_t cmd =
        core_arg_int(c, in, "reduce_cmd", rr ? TRN_REDUCE_CMD_RESET_REDUCE : TRN_REDUCE_CMD_IDLE);
    trn_alu_op rop = (trn_alu_op)core_arg_int(c, in, "reduce_op", TRN_ALU_ADD);
    if (cmd == TRN_REDUCE_CMD_LOAD_REDUCE)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: activate2 has no initial value for load_reduce");
    return reduce_store(c, rr, cmd, rop, &x, &d, v, P, F);
}

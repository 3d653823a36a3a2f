/* The sequencer registers: register_alloc, register_move, register_load, register_store.
 *
 * Every engine's sequencer has the target's registers_per_engine 32-bit registers (the catalog
 * field, 64 on every version). A virtual register of the program lives in the sequencer of the
 * engine that ran its register_alloc, and only instructions on that engine reach it (ours: the
 * NKI compiler's placement of virtual registers is not public). A register holds a 32-bit
 * pattern: immediates in two's complement, memory elements as their codes (integers sign- or
 * zero-extended, floating-point codes zero-extended), and a store writes the low bytes back, so
 * a load followed by a store copies any element of up to 32 bits exactly (docs/semantics.md).
 *
 * Deliberately left out: registers driving addressing or control flow. The IR has no dynamic
 * offsets and `.tasm` loops are unrolled by the assembler, so nothing reads a register but
 * register_move and register_store. */
#include "core_impl.h"

/* Source line of the register_alloc that defines virtual register r (0 when there is none). */
static unsigned alloc_line(const trn_core *c, int64_t r) {
    const trn_program *p = c->p;
    for (int i = 0; i < p->ninstrs; i++) {
        const trn_instr *in = &p->instrs[i];
        if (in->op != TRN_OP_REGISTER_ALLOC) continue;
        for (uint32_t k = 0; k < in->nargs && (uint64_t)in->arg0 + k < p->nargs; k++)
            if (p->args[in->arg0 + k].kind == TRN_ARG_REG_DEF && p->args[in->arg0 + k].u.i == r)
                return in->line;
    }
    return 0;
}

static const char *reg_name(const trn_core *c, int64_t r) {
    return r >= 0 && r < c->p->nregs ? c->p->regs[r] : "?";
}

/* The register operand `key` of the instruction: its virtual register index in *r. */
static trn_status reg_arg(trn_core *c, const trn_instr *in, const char *key, int64_t *r) {
    const trn_operand *o = core_arg(c, in, key);
    if (!o || (o->kind != TRN_ARG_REG && o->kind != TRN_ARG_REG_DEF) || o->u.i < 0 ||
        o->u.i >= c->p->nregs)
        return core_fault(c, TRN_E_FAULT, "illegal operand: %s is not a register of the program",
                          key);
    *r = o->u.i;
    return TRN_OK;
}

/* The physical register holding virtual register r, which must live in the sequencer of the
 * current instruction's engine: engine and slot in *e and *k. */
static trn_status reg_find(trn_core *c, const trn_instr *in, int64_t r, int *e, uint32_t *k) {
    for (int x = 0; x < TRN_ENGINE_COUNT; x++)
        for (uint32_t j = 0; j < c->seqreg[x].n; j++) {
            if (c->seqreg[x].vreg[j] != r) continue;
            if (x != (int)in->engine)
                return core_fault(c, TRN_E_FAULT,
                                  "illegal operand: register %s lives in the %s sequencer "
                                  "(register_alloc at line %u); this instruction runs on %s",
                                  reg_name(c, r), trn_engine_name((trn_engine)x), alloc_line(c, r),
                                  trn_engine_name(in->engine));
            *e = x;
            *k = j;
            return TRN_OK;
        }
    return core_fault(c, TRN_E_FAULT, "illegal operand: register %s was never allocated",
                      reg_name(c, r));
}

/* The 32-bit value of virtual register r (uninitialized read when never set). */
static trn_status reg_get(trn_core *c, const trn_instr *in, int64_t r, uint32_t *v) {
    int e;
    uint32_t k;
    trn_status st = reg_find(c, in, r, &e, &k);
    if (st != TRN_OK) return st;
    if (!c->seqreg[e].set[k])
        return core_fault(c, TRN_E_FAULT,
                          "uninitialized read: register %s (register_alloc at line %u) was never "
                          "set",
                          reg_name(c, r), alloc_line(c, r));
    *v = c->seqreg[e].val[k];
    return TRN_OK;
}

static trn_status reg_set(trn_core *c, const trn_instr *in, int64_t r, uint32_t v) {
    int e;
    uint32_t k;
    trn_status st = reg_find(c, in, r, &e, &k);
    if (st != TRN_OK) return st;
    c->seqreg[e].val[k] = v;
    c->seqreg[e].set[k] = 1;
    return TRN_OK;
}

/* An immediate as a 32-bit pattern: -2^31 .. 2^32 - 1 fit (two's complement). */
static trn_status imm32(trn_core *c, const char *key, int64_t x, uint32_t *v) {
    if (x < -2147483648LL || x > 4294967295LL)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: %s=%lld does not fit a 32-bit register "
                          "(-2147483648 .. 4294967295)",
                          key, (long long)x);
    *v = (uint32_t)x;
    return TRN_OK;
}

trn_status core_op_register_alloc(trn_core *c, const trn_instr *in) {
    int64_t r = -1;
    trn_status st = reg_arg(c, in, "dst", &r);
    if (st != TRN_OK) return st;
    uint32_t cap = c->t.registers_per_engine;
    if (cap < 1 || cap > CORE_MAX_REGS)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: target %s gives %u registers per engine; the "
                          "simulator holds 1 to %d (catalog field registers_per_engine)",
                          c->t.name ? c->t.name : "?", cap, CORE_MAX_REGS);
    if ((unsigned)in->engine >= TRN_ENGINE_COUNT)
        return core_fault(c, TRN_E_FAULT, "illegal operand: engine %d", (int)in->engine);
    for (int x = 0; x < TRN_ENGINE_COUNT; x++)
        for (uint32_t j = 0; j < c->seqreg[x].n; j++)
            if (c->seqreg[x].vreg[j] == r)
                return core_fault(c, TRN_E_FAULT, "illegal operand: register %s is allocated twice",
                                  reg_name(c, r));
    uint32_t v = 0;
    const trn_operand *x = core_arg(c, in, "x");
    if (x && (st = imm32(c, "x", x->u.i, &v)) != TRN_OK) return st;
    core_seqreg *s = &c->seqreg[in->engine];
    if (s->n >= cap)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: register %s would be register number %u of the %s "
                          "sequencer, which has %u (registers_per_engine of %s)",
                          reg_name(c, r), s->n + 1, trn_engine_name(in->engine), cap,
                          c->t.name ? c->t.name : "the target");
    s->vreg[s->n] = (int32_t)r;
    s->val[s->n] = v;
    s->set[s->n] = x != NULL;
    s->n++;
    return TRN_OK;
}

trn_status core_op_register_move(trn_core *c, const trn_instr *in) {
    int64_t r = -1;
    uint32_t v = 0;
    trn_status st = reg_arg(c, in, "dst", &r);
    if (st != TRN_OK) return st;
    const trn_operand *src = core_arg(c, in, "src");
    if (!src) return core_fault(c, TRN_E_FAULT, "illegal operand: src is missing");
    if (src->kind == TRN_ARG_REG) {
        int64_t q = -1;
        if ((st = reg_arg(c, in, "src", &q)) != TRN_OK || (st = reg_get(c, in, q, &v)) != TRN_OK)
            return st;
    } else if ((st = imm32(c, "src", src->u.i, &v)) != TRN_OK) {
        return st;
    }
    return reg_set(c, in, r, v);
}

/* The one-element memory operand of register_load / register_store. */
static trn_status scalar_view(trn_core *c, const trn_instr *in, const char *key, core_view *v) {
    trn_status st = core_view_arg(c, in, key, v);
    if (st != TRN_OK) return st;
    if (v->P != 1 || v->F != 1 || v->t->packed)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: %s '%s' must be one element of at most 32 bits, not "
                          "an MX x4-packed type (%u x %lld elements)",
                          key, v->t->name, v->P, (long long)v->F);
    return TRN_OK;
}

trn_status core_op_register_load(trn_core *c, const trn_instr *in) {
    int64_t r = -1;
    core_view s;
    uint32_t code;
    trn_status st = reg_arg(c, in, "dst", &r);
    if (st == TRN_OK) st = scalar_view(c, in, "src", &s);
    if (st == TRN_OK) st = core_load_codes(c, &s, &code);
    if (st != TRN_OK) return st;
    /* integers sign- or zero-extended to 32 bits; floating-point codes as they are */
    return reg_set(c, in, r, trn_dtype_is_int(s.t->dtype) ? core_int_bits(s.t->dtype, code) : code);
}

trn_status core_op_register_store(trn_core *c, const trn_instr *in) {
    int64_t r = -1;
    core_view d;
    uint32_t v = 0;
    trn_status st = reg_arg(c, in, "src", &r);
    if (st == TRN_OK) st = scalar_view(c, in, "dst", &d);
    if (st == TRN_OK) st = reg_get(c, in, r, &v);
    if (st != TRN_OK) return st;
    core_store_codes(c, &d, &v); /* the low bytes of the pattern */
    return TRN_OK;
}

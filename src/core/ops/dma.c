/* DMA instructions: dma_copy between HBM and SBUF in any direction (SBUF<->SBUF and
 * HBM<->HBM included). Element i of src, in operand order (partition-major, then the free
 * dims outermost first; an HBM operand is its kept dims in order), goes to element i of dst.
 * Same dtype: the bytes are copied exactly. Different dtypes: src -> FP32 -> dst with the
 * run's rounding.
 *
 * Deliberately left out: the queues, descriptors and bandwidth (the timing model's),
 * dma_transpose and dma_compute (not yet executed: docs/semantics.md). */
#include "core_impl.h"

/* Copies n flat codes of view s into view d (both already resolved). */
static trn_status move(trn_core *c, const core_view *d, const core_view *s) {
    size_t n = (size_t)s->P * (size_t)s->F;
    if ((size_t)d->P * (size_t)d->F != n)
        return core_fault(c, TRN_E_FAULT,
                          "illegal operand: dst '%s' has %zu elements, src '%s' has %zu",
                          d->t->name, (size_t)d->P * (size_t)d->F, s->t->name, n);
    int same = d->t->dtype == s->t->dtype && d->t->packed == s->t->packed;
    if (!same && (d->t->packed || s->t->packed))
        return core_fault(c, TRN_E_FAULT, "illegal operand: DMA cannot cast MX x4-packed types");
    uint32_t *codes = core_tmp(c, n * sizeof *codes);
    if (!codes) return TRN_E_NOMEM;
    trn_status st = core_load_codes(c, s, codes);
    if (st != TRN_OK) return st;
    if (!same)
        for (size_t i = 0; i < n; i++)
            codes[i] = core_encode(c, d->t->dtype, trn_cvt_to_f32(s->t->dtype, codes[i]));
    core_store_codes(c, d, codes); /* [P][F] flat order is the same for both views */
    return TRN_OK;
}

trn_status core_op_dma_copy(trn_core *c, const trn_instr *in) {
    core_view d, s;
    trn_status st = core_view_arg(c, in, "src", &s);
    if (st == TRN_OK) st = core_view_arg(c, in, "dst", &d);
    if (st != TRN_OK) return st;
    return move(c, &d, &s);
}

/* The program object: its pools and how they grow, tensor placement (SBUF/PSUM offsets per
 * partition, HBM addresses), access-pattern resolution, and the verifier's target numbers
 * taken from the hardware catalog. */
#include <stdlib.h>
#include <string.h>

#include "isa_impl.h"

int isa_grow(void **p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return 1;
    size_t n = *cap ? *cap : 16;
    while (n < need) n *= 2;
    void *q = realloc(*p, n * size);
    if (!q) return 0;
    memset((char *)q + *cap * size, 0, (n - *cap) * size);
    *p = q;
    *cap = n;
    return 1;
}

trn_program *isa_program_new(void) {
    trn_program *p = calloc(1, sizeof *p);
    if (p) p->num_programs = 1;
    return p;
}

void trn_program_destroy(trn_program *p) {
    if (!p) return;
    free(p->source_path);
    free(p->params);
    free(p->tensors);
    free(p->instrs);
    free(p->args);
    free(p->ints);
    free(p->floats);
    free(p->sems);
    free(p->regs);
    free(p);
}

#define ADD(field, count, cap, n)                                                \
    do {                                                                         \
        if (!isa_grow((void **)&b->p->field, &b->cap, (size_t)b->p->count + (n), \
                      sizeof *b->p->field))                                      \
            return -1;                                                           \
        long at_ = (long)b->p->count;                                            \
        b->p->count += (n);                                                      \
        return at_;                                                              \
    } while (0)

long isa_add_param(isa_builder *b) {
    ADD(params, nparams, cap_params, 1);
}
long isa_add_tensor(isa_builder *b) {
    ADD(tensors, ntensors, cap_tensors, 1);
}
long isa_add_instr(isa_builder *b) {
    ADD(instrs, ninstrs, cap_instrs, 1);
}
long isa_add_args(isa_builder *b, size_t n) {
    ADD(args, nargs, cap_args, (uint32_t)n);
}
long isa_add_ints(isa_builder *b, size_t n) {
    ADD(ints, nints, cap_ints, (uint32_t)n);
}
long isa_add_floats(isa_builder *b, size_t n) {
    ADD(floats, nfloats, cap_floats, (uint32_t)n);
}

static long add_name(char (**names)[TRN_NAME_MAX], int *count, size_t *cap, const char *name) {
    if (!isa_grow((void **)names, cap, (size_t)*count + 1, TRN_NAME_MAX)) return -1;
    snprintf((*names)[*count], TRN_NAME_MAX, "%s", name);
    return (long)(*count)++;
}

long isa_add_sem(isa_builder *b, const char *name) {
    return add_name(&b->p->sems, &b->p->nsems, &b->cap_sems, name);
}
long isa_add_reg(isa_builder *b, const char *name) {
    return add_name(&b->p->regs, &b->p->nregs, &b->cap_regs, name);
}

int isa_find_tensor(const trn_program *p, const char *name) {
    for (int i = 0; i < p->ntensors; i++)
        if (strcmp(p->tensors[i].name, name) == 0) return i;
    return -1;
}
int isa_find_param(const trn_program *p, const char *name) {
    for (int i = 0; i < p->nparams; i++)
        if (strcmp(p->params[i].name, name) == 0) return i;
    return -1;
}
int isa_find_sem(const trn_program *p, const char *name) {
    for (int i = 0; i < p->nsems; i++)
        if (strcmp(p->sems[i], name) == 0) return i;
    return -1;
}
int isa_find_reg(const trn_program *p, const char *name) {
    for (int i = 0; i < p->nregs; i++)
        if (strcmp(p->regs[i], name) == 0) return i;
    return -1;
}

static uint64_t align_up(uint64_t x, uint64_t a) {
    return (x + a - 1) / a * a;
}

trn_status isa_place_tensor(trn_program *p, trn_tensor *t, trn_err *err) {
    const uint64_t limit = (uint64_t)1 << 48;
    t->elem_bytes = isa_elem_bytes(t->dtype, t->packed);
    uint64_t elems = 1;
    int first = t->mem == TRN_MEM_HBM ? 0 : 1; /* on chip: bytes per partition */
    for (int d = first; d < t->rank; d++) {
        if (t->shape[d] <= 0 || (uint64_t)t->shape[d] > limit / elems)
            return trn_err_set(err, TRN_E_RANGE, "tensor '%s' is too large", t->name);
        elems *= (uint64_t)t->shape[d];
    }
    if (elems > limit / t->elem_bytes)
        return trn_err_set(err, TRN_E_RANGE, "tensor '%s' is too large", t->name);
    t->bytes = elems * t->elem_bytes;
    uint64_t *top = t->mem == TRN_MEM_HBM    ? &p->hbm_bytes
                    : t->mem == TRN_MEM_SBUF ? &p->sbuf_bytes
                                             : &p->psum_bytes;
    if (t->placed) {
        /* an explicit offset (on chip only): kept as given, checked against the alignment and
         * the bank rule; it may overlap other tiles (aliasing: the scheduler orders the
         * accesses by their bytes). The memory's size is the verifier's check (it knows the
         * target). The totals are the highest end. */
        if (t->mem == TRN_MEM_HBM)
            return trn_err_set(err, TRN_E_INVALID, "offset= places .sbuf and .psum tiles only");
        if (t->addr >= limit)
            return trn_err_set(err, TRN_E_RANGE, "offset %llu of '%s' is out of range",
                               (unsigned long long)t->addr, t->name);
        if (t->addr % TRN_ALIGN_BYTES)
            return trn_err_set(err, TRN_E_RANGE,
                               "offset %llu of '%s' is not a multiple of the %d-byte alignment",
                               (unsigned long long)t->addr, t->name, TRN_ALIGN_BYTES);
        if (t->mem == TRN_MEM_PSUM && t->bytes > TRN_PSUM_BANK_BYTES &&
            t->addr % TRN_PSUM_BANK_BYTES)
            return trn_err_set(err, TRN_E_RANGE,
                               "offset %llu of '%s' (%llu bytes, more than a %d-byte PSUM bank) "
                               "does not start on a bank",
                               (unsigned long long)t->addr, t->name, (unsigned long long)t->bytes,
                               TRN_PSUM_BANK_BYTES);
        if (t->mem == TRN_MEM_PSUM && t->bytes <= TRN_PSUM_BANK_BYTES &&
            t->addr / TRN_PSUM_BANK_BYTES != (t->addr + t->bytes - 1) / TRN_PSUM_BANK_BYTES)
            return trn_err_set(err, TRN_E_RANGE,
                               "offset %llu of '%s' (%llu bytes) straddles a %d-byte PSUM bank",
                               (unsigned long long)t->addr, t->name, (unsigned long long)t->bytes,
                               TRN_PSUM_BANK_BYTES);
        if (t->addr + t->bytes > *top) *top = t->addr + t->bytes;
        return TRN_OK;
    }
    uint64_t at = align_up(*top, TRN_ALIGN_BYTES);
    if (t->mem == TRN_MEM_PSUM) {
        /* never straddle a bank unless larger than one; larger ones start on a bank */
        if (t->bytes > TRN_PSUM_BANK_BYTES)
            at = align_up(at, TRN_PSUM_BANK_BYTES);
        else if (at / TRN_PSUM_BANK_BYTES != (at + t->bytes - 1) / TRN_PSUM_BANK_BYTES)
            at = align_up(at, TRN_PSUM_BANK_BYTES);
    }
    t->addr = at;
    *top = at + t->bytes;
    return TRN_OK;
}

void trn_ap_resolve(trn_ap *ap, const trn_tensor *t) {
    int64_t stride[TRN_MAX_RANK];
    int64_t s = 1;
    for (int d = t->rank - 1; d >= 0; d--) { /* < 2^48: placement bounds the tensor's bytes */
        stride[d] = s;
        if (d > 0) s *= t->shape[d];
    }
    int onchip = t->mem != TRN_MEM_HBM;
    ap->offset = 0;
    ap->nfree = 0;
    ap->part_start = 0;
    ap->part_count = 1;
    for (int d = 0; d < t->rank; d++) {
        const trn_sel *sl = &ap->sel[d];
        if (onchip && d == 0) {
            ap->part_start = (uint16_t)sl->start;
            ap->part_count = (uint16_t)sl->num;
            continue;
        }
        ap->offset += (int64_t)sl->start * stride[d];
        if (sl->index) continue;
        ap->free[ap->nfree].num = sl->num;
        ap->free[ap->nfree].step = (int64_t)sl->step * stride[d];
        ap->nfree++;
    }
}

int isa_sel_valid(const trn_ap *ap, const trn_tensor *t, char *msg, size_t n) {
    for (int d = 0; d < t->rank; d++) {
        const trn_sel *s = &ap->sel[d];
        int bad = s->start < 0 || s->num < 1 || s->step < 1 ||
                  (s->index && (s->num != 1 || s->step != 1));
        if (!bad) bad = (int64_t)s->start + (int64_t)(s->num - 1) * s->step >= t->shape[d];
        if (bad) {
            snprintf(msg, n,
                     "selection (start %d, num %d, step %d) of dimension %d of '%s' is out "
                     "of range",
                     s->start, s->num, s->step, d, t->name);
            return 0;
        }
        if (t->mem != TRN_MEM_HBM && d == 0 && s->step != 1) {
            snprintf(msg, n, "the partition dimension of '%s' cannot be strided", t->name);
            return 0;
        }
    }
    for (int d = t->rank; d < TRN_MAX_RANK; d++) {
        if (ap->sel[d].start || ap->sel[d].num || ap->sel[d].step || ap->sel[d].index) {
            snprintf(msg, n, "selection of '%s' has more dimensions than the tensor", t->name);
            return 0;
        }
    }
    return 1;
}

int64_t trn_ap_free_elems(const trn_ap *ap) {
    int64_t n = 1;
    for (int i = 0; i < ap->nfree; i++) n *= ap->free[i].num;
    return n;
}

int64_t trn_ap_elems(const trn_ap *ap) {
    return (int64_t)ap->part_count * trn_ap_free_elems(ap);
}

const trn_operand *trn_instr_arg(const trn_program *p, const trn_instr *in, int key) {
    for (uint32_t i = 0; i < in->nargs; i++)
        if (p->args[in->arg0 + i].key == key) return &p->args[in->arg0 + i];
    return NULL;
}

static uint64_t num_u64(const trn_hw_num *n) {
    return n->value > 0 ? (uint64_t)n->value : 0;
}

trn_status trn_isa_target_from_core(const trn_hw_core *core, trn_isa_target *t, trn_err *err) {
    memset(t, 0, sizeof *t);
    const char *nm = core && core->name ? core->name : "";
    char *end = NULL;
    long v = (nm[0] == 'v' || nm[0] == 'V') ? strtol(nm + 1, &end, 10) : 0;
    if (v < 2 || v > 99 || !end || *end)
        return trn_err_set(err, TRN_E_INVALID,
                           "core version '%s': expected a name of the form vN with N >= 2", nm);
    t->version = (int)v;
    t->name = core->name;
    t->partitions = (uint32_t)num_u64(&core->partitions);
    t->sbuf_bytes_per_partition = num_u64(&core->sbuf_bytes_per_partition);
    t->psum_bytes_per_partition = num_u64(&core->psum_bytes_per_partition);
    t->psum_banks = (uint32_t)num_u64(&core->psum_banks);
    t->matmul_n_max = (uint32_t)num_u64(&core->matmul_n_max);
    t->matmul_n_max_bf16_psum = (uint32_t)num_u64(&core->matmul_n_max_bf16_psum);
    t->registers_per_engine = (uint32_t)num_u64(&core->registers_per_engine);
    t->dma_bps = core->published.dma_bps.value > 0 ? core->published.dma_bps.value : 0;
    t->dma_transpose_frac =
        core->dma_transpose_hbm_frac.value > 0 ? core->dma_transpose_hbm_frac.value : 0;
    t->pe_hz = core->tensor_hz.value > 0 ? core->tensor_hz.value : 0;
    if (t->partitions > TRN_MAX_PARTITIONS) t->partitions = TRN_MAX_PARTITIONS;
    return TRN_OK;
}

/* The disassembler: prints a program as .tasm that assembles back to the same program and the
 * same .tprog bytes. Loops are gone (the program is unrolled), every operand is printed with
 * its selections, numbers with enough digits to round-trip, and `.core`, `.grid`, `.sync`,
 * `.source` and `.loc` carry what the instruction text alone would lose. */
#include <math.h>
#include <string.h>

#include "isa_impl.h"

static void print_ap(const trn_program *p, const trn_ap *ap, FILE *f) {
    const trn_tensor *t = &p->tensors[ap->tensor];
    int whole = 1;
    for (int d = 0; d < t->rank; d++) {
        const trn_sel *s = &ap->sel[d];
        if (s->index || s->start != 0 || s->step != 1 || s->num != t->shape[d]) whole = 0;
    }
    fputs(t->name, f);
    if (whole) return;
    fputc('[', f);
    for (int d = 0; d < t->rank; d++) {
        const trn_sel *s = &ap->sel[d];
        if (d) fputs(", ", f);
        if (s->index) {
            fprintf(f, "%d", s->start);
            continue;
        }
        long long stop = (long long)s->start + (long long)(s->num - 1) * s->step + 1;
        if (s->step == 1)
            fprintf(f, "%d:%lld", s->start, stop);
        else
            fprintf(f, "%d:%lld:%d", s->start, stop, s->step);
    }
    fputc(']', f);
}

static void print_num(double x, FILE *f) {
    if (isnan(x))
        fputs(signbit(x) ? "-nan" : "nan", f);
    else if (isinf(x))
        fputs(x < 0 ? "-inf" : "inf", f);
    else
        fprintf(f, "%.17g", x);
}

static void print_value(const trn_program *p, const trn_isa_arg *s, const trn_operand *o, FILE *f) {
    switch (o->kind) {
    case TRN_ARG_AP_IN:
    case TRN_ARG_AP_OUT: print_ap(p, &o->u.ap, f); break;
    case TRN_ARG_FLOAT: print_num(o->u.imm, f); break;
    case TRN_ARG_BOOL: fputs(o->u.i ? "true" : "false", f); break;
    case TRN_ARG_ALU: fputs(trn_alu_name((trn_alu_op)o->u.i), f); break;
    case TRN_ARG_ACT: fputs(trn_act_name((trn_act_func)o->u.i), f); break;
    case TRN_ARG_ENUM: fputs(trn_isa_enum_value((trn_isa_enum)s->enum_id, (int)o->u.i), f); break;
    case TRN_ARG_REG:
    case TRN_ARG_REG_DEF: fputs(p->regs[o->u.i], f); break;
    case TRN_ARG_INT_LIST:
    case TRN_ARG_PATTERN:
    case TRN_ARG_FLOAT_LIST: {
        fputc('[', f);
        for (uint32_t i = 0; i < o->u.list.count; i++) {
            if (i) fputs(", ", f);
            if (o->kind == TRN_ARG_FLOAT_LIST) {
                print_num(p->floats[o->u.list.first + i], f);
                continue;
            }
            if (o->kind == TRN_ARG_PATTERN && i % 2 == 0) fputc('[', f);
            fprintf(f, "%lld", (long long)p->ints[o->u.list.first + i]);
            if (o->kind == TRN_ARG_PATTERN && i % 2 == 1) fputc(']', f);
        }
        fputc(']', f);
        break;
    }
    default: fprintf(f, "%lld", (long long)o->u.i); break;
    }
}

static void print_string(const char *s, FILE *f) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void trn_program_disasm(const trn_program *p, FILE *f) {
    static const char *decl[TRN_ROLE_COUNT] = {".input", ".output", ".hbm", ""};
    fprintf(f, "# %s: %d instructions, SBUF %llu B/partition, PSUM %llu B/partition, HBM %llu B\n",
            p->name, p->ninstrs, (unsigned long long)p->sbuf_bytes,
            (unsigned long long)p->psum_bytes, (unsigned long long)p->hbm_bytes);
    fprintf(f, ".kernel %s\n.core v%d\n", p->name, p->core_version);
    if (p->num_programs != 1 || p->program_id != 0)
        fprintf(f, ".grid %d %d\n", p->num_programs, p->program_id);
    if (p->manual_sync) fputs(".sync manual\n", f);
    for (int i = 0; i < p->nsems; i++) fprintf(f, ".sem %s\n", p->sems[i]);
    if (p->source_path) {
        fputs(".source ", f);
        print_string(p->source_path, f);
        fputc('\n', f);
    }
    for (int i = 0; i < p->nparams; i++)
        fprintf(f, ".param %s = %lld\n", p->params[i].name, (long long)p->params[i].value);
    for (int i = 0; i < p->ntensors; i++) {
        const trn_tensor *t = &p->tensors[i];
        char dt[32];
        const char *d =
            t->role == TRN_ROLE_TILE ? (t->mem == TRN_MEM_SBUF ? ".sbuf" : ".psum") : decl[t->role];
        fprintf(f, ".loc %u\n%-7s %s %s [", (unsigned)t->line, d, t->name,
                isa_dtype_name(t->dtype, t->packed, dt, sizeof dt));
        for (int k = 0; k < t->rank; k++)
            fprintf(f, "%s%lld", k ? ", " : "", (long long)t->shape[k]);
        if (t->placed) fprintf(f, "] offset=%llu", (unsigned long long)t->addr);
        fprintf(f, "%s  # %s %llu +%llu\n", t->placed ? "" : "]", trn_mem_name(t->mem),
                (unsigned long long)t->addr, (unsigned long long)t->bytes);
    }
    for (int i = 0; i < p->ninstrs; i++) {
        const trn_instr *in = &p->instrs[i];
        const trn_isa_op *row = trn_isa_op_get(in->op);
        fprintf(f, ".loc %u %u\n%s", (unsigned)in->line, (unsigned)in->col, row->name);
        for (uint32_t k = 0; k < in->nargs; k++) {
            const trn_operand *o = &p->args[in->arg0 + k];
            const trn_isa_arg *s = &row->args[o->key];
            if (s->kind == TRN_ARG_AP_LIST) {
                if (k && p->args[in->arg0 + k - 1].key == o->key) continue;
                fprintf(f, " %s=[", s->key);
                for (uint32_t j = k; j < in->nargs && p->args[in->arg0 + j].key == o->key; j++) {
                    if (j > k) fputs(", ", f);
                    print_ap(p, &p->args[in->arg0 + j].u.ap, f);
                }
                fputc(']', f);
                continue;
            }
            fprintf(f, " %s=", s->key);
            print_value(p, s, o, f);
        }
        if (in->engine != row->engine) fprintf(f, " engine=%s", trn_engine_name(in->engine));
        for (int k = 0; k < in->nwait; k++)
            fprintf(f, " wait=%s>=%u", p->sems[in->wait[k].sem], (unsigned)in->wait[k].value);
        for (int k = 0; k < in->nsignal; k++) fprintf(f, " signal=%s", p->sems[in->signal[k]]);
        fputc('\n', f);
    }
}

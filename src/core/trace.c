/* The Chrome/Perfetto trace of a timing run: the JSON object format with a "traceEvents" array
 * of complete events ("ph":"X", ts and dur in µs), one process per core and one thread per
 * engine and per DMA queue that did work (thread_name / thread_sort_index metadata), the way
 * neuron-profile lays out its rows. Each instruction is a slice named after its opcode with its
 * program index, source line, operands, cycles and waits in "args"; a DMA is one slice per
 * queue that moved data (and, when a sequencer issued it, one on that sequencer). A multi-core
 * run is one process per core (pid = core index), each with its own engine and queue threads.
 *
 * Deliberately left out: flow arrows for the waits (they are listed in args) and counters. */
#include <stdarg.h>
#include <string.h>

#include "timing_impl.h"

/* tids: compute engines 0..4, DMA queue q at DMA_TID + q */
#define DMA_TID 16

/* Appends printf-style text to buf (size n, *m used), truncating. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void
put(char *buf, size_t n, size_t *m, const char *fmt, ...) {
    if (*m >= n) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *m, n - *m, fmt, ap);
    va_end(ap);
    if (k > 0) *m += (size_t)k;
    if (*m >= n) *m = n - 1;
}

static void put_ap(const trn_program *p, const trn_ap *ap, char *buf, size_t n, size_t *m) {
    const trn_tensor *t = &p->tensors[ap->tensor];
    int whole = 1;
    for (int d = 0; d < t->rank; d++) {
        const trn_sel *s = &ap->sel[d];
        if (s->index || s->start != 0 || s->step != 1 || s->num != t->shape[d]) whole = 0;
    }
    put(buf, n, m, "%s", t->name);
    if (whole) return;
    put(buf, n, m, "[");
    for (int d = 0; d < t->rank; d++) {
        const trn_sel *s = &ap->sel[d];
        if (d) put(buf, n, m, ", ");
        if (s->index) {
            put(buf, n, m, "%d", s->start);
            continue;
        }
        long long stop = (long long)s->start + (long long)(s->num - 1) * s->step + 1;
        if (s->step == 1)
            put(buf, n, m, "%d:%lld", s->start, stop);
        else
            put(buf, n, m, "%d:%lld:%d", s->start, stop, s->step);
    }
    put(buf, n, m, "]");
}

void timing_format_operands(const trn_program *p, int i, char *buf, size_t n) {
    const trn_instr *in = &p->instrs[i];
    const trn_isa_op *row = trn_isa_op_get(in->op);
    size_t m = 0;
    buf[0] = 0;
    for (uint32_t k = 0; k < in->nargs; k++) {
        const trn_operand *o = &p->args[in->arg0 + k];
        const trn_isa_arg *s = &row->args[o->key];
        put(buf, n, &m, "%s%s=", k ? " " : "", s->key);
        switch (o->kind) {
        case TRN_ARG_AP_IN:
        case TRN_ARG_AP_OUT: put_ap(p, &o->u.ap, buf, n, &m); break;
        case TRN_ARG_FLOAT: put(buf, n, &m, "%.9g", o->u.imm); break;
        case TRN_ARG_BOOL: put(buf, n, &m, "%s", o->u.i ? "true" : "false"); break;
        case TRN_ARG_ALU: put(buf, n, &m, "%s", trn_alu_name((trn_alu_op)o->u.i)); break;
        case TRN_ARG_ACT: put(buf, n, &m, "%s", trn_act_name((trn_act_func)o->u.i)); break;
        case TRN_ARG_ENUM: {
            const char *v = trn_isa_enum_value((trn_isa_enum)s->enum_id, (int)o->u.i);
            put(buf, n, &m, "%s", v ? v : "?");
            break;
        }
        case TRN_ARG_REG:
        case TRN_ARG_REG_DEF: put(buf, n, &m, "%s", p->regs[o->u.i]); break;
        case TRN_ARG_INT_LIST:
        case TRN_ARG_PATTERN:
        case TRN_ARG_FLOAT_LIST: put(buf, n, &m, "[%u values]", (unsigned)o->u.list.count); break;
        default: put(buf, n, &m, "%lld", (long long)o->u.i); break;
        }
    }
    if (in->engine != row->engine) put(buf, n, &m, " engine=%s", trn_engine_name(in->engine));
    for (int k = 0; k < in->nwait; k++)
        put(buf, n, &m, " wait=%s>=%u", p->sems[in->wait[k].sem], (unsigned)in->wait[k].value);
    for (int k = 0; k < in->nsignal; k++) put(buf, n, &m, " signal=%s", p->sems[in->signal[k]]);
}

/* A JSON string literal of s. */
static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void meta(FILE *f, int pid, int *first, const char *what, int tid, const char *name,
                 int sort) {
    fprintf(f, "%s\n{\"name\":\"%s\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":",
            *first ? "" : ",", what, pid, tid);
    json_str(f, name);
    fprintf(f, "}}");
    *first = 0;
    fprintf(f,
            ",\n{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,"
            "\"args\":{\"sort_index\":%d}}",
            pid, tid, sort);
}

static void slice(FILE *f, int pid, const trn_timing *t, const trn_program *p, int i,
                  const char *name, int tid, double start, double end, const char *ops,
                  uint64_t bytes, int queue) {
    const trn_timing_instr *ti = &t->in[i];
    fprintf(f, ",\n{\"name\":");
    json_str(f, name);
    fprintf(f, ",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":%d,\"tid\":%d,\"ts\":%.6f,\"dur\":%.6f,",
            queue >= 0 ? "dma" : trn_engine_short(ti->engine), pid, tid, start * 1e-3,
            (end - start) * 1e-3);
    fprintf(f, "\"args\":{\"index\":%d,\"line\":%u,\"operands\":", i, (unsigned)p->instrs[i].line);
    json_str(f, ops);
    if (queue >= 0)
        fprintf(f, ",\"queue\":%d,\"bytes\":%llu", queue, (unsigned long long)bytes);
    else
        fprintf(f, ",\"cycles\":%llu,\"formula_cycles\":%llu", (unsigned long long)ti->cycles,
                (unsigned long long)ti->formula_cycles);
    fprintf(f, ",\"waits\":\"");
    for (int k = 0; k < ti->nwaits; k++)
        fprintf(f, "%s#%d%s%s%s", k ? " " : "", ti->waits[k].instr,
                ti->waits[k].kinds & TRN_DEP_RAW ? " RAW" : "",
                ti->waits[k].kinds & TRN_DEP_WAR ? " WAR" : "",
                ti->waits[k].kinds & TRN_DEP_WAW ? " WAW" : "");
    fprintf(f, "\"}}");
}

/* The events of core `pid` (timing t of program p); *first tracks the array's first element. */
static void core_events(FILE *f, int pid, const trn_timing *t, const trn_program *p, int *first) {
    char title[TRN_NAME_MAX + 64];
    snprintf(title, sizeof title, "core %d: %s on %s", pid, t->kernel, t->core->name);
    fprintf(f,
            "%s\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":0,\"args\":{\"name\":",
            *first ? "" : ",", pid);
    json_str(f, title);
    fprintf(f, "}}");
    *first = 0;
    if (pid > 0)
        fprintf(f,
                ",\n{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":%d,\"tid\":0,"
                "\"args\":{\"sort_index\":%d}}",
                pid, pid);
    for (int e = 0; e < TRN_TIMING_ENGINES; e++)
        if (t->rep.engine[e].instrs)
            meta(f, pid, first, "thread_name", e, t->rep.engine[e].name, e);
    for (int q = 0; q < t->nq; q++)
        if (t->queues[q].instrs)
            meta(f, pid, first, "thread_name", DMA_TID + q, t->queues[q].name, DMA_TID + q);
    char ops[1024];
    for (int i = 0; i < t->n; i++) {
        const trn_timing_instr *ti = &t->in[i];
        const char *name = trn_isa_op_get(p->instrs[i].op)->name;
        timing_format_operands(p, i, ops, sizeof ops);
        int slot = t->dma_slot[i];
        if (slot < 0) {
            slice(f, pid, t, p, i, name, (int)ti->engine, ti->start_ns, ti->end_ns, ops, 0, -1);
            continue;
        }
        if (ti->engine != TRN_ENGINE_DMA) {
            char issue[64];
            snprintf(issue, sizeof issue, "%s (issue)", name);
            slice(f, pid, t, p, i, issue, (int)ti->engine, ti->start_ns, t->issue_end_ns[i], ops, 0,
                  -1);
        }
        for (int q = 0; q < t->nq; q++) {
            const dma_piece *pc = &t->pieces[(size_t)slot * (size_t)t->nq + (size_t)q];
            if (!pc->bytes) continue;
            slice(f, pid, t, p, i, name, DMA_TID + q, pc->start_ns, pc->end_ns, ops, pc->bytes, q);
        }
    }
}

trn_status trn_timing_write_trace_cores(const trn_timing *const *t, const trn_program *const *p,
                                        int n, FILE *f, trn_err *err) {
    for (int c = 0; c < n; c++)
        if (p[c]->ninstrs != t[c]->n)
            return trn_err_set(err, TRN_E_INVALID, "trace: program %d is not the one timed", c);
    fprintf(f, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[");
    int first = 1;
    for (int c = 0; c < n; c++) core_events(f, c, t[c], p[c], &first);
    fprintf(f, "\n]}\n");
    return ferror(f) ? trn_err_set(err, TRN_E_IO, "trace: write failed") : TRN_OK;
}

trn_status trn_timing_write_trace_file(const trn_timing *t, const trn_program *p, FILE *f,
                                       trn_err *err) {
    return trn_timing_write_trace_cores(&t, &p, 1, f, err);
}

trn_status trn_timing_write_trace(const trn_timing *t, const trn_program *p, const char *path,
                                  trn_err *err) {
    FILE *f = fopen(path, "wb");
    if (!f) return trn_err_set(err, TRN_E_IO, "%s: cannot open for writing", path);
    trn_status s = trn_timing_write_trace_file(t, p, f, err);
    if (s) trn_err_prefix(err, "%s: ", path);
    if (fclose(f) != 0 && s == TRN_OK) s = trn_err_set(err, TRN_E_IO, "%s: write failed", path);
    return s;
}

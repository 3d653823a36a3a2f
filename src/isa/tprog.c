/* The .tprog binary program format: a 32-byte header (magic, version, payload size, FNV-1a
 * checksum of the payload) and a little-endian payload holding the kernel name, source path,
 * target, params, tensor table, semaphore and register names, list pools and the instruction
 * stream in program order with each instruction's engine and source line and column (the
 * line map). The layout is written out in docs/isa.md.
 *
 * The loader trusts nothing: every count, index, enum and selection is checked, tensor
 * placement is recomputed and compared, and each failure names the file. Operand columns are
 * not stored (an instruction's column is), so a disassembled program reassembles to the same
 * bytes. */
#include <stdlib.h>
#include <string.h>

#include "isa_impl.h"

static const char MAGIC[8] = {'T', 'R', 'N', 'P', 'R', 'O', 'G', '\0'};
#define HEADER_BYTES 32

/* ---- writer ---------------------------------------------------------------------------- */

typedef struct wbuf {
    uint8_t *d;
    size_t n, cap;
    int oom;
} wbuf;

static void put(wbuf *w, const void *p, size_t n) {
    if (w->oom) return;
    if (!isa_grow((void **)&w->d, &w->cap, w->n + n, 1)) {
        w->oom = 1;
        return;
    }
    memcpy(w->d + w->n, p, n);
    w->n += n;
}

static void put_le(wbuf *w, uint64_t v, int bytes) {
    uint8_t b[8];
    for (int i = 0; i < bytes; i++) b[i] = (uint8_t)(v >> (8 * i));
    put(w, b, (size_t)bytes);
}
#define PUT8(w, v)  put_le(w, (uint64_t)(v), 1)
#define PUT16(w, v) put_le(w, (uint64_t)(v), 2)
#define PUT32(w, v) put_le(w, (uint64_t)(v), 4)
#define PUT64(w, v) put_le(w, (uint64_t)(v), 8)

static void put_str(wbuf *w, const char *s) {
    size_t n = s ? strlen(s) : 0;
    PUT32(w, n);
    put(w, s, n);
}

static void put_f64(wbuf *w, double x) {
    uint64_t u;
    memcpy(&u, &x, 8);
    PUT64(w, u);
}

trn_status trn_program_to_tprog(const trn_program *p, void **data, size_t *size_bytes,
                                trn_err *err) {
    wbuf w = {0};
    *data = NULL;
    *size_bytes = 0;
    uint8_t hdr[HEADER_BYTES] = {0};
    put(&w, hdr, sizeof hdr);
    put_str(&w, p->name);
    put_str(&w, p->source_path);
    PUT32(&w, p->core_version);
    PUT32(&w, p->manual_sync);
    PUT32(&w, p->program_id);
    PUT32(&w, p->num_programs);
    PUT64(&w, p->sbuf_bytes);
    PUT64(&w, p->psum_bytes);
    PUT64(&w, p->hbm_bytes);
    PUT32(&w, p->nparams);
    for (int i = 0; i < p->nparams; i++) {
        put_str(&w, p->params[i].name);
        PUT64(&w, p->params[i].value);
    }
    PUT32(&w, p->ntensors);
    for (int i = 0; i < p->ntensors; i++) {
        const trn_tensor *t = &p->tensors[i];
        put_str(&w, t->name);
        PUT8(&w, t->mem);
        PUT8(&w, t->role);
        PUT8(&w, t->dtype);
        PUT8(&w, t->packed | t->placed << 1); /* bit 0 packed, bit 1 offset= given */
        PUT8(&w, t->rank);
        for (int d = 0; d < t->rank; d++) PUT64(&w, t->shape[d]);
        PUT64(&w, t->addr);
        PUT64(&w, t->bytes);
        PUT32(&w, t->line);
    }
    PUT32(&w, p->nsems);
    for (int i = 0; i < p->nsems; i++) put_str(&w, p->sems[i]);
    PUT32(&w, p->nregs);
    for (int i = 0; i < p->nregs; i++) put_str(&w, p->regs[i]);
    PUT32(&w, p->nints);
    for (uint32_t i = 0; i < p->nints; i++) PUT64(&w, p->ints[i]);
    PUT32(&w, p->nfloats);
    for (uint32_t i = 0; i < p->nfloats; i++) put_f64(&w, p->floats[i]);
    PUT32(&w, p->ninstrs);
    for (int i = 0; i < p->ninstrs; i++) {
        const trn_instr *in = &p->instrs[i];
        PUT16(&w, in->op);
        PUT8(&w, in->engine);
        PUT8(&w, in->nwait);
        PUT8(&w, in->nsignal);
        PUT32(&w, in->line);
        PUT32(&w, in->col);
        PUT32(&w, in->nargs);
        for (int k = 0; k < in->nwait; k++) {
            PUT16(&w, in->wait[k].sem);
            PUT32(&w, in->wait[k].value);
        }
        for (int k = 0; k < in->nsignal; k++) PUT16(&w, in->signal[k]);
        for (uint32_t k = 0; k < in->nargs; k++) {
            const trn_operand *o = &p->args[in->arg0 + k];
            PUT8(&w, o->key);
            PUT8(&w, o->kind);
            switch (o->kind) {
            case TRN_ARG_AP_IN:
            case TRN_ARG_AP_OUT: {
                const trn_tensor *t = &p->tensors[o->u.ap.tensor];
                PUT32(&w, o->u.ap.tensor);
                for (int d = 0; d < t->rank; d++) {
                    PUT32(&w, o->u.ap.sel[d].start);
                    PUT32(&w, o->u.ap.sel[d].num);
                    PUT32(&w, o->u.ap.sel[d].step);
                    PUT8(&w, o->u.ap.sel[d].index);
                }
                break;
            }
            case TRN_ARG_FLOAT: put_f64(&w, o->u.imm); break;
            case TRN_ARG_INT_LIST:
            case TRN_ARG_PATTERN:
            case TRN_ARG_FLOAT_LIST:
                PUT32(&w, o->u.list.first);
                PUT32(&w, o->u.list.count);
                break;
            default: PUT64(&w, o->u.i); break;
            }
        }
    }
    if (w.oom) {
        free(w.d);
        return trn_err_set(err, TRN_E_NOMEM, "out of memory writing .tprog");
    }
    uint64_t payload = w.n - HEADER_BYTES;
    uint32_t sum = isa_fnv1a(w.d + HEADER_BYTES, (size_t)payload);
    memcpy(w.d, MAGIC, 8);
    for (int i = 0; i < 4; i++) w.d[8 + i] = (uint8_t)(TRN_TPROG_VERSION >> (8 * i));
    for (int i = 0; i < 8; i++) w.d[16 + i] = (uint8_t)(payload >> (8 * i));
    for (int i = 0; i < 4; i++) w.d[24 + i] = (uint8_t)(sum >> (8 * i));
    *data = w.d;
    *size_bytes = w.n;
    return TRN_OK;
}

trn_status trn_program_write_tprog(const trn_program *p, const char *path, trn_err *err) {
    void *d;
    size_t n;
    trn_status st = trn_program_to_tprog(p, &d, &n, err);
    if (st != TRN_OK) return st;
    st = trn_file_write(path, d, n, err);
    free(d);
    return st;
}

/* ---- reader ---------------------------------------------------------------------------- */

typedef struct rbuf {
    const uint8_t *d;
    size_t n, off;
    int bad;
} rbuf;

static uint64_t get_le(rbuf *r, int bytes) {
    if (r->bad || r->n - r->off < (size_t)bytes) {
        r->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)r->d[r->off + (size_t)i] << (8 * i);
    r->off += (size_t)bytes;
    return v;
}
#define GET8(r)  ((uint8_t)get_le(r, 1))
#define GET16(r) ((uint16_t)get_le(r, 2))
#define GET32(r) ((uint32_t)get_le(r, 4))
#define GET64(r) get_le(r, 8)

static double get_f64(rbuf *r) {
    uint64_t u = GET64(r);
    double x;
    memcpy(&x, &u, 8);
    return x;
}

/* Reads a string into buf (n bytes, NUL-terminated); 0 when malformed or too long. */
static int get_str(rbuf *r, char *buf, size_t n) {
    uint32_t len = GET32(r);
    if (r->bad || len >= n || r->n - r->off < len) return 0;
    memcpy(buf, r->d + r->off, len);
    buf[len] = '\0';
    r->off += len;
    return memchr(buf, '\0', len) == NULL;
}

/* A count whose elements take at least `min_bytes` each must fit the rest of the file. */
static int count_ok(rbuf *r, uint64_t count, size_t min_bytes, uint64_t max) {
    return !r->bad && count <= max && count * min_bytes <= r->n - r->off;
}

static int kind_ok(trn_argkind spec, int kind) {
    switch (spec) {
    case TRN_ARG_AP_LIST: return kind == TRN_ARG_AP_IN;
    case TRN_ARG_SCALAR: return kind == TRN_ARG_AP_IN || kind == TRN_ARG_FLOAT;
    case TRN_ARG_REG_OR_INT: return kind == TRN_ARG_REG || kind == TRN_ARG_INT;
    case TRN_ARG_REG_DEF: return kind == TRN_ARG_REG_DEF;
    default: return kind == (int)spec;
    }
}

#define CORRUPT(...)                                                            \
    do {                                                                        \
        char m_[240];                                                           \
        snprintf(m_, sizeof m_, __VA_ARGS__);                                   \
        st = trn_err_set(err, TRN_E_PARSE, "%s: corrupt .tprog: %s", name, m_); \
        goto fail;                                                              \
    } while (0)

static trn_status operand(rbuf *r, trn_program *p, const trn_isa_op *row, trn_operand *o,
                          const char *name, trn_err *err) {
    trn_status st = TRN_OK;
    memset(o, 0, sizeof *o);
    o->key = GET8(r);
    o->kind = GET8(r);
    if (r->bad) CORRUPT("truncated operand");
    if (o->key >= row->nargs) CORRUPT("%s has no argument %u", row->name, o->key);
    const trn_isa_arg *s = &row->args[o->key];
    if (!kind_ok(s->kind, o->kind))
        CORRUPT("argument %s of %s has kind %u", s->key, row->name, o->kind);
    switch (o->kind) {
    case TRN_ARG_AP_IN:
    case TRN_ARG_AP_OUT: {
        uint32_t ti = GET32(r);
        if (ti >= (uint32_t)p->ntensors) CORRUPT("tensor index %u out of range", ti);
        const trn_tensor *t = &p->tensors[ti];
        o->u.ap.tensor = (int32_t)ti;
        for (int d = 0; d < t->rank; d++) {
            o->u.ap.sel[d].start = (int32_t)GET32(r);
            o->u.ap.sel[d].num = (int32_t)GET32(r);
            o->u.ap.sel[d].step = (int32_t)GET32(r);
            o->u.ap.sel[d].index = GET8(r);
        }
        char msg[200];
        if (r->bad) CORRUPT("truncated operand");
        if (!isa_sel_valid(&o->u.ap, t, msg, sizeof msg)) CORRUPT("%s", msg);
        trn_ap_resolve(&o->u.ap, t);
        break;
    }
    case TRN_ARG_FLOAT: o->u.imm = get_f64(r); break;
    case TRN_ARG_INT_LIST:
    case TRN_ARG_PATTERN:
    case TRN_ARG_FLOAT_LIST: {
        o->u.list.first = GET32(r);
        o->u.list.count = GET32(r);
        uint64_t end = (uint64_t)o->u.list.first + o->u.list.count;
        uint32_t pool = o->kind == TRN_ARG_FLOAT_LIST ? p->nfloats : p->nints;
        if (end > pool || o->u.list.count > 2 * TRN_MAX_LIST)
            CORRUPT("list %u+%u outside its pool of %u", o->u.list.first, o->u.list.count, pool);
        if (o->kind == TRN_ARG_PATTERN && (o->u.list.count % 2 || o->u.list.count > 8))
            CORRUPT("pattern of %u numbers", o->u.list.count);
        break;
    }
    default: {
        int64_t v = (int64_t)GET64(r);
        o->u.i = v;
        int64_t lim = INT64_MAX;
        switch (o->kind) {
        case TRN_ARG_BOOL: lim = 2; break;
        case TRN_ARG_ALU: lim = TRN_ALU_COUNT; break;
        case TRN_ARG_ACT: lim = TRN_ACT_COUNT; break;
        case TRN_ARG_ENUM: lim = trn_isa_enum_count((trn_isa_enum)s->enum_id); break;
        case TRN_ARG_REG:
        case TRN_ARG_REG_DEF: lim = p->nregs; break;
        default: break;
        }
        if (o->kind != TRN_ARG_INT && (v < 0 || v >= lim))
            CORRUPT("value %lld of %s out of range", (long long)v, s->key);
    }
    }
    if (r->bad) CORRUPT("truncated operand");
fail:
    return st;
}

trn_status trn_program_from_tprog(const void *data, size_t size, const char *name,
                                  trn_program **out, trn_err *err) {
    const uint8_t *d = data;
    trn_status st = TRN_OK;
    trn_program *p = NULL;
    *out = NULL;
    if (size < 8 || memcmp(d, MAGIC, 8) != 0)
        return trn_err_set(err, TRN_E_PARSE, "%s: not a .tprog file (bad magic)", name);
    if (size < HEADER_BYTES)
        return trn_err_set(err, TRN_E_PARSE, "%s: truncated .tprog (%zu bytes, the header has %d)",
                           name, size, HEADER_BYTES);
    rbuf h = {d, HEADER_BYTES, 8, 0};
    uint32_t version = GET32(&h), flags = GET32(&h);
    uint64_t payload = GET64(&h);
    uint32_t sum = GET32(&h);
    if (version > TRN_TPROG_VERSION)
        return trn_err_set(err, TRN_E_PARSE,
                           "%s: .tprog version %u is newer than this trnsim reads (%d); rebuild it "
                           "with `trnsim asm` or update trnsim",
                           name, version, TRN_TPROG_VERSION);
    if (version == 0 || flags != 0)
        return trn_err_set(err, TRN_E_PARSE, "%s: corrupt .tprog header (version %u, flags %u)",
                           name, version, flags);
    if (payload > size - HEADER_BYTES)
        return trn_err_set(err, TRN_E_PARSE,
                           "%s: truncated .tprog (%zu bytes, the header announces %llu)", name,
                           size, (unsigned long long)(payload + HEADER_BYTES));
    if (payload < size - HEADER_BYTES)
        return trn_err_set(err, TRN_E_PARSE, "%s: %llu bytes of garbage after the .tprog payload",
                           name, (unsigned long long)(size - HEADER_BYTES - payload));
    if (isa_fnv1a(d + HEADER_BYTES, (size_t)payload) != sum)
        return trn_err_set(err, TRN_E_PARSE, "%s: .tprog checksum mismatch (the file is corrupt)",
                           name);
    rbuf rr = {d + HEADER_BYTES, (size_t)payload, 0, 0}, *r = &rr;
    isa_builder b = {0};
    p = isa_program_new();
    if (!p) return trn_err_set(err, TRN_E_NOMEM, "out of memory");
    b.p = p;
    char path[4096];
    if (!get_str(r, p->name, sizeof p->name) || !get_str(r, path, sizeof path))
        CORRUPT("bad kernel name or source path");
    p->source_path = malloc(strlen(path) + 1);
    if (!p->source_path) goto oom;
    strcpy(p->source_path, path);
    p->core_version = (int)GET32(r);
    p->manual_sync = (int)GET32(r);
    p->program_id = (int)GET32(r);
    p->num_programs = (int)GET32(r);
    uint64_t sbuf = GET64(r), psum = GET64(r), hbm = GET64(r);
    if (r->bad || p->core_version < 2 || p->core_version > 99 || p->manual_sync > 1 ||
        p->num_programs < 1 || p->program_id < 0 || p->program_id >= p->num_programs)
        CORRUPT("bad program header");
    uint32_t n = GET32(r);
    if (!count_ok(r, n, 12, ISA_MAX_NAMES)) CORRUPT("bad parameter count");
    for (uint32_t i = 0; i < n; i++) {
        long k = isa_add_param(&b);
        if (k < 0) goto oom;
        if (!get_str(r, p->params[k].name, TRN_NAME_MAX)) CORRUPT("bad parameter name");
        p->params[k].value = (int64_t)GET64(r);
    }
    n = GET32(r);
    if (!count_ok(r, n, 41, ISA_MAX_TENSORS)) CORRUPT("bad tensor count");
    for (uint32_t i = 0; i < n; i++) {
        trn_tensor t;
        memset(&t, 0, sizeof t);
        if (!get_str(r, t.name, TRN_NAME_MAX)) CORRUPT("bad tensor name");
        uint8_t mem = GET8(r), role = GET8(r), dt = GET8(r), packed = GET8(r), rank = GET8(r);
        if (r->bad || mem >= TRN_MEM_COUNT || role >= TRN_ROLE_COUNT || dt >= TRN_DTYPE_COUNT ||
            packed > (version >= 2 ? 3 : 1) || rank < 1 || rank > TRN_MAX_RANK ||
            (role == TRN_ROLE_TILE) != (mem != TRN_MEM_HBM) || ((packed & 2) && mem == TRN_MEM_HBM))
            CORRUPT("bad tensor '%s'", t.name);
        t.mem = (trn_mem)mem;
        t.role = (trn_tensor_role)role;
        t.dtype = (trn_dtype)dt;
        t.packed = packed & 1;
        t.placed = (uint8_t)(packed >> 1);
        t.rank = rank;
        for (int k = 0; k < rank; k++) {
            t.shape[k] = (int64_t)GET64(r);
            if (t.shape[k] < 1 || t.shape[k] > INT32_MAX) CORRUPT("bad shape of '%s'", t.name);
        }
        uint64_t addr = GET64(r), bytes = GET64(r);
        t.line = GET32(r);
        if (t.placed) t.addr = addr; /* an explicit offset: checked, not recomputed */
        trn_err e;
        if (r->bad || isa_place_tensor(p, &t, &e) != TRN_OK || t.addr != addr || t.bytes != bytes)
            CORRUPT("tensor '%s' is not where the allocator puts it", t.name);
        long k = isa_add_tensor(&b);
        if (k < 0) goto oom;
        p->tensors[k] = t;
    }
    if (p->sbuf_bytes != sbuf || p->psum_bytes != psum || p->hbm_bytes != hbm)
        CORRUPT("memory totals disagree with the tensor table");
    for (int list = 0; list < 2; list++) {
        n = GET32(r);
        if (!count_ok(r, n, 4, ISA_MAX_NAMES)) CORRUPT("bad name count");
        for (uint32_t i = 0; i < n; i++) {
            char nm[TRN_NAME_MAX];
            if (!get_str(r, nm, sizeof nm)) CORRUPT("bad semaphore or register name");
            if ((list ? isa_add_reg(&b, nm) : isa_add_sem(&b, nm)) < 0) goto oom;
        }
    }
    n = GET32(r);
    if (!count_ok(r, n, 8, UINT32_MAX)) CORRUPT("bad integer pool");
    if (n && isa_add_ints(&b, n) < 0) goto oom;
    for (uint32_t i = 0; i < n; i++) p->ints[i] = (int64_t)GET64(r);
    n = GET32(r);
    if (!count_ok(r, n, 8, UINT32_MAX)) CORRUPT("bad float pool");
    if (n && isa_add_floats(&b, n) < 0) goto oom;
    for (uint32_t i = 0; i < n; i++) p->floats[i] = get_f64(r);
    n = GET32(r);
    if (!count_ok(r, n, 17, ISA_MAX_INSTRS)) CORRUPT("bad instruction count");
    for (uint32_t i = 0; i < n; i++) {
        trn_instr in;
        memset(&in, 0, sizeof in);
        uint16_t op = GET16(r);
        uint8_t eng = GET8(r);
        in.nwait = GET8(r);
        in.nsignal = GET8(r);
        in.line = GET32(r);
        in.col = GET32(r);
        in.nargs = GET32(r);
        if (r->bad || op >= TRN_OP_COUNT) CORRUPT("instruction %u: bad opcode", i);
        const trn_isa_op *row = trn_isa_op_get((trn_opcode)op);
        in.op = (trn_opcode)op;
        in.engine = (trn_engine)eng;
        if (eng >= TRN_ENGINE_COUNT || !(row->engines >> eng & 1) || in.nwait > TRN_MAX_WAITS ||
            in.nsignal > TRN_MAX_SIGNALS || in.nargs > 64 ||
            (!p->manual_sync && (in.nwait || in.nsignal)))
            CORRUPT("instruction %u (%s): bad engine, waits or operand count", i, row->name);
        for (int k = 0; k < in.nwait; k++) {
            in.wait[k].sem = GET16(r);
            in.wait[k].value = GET32(r);
            if (in.wait[k].sem >= p->nsems) CORRUPT("instruction %u: bad semaphore", i);
        }
        for (int k = 0; k < in.nsignal; k++) {
            in.signal[k] = GET16(r);
            if (in.signal[k] >= p->nsems) CORRUPT("instruction %u: bad semaphore", i);
        }
        long a0 = isa_add_args(&b, in.nargs);
        if (a0 < 0) goto oom;
        in.arg0 = (uint32_t)a0;
        int seen[64] = {0};
        for (uint32_t k = 0; k < in.nargs; k++) {
            trn_operand *o = &p->args[a0 + (long)k];
            st = operand(r, p, row, o, name, err);
            if (st != TRN_OK) goto fail;
            if (k && o->key < p->args[a0 + (long)k - 1].key)
                CORRUPT("instruction %u: operands out of order", i);
            if (seen[o->key] && row->args[o->key].kind != TRN_ARG_AP_LIST)
                CORRUPT("instruction %u: argument %s twice", i, row->args[o->key].key);
            seen[o->key] = 1;
        }
        for (int k = 0; k < row->nargs; k++)
            if ((row->args[k].flags & TRN_ARGF_REQUIRED) && !seen[k])
                CORRUPT("instruction %u: %s lacks argument %s", i, row->name, row->args[k].key);
        long ii = isa_add_instr(&b);
        if (ii < 0) goto oom;
        p->instrs[ii] = in;
    }
    if (r->off != r->n) CORRUPT("%zu unread bytes", r->n - r->off);
    *out = p;
    return TRN_OK;
oom:
    st = trn_err_set(err, TRN_E_NOMEM, "%s: out of memory", name);
fail:
    trn_program_destroy(p);
    return st;
}

trn_status trn_program_read_tprog(const char *path, trn_program **out, trn_err *err) {
    void *d = NULL;
    size_t n = 0;
    *out = NULL;
    trn_status st = trn_file_read(path, &d, &n, err);
    if (st != TRN_OK) return st;
    st = trn_program_from_tprog(d, n, path, out, err);
    free(d);
    return st;
}

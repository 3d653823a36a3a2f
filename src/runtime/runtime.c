/* The runtime: a program cache keyed by the op's lowering key on one chip, the functional and
 * timing-only paths of an op, resident HBM images (inputs written once, shared by every launch
 * through trn_core_create_shared), the timing of per-core pieces together on the chip
 * (trn_timing_run_cores: the chip's HBM bandwidth shared by every core's transfers), profiles,
 * and the planner's op costs (an op split evenly over the chip's cores, one piece timed).
 * Left out: model graphs and the split of an op into pieces (the model runner, graph_run.c and
 * run_kernel.c). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trnsim/core.h"
#include "trnsim/runtime.h"
#include "trnsim/timing.h"

typedef struct rt_entry {
    char key[320];
    trn_lower_op op; /* the op first compiled under key, byte for byte (see lookup) */
    trn_program *prog;
    int timed;
    trn_op_profile prof;
} rt_entry;

/* A multi-core timing: the pieces' keys, and the chip's profile. */
typedef struct rt_multi {
    char *key;
    trn_lower_op *ops; /* the pieces first timed under key, byte for byte */
    int n;
    trn_op_profile prof;
} rt_multi;

struct trn_runtime {
    const trn_hw_chip *chip;
    trn_isa_target target;
    rt_entry *e;
    int n, cap;
    rt_multi *m;
    int nm, capm;
    uint64_t hits, misses;
    int fresh_cores; /* 1: every launch creates and destroys its core (the reference path) */
    trn_core *work;  /* else the one core every launch reuses (trn_core_reuse), or NULL */
};

static int64_t chip_cores_of(const trn_runtime *rt) {
    int64_t c = (int64_t)rt->chip->cores.value;
    return c >= 1 ? c : 1;
}

static double wall_s(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

trn_status trn_runtime_create(const trn_hw *hw, const char *chip, trn_runtime **out, trn_err *err) {
    *out = NULL;
    const trn_hw_chip *hc = hw && chip ? trn_hw_chip_get(hw, chip) : NULL;
    if (!hc || !hc->core)
        return trn_err_set(err, TRN_E_NOTFOUND,
                           "runtime: chip '%s' is not in the hardware catalog (try `trnsim info`)",
                           chip ? chip : "(null)");
    trn_runtime *rt = calloc(1, sizeof *rt);
    if (!rt) return trn_err_set(err, TRN_E_NOMEM, "runtime: out of memory");
    rt->chip = hc;
    trn_status s = trn_isa_target_from_core(hc->core, &rt->target, err);
    if (s != TRN_OK) {
        free(rt);
        return s;
    }
    *out = rt;
    return TRN_OK;
}

void trn_runtime_destroy(trn_runtime *rt) {
    if (!rt) return;
    trn_core_destroy(rt->work);
    for (int i = 0; i < rt->n; i++) trn_program_destroy(rt->e[i].prog);
    for (int i = 0; i < rt->nm; i++) free(rt->m[i].key), free(rt->m[i].ops);
    free(rt->e);
    free(rt->m);
    free(rt);
}

const trn_isa_target *trn_runtime_target(const trn_runtime *rt) {
    return &rt->target;
}
const trn_hw_chip *trn_runtime_chip(const trn_runtime *rt) {
    return rt->chip;
}

void trn_runtime_set_fresh_cores(trn_runtime *rt, int on) {
    rt->fresh_cores = on != 0;
    trn_core_destroy(rt->work);
    rt->work = NULL;
}

/* A core for a launch of p, on the HBM of `hbm` (NULL: its own): the runtime's work core made new
 * by trn_core_reuse, or a fresh one with fresh_cores. Give it back with launch_end. */
static trn_status launch_begin(trn_runtime *rt, const trn_program *p, trn_core *hbm, trn_core **out,
                               trn_err *err) {
    *out = NULL;
    if (!rt->fresh_cores && rt->work) {
        trn_status s = trn_core_reuse(rt->work, p, hbm, err);
        if (s == TRN_OK) {
            *out = rt->work;
            return TRN_OK;
        }
        if (s == TRN_E_NOMEM) { /* its memories are gone: a fresh one next time */
            trn_core_destroy(rt->work);
            rt->work = NULL;
        }
        return s;
    }
    trn_status s = hbm ? trn_core_create_shared(p, &rt->target, NULL, hbm, out, err)
                       : trn_core_create(p, &rt->target, NULL, out, err);
    if (s == TRN_OK && !rt->fresh_cores) rt->work = *out;
    return s;
}

static void launch_end(trn_runtime *rt, trn_core *c) {
    if (c != rt->work) trn_core_destroy(c);
}

void trn_runtime_cache_stats(const trn_runtime *rt, int *programs, uint64_t *hits,
                             uint64_t *misses) {
    if (programs) *programs = rt->n;
    if (hits) *hits = rt->hits;
    if (misses) *misses = rt->misses;
}

static trn_status lookup(trn_runtime *rt, const trn_lower_op *op, rt_entry **out, trn_err *err) {
    /* An op whose bytes equal an entry's op has that entry's key (keys are unique): found
     * without formatting the key, which a launch would otherwise do every time. Ops equal in
     * value but not in bytes (padding, -0.0) go on to the key. */
    for (int i = 0; i < rt->n; i++)
        if (!memcmp(&rt->e[i].op, op, sizeof *op)) {
            rt->hits++;
            *out = &rt->e[i];
            return TRN_OK;
        }
    char key[320];
    trn_lower_key(op, key, sizeof key);
    for (int i = 0; i < rt->n; i++)
        if (!strcmp(rt->e[i].key, key)) {
            rt->hits++;
            *out = &rt->e[i];
            return TRN_OK;
        }
    rt->misses++;
    double t0 = wall_s();
    trn_program *p = NULL;
    trn_status s = trn_lower_compile(op, &rt->target, &p, err);
    if (s != TRN_OK) return s;
    if (rt->n == rt->cap) {
        int cap = rt->cap ? 2 * rt->cap : 16;
        rt_entry *ne = realloc(rt->e, (size_t)cap * sizeof *ne);
        if (!ne) {
            trn_program_destroy(p);
            return trn_err_set(err, TRN_E_NOMEM, "runtime: out of memory");
        }
        rt->e = ne;
        rt->cap = cap;
    }
    rt_entry *e = &rt->e[rt->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->key, sizeof e->key, "%s", key);
    memcpy(&e->op, op, sizeof *op);
    e->prog = p;
    e->prof.kind = op->kind;
    e->prof.compile_wall_s = wall_s() - t0;
    e->prof.instrs = p->ninstrs;
    e->prof.flops = trn_lower_flops(op);
    *out = e;
    return TRN_OK;
}

trn_status trn_runtime_program(trn_runtime *rt, const trn_lower_op *op, const trn_program **out,
                               trn_err *err) {
    rt_entry *e;
    *out = NULL;
    trn_status s = lookup(rt, op, &e, err);
    if (s == TRN_OK) *out = e->prog;
    return s;
}

static trn_status time_entry(trn_runtime *rt, rt_entry *e, trn_err *err) {
    if (e->timed) return TRN_OK;
    double t0 = wall_s();
    trn_timing *tm = NULL;
    trn_status s = trn_timing_run(e->prog, rt->chip->core, rt->chip, NULL, &tm, err);
    if (s != TRN_OK) return s;
    const trn_timing_report *r = trn_timing_report_get(tm);
    trn_op_profile *p = &e->prof;
    p->time_ns = r->total_ns;
    p->bound = r->bound;
    p->pe_mfu = r->pe_mfu;
    p->pe_hfu = r->pe_hfu;
    p->hbm_read_bytes = r->hbm_to_sbuf_bytes;
    p->hbm_write_bytes = r->sbuf_to_hbm_bytes;
    for (int i = 0; i < TRN_TIMING_ENGINES; i++) p->engine_busy_ns[i] = r->engine[i].busy_ns;
    trn_timing_destroy(tm);
    p->timing_wall_s = wall_s() - t0;
    e->timed = 1;
    return TRN_OK;
}

trn_status trn_runtime_time(trn_runtime *rt, const trn_lower_op *op, trn_op_profile *prof,
                            trn_err *err) {
    rt_entry *e;
    uint64_t misses = rt->misses;
    trn_status s = lookup(rt, op, &e, err);
    if (s == TRN_OK) s = time_entry(rt, e, err);
    if (s == TRN_OK && prof) {
        *prof = e->prof;
        if (rt->misses == misses) prof->compile_wall_s = prof->timing_wall_s = 0;
    }
    return s;
}

/* Every input of p bound exactly once by in[nin] or res[nres] (either may be NULL). */
static trn_status check_inputs(const trn_program *p, const char *kn, const trn_binding *in, int nin,
                               const trn_binding *res, int nres, trn_err *err) {
    for (int i = 0; i < p->ntensors; i++) {
        const trn_tensor *t = &p->tensors[i];
        if (t->role != TRN_ROLE_INPUT) continue;
        int given = 0;
        for (int j = 0; j < nin; j++) given += in[j].name && !strcmp(in[j].name, t->name);
        for (int j = 0; j < nres; j++) given += res[j].name && !strcmp(res[j].name, t->name);
        if (given != 1)
            return trn_err_set(err, TRN_E_INVALID, "%s: input '%s' %s", kn, t->name,
                               given ? "is bound more than once" : "is not bound");
    }
    return TRN_OK;
}

/* Writes the inputs in[nin] into core c (j >= nin: checks the outputs out[] by name and count). */
static trn_status bind(trn_core *c, const trn_program *p, const char *kn, const trn_binding *in,
                       int nin, const trn_binding *out, int nout, trn_err *err) {
    trn_status s = TRN_OK;
    for (int j = 0; j < nin + nout && s == TRN_OK; j++) {
        const trn_binding *b = j < nin ? &in[j] : &out[j - nin];
        int ti = b->name ? trn_core_tensor_find(c, b->name) : -1;
        trn_tensor_role want = j < nin ? TRN_ROLE_INPUT : TRN_ROLE_OUTPUT;
        if (ti < 0 || p->tensors[ti].role != want)
            return trn_err_set(err, TRN_E_INVALID, "%s: the kernel has no %s named '%s'", kn,
                               j < nin ? "input" : "output", b->name ? b->name : "(null)");
        size_t need = 1;
        for (int d = 0; d < p->tensors[ti].rank; d++) need *= (size_t)p->tensors[ti].shape[d];
        if (b->n != need)
            return trn_err_set(err, TRN_E_INVALID, "%s: tensor '%s' has %zu elements, %zu given",
                               kn, b->name, need, b->n);
        if (j < nin) s = trn_core_tensor_write(c, ti, b->data, b->n, err);
    }
    return s;
}

/* Runs core c (inputs bound) and reads the outputs. */
static trn_status run_read(trn_core *c, trn_binding *out, int nout, trn_err *err) {
    trn_status s = trn_core_run(c, err);
    for (int j = 0; j < nout && s == TRN_OK; j++)
        s = trn_core_tensor_read(c, trn_core_tensor_find(c, out[j].name), out[j].data, out[j].n,
                                 NULL, err);
    return s;
}

trn_status trn_runtime_run(trn_runtime *rt, const trn_lower_op *op, const trn_binding *in, int nin,
                           trn_binding *out, int nout, trn_op_profile *prof, trn_err *err) {
    rt_entry *e;
    trn_status s = lookup(rt, op, &e, err);
    if (s != TRN_OK) return s;
    const trn_program *p = e->prog;
    const char *kn = trn_lower_kind_name(op->kind);
    s = check_inputs(p, kn, in, nin, NULL, 0, err);
    if (s != TRN_OK) return s;
    trn_core *c = NULL;
    s = launch_begin(rt, p, NULL, &c, err);
    if (s != TRN_OK) return s;
    s = bind(c, p, kn, in, nin, out, nout, err);
    if (s == TRN_OK) s = run_read(c, out, nout, err);
    launch_end(rt, c);
    if (s == TRN_OK) s = time_entry(rt, e, err);
    if (s == TRN_OK && prof) *prof = e->prof;
    return s;
}

/* ---- resident HBM images ----------------------------------------------------------------- */

struct trn_resident {
    const trn_program *prog; /* the runtime's (cached) */
    trn_lower_op op;
    /* The program seen as memory only: the same tensors and HBM layout, no instructions, no
     * SBUF or PSUM, so the image's owner allocates the HBM alone. */
    trn_program image;
    trn_core *hbm;  /* never run: owns the HBM image every launch shares */
    trn_binding *w; /* names (owned) of the resident inputs, data NULL */
    int nw;
};

trn_status trn_runtime_resident_create(trn_runtime *rt, const trn_lower_op *op,
                                       const trn_binding *w, int nw, trn_resident **out,
                                       trn_err *err) {
    *out = NULL;
    rt_entry *e;
    trn_status s = lookup(rt, op, &e, err);
    if (s != TRN_OK) return s;
    const char *kn = trn_lower_kind_name(op->kind);
    trn_resident *r = calloc(1, sizeof *r);
    if (r) r->w = calloc((size_t)(nw > 0 ? nw : 1), sizeof *r->w);
    if (!r || !r->w) {
        if (r) free(r->w);
        free(r);
        return trn_err_set(err, TRN_E_NOMEM, "runtime: out of memory");
    }
    r->prog = e->prog, r->op = *op, r->nw = nw;
    for (int j = 0; j < nw; j++) {
        r->w[j].n = w[j].n;
        r->w[j].name = w[j].name ? strdup(w[j].name) : NULL;
        if (w[j].name && !r->w[j].name) s = trn_err_set(err, TRN_E_NOMEM, "runtime: out of memory");
    }
    r->image = *e->prog;
    r->image.ninstrs = 0;
    r->image.sbuf_bytes = r->image.psum_bytes = 0;
    if (s == TRN_OK) s = trn_core_create(&r->image, &rt->target, NULL, &r->hbm, err);
    if (s == TRN_OK) s = bind(r->hbm, e->prog, kn, w, nw, NULL, 0, err);
    if (s != TRN_OK) {
        trn_resident_destroy(r);
        return s;
    }
    *out = r;
    return TRN_OK;
}

void trn_resident_destroy(trn_resident *r) {
    if (!r) return;
    trn_core_destroy(r->hbm);
    for (int j = 0; j < r->nw; j++) free((void *)r->w[j].name);
    free(r->w);
    free(r);
}

trn_status trn_runtime_run_resident(trn_runtime *rt, trn_resident *res, const trn_binding *in,
                                    int nin, trn_binding *out, int nout, trn_op_profile *prof,
                                    trn_err *err) {
    const trn_program *p = res->prog;
    const char *kn = trn_lower_kind_name(res->op.kind);
    trn_status s = check_inputs(p, kn, in, nin, res->w, res->nw, err);
    if (s != TRN_OK) return s;
    trn_core *c = NULL;
    s = launch_begin(rt, p, res->hbm, &c, err);
    if (s != TRN_OK) return s;
    s = bind(c, p, kn, in, nin, out, nout, err);
    if (s == TRN_OK) s = run_read(c, out, nout, err);
    launch_end(rt, c);
    if (s == TRN_OK && prof) s = trn_runtime_time(rt, &res->op, prof, err);
    return s;
}

/* ---- several cores ------------------------------------------------------------------------ */

trn_status trn_runtime_time_cores(trn_runtime *rt, const trn_lower_op *ops, int n,
                                  trn_op_profile *prof, trn_err *err) {
    if (n < 1 || n > (int)chip_cores_of(rt) || n > 64)
        return trn_err_set(err, TRN_E_RANGE, "runtime: %d cores (%s has %d NeuronCores)", n,
                           rt->chip->name, (int)chip_cores_of(rt));
    if (n == 1) return trn_runtime_time(rt, &ops[0], prof, err);
    for (int i = 0; i < rt->nm; i++) /* the same pieces byte for byte: the same key (lookup) */
        if (rt->m[i].n == n && rt->m[i].ops &&
            !memcmp(rt->m[i].ops, ops, (size_t)n * sizeof *ops)) {
            rt->hits++;
            if (prof) *prof = rt->m[i].prof;
            return TRN_OK;
        }
    /* the key: every piece's key */
    size_t klen = (size_t)n * 330 + 16;
    char *key = malloc(klen);
    if (!key) return trn_err_set(err, TRN_E_NOMEM, "runtime: out of memory");
    size_t at = (size_t)snprintf(key, klen, "cores=%d", n);
    for (int i = 0; i < n; i++) {
        key[at++] = '|';
        trn_lower_key(&ops[i], key + at, klen - at);
        at += strlen(key + at);
    }
    for (int i = 0; i < rt->nm; i++)
        if (!strcmp(rt->m[i].key, key)) {
            free(key);
            rt->hits++;
            if (prof) *prof = rt->m[i].prof;
            return TRN_OK;
        }
    const trn_program *progs[64];
    trn_status s = TRN_OK;
    double flops = 0;
    for (int i = 0; i < n && s == TRN_OK; i++) {
        rt_entry *e;
        s = lookup(rt, &ops[i], &e, err);
        if (s == TRN_OK) progs[i] = e->prog, flops += e->prof.flops;
    }
    trn_timing *tm[64] = {0};
    double t0 = wall_s();
    if (s == TRN_OK) s = trn_timing_run_cores(progs, n, rt->chip->core, rt->chip, NULL, tm, err);
    if (s == TRN_OK && rt->nm == rt->capm) {
        int cap = rt->capm ? 2 * rt->capm : 16;
        rt_multi *nm = realloc(rt->m, (size_t)cap * sizeof *nm);
        if (!nm)
            s = trn_err_set(err, TRN_E_NOMEM, "runtime: out of memory");
        else
            rt->m = nm, rt->capm = cap;
    }
    if (s != TRN_OK) {
        for (int i = 0; i < n; i++) trn_timing_destroy(tm[i]);
        free(key);
        return s;
    }
    trn_op_profile p = {0};
    p.kind = ops[0].kind;
    p.flops = flops;
    double mfu_ns = 0, hfu_ns = 0, slow = -1;
    for (int i = 0; i < n; i++) {
        const trn_timing_report *r = trn_timing_report_get(tm[i]);
        if (r->total_ns > slow) slow = r->total_ns, p.time_ns = r->total_ns, p.bound = r->bound;
        mfu_ns += r->pe_mfu * r->total_ns, hfu_ns += r->pe_hfu * r->total_ns;
        p.hbm_read_bytes += r->hbm_to_sbuf_bytes;
        p.hbm_write_bytes += r->sbuf_to_hbm_bytes;
        for (int e = 0; e < TRN_TIMING_ENGINES; e++) p.engine_busy_ns[e] += r->engine[e].busy_ns;
        p.instrs += progs[i]->ninstrs;
        trn_timing_destroy(tm[i]);
    }
    if (p.time_ns > 0) p.pe_mfu = mfu_ns / (n * p.time_ns), p.pe_hfu = hfu_ns / (n * p.time_ns);
    p.timing_wall_s = wall_s() - t0;
    rt->misses++;
    rt_multi *m = &rt->m[rt->nm++];
    m->key = key;
    m->prof = p;
    m->n = n;
    m->ops = malloc((size_t)n * sizeof *ops); /* NULL only loses the byte-wise hit */
    if (m->ops) memcpy(m->ops, ops, (size_t)n * sizeof *ops);
    if (prof) *prof = p;
    return TRN_OK;
}

/* ---- op costs ------------------------------------------------------------------------------ */

static trn_status seconds_of(trn_runtime *rt, const trn_lower_op *op, double *seconds,
                             trn_err *err) {
    trn_op_profile p;
    trn_status s = trn_runtime_time(rt, op, &p, err);
    *seconds = s == TRN_OK ? p.time_ns * 1e-9 : 0;
    return s;
}

static int64_t cdiv(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

static int64_t chip_cores(const trn_runtime *rt) {
    int64_t c = (int64_t)rt->chip->cores.value;
    return c >= 1 ? c : 1;
}

void trn_runtime_gemm_split(const trn_runtime *rt, int64_t m, int64_t n, int64_t *pm, int64_t *pn) {
    int64_t c = chip_cores(rt);
    *pm = m, *pn = n;
    if (n >= 512 * c)
        *pn = cdiv(cdiv(n, 512), c) * 512;
    else if (m >= 128 * c)
        *pm = cdiv(cdiv(m, 128), c) * 128;
    else
        *pn = cdiv(n, c);
}

trn_status trn_runtime_op_seconds(trn_runtime *rt, const trn_lower_op *op, double *seconds,
                                  trn_err *err) {
    trn_lower_op piece = *op;
    int64_t c = chip_cores(rt);
    switch (op->kind) {
    case TRN_LOWER_LINEAR:
        trn_runtime_gemm_split(rt, op->m, op->n, &piece.m, &piece.n);
        if (op->glu_oai && piece.n % 2) piece.n++; /* gate/up column pairs stay together */
        break;
    case TRN_LOWER_ATTENTION:
        if (op->kv_heads >= 1 && op->heads % op->kv_heads == 0) {
            piece.kv_heads = cdiv(op->kv_heads, c);
            piece.heads = piece.kv_heads * (op->heads / op->kv_heads);
        } /* else invalid: the lowering's check names it */
        break;
    default: piece.m = cdiv(op->m, c); break;
    }
    return seconds_of(rt, &piece, seconds, err);
}

trn_status trn_runtime_gemm_seconds(trn_runtime *rt, int64_t m, int64_t k, int64_t n,
                                    trn_precision prec, double *seconds, trn_err *err) {
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_LINEAR;
    op.m = m, op.k = k, op.n = n, op.prec = prec;
    op.dtype = op.out_dtype = TRN_DTYPE_BF16;
    op.act = TRN_ACT_COPY;
    return trn_runtime_op_seconds(rt, &op, seconds, err);
}

trn_status trn_runtime_attention_seconds(trn_runtime *rt, int64_t heads, int64_t kv_heads,
                                         int64_t head_dim, int64_t q_len, int64_t kv_len,
                                         double *seconds, trn_err *err) {
    trn_lower_op op = {0};
    op.kind = TRN_LOWER_ATTENTION;
    op.dtype = op.out_dtype = TRN_DTYPE_BF16;
    op.heads = heads, op.kv_heads = kv_heads, op.head_dim = head_dim;
    op.m = op.q_len = q_len, op.kv_len = kv_len;
    return trn_runtime_op_seconds(rt, &op, seconds, err);
}

trn_status trn_runtime_rowop_seconds(trn_runtime *rt, trn_lower_kind kind, int64_t m, int64_t n,
                                     double *seconds, trn_err *err) {
    if (kind == TRN_LOWER_LINEAR || kind == TRN_LOWER_ATTENTION || kind == TRN_LOWER_ROPE) {
        *seconds = 0;
        return trn_err_set(err, TRN_E_INVALID, "runtime: %s is not a row op",
                           trn_lower_kind_name(kind));
    }
    trn_lower_op op = {0};
    op.kind = kind;
    op.m = m, op.n = n, op.eps = 1e-5;
    op.dtype = op.out_dtype = TRN_DTYPE_BF16;
    return trn_runtime_op_seconds(rt, &op, seconds, err);
}

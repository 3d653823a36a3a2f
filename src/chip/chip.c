/* The chip: N programs of one kernel (program_id 0 .. N-1) on N NeuronCores sharing one HBM.
 * Assembly and matching of the cross-core instructions, the functional run (cores in core
 * order, each until its next cross-core instruction; a group proceeds when all its members
 * arrived), and the timing run of all cores together (trn_timing_run_cores).
 *
 * Matching (static: the programs are straight-line after unrolling): the k-th core_barrier of a
 * core with core set S meets the k-th core_barrier with the same set S of every other member of
 * S. The k-th sendrecv on pipe P of core c is linked to the core it sends to and the core it
 * receives from; the linked cores with a k-th sendrecv on pipe P form one group, and a linked
 * core without one is a member that never arrives (a deadlock).
 *
 * Deliberately left out: the cost of anything (timing.c), several chips. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chip_impl.h"

/* ---- matching ---------------------------------------------------------------------------- */

/* Core of rank `rank` seen from core `core`, or -1 when the rank is outside the grid. `pair`: the
 * rank is 0 or 1 inside the core's pair (cores 2k, 2k + 1, which share an HBM stack: sendrecv
 * always, core_barrier with LNC=2); else the program id (core_barrier with LNC=1). */
static int rank_core(const trn_chip *c, int core, int64_t rank, int pair) {
    if (!pair) return rank >= 0 && rank < c->n ? (int)rank : -1;
    if (rank < 0 || rank > 1) return -1;
    int k = core / 2 * 2 + (int)rank;
    return k < c->n ? k : -1;
}

static int64_t arg_int(const trn_program *p, const trn_instr *in, const char *key, int64_t def) {
    const trn_operand *o = trn_instr_arg(p, in, trn_isa_arg_find(in->op, key));
    return o ? o->u.i : def;
}

static const char *src_of(const trn_program *p) {
    return p->source_path ? p->source_path : p->name;
}

/* A group key: kind, a (barrier: core mask; sendrecv: pipe), k (occurrence), and for sendrecv
 * the component (its smallest core). */
typedef struct gkey {
    int kind;
    uint64_t a;
    int64_t k;
    int comp;
} gkey;

typedef struct gmap {
    gkey *keys;
    int32_t *ids;
    size_t cap;
} gmap;

static size_t gkey_hash(const gkey *k) {
    uint64_t h = (uint64_t)k->kind * 0x9E3779B97F4A7C15ull ^ k->a * 0xC2B2AE3D27D4EB4Full ^
                 (uint64_t)k->k * 0x165667B19E3779F9ull ^ (uint64_t)k->comp * 0x27D4EB2F165667C5ull;
    return (size_t)(h ^ (h >> 29));
}

/* The group of key k: found, or a new one (kind, members mask). -1 out of memory. */
static int32_t group_for(trn_chip *c, gmap *m, const gkey *k, uint64_t mask) {
    if ((size_t)c->ng * 2 + 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        gkey *keys = calloc(cap, sizeof *keys);
        int32_t *ids = malloc(cap * sizeof *ids);
        if (!keys || !ids) {
            free(keys);
            free(ids);
            return -1;
        }
        for (size_t i = 0; i < cap; i++) ids[i] = -1;
        for (size_t i = 0; i < m->cap; i++) {
            if (m->ids[i] < 0) continue;
            size_t h = gkey_hash(&m->keys[i]) & (cap - 1);
            while (ids[h] >= 0) h = (h + 1) & (cap - 1);
            keys[h] = m->keys[i];
            ids[h] = m->ids[i];
        }
        free(m->keys);
        free(m->ids);
        m->keys = keys;
        m->ids = ids;
        m->cap = cap;
    }
    size_t h = gkey_hash(k) & (m->cap - 1);
    while (m->ids[h] >= 0) {
        const gkey *o = &m->keys[h];
        if (o->kind == k->kind && o->a == k->a && o->k == k->k && o->comp == k->comp)
            return m->ids[h];
        h = (h + 1) & (m->cap - 1);
    }
    if (c->ng == c->gcap) {
        int cap = c->gcap ? 2 * c->gcap : 16;
        chip_group *g = realloc(c->groups, sizeof *g * (size_t)cap);
        if (!g) return -1;
        c->groups = g;
        c->gcap = cap;
    }
    chip_group *g = &c->groups[c->ng];
    memset(g, 0, sizeof *g);
    g->kind = k->kind;
    g->mask = mask;
    for (int i = 0; i < c->n; i++) g->size += (int)((mask >> i) & 1);
    for (int i = 0; i < CHIP_MAX_CORES; i++) g->instr[i] = -1;
    m->keys[h] = *k;
    m->ids[h] = c->ng;
    return c->ng++;
}

static trn_status fault_at(trn_chip *c, int core, int i, trn_err *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
static trn_status fault_at(trn_chip *c, int core, int i, trn_err *err, const char *fmt, ...) {
    const trn_program *p = c->p[core];
    const trn_instr *in = &p->instrs[i];
    char what[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    trn_fault *f = &c->fault;
    c->has_fault = 1;
    c->fault_core = core;
    memset(f, 0, sizeof *f);
    f->status = TRN_E_FAULT;
    f->instr = i;
    f->op = in->op;
    f->engine = in->engine;
    f->line = in->line;
    f->cycle = -1;
    snprintf(f->msg, sizeof f->msg, "%.100s:%u: %.16s (core %d, instruction %d): %s", src_of(p),
             (unsigned)in->line, trn_isa_op_get(in->op)->name, core, i, what);
    return trn_err_set(err, TRN_E_FAULT, "%s", f->msg);
}

/* A sendrecv of one core, for the matching. */
typedef struct srec {
    int64_t pipe, k;
    int core, instr, to, from;
} srec;

static int cmp_srec(const void *a, const void *b) {
    const srec *x = a, *y = b;
    if (x->pipe != y->pipe) return x->pipe < y->pipe ? -1 : 1;
    if (x->k != y->k) return x->k < y->k ? -1 : 1;
    return x->core - y->core;
}

static int uf_find(int *up, int x) {
    while (up[x] != x) x = up[x] = up[up[x]];
    return x;
}

static trn_status match(trn_chip *c, trn_err *err) {
    int n = c->n;
    gmap m = {0};
    trn_status st = TRN_OK;
    srec *sr = NULL;
    size_t nsr = 0, capsr = 0;
    for (int core = 0; core < n && st == TRN_OK; core++) {
        const trn_program *p = c->p[core];
        c->group_of[core] = malloc(sizeof(int32_t) * (size_t)(p->ninstrs ? p->ninstrs : 1));
        if (!c->group_of[core]) {
            st = trn_err_set(err, TRN_E_NOMEM, "chip: out of memory");
            break;
        }
        /* occurrences per barrier mask and per pipe so far on this core */
        uint64_t masks[64];
        int64_t counts[64];
        int nmask = 0;
        for (int i = 0; i < p->ninstrs && st == TRN_OK; i++) {
            const trn_instr *in = &p->instrs[i];
            c->group_of[core][i] = -1;
            if (in->op == TRN_OP_CORE_BARRIER) {
                const trn_operand *o = trn_instr_arg(p, in, trn_isa_arg_find(in->op, "cores"));
                uint64_t mask = 0;
                for (uint32_t k = 0; o && k < o->u.list.count; k++) {
                    int64_t r = p->ints[o->u.list.first + k];
                    int d = rank_core(c, core, r, c->lnc == 2);
                    if (d < 0) {
                        st = fault_at(c, core, i, err,
                                      "cores names rank %lld; %s (the grid has %d core%s%s)",
                                      (long long)r,
                                      c->lnc == 1 ? "ranks are program ids 0..N-1"
                                                  : "with --lnc 2 ranks are 0 or 1 inside the pair",
                                      n, n == 1 ? "" : "s", c->lnc == 1 ? "" : ", LNC=2");
                        break;
                    }
                    mask |= (uint64_t)1 << d;
                }
                if (st) break;
                if (!((mask >> core) & 1)) {
                    st = fault_at(c, core, i, err,
                                  "cores leaves out core %d, the core running it (a barrier is "
                                  "between the cores it names)",
                                  core);
                    break;
                }
                int slot = 0;
                while (slot < nmask && masks[slot] != mask) slot++;
                if (slot == nmask) {
                    if (nmask == 64) {
                        st = fault_at(c, core, i, err, "more than 64 distinct core sets");
                        break;
                    }
                    masks[nmask] = mask;
                    counts[nmask++] = 0;
                }
                gkey k = {CHIP_BARRIER, mask, counts[slot]++, 0};
                int32_t g = group_for(c, &m, &k, mask);
                if (g < 0) {
                    st = trn_err_set(err, TRN_E_NOMEM, "chip: out of memory");
                    break;
                }
                c->group_of[core][i] = g;
                c->groups[g].instr[core] = i;
            } else if (in->op == TRN_OP_SENDRECV) {
                int64_t to = arg_int(p, in, "send_to_rank", -1);
                int64_t from = arg_int(p, in, "recv_from_rank", -1);
                int dto = rank_core(c, core, to, 1), dfrom = rank_core(c, core, from, 1);
                if (dto < 0 || dfrom < 0) {
                    st =
                        fault_at(c, core, i, err, "%s %lld names no core of the grid (%d core%s%s)",
                                 dto < 0 ? "send_to_rank" : "recv_from_rank",
                                 (long long)(dto < 0 ? to : from), n, n == 1 ? "" : "s",
                                 "; a rank is 0 or 1 inside the core's pair (cores 2k, 2k+1)");
                    break;
                }
                if (nsr == capsr) {
                    size_t cap = capsr ? 2 * capsr : 64;
                    srec *q = realloc(sr, sizeof *q * cap);
                    if (!q) {
                        st = trn_err_set(err, TRN_E_NOMEM, "chip: out of memory");
                        break;
                    }
                    sr = q;
                    capsr = cap;
                }
                int64_t pipe = arg_int(p, in, "pipe_id", 0), k = 0;
                for (size_t j = 0; j < nsr; j++)
                    if (sr[j].core == core && sr[j].pipe == pipe) k++;
                sr[nsr++] = (srec){pipe, k, core, i, dto, dfrom};
            }
        }
    }
    /* sendrecv groups: per (pipe, k), the connected cores */
    if (st == TRN_OK && nsr) qsort(sr, nsr, sizeof *sr, cmp_srec);
    int up[CHIP_MAX_CORES];
    for (size_t a = 0; st == TRN_OK && a < nsr;) {
        size_t b = a;
        while (b < nsr && sr[b].pipe == sr[a].pipe && sr[b].k == sr[a].k) b++;
        int of[CHIP_MAX_CORES];
        for (int i = 0; i < n; i++) up[i] = i, of[i] = -1;
        for (size_t j = a; j < b; j++) {
            of[sr[j].core] = (int)j;
            up[uf_find(up, sr[j].core)] = uf_find(up, sr[j].to);
            up[uf_find(up, sr[j].core)] = uf_find(up, sr[j].from);
        }
        for (size_t j = a; j < b && st == TRN_OK; j++) {
            int d = sr[j].to;
            if (of[d] >= 0 && sr[of[d]].from != sr[j].core) {
                const srec *o = &sr[of[d]];
                st = fault_at(c, sr[j].core, sr[j].instr, err,
                              "sends to core %d, whose matching sendrecv (pipe_id %lld, line %u) "
                              "receives from core %d, not %d",
                              d, (long long)o->pipe, (unsigned)c->p[d]->instrs[o->instr].line,
                              o->from, sr[j].core);
            }
        }
        for (size_t j = a; j < b && st == TRN_OK; j++) {
            int root = uf_find(up, sr[j].core);
            uint64_t mask = 0;
            int comp = n;
            for (int i = 0; i < n; i++)
                if (uf_find(up, i) == root) {
                    mask |= (uint64_t)1 << i;
                    if (i < comp) comp = i;
                }
            gkey k = {CHIP_SENDRECV, (uint64_t)sr[j].pipe, sr[j].k, comp};
            int32_t g = group_for(c, &m, &k, mask);
            if (g < 0) {
                st = trn_err_set(err, TRN_E_NOMEM, "chip: out of memory");
                break;
            }
            c->group_of[sr[j].core][sr[j].instr] = g;
            c->groups[g].instr[sr[j].core] = sr[j].instr;
            c->groups[g].to[sr[j].core] = sr[j].to;
        }
        a = b;
    }
    free(sr);
    free(m.keys);
    free(m.ids);
    if (st == TRN_OK) {
        c->group_size = malloc(sizeof *c->group_size * (size_t)(c->ng ? c->ng : 1));
        if (!c->group_size) return trn_err_set(err, TRN_E_NOMEM, "chip: out of memory");
        for (int g = 0; g < c->ng; g++) c->group_size[g] = c->groups[g].size;
    }
    return st;
}

/* ---- creation ---------------------------------------------------------------------------- */

trn_status trn_chip_assemble(const trn_hw_chip *hw, const char *text, const char *path,
                             const trn_chip_opts *o, trn_chip **out, trn_err *err) {
    *out = NULL;
    trn_chip_opts def = {0};
    if (!o) o = &def;
    if (!hw || !hw->core) return trn_err_set(err, TRN_E_INVALID, "chip: no chip from the catalog");
    int cores = (int)hw->cores.value;
    int n = o->grid ? o->grid : 1, lnc = o->lnc ? o->lnc : 1;
    if (n < 1 || n > cores || n > CHIP_MAX_CORES)
        return trn_err_set(err, TRN_E_INVALID, "--grid %d: chip %s has %d NeuronCores (1..%d)", n,
                           hw->name, cores, cores < CHIP_MAX_CORES ? cores : CHIP_MAX_CORES);
    trn_isa_target target;
    trn_status st = trn_isa_target_from_core(hw->core, &target, err);
    if (st) return st;
    if (lnc != 1 && lnc != 2)
        return trn_err_set(err, TRN_E_INVALID, "--lnc %d: a Logical NeuronCore is 1 or 2 cores",
                           lnc);
    if (lnc == 2 && target.version < 3)
        return trn_err_set(err, TRN_E_INVALID,
                           "--lnc 2: chip %s (NeuronCore-v%d) has no Logical NeuronCores; LNC=2 "
                           "exists on Trainium2 and newer (NeuronCore-v3+)",
                           hw->name, target.version);
    if (lnc == 2 && n % 2)
        return trn_err_set(err, TRN_E_INVALID,
                           "--grid %d with --lnc 2: the grid must be a whole number of core pairs",
                           n);
    trn_chip *c = calloc(1, sizeof *c);
    if (!c) return trn_err_set(err, TRN_E_NOMEM, "chip: out of memory");
    c->hw = hw;
    c->n = n;
    c->lnc = lnc;
    c->target = target;
    c->copts = o->core;
    c->p = calloc((size_t)n, sizeof *c->p);
    c->core = calloc((size_t)n, sizeof *c->core);
    c->tm = calloc((size_t)n, sizeof *c->tm);
    c->group_of = calloc((size_t)n, sizeof *c->group_of);
    if (!c->p || !c->core || !c->tm || !c->group_of) {
        trn_chip_destroy(c);
        return trn_err_set(err, TRN_E_NOMEM, "chip: out of memory");
    }
    for (int i = 0; i < n && st == TRN_OK; i++) {
        trn_asm_opts ao = {o->overrides, o->n_overrides, target.version, n, i};
        st = trn_program_assemble(text, path, &ao, &c->p[i], err);
        if (st == TRN_OK) st = trn_program_verify(c->p[i], &target, err);
        if (st && n > 1) trn_err_prefix(err, "program_id %d: ", i);
    }
    if (st == TRN_OK) st = match(c, err);
    if (st) {
        trn_chip_destroy(c);
        return st;
    }
    *out = c;
    return TRN_OK;
}

trn_status trn_chip_assemble_file(const trn_hw_chip *hw, const char *path, const trn_chip_opts *o,
                                  trn_chip **out, trn_err *err) {
    *out = NULL;
    void *data = NULL;
    size_t size = 0;
    trn_status st = trn_file_read(path, &data, &size, err);
    if (st) return st;
    char *text = malloc(size + 1);
    if (!text) {
        free(data);
        return trn_err_set(err, TRN_E_NOMEM, "%s: out of memory", path);
    }
    memcpy(text, data, size);
    text[size] = 0;
    free(data);
    st = trn_chip_assemble(hw, text, path, o, out, err);
    free(text);
    return st;
}

void trn_chip_destroy(trn_chip *c) {
    if (!c) return;
    for (int i = c->n - 1; i >= 0; i--) { /* core 0 owns the HBM: last */
        if (c->core) trn_core_destroy(c->core[i]);
        if (c->tm) trn_timing_destroy(c->tm[i]);
        if (c->p) trn_program_destroy(c->p[i]);
        if (c->group_of) free(c->group_of[i]);
    }
    trn_hbm_race_destroy(c->race);
    free(c->core);
    free(c->tm);
    free(c->p);
    free(c->group_of);
    free(c->group_size);
    free(c->groups);
    free(c);
}

int trn_chip_cores(const trn_chip *c) {
    return c->n;
}

int trn_chip_lnc(const trn_chip *c) {
    return c->lnc;
}

const trn_program *trn_chip_program(const trn_chip *c, int core) {
    return core >= 0 && core < c->n ? c->p[core] : NULL;
}

const trn_hw_chip *trn_chip_hw(const trn_chip *c) {
    return c->hw;
}

/* ---- timing ------------------------------------------------------------------------------ */

trn_status trn_chip_time(trn_chip *c, trn_err *err) {
    if (c->tm[0]) return trn_err_set(err, TRN_E_INVALID, "chip: already timed");
    trn_timing_sync sync = {c->ng, (const int32_t *const *)c->group_of, c->group_size};
    return trn_timing_run_cores((const trn_program *const *)c->p, c->n, c->hw->core, c->hw, &sync,
                                c->tm, err);
}

const trn_timing *trn_chip_timing(const trn_chip *c, int core) {
    return core >= 0 && core < c->n ? c->tm[core] : NULL;
}

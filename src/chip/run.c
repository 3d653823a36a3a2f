/* The functional run of a chip: N cores over one HBM image, run one after another in core order,
 * each until its next cross-core instruction; a sync group whose members all arrived is carried
 * out (a core_barrier orders the members' HBM accesses; a sendrecv first reads every member's
 * `src`, then writes each into the `dst` of the core it is sent to) and its members go on. When
 * no core can go on and some have not finished, the run is a deadlock naming every blocked core
 * and the cores it waits for. Deterministic: the order depends only on the programs.
 *
 * Deliberately left out: time (the timing model decides when things happen; results do not
 * depend on it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chip_impl.h"

static trn_status ensure_cores(trn_chip *c, trn_err *err) {
    if (c->core[0]) return TRN_OK;
    trn_status st = trn_core_create(c->p[0], &c->target, &c->copts, &c->core[0], err);
    for (int i = 1; i < c->n && st == TRN_OK; i++)
        st = trn_core_create_shared(c->p[i], &c->target, &c->copts, c->core[0], &c->core[i], err);
    if (st == TRN_OK && c->n > 1) /* one core alone cannot race */
        st = trn_hbm_race_create(c->p[0]->hbm_bytes, c->n, &c->race, err);
    for (int i = 0; i < c->n && st == TRN_OK; i++) trn_core_attach_race(c->core[i], c->race, i);
    if (st) {
        for (int i = c->n - 1; i >= 0; i--) {
            trn_core_destroy(c->core[i]);
            c->core[i] = NULL;
        }
        trn_hbm_race_destroy(c->race);
        c->race = NULL;
    }
    return st;
}

int trn_chip_tensor_find(const trn_chip *c, const char *name) {
    const trn_program *p = c->p[0];
    for (int i = 0; i < p->ntensors; i++)
        if (p->tensors[i].mem == TRN_MEM_HBM && strcmp(p->tensors[i].name, name) == 0) return i;
    return -1;
}

trn_status trn_chip_tensor_write(trn_chip *c, int tensor, const double *vals, size_t n,
                                 trn_err *err) {
    trn_status st = ensure_cores(c, err);
    return st ? st : trn_core_tensor_write(c->core[0], tensor, vals, n, err);
}

trn_status trn_chip_tensor_read(trn_chip *c, int tensor, double *vals, size_t n, size_t *unwritten,
                                trn_err *err) {
    trn_status st = ensure_cores(c, err);
    return st ? st : trn_core_tensor_read(c->core[0], tensor, vals, n, unwritten, err);
}

/* The next cross-core instruction of core k at or after instruction i (the count: none). */
static int next_sync(const trn_chip *c, int k, int i) {
    const trn_program *p = c->p[k];
    while (i < p->ninstrs && c->group_of[k][i] < 0) i++;
    return i;
}

enum { RUNNING, BLOCKED, DONE };

/* The deadlock fault: every blocked core, its instruction, and the members it waits for. */
static trn_status deadlock(trn_chip *c, const int *state, const int *at, trn_err *err) {
    char msg[TRN_ERRMSG_MAX];
    size_t m = 0;
#define PUT(...)                                                                         \
    do {                                                                                 \
        if (m < sizeof msg) m += (size_t)snprintf(msg + m, sizeof msg - m, __VA_ARGS__); \
    } while (0)
    msg[0] = 0;
    int first = -1, nblocked = 0;
    for (int k = 0; k < c->n; k++) {
        if (state[k] != BLOCKED) continue;
        if (first < 0) first = k;
        const trn_program *p = c->p[k];
        const trn_instr *in = &p->instrs[at[k]];
        const chip_group *g = &c->groups[c->group_of[k][at[k]]];
        PUT("%score %d waits at line %u %s (cores", nblocked++ ? "; " : "", k, (unsigned)in->line,
            trn_isa_op_get(in->op)->name);
        for (int d = 0; d < c->n; d++)
            if ((g->mask >> d) & 1) PUT(" %d", d);
        PUT(") for");
        int any = 0;
        for (int d = 0; d < c->n; d++) {
            if (!((g->mask >> d) & 1)) continue;
            if (state[d] == BLOCKED && at[d] == g->instr[d]) continue; /* arrived */
            PUT("%s core %d", any++ ? "," : "", d);
            if (state[d] == DONE)
                PUT(" (it finished its program without reaching a matching %s)",
                    trn_isa_op_get(in->op)->name);
            else if (state[d] == BLOCKED)
                PUT(" (blocked at line %u %s)", (unsigned)c->p[d]->instrs[at[d]].line,
                    trn_isa_op_get(c->p[d]->instrs[at[d]].op)->name);
        }
    }
#undef PUT
    const trn_program *p = c->p[first];
    const trn_instr *in = &p->instrs[at[first]];
    trn_fault *f = &c->fault;
    memset(f, 0, sizeof *f);
    c->has_fault = 1;
    c->fault_core = first;
    f->status = TRN_E_FAULT;
    f->instr = at[first];
    f->op = in->op;
    f->engine = in->engine;
    f->line = in->line;
    f->cycle = -1;
    snprintf(f->msg, sizeof f->msg, "%.100s: deadlock of %d cores: %.340s",
             p->source_path ? p->source_path : p->name, c->n, msg);
    return trn_err_set(err, TRN_E_FAULT, "%s", msg[0] ? f->msg : "deadlock");
}

/* A core's own fault: remembered with its core, the message prefixed with it. */
static trn_status core_failed(trn_chip *c, int k, trn_status st, trn_err *err) {
    const trn_fault *f = trn_core_fault(c->core[k]);
    if (f) {
        c->has_fault = 1;
        c->fault_core = k;
        c->fault = *f;
    }
    if (c->n > 1) trn_err_prefix(err, "core %d: ", k);
    return st;
}

/* Carries out group g, every member arrived. */
static trn_status perform(trn_chip *c, int g, trn_err *err) {
    const chip_group *G = &c->groups[g];
    int members[CHIP_MAX_CORES] = {0}, nm = 0;
    for (int d = 0; d < c->n; d++)
        if ((G->mask >> d) & 1) members[nm++] = d;
    if (G->kind == CHIP_SENDRECV) {
        trn_core_tile tiles[CHIP_MAX_CORES];
        memset(tiles, 0, sizeof tiles);
        trn_status st = TRN_OK;
        int k = 0;
        for (; k < nm && st == TRN_OK; k++) {
            int d = members[k];
            st = trn_core_tile_get(c->core[d], G->instr[d], "src", &tiles[d], err);
            if (st) st = core_failed(c, d, st, err);
        }
        for (int j = 0; j < nm && st == TRN_OK; j++) {
            int d = members[j], r = G->to[d];
            st = trn_core_tile_put(c->core[r], G->instr[r], "dst", &tiles[d], d, err);
            if (st) st = core_failed(c, r, st, err);
        }
        for (int j = 0; j < nm; j++) trn_core_tile_fini(&tiles[members[j]]);
        if (st) return st;
    }
    trn_hbm_race_sync(c->race, members, nm);
    for (int j = 0; j < nm; j++) trn_core_skip(c->core[members[j]]);
    return TRN_OK;
}

trn_status trn_chip_run(trn_chip *c, trn_err *err) {
    if (c->ran) return trn_err_set(err, TRN_E_INVALID, "chip: a chip runs its programs once");
    c->ran = 1;
    trn_status st = ensure_cores(c, err);
    if (st == TRN_OK) st = trn_core_check_inputs(c->core[0], err);
    if (st) return st;
    int *state = calloc((size_t)c->n, sizeof *state), *at = calloc((size_t)c->n, sizeof *at);
    int *arrived = calloc((size_t)(c->ng ? c->ng : 1), sizeof *arrived);
    if (!state || !at || !arrived) {
        free(state);
        free(at);
        free(arrived);
        return trn_err_set(err, TRN_E_NOMEM, "chip: out of memory");
    }
    for (;;) {
        int moved = 0, done = 0;
        for (int k = 0; k < c->n && st == TRN_OK; k++) {
            if (state[k] != RUNNING) continue;
            int stop = next_sync(c, k, trn_core_next(c->core[k]));
            st = trn_core_run_to(c->core[k], stop, err);
            if (st) {
                st = core_failed(c, k, st, err);
                break;
            }
            moved = 1;
            if (stop >= c->p[k]->ninstrs) {
                state[k] = DONE;
            } else {
                state[k] = BLOCKED;
                at[k] = stop;
                arrived[c->group_of[k][stop]]++;
            }
        }
        for (int g = 0; g < c->ng && st == TRN_OK; g++) {
            if (arrived[g] < c->groups[g].size) continue;
            st = perform(c, g, err);
            arrived[g] = -1; /* carried out */
            for (int d = 0; d < c->n; d++)
                if ((c->groups[g].mask >> d) & 1) state[d] = RUNNING;
            moved = 1;
        }
        if (st) break;
        for (int k = 0; k < c->n; k++) done += state[k] == DONE;
        if (done == c->n) break;
        if (!moved) {
            st = deadlock(c, state, at, err);
            break;
        }
    }
    free(state);
    free(at);
    free(arrived);
    return st;
}

const trn_fault *trn_chip_fault(const trn_chip *c, int *core) {
    if (!c->has_fault) return NULL;
    if (core) *core = c->fault_core;
    return &c->fault;
}

uint64_t trn_chip_instr_count(const trn_chip *c, int core, trn_engine e) {
    uint64_t n = 0;
    for (int k = 0; k < c->n; k++)
        if ((core < 0 || core == k) && c->core[k]) n += trn_core_instr_count(c->core[k], e);
    return n;
}

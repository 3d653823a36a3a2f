/* Helpers shared by the functional core tests: assemble + verify a kernel for a catalog core
 * version, create a core, bind and read HBM tensors by name, run. */
#ifndef TRN_TEST_CORE_UTIL_H
#define TRN_TEST_CORE_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "trnsim/core.h"
#include "trnsim/trnsim.h"

static trn_hw *ct_hw_;

static inline const trn_isa_target *ct_target(int version) {
    static trn_isa_target t[8];
    if (!ct_hw_ && trn_hw_create(&ct_hw_, NULL) != TRN_OK) abort();
    char name[16];
    snprintf(name, sizeof name, "v%d", version);
    const trn_hw_core *c = trn_hw_core_get(ct_hw_, name);
    if (!c || trn_isa_target_from_core(c, &t[version], NULL) != TRN_OK) abort();
    return &t[version];
}

/* Assembles and verifies `text` (or, with text NULL, the file `path`); aborts the test
 * program with the message on failure (a test kernel that does not assemble is a bug). */
static inline trn_program *ct_prog(const char *text, const char *path, int version) {
    trn_asm_opts o = {0};
    o.core_version = version;
    trn_program *p = NULL;
    trn_err err = {0};
    trn_status s = text ? trn_program_assemble(text, path, &o, &p, &err)
                        : trn_program_assemble_file(path, &o, &p, &err);
    if (s == TRN_OK) s = trn_program_verify(p, ct_target(version), &err);
    if (s != TRN_OK) {
        fprintf(stderr, "test kernel does not assemble: %s\n", err.msg);
        exit(2);
    }
    return p;
}

static inline trn_core *ct_core(const trn_program *p, int version, const trn_core_opts *o) {
    trn_core *c = NULL;
    if (trn_core_create(p, ct_target(version), o, &c, NULL) != TRN_OK) abort();
    return c;
}

static inline void ct_put(trn_core *c, const char *name, const double *v, size_t n) {
    int t = trn_core_tensor_find(c, name);
    if (t < 0 || trn_core_tensor_write(c, t, v, n, NULL) != TRN_OK) {
        fprintf(stderr, "cannot bind %s\n", name);
        exit(2);
    }
}

/* Reads output `name` into v[n]; returns the count of elements never written. */
static inline size_t ct_get(trn_core *c, const char *name, double *v, size_t n) {
    size_t un = 0;
    int t = trn_core_tensor_find(c, name);
    if (t < 0 || trn_core_tensor_read(c, t, v, n, &un, NULL) != TRN_OK) {
        fprintf(stderr, "cannot read %s\n", name);
        exit(2);
    }
    return un;
}

/* One bound input or read output of a run. */
typedef struct ct_io {
    const char *name;
    double *v;
    size_t n;
} ct_io;

/* The outcome of one run: status, the fault record and the error text. */
typedef struct ct_outcome {
    trn_status s;
    trn_fault f;
    char msg[512];
} ct_outcome;

/* Assembles `k` (as "k.tasm") for core version `ver`, binds `ins`, runs, and on success reads
 * `outs` (each must be written in full). */
static inline ct_outcome ct_exec(const char *k, int ver, const ct_io *ins, int nin,
                                 const ct_io *outs, int nout) {
    ct_outcome r;
    memset(&r, 0, sizeof r);
    trn_program *p = ct_prog(k, "k.tasm", ver);
    trn_core *c = ct_core(p, ver, NULL);
    for (int i = 0; i < nin; i++) ct_put(c, ins[i].name, ins[i].v, ins[i].n);
    trn_err err = {0};
    r.s = trn_core_run(c, &err);
    if (r.s != TRN_OK) {
        snprintf(r.msg, sizeof r.msg, "%s", err.msg);
        if (trn_core_fault(c)) r.f = *trn_core_fault(c);
    }
    for (int i = 0; r.s == TRN_OK && i < nout; i++)
        CHECK_EQ_INT(ct_get(c, outs[i].name, outs[i].v, outs[i].n), 0);
    trn_core_destroy(c);
    trn_program_destroy(p);
    return r;
}

/* Fills each .input of p (on c) with values from `seed` fitting its dtype. */
static inline void ct_bind_random(trn_core *c, const trn_program *p, uint64_t seed) {
    for (int i = 0; i < p->ntensors; i++) {
        const trn_tensor *t = &p->tensors[i];
        if (t->role != TRN_ROLE_INPUT) continue;
        size_t n = 1;
        for (int d = 0; d < t->rank; d++) n *= (size_t)t->shape[d];
        double *v = malloc(n * sizeof *v);
        for (size_t e = 0; e < n; e++) {
            uint64_t r = test_rnd64(&seed);
            v[e] = t->packed ? (double)(r & 0xffffffu)
                   : trn_dtype_is_int(t->dtype)
                       ? (double)(r % 8)
                       : ((double)(r >> 11) / 9007199254740992.0 - 0.5) * 4;
        }
        CHECK_EQ_INT(trn_core_tensor_write(c, i, v, n, NULL), TRN_OK);
        free(v);
    }
}

static inline void ct_done(void) {
    trn_hw_destroy(ct_hw_);
    ct_hw_ = NULL;
}

/* Round-to-nearest-even FP32 -> BF16 -> FP32, written independently of the library. */
static inline float ct_bf16(float x) {
    uint32_t u = test_f32_bits(x);
    if ((u & 0x7F800000u) == 0x7F800000u) return x;
    u = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;
    return test_f32_from_bits(u);
}

/* Uniform float in [lo, hi). */
static inline float ct_uniform(uint64_t *s, float lo, float hi) {
    return lo + (hi - lo) * (float)((double)(test_rnd64(s) >> 11) / 9007199254740992.0);
}

#endif

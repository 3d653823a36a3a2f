/* Helpers shared by the isa tests: assemble text, verify for a catalog core version, print a
 * program to a string, serialize. */
#ifndef TRN_ISA_TEST_UTIL_H
#define TRN_ISA_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isa/isa_impl.h"
#include "trnsim/isa.h"

static trn_hw *test_hw_;

static inline const trn_isa_target *test_target(int version) {
    static trn_isa_target t[8];
    if (!test_hw_ && trn_hw_create(&test_hw_, NULL) != TRN_OK) abort();
    char name[16];
    if (version < 2 || version > 7) abort();
    snprintf(name, sizeof name, "v%d", version);
    const trn_hw_core *c = trn_hw_core_get(test_hw_, name);
    if (!c || trn_isa_target_from_core(c, &t[version], NULL) != TRN_OK) abort();
    return &t[version];
}

static inline void test_hw_done(void) {
    trn_hw_destroy(test_hw_);
    test_hw_ = NULL;
}

/* Assembles `text` as "k.tasm" for core `version` (0: the file's choice); returns the status
 * and leaves the message in err. */
static inline trn_status test_asm(const char *text, int version, trn_program **p, trn_err *err) {
    trn_asm_opts o = {0};
    o.core_version = version;
    memset(err, 0, sizeof *err);
    return trn_program_assemble(text, "k.tasm", &o, p, err);
}

/* Assembles and verifies for `version`; TRN_OK or the first error. */
static inline trn_status test_check(const char *text, int version, trn_err *err) {
    trn_program *p = NULL;
    trn_status s = test_asm(text, version, &p, err);
    if (s == TRN_OK) s = trn_program_verify(p, test_target(version), err);
    trn_program_destroy(p);
    return s;
}

/* The disassembly of p as a malloc'd string. */
static inline char *test_disasm(const trn_program *p) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f) abort();
    trn_program_disasm(p, f);
    fclose(f);
    return buf;
}

/* 1 when p disassembles to text that assembles back to the same .tprog bytes. */
static inline int test_roundtrip(const trn_program *p) {
    void *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    trn_program *q = NULL;
    trn_err e = {0};
    char *text = test_disasm(p);
    int ok = trn_program_to_tprog(p, &a, &na, &e) == TRN_OK &&
             trn_program_assemble(text, "disasm.tasm", NULL, &q, &e) == TRN_OK &&
             trn_program_to_tprog(q, &b, &nb, &e) == TRN_OK && na == nb && memcmp(a, b, na) == 0;
    if (!ok) fprintf(stderr, "round trip failed (%s):\n%s\n", e.msg, text);
    free(text);
    free(a);
    free(b);
    trn_program_destroy(q);
    return ok;
}

#endif

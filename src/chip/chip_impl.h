/* Private header of the chip layer: the chip object, its programs, cores and timings, and the
 * matched cross-core sync groups (chip.c), shared by the functional run (run.c) and the reports
 * (report.c). */
#ifndef TRN_CHIP_IMPL_H
#define TRN_CHIP_IMPL_H

#include <stdarg.h>
#include <stdint.h>

#include "trnsim/chip.h"

/* Cores of one grid: a core set is a 64-bit mask (the largest catalog chip has 24). */
#define CHIP_MAX_CORES 64

enum { CHIP_BARRIER, CHIP_SENDRECV };

/* One sync group: the instructions of several cores that proceed together. */
typedef struct chip_group {
    int kind;                      /* CHIP_BARRIER or CHIP_SENDRECV */
    uint64_t mask;                 /* member cores (a member may lack the instruction) */
    int size;                      /* members */
    int32_t instr[CHIP_MAX_CORES]; /* each member's instruction, -1 when it has none */
    int8_t to[CHIP_MAX_CORES];     /* sendrecv: the core each member sends to */
} chip_group;

struct trn_chip {
    const trn_hw_chip *hw; /* borrowed */
    int n, lnc;
    trn_isa_target target;
    trn_core_opts copts;
    trn_program **p;     /* n, owned */
    trn_core **core;     /* n, created by the functional run (core 0 owns the HBM) */
    trn_timing **tm;     /* n, after trn_chip_time */
    trn_hbm_race *race;  /* the functional run's race check */
    int32_t **group_of;  /* n x ninstrs: sync group of each instruction, -1 */
    int32_t *group_size; /* ng */
    chip_group *groups;  /* ng */
    int ng, gcap;
    int ran;
    int has_fault, fault_core;
    trn_fault fault; /* a deadlock or a matching fault (a core's own fault stays in the core) */
};

#endif

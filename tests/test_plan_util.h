/* Shared by the planner's tests: the hardware catalog (hw, loaded by the test's main) and
 * loaders that stop the test on an error (a catalog model, a machine of a catalog system). */
#ifndef TRN_TEST_PLAN_UTIL_H
#define TRN_TEST_PLAN_UTIL_H

#include <stdio.h>
#include <stdlib.h>

#include "trnsim/hw.h"
#include "trnsim/model.h"
#include "trnsim/plan.h"

static trn_hw *hw;

static inline trn_model *load(const char *name) {
    trn_model *m = NULL;
    trn_err err = {0};
    if (trn_model_load(name, &m, &err) != TRN_OK) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    return m;
}

static inline trn_plan_machine *machine(const char *sys, int64_t chips) {
    trn_plan_machine *m = NULL;
    trn_err err = {0};
    if (trn_plan_machine_create(trn_hw_system_get(hw, sys), chips, &m, &err) != TRN_OK) {
        fprintf(stderr, "%s: %s\n", sys, err.msg);
        exit(1);
    }
    return m;
}

#endif

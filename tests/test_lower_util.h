/* Helpers of the lowering tests: compile a lowered op for a catalog core version, bind inputs
 * by name, run it on the functional core, read outputs. */
#ifndef TRN_TEST_LOWER_UTIL_H
#define TRN_TEST_LOWER_UTIL_H

#include "test_core_util.h"
#include "trnsim/lower.h"

/* Compiles op for NeuronCore-v`ver`; aborts the test program on failure. */
static inline trn_program *lt_compile(const trn_lower_op *op, int ver) {
    trn_program *p = NULL;
    trn_err err = {0};
    if (trn_lower_compile(op, ct_target(ver), &p, &err) != TRN_OK) {
        fprintf(stderr, "lowering failed: %s\n", err.msg);
        exit(2);
    }
    return p;
}

static inline void lt_run(trn_core *c, const char *what) {
    trn_err err = {0};
    trn_status s = trn_core_run(c, &err);
    CHECK_MSG(s == TRN_OK, "%s: %s", what, err.msg);
}

/* The value a float takes in dtype t (RNE). */
static inline float lt_round(trn_dtype t, float x) {
    trn_cvt_opts o;
    memset(&o, 0, sizeof o);
    return trn_cvt_to_f32(t, trn_cvt_from_f32(t, x, &o, 0));
}

/* Largest |got - ref| / max(|ref|, floor) over n values. */
static inline double lt_max_rel(const double *got, const float *ref, size_t n, double floor_) {
    double w = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(got[i] - ref[i]) / fmax(fabs(ref[i]), floor_);
        if (!(d <= w)) w = d;
    }
    return w;
}

#endif

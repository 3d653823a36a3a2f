/* Training internals shared with the search (src/plan/search.c). */
#ifndef TRN_PLAN_TRAIN_IMPL_H
#define TRN_PLAN_TRAIN_IMPL_H

#include "plan_impl.h"

trn_status plan_train_check(const plan_model *pm, const trn_plan_train *w, const trn_plan_config *c,
                            int64_t chips, trn_err *err);
void plan_train_memory(const trn_plan_machine *m, const plan_model *pm, const trn_plan_train *w,
                       const trn_plan_config *c, int rc, trn_plan_memory *out);
trn_status plan_train_eval(const trn_plan_machine *m, const plan_model *pm,
                           const trn_model_flops *fl, const trn_plan_train *w,
                           const trn_plan_config *c, int rc, trn_plan_train_result *out,
                           trn_err *err);
trn_status plan_train_prepare(const trn_plan_machine *m, const trn_model *model,
                              const trn_plan_train *w, plan_model *pm, trn_model_flops *fl,
                              trn_err *err);

#endif

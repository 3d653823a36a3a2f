/* ROUTER, GLU_OAI, ACT: not lowered yet (being written). */
#include "lower_impl.h"

trn_status lw_router(lw *e, trn_err *err) {
    (void)e;
    return trn_err_set(err, TRN_E_UNSUPPORTED, "router: not lowered yet");
}
trn_status lw_glu_oai(lw *e, trn_err *err) {
    (void)e;
    return trn_err_set(err, TRN_E_UNSUPPORTED, "glu_oai: not lowered yet");
}
trn_status lw_act(lw *e, trn_err *err) {
    (void)e;
    return trn_err_set(err, TRN_E_UNSUPPORTED, "act: not lowered yet");
}

/* EMBED: not lowered yet (being written). */
#include "lower_impl.h"

trn_status lw_embed(lw *e, trn_err *err) {
    (void)e;
    return trn_err_set(err, TRN_E_UNSUPPORTED, "embed: not lowered yet");
}

/* The hardware catalog: loading and validation of hw/<name>.json. */
#include "hw_impl.h"

#include <stdlib.h>

struct trn_hw {
    int nfiles;
};

trn_status trn_hw_create(trn_hw **out, trn_err *err) {
    (void)err;
    *out = calloc(1, sizeof **out);
    if (!*out) return trn_err_set(err, TRN_E_NOMEM, "out of memory");
    for (int i = 0; trn_hw_embedded_files[i].name; i++) (*out)->nfiles++;
    return TRN_OK;
}

trn_status trn_hw_load_file(trn_hw *hw, const char *path, trn_err *err) {
    (void)hw;
    return trn_err_set(err, TRN_E_UNSUPPORTED, "%s: hardware files are not loaded yet", path);
}

void trn_hw_destroy(trn_hw *hw) {
    free(hw);
}

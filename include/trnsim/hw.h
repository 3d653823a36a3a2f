/* trnsim hardware catalog: NeuronCore versions, chips, systems and GPUs as data (hw/<name>.json,
 * embedded in the binary, overridable with --hw FILE). Every number carries its source. */
#ifndef TRNSIM_HW_H
#define TRNSIM_HW_H

#include "trnsim/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct trn_hw trn_hw;

/* Creates the catalog from the embedded hw/<name>.json. *out is taken by the caller
 * (trn_hw_destroy); NULL on failure. */
trn_status trn_hw_create(trn_hw **out, trn_err *err);
/* Adds or overrides entries from a JSON file (path borrowed). Errors name the file and the
 * JSON path of the offending field; the catalog is unchanged on failure. */
trn_status trn_hw_load_file(trn_hw *hw, const char *path, trn_err *err);
void trn_hw_destroy(trn_hw *hw); /* NULL is a no-op */

#ifdef __cplusplus
}
#endif
#endif

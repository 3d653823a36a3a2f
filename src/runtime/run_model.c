/* The runner's model source (run.h): an HF checkpoint directory or a catalog name, its
 * weights (loaded, or seeded random), its tokenizer. Left out: downloading checkpoints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "trnsim/graph.h"
#include "trnsim/run.h"

struct trn_run_model {
    trn_model *model;
    trn_weights *weights;
    trn_tokenizer *tok;
    int random;
};

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

trn_status trn_run_model_open(const char *dir_or_name, int timing_only, uint64_t seed,
                              trn_run_model **out, trn_err *err) {
    *out = NULL;
    if (!dir_or_name || !*dir_or_name)
        return trn_err_set(err, TRN_E_INVALID, "run: no model given");
    trn_run_model *rm = calloc(1, sizeof *rm);
    if (!rm) return trn_err_set(err, TRN_E_NOMEM, "run: out of memory");
    trn_status s;
    if (is_dir(dir_or_name)) {
        char path[4096];
        snprintf(path, sizeof path, "%s/config.json", dir_or_name);
        if (!is_file(path)) {
            s = trn_err_set(err, TRN_E_NOTFOUND,
                            "%s: no config.json (expected a Hugging Face "
                            "checkpoint directory)",
                            dir_or_name);
            goto fail;
        }
        if ((s = trn_model_load(path, &rm->model, err)) != TRN_OK) goto fail;
        if (!timing_only &&
            (s = trn_weights_load(rm->model, dir_or_name, &rm->weights, err)) != TRN_OK)
            goto fail;
        snprintf(path, sizeof path, "%s/tokenizer.json", dir_or_name);
        if (is_file(path) && (s = trn_tokenizer_load(path, &rm->tok, err)) != TRN_OK) goto fail;
    } else if (is_file(dir_or_name)) { /* a config.json: seeded random weights */
        if ((s = trn_model_load(dir_or_name, &rm->model, err)) != TRN_OK) goto fail;
        if (!timing_only) {
            if ((s = trn_weights_random(rm->model, seed, 0.02, &rm->weights, err)) != TRN_OK)
                goto fail;
            rm->random = 1;
        }
    } else {
        if (strchr(dir_or_name, '/')) {
            s = trn_err_set(err, TRN_E_NOTFOUND,
                            "%s: no such directory (expected a Hugging "
                            "Face checkpoint directory or a catalog model name)",
                            dir_or_name);
            goto fail;
        }
        if ((s = trn_model_load(dir_or_name, &rm->model, err)) != TRN_OK) goto fail;
        if (!timing_only) {
            s = trn_weights_random(rm->model, seed, 0.02, &rm->weights, err);
            if (s == TRN_E_UNSUPPORTED) {
                size_t n = strlen(err->msg);
                snprintf(err->msg + n, sizeof err->msg - n,
                         "; run it with --timing-only (full size, no weights) or pick a "
                         "smaller model");
            }
            if (s != TRN_OK) goto fail;
            rm->random = 1;
        }
    }
    *out = rm;
    return TRN_OK;
fail:
    trn_run_model_close(rm);
    return s;
}

void trn_run_model_close(trn_run_model *rm) {
    if (!rm) return;
    trn_tokenizer_destroy(rm->tok);
    trn_weights_destroy(rm->weights);
    trn_model_destroy(rm->model);
    free(rm);
}

const trn_model *trn_run_model_model(const trn_run_model *rm) {
    return rm->model;
}
const trn_weights *trn_run_model_weights(const trn_run_model *rm) {
    return rm->weights;
}
int trn_run_model_random(const trn_run_model *rm) {
    return rm->random;
}
int trn_run_model_has_tokenizer(const trn_run_model *rm) {
    return rm->tok != NULL;
}

trn_status trn_run_model_save(const trn_run_model *rm, const char *path, trn_err *err) {
    if (!rm->weights)
        return trn_err_set(err, TRN_E_INVALID, "run: no weights to save (timing-only)");
    return trn_weights_save(rm->weights, path, TRN_IO_F32, err);
}

trn_status trn_run_model_encode(const trn_run_model *rm, const char *text, int32_t **ids,
                                int64_t *n, trn_err *err) {
    *ids = NULL, *n = 0;
    if (!rm->tok)
        return trn_err_set(err, TRN_E_UNSUPPORTED,
                           "%s has no tokenizer.json: give the prompt as --tokens ID,ID,...",
                           trn_model_config_of(rm->model)->name);
    return trn_tokenizer_encode(rm->tok, text, strlen(text), ids, n, err);
}

trn_status trn_run_model_decode(const trn_run_model *rm, const int32_t *ids, int64_t n, char **text,
                                trn_err *err) {
    *text = NULL;
    if (!rm->tok) return trn_err_set(err, TRN_E_UNSUPPORTED, "no tokenizer");
    return trn_tokenizer_decode(rm->tok, ids, n, text, err);
}

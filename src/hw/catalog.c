/* The hardware catalog object: creation from the embedded hw/<name>.json files, the string arena,
 * lookups by name, and the reference checks that run after every load (chip -> core version,
 * system -> chip or GPU, system -> node). Parsing and validation of the JSON are in load.c. */
#include "hw_impl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const dtype_names[TRN_HW_NDTYPES] = {
    "fp32", "tf32", "bf16", "fp16", "fp8", "mxfp8", "mxfp4", "int8", "sparse",
};

const char *trn_hw_dtype_name(trn_hw_dtype dt) {
    return (unsigned)dt < TRN_HW_NDTYPES ? dtype_names[dt] : NULL;
}

static int name_eq(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

int trn_hw_dtype_from_name(const char *name) {
    for (int i = 0; i < TRN_HW_NDTYPES; i++)
        if (name_eq(name, dtype_names[i])) return i;
    return -1;
}

const char *trn_hw_kind_name(trn_hw_kind kind) {
    return (unsigned)kind < HW_NKINDS ? hw_kinds[kind].what : "?";
}

const char *hw_strdup(trn_hw *hw, const char *s) {
    size_t n = strlen(s);
    hw_str *b = malloc(sizeof *b + n + 1);
    if (!b) return NULL;
    memcpy(b->text, s, n + 1);
    b->next = hw->strings;
    hw->strings = b;
    return b->text;
}

void *hw_lookup(const trn_hw *hw, int kind, const char *name) {
    for (int i = 0; i < hw->n[kind]; i++)
        if (name_eq(HW_NAME(hw->items[kind][i]), name)) return hw->items[kind][i];
    return NULL;
}

void *hw_append(trn_hw *hw, int kind, const char *name) {
    if (hw->n[kind] == hw->cap[kind]) {
        int cap = hw->cap[kind] ? 2 * hw->cap[kind] : 8;
        void **items = realloc(hw->items[kind], (size_t)cap * sizeof *items);
        if (!items) return NULL;
        hw->items[kind] = items;
        hw->cap[kind] = cap;
    }
    void *e = calloc(1, hw_kinds[kind].size);
    const char *copy = hw_strdup(hw, name);
    if (!e || !copy) {
        free(e);
        return NULL;
    }
    *(const char **)e = copy; /* the name is every entry's first member */
    hw->items[kind][hw->n[kind]++] = e;
    return e;
}

void hw_path_join(char *dst, size_t n, const char *base, const char *key) {
    int plain = *key != '\0';
    for (const char *p = key; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-') plain = 0;
    if (plain)
        snprintf(dst, n, "%s.%s", base, key);
    else
        snprintf(dst, n, "%s[\"%s\"]", base, key);
}

trn_status trn_hw_create(trn_hw **out, trn_err *err) {
    *out = NULL;
    trn_hw *hw = calloc(1, sizeof *hw);
    if (!hw) return trn_err_set(err, TRN_E_NOMEM, "out of memory");
    /* Files may refer to each other (chips.json names core versions of cores.json), so the
     * references are checked once, after the last file. */
    for (int i = 0; trn_hw_embedded_files[i].name; i++) {
        char file[128];
        snprintf(file, sizeof file, "hw/%s", trn_hw_embedded_files[i].name);
        trn_status s = hw_load_text(hw, file, trn_hw_embedded_files[i].text, 0, err);
        if (s != TRN_OK) {
            trn_hw_destroy(hw);
            return s;
        }
    }
    trn_status s = hw_resolve(hw, NULL, err);
    if (s != TRN_OK) {
        trn_hw_destroy(hw);
        return s;
    }
    *out = hw;
    return TRN_OK;
}

trn_status trn_hw_load_string(trn_hw *hw, const char *file, const char *json, trn_err *err) {
    return hw_load_text(hw, file, json, 1, err);
}

trn_status trn_hw_load_file(trn_hw *hw, const char *path, trn_err *err) {
    void *data = NULL;
    size_t size = 0;
    trn_status s = trn_file_read(path, &data, &size, err);
    if (s != TRN_OK) return s;
    if (strlen(data) != size) {
        free(data);
        return trn_err_set(err, TRN_E_PARSE, "%s: malformed JSON: contains a NUL byte", path);
    }
    s = hw_load_text(hw, path, data, 1, err);
    free(data);
    return s;
}

void trn_hw_destroy(trn_hw *hw) {
    if (!hw) return;
    for (int k = 0; k < HW_NKINDS; k++) {
        for (int i = 0; i < hw->n[k]; i++) free(hw->items[k][i]);
        free(hw->items[k]);
    }
    for (hw_str *b = hw->strings, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(hw);
}

const trn_hw_core *trn_hw_core_get(const trn_hw *hw, const char *name) {
    return hw_lookup(hw, TRN_HW_KIND_CORE, name);
}
const trn_hw_chip *trn_hw_chip_get(const trn_hw *hw, const char *name) {
    return hw_lookup(hw, TRN_HW_KIND_CHIP, name);
}
const trn_hw_system *trn_hw_system_get(const trn_hw *hw, const char *name) {
    return hw_lookup(hw, TRN_HW_KIND_SYSTEM, name);
}
const trn_hw_gpu *trn_hw_gpu_get(const trn_hw *hw, const char *name) {
    return hw_lookup(hw, TRN_HW_KIND_GPU, name);
}

int trn_hw_count(const trn_hw *hw, trn_hw_kind kind) {
    return (unsigned)kind < HW_NKINDS ? hw->n[kind] : 0;
}

trn_hw_entry trn_hw_at(const trn_hw *hw, trn_hw_kind kind, int i) {
    trn_hw_entry e = {kind, {NULL}};
    if ((unsigned)kind >= HW_NKINDS || i < 0 || i >= hw->n[kind]) return e;
    const void *p = hw->items[kind][i];
    switch (kind) {
    case TRN_HW_KIND_CORE: e.u.core = p; break;
    case TRN_HW_KIND_CHIP: e.u.chip = p; break;
    case TRN_HW_KIND_SYSTEM: e.u.system = p; break;
    case TRN_HW_KIND_GPU: e.u.gpu = p; break;
    }
    return e;
}

const char *trn_hw_entry_name(trn_hw_entry e) {
    return e.u.core ? HW_NAME(e.u.core) : NULL;
}

/* Appends the names of one kind, comma-separated, to buf. */
static void list_names(const trn_hw *hw, int kind, char *buf, size_t n) {
    size_t len = strlen(buf);
    for (int i = 0; i < hw->n[kind] && len + 1 < n; i++) {
        int w = snprintf(buf + len, n - len, "%s%s", len ? ", " : "", HW_NAME(hw->items[kind][i]));
        if (w < 0) break;
        len += (size_t)w < n - len ? (size_t)w : n - len - 1;
    }
}

trn_status trn_hw_find(const trn_hw *hw, const char *name, trn_hw_entry *out, trn_err *err) {
    for (int k = 0; k < HW_NKINDS; k++)
        for (int i = 0; i < hw->n[k]; i++)
            if (name_eq(HW_NAME(hw->items[k][i]), name)) {
                *out = trn_hw_at(hw, (trn_hw_kind)k, i);
                return TRN_OK;
            }
    char known[TRN_ERRMSG_MAX - 64] = "";
    for (int k = 0; k < HW_NKINDS; k++) list_names(hw, k, known, sizeof known);
    return trn_err_set(err, TRN_E_NOTFOUND, "unknown hardware name '%s' (known: %s)", name, known);
}

/* "file: $.section.name.field: message" for a reference error. `file` is the file being
 * loaded (NULL: the embedded catalog); when the entry came from another file, that file is
 * named too, since the loaded file broke it. */
static trn_status ref_error(trn_err *err, const char *file, int kind, const void *e,
                            const char *field, const char *fmt, const char *a, const char *b) {
    char path[256], full[300];
    hw_path_join(path, sizeof path, "$", hw_kinds[kind].section);
    hw_path_join(full, sizeof full, path, HW_NAME(e));
    char msg[TRN_ERRMSG_MAX];
    snprintf(msg, sizeof msg, fmt, a, b);
    const char *efile = *HW_CAT(e, hw_kinds[kind].off_file, const char *);
    if (!file || strcmp(file, efile) == 0)
        return trn_err_set(err, TRN_E_PARSE, "%s: %s.%s: %s", efile, full, field, msg);
    return trn_err_set(err, TRN_E_PARSE, "%s: %s.%s: %s (%s is defined in %s)", file, full, field,
                       msg, HW_NAME(e), efile);
}

trn_status hw_resolve(trn_hw *hw, const char *file, trn_err *err) {
    char known[256];
    for (int i = 0; i < hw->n[TRN_HW_KIND_CHIP]; i++) {
        trn_hw_chip *c = hw->items[TRN_HW_KIND_CHIP][i];
        c->core = hw_lookup(hw, TRN_HW_KIND_CORE, c->core_version);
        if (!c->core) {
            known[0] = '\0';
            list_names(hw, TRN_HW_KIND_CORE, known, sizeof known);
            return ref_error(err, file, TRN_HW_KIND_CHIP, c, "core_version",
                             "unknown core version '%s' (known: %s)", c->core_version, known);
        }
    }
    for (int i = 0; i < hw->n[TRN_HW_KIND_SYSTEM]; i++) {
        trn_hw_system *s = hw->items[TRN_HW_KIND_SYSTEM][i];
        s->chip = hw_lookup(hw, TRN_HW_KIND_CHIP, s->chip_name);
        s->gpu = s->chip ? NULL : hw_lookup(hw, TRN_HW_KIND_GPU, s->chip_name);
        if (!s->chip && !s->gpu) {
            known[0] = '\0';
            list_names(hw, TRN_HW_KIND_CHIP, known, sizeof known);
            list_names(hw, TRN_HW_KIND_GPU, known, sizeof known);
            return ref_error(err, file, TRN_HW_KIND_SYSTEM, s, "chip",
                             "unknown chip or GPU '%s' (known: %s)", s->chip_name, known);
        }
    }
    /* Second pass: nodes and cross-field checks need every system's chip resolved. */
    for (int i = 0; i < hw->n[TRN_HW_KIND_SYSTEM]; i++) {
        trn_hw_system *s = hw->items[TRN_HW_KIND_SYSTEM][i];
        s->node = NULL;
        if (s->node_name) {
            const trn_hw_system *node = hw_lookup(hw, TRN_HW_KIND_SYSTEM, s->node_name);
            if (!node) {
                known[0] = '\0';
                list_names(hw, TRN_HW_KIND_SYSTEM, known, sizeof known);
                return ref_error(err, file, TRN_HW_KIND_SYSTEM, s, "node",
                                 "unknown system '%s' (known: %s)", s->node_name, known);
            }
            if (node == s || node->node_name)
                return ref_error(err, file, TRN_HW_KIND_SYSTEM, s, "node",
                                 "'%s' cannot be a node: it is this system or is itself built "
                                 "of nodes%s",
                                 s->node_name, "");
            if (node->chip != s->chip || node->gpu != s->gpu)
                return ref_error(err, file, TRN_HW_KIND_SYSTEM, s, "node",
                                 "node '%s' is built of other chips than '%s'", s->node_name,
                                 s->chip_name);
            if (node->chips.value > s->chips.value)
                return ref_error(err, file, TRN_HW_KIND_SYSTEM, s, "node",
                                 "node '%s' has more chips than this system%s", s->node_name, "");
            s->node = node;
        }
        char a[64], b[64];
        if (s->scaleup_domain.value > s->chips.value) {
            snprintf(a, sizeof a, "%.0f", s->scaleup_domain.value);
            snprintf(b, sizeof b, "%.0f", s->chips.value);
            return ref_error(err, file, TRN_HW_KIND_SYSTEM, s, "scaleup_domain",
                             "%s chips is more than the system's %s chips", a, b);
        }
        if (s->topology.kind == TRN_HW_TOPO_TORUS) {
            double prod = 1;
            for (int d = 0; d < s->topology.ndims; d++) prod *= s->topology.dims[d];
            if (prod != s->scaleup_domain.value) {
                snprintf(a, sizeof a, "%.0f", prod);
                snprintf(b, sizeof b, "%.0f", s->scaleup_domain.value);
                return ref_error(err, file, TRN_HW_KIND_SYSTEM, s, "topology.dims",
                                 "the torus has %s chips but scaleup_domain is %s", a, b);
            }
        }
    }
    return TRN_OK;
}

/* Loading hardware JSON into the catalog: strict validation driven by the field tables of
 * fields.c. Every error names the file and the JSON path of the offending value and says
 * what was expected ("my.json: $.chips.trn2.hbm_bw_bps: expected a positive number, got -1").
 * A file either applies completely or not at all: the catalog is snapshotted first and
 * restored on any error. */
#include "hw_impl.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 320

typedef struct ld {
    trn_hw *hw;
    const char *file; /* arena copy of the file name */
    trn_err *err;
} ld;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static trn_status
fail(ld *c, const char *path, const char *fmt, ...) {
    char msg[TRN_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return trn_err_set(c->err, TRN_E_PARSE, "%s: %s: %s", c->file, path, msg);
}

static trn_status nomem(ld *c) {
    return trn_err_set(c->err, TRN_E_NOMEM, "%s: out of memory", c->file);
}

/* An object whose keys are all different (cJSON keeps duplicate keys). */
static trn_status need_object(ld *c, const cJSON *v, const char *path, const char *what) {
    char t[64];
    if (!cJSON_IsObject(v))
        return fail(c, path, "expected %s, got %s", what, trn_json_describe(v, t, sizeof t));
    for (const cJSON *a = v->child; a; a = a->next)
        for (const cJSON *b = a->next; b; b = b->next)
            if (strcmp(a->string, b->string) == 0) {
                char p[PATH_MAX_LEN];
                hw_path_join(p, sizeof p, path, a->string);
                return fail(c, p, "duplicate field");
            }
    return TRN_OK;
}

static trn_status str_copy(ld *c, const char *s, const char **out) {
    *out = hw_strdup(c->hw, s);
    return *out ? TRN_OK : nomem(c);
}

/* {"value": V, "source"|"derived"|"assumed": "...", "note": "..."} into *out. */
static trn_status parse_num(ld *c, const cJSON *v, const char *path, unsigned flags,
                            trn_hw_num *out) {
    char t[64], p[PATH_MAX_LEN];
    if (!cJSON_IsObject(v))
        return fail(c, path,
                    "expected a number object {\"value\": N, \"source\"|\"derived\"|\"assumed\": "
                    "\"...\"}, got %s",
                    trn_json_describe(v, t, sizeof t));
    trn_status s = need_object(c, v, path, "an object");
    if (s != TRN_OK) return s;
    const cJSON *value = NULL, *prov = NULL, *note = NULL;
    trn_hw_origin origin = TRN_HW_ABSENT;
    int nprov = 0;
    for (const cJSON *m = v->child; m; m = m->next) {
        hw_path_join(p, sizeof p, path, m->string);
        trn_hw_origin o = TRN_HW_ABSENT;
        if (strcmp(m->string, "value") == 0) {
            value = m;
            continue;
        }
        if (strcmp(m->string, "source") == 0) o = TRN_HW_SOURCED;
        if (strcmp(m->string, "derived") == 0) o = TRN_HW_DERIVED;
        if (strcmp(m->string, "assumed") == 0) o = TRN_HW_ASSUMED;
        if (o != TRN_HW_ABSENT || strcmp(m->string, "note") == 0) {
            if (!cJSON_IsString(m) || !m->valuestring[0])
                return fail(c, p, "expected a non-empty string, got %s",
                            trn_json_describe(m, t, sizeof t));
            if (o == TRN_HW_ABSENT) {
                note = m;
            } else {
                prov = m;
                origin = o;
                nprov++;
            }
            continue;
        }
        return fail(c, p,
                    "unknown field (a number object has value, source, derived, assumed, "
                    "note)");
    }
    if (!value) return fail(c, path, "missing \"value\"");
    if (nprov != 1)
        return fail(c, path,
                    "needs exactly one of \"source\" (a trainium-facts.md key or a URL), "
                    "\"derived\" or \"assumed\" (with the reason)");
    const char *want = (flags & F_INT)
                           ? ((flags & F_ZERO) ? "a non-negative integer" : "a positive integer")
                       : (flags & F_FRAC) ? "a fraction in (0, 1]"
                       : (flags & F_ZERO) ? "a non-negative number"
                                          : "a positive number";
    if (!cJSON_IsNumber(value))
        return fail(c, path, "expected %s, got %s", want, trn_json_describe(value, t, sizeof t));
    double x = value->valuedouble;
    int ok = isfinite(x) && ((flags & F_ZERO) ? x >= 0 : x > 0);
    if (flags & F_INT) ok = ok && x == floor(x) && x <= 9007199254740992.0;
    if (flags & F_FRAC) ok = ok && x <= 1;
    if (!ok)
        return fail(c, path, "expected %s, got %s", want, trn_json_describe(value, t, sizeof t));
    trn_hw_num n = {x, origin, NULL, NULL, c->file};
    if ((s = str_copy(c, prov->valuestring, &n.source)) != TRN_OK) return s;
    if (note && (s = str_copy(c, note->valuestring, &n.note)) != TRN_OK) return s;
    *out = n;
    return TRN_OK;
}

/* {"bf16": {number object}, ...}: merges into arr[TRN_HW_NDTYPES]. */
static trn_status parse_map(ld *c, const cJSON *v, const char *path, trn_hw_num *arr) {
    trn_status s = need_object(c, v, path, "an object of data types (bf16, fp8, ...)");
    if (s != TRN_OK) return s;
    for (const cJSON *m = v->child; m; m = m->next) {
        char p[PATH_MAX_LEN];
        hw_path_join(p, sizeof p, path, m->string);
        int dt = trn_hw_dtype_from_name(m->string);
        if (dt < 0)
            return fail(c, p,
                        "unknown data type (expected fp32, tf32, bf16, fp16, fp8, mxfp8, mxfp4, "
                        "int8 or sparse)");
        if ((s = parse_num(c, m, p, 0, &arr[dt])) != TRN_OK) return s;
    }
    return TRN_OK;
}

static const char *const topo_kinds[] = {"torus", "switch", "ring", "fabric"};

/* {"kind": K, "dims": [..] | "switch_levels": N, provenance, "note"}: replaces *out. */
static trn_status parse_topo(ld *c, const cJSON *v, const char *path, trn_hw_topology *out) {
    char t[64], p[PATH_MAX_LEN];
    trn_status s = need_object(c, v, path, "a topology object {\"kind\": ..., \"source\": ...}");
    if (s != TRN_OK) return s;
    trn_hw_topology topo;
    memset(&topo, 0, sizeof topo);
    const cJSON *kind = NULL, *dims = NULL, *levels = NULL, *prov = NULL, *note = NULL;
    int nprov = 0;
    for (const cJSON *m = v->child; m; m = m->next) {
        hw_path_join(p, sizeof p, path, m->string);
        const char *k = m->string;
        if (strcmp(k, "kind") == 0) {
            kind = m;
        } else if (strcmp(k, "dims") == 0) {
            dims = m;
        } else if (strcmp(k, "switch_levels") == 0) {
            levels = m;
        } else if (strcmp(k, "source") == 0 || strcmp(k, "derived") == 0 ||
                   strcmp(k, "assumed") == 0 || strcmp(k, "note") == 0) {
            if (!cJSON_IsString(m) || !m->valuestring[0])
                return fail(c, p, "expected a non-empty string, got %s",
                            trn_json_describe(m, t, sizeof t));
            if (strcmp(k, "note") == 0) {
                note = m;
            } else {
                prov = m;
                nprov++;
                topo.prov.origin = k[0] == 's'   ? TRN_HW_SOURCED
                                   : k[0] == 'd' ? TRN_HW_DERIVED
                                                 : TRN_HW_ASSUMED;
            }
        } else {
            return fail(c, p,
                        "unknown field (a topology has kind, dims, switch_levels, source, "
                        "derived, assumed, note)");
        }
    }
    hw_path_join(p, sizeof p, path, "kind");
    if (!kind) return fail(c, p, "missing (torus, switch, ring or fabric)");
    int ki = -1;
    for (int i = 0; i < 4; i++)
        if (cJSON_IsString(kind) && strcmp(kind->valuestring, topo_kinds[i]) == 0) ki = i;
    if (ki < 0)
        return fail(c, p, "expected \"torus\", \"switch\", \"ring\" or \"fabric\", got %s%s%s",
                    cJSON_IsString(kind) ? "\"" : "",
                    cJSON_IsString(kind) ? kind->valuestring : trn_json_describe(kind, t, sizeof t),
                    cJSON_IsString(kind) ? "\"" : "");
    topo.kind = (trn_hw_topo_kind)ki;
    hw_path_join(p, sizeof p, path, "dims");
    if (topo.kind == TRN_HW_TOPO_TORUS && !dims)
        return fail(c, p, "missing (required for a torus)");
    if (topo.kind != TRN_HW_TOPO_TORUS && dims) return fail(c, p, "only a torus has dims");
    if (dims) {
        int n = cJSON_IsArray(dims) ? cJSON_GetArraySize(dims) : 0;
        if (n < 1 || n > 4)
            return fail(c, p, "expected an array of 1 to 4 positive integers, got %s",
                        trn_json_describe(dims, t, sizeof t));
        for (int i = 0; i < n; i++) {
            const cJSON *d = cJSON_GetArrayItem(dims, i);
            char pi[PATH_MAX_LEN + 16];
            snprintf(pi, sizeof pi, "%s[%d]", p, i);
            if (!cJSON_IsNumber(d) || d->valuedouble < 1 || d->valuedouble > 1e6 ||
                d->valuedouble != floor(d->valuedouble))
                return fail(c, pi, "expected a positive integer, got %s",
                            trn_json_describe(d, t, sizeof t));
            topo.dims[i] = (int)d->valuedouble;
        }
        topo.ndims = n;
    }
    hw_path_join(p, sizeof p, path, "switch_levels");
    if (topo.kind == TRN_HW_TOPO_SWITCH && !levels)
        return fail(c, p, "missing (required for a switch)");
    if (topo.kind != TRN_HW_TOPO_SWITCH && levels) return fail(c, p, "only a switch has levels");
    if (levels) {
        if (!cJSON_IsNumber(levels) || levels->valuedouble < 1 || levels->valuedouble > 8 ||
            levels->valuedouble != floor(levels->valuedouble))
            return fail(c, p, "expected an integer from 1 to 8, got %s",
                        trn_json_describe(levels, t, sizeof t));
        topo.switch_levels = (int)levels->valuedouble;
    }
    if (nprov != 1)
        return fail(c, path, "needs exactly one of \"source\", \"derived\" or \"assumed\"");
    topo.prov.file = c->file;
    if ((s = str_copy(c, prov->valuestring, &topo.prov.source)) != TRN_OK) return s;
    if (note && (s = str_copy(c, note->valuestring, &topo.prov.note)) != TRN_OK) return s;
    *out = topo;
    return TRN_OK;
}

static trn_status parse_fields(ld *c, void *entry, const hw_field *fields, const cJSON *obj,
                               const char *path) {
    char t[64], p[PATH_MAX_LEN];
    trn_status s;
    for (const cJSON *m = obj->child; m; m = m->next) {
        hw_path_join(p, sizeof p, path, m->string);
        const hw_field *f = fields;
        while (f->key && strcmp(f->key, m->string) != 0) f++;
        if (!f->key) return fail(c, p, "unknown field");
        switch (f->kind) {
        case FK_STR:
            if (!cJSON_IsString(m) || !m->valuestring[0])
                return fail(c, p, "expected a non-empty string, got %s",
                            trn_json_describe(m, t, sizeof t));
            if ((s = str_copy(c, m->valuestring, HW_AT(entry, f->off, const char *))) != TRN_OK)
                return s;
            break;
        case FK_BOOL:
            if (!cJSON_IsBool(m))
                return fail(c, p, "expected true or false, got %s",
                            trn_json_describe(m, t, sizeof t));
            *HW_AT(entry, f->off, int) = cJSON_IsTrue(m);
            break;
        case FK_NUM:
            if ((s = parse_num(c, m, p, f->flags, HW_AT(entry, f->off, trn_hw_num))) != TRN_OK)
                return s;
            break;
        case FK_MAP:
            if ((s = parse_map(c, m, p, HW_AT(entry, f->off, trn_hw_num))) != TRN_OK) return s;
            break;
        case FK_TOPO:
            if ((s = parse_topo(c, m, p, HW_AT(entry, f->off, trn_hw_topology))) != TRN_OK)
                return s;
            break;
        case FK_OBJ:
            if ((s = need_object(c, m, p, "an object")) != TRN_OK) return s;
            if ((s = parse_fields(c, entry, f->sub, m, p)) != TRN_OK) return s;
            break;
        }
    }
    return TRN_OK;
}

/* After parsing a new entry: every F_REQ field present. */
static trn_status check_required(ld *c, const void *entry, int kind, const char *path) {
    for (const hw_field *f = hw_kinds[kind].fields; f->key; f++) {
        if (!(f->flags & F_REQ)) continue;
        int have = 0;
        switch (f->kind) {
        case FK_STR: have = *HW_CAT(entry, f->off, const char *) != NULL; break;
        case FK_BOOL:
        case FK_OBJ: have = 1; break;
        case FK_NUM: have = HW_CAT(entry, f->off, trn_hw_num)->origin != TRN_HW_ABSENT; break;
        case FK_MAP:
            for (int d = 0; d < TRN_HW_NDTYPES; d++)
                if (HW_CAT(entry, f->off, trn_hw_num)[d].origin != TRN_HW_ABSENT) have = 1;
            break;
        case FK_TOPO:
            have = HW_CAT(entry, f->off, trn_hw_topology)->prov.origin != TRN_HW_ABSENT;
            break;
        }
        if (!have) {
            char p[PATH_MAX_LEN];
            hw_path_join(p, sizeof p, path, f->key);
            return fail(c, p, "missing (required for a new %s)", hw_kinds[kind].what);
        }
    }
    return TRN_OK;
}

static int good_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 63) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

static trn_status parse_section(ld *c, int kind, const cJSON *sec, const char *path) {
    char msg[80];
    snprintf(msg, sizeof msg, "an object of %ss by name", hw_kinds[kind].what);
    trn_status s = need_object(c, sec, path, msg);
    if (s != TRN_OK) return s;
    for (const cJSON *e = sec->child; e; e = e->next) {
        char p[PATH_MAX_LEN];
        hw_path_join(p, sizeof p, path, e->string);
        if (!good_name(e->string))
            return fail(c, p, "bad name (1 to 63 letters, digits, '.', '_' or '-')");
        snprintf(msg, sizeof msg, "a %s object", hw_kinds[kind].what);
        if ((s = need_object(c, e, p, msg)) != TRN_OK) return s;
        void *entry = hw_lookup(c->hw, kind, e->string);
        int is_new = entry == NULL;
        if (is_new) {
            for (int k = 0; k < HW_NKINDS; k++)
                if (k != kind && hw_lookup(c->hw, k, e->string))
                    return fail(c, p, "'%s' is already a %s (names are unique across the catalog)",
                                e->string, hw_kinds[k].what);
            if (!(entry = hw_append(c->hw, kind, e->string))) return nomem(c);
        }
        if ((s = parse_fields(c, entry, hw_kinds[kind].fields, e, p)) != TRN_OK) return s;
        if (is_new && (s = check_required(c, entry, kind, p)) != TRN_OK) return s;
        *HW_AT(entry, hw_kinds[kind].off_file, const char *) = c->file;
    }
    return TRN_OK;
}

static trn_status parse_root(ld *c, const cJSON *root) {
    trn_status s =
        need_object(c, root, "$", "an object with core_versions, chips, systems and/or gpus");
    if (s != TRN_OK) return s;
    for (const cJSON *m = root->child; m; m = m->next) {
        char p[PATH_MAX_LEN], t[64];
        hw_path_join(p, sizeof p, "$", m->string);
        if (strcmp(m->string, "comment") == 0) {
            if (!cJSON_IsString(m))
                return fail(c, p, "expected a string, got %s", trn_json_describe(m, t, sizeof t));
            continue;
        }
        int kind = -1;
        for (int k = 0; k < HW_NKINDS; k++)
            if (strcmp(m->string, hw_kinds[k].section) == 0) kind = k;
        if (kind < 0)
            return fail(c, p,
                        "unknown section (expected core_versions, chips, systems, gpus or "
                        "comment)");
        if ((s = parse_section(c, kind, m, p)) != TRN_OK) return s;
    }
    return TRN_OK;
}

/* Line and column (1-based) of position `at` in text. */
static void line_col(const char *text, const char *at, int *line, int *col) {
    *line = 1;
    *col = 1;
    for (const char *p = text; p < at && *p; p++) {
        if (*p == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

trn_status hw_load_text(trn_hw *hw, const char *file, const char *text, int resolve, trn_err *err) {
    ld c = {hw, hw_strdup(hw, file), err};
    if (!c.file) return trn_err_set(err, TRN_E_NOMEM, "%s: out of memory", file);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        int line, col;
        line_col(text, end ? end : text, &line, &col);
        const char *p = text;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
        return trn_err_set(err, TRN_E_PARSE, "%s: malformed JSON at line %d, column %d%s", file,
                           line, col, *p ? "" : " (the file is empty)");
    }
    /* Snapshot every entry so a failed file leaves the catalog as it was. */
    int old_n[HW_NKINDS];
    char *backup[HW_NKINDS] = {NULL};
    trn_status s = TRN_OK;
    for (int k = 0; k < HW_NKINDS; k++) {
        old_n[k] = hw->n[k];
        size_t sz = hw_kinds[k].size;
        if (old_n[k] && !(backup[k] = malloc((size_t)old_n[k] * sz))) s = nomem(&c);
        for (int i = 0; backup[k] && i < old_n[k]; i++)
            memcpy(backup[k] + (size_t)i * sz, hw->items[k][i], sz);
    }
    if (s == TRN_OK) s = parse_root(&c, root);
    if (s == TRN_OK && resolve) s = hw_resolve(hw, c.file, err);
    if (s != TRN_OK) {
        for (int k = 0; k < HW_NKINDS; k++) {
            size_t sz = hw_kinds[k].size;
            for (int i = 0; backup[k] && i < old_n[k]; i++)
                memcpy(hw->items[k][i], backup[k] + (size_t)i * sz, sz);
            for (int i = old_n[k]; i < hw->n[k]; i++) free(hw->items[k][i]);
            hw->n[k] = old_n[k];
        }
    }
    for (int k = 0; k < HW_NKINDS; k++) free(backup[k]);
    cJSON_Delete(root);
    return s;
}

/* The catalog as JSON for scripts. The whole catalog comes out in the input schema (so
 * `trnsim info --json > x.json` loads again with `--hw x.json` and changes nothing); one
 * entry comes out with its kind, its fields and its derived figures beside the published
 * ones. */
#include "hw_impl.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

static const char *const unit_names[] = {
    [TRN_HW_UNIT_COUNT] = "count",
    [TRN_HW_UNIT_BYTES] = "bytes",
    [TRN_HW_UNIT_BPS] = "bytes/s",
    [TRN_HW_UNIT_HZ] = "Hz",
    [TRN_HW_UNIT_FLOPS] = "FLOP/s",
    [TRN_HW_UNIT_W] = "W",
    [TRN_HW_UNIT_USD_PER_HOUR] = "USD/h",
    [TRN_HW_UNIT_CYCLES] = "cycles",
    [TRN_HW_UNIT_NS] = "ns",
    [TRN_HW_UNIT_RATIO] = "ratio",
    [TRN_HW_UNIT_ELEMS_PER_CYCLE] = "elements/cycle",
    [TRN_HW_UNIT_FLOP_PER_BYTE] = "FLOP/byte",
    [TRN_HW_UNIT_FLOPS_PER_W] = "FLOP/s/W",
    [TRN_HW_UNIT_PER_S] = "1/s",
};

static const char *const prov_keys[] = {NULL, "source", "derived", "assumed"};

/* Adds "key": {value, source|derived|assumed, note} to obj; 0 when out of memory. */
static int add_num(cJSON *obj, const char *key, const trn_hw_num *x) {
    cJSON *o = cJSON_AddObjectToObject(obj, key);
    if (!o || !cJSON_AddNumberToObject(o, "value", x->value)) return 0;
    if (!cJSON_AddStringToObject(o, prov_keys[x->origin], x->source)) return 0;
    if (x->note && !cJSON_AddStringToObject(o, "note", x->note)) return 0;
    return 1;
}

static const char *const topo_kinds[] = {"torus", "switch", "ring", "fabric"};

static int add_fields(cJSON *obj, const void *entry, const hw_field *fields) {
    for (const hw_field *f = fields; f->key; f++) {
        switch (f->kind) {
        case FK_STR: {
            const char *s = *HW_CAT(entry, f->off, const char *);
            if (s && !cJSON_AddStringToObject(obj, f->key, s)) return 0;
            break;
        }
        case FK_BOOL:
            if (*HW_CAT(entry, f->off, int) && !cJSON_AddTrueToObject(obj, f->key)) return 0;
            break;
        case FK_NUM: {
            const trn_hw_num *x = HW_CAT(entry, f->off, trn_hw_num);
            if (x->origin && !add_num(obj, f->key, x)) return 0;
            break;
        }
        case FK_MAP: {
            const trn_hw_num *x = HW_CAT(entry, f->off, trn_hw_num);
            int any = 0;
            for (int d = 0; d < TRN_HW_NDTYPES; d++) any |= x[d].origin != TRN_HW_ABSENT;
            if (!any) break;
            cJSON *m = cJSON_AddObjectToObject(obj, f->key);
            if (!m) return 0;
            for (int d = 0; d < TRN_HW_NDTYPES; d++)
                if (x[d].origin && !add_num(m, trn_hw_dtype_name((trn_hw_dtype)d), &x[d])) return 0;
            break;
        }
        case FK_TOPO: {
            const trn_hw_topology *t = HW_CAT(entry, f->off, trn_hw_topology);
            if (!t->prov.origin) break;
            cJSON *o = cJSON_AddObjectToObject(obj, f->key);
            if (!o || !cJSON_AddStringToObject(o, "kind", topo_kinds[t->kind])) return 0;
            if (t->kind == TRN_HW_TOPO_TORUS) {
                cJSON *dims = cJSON_CreateIntArray(t->dims, t->ndims);
                if (!dims || !cJSON_AddItemToObject(o, "dims", dims)) {
                    cJSON_Delete(dims);
                    return 0;
                }
            }
            if (t->kind == TRN_HW_TOPO_SWITCH &&
                !cJSON_AddNumberToObject(o, "switch_levels", t->switch_levels))
                return 0;
            if (!cJSON_AddStringToObject(o, prov_keys[t->prov.origin], t->prov.source)) return 0;
            if (t->prov.note && !cJSON_AddStringToObject(o, "note", t->prov.note)) return 0;
            break;
        }
        case FK_OBJ: {
            cJSON *o = cJSON_CreateObject();
            if (!o || !add_fields(o, entry, f->sub)) {
                cJSON_Delete(o);
                return 0;
            }
            if (!o->child) {
                cJSON_Delete(o);
                break;
            }
            if (!cJSON_AddItemToObject(obj, f->key, o)) {
                cJSON_Delete(o);
                return 0;
            }
            break;
        }
        }
    }
    return 1;
}

static int add_entry(cJSON *obj, int kind, const void *entry) {
    cJSON *o = cJSON_AddObjectToObject(obj, HW_NAME(entry));
    return o && add_fields(o, entry, hw_kinds[kind].fields);
}

static cJSON *entry_json(const trn_hw *hw, trn_hw_entry e) {
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    const hw_kind_info *k = &hw_kinds[e.kind];
    int ok = cJSON_AddStringToObject(root, "name", HW_NAME(e.u.core)) &&
             cJSON_AddStringToObject(root, "kind", k->what) &&
             cJSON_AddStringToObject(root, "section", k->section) &&
             cJSON_AddStringToObject(root, "file", *HW_CAT(e.u.core, k->off_file, const char *));
    cJSON *fields = ok ? cJSON_AddObjectToObject(root, "fields") : NULL;
    ok = fields && add_fields(fields, e.u.core, k->fields);
    cJSON *figs = ok ? cJSON_AddArrayToObject(root, "figures") : NULL;
    ok = figs != NULL;
    trn_hw_figure rows[TRN_HW_MAX_FIGURES];
    int n = ok ? trn_hw_figures(hw, e, rows) : 0;
    for (int i = 0; ok && i < n; i++) {
        const trn_hw_figure *r = &rows[i];
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(figs, o);
        if (!ok) {
            cJSON_Delete(o);
            break;
        }
        ok = cJSON_AddStringToObject(o, "key", r->key) &&
             cJSON_AddStringToObject(o, "label", r->label) &&
             cJSON_AddStringToObject(o, "unit", unit_names[r->unit]) &&
             (r->derived > 0 ? cJSON_AddNumberToObject(o, "derived", r->derived)
                             : cJSON_AddNullToObject(o, "derived")) &&
             cJSON_AddStringToObject(o, "formula", r->formula) &&
             cJSON_AddBoolToObject(o, "assumed_inputs", r->assumed_inputs);
        if (ok && r->published) {
            ok = add_num(o, "published", r->published);
            if (ok && r->derived > 0)
                ok = cJSON_AddNumberToObject(o, "diff_pct",
                                             (r->derived - r->published->value) /
                                                 r->published->value * 100.0) != NULL;
        } else if (ok) {
            ok = cJSON_AddNullToObject(o, "published") != NULL;
        }
    }
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

trn_status trn_hw_to_json(const trn_hw *hw, const char *name, char **out, trn_err *err) {
    *out = NULL;
    cJSON *root = NULL;
    if (name) {
        trn_hw_entry e;
        trn_status s = trn_hw_find(hw, name, &e, err);
        if (s != TRN_OK) return s;
        root = entry_json(hw, e);
    } else {
        root = cJSON_CreateObject();
        int ok = root != NULL;
        for (int k = 0; ok && k < HW_NKINDS; k++) {
            cJSON *sec = cJSON_AddObjectToObject(root, hw_kinds[k].section);
            ok = sec != NULL;
            for (int i = 0; ok && i < hw->n[k]; i++) ok = add_entry(sec, k, hw->items[k][i]);
        }
        if (!ok) {
            cJSON_Delete(root);
            root = NULL;
        }
    }
    if (root) *out = cJSON_Print(root);
    cJSON_Delete(root);
    if (!*out) return trn_err_set(err, TRN_E_NOMEM, "out of memory");
    return TRN_OK;
}

/* Private declarations shared inside the hardware-catalog layer: the catalog object, the
 * field tables that drive loading, validation, JSON output and printing, and the string
 * arena every catalog string lives in. */
#ifndef TRN_HW_IMPL_H
#define TRN_HW_IMPL_H

#include <stddef.h>

#include "trnsim/hw.h"

typedef struct trn_hw_embedded_file {
    const char *name; /* file name in hw/ */
    const char *text; /* NUL-terminated JSON */
} trn_hw_embedded_file;

/* Generated from hw/<name>.json (cmake/embed_json.cmake); ends with {NULL, NULL}. */
extern const trn_hw_embedded_file trn_hw_embedded_files[];

#define HW_NKINDS 4

/* A block of strings owned by the catalog, freed at trn_hw_destroy. */
typedef struct hw_str {
    struct hw_str *next;
    char text[];
} hw_str;

struct trn_hw {
    void **items[HW_NKINDS]; /* per kind: entries (each malloc'd, pointers stable) */
    int n[HW_NKINDS], cap[HW_NKINDS];
    hw_str *strings; /* every string the entries point to */
};

/* How a field of an entry is stored and checked. */
typedef enum hw_fkind {
    FK_STR,  /* const char *, a non-empty JSON string */
    FK_BOOL, /* int, a JSON true/false */
    FK_NUM,  /* trn_hw_num, a number object */
    FK_MAP,  /* trn_hw_num[TRN_HW_NDTYPES], an object of number objects keyed by dtype */
    FK_TOPO, /* trn_hw_topology */
    FK_OBJ,  /* a sub-object whose fields are `sub` (offsets from the entry, not the object) */
} hw_fkind;

enum {
    F_REQ = 1,  /* required in a new entry */
    F_INT = 2,  /* the value must be an integer */
    F_ZERO = 4, /* zero allowed (otherwise numbers must be > 0) */
    F_FRAC = 8, /* the value must be in (0, 1] */
    F_REF = 16, /* FK_STR naming another entry (checked after loading) */
};

typedef struct hw_field {
    const char *key; /* JSON key */
    hw_fkind kind;
    size_t off; /* offset in the entry struct */
    unsigned flags;
    trn_hw_unit unit;
    const char *label;          /* for people */
    const struct hw_field *sub; /* FK_OBJ: its fields, ending with a NULL key */
} hw_field;

/* Per kind: the JSON section name, the struct size, the field table (NULL-key terminated)
 * and the offsets of the common members. */
typedef struct hw_kind_info {
    const char *section; /* "core_versions", "chips", "systems", "gpus" */
    const char *what;    /* "core version" ... */
    size_t size;
    const hw_field *fields;
    size_t off_desc, off_file, off_projected;
} hw_kind_info;

extern const hw_kind_info hw_kinds[HW_NKINDS];

/* Copies s into the catalog's string arena; NULL when out of memory. */
const char *hw_strdup(trn_hw *hw, const char *s);
/* Entry of a kind by name (case-insensitive), or NULL. */
void *hw_lookup(const trn_hw *hw, int kind, const char *name);
/* Appends a zeroed entry named `name` to kind; NULL when out of memory. */
void *hw_append(trn_hw *hw, int kind, const char *name);
/* The member at `off` of an entry. */
#define HW_AT(entry, off, type)  ((type *)(void *)((char *)(entry) + (off)))
#define HW_CAT(entry, off, type) ((const type *)(const void *)((const char *)(entry) + (off)))
/* The entry's name (the first member of every entry struct). */
#define HW_NAME(entry) (*(const char *const *)(const void *)(entry))

/* Parses JSON text (file names it in messages) into the catalog: adds or overrides entries,
 * then (resolve = 1) checks references. On failure the catalog is as before. */
trn_status hw_load_text(trn_hw *hw, const char *file, const char *text, int resolve, trn_err *err);
/* Resolves and checks the references of every entry (chip -> core version, system -> chip
 * or GPU and node) and the cross-field rules; on error names the file being loaded (`file`,
 * NULL for the embedded catalog) and the JSON path of the field. */
trn_status hw_resolve(trn_hw *hw, const char *file, trn_err *err);

/* JSON path component for a key: ".key", or ["key"] when the key has other characters. */
void hw_path_join(char *dst, size_t n, const char *base, const char *key);

#endif

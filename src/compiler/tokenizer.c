/* A byte-level BPE tokenizer read from a Hugging Face tokenizer.json (GPT-2, Llama 3 style):
 * text bytes are mapped to printable code points with GPT-2's bytes_to_unicode table, split
 * into chunks by GPT-2's pre-tokenizer pattern, and each chunk's symbols are merged pair by
 * pair, lowest merge rank first, until no listed merge applies; added (special) tokens are
 * matched literally first. Decoding maps the code points back to bytes.
 *
 * Deliberately left out: Unicode character classes (every byte >= 0x80 counts as a letter;
 * Llama 3's pattern, which differs from GPT-2's on digits and contractions, is approximated
 * by GPT-2's), normalizers, post-processors (BOS insertion), SentencePiece (Llama 2) models. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trnsim/graph.h"

/* ---- a string -> int hash table ----------------------------------------------------------- */

typedef struct smap {
    char **key;
    int32_t *val;
    size_t cap; /* a power of two */
} smap;

static uint64_t hash(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

static int smap_init(smap *m, size_t n) {
    m->cap = 16;
    while (m->cap < 2 * n + 16) m->cap *= 2;
    m->key = calloc(m->cap, sizeof *m->key);
    m->val = calloc(m->cap, sizeof *m->val);
    return m->key && m->val;
}

static void smap_fini(smap *m) {
    for (size_t i = 0; m->key && i < m->cap; i++) free(m->key[i]);
    free(m->key);
    free(m->val);
}

/* Slot of key s[0..n) (its own or the empty one where it would go). */
static size_t smap_slot(const smap *m, const char *s, size_t n) {
    size_t i = (size_t)hash(s, n) & (m->cap - 1);
    while (m->key[i] && !(strlen(m->key[i]) == n && memcmp(m->key[i], s, n) == 0))
        i = (i + 1) & (m->cap - 1);
    return i;
}

static int smap_get(const smap *m, const char *s, size_t n, int32_t *v) {
    size_t i = smap_slot(m, s, n);
    if (!m->key[i]) return 0;
    *v = m->val[i];
    return 1;
}

/* Inserts (first value wins). 0 on allocation failure. */
static int smap_put(smap *m, const char *s, size_t n, int32_t v) {
    size_t i = smap_slot(m, s, n);
    if (m->key[i]) return 1;
    m->key[i] = malloc(n + 1);
    if (!m->key[i]) return 0;
    memcpy(m->key[i], s, n);
    m->key[i][n] = '\0';
    m->val[i] = v;
    return 1;
}

/* ---- the tokenizer ------------------------------------------------------------------------ */

typedef struct added {
    char *text;
    int32_t id;
} added;

struct trn_tokenizer {
    smap vocab;    /* token (byte-level code points, UTF-8) -> id */
    smap ranks;    /* "left right" -> merge rank */
    char **by_id;  /* id -> token text */
    int *is_added; /* id -> 1 for added tokens (decoded verbatim) */
    int64_t nid;   /* 1 + largest id */
    added *added;  /* longest first */
    int nadded;
    char b2u[256][3]; /* byte -> its code point in UTF-8 (2 bytes at most), NUL-terminated */
    int u2b[512];     /* code point -> byte, -1 when none */
};

/* GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the other 68 bytes to
 * 256, 257, ... in byte order. */
static void byte_map(trn_tokenizer *t) {
    int cp[256], n = 0;
    for (int b = 0; b < 256; b++) {
        int printable =
            (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        cp[b] = printable ? b : 256 + n++;
    }
    for (int i = 0; i < 512; i++) t->u2b[i] = -1;
    for (int b = 0; b < 256; b++) {
        int c = cp[b];
        t->u2b[c] = b;
        if (c < 0x80) {
            t->b2u[b][0] = (char)c;
            t->b2u[b][1] = '\0';
        } else {
            t->b2u[b][0] = (char)(0xC0 | (c >> 6));
            t->b2u[b][1] = (char)(0x80 | (c & 0x3F));
            t->b2u[b][2] = '\0';
        }
    }
}

void trn_tokenizer_destroy(trn_tokenizer *t) {
    if (!t) return;
    smap_fini(&t->vocab);
    smap_fini(&t->ranks);
    for (int64_t i = 0; t->by_id && i < t->nid; i++) free(t->by_id[i]);
    free(t->by_id);
    free(t->is_added);
    for (int i = 0; i < t->nadded; i++) free(t->added[i].text);
    free(t->added);
    free(t);
}

int64_t trn_tokenizer_vocab(const trn_tokenizer *t) {
    return t->nid;
}

static int by_len_desc(const void *a, const void *b) {
    size_t x = strlen(((const added *)a)->text), y = strlen(((const added *)b)->text);
    return (x < y) - (x > y);
}

static char *dup(const char *s) {
    char *p = malloc(strlen(s) + 1);
    if (p) strcpy(p, s);
    return p;
}

trn_status trn_tokenizer_parse(const char *file, const char *json, trn_tokenizer **out,
                               trn_err *err) {
    *out = NULL;
    cJSON *root = cJSON_Parse(json);
    if (!root) return trn_err_set(err, TRN_E_PARSE, "%s: malformed JSON", file);
    trn_tokenizer *t = calloc(1, sizeof *t);
    trn_status s = TRN_OK;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    const cJSON *add = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (!t) {
        s = trn_err_set(err, TRN_E_NOMEM, "out of memory");
    } else if (!cJSON_IsObject(model)) {
        s = trn_err_set(err, TRN_E_PARSE, "%s: model: missing (expected an object)", file);
    } else if (type && !(cJSON_IsString(type) && strcmp(type->valuestring, "BPE") == 0)) {
        s = trn_err_set(err, TRN_E_UNSUPPORTED, "%s: model.type: expected \"BPE\", got %s", file,
                        cJSON_IsString(type) ? type->valuestring : "a non-string");
    } else if (!cJSON_IsObject(vocab) || !cJSON_IsArray(merges)) {
        s = trn_err_set(err, TRN_E_PARSE,
                        "%s: model.vocab (an object) and model.merges (an array) "
                        "are required",
                        file);
    } else if (add && !cJSON_IsArray(add)) {
        s = trn_err_set(err, TRN_E_PARSE, "%s: added_tokens: expected an array", file);
    }
    if (s == TRN_OK) {
        byte_map(t);
        int nv = cJSON_GetArraySize(vocab), nm = cJSON_GetArraySize(merges);
        int na = add ? cJSON_GetArraySize(add) : 0;
        if (!smap_init(&t->vocab, (size_t)(nv + na)) || !smap_init(&t->ranks, (size_t)nm))
            s = trn_err_set(err, TRN_E_NOMEM, "out of memory");
        /* ids: vocab values and added tokens' ids */
        for (const cJSON *e = vocab->child; s == TRN_OK && e; e = e->next) {
            if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 1e8)
                s = trn_err_set(err, TRN_E_PARSE, "%s: model.vocab.%s: expected an id >= 0", file,
                                e->string);
            else if (e->valueint + 1 > t->nid)
                t->nid = e->valueint + 1;
        }
        for (int i = 0; s == TRN_OK && i < na; i++) {
            const cJSON *e = cJSON_GetArrayItem(add, i);
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "content");
            if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble > 1e8 ||
                !cJSON_IsString(c) || !c->valuestring[0])
                s = trn_err_set(err, TRN_E_PARSE,
                                "%s: added_tokens[%d]: expected {\"id\": N, \"content\": \"...\"}",
                                file, i);
            else if (id->valueint + 1 > t->nid)
                t->nid = id->valueint + 1;
        }
        if (s == TRN_OK) {
            t->by_id = calloc((size_t)t->nid + 1, sizeof *t->by_id);
            t->is_added = calloc((size_t)t->nid + 1, sizeof *t->is_added);
            t->added = calloc((size_t)na + 1, sizeof *t->added);
            if (!t->by_id || !t->is_added || !t->added)
                s = trn_err_set(err, TRN_E_NOMEM, "out of memory");
        }
        for (const cJSON *e = vocab->child; s == TRN_OK && e; e = e->next) {
            if (!t->by_id[e->valueint]) t->by_id[e->valueint] = dup(e->string);
            if (!t->by_id[e->valueint] ||
                !smap_put(&t->vocab, e->string, strlen(e->string), e->valueint))
                s = trn_err_set(err, TRN_E_NOMEM, "out of memory");
        }
        for (int i = 0; s == TRN_OK && i < na; i++) {
            const cJSON *e = cJSON_GetArrayItem(add, i);
            int id = cJSON_GetObjectItemCaseSensitive(e, "id")->valueint;
            const char *c = cJSON_GetObjectItemCaseSensitive(e, "content")->valuestring;
            free(t->by_id[id]);
            t->by_id[id] = dup(c);
            t->is_added[id] = 1;
            t->added[t->nadded].text = dup(c);
            t->added[t->nadded++].id = id;
            if (!t->by_id[id] || !t->added[t->nadded - 1].text)
                s = trn_err_set(err, TRN_E_NOMEM, "out of memory");
        }
        if (s == TRN_OK) qsort(t->added, (size_t)t->nadded, sizeof *t->added, by_len_desc);
        /* merges: "a b" strings (GPT-2) or ["a", "b"] pairs (newer tokenizers) */
        for (int i = 0; s == TRN_OK && i < nm; i++) {
            const cJSON *e = cJSON_GetArrayItem(merges, i);
            char buf[512];
            if (cJSON_IsString(e) && strchr(e->valuestring, ' ') &&
                strlen(e->valuestring) < sizeof buf) {
                memcpy(buf, e->valuestring, strlen(e->valuestring) + 1);
            } else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 && cJSON_IsString(e->child) &&
                       cJSON_IsString(e->child->next) &&
                       strlen(e->child->valuestring) + strlen(e->child->next->valuestring) + 2 <
                           sizeof buf) {
                size_t a = strlen(e->child->valuestring);
                memcpy(buf, e->child->valuestring, a);
                buf[a] = ' ';
                memcpy(buf + a + 1, e->child->next->valuestring,
                       strlen(e->child->next->valuestring) + 1);
            } else {
                s = trn_err_set(err, TRN_E_PARSE,
                                "%s: model.merges[%d]: expected \"left right\" or [\"left\", "
                                "\"right\"]",
                                file, i);
                break;
            }
            if (!smap_put(&t->ranks, buf, strlen(buf), i))
                s = trn_err_set(err, TRN_E_NOMEM, "out of memory");
        }
    }
    cJSON_Delete(root);
    if (s != TRN_OK) {
        trn_tokenizer_destroy(t);
        return s;
    }
    *out = t;
    return TRN_OK;
}

trn_status trn_tokenizer_load(const char *path, trn_tokenizer **out, trn_err *err) {
    *out = NULL;
    void *text = NULL;
    size_t n = 0;
    trn_status s = trn_file_read(path, &text, &n, err);
    if (s != TRN_OK) return s;
    s = trn_tokenizer_parse(path, text, out, err);
    free(text);
    return s;
}

/* ---- encoding ------------------------------------------------------------------------------ */

typedef struct ids {
    int32_t *v;
    int64_t n, cap;
} ids;

static int push(ids *x, int32_t id) {
    if (x->n == x->cap) {
        int64_t cap = x->cap ? 2 * x->cap : 64;
        int32_t *v = realloc(x->v, (size_t)cap * sizeof *v);
        if (!v) return 0;
        x->v = v;
        x->cap = cap;
    }
    x->v[x->n++] = id;
    return 1;
}

static int is_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
static int is_letter(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}
static int is_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}
static int cls(unsigned char c) { /* 0 space, 1 letter, 2 digit, 3 other */
    return is_space(c) ? 0 : is_letter(c) ? 1 : is_digit(c) ? 2 : 3;
}

/* Length of the pre-tokenizer chunk at s[0..n): GPT-2's
 * 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
static size_t chunk(const unsigned char *s, size_t n) {
    if (s[0] == '\'' && n >= 2) {
        if (strchr("stmd", s[1])) return 2;
        if (n >= 3 && ((s[1] == 'r' && s[2] == 'e') || (s[1] == 'v' && s[2] == 'e') ||
                       (s[1] == 'l' && s[2] == 'l')))
            return 3;
    }
    size_t i = s[0] == ' ' && n > 1 && !is_space(s[1]) ? 1 : 0;
    int c = cls(s[i]);
    if (c != 0) {
        size_t j = i + 1;
        while (j < n && cls(s[j]) == c) j++;
        return j;
    }
    size_t j = 1;
    while (j < n && is_space(s[j])) j++;
    if (j < n && j > 1) j--; /* leave the last space to the word that follows */
    return j;
}

/* BPE over one chunk's bytes. */
static trn_status bpe(const trn_tokenizer *t, const unsigned char *s, size_t n, ids *out,
                      trn_err *err) {
    /* symbols as [start, end) ranges into one UTF-8 string of the mapped bytes */
    char *u = malloc(2 * n + 1);
    size_t *st = malloc((n + 1) * sizeof *st), m = n, ul = 0;
    char key[1024];
    if (!u || !st) {
        free(u);
        free(st);
        return trn_err_set(err, TRN_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        st[i] = ul;
        size_t k = strlen(t->b2u[s[i]]);
        memcpy(u + ul, t->b2u[s[i]], k);
        ul += k;
    }
    st[n] = ul;
    for (;;) {
        int32_t best = -1;
        size_t at = 0;
        for (size_t i = 0; i + 1 < m; i++) {
            size_t a = st[i + 1] - st[i], b = st[i + 2] - st[i + 1];
            if (a + b + 1 >= sizeof key) continue;
            memcpy(key, u + st[i], a);
            key[a] = ' ';
            memcpy(key + a + 1, u + st[i + 1], b);
            int32_t r;
            if (smap_get(&t->ranks, key, a + b + 1, &r) && (best < 0 || r < best)) {
                best = r;
                at = i;
            }
        }
        if (best < 0) break;
        memmove(st + at + 1, st + at + 2, (m - at - 1) * sizeof *st); /* join symbols at, at+1 */
        m--;
    }
    trn_status s2 = TRN_OK;
    for (size_t i = 0; i < m && s2 == TRN_OK; i++) {
        int32_t id;
        if (!smap_get(&t->vocab, u + st[i], st[i + 1] - st[i], &id))
            s2 = trn_err_set(err, TRN_E_NOTFOUND,
                             "tokenizer: symbol '%.*s' is not in the vocabulary",
                             (int)(st[i + 1] - st[i]), u + st[i]);
        else if (!push(out, id))
            s2 = trn_err_set(err, TRN_E_NOMEM, "out of memory");
    }
    free(u);
    free(st);
    return s2;
}

trn_status trn_tokenizer_encode(const trn_tokenizer *t, const char *text, size_t n, int32_t **out,
                                int64_t *count, trn_err *err) {
    *out = NULL;
    *count = 0;
    ids x = {0};
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, seg = 0;
    trn_status st = TRN_OK;
    while (st == TRN_OK && i <= n) {
        int hit = -1;
        for (int a = 0; i < n && a < t->nadded && hit < 0; a++) {
            size_t k = strlen(t->added[a].text);
            if (k <= n - i && memcmp(s + i, t->added[a].text, k) == 0) hit = a;
        }
        if (hit < 0 && i < n) {
            i++;
            continue;
        }
        /* the plain text s[seg..i) before the added token (or the end) */
        for (size_t p = seg; st == TRN_OK && p < i;) {
            size_t k = chunk(s + p, i - p);
            st = bpe(t, s + p, k, &x, err);
            p += k;
        }
        if (hit < 0) break;
        if (st == TRN_OK && !push(&x, t->added[hit].id))
            st = trn_err_set(err, TRN_E_NOMEM, "out of memory");
        i += strlen(t->added[hit].text);
        seg = i;
    }
    if (st != TRN_OK) {
        free(x.v);
        return st;
    }
    *out = x.v ? x.v : malloc(sizeof(int32_t));
    *count = x.n;
    return *out ? TRN_OK : trn_err_set(err, TRN_E_NOMEM, "out of memory");
}

trn_status trn_tokenizer_decode(const trn_tokenizer *t, const int32_t *v, int64_t count,
                                char **text, trn_err *err) {
    *text = NULL;
    size_t cap = 16, len = 0;
    for (int64_t i = 0; i < count; i++) {
        if (v[i] < 0 || v[i] >= t->nid || !t->by_id[v[i]])
            return trn_err_set(err, TRN_E_RANGE,
                               "tokenizer: id %d at %lld is not in the vocabulary", (int)v[i],
                               (long long)i);
        cap += strlen(t->by_id[v[i]]);
    }
    char *o = malloc(cap);
    if (!o) return trn_err_set(err, TRN_E_NOMEM, "out of memory");
    for (int64_t i = 0; i < count; i++) {
        const unsigned char *p = (const unsigned char *)t->by_id[v[i]];
        if (t->is_added[v[i]]) {
            size_t k = strlen((const char *)p);
            memcpy(o + len, p, k);
            len += k;
            continue;
        }
        while (*p) {
            int cp = *p++, ok = cp < 0x80;
            if ((cp & 0xE0) == 0xC0 && (*p & 0xC0) == 0x80) {
                cp = ((cp & 0x1F) << 6) | (*p++ & 0x3F);
                ok = 1;
            }
            int b = ok && cp < 512 ? t->u2b[cp] : -1;
            if (b < 0) {
                free(o);
                return trn_err_set(
                    err, TRN_E_RANGE,
                    "tokenizer: id %d holds U+%04X, which is not a byte-level symbol", (int)v[i],
                    cp);
            }
            o[len++] = (char)b;
        }
    }
    o[len] = '\0';
    *text = o;
    return TRN_OK;
}

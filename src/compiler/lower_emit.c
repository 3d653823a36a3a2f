/* The lowering's front door: op names and checks, the .tasm emitter shared by every op, the
 * dispatch to the per-op emitters (lower_linear.c, lower_rows.c, lower_attn.c) and compilation
 * through the real assembler and verifier. Left out: the ops' kernels themselves. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lower_impl.h"

static const char *const kind_names[TRN_LOWER_KIND_COUNT] = {
    "linear", "rmsnorm",   "layernorm", "softmax", "add",     "mul", "swiglu",
    "rope",   "attention", "embed",     "router",  "glu_oai", "act", "moe_combine"};
static const char *const prec_names[TRN_PREC_COUNT] = {"bf16", "fp8", "mxfp8", "mxfp4", "mxfp8q"};

const char *trn_lower_kind_name(trn_lower_kind k) {
    return (unsigned)k < TRN_LOWER_KIND_COUNT ? kind_names[k] : "?";
}
const char *trn_precision_name(trn_precision p) {
    return (unsigned)p < TRN_PREC_COUNT ? prec_names[p] : "?";
}
int trn_lower_kind_find(const char *name) {
    for (int i = 0; name && i < TRN_LOWER_KIND_COUNT; i++)
        if (!strcmp(name, kind_names[i])) return i;
    return -1;
}
int trn_precision_find(const char *name) {
    for (int i = 0; name && i < TRN_PREC_COUNT; i++)
        if (!strcmp(name, prec_names[i])) return i;
    return -1;
}

/* ---- emitter ---------------------------------------------------------------------------- */

void lw_init(lw *e, const trn_lower_op *op, const trn_isa_target *t) {
    memset(e, 0, sizeof *e);
    e->op = op;
    e->t = t;
}

void lw_fini(lw *e) {
    free(e->buf);
    free(e->tiles);
    e->buf = NULL;
    e->tiles = NULL;
}

void lw_printf(lw *e, const char *fmt, ...) {
    if (e->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = e->cap - e->len;
        int n = vsnprintf(e->buf ? e->buf + e->len : NULL, e->buf ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            e->oom = 1;
            return;
        }
        if ((size_t)n < room && e->buf) {
            e->len += (size_t)n;
            return;
        }
        size_t cap = e->cap ? e->cap : 4096;
        while (cap - e->len <= (size_t)n) cap *= 2;
        char *b = realloc(e->buf, cap);
        if (!b) {
            e->oom = 1;
            return;
        }
        e->buf = b;
        e->cap = cap;
    }
}

uint64_t lw_tile_bytes(trn_dtype dt, int64_t free_elems) {
    uint64_t b = (uint64_t)free_elems * (uint64_t)trn_dtype_container_bytes(dt);
    return (b + TRN_ALIGN_BYTES - 1) / TRN_ALIGN_BYTES * TRN_ALIGN_BYTES;
}

static uint64_t align_up(uint64_t x, uint64_t a) {
    return (x + a - 1) / a * a;
}

/* The lowest offset at or above `at` where a tile of `bytes` may start: aligned, and in PSUM
 * never straddling a bank unless larger than one (then on a bank): the assembler's rules. */
static uint64_t fit_at(uint64_t at, uint64_t bytes, int psum) {
    at = align_up(at, TRN_ALIGN_BYTES);
    if (psum && (bytes > TRN_PSUM_BANK_BYTES ||
                 at / TRN_PSUM_BANK_BYTES != (at + bytes - 1) / TRN_PSUM_BANK_BYTES))
        at = align_up(at, TRN_PSUM_BANK_BYTES);
    return at;
}

void lw_tile_text(lw *e, trn_mem mem, const char *name, const char *dtype, uint32_t elem_bytes,
                  int rank, const int64_t *dims) {
    if (e->oom) return;
    int64_t fe = 1;
    for (int i = 1; i < rank; i++) fe *= dims[i];
    uint64_t b = align_up((uint64_t)fe * elem_bytes, TRN_ALIGN_BYTES);
    if (!e->ntiles) { /* the declarations go here; tiles declared by hand before stay first */
        e->decl_at = e->len;
        e->base_sbuf = e->sbuf_bytes;
        e->base_psum = e->psum_bytes ? align_up(e->psum_bytes, TRN_PSUM_BANK_BYTES) : 0;
    }
    if (mem == TRN_MEM_PSUM)
        e->psum_bytes = fit_at(e->psum_bytes, b, 1) + b;
    else
        e->sbuf_bytes += b;
    if (e->ntiles == e->captiles) {
        int cap = e->captiles ? 2 * e->captiles : 16;
        lw_tile_rec *r = realloc(e->tiles, sizeof *r * (size_t)cap);
        if (!r) {
            e->oom = 1;
            return;
        }
        e->tiles = r;
        e->captiles = cap;
    }
    lw_tile_rec *r = &e->tiles[e->ntiles++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->dtype, sizeof r->dtype, "%s", dtype);
    r->mem = mem;
    r->rank = rank < TRN_MAX_RANK ? rank : TRN_MAX_RANK;
    for (int i = 0; i < r->rank; i++) r->dims[i] = dims[i];
    r->bytes = b;
    r->pos = e->len;
    r->first = r->last = -1;
}

void lw_tile(lw *e, trn_mem mem, const char *name, trn_dtype dt, int rank, const int64_t *dims) {
    lw_tile_text(e, mem, name, trn_dtype_name(dt), (uint32_t)trn_dtype_container_bytes(dt), rank,
                 dims);
}

void lw_mark(lw *e) {
    e->mark = e->len;
    e->mark_ntiles = e->ntiles;
    e->mark_sbuf = e->sbuf_bytes;
    e->mark_psum = e->psum_bytes;
}

void lw_rewind(lw *e) {
    e->len = e->mark;
    e->ntiles = e->mark_ntiles;
    e->sbuf_bytes = e->mark_sbuf;
    e->psum_bytes = e->mark_psum;
}

uint64_t lw_pack(lw_ival *iv, int n, int psum) {
    int *order = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    uint64_t *cand = malloc(sizeof(uint64_t) * (size_t)(n + 1));
    if (!order || !cand) { /* no room to search: the plain layout */
        uint64_t top = 0;
        for (int i = 0; i < n; i++)
            iv[i].off = fit_at(top, iv[i].bytes, psum), top = iv[i].off + iv[i].bytes;
        free(order);
        free(cand);
        return top;
    }
    /* largest first, ties in index order (insertion sort: n is a kernel's tile count) */
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && iv[order[j - 1]].bytes < iv[i].bytes) order[j] = order[j - 1], j--;
        order[j] = i;
    }
    uint64_t peak = 0;
    for (int k = 0; k < n; k++) {
        lw_ival *a = &iv[order[k]];
        int nc = 0;
        cand[nc++] = 0;
        for (int q = 0; q < k; q++) {
            const lw_ival *b = &iv[order[q]];
            if (a->first >= 0 && b->first >= 0 && a->first <= b->last && b->first <= a->last)
                cand[nc++] = b->off + b->bytes;
        }
        uint64_t best = UINT64_MAX;
        for (int c = 0; c < nc; c++) {
            uint64_t at = fit_at(cand[c], a->bytes, psum);
            if (at >= best) continue;
            int clash = 0;
            for (int q = 0; q < k && !clash; q++) {
                const lw_ival *b = &iv[order[q]];
                clash = a->first >= 0 && b->first >= 0 && a->first <= b->last &&
                        b->first <= a->last && at < b->off + b->bytes && b->off < at + a->bytes;
            }
            if (!clash) best = at;
        }
        a->off = best;
        if (a->off + a->bytes > peak) peak = a->off + a->bytes;
    }
    free(order);
    free(cand);
    return peak;
}

static int ident_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Live ranges: every instruction line after the declarations is scanned for `key=name` and
 * `key=name[...]` operands naming a recorded tile; a use inside a `.for` loop extends to the
 * whole outermost loop (its iterations are unrolled in order). */
static void live_ranges(lw *e) {
    for (int i = 0; i < e->ntiles; i++) e->tiles[i].first = e->tiles[i].last = -1;
    if (!e->ntiles || !e->buf) return;
    char *inloop = calloc((size_t)e->ntiles, 1);
    if (!inloop) { /* without the loop marks the ranges could be short: no placement */
        e->oom = 1;
        return;
    }
    int64_t ninstr = 0, loop_first = 0;
    int depth = 0;
    const char *s = e->buf + e->decl_at, *end = e->buf + e->len;
    while (s < end) {
        const char *eol = memchr(s, '\n', (size_t)(end - s));
        if (!eol) eol = end;
        const char *p = s;
        while (p < eol && (*p == ' ' || *p == '\t')) p++;
        if (p < eol && *p == '.') {
            if (eol - p >= 4 && !strncmp(p, ".for", 4) && !ident_char(p[4])) {
                if (depth++ == 0) {
                    loop_first = ninstr;
                    memset(inloop, 0, (size_t)e->ntiles);
                }
            } else if (eol - p >= 4 && !strncmp(p, ".end", 4) && !ident_char(p[4]) && depth > 0) {
                if (--depth == 0)
                    for (int i = 0; i < e->ntiles; i++)
                        if (inloop[i]) {
                            lw_tile_rec *r = &e->tiles[i];
                            if (r->first < 0 || r->first > loop_first) r->first = loop_first;
                            if (r->last < ninstr - 1) r->last = ninstr - 1;
                        }
            }
        } else if (p < eol && *p != '#') {
            int br = 0;
            for (const char *q = p; q < eol && *q != '#'; q++) {
                if (*q == '[') br++;
                if (*q == ']') br--;
                if (*q != '=' || br || q == p || !ident_char(q[-1])) continue;
                const char *n0 = q + 1, *n1 = n0;
                while (n1 < eol && ident_char(*n1)) n1++;
                size_t nl = (size_t)(n1 - n0);
                if (!nl || nl >= TRN_NAME_MAX || (*n0 >= '0' && *n0 <= '9')) continue;
                for (int i = 0; i < e->ntiles; i++) {
                    lw_tile_rec *r = &e->tiles[i];
                    if (r->name[0] != *n0 || strncmp(r->name, n0, nl) || r->name[nl]) continue;
                    if (r->first < 0) r->first = ninstr;
                    r->last = ninstr;
                    if (depth) inloop[i] = 1;
                }
            }
            ninstr++;
        }
        s = eol + 1;
    }
    free(inloop);
}

uint64_t lw_sbuf_cap(const lw *e) {
    uint64_t c = e->t->sbuf_bytes_per_partition;
    if (e->op && e->op->sbuf_limit_bytes && e->op->sbuf_limit_bytes < c)
        c = e->op->sbuf_limit_bytes;
    return c;
}

/* Places the recorded tiles of memory `mem` (tiles[].off), from base: the plain layout when
 * it fits `cap` (less the bytes of tiles declared by hand after the first lw_tile, which the
 * assembler puts above these), else the packing. Returns the end; *packed set when packed. */
static uint64_t place_mem(lw *e, trn_mem mem, uint64_t base, uint64_t cap, uint64_t extra,
                          int *packed) {
    int psum = mem == TRN_MEM_PSUM, n = 0;
    uint64_t top = base;
    for (int i = 0; i < e->ntiles; i++) {
        lw_tile_rec *r = &e->tiles[i];
        if (r->mem != mem) continue;
        r->off = fit_at(top, r->bytes, psum);
        top = r->off + r->bytes;
        n++;
    }
    if (top + extra <= cap || !n) return top;
    lw_ival *iv = malloc(sizeof *iv * (size_t)n);
    if (!iv) return top;
    for (int i = 0, k = 0; i < e->ntiles; i++)
        if (e->tiles[i].mem == mem)
            iv[k++] = (lw_ival){e->tiles[i].bytes, e->tiles[i].first, e->tiles[i].last, 0};
    uint64_t peak = lw_pack(iv, n, psum);
    if (base + peak < top) {
        for (int i = 0, k = 0; i < e->ntiles; i++)
            if (e->tiles[i].mem == mem) e->tiles[i].off = base + iv[k++].off;
        top = base + peak;
        *packed = 1;
    }
    free(iv);
    return top;
}

/* Sums of the recorded tiles' bytes per memory (the rest of e->sbuf_bytes is hand-declared). */
static void recorded(const lw *e, uint64_t *sb, uint64_t *ps) {
    *sb = *ps = 0;
    for (int i = 0; i < e->ntiles; i++) {
        if (e->tiles[i].mem == TRN_MEM_PSUM)
            *ps = fit_at(*ps, e->tiles[i].bytes, 1) + e->tiles[i].bytes;
        else
            *sb += e->tiles[i].bytes;
    }
}

static void place(lw *e, uint64_t *sbuf, uint64_t *psum) {
    uint64_t rs, rp;
    recorded(e, &rs, &rp);
    uint64_t xs = e->sbuf_bytes > e->base_sbuf + rs ? e->sbuf_bytes - e->base_sbuf - rs : 0;
    uint64_t xp = e->psum_bytes > e->base_psum + rp ? e->psum_bytes - e->base_psum - rp : 0;
    live_ranges(e);
    e->packed = 0;
    *sbuf = place_mem(e, TRN_MEM_SBUF, e->base_sbuf, lw_sbuf_cap(e), xs, &e->packed) + xs;
    *psum =
        place_mem(e, TRN_MEM_PSUM, e->base_psum, e->t->psum_bytes_per_partition, xp, &e->packed) +
        xp;
}

void lw_peak(lw *e, uint64_t *sbuf, uint64_t *psum) {
    place(e, sbuf, psum);
}

trn_status lw_finish(lw *e, trn_err *err) {
    if (e->oom) return trn_err_set(err, TRN_E_NOMEM, "lower: out of memory");
    if (!e->ntiles) return TRN_OK;
    place(e, &e->sbuf_peak, &e->psum_peak);
    if (e->oom) return trn_err_set(err, TRN_E_NOMEM, "lower: out of memory");
    const char *what = e->fit_what ? e->fit_what : trn_lower_kind_name(e->op->kind);
    uint64_t cap = lw_sbuf_cap(e);
    if (e->sbuf_peak > cap)
        return trn_err_set(err, TRN_E_UNSUPPORTED,
                           "%s: needs %llu bytes of SBUF per partition (the live tiles at the "
                           "peak; %llu declared), NeuronCore-%s %s %llu",
                           what, (unsigned long long)e->sbuf_peak,
                           (unsigned long long)e->sbuf_bytes, e->t->name,
                           cap < e->t->sbuf_bytes_per_partition ? "is limited to" : "has",
                           (unsigned long long)cap);
    if (e->psum_peak > e->t->psum_bytes_per_partition)
        return trn_err_set(err, TRN_E_UNSUPPORTED,
                           "%s: needs %llu bytes of PSUM per partition (the live tiles at the "
                           "peak; %llu declared), NeuronCore-%s has %llu",
                           what, (unsigned long long)e->psum_peak,
                           (unsigned long long)e->psum_bytes, e->t->name,
                           (unsigned long long)e->t->psum_bytes_per_partition);
    /* the declarations, with their offsets, spliced in where the first tile was declared */
    lw d;
    memset(&d, 0, sizeof d);
    lw_printf(&d, "%.*s", (int)e->decl_at, e->buf);
    for (int i = 0; i < e->ntiles; i++) {
        const lw_tile_rec *r = &e->tiles[i];
        lw_printf(&d, "%s %-6s %s [", r->mem == TRN_MEM_PSUM ? ".psum" : ".sbuf", r->name,
                  r->dtype);
        for (int k = 0; k < r->rank; k++)
            lw_printf(&d, "%s%lld", k ? ", " : "", (long long)r->dims[k]);
        lw_printf(&d, "] offset=%llu\n", (unsigned long long)r->off);
    }
    lw_printf(&d, "%s", e->buf + e->decl_at);
    if (d.oom) {
        free(d.buf);
        return trn_err_set(err, TRN_E_NOMEM, "lower: out of memory");
    }
    free(e->buf);
    e->buf = d.buf;
    e->len = d.len;
    e->cap = d.cap;
    return TRN_OK;
}

const char *lw_dma_engine(lw *e) {
    if (e->t->version < 3) return "";
    /* hardware DGE on the two sequencers that have it (SP, ACT); SP does nothing else here,
     * so it takes the descriptors and ACT stays free for the evictions */
    return " engine=sync";
}

trn_status lw_check_fit(lw *e, const char *what, trn_err *err) {
    e->fit_what = what;
    uint64_t cap = lw_sbuf_cap(e);
    for (int i = 0; i < e->ntiles; i++) {
        const lw_tile_rec *r = &e->tiles[i];
        uint64_t c = r->mem == TRN_MEM_PSUM ? e->t->psum_bytes_per_partition : cap;
        if (r->bytes > c)
            return trn_err_set(err, TRN_E_UNSUPPORTED,
                               "%s: tile %s needs %llu bytes of %s per partition, NeuronCore-%s "
                               "has %llu",
                               what, r->name, (unsigned long long)r->bytes,
                               r->mem == TRN_MEM_PSUM ? "PSUM" : "SBUF", e->t->name,
                               (unsigned long long)c);
    }
    return TRN_OK;
}

void lw_bcast_row(lw *e, const char *dst, const char *src, const char *ps, const char *ones,
                  int64_t n) {
    for (int64_t c0 = 0; c0 < n; c0 += 512) {
        int64_t w = lw_min(512, n - c0);
        lw_printf(e,
                  "nc_matmul dst=%s[:, 0:%lld] stationary=%s moving=%s[0:1, %lld:%lld]\n"
                  "tensor_copy dst=%s[:, %lld:%lld] src=%s[:, 0:%lld]\n",
                  ps, (long long)w, ones, src, (long long)c0, (long long)(c0 + w), dst,
                  (long long)c0, (long long)(c0 + w), ps, (long long)w);
    }
}

/* ---- checks ----------------------------------------------------------------------------- */

/* ROUTER's experts: max8 reads 8 to 16384 elements per partition (docs/semantics.md) */
#define TRN_LOWER_ROUTER_MAX_EXPERTS 16384
/* MOE_COMBINE's slots per token: its 64 KiB ring of d then holds chunks of 8 f32 columns */
#define TRN_LOWER_COMBINE_MAX_SLOTS 1024

static int act_dtype_ok(trn_dtype d) {
    return d == TRN_DTYPE_BF16 || d == TRN_DTYPE_F32;
}

trn_status trn_lower_check(const trn_lower_op *op, const trn_isa_target *t, trn_err *err) {
    if (!op || !t) return trn_err_set(err, TRN_E_INVALID, "lower: no op or no target");
    if ((unsigned)op->kind >= TRN_LOWER_KIND_COUNT)
        return trn_err_set(err, TRN_E_INVALID, "lower: op kind %d is not one of the %d kinds",
                           (int)op->kind, TRN_LOWER_KIND_COUNT);
    const char *kn = kind_names[op->kind];
    if (!act_dtype_ok(op->dtype))
        return trn_err_set(err, TRN_E_INVALID, "%s: dtype %s (expected bf16 or f32)", kn,
                           trn_dtype_name(op->dtype));
    if (!act_dtype_ok(op->out_dtype))
        return trn_err_set(err, TRN_E_INVALID, "%s: out_dtype %s (expected bf16 or f32)", kn,
                           trn_dtype_name(op->out_dtype));
    if (op->m < 1 || op->m > (1 << 24))
        return trn_err_set(err, TRN_E_INVALID, "%s: m = %lld (expected 1 to %d)", kn,
                           (long long)op->m, 1 << 24);
    if (op->glu_oai != 0 && (op->kind != TRN_LOWER_LINEAR || op->glu_oai != 1))
        return trn_err_set(err, TRN_E_INVALID, "%s: glu_oai = %d (expected %s)", kn, op->glu_oai,
                           op->kind == TRN_LOWER_LINEAR ? "0 or 1" : "0: linear only");
    switch (op->kind) {
    case TRN_LOWER_LINEAR:
        if (op->k < 1 || op->n < 1 || op->k > (1 << 20) || op->n > (1 << 20))
            return trn_err_set(err, TRN_E_INVALID,
                               "linear: k = %lld, n = %lld (expected 1 to %d each)",
                               (long long)op->k, (long long)op->n, 1 << 20);
        if (op->act != TRN_ACT_COPY && op->act != TRN_ACT_GELU && op->act != TRN_ACT_SILU &&
            op->act != TRN_ACT_RELU && op->act != TRN_ACT_GELU_APPRX_TANH)
            return trn_err_set(err, TRN_E_INVALID,
                               "linear: fused activation %s (expected copy, gelu, "
                               "gelu_apprx_tanh, silu or relu)",
                               trn_act_name(op->act));
        if ((unsigned)op->prec >= TRN_PREC_COUNT)
            return trn_err_set(err, TRN_E_INVALID, "linear: precision %d is unknown",
                               (int)op->prec);
        if (op->prec == TRN_PREC_FP8 && t->version < 3)
            return trn_err_set(err, TRN_E_UNSUPPORTED,
                               "linear: fp8 precision needs the FP8 double-row matmul of "
                               "NeuronCore-v3 or newer (trn2, trn3); %s has none",
                               t->name);
        if (lw_prec_mx(op->prec) && t->version < 4)
            return trn_err_set(err, TRN_E_UNSUPPORTED,
                               "linear: %s precision needs the MX matmul of NeuronCore-v4 or "
                               "newer (trn3); %s has none",
                               prec_names[op->prec], t->name);
        if (op->prec == TRN_PREC_MXFP8 && (op->k % 512 || op->dtype != TRN_DTYPE_BF16))
            return trn_err_set(err, TRN_E_UNSUPPORTED,
                               "linear: %s takes bf16 x and k a multiple of 512 (one MX "
                               "matmul pass); got %s x, k = %lld",
                               prec_names[op->prec], trn_dtype_name(op->dtype), (long long)op->k);
        if (lw_prec_mx(op->prec) && (op->k % 4 || op->dtype != TRN_DTYPE_BF16))
            return trn_err_set(err, TRN_E_UNSUPPORTED,
                               "linear: %s takes bf16 x and k a multiple of 4 (4 MX codes per "
                               "partition); got %s x, k = %lld",
                               prec_names[op->prec], trn_dtype_name(op->dtype), (long long)op->k);
        if (op->glu_oai) { /* the clamped GLU fused into the eviction (lower_linear.c) */
            if (op->n % 2)
                return trn_err_set(err, TRN_E_INVALID,
                                   "linear: glu_oai needs n even (gate, up interleaved); n = %lld",
                                   (long long)op->n);
            if (op->act != TRN_ACT_COPY)
                return trn_err_set(err, TRN_E_INVALID,
                                   "linear: glu_oai takes act copy (the GLU is the activation); "
                                   "act = %s",
                                   trn_act_name(op->act));
            if (!(op->limit > 0) || !isfinite(op->limit))
                return trn_err_set(err, TRN_E_INVALID,
                                   "linear: glu_oai limit = %g (expected > 0, finite)", op->limit);
            if (!isfinite(op->alpha))
                return trn_err_set(err, TRN_E_INVALID,
                                   "linear: glu_oai alpha = %g (expected finite)", op->alpha);
        }
        return TRN_OK;
    case TRN_LOWER_RMSNORM:
    case TRN_LOWER_LAYERNORM:
        if (!(op->eps > 0) || !isfinite(op->eps))
            return trn_err_set(err, TRN_E_INVALID, "%s: eps = %g (expected > 0)", kn, op->eps);
        /* fallthrough */
    case TRN_LOWER_SOFTMAX:
    case TRN_LOWER_ADD:
    case TRN_LOWER_MUL:
    case TRN_LOWER_SWIGLU:
        if (op->n < 1 || op->n > (1 << 20))
            return trn_err_set(err, TRN_E_INVALID, "%s: n = %lld (expected 1 to %d)", kn,
                               (long long)op->n, 1 << 20);
        return TRN_OK;
    case TRN_LOWER_ROPE:
        if (op->heads < 1 || op->head_dim < 2 || op->head_dim % 2 || op->head_dim > 1024)
            return trn_err_set(err, TRN_E_INVALID,
                               "rope: heads = %lld, head_dim = %lld (expected heads >= 1 and an "
                               "even head_dim of 2 to 1024)",
                               (long long)op->heads, (long long)op->head_dim);
        return TRN_OK;
    case TRN_LOWER_ATTENTION:
        if (op->heads < 1 || op->kv_heads < 1 || op->heads % op->kv_heads)
            return trn_err_set(err, TRN_E_INVALID,
                               "attention: heads = %lld, kv_heads = %lld (expected kv_heads >= 1 "
                               "dividing heads)",
                               (long long)op->heads, (long long)op->kv_heads);
        if (op->head_dim < 1 || op->head_dim > 128)
            return trn_err_set(err, TRN_E_UNSUPPORTED,
                               "attention: head_dim = %lld (the lowering takes 1 to 128: one "
                               "contraction on the partitions)",
                               (long long)op->head_dim);
        if (op->q_len < 1 || op->kv_len < op->q_len)
            return trn_err_set(err, TRN_E_INVALID,
                               "attention: q_len = %lld, kv_len = %lld (expected 1 <= q_len <= "
                               "kv_len)",
                               (long long)op->q_len, (long long)op->kv_len);
        if (op->m != op->q_len)
            return trn_err_set(err, TRN_E_INVALID,
                               "attention: m = %lld must equal q_len = %lld (the query rows)",
                               (long long)op->m, (long long)op->q_len);
        if (op->window < 0)
            return trn_err_set(err, TRN_E_INVALID,
                               "attention: window = %lld (expected 0 for every key, or the keys "
                               "each query sees, >= 1)",
                               (long long)op->window);
        if (op->sinks != 0 && op->sinks != 1)
            return trn_err_set(err, TRN_E_INVALID,
                               "attention: sinks = %d (expected 0, or 1 with an input sinks "
                               "[1, heads] f32)",
                               op->sinks);
        if (!(op->scale >= 0) || !isfinite(op->scale))
            return trn_err_set(err, TRN_E_INVALID,
                               "attention: scale = %g (expected 0 for 1 / sqrt(head_dim), or a "
                               "finite value > 0)",
                               op->scale);
        return TRN_OK;
    case TRN_LOWER_ROUTER:
        if (op->n < 1 || op->n > TRN_LOWER_ROUTER_MAX_EXPERTS)
            return trn_err_set(err, TRN_E_INVALID,
                               "router: n = %lld experts (expected 1 to %d: max8 reads at most "
                               "%d elements per partition)",
                               (long long)op->n, TRN_LOWER_ROUTER_MAX_EXPERTS,
                               TRN_LOWER_ROUTER_MAX_EXPERTS);
        if (op->topk < 1 || op->topk > op->n)
            return trn_err_set(err, TRN_E_INVALID,
                               "router: topk = %lld (expected 1 to n = %lld experts)",
                               (long long)op->topk, (long long)op->n);
        if (op->gating != TRN_LOWER_GATE_SOFTMAX_TOPK &&
            op->gating != TRN_LOWER_GATE_TOPK_SOFTMAX && op->gating != TRN_LOWER_GATE_SIGMOID_TOPK)
            return trn_err_set(err, TRN_E_INVALID,
                               "router: gating %d is unknown (expected 0 softmax_topk, "
                               "1 topk_softmax or 2 sigmoid_topk)",
                               op->gating);
        return TRN_OK;
    case TRN_LOWER_GLU_OAI:
        if (op->n < 1 || op->n > (1 << 20))
            return trn_err_set(err, TRN_E_INVALID,
                               "glu_oai: n = %lld (expected 1 to %d output columns)",
                               (long long)op->n, 1 << 20);
        if (!(op->limit > 0) || !isfinite(op->limit))
            return trn_err_set(err, TRN_E_INVALID, "glu_oai: limit = %g (expected > 0, finite)",
                               op->limit);
        if (!isfinite(op->alpha))
            return trn_err_set(err, TRN_E_INVALID, "glu_oai: alpha = %g (expected finite)",
                               op->alpha);
        return TRN_OK;
    case TRN_LOWER_ACT:
        if (op->n < 1 || op->n > (1 << 20))
            return trn_err_set(err, TRN_E_INVALID, "act: n = %lld (expected 1 to %d)",
                               (long long)op->n, 1 << 20);
        if (op->act != TRN_ACT_GELU && op->act != TRN_ACT_GELU_APPRX_TANH &&
            op->act != TRN_ACT_SILU && op->act != TRN_ACT_RELU)
            return trn_err_set(err, TRN_E_INVALID,
                               "act: act %s (expected gelu, gelu_apprx_tanh, silu or relu)",
                               trn_act_name(op->act));
        return TRN_OK;
    case TRN_LOWER_MOE_COMBINE:
        if (op->n < 1 || op->n > (1 << 20))
            return trn_err_set(err, TRN_E_INVALID,
                               "moe_combine: n = %lld (expected 1 to %d columns)", (long long)op->n,
                               1 << 20);
        if (op->topk < 1 || op->topk > TRN_LOWER_COMBINE_MAX_SLOTS)
            return trn_err_set(err, TRN_E_INVALID,
                               "moe_combine: topk = %lld (expected 1 to %d expert slots per "
                               "token)",
                               (long long)op->topk, TRN_LOWER_COMBINE_MAX_SLOTS);
        return TRN_OK;
    case TRN_LOWER_EMBED:
        /* k table rows (int32 ids), n columns */
        if (op->k < 1 || op->k > 2147483647 || op->n < 1 || op->n > (1 << 20))
            return trn_err_set(err, TRN_E_INVALID,
                               "embed: k = %lld table rows, n = %lld columns (expected k 1 to "
                               "2147483647, the int32 ids, and n 1 to %d)",
                               (long long)op->k, (long long)op->n, 1 << 20);
        return TRN_OK;
    default: return TRN_OK;
    }
}

/* ---- emit, compile ---------------------------------------------------------------------- */

static trn_status emit(const trn_lower_op *op, const trn_isa_target *t, char **tasm,
                       trn_lower_mem *mem, trn_err *err);

trn_status trn_lower_emit(const trn_lower_op *op, const trn_isa_target *t, char **tasm,
                          trn_err *err) {
    return emit(op, t, tasm, NULL, err);
}

trn_status trn_lower_mem_get(const trn_lower_op *op, const trn_isa_target *t, trn_lower_mem *m,
                             trn_err *err) {
    memset(m, 0, sizeof *m);
    char *text = NULL;
    trn_status s = emit(op, t, &text, m, err);
    free(text);
    return s;
}

/* The packed peak of the tiles of memory `mem` of e (live ranges already found). */
static uint64_t packed_peak(const lw *e, trn_mem mem) {
    int n = 0;
    for (int i = 0; i < e->ntiles; i++) n += e->tiles[i].mem == mem;
    lw_ival *iv = malloc(sizeof *iv * (size_t)(n ? n : 1));
    if (!iv) return 0;
    for (int i = 0, k = 0; i < e->ntiles; i++)
        if (e->tiles[i].mem == mem)
            iv[k++] = (lw_ival){e->tiles[i].bytes, e->tiles[i].first, e->tiles[i].last, 0};
    uint64_t peak = lw_pack(iv, n, mem == TRN_MEM_PSUM);
    free(iv);
    return peak;
}

static trn_status emit(const trn_lower_op *op, const trn_isa_target *t, char **tasm,
                       trn_lower_mem *mem, trn_err *err) {
    if (tasm) *tasm = NULL;
    trn_status s = trn_lower_check(op, t, err);
    if (s != TRN_OK) return s;
    lw e;
    lw_init(&e, op, t);
    char key[256];
    trn_lower_key(op, key, sizeof key);
    lw_printf(&e, "# trnsim lowering of %s for NeuronCore-%s\n", key, t->name);
    switch (op->kind) {
    case TRN_LOWER_LINEAR: s = lw_linear(&e, err); break;
    case TRN_LOWER_RMSNORM:
    case TRN_LOWER_LAYERNORM:
    case TRN_LOWER_SOFTMAX: s = lw_rownorm(&e, err); break;
    case TRN_LOWER_ADD:
    case TRN_LOWER_MUL:
    case TRN_LOWER_SWIGLU: s = lw_eltwise(&e, err); break;
    case TRN_LOWER_ROPE: s = lw_rope(&e, err); break;
    case TRN_LOWER_ATTENTION: s = lw_attention(&e, err); break;
    case TRN_LOWER_EMBED: s = lw_embed(&e, err); break;
    case TRN_LOWER_ROUTER: s = lw_router(&e, err); break;
    case TRN_LOWER_GLU_OAI: s = lw_glu_oai(&e, err); break;
    case TRN_LOWER_ACT: s = lw_act(&e, err); break;
    case TRN_LOWER_MOE_COMBINE: s = lw_moe_combine(&e, err); break;
    default: s = trn_err_set(err, TRN_E_INVALID, "lower: unknown op"); break;
    }
    if (s == TRN_OK) s = lw_finish(&e, err);
    if (s == TRN_OK && mem) { /* lw_finish found the live ranges */
        mem->sbuf_sum = e.sbuf_bytes;
        mem->psum_sum = e.psum_bytes;
        mem->sbuf_peak = e.base_sbuf + packed_peak(&e, TRN_MEM_SBUF);
        mem->psum_peak = e.base_psum + packed_peak(&e, TRN_MEM_PSUM);
        mem->tiles = e.ntiles;
        mem->packed = e.packed;
    }
    if (s != TRN_OK) {
        lw_fini(&e);
        return s;
    }
    *tasm = e.buf;
    free(e.tiles);
    return TRN_OK;
}

trn_status trn_lower_compile(const trn_lower_op *op, const trn_isa_target *t, trn_program **out,
                             trn_err *err) {
    *out = NULL;
    char *text = NULL;
    trn_status s = trn_lower_emit(op, t, &text, err);
    if (s != TRN_OK) return s;
    char path[96];
    snprintf(path, sizeof path, "<lowered %s>", trn_lower_kind_name(op->kind));
    trn_asm_opts o = {0};
    o.core_version = t->version;
    trn_program *p = NULL;
    trn_err e2 = {0};
    s = trn_program_assemble(text, path, &o, &p, &e2);
    if (s == TRN_OK) s = trn_program_verify(p, t, &e2);
    free(text);
    if (s != TRN_OK) {
        trn_program_destroy(p);
        if (s == TRN_E_NOMEM) return trn_err_set(err, s, "lower: out of memory");
        return trn_err_set(err, TRN_E_INVALID, "lowering bug, the kernel does not assemble: %s",
                           e2.msg);
    }
    *out = p;
    return TRN_OK;
}

void trn_lower_key(const trn_lower_op *op, char *buf, size_t n) {
    snprintf(buf, n,
             "%s m=%lld k=%lld n=%lld x=%s y=%s prec=%s bias=%d act=%s eps=%g h=%lld kvh=%lld "
             "d=%lld q=%lld kv=%lld win=%lld sinks=%d scale=%.17g topk=%lld gate=%d alpha=%.17g "
             "limit=%.17g sbuf=%llu spill=%d glu=%d",
             trn_lower_kind_name(op->kind), (long long)op->m, (long long)op->k, (long long)op->n,
             trn_dtype_name(op->dtype), trn_dtype_name(op->out_dtype), trn_precision_name(op->prec),
             op->bias, trn_act_name(op->act), op->eps, (long long)op->heads,
             (long long)op->kv_heads, (long long)op->head_dim, (long long)op->q_len,
             (long long)op->kv_len, (long long)op->window, op->sinks, op->scale,
             (long long)op->topk, op->gating, op->alpha, op->limit,
             (unsigned long long)op->sbuf_limit_bytes, op->x_spill, op->glu_oai);
}

int64_t trn_lower_panel_width(int64_t n, int64_t pi) {
    int64_t np = lw_cdiv(n, TRN_LOWER_PANEL);
    if (pi < np - 1) return TRN_LOWER_PANEL;
    int64_t rest = n - (np - 1) * TRN_LOWER_PANEL;
    return lw_cdiv(rest, TRN_LOWER_PANEL_ALIGN) * TRN_LOWER_PANEL_ALIGN;
}

int64_t trn_lower_panel_cols(int64_t n) {
    int64_t np = lw_cdiv(n, TRN_LOWER_PANEL);
    return (np - 1) * TRN_LOWER_PANEL + trn_lower_panel_width(n, np - 1);
}

void trn_lower_pack_mx_panels(const double *w, int64_t k, int64_t n, double *out) {
    int64_t np = lw_cdiv(n, TRN_LOWER_PANEL), kp = k / 512;
    for (int64_t pi = 0; pi < np; pi++) {
        int64_t wp = trn_lower_panel_width(n, pi);
        double *o = out + pi * k * TRN_LOWER_PANEL; /* every panel before is 512 wide */
        for (int64_t s = 0; s < kp; s++)
            for (int64_t p = 0; p < 128; p++)
                for (int64_t c = 0; c < wp; c++)
                    for (int64_t j = 0; j < 4; j++) {
                        int64_t col = pi * TRN_LOWER_PANEL + c, row = s * 512 + 4 * p + j;
                        o[((s * 128 + p) * wp + c) * 4 + j] = col < n ? w[row * n + col] : 0.0;
                    }
    }
}

void trn_lower_pack_panels(const double *w, int64_t k, int64_t n, double *out) {
    int64_t np = lw_cdiv(n, TRN_LOWER_PANEL);
    for (int64_t pi = 0; pi < np; pi++) {
        int64_t wp = trn_lower_panel_width(n, pi);
        double *o = out + pi * k * TRN_LOWER_PANEL;
        for (int64_t r = 0; r < k; r++)
            for (int64_t c = 0; c < wp; c++) {
                int64_t col = pi * TRN_LOWER_PANEL + c;
                o[r * wp + c] = col < n ? w[r * n + col] : 0.0;
            }
    }
}

double trn_lower_flops(const trn_lower_op *op) {
    switch (op->kind) {
    case TRN_LOWER_LINEAR: return 2.0 * (double)op->m * (double)op->k * (double)op->n;
    case TRN_LOWER_EMBED: return 0; /* a gather: data movement only */
    case TRN_LOWER_ATTENTION: {
        /* visible keys of query i: min(a, window) with a = kv_len - q_len + i + 1, summed over
         * a = A .. B: the a below the window, then window for each a past it */
        double A = (double)(op->kv_len - op->q_len + 1), B = (double)op->kv_len;
        double Wn = op->window > 0 && (double)op->window < B ? (double)op->window : B;
        double keys = 0;
        if (Wn >= A) keys += (A + Wn) * (Wn - A + 1) / 2;
        keys += Wn * (B - (Wn >= A ? Wn : A - 1));
        return 4.0 * (double)op->heads * (double)op->head_dim * keys;
    }
    default: return 0;
    }
}

trn_dtype trn_lower_mx_weight_dtype(trn_precision p) {
    return p == TRN_PREC_MXFP4    ? TRN_DTYPE_FP4_E2M1
           : p == TRN_PREC_MXFP8Q ? TRN_DTYPE_FP8_E4M3
                                  : TRN_DTYPE_COUNT;
}

trn_status trn_lower_pack_mx_weights(const double *w, int64_t k, int64_t n, trn_dtype elem,
                                     trn_scale_rule rule, double *codes, double *scales,
                                     trn_err *err) {
    if (elem != TRN_DTYPE_FP4_E2M1 && elem != TRN_DTYPE_FP8_E4M3)
        return trn_err_set(err, TRN_E_INVALID,
                           "pack_mx_weights: element type %s (expected fp4_e2m1 or fp8_e4m3)",
                           trn_dtype_name(elem));
    if (k < 4 || k % 4 || n < 1)
        return trn_err_set(err, TRN_E_INVALID,
                           "pack_mx_weights: k = %lld, n = %lld (expected k a multiple of 4, "
                           "n >= 1)",
                           (long long)k, (long long)n);
    int64_t np = lw_cdiv(n, TRN_LOWER_PANEL), kp = lw_cdiv(k, 512);
    int bits = elem == TRN_DTYPE_FP4_E2M1 ? 4 : 8;
    trn_cvt_opts o;
    memset(&o, 0, sizeof o);
    for (int64_t pi = 0; pi < np; pi++) {
        /* panel pi: codes [kp, 128, wp] at 512 kp 128 pi, scales [16, kp, wp] at 512 16 kp pi */
        int64_t wp = trn_lower_panel_width(n, pi);
        double *co = codes + pi * kp * 128 * TRN_LOWER_PANEL;
        double *so = scales + pi * 16 * kp * TRN_LOWER_PANEL;
        for (int64_t s = 0; s < kp; s++)
            for (int64_t c = 0; c < wp; c++) {
                int64_t col = pi * TRN_LOWER_PANEL + c;
                for (int64_t g = 0; g < 16; g++) {
                    float blk[TRN_MX_BLOCK];
                    for (int i = 0; i < TRN_MX_BLOCK; i++) {
                        int64_t row = s * 512 + g * 32 + i;
                        blk[i] = col < n && row < k ? (float)w[row * n + col] : 0.0f;
                    }
                    uint8_t sc, cd[TRN_MX_BLOCK];
                    trn_mx_quantize_block(elem, rule, blk, 1, &o, &sc, cd);
                    so[(g * kp + s) * wp + c] = sc;
                    /* partitions 8g .. 8g + 7, slot j: element 4 q + j of the block */
                    for (int q = 0; q < 8; q++) {
                        uint32_t word = 0;
                        for (int j = 0; j < 4; j++) word |= (uint32_t)cd[4 * q + j] << (bits * j);
                        co[(s * 128 + 8 * g + q) * wp + c] = word;
                    }
                }
            }
    }
    return TRN_OK;
}

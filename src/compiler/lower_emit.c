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
    "rope",   "attention", "embed",     "router",  "glu_oai", "act"};
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
    e->buf = NULL;
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

void lw_tile(lw *e, trn_mem mem, const char *name, trn_dtype dt, int rank, const int64_t *dims) {
    int64_t fe = 1;
    for (int i = 1; i < rank; i++) fe *= dims[i];
    uint64_t b = lw_tile_bytes(dt, fe);
    if (mem == TRN_MEM_PSUM) {
        uint64_t off = e->psum_bytes, bank = TRN_PSUM_BANK_BYTES;
        if (b > bank || off / bank != (off + b - 1) / bank) off = (off + bank - 1) / bank * bank;
        e->psum_bytes = off + b;
    } else {
        e->sbuf_bytes += b;
    }
    lw_printf(e, "%s %-6s %s [", mem == TRN_MEM_PSUM ? ".psum" : ".sbuf", name, trn_dtype_name(dt));
    for (int i = 0; i < rank; i++) lw_printf(e, "%s%lld", i ? ", " : "", (long long)dims[i]);
    lw_printf(e, "]\n");
}

const char *lw_dma_engine(lw *e) {
    if (e->t->version < 3) return "";
    /* hardware DGE on the two sequencers that have it (SP, ACT); SP does nothing else here,
     * so it takes the descriptors and ACT stays free for the evictions */
    return " engine=sync";
}

trn_status lw_check_fit(lw *e, const char *what, trn_err *err) {
    if (e->sbuf_bytes > e->t->sbuf_bytes_per_partition)
        return trn_err_set(err, TRN_E_UNSUPPORTED,
                           "%s: needs %llu bytes of SBUF per partition, NeuronCore-%s has %llu",
                           what, (unsigned long long)e->sbuf_bytes, e->t->name,
                           (unsigned long long)e->t->sbuf_bytes_per_partition);
    if (e->psum_bytes > e->t->psum_bytes_per_partition)
        return trn_err_set(err, TRN_E_UNSUPPORTED,
                           "%s: needs %llu bytes of PSUM per partition, NeuronCore-%s has %llu",
                           what, (unsigned long long)e->psum_bytes, e->t->name,
                           (unsigned long long)e->t->psum_bytes_per_partition);
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
        return TRN_OK;
    default: return TRN_OK;
    }
}

/* ---- emit, compile ---------------------------------------------------------------------- */

trn_status trn_lower_emit(const trn_lower_op *op, const trn_isa_target *t, char **tasm,
                          trn_err *err) {
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
    default: s = trn_err_set(err, TRN_E_INVALID, "lower: unknown op"); break;
    }
    if (s == TRN_OK && e.oom) s = trn_err_set(err, TRN_E_NOMEM, "lower: out of memory");
    if (s != TRN_OK) {
        lw_fini(&e);
        return s;
    }
    *tasm = e.buf;
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
             "limit=%.17g sbuf=%llu",
             trn_lower_kind_name(op->kind), (long long)op->m, (long long)op->k, (long long)op->n,
             trn_dtype_name(op->dtype), trn_dtype_name(op->out_dtype), trn_precision_name(op->prec),
             op->bias, trn_act_name(op->act), op->eps, (long long)op->heads,
             (long long)op->kv_heads, (long long)op->head_dim, (long long)op->q_len,
             (long long)op->kv_len, (long long)op->window, op->sinks, op->scale,
             (long long)op->topk, op->gating, op->alpha, op->limit,
             (unsigned long long)op->sbuf_limit_bytes);
}

void trn_lower_pack_mx_panels(const double *w, int64_t k, int64_t n, double *out) {
    int64_t np = lw_cdiv(n, TRN_LOWER_PANEL), kp = k / 512;
    for (int64_t pi = 0; pi < np; pi++)
        for (int64_t s = 0; s < kp; s++)
            for (int64_t p = 0; p < 128; p++)
                for (int64_t c = 0; c < TRN_LOWER_PANEL; c++)
                    for (int64_t j = 0; j < 4; j++) {
                        int64_t col = pi * TRN_LOWER_PANEL + c, row = s * 512 + 4 * p + j;
                        out[(((pi * kp + s) * 128 + p) * TRN_LOWER_PANEL + c) * 4 + j] =
                            col < n ? w[row * n + col] : 0.0;
                    }
}

void trn_lower_pack_panels(const double *w, int64_t k, int64_t n, double *out) {
    int64_t np = lw_cdiv(n, TRN_LOWER_PANEL);
    for (int64_t pi = 0; pi < np; pi++)
        for (int64_t r = 0; r < k; r++)
            for (int64_t c = 0; c < TRN_LOWER_PANEL; c++) {
                int64_t col = pi * TRN_LOWER_PANEL + c;
                out[(pi * k + r) * TRN_LOWER_PANEL + c] = col < n ? w[r * n + col] : 0.0;
            }
}

double trn_lower_flops(const trn_lower_op *op) {
    switch (op->kind) {
    case TRN_LOWER_LINEAR: return 2.0 * (double)op->m * (double)op->k * (double)op->n;
    case TRN_LOWER_ATTENTION: {
        /* visible keys of query i: kv_len - q_len + i + 1 */
        double keys = (double)op->q_len * (double)(op->kv_len - op->q_len) +
                      (double)op->q_len * (double)(op->q_len + 1) / 2;
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
    for (int64_t pi = 0; pi < np; pi++)
        for (int64_t s = 0; s < kp; s++)
            for (int64_t c = 0; c < TRN_LOWER_PANEL; c++) {
                int64_t col = pi * TRN_LOWER_PANEL + c;
                for (int64_t g = 0; g < 16; g++) {
                    float blk[TRN_MX_BLOCK];
                    for (int i = 0; i < TRN_MX_BLOCK; i++) {
                        int64_t row = s * 512 + g * 32 + i;
                        blk[i] = col < n && row < k ? (float)w[row * n + col] : 0.0f;
                    }
                    uint8_t sc, cd[TRN_MX_BLOCK];
                    trn_mx_quantize_block(elem, rule, blk, 1, &o, &sc, cd);
                    scales[((pi * 16 + g) * kp + s) * TRN_LOWER_PANEL + c] = sc;
                    /* partitions 8g .. 8g + 7, slot j: element 4 q + j of the block */
                    for (int q = 0; q < 8; q++) {
                        uint32_t word = 0;
                        for (int j = 0; j < 4; j++) word |= (uint32_t)cd[4 * q + j] << (bits * j);
                        codes[((pi * kp + s) * 128 + 8 * g + q) * TRN_LOWER_PANEL + c] = word;
                    }
                }
            }
    return TRN_OK;
}

/* The reference interpreter: runs a graph op by op in plain FP32 C, each op a straightforward
 * loop written for clarity, independent of any lowering. It is the model the compiled
 * NeuronCore programs are checked against.
 *
 * Arithmetic: every sum is an FP32 accumulation in index order (dot products over k
 * ascending, attention over keys ascending); exp, tanh, erf and cos/sin are the C library's
 * in double, rounded to FP32. A row's result never depends on the other rows of the step, so a
 * decode step gives bit for bit the logits of recomputing the whole sequence.
 *
 * Deliberately left out: speed (no blocking, threads or SIMD), batches, lower precisions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trnsim/graph.h"

struct trn_ref {
    const trn_model *m;
    const trn_weights *w;
    int64_t max_ctx, pos;
    int nkv;
    char (*kv_name)[TRN_GRAPH_NAME_MAX];
    float **kv;
    int64_t *kv_elems;
    /* the last run: its tensor table and buffers (activations owned, others borrowed) */
    trn_gtensor *tt;
    void **buf;
    unsigned char *owned;
    int nt;
};

static void free_run(trn_ref *r) {
    for (int i = 0; i < r->nt; i++)
        if (r->owned[i]) free(r->buf[i]);
    free(r->tt);
    free(r->buf);
    free(r->owned);
    r->tt = NULL;
    r->buf = NULL;
    r->owned = NULL;
    r->nt = 0;
}

void trn_ref_destroy(trn_ref *r) {
    if (!r) return;
    free_run(r);
    for (int i = 0; i < r->nkv; i++) free(r->kv[i]);
    free(r->kv);
    free(r->kv_name);
    free(r->kv_elems);
    free(r);
}

trn_status trn_ref_create(const trn_model *m, const trn_weights *w, int64_t max_ctx, trn_ref **out,
                          trn_err *err) {
    *out = NULL;
    trn_step st = {1, 0, max_ctx, 0};
    trn_graph *g = NULL;
    trn_status s = trn_graph_build(m, &st, &g, err);
    if (s != TRN_OK) return s;
    trn_ref *r = calloc(1, sizeof *r);
    if (!r) {
        trn_graph_destroy(g);
        return trn_err_set(err, TRN_E_NOMEM, "out of memory");
    }
    r->m = m;
    r->w = w;
    r->max_ctx = max_ctx;
    int n = 0;
    for (int i = 0; i < g->ntensors; i++) n += g->tensors[i].role == TRN_GROLE_KV_CACHE;
    r->kv = calloc((size_t)n + 1, sizeof *r->kv);
    r->kv_name = calloc((size_t)n + 1, sizeof *r->kv_name);
    r->kv_elems = calloc((size_t)n + 1, sizeof *r->kv_elems);
    s = r->kv && r->kv_name && r->kv_elems ? TRN_OK : TRN_E_NOMEM;
    for (int i = 0; s == TRN_OK && i < g->ntensors; i++) {
        const trn_gtensor *t = &g->tensors[i];
        if (t->role != TRN_GROLE_KV_CACHE) continue;
        snprintf(r->kv_name[r->nkv], TRN_GRAPH_NAME_MAX, "%s", t->name);
        r->kv_elems[r->nkv] = trn_gtensor_elems(t);
        r->kv[r->nkv] = calloc((size_t)r->kv_elems[r->nkv], sizeof(float));
        if (!r->kv[r->nkv]) s = TRN_E_NOMEM;
        r->nkv++;
    }
    trn_graph_destroy(g);
    if (s != TRN_OK) {
        trn_ref_destroy(r);
        return trn_err_set(err, TRN_E_NOMEM, "out of memory for a KV cache of %lld positions",
                           (long long)max_ctx);
    }
    *out = r;
    return TRN_OK;
}

void trn_ref_reset(trn_ref *r) {
    r->pos = 0;
    for (int i = 0; i < r->nkv; i++) memset(r->kv[i], 0, (size_t)r->kv_elems[i] * sizeof(float));
}

int64_t trn_ref_pos(const trn_ref *r) {
    return r->pos;
}

const void *trn_ref_tensor(const trn_ref *r, const char *name, const trn_gtensor **info) {
    for (int i = 0; i < r->nt; i++)
        if (strcmp(r->tt[i].name, name) == 0) {
            if (info) *info = &r->tt[i];
            return r->buf[i];
        }
    return NULL;
}

/* ---- the ops ------------------------------------------------------------------------------ */

static float sigmoidf_(float x) {
    return (float)(1.0 / (1.0 + exp(-(double)x)));
}

/* y[T, N] = x[T, K] W (+ b): W is [N, K] (OUT_IN) or [K, N] (IN_OUT). */
static void linear(const float *x, const float *w, const float *b, float *y, int64_t T, int64_t K,
                   int64_t N, int in_out) {
    for (int64_t t = 0; t < T; t++)
        for (int64_t n = 0; n < N; n++) {
            float acc = 0.0f;
            for (int64_t k = 0; k < K; k++)
                acc += x[t * K + k] * (in_out ? w[k * N + n] : w[n * K + k]);
            y[t * N + n] = b ? acc + b[n] : acc;
        }
}

static void rope(const trn_gop *o, const float *x, const float *inv, float *y, int64_t T) {
    int64_t d = o->head_dim, half = d / 2, W = o->heads * d;
    for (int64_t t = 0; t < T; t++) {
        float pos = (float)(o->pos0 + t);
        for (int64_t h = 0; h < o->heads; h++) {
            const float *xr = x + t * W + h * d;
            float *yr = y + t * W + h * d;
            for (int64_t i = 0; i < half; i++) {
                float ang = pos * inv[i]; /* FP32, as HF's freqs = inv_freq @ positions */
                float c = (float)(cos((double)ang) * o->scale);
                float s = (float)(sin((double)ang) * o->scale);
                float x1 = xr[i], x2 = xr[i + half];
                yr[i] = x1 * c - x2 * s;
                yr[i + half] = x2 * c + x1 * s;
            }
        }
    }
}

/* Appends k, v at positions pos0.. to the caches, then for each query row t at position
 * p = pos0 + t and head h (KV head h / (heads / kv_heads)): softmax over keys j in
 * [max(0, p - window + 1), p] (and the sink logit when given) of q.k_j * scale, times v_j. */
static void attention(const trn_gop *o, float *const *in, float *y, int64_t T, float *scores) {
    const float *q = in[0], *k = in[1], *v = in[2], *sinks = in[5];
    float *kc = in[3], *vc = in[4];
    int64_t d = o->head_dim, KW = o->kv_heads * d, QW = o->heads * d;
    int64_t grp = o->heads / o->kv_heads;
    memcpy(kc + o->pos0 * KW, k, (size_t)(T * KW) * sizeof(float));
    memcpy(vc + o->pos0 * KW, v, (size_t)(T * KW) * sizeof(float));
    for (int64_t t = 0; t < T; t++) {
        int64_t p = o->pos0 + t;
        int64_t lo = o->window > 0 && p - o->window + 1 > 0 ? p - o->window + 1 : 0;
        for (int64_t h = 0; h < o->heads; h++) {
            const float *qr = q + t * QW + h * d;
            int64_t g = h / grp;
            float mx = -INFINITY;
            for (int64_t j = lo; j <= p; j++) {
                float acc = 0.0f;
                for (int64_t i = 0; i < d; i++) acc += qr[i] * kc[j * KW + g * d + i];
                scores[j] = acc * (float)o->scale;
                if (scores[j] > mx) mx = scores[j];
            }
            if (sinks && sinks[h] > mx) mx = sinks[h];
            float den = 0.0f;
            for (int64_t j = lo; j <= p; j++) {
                scores[j] = (float)exp((double)(scores[j] - mx));
                den += scores[j];
            }
            if (sinks) den += (float)exp((double)(sinks[h] - mx));
            float *yr = y + t * QW + h * d;
            for (int64_t i = 0; i < d; i++) yr[i] = 0.0f;
            for (int64_t j = lo; j <= p; j++) {
                float pj = scores[j] / den;
                for (int64_t i = 0; i < d; i++) yr[i] += pj * vc[j * KW + g * d + i];
            }
        }
    }
}

static float oai_glu(float g, float u, float alpha, float limit) {
    g = g > limit ? limit : g;
    u = u > limit ? limit : u < -limit ? -limit : u;
    return (u + 1.0f) * (g * sigmoidf_(alpha * g));
}

/* Router: top-k experts per row, by descending score (lowest index first on ties). */
static void router(const trn_gop *o, const float *x, const float *w, const float *b, int32_t *ids,
                   float *wts, int64_t T, int64_t H, int64_t E, float *logit, float *score) {
    int64_t K = o->k;
    for (int64_t t = 0; t < T; t++) {
        linear(x + t * H, w, b, logit, 1, H, E, 0);
        if (o->gating == TRN_GATE_SOFTMAX_TOPK) {
            float mx = -INFINITY, den = 0.0f;
            for (int64_t e = 0; e < E; e++) mx = logit[e] > mx ? logit[e] : mx;
            for (int64_t e = 0; e < E; e++) den += score[e] = (float)exp((double)(logit[e] - mx));
            for (int64_t e = 0; e < E; e++) score[e] /= den;
        } else if (o->gating == TRN_GATE_SIGMOID_TOPK) {
            for (int64_t e = 0; e < E; e++) score[e] = sigmoidf_(logit[e]);
        } else {
            for (int64_t e = 0; e < E; e++) score[e] = logit[e];
        }
        int32_t *id = ids + t * K;
        float *wt = wts + t * K;
        for (int64_t j = 0; j < K; j++) {
            int64_t best = -1;
            for (int64_t e = 0; e < E; e++) {
                int taken = 0;
                for (int64_t i = 0; i < j; i++) taken |= id[i] == e;
                if (!taken && (best < 0 || score[e] > score[best])) best = e;
            }
            id[j] = (int32_t)best;
            wt[j] = score[best];
        }
        if (o->gating == TRN_GATE_TOPK_SOFTMAX) {
            float mx = wt[0], den = 0.0f; /* wt[0] is the largest */
            for (int64_t j = 0; j < K; j++) den += wt[j] = (float)exp((double)(wt[j] - mx));
            for (int64_t j = 0; j < K; j++) wt[j] /= den;
        } else {
            float sum = 0.0f;
            for (int64_t j = 0; j < K; j++) sum += wt[j];
            for (int64_t j = 0; j < K; j++) wt[j] /= sum;
        }
    }
}

/* out[t] = sum over the row's k slots of weight x expert_e(x[t]), in slot order. */
static void experts(const trn_gop *o, float *const *in, const trn_gtensor *const *ti, float *y,
                    int64_t T, float *a, float *bb, float *c) {
    const float *x = in[0], *wts = in[2];
    const int32_t *ids = (const int32_t *)in[1];
    int64_t H = ti[0]->shape[1], K = o->k;
    memset(y, 0, (size_t)(T * H) * sizeof(float));
    for (int64_t t = 0; t < T; t++)
        for (int64_t j = 0; j < K; j++) {
            int64_t e = ids[t * K + j];
            const float *xr = x + t * H;
            if (o->expert == TRN_EXPERT_SWIGLU) {
                int64_t I = ti[3]->shape[1];
                linear(xr, in[3] + e * I * H, NULL, a, 1, H, I, 0);  /* w1: gate */
                linear(xr, in[4] + e * I * H, NULL, bb, 1, H, I, 0); /* w3: up */
                for (int64_t i = 0; i < I; i++) a[i] = a[i] * sigmoidf_(a[i]) * bb[i];
                linear(a, in[5] + e * H * I, NULL, c, 1, I, H, 0); /* w2: down */
            } else {
                int64_t I2 = ti[3]->shape[2], I = I2 / 2;
                linear(xr, in[3] + e * H * I2, in[4] + e * I2, a, 1, H, I2, 1);
                for (int64_t i = 0; i < I; i++)
                    bb[i] = oai_glu(a[2 * i], a[2 * i + 1], (float)o->alpha, (float)o->limit);
                linear(bb, in[5] + e * I * H, in[6] + e * H, c, 1, I, H, 1);
            }
            float wt = wts[t * K + j];
            for (int64_t h = 0; h < H; h++) y[t * H + h] += wt * c[h];
        }
}

static void exec_op(const trn_gop *o, float *const *in, const trn_gtensor *const *ti, void **outs,
                    const trn_gtensor *to, float *scratch) {
    float *y = outs[0];
    int64_t T = to->shape[0], N = to->rank > 1 ? to->shape[1] : 1, n = T * N;
    const float *x = in[0];
    switch (o->kind) {
    case TRN_GOP_EMBED: {
        const int32_t *ids = (const int32_t *)in[0];
        for (int64_t t = 0; t < T; t++)
            memcpy(y + t * N, in[1] + (int64_t)ids[t] * N, (size_t)N * sizeof(float));
        break;
    }
    case TRN_GOP_POS_EMBED: memcpy(y, in[0] + o->pos0 * N, (size_t)n * sizeof(float)); break;
    case TRN_GOP_LINEAR:
        linear(x, in[1], o->nin > 2 ? in[2] : NULL, y, T, ti[0]->shape[1], N,
               ti[1]->layout == TRN_LAYOUT_IN_OUT);
        break;
    case TRN_GOP_ADD:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] + in[1][i];
        break;
    case TRN_GOP_MUL:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * in[1][i];
        break;
    case TRN_GOP_RMSNORM:
        for (int64_t t = 0; t < T; t++) {
            float ss = 0.0f;
            for (int64_t i = 0; i < N; i++) ss += x[t * N + i] * x[t * N + i];
            float r = (float)(1.0 / sqrt((double)(ss / (float)N + (float)o->eps)));
            for (int64_t i = 0; i < N; i++) y[t * N + i] = in[1][i] * (x[t * N + i] * r);
        }
        break;
    case TRN_GOP_LAYERNORM:
        for (int64_t t = 0; t < T; t++) {
            float mean = 0.0f, var = 0.0f;
            for (int64_t i = 0; i < N; i++) mean += x[t * N + i];
            mean /= (float)N;
            for (int64_t i = 0; i < N; i++) var += (x[t * N + i] - mean) * (x[t * N + i] - mean);
            var /= (float)N;
            float r = (float)(1.0 / sqrt((double)(var + (float)o->eps)));
            for (int64_t i = 0; i < N; i++)
                y[t * N + i] = (x[t * N + i] - mean) * r * in[1][i] + in[2][i];
        }
        break;
    case TRN_GOP_ROPE: rope(o, x, in[1], y, T); break;
    case TRN_GOP_ATTENTION: attention(o, in, y, T, scratch); break;
    case TRN_GOP_SOFTMAX:
        for (int64_t t = 0; t < T; t++) {
            float mx = -INFINITY, den = 0.0f;
            for (int64_t i = 0; i < N; i++) mx = x[t * N + i] > mx ? x[t * N + i] : mx;
            for (int64_t i = 0; i < N; i++)
                den += y[t * N + i] = (float)exp((double)(x[t * N + i] - mx));
            for (int64_t i = 0; i < N; i++) y[t * N + i] /= den;
        }
        break;
    case TRN_GOP_GELU_TANH:
        for (int64_t i = 0; i < n; i++) {
            double v = x[i];
            y[i] = (float)(0.5 * v * (1.0 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))));
        }
        break;
    case TRN_GOP_GELU:
        for (int64_t i = 0; i < n; i++) y[i] = (float)(0.5 * x[i] * (1.0 + erf(x[i] / sqrt(2.0))));
        break;
    case TRN_GOP_SILU:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * sigmoidf_(x[i]);
        break;
    case TRN_GOP_SWIGLU:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * sigmoidf_(x[i]) * in[1][i];
        break;
    case TRN_GOP_SWIGLU_OAI:
        for (int64_t t = 0; t < T; t++)
            for (int64_t i = 0; i < N; i++)
                y[t * N + i] = oai_glu(x[t * 2 * N + 2 * i], x[t * 2 * N + 2 * i + 1],
                                       (float)o->alpha, (float)o->limit);
        break;
    case TRN_GOP_SLICE_COLS:
        for (int64_t t = 0; t < T; t++)
            memcpy(y + t * N, x + t * ti[0]->shape[1] + o->col0, (size_t)N * sizeof(float));
        break;
    case TRN_GOP_LAST_ROW:
        memcpy(y, x + (ti[0]->shape[0] - 1) * N, (size_t)N * sizeof(float));
        break;
    case TRN_GOP_MOE_ROUTER: {
        int64_t E = ti[1]->shape[0];
        router(o, x, in[1], o->nin > 2 ? in[2] : NULL, (int32_t *)outs[0], outs[1], T,
               ti[0]->shape[1], E, scratch, scratch + E);
        break;
    }
    case TRN_GOP_MOE_EXPERTS: {
        /* scratch: a [2I] (gate_up or gate), b [2I] (up or GLU), c [H] */
        int64_t I2 = o->expert == TRN_EXPERT_SWIGLU ? 2 * ti[3]->shape[1] : ti[3]->shape[2];
        experts(o, in, ti, y, T, scratch, scratch + I2, scratch + 2 * I2);
        break;
    }
    default: TRN_ASSERT(!"op kind without a reference");
    }
}

/* Op o of g on the tensors' buffers (indexed like g->tensors). */
static void run_op(const trn_graph *g, const trn_gop *o, void *const *buf, float *scratch) {
    float *in[TRN_GOP_MAX_IN] = {0};
    const trn_gtensor *ti[TRN_GOP_MAX_IN] = {0};
    for (int j = 0; j < o->nin; j++)
        if (o->in[j] >= 0) {
            in[j] = buf[o->in[j]];
            ti[j] = &g->tensors[o->in[j]];
        }
    void *outs[2] = {buf[o->out[0]], o->nout > 1 ? buf[o->out[1]] : NULL};
    exec_op(o, in, ti, outs, &g->tensors[o->out[0]], scratch);
}

trn_status trn_ref_op(const trn_graph *g, int op, void *const *buf, trn_err *err) {
    if (op < 0 || op >= g->nops)
        return trn_err_set(err, TRN_E_RANGE, "reference: op %d, the graph has %d", op, g->nops);
    const trn_gop *o = &g->ops[op];
    int64_t n = 16;
    for (int j = 0; j < o->nin; j++) {
        if (o->in[j] < 0) continue;
        if (!buf[o->in[j]])
            return trn_err_set(err, TRN_E_INVALID,
                               "reference: op %s (%s): no data for input %d '%s'",
                               trn_op_name(o->kind), o->label, j, g->tensors[o->in[j]].name);
        int64_t e = trn_gtensor_elems(&g->tensors[o->in[j]]);
        n = e > n ? e : n;
    }
    for (int j = 0; j < o->nout; j++)
        if (!buf[o->out[j]])
            return trn_err_set(err, TRN_E_INVALID,
                               "reference: op %s (%s): no buffer for output '%s'",
                               trn_op_name(o->kind), o->label, g->tensors[o->out[j]].name);
    float *scratch = malloc((size_t)(4 * n) * sizeof(float));
    if (!scratch) return trn_err_set(err, TRN_E_NOMEM, "out of memory");
    run_op(g, o, buf, scratch);
    free(scratch);
    return TRN_OK;
}

trn_status trn_ref_run(trn_ref *r, const trn_graph *g, const int32_t *tokens, float *logits,
                       trn_err *err) {
    int64_t T = g->step.tokens, V = g->cfg->vocab;
    if (g->step.pos0 != r->pos)
        return trn_err_set(err, TRN_E_RANGE,
                           "reference: the graph starts at position %lld, the sequence is at %lld",
                           (long long)g->step.pos0, (long long)r->pos);
    if (g->step.max_ctx != r->max_ctx)
        return trn_err_set(
            err, TRN_E_RANGE,
            "reference: the graph's KV cache holds %lld positions, this sequence's %lld",
            (long long)g->step.max_ctx, (long long)r->max_ctx);
    for (int64_t t = 0; t < T; t++)
        if (tokens[t] < 0 || tokens[t] >= V)
            return trn_err_set(err, TRN_E_RANGE, "reference: token %lld is id %d, expected 0..%lld",
                               (long long)t, (int)tokens[t], (long long)(V - 1));
    free_run(r);
    int nt = g->ntensors;
    r->tt = malloc((size_t)nt * sizeof *r->tt);
    r->buf = calloc((size_t)nt, sizeof *r->buf);
    r->owned = calloc((size_t)nt, 1);
    if (!r->tt || !r->buf || !r->owned) {
        free(r->tt);
        free(r->buf);
        free(r->owned);
        r->tt = NULL;
        return trn_err_set(err, TRN_E_NOMEM, "out of memory");
    }
    memcpy(r->tt, g->tensors, (size_t)nt * sizeof *r->tt);
    r->nt = nt;
    int64_t scratch_n = r->max_ctx;
    for (int i = 0; i < nt; i++) {
        const trn_gtensor *t = &g->tensors[i];
        int64_t ne = trn_gtensor_elems(t);
        if (ne > scratch_n) scratch_n = ne;
        if (t->role == TRN_GROLE_WEIGHT) {
            int64_t have = 0;
            r->buf[i] = trn_weights_data(r->w, t->name, &have);
            if (!r->buf[i] || have != ne)
                return trn_err_set(err, TRN_E_INVALID,
                                   "reference: weight '%s' (%lld elements) is not in the weights "
                                   "given",
                                   t->name, (long long)ne);
        } else if (t->role == TRN_GROLE_KV_CACHE) {
            for (int k = 0; k < r->nkv; k++)
                if (strcmp(r->kv_name[k], t->name) == 0 && r->kv_elems[k] == ne)
                    r->buf[i] = r->kv[k];
            if (!r->buf[i])
                return trn_err_set(err, TRN_E_INVALID, "reference: no KV cache '%s'", t->name);
        } else if (t->role == TRN_GROLE_CONST) {
            r->buf[i] = (void *)t->const_data;
        } else {
            r->buf[i] = calloc((size_t)ne, 4);
            r->owned[i] = 1;
            if (!r->buf[i]) return trn_err_set(err, TRN_E_NOMEM, "out of memory");
            if (t->role == TRN_GROLE_INPUT) memcpy(r->buf[i], tokens, (size_t)ne * 4);
        }
    }
    float *scratch = malloc((size_t)(4 * scratch_n + 16) * sizeof(float));
    if (!scratch) return trn_err_set(err, TRN_E_NOMEM, "out of memory");
    for (int i = 0; i < g->nops; i++) run_op(g, &g->ops[i], r->buf, scratch);
    free(scratch);
    r->pos += T;
    if (logits)
        memcpy(logits, r->buf[g->logits],
               (size_t)trn_gtensor_elems(&g->tensors[g->logits]) * sizeof(float));
    return TRN_OK;
}

/* Sampling (greedy, temperature, top-k, top-p with a counter-based random stream) and the
 * generate loop of the reference: a prefill of the prompt, then one decode graph per token.
 *
 * Deliberately left out: repetition penalties, beam search, stop tokens (the caller trims). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trnsim/graph.h"

typedef struct cand {
    float logit;
    int32_t id;
} cand;

/* Descending logit, ascending id on ties: a total order, so qsort's result is unique. */
static int by_logit(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->logit != y->logit) return x->logit > y->logit ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static int32_t argmax(const float *l, int64_t v) {
    int64_t best = 0;
    for (int64_t i = 1; i < v; i++)
        if (l[i] > l[best]) best = i;
    return (int32_t)best;
}

int32_t trn_sample(const float *logits, int64_t vocab, const trn_sampling *s, uint64_t step,
                   float *probs) {
    if (probs) memset(probs, 0, (size_t)vocab * sizeof(float));
    if (!s || s->temperature <= 0 || s->top_k == 1) {
        int32_t a = argmax(logits, vocab);
        if (probs) probs[a] = 1.0f;
        return a;
    }
    cand *c = malloc((size_t)vocab * sizeof *c);
    if (!c) return argmax(logits, vocab); /* no memory: the most likely token */
    for (int64_t i = 0; i < vocab; i++) {
        c[i].logit = logits[i] == logits[i] ? logits[i] : -INFINITY; /* NaN: never kept first */
        c[i].id = (int32_t)i;
    }
    qsort(c, (size_t)vocab, sizeof *c, by_logit);
    int64_t keep = s->top_k > 0 && s->top_k < vocab ? s->top_k : vocab;
    /* softmax of logit / temperature over the kept candidates, in double */
    double *p = malloc((size_t)keep * sizeof *p), den = 0;
    if (!p) {
        int32_t a = c[0].id;
        free(c);
        return a;
    }
    for (int64_t i = 0; i < keep; i++) {
        p[i] = exp(((double)c[i].logit - (double)c[0].logit) / s->temperature);
        den += p[i];
    }
    for (int64_t i = 0; i < keep; i++) p[i] /= den;
    if (s->top_p > 0 && s->top_p < 1) {
        double cum = 0;
        int64_t k = 0;
        while (k < keep) {
            cum += p[k++];
            if (cum >= s->top_p) break;
        }
        keep = k;
        den = 0;
        for (int64_t i = 0; i < keep; i++) den += p[i];
        for (int64_t i = 0; i < keep; i++) p[i] /= den;
    }
    double u = (double)trn_rng_u32(s->seed, step) / 4294967296.0, cum = 0;
    int32_t pick = c[keep - 1].id;
    for (int64_t i = 0; i < keep; i++) {
        cum += p[i];
        if (u < cum) {
            pick = c[i].id;
            break;
        }
    }
    if (probs)
        for (int64_t i = 0; i < keep; i++) probs[c[i].id] = (float)p[i];
    free(p);
    free(c);
    return pick;
}

void trn_generation_fini(trn_generation *g) {
    if (!g) return;
    free(g->tokens);
    free(g->logits);
    memset(g, 0, sizeof *g);
}

trn_status trn_generate(const trn_model *m, const trn_weights *w, const int32_t *prompt, int64_t n,
                        int64_t max_new, const trn_sampling *s, trn_generation *out, trn_err *err) {
    memset(out, 0, sizeof *out);
    const trn_model_config *c = trn_model_config_of(m);
    if (n < 1 || max_new < 1)
        return trn_err_set(err, TRN_E_RANGE,
                           "generate: a prompt of %lld tokens and %lld new ones, expected at least "
                           "1 of each",
                           (long long)n, (long long)max_new);
    int64_t ctx = n + max_new - 1; /* the last token is sampled, never fed back */
    if (ctx > c->max_positions)
        return trn_err_set(err, TRN_E_RANGE,
                           "generate: %lld prompt + %lld new tokens exceed the model's %lld "
                           "positions",
                           (long long)n, (long long)max_new, (long long)c->max_positions);
    out->vocab = c->vocab;
    out->tokens = malloc((size_t)max_new * sizeof *out->tokens);
    out->logits = malloc((size_t)(max_new * c->vocab) * sizeof *out->logits);
    if (!out->tokens || !out->logits) {
        trn_generation_fini(out);
        return trn_err_set(err, TRN_E_NOMEM, "out of memory");
    }
    trn_ref *r = NULL;
    trn_status st = trn_ref_create(m, w, ctx, &r, err);
    for (int64_t i = 0; st == TRN_OK && i < max_new; i++) {
        trn_step step = {i == 0 ? n : 1, i == 0 ? 0 : n + i - 1, ctx, 0};
        trn_graph *g = NULL;
        st = trn_graph_build(m, &step, &g, err);
        if (st != TRN_OK) break;
        float *lg = out->logits + i * c->vocab;
        const int32_t *in = i == 0 ? prompt : &out->tokens[i - 1];
        st = trn_ref_run(r, g, in, lg, err);
        trn_graph_destroy(g);
        if (st == TRN_OK) out->tokens[i] = trn_sample(lg, c->vocab, s, (uint64_t)i, NULL);
        out->steps = i + 1;
    }
    trn_ref_destroy(r);
    if (st != TRN_OK) trn_generation_fini(out);
    return st;
}

/* The request-rate serving simulation (plan_des.h has the model of the engine and the
 * definitions of every statistic).
 *
 * The loop advances one engine step at a time and does O(1) work per step plus O(log n) per
 * request event, whatever the batch or output length: admission is FIFO without overtaking,
 * so the admitted requests are a prefix [0, admitted) of the arrival order and the requests in
 * prefill are the range [prefill_head, admitted); decoding requests sit in a min-heap keyed by
 * the decode step that emits their last token; the KV tokens written and the decode context
 * are kept as running sums. 100,000 requests of 100-1000 input and 50-500 output tokens (650,000
 * steps at batch 64) take about 0.1 s (test_plan_des prints the time).
 *
 * Deliberately left out: everything plan_des.h lists (preemption, prefix caching, routing). */
#include "trnsim/plan_des.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS   INT64_C(1000000000) /* per request, input or output */
#define MAX_REQUESTS INT64_C(100000000)
#define SAT_SHARE    0.05 /* saturation: backlog above this share of all requests ... */
#define SAT_BATCHES  2    /* ... and above this many max_batch */

/* ---- validation -------------------------------------------------------------------------- */

static trn_status check_len(const char *what, int64_t lo, int64_t hi, trn_err *err) {
    if (lo < 1 || lo > MAX_TOKENS)
        return trn_err_set(err, TRN_E_RANGE, "%s_min: expected 1 to %lld tokens, got %lld", what,
                           (long long)MAX_TOKENS, (long long)lo);
    if (hi < lo || hi > MAX_TOKENS)
        return trn_err_set(err, TRN_E_RANGE, "%s_max: expected %lld to %lld tokens, got %lld", what,
                           (long long)lo, (long long)MAX_TOKENS, (long long)hi);
    return TRN_OK;
}

trn_status trn_des_validate(const trn_des_config *c, trn_err *err) {
    if (!c) return trn_err_set(err, TRN_E_INVALID, "des: no configuration given");
    if (!c->step_time_s)
        return trn_err_set(err, TRN_E_INVALID,
                           "des: step_time_s: a step-time callback is required");
    if (c->max_batch < 1)
        return trn_err_set(err, TRN_E_RANGE, "des: max_batch: expected >= 1, got %lld",
                           (long long)c->max_batch);
    if (c->kv_capacity_tokens < 1)
        return trn_err_set(err, TRN_E_RANGE, "des: kv_capacity_tokens: expected >= 1, got %lld",
                           (long long)c->kv_capacity_tokens);
    if (c->prefill_chunk_tokens < 0)
        return trn_err_set(err, TRN_E_RANGE,
                           "des: prefill_chunk_tokens: expected >= 0 (0 = no chunking), got %lld",
                           (long long)c->prefill_chunk_tokens);
    if (c->policy != TRN_DES_MIXED && c->policy != TRN_DES_PREFILL_FIRST)
        return trn_err_set(err, TRN_E_INVALID,
                           "des: policy: expected TRN_DES_MIXED or TRN_DES_PREFILL_FIRST, got %d",
                           (int)c->policy);
    if (!(c->warmup_fraction >= 0 && c->warmup_fraction < 1))
        return trn_err_set(err, TRN_E_RANGE, "des: warmup_fraction: expected [0, 1), got %g",
                           c->warmup_fraction);
    if (!(c->cooldown_fraction >= 0 && c->cooldown_fraction < 1))
        return trn_err_set(err, TRN_E_RANGE, "des: cooldown_fraction: expected [0, 1), got %g",
                           c->cooldown_fraction);
    if (!(c->warmup_fraction + c->cooldown_fraction < 1))
        return trn_err_set(err, TRN_E_RANGE,
                           "des: warmup_fraction + cooldown_fraction: expected < 1, got %g",
                           c->warmup_fraction + c->cooldown_fraction);
    int64_t n;
    if (c->trace) {
        if (c->trace_len < 1 || c->trace_len > MAX_REQUESTS)
            return trn_err_set(err, TRN_E_RANGE, "des: trace_len: expected 1 to %lld, got %lld",
                               (long long)MAX_REQUESTS, (long long)c->trace_len);
        n = c->trace_len;
        double prev = 0;
        for (int64_t i = 0; i < n; i++) {
            const trn_des_arrival *a = &c->trace[i];
            if (!(isfinite(a->arrival_s) && a->arrival_s >= prev))
                return trn_err_set(err, TRN_E_RANGE,
                                   "des: trace[%lld].arrival_s: expected a finite time >= %g "
                                   "(non-decreasing, from 0), got %g",
                                   (long long)i, prev, a->arrival_s);
            prev = a->arrival_s;
            if (a->input_tokens < 1 || a->input_tokens > MAX_TOKENS || a->output_tokens < 1 ||
                a->output_tokens > MAX_TOKENS)
                return trn_err_set(err, TRN_E_RANGE,
                                   "des: trace[%lld]: expected 1 to %lld input and output "
                                   "tokens, got %lld and %lld",
                                   (long long)i, (long long)MAX_TOKENS, (long long)a->input_tokens,
                                   (long long)a->output_tokens);
            int64_t f = a->input_tokens + a->output_tokens - 1;
            if (f > c->kv_capacity_tokens)
                return trn_err_set(err, TRN_E_RANGE,
                                   "des: kv_capacity_tokens (%lld) is smaller than trace[%lld]'s "
                                   "KV footprint (input + output - 1 = %lld tokens): it could "
                                   "never be admitted",
                                   (long long)c->kv_capacity_tokens, (long long)i, (long long)f);
        }
    } else {
        if (!(isfinite(c->request_rate_per_s) && c->request_rate_per_s > 0))
            return trn_err_set(err, TRN_E_RANGE,
                               "des: request_rate_per_s: expected a finite rate > 0, got %g",
                               c->request_rate_per_s);
        if (c->num_requests < 1 || c->num_requests > MAX_REQUESTS)
            return trn_err_set(err, TRN_E_RANGE, "des: num_requests: expected 1 to %lld, got %lld",
                               (long long)MAX_REQUESTS, (long long)c->num_requests);
        trn_status s = check_len("des: input", c->input_min, c->input_max, err);
        if (s) return s;
        s = check_len("des: output", c->output_min, c->output_max, err);
        if (s) return s;
        n = c->num_requests;
        int64_t foot_max = c->input_max + c->output_max - 1;
        if (foot_max > c->kv_capacity_tokens)
            return trn_err_set(err, TRN_E_RANGE,
                               "des: kv_capacity_tokens (%lld) is smaller than the largest "
                               "request's KV footprint (input_max + output_max - 1 = %lld "
                               "tokens): it could never be admitted",
                               (long long)c->kv_capacity_tokens, (long long)foot_max);
    }
    /* floor(w n) + floor(c n) <= (w + c) n < n: at least one request is measured. */
    (void)n;
    return TRN_OK;
}

/* ---- arrivals ---------------------------------------------------------------------------- */

/* Uniform integer on [lo, hi] from a 32-bit word by multiply-shift: floor(r (hi - lo + 1) /
 * 2^32). Exactly uniform when the span is a power of two; otherwise each value's probability
 * is off by less than one part in 2^32 / span (spans are at most 1e9). */
static int64_t uniform_int(uint32_t r, int64_t lo, int64_t hi) {
    uint64_t span = (uint64_t)(hi - lo) + 1;
    return lo + (int64_t)(((uint64_t)r * span) >> 32);
}

static void make_arrivals(const trn_des_config *c, int64_t n, double *arr, int64_t *in,
                          int64_t *out) {
    if (c->trace) {
        for (int64_t i = 0; i < n; i++) {
            arr[i] = c->trace[i].arrival_s;
            in[i] = c->trace[i].input_tokens;
            out[i] = c->trace[i].output_tokens;
        }
        return;
    }
    double t = 0;
    for (int64_t i = 0; i < n; i++) {
        uint64_t k = 3 * (uint64_t)i;
        /* u in (0, 1]: the exponential gap -ln(u) / rate is finite */
        double u = ((double)trn_rng_u32(c->seed, k) + 1.0) * (1.0 / 4294967296.0);
        t += -log(u) / c->request_rate_per_s;
        arr[i] = t;
        in[i] = uniform_int(trn_rng_u32(c->seed, k + 1), c->input_min, c->input_max);
        out[i] = uniform_int(trn_rng_u32(c->seed, k + 2), c->output_min, c->output_max);
    }
}

/* ---- the decode heap: (last decode step, request) min-heap, ties by request index -------- */

typedef struct heap_item {
    int64_t key, id;
} heap_item;

static int item_less(heap_item a, heap_item b) {
    return a.key < b.key || (a.key == b.key && a.id < b.id);
}

static void heap_push(heap_item *h, int64_t *n, heap_item x) {
    int64_t i = (*n)++;
    while (i > 0) {
        int64_t p = (i - 1) / 2;
        if (!item_less(x, h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static heap_item heap_pop(heap_item *h, int64_t *n) {
    heap_item top = h[0], x = h[--*n];
    int64_t i = 0;
    for (;;) {
        int64_t l = 2 * i + 1, m = i;
        heap_item best = x;
        if (l < *n && item_less(h[l], best)) m = l, best = h[l];
        if (l + 1 < *n && item_less(h[l + 1], best)) m = l + 1;
        if (m == i) break;
        h[i] = h[m];
        i = m;
    }
    if (*n > 0) h[i] = x;
    return top;
}

/* ---- statistics -------------------------------------------------------------------------- */

double trn_des_percentile(const double *sorted, int64_t n, double p) {
    if (n <= 0) return 0;
    int64_t rank = (int64_t)ceil(p / 100.0 * (double)n);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return sorted[rank - 1];
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static trn_des_dist summarize(double *v, int64_t n) {
    trn_des_dist d = {0};
    if (n == 0) return d;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += v[i];
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    d.count = n;
    d.mean = sum / (double)n;
    d.p50 = trn_des_percentile(v, n, 50);
    d.p90 = trn_des_percentile(v, n, 90);
    d.p99 = trn_des_percentile(v, n, 99);
    d.max = v[n - 1];
    return d;
}

/* Running integrals from the window start; a snapshot is taken at every completion of a
 * measured request, and the last one is the window's. */
typedef struct integrals {
    double busy, batch, decode, kv_used, kv_reserved; /* time integrals (seconds x value) */
    int64_t out_tokens, in_tokens, completions;
} integrals;

/* ---- the simulation ---------------------------------------------------------------------- */

void trn_des_result_fini(trn_des_result *r) {
    if (!r) return;
    free(r->req);
    r->req = NULL;
}

trn_status trn_des_run(const trn_des_config *c, trn_des_result *res, trn_err *err) {
    if (res) memset(res, 0, sizeof *res);
    trn_status st = trn_des_validate(c, err);
    if (st) return st;
    if (!res) return trn_err_set(err, TRN_E_INVALID, "des: no result given");

    const int64_t n = c->trace ? c->trace_len : c->num_requests;
    double *arr = calloc((size_t)n, sizeof *arr);
    double *admit = calloc((size_t)n, sizeof *admit);
    double *first = calloc((size_t)n, sizeof *first);
    double *fin = calloc((size_t)n, sizeof *fin);
    double *scratch = calloc((size_t)n, sizeof *scratch);
    int64_t *in = calloc((size_t)n, sizeof *in);
    int64_t *out = calloc((size_t)n, sizeof *out);
    heap_item *heap = malloc((size_t)(c->max_batch < n ? c->max_batch : n) * sizeof *heap);
    if (!arr || !admit || !first || !fin || !scratch || !in || !out || !heap) {
        st = trn_err_set(err, TRN_E_NOMEM, "des: out of memory for %lld requests", (long long)n);
        goto done;
    }
    make_arrivals(c, n, arr, in, out);

    const int64_t w0 = (int64_t)floor(c->warmup_fraction * (double)n);
    const int64_t w1 = n - (int64_t)floor(c->cooldown_fraction * (double)n);
    const double ws = arr[w0];
    const int64_t chunk = c->prefill_chunk_tokens > 0 ? c->prefill_chunk_tokens : INT64_MAX;
    const double cap = (double)c->kv_capacity_tokens;

    double t = 0;
    int64_t arrived = 0, admitted = 0, finished = 0, prefill_head = 0, head_done = 0;
    int64_t running = 0, nheap = 0, dsteps = 0, steps = 0;
    int64_t kv_used = 0, kv_reserved = 0, kv_peak = 0, ctx_sum = 0;
    integrals acc = {0}, win = {0};

    while (finished < n) {
        while (arrived < n && arr[arrived] <= t) arrived++;
        while (admitted < arrived && running < c->max_batch &&
               kv_reserved + in[admitted] + out[admitted] - 1 <= c->kv_capacity_tokens) {
            kv_reserved += in[admitted] + out[admitted] - 1;
            admit[admitted++] = t;
            running++;
        }
        if (running == 0) { /* idle: nothing could be waiting (validate() ensured it fits) */
            TRN_ASSERT(admitted == arrived && arrived < n);
            t = arr[arrived];
            continue;
        }

        /* Compose the step. */
        int prefill_pending = prefill_head < admitted;
        int do_decode = nheap > 0 && !(c->policy == TRN_DES_PREFILL_FIRST && prefill_pending);
        int do_prefill = prefill_pending;
        int64_t ptok = 0;
        if (do_prefill) { /* FIFO over [prefill_head, admitted) within the token budget */
            int64_t budget = chunk;
            for (int64_t i = prefill_head; i < admitted && budget > 0; i++) {
                int64_t rem = in[i] - (i == prefill_head ? head_done : 0);
                int64_t take = rem < budget ? rem : budget;
                ptok += take;
                budget -= take;
            }
        }
        int64_t dseqs = do_decode ? nheap : 0, dctx = do_decode ? ctx_sum : 0;
        double dt = c->step_time_s(c->step_ctx, ptok, dseqs, dctx);
        if (!(isfinite(dt) && dt > 0)) {
            st = trn_err_set(err, TRN_E_INVALID,
                             "des: step_time_s returned %g for prefill_tokens=%lld decode_seqs="
                             "%lld decode_ctx_tokens=%lld: expected a finite time > 0",
                             dt, (long long)ptok, (long long)dseqs, (long long)dctx);
            goto done;
        }
        const double t0 = t, t1 = t + dt;
        steps++;

        /* Time integrals over the part of the step after the window start (values during the
         * step: KV as written by its end, reservations and batch as at its start). */
        int64_t kv_end = kv_used + ptok + dseqs;
        if (t1 > ws) {
            double w = t1 - (t0 > ws ? t0 : ws);
            acc.busy += w;
            acc.batch += w * (double)running;
            acc.decode += w * (double)dseqs;
            acc.kv_used += w * (double)kv_end;
            acc.kv_reserved += w * (double)kv_reserved;
        }
        t = t1;
        if (kv_end > kv_peak) kv_peak = kv_end;
        kv_used = kv_end;
        int in_window = t1 >= ws, snap = 0;
        if (in_window) acc.in_tokens += ptok, acc.out_tokens += dseqs;

        /* Decode: every decoder emits a token; those at their last token finish. */
        if (do_decode) {
            dsteps++;
            ctx_sum += dseqs;
            while (nheap > 0 && heap[0].key == dsteps) {
                int64_t id = heap_pop(heap, &nheap).id;
                fin[id] = t;
                ctx_sum -= in[id] + out[id];
                kv_used -= in[id] + out[id] - 1;
                kv_reserved -= in[id] + out[id] - 1;
                running--, finished++;
                if (in_window) acc.completions++;
                if (id >= w0 && id < w1) snap = 1;
            }
        }
        /* Prefill: advance the FIFO; completed prompts emit their first token. */
        if (do_prefill) {
            int64_t budget = chunk;
            while (prefill_head < admitted && budget > 0) {
                int64_t id = prefill_head, rem = in[id] - head_done;
                if (rem > budget) {
                    head_done += budget;
                    break;
                }
                budget -= rem;
                head_done = 0;
                prefill_head++;
                first[id] = t;
                if (in_window) acc.out_tokens++;
                if (out[id] == 1) {
                    fin[id] = t;
                    kv_used -= in[id];
                    kv_reserved -= in[id];
                    running--, finished++;
                    if (in_window) acc.completions++;
                    if (id >= w0 && id < w1) snap = 1;
                } else {
                    heap_push(heap, &nheap, (heap_item){dsteps + out[id] - 1, id});
                    ctx_sum += in[id] + 1;
                }
            }
        }
        if (snap) win = acc; /* a measured request finished: the window may end here */
    }

    /* Results. */
    res->requests = n;
    res->measured = w1 - w0;
    res->steps = steps;
    res->makespan_s = t;
    res->window_start_s = ws;
    double we = ws;
    for (int64_t i = w0; i < w1; i++)
        if (fin[i] > we) we = fin[i];
    res->window_end_s = we;
    double len = we - ws;
    if (len > 0) {
        res->output_tokens_per_s = (double)win.out_tokens / len;
        res->input_tokens_per_s = (double)win.in_tokens / len;
        res->requests_per_s = (double)win.completions / len;
        res->busy_fraction = win.busy / len;
        res->mean_batch = win.batch / len;
        res->kv_util_mean = win.kv_used / len / cap;
        res->kv_reserved_mean = win.kv_reserved / len / cap;
        double insys = 0;
        for (int64_t i = 0; i < n; i++) {
            double a = arr[i] > ws ? arr[i] : ws, b = fin[i] < we ? fin[i] : we;
            if (b > a) insys += b - a;
        }
        res->mean_in_system = insys / len;
    }
    if (win.busy > 0) res->mean_decode_batch = win.decode / win.busy;
    res->kv_util_peak = (double)kv_peak / cap;

    int64_t m = 0;
    for (int64_t i = w0; i < w1; i++) scratch[m++] = first[i] - arr[i];
    res->ttft_s = summarize(scratch, m);
    m = 0;
    for (int64_t i = w0; i < w1; i++)
        if (out[i] > 1) scratch[m++] = (fin[i] - first[i]) / (double)(out[i] - 1);
    res->tpot_s = summarize(scratch, m);
    m = 0;
    for (int64_t i = w0; i < w1; i++) scratch[m++] = fin[i] - arr[i];
    res->e2e_s = summarize(scratch, m);
    m = 0;
    for (int64_t i = w0; i < w1; i++) scratch[m++] = admit[i] - arr[i];
    res->queue_s = summarize(scratch, m);

    double tlast = arr[n - 1];
    int64_t backlog = 0;
    for (int64_t i = 0; i < n; i++) backlog += fin[i] > tlast;
    res->backlog_at_last_arrival = backlog;
    res->saturated =
        (double)backlog > SAT_SHARE * (double)n && backlog > SAT_BATCHES * c->max_batch;

    if (c->keep_requests) {
        res->req = malloc((size_t)n * sizeof *res->req);
        if (!res->req) {
            st = trn_err_set(err, TRN_E_NOMEM, "des: out of memory for %lld request records",
                             (long long)n);
            goto done;
        }
        for (int64_t i = 0; i < n; i++)
            res->req[i] = (trn_des_request){arr[i], admit[i], first[i], fin[i], in[i], out[i]};
    }

done:
    if (st && res) memset(res, 0, sizeof *res);
    free(arr), free(admit), free(first), free(fin), free(scratch), free(in), free(out), free(heap);
    return st;
}

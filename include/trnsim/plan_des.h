/* trnsim serving simulation: a discrete-event simulation of one serving replica (a group of
 * chips holding one copy of the model) under a request stream. It is what `trnsim plan serve
 * --request-rate R` runs to turn a per-step time model into TTFT / TPOT / end-to-end latency
 * percentiles, throughput, achieved batch and KV-cache use.
 *
 * The model of the engine (this header is its documentation):
 * - Arrivals: a Poisson process of rate `request_rate_per_s` started empty at t = 0, drawn from
 *   the counter-based trn_rng (request i uses counters 3i, 3i+1, 3i+2 of stream `seed` for its
 *   inter-arrival gap, input length and output length), or an explicit trace.
 * - Lengths: input and output token counts fixed or uniform on [min, max] (integers).
 * - Continuous batching in engine steps. A step is atomic: requests that arrive during a step
 *   are admitted at the next step boundary. At each boundary the FIFO queue is admitted in
 *   order while the running set is below `max_batch` and the head's KV reservation fits; the
 *   head is never overtaken (head-of-line blocking, no reordering).
 * - KV cache: admission reserves the request's final footprint, input + output - 1 tokens (the
 *   last generated token is never fed back). Use grows as prefill chunks and decode tokens are
 *   written; because the reservation covers the peak, a running request never runs out and is
 *   never preempted. A request whose footprint exceeds the capacity is a parameter error.
 * - A step runs prefill tokens (whole prompts of admitted requests, or at most
 *   `prefill_chunk_tokens` of them per step, FIFO, when chunking is on) and one decode token
 *   for every request whose prefill finished before the step. TRN_DES_MIXED puts both in one
 *   step (continuous batching with piggy-backed prefill, vLLM V1 / Sarathi-Serve);
 *   TRN_DES_PREFILL_FIRST runs a prefill-only step whenever prefill work is pending and a
 *   decode-only step otherwise (vLLM V0's default scheduler).
 * - The step that finishes a request's prompt emits its first token (TTFT ends there); each
 *   later decode step emits one more, so a request of `out` tokens needs its prefill plus
 *   out - 1 decode steps. The step time is the caller's `step_time_s` callback.
 *
 * Statistics (all over the measured requests: the first `warmup_fraction` and the last
 * `cooldown_fraction` of requests by arrival order are simulated but not measured):
 * - TTFT = first token - arrival; TPOT = (finish - first token) / (out - 1), only for out > 1;
 *   E2E = finish - arrival; queue = admission - arrival.
 * - Percentiles are nearest-rank: the p-th percentile of n sorted values is the value of rank
 *   ceil(p n / 100) (1-based), so it is always an observed value.
 * - The window runs from the first measured arrival to the last measured completion; rates,
 *   time-averaged batch, KV use and number in system are over that window, with steps that
 *   straddle an edge counted for the part inside.
 * - Saturation: the queue grows without bound when the arrival rate exceeds what the replica
 *   serves. The simulation flags it when, at the last arrival, the requests still in the
 *   system exceed both 5% of all requests and twice `max_batch` (a stable queue holds O(1)
 *   requests at any time; an unstable one holds a fraction (1 - mu/lambda) of all arrivals).
 *
 * Deliberately left out: preemption and swapping, prefix caching, speculative decoding,
 * multiple replicas and routing between them (the planner multiplies by the replica count),
 * and any model of the step time itself (the callback's job). */
#ifndef TRNSIM_PLAN_DES_H
#define TRNSIM_PLAN_DES_H

#include <stdint.h>

#include "trnsim/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Seconds one engine step takes: `prefill_tokens` prompt tokens processed in this step,
 * `decode_seqs` requests decoding one token each, and `decode_ctx_tokens` the sum over those
 * requests of the context each attends over (its input plus the tokens generated so far,
 * including the one being fed in). Must return a finite value > 0. `ctx` is the caller's. */
typedef double (*trn_des_step_fn)(void *ctx, int64_t prefill_tokens, int64_t decode_seqs,
                                  int64_t decode_ctx_tokens);

typedef enum trn_des_policy {
    TRN_DES_MIXED = 0,     /* prefill and decode in the same step */
    TRN_DES_PREFILL_FIRST, /* pending prefill runs alone; decodes wait */
} trn_des_policy;

/* One request of an explicit trace. */
typedef struct trn_des_arrival {
    double arrival_s;      /* >= 0, non-decreasing along the trace */
    int64_t input_tokens;  /* >= 1 */
    int64_t output_tokens; /* >= 1 */
} trn_des_arrival;

typedef struct trn_des_config {
    /* Arrivals: a Poisson stream, or the trace when `trace` is not NULL. */
    double request_rate_per_s;      /* Poisson rate (> 0); ignored with a trace */
    int64_t num_requests;           /* requests to simulate (>= 1); ignored with a trace */
    uint64_t seed;                  /* trn_rng stream */
    int64_t input_min, input_max;   /* input tokens, uniform on [min, max]; min = max: fixed */
    int64_t output_min, output_max; /* output tokens, the same way (>= 1) */
    const trn_des_arrival *trace;   /* borrowed; NULL: Poisson */
    int64_t trace_len;
    /* The engine. */
    int64_t max_batch;            /* most requests admitted at once (>= 1) */
    int64_t kv_capacity_tokens;   /* KV cache capacity of the replica, in tokens */
    int64_t prefill_chunk_tokens; /* prefill tokens per step; 0: whole prompts, no chunking */
    trn_des_policy policy;
    trn_des_step_fn step_time_s; /* required */
    void *step_ctx;              /* passed to step_time_s */
    /* Measurement. */
    double warmup_fraction;   /* [0, 1): leading requests left out of the statistics */
    double cooldown_fraction; /* [0, 1): trailing requests left out; sum < 1 */
    int keep_requests;        /* 1: keep per-request records in the result */
} trn_des_config;

/* Per-request record (seconds from t = 0). */
typedef struct trn_des_request {
    double arrival_s, admit_s, first_token_s, finish_s;
    int64_t input_tokens, output_tokens;
} trn_des_request;

/* Distribution summary of one latency, in seconds. count = 0: all fields 0. */
typedef struct trn_des_dist {
    int64_t count;
    double mean, p50, p90, p99, max;
} trn_des_dist;

typedef struct trn_des_result {
    int64_t requests;     /* simulated */
    int64_t measured;     /* in the statistics (after warm-up and cool-down) */
    trn_des_request *req; /* [requests] when keep_requests, else NULL; owned */
    trn_des_dist ttft_s, tpot_s, e2e_s, queue_s;
    double window_start_s, window_end_s; /* measurement window */
    double output_tokens_per_s;          /* output tokens emitted in the window / its length */
    double input_tokens_per_s;           /* prompt tokens prefilled in the window / length */
    double requests_per_s;               /* completions in the window / its length */
    double mean_batch;                   /* time-average of admitted, unfinished requests */
    double mean_decode_batch;            /* decode_seqs averaged over busy time */
    double kv_util_mean;                 /* time-average of KV tokens written / capacity */
    double kv_util_peak;                 /* largest KV tokens written / capacity */
    double kv_reserved_mean;             /* time-average of KV tokens reserved / capacity */
    double mean_in_system;               /* time-average of arrived, unfinished requests */
    double busy_fraction;                /* share of the window with a step running */
    double makespan_s;                   /* completion of the last request */
    int64_t steps;                       /* engine steps simulated */
    int64_t backlog_at_last_arrival;     /* requests in the system at the last arrival */
    int saturated;                       /* 1: the queue grows (see above) */
} trn_des_result;

/* Checks `cfg` without running it: every error names the field and the expected range. */
trn_status trn_des_validate(const trn_des_config *cfg, trn_err *err);

/* Runs the simulation. `out` is written on success (free its records with
 * trn_des_result_fini) and zeroed on failure. TRN_E_INVALID / TRN_E_RANGE for bad parameters
 * or a step time that is not finite and > 0; TRN_E_NOMEM. */
trn_status trn_des_run(const trn_des_config *cfg, trn_des_result *out, trn_err *err);

/* Frees what trn_des_run allocated in `r` (NULL and a zeroed result are fine). */
void trn_des_result_fini(trn_des_result *r);

/* Nearest-rank percentile of `n` values sorted ascending (borrowed): the value of rank
 * ceil(p n / 100), 1-based, clamped to [1, n]; 0 when n = 0. p in [0, 100]. */
double trn_des_percentile(const double *sorted, int64_t n, double p);

#ifdef __cplusplus
}
#endif
#endif

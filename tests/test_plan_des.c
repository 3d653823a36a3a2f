/* The serving simulation (plan_des.h) against hand-worked timelines (each step written out in
 * the comments), queueing theory (the unloaded service time, Little's law, the
 * Pollaczek-Khinchine mean wait of M/D/1, the service capacity of a batched server) and its
 * own contracts (determinism, parameter errors, speed).
 * LABELS: unit */
#include "harness.h"
#include "trnsim/plan_des.h"

#include <time.h>

/* ---- step-time callbacks ----------------------------------------------------------------- */

typedef struct call {
    int64_t p, d, ctx;
} call;

typedef struct model {
    double a, b, c, e; /* step = a + b prefill_tokens + c decode_seqs + e decode_ctx_tokens */
    call log[64];
    int ncalls;
    double bad; /* when != 0: returned on the 2nd call */
} model;

static double step_linear(void *ctx, int64_t p, int64_t d, int64_t k) {
    model *m = ctx;
    if (m->ncalls < 64) m->log[m->ncalls] = (call){p, d, k};
    m->ncalls++;
    if (m->bad != 0 && m->ncalls == 2) return m->bad;
    return m->a + m->b * (double)p + m->c * (double)d + m->e * (double)k;
}

static trn_des_config trace_cfg(const trn_des_arrival *tr, int64_t n, model *m) {
    trn_des_config c = {0};
    c.trace = tr;
    c.trace_len = n;
    c.max_batch = 16;
    c.kv_capacity_tokens = 1000;
    c.step_time_s = step_linear;
    c.step_ctx = m;
    c.keep_requests = 1;
    return c;
}

static void check_calls(const model *m, const call *want, int n) {
    CHECK_EQ_INT(m->ncalls, n);
    for (int i = 0; i < n && i < m->ncalls; i++) {
        CHECK_EQ_INT(m->log[i].p, want[i].p);
        CHECK_EQ_INT(m->log[i].d, want[i].d);
        CHECK_EQ_INT(m->log[i].ctx, want[i].ctx);
    }
}

/* ---- hand-worked timelines --------------------------------------------------------------- */

static void test_single_request(void) {
    /* One request at t = 1 s, 10 in, 4 out, constant 0.5 s steps: prefill [1, 1.5] emits the
     * first token, 3 decode steps end at 3.0. */
    trn_des_arrival tr[1] = {{1.0, 10, 4}};
    model m = {.a = 0.5};
    trn_des_config c = trace_cfg(tr, 1, &m);
    trn_des_result r;
    trn_err e;
    CHECK_EQ_INT(trn_des_run(&c, &r, &e), TRN_OK);
    CHECK_EQ_INT(r.steps, 4);
    CHECK(r.req[0].admit_s == 1.0 && r.req[0].first_token_s == 1.5 && r.req[0].finish_s == 3.0);
    CHECK(r.ttft_s.mean == 0.5 && r.e2e_s.mean == 2.0 && r.tpot_s.mean == 0.5);
    CHECK(r.queue_s.max == 0);
    /* the decode context grows by one per step: 10 + 1, 10 + 2, 10 + 3 */
    const call want[] = {{10, 0, 0}, {0, 1, 11}, {0, 1, 12}, {0, 1, 13}};
    check_calls(&m, want, 4);
    trn_des_result_fini(&r);

    /* The same with a linear step model (dyadic coefficients: every sum is exact):
     * prefill a + 10 b; decode k = 1..3: a + c + e (10 + k). */
    model l = {.a = 1.0 / 64, .b = 1.0 / 1024, .c = 1.0 / 256, .e = 1.0 / 4096};
    c = trace_cfg(tr, 1, &l);
    c.trace = (trn_des_arrival[]){{0.0, 10, 4}};
    CHECK_EQ_INT(trn_des_run(&c, &r, &e), TRN_OK);
    double pre = l.a + 10 * l.b, dec = 0;
    for (int k = 1; k <= 3; k++) dec += l.a + l.c + l.e * (10 + k);
    CHECK(r.ttft_s.p50 == pre);
    CHECK(r.e2e_s.p99 == pre + dec);
    CHECK(r.tpot_s.max == dec / 3);
    CHECK(r.kv_util_peak == 13.0 / 1000); /* 10 prompt + 3 fed-back tokens */
    trn_des_result_fini(&r);

    /* A one-token answer is its prefill alone. */
    c.trace = (trn_des_arrival[]){{0.0, 7, 1}};
    l.ncalls = 0;
    CHECK_EQ_INT(trn_des_run(&c, &r, &e), TRN_OK);
    CHECK(r.e2e_s.mean == l.a + 7 * l.b && r.tpot_s.count == 0 && r.steps == 1);
    trn_des_result_fini(&r);
}

static void test_two_requests(void) {
    /* R0 at 0 (4 in, 3 out), R1 at 0.5 (2 in, 2 out), 1 s steps.
     * MIXED:  [0,1] prefill R0 (4)            R0 token 1
     *         [1,2] prefill R1 (2) + R0 (ctx 5)  R0 token 2, R1 token 1
     *         [2,3] R0 (ctx 6) + R1 (ctx 3)    R0 token 3, R1 token 2: both done at 3. */
    trn_des_arrival tr[2] = {{0.0, 4, 3}, {0.5, 2, 2}};
    model m = {.a = 1};
    trn_des_config c = trace_cfg(tr, 2, &m);
    trn_des_result r;
    trn_err e;
    CHECK_EQ_INT(trn_des_run(&c, &r, &e), TRN_OK);
    const call mixed[] = {{4, 0, 0}, {2, 1, 5}, {0, 2, 9}};
    check_calls(&m, mixed, 3);
    CHECK(r.req[0].first_token_s == 1 && r.req[0].finish_s == 3);
    CHECK(r.req[1].admit_s == 1 && r.req[1].first_token_s == 2 && r.req[1].finish_s == 3);
    CHECK(r.ttft_s.mean == 1.25 && r.ttft_s.max == 1.5 && r.e2e_s.mean == 2.75);
    CHECK(r.tpot_s.mean == 1 && r.queue_s.mean == 0.25);
    /* window [0, 3]: 5 output tokens, 6 prompt tokens, 2 completions, batch 1, 2, 2 */
    CHECK(r.window_start_s == 0 && r.window_end_s == 3);
    CHECK_NEAR(r.output_tokens_per_s, 5.0 / 3, 1e-15);
    CHECK_NEAR(r.input_tokens_per_s, 6.0 / 3, 1e-15);
    CHECK_NEAR(r.requests_per_s, 2.0 / 3, 1e-15);
    CHECK_NEAR(r.mean_batch, 5.0 / 3, 1e-15);
    CHECK_NEAR(r.mean_decode_batch, 3.0 / 3, 1e-15);
    CHECK_NEAR(r.mean_in_system, (3 + 2.5) / 3, 1e-15);
    trn_des_result_fini(&r);

    /* PREFILL_FIRST: [0,1] prefill R0; [1,2] prefill R1 alone (R0 waits);
     * [2,3] R0 (ctx 5) + R1 (ctx 3): R1 done; [3,4] R0 (ctx 6): R0 done. */
    m.ncalls = 0;
    c.policy = TRN_DES_PREFILL_FIRST;
    CHECK_EQ_INT(trn_des_run(&c, &r, &e), TRN_OK);
    const call pf[] = {{4, 0, 0}, {2, 0, 0}, {0, 2, 8}, {0, 1, 6}};
    check_calls(&m, pf, 4);
    CHECK(r.req[0].finish_s == 4 && r.req[1].finish_s == 3 && r.req[1].first_token_s == 2);
    CHECK(r.tpot_s.max == 1.5); /* R0: (4 - 1) / 2 */
    trn_des_result_fini(&r);
}

static void test_chunked_prefill(void) {
    /* Budget 2 tokens/step. R0 at 0 (5 in, 2 out), R1 at 0.2 (3 in, 1 out), 1 s steps:
     * [0,1] R0 2/5; [1,2] R0 4/5 (R1 admitted at 1 but the budget is spent);
     * [2,3] R0 5/5 + R1 1/3: R0 token 1; [3,4] R1 3/3 + R0 decode (ctx 6): both done. */
    trn_des_arrival tr[2] = {{0.0, 5, 2}, {0.2, 3, 1}};
    model m = {.a = 1};
    trn_des_config c = trace_cfg(tr, 2, &m);
    c.prefill_chunk_tokens = 2;
    trn_des_result r;
    trn_err e;
    CHECK_EQ_INT(trn_des_run(&c, &r, &e), TRN_OK);
    const call want[] = {{2, 0, 0}, {2, 0, 0}, {2, 0, 0}, {2, 1, 6}};
    check_calls(&m, want, 4);
    CHECK(r.req[0].first_token_s == 3 && r.req[0].finish_s == 4);
    CHECK(r.req[1].first_token_s == 4 && r.req[1].finish_s == 4);
    CHECK_NEAR(r.ttft_s.max, 3.8, 1e-15);
    /* KV written: 2, 4, 6 (5 + 1), 9 (6 + 2 + R0's decode token) */
    CHECK(r.kv_util_peak == 9.0 / 1000);
    trn_des_result_fini(&r);
}

static void test_kv_wait(void) {
    /* Capacity 10: R0 (4 in, 4 out) reserves 7, R1 at 0.5 (3 in, 2 out) needs 4: 11 > 10, so
     * R1 waits for R0. 1 s steps: R0 [0,1] prefill, decodes end at 2, 3, 4; R1 admitted at 4,
     * prefill [4,5], decode [5,6]. */
    trn_des_arrival tr[2] = {{0.0, 4, 4}, {0.5, 3, 2}};
    model m = {.a = 1};
    trn_des_config c = trace_cfg(tr, 2, &m);
    c.kv_capacity_tokens = 10;
    trn_des_result r;
    trn_err e;
    CHECK_EQ_INT(trn_des_run(&c, &r, &e), TRN_OK);
    CHECK(r.req[1].admit_s == 4 && r.req[1].first_token_s == 5 && r.req[1].finish_s == 6);
    CHECK(r.queue_s.max == 3.5 && r.ttft_s.max == 4.5 && r.e2e_s.max == 5.5);
    CHECK(r.kv_util_peak == 0.7); /* R0 alone: 4 + 3 */
    /* KV written at the end of each step: 4 5 6 7 | 3 4 -> 29 token-seconds over 6 s;
     * reserved 7 7 7 7 4 4 -> 36 */
    CHECK_NEAR(r.kv_util_mean, 29.0 / 6 / 10, 1e-15);
    CHECK_NEAR(r.kv_reserved_mean, 36.0 / 6 / 10, 1e-15);
    CHECK_NEAR(r.mean_in_system, (4 + 5.5) / 6, 1e-15);
    CHECK(r.busy_fraction == 1 && r.mean_batch == 1);
    trn_des_result_fini(&r);

    /* Capacity 11: both fit, R1 joins at the first step boundary. */
    c.kv_capacity_tokens = 11;
    CHECK_EQ_INT(trn_des_run(&c, &r, &e), TRN_OK);
    CHECK(r.req[1].admit_s == 1 && r.req[1].first_token_s == 2 && r.req[1].finish_s == 3);
    trn_des_result_fini(&r);

    /* max_batch 1 forces the same wait as capacity 10. */
    c.max_batch = 1;
    CHECK_EQ_INT(trn_des_run(&c, &r, &e), TRN_OK);
    CHECK(r.req[1].admit_s == 4 && r.req[1].finish_s == 6);
    trn_des_result_fini(&r);
}

/* ---- a plain reference simulation -------------------------------------------------------- */

/* The same engine written the obvious way: every step scans every request. It shares no code
 * with des.c (no heap, no running sums); the two must agree bit for bit. */
enum { R_WAIT, R_PREFILL, R_DECODE, R_DONE };

typedef struct rreq {
    double arr, admit, first, fin;
    int64_t in, out, pdone, gen;
    int state;
} rreq;

static int64_t ref_run(rreq *q, int64_t n, int64_t max_batch, int64_t cap, int64_t chunk,
                       int prefill_first, model *m) {
    double t = 0;
    int64_t adm = 0, done = 0, running = 0, reserved = 0, steps = 0;
    int64_t budget0 = chunk > 0 ? chunk : INT64_MAX;
    while (done < n) {
        while (adm < n && q[adm].arr <= t && running < max_batch &&
               reserved + q[adm].in + q[adm].out - 1 <= cap) {
            reserved += q[adm].in + q[adm].out - 1;
            q[adm].state = R_PREFILL, q[adm].admit = t, running++, adm++;
        }
        if (running == 0) {
            t = q[adm].arr;
            continue;
        }
        int pending = 0;
        int64_t ndec = 0, dctx = 0, ptok = 0, budget = budget0;
        for (int64_t i = 0; i < n; i++) {
            if (q[i].state == R_PREFILL) pending = 1;
            if (q[i].state == R_DECODE) ndec++, dctx += q[i].in + q[i].gen;
        }
        int dec = ndec > 0 && !(prefill_first && pending);
        for (int64_t i = 0; i < n && budget > 0; i++)
            if (q[i].state == R_PREFILL) {
                int64_t take = q[i].in - q[i].pdone < budget ? q[i].in - q[i].pdone : budget;
                ptok += take, budget -= take;
            }
        if (!dec) ndec = 0, dctx = 0;
        t += step_linear(m, ptok, ndec, dctx);
        steps++;
        if (dec)
            for (int64_t i = 0; i < n; i++)
                if (q[i].state == R_DECODE && ++q[i].gen == q[i].out) {
                    q[i].state = R_DONE, q[i].fin = t, done++, running--;
                    reserved -= q[i].in + q[i].out - 1;
                }
        budget = budget0;
        for (int64_t i = 0; i < n && budget > 0; i++)
            if (q[i].state == R_PREFILL) {
                int64_t take = q[i].in - q[i].pdone < budget ? q[i].in - q[i].pdone : budget;
                q[i].pdone += take, budget -= take;
                if (q[i].pdone == q[i].in) {
                    q[i].first = t, q[i].gen = 1, q[i].state = R_DECODE;
                    if (q[i].out == 1) {
                        q[i].state = R_DONE, q[i].fin = t, done++, running--;
                        reserved -= q[i].in;
                    }
                }
            }
    }
    return steps;
}

static void test_against_reference(void) {
    uint64_t rs = 0x9E3779B97F4A7C15u;
    int cases = 0, agree = 0;
    for (int c = 0; c < 400; c++) {
        int64_t n = 1 + (int64_t)(test_rnd64(&rs) % 40);
        trn_des_arrival tr[40];
        rreq q[40];
        double tarr = 0;
        int64_t in_max = 1 + (int64_t)(test_rnd64(&rs) % 64),
                out_max = 1 + (int64_t)(test_rnd64(&rs) % 16);
        int64_t foot = 0;
        for (int64_t i = 0; i < n; i++) {
            tarr += (double)(test_rnd64(&rs) % 1000) / 997.0 * (c % 3 == 0 ? 0.01 : 1.0);
            int64_t in = 1 + (int64_t)(test_rnd64(&rs) % (uint64_t)in_max);
            int64_t out = 1 + (int64_t)(test_rnd64(&rs) % (uint64_t)out_max);
            tr[i] = (trn_des_arrival){tarr, in, out};
            q[i] = (rreq){.arr = tarr, .in = in, .out = out};
            if (in + out - 1 > foot) foot = in + out - 1;
        }
        model m = {.a = 0.013, .b = 0.0007, .c = 0.0031, .e = 0.00011};
        trn_des_config cfg = trace_cfg(tr, n, &m);
        cfg.max_batch = 1 + (int64_t)(test_rnd64(&rs) % 8);
        cfg.kv_capacity_tokens = foot + (int64_t)(test_rnd64(&rs) % (uint64_t)(3 * foot));
        cfg.prefill_chunk_tokens = c % 2 ? 0 : 1 + (int64_t)(test_rnd64(&rs) % 48);
        cfg.policy = c % 4 < 2 ? TRN_DES_MIXED : TRN_DES_PREFILL_FIRST;
        trn_des_result r;
        trn_err e;
        if (trn_des_run(&cfg, &r, &e) != TRN_OK) {
            CHECK_MSG(0, "case %d: %s", c, e.msg);
            continue;
        }
        int64_t steps = ref_run(q, n, cfg.max_batch, cfg.kv_capacity_tokens,
                                cfg.prefill_chunk_tokens, cfg.policy == TRN_DES_PREFILL_FIRST, &m);
        int ok = steps == r.steps;
        for (int64_t i = 0; i < n; i++)
            ok &= r.req[i].admit_s == q[i].admit && r.req[i].first_token_s == q[i].first &&
                  r.req[i].finish_s == q[i].fin;
        CHECK_MSG(ok, "case %d (n %lld, batch %lld, kv %lld, chunk %lld, policy %d) differs", c,
                  (long long)n, (long long)cfg.max_batch, (long long)cfg.kv_capacity_tokens,
                  (long long)cfg.prefill_chunk_tokens, (int)cfg.policy);
        cases++, agree += ok;
        trn_des_result_fini(&r);
    }
    printf("reference simulation: %d of %d random traces identical\n", agree, cases);
}

/* ---- queueing theory --------------------------------------------------------------------- */

static trn_des_config poisson_cfg(double rate, int64_t n, model *m) {
    trn_des_config c = {0};
    c.request_rate_per_s = rate;
    c.num_requests = n;
    c.seed = 42;
    c.input_min = c.input_max = 1;
    c.output_min = c.output_max = 1;
    c.max_batch = 1;
    c.kv_capacity_tokens = 1 << 30;
    c.step_time_s = step_linear;
    c.step_ctx = m;
    return c;
}

static void test_low_load(void) {
    /* At 0.01 request/s against ~0.3 s of service nearly every request finds the replica
     * empty, so the median latency is the unloaded service time worked out from the model. */
    model m = {.a = 1.0 / 64, .b = 1.0 / 8192, .c = 1.0 / 1024, .e = 1.0 / 65536};
    trn_des_config c = poisson_cfg(0.01, 2000, &m);
    c.input_min = c.input_max = 100;
    c.output_min = c.output_max = 20;
    c.max_batch = 8;
    trn_des_result r;
    trn_err e;
    CHECK_EQ_INT(trn_des_run(&c, &r, &e), TRN_OK);
    double pre = m.a + 100 * m.b, dec = 0;
    for (int k = 1; k <= 19; k++) dec += m.a + m.c + m.e * (100 + k);
    CHECK_NEAR(r.ttft_s.p50, pre, 1e-9);
    CHECK_NEAR(r.e2e_s.p50, pre + dec, 1e-9);
    CHECK_NEAR(r.tpot_s.p50, dec / 19, 1e-9);
    CHECK_NEAR(r.e2e_s.mean, pre + dec, 1e-2 * (pre + dec));
    CHECK(r.saturated == 0);
    CHECK_NEAR(r.requests_per_s, 0.01, 0.001); /* offered load is carried */
    trn_des_result_fini(&r);
}

static void test_md1(void) {
    /* One-token requests, max_batch 1, a constant 1 s step: an M/D/1 queue. Pollaczek-Khinchine
     * with deterministic service D: Wq = rho D / (2 (1 - rho)), rho = lambda D. */
    model m = {.a = 1};
    const double rates[] = {0.5, 0.7};
    for (int i = 0; i < 2; i++) {
        double rho = rates[i], wq = rho / (2 * (1 - rho));
        trn_des_config c = poisson_cfg(rho, 200000, &m);
        c.warmup_fraction = 0.05;
        trn_des_result r;
        trn_err e;
        CHECK_EQ_INT(trn_des_run(&c, &r, &e), TRN_OK);
        CHECK_MSG(fabs(r.queue_s.mean - wq) <= 0.03 * wq, "rho %g: Wq %.4f vs P-K %.4f", rho,
                  r.queue_s.mean, wq);
        CHECK_NEAR(r.ttft_s.mean - r.queue_s.mean, 1.0, 1e-9); /* service is the one step */
        CHECK_NEAR(r.busy_fraction, rho, 0.01);                /* utilization = rho */
        CHECK(r.saturated == 0);
        /* The other policy is the same queue when every request is one prefill. */
        trn_des_result r2;
        c.policy = TRN_DES_PREFILL_FIRST;
        CHECK_EQ_INT(trn_des_run(&c, &r2, &e), TRN_OK);
        CHECK(r2.queue_s.mean == r.queue_s.mean);
        trn_des_result_fini(&r), trn_des_result_fini(&r2);
    }
}

static void test_little(void) {
    /* L = lambda W on a long loaded run with batching, variable lengths and KV limits. */
    model m = {.a = 0.02, .b = 2e-5, .c = 1e-4, .e = 1e-7};
    const double lambda = 6;
    trn_des_config c = poisson_cfg(lambda, 30000, &m);
    c.input_min = 50, c.input_max = 400;
    c.output_min = 10, c.output_max = 120;
    c.max_batch = 32;
    c.kv_capacity_tokens = 8000;
    c.prefill_chunk_tokens = 512;
    c.warmup_fraction = 0.1, c.cooldown_fraction = 0.1;
    trn_des_result r;
    trn_err e;
    CHECK_EQ_INT(trn_des_run(&c, &r, &e), TRN_OK);
    double lw = lambda * r.e2e_s.mean;
    CHECK_MSG(fabs(r.mean_in_system - lw) <= 0.03 * lw, "L %.3f vs lambda W %.3f", r.mean_in_system,
              lw);
    CHECK(r.saturated == 0);
    CHECK(r.mean_batch > 1 && r.kv_util_mean > 0 && r.kv_util_peak <= 1);
    /* throughput carries the offered load: lambda E[out] = 6 x 65 tokens/s */
    CHECK_NEAR(r.output_tokens_per_s, lambda * 65, 0.03 * lambda * 65);
    CHECK(r.ttft_s.p50 <= r.ttft_s.p90 && r.ttft_s.p90 <= r.ttft_s.p99 &&
          r.ttft_s.p99 <= r.ttft_s.max);
    trn_des_result_fini(&r);
}

static void test_saturation(void) {
    /* Batch of up to 8 one-token requests per 1 s step: capacity 8 requests/s. */
    model m = {.a = 1};
    trn_des_config c = poisson_cfg(4, 20000, &m);
    c.max_batch = 8;
    trn_des_result r;
    trn_err e;
    CHECK_EQ_INT(trn_des_run(&c, &r, &e), TRN_OK);
    CHECK(r.saturated == 0 && r.backlog_at_last_arrival < 16);
    CHECK_NEAR(r.requests_per_s, 4, 0.1);
    trn_des_result_fini(&r);
    c.request_rate_per_s = 12;
    CHECK_EQ_INT(trn_des_run(&c, &r, &e), TRN_OK);
    CHECK(r.saturated == 1);
    /* the backlog is (1 - 8/12) of the arrivals, and completions run at capacity */
    CHECK_NEAR((double)r.backlog_at_last_arrival / 20000, 1 - 8.0 / 12, 0.02);
    CHECK_NEAR(r.requests_per_s, 8, 0.05);
    CHECK(r.queue_s.p99 > 100);
    trn_des_result_fini(&r);
    /* M/D/1 just above capacity */
    c.max_batch = 1;
    c.request_rate_per_s = 1.2;
    CHECK_EQ_INT(trn_des_run(&c, &r, &e), TRN_OK);
    CHECK(r.saturated == 1);
    trn_des_result_fini(&r);
}

/* ---- contracts --------------------------------------------------------------------------- */

static void test_determinism_and_lengths(void) {
    model m = {.a = 0.01, .b = 1e-5, .c = 1e-4, .e = 1e-7};
    trn_des_config c = poisson_cfg(20, 5000, &m);
    c.input_min = 16, c.input_max = 19;
    c.output_min = 1, c.output_max = 4;
    c.max_batch = 16;
    c.keep_requests = 1;
    trn_des_result a, b;
    trn_err e;
    CHECK_EQ_INT(trn_des_run(&c, &a, &e), TRN_OK);
    CHECK_EQ_INT(trn_des_run(&c, &b, &e), TRN_OK);
    CHECK(memcmp(a.req, b.req, (size_t)a.requests * sizeof *a.req) == 0);
    trn_des_request *ra = a.req, *rb = b.req;
    a.req = b.req = NULL;
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    /* lengths: every value of each range drawn, none outside, mean near the midpoint */
    int64_t seen_in[4] = {0}, seen_out[4] = {0};
    double sum_in = 0;
    for (int64_t i = 0; i < 5000; i++) {
        int64_t x = ra[i].input_tokens, y = ra[i].output_tokens;
        CHECK(x >= 16 && x <= 19 && y >= 1 && y <= 4);
        if (x >= 16 && x <= 19) seen_in[x - 16]++;
        if (y >= 1 && y <= 4) seen_out[y - 1]++;
        sum_in += (double)x;
        if (i > 0) CHECK(ra[i].arrival_s >= ra[i - 1].arrival_s);
    }
    for (int k = 0; k < 4; k++) CHECK(seen_in[k] > 1100 && seen_out[k] > 1100);
    CHECK_NEAR(sum_in / 5000, 17.5, 0.05);
    /* mean gap 1 / rate */
    CHECK_NEAR(ra[4999].arrival_s / 5000, 1.0 / 20, 0.003);
    /* another seed, another stream */
    c.seed = 43;
    trn_des_result d;
    CHECK_EQ_INT(trn_des_run(&c, &d, &e), TRN_OK);
    CHECK(d.req[0].arrival_s != ra[0].arrival_s);
    free(ra), free(rb);
    trn_des_result_fini(&d);
    /* the percentile definition */
    const double v[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    CHECK(trn_des_percentile(v, 10, 50) == 5 && trn_des_percentile(v, 10, 90) == 9);
    CHECK(trn_des_percentile(v, 10, 99) == 10 && trn_des_percentile(v, 10, 0) == 1);
    CHECK(trn_des_percentile(v, 10, 51) == 6 && trn_des_percentile(v, 0, 50) == 0);
}

static void expect_err(const trn_des_config *c, trn_status st, const char *sub) {
    trn_des_result r;
    trn_err e = {0};
    trn_status got = trn_des_run(c, &r, &e);
    CHECK_EQ_INT(got, st);
    if (got != TRN_OK) CHECK_CONTAINS(e.msg, sub);
    if (got == TRN_OK)
        trn_des_result_fini(&r);
    else
        CHECK(r.req == NULL && r.requests == 0); /* zeroed on failure */
}

static void test_errors(void) {
    model m = {.a = 1};
    trn_des_config ok = poisson_cfg(1, 10, &m), c;
    c = ok, c.request_rate_per_s = -1;
    expect_err(&c, TRN_E_RANGE, "request_rate_per_s: expected a finite rate > 0, got -1");
    c = ok, c.request_rate_per_s = NAN;
    expect_err(&c, TRN_E_RANGE, "request_rate_per_s");
    c = ok, c.kv_capacity_tokens = 0;
    expect_err(&c, TRN_E_RANGE, "kv_capacity_tokens: expected >= 1, got 0");
    c = ok, c.input_max = c.input_min = 100, c.output_min = 1, c.output_max = 50,
    c.kv_capacity_tokens = 148;
    expect_err(&c, TRN_E_RANGE,
               "kv_capacity_tokens (148) is smaller than the largest request's "
               "KV footprint (input_max + output_max - 1 = 149 tokens)");
    c.kv_capacity_tokens = 149;
    expect_err(&c, TRN_OK, "");
    c = ok, c.max_batch = 0;
    expect_err(&c, TRN_E_RANGE, "max_batch: expected >= 1, got 0");
    c = ok, c.input_min = 0;
    expect_err(&c, TRN_E_RANGE, "input_min: expected 1 to");
    c = ok, c.output_max = 0;
    expect_err(&c, TRN_E_RANGE, "output_max: expected 1 to");
    c = ok, c.num_requests = 0;
    expect_err(&c, TRN_E_RANGE, "num_requests");
    c = ok, c.prefill_chunk_tokens = -5;
    expect_err(&c, TRN_E_RANGE, "prefill_chunk_tokens");
    c = ok, c.warmup_fraction = 0.6, c.cooldown_fraction = 0.5;
    expect_err(&c, TRN_E_RANGE, "warmup_fraction + cooldown_fraction");
    c = ok, c.step_time_s = NULL;
    expect_err(&c, TRN_E_INVALID, "step_time_s");
    c = ok, c.policy = (trn_des_policy)7;
    expect_err(&c, TRN_E_INVALID, "policy");
    trn_des_arrival tr[2] = {{1.0, 5, 5}, {0.5, 5, 5}};
    c = ok, c.trace = tr, c.trace_len = 2;
    expect_err(&c, TRN_E_RANGE, "trace[1].arrival_s");
    tr[1].arrival_s = 2, tr[1].output_tokens = 0;
    expect_err(&c, TRN_E_RANGE, "trace[1]: expected 1 to");
    /* a step time that is not a positive finite number */
    model bad = {.a = 1, .bad = -0.5};
    c = ok, c.step_ctx = &bad, c.num_requests = 5;
    expect_err(&c, TRN_E_INVALID, "step_time_s returned -0.5 for prefill_tokens=1");
    CHECK_EQ_INT(trn_des_validate(NULL, NULL), TRN_E_INVALID);
}

static void test_speed(void) {
    /* 100,000 requests of 100-1000 in, 50-500 out on a 64-wide batch. */
    model m = {.a = 0.01, .b = 2e-6, .c = 5e-5, .e = 2e-8};
    trn_des_config c = poisson_cfg(12, 100000, &m);
    c.input_min = 100, c.input_max = 1000;
    c.output_min = 50, c.output_max = 500;
    c.max_batch = 64;
    c.kv_capacity_tokens = 100000;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    trn_des_result r;
    trn_err e;
    CHECK_EQ_INT(trn_des_run(&c, &r, &e), TRN_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("100k requests: %lld steps in %.3f s (saturated %d, mean batch %.1f)\n",
           (long long)r.steps, s, r.saturated, r.mean_batch);
    CHECK_MSG(s < 2.0, "%.3f s", s); /* typically ~0.05 s in a release build */
    trn_des_result_fini(&r);
}

int main(void) {
    test_single_request();
    test_two_requests();
    test_chunked_prefill();
    test_kv_wait();
    test_against_reference();
    test_low_load();
    test_md1();
    test_little();
    test_saturation();
    test_determinism_and_lengths();
    test_errors();
    test_speed();
    return test_summary();
}

/* Speed of the planner: configurations evaluated per second by the training and serving
 * searches (each a full evaluation: memory per chip, every op through the roofline provider,
 * every collective through the fabric), and the wall time of a whole search on 1,000,000 chips.
 * Each figure is printed beside a baseline measured in the same run: one fabric collective
 * (trn_fabric_collective on the same machine), so "one configuration = N collectives" holds
 * whatever the host.
 *
 * Cases:
 *   train  mixtral-8x7b   on trn2-ultraserver (64 chips), seq 4096, global batch 1024
 *   train  llama-3.1-405b on trn2-ultraserver x 16 (1,024 chips), seq 8192, global batch 2048
 *   train  llama-3.1-405b on trn3-ultracluster, 1,000,000 chips, seq 8192, global batch
 *          62,500 (1,000,000 = 2^6 x 5^6 chips: dp must carry the 5^6, so the batch does), mxfp8
 *   train  llama-3.1-405b on 2^19 = 524,288 Trn3 chips, seq 8192, global batch 2^19: every
 *          power-of-two split is legal, the largest search space of these cases
 *   train  deepseek-v3    on trn3-ultracluster, 1,000,000 chips, seq 4096, global batch 62,500
 *   serve  llama-3-70b    on trn3-ultracluster, 1,000,000 chips, 2048 in / 256 out
 *
 * Usage: bench_plan [runs, default 5]. Run by `make bench`, never by CTest. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "trnsim/plan.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct bcase {
    const char *label, *model, *system;
    int64_t chips;
    int serve;
    int64_t seq, batch, in, out;
    trn_hw_dtype prec;
} bcase;

static const bcase cases[] = {
    {"train mixtral-8x7b, 64 x trn2", "mixtral-8x7b", "trn2-ultraserver", 64, 0, 4096, 1024, 0, 0,
     TRN_HW_BF16},
    {"train llama-3.1-405b, 1,024 x trn2", "llama-3.1-405b", "trn2-ultraserver", 1024, 0, 8192,
     2048, 0, 0, TRN_HW_BF16},
    {"train llama-3.1-405b, 1,000,000 x trn3", "llama-3.1-405b", "trn3-ultracluster", 1000000, 0,
     8192, 62500, 0, 0, TRN_HW_MXFP8},
    {"train llama-3.1-405b, 2^19 x trn3", "llama-3.1-405b", "trn3-ultracluster", 524288, 0, 8192,
     524288, 0, 0, TRN_HW_MXFP8},
    {"train deepseek-v3, 1,000,000 x trn3", "deepseek-v3", "trn3-ultracluster", 1000000, 0, 4096,
     62500, 0, 0, TRN_HW_MXFP8},
    {"serve llama-3-70b, 1,000,000 x trn3", "llama-3-70b", "trn3-ultracluster", 1000000, 1, 0, 0,
     2048, 256, TRN_HW_BF16},
};

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    if (runs < 1) runs = 1;
    trn_err err = {0};
    trn_hw *hw = NULL;
    if (trn_hw_create(&hw, &err) != TRN_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    printf("%-40s %9s %9s %12s %14s %12s\n", "case", "configs", "fitting", "search ms", "configs/s",
           "collectives");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bcase *c = &cases[i];
        trn_model *md = NULL;
        trn_plan_machine *m = NULL;
        if (trn_model_load(c->model, &md, &err) != TRN_OK ||
            trn_plan_machine_create(trn_hw_system_get(hw, c->system), c->chips, &m, &err) !=
                TRN_OK) {
            fprintf(stderr, "%s: %s\n", c->label, err.msg);
            return 1;
        }
        double best = 1e30;
        trn_plan_search_stats st = {0, 0};
        for (int r = 0; r < runs; r++) {
            int n = 0;
            double t0 = now_s();
            trn_status s;
            if (c->serve) {
                trn_plan_serve w = {c->in, c->out, 0, TRN_PLAN_W_MODEL, TRN_DTYPE_BF16, 0, 0};
                trn_plan_serve_result top[5];
                s = trn_plan_serve_search(m, md, &w, NULL, TRN_PLAN_THROUGHPUT, top, 5, &n, &st,
                                          &err);
            } else {
                trn_plan_train w = {c->seq, c->batch, c->prec, 0};
                trn_plan_train_result top[5];
                s = trn_plan_train_search(m, md, &w, NULL, TRN_PLAN_THROUGHPUT, top, 5, &n, &st,
                                          &err);
            }
            double t = now_s() - t0;
            if (s != TRN_OK) {
                fprintf(stderr, "%s: %s\n", c->label, err.msg);
                return 1;
            }
            if (t < best) best = t;
        }
        /* baseline: one all-reduce of 64 MiB over the data-parallel ranks of 8 chips each */
        trn_fabric_group g = {c->chips / 8, 8};
        trn_coll_cost cc;
        int reps = 20000;
        double t0 = now_s(), sink = 0;
        for (int k = 0; k < reps; k++) {
            trn_fabric_collective(m->fabric, TRN_COLL_ALLREDUCE, &g, 67108864.0 + k, TRN_ALGO_AUTO,
                                  &cc, NULL);
            sink += cc.time_s;
        }
        double coll = (now_s() - t0) / reps;
        double per_cfg = best / (double)(st.evaluated ? st.evaluated : 1);
        printf("%-40s %9lld %9lld %12.2f %14.0f %12.1f%s\n", c->label, (long long)st.evaluated,
               (long long)st.fitting, best * 1e3, (double)st.evaluated / best, per_cfg / coll,
               sink < 0 ? "!" : "");
        trn_plan_machine_destroy(m);
        trn_model_destroy(md);
    }
    printf("\nconfigs/s: legal configurations fully evaluated per second (best of %d runs);\n"
           "collectives: one configuration's evaluation in units of one trn_fabric_collective\n"
           "call on the same machine (the baseline of this run)\n",
           runs);
    trn_hw_destroy(hw);
    return 0;
}

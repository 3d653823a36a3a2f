/* The lowering's on-chip allocation: for Llama-3-8B and Llama-3-70B shapes on one NeuronCore
 * (2048 tokens of prefill), each op's SBUF and PSUM bytes per partition with its tiles side by
 * side (the sum) and placed by live range (the peak, trn_lower_mem_get), and which layout the
 * kernel uses. Then LINEAR with x not resident (an SBUF limit of 32 KiB, so that x cannot stay
 * in SBUF for the block): the simulated time, PE utilization and HBM bytes of the spilled
 * kernel (x transposed once into HBM scratch, reloaded per panel) against the re-transposed
 * one, and what the plan's cost comparison chose.
 *
 * Usage: bench_alloc [chip] (default trn2). Run by `make bench`, never by CTest. */
#include <stdio.h>
#include <string.h>

#include "trnsim/runtime.h"
#include "trnsim/trnsim.h"

static trn_lower_op lin(int64_t m, int64_t k, int64_t n) {
    trn_lower_op o = {0};
    o.kind = TRN_LOWER_LINEAR, o.m = m, o.k = k, o.n = n;
    o.dtype = o.out_dtype = TRN_DTYPE_BF16;
    return o;
}
static trn_lower_op rowop(trn_lower_kind k, int64_t m, int64_t n) {
    trn_lower_op o = {0};
    o.kind = k, o.m = m, o.n = n, o.eps = 1e-5;
    o.dtype = o.out_dtype = TRN_DTYPE_BF16;
    return o;
}
static trn_lower_op attn(int64_t q, int64_t h, int64_t kvh) {
    trn_lower_op o = {0};
    o.kind = TRN_LOWER_ATTENTION, o.dtype = o.out_dtype = TRN_DTYPE_BF16;
    o.m = o.q_len = o.kv_len = q, o.heads = h, o.kv_heads = kvh, o.head_dim = 128;
    return o;
}

int main(int argc, char **argv) {
    const char *chip = argc > 1 ? argv[1] : "trn2";
    trn_hw *hw = NULL;
    trn_runtime *rt = NULL;
    trn_err err = {0};
    if (trn_hw_create(&hw, &err) != TRN_OK || trn_runtime_create(hw, chip, &rt, &err) != TRN_OK) {
        fprintf(stderr, "bench_alloc: %s\n", err.msg);
        return 1;
    }
    const trn_isa_target *t = trn_runtime_target(rt);
    struct {
        const char *name;
        trn_lower_op op;
    } rows[] = {
        {"8B qkv proj", lin(2048, 4096, 6144)},
        {"8B gate/up proj", lin(2048, 4096, 14336)},
        {"8B down proj", lin(2048, 14336, 4096)},
        {"70B down proj", lin(2048, 28672, 8192)},
        {"8B rmsnorm", rowop(TRN_LOWER_RMSNORM, 2048, 4096)},
        {"70B rmsnorm", rowop(TRN_LOWER_RMSNORM, 2048, 8192)},
        {"rmsnorm n=11264", rowop(TRN_LOWER_RMSNORM, 2048, 11264)},
        {"rmsnorm 1 x 8192", rowop(TRN_LOWER_RMSNORM, 1, 8192)},
        {"8B swiglu", rowop(TRN_LOWER_SWIGLU, 2048, 14336)},
        {"8B attention", attn(2048, 32, 8)},
        {"70B attention", attn(2048, 64, 8)},
    };
    printf("%s (NeuronCore-%s, SBUF %llu, PSUM %llu bytes per partition)\n", chip, t->name,
           (unsigned long long)t->sbuf_bytes_per_partition,
           (unsigned long long)t->psum_bytes_per_partition);
    printf("  %-18s %6s %10s %10s %6s %9s %9s %s\n", "op", "tiles", "SBUF sum", "SBUF peak",
           "peak%", "PSUM sum", "PSUM peak", "layout");
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        trn_lower_mem m;
        if (trn_lower_mem_get(&rows[i].op, t, &m, &err) != TRN_OK) {
            printf("  %-18s %s\n", rows[i].name, err.msg);
            continue;
        }
        printf("  %-18s %6d %10llu %10llu %5.0f%% %9llu %9llu %s\n", rows[i].name, m.tiles,
               (unsigned long long)m.sbuf_sum, (unsigned long long)m.sbuf_peak,
               100.0 * (double)m.sbuf_peak / (double)m.sbuf_sum, (unsigned long long)m.psum_sum,
               (unsigned long long)m.psum_peak, m.packed ? "packed" : "side by side");
    }
    /* spill vs re-transpose with x not resident */
    static const int64_t shapes[][3] = {
        {2048, 4096, 4096}, {2048, 4096, 14336}, {2048, 8192, 28672}, {1024, 8192, 8192}};
    printf("\n  LINEAR with SBUF limited to 32 KiB (x not resident): spill vs re-transpose\n");
    printf("  %-20s %5s %10s %7s %10s %7s %8s %s\n", "m k n", "T kc", "spill us", "PE MFU",
           "retr. us", "PE MFU", "speedup", "plan's choice");
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        trn_lower_op op = lin(shapes[i][0], shapes[i][1], shapes[i][2]);
        op.sbuf_limit_bytes = 32 * 1024;
        trn_op_profile pr[2];
        trn_lower_linear_plan pl[3];
        int ok = 1;
        for (int k = 0; k < 2 && ok; k++) {
            op.x_spill = k ? -1 : 1;
            ok = trn_lower_linear_plan_get(&op, t, &pl[k], &err) == TRN_OK &&
                 trn_runtime_time(rt, &op, &pr[k], &err) == TRN_OK;
        }
        op.x_spill = 0;
        ok = ok && trn_lower_linear_plan_get(&op, t, &pl[2], &err) == TRN_OK;
        char nm[48];
        snprintf(nm, sizeof nm, "%lld %lld %lld", (long long)shapes[i][0], (long long)shapes[i][1],
                 (long long)shapes[i][2]);
        if (!ok || pl[0].x_resident || pl[1].x_resident) {
            printf("  %-20s %s\n", nm, ok ? "x stays resident" : err.msg);
            continue;
        }
        printf("  %-20s %d %-3d %10.1f %6.1f%% %10.1f %6.1f%% %7.3fx %s\n", nm, pl[0].tiles,
               pl[0].kc, pr[0].time_ns / 1e3, 100 * pr[0].pe_mfu, pr[1].time_ns / 1e3,
               100 * pr[1].pe_mfu, pr[1].time_ns / pr[0].time_ns,
               pl[2].spill ? "spill" : "re-transpose");
    }
    trn_runtime_destroy(rt);
    trn_hw_destroy(hw);
    return 0;
}

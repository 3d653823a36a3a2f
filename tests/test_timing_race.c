/* The race detector of `.sync manual` programs (src/core/race.c): two engines writing one SBUF
 * tile with no semaphore is a race naming both source lines; the same program with a signal and
 * a wait is not; a write after a read (WAR) races too; accesses to disjoint partitions do not
 * conflict; the order is transitive over chains of waits; a wait acquires the signals up to the
 * one that met it in the simulated timeline, not a later one; a DMA transfer races with a reader
 * that does not wait for it; examples/kernels/add_manual.tasm is race-free.
 * LABELS: unit */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "trnsim/timing.h"

static trn_hw *hw;

#define HEAD                                                                    \
    ".kernel r\n.sync manual\n.sbuf x f32 [128, 512]\n.sbuf y f32 [128, 512]\n" \
    ".sbuf z f32 [128, 512]\n.input hin f32 [128, 512]\n"
/* HEAD is six lines: the first instruction is on line 7 */

static trn_status go(const char *src, const char *path, trn_err *err) {
    const trn_hw_core *core = trn_hw_core_get(hw, "v3");
    trn_asm_opts ao = {0};
    ao.core_version = 3;
    trn_program *p = NULL;
    trn_timing *t = NULL;
    trn_isa_target tg;
    trn_status st = src ? trn_program_assemble(src, "t.tasm", &ao, &p, err)
                        : trn_program_assemble_file(path, &ao, &p, err);
    if (!st) st = trn_isa_target_from_core(core, &tg, err);
    if (!st) st = trn_program_verify(p, &tg, err);
    if (!st) st = trn_timing_run(p, core, NULL, NULL, &t, err);
    if (st == TRN_E_FAULT) CHECK(t == NULL);
    trn_timing_destroy(t);
    trn_program_destroy(p);
    return st;
}

#define OK(src)                                \
    do {                                       \
        trn_err e_ = {0};                      \
        trn_status s_ = go((src), NULL, &e_);  \
        CHECK_MSG(s_ == TRN_OK, "%s", e_.msg); \
    } while (0)

#define RACE(src, want)                                  \
    do {                                                 \
        trn_err e_ = {0};                                \
        CHECK_EQ_INT(go((src), NULL, &e_), TRN_E_FAULT); \
        CHECK_CONTAINS(e_.msg, (want));                  \
    } while (0)

int main(void) {
    if (trn_hw_create(&hw, NULL) != TRN_OK) return 1;
    /* WAW: two engines write y, nothing orders them */
    RACE(HEAD "activation dst=y data=x op=exp\n"
              "tensor_scalar dst=y data=z op0=add operand0=1.0\n",
         "race: t.tasm:7 activation (scalar) writes y and t.tasm:8 tensor_scalar (vector) writes y "
         "with no "
         "happens-before order");
    /* the same with a signal and a wait: ordered */
    OK(HEAD "activation dst=y data=x op=exp signal=s\n"
            "tensor_scalar dst=y data=z op0=add operand0=1.0 wait=s>=1\n");
    /* WAR: vector overwrites what scalar reads */
    RACE(HEAD "activation dst=y data=x op=exp\n"
              "tensor_scalar dst=x data=z op0=add operand0=1.0\n",
         "t.tasm:7 activation (scalar) reads x and t.tasm:8 tensor_scalar (vector) writes x");
    OK(HEAD "activation dst=y data=x op=exp signal=s\n"
            "tensor_scalar dst=x data=z op0=add operand0=1.0 wait=s>=1\n");
    /* disjoint partitions (and disjoint bytes) of one tile: no conflict */
    OK(HEAD "activation dst=y[0:64, :] data=x[0:64, :] op=exp\n"
            "tensor_scalar dst=y[64:128, :] data=x[64:128, :] op0=add operand0=1.0\n");
    OK(HEAD "activation dst=y[:, 0:256] data=x[:, 0:256] op=exp\n"
            "tensor_scalar dst=y[:, 256:512] data=x[:, 256:512] op0=add operand0=1.0\n");
    /* reads only: no conflict */
    OK(HEAD "activation dst=y data=x op=exp\ntensor_scalar dst=z data=x op0=add operand0=1.0\n");
    /* transitive: scalar -> vector -> gpsimd */
    OK(HEAD "activation dst=y data=x op=exp signal=a\n"
            "tensor_scalar dst=z data=x op0=add operand0=1.0 wait=a>=1 signal=b\n"
            "tensor_scalar dst=y data=z op0=add operand0=1.0 engine=gpsimd wait=b>=1\n");
    /* a wait acquires the signals up to the one that met it: vector's short instruction signals
     * s first, so s>=1 does not order scalar's long write of y before gpsimd's; s>=2 does */
    RACE(HEAD "activation dst=y data=x op=exp signal=s\n"
              "tensor_scalar dst=z[:, 0:8] data=x[:, 0:8] op0=add operand0=1.0 signal=s\n"
              "tensor_scalar dst=y data=x op0=add operand0=1.0 engine=gpsimd wait=s>=1\n",
         "t.tasm:7 activation (scalar) writes y and t.tasm:9 tensor_scalar (gpsimd) writes y");
    OK(HEAD "activation dst=y data=x op=exp signal=s\n"
            "tensor_scalar dst=z[:, 0:8] data=x[:, 0:8] op0=add operand0=1.0 signal=s\n"
            "tensor_scalar dst=y data=x op0=add operand0=1.0 engine=gpsimd wait=s>=2\n");
    /* a DMA and its reader: the engine order does not cover the transfer */
    RACE(HEAD "dma_copy dst=x src=hin engine=scalar\n"
              "activation dst=y data=x op=exp\n",
         "t.tasm:7 dma_copy (scalar) writes x and t.tasm:8 activation (scalar) reads x");
    OK(HEAD "dma_copy dst=x src=hin engine=scalar signal=d\n"
            "activation dst=y data=x op=exp wait=d>=1\n");
    RACE(HEAD "dma_copy dst=x src=hin\ndma_copy dst=x[0:8, :] src=hin[0:8, :]\n",
         "t.tasm:7 dma_copy (dma) writes x and t.tasm:8 dma_copy (dma) writes x");
    /* the example */
    {
        trn_err e = {0};
        trn_status st = go(NULL, "examples/kernels/add_manual.tasm", &e);
        CHECK_MSG(st == TRN_OK, "%s", e.msg);
    }
    trn_hw_destroy(hw);
    return test_summary();
}

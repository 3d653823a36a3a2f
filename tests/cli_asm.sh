#!/usr/bin/env bash
# trnsim asm / disasm end to end: help, usage errors (exit 2), bad input files with
# file:line:col (exit 3), every example kernel assembling and disassembling back to the
# identical .tprog, corrupt .tprog files, --param/--grid/--core/--chip, --isa-doc = docs/isa.md.
# Usage: cli_asm.sh PATH/TO/trnsim
TRN=${1:?usage: cli_asm.sh TRNSIM}
. "$(dirname "$0")/harness.sh"

# --- help and usage ---------------------------------------------------------------------
expect_rc 0 "$TRN" asm --help; expect_out "usage: trnsim asm KERNEL.tasm"; expect_out "--param K=V"
expect_rc 0 "$TRN" disasm --help; expect_out "usage: trnsim disasm KERNEL.tprog"
expect_rc 0 "$TRN" --help; expect_out "asm "; expect_out "disasm "
expect_rc 2 "$TRN" asm; expect_err "no kernel given"
expect_rc 2 "$TRN" disasm; expect_err "no .tprog given"
expect_rc 2 "$TRN" asm examples/kernels/mlp_tile.tasm --bogus; expect_err "unknown option '--bogus'"
expect_rc 2 "$TRN" asm a.tasm b.tasm; expect_err "one kernel at a time"
expect_rc 2 "$TRN" asm examples/kernels/mlp_tile.tasm --param N; expect_err "--param N: expected NAME=INTEGER"
expect_rc 2 "$TRN" asm examples/kernels/mlp_tile.tasm --param Q=3 -o "$T/x.tprog"
expect_err "--param Q: examples/kernels/mlp_tile.tasm has no .param Q (it has: N)"
expect_rc 2 "$TRN" asm examples/kernels/mlp_tile.tasm --core v9; expect_err "--core v9: no such NeuronCore version"
expect_rc 2 "$TRN" asm examples/kernels/mlp_tile.tasm --chip nope; expect_err "--chip nope: no such chip"
expect_rc 2 "$TRN" asm examples/kernels/mlp_tile.tasm --core v3 --chip trn2; expect_err "pick one"
expect_rc 2 "$TRN" asm examples/kernels/mlp_tile.tasm --program-id 1; expect_err "needs --grid N"
expect_rc 2 "$TRN" asm examples/kernels/mlp_tile.tasm --grid 0; expect_err "expected 1 to 1024 programs"

# --- bad input files ----------------------------------------------------------------------
expect_rc 3 "$TRN" asm "$T/missing.tasm"; expect_err "missing.tasm"
printf '.sbuf wt bf16 [128, 128]\n.sbuf o bf16 [128, 256]\ntensor_copy dst=o src=wt[0:128, 0:256]\n' >"$T/k.tasm"
expect_rc 3 "$TRN" asm "$T/k.tasm" -o "$T/k.tprog"
expect_err "$T/k.tasm:3:33: slice 0:256 of dimension 1 of 'wt' [128, 128] is out of range"
printf '.sbuf a f32 [128, 4]\n\nfrobnicate dst=a\n' >"$T/k.tasm"
expect_rc 3 "$TRN" asm "$T/k.tasm"; expect_err "k.tasm:3:1: unknown instruction 'frobnicate'"
printf '.sbuf a f32 [128, 4]\n.sbuf b f32 [128, 4]\ntensor_copy dst=a[16:48] src=b[0:32]\n' >"$T/k.tasm"
expect_rc 3 "$TRN" asm "$T/k.tasm"; expect_err "k.tasm:3:13: 'a' accesses 32 partitions from partition 16"
[ ! -e "$T/k.tprog" ] && ok || bad "no .tprog may be written for a bad kernel"
expect_rc 3 "$TRN" asm examples/kernels/matmul_mx.tasm --chip trn2 -o "$T/mx.tprog"
expect_err "matmul_mx.tasm:10:1: tensor 'aq': MX x4-packed type fp8_e4m3_x4 needs NeuronCore-v4 or newer (target v3)"
printf '.sbuf big f32 [128, 50000]\n' >"$T/big.tasm"
expect_rc 3 "$TRN" asm "$T/big.tasm" --chip trn1 -o "$T/big.tprog"; expect_err "SBUF overflow"; expect_err "v2 has 196608 (192 KiB)"
expect_rc 0 "$TRN" asm "$T/big.tasm" --core v4 -o "$T/big.tprog"

# --- every example: assemble, disassemble, assemble again: identical bytes ----------------
for f in examples/kernels/*.tasm; do
    b=$(basename "$f" .tasm)
    expect_rc 0 "$TRN" asm "$f" -o "$T/$b.tprog"; expect_out "kernel $b for v"
    expect_rc 0 "$TRN" disasm "$T/$b.tprog" -o "$T/$b.dis.tasm"
    expect_rc 0 "$TRN" asm "$T/$b.dis.tasm" -o "$T/$b.2.tprog"
    if cmp -s "$T/$b.tprog" "$T/$b.2.tprog"; then ok; else bad "$b: disassembly does not reassemble to the same .tprog"; fi
    expect_rc 0 "$TRN" disasm "$T/$b.tprog"; expect_out ".kernel $b"
done
expect_rc 0 "$TRN" disasm "$T/matmul_tiled.tprog"
expect_out "nc_matmul dst=acc[0:128, 1, 0:512] stationary=at[0:128, 3, 128:256] moving=bt[0:128, 3, 512:1024] accumulate=true"
expect_out '.source "examples/kernels/matmul_tiled.tasm"'
# default output path next to the input
cp examples/kernels/softmax.tasm "$T/sm.tasm"
expect_rc 0 "$TRN" asm "$T/sm.tasm"; [ -s "$T/sm.tprog" ] && ok || bad "default output $T/sm.tprog missing"

# --- params, grid, core -------------------------------------------------------------------
expect_rc 0 "$TRN" asm examples/kernels/tensor_add.tasm --param N=4096 -o "$T/ta.tprog"; expect_out "32 instructions"
expect_rc 0 "$TRN" disasm "$T/ta.tprog"; expect_out ".param N = 4096"
printf '.param W = 128 * num_programs\n.input x f32 [128, W]\n.sbuf t f32 [128, 128]\ndma_copy dst=t src=x[:, program_id*128:(program_id+1)*128]\n' >"$T/spmd.tasm"
expect_rc 0 "$TRN" asm "$T/spmd.tasm" --grid 4 --program-id 3 -o "$T/spmd.tprog"
expect_rc 0 "$TRN" disasm "$T/spmd.tprog"; expect_out ".grid 4 3"; expect_out "src=x[0:128, 384:512]"
expect_rc 0 "$TRN" asm examples/kernels/mlp_tile.tasm --chip trn1 -o "$T/m1.tprog"; expect_out "for v2"
expect_rc 0 "$TRN" disasm "$T/m1.tprog"; expect_out ".core v2"

# --- corrupt .tprog files -----------------------------------------------------------------
printf 'not a program at all' >"$T/junk.tprog"
expect_rc 3 "$TRN" disasm "$T/junk.tprog"; expect_err "junk.tprog: not a .tprog file (bad magic)"
head -c 100 "$T/mlp_tile.tprog" >"$T/trunc.tprog"
expect_rc 3 "$TRN" disasm "$T/trunc.tprog"; expect_err "trunc.tprog: truncated .tprog"
cp "$T/mlp_tile.tprog" "$T/flip.tprog"
printf '\x7f' | dd of="$T/flip.tprog" bs=1 seek=60 conv=notrunc 2>/dev/null
expect_rc 3 "$TRN" disasm "$T/flip.tprog"; expect_err "flip.tprog: .tprog checksum mismatch"
cp "$T/mlp_tile.tprog" "$T/future.tprog"
printf '\x09' | dd of="$T/future.tprog" bs=1 seek=8 conv=notrunc 2>/dev/null
expect_rc 3 "$TRN" disasm "$T/future.tprog"; expect_err "future.tprog: .tprog version 9 is newer"
expect_rc 3 "$TRN" disasm "$T/none.tprog"; expect_err "none.tprog"

# --- the ISA reference cannot drift -------------------------------------------------------
expect_rc 0 "$TRN" asm --isa-doc
if cmp -s "$T/out" docs/isa.md; then ok; else bad "docs/isa.md differs from trnsim asm --isa-doc"; fi

finish

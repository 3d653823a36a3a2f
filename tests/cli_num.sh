#!/usr/bin/env bash
# trnsim num quantize / convert / formats, end to end: expected values worked out by hand
# from the format definitions (docs/numerics.md), errors and exit codes.
# Usage: cli_num.sh PATH/TO/trnsim
TRN=${1:?usage: cli_num.sh TRNSIM}
. "$(dirname "$0")/harness.sh"
# expect_rc RC CMD...: runs CMD, checks the exit code, keeps stdout+stderr in $T/log
expect_rc() {
    local want=$1; shift
    "$@" >"$T/log" 2>&1; local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else bad "exit $rc, expected $want: $* ($(head -c 300 "$T/log"))"; fi
}
expect_log() { if grep -q -- "$1" "$T/log"; then ok; else bad "output lacks '$1': $(head -c 300 "$T/log")"; fi; }
# f32 FILE v1 v2 ...: writes little-endian float32 values
f32() { local f=$1; shift; python3 -c 'import struct,sys; open(sys.argv[1],"wb").write(struct.pack("<%df"%(len(sys.argv)-2),*map(float,sys.argv[2:])))' "$f" "$@"; }
# check FILE INDEX VALUE: element INDEX of a float32 file is exactly VALUE (nan allowed)
check() {
    if python3 -c 'import struct,sys,math
d=open(sys.argv[1],"rb").read(); v=struct.unpack("<%df"%(len(d)//4),d)[int(sys.argv[2])]; w=float(sys.argv[3])
sys.exit(0 if (v==w and math.copysign(1,v)==math.copysign(1,w)) or (math.isnan(v) and math.isnan(w)) else 1)' "$@"; then ok; else
        bad "$1[$2] != $3 (got $(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(); print(struct.unpack("<%df"%(len(d)//4),d)[int(sys.argv[2])])' "$1" "$2"))"; fi
}
size_is() { local s; s=$(stat -c %s "$1"); if [ "$s" -eq "$2" ]; then ok; else bad "$1 is $s bytes, expected $2"; fi; }

# --- help and usage ----------------------------------------------------------------------
expect_rc 0 "$TRN" num --help
expect_rc 0 "$TRN" num quantize --help; expect_log "mxfp4_e2m1"
expect_rc 0 "$TRN" num convert --help; expect_log "fp8_e4m3_legacy"
expect_rc 0 "$TRN" num formats; expect_log "448"
expect_rc 2 "$TRN" num
expect_rc 2 "$TRN" num frobnicate

# --- quantize: a block of 32 with amax 500 (E4M3 emax 8) --------------------------------
# OCP scale: floor(log2 500) - 8 = 0, X = 1: 500 clamps to 448, 1.5 and 0.25 are exact,
# 3.3 rounds to 3.25 (E4M3 spacing 0.25 in [2,4)), -0 keeps its sign.
vals=(500 1.5 0.25 3.3 -0)
for _ in $(seq 27); do vals+=(1); done
vals+=(2 3)   # a second, partial block: amax 3, X = 2^(1-8), exact
f32 "$T/in.f32" "${vals[@]}"
expect_rc 0 "$TRN" num quantize --format mxfp8_e4m3 --in "$T/in.f32" --out "$T/out.f32" --codes "$T/codes.bin"
expect_log "padded with 30 zeros"
check "$T/out.f32" 0 448; check "$T/out.f32" 1 1.5; check "$T/out.f32" 2 0.25
check "$T/out.f32" 3 3.25; check "$T/out.f32" 4 -0.0; check "$T/out.f32" 32 2; check "$T/out.f32" 33 3
size_is "$T/out.f32" $((34 * 4)); size_is "$T/codes.bin" $((2 * 33))
# scale bytes: 127 + 0 and 127 + 1 - 8; element code of 448 is 0x7e
python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.exit(0 if d[0]==127 and d[1]==0x7e and d[33]==120 else 1)' "$T/codes.bin" && ok || bad "codes.bin scale/code bytes"
# NC-v4 rule: X = 2, 500/2 = 250 rounds to 256 (E4M3 spacing 16 in [128,256)), so 512
expect_rc 0 "$TRN" num quantize --format mxfp8_e4m3 --scale-rule nc4 --in "$T/in.f32" --out "$T/out.f32"
check "$T/out.f32" 0 512
# MXFP4: amax 500, X = 2^(8-2) = 64: 500/64 = 7.8 clamps to 6 -> 384; 1.5/64 rounds to 0
expect_rc 0 "$TRN" num quantize --format mxfp4_e2m1 --in "$T/in.f32" --out "$T/out.f32"
check "$T/out.f32" 0 384; check "$T/out.f32" 1 0
# MXINT8: X = 2^8, element round(500/256 * 64) = 125 -> 125 * 4 = 500
expect_rc 0 "$TRN" num quantize --format mxint8 --in "$T/in.f32" --out "$T/out.f32"
check "$T/out.f32" 0 500
# A NaN in a block makes the whole block NaN (scale 0xFF)
f32 "$T/nan.f32" 1 nan 2 3
expect_rc 0 "$TRN" num quantize --format mxfp8_e5m2 --in "$T/nan.f32" --out "$T/out.f32"
check "$T/out.f32" 0 nan; check "$T/out.f32" 3 nan; expect_log "NaN blocks"
# Stochastic rounding: same seed, same bits; another seed, other bits
python3 -c 'import struct,random; random.seed(1); open("'"$T"'/r.f32","wb").write(struct.pack("<4096f",*[random.uniform(-3,3) for _ in range(4096)]))'
expect_rc 0 "$TRN" num quantize --format mxfp4_e2m1 --round sr --seed 7 --in "$T/r.f32" --out "$T/a.f32"
expect_rc 0 "$TRN" num quantize --format mxfp4_e2m1 --round sr --seed 7 --in "$T/r.f32" --out "$T/b.f32"
expect_rc 0 "$TRN" num quantize --format mxfp4_e2m1 --round sr --seed 8 --in "$T/r.f32" --out "$T/c.f32"
cmp -s "$T/a.f32" "$T/b.f32" && ok || bad "SR with one seed is not deterministic"
cmp -s "$T/a.f32" "$T/c.f32" && bad "SR ignores the seed" || ok

# --- convert ------------------------------------------------------------------------------
f32 "$T/c.f32" 1.00390625 1.01171875 464 464.00003 1e30 -inf nan 0.1
expect_rc 0 "$TRN" num convert --to bf16 --in "$T/c.f32" --out "$T/o.f32"
check "$T/o.f32" 0 1.0; check "$T/o.f32" 1 1.015625; check "$T/o.f32" 5 -inf; check "$T/o.f32" 6 nan
expect_rc 0 "$TRN" num convert --to fp8_e4m3 --in "$T/c.f32" --out "$T/o.f32"
check "$T/o.f32" 2 448; check "$T/o.f32" 3 nan; check "$T/o.f32" 5 nan; check "$T/o.f32" 7 0.1015625
expect_rc 0 "$TRN" num convert --to fp8_e4m3 --saturate --in "$T/c.f32" --out "$T/o.f32"
check "$T/o.f32" 3 448; check "$T/o.f32" 4 448; check "$T/o.f32" 5 -448
expect_rc 0 "$TRN" num convert --to fp8_e5m2 --in "$T/c.f32" --out "$T/o.f32"
check "$T/o.f32" 4 inf
expect_rc 0 "$TRN" num convert --to int8 --in "$T/c.f32" --out "$T/o.f32"
check "$T/o.f32" 2 127; check "$T/o.f32" 5 -128; check "$T/o.f32" 6 0

# --- errors -------------------------------------------------------------------------------
printf 'abcde' >"$T/odd.f32"
expect_rc 3 "$TRN" num convert --to bf16 --in "$T/odd.f32" --out "$T/o.f32"
expect_log "odd.f32: 5 bytes"; expect_log "multiple of 4"
expect_rc 3 "$TRN" num quantize --format mxfp8_e4m3 --in "$T/missing.f32" --out "$T/o.f32"
expect_log "missing.f32"
expect_rc 2 "$TRN" num quantize --format fp8_e4m3 --in "$T/c.f32" --out "$T/o.f32"
expect_log "unknown MX format"
expect_rc 2 "$TRN" num convert --to bf17 --in "$T/c.f32" --out "$T/o.f32"
expect_log "bf17"
expect_rc 2 "$TRN" num convert --to bf16 --out "$T/o.f32"; expect_log "missing --in"
expect_rc 2 "$TRN" num quantize --format mxfp8_e4m3 --scale-rule floor --in "$T/c.f32" --out "$T/o.f32"
expect_rc 2 "$TRN" num convert --to bf16 --round up --in "$T/c.f32" --out "$T/o.f32"
expect_rc 2 "$TRN" num convert --to bf16 --seed 3 --in "$T/c.f32" --out "$T/o.f32"
expect_rc 2 "$TRN" num convert --to bf16 --round sr --seed x --in "$T/c.f32" --out "$T/o.f32"
expect_rc 3 "$TRN" num convert --to bf16 --in "$T/c.f32" --out "$T/nodir/o.f32"

finish

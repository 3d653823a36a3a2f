#!/usr/bin/env bash
# `trnsim exec` end to end: .npy files written and read by a small python3 script (standard
# library only, headers by hand), outputs checked bit for bit, exit codes 0/1/2/3 and their
# messages. Usage: cli_exec.sh PATH/TO/trnsim
TRN=${1:?usage: cli_exec.sh TRNSIM}
. "$(dirname "$0")/harness.sh"
# expect RC CMD...: runs CMD, checks the exit code; output in $T/out, $T/err
expect() {
    local want=$1; shift
    "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else bad "exit $rc, expected $want: $* ($(head -c 300 "$T/err"))"; fi
}
has() { if grep -q -- "$2" "$T/$1"; then ok; else bad "$1 lacks '$2': $(head -c 300 "$T/$1")"; fi; }

cat >"$T/npy.py" <<'PY'
import random, struct, sys
def write(path, descr, shape, vals):
    fmt = {"<f4": "f", "<i4": "i"}[descr]
    dims = ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "")
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, dims)
    hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
        f.write(struct.pack("<%d%s" % (len(vals), fmt), *vals))
def read(path):
    d = open(path, "rb").read()
    assert d[:6] == b"\x93NUMPY", "magic"
    n = struct.unpack("<H", d[8:10])[0]
    h = d[10:10 + n].decode()
    descr = h.split("'descr': '")[1].split("'")[0]
    body = d[10 + n:]
    fmt = {"<f4": "f", "<i4": "i"}[descr]
    return descr, list(struct.unpack("<%d%s" % (len(body) // 4, fmt), body))
def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]
cmd = sys.argv[1]
if cmd == "make":       # make DIR: a, b [128, 1024] f32; bad shape; i [128, 8] int32
    random.seed(5)
    d = sys.argv[2]
    write(d + "/a.npy", "<f4", (128, 1024), [random.uniform(-9, 9) for _ in range(128 * 1024)])
    write(d + "/b.npy", "<f4", (128, 1024), [random.uniform(-9, 9) for _ in range(128 * 1024)])
    write(d + "/short.npy", "<f4", (128, 512), [0.0] * (128 * 512))
    write(d + "/a64.npy", "<f4", (128, 64), [random.uniform(-1, 1) for _ in range(128 * 64)])
    write(d + "/i.npy", "<i4", (128, 8), [random.randint(-2**31, 2**31 - 1) for _ in range(128 * 8)])
elif cmd == "add":      # add DIR: c == f32(a + b) bit for bit
    d = sys.argv[2]
    a, b, c = read(d + "/a.npy")[1], read(d + "/b.npy")[1], read(d + "/c.npy")
    assert c[0] == "<f4", c[0]
    bad = sum(1 for x, y, z in zip(a, b, c[1]) if struct.pack("<f", f32(x + y)) != struct.pack("<f", z))
    assert bad == 0 and len(c[1]) == len(a), "%d differ" % bad
elif cmd == "xor":      # xor DIR: o == i ^ 0x5a5a, int32
    d = sys.argv[2]
    i, o = read(d + "/i.npy")[1], read(d + "/o.npy")
    assert o[0] == "<i4", o[0]
    assert all(((x ^ 0x5A5A) == y) for x, y in zip(i, o[1])), "xor differs"
PY
python3 "$T/npy.py" make "$T" && ok || bad "making .npy files"
K=examples/kernels/tensor_add.tasm

# 0: a run, outputs bit-exact; the summary names the engines; --json; .tprog; integers
expect 0 "$TRN" exec $K --chip trn2 --param N=1024 --in a="$T/a.npy" --in b="$T/b.npy" --out c="$T/c.npy"
has out "instructions executed (PE 0, ACT 0, DVE 2, Pool 0, SP 0, DMA 6)"
python3 "$T/npy.py" add "$T" && ok || bad "c != a + b"
rm -f "$T/c.npy"
expect 0 "$TRN" exec $K --chip trn1 --param N=1024 --in a="$T/a.npy" --in b="$T/b.npy" --out c="$T/c.npy" --json
has out '"instructions": 8'
has out '"fault": null'
python3 "$T/npy.py" add "$T" && ok || bad "c != a + b (trn1, --json)"
expect 0 "$TRN" asm $K --param N=1024 --chip trn3 -o "$T/add.tprog"
rm -f "$T/c.npy"
expect 0 "$TRN" exec "$T/add.tprog" --chip trn3 --in a="$T/a.npy" --in b="$T/b.npy" --out c="$T/c.npy" --round sr --seed 7
python3 "$T/npy.py" add "$T" && ok || bad "c != a + b (.tprog, f32 needs no rounding)"
cat >"$T/xor.tasm" <<'TASM'
.input  i int32 [128, 8]
.output o int32 [128, 8]
.sbuf   t int32 [128, 8]
dma_copy      dst=t src=i
tensor_scalar dst=t data=t op0=bitwise_xor operand0=23130
dma_copy      dst=o src=t
TASM
expect 0 "$TRN" exec "$T/xor.tasm" --chip trn2 --in i="$T/i.npy" --out o="$T/o.npy"
python3 "$T/npy.py" xor "$T" && ok || bad "int32 xor output"

# timing: the report follows the run; --timing-only needs no inputs and gives the identical
# timeline (DESIGN.md: the timing model never needs data); the trace is valid Chrome JSON
expect 0 "$TRN" exec $K --chip trn2 --param N=1024 --in a="$T/a.npy" --in b="$T/b.npy" --json --trace "$T/t1.json"
cp "$T/out" "$T/full.json"
expect 0 "$TRN" exec $K --chip trn2 --param N=1024 --timing-only --json --trace "$T/t2.json"
python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["timing"]; b=json.load(open(sys.argv[2]))["timing"]; sys.exit(0 if a == b and a["total_ns"] > 0 else 1)' "$T/full.json" "$T/out" && ok || bad "timing differs between a full and a --timing-only run"
cmp -s "$T/t1.json" "$T/t2.json" && ok || bad "traces differ between a full and a --timing-only run"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); n={e["args"]["name"] for e in d["traceEvents"] if e.get("ph")=="M" and e.get("name")=="thread_name"}; sys.exit(0 if "DVE" in n and any(x.startswith("DMA") for x in n) else 1)' "$T/t1.json" && ok || bad "trace lacks DVE and DMA tracks"
expect 0 "$TRN" exec $K --chip trn3 --param N=1024 --timing-only
has out "critical path: bound by"
expect 3 "$TRN" exec $K --chip trn2 --param N=1024 --timing-only --trace "$T/nodir/t.json"
has err "nodir"

# 1: faults name the file, line, instruction and engine
cat >"$T/uninit.tasm" <<'TASM'
.input  a f32 [128, 1024]
.output c f32 [128, 1024]
.sbuf   x f32 [128, 1024]
.sbuf   y f32 [128, 1024]
dma_copy      dst=x src=a
tensor_tensor dst=x data1=x data2=y op=add
dma_copy      dst=c src=x
TASM
expect 1 "$TRN" exec "$T/uninit.tasm" --chip trn2 --in a="$T/a.npy"
has err "uninit.tasm:6: tensor_tensor (vector, instruction 1): uninitialized read: data2 'y'"
cat >"$T/bn.tasm" <<'TASM'
.input  a f32 [128, 1024]
.output c f32 [128, 6]
.sbuf   x f32 [128, 512]
.sbuf   y f32 [128, 6]
dma_copy dst=x src=a[:, 0:512]
sequence_bounds dst=y segment_ids=x
dma_copy dst=c src=y
TASM
expect 1 "$TRN" exec "$T/bn.tasm" --chip trn2 --in a="$T/a.npy" --json
has err "bn.tasm:6: sequence_bounds (gpsimd, instruction 1): illegal operand"
has out '"line": 6, "unsupported": false'

# a .sync manual kernel whose two engines write one tile with no semaphore between them: a
# race fault naming both source lines, before anything runs
cat >"$T/race.tasm" <<'TASM'
.sync manual
.input  a f32 [128, 64]
.output c f32 [128, 64]
.sbuf   x f32 [128, 64]
dma_copy      dst=x src=a engine=sync signal=s0
activation    dst=x data=x op=exp wait=s0>=1
tensor_scalar dst=x data=x op0=add operand0=1.0 wait=s0>=1
TASM
expect 1 "$TRN" exec "$T/race.tasm" --chip trn2 --in a="$T/a64.npy"
has err "race:"
has err "race.tasm:6"
has err "race.tasm:7"

# 2: usage errors
expect 2 "$TRN" exec $K --param N=1024 --in a="$T/a.npy" --in b="$T/b.npy"
has err "--chip NAME is required"
expect 2 "$TRN" exec $K --chip trn2 --param N=1024 --in a="$T/a.npy"
has err "input 'b' of kernel tensor_add was not given"
expect 2 "$TRN" exec $K --chip trn2 --timing-only --out c="$T/c.npy"
has err "cannot be written"
expect 2 "$TRN" exec $K --chip trn2 --round up
expect 2 "$TRN" exec $K --chip nosuchchip
expect 2 "$TRN" exec $K --chip trn2 --in a
expect 0 "$TRN" exec --help
has out "usage: trnsim exec"

# 3: bad input files and names
expect 3 "$TRN" exec $K --chip trn2 --param N=1024 --in a="$T/short.npy" --in b="$T/b.npy"
has err "short.npy: input 'a' of kernel tensor_add is f32 \[128, 1024\], the file holds \[128, 512\]"
expect 3 "$TRN" exec $K --chip trn2 --param N=1024 --in nope="$T/a.npy" --in b="$T/b.npy"
has err "has no input 'nope' (its inputs: a, b)"
echo "not a numpy file" >"$T/junk.npy"
expect 3 "$TRN" exec $K --chip trn2 --param N=1024 --in a="$T/junk.npy" --in b="$T/b.npy"
has err "junk.npy"
expect 3 "$TRN" exec $K --chip trn2 --param N=1024 --in a="$T/a.npy" --in b="$T/b.npy" --out zz="$T/z.npy"
has err "has no output 'zz'"
expect 3 "$TRN" exec "$T/add.tprog" --chip trn2 --in a="$T/a.npy" --in b="$T/b.npy"
has err "assembled for NeuronCore-v4"
expect 3 "$TRN" exec "$T/missing.tasm" --chip trn2

finish

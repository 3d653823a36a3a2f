#!/usr/bin/env bash
# `trnsim exec --grid N [--lnc L]`: the SPMD example on 1, 2, 4 and 8 cores of trn2 with .npy
# files (outputs checked bit for bit against a python reference), --timing-only giving the same
# timeline as the full run, the multi-core trace (one process per core), and the usage errors
# (exit 2) and faults (exit 1) with their messages. Usage: cli_grid.sh PATH/TO/trnsim
TRN=${1:?usage: cli_grid.sh TRNSIM}
. "$(dirname "$0")/harness.sh"
expect() {
    local want=$1; shift
    "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else bad "exit $rc, expected $want: $* ($(head -c 300 "$T/err"))"; fi
}
has() { if grep -q -- "$2" "$T/$1"; then ok; else bad "$1 lacks '$2': $(head -c 400 "$T/$1")"; fi; }
K=examples/kernels/spmd_add.tasm

cat >"$T/npy.py" <<'PY'
import json, random, struct, sys
def write(path, shape, vals):
    dims = ", ".join(str(s) for s in shape)
    hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % dims
    hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
        f.write(struct.pack("<%df" % len(vals), *vals))
def read(path):
    d = open(path, "rb").read()
    n = struct.unpack("<H", d[8:10])[0]
    body = d[10 + n:]
    return list(struct.unpack("<%df" % (len(body) // 4), body))
def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]
cmd, d = sys.argv[1], sys.argv[2]
if cmd == "make":
    random.seed(7)
    n = 1024 * 512
    write(d + "/a.npy", (1024, 512), [random.uniform(-9, 9) for _ in range(n)])
    write(d + "/b.npy", (1024, 512), [random.uniform(-9, 9) for _ in range(n)])
elif cmd == "add":       # c == f32(a + b) bit for bit
    a, b, c = read(d + "/a.npy"), read(d + "/b.npy"), read(d + "/" + sys.argv[3])
    assert len(c) == len(a), len(c)
    bad = sum(1 for x, y, z in zip(a, b, c) if struct.pack("<f", f32(f32(x) + f32(y))) != struct.pack("<f", z))
    assert bad == 0, "%d differ" % bad
elif cmd == "same":      # the "timing" objects of two --json outputs are equal
    x = json.load(open(d + "/" + sys.argv[3]))["timing"]
    y = json.load(open(d + "/" + sys.argv[4]))["timing"]
    assert x == y, "timelines differ"
    assert x["cores"] == int(sys.argv[5]) and len(x["per_core"]) == int(sys.argv[5])
elif cmd == "trace":     # one named process per core, slices on each
    ev = json.load(open(d + "/" + sys.argv[3]))["traceEvents"]
    n = int(sys.argv[4])
    names = {e["pid"]: e["args"]["name"] for e in ev if e.get("name") == "process_name"}
    assert sorted(names) == list(range(n)), names
    assert all(names[k].startswith("core %d: spmd_add" % k) for k in range(n)), names
    for k in range(n):
        assert any(e["ph"] == "X" and e["pid"] == k for e in ev), k
PY
command -v python3 >/dev/null || { echo "python3 missing"; exit 1; }
python3 "$T/npy.py" make "$T"

for g in 1 2 4 8; do
    expect 0 "$TRN" exec "$K" --chip trn2 --grid "$g" --in a="$T/a.npy" --in b="$T/b.npy" --out c="$T/c$g.npy"
    has out "kernel spmd_add on $g NeuronCore"
    if python3 "$T/npy.py" add "$T" "c$g.npy"; then ok; else bad "grid $g: c != a + b"; fi
    # --timing-only: the same timeline as the full run
    expect 0 "$TRN" exec "$K" --chip trn2 --grid "$g" --in a="$T/a.npy" --in b="$T/b.npy" --json
    cp "$T/out" "$T/full$g.json"
    expect 0 "$TRN" exec "$K" --chip trn2 --grid "$g" --timing-only --json
    cp "$T/out" "$T/only$g.json"
    if python3 "$T/npy.py" same "$T" "full$g.json" "only$g.json" "$g"; then ok; else bad "grid $g: --timing-only timeline differs"; fi
done
# 8 cores take 1/8 of the time of 1 (the DMA queues bound, not the 2.9 TB/s HBM)
if python3 -c "
import json,sys
a=json.load(open('$T/only1.json'))['timing']['total_ns']; b=json.load(open('$T/only8.json'))['timing']['total_ns']
sys.exit(0 if abs(a / b - 8) < 0.01 else 1)"; then ok; else bad "grid 8 is not 8x faster"; fi

# text report: chip line and one row per core; trace: one process per core
expect 0 "$TRN" exec "$K" --chip trn2 --grid 4 --timing-only --trace "$T/t.json"
has out "chip trn2: kernel spmd_add on 4 NeuronCores (LNC=1)"
has out "^3 "
has out "trace: $T/t.json"
if python3 "$T/npy.py" trace "$T" t.json 4; then ok; else bad "trace: not one process per core"; fi
# trn1 has 2 cores; LNC=2 on trn2
expect 0 "$TRN" exec "$K" --chip trn1 --grid 2 --timing-only
expect 0 "$TRN" exec "$K" --chip trn2 --grid 4 --lnc 2 --timing-only
has out "(LNC=2)"
# without --grid: the single-core path, unchanged
expect 0 "$TRN" exec "$K" --chip trn2 --timing-only
has out "kernel spmd_add on NeuronCore-v3 (Trainium2), chip trn2"

# usage errors: exit 2
expect 2 "$TRN" exec "$K" --chip trn2 --grid 9
has err "--grid 9: chip trn2 has 8 NeuronCores; expected 1..8"
expect 2 "$TRN" exec "$K" --chip trn1 --grid 4
has err "chip trn1 has 2 NeuronCores"
expect 2 "$TRN" exec "$K" --chip trn2 --grid 0
has err "expected 1..8"
expect 2 "$TRN" exec "$K" --chip trn2 --grid two
has err "grid"
expect 2 "$TRN" exec "$K" --chip trn2 --grid 2 --lnc 3
has err "--lnc 3: expected 1 or 2"
expect 2 "$TRN" exec "$K" --chip trn1 --grid 2 --lnc 2
has err "no Logical NeuronCores"
expect 2 "$TRN" exec "$K" --chip trn2 --grid 3 --lnc 2
has err "expected an even grid"
expect 2 "$TRN" exec "$K" --chip trn2 --lnc 2
has err "--lnc 2 needs --grid N"
expect 0 "$TRN" asm "$K" -o "$T/k.tprog"
expect 2 "$TRN" exec "$T/k.tprog" --chip trn2 --grid 2
has err "--grid needs the .tasm"
expect 2 "$TRN" exec "$K" --chip trn2 --grid 2 --timing-only --param Q=1
has err "Q"

# faults: exit 1
cat >"$T/dl.tasm" <<'EOF2'
.kernel dl
.input x f32 [128, 8]
.sbuf t f32 [128, 8]
dma_copy dst=t src=x
.for i in 0..1-program_id
core_barrier data=x cores=(0, 1)
.end
EOF2
expect 1 "$TRN" exec "$T/dl.tasm" --chip trn2 --grid 2 --timing-only
has err "fault: .*deadlock of 2 cores"
has err "never reach a matching core_barrier"
cat >"$T/far.tasm" <<'EOF2'
.kernel far
.input x f32 [128, 8]
core_barrier data=x cores=(0, 3)
EOF2
expect 1 "$TRN" exec "$T/far.tasm" --chip trn2 --grid 2 --timing-only
has err "fault: .*far.tasm:3: core_barrier (core 0, instruction 0): cores names rank 3"
cat >"$T/ww.tasm" <<'EOF2'
.kernel ww
.input x f32 [128, 8]
.output y f32 [128, 8]
.sbuf t f32 [128, 8]
dma_copy dst=t src=x
dma_copy dst=y src=t
EOF2
python3 - "$T" <<'PY'
import struct, sys
hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (128, 8), }"
hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
open(sys.argv[1] + "/x.npy", "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode() + struct.pack("<1024f", *range(1024)))
PY
expect 1 "$TRN" exec "$T/ww.tasm" --chip trn2 --grid 2 --in x="$T/x.npy" --json
has err "fault: core 1: .*race: core 1 writes HBM tensor 'y'"
has out '"fault": {"core": 1'

finish

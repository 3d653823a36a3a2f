#!/usr/bin/env bash
# trnsim info end to end: the catalog table, one entry with derived vs published figures,
# --json for scripts, --hw overrides and their errors, exit codes (docs/hardware.md).
# Usage: cli_info.sh PATH/TO/trnsim
TRN=${1:?usage: cli_info.sh TRNSIM}
. "$(dirname "$0")/harness.sh"

# --- help and usage ---------------------------------------------------------------------
expect_rc 0 "$TRN" info --help; expect_out "usage: trnsim"; expect_out "--json"
expect_rc 2 "$TRN" info trn2 trn3; expect_err "one NAME at a time"
expect_rc 2 "$TRN" info --bogus; expect_err "unknown option '--bogus'"

# --- the table ----------------------------------------------------------------------------
expect_rc 0 "$TRN" info
for name in v2 v3 v4 v5 inf2 trn1 trn2 trn3 trn4 trn1.32xlarge trn2.48xlarge trn2-ultraserver \
    trn3-gen1-ultraserver trn3-gen2-ultraserver trn3-ultracluster inf2.48xlarge h100-sxm h200 \
    b200 gb200 p5.48xlarge p5e.48xlarge p6-b200.48xlarge gb200-nvl72; do
    expect_out "  $name "
done
expect_line "  v3 " "2.4 GHz" "78.64T" "157.3T" "28 MiB" "2 MiB" "368 GB/s"
expect_line "  trn2 " "v3" "629.1T \[667T\]" "1.258P \[1.299P\]" "96 GiB" "2.9 TB/s" "1.28 TB/s" '\$3.00/h\*'
expect_line "  trn3 " "v4" "2.517P" "144 GiB" "4.9 TB/s"
expect_line "trn4 \(projected\)" "24\*"
expect_line "  trn1.32xlarge " "torus 4x4" "512 GiB" '\$21.50/h'
expect_line "  trn3-gen2-ultraserver " "144 x trn3" "switch, 2 levels" "362.4P" "20.25 TiB" "705.6 TB/s"
expect_line "  h100-sxm " "989.5T" "1.979P" "80 GB" "3.35 TB/s" "900 GB/s" "700 W"
expect_out "* = assumed"

# --- one entry: derived beside published, with the difference -------------------------------
expect_rc 0 "$TRN" info trn3-gen2-ultraserver
expect_out "Trn3 Gen2 UltraServer"
expect_line "MXFP8 peak" "362.4 PFLOP/s" "144 x trn3 2.517 PFLOP/s" "362 PFLOP/s" "TRN3-SYS" "\+0.1%"
expect_line "HBM " "20.25 TiB" "144 x 144 GiB" "20.25 TiB" "TRN3-SYS"
expect_line "HBM bandwidth" "705.6 TB/s" "144 x 4.9 TB/s" "705.6 TB/s"
expect_line "topology" "switch, 2 levels" "\[TRN3-SYS\]"
expect_line "scale-up per-hop latency" "ASSUMED: "
expect_line "price " '\$648.00/h\*' '144 x \$4.50/h'
expect_out "* derived from at least one assumed value"
expect_rc 0 "$TRN" info trn2
expect_line "BF16 peak" "629.1 TFLOP/s" "8 cores x 78.64 TFLOP/s" "667 TFLOP/s" "TRN2" "-5.7%"
expect_out "undocumented (trainium-facts.md 1.2)"
expect_line "price per chip-hour" "ASSUMED: "
expect_rc 0 "$TRN" info v3
expect_line "BF16 peak" "78.64 TFLOP/s" "128x128 PEs x 2 x 2.4 GHz x 1" "79 TFLOP/s" "AG3"
expect_line "TensorE clock" "2.4 GHz" "\[AG3\]"
expect_line "SBUF " "28 MiB" "128 partitions x 224 KiB"
expect_rc 0 "$TRN" info TRN3-Gen2-UltraServer; expect_out "trn3-gen2-ultraserver:"
expect_rc 0 "$TRN" info trn4; expect_out "PROJECTED"
expect_rc 0 "$TRN" info h100-sxm; expect_out "https://www.nvidia.com/en-us/data-center/h100/"

# --- unknown name: exit 3 with the known names ---------------------------------------------
expect_rc 3 "$TRN" info trn9
expect_err "unknown hardware name 'trn9'"; expect_err "trn3-gen2-ultraserver"

# --- JSON ---------------------------------------------------------------------------------
expect_rc 0 "$TRN" info --json; json_ok "info --json"
pyexpr 'sorted(d) == ["chips", "core_versions", "gpus", "systems"]'
pyexpr 'd["chips"]["trn2"]["hbm_bw_bps"] == {"value": 2.9e12, "source": "TRN2", "note": "AG3 says 3 TB/s"}'
pyexpr 'd["core_versions"]["v3"]["tensor_hz"]["value"] == 2.4e9'
pyexpr 'all(sum(k in v for k in ("source", "derived", "assumed")) == 1 for v in
    [x for s in d.values() for e in s.values() for x in e.values() if isinstance(x, dict) and "value" in x])'
cp "$T/out" "$T/catalog.json"
expect_rc 0 "$TRN" info trn3-gen2-ultraserver --json; json_ok "info NAME --json"
pyexpr 'd["kind"] == "system" and d["fields"]["chip"] == "trn3"'
pyexpr '[f for f in d["figures"] if f["key"] == "peak_flops.mxfp8"][0]["published"]["value"] == 362e15'
pyexpr 'abs([f for f in d["figures"] if f["key"] == "peak_flops.mxfp8"][0]["diff_pct"] - 0.107) < 0.01'
pyexpr '[f for f in d["figures"] if f["key"] == "hbm_bytes"][0]["derived"] == 20.25 * 2**40'
# the catalog as JSON loads back as --hw and changes nothing
expect_rc 0 "$TRN" --hw "$T/catalog.json" info --json
if cmp -s "$T/out" "$T/catalog.json"; then ok; else bad "--hw of info --json changed the catalog"; fi

# --- --hw overrides ---------------------------------------------------------------------------
cat >"$T/fast.json" <<'EOF'
{"core_versions": {"v3": {"tensor_hz": {"value": 3.0e9, "assumed": "what-if: a faster PE array"}}}}
EOF
expect_rc 0 "$TRN" --hw "$T/fast.json" info v3
expect_line "TensorE clock" "3 GHz" "ASSUMED: what-if: a faster PE array"
expect_line "VectorE clock" "960 MHz" "\[AG3\]"
expect_line "BF16 peak" "98.3 TFLOP/s" "79 TFLOP/s" "\+24.4%"
# --hw anywhere on the line, repeatable; the later file wins
cat >"$T/faster.json" <<'EOF'
{"core_versions": {"v3": {"tensor_hz": {"value": 3.2e9, "assumed": "even faster"}}}}
EOF
expect_rc 0 "$TRN" info trn2 --hw "$T/fast.json" --hw="$T/faster.json"
expect_line "BF16 peak" "838.9 TFLOP/s" "8 cores x 104.9 TFLOP/s"

# --- bad --hw files: exit 3, the file and the JSON path named ----------------------------------
cat >"$T/neg.json" <<'EOF'
{"chips": {"trn2": {"hbm_bw_bps": {"value": -1, "source": "TRN2"}}}}
EOF
expect_rc 3 "$TRN" --hw "$T/neg.json" info
expect_err "$T/neg.json: \$.chips.trn2.hbm_bw_bps: expected a positive number, got -1"
echo '{"chips": {"trn2": {"hbm_bandwidth": {"value": 1, "source": "TRN2"}}}}' >"$T/unk.json"
expect_rc 3 "$TRN" info --hw "$T/unk.json"
expect_err "$T/unk.json: \$.chips.trn2.hbm_bandwidth: unknown field"
echo '{"chips": {"trn2": {"core_version": "v7"}}}' >"$T/ref.json"
expect_rc 3 "$TRN" info trn2 --hw "$T/ref.json"
expect_err "$T/ref.json: \$.chips.trn2.core_version: unknown core version 'v7'"
printf '{"chips": {\n' >"$T/trunc.json"
expect_rc 3 "$TRN" info --hw "$T/trunc.json"
expect_err "$T/trunc.json: malformed JSON at line 2"
expect_rc 3 "$TRN" info --hw "$T/missing.json"
expect_err "$T/missing.json: cannot open"
expect_rc 2 "$TRN" info --hw

finish

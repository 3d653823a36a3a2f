#!/usr/bin/env bash
# trnsim plan model end to end: counts of catalog models and of a config.json by path, --json
# for scripts, and exit codes 0 / 2 (usage) / 3 (bad input) with their messages.
# Usage: cli_plan.sh PATH/TO/trnsim
set -u
TRN=${1:?usage: cli_plan.sh TRNSIM}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
expect_rc() {
    local want=$1; shift
    "$@" >"$T/out" 2>"$T/err"; local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else bad "exit $rc, expected $want: $* ($(head -c 300 "$T/err"))"; fi
}
expect_out() { if grep -qF -- "$1" "$T/out"; then ok; else bad "stdout lacks '$1': $(head -c 300 "$T/out")"; fi; }
expect_err() { if grep -qF -- "$1" "$T/err"; then ok; else bad "stderr lacks '$1': $(head -c 300 "$T/err")"; fi; }
expect_line() {
    local re; re=$(printf '%s.*' "$@")
    if grep -qE -- "${re%.\*}" "$T/out"; then ok; else bad "no stdout line matches $*"; fi
}
pyexpr() {
    if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$T/out" "$1"; then ok; else bad "JSON check failed: $1"; fi
}

# --- help and usage -------------------------------------------------------------------------
expect_rc 0 "$TRN" plan --help; expect_out "usage: trnsim plan model"; expect_out "llama-3.1-405b"
expect_rc 0 "$TRN" plan model --help; expect_out "--seq-len"
expect_rc 0 "$TRN" --help; expect_out "  plan "
expect_rc 2 "$TRN" plan; expect_err "expected a subcommand"
expect_rc 2 "$TRN" plan bogus; expect_err "unknown subcommand 'bogus'"
expect_rc 2 "$TRN" plan model; expect_err "expected a model NAME"
expect_rc 2 "$TRN" plan model llama-2-7b llama-2-13b; expect_err "one model at a time"
expect_rc 2 "$TRN" plan model llama-2-7b --bogus; expect_err "unknown option '--bogus'"
expect_rc 2 "$TRN" plan model llama-2-7b --seq-len 0; expect_err "--seq-len"
expect_rc 2 "$TRN" plan model llama-2-7b --seq-len abc; expect_err "--seq-len"
expect_rc 2 "$TRN" plan model llama-2-7b --seq-len; expect_err "needs a value"
expect_rc 2 "$TRN" plan model llama-2-7b --kv-dtype fp5; expect_err "--kv-dtype"
expect_rc 2 "$TRN" plan model llama-2-7b --kv-dtype fp4_e2m1; expect_err "whole-byte"

# --- bad input: exit 3 with the file and the field ----------------------------------------------
expect_rc 3 "$TRN" plan model llama-9-1t; expect_err "unknown model 'llama-9-1t'"; expect_err "mixtral-8x7b"
expect_rc 3 "$TRN" plan model "$T/missing.json"; expect_err "$T/missing.json"
printf '{"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,\n "num_attention_heads": 4, "num_key_value_heads": 3, "intermediate_size": 128,\n "vocab_size": 100, "max_position_embeddings": 64}\n' >"$T/bad.json"
expect_rc 3 "$TRN" plan model "$T/bad.json"; expect_err "$T/bad.json: num_key_value_heads: expected a divisor"
printf '{"architectures": ["T5ForConditionalGeneration"]}' >"$T/t5.json"
expect_rc 3 "$TRN" plan model "$T/t5.json"; expect_err "unsupported architecture \"T5ForConditionalGeneration\""
printf '{"model_type": "llama",' >"$T/trunc.json"
expect_rc 3 "$TRN" plan model "$T/trunc.json"; expect_err "malformed JSON at line 1"

# --- counts -------------------------------------------------------------------------------------
expect_rc 0 "$TRN" plan model llama-3-70b
expect_out "llama-3-70b (llama, models/llama-3-70b.json)"
expect_line "total" "70553706496" "70.554B"
expect_line "KV cache" "327680 bytes" "bf16"
expect_rc 0 "$TRN" plan model mixtral-8x7b --kv-dtype fp8_e4m3
expect_line "active" "12.880B"
expect_line "KV cache" "65536 bytes" "fp8_e4m3"
expect_rc 0 "$TRN" plan model DeepSeek-V3
expect_line "mtp" "11.610B" "not in total"
expect_line "total" "671.026B"
expect_rc 0 "$TRN" plan model bert-large
expect_out "per token at seq-len 512"   # capped at max_position_embeddings
expect_out "KV cache       0 bytes"

# --- JSON, and a config.json by path gives the catalog's numbers --------------------------------
expect_rc 0 "$TRN" plan model gpt-oss-120b --seq-len 8192 --json
pyexpr 'd["params"]["total"] == 116829156672'
pyexpr 'abs((d["params"]["active"] - d["params"]["embed"]) / 1e9 - 5.13) < 0.005'
pyexpr 'd["seq_len"] == 8192 and d["kv_bytes_per_token"] == 36864'
pyexpr 'abs(d["flops_per_token"]["train"] - 3 * d["flops_per_token"]["forward"]) < 1'
pyexpr 'abs(d["weight_bytes"] / 2**30 - 60.8) < 0.05'
cp "$T/out" "$T/catalog.json"
expect_rc 0 "$TRN" plan model models/gpt-oss-120b.json --seq-len=8192 --json
pyexpr 'd["params"] == json.load(open(sys.argv[1].replace("out", "catalog.json")))["params"]'
pyexpr 'd["file"] == "models/gpt-oss-120b.json" and d["name"] == "gpt-oss-120b"'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# trnsim demo end to end (the README's `make demo`): it runs to the end and exits 0, each part
# prints its figures, and the figures agree with the commands the demo names (the tiny-llama
# tokens on trn2 and trn3 are the same greedy run as `trnsim run`, Llama-3-8B's TTFT is
# `trnsim run --timing-only`'s, the planner rows are `trnsim plan serve`'s under the stated SLO).
# Usage: cli_demo.sh PATH/TO/trnsim
TRN=${1:?usage: cli_demo.sh TRNSIM}
. "$(dirname "$0")/harness.sh"

expect_rc 0 "$TRN" demo
cp "$T/out" "$T/demo"
expect_out "262144/262144"                      # the matmul kernel bit-exact on each chip
expect_out "trn2 tokens:"
expect_out "trn3 tokens:"
expect_out "SLO: TTFT <= 2000 ms, TPOT <= 50 ms"
n=$(grep -c "SLO: TTFT <= 2000 ms, TPOT <= 50 ms" "$T/demo")
if [ "$n" -eq 2 ]; then ok; else bad "expected both systems planned under the SLO, got $n"; fi
n=$(grep -c "^best: " "$T/demo")
if [ "$n" -eq 2 ]; then ok; else bad "expected a best plan for each system, got $n"; fi

# the tiny-llama tokens are those of trnsim run with the demo's prompt (12 tokens, 8 greedy)
t2=$(sed -n 's/^  trn2 tokens: //p' "$T/demo")
t3=$(sed -n 's/^  trn3 tokens: //p' "$T/demo")
if [ -n "$t2" ] && [ "$t2" = "$t3" ]; then ok; else bad "trn2 and trn3 tokens differ: '$t2' '$t3'"; fi
expect_rc 0 "$TRN" run --model tiny-llama --chip trn2 --tokens 15,72,101,108,108,111,44,32,84,114,97,105 --max-new 8
r=$(sed -n 's/^prompt: 12 tokens; generated 8: //p' "$T/out")
if [ -n "$r" ] && [ "$r" = "$t2" ]; then ok; else bad "demo tokens '$t2', trnsim run gives '$r'"; fi

# Llama-3-8B TTFT on trn2: the demo's figure is trnsim run's (2 decimals of ms)
expect_rc 0 "$TRN" run --model llama-3-8b --timing-only --prompt-len 2048 --max-new 2 --cores 8 --json
want=$(python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["ttft_us"] / 1e3))' "$T/out")
got=$(awk '/^  TTFT ms/ {print $3}' "$T/demo")
if [ "$got" = "$want" ]; then ok; else bad "demo TTFT ms '$got', trnsim run gives '$want'"; fi

# the trn2.48xlarge plan row is plan serve's own
expect_rc 0 "$TRN" plan serve --model llama-3-70b --system trn2.48xlarge --top 1 --op-cost roofline --ttft-slo-ms 2000 --tpot-slo-ms 50
b=$(grep "^best: " "$T/out")
if grep -qF -- "$b" "$T/demo"; then ok; else bad "plan serve's best line '$b' is not in the demo"; fi

expect_rc 0 "$TRN" demo --help; expect_out "usage: trnsim demo"
expect_rc 2 "$TRN" demo extra; expect_err "unexpected argument 'extra'"

finish

#!/usr/bin/env bash
# trnsim plan / compare --op-cost: the provider of the per-op compute times is chosen, named in
# the text and JSON output, defaults to the simulator on Trainium and the roofline on GPUs, and
# bad values are usage errors naming the flag. The simulator's compute time for a small
# Llama-3-8B training plan is below the roofline's (its GEMMs run near peak, the roofline's
# trn2 gemm_efficiency is 0.33).
# Usage: cli_opcost.sh PATH/TO/trnsim
TRN=${1:?usage: cli_opcost.sh TRNSIM}
. "$(dirname "$0")/harness.sh"

P="plan train --model llama-3-8b --system trn2.48xlarge --chips 4 --seq-len 512 --global-batch 32 --tp 1 --pp 1 --dp 4 --zero 1 --recompute none"
expect_rc 0 "$TRN" plan train --help; expect_out "--op-cost P"
expect_rc 2 "$TRN" $P --op-cost fast; expect_err "--op-cost: expected roofline or sim, got 'fast'"
expect_rc 2 "$TRN" plan train --model llama-3-8b --system p5.48xlarge --op-cost sim
expect_err "--op-cost sim: p5.48xlarge has h100-sxm GPUs"
expect_rc 2 "$TRN" compare --model llama-3-8b --workload train --op-cost bogus; expect_err "--op-cost: expected roofline or sim"
expect_rc 2 "$TRN" compare --claims --op-cost sim; expect_err "--claims takes only --json"

# the default on Trainium is the simulator, named with what it answered; on GPUs the roofline
expect_rc 0 "$TRN" $P; expect_out "compute times: simulator (trn2, timing-only"
expect_out "roofline fallback 0 GEMM, 0 attention, 0 elementwise"
expect_rc 0 "$TRN" plan train --model llama-3-8b --system p5.48xlarge --chips 8 --seq-len 512
expect_out "compute times: roofline (catalog efficiency: GEMM"
expect_rc 0 "$TRN" $P --op-cost roofline; expect_out "compute times: roofline"

# JSON names the provider; the simulator's compute is below the roofline's, by less than the
# catalog's 0.33 ratio can explain alone (memory-bound ops are in both)
expect_rc 0 "$TRN" $P --op-cost roofline --json; pyexpr 'd["op_cost"] == "roofline"'
cp "$T/out" "$T/roof.json"
expect_rc 0 "$TRN" $P --op-cost sim --json; pyexpr 'd["op_cost"] == "simulator"'
pyexpr 'd["breakdown_s"]["compute"] < 0.6 * json.load(open(sys.argv[1].replace("out", "roof.json")))["breakdown_s"]["compute"]'
pyexpr 'd["step_time_s"] > 0 and d["mfu"] > json.load(open(sys.argv[1].replace("out", "roof.json")))["mfu"]'
expect_rc 0 "$TRN" plan serve --model llama-3-8b --system trn2.48xlarge --chips 1 --input-len 512 --output-len 64 --batch 8
expect_out "compute times: simulator (trn2"
expect_rc 0 "$TRN" plan rl --model llama-3-8b --system trn2.48xlarge --chips 4 --input-len 256 --output-len 64 --batch 16
expect_out "compute times: simulator (trn2"

# compare: roofline by default for every system; sim for the Trainium rows only
C="compare --model llama-3-8b --workload train --systems trn2.48xlarge,p5.48xlarge --seq-len 512 --global-batch 64"
expect_rc 0 "$TRN" $C --json
pyexpr 'all(s["op_cost"] == "roofline" for s in d["systems"])'
expect_rc 0 "$TRN" $C --op-cost sim --json
pyexpr '{s["system"]: s["op_cost"] for s in d["systems"]} == {"trn2.48xlarge": "simulator", "p5.48xlarge": "roofline"}'
expect_rc 0 "$TRN" $C --op-cost sim; expect_out "compute times: the chip simulator for Trainium systems"

finish

#!/usr/bin/env bash
# trnsim plan end to end: `plan model` counts of catalog models and of a config.json by path;
# `plan train|serve|rl` searches, pins, the stable --json keys and their arithmetic; exit codes
# 0 / 1 (nothing fits) / 2 (usage) / 3 (bad input) with their messages.
# Usage: cli_plan.sh PATH/TO/trnsim
TRN=${1:?usage: cli_plan.sh TRNSIM}
. "$(dirname "$0")/harness.sh"

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

# --- plan train | serve | rl: usage errors (exit 2) name the flag ------------------------------
P="plan train --model llama-3-8b --system trn2.48xlarge"
expect_rc 0 "$TRN" plan train --help; expect_out "--global-batch"; expect_out "--tpot-slo-ms"
expect_rc 2 "$TRN" plan train --system trn2.48xlarge; expect_err "expected --model M and --system S"
expect_rc 2 "$TRN" $P --tp 0; expect_err "--tp: expected a positive integer"
expect_rc 2 "$TRN" $P --tp -2; expect_err "--tp"
expect_rc 2 "$TRN" $P --tp 3; expect_err "--tp 3: must divide the 32 attention heads of llama-3-8b"
expect_rc 2 "$TRN" $P --pp 5; expect_err "--pp 5: must divide the 32 layers"
expect_rc 2 "$TRN" $P --ep 2; expect_err "--ep 2: llama-3-8b has no experts"
expect_rc 2 "$TRN" plan train --model mixtral-8x7b --system trn2.48xlarge --ep 3; expect_err "--ep 3: must divide the 8 experts of mixtral-8x7b"
expect_rc 2 "$TRN" $P --tp 8 --pp 4; expect_err "their product 32 must divide the 16 chips"
expect_rc 2 "$TRN" $P --chips 0; expect_err "--chips"
expect_rc 2 "$TRN" $P --chips 2000000; expect_err "--chips 2000000: chips: expected 1 to 1000000"
expect_rc 2 "$TRN" $P --batch 4; expect_err "--batch does not apply to \`plan train\`"
expect_rc 2 "$TRN" $P --precision fp4; expect_err "--precision: expected bf16, fp8 or mxfp8"
expect_rc 2 "$TRN" $P --zero 4; expect_err "--zero: expected 0, 1, 2, 3 or fsdp"
expect_rc 2 "$TRN" $P --recompute some; expect_err "--recompute"
expect_rc 2 "$TRN" $P --objective fast; expect_err "--objective: expected throughput, cost or latency"
expect_rc 2 "$TRN" $P --frobnicate 1; expect_err "unknown option '--frobnicate'"
expect_rc 2 "$TRN" $P --seq-len 100000; expect_err "exceeds llama-3-8b's 8192 positions"
expect_rc 2 "$TRN" plan train --model llama-3-8b --system p5.48xlarge --precision mxfp8; expect_err "h100-sxm has no mxfp8 peak"
expect_rc 2 "$TRN" plan serve --model llama-3-8b --system trn2.48xlarge --ttft-slo-ms -5; expect_err "--ttft-slo-ms: expected a positive number"
expect_rc 2 "$TRN" plan serve --model llama-3-8b --system trn2.48xlarge --precision mxfp4; expect_err "mxfp4 applies to routed experts"
expect_rc 2 "$TRN" plan serve --model llama-3-8b --system trn2.48xlarge --cp 2; expect_err "--cp does not apply to \`plan serve\`"
expect_rc 2 "$TRN" plan serve --model llama-3-8b --system trn2.48xlarge --kv-dtype fp4_e2m1; expect_err "--kv-dtype"
# unknown names (exit 3) list the known ones
expect_rc 3 "$TRN" plan train --model llama-9 --system trn2.48xlarge; expect_err "unknown model 'llama-9'"; expect_err "llama-3-8b"
expect_rc 3 "$TRN" plan train --model llama-3-8b --system trn9; expect_err "unknown system 'trn9'"; expect_err "trn2-ultraserver"
# nothing fits (exit 1): which chip, by how much, what dominates
expect_rc 1 "$TRN" plan train --model llama-3-70b --system p5.48xlarge
expect_err "llama-3-70b does not fit on 8 x h100-sxm"; expect_err "GiB short"; expect_err "optimizer state dominates"
expect_rc 1 "$TRN" plan serve --model llama-3.1-405b --system p5.48xlarge --precision bf16
expect_err "does not fit on 8 x h100-sxm"; expect_err "weights dominate"

# --- train: the best configuration and the stable JSON keys -------------------------------------
expect_rc 0 "$TRN" $P --global-batch 256 --top 3
expect_out "best: tp"; expect_line "MFU" "%"; expect_out "alternatives"; expect_line "memory per chip" "weights"
expect_rc 0 "$TRN" $P --global-batch 256 --seq-len 4096 --json
pyexpr 'all(k in d for k in ["config", "chips", "step_time_s", "tokens_per_s", "mfu", "memory_per_chip_gib"])'
pyexpr 'all(k in d["config"] for k in ["tp", "pp", "dp", "ep", "cp", "microbatches", "zero"])'
pyexpr 'd["chips"] == 16 and d["config"]["tp"] * d["config"]["pp"] * d["config"]["dp"] * d["config"]["cp"] == 16'
pyexpr 'abs(d["tokens_per_s"] * d["step_time_s"] - 256 * 4096) < 1e-6 * 256 * 4096'
pyexpr '0 < d["mfu"] < 0.75 and d["memory_per_chip_gib"]["total"] <= d["memory_per_chip_gib"]["capacity"] == 96'
pyexpr 'abs(sum(v for k, v in d["breakdown_s"].items() if k != "limited_by") - d["step_time_s"]) < 1e-9 * d["step_time_s"]'
pyexpr 'd["price_provenance"] == "assumed" and d["price_usd_per_chip_hour"] == 3 and d["pue"] == 1.15'
pyexpr 'abs(d["cost_to_train_usd"] - d["time_to_train_s"] / 3600 * 16 * 3) < 1e-6 * d["cost_to_train_usd"]'
# pins are respected
expect_rc 0 "$TRN" $P --global-batch 256 --tp 2 --pp 2 --zero 1 --recompute full --json
pyexpr 'd["config"]["tp"] == 2 and d["config"]["pp"] == 2 and d["config"]["zero"] == 1 and d["config"]["recompute"] == "full"'
pyexpr 'all(a["config"]["tp"] == 2 and a["config"]["pp"] == 2 for a in d["alternatives"])'
# the default global batch is the smallest multiple of the chips >= 1024: 72 GPUs -> 1080
expect_rc 0 "$TRN" plan train --model llama-2-7b --system gb200-nvl72 --json
pyexpr 'd["global_batch"] == 1080 and d["chips"] == 72'
# serving defaults stay within the model's positions (GPT-3: 2048 = 1792 + 256)
expect_rc 0 "$TRN" plan serve --model gpt-3-175b --system p5e.48xlarge --json
pyexpr 'd["input_len"] == 1792 and d["output_len"] == 256'
expect_rc 2 "$TRN" plan serve --model bert-large --system p5e.48xlarge; expect_err "bert-large is an encoder"
# --objective cost without --chips tries the divisors of the system's chips
expect_rc 0 "$TRN" plan train --model llama-3-8b --system trn2.48xlarge --global-batch 64 --objective cost --json
pyexpr 'd["chips"] in (1, 2, 4, 8, 16) and d["objective"] == "cost"'

# --- serve ---------------------------------------------------------------------------------------
S="plan serve --model llama-3-70b --system trn2.48xlarge --input-len 2048 --output-len 256"
expect_rc 0 "$TRN" $S --batch 64 --top 3
expect_out "best: tp"; expect_line "TTFT" "ms"; expect_line "cost" "per 1M input tokens"; expect_line "energy" "J per output token"
expect_rc 0 "$TRN" $S --batch 64 --json
pyexpr 'all(k in d for k in ["config", "chips", "ttft_ms", "tpot_ms", "throughput_tokens_per_s", "usd_per_1m_input_tokens", "usd_per_1m_output_tokens", "joules_per_token"])'
pyexpr 'd["batch"] == 64 and d["max_batch"] >= 64'
pyexpr 'abs(d["e2e_latency_ms"] - (d["ttft_ms"] + 255 * d["tpot_ms"])) < 1e-6 * d["e2e_latency_ms"]'
pyexpr 'abs(d["throughput_tokens_per_s"] - 64 * 256 / (d["e2e_latency_ms"] / 1e3)) < 1e-6 * d["throughput_tokens_per_s"]'
pyexpr 'abs(d["usd_per_1m_input_tokens"] - d["config"]["tp"] * d["config"]["pp"] * 3 / 3600 * d["ttft_ms"] / 1e3 / (64 / d["config"]["dp"] * 2048) * 1e6) < 1e-9'
pyexpr 'abs(d["usd_per_1m_output_tokens"] - d["config"]["tp"] * d["config"]["pp"] * 3 / 3600 * 255 * d["tpot_ms"] / 1e3 / (64 / d["config"]["dp"] * 256) * 1e6) < 1e-9'
# SLOs bound the batch the search picks
expect_rc 0 "$TRN" $S --tpot-slo-ms 30 --ttft-slo-ms 5000 --json
pyexpr 'd["tpot_ms"] <= 30 and d["ttft_ms"] <= 5000 and all(a["tpot_ms"] <= 30 for a in d["alternatives"])'
expect_rc 1 "$TRN" $S --tpot-slo-ms 0.001; expect_err "meets no SLO"
# MoE with MXFP4 experts, fp8 KV
expect_rc 0 "$TRN" plan serve --model gpt-oss-120b --system p6-b200.48xlarge --precision mxfp4 --kv-dtype fp8 --json
pyexpr 'd["precision"] == "mxfp4" and d["memory_per_chip_gib"]["weights"] < 70'
# request-rate mode: the discrete-event simulation of the chosen configuration
expect_rc 0 "$TRN" plan serve --model llama-3-8b --system trn2.48xlarge --request-rate 20 --requests 400 --json
pyexpr 'd["request_rate"]["ttft_ms"]["p50"] <= d["request_rate"]["ttft_ms"]["p99"] and d["request_rate"]["throughput_tokens_per_s"] > 0'
expect_rc 2 "$TRN" plan serve --model llama-3-8b --system trn2.48xlarge --request-rate 20 --batch 8; expect_err "exclude each other"

# --- rl ------------------------------------------------------------------------------------------
expect_rc 0 "$TRN" plan rl --model llama-3-8b --system trn2.48xlarge --input-len 512 --output-len 1024 --batch 256
expect_line "rollout" "limited by"; expect_line "policy update, limited by"
expect_rc 0 "$TRN" plan rl --model llama-3-8b --system trn2.48xlarge --input-len 512 --output-len 1024 --batch 256 --json
pyexpr 'abs(d["step_time_s"] - d["rollout"]["time_s"] - d["update"]["step_time_s"]) < 1e-9 * d["step_time_s"]'
pyexpr 'all(k in d["rollout"] for k in ["ttft_ms", "tpot_ms", "throughput_tokens_per_s", "usd_per_1m_output_tokens", "joules_per_token", "limited_by"])'
pyexpr 'all(k in d["update"] for k in ["config", "step_time_s", "tokens_per_s", "mfu", "memory_per_chip_gib", "limited_by"])'

# --- the catalog drives the numbers: --hw overrides and a device without planner fields --------
printf '{"chips": {"trn2": {"gemm_efficiency": {"value": 0.165, "assumed": "half of the catalog value, for this test"}}}}\n' >"$T/half.json"
expect_rc 0 "$TRN" plan train --model llama-3-8b --system trn2.48xlarge --global-batch 64 --seq-len 2048 --tp 1 --pp 1 --dp 16 --zero 1 --recompute full --op-cost roofline --json
cp "$T/out" "$T/full.json"
expect_rc 0 "$TRN" --hw "$T/half.json" plan train --model llama-3-8b --system trn2.48xlarge --global-batch 64 --seq-len 2048 --tp 1 --pp 1 --dp 16 --zero 1 --recompute full --op-cost roofline --json
pyexpr 'd["breakdown_s"]["compute"] > 1.8 * json.load(open(sys.argv[1].replace("out", "full.json")))["breakdown_s"]["compute"]'
printf '{"gpus": {"x100": {"description": "a GPU without planner fields", "peak_flops": {"bf16": {"value": 1e15, "assumed": "test"}}, "hbm_bytes": {"value": 8e10, "assumed": "test"}, "hbm_bw_bps": {"value": 3e12, "assumed": "test"}, "nvlink_bw_bps": {"value": 9e11, "assumed": "test"}, "power_w": {"value": 700, "assumed": "test"}, "price_usd_per_gpu_hour": {"value": 5, "assumed": "test"}}},\n "systems": {"x100-box": {"description": "8 x100", "chip": "x100", "chips": {"value": 8, "assumed": "test"}, "topology": {"kind": "switch", "switch_levels": 1, "assumed": "test"}, "scaleup_domain": {"value": 8, "assumed": "test"}, "scaleup_bw_bps": {"value": 9e11, "assumed": "test"}, "hop_latency_ns": {"value": 1000, "assumed": "test"}, "pue": {"value": 1.2, "assumed": "test"}}}}\n' >"$T/x100.json"
expect_rc 3 "$TRN" --hw "$T/x100.json" plan train --model llama-3-8b --system x100-box
expect_err "x100: gemm_efficiency: the planner needs this catalog field"

# --- --svg: the scaling curve over the time breakdown, well-formed -----------------------------
svgcheck() {
    if python3 -c 'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); sys.exit(0 if d.documentElement.tagName == "svg" and len(d.getElementsByTagName("svg")) == 3 else 1)' "$1"; then ok; else bad "$1: not a well-formed SVG with two charts"; fi
}
expect_rc 0 "$TRN" plan train --model llama-3-8b --system trn2.48xlarge --svg "$T/train.svg"
svgcheck "$T/train.svg"
if grep -qF "tokens/s vs chips" "$T/train.svg" && grep -qF "seconds per step" "$T/train.svg"; then ok; else bad "train.svg lacks its titles"; fi
expect_rc 0 "$TRN" plan serve --model llama-3-8b --system p5.48xlarge --svg "$T/serve.svg"
svgcheck "$T/serve.svg"
if grep -qF "prefill (TTFT)" "$T/serve.svg" && grep -qF "output tokens/s" "$T/serve.svg"; then ok; else bad "serve.svg lacks its labels"; fi
expect_rc 2 "$TRN" plan rl --model llama-3-8b --system trn2.48xlarge --svg "$T/rl.svg"; expect_err "--svg does not apply to \`plan rl\`"
expect_rc 3 "$TRN" plan train --model llama-3-8b --system trn2.48xlarge --svg "$T/no/dir/x.svg"; expect_err "--svg"

finish

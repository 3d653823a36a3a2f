#!/usr/bin/env bash
# trnsim compare end to end: the default system set, the ranking by $ per 1M tokens checked
# against the planner's own `plan` output for the same system, the --json keys and their
# arithmetic, --svg (well-formed XML, one bar per system that has a result), --claims (every
# claim of tests/data/claims.json, built in), and the exit codes 2 (usage) / 3 (unknown names).
# Usage: cli_compare.sh PATH/TO/trnsim
TRN=${1:?usage: cli_compare.sh TRNSIM}
. "$(dirname "$0")/harness.sh"
DEFAULT="trn1.32xlarge trn2.48xlarge trn2-ultraserver trn3-gen1-ultraserver trn3-gen2-ultraserver p5.48xlarge p5e.48xlarge p6-b200.48xlarge gb200-nvl72"

# --- help and usage errors (exit 2) -----------------------------------------------------------
expect_rc 0 "$TRN" compare --help; expect_out "usage: trnsim compare --model M --workload"; expect_out "--claims"
expect_rc 0 "$TRN" --help; expect_out "  compare "
expect_rc 2 "$TRN" compare; expect_err "--workload: expected train or serve"
expect_rc 2 "$TRN" compare --model llama-3-8b --workload fly; expect_err "got 'fly'"
expect_rc 2 "$TRN" compare --workload train; expect_err "expected --model M"
expect_rc 2 "$TRN" compare --model llama-3-8b --workload train --bogus; expect_err "unknown option '--bogus'"
expect_rc 2 "$TRN" compare --model llama-3-8b --workload train --input-len 64; expect_err "--input-len does not apply to --workload train"
expect_rc 2 "$TRN" compare --model llama-3-8b --workload serve --zero 1; expect_err "--zero does not apply to --workload serve"
expect_rc 2 "$TRN" compare --model llama-3-8b --workload train --chips 0; expect_err "--chips: expected a positive integer"
expect_rc 2 "$TRN" compare --model llama-3-8b --workload train --chips abc; expect_err "--chips"
expect_rc 2 "$TRN" compare --model llama-3-8b --workload train --chips 2000000; expect_err "--chips 2000000 on trn1.32xlarge: chips: expected 1 to 1000000"
expect_rc 2 "$TRN" compare --model llama-3-8b --workload train --precision fp4; expect_err "--precision: expected bf16, fp8 or mxfp8"
expect_rc 2 "$TRN" compare --model llama-3-8b --workload serve --precision int3; expect_err "--precision: expected model, bf16, fp8 or mxfp4"
expect_rc 2 "$TRN" compare --model llama-3-8b --workload serve --ttft-slo-ms -5; expect_err "--ttft-slo-ms: expected a positive number"
# a workload no system can run: every row gives its reason, and the exit is 1
expect_rc 1 "$TRN" compare --model bert-large --workload serve; expect_out "it generates no tokens to serve"; expect_err "no system can run this workload"
expect_rc 2 "$TRN" compare --model llama-3-8b --workload train --zero 7; expect_err "--zero: expected 0, 1, 2, 3 or fsdp"
expect_rc 2 "$TRN" compare --model llama-3-8b --workload train --svg; expect_err "needs a value"
expect_rc 2 "$TRN" compare --claims --model llama-3-8b; expect_err "--claims takes only --json"

# --- unknown names (exit 3, with the known names) ---------------------------------------------
expect_rc 3 "$TRN" compare --model llama-3-8b --workload train --systems trn2.48xlarge,warp9
expect_err "unknown system 'warp9' (known: inf2.48xlarge, trn1.32xlarge"; expect_err "gb200-nvl72"
expect_rc 3 "$TRN" compare --model gpt-9 --workload serve; expect_err "unknown model 'gpt-9'"; expect_err "llama-3.1-405b"

# --- the default set, ranked by $ per 1M tokens ------------------------------------------------
expect_rc 0 "$TRN" compare --model llama-3-8b --workload serve --input-len 1024 --output-len 128
for s in $DEFAULT; do expect_out "$s"; done
expect_out "one system's worth each"
expect_rc 0 "$TRN" compare --model llama-3-8b --workload serve --input-len 1024 --output-len 128 --json
pyexpr 'sorted(x["system"] for x in d["systems"]) == sorted("'"$DEFAULT"'".split())'
pyexpr 'all(k in d for k in ["workload", "model", "precision", "input_len", "output_len", "chips_rule", "ranked_by", "systems"])'
pyexpr 'all(all(k in x for k in ["rank", "system", "device", "chips", "fits", "price_usd_per_chip_hour", "price_provenance"]) for x in d["systems"])'
pyexpr 'all(all(k in x for k in ["config", "usd_per_1m_tokens", "tokens_per_s", "batch", "ttft_ms", "tpot_ms", "usd_per_1m_input_tokens", "usd_per_1m_output_tokens", "joules_per_token", "usd_per_hour", "power_w", "limited_by"]) for x in d["systems"] if x["fits"])'
# ranked: ascending cost, ranks 1..n for the ones with a result, failures last
pyexpr '[x["usd_per_1m_tokens"] for x in d["systems"] if x["fits"]] == sorted(x["usd_per_1m_tokens"] for x in d["systems"] if x["fits"])'
pyexpr '[x["rank"] for x in d["systems"] if x["fits"]] == list(range(1, 1 + sum(x["fits"] for x in d["systems"])))'
# $ per 1M output tokens = machine $/h / 3600 / output tokens/s x 1e6; the price is the catalog's
pyexpr 'all(abs(x["usd_per_1m_tokens"] - x["usd_per_hour"] / 3600 / x["tokens_per_s"] * 1e6) <= 1e-9 * x["usd_per_1m_tokens"] for x in d["systems"] if x["fits"])'
pyexpr 'all(abs(x["usd_per_hour"] - x["chips"] * x["price_usd_per_chip_hour"]) <= 1e-9 * x["usd_per_hour"] for x in d["systems"] if x["fits"])'
pyexpr '{x["system"]: x["chips"] for x in d["systems"]} == {"trn1.32xlarge": 16, "trn2.48xlarge": 16, "trn2-ultraserver": 64, "trn3-gen1-ultraserver": 64, "trn3-gen2-ultraserver": 144, "p5.48xlarge": 8, "p5e.48xlarge": 8, "p6-b200.48xlarge": 8, "gb200-nvl72": 72}'
pyexpr '{x["system"]: x["price_provenance"] for x in d["systems"]}["trn2.48xlarge"] == "assumed"'
cp "$T/out" "$T/cmp.json"
# the same system through `plan serve --objective cost` gives the same best plan and numbers
expect_rc 0 "$TRN" plan serve --model llama-3-8b --system p5.48xlarge --chips 8 --input-len 1024 --output-len 128 --objective cost --json
pyexpr '(lambda c: abs(c["tokens_per_s"] - d["throughput_tokens_per_s"]) <= 1e-9 * d["throughput_tokens_per_s"] and c["config"] == d["config"])([x for x in json.load(open(sys.argv[1].replace("out", "cmp.json")))["systems"] if x["system"] == "p5.48xlarge"][0])'

# --- training: a model that does not fit some systems is listed last with the reason ----------
expect_rc 0 "$TRN" compare --model llama-3.1-70b --workload train --systems trn1.32xlarge,trn2-ultraserver,p5.48xlarge --json
pyexpr '[x["system"] for x in d["systems"]] == ["trn2-ultraserver", "trn1.32xlarge", "p5.48xlarge"]'
pyexpr '[x["fits"] for x in d["systems"]] == [True, False, False] and all("does not fit" in x["reason"] for x in d["systems"][1:])'
pyexpr 'all(k in d["systems"][0] for k in ["global_batch", "step_time_s", "mfu", "tokens_per_s", "usd_per_1m_tokens", "joules_per_token"])'
# J/token = average power / tokens/s; tokens/s = GBS x seq / step
pyexpr 'abs(d["systems"][0]["joules_per_token"] - d["systems"][0]["power_w"] / d["systems"][0]["tokens_per_s"]) <= 1e-9 * d["systems"][0]["joules_per_token"]'
pyexpr 'abs(d["systems"][0]["tokens_per_s"] * d["systems"][0]["step_time_s"] - d["systems"][0]["global_batch"] * d["seq_len"]) <= 1e-6 * d["systems"][0]["global_batch"] * d["seq_len"]'
expect_rc 0 "$TRN" compare --model llama-3.1-70b --workload train --systems trn1.32xlarge,trn2-ultraserver
expect_out "does not fit or cannot run: llama-3.1-70b does not fit on 16 x trn1"
# --chips: every system at the same count
expect_rc 0 "$TRN" compare --model llama-3-8b --workload train --systems trn2.48xlarge,p5.48xlarge --chips 32 --json
pyexpr 'all(x["chips"] == 32 for x in d["systems"]) and d["chips_rule"] == "--chips on every system"'
# a precision a device lacks (MXFP8 on H100) is a listed failure, not a crash
expect_rc 0 "$TRN" compare --model llama-3-8b --workload train --systems trn3-gen1-ultraserver,p5.48xlarge --precision mxfp8 --json
pyexpr 'd["systems"][0]["system"] == "trn3-gen1-ultraserver" and d["systems"][0]["fits"] and not d["systems"][1]["fits"] and "mxfp8" in d["systems"][1]["reason"]'

# --- --svg: a well-formed SVG with one bar per system that has a result -------------------------
expect_rc 0 "$TRN" compare --model llama-3-8b --workload serve --svg "$T/cost.svg"
if python3 -c 'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); r = d.documentElement; sys.exit(0 if r.tagName == "svg" else 1)' "$T/cost.svg"; then ok; else bad "--svg: not well-formed SVG"; fi
for s in $DEFAULT; do if grep -qF ">$s<" "$T/cost.svg"; then ok; else bad "--svg lacks the bar label $s"; fi; done
expect_rc 3 "$TRN" compare --model llama-3-8b --workload serve --svg "$T/no/such/dir/x.svg"; expect_err "--svg"

# --- claims: every claim of the data file, with a verdict and its assumptions -----------------
expect_rc 0 "$TRN" compare --claims
for id in trn3-ultraserver-362pf-4.4x up-to-50pct-lower-cost trn2-vs-p5e-30-40pct tokens-cost-latency-table trn3-gpt-oss-3x-per-chip trn2-ultra-tco-vs-h100; do expect_out "[$id]"; done
expect_out "362.4 PFLOPS (claim 362)"; expect_out "assumed"
expect_rc 0 "$TRN" compare --claims --json
pyexpr 'len(d["claims"]) == 6 and all(all(k in c for k in ["id", "claim", "claimant", "wording", "sources", "holds_if", "trnsim", "figures", "verdict", "assumptions"]) for c in d["claims"])'
pyexpr 'all(c["verdict"] and not c["verdict"].startswith("no result") for c in d["claims"])'
# the peak check is the catalog's arithmetic: 144 x 2517.1 TFLOPS MXFP8 vs 64 x 1258.3 TFLOPS FP8
pyexpr 'abs(d["claims"][0]["trnsim"]["trn3_ultraserver_pflops_mxfp8"] - 362.4) < 0.1 and abs(d["claims"][0]["trnsim"]["peak_ratio"] - 4.5) < 0.01'
# a price change moves the break-even price-performance ratio in proportion (trn2 at half price)
cp "$T/out" "$T/claims.json"
printf '{"chips": {"trn2": {"price_usd_per_chip_hour": {"value": 1.5, "assumed": "test: half"}}}}\n' >"$T/half.json"
expect_rc 0 "$TRN" --hw "$T/half.json" compare --claims --json
pyexpr '(lambda a, b: abs(b["train_ratio"] - 2 * a["train_ratio"]) <= 1e-9 * b["train_ratio"])([c for c in json.load(open(sys.argv[1].replace("out", "claims.json")))["claims"] if c["id"] == "trn2-vs-p5e-30-40pct"][0]["trnsim"], [c for c in d["claims"] if c["id"] == "trn2-vs-p5e-30-40pct"][0]["trnsim"])'

finish

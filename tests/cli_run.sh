#!/usr/bin/env bash
# trnsim run end to end: small models of each family (Llama, Mixtral, GPT-OSS, GPT-2) from a
# config.json with seeded weights, saved as a checkpoint directory and run again from it (the
# same tokens); a byte-level tokenizer.json for --prompt; the --json keys and their
# arithmetic; the --logits file's shape; --trace; timing-only at full size for Llama-3-8B and
# -70B, Mixtral 8x7B and GPT-OSS-120B; pre-quantized MX weights (mxfp4, mxfp8q) on trn3 with the
# per-op bf16 fallback; seeded sampling (--temperature, --top-k, --top-p, --seed); exit codes 2
# (usage, precision a chip lacks, a sampling value out of range) and 3 (bad directory, missing
# tensor, unknown model) with their messages.
# Usage: cli_run.sh PATH/TO/trnsim
TRN=${1:?usage: cli_run.sh TRNSIM}
. "$(dirname "$0")/harness.sh"

mkdir -p "$T/llama" "$T/mixtral" "$T/gptoss" "$T/gpt2" "$T/llama3l"
cat >"$T/llama/config.json" <<'J'
{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 128, "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 256, "max_position_embeddings": 128, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "tie_word_embeddings": false}
J
cat >"$T/mixtral/config.json" <<'J'
{"architectures": ["MixtralForCausalLM"], "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "num_local_experts": 4, "num_experts_per_tok": 2, "vocab_size": 256, "max_position_embeddings": 128, "rope_theta": 1000000.0, "rms_norm_eps": 1e-05}
J
cat >"$T/gptoss/config.json" <<'J'
{"architectures": ["GptOssForCausalLM"], "model_type": "gpt_oss", "hidden_size": 64, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "num_local_experts": 4, "num_experts_per_tok": 2, "vocab_size": 256, "max_position_embeddings": 512, "sliding_window": 4, "layer_types": ["sliding_attention", "full_attention"], "attention_bias": true, "swiglu_limit": 7.0, "rms_norm_eps": 1e-05, "rope_theta": 150000, "quantization_config": {"quant_method": "mxfp4"}, "tie_word_embeddings": false}
J
cat >"$T/gpt2/config.json" <<'J'
{"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4, "n_positions": 64, "vocab_size": 256, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-05}
J
# the llama config with a third layer: its weights lack model.layers.2.*
sed 's/"num_hidden_layers": 2/"num_hidden_layers": 3/' "$T/llama/config.json" >"$T/llama3l/config.json"

# --- each family: config.json with seeded weights, then the saved checkpoint directory ---------
for f in llama mixtral gptoss gpt2; do
    expect_rc 0 "$TRN" run --model "$T/$f/config.json" --tokens 5,17,99,3 --max-new 4 --weight-seed 11 \
        --save-weights "$T/$f/model.safetensors" --json
    cp "$T/out" "$T/$f.a.json"
    pyexpr 'd["weights"] == "random" and d["weight_seed"] == 11 and len(d["generated"]) == 4'
    expect_rc 0 "$TRN" run --model "$T/$f" --tokens 5,17,99,3 --max-new 4 --json
    pyexpr 'd["weights"] == "checkpoint" and d["generated"] == json.load(open(sys.argv[1].replace("out", "'"$f"'.a.json")))["generated"]'
    pyexpr 'd["prefill"]["time_us"] > 0 and d["decode"]["steps"] == 3 and d["prompt_tokens"] == 4'
done
# MoE: the router (its LINEAR and the ROUTER kernel) and the experts (gathers, MLPs, combine)
# on the chip, both timed
expect_rc 0 "$TRN" run --model "$T/mixtral" --tokens 1,2,3 --max-new 2 --json
pyexpr '[o for o in d["prefill"]["ops"] if o["class"] == "experts"][0]["kernels"] >= 4 and all(o["where"] == "chip" and o["kernels"] >= 2 and o["time_us"] > 0 for s in ("prefill", "decode") for o in d[s]["ops"] if o["class"] in ("router", "experts"))'
# GPT-OSS: sliding-window and sink attention run in the attention kernel on the chip
expect_rc 0 "$TRN" run --model "$T/gptoss" --tokens 1,2,3 --max-new 2 --json
pyexpr 'all(o["where"] == "chip" and o["time_us"] > 0 for s in ("prefill", "decode") for o in d[s]["ops"] if o["kind"] == "ATTENTION")'
# GPT-2: the GELU after c_fc is fused into the linear's eviction
expect_rc 0 "$TRN" run --model "$T/gpt2" --tokens 1,2,3 --max-new 2 --json
pyexpr 'sum(o["where"] == "fused" and o["kind"] == "GELU_TANH" for o in d["prefill"]["ops"]) == 2'

# dense models: timing-only gives the functional run's simulated times (both on one core)
for f in llama gpt2; do
    expect_rc 0 "$TRN" run --model "$T/$f" --tokens 5,17,99,3 --max-new 4 --timing-only --cores 1 --json
    pyexpr 'd["ttft_us"] == json.load(open(sys.argv[1].replace("out", "'"$f"'.a.json")))["ttft_us"] and d["tpot_us"] == json.load(open(sys.argv[1].replace("out", "'"$f"'.a.json")))["tpot_us"]'
done

# --- the text report and the JSON keys on the catalog's tiny-llama ------------------------------
expect_rc 0 "$TRN" run --model tiny-llama --tokens 1,2,3,4,5 --max-new 3
expect_out "weights: seeded random (seed 0; no checkpoint given"
expect_out "TTFT"; expect_out "TPOT"; expect_out "tokens/s"
expect_out "Per layer"; expect_out "l0-l1 (each)"; expect_out "Per op, all layers (prefill"
expect_rc 0 "$TRN" run --model tiny-llama --tokens 1,2,3,4,5 --max-new 3 --json --chip trn3
pyexpr 'set(d) == {"model","chip","core","precision","cores","lnc","timing_only","weights","weight_seed","sampling","prompt_tokens","new_tokens","generated","text","ttft_us","tpot_us","tokens_per_s","programs","wall_s","prefill","decode"}'
pyexpr 'd["chip"] == "trn3" and d["core"] == "v4" and d["precision"] == "bf16" and d["text"] is None and d["sampling"] == "greedy"'
pyexpr 'abs(d["ttft_us"] - d["prefill"]["time_us"]) < 1e-3 * d["ttft_us"] and abs(d["tpot_us"] - d["decode"]["time_us"] / 2) < 1e-3 * d["tpot_us"]'
pyexpr 'abs(d["tokens_per_s"] - 1e6 / d["tpot_us"]) < 1e-3 * d["tokens_per_s"]'
pyexpr 'abs(sum(o["time_us"] for o in d["prefill"]["ops"]) - d["prefill"]["time_us"]) < 1e-3 * d["prefill"]["time_us"]'
pyexpr 'len(d["prefill"]["layers"]) == 2 and set(d["prefill"]["ops"][0]) == {"name","class","kind","layer","where","kernels","time_us","flops","mfu","bound","hbm_bytes","precision"}'
# --logits: float32 [steps, vocab]
expect_rc 0 "$TRN" run --model tiny-llama --tokens 1,2,3 --max-new 3 --logits "$T/l.npy"
if python3 - "$T/l.npy" <<'P'
import sys, ast, struct
b = open(sys.argv[1], "rb").read()
assert b[:6] == b"\x93NUMPY"
hl = struct.unpack("<H", b[8:10])[0]
h = ast.literal_eval(b[10:10 + hl].decode())
assert h["descr"] == "<f4" and h["shape"] == (3, 512) and not h["fortran_order"], h
assert len(b) - 10 - hl == 3 * 512 * 4
P
then ok; else bad "--logits file"; fi
# --trace
expect_rc 0 "$TRN" run --model tiny-llama --tokens 1,2,3 --max-new 2 --trace "$T/t.json"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); e=[x for x in d["traceEvents"] if x["ph"]=="X"]; sys.exit(0 if len(e) > 20 and all(x["dur"] > 0 for x in e) else 1)' "$T/t.json"; then ok; else bad "--trace"; fi
# piped: no progress bar on stderr
expect_rc 0 "$TRN" run --model tiny-llama --tokens 1,2 --max-new 2
if [ ! -s "$T/err" ]; then ok; else bad "stderr not empty when piped: $(head -c 200 "$T/err")"; fi

# --- --prompt with a byte-level tokenizer.json (256 byte tokens, GPT-2's byte map) ---------------
python3 - "$T/llama/tokenizer.json" <<'P'
import json, sys
bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
cs = bs[:]
n = 0
for b in range(256):
    if b not in bs:
        bs.append(b); cs.append(256 + n); n += 1
vocab = {chr(c): b for b, c in zip(bs, cs)}
json.dump({"model": {"type": "BPE", "vocab": vocab, "merges": []}, "added_tokens": []}, open(sys.argv[1], "w"))
P
expect_rc 0 "$TRN" run --model "$T/llama" --prompt "Hello" --max-new 3 --json
pyexpr 'd["prompt_tokens"] == 5 and isinstance(d["text"], str) and len(d["generated"]) == 3'

# --- MX pre-quantized weights on trn3 (mxfp4, mxfp8q): every linear of the llama (K = 128, 256)
# in the mode; timing-only gives the same times. A GPT-2 with n_embd 66 keeps the linears whose
# K is not a multiple of 4 (qkv, attn_out, fc, the head) in bf16 and runs proj (K = 264) in mxfp4.
for p in mxfp4 mxfp8q; do
    expect_rc 0 "$TRN" run --model "$T/llama" --chip trn3 --precision $p --tokens 5,17,99,3 --max-new 3 --json
    cp "$T/out" "$T/$p.json"
    pyexpr 'd["precision"] == "'$p'" and len(d["generated"]) == 3 and all(o["precision"] == "'$p'" for o in d["prefill"]["ops"] if o["kind"] == "LINEAR")'
    expect_rc 0 "$TRN" run --model "$T/llama" --chip trn3 --precision $p --prompt-len 4 --max-new 3 --timing-only --cores 1 --json
    pyexpr '(d["ttft_us"], d["tpot_us"]) == (lambda a: (a["ttft_us"], a["tpot_us"]))(json.load(open(sys.argv[1].replace("out", "'$p'.json"))))'
done
# split over 8 cores (each core its columns' codes and scales): the same logits, bit for bit
expect_rc 0 "$TRN" run --model "$T/llama" --chip trn3 --precision mxfp4 --tokens 5,17,99,3 --max-new 3 --logits "$T/mx1.npy"
expect_rc 0 "$TRN" run --model "$T/llama" --chip trn3 --precision mxfp4 --tokens 5,17,99,3 --max-new 3 --logits "$T/mx8.npy" --cores 8
if cmp -s "$T/mx1.npy" "$T/mx8.npy"; then ok; else bad "mxfp4 logits on 8 cores differ from one core"; fi
mkdir -p "$T/gpt2k66"
sed 's/"n_embd": 64/"n_embd": 66/; s/"n_head": 4/"n_head": 3/' "$T/gpt2/config.json" >"$T/gpt2k66/config.json"
expect_rc 0 "$TRN" run --model "$T/gpt2k66/config.json" --chip trn3 --precision mxfp4 --tokens 1,2,3 --max-new 2 --json
pyexpr '{o["class"]: o["precision"] for o in d["prefill"]["ops"] if o["kind"] == "LINEAR"} == {"qkv": "bf16", "attn_out": "bf16", "fc": "bf16", "proj": "mxfp4", "logits": "bf16"}'

# --- sampling: the same seed gives the same tokens, another seed (temperature 2) others; top-k 1
# is greedy whatever the temperature; no --temperature (or 0) is greedy
expect_rc 0 "$TRN" run --model "$T/llama" --tokens 5,17,99,3 --max-new 8 --json
cp "$T/out" "$T/greedy.json"
expect_rc 0 "$TRN" run --model "$T/llama" --tokens 5,17,99,3 --max-new 8 --json --temperature 2 --seed 1
cp "$T/out" "$T/s1.json"
pyexpr 'd["sampling"] == {"temperature": 2, "top_k": 0, "top_p": 1, "seed": 1}'
expect_rc 0 "$TRN" run --model "$T/llama" --tokens 5,17,99,3 --max-new 8 --json --temperature 2 --seed 1
pyexpr 'd["generated"] == json.load(open(sys.argv[1].replace("out", "s1.json")))["generated"]'
expect_rc 0 "$TRN" run --model "$T/llama" --tokens 5,17,99,3 --max-new 8 --json --temperature 2 --seed 2
pyexpr 'd["generated"] != json.load(open(sys.argv[1].replace("out", "s1.json")))["generated"]'
pyexpr 'd["generated"] != json.load(open(sys.argv[1].replace("out", "greedy.json")))["generated"]'
expect_rc 0 "$TRN" run --model "$T/llama" --tokens 5,17,99,3 --max-new 8 --json --temperature 2 --top-k 1 --seed 7
pyexpr 'd["generated"] == json.load(open(sys.argv[1].replace("out", "greedy.json")))["generated"]'
expect_rc 0 "$TRN" run --model "$T/llama" --tokens 5,17,99,3 --max-new 8 --json --temperature 0 --seed 7
pyexpr 'd["sampling"] == "greedy" and d["generated"] == json.load(open(sys.argv[1].replace("out", "greedy.json")))["generated"]'
expect_rc 0 "$TRN" run --model "$T/llama" --tokens 5,17,99,3 --max-new 3 --temperature 0.7 --top-p 0.9 --seed 3
expect_out "sampling: temperature 0.7, top-k 0, top-p 0.9, seed 3"

# --- timing-only at full size ----------------------------------------------------------------
for m in llama-3-8b llama-3-70b mixtral-8x7b gpt-oss-120b; do
    expect_rc 0 "$TRN" run --model $m --timing-only --tokens 1,2,3,4 --max-new 2 --json
    pyexpr 'd["timing_only"] and d["weights"] == "none" and d["generated"] is None and d["ttft_us"] > 0 and d["tpot_us"] > 0'
done
expect_rc 0 "$TRN" run --model llama-3-8b --timing-only --prompt-len 512 --max-new 2 --cores 8
expect_out "8 cores"
# timing-only defaults to the whole chip (the same figures as --cores 8), functional to one core
expect_rc 0 "$TRN" run --model llama-3-8b --timing-only --prompt-len 512 --max-new 2 --cores 8 --json
cp "$T/out" "$T/out8"
expect_rc 0 "$TRN" run --model llama-3-8b --timing-only --prompt-len 512 --max-new 2 --json
python3 - "$T/out8" "$T/out" <<'P' && ok || bad "timing-only default differs from --cores 8"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
sys.exit(0 if b["cores"] == 8 and (a["ttft_us"], a["tpot_us"]) == (b["ttft_us"], b["tpot_us"]) else 1)
P
expect_rc 0 "$TRN" run --model "$T/llama" --tokens 5,6,7 --max-new 3 --json
pyexpr 'd["cores"] == 1'
# --cores 8 splits every op over the chip: the same tokens, a shorter simulated prefill
cp "$T/out" "$T/out1"
expect_rc 0 "$TRN" run --model "$T/llama" --tokens 5,6,7 --max-new 3 --json --cores 8
python3 - "$T/out1" "$T/out" <<'P' && ok || bad "--cores 8: tokens differ or the prefill is not faster"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
sys.exit(0 if b["cores"] == 8 and a["generated"] == b["generated"] and b["ttft_us"] < a["ttft_us"] else 1)
P
expect_rc 2 "$TRN" run --model llama-3-8b --tokens 1,2
expect_err "--timing-only"

# --- errors ------------------------------------------------------------------------------------
expect_rc 0 "$TRN" run --help; expect_out "usage: trnsim run"
expect_rc 0 "$TRN" --help; expect_out "  run "
expect_rc 2 "$TRN" run --tokens 1; expect_err "--model"
expect_rc 2 "$TRN" run --model tiny-llama; expect_err "exactly one of"
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1 --bogus; expect_err "unknown option '--bogus'"
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1,x; expect_err "--tokens"
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1,512; expect_err "id 512 is out of range"
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1 --max-new 0; expect_err "--max-new"
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1 --max-new 600; expect_err "allows 512"
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1 --chip trn9; expect_err "trn9"
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1 --prompt-len 4; expect_err "exactly one of"
expect_rc 2 "$TRN" run --model tiny-llama --prompt hi; expect_err "--tokens"
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1 --precision fp8 --chip trn1
expect_err "fp8 is not available on trn1"
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1 --precision mxfp8 --chip trn2
expect_err "mxfp8 is not available on trn2"
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1 --precision mxfp4
expect_err "mxfp4 is not available on trn2"
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1 --precision mxfp8q --chip trn1
expect_err "mxfp8q is not available on trn1"
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1 --temperature -1; expect_err "--temperature '-1'"
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1 --temperature nan; expect_err "--temperature"
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1 --temperature 1 --top-p 0; expect_err "--top-p '0'"
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1 --temperature 1 --top-p 1.5; expect_err "--top-p"
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1 --temperature 1 --top-k 9999999999; expect_err "--top-k"
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1 --temperature 1 --seed -3; expect_err "--seed"
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1 --precision fp16; expect_err "fp16"
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1 --cores 9; expect_err "trn2 has 8"
# --lnc 2: --cores counts Logical NeuronCores of two physical cores each; ops split over all
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1 --lnc 3; expect_err "--lnc 3: expected 1 or 2"
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1 --lnc 2 --cores 5; expect_err "trn2 has 4 Logical"
expect_rc 2 "$TRN" run --model tiny-llama --tokens 1 --lnc 2 --chip trn1; expect_err "no Logical NeuronCores"
expect_rc 0 "$TRN" run --model llama-3-8b --timing-only --prompt-len 512 --max-new 2 --lnc 2 --json
python3 - "$T/out8" "$T/out" <<'P' && ok || bad "--lnc 2 (4 logical cores) differs from --cores 8"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
sys.exit(0 if b["cores"] == 8 and b["lnc"] == 2 and (a["ttft_us"], a["tpot_us"]) == (b["ttft_us"], b["tpot_us"]) else 1)
P
expect_rc 0 "$TRN" run --model "$T/llama" --tokens 5,6,7 --max-new 3 --lnc 2
expect_out "2 cores as 1 logical, LNC=2"
expect_rc 3 "$TRN" run --model no-such-model --tokens 1; expect_err "unknown model 'no-such-model'"
expect_rc 3 "$TRN" run --model bert-large --timing-only --tokens 1; expect_err "not bert"
expect_rc 3 "$TRN" run --model "$T/nothere/" --tokens 1; expect_err "nothere"
expect_rc 3 "$TRN" run --model "$T" --tokens 1; expect_err "no config.json"
cp "$T/llama/model.safetensors" "$T/llama3l/"
expect_rc 3 "$TRN" run --model "$T/llama3l" --tokens 1
expect_err "model.safetensors"; expect_err "model.layers.2."
head -c 1000 "$T/llama/model.safetensors" >"$T/llama3l/model.safetensors"
sed 's/"num_hidden_layers": 3/"num_hidden_layers": 2/' "$T/llama/config.json" >"$T/llama3l/config.json"
expect_rc 3 "$TRN" run --model "$T/llama3l" --tokens 1; expect_err "model.safetensors"

finish

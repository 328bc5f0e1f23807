#!/usr/bin/env bash
# Reproduces docs/results/qwen-refusal/: refusal circuits of Qwen2.5-Coder-1.5B-Instruct (Q4_K_M) found with CNA
# on the paper-size discovery set (8 harmful + 8 harmless prompts), then a steering sweep on held-out prompts
# against CAA: refusal rate on harmful prompts, over-refusal on harmless ones (ordinary and borderline), quality,
# next-token KL on neutral text and multiple-choice capability at every strength. Run from the repository root:
#
#     docs/results/qwen-refusal/reproduce.sh
#
# Subsets keep the run within about 40 minutes on a 2-core machine (cpu backend): every third held-out harmful
# prompt (37 of 110, all ten categories), every third ordinary harmless prompt and every third borderline one
# (38 of 110), every other capability question (80 of 160). Greedy decoding, 64 new tokens, as the reference
# evaluates. MODEL=qwen2.5-coder-0.5b runs the same on the smaller model.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
MODEL=${MODEL:-qwen2.5-coder-1.5b}
OUT=${OUT:-docs/results/qwen-refusal}
D=datasets/refusal
mkdir -p "$OUT"
./cna model pull "$MODEL" >/dev/null

awk 'NR%3==1' $D/heldout.positive.txt > "$OUT/heldout-harmful.txt"
{ awk 'NR<=70 && NR%3==1' $D/heldout.negative.txt; awk 'NR%3==1' $D/heldout.borderline.txt; } > "$OUT/heldout-harmless.txt"
awk 'NR%2==1' datasets/capability/questions.jsonl > "$OUT/capability.jsonl"

# Circuits: 250 neurons = 0.10% of 250,880 (the paper's ~0.1%), 125 = 0.05%, 1254 = 0.5%; the reference's
# contrastive path applies no blacklist, so the main circuits have none; k = 250 also with it.
for k in 125 250 1254; do
  ./cna attribute --model "$MODEL" --positive $D/discovery.positive.txt --negative $D/discovery.negative.txt \
      --top-k $k --no-blacklist --name refusal-k$k --out "$OUT/refusal-k$k.circuit.json"
done
./cna attribute --model "$MODEL" --positive $D/discovery.positive.txt --negative $D/discovery.negative.txt \
    --top-k 250 --name refusal-k250-blacklist --out "$OUT/refusal-k250-blacklist.circuit.json"

EVAL=(--model "$MODEL" --prompts "$OUT/heldout-harmful.txt" --negative "$OUT/heldout-harmless.txt"
      --neutral datasets/neutral.txt --capability "$OUT/capability.jsonl" --max-tokens 64 --batch-size 16 --out "$OUT")

# The main comparison, k = 250 (0.1%): unsteered, the circuit ablated (m = 0) and CAA at the matching alpha (-1).
./cna eval --circuit "$OUT/refusal-k250.circuit.json" --multipliers 0,1 \
    --caa $D/discovery.positive.txt,$D/discovery.negative.txt "${EVAL[@]}" | tee "$OUT/refusal-k250.txt"
# The same size with the blacklist of universal neurons (what attribution-service publishes by default).
./cna eval --circuit "$OUT/refusal-k250-blacklist.circuit.json" --multipliers 0 "${EVAL[@]}" | tee "$OUT/refusal-k250-blacklist.txt"
# CAA at weaker alphas, to compare the methods at a matching refusal cut (alpha = -1 removes every refusal).
./cna eval --circuit "$OUT/refusal-k250.circuit.json" --name refusal-caa-weaker --multipliers 1 --caa-alphas -0.5,-0.3 \
    --caa $D/discovery.positive.txt,$D/discovery.negative.txt "${EVAL[@]}" | tee "$OUT/refusal-caa-weaker.txt"
# Not run for the committed report (time): gentler and stronger settings and the other circuit sizes (MORE=1).
if [[ ${MORE:-0} == 1 ]]; then
  ./cna eval --circuit "$OUT/refusal-k250.circuit.json" --name refusal-k250-more --multipliers 0.25,0.5,0.75,2,4 \
      --caa $D/discovery.positive.txt,$D/discovery.negative.txt "${EVAL[@]}" | tee "$OUT/refusal-k250-more.txt"
  ./cna eval --circuit "$OUT/refusal-k1254.circuit.json" --multipliers 0 "${EVAL[@]}" | tee "$OUT/refusal-k1254.txt"
  ./cna eval --circuit "$OUT/refusal-k125.circuit.json" --multipliers 0 "${EVAL[@]}" | tee "$OUT/refusal-k125.txt"
fi

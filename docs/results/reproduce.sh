#!/usr/bin/env bash
# Reproduces docs/results/: the French and refusal circuits of SmolLM2-135M-Instruct (the default model),
# found on the discovery prompts and evaluated on held-out prompts against CAA, with next-token KL on
# neutral text. Run from the repository root:
#
#     docs/results/reproduce.sh
#
# Steps 1-3 take about 25 minutes on a 2-core machine that other jobs were also loading (faster when idle);
# step 4's top-200 sweep took another 25 minutes (one PyTorch thread, second core busy), and its top-50 run
# (3 points, 507 s of generation, measured) about 9 more.
# OMP_NUM_THREADS=1: on a busy 2-core machine PyTorch's default thread pool oversubscribes the cores
# (measured: 0.6 vs 9.2 decode tok/s for one row).
# Prompt counts are cut with --limit to keep the run short: 30 held-out prompts per side for the main
# French sweep, 15 for the extra French settings, 8 for refusal (whose baseline is 0 anyway).
# Greedy decoding, 48 new tokens. Each eval writes NAME.md / .png / .json / .samples.jsonl (every reply)
# and NAME.txt (the printed lines).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
OUT=docs/results
D=datasets
EVAL=(--max-tokens 48 --batch-size 8 --neutral "$D/neutral.txt" --out "$OUT")

# 1. French: top 200 neurons (0.43% of 46,080), m in {0, 0.5, 1, 2}, CAA at alpha = m - 1.
./cna attribute --positive $D/french/discovery.positive.txt --negative $D/french/discovery.negative.txt \
    --name french --out $OUT/french.circuit.json
./cna eval --circuit $OUT/french.circuit.json \
    --prompts $D/french/heldout.positive.txt --negative $D/french/heldout.negative.txt --limit 30 \
    --multipliers 0,0.5,1,2 --caa $D/french/discovery.positive.txt,$D/french/discovery.negative.txt \
    "${EVAL[@]}" | tee $OUT/french.txt

# 2. Gentler settings tried for quality (15 held-out prompts per side, to keep the run short): the top-200
#    circuit at m = 0.25 and 1.5, and a smaller circuit (top 50 = 0.11%) at m = 0 and 0.5.
#    Unsteered row: see french.md (same prompts, first 15 of each side).
./cna eval --circuit $OUT/french.circuit.json --name french-gentle \
    --prompts $D/french/heldout.positive.txt --negative $D/french/heldout.negative.txt --limit 15 \
    --multipliers 0.25,1.5 "${EVAL[@]}" | tee $OUT/french-gentle.txt
./cna attribute --positive $D/french/discovery.positive.txt --negative $D/french/discovery.negative.txt \
    --top-k 50 --name french-top50 --out $OUT/french-top50.circuit.json
./cna eval --circuit $OUT/french-top50.circuit.json \
    --prompts $D/french/heldout.positive.txt --negative $D/french/heldout.negative.txt --limit 15 \
    --multipliers 0,0.5 "${EVAL[@]}" | tee $OUT/french-top50.txt

# 2b. The best-looking setting above (top 50, m = 0.5), checked on the 30 held-out prompts per side, with m = 0.75.
./cna eval --circuit $OUT/french-top50.circuit.json --name french-top50-30 \
    --prompts $D/french/heldout.positive.txt --negative $D/french/heldout.negative.txt --limit 30 \
    --multipliers 0.5,0.75 "${EVAL[@]}" | tee $OUT/french-top50-30.txt

# Rates and quality on the first 15 prompts per side (the baseline of the 15-prompt runs), from the replies:
python3 docs/results/subset_baseline.py 15

# 3. Refusal: the model never refuses (datasets/README.md), so ablation has nothing to cut; amplification
#    (m = 2, CAA alpha = +1) is the only informative direction. 8 held-out prompts per side.
./cna attribute --positive $D/refusal/discovery.positive.txt --negative $D/refusal/discovery.negative.txt \
    --name refusal --out $OUT/refusal.circuit.json
./cna eval --circuit $OUT/refusal.circuit.json \
    --prompts $D/refusal/heldout.positive.txt --negative $D/refusal/heldout.negative.txt --limit 8 \
    --multipliers 0,1,2 --caa $D/refusal/discovery.positive.txt,$D/refusal/discovery.negative.txt \
    "${EVAL[@]}" | tee $OUT/refusal.txt

# 4. The same French circuits under sampling instead of greedy decoding: llama.cpp's default sampler settings
#    (temperature 0.8, top-k 40, top-p 0.95), chosen before the run, 2 replies per prompt, all 42 held-out
#    prompts per side. Reply (prompt i, sample j) has the same seed at every strength, so strengths differ only
#    by the steering. Greedy decoding of this 135M model loops even unsteered (quality 0.931 above), so under
#    greedy an absolute quality bar of 0.95 measures the decoder, not the steering.
SAMPLED=(--temperature 0.8 --top-k 40 --top-p 0.95 --samples 2 --seed 0 --max-tokens 48 --batch-size 16
    --neutral "$D/neutral.txt" --out "$OUT")
./cna eval --circuit $OUT/french.circuit.json --name french-sampled \
    --prompts $D/french/heldout.positive.txt --negative $D/french/heldout.negative.txt \
    --multipliers 0,0.25,0.5,0.75,1,2 --caa $D/french/discovery.positive.txt,$D/french/discovery.negative.txt \
    "${SAMPLED[@]}" | tee $OUT/french-sampled.txt
./cna eval --circuit $OUT/french-top50.circuit.json --name french-top50-sampled \
    --prompts $D/french/heldout.positive.txt --negative $D/french/heldout.negative.txt \
    --multipliers 0,0.5,0.75 "${SAMPLED[@]}" | tee $OUT/french-top50-sampled.txt
python3 docs/results/sides.py french-sampled french-top50-sampled

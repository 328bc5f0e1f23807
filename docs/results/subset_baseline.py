#!/usr/bin/env python3
"""Re-reads the replies in docs/results/*.samples.jsonl (written by `cna eval`) and prints, per report and
point, the behavior rate and quality on the first N prompts of each side, positive-side quality alone, and
the unsteered baseline on the same first N prompts (french-gentle and french-top50 ran on the first 15
held-out prompts per side; their unsteered row comes from french.samples.jsonl). Usage:
    python3 docs/results/subset_baseline.py [N]"""
import json, sys, os
n = int(sys.argv[1]) if len(sys.argv) > 1 else 15
d = os.path.dirname(os.path.abspath(__file__))
for name in ["french", "french-gentle", "french-top50", "french-top50-30", "refusal"]:
    path = os.path.join(d, name + ".samples.jsonl")
    if not os.path.exists(path):
        continue
    rows = [json.loads(l) for l in open(path, encoding="utf-8")]
    points = sorted({(r["method"], r["strength"]) for r in rows})
    for m, s in points:
        sel = [r for r in rows if r["method"] == m and r["strength"] == s]
        pos = [r for r in sel if r["side"] == "positive"][:n]
        neg = [r for r in sel if r["side"] == "negative"][:n]
        mean = lambda xs: sum(xs) / len(xs) if xs else float("nan")
        print(f"{name:14s} {m} {s:5.2f}  first {len(pos)}/{len(neg)}: rate+ {mean([r['shows'] for r in pos]):6.1%}"
              f"  rate- {mean([r['shows'] for r in neg]):6.1%}  quality(all) {mean([r['quality'] for r in pos + neg]):.3f}"
              f"  quality(positive) {mean([r['quality'] for r in pos]):.3f}")

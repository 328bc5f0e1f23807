#!/usr/bin/env python3
"""Re-reads NAME.samples.jsonl (written by `cna eval`) and prints, per point, the behavior rate and the quality
of the positive-prompt and negative-prompt replies separately (the reports average quality over both sides).
Usage: python3 docs/results/sides.py NAME [NAME ...]"""
import json, os, sys
d = os.path.dirname(os.path.abspath(__file__))
mean = lambda xs: sum(xs) / len(xs) if xs else float("nan")
for name in sys.argv[1:]:
    rows = [json.loads(l) for l in open(os.path.join(d, name + ".samples.jsonl"), encoding="utf-8")]
    for m, s in sorted({(r["method"], r["strength"]) for r in rows}):
        sel = [r for r in rows if r["method"] == m and r["strength"] == s]
        pos = [r for r in sel if r["side"] == "positive"]
        neg = [r for r in sel if r["side"] == "negative"]
        print(f"{name:22s} {m} {s:5.2f}  rate+ {mean([r['shows'] for r in pos]):6.1%}  rate- {mean([r['shows'] for r in neg]):6.1%}"
              f"  quality(all) {mean([r['quality'] for r in sel]):.3f}  quality(positive) {mean([r['quality'] for r in pos]):.3f}"
              f"  quality(negative) {mean([r['quality'] for r in neg]):.3f}")

#!/usr/bin/env python3
"""Scores `synscope backtest` on ../shared/corpus/nab with NAB's rules (the corpus's own nab_score.py,
standard profile, up-or-mixed windows) and fails below --bar. Exit 77 (skipped) when the corpus is absent.

`backtest` scores with detector::MetricModel and its defaults (nothing here passes a setting): a seasonal
level, robust per-window scales and a peaks-over-threshold tail, no parameter of it chosen on this corpus.
The score is information, not a target. The bar fails a detector that stopped working: it sits above the
baselines NAB publishes (random 11, Bayesian changepoint 17.7) and below the measured 53.4.
"""
import argparse, os, re, subprocess, sys, tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--binary", required=True)
ap.add_argument("--corpus", required=True)
ap.add_argument("--bar", type=float, default=30.0)
ap.add_argument("-v", action="store_true")
a, extra = ap.parse_known_args()
data = os.path.join(a.corpus, "data")
if not os.path.isdir(data):
    print(f"NAB corpus not found at {a.corpus}: skipped")
    sys.exit(77)
det = "synscope"
with tempfile.TemporaryDirectory() as out:
    files = sorted(os.path.relpath(os.path.join(d, f), data) for d, _, fs in os.walk(data) for f in fs if f.endswith(".csv"))
    for rel in files:
        cat, fn = os.path.split(rel)
        os.makedirs(os.path.join(out, det, cat), exist_ok=True)
        cmd = [a.binary, "backtest", "--input", os.path.join(data, rel),
               "--output", os.path.join(out, det, cat, f"{det}_{fn}")] + extra
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"backtest failed on {rel}: {r.stderr}")
            sys.exit(1)
    r = subprocess.run([sys.executable, os.path.join(a.corpus, "nab_score.py"), "--labels",
                        os.path.join(a.corpus, "labels", "combined_windows_selected_up_or_mixed.json"),
                        "--results-dir", out, "--detectors", det], capture_output=True, text=True)
    print(r.stdout.strip())
    m = re.search(r"standard=([0-9.]+)", r.stdout)
    if r.returncode != 0 or not m:
        print("nab_score.py failed:", r.stderr)
        sys.exit(1)
    score = float(m.group(1))
    print(f"NAB standard score: {score:.1f} over {len(files)} files (bar {a.bar}; information, defaults)")
    sys.exit(0 if score >= a.bar else 1)

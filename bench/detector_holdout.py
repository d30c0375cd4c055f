#!/usr/bin/env python3
"""Held-out check of the detector settings: 28 generated series the settings were not chosen on, scored
with the NAB corpus's own scorer (nab_score.py, standard profile) and NAB-style label windows (10% of the
series, centred on each injected anomaly). Scores `synscope backtest`'s defaults and its two-sided
direction.

Families (14 days of 5-minute buckets each):
  synTweets  12 overdispersed daily count series with a dozen unlabelled 2-4x bursts and two labelled news
             spikes (6-15x, decaying over 3-18 buckets);
  synMetric   8 seasonal metrics with weekend offsets and a labelled level shift of +15..35 for 2-10 hours;
  synBytes    8 mostly idle byte counters with ~40 unlabelled huge spikes and a labelled sustained
             high-traffic period of 1-5 hours.

Usage: bench/detector_holdout.py [--binary build/app/synscope] [--corpus ../shared/corpus/nab] [--seed N]
"""
import argparse, json, math, os, random, subprocess, sys, tempfile, datetime as dt

ap = argparse.ArgumentParser()
ap.add_argument("--binary", default="build/app/synscope")
ap.add_argument("--corpus", default="../shared/corpus/nab")
ap.add_argument("--seed", type=int, default=2026)
a = ap.parse_args()
scorer = os.path.join(a.corpus, "nab_score.py")
if not os.path.exists(scorer):
    print(f"{scorer} not found: skipped"); sys.exit(77)
rng = random.Random(a.seed)


def poisson(lam):
    if lam < 30:
        limit, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= rng.random()
            if p <= limit: return k
            k += 1
    return max(0, round(rng.gauss(lam, math.sqrt(lam))))


N = 14 * 288
T0 = dt.datetime(2015, 3, 2)
STAMPS = [(T0 + dt.timedelta(minutes=5 * i)).strftime("%Y-%m-%d %H:%M:%S") for i in range(N)]
HOUR = [(i % 288) / 12.0 for i in range(N)]
WEEKEND = [(i // 288) % 7 >= 5 for i in range(N)]


def series():
    for k in range(12):
        peak = 14 + rng.gauss(0, 2)
        lam = [(20 + 40 * math.exp(-((h - peak) / 5) ** 2)) * rng.gammavariate(4, 0.25) for h in HOUR]
        for _ in range(12):
            b = rng.randrange(600, N)
            f = rng.uniform(2, 4)
            for i in range(b, min(N, b + rng.randint(1, 3))): lam[i] *= f
        anomalies = sorted(rng.sample(range(1500, N - 100), 2))
        for s in anomalies:
            length, f = rng.randint(3, 17), rng.uniform(6, 15)
            for j in range(length):
                if s + j < N: lam[s + j] *= f * math.exp(-j / (length / 2)) + 1
        yield "synTweets", f"tw_{k}", [poisson(x) for x in lam], anomalies
    for k in range(8):
        v = [50 + 20 * math.sin(2 * math.pi * h / 24) + 5 * w + rng.gauss(0, 3 + k % 3) for h, w in zip(HOUR, WEEKEND)]
        s, length, up = rng.randrange(1500, N - 400), rng.randint(24, 119), rng.uniform(15, 35)
        for i in range(s, s + length): v[i] += up
        yield "synMetric", f"shift_{k}", [round(max(x, 0.0), 3) for x in v], [s]
    for k in range(8):
        v = [rng.lognormvariate(4, 0.3) for _ in range(N)]
        for _ in range(40): v[rng.randrange(N)] = rng.lognormvariate(14, 0.5)
        s, length = rng.randrange(1500, N - 300), rng.randint(12, 59)
        for i in range(s, s + length): v[i] = rng.lognormvariate(12.5, 0.3)
        yield "synBytes", f"bytes_{k}", [round(x, 1) for x in v], [s]


SETTINGS = {
    "backtest defaults (MetricModel, rises)": [],
    "--direction both": ["--direction", "both"],
}
with tempfile.TemporaryDirectory() as tmp:
    labels, keys = {}, []
    for cat, name, values, anomalies in series():
        os.makedirs(os.path.join(tmp, "data", cat), exist_ok=True)
        key = f"{cat}/{name}.csv"
        keys.append(key)
        with open(os.path.join(tmp, "data", key), "w") as f:
            f.write("timestamp,value\n" + "".join(f"{t},{v}\n" for t, v in zip(STAMPS, values)))
        half = int(0.1 * N / len(anomalies)) // 2
        labels[key] = [[STAMPS[max(0, x - half)] + ".000000", STAMPS[min(N - 1, x + half)] + ".000000"] for x in anomalies]
    with open(os.path.join(tmp, "labels.json"), "w") as f: json.dump(labels, f)
    for title, flags in SETTINGS.items():
        res = os.path.join(tmp, "res" + str(len(flags)))
        for key in keys:
            cat, fn = key.split("/")
            os.makedirs(os.path.join(res, "synscope", cat), exist_ok=True)
            subprocess.run([a.binary, "backtest", "--input", os.path.join(tmp, "data", key), "--output",
                            os.path.join(res, "synscope", cat, "synscope_" + fn), "--resolve-buckets", "48"] + flags,
                           check=True)
        parts = []
        for fam in ["", "synTweets", "synMetric", "synBytes"]:
            files = [k for k in keys if k.startswith(fam)]
            out = subprocess.run([sys.executable, scorer, "--labels", os.path.join(tmp, "labels.json"), "--results-dir",
                                  res, "--detectors", "synscope", "--profiles", "standard", "--files"] + files,
                                 capture_output=True, text=True, check=True).stdout
            parts.append(f"{fam or 'all'} {out.split('standard=')[1].split('(')[0]}")
        print(f"{title}: " + ", ".join(parts))

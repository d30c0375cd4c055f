#!/usr/bin/env python3
"""System test of the top-N drill-down: `synscope replay --top-out` on a generated two-day capture with an
outage at one server, against exact counts computed from `--sessions-out` of the same run.

For every window (bucket, 15m, 1h, 24h) and kind, every listed entry's true count lies within its stated
bound (count - error <= exact <= count), the lists are ordered, and the outage server heads the 24-hour
servers list with its exact count. Exit 77 never: it needs only the binary and the generator.
Usage: top_replay_test.py SYNSCOPE SYNSCOPE_GEN
"""
import json, os, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import top_truth  # noqa: E402
from system_support import fail  # noqa: E402

synscope, gen = sys.argv[1:3]


with tempfile.TemporaryDirectory() as work:
    cap = os.path.join(work, "days.pcap")
    start = 1699920000
    r = subprocess.run([gen, "-o", cap, "-n", "6000", "--seed", "77", "--window", str(2 * 86400), "--start",
                        str(start), "--servers", "200", "--diurnal", "0.5", "--ipv6-share", "0.1", "--microseconds",
                        "--surge", f"{2 * 86400 - 1800}:900:refused:90:one"], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"synscope-gen: {r.stderr}")
    outage = r.stderr.split("surge server: ")[1].split()[0]
    sessions, top = os.path.join(work, "s.jsonl"), os.path.join(work, "top.json")
    r = subprocess.run([synscope, "replay", cap, "--bucket", "300", "--sessions-out", sessions, "--top-out", top,
                        "-q"], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"replay: {r.stderr}")
    records = [json.loads(line) for line in open(sessions)]
    view = json.load(open(top))

    try:
        checked = top_truth.check(view, records)
    except AssertionError as e:
        fail(str(e))
    head = view["windows"]["24h"]["servers"][0]
    want = top_truth.exact(records, "servers", view["windows"]["24h"]["from"], view["windows"]["24h"]["to"])[outage]
    if head["key"] != outage or head["count"] != want or head["error"] != 0:
        fail(f"24h servers head {head}, want {outage} with exactly {want}")
    if head["reasons"].get("rejected", 0) < 90:
        fail(f"outage reasons {head['reasons']}")
    print(f"top-out: {checked} entries within their bounds; outage {outage} heads 24h servers with {want}")

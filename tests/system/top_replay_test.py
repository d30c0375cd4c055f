#!/usr/bin/env python3
"""System test of the top-N drill-down: `synscope replay --top-out` on a generated two-day capture with an
outage at one server, against exact counts computed from `--sessions-out` of the same run.

For every window (bucket, 15m, 1h, 24h) and kind, every listed entry's true count lies within its stated
bound (count - error <= exact <= count), the lists are ordered, and the outage server heads the 24-hour
servers list with its exact count. Exit 77 never: it needs only the binary and the generator.
Usage: top_replay_test.py SYNSCOPE SYNSCOPE_GEN
"""
import collections, json, os, subprocess, sys, tempfile

synscope, gen = sys.argv[1:3]
FAILED = {"S0": "no_reply", "REJ": "rejected", "RSTOS0": "client_abort", "RSTRH": "server_reset_no_syn",
          "SH": "client_fin_no_reply", "SHR": "server_fin_no_syn"}


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def endpoint(ip, port):
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


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
    if view["version"] != 1:
        fail(f"version {view['version']}")

    def exact(kind, lo, hi):
        c = collections.Counter()
        for s in records:
            if not lo <= int(s["ts"]) < hi:
                continue
            failed = s["conn_state"] in FAILED
            server = endpoint(s["id.resp_h"], s["id.resp_p"])
            if kind == "servers" and failed: c[server] += 1
            elif kind == "clients" and failed: c[s["id.orig_h"]] += 1
            elif kind == "server_ports" and failed: c[str(s["id.resp_p"])] += 1
            elif kind == "conversations" and failed: c[f"{s['id.orig_h']} -> {server}"] += 1
            elif kind == "server_rst" and s["resp_rst"] > 0: c[server] += 1
            elif kind == "client_rst" and s["orig_rst"] > 0: c[s["id.orig_h"]] += 1
            elif kind == "syn_retries" and s["orig_syn"] > 1: c[server] += s["orig_syn"] - 1
        return c

    checked = 0
    for wname, w in view["windows"].items():
        for kind in ("servers", "clients", "server_ports", "conversations", "server_rst", "client_rst", "syn_retries"):
            truth = exact(kind, w["from"], w["to"])
            entries = w[kind]
            if len(entries) > 10:
                fail(f"{wname}/{kind}: {len(entries)} entries")
            lower = [e["count"] - e["error"] for e in entries]
            if lower != sorted(lower, reverse=True):
                fail(f"{wname}/{kind}: not ordered by guaranteed count: {lower}")
            for e in entries:
                n = truth.get(e["key"], 0)
                if not e["count"] - e["error"] <= n <= e["count"]:
                    fail(f"{wname}/{kind} {e['key']}: exact {n} outside [{e['count'] - e['error']}, {e['count']}]")
                checked += 1
            if truth and not entries:
                fail(f"{wname}/{kind}: empty, but {len(truth)} keys had sessions")
    head = view["windows"]["24h"]["servers"][0]
    want = exact("servers", view["windows"]["24h"]["from"], view["windows"]["24h"]["to"])[outage]
    if head["key"] != outage or head["count"] != want or head["error"] != 0:
        fail(f"24h servers head {head}, want {outage} with exactly {want}")
    if head["reasons"].get("rejected", 0) < 90:
        fail(f"outage reasons {head['reasons']}")
    print(f"top-out: {checked} entries within their bounds; outage {outage} heads 24h servers with {want}")

#!/usr/bin/env python3
"""System test of `synscope replay --alerts-out`: multi-day captures with a daily cycle and injected surges.

For several seeds, synscope-gen writes four days of sessions (rate following a daily cycle, 15-minute
buckets) plus surges: a server outage (REJ burst to one server, afternoon), a firewall drop (S0 surge at
night), a SYN flood (many S0 to one server), a small rise in a quiet hour, and a burst of RST-terminated
*established* sessions (not failed: must not alert). Then, with a population of servers, a small outage of
one known server that only its own per-server series can see; then 12 days with weekends at 30% of the
weekday rate. Checks that every failure surge fires an alert within 2 buckets of its start (the small
quiet-hour rise too, through the total series), that nothing fires anywhere else (daily peaks, weekends,
the RST burst, warm-up), that the outage's alert names the server among its top contributors and REJ as its
conn_state, and that every alert line has the documented fields."""
import argparse, atexit, json, os, shutil, subprocess, sys, tempfile

DAY, BUCKET, START = 86400, 900, 1699920000  # START is a midnight UTC

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--gen", required=True)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="synscope-alerts-")
    atexit.register(shutil.rmtree, work, ignore_errors=True)  # captures here are up to ~550 MB a run
    failures, small_rises = [], []
    for seed in (4, 11, 23):
        surges = [  # (offset s, duration s, kind, count, target ("one" server / one "client" at one server), alert?)
            (2 * DAY + 3 * 3600, 1800, "unanswered", 80, None, True),      # firewall drop at night
            (3 * DAY + 14 * 3600, 1800, "refused", 150, "one", True),      # server outage, afternoon
            (3 * DAY + 9 * 3600 + 1800, 900, "unanswered", 300, "one", True),  # SYN flood at one server
            (2 * DAY + 17 * 3600, 600, "refused", 120, "client", True),    # brute force: one client, one server
            (3 * DAY + 2 * 3600, 1800, "half_close", 45, None, True),      # small rise in a quiet hour
            (3 * DAY + 20 * 3600, 1800, "server_reset", 200, None, False),  # RST-ended established: no alert
        ]
        cap = os.path.join(work, f"days-{seed}.pcap")
        cmd = [a.gen, "-o", cap, "-n", "20000", "--seed", str(seed), "--window", str(4 * DAY), "--start", str(START),
               "--diurnal", "0.7", "--exchanges", "1"]
        for off, dur, kind, n, one, _ in surges:
            cmd += ["--surge", f"{off}:{dur}:{kind}:{n}" + (f":{one}" if one else "")]
        subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
        out = os.path.join(work, f"alerts-{seed}.jsonl")
        r = subprocess.run([a.binary, "replay", cap, "--bucket", str(BUCKET), "--alerts-out", out, "-q"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        alerts = [json.loads(l) for l in open(out)]
        for al in alerts:
            for field in ("ts", "metric", "perspective", "partition", "actual", "typical", "upper", "score",
                          "severity", "state", "top"):
                assert field in al, (field, al)
            assert al["state"] in ("firing", "resolved")
            assert al["metric"] in ("failed_sessions", "failed_sessions_client"), al
        firing = [al for al in alerts if al["state"] == "firing"]
        expected = [(START + off, START + off + dur, kind, one) for off, dur, kind, n, one, alert in surges if alert]
        # The small quiet-hour rise is +22 failed sessions per bucket over a night baseline of ~4.5 (1-10 per
        # bucket), spread over the four perspectives: only the total series (perspective "all") can see it,
        # and it must. (+15 was below what a detector held to 1 false alert per 1,000 series-days can call
        # within 2 buckets: 17 over an expected 4.6 is p ~ 7e-6 even for an exact Poisson rate.)
        for begin, end, kind, one in expected:
            first_bucket = begin // BUCKET * BUCKET
            hits = [al for al in firing if first_bucket <= al["ts"] <= first_bucket + 2 * BUCKET]
            if kind == "half_close":
                small_rises.append(bool(hits))
            if not hits:
                failures.append(f"seed {seed}: {kind} surge at {begin} not alerted within 2 buckets")
                continue
            client_hits = [al for al in hits if al["metric"] == "failed_sessions_client"]
            if one == "client":
                # the brute force raises the client-over-server alert, naming the client's server
                if not client_hits or client_hits[0]["actual"] < 0.5 * 120 or client_hits[0]["top"][0]["kind"] != "server":
                    failures.append(f"seed {seed}: brute force without a failed_sessions_client alert: {hits}")
            elif client_hits:  # many clients (outage, flood, firewall drop) are not one client's doing
                failures.append(f"seed {seed}: {kind} surge raised a client alert: {client_hits}")
            if kind == "refused" and one == "one":
                best = max(hits, key=lambda al: al["actual"])
                servers = [t for t in best["top"] if t["kind"] == "server"]
                states = [t for t in best["top"] if t["kind"] == "conn_state"]
                if not servers or servers[0]["count"] < best["actual"] * 0.5 or states[0]["value"] != "REJ":
                    failures.append(f"seed {seed}: outage alert lacks attribution: {best['top']}")
        for al in firing:
            windows = [(b, e) for b, e, _, _ in expected]
            inside = any(b // BUCKET * BUCKET <= al["ts"] <= e + BUCKET for b, e in windows)
            if not inside:
                failures.append(f"seed {seed}: false alert {al}")
        print(f"seed {seed}: {len(firing)} firing transitions, {len(alerts) - len(firing)} resolved")
    # Per-server series: sessions go to a population of 300 servers (Zipf popularity), so every server has
    # its own small baseline of failures; one known server then refuses 40 connections over 30 minutes — a
    # few failed sessions per bucket and perspective, within the aggregate's normal spread. The server's own
    # series must fire (partition "ip:port" of that server) within 2 buckets, and no alert of any kind may
    # fire anywhere else in four days.
    for seed in (4, 11, 23):
        begin = START + 3 * DAY + 14 * 3600
        cap = os.path.join(work, f"servers-{seed}.pcap")
        subprocess.run([a.gen, "-o", cap, "-n", "40000", "--servers", "300", "--seed", str(seed), "--window",
                        str(4 * DAY), "--start", str(START), "--diurnal", "0.7", "--exchanges", "1",
                        "--surge", f"{3 * DAY + 14 * 3600}:1800:refused:40:one"], check=True, stderr=subprocess.DEVNULL)
        out, sessions = os.path.join(work, f"servers-{seed}.jsonl"), os.path.join(work, f"servers-{seed}.conn")
        r = subprocess.run([a.binary, "replay", cap, "--bucket", str(BUCKET), "--alerts-out", out,
                            "--sessions-out", sessions, "-q"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        refused = {}
        for line in open(sessions):
            c = json.loads(line)
            if c["conn_state"] == "REJ" and begin <= c["ts"] < begin + 1800:
                h = c["id.resp_h"]
                key = (f"[{h}]" if ":" in h else h) + f":{c['id.resp_p']}"
                refused[key] = refused.get(key, 0) + 1
        target = max(refused, key=refused.get)
        firing = [json.loads(l) for l in open(out)]
        firing = [al for al in firing if al["state"] == "firing"]
        first_bucket = begin // BUCKET * BUCKET
        hit = [al for al in firing if al["partition"] == target and first_bucket <= al["ts"] <= first_bucket + 2 * BUCKET]
        if not hit:
            failures.append(f"seed {seed}: outage of {target} ({refused[target]} REJ) raised no per-server alert: {firing}")
        elif hit[0]["top"] and hit[0]["top"][0]["kind"] != "client":
            failures.append(f"seed {seed}: per-server alert top lists no clients: {hit[0]}")
        for al in firing:
            if not first_bucket <= al["ts"] <= begin + 1800 + BUCKET:
                failures.append(f"seed {seed}: false alert with 300 servers: {al}")
        print(f"seed {seed} (300 servers): outage of {target} alerted: {bool(hit)}; "
              f"{len(firing)} firing transitions in all")
    # Weekends: 12 days with Saturday/Sunday traffic at 30% of weekdays and one server's outage on day 10.
    # The first Monday mornings come before a week of history exists; the weekend profile keeps the quiet
    # weekend from becoming Monday's baseline (the count model's weekend ratio cells; a weekend hour not seen
    # yet does not teach the level). No false alert is allowed.
    weekend_false = []
    for seed in (4, 11, 23):
        begin = START + 9 * DAY + 14 * 3600
        cap = os.path.join(work, f"weeks-{seed}.pcap")
        subprocess.run([a.gen, "-o", cap, "-n", "60000", "--servers", "300", "--seed", str(seed), "--window",
                        str(12 * DAY), "--start", str(START), "--diurnal", "0.7", "--weekend", "0.3", "--exchanges", "1",
                        "--surge", f"{9 * DAY + 14 * 3600}:1800:refused:40:one"], check=True, stderr=subprocess.DEVNULL)
        out = os.path.join(work, f"weeks-{seed}.jsonl")
        r = subprocess.run([a.binary, "replay", cap, "--bucket", str(BUCKET), "--alerts-out", out, "-q"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        firing = [al for al in map(json.loads, open(out)) if al["state"] == "firing"]
        first_bucket = begin // BUCKET * BUCKET
        if not any(al["partition"] != "all" and first_bucket <= al["ts"] <= first_bucket + 2 * BUCKET for al in firing):
            failures.append(f"seed {seed}: outage on day 10 of a 12-day capture with weekends not alerted: {firing}")
        weekend_false += [al for al in firing if not first_bucket <= al["ts"] <= begin + 1800 + BUCKET]
    print(f"weekends: {len(weekend_false)} false alerts in 3 seeds x 12 days")
    if weekend_false:
        failures.append(f"weekends: {len(weekend_false)} false alerts: {weekend_false}")
    # Model file: a corrupt one gets a warning and a fresh model, is replaced by a good one at the end, which
    # the next run loads silently.
    model = os.path.join(work, "model.bin")
    open(model, "wb").write(b"garbage" * 10)
    cap = os.path.join(work, "days-4.pcap")
    run = [a.binary, "replay", cap, "--bucket", str(BUCKET), "--alerts-out", os.devnull, "--model-file", model, "-q"]
    r = subprocess.run(run, capture_output=True, text=True)
    if r.returncode != 0 or "not a synscope model: starting a fresh model" not in r.stderr:
        failures.append(f"corrupt model file: rc {r.returncode}, stderr {r.stderr!r}")
    r = subprocess.run(run, capture_output=True, text=True)
    if r.returncode != 0 or "warning" in r.stderr:
        failures.append(f"saved model did not load cleanly: rc {r.returncode}, stderr {r.stderr!r}")
    print(f"small quiet-hour rise alerted within 2 buckets in {sum(small_rises)} of {len(small_rises)} seeds")
    if failures:
        print("\n".join(failures))
        return 1
    print("alerts replay test: ok")
    return 0

if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Soak: a live run on a net_pcap vdev looping a generated capture (TSC clock, so time moves and sessions
keep ending) for --minutes, scraped every --every seconds while --clients more scrape as fast as they can.
Checks that memory is flat (resident set after the first minute within --growth of its value then) and that
every counter only grows (every *_total sample of every scrape >= the one before). Prints one line per
check point and the verdict; exit 1 on a failed check.

Usage: bench/soak.py --binary build/app/synscope --gen build/bench/synscope-gen [--minutes 10]
"""
import argparse, os, re, subprocess, sys, tempfile, threading, time, urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "system"))
from system_support import eal, free_port  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--binary", required=True)
ap.add_argument("--gen", required=True)
ap.add_argument("--minutes", type=float, default=10)
ap.add_argument("--every", type=float, default=10)
ap.add_argument("--clients", type=int, default=4)
ap.add_argument("--growth", type=float, default=0.05)
a = ap.parse_args()

with tempfile.TemporaryDirectory() as work:
    cap = os.path.join(work, "mix.pcap")
    subprocess.run([a.gen, "-o", cap, "-n", "1000", "--seed", "5", "--window", "60", "--microseconds"], check=True,
                   capture_output=True)
    port = free_port()
    proc = subprocess.Popen([a.binary] + eal(f"synscope-soak-{os.getpid()}", f"net_pcap0,rx_pcap={cap},infinite_rx=1")
                            + ["--", "run", "--clock", "tsc", "--mbufs", "32768", "--bucket", "10",
                               "--alerts-out", os.path.join(work, "alerts.jsonl"), "--metrics-listen",
                               f"127.0.0.1:{port}", "-q"], stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/metrics"
    stop = threading.Event()
    scrapes = [0]

    def hammer():
        while not stop.is_set():
            try:
                urllib.request.urlopen(url, timeout=5).read()
                scrapes[0] += 1
            except OSError:
                time.sleep(0.1)

    def rss_kib():
        for line in open(f"/proc/{proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def counters():
        text = urllib.request.urlopen(url, timeout=5).read().decode()
        return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(synscope_\w+_total(?:\{[^}]*\})?) (\S+)$", text, re.M)}

    time.sleep(3)
    threads = [threading.Thread(target=hammer, daemon=True) for _ in range(a.clients)]
    for t in threads:
        t.start()
    start, baseline, prev, ok, worst = time.time(), None, {}, True, 0
    while time.time() - start < a.minutes * 60:
        time.sleep(a.every)
        if proc.poll() is not None:
            print("FAIL: synscope exited"); sys.exit(1)
        now, rss = counters(), rss_kib()
        shrunk = [k for k, v in now.items() if k in prev and v < prev[k]]
        if shrunk:
            ok = False
            print(f"FAIL: counters went down: {shrunk[:5]}")
        prev = now
        elapsed = time.time() - start
        if baseline is None and elapsed >= 60:
            baseline = rss
        if baseline:
            worst = max(worst, rss / baseline - 1)
        pkts = sum(v for k, v in now.items() if k.startswith("synscope_rx_packets_total"))
        print(f"{elapsed:6.0f} s  rss {rss / 1024:7.1f} MiB  rx {pkts / 1e6:9.1f} M packets  scrapes {scrapes[0]}")
    stop.set()
    proc.terminate()
    proc.wait(timeout=30)
    verdict = ok and worst <= a.growth
    print(f"{'ok' if verdict else 'FAIL'}: {a.minutes:g} min, resident set grew at most {worst * 100:.2f} % after the "
          f"first minute (bound {a.growth * 100:g} %), counters monotonic: {ok}, {scrapes[0]} extra scrapes")
    sys.exit(0 if verdict else 1)

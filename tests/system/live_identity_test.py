#!/usr/bin/env python3
"""System test: the accounting identity of docs/metrics.md holds at every scrape of a busy spread-mode run.

Spread mode (one RX lcore handing parsed bursts to an engine lcore) over net_pcap looping a capture
(infinite_rx), scraped 300 times as fast as possible: on every scrape
    in_flight = sum(rx_packets) - sum(frames) - drops{ring_full, table_full, implausible_time}
must be >= 0 (a packet is counted by its RX core before an engine can count it), bounded (the spread ring
plus what an engine takes between two of its publishes), and equal to
synscope_spread_in_flight_packets of the same scrape. Then a finite
capture in spread mode: once every frame is received and processed, in_flight is exactly 0.
Exit 77 when EAL cannot start here.
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from system_support import free_port  # noqa: E402

BURST = 32
BURST_RING = 256  # --burst-ring default: bursts in flight per (RX core, engine core) pair


def total(text, name, match=""):
    return sum(float(m.group(2)) for m in re.finditer(rf"^{name}{{?([^}}\s]*)}}? (\S+)$", text, re.M)
               if match in m.group(1))


def identity(text):
    rx = total(text, "synscope_rx_packets_total")
    frames = total(text, "synscope_frames_total")
    drops = total(text, "synscope_drops_total", 'reason="ring_full"') + \
        total(text, "synscope_drops_total", 'reason="table_full"') + \
        total(text, "synscope_drops_total", 'reason="implausible_time"')
    return rx, frames, drops, rx - frames - drops


def start(binary, vdev, prefix, port):
    return subprocess.Popen(
        [binary, "--lcores", "0@0,1@1,2@0", "--no-huge", "-m", "256", "--no-pci", "--log-level", "lib.eal:warning",
         f"--file-prefix={prefix}", "--vdev", vdev, "--", "run", "--spread-workers", "1", "--clock", "packet",
         "--metrics-listen", f"127.0.0.1:{port}", "-q"], stderr=subprocess.PIPE, text=True)


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


def first_scrape(proc, port):
    deadline = time.time() + 20
    while time.time() < deadline and proc.poll() is None:
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
        except OSError:
            time.sleep(0.1)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--gen", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        small = os.path.join(work, "small.pcap")
        subprocess.run([args.gen, "-o", small, "-n", "200", "--seed", "4", "--window", "60"], check=True,
                       stderr=subprocess.DEVNULL)
        port = free_port()
        proc = start(args.binary, f"net_pcap0,rx_pcap={small},infinite_rx=1", f"synscope-ident-{os.getpid()}-a",
                     port)
        try:
            if first_scrape(proc, port) is None:
                err = proc.stderr.read() if proc.poll() is not None else ""
                if "EAL" in err:
                    print(f"SKIP: EAL cannot start here: {err.strip()[:300]}")
                    return 77
                print(f"FAIL: /metrics never answered: {err[-300:]}")
                return 1
            # A full ring, the burst being filled, and what the engine took since it last published: every
            # 2 ms, but here the engine lcore shares a CPU with the main lcore, so the scheduler can hold
            # its publish back for a time slice or more (100000 packets: 50 ms at 2 Mpkt/s).
            bound = BURST_RING * BURST + 2 * BURST + 100000
            worst_low, worst_high, mismatched = 0, 0, 0
            for _ in range(300):
                text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
                rx, frames, drops, in_flight = identity(text)
                worst_low = min(worst_low, in_flight)
                worst_high = max(worst_high, in_flight)
                if total(text, "synscope_spread_in_flight_packets") != in_flight:
                    mismatched += 1
            if worst_low < 0 or worst_high > bound or mismatched:
                print(f"FAIL: rx - frames - drops ranged {worst_low:.0f}..{worst_high:.0f} over 300 scrapes "
                      f"(must be 0..{bound}); {mismatched} scrapes disagreed with "
                      f"synscope_spread_in_flight_packets; last rx {rx:.0f}, frames {frames:.0f}, drops {drops:.0f}")
                return 1
            print(f"busy spread run: rx - frames - drops within {worst_low:.0f}..{worst_high:.0f} "
                  f"(bound {bound}) on 300 scrapes, equal to synscope_spread_in_flight_packets; rx {rx:.0f}")
        finally:
            stop(proc)

        mix = os.path.join(work, "mix.pcap")
        gen = subprocess.run([args.gen, "-o", mix, "-n", "2000", "--seed", "21", "--window", "600"], check=True,
                             stderr=subprocess.PIPE, text=True)
        frames_in = int(re.search(r": (\d+) frames", gen.stderr).group(1))
        port = free_port()
        proc = start(args.binary, f"net_pcap0,rx_pcap={mix}", f"synscope-ident-{os.getpid()}-b", port)
        try:
            deadline = time.time() + 30
            last = None
            while time.time() < deadline:
                text = first_scrape(proc, port)
                if text is None:
                    break
                last = identity(text)
                if last[0] == frames_in and last[3] == 0:
                    break
                time.sleep(0.2)
            if last is None or last[0] != frames_in or last[3] != 0:
                print(f"FAIL: finite spread run: rx, frames, drops, in flight = {last} (want {frames_in} received, "
                      "0 in flight)")
                return 1
            print(f"finite spread run: {frames_in} frames received = frames {last[1]:.0f} + drops {last[2]:.0f}")
        finally:
            stop(proc)
    print("live identity: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""System test: live outputs that fail or stall never freeze the data plane or lose records silently.

  * a sessions FIFO whose reader stops reading after the first bytes (and a session ring of 512, so a held
    stats core would stop the engine and RX): every frame is still received,
    /metrics answers, dropped lines are counted while it runs, SIGTERM ends the run within 2 s (exit 4,
    the FIFO named); what the reader did get is whole lines;
  * --sessions-out /dev/full: said on stderr while the run goes on (not only at exit), counted in
    synscope_output_dropped_records_total, synscope_session_records_total stays 0, exit 4 naming it;
  * a FIFO nobody opens for reading: start-up fails within a few seconds naming it (exit 4);
  * replay into a FIFO whose reader pauses for 1.5 s (three bounded waits): nothing dropped, exit 0; into
    one whose reader stops: SIGTERM ends it within 2 s, the loss said and counted (exit 4).
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
import threading
import time
import urllib.request
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from system_support import free_port  # noqa: E402


def scrape(port):
    return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()


def total(text, name, match=""):
    return sum(float(m.group(2)) for m in re.finditer(rf"^{name}{{?([^}}\s]*)}}? (\S+)$", text, re.M)
               if match in m.group(1))


def live(binary, pcap, prefix, port, *run_args):
    cmd = [binary, "-l", "0-1", "--no-huge", "-m", "256", "--no-pci", "--log-level", "lib.eal:warning",
           f"--file-prefix={prefix}", "--vdev", f"net_pcap0,rx_pcap={pcap}", "--", "run", "--clock", "packet",
           "--metrics-listen", f"127.0.0.1:{port}", "-q", *run_args]
    return subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)


def wait_for(port, proc, predicate, seconds):
    """Scrapes until predicate(text) holds; returns the last scrape (None if the endpoint never answered)."""
    deadline = time.time() + seconds
    text = None
    while time.time() < deadline and proc.poll() is None:
        try:
            text = scrape(port)
            if predicate(text):
                return text
        except OSError:
            pass
        time.sleep(0.2)
    return text


def stop(proc):
    """SIGTERM; returns (exit code, seconds to exit, stderr)."""
    t0 = time.time()
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        return None, time.time() - t0, err
    return proc.returncode, time.time() - t0, err


def fail(msg):
    print(f"FAIL: {msg}")
    return 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--gen", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        pcap = os.path.join(work, "mix.pcap")
        gen = subprocess.run([args.gen, "-o", pcap, "-n", "10000", "--seed", "7", "--window", "600",
                              "--microseconds"], check=True, stderr=subprocess.PIPE, text=True)
        frames = int(re.search(r": (\d+) frames", gen.stderr).group(1))

        # 1. A FIFO whose reader stops after 1 KiB.
        fifo = os.path.join(work, "sessions.fifo")
        os.mkfifo(fifo)
        got = bytearray()

        def reader():
            with open(fifo, "rb", buffering=0) as f:
                got.extend(f.read(1024))
                time.sleep(60)  # stops reading, keeps the FIFO open

        threading.Thread(target=reader, daemon=True).start()
        port = free_port()
        # A session ring far smaller than the capture's sessions: a stats core held by the FIFO would fill
        # it, and the engine (on the RX lcore) would wait for it instead of receiving.
        proc = live(args.binary, pcap, f"synscope-outfault-{os.getpid()}-a", port, "--sessions-out", fifo,
                    "--session-ring", "512")
        text = wait_for(port, proc, lambda t: total(t, "synscope_rx_packets_total") == frames and
                        total(t, "synscope_output_dropped_records_total", 'output="sessions"') > 0, 40)
        if text is None and proc.poll() is not None:
            err = proc.stderr.read()
            if "EAL" in err:
                print(f"SKIP: EAL cannot start here: {err.strip()[:300]}")
                return 77
        rc, took, err = stop(proc)
        if text is None:
            return fail(f"/metrics never answered with a stalled FIFO output; stderr: {err[-400:]}")
        rx = total(text, "synscope_rx_packets_total")
        dropped = total(text, "synscope_output_dropped_records_total", 'output="sessions"')
        if rx != frames or dropped == 0:
            return fail(f"stalled FIFO: rx {rx:.0f} of {frames} frames, {dropped:.0f} dropped (the data plane froze?)")
        if rc is None or took > 2.0:
            return fail(f"stalled FIFO: SIGTERM took {took:.1f} s (exit {rc})")
        if rc != 4 or fifo not in err or "reader took nothing" not in err:
            return fail(f"stalled FIFO: exit {rc}; stderr: {err[-600:]}")
        waits = total(text, "synscope_session_ring_waits_total")
        if waits == 0:
            return fail("stalled FIFO: the engine waited for the stats core (500 ms) but session_ring_waits is 0")
        lines = bytes(got).split(b"\n")[:-1]
        print(f"stalled FIFO: every frame received ({frames}), {dropped:.0f} lines dropped while running, "
              f"SIGTERM exit {rc} in {took:.2f} s, {waits:.0f} session ring wait(s); the reader got {len(lines)} whole line(s) before it stopped")

        # 2. /dev/full: said while running, counted, nothing counted as written.
        port = free_port()
        proc = live(args.binary, pcap, f"synscope-outfault-{os.getpid()}-b", port, "--sessions-out", "/dev/full",
                    "--buckets-out", os.path.join(work, "b.jsonl"))
        text = wait_for(port, proc, lambda t: total(t, "synscope_output_dropped_records_total",
                                                    'output="sessions"') > 0, 40)
        line = ""
        for _ in range(5):  # the episode's line comes while the run goes on (after EAL's own lines)
            line = proc.stderr.readline()
            if "/dev/full" in line:
                break
        alive = proc.poll() is None
        rc, took, err = stop(proc)
        err = line + err
        if text is None:
            return fail(f"/dev/full: /metrics never showed a dropped record; stderr: {err[-400:]}")
        written = total(text, "synscope_session_records_total")
        if written != 0 or not alive or "/dev/full: write failed: No space left on device" not in line:
            return fail(f"/dev/full: session_records_total {written}, first stderr line while running: {line!r}")
        if rc != 4 or "sessions output /dev/full" not in err:
            return fail(f"/dev/full: exit {rc}; stderr: {err[-400:]}")
        print(f"/dev/full: said while running, {total(text, 'synscope_output_dropped_records_total'):.0f} "
              f"dropped, session_records_total 0, exit 4")

        # 3. A FIFO with no reader at all: start-up fails naming it.
        lonely = os.path.join(work, "lonely.fifo")
        os.mkfifo(lonely)
        t0 = time.time()
        proc = live(args.binary, pcap, f"synscope-outfault-{os.getpid()}-c", free_port(), "--sessions-out", lonely)
        try:
            _, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            return fail("a FIFO without a reader blocked start-up for 15 s")
        if proc.returncode != 4 or lonely not in err or "reader" not in err:
            return fail(f"FIFO without a reader: exit {proc.returncode}; stderr: {err[-300:]}")
        print(f"FIFO without a reader: exit 4 after {time.time() - t0:.1f} s, named")

        # 4. Replay waits for a slow reader instead of dropping.
        slow = os.path.join(work, "slow.fifo")
        os.mkfifo(slow)
        received = bytearray()

        def slow_reader():
            with open(slow, "rb", buffering=0) as f:
                time.sleep(1.5)
                while chunk := f.read(65536):
                    received.extend(chunk)

        t = threading.Thread(target=slow_reader)
        t.start()
        rep = subprocess.run([args.binary, "replay", pcap, "--sessions-out", slow, "-q"], stderr=subprocess.PIPE,
                             text=True, timeout=60)
        t.join()
        lines = bytes(received).split(b"\n")
        if rep.returncode != 0 or len(lines) != 10001 or lines[-1] != b"":
            return fail(f"replay into a slow FIFO: exit {rep.returncode}, {len(lines) - 1} lines; {rep.stderr[-300:]}")
        print("replay into a FIFO whose reader paused 1.5 s: all 10000 sessions, exit 0")

        # 5. ... and stops on SIGTERM when the reader never comes back.
        stuck = os.path.join(work, "stuck.fifo")
        os.mkfifo(stuck)
        def stuck_reader():
            with open(stuck, "rb", buffering=0) as f:
                f.read(1024)
                time.sleep(30)  # stops reading, keeps the FIFO open

        threading.Thread(target=stuck_reader, daemon=True).start()
        proc = subprocess.Popen([args.binary, "replay", pcap, "--sessions-out", stuck, "-q"],
                                stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        if proc.poll() is not None:
            return fail(f"replay into a stuck FIFO ended by itself: exit {proc.returncode}")
        rc, took, err = stop(proc)
        if rc != 4 or took > 2.0 or stuck not in err or "stopped while waiting for the reader" not in err:
            return fail(f"replay into a stuck FIFO: SIGTERM: exit {rc} after {took:.1f} s; stderr {err[-400:]}")
        print(f"replay into a stuck FIFO: SIGTERM exit 4 in {took:.2f} s, the loss named")
    print("output faults: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

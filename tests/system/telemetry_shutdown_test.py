#!/usr/bin/env python3
"""System test: rte_telemetry clients polling `/synscope/stats` while a live run stops.

EAL keeps serving its telemetry socket until rte_eal_cleanup(), after the data plane is gone; the
`/synscope/stats` handler must then answer "not available" (null) instead of reading freed memory. Three
clients poll as fast as they can while `--duration` ends the run, several times over; every run must exit
0 (a use-after-free showed as SIGSEGV), every answer must be a dictionary or null (null: the run has
stopped), and the clients must have been answered during the run (so they were polling when it stopped).
Exit 77 when EAL cannot start here.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time


def poll(path, stop, answers):
    """Keeps one telemetry connection busy until `stop`; reconnects when the socket is not there yet."""
    while not stop.is_set():
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.connect(path)
            s.recv(4096)  # greeting
            while not stop.is_set():
                s.send(b"/synscope/stats")
                reply = s.recv(1 << 16)
                if not reply:
                    break
                answers.append(json.loads(reply)["/synscope/stats"])
        except (OSError, ValueError):
            time.sleep(0.001)
        finally:
            s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--runs", type=int, default=4)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        pcap = os.path.join(work, "mix.pcap")
        subprocess.run([args.gen, "-o", pcap, "-n", "500", "--seed", "5", "--window", "60"], check=True,
                       stderr=subprocess.DEVNULL)
        for run in range(args.runs):
            prefix = f"synscope-telstop-{os.getpid()}-{run}"
            cmd = [args.binary, "-l", "0-1", "--no-huge", "-m", "256", "--no-pci", "--log-level", "lib.eal:warning",
                   f"--file-prefix={prefix}", "--vdev", f"net_pcap0,rx_pcap={pcap}", "--", "run",
                   "--metrics-listen", "none", "--duration", "1.5", "-q"]
            proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
            stop = threading.Event()
            answers = []
            path = f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2"
            clients = [threading.Thread(target=poll, args=(path, stop, answers)) for _ in range(3)]
            for c in clients:
                c.start()
            try:
                _, err = proc.communicate(timeout=30)
            finally:
                stop.set()
                for c in clients:
                    c.join()
            if proc.returncode != 0 and "EAL" in err and not answers:
                print(f"SKIP: EAL cannot start here: {err.strip()[:300]}")
                return 77
            if proc.returncode != 0:
                print(f"FAIL: run {run}: exit {proc.returncode} with telemetry clients polling; stderr: {err[-500:]}")
                return 1
            bad = [a for a in answers if a is not None and not isinstance(a, dict)]
            if bad or not any(isinstance(a, dict) and "rx_packets" in a for a in answers):
                print(f"FAIL: run {run}: {len(answers)} answers, unexpected: {bad[:3]}")
                return 1
            print(f"run {run}: exit 0, {len(answers)} telemetry answers "
                  f"({sum(a is None for a in answers)} 'stopped' nulls)")
    print("telemetry at shutdown: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

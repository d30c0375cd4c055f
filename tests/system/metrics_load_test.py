#!/usr/bin/env python3
"""System test: /metrics stays available under idle connections, slow headers and many scrapers.

A live run loops a capture through net_pcap (infinite_rx) while
  1. 8 idle TCP connections and 4 slow-header clients (one header byte every 0.3 s, reconnecting when cut)
     hold the endpoint: 20 sequential scrapes must all succeed, each within 1 s;
  2. 50 concurrent clients scrape every 0.2 s for 8 s: every scrape must succeed (timeout 5 s), and RX
     goes on.
Prints the latencies and the RX rate with and without the scrapers (not asserted: on a small shared
machine the web server's threads and the RX lcore compete for the same CPUs). Exit 77 when EAL cannot start here.
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


def scrape(port, timeout):
    t0 = time.time()
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout).read().decode()
    return text, time.time() - t0


def rx_packets(text):
    return sum(float(m.group(1)) for m in re.finditer(r"^synscope_rx_packets_total\{[^}]*\} (\S+)$", text, re.M))


def idle(port, stop):
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError:
            time.sleep(0.1)
            continue
        s.settimeout(0.2)
        while not stop.is_set():
            try:
                if s.recv(1) == b"":
                    break  # the server cut the idle connection: come back
            except socket.timeout:
                continue
            except OSError:
                break
        s.close()


def slow_headers(port, stop):
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            while not stop.is_set():
                s.sendall(b"X")
                time.sleep(0.3)
        except OSError:
            pass  # cut: reconnect
        finally:
            s.close()


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--gen", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        pcap = os.path.join(work, "mix.pcap")
        subprocess.run([args.gen, "-o", pcap, "-n", "200", "--seed", "4", "--window", "60"], check=True,
                       stderr=subprocess.DEVNULL)
        port = free_port()
        prefix = f"synscope-load-{os.getpid()}"
        proc = subprocess.Popen(
            [args.binary, "-l", "0-1", "--no-huge", "-m", "256", "--no-pci", "--log-level", "lib.eal:warning",
             f"--file-prefix={prefix}", "--vdev", f"net_pcap0,rx_pcap={pcap},infinite_rx=1", "--", "run",
             "--metrics-listen", f"127.0.0.1:{port}", "-q"], stderr=subprocess.PIPE, text=True)
        stop = threading.Event()
        attackers = []
        try:
            deadline = time.time() + 20
            while True:
                try:
                    scrape(port, 1)
                    break
                except OSError:
                    if proc.poll() is not None:
                        err = proc.stderr.read()
                        if "EAL" in err:
                            print(f"SKIP: EAL cannot start here: {err.strip()[:300]}")
                            return 77
                        print(f"FAIL: the live run ended: {err[-300:]}")
                        return 1
                    if time.time() > deadline:
                        print("FAIL: /metrics never answered")
                        return 1
                    time.sleep(0.2)

            # 1. Idle connections and slow headers.
            attackers = [threading.Thread(target=idle, args=(port, stop)) for _ in range(8)]
            attackers += [threading.Thread(target=slow_headers, args=(port, stop)) for _ in range(4)]
            for a in attackers:
                a.start()
            time.sleep(0.5)  # let them take their connections
            latencies, failures = [], []
            for i in range(20):
                try:
                    _, took = scrape(port, 2)
                    latencies.append(took)
                    if took > 1.0:
                        failures.append(f"scrape {i} took {took:.2f} s")
                except OSError as e:
                    failures.append(f"scrape {i}: {e}")
                time.sleep(0.1)
            if failures:
                print(f"FAIL: with 8 idle connections and 4 slow-header clients: {len(failures)} of 20 scrapes "
                      f"failed or were slow: {failures[:3]}")
                return 1
            print(f"idle + slow-header clients: 20/20 scrapes, median {percentile(latencies, 0.5) * 1000:.1f} ms, "
                  f"max {max(latencies) * 1000:.1f} ms")

            # 2. 50 concurrent scrapers for 8 s, while RX runs.
            stop.set()
            for a in attackers:
                a.join()
            attackers = []
            quiet0 = rx_packets(scrape(port, 2)[0])
            time.sleep(2)
            quiet_rate = (rx_packets(scrape(port, 2)[0]) - quiet0) / 2
            rx_before = rx_packets(scrape(port, 2)[0])
            results, errors = [], []
            lock = threading.Lock()

            load_end = time.time() + 8

            def scraper():
                while time.time() < load_end:
                    try:
                        _, took = scrape(port, 5)
                        with lock:
                            results.append(took)
                    except OSError as e:
                        with lock:
                            errors.append(str(e))
                    time.sleep(0.2)

            t0 = time.time()
            clients = [threading.Thread(target=scraper) for _ in range(50)]
            for c in clients:
                c.start()
            for c in clients:
                c.join()
            wall = time.time() - t0
            rx_after = rx_packets(scrape(port, 2)[0])
            if errors or len(results) < 500:
                print(f"FAIL: 50 concurrent scrapers: {len(results)} succeeded, {len(errors)} failed: {errors[:3]}")
                return 1
            if rx_after <= rx_before:
                print(f"FAIL: RX stopped under the scrapes ({rx_before:.0f} -> {rx_after:.0f} packets)")
                return 1
            n = len(results)
            print(f"50 concurrent scrapers: {n}/{n} in {wall:.1f} s, median {percentile(results, 0.5) * 1000:.1f} ms, "
                  f"p99 {percentile(results, 0.99) * 1000:.1f} ms, max {max(results) * 1000:.1f} ms; "
                  f"RX {(rx_after - rx_before) / wall / 1e6:.2f} Mpkt/s during the load, "
                  f"{quiet_rate / 1e6:.2f} Mpkt/s without it")
        finally:
            stop.set()
            for a in attackers:
                a.join()
            proc.send_signal(signal.SIGTERM)
            try:
                proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
        if proc.returncode != 0:
            print(f"FAIL: exit {proc.returncode} after the load")
            return 1
    print("metrics under load: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

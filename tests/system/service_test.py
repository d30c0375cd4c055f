#!/usr/bin/env python3
"""System test: synscope behaves like a service (issue 23's operator cases), against the real binary.

  * systemd: the shipped units pass `systemd-analyze verify` with no warning; a live run under a
    NOTIFY_SOCKET (as systemd starts a Type=notify unit with WatchdogSec) sends READY=1, WATCHDOG=1 at
    least every half interval, and STOPPING=1 on SIGTERM, then exits 0; EAL's log lines stay off stdout.
  * --dump-config is read back by --config and dumps the same text.
  * clear errors naming the culprit: `run` without `--`, a missing rx_pcap, a busy metrics port (errno),
    an IPv6 or named listen address, a bad web config file.
  * a protected endpoint: with --web-config (TLS from a test CA, basic auth), a real Prometheus scrapes
    over https with the right password (up 1) and is refused with a wrong one (up 0, 401); plain http is
    refused.
Usage: service_test.py --binary SYNSCOPE --gen GEN --source ROOT. Exit 77 when EAL cannot start here.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from system_support import eal, fail, free_port, stop  # noqa: E402


def run(cmd, timeout=60, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def expect_error(cmd, code, *needles):
    r = run(cmd)
    out = r.stdout + r.stderr
    if r.returncode != code or any(n not in out for n in needles):
        fail(f"expected exit {code} naming {needles}: {' '.join(cmd)} -> {r.returncode}: {out[-600:]}")
    print(f"ok: exit {code}: {needles[0]}")


def check_units(source, binary, work):
    if shutil.which("systemd-analyze") is None:
        print("skip: systemd-analyze not installed")
        return
    units = os.path.join(work, "units")
    os.makedirs(units)
    for name in ("synscope.service", "synscope-dpdk-setup.service"):
        text = open(os.path.join(source, "packaging", "systemd", name)).read()
        text = text.replace("/usr/local/bin/synscope", binary)
        text = text.replace("/usr/local/libexec/synscope/dpdk-setup.sh", os.path.join(source, "scripts", "dpdk-setup.sh"))
        open(os.path.join(units, name), "w").write(text)
    r = run(["systemd-analyze", "verify"] + [os.path.join(units, n) for n in sorted(os.listdir(units))], cwd=units)
    if r.returncode != 0 or r.stderr.strip():
        fail(f"systemd-analyze verify: exit {r.returncode}: {r.stderr[-800:]}")
    print("ok: systemd-analyze verify: both units clean")
    setup = os.path.join(source, "scripts", "dpdk-setup.sh")
    r = run(["bash", setup, "status"])
    if r.returncode != 0 or "Network devices" not in r.stdout:
        fail(f"dpdk-setup.sh status: exit {r.returncode}: {r.stdout[-300:]}{r.stderr[-300:]}")
    r = run(["bash", setup, "bogus"])
    if r.returncode != 1 or "usage" not in r.stderr:
        fail(f"dpdk-setup.sh with an unknown action: exit {r.returncode}: {r.stderr[-300:]}")
    print("ok: dpdk-setup.sh status reports hugepages and NICs through DPDK's scripts")


def check_notify(binary, gen, work):
    capture = os.path.join(work, "slow.pcap")
    subprocess.run([gen, "-o", capture, "-n", "400", "--seed", "5", "--window", "3600"], check=True,
                   capture_output=True)
    sock_path = os.path.join(work, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(0.2)
    env = dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="1000000")
    env.pop("WATCHDOG_PID", None)
    # Paced replay of an hour of capture at 600x: a run of several seconds that would go on for 6 s.
    proc = subprocess.Popen(
        [binary] + eal(f"synscope-notify-{os.getpid()}", f"net_pcap0,rx_pcap={capture}") +
        ["--", "run", "--clock", "packet", "--pace", "600", "--metrics-listen", "none",
         "--sessions-out", os.path.join(work, "notify.jsonl")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    got = []  # (time, message)
    sent_term = None
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            got.append((time.time(), sock.recv(4096).decode()))
        except socket.timeout:
            pass
        if proc.poll() is not None:
            break
        ready = [t for t, m in got if "READY=1" in m]
        if sent_term is None and ready and time.time() - ready[0] > 2.5:
            proc.send_signal(signal.SIGTERM)
            sent_term = time.time()
    if proc.poll() is None:
        stop([proc])
        fail("the run did not exit within 60 s of its start")
    out, err = proc.communicate()
    try:
        while True:
            got.append((time.time(), sock.recv(4096).decode()))
    except (socket.timeout, BlockingIOError):
        pass
    if proc.returncode != 0:
        fail(f"the notified run exited {proc.returncode}: {err[-600:]}")
    if "EAL" in out:
        fail(f"EAL log lines on stdout: {out[:300]}")
    ready = [t for t, m in got if "READY=1" in m]
    pings = [t for t, m in got if "WATCHDOG=1" in m]
    stopping = [t for t, m in got if "STOPPING=1" in m]
    if len(ready) != 1 or "STATUS=running" not in next(m for _, m in got if "READY=1" in m):
        fail(f"expected one READY=1 with a STATUS: {got}")
    if sent_term is None or not stopping or stopping[0] < sent_term:
        fail(f"no STOPPING=1 after SIGTERM: {got}")
    between = [t for t in pings if ready[0] <= t <= sent_term]
    if len(between) < 3:
        fail(f"{len(between)} WATCHDOG=1 in {sent_term - ready[0]:.1f} s with WatchdogSec 1 s: {got}")
    gaps = [b - a for a, b in zip(between, between[1:])]
    if max(gaps) > 1.0:  # systemd would have killed the service
        fail(f"a watchdog gap of {max(gaps):.2f} s exceeds WatchdogSec 1 s")
    print(f"ok: sd_notify: READY, {len(between)} WATCHDOG (longest gap {max(gaps):.2f} s), STOPPING, exit 0; "
          f"no EAL line on stdout")


def check_config_round_trip(binary, work):
    first = run([binary, "--", "run", "--dump-config", "--bucket", "30", "--sessions-out", "/tmp/s.jsonl",
                 "--alert-servers", "7", "--internal-nets", "10.0.0.0/8,fd00::/8"])
    if first.returncode != 0 or "[run]" not in first.stdout:
        fail(f"--dump-config: exit {first.returncode}: {first.stderr[-400:]}")
    path = os.path.join(work, "dumped.toml")
    open(path, "w").write(first.stdout)
    second = run([binary, "--", "run", "--config", path, "--dump-config"])
    if second.returncode != 0 or second.stdout != first.stdout:
        fail(f"--dump-config did not round-trip through --config: exit {second.returncode}: {second.stderr[-400:]}")
    if 'bucket=30' not in second.stdout or 'alert-servers=7' not in second.stdout:
        fail("the dump read back lost the values it was given")
    print("ok: --dump-config round-trips through --config")


def check_errors(binary, work):
    expect_error([binary, "--no-huge", "-m", "256", "run", "--duration", "1"], 1, "before `run` missing")
    expect_error([binary] + eal("synscope-svc-e1", f"net_pcap0,rx_pcap={work}/missing.pcap") + ["--", "run"], 2,
                 "net_pcap0", f"{work}/missing.pcap", "No such file or directory")
    expect_error([binary] + eal("synscope-svc-e2", "net_af_packet0,iface=nosuch0") + ["--", "run"], 2,
                 "net_af_packet0", "nosuch0", "No such device")
    expect_error([binary, "--", "run", "--metrics-listen", "[::1]:9355"], 1, "[::1]:9355", "IPv6")
    expect_error([binary, "--", "run", "--metrics-listen", "localhost:9355"], 1, "localhost", "not an IPv4 address")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    expect_error([binary] + eal("synscope-svc-e3", "net_null0") +
                 ["--", "run", "--metrics-listen", f"127.0.0.1:{port}", "--duration", "1"], 6,
                 f"127.0.0.1:{port}", "Address already in use")
    busy.close()
    bad = os.path.join(work, "bad-web.yml")
    open(bad, "w").write("tls_server_config:\n  cert_file: /nonexistent/cert.pem\n  key_file: /nonexistent/key.pem\n")
    expect_error([binary, "--", "run", "--web-config", bad], 1, "--web-config", "/nonexistent/cert.pem")


def make_tls(work):
    """A test CA and a server certificate for 127.0.0.1; returns (ca, cert, key)."""
    d = os.path.join(work, "tls")
    os.makedirs(d)
    ca, ca_key, crt, key, csr, ext = (os.path.join(d, n) for n in ("ca.crt", "ca.key", "srv.crt", "srv.key",
                                                                   "srv.csr", "ext"))
    openssl = lambda *a: subprocess.run(["openssl"] + list(a), check=True, capture_output=True)  # noqa: E731
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2", "-subj",
            "/CN=synscope test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    open(ext, "w").write("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", crt, "-days", "2",
            "-extfile", ext)
    return ca, crt, key


def bcrypt(password):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1024))


def prom_query(port, expr):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    return json.load(urllib.request.urlopen(url, timeout=5))["data"]["result"]


def check_protected_endpoint(binary, gen, work):
    for tool in ("openssl", "prometheus", "promtool", "curl"):
        if shutil.which(tool) is None:
            print(f"skip: TLS scrape ({tool} not installed)")
            return
    ca, crt, key = make_tls(work)
    web = os.path.join(work, "web.yml")
    open(web, "w").write(f"tls_server_config:\n  cert_file: {crt}\n  key_file: {key}\n"
                         f"basic_auth_users:\n  prometheus: '{bcrypt('right horse')}'\n")
    r = run(["promtool", "check", "web-config", web])
    if r.returncode != 0:
        fail(f"promtool does not accept the web config synscope reads: {r.stdout}{r.stderr}")
    capture = os.path.join(work, "tls.pcap")
    subprocess.run([gen, "-o", capture, "-n", "300", "--seed", "9", "--window", "60"], check=True,
                   capture_output=True)
    port, prom_port = free_port(), free_port()
    syn = subprocess.Popen(
        [binary] + eal(f"synscope-svc-tls-{os.getpid()}", f"net_pcap0,rx_pcap={capture},infinite_rx=1") +
        ["--", "run", "--clock", "tsc", "--mbufs", "16384", "--metrics-listen", f"127.0.0.1:{port}", "--web-config",
         web],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    procs = [syn]
    try:
        for _ in range(100):
            if run(["curl", "-s", "-o", "/dev/null", "--cacert", ca, f"https://127.0.0.1:{port}/-/healthy"]).returncode == 0:
                break
            if syn.poll() is not None:
                fail(f"synscope exited {syn.returncode}: {syn.stderr.read()[-600:]}")
            time.sleep(0.2)
        code = lambda *a: run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"] + list(a)).stdout  # noqa: E731
        if code("--cacert", ca, f"https://127.0.0.1:{port}/metrics") != "401":
            fail("a scrape without credentials was not refused with 401")
        if code("--cacert", ca, "-u", "prometheus:wrong", f"https://127.0.0.1:{port}/api/v1/top") != "401":
            fail("a wrong password was not refused with 401")
        if code("--cacert", ca, "-u", "prometheus:right horse", f"https://127.0.0.1:{port}/metrics") != "200":
            fail("the right password was not let in")
        if code(f"http://127.0.0.1:{port}/metrics") == "200":
            fail("plain http was served on the TLS port")
        pw_right, pw_wrong = os.path.join(work, "pw-right"), os.path.join(work, "pw-wrong")
        open(pw_right, "w").write("right horse")
        open(pw_wrong, "w").write("wrong horse")
        job = lambda name, pw: {  # noqa: E731
            "job_name": name, "scheme": "https", "scrape_interval": "1s", "scrape_timeout": "900ms",
            "tls_config": {"ca_file": ca}, "basic_auth": {"username": "prometheus", "password_file": pw},
            "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
        cfg = os.path.join(work, "prometheus.yml")
        open(cfg, "w").write(json.dumps({"global": {"scrape_interval": "1s"},
                                         "scrape_configs": [job("right", pw_right), job("wrong", pw_wrong)]}))
        prom = subprocess.Popen(["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={work}/tsdb",
                                 f"--web.listen-address=127.0.0.1:{prom_port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(prom)
        up = {}
        for _ in range(60):
            time.sleep(1)
            try:
                up = {r["metric"]["job"]: r["value"][1] for r in prom_query(prom_port, "up")}
                packets = prom_query(prom_port, 'sum(synscope_rx_packets_total{job="right"})')
            except Exception:  # noqa: BLE001 (Prometheus still starting)
                continue
            if up.get("right") == "1" and up.get("wrong") == "0" and packets and float(packets[0]["value"][1]) > 0:
                break
        else:
            fail(f"Prometheus over TLS: up {up}; expected right=1 (with synscope's packets), wrong=0")
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{prom_port}/api/v1/targets", timeout=5))
        wrong = [t for t in targets["data"]["activeTargets"] if t["labels"]["job"] == "wrong"]
        if not wrong or "401" not in wrong[0].get("lastError", ""):
            fail(f"the wrong password's scrape error does not say 401: {wrong}")
        print(f"ok: TLS + basic auth: Prometheus up right=1 wrong=0 ({wrong[0]['lastError'][:60]}...); curl "
              f"refused without/with a wrong password; plain http refused")
    finally:
        stop(procs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--source", required=True)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="synscope-service-")
    try:
        probe = run([a.binary] + eal(f"synscope-svc-probe-{os.getpid()}", "net_null0") + ["--", "run", "--duration", "0.2",
                                                                          "--metrics-listen", "none", "-q"])
        if probe.returncode != 0:
            print(f"skip: EAL cannot start here: {probe.stderr[-300:]}")
            sys.exit(77)
        check_config_round_trip(a.binary, work)
        check_errors(a.binary, work)
        check_units(a.source, a.binary, work)
        check_notify(a.binary, a.gen, work)
        check_protected_endpoint(a.binary, a.gen, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()

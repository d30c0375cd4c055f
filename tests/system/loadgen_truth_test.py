#!/usr/bin/env python3
"""System test: synscope judges synscope-loadgen's traffic exactly as the generator's truth says.

(a) The generator writes a pcap with every session kind (SF, REJ, S0 with SYN retransmits, RSTO, RSTR, SH,
spoofed SYN flood), IPv4 and IPv6, a VLAN tag, IMIX sizes; `synscope replay` must give the truth's sessions
per conn_state and perspective (from --sessions-out), failed sessions per perspective (its summary) and
sessions and failed sessions per 1-second bucket and perspective (--buckets-out).
(b) Live: the generator (memif server) sends the same kind of mix into synscope (memif client, TSC clock);
once synscope has stopped (idle exit, which flushes every session), its counts must equal the truth, and it
must have received every packet the generator sent. Exit 77 when DPDK's EAL or net_memif cannot run here.
"""
import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from system_support import fail, stop  # noqa: E402

MIX = "normal=30,refused=12,unanswered=12,client_reset=12,server_reset=12,half_open=10,syn_flood=12"


def truth_states(truth):
    """{(conn_state, perspective): n} without zeros."""
    return {(s, p): n for s, by in truth["sessions_by_state"].items() for p, n in by.items() if n}


def session_states(path):
    c = collections.Counter()
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            c[(r["conn_state"], r["perspective"])] += 1
    return dict(c)


def summary_failed(stderr):
    m = re.search(r"failed sessions: (\d+) \(inbound=(\d+) outbound=(\d+) private=(\d+) edge=(\d+)\)", stderr)
    if not m:
        fail(f"no failed-sessions line in synscope's summary:\n{stderr}")
    return {"inbound": int(m.group(2)), "outbound": int(m.group(3)), "private": int(m.group(4)),
            "edge": int(m.group(5))}


def compare(what, truth, got):
    if truth != got:
        keys = sorted(set(truth) | set(got))
        diff = {k: (truth.get(k, 0), got.get(k, 0)) for k in keys if truth.get(k, 0) != got.get(k, 0)}
        fail(f"{what}: truth != synscope, (truth, synscope) by key: {diff}")
    print(f"ok: {what}: {sum(truth.values())} equal to the truth over {len(truth)} keys")


def check_pcap(a, work):
    cap, truth_path = os.path.join(work, "mix.pcap"), os.path.join(work, "truth.json")
    r = subprocess.run([a.loadgen, "--pcap-out", cap, "--truth-out", truth_path, "--sessions", "40000", "--flows",
                        "3000", "--rate", "20000", "--mix", MIX, "--ipv6-share", "0.3", "--vlan", "12",
                        "--frame-size", "imix", "--bucket-seconds", "1", "--seed", "11"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        fail(f"loadgen --pcap-out exited {r.returncode}: {r.stderr}")
    truth = json.load(open(truth_path))
    if not truth["exact"] or truth["sessions"] != 40000:
        fail(f"pcap truth not exact or wrong session count: {truth['sessions']}")
    if any(n == 0 for n in truth["sessions_by_kind"].values()):
        fail(f"a session kind is missing from the mix: {truth['sessions_by_kind']}")
    sessions, buckets = os.path.join(work, "rep.jsonl"), os.path.join(work, "rep.buckets")
    r = subprocess.run([a.binary, "replay", cap, "--bucket", "1", "--bucket-settle", "30", "--sessions-out",
                        sessions, "--buckets-out", buckets], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        fail(f"synscope replay exited {r.returncode}: {r.stderr}")
    frames = int(re.search(r"frames: (\d+) received", r.stderr).group(1))
    if frames != truth["packets"]:
        fail(f"replay read {frames} frames, the generator wrote {truth['packets']}")
    compare("replay: sessions by conn_state and perspective", truth_states(truth), session_states(sessions))
    compare("replay: failed sessions by perspective", {k: v for k, v in truth["failed_by_perspective"].items() if v},
            {k: v for k, v in summary_failed(r.stderr).items() if v})
    got_s, got_f = collections.Counter(), collections.Counter()
    with open(buckets) as f:
        for line in f:
            b = json.loads(line)
            if b["sessions"]:
                got_s[(int(b["ts"]), b["perspective"])] += b["sessions"]
            if b["failed"]:
                got_f[(int(b["ts"]), b["perspective"])] += b["failed"]
            if b["late"]:
                fail(f"bucket {b['ts']} {b['perspective']} has {b['late']} late sessions (settle too short)")
    want_s = {(int(round(b["ts"])), b["perspective"]): b["sessions"] for b in truth["buckets"] if b["sessions"]}
    want_f = {(int(round(b["ts"])), b["perspective"]): b["failed"] for b in truth["buckets"] if b["failed"]}
    if len({ts for ts, _ in want_s}) < 2:
        fail(f"the pcap spans fewer than two buckets: {sorted(want_s)}")
    compare("replay: sessions by 1-s bucket and perspective", want_s, dict(got_s))
    compare("replay: failed sessions by 1-s bucket and perspective", want_f, dict(got_f))


def check_live(a, work):
    sock = os.path.join(work, "memif.sock")
    truth_path, sessions = os.path.join(work, "live-truth.json"), os.path.join(work, "live.jsonl")
    eal = ["--no-huge", "--no-pci", "--log-level", "lib.eal:warning"]  # memif needs the mp channel: no --no-shconf
    gen = subprocess.Popen([a.loadgen, "-l", "0", "-m", "256", *eal, f"--file-prefix=lg-gen-{os.getpid()}",
                            "--vdev", f"net_memif0,role=server,socket={sock},socket-abstract=no", "--", "--sessions", "20000",
                            "--flows", "1000", "--rate", "40000", "--mix", MIX, "--ipv6-share", "0.3",
                            "--link-wait", "20", "--linger", "30", "--truth-out", truth_path, "--seed", "12"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    procs = [gen]
    try:
        for _ in range(200):  # the server creates the socket; the client then connects to it
            if os.path.exists(sock) or gen.poll() is not None:
                break
            time.sleep(0.05)
        if not os.path.exists(sock):
            stop([gen], timeout=5)
            _, err = gen.communicate(timeout=10)
            if "EAL" not in err and "memif" not in err:
                fail(f"the generator exited {gen.returncode} before opening its port:\n{err}")
            print(f"SKIP: DPDK's EAL or net_memif cannot run here (generator exit {gen.returncode}):\n{err}")
            sys.exit(77)
        live = subprocess.Popen([a.binary, "-l", "0-1", "-m", "512", *eal, f"--file-prefix=lg-syn-{os.getpid()}",
                                 "--vdev", f"net_memif0,role=client,socket={sock},socket-abstract=no", "--", "run", "--idle-exit", "3",
                                 "--metrics-listen", "none", "--sessions-out", sessions],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(live)
        _, lerr = live.communicate(timeout=45)
        stop([gen], timeout=10)  # SIGTERM ends its linger; the truth is written before it
        _, gerr = gen.communicate(timeout=10)
    finally:
        stop(procs, timeout=5)
    if "EAL" in lerr and live.returncode != 0 and "rx:" not in lerr:
        print(f"SKIP: synscope's EAL could not start here:\n{lerr}")
        sys.exit(77)
    if live.returncode != 0:
        fail(f"synscope run exited {live.returncode}:\n{lerr}")
    if not os.path.exists(truth_path):
        fail(f"the generator wrote no truth (exit {gen.returncode}):\n{gerr}")
    truth = json.load(open(truth_path))
    if not truth["exact"] or truth["tx_dropped"] != 0:
        fail(f"live truth not exact: {gerr}")
    m = re.search(r"rx: (\d+) packets", lerr)
    if not m or int(m.group(1)) != truth["packets"]:
        fail(f"synscope received {m.group(1) if m else '?'} packets, the generator sent {truth['packets']}")
    print(f"ok: live: synscope received all {truth['packets']} packets")
    compare("live: sessions by conn_state and perspective", truth_states(truth), session_states(sessions))
    compare("live: failed sessions by perspective", {k: v for k, v in truth["failed_by_perspective"].items() if v},
            {k: v for k, v in summary_failed(lerr).items() if v})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--loadgen", required=True)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="synscope-loadgen-")
    try:
        check_pcap(a, work)
        check_live(a, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Integration test: live mode on net_memif with two RX queues and two RX lcores.

A feeder process (tests/integration/memif_feeder.cpp, memif server) sends a generated capture over two
queue pairs, choosing each frame's queue by a symmetric flow hash as a NIC's symmetric RSS would; synscope
(memif client, --rx-queues 2, one RX lcore per queue, TSC clock) must judge every connection exactly as
replay does (same endpoints, conn_state and history), receive every frame, and see both queues used.
Exit 77 when EAL cannot start here."""
import argparse, atexit, collections, json, os, re, shutil, subprocess, sys, tempfile, time

def verdicts(path):
    return collections.Counter((r["id.orig_h"], r["id.orig_p"], r["id.resp_h"], r["id.resp_p"], r["conn_state"], r["history"])
                               for r in map(json.loads, open(path)))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--feeder", required=True)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="synscope-memif-")
    atexit.register(shutil.rmtree, work, ignore_errors=True)
    cap, sock = os.path.join(work, "mix.pcap"), os.path.join(work, "memif.sock")
    subprocess.run([a.gen, "-o", cap, "-n", "3000", "--seed", "8", "--window", "900"], check=True, stderr=subprocess.DEVNULL)
    r = subprocess.run([a.binary, "replay", cap, "--sessions-out", os.path.join(work, "rep.jsonl")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    frames = int(re.search(r"frames: (\d+) received", r.stderr).group(1))
    eal = ["--no-huge", "--no-pci", "--log-level", "lib.eal:warning"]  # memif needs the mp channel: no --no-shconf
    feeder = subprocess.Popen([a.feeder, "-l", "1", "-m", "256", *eal, f"--file-prefix=memif-feed-{os.getpid()}",
                               "--vdev", f"net_memif0,role=server,socket={sock}", "--", cap, "2"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(100):  # the server creates the socket; the client then connects to it
        if os.path.exists(sock) or feeder.poll() is not None:
            break
        time.sleep(0.05)
    live = subprocess.run([a.binary, "--lcores", "0@0,1@1,2@1", "-m", "512", *eal, f"--file-prefix=memif-syn-{os.getpid()}",
                           "--vdev", f"net_memif0,role=client,socket={sock}", "--", "run", "--rx-queues", "2",
                           "--idle-exit", "3", "--metrics-listen", "none", "--sessions-out", os.path.join(work, "live.jsonl")],
                          capture_output=True, text=True, timeout=180)
    out, err = feeder.communicate(timeout=60)  # closes its stdin: the feeder disconnects only now
    if live.returncode != 0 and "EAL" in live.stderr and "rx:" not in live.stderr:
        print("SKIP: EAL cannot start here:\n" + live.stderr); return 77
    assert live.returncode == 0, f"synscope exited {live.returncode}: {live.stderr}"
    assert feeder.returncode == 0 and f"sent {frames}" in out, (feeder.returncode, out, err)
    rx = int(re.search(r"rx: (\d+) packets", live.stderr).group(1))
    assert rx == frames, f"received {rx} of {frames} frames\n{live.stderr}"
    per_queue = [int(n) for n in re.findall(r"port0/q\d@lcore\d+=(\d+)", live.stderr)]
    assert len(per_queue) == 2 and min(per_queue) > frames // 5, f"queues not both used: {per_queue}"
    lv, rv = verdicts(os.path.join(work, "live.jsonl")), verdicts(os.path.join(work, "rep.jsonl"))
    assert lv == rv, f"live vs replay verdicts differ: {list((lv - rv).items())[:3]} / {list((rv - lv).items())[:3]}"
    print(f"ok: {frames} frames over 2 memif queues ({per_queue}), {sum(lv.values())} sessions judged as replay does")
    return 0

if __name__ == "__main__":
    sys.exit(main())

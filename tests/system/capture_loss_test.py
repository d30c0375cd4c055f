#!/usr/bin/env python3
"""System test of content gaps and capture loss, on captures with a known loss.

A generated capture is copied with a seeded share of its data segments removed (what a dropping tap does:
the endpoints still acknowledge them). Then:
  * replay of the intact capture reports no gap, no missed_bytes and no 'G'/'g' letter, and counts ACKs;
  * replay of the lossy one reports gaps, and its sessions' missed_bytes add up to the payload removed from
    connections that were established when the loss was acknowledged (every removed byte of a session
    with missed bytes is accounted, none is invented);
  * a live run with both captures on two net_pcap ports (0: intact, 1: lossy) exports
    synscope_capture_loss_acks_total and _gaps_total per port, equal to the two replays' counts, and no gap
    on port 0.
Exit 77 when EAL cannot start here."""
import argparse, ipaddress, json, os, random, re, signal, struct, subprocess, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from system_support import free_port  # noqa: E402


def drop_data_segments(src, dst, share, seed):
    """Copies the Ethernet pcap `src` to `dst` without a `share` of its TCP segments that carry payload and
    no SYN/FIN/RST; returns {(src ip, sport, dst ip, dport): bytes removed}."""
    rng = random.Random(seed)
    removed = {}
    with open(src, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    assert magic in (0xA1B2C3D4, 0xA1B23C4D), "little-endian pcap expected from synscope-gen"
    out = [data[:24]]
    pos = 24
    while pos + 16 <= len(data):
        incl = struct.unpack("<I", data[pos + 8:pos + 12])[0]
        rec, frame = data[pos:pos + 16 + incl], data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        ethertype = struct.unpack(">H", frame[12:14])[0]
        ip = frame[14:]
        if ethertype == 0x0800 and ip[9] == 6:
            ihl, total = (ip[0] & 15) * 4, struct.unpack(">H", ip[2:4])[0]
            src_a, dst_a = str(ipaddress.ip_address(ip[12:16])), str(ipaddress.ip_address(ip[16:20]))
        elif ethertype == 0x86DD and ip[6] == 6:
            ihl, total = 40, 40 + struct.unpack(">H", ip[4:6])[0]
            src_a, dst_a = str(ipaddress.ip_address(ip[8:24])), str(ipaddress.ip_address(ip[24:40]))
        else:
            out.append(rec)
            continue
        tcp = ip[ihl:]
        if len(tcp) < 20:  # the generator's malformed frames
            out.append(rec)
            continue
        payload = total - ihl - (tcp[12] >> 4) * 4
        if payload > 0 and not (tcp[13] & 0x07) and rng.random() < share:
            key = (src_a, struct.unpack(">H", tcp[0:2])[0], dst_a, struct.unpack(">H", tcp[2:4])[0])
            removed[key] = removed.get(key, 0) + payload
            continue
        out.append(rec)
    with open(dst, "wb") as f:
        f.write(b"".join(out))
    return removed


def replay(binary, cap, sessions):
    r = subprocess.run([binary, "replay", cap, "--sessions-out", sessions], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    frames = int(re.search(r"frames: (\d+) received", r.stderr).group(1))
    m = re.search(r"capture loss: \S+ \((\d+) of (\d+) ACKs", r.stderr)
    gaps, acks = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    return frames, gaps, acks, [json.loads(l) for l in open(sessions)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--gen", required=True)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="synscope-loss-")
    clean, lossy = os.path.join(work, "clean.pcap"), os.path.join(work, "lossy.pcap")
    full = os.path.join(work, "full.pcap")
    for path, seed in ((clean, 31), (full, 32)):
        subprocess.run([a.gen, "-o", path, "-n", "600", "--seed", str(seed), "--window", "300", "--exchanges", "4",
                        "--microseconds"], check=True, stderr=subprocess.DEVNULL)
    removed = drop_data_segments(full, lossy, 0.05, seed=7)
    assert removed, "nothing removed"

    c_frames, c_gaps, c_acks, c_sessions = replay(a.binary, clean, os.path.join(work, "c.jsonl"))
    assert c_acks > 0, "the intact capture counted no ACK"
    assert c_gaps == 0, f"intact capture: {c_gaps} gap events"
    assert all(s["missed_bytes"] == 0 and not re.search("[Gg]", s["history"]) for s in c_sessions)

    l_frames, l_gaps, l_acks, l_sessions = replay(a.binary, lossy, os.path.join(work, "l.jsonl"))
    assert l_gaps > 0, "the lossy capture reported no gap"
    missed = 0
    with_gaps = 0
    for s in l_sessions:
        if s["missed_bytes"] == 0:
            continue
        with_gaps += 1
        assert re.search("[Gg]", s["history"]), s
        cut = removed.get((s["id.orig_h"], s["id.orig_p"], s["id.resp_h"], s["id.resp_p"]), 0) + \
            removed.get((s["id.resp_h"], s["id.resp_p"], s["id.orig_h"], s["id.orig_p"]), 0)
        assert 0 < s["missed_bytes"] <= cut, f"missed_bytes {s['missed_bytes']} vs {cut} removed: {s}"
        missed += s["missed_bytes"]
    total_removed = sum(removed.values())
    assert with_gaps > 0 and missed >= total_removed // 2, f"missed {missed} of {total_removed} removed bytes"
    print(f"replay: intact {c_acks} ACKs, 0 gaps; lossy {l_gaps} of {l_acks} ACKs for missing data, "
          f"missed_bytes {missed} of {total_removed} removed in {with_gaps} sessions")

    port = free_port()
    # One RX lcore per port: each engine keeps its own capture's packet clock (two captures read at their own
    # pace would move one clock for both, and timers would end sessions where the replays do not).
    cmd = [a.binary, "--lcores", "0@0,(1-2)@1", "--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--log-level", "lib.eal:warning",
           f"--file-prefix=synscope-loss-{os.getpid()}", "--vdev", f"net_pcap0,rx_pcap={clean}",
           "--vdev", f"net_pcap1,rx_pcap={lossy}", "--", "run", "--clock", "packet",
           "--metrics-listen", f"127.0.0.1:{port}", "--sessions-out", os.path.join(work, "live.jsonl")]
    err = open(os.path.join(work, "live.err"), "w")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline, want, got = time.time() + 60, None, None
        while time.time() < deadline:
            if proc.poll() is not None:
                log = open(os.path.join(work, "live.err")).read()
                if "EAL" in log and "error" in log.lower():
                    print("SKIP: EAL cannot start here:\n" + log)
                    return 77
                raise AssertionError(f"synscope exited {proc.returncode}: {log[-2000:]}")
            try:
                text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
            except OSError:
                time.sleep(0.2)
                continue

            def by_port(name):
                return {m.group(1): float(m.group(2))
                        for m in re.finditer(rf'^{name}{{port="(\d+)"}} (\S+)$', text, re.M)}
            rx = sum(float(v) for v in re.findall(r"^synscope_rx_packets_total{[^}]*} (\S+)$", text, re.M))
            got = (by_port("synscope_capture_loss_acks_total"), by_port("synscope_capture_loss_gaps_total"))
            want = ({"0": c_acks, "1": l_acks}, {"0": 0, "1": l_gaps})
            if rx == c_frames + l_frames and got == want:
                break
            time.sleep(0.2)
        assert got == want, f"per-port capture loss {got}, expected {want}"
        print(f"live: port 0 {c_acks:.0f} ACKs, 0 gaps; port 1 {l_gaps} of {l_acks} ACKs for missing data")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        err.close()
    assert proc.returncode == 0, open(os.path.join(work, "live.err")).read()[-2000:]
    return 0


if __name__ == "__main__":
    sys.exit(main())

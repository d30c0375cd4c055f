#!/usr/bin/env python3
"""System test of IPFIX export: `synscope replay --sessions-out S --ipfix-out URL` against real collectors.

1. UDP into a real nfcapd (nfdump 1.7.1): `nfdump -o csv` must list exactly the sessions of --sessions-out:
   same 5-tuples, packets and IP bytes per direction (ipkt/ibyt the originator's, opkt/obyt the
   responder's), and the originator's flags (SYN/FIN/RST from the counts, ACK from the history letters).
2. A file: export (biflow, then uniflow): `ipfixDump --rfc5610` must show each session's enterprise
   elements (connState, history, sessionEnd, sessionRemoved, perspective, missedBytes) equal to the JSON line with the
   same uid, flowEndReason mapped from `end`, and two records per session in uniflow mode.
3. TCP: nfcapd 1.7.1 listens on UDP only, so a small Python listener takes the TCP stream, saves its bytes
   (an IPFIX TCP stream is a sequence of messages, as an IPFIX file is) and ipfixDump reads them: every
   session arrives once, with its uid and conn_state.
4. No collector on the TCP port: the replay still exits 0, the summary counts every session dropped, stderr
   names the destination and errno once, and --sessions-out is complete. A bad URL is a usage error (exit
   1) naming the option and value; a file that cannot be created is an output error (exit 4).
5. Live (`run` on a net_pcap vdev) with no collector: /metrics shows synscope_output_dropped_records_total
   {output="ipfix"} moving and synscope_output_dropping{output="ipfix"} 1, the run exits 0 saying every
   session was dropped, and --sessions-out is complete. Skipped (this part only) when EAL cannot start here.
Exit 77 when nfcapd, nfdump or ipfixDump is missing (packages nfdump, libfixbuf-tools).
Usage: ipfix_test.py SYNSCOPE SYNSCOPE_GEN
"""
import collections, glob, ipaddress, json, os, re, shutil, signal, socket, subprocess, sys, tempfile, threading, time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from system_support import eal, fail, free_port  # noqa: E402

synscope, gen = sys.argv[1:3]
for tool in ("nfcapd", "nfdump", "ipfixDump"):
    if shutil.which(tool) is None:
        print(f"SKIP: {tool} is not installed (scripts/install-deps.sh installs nfdump and libfixbuf-tools)")
        sys.exit(77)

FLOW_END = {"fin": 3, "rst_orig": 3, "rst_resp": 3, "reused": 3, "idle": 1, "evicted": 5, "end_of_input": 4,
            "shutdown": 4}


def replay(cap, *args, expect=0):
    r = subprocess.run([synscope, "replay", cap, *args], capture_output=True, text=True, timeout=120)
    if r.returncode != expect:
        fail(f"replay {' '.join(args)}: exit {r.returncode} (expected {expect}): {r.stderr}")
    return r


def orig_flags(s):
    """nfdump's flag string (CEUAPRSF) of the originator's tcpControlBits as synscope derives them."""
    hist = s["history"]
    flags = {"A": "A" in hist or "H" in hist, "R": s["orig_rst"] > 0, "S": s["orig_syn"] > 0, "F": s["orig_fin"] > 0}
    return "".join(c if flags.get(c) else "." for c in "CEUAPRSF")


def five_tuple(sa, da, sp, dp):
    return (ipaddress.ip_address(sa), ipaddress.ip_address(da), int(sp), int(dp))


def ipfix_dump_records(path):
    """Data records of templates 256-259 from ipfixDump --rfc5610 -d, as dicts of element name -> text."""
    r = subprocess.run(["ipfixDump", "--rfc5610", "-d", "-i", path], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        fail(f"ipfixDump {path}: {r.stderr}")
    records, cur = [], None
    for line in r.stdout.splitlines():
        m = re.match(r"\s*count: \d+\s+tid:\s+(\d+)", line)
        if m:
            cur = {"tid": int(m.group(1))}
            records.append(cur)
            continue
        m = re.match(r"\s*\([\d/]+\)(?: \(S\))?\s+(\w+) : (.*)$", line)
        if m and cur is not None:
            name, value = m.group(1), m.group(2)
            sm = re.match(r"\(len: \d+\) ?(.*)$", value)
            cur[name] = sm.group(1) if sm else value.strip()
    return [rec for rec in records if 256 <= rec["tid"] <= 259]


def check_enterprise(records, sessions, what):
    by_uid = {s["uid"]: s for s in sessions}
    seen = collections.Counter()
    for rec in records:
        uid = rec.get("uid")
        if uid not in by_uid:
            fail(f"{what}: record with unknown uid {uid!r}: {rec}")
        s = by_uid[uid]
        seen[uid] += 1
        want = {"connState": s["conn_state"], "history": s["history"], "sessionEnd": s["end"],
                "sessionRemoved": s["removed"], "perspective": s["perspective"], "missedBytes": str(s["missed_bytes"]),
                "failureReason": s["reason"] or "", "flowEndReason": str(FLOW_END[s["end"]])}
        for k, v in want.items():
            if rec.get(k) != v:
                fail(f"{what}: uid {uid}: {k} {rec.get(k)!r} != {v!r}")
    return seen


with tempfile.TemporaryDirectory() as work:
    cap = os.path.join(work, "mixed.pcap")
    r = subprocess.run([gen, "-o", cap, "-n", "600", "--seed", "23", "--window", "300", "--ipv6-share", "0.3"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"synscope-gen: {r.stderr}")

    # 1. UDP into nfcapd.
    flows = os.path.join(work, "flows")
    os.mkdir(flows)
    port = free_port()
    log = open(os.path.join(work, "nfcapd.log"), "w")
    nfcapd = subprocess.Popen(["nfcapd", "-b", "127.0.0.1", "-p", str(port), "-w", flows, "-t", "3600",
                               "-B", "8000000"], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 10
        while "Startup" not in open(log.name).read():
            if time.time() > deadline or nfcapd.poll() is not None:
                fail(f"nfcapd did not start: {open(log.name).read()}")
            time.sleep(0.05)
        sessions_path = os.path.join(work, "s.json")
        r = replay(cap, "--sessions-out", sessions_path, "--ipfix-out", f"udp://127.0.0.1:{port}")
        m = re.search(r"ipfix: (\d+) sessions written, (\d+) dropped", r.stderr)
        sessions = [json.loads(line) for line in open(sessions_path)]
        if not m or int(m.group(1)) != len(sessions) or int(m.group(2)) != 0:
            fail(f"UDP summary: expected {len(sessions)} written, 0 dropped: {r.stderr}")
        time.sleep(0.5)  # let nfcapd read the last datagrams before it is stopped
    finally:
        nfcapd.send_signal(signal.SIGTERM)
        nfcapd.wait(timeout=15)
    files = [f for f in glob.glob(os.path.join(flows, "nfcapd.*")) if not f.endswith("current")]
    if len(files) != 1:
        fail(f"nfcapd wrote {files}: {open(log.name).read()}")
    r = subprocess.run(["nfdump", "-r", files[0], "-o", "csv", "-q"], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        fail(f"nfdump: {r.stderr}")
    header = "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt".split(",")
    got = collections.Counter()
    for line in r.stdout.splitlines():
        cols = line.split(",")
        if len(cols) < len(header) or not cols[0][:1].isdigit():
            continue
        row = dict(zip(header, cols))
        if row["pr"] != "TCP":
            fail(f"nfdump: protocol {row['pr']} in {line}")
        got[(five_tuple(row["sa"], row["da"], row["sp"], row["dp"]), int(row["ipkt"]), int(row["ibyt"]),
             int(row["opkt"]), int(row["obyt"]), row["flg"])] += 1
    want = collections.Counter(
        (five_tuple(s["id.orig_h"], s["id.resp_h"], s["id.orig_p"], s["id.resp_p"]), s["orig_pkts"],
         s["orig_ip_bytes"], s["resp_pkts"], s["resp_ip_bytes"], orig_flags(s)) for s in sessions)
    if got != want:
        missing, extra = want - got, got - want
        fail(f"nfdump vs --sessions-out: {sum(missing.values())} missing, e.g. {list(missing)[:3]}; "
             f"{sum(extra.values())} unexpected, e.g. {list(extra)[:3]}")
    v6 = sum(1 for s in sessions if ":" in s["id.orig_h"])
    print(f"udp: nfdump shows the {len(sessions)} sessions of --sessions-out ({v6} IPv6), counts and flags equal")

    # 2. file: biflow and uniflow, read by ipfixDump.
    for mode, per_session in (("biflow", 1), ("uniflow", 2)):
        # uids are random per run: each run is compared with its own --sessions-out.
        out, run_sessions = os.path.join(work, f"{mode}.ipfix"), os.path.join(work, f"{mode}.json")
        replay(cap, "-q", "--sessions-out", run_sessions, "--ipfix-out", f"file:{out}", "--ipfix-mode", mode,
               "--ipfix-domain", "77")
        sessions = [json.loads(line) for line in open(run_sessions)]
        records = ipfix_dump_records(out)
        seen = check_enterprise(records, sessions, f"file {mode}")
        if len(seen) != len(sessions) or any(n != per_session for n in seen.values()):
            fail(f"file {mode}: {len(records)} records for {len(seen)} uids; want {per_session} for each of "
                 f"{len(sessions)}")
        if mode == "uniflow":
            # The second record of a session is the responder's direction.
            by_uid = {s["uid"]: s for s in sessions}
            for rec in records[1::2]:
                s = by_uid[rec["uid"]]
                if int(rec["sourceTransportPort"]) != s["id.resp_p"] or int(rec["packetDeltaCount"]) != s["resp_pkts"]:
                    fail(f"uniflow: reverse record of {rec['uid']} is not the responder's: {rec}")
        print(f"file {mode}: ipfixDump shows {len(records)} records, enterprise elements equal to the JSON")

    # 3. TCP into a listener that keeps the stream.
    stream_path = os.path.join(work, "tcp.ipfix")
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    tcp_port = srv.getsockname()[1]
    received = {"bytes": 0, "connections": 0}

    def serve():
        with open(stream_path, "wb") as f:
            conn, _ = srv.accept()
            received["connections"] += 1
            with conn:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    f.write(data)
                    received["bytes"] += len(data)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    tcp_sessions = os.path.join(work, "tcp.json")
    r = replay(cap, "--sessions-out", tcp_sessions, "--ipfix-out", f"tcp://127.0.0.1:{tcp_port}")
    sessions = [json.loads(line) for line in open(tcp_sessions)]
    t.join(timeout=30)
    srv.close()
    if t.is_alive():
        fail("tcp: the exporter did not close its connection at the end of the replay")
    messages, data = 0, open(stream_path, "rb").read()
    off = 0
    while off + 4 <= len(data):
        if int.from_bytes(data[off:off + 2], "big") != 10:
            fail(f"tcp: no IPFIX message header at byte {off}")
        off += int.from_bytes(data[off + 2:off + 4], "big")
        messages += 1
    if off != len(data):
        fail(f"tcp: the stream ends inside a message ({off} != {len(data)})")
    seen = check_enterprise(ipfix_dump_records(stream_path), sessions, "tcp")
    if len(seen) != len(sessions) or any(n != 1 for n in seen.values()):
        fail(f"tcp: {sum(seen.values())} records for {len(seen)} uids, want one for each of {len(sessions)}")
    print(f"tcp: {received['bytes']} bytes in {messages} messages over {received['connections']} connection, "
          f"every session once")

    # 4. No collector: drops are counted, nothing else is lost.
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # reserved, never listening: connections are refused
    dead = f"tcp://127.0.0.1:{closed.getsockname()[1]}"
    lossy_sessions = os.path.join(work, "s2.json")
    r = replay(cap, "--sessions-out", lossy_sessions, "--ipfix-out", dead)
    closed.close()
    m = re.search(r"ipfix: (\d+) sessions written, (\d+) dropped", r.stderr)
    if not m or int(m.group(1)) != 0 or int(m.group(2)) != len(sessions):
        fail(f"no collector: expected 0 written, {len(sessions)} dropped: {r.stderr}")
    warnings = [line for line in r.stderr.splitlines() if "IPFIX export to" in line and "Connection refused" in line]
    if len(warnings) != 1 or dead not in warnings[0]:
        fail(f"no collector: expected one loss warning naming {dead} and the errno: {r.stderr}")
    def without_uids(path):
        return sorted(re.sub(r'"uid":"C\w+",', "", line) for line in open(path))

    if without_uids(lossy_sessions) != without_uids(sessions_path):
        fail("no collector: --sessions-out differs from the run with a collector (uids aside)")
    print(f"no collector: {m.group(2)} sessions dropped and counted, --sessions-out complete")

    # Usage and output errors.
    r = replay(cap, "--ipfix-out", "udp://127.0.0.1", expect=1)
    if "--ipfix-out" not in r.stderr or "udp://127.0.0.1" not in r.stderr:
        fail(f"bad URL: the message must name the option and the value: {r.stderr}")
    r = replay(cap, "--ipfix-out", "file:/nonexistent-dir/x.ipfix", expect=4)
    if "/nonexistent-dir/x.ipfix" not in r.stderr or "No such file" not in r.stderr:
        fail(f"unopenable file: the message must name the path and errno: {r.stderr}")
    print("errors: a bad URL exits 1, an unopenable file exits 4, both named")

    # 5. Live, no collector: the drop counters move in /metrics, nothing else is lost.
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead = f"tcp://127.0.0.1:{closed.getsockname()[1]}"
    metrics_port = free_port()
    live_sessions = os.path.join(work, "live.json")
    proc = subprocess.Popen([synscope, *eal(f"ipfix{os.getpid()}", f"net_pcap0,rx_pcap={cap}"), "--", "run",
                             "--clock", "packet", "--idle-exit", "3", "--metrics-listen", f"127.0.0.1:{metrics_port}",
                             "--sessions-out", live_sessions, "--ipfix-out", dead],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen_drops, deadline = None, time.time() + 30
    while time.time() < deadline and proc.poll() is None:
        try:
            text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2).read().decode()
        except OSError:
            time.sleep(0.2)
            continue
        m = re.search(r'synscope_output_dropped_records_total\{output="ipfix"\} (\d+)', text)
        d = re.search(r'synscope_output_dropping\{output="ipfix"\} (\d+)', text)
        # Sessions still open are ended at shutdown, after the last scrape: the counter moves, the exit says all.
        if m and d and int(m.group(1)) > 0:
            seen_drops = (int(m.group(1)), int(d.group(1)),
                          re.search(r'synscope_output_records_total\{output="ipfix"\} (\d+)', text).group(1))
            break
        time.sleep(0.2)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("live: the run did not end after --idle-exit")
    closed.close()
    if proc.returncode == 6 and "EAL" in err:
        print(f"live: skipped, EAL cannot start here: {err.strip().splitlines()[-1]}")
    else:
        if proc.returncode != 0:
            fail(f"live: exit {proc.returncode}: {err}")
        if seen_drops is None or seen_drops[1] != 1 or seen_drops[2] != "0":
            fail(f"live: /metrics never showed ipfix sessions dropped while dropping: {seen_drops}")
        if f"{len(sessions)} of {len(sessions)} sessions dropped" not in err:
            fail(f"live: the exit must count all {len(sessions)} sessions dropped: {err}")
        if sum(1 for _ in open(live_sessions)) != len(sessions):
            fail("live: --sessions-out is not complete")
        print(f"live: /metrics counted {seen_drops[0]} ipfix sessions dropped, dropping=1, exit 0, sessions-out "
              f"complete")
print("PASS")

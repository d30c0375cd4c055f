#!/usr/bin/env python3
"""System test of the Community ID and the ECS flavour of session lines: `synscope replay --sessions-out` on a
generated capture (IPv4 and IPv6), against Wireshark's own Community ID (tshark's communityid dissector) for
the same 5-tuples.

Every session's community_id equals the one tshark gives every packet of its 5-tuple (both directions,
one id), with the default seed and with --community-id-seed 3 (tshark -o communityid.seed:3); an
--sessions-format ecs run writes the same sessions with every ECS field, network.community_id equal to the
Zeek flavour's. Exit 77 when tshark (or its communityid dissector) is missing.
Usage: community_id_test.py SYNSCOPE SYNSCOPE_GEN
"""
import ipaddress, json, os, re, shutil, subprocess, sys, tempfile
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from system_support import fail  # noqa: E402

synscope, gen = sys.argv[1:3]
ID = re.compile(r"^1:[A-Za-z0-9+/]{27}=$")

tshark = shutil.which("tshark")
if tshark is None:
    print("SKIP: tshark is not installed")
    sys.exit(77)
protocols = subprocess.run([tshark, "-G", "protocols"], capture_output=True, text=True).stdout
if not re.search(r"\tcommunityid$", protocols, re.M):
    print("SKIP: this tshark has no communityid dissector (Wireshark 3.4 and later)")
    sys.exit(77)


def host(text):
    return ipaddress.ip_address(text).compressed


def tshark_ids(cap, seed):
    """{frozenset of the two (address, port) ends: set of ids tshark gave its packets}."""
    # The dissector is off by default (Wireshark 4.0): --enable-protocol turns it on.
    r = subprocess.run([tshark, "-r", cap, "-n", "-o", "tcp.check_checksum:FALSE", "--enable-protocol", "communityid",
                        "-o", f"communityid.seed:{seed}", "-Y", "tcp", "-T", "fields", "-E", "separator=\t",
                        "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst",
                        "-e", "tcp.dstport", "-e", "communityid"], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"tshark: {r.stderr}")
    ids = defaultdict(set)
    for line in r.stdout.splitlines():
        f = line.split("\t")
        if len(f) != 7 or not f[6]:
            continue
        # Tunnelled frames list every layer's address: the innermost (last) is the session's.
        src, dst = (f[0] or f[1]).split(",")[-1], (f[3] or f[4]).split(",")[-1]
        ids[frozenset({(host(src), int(f[2])), (host(dst), int(f[5]))})].add(f[6])
    return ids


def replay(cap, out, *options):
    r = subprocess.run([synscope, "replay", cap, "--sessions-out", out, "-q", *options], capture_output=True,
                       text=True)
    if r.returncode != 0:
        fail(f"replay {' '.join(options)}: {r.stderr}")
    return [json.loads(line) for line in open(out)]


def check_against_tshark(records, ids, seed):
    v6 = 0
    for rec in records:
        key = frozenset({(host(rec["id.orig_h"]), rec["id.orig_p"]), (host(rec["id.resp_h"]), rec["id.resp_p"])})
        got = ids.get(key)
        if not got:
            fail(f"seed {seed}: tshark saw no packet of {sorted(key)}")
        if len(got) != 1:
            fail(f"seed {seed}: tshark gave the packets of {sorted(key)} several ids {got}")
        if rec["community_id"] not in got:
            fail(f"seed {seed}: {rec['uid']} {sorted(key)}: community_id {rec['community_id']}, tshark {got}")
        v6 += ":" in rec["id.orig_h"]
    return v6


with tempfile.TemporaryDirectory() as work:
    cap = os.path.join(work, "mixed.pcap")
    r = subprocess.run([gen, "-o", cap, "-n", "600", "--seed", "23", "--window", "120", "--ipv6-share", "0.3",
                        "--servers", "40", "--surge", "30:20:refused:60", "--surge", "60:20:unanswered:40"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"synscope-gen: {r.stderr}")

    zeek = replay(cap, os.path.join(work, "zeek.jsonl"))
    if len(zeek) < 600:
        fail(f"{len(zeek)} sessions, want at least 600")
    v6 = check_against_tshark(zeek, tshark_ids(cap, 0), 0)
    if v6 == 0 or v6 == len(zeek):
        fail(f"{v6} of {len(zeek)} sessions over IPv6: want both families")
    seeded = replay(cap, os.path.join(work, "seed3.jsonl"), "--community-id-seed", "3")
    check_against_tshark(seeded, tshark_ids(cap, 3), 3)
    if any(a["community_id"] == b["community_id"] for a, b in zip(zeek, seeded)):
        fail("--community-id-seed 3 left some ids as with seed 0")

    ecs = replay(cap, os.path.join(work, "ecs.jsonl"), "--sessions-format", "ecs")
    if len(ecs) != len(zeek):
        fail(f"ecs run wrote {len(ecs)} sessions, zeek run {len(zeek)}")
    for e in ecs:
        ev, src, dst, net = e["event"], e["source"], e["destination"], e["network"]
        ok = (ev["kind"] == "event" and ev["category"] == ["network"] and ev["type"] == ["connection", "end"]
              and ev["outcome"] in ("success", "failure") and (ev["outcome"] == "failure") == e["synscope"]["failed"]
              and ("reason" in ev) == e["synscope"]["failed"] and isinstance(ev["duration"], int)
              and e["@timestamp"] == ev["start"] and ev["start"] <= ev["end"]
              and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", e["@timestamp"])
              and net["transport"] == "tcp" and net["iana_number"] == "6"
              and net["type"] == ("ipv6" if ":" in src["ip"] else "ipv4") and ID.match(net["community_id"])
              and net["direction"] in ("inbound", "outbound", "internal", "external")
              and net["packets"] == src["packets"] + dst["packets"] and net["bytes"] == src["bytes"] + dst["bytes"]
              and e["zeek"]["session_id"].startswith("C") and e["zeek"]["connection"]["state"]
              and isinstance(e["zeek"]["connection"]["history"], str))
        if not ok:
            fail(f"ECS line lacks a field or has a wrong one: {json.dumps(e)}")

    # The same sessions in both flavours (uids are per run): matched by their 5-tuple and start.
    def zeek_key(z):
        return (host(z["id.orig_h"]), z["id.orig_p"], host(z["id.resp_h"]), z["id.resp_p"], round(z["ts"], 6),
                z["conn_state"], z["history"])

    def ecs_key(e):
        s = e["event"]["start"]
        # Seconds since the epoch from the ISO date, to the microsecond, as the Zeek flavour's ts.
        import datetime
        t = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
        secs = round((t - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)).total_seconds(), 6)
        return (host(e["source"]["ip"]), e["source"]["port"], host(e["destination"]["ip"]), e["destination"]["port"],
                secs, e["zeek"]["connection"]["state"], e["zeek"]["connection"]["history"])

    by_key = {zeek_key(z): z["community_id"] for z in zeek}
    for e in ecs:
        want = by_key.get(ecs_key(e))
        if want is None:
            fail(f"ECS session {ecs_key(e)} is not in the Zeek flavour's output")
        if e["network"]["community_id"] != want:
            fail(f"{ecs_key(e)}: network.community_id {e['network']['community_id']}, Zeek flavour {want}")
    print(f"community_id: {len(zeek)} sessions ({v6} IPv6) agree with tshark (seeds 0 and 3); "
          f"{len(ecs)} ECS lines complete and agree with the Zeek flavour")

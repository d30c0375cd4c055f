"""Exact counts behind synscope's top-N drill-down, from `--sessions-out` records, and the check of a
drill-down document (`--top-out` or GET /api/v1/top) against them: every listed entry's true count lies
within its bound (count - error <= exact <= count), lists are ordered by guaranteed count and hold at most
10 entries, and a kind with sessions in a window is not empty. Shared by top_replay_test.py and
live_top_test.py."""
import collections

FAILED = {"S0", "REJ", "RSTOS0", "RSTRH", "SH", "SHR"}
KINDS = ("servers", "clients", "server_ports", "conversations", "server_rst", "client_rst", "syn_retries")


def endpoint(ip, port):
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def exact(records, kind, lo, hi):
    c = collections.Counter()
    for s in records:
        if not lo <= int(s["ts"]) < hi:
            continue
        failed = s["conn_state"] in FAILED
        server = endpoint(s["id.resp_h"], s["id.resp_p"])
        if kind == "servers" and failed: c[server] += 1
        elif kind == "clients" and failed: c[s["id.orig_h"]] += 1
        elif kind == "server_ports" and failed: c[str(s["id.resp_p"])] += 1
        elif kind == "conversations" and failed: c[f"{s['id.orig_h']} -> {server}"] += 1
        elif kind == "server_rst" and s["resp_rst"] > 0: c[server] += 1
        elif kind == "client_rst" and s["orig_rst"] > 0: c[s["id.orig_h"]] += 1
        elif kind == "syn_retries" and s["orig_syn"] > 1: c[server] += s["orig_syn"] - 1
    return c


def check(view, records):
    """Returns the number of entries checked; raises AssertionError naming the first that is wrong."""
    assert view["version"] == 1, f"version {view['version']}"
    checked = 0
    for wname, w in view["windows"].items():
        for kind in KINDS:
            truth = exact(records, kind, w["from"], w["to"])
            entries = w[kind]
            assert len(entries) <= 10, f"{wname}/{kind}: {len(entries)} entries"
            lower = [e["count"] - e["error"] for e in entries]
            assert lower == sorted(lower, reverse=True), f"{wname}/{kind}: not ordered by guaranteed count: {lower}"
            for e in entries:
                n = truth.get(e["key"], 0)
                assert e["count"] - e["error"] <= n <= e["count"], \
                    f"{wname}/{kind} {e['key']}: exact {n} outside [{e['count'] - e['error']}, {e['count']}]"
                checked += 1
            assert entries or not truth, f"{wname}/{kind}: empty, but {len(truth)} keys had sessions"
    return checked

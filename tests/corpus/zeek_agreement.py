#!/usr/bin/env python3
"""Runs `synscope replay` on every capture of ../shared/corpus/zeek with the options Zeek ran with (its checksum
mode and the likely server ports of the analyzers it loaded, from INDEX.tsv) and measures
how often our conn_state and history agree with Zeek's verdicts.

Matching follows corpus/README.md: a Zeek connection is matched on its 4-tuple in Zeek's orientation
(orig/resp), ties between reused 4-tuples are broken by orig_pkts/resp_pkts and then by order.

Where Zeek's verdict carries missed_bytes (conn.log baselines), ours is compared too.

Exit status: 0 when conn_state agreement >= --min-conn-state, history agreement >= --min-history and
missed_bytes agreement >= --min-missed-bytes, 1 below any, 77 (skipped) when the corpus is not beside the
repository.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict


def load_index(corpus):
    with open(os.path.join(corpus, "INDEX.tsv"), newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def load_verdicts(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def run_synscope(binary, pcap, checksums, server_ports):
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as out:
        cmd = [binary, "replay", pcap, "--sessions-out", out.name, "--checksums", checksums,
               "--likely-server-ports", server_ports, "--quiet"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()}")
        with open(out.name) as f:
            return [json.loads(line) for line in f if line.strip()]


def match(zeek_rows, ours):
    """Pairs each Zeek row with one of our sessions; returns [(zeek_row, our_session or None)]."""
    by_tuple = defaultdict(list)
    for s in sorted(ours, key=lambda s: s["ts"]):
        by_tuple[(s["id.orig_h"], str(s["id.orig_p"]), s["id.resp_h"], str(s["id.resp_p"]))].append(s)
        # some baselines mask a port as '-': match those on the addresses and the known port
        by_tuple[(s["id.orig_h"], "-", s["id.resp_h"], str(s["id.resp_p"]))].append(s)
    used = set()
    pairs = []
    for z in zeek_rows:
        key = (z["orig_h"], z["orig_p"], z["resp_h"], z["resp_p"])
        cands = [s for s in by_tuple.get(key, []) if id(s) not in used]
        if z["orig_pkts"] not in ("-", "") and len(cands) > 1:
            exact = [s for s in cands if s["orig_pkts"] == int(z["orig_pkts"]) and
                     s["resp_pkts"] == int(z["resp_pkts"])]
            cands = exact or cands
        chosen = cands[0] if cands else None
        if chosen is not None:
            used.add(id(chosen))
        pairs.append((z, chosen))
    return pairs, len(ours) - len(used)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(repo, "build", "app", "synscope"))
    ap.add_argument("--corpus", default=os.path.join(repo, "..", "shared", "corpus", "zeek"))
    ap.add_argument("--min-conn-state", type=float, default=0.99)
    ap.add_argument("--min-history", type=float, default=0.97)
    ap.add_argument("--min-missed-bytes", type=float, default=0.99)
    ap.add_argument("--verbose", "-v", action="store_true", help="list every disagreement")
    args = ap.parse_args()

    if not os.path.isfile(os.path.join(args.corpus, "INDEX.tsv")):
        print(f"SKIP: Zeek corpus not found at {args.corpus}")
        return 77

    total_state = agree_state = total_hist = agree_hist = extra_total = 0
    total_missed = agree_missed = 0
    failures = []
    for entry in load_index(args.corpus):
        checksums = "verify" if entry["zeek_checksums"] == "validated" else "ignore"
        # The ports Zeek's loaded analyzers register (INDEX's likely_server_ports: 'zeek' for a full run, the
        # bare run's analyzers' ports, or 'none'); older indexes lack the column: full or none by mode.
        server_ports = entry.get("likely_server_ports") or ("zeek" if entry["zeek_mode"] == "full" else "none")
        pcap = os.path.join(args.corpus, entry["trace_file"])
        zeek_rows = load_verdicts(os.path.join(args.corpus, entry["name"] + ".verdict.tsv"))
        ours = run_synscope(args.binary, pcap, checksums, server_ports)
        pairs, extra = match(zeek_rows, ours)
        extra_total += extra
        for z, s in pairs:
            ours_state = s["conn_state"] if s else "(none)"
            ours_hist = s["history"] if s else "(none)"
            tup = f'{z["orig_h"]}:{z["orig_p"]} > {z["resp_h"]}:{z["resp_p"]}'
            if z["conn_state"] not in ("-", ""):
                total_state += 1
                if ours_state == z["conn_state"]:
                    agree_state += 1
                else:
                    failures.append(f'{entry["name"]}: {tup} conn_state zeek={z["conn_state"]} ours={ours_state}'
                                    f' (history zeek={z["history"]} ours={ours_hist})')
            if z.get("missed_bytes", "-") not in ("-", ""):
                total_missed += 1
                ours_missed = s["missed_bytes"] if s else None
                if ours_missed == int(z["missed_bytes"]):
                    agree_missed += 1
                else:
                    failures.append(f'{entry["name"]}: {tup} missed_bytes zeek={z["missed_bytes"]} ours={ours_missed}')
            if z["history"] not in ("-", ""):
                total_hist += 1
                if ours_hist == z["history"]:
                    agree_hist += 1
                elif args.verbose:
                    failures.append(f'{entry["name"]}: {tup} history zeek={z["history"]} ours={ours_hist}')

    for line in failures:
        print("  " + line)
    state_ratio = agree_state / total_state if total_state else 0.0
    hist_ratio = agree_hist / total_hist if total_hist else 0.0
    print(f"conn_state agreement: {agree_state}/{total_state} = {100 * state_ratio:.2f}%")
    print(f"history agreement:    {agree_hist}/{total_hist} = {100 * hist_ratio:.2f}%")
    missed_ratio = agree_missed / total_missed if total_missed else 0.0
    print(f"missed_bytes agreement: {agree_missed}/{total_missed} = {100 * missed_ratio:.2f}%")
    print(f"sessions we reported that Zeek did not: {extra_total}")
    status = 0
    for name, ratio, bar in (("conn_state", state_ratio, args.min_conn_state),
                             ("history", hist_ratio, args.min_history),
                             ("missed_bytes", missed_ratio, args.min_missed_bytes)):
        if ratio < bar:
            print(f"FAIL: {name} agreement below {100 * bar:.1f}%")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())

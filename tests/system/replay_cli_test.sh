#!/usr/bin/env bash
# System test of `synscope replay`: runs the real binary on a generated capture whose ground truth is
# known (synscope-gen prints how many sessions of each kind it wrote), checks the verdict counts, the
# frame accounting, the bucket totals, and the error paths (missing, foreign and corrupt input, bad options).
set -euo pipefail
synscope=$1
gen=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$gen" -o "$work/mix.pcap" -n 3000 --seed 11 --window 1800 2> "$work/gen.txt"
frames=$(sed -E 's/.*: ([0-9]+) frames.*/\1/' "$work/gen.txt")
"$synscope" replay "$work/mix.pcap" --sessions-out "$work/s.jsonl" --buckets-out "$work/b.jsonl" \
  --bucket 300 2> "$work/summary.txt" || fail "replay exited $?"
cat "$work/summary.txt"

python3 - "$work" "$frames" <<'PY'
import json, re, sys
work, frames = sys.argv[1], int(sys.argv[2])
gen = open(f"{work}/gen.txt").read()
expect = {m.group(1): int(m.group(2)) for m in re.finditer(r"\((\w+)\)=(\d+)", gen)}
sessions = [json.loads(l) for l in open(f"{work}/s.jsonl")]
got = {}
for s in sessions:
    got[s["conn_state"]] = got.get(s["conn_state"], 0) + 1
for state, n in expect.items():
    assert got.get(state, 0) == n, f"{state}: expected {n} sessions, got {got.get(state, 0)} ({got})"
assert len(sessions) == sum(expect.values()), (len(sessions), expect)
failed = sum(1 for s in sessions if s["failed"])
assert failed == expect["REJ"] + expect["S0"] + expect["SH"], failed
for s in sessions:
    assert s["failed"] == (s["conn_state"] in ("S0", "REJ", "RSTOS0", "RSTRH", "SH", "SHR")), s
    assert (s["reason"] is None) == (not s["failed"]), s
    assert s["perspective"] in ("inbound", "outbound", "private", "edge"), s
buckets = [json.loads(l) for l in open(f"{work}/b.jsonl")]
assert sum(b["failed"] for b in buckets) == failed, "bucket totals must equal failed sessions"
assert sum(b["sessions"] for b in buckets) == len(sessions)
assert all(b["span"] == 300 and b["ts"] % 300 == 0 for b in buckets)
for b in buckets:
    assert b["failed"] == sum(b["failed_by_state"].values()), b
summary = open(f"{work}/summary.txt").read()
m = re.search(r"frames: (\d+) received = (\d+) tcp \+ (\d+) not_tcp \+ (\d+) fragment \+ (\d+) malformed \+ (\d+) dropped", summary)
assert m, summary
received, *parts = map(int, m.groups())
assert received == frames, (received, frames)
assert sum(parts) == received, "frame classes must add up to frames received"
print(f"ok: {len(sessions)} sessions match the generator, {failed} failed, {received} frames accounted")
PY

# --threads 1 and --threads 2 (an engine thread; buckets rebuilt on the reader thread from the session
# records, where the alert engine also runs) write the same sessions (uids are random per run), buckets
# and alerts, on a capture long enough for buckets to settle while sessions are still in flight and with
# a refused-connection surge the alert engine reports.
"$gen" -o "$work/days.pcap" -n 20000 --seed 5 --window 259200 --start 1700006400 --diurnal 0.7 --exchanges 1 \
  --servers 200 --surge 216000:1800:refused:150:one --surge 180000:1800:unanswered:80 2> /dev/null
for t in 1 2; do
  "$synscope" replay "$work/days.pcap" --threads $t --bucket 900 --sessions-out "$work/s$t.jsonl" \
    --buckets-out "$work/b$t.jsonl" --alerts-out "$work/a$t.jsonl" -q || fail "replay --threads $t exited $?"
done
cmp -s "$work/b1.jsonl" "$work/b2.jsonl" || fail "--threads 2 wrote other buckets than --threads 1"
cmp -s "$work/a1.jsonl" "$work/a2.jsonl" || fail "--threads 2 wrote other alerts than --threads 1"
[ -s "$work/a1.jsonl" ] || fail "the surges raised no alert: the comparison would prove nothing"
cmp -s <(sed -E 's/"uid":"[^"]*",//' "$work/s1.jsonl") <(sed -E 's/"uid":"[^"]*",//' "$work/s2.jsonl") ||
  fail "--threads 2 wrote other sessions than --threads 1"
echo "ok: --threads 1 and 2 agree on $(wc -l < "$work/s1.jsonl") sessions, $(wc -l < "$work/b1.jsonl") bucket lines, $(wc -l < "$work/a1.jsonl") alert lines"

# Error paths: every one names the culprit and exits non-zero.
set +e
"$synscope" replay "$work/missing.pcap" 2> "$work/err"; rc=$?
[ $rc -eq 2 ] && grep -q "missing.pcap" "$work/err" || fail "missing file: rc=$rc $(cat "$work/err")"
echo "not a capture at all, just text" > "$work/text.pcap"
"$synscope" replay "$work/text.pcap" 2> "$work/err"; rc=$?
[ $rc -eq 2 ] && grep -q "not a pcap or pcapng" "$work/err" || fail "foreign file: rc=$rc $(cat "$work/err")"
head -c 100000 "$work/mix.pcap" > "$work/cut.pcap"
"$synscope" replay "$work/cut.pcap" --sessions-out "$work/cut.jsonl" 2> "$work/err"; rc=$?
[ $rc -eq 3 ] && grep -q "byte offset" "$work/err" || fail "corrupt file: rc=$rc $(cat "$work/err")"
[ -s "$work/cut.jsonl" ] || fail "sessions before the corruption must still be reported"
"$synscope" replay "$work/mix.pcap" --internal-nets 10.0.0.0/99 2> "$work/err"; rc=$?
[ $rc -ne 0 ] && grep -q -- "--internal-nets" "$work/err" || fail "bad CIDR: rc=$rc $(cat "$work/err")"
"$synscope" replay "$work/mix.pcap" --bucket 0 2> "$work/err"; rc=$?
[ $rc -ne 0 ] && grep -q -- "--bucket" "$work/err" || fail "bad bucket: rc=$rc $(cat "$work/err")"
"$synscope" replay "$work/mix.pcap" --sessions-out /nonexistent-dir/x.jsonl 2> "$work/err"; rc=$?
[ $rc -ne 0 ] && grep -q "nonexistent-dir" "$work/err" || fail "unwritable output: rc=$rc $(cat "$work/err")"
echo "ok: error paths"

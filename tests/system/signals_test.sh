#!/usr/bin/env bash
# System test of the signals a service is sent, in replay and live mode: SIGHUP reopens the outputs
# (logrotate), SIGUSR1 and SIGUSR2 write a progress line on stderr, SIGPIPE and SIGXFSZ are ignored,
# SIGINT/SIGTERM flush everything and exit; none of them kills the process or cuts a line.
#   * replay: each signal arrives pending (blocked, then unblocked by synscope at start-up, as for a
#     service started with signals blocked), so it lands at a known point whatever the machine's speed;
#   * live (net_pcap): the sessions file is moved away, SIGHUP, SIGUSR1, SIGTERM: exit 0, the moved file
#     and the new one hold every session between them, each line whole, and EAL's runtime directory
#     (/var/run/dpdk/<prefix>) is gone.
# Usage: signals_test.sh SYNSCOPE GEN. Exit 77 when EAL cannot start here.
set -uo pipefail
synscope=$1
gen=$2
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# with_pending SIGNAL COMMAND...: runs COMMAND with SIGNAL blocked and already pending.
with_pending() {
  python3 -c 'import os, signal, sys
s = getattr(signal, sys.argv[1])
signal.pthread_sigmask(signal.SIG_BLOCK, [s])
os.kill(os.getpid(), s)
os.execv(sys.argv[2], sys.argv[2:])' "$@"
}
# whole_json_lines FILE...: every line of every file is a complete JSON object; prints the line count.
whole_json_lines() {
  python3 -c 'import json, sys
n = 0
for path in sys.argv[1:]:
    data = open(path).read()
    assert data == "" or data.endswith("\n"), f"{path} ends in a cut line"
    for line in data.splitlines():
        json.loads(line)
        n += 1
print(n)' "$@"
}

"$gen" -o "$work/big.pcap" -n 10000 --seed 3 --window 60 2> /dev/null || fail "generator failed"

# Replay: SIGHUP and SIGUSR1 neither kill nor cut; every session is written; exit 0.
for sig in SIGHUP SIGUSR1 SIGUSR2 SIGPIPE SIGXFSZ; do
  with_pending "$sig" "$synscope" replay "$work/big.pcap" --sessions-out "$work/r.jsonl" -q 2> "$work/r.err"
  rc=$?
  [ "$rc" -eq 0 ] || fail "replay exited $rc on a pending $sig: $(head -c 300 "$work/r.err")"
  n=$(whole_json_lines "$work/r.jsonl") || fail "replay with $sig: a cut line"
  [ "$n" -eq 10000 ] || fail "replay with $sig wrote $n of 10000 sessions"
  echo "ok: replay with a pending $sig: exit 0, $n sessions"
done
with_pending SIGUSR1 "$synscope" replay "$work/big.pcap" -q 2> "$work/usr1.err" || fail "replay with SIGUSR1 failed"
grep -q "^progress: " "$work/usr1.err" || fail "SIGUSR1 gave no progress line in replay: $(cat "$work/usr1.err")"
echo "ok: replay reports progress on SIGUSR1"

# Live: logrotate's move + SIGHUP, then SIGUSR1, then SIGTERM.
prefix="synscope-signals-$$"
"$gen" -o "$work/mix.pcap" -n 2000 --seed 21 --window 600 --microseconds 2> /dev/null
"$synscope" -l 0-1 --no-huge -m 256 --no-pci --log-level lib.eal:warning --file-prefix="$prefix" \
  --vdev "net_pcap0,rx_pcap=$work/mix.pcap" -- run --clock packet --metrics-listen none \
  --sessions-out "$work/s.jsonl" --buckets-out "$work/b.jsonl" -q 2> "$work/live.err" &
spid=$!
pids+=("$spid")
for _ in $(seq 100); do
  [ -s "$work/s.jsonl" ] && break
  kill -0 "$spid" 2> /dev/null || break
  sleep 0.1
done
if ! kill -0 "$spid" 2> /dev/null; then
  wait "$spid"
  rc=$?
  grep -q "EAL" "$work/live.err" && { echo "SKIP: EAL cannot start here: $(head -c 300 "$work/live.err")"; exit 77; }
  fail "live run ended early (exit $rc): $(head -c 300 "$work/live.err")"
fi
[ -s "$work/s.jsonl" ] || fail "no session line written within 10 s"
mv "$work/s.jsonl" "$work/s.jsonl.1"
kill -HUP "$spid"
for _ in $(seq 50); do [ -e "$work/s.jsonl" ] && break; sleep 0.1; done
[ -e "$work/s.jsonl" ] || fail "SIGHUP did not reopen the sessions output"
kill -USR1 "$spid"
for _ in $(seq 50); do grep -q "^progress: " "$work/live.err" && break; sleep 0.1; done
grep -q "^progress: " "$work/live.err" || fail "SIGUSR1 gave no progress line in live mode"
grep -q "^rx: " "$work/live.err" || fail "SIGUSR1 gave no summary in live mode"
kill -0 "$spid" || fail "the live run died on SIGHUP/SIGUSR1"
kill -TERM "$spid"
wait "$spid"
rc=$?
[ "$rc" -eq 0 ] || fail "live run exited $rc on SIGTERM after SIGHUP/SIGUSR1: $(tail -5 "$work/live.err")"
n=$(whole_json_lines "$work/s.jsonl.1" "$work/s.jsonl") || fail "a cut line around the reopen"
[ "$n" -eq 2000 ] || fail "$n of 2000 sessions in the moved file and the new one"
# EAL's runtime directory goes with the process (DPDK 22.11 leaves it behind on its own).
if [ "$(id -u)" -eq 0 ]; then rundir=/var/run/dpdk; else rundir=${XDG_RUNTIME_DIR:-/tmp}/dpdk; fi
[ ! -e "$rundir/$prefix" ] || fail "$rundir/$prefix left behind: $(ls "$rundir/$prefix" | tr '\n' ' ')"
echo "ok: live: SIGHUP reopened (moved file $(wc -l < "$work/s.jsonl.1") + new $(wc -l < "$work/s.jsonl") = $n sessions), SIGUSR1 reported, SIGTERM exit 0"

#!/usr/bin/env bash
# The first-run experience: installs dependencies, builds, generates a small sample capture with normal,
# refused, unanswered and reset sessions, and replays it: one verdict per session on stdout, the
# failed-session buckets in build/sample-buckets.jsonl, and the summary on stderr; then the monitoring chain
# (scripts/demo-chain.sh, about a minute): two days of traffic with an outage played through the live data
# plane at 2880x, the alert it raised with its attribution, and the top-N drill-down.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
./build/bench/synscope-gen -o build/sample.pcap -n 40 --seed 7 --window 300
./build/app/synscope replay build/sample.pcap --sessions-out - --buckets-out build/sample-buckets.jsonl --bucket 60
echo
echo "Failed sessions per minute and perspective (build/sample-buckets.jsonl):"
python3 - <<'PY'
import json
for line in open("build/sample-buckets.jsonl"):
    b = json.loads(line)
    if b["sessions"]:
        print(f'  {b["ts"]} {b["perspective"]:9} attempts={b["attempts"]:3} failed={b["failed"]:3} '
              f'{ {k: v for k, v in b["failed_by_state"].items() if v} }')
PY
echo
echo "The monitoring chain: a two-day capture played through the DPDK data plane, its alert and drill-down:"
bash scripts/demo-chain.sh

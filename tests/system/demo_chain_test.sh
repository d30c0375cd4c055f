#!/usr/bin/env bash
# System test of the README's demo chain (scripts/demo-chain.sh) at 20000x: the outage server's own alert
# fires and heads the 24-hour servers drill-down.
set -euo pipefail
synscope=$1
gen=$2
root=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DEMO_PACE=20000 DEMO_PORT=$port bash "$root/scripts/demo-chain.sh" "$synscope" "$gen" "$work" > "$work/out.txt" 2>&1 || {
  cat "$work/out.txt"; echo "FAIL: demo-chain.sh exited non-zero"; exit 1; }
outage=$(sed -n 's/.*with an outage at \([^ ]*\) on day 2.*/\1/p' "$work/out.txt")
grep -qE "firing +[a-z]+ +$outage " "$work/out.txt" || { cat "$work/out.txt"; echo "FAIL: no alert for $outage"; exit 1; }
grep -qE "^ +1 +$outage " "$work/out.txt" || { cat "$work/out.txt"; echo "FAIL: $outage not first in top"; exit 1; }
echo "demo chain: $outage alerted and heads the drill-down"

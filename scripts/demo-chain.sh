#!/usr/bin/env bash
# The whole chain on one machine, in about a minute: two days of generated traffic with an outage at one
# server on the second afternoon, played through the DPDK data plane (a net_pcap vdev, no NIC or hugepages)
# at 2880x its own pace, with the detector, /metrics and the drill-down as in a live run; then the alert it
# raised, with its attribution, the top-N table, and where the dashboard and the alert rules are.
# Usage: scripts/demo-chain.sh [SYNSCOPE [SYNSCOPE_GEN [WORKDIR]]]   (DEMO_PACE=N plays faster or slower)
set -euo pipefail
cd "$(dirname "$0")/.."
synscope=${1:-./build/app/synscope}
gen=${2:-./build/bench/synscope-gen}
work=${3:-build/demo}
pace=${DEMO_PACE:-2880}
port=${DEMO_PORT:-9355}
mkdir -p "$work"
"$gen" -o "$work/days.pcap" -n 8000 --seed 53 --window 172800 --start 1699920000 --servers 150 --diurnal 0.5 \
  --surge 133200:21600:refused:1400:one 2> "$work/gen.txt"
outage=$(sed -n 's/.*surge server: \([^ ]*\).*/\1/p' "$work/gen.txt")
echo "Two days of traffic (8000 sessions to 150 servers) with an outage at $outage on day 2, 13:00-19:00,"
echo "played through the data plane at ${pace}x: /metrics, /api/v1/top and /-/ready at http://127.0.0.1:$port"
rm -f "$work/alerts.jsonl"
"$synscope" -l 0-1 --no-huge -m 512 --no-pci --log-level lib.eal:warning --file-prefix="synscope-demo-$$" \
  --vdev "net_pcap0,rx_pcap=$work/days.pcap" -- run --pace "$pace" --alerts-out "$work/alerts.jsonl" \
  --metrics-listen "127.0.0.1:$port" --idle-exit 4 -q &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
frames=$(sed -n -E "s/.*: ([0-9]+) frames.*/\1/p" "$work/gen.txt")
# Until every frame is in: then the drill-down, while the run still serves it.
python3 - "$port" "$frames" <<'PY'
import re, sys, time, urllib.request
port, frames = sys.argv[1], int(sys.argv[2])
deadline = time.time() + 600
while time.time() < deadline:
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
        rx = sum(float(v) for v in re.findall(r"^synscope_rx_packets_total\{[^}]*\} (\S+)$", text, re.M))
        if rx >= frames:
            break
    except OSError:
        pass
    time.sleep(0.5)
time.sleep(1.5)  # the drill-down is republished once a second
PY
echo
echo "Alerts raised (--alerts-out $work/alerts.jsonl):"
python3 - "$work/alerts.jsonl" <<'PY'
import json, sys, time
for line in open(sys.argv[1]):
    a = json.loads(line)
    when = time.strftime("%a %H:%M", time.gmtime(a["ts"]))
    top = ", ".join(f'{t["kind"]} {t["value"]} ({t["count"]})' for t in a.get("top", [])[:3])
    print(f'  {when} {a["state"]:9} {a["perspective"]:8} {a["partition"]:22} score {a["score"]:5.1f} '
          f'failed {a["actual"]:g} (expected {a["expected"] if a.get("expected") is not None else a.get("window_expected", 0):.2g})'
          + (f"  top: {top}" if top else ""))
PY
echo
"$synscope" top --url "http://127.0.0.1:$port" --window 24h --kinds servers,clients --rows 5 --count 1
wait $pid
trap - EXIT
echo
echo "Grafana dashboard: monitoring/grafana/dashboards/synscope.json; Prometheus rules and their tests:"
echo "monitoring/prometheus/; Alertmanager example: monitoring/alertmanager/ (docs/monitoring.md)."

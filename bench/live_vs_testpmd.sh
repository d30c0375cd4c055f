#!/usr/bin/env bash
# Live-mode packet rate, side by side with dpdk-testpmd --forward-mode=rxonly on the same vdev:
# net_pcap with infinite_rx=1 (a generated mixed capture looped from memory), the same EAL lcore list and
# memory, alternating runs. Rates are read over the same steady-state window: testpmd's own Rx-pps lines,
# synscope's synscope_rx_packets_total scraped twice. Reports both and the ratio, for
#   rss:    synscope -l 0-1, one RX lcore that parses and owns the flows (as testpmd's one forwarding lcore)
#   spread: synscope on the same two CPUs, RX lcore on CPU 1, engine lcore sharing CPU 0 with the stats core
# Usage: bench/live_vs_testpmd.sh [RUNS] [SECONDS]   (needs scripts/install-deps.sh and a build)
# With BASE=/path/to/other/synscope, that binary is measured too, alternated in the same runs (a refactor's
# before and after on the same feed and CPUs).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
secs=${2:-6}
command -v dpdk-testpmd >/dev/null || { echo "dpdk-testpmd not installed (apt-get install dpdk-dev)"; exit 77; }
pcap=build/bench-live.pcap
[ -f "$pcap" ] || ./build/bench/synscope-gen -o "$pcap" -n 8000 --seed 3 --window 600 2>/dev/null
frames=$(./build/app/synscope replay "$pcap" 2>&1 >/dev/null | sed -nE 's/^frames: ([0-9]+) received.*/\1/p')
mbufs=$((frames + 60000))
vdev="net_pcap0,rx_pcap=$pcap,infinite_rx=1"
eal=(--no-huge -m 1024 --no-pci --log-level lib.eal:warning)

testpmd_rate() {
  { timeout -s INT $((secs + 4)) dpdk-testpmd -l 0-1 "${eal[@]}" --file-prefix="bench-tp-$$" --vdev "$vdev" -- \
      --forward-mode=rxonly --nb-cores=1 --total-num-mbufs="$mbufs" --stats-period 1 < /dev/null 2>/dev/null || true; } |
    awk '/Rx-pps:/ {n++; if (n > 2) {s += $2; k++}} END {printf "%.3f", s / k / 1e6}'
}
synscope_rate() {  # $1: binary, $2: lcore layout, rest: run options
  local bin=$1 lcores=$2; shift 2
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$bin" $lcores "${eal[@]}" --file-prefix="bench-ss-$$" --vdev "$vdev" -- run -q \
    --mbufs "$mbufs" --metrics-listen "127.0.0.1:$port" --duration $((secs + 4)) "$@" 2>/dev/null &
  local pid=$!
  scrape() { curl -sf "http://127.0.0.1:$port/metrics" | awk '/^synscope_rx_packets_total/ {s += $2} END {printf "%d", s}'; }
  sleep 3
  local a t1 b t2
  a=$(scrape); t1=$(date +%s.%N); sleep $((secs - 2)); b=$(scrape); t2=$(date +%s.%N)
  wait "$pid" || true
  echo "($b - $a) / ($t2 - $t1) / 1000000" | bc -l | cut -c1-5
}
tp=() rss=() spread=() base_rss=() base_spread=()
for i in $(seq "$runs"); do
  tp+=("$(testpmd_rate)")
  rss+=("$(synscope_rate ./build/app/synscope "-l 0-1")")
  spread+=("$(synscope_rate ./build/app/synscope "--lcores 0@0,1@1,2@0" --spread-workers 1)")
  echo "run $i: testpmd rxonly ${tp[-1]} Mpps, synscope rss ${rss[-1]} Mpps, synscope spread ${spread[-1]} Mpps"
  if [ -n "${BASE:-}" ]; then
    base_rss+=("$(synscope_rate "$BASE" "-l 0-1")")
    base_spread+=("$(synscope_rate "$BASE" "--lcores 0@0,1@1,2@0" --spread-workers 1)")
    echo "run $i: base rss ${base_rss[-1]} Mpps, base spread ${base_spread[-1]} Mpps"
  fi
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mt=$(median "${tp[@]}"); mr=$(median "${rss[@]}"); ms=$(median "${spread[@]}")
echo "capture: $pcap ($frames frames, looped from memory)"
echo "median testpmd rxonly:   $mt Mpps"
echo "median synscope rss:     $mr Mpps  ratio $(echo "$mr / $mt" | bc -l | cut -c1-4)x"
echo "median synscope spread:  $ms Mpps  ratio $(echo "$ms / $mt" | bc -l | cut -c1-4)x"
if [ -n "${BASE:-}" ]; then
  echo "median base ($BASE) rss:    $(median "${base_rss[@]}") Mpps"
  echo "median base ($BASE) spread: $(median "${base_spread[@]}") Mpps"
fi

#!/usr/bin/env bash
# Replay speed, side by side: synscope vs Argus (`argus -r FILE -w /dev/null`) on the same ~1M-frame
# mixed capture, alternating runs so both see the same machine state. Prints each run, the medians and
# the ratio. Usage: bench/replay_vs_argus.sh [RUNS]   (needs `bash scripts/install-deps.sh` and a build)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
pcap=build/bench-1m.pcap
[ -f "$pcap" ] || ./build/bench/synscope-gen -o "$pcap" -n 70000 --seed 42 --window 3600
cat "$pcap" > /dev/null  # warm the page cache for both tools
command -v argus >/dev/null || { echo "argus not installed (apt-get install argus-server)"; exit 77; }
t() { local s e; s=$(date +%s.%N); "$@" > /dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
syn=() arg=()
for i in $(seq "$runs"); do
  syn+=("$(t ./build/app/synscope replay "$pcap" --sessions-out /dev/null --buckets-out /dev/null -q)")
  arg+=("$(t argus -r "$pcap" -w /dev/null)")
  echo "run $i: synscope ${syn[-1]} s, argus ${arg[-1]} s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms=$(median "${syn[@]}"); ma=$(median "${arg[@]}")
frames=$(./build/app/synscope replay "$pcap" 2>&1 >/dev/null | sed -nE 's/^frames: ([0-9]+) received.*/\1/p')
echo "frames: $frames"
echo "median synscope: $ms s ($(echo "$frames / $ms / 1000000" | bc -l | cut -c1-5) Mframes/s)"
echo "median argus:    $ma s"
echo "ratio (argus / synscope): $(echo "$ma / $ms" | bc -l | cut -c1-5)x"

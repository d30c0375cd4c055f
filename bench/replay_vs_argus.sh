#!/usr/bin/env bash
# Replay speed, side by side: synscope vs Argus (`argus -r FILE -w /dev/null`) on the same ~1M-frame
# mixed capture, alternating runs so both see the same machine state. Prints each run, the medians and
# the ratio of wall and of CPU time. Usage: bench/replay_vs_argus.sh [RUNS] [CAPTURE]
#   CAPTURE sparse (default): bench-1m.pcap, 70k sessions over an hour, at most ~25 open at once;
#   CAPTURE dense: bench-dense.pcap, 120k sessions in 10 s, ~70k flows in the table at once (a busy link:
#   the flow table outgrows the cache, and most sessions are still open at the end of the file).
# (needs `bash scripts/install-deps.sh` and a build)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
case "${2:-sparse}" in
  sparse)
    pcap=build/bench-1m.pcap
    [ -f "$pcap" ] || ./build/bench/synscope-gen -o "$pcap" -n 70000 --seed 42 --window 3600 ;;
  dense)
    pcap=build/bench-dense.pcap
    [ -f "$pcap" ] || ./build/bench/synscope-gen -o "$pcap" -n 120000 --exchanges 1 --seed 9 --window 10 ;;
  *) echo "usage: $0 [RUNS] [sparse|dense]" >&2; exit 2 ;;
esac
cat "$pcap" > /dev/null  # warm the page cache for both tools
command -v argus >/dev/null || { echo "argus not installed (apt-get install argus-server)"; exit 77; }
# bash's time keyword: wall, user and system seconds of one run (children included).
t() { local TIMEFORMAT='%R %U %S'; { time "$@" > /dev/null 2>&1; } 2>&1; }
syn_cmd=(./build/app/synscope replay "$pcap" --sessions-out /dev/null --buckets-out /dev/null -q)
# Argus waits about one second before it exits whatever the input (measured on a 10-session capture), so
# its wall time on a ~1M-frame file is mostly that wait: CPU seconds (user + system) are reported too.
./build/bench/synscope-gen -o build/bench-tiny.pcap -n 10 --seed 1 2>/dev/null
floor=$(t argus -r build/bench-tiny.pcap -w /dev/null | cut -d' ' -f1)
t "${syn_cmd[@]}" > /dev/null; t argus -r "$pcap" -w /dev/null > /dev/null  # warm-up, not counted
syn=() arg=() syn_cpu=() arg_cpu=()
for i in $(seq "$runs"); do
  read -r w u s < <(t "${syn_cmd[@]}"); syn+=("$w"); syn_cpu+=("$(echo "$u + $s" | bc)")
  read -r w u s < <(t argus -r "$pcap" -w /dev/null); arg+=("$w"); arg_cpu+=("$(echo "$u + $s" | bc)")
  echo "run $i: synscope ${syn[-1]} s wall ${syn_cpu[-1]} s cpu, argus ${arg[-1]} s wall ${arg_cpu[-1]} s cpu"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms=$(median "${syn[@]}"); ma=$(median "${arg[@]}"); mcs=$(median "${syn_cpu[@]}"); mca=$(median "${arg_cpu[@]}")
frames=$(./build/app/synscope replay "$pcap" 2>&1 >/dev/null | sed -nE 's/^frames: ([0-9]+) received.*/\1/p')
threads=$(./build/app/synscope replay --help | sed -nE 's/.*--threads UINT:UINT in \[1 - 2\]=([0-9]).*/\1/p')
echo "frames: $frames; synscope --threads default here: $threads; argus on a 10-session capture: $floor s"
echo "median synscope: $ms s wall, $mcs s cpu ($(echo "$frames / $ms / 1000000" | bc -l | cut -c1-5) Mframes/s)"
echo "median argus:    $ma s wall, $mca s cpu"
echo "ratio (argus / synscope): $(echo "$ma / $ms" | bc -l | cut -c1-5)x wall, $(echo "$mca / $mcs" | bc -l | cut -c1-5)x cpu"

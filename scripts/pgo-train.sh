#!/usr/bin/env bash
# Training run for profile-guided optimisation: replays generated captures with a build configured with
# -Db_pgo=generate, which writes the profile (.gcda files) into that build directory. scripts/build.sh calls
# it between the two builds. Usage: scripts/pgo-train.sh BUILD_DIR
# The captures come from the project's own generator with seeds and shapes the benches do not use (bench/
# measures on seeds 42 and 9), so no bench number is measured on the data the compiler was trained on:
#   few flows at a time with request/response exchanges (the parser and the plain per-segment path);
#   ~10k flows at a time, one exchange each (lookups, inserts, the handshake and teardown paths);
#   a microsecond pcap with a third of the sessions over IPv6.
# Each is replayed with one thread and with two (the pipelined reader and worker).
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR}
dir="$build/pgo-train"
mkdir -p "$dir"
gen="$build/bench/synscope-gen"
"$gen" -o "$dir/sparse.pcap" -n 20000 --seed 1001 --window 900 2>/dev/null
"$gen" -o "$dir/dense.pcap" -n 20000 --exchanges 1 --seed 1002 --window 2 2>/dev/null
"$gen" -o "$dir/mixed-us.pcap" -n 10000 --seed 1003 --window 60 --microseconds --ipv6-share 0.33 2>/dev/null
for pcap in "$dir"/*.pcap; do
  for threads in 1 2; do
    "$build/app/synscope" replay "$pcap" --threads "$threads" --sessions-out /dev/null --buckets-out /dev/null -q
  done
done
rm -rf "$dir"

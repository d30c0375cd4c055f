#!/usr/bin/env bash
# System test of options at their limits: every floating-point option refuses NaN and infinity (CLI11's
# Range lets NaN through: `--bucket nan`, `--duration nan` that never stops); products of in-range options
# are bounded (`--bucket 0.001 --bucket-settle 86400` asked for 62 GB and aborted); what the options need in
# memory is checked against --memory-budget (default MemAvailable) before anything is allocated or opened,
# naming the options (exit 5); an unknown config key is echoed cut, not whole.
# Usage: option_limits_test.sh SYNSCOPE GEN
set -uo pipefail
synscope=$1
gen=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect CODE PATTERN -- COMMAND...: COMMAND exits CODE within 30 s and its output matches PATTERN.
expect() {
  local code=$1 pattern=$2
  shift 3
  timeout 30 "$@" > "$work/out" 2>&1
  local rc=$?
  [ "$rc" -eq "$code" ] || fail "expected exit $code, got $rc: $* -> $(head -c 400 "$work/out")"
  [ -z "$pattern" ] || grep -qE -- "$pattern" "$work/out" || fail "exit $code without '$pattern': $* -> $(head -c 400 "$work/out")"
}

"$gen" -o "$work/mix.pcap" -n 200 --seed 3 --window 30 2> /dev/null || fail "generator failed"
eal=(-l 0-1 --no-huge -m 256 --no-pci --file-prefix "synscope-limits-$$")

float_options=(--bucket --bucket-settle --attempt-timeout --close-timeout --inactivity-timeout --max-time-jump
               --alert-fire-score --alert-min-excess --alert-bucket)
for opt in "${float_options[@]}"; do
  for bad in nan NaN inf -inf; do
    expect 1 "^$opt: '$bad' is not a finite number" -- "$synscope" replay "$work/mix.pcap" -q "$opt" "$bad"
  done
done
for opt in --duration --idle-exit; do
  expect 1 "^$opt: 'nan' is not a finite number" -- "$synscope" -- run --metrics-listen none "$opt" nan
done
for opt in --fire-score --resolve-score --level-halflife-hours --warmup-days; do
  printf 'timestamp,value\n2024-01-01 00:00:00,1\n' > "$work/series.csv"
  expect 1 "^$opt: 'nan' is not a finite number" -- "$synscope" backtest --input "$work/series.csv" --output - "$opt" nan
done
echo "ok: NaN and infinities refused by every floating-point option"

expect 1 "--bucket-settle 86400 / --bucket 0.001 would hold more than 1000000 buckets" -- \
  "$synscope" replay "$work/mix.pcap" -q --bucket 0.001 --bucket-settle 86400
expect 1 "--alert-bucket 86400 / --bucket 0.01" -- "$synscope" replay "$work/mix.pcap" -q --bucket 0.01 --alert-bucket 86400
expect 0 "" -- "$synscope" replay "$work/mix.pcap" -q --bucket 0.001 --bucket-settle 1000
echo "ok: products of options bounded"

# Memory: checked before any output is opened (the sessions file must not even be created).
expect 5 "--flow-capacity 268435456 \(full, x 1 engine\): [0-9]+ MiB.* but --memory-budget is 1024 MiB" -- \
  "$synscope" replay "$work/mix.pcap" -q --flow-capacity 268435456 --memory-budget 1024 --sessions-out "$work/s.jsonl"
[ ! -e "$work/s.jsonl" ] || fail "an output was opened before the memory check refused the options"
expect 5 "--alert-servers 1000000: [0-9]+ MiB" -- \
  "$synscope" replay "$work/mix.pcap" -q --alert-servers 1000000 --alerts-out "$work/a.jsonl" --memory-budget 512
# Without --memory-budget the check is against MemAvailable (a full 2^28-entry table needs ~81 GiB).
if [ "$(awk '/MemAvailable/ {print $2}' /proc/meminfo)" -lt 80000000 ]; then
  expect 5 "--flow-capacity 268435456 \(full, x 1 engine\).*MemAvailable" -- \
    "$synscope" replay "$work/mix.pcap" -q --flow-capacity 268435456
else
  echo "skip: MemAvailable holds a full 2^28-entry flow table; the --memory-budget cases cover the check"
fi
expect 0 "" -- "$synscope" replay "$work/mix.pcap" -q --memory-budget 1024
expect 5 "--flow-capacity 268435456 \(full, x 2 engines\)" -- \
  "$synscope" "${eal[@]}" -- run --metrics-listen none --spread-workers 2 --flow-capacity 268435456 --memory-budget 4096
# --flow-memory sizes the table from a budget: a table that holds it fits under it, and it excludes
# --flow-capacity; a closed session may not outlive an idle one.
expect 1 "give --flow-memory or --flow-capacity, not both" -- \
  "$synscope" replay "$work/mix.pcap" -q --flow-memory 64 --flow-capacity 1000
expect 0 "" -- "$synscope" replay "$work/mix.pcap" -q --flow-memory 2 --memory-budget 1024
expect 5 "--flow-capacity [0-9]+ \(full, x 1 engine\): 6[45] MiB" -- \
  "$synscope" replay "$work/mix.pcap" -q --flow-memory 64 --memory-budget 32
expect 1 "--close-timeout 400 is longer than --inactivity-timeout 300" -- \
  "$synscope" replay "$work/mix.pcap" -q --close-timeout 400
echo "ok: memory the options need is checked against the budget, naming them"

# An unknown key in a config file is named, but a 1 MB key is not echoed whole.
{ printf '[run]\n'; head -c 1000000 /dev/zero | tr '\0' 'k'; printf ' = 1\n'; } > "$work/big.toml"
expect 1 "kkkk" -- "$synscope" -- run --config "$work/big.toml" --metrics-listen none
size=$(wc -c < "$work/out")
[ "$size" -lt 2000 ] || fail "an unknown config key was echoed in $size bytes"
echo "ok: unknown config key cut to $size bytes of message"

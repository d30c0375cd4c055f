#!/usr/bin/env bash
# The micro-benchmarks (bench/micro/, Google Benchmark): runs every binary, keeps each one's JSON, and prints
# a summary — parse cost per frame, flow-table lookup cost per size for 128- vs 320-byte entries, session
# update cost, bucket costs, session-line and Community ID costs, and the engine stage's cycles and ns per packet by concurrent flows with each
# size's ratio to the 10 k-flow cost (the issue's bar: 1 M flows <= 1.5x 10 k, read within one run).
#   bash bench/micro.sh [BUILD_DIR]          full run (default build/; several minutes), JSON in
#                                            BUILD_DIR/micro-results/; MICRO_MIN_TIME (s, default 0.5),
#                                            MICRO_FILTER (a --benchmark_filter regex, default all),
#                                            MICRO_REPETITIONS (default 3: the summary shows each median)
#   bash bench/micro.sh --smoke BENCH_DIR    each binary in BENCH_DIR once on its small sizes with a tiny
#                                            minimum time (the meson test micro_bench_smoke)
# Fails when a benchmark reports an error (each checks its own answers) or a binary runs no benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
benches=(packet flow tcp_session buckets engine output)

# check ALLOW_EMPTY JSON...: fails on a benchmark error, or a file without benchmarks unless ALLOW_EMPTY is 1.
check() {
  python3 - "$@" <<'PY'
import json, sys
bad = 0
allow_empty = sys.argv[1] == "1"
for path in sys.argv[2:]:
    text = open(path).read()  # empty when the filter matched nothing in that binary
    runs = json.loads(text).get("benchmarks", []) if text.strip() else []
    if not runs and not allow_empty:
        print(f"micro: {path}: no benchmark ran", file=sys.stderr)
        bad += 1
    for b in runs:
        if b.get("error_occurred"):
            print(f"micro: {b['name']}: {b.get('error_message', 'error')}", file=sys.stderr)
            bad += 1
sys.exit(1 if bad else 0)
PY
}

if [ "${1:-}" = "--smoke" ]; then
  dir=${2:?usage: $0 --smoke BENCH_DIR}
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  # Small sizes only: the 64 Ki-entry tables and 10 k engine flows (the big ones take minutes to populate).
  declare -A filter=([packet]=. [flow]='/65536$|key_hash' [tcp_session]=. [buckets]=. [engine]='/10000$' [output]=.)
  for b in "${benches[@]}"; do
    "$dir/${b}_bench" --benchmark_min_time=0.01 --benchmark_filter="${filter[$b]}" \
      --benchmark_out="$out/$b.json" --benchmark_out_format=json > /dev/null
  done
  check 0 "$out"/*.json
  echo "micro: smoke run of ${#benches[@]} binaries passed"
  exit 0
fi

build=${1:-build}
dir="$build/bench/micro"
out="$build/micro-results"
mkdir -p "$out"
for b in "${benches[@]}"; do
  [ -x "$dir/${b}_bench" ] || { echo "micro: $dir/${b}_bench missing (libbenchmark-dev installed?)" >&2; exit 1; }
done
rm -f "$out"/*.json
for b in "${benches[@]}"; do
  "$dir/${b}_bench" --benchmark_min_time="${MICRO_MIN_TIME:-0.5}" --benchmark_filter="${MICRO_FILTER:-.}" \
    --benchmark_repetitions="${MICRO_REPETITIONS:-3}" --benchmark_display_aggregates_only=true \
    --benchmark_out="$out/$b.json" --benchmark_out_format=json
done
check "$([ -n "${MICRO_FILTER:-}" ] && echo 1 || echo 0)" "$out"/*.json

python3 - "$out" <<'PY'
import json, re, sys
out = sys.argv[1]
def load(name):
    """Each benchmark once, as its median over the repetitions (or its only run), named by run_name."""
    text = open(f"{out}/{name}.json").read()
    runs = json.loads(text)["benchmarks"] if text.strip() else []
    medians = [b for b in runs if b.get("aggregate_name") == "median"]
    chosen = medians if medians else [b for b in runs if b.get("run_type", "iteration") == "iteration"]
    for b in chosen:
        b["name"] = b.get("run_name", b["name"])
    return chosen

print("\n== Summary: medians of the repetitions, per item; CPU time unless marked wall (ratios within this run) ==")
print("\nparse_frame, ns per frame (checksum summed / NIC's word):")
rows = {}
for b in load("packet"):
    _, kind, how = b["name"].split("/")
    rows.setdefault(kind, {})[how] = 1e9 / b["items_per_second"]
for kind, r in rows.items():
    print(f"  {kind:15} {r.get('checksum', 0):6.1f} / {r.get('nic_checksum', 0):6.1f}")

print("\nflow table, ns per operation (128-byte entries | 320-byte entries), bytes per entry:")
ft = {}
key_hash = None
for b in load("flow"):
    if b["name"] == "flow_table/key_hash":
        key_hash = 1e9 / b["items_per_second"]
        continue
    m = re.match(r"flow_table<(\d+)>/(\w+)/(\d+)$", b["name"])
    size, op, n = int(m[1]), m[2], int(m[3])
    ft.setdefault((op, n), {})[size] = (1e9 / b["items_per_second"], b["bytes_per_entry"])
for op in ("lookup_hit", "lookup_hit_burst", "lookup_miss", "insert_erase"):
    for n in sorted({k[1] for k in ft if k[0] == op}):
        r = ft[(op, n)]
        a, c = r.get(128, (0, 0)), r.get(320, (0, 0))
        print(f"  {op:17} {n:>10,} entries  {a[0]:6.1f} | {c[0]:6.1f} ns   ({a[1]:.0f} | {c[1]:.0f} B/entry)")
if key_hash is not None:
    print(f"  (building and hashing a key alone: {key_hash:.1f} ns of each)")

print("\ntcp_session, buckets and output (session lines with their Community ID):")
for name in ("tcp_session", "buckets", "output"):
    for b in load(name):
        per = b.get("segments_per_session")
        extra = f" ({per * 1e9 / b['items_per_second']:.0f} ns per session)" if per else ""
        print(f"  {b['name']:40} {1e9 / b['items_per_second']:7.1f} ns per item{extra}")

print("\nengine stage (SessionEngine::process_burst), per packet: cycles from thread CPU time at the TSC rate"
      " (wall rdtsc in brackets, which counts other threads sharing the CPU), and the ratio to the fewest flows:")
eng = {}
for b in load("engine"):
    m = re.match(r"engine/(\w+)/(\d+)$", b["name"])
    eng.setdefault(m[1], []).append((int(m[2]), b))
for kind, runs in eng.items():
    runs.sort()
    base, base_wall = runs[0][1]["cpu_cycles_per_pkt"], runs[0][1]["cycles_per_pkt"]
    print(f"  {kind}:")
    for n, b in runs:
        extra = f"  {b['sessions_per_s'] / 1e6:.2f} M new sessions/s" if "sessions_per_s" in b else ""
        print(f"    {n:>9,} flows  {b['cpu_cycles_per_pkt']:6.0f} cycles {b['cpu_ns_per_pkt']:6.1f} ns"
              f"  x{b['cpu_cycles_per_pkt'] / base:.2f}   (wall {b['cycles_per_pkt']:6.0f} cycles"
              f" x{b['cycles_per_pkt'] / base_wall:.2f}){extra}")
PY

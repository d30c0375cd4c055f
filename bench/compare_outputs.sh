#!/usr/bin/env bash
# Output equivalence of two synscope builds: a refactored NEW binary must write byte-identical records to a
# BASE binary on the same inputs. Each input is replayed by both, with --threads 1 and --threads 2; the
# comparisons are
#   sessions  the --sessions-out lines with the per-run random "uid" field removed
#   buckets   the --buckets-out lines, byte for byte
#   alerts    the --alerts-out lines, byte for byte (the multi-day capture only)
#   model     the --model-file a run saves, byte for byte (the multi-day capture only)
#   stderr    stderr of the -q run plus its exit status (normally just "exit 0")
#   summary   stderr of a run without -q, its "replay: ... in X s" timing and "progress:" lines removed
# Inputs: bench-1m and bench-dense (the benches' generated captures), every capture of the Zeek corpus
# with the options Zeek ran with (INDEX.tsv columns zeek_checksums and likely_server_ports), and a 4-day
# capture with three injected failure surges replayed with --bucket 900 --alerts-out, then with a model
# file saved by one run and loaded by the next (and the base's saved model loaded by NEW).
#
# Usage: bench/compare_outputs.sh BASE_BINARY NEW_BINARY GEN_BINARY [WORKDIR]
#   GEN_BINARY is build/bench/synscope-gen; WORKDIR (default: a temporary directory removed at exit) holds
#   the generated captures (~400 MB) and both sides' outputs. The corpus is ../shared/corpus/zeek beside
#   the repository, or $SYNSCOPE_ZEEK_CORPUS.
# Prints one line per comparison, "same" or "DIFF" with the first differing line of each side.
# Exit status: 0 every comparison the same; 1 at least one DIFF; 2 bad arguments or a capture could not be
# generated; 77 (skipped) the Zeek corpus is missing and everything else was the same.
set -uo pipefail

usage() { echo "usage: $0 BASE_BINARY NEW_BINARY GEN_BINARY [WORKDIR]" >&2; exit 2; }
if [ $# -lt 3 ] || [ $# -gt 4 ]; then usage; fi
for b in "$1" "$2" "$3"; do
  [ -x "$b" ] || { echo "$0: $b is not an executable file" >&2; exit 2; }
done
base=$(readlink -f "$1") new=$(readlink -f "$2") gen=$(readlink -f "$3")
repo=$(cd "$(dirname "$0")/.." && pwd)
corpus=${SYNSCOPE_ZEEK_CORPUS:-$repo/../shared/corpus/zeek}
[ -d "$corpus" ] && corpus=$(cd "$corpus" && pwd)

if [ $# -eq 4 ]; then
  work=$(mkdir -p "$4" && cd "$4" && pwd) || { echo "$0: cannot use $4 as the work directory" >&2; exit 2; }
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/synscope-compare.XXXXXX") || exit 2
  trap 'rm -rf "$work"' EXIT
fi
# Each binary runs in its own directory with the same relative output names, so the paths that stderr
# messages quote (a model file not found, say) are equal on both sides.
mkdir -p "$work/base" "$work/new" "$work/in"

# A refactor that hangs must not hang the harness: no single replay here takes more than a few seconds.
run_timeout=300
n_same=0 n_diff=0

# show_line FILE N: line N of FILE, cut to 200 characters, or <end of file>.
show_line() {
  local l
  l=$(sed -n "${2}{p;q}" "$1")
  if [ -z "$l" ] && [ "$(wc -l < "$1")" -lt "$2" ]; then echo "<end of file>"; else echo "${l:0:200}"; fi
}

# compare LABEL BASE_FILE NEW_FILE: prints "same LABEL" or "DIFF LABEL" and the first differing line.
compare() {
  local label=$1 a=$2 b=$3 out line
  if cmp -s "$a" "$b"; then
    echo "same  $label"; n_same=$((n_same + 1)); return
  fi
  n_diff=$((n_diff + 1))
  # cmp names the first differing line ("differ: byte B, line L") or the shorter file ("EOF on F after
  # byte B, line L": L is its last line, so the first difference is the line after it).
  out=$(cmp "$a" "$b" 2>&1)
  line=$(echo "$out" | sed -nE 's/.*differ: .*line ([0-9]+).*/\1/p')
  if [ -z "$line" ]; then
    line=$(echo "$out" | sed -nE 's/.*EOF on .* line ([0-9]+).*/\1/p')
    line=$(( ${line:-0} + 1 ))
  fi
  echo "DIFF  $label: first difference at line $line"
  echo "        base: $(show_line "$a" "$line")"
  echo "        new:  $(show_line "$b" "$line")"
}

# replay SIDE NAME ARGS...: runs SIDE's binary (base or new) in its directory with -q, writing
# NAME.sessions, NAME.buckets and NAME.stderr (stderr, then "exit N").
replay() {
  local side=$1 name=$2 bin rc; shift 2
  [ "$side" = base ] && bin=$base || bin=$new
  (cd "$work/$side" && timeout "$run_timeout" "$bin" replay "$@" --sessions-out "$name.sessions" \
     --buckets-out "$name.buckets" -q 2> "$name.stderr")
  rc=$?
  echo "exit $rc" >> "$work/$side/$name.stderr"
}

# summary SIDE NAME ARGS...: the same replay without -q; NAME.summary is its stderr minus the timing line.
summary() {
  local side=$1 name=$2 bin rc; shift 2
  [ "$side" = base ] && bin=$base || bin=$new
  (cd "$work/$side" && timeout "$run_timeout" "$bin" replay "$@" --sessions-out "$name.sum-sessions" \
     --buckets-out "$name.sum-buckets" 2> "$name.summary.raw")
  rc=$?
  grep -Ev '^replay: .* in [0-9.]+ s|^progress: ' "$work/$side/$name.summary.raw" \
    > "$work/$side/$name.summary"
  echo "exit $rc" >> "$work/$side/$name.summary"
  rm -f "$work/$side/$name.sum-sessions" "$work/$side/$name.sum-buckets" "$work/$side/$name.summary.raw"
}

strip_uid() { sed -E 's/"uid":"[^"]*",?//' "$1" > "$1.nouid"; }

# case_compare NAME: the sessions, buckets, stderr and summary comparisons of one replay, then its files go.
case_compare() {
  local name=$1 side
  for side in base new; do strip_uid "$work/$side/$name.sessions"; done
  compare "$name sessions" "$work/base/$name.sessions.nouid" "$work/new/$name.sessions.nouid"
  compare "$name buckets" "$work/base/$name.buckets" "$work/new/$name.buckets"
  compare "$name stderr" "$work/base/$name.stderr" "$work/new/$name.stderr"
  compare "$name summary" "$work/base/$name.summary" "$work/new/$name.summary"
  for side in base new; do
    rm -f "$work/$side/$name".{sessions,sessions.nouid,buckets}
  done
}

# check NAME ARGS...: replays ARGS on both sides with --threads 1 and 2 and compares.
check() {
  local name=$1 t side; shift
  for t in 1 2; do
    for side in base new; do
      replay "$side" "$name.t$t" "$@" --threads "$t"
      summary "$side" "$name.t$t" "$@" --threads "$t"
    done
    case_compare "$name.t$t"
  done
}

generate() {
  local out=$1; shift
  "$gen" -o "$out" "$@" 2> /dev/null || { echo "$0: $gen -o $out $* failed" >&2; exit 2; }
}

started=$SECONDS
echo "base: $base"
echo "new:  $new"

# (a), (b): the benches' captures: a sparse hour and a dense 10 s that keeps ~70k flows in the table.
generate "$work/in/bench-1m.pcap" -n 70000 --seed 42 --window 3600
check bench-1m "$work/in/bench-1m.pcap"
rm -f "$work/in/bench-1m.pcap"
generate "$work/in/bench-dense.pcap" -n 120000 --exchanges 1 --seed 9 --window 10
check bench-dense "$work/in/bench-dense.pcap"
rm -f "$work/in/bench-dense.pcap"

# (c): the Zeek corpus, each capture with Zeek's checksum mode and likely-server-port set.
corpus_missing=0
mkdir -p "$work/base/zeek" "$work/new/zeek"
if [ -f "$corpus/INDEX.tsv" ]; then
  n_captures=0
  while IFS=$'\t' read -r name trace checksums server_ports; do
    [ "$checksums" = validated ] && checksums=verify || checksums=ignore
    check "zeek/$name" "$corpus/$trace" --checksums "$checksums" \
      --likely-server-ports "$server_ports"
    n_captures=$((n_captures + 1))
  done < <(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    { print $col["name"] "\t" $col["trace_file"] "\t" $col["zeek_checksums"] "\t" \
        $col["likely_server_ports"] }' "$corpus/INDEX.tsv")
  echo "zeek corpus: $n_captures captures from $corpus"
else
  corpus_missing=1
  echo "SKIP  zeek corpus: $corpus/INDEX.tsv not found (set SYNSCOPE_ZEEK_CORPUS)"
fi

# (d): four days with a daily cycle and three surges (REJ at one server, S0, SH), alerts on 15-min buckets.
days=$work/in/days.pcap
generate "$days" -n 20000 --seed 4 --window 345600 --start 1699920000 --diurnal 0.7 --exchanges 1 \
  --surge 183600:1800:refused:150:one --surge 97200:1800:unanswered:80 --surge 264600:1800:half_close:30
for t in 1 2; do
  for side in base new; do
    replay "$side" "days.t$t" "$days" --bucket 900 --alerts-out "days.t$t.alerts" --threads "$t"
    summary "$side" "days.t$t" "$days" --bucket 900 --alerts-out "days.t$t.sum-alerts" --threads "$t"
    rm -f "$work/$side/days.t$t.sum-alerts"
  done
  case_compare "days.t$t"
  compare "days.t$t alerts" "$work/base/days.t$t.alerts" "$work/new/days.t$t.alerts"

  # The model file: saved by a first run (no file yet: a warning and a fresh model), loaded by a second.
  for side in base new; do
    rm -f "$work/$side/days.t$t.model"
    for run in 1 2; do
      replay "$side" "days.t$t.model$run" "$days" --bucket 900 --alerts-out "days.t$t.model$run.alerts" \
        --model-file "days.t$t.model" --threads "$t"
      cp "$work/$side/days.t$t.model" "$work/$side/days.t$t.model$run.saved"
    done
  done
  for run in 1 2; do
    case_name="days.t$t.model$run"
    compare "$case_name alerts" "$work/base/$case_name.alerts" "$work/new/$case_name.alerts"
    compare "$case_name saved model" "$work/base/$case_name.saved" "$work/new/$case_name.saved"
    compare "$case_name stderr" "$work/base/$case_name.stderr" "$work/new/$case_name.stderr"
  done
  # NEW starting from the model BASE saved: the file format must not have moved.
  cp "$work/base/days.t$t.model1.saved" "$work/new/days.t$t.cross.model"
  replay new "days.t$t.cross" "$days" --bucket 900 --alerts-out "days.t$t.cross.alerts" \
    --model-file "days.t$t.cross.model" --threads "$t"
  compare "days.t$t new loads base's model: alerts" "$work/base/days.t$t.model2.alerts" \
    "$work/new/days.t$t.cross.alerts"
  compare "days.t$t new loads base's model: saved model" "$work/base/days.t$t.model2.saved" \
    "$work/new/days.t$t.cross.model"
done

echo "$((n_same + n_diff)) comparisons: $n_same same, $n_diff DIFF ($((SECONDS - started)) s)"
if [ "$n_diff" -gt 0 ]; then
  echo "FAIL: the outputs differ"
  exit 1
fi
if [ "$corpus_missing" -eq 1 ]; then
  echo "SKIP: everything compared was the same, but the Zeek corpus is missing ($corpus)"
  exit 77
fi
echo "PASS: all outputs the same"
exit 0

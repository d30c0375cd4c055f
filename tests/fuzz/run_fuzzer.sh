#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time over a scratch copy of its seed corpus (the corpus in the
# repository is never written): exit 0 when no input crashed it, 1 with the reproducer's path otherwise.
# Usage: run_fuzzer.sh FUZZER SEED_DIR [SECONDS]  (SECONDS defaults to $FUZZ_SECONDS, else 25)
set -uo pipefail
fuzzer=$1
seeds=$2
seconds=${3:-${FUZZ_SECONDS:-25}}
[ -x "$fuzzer" ] || { echo "skip: $fuzzer not built"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/crashes"
cp -r "$seeds"/. "$work/corpus/" 2> /dev/null
# One process (the machine is shared); leaks are reported by ASan at exit anyway.
"$fuzzer" "$work/corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/crashes/" > "$work/log" 2>&1
rc=$?
grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$work/log" | tail -2
if [ "$rc" -ne 0 ] || [ -n "$(ls -A "$work/crashes")" ]; then
  tail -60 "$work/log"
  for f in "$work/crashes"/*; do
    [ -e "$f" ] || continue
    keep="/tmp/$(basename "$fuzzer")-$(basename "$f")"
    cp "$f" "$keep"
    echo "FAIL: $(basename "$fuzzer") crashed; reproducer kept in $keep (add it to $seeds)"
  done
  exit 1
fi
echo "ok: $(basename "$fuzzer") ran ${seconds}s without a crash"

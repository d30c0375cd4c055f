#!/usr/bin/env bash
# Installs dependencies, checks the formatting (.clang-format), builds, and runs the whole test suite twice:
# an optimised build, then an AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan/) of the same
# tests. Exits non-zero if anything fails. This is what .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/format.sh --check
# Without the PGO training by default: a profile changes speed, not behaviour, and training is two builds
# and a replay run more (PGO=1 trains as scripts/build.sh does for benchmarks and the demo).
PGO=${PGO:-0} bash scripts/build.sh
meson test -C build --print-errorlogs

if [ ! -f build-asan/build.ninja ]; then
  meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dnative=false -Db_lto=false \
    -Dbuildtype=debugoptimized
fi
ninja -C build-asan
# Instrumented code runs several times slower: each test gets twice its own time limit (unit/replay, which
# replays 20,000 sessions twice, takes 75-95 s under ASan against 120).
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
  meson test -C build-asan --no-suite fuzz --print-errorlogs --timeout-multiplier 2  # fuzzers: own build

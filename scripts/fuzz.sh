#!/usr/bin/env bash
# The libFuzzer targets (tests/fuzz: frame parser, capture reader, session engine) in their own clang
# build, with AddressSanitizer and UndefinedBehaviorSanitizer (Debian's clang; scripts/install-deps.sh).
#   bash scripts/fuzz.sh build            set up and build BUILD_DIR (default build-fuzz) with CXX=clang++
#   bash scripts/fuzz.sh test [DIR]       the bounded runs of suite 'fuzz' (FUZZ_SECONDS each, default 25),
#                                         building in DIR if given (the meson suite passes one of its own)
#   bash scripts/fuzz.sh long TARGET RUNS one long run of TARGET (frame, capture, engine) for RUNS executions,
#                                         over a scratch corpus grown from the seeds; crashes land in
#                                         BUILD_DIR/crashes/TARGET (add each to tests/fuzz/corpus/TARGET)
# Exit 77 when clang++ or libFuzzer is not installed (the suite's "skipped").
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-fuzz}
command -v clang++ > /dev/null || { echo "fuzz: clang++ not installed (apt-get install clang)"; exit 77; }
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' > /tmp/fuzz-probe-$$.cpp
if ! clang++ -fsanitize=fuzzer /tmp/fuzz-probe-$$.cpp -o /tmp/fuzz-probe-$$ 2> /dev/null; then
  rm -f /tmp/fuzz-probe-$$.cpp
  echo "fuzz: clang++ cannot link -fsanitize=fuzzer (libFuzzer missing)"
  exit 77
fi
rm -f /tmp/fuzz-probe-$$.cpp /tmp/fuzz-probe-$$

setup() {
  if [ ! -f "$build/build.ninja" ]; then
    # No LTO (clang's LTO would need lld), no -march=native tuning questions: a sanitizer build for
    # finding bugs, not for speed. Tests and benches are not built here, only the fuzz targets.
    CXX=clang++ meson setup "$build" -Dfuzz=true -Dtests=false -Db_lto=false -Dbuildtype=debugoptimized \
      -Db_sanitize=address,undefined -Db_lundef=false > /dev/null
  fi
  ninja -C "$build" -j"${JOBS:-1}" tests/fuzz/frame-fuzzer tests/fuzz/capture-fuzzer tests/fuzz/engine-fuzzer
}

[ "${1:-}" = test ] && [ -n "${2:-}" ] && build=$2
case "${1:-test}" in
  build) setup ;;
  test)
    setup
    meson test -C "$build" --suite fuzz --print-errorlogs
    ;;
  long)
    target=$2
    runs=$3
    setup
    mkdir -p "$build/corpus/$target" "$build/crashes/$target"
    cp -rn "tests/fuzz/corpus/$target"/. "$build/corpus/$target/" 2> /dev/null || true
    # -fork would use more cores than the shared machine has; one process, niced. UBSan findings abort.
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 nice -n 10 "$build/tests/fuzz/$target-fuzzer" \
      "$build/corpus/$target" -runs="$runs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/crashes/$target/"
    ;;
  *)
    echo "usage: $0 build|test|long TARGET RUNS" >&2
    exit 1
    ;;
esac

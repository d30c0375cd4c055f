#!/usr/bin/env bash
# The threaded tests under ThreadSanitizer: the channel, live and replay units (every SP/SC ring, the
# counter mirrors, the stats core's merge, the replay reader and worker) and the live tests (live_pcap,
# live_memif, live_af_packet, live_metrics: EAL lcores, the metrics and telemetry threads, shutdown).
#   bash scripts/tsan.sh            set up BUILD_DIR (default build-tsan), build, run them
# TSan halts on the first report (exit 66), so a data race fails its test. DPDK's rings are compiled with
# their C11 memory model in this build (meson.build says why); the only suppression (tests/tsan.supp) is a
# race between two of DPDK's own threads inside the memif driver. Timeouts are
# multiplied by 10 (TSan runs code 5-15 times slower). Not part of scripts/test.sh (too slow for every
# run); run it after touching anything shared between threads.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-tsan}
if [ ! -f "$build/build.ninja" ]; then
  # No LTO and no -march=native: a race-finding build. GCC refuses standalone fences under TSan
  # (-Wtsan, an error with werror): the code has none (channel::Mirror uses acquire/release words).
  meson setup "$build" -Db_sanitize=thread -Db_lto=false -Dnative=false -Dbuildtype=debugoptimized > /dev/null
fi
ninja -C "$build" -j"${JOBS:-1}"
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp ${TSAN_OPTIONS:-}"
meson test -C "$build" --timeout-multiplier 10 --print-errorlogs channel live replay consumers \
  live_pcap live_memif live_af_packet live_metrics

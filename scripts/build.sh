#!/usr/bin/env bash
# Configures and builds synscope into BUILD_DIR (default build/). Extra arguments go to `meson setup`.
# A new build directory is built with profile-guided optimisation: first instrumented (-Db_pgo=generate),
# trained on generated captures (scripts/pgo-train.sh), then rebuilt with the profile (-Db_pgo=use); the
# replay runs ~10% faster (docs/design.md). PGO=0 skips it. An existing directory is only rebuilt, with
# the profile it was trained with: after changing the code, retrain (rm -rf the directory and run this
# again) before measuring anything. A function whose profile no longer matches its source can come out
# slower than without PGO (an edited engine.cpp: 0.134 -> 0.164 s single-threaded on bench-dense.pcap);
# this script warns when the sources are newer than the training.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
stamp="$build/pgo-trained"
if [ ! -f "$build/build.ninja" ]; then
  if [ "${PGO:-1}" = 1 ]; then
    meson setup "$build" -Db_pgo=generate "$@"
    ninja -C "$build" app/synscope bench/synscope-gen
    bash scripts/pgo-train.sh "$build"
    meson configure "$build" -Db_pgo=use
    touch "$stamp"
  else
    meson setup "$build" "$@"
  fi
elif [ -f "$stamp" ] && [ -n "$(find lib app -newer "$stamp" -type f -print -quit)" ]; then
  echo "build.sh: sources changed since $build was trained for PGO; for measurements, retrain:" \
       "rm -rf $build && bash scripts/build.sh" >&2
fi
ninja -C "$build"

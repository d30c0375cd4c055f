#!/usr/bin/env bash
# Configures and builds synscope into BUILD_DIR (default build/). Extra arguments go to `meson setup`.
# The build uses profile-guided optimisation: first instrumented (-Db_pgo=generate), trained on generated
# captures (scripts/pgo-train.sh), then rebuilt with the profile (-Db_pgo=use). A profile that no longer
# matches its source can make a function slower than no profile at all, so whenever a source under lib/ or
# app/ is newer than the training, this script trains again before building: a PGO build is never built
# from a stale profile. PGO=0 builds without it (and an existing PGO directory is switched off).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
stamp="$build/pgo-trained"

train() {
  meson configure "$build" -Db_pgo=generate
  ninja -C "$build" app/synscope bench/synscope-gen
  find "$build" -name '*.gcda' -delete
  bash scripts/pgo-train.sh "$build"
  meson configure "$build" -Db_pgo=use
  touch "$stamp"
}

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$@"
  [ "${PGO:-1}" = 1 ] && train
elif [ "${PGO:-1}" != 1 ]; then
  meson configure "$build" -Db_pgo=off
  rm -f "$stamp"
elif [ ! -f "$stamp" ] || [ -n "$(find lib app -newer "$stamp" -type f -print -quit)" ]; then
  echo "build.sh: sources changed since $build was trained for PGO (or it never was): training again" >&2
  train
fi
ninja -C "$build"

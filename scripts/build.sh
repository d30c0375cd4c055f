#!/usr/bin/env bash
# Configures and builds synscope into BUILD_DIR (default build/). Extra arguments go to `meson setup`.
# A new build directory is built with profile-guided optimisation: first instrumented (-Db_pgo=generate),
# trained on generated captures (scripts/pgo-train.sh), then rebuilt with the profile (-Db_pgo=use); the
# replay runs ~10% faster (docs/design.md). PGO=0 skips it. An existing directory is only rebuilt: its
# profile stays, and code changed since only loses the optimisation.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ]; then
  if [ "${PGO:-1}" = 1 ]; then
    meson setup "$build" -Db_pgo=generate "$@"
    ninja -C "$build" app/synscope bench/synscope-gen
    bash scripts/pgo-train.sh "$build"
    meson configure "$build" -Db_pgo=use
  else
    meson setup "$build" "$@"
  fi
fi
ninja -C "$build"

#!/usr/bin/env bash
# Configures and builds synscope into BUILD_DIR (default build/). Extra arguments go to `meson setup`.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$@"
fi
ninja -C "$build"

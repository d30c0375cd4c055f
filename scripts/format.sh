#!/usr/bin/env bash
# Formats every C++ source with the repository's .clang-format (Debian's clang-format 14), or with
# --check, fails listing the files that are not formatted (what CI runs, from scripts/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp')
if [ "${1:-}" = "--check" ]; then
  clang-format --dry-run --Werror "${files[@]}" || {
    echo "format: the files above are not formatted; run: bash scripts/format.sh" >&2
    exit 1
  }
  echo "format: ${#files[@]} files formatted"
else
  clang-format -i "${files[@]}"
fi

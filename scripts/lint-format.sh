#!/usr/bin/env bash
# lint-format.sh - fails when a C file differs from .clang-format (clang-format 14).
set -euo pipefail
cd "$1"
files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h')
[ -n "$files" ] || { echo "no C files"; exit 1; }
# shellcheck disable=SC2086
clang-format --dry-run -Werror $files
echo "lint.format: $(echo "$files" | wc -l) files formatted as .clang-format says"

#!/usr/bin/env bash
# lint-banned.sh - fails when lib/ or src/ calls a banned function (STYLE.md §4).
set -euo pipefail
cd "$1"
banned='strcpy|strcat|sprintf|vsprintf|gets|strtok|strncpy|atoi|atol|alloca|rand|system|popen|tmpnam|mktemp|ctime|localtime'
hits=$(grep -nE "(^|[^_a-zA-Z0-9.>])($banned)[[:space:]]*\(" -r lib src --include='*.c' --include='*.h' || true)
if [ -n "$hits" ]; then
  echo "banned functions used:"; echo "$hits"; exit 1
fi
echo "lint.banned: lib/ and src/ call no banned function"

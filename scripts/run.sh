#!/usr/bin/env bash
# run.sh - the README's first command: install dependencies, build, start casd in the foreground
# on its embedded defaults (SQLite in ./cas-data, software TEE simulator, loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)" --target casd cas
exec build/release/bin/casd "$@"

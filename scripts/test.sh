#!/usr/bin/env bash
# test.sh - the README's second command and .ci/run's: the whole suite (unit, end-to-end, lints,
# fuzz-corpus replay) in a warnings-as-errors build, the same suite under ASan+UBSan, then each
# libFuzzer target for a short run. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
jobs=$(nproc)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

step() { printf '\n=== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

step "build: dev (gcc, -Werror, optimised and fortified)"
cmake -S . -B build/dev -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAS_WERROR=ON >/dev/null
cmake --build build/dev -j"$jobs"
step "tests: dev"
(cd build/dev && ctest -j"$jobs" --output-on-failure --timeout 600)

step "build: asan (gcc, AddressSanitizer + UBSan)"
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DCAS_SANITIZE=ON -DCAS_WERROR=ON >/dev/null
cmake --build build/asan -j"$jobs"
step "tests: asan"
(cd build/asan && ctest -j"$jobs" --output-on-failure --timeout 900 -LE lint)

step "build: fuzz (clang, libFuzzer)"
CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DCAS_FUZZ=ON >/dev/null
cmake --build build/fuzz -j"$jobs"
step "tests: fuzz runs"
(cd build/fuzz && ctest -j"$jobs" --output-on-failure -L fuzzrun)
step "all suites passed"

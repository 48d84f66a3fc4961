#!/usr/bin/env bash
# lint-hardening.sh - checks every built program for PIE, full RELRO (BIND_NOW) and no exec stack.
set -euo pipefail
dir=$1
n=0
for prog in casd cas cas-run; do
  f=$dir/$prog
  [ -f "$f" ] || continue
  readelf -h "$f" | grep -q 'Type:.*DYN' || { echo "$prog: not PIE"; exit 1; }
  readelf -l "$f" | grep -q GNU_RELRO || { echo "$prog: no RELRO"; exit 1; }
  readelf -d "$f" | grep -Eq 'BIND_NOW|FLAGS.*NOW' || { echo "$prog: no BIND_NOW"; exit 1; }
  readelf -lW "$f" | grep GNU_STACK | grep -q 'RWE' && { echo "$prog: executable stack"; exit 1; }
  n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "no programs in $dir"; exit 1; }
echo "lint.hardening: $n programs are PIE with full RELRO and a non-executable stack"

#!/usr/bin/env bash
# store_damaged.sh - casd refuses a damaged SQLite database at start (PRAGMA quick_check), with
# the fix named, instead of starting healthy and writing into malformed tables: a CAS with a
# session, stopped; a table page in the middle of cas.db overwritten (not the file header);
# casd exits non-zero saying what is wrong and what to do; the intact copy still starts.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

casd_attested
cat >"$T/s.yaml" <<'YAML'
name: damaged
version: "0.3"
secrets:
  - {name: a, kind: ascii, size: 30, export_public: true}
  - {name: k, kind: private-key, export_public: true}
YAML
for i in 1 2 3; do
  sed "s/^name: damaged/name: damaged$i/" "$T/s.yaml" >"$T/s$i.yaml"
  expect 0 cas session create "$T/s$i.yaml"
done
stop_pid "$CASD_PID"
DB="$T/cas/cas-data/cas.db"
[ ! -s "$DB-wal" ] || sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
cp "$DB" "$T/intact.db"

# The page header of a table's root page that is not page 1 (the file header stays intact).
read -r page size < <(sqlite3 -separator ' ' "$DB" \
  "SELECT rootpage, (SELECT page_size FROM pragma_page_size) FROM sqlite_master WHERE type = 'table' AND rootpage > 1 AND name = 'cas_session'")
[ -n "$page" ] && [ "$page" -gt 1 ] || fail "no root page for cas_session"
python3 - "$DB" $(((page - 1) * size)) <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2]))
    f.write(b"\x42" * 48)
PY
[ "$(sqlite3 "$DB" 'PRAGMA integrity_check' 2>&1 | head -1)" != ok ] || fail "the overwritten page is not reported by integrity_check"
cmp -s <(head -c 100 "$DB") <(head -c 100 "$T/intact.db") || fail "the file header changed"

st=0
(cd "$T/cas" && timeout 15 casd --listen 127.0.0.1:$P --enclave-listen 127.0.0.1:$Q) >"$T/damaged.log" 2>&1 || st=$?
[ "$st" != 0 ] && [ "$st" != 124 ] || fail "casd on a damaged database exited $st: $(cat "$T/damaged.log")"
grep -q "database '.*cas.db' is damaged: PRAGMA quick_check \(reports '.*'\|failed (.*)\): casd does not run on a damaged database: restore cas.db from a backup together with the sealing.key it was made with, or salvage what is readable with \`sqlite3 cas.db .recover" "$T/damaged.log" ||
  fail "casd's message: $(cat "$T/damaged.log")"
grep "casd:" "$T/damaged.log"
pass "casd refuses a damaged cas.db (exit $st), naming quick_check's finding and the fix"

cp "$T/intact.db" "$DB"
rm -f "$DB-wal" "$DB-shm"
start_casd casd2 "$T/cas" --listen 127.0.0.1:$P --enclave-listen 127.0.0.1:$Q
wait_health "$T/cas/cas-data/cas-chain.pem" $P
[ "$(cas values get damaged2 a -c 127.0.0.1:$P | wc -c)" = 31 ] || fail "the intact database lost a value"
pass "the intact copy starts healthy and keeps its values"

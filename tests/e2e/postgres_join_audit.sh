#!/usr/bin/env bash
# postgres_join_audit.sh - a join fails closed on its audit record: while the database refuses
# audit records (a trigger raising an error, added from outside with psql), an instance asking to
# join gets 503 naming the failed record, and no sealing key; it does not start, and writes no
# key. Once records can be written again, the same join succeeds and is recorded.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_pg
PSQL="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql"
q() { "$PSQL" -qtAX "$PG_URI" -c "$1"; }

PA=$(free_port); QA=$(free_port)
start_casd a "$T/a" --database "$PG_URI" --listen 127.0.0.1:$PA --enclave-listen 127.0.0.1:$QA
wait_health "$T/a/cas-data/cas-chain.pem" $PA
q "CREATE FUNCTION audit_fails() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN RAISE EXCEPTION 'audit records refused by this test'; END \$\$;
   CREATE TRIGGER audit_fails BEFORE INSERT ON cas_audit FOR EACH ROW EXECUTE FUNCTION audit_fails();"

PB=$(free_port); QB=$(free_port)
st=0
(mkdir -p "$T/b" && cd "$T/b" && timeout 30 casd --database "$PG_URI" --listen 127.0.0.1:$PB \
  --enclave-listen 127.0.0.1:$QB) >"$T/b.log" 2>&1 || st=$?
[ "$st" != 0 ] && [ "$st" != 124 ] || fail "B exited $st while A could not record the join: $(tail -5 "$T/b.log")"
grep -q "cannot join the CAS in the database by attestation: .*the instance at '127.0.0.1:$QA' answered HTTP 503: its audit record could not be written (.*audit records refused by this test.*); the sealing key is handed over only once recorded" "$T/b.log" ||
  fail "B's message: $(tail -5 "$T/b.log")"
[ ! -e "$T/b/cas-data/sealing.key" ] || fail "B wrote a sealing key"
grep -q 'ev=casd.audit_failed event="casd.join"' "$T/a.log" || fail "A logged no casd.audit_failed"
curl -sk "https://127.0.0.1:$PA/metrics" | grep -x >/dev/null 'cas_audit_failures_total 1' || fail "A's metrics do not count the failed record"
curl -sk "https://127.0.0.1:$PA/metrics" | grep -x >/dev/null 'cas_joins_total{verdict="ok"} 0' || fail "an unrecorded join counted as ok"
pass "a join whose audit record cannot be written: 503, no sealing key handed over"

q "DROP TRIGGER audit_fails ON cas_audit;"
start_casd b2 "$T/b" --database "$PG_URI" --listen 127.0.0.1:$PB --enclave-listen 127.0.0.1:$QB
wait_health "$T/b/cas-data/cas-chain.pem" $PB
cmp -s "$T/a/cas-data/sealing.key" "$T/b/cas-data/sealing.key" || fail "B has another sealing key"
[ "$(q "SELECT count(*) FROM cas_audit WHERE config_id = 'cas/join' AND verdict LIKE 'ok%'")" = 1 ] ||
  fail "the join has no audit record"
pass "with records written again B joins, and the join is recorded"

#!/usr/bin/env bash
# postgres_store.sh - casd on PostgreSQL (the store's second engine): the test starts its own
# PostgreSQL on loopback, two casd instances share it (the sealing key copied by hand, as an
# operator restoring from a backup would; e2e.postgres_join covers the attested join), a
# session created through one is read and its public value served through the other, both
# present chains of the same CAS root, and concurrent updates through both from one predecessor have exactly one winner each time.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_pg
export CAS_CLI_CONFIG="$T/cli.json" CAS_CLI_RETRIES=0
PA=$(free_port); QA=$(free_port); PB=$(free_port); QB=$(free_port)
start_casd a "$T/a" --database "$PG_URI" --listen 127.0.0.1:$PA --enclave-listen 127.0.0.1:$QA
wait_health "$T/a/cas-data/cas-chain.pem" $PA
grep -q 'database="postgresql"' "$T/a.log" || fail "casd A is not on PostgreSQL"
mkdir -p "$T/b/cas-data" && chmod 700 "$T/b/cas-data"
cp "$T/a/cas-data/sealing.key" "$T/b/cas-data/sealing.key"
start_casd b "$T/b" --database "$PG_URI" --listen 127.0.0.1:$PB --enclave-listen 127.0.0.1:$QB
wait_health "$T/b/cas-data/cas-chain.pem" $PB
ra=$(awk '/BEGIN CERT/{n++} n==2' "$T/a/cas-data/cas-chain.pem")
rb=$(awk '/BEGIN CERT/{n++} n==2' "$T/b/cas-data/cas-chain.pem")
[ "$ra" = "$rb" ] || fail "the instances have different CAS roots"
cmp -s "$T/a/cas-data/cas-chain.pem" "$T/b/cas-data/cas-chain.pem" && fail "the instances share an intermediate"
pass "two instances on one PostgreSQL: one CAS root, an intermediate each"

for inst in "$PA" "$PB"; do
  MR=$(curl -sk https://127.0.0.1:$inst/ | sed -n 's/.*<code id="mrenclave">\([0-9a-f]\{64\}\)<\/code>.*/\1/p')
  cas attest -G --mrenclave "$MR" --only_for_testing-ignore-signer --only_for_testing-debug 127.0.0.1:$inst >/dev/null 2>"$T/err" ||
    fail "attest $inst: $(cat "$T/err")"
done
cat >"$T/s.yaml" <<'YAML'
name: shared
version: "0.3"
secrets:
  - {name: v, kind: ascii, value: "from-a", export_public: true}
  - {name: g, kind: ascii, export_public: true}
YAML
h=$(cas session create "$T/s.yaml" -c 127.0.0.1:$PA) || fail "create through A"
[ "$(cas values get shared v -c 127.0.0.1:$PB)" = from-a ] || fail "B does not serve A's value"
[ "$(cas values get shared g -c 127.0.0.1:$PB)" = "$(cas values get shared g -c 127.0.0.1:$PA)" ] ||
  fail "a generated value differs between instances"
cas session read shared -c 127.0.0.1:$PB >/dev/null || fail "read through B"
pass "created through A, read and served through B"

jq -r .identity "$CAS_CLI_CONFIG" >"$T/id.pem"
cur=$h
for i in $(seq 1 20); do
  for side in a b; do
    printf 'name: shared\nversion: "0.3"\npredecessor: "%s"\nsecrets:\n  - {name: v, kind: ascii, value: "%s-%s", export_public: true}\n' "$cur" "$i" "$side" >"$T/r-$side.yaml"
  done
  curl -sk -o "$T/ra.json" -w '%{http_code}' --cert "$T/id.pem" --key "$T/id.pem" --data-binary @"$T/r-a.yaml" https://127.0.0.1:$PA/v1/sessions >"$T/ca" &
  x=$!
  curl -sk -o "$T/rb.json" -w '%{http_code}' --cert "$T/id.pem" --key "$T/id.pem" --data-binary @"$T/r-b.yaml" https://127.0.0.1:$PB/v1/sessions >"$T/cb" &
  y=$!
  wait "$x" "$y"
  ca=$(cat "$T/ca"); cb=$(cat "$T/cb")
  if [ "$ca" = 200 ] && [ "$cb" = 409 ]; then cur=$(jq -r .hash "$T/ra.json")
  elif [ "$cb" = 200 ] && [ "$ca" = 409 ]; then cur=$(jq -r .hash "$T/rb.json")
  else fail "race $i through A and B: $ca and $cb"; fi
done
pass "20 races through two instances: exactly one winner each"

PGPASSWORD= runuser -u postgres -- "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/pg_dump" \
  -h 127.0.0.1 -p "$PG_PORT" -U cas postgres >"$T/dump.sql" 2>"$T/dump.err" || fail "pg_dump: $(cat "$T/dump.err")"
for v in from-a 20-a 20-b; do
  grep -q -- "$v" "$T/dump.sql" && fail "'$v' found in pg_dump"
done
pass "pg_dump holds no secret value in clear"
echo "postgres_store: all passed"

#!/usr/bin/env bash
# postgres_durability.sh - nothing acknowledged is lost (issue 9): two casd instances on the
# test's own PostgreSQL (B joined A by attestation) take a stream of session creations, one is killed with SIGKILL in the
# middle, every creation either instance acknowledged is present afterwards, and the other never
# stops serving. Then backup and restore: pg_dump into a fresh database, a casd on it with the
# same sealing key serves the same values.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_pg
export CAS_CLI_CONFIG="$T/cli.json" CAS_CLI_RETRIES=0
PA=$(free_port); QA=$(free_port); PB=$(free_port); QB=$(free_port)
start_casd a "$T/a" --database "$PG_URI" --listen 127.0.0.1:$PA --enclave-listen 127.0.0.1:$QA
wait_health "$T/a/cas-data/cas-chain.pem" $PA
pid_a=$CASD_PID
start_casd b "$T/b" --database "$PG_URI" --listen 127.0.0.1:$PB --enclave-listen 127.0.0.1:$QB
wait_health "$T/b/cas-data/cas-chain.pem" $PB
cas self show >/dev/null
jq -r .identity "$CAS_CLI_CONFIG" >"$T/id.pem"

# Two streams of creations, one per instance; each line records an acknowledged creation.
stream() {
  local port=$1 tag=$2 i
  for i in $(seq 1 60); do
    printf 'name: s-%s-%s\nversion: "0.3"\nsecrets:\n  - {name: v, kind: ascii, value: "%s-%s", export_public: true}\n' \
      "$tag" "$i" "$tag" "$i" >"$T/body-$tag.yaml"
    code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 5 --cert "$T/id.pem" --key "$T/id.pem" \
      --data-binary @"$T/body-$tag.yaml" https://127.0.0.1:$port/v1/sessions || true)
    [ "$code" = 201 ] && echo "s-$tag-$i" >>"$T/acked-$tag"
  done
}
touch "$T/acked-a" "$T/acked-b"
stream $PA a &
sa=$!
stream $PB b &
sb=$!
for _ in $(seq 1 100); do [ "$(wc -l <"$T/acked-a")" -ge 15 ] && break; sleep 0.05; done
kill -9 "$pid_a"
wait "$sa" "$sb" || true
na=$(wc -l <"$T/acked-a"); nb=$(wc -l <"$T/acked-b")
[ "$na" -ge 15 ] || fail "A acknowledged only $na creations before it was killed"
[ "$nb" = 60 ] || fail "B stopped serving: $nb of 60 acknowledged"
for s in $(cat "$T/acked-a" "$T/acked-b"); do
  body=$(curl -sk https://127.0.0.1:$PB/v1/values/session=$s,secret=v)
  [ "$(jq -r .value <<<"$body")" = "${s#s-}" ] || fail "acknowledged $s is missing: $body"
done
pass "A killed with SIGKILL after $na creations: all $((na + nb)) acknowledged creations present, B served all 60"

# Backup and restore: pg_dump, a fresh database, the same sealing key, the same values.
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
runuser -u postgres -- "$bin/pg_dump" -h 127.0.0.1 -p "$PG_PORT" -U cas -Fc postgres >"$T/backup.dump"
runuser -u postgres -- "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U cas restored
runuser -u postgres -- "$bin/pg_restore" -h 127.0.0.1 -p "$PG_PORT" -U cas -d restored "$T/backup.dump"
PC=$(free_port); QC=$(free_port)
mkdir -p "$T/c/cas-data" && chmod 700 "$T/c/cas-data"
cp "$T/a/cas-data/sealing.key" "$T/c/cas-data/sealing.key"
start_casd c "$T/c" --database "postgresql://cas@127.0.0.1:$PG_PORT/restored" \
  --listen 127.0.0.1:$PC --enclave-listen 127.0.0.1:$QC
wait_health "$T/c/cas-data/cas-chain.pem" $PC
for s in $(head -5 "$T/acked-b"); do
  [ "$(curl -sk https://127.0.0.1:$PC/v1/values/session=$s,secret=v | jq -r .value)" = "${s#s-}" ] ||
    fail "the restored database does not serve $s"
done
ra=$(awk '/BEGIN CERT/{n++} n==2' "$T/b/cas-data/cas-chain.pem")
rc=$(awk '/BEGIN CERT/{n++} n==2' "$T/c/cas-data/cas-chain.pem")
[ "$ra" = "$rc" ] || fail "the restored CAS has another root"
pass "pg_dump and pg_restore into a fresh database: the same CAS root and values"
echo "postgres_durability: all passed"

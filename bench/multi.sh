#!/usr/bin/env bash
# multi.sh - issue 9's benchmark, one run: public value reads and session creations per second
# for one casd on SQLite, one on PostgreSQL, and two on one PostgreSQL (a client per instance,
# rates added). Starts its own PostgreSQL (initdb in a temporary directory, loopback, as the
# postgres user). Usage: bench/multi.sh [SECONDS]  (default 5 per measurement)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)" --target casd cas bench_multi >/dev/null
B=$PWD/build/release/bin
d=$(mktemp -d); chmod 755 "$d"
pids=()
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -d "$d/pg/data" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$d/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$d"
}
trap cleanup EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
PG=$(port)
mkdir -p "$d/pg" && chown postgres "$d/pg"
runuser -u postgres -- "$pgbin/initdb" -D "$d/pg/data" -A trust -U cas >/dev/null
runuser -u postgres -- "$pgbin/pg_ctl" -D "$d/pg/data" -l "$d/pg/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PG -k $d/pg" start >/dev/null
URI="postgresql://cas@127.0.0.1:$PG/postgres"

# start NAME DB: a casd in $d/NAME; prints its client port
start() {
  local name=$1 db=$2 p e
  p=$(port); e=$(port)
  mkdir -p "$d/$name/cas-data" && chmod 700 "$d/$name/cas-data"
  [ -f "$d/sealing.key" ] && [ -n "$db" ] && cp "$d/sealing.key" "$d/$name/cas-data/"
  (cd "$d/$name" && exec "$B/casd" --listen 127.0.0.1:$p --enclave-listen 127.0.0.1:$e \
    --log-level warn --uploads-per-minute 0 ${db:+--database "$db"}) >"$d/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    curl -sf --cacert "$d/$name/cas-data/cas-chain.pem" --connect-to cas:$p:127.0.0.1:$p \
      https://cas:$p/v1/health >/dev/null 2>&1 && break
    sleep 0.1
  done
  [ -n "$db" ] && [ ! -f "$d/sealing.key" ] && cp "$d/$name/cas-data/sealing.key" "$d/sealing.key"
  echo "$p"
}
seed() { # a public value to read
  local p=$1 dir=$2
  export CAS_CLI_CONFIG="$d/cli-$p.json"
  MR=$(curl -sk https://127.0.0.1:$p/ | sed -n 's/.*<code id="mrenclave">\([0-9a-f]\{64\}\)<\/code>.*/\1/p')
  "$B/cas" attest -G --mrenclave "$MR" --only_for_testing-ignore-signer --only_for_testing-debug 127.0.0.1:$p >/dev/null 2>&1
  printf 'name: multi\nversion: "0.3"\nsecrets:\n  - {name: v, kind: ascii, value: "42", export_public: true}\n' >"$d/multi.yaml"
  "$B/cas" session create "$d/multi.yaml" >/dev/null 2>&1 || true
}
run() { # CONFIG PORT...: reads then creations, one client per port in parallel, rates added
  local cfg=$1; shift
  local r=0 w=0 p out
  for kind in read create; do
    out=$(for p in "$@"; do "$B/bench_multi" $kind "$p" "$d/chain-$p.pem" "$secs" "$p" & done; wait)
    sum=$(awk '{s+=$1} END {print s}' <<<"$out")
    [ $kind = read ] && r=$sum || w=$sum
  done
  printf '%-32s %10s reads/s %10s creations/s\n' "$cfg" "$r" "$w"
}
S=$(start sqlite "")
cp "$d/sqlite/cas-data/cas-chain.pem" "$d/chain-$S.pem"; seed "$S" sqlite
run "one instance, SQLite" "$S"
A=$(start pga "$URI")
cp "$d/pga/cas-data/cas-chain.pem" "$d/chain-$A.pem"; seed "$A" pga
run "one instance, PostgreSQL" "$A"
Bp=$(start pgb "$URI")
cp "$d/pgb/cas-data/cas-chain.pem" "$d/chain-$Bp.pem"
run "two instances, one PostgreSQL" "$A" "$Bp"

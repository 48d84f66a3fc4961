#!/usr/bin/env bash
# durability.sh - nothing acknowledged is lost when casd dies (SQLite, the default store): in
# each of several rounds, three clients stream session creations through casd, casd is killed
# with SIGKILL at a random moment and started again on the same data directory and ports; every
# creation acknowledged (201) before the kill is then present with the hash casd answered, and
# its public value reads back. Creations in flight at the kill may or may not be there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ROUNDS=${DURABILITY_ROUNDS:-4}
STREAMS=3
P=$(free_port); Q=$(free_port)
DIR="$T/cas"
CHAIN="$DIR/cas-data/cas-chain.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/id.key" \
  -out "$T/id.crt" -subj /CN=durability -days 2 2>/dev/null
start_casd casd "$DIR" --listen 127.0.0.1:$P --enclave-listen 127.0.0.1:$Q
wait_health "$CHAIN" $P

# stream ROUND TAG: creates sessions d-ROUND-TAG-1, -2, ... until casd stops answering; each
# acknowledged one is appended to $T/acked as "NAME HASH" (one write per line: the streams
# share the file).
stream() {
  local r=$1 tag=$2 i=0 name code
  while :; do
    i=$((i + 1))
    name="d-$r-$tag-$i"
    printf 'name: %s\nversion: "0.3"\nsecrets:\n  - {name: v, kind: ascii, value: "%s", export_public: true}\n  - {name: k, kind: private-key}\n' \
      "$name" "$name" >"$T/body-$tag.yaml"
    code=$(curl -s -o "$T/resp-$tag.json" -w '%{http_code}' --max-time 5 --cacert "$CHAIN" \
      --connect-to "cas:$P:127.0.0.1:$P" --cert "$T/id.crt" --key "$T/id.key" \
      --data-binary @"$T/body-$tag.yaml" "https://cas:$P/v1/sessions" || true)
    case $code in
    201) echo "$name $(jq -r .hash "$T/resp-$tag.json")" >>"$T/acked" ;;
    000) return 0 ;; # casd is gone: the round is over for this stream
    503) echo "$name" >>"$T/busy" ;; # refused, so not acknowledged: allowed, counted
    *) echo "unexpected status $code for $name: $(cat "$T/resp-$tag.json")" >>"$T/odd" ;;
    esac
  done
}

touch "$T/acked"
for r in $(seq 1 "$ROUNDS"); do
  before=$(wc -l <"$T/acked")
  spids=()
  for s in $(seq 1 $STREAMS); do
    stream "$r" "$s" &
    spids+=($!)
  done
  # A random moment 0 to 1.2 s after the round's first acknowledgement (awaited up to 20 s, so
  # a slow machine still kills casd with creations behind it and in flight).
  for _ in $(seq 1 200); do [ "$(wc -l <"$T/acked")" -gt "$before" ] && break; sleep 0.1; done
  sleep "$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", rand() * 1.2 }')"
  kill -9 "$CASD_PID"
  wait "$CASD_PID" 2>/dev/null || true
  for p in "${spids[@]}"; do wait "$p"; done
  [ ! -s "$T/odd" ] || fail "round $r: $(cat "$T/odd")"
  got=$(($(wc -l <"$T/acked") - before))
  [ "$got" -ge 1 ] || fail "round $r: no creation was acknowledged before the kill"
  start_casd "casd$r" "$DIR" --listen 127.0.0.1:$P --enclave-listen 127.0.0.1:$Q
  wait_health "$CHAIN" $P
  echo "round $r: killed after $got acknowledged creations; casd restarted"
done

# Every acknowledged creation of every round: the session with the hash casd answered (read
# with the creator's identity), and its public value. One curl per 50 names (keep-alive).
check() {
  local args=() n
  for n in "$@"; do
    args+=(-o "$T/got/$n.session" "https://cas:$P/v1/sessions/$n"
      -o "$T/got/$n.value" "https://cas:$P/v1/values/session=$n,secret=v")
  done
  curl -s --max-time 30 --cacert "$CHAIN" --connect-to "cas:$P:127.0.0.1:$P" \
    --cert "$T/id.crt" --key "$T/id.key" "${args[@]}" || fail "reading back the sessions failed"
}
mkdir -p "$T/got"
mapfile -t names < <(cut -d' ' -f1 "$T/acked")
for ((i = 0; i < ${#names[@]}; i += 50)); do check "${names[@]:i:50}"; done
lost=0
while read -r name hash; do
  h=$(jq -r .hash "$T/got/$name.session" 2>/dev/null || true)
  v=$(jq -r .value "$T/got/$name.value" 2>/dev/null || true)
  if [ "$h" != "$hash" ] || [ "$v" != "$name" ]; then
    echo "lost: $name (acknowledged with hash $hash; now hash '$h', value '$v')" >&2
    lost=$((lost + 1))
  fi
done <"$T/acked"
total=$(wc -l <"$T/acked")
[ ! -f "$T/busy" ] || echo "note: $(wc -l <"$T/busy") creations were refused with 503 (not acknowledged)"
[ "$lost" = 0 ] || fail "$lost of $total acknowledged creations are missing after SIGKILL"
pass "$ROUNDS rounds of SIGKILL during $STREAMS streams of creations: all $total acknowledged creations present with their hash and value"
echo "durability: all passed"

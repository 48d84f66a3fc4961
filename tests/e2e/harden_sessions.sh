#!/usr/bin/env bash
# harden_sessions.sh - generating secrets does not hold the database's write lock: while two
# clients upload sessions of RSA-3072 keys (as many as this machine makes in about 4 s, 2 to 16
# each), small uploads, GET /v1/health and session reads each answer within 2 s, none 503. (Before, every key was generated inside the
# write transaction, so the small uploads waited for it and got 503 after the busy timeout.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Four workers: each heavy upload keeps one busy while it generates; two are left to answer.
casd_attested --threads 4
printf 'name: reader\nversion: "0.3"\nsecrets:\n  - name: v\n    kind: ascii\n' >"$T/reader.yaml"
expect 0 cas session create "$T/reader.yaml" # also makes the CLI's identity
jq -r .identity "$CAS_CLI_CONFIG" >"$T/id.pem"
CURL=(curl -sS --cacert "$T/cas_cert.crt" --connect-to "cas:$P:127.0.0.1:$P" --max-time 60)
UP=("${CURL[@]}" --cert "$T/id.pem" --key "$T/id.pem")

# Keys per heavy session: about 4 s of generation on this machine as loaded now.
t0=$(date +%s%N)
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out /dev/null 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out /dev/null 2>/dev/null
ms=$(( ($(date +%s%N) - t0) / 2000000 + 1 ))
K=$(( (4000 + ms - 1) / ms )); [ "$K" -ge 2 ] || K=2; [ "$K" -le 16 ] || K=16
echo "# $K RSA-3072 keys per heavy session (one takes about $ms ms here)"

heavy() { # heavy NAME: a session of K RSA-3072 keys
  printf 'name: %s\nversion: "0.3"\nsecrets:\n' "$1"
  for i in $(seq 1 "$K"); do
    printf '  - name: k%s\n    kind: private-key\n    key_type: RSA-3072\n' "$i"
  done
}
HEAVY=()
for h in heavy1 heavy2; do
  heavy $h >"$T/$h.yaml"
  "${UP[@]}" -o "$T/$h.json" -w '%{http_code} %{time_total}\n' --data-binary @"$T/$h.yaml" \
    "https://cas:$P/v1/sessions" >"$T/$h.code" 2>&1 &
  PIDS+=("$!")
  HEAVY+=("$!")
done
sleep 0.3 # both heavy uploads are generating now

# Small requests while the heavy uploads run: each within 2 s, none 503.
slow=0; n=0
while kill -0 "${HEAVY[0]}" 2>/dev/null || kill -0 "${HEAVY[1]}" 2>/dev/null; do
  n=$((n + 1))
  printf 'name: small%s\nversion: "0.3"\nsecrets:\n  - name: v\n    kind: ascii\n' "$n" >"$T/small.yaml"
  read -r code t < <("${UP[@]}" -o "$T/s.json" -w '%{http_code} %{time_total}\n' \
    --data-binary @"$T/small.yaml" "https://cas:$P/v1/sessions")
  [ "$code" = 201 ] || fail "small upload $n answered $code in $t s while keys were generated: $(cat "$T/s.json")"
  awk -v t="$t" 'BEGIN { exit !(t < 2) }' || fail "small upload $n took $t s while keys were generated"
  read -r code t < <("${CURL[@]}" -o /dev/null -w '%{http_code} %{time_total}\n' "https://cas:$P/v1/health")
  [ "$code" = 200 ] || fail "GET /v1/health answered $code while keys were generated"
  awk -v t="$t" 'BEGIN { exit !(t < 2) }' || fail "GET /v1/health took $t s while keys were generated"
  read -r code t < <("${UP[@]}" -o /dev/null -w '%{http_code} %{time_total}\n' "https://cas:$P/v1/sessions/reader")
  [ "$code" = 200 ] || fail "a session read answered $code while keys were generated"
  awk -v t="$t" 'BEGIN { exit !(t < 2) }' || fail "a session read took $t s while keys were generated"
  [ "$n" -lt 60 ] || break # within uploads_per_minute
  sleep 0.1
done
[ "$n" -ge 3 ] || fail "the heavy uploads ended before 3 rounds of small requests ($n)"
wait "${HEAVY[0]}" "${HEAVY[1]}" || true
for h in heavy1 heavy2; do
  read -r code t <"$T/$h.code"
  [ "$code" = 201 ] || fail "the upload of $h answered $code: $(cat "$T/$h.json")"
done

pass "$n rounds of small upload, health and read each under 2 s while $((2 * K)) RSA-3072 keys were generated"

# What was made outside the transaction was stored with the session.
h1=$(jq -r .hash "$T/heavy1.json")
"${UP[@]}" -o "$T/read.json" "https://cas:$P/v1/sessions/heavy1"
[ "$(jq -r .hash "$T/read.json")" = "$h1" ] || fail "heavy1 reads back another hash"
sqlite3 "$T/cas/cas-data/cas.db" "SELECT COUNT(*) FROM cas_secret WHERE session = 'heavy2'" >"$T/n" 2>&1 ||
  fail "sqlite3: $(cat "$T/n")"
[ "$(cat "$T/n")" = "$K" ] || fail "heavy2 has $(cat "$T/n") stored values, not $K"
pass "the heavy sessions were stored whole"

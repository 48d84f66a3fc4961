#!/usr/bin/env bash
# harden_mix.sh - an update whose values are made outside the write transaction never stores a
# mix: while it generates (a public key of the kept private key, and RSA keys that take time),
# the session is deleted and created again with the same content (so the same hash, but a new
# private key). The update then answers 409 "changed meanwhile; try again" and stores nothing: no
# public key of a private key that is no longer stored. (Before, the update held the write lock, so the
# delete waited for it; the script also fails there, on the delete's time.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

casd_attested --threads 4
v1() {
  printf 'name: mix\nversion: "0.3"\naccess_policy:\n  delete: [CREATOR]\nsecrets:\n'
  printf '  - name: k\n    kind: private-key\n    migrate: true\n'
}
v1 >"$T/v1.yaml"
expect 0 cas session create "$T/v1.yaml"
h1=$(cat "$T/out")
jq -r .identity "$CAS_CLI_CONFIG" >"$T/id.pem"
UP=(curl -sS --cacert "$T/cas_cert.crt" --connect-to "cas:$P:127.0.0.1:$P" --max-time 120
  --cert "$T/id.pem" --key "$T/id.pem")
{
  v1 | sed "s/^version: \"0.3\"$/version: \"0.3\"\npredecessor: \"$h1\"/"
  printf '  - name: pub\n    kind: public-key\n    private_key: k\n'
  for i in 1 2 3; do printf '  - name: r%s\n    kind: private-key\n    key_type: RSA-3072\n' "$i"; done
} >"$T/v2.yaml"
grep -q "^predecessor: \"$h1\"$" "$T/v2.yaml" || fail "v2 has no predecessor line"

"${UP[@]}" -o "$T/v2.json" -w '%{http_code}\n' --data-binary @"$T/v2.yaml" \
  "https://cas:$P/v1/sessions" >"$T/v2.code" 2>&1 &
up=$!
PIDS+=("$up")
sleep 0.3 # the update is generating its RSA keys now
read -r code t < <("${UP[@]}" -X DELETE -o "$T/del.json" -w '%{http_code} %{time_total}\n' "https://cas:$P/v1/sessions/mix")
[ "$code" = 204 ] || fail "the delete answered $code: $(cat "$T/del.json")"
awk -v t="$t" 'BEGIN { exit !(t < 2) }' || fail "the delete took $t s while the update generated keys"
kill -0 "$up" 2>/dev/null || fail "the update ended before the delete; it proves nothing"
expect 0 cas session create "$T/v1.yaml"
[ "$(cat "$T/out")" = "$h1" ] || fail "the session created again has another hash"
wait "$up" || true
[ "$(cat "$T/v2.code")" = 409 ] || fail "the update answered $(cat "$T/v2.code"): $(cat "$T/v2.json")"
[ "$(jq -r '.msg[1]' "$T/v2.json")" = "the stored values of session 'mix' changed meanwhile; try again" ] ||
  fail "the update's message: $(jq -r '.msg[1]' "$T/v2.json")"
pass "an update whose kept key was replaced meanwhile: 409 changed meanwhile"

# Nothing of the update was stored.
sqlite3 "$T/cas/cas-data/cas.db" "SELECT name FROM cas_secret WHERE session = 'mix' ORDER BY name" >"$T/names"
[ "$(tr '\n' ' ' <"$T/names")" = "k " ] || fail "stored after the 409: $(tr '\n' ' ' <"$T/names")"
expect 0 cas session read mix
pass "nothing of the refused update was stored"

#!/usr/bin/env bash
# seed_sessions.sh - the first seed's session workflow byte for byte (api.md §2.2): attest the
# CAS, create example_session, read its public value with curl; then the rules around it: the
# seed file with its predecessor fails on a fresh CAS, POST /session with curl, 50 concurrent
# update races with exactly one winner each, access for a second identity, ANY and NONE, a
# namespace child, read-back and verify, imports and delete, and no secret in the database files.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

export CAS_CLI_CONFIG="$T/cli.json" CAS_CLI_RETRIES=0
CORPUS="$CAS_SOURCE_DIR/tests/policy/corpus"
start_casd casd "$T/cas"
wait_health "$T/cas/cas-data/cas-chain.pem" 8081

MRENCLAVE=$(curl -sk https://127.0.0.1:8081/ | sed -n 's/.*<code id="mrenclave">\([0-9a-f]\{64\}\)<\/code>.*/\1/p')
expect 0 cas attest -G --mrenclave "$MRENCLAVE" --only_for_testing-ignore-signer --only_for_testing-debug 127.0.0.1
cas show-certificate >"$T/cas_cert.crt"
CURL=(curl -sS --cacert "$T/cas_cert.crt" --connect-to cas:8081:127.0.0.1:8081)

# The seed file with its predecessor line, on a fresh CAS: fails naming the predecessor.
expect 1 cas session create "$CORPUS/example_session_with_predecessor.yaml"
grep -qx "cas: session 'example_session' does not exist; remove 'predecessor' to create it" "$T/err" ||
  fail "create with a predecessor: $(cat "$T/err")"
pass "the seed file with its predecessor fails on a fresh CAS, naming it"

# The seed's flow.
expect 0 cas session create "$CORPUS/example_session.yaml"
H1=$(cat "$T/out")
[[ "$H1" =~ ^[0-9a-f]{64}$ ]] || fail "create printed '$H1'"
[ "$(cas session calculate-hash --with-self-as-creator tls "$CORPUS/example_session.yaml")" = "$H1" ] ||
  fail "the server's hash differs from calculate-hash"
body=$("${CURL[@]}" https://cas:8081/v1/values/session=example_session,secret=example_value)
[ "$body" = '{"kind": "string", "value": "42", "expires": null, "renew": null}' ] ||
  fail "values API answered: $body"
body=$("${CURL[@]}" https://cas:8081/v1/values/session=example_sessio,secret=example_value)
[ "$body" = "{\"msg\": [\"Failed to read value 'example_value' of '/session=example_sessio' requested by a public client\", \"Secret does not exist or is not visible for a public client\"]}" ] ||
  fail "wrong session name answered: $body"
[ "$(cas values get example_session example_value)" = 42 ] || fail "cas values get"
pass "the seed: create, then curl prints the value exactly; a wrong name gets the exact 404"

# POST /session with curl and a client certificate behaves like cas session create.
jq -r .identity "$CAS_CLI_CONFIG" >"$T/id.pem"
sed 's/example_session/curl_session/; s/example_value/other_value/; s/"42"/"43"/; /export_public/d' \
  "$CORPUS/example_session.yaml" >"$T/curl_session.yaml"
code=$("${CURL[@]}" -o "$T/post.json" -w '%{http_code}' --cert "$T/id.pem" --key "$T/id.pem" \
  --data-binary @"$T/curl_session.yaml" https://cas:8081/session)
[ "$code" = 201 ] || fail "POST /session answered $code: $(cat "$T/post.json")"
[ "$(jq -r .hash "$T/post.json")" = "$(cas session calculate-hash --with-self-as-creator tls "$T/curl_session.yaml")" ] ||
  fail "POST /session hash differs from calculate-hash"
code=$("${CURL[@]}" -o "$T/post2.json" -w '%{http_code}' --data-binary @"$T/curl_session.yaml" https://cas:8081/session)
[ "$code" = 403 ] || fail "an upload without a client certificate answered $code"
jq -e '.msg[1] == "a client certificate is required to upload sessions"' "$T/post2.json" >/dev/null ||
  fail "403 message: $(cat "$T/post2.json")"
body=$("${CURL[@]}" https://cas:8081/v1/values/session=curl_session,secret=other_value)
[ "$body" = "{\"msg\": [\"Failed to read value 'other_value' of '/session=curl_session' requested by a public client\", \"Secret does not exist or is not visible for a public client\"]}" ] ||
  fail "a secret that is not public answered: $body"
pass "POST /session with curl; no certificate: 403; a non-public secret gets the exact 404"

# Read back and verify.
expect 0 cas session read example_session
cp "$T/out" "$T/readback.yaml"
grep -q "example_value" "$T/readback.yaml" || fail "read-back lacks the secret"
[ "$(cas session verify "$T/readback.yaml")" = "$H1" ] || fail "verify of the read-back"
[ "$(cas session verify "$CORPUS/example_session.yaml")" = "$H1" ] || fail "verify of the original"
sed 's/"42"/"44"/' "$CORPUS/example_session.yaml" >"$T/changed.yaml"
expect 1 cas session verify "$T/changed.yaml"
grep -q "differs from $T/changed.yaml at 'secrets\[0\].value'" "$T/err" || fail "verify diff: $(cat "$T/err")"
grep -q 44 "$T/err" && fail "verify printed a value"
pass "read-back and original verify; a change is named by its path, no value printed"

# Updates: cas session update fills in the predecessor; 50 races, exactly one winner each.
sed 's/"42"/"45"/' "$CORPUS/example_session.yaml" >"$T/v2.yaml"
expect 0 cas session update "$T/v2.yaml"
cur=$(cat "$T/out")
expect 0 cas session read example_session --hash "$H1"
grep -q '"42"' "$T/out" || fail "read --hash of the first version"
wins=0
for i in $(seq 1 50); do
  for side in a b; do
    printf 'name: example_session\nversion: "0.3"\npredecessor: "%s"\nsecrets:\n  - name: example_value\n    kind: ascii\n    value: "%s-%s"\n    export_public: true\n' \
      "$cur" "$i" "$side" >"$T/race-$side.yaml"
  done
  "${CURL[@]}" -o "$T/ra.json" -w '%{http_code}\n' --cert "$T/id.pem" --key "$T/id.pem" --data-binary @"$T/race-a.yaml" https://cas:8081/v1/sessions >"$T/ca" &
  pa=$!
  "${CURL[@]}" -o "$T/rb.json" -w '%{http_code}\n' --cert "$T/id.pem" --key "$T/id.pem" --data-binary @"$T/race-b.yaml" https://cas:8081/v1/sessions >"$T/cb" &
  pb=$!
  wait "$pa" "$pb"
  ca=$(cat "$T/ca"); cb=$(cat "$T/cb")
  if [ "$ca" = 200 ] && [ "$cb" = 409 ]; then cur=$(jq -r .hash "$T/ra.json"); v="$i-a"
  elif [ "$cb" = 200 ] && [ "$ca" = 409 ]; then cur=$(jq -r .hash "$T/rb.json"); v="$i-b"
  else fail "race $i: answers $ca and $cb"; fi
  got=$("${CURL[@]}" https://cas:8081/v1/values/session=example_session,secret=example_value | jq -r .value)
  [ "$got" = "$v" ] || fail "race $i: the winner's value $v is not current ($got)"
  wins=$((wins + 1))
done
[ "$wins" = 50 ] || fail "only $wins races decided"
jq -e '.msg[1] | startswith("predecessor ")' "$T/ra.json" "$T/rb.json" >/dev/null 2>&1 || true
pass "50 concurrent update races: exactly one winner each, no update lost"

# A second identity: cannot read, update or delete; ANY and NONE; a namespace child.
O=(cas --config "$T/other.json")
"${O[@]}" self show-key-hash >/dev/null
OTHER_HASH=$("${O[@]}" self show-key-hash --hex)
expect 1 "${O[@]}" session read example_session -c 127.0.0.1 --cas-cert "$T/cas_cert.crt"
grep -q "cas: session 'example_session' does not exist or your identity may not read it" "$T/err" ||
  fail "a stranger's read: $(cat "$T/err")"
grep -q "was not attested" "$T/err" || fail "--cas-cert gave no warning"
sed 's/"42"/"46"/' "$CORPUS/example_session.yaml" | sed "3a predecessor: \"$cur\"" >"$T/steal.yaml"
expect 1 "${O[@]}" session create "$T/steal.yaml" -c 127.0.0.1 --cas-cert "$T/cas_cert.crt"
grep -q "may not update session 'example_session'" "$T/err" || fail "a stranger's update: $(cat "$T/err")"
expect 1 "${O[@]}" session delete example_session -c 127.0.0.1 --cas-cert "$T/cas_cert.crt"
grep -q "does not exist or your identity may not read it" "$T/err" || fail "a stranger's delete"
printf 'name: open\nversion: "0.3"\naccess_policy:\n  read: [ANY]\n  delete: [CREATOR]\n' >"$T/open.yaml"
expect 0 cas session create "$T/open.yaml"
expect 0 "${O[@]}" session read open -c 127.0.0.1 --cas-cert "$T/cas_cert.crt"
printf 'name: closed\nversion: "0.3"\naccess_policy:\n  read: NONE\n' >"$T/closed.yaml"
expect 0 cas session create "$T/closed.yaml"
expect 1 cas session read closed
expect 1 "${O[@]}" session create "$CORPUS/../corpus/example_session.yaml" -n open/child -c 127.0.0.1 --cas-cert "$T/cas_cert.crt"
grep -q "may not create sessions in namespace 'open'" "$T/err" || fail "a stranger's child: $(cat "$T/err")"
printf "name: team\nversion: \"0.3\"\naccess_policy:\n  create_sessions: [CREATOR, \"%s\"]\n" "$OTHER_HASH" >"$T/team.yaml"
expect 0 cas session create "$T/team.yaml"
expect 0 "${O[@]}" session create "$CORPUS/example_session.yaml" -n team/child -c 127.0.0.1 --cas-cert "$T/cas_cert.crt"
expect 0 cas session list team
[ "$(cat "$T/out")" = "team/child" ] || fail "session list: $(cat "$T/out")"
printf 'name: viaph\nversion: "0.3"\naccess_policy:\n  read: [CREATOR, "$$SCONE::readers$$"]\nsecrets:\n  - name: readers\n    kind: config-fragment\n    value: ["%s"]\n' "$OTHER_HASH" >"$T/viaph.yaml"
expect 0 cas session create "$T/viaph.yaml"
expect 0 "${O[@]}" session read viaph -c 127.0.0.1 --cas-cert "$T/cas_cert.crt"
sed "s/$OTHER_HASH/$(printf '%064d' 1)/" "$T/viaph.yaml" >"$T/viaph2.yaml"
expect 0 cas session update "$T/viaph2.yaml"
expect 1 "${O[@]}" session read viaph -c 127.0.0.1 --cas-cert "$T/cas_cert.crt"
pass "a second identity: read 404, update 403, delete 404; ANY and NONE; create_sessions for a child; a placeholder access entry"

# Imports, and delete with its rules.
printf 'name: owner\nversion: "0.3"\naccess_policy:\n  delete: [CREATOR]\nsecrets:\n  - name: shared\n    kind: ascii\n    value: "s3cr3t-shared-value"\n    export:\n      - session: user\n  - name: private\n    kind: ascii\n    value: "not-shared"\n' >"$T/owner.yaml"
expect 0 cas session create "$T/owner.yaml"
printf 'name: user\nversion: "0.3"\nsecrets:\n  - name: mine\n    import:\n      session: owner\n      secret: private\n' >"$T/user-bad.yaml"
expect 1 cas session create "$T/user-bad.yaml"
grep -q "import of secret 'mine' from session 'owner' failed: secret is not exported to 'user'" "$T/err" ||
  fail "import not exported: $(cat "$T/err")"
printf 'name: user\nversion: "0.3"\nsecrets:\n  - name: mine\n    import:\n      session: owner\n      secret: shared\n' >"$T/user.yaml"
expect 0 cas session create "$T/user.yaml"
expect 1 cas session delete owner
grep -q "session 'owner' is imported by 'user'" "$T/err" || fail "delete of an exporter: $(cat "$T/err")"
expect 1 cas session delete example_session
grep -q "your identity may not delete session 'example_session'" "$T/err" || fail "delete without the right"
expect 0 cas session delete open
expect 1 cas session read open
pass "imports checked at creation; an imported session and one without 'delete' are not deleted"

# The audit log in the database: every change with its caller's key hash, and the refusals.
ME=$(cas self show-key-hash); THEM=$("${O[@]}" self show-key-hash)
audit() { sqlite3 "$T/cas/cas-data/cas.db" "SELECT caller || ' ' || verdict FROM cas_audit WHERE config_id = '$1' ORDER BY rowid"; }
A=$(audit example_session)
grep -qx "$ME created [0-9a-f]\{64\}" <<<"$A" || fail "no creation record: $A"
grep -qx "$ME updated to $cur" <<<"$A" || fail "no record of the update to $cur: $A"
grep -qx "$THEM your identity ($THEM) may not update session 'example_session'" <<<"$A" ||
  fail "no record of the stranger's update: $A"
grep -qx "$ME your identity may not delete session 'example_session'" <<<"$A" || fail "no record of the refused delete: $A"
A=$(audit open/child)
grep -qx "$THEM your identity ($THEM) may not create sessions in namespace 'open'" <<<"$A" ||
  fail "no record of the stranger's child: $A"
[ "$(audit open | tail -1)" = "$ME deleted" ] || fail "no deletion record: $(audit open)"
grep -qx "$THEM created [0-9a-f]\{64\}" <<<"$(audit team/child)" || fail "team/child: $(audit team/child)"
grep -q 'ev=casd.session_refused session="example_session" caller="'"$THEM"'"' "$T/casd.log" ||
  fail "the refusal is not on the log"
pass "the audit log holds each creation, update and deletion with its caller, and each refusal"

# At rest: no explicit value in the database or its WAL, raw, hex or base64.
for v in s3cr3t-shared-value not-shared; do
  for enc in "$v" "$(printf %s "$v" | od -An -tx1 | tr -d ' \n')" "$(printf %s "$v" | base64 -w0)"; do
    for f in "$T/cas/cas-data"/cas.db*; do
      if grep -aq -- "$enc" "$f"; then fail "'$enc' found in $(basename "$f")"; fi
    done
  done
done
pass "no secret value in the database or its WAL (raw, hex, base64)"
echo "seed_sessions: all passed"

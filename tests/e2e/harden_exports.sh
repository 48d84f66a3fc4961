#!/usr/bin/env bash
# harden_exports.sh - export squatting made visible: A exports a secret to a session name that
# does not exist yet, without a session_hash pin. The upload warns (naming the risk and both
# fixes), `cas session check` warns and fails with --fail-on-warning; pinned exports and exports
# into A's own namespace do not warn. B creates the name and imports: allowed, and the grant binds
# to B (casd.export_bound). B deletes its session; C re-creates the name and imports: refused.
# A changes the export: the binding is cleared and C may import.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

casd_attested
for who in a b c; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$who.key" \
    -out "$T/$who.crt" -subj "/CN=$who" -days 1 2>/dev/null
done
# up WHO METHOD PATH [FILE]: status in $code, body in $T/body
up() {
  local who=$1 method=$2 path=$3 file=${4:-}
  code=$(curl -sk --max-time 10 --cert "$T/$who.crt" --key "$T/$who.key" -o "$T/body" \
    -w '%{http_code}' -X "$method" ${file:+--data-binary @"$file"} \
    "https://127.0.0.1:$P$path") || true
}
PIN=$(printf '%064d' 0)

cat >"$T/a.yaml" <<YAML
name: a
version: "0.3"
secrets:
  - name: db_password
    kind: ascii
    export: {session: db}
  - name: pinned
    kind: ascii
    export: {session: db2, session_hash: $PIN}
  - name: own
    kind: ascii
    export: [{session: ./child}, {namespace: ./team}]
YAML
up a POST /v1/sessions "$T/a.yaml"
[ "$code" = 201 ] || fail "A's upload answered $code: $(cat "$T/body")"
jq -e '[.warnings[] | select(test("exported to"))] | length == 1' "$T/body" >/dev/null ||
  fail "expected exactly one export warning: $(cat "$T/body")"
jq -e '.warnings[] | select(test("secret .db_password. is exported to session .db., which does not exist yet, without a session_hash pin: whoever creates that name first can import the secret; pin the importer with session_hash, or export into a namespace whose create_sessions only you control"))' \
  "$T/body" >/dev/null || fail "the warning does not name the risk and both fixes: $(cat "$T/body")"
pass "an unpinned export to a missing name warns at upload; pinned and own-namespace ones do not"

expect 0 cas session check "$T/a.yaml"
grep -q "warning: secret 'db_password' is exported to session 'db', outside this session's namespace, without a session_hash pin" "$T/err" ||
  fail "cas session check did not warn: $(cat "$T/err")"
[ "$(grep -c 'is exported to' "$T/err")" = 1 ] || fail "check warned more than once: $(cat "$T/err")"
expect 1 cas session check --fail-on-warning "$T/a.yaml"
grep -q "error: secret 'db_password' is exported to session 'db'" "$T/err" ||
  fail "--fail-on-warning: $(cat "$T/err")"
pass "cas session check flags it, and --fail-on-warning makes it an error"

cat >"$T/db.yaml" <<'YAML'
name: db
version: "0.3"
access_policy: {delete: [CREATOR]}
secrets:
  - name: pw
    import: {session: a, secret: db_password}
YAML
up b POST /v1/sessions "$T/db.yaml"
[ "$code" = 201 ] || fail "B's import answered $code: $(cat "$T/body")"
kb=$(cas cert show-key-hash "$T/b.crt")
grep -q "ev=casd.export_bound exporter=\"a\" secret=\"db_password\" importer=\"db\" creator=\"$kb\"" \
  "$T/casd.log" || fail "no casd.export_bound for B ($kb): $(grep export_bound "$T/casd.log")"
pass "B creates the name and imports: allowed, bound to B and logged"

up b DELETE /v1/sessions/db
[ "$code" = 200 ] || [ "$code" = 204 ] || fail "B's delete answered $code: $(cat "$T/body")"
up c POST /v1/sessions "$T/db.yaml"
[ "$code" = 409 ] || fail "C's re-created import answered $code, expected 409: $(cat "$T/body")"
jq -e --arg kb "$kb" '.msg | any(test("import of secret .db_password. from session .a. failed: its export to .db. has no session_hash pin and is bound to creator " + $kb))' \
  "$T/body" >/dev/null || fail "the refusal does not name the binding: $(cat "$T/body")"
up c POST /v1/sessions "$T/db.yaml"
[ "$code" = 409 ] || fail "a second try of C answered $code"
pass "C re-creates the name after B deleted it: the import is refused, naming the binding"

# A changes the export (a second target): the binding is cleared, the next importer binds anew.
hash=$(curl -sk --cert "$T/a.crt" --key "$T/a.key" "https://127.0.0.1:$P/v1/sessions/a" | jq -r .hash)
sed -e "s/^version:.*/&\npredecessor: $hash/" -e 's/export: {session: db}/export: [{session: db}, {session: db3}]/' \
  "$T/a.yaml" >"$T/a2.yaml"
up a POST /v1/sessions "$T/a2.yaml"
[ "$code" = 200 ] || fail "A's update answered $code: $(cat "$T/body")"
up c POST /v1/sessions "$T/db.yaml"
[ "$code" = 201 ] || fail "after A changed the export, C's import answered $code: $(cat "$T/body")"
pass "an update of the exporter that changes the export clears its bindings"

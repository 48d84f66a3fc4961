#!/usr/bin/env bash
# cli_identity.sh - the CLI state file and identity (api.md §3 "State", "Identity", §3.4):
# created on first use with mode 0600 in a 0700 directory, stable afterwards, refused when
# readable by others, never rewritten when of another format; key hashes in both forms.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

export HOME="$T/home" XDG_CONFIG_HOME="" CAS_CLI_CONFIG=""
mkdir -p "$HOME"
state="$HOME/.config/cas/config.json"

cas self show >"$T/show1" 2>"$T/err" || fail "self show: $(cat "$T/err")"
[ -f "$state" ] || fail "no state at the default path $state"
[ "$(stat -c %a "$state")" = 600 ] || fail "state is not 0600"
[ "$(stat -c %a "$HOME/.config/cas")" = 700 ] || fail "state directory is not 0700"
jq -e '.format == "cas-cli-1" and (.identity | test("BEGIN PRIVATE KEY")) and
       (.identity | test("BEGIN CERTIFICATE"))' "$state" >/dev/null || fail "state shape"
pass "identity created on first use in ~/.config/cas/config.json (0600, dir 0700)"

cas self show >"$T/show2"
cmp -s "$T/show1" "$T/show2" || fail "the identity changed on second use"
grep -Eq '^Key hash: [1-9A-HJ-NP-Za-km-z]{50}$' "$T/show1" || fail "no Base58 key hash line"
pass "identity is stable"

cas self show-certificate >"$T/cert.pem"
openssl x509 -in "$T/cert.pem" -noout -subject | grep -q 'CN *= *cas cli' || fail "CN is not 'cas cli'"
openssl x509 -in "$T/cert.pem" -noout -enddate | grep -q '9999 GMT' || fail "notAfter is not 9999"
want=$(openssl x509 -in "$T/cert.pem" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64)
[ "$(cas self show-key-hash --hex)" = "$want" ] || fail "self show-key-hash --hex"
[ "$(cas cert show-key-hash --hex "$T/cert.pem")" = "$want" ] || fail "cert show-key-hash --hex"
b58=$(cas self show-key-hash)
[ "$(cas cert show-key-hash "$T/cert.pem")" = "$b58" ] || fail "Base58 forms differ"
grep -q "Key hash: $b58" "$T/show1" || fail "self show and show-key-hash differ"
pass "key hashes: SHA-256 of the SPKI, Base58Check and --hex agree with openssl"

# -c wins over $CAS_CLI_CONFIG, which wins over the default path.
CAS_CLI_CONFIG="$T/env.json" cas self show-key-hash >/dev/null
[ -f "$T/env.json" ] || fail "CAS_CLI_CONFIG not used"
CAS_CLI_CONFIG="$T/env.json" cas -c "$T/explicit.json" self show-key-hash >/dev/null
[ -f "$T/explicit.json" ] || fail "-c not used"
XDG_CONFIG_HOME="$T/xdg" cas self show-key-hash >/dev/null
[ -f "$T/xdg/cas/config.json" ] || fail "XDG_CONFIG_HOME not used"
pass "state path: -c, then CAS_CLI_CONFIG, then XDG_CONFIG_HOME, then ~/.config"

chmod 644 "$state"
st=0; cas self show >/dev/null 2>"$T/err" || st=$?
[ "$st" = 1 ] || fail "a group-readable state exited $st"
grep -q "chmod 600 $state" "$T/err" || fail "no chmod advice: $(cat "$T/err")"
chmod 600 "$state"
pass "a state readable by others is refused"

printf '{"something": "else"}' >"$T/foreign.json"
chmod 600 "$T/foreign.json"
st=0; cas -c "$T/foreign.json" self show >/dev/null 2>"$T/err" || st=$?
[ "$st" = 1 ] || fail "a foreign state file exited $st"
[ "$(cat "$T/foreign.json")" = '{"something": "else"}' ] || fail "a foreign state file was rewritten"
pass "a state of another format is never rewritten"

[ ! -e "$HOME/.cas" ] || fail "~/.cas was touched"
printf 'not a certificate\n' >"$T/junk.pem"
st=0; cas cert show-key-hash "$T/junk.pem" >/dev/null 2>"$T/err" || st=$?
[ "$st" = 1 ] || fail "junk certificate exited $st"
grep -q "^cas: cannot compute the key hash of '$T/junk.pem'" "$T/err" || fail "junk message"
st=0; cas cert show-key-hash >/dev/null 2>&1 || st=$?
[ "$st" = 2 ] || fail "missing FILE exited $st"
pass "bad input: clear errors, exit 1 and 2"
echo "cli_identity: all passed"

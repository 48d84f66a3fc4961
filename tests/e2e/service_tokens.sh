#!/usr/bin/env bash
# service_tokens.sh - service_access_token guesses are limited (docs/operations.md "Access-token
# guessing"): from one client key, 5 wrong tokens are answered 403, the 6th starts a backoff
# during which casd answers 429 with Retry-After without checking the token, and the log does
# not grow by a line per guess; the right token from another key still works; /metrics counts
# both; wrong tokens from many keys of one address make the address back off too, for that
# session only.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

casd_attested
cat >"$T/guarded.yaml" <<'YAML'
name: guarded
version: "0.3"
security:
  attestation: {mode: none}
  service_access_token: "right-t0ken"
services:
  - {name: job, command: "true"}
YAML
expect 0 cas session create "$T/guarded.yaml"
for k in A B C D E F G; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$k.key" \
    -out "$T/$k.crt" -subj "/CN=$k" -days 1 2>/dev/null
done
# attest KEY TOKEN: prints the status; the body in $T/body, the headers in $T/headers.
attest() {
  curl -sS --cacert "$T/cas_cert.crt" --connect-to cas:$Q:127.0.0.1:$Q --cert "$T/$1.crt" \
    --key "$T/$1.key" -D "$T/headers" -o "$T/body" -w '%{http_code}' \
    --data-binary "{\"config_id\": \"guarded/job\", \"access_token\": \"$2\"}" https://cas:$Q/v1/service/attest
}
metric() { curl -sS --cacert "$T/cas_cert.crt" --connect-to cas:$P:127.0.0.1:$P https://cas:$P/metrics |
  sed -n "s/^$1 //p"; }

lines0=$(wc -l <"$T/casd.log")
for i in 1 2 3 4 5 6; do
  st=$(attest A "guess-$i")
  [ "$st" = 403 ] || fail "wrong token $i from key A: $st $(cat "$T/body")"
done
jq -e '.msg[1] == "Wrong or missing service access token"' "$T/body" >/dev/null || fail "403 body: $(cat "$T/body")"
n403=6; n429=0
for i in $(seq 7 40); do
  st=$(attest A "guess-$i")
  case $st in
    429) n429=$((n429 + 1))
         ra=$(sed -n 's/^Retry-After: \([0-9]*\)\r$/\1/Ip' "$T/headers")
         [ -n "$ra" ] && [ "$ra" -ge 1 ] && [ "$ra" -le 300 ] || fail "429 without a Retry-After: $(cat "$T/headers")"
         jq -e '.msg[0] == "Attestation of service '"'guarded/job'"' failed" and
           (.msg[1] | startswith("too many wrong service access tokens from this client key; try again in "))' \
           "$T/body" >/dev/null || fail "429 body: $(cat "$T/body")" ;;
    403) n403=$((n403 + 1)) ;; # the backoff (1 s, then 2 s, ...) ran out between two guesses
    *) fail "guess $i from key A: $st $(cat "$T/body")" ;;
  esac
done
[ "$n429" -ge 25 ] || fail "only $n429 of 34 guesses after the free ones got 429 ($n403 got 403)"
pass "key A: 5 free wrong tokens, then $n429 of 34 guesses answered 429 with Retry-After ($((n403 - 6)) checked after a backoff ran out)"

# One line (and audit record) per checked guess, plus one summary of the refused ones.
grown=$(($(wc -l <"$T/casd.log") - lines0))
[ "$grown" -le $((n403 + 2)) ] || fail "the log grew by $grown lines for $n403 checked and $n429 refused guesses"
grep -q 'ev=casd.token_backoff config_id="guarded/job" address="127.0.0.1" refused=1 ' "$T/casd.log" ||
  fail "no casd.token_backoff summary: $(grep token_backoff "$T/casd.log")"
pass "the log grew by $grown lines for $((n403 + n429)) guesses: none per refused guess"

st=$(attest B right-t0ken)
[ "$st" = 200 ] || fail "the right token from key B: $st $(cat "$T/body")"
jq -e '.argv == ["true"]' "$T/body" >/dev/null || fail "key B's configuration: $(cat "$T/body")"
pass "the right token from another key (same address) still works"

[ "$(metric cas_access_token_failures_total)" = "$n403" ] || fail "cas_access_token_failures_total $(metric cas_access_token_failures_total), expected $n403"
[ "$(metric cas_access_token_backoff_total)" = "$n429" ] || fail "cas_access_token_backoff_total $(metric cas_access_token_backoff_total), expected $n429"
pass "/metrics counts $n403 wrong tokens and $n429 refusals"

# Fresh keys from the same address: after 20 wrong tokens in all, the address backs off, and
# even the right token from a new key waits.
addr=""
for k in C D E F; do
  for i in 1 2 3 4 5; do
    st=$(attest $k "guess-$k$i")
    [ "$st" = 429 ] && { addr=yes; break 2; }
    [ "$st" = 403 ] || fail "guess from key $k: $st"
  done
done
st=$(attest G right-t0ken)
[ "$st" = 429 ] || fail "the address did not back off: key G got $st"
jq -e '.msg[1] | startswith("too many wrong service access tokens from this address")' "$T/body" >/dev/null ||
  fail "429 body for the address: $(cat "$T/body")"
pass "wrong tokens from fresh keys make the address back off (429 for every key there)"

# The address backs off for the session guessed at only: another session's service behind the
# same address (one host, a NAT) still attests with its right token.
sed -e 's/name: guarded/name: neighbour/' -e 's/right-t0ken/other-t0ken/' "$T/guarded.yaml" >"$T/neighbour.yaml"
expect 0 cas session create "$T/neighbour.yaml"
st=$(curl -sS --cacert "$T/cas_cert.crt" --connect-to cas:$Q:127.0.0.1:$Q --cert "$T/G.crt" \
  --key "$T/G.key" -o "$T/body" -w '%{http_code}' \
  --data-binary '{"config_id": "neighbour/job", "access_token": "other-t0ken"}' https://cas:$Q/v1/service/attest)
[ "$st" = 200 ] || fail "a neighbouring session's service from the same address: $st $(cat "$T/body")"
pass "the address backs off for the guessed session only: a neighbour's service still attests"

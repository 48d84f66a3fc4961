#!/usr/bin/env bash
# harden_policy.sh - hostile session uploads casd must answer with 400 and survive: an empty or
# absent body on both upload paths (POST /v1/sessions and SCONE's POST /session), with any
# self-signed client certificate, and a 420-byte YAML alias bomb, whose memory stays bounded.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

casd_attested
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/k.pem" \
  -out "$T/c.pem" -subj /CN=stranger -days 1 2>/dev/null

alive() { kill -0 "$CASD_PID" 2>/dev/null || fail "casd died: $(tail -3 "$T/casd.log")"; }
# post PATH [curl args...]: the status in $code, the body in $T/body
post() {
  local path=$1; shift
  code=$(curl -sk --max-time 10 --cert "$T/c.pem" --key "$T/k.pem" -o "$T/body" -w '%{http_code}' \
    "$@" -X POST "https://127.0.0.1:$P$path") || true
}

for path in /v1/sessions /session; do
  # the exact request of the report: no body at all
  code=$(curl -sk --max-time 10 --cert "$T/c.pem" --key "$T/k.pem" -o "$T/body" -w '%{http_code}' \
    -X POST "https://127.0.0.1:$P$path") || true
  alive
  [ "$code" = 400 ] || fail "POST $path without a body answered '$code', expected 400"
  jq -e '(.msg | type) == "array" and (.msg | any(test("the session is empty")))' "$T/body" \
    >/dev/null || fail "POST $path without a body: $(cat "$T/body")"
  post "$path" --data-binary '' -H 'Content-Type: application/yaml'
  alive
  [ "$code" = 400 ] || fail "POST $path with an empty body answered '$code', expected 400"
  jq -e '.msg | any(test("the session is empty"))' "$T/body" >/dev/null ||
    fail "POST $path with an empty body: $(cat "$T/body")"
done
curl -sf --max-time 5 --cacert "$T/cas_cert.crt" --connect-to "cas:$P:127.0.0.1:$P" \
  "https://cas:$P/v1/health" >/dev/null || fail "casd is not healthy after empty uploads"
pass "an absent or empty body on both upload paths is an empty session: 400, casd lives"

# The classic chain a: &a [x...], b: &b [*a...]: 10^5 scalars from 418 bytes, under the node
# limit; as a config fragment it became 1.8 MB of JSON, a 500 and +70 MB in casd.
{
  printf 'name: bomb\nversion: "0.3"\nsecrets:\n- name: f\n  kind: config-fragment\n  value:\n'
  printf '    a: &a [%s]\n' "$(printf 'xxxxxxxxxxxxxxx,%.0s' 1 2 3 4 5 6 7 8 9)xxxxxxxxxxxxxxx"
  for l in a:b b:c c:d d:e; do
    printf '    %s: &%s [%s*%s]\n' "${l#*:}" "${l#*:}" "$(printf "*${l%:*},%.0s" 1 2 3 4 5 6 7 8 9)" "${l%:*}"
  done
} >"$T/bomb.yaml"
[ "$(wc -c <"$T/bomb.yaml")" -le 420 ] || fail "the bomb has $(wc -c <"$T/bomb.yaml") bytes"
rss0=$(awk '/VmRSS/ {print $2}' "/proc/$CASD_PID/status")
post /v1/sessions --data-binary @"$T/bomb.yaml"
alive
[ "$code" = 400 ] || fail "the alias bomb answered '$code', expected 400: $(head -c 400 "$T/body")"
jq -e '.msg | any(test("aliases expand the file by more than"))' "$T/body" >/dev/null ||
  fail "alias bomb: $(cat "$T/body")"
rss1=$(awk '/VmRSS/ {print $2}' "/proc/$CASD_PID/status")
[ $((rss1 - rss0)) -lt 20000 ] || fail "casd grew by $((rss1 - rss0)) kB on a 420-byte upload"
pass "a 418-byte alias bomb is refused with 400 (casd grew by $((rss1 - rss0)) kB)"

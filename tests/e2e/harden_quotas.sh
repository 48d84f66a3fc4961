#!/usr/bin/env bash
# harden_quotas.sh - the quotas of docs/operations.md: the upload of 2,048 secrets of
# `size: 65536` (80 KB that wrote 263 MB) is refused naming max_session_secrets, and the
# database stays small; sessions over max_session_rsa_keys and max_session_generated_bytes are
# refused before anything is generated; a values answer over max_values_answer is refused,
# one secret of it still read; the 121st upload of a key within a minute gets 429 with
# Retry-After while another key still uploads; /metrics counts the refusals by limit.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

casd_attested --max-values-answer 200000
printf 'name: first\nversion: "0.3"\nsecrets:\n  - name: v\n    kind: ascii\n' >"$T/first.yaml"
expect 0 cas session create "$T/first.yaml" # also makes the CLI's identity
jq -r .identity "$CAS_CLI_CONFIG" >"$T/id.pem"
CURL=(curl -sS --cacert "$T/cas_cert.crt" --connect-to "cas:$P:127.0.0.1:$P" --max-time 60)
UP=("${CURL[@]}" --cert "$T/id.pem" --key "$T/id.pem")
DB="$T/cas/cas-data/cas.db"
db_bytes() { du -cb "$DB"* | tail -1 | cut -f1; }
before=$(db_bytes)

# upload NAME FILE: POST it, status in $code, answer in $T/NAME.json.
upload() {
  code=$("${UP[@]}" -o "$T/$1.json" -w '%{http_code}' --data-binary @"$2" "https://cas:$P/v1/sessions")
}
# msg NAME: the answer's second message.
msg() { jq -r '.msg[1]' "$T/$1.json"; }

# The attack, byte for byte.
{
  printf 'name: attack\nversion: "0.3"\nsecrets:\n'
  for i in $(seq 1 2048); do printf '  - name: s%s\n    kind: binary\n    size: 65536\n' "$i"; done
} >"$T/attack.yaml"
upload attack "$T/attack.yaml"
[ "$code" = 422 ] || fail "the attack answered $code: $(head -c 300 "$T/attack.json")"
[ "$(msg attack)" = "session 'attack' declares 2048 secrets, more than max_session_secrets (512); make the session smaller, or raise max_session_secrets" ] ||
  fail "the attack's message: $(msg attack)"
after=$(db_bytes)
[ $((after - before)) -lt 1048576 ] || fail "the database grew by $((after - before)) bytes"
pass "2,048 secrets of size 65536: 422 naming max_session_secrets; the database grew $((after - before)) bytes"

# 500 secrets of 65536 bytes: within the count, over the bytes.
{
  printf 'name: big\nversion: "0.3"\nsecrets:\n'
  for i in $(seq 1 500); do printf '  - name: s%s\n    kind: binary\n    size: 65536\n' "$i"; done
} >"$T/big.yaml"
upload big "$T/big.yaml"
[ "$code" = 422 ] || fail "500 x 65536 bytes answered $code"
msg big | grep -q "^session 'big' would store about [0-9]* bytes of secret values, more than max_session_generated_bytes (4194304)" ||
  fail "500 x 65536 bytes: $(msg big)"
pass "500 secrets of size 65536: 422 naming max_session_generated_bytes"

# 33 RSA keys: refused at once, before any is generated.
{
  printf 'name: rsa\nversion: "0.3"\nsecrets:\n'
  for i in $(seq 1 33); do printf '  - name: k%s\n    kind: private-key\n    key_type: RSA-3072\n' "$i"; done
} >"$T/rsa.yaml"
t=$("${UP[@]}" -o "$T/rsa.json" -w '%{http_code} %{time_total}' --data-binary @"$T/rsa.yaml" "https://cas:$P/v1/sessions")
[ "${t% *}" = 422 ] || fail "33 RSA keys answered ${t% *}"
[ "$(msg rsa)" = "session 'rsa' would have 33 RSA keys generated, more than max_session_rsa_keys (32); make the session smaller, or raise max_session_rsa_keys" ] ||
  fail "33 RSA keys: $(msg rsa)"
awk -v t="${t#* }" 'BEGIN { exit !(t < 2) }' || fail "33 RSA keys were refused only after ${t#* } s"
pass "33 RSA keys: 422 naming max_session_rsa_keys, in ${t#* } s"

# A values answer over max_values_answer (200000 here): 413; one of its secrets reads fine.
{
  printf 'name: public\nversion: "0.3"\nsecrets:\n'
  for i in $(seq 1 40); do printf '  - name: s%s\n    kind: binary\n    size: 4096\n    export_public: true\n' "$i"; done
} >"$T/public.yaml"
upload public "$T/public.yaml"
[ "$code" = 201 ] || fail "the public session answered $code: $(cat "$T/public.json")"
code=$("${CURL[@]}" -o "$T/values.json" -w '%{http_code}' "https://cas:$P/v1/values/session=public")
[ "$code" = 413 ] || fail "the values of 40 x 4096 bytes answered $code"
[ "$(msg values)" = "the answer would be more than max_values_answer (200000 bytes); ask for fewer values with /v1/values/session=<name>,secret=<secret>, or raise max_values_answer" ] ||
  fail "values answer: $(msg values)"
code=$("${CURL[@]}" -o "$T/one.json" -w '%{http_code}' "https://cas:$P/v1/values/session=public,secret=s7")
[ "$code" = 200 ] || fail "one public value answered $code"
pass "a values answer over max_values_answer: 413 naming it; one value of the session: 200"

# The upload rate: one key's uploads in quick succession, one curl on one connection.
printf 'name: rate\nversion: "0.3"\nsecrets:\n  - name: v\n    kind: ascii\n' >"$T/rate.yaml"
: >"$T/rate.cfg"
for i in $(seq 1 130); do
  [ "$i" = 1 ] || echo next >>"$T/rate.cfg"
  cat >>"$T/rate.cfg" <<EOF
url = "https://cas:$P/v1/sessions"
data-binary = "@$T/rate.yaml"
output = "$T/rate$i.json"
dump-header = "$T/rate$i.h"
write-out = "%{http_code}\\n"
cert = "$T/id.pem"
key = "$T/id.pem"
cacert = "$T/cas_cert.crt"
connect-to = "cas:$P:127.0.0.1:$P"
EOF
done
curl -sS -K "$T/rate.cfg" >"$T/rate.codes"
first429=$(grep -n '^429$' "$T/rate.codes" | head -1 | cut -d: -f1)
[ -n "$first429" ] || fail "130 uploads of one key: no 429 ($(sort "$T/rate.codes" | uniq -c | tr '\n' ' '))"
# This script's earlier uploads took 7 tokens; the bucket refills 2 per second meanwhile.
[ "$first429" -gt 100 ] && [ "$first429" -le 125 ] || fail "the first 429 came at upload $first429"
grep -qi '^Retry-After: [0-9]' "$T/rate$first429.h" || fail "429 without Retry-After: $(cat "$T/rate$first429.h")"
msg "rate$first429" | grep -q "^your identity uploaded more than uploads_per_minute (120) sessions in a minute; try again in [0-9]* s$" ||
  fail "429 message: $(msg "rate$first429")"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=other -days 1 \
  -keyout "$T/other.key" -out "$T/other.crt" 2>/dev/null
sed 's/name: rate/name: other/' "$T/rate.yaml" >"$T/other.yaml"
code=$("${CURL[@]}" -o "$T/other.json" -w '%{http_code}' --cert "$T/other.crt" --key "$T/other.key" \
  --data-binary @"$T/other.yaml" "https://cas:$P/v1/sessions")
[ "$code" = 201 ] || fail "another key's upload answered $code: $(cat "$T/other.json")"
pass "one key: 429 with Retry-After from upload $first429, naming uploads_per_minute; another key: 201"

"${CURL[@]}" "https://cas:$P/metrics" >"$T/metrics"
for l in max_session_secrets max_session_rsa_keys max_session_generated_bytes max_values_answer; do
  grep -qx "cas_quota_refusals_total{limit=\"$l\"} 1" "$T/metrics" || fail "/metrics for $l: $(grep quota "$T/metrics")"
done
grep -q '^cas_quota_refusals_total{limit="uploads_per_minute"} [1-9]' "$T/metrics" || fail "/metrics for uploads_per_minute"
grep -qx 'cas_quota_limit{limit="max_values_answer"} 200000' "$T/metrics" || fail "/metrics limits"
pass "/metrics counts refusals by limit"

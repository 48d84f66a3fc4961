#!/usr/bin/env bash
# casd_skeleton.sh - the walking skeleton's story: casd starts with no configuration, serves
# HTTPS with its own CAS PKI, refuses plain HTTP and TLS 1.1, answers JSON errors, limits bodies,
# keeps its identity across restarts, refuses a second instance on its data directory, and stops
# cleanly on SIGTERM.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

H="$T/home"
CH="$H/cas-data/cas-chain.pem"
CURL=(curl -sS --max-time 10 --cacert "$CH" --connect-to cas:8081:127.0.0.1:8081)

# 1. Zero configuration: no arguments, state in ./cas-data (0700), defaults on loopback.
start_casd casd "$H"
wait_health "$CH" 8081
pid1=$CASD_PID
[ "$(stat -c %a "$H/cas-data")" = 700 ] || fail "cas-data is not mode 0700"
[ "$(stat -c %a "$H/cas-data/sealing.key")" = 600 ] || fail "sealing.key is not mode 0600"
grep -q 'ev=casd.started .*cas_key_hash="[1-9A-HJ-NP-Za-km-z]\{50\}"' "$T/casd.log" ||
  fail "the CAS key hash is not logged at start"
pass "zero-configuration start"

# 2. The seed's curl line.
body=$("${CURL[@]}" https://cas:8081/v1/health)
[ "$body" = '{"status": "ok", "version": "0.1.0"}' ] || fail "health answered '$body'"
pass "curl --cacert cas-chain.pem --connect-to reaches /v1/health"

# 3. The TLS certificate verifies against root and intermediate and carries the SANs.
openssl s_client -connect 127.0.0.1:8081 -servername cas -showcerts </dev/null 2>/dev/null |
  awk '/BEGIN CERT/{n++} n==1{print} /END CERT/ && n==1{exit}' >"$T/leaf.pem"
awk '/BEGIN CERT/{n++} n==1{print}' "$CH" >"$T/intermediate.pem"
awk '/BEGIN CERT/{n++} n==2{print}' "$CH" >"$T/root.pem"
openssl verify -CAfile "$T/root.pem" -untrusted "$T/intermediate.pem" "$T/leaf.pem" >/dev/null ||
  fail "leaf does not verify to the root through the intermediate"
sans=$(openssl x509 -in "$T/leaf.pem" -noout -ext subjectAltName)
for want in "DNS:cas" "DNS:localhost" "IP Address:127.0.0.1"; do
  grep -q "$want" <<<"$sans" || fail "leaf lacks $want: $sans"
done
openssl x509 -in "$T/root.pem" -noout -subject | grep -q 'CN *= *cas$' || fail "root is not CN=cas"
openssl x509 -in "$T/root.pem" -noout -enddate | grep -q 'Dec 31 23:59:59 9999 GMT' ||
  fail "root notAfter is not 99991231235959Z"
openssl x509 -in "$T/intermediate.pem" -noout -subject | grep -q 'CN *= *cas-instance' ||
  fail "intermediate is not CN=cas-instance"
openssl x509 -in "$T/intermediate.pem" -noout -ext basicConstraints | grep -q 'pathlen:0' ||
  fail "intermediate has no pathlen 0"
openssl x509 -in "$T/leaf.pem" -noout -ext extendedKeyUsage | grep -q 'TLS Web Server' ||
  fail "leaf lacks EKU serverAuth"
openssl x509 -in "$T/leaf.pem" -noout -text | grep -q 'ASN1 OID: prime256v1' || fail "leaf key is not P-256"
pass "certificate chain, SANs and extensions"

# 4. Plain HTTP and TLS 1.1 are refused.
if curl -s --max-time 5 http://127.0.0.1:8081/v1/health >"$T/plain.out" 2>&1; then
  fail "plain HTTP got an answer"
fi
grep -q '"status"' "$T/plain.out" && fail "plain HTTP got an HTTP body"
if openssl s_client -connect 127.0.0.1:8081 -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' </dev/null \
    >"$T/tls11.out" 2>&1; then
  fail "a TLS 1.1 handshake succeeded"
fi
openssl s_client -connect 127.0.0.1:8081 -tls1_2 </dev/null >/dev/null 2>&1 || fail "TLS 1.2 refused"
openssl s_client -connect 127.0.0.1:8081 -tls1_3 </dev/null 2>/dev/null | grep -q 'TLSv1.3' ||
  fail "TLS 1.3 not negotiated"
pass "plain HTTP and TLS 1.1 refused; TLS 1.2 and 1.3 work"

# 5. JSON errors: unknown path 404, wrong method 405.
code=$("${CURL[@]}" -o "$T/404.json" -w '%{http_code}' https://cas:8081/no/such/path)
[ "$code" = 404 ] || fail "unknown path answered $code"
jq -e '.msg | length >= 1' "$T/404.json" >/dev/null || fail "404 body is not {\"msg\": [...]}"
code=$("${CURL[@]}" -o "$T/405.json" -D "$T/405.h" -w '%{http_code}' -X DELETE https://cas:8081/v1/health)
[ "$code" = 405 ] || fail "wrong method answered $code"
jq -e '.msg[0] == "Method not allowed"' "$T/405.json" >/dev/null || fail "405 body wrong"
grep -qi '^allow: GET' "$T/405.h" || fail "405 without Allow"
pass "JSON 404 and 405"

# 6. An oversized body answers 413, and the server keeps serving.
head -c $((1024 * 1024 + 1)) /dev/zero >"$T/big"
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -X POST --data-binary @"$T/big" \
  https://cas:8081/v1/health || true)
[ "$code" = 413 ] || fail "oversized body answered $code"
"${CURL[@]}" -f https://cas:8081/v1/health >/dev/null || fail "no longer serving after 413"
pass "413 for a body over 1 MiB; still serving"

# 7. The status page: CAS key hash shown, unmeasured values say so.
"${CURL[@]}" https://cas:8081/ >"$T/status.html"
hash=$(sed -n 's/.*<code id="cas-key-hash">\([^<]*\)<.*/\1/p' "$T/status.html")
[ ${#hash} -eq 50 ] || fail "status page has no CAS key hash"
grep -q "cas_key_hash=\"$hash\"" "$T/casd.log" || fail "status page and log disagree on the key hash"
grep -q '<code id="mrenclave">' "$T/status.html" || fail "status page has no mrenclave element"
pass "status page"

# 7b. /metrics in Prometheus text format.
"${CURL[@]}" https://cas:8081/metrics >"$T/metrics.txt"
grep -q '^# TYPE cas_http_requests_total counter$' "$T/metrics.txt" || fail "no request counter"
grep -Eq '^cas_http_requests_total\{api="client",code="4xx"\} [1-9]' "$T/metrics.txt" ||
  fail "the 404, 405 and 413 answers are not counted"
grep -q '^cas_http_request_duration_seconds_bucket{api="client",le="+Inf"}' "$T/metrics.txt" ||
  fail "no latency histogram"
grep -q '^cas_sessions 0$' "$T/metrics.txt" || fail "no sessions gauge"
pass "/metrics"

# 8. A second casd on the same data directory exits 1 with the spec's message.
st=0
(cd "$H" && exec casd --listen 127.0.0.1:0 --enclave-listen 127.0.0.1:0) >"$T/second.log" 2>&1 || st=$?
[ "$st" = 1 ] || fail "second instance exited $st"
grep -q "data directory './cas-data' is in use by process $pid1" "$T/second.log" ||
  fail "second instance said: $(cat "$T/second.log")"
pass "second instance refused: $(cat "$T/second.log")"

# 9. SIGTERM stops it cleanly; a restart keeps the same CA and key hash.
cp "$CH" "$T/chain-before.pem"
stop_pid "$pid1"
[ "$STOP_STATUS" = 0 ] || fail "casd exited $STOP_STATUS on SIGTERM"
grep -q 'ev=casd.stopped' "$T/casd.log" || fail "no casd.stopped line"
start_casd casd2 "$H"
wait_health "$CH" 8081
awk '/BEGIN CERT/{n++} n==2{print}' "$CH" | cmp -s - "$T/root.pem" || fail "root CA changed on restart"
cmp -s "$CH" "$T/chain-before.pem" || fail "cas-chain.pem changed on restart"
grep -q "cas_key_hash=\"$hash\"" "$T/casd2.log" || fail "CAS key hash changed on restart"
stop_pid "$CASD_PID"
pass "restart keeps the CA"

# 9b. An emptied database is detected, never silently replaced by a new CAS.
mv "$H/cas-data/cas.db" "$T/cas.db.saved"
rm -f "$H/cas-data/cas.db-wal" "$H/cas-data/cas.db-shm"
st=0
(cd "$H" && exec casd) >"$T/emptied.log" 2>&1 || st=$?
[ "$st" = 1 ] || fail "casd on an emptied database exited $st"
grep -q "the database holds no CAS, but this data directory served one" "$T/emptied.log" ||
  fail "casd on an emptied database said: $(cat "$T/emptied.log")"
cmp -s "$CH" "$T/chain-before.pem" || fail "cas-chain.pem changed on an emptied database"
rm -f "$H/cas-data/cas.db"*
mv "$T/cas.db.saved" "$H/cas-data/cas.db"
pass "an emptied database is refused: $(tail -1 "$T/emptied.log")"

# 10. --version and --help.
casd --version | grep -Eq '^casd 0\.1\.0 \([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\)$' ||
  fail "casd --version format"
for key in data_dir listen enclave_listen database tee dns_names threads log_level pccs_url \
    collateral_dir metrics max_body sim_tcb_status sim_advisories sim_signing_key; do
  casd --help | grep -q "file key: $key" || fail "--help does not list $key"
done
st=0; casd --no-such-flag >/dev/null 2>&1 || st=$?
[ "$st" = 2 ] || fail "an unknown flag exited $st"
pass "--version, --help, bad flags"
echo "casd_skeleton: all passed"

#!/usr/bin/env bash
# service_renewal.sh - a certificate re-issued at attestation (policy.md §8.1: "at the next read
# or attestation"): a service under cas-run receives its 90-day certificate; casd runs again 61 days
# later (libfaketime), when less than a third of the 90 days remains; the restarted service,
# with nobody having read the values in between, receives a new certificate from the same CA,
# with a later expiry, and the CA's clients accept it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

casd_attested

# The service: cat, printing the certificate it was given as an injection file.
CAT="$T/cat"
cp "$(type -P cat)" "$CAT"
MR=$(cas-run --measure "$CAT")
D="$T/svc"
mkdir -p "$D"
cat >"$T/renew.yaml" <<YAML
name: renew
version: "0.3"
security:
  attestation: {mode: sim, tolerate: [debug-mode, outdated-tcb], ignore_advisories: "*"}
services:
  - name: show
    image_name: img
    command: cat $D/server.crt
    attestation: {mrenclave: [$MR]}
images:
  - name: img
    injection_files:
      - path: $D/server.crt
        content: \$\$SCONE::server_cert:crt\$\$
secrets:
  - {name: ca_key, kind: private-key}
  - {name: service_ca, kind: x509-ca, private_key: ca_key, common_name: "Renewal CA", export_public: true}
  - {name: server_key, kind: private-key}
  - {name: server_cert, kind: x509, private_key: server_key, issuer: service_ca, san: ["dns:service"], valid_for: 90 days}
YAML
cas session create "$T/renew.yaml" >/dev/null 2>"$T/err" || fail "session create: $(cat "$T/err")"
run_service() { # OUT: the certificate the service printed
  env CAS_ADDR=127.0.0.1:$Q CAS_CERT="$T/cas_cert.crt" CAS_CONFIG_ID=renew/show cas-run "$CAT" \
    >"$1" 2>"$T/err" || fail "cas-run: $(cat "$T/err")"
  openssl x509 -in "$1" -noout >/dev/null 2>&1 || fail "the service printed no certificate: $(cat "$1")"
}
run_service "$T/cert1.pem"
curl -sS --cacert "$T/cas_cert.crt" --connect-to cas:$P:127.0.0.1:$P \
  "https://cas:$P/v1/values/session=renew,secret=service_ca" | jq -r .value >"$T/ca.pem"
openssl verify -CAfile "$T/ca.pem" "$T/cert1.pem" >/dev/null || fail "the first certificate does not verify"
end1=$(date -d "$(openssl x509 -in "$T/cert1.pem" -noout -enddate | cut -d= -f2)" +%s)
pass "the service received a certificate of the session CA, valid until $(date -u -d @"$end1" +%F)"

# 61 days later: less than a third of the 90 days remains.
casd_later 61
run_service "$T/cert2.pem"
grep -q 'ev=casd.certificates_renewed session="renew"' "$T/casd2.log" ||
  fail "casd did not renew at the attestation: $(grep -c . "$T/casd2.log") log lines"
cmp -s "$T/cert1.pem" "$T/cert2.pem" && fail "the restarted service received the old certificate"
end2=$(date -d "$(openssl x509 -in "$T/cert2.pem" -noout -enddate | cut -d= -f2)" +%s)
[ "$end2" -gt "$end1" ] || fail "the new certificate does not expire later ($end1 -> $end2)"
openssl verify -CAfile "$T/ca.pem" "$T/cert2.pem" >/dev/null || fail "the new certificate does not verify with the CA"
[ "$(openssl x509 -in "$T/cert2.pem" -noout -pubkey)" = "$(openssl x509 -in "$T/cert1.pem" -noout -pubkey)" ] ||
  fail "the renewed certificate has another key (server_key did not change)"
pass "61 days later the restarted service received a new certificate (until $(date -u -d @"$end2" +%F)), same key, same CA"

# A third start sees the renewed certificate, not another one.
run_service "$T/cert3.pem"
cmp -s "$T/cert2.pem" "$T/cert3.pem" || fail "a second attestation re-issued the certificate again"
pass "the next attestation receives the same renewed certificate"
echo "service_renewal: all passed"

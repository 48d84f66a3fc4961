#!/usr/bin/env bash
# service_audit.sh - the audit log fails closed (operations.md "The audit log"): while the
# database refuses audit records (a trigger on cas_audit raising an error, added from outside
# with sqlite3, as a full or broken disk would), an attestation that would succeed is answered
# 503 naming the failed record, cas-run gets no configuration, writes no file and runs nothing;
# a refusal stays a refusal; /metrics counts the failed records. Once records can be written
# again, the same attestation succeeds.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

casd_attested
DB="$T/cas/cas-data/cas.db"
[ -f "$DB" ] || fail "no database at $DB"
RUN_ENV=(CAS_ADDR=127.0.0.1:$Q CAS_CERT="$T/cas_cert.crt")
TOUCH=$(type -P touch)
MR=$(cas-run --measure "$TOUCH")
D="$T/svc"
mkdir -p "$D"
cat >"$T/audited.yaml" <<YAML
name: audited
version: "0.3"
security:
  attestation: {mode: sim, tolerate: [debug-mode, outdated-tcb], ignore_advisories: "*"}
  service_access_token: "right-t0ken"
services:
  - {name: job, image_name: img, command: "touch $D/ran", attestation: {mrenclave: $MR}}
images:
  - name: img
    injection_files:
      - {path: $D/conf/secret.txt, content: "\$\$SCONE::pw\$\$"}
secrets:
  - {name: pw, kind: ascii, size: 20}
YAML
expect 0 cas session create "$T/audited.yaml"
metric() { curl -sS --cacert "$T/cas_cert.crt" --connect-to cas:$P:127.0.0.1:$P https://cas:$P/metrics |
  sed -n "s/^$1 //p"; }

# Every audit record now fails to be written.
sqlite3 "$DB" "CREATE TRIGGER audit_fails BEFORE INSERT ON cas_audit BEGIN SELECT RAISE(ABORT, 'audit records refused by this test'); END;"
expect 1 env "${RUN_ENV[@]}" CAS_CONFIG_ID=audited/job SCONE_SERVICE_ACCESS_TOKEN=right-t0ken timeout 20 cas-run "$TOUCH"
grep -q "^cas-run: Attestation of service 'audited/job' failed: its audit record could not be written (.*audit records refused by this test.*); casd hands out no configuration it has not recorded" "$T/err" ||
  fail "cas-run's message: $(cat "$T/err")"
[ "$(metric 'cas_http_requests_total{api="enclave",code="5xx"}')" = 1 ] || fail "casd's answer was not a 5xx"
[ ! -e "$D/ran" ] || fail "the program ran although its attestation was not recorded"
[ ! -e "$D/conf" ] || fail "injection files were written although the attestation was not recorded"
grep -q 'ev=casd.audit_failed.*config_id="audited/job"' "$T/casd.log" || fail "no casd.audit_failed in the log"
pass "an attestation whose audit record cannot be written: 503, nothing written, nothing run"

# A refusal (a wrong access token) whose record fails is still refused.
expect 1 env "${RUN_ENV[@]}" CAS_CONFIG_ID=audited/job SCONE_SERVICE_ACCESS_TOKEN=wrong cas-run "$TOUCH"
grep -qx "Wrong or missing service access token" "$T/err" || fail "a refusal is still a refusal: $(cat "$T/err")"
n=$(metric cas_audit_failures_total)
[ "$n" = 2 ] || fail "cas_audit_failures_total is '$n', expected 2"
[ "$(metric 'cas_attestations_total{verdict="ok"}')" = 0 ] || fail "an unrecorded attestation counted as ok"
pass "a refusal whose record fails is still refused (403); /metrics counts both failed records"

# Records can be written again: the same attestation succeeds and is in the log table.
sqlite3 "$DB" "DROP TRIGGER audit_fails;"
expect 0 env "${RUN_ENV[@]}" CAS_CONFIG_ID=audited/job SCONE_SERVICE_ACCESS_TOKEN=right-t0ken timeout 20 cas-run "$TOUCH"
[ -e "$D/ran" ] || fail "the program did not run once records could be written"
[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM cas_audit WHERE config_id = 'audited/job' AND verdict = 'ok'")" = 1 ] ||
  fail "the successful attestation has no audit record"
pass "with records written again the attestation succeeds, recorded before the answer"

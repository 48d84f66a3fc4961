#!/usr/bin/env bash
# seed_attest.sh - the second seed's assignment with cas: scrape MRENCLAVE from the status page,
# attest with SCONE's flags (and fail, naming each missing flag, without them), save the pinned
# chain, and use it with openssl and curl exactly as SCONE users do. Then the refusals: wrong
# MRENCLAVE, MRSIGNER, key hash, a stale nonce, evidence binding another certificate, and a CAS
# that was reinstalled on the same address.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

export CAS_CLI_CONFIG="$T/cli.json" CAS_CLI_RETRIES=0
H="$T/cas1"
start_casd casd "$H"
wait_health "$H/cas-data/cas-chain.pem" 8081
pid=$CASD_PID
ADDR=127.0.0.1

# expect CODE CMD...: the exit code, with stdout and stderr kept in $T/out and $T/err.
state_sum() { [ -f "$CAS_CLI_CONFIG" ] && sha256sum <"$CAS_CLI_CONFIG" || echo none; }

# The seed scrapes MRENCLAVE with curl and sed (certificate not yet trusted: -k).
MRENCLAVE=$(curl -sk https://$ADDR:8081/ | sed -n 's/.*<code id="mrenclave">\([0-9a-f]\{64\}\)<\/code>.*/\1/p')
[ ${#MRENCLAVE} -eq 64 ] || fail "no MRENCLAVE on the status page"
want=$( (printf 'CAS-SIM-MRENCLAVE-1\0'; cat "$CAS_BIN_DIR/casd") | sha256sum | cut -c1-64)
[ "$want" = "$MRENCLAVE" ] || fail "the status page's MRENCLAVE is not SHA-256(label, 0, casd)"
pass "MRENCLAVE scraped from the status page: $MRENCLAVE"

# Without each needed flag: exit 1 (or 2 for usage), naming the flag, state untouched.
before=$(state_sum)
expect 1 cas attest --mrenclave "$MRENCLAVE" --only_for_testing-ignore-signer --only_for_testing-debug $ADDR
grep -q "is not trustworthy: TCB status is OutOfDate (INTEL-SA-00828, INTEL-SA-00837); accept with -G/--accept-group-out-of-date" "$T/err" ||
  fail "without -G: $(cat "$T/err")"
expect 1 cas attest -G --mrenclave "$MRENCLAVE" --only_for_testing-ignore-signer $ADDR
grep -q "CAS runs in the software TEE simulator, which cannot protect secrets; accept it only for testing with --only_for_testing-debug" "$T/err" ||
  fail "without debug: $(cat "$T/err")"
expect 2 cas attest -G --mrenclave "$MRENCLAVE" --only_for_testing-debug $ADDR
grep -qx "cas: --only_for_testing-debug is only allowed if CAS signer is ignored (add --only_for_testing-ignore-signer)" "$T/err" ||
  fail "debug without ignore-signer: $(cat "$T/err")"
expect 2 cas attest -G --only_for_testing-ignore-signer --only_for_testing-debug $ADDR
grep -q "requires --mrenclave" "$T/err" || fail "ignore-signer without mrenclave"
expect 2 cas attest --mrsigner "$MRENCLAVE" $ADDR
grep -q -- "--mrsigner requires --isvprodid and --isvsvn" "$T/err" || fail "mrsigner rule"
expect 2 cas attest --nonce 00 $ADDR
expect 2 cas attest -s x $ADDR
grep -qx "cas: option '-s' is not supported by cas (cas has no separate software key)" "$T/err" || fail "-s"
[ "$(state_sum)" = "$before" ] || fail "a failed attestation changed the CLI state"
pass "missing flags named, usage errors exit 2, state unchanged"

# The seed's line.
expect 0 cas attest -G --mrenclave "$MRENCLAVE" --only_for_testing-ignore-signer --only_for_testing-debug $ADDR
printf 'CAS 127.0.0.1 at https://127.0.0.1:8081/ is trustworthy\nVersion of attested CAS: 0.1.0 (%s)\n' \
  "$(casd --version | sed 's/.*(\(.*\))/\1/')" | cmp -s - "$T/out" || fail "stdout: $(cat "$T/out")"
grep -q "warning: CAS '127.0.0.1' runs in the software TEE simulator" "$T/err" || fail "no debug warning"
grep -q "warning: accepted TCB status OutOfDate (INTEL-SA-00828, INTEL-SA-00837)" "$T/err" || fail "no TCB warning"
pass "the seed's attest line succeeds with exactly two lines on stdout"

cas show-certificate >"$T/cas_cert.crt"
openssl x509 -in "$T/cas_cert.crt" -text -noout >/dev/null || fail "openssl x509 cannot read cas_cert.crt"
[ "$(grep -c BEGIN "$T/cas_cert.crt")" = 2 ] || fail "show-certificate is not intermediate + root"
openssl s_client -connect $ADDR:8081 -verify_hostname cas -CAfile "$T/cas_cert.crt" </dev/null 2>/dev/null |
  grep -q 'Verify return code: 0 (ok)' || fail "openssl s_client -verify_hostname cas does not verify"
body=$(curl -sS --cacert "$T/cas_cert.crt" --connect-to cas:8081:$ADDR:8081 https://cas:8081/v1/health)
[ "$body" = '{"status": "ok", "version": "0.1.0"}' ] || fail "curl --cacert cas_cert.crt: $body"
st=0; curl -sS --cacert "$CAS_SOURCE_DIR/tests/e2e/data/other-ca.pem" --connect-to cas:8081:$ADDR:8081 \
  https://cas:8081/v1/health >"$T/wrong.out" 2>&1 || st=$?
{ [ "$st" = 35 ] || [ "$st" = 60 ]; } || fail "a wrong --cacert gave curl exit $st"
grep -q '"status"' "$T/wrong.out" && fail "a wrong --cacert got an HTTP body"
pass "cas_cert.crt works with openssl and curl; a wrong CA fails in TLS (curl exit $st)"

# cas list, show-identification, cas cas version, scone and the object word.
[ "$(cas list)" = "* 127.0.0.1: https://127.0.0.1:8081/" ] || fail "cas list: $(cas list)"
kh=$(cas show-identification -c)
grep -q "cas_key_hash=\"$kh\"" "$T/casd.log" || fail "show-identification -c differs from casd's key hash"
cas show-identification -C | openssl x509 -noout -subject | grep -q 'CN *= *cas$' || fail "-C"
cas show-identification | cmp -s - "$T/cas_cert.crt" || fail "-T"
cas cas version | grep -q '^casd 0.1.0 (' || fail "cas cas version"
expect 0 scone cas attest -G --mrenclave "$MRENCLAVE" --only_for_testing-ignore-signer --only_for_testing-debug $ADDR
grep -q "is trustworthy" "$T/out" || fail "scone cas attest"
expect 2 cas show-identification -s
pass "list, show-identification, cas cas version, scone cas attest"

# Refusals, each with its own message.
other=$(printf '%064d' 0)
expect 1 cas attest -G --mrenclave "$other" --only_for_testing-ignore-signer --only_for_testing-debug $ADDR
grep -q "enclave hash (MRENCLAVE) does not match expectation: got $MRENCLAVE, expected $other" "$T/err" || fail "mrenclave"
expect 1 cas attest -G --mrsigner "$other" --isvprodid 1 --isvsvn 1 $ADDR
grep -q "enclave signer (MRSIGNER) does not match expectation: got [0-9a-f]\{64\}, expected $other" "$T/err" || fail "mrsigner"
expect 1 cas attest -G --mrenclave "$MRENCLAVE" --only_for_testing-ignore-signer --only_for_testing-debug -c "$other" $ADDR
grep -q "CAS key hash is $kh, expected " "$T/err" || fail "key hash"
curl -sk "https://$ADDR:8081/v1/attest?nonce=$(printf 'ab%.0s' $(seq 32))" >"$T/report.json"
expect 1 cas attest -G --mrenclave "$MRENCLAVE" --only_for_testing-ignore-signer --only_for_testing-debug \
  --offline-report "$T/report.json" --nonce "$(printf 'cd%.0s' $(seq 32))" $ADDR
grep -q "evidence does not bind this connection (nonce or certificates differ)" "$T/err" || fail "stale nonce"
expect 0 cas attest -G --mrenclave "$MRENCLAVE" --only_for_testing-ignore-signer --only_for_testing-debug \
  --offline-report "$T/report.json" --nonce "$(printf 'ab%.0s' $(seq 32))" $ADDR
jq --arg c "$(cat "$CAS_SOURCE_DIR/tests/e2e/data/other-leaf.pem")" '.tls_certificate = $c' "$T/report.json" >"$T/swapped.json"
expect 1 cas attest -G --mrenclave "$MRENCLAVE" --only_for_testing-ignore-signer --only_for_testing-debug \
  --offline-report "$T/swapped.json" --nonce "$(printf 'ab%.0s' $(seq 32))" $ADDR
grep -q "evidence does not bind this connection" "$T/err" || fail "another certificate"
pass "wrong MRENCLAVE, MRSIGNER, key hash, stale nonce and another certificate refused"

# A reinstalled CAS on the same address: later commands refuse it, saying the certificate changed.
stop_pid "$pid"
start_casd casd2 "$T/cas2"
wait_health "$T/cas2/cas-data/cas-chain.pem" 8081
expect 1 cas session read example_session
grep -q "presents a certificate" "$T/err" || fail "session read on a reinstalled CAS: $(cat "$T/err")"
expect 1 cas cas version
grep -q "CAS '127.0.0.1' presents a certificate that does not chain to its pinned key $kh; if it was reinstalled, attest it again with 'cas attest'" "$T/err" ||
  fail "reinstalled CAS: $(cat "$T/err")"
pass "a reinstalled CAS is refused through the pin"
echo "seed_attest: all passed"

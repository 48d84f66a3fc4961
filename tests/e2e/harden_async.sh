#!/usr/bin/env bash
# harden_async.sh - RSA key generation off casd's HTTP workers: with one worker (--threads 1),
# GET /v1/health over new connections answers in under 200 ms each while a session upload
# generates RSA-3072 keys; a client that hangs up during generation leaves casd up and the
# session created; beyond keygen_queue waiting uploads the next answers 503 with Retry-After
# naming the limit, counted in /metrics; a stop during generation ends cleanly and does not
# wait for the reply that had nobody to go to.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

casd_attested --threads 1 --keygen-threads 1 --keygen-queue 1
printf 'name: first\nversion: "0.3"\nsecrets:\n  - name: v\n    kind: ascii\n' >"$T/first.yaml"
expect 0 cas session create "$T/first.yaml" # also makes the CLI's identity
jq -r .identity "$CAS_CLI_CONFIG" >"$T/id.pem"
CURL=(curl -sS --cacert "$T/cas_cert.crt" --connect-to "cas:$P:127.0.0.1:$P")
UP=("${CURL[@]}" --cert "$T/id.pem" --key "$T/id.pem" --max-time 120)
# rsa_yaml NAME N: a session of N RSA-3072 keys.
rsa_yaml() {
  printf 'name: %s\nversion: "0.3"\nsecrets:\n' "$1"
  for i in $(seq 1 "$2"); do printf '  - name: k%s\n    kind: private-key\n    key_type: RSA-3072\n' "$i"; done
}
# upload_bg NAME N: POSTs it in the background; status and time land in $T/NAME.code.
upload_bg() {
  rsa_yaml "$1" "$2" >"$T/$1.yaml"
  "${UP[@]}" -o "$T/$1.json" -w '%{http_code} %{time_total}' --data-binary @"$T/$1.yaml" \
    "https://cas:$P/v1/sessions" >"$T/$1.code" 2>"$T/$1.err" &
  UPLOAD_PID=$!
  PIDS+=("$UPLOAD_PID")
}
health_time() {
  "${CURL[@]}" --max-time 20 -o /dev/null -w '%{http_code} %{time_total}' "https://cas:$P/v1/health"
}
metric() { "${CURL[@]}" --max-time 10 "https://cas:$P/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

# 1. Health probes on new connections while 4 RSA-3072 keys are generated.
upload_bg keys 4
sleep 0.3
n=0 worst=0
while kill -0 "$UPLOAD_PID" 2>/dev/null; do
  r=$(health_time)
  [ "${r% *}" = 200 ] || fail "a health probe during generation answered ${r% *}"
  n=$((n + 1))
  worst=$(awk -v a="$worst" -v b="${r#* }" 'BEGIN { print (b > a) ? b : a }')
  awk -v t="${r#* }" 'BEGIN { exit !(t < 0.2) }' ||
    fail "a health probe took ${r#* } s while an upload generated RSA keys (probe $n)"
  sleep 0.05
done
wait "$UPLOAD_PID" || true
read -r code secs <"$T/keys.code" || true
[ "$code" = 201 ] || fail "the upload of 4 RSA keys answered $code: $(cat "$T/keys.json" "$T/keys.err")"
[ "$n" -ge 3 ] || fail "only $n health probes ran during the ${secs} s upload"
pass "$n health probes during a ${secs} s upload of 4 RSA-3072 keys, the slowest ${worst} s"

# 2. A client that hangs up during generation: casd stays up and still creates the session
# (the upload was accepted; only its answer has nobody to go to).
rsa_yaml gone 3 >"$T/gone.yaml"
st=0
"${UP[@]}" --max-time 0.5 -o /dev/null --data-binary @"$T/gone.yaml" "https://cas:$P/v1/sessions" \
  2>/dev/null || st=$?
[ "$st" = 28 ] || fail "the impatient client's curl exited $st, expected 28 (timed out)"
for i in $(seq 1 300); do
  c=$("${UP[@]}" -o /dev/null -w '%{http_code}' "https://cas:$P/v1/sessions/gone")
  [ "$c" = 200 ] && break
  sleep 0.1
done
[ "$c" = 200 ] || fail "the session of the client that hung up was not created ($c)"
r=$(health_time)
[ "${r% *}" = 200 ] || fail "casd did not answer after a client hung up: ${r% *}"
pass "a client that hung up during generation: casd up, session 'gone' created"

# 3. keygen_queue 1: one upload generating, one waiting, the third is refused with 503.
upload_bg q1 4
sleep 0.3
upload_bg q2 1
q2_pid=$UPLOAD_PID
sleep 0.3
rsa_yaml q3 1 >"$T/q3.yaml"
code=$("${UP[@]}" -D "$T/q3.hdr" -o "$T/q3.json" -w '%{http_code}' --data-binary @"$T/q3.yaml" \
  "https://cas:$P/v1/sessions")
[ "$code" = 503 ] || fail "a third upload with keygen_queue 1 answered $code: $(cat "$T/q3.json")"
grep -qi '^retry-after: [0-9]' "$T/q3.hdr" || fail "the 503 has no Retry-After: $(cat "$T/q3.hdr")"
[ "$(jq -r '.msg[1]' "$T/q3.json")" = "more than keygen_queue (1) uploads are waiting for key generation; try again later, or raise keygen_queue" ] ||
  fail "the 503's message: $(cat "$T/q3.json")"
[ "$(metric cas_keygen_refused_total)" = 1 ] || fail "cas_keygen_refused_total is not 1"
wait "$q2_pid" || true
read -r code secs <"$T/q1.code" || true
[ "$code" = 201 ] || fail "the generating upload answered $code"
read -r code secs <"$T/q2.code" || true
[ "$code" = 201 ] || fail "the waiting upload answered $code"
[ "$(metric cas_keygen_queue_depth)" = 0 ] || fail "cas_keygen_queue_depth is not 0 afterwards"
pass "keygen_queue 1: the third upload answered 503 with Retry-After, counted in /metrics"

# 4. A stop during generation: casd waits for that upload only (the client that hung up in 2.
# is not still counted in flight, which held every stop for its whole 10 s grace) and ends
# cleanly, no thread or job left behind.
upload_bg last 2
sleep 0.3
t0=$(date +%s%N)
stop_pid "$CASD_PID"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$STOP_STATUS" = 0 ] || fail "casd exited $STOP_STATUS when stopped during generation"
[ "$ms" -lt 9000 ] || fail "the stop took $ms ms: a request still counted in flight held it"
wait "$UPLOAD_PID" || true
! grep -q 'Sanitizer' "$T/casd.log" || fail "the sanitizer reported: $(grep -A5 Sanitizer "$T/casd.log" | head -20)"
pass "stopped during generation in $ms ms: exit 0, the upload answered $(cut -d' ' -f1 "$T/last.code")"

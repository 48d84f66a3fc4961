#!/usr/bin/env bash
# service_replay.sh - a quote replayed on a second connection is refused (api.md §2.4): the
# evidence cas-run sends to POST /v1/service/attest carries in its report data SHA-256 of the
# SubjectPublicKeyInfo of its TLS client certificate. The request body is captured by a fake
# enclave API (openssl s_server with a CA of this test's own), then replayed to casd with curl and
# another client key: 403 naming the binding and nothing else, the same with the quote's JSON
# string spelled with escaped slashes (casd's fast path and its full parse agree), 400 for a quote
# that is not base64, and the refusals in casd's audit table.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

casd_attested
CHAIN="$T/cas/cas-data/cas-chain.pem"

# A session whose one service is a copy of true, with a policy honest simulator evidence passes.
cp "$(type -P true)" "$T/prog"
MR=$(cas-run --measure "$T/prog")
cat >"$T/replay.yaml" <<YAML
name: replay
version: "0.3"
security:
  attestation: {mode: sim, tolerate: [debug-mode, outdated-tcb], ignore_advisories: "*"}
services:
  - {name: job, command: "true", attestation: {mrenclave: $MR}}
YAML
expect 0 cas session create "$T/replay.yaml"
expect 0 env CAS_ADDR=127.0.0.1:$Q CAS_CERT="$T/cas_cert.crt" CAS_CONFIG_ID=replay/job cas-run "$T/prog"
pass "cas-run of replay/job succeeds against casd (the session accepts honest evidence)"

# A fake enclave API: a CA of the test's own, a leaf for DNS:cas, asking for a client certificate
# and printing it and the bytes received. Its stdin is a FIFO held open, so it waits for them.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/fake_ca.key" \
  -out "$T/fake_ca.pem" -subj "/CN=Fake CAS CA" -days 1 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/fake.key" \
  -out "$T/fake.csr" -subj /CN=cas 2>/dev/null
printf 'subjectAltName=DNS:cas\n' >"$T/fake.ext"
openssl x509 -req -in "$T/fake.csr" -CA "$T/fake_ca.pem" -CAkey "$T/fake_ca.key" -CAcreateserial \
  -out "$T/fake.pem" -days 1 -extfile "$T/fake.ext" 2>/dev/null
F=$(free_port)
mkfifo "$T/fake.in"
openssl s_server -accept 127.0.0.1:$F -naccept 1 -cert "$T/fake.pem" -key "$T/fake.key" -verify 1 \
  <"$T/fake.in" >"$T/capture.bin" 2>"$T/fake_server.log" &
PIDS+=("$!")
FPID=$!
exec 7>"$T/fake.in"
# Ready when it says ACCEPT (a probing connection would use up its one accept).
for i in $(seq 1 200); do
  kill -0 $FPID 2>/dev/null || fail "openssl s_server exited: $(cat "$T/fake_server.log")"
  grep -q '^ACCEPT' "$T/capture.bin" && break
  sleep 0.1
done
grep -q '^ACCEPT' "$T/capture.bin" || fail "openssl s_server is not listening on $F"

# capture: from s_server's output, the client certificate (capture.pem) and the HTTP body
# (body.json, exactly Content-Length bytes after the blank line). Exit 1 while incomplete.
capture() {
  python3 - "$T" <<'PY'
import re, sys
t = sys.argv[1]
data = open(t + "/capture.bin", "rb").read()
cert = re.search(rb"Client certificate\n(-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n)", data, re.S)
at = data.find(b"POST /v1/service/attest HTTP/1.1\r\n")
if cert is None or at < 0:
    sys.exit(1)
end = data.find(b"\r\n\r\n", at)
if end < 0:
    sys.exit(1)
m = re.search(rb"\r\ncontent-length: *(\d+)\r\n", data[at:end + 2], re.I)
if m is None:
    sys.exit(2)
body = data[end + 4:end + 4 + int(m.group(1))]
if len(body) < int(m.group(1)):
    sys.exit(1)
open(t + "/capture.pem", "wb").write(cert.group(1))
open(t + "/body.json", "wb").write(body)
PY
}
# cas-run against the fake: it sends its attestation and waits for an answer that never comes.
env CAS_ADDR=127.0.0.1:$F CAS_CERT="$T/fake_ca.pem" CAS_CONFIG_ID=replay/job \
  timeout 20 cas-run "$T/prog" >"$T/fake_run.log" 2>&1 &
RPID=$!
PIDS+=("$RPID")
st=1
for i in $(seq 1 150); do
  st=0; capture || st=$?
  [ "$st" = 1 ] || break
  kill -0 "$RPID" 2>/dev/null || break
  sleep 0.1
done
[ "$st" = 0 ] || fail "no complete request captured (status $st); cas-run said: $(cat "$T/fake_run.log")"
kill "$RPID" 2>/dev/null || true
exec 7>&-
[ "$(jq -r '.config_id' "$T/body.json")" = replay/job ] || fail "captured body: $(head -c 300 "$T/body.json")"
jq -e '.evidence.quote | type == "string" and length > 1000' "$T/body.json" >/dev/null ||
  fail "the captured body has no .evidence.quote"
pass "cas-run's request captured by a fake enclave API ($(wc -c <"$T/body.json") bytes of JSON)"

# What the quote carries: the program's MRENCLAVE, and report data = SHA-256(SPKI of the client
# certificate cas-run presented) followed by 32 zero bytes (SGX v3: the report body at 48).
openssl x509 -in "$T/capture.pem" -pubkey -noout | openssl pkey -pubin -outform DER >"$T/capture.spki"
SPKI_RUN=$(sha256sum <"$T/capture.spki" | cut -c1-64)
jq -r .evidence.quote "$T/body.json" | base64 -d >"$T/quote.bin"
Q_MR=$(od -An -v -tx1 -j112 -N32 "$T/quote.bin" | tr -d ' \n')
Q_RD=$(od -An -v -tx1 -j368 -N64 "$T/quote.bin" | tr -d ' \n')
[ "$Q_MR" = "$MR" ] || fail "the quote's MRENCLAVE is $Q_MR, expected $MR"
[ "$Q_RD" = "$SPKI_RUN$(printf '0%.0s' $(seq 1 64))" ] ||
  fail "the quote's report data $Q_RD does not start with SHA-256 of cas-run's SPKI $SPKI_RUN"
pass "the quote's report data is SHA-256 of the SPKI of cas-run's client certificate, then zeros"

# The replayer: a client key and self-signed certificate of its own.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/thief.key" \
  -out "$T/thief.pem" -subj /CN=thief -days 1 2>/dev/null
REPLAY=(curl -sS --max-time 10 --cacert "$CHAIN" --connect-to cas:$Q:127.0.0.1:$Q
  --cert "$T/thief.pem" --key "$T/thief.key" -H 'Content-Type: application/json'
  -o "$T/answer.json" -w '%{http_code}')
BINDING="Evidence does not verify: its report data does not bind this connection's client certificate (a copied quote is useless elsewhere)"
FIRST="Attestation of service 'replay/job' failed"
# replay FILE WHAT: 403 whose only problem is the binding.
replay() {
  local code
  code=$("${REPLAY[@]}" --data-binary @"$1" https://cas:$Q/v1/service/attest) ||
    fail "$2: curl failed"
  [ "$code" = 403 ] || fail "$2: HTTP $code, expected 403; answer: $(head -c 400 "$T/answer.json")"
  jq -e --arg f "$FIRST" --arg b "$BINDING" '.msg == [$f, $b]' "$T/answer.json" >/dev/null ||
    fail "$2: messages $(jq -c .msg "$T/answer.json"), expected only the binding problem"
  [ "$(jq -r .verdict.mrenclave "$T/answer.json")" = "$MR" ] ||
    fail "$2: the verdict's MRENCLAVE $(jq -r .verdict.mrenclave "$T/answer.json")"
}
replay "$T/body.json" "the replayed body"
pass "the captured body replayed with another client key: 403, only the binding problem"

# The same quote as a JSON string with escaped slashes: casd parses the whole body instead of
# decoding the base64 from the text, and must reach the same verdict.
grep -q '/' <(jq -r .evidence.quote "$T/body.json") || fail "the quote has no '/' to escape"
python3 - "$T/body.json" "$T/escaped.json" <<'PY'
import json, sys
body = open(sys.argv[1]).read()
q = json.loads(body)["evidence"]["quote"]
esc = body.replace('"' + q + '"', '"' + q.replace("/", "\\/") + '"', 1)
assert esc != body and json.loads(esc) == json.loads(body)
open(sys.argv[2], "w").write(esc)
PY
replay "$T/escaped.json" "the replay with escaped slashes"
pass "the same replay with the quote spelled with \\/: the same 403"

# A quote that is not base64: 400.
jq -c '.evidence.quote = "x!"' "$T/body.json" >"$T/bad.json"
code=$("${REPLAY[@]}" --data-binary @"$T/bad.json" https://cas:$Q/v1/service/attest) || fail "curl failed"
[ "$code" = 400 ] || fail "a quote 'x!': HTTP $code; answer: $(cat "$T/answer.json")"
jq -e '.msg | index("evidence.quote is not base64 of a quote") != null' "$T/answer.json" >/dev/null ||
  fail "a quote 'x!': $(cat "$T/answer.json")"
pass "a quote that is not base64: 400"

# Without a client certificate: refused in the TLS handshake, or 403 at the latest.
code=$(curl -sS --max-time 10 --cacert "$CHAIN" --connect-to cas:$Q:127.0.0.1:$Q \
  -H 'Content-Type: application/json' -o "$T/answer.json" -w '%{http_code}' \
  --data-binary @"$T/body.json" https://cas:$Q/v1/service/attest 2>"$T/err") || code=handshake
[ "$code" = 403 ] || [ "$code" = handshake ] ||
  fail "no client certificate: HTTP $code; answer: $(cat "$T/answer.json")"
pass "the replay without a client certificate is refused ($code)"

# The audit table: the two refusals under the replayer's key hash, the binding as their verdict,
# and the invalid quote; cas-run's honest attempt under another key, ok.
KH=$(cas cert show-key-hash "$T/thief.pem")
sql() { sqlite3 "$T/cas/cas-data/cas.db" "$1"; }
B_SQL=${BINDING//\'/\'\'}
n=$(sql "SELECT count(*) FROM cas_audit WHERE config_id = 'replay/job' AND caller = '$KH'
         AND substr(verdict, 1, length('$B_SQL')) = '$B_SQL'")
[ "$n" = 2 ] || fail "audit rows of the replays by $KH: $n, expected 2; table: $(sql 'SELECT * FROM cas_audit')"
n=$(sql "SELECT count(*) FROM cas_audit WHERE config_id = 'replay/job' AND caller = '$KH'
         AND verdict = 'evidence.quote is not base64 of a quote'")
[ "$n" = 1 ] || fail "audit rows of the invalid quote: $n, expected 1; table: $(sql 'SELECT * FROM cas_audit')"
n=$(sql "SELECT count(*) FROM cas_audit WHERE config_id = 'replay/job' AND caller <> '$KH' AND verdict = 'ok'")
[ "$n" = 1 ] || fail "audit rows of cas-run's own attestation: $n, expected 1; table: $(sql 'SELECT * FROM cas_audit')"
pass "casd's audit table records both refused replays (caller $KH) with the binding as verdict, and the invalid quote"

# The collateral before the evidence in the text: casd cuts the known collateral and the quote
# out of the text in that order (known: cas-run's compact JSON, or learnt by the first of these).
# The same 403; cut in the wrong order, casd would crash.
jq -c '{collateral, config_id, evidence, access_token, features}' "$T/body.json" >"$T/reordered.json"
[ "$(jq -r 'keys_unsorted[0]' "$T/reordered.json")" = collateral ] || fail "the reordered body"
replay "$T/reordered.json" "the reordered body, first"
replay "$T/reordered.json" "the reordered body, again"
pass "a body with the collateral first: the same 403, twice"

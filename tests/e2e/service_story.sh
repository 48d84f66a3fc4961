#!/usr/bin/env bash
# service_story.sh - the first seed end to end (docs/tutorial.md, examples/attested-tls-service):
# attest casd, create a session with a CA, a server certificate issued by it and a service whose
# MRENCLAVE comes from `cas-run --measure`; run the example TLS server under cas-run (certificate
# and key as injection files, a template rendered on the attested connection) and reach it with
# curl trusting only the session's CA. Then the refusals: an impostor binary (403 naming its
# MRENCLAVE, nothing written or run), a server with a self-made certificate, simulator evidence
# under mode: hardware, an out-of-date platform unless tolerated, a missing host argument, a
# wrong access token, a volume (422), a one-time password, an unknown session, and a CAS_CERT
# that is not the CAS's.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

export CAS_CLI_CONFIG="$T/cli.json" CAS_CLI_RETRIES=0
P=$(free_port); Q=$(free_port)
start_casd casd "$T/cas" --listen 127.0.0.1:$P --enclave-listen 127.0.0.1:$Q
wait_health "$T/cas/cas-data/cas-chain.pem" $P

# wait_listen PORT PID: up to 20 s for a TLS server on 127.0.0.1:PORT, as long as PID lives.
wait_listen() {
  local i
  for i in $(seq 1 200); do
    kill -0 "$2" 2>/dev/null || fail "the process on port $1 exited"
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  fail "nothing listens on port $1"
}

# The client side, step 1: attest the CAS and keep its certificate chain.
MR_CAS=$(curl -sk https://127.0.0.1:$P/ | sed -n 's/.*<code id="mrenclave">\([0-9a-f]\{64\}\)<\/code>.*/\1/p')
expect 0 cas attest -G --mrenclave "$MR_CAS" --only_for_testing-ignore-signer --only_for_testing-debug 127.0.0.1:$P
cas show-certificate >"$T/cas_cert.crt"

# The service's MRENCLAVE, as the simulator will report it.
SERVICE="$CAS_BIN_DIR/attested-tls-service"
MR=$(cas-run --measure "$SERVICE")
want=$( (printf 'CAS-SIM-MRENCLAVE-1\0'; cat "$SERVICE") | sha256sum | cut -c1-64)
[ "$MR" = "$want" ] || fail "cas-run --measure printed '$MR', expected $want"
expect 2 cas-run --measure --tee tsm "$SERVICE"
grep -qx "cas-run: --measure works with --tee sim only" "$T/err" || fail "--measure --tee tsm: $(cat "$T/err")"
pass "cas-run --measure prints SHA-256(label, 0, program): $MR"

# The session (policy.md §5, §6, §8.1): certificate and key as injection files, and a file the
# launcher reads from this machine as a template.
D="$T/svc"
mkdir -p "$D/conf"
printf 'served by %s\n$$SCONE::service_ca:crt$$' tls_service >"$D/conf/about.txt"
session() { # NAME SECURITY_YAML MRENCLAVE
  cat <<YAML
name: $1
version: "0.3"
security:
  attestation:
$2
services:
  - name: web
    image_name: web_image
    command: attested-tls-service @@1 $D/tls/server.crt $D/tls/server.key
    environment:
      GREETING: hello
    pwd: $D
    attestation:
      mrenclave: [$3]
images:
  - name: web_image
    injection_files:
      - path: $D/tls/server.crt
        permission: 0o444
        content: |
          \$\$SCONE::server_cert:crt\$\$
      - path: $D/tls/server.key
        permission: 0o400
        content: \$\$SCONE::server_cert:privatekey\$\$
      - $D/conf/about.txt
secrets:
  - {name: ca_key, kind: private-key}
  - {name: service_ca, kind: x509-ca, private_key: ca_key, common_name: "Service CA", export_public: true}
  - {name: server_key, kind: private-key}
  - name: server_cert
    kind: x509
    private_key: server_key
    issuer: service_ca
    endpoint: server
    san: ["dns:service", "ip:127.0.0.1"]
YAML
}
SIM_OK='    mode: sim
    tolerate: [debug-mode, outdated-tcb]
    ignore_advisories: [INTEL-SA-00828, INTEL-SA-00837]'
session tls_service "$SIM_OK" "$MR" >"$T/tls_service.yaml"
expect 0 cas session create "$T/tls_service.yaml"
H=$(cat "$T/out")
[ "$(cas session verify "$T/tls_service.yaml")" = "$H" ] || fail "cas session verify"
CURL=(curl -sS --cacert "$T/cas_cert.crt" --connect-to cas:$P:127.0.0.1:$P)
"${CURL[@]}" https://cas:$P/v1/values/session=tls_service,secret=service_ca | jq -r .value >"$T/ca.pem"
openssl x509 -in "$T/ca.pem" -noout -subject | grep -q 'CN *= *Service CA' || fail "the CA from the values API"
pass "session created ($H), verified, its CA read with curl from the values API"

RUN_ENV=(CAS_ADDR=127.0.0.1:$Q CAS_CERT="$T/cas_cert.crt")
S1=$(free_port)

# An impostor: another binary (the server with one byte more: it would run, and listen).
cp "$SERVICE" "$T/impostor" && printf 'x' >>"$T/impostor"
MR_IMP=$(cas-run --measure "$T/impostor")
expect 1 env "${RUN_ENV[@]}" CAS_CONFIG_ID=tls_service/web timeout 20 cas-run "$T/impostor" $S1
grep -qx "cas-run: Attestation of service 'tls_service/web' failed" "$T/err" || fail "impostor: $(cat "$T/err")"
grep -qx "Unexpected enclave measurement (MRENCLAVE, $MR_IMP) - Expected $MR" "$T/err" ||
  fail "impostor's problem line: $(cat "$T/err")"
[ ! -e "$D/tls" ] || fail "files were written for the impostor"
! (exec 3<>"/dev/tcp/127.0.0.1/$S1") 2>/dev/null || fail "the impostor was executed"
pass "an impostor gets 403 naming its MRENCLAVE; nothing written, nothing executed"

# A missing host argument is fatal, before anything is written.
expect 1 env "${RUN_ENV[@]}" CAS_CONFIG_ID=tls_service/web cas-run "$SERVICE"
grep -qx "cas-run: the session's command needs host argument @@1, but 0 were given" "$T/err" ||
  fail "missing @@1: $(cat "$T/err")"
[ ! -e "$D/tls" ] || fail "files were written without the host argument"
pass "a missing @@1 is fatal and writes nothing"

# The service under cas-run (SCONE's variable names); curl trusts only the session CA.
env SCONE_CAS_ADDR=127.0.0.1:$Q CAS_CERT="$T/cas_cert.crt" SCONE_CONFIG_ID=tls_service/web \
  cas-run "$SERVICE" $S1 extra >"$T/service.log" 2>&1 &
SPID=$!
PIDS+=("$SPID")
wait_listen $S1 $SPID
body=$(curl -sS --cacert "$T/ca.pem" --connect-to service:$S1:127.0.0.1:$S1 https://service:$S1/)
[ "$body" = "Hello from the attested TLS service" ] || fail "curl answered '$body'"
body=$(curl -sS --cacert "$T/ca.pem" https://127.0.0.1:$S1/)
[ "$body" = "Hello from the attested TLS service" ] || fail "curl by IP answered '$body'"
grep -q "1 argument after the program is not named by @@N" "$T/service.log" || fail "no warning for 'extra'"
pass "the service runs under cas-run; curl --cacert ca.pem https://service:$S1/ succeeds"

# What the program sees: its files with their modes (in its own mount namespace where cas-run
# could make one), the rendered template, its environment and working directory.
R=/proc/$SPID/root
[ "$(stat -c %a "$R$D/tls/server.key")" = 400 ] || fail "key mode $(stat -c %a "$R$D/tls/server.key")"
[ "$(stat -c %a "$R$D/tls/server.crt")" = 444 ] || fail "certificate mode"
[ "$(stat -c %a "$R$D/conf/about.txt")" = 700 ] || fail "rendered template mode"
openssl verify -CAfile "$T/ca.pem" "$R$D/tls/server.crt" >/dev/null || fail "the served certificate"
head -n1 "$R$D/conf/about.txt" | grep -qx "served by tls_service" || fail "template not rendered"
grep -q "BEGIN CERTIFICATE" "$R$D/conf/about.txt" || fail "the template's placeholder"
tr '\0' '\n' <"/proc/$SPID/environ" >"$T/environ"
[ "$(cat "$T/environ")" = "GREETING=hello" ] || fail "the program's environment: $(cat "$T/environ")"
[ "$(readlink "/proc/$SPID/cwd")" = "$D" ] || fail "pwd"
if [ -e "$D/tls/server.key" ]; then
  [ "$(stat -c %a "$D/tls/server.key")" = 400 ] || fail "key mode on disk"
  echo "note: no private mount namespace here; files written to disk"
else
  grep -q 'SCONE::service_ca' "$D/conf/about.txt" || fail "the host's template changed"
  pass "the injection files live in the program's private tmpfs only"
fi
grep -q "PRIVATE KEY" "$T/service.log" && fail "cas-run printed the key"
pass "files with their modes, the template rendered, exactly the session's environment"

# A server with a self-made certificate for the same names: the CA's clients refuse it.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/fake.key" \
  -out "$T/fake.crt" -subj /CN=service -days 1 -addext "subjectAltName=DNS:service,IP:127.0.0.1" 2>/dev/null
S2=$(free_port)
"$SERVICE" $S2 "$T/fake.crt" "$T/fake.key" >"$T/fake.log" 2>&1 &
FPID=$!
PIDS+=("$FPID")
wait_listen $S2 $FPID
st=0
curl -sS --cacert "$T/ca.pem" --connect-to service:$S2:127.0.0.1:$S2 https://service:$S2/ >"$T/out" 2>&1 || st=$?
[ "$st" = 60 ] || [ "$st" = 35 ] || fail "curl to the self-made certificate exited $st"
grep -q Hello "$T/out" && fail "an answer from the server with a self-made certificate"
pass "a server with a self-made certificate is refused by curl (exit $st)"

# Simulator evidence under mode: hardware is refused, naming the mode.
session tls_hw '    mode: hardware
    tolerate: [debug-mode, outdated-tcb]
    ignore_advisories: [INTEL-SA-00828, INTEL-SA-00837]' "$MR" >"$T/tls_hw.yaml"
expect 0 cas session create "$T/tls_hw.yaml"
expect 1 env "${RUN_ENV[@]}" CAS_CONFIG_ID=tls_hw/web timeout 20 cas-run "$SERVICE" $(free_port)
grep -qx "evidence comes from the software TEE simulator; it is accepted only under 'mode: sim' with tolerate: \[debug-mode\]" "$T/err" ||
  fail "mode hardware: $(cat "$T/err")"
pass "simulator evidence under mode: hardware is refused, naming mode: sim"

# An out-of-date platform: refused without outdated-tcb, accepted with it or when up to date.
TRUE_BIN=$(type -P true)
MR_TRUE=$(cas-run --measure "$TRUE_BIN")
cat >"$T/strict.yaml" <<YAML
name: strict
version: "0.3"
security:
  attestation:
    mode: sim
    tolerate: [debug-mode]
services:
  - {name: job, command: "true", attestation: {mrenclave: $MR_TRUE}}
YAML
expect 0 cas session create "$T/strict.yaml"
expect 1 env "${RUN_ENV[@]}" CAS_CONFIG_ID=strict/job cas-run "$TRUE_BIN"
grep -q "^TCB status OutOfDate (INTEL-SA-00828, INTEL-SA-00837): add outdated-tcb to tolerate" "$T/err" ||
  fail "out of date: $(cat "$T/err")"
expect 0 env "${RUN_ENV[@]}" CAS_CONFIG_ID=strict/job CAS_SIM_TCB_STATUS=UpToDate CAS_SIM_ADVISORIES= cas-run "$TRUE_BIN"
sed 's/tolerate: \[debug-mode\]/tolerate: [debug-mode, outdated-tcb]/' "$T/strict.yaml" >"$T/lenient.yaml"
sed -i 's/^name: strict/name: lenient/' "$T/lenient.yaml"
expect 0 cas session create "$T/lenient.yaml"
expect 0 env "${RUN_ENV[@]}" CAS_CONFIG_ID=lenient/job CAS_SIM_ADVISORIES= cas-run "$TRUE_BIN"
pass "OutOfDate refused unless tolerated (outdated-tcb), accepted when up to date"

# A binary value cannot go into the environment (or argv, or pwd) as it is: the session is
# refused at upload; in a text format the service gets it (env prints its environment).
ENV_BIN=$(type -P env)
binenv() { # FORMAT_SUFFIX
  cat <<YAML
name: binenv
version: "0.3"
security:
  attestation: {mode: sim, tolerate: [debug-mode, outdated-tcb], ignore_advisories: "*"}
services:
  - {name: job, command: "env", environment: {K: "\$\$SCONE::raw$1\$\$"}, attestation: {mrenclave: $(cas-run --measure "$ENV_BIN")}}
secrets:
  - {name: raw, kind: binary, size: 16}
YAML
}
binenv "" >"$T/binenv.yaml"
expect 1 cas session create "$T/binenv.yaml"
grep -q "gives binary output (bin), which is refused in command, environment and pwd; use a text format such as :hex or :base64" "$T/err" ||
  fail "a binary value in the environment: $(cat "$T/err")"
binenv ":hex" >"$T/binenv.yaml"
expect 0 cas session create "$T/binenv.yaml"
expect 0 env "${RUN_ENV[@]}" CAS_CONFIG_ID=binenv/job cas-run "$ENV_BIN"
grep -qx 'K=[0-9a-f]\{32\}' "$T/out" || fail "the :hex value in the environment: $(cat "$T/out")"
pass "a binary value is refused in the environment at upload; as :hex the service gets 32 hex digits"

# The service access token: from a file or the variable, never printed; a wrong one is refused.
cat >"$T/token.yaml" <<YAML
name: token
version: "0.3"
security:
  attestation: {mode: sim, tolerate: [debug-mode, outdated-tcb], ignore_advisories: "*"}
  service_access_token: "t0ken-s3cret"
services:
  - {name: job, command: "true", attestation: {mrenclave: $MR_TRUE}}
YAML
expect 0 cas session create "$T/token.yaml"
expect 1 env "${RUN_ENV[@]}" CAS_CONFIG_ID=token/job SCONE_SERVICE_ACCESS_TOKEN=wrong-t0ken cas-run "$TRUE_BIN"
grep -qx "Wrong or missing service access token" "$T/err" || fail "wrong token: $(cat "$T/err")"
grep -q "wrong-t0ken" "$T/err" && fail "the token was printed"
printf 't0ken-s3cret\n' >"$T/token.txt"
expect 0 env "${RUN_ENV[@]}" CAS_CONFIG_ID=token/job cas-run --access-token-file "$T/token.txt" "$TRUE_BIN"
expect 0 env "${RUN_ENV[@]}" CAS_CONFIG_ID=token/job CAS_ACCESS_TOKEN=t0ken-s3cret cas-run "$TRUE_BIN"
pass "the access token from --access-token-file or SCONE_SERVICE_ACCESS_TOKEN; a wrong one is refused"

# A service whose image mounts a volume: 422, decided after attestation, on one line.
cat >"$T/vol.yaml" <<YAML
name: vol
version: "0.3"
security:
  attestation: {mode: sim, tolerate: [debug-mode, outdated-tcb], ignore_advisories: "*"}
volumes:
  - name: data
services:
  - {name: job, image_name: img, command: "true", attestation: {mrenclave: $MR_TRUE}}
images:
  - {name: img, volumes: [{name: data, path: /data}]}
YAML
expect 0 cas session create "$T/vol.yaml"
expect 1 env "${RUN_ENV[@]}" CAS_CONFIG_ID=vol/job cas-run "$TRUE_BIN"
grep -qx "cas-run: Service 'vol/job' cannot be started by this launcher: image 'img' mounts volume 'data' at '/data'; SCONE volumes are not supported by cas-run" "$T/err" ||
  fail "volumes: $(cat "$T/err")"
pass "a service with a volume is refused with 422's two messages"

# The enclave API's other refusals, and a CAS_CERT that is not this CAS's.
expect 1 env "${RUN_ENV[@]}" CAS_CONFIG_ID=tls_service/web@123 cas-run "$TRUE_BIN"
grep -q "one-time passwords are not supported by cas yet" "$T/err" || fail "otp: $(cat "$T/err")"
expect 1 env "${RUN_ENV[@]}" CAS_CONFIG_ID=nosuch/web cas-run "$TRUE_BIN"
grep -qx "cas-run: Session not found" "$T/err" || fail "unknown session: $(cat "$T/err")"
expect 1 env CAS_ADDR=127.0.0.1:$Q CAS_CERT="$T/ca.pem" CAS_CONFIG_ID=tls_service/web cas-run "$TRUE_BIN"
grep -q "has no certificate for DNS:cas from CAS_CERT's root" "$T/err" || fail "wrong CAS_CERT: $(cat "$T/err")"
expect 2 env CAS_ADDR=127.0.0.1:$Q SCONE_CAS_ADDR=127.0.0.1:1 CAS_CERT="$T/cas_cert.crt" CAS_CONFIG_ID=strict/job cas-run "$TRUE_BIN"
grep -qx "cas-run: CAS_ADDR and SCONE_CAS_ADDR are both set, to different values" "$T/err" || fail "alias conflict"
pass "one-time password 400, unknown session 404, a foreign CAS_CERT, conflicting aliases"

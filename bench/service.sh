#!/usr/bin/env bash
# service.sh - issue 8's benchmark: full service attestations per second on casd (new mutually
# authenticated TLS connection, simulated quote verified, configuration rendered) against nginx's
# rate of new TLS connections serving a small file, both with the same client, in one run.
# The attest side sends what cas-run sends (lib/client/enclave.c): the body with the simulator's
# collateral, Content-Type: application/json, no Expect, its key and certificate given to OpenSSL
# as objects. casd parses a collateral it has seen before once (by its exact bytes) and a session
# version once (checked against the database each time); the quote's signatures, the policy
# decision, the secrets and the audit record are done for every request.
# The two sides take turns, ROUNDS times SECONDS each (a shared machine's load then falls on both
# alike); the medians are compared. Each line also says where a request's time goes (curl's view).
# Installs nginx-light (Debian) when missing. Usage: bench/service.sh [ROUNDS [SECONDS]]  (5, 2)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
secs=${2:-2}
command -v nginx >/dev/null || { apt-get install -y -qq nginx-light >/dev/null; }
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)" --target casd cas bench_service >/dev/null
d=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$d"' EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
P=$(port); E=$(port); N=$(port)
(cd "$d" && exec "$OLDPWD/build/release/bin/casd" --listen 127.0.0.1:$P --enclave-listen 127.0.0.1:$E --log-level warn) &
pids+=($!)
for _ in $(seq 1 100); do [ -f "$d/cas-data/cas-chain.pem" ] && break; sleep 0.1; done
sleep 0.5
export CAS_CLI_CONFIG="$d/cli.json"
MR=$(curl -sk https://127.0.0.1:$P/ | sed -n 's/.*<code id="mrenclave">\([0-9a-f]\{64\}\)<\/code>.*/\1/p')
build/release/bin/cas attest -G --mrenclave "$MR" --only_for_testing-ignore-signer --only_for_testing-debug 127.0.0.1:$P >/dev/null 2>&1
SVC=$(printf '%064d' 7 | tr 0 a)
cat >"$d/s.yaml" <<YAML
name: bench
version: "0.3"
services:
  - name: svc
    image_name: img
    command: /bin/server --key-file /run/key.pem
    environment: {TOKEN: "\$\$SCONE::token\$\$"}
    attestation: {mrenclave: $SVC}
images:
  - name: img
    injection_files:
      - {path: /run/key.pem, content: "\$\$SCONE::key:pem\$\$"}
secrets:
  - {name: token, kind: ascii}
  - {name: key, kind: private-key}
security:
  attestation: {mode: sim, tolerate: [debug-mode, outdated-tcb], ignore_advisories: "*"}
YAML
build/release/bin/cas session create "$d/s.yaml" -c 127.0.0.1:$P >/dev/null
# nginx: the same TLS versions and a small file, as many workers as casd has threads.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/n.key" -out "$d/n.crt" \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost -days 2 2>/dev/null
echo hello >"$d/index.html"
chmod 755 "$d"; chmod 644 "$d/index.html"  # nginx workers run as www-data
cat >"$d/nginx.conf" <<CONF
worker_processes $(nproc);
pid $d/nginx.pid;
error_log $d/nginx.err;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$N ssl;
    ssl_certificate $d/n.crt;
    ssl_certificate_key $d/n.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets off;
    root $d;
  }
}
CONF
nginx -c "$d/nginx.conf" -g 'daemon off;' &
pids+=($!)
sleep 0.5
refs=() gots=()
for i in $(seq 1 "$rounds"); do
  ref=$(build/release/bin/bench_service get "https://localhost:$N/index.html" "$d/n.crt" "$secs")
  got=$(build/release/bin/bench_service attest 127.0.0.1:$E "$d/cas-data/cas-chain.pem" bench/svc "$SVC" "$secs")
  echo "round $i: $ref"
  echo "round $i: $got"
  refs+=("$(sed 's/[^0-9]*\([0-9]*\).*/\1/' <<<"$ref")")
  gots+=("$(sed 's/[^0-9]*\([0-9]*\).*/\1/' <<<"$got")")
done
python3 - "${refs[*]}" "${gots[*]}" <<'PY'
import statistics, sys
r = [int(x) for x in sys.argv[1].split()]
a = [int(x) for x in sys.argv[2].split()]
print(f"nginx new TLS connections per second, median of {len(r)}: {statistics.median(r):.0f}")
print(f"casd service attestations per second, median of {len(a)}: {statistics.median(a):.0f}")
print("ratio per round: " + " ".join(f"{x / y:.2f}" for x, y in zip(a, r)))
print(f"ratio casd attestations / nginx new TLS connections (medians): "
      f"{statistics.median(a) / statistics.median(r):.2f}")
PY

#!/usr/bin/env bash
# soak.sh - does casd hold under a mixed hostile load for N minutes? One casd of its own (temp
# dir, free loopback ports, SQLite, simulator), and against it at once: session uploads (small,
# and with RSA-3072 keys), public value reads, service attestations (simulated evidence, as
# cas-run sends it), service access token guessing, slow connections and bodies over max_body;
# meanwhile a health probe and a value read, each over a new TLS connection. Report and targets:
# see --help. The load itself is bench/soak.py; bench_soak makes the simulated evidence.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bench/soak.sh [--minutes N | --seconds N] [--rss-tolerance-mb MB] [--without KINDS]

Starts its own casd (temp dir, free 127.0.0.1 ports; binaries from $CAS_BIN_DIR, else a
release build in build/release) and runs against it, for N minutes (default 5), at bounded
concurrency:
  - session uploads: one client of small sessions (a 50 ms pause each), one of sessions
    with an RSA-3072 key (one every 10 s, its own client key); mutual TLS, a new connection each
  - public value reads of uploaded sessions (new TLS connection each)
  - service attestations with simulated evidence bound to the client key (new connection each)
  - service access token guessing: wrong tokens on a keep-alive connection (10 ms pause),
    from a client key of its own
  - slow connections: 12 silent TCP, 12 dripping a header, 12 dripping a body (a byte every
    2 s), each reopened when casd closes it
  - bodies over max_body: declared only, streamed with Content-Length, chunked (one per 0.5 s)
It probes GET /v1/health and a public value every 100 ms, each over a NEW TLS connection
(handshake included), and samples casd's VmRSS and open fds every second.

Report: per 30 s window p50/p99 of both probes, failed probes, max RSS and fds; RSS and fds at
start, after warm-up (30 s) and at the end; each load kind with its status codes; how long slow
connections lived; and lost writes: every upload acknowledged (201/200) is read back at the end
by its creator and its hash compared.

Exit status 1 when a target is missed: health probe p99 >= 100 ms (or a failed health probe)
in any window; RSS growth after warm-up above the tolerance (the larger of MB, default 4,
and 10% of the RSS after warm-up); any lost acknowledged upload; casd died (then it is
restarted on the same data directory to count what was lost).

--without KINDS leaves load kinds out (comma-separated: upload-small, upload-rsa, value-read,
attest, token, oversized, slow), to find which one a miss comes from.
EOF
}

secs=300
tol=4
without=
while [ $# -gt 0 ]; do
  case $1 in
  --minutes) secs=$(($2 * 60)); shift 2 ;;
  --seconds) secs=$2; shift 2 ;;
  --rss-tolerance-mb) tol=$2; shift 2 ;;
  --without) without=$2; shift 2 ;;
  -h | --help) usage; exit 0 ;;
  *) echo "soak.sh: unknown argument '$1'; see --help" >&2; exit 2 ;;
  esac
done
[[ $secs =~ ^[0-9]+$ ]] && [ "$secs" -ge 10 ] || { echo "soak.sh: the duration must be 10 s or more" >&2; exit 2; }

cd "$(dirname "$0")/.."
if [ -n "${CAS_BIN_DIR:-}" ]; then
  bin=$CAS_BIN_DIR
else
  cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build/release -j2 --target casd bench_soak >/dev/null
  bin=$PWD/build/release/bin
fi
d=$(mktemp -d "${TMPDIR:-/tmp}/cas-soak.XXXXXX")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}" $(cat "$d/probe.pid" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$d"
}
trap cleanup EXIT
trap 'echo "soak.sh: interrupted" >&2; exit 130' INT TERM
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
P=$(port); E=$(port)

# start_casd: casd on the data directory $d/cas-data; its pid in casd_pid.
start_casd() {
  (cd "$d" && exec "$bin/casd" --listen 127.0.0.1:$P --enclave-listen 127.0.0.1:$E --log-level warn) \
    >>"$d/casd.log" 2>&1 &
  casd_pid=$!
  pids+=("$casd_pid")
  for _ in $(seq 1 200); do
    if [ -f "$d/cas-data/cas-chain.pem" ] && curl -sf --max-time 2 --cacert "$d/cas-data/cas-chain.pem" \
      "https://127.0.0.1:$P/v1/health" >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$casd_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "soak.sh: casd did not start: $(tail -5 "$d/casd.log")" >&2
  exit 1
}
start_casd
MR=$(printf '%064d' 7 | tr 0 a)
(umask 077 && "$bin/bench_soak" "$MR" "$d")
for who in rsa guess; do # the RSA uploader and the token guesser: client keys of their own
  (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=soak-$who" -keyout "$d/$who-client.key" -out "$d/$who-client.crt" 2>/dev/null &&
    cat "$d/$who-client.crt" "$d/$who-client.key" >"$d/$who-client.pem")
done
args=(--port "$P" --chain "$d/cas-data/cas-chain.pem" --client-pem "$d/client.pem"
      --rsa-client-pem "$d/rsa-client.pem" --guess-client-pem "$d/guess-client.pem" --out "$d")
echo "soak: casd $("$bin/casd" --version | cut -d' ' -f2-) on 127.0.0.1:$P/$E, $(nproc) cores," \
  "$secs s; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
rc=0
python3 bench/soak.py run "${args[@]}" --eport "$E" --pid "$casd_pid" --attest-body "$d/attest.json" \
  --mrenclave "$MR" --seconds "$secs" --rss-tolerance-mb "$tol" --without "$without" &
pids+=($!)
wait $! || rc=$?
if ! kill -0 "$casd_pid" 2>/dev/null; then
  echo "casd died during the run; its log ends:"
  tail -n 20 "$d/casd.log"
  start_casd
  python3 bench/soak.py verify "${args[@]}" || true
  rc=1
fi
kill -TERM "$casd_pid"
st=0
wait "$casd_pid" || st=$?
[ "$st" = 0 ] || { echo "casd exited with status $st on SIGTERM"; rc=1; }
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$rc"

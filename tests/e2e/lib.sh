# lib.sh - shared by the end-to-end scripts: a private temp dir, free loopback ports, starting
# casd and waiting for it (bounded), and a cleanup that kills only the processes this script
# started. Source it after `set -euo pipefail`.
: "${CAS_BIN_DIR:?CAS_BIN_DIR must point at the built programs}"
export PATH="$CAS_BIN_DIR:$PATH"
T=$(mktemp -d "${TMPDIR:-/tmp}/cas-e2e.XXXXXX")
PIDS=()
cleanup() {
  local rc=$?
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && wait "$p" 2>/dev/null || true
  done
  if [ -n "${PG_STOP:-}" ]; then
    $PG_STOP >/dev/null 2>&1 || true
  fi
  if [ "$rc" -ne 0 ]; then
    for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done
  fi
  rm -rf "$T"
  exit "$rc"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok - $*"; }
# expect STATUS COMMAND...: runs it with stdout in $T/out and stderr in $T/err; fails unless it
# exits STATUS.
expect() {
  local want=$1; shift
  local st=0
  "$@" >"$T/out" 2>"$T/err" || st=$?
  [ "$st" = "$want" ] || fail "'$*' exited $st, expected $want; stderr: $(cat "$T/err")"
}

# A TCP port on 127.0.0.1 nobody listens on now.
free_port() {
  python3 - <<'PY'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

# start_casd NAME DIR ARGS...: casd in DIR, log in $T/NAME.log, pid in CASD_PID.
start_casd() {
  local name=$1 dir=$2; shift 2
  mkdir -p "$dir"
  (cd "$dir" && exec casd "$@") >"$T/$name.log" 2>&1 &
  CASD_PID=$!
  PIDS+=("$CASD_PID")
}

# wait_health CHAIN PORT: up to 20 s for /v1/health to answer 200.
wait_health() {
  local chain=$1 port=$2 i
  for i in $(seq 1 200); do
    if [ -f "$chain" ] && curl -sf --max-time 2 --cacert "$chain" \
        --connect-to "cas:$port:127.0.0.1:$port" "https://cas:$port/v1/health" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  fail "casd did not become healthy on port $port"
}

# casd_attested [ARGS...]: casd in $T/cas on free loopback ports P (client API) and Q (enclave
# API), healthy, attested by the CLI (state in $T/cli.json, as a testing-only debug CAS), its
# chain in $T/cas_cert.crt; the pid in CASD_PID, the log in $T/casd.log.
casd_attested() {
  local mr
  export CAS_CLI_CONFIG="$T/cli.json" CAS_CLI_RETRIES=0
  P=$(free_port); Q=$(free_port)
  start_casd casd "$T/cas" --listen 127.0.0.1:$P --enclave-listen 127.0.0.1:$Q "$@"
  wait_health "$T/cas/cas-data/cas-chain.pem" $P
  mr=$(curl -sk https://127.0.0.1:$P/ | sed -n 's/.*<code id="mrenclave">\([0-9a-f]\{64\}\)<\/code>.*/\1/p')
  cas attest -G --mrenclave "$mr" --only_for_testing-ignore-signer --only_for_testing-debug \
    127.0.0.1:$P >"$T/attest.out" 2>&1 || fail "cas attest: $(cat "$T/attest.out")"
  cas show-certificate >"$T/cas_cert.crt"
}

# casd_later DAYS: stops casd (CASD_PID) and starts it again on the same directory and ports
# DAYS days ahead (libfaketime), log in $T/casd2.log. Everything started afterwards, clients
# included, runs at that time too (casd's new TLS certificate is not valid yet at the real time).
casd_later() {
  local ft
  ft=$(find /usr/lib -name 'libfaketime.so.1' 2>/dev/null | head -1)
  [ -n "$ft" ] || fail "libfaketime is not installed (scripts/deps.sh installs it)"
  stop_pid "$CASD_PID"
  export LD_PRELOAD="$ft" FAKETIME="+${1}d" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0"
  start_casd casd2 "$T/cas" --listen 127.0.0.1:$P --enclave-listen 127.0.0.1:$Q
  wait_health "$T/cas/cas-data/cas-chain.pem" $P
}

# stop_pid PID: SIGTERM and wait (bounded); the exit status lands in STOP_STATUS.
stop_pid() {
  local pid=$1 i
  kill -TERM "$pid"
  for i in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && fail "process $pid did not stop within 15 s of SIGTERM"
  STOP_STATUS=0
  wait "$pid" || STOP_STATUS=$?
}

# start_pg: a PostgreSQL of this test's own (initdb in $T/pg, loopback only, a free port), run
# as the postgres user (initdb refuses root); sets PG_URI and stops with the test.
start_pg() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -x "$bin/initdb" ] || fail "PostgreSQL is not installed (scripts/deps.sh installs it)"
  PG_PORT=$(free_port)
  mkdir -p "$T/pg"
  chown postgres "$T/pg"
  chmod 755 "$T"
  runuser -u postgres -- "$bin/initdb" -D "$T/pg/data" -A trust -U cas --no-sync >"$T/initdb.log" 2>&1 ||
    fail "initdb failed: $(tail -3 "$T/initdb.log")"
  runuser -u postgres -- "$bin/pg_ctl" -D "$T/pg/data" -l "$T/pg/log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $T/pg -c fsync=off" start >/dev/null ||
    fail "PostgreSQL did not start: $(tail -5 "$T/pg/log" 2>/dev/null)"
  PG_STOP="runuser -u postgres -- $bin/pg_ctl -D $T/pg/data -m fast -w stop"
  PG_URI="postgresql://cas@127.0.0.1:$PG_PORT/postgres"
}

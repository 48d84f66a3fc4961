#!/usr/bin/env bash
# sessions.sh - runs bench_sessions against a fresh casd on loopback (release build).
# Usage: bench/sessions.sh   (5 interleaved rounds of 1.5 s per side; medians compared)
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)" --target casd bench_sessions >/dev/null
d=$(mktemp -d)
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
eport=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
(cd "$d" && exec "$OLDPWD/build/release/bin/casd" --listen 127.0.0.1:$port --enclave-listen 127.0.0.1:$eport --log-level warn --uploads-per-minute 0) &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$d"' EXIT
for _ in $(seq 1 100); do [ -f "$d/cas-data/cas-chain.pem" ] && break; sleep 0.1; done
sleep 0.3
build/release/bin/bench_sessions "$port" "$d/cas-data/cas-chain.pem"

#!/usr/bin/env bash
# quote_verify.sh - `cas quote verify` on real quotes of tests/data/dcap: verdict lines and
# JSON, exit 0 for authentic quotes whatever their TCB status, exit 1 naming the failed check
# (a tampered quote, no matching TCB level, expired collateral), exit 2 for bad usage, and
# collateral fetched from a PCCS stand-in on 127.0.0.1.
set -euo pipefail

cas="$CAS_BIN_DIR/cas"
td="$CAS_TESTDATA/dcap"
tmp=$(mktemp -d)
server_pid=""

cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# expect_line FILE LINE: FILE holds exactly that line.
expect_line() {
    grep -qxF -- "$2" "$1" || { cat "$1" >&2; fail "no line '$2'"; }
}

# 1. SGX v3: every verdict line of api.md §3.4, exit 0.
"$cas" quote verify "$td/phala-sgx-v3/quote.bin" --collateral "$td/phala-sgx-v3" \
    --at 1751623200 >"$tmp/out" || fail "phala-sgx-v3 refused"
expect_line "$tmp/out" "Evidence type: sgx-dcap-v3"
expect_line "$tmp/out" "Root: Intel SGX Root CA"
expect_line "$tmp/out" "TCB status: ConfigurationAndSWHardeningNeeded"
expect_line "$tmp/out" "Advisories: INTEL-SA-00289, INTEL-SA-00615"
expect_line "$tmp/out" "MRENCLAVE: 33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb"
expect_line "$tmp/out" "MRSIGNER: 815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6"
expect_line "$tmp/out" "ISVPRODID: 0"
expect_line "$tmp/out" "ISVSVN: 0"
expect_line "$tmp/out" "Debug: no"
expect_line "$tmp/out" "FMSPC: 00a067110000"
grep -qE '^Platform id: [0-9a-f]{64}$' "$tmp/out" || fail "no platform id"

# 2. A debug enclave is authentic: exit 0, the flag is shown (judging it is policy's job).
"$cas" quote verify "$td/automata-sgx-v3-processor-debug/quote.bin" --at 1751623200 \
    >"$tmp/out" || fail "debug quote refused"
expect_line "$tmp/out" "Debug: yes"

# 3. TDX v4 as JSON, time as RFC 3339, collateral from the quote's own folder.
"$cas" quote verify --json --at 2025-10-31T14:00:00Z "$td/gotdx-cos-tdx-v4/quote.bin" \
    >"$tmp/out.json" || fail "gotdx-cos-tdx-v4 refused"
python3 - "$tmp/out.json" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
assert v["verified"] is True, v
assert v["evidence_type"] == "tdx-v4" and v["tcb_status"] == "UpToDate", v
assert v["advisory_ids"] == [] and v["fmspc"] == "00806f050000", v
assert v["report"]["mrtd"].startswith("dae67181d3d65e07"), v
PY
"$cas" quote verify --at 1751623200 "$td/phala-tdx-v4/quote.bin" >"$tmp/out" ||
    fail "phala-tdx-v4 refused"
expect_line "$tmp/out" "MRTD: 91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7"
grep -qE '^RTMR3: [0-9a-f]{96}$' "$tmp/out" || fail "no RTMR3"

# 4. A tampered quote: exit 1 naming the check.
if "$cas" quote verify "$td/negative/sgx-v3-qe-report-signature-flipped/quote.bin" \
    --at 1751623200 >"$tmp/out" 2>"$tmp/err"; then
    fail "tampered quote accepted"
fi
grep -qF "cas: Check 'qe-report-signature' failed" "$tmp/err" || fail "check not named"

# 5. No matching TCB level, and collateral used after its nextUpdate: exit 1.
if "$cas" quote verify --at 1772704800 "$td/phala-tdx-v5-outdated/quote.bin" 2>"$tmp/err"; then
    fail "TcbNotSupported accepted"
fi
grep -qF "TcbNotSupported" "$tmp/err" || fail "TcbNotSupported not said"
if "$cas" quote verify "$td/phala-sgx-v3/quote.bin" 2>"$tmp/err" >/dev/null; then
    fail "expired collateral accepted at the current time"
fi
grep -qF "not valid at the verification time" "$tmp/err" || fail "expiry not said"

# 6. Bad usage: exit 2.
set +e
"$cas" quote verify --at yesterday "$td/phala-sgx-v3/quote.bin" 2>/dev/null
[ $? -eq 2 ] || fail "bad --at is not a usage error"
"$cas" quote verify --collateral a --pccs http://127.0.0.1:1 "$td/phala-sgx-v3/quote.bin" \
    2>/dev/null
[ $? -eq 2 ] || fail "--collateral with --pccs is not a usage error"
set -e

# 7. Collateral from a PCCS stand-in on loopback.
python3 "$CAS_SOURCE_DIR/tests/unit/dcap/pccs_server.py" "$td/phala-tdx-v4" "$tmp/port" \
    2>"$tmp/pccs.log" &
server_pid=$!
for _ in $(seq 1 100); do
    [ -s "$tmp/port" ] && break
    sleep 0.1
done
[ -s "$tmp/port" ] || fail "PCCS stand-in did not start"
"$cas" quote verify --pccs "http://127.0.0.1:$(cat "$tmp/port")" --at 1751623200 \
    "$td/phala-tdx-v4/quote.bin" >"$tmp/out" || fail "quote refused with PCCS collateral"
expect_line "$tmp/out" "TCB status: UpToDate"
grep -q "GET /tdx/certification/v4/tcb?fmspc=B0C06F000000" "$tmp/pccs.log" ||
    fail "PCCS was not asked for the TCB info"

echo "quote_verify: all stories passed"

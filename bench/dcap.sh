#!/usr/bin/env bash
# dcap.sh - DCAP verification speed, all in one run on this machine: the `openssl speed
# ecdsap256` verify rate (the reference: a verifier checking both ECDSA signatures of every quote
# does at most half of it; ours checks the QE report's signature once per platform, since the
# quoting enclave signs the same report for every quote, so a warm run can pass it),
# our warm and cold verifications per second on one core (bench_dcap), and the JavaScript
# verifier @phala/dcap-qvl 0.3.9 (installed from npm into bench/.dcap-qvl, git-ignored) on the
# same quotes and collateral. Prints the ratios. Numbers, not a pass/fail test.
#
# Usage: bench/dcap.sh [BUILD_DIR]   env: BENCH_SECONDS (default 3), CAS_TESTDATA, DCAP_QVL_DIR
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
td=${CAS_TESTDATA:-$here/../tests/data}/dcap
secs=${BENCH_SECONDS:-3}
qvl_dir=${DCAP_QVL_DIR:-$here/.dcap-qvl}

[ -x "$build/bin/bench_dcap" ] || { echo "dcap.sh: build bench_dcap first ($build)" >&2; exit 1; }

ossl_speed() {
    openssl speed -seconds "$secs" ecdsap256 2>/dev/null |
        awk '/256 bits ecdsa \(nistp256\)/ { print $NF }'
}

# The machine may be shared: openssl speed runs before and after ours, and the mean is used.
echo "== openssl speed ecdsap256 (${secs}s, before)"
ossl_before=$(ossl_speed)
echo "openssl_ecdsa_verify_per_sec $ossl_before"

echo "== bench_dcap (one core)"
"$build/bin/bench_dcap" "$td" "$secs" | tee "$build/bench_dcap.out"

echo "== openssl speed ecdsap256 (${secs}s, after)"
ossl_after=$(ossl_speed)
echo "openssl_ecdsa_verify_per_sec $ossl_after"
ossl_verify=$(awk -v a="$ossl_before" -v b="$ossl_after" 'BEGIN { printf "%.0f", (a + b) / 2 }')
ours() { awk -v k="$1" '$1 == k { print $2 }' "$build/bench_dcap.out"; }

echo "== @phala/dcap-qvl 0.3.9 (node $(node --version))"
if [ ! -d "$qvl_dir/node_modules/@phala/dcap-qvl" ]; then
    mkdir -p "$qvl_dir"
    npm install --prefix "$qvl_dir" --no-audit --no-fund --loglevel=error @phala/dcap-qvl@0.3.9 >&2
fi
cat >"$qvl_dir/bench.js" <<'JS'
// Verifies the testdata cases dcap-qvl accepts (case.json expected.result ok), round robin.
const fs = require('fs');
const path = require('path');
const { verify } = require('@phala/dcap-qvl');
const [td, secs] = [process.argv[2], Number(process.argv[3])];

// The dcap-qvl collateral form: inner JSON strings (exact bytes), signatures and CRLs in hex.
function inner(text, key) {
    const start = text.indexOf('{', text.indexOf('"' + key + '"'));
    const end = text.lastIndexOf(',"signature"');
    return text.slice(start, end);
}
const cases = [];
for (const name of fs.readdirSync(td).sort()) {
    const dir = path.join(td, name);
    const cj = path.join(dir, 'case.json');
    if (!fs.existsSync(cj)) continue;
    const doc = JSON.parse(fs.readFileSync(cj, 'utf8'));
    if (doc.expected.result !== 'ok') continue;
    const rd = (f) => fs.readFileSync(path.join(dir, f));
    const ti = rd('tcb_info.json').toString('utf8'), qi = rd('qe_identity.json').toString('utf8');
    cases.push({
        name, at: doc.verification_time.unix, quote: new Uint8Array(rd('quote.bin')),
        col: {
            tcb_info: inner(ti, 'tcbInfo'), tcb_info_signature: JSON.parse(ti).signature,
            qe_identity: inner(qi, 'enclaveIdentity'),
            qe_identity_signature: JSON.parse(qi).signature,
            tcb_info_issuer_chain: rd('tcb_info_issuer_chain.pem').toString('utf8'),
            qe_identity_issuer_chain: rd('qe_identity_issuer_chain.pem').toString('utf8'),
            pck_crl_issuer_chain: rd('pck_crl_issuer_chain.pem').toString('utf8'),
            pck_crl: rd('pck_crl.der').toString('hex'),
            root_ca_crl: rd('root_ca_crl.der').toString('hex'),
        },
    });
}
for (const c of cases) {
    const r = verify(c.quote, c.col, c.at);
    console.log(`case ${c.name} ${r.status}`);
}
let n = 0;
const t0 = process.hrtime.bigint();
let el = 0;
do {
    for (const c of cases) { verify(c.quote, c.col, c.at); n++; }
    el = Number(process.hrtime.bigint() - t0) / 1e9;
} while (el < secs);
console.log(`js_cases ${cases.length}`);
console.log(`js_per_sec ${(n / el).toFixed(0)}`);
JS
(cd "$qvl_dir" && node bench.js "$td" "$secs") | tee "$build/bench_dcap_js.out"
js=$(awk '$1 == "js_per_sec" { print $2 }' "$build/bench_dcap_js.out")

warm=$(ours warm_per_sec)
cold=$(ours cold_per_sec)
echo "== summary (verifications per second, one core, same quotes and collateral)"
awk -v o="$ossl_verify" -v w="$warm" -v c="$cold" -v j="$js" -v e="$(ours ecdsa_verify_per_sec)" \
    'BEGIN {
        limit = o / 2
        printf "two verifies (openssl ECDSA verify/s / 2) %8.0f\n", limit
        printf "ours warm                            %8.0f  %5.1f%% of two verifies (target >= 75%%)\n", w, 100 * w / limit
        printf "ours cold                            %8.0f\n", c
        printf "@phala/dcap-qvl                      %8.0f\n", j
        printf "warm / dcap-qvl                      %8.1fx\n", w / j
        printf "cold / dcap-qvl                      %8.1fx\n", c / j
        printf "our EVP ECDSA verify/s vs openssl    %8.0f  %5.1f%%\n", e, 100 * e / o
    }'

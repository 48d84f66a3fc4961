#!/usr/bin/env bash
# cli_frame.sh - the cas command-line frame of api.md §3: version, help, the scone name, the
# object word, @FILE, the refusals of compat.md §2, exit codes and stderr-only errors.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# expect CODE CMD...: runs CMD, checks the exit code, keeps stdout/stderr in $T/out, $T/err.

expect 0 cas version
grep -Eq '^cas 0\.1\.0 \([0-9-]{10} [0-9:]{8}\)$' <(head -1 "$T/out") || fail "cas version line"
grep -q '^Release signer: ' "$T/out" || fail "cas version does not print the release signer"
[ -s "$T/err" ] && fail "cas version wrote to stderr"
expect 0 cas -V
expect 0 cas --version
pass "cas version, -V, --version"

[ -L "$CAS_BIN_DIR/scone" ] || fail "scone is not a symlink"
expect 0 scone version
grep -q '^cas 0\.1\.0' "$T/out" || fail "scone version"
pass "scone is the same program"

expect 0 cas help
grep -q 'version' "$T/out" || fail "cas help lists no commands"
expect 0 cas --help
expect 0 cas help version
grep -q '^Usage: cas version' "$T/out" || fail "cas help version"
cp "$T/out" "$T/help1"
expect 0 cas version --help
cmp -s "$T/out" "$T/help1" || fail "'cas version --help' differs from 'cas help version'"
expect 0 cas cas help version
cmp -s "$T/out" "$T/help1" || fail "the object word changes help"
pass "help and --help"

expect 2 cas no-such-command
grep -q "^cas: unknown command 'no-such-command'" "$T/err" || fail "unknown command message"
[ -s "$T/out" ] && fail "an error wrote to stdout"
expect 2 cas version extra
pass "unknown commands and extra arguments are usage errors (exit 2)"

expect 2 cas session create @args.txt
grep -qx "cas: argument files ('@FILE') are not supported by cas yet" "$T/err" || fail "@FILE message"
expect 2 cas -o json version
grep -q "not supported by cas yet" "$T/err" || fail "-o message"
pass "@FILE and -o refused with the named error"

expect 2 cas provision
grep -q "'provision' is not planned" "$T/err" || fail "provision"
expect 2 scone cas fspf
grep -q "'fspf' is not planned: it belongs to SCONE's toolchain" "$T/err" || fail "fspf"
expect 2 cas verify-audit-log
grep -q "'verify-audit-log' is not supported by cas yet" "$T/err" || fail "verify-audit-log"
expect 2 cas session sign x.yaml
grep -q "'session sign' is not supported by cas yet" "$T/err" || fail "session sign"
expect 2 cas self show-certificate-hash
grep -q "deprecated by SCONE" "$T/err" || fail "show-certificate-hash"
expect 2 cas register-upgrade
grep -q "join by attestation" "$T/err" || fail "register-upgrade"
pass "later and not-planned commands refused with their reasons"

SCONE_CLI_CONFIG=/nonexistent expect 0 cas version
grep -q "SCONE_CLI_CONFIG is ignored" "$T/err" || fail "SCONE_CLI_CONFIG warning"
pass "SCONE_CLI_CONFIG ignored with a warning"
echo "cli_frame: all passed"

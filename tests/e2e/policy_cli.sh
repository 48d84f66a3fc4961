#!/usr/bin/env bash
# policy_cli.sh - `cas session check` and `cas session calculate-hash` over the session corpus:
# every file's exit status and problems as its .expect file says, read-backs that check and
# hash the same, the creator rules of calculate-hash, help and usage errors. No CAS is started.
set -euo pipefail

CAS="$CAS_BIN_DIR/cas"
CORPUS="$CAS_SOURCE_DIR/tests/policy/corpus"
WORK=$(mktemp -d)
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# --- the corpus, file by file ---
count=0
for f in "$CORPUS"/*.yaml; do
    name=$(basename "$f" .yaml)
    args=$(head -1 "$f" | sed -n 's/^# cas-args: //p')
    set +e
    # shellcheck disable=SC2086
    (cd "$CORPUS" && "$CAS" session check $args "$name.yaml") >"$WORK/out" 2>"$WORK/err"
    rc=$?
    set -e
    { echo "exit $rc"; sed "s|^$name.yaml:||" "$WORK/err"; } >"$WORK/got"
    if ! diff -u "$CORPUS/$name.expect" "$WORK/got" >"$WORK/diff"; then
        fail "$name: check output differs"; cat "$WORK/diff" >&2
    fi
    if [ "$rc" = 0 ]; then
        # the printed session checks again, prints the same, and hashes like the original
        cp "$WORK/out" "$WORK/read-back.yaml"
        "$CAS" session check "$WORK/read-back.yaml" >"$WORK/out2" 2>/dev/null ||
            fail "$name: read-back does not check"
        cmp -s "$WORK/out" "$WORK/out2" || fail "$name: printing is not idempotent"
        # shellcheck disable=SC2086
        h1=$(cd "$CORPUS" && "$CAS" session calculate-hash $args --identity "$WORK/id.pem" \
            --with-self-as-creator tls "$name.yaml" 2>/dev/null || true)
        h2=$("$CAS" session calculate-hash --identity "$WORK/id.pem" --with-self-as-creator tls \
            "$WORK/read-back.yaml" 2>/dev/null || true)
        [ "$h1" = "$h2" ] || fail "$name: read-back hash $h2, original $h1"
    fi
    count=$((count + 1))
    if [ "$count" = 1 ]; then # an identity for the hashes above, made once
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=cas cli" \
            -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 1 2>/dev/null
        cat "$WORK/key.pem" "$WORK/cert.pem" >"$WORK/id.pem"
    fi
done
[ "$count" -ge 60 ] || fail "only $count corpus files"

# --- calculate-hash and the creator (policy.md §12) ---
ex="$CORPUS/example_session.yaml"
set +e
"$CAS" session calculate-hash "$ex" >"$WORK/out" 2>"$WORK/err"; rc=$?
set -e
[ "$rc" = 1 ] || fail "hash without a creator: exit $rc"
grep -q "^cas: Cannot calculate session hash! The session, explicitly or through the default access policy, references its creator." "$WORK/err" ||
    fail "hash without a creator: $(cat "$WORK/err")"
[ ! -s "$WORK/out" ] || fail "hash without a creator printed something"

h=$("$CAS" session calculate-hash --identity "$WORK/id.pem" --with-self-as-creator tls "$ex")
[[ "$h" =~ ^[0-9a-f]{64}$ ]] || fail "hash with --identity: '$h'"
h_cert=$("$CAS" session calculate-hash --identity "$WORK/cert.pem" --with-self-as-creator=tls "$ex")
[ "$h" = "$h_cert" ] || fail "a certificate alone gives another hash"
# the creator's key hash goes into the hash: another key, another hash
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=other" \
    -keyout "$WORK/key2.pem" -out "$WORK/cert2.pem" -days 1 2>/dev/null
h_other=$("$CAS" session calculate-hash --identity "$WORK/cert2.pem" --with-self-as-creator tls "$ex")
[ "$h" != "$h_other" ] || fail "the creator does not change the hash"
# a key that does not match the certificate is refused
cat "$WORK/key2.pem" "$WORK/cert.pem" >"$WORK/mismatch.pem"
set +e
"$CAS" session calculate-hash --identity "$WORK/mismatch.pem" --with-self-as-creator tls "$ex" \
    >/dev/null 2>"$WORK/err"; rc=$?
set -e
[ "$rc" = 1 ] && grep -q "do not match" "$WORK/err" || fail "mismatched identity: exit $rc"

# no identity: the CLI state is read only if it exists, and never created here
set +e
CAS_CLI_CONFIG="$WORK/state/config.json" "$CAS" session calculate-hash \
    --with-self-as-creator tls "$ex" >/dev/null 2>"$WORK/err"; rc=$?
set -e
[ "$rc" = 1 ] && grep -q "give --identity FILE" "$WORK/err" || fail "no identity: exit $rc"
[ ! -e "$WORK/state" ] || fail "calculate-hash created CLI state"
mkdir -p "$WORK/state"
{ printf '{"format": "cas-cli-1", "identity": "'; awk '{printf "%s\\n", $0}' "$WORK/id.pem"
  printf '"}\n'; } >"$WORK/state/config.json"
chmod 600 "$WORK/state/config.json"
h_state=$(CAS_CLI_CONFIG="$WORK/state/config.json" "$CAS" session calculate-hash \
    --with-self-as-creator tls "$ex")
[ "$h_state" = "$h" ] || fail "the CLI state's identity gives another hash"
chmod 644 "$WORK/state/config.json"
set +e
CAS_CLI_CONFIG="$WORK/state/config.json" "$CAS" session calculate-hash \
    --with-self-as-creator tls "$ex" >/dev/null 2>"$WORK/err"; rc=$?
set -e
[ "$rc" = 1 ] && grep -q "chmod 600" "$WORK/err" || fail "a readable state file was used"

# a session that does not reference CREATOR hashes without an identity
h=$("$CAS" session calculate-hash "$CORPUS/v_access_policy_no_creator.yaml")
[[ "$h" =~ ^[0-9a-f]{64}$ ]] || fail "hash without creator reference: '$h'"

# --- templates: -e beats --use-env, -n applies after substitution ---
printf 'name: $N\nversion: "0.3"\naccess_policy: {read: NONE, update: NONE}\n' >"$WORK/t.yaml"
out=$(N=from-env "$CAS" session check --use-env -e N=from-e "$WORK/t.yaml")
grep -q '^name: "from-e"$' <<<"$out" || fail "-e does not beat --use-env: $out"
out=$(N=from-env "$CAS" session check --use-env "$WORK/t.yaml")
grep -q '^name: "from-env"$' <<<"$out" || fail "--use-env: $out"
out=$("$CAS" session check -e N=x -n renamed "$WORK/t.yaml")
grep -q '^name: "renamed"$' <<<"$out" || fail "-n: $out"
h1=$("$CAS" session calculate-hash -e N=a "$WORK/t.yaml")
h2=$("$CAS" session calculate-hash -e N=b "$WORK/t.yaml")
[ "$h1" != "$h2" ] || fail "variables do not reach the hash"

# --- warnings: exit 0, or 1 with --fail-on-warning ---
w="$CORPUS/w_explicit_secrets_readable.yaml"
"$CAS" session check "$w" >/dev/null 2>"$WORK/err" || fail "a warning failed the check"
grep -q "warning: secrets 'db_password', 'api_key' have explicit values" "$WORK/err" ||
    fail "seed advice warning: $(cat "$WORK/err")"
set +e
"$CAS" session check --fail-on-warning "$w" >/dev/null 2>&1; rc=$?
set -e
[ "$rc" = 1 ] || fail "--fail-on-warning: exit $rc"
! grep -q "hunter2" "$WORK/err" || fail "a secret value was printed in a problem"

# --- help, usage, the scone name ---
"$CAS" session check --help | grep -q "^Usage: cas session check" || fail "check --help"
"$CAS" session calculate-hash --help | grep -q -- "--with-self-as-creator tls" ||
    fail "calculate-hash --help"
"$CAS" help session calculate-hash | grep -q "^Usage: cas session calculate-hash" || fail "cas help"
for bad in "session check" "session check a b" "session check --bogus $ex" \
    "session calculate-hash --with-self-as-creator maybe $ex" "session check --identity x $ex"; do
    set +e
    # shellcheck disable=SC2086
    "$CAS" $bad >/dev/null 2>"$WORK/err"; rc=$?
    set -e
    [ "$rc" = 2 ] || fail "'cas $bad': exit $rc"
    grep -q "^cas: " "$WORK/err" || fail "'cas $bad': no 'cas: ' line"
done
set +e
"$CAS" session calculate-hash --with-self-as-creator signer "$ex" >/dev/null 2>"$WORK/err"; rc=$?
set -e
[ "$rc" = 2 ] && grep -q "is not supported by cas yet" "$WORK/err" || fail "signer: exit $rc"
set +e
"$CAS" session check "$WORK/missing.yaml" >/dev/null 2>"$WORK/err"; rc=$?
set -e
[ "$rc" = 1 ] && grep -q "^cas: Cannot read session file" "$WORK/err" || fail "missing file: $rc"
"$CAS_BIN_DIR/scone" cas session check "$ex" >/dev/null || fail "scone cas session check"

if [ "$fails" != 0 ]; then
    echo "policy_cli: $fails failures" >&2
    exit 1
fi
echo "policy_cli: $count corpus files and the CLI rules pass"

#!/usr/bin/env bash
# postgres_join.sh - the attested join (issue 9): instances of one CAS on one PostgreSQL share the
# sealing key only by attestation. A starts on an empty database and initialises the CAS; B and C
# start with empty data directories (no key copied) and join, C through B after A has stopped;
# all serve the same values under the same CAS root. An impostor (casd with a byte appended, so
# another MRENCLAVE, signed by another key) is refused with the measurements it lacks, writes no
# key and leaves no trace in the database but the audit record of its refusal; a build of the
# same signer (another MRENCLAVE, same MRSIGNER, ISVPRODID and ISVSVN) is let in, as the CAS's
# own policy says.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_pg
PSQL="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql"
q() { "$PSQL" -qtAX "$PG_URI" -c "$1"; }
export CAS_CLI_CONFIG="$T/cli.json" CAS_CLI_RETRIES=0
root_of() { awk '/BEGIN CERT/{n++} n==2' "$1/cas-data/cas-chain.pem"; }
mrenclave_of() { curl -sk "https://127.0.0.1:$1/" | sed -n 's/.*<code id="mrenclave">\([0-9a-f]\{64\}\)<\/code>.*/\1/p'; }

PA=$(free_port); QA=$(free_port)
start_casd a "$T/a" --database "$PG_URI" --listen 127.0.0.1:$PA --enclave-listen 127.0.0.1:$QA
PID_A=$CASD_PID
wait_health "$T/a/cas-data/cas-chain.pem" $PA
[ "$(q "SELECT enclave_addr FROM cas_member")" = "127.0.0.1:$QA" ] || fail "A is not listed for joins"
MR_A=$(mrenclave_of $PA)
cas attest -G --mrenclave "$MR_A" --only_for_testing-ignore-signer --only_for_testing-debug 127.0.0.1:$PA >/dev/null
cat >"$T/s.yaml" <<'YAML'
name: joined
version: "0.3"
secrets:
  - {name: g, kind: ascii, export_public: true}
YAML
cas session create "$T/s.yaml" -c 127.0.0.1:$PA >/dev/null || fail "create through A"
G=$(cas values get joined g -c 127.0.0.1:$PA)

# B: an empty data directory, the same database: it joins A by attestation.
PB=$(free_port); QB=$(free_port)
start_casd b "$T/b" --database "$PG_URI" --listen 127.0.0.1:$PB --enclave-listen 127.0.0.1:$QB
PID_B=$CASD_PID
wait_health "$T/b/cas-data/cas-chain.pem" $PB
grep -q 'ev=casd.joined' "$T/b.log" || fail "B did not log its join"
cmp -s "$T/a/cas-data/sealing.key" "$T/b/cas-data/sealing.key" || fail "B has another sealing key"
[ "$(stat -c %a "$T/b/cas-data/sealing.key")" = 600 ] || fail "B's key file is not 0600"
[ "$(root_of "$T/a")" = "$(root_of "$T/b")" ] || fail "B has another CAS root"
cas attest -G --mrenclave "$MR_A" --only_for_testing-ignore-signer --only_for_testing-debug 127.0.0.1:$PB >/dev/null
[ "$(cas values get joined g -c 127.0.0.1:$PB)" = "$G" ] || fail "B does not serve A's generated value"
[ "$(q "SELECT count(*) FROM cas_audit WHERE config_id = 'cas/join' AND verdict LIKE 'ok%'")" = 1 ] ||
  fail "A did not audit the join"
curl -sk "https://127.0.0.1:$PA/metrics" | grep -x >/dev/null 'cas_joins_total{verdict="ok"} 1' || fail "A's metrics do not count the join"
pass "B joined A by attestation: same key, same root, same values"

# C joins through B while A is gone (A's listing leaves with it).
stop_pid "$PID_A"
[ "$(q "SELECT count(*) FROM cas_member WHERE enclave_addr = '127.0.0.1:$QA'")" = 0 ] || fail "A is still listed after its stop"
PC=$(free_port); QC=$(free_port)
start_casd c "$T/c" --database "$PG_URI" --listen 127.0.0.1:$PC --enclave-listen 127.0.0.1:$QC
wait_health "$T/c/cas-data/cas-chain.pem" $PC
grep -q "ev=casd.joined instance_addr=\"\\?127.0.0.1:$QB" "$T/c.log" || fail "C did not join through B: $(grep join "$T/c.log")"
[ "$(root_of "$T/a")" = "$(root_of "$T/c")" ] || fail "C has another CAS root"
cas attest -G --mrenclave "$MR_A" --only_for_testing-ignore-signer --only_for_testing-debug 127.0.0.1:$PC >/dev/null
[ "$(cas values get joined g -c 127.0.0.1:$PC)" = "$G" ] || fail "C does not serve the value"
pass "a third instance joined through the second while the first was stopped"

# An impostor: another MRENCLAVE and another signer.
mkdir -p "$T/bin"
cp "$CAS_BIN_DIR/casd" "$T/bin/casd" && printf x >>"$T/bin/casd"
openssl genrsa -3 -out "$T/other-signer.pem" 3072 2>/dev/null
instances=$(q "SELECT count(*) FROM cas_instance")
PI=$(free_port); QI=$(free_port)
mkdir -p "$T/i"
set +e
(cd "$T/i" && exec "$T/bin/casd" --database "$PG_URI" --listen 127.0.0.1:$PI --enclave-listen 127.0.0.1:$QI \
  --sim-signing-key "$T/other-signer.pem") >"$T/impostor.log" 2>&1
st=$?
set -e
[ $st = 1 ] || fail "the impostor exited $st, not 1"
grep -q "refused this one" "$T/impostor.log" || fail "no refusal: $(cat "$T/impostor.log")"
grep -q "Unexpected enclave measurement (MRENCLAVE, [0-9a-f]\{64\}) - Expected $MR_A" "$T/impostor.log" ||
  fail "the refusal does not name the measurements: $(cat "$T/impostor.log")"
grep -q "Unexpected enclave signer (MRSIGNER" "$T/impostor.log" || fail "the refusal does not name the signer"
[ ! -e "$T/i/cas-data/sealing.key" ] || fail "the impostor wrote a key"
[ ! -e "$T/i/cas-data/cas-chain.pem" ] || fail "the impostor wrote a chain"
[ "$(q "SELECT count(*) FROM cas_instance")" = "$instances" ] || fail "the impostor left an instance row"
[ "$(q "SELECT count(*) FROM cas_member WHERE enclave_addr = '127.0.0.1:$QI'")" = 0 ] || fail "the impostor is listed"
key_b64=$(base64 -w0 "$T/a/cas-data/sealing.key"); key_hex=$(xxd -p -c 64 "$T/a/cas-data/sealing.key")
for f in "$T"/*.log; do
  ! grep -q -e "$key_b64" -e "$key_hex" "$f" || fail "the sealing key is in $f"
done
[ "$(q "SELECT count(*) FROM cas_audit WHERE config_id = 'cas/join' AND verdict LIKE 'Unexpected enclave measurement%'")" = 1 ] ||
  fail "the refusal is not audited"
pass "an impostor with another MRENCLAVE and signer is refused and learns nothing"

# A build of the same signer (another MRENCLAVE, same MRSIGNER, ISVPRODID, ISVSVN) is let in.
PD=$(free_port); QD=$(free_port)
mkdir -p "$T/d"
(cd "$T/d" && exec "$T/bin/casd" --database "$PG_URI" --listen 127.0.0.1:$PD --enclave-listen 127.0.0.1:$QD) >"$T/d.log" 2>&1 &
PIDS+=($!)
wait_health "$T/d/cas-data/cas-chain.pem" $PD
cmp -s "$T/a/cas-data/sealing.key" "$T/d/cas-data/sealing.key" || fail "the same signer's build has another key"
pass "a build of the same signer (same ISVSVN) joins, as the CAS's policy allows"

# Mutual: a newcomer accepts a key only from an instance that satisfies the CAS's policy itself.
# A database administrator plants another CAS (its root and sealed key) and lists its instance R,
# which runs on an OutOfDate platform; the newcomer N runs on an UpToDate one. R hands its key
# over, N refuses it: R's TCB status is neither final nor N's own.
q "CREATE DATABASE rogue" >/dev/null
ROGUE_URI="${PG_URI%/*}/rogue"
PR=$(free_port); QR=$(free_port)
start_casd r "$T/r" --database "$ROGUE_URI" --listen 127.0.0.1:$PR --enclave-listen 127.0.0.1:$QR
wait_health "$T/r/cas-data/cas-chain.pem" $PR
"$PSQL" -qtAX "$ROGUE_URI" -c "COPY (SELECT cert, encode(sealed_key, 'hex') FROM cas_identity WHERE name = 'root') TO STDOUT" >"$T/rogue-root"
cert=$(cut -f1 "$T/rogue-root" | sed 's/\\n/\n/g'); sealed=$(cut -f2 "$T/rogue-root")
q "UPDATE cas_identity SET cert = E'$cert', sealed_key = decode('$sealed', 'hex') WHERE name = 'root'" >/dev/null
q "DELETE FROM cas_member; INSERT INTO cas_member VALUES ('rogue', '127.0.0.1:$QR', 0)" >/dev/null
PN=$(free_port); QN=$(free_port)
mkdir -p "$T/n"
set +e
(cd "$T/n" && exec casd --database "$PG_URI" --listen 127.0.0.1:$PN --enclave-listen 127.0.0.1:$QN \
  --sim-tcb-status UpToDate) >"$T/newcomer.log" 2>&1
st=$?
set -e
[ $st = 1 ] || fail "the newcomer exited $st, not 1: $(cat "$T/newcomer.log")"
grep -q "does not satisfy this CAS's own policy, so its key is refused" "$T/newcomer.log" ||
  fail "the newcomer did not refuse the planted instance: $(cat "$T/newcomer.log")"
grep -q "TCB status OutOfDate - Expected UpToDate" "$T/newcomer.log" || fail "the refusal does not say why"
[ ! -e "$T/n/cas-data/sealing.key" ] || fail "the newcomer kept the planted key"
pass "a newcomer refuses the key of an instance that does not satisfy the CAS's policy"
echo "postgres_join: all passed"

#!/usr/bin/env bash
# run_inject.sh - cas-run never silently gives up its private mount, and follows no symbolic link
# on the way to an injection file (api.md §4, docs/internals/run.md). A session with a file whose
# parent is '/' and one under a directory: where cas-run has a private mount namespace it fails
# naming the file in '/', before anything is written or run (it used to write every file to the
# host instead). A file under a parent directory that is a symbolic link: refused naming the
# link, nothing made at its target, both with the private tmpfs and without (CAP_SYS_ADMIN
# dropped with setpriv, where cas-run writes to the file system).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

casd_attested
RUN_ENV=(CAS_ADDR=127.0.0.1:$Q CAS_CERT="$T/cas_cert.crt")
TOUCH=$(type -P touch)
MR=$(cas-run --measure "$TOUCH")
TOP="/cas-e2e-$(basename "$T")" # a file whose parent is '/'; removed again by the trap
trap 'rm -f "$TOP"; cleanup' EXIT
session() { # NAME FILE...
  local name=$1; shift
  cat <<YAML
name: $name
version: "0.3"
security:
  attestation: {mode: sim, tolerate: [debug-mode, outdated-tcb], ignore_advisories: "*"}
services:
  - {name: job, image_name: img, command: "touch $T/ran-$name", attestation: {mrenclave: $MR}}
images:
  - name: img
    injection_files:
YAML
  for f in "$@"; do echo "      - {path: $f, content: \"\$\$SCONE::pw\$\$\"}"; done
  cat <<'YAML'
secrets:
  - {name: pw, kind: ascii, size: 20}
YAML
}

if unshare -m true 2>/dev/null; then
  session rooted "$TOP" "$T/cron.d/cas-test-x" >"$T/rooted.yaml"
  expect 0 cas session create "$T/rooted.yaml"
  expect 1 env "${RUN_ENV[@]}" CAS_CONFIG_ID=rooted/job timeout 20 cas-run "$TOUCH"
  grep -qx "cas-run: cannot write the injection files: injection file '$TOP' cannot be kept in a private tmpfs: its directory is '/', which cas-run does not cover (that would hide the program's own files); give it a directory of its own in the session, e.g. '/run/secrets$TOP'" "$T/err" ||
    fail "a file in '/': $(cat "$T/err")"
  [ ! -e "$TOP" ] || fail "'$TOP' was written to the host"
  [ ! -e "$T/cron.d" ] || fail "'$T/cron.d' was made on the host"
  [ ! -e "$T/ran-rooted" ] || fail "the program ran"
  pass "a file in '/' with a private mount namespace: cas-run fails naming it; nothing written, nothing run"
else
  echo "note: no private mount namespace here; the '/' parent case needs one"
fi

# A parent directory that is a symbolic link to elsewhere.
mkdir -p "$T/elsewhere"
ln -s "$T/elsewhere" "$T/linkdir"
session linked "$T/ok/first" "$T/linkdir/sub/x" >"$T/linked.yaml"
expect 0 cas session create "$T/linked.yaml"
for how in namespace setpriv; do
  run=(env "${RUN_ENV[@]}" CAS_CONFIG_ID=linked/job timeout 20)
  [ $how = setpriv ] && run=(setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin "${run[@]}")
  expect 1 "${run[@]}" cas-run "$TOUCH"
  grep -qx "cas-run: cannot write the injection files: '$T/linkdir' is a symbolic link; cas-run follows no link on the way to an injection file: make it a directory, or change the path in the session" "$T/err" ||
    fail "a symlinked parent ($how): $(cat "$T/err")"
  [ -z "$(ls -A "$T/elsewhere")" ] || fail "something was made at the link's target ($how): $(ls -A "$T/elsewhere")"
  [ ! -e "$T/ok/first" ] || fail "the file before it stayed on disk ($how)"
  [ ! -e "$T/ran-linked" ] || fail "the program ran ($how)"
done
pass "a symlinked parent is refused naming it, with and without CAP_SYS_ADMIN; nothing at its target"

#!/usr/bin/env bash
# disk_full.sh - a full disk: casd's data directory on a small tmpfs, a filler file beside it
# takes the last byte; uploads then get clear 503s (JSON, the first message naming the session,
# the next why), casd stays up and answers its health probe; once the filler is deleted uploads
# succeed again and every upload acknowledged before, during and after is present with its hash.
# Needs to mount a tmpfs (root); where that is impossible it says SKIP and exits 0.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

M="$T/disk"
mkdir -p "$M"
if ! mount -t tmpfs -o size=16m,mode=0700 tmpfs "$M" 2>"$T/mount.err"; then
  echo "SKIP: disk_full needs to mount a tmpfs and cannot: $(cat "$T/mount.err")" >&2
  echo "SKIP SKIP SKIP: the full-disk test did NOT run" >&2
  exit 0
fi
# casd must be gone before the tmpfs is unmounted; then lib.sh's cleanup with our status.
on_exit() {
  local rc=$? p
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && wait "$p" 2>/dev/null || true
  done
  PIDS=()
  umount "$M" 2>/dev/null || umount -l "$M" 2>/dev/null || true
  (exit "$rc")
  cleanup
}
trap on_exit EXIT

P=$(free_port); Q=$(free_port)
CHAIN="$M/cas-data/cas-chain.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/id.key" \
  -out "$T/id.crt" -subj /CN=disk-full -days 2 2>/dev/null
start_casd casd "$T/cas" --data-dir "$M/cas-data" --listen 127.0.0.1:$P --enclave-listen 127.0.0.1:$Q
wait_health "$CHAIN" $P
CURL=(curl -s --max-time 10 --cacert "$CHAIN" --connect-to "cas:$P:127.0.0.1:$P"
  --cert "$T/id.crt" --key "$T/id.key")

# A payload of 4 KiB per session, so the database must grow with every upload.
PAD=$(head -c 3072 /dev/urandom | base64 -w0)
# upload NAME: prints the status; a 201 is recorded in $T/acked as "NAME HASH".
upload() {
  local code
  printf 'name: %s\nversion: "0.3"\nsecrets:\n  - {name: v, kind: ascii, value: "%s", export_public: true}\n  - {name: pad, kind: ascii, value: "%s"}\n  - {name: k, kind: private-key}\n' \
    "$1" "$1" "$PAD" >"$T/body.yaml"
  code=$("${CURL[@]}" -o "$T/resp.json" -w '%{http_code}' --data-binary @"$T/body.yaml" \
    "https://cas:$P/v1/sessions" || true)
  [ "$code" = 201 ] && echo "$1 $(jq -r .hash "$T/resp.json")" >>"$T/acked"
  echo "$code"
}
health() {
  "${CURL[@]}" -o /dev/null -w '%{http_code}' "https://cas:$P/v1/health" || true
}

touch "$T/acked"
for i in $(seq 1 10); do
  [ "$(upload "before-$i")" = 201 ] || fail "upload before-$i with free space: $(cat "$T/resp.json")"
done
pass "10 uploads acknowledged with free space"

# Fill the file system to its last byte.
dd if=/dev/zero of="$M/filler" bs=64k status=none 2>/dev/null || true
dd if=/dev/zero of="$M/filler2" bs=512 status=none 2>/dev/null || true
[ "$(df --output=avail "$M" | tail -1 | tr -d ' ')" = 0 ] || fail "the tmpfs is not full: $(df "$M")"

n503=0 n201=0
for i in $(seq 1 30); do
  code=$(upload "full-$i")
  case $code in
  201) n201=$((n201 + 1)) ;;
  503)
    n503=$((n503 + 1))
    jq -e --arg s "full-$i" '(.msg | length) >= 2 and .msg[0] == "Failed to create session '"'"'\($s)'"'"'"' \
      "$T/resp.json" >/dev/null || fail "the 503 for full-$i is not clear: $(cat "$T/resp.json")"
    if [ $n503 = 1 ]; then cp "$T/resp.json" "$T/first503.json"; fi
    ;;
  *) fail "upload full-$i on a full disk: status $code, expected 503 (or 201): $(cat "$T/resp.json")" ;;
  esac
  h=$(health)
  [ "$h" = 200 ] || [ "$h" = 503 ] || fail "health on a full disk answered '$h'"
  kill -0 "$CASD_PID" 2>/dev/null || fail "casd died on a full disk"
done
[ $n503 -ge 1 ] || fail "30 uploads on a full disk got no 503 ($n201 acknowledged)"
grep -qi 'full\|space' "$T/first503.json" ||
  fail "the 503 on a full disk does not name the cause: $(cat "$T/first503.json")"
pass "a full disk: $n503 clear 503s ($(jq -c .msg "$T/first503.json")), $n201 acknowledged, casd up"

# Space returns: uploads succeed again (the first may still meet the old state).
rm -f "$M/filler" "$M/filler2"
ok=0
for i in $(seq 1 10); do
  [ "$(upload "after-$i")" = 201 ] && ok=$((ok + 1))
done
[ $ok -ge 9 ] || fail "once space returned only $ok of 10 uploads were acknowledged: $(cat "$T/resp.json")"
[ "$(health)" = 200 ] || fail "casd is not healthy once space returned"

lost=0
while read -r name hash; do
  h=$("${CURL[@]}" "https://cas:$P/v1/sessions/$name" | jq -r .hash 2>/dev/null || true)
  v=$("${CURL[@]}" "https://cas:$P/v1/values/session=$name,secret=v" | jq -r .value 2>/dev/null || true)
  if [ "$h" != "$hash" ] || [ "$v" != "$name" ]; then
    echo "lost: $name (acknowledged with hash $hash; now '$h', value '$v')" >&2
    lost=$((lost + 1))
  fi
done <"$T/acked"
total=$(wc -l <"$T/acked")
[ $lost = 0 ] || fail "$lost of $total acknowledged uploads are missing after the disk was full"
pass "space returned: $ok of 10 new uploads acknowledged; all $total acknowledged uploads present"
echo "disk_full: all passed"

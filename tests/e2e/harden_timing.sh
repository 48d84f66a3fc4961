#!/usr/bin/env bash
# harden_timing.sh - a missing session and one the caller may not read cost casd the same: for
# read, list, delete and the values API, the medians of 200 answers each (interleaved, on one
# connection, so handshakes and drift cancel out) differ by less than the tolerance. Before,
# only the existing session was unsealed and parsed, and the 404 of a missing one came sooner
# (a timing oracle for session names): 38-46 % sooner on every route. The tolerance leaves room
# for a loaded machine and ASan.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

N=${HARDEN_TIMING_N:-200}
TOL=${HARDEN_TIMING_TOL:-0.25} # relative difference of the medians

casd_attested
# A session of typical size, which an anonymous caller may not read and has no public value.
cat >"$T/hidden.yaml" <<'EOF'
name: hidden
version: "0.3"
services:
  - name: api
    image_name: api_image
    mrenclaves: ["0000000000000000000000000000000000000000000000000000000000000001"]
    command: /usr/bin/api --port 8443
    environment:
      API_KEY: $$CAS::api_key$$
      DB_PASSWORD: $$CAS::db_password$$
    pwd: /
images:
  - name: api_image
secrets:
  - name: api_key
    kind: ascii
    size: 32
  - name: db_password
    kind: ascii
  - name: note
    kind: ascii
    value: "not public"
EOF
expect 0 cas session create "$T/hidden.yaml"
CURL=(curl -sS --cacert "$T/cas_cert.crt" --connect-to "cas:$P:127.0.0.1:$P")

# medians METHOD PATH_MISSING PATH_HIDDEN: N requests of each, alternating, on one connection;
# checks both answer 404 and prints "missing_median hidden_median".
medians() {
  local method=$1 missing=$2 hidden=$3 args=() i
  for i in $(seq 1 "$N"); do
    args+=(-o /dev/null "https://cas:$P$missing" -o /dev/null "https://cas:$P$hidden")
  done
  "${CURL[@]}" -X "$method" -w '%{http_code} %{time_total}\n' "${args[@]}" >"$T/times"
  [ "$(cut -d' ' -f1 "$T/times" | sort -u)" = 404 ] ||
    fail "$method $missing / $hidden: not all 404: $(cut -d' ' -f1 "$T/times" | sort | uniq -c | tr '\n' ' ')"
  awk 'NR % 2 == 1 { print $2 }' "$T/times" | sort -g | awk '{ a[NR] = $1 } END { printf "%s ", a[int((NR + 1) / 2)] }'
  awk 'NR % 2 == 0 { print $2 }' "$T/times" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

# same WHAT MISSING HIDDEN: the medians differ by less than TOL of the larger.
same() {
  awk -v m="$2" -v h="$3" -v tol="$TOL" 'BEGIN { d = m > h ? m - h : h - m; mx = m > h ? m : h; exit !(d <= tol * mx) }' ||
    fail "$1: a missing session answers in $2 s (median), an unreadable one in $3 s"
  pass "$1: missing $2 s, unreadable $3 s (medians of $N each)"
}

read -r m h < <(medians GET /v1/sessions/nosuch /v1/sessions/hidden)
same "read" "$m" "$h"
read -r m h < <(medians GET "/v1/sessions?namespace=nosuch" "/v1/sessions?namespace=hidden")
same "list" "$m" "$h"
read -r m h < <(medians DELETE /v1/sessions/nosuch /v1/sessions/hidden)
same "delete" "$m" "$h"
read -r m h < <(medians GET /v1/values/session=nosuch /v1/values/session=hidden)
same "values" "$m" "$h"

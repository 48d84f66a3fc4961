#!/usr/bin/env bash
# deps.sh - installs the Debian 12 packages cas builds, tests and runs with (as root).
# Quiet and quick when everything is there already; apt-get update runs only when needed.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config git ca-certificates curl openssl
  libssl-dev libyaml-dev libsqlite3-dev libpq-dev libjansson-dev libevent-dev
  libcurl4-openssl-dev libcmocka-dev
  clang libclang-rt-14-dev clang-format cppcheck binutils
  postgresql sqlite3 jq procps iproute2 libfaketime
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing packages: ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# Installs every Debian package that building, running and testing Tessera needs.
# Idempotent and non-interactive; run as root (or with sudo available) on Debian 12.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost1.81-dev libboost-json1.81-dev   # Beast, Asio (header-only) and Boost.JSON
  libhnswlib-dev libfaiss-dev libeigen3-dev libopenblas-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libyaml-cpp-dev                          # the config file (config/config.yaml)
  libarchive-dev libssl-dev                # snapshots: tar archives, SHA-256 checksums
  libroaring-dev                           # payload indexes: Roaring bitmaps of offsets
  libicu-dev                               # Unicode classes (key paths; full-text tokenizers)
  libstemmer-dev                           # full-text index: Snowball stemmers
  gnuplot-nox                              # bench: the QPS/recall plot
  python3 curl ca-certificates
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# Node.js (for the official JS client tests): keep the machine's own if it has one.
if ! command -v node >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  echo "setup: installing ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

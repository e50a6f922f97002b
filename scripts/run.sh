#!/usr/bin/env bash
# Installs what is missing, builds, and starts the server in the foreground on
# 127.0.0.1:6333 with data in ./storage. Extra arguments go to the server (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
exec build/tessera "$@"

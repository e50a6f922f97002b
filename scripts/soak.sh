#!/usr/bin/env bash
# Soak test against the real server on loopback (tests/soak/soak.py): concurrent upserts,
# overwrites, deletes, payload updates and searches, then the final state against a model.
#   scripts/soak.sh                     10 minutes
#   SOAK_SECONDS=3600 scripts/soak.sh   an hour; extra arguments go to soak.py (--writers N ...)
# Builds first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/tessera ] || { scripts/setup.sh; scripts/build.sh build; }
TESSERA_BIN="${TESSERA_BIN:-$PWD/build/tessera}" exec python3 tests/soak/soak.py "$@"

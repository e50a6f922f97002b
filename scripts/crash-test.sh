#!/usr/bin/env bash
# Kill -9 crash test against the real server (tests/crash/crash_test.py): upserts, atomic batches
# and deletes with every ordering (weak, medium, strong); counts lost, phantom, torn, resurrected.
#   scripts/crash-test.sh              3 cycles (the default test suite runs this)
#   CYCLES=200 scripts/crash-test.sh   the long run
# Builds first if needed; extra arguments go to crash_test.py (--seed S, --writers N).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/tessera ] || scripts/build.sh build
TESSERA_BIN="${TESSERA_BIN:-$PWD/build/tessera}" exec python3 tests/crash/crash_test.py "$@"

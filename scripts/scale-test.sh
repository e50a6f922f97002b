#!/usr/bin/env bash
# Loads SCALE_POINTS points (default 1,000,000 x 16 floats) into a collection, indexes them,
# restarts, and checks that no HNSW graph is rebuilt. Takes minutes: not in the default suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build >/dev/null
exec build/tests/restart_scale

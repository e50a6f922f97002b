#!/usr/bin/env bash
# Fails when an #include points against the dependency direction api -> engine -> {wal, index}
# -> common (see ../shared/DESIGN.md), or when hnswlib is included outside its one home.
set -u
cd "$(dirname "$0")/.."
status=0
bad() {
  if grep -rnE "$@" 2>/dev/null; then
    echo "layering: an include points the wrong way"
    status=1
  fi
}
dirs() { for d in "$@"; do [ -d "$d" ] && echo "$d"; done; }
bad '#include "(api|engine|wal|index)/' $(dirs common)
bad '#include "(api|engine|index)/' $(dirs wal)
bad '#include "(api|engine|wal)/' $(dirs index)
bad '#include ("api/|<boost/beast|<boost/asio)' $(dirs engine)
bad '#include <hnswlib/' --exclude=hnsw_graph.cpp $(dirs common wal index engine api tests)
if [ $status -eq 0 ]; then echo "layering: ok"; fi
exit $status

#!/usr/bin/env bash
# Fails when an #include points against the dependency direction api -> engine -> {wal, index}
# -> common (see ../shared/DESIGN.md), or when hnswlib is included outside its one home.
set -u
cd "$(dirname "$0")/.."
status=0
# bad PATTERN [grep options] DIR... ; a rule whose folders do not exist yet checks nothing.
bad() {
  local pattern=$1
  shift
  local args=() d found=0
  for d in "$@"; do
    if [[ $d == --* ]]; then
      args+=("$d")
    elif [ -d "$d" ]; then
      args+=("$d")
      found=1
    fi
  done
  [ $found -eq 1 ] || return 0
  if grep -rnE "$pattern" "${args[@]}"; then
    echo "layering: an include points the wrong way"
    status=1
  fi
}
bad '#include "(api|engine|wal|index)/' common
bad '#include "(api|engine|index)/' wal
bad '#include "(api|engine|wal)/' index
bad '#include ("api/|<boost/beast|<boost/asio)' engine
bad '#include <hnswlib/' --exclude=hnsw_graph.cpp common wal index engine api tests
if [ $status -eq 0 ]; then echo "layering: ok"; fi
exit $status

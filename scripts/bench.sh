#!/usr/bin/env bash
# The end-to-end benchmark: Tessera over HTTP and in-process against raw hnswlib and FAISS,
# on the same data with the same m / ef_construct / ef, in one run. Writes the tables to
# bench/RESULTS.md (between the e2e markers) and the QPS/recall plot to bench/qps_recall.png.
#
#   scripts/bench.sh            full run: synthetic 50k, 200k x 128 and 20k x 960, Fashion-MNIST
#                               60k x 784 (about 15 minutes on 2 cores)
#   scripts/bench.sh --quick    10k x 128 only, under a minute; results go to build/bench-quick/
#                               (the CI smoke test: checks the harness works, not the numbers)
#   scripts/bench.sh --scale    1,000,000 x 128 at the default config, one round (about 7
#                               minutes): raw hnswlib and brute force, Tessera over HTTP from
#                               upload to green, searches, memory, then a restart of the server
#                               timed to green with the optimizations it ran counted (none:
#                               graphs load from disk). Tables in bench/RESULTS.md (scale section)
#   scripts/bench.sh --filtered filtered search at 200,000 x 128, default config (#17): raw
#                               hnswlib unfiltered, then Tessera over HTTP with a payload and four
#                               payload indexes: filters from 0.1% to 50%, recall@10 against exact
#                               search over the matching points, exact count and filtered scroll
#                               requests/s, index build time and memory (about 6 minutes). Tables
#                               in bench/RESULTS.md (filtered section). --quick runs it at 10k too.
# Tessera over HTTP runs at the default collection config (the optimizers choose the segments,
# as for a user's collection); --tuned adds a column with indexing_threshold sized so that all
# points form one segment (system tessera-http-1seg).
# Options: --build-dir DIR (default build; skips setup and build when --no-build is given),
#          --datasets LIST (of synth-10k-128 synth-50k-128 synth-100k-128 synth-200k-128
#          synth-20k-960 fashion-mnist-784), --tuned,
#          --batch N (upsert batch, 500), --uploaders N (2), --clients N (2), --m N (16),
#          --efc N (100), --efs LIST (16,24,32,48,64,96,128,256)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

quick=0; scale=0; filtered=0; build=1; build_dir=build; batch=500; uploaders=2; clients=2; m=16; efc=100
datasets="synth-50k-128 synth-200k-128 synth-20k-960 fashion-mnist-784"; tuned=0
efs=16,24,32,48,64,96,128,256
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --scale) scale=1; datasets=synth-1m-128; efs=32,64,128,256 ;;
    --filtered) filtered=1; datasets=synth-200k-128; efs=16,32,64,128 ;;
    --no-build) build=0 ;;
    --build-dir) build_dir=$2; shift ;;
    --datasets) datasets=$2; shift ;;
    --tuned) tuned=1 ;;
    --batch) batch=$2; shift ;;
    --uploaders) uploaders=$2; shift ;;
    --clients) clients=$2; shift ;;
    --m) m=$2; shift ;;
    --efc) efc=$2; shift ;;
    --efs) efs=$2; shift ;;
    *) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
threads=$(nproc)
log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

if [ "$build" = 1 ]; then
  scripts/setup.sh
  if [ "$quick" = 0 ] && [ "$filtered" = 0 ] && [ ! -d /usr/share/datasets/fashion-mnist ]; then
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd=sudo
    log "installing dataset-fashion-mnist (Debian)"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
      dataset-fashion-mnist >/dev/null
  fi
  scripts/build.sh "$build_dir" >/dev/null
fi
case "$build_dir" in /*) bin="$build_dir" ;; *) bin="$root/$build_dir" ;; esac
[ -x "$bin/bench/http_bench" ] || { echo "bench.sh: build the bench targets first" >&2; exit 1; }

if [ "$quick" = 1 ]; then
  out_dir="$bin/bench-quick"; efs=16,32,64
elif [ "$scale" = 1 ]; then
  out_dir="$bin/bench-scale"
  export BENCH_SKIP_FAISS_HNSW=1 BENCH_ROUNDS=${BENCH_ROUNDS:-1}
elif [ "$filtered" = 1 ]; then
  out_dir="$bin/bench-filtered"
  export BENCH_SKIP_FAISS_HNSW=1
else
  out_dir="$bin/bench-out"
fi
data="$bin/bench-data"
mkdir -p "$out_dir" "$data"
results="$out_dir/results.jsonl"
filtered_results="$out_dir/filtered.jsonl"
: > "$results"
: > "$filtered_results"

# name base queries: prepared once, cached in $data, with FAISS exact ground truth.
prepare() {
  local name=$1
  [ -f "$data/$name.gt.ibin" ] && return
  log "preparing $name"
  case "$name" in
    synth-10k-128) "$bin/bench/bench_prep" synth 10000 200 128 42 "$data/$name.base.fbin" "$data/$name.q.fbin" ;;
    synth-50k-128) "$bin/bench/bench_prep" synth 50000 1000 128 42 "$data/$name.base.fbin" "$data/$name.q.fbin" ;;
    synth-100k-128) "$bin/bench/bench_prep" synth 100000 1000 128 42 "$data/$name.base.fbin" "$data/$name.q.fbin" ;;
    synth-200k-128) "$bin/bench/bench_prep" synth 200000 1000 128 42 "$data/$name.base.fbin" "$data/$name.q.fbin" ;;
    synth-1m-128) "$bin/bench/bench_prep" synth 1000000 1000 128 42 "$data/$name.base.fbin" "$data/$name.q.fbin" ;;
    synth-20k-960) "$bin/bench/bench_prep" synth 20000 500 960 42 "$data/$name.base.fbin" "$data/$name.q.fbin" ;;
    fashion-mnist-784)
      local src=/usr/share/datasets/fashion-mnist
      gunzip -c "$src/train-images-idx3-ubyte.gz" > "$data/fm-train.idx3"
      gunzip -c "$src/t10k-images-idx3-ubyte.gz" > "$data/fm-test.idx3"
      "$bin/bench/bench_prep" idx "$data/fm-train.idx3" "$data/$name.base.fbin"
      "$bin/bench/bench_prep" idx "$data/fm-test.idx3" "$data/$name.q.fbin" 1000
      rm -f "$data/fm-train.idx3" "$data/fm-test.idx3" ;;
  esac
  "$bin/bench/reference_bench" gt "$data/$name.base.fbin" "$data/$name.q.fbin" 10 "$data/$name.gt.ibin"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts a server on fresh storage, logging to $out_dir/LOG, and waits until it is ready; sets
# the caller's (local) storage, port and pid.
start_server() {
  storage=$(mktemp -d /tmp/tessera-bench-XXXXXX)
  port=$(free_port)
  "$bin/tessera" --port "$port" --storage-path "$storage/storage" --snapshots-path "$storage/snapshots" \
    --log-level warn > "$out_dir/$1" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
}

run_dataset() {
  local name=$1
  prepare "$name"
  local base="$data/$name.base.fbin" q="$data/$name.q.fbin" gt="$data/$name.gt.ibin"
  log "$name: raw hnswlib, FAISS HNSW and brute force (m=$m ef_construct=$efc, $threads threads)"
  "$bin/bench/reference_bench" run "$name" "$base" "$q" "$gt" "$m" "$efc" "$efs" "$threads" >> "$results"
  if [ "$scale" = 0 ]; then
    log "$name: Tessera engine in-process"
    "$bin/bench/engine_bench" "$name" "$base" "$q" "$gt" "$m" "$efc" "$efs" "$batch" >> "$results"
  fi
  local layouts=default
  [ "$tuned" = 1 ] && layouts="default one-segment"
  for layout in $layouts; do
    log "$name: Tessera over HTTP, $layout layout (batch $batch, $uploaders uploaders, $clients clients)"
    local storage port pid
    start_server "server-$name-$layout.log"
    "$bin/bench/http_bench" "$name" "$port" "$pid" "$base" "$q" "$gt" "$m" "$efc" "$efs" "$batch" \
      "$uploaders" "$clients" "$layout" >> "$results" || { kill "$pid"; rm -rf "$storage"; exit 1; }
    kill "$pid"; wait "$pid" || true
    if [ "$scale" = 1 ] && [ "$layout" = default ]; then
      # Restart on the same storage: time to a green collection with every point, then count
      # the optimizations the restarted server runs (a graph rebuilt would be one).
      log "$name: restart"
      local restart_log="$out_dir/server-$name-restart.log" t0 t1
      t0=$(date +%s.%N)
      "$bin/tessera" --port "$port" --storage-path "$storage/storage" \
        --snapshots-path "$storage/snapshots" --log-level info > "$restart_log" 2>&1 &
      pid=$!
      local waited=0
      until curl -sf "http://127.0.0.1:$port/collections/bench" 2>/dev/null | grep -q '"status":"green"'; do
        # a server that died or never turns green fails the run instead of hanging it
        if ! kill -0 "$pid" 2>/dev/null || [ "$waited" -ge 12000 ]; then
          log "$name: restarted server not green after $((waited / 20)) s (log: $restart_log)"
          kill "$pid" 2>/dev/null || true; rm -rf "$storage"; exit 1
        fi
        sleep 0.05; waited=$((waited + 1))
      done
      t1=$(date +%s.%N)
      sleep 5
      local points built rss
      points=$(curl -sf "http://127.0.0.1:$port/collections/bench" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["points_count"])')
      built=$(grep -cE " (indexing|merge|vacuum|config mismatch) of " "$restart_log" || true)
      rss=$(awk '/VmRSS/ {print $2 * 1024}' "/proc/$pid/status")
      echo "{\"kind\":\"restart\",\"dataset\":\"$name\",\"system\":\"tessera-http\",\"seconds\":$(python3 -c "print(round($t1 - $t0, 3))"),\"points\":$points,\"optimizations\":$built,\"rss\":$rss}" >> "$results"
      kill "$pid"; wait "$pid" || true
    fi
    rm -rf "$storage"
  done
}

# The filtered-search run of one dataset: raw hnswlib unfiltered (the reference), then Tessera
# over HTTP with payloads and payload indexes (bench/filter_bench.cpp).
run_filtered() {
  local name=$1
  prepare "$name"
  local base="$data/$name.base.fbin" q="$data/$name.q.fbin" gt="$data/$name.gt.ibin"
  log "$name: raw hnswlib unfiltered (m=$m ef_construct=$efc)"
  BENCH_SKIP_FAISS_HNSW=1 "$bin/bench/reference_bench" run "$name" "$base" "$q" "$gt" "$m" "$efc" \
    "$efs" "$threads" >> "$filtered_results"
  log "$name: Tessera over HTTP, filtered search (batch $batch, $uploaders uploaders)"
  local storage port pid
  start_server "server-$name-filtered.log"
  "$bin/bench/filter_bench" "$name" "$port" "$pid" "$base" "$q" "$gt" "$efs" "$batch" "$uploaders" \
    >> "$filtered_results" || { kill "$pid"; rm -rf "$storage"; exit 1; }
  kill "$pid"; wait "$pid" || true
  rm -rf "$storage"
}

started=$(date +%s)
if [ "$quick" = 1 ]; then
  run_dataset synth-10k-128
  run_filtered synth-10k-128
elif [ "$filtered" = 1 ]; then
  for name in $datasets; do run_filtered "$name"; done
else
  for name in $datasets; do run_dataset "$name"; done
fi

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
if [ "$quick" = 1 ]; then
  python3 bench/report.py "$results" --markdown "$out_dir/RESULTS.md" --plot "$out_dir/qps_recall.png" \
    --commit "$commit" --machine "$machine"
  python3 bench/report.py "$filtered_results" --markdown "$out_dir/RESULTS.md" --section filtered \
    --commit "$commit" --machine "$machine"
elif [ "$scale" = 1 ]; then
  python3 bench/report.py "$results" --markdown bench/RESULTS.md --section scale \
    --commit "$commit" --machine "$machine"
elif [ "$filtered" = 1 ]; then
  python3 bench/report.py "$filtered_results" --markdown bench/RESULTS.md --section filtered \
    --commit "$commit" --machine "$machine"
else
  python3 bench/report.py "$results" --markdown bench/RESULTS.md --plot bench/qps_recall.png \
    --commit "$commit" --machine "$machine"
fi
log "done in $(( $(date +%s) - started )) s; results: $results $filtered_results"

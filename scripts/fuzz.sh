#!/usr/bin/env bash
# Fuzzes Tessera's input decoders with libFuzzer under AddressSanitizer and UBSan (Debian's
# clang 14), each target for a bounded time, starting from the seed corpus in tests/fuzz/corpus.
#
#   scripts/fuzz.sh                 every target (api, filter, wal) for FUZZ_SECONDS (60) each
#   FUZZ_SECONDS=3600 scripts/fuzz.sh wal
#
# New interesting inputs stay in build-fuzz/corpus/<target> (the repo's seeds are not touched).
# A crash leaves its input in build-fuzz/crashes/<target>/ and is copied to
# tests/fuzz/regressions/<target>/, which CTest replays in every build from then on: commit it
# with the fix. Prints one line per target: `fuzz target=T seconds=S runs=N crashes=C`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${FUZZ_SECONDS:-60}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(api filter wal)

scripts/setup.sh
need=()
command -v clang++-14 >/dev/null 2>&1 || need+=(clang-14)
dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q 'install ok installed' ||
  need+=(libclang-rt-14-dev)
if [ ${#need[@]} -gt 0 ]; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd=sudo
  echo "fuzz: installing ${need[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
    "${need[@]}" >/dev/null
fi

build=build-fuzz
if [ ! -f "$build/CMakeCache.txt" ]; then
  generator=(); command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" "${generator[@]}" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTESSERA_FUZZ=ON -DSANITIZE=address,undefined \
    -DTESSERA_WERROR=OFF >/dev/null
fi
cmake --build "$build" --parallel "$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}")

export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1  # the api target keeps its fixture
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"; crashes="$build/crashes/$t"
  mkdir -p "$corpus" "$crashes"
  log="$build/fuzz-$t.log"
  echo "fuzz: $t for ${seconds}s (log $log)"
  set +e
  "$build/tests/fuzz_$t" "$corpus" "$root/tests/fuzz/corpus/$t" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$crashes/" > "$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  found=$(find "$crashes" -type f | wc -l)
  if [ "$found" -gt 0 ]; then
    cp "$crashes"/* "$root/tests/fuzz/regressions/$t/"
    status=1
  elif [ "$rc" -ne 0 ]; then
    echo "fuzz: fuzz_$t exited with $rc; see $log"; tail -20 "$log"; status=1
  fi
  echo "fuzz target=$t seconds=$seconds runs=$runs crashes=$found"
done
exit $status

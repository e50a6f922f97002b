// WAL append throughput at each durability point: `weak` (written to the page cache) and
// `medium` (group-committed fdatasync) with 1, 8 and 64 concurrent writers. Records of 1 KiB,
// about one small upsert request. Run: build/bench/wal_bench (uses $TMPDIR).

#include <filesystem>
#include <memory>
#include <mutex>
#include <stdlib.h>
#include <string>

#include <benchmark/benchmark.h>

#include "wal/log.h"

namespace {

namespace fs = std::filesystem;
using tessera::wal::Log;

struct Shared {
  std::mutex mu;
  int users = 0;
  fs::path dir;
  std::unique_ptr<Log> log;
};
Shared g;

void Setup(int threads) {
  std::lock_guard lock(g.mu);
  if (g.users++ == 0) {
    std::string tmpl = (fs::temp_directory_path() / "tessera-walbench-XXXXXX").string();
    g.dir = ::mkdtemp(tmpl.data());
    tessera::wal::RecoveryReport report;
    g.log = std::move(Log::Open(
                          g.dir, {}, 1, 1, [](const auto&) { return tessera::Status(); }, &report))
                .value();
  }
  (void)threads;
}

void Teardown() {
  std::lock_guard lock(g.mu);
  if (--g.users == 0) {
    g.log.reset();
    fs::remove_all(g.dir);
  }
}

void BM_AppendWeak(benchmark::State& state) {
  Setup(state.threads());
  const std::string body(1024, 'x');
  for (auto _ : state) {
    auto seq = g.log->Append(1, body);
    benchmark::DoNotOptimize(seq);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
  Teardown();
}

void BM_AppendMediumGroupCommit(benchmark::State& state) {
  Setup(state.threads());
  const std::string body(1024, 'x');
  for (auto _ : state) {
    auto seq = g.log->Append(1, body);
    auto synced = g.log->Sync(*seq);
    benchmark::DoNotOptimize(synced);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["fsyncs"] = static_cast<double>(g.log->sync_count());
  Teardown();
}

BENCHMARK(BM_AppendWeak)->Threads(1)->Threads(8)->Threads(64)->UseRealTime();
BENCHMARK(BM_AppendMediumGroupCommit)
    ->Threads(1)
    ->Threads(8)
    ->Threads(64)
    ->UseRealTime()
    ->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();

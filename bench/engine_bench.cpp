// Tessera's engine in-process, on the files and parameters reference_bench uses:
//   engine_bench NAME BASE QUERIES GT M EFC EF,EF,... BATCH
// Creates a collection (Euclid, the given m and ef_construct, indexing_threshold sized so that
// the points form one indexed segment), upserts BATCH points per operation list through
// Collection::Submit (the HTTP path minus JSON and sockets), waits until every point is indexed
// (status green), then searches one query at a time on one thread at each ef, side by side with
// raw hnswlib built on the same rows (blocks of queries alternate between the two), and again
// on two threads (fastest of bench::Rounds() passes). Prints one JSON line per measurement.

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "bench/bench_data.h"
#include "bench/hnswlib_index.h"
#include "common/logging.h"
#include "engine/collection.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace tessera;

engine::SearchRequest Request(const bench::Matrix& queries, uint32_t q, int ef) {
  engine::SearchRequest r;
  r.query.assign(queries.row(q), queries.row(q) + queries.dim);
  r.limit = 10;
  r.ef = static_cast<size_t>(ef);
  return r;
}

std::vector<int64_t> Ids(const Result<std::vector<engine::ScoredPoint>>& hits) {
  std::vector<int64_t> ids;
  if (hits.ok()) {
    for (const auto& h : *hits)
      ids.push_back(static_cast<int64_t>(h.record.id.num()));
  }
  return ids;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 9) {
    std::fprintf(stderr, "usage: engine_bench NAME BASE QUERIES GT M EFC EF,EF,... BATCH\n");
    return 2;
  }
  SetLogLevel(LogLevel::kWarn);
  const char* name = argv[1];
  const bench::Matrix base = bench::ReadFbin(argv[2]);
  const bench::Matrix queries = bench::ReadFbin(argv[3]);
  const bench::GroundTruth gt = bench::ReadIbin(argv[4]);
  const std::vector<int> efs = bench::ParseList(argv[7]);
  const size_t batch = static_cast<size_t>(std::atoi(argv[8]));

  engine::CollectionConfig config;
  config.vectors.emplace(
      "", engine::VectorParams{.size = base.dim, .distance = engine::Distance::kEuclid});
  config.hnsw.m = static_cast<uint64_t>(std::atoi(argv[5]));
  config.hnsw.ef_construct = static_cast<uint64_t>(std::atoi(argv[6]));
  config.hnsw.full_scan_threshold = 10;  // measure the HNSW path, not the planner's exact scan
  config.optimizers.indexing_threshold = uint64_t{base.n} * base.dim * sizeof(float) / 1024;
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("tessera-engine-bench-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);

  // Upload and index Rounds() times, each into a fresh collection; the fastest is reported (as
  // for every system) and the last is searched.
  std::unique_ptr<engine::Collection> collection;
  double indexed = 0, upload = 0;
  uint64_t index_bytes = 0;
  for (int round = 0; round < bench::Rounds(); ++round) {
    if (collection != nullptr) {
      collection->Drop();
      collection.reset();
      std::filesystem::remove_all(dir);
    }
    const uint64_t rss_before = bench::RssBytes();
    auto created = engine::Collection::Create("bench", dir, config);
    if (!created.ok()) {
      std::fprintf(stderr, "engine_bench: %s\n", created.status().ToString().c_str());
      return 1;
    }
    collection = std::move(created).value();
    const auto start = Clock::now();
    engine::SeqNo last = 0;
    for (uint32_t i = 0; i < base.n; i += static_cast<uint32_t>(batch)) {
      engine::UpsertOp upsert;
      for (uint32_t j = i; j < std::min<uint32_t>(base.n, i + static_cast<uint32_t>(batch)); ++j) {
        upsert.points.push_back({engine::PointId::Num(j),
                                 {{"", std::vector<float>(base.row(j), base.row(j) + base.dim)}},
                                 {}});
      }
      auto seq = collection->Submit({std::move(upsert)}, engine::Durability::kWritten);
      if (!seq.ok()) {
        std::fprintf(stderr, "engine_bench: %s\n", seq.status().ToString().c_str());
        return 1;
      }
      last = *seq;
    }
    const double uploaded = bench::Seconds(start);
    collection->WaitApplied(last, Clock::time_point::max());
    while (collection->Info().status != engine::CollectionStatus::kGreen) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const double seconds = bench::Seconds(start);
    if (round == 0) {
      index_bytes = bench::RssBytes() - rss_before;  // the first round's: a clean heap
    }
    if (round == 0 || seconds < indexed) {
      indexed = seconds;
      upload = uploaded;
    }
  }
  const engine::CollectionInfo info = collection->Info();
  std::printf(
      "{\"kind\":\"build\",\"dataset\":\"%s\",\"system\":\"tessera-engine\",\"seconds\":%.3f,"
      "\"upload_seconds\":%.3f,\"index_bytes\":%llu,\"points\":%llu,\"indexed\":%llu,"
      "\"segments\":%llu,\"rounds\":%d}\n",
      name, indexed, upload, static_cast<unsigned long long>(index_bytes),
      static_cast<unsigned long long>(info.points_count),
      static_cast<unsigned long long>(info.indexed_vectors_count),
      static_cast<unsigned long long>(info.segments_count), bench::Rounds());
  std::fflush(stdout);

  // Raw hnswlib, built here on the same rows with the same m and ef_construct, is searched side
  // by side with the engine on one thread: blocks of kBlock queries alternate between the two
  // (which goes first alternates too), so that the machine's drift (20-30% between runs of one
  // binary here) falls on both alike. Its build is not timed: reference_bench times that.
  constexpr uint32_t kBlock = 50;
  bench::HnswlibIndex reference(base.n, base.dim, config.hnsw.m, config.hnsw.ef_construct);
  reference.AddAll(base.data.data(), base.n, std::max(1u, std::thread::hardware_concurrency()));
  auto empty_pass = [&] {
    return bench::Pass{0, std::vector<double>(queries.n),
                       std::vector<std::vector<int64_t>>(queries.n)};
  };
  for (int ef : efs) {
    bench::Pass engine_best, hnswlib_best;
    for (int round = 0; round < bench::Rounds(); ++round) {
      bench::Pass e = empty_pass(), h = empty_pass();
      for (uint32_t begin = 0, block = 0; begin < queries.n; begin += kBlock, ++block) {
        const uint32_t end = std::min(queries.n, begin + kBlock);
        // Times `search(q, &ids)` over this block's queries into `pass`.
        auto timed_block = [&](bench::Pass& pass, auto search) {
          const auto t0 = Clock::now();
          for (uint32_t q = begin; q < end; ++q) {
            const auto t = Clock::now();
            search(q, &pass.results[q]);
            pass.latencies_us[q] = bench::Seconds(t) * 1e6;
          }
          pass.seconds += bench::Seconds(t0);
        };
        auto engine_block = [&] {
          timed_block(e, [&](uint32_t q, std::vector<int64_t>* ids) {
            *ids = Ids(collection->Search(Request(queries, q, ef)));
          });
        };
        auto hnswlib_block = [&] {
          timed_block(h, [&](uint32_t q, std::vector<int64_t>* ids) {
            reference.Search(queries.row(q), 10, static_cast<size_t>(ef), ids);
          });
        };
        if (block % 2 == 0) {
          engine_block();
          hnswlib_block();
        } else {
          hnswlib_block();
          engine_block();
        }
      }
      if (round == 0 || e.seconds < engine_best.seconds) {
        engine_best = std::move(e);
      }
      if (round == 0 || h.seconds < hnswlib_best.seconds) {
        hnswlib_best = std::move(h);
      }
    }
    bench::PrintSearch(name, "tessera-engine", "1 thread", ef, queries.n, engine_best, gt);
    bench::PrintSearch(name, "hnswlib", "1 thread, beside the engine", ef, queries.n, hnswlib_best,
                       gt);

    const bench::Pass pass = bench::Fastest([&] {
      bench::Pass p = empty_pass();
      std::atomic<uint32_t> next{0};
      const auto t0 = Clock::now();
      std::vector<std::thread> workers;
      for (int t = 0; t < 2; ++t) {
        workers.emplace_back([&] {
          for (uint32_t q = next++; q < queries.n; q = next++) {
            const engine::SearchRequest request = Request(queries, q, ef);
            const auto t = Clock::now();
            p.results[q] = Ids(collection->Search(request));
            p.latencies_us[q] = bench::Seconds(t) * 1e6;
          }
        });
      }
      for (auto& w : workers)
        w.join();
      p.seconds = bench::Seconds(t0);
      return p;
    });
    bench::PrintSearch(name, "tessera-engine", "2 threads", ef, queries.n, pass, gt);
  }
  collection->Drop();
  collection.reset();
  std::filesystem::remove_all(dir);
  return 0;
}

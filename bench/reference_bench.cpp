// The references Tessera is measured against, in-process, on the same files and parameters:
//   reference_bench gt BASE QUERIES K OUT.ibin        exact L2 top-K by FAISS IndexFlatL2
//   reference_bench run NAME BASE QUERIES GT M EFC EF,EF,... THREADS
// `run` builds raw hnswlib (HierarchicalNSW, THREADS parallel inserts) and FAISS IndexHNSWFlat
// with the same M and ef_construct, then searches one query at a time on one thread at each ef,
// and brute force (FAISS IndexFlatL2) one at a time and as one batch on every thread: the
// memory-bandwidth ceiling. Prints one JSON line per measurement. Raw hnswlib comes through
// bench/hnswlib_index.h, as in engine_bench.

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <omp.h>

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>

#include "bench/bench_data.h"
#include "bench/hnswlib_index.h"

namespace {

using Clock = std::chrono::steady_clock;

// Runs `search(q, &ids)` for every query, timing each (fastest of bench::Rounds() passes);
// prints one result line.
template <typename Search>
void Sweep(const char* dataset, const char* system, int ef, const bench::Matrix& queries,
           const bench::GroundTruth& gt, Search search) {
  const bench::Pass pass = bench::Fastest([&] {
    bench::Pass p{0, std::vector<double>(queries.n), std::vector<std::vector<int64_t>>(queries.n)};
    const auto start = Clock::now();
    for (uint32_t q = 0; q < queries.n; ++q) {
      const auto t = Clock::now();
      search(q, &p.results[q]);
      p.latencies_us[q] = bench::Seconds(t) * 1e6;
    }
    p.seconds = bench::Seconds(start);
    return p;
  });
  bench::PrintSearch(dataset, system, "1 thread", ef, queries.n, pass, gt);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "gt" && argc == 6) {
    const bench::Matrix base = bench::ReadFbin(argv[2]);
    const bench::Matrix queries = bench::ReadFbin(argv[3]);
    const int k = std::atoi(argv[4]);
    faiss::IndexFlatL2 flat(base.dim);
    flat.add(base.n, base.data.data());
    std::vector<float> distances(size_t{queries.n} * k);
    std::vector<faiss::Index::idx_t> labels(size_t{queries.n} * k);
    flat.search(queries.n, queries.data.data(), k, distances.data(), labels.data());
    bench::GroundTruth gt{queries.n, static_cast<uint32_t>(k), {}};
    gt.ids.assign(labels.begin(), labels.end());
    bench::WriteIbin(argv[5], gt);
    return 0;
  }
  if (mode != "run" || argc != 10) {
    std::fprintf(stderr,
                 "usage: reference_bench gt BASE QUERIES K OUT.ibin\n"
                 "       reference_bench run NAME BASE QUERIES GT M EFC EF,EF,... THREADS\n");
    return 2;
  }
  const char* name = argv[2];
  const bench::Matrix base = bench::ReadFbin(argv[3]);
  const bench::Matrix queries = bench::ReadFbin(argv[4]);
  const bench::GroundTruth gt = bench::ReadIbin(argv[5]);
  const int m = std::atoi(argv[6]);
  const int efc = std::atoi(argv[7]);
  const std::vector<int> efs = bench::ParseList(argv[8]);
  const int threads = std::atoi(argv[9]);
  const size_t dim = base.dim;

  {  // raw hnswlib: built Rounds() times, the fastest build reported (as for every system)
    std::unique_ptr<bench::HnswlibIndex> built;
    double build = 0;
    uint64_t index_bytes = 0;
    for (int round = 0; round < bench::Rounds(); ++round) {
      built.reset();
      const uint64_t rss_before = bench::RssBytes();
      auto fresh = std::make_unique<bench::HnswlibIndex>(base.n, dim, m, efc);
      const auto start = Clock::now();
      fresh->AddAll(base.data.data(), base.n, threads);
      const double seconds = bench::Seconds(start);
      if (round == 0) {
        index_bytes = bench::RssBytes() - rss_before;  // the first build's: a clean heap
      }
      build = round == 0 ? seconds : std::min(build, seconds);
      built = std::move(fresh);
    }
    bench::HnswlibIndex& index = *built;
    std::printf(
        "{\"kind\":\"build\",\"dataset\":\"%s\",\"system\":\"hnswlib\",\"seconds\":%.3f,"
        "\"index_bytes\":%llu,\"points\":%u,\"dim\":%zu,\"rounds\":%d}\n",
        name, build, static_cast<unsigned long long>(index_bytes), base.n, dim, bench::Rounds());
    std::fflush(stdout);
    for (int ef : efs) {
      Sweep(name, "hnswlib", ef, queries, gt, [&](uint32_t q, std::vector<int64_t>* ids) {
        index.Search(queries.row(q), 10, static_cast<size_t>(ef), ids);
      });
    }
  }
  // FAISS HNSW (its own threads for the build; one thread per query for search); skipped with
  // BENCH_SKIP_FAISS_HNSW=1 (the scale run: its build would take longer than the rest).
  if (const char* skip = std::getenv("BENCH_SKIP_FAISS_HNSW"); skip == nullptr || *skip != '1') {
    omp_set_num_threads(threads);
    faiss::IndexHNSWFlat index(static_cast<int>(dim), m);
    index.hnsw.efConstruction = efc;
    const auto start = Clock::now();
    index.add(base.n, base.data.data());
    std::printf(
        "{\"kind\":\"build\",\"dataset\":\"%s\",\"system\":\"faiss-hnsw\",\"seconds\":%.3f}\n",
        name, bench::Seconds(start));
    omp_set_num_threads(1);  // per-query latency: no OpenMP fan-out for one query
    for (int ef : efs) {
      index.hnsw.efSearch = ef;  // Debian's FAISS ignores SearchParametersHNSW here
      std::vector<float> distances(10);
      std::vector<faiss::Index::idx_t> labels(10);
      Sweep(name, "faiss-hnsw", ef, queries, gt, [&](uint32_t q, std::vector<int64_t>* ids) {
        index.search(1, queries.row(q), 10, distances.data(), labels.data());
        ids->assign(labels.begin(), labels.end());
      });
    }
  }
  {  // brute force: the exact ceiling, bound by memory bandwidth
    faiss::IndexFlatL2 flat(static_cast<int>(dim));
    flat.add(base.n, base.data.data());
    omp_set_num_threads(1);
    std::vector<float> distances(size_t{queries.n} * 10);
    std::vector<faiss::Index::idx_t> labels(size_t{queries.n} * 10);
    Sweep(name, "faiss-flat", 0, queries, gt, [&](uint32_t q, std::vector<int64_t>* ids) {
      flat.search(1, queries.row(q), 10, distances.data(), labels.data());
      ids->assign(labels.begin(), labels.begin() + 10);
    });
    omp_set_num_threads(threads);
    const auto start = Clock::now();
    flat.search(queries.n, queries.data.data(), 10, distances.data(), labels.data());
    const double elapsed = bench::Seconds(start);
    const double bytes = static_cast<double>(base.n) * dim * sizeof(float);
    std::printf(
        "{\"kind\":\"bruteforce\",\"dataset\":\"%s\",\"threads\":%d,\"qps\":%.1f,"
        "\"scan_gb_per_s\":%.2f}\n",
        name, threads, queries.n / elapsed,
        bytes * (static_cast<double>(queries.n) / elapsed) / 1e9);
  }
  return 0;
}

// Micro-benchmarks (Google Benchmark): distance kernels per metric and dimension, JSON
// decoding of an upsert body (1000 points x 768 floats), and HNSW search at several `ef`,
// ours (index/hnsw_graph: hnswlib's graph, our search loop) next to FAISS IndexHNSWFlat built
// with the same m / ef_construction in the same run. Run: build/bench/micro_bench.

#include <memory>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <faiss/IndexHNSW.h>

#include "api/json_util.h"
#include "api/points_codec.h"
#include "index/hnsw_graph.h"
#include "index/metric.h"

namespace {

using tessera::index::Metric;

std::vector<float> Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0, 1);
  std::vector<float> v(n);
  for (float& x : v) {
    x = g(rng);
  }
  return v;
}

void BM_Distance(benchmark::State& state) {
  const auto metric = static_cast<Metric>(state.range(0));
  const size_t dim = static_cast<size_t>(state.range(1));
  const auto a = Random(dim, 1), b = Random(dim, 2);
  for (auto _ : state) {
    benchmark::DoNotOptimize(tessera::index::Distance(metric, a.data(), b.data(), dim));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Distance)->ArgsProduct({{0, 2, 3}, {128, 768, 1536}});

// Arg 0: the DOM path (ParseJsonBody + ParseUpsert); 1: ParseUpsertText, the upload path.
void BM_DecodeUpsertBody(benchmark::State& state) {
  const auto values = Random(1000 * 768, 3);
  std::string body = "{\"points\":[";
  for (size_t i = 0; i < 1000; ++i) {
    body += (i ? ",{\"id\":" : "{\"id\":") + std::to_string(i) + ",\"vector\":[";
    for (size_t d = 0; d < 768; ++d) {
      body += (d ? "," : "") + std::to_string(values[i * 768 + d]);
    }
    body += "],\"payload\":{\"i\":" + std::to_string(i) + "}}";
  }
  body += "]}";
  const bool text = state.range(0) == 1;
  for (auto _ : state) {
    if (text) {
      auto op = tessera::api::ParseUpsertText(body);
      if (!op) {
        state.SkipWithError("ParseUpsertText gave up");
        break;
      }
      benchmark::DoNotOptimize(op);
    } else {
      auto json = tessera::api::ParseJsonBody(body);
      auto op = tessera::api::ParseUpsert(*json);
      benchmark::DoNotOptimize(op);
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
  state.counters["points/s"] = benchmark::Counter(1000.0 * static_cast<double>(state.iterations()),
                                                  benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecodeUpsertBody)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

constexpr size_t kN = 20000, kDim = 128, kQueries = 256;
struct Fixture {
  std::vector<float> data = Random(kN * kDim, 4);
  std::vector<float> queries = Random(kQueries * kDim, 5);
  tessera::index::DenseStorage storage =
      tessera::index::DenseStorage::FromMatrix(Metric::kEuclid, kDim, data);
  std::unique_ptr<tessera::index::HnswGraph> ours;
  std::unique_ptr<faiss::IndexHNSWFlat> faiss_index;
  Fixture() {
    ours = std::move(tessera::index::HnswGraph::Build({.m = 16, .ef_construct = 100}, storage, 2,
                                                      {}))
               .value();
    faiss_index = std::make_unique<faiss::IndexHNSWFlat>(kDim, 16);
    faiss_index->hnsw.efConstruction = 100;
    faiss_index->add(kN, data.data());
  }
};
Fixture& F() {
  static Fixture f;
  return f;
}

void BM_HnswSearchOurs(benchmark::State& state) {
  Fixture& f = F();
  const size_t ef = static_cast<size_t>(state.range(0));
  size_t q = 0;
  for (auto _ : state) {
    const tessera::index::DenseScorer score(
        f.storage, std::span<const float>(f.queries.data() + (q++ % kQueries) * kDim, kDim));
    auto hits = f.ours->Search(score, 10, ef, {});
    benchmark::DoNotOptimize(hits);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HnswSearchOurs)->Arg(16)->Arg(64)->Arg(128)->Arg(256);

void BM_HnswSearchFaiss(benchmark::State& state) {
  Fixture& f = F();
  faiss::SearchParametersHNSW params;
  params.efSearch = static_cast<int>(state.range(0));
  std::vector<float> distances(10);
  std::vector<faiss::Index::idx_t> labels(10);
  size_t q = 0;
  for (auto _ : state) {
    f.faiss_index->search(1, f.queries.data() + (q++ % kQueries) * kDim, 10, distances.data(),
                          labels.data(), &params);
    benchmark::DoNotOptimize(labels);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HnswSearchFaiss)->Arg(16)->Arg(64)->Arg(128)->Arg(256);

}  // namespace

BENCHMARK_MAIN();

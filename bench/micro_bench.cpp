// Micro-benchmarks (Google Benchmark): distance kernels per metric and dimension, JSON
// decoding of an upsert body (1000 points x 768 floats), and HNSW search at several `ef`,
// ours (index/hnsw_graph: hnswlib's graph, our search loop) next to FAISS IndexHNSWFlat built
// with the same m / ef_construction in the same run; sparse search (index/sparse_vector_index:
// term-at-a-time over the inverted index) next to a brute-force sparse dot product over the
// same vectors, on #19's corpus: 100,000 documents of about 100 non-zeros drawn Zipf over a
// 30,000-term vocabulary (seeded), queries of 5 and 30 terms from the same law; and exact MaxSim
// over 10,000 multivectors of 32 x 128; and an appendable segment of 20,000 points taking one
// payload write before each indexed filter (the indexes follow writes, #17). Run:
// build/bench/micro_bench.

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <faiss/IndexHNSW.h>

#include "api/json_util.h"
#include "api/points_codec.h"
#include "engine/collection_config.h"
#include "engine/indexed_filter.h"
#include "engine/segment.h"
#include "index/hnsw_graph.h"
#include "index/metric.h"
#include "index/multi_dense_storage.h"
#include "index/sparse_vector_index.h"

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

// ---- sparse vectors ----

// Unique terms drawn from a Zipf law (s = 1) over `vocab` terms, with uniform weights.
struct ZipfTerms {
  explicit ZipfTerms(size_t vocab) : cdf(vocab) {
    double sum = 0;
    for (size_t r = 0; r < vocab; ++r) {
      sum += 1.0 / static_cast<double>(r + 1);
      cdf[r] = sum;
    }
    for (double& c : cdf) {
      c /= sum;
    }
  }
  void Draw(std::mt19937& rng, size_t n, std::vector<uint32_t>* indices,
            std::vector<float>* values) const {
    std::uniform_real_distribution<double> u(0, 1);
    std::uniform_real_distribution<float> w(0.1f, 1.0f);
    std::set<uint32_t> picked;
    while (picked.size() < n) {
      picked.insert(static_cast<uint32_t>(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) -
                                          cdf.begin()));
    }
    indices->assign(picked.begin(), picked.end());
    values->resize(n);
    for (float& v : *values) {
      v = w(rng);
    }
  }
  std::vector<double> cdf;
};

const tessera::index::SparseVectorIndex& SparseCorpus() {
  static const auto* index = [] {
    auto* out = new tessera::index::SparseVectorIndex();
    const ZipfTerms terms(30000);
    std::mt19937 rng(19);
    std::normal_distribution<double> nnz(100, 20);
    std::vector<uint32_t> indices;
    std::vector<float> values;
    out->Reserve(100000);
    for (uint32_t o = 0; o < 100000; ++o) {
      out->Append();
      terms.Draw(rng, static_cast<size_t>(std::clamp(nnz(rng), 10.0, 300.0)), &indices, &values);
      out->Set(o, indices, values);
    }
    return out;
  }();
  return *index;
}

struct SparseQueries {
  std::vector<std::vector<uint32_t>> indices;
  std::vector<std::vector<float>> values;
};

SparseQueries MakeSparseQueries(size_t terms_per_query) {
  const ZipfTerms terms(30000);
  std::mt19937 rng(static_cast<uint32_t>(7 + terms_per_query));
  SparseQueries q;
  q.indices.resize(64);
  q.values.resize(64);
  for (size_t i = 0; i < 64; ++i) {
    terms.Draw(rng, terms_per_query, &q.indices[i], &q.values[i]);
  }
  return q;
}

void BM_SparseSearchIndex(benchmark::State& state) {
  const auto& index = SparseCorpus();
  const SparseQueries q = MakeSparseQueries(static_cast<size_t>(state.range(0)));
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ % q.indices.size();
    benchmark::DoNotOptimize(index.Search({q.indices[k], q.values[k]}, 10, {}));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SparseSearchIndex)->Arg(5)->Arg(30)->Unit(benchmark::kMicrosecond);

// Brute force: every document's dot product with the query (a merge of sorted indices), top 10.
void BM_SparseSearchBruteForce(benchmark::State& state) {
  const auto& index = SparseCorpus();
  const SparseQueries q = MakeSparseQueries(static_cast<size_t>(state.range(0)));
  std::vector<tessera::index::Offset> all(index.size());
  for (size_t o = 0; o < all.size(); ++o) {
    all[o] = static_cast<tessera::index::Offset>(o);
  }
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ % q.indices.size();
    benchmark::DoNotOptimize(index.SearchAmong({q.indices[k], q.values[k]}, 10, all, {}));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SparseSearchBruteForce)->Arg(5)->Arg(30)->Unit(benchmark::kMicrosecond);

// ---- multivectors: exact MaxSim over 10,000 points of 32 x 128 ----

void BM_MultiVectorMaxSim(benchmark::State& state) {
  constexpr size_t kDim = 128, kRows = 32, kPoints = 10000;
  static const auto* storage = [] {
    auto* s = new tessera::index::MultiDenseStorage(Metric::kDot, kDim);
    s->Reserve(kPoints);
    for (uint32_t o = 0; o < kPoints; ++o) {
      s->Append();
      s->Set(o, Random(kRows * kDim, 100 + o));
    }
    return s;
  }();
  const auto query = Random(kRows * kDim, 5);
  for (auto _ : state) {
    benchmark::DoNotOptimize(storage->ExactSearch(query, 10, {}));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MultiVectorMaxSim)->Unit(benchmark::kMillisecond);

// One set_payload on an appendable segment of 20,000 points, then the keyword index's answer
// to a 2% match: what a collection being written to while it is queried pays per query.
void BM_AppendableWriteThenIndexedFilter(benchmark::State& state) {
  using namespace tessera::engine;
  constexpr uint64_t kPoints = 20000;
  CollectionConfig config;
  config.vectors[""] = VectorParams{.size = 2, .distance = Distance::kDot};
  config.payload_indexes["k"] = PayloadIndexInfo{};
  Segment segment(1, SpecsFor(config));
  for (uint64_t i = 0; i < kPoints; ++i) {
    segment.Put(PointId::Num(i), i + 1, {{"", DenseVector{1, 0}}},
                boost::json::object{{"k", "k" + std::to_string(i % 50)}, {"n", i}});
  }
  Filter filter;
  filter.must.push_back(FieldCondition{.key = "k", .match = MatchValue{std::string("k3")}});
  std::mt19937 rng(7);
  for (auto _ : state) {
    const Offset o = rng() % kPoints;
    segment.EditPayload(o, [&](boost::json::object& p) { p["k"] = "k" + std::to_string(rng() % 50); });
    benchmark::DoNotOptimize(IndexedCandidatesFor(filter, segment, config)->offsets.cardinality());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AppendableWriteThenIndexedFilter)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "common/coding.h"
#include "common/crc32c.h"
#include "common/file.h"
#include "index/dense_storage.h"
#include "index/exact_search.h"
#include "index/hnsw_graph.h"
#include "tests/unit/temp_dir.h"

namespace tessera::index {
namespace {

using testing::TempDir;

// Clustered data: HNSW behaves on it as on real embeddings (uniform noise would not).
std::vector<float> Clustered(size_t n, size_t dim, uint32_t seed, bool normalise) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss(0, 1);
  const size_t clusters = 20;
  std::vector<float> centres(clusters * dim);
  for (float& c : centres) {
    c = gauss(rng) * 3;
  }
  std::vector<float> out(n * dim);
  for (size_t i = 0; i < n; ++i) {
    const size_t c = rng() % clusters;
    double norm = 0;
    for (size_t d = 0; d < dim; ++d) {
      out[i * dim + d] = centres[c * dim + d] + gauss(rng);
      norm += out[i * dim + d] * out[i * dim + d];
    }
    if (normalise) {
      for (size_t d = 0; d < dim; ++d) {
        out[i * dim + d] /= static_cast<float>(std::sqrt(norm));
      }
    }
  }
  return out;
}

std::set<Offset> Offsets(const std::vector<Hit>& hits) {
  std::set<Offset> out;
  for (const Hit& h : hits) {
    out.insert(h.offset);
  }
  return out;
}

TEST(MetricTest, ScoresFollowQdrantConventions) {
  const float a[] = {1, 0, 0};
  const float b[] = {0, 1, 0};
  const float c[] = {3, 4, 0};
  EXPECT_FLOAT_EQ(ScoreFromDistance(Metric::kCosine, Distance(Metric::kCosine, a, a, 3)), 1.0f);
  EXPECT_FLOAT_EQ(ScoreFromDistance(Metric::kCosine, Distance(Metric::kCosine, a, b, 3)), 0.0f);
  EXPECT_FLOAT_EQ(ScoreFromDistance(Metric::kDot, Distance(Metric::kDot, a, c, 3)), 3.0f);
  EXPECT_FLOAT_EQ(ScoreFromDistance(Metric::kEuclid, Distance(Metric::kEuclid, b, c, 3)),
                  std::sqrt(9.0f + 9.0f));
  EXPECT_FLOAT_EQ(ScoreFromDistance(Metric::kManhattan, Distance(Metric::kManhattan, a, c, 3)),
                  2.0f + 4.0f);
  EXPECT_TRUE(HigherIsBetter(Metric::kDot));
  EXPECT_FALSE(HigherIsBetter(Metric::kEuclid));
}

// The kernels sum in blocks of 32 and 16 floats and a scalar tail: every length from 0 to 100
// must agree with a plain double-precision sum.
TEST(MetricTest, DistanceMatchesAPlainSumAtEveryLength) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> value(-2, 2);
  for (size_t dim = 0; dim <= 100; ++dim) {
    std::vector<float> a(dim), b(dim);
    for (size_t i = 0; i < dim; ++i) {
      a[i] = value(rng);
      b[i] = value(rng);
    }
    double dot = 0, l2 = 0, l1 = 0;
    for (size_t i = 0; i < dim; ++i) {
      dot += double{a[i]} * b[i];
      l2 += (double{a[i]} - b[i]) * (double{a[i]} - b[i]);
      l1 += std::fabs(double{a[i]} - b[i]);
    }
    const double tolerance = 1e-5 * (1.0 + static_cast<double>(dim));
    EXPECT_NEAR(Distance(Metric::kDot, a.data(), b.data(), dim), -dot, tolerance) << dim;
    // A Dot score is the similarity to the last bit (Qdrant reports the product itself).
    EXPECT_EQ(ScoreFromDistance(Metric::kDot, Distance(Metric::kDot, a.data(), b.data(), dim)),
              Similarity(Metric::kDot, a.data(), b.data(), dim))
        << dim;
    EXPECT_NEAR(Distance(Metric::kEuclid, a.data(), b.data(), dim), l2, tolerance) << dim;
    EXPECT_NEAR(Distance(Metric::kManhattan, a.data(), b.data(), dim), l1, tolerance) << dim;
    EXPECT_EQ(DistanceFunction(Metric::kCosine)(a.data(), b.data(), dim),
              Distance(Metric::kDot, a.data(), b.data(), dim));
  }
}

TEST(ExactSearchTest, MatchesASortOfAllDistancesAndHonoursAccept) {
  const size_t dim = 8;
  const auto data = Clustered(500, dim, 1, false);
  const auto queries = Clustered(20, dim, 2, false);
  for (Metric metric : {Metric::kDot, Metric::kEuclid, Metric::kManhattan}) {
    for (size_t q = 0; q < 20; ++q) {
      std::span<const float> query(queries.data() + q * dim, dim);
      auto accept = [](Offset o) { return o % 3 != 0; };
      const auto hits = ExactSearch(metric, data, dim, query, 10, accept);
      std::vector<Hit> all;
      for (Offset o = 0; o < 500; ++o) {
        if (accept(o)) {
          all.push_back({o, Distance(metric, query.data(), data.data() + o * dim, dim)});
        }
      }
      std::sort(all.begin(), all.end(), [](const Hit& a, const Hit& b) {
        return a.distance < b.distance || (a.distance == b.distance && a.offset < b.offset);
      });
      all.resize(10);
      EXPECT_EQ(hits, all);
    }
  }
}

// A storage over a matrix and a graph over the storage, as a segment holds them.
struct Indexed {
  DenseStorage storage;
  std::unique_ptr<HnswGraph> graph;
  Indexed(Metric metric, size_t dim, const std::vector<float>& data, const HnswParams& params,
          size_t threads, const AcceptFn& accept = {})
      : storage(DenseStorage::FromMatrix(metric, dim, data)),
        graph(std::move(HnswGraph::Build(params, storage, threads, accept)).value()) {}
  std::vector<Hit> Search(std::span<const float> query, size_t k, size_t ef,
                          const AcceptFn& accept, const HnswGraph* other = nullptr,
                          bool two_hop = false) const {
    return (other != nullptr ? *other : *graph)
        .Search(DenseScorer(storage, query), k, ef, accept, two_hop);
  }
};

double Recall(const Indexed& index, const std::vector<float>& data,
              const std::vector<float>& queries, size_t dim, Metric metric, size_t ef,
              const AcceptFn& accept, const HnswGraph* graph = nullptr, bool two_hop = false) {
  size_t found = 0, total = 0;
  for (size_t q = 0; q < queries.size() / dim; ++q) {
    std::span<const float> query(queries.data() + q * dim, dim);
    const auto truth = Offsets(ExactSearch(metric, data, dim, query, 10, accept));
    const auto hits = index.Search(query, 10, ef, accept, graph, two_hop);
    for (const Hit& h : hits) {
      EXPECT_TRUE(!accept || accept(h.offset)) << "returned a rejected point";
      found += truth.count(h.offset);
    }
    total += truth.size();
  }
  return static_cast<double>(found) / static_cast<double>(total);
}

TEST(DenseStorageTest, RowsReadBackPaddedAndAbsentRowsAreSkipped) {
  const size_t dim = 20;  // padded to 32 floats
  const auto data = Clustered(100, dim, 21, false);
  DenseStorage s(Metric::kEuclid, dim);
  EXPECT_EQ(s.row_floats(), 32u);
  for (size_t i = 0; i < 100; ++i) {
    s.Append();  // grows by doubling: earlier rows must survive every growth
    if (i % 4 != 0) {
      s.Set(static_cast<Offset>(i), std::span<const float>(data).subspan(i * dim, dim));
    }
  }
  s.Clear(5);
  for (Offset o = 0; o < 100; ++o) {
    const bool present = o % 4 != 0 && o != 5;
    ASSERT_EQ(s.has(o), present) << o;
    if (present) {
      EXPECT_TRUE(std::equal(data.begin() + o * dim, data.begin() + (o + 1) * dim,
                             s.Get(o).begin()));
      EXPECT_TRUE(std::all_of(s.row(o) + dim, s.row(o) + 32, [](float x) { return x == 0; }));
    } else {
      EXPECT_TRUE(s.Get(o).empty());
    }
  }
  // Exact search skips absent rows and agrees with the matrix scan over the present ones.
  const auto query = Clustered(1, dim, 22, false);
  auto present = [](Offset o) { return o % 4 != 0 && o != 5; };
  EXPECT_EQ(Offsets(s.ExactSearch(query, 10, {})),
            Offsets(ExactSearch(Metric::kEuclid, data, dim, query, 10, present)));
  // Encoded and decoded: the same rows.
  std::string bytes;
  s.EncodeTo(&bytes);
  ASSERT_EQ(bytes.size(), 100 + 100 * dim * sizeof(float));
  DenseStorage t(Metric::kEuclid, dim);
  ASSERT_TRUE(t.DecodeFrom(100, std::string_view(bytes).substr(0, 100),
                           std::string_view(bytes).substr(100)));
  for (Offset o = 0; o < 100; ++o) {
    ASSERT_EQ(t.has(o), s.has(o));
    EXPECT_TRUE(std::equal(s.row(o), s.row(o) + 32, t.row(o)));
  }
  EXPECT_FALSE(t.DecodeFrom(100, std::string_view(bytes).substr(0, 99),
                            std::string_view(bytes).substr(100)));
}

TEST(HnswGraphTest, RecallAgainstExactSearchForEveryMetric) {
  const size_t dim = 16, n = 3000;
  for (Metric metric : {Metric::kCosine, Metric::kDot, Metric::kEuclid, Metric::kManhattan}) {
    const bool unit = metric == Metric::kCosine;
    const auto data = Clustered(n, dim, 3, unit);
    const auto queries = Clustered(50, dim, 4, unit);
    const Indexed index(metric, dim, data, {}, 2);
    EXPECT_EQ(index.graph->size(), n);
    const double recall64 = Recall(index, data, queries, dim, metric, 64, {});
    const double recall256 = Recall(index, data, queries, dim, metric, 256, {});
    std::printf("metric %d: recall@10 %.3f at ef=64, %.3f at ef=256\n", static_cast<int>(metric),
                recall64, recall256);
    // Inner product on unnormalised vectors is not a metric, and HNSW finds it harder.
    EXPECT_GE(recall64, metric == Metric::kDot ? 0.85 : 0.9)
        << "metric " << static_cast<int>(metric);
    EXPECT_GE(recall256, metric == Metric::kDot ? 0.9 : 0.97)
        << "metric " << static_cast<int>(metric);
  }
}

TEST(HnswGraphTest, FilteredSearchNeverReturnsARejectedPoint) {
  const size_t dim = 16, n = 3000;
  const auto data = Clustered(n, dim, 5, false);
  const auto queries = Clustered(50, dim, 6, false);
  const Indexed index(Metric::kEuclid, dim, data, {}, 2);
  for (int keep_every : {2, 10}) {
    auto accept = [keep_every](Offset o) { return o % keep_every == 0; };
    EXPECT_GE(Recall(index, data, queries, dim, Metric::kEuclid, 128, accept), 0.9)
        << "1/" << keep_every << " accepted";
  }
}

// The two-hop walk (ACORN-1, params.acorn) scores only accepted points and bridges through
// rejected ones: it finds the filtered neighbours of restrictive filters, never returns a
// rejected point, and without a filter is the plain walk.
TEST(HnswGraphTest, TwoHopWalkFindsTheNeighboursOfARestrictiveFilter) {
  const size_t dim = 16, n = 5000;
  const auto data = Clustered(n, dim, 7, false);
  const auto queries = Clustered(50, dim, 8, false);
  const Indexed index(Metric::kEuclid, dim, data, {}, 2);
  // (On this clustered set a 1/50 filter leaves clusters whose accepted points no two-hop path
  // joins: ACORN-1 reaches about two thirds of the answers there, the plain walk all of them.)
  for (int keep_every : {3, 10, 20}) {
    auto accept = [keep_every](Offset o) { return o % keep_every == 0; };
    const double recall =
        Recall(index, data, queries, dim, Metric::kEuclid, 128, accept, nullptr, true);
    std::printf("two-hop walk, 1/%d accepted: recall@10 %.3f at ef=128\n", keep_every, recall);
    EXPECT_GE(recall, 0.9) << "1/" << keep_every << " accepted";
  }
  for (size_t q = 0; q < 10; ++q) {
    std::span<const float> query(queries.data() + q * dim, dim);
    EXPECT_EQ(Offsets(index.Search(query, 10, 64, {}, nullptr, true)),
              Offsets(index.Search(query, 10, 64, {}, nullptr, false)));
  }
}

// Rows left out of the graph (no vector, or rejected at build) are nodes no walk reaches.
TEST(HnswGraphTest, RowsLeftOutOfTheGraphAreNeverReturned) {
  const size_t dim = 8, n = 1000;
  const auto data = Clustered(n, dim, 23, false);
  const Indexed index(Metric::kEuclid, dim, data, {.m = 8}, 2, [](Offset o) { return o % 3 != 0; });
  EXPECT_EQ(index.graph->size(), n - (n + 2) / 3);
  EXPECT_EQ(index.graph->rows(), n);
  for (size_t q = 0; q < 20; ++q) {
    std::span<const float> query(data.data() + q * 3 * dim, dim);  // a left-out row itself
    for (const Hit& h : index.Search(query, 10, n, {})) {
      EXPECT_NE(h.offset % 3, 0u) << h.offset;
    }
  }
}

// A graph grown from another one (a merge of segments): the old nodes keep their links under
// their new rows, the gone ones are dropped and their neighbours healed, the new rows are
// inserted; recall is that of a graph built from nothing. A seed missing too much, or built
// with another m, is not used.
TEST(HnswGraphTest, AGraphGrownFromASeedSearchesLikeOneBuiltFromNothing) {
  const size_t dim = 16, n_old = 3000, n_new = 1000;
  const auto all = Clustered(n_old + n_new, dim, 31, false);
  const auto queries = Clustered(200, dim, 32, false);
  const std::vector<float> old_data(all.begin(), all.begin() + n_old * dim);
  const Indexed old_index(Metric::kEuclid, dim, old_data, {}, 1);  // 1 thread: deterministic
  // The new storage: the new rows first, then the old ones but every 10th, so that every kept
  // node moves to another row.
  for (size_t gone_every : {size_t{100000}, size_t{10}, size_t{2}}) {
    std::vector<float> data(all.begin() + n_old * dim, all.end());
    HnswSeed seed{.graph = old_index.graph.get(), .row_of = {}};
    for (size_t i = 0; i < n_old; ++i) {
      if (i % gone_every == 0) {
        seed.row_of.push_back(HnswSeed::kNoRow);
        continue;
      }
      seed.row_of.push_back(static_cast<Offset>(data.size() / dim));
      data.insert(data.end(), old_data.begin() + i * dim, old_data.begin() + (i + 1) * dim);
    }
    const size_t rows = data.size() / dim;
    const DenseStorage storage = DenseStorage::FromMatrix(Metric::kEuclid, dim, data);
    HnswBuildStats stats;
    auto grown = HnswGraph::Build({}, storage, 1, {}, &seed, &stats);
    ASSERT_TRUE(grown.ok()) << grown.status().ToString();
    EXPECT_EQ((*grown)->size(), rows);
    const Indexed scratch(Metric::kEuclid, dim, data, {}, 1);
    const double recall_grown = Recall(scratch, data, queries, dim, Metric::kEuclid, 64, {},
                                       grown->get());
    const double recall_scratch = Recall(scratch, data, queries, dim, Metric::kEuclid, 64, {});
    std::printf("1/%zu gone: reused %zu, healed %zu, inserted %zu; recall@10 at ef=64 %.3f "
                "(from nothing %.3f)\n",
                gone_every, stats.reused, stats.healed, stats.inserted, recall_grown,
                recall_scratch);
    EXPECT_GE(recall_grown, recall_scratch - 0.03);
    if (gone_every != 2) {  // one node or 10% gone: the seed is used
      EXPECT_EQ(stats.reused, n_old - (n_old + gone_every - 1) / gone_every);
      EXPECT_GT(stats.healed, 0u);
      EXPECT_EQ(stats.inserted, n_new);
    } else {  // 50% gone, over max_missing: built from nothing
      EXPECT_EQ(stats.reused, 0u);
      EXPECT_EQ(stats.inserted, rows);
    }
  }
  // Another m: not used.
  HnswSeed seed{.graph = old_index.graph.get(), .row_of = {}};
  for (size_t i = 0; i < n_old; ++i) {
    seed.row_of.push_back(static_cast<Offset>(i));
  }
  const DenseStorage storage = DenseStorage::FromMatrix(Metric::kEuclid, dim, old_data);
  HnswBuildStats stats;
  ASSERT_TRUE(HnswGraph::Build({.m = 8}, storage, 2, {}, &seed, &stats).ok());
  EXPECT_EQ(stats.reused, 0u);
  EXPECT_EQ(stats.inserted, n_old);
  // The same m and every node kept: all reused, nothing healed or inserted.
  ASSERT_TRUE(HnswGraph::Build({}, storage, 2, {}, &seed, &stats).ok());
  EXPECT_EQ(stats.reused, n_old);
  EXPECT_EQ(stats.healed, 0u);
  EXPECT_EQ(stats.inserted, 0u);
}

TEST(HnswGraphTest, SaveAndLoadGiveTheSameResults) {
  TempDir dir;
  const size_t dim = 8, n = 1000;  // rows padded to 16 floats in memory
  const auto data = Clustered(n, dim, 7, false);
  const Indexed index(Metric::kDot, dim, data, {.m = 8}, 1, [](Offset o) { return o != 5; });
  Result<uint32_t> crc = index.graph->SaveTo(dir.path() / "g.hnsw");
  ASSERT_TRUE(crc.ok()) << crc.status().ToString();
  auto loaded = HnswGraph::Load(dir.path() / "g.hnsw", Metric::kDot, dim, *crc, n);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->size(), n - 1);
  for (size_t q = 0; q < 10; ++q) {
    std::span<const float> query(data.data() + q * dim, dim);
    EXPECT_EQ(index.Search(query, 5, 32, {}, loaded->get()), index.Search(query, 5, 32, {}));
  }
  const auto file = dir.path() / "g.hnsw";
  EXPECT_EQ(HnswGraph::Load(file, Metric::kDot, dim, *crc + 1, n).status().code(),
            Code::kCorruption);
  EXPECT_EQ(HnswGraph::Load(file, Metric::kEuclid, dim, *crc, n).status().code(),
            Code::kCorruption)
      << "a file of another metric";
  EXPECT_EQ(HnswGraph::Load(file, Metric::kDot, dim, *crc, n + 1).status().code(),
            Code::kCorruption)
      << "a file for a storage of another size";
  EXPECT_FALSE(HnswGraph::Load(dir.path() / "missing", Metric::kDot, dim, 0, n).ok());
}

// The files' grammar (hnsw_graph.cpp): ef_construct is the fixed64 at byte 44 of version 3.
constexpr size_t kEfConstructAt = 44;

// Version 2 of the file is version 3 without ef_construct.
std::string AsVersion2(const std::string& v3) {
  std::string out = v3.substr(0, kEfConstructAt) + v3.substr(kEfConstructAt + 8);
  out.replace(4, 4, std::string("\x02\0\0\0", 4));
  return out;
}

// A version 3 file with ef_construct 0, as a graph read from an older file is saved.
std::string WithUnknownEfConstruct(std::string v3) {
  v3.replace(kEfConstructAt, 8, std::string(8, '\0'));
  return v3;
}

// Version 1 of the file numbered only the points in the graph and held their vectors. Written
// here from a version 3 file by its documented grammar (hnsw_graph.cpp), over a storage with
// rows left out, so that loading must renumber every node and link by its offset.
std::string AsVersion1(const std::string& v3, const std::vector<float>& data, size_t dim) {
  Decoder d(std::string_view(v3).substr(8));  // magic, version
  uint32_t metric = 0, entry = 0, max_level = 0;
  uint64_t file_dim = 0, rows = 0, max0 = 0, max_upper = 0, ef_construct = 0;
  EXPECT_TRUE(d.GetFixed32(&metric) && d.GetFixed64(&file_dim) && d.GetFixed64(&rows) &&
              d.GetFixed64(&max0) && d.GetFixed64(&max_upper) && d.GetFixed64(&ef_construct) &&
              d.GetFixed32(&entry) && d.GetFixed32(&max_level));
  std::string_view in_graph, levels, degrees;
  EXPECT_TRUE(d.GetBytes(rows, &in_graph) && d.GetBytes(rows, &levels) &&
              d.GetBytes(rows * 4, &degrees));
  std::vector<uint32_t> compact(rows, 0), offsets;
  for (uint32_t r = 0; r < rows; ++r) {
    if (in_graph[r]) {
      compact[r] = static_cast<uint32_t>(offsets.size());
      offsets.push_back(r);
    }
  }
  std::string out = "TSHG";
  PutFixed32(&out, 1);
  PutFixed32(&out, metric);
  PutFixed64(&out, file_dim);
  PutFixed64(&out, offsets.size());
  PutFixed64(&out, max0);
  PutFixed64(&out, max_upper);
  PutFixed32(&out, compact[entry]);
  PutFixed32(&out, max_level);
  for (uint32_t o : offsets) {
    PutFixed32(&out, o);
  }
  for (uint32_t o : offsets) {
    out.push_back(levels[o]);
  }
  for (uint32_t o : offsets) {
    out.append(reinterpret_cast<const char*>(data.data() + o * dim), dim * sizeof(float));
  }
  for (uint32_t o : offsets) {
    out.append(degrees.substr(o * 4, 4));
  }
  for (uint32_t o : offsets) {
    for (uint32_t j = 0; j < DecodeFixed32(degrees.data() + o * 4); ++j) {
      uint32_t link = 0;
      EXPECT_TRUE(d.GetFixed32(&link));
      PutFixed32(&out, compact[link]);
    }
  }
  while (!d.empty()) {  // upper lists: degree, then max_upper slots
    uint32_t degree = 0;
    EXPECT_TRUE(d.GetFixed32(&degree));
    PutFixed32(&out, degree);
    for (uint64_t j = 0; j < max_upper; ++j) {
      uint32_t link = 0;
      EXPECT_TRUE(d.GetFixed32(&link));
      PutFixed32(&out, j < degree ? compact[link] : 0);
    }
  }
  return out;
}

TEST(HnswGraphTest, LoadsAVersion1FileByRenumberingItsNodes) {
  TempDir dir;
  const size_t dim = 12, n = 2000;
  const auto data = Clustered(n, dim, 31, false);
  const Indexed index(Metric::kEuclid, dim, data, {.m = 8}, 1, [](Offset o) { return o % 5 != 2; });
  ASSERT_TRUE(index.graph->SaveTo(dir.path() / "g.hnsw").ok());
  const std::string v1 = AsVersion1(ReadFileToString(dir.path() / "g.hnsw").value(), data, dim);
  ASSERT_TRUE(WriteFileAtomically(dir.path() / "v1.hnsw", v1).ok());
  auto loaded = HnswGraph::Load(dir.path() / "v1.hnsw", Metric::kEuclid, dim, crc32c::Value(v1), n);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->size(), index.graph->size());
  const auto queries = Clustered(20, dim, 32, false);
  for (size_t q = 0; q < 20; ++q) {
    std::span<const float> query(queries.data() + q * dim, dim);
    EXPECT_EQ(index.Search(query, 10, 64, {}, loaded->get()), index.Search(query, 10, 64, {}));
  }
  // Saved again, it is the file it came from, but for the ef_construct version 1 lacks.
  EXPECT_EQ((*loaded)->ef_construct(), 0u);
  ASSERT_TRUE((*loaded)->SaveTo(dir.path() / "again.hnsw").ok());
  EXPECT_EQ(ReadFileToString(dir.path() / "again.hnsw").value(),
            WithUnknownEfConstruct(ReadFileToString(dir.path() / "g.hnsw").value()));
}

TEST(HnswGraphTest, RecordsItsEfConstructAndLoadsAVersion2FileWithout) {
  TempDir dir;
  const size_t dim = 12, n = 1500;
  const auto data = Clustered(n, dim, 41, false);
  const Indexed index(Metric::kCosine, dim, data, {.m = 8, .ef_construct = 40}, 1);
  EXPECT_EQ(index.graph->m(), 8u);
  EXPECT_EQ(index.graph->ef_construct(), 40u);
  Result<uint32_t> crc = index.graph->SaveTo(dir.path() / "g.hnsw");
  ASSERT_TRUE(crc.ok());
  auto same = HnswGraph::Load(dir.path() / "g.hnsw", Metric::kCosine, dim, *crc, n);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ((*same)->ef_construct(), 40u);

  const std::string v3 = ReadFileToString(dir.path() / "g.hnsw").value();
  const std::string v2 = AsVersion2(v3);
  ASSERT_TRUE(WriteFileAtomically(dir.path() / "v2.hnsw", v2).ok());
  auto old = HnswGraph::Load(dir.path() / "v2.hnsw", Metric::kCosine, dim, crc32c::Value(v2), n);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ((*old)->ef_construct(), 0u) << "unknown";
  EXPECT_EQ((*old)->m(), 8u);
  const auto queries = Clustered(10, dim, 42, false);
  for (size_t q = 0; q < 10; ++q) {
    std::span<const float> query(queries.data() + q * dim, dim);
    EXPECT_EQ(index.Search(query, 10, 32, {}, old->get()), index.Search(query, 10, 32, {}));
  }
  ASSERT_TRUE((*old)->SaveTo(dir.path() / "again.hnsw").ok());
  EXPECT_EQ(ReadFileToString(dir.path() / "again.hnsw").value(), WithUnknownEfConstruct(v3));
}

// Collections may set any m; the file format has no cap of its own on the link slots.
TEST(HnswGraphTest, AGraphWithAVeryLargeMSavesAndLoads) {
  TempDir dir;
  const size_t dim = 4, n = 12;
  const auto data = Clustered(n, dim, 13, false);
  const Indexed index(Metric::kEuclid, dim, data, {.m = 40000}, 1);
  Result<uint32_t> crc = index.graph->SaveTo(dir.path() / "g.hnsw");
  ASSERT_TRUE(crc.ok()) << crc.status().ToString();
  auto loaded = HnswGraph::Load(dir.path() / "g.hnsw", Metric::kEuclid, dim, *crc, n);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  std::span<const float> query(data.data(), dim);
  EXPECT_EQ(index.Search(query, 5, 16, {}, loaded->get()), index.Search(query, 5, 16, {}));
  EXPECT_EQ(index.Search(query, 1, 16, {}, loaded->get())[0].offset, 0u);
}

// A file whose checksum matches but whose content is wrong (a bug, or a crafted file) must be
// refused, never walked: every link and count is checked on load.
TEST(HnswGraphTest, LoadRefusesAnInconsistentFileWithAMatchingChecksum) {
  TempDir dir;
  const size_t dim = 4, n = 300;
  const auto data = Clustered(n, dim, 8, false);
  const Indexed index(Metric::kEuclid, dim, data, {.m = 4}, 1, [](Offset o) { return o != 7; });
  ASSERT_TRUE(index.graph->SaveTo(dir.path() / "g.hnsw").ok());
  const std::string good = ReadFileToString(dir.path() / "g.hnsw").value();
  // The first level-0 link: after the 60-byte header, in_graph, levels and degrees.
  const size_t header = 60;
  const size_t first_link = header + n + n + n * 4;
  ASSERT_LT(first_link + 4, good.size());
  auto load = [&](const std::string& bytes) {
    EXPECT_TRUE(WriteFileAtomically(dir.path() / "bad.hnsw", bytes).ok());
    return HnswGraph::Load(dir.path() / "bad.hnsw", Metric::kEuclid, dim, crc32c::Value(bytes), n)
        .status()
        .code();
  };
  EXPECT_EQ(load(good), Code::kOk);
  std::string bad = good;
  bad.replace(first_link, 4, "\xff\xff\xff\x7f");  // a neighbour past the last node
  EXPECT_EQ(load(bad), Code::kCorruption);
  bad = good;
  bad.replace(first_link, 4, std::string("\x07\0\0\0", 4));  // a neighbour not in the graph
  EXPECT_EQ(load(bad), Code::kCorruption);
  bad = good;
  bad[header + n + 7] = 1;  // a level for row 7, which is not in the graph
  EXPECT_EQ(load(bad), Code::kCorruption);
  bad = good;
  bad[header + n] = static_cast<char>(200);  // a level above the graph's top level
  EXPECT_EQ(load(bad), Code::kCorruption);
  bad = good;
  bad.replace(28, 8, std::string("\x07\0\0\0\0\0\0\0", 8));  // level-0 slots: not 2 m
  EXPECT_EQ(load(bad), Code::kCorruption);
  EXPECT_EQ(load(good.substr(0, good.size() - 1)), Code::kCorruption);
  EXPECT_EQ(load(good + "x"), Code::kCorruption);
  EXPECT_EQ(load(good.substr(0, 30)), Code::kCorruption);
}

// Segments written before the frozen layout hold hnswlib's own files; they still load. The
// fixture is what the earlier SaveTo wrote: hnswlib 0.6.2's saveIndex of the 300 x 12 rows
// below, inserted in order on one thread (L2, M 16, ef_construct 100, seed 100). The rows are
// small multiples of 1/8: exact in any float code, unlike <random>'s distributions.
TEST(HnswGraphTest, LoadsAGraphFileInHnswlibsFormat) {
  const size_t dim = 12, n = 300;
  std::vector<float> data(n * dim);
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<float>((i / dim * 7919 + i % dim * 104729) % 97) / 8;
  }
  const std::filesystem::path file = std::filesystem::path(TESSERA_SOURCE_DIR) /
                                     "tests/unit/index/data/hnswlib-0.6.2-euclid-12d.hnsw";
  const std::string bytes = ReadFileToString(file).value();
  auto loaded = HnswGraph::Load(file, Metric::kEuclid, dim, crc32c::Value(bytes), n);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const HnswGraph& graph = **loaded;
  EXPECT_EQ(graph.size(), n);
  const DenseStorage storage = DenseStorage::FromMatrix(Metric::kEuclid, dim, data);
  const auto queries = Clustered(20, dim, 12, false);
  size_t found = 0;
  for (size_t q = 0; q < 20; ++q) {
    std::span<const float> query(queries.data() + q * dim, dim);
    const auto truth = Offsets(ExactSearch(Metric::kEuclid, data, dim, query, 10, {}));
    for (const Hit& h : graph.Search(DenseScorer(storage, query), 10, 32, {})) {
      found += truth.count(h.offset);
    }
    // A beam as wide as the graph walks all of it.
    EXPECT_EQ(Offsets(graph.Search(DenseScorer(storage, query), 10, n, {})), truth);
  }
  EXPECT_GE(found, 180u);
  EXPECT_EQ(HnswGraph::Load(file, Metric::kEuclid, dim + 1, crc32c::Value(bytes), n).status().code(),
            Code::kCorruption)
      << "an hnswlib file of another dimension";
  EXPECT_EQ(HnswGraph::Load(file, Metric::kEuclid, dim, crc32c::Value(bytes), n - 1).status().code(),
            Code::kCorruption)
      << "an hnswlib file with a label past the storage";
}

// Rows whose length is not a multiple of 16 floats are zero-padded for the walk; the walk's
// distances agree with exact search's, and a wide beam finds exactly its neighbours.
TEST(HnswGraphTest, PaddedRowsKeepDistancesExact) {
  const size_t dim = 20, n = 400;
  for (Metric metric : {Metric::kDot, Metric::kEuclid, Metric::kManhattan}) {
    const auto data = Clustered(n, dim, 10, false);
    const auto queries = Clustered(10, dim, 11, false);
    const Indexed index(metric, dim, data, {}, 2);
    for (size_t q = 0; q < 10; ++q) {
      std::span<const float> query(queries.data() + q * dim, dim);
      const auto truth = ExactSearch(metric, data, dim, query, 10, {});
      const auto hits = index.Search(query, 10, n, {});
      ASSERT_EQ(hits.size(), truth.size());
      for (size_t i = 0; i < hits.size(); ++i) {
        EXPECT_EQ(hits[i].offset, truth[i].offset) << "metric " << static_cast<int>(metric);
        EXPECT_NEAR(hits[i].distance, truth[i].distance,
                    1e-5 * std::max(1.0f, std::fabs(truth[i].distance)));
      }
      EXPECT_EQ(index.storage.ExactSearch(query, 10, {}), hits);
    }
  }
}

// The VmFlags of the mapping that holds `p`, from /proc/self/smaps ("" if none does).
std::string VmFlagsAt(const void* p) {
  const auto addr = reinterpret_cast<uintptr_t>(p);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> begin >> dash >> end && dash == '-') {
      inside = begin <= addr && addr < end;
    } else if (inside && line.starts_with("VmFlags:")) {
      return line + " ";
    }
  }
  return "";
}

// Vectors are read at random by every walk; a storage asks for transparent huge pages on them,
// when it grows and when it is decoded (VmFlags "hg": MADV_HUGEPAGE).
TEST(DenseStorageTest, RowsAreAdvisedOntoHugePages) {
  if (!std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled")) {
    GTEST_SKIP() << "kernel without transparent huge pages";
  }
  const size_t dim = 128, n = 5000;  // 2.5 MB of vectors: past the 2 MiB a huge page holds
  const auto data = Clustered(n, dim, 11, false);
  const DenseStorage s = DenseStorage::FromMatrix(Metric::kEuclid, dim, data);
  const float* v = s.row(n - 1);
  EXPECT_NE(VmFlagsAt(v).find(" hg "), std::string::npos) << VmFlagsAt(v);
  std::string bytes;
  s.EncodeTo(&bytes);
  DenseStorage t(Metric::kEuclid, dim);
  ASSERT_TRUE(t.DecodeFrom(n, std::string_view(bytes).substr(0, n),
                           std::string_view(bytes).substr(n)));
  const float* w = t.row(n - 1);
  EXPECT_TRUE(std::equal(v, v + dim, w));
  EXPECT_NE(VmFlagsAt(w).find(" hg "), std::string::npos) << VmFlagsAt(w);
}

TEST(HnswGraphTest, EmptyGraphAndZeroKReturnNothing) {
  const std::vector<float> q = {1, 2, 3, 4};
  const Indexed empty(Metric::kEuclid, 4, q, {}, 1, [](Offset) { return false; });
  EXPECT_EQ(empty.graph->size(), 0u);
  EXPECT_TRUE(empty.Search(q, 5, 10, {}).empty());
  const Indexed one(Metric::kEuclid, 4, q, {}, 1);
  EXPECT_TRUE(one.Search(q, 0, 10, {}).empty());
  EXPECT_EQ(one.Search(q, 5, 10, {}), (std::vector<Hit>{{0, 0.0f}}));
}

}  // namespace
}  // namespace tessera::index

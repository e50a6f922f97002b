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

#include "common/crc32c.h"
#include "common/file.h"
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
    EXPECT_NEAR(Distance(Metric::kDot, a.data(), b.data(), dim), 1.0 - dot, tolerance) << dim;
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

double Recall(const HnswGraph& graph, const std::vector<float>& data,
              const std::vector<float>& queries, size_t dim, Metric metric, size_t ef,
              const AcceptFn& accept) {
  size_t found = 0, total = 0;
  for (size_t q = 0; q < queries.size() / dim; ++q) {
    std::span<const float> query(queries.data() + q * dim, dim);
    const auto truth = Offsets(ExactSearch(metric, data, dim, query, 10, accept));
    const auto hits = graph.Search(query, 10, ef, accept);
    for (const Hit& h : hits) {
      EXPECT_TRUE(!accept || accept(h.offset)) << "returned a rejected point";
      found += truth.count(h.offset);
    }
    total += truth.size();
  }
  return static_cast<double>(found) / static_cast<double>(total);
}

TEST(HnswGraphTest, RecallAgainstExactSearchForEveryMetric) {
  const size_t dim = 16, n = 3000;
  for (Metric metric : {Metric::kCosine, Metric::kDot, Metric::kEuclid, Metric::kManhattan}) {
    const bool unit = metric == Metric::kCosine;
    const auto data = Clustered(n, dim, 3, unit);
    const auto queries = Clustered(50, dim, 4, unit);
    auto graph = std::move(HnswGraph::Build(metric, dim, {}, data, 2, {})).value();
    EXPECT_EQ(graph->size(), n);
    const double recall64 = Recall(*graph, data, queries, dim, metric, 64, {});
    const double recall256 = Recall(*graph, data, queries, dim, metric, 256, {});
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
  auto graph = std::move(HnswGraph::Build(Metric::kEuclid, dim, {}, data, 2, {})).value();
  for (int keep_every : {2, 10}) {
    auto accept = [keep_every](Offset o) { return o % keep_every == 0; };
    EXPECT_GE(Recall(*graph, data, queries, dim, Metric::kEuclid, 128, accept), 0.9)
        << "1/" << keep_every << " accepted";
  }
}

TEST(HnswGraphTest, SaveAndLoadGiveTheSameResults) {
  TempDir dir;
  const size_t dim = 8, n = 1000;  // rows padded to 16 floats in memory, not in the file
  const auto data = Clustered(n, dim, 7, false);
  auto graph = std::move(HnswGraph::Build(Metric::kDot, dim, {.m = 8}, data, 1, [](Offset o) {
                 return o != 5;
               })).value();
  EXPECT_EQ(graph->VectorOf(5), nullptr);
  ASSERT_NE(graph->VectorOf(6), nullptr);
  EXPECT_TRUE(std::equal(data.begin() + 6 * dim, data.begin() + 7 * dim, graph->VectorOf(6)));
  Result<uint32_t> crc = graph->SaveTo(dir.path() / "g.hnsw");
  ASSERT_TRUE(crc.ok()) << crc.status().ToString();
  auto loaded = HnswGraph::Load(dir.path() / "g.hnsw", Metric::kDot, dim, *crc);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->size(), n - 1);
  for (size_t q = 0; q < 10; ++q) {
    std::span<const float> query(data.data() + q * dim, dim);
    EXPECT_EQ((*loaded)->Search(query, 5, 32, {}), graph->Search(query, 5, 32, {}));
  }
  EXPECT_EQ(HnswGraph::Load(dir.path() / "g.hnsw", Metric::kDot, dim, *crc + 1).status().code(),
            Code::kCorruption);
  EXPECT_EQ(HnswGraph::Load(dir.path() / "g.hnsw", Metric::kEuclid, dim, *crc).status().code(),
            Code::kCorruption)
      << "a file of another metric";
  EXPECT_FALSE(HnswGraph::Load(dir.path() / "missing", Metric::kDot, dim, 0).ok());
}

// Collections may set any m; the file format has no cap of its own on the link slots.
TEST(HnswGraphTest, AGraphWithAVeryLargeMSavesAndLoads) {
  TempDir dir;
  const size_t dim = 4, n = 12;
  const auto data = Clustered(n, dim, 13, false);
  auto graph = std::move(HnswGraph::Build(Metric::kEuclid, dim, {.m = 40000}, data, 1, {})).value();
  Result<uint32_t> crc = graph->SaveTo(dir.path() / "g.hnsw");
  ASSERT_TRUE(crc.ok()) << crc.status().ToString();
  auto loaded = HnswGraph::Load(dir.path() / "g.hnsw", Metric::kEuclid, dim, *crc);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  std::span<const float> query(data.data(), dim);
  EXPECT_EQ((*loaded)->Search(query, 5, 16, {}), graph->Search(query, 5, 16, {}));
  EXPECT_EQ((*loaded)->Search(query, 1, 16, {})[0].offset, 0u);
}

// A file whose checksum matches but whose content is wrong (a bug, or a crafted file) must be
// refused, never walked: every link and count is checked on load.
TEST(HnswGraphTest, LoadRefusesAnInconsistentFileWithAMatchingChecksum) {
  TempDir dir;
  const size_t dim = 4, n = 300;
  const auto data = Clustered(n, dim, 8, false);
  auto graph = std::move(HnswGraph::Build(Metric::kEuclid, dim, {.m = 4}, data, 1, {})).value();
  ASSERT_TRUE(graph->SaveTo(dir.path() / "g.hnsw").ok());
  const std::string good = ReadFileToString(dir.path() / "g.hnsw").value();
  // The first level-0 link: after the 52-byte header, the offsets, levels, vectors and degrees.
  const size_t first_link = 52 + n * 4 + n + n * dim * 4 + n * 4;
  ASSERT_LT(first_link + 4, good.size());
  auto load = [&](const std::string& bytes) {
    EXPECT_TRUE(WriteFileAtomically(dir.path() / "bad.hnsw", bytes).ok());
    return HnswGraph::Load(dir.path() / "bad.hnsw", Metric::kEuclid, dim, crc32c::Value(bytes))
        .status()
        .code();
  };
  EXPECT_EQ(load(good), Code::kOk);
  std::string bad = good;
  bad.replace(first_link, 4, "\xff\xff\xff\x7f");  // a neighbour past the last node
  EXPECT_EQ(load(bad), Code::kCorruption);
  bad = good;
  bad.replace(52, 4, bad.substr(56, 4));  // offsets no longer ascending
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
  auto loaded = HnswGraph::Load(file, Metric::kEuclid, dim, crc32c::Value(bytes));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const HnswGraph& graph = **loaded;
  EXPECT_EQ(graph.size(), n);
  for (Offset o : {Offset{0}, Offset{3}, Offset{n - 1}}) {
    ASSERT_NE(graph.VectorOf(o), nullptr);
    EXPECT_TRUE(
        std::equal(data.begin() + o * dim, data.begin() + (o + 1) * dim, graph.VectorOf(o)));
  }
  const auto queries = Clustered(20, dim, 12, false);
  EXPECT_GE(Recall(graph, data, queries, dim, Metric::kEuclid, 32, {}), 0.9);
  for (size_t q = 0; q < 20; ++q) {  // a beam as wide as the graph walks all of it
    std::span<const float> query(queries.data() + q * dim, dim);
    EXPECT_EQ(Offsets(graph.Search(query, 10, n, {})),
              Offsets(ExactSearch(Metric::kEuclid, data, dim, query, 10, {})));
  }
  EXPECT_EQ(HnswGraph::Load(file, Metric::kEuclid, dim + 1, crc32c::Value(bytes)).status().code(),
            Code::kCorruption)
      << "an hnswlib file of another dimension";
}

// Rows whose length is not a multiple of 16 floats are zero-padded for the walk; the walk's
// distances agree with exact search's, and a wide beam finds exactly its neighbours.
TEST(HnswGraphTest, PaddedRowsKeepDistancesExact) {
  const size_t dim = 20, n = 400;
  for (Metric metric : {Metric::kDot, Metric::kEuclid, Metric::kManhattan}) {
    const auto data = Clustered(n, dim, 10, false);
    const auto queries = Clustered(10, dim, 11, false);
    auto graph = std::move(HnswGraph::Build(metric, dim, {}, data, 2, {})).value();
    for (size_t q = 0; q < 10; ++q) {
      std::span<const float> query(queries.data() + q * dim, dim);
      const auto truth = ExactSearch(metric, data, dim, query, 10, {});
      const auto hits = graph->Search(query, 10, n, {});
      ASSERT_EQ(hits.size(), truth.size());
      for (size_t i = 0; i < hits.size(); ++i) {
        EXPECT_EQ(hits[i].offset, truth[i].offset) << "metric " << static_cast<int>(metric);
        EXPECT_NEAR(hits[i].distance, truth[i].distance,
                    1e-5 * std::max(1.0f, std::fabs(truth[i].distance)));
      }
      EXPECT_EQ(graph->ExactSearch(query, 10, {}), truth);
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

// Vectors are read at random by every walk; a graph asks for transparent huge pages on them,
// when it is built and when it is loaded (VmFlags "hg": MADV_HUGEPAGE).
TEST(HnswGraphTest, VectorsAreAdvisedOntoHugePages) {
  if (!std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled")) {
    GTEST_SKIP() << "kernel without transparent huge pages";
  }
  TempDir dir;
  const size_t dim = 128, n = 5000;  // 2.5 MB of vectors: past the 2 MiB a huge page holds
  const auto data = Clustered(n, dim, 11, false);
  auto graph = std::move(HnswGraph::Build(Metric::kEuclid, dim, {.m = 4}, data, 2, {})).value();
  const float* v = graph->VectorOf(n - 1);
  ASSERT_NE(v, nullptr);
  EXPECT_NE(VmFlagsAt(v).find(" hg "), std::string::npos) << VmFlagsAt(v);

  Result<uint32_t> crc = graph->SaveTo(dir.path() / "g.hnsw");
  ASSERT_TRUE(crc.ok()) << crc.status().ToString();
  auto loaded = HnswGraph::Load(dir.path() / "g.hnsw", Metric::kEuclid, dim, *crc);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const float* w = (*loaded)->VectorOf(n - 1);
  ASSERT_NE(w, nullptr);
  EXPECT_TRUE(std::equal(v, v + dim, w));
  EXPECT_NE(VmFlagsAt(w).find(" hg "), std::string::npos) << VmFlagsAt(w);
}

TEST(HnswGraphTest, EmptyGraphAndZeroKReturnNothing) {
  const std::vector<float> q = {1, 2, 3, 4};
  auto empty = std::move(HnswGraph::Build(Metric::kEuclid, 4, {}, q, 1, [](Offset) {
                 return false;
               })).value();
  EXPECT_EQ(empty->size(), 0u);
  EXPECT_TRUE(empty->Search(q, 5, 10, {}).empty());
  EXPECT_TRUE(empty->ExactSearch(q, 5, {}).empty());
  EXPECT_EQ(empty->VectorOf(0), nullptr);
  auto one = std::move(HnswGraph::Build(Metric::kEuclid, 4, {}, q, 1, {})).value();
  EXPECT_TRUE(one->Search(q, 0, 10, {}).empty());
  EXPECT_EQ(one->Search(q, 5, 10, {}), (std::vector<Hit>{{0, 0.0f}}));
}

}  // namespace
}  // namespace tessera::index

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

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
    auto graph = std::move(HnswGraph::Create(metric, dim, {}, n)).value();
    ASSERT_TRUE(graph->AddAll(data, 2, {}).ok());
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
  auto graph = std::move(HnswGraph::Create(Metric::kEuclid, dim, {}, n)).value();
  ASSERT_TRUE(graph->AddAll(data, 2, {}).ok());
  for (int keep_every : {2, 10}) {
    auto accept = [keep_every](Offset o) { return o % keep_every == 0; };
    EXPECT_GE(Recall(*graph, data, queries, dim, Metric::kEuclid, 128, accept), 0.9)
        << "1/" << keep_every << " accepted";
  }
}

TEST(HnswGraphTest, SaveAndLoadGiveTheSameResults) {
  TempDir dir;
  const size_t dim = 8, n = 1000;
  const auto data = Clustered(n, dim, 7, false);
  auto graph = std::move(HnswGraph::Create(Metric::kDot, dim, {.m = 8}, n)).value();
  ASSERT_TRUE(graph->AddAll(data, 1, [](Offset o) { return o != 5; }).ok());
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
  EXPECT_FALSE(HnswGraph::Load(dir.path() / "missing", Metric::kDot, dim, 0).ok());
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

// Level 0 is read at random by every walk; the graph asks for transparent huge pages on it,
// when it is created and when it is loaded (VmFlags "hg": MADV_HUGEPAGE).
TEST(HnswGraphTest, LevelZeroIsAdvisedOntoHugePages) {
  if (!std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled")) {
    GTEST_SKIP() << "kernel without transparent huge pages";
  }
  TempDir dir;
  const size_t dim = 128, n = 200, capacity = 20000;  // level 0: about 13 MB, its own mapping
  const auto data = Clustered(n, dim, 11, false);
  auto graph = std::move(HnswGraph::Create(Metric::kEuclid, dim, {}, capacity)).value();
  ASSERT_TRUE(graph->AddAll(data, 1, {}).ok());
  const float* v = graph->VectorOf(n - 1);  // past the block's first page, which stays small
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
  auto graph = std::move(HnswGraph::Create(Metric::kEuclid, 4, {}, 10)).value();
  const float q[] = {1, 2, 3, 4};
  EXPECT_TRUE(graph->Search(q, 5, 10, {}).empty());
  ASSERT_TRUE(graph->Add(0, q).ok());
  EXPECT_TRUE(graph->Search(q, 0, 10, {}).empty());
  EXPECT_EQ(graph->Search(q, 5, 10, {}).size(), 1u);
}

}  // namespace
}  // namespace tessera::index

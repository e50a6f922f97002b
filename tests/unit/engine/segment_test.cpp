// Segment: once its graph is built, a sealed segment reads vectors from the graph's own copy
// (one copy in memory). Reads, exact search, tombstones and a save/load round trip must give
// what the matrix gave before.

#include "engine/segment.h"

#include <random>

#include <gtest/gtest.h>

#include "common/file.h"
#include "tests/unit/temp_dir.h"

namespace tessera::engine {
namespace {

using testing::TempDir;

constexpr size_t kDim = 16;

std::vector<float> RandomVector(std::mt19937& rng) {
  std::normal_distribution<float> g(0, 1);
  std::vector<float> v(kDim);
  for (float& x : v) {
    x = g(rng);
  }
  return v;
}

// 300 points with vector "a"; every 7th also without vector "b"; every 11th deleted.
std::unique_ptr<Segment> MakeSegment(std::vector<NamedVectors>* written) {
  std::mt19937 rng(5);
  auto s =
      std::make_unique<Segment>(1, std::vector<VectorSpec>{{"a", kDim, index::Metric::kEuclid},
                                                           {"b", kDim, index::Metric::kManhattan}});
  for (uint64_t id = 0; id < 300; ++id) {
    NamedVectors v{{"a", RandomVector(rng)}};
    if (id % 7 != 0) {
      v["b"] = RandomVector(rng);
    }
    s->Put(PointId::Num(id), id + 1, v, {});
    written->push_back(v);
  }
  for (uint64_t id = 0; id < 300; id += 11) {
    s->Delete(*s->FindLive(PointId::Num(id)), 1000);
  }
  s->Seal();
  return s;
}

void ExpectSameVectors(const Segment& s, const std::vector<NamedVectors>& written) {
  for (Offset o = 0; o < s.size(); ++o) {
    if (s.deleted(o)) {
      continue;
    }
    EXPECT_EQ(s.vectors_of(o), written[o]) << "offset " << o;
  }
}

// Serializes `s` as a flush would (through its image); `s` outlives the call.
Result<std::string> SerializeNow(const Segment& s, const std::filesystem::path& dir) {
  const std::shared_ptr<const Segment> unowned(std::shared_ptr<void>(), &s);
  return Segment::Serialize(Segment::TakeImage(unowned), dir);
}

TEST(SegmentTest, GraphBackedVectorsReadAsBefore) {
  std::vector<NamedVectors> written;
  auto s = MakeSegment(&written);
  ExpectSameVectors(*s, written);
  const size_t matrix_bytes = 2 * 300 * kDim * sizeof(float);
  EXPECT_GE(s->column_bytes(), matrix_bytes);
  ASSERT_TRUE(s->BuildGraphs({.m = 8, .ef_construct = 32}, 2).ok());
  ASSERT_TRUE(s->has_graph(0));
  EXPECT_LT(s->column_bytes(), matrix_bytes / 10);  // the columns' memory was given back
  ExpectSameVectors(*s, written);                   // now from the graphs
  EXPECT_FALSE(s->has_vector(1, 7));
  EXPECT_TRUE(s->vectors_of(7).contains("a"));
}

TEST(SegmentTest, ExactSearchOverTheGraphEqualsTheMatrixScan) {
  std::vector<NamedVectors> written;
  auto matrix = MakeSegment(&written);
  auto graph = MakeSegment(&written);
  ASSERT_TRUE(graph->BuildGraphs({.m = 8, .ef_construct = 32}, 2).ok());
  std::mt19937 rng(9);
  for (int q = 0; q < 20; ++q) {
    const std::vector<float> query = RandomVector(rng);
    for (size_t vec : {0u, 1u}) {
      const auto odd = [](Offset o) { return o % 2 == 1; };
      for (const index::AcceptFn& accept : {index::AcceptFn(), index::AcceptFn(odd)}) {
        const auto expected = matrix->Search(vec, query, 10, 0, /*exact=*/true, accept);
        const auto got = graph->Search(vec, query, 10, 0, /*exact=*/true, accept);
        ASSERT_EQ(expected.size(), 10u);
        EXPECT_EQ(got, expected);
        for (const index::Hit& h : got) {
          EXPECT_FALSE(graph->deleted(h.offset));
        }
      }
    }
  }
}

TEST(SegmentTest, TombstoneAfterTheBuildHidesThePointFromBothPaths) {
  std::vector<NamedVectors> written;
  auto s = MakeSegment(&written);
  ASSERT_TRUE(s->BuildGraphs({.m = 8, .ef_construct = 32}, 1).ok());
  const Offset target = 5;
  const std::vector<float> query = written[target].at("a");
  EXPECT_EQ(s->Search(0, query, 1, 64, false, {})[0].offset, target);
  s->Delete(target, 2000);
  for (bool exact : {false, true}) {
    for (const index::Hit& h : s->Search(0, query, 10, 64, exact, {})) {
      EXPECT_NE(h.offset, target) << (exact ? "exact" : "hnsw");
    }
  }
}

TEST(SegmentTest, SaveAndLoadKeepGraphBackedVectors) {
  TempDir dir;
  std::vector<NamedVectors> written;
  auto s = MakeSegment(&written);
  ASSERT_TRUE(s->BuildGraphs({.m = 8, .ef_construct = 32}, 2).ok());
  auto bytes = SerializeNow(*s, dir.path());
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  ASSERT_TRUE(WriteFileAtomically(dir.path() / "seg", *bytes).ok());
  auto loaded = Segment::Load(dir.path(), "seg");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_TRUE((*loaded)->has_graph(0));
  ExpectSameVectors(**loaded, written);
  // Saved again from the graph-backed copy: the same bytes.
  auto again = SerializeNow(**loaded, dir.path());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *bytes);
}

TEST(SegmentTest, EveryTruncationAndEveryFlippedByteOfASegmentFileIsRefused) {
  TempDir dir;
  Segment s(7, {{"", 4, index::Metric::kDot}});
  for (uint64_t id = 1; id <= 12; ++id) {
    s.Put(PointId::Num(id), id, {{"", {1.0f * id, 2, 3, 4}}},
          boost::json::object{{"id", id}, {"tag", "t"}});
  }
  s.Delete(*s.FindLive(PointId::Num(3)), 20);
  auto bytes = SerializeNow(s, dir.path());
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(WriteFileAtomically(dir.path() / "good", *bytes).ok());
  ASSERT_TRUE(Segment::Load(dir.path(), "good").ok());
  for (size_t cut = 0; cut < bytes->size(); ++cut) {
    ASSERT_TRUE(WriteFileAtomically(dir.path() / "bad", bytes->substr(0, cut)).ok());
    auto loaded = Segment::Load(dir.path(), "bad");
    ASSERT_FALSE(loaded.ok()) << "a segment cut at byte " << cut << " loaded";
    EXPECT_EQ(loaded.status().code(), Code::kCorruption) << cut;
  }
  for (size_t at = 0; at < bytes->size(); ++at) {
    std::string flipped = *bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x20);
    ASSERT_TRUE(WriteFileAtomically(dir.path() / "bad", flipped).ok());
    auto loaded = Segment::Load(dir.path(), "bad");
    ASSERT_FALSE(loaded.ok()) << "a segment with byte " << at << " flipped loaded";
    EXPECT_EQ(loaded.status().code(), Code::kCorruption) << at;
  }
}

}  // namespace
}  // namespace tessera::engine

// Segment: its components (id tracker, vector storages with graphs over them, payloads) and
// its two files (body; versions and tombstones). Reads, exact search, tombstones and a
// save/load round trip must give what was written, before and after the graphs are built.

#include "engine/segment.h"

#include <random>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "common/coding.h"
#include "common/file.h"
#include "common/framing.h"
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
std::string VersionsNow(const Segment& s) {
  const std::shared_ptr<const Segment> unowned(std::shared_ptr<void>(), &s);
  return Segment::SerializeVersions(Segment::TakeImage(unowned));
}
// Writes both files, "<stem>" and "<stem>.ver".
void SaveNow(const Segment& s, const std::filesystem::path& dir, const std::string& stem) {
  auto bytes = SerializeNow(s, dir);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  ASSERT_TRUE(WriteFileAtomically(dir / stem, *bytes).ok());
  ASSERT_TRUE(WriteFileAtomically(dir / (stem + ".ver"), VersionsNow(s)).ok());
}

TEST(SegmentTest, VectorsReadTheSameOnceTheGraphsAreBuilt) {
  std::vector<NamedVectors> written;
  auto s = MakeSegment(&written);
  ExpectSameVectors(*s, written);
  const size_t column_bytes = s->column_bytes();
  EXPECT_GE(column_bytes, 2 * 300 * kDim * sizeof(float));
  ASSERT_TRUE(s->BuildGraphs({.m = 8, .ef_construct = 32}, 2).ok());
  ASSERT_TRUE(s->has_graph(0));
  EXPECT_EQ(s->column_bytes(), column_bytes);  // the graphs read the storage: no second copy
  ExpectSameVectors(*s, written);
  EXPECT_FALSE(s->has_vector(1, 7));
  EXPECT_TRUE(s->vectors_of(7).contains("a"));
}

TEST(SegmentTest, ExactSearchIsTheSameWithOrWithoutAGraph) {
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
  const std::vector<float> query = std::get<DenseVector>(written[target].at("a"));
  EXPECT_EQ(s->Search(0, query, 1, 64, false, {})[0].offset, target);
  s->Delete(target, 2000);
  for (bool exact : {false, true}) {
    for (const index::Hit& h : s->Search(0, query, 10, 64, exact, {})) {
      EXPECT_NE(h.offset, target) << (exact ? "exact" : "hnsw");
    }
  }
}

TEST(SegmentTest, SaveAndLoadKeepVectorsGraphsAndVersions) {
  TempDir dir;
  std::vector<NamedVectors> written;
  auto s = MakeSegment(&written);
  ASSERT_TRUE(s->BuildGraphs({.m = 8, .ef_construct = 32}, 2).ok());
  SaveNow(*s, dir.path(), "seg");
  auto loaded = Segment::Load(dir.path(), "seg", "seg.ver");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const Segment& l = **loaded;
  ASSERT_TRUE(l.has_graph(0));
  ExpectSameVectors(l, written);
  ASSERT_EQ(l.size(), s->size());
  for (Offset o = 0; o < l.size(); ++o) {
    EXPECT_EQ(l.point_id(o), s->point_id(o));
    EXPECT_EQ(l.deleted(o), s->deleted(o));
    EXPECT_EQ(l.version(o), s->version(o));
  }
  EXPECT_EQ(l.live_count(), s->live_count());
  std::mt19937 rng(3);
  const std::vector<float> query = RandomVector(rng);
  EXPECT_EQ(l.Search(0, query, 10, 64, false, {}), s->Search(0, query, 10, 64, false, {}));
  // Saved again from the loaded copy: the same bytes.
  auto again = SerializeNow(l, dir.path());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, ReadFileToString(dir.path() / "seg").value());
  EXPECT_EQ(VersionsNow(l), ReadFileToString(dir.path() / "seg.ver").value());
  // Another segment's versions file is refused.
  Segment other(99, s->specs());
  ASSERT_TRUE(WriteFileAtomically(dir.path() / "other.ver", VersionsNow(other)).ok());
  EXPECT_EQ(Segment::Load(dir.path(), "seg", "other.ver").status().code(), Code::kCorruption);
  EXPECT_EQ(Segment::Load(dir.path(), "seg", "").status().code(), Code::kCorruption);
}

// A delete in a sealed segment changes its versions and tombstones only: the body, with the
// vectors and payloads, need not be written again, and the old body with the new versions file
// loads the delete.
TEST(SegmentTest, ADeleteChangesOnlyTheVersionsFile) {
  TempDir dir;
  std::vector<NamedVectors> written;
  auto s = MakeSegment(&written);
  ASSERT_TRUE(s->BuildGraphs({.m = 8, .ef_construct = 32}, 1).ok());
  SaveNow(*s, dir.path(), "seg");
  const uint64_t body_generation = s->body_generation();
  const uint64_t generation = s->generation();
  const Offset target = 6;
  ASSERT_FALSE(s->deleted(target));
  s->Delete(target, 5000);
  EXPECT_EQ(s->body_generation(), body_generation);
  EXPECT_GT(s->generation(), generation);
  EXPECT_EQ(*SerializeNow(*s, dir.path()), ReadFileToString(dir.path() / "seg").value());
  ASSERT_TRUE(WriteFileAtomically(dir.path() / "new.ver", VersionsNow(*s)).ok());
  auto loaded = Segment::Load(dir.path(), "seg", "new.ver");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_TRUE((*loaded)->deleted(target));
  EXPECT_EQ((*loaded)->version(target), 5000u);
  EXPECT_EQ((*loaded)->live_count(), s->live_count());
  // A payload change is a body change.
  s->EditPayload(7, [](boost::json::object& p) { p["k"] = 1; });
  EXPECT_GT(s->body_generation(), body_generation);
}

// Segment files of format version 1 (one file: ids, versions, tombstones and payloads inline)
// still load. Written here by that grammar (segment.cpp).
TEST(SegmentTest, LoadsABodyOfFormatVersion1) {
  TempDir dir;
  std::string body;
  PutVarint64(&body, 4);  // segment id
  PutBool(&body, false);
  PutVarint64(&body, 1);
  PutLengthPrefixed(&body, "");
  PutVarint64(&body, 2);  // dim
  body.push_back(static_cast<char>(index::Metric::kEuclid));
  PutVarint64(&body, 3);  // points
  const std::string payloads[] = {R"({"a":1})", "", R"({"b":"x"})"};
  for (uint64_t i = 0; i < 3; ++i) {
    PutPointId(&body, PointId::Num(10 + i));
    PutBool(&body, i == 1);  // deleted
    PutVarint64(&body, 100 + i);
    PutLengthPrefixed(&body, payloads[i]);
  }
  body.append("\x01\x00\x01", 3);  // present
  for (float f : {1.0f, 2.0f, 0.0f, 0.0f, 5.0f, 6.0f}) {
    PutFloat(&body, f);
  }
  PutBool(&body, false);  // no graph
  ASSERT_TRUE(WriteFileAtomically(dir.path() / "v1.bin", FrameFile("TSSG", 1, body)).ok());
  auto loaded = Segment::Load(dir.path(), "v1.bin", "");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const Segment& s = **loaded;
  EXPECT_EQ(s.id(), 4u);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s.live_count(), 2u);
  EXPECT_TRUE(s.deleted(1));
  EXPECT_EQ(s.version(2), 102u);
  EXPECT_EQ(*s.FindLive(PointId::Num(12)), 2u);
  EXPECT_EQ(s.payload(2).at("b").as_string(), "x");
  EXPECT_EQ(s.vectors_of(2).at(""), (VectorInput{DenseVector{5, 6}}));
  EXPECT_EQ(s.Search(0, std::vector<float>{1, 2}, 5, 0, true, {}).front().offset, 0u);
}

TEST(SegmentTest, LoadsABodyOfFormatVersion2) {
  // Version 2 is version 3 without the specs' sparse byte: dense vectors only.
  TempDir dir;
  std::string body;
  PutVarint64(&body, 5);  // segment id
  PutBool(&body, true);   // sealed
  PutVarint64(&body, 1);
  PutLengthPrefixed(&body, "v");
  PutVarint64(&body, 2);  // dim
  body.push_back(static_cast<char>(index::Metric::kDot));
  PutVarint64(&body, 2);  // ids
  PutPointId(&body, PointId::Num(7));
  PutPointId(&body, PointId::Num(8));
  PutLengthPrefixed(&body, R"({"a":1})");
  PutLengthPrefixed(&body, "");
  body.append("\x01\x01", 2);  // present
  for (float f : {1.0f, 2.0f, 3.0f, 4.0f}) {
    PutFloat(&body, f);
  }
  PutBool(&body, false);  // no graph
  ASSERT_TRUE(WriteFileAtomically(dir.path() / "v2.bin", FrameFile("TSSG", 2, body)).ok());
  Segment versions(5, {{"v", 2, index::Metric::kDot}});
  versions.Put(PointId::Num(7), 1, {}, {});
  versions.Put(PointId::Num(8), 2, {}, {});
  ASSERT_TRUE(WriteFileAtomically(dir.path() / "v2.ver", VersionsNow(versions)).ok());
  auto loaded = Segment::Load(dir.path(), "v2.bin", "v2.ver");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_FALSE((*loaded)->specs()[0].sparse());
  EXPECT_EQ((*loaded)->vectors_of(1).at("v"), (VectorInput{DenseVector{3, 4}}));
  EXPECT_EQ((*loaded)->payload(0).at("a").as_int64(), 1);
}

// A sparse vector beside a dense one: stored sorted, searched from its inverted index (also
// among given offsets), changed in place on an appendable segment, kept through a copy and a
// save/load, and no graph is built for it.
TEST(SegmentTest, SparseVectorsAreStoredSearchedAndPersisted) {
  TempDir dir;
  auto s = std::make_unique<Segment>(
      2, std::vector<VectorSpec>{{"d", 2, index::Metric::kDot}, {"s", 0, index::Metric::kDot, VectorKind::kSparse}});
  auto sparse = [](std::vector<uint32_t> i, std::vector<float> v) {
    return VectorInput{SparseVector{std::move(i), std::move(v)}};
  };
  s->Put(PointId::Num(1), 1, {{"d", DenseVector{1, 0}}, {"s", sparse({1, 5}, {1.0f, 2.0f})}}, {});
  s->Put(PointId::Num(2), 2, {{"s", sparse({5, 9}, {3.0f, 1.0f})}}, {});
  s->Put(PointId::Num(3), 3, {{"d", DenseVector{0, 1}}}, {});
  s->Put(PointId::Num(4), 4, {{"s", sparse({2}, {1.0f})}}, {});
  const std::vector<uint32_t> qi = {5, 9};
  const std::vector<float> qv = {1.0f, 1.0f};
  const index::SparseQuery q{qi, qv};
  auto ids = [&](const Segment& seg, const std::vector<index::Hit>& hits) {
    std::vector<uint64_t> out;
    for (const index::Hit& h : hits) {
      out.push_back(seg.point_id(h.offset).num());
    }
    return out;
  };
  EXPECT_EQ(ids(*s, s->SearchSparse(1, q, 10, nullptr, {})), (std::vector<uint64_t>{2, 1}));
  const std::vector<Offset> only_first = {0, 3};
  EXPECT_EQ(ids(*s, s->SearchSparse(1, q, 10, &only_first, {})), (std::vector<uint64_t>{1}));
  // An overwrite in place and a removed vector leave the index exact.
  s->SetVector(1, *s->FindLive(PointId::Num(2)), sparse({9}, {0.5f}));
  s->RemoveVector(1, *s->FindLive(PointId::Num(1)));
  EXPECT_EQ(ids(*s, s->SearchSparse(1, q, 10, nullptr, {})), (std::vector<uint64_t>{2}));
  EXPECT_FLOAT_EQ(s->SearchSparse(1, q, 10, nullptr, {})[0].distance, -0.5f);
  s->Put(PointId::Num(1), 5, {{"s", sparse({5}, {4.0f})}}, {});
  s->Delete(*s->FindLive(PointId::Num(4)), 6);
  EXPECT_TRUE(s->needs_graphs());
  s->Seal();
  ASSERT_TRUE(s->BuildGraphs(index::HnswParams{.m = 8, .ef_construct = 16}, 1).ok());
  EXPECT_FALSE(s->needs_graphs());
  EXPECT_FALSE(s->has_graph(1));
  SaveNow(*s, dir.path(), "seg");
  auto loaded = Segment::Load(dir.path(), "seg", "seg.ver");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const Segment& l = **loaded;
  EXPECT_TRUE(l.specs()[1].sparse());
  for (Offset o = 0; o < s->size(); ++o) {
    if (!s->deleted(o)) {
      EXPECT_EQ(l.vectors_of(o), s->vectors_of(o)) << o;
    }
  }
  EXPECT_EQ(ids(l, l.SearchSparse(1, q, 10, nullptr, {})), (std::vector<uint64_t>{1, 2}));
  EXPECT_FALSE(l.has_vector(1, *l.FindLive(PointId::Num(3))));
  EXPECT_EQ(l.vectors_of(*l.FindLive(PointId::Num(1))).at("s"), sparse({5}, {4.0f}));
}

// A multivector beside a dense vector: stored as given, MaxSim search (all or among offsets),
// kept through a save/load; no graph is built for it.
TEST(SegmentTest, MultivectorsAreStoredSearchedAndPersisted) {
  TempDir dir;
  Segment s(3, {{"d", 2, index::Metric::kDot}, {"m", 2, index::Metric::kDot, VectorKind::kMulti}});
  auto multi = [](std::vector<float> v) { return VectorInput{MultiDenseVector{2, std::move(v)}}; };
  s.Put(PointId::Num(1), 1, {{"m", multi({1, 0, 0, 1})}, {"d", DenseVector{1, 1}}}, {});
  s.Put(PointId::Num(2), 2, {{"m", multi({2, 0})}}, {});
  s.Put(PointId::Num(3), 3, {{"d", DenseVector{1, 1}}}, {});
  // Query rows (1, 0) and (0, 1): point 1 scores 1 + 1, point 2 scores 2 + 0.
  const std::vector<float> q = {1, 0, 0, 1};
  auto hits = s.SearchMulti(1, q, 10, nullptr, {});
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_FLOAT_EQ(hits[0].distance, -2.0f);
  EXPECT_EQ(hits[0].offset, 0u);  // a tie: lower offset first
  const std::vector<Offset> second = {1, 2};
  ASSERT_EQ(s.SearchMulti(1, q, 10, &second, {}).size(), 1u);
  s.Seal();
  ASSERT_TRUE(s.BuildGraphs(index::HnswParams{.m = 8, .ef_construct = 16}, 1).ok());
  EXPECT_FALSE(s.needs_graphs());
  SaveNow(s, dir.path(), "seg");
  auto loaded = Segment::Load(dir.path(), "seg", "seg.ver");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_TRUE((*loaded)->specs()[1].multi());
  EXPECT_EQ((*loaded)->vectors_of(0).at("m"), multi({1, 0, 0, 1}));
  EXPECT_EQ((*loaded)->vectors_of(1).at("m"), multi({2, 0}));
  EXPECT_FALSE((*loaded)->vectors_of(2).contains("m"));
  EXPECT_EQ((*loaded)->SearchMulti(1, q, 10, nullptr, {}), hits);
}

// The payload-index slot: per-field statistics over the live points, gathered once.
TEST(SegmentTest, ThePayloadIndexCountsTheLivePointsValues) {
  Segment s(3, {{"", 2, index::Metric::kDot}});
  const char* payloads[] = {R"({"k":"a","n":3})", R"({"k":["a","b"],"n":1.5})", R"({"k":"a"})",
                            R"({"n":[7,2]})", "{}"};
  for (uint64_t i = 0; i < 5; ++i) {
    s.Put(PointId::Num(i), i + 1, {{"", DenseVector{1, 0}}},
          boost::json::parse(payloads[i]).as_object());
  }
  s.Delete(*s.FindLive(PointId::Num(2)), 10);
  s.Seal();
  const auto k = s.payload_index().Field("k", s.ids(), s.payloads());
  EXPECT_EQ(k->values.at("s:a"), 2u);  // point 2 is deleted
  EXPECT_EQ(k->values.at("s:b"), 1u);
  const auto n = s.payload_index().Field("n", s.ids(), s.payloads());
  EXPECT_EQ(n->numbers, (std::vector<double>{1.5, 2, 3, 7}));
  EXPECT_EQ(s.payload_index().Field("k", s.ids(), s.payloads()), k) << "gathered again";
}

TEST(SegmentTest, EveryTruncationAndEveryFlippedByteOfASegmentFileIsRefused) {
  TempDir dir;
  Segment s(7, {{"", 4, index::Metric::kDot}, {"s", 0, index::Metric::kDot, VectorKind::kSparse}});
  for (uint64_t id = 1; id <= 12; ++id) {
    s.Put(PointId::Num(id), id,
          {{"", DenseVector{1.0f * id, 2, 3, 4}},
           {"s", SparseVector{{static_cast<uint32_t>(id), 100}, {0.5f, 1.0f * id}}}},
          boost::json::object{{"id", id}, {"tag", "t"}});
  }
  s.Delete(*s.FindLive(PointId::Num(3)), 20);
  SaveNow(s, dir.path(), "good");
  ASSERT_TRUE(Segment::Load(dir.path(), "good", "good.ver").ok());
  for (const std::string file : {"good", "good.ver"}) {
    const std::string bytes = ReadFileToString(dir.path() / file).value();
    const bool body = file == "good";
    auto load_bad = [&] {
      return body ? Segment::Load(dir.path(), "bad", "good.ver")
                  : Segment::Load(dir.path(), "good", "bad");
    };
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      ASSERT_TRUE(WriteFileAtomically(dir.path() / "bad", bytes.substr(0, cut)).ok());
      auto loaded = load_bad();
      ASSERT_FALSE(loaded.ok()) << file << " cut at byte " << cut << " loaded";
      EXPECT_EQ(loaded.status().code(), Code::kCorruption) << cut;
    }
    for (size_t at = 0; at < bytes.size(); ++at) {
      std::string flipped = bytes;
      flipped[at] = static_cast<char>(flipped[at] ^ 0x20);
      ASSERT_TRUE(WriteFileAtomically(dir.path() / "bad", flipped).ok());
      auto loaded = load_bad();
      ASSERT_FALSE(loaded.ok()) << file << " with byte " << at << " flipped loaded";
      EXPECT_EQ(loaded.status().code(), Code::kCorruption) << at;
    }
  }
}

}  // namespace
}  // namespace tessera::engine

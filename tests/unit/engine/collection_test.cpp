#include "engine/collection.h"
#include "engine/manifest.h"

#include <map>
#include <numeric>
#include <set>
#include <random>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "common/coding.h"
#include "common/file.h"
#include "common/framing.h"
#include "tests/unit/temp_dir.h"

namespace tessera::engine {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::TempDir;

constexpr auto kForever = std::chrono::hours(1);

CollectionConfig SmallConfig(Distance distance = Distance::kEuclid, uint64_t dim = 4) {
  CollectionConfig c;
  c.vectors[""] = VectorParams{.size = dim, .distance = distance};
  c.optimizers.indexing_threshold = 1;  // KB: seal every few dozen points
  c.hnsw.m = 8;
  c.hnsw.ef_construct = 32;
  return c;
}

CollectionOptions QuietOptions() {
  CollectionOptions o;
  o.flush_interval = std::chrono::hours(1);  // tests flush explicitly
  o.indexing_threads = 1;
  return o;
}

std::unique_ptr<Collection> CreateOrDie(const fs::path& dir, CollectionConfig config) {
  auto c = Collection::Create("c", dir / "c", std::move(config), QuietOptions());
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(c).value();
}

std::unique_ptr<Collection> OpenOrDie(const fs::path& dir) {
  auto c = Collection::Open("c", dir / "c", QuietOptions());
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(c).value();
}

PointStruct Point(uint64_t id, std::vector<float> v, const char* payload = "{}") {
  return PointStruct{PointId::Num(id), {{"", std::move(v)}}, json::parse(payload).as_object()};
}

SeqNo SubmitAndWait(Collection& c, OperationList ops) {
  Result<SeqNo> seq = c.Submit(std::move(ops), Durability::kWritten);
  EXPECT_TRUE(seq.ok()) << seq.status().ToString();
  EXPECT_TRUE(c.WaitApplied(*seq, std::chrono::steady_clock::now() + kForever));
  return *seq;
}

TEST(CollectionTest, WritesAreVisibleAndSurviveRestartWithAndWithoutFlush) {
  TempDir dir;
  {
    auto c = CreateOrDie(dir.path(), SmallConfig());
    const SeqNo seq = SubmitAndWait(
        *c, {UpsertOp{{Point(1, {1, 2, 3, 4}, R"({"a":1})"), Point(2, {5, 6, 7, 8})}}});
    EXPECT_EQ(seq, 1u);
    ASSERT_TRUE(c->Flush().ok());
    EXPECT_EQ(c->persisted_seq(), 1u);
    SubmitAndWait(*c, {SetPayloadOp{{PointId::Num(2)}, json::parse(R"({"b":2})").as_object(), ""}});
    // No flush: this one lives only in the WAL.
  }
  auto c = OpenOrDie(dir.path());
  auto records = c->Retrieve({PointId::Num(1), PointId::Num(2), PointId::Num(3)}, true, true);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].payload, json::parse(R"({"a":1})").as_object());
  EXPECT_EQ(records[0].vectors.at(""), (VectorInput{DenseVector{1, 2, 3, 4}}));
  EXPECT_EQ(records[1].payload, json::parse(R"({"b":2})").as_object());
  EXPECT_EQ(records[1].version, 2u);
  EXPECT_EQ(c->applied_seq(), 2u);
  EXPECT_EQ(*c->Submit({DeletePointsOp{{PointId::Num(1)}}}, Durability::kSynced), 3u);
}

TEST(CollectionTest, AFailingOperationLeavesNoTraceOfTheList) {
  TempDir dir;
  auto c = CreateOrDie(dir.path(), SmallConfig());
  SubmitAndWait(*c, {UpsertOp{{Point(1, {1, 1, 1, 1}, R"({"k":"v"})")}}});
  const SeqNo wal_before = c->wal().last_seq();
  OperationList ops{UpsertOp{{Point(2, {2, 2, 2, 2})}},
                    SetPayloadOp{{PointId::Num(1)}, json::parse(R"({"x":1})").as_object(), ""},
                    DeletePointsOp{{PointId::Num(1)}},
                    UpdateVectorsOp{{PointVectors{PointId::Num(1), {{"", DenseVector{9, 9, 9, 9}}}}}}};
  Result<SeqNo> r = c->Submit(ops, Durability::kWritten);
  ASSERT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_NE(r.status().message().find("No point with id 1 found (operation 3: update_vectors)"),
            std::string::npos)
      << r.status().message();
  EXPECT_EQ(c->wal().last_seq(), wal_before);  // nothing was written
  EXPECT_EQ(c->Count(nullptr), 1u);
  auto records = c->Retrieve({PointId::Num(1)}, true, true);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].payload, json::parse(R"({"k":"v"})").as_object());
}

TEST(CollectionTest, TwoOperationsOnOnePointInOneListBothTakeEffect) {
  TempDir dir;
  auto c = CreateOrDie(dir.path(), SmallConfig());
  SubmitAndWait(*c, {UpsertOp{{Point(7, {1, 0, 0, 0})}},
                     SetPayloadOp{{PointId::Num(7)}, json::parse(R"({"a":1})").as_object(), ""},
                     SetPayloadOp{{PointId::Num(7)}, json::parse(R"({"b":2})").as_object(), ""},
                     DeletePayloadOp{{PointId::Num(7)}, {"a"}}});
  auto r = c->Retrieve({PointId::Num(7)}, true, false);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].payload, json::parse(R"({"b":2})").as_object());
  c.reset();
  auto reopened = OpenOrDie(dir.path());  // and the same after replay
  EXPECT_EQ(reopened->Retrieve({PointId::Num(7)}, true, false)[0].payload,
            json::parse(R"({"b":2})").as_object());
}

TEST(CollectionTest, SchemaErrorsAreRejectedBeforeTheLog) {
  TempDir dir;
  auto c = CreateOrDie(dir.path(), SmallConfig());
  EXPECT_EQ(c->Submit({UpsertOp{{Point(1, {1, 2, 3})}}}, Durability::kWritten).status().code(),
            Code::kInvalidArgument);
  OperationList named{UpsertOp{{PointStruct{PointId::Num(1), {{"nope", DenseVector{1, 2, 3, 4}}}, {}}}}};
  EXPECT_EQ(c->Submit(named, Durability::kWritten).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(c->wal().last_seq(), 0u);
}

TEST(CollectionTest, CosineVectorsAreNormalisedAtInsert) {
  TempDir dir;
  auto c = CreateOrDie(dir.path(), SmallConfig(Distance::kCosine));
  SubmitAndWait(*c, {UpsertOp{{Point(1, {3, 4, 0, 0})}}});
  auto r = c->Retrieve({PointId::Num(1)}, false, true);
  EXPECT_EQ(r[0].vectors.at(""), (VectorInput{DenseVector{0.6f, 0.8f, 0, 0}}));
}

// The engine against a map, on random operation lists, across restarts and segment sealing.
TEST(CollectionTest, MatchesAModelOnRandomOperationLists) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  TempDir dir;
  struct Model {
    std::vector<float> vector;
    json::object payload;
  };
  std::map<uint64_t, Model> model;
  auto c = CreateOrDie(dir.path(), SmallConfig());
  auto vec = [&] {
    return std::vector<float>{static_cast<float>(rng() % 100), static_cast<float>(rng() % 100),
                              static_cast<float>(rng() % 100), static_cast<float>(rng() % 100)};
  };
  for (int round = 0; round < 300; ++round) {
    OperationList ops;
    auto next = model;  // the model of what the list does, if it is accepted
    bool valid = true;
    const int n_ops = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < n_ops; ++i) {
      const uint64_t id = rng() % 40;
      const PointId pid = PointId::Num(id);
      switch (rng() % 5) {
        case 0:
        case 1: {
          auto v = vec();
          json::object payload{{"r", round}};
          ops.push_back(UpsertOp{{PointStruct{pid, {{"", v}}, payload}}});
          next[id] = {v, payload};
          break;
        }
        case 2:
          ops.push_back(DeletePointsOp{{pid}});
          next.erase(id);
          break;
        case 3: {
          json::object payload{{"s", i}};
          ops.push_back(SetPayloadOp{{pid}, payload, ""});
          if (!next.contains(id)) {
            valid = false;
          } else {
            next[id].payload["s"] = i;
          }
          break;
        }
        default: {
          auto v = vec();
          ops.push_back(UpdateVectorsOp{{PointVectors{pid, {{"", v}}}}});
          if (!next.contains(id)) {
            valid = false;
          } else {
            next[id].vector = v;
          }
        }
      }
    }
    Result<SeqNo> r = c->Submit(ops, Durability::kWritten);
    ASSERT_EQ(r.ok(), valid) << "round " << round << ": " << r.status().ToString();
    if (valid) {
      model = std::move(next);
      ASSERT_TRUE(c->WaitApplied(*r, std::chrono::steady_clock::now() + kForever));
    }
    if (rng() % 25 == 0) {
      ASSERT_TRUE(c->Flush().ok());
    }
    if (rng() % 40 == 0) {
      c.reset();  // clean shutdown: flush
      c = OpenOrDie(dir.path());
    }
    if (rng() % 30 == 0) {
      // A process crash: what the files hold right now (page cache included), no flush. The
      // copy must recover to exactly the acknowledged state by replaying the WAL.
      TempDir crashed;
      fs::copy(dir.path(), crashed.path(), fs::copy_options::recursive);
      auto recovered = OpenOrDie(crashed.path());
      ASSERT_EQ(recovered->Count(nullptr), model.size()) << "round " << round;
      for (const auto& [id, m] : model) {
        auto rec = recovered->Retrieve({PointId::Num(id)}, true, true);
        ASSERT_EQ(rec.size(), 1u) << "round " << round << " id " << id;
        ASSERT_EQ(rec[0].vectors.at(""), VectorInput(m.vector)) << "round " << round << " id " << id;
        ASSERT_EQ(rec[0].payload, m.payload) << "round " << round << " id " << id;
      }
    }
    if (rng() % 50 == 0) {
      ASSERT_TRUE(c->OptimizeNow().ok());
    }
    // Compare everything.
    std::vector<PointId> all;
    for (uint64_t id = 0; id < 40; ++id) {
      all.push_back(PointId::Num(id));
    }
    auto records = c->Retrieve(all, true, true);
    ASSERT_EQ(records.size(), model.size()) << "round " << round;
    for (const PointRecord& rec : records) {
      const Model& m = model.at(rec.id.num());
      ASSERT_EQ(rec.vectors.at(""), VectorInput(m.vector)) << "round " << round << " id " << rec.id.num();
      ASSERT_EQ(rec.payload, m.payload) << "round " << round << " id " << rec.id.num();
    }
    ASSERT_EQ(c->Count(nullptr), model.size());
  }
}

TEST(CollectionTest, IndexStaysInSyncWithUpdatesAndDeletes) {
  TempDir dir;
  auto c = CreateOrDie(dir.path(), SmallConfig(Distance::kEuclid, 8));
  std::mt19937 rng(11);
  std::normal_distribution<float> g(0, 1);
  auto vec = [&] {
    std::vector<float> v(8);
    for (float& x : v) {
      x = g(rng);
    }
    return v;
  };
  OperationList ops;
  UpsertOp upsert;
  for (uint64_t id = 0; id < 500; ++id) {
    upsert.points.push_back(Point(id, vec()));
  }
  SubmitAndWait(*c, {upsert});
  ASSERT_TRUE(c->OptimizeNow().ok());
  CollectionInfo info = c->Info();
  EXPECT_EQ(info.points_count, 500u);
  EXPECT_GE(info.indexed_vectors_count, 400u);  // all but the appendable tail are indexed

  // Move point 3 far away, delete point 4: HNSW search must see both changes.
  const std::vector<float> far(8, 100.0f);
  SubmitAndWait(*c, {UpdateVectorsOp{{PointVectors{PointId::Num(3), {{"", far}}}}},
                     DeletePointsOp{{PointId::Num(4)}}});
  SearchRequest at_far{.vector_name = "", .query = far, .limit = 1};
  auto hits = c->Search(at_far);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].record.id, PointId::Num(3));
  EXPECT_FLOAT_EQ((*hits)[0].score, 0.0f);
  for (uint64_t q = 0; q < 50; ++q) {
    const auto query = std::get<DenseVector>(
        c->Retrieve({PointId::Num(q == 4 ? 5 : q)}, false, true)[0].vectors.at(""));
    SearchRequest r{.vector_name = "", .query = query, .limit = 20};
    for (const ScoredPoint& p : *c->Search(r)) {
      EXPECT_NE(p.record.id, PointId::Num(4)) << "a deleted point was returned";
    }
  }
  // Restart: the graph is loaded, not rebuilt.
  ASSERT_TRUE(c->Flush().ok());
  const uint64_t indexed = c->Info().indexed_vectors_count;
  c.reset();
  auto reopened = OpenOrDie(dir.path());
  EXPECT_EQ(reopened->Info().indexed_vectors_count, indexed);
  EXPECT_EQ(reopened->Info().status, CollectionStatus::kGreen);
  EXPECT_EQ((*reopened->Search(at_far))[0].record.id, PointId::Num(3));
}

// Deleting points of sealed, indexed segments rewrites their small versions files only: the
// body files, with the vectors and payloads, stay as they were, and a restart sees the deletes.
TEST(CollectionTest, ADeleteFromASealedSegmentWritesOnlyItsVersionsFile) {
  TempDir dir;
  auto c = CreateOrDie(dir.path(), SmallConfig());
  UpsertOp upsert;
  for (uint64_t id = 0; id < 300; ++id) {
    upsert.points.push_back(Point(id, {1.0f * id, 2, 3, 4}, R"({"k":"v"})"));
  }
  SubmitAndWait(*c, {upsert});
  ASSERT_TRUE(c->OptimizeNow().ok());
  ASSERT_TRUE(c->Flush().ok());
  const fs::path segments = dir.path() / "c" / "segments";
  const Manifest before = **ReadManifest(segments);
  ASSERT_GE(before.segments.size(), 2u);
  std::map<std::string, std::string> bodies;
  for (const SegmentFiles& f : before.segments) {
    ASSERT_FALSE(f.versions.empty());
    bodies[f.body] = *ReadFileToString(segments / f.body);
  }
  OperationList deletes;
  for (uint64_t id = 0; id < 300; id += 3) {
    deletes.push_back(DeletePointsOp{{PointId::Num(id)}});
  }
  SubmitAndWait(*c, deletes);
  ASSERT_TRUE(c->Flush().ok());
  const Manifest after = **ReadManifest(segments);
  ASSERT_EQ(after.segments.size(), before.segments.size());
  size_t rewritten = 0;
  for (size_t i = 0; i < after.segments.size(); ++i) {
    EXPECT_EQ(after.segments[i].body, before.segments[i].body) << "a body file was rewritten";
    EXPECT_EQ(*ReadFileToString(segments / after.segments[i].body),
              bodies[after.segments[i].body]);
    if (after.segments[i].versions != before.segments[i].versions) {
      ++rewritten;
      EXPECT_FALSE(fs::exists(segments / before.segments[i].versions)) << "an old file was kept";
    }
  }
  EXPECT_GE(rewritten, 1u);  // the segments that held the deleted points (the appendable one
                             // may hold none)
  c.reset();
  auto reopened = OpenOrDie(dir.path());
  EXPECT_EQ(reopened->Info().points_count, 200u);
  EXPECT_TRUE(reopened->Retrieve({PointId::Num(3)}, false, false).empty());
  EXPECT_EQ(reopened->Retrieve({PointId::Num(4)}, true, false).size(), 1u);
}

// payload_schema's point counts follow writes, deletes and payload edits, in sealed and
// appendable segments alike (they come from each segment's payload index).
TEST(CollectionTest, PayloadSchemaCountsFollowEveryChange) {
  TempDir dir;
  CollectionConfig config = SmallConfig();
  config.payload_indexes["f"] = PayloadIndexInfo{};
  auto c = CreateOrDie(dir.path(), config);
  UpsertOp upsert;
  for (uint64_t id = 0; id < 300; ++id) {
    upsert.points.push_back(Point(id, {1, 2, 3, 4}, id % 2 == 0 ? R"({"f":"x"})" : R"({"f":null})"));
  }
  SubmitAndWait(*c, {upsert});
  ASSERT_TRUE(c->OptimizeNow().ok());
  EXPECT_EQ(c->Info().payload_schema.at("f").points, 150u);
  OperationList deletes;
  for (uint64_t id = 0; id < 20; id += 2) {
    deletes.push_back(DeletePointsOp{{PointId::Num(id)}});
  }
  SubmitAndWait(*c, deletes);
  EXPECT_EQ(c->Info().payload_schema.at("f").points, 140u);
  // Into the appendable segment: new points with the field, and old ones losing it.
  SubmitAndWait(*c, {UpsertOp{{Point(1000, {1, 2, 3, 4}, R"({"f":[1,2]})"),
                               Point(1001, {1, 2, 3, 4}, R"({"g":1})")}}});
  EXPECT_EQ(c->Info().payload_schema.at("f").points, 141u);
  SubmitAndWait(*c, {ClearPayloadOp{{PointId::Num(20), PointId::Num(1000)}}});
  EXPECT_EQ(c->Info().payload_schema.at("f").points, 139u);
  SubmitAndWait(*c, {SetPayloadOp{{PointId::Num(1)}, json::parse(R"({"f":"y"})").as_object(), ""}});
  EXPECT_EQ(c->Info().payload_schema.at("f").points, 140u);
  EXPECT_EQ(c->Info().payload_schema.at("f").points, 140u);  // read again: the same
}

// A manifest of format version 1 (one file per segment) and its segment files still load.
TEST(ManifestTest, Version1StillDecodes) {
  std::string body;
  PutVarint64(&body, 7);  // persisted_seq
  PutVarint64(&body, 3);  // next_segment_id
  PutVarint64(&body, 2);
  PutLengthPrefixed(&body, "segment-1-7.bin");
  PutLengthPrefixed(&body, "segment-2-7.bin");
  Result<Manifest> m = DecodeManifest(FrameFile("TSMF", 1, body));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->persisted_seq, 7u);
  EXPECT_EQ(m->next_segment_id, 3u);
  EXPECT_EQ(m->segments, (std::vector<SegmentFiles>{{"segment-1-7.bin", ""}, {"segment-2-7.bin", ""}}));
  Manifest v2{9, 4, {{"a.bin", "a.ver"}, {"b.bin", ""}}};
  Result<Manifest> round = DecodeManifest(EncodeManifest(v2));
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->segments, v2.segments);
  EXPECT_EQ(round->files(), (std::vector<std::string>{"a.bin", "a.ver", "b.bin"}));
}

TEST(CollectionTest, FlushTruncatesTheLog) {
  TempDir dir;
  CollectionConfig config = SmallConfig();
  config.wal.wal_capacity_mb = 1;
  auto c = CreateOrDie(dir.path(), config);
  const std::string big(200000, 'x');
  for (uint64_t i = 0; i < 20; ++i) {
    SubmitAndWait(*c, {UpsertOp{{PointStruct{
                          PointId::Num(i), {{"", DenseVector{1, 2, 3, 4}}}, json::object{{"blob", big}}}}}});
  }
  const size_t files_before = c->wal().file_count();
  EXPECT_GE(files_before, 3u);
  ASSERT_TRUE(c->Flush().ok());
  EXPECT_EQ(c->wal().file_count(), 1u);
  c.reset();
  auto reopened = OpenOrDie(dir.path());
  EXPECT_EQ(reopened->Count(nullptr), 20u);
}

TEST(CollectionTest, WaitAppliedTimesOutOnlyForTheFuture) {
  TempDir dir;
  auto c = CreateOrDie(dir.path(), SmallConfig());
  const SeqNo seq = SubmitAndWait(*c, {UpsertOp{{Point(1, {1, 2, 3, 4})}}});
  EXPECT_TRUE(c->WaitApplied(seq, std::chrono::steady_clock::now()));
  EXPECT_FALSE(
      c->WaitApplied(seq + 1, std::chrono::steady_clock::now() + std::chrono::milliseconds(20)));
}

}  // namespace
}  // namespace tessera::engine

namespace tessera::engine {
namespace {

// Replay is idempotent: the manifest is rewritten to claim an older persisted version, so that
// opening replays every record again over segments that already hold them all. The state must
// come out exactly as it was: a later delete is not undone by the earlier upsert, merges do not
// apply twice, versions stay. (Points already at or past a record's seq are skipped.)
TEST(CollectionTest, ReplayOverSegmentsThatAlreadyHoldTheRecordsIsIdempotent) {
  TempDir dir;
  {
    auto c = CreateOrDie(dir.path(), SmallConfig());
    SubmitAndWait(*c, {UpsertOp{{Point(1, {1, 1, 1, 1}, R"({"n":1})")}}});
    SubmitAndWait(*c, {DeletePointsOp{{PointId::Num(1)}}});
    SubmitAndWait(*c, {UpsertOp{{Point(2, {2, 2, 2, 2}, R"({"a":1})")}}});
    SubmitAndWait(*c, {DeletePayloadOp{{PointId::Num(2)}, {"a"}}});
    SubmitAndWait(*c, {SetPayloadOp{{PointId::Num(2)}, json::parse(R"({"b":2})").as_object(), ""}});
    SubmitAndWait(*c, {UpdateVectorsOp{{PointVectors{PointId::Num(2), {{"", DenseVector{9, 9, 9, 9}}}}}}});
    ASSERT_TRUE(c->Flush().ok());
    EXPECT_EQ(c->wal().file_count(), 1u);  // the records are all still in the log
  }
  // Claim that nothing was persisted: every record will be replayed.
  const fs::path segments = dir.path() / "c" / "segments";
  Result<std::optional<Manifest>> manifest = ReadManifest(segments);
  ASSERT_TRUE(manifest.ok() && manifest->has_value());
  EXPECT_EQ((*manifest)->persisted_seq, 6u);
  (*manifest)->persisted_seq = 0;
  ASSERT_TRUE(WriteManifest(segments, **manifest).ok());

  auto c = OpenOrDie(dir.path());
  EXPECT_TRUE(c->Retrieve({PointId::Num(1)}, true, true).empty()) << "a delete was undone";
  auto two = c->Retrieve({PointId::Num(2)}, true, true);
  ASSERT_EQ(two.size(), 1u);
  EXPECT_EQ(two[0].payload, json::parse(R"({"b":2})").as_object());
  EXPECT_EQ(two[0].vectors.at(""), (VectorInput{DenseVector{9, 9, 9, 9}}));
  EXPECT_EQ(two[0].version, 6u);
  EXPECT_EQ(c->applied_seq(), 6u);
}

}  // namespace
}  // namespace tessera::engine

namespace tessera::engine {
namespace {

std::shared_ptr<const Filter> PayloadEquals(const char* key, int64_t value) {
  auto f = std::make_shared<Filter>();
  f->must.push_back(FieldCondition{.key = key, .match = MatchValue{value}});
  return f;
}

std::vector<uint64_t> LiveIds(const Collection& c) {
  std::optional<PointId> next;
  std::vector<uint64_t> out;
  for (const PointRecord& r : c.Scroll(std::nullopt, 1000, nullptr, false, false, &next)) {
    out.push_back(r.id.num());
  }
  return out;
}

// A filter inside a write is resolved when its list is applied, at its own step: a
// delete-by-filter sees a set_payload earlier in the same batch, and a set_payload-by-filter
// sees the batch's own upsert (both official clients' batch tests depend on this).
TEST(CollectionTest, FiltersInABatchSeeTheBatchsEarlierOperations) {
  TempDir dir;
  auto c = CreateOrDie(dir.path(), SmallConfig());
  SubmitAndWait(
      *c, {UpsertOp{{Point(1, {1, 0, 0, 0}), Point(2, {0, 1, 0, 0}), Point(3, {0, 0, 1, 0})}}});
  const SeqNo seq = SubmitAndWait(
      *c,
      {SetPayloadOp{{PointId::Num(1), PointId::Num(2)}, json::parse(R"({"x":1})").as_object(), ""},
       DeletePointsOp{{}, PayloadEquals("x", 1)},
       UpsertOp{{Point(5, {1, 1, 0, 0}, R"({"tag":7})")}},
       SetPayloadOp{{}, json::parse(R"({"seen":true})").as_object(), "", PayloadEquals("tag", 7)}});
  EXPECT_TRUE(c->Outcome(seq).ok());
  EXPECT_EQ(LiveIds(*c), (std::vector<uint64_t>{3, 5}));
  auto five = c->Retrieve({PointId::Num(5)}, true, false);
  ASSERT_EQ(five.size(), 1u);
  EXPECT_EQ(five[0].payload, json::parse(R"({"tag":7,"seen":true})").as_object());

  // The WAL carries the filters: replay after a restart without a flush gives the same state.
  c.reset();
  ASSERT_TRUE(fs::remove(dir.path() / "c" / "segments" / "manifest.bin"));
  auto reopened = OpenOrDie(dir.path());
  EXPECT_EQ(LiveIds(*reopened), (std::vector<uint64_t>{3, 5}));
  EXPECT_EQ(reopened->Retrieve({PointId::Num(5)}, true, false)[0].payload,
            json::parse(R"({"tag":7,"seen":true})").as_object());
}

// A list whose id operation needs a point that the list's own delete-by-filter removed fails
// whole, when applied: nothing of it takes effect, and its outcome says why.
TEST(CollectionTest, AListThatFailsAfterItsFiltersResolveLeavesNoTrace) {
  TempDir dir;
  auto c = CreateOrDie(dir.path(), SmallConfig());
  SubmitAndWait(*c, {UpsertOp{{Point(1, {1, 0, 0, 0}, R"({"x":1})"), Point(2, {0, 1, 0, 0})}}});
  const SeqNo seq = SubmitAndWait(
      *c, {ClearPayloadOp{{PointId::Num(2)}}, DeletePointsOp{{}, PayloadEquals("x", 1)},
           SetPayloadOp{{PointId::Num(1)}, json::parse(R"({"y":2})").as_object(), ""}});
  EXPECT_EQ(c->Outcome(seq).code(), Code::kNotFound) << c->Outcome(seq).ToString();
  EXPECT_EQ(LiveIds(*c), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(c->Retrieve({PointId::Num(1)}, true, false)[0].payload,
            json::parse(R"({"x":1})").as_object());
}

// A write that needs a point waits for an earlier record's filter to be resolved before its
// existence check: a set_payload on a point the queued delete-by-filter removes is refused.
TEST(CollectionTest, AWriteAfterAQueuedFilterDeleteSeesItsEffect) {
  TempDir dir;
  auto c = CreateOrDie(dir.path(), SmallConfig());
  SubmitAndWait(*c, {UpsertOp{{Point(1, {1, 0, 0, 0}, R"({"x":1})")}}});
  for (int round = 0; round < 20; ++round) {
    ASSERT_TRUE(c->Submit({DeletePointsOp{{}, PayloadEquals("x", 1)}}, Durability::kWritten).ok());
    Result<SeqNo> refused =
        c->Submit({SetPayloadOp{{PointId::Num(1)}, json::parse(R"({"y":2})").as_object(), ""}},
                  Durability::kWritten);
    EXPECT_EQ(refused.status().code(), Code::kNotFound) << "round " << round;
    SubmitAndWait(*c, {UpsertOp{{Point(1, {1, 0, 0, 0}, R"({"x":1})")}}});
  }
}


std::vector<float> RandomVector(std::mt19937& rng, size_t dim) {
  std::normal_distribution<float> g(0, 1);
  std::vector<float> v(dim);
  for (float& x : v) {
    x = g(rng);
  }
  return v;
}

// Every point is retrievable with its vector, and an HNSW search for it finds it first.
void ExpectAllFound(const Collection& c, const std::map<uint64_t, std::vector<float>>& points) {
  ASSERT_EQ(c.Count(nullptr), points.size());
  size_t found = 0;
  for (const auto& [id, v] : points) {
    const auto rec = c.Retrieve({PointId::Num(id)}, false, true);
    ASSERT_EQ(rec.size(), 1u) << "id " << id;
    ASSERT_EQ(rec[0].vectors.at(""), VectorInput(v)) << "id " << id;
    auto hits = c.Search(SearchRequest{.vector_name = "", .query = v, .limit = 1});
    ASSERT_TRUE(hits.ok());
    found += !hits->empty() && (*hits)[0].record.id == PointId::Num(id);
  }
  EXPECT_GE(found, points.size() * 98 / 100);  // approximate search: nearly all
}

// Segments sealed every few dozen points are merged down to default_segment_number sealed
// segments (plus the appendable one), indexed, with every point kept; deletes past
// deleted_threshold are vacuumed away; a restart finds the same.
TEST(CollectionTest, OptimizersMergeSegmentsAndVacuumDeletes) {
  TempDir dir;
  CollectionConfig config = SmallConfig(Distance::kEuclid, 8);  // 1 KB: 32 points a segment
  config.optimizers.default_segment_number = 2;
  config.optimizers.vacuum_min_vector_number = 100;
  auto c = CreateOrDie(dir.path(), config);
  std::mt19937 rng(3);
  std::map<uint64_t, std::vector<float>> model;
  for (uint64_t batch = 0; batch < 30; ++batch) {
    UpsertOp upsert;
    for (uint64_t i = 0; i < 40; ++i) {
      const uint64_t id = batch * 40 + i;
      model[id] = RandomVector(rng, 8);
      upsert.points.push_back(Point(id, model[id]));
    }
    SubmitAndWait(*c, {upsert});
  }
  ASSERT_TRUE(c->OptimizeNow().ok());
  CollectionInfo info = c->Info();
  EXPECT_LE(info.segments_count, 3u);  // two sealed and the appendable one
  EXPECT_EQ(info.indexed_vectors_count, model.size());
  EXPECT_EQ(info.status, CollectionStatus::kGreen);
  ExpectAllFound(*c, model);

  // More points: their segments are indexed into an indexed one, whose graph grows (its
  // nodes reused, only the new points inserted).
  const uint64_t reused = c->graph_nodes_reused();
  const uint64_t inserted = c->graph_nodes_inserted();
  for (uint64_t batch = 0; batch < 3; ++batch) {
    UpsertOp upsert;
    for (uint64_t i = 0; i < 40; ++i) {
      const uint64_t id = 5000 + batch * 40 + i;
      model[id] = RandomVector(rng, 8);
      upsert.points.push_back(Point(id, model[id]));
    }
    SubmitAndWait(*c, {upsert});
  }
  ASSERT_TRUE(c->OptimizeNow().ok());
  EXPECT_LE(c->Info().segments_count, 3u);
  EXPECT_GT(c->graph_nodes_reused(), reused);
  EXPECT_LT(c->graph_nodes_inserted() - inserted, model.size() / 2);  // no rebuild
  ExpectAllFound(*c, model);

  // Delete 60%: each sealed segment is over deleted_threshold and vacuumed.
  OperationList deletes;
  for (auto it = model.begin(); it != model.end();) {
    if (rng() % 10 < 6) {
      deletes.push_back(DeletePointsOp{{PointId::Num(it->first)}});
      it = model.erase(it);
    } else {
      ++it;
    }
  }
  SubmitAndWait(*c, deletes);
  const uint64_t built = c->graphs_built();
  const OptimizationStatus queued = c->Optimizations();
  // The sealed segments holding 100 or more deletes (the thread may have started one).
  const size_t vacuums = queued.queued.size() + (queued.running ? 1 : 0);
  ASSERT_GE(vacuums, 1u);
  for (const OptimizationStatus::Task& t : queued.queued) {
    EXPECT_EQ(t.kind, OptimizerKind::kVacuum);
  }
  ASSERT_TRUE(c->OptimizeNow().ok());
  EXPECT_GE(c->graphs_built(), built + vacuums);
  EXPECT_TRUE(c->Optimizations().queued.empty());
  EXPECT_EQ(c->Info().indexed_vectors_count, model.size());
  ExpectAllFound(*c, model);
  ASSERT_TRUE(c->Flush().ok());
  c.reset();
  auto reopened = OpenOrDie(dir.path());
  EXPECT_LE(reopened->Info().segments_count, 3u);
  ExpectAllFound(*reopened, model);
}

// Recall@10 of HNSW searches at `ef` against exact ones, over `queries` random queries.
double CollectionRecall(const Collection& c, std::mt19937& rng, size_t dim, size_t queries,
                        size_t ef) {
  size_t found = 0, total = 0;
  for (size_t q = 0; q < queries; ++q) {
    const std::vector<float> v = RandomVector(rng, dim);
    auto exact = c.Search(SearchRequest{.vector_name = "", .query = v, .limit = 10, .exact = true});
    auto approx = c.Search(SearchRequest{.vector_name = "", .query = v, .limit = 10, .ef = ef});
    EXPECT_TRUE(exact.ok() && approx.ok());
    std::set<PointId> truth;
    for (const ScoredPoint& p : *exact) {
      truth.insert(p.record.id);
    }
    for (const ScoredPoint& p : *approx) {
      found += truth.count(p.record.id);
    }
    total += truth.size();
  }
  return static_cast<double>(found) / static_cast<double>(std::max<size_t>(total, 1));
}

// Overwriting a quarter of the points (#18's case: 20% or more): the littered segments are
// rewritten with their graphs grown from the old ones (healed around the overwritten points),
// not rebuilt, and recall at the same ef stays.
TEST(CollectionTest, OverwritesAreOptimizedWithoutARebuildAndKeepRecall) {
  TempDir dir;
  const size_t dim = 16, n = 6000;
  CollectionConfig config = SmallConfig(Distance::kEuclid, dim);
  config.optimizers.indexing_threshold = 64;  // KB: 1024 points a segment
  config.optimizers.default_segment_number = 2;
  config.optimizers.vacuum_min_vector_number = 100;
  config.hnsw.m = 16;
  config.hnsw.ef_construct = 100;
  config.hnsw.full_scan_threshold = 10;  // KB (the least allowed): search the graphs
  auto c = CreateOrDie(dir.path(), config);
  std::mt19937 rng(9);
  std::map<uint64_t, std::vector<float>> model;
  auto upsert = [&](const std::vector<uint64_t>& ids) {
    for (size_t at = 0; at < ids.size(); at += 500) {
      UpsertOp op;
      for (size_t i = at; i < std::min(ids.size(), at + 500); ++i) {
        model[ids[i]] = RandomVector(rng, dim);
        op.points.push_back(Point(ids[i], model[ids[i]]));
      }
      SubmitAndWait(*c, {op});
    }
  };
  std::vector<uint64_t> all(n);
  std::iota(all.begin(), all.end(), 0);
  upsert(all);
  ASSERT_TRUE(c->OptimizeNow().ok());
  const double before = CollectionRecall(*c, rng, dim, 100, 12);
  std::shuffle(all.begin(), all.end(), rng);
  const uint64_t inserted = c->graph_nodes_inserted();
  const uint64_t reused = c->graph_nodes_reused();
  upsert(std::vector<uint64_t>(all.begin(), all.begin() + n / 4));
  ASSERT_TRUE(c->OptimizeNow().ok());
  const double after = CollectionRecall(*c, rng, dim, 100, 12);
  std::printf("recall@10 at ef=12: %.3f before, %.3f after overwriting 25%%; graph nodes "
              "reused %llu, inserted %llu\n",
              before, after, static_cast<unsigned long long>(c->graph_nodes_reused() - reused),
              static_cast<unsigned long long>(c->graph_nodes_inserted() - inserted));
  EXPECT_GE(after, before - 0.03);
  EXPECT_GT(c->graph_nodes_reused(), reused);
  EXPECT_LT(c->graph_nodes_inserted() - inserted, n / 2);  // not a rebuild of all n
  EXPECT_LE(c->Info().segments_count, 3u);
  ExpectAllFound(*c, model);
}

// An upload that stops short of a full segment: once writes are quiet, a tail of a tenth of
// indexing_threshold or more is sealed and indexed (merged into a sealed segment), so no
// search scans it; a smaller tail is left to the scan.
TEST(CollectionTest, AQuietTailWorthIndexingIsIndexed) {
  TempDir dir;
  const size_t dim = 16;
  CollectionConfig config = SmallConfig(Distance::kEuclid, dim);
  config.optimizers.indexing_threshold = 64;  // KB: 1024 points a segment, a tenth 103
  config.optimizers.default_segment_number = 2;
  CollectionOptions options = QuietOptions();
  options.tail_quiet_period = std::chrono::milliseconds(200);
  auto created = Collection::Create("c", dir.path() / "c", config, options);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto c = std::move(created).value();
  std::mt19937 rng(13);
  std::map<uint64_t, std::vector<float>> model;
  auto upsert = [&](uint64_t from, uint64_t to) {
    UpsertOp op;
    for (uint64_t id = from; id < to; ++id) {
      model[id] = RandomVector(rng, dim);
      op.points.push_back(Point(id, model[id]));
    }
    SubmitAndWait(*c, {op});
  };
  for (uint64_t at = 0; at < 2500; at += 500) {
    upsert(at, at + 500);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while ((c->Info().indexed_vectors_count < model.size() ||
          c->Info().status != CollectionStatus::kGreen) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(c->Info().indexed_vectors_count, model.size());
  EXPECT_LE(c->Info().segments_count, 3u);
  // 50 points: under a tenth, scanned.
  upsert(10'000, 10'050);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(c->Info().indexed_vectors_count, 2500u);
  EXPECT_EQ(c->Info().status, CollectionStatus::kGreen);
  ExpectAllFound(*c, model);
}

// A PATCH of the HNSW parameters rebuilds the graphs built with the old ones (Qdrant's
// config-mismatch optimizer), from nothing; a vector whose hnsw_config says m 0 gets no graph,
// and gets one when a PATCH gives it an m.
TEST(CollectionTest, AnHnswChangeRebuildsTheGraphsItConcerns) {
  TempDir dir;
  const size_t dim = 8, n = 600;
  CollectionConfig config;
  config.single_unnamed_vector = false;
  config.vectors["a"] = VectorParams{.size = dim, .distance = Distance::kEuclid};
  config.vectors["b"] = VectorParams{.size = dim, .distance = Distance::kEuclid,
                                     .hnsw_config = HnswConfigDiff{.m = 0}};
  config.optimizers.indexing_threshold = 0;  // sealed by the PATCH below
  config.optimizers.default_segment_number = 1;
  config.hnsw.m = 8;
  config.hnsw.ef_construct = 32;
  auto c = CreateOrDie(dir.path(), config);
  std::mt19937 rng(17);
  std::map<uint64_t, std::vector<float>> model;
  UpsertOp op;
  for (uint64_t id = 0; id < n; ++id) {
    model[id] = RandomVector(rng, dim);
    op.points.push_back(PointStruct{PointId::Num(id),
                                    {{"a", model[id]}, {"b", RandomVector(rng, dim)}},
                                    json::object{}});
  }
  SubmitAndWait(*c, {op});
  auto settle = [&](uint64_t built_before) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while ((c->graphs_built() == built_before || c->Info().status != CollectionStatus::kGreen) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(c->Info().status, CollectionStatus::kGreen);
  };
  auto patch = [&](CollectionUpdate update) {
    const uint64_t built = c->graphs_built();
    ASSERT_TRUE(c->Update(update).ok());
    settle(built);
  };
  CollectionUpdate seal;
  seal.optimizers = OptimizersConfigDiff{.indexing_threshold = 1};
  patch(seal);
  EXPECT_EQ(c->Info().indexed_vectors_count, n) << "only a has a graph";
  const uint64_t inserted = c->graph_nodes_inserted();
  EXPECT_EQ(inserted, n);

  // A new m for the collection: a's graph is rebuilt from nothing, b still has none.
  CollectionUpdate m12;
  m12.hnsw = HnswConfigDiff{.m = 12};
  patch(m12);
  EXPECT_EQ(c->graph_nodes_inserted(), inserted + n);
  EXPECT_EQ(c->graph_nodes_reused(), 0u);
  EXPECT_EQ(c->Info().indexed_vectors_count, n);

  // b gets an m: b is built; a's graph, which matches, is grown from as it is.
  CollectionUpdate b_on;
  b_on.vectors["b"] = VectorParamsDiff{.hnsw_config = HnswConfigDiff{.m = 8}};
  patch(b_on);
  EXPECT_EQ(c->Info().indexed_vectors_count, 2 * n);
  EXPECT_EQ(c->graph_nodes_reused(), n);
  EXPECT_EQ(c->graph_nodes_inserted(), inserted + 2 * n);

  // An ef_construct change rebuilds too; m 0 again drops b's graph.
  CollectionUpdate ef_and_off;
  ef_and_off.hnsw = HnswConfigDiff{.ef_construct = 48};
  ef_and_off.vectors["b"] = VectorParamsDiff{.hnsw_config = HnswConfigDiff{.m = 0}};
  patch(ef_and_off);
  EXPECT_EQ(c->Info().indexed_vectors_count, n);
  EXPECT_EQ(c->graph_nodes_reused(), n);
  EXPECT_EQ(c->graph_nodes_inserted(), inserted + 3 * n);

  // Nothing more to do, also after a restart (the graph files record their parameters).
  const uint64_t built = c->graphs_built();
  ASSERT_TRUE(c->Flush().ok());
  c.reset();
  c = OpenOrDie(dir.path());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(c->graphs_built(), 0u) << "built " << built << " before the restart";
  EXPECT_EQ(c->Info().status, CollectionStatus::kGreen);
  EXPECT_EQ(c->Info().indexed_vectors_count, n);
  SearchRequest request;
  request.vector_name = "a";
  request.limit = 1;
  for (uint64_t id = 0; id < n; id += 37) {
    request.query = model[id];
    auto hits = c->Search(request);
    ASSERT_TRUE(hits.ok()) << hits.status().ToString();
    ASSERT_EQ(hits->size(), 1u);
    EXPECT_EQ((*hits)[0].record.id, PointId::Num(id));
  }
}

// The optimizer thread does the same on its own while writes go on, and a PATCH lowering
// indexing_threshold seals and indexes what the appendable segment holds.
TEST(CollectionTest, TheOptimizerThreadMergesAndFollowsAThresholdChange) {
  TempDir dir;
  CollectionConfig config = SmallConfig(Distance::kEuclid, 8);
  config.optimizers.indexing_threshold = 0;  // never seal
  config.optimizers.default_segment_number = 2;
  auto c = CreateOrDie(dir.path(), config);
  std::mt19937 rng(5);
  std::map<uint64_t, std::vector<float>> model;
  UpsertOp upsert;
  for (uint64_t id = 0; id < 300; ++id) {
    model[id] = RandomVector(rng, 8);
    upsert.points.push_back(Point(id, model[id]));
  }
  SubmitAndWait(*c, {upsert});
  EXPECT_EQ(c->Info().indexed_vectors_count, 0u);
  EXPECT_EQ(c->Info().status, CollectionStatus::kGreen);
  CollectionUpdate update;
  update.optimizers = OptimizersConfigDiff{.indexing_threshold = 1};
  ASSERT_TRUE(c->Update(update).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (c->Info().indexed_vectors_count < model.size() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(c->Info().indexed_vectors_count, model.size());
  // More writes, sealed every 32 points now, merged in the background.
  for (uint64_t batch = 0; batch < 20; ++batch) {
    UpsertOp more;
    for (uint64_t i = 0; i < 40; ++i) {
      const uint64_t id = 1000 + batch * 40 + i;
      model[id] = RandomVector(rng, 8);
      more.points.push_back(Point(id, model[id]));
    }
    SubmitAndWait(*c, {more});
  }
  while ((c->Info().status != CollectionStatus::kGreen || c->Info().segments_count > 3) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(c->Info().status, CollectionStatus::kGreen);
  EXPECT_LE(c->Info().segments_count, 3u);
  ExpectAllFound(*c, model);
}


}  // namespace
}  // namespace tessera::engine

#include "engine/optimizer.h"

#include <algorithm>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "engine/segment_set.h"

namespace tessera::engine {
namespace {

constexpr uint64_t kMb = 1 << 20;

SegmentFacts Indexed(uint64_t id, uint64_t mb, uint64_t live = 1000, uint64_t deleted = 0) {
  return {.id = id, .bytes = mb * kMb, .live = live, .deleted = deleted, .indexed = true};
}
SegmentFacts Unindexed(uint64_t id, uint64_t mb) {
  return {.id = id, .bytes = mb * kMb, .live = 1000, .indexed = false};
}
SegmentFacts Appendable(uint64_t id, uint64_t mb = 1, uint64_t deleted = 0) {
  return {.id = id, .bytes = mb * kMb, .live = 10, .deleted = deleted, .appendable = true};
}
OptimizerThresholds Target(size_t segments, uint64_t max_mb = 500) {
  return {.segment_number = segments, .max_segment_bytes = max_mb * kMb};
}
using Plans = std::vector<PlannedOptimization>;

TEST(OptimizerThresholdsTest, ResolvesQdrantsDefaults) {
  CollectionConfig c;
  EXPECT_EQ(OptimizerThresholdsFor(c, 2, 2).segment_number, 2u);    // cpus / 2, at least 2
  EXPECT_EQ(OptimizerThresholdsFor(c, 2, 8).segment_number, 4u);
  EXPECT_EQ(OptimizerThresholdsFor(c, 2, 64).segment_number, 8u);   // at most 8
  EXPECT_EQ(OptimizerThresholdsFor(c, 2, 2).max_segment_bytes, 2u * 256'000 * 1024);
  EXPECT_EQ(OptimizerThresholdsFor(c, 3, 2).max_segment_bytes, 3u * 256'000 * 1024);
  c.optimizers.default_segment_number = 5;
  c.optimizers.max_segment_size = 1000;
  c.optimizers.deleted_threshold = 0.5;
  c.optimizers.vacuum_min_vector_number = 100;
  const OptimizerThresholds t = OptimizerThresholdsFor(c, 2, 64);
  EXPECT_EQ(t.segment_number, 5u);
  EXPECT_EQ(t.max_segment_bytes, 1000u * 1024);
  EXPECT_EQ(t.deleted_threshold, 0.5);
  EXPECT_EQ(t.vacuum_min_vectors, 100u);
}

TEST(PlanOptimizationsTest, NothingToDoForIndexedSegmentsWithinTheTarget) {
  const std::vector<SegmentFacts> s{Indexed(1, 10), Indexed(2, 10), Appendable(3)};
  EXPECT_TRUE(PlanOptimizations(s, Target(2)).empty());
  EXPECT_TRUE(PlanOptimizations(std::vector<SegmentFacts>{Appendable(1)}, Target(2)).empty());
}

TEST(PlanOptimizationsTest, IndexesAloneWhileUnderTheTarget) {
  const std::vector<SegmentFacts> s{Indexed(1, 10), Unindexed(2, 10), Appendable(3)};
  EXPECT_EQ(PlanOptimizations(s, Target(2)), (Plans{{OptimizerKind::kIndexing, {2}}}));
}

TEST(PlanOptimizationsTest, IndexingMergesIntoTheSmallestIndexedSegmentOverTheTarget) {
  const std::vector<SegmentFacts> s{Indexed(1, 30), Indexed(2, 20), Unindexed(3, 10),
                                    Appendable(4)};
  EXPECT_EQ(PlanOptimizations(s, Target(2)), (Plans{{OptimizerKind::kIndexing, {3, 2}}}));
  // ... unless the two would pass max_segment_size.
  EXPECT_EQ(PlanOptimizations(s, Target(2, 25)), (Plans{{OptimizerKind::kIndexing, {3}}}));
}

TEST(PlanOptimizationsTest, IndexingTakesTheSmallestUnindexedSegmentsDownToTheTarget) {
  const std::vector<SegmentFacts> s{Indexed(1, 30), Unindexed(2, 10), Unindexed(3, 5),
                                    Unindexed(4, 7), Appendable(5)};
  // 4 sealed, target 2: the largest unindexed segment takes the two others.
  EXPECT_EQ(PlanOptimizations(s, Target(2)), (Plans{{OptimizerKind::kIndexing, {2, 3, 4}}}));
  // Under a 16 MB cap only 3 fits with it; 4 would pass the cap with the indexed segment
  // too, so it is indexed alone.
  EXPECT_EQ(PlanOptimizations(s, Target(2, 16)),
            (Plans{{OptimizerKind::kIndexing, {2, 3}}, {OptimizerKind::kIndexing, {4}}}));
  // Target 3: one is enough.
  EXPECT_EQ(PlanOptimizations(s, Target(3)),
            (Plans{{OptimizerKind::kIndexing, {2, 3}}, {OptimizerKind::kIndexing, {4}}}));
  // A bulk upload: nine sealed segments, none indexed, become one build.
  std::vector<SegmentFacts> bulk;
  for (uint64_t id = 1; id <= 9; ++id) {
    bulk.push_back(Unindexed(id, 10));
  }
  bulk.push_back(Appendable(10));
  EXPECT_EQ(PlanOptimizations(bulk, Target(2)),
            (Plans{{OptimizerKind::kIndexing, {9, 1, 2, 3, 4, 5, 6, 7}},
                   {OptimizerKind::kIndexing, {8}}}));
}

TEST(PlanOptimizationsTest, MergesTheSmallestSegmentsDownToTheTarget) {
  const std::vector<SegmentFacts> s{Indexed(1, 100), Indexed(2, 3), Indexed(3, 1), Indexed(4, 4),
                                    Indexed(5, 2), Appendable(6)};
  // 5 sealed, target 2: the 4 smallest become one.
  EXPECT_EQ(PlanOptimizations(s, Target(2)), (Plans{{OptimizerKind::kMerge, {3, 5, 2, 4}}}));
  // Under a 7 MB cap only 1 + 2 + 3 fit; 4 and 100 would not.
  EXPECT_EQ(PlanOptimizations(s, Target(2, 7)), (Plans{{OptimizerKind::kMerge, {3, 5, 2}}}));
  // A cap nothing fits under: nothing to merge.
  EXPECT_TRUE(PlanOptimizations(s, Target(2, 2)).empty());
  // Target 4: two of them.
  EXPECT_EQ(PlanOptimizations(s, Target(4)), (Plans{{OptimizerKind::kMerge, {3, 5}}}));
}

TEST(PlanOptimizationsTest, VacuumsLitteredSegmentsMostLitteredFirst) {
  OptimizerThresholds t = Target(8);
  t.deleted_threshold = 0.2;
  t.vacuum_min_vectors = 1000;
  const std::vector<SegmentFacts> s{
      Indexed(1, 10, 4000, 1000),   // 20%: not over the threshold
      Indexed(2, 10, 3000, 1200),   // 28.6%
      Indexed(3, 10, 100, 900),     // 90%, but fewer than 1000 deleted
      Indexed(4, 10, 1000, 9000),   // 90%
      Appendable(5, 1, 100'000)};   // the appendable segment is never planned
  EXPECT_EQ(PlanOptimizations(s, t),
            (Plans{{OptimizerKind::kVacuum, {4}}, {OptimizerKind::kVacuum, {2}}}));
}

// Random segment sets: no segment is in two plans, the appendable one in none, and every
// merge stays under max_segment_size.
TEST(PlanOptimizationsTest, RebuildsMismatchedSegmentsAloneLargestFirstAfterVacuum) {
  SegmentFacts littered = Indexed(1, 10, 1000, 2000);
  littered.mismatch = true;
  SegmentFacts small = Indexed(2, 10);
  small.mismatch = true;
  SegmentFacts large = Indexed(3, 40);
  large.mismatch = true;
  const std::vector<SegmentFacts> s{littered, small, large, Indexed(4, 20), Appendable(5)};
  EXPECT_EQ(PlanOptimizations(s, Target(4)),
            (Plans{{OptimizerKind::kVacuum, {1}},
                   {OptimizerKind::kConfigMismatch, {3}},
                   {OptimizerKind::kConfigMismatch, {2}}}));
  EXPECT_EQ(OptimizerName(OptimizerKind::kConfigMismatch), "config mismatch");
}

TEST(PlanOptimizationsTest, PlansAreDisjointAndWithinTheirLimits) {
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::vector<SegmentFacts> s;
    const size_t n = rng() % 12;
    for (size_t i = 0; i < n; ++i) {
      SegmentFacts f{.id = i + 1,
                     .bytes = (rng() % 200) * kMb,
                     .live = rng() % 5000,
                     .deleted = rng() % 3000,
                     .indexed = rng() % 3 != 0};
      s.push_back(f);
    }
    s.push_back(Appendable(n + 1));
    OptimizerThresholds t = Target(1 + rng() % 4, 50 + rng() % 400);
    std::set<uint64_t> seen;
    for (const PlannedOptimization& p : PlanOptimizations(s, t)) {
      ASSERT_FALSE(p.segments.empty());
      uint64_t bytes = 0;
      for (uint64_t id : p.segments) {
        ASSERT_TRUE(seen.insert(id).second) << "round " << round << ": segment " << id << " twice";
        ASSERT_NE(id, n + 1) << "round " << round << ": the appendable segment was planned";
        bytes += s[id - 1].bytes;
      }
      if (p.segments.size() > 1) {
        EXPECT_LT(bytes, t.max_segment_bytes) << "round " << round;
      }
      if (p.kind == OptimizerKind::kMerge) {
        EXPECT_GE(p.segments.size(), 2u);
        for (uint64_t id : p.segments) {
          EXPECT_TRUE(s[id - 1].indexed);
        }
      }
    }
  }
}

// A segment an optimization makes comes with the payload indexes the collection declares,
// built before it is swapped in: its first filtered request builds nothing.
TEST(OptimizerTest, ANewSegmentComesWithItsDeclaredPayloadIndexes) {
  CollectionConfig config;
  config.vectors[""] = VectorParams{.size = 2, .distance = Distance::kDot};
  config.payload_indexes["k"] = PayloadIndexInfo{};
  config.payload_indexes["n"] = PayloadIndexInfo{.type = PayloadSchemaType::kInteger};
  config.optimizers.indexing_threshold = 1;
  config.hnsw.m = 4;  // a small graph: the sealed tail is indexed into a copy
  config.hnsw.ef_construct = 16;
  SharedConfig shared(config);
  SegmentSet set({}, 1, SpecsFor(config));
  for (uint64_t i = 0; i < 200; ++i) {
    set.mutable_appendable().Put(PointId::Num(i), i + 1, {{"", DenseVector{1, 0}}},
                                 boost::json::object{{"k", i % 2 ? "a" : "b"}, {"n", i}});
  }
  Optimizer optimizer("c", set, shared, 1);
  ASSERT_TRUE(optimizer.OptimizeNow().ok());
  std::shared_lock state(set.mu());
  size_t sealed = 0;
  for (const auto& s : set.segments()) {
    if (!s->sealed()) {
      continue;
    }
    ++sealed;
    // Present for both, Strings for k, Integers and Numbers for n.
    EXPECT_EQ(s->payload_index().builds(), 5u);
    const auto a = s->payload_index().Strings("k", s->body_generation(), s->ids(), s->payloads());
    EXPECT_EQ(a->Match("a").cardinality(), 100u);
    EXPECT_EQ(s->payload_index().builds(), 5u) << "an index was built again at its first use";
  }
  EXPECT_EQ(sealed, 1u);
}

// Qdrant's defragmentation: a segment an optimization makes holds the points of one tenant
// (`is_tenant`), then by a principal field's values (`is_principal`), in neighbouring rows;
// without such a field, in the sources' order (also when each flag is on a type Qdrant does not
// have it on: serde ignores it there). Every point, its vector and payload survive.
TEST(OptimizerTest, ACopyKeepsEachTenantsPointsTogether) {
  for (int mode : {0, 1, 2}) {
    const bool declared = mode == 1;
    CollectionConfig config;
    config.vectors[""] = VectorParams{.size = 2, .distance = Distance::kDot};
    config.payload_indexes["tenant"] = PayloadIndexInfo{};
    config.payload_indexes["ts"] = PayloadIndexInfo{.type = PayloadSchemaType::kInteger};
    if (declared) {
      config.payload_indexes["tenant"].params["is_tenant"] = true;
      config.payload_indexes["ts"].params["is_principal"] = true;
    } else if (mode == 2) {
      config.payload_indexes["tenant"].params["is_principal"] = true;
      config.payload_indexes["ts"].params["is_tenant"] = true;
    }
    config.optimizers.indexing_threshold = 1;
    config.hnsw.m = 4;
    config.hnsw.ef_construct = 16;
    SharedConfig shared(config);
    SegmentSet set({}, 1, SpecsFor(config));
    const char* tenants[] = {"t2", "t0", "t1"};
    for (uint64_t i = 0; i < 300; ++i) {
      boost::json::object payload{{"tenant", tenants[i % 3]},
                                  {"ts", static_cast<int64_t>((i * 7919) % 300)}};
      if (i % 50 == 0) {
        payload.erase("tenant");  // no tenant: after all the others
      }
      set.mutable_appendable().Put(PointId::Num(i), i + 1,
                                   {{"", DenseVector{static_cast<float>(i), 1}}}, payload);
    }
    Optimizer optimizer("c", set, shared, 1);
    ASSERT_TRUE(optimizer.OptimizeNow().ok());
    std::shared_lock state(set.mu());
    const Segment* sealed = nullptr;
    for (const auto& s : set.segments()) {
      if (s->sealed()) {
        sealed = s.get();
      }
    }
    ASSERT_NE(sealed, nullptr);
    ASSERT_EQ(sealed->live_count(), 300u);
    std::vector<std::pair<std::string, int64_t>> rows;
    for (Offset o = 0; o < sealed->size(); ++o) {
      const boost::json::object& p = sealed->payload(o);
      const uint64_t id = sealed->point_id(o).num();
      EXPECT_EQ(p.at("ts").as_int64(), static_cast<int64_t>((id * 7919) % 300));
      const auto vectors = sealed->vectors_of(o);
      ASSERT_EQ(std::get<DenseVector>(vectors.at("")).front(), static_cast<float>(id));
      rows.emplace_back(p.contains("tenant") ? std::string(p.at("tenant").as_string()) : "~",
                        p.at("ts").as_int64());
    }
    EXPECT_EQ(std::is_sorted(rows.begin(), rows.end()), declared) << "mode " << mode;
    if (!declared) {
      EXPECT_EQ(sealed->point_id(0).num(), 0u);
      EXPECT_EQ(sealed->point_id(299).num(), 299u);
    }
  }
}

}  // namespace
}  // namespace tessera::engine

// The query IR (engine/query.h) run over a real collection: nearest by vector and by point,
// recommend (average_vector, examples left out), prefetch re-scoring with filters, RRF fusion,
// groups, and the limits of the tree. Points lie on a line, so every expected result is known.

#include <algorithm>
#include <random>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "engine/collection.h"
#include "tests/unit/temp_dir.h"

namespace tessera::engine {
namespace {

namespace json = boost::json;
using testing::TempDir;

// Point i at (i, 0), payload {"g": i % 3, "tags": [...]} for i in [0, 40).
class QueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CollectionConfig config;
    config.vectors[""] = VectorParams{.size = 2, .distance = Distance::kEuclid};
    CollectionOptions options;
    options.flush_interval = std::chrono::hours(1);
    auto c = Collection::Create("q", dir_.path() / "q", config, options);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    collection_ = std::move(c).value();
    UpsertOp upsert;
    for (uint64_t i = 0; i < 40; ++i) {
      json::object payload{{"g", i % 3}};
      if (i == 1) {
        payload["tags"] = json::array{"a", "b"};
      } else if (i < 6) {
        payload["tags"] = json::array{"a"};
      }
      upsert.points.push_back(
          PointStruct{PointId::Num(i), {{"", DenseVector{static_cast<float>(i), 0}}}, payload});
    }
    Result<SeqNo> seq = collection_->Submit({upsert}, Durability::kWritten);
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
    ASSERT_TRUE(collection_->WaitApplied(*seq, std::chrono::steady_clock::now() +
                                                   std::chrono::seconds(30)));
  }

  static Query Nearest(VectorExample target, size_t limit) {
    Query q;
    q.query = NearestQuery{std::move(target)};
    q.limit = limit;
    return q;
  }
  static DenseVector At(float x) { return {x, 0}; }

  std::vector<uint64_t> Ids(const Query& q) const {
    auto hits = collection_->Query(q);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    std::vector<uint64_t> ids;
    if (hits.ok()) {
      for (const ScoredPoint& p : *hits) {
        ids.push_back(p.record.id.num());
      }
    }
    return ids;
  }

  TempDir dir_;
  std::unique_ptr<Collection> collection_;
};

std::shared_ptr<const Filter> GroupIs(int64_t g) {
  auto f = std::make_shared<Filter>();
  f->must.push_back(FieldCondition{.key = "g", .match = MatchValue{g}});
  return f;
}

TEST_F(QueryTest, NearestToAVectorAndToAStoredPoint) {
  EXPECT_EQ(Ids(Nearest(At(10.2f), 3)), (std::vector<uint64_t>{10, 11, 9}));
  // By id: the point's own vector; the point itself is left out, as Qdrant leaves it.
  EXPECT_EQ(Ids(Nearest(PointId::Num(20), 3)), (std::vector<uint64_t>{19, 21, 18}));
  Query offset = Nearest(At(10), 2);
  offset.offset = 1;
  EXPECT_EQ(Ids(offset), (std::vector<uint64_t>{9, 11}));
  Query filtered = Nearest(At(10), 2);
  filtered.filter = GroupIs(0);
  EXPECT_EQ(Ids(filtered), (std::vector<uint64_t>{9, 12}));
  auto missing = collection_->Query(Nearest(PointId::Num(999), 3));
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(missing.status().message(), "Not found: No point with id 999 found");
}

TEST_F(QueryTest, RecommendAveragesTheExamplesAndLeavesThemOut) {
  Query q;
  q.limit = 3;
  q.query = RecommendQuery{{PointId::Num(21), PointId::Num(23)}, {}};
  // avg(21, 23) = 22; 21 and 23, the nearest after it, are examples: left out.
  EXPECT_EQ(Ids(q), (std::vector<uint64_t>{22, 20, 24}));
  // avg(pos) + (avg(pos) - avg(neg)) = 11 + (11 - 0) = 22; example 0, 10, 12 left out.
  q.query = RecommendQuery{{PointId::Num(10), PointId::Num(12)}, {PointId::Num(0)}};
  EXPECT_EQ(Ids(q), (std::vector<uint64_t>{22, 21, 23}));
  // Vectors as examples are not points: nothing is left out.
  q.query = RecommendQuery{{At(30), At(32)}, {}};
  EXPECT_EQ(Ids(q), (std::vector<uint64_t>{31, 30, 32}));
  q.query = RecommendQuery{{}, {PointId::Num(1)}};
  EXPECT_EQ(collection_->Query(q).status().message(),
            "Wrong input: at least one positive example is required");
  q.query = RecommendQuery{{At(1), DenseVector{1, 2, 3}}, {}};
  EXPECT_EQ(collection_->Query(q).status().message(),
            "Wrong input: examples have different dimensions");
}

TEST_F(QueryTest, APrefetchsCandidatesAreRescoredByTheQuery) {
  Query root = Nearest(At(100), 3);
  root.prefetch.push_back(Nearest(At(0), 5));  // 0..4
  EXPECT_EQ(Ids(root), (std::vector<uint64_t>{4, 3, 2}));
  // The root's filter applies to its prefetches too (as Qdrant pushes it down): the
  // candidates are the 5 nearest to 0 of group 0 (0, 3, 6, 9, 12); a prefetch's own filter
  // to its own search only.
  root.filter = GroupIs(0);
  EXPECT_EQ(Ids(root), (std::vector<uint64_t>{12, 9, 6}));
  root.filter = nullptr;
  root.prefetch[0].filter = GroupIs(1);  // 1, 4, 7, 10, 13
  EXPECT_EQ(Ids(root), (std::vector<uint64_t>{13, 10, 7}));
  // Two prefetches: the union of their candidates.
  root.prefetch.push_back(Nearest(At(39), 2));  // 39, 38
  EXPECT_EQ(Ids(root), (std::vector<uint64_t>{39, 38, 13}));
  // Recommend over prefetched candidates leaves its examples out as well.
  Query rec;
  rec.limit = 2;
  rec.query = RecommendQuery{{PointId::Num(2)}, {}};
  rec.prefetch.push_back(Nearest(At(0), 4));  // 0..3
  EXPECT_EQ(Ids(rec), (std::vector<uint64_t>{1, 3}));
}

// MMR on points (i, 0), Euclid (raw similarity -d^2), query at 10.4, 5 candidates (10, 11, 9,
// 12, 8), lambda 0.5, by hand: 10 first (most relevant); then 0.5 * rel - 0.5 * max sim to the
// chosen: 11 0.32, 9 -0.48, 12 0.72, 8 -0.88 -> 12; then 11 0.32, 9 -0.48, 8 -0.88 -> 11.
TEST_F(QueryTest, MmrTradesRelevanceForDiversityAsQdrant) {
  Query q = Nearest(At(10.4f), 3);
  EXPECT_EQ(Ids(q), (std::vector<uint64_t>{10, 11, 9}));
  std::get<NearestQuery>(q.query).mmr = MmrParams{.lambda = 0.5f, .candidates_limit = 5};
  EXPECT_EQ(Ids(q), (std::vector<uint64_t>{10, 12, 11}));
  auto hits = collection_->Query(q);
  ASSERT_TRUE(hits.ok());
  // The points keep the scores the nearest search gave them (Euclid: the distance).
  EXPECT_NEAR((*hits)[1].score, 1.6f, 1e-5);
  EXPECT_TRUE((*hits)[1].record.vectors.empty());  // not asked for
  // lambda 1 (diversity 0): relevance alone, the nearest order.
  std::get<NearestQuery>(q.query).mmr->lambda = 1.0f;
  EXPECT_EQ(Ids(q), (std::vector<uint64_t>{10, 11, 9}));
  // Qdrant's offset: the first `limit` chosen, less `offset`.
  std::get<NearestQuery>(q.query).mmr->lambda = 0.5f;
  q.offset = 1;
  EXPECT_EQ(Ids(q), (std::vector<uint64_t>{12, 11}));
  // candidates_limit defaults to the limit: three candidates (10, 11, 9): 10, then 11
  // (0.5 * -0.36 + 0.5) beats 9 (0.5 * -1.96 + 0.5).
  q.offset = 0;
  std::get<NearestQuery>(q.query).mmr->candidates_limit.reset();
  EXPECT_EQ(Ids(q), (std::vector<uint64_t>{10, 11, 9}));
  // Over a prefetch: its points as they scored there.
  Query root = Nearest(At(10.4f), 3);
  std::get<NearestQuery>(root.query).mmr = MmrParams{};
  root.prefetch.push_back(Nearest(At(0), 20));  // 0..19
  hits = collection_->Query(root);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 3u);
  EXPECT_EQ((*hits)[0].record.id.num(), 10u);
  EXPECT_NEAR((*hits)[0].score, 10.0f, 1e-5);  // its distance to 0, from the prefetch
}

// Qdrant's custom scorers on points (i, 0), Euclid (raw similarity -d^2), each by hand.
TEST_F(QueryTest, BestScoreSumScoresDiscoverAndContextScoreAsQdrant) {
  auto run = [&](ScoringQuery query, size_t limit) {
    Query q;
    q.query = std::move(query);
    q.limit = limit;
    auto hits = collection_->Query(q);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    std::vector<std::pair<uint64_t, float>> out;
    if (hits.ok()) {
      for (const ScoredPoint& p : *hits) {
        out.emplace_back(p.record.id.num(), p.score);
      }
    }
    return out;
  };
  // best_score, positive 10, negative 20: 10 scores sigmoid(0) = 0.5; 9 and 11 sigmoid(-1) =
  // 0.25 (a tie: by id).
  auto best = run(RecommendQuery{{At(10)}, {At(20)}, RecommendStrategy::kBestScore}, 3);
  ASSERT_EQ(best.size(), 3u);
  EXPECT_EQ(best[0], std::make_pair(uint64_t{10}, 0.5f));
  EXPECT_EQ(best[1], std::make_pair(uint64_t{9}, 0.25f));
  EXPECT_EQ(best[2], std::make_pair(uint64_t{11}, 0.25f));
  // Only negatives: -sigmoid(best negative similarity), the farthest from 0 first, below 0.
  auto away = run(RecommendQuery{{}, {At(0)}, RecommendStrategy::kBestScore}, 3);
  ASSERT_EQ(away.size(), 3u);
  EXPECT_EQ(away[0].first, 39u);
  EXPECT_EQ(away[2].first, 37u);
  EXPECT_LT(away[0].second, 0.0f);
  // A point example is left out: positive 10 (its own vector) gives 9, 11 first.
  auto by_id = run(RecommendQuery{{PointId::Num(10)}, {}, RecommendStrategy::kBestScore}, 2);
  EXPECT_EQ(by_id[0].first, 9u);
  EXPECT_EQ(by_id[1].first, 11u);
  // sum_scores, positive 10, negative 12: (x - 12)^2 - (x - 10)^2 = 44 - 4x.
  auto sum = run(RecommendQuery{{At(10)}, {At(12)}, RecommendStrategy::kSumScores}, 2);
  EXPECT_EQ(sum[0], std::make_pair(uint64_t{0}, 44.0f));
  EXPECT_EQ(sum[1], std::make_pair(uint64_t{1}, 40.0f));
  // discover, target 30, pair (10, 20): rank 1 below 15, then by closeness to 30:
  // 14 scores 1 + sigmoid(-256) = 1 + 0.5 / 257.
  auto found = run(DiscoverQuery{At(30), {{At(10), At(20)}}}, 3);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].first, 14u);
  EXPECT_NEAR(found[0].second, 1.0f + 0.5f / 257.0f, 1e-6);
  EXPECT_EQ(found[2].first, 12u);
  // With point examples, every one of them is left out.
  auto found_ids =
      run(DiscoverQuery{PointId::Num(14), {{PointId::Num(10), PointId::Num(20)}}}, 2);
  EXPECT_EQ(found_ids[0].first, 13u);  // 14 itself is the target
  // context, pair (10, 20): 0 for every point closer to 10 (0..14, by id), then 15 just below.
  auto zone = run(ContextQuery{{{At(10), At(20)}}}, 16);
  ASSERT_EQ(zone.size(), 16u);
  for (uint64_t i = 0; i < 15; ++i) {
    EXPECT_EQ(zone[i], std::make_pair(i, 0.0f));
  }
  EXPECT_EQ(zone[15].first, 15u);
  EXPECT_LT(zone[15].second, 0.0f);
  EXPECT_GT(zone[15].second, -1e-6f);
}

// MmrOrder against the formula applied naively (max over every chosen point at each step).
TEST(MmrOrderTest, AgreesWithANaiveGreedyChoice) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1, 1);
  for (int round = 0; round < 200; ++round) {
    const size_t n = 1 + rng() % 30;
    const size_t limit = rng() % 12;
    const float lambda = static_cast<float>(rng() % 11) / 10;
    std::vector<float> rel(n);
    std::vector<std::vector<float>> sim(n, std::vector<float>(n));
    for (size_t i = 0; i < n; ++i) {
      rel[i] = u(rng);
      for (size_t j = 0; j < n; ++j) {
        sim[i][j] = u(rng);
      }
    }
    size_t calls = 0;
    const auto got = MmrOrder(
        rel, [&](size_t i, size_t j) { ++calls; return sim[i][j]; }, lambda, limit);
    std::vector<size_t> want;
    std::vector<bool> taken(n);
    while (want.size() < std::min(limit, n)) {
      size_t best = n;
      float best_score = 0;
      for (size_t i = 0; i < n; ++i) {
        if (taken[i]) continue;
        float score = rel[i];
        if (!want.empty()) {
          float m = -2;
          for (size_t c : want) m = std::max(m, sim[i][c]);
          score = lambda * rel[i] - (1 - lambda) * m;
        }
        if (best == n || score > best_score || (want.empty() && score == best_score)) {
          best = i;
          best_score = score;
        }
      }
      want.push_back(best);
      taken[best] = true;
    }
    if (n == 1 && limit > 0) {
      want = {0};
    }
    ASSERT_EQ(got, want) << "round " << round;
    EXPECT_LE(calls, n * n);  // each pair once at most
  }
}

TEST(FuseRrfTest, SumsReciprocalRanksAndBreaksTiesById) {
  auto list = [](std::vector<uint64_t> ids) {
    std::vector<ScoredPoint> out;
    for (uint64_t id : ids) {
      out.push_back(ScoredPoint{PointRecord{.id = PointId::Num(id)}, 100.0f});
    }
    return out;
  };
  const auto fused = FuseRrf({list({0, 1, 2}), list({2, 1, 3}), list({})}, 2.0);
  ASSERT_EQ(fused.size(), 4u);
  // Qdrant's 1 / (k + rank), rank from 0: 2: 1/4 + 1/2; 1: 1/3 + 1/3; 0: 1/2; 3: 1/4.
  const std::vector<std::pair<uint64_t, float>> expected = {
      {2, 0.75f}, {1, 2.0f / 3}, {0, 0.5f}, {3, 0.25f}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(fused[i].record.id.num(), expected[i].first);
    EXPECT_FLOAT_EQ(fused[i].score, expected[i].second);
  }
  const auto tie = FuseRrf({list({5}), list({4})}, 2.0);
  EXPECT_EQ(tie[0].record.id.num(), 4u);  // equal scores: lower id first
}

TEST(FuseRrfTest, WeightsAndKAsQdrant) {
  auto list = [](std::vector<uint64_t> ids) {
    std::vector<ScoredPoint> out;
    for (uint64_t id : ids) {
      out.push_back(ScoredPoint{PointRecord{.id = PointId::Num(id)}, 0.0f});
    }
    return out;
  };
  // 1 / ((rank + 1) / weight + k - 1): with weight 3 rank 2 counts as rank 0 would.
  const auto fused = FuseRrf({list({1, 2, 3}), list({4})}, 60.0, {3.0f, 1.0f});
  ASSERT_EQ(fused.size(), 4u);
  EXPECT_FLOAT_EQ(fused[0].score, 1.0f / (1.0f / 3 + 59));
  EXPECT_EQ(fused[0].record.id.num(), 1u);
  const auto p3 = std::find_if(fused.begin(), fused.end(),
                               [](const ScoredPoint& p) { return p.record.id.num() == 3; });
  const auto p4 = std::find_if(fused.begin(), fused.end(),
                               [](const ScoredPoint& p) { return p.record.id.num() == 4; });
  EXPECT_FLOAT_EQ(p3->score, p4->score);  // rank 2 at weight 3 = rank 0 at weight 1
  // A zero weight contributes nothing.
  const auto zero = FuseRrf({list({1}), list({2})}, 2.0, {0.0f, 1.0f});
  EXPECT_EQ(zero[0].record.id.num(), 2u);
  EXPECT_EQ(zero[1].score, 0.0f);
}

TEST(FuseDbsfTest, NormalisesEachListBetweenThreeSigmasAndSums) {
  auto list = [](std::vector<std::pair<uint64_t, float>> hits) {
    std::vector<ScoredPoint> out;
    for (auto [id, score] : hits) {
      out.push_back(ScoredPoint{PointRecord{.id = PointId::Num(id)}, score});
    }
    return out;
  };
  // List a: 1, 2, 3 -> mean 2, sample sd 1, extremes -1 and 5: (s + 1) / 6.
  // List b: one point -> 0.5.
  const auto fused = FuseDbsf({list({{7, 3.0f}, {8, 2.0f}, {9, 1.0f}}), list({{9, 100.0f}})});
  ASSERT_EQ(fused.size(), 3u);
  EXPECT_EQ(fused[0].record.id.num(), 9u);
  EXPECT_FLOAT_EQ(fused[0].score, 2.0f / 6 + 0.5f);
  EXPECT_EQ(fused[1].record.id.num(), 7u);
  EXPECT_FLOAT_EQ(fused[1].score, 4.0f / 6);
  EXPECT_FLOAT_EQ(fused[2].score, 3.0f / 6);
  // Equal scores: every point 0.5.
  const auto flat = FuseDbsf({list({{1, 2.0f}, {2, 2.0f}})});
  EXPECT_FLOAT_EQ(flat[0].score, 0.5f);
  EXPECT_FLOAT_EQ(flat[1].score, 0.5f);
}

TEST_F(QueryTest, FusionRanksThePrefetchesListsAndPagesThem) {
  Query root;
  root.query = FusionQuery{};
  root.limit = 10;
  root.prefetch.push_back(Nearest(At(0), 3));  // 0, 1, 2
  root.prefetch.push_back(Nearest(At(2), 3));  // 2, then 1 and 3 tied (by id)
  EXPECT_EQ(Ids(root), (std::vector<uint64_t>{2, 1, 0, 3}));
  root.offset = 1;
  root.limit = 2;
  EXPECT_EQ(Ids(root), (std::vector<uint64_t>{1, 0}));
  root.offset = 0;
  root.with_payload = true;
  auto hits = collection_->Query(root);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ((*hits)[0].record.payload.at("g"), 2);
  // A threshold applies to the fused scores: 2 scores 1/4 + 1/2, 1 scores 1/3 + 1/3, 0 1/2.
  root.with_payload = false;
  root.limit = 10;
  root.score_threshold = 0.7f;
  EXPECT_EQ(Ids(root), (std::vector<uint64_t>{2}));
  root.score_threshold.reset();
  root.query = FusionQuery{.weights = {1.0f}};
  EXPECT_NE(collection_->Query(root).status().message().find("Number of weights in RRF"),
            std::string::npos);
  root.query = FusionQuery{.fusion = Fusion::kDbsf};
  EXPECT_EQ(Ids(root).size(), 4u);
  Query alone;
  alone.query = FusionQuery{};
  EXPECT_EQ(collection_->Query(alone).status().message(), "Wrong input: fusion needs `prefetch`");
}

TEST_F(QueryTest, GroupsTakeTheFirstKeysInRankOrder) {
  GroupRequest group{.group_by = "g", .group_size = 2, .limit = 2};
  auto groups = collection_->QueryGroups(Nearest(At(0), 1), group);
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  ASSERT_EQ(groups->size(), 2u);
  EXPECT_EQ((*groups)[0].key, 0);
  ASSERT_EQ((*groups)[0].hits.size(), 2u);
  EXPECT_EQ((*groups)[0].hits[0].record.id.num(), 0u);
  EXPECT_EQ((*groups)[0].hits[1].record.id.num(), 3u);
  EXPECT_EQ((*groups)[1].key, 1);
  EXPECT_EQ((*groups)[1].hits[1].record.id.num(), 4u);
  // An array value puts the point into each of its groups; points without the key are skipped.
  group = GroupRequest{.group_by = "tags", .group_size = 10, .limit = 10};
  groups = collection_->QueryGroups(Nearest(At(0), 1), group);
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 2u);
  EXPECT_EQ((*groups)[0].key, "a");
  EXPECT_EQ((*groups)[0].hits.size(), 6u);  // 0..5
  EXPECT_EQ((*groups)[1].key, "b");
  ASSERT_EQ((*groups)[1].hits.size(), 1u);
  EXPECT_EQ((*groups)[1].hits[0].record.id.num(), 1u);
}

TEST_F(QueryTest, ATreeDeeperThanFourPrefetchLevelsIsRefused) {
  auto nest = [](int levels) {
    Query q = Nearest(At(0), 1);
    for (int i = 0; i < levels; ++i) {
      Query parent = Nearest(At(0), 1);
      parent.prefetch.push_back(std::move(q));
      q = std::move(parent);
    }
    return q;
  };
  EXPECT_TRUE(collection_->Query(nest(4)).ok());
  EXPECT_EQ(collection_->Query(nest(5)).status().message(),
            "Wrong input: prefetch nested too deeply");
}

}  // namespace
}  // namespace tessera::engine

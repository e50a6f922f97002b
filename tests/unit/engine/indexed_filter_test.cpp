// Filters answered by a sealed segment's payload indexes (indexed_filter.h) against the plain
// evaluator: on random payloads (arrays, mixed types, missing keys, floats in integer fields)
// and random filters, an exact answer is exactly the evaluator's matches, and a partial one
// holds them all. Then through a collection: search, count, scroll (by id and ordered), the ids
// a filter matches and writes by filter agree with and without an index.

#include "engine/indexed_filter.h"

#include <random>
#include <set>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "engine/collection.h"
#include "engine/records.h"
#include "tests/unit/temp_dir.h"

namespace tessera::engine {
namespace {

namespace json = boost::json;

json::value RandomValue(std::mt19937& rng) {
  switch (rng() % 7) {
    case 0:
      return json::value(static_cast<int64_t>(rng() % 10) - 3);
    case 1:
      return json::value(static_cast<double>(rng() % 20) / 4 - 1);  // floats, some integral
    case 2:
      return json::value(std::string(1, static_cast<char>('a' + rng() % 5)));
    case 3:
      return json::value(rng() % 2 == 0);
    case 4: {
      json::array a;
      for (size_t i = 0, n = rng() % 4; i < n; ++i) {
        a.push_back(rng() % 2 ? json::value(static_cast<int64_t>(rng() % 10) - 3)
                              : json::value(std::string(1, static_cast<char>('a' + rng() % 5))));
      }
      return a;
    }
    case 5:
      return nullptr;
    default:
      return json::value(static_cast<uint64_t>(rng() % 10));
  }
}

MatchScalar RandomScalar(std::mt19937& rng) {
  if (rng() % 6 == 0) {
    return rng() % 2 == 0;  // booleans, answered by the bool postings
  }
  if (rng() % 2) {
    return static_cast<int64_t>(rng() % 10) - 3;
  }
  return std::string(1, static_cast<char>('a' + rng() % 6));
}

Condition RandomCondition(std::mt19937& rng) {
  FieldCondition c;
  c.key = rng() % 5 == 0 ? "plain" : (rng() % 2 ? "f" : "g");  // "plain" is not indexed
  switch (rng() % 4) {
    case 0:
      c.match = MatchValue{RandomScalar(rng)};
      break;
    case 1: {
      MatchAny any;
      for (size_t i = 0, n = 1 + rng() % 3; i < n; ++i) {
        any.values.push_back(RandomScalar(rng));
      }
      c.match = any;
      break;
    }
    default: {
      RangeBounds r;
      auto bound = [&] { return static_cast<double>(rng() % 24) / 4 - 2; };
      if (rng() % 3) (rng() % 2 ? r.gt : r.gte) = bound();
      if (rng() % 3) (rng() % 2 ? r.lt : r.lte) = bound();
      c.range = r;
    }
  }
  return c;
}

TEST(IndexedFilterTest, AnswersAgreeWithTheEvaluatorOnRandomPayloads) {
  std::mt19937 rng(23);
  CollectionConfig config;
  config.vectors[""] = VectorParams{.size = 2, .distance = Distance::kDot};
  config.payload_indexes["f"] = PayloadIndexInfo{};
  config.payload_indexes["g"] = PayloadIndexInfo{};
  Segment s(1, SpecsFor(config));
  for (uint64_t i = 0; i < 600; ++i) {
    json::object payload;
    for (const char* key : {"f", "g", "plain"}) {
      if (rng() % 4) {
        payload[key] = RandomValue(rng);
      }
    }
    s.Put(PointId::Num(i), i + 1, {{"", DenseVector{1, 0}}}, std::move(payload));
  }
  for (uint64_t i = 0; i < 600; i += 7) {
    s.Delete(*s.FindLive(PointId::Num(i)), 1000);
  }
  s.Seal();
  size_t exact = 0, partial = 0, exact_should = 0, exact_must_not = 0;
  for (int round = 0; round < 400; ++round) {
    Filter f;
    for (size_t i = 0, n = rng() % 4; i < n; ++i) {
      f.must.push_back(RandomCondition(rng));
    }
    if (rng() % 3 == 0) {
      for (size_t i = 0, n = 1 + rng() % 3; i < n; ++i) {
        f.should.push_back(RandomCondition(rng));
      }
    }
    if (rng() % 3 == 0) {
      for (size_t i = 0, n = 1 + rng() % 2; i < n; ++i) {
        f.must_not.push_back(RandomCondition(rng));
      }
    }
    if (rng() % 8 == 0) {  // a nested filter, itself random
      auto inner = std::make_shared<Filter>();
      inner->must.push_back(RandomCondition(rng));
      inner->must_not.push_back(RandomCondition(rng));
      (rng() % 2 ? f.must : f.should).push_back(FilterCondition{inner});
    }
    if (rng() % 6 == 0) {
      HasIdCondition ids;
      for (int k = 0; k < 50; ++k) {
        ids.ids.insert(PointId::Num(rng() % 700));
      }
      f.must.push_back(ids);
    }
    std::set<Offset> truth;
    for (Offset o = 0; o < s.size(); ++o) {
      if (!s.deleted(o) && Accepts(&f, s, o)) {
        truth.insert(o);
      }
    }
    auto candidates = IndexedCandidatesFor(f, s, config);
    if (!candidates) {
      continue;
    }
    std::set<Offset> got;
    for (Offset o : candidates->offsets) {
      if (!s.deleted(o)) {
        got.insert(o);
      }
    }
    if (candidates->exact) {
      ++exact;
      exact_should += !f.should.empty();
      exact_must_not += !f.must_not.empty();
      ASSERT_EQ(got, truth) << "round " << round;
    } else {
      ++partial;
      for (Offset o : truth) {
        ASSERT_TRUE(got.contains(o)) << "round " << round << ": a match is not a candidate";
      }
    }
  }
  EXPECT_GT(exact, 50u);
  EXPECT_GT(partial, 20u);
  EXPECT_GT(exact_should, 10u);  // should and must_not were answered, not only must
  EXPECT_GT(exact_must_not, 10u);
  // An appendable segment's indexes follow its writes: rebuilt when the body has changed.
  Segment appendable(2, SpecsFor(config));
  appendable.Put(PointId::Num(1), 1, {{"", DenseVector{1, 0}}}, json::object{{"f", "a"}});
  Filter f;
  f.must.push_back(FieldCondition{.key = "f", .match = MatchValue{std::string("a")}});
  auto live = [&](const IndexedCandidates& c) {
    std::set<Offset> out;
    for (Offset o : c.offsets) {
      if (!appendable.deleted(o)) {
        out.insert(o);
      }
    }
    return out;
  };
  EXPECT_EQ(live(*IndexedCandidatesFor(f, appendable, config)), (std::set<Offset>{0}));
  appendable.Put(PointId::Num(2), 2, {{"", DenseVector{1, 0}}}, json::object{{"f", "a"}});
  EXPECT_EQ(live(*IndexedCandidatesFor(f, appendable, config)), (std::set<Offset>{0, 1}));
  appendable.EditPayload(0, [](json::object& p) { p["f"] = "b"; });
  EXPECT_EQ(live(*IndexedCandidatesFor(f, appendable, config)), (std::set<Offset>{1}));
  appendable.Delete(1, 3);
  EXPECT_TRUE(live(*IndexedCandidatesFor(f, appendable, config)).empty());
}

// An appendable segment's indexes follow its writes value by value: after every write of a
// random sequence (inserts, overwrites, revivals of tombstones, payload set / delete / clear,
// vector changes, deletes), random filters' index answers agree with the evaluator, and the
// indexes are built once, not after each write.
TEST(IndexedFilterTest, AppendableIndexesFollowEveryWriteWithoutRebuilds) {
  std::mt19937 rng(41);
  CollectionConfig config;
  config.vectors[""] = VectorParams{.size = 2, .distance = Distance::kDot};
  config.payload_indexes["f"] = PayloadIndexInfo{};
  config.payload_indexes["g"] = PayloadIndexInfo{.type = PayloadSchemaType::kInteger};
  Segment s(1, SpecsFor(config));
  auto random_payload = [&] {
    json::object payload;
    for (const char* key : {"f", "g", "plain"}) {
      if (rng() % 4) {
        payload[key] = RandomValue(rng);
      }
    }
    return payload;
  };
  SeqNo seq = 1;
  for (uint64_t i = 0; i < 50; ++i) {
    s.Put(PointId::Num(i), seq++, {{"", DenseVector{1, 0}}}, random_payload());
  }
  size_t checked = 0, exact = 0;
  auto check = [&](int round) {
    for (int q = 0; q < 6; ++q) {
      Filter f;
      f.must.push_back(RandomCondition(rng));
      if (rng() % 3 == 0) {
        f.must_not.push_back(RandomCondition(rng));
      }
      std::set<Offset> truth, got;
      for (Offset o = 0; o < s.size(); ++o) {
        if (!s.deleted(o) && Accepts(&f, s, o)) {
          truth.insert(o);
        }
      }
      auto candidates = IndexedCandidatesFor(f, s, config);
      if (!candidates) {
        continue;
      }
      for (Offset o : candidates->offsets) {
        if (!s.deleted(o)) {
          got.insert(o);
        }
      }
      ++checked;
      if (candidates->exact) {
        ++exact;
        ASSERT_EQ(got, truth) << "round " << round;
      } else {
        for (Offset o : truth) {
          ASSERT_TRUE(got.contains(o)) << "round " << round;
        }
      }
    }
  };
  check(-1);
  const size_t builds = s.payload_index().builds();
  EXPECT_GT(builds, 0u);
  for (int round = 0; round < 600; ++round) {
    const uint64_t id = rng() % 80;  // inserts and overwrites
    const std::optional<Offset> live = s.FindLive(PointId::Num(id));
    switch (rng() % 7) {
      case 0:
      case 1:  // insert, overwrite, or revive a tombstone
        s.Put(PointId::Num(id), seq++, {{"", DenseVector{1, 0}}}, random_payload());
        break;
      case 2:
        if (live) {
          s.EditPayload(*live, [&](json::object& p) { p["f"] = RandomValue(rng); });
        }
        break;
      case 3:
        if (live) {
          s.EditPayload(*live, [&](json::object& p) { p.erase(rng() % 2 ? "f" : "g"); });
        }
        break;
      case 4:
        if (live) {
          s.EditPayload(*live, [](json::object& p) { p.clear(); });
        }
        break;
      case 5:
        if (live) {
          s.SetVector(0, *live, DenseVector{0, 1});
        }
        break;
      default:
        if (live) {
          s.Delete(*live, seq++);
        }
    }
    check(round);
  }
  EXPECT_GT(checked, 1500u);
  EXPECT_GT(exact, 500u);
  // Indexes for keys first asked about later may be built then; none is built twice.
  EXPECT_LE(s.payload_index().builds(), builds + 4) << "indexes were rebuilt after writes";
}

// A collection of 4-d points that seals every few dozen, with payload indexes on "k" (keyword)
// and "n" (integer) when `indexed`.
std::unique_ptr<Collection> MakeCollection(const std::filesystem::path& dir, bool indexed) {
  CollectionConfig config;
  config.vectors[""] = VectorParams{.size = 4, .distance = Distance::kEuclid};
  config.optimizers.indexing_threshold = 1;  // seal every few dozen points
  config.hnsw.m = 8;
  config.hnsw.ef_construct = 32;
  config.hnsw.full_scan_threshold = 10;
  if (indexed) {
    config.payload_indexes["k"] = PayloadIndexInfo{};
    config.payload_indexes["n"] = PayloadIndexInfo{.type = PayloadSchemaType::kInteger};
  }
  CollectionOptions options;
  options.flush_interval = std::chrono::hours(1);
  options.indexing_threads = 1;
  auto c = Collection::Create(indexed ? "with" : "without", dir / (indexed ? "w" : "o"), config,
                              options);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(c).value() : nullptr;
}

void Apply(Collection* c, const Operation& op) {
  Result<SeqNo> seq = c->Submit({op}, Durability::kWritten);
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  ASSERT_TRUE(c->WaitApplied(*seq, std::chrono::steady_clock::now() + std::chrono::minutes(1)));
}

std::vector<PointId> IdsOf(const std::vector<PointRecord>& records) {
  std::vector<PointId> ids;
  for (const PointRecord& r : records) {
    ids.push_back(r.id);
  }
  return ids;
}

// Through a collection: sealed, indexed segments answer filtered search and count as the same
// collection without payload indexes does.
TEST(IndexedFilterTest, SearchAndCountAgreeWithAndWithoutTheIndex) {
  testing::TempDir dir;
  std::unique_ptr<Collection> with = MakeCollection(dir.path(), true);
  std::unique_ptr<Collection> without = MakeCollection(dir.path(), false);
  ASSERT_TRUE(with && without);
  std::mt19937 rng(29);
  UpsertOp upsert;
  for (uint64_t i = 0; i < 2000; ++i) {
    DenseVector v(4);
    for (float& x : v) {
      x = static_cast<float>(rng() % 1000) / 100;
    }
    json::object payload{{"k", std::string(1, static_cast<char>('a' + rng() % 20))},
                         {"n", static_cast<int64_t>(rng() % 100)}};
    upsert.points.push_back(PointStruct{PointId::Num(i), {{"", v}}, payload});
  }
  for (Collection* c : {with.get(), without.get()}) {
    Result<SeqNo> seq = c->Submit({upsert}, Durability::kWritten);
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
    ASSERT_TRUE(c->WaitApplied(*seq, std::chrono::steady_clock::now() + std::chrono::minutes(1)));
    ASSERT_TRUE(c->OptimizeNow().ok());
  }
  // Then writes into the appendable segment: new points, and payloads changed on old ones.
  UpsertOp more;
  for (uint64_t i = 1500; i < 2300; ++i) {
    DenseVector v{static_cast<float>(rng() % 1000) / 100, 1, 2, 3};
    json::object payload{{"k", std::string(1, static_cast<char>('a' + rng() % 20))},
                         {"n", static_cast<int64_t>(rng() % 100)}};
    more.points.push_back(PointStruct{PointId::Num(i), {{"", v}}, payload});
  }
  for (Collection* c : {with.get(), without.get()}) {
    Result<SeqNo> seq = c->Submit({more}, Durability::kWritten);
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
    ASSERT_TRUE(c->WaitApplied(*seq, std::chrono::steady_clock::now() + std::chrono::minutes(1)));
  }
  size_t indexed_segments = 0;
  for (int q = 0; q < 40; ++q) {
    auto f = std::make_shared<Filter>();
    f->must.push_back(
        FieldCondition{.key = "k", .match = MatchValue{std::string(1, static_cast<char>('a' + q % 20))}});
    if (q % 2) {
      f->must.push_back(FieldCondition{.key = "n", .range = RangeBounds{.gte = 10.0 * (q % 5),
                                                                        .lt = 60.0}});
    }
    EXPECT_EQ(with->Count(f.get()), without->Count(f.get())) << "query " << q;
    DenseVector query{static_cast<float>(q % 10), 5, 5, 5};
    SearchStats stats;
    SearchRequest r{.vector_name = "", .query = query, .limit = 10, .exact = true,
                    .filter = f.get(), .stats = &stats};
    auto a = with->Search(r);
    r.stats = nullptr;
    auto b = without->Search(r);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->size(), b->size());
    for (size_t i = 0; i < a->size(); ++i) {
      EXPECT_EQ((*a)[i].record.id, (*b)[i].record.id) << "query " << q << " hit " << i;
    }
    indexed_segments += stats.index_estimates;
  }
  EXPECT_GT(indexed_segments, 0u) << "the indexes were never used";
}

// Count with `exact: false`: the indexes' exact answer where they give one (scaled by the live
// share once points are deleted), otherwise an estimate from an even sample, close to the
// exact figure on a segment of 20,000 points; small segments are counted exactly.
TEST(IndexedFilterTest, ApproximateCountIsCloseToTheExactOne) {
  testing::TempDir dir;
  CollectionConfig config;
  config.vectors[""] = VectorParams{.size = 4, .distance = Distance::kEuclid};
  config.payload_indexes["k"] = PayloadIndexInfo{};
  CollectionOptions options;
  options.flush_interval = std::chrono::hours(1);
  auto c = Collection::Create("approx", dir.path() / "a", config, options);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::mt19937 rng(31);
  UpsertOp upsert;
  for (uint64_t i = 0; i < 20000; ++i) {
    json::object payload{{"k", std::string(1, static_cast<char>('a' + rng() % 4))},
                         {"plain", static_cast<int64_t>(rng() % 100)}};
    upsert.points.push_back(PointStruct{PointId::Num(i), {{"", DenseVector{1, 2, 3, 4}}}, payload});
  }
  Apply(c.value().get(), upsert);
  auto keyword = std::make_shared<Filter>();
  keyword->must.push_back(FieldCondition{.key = "k", .match = MatchValue{std::string("b")}});
  auto unindexed = std::make_shared<Filter>();
  unindexed->must.push_back(FieldCondition{.key = "plain", .range = RangeBounds{.lt = 30.0}});
  auto both = std::make_shared<Filter>(*keyword);
  both->must.push_back(unindexed->must[0]);
  const uint64_t exact_keyword = (*c)->Count(keyword.get());
  EXPECT_GT(exact_keyword, 4000u);
  EXPECT_EQ((*c)->Count(keyword.get(), false), exact_keyword) << "the index's own answer";
  for (const auto& f : {unindexed, both}) {
    const double exact = static_cast<double>((*c)->Count(f.get()));
    const double estimate = static_cast<double>((*c)->Count(f.get(), false));
    EXPECT_GT(exact, 1000);
    EXPECT_NEAR(estimate, exact, 0.15 * exact);
  }
  DeletePointsOp del;
  for (uint64_t i = 0; i < 20000; i += 2) {
    del.ids.push_back(PointId::Num(i));
  }
  Apply(c.value().get(), del);
  const double exact = static_cast<double>((*c)->Count(keyword.get()));
  EXPECT_NEAR(static_cast<double>((*c)->Count(keyword.get(), false)), exact, 0.15 * exact);
  EXPECT_NEAR(static_cast<double>((*c)->Count(unindexed.get(), false)),
              static_cast<double>((*c)->Count(unindexed.get())), 0.15 * exact);
  EXPECT_EQ((*c)->Count(nullptr, false), 10000u);
}

// Scroll by id (paged, from a random id), scroll ordered by "n", the ids a filter matches, and
// deletes and payload writes by filter: the same with the payload indexes as without, over
// sealed segments and the appendable one, filters answered in full, in part, or not at all.
TEST(IndexedFilterTest, ScrollAndWritesByFilterAgreeWithAndWithoutTheIndex) {
  testing::TempDir dir;
  std::unique_ptr<Collection> with = MakeCollection(dir.path(), true);
  std::unique_ptr<Collection> without = MakeCollection(dir.path(), false);
  ASSERT_TRUE(with && without);
  std::mt19937 rng(31);
  auto payload_of = [&] {
    json::object payload{{"k", std::string(1, static_cast<char>('a' + rng() % 10))},
                         {"n", static_cast<int64_t>(rng() % 50)}};
    if (rng() % 4 == 0) {
      payload["plain"] = static_cast<int64_t>(rng() % 3);  // not indexed
    }
    if (rng() % 5 == 0) {  // several values, a repeat among them sometimes
      const auto a = static_cast<int64_t>(rng() % 50);
      payload["n"] = json::array{a, static_cast<int64_t>(rng() % 50), a};
    }
    return payload;
  };
  UpsertOp upsert;
  for (uint64_t i = 0; i < 1500; ++i) {
    DenseVector v{static_cast<float>(rng() % 100), 1, 2, 3};
    upsert.points.push_back(PointStruct{PointId::Num(i * 3), {{"", v}}, payload_of()});
  }
  for (Collection* c : {with.get(), without.get()}) {
    Apply(c, upsert);
    ASSERT_TRUE(c->OptimizeNow().ok());
  }
  UpsertOp more;  // into the appendable segment, some over sealed points
  for (uint64_t i = 1200; i < 1700; ++i) {
    more.points.push_back(PointStruct{PointId::Num(i * 3), {{"", DenseVector{1, 2, 3, 4}}},
                                      payload_of()});
  }
  for (Collection* c : {with.get(), without.get()}) {
    Apply(c, more);
  }
  auto random_filter = [&] {
    auto f = std::make_shared<Filter>();
    f->must.push_back(FieldCondition{
        .key = "k", .match = MatchValue{std::string(1, static_cast<char>('a' + rng() % 10))}});
    switch (rng() % 4) {
      case 0:
        f->must_not.push_back(
            FieldCondition{.key = "n", .range = RangeBounds{.lt = static_cast<double>(rng() % 50)}});
        break;
      case 1:
        f->must.push_back(FieldCondition{.key = "plain", .match = MatchValue{int64_t{1}}});
        break;
      case 2:
        f->should.push_back(FieldCondition{.key = "n", .range = RangeBounds{.gte = 25.0}});
        f->should.push_back(FieldCondition{.key = "k", .match = MatchValue{std::string("b")}});
        break;
      default:
        break;
    }
    return f;
  };
  for (int q = 0; q < 30; ++q) {
    std::shared_ptr<Filter> f = random_filter();
    std::optional<PointId> from;
    if (q % 3) {
      from = PointId::Num(rng() % 5000);
    }
    const size_t limit = 1 + rng() % 40;
    std::optional<PointId> next_with, next_without;
    const auto a = with->Scroll(from, limit, f.get(), false, false, &next_with);
    const auto b = without->Scroll(from, limit, f.get(), false, false, &next_without);
    EXPECT_EQ(IdsOf(a), IdsOf(b)) << "scroll " << q;
    EXPECT_EQ(next_with, next_without) << "scroll " << q;
    EXPECT_EQ(with->MatchingIds(f.get()), without->MatchingIds(f.get())) << "filter " << q;
    const OrderBy order{.key = "n", .descending = q % 2 == 1};
    auto ordered = with->ScrollOrdered(order, limit, f.get(), false, false);
    ASSERT_TRUE(ordered.ok()) << ordered.status().ToString();
    // A point is listed once for each distinct value it holds.
    std::vector<std::pair<double, PointId>> want;
    for (const PointId& id : without->MatchingIds(f.get())) {
      const auto records = without->Retrieve({id}, true, false);
      ASSERT_EQ(records.size(), 1u);
      const json::value& n = records[0].payload.at("n");
      std::set<double> values;
      for (const json::value& v : n.is_array() ? n.as_array() : json::array{n}) {
        values.insert(v.to_number<double>());
      }
      for (double v : values) {
        want.emplace_back(v, id);
      }
    }
    std::sort(want.begin(), want.end(), [&](const auto& x, const auto& y) {
      return x.first != y.first ? (order.descending ? x.first > y.first : x.first < y.first)
                                : x.second < y.second;
    });
    want.resize(std::min(want.size(), limit));
    ASSERT_EQ(ordered->size(), want.size()) << "ordered " << q;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ((*ordered)[i].id, want[i].second) << "ordered " << q << " at " << i;
      EXPECT_EQ((*ordered)[i].order_value, want[i].first) << "ordered " << q << " at " << i;
    }
  }
  // Writes by filter, then the collections still hold the same points and payloads.
  for (int w = 0; w < 12; ++w) {
    std::shared_ptr<Filter> f = random_filter();
    Operation op;
    if (w % 3 == 0) {
      op = DeletePointsOp{.filter = f};
    } else {
      op = SetPayloadOp{.payload = json::object{{"n", static_cast<int64_t>(w)}}, .filter = f};
    }
    for (Collection* c : {with.get(), without.get()}) {
      Apply(c, op);
    }
    ASSERT_EQ(with->MatchingIds(nullptr), without->MatchingIds(nullptr)) << "write " << w;
    EXPECT_EQ(with->Count(f.get()), without->Count(f.get())) << "write " << w;
  }
  const std::vector<PointId> ids = without->MatchingIds(nullptr);
  const auto a = with->Retrieve(ids, true, false);
  const auto b = without->Retrieve(ids, true, false);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].payload, b[i].payload) << "point " << a[i].id.ToString();
  }
}

}  // namespace
}  // namespace tessera::engine

namespace tessera::engine {
namespace {

// Geo conditions on a geo index are answered as the grid's superset and checked: counts and
// matching ids equal the same collection's without the index, for boxes (across the
// antimeridian too), radii (near a pole and the antimeridian too) and polygons.
TEST(IndexedFilterTest, GeoConditionsAgreeWithAndWithoutAGeoIndex) {
  testing::TempDir dir;
  std::unique_ptr<Collection> with = MakeCollection(dir.path(), true);
  std::unique_ptr<Collection> without = MakeCollection(dir.path(), false);
  ASSERT_TRUE(with && without);
  ASSERT_TRUE(
      with->CreatePayloadIndex("loc", PayloadIndexInfo{.type = PayloadSchemaType::kGeo}).ok());
  std::mt19937 rng(41);
  std::uniform_real_distribution<double> lat(-89, 89), lon(-180, 180), unit(0, 1);
  auto place = [&] {
    const double a = rng() % 5 == 0 ? 85 + 5 * unit(rng) : lat(rng);  // some near the pole
    const double o = rng() % 5 == 0 ? 179 + unit(rng) : lon(rng);    // some by the antimeridian
    return json::object{{"lon", o}, {"lat", a}};
  };
  UpsertOp upsert;
  for (uint64_t i = 0; i < 1200; ++i) {
    json::object payload{{"k", "a"}};
    if (rng() % 6 == 0) {
      payload["loc"] = json::array{place(), place()};
    } else if (rng() % 6 != 0) {
      payload["loc"] = place();
    }
    upsert.points.push_back(
        PointStruct{PointId::Num(i), {{"", DenseVector{1, 2, 3, static_cast<float>(i)}}}, payload});
  }
  for (Collection* c : {with.get(), without.get()}) {
    Apply(c, upsert);
    ASSERT_TRUE(c->OptimizeNow().ok());
  }
  for (int q = 0; q < 60; ++q) {
    FieldCondition c{.key = "loc"};
    const GeoPoint at{rng() % 3 == 0 ? 179.5 : lon(rng), rng() % 3 == 0 ? 87.0 : lat(rng)};
    const double size = std::pow(10.0, 2 * unit(rng) - 1);  // 0.1 to 10 degrees
    switch (q % 3) {
      case 0: {
        GeoPoint top_left{at.lon - size, at.lat + size}, bottom_right{at.lon + size, at.lat - size};
        if (bottom_right.lon > 180) {
          bottom_right.lon -= 360;  // across the antimeridian
        }
        c.geo_bounding_box = GeoBoundingBox{top_left, bottom_right};
        break;
      }
      case 1:
        c.geo_radius = GeoRadius{at, size * 111000.0};
        break;
      default:
        c.geo_polygon = GeoPolygon{{{at.lon, at.lat},
                                    {at.lon + size, at.lat},
                                    {at.lon + size, at.lat + size},
                                    {at.lon, at.lat + size},
                                    {at.lon, at.lat}},
                                   {}};
    }
    auto f = std::make_shared<Filter>();
    f->must.push_back(c);
    EXPECT_EQ(with->MatchingIds(f.get()), without->MatchingIds(f.get())) << "query " << q;
    EXPECT_EQ(with->Count(f.get()), without->Count(f.get())) << "query " << q;
  }
}

}  // namespace
}  // namespace tessera::engine

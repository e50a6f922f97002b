#include "engine/operations.h"

#include <cstdio>
#include <limits>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "common/coding.h"

#include "engine/filter.h"
#include "engine/filter_codec.h"
#include "engine/payload.h"

namespace tessera::engine {
namespace {

namespace json = boost::json;

OperationList EveryKind() {
  const PointId uuid = *PointId::ParseUuid("550e8400-e29b-41d4-a716-446655440000");
  return {
      UpsertOp{{PointStruct{PointId::Num(1),
                            {{"", DenseVector{1.5f, -2.0f}}, {"img", DenseVector{3.0f}}},
                            json::parse(R"({"a":[1,"x",{"b":null}]})").as_object()},
                PointStruct{uuid, {}, {}},
                PointStruct{PointId::Num(2),
                            {{"sparse", SparseVector{{3, 70000, 9}, {0.5f, -1.0f, 2.0f}}},
                             {"multi", MultiDenseVector{2, {1, 2, 3, 4, 5, 6}}}},
                            {}}}},
      DeletePointsOp{{PointId::Num(7), uuid}},
      SetPayloadOp{{PointId::Num(1)}, json::parse(R"({"k":1})").as_object(), "a.b"},
      OverwritePayloadOp{{PointId::Num(2)}, json::parse(R"({"z":true})").as_object(), ""},
      DeletePayloadOp{{PointId::Num(3)}, {"a", "b.c"}},
      ClearPayloadOp{{PointId::Num(4)}},
      UpdateVectorsOp{{PointVectors{PointId::Num(5), {{"", DenseVector{0.25f, 8.0f}}}}}},
      DeleteVectorsOp{{PointId::Num(6)}, {"img"}},
  };
}

bool SameLists(const OperationList& a, const OperationList& b) {
  return EncodeOperationList(a) == EncodeOperationList(b) && a.size() == b.size();
}

TEST(OperationsTest, CodecRoundTripsEveryOperationKind) {
  const OperationList ops = EveryKind();
  Result<OperationList> decoded = DecodeOperationList(EncodeOperationList(ops));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), ops.size());
  EXPECT_TRUE(SameLists(*decoded, ops));
  const auto& upsert = std::get<UpsertOp>((*decoded)[0]);
  EXPECT_EQ(upsert.points[0].vectors.at("img"), (VectorInput{DenseVector{3.0f}}));
  EXPECT_EQ(upsert.points[0].payload, json::parse(R"({"a":[1,"x",{"b":null}]})").as_object());
  EXPECT_EQ(std::get<SetPayloadOp>((*decoded)[2]).key, "a.b");
  EXPECT_EQ(upsert.points[2].vectors.at("sparse"),
            (VectorInput{SparseVector{{3, 70000, 9}, {0.5f, -1.0f, 2.0f}}}));
  EXPECT_EQ(std::get<MultiDenseVector>(upsert.points[2].vectors.at("multi")).rows(), 3u);
  for (size_t i = 0; i < ops.size(); ++i) {
    EXPECT_EQ(OperationName((*decoded)[i]), OperationName(ops[i]));
  }
}

TEST(OperationsTest, DecodeRejectsEveryTruncation) {
  const std::string bytes = EncodeOperationList(EveryKind());
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(DecodeOperationList(bytes.substr(0, cut)).ok()) << "cut " << cut;
  }
  EXPECT_FALSE(DecodeOperationList(bytes + "x").ok());
}

TEST(OperationsTest, PrepareChecksNamesAndDimensionsAndNormalisesCosine) {
  CollectionConfig config;
  config.vectors[""] = VectorParams{.size = 2, .distance = Distance::kCosine};
  OperationList ok{UpsertOp{{PointStruct{PointId::Num(1), {{"", DenseVector{3, 4}}}, {}}}}};
  ASSERT_TRUE(PrepareOperations(config, &ok).ok());
  EXPECT_EQ(std::get<UpsertOp>(ok[0]).points[0].vectors.at(""), (VectorInput{DenseVector{0.6f, 0.8f}}));
  OperationList bad_dim{UpdateVectorsOp{{PointVectors{PointId::Num(1), {{"", DenseVector{1, 2, 3}}}}}}};
  EXPECT_NE(PrepareOperations(config, &bad_dim).message().find("expected dim: 2, got 3"),
            std::string::npos);
  OperationList bad_name{DeleteVectorsOp{{PointId::Num(1)}, {"nope"}}};
  EXPECT_EQ(PrepareOperations(config, &bad_name).code(), Code::kInvalidArgument);
  // Every vector is optional, as in Qdrant: a point without any is a point.
  OperationList missing{UpsertOp{{PointStruct{PointId::Num(1), {}, {}}}}};
  EXPECT_TRUE(PrepareOperations(config, &missing).ok());
}

TEST(OperationsTest, PrepareSortsSparseVectorsAndRefusesWrongKinds) {
  CollectionConfig config;
  config.vectors[""] = VectorParams{.size = 2, .distance = Distance::kDot};
  config.sparse_vectors["words"] = SparseVectorParams{};
  OperationList ok{UpsertOp{{PointStruct{
      PointId::Num(1), {{"words", SparseVector{{9, 2, 5}, {0.9f, 0.2f, 0.5f}}}}, {}}}}};
  ASSERT_TRUE(PrepareOperations(config, &ok).ok());
  EXPECT_EQ(std::get<UpsertOp>(ok[0]).points[0].vectors.at("words"),
            (VectorInput{SparseVector{{2, 5, 9}, {0.2f, 0.5f, 0.9f}}}));
  OperationList repeated{UpdateVectorsOp{
      {PointVectors{PointId::Num(1), {{"words", SparseVector{{3, 3}, {1, 2}}}}}}}};
  EXPECT_EQ(PrepareOperations(config, &repeated).code(), Code::kInvalidArgument);
  OperationList dense_for_sparse{UpsertOp{
      {PointStruct{PointId::Num(1), {{"words", DenseVector{1, 2}}}, {}}}}};
  EXPECT_NE(PrepareOperations(config, &dense_for_sparse).message().find("Conversion between"),
            std::string::npos);
  OperationList sparse_for_dense{UpsertOp{
      {PointStruct{PointId::Num(1), {{"", SparseVector{{1}, {1}}}}, {}}}}};
  EXPECT_NE(PrepareOperations(config, &sparse_for_dense).message().find("Conversion between"),
            std::string::npos);
  OperationList infinite{UpsertOp{{PointStruct{
      PointId::Num(1), {{"words", SparseVector{{1}, {std::numeric_limits<float>::infinity()}}}},
      {}}}}};
  EXPECT_EQ(PrepareOperations(config, &infinite).code(), Code::kInvalidArgument);
  OperationList delete_sparse{DeleteVectorsOp{{PointId::Num(1)}, {"words"}}};
  EXPECT_TRUE(PrepareOperations(config, &delete_sparse).ok());
}

TEST(PayloadTest, SetReplaceAndDeleteByPath) {
  json::object p = json::parse(R"({"a":{"b":1,"c":2},"list":[{"x":1,"y":2},{"x":3}]})").as_object();
  SetPayloadAt(p, "a", json::parse(R"({"b":9,"d":4})").as_object());
  EXPECT_EQ(p.at("a"), json::parse(R"({"b":9,"c":2,"d":4})"));
  SetPayloadAt(p, "new.deep", json::parse(R"({"k":true})").as_object());
  EXPECT_EQ(p.at("new"), json::parse(R"({"deep":{"k":true}})"));
  ReplacePayloadAt(p, "a", json::parse(R"({"only":1})").as_object());
  EXPECT_EQ(p.at("a"), json::parse(R"({"only":1})"));
  DeletePayloadPath(p, "list[].x");
  EXPECT_EQ(p.at("list"), json::parse(R"([{"y":2},{}])"));
  DeletePayloadPath(p, "new.deep.k");
  EXPECT_EQ(p.at("new"), json::parse(R"({"deep":{}})"));
  DeletePayloadPath(p, "missing.path");
  ReplacePayloadAt(p, "", json::parse(R"({"z":0})").as_object());
  EXPECT_EQ(p, json::parse(R"({"z":0})").as_object());
}

// ---- filters ----

struct Doc {
  PointId id;
  json::object payload;
  std::function<bool(std::string_view)> has_vector = [](std::string_view n) { return n == "img"; };
  PointView view() const { return PointView{id, payload, has_vector}; }
};

Doc D(uint64_t id, const char* payload) {
  return Doc{PointId::Num(id), json::parse(payload).as_object()};
}

Filter Must(Condition c) {
  Filter f;
  f.must.push_back(std::move(c));
  return f;
}

FieldCondition Field(std::string key) {
  FieldCondition c;
  c.key = std::move(key);
  return c;
}

TEST(FilterTest, MatchValueAnyExceptText) {
  const Doc d = D(1, R"({"city":"Berlin","tags":["a","b"],"n":3,"ok":true,"desc":"big red fox"})");
  auto match = [&](std::string key, Match m) {
    FieldCondition c = Field(std::move(key));
    c.match = std::move(m);
    return Matches(Must(c), d.view());
  };
  EXPECT_TRUE(match("city", MatchValue{std::string("Berlin")}));
  EXPECT_FALSE(match("city", MatchValue{std::string("Paris")}));
  EXPECT_TRUE(match("tags", MatchValue{std::string("b")}));  // arrays match by element
  EXPECT_TRUE(match("n", MatchValue{int64_t{3}}));
  EXPECT_FALSE(match("n", MatchValue{std::string("3")}));
  EXPECT_TRUE(match("ok", MatchValue{true}));
  EXPECT_TRUE(match("city", MatchAny{{std::string("Paris"), std::string("Berlin")}}));
  EXPECT_FALSE(match("city", MatchExcept{{std::string("Berlin")}}));
  EXPECT_TRUE(match("city", MatchExcept{{std::string("Paris")}}));
  // Without a text index: Qdrant's plain checks (substring; any word as a substring; prefix).
  using TK = MatchText::Kind;
  auto text = [](std::string t, TK kind = TK::kText,
                 std::shared_ptr<const index::TextTokenizer> tokenizer = nullptr) {
    MatchText m;
    m.text = std::move(t);
    m.kind = kind;
    m.tokenizer = std::move(tokenizer);
    return m;
  };
  EXPECT_TRUE(match("desc", text("red")));
  EXPECT_TRUE(match("desc", text("g re")));  // a substring, across words
  EXPECT_FALSE(match("desc", text("blue")));
  EXPECT_FALSE(match("desc", text("Fox BIG")));  // case-sensitive, in order
  EXPECT_TRUE(match("desc", text("cat fox", TK::kAny)));
  EXPECT_FALSE(match("desc", text("cat dog", TK::kAny)));
  EXPECT_TRUE(match("desc", text("red fox", TK::kPhrase)));
  EXPECT_TRUE(match("desc", text("big r", TK::kPrefix)));
  EXPECT_FALSE(match("desc", text("red", TK::kPrefix)));
  // With one (word tokenizer, lower-cased): tokens.
  index::TextTokenizerParams params;
  params.phrase_matching = true;
  auto tokenizer = *index::TextTokenizer::Create(params);
  EXPECT_TRUE(match("desc", text("Fox BIG", TK::kText, tokenizer)));  // every token, any order
  EXPECT_FALSE(match("desc", text("g re", TK::kText, tokenizer)));     // not tokens of the value
  EXPECT_FALSE(match("desc", text("fox cat", TK::kText, tokenizer)));
  EXPECT_TRUE(match("desc", text("fox cat", TK::kAny, tokenizer)));
  EXPECT_TRUE(match("desc", text("RED fox", TK::kPhrase, tokenizer)));
  EXPECT_FALSE(match("desc", text("fox red", TK::kPhrase, tokenizer)));  // out of order
  EXPECT_FALSE(match("desc", text("", TK::kPhrase, tokenizer)));  // no tokens: nothing
  EXPECT_FALSE(match("desc", text(" ,", TK::kText, tokenizer)));
  params.phrase_matching = false;  // no positions: a phrase matches nothing, as in Qdrant
  EXPECT_FALSE(match("desc", text("red fox", TK::kPhrase, *index::TextTokenizer::Create(params))));
  EXPECT_FALSE(match("missing", MatchValue{std::string("x")}));
}

TEST(FilterTest, TextConditionsMeetTheTextIndexOfTheirKey) {
  CollectionConfig config;
  config.payload_indexes["t"] = PayloadIndexInfo{PayloadSchemaType::kText, {}};
  config.payload_indexes["o[].t"] = PayloadIndexInfo{PayloadSchemaType::kText, {}};
  config.payload_indexes["k"] = PayloadIndexInfo{PayloadSchemaType::kKeyword, {}};
  Filter f;
  for (const char* key : {"t", "k", "u"}) {
    FieldCondition c;
    c.key = key;
    MatchText m;
    m.text = "W1";
    c.match = m;
    f.should.push_back(c);
  }
  auto inner = std::make_shared<Filter>();
  FieldCondition c;
  c.key = "t";
  c.match = MatchText{"x"};
  inner->must.push_back(c);
  f.must.push_back(NestedCondition{"o", inner});
  const TextIndexLookup lookup = TextIndexesOf(config);
  const BoundFilter bound(&f, lookup);
  ASSERT_NE(bound.get(), &f);  // a copy: something was bound
  auto tokenizer_of = [](const Condition& cond) {
    return std::get<MatchText>(*std::get<FieldCondition>(cond).match).tokenizer;
  };
  EXPECT_NE(tokenizer_of(bound.get()->should[0]), nullptr);  // t: text index
  EXPECT_EQ(tokenizer_of(bound.get()->should[1]), nullptr);  // k: keyword index
  EXPECT_EQ(tokenizer_of(bound.get()->should[2]), nullptr);  // u: none
  EXPECT_NE(tokenizer_of(std::get<NestedCondition>(bound.get()->must[0]).filter->must[0]), nullptr);
  EXPECT_EQ(tokenizer_of(f.should[0]), nullptr);  // the original is untouched
  // "w1" as a token does not match "w10" (the substring check did).
  const Doc d = D(1, R"({"t": "w10 w2", "o": [{"t": "x"}]})");
  EXPECT_FALSE(Matches(*bound.get(), d.view()));
  EXPECT_TRUE(Matches(f, d.view()) == false);  // unbound: "W1" is no substring of "w10" either
  const Doc e = D(2, R"({"t": "a W1 b", "o": [{"t": "X y"}]})");
  EXPECT_TRUE(Matches(*bound.get(), e.view()));  // nested "x" meets o[].t's index: token "x"
  EXPECT_FALSE(Matches(f, e.view()));            // unbound, "x" is no substring of "X y"
  // Nothing to bind: the filter itself.
  Filter plain;
  plain.must.push_back(FieldCondition{.key = "k", .match = MatchValue{std::string("x")}});
  EXPECT_EQ(BoundFilter(&plain, lookup).get(), &plain);
}

TEST(FilterTest, RangesCountsAndDatetimes) {
  const Doc d = D(1, R"({"price":10.5,"list":[1,2,3],"at":"2024-03-01T12:00:00Z"})");
  auto with = [&](auto setter) {
    FieldCondition c = Field("");
    setter(c);
    return Matches(Must(c), d.view());
  };
  EXPECT_TRUE(with([](FieldCondition& c) {
    c.key = "price";
    c.range = RangeBounds{.gte = 10, .lt = 11};
  }));
  EXPECT_FALSE(with([](FieldCondition& c) {
    c.key = "price";
    c.range = RangeBounds{.gt = 10.5};
  }));
  EXPECT_TRUE(with([](FieldCondition& c) {
    c.key = "list";
    c.values_count = RangeBounds{.gte = 3};
  }));
  EXPECT_FALSE(with([](FieldCondition& c) {
    c.key = "list";
    c.values_count = RangeBounds{.lt = 3};
  }));
  const double march = static_cast<double>(*ParseDatetimeMicros("2024-03-01"));
  EXPECT_TRUE(with([&](FieldCondition& c) {
    c.key = "at";
    c.datetime_range = RangeBounds{.gt = march};
  }));
  EXPECT_FALSE(with([&](FieldCondition& c) {
    c.key = "at";
    c.datetime_range = RangeBounds{.lt = march};
  }));
}

TEST(FilterTest, DatetimeParsing) {
  EXPECT_EQ(ParseDatetimeMicros("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseDatetimeMicros("1970-01-02"), 86400LL * 1000000);
  EXPECT_EQ(ParseDatetimeMicros("2000-01-01T01:00:00+01:00"),
            ParseDatetimeMicros("2000-01-01T00:00:00Z"));
  EXPECT_EQ(ParseDatetimeMicros("2000-01-01 00:00:00.5"),
            *ParseDatetimeMicros("2000-01-01T00:00:00Z") + 500000);
  EXPECT_FALSE(ParseDatetimeMicros("yesterday").has_value());
  EXPECT_FALSE(ParseDatetimeMicros("2000-13-01").has_value());
}

TEST(FilterTest, EmptyNullIdsVectorsNestedAndClauses) {
  const Doc d = D(5, R"({"e":[],"n":null,"x":1,"items":[{"a":1,"b":"u"},{"a":2,"b":"v"}]})");
  EXPECT_TRUE(Matches(Must(IsEmptyCondition{"e"}), d.view()));
  EXPECT_TRUE(Matches(Must(IsEmptyCondition{"missing"}), d.view()));
  EXPECT_TRUE(Matches(Must(IsEmptyCondition{"n"}), d.view()));
  EXPECT_FALSE(Matches(Must(IsEmptyCondition{"x"}), d.view()));
  EXPECT_TRUE(Matches(Must(IsNullCondition{"n"}), d.view()));
  EXPECT_FALSE(Matches(Must(IsNullCondition{"e"}), d.view()));
  EXPECT_FALSE(Matches(Must(IsNullCondition{"missing"}), d.view()));
  HasIdCondition ids;
  ids.ids = {PointId::Num(5), PointId::Num(6)};
  EXPECT_TRUE(Matches(Must(ids), d.view()));
  EXPECT_TRUE(Matches(Must(HasVectorCondition{"img"}), d.view()));
  EXPECT_FALSE(Matches(Must(HasVectorCondition{"txt"}), d.view()));

  // nested: one element must satisfy the whole inner filter.
  auto inner = std::make_shared<Filter>();
  FieldCondition a = Field("a");
  a.match = MatchValue{int64_t{1}};
  FieldCondition b = Field("b");
  b.match = MatchValue{std::string("v")};
  inner->must = {a, b};
  EXPECT_FALSE(Matches(Must(NestedCondition{"items", inner}), d.view()));
  inner->must = {a};
  EXPECT_TRUE(Matches(Must(NestedCondition{"items", inner}), d.view()));
  // slice: for one total, every point in exactly one slice (numbers and UUIDs alike); a
  // slice of total 4 inside the same-index slice of total 2 (one hash, no salt); never inside
  // nested (no id there).
  for (uint64_t n = 0; n < 200; ++n) {
    char uuid[37];
    std::snprintf(uuid, sizeof uuid, "00000000-0000-0000-0000-%012llx",
                  static_cast<unsigned long long>(n));
    for (const PointId& id : {PointId::Num(n), *PointId::ParseUuid(uuid)}) {
      const Doc p{id, {}};
      int in = 0;
      for (uint32_t i = 0; i < 4; ++i) {
        const bool of4 = Matches(Must(SliceCondition{4, i}), p.view());
        in += of4;
        if (of4) {
          EXPECT_TRUE(Matches(Must(SliceCondition{2, i % 2}), p.view()));
        }
      }
      EXPECT_EQ(in, 1) << id.ToString();
      EXPECT_EQ(Matches(Must(SliceCondition{1, 0}), p.view()), true);
    }
  }
  auto any_slice = std::make_shared<Filter>();
  any_slice->must = {SliceCondition{1, 0}};
  EXPECT_FALSE(Matches(Must(NestedCondition{"items", any_slice}), d.view()));
  // `items[]` names the same array (Qdrant's nested key may end in `[]`).
  EXPECT_TRUE(Matches(Must(NestedCondition{"items[]", inner}), d.view()));
  inner->must = {a, b};
  EXPECT_FALSE(Matches(Must(NestedCondition{"items[]", inner}), d.view()));
  // ... while plain paths match across elements.
  FieldCondition pa = Field("items[].a");
  pa.match = MatchValue{int64_t{1}};
  FieldCondition pb = Field("items[].b");
  pb.match = MatchValue{std::string("v")};
  Filter across;
  across.must = {pa, pb};
  EXPECT_TRUE(Matches(across, d.view()));

  Filter clauses;
  clauses.should = {IsNullCondition{"x"}, IsNullCondition{"n"}};
  clauses.must_not = {IsEmptyCondition{"x"}};
  EXPECT_TRUE(Matches(clauses, d.view()));
  clauses.min_should =
      MinShould{{IsNullCondition{"n"}, IsEmptyCondition{"e"}, IsNullCondition{"x"}}, 3};
  EXPECT_FALSE(Matches(clauses, d.view()));
  clauses.min_should->min_count = 2;
  EXPECT_TRUE(Matches(clauses, d.view()));
  EXPECT_TRUE(Matches(Filter{}, d.view()));
}

TEST(FilterTest, GeoConditions) {
  const Doc d = D(1, R"({"loc":{"lon":13.4,"lat":52.52}})");  // Berlin
  FieldCondition box = Field("loc");
  box.geo_bounding_box = GeoBoundingBox{{13.0, 53.0}, {14.0, 52.0}};
  EXPECT_TRUE(Matches(Must(box), d.view()));
  FieldCondition radius = Field("loc");
  radius.geo_radius = GeoRadius{{13.38, 52.52}, 5000};  // ~1.4 km away
  EXPECT_TRUE(Matches(Must(radius), d.view()));
  radius.geo_radius->radius_m = 1000;
  EXPECT_FALSE(Matches(Must(radius), d.view()));
  FieldCondition poly = Field("loc");
  poly.geo_polygon = GeoPolygon{{{13, 52}, {14, 52}, {14, 53}, {13, 53}, {13, 52}}, {}};
  EXPECT_TRUE(Matches(Must(poly), d.view()));
  poly.geo_polygon->interiors = {
      {{13.3, 52.4}, {13.5, 52.4}, {13.5, 52.6}, {13.3, 52.6}, {13.3, 52.4}}};
  EXPECT_FALSE(Matches(Must(poly), d.view()));
}

}  // namespace
}  // namespace tessera::engine

namespace tessera::engine {
namespace {

// A filter with every condition kind, nested twice.
std::shared_ptr<const Filter> EveryCondition() {
  auto inner = std::make_shared<Filter>();
  inner->must.push_back(FieldCondition{.key = "n", .match = MatchValue{int64_t{-3}}});
  auto f = std::make_shared<Filter>();
  f->must.push_back(FieldCondition{.key = "s", .match = MatchValue{std::string("x")}});
  f->must.push_back(FieldCondition{.key = "b", .match = MatchValue{true}});
  f->should.push_back(
      FieldCondition{.key = "any", .match = MatchAny{{std::string("a"), int64_t{4}}}});
  f->should.push_back(FieldCondition{.key = "ex", .match = MatchExcept{{int64_t{1}}}});
  f->should.push_back(FieldCondition{.key = "t", .match = MatchText{"hello"}});
  f->must_not.push_back(FieldCondition{.key = "r",
                                       .range = RangeBounds{.gt = 1.5, .lte = 9},
                                       .datetime_range = RangeBounds{.gte = 1e15},
                                       .values_count = RangeBounds{.lt = 3}});
  f->must_not.push_back(FieldCondition{
      .key = "g",
      .geo_bounding_box = GeoBoundingBox{{1, 2}, {3, 4}},
      .geo_radius = GeoRadius{{5, 6}, 100},
      .geo_polygon = GeoPolygon{{{0, 0}, {1, 0}, {1, 1}}, {{{0.2, 0.2}, {0.3, 0.2}, {0.3, 0.3}}}}});
  f->must_not.push_back(FieldCondition{.key = "fe", .is_empty = false});
  f->must_not.push_back(FieldCondition{.key = "fn", .is_null = true});
  f->must.push_back(IsEmptyCondition{"e"});
  f->must.push_back(IsNullCondition{"nl"});
  f->must.push_back(HasIdCondition{{PointId::Num(9), PointId::Num(2), PointId::Num(77)}});
  f->must.push_back(HasVectorCondition{"img"});
  f->must.push_back(NestedCondition{"arr", inner});
  f->must.push_back(FilterCondition{inner});
  f->must.push_back(SliceCondition{7, 3});
  f->min_should = MinShould{{IsEmptyCondition{"m"}}, 1};
  return f;
}

std::string Encoded(const Filter& f) {
  std::string out;
  EncodeFilter(&out, f);
  return out;
}

TEST(FilterCodecTest, RoundTripsEveryConditionKind) {
  const auto f = EveryCondition();
  const std::string bytes = Encoded(*f);
  std::string_view rest = bytes;
  Result<std::shared_ptr<const Filter>> decoded = DecodeFilter(&rest);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(Encoded(**decoded), bytes);
  ASSERT_TRUE((*decoded)->min_should.has_value());
  EXPECT_EQ((*decoded)->min_should->min_count, 1u);
  const auto& r = std::get<FieldCondition>((*decoded)->must_not[0]);
  EXPECT_EQ(*r.range->gt, 1.5);
  EXPECT_EQ(*r.range->lte, 9);
  EXPECT_FALSE(r.range->gte.has_value());
  EXPECT_EQ(std::get<HasIdCondition>((*decoded)->must[4]).ids.size(), 3u);
  const auto& empty_form = std::get<FieldCondition>((*decoded)->must_not[2]);
  EXPECT_EQ(empty_form.is_empty, std::optional<bool>(false));
  EXPECT_FALSE(empty_form.is_null.has_value());
  const auto& null_form = std::get<FieldCondition>((*decoded)->must_not[3]);
  EXPECT_EQ(null_form.is_null, std::optional<bool>(true));
  EXPECT_FALSE(null_form.is_empty.has_value());
  const auto& slice = std::get<SliceCondition>((*decoded)->must.back());
  EXPECT_EQ(slice.total, 7u);
  EXPECT_EQ(slice.index, 3u);
}

TEST(FilterCodecTest, DecodingRefusesEveryTruncationAndExcessiveNesting) {
  const std::string bytes = Encoded(*EveryCondition());
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    std::string_view rest(bytes.data(), cut);
    EXPECT_FALSE(DecodeFilter(&rest).ok()) << "cut " << cut;
  }
  auto deep = std::make_shared<Filter>();
  for (int i = 0; i < kMaxEncodedFilterDepth + 5; ++i) {
    auto outer = std::make_shared<Filter>();
    outer->must.push_back(FilterCondition{deep});
    deep = outer;
  }
  const std::string deep_bytes = Encoded(*deep);
  std::string_view rest = deep_bytes;
  EXPECT_EQ(DecodeFilter(&rest).status().code(), Code::kCorruption);
}

TEST(OperationsTest, FilterSelectorsRoundTripThroughTheWalCodec) {
  const auto filter = EveryCondition();
  OperationList ops = {DeletePointsOp{{}, filter},
                       SetPayloadOp{{}, json::parse(R"({"k":1})").as_object(), "", filter},
                       OverwritePayloadOp{{}, {}, "a", filter},
                       DeletePayloadOp{{}, {"a"}, filter},
                       ClearPayloadOp{{}, filter},
                       DeleteVectorsOp{{}, {"img"}, filter}};
  const std::string bytes = EncodeOperationList(ops);
  Result<OperationList> decoded = DecodeOperationList(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(SameLists(*decoded, ops));
  for (const Operation& op : *decoded) {
    ASSERT_NE(SelectorFilter(op), nullptr) << OperationName(op);
    EXPECT_EQ(Encoded(*SelectorFilter(op)), Encoded(*filter));
  }
  EXPECT_TRUE(HasFilterSelector(*decoded));
  EXPECT_FALSE(HasFilterSelector(EveryKind()));
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(DecodeOperationList(bytes.substr(0, cut)).ok()) << "cut " << cut;
  }
}

// WAL records written before filter selectors existed (list version 1: plain ids) replay.
TEST(OperationsTest, VersionOneRecordsStillDecode) {
  // version 1, two ops: delete ids [7], clear_payload ids [uuid-less 300].
  std::string v1;
  v1.push_back(1);
  v1.push_back(2);
  v1 += std::string("\x01\x01\x00\x07", 4);      // delete: n=1, id num 7
  v1 += std::string("\x05\x01\x00\xac\x02", 5);  // clear: n=1, id num 300
  Result<OperationList> decoded = DecodeOperationList(v1);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), 2u);
  EXPECT_EQ(std::get<DeletePointsOp>((*decoded)[0]).ids, std::vector<PointId>{PointId::Num(7)});
  EXPECT_EQ(std::get<ClearPayloadOp>((*decoded)[1]).ids, std::vector<PointId>{PointId::Num(300)});
  EXPECT_FALSE(HasFilterSelector(*decoded));
  v1[0] = 4;  // a version from the future is damage
  EXPECT_FALSE(DecodeOperationList(v1).ok());
}

// WAL records of list version 2 (dense vectors only, no kind byte) replay.
TEST(OperationsTest, VersionTwoRecordsWithVectorsStillDecode) {
  std::string v2;
  v2.push_back(2);  // version
  v2.push_back(1);  // one op
  v2.push_back(0);  // upsert
  v2.push_back(1);  // one point
  v2 += std::string("\x00\x05", 2);  // id num 5
  v2 += std::string("\x01\x00\x02", 3);  // one vector, name "", dim 2
  PutFloat(&v2, 1.0f);
  PutFloat(&v2, 2.0f);
  v2.push_back(0);  // payload ""
  Result<OperationList> decoded = DecodeOperationList(v2);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const auto& upsert = std::get<UpsertOp>((*decoded)[0]);
  EXPECT_EQ(upsert.points[0].id, PointId::Num(5));
  EXPECT_EQ(upsert.points[0].vectors.at(""), (VectorInput{DenseVector{1, 2}}));
}

// A collection declares dense vectors only: a sparse or multivector value is refused in
// Qdrant's words, and so is one for a name the collection does not have.
TEST(OperationsTest, PrepareRefusesAVectorOfAnotherKind) {
  CollectionConfig config;
  config.vectors["d"] = VectorParams{.size = 2, .distance = Distance::kDot};
  OperationList sparse{UpsertOp{{PointStruct{PointId::Num(1), {{"d", SparseVector{{1}, {1}}}}, {}}}}};
  EXPECT_EQ(PrepareOperations(config, &sparse).message(),
            "Wrong input: Conversion between sparse and regular vectors failed");
  OperationList multi{UpdateVectorsOp{{PointVectors{PointId::Num(1), {{"d", MultiDenseVector{2, {1, 2}}}}}}}};
  EXPECT_EQ(PrepareOperations(config, &multi).message(),
            "Wrong input: Conversion between multi and regular vectors failed");
  OperationList unknown{UpsertOp{{PointStruct{PointId::Num(1), {{"s", SparseVector{{1}, {1}}}}, {}}}}};
  EXPECT_EQ(PrepareOperations(config, &unknown).message(),
            "Wrong input: Not existing vector name error: s");
}

}  // namespace
}  // namespace tessera::engine

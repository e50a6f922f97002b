// Filter semantics as Qdrant's condition checker, case by case (#32 item 5). Each row is a
// filter as a client sends it and the payloads it matches. The expected column is read off
// Qdrant's source, not off our evaluator:
//   lib/segment/src/payload_storage/condition_checker.rs (ValueChecker for Match, Range,
//     ValuesCount, geo; `_check` takes an array's elements, one level; `check_empty` for a key
//     that reaches nothing),
//   lib/segment/src/payload_storage/query_checker.rs (check_field_condition, nested: the
//     filter on each object of `key[]`, with no id and no vectors),
//   lib/segment/src/common/utils.rs (check_is_empty, check_is_null),
//   lib/segment/src/json_path/mod.rs (value_get: a key applies to objects only).
// Every row runs through the plain evaluator and through the payload indexes' answers, on an
// appendable segment and on a sealed one, with the key indexed and not.

#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "api/filter_codec.h"
#include "engine/collection_config.h"
#include "engine/indexed_filter.h"
#include "engine/records.h"
#include "engine/segment.h"

namespace tessera::api {
namespace {

namespace json = boost::json;
using namespace engine;

struct Row {
  const char* filter;
  std::set<std::string> matches;  // names of the payloads the filter accepts
};

// Payloads of one key, "k", in every shape a condition meets.
const std::vector<std::pair<std::string, std::string>> kScalarPayloads = {
    {"missing", R"({})"},
    {"null", R"({"k": null})"},
    {"empty", R"({"k": []})"},
    {"a", R"({"k": "a"})"},
    {"b", R"({"k": "b"})"},
    {"3", R"({"k": 3})"},
    {"3.0", R"({"k": 3.0})"},
    {"3.5", R"({"k": 3.5})"},
    {"true", R"({"k": true})"},
    {"[a,b]", R"({"k": ["a", "b"]})"},
    {"[null]", R"({"k": [null]})"},
    {"[[a]]", R"({"k": [["a"]]})"},
    {"obj", R"({"k": {"x": 1}})"},
    {"[1,a]", R"({"k": [1, "a"]})"},
    {"[obj]", R"({"k": [{"x": 1}]})"},
    {"u64", R"({"k": 9223372036854775808})"},
    {"-1", R"({"k": -1})"},
    {"[null,a]", R"({"k": [null, "a"]})"},
    {"geo", R"({"k": {"lon": 0.001, "lat": 0.001}})"},
    {"[geo]", R"({"k": [{"lon": 50, "lat": 50}, {"lon": 0.001, "lat": 0.001}]})"},
    {"geo-str", R"({"k": {"lon": "0", "lat": 0}})"},
    {"2021", R"({"k": "2021-05-01T00:00:00Z"})"},
    {"[2019,2021]", R"({"k": ["2019-01-01T00:00:00Z", "2021-01-01T00:00:00Z"]})"},
};

const std::vector<Row> kScalarRows = {
    {R"({"must": [{"key": "k", "match": {"value": "a"}}]})", {"a", "[a,b]", "[1,a]", "[null,a]"}},
    {R"({"must": [{"key": "k", "match": {"value": 3}}]})", {"3"}},  // 3.0 is not an integer
    {R"({"must": [{"key": "k", "match": {"value": -1}}]})", {"-1"}},
    {R"({"must": [{"key": "k", "match": {"value": true}}]})", {"true"}},
    {R"({"must": [{"key": "k", "match": {"any": ["a", "c"]}}]})",
     {"a", "[a,b]", "[1,a]", "[null,a]"}},
    {R"({"must": [{"key": "k", "match": {"any": [3, 1]}}]})", {"3", "[1,a]"}},
    {R"({"must": [{"key": "k", "match": {"any": []}}]})", {}},
    // except: a null never matches, a value of another kind than the list's always does, an
    // array matches when one element does.
    {R"({"must": [{"key": "k", "match": {"except": ["a"]}}]})",
     {"b", "3", "3.0", "3.5", "true", "[a,b]", "[[a]]", "obj", "[1,a]", "[obj]", "u64", "-1",
      "geo", "[geo]", "geo-str", "2021", "[2019,2021]"}},
    {R"({"must": [{"key": "k", "match": {"except": [3]}}]})",
     {"a", "b", "3.0", "3.5", "true", "[a,b]", "[[a]]", "obj", "[1,a]", "[obj]", "u64", "-1",
      "[null,a]", "geo", "[geo]", "geo-str", "2021", "[2019,2021]"}},
    {R"({"must": [{"key": "k", "match": {"except": []}}]})",
     {"a", "b", "3", "3.0", "3.5", "true", "[a,b]", "[[a]]", "obj", "[1,a]", "[obj]", "u64", "-1",
      "[null,a]", "geo", "[geo]", "geo-str", "2021", "[2019,2021]"}},
    {R"({"must_not": [{"key": "k", "match": {"except": ["a"]}}]})",
     {"missing", "null", "empty", "a", "[null]", "[null,a]"}},
    {R"({"must": [{"key": "k", "match": {"text": "a"}}]})", {"a", "[a,b]", "[1,a]", "[null,a]"}},
    {R"({"must": [{"key": "k", "range": {"gte": 3}}]})", {"3", "3.0", "3.5", "u64"}},
    {R"({"must": [{"key": "k", "range": {"lt": 0}}]})", {"-1"}},
    {R"({"must": [{"key": "k", "range": {"gt": 1, "lt": 3.25}}]})", {"3", "3.0"}},
    {R"({"must": [{"key": "k", "range": {"gte": "2020-01-01T00:00:00Z"}}]})",
     {"2021", "[2019,2021]"}},
    {R"({"must": [{"key": "k", "values_count": {"gte": 2}}]})",
     {"[a,b]", "[1,a]", "[null,a]", "[geo]", "[2019,2021]"}},
    {R"({"must": [{"key": "k", "values_count": {"lt": 1}}]})", {"missing", "null", "empty"}},
    {R"({"must": [{"key": "k", "values_count": {"lte": 1}}]})",
     {"missing", "null", "empty", "a", "b", "3", "3.0", "3.5", "true", "[null]", "[[a]]", "obj",
      "[obj]", "u64", "-1", "geo", "geo-str", "2021"}},
    {R"({"must": [{"is_empty": {"key": "k"}}]})", {"missing", "null", "empty"}},
    {R"({"must_not": [{"is_empty": {"key": "k"}}]})",
     {"a", "b", "3", "3.0", "3.5", "true", "[a,b]", "[null]", "[[a]]", "obj", "[1,a]", "[obj]",
      "u64", "-1", "[null,a]", "geo", "[geo]", "geo-str", "2021", "[2019,2021]"}},
    {R"({"must": [{"is_null": {"key": "k"}}]})", {"null"}},  // [null] is an array, not null
    // The field-condition forms: any value decides; arrays whole; a missing key is empty and
    // not null (condition_checker.rs check_is_empty / check_is_null / check_empty).
    {R"({"must": [{"key": "k", "is_empty": true}]})", {"missing", "null", "empty"}},
    {R"({"must": [{"key": "k", "is_empty": false}]})",
     {"a", "b", "3", "3.0", "3.5", "true", "[a,b]", "[null]", "[[a]]", "obj", "[1,a]", "[obj]",
      "u64", "-1", "[null,a]", "geo", "[geo]", "geo-str", "2021", "[2019,2021]"}},
    {R"({"must": [{"key": "k", "is_null": true}]})", {"null", "[null]", "[null,a]"}},
    {R"({"must": [{"key": "k", "is_null": false}]})",
     {"missing", "empty", "a", "b", "3", "3.0", "3.5", "true", "[a,b]", "[[a]]", "obj", "[1,a]",
      "[obj]", "u64", "-1", "geo", "[geo]", "geo-str", "2021", "[2019,2021]"}},
    {R"({"must": [{"key": "k", "geo_radius": {"center": {"lon": 0, "lat": 0}, "radius": 1000}}]})",
     {"geo", "[geo]"}},
    {R"({"must": [{"key": "k", "geo_bounding_box": {"top_left": {"lon": -1, "lat": 1},
                                                    "bottom_right": {"lon": 1, "lat": -1}}}]})",
     {"geo", "[geo]"}},
    {R"({"must": [{"key": "k", "geo_polygon": {"exterior": {"points": [
         {"lon": -1, "lat": -1}, {"lon": 1, "lat": -1}, {"lon": 1, "lat": 1},
         {"lon": -1, "lat": 1}, {"lon": -1, "lat": -1}]}}}]})",
     {"geo", "[geo]"}},
    {R"({"must": [{"has_id": [3, 4]}]})", {"a", "b"}},  // ids are the payloads' positions
    {R"({"should": [{"key": "k", "match": {"value": "a"}}, {"key": "k", "range": {"lt": 0}}]})",
     {"a", "[a,b]", "[1,a]", "[null,a]", "-1"}},
    {R"({"min_should": {"conditions": [{"key": "k", "match": {"value": "a"}},
                                        {"key": "k", "match": {"value": "b"}},
                                        {"key": "k", "values_count": {"gte": 2}}],
                        "min_count": 2}})",
     {"[a,b]", "[1,a]", "[null,a]"}},
};

// Paths through objects and arrays, and nested conditions.
const std::vector<std::pair<std::string, std::string>> kPathPayloads = {
    {"o.k=a", R"({"o": {"k": "a"}})"},
    {"[o.k=a]", R"({"o": [{"k": "a"}]})"},
    {"[o.k=b,o.k=a]", R"({"o": [{"k": "b"}, {"k": "a"}]})"},
    {"[[o.k=a]]", R"({"o": [[{"k": "a"}]]})"},
    {"o.k=[a]", R"({"o": {"k": ["a"]}})"},
    {"[o.k=[a]]", R"({"o": [{"k": ["a"]}]})"},
    {"[o.k=null,o.k=1]", R"({"o": [{"k": null}, {"k": 1}]})"},
    {"[o.k=b,n=1]", R"({"o": [{"k": "b", "n": 1}, {"k": "a", "n": 2}]})"},
};

const std::vector<Row> kPathRows = {
    // A key applies to an object only: "o.k" does not walk into an array of objects.
    {R"({"must": [{"key": "o.k", "match": {"value": "a"}}]})", {"o.k=a", "o.k=[a]"}},
    {R"({"must": [{"key": "o[].k", "match": {"value": "a"}}]})",
     {"[o.k=a]", "[o.k=b,o.k=a]", "[o.k=[a]]", "[o.k=b,n=1]"}},
    {R"({"must": [{"key": "o[1].k", "match": {"value": "a"}}]})", {"[o.k=b,o.k=a]", "[o.k=b,n=1]"}},
    {R"({"must": [{"key": "o[0].k", "match": {"value": "a"}}]})", {"[o.k=a]", "[o.k=[a]]"}},
    {R"({"must": [{"key": "o[].k", "match": {"except": ["a"]}}]})",
     {"[o.k=b,o.k=a]", "[o.k=null,o.k=1]", "[o.k=b,n=1]"}},
    // values_count counts each value reached, not their sum.
    {R"({"must": [{"key": "o[].k", "values_count": {"gte": 2}}]})", {}},
    {R"({"must": [{"key": "o[].k", "values_count": {"gte": 1}}]})",
     {"[o.k=a]", "[o.k=b,o.k=a]", "[o.k=[a]]", "[o.k=null,o.k=1]", "[o.k=b,n=1]"}},
    {R"({"must": [{"is_empty": {"key": "o[].k"}}]})", {"o.k=a", "[[o.k=a]]", "o.k=[a]"}},
    {R"({"must": [{"is_null": {"key": "o[].k"}}]})", {"[o.k=null,o.k=1]"}},
    {R"({"must": [{"key": "o[].k", "is_empty": true}]})",
     {"o.k=a", "[[o.k=a]]", "o.k=[a]", "[o.k=null,o.k=1]"}},  // one empty value is enough
    {R"({"must": [{"key": "o[].k", "is_null": true}]})", {"[o.k=null,o.k=1]"}},
    // nested: the inner filter on each object of the array at the key.
    {R"({"must": [{"nested": {"key": "o", "filter": {"must": [{"key": "k", "match": {"value": "a"}}]}}}]})",
     {"[o.k=a]", "[o.k=b,o.k=a]", "[o.k=[a]]", "[o.k=b,n=1]"}},
    {R"({"must": [{"nested": {"key": "o", "filter": {"must": [
         {"key": "k", "match": {"value": "b"}}, {"key": "n", "match": {"value": 2}}]}}}]})",
     {}},  // no one element has both
    {R"({"must": [{"key": "o[].k", "match": {"value": "b"}}, {"key": "o[].n", "match": {"value": 2}}]})",
     {"[o.k=b,n=1]"}},  // without nested, any element may answer each condition
    {R"({"must": [{"nested": {"key": "o", "filter": {"must": [{"has_id": [0, 1, 2, 3, 4, 5, 6, 7]}]}}}]})",
     {}},  // no id inside nested
    {R"({"must": [{"nested": {"key": "o", "filter": {"must_not": [{"key": "k", "match": {"value": "a"}}]}}}]})",
     {"[o.k=b,o.k=a]", "[o.k=null,o.k=1]", "[o.k=b,n=1]"}},
};

std::set<std::string> RunRow(const std::vector<std::pair<std::string, std::string>>& payloads,
                          const Row& row, const std::vector<std::string>& indexed, bool seal,
                          bool through_index,
                          PayloadIndexInfo index_info = PayloadIndexInfo{}) {
  CollectionConfig config;
  config.vectors[""] = VectorParams{.size = 2, .distance = Distance::kDot};
  for (const std::string& key : indexed) {
    config.payload_indexes[key] = index_info;
  }
  Segment s(1, SpecsFor(config));
  for (size_t i = 0; i < payloads.size(); ++i) {
    s.Put(PointId::Num(i), i + 1, {{"", DenseVector{1, 0}}},
          json::parse(payloads[i].second).as_object());
  }
  if (seal) {
    s.Seal();
  }
  auto filter = ParseFilter(json::parse(row.filter), "filter");
  EXPECT_TRUE(filter.ok()) << row.filter << ": " << filter.status().ToString();
  if (!filter.ok()) {
    return {};
  }
  std::set<std::string> got;
  const BoundFilter bound(filter->get(), TextIndexesOf(config));  // text meets its index
  std::optional<IndexedCandidates> candidates;
  if (through_index) {
    candidates = IndexedCandidatesFor(*bound.get(), s, config);
  }
  for (Offset o = 0; o < s.size(); ++o) {
    if (candidates && !candidates->offsets.contains(o)) {
      continue;
    }
    const bool accepted =
        (candidates && candidates->exact) ? true : Accepts(bound.get(), s, o);
    if (accepted) {
      got.insert(payloads[o].first);
    }
  }
  return got;
}

void CheckRows(const std::vector<std::pair<std::string, std::string>>& payloads,
               const std::vector<Row>& rows, const std::vector<std::string>& indexed) {
  for (const Row& row : rows) {
    for (bool seal : {false, true}) {
      EXPECT_EQ(RunRow(payloads, row, {}, seal, false), row.matches)
          << "evaluator, " << (seal ? "sealed" : "appendable") << ": " << row.filter;
      EXPECT_EQ(RunRow(payloads, row, indexed, seal, true), row.matches)
          << "indexes, " << (seal ? "sealed" : "appendable") << ": " << row.filter;
    }
  }
}

TEST(ConditionTableTest, ScalarShapes) { CheckRows(kScalarPayloads, kScalarRows, {"k"}); }

TEST(ConditionTableTest, PathsAndNested) {
  CheckRows(kPathPayloads, kPathRows, {"o.k", "o[].k", "o[1].k", "o[0].k", "o[].n"});
}

// Text conditions: Qdrant's plain checks without a text index, its tokens with one (word
// tokenizer, lower-cased; phrase_matching on). Through the evaluator and the token postings.
TEST(ConditionTableTest, TextWithAndWithoutATextIndex) {
  const std::vector<std::pair<std::string, std::string>> payloads = {
      {"missing", R"({})"},
      {"w1", R"({"k": "w1 and W2"})"},
      {"w10", R"({"k": "w10 only"})"},
      {"fox", R"({"k": "the quick brown fox"})"},
      {"[w1,w2]", R"({"k": ["w1", "w2"]})"},  // tokens of a point: its values together
      {"num", R"({"k": 10})"},
      {"[brown,quick]", R"({"k": ["brown", "quick"]})"},
  };
  struct TextRow {
    const char* filter;
    std::set<std::string> plain, indexed;
  };
  const TextRow rows[] = {
      {R"({"must": [{"key": "k", "match": {"text": "w1"}}]})", {"w1", "w10", "[w1,w2]"}, {"w1", "[w1,w2]"}},
      {R"({"must": [{"key": "k", "match": {"text": "w2 w1"}}]})", {}, {"w1", "[w1,w2]"}},
      {R"({"must": [{"key": "k", "match": {"text": "W2"}}]})", {"w1"}, {"w1", "[w1,w2]"}},
      {R"({"must": [{"key": "k", "match": {"text": ""}}]})",
       {"w1", "w10", "fox", "[w1,w2]", "[brown,quick]"}, {}},
      {R"({"must": [{"key": "k", "match": {"text_any": "fox w10"}}]})", {"w10", "fox"}, {"w10", "fox"}},
      {R"({"must": [{"key": "k", "match": {"phrase": "quick brown"}}]})", {"fox"}, {"fox"}},
      {R"({"must": [{"key": "k", "match": {"phrase": "brown quick"}}]})", {}, {}},  // no joining
      {R"({"must": [{"key": "k", "match": {"prefix": "w1"}}]})", {"w1", "w10", "[w1,w2]"},
       {"w1", "w10", "[w1,w2]"}},
      {R"({"must_not": [{"key": "k", "match": {"text": "w1"}}]})", {"missing", "fox", "num", "[brown,quick]"},
       {"missing", "w10", "fox", "num", "[brown,quick]"}},
  };
  PayloadIndexInfo text{PayloadSchemaType::kText, {}};
  text.params["phrase_matching"] = true;
  for (const TextRow& row : rows) {
    for (bool seal : {false, true}) {
      const Row r{row.filter, {}};
      EXPECT_EQ(RunRow(payloads, r, {}, seal, false), row.plain) << "plain: " << row.filter;
      EXPECT_EQ(RunRow(payloads, r, {"k"}, seal, false, text), row.indexed) << "evaluator: " << row.filter;
      EXPECT_EQ(RunRow(payloads, r, {"k"}, seal, true, text), row.indexed) << "postings: " << row.filter;
    }
  }
  // The postings answer all-tokens exactly (no payload read), a phrase as candidates only.
  CollectionConfig config;
  config.vectors[""] = VectorParams{.size = 2, .distance = Distance::kDot};
  config.payload_indexes["k"] = text;
  Segment s(1, SpecsFor(config));
  for (size_t i = 0; i < payloads.size(); ++i) {
    s.Put(PointId::Num(i), i + 1, {{"", DenseVector{1, 0}}}, json::parse(payloads[i].second).as_object());
  }
  s.Seal();
  for (const auto& [filter_text, exact] : {std::pair{R"({"must": [{"key": "k", "match": {"text": "w1"}}]})", true},
                                          std::pair{R"({"must": [{"key": "k", "match": {"phrase": "quick brown"}}]})", false}}) {
    auto filter = ParseFilter(json::parse(filter_text), "filter");
    ASSERT_TRUE(filter.ok());
    const BoundFilter bound(filter->get(), TextIndexesOf(config));
    auto candidates = IndexedCandidatesFor(*bound.get(), s, config);
    ASSERT_TRUE(candidates.has_value()) << filter_text;
    EXPECT_EQ(candidates->exact, exact) << filter_text;
  }
}

// The index paths were taken, not skipped: an indexed match, any and range are answered.
TEST(ConditionTableTest, IndexesAnswerTheRowsTheyCan) {
  CollectionConfig config;
  config.vectors[""] = VectorParams{.size = 2, .distance = Distance::kDot};
  config.payload_indexes["k"] = PayloadIndexInfo{};
  Segment s(1, SpecsFor(config));
  for (size_t i = 0; i < kScalarPayloads.size(); ++i) {
    s.Put(PointId::Num(i), i + 1, {{"", DenseVector{1, 0}}},
          json::parse(kScalarPayloads[i].second).as_object());
  }
  s.Seal();
  size_t exact = 0;
  for (const Row& row : kScalarRows) {
    auto filter = ParseFilter(json::parse(row.filter), "filter");
    ASSERT_TRUE(filter.ok());
    auto candidates = IndexedCandidatesFor(**filter, s, config);
    exact += candidates && candidates->exact;
  }
  // match value (strings, integers, booleans) and any, ranges, datetime ranges, has_id, should
  EXPECT_EQ(exact, 13u);
}

// Lists are Qdrant's AnyVariants (strings or integers), and one condition is one kind.
TEST(ConditionTableTest, RefusedShapes) {
  for (const char* bad : {
           R"({"must": [{"key": "k", "match": {"any": [true]}}]})",
           R"({"must": [{"key": "k", "match": {"any": ["a", 1]}}]})",
           R"({"must": [{"key": "k", "match": {"except": [1, "a"]}}]})",
           R"({"must": [{"key": "k", "match": {"except": [1.5]}}]})",
           R"({"must": [{"key": "k", "match": {"except": "a"}}]})",
           R"({"must": [{"key": "k", "match": {"value": "a"}, "range": {"gt": 1}}]})",
           R"({"must": [{"key": "k", "range": {"gt": 1}, "values_count": {"gt": 1}}]})",
       }) {
    auto filter = ParseFilter(json::parse(bad), "filter");
    EXPECT_FALSE(filter.ok()) << bad;
  }
}

}  // namespace
}  // namespace tessera::api

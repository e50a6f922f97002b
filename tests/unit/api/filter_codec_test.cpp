#include "api/filter_codec.h"

#include <functional>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace tessera::api {
namespace {

namespace json = boost::json;

// One valid filter per condition kind and filter form.
const char* const kValidFilters[] = {
    R"({"must": [{"key": "a", "match": {"value": 1}}]})",
    R"({"should": {"key": "a", "match": {"any": ["x", "y"]}}})",
    R"({"must_not": [{"key": "a", "match": {"except": [1]}}]})",
    R"({"must": [{"key": "t", "match": {"text": "hello"}}]})",
    R"({"must": [{"key": "n", "range": {"gt": 1, "lte": 5}}]})",
    R"({"must": [{"key": "d", "range": {"gte": "2024-01-01T00:00:00Z"}}]})",
    R"({"must": [{"key": "d", "datetime_range": {"lt": "2024-01-01T00:00:00Z"}}]})",
    R"({"must": [{"key": "v", "values_count": {"gte": 1, "lt": 3}}]})",
    R"({"must": [{"key": "g", "geo_bounding_box": {"top_left": {"lon": 1, "lat": 2},
                                                   "bottom_right": {"lon": 3, "lat": 1}}}]})",
    R"({"must": [{"key": "g", "geo_radius": {"center": {"lon": 1, "lat": 2}, "radius": 10}}]})",
    R"({"must": [{"key": "g", "geo_polygon": {
        "exterior": {"points": [{"lon": 0, "lat": 0}, {"lon": 1, "lat": 0}, {"lon": 1, "lat": 1},
                                {"lon": 0, "lat": 0}]},
        "interiors": [{"points": [{"lon": 0, "lat": 0}, {"lon": 1, "lat": 0},
                                  {"lon": 1, "lat": 1}, {"lon": 0, "lat": 0}]}]}}]})",
    R"({"must": [{"is_empty": {"key": "a"}}, {"is_null": {"key": "b"}}]})",
    R"({"must": [{"key": "a", "is_empty": false}, {"key": "b", "is_null": true}]})",
    R"({"must": [{"has_id": [1, 2]}, {"has_vector": "v"}]})",
    R"({"must": [{"nested": {"key": "arr", "filter": {"must": [{"key": "x",
                                                              "match": {"value": 1}}]}}}]})",
    R"({"must": [{"must": [{"key": "a", "match": {"value": 1}}], "must_not": []}]})",
    R"({"min_should": {"min_count": 1, "conditions": [{"key": "a", "match": {"value": 1}}]}})",
};

// Calls `visit` on every object inside `v` (v itself included) that is not payload data.
void EveryObject(json::value& v, const std::function<void(json::object&)>& visit) {
  if (json::object* o = v.if_object()) {
    visit(*o);
    for (auto& [key, child] : *o) {
      EveryObject(child, visit);
    }
  } else if (json::array* a = v.if_array()) {
    for (json::value& child : *a) {
      EveryObject(child, visit);
    }
  }
}

size_t CountObjects(json::value& v) {
  size_t n = 0;
  EveryObject(v, [&](json::object&) { ++n; });
  return n;
}

TEST(FilterCodecTest, EveryValidFilterParses) {
  for (const char* text : kValidFilters) {
    auto parsed = ParseFilter(json::parse(text), "filter");
    EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.status().ToString();
  }
}

// The delete-everything bug: an unread key must never leave a filter that matches more.
// Each valid filter, with an unknown key added at each of its object levels in turn, is
// refused with serde's `unknown field` text and the key's path.
TEST(FilterCodecTest, AnUnknownFieldAtAnyLevelIsRefused) {
  size_t mutations = 0;
  for (const char* text : kValidFilters) {
    json::value original = json::parse(text);
    const size_t objects = CountObjects(original);
    for (size_t target = 0; target < objects; ++target) {
      json::value mutated = original;
      size_t i = 0;
      EveryObject(mutated, [&](json::object& o) {
        if (i++ == target) {
          o["musst"] = json::array{};
        }
      });
      auto parsed = ParseFilter(mutated, "filter");
      ++mutations;
      ASSERT_FALSE(parsed.ok()) << json::serialize(mutated);
      EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument) << json::serialize(mutated);
      EXPECT_NE(parsed.status().message().find("unknown field `musst`"), std::string::npos)
          << parsed.status().message();
      EXPECT_NE(parsed.status().message().find("musst: unknown"), std::string::npos)
          << "path missing: " << parsed.status().message();
    }
  }
  EXPECT_GT(mutations, 60u);
}

TEST(FilterCodecTest, TheIssuesCasesAreRefused) {
  struct Case {
    const char* filter;
    Code code;
    const char* fragment;
  };
  const Case cases[] = {
      {R"({"musst": [{"key": "a", "match": {"value": 1}}]})", Code::kInvalidArgument,
       "filter.musst: unknown field `musst`, expected one of `should`, `min_should`, `must`, "
       "`must_not`"},
      {R"({"min_should": {"min_count": 0, "conditions": []}})", Code::kValidationFailed,
       "value 0 invalid, must be 1 or larger"},
      {R"({"must": [{"key": "a"}]})", Code::kValidationFailed,
       "At least one field condition must be specified"},
      {R"({"must": [{"key": "g", "geo_polygon": {"exterior": {"points": [{"lon": 0, "lat": 0},
          {"lon": 1, "lat": 0}, {"lon": 1, "lat": 1}, {"lon": 0, "lat": 1}]}}}]})",
       Code::kValidationFailed, "the first and the last points should be the same"},
      {R"({"must": [{"key": "g", "geo_polygon": {"exterior": {"points": [{"lon": 0, "lat": 0},
          {"lon": 1, "lat": 0}, {"lon": 0, "lat": 0}]}}}]})",
       Code::kValidationFailed, "polygon invalid, the size must be at least 4, got 3"},
      {R"({"must": [{"key": "a", "match": {"value": 1, "any": [2]}}]})", Code::kInvalidArgument,
       "expected exactly one of"},
      {R"({"must": [{"key": "a", "is_empty": true, "match": {"value": 1}}]})",
       Code::kInvalidArgument, "takes exactly one of"},
      {R"({"must": [{"key": "a", "is_null": 1}]})", Code::kInvalidArgument, "is_null"},
      {R"({"must": [{"has_id": [1], "has_vector": "v"}]})", Code::kInvalidArgument,
       "unknown field `has_vector`"},
      {R"({"must": [{"slice": {"of": 2}}]})", Code::kInvalidArgument, "unknown field `of`"},
      {R"({"must": [{"slice": {"total": 0, "index": 0}}]})", Code::kInvalidArgument,
       "expected a nonzero u32"},
      {R"({"must": [{"slice": {"total": 4, "index": 4}}]})", Code::kValidationFailed,
       "Slice index must be less than the total number of slices"},
      {R"({"must": [{}]})", Code::kInvalidArgument, "unknown condition"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseFilter(json::parse(c.filter), "filter");
    ASSERT_FALSE(parsed.ok()) << c.filter;
    EXPECT_EQ(parsed.status().code(), c.code) << c.filter << ": " << parsed.status().ToString();
    EXPECT_NE(parsed.status().message().find(c.fragment), std::string::npos)
        << c.filter << ": " << parsed.status().message();
  }
}

}  // namespace
}  // namespace tessera::api

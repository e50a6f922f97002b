// Request bodies against Qdrant's OpenAPI document (api/openapi_check.h): bodies the official
// clients send pass untouched, wrong types / enum misses / out-of-range values are refused
// with serde's or the validator's words and the field's path, and an untagged enum that several
// variants could be is left to the decoders.

#include "api/openapi_check.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace tessera::api {
namespace {

namespace json = boost::json;
using V = boost::beast::http::verb;

Status Check(V method, const char* pattern, const char* body) {
  return CheckSpecBody(method, pattern, json::parse(body));
}

constexpr const char* kCollection = "/collections/{collection_name}";
constexpr const char* kQuery = "/collections/{collection_name}/points/query";
constexpr const char* kGroups = "/collections/{collection_name}/points/query/groups";
constexpr const char* kSearch = "/collections/{collection_name}/points/search";  // 1.18 only
constexpr const char* kIndex = "/collections/{collection_name}/index";
constexpr const char* kUpsert = "/collections/{collection_name}/points";
constexpr const char* kDelete = "/collections/{collection_name}/points/delete";

TEST(OpenApiCheckTest, OperationsWithBodiesAreKnown) {
  EXPECT_TRUE(HasSpecBody(V::put, kCollection));
  EXPECT_TRUE(HasSpecBody(V::post, kQuery));
  EXPECT_TRUE(HasSpecBody(V::post, kSearch));  // from the 1.18 document
  EXPECT_FALSE(HasSpecBody(V::get, kCollection));
  EXPECT_FALSE(HasSpecBody(V::post, "/no/such/route"));
}

TEST(OpenApiCheckTest, ClientBodiesPass) {
  struct Case {
    V method;
    const char* pattern;
    const char* body;
  };
  const Case cases[] = {
      {V::put, kCollection, R"({"vectors": {"size": 4, "distance": "Cosine"}})"},
      {V::put, kCollection,
       R"({"vectors": {"a": {"size": 4, "distance": "Dot", "on_disk": true}},
           "hnsw_config": {"m": 32, "ef_construct": 200, "full_scan_threshold": 100},
           "optimizers_config": {"indexing_threshold": 0, "default_segment_number": 2},
           "wal_config": {"wal_capacity_mb": 64}, "shard_number": 1, "on_disk_payload": true})"},
      {V::put, kUpsert, R"({"points": [{"id": 1, "vector": [1, 2.5, 3, 4], "payload": {"a": null}},
                                       {"id": "5c56c793-69f3-4fbf-87e6-c4bf54c28c26",
                                        "vector": {"a": [0.1, 0.2]}}]})"},
      {V::put, kUpsert, R"({"batch": {"ids": [1, 2], "vectors": [[1, 2], [3, 4]],
                                      "payloads": [{"x": 1}, null]}})"},
      {V::post, kQuery, R"({"query": [0.1, 0.2], "limit": 5, "with_payload": ["a", "b"],
                            "params": {"hnsw_ef": 64, "exact": false}, "score_threshold": 0.5})"},
      {V::post, kQuery, R"({"query": 17, "using": "a", "filter": {"must": [
                              {"key": "city", "match": {"any": ["x", "y"]}},
                              {"has_id": [1, 2]}, {"is_empty": {"key": "t"}},
                              {"nested": {"key": "o", "filter": {"must_not": {"key": "k",
                                "range": {"gte": 1.5}}}}}]}})"},
      {V::post, kQuery, R"({"prefetch": [{"query": [1, 2], "limit": 20}], "query": {"fusion": "rrf"}})"},
      {V::post, kQuery, R"({"query": {"recommend": {"positive": [1], "negative": [[1, 2]]}}})"},
      {V::post, kSearch, R"({"vector": {"name": "a", "vector": [1, 2]}, "limit": 3, "offset": 1})"},
      {V::put, kIndex, R"({"field_name": "t", "field_schema": {"type": "text", "tokenizer": "word",
                            "min_token_len": 2, "lowercase": true, "stopwords": "english"}})"},
      {V::put, kIndex, R"({"field_name": "k", "field_schema": "keyword"})"},
      {V::post, kDelete, R"({"filter": {"must": [{"key": "a", "match": {"value": 1}}]}})"},
      {V::post, kDelete, R"({"points": [1, 2, "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"]})"},
  };
  for (const Case& c : cases) {
    Status s = Check(c.method, c.pattern, c.body);
    EXPECT_TRUE(s.ok()) << c.body << ": " << s.ToString();
  }
}

TEST(OpenApiCheckTest, WrongInputIsRefusedInQdrantsWords) {
  struct Case {
    V method;
    const char* pattern;
    const char* body;
    Code code;
    const char* message;
  };
  const auto k400 = Code::kInvalidArgument;
  const auto k422 = Code::kValidationFailed;
  const Case cases[] = {
      {V::post, kQuery, R"({"query": [1, 2], "params": {"hnsw_ef": 0}})", k422,
       "internal.params.hnsw_ef: value 0 invalid, must be 1 or larger"},
      // Qdrant's validator names the struct serde flattens into the body (QueryRequest's
      // `internal`; a group request's group fields one struct deeper), and a float field's
      // value and bounds as floats; its 400s (serde's) name neither.
      {V::post, kQuery, R"({"query": {"nearest": [1, 2], "mmr": {"diversity": 2}}})", k422,
       "internal.query.mmr.diversity: value 2.0 invalid, must be from 0.0 to 1.0"},
      {V::post, kGroups, R"({"query": [1, 2], "group_by": "g", "group_size": 0})", k422,
       "search_group_request.group_request.group_size: value 0 invalid, must be 1 or larger"},
      {V::post, kGroups, R"({"query": [1, 2], "group_by": "g", "params": {"hnsw_ef": 0}})", k422,
       "search_group_request.params.hnsw_ef: value 0 invalid"},
      {V::post, kQuery, R"({"query": [1, 2], "limit": -1})", k400,
       "limit: invalid value: integer `-1`, expected usize"},
      {V::post, kQuery, R"({"query": [1, 2], "limit": 1.5})", k400,
       "limit: invalid type: floating point `1.5`, expected usize"},
      {V::post, kQuery, R"({"query": [1, "a"]})", k400,
       "query[1]: invalid type: string \"a\", expected a number"},
      {V::post, kQuery, R"({"query": [1, 2], "params": {"exact": "yes"}})", k400,
       "params.exact: invalid type: string \"yes\", expected a boolean"},
      {V::put, kIndex, R"({"field_name": "a", "field_schema": {"type": "keyword", "is_tenant": "x"}})",
       k400, "field_schema.is_tenant: invalid type: string \"x\", expected a boolean"},
      {V::put, kIndex, R"({"field_name": "a", "field_schema": {"type": "text", "tokenizer": "nope"}})",
       k400, "field_schema.tokenizer: unknown variant `nope`, expected one of `prefix`"},
      {V::put, kIndex, R"({"field_name": "a", "field_schema": {"type": "text", "min_token_len": -1}})",
       k400, "field_schema.min_token_len: invalid value: integer `-1`, expected usize"},
      {V::put, kIndex, R"({"field_name": "a", "field_schema": {"type": "integer", "lookup": "x"}})",
       k400, "field_schema.lookup: invalid type"},
      {V::put, kIndex, R"({"field_name": "a", "field_schema": {"type": "text", "stopwords": 5}})",
       k400, "field_schema.stopwords: data did not match any variant of untagged enum StopwordsInterface"},
      {V::put, kIndex, R"({"field_schema": "keyword"})", k400, "missing field `field_name`"},
      {V::put, kCollection, R"({"vectors": {"size": 4, "distance": "Cosinus"}})", k400,
       "vectors.distance: unknown variant `Cosinus`"},
      {V::put, kCollection, R"({"vectors": {"size": 4, "distance": "Dot"}, "hnsw_config": {"m": -4}})",
       k400, "hnsw_config.m: invalid value: integer `-4`, expected usize"},
      {V::put, kUpsert, R"({"points": [{"id": -1, "vector": [1]}]})", k400, "points[0].id"},
      {V::post, kDelete, R"({"filter": {"must": [{"key": "a", "match": {"value": 1}}], "musst": []}})",
       k400, "filter.musst: unknown field `musst`"},  // Filter refuses unknown fields in the spec too
      {V::post, kDelete, R"({"filter": {"min_should": {"conditions": [], "min_count": 0}}})", k422,
       "filter.min_should.min_count: value 0 invalid, must be 1 or larger"},
  };
  for (const Case& c : cases) {
    Status s = Check(c.method, c.pattern, c.body);
    EXPECT_EQ(s.code(), c.code) << c.body << ": " << s.ToString();
    EXPECT_NE(s.message().find(c.message), std::string::npos) << c.body << ": " << s.ToString();
  }
}

TEST(OpenApiCheckTest, SeveralRangeErrorsAreListedTogether) {
  Status s = Check(V::post, kQuery,
                   R"({"query": [1], "params": {"hnsw_ef": 0}, "prefetch": {"limit": 0}})");
  EXPECT_EQ(s.code(), Code::kValidationFailed);
  EXPECT_NE(s.message().find("params.hnsw_ef"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("; internal.prefetch.limit"), std::string::npos) << s.ToString();
}

TEST(OpenApiCheckTest, AnAmbiguousUntaggedEnumIsLeftToTheDecoder) {
  // Every UpdateOperation variant fails at its first key: the decoder names the shape.
  EXPECT_TRUE(Check(V::post, "/collections/{collection_name}/points/batch",
                    R"({"operations": [{"explode": {}}]})").ok());
  // A value of a JSON type no variant takes is no ambiguity.
  EXPECT_FALSE(Check(V::post, "/collections/{collection_name}/points/batch",
                     R"({"operations": [5]})").ok());
}

}  // namespace
}  // namespace tessera::api

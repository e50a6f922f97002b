#include "api/collection_codec.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "api/json_util.h"

namespace tessera::api {
namespace {

namespace json = boost::json;

Result<engine::CollectionConfig> Create(std::string_view body) {
  return ParseCreateCollection(json::parse(body));
}

TEST(CollectionCodecTest, ParsesSingleUnnamedVectorWithDefaults) {
  Result<engine::CollectionConfig> c = Create(R"({"vectors":{"size":4,"distance":"Dot"}})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->single_unnamed_vector);
  ASSERT_EQ(c->vectors.size(), 1u);
  EXPECT_EQ(c->vectors.at("").size, 4u);
  EXPECT_EQ(c->vectors.at("").distance, engine::Distance::kDot);
  EXPECT_EQ(c->hnsw, engine::HnswConfig{});
}

TEST(CollectionCodecTest, ParsesNamedVectorsAndEverySection) {
  Result<engine::CollectionConfig> c = Create(R"({
    "vectors": {"img": {"size": 3, "distance": "Euclid", "on_disk": true},
                "txt": {"size": 5, "distance": "Manhattan", "hnsw_config": {"m": 4}}},
    "shard_number": 1, "replication_factor": 2, "on_disk_payload": false,
    "hnsw_config": {"m": 32, "ef_construct": 200, "full_scan_threshold": 500},
    "optimizers_config": {"deleted_threshold": 0.5, "indexing_threshold": 0,
                          "max_optimization_threads": "auto", "flush_interval_sec": 1},
    "wal_config": {"wal_capacity_mb": 8, "wal_segments_ahead": 1},
    "metadata": {"k": "v"}, "quantization_config": null, "unknown_field": 1})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->single_unnamed_vector);
  EXPECT_EQ(c->vectors.at("img").on_disk, true);
  EXPECT_EQ(c->vectors.at("txt").hnsw_config->m, 4u);
  EXPECT_EQ(c->replication_factor, 2u);
  EXPECT_FALSE(c->on_disk_payload);
  EXPECT_EQ(c->hnsw.m, 32u);
  EXPECT_EQ(c->hnsw.ef_construct, 200u);
  EXPECT_EQ(c->optimizers.deleted_threshold, 0.5);
  EXPECT_EQ(c->optimizers.indexing_threshold, 0u);
  EXPECT_FALSE(c->optimizers.max_optimization_threads.has_value());
  EXPECT_EQ(c->wal.wal_capacity_mb, 8u);
  EXPECT_EQ(c->metadata->at("k"), "v");
}

TEST(CollectionCodecTest, TypeErrorsAre400AndNameTheField) {
  struct Case {
    const char* body;
    const char* mentions;
  };
  const Case cases[] = {
      {R"({"vectors":{"size":"4","distance":"Dot"}})", "vectors.size"},
      {R"({"vectors":{"size":4}})", "missing field `distance`"},
      {R"({"vectors":{"size":4,"distance":"cosine"}})", "unknown variant `cosine`"},
      {R"({"vectors":{"size":-4,"distance":"Dot"}})", "vectors.size"},
      {R"({"vectors":{"size":4.5,"distance":"Dot"}})", "vectors.size"},
      {R"({"vectors":{"a":{"size":4}}})", "missing field `distance`"},
      {R"({"vectors":{"a":7}})", "vectors.a"},
      {R"({"hnsw_config":{"m":true}})", "hnsw_config.m"},
      {R"({"shard_number":4294967296})", "shard_number"},
      {R"({"metadata":[1]})", "metadata"},
      {R"([1,2])", "expected a map"},
      {R"({"sparse_vectors":{"s":{"modifier":7}}})", "sparse_vectors.s.modifier"},
      {R"({"sparse_vectors":{"s":{"index":{"datatype":"uint8"}}}})", "sparse_vectors.s.index.datatype"},
  };
  for (const Case& c : cases) {
    Result<engine::CollectionConfig> r = Create(c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << c.body;
    EXPECT_NE(r.status().message().find(c.mentions), std::string::npos)
        << c.body << " -> " << r.status().message();
  }
}

TEST(CollectionCodecTest, RangeErrorsAre422) {
  for (const char* body :
       {R"({"vectors":{"size":0,"distance":"Dot"}})",
        R"({"vectors":{"size":70000,"distance":"Dot"}})",
        R"({"vectors":{"size":4,"distance":"Dot"},"hnsw_config":{"ef_construct":1}})",
        R"({"optimizers_config":{"deleted_threshold":2}})",
        R"({"wal_config":{"wal_capacity_mb":0}})"}) {
    EXPECT_EQ(Create(body).status().code(), Code::kValidationFailed) << body;
  }
}

TEST(CollectionCodecTest, ConfigRendersInQdrantsOutputShape) {
  Result<engine::CollectionConfig> c =
      Create(R"({"vectors":{"size":4,"distance":"Cosine"},"metadata":{"a":1}})");
  ASSERT_TRUE(c.ok());
  const json::object out = CollectionConfigToJson(*c);
  EXPECT_EQ(out.at("params").at("vectors"), json::parse(R"({"size":4,"distance":"Cosine"})"));
  EXPECT_EQ(out.at("params").at("shard_number"), 1);
  EXPECT_EQ(out.at("hnsw_config").at("m"), 16);
  EXPECT_EQ(out.at("optimizer_config").at("deleted_threshold"), 0.2);
  EXPECT_TRUE(out.at("optimizer_config").at("max_segment_size").is_null());
  EXPECT_EQ(out.at("wal_config").at("wal_capacity_mb"), 32);
  EXPECT_EQ(out.at("metadata"), json::parse(R"({"a":1})"));

  Result<engine::CollectionConfig> named =
      Create(R"({"vectors":{"a":{"size":2,"distance":"Dot"}}})");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(CollectionConfigToJson(*named).at("params").at("vectors"),
            json::parse(R"({"a":{"size":2,"distance":"Dot"}})"));
}

TEST(CollectionCodecTest, ParsesUpdateAndAliasActions) {
  Result<engine::CollectionUpdate> u = ParseUpdateCollection(json::parse(
      R"({"optimizers_config":{"indexing_threshold":100},"params":{"replication_factor":2},
          "vectors":{"":{"hnsw_config":{"m":8}}},"hnsw_config":{"ef_construct":64}})"));
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->optimizers->indexing_threshold, 100u);
  EXPECT_EQ(u->replication_factor, 2u);
  EXPECT_EQ(u->vectors.at("").hnsw_config->m, 8u);
  EXPECT_EQ(u->hnsw->ef_construct, 64u);

  Result<std::vector<engine::AliasAction>> actions = ParseAliasActions(json::parse(
      R"({"actions":[{"create_alias":{"collection_name":"c","alias_name":"a"}},
                     {"rename_alias":{"old_alias_name":"a","new_alias_name":"b"}},
                     {"delete_alias":{"alias_name":"b"}}]})"));
  ASSERT_TRUE(actions.ok()) << actions.status().ToString();
  ASSERT_EQ(actions->size(), 3u);
  EXPECT_EQ(std::get<engine::CreateAlias>((*actions)[0]).collection_name, "c");
  EXPECT_EQ(std::get<engine::RenameAlias>((*actions)[1]).new_alias_name, "b");
  EXPECT_EQ(std::get<engine::DeleteAlias>((*actions)[2]).alias_name, "b");

  EXPECT_EQ(ParseAliasActions(json::parse(R"({"actions":[{"bogus":{}}]})")).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(ParseAliasActions(json::parse(R"({})")).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseAliasActions(json::parse(R"({"actions":[{"delete_alias":{}}]})")).status().code(),
            Code::kInvalidArgument);
}

TEST(JsonUtilTest, ParseJsonBodyRejectsMalformedAndTooDeepInput) {
  EXPECT_TRUE(ParseJsonBody(R"({"a":[1,2,{"b":null}]})").ok());
  for (const char* bad : {"", "{", "{\"a\":}", "[1,2", "nul", "{\"a\":1}x"}) {
    const Result<json::value> r = ParseJsonBody(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(r.status().message().rfind("Json deserialize error: ", 0), 0u);
  }
  EXPECT_FALSE(ParseJsonBody(std::string(1000, '[') + std::string(1000, ']')).ok());
}

}  // namespace
}  // namespace tessera::api

#include "engine/collection_config.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "common/coding.h"
#include "common/crc32c.h"

namespace tessera::engine {
namespace {

CollectionConfig NamedConfig() {
  CollectionConfig c;
  c.single_unnamed_vector = false;
  c.vectors["image"] = VectorParams{.size = 512, .distance = Distance::kDot};
  c.vectors["text"] = VectorParams{.size = 768,
                                   .distance = Distance::kManhattan,
                                   .hnsw_config = HnswConfigDiff{.m = 32, .on_disk = true},
                                   .on_disk = false};
  c.shard_number = 2;
  c.on_disk_payload = false;
  c.hnsw.ef_construct = 256;
  c.hnsw.payload_m = 8;
  c.optimizers.deleted_threshold = 0.35;
  c.optimizers.max_segment_size = 100000;
  c.optimizers.max_optimization_threads = 2;
  c.wal.wal_capacity_mb = 64;
  c.metadata = boost::json::parse(R"({"owner":"search","n":[1,2.5]})").as_object();
  return c;
}

TEST(CollectionConfigTest, DefaultsAreQdrants) {
  const CollectionConfig c;
  EXPECT_EQ(c.hnsw.m, 16u);
  EXPECT_EQ(c.hnsw.ef_construct, 100u);
  EXPECT_EQ(c.hnsw.full_scan_threshold, 10000u);
  EXPECT_EQ(c.optimizers.deleted_threshold, 0.2);
  EXPECT_EQ(c.optimizers.vacuum_min_vector_number, 1000u);
  EXPECT_EQ(c.optimizers.flush_interval_sec, 5u);
  EXPECT_EQ(c.wal.wal_capacity_mb, 32u);
  EXPECT_TRUE(c.on_disk_payload);
}

TEST(CollectionConfigTest, EncodeDecodeRoundTrips) {
  for (const CollectionConfig& original : {CollectionConfig{}, NamedConfig()}) {
    Result<CollectionConfig> decoded = DecodeCollectionConfig(EncodeCollectionConfig(original));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, original);
  }
}

TEST(CollectionConfigTest, PayloadIndexesRoundTripAndVersionOneFilesStillLoad) {
  CollectionConfig with_indexes = NamedConfig();
  with_indexes.payload_indexes["city"] = PayloadIndexInfo{
      PayloadSchemaType::kKeyword, boost::json::parse(R"({"is_tenant":true})").as_object()};
  with_indexes.payload_indexes["price"] = PayloadIndexInfo{PayloadSchemaType::kFloat, {}};
  EXPECT_EQ(*DecodeCollectionConfig(EncodeCollectionConfig(with_indexes)), with_indexes);

  // Older versions, each from the next one's body: 3 has no multivector byte per vector,
  // 2 no sparse vector list, 1 no index list (each empty here: one byte, 0).
  CollectionConfig one;
  one.single_unnamed_vector = false;
  one.vectors["v"] = VectorParams{.size = 3, .distance = Distance::kDot};
  one.metadata = boost::json::parse(R"({"k":"v"})").as_object();
  const std::string v4 = EncodeCollectionConfig(one);
  std::string body = v4.substr(8, v4.size() - 12);
  // single, nvec, "v" (length + byte), size, distance, has_hnsw, on_disk, then multivector.
  ASSERT_EQ(body[8], '\0');
  body.erase(8, 1);
  for (uint32_t version : {3u, 2u, 1u}) {
    if (version < 3) {
      body.pop_back();
    }
    std::string old = "TSCC";
    PutFixed32(&old, version);
    old += body;
    PutFixed32(&old, crc32c::Value(body));
    Result<CollectionConfig> decoded = DecodeCollectionConfig(old);
    ASSERT_TRUE(decoded.ok()) << version << ": " << decoded.status().ToString();
    EXPECT_EQ(*decoded, one) << version;
  }
  CollectionConfig multi = NamedConfig();
  multi.vectors.begin()->second.multivector = MultiVectorComparator::kMaxSim;
  EXPECT_EQ(*DecodeCollectionConfig(EncodeCollectionConfig(multi)), multi);
}

TEST(CollectionConfigTest, SparseVectorsRoundTripAndAreUpdatedFieldByField) {
  CollectionConfig c = NamedConfig();
  c.sparse_vectors["plain"] = SparseVectorParams{};
  c.sparse_vectors["words"] = SparseVectorParams{
      SparseIndexParams{.full_scan_threshold = 100, .on_disk = false, .memory = "cold",
                        .datatype = "float32"},
      SparseModifier::kIdf};
  c.sparse_vectors["none"] = SparseVectorParams{std::nullopt, SparseModifier::kNone};
  Result<CollectionConfig> decoded = DecodeCollectionConfig(EncodeCollectionConfig(c));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, c);
  EXPECT_TRUE(decoded->sparse_vectors.at("words").idf());
  EXPECT_FALSE(decoded->sparse_vectors.at("none").idf());

  CollectionUpdate update;
  update.sparse_vectors["words"] =
      SparseVectorParams{SparseIndexParams{.on_disk = true}, std::nullopt};
  Result<CollectionConfig> next = ApplyUpdate(c, update);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  const SparseVectorParams& words = next->sparse_vectors.at("words");
  EXPECT_EQ(words.index->on_disk, true);
  EXPECT_EQ(words.index->full_scan_threshold, 100u);  // kept
  EXPECT_TRUE(words.idf());                           // kept
  update.sparse_vectors.clear();
  update.sparse_vectors["missing"] = SparseVectorParams{};
  EXPECT_EQ(ApplyUpdate(c, update).status().code(), Code::kInvalidArgument);

  // A name is a dense or a sparse vector, not both.
  CollectionConfig both = NamedConfig();
  both.sparse_vectors[both.vectors.begin()->first] = SparseVectorParams{};
  EXPECT_EQ(ValidateConfig(both).code(), Code::kValidationFailed);
}

TEST(CollectionConfigTest, DecodeRejectsAnyDamage) {
  const std::string bytes = EncodeCollectionConfig(NamedConfig());
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(DecodeCollectionConfig(bytes.substr(0, cut)).ok()) << "cut at " << cut;
  }
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    std::string damaged = bytes;
    damaged[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    Result<CollectionConfig> r = DecodeCollectionConfig(damaged);
    ASSERT_FALSE(r.ok()) << "bit " << bit;
    EXPECT_EQ(r.status().code(), Code::kCorruption);
  }
}

TEST(CollectionConfigTest, ValidateReportsEveryViolationWithItsPath) {
  CollectionConfig c;
  c.vectors[""] = VectorParams{.size = 0, .distance = Distance::kCosine};
  c.hnsw.ef_construct = 2;
  c.optimizers.deleted_threshold = 1.5;
  const Status s = ValidateConfig(c);
  ASSERT_EQ(s.code(), Code::kValidationFailed);
  EXPECT_NE(s.message().find("vectors.size: value 0 invalid, must be 1 or larger"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("hnsw_config.ef_construct"), std::string::npos);
  EXPECT_NE(s.message().find("optimizers_config.deleted_threshold"), std::string::npos);

  c.vectors[""].size = 65537;
  c.hnsw.ef_construct = 100;
  c.optimizers.deleted_threshold = 0.2;
  EXPECT_NE(ValidateConfig(c).message().find("65536 or smaller"), std::string::npos);
  c.vectors[""].size = 65536;
  EXPECT_TRUE(ValidateConfig(c).ok());
}

TEST(CollectionConfigTest, ApplyUpdateMergesAndLeavesTheOriginalAlone) {
  const CollectionConfig original = NamedConfig();
  CollectionUpdate update;
  update.hnsw = HnswConfigDiff{.m = 48};
  update.optimizers = OptimizersConfigDiff{.indexing_threshold = 0};
  update.vectors["text"] = VectorParamsDiff{.hnsw_config = HnswConfigDiff{.ef_construct = 64}};
  update.replication_factor = 3;
  update.metadata = boost::json::parse(R"({"owner":null,"team":"core"})").as_object();

  Result<CollectionConfig> next = ApplyUpdate(original, update);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->hnsw.m, 48u);
  EXPECT_EQ(next->hnsw.ef_construct, 256u);  // untouched fields keep their values
  EXPECT_EQ(next->optimizers.indexing_threshold, 0u);
  EXPECT_EQ(next->vectors.at("text").hnsw_config->m, 32u);
  EXPECT_EQ(next->vectors.at("text").hnsw_config->ef_construct, 64u);
  EXPECT_EQ(next->replication_factor, 3u);
  EXPECT_EQ(boost::json::value(*next->metadata),
            boost::json::parse(R"({"n":[1,2.5],"team":"core"})"));
  EXPECT_EQ(original, NamedConfig());
}

TEST(CollectionConfigTest, ApplyUpdateRejectsUnknownVectorAndInvalidResult) {
  CollectionUpdate unknown;
  unknown.vectors["audio"] = VectorParamsDiff{.on_disk = true};
  EXPECT_EQ(ApplyUpdate(NamedConfig(), unknown).status().code(), Code::kInvalidArgument);

  CollectionUpdate invalid;
  invalid.optimizers = OptimizersConfigDiff{.vacuum_min_vector_number = 5};
  EXPECT_EQ(ApplyUpdate(NamedConfig(), invalid).status().code(), Code::kValidationFailed);
}

TEST(CollectionConfigTest, DistanceNamesRoundTrip) {
  for (Distance d : {Distance::kCosine, Distance::kEuclid, Distance::kDot, Distance::kManhattan}) {
    EXPECT_EQ(ParseDistance(DistanceName(d)), d);
  }
  EXPECT_FALSE(ParseDistance("cosine").has_value());  // Qdrant's names are case-sensitive
}

}  // namespace
}  // namespace tessera::engine

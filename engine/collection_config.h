#pragma once

// A collection's configuration: vector parameters, HNSW, optimizer and WAL settings, with
// Qdrant's defaults. "Diff" structs carry the optional fields of a create or update request and
// are applied onto a full config. Persisted by EncodeCollectionConfig (see the grammar below).

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "common/lock_order.h"
#include "common/status.h"
#include "engine/filter.h"
#include "index/field/text_tokenizer.h"

namespace tessera::engine {

enum class Distance : uint8_t { kCosine = 0, kEuclid = 1, kDot = 2, kManhattan = 3 };

std::string_view DistanceName(Distance distance);
std::optional<Distance> ParseDistance(std::string_view name);

struct HnswConfigDiff {
  std::optional<uint64_t> m;
  std::optional<uint64_t> ef_construct;
  std::optional<uint64_t> full_scan_threshold;
  std::optional<uint64_t> max_indexing_threads;
  std::optional<bool> on_disk;
  std::optional<uint64_t> payload_m;
  bool operator==(const HnswConfigDiff&) const = default;
};

struct HnswConfig {
  uint64_t m = 16;
  uint64_t ef_construct = 100;
  uint64_t full_scan_threshold = 10000;  // KB
  uint64_t max_indexing_threads = 0;
  bool on_disk = false;
  std::optional<uint64_t> payload_m;
  void Apply(const HnswConfigDiff& diff);
  bool operator==(const HnswConfig&) const = default;
};

struct OptimizersConfigDiff {
  std::optional<double> deleted_threshold;
  std::optional<uint64_t> vacuum_min_vector_number;
  std::optional<uint64_t> default_segment_number;
  std::optional<uint64_t> max_segment_size;
  std::optional<uint64_t> memmap_threshold;
  std::optional<uint64_t> indexing_threshold;
  std::optional<uint64_t> flush_interval_sec;
  std::optional<uint64_t> max_optimization_threads;
  bool operator==(const OptimizersConfigDiff&) const = default;
};

struct OptimizersConfig {
  double deleted_threshold = 0.2;
  uint64_t vacuum_min_vector_number = 1000;
  uint64_t default_segment_number = 0;
  std::optional<uint64_t> max_segment_size;  // KB; unset = chosen automatically
  std::optional<uint64_t> memmap_threshold;  // KB; deprecated, stored only
  uint64_t indexing_threshold = 10000;       // KB of vectors before a segment gets HNSW
  uint64_t flush_interval_sec = 5;
  std::optional<uint64_t> max_optimization_threads;  // unset = "auto"
  void Apply(const OptimizersConfigDiff& diff);
  bool operator==(const OptimizersConfig&) const = default;
};

struct WalConfigDiff {
  std::optional<uint64_t> wal_capacity_mb;
  std::optional<uint64_t> wal_segments_ahead;
  std::optional<uint64_t> wal_retain_closed;
  bool operator==(const WalConfigDiff&) const = default;
};

struct WalConfig {
  uint64_t wal_capacity_mb = 32;
  uint64_t wal_segments_ahead = 0;
  uint64_t wal_retain_closed = 1;
  void Apply(const WalConfigDiff& diff);
  bool operator==(const WalConfig&) const = default;
};

// A multivector's comparator (Qdrant's MultiVectorConfig): MaxSim is the only one.
enum class MultiVectorComparator : uint8_t { kMaxSim = 0 };

struct VectorParams {
  uint64_t size = 0;
  Distance distance = Distance::kCosine;
  std::optional<HnswConfigDiff> hnsw_config;  // per-vector override of the collection's HNSW
  std::optional<bool> on_disk;
  // Set: each point holds any number of vectors of `size` under this name (a multivector).
  std::optional<MultiVectorComparator> multivector;
  bool operator==(const VectorParams&) const = default;
};

struct VectorParamsDiff {
  std::optional<HnswConfigDiff> hnsw_config;
  std::optional<bool> on_disk;
};

// A payload index's type, as Qdrant's PayloadSchemaType names them.
enum class PayloadSchemaType : uint8_t {
  kKeyword = 0,
  kInteger = 1,
  kFloat = 2,
  kBool = 3,
  kGeo = 4,
  kText = 5,
  kDatetime = 6,
  kUuid = 7
};
std::string_view PayloadSchemaName(PayloadSchemaType type);
std::optional<PayloadSchemaType> ParsePayloadSchemaType(std::string_view name);

struct PayloadIndexInfo {
  PayloadSchemaType type = PayloadSchemaType::kKeyword;
  boost::json::object params;  // the field_schema's parameters as given (empty for the short form)
  bool operator==(const PayloadIndexInfo&) const = default;
  // Range conditions and order_by are served by integer, float and datetime indexes.
  bool IsRange() const {
    return type == PayloadSchemaType::kInteger || type == PayloadSchemaType::kFloat ||
           type == PayloadSchemaType::kDatetime;
  }
};

// A sparse vector's parameters (Qdrant's SparseVectorParams), each optional as given.
enum class SparseModifier : uint8_t { kNone = 0, kIdf = 1 };
std::string_view SparseModifierName(SparseModifier modifier);

struct SparseIndexParams {
  std::optional<uint64_t> full_scan_threshold;  // vectors (not KB): a full scan below it
  std::optional<bool> on_disk;                  // stored and shown; the index is in RAM
  std::optional<std::string> memory;            // Qdrant's placement name, stored and shown
  std::optional<std::string> datatype;          // "float32" (the only one stored yet)
  bool operator==(const SparseIndexParams&) const = default;
};

struct SparseVectorParams {
  std::optional<SparseIndexParams> index;
  std::optional<SparseModifier> modifier;
  bool operator==(const SparseVectorParams&) const = default;
  bool idf() const { return modifier == SparseModifier::kIdf; }
};

// Qdrant's default full_scan_threshold of a sparse index, in vectors.
inline constexpr uint64_t kDefaultSparseFullScanThreshold = 5000;

// The name of the single unnamed vector ("" as Qdrant's update API spells it).
inline constexpr std::string_view kDefaultVectorName = "";

struct CollectionConfig {
  // True when created as `"vectors": {size, distance}`; the map then has one entry, "".
  bool single_unnamed_vector = true;
  std::map<std::string, VectorParams, std::less<>> vectors;
  std::map<std::string, SparseVectorParams, std::less<>> sparse_vectors;  // by name
  uint32_t shard_number = 1;
  uint32_t replication_factor = 1;
  uint32_t write_consistency_factor = 1;
  bool on_disk_payload = true;
  HnswConfig hnsw;
  OptimizersConfig optimizers;
  WalConfig wal;
  std::optional<boost::json::object> metadata;
  std::map<std::string, PayloadIndexInfo, std::less<>> payload_indexes;  // by field name
  bool operator==(const CollectionConfig&) const = default;
};

// An update request (`PATCH /collections/{name}`): every field optional.
struct CollectionUpdate {
  std::map<std::string, VectorParamsDiff, std::less<>> vectors;
  // Merged field by field into the named sparse vectors' parameters.
  std::map<std::string, SparseVectorParams, std::less<>> sparse_vectors;
  std::optional<OptimizersConfigDiff> optimizers;
  std::optional<HnswConfigDiff> hnsw;
  std::optional<uint32_t> replication_factor;
  std::optional<uint32_t> write_consistency_factor;
  std::optional<bool> on_disk_payload;
  // Merged into the metadata; a key whose value is null is removed.
  std::optional<boost::json::object> metadata;
};

// The HNSW parameters of a dense vector: the collection's, with the vector's own hnsw_config
// over them (m 0: the vector gets no graph). The collection's for an unknown name.
HnswConfig HnswFor(const CollectionConfig& config, std::string_view vector_name);

// Checks the constraints that hold across fields (kValidationFailed), e.g. at least one vector.
Status ValidateConfig(const CollectionConfig& config);

// Applies `update` to a copy of `config`; fails (leaving nothing changed) on an unknown vector.
Result<CollectionConfig> ApplyUpdate(const CollectionConfig& config,
                                     const CollectionUpdate& update);

// Binary form, stored in `<collection>/config.bin`:
//   file    := magic:"TSCC" version:fixed32(=4) body crc32c(body):fixed32
//   body    := single:bool nvec:varint (name:lp vec)* shard:varint repl:varint wcf:varint
//              on_disk_payload:bool hnsw optimizers wal metadata:lp(JSON text, "" = none)
//              nidx:varint (field:lp type:u8 params:lp(JSON text))*       (version >= 2)
//              nsparse:varint (name:lp sparse)*                            (version >= 3)
//   vec     := size:varint distance:u8 has_hnsw:bool [hnsw_diff] on_disk:opt_bool
//              multivector:opt_u8                                          (version >= 4)
//   sparse  := has_index:bool [full_scan_threshold:opt_varint on_disk:opt_bool
//              memory:opt_lp datatype:opt_lp] modifier:opt_u8
// where opt_* is a presence byte followed by the value; lp is varint length + bytes.
std::string EncodeCollectionConfig(const CollectionConfig& config);
Result<CollectionConfig> DecodeCollectionConfig(std::string_view bytes);

// A text index's tokenizer parameters from its field_schema parameters (Qdrant's
// TextIndexParams). InvalidArgument, naming the field, for what is not supported yet:
// predefined stopword languages.
Result<index::TextTokenizerParams> TextParamsOf(const PayloadIndexInfo& info);

// The tokenizers of `config`'s text indexes, by key (built once per set of parameters and
// shared); the lookup holds `config`, which must outlive it.
TextIndexLookup TextIndexesOf(const CollectionConfig& config);

// The config in effect, shared by a collection's parts. A change swaps in a new object, so a
// pointer once taken stays valid and unchanged. Thread-safe; its mutex is a leaf (held only to
// copy or swap the pointer, never across I/O).
class SharedConfig {
 public:
  explicit SharedConfig(CollectionConfig config)
      : config_(std::make_shared<const CollectionConfig>(std::move(config))) {}
  std::shared_ptr<const CollectionConfig> get() const {
    std::lock_guard lock(mu_);
    return config_;
  }
  void Set(CollectionConfig config) {
    auto next = std::make_shared<const CollectionConfig>(std::move(config));
    std::lock_guard lock(mu_);
    config_.swap(next);
  }

 private:
  mutable RankedMutex mu_{LockRank::kLeaf, "SharedConfig::mu_"};
  std::shared_ptr<const CollectionConfig> config_;  // guarded by mu_
};

}  // namespace tessera::engine

#include "api/collection_codec.h"

#include <string>

#include "api/json_util.h"

namespace tessera::api {

namespace json = boost::json;
using engine::CollectionConfig;
using engine::CollectionUpdate;
using engine::HnswConfigDiff;
using engine::OptimizersConfigDiff;
using engine::VectorParams;
using engine::WalConfigDiff;

namespace {

Status ParseHnswDiff(const json::value& v, const std::string& path, HnswConfigDiff* out) {
  FieldReader r(v, path);
  TESSERA_RETURN_IF_ERROR(r.status());
  TESSERA_RETURN_IF_ERROR(r.Get("m", &out->m));
  TESSERA_RETURN_IF_ERROR(r.Get("ef_construct", &out->ef_construct));
  TESSERA_RETURN_IF_ERROR(r.Get("full_scan_threshold", &out->full_scan_threshold));
  TESSERA_RETURN_IF_ERROR(r.Get("max_indexing_threads", &out->max_indexing_threads));
  TESSERA_RETURN_IF_ERROR(r.Get("on_disk", &out->on_disk));
  TESSERA_RETURN_IF_ERROR(r.Get("payload_m", &out->payload_m));
  return Status::Ok();
}

Status ParseOptimizersDiff(const json::value& v, const std::string& path,
                           OptimizersConfigDiff* out) {
  FieldReader r(v, path);
  TESSERA_RETURN_IF_ERROR(r.status());
  TESSERA_RETURN_IF_ERROR(r.Get("deleted_threshold", &out->deleted_threshold));
  TESSERA_RETURN_IF_ERROR(r.Get("vacuum_min_vector_number", &out->vacuum_min_vector_number));
  TESSERA_RETURN_IF_ERROR(r.Get("default_segment_number", &out->default_segment_number));
  TESSERA_RETURN_IF_ERROR(r.Get("max_segment_size", &out->max_segment_size));
  TESSERA_RETURN_IF_ERROR(r.Get("memmap_threshold", &out->memmap_threshold));
  TESSERA_RETURN_IF_ERROR(r.Get("indexing_threshold", &out->indexing_threshold));
  TESSERA_RETURN_IF_ERROR(r.Get("flush_interval_sec", &out->flush_interval_sec));
  // `max_optimization_threads` is an integer or the string "auto" (no limit).
  if (const json::value* threads = r.Find("max_optimization_threads");
      threads != nullptr && !(threads->is_string() && threads->get_string() == "auto")) {
    TESSERA_RETURN_IF_ERROR(r.Get("max_optimization_threads", &out->max_optimization_threads));
  }
  return Status::Ok();
}

Status ParseWalDiff(const json::value& v, const std::string& path, WalConfigDiff* out) {
  FieldReader r(v, path);
  TESSERA_RETURN_IF_ERROR(r.status());
  TESSERA_RETURN_IF_ERROR(r.Get("wal_capacity_mb", &out->wal_capacity_mb));
  TESSERA_RETURN_IF_ERROR(r.Get("wal_segments_ahead", &out->wal_segments_ahead));
  TESSERA_RETURN_IF_ERROR(r.Get("wal_retain_closed", &out->wal_retain_closed));
  return Status::Ok();
}

// Features of Qdrant's schema that Tessera does not implement: refused clearly rather than
// accepted and ignored.
// Strict mode (Qdrant's request limits and index requirements) is not implemented: accepted
// only when it asks for nothing ({} or {"enabled": false}), never silently ignored.
Status RejectStrictMode(const FieldReader& r) {
  const json::value* v = r.Find("strict_mode_config");
  if (v == nullptr || !v->is_object()) {
    return Status::Ok();  // absent or null; a wrong type was refused by the spec check
  }
  for (const auto& [key, value] : v->get_object()) {
    const bool off = key == "enabled" ? (value.is_bool() && !value.get_bool()) : value.is_null();
    if (!off) {
      return Status::InvalidArgument("Wrong input: `strict_mode_config." + std::string(key) +
                                     "`: strict mode is not supported by Tessera");
    }
  }
  return Status::Ok();
}

Status RejectUnsupported(const FieldReader& r, std::initializer_list<std::string_view> keys) {
  for (std::string_view key : keys) {
    if (const json::value* v = r.Find(key)) {
      const bool empty_object = v->is_object() && v->get_object().empty();
      if (!empty_object) {
        return Status::InvalidArgument("Wrong input: `" + r.PathOf(key) +
                                       "` is not supported by Tessera");
      }
    }
  }
  return Status::Ok();
}

Status ParseVectorParams(const json::value& v, const std::string& path, VectorParams* out) {
  FieldReader r(v, path);
  TESSERA_RETURN_IF_ERROR(r.status());
  TESSERA_RETURN_IF_ERROR(r.Require("size", &out->size));
  std::string distance;
  TESSERA_RETURN_IF_ERROR(r.Require("distance", &distance));
  const auto parsed = engine::ParseDistance(distance);
  if (!parsed) {
    return DeserializeError(r.PathOf("distance"),
                            "unknown variant `" + distance +
                                "`, expected one of `Cosine`, `Euclid`, `Dot`, `Manhattan`");
  }
  out->distance = *parsed;
  if (const json::value* hnsw = r.Find("hnsw_config")) {
    HnswConfigDiff diff;
    TESSERA_RETURN_IF_ERROR(ParseHnswDiff(*hnsw, r.PathOf("hnsw_config"), &diff));
    out->hnsw_config = diff;
  }
  TESSERA_RETURN_IF_ERROR(r.Get("on_disk", &out->on_disk));
  if (std::optional<std::string> datatype;
      r.Get("datatype", &datatype).ok() && datatype && *datatype != "float32") {
    return Status::InvalidArgument("Wrong input: `" + r.PathOf("datatype") + "` " + *datatype +
                                   " is not supported by Tessera (only float32)");
  }
  if (const json::value* multi = r.Find("multivector_config"); multi != nullptr && !multi->is_null()) {
    FieldReader mr(*multi, r.PathOf("multivector_config"));
    TESSERA_RETURN_IF_ERROR(mr.status());
    std::string comparator;
    TESSERA_RETURN_IF_ERROR(mr.Require("comparator", &comparator));
    if (comparator != "max_sim") {
      return DeserializeError(mr.PathOf("comparator"),
                              "unknown variant `" + comparator + "`, expected `max_sim`");
    }
    out->multivector = engine::MultiVectorComparator::kMaxSim;
  }
  return RejectUnsupported(r, {"quantization_config"});
}

Status ParseVectorsConfig(const json::value& v, CollectionConfig* config) {
  FieldReader r(v, "vectors");
  TESSERA_RETURN_IF_ERROR(r.status());
  config->vectors.clear();
  // Qdrant's VectorsConfig is untagged: {size, distance} for one unnamed vector, else a map.
  if (r.object()->contains("size") || r.object()->contains("distance")) {
    config->single_unnamed_vector = true;
    VectorParams params;
    TESSERA_RETURN_IF_ERROR(ParseVectorParams(v, "vectors", &params));
    config->vectors.emplace(std::string(engine::kDefaultVectorName), params);
    return Status::Ok();
  }
  config->single_unnamed_vector = false;
  for (const auto& [name, params_json] : *r.object()) {
    // "" is Qdrant's name for the default vector: {"": {...}} (the web UI's template) declares
    // it by name, beside named ones or alone, and plain-array vectors go to it.
    VectorParams params;
    TESSERA_RETURN_IF_ERROR(ParseVectorParams(params_json, r.PathOf(name), &params));
    config->vectors.emplace(std::string(name), params);
  }
  return Status::Ok();
}

// SparseVectorParams {index: {full_scan_threshold, on_disk, memory, datatype}, modifier}.
Status ParseSparseParams(const json::value& v, const std::string& path,
                         engine::SparseVectorParams* out) {
  FieldReader r(v, path);
  TESSERA_RETURN_IF_ERROR(r.status());
  if (const json::value* index = r.Find("index"); index != nullptr && !index->is_null()) {
    FieldReader ir(*index, r.PathOf("index"));
    TESSERA_RETURN_IF_ERROR(ir.status());
    engine::SparseIndexParams params;
    TESSERA_RETURN_IF_ERROR(ir.Get("full_scan_threshold", &params.full_scan_threshold));
    TESSERA_RETURN_IF_ERROR(ir.Get("on_disk", &params.on_disk));
    TESSERA_RETURN_IF_ERROR(ir.Get("memory", &params.memory));
    TESSERA_RETURN_IF_ERROR(ir.Get("datatype", &params.datatype));
    if (params.datatype == "turbo4") {
      return Status::ValidationFailed(ir.PathOf("datatype") +
                                      ": sparse vectors do not support the `turbo4` datatype");
    }
    if (params.datatype && *params.datatype != "float32") {
      return Status::InvalidArgument("Wrong input: `" + ir.PathOf("datatype") + "` " +
                                     *params.datatype +
                                     " is not supported by Tessera (only float32)");
    }
    out->index = std::move(params);
  }
  std::optional<std::string> modifier;
  TESSERA_RETURN_IF_ERROR(r.Get("modifier", &modifier));
  if (modifier) {
    out->modifier = *modifier == "idf" ? engine::SparseModifier::kIdf : engine::SparseModifier::kNone;
  }
  return Status::Ok();
}

Status ParseSparseVectorsConfig(const json::value& v,
                                std::map<std::string, engine::SparseVectorParams, std::less<>>* out) {
  if (v.is_null()) {
    return Status::Ok();
  }
  FieldReader r(v, "sparse_vectors");
  TESSERA_RETURN_IF_ERROR(r.status());
  for (const auto& [name, params_json] : *r.object()) {
    engine::SparseVectorParams params;
    TESSERA_RETURN_IF_ERROR(ParseSparseParams(params_json, r.PathOf(name), &params));
    (*out)[std::string(name)] = std::move(params);
  }
  return Status::Ok();
}

Status ParseMetadata(const FieldReader& r, std::optional<json::object>* out) {
  if (const json::value* metadata = r.Find("metadata")) {
    if (!metadata->is_object()) {
      return DeserializeError(
          r.PathOf("metadata"),
          "invalid type: " + std::string(JsonTypeName(*metadata)) + ", expected a map");
    }
    *out = metadata->get_object();
  }
  return Status::Ok();
}

}  // namespace

Result<CollectionConfig> ParseCreateCollection(const json::value& body,
                                               const CollectionConfig& defaults) {
  FieldReader r(body, "");
  TESSERA_RETURN_IF_ERROR(r.status());
  CollectionConfig config = defaults;
  config.vectors.clear();
  config.sparse_vectors.clear();
  config.metadata.reset();
  config.payload_indexes.clear();
  config.single_unnamed_vector = false;
  if (const json::value* vectors = r.Find("vectors")) {
    TESSERA_RETURN_IF_ERROR(ParseVectorsConfig(*vectors, &config));
  }
  if (const json::value* sparse = r.Find("sparse_vectors")) {
    TESSERA_RETURN_IF_ERROR(ParseSparseVectorsConfig(*sparse, &config.sparse_vectors));
  }
  std::optional<uint32_t> u32;
  TESSERA_RETURN_IF_ERROR(r.Get("shard_number", &u32));
  config.shard_number = u32.value_or(1);
  TESSERA_RETURN_IF_ERROR(r.Get("replication_factor", &u32));
  config.replication_factor = u32.value_or(1);
  TESSERA_RETURN_IF_ERROR(r.Get("write_consistency_factor", &u32));
  config.write_consistency_factor = u32.value_or(1);
  std::optional<bool> on_disk_payload;
  TESSERA_RETURN_IF_ERROR(r.Get("on_disk_payload", &on_disk_payload));
  config.on_disk_payload = on_disk_payload.value_or(defaults.on_disk_payload);
  if (const json::value* hnsw = r.Find("hnsw_config")) {
    HnswConfigDiff diff;
    TESSERA_RETURN_IF_ERROR(ParseHnswDiff(*hnsw, "hnsw_config", &diff));
    config.hnsw.Apply(diff);
  }
  if (const json::value* optimizers = r.Find("optimizers_config")) {
    OptimizersConfigDiff diff;
    TESSERA_RETURN_IF_ERROR(ParseOptimizersDiff(*optimizers, "optimizers_config", &diff));
    config.optimizers.Apply(diff);
  }
  if (const json::value* wal = r.Find("wal_config")) {
    WalConfigDiff diff;
    TESSERA_RETURN_IF_ERROR(ParseWalDiff(*wal, "wal_config", &diff));
    config.wal.Apply(diff);
  }
  TESSERA_RETURN_IF_ERROR(ParseMetadata(r, &config.metadata));
  TESSERA_RETURN_IF_ERROR(
      RejectUnsupported(r, {"quantization_config", "init_from"}));
  TESSERA_RETURN_IF_ERROR(RejectStrictMode(r));
  if (std::optional<std::string> method;
      r.Get("sharding_method", &method).ok() && method && *method != "auto") {
    return Status::InvalidArgument("Wrong input: sharding_method `" + *method +
                                   "` is not supported by Tessera");
  }
  // Qdrant's create-time checks of sparse names (collection_meta_ops.rs), in its words.
  if (config.sparse_vectors.contains(engine::kDefaultVectorName)) {
    return Status::InvalidArgument("Wrong input: Sparse vector name cannot be empty");
  }
  for (const auto& [name, params] : config.vectors) {
    if (config.sparse_vectors.contains(name)) {
      return Status::InvalidArgument(
          "Wrong input: Dense and sparse vector names must be unique - duplicate found with '" +
          name + "'");
    }
  }
  TESSERA_RETURN_IF_ERROR(engine::ValidateConfig(config));
  return config;
}

Result<CollectionUpdate> ParseUpdateCollection(const json::value& body) {
  FieldReader r(body, "");
  TESSERA_RETURN_IF_ERROR(r.status());
  CollectionUpdate update;
  if (const json::value* vectors = r.Find("vectors")) {
    FieldReader vr(*vectors, "vectors");
    TESSERA_RETURN_IF_ERROR(vr.status());
    for (const auto& [name, diff_json] : *vr.object()) {
      FieldReader dr(diff_json, vr.PathOf(name));
      TESSERA_RETURN_IF_ERROR(dr.status());
      engine::VectorParamsDiff diff;
      if (const json::value* hnsw = dr.Find("hnsw_config")) {
        HnswConfigDiff h;
        TESSERA_RETURN_IF_ERROR(ParseHnswDiff(*hnsw, dr.PathOf("hnsw_config"), &h));
        diff.hnsw_config = h;
      }
      TESSERA_RETURN_IF_ERROR(dr.Get("on_disk", &diff.on_disk));
      TESSERA_RETURN_IF_ERROR(RejectUnsupported(dr, {"quantization_config"}));
      update.vectors.emplace(std::string(name), diff);
    }
  }
  if (const json::value* optimizers = r.Find("optimizers_config")) {
    OptimizersConfigDiff diff;
    TESSERA_RETURN_IF_ERROR(ParseOptimizersDiff(*optimizers, "optimizers_config", &diff));
    update.optimizers = diff;
  }
  if (const json::value* hnsw = r.Find("hnsw_config")) {
    HnswConfigDiff diff;
    TESSERA_RETURN_IF_ERROR(ParseHnswDiff(*hnsw, "hnsw_config", &diff));
    update.hnsw = diff;
  }
  if (const json::value* params = r.Find("params")) {
    FieldReader pr(*params, "params");
    TESSERA_RETURN_IF_ERROR(pr.status());
    TESSERA_RETURN_IF_ERROR(pr.Get("replication_factor", &update.replication_factor));
    TESSERA_RETURN_IF_ERROR(pr.Get("write_consistency_factor", &update.write_consistency_factor));
    TESSERA_RETURN_IF_ERROR(pr.Get("on_disk_payload", &update.on_disk_payload));
  }
  if (const json::value* sparse = r.Find("sparse_vectors")) {
    TESSERA_RETURN_IF_ERROR(ParseSparseVectorsConfig(*sparse, &update.sparse_vectors));
  }
  TESSERA_RETURN_IF_ERROR(ParseMetadata(r, &update.metadata));
  TESSERA_RETURN_IF_ERROR(RejectUnsupported(r, {"quantization_config"}));
  TESSERA_RETURN_IF_ERROR(RejectStrictMode(r));
  return update;
}

Result<std::pair<std::string, engine::PayloadIndexInfo>> ParseCreateIndex(const json::value& body) {
  FieldReader r(body, "");
  TESSERA_RETURN_IF_ERROR(r.status());
  std::string field;
  TESSERA_RETURN_IF_ERROR(r.Require("field_name", &field));
  TESSERA_RETURN_IF_ERROR(CheckKeyPath("field_name", field));
  const json::value* schema = r.Find("field_schema");
  if (schema == nullptr) {
    schema = r.Find("field_type");  // the older name
  }
  if (schema == nullptr) {
    return DeserializeError("", "missing field `field_schema`");
  }
  engine::PayloadIndexInfo info;
  std::string type;
  if (schema->is_string()) {
    type = std::string(schema->get_string());
  } else if (schema->is_object() && schema->get_object().contains("type") &&
             schema->get_object().at("type").is_string()) {
    type = std::string(schema->get_object().at("type").get_string());
    info.params = schema->get_object();
    info.params.erase("type");
  } else {
    return DeserializeError("field_schema", "expected a schema type name or {\"type\": ...}");
  }
  const auto parsed = engine::ParsePayloadSchemaType(type);
  if (!parsed) {
    return DeserializeError("field_schema",
                            "unknown variant `" + type +
                                "`, expected one of `keyword`, `integer`, `float`, `geo`, "
                                "`text`, `bool`, `datetime`, `uuid`");
  }
  info.type = *parsed;
  if (info.type == engine::PayloadSchemaType::kInteger && info.params.contains("lookup") &&
      info.params.at("lookup") == json::value(false) && info.params.contains("range") &&
      info.params.at("range") == json::value(false)) {
    return Status::ValidationFailed(
        "field_schema: Validation error: the 'lookup' and 'range' capabilities can't be both "
        "disabled");
  }
  if (info.type == engine::PayloadSchemaType::kText) {
    TESSERA_ASSIGN_OR_RETURN(index::TextTokenizerParams params, engine::TextParamsOf(info));
    TESSERA_RETURN_IF_ERROR(index::TextTokenizer::Create(params).status());
  }
  return std::make_pair(std::move(field), std::move(info));
}

Result<std::vector<engine::AliasAction>> ParseAliasActions(const json::value& body) {
  FieldReader r(body, "");
  TESSERA_RETURN_IF_ERROR(r.status());
  const json::value* actions = r.Find("actions");
  if (actions == nullptr) {
    return DeserializeError("", "missing field `actions`");
  }
  if (!actions->is_array()) {
    return DeserializeError("actions", "invalid type: " + std::string(JsonTypeName(*actions)) +
                                           ", expected a sequence");
  }
  std::vector<engine::AliasAction> out;
  size_t index = 0;
  for (const json::value& action : actions->get_array()) {
    const std::string path = "actions[" + std::to_string(index++) + "]";
    FieldReader ar(action, path);
    TESSERA_RETURN_IF_ERROR(ar.status());
    if (const json::value* create = ar.Find("create_alias")) {
      FieldReader cr(*create, ar.PathOf("create_alias"));
      TESSERA_RETURN_IF_ERROR(cr.status());
      engine::CreateAlias a;
      TESSERA_RETURN_IF_ERROR(cr.Require("collection_name", &a.collection_name));
      TESSERA_RETURN_IF_ERROR(cr.Require("alias_name", &a.alias_name));
      out.emplace_back(std::move(a));
    } else if (const json::value* del = ar.Find("delete_alias")) {
      FieldReader dr(*del, ar.PathOf("delete_alias"));
      TESSERA_RETURN_IF_ERROR(dr.status());
      engine::DeleteAlias a;
      TESSERA_RETURN_IF_ERROR(dr.Require("alias_name", &a.alias_name));
      out.emplace_back(std::move(a));
    } else if (const json::value* rename = ar.Find("rename_alias")) {
      FieldReader rr(*rename, ar.PathOf("rename_alias"));
      TESSERA_RETURN_IF_ERROR(rr.status());
      engine::RenameAlias a;
      TESSERA_RETURN_IF_ERROR(rr.Require("old_alias_name", &a.old_alias_name));
      TESSERA_RETURN_IF_ERROR(rr.Require("new_alias_name", &a.new_alias_name));
      out.emplace_back(std::move(a));
    } else {
      return DeserializeError(path,
                              "unknown variant, expected one of `create_alias`, `delete_alias`, "
                              "`rename_alias`");
    }
  }
  return out;
}

namespace {

json::value OptionalU64(const std::optional<uint64_t>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::object HnswDiffToJson(const HnswConfigDiff& d) {
  json::object o;
  if (d.m) {
    o["m"] = *d.m;
  }
  if (d.ef_construct) {
    o["ef_construct"] = *d.ef_construct;
  }
  if (d.full_scan_threshold) {
    o["full_scan_threshold"] = *d.full_scan_threshold;
  }
  if (d.max_indexing_threads) {
    o["max_indexing_threads"] = *d.max_indexing_threads;
  }
  if (d.on_disk) {
    o["on_disk"] = *d.on_disk;
  }
  if (d.payload_m) {
    o["payload_m"] = *d.payload_m;
  }
  return o;
}

json::object VectorParamsToJson(const VectorParams& p) {
  json::object o;
  o["size"] = p.size;
  o["distance"] = engine::DistanceName(p.distance);
  if (p.hnsw_config) {
    o["hnsw_config"] = HnswDiffToJson(*p.hnsw_config);
  }
  if (p.on_disk) {
    o["on_disk"] = *p.on_disk;
  }
  if (p.multivector) {
    o["multivector_config"] = json::object{{"comparator", "max_sim"}};
  }
  return o;
}

json::object SparseParamsToJson(const engine::SparseVectorParams& p) {
  json::object o;
  if (p.index) {
    json::object index;
    if (p.index->full_scan_threshold) {
      index["full_scan_threshold"] = *p.index->full_scan_threshold;
    }
    if (p.index->on_disk) {
      index["on_disk"] = *p.index->on_disk;
    }
    if (p.index->memory) {
      index["memory"] = *p.index->memory;
    }
    if (p.index->datatype) {
      index["datatype"] = *p.index->datatype;
    }
    o["index"] = std::move(index);
  }
  if (p.modifier) {
    o["modifier"] = engine::SparseModifierName(*p.modifier);
  }
  return o;
}

}  // namespace

json::object CollectionConfigToJson(const CollectionConfig& c) {
  json::object params;
  if (c.single_unnamed_vector && c.vectors.size() == 1) {
    params["vectors"] = VectorParamsToJson(c.vectors.begin()->second);
  } else {
    json::object named;
    for (const auto& [name, p] : c.vectors) {
      named[name] = VectorParamsToJson(p);
    }
    params["vectors"] = std::move(named);
  }
  if (!c.sparse_vectors.empty()) {
    json::object sparse;
    for (const auto& [name, p] : c.sparse_vectors) {
      sparse[name] = SparseParamsToJson(p);
    }
    params["sparse_vectors"] = std::move(sparse);
  }
  params["shard_number"] = c.shard_number;
  params["replication_factor"] = c.replication_factor;
  params["write_consistency_factor"] = c.write_consistency_factor;
  params["on_disk_payload"] = c.on_disk_payload;

  json::object hnsw;
  hnsw["m"] = c.hnsw.m;
  hnsw["ef_construct"] = c.hnsw.ef_construct;
  hnsw["full_scan_threshold"] = c.hnsw.full_scan_threshold;
  hnsw["max_indexing_threads"] = c.hnsw.max_indexing_threads;
  hnsw["on_disk"] = c.hnsw.on_disk;
  if (c.hnsw.payload_m) {
    hnsw["payload_m"] = *c.hnsw.payload_m;
  }

  const engine::OptimizersConfig& o = c.optimizers;
  json::object optimizer;
  optimizer["deleted_threshold"] = o.deleted_threshold;
  optimizer["vacuum_min_vector_number"] = o.vacuum_min_vector_number;
  optimizer["default_segment_number"] = o.default_segment_number;
  optimizer["max_segment_size"] = OptionalU64(o.max_segment_size);
  optimizer["memmap_threshold"] = OptionalU64(o.memmap_threshold);
  optimizer["indexing_threshold"] = o.indexing_threshold;
  optimizer["flush_interval_sec"] = o.flush_interval_sec;
  optimizer["max_optimization_threads"] = OptionalU64(o.max_optimization_threads);

  json::object wal;
  wal["wal_capacity_mb"] = c.wal.wal_capacity_mb;
  wal["wal_segments_ahead"] = c.wal.wal_segments_ahead;
  wal["wal_retain_closed"] = c.wal.wal_retain_closed;

  json::object config;
  config["params"] = std::move(params);
  config["hnsw_config"] = std::move(hnsw);
  config["optimizer_config"] = std::move(optimizer);
  config["wal_config"] = std::move(wal);
  config["quantization_config"] = nullptr;
  if (c.metadata) {
    config["metadata"] = *c.metadata;
  }
  return config;
}

json::object CollectionInfoToJson(const engine::CollectionInfo& info) {
  json::object o;
  o["status"] = engine::CollectionStatusName(info.status);
  o["optimizer_status"] = "ok";
  o["indexed_vectors_count"] = info.indexed_vectors_count;
  o["points_count"] = info.points_count;
  o["segments_count"] = info.segments_count;
  o["config"] = CollectionConfigToJson(info.config);
  json::object schema;
  for (const auto& [field, info] : info.payload_schema) {
    json::object entry{{"data_type", engine::PayloadSchemaName(info.index.type)},
                       {"points", info.points}};
    if (!info.index.params.empty()) {
      json::object params = info.index.params;
      params["type"] = engine::PayloadSchemaName(info.index.type);
      entry["params"] = std::move(params);
    }
    schema[field] = std::move(entry);
  }
  o["payload_schema"] = std::move(schema);
  return o;
}

}  // namespace tessera::api

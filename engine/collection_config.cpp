#include "engine/collection_config.h"

#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/coding.h"
#include "common/framing.h"

namespace tessera::engine {

namespace json = boost::json;

std::string_view SparseModifierName(SparseModifier modifier) {
  return modifier == SparseModifier::kIdf ? "idf" : "none";
}

std::string_view DistanceName(Distance distance) {
  switch (distance) {
    case Distance::kCosine:
      return "Cosine";
    case Distance::kEuclid:
      return "Euclid";
    case Distance::kDot:
      return "Dot";
    case Distance::kManhattan:
      return "Manhattan";
  }
  return "Cosine";
}

std::optional<Distance> ParseDistance(std::string_view name) {
  if (name == "Cosine") {
    return Distance::kCosine;
  }
  if (name == "Euclid") {
    return Distance::kEuclid;
  }
  if (name == "Dot") {
    return Distance::kDot;
  }
  if (name == "Manhattan") {
    return Distance::kManhattan;
  }
  return std::nullopt;
}

std::string_view PayloadSchemaName(PayloadSchemaType type) {
  static constexpr std::string_view kNames[] = {"keyword", "integer", "float",    "bool",
                                                "geo",     "text",    "datetime", "uuid"};
  return kNames[static_cast<size_t>(type)];
}

std::optional<PayloadSchemaType> ParsePayloadSchemaType(std::string_view name) {
  for (uint8_t i = 0; i < 8; ++i) {
    if (PayloadSchemaName(static_cast<PayloadSchemaType>(i)) == name) {
      return static_cast<PayloadSchemaType>(i);
    }
  }
  return std::nullopt;
}

Result<index::TextTokenizerParams> TextParamsOf(const PayloadIndexInfo& info) {
  index::TextTokenizerParams p;
  const boost::json::object& o = info.params;
  auto flag = [&](const char* key, bool* out) {
    if (const auto* v = o.if_contains(key); v != nullptr && v->is_bool()) *out = v->get_bool();
  };
  auto length = [&](const char* key, std::optional<size_t>* out) {
    if (const auto* v = o.if_contains(key); v != nullptr && v->is_number()) {
      *out = static_cast<size_t>(v->to_number<double>());
    }
  };
  if (const auto* t = o.if_contains("tokenizer"); t != nullptr && t->is_string()) {
    const std::string_view name = t->get_string();
    using K = index::TextTokenizerParams::Kind;
    p.kind = name == "whitespace"     ? K::kWhitespace
             : name == "prefix"       ? K::kPrefix
             : name == "multilingual" ? K::kMultilingual
                                      : K::kWord;
  }
  flag("lowercase", &p.lowercase);
  flag("ascii_folding", &p.ascii_folding);
  flag("phrase_matching", &p.phrase_matching);
  length("min_token_len", &p.min_token_len);
  length("max_token_len", &p.max_token_len);
  if (const auto* sw = o.if_contains("stopwords"); sw != nullptr && !sw->is_null()) {
    const boost::json::value* languages = nullptr;
    if (sw->is_string()) {
      languages = sw;
    } else if (sw->is_object()) {
      if (const auto* l = sw->get_object().if_contains("languages");
          l != nullptr && l->is_array() && !l->get_array().empty()) {
        languages = l;
      }
      if (const auto* c = sw->get_object().if_contains("custom"); c != nullptr && c->is_array()) {
        for (const auto& w : c->get_array()) {
          if (w.is_string()) p.stopwords.emplace(w.get_string());
        }
      }
    }
    if (languages != nullptr) {
      return Status::InvalidArgument(
          "Wrong input: field_schema.stopwords: predefined stopword languages are not supported "
          "yet by Tessera; give the words as {\"custom\": [...]}");
    }
  }
  if (const auto* st = o.if_contains("stemmer"); st != nullptr && st->is_object()) {
    if (const auto* lang = st->get_object().if_contains("language"); lang != nullptr && lang->is_string()) {
      p.stemmer_language = std::string(lang->get_string());
    }
  }
  return p;
}

TextIndexLookup TextIndexesOf(const CollectionConfig& config) {
  return [&config](std::string_view key) -> std::shared_ptr<const index::TextTokenizer> {
    auto it = config.payload_indexes.find(key);
    if (it == config.payload_indexes.end() || it->second.type != PayloadSchemaType::kText) {
      return nullptr;
    }
    Result<index::TextTokenizerParams> params = TextParamsOf(it->second);
    if (!params.ok()) {
      return nullptr;  // refused when the index was created; not reachable
    }
    // One tokenizer per distinct parameters, for the process (ICU's transliterator and
    // libstemmer's stemmers are costly to make).
    static std::mutex mu;
    static std::vector<std::shared_ptr<const index::TextTokenizer>> made;
    std::lock_guard lock(mu);
    for (const auto& t : made) {
      if (t->params() == *params) return t;
    }
    Result<std::shared_ptr<const index::TextTokenizer>> t = index::TextTokenizer::Create(*params);
    if (!t.ok()) {
      return nullptr;
    }
    made.push_back(*t);
    return *t;
  };
}

namespace {
template <typename T>
void Take(T& field, const std::optional<T>& value) {
  if (value) {
    field = *value;
  }
}
template <typename T>
void Take(std::optional<T>& field, const std::optional<T>& value) {
  if (value) {
    field = *value;
  }
}
}  // namespace

void HnswConfig::Apply(const HnswConfigDiff& d) {
  Take(m, d.m);
  Take(ef_construct, d.ef_construct);
  Take(full_scan_threshold, d.full_scan_threshold);
  Take(max_indexing_threads, d.max_indexing_threads);
  Take(on_disk, d.on_disk);
  Take(payload_m, d.payload_m);
}

HnswConfig HnswFor(const CollectionConfig& config, std::string_view vector_name) {
  HnswConfig hnsw = config.hnsw;
  if (auto it = config.vectors.find(vector_name);
      it != config.vectors.end() && it->second.hnsw_config) {
    hnsw.Apply(*it->second.hnsw_config);
  }
  return hnsw;
}

void OptimizersConfig::Apply(const OptimizersConfigDiff& d) {
  Take(deleted_threshold, d.deleted_threshold);
  Take(vacuum_min_vector_number, d.vacuum_min_vector_number);
  Take(default_segment_number, d.default_segment_number);
  Take(max_segment_size, d.max_segment_size);
  Take(memmap_threshold, d.memmap_threshold);
  Take(indexing_threshold, d.indexing_threshold);
  Take(flush_interval_sec, d.flush_interval_sec);
  Take(max_optimization_threads, d.max_optimization_threads);
}

void WalConfig::Apply(const WalConfigDiff& d) {
  Take(wal_capacity_mb, d.wal_capacity_mb);
  Take(wal_segments_ahead, d.wal_segments_ahead);
  Take(wal_retain_closed, d.wal_retain_closed);
}

namespace {

// Collects constraint violations in Qdrant's wording: "path: value 0 invalid, must be 1 or larger".
class Violations {
 public:
  void AtLeast(const std::string& path, uint64_t value, uint64_t min) {
    if (value < min) {
      Add(path, "value " + std::to_string(value) + " invalid, must be " + std::to_string(min) +
                    " or larger");
    }
  }
  void AtMost(const std::string& path, uint64_t value, uint64_t max) {
    if (value > max) {
      Add(path, "value " + std::to_string(value) + " invalid, must be " + std::to_string(max) +
                    " or smaller");
    }
  }
  void InUnitRange(const std::string& path, double value) {
    if (!(value >= 0.0 && value <= 1.0)) {
      Add(path,
          "value " + json::serialize(json::value(value)) + " invalid, must be from 0.0 to 1.0");
    }
  }
  void Hnsw(const std::string& prefix, const HnswConfigDiff& d) {
    if (d.ef_construct) {
      AtLeast(prefix + "ef_construct", *d.ef_construct, 4);
    }
    if (d.full_scan_threshold) {
      AtLeast(prefix + "full_scan_threshold", *d.full_scan_threshold, 10);
    }
  }
  void Add(const std::string& path, const std::string& what) {
    items_.push_back(path + ": " + what);
  }

  Status ToStatus() const {
    if (items_.empty()) {
      return Status::Ok();
    }
    std::string message;
    for (const auto& item : items_) {
      if (!message.empty()) {
        message += ", ";
      }
      message += item;
    }
    return Status::ValidationFailed(message);
  }

 private:
  std::vector<std::string> items_;
};

HnswConfigDiff AsDiff(const HnswConfig& c) {
  return {c.m,       c.ef_construct, c.full_scan_threshold, c.max_indexing_threads,
          c.on_disk, c.payload_m};
}

}  // namespace

Status ValidateConfig(const CollectionConfig& config) {
  Violations v;
  for (const auto& [name, params] : config.vectors) {
    const std::string prefix =
        config.single_unnamed_vector ? std::string("vectors.") : "vectors." + name + ".";
    v.AtLeast(prefix + "size", params.size, 1);
    v.AtMost(prefix + "size", params.size, 65536);
    if (params.hnsw_config) {
      v.Hnsw(prefix + "hnsw_config.", *params.hnsw_config);
    }
  }
  for (const auto& [name, params] : config.sparse_vectors) {
    if (config.vectors.contains(name)) {
      v.Add("sparse_vectors." + name,
            "the name is declared both as a dense and as a sparse vector");
    }
  }
  v.AtLeast("shard_number", config.shard_number, 1);
  v.AtLeast("replication_factor", config.replication_factor, 1);
  v.AtLeast("write_consistency_factor", config.write_consistency_factor, 1);
  v.Hnsw("hnsw_config.", AsDiff(config.hnsw));
  const OptimizersConfig& o = config.optimizers;
  v.InUnitRange("optimizers_config.deleted_threshold", o.deleted_threshold);
  v.AtLeast("optimizers_config.vacuum_min_vector_number", o.vacuum_min_vector_number, 100);
  if (o.max_segment_size) {
    v.AtLeast("optimizers_config.max_segment_size", *o.max_segment_size, 1);
  }
  v.AtLeast("wal_config.wal_capacity_mb", config.wal.wal_capacity_mb, 1);
  v.AtLeast("wal_config.wal_retain_closed", config.wal.wal_retain_closed, 1);
  return v.ToStatus();
}

Result<CollectionConfig> ApplyUpdate(const CollectionConfig& config,
                                     const CollectionUpdate& update) {
  CollectionConfig next = config;
  for (const auto& [name, diff] : update.vectors) {
    auto it = next.vectors.find(name);
    if (it == next.vectors.end()) {
      return Status::InvalidArgument("Wrong input: Not existing vector name error: " + name);
    }
    if (diff.hnsw_config) {
      HnswConfigDiff merged = it->second.hnsw_config.value_or(HnswConfigDiff{});
      const HnswConfigDiff& d = *diff.hnsw_config;
      Take(merged.m, d.m);
      Take(merged.ef_construct, d.ef_construct);
      Take(merged.full_scan_threshold, d.full_scan_threshold);
      Take(merged.max_indexing_threads, d.max_indexing_threads);
      Take(merged.on_disk, d.on_disk);
      Take(merged.payload_m, d.payload_m);
      it->second.hnsw_config = merged;
    }
    Take(it->second.on_disk, diff.on_disk);
  }
  for (const auto& [name, diff] : update.sparse_vectors) {
    auto it = next.sparse_vectors.find(name);
    if (it == next.sparse_vectors.end()) {
      return Status::InvalidArgument("Wrong input: Not existing vector name error: " + name);
    }
    if (diff.index) {
      SparseIndexParams merged = it->second.index.value_or(SparseIndexParams{});
      Take(merged.full_scan_threshold, diff.index->full_scan_threshold);
      Take(merged.on_disk, diff.index->on_disk);
      Take(merged.memory, diff.index->memory);
      Take(merged.datatype, diff.index->datatype);
      it->second.index = std::move(merged);
    }
    Take(it->second.modifier, diff.modifier);
  }
  if (update.optimizers) {
    next.optimizers.Apply(*update.optimizers);
  }
  if (update.hnsw) {
    next.hnsw.Apply(*update.hnsw);
  }
  Take(next.replication_factor, update.replication_factor);
  Take(next.write_consistency_factor, update.write_consistency_factor);
  Take(next.on_disk_payload, update.on_disk_payload);
  if (update.metadata) {
    json::object merged = next.metadata.value_or(json::object{});
    for (const auto& [key, value] : *update.metadata) {
      if (value.is_null()) {
        merged.erase(key);
      } else {
        merged[key] = value;
      }
    }
    next.metadata = std::move(merged);
  }
  TESSERA_RETURN_IF_ERROR(ValidateConfig(next));
  return next;
}

// ---- binary codec ----

namespace {

constexpr std::string_view kMagic = "TSCC";
// 2 added payload indexes, 3 sparse vectors, 4 multivectors; every earlier version loads.
constexpr uint32_t kVersion = 4;

void PutOptU64(std::string* out, const std::optional<uint64_t>& v) {
  PutBool(out, v.has_value());
  if (v) {
    PutVarint64(out, *v);
  }
}
void PutOptBool(std::string* out, const std::optional<bool>& v) {
  PutBool(out, v.has_value());
  if (v) {
    PutBool(out, *v);
  }
}
void PutOptString(std::string* out, const std::optional<std::string>& v) {
  PutBool(out, v.has_value());
  if (v) {
    PutLengthPrefixed(out, *v);
  }
}
void PutOptDouble(std::string* out, const std::optional<double>& v) {
  PutBool(out, v.has_value());
  if (v) {
    PutDouble(out, *v);
  }
}

// An optional value: a presence byte, then the value read by `get` (a Decoder member).
template <typename T>
bool GetOpt(Decoder& d, std::optional<T>* v, bool (Decoder::*get)(T*)) {
  bool has;
  if (!d.GetBool(&has)) {
    return false;
  }
  v->reset();
  if (!has) {
    return true;
  }
  T x;
  if (!(d.*get)(&x)) {
    return false;
  }
  *v = x;
  return true;
}
bool GetOptU64(Decoder& d, std::optional<uint64_t>* v) {
  return GetOpt(d, v, &Decoder::GetVarint64);
}
bool GetOptBool(Decoder& d, std::optional<bool>* v) {
  return GetOpt(d, v, &Decoder::GetBool);
}
bool GetOptDouble(Decoder& d, std::optional<double>* v) {
  return GetOpt(d, v, &Decoder::GetDouble);
}
bool GetOptString(Decoder& d, std::optional<std::string>* v) {
  bool has;
  std::string_view bytes;
  if (!d.GetBool(&has) || (has && !d.GetLengthPrefixed(&bytes))) {
    return false;
  }
  *v = has ? std::optional<std::string>(std::string(bytes)) : std::nullopt;
  return true;
}
bool GetU64(Decoder& d, uint64_t* v) {
  return d.GetVarint64(v);
}
bool GetU32(Decoder& d, uint32_t* v) {
  uint64_t x;
  if (!d.GetVarint64(&x) || x > UINT32_MAX) {
    return false;
  }
  *v = static_cast<uint32_t>(x);
  return true;
}

void PutHnswDiff(std::string* out, const HnswConfigDiff& h) {
  PutOptU64(out, h.m);
  PutOptU64(out, h.ef_construct);
  PutOptU64(out, h.full_scan_threshold);
  PutOptU64(out, h.max_indexing_threads);
  PutOptBool(out, h.on_disk);
  PutOptU64(out, h.payload_m);
}
bool GetHnswDiff(Decoder& d, HnswConfigDiff* h) {
  return GetOptU64(d, &h->m) && GetOptU64(d, &h->ef_construct) &&
         GetOptU64(d, &h->full_scan_threshold) && GetOptU64(d, &h->max_indexing_threads) &&
         GetOptBool(d, &h->on_disk) && GetOptU64(d, &h->payload_m);
}

bool DecodeBody(Decoder& d, uint32_t version, CollectionConfig* c) {
  uint64_t nvec;
  if (!d.GetBool(&c->single_unnamed_vector) || !d.GetVarint64(&nvec)) {
    return false;
  }
  for (uint64_t i = 0; i < nvec; ++i) {
    std::string_view name;
    VectorParams p;
    uint64_t distance;
    bool has_hnsw;
    if (!d.GetLengthPrefixed(&name) || !GetU64(d, &p.size) || !d.GetVarint64(&distance) ||
        distance > 3 || !d.GetBool(&has_hnsw)) {
      return false;
    }
    p.distance = static_cast<Distance>(distance);
    if (has_hnsw) {
      HnswConfigDiff h;
      if (!GetHnswDiff(d, &h)) {
        return false;
      }
      p.hnsw_config = h;
    }
    if (!GetOptBool(d, &p.on_disk)) {
      return false;
    }
    if (version >= 4) {
      bool multi;
      std::string_view comparator;
      if (!d.GetBool(&multi) || (multi && (!d.GetBytes(1, &comparator) || comparator[0] != 0))) {
        return false;
      }
      if (multi) {
        p.multivector = MultiVectorComparator::kMaxSim;
      }
    }
    c->vectors.emplace(std::string(name), p);
  }
  HnswConfigDiff hnsw;
  OptimizersConfig& o = c->optimizers;
  std::optional<double> deleted_threshold;
  if (!GetU32(d, &c->shard_number) || !GetU32(d, &c->replication_factor) ||
      !GetU32(d, &c->write_consistency_factor) || !d.GetBool(&c->on_disk_payload) ||
      !GetHnswDiff(d, &hnsw) || !GetOptDouble(d, &deleted_threshold) ||
      !GetU64(d, &o.vacuum_min_vector_number) || !GetU64(d, &o.default_segment_number) ||
      !GetOptU64(d, &o.max_segment_size) || !GetOptU64(d, &o.memmap_threshold) ||
      !GetU64(d, &o.indexing_threshold) || !GetU64(d, &o.flush_interval_sec) ||
      !GetOptU64(d, &o.max_optimization_threads) || !GetU64(d, &c->wal.wal_capacity_mb) ||
      !GetU64(d, &c->wal.wal_segments_ahead) || !GetU64(d, &c->wal.wal_retain_closed)) {
    return false;
  }
  c->hnsw.Apply(hnsw);
  o.deleted_threshold = deleted_threshold.value_or(0.2);
  std::string_view metadata;
  if (!d.GetLengthPrefixed(&metadata)) {
    return false;
  }
  if (!metadata.empty()) {
    boost::system::error_code ec;
    json::value v = json::parse(metadata, ec);
    if (ec || !v.is_object()) {
      return false;
    }
    c->metadata = std::move(v.as_object());
  }
  if (version >= 2) {
    uint64_t n;
    if (!d.GetVarint64(&n) || n > d.remaining()) {
      return false;
    }
    for (uint64_t i = 0; i < n; ++i) {
      std::string_view field, type, params;
      if (!d.GetLengthPrefixed(&field) || !d.GetBytes(1, &type) ||
          static_cast<uint8_t>(type[0]) > 7 || !d.GetLengthPrefixed(&params)) {
        return false;
      }
      PayloadIndexInfo info;
      info.type = static_cast<PayloadSchemaType>(type[0]);
      if (!params.empty()) {
        boost::system::error_code ec;
        json::value v = json::parse(params, ec);
        if (ec || !v.is_object()) {
          return false;
        }
        info.params = std::move(v.as_object());
      }
      c->payload_indexes.emplace(std::string(field), std::move(info));
    }
  }
  if (version >= 3) {
    uint64_t n;
    if (!d.GetVarint64(&n) || n > d.remaining()) {
      return false;
    }
    for (uint64_t i = 0; i < n; ++i) {
      std::string_view name;
      SparseVectorParams p;
      bool has_index, has_modifier;
      if (!d.GetLengthPrefixed(&name) || !d.GetBool(&has_index)) {
        return false;
      }
      if (has_index) {
        SparseIndexParams index;
        if (!GetOptU64(d, &index.full_scan_threshold) || !GetOptBool(d, &index.on_disk) ||
            !GetOptString(d, &index.memory) || !GetOptString(d, &index.datatype)) {
          return false;
        }
        p.index = std::move(index);
      }
      if (!d.GetBool(&has_modifier)) {
        return false;
      }
      if (has_modifier) {
        std::string_view m;
        if (!d.GetBytes(1, &m) || static_cast<uint8_t>(m[0]) > 1) {
          return false;
        }
        p.modifier = static_cast<SparseModifier>(m[0]);
      }
      c->sparse_vectors.emplace(std::string(name), std::move(p));
    }
  }
  return d.empty();
}

}  // namespace

std::string EncodeCollectionConfig(const CollectionConfig& c) {
  std::string body;
  PutBool(&body, c.single_unnamed_vector);
  PutVarint64(&body, c.vectors.size());
  for (const auto& [name, p] : c.vectors) {
    PutLengthPrefixed(&body, name);
    PutVarint64(&body, p.size);
    PutVarint64(&body, static_cast<uint64_t>(p.distance));
    PutBool(&body, p.hnsw_config.has_value());
    if (p.hnsw_config) {
      PutHnswDiff(&body, *p.hnsw_config);
    }
    PutOptBool(&body, p.on_disk);
    PutBool(&body, p.multivector.has_value());
    if (p.multivector) {
      body.push_back(static_cast<char>(*p.multivector));
    }
  }
  PutVarint64(&body, c.shard_number);
  PutVarint64(&body, c.replication_factor);
  PutVarint64(&body, c.write_consistency_factor);
  PutBool(&body, c.on_disk_payload);
  PutHnswDiff(&body, AsDiff(c.hnsw));
  const OptimizersConfig& o = c.optimizers;
  PutOptDouble(&body, o.deleted_threshold);
  PutVarint64(&body, o.vacuum_min_vector_number);
  PutVarint64(&body, o.default_segment_number);
  PutOptU64(&body, o.max_segment_size);
  PutOptU64(&body, o.memmap_threshold);
  PutVarint64(&body, o.indexing_threshold);
  PutVarint64(&body, o.flush_interval_sec);
  PutOptU64(&body, o.max_optimization_threads);
  PutVarint64(&body, c.wal.wal_capacity_mb);
  PutVarint64(&body, c.wal.wal_segments_ahead);
  PutVarint64(&body, c.wal.wal_retain_closed);
  PutLengthPrefixed(&body, c.metadata ? json::serialize(*c.metadata) : std::string());
  PutVarint64(&body, c.payload_indexes.size());
  for (const auto& [field, info] : c.payload_indexes) {
    PutLengthPrefixed(&body, field);
    body.push_back(static_cast<char>(info.type));
    PutLengthPrefixed(&body, info.params.empty() ? std::string() : json::serialize(info.params));
  }
  PutVarint64(&body, c.sparse_vectors.size());
  for (const auto& [name, p] : c.sparse_vectors) {
    PutLengthPrefixed(&body, name);
    PutBool(&body, p.index.has_value());
    if (p.index) {
      PutOptU64(&body, p.index->full_scan_threshold);
      PutOptBool(&body, p.index->on_disk);
      PutOptString(&body, p.index->memory);
      PutOptString(&body, p.index->datatype);
    }
    PutBool(&body, p.modifier.has_value());
    if (p.modifier) {
      body.push_back(static_cast<char>(*p.modifier));
    }
  }

  return FrameFile(kMagic, kVersion, body);
}

Result<CollectionConfig> DecodeCollectionConfig(std::string_view bytes) {
  TESSERA_ASSIGN_OR_RETURN(FramedBody framed,
                           UnframeFile(bytes, kMagic, kVersion, "collection config"));
  CollectionConfig config;
  config.vectors.clear();
  Decoder d(framed.body);
  if (!DecodeBody(d, framed.version, &config)) {
    return Status::Corruption("collection config: malformed body");
  }
  return config;
}

}  // namespace tessera::engine

#include "api/points_codec.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>

#include <boost/json/array.hpp>

#include "api/json_util.h"
#include "engine/json_path.h"

namespace tessera::api {

namespace json = boost::json;
using engine::NamedVectors;
using engine::PointId;

namespace {
Status ExpectedType(std::string_view path, const json::value& v, std::string_view expected) {
  return DeserializeError(path, "invalid type: " + std::string(JsonTypeName(v)) + ", expected " +
                                    std::string(expected));
}

// A list of strings; with `key_paths`, each must be a payload key path.
Status ParseStringList(const json::value& v, std::string_view path, std::vector<std::string>* out,
                       bool key_paths) {
  if (!v.is_array()) {
    return ExpectedType(path, v, "a sequence of strings");
  }
  for (const json::value& item : v.get_array()) {
    if (!item.is_string()) {
      return ExpectedType(path, item, "a string");
    }
    if (key_paths) {
      TESSERA_RETURN_IF_ERROR(CheckKeyPath(path, item.get_string()));
    }
    out->emplace_back(item.get_string());
  }
  return Status::Ok();
}
}  // namespace

Status ParseWithPayload(const json::value* v, bool default_all, PayloadSelector* out) {
  *out = PayloadSelector{};
  if (v == nullptr || v->is_null()) {
    out->mode = default_all ? PayloadSelector::Mode::kAll : PayloadSelector::Mode::kNone;
    return Status::Ok();
  }
  if (v->is_bool()) {
    out->mode = v->get_bool() ? PayloadSelector::Mode::kAll : PayloadSelector::Mode::kNone;
    return Status::Ok();
  }
  if (v->is_array()) {
    out->mode = PayloadSelector::Mode::kInclude;
    return ParseStringList(*v, "with_payload", &out->keys, true);
  }
  if (v->is_object()) {
    const json::object& o = v->get_object();
    // As Qdrant's PayloadSelectorInclude / PayloadSelectorExclude: one key, nothing else.
    if (o.size() > 1 || (o.size() == 1 && !o.contains("include") && !o.contains("exclude"))) {
      FieldReader r(*v, "with_payload");
      TESSERA_RETURN_IF_ERROR(r.OnlyKnown({o.contains("exclude") ? "exclude" : "include"}));
    }
    if (const json::value* include = o.if_contains("include")) {
      out->mode = PayloadSelector::Mode::kInclude;
      return ParseStringList(*include, "with_payload.include", &out->keys, true);
    }
    if (const json::value* exclude = o.if_contains("exclude")) {
      out->mode = PayloadSelector::Mode::kExclude;
      return ParseStringList(*exclude, "with_payload.exclude", &out->keys, true);
    }
  }
  return DeserializeError("with_payload",
                          "expected a boolean, a list of keys, {\"include\": [...]} or "
                          "{\"exclude\": [...]}");
}

Status ParseWithVector(const json::value* v, bool default_all, VectorSelector* out) {
  *out = VectorSelector{};
  if (v == nullptr || v->is_null()) {
    out->all = default_all;
    return Status::Ok();
  }
  if (v->is_bool()) {
    out->all = v->get_bool();
    return Status::Ok();
  }
  if (v->is_array()) {
    return ParseStringList(*v, "with_vector", &out->names, false);
  }
  return ExpectedType("with_vector", *v, "a boolean or a list of vector names");
}

Result<PointId> ParsePointId(const json::value& v, std::string_view path) {
  if (v.is_uint64()) {
    return PointId::Num(v.get_uint64());
  }
  if (v.is_int64() && v.get_int64() >= 0) {
    return PointId::Num(static_cast<uint64_t>(v.get_int64()));
  }
  if (v.is_string()) {
    if (auto id = PointId::ParseUuid(v.get_string())) {
      return *id;
    }
    return DeserializeError(path, "`" + std::string(v.get_string()) +
                                      "` is not a valid point ID, valid values are either an "
                                      "unsigned integer or a UUID");
  }
  return DeserializeError(path, "invalid point id (" + std::string(JsonTypeName(v)) +
                                    "): expected an unsigned integer or a UUID");
}

Result<PointId> ParsePointIdText(std::string_view text) {
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) {
    return PointId::Num(n);
  }
  if (auto id = PointId::ParseUuid(text)) {
    return *id;
  }
  return Status::InvalidArgument("Wrong input: `" + std::string(text) +
                                 "` is not a valid point ID, valid values are either an "
                                 "unsigned integer or a UUID");
}

Status ParsePointIds(const json::value& v, std::string_view path, std::vector<PointId>* out) {
  if (!v.is_array()) {
    return ExpectedType(path, v, "a sequence of point ids");
  }
  out->reserve(v.get_array().size());
  size_t i = 0;
  for (const json::value& item : v.get_array()) {
    TESSERA_ASSIGN_OR_RETURN(
        PointId id, ParsePointId(item, std::string(path) + "[" + std::to_string(i++) + "]"));
    out->push_back(id);
  }
  return Status::Ok();
}

Status ParseDenseVector(const json::value& v, std::string_view path, std::vector<float>* out) {
  if (!v.is_array()) {
    return ExpectedType(path, v, "a sequence of numbers");
  }
  const json::array& a = v.get_array();
  out->resize(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_number()) {
      return ExpectedType(std::string(path) + "[" + std::to_string(i) + "]", a[i], "a number");
    }
    const double d = a[i].to_number<double>();
    if (!std::isfinite(d) || std::fabs(d) > std::numeric_limits<float>::max()) {
      return DeserializeError(std::string(path) + "[" + std::to_string(i) + "]",
                              "vector values must be finite 32-bit floats");
    }
    (*out)[i] = static_cast<float>(d);
  }
  return Status::Ok();
}

namespace {

// `vpath`: the path validation errors name (Qdrant's validator writes a map key as `?`).
Status ParseSparseVector(const json::value& v, std::string_view path, std::string_view vpath,
                         engine::SparseVector* out) {
  FieldReader r(v, std::string(path));
  for (const auto& [key, value] : v.get_object()) {
    if (key != "indices" && key != "values") {
      return DeserializeError(path, "unknown field `" + std::string(key) +
                                        "`, expected `indices` or `values`");
    }
  }
  const json::value* indices = r.Find("indices");
  const json::value* values = r.Find("values");
  if (indices == nullptr) {
    return DeserializeError(path, "missing field `indices`");
  }
  if (values == nullptr) {
    return DeserializeError(path, "missing field `values`");
  }
  if (!indices->is_array()) {
    return ExpectedType(r.PathOf("indices"), *indices, "a sequence of unsigned integers");
  }
  out->indices.clear();
  for (size_t i = 0; i < indices->get_array().size(); ++i) {
    const json::value& x = indices->get_array()[i];
    const std::string at = r.PathOf("indices") + "[" + std::to_string(i) + "]";
    if (x.is_uint64() && x.get_uint64() <= UINT32_MAX) {
      out->indices.push_back(static_cast<uint32_t>(x.get_uint64()));
    } else if (x.is_int64() && x.get_int64() >= 0 && x.get_int64() <= UINT32_MAX) {
      out->indices.push_back(static_cast<uint32_t>(x.get_int64()));
    } else {
      return ExpectedType(at, x, "an unsigned 32-bit integer");
    }
  }
  TESSERA_RETURN_IF_ERROR(ParseDenseVector(*values, r.PathOf("values"), &out->values));
  if (out->values.size() != out->indices.size()) {
    return Status::ValidationFailed(std::string(vpath) +
                                    ".values: Validation error: must be the same length as "
                                    "indices [{}]");
  }
  std::vector<uint32_t> sorted = out->indices;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return Status::ValidationFailed(std::string(vpath) +
                                    ".indices: Validation error: must be unique [{}]");
  }
  return Status::Ok();
}

}  // namespace

Status ParseVector(const json::value& v, std::string_view path, engine::VectorInput* out,
                   std::string_view vpath) {
  if (v.is_object()) {
    engine::SparseVector sparse;
    TESSERA_RETURN_IF_ERROR(ParseSparseVector(v, path, vpath.empty() ? path : vpath, &sparse));
    *out = std::move(sparse);
    return Status::Ok();
  }
  const std::string_view at = vpath.empty() ? path : vpath;
  if (v.is_array() && !v.get_array().empty() && v.get_array()[0].is_array()) {
    // Qdrant's validate_multi_vector, in its words and order.
    engine::MultiDenseVector multi;
    std::vector<float> row;
    const json::array& rows = v.get_array();
    std::vector<std::vector<float>> parsed(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      TESSERA_RETURN_IF_ERROR(ParseDenseVector(
          rows[i], std::string(path) + "[" + std::to_string(i) + "]", &parsed[i]));
    }
    for (const auto& r : parsed) {
      if (r.empty()) {
        return Status::ValidationFailed(std::string(at) + ".data: all vectors must be non-empty");
      }
    }
    multi.dim = parsed[0].size();
    for (const auto& r : parsed) {
      if (r.size() != multi.dim) {
        return Status::ValidationFailed(
            std::string(at) +
            ".data: all vectors must have the same dimension, found vector with dimension " +
            std::to_string(r.size()));
      }
      multi.values.insert(multi.values.end(), r.begin(), r.end());
    }
    *out = std::move(multi);
    return Status::Ok();
  }
  engine::DenseVector dense;
  if (!v.is_array()) {
    return ExpectedType(path, v, "a vector: a sequence of numbers, a sparse vector or a multivector");
  }
  TESSERA_RETURN_IF_ERROR(ParseDenseVector(v, path, &dense));
  if (dense.empty()) {  // Qdrant's validate_non_empty_dense
    return Status::ValidationFailed(std::string(at) + ": dense vector must not be empty");
  }
  *out = std::move(dense);
  return Status::Ok();
}

Status ParseVectorStruct(const json::value& v, std::string_view path, NamedVectors* out) {
  out->clear();
  if (v.is_array()) {
    return ParseVector(v, path, &(*out)[""]);
  }
  if (!v.is_object()) {
    return ExpectedType(path, v, "a vector or a map of named vectors");
  }
  for (const auto& [name, values] : v.get_object()) {
    TESSERA_RETURN_IF_ERROR(ParseVector(values, std::string(path) + "." + std::string(name),
                                        &(*out)[std::string(name)], std::string(path) + ".?"));
  }
  return Status::Ok();
}

Status ParsePayload(const json::value* v, std::string_view path, json::object* out) {
  out->clear();
  if (v == nullptr || v->is_null()) {
    return Status::Ok();
  }
  if (!v->is_object()) {
    return ExpectedType(path, *v, "a map");
  }
  *out = v->get_object();
  return Status::Ok();
}

Result<engine::UpsertOp> ParseUpsert(const json::value& body) {
  FieldReader r(body, "");
  TESSERA_RETURN_IF_ERROR(r.OnlyKnown({"points", "batch", "shard_key", "update_filter", "update_mode"}));
  TESSERA_RETURN_IF_ERROR(r.Unsupported("shard_key", "custom sharding (`shard_key`)"));
  TESSERA_RETURN_IF_ERROR(r.Unsupported("update_filter", "a conditional update (`update_filter`)"));
  if (const json::value* mode = r.Find("update_mode");
      mode != nullptr && !(mode->is_string() && mode->get_string() == "upsert")) {
    return DeserializeError("update_mode", "only `upsert` is supported");
  }
  if (r.Has("points") && r.Has("batch")) {
    return DeserializeError("", "expected `points` or `batch`, not both");
  }
  engine::UpsertOp op;
  if (const json::value* points = r.Find("points")) {
    if (!points->is_array()) {
      return ExpectedType("points", *points, "a sequence");
    }
    op.points.reserve(points->get_array().size());
    size_t i = 0;
    for (const json::value& p : points->get_array()) {
      const std::string path = "points[" + std::to_string(i++) + "]";
      FieldReader pr(p, path);
      TESSERA_RETURN_IF_ERROR(pr.OnlyKnown({"id", "vector", "vectors", "payload"}));
      engine::PointStruct point;
      const json::value* id = pr.Find("id");
      if (id == nullptr) {
        return DeserializeError(path, "missing field `id`");
      }
      TESSERA_ASSIGN_OR_RETURN(point.id, ParsePointId(*id, pr.PathOf("id")));
      const json::value* vector = pr.Find("vector");
      if (vector == nullptr) {
        vector = pr.Find("vectors");  // accepted by Qdrant as an alias
      }
      if (vector == nullptr) {
        return DeserializeError(path, "missing field `vector`");
      }
      TESSERA_RETURN_IF_ERROR(ParseVectorStruct(*vector, pr.PathOf("vector"), &point.vectors));
      TESSERA_RETURN_IF_ERROR(
          ParsePayload(pr.Find("payload"), pr.PathOf("payload"), &point.payload));
      op.points.push_back(std::move(point));
    }
  } else if (const json::value* batch = r.Find("batch")) {
    FieldReader br(*batch, "batch");
    TESSERA_RETURN_IF_ERROR(br.OnlyKnown({"ids", "vectors", "payloads"}));
    const json::value* ids = br.Find("ids");
    const json::value* vectors = br.Find("vectors");
    if (ids == nullptr) {
      return DeserializeError("batch", "missing field `ids`");
    }
    if (vectors == nullptr) {
      return DeserializeError("batch", "missing field `vectors`");
    }
    std::vector<PointId> id_list;
    TESSERA_RETURN_IF_ERROR(ParsePointIds(*ids, "batch.ids", &id_list));
    const size_t n = id_list.size();
    op.points.resize(n);
    for (size_t i = 0; i < n; ++i) {
      op.points[i].id = id_list[i];
    }
    auto column = [&](const json::value& list, const std::string& name,
                      const std::string& path) -> Status {
      if (!list.is_array()) {
        return ExpectedType(path, list, "a sequence of vectors");
      }
      if (list.get_array().size() != n) {
        return Status::InvalidArgument("Wrong input: " + path + " has " +
                                       std::to_string(list.get_array().size()) + " vectors for " +
                                       std::to_string(n) + " ids");
      }
      for (size_t i = 0; i < n; ++i) {
        TESSERA_RETURN_IF_ERROR(ParseVector(list.get_array()[i],
                                            path + "[" + std::to_string(i) + "]",
                                            &op.points[i].vectors[name],
                                            (name.empty() ? path : "batch.vectors.?") + "[" +
                                                std::to_string(i) + "]"));
      }
      return Status::Ok();
    };
    if (vectors->is_array()) {
      TESSERA_RETURN_IF_ERROR(column(*vectors, "", "batch.vectors"));
    } else if (vectors->is_object()) {
      for (const auto& [name, list] : vectors->get_object()) {
        TESSERA_RETURN_IF_ERROR(
            column(list, std::string(name), "batch.vectors." + std::string(name)));
      }
    } else {
      return ExpectedType("batch.vectors", *vectors, "a sequence or a map of sequences");
    }
    if (const json::value* payloads = br.Find("payloads")) {
      if (!payloads->is_array()) {
        return ExpectedType("batch.payloads", *payloads, "a sequence");
      }
      if (payloads->get_array().size() != n) {
        return Status::InvalidArgument("Wrong input: batch.payloads has " +
                                       std::to_string(payloads->get_array().size()) +
                                       " payloads for " + std::to_string(n) + " ids");
      }
      for (size_t i = 0; i < n; ++i) {
        TESSERA_RETURN_IF_ERROR(ParsePayload(&payloads->get_array()[i],
                                             "batch.payloads[" + std::to_string(i) + "]",
                                             &op.points[i].payload));
      }
    }
  } else {
    return DeserializeError("", "expected `points` or `batch`");
  }
  return op;
}

json::value FloatToJson(float f) {
  // Strict JSON out: nothing stored or scored is non-finite (inputs are checked, scores
  // saturate in index::ScoreFromDistance); should one ever be, it is written as the nearest
  // float rather than a token no JSON parser reads.
  if (!std::isfinite(f)) {
    f = std::isnan(f) ? 0.0f
                      : std::copysign(std::numeric_limits<float>::max(), f);
  }
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf) - 1, f);
  *end = '\0';
  (void)ec;
  return json::value(std::strtod(buf, nullptr));
}

json::value PointIdToJson(const PointId& id) {
  if (id.is_uuid()) {
    return json::value(id.ToString());
  }
  return json::value(id.num());
}

namespace {

// Qdrant's payload selectors (JsonPath::value_filter): the payload's tree walked from the top,
// each value known by its path (an array's elements as `[]`), kept when `keep` accepts that
// path; what is kept is walked into in turn.
using PathFilter = std::function<bool(const engine::JsonPath&)>;

json::value FilterValue(const json::value& v, engine::JsonPath& path, const PathFilter& keep) {
  if (const json::array* a = v.if_array()) {
    json::array out;
    path.push_back({engine::JsonPathItem::Kind::kAll, {}, 0});
    for (const json::value& e : *a) {
      if (keep(path)) {
        out.push_back(FilterValue(e, path, keep));
      }
    }
    path.pop_back();
    return out;
  }
  if (const json::object* o = v.if_object()) {
    json::object out;
    for (const auto& [key, child] : *o) {
      path.push_back({engine::JsonPathItem::Kind::kKey, std::string(key), 0});
      if (keep(path)) {
        out[key] = FilterValue(child, path, keep);
      }
      path.pop_back();
    }
    return out;
  }
  return v;
}

json::object FilterPayload(const json::object& payload, const std::vector<std::string>& keys,
                           bool include) {
  std::vector<engine::JsonPath> patterns;
  for (const std::string& key : keys) {
    if (std::optional<engine::JsonPath> p = engine::ParseJsonPath(key)) {  // checked when parsed
      patterns.push_back(std::move(*p));
    }
  }
  // include: the path and a pattern agree as far as both go (one is a prefix of the other);
  // exclude: no pattern is a prefix of the path.
  auto agree = [](const engine::JsonPath& a, const engine::JsonPath& b, size_t n) {
    return std::equal(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(n), b.begin());
  };
  const PathFilter keep = [&](const engine::JsonPath& path) {
    if (include) {
      return std::any_of(patterns.begin(), patterns.end(), [&](const engine::JsonPath& p) {
        return agree(path, p, std::min(path.size(), p.size()));
      });
    }
    return std::none_of(patterns.begin(), patterns.end(), [&](const engine::JsonPath& p) {
      return path.size() >= p.size() && agree(path, p, p.size());
    });
  };
  engine::JsonPath path;
  json::object out;
  for (const auto& [key, value] : payload) {
    path.assign(1, {engine::JsonPathItem::Kind::kKey, std::string(key), 0});
    if (keep(path)) {
      out[key] = FilterValue(value, path, keep);
    }
  }
  return out;
}

json::array FloatsToJson(const float* values, size_t n) {
  json::array a;
  a.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    a.push_back(FloatToJson(values[i]));
  }
  return a;
}

json::value VectorToJson(const engine::VectorInput& vector) {
  if (const auto* dense = engine::AsDense(vector)) {
    return FloatsToJson(dense->data(), dense->size());
  }
  if (const auto* sparse = std::get_if<engine::SparseVector>(&vector)) {
    json::array indices;
    for (uint32_t i : sparse->indices) {
      indices.push_back(i);
    }
    return json::object{{"indices", std::move(indices)},
                        {"values", FloatsToJson(sparse->values.data(), sparse->values.size())}};
  }
  const auto& multi = std::get<engine::MultiDenseVector>(vector);
  json::array rows;
  for (size_t r = 0; r < multi.rows(); ++r) {
    rows.push_back(FloatsToJson(multi.values.data() + r * multi.dim, multi.dim));
  }
  return rows;
}

void AddPayloadAndVectors(const engine::PointRecord& r, const PayloadSelector& payload,
                          const VectorSelector& vectors, bool single_unnamed, json::object& o) {
  switch (payload.mode) {
    case PayloadSelector::Mode::kNone:
      break;
    case PayloadSelector::Mode::kAll:
      o["payload"] = r.payload;
      break;
    case PayloadSelector::Mode::kInclude:
      o["payload"] = FilterPayload(r.payload, payload.keys, /*include=*/true);
      break;
    case PayloadSelector::Mode::kExclude:
      o["payload"] = FilterPayload(r.payload, payload.keys, /*include=*/false);
      break;
  }
  if (vectors.any()) {
    if (single_unnamed) {
      auto it = r.vectors.find("");
      if (it != r.vectors.end()) {
        o["vector"] = VectorToJson(it->second);
      }
    } else {
      json::object named;
      for (const auto& [name, values] : r.vectors) {
        if (vectors.all ||
            std::find(vectors.names.begin(), vectors.names.end(), name) != vectors.names.end()) {
          named[name] = VectorToJson(values);
        }
      }
      // As Qdrant's VectorStructInternal: a point whose only vector is the default ("") dense
      // one reads back as a plain array, even in a collection of named vectors.
      if (named.size() == 1 && named.contains("") && engine::AsDense(r.vectors.find("")->second)) {
        o["vector"] = named.at("");
      } else {
        o["vector"] = std::move(named);
      }
    }
  }
}

// A record's order_value (from an order_by), an integer when it is one.
void AddOrderValue(const engine::PointRecord& r, json::object& o) {
  if (r.order_value) {
    const double v = *r.order_value;
    if (v == std::floor(v) && std::fabs(v) < 9e15) {
      o["order_value"] = static_cast<int64_t>(v);
    } else {
      o["order_value"] = v;
    }
  }
}

}  // namespace

json::object RecordToJson(const engine::PointRecord& r, const PayloadSelector& payload,
                          const VectorSelector& vectors, bool single_unnamed) {
  json::object o;
  o["id"] = PointIdToJson(r.id);
  AddPayloadAndVectors(r, payload, vectors, single_unnamed, o);
  AddOrderValue(r, o);
  return o;
}

json::object ScoredPointToJson(const engine::ScoredPoint& p, const PayloadSelector& payload,
                               const VectorSelector& vectors, bool single_unnamed) {
  json::object o;
  o["id"] = PointIdToJson(p.record.id);
  o["version"] = p.record.version;
  o["score"] = FloatToJson(p.score);
  AddPayloadAndVectors(p.record, payload, vectors, single_unnamed, o);
  AddOrderValue(p.record, o);
  return o;
}

}  // namespace tessera::api

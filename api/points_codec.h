#pragma once

// JSON <-> engine types for the points API: point ids, vectors, PointStruct lists and the
// columnar batch, with_payload / with_vector selectors, and Record / ScoredPoint output.
// Errors are kInvalidArgument (400) naming the field.

#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/status.h"
#include "engine/collection.h"
#include "engine/operations.h"

namespace tessera::api {

// with_payload: true / false / ["a", "b.c"] / {"include": [...]} / {"exclude": [...]}.
struct PayloadSelector {
  enum class Mode { kNone, kAll, kInclude, kExclude } mode = Mode::kNone;
  std::vector<std::string> keys;
  bool any() const { return mode != Mode::kNone; }
};
// with_vector: true / false / ["name", ...].
struct VectorSelector {
  bool all = false;
  std::vector<std::string> names;
  bool any() const { return all || !names.empty(); }
};

Status ParseWithPayload(const boost::json::value* v, bool default_all, PayloadSelector* out);
Status ParseWithVector(const boost::json::value* v, bool default_all, VectorSelector* out);

Result<engine::PointId> ParsePointId(const boost::json::value& v, std::string_view path);
// A point id from a URL path segment: digits or a UUID.
Result<engine::PointId> ParsePointIdText(std::string_view text);
Status ParsePointIds(const boost::json::value& v, std::string_view path,
                     std::vector<engine::PointId>* out);
// A dense vector: an array of finite numbers that fit a float.
Status ParseDenseVector(const boost::json::value& v, std::string_view path,
                        std::vector<float>* out);
// One vector of any kind: an array of numbers (dense), {indices, values} (sparse), or an array
// of arrays (multivector).
// `vpath`: the path validation errors name, if not `path` (a map key there reads `?`).
Status ParseVector(const boost::json::value& v, std::string_view path, engine::VectorInput* out,
                   std::string_view vpath = {});
// VectorStruct: a vector (the unnamed one) or {name: vector}.
Status ParseVectorStruct(const boost::json::value& v, std::string_view path,
                         engine::NamedVectors* out);
Status ParsePayload(const boost::json::value* v, std::string_view path, boost::json::object* out);

// PointInsertOperations: {"points": [...]} or {"batch": {ids, vectors, payloads}}.
Result<engine::UpsertOp> ParseUpsert(const boost::json::value& body);
// The same, decoded from the body's text without building a DOM (the upload path). Empty when
// the body is anything it does not decode exactly as ParseUpsert would (malformed, or wrong in
// any way): ParseJsonBody + ParseUpsert then decide, with their errors.
std::optional<engine::UpsertOp> ParseUpsertText(std::string_view body);

boost::json::value PointIdToJson(const engine::PointId& id);
boost::json::object RecordToJson(const engine::PointRecord& record, const PayloadSelector& payload,
                                 const VectorSelector& vectors, bool single_unnamed_vector);
boost::json::object ScoredPointToJson(const engine::ScoredPoint& point,
                                      const PayloadSelector& payload, const VectorSelector& vectors,
                                      bool single_unnamed_vector);
// A float as the JSON number that prints as its shortest decimal form (0.6f -> 0.6, not
// 0.6000000238418579), always with a decimal point or exponent.
boost::json::value FloatToJson(float f);

}  // namespace tessera::api

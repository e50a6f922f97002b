// The points API handlers of Api: upsert, retrieve, delete, and vector search.

#include <charconv>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/filter_codec.h"
#include "api/json_util.h"
#include "api/openapi_check.h"
#include "api/points_codec.h"
#include "api/routes.h"

namespace tessera::api {

namespace json = boost::json;
using engine::Collection;
using engine::PointId;

namespace {

// A read request's vector selector: `with_vector`, or `with_vectors` (Qdrant's serde alias);
// both at once is serde's duplicate-field error.
Status ParseWithVectorField(const FieldReader& r, VectorSelector* out) {
  const json::value* one = r.Find("with_vector");
  const json::value* alias = r.Find("with_vectors");
  if (one != nullptr && alias != nullptr) {
    return DeserializeError(r.PathOf("with_vectors"), "duplicate field `with_vector`");
  }
  return ParseWithVector(one != nullptr ? one : alias, false, out);
}

// Every name a vector selector asks for is a vector of the collection (Qdrant: 400).
Status CheckSelectedVectors(const VectorSelector& vectors, const engine::CollectionConfig& c) {
  for (const std::string& name : vectors.names) {
    if (!c.vectors.contains(name) && !c.sparse_vectors.contains(name)) {
      return Status::InvalidArgument("Wrong input: Not existing vector name error: " + name);
    }
  }
  return Status::Ok();
}

Status QueryError(std::string_view message) {
  return Status::InvalidArgument("Query deserialize error: " + std::string(message));
}

json::object UpdateResult(engine::SeqNo seq, std::string_view status) {
  return json::object{{"operation_id", seq}, {"status", status}};
}

// The collection a request names and its parsed JSON body.
struct Target {
  std::shared_ptr<Collection> collection;
  json::value body;
};
Result<Target> CollectionAndBody(const Request& r, engine::Catalog& c, bool empty_body_ok = false) {
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<Collection> collection,
                           c.GetCollection(r.Param("collection_name")));
  if (empty_body_ok && r.body.empty()) {
    return Target{std::move(collection), json::object()};
  }
  TESSERA_ASSIGN_OR_RETURN(json::value body, TakeJsonBody(r));
  return Target{std::move(collection), std::move(body)};
}

}  // namespace

Status Api::ParseWriteOptions(const Request& r, WriteOptions* out) {
  *out = WriteOptions{};
  if (const std::string* wait = r.Query("wait")) {
    if (*wait == "true") {
      out->wait = true;
    } else if (*wait == "false") {
      out->wait = false;
    } else {
      return QueryError("wait: provided string was not `true` or `false`");
    }
  }
  if (const std::string* ordering = r.Query("ordering")) {
    if (*ordering == "weak") {
      out->durability = engine::Durability::kWritten;
    } else if (*ordering == "medium" || *ordering == "strong") {
      out->durability = engine::Durability::kSynced;
    } else {
      return QueryError("ordering: unknown variant `" + *ordering +
                        "`, expected one of `weak`, `medium`, `strong`");
    }
  }
  if (const std::string* timeout = r.Query("timeout")) {
    uint64_t secs = 0;
    const auto [end, ec] =
        std::from_chars(timeout->data(), timeout->data() + timeout->size(), secs);
    if (ec != std::errc() || end != timeout->data() + timeout->size() || secs < 1 ||
        secs > 24 * 3600) {
      return QueryError("timeout: expected an integer number of seconds from 1 to 86400");
    }
    out->timeout = std::chrono::seconds(secs);
  }
  return Status::Ok();
}

asio::awaitable<Reply> Api::Write(const Request& r, std::shared_ptr<Collection> collection,
                                  engine::OperationList ops, const WriteOptions& options) {
  const Clock::time_point start = r.start;
  return RunBlocking([collection, ops = std::move(ops), options, start]() mutable {
    Result<engine::SeqNo> seq = collection->Submit(std::move(ops), options.durability);
    if (!seq.ok()) {
      return StatusReply(seq.status(), start);
    }
    if (!options.wait) {
      return JsonResult(UpdateResult(*seq, "acknowledged"), start);
    }
    const auto deadline =
        options.timeout ? Clock::now() + *options.timeout : Clock::time_point::max();
    const bool applied = collection->WaitApplied(*seq, deadline);
    if (applied) {
      if (Status outcome = collection->Outcome(*seq); !outcome.ok()) {
        return StatusReply(outcome, start);
      }
    }
    return JsonResult(UpdateResult(*seq, applied ? "completed" : "wait_timeout"), start);
  });
}

namespace {

// PointsSelector: {"points": [ids]} or {"filter": {...}}. A filter is resolved by the engine
// when the operation is applied, in log order (so a batch's later operations see its earlier
// ones), never here. Both are decoded when both are given, so a malformed filter is refused
// even beside `points`; then `points` decides, as in Qdrant. `shard_key` (custom sharding) is
// refused unless null.
Status ParseSelector(const FieldReader& r, std::vector<PointId>* ids,
                     std::shared_ptr<const engine::Filter>* filter) {
  TESSERA_RETURN_IF_ERROR(r.Unsupported("shard_key", "custom sharding (`shard_key`)"));
  const json::value* points = r.Find("points");
  const json::value* f = r.Find("filter");
  if (points == nullptr && f == nullptr) {
    return DeserializeError(r.PathOf(""), "Either list of point ids or filter must be provided");
  }
  std::shared_ptr<const engine::Filter> parsed;
  if (f != nullptr) {
    TESSERA_ASSIGN_OR_RETURN(parsed, ParseFilter(*f, r.PathOf("filter")));
  }
  if (points != nullptr) {
    return ParsePointIds(*points, r.PathOf("points"), ids);
  }
  *filter = std::move(parsed);
  return Status::Ok();
}

Result<json::object> RequireObject(const FieldReader& r, std::string_view key) {
  const json::value* v = r.Find(key);
  if (v == nullptr) {
    return DeserializeError(r.PathOf(""), "missing field `" + std::string(key) + "`");
  }
  if (!v->is_object()) {
    return DeserializeError(r.PathOf(key),
                            "invalid type: " + std::string(JsonTypeName(*v)) + ", expected a map");
  }
  return v->get_object();
}

// A list of strings; with `key_paths`, each must be a payload key path.
Status ParseNames(const json::value* v, std::string_view path, std::vector<std::string>* out,
                  bool key_paths) {
  if (v == nullptr || !v->is_array()) {
    return DeserializeError(path, "expected a list of strings");
  }
  for (const json::value& item : v->get_array()) {
    if (!item.is_string()) {
      return DeserializeError(path, "expected a list of strings");
    }
    if (key_paths) {
      TESSERA_RETURN_IF_ERROR(CheckKeyPath(path, item.get_string()));
    }
    out->emplace_back(item.get_string());
  }
  return Status::Ok();
}

// One write operation in the shapes of the points API, by its batch name.
Result<engine::Operation> ParseOperation(std::string_view kind, const json::value& body,
                                         const std::string& path) {
  if (kind == "upsert") {
    TESSERA_ASSIGN_OR_RETURN(engine::UpsertOp op, ParseUpsert(body));
    return engine::Operation(std::move(op));
  }
  FieldReader r(body, path);
  TESSERA_RETURN_IF_ERROR(r.status());
  // Every write refuses fields it does not know, stricter than Qdrant: a misspelt field must
  // never widen what a write touches.
  if (kind == "delete") {
    TESSERA_RETURN_IF_ERROR(r.OnlyKnown({"points", "filter", "shard_key"}));
    engine::DeletePointsOp op;
    TESSERA_RETURN_IF_ERROR(ParseSelector(r, &op.ids, &op.filter));
    return engine::Operation(std::move(op));
  }
  if (kind == "set_payload" || kind == "overwrite_payload") {
    TESSERA_RETURN_IF_ERROR(r.OnlyKnown({"payload", "points", "filter", "shard_key", "key"}));
    TESSERA_ASSIGN_OR_RETURN(json::object payload, RequireObject(r, "payload"));
    std::vector<PointId> ids;
    std::shared_ptr<const engine::Filter> filter;
    TESSERA_RETURN_IF_ERROR(ParseSelector(r, &ids, &filter));
    std::optional<std::string> key;
    TESSERA_RETURN_IF_ERROR(r.Get("key", &key));
    if (key) {
      TESSERA_RETURN_IF_ERROR(CheckKeyPath(r.PathOf("key"), *key));
    }
    if (kind == "overwrite_payload") {
      return engine::Operation(engine::OverwritePayloadOp{std::move(ids), std::move(payload),
                                                          key.value_or(""), std::move(filter)});
    }
    return engine::Operation(engine::SetPayloadOp{std::move(ids), std::move(payload),
                                                  key.value_or(""), std::move(filter)});
  }
  if (kind == "delete_payload") {
    TESSERA_RETURN_IF_ERROR(r.OnlyKnown({"keys", "points", "filter", "shard_key"}));
    engine::DeletePayloadOp op;
    TESSERA_RETURN_IF_ERROR(ParseNames(r.Find("keys"), r.PathOf("keys"), &op.keys, true));
    TESSERA_RETURN_IF_ERROR(ParseSelector(r, &op.ids, &op.filter));
    return engine::Operation(std::move(op));
  }
  if (kind == "clear_payload") {
    TESSERA_RETURN_IF_ERROR(r.OnlyKnown({"points", "filter", "shard_key"}));
    engine::ClearPayloadOp op;
    TESSERA_RETURN_IF_ERROR(ParseSelector(r, &op.ids, &op.filter));
    return engine::Operation(std::move(op));
  }
  if (kind == "update_vectors") {
    TESSERA_RETURN_IF_ERROR(r.OnlyKnown({"points", "shard_key", "update_filter"}));
    TESSERA_RETURN_IF_ERROR(r.Unsupported("shard_key", "custom sharding (`shard_key`)"));
    TESSERA_RETURN_IF_ERROR(r.Unsupported("update_filter", "a conditional update (`update_filter`)"));
    const json::value* points = r.Find("points");
    if (points == nullptr || !points->is_array()) {
      return DeserializeError(r.PathOf("points"), "expected a list of {id, vector}");
    }
    engine::UpdateVectorsOp op;
    size_t i = 0;
    for (const json::value& p : points->get_array()) {
      const std::string ppath = r.PathOf("points") + "[" + std::to_string(i++) + "]";
      FieldReader pr(p, ppath);
      TESSERA_RETURN_IF_ERROR(pr.OnlyKnown({"id", "vector"}));
      const json::value* id = pr.Find("id");
      const json::value* vector = pr.Find("vector");
      if (id == nullptr || vector == nullptr) {
        return DeserializeError(ppath, "expected `id` and `vector`");
      }
      engine::PointVectors pv;
      TESSERA_ASSIGN_OR_RETURN(pv.id, ParsePointId(*id, pr.PathOf("id")));
      TESSERA_RETURN_IF_ERROR(ParseVectorStruct(*vector, pr.PathOf("vector"), &pv.vectors));
      if (pv.vectors.empty()) {  // Qdrant's PointVectors validation
        return Status::ValidationFailed(pr.PathOf("vector") +
                                        ": must specify vectors to update for point");
      }
      op.points.push_back(std::move(pv));
    }
    return engine::Operation(std::move(op));
  }
  if (kind == "delete_vectors") {
    TESSERA_RETURN_IF_ERROR(r.OnlyKnown({"points", "filter", "vector", "shard_key"}));
    engine::DeleteVectorsOp op;
    TESSERA_RETURN_IF_ERROR(ParseNames(r.Find("vector"), r.PathOf("vector"), &op.names, false));
    TESSERA_RETURN_IF_ERROR(ParseSelector(r, &op.ids, &op.filter));
    return engine::Operation(std::move(op));
  }
  return DeserializeError(path, "unknown variant `" + std::string(kind) +
                                    "`, expected one of `upsert`, `delete`, `set_payload`, "
                                    "`overwrite_payload`, `delete_payload`, `clear_payload`, "
                                    "`update_vectors`, `delete_vectors`");
}

// One write request's operation. An upsert is decoded straight from the body's text when it
// can be (the upload path); anything that decoder declines goes through the JSON tree.
Result<engine::Operation> ParseWriteBody(std::string_view kind, const Request& r) {
  if (kind == "upsert") {
    if (std::optional<engine::UpsertOp> upsert = ParseUpsertText(r.body)) {
      return engine::Operation(std::move(*upsert));
    }
  }
  TESSERA_ASSIGN_OR_RETURN(json::value parsed, TakeJsonBody(r));
  if (kind == "upsert") {  // Dispatch leaves the upsert's spec check to this path
    TESSERA_RETURN_IF_ERROR(
        CheckSpecBody(http::verb::put, "/collections/{collection_name}/points", parsed));
  }
  return ParseOperation(kind, parsed, "");
}

// An order_by: a key, or {key, direction, start_from} (a number or an RFC 3339 datetime).
Result<engine::OrderBy> ParseOrderBy(const json::value& order_by, const std::string& path) {
  engine::OrderBy order;
  if (order_by.is_string()) {
    order.key = std::string(order_by.get_string());
    TESSERA_RETURN_IF_ERROR(CheckKeyPath(path, order.key));
    return order;
  }
  FieldReader orr(order_by, path);
  TESSERA_RETURN_IF_ERROR(orr.status());
  TESSERA_RETURN_IF_ERROR(orr.OnlyKnown({"key", "direction", "start_from"}));
  TESSERA_RETURN_IF_ERROR(orr.Require("key", &order.key));
  TESSERA_RETURN_IF_ERROR(CheckKeyPath(path + ".key", order.key));
  std::optional<std::string> direction;
  TESSERA_RETURN_IF_ERROR(orr.Get("direction", &direction));
  if (direction && *direction != "asc" && *direction != "desc") {
    return DeserializeError(path + ".direction",
                            "unknown variant `" + *direction + "`, expected `asc` or `desc`");
  }
  std::optional<double> start_from;
  if (const json::value* from = orr.Find("start_from"); from != nullptr && from->is_string()) {
    auto micros = engine::ParseDatetimeMicros(from->get_string());
    if (!micros) {
      return DeserializeError(path + ".start_from", "expected a number or a datetime");
    }
    start_from = static_cast<double>(*micros);
  } else {
    TESSERA_RETURN_IF_ERROR(orr.Get("start_from", &start_from));
  }
  order.descending = direction.value_or("asc") == "desc";
  order.start_from = start_from;
  return order;
}

}  // namespace

asio::awaitable<Reply> Api::WriteOne(Request& r, engine::Catalog& c, std::string_view kind) {
  WriteOptions options;
  if (Status s = ParseWriteOptions(r, &options); !s.ok()) {
    co_return StatusReply(s, r.start);
  }
  Result<std::shared_ptr<Collection>> collection = c.GetCollection(r.Param("collection_name"));
  if (!collection.ok()) {
    co_return StatusReply(collection.status(), r.start);
  }
  Result<engine::Operation> op = ParseWriteBody(kind, r);
  if (!op.ok()) {
    co_return StatusReply(op.status(), r.start);
  }
  engine::OperationList ops;
  ops.push_back(std::move(op).value());
  co_return co_await Write(r, std::move(collection).value(), std::move(ops), options);
}

asio::awaitable<Reply> Api::BatchUpdate(Request& r, engine::Catalog& c) {
  WriteOptions options;
  if (Status s = ParseWriteOptions(r, &options); !s.ok()) {
    co_return StatusReply(s, r.start);
  }
  Result<Target> target = CollectionAndBody(r, c);
  if (!target.ok()) {
    co_return StatusReply(target.status(), r.start);
  }
  std::shared_ptr<Collection> collection = std::move(target->collection);
  const json::value* body = &target->body;
  FieldReader reader(*body, "");
  const json::value* operations = reader.Find("operations");
  Status s = reader.OnlyKnown({"operations"});
  if (s.ok() && (operations == nullptr || !operations->is_array())) {
    s = DeserializeError("operations", "expected a list of operations");
  }
  engine::OperationList ops;
  for (size_t i = 0; s.ok() && i < operations->get_array().size(); ++i) {
    const json::value& entry = operations->get_array()[i];
    const std::string path = "operations[" + std::to_string(i) + "]";
    if (!entry.is_object() || entry.get_object().size() != 1) {
      s = DeserializeError(path, "expected an object with exactly one operation");
      break;
    }
    const auto& [kind, args] = *entry.get_object().begin();
    Result<engine::Operation> op = ParseOperation(kind, args, path + "." + std::string(kind));
    if (!op.ok()) {
      s = op.status();
      break;
    }
    ops.push_back(std::move(op).value());
  }
  if (s.ok() && ops.empty()) {
    s = Status::ValidationFailed("operations: must contain at least one operation");
  }
  if (!s.ok()) {
    co_return StatusReply(s, r.start);
  }
  const size_t n = ops.size();
  Reply reply = co_await Write(r, std::move(collection), std::move(ops), options);
  if (reply.status != http::status::ok) {
    co_return reply;
  }
  // One record: every operation shares its operation_id and status.
  json::value parsed = json::parse(reply.body);
  json::array results;
  for (size_t i = 0; i < n; ++i) {
    results.push_back(parsed.at("result"));
  }
  parsed.as_object()["result"] = std::move(results);
  reply.body = json::serialize(parsed);
  co_return reply;
}

asio::awaitable<Reply> Api::ScrollPoints(Request& r, engine::Catalog& c) {
  Result<Target> target = CollectionAndBody(r, c, /*empty_body_ok=*/true);
  if (!target.ok()) {
    co_return StatusReply(target.status(), r.start);
  }
  std::shared_ptr<Collection> collection = std::move(target->collection);
  const json::value* body = &target->body;
  FieldReader reader(*body, "");
  Status s = reader.status();
  std::optional<uint64_t> limit;
  std::optional<PointId> offset;
  std::shared_ptr<const engine::Filter> filter;
  PayloadSelector payload;
  VectorSelector vectors;
  if (s.ok()) {
    s = reader.Get("limit", &limit);
  }
  if (s.ok() && limit && (*limit == 0 || *limit > 1000000)) {
    s = Status::ValidationFailed("limit: value " + std::to_string(*limit) +
                                 " invalid, must be from 1 to 1000000");
  }
  if (s.ok()) {
    if (const json::value* o = reader.Find("offset")) {
      Result<PointId> id = ParsePointId(*o, "offset");
      s = id.status();
      if (id.ok()) {
        offset = *id;
      }
    }
  }
  if (s.ok()) {
    if (const json::value* f = reader.Find("filter")) {
      Result<std::shared_ptr<const engine::Filter>> parsed = ParseFilter(*f, "filter");
      s = parsed.status();
      if (parsed.ok()) {
        filter = *parsed;
      }
    }
  }
  if (s.ok()) {
    s = ParseWithPayload(reader.Find("with_payload"), true, &payload);
  }
  if (s.ok()) {
    s = ParseWithVectorField(reader, &vectors);
  }
  if (s.ok()) {
    s = CheckSelectedVectors(vectors, *collection->config_ptr());
  }
  std::optional<engine::OrderBy> order;
  if (s.ok()) {
    if (const json::value* order_by = reader.Find("order_by")) {
      Result<engine::OrderBy> parsed = ParseOrderBy(*order_by, "order_by");
      if (parsed.ok()) {
        order = std::move(parsed).value();
      } else {
        s = parsed.status();
      }
    }
  }
  if (!s.ok()) {
    co_return StatusReply(s, r.start);
  }
  if (order) {
    if (offset) {
      co_return StatusReply(
          Status::InvalidArgument("Bad request: Cannot use an `offset` when using `order_by`"),
          r.start);
    }
    auto ordered = collection->ScrollOrdered(*order, limit.value_or(10), filter.get(),
                                             payload.any(), vectors.any());
    if (!ordered.ok()) {
      co_return StatusReply(ordered.status(), r.start);
    }
    const bool single_vector = collection->config_ptr()->single_unnamed_vector;
    json::array points;
    for (const engine::PointRecord& rec : *ordered) {
      points.push_back(RecordToJson(rec, payload, vectors, single_vector));
    }
    co_return JsonResult(json::object{{"points", std::move(points)}, {"next_page_offset", nullptr}},
                         r.start);
  }
  std::optional<PointId> next;
  const auto records = collection->Scroll(offset, limit.value_or(10), filter.get(), payload.any(),
                                          vectors.any(), &next);
  const bool single = collection->config_ptr()->single_unnamed_vector;
  json::array points;
  for (const engine::PointRecord& rec : records) {
    points.push_back(RecordToJson(rec, payload, vectors, single));
  }
  json::object result{{"points", std::move(points)},
                      {"next_page_offset", next ? PointIdToJson(*next) : json::value(nullptr)}};
  co_return JsonResult(result, r.start);
}

// POST /collections/{name}/facet {key, limit, filter, exact}: counts per value of an indexed
// field (Scans::Facet). Counts are always exact: `exact: false` gets the exact figures too.
asio::awaitable<Reply> Api::Facet(Request& r, engine::Catalog& c) {
  Result<Target> target = CollectionAndBody(r, c, /*empty_body_ok=*/false);
  if (!target.ok()) {
    co_return StatusReply(target.status(), r.start);
  }
  auto parse = [&](std::string* key, std::optional<uint64_t>* limit,
                   std::shared_ptr<const engine::Filter>* filter) -> Status {
    FieldReader reader(target->body, "");
    TESSERA_RETURN_IF_ERROR(reader.status());
    TESSERA_RETURN_IF_ERROR(reader.Unsupported("shard_key", "custom sharding (`shard_key`)"));
    TESSERA_RETURN_IF_ERROR(reader.Require("key", key));
    TESSERA_RETURN_IF_ERROR(reader.Get("limit", limit));
    std::optional<bool> exact;
    TESSERA_RETURN_IF_ERROR(reader.Get("exact", &exact));
    if (const json::value* f = reader.Find("filter")) {
      TESSERA_ASSIGN_OR_RETURN(*filter, ParseFilter(*f, "filter"));
    }
    if (limit->value_or(10) == 0) {
      return Status::ValidationFailed("limit: value 0 invalid, must be 1 or larger");
    }
    return Status::Ok();
  };
  std::string key;
  std::optional<uint64_t> limit;
  std::shared_ptr<const engine::Filter> filter;
  if (Status s = parse(&key, &limit, &filter); !s.ok()) {
    co_return StatusReply(s, r.start);
  }
  Result<std::vector<engine::FacetHit>> hits =
      target->collection->Facet(key, static_cast<size_t>(limit.value_or(10)), filter.get());
  if (!hits.ok()) {
    co_return StatusReply(hits.status(), r.start);
  }
  json::array out;
  for (const engine::FacetHit& hit : *hits) {
    out.push_back(json::object{{"value", hit.value}, {"count", hit.count}});
  }
  co_return JsonResult(json::object{{"hits", std::move(out)}}, r.start);
}

// POST /collections/{name}/points/search/matrix/{pairs|offsets} {sample, limit, filter, using}:
// Qdrant's distance matrix (engine RunSearchMatrix), as pairs or as offsets into the sample.
asio::awaitable<Reply> Api::SearchMatrix(Request& r, engine::Catalog& c, bool offsets) {
  Result<Target> target = CollectionAndBody(r, c, /*empty_body_ok=*/true);
  if (!target.ok()) {
    co_return StatusReply(target.status(), r.start);
  }
  auto parse = [&](engine::SearchMatrixRequest* request) -> Status {
    FieldReader reader(target->body, "");
    TESSERA_RETURN_IF_ERROR(reader.status());
    TESSERA_RETURN_IF_ERROR(reader.OnlyKnown({"shard_key", "filter", "sample", "limit", "using"}));
    TESSERA_RETURN_IF_ERROR(reader.Unsupported("shard_key", "custom sharding (`shard_key`)"));
    std::optional<uint64_t> sample, limit;
    std::optional<std::string> using_name;
    TESSERA_RETURN_IF_ERROR(reader.Get("sample", &sample));
    TESSERA_RETURN_IF_ERROR(reader.Get("limit", &limit));
    TESSERA_RETURN_IF_ERROR(reader.Get("using", &using_name));
    if (const json::value* f = reader.Find("filter"); f != nullptr && !f->is_null()) {
      TESSERA_ASSIGN_OR_RETURN(request->filter, ParseFilter(*f, "filter"));
    }
    // The spec check took the bounds (sample >= 2, limit >= 1).
    request->sample = static_cast<size_t>(sample.value_or(10));
    request->limit = static_cast<size_t>(limit.value_or(3));
    request->using_vector = using_name.value_or("");
    return Status::Ok();
  };
  engine::SearchMatrixRequest request;
  if (Status s = parse(&request); !s.ok()) {
    co_return StatusReply(s, r.start);
  }
  Result<engine::SearchMatrix> matrix = target->collection->SearchMatrixOf(request);
  if (!matrix.ok()) {
    co_return StatusReply(matrix.status(), r.start);
  }
  if (offsets) {
    std::unordered_map<PointId, uint64_t, engine::PointIdHash> offset_of;
    json::array ids, rows, cols, scores;
    for (size_t i = 0; i < matrix->ids.size(); ++i) {
      offset_of.emplace(matrix->ids[i], i);
      ids.push_back(PointIdToJson(matrix->ids[i]));
    }
    for (size_t row = 0; row < matrix->nearest.size(); ++row) {
      for (const engine::ScoredPoint& p : matrix->nearest[row]) {
        rows.push_back(row);
        cols.push_back(offset_of.at(p.record.id));
        scores.push_back(FloatToJson(p.score));
      }
    }
    co_return JsonResult(json::object{{"offsets_row", std::move(rows)},
                                      {"offsets_col", std::move(cols)},
                                      {"scores", std::move(scores)},
                                      {"ids", std::move(ids)}},
                         r.start);
  }
  json::array pairs;
  for (size_t row = 0; row < matrix->nearest.size(); ++row) {
    for (const engine::ScoredPoint& p : matrix->nearest[row]) {
      pairs.push_back(json::object{{"a", PointIdToJson(matrix->ids[row])},
                                   {"b", PointIdToJson(p.record.id)},
                                   {"score", FloatToJson(p.score)}});
    }
  }
  co_return JsonResult(json::object{{"pairs", std::move(pairs)}}, r.start);
}

asio::awaitable<Reply> Api::CountPoints(Request& r, engine::Catalog& c) {
  Result<Target> target = CollectionAndBody(r, c, /*empty_body_ok=*/true);
  if (!target.ok()) {
    co_return StatusReply(target.status(), r.start);
  }
  std::shared_ptr<Collection> collection = std::move(target->collection);
  const json::value* body = &target->body;
  FieldReader reader(*body, "");
  Status s = reader.status();
  std::shared_ptr<const engine::Filter> filter;
  std::optional<bool> exact;
  if (s.ok()) {
    s = reader.Get("exact", &exact);
  }
  if (s.ok()) {
    if (const json::value* f = reader.Find("filter")) {
      Result<std::shared_ptr<const engine::Filter>> parsed = ParseFilter(*f, "filter");
      s = parsed.status();
      if (parsed.ok()) {
        filter = *parsed;
      }
    }
  }
  if (!s.ok()) {
    co_return StatusReply(s, r.start);
  }
  // `exact: false` (Qdrant's default is true): an estimate where the exact count costs a scan.
  co_return JsonResult(
      json::object{{"count", collection->Count(filter.get(), exact.value_or(true))}}, r.start);
}

asio::awaitable<Reply> Api::RetrievePoints(Request& r, engine::Catalog& c) {
  Result<Target> target = CollectionAndBody(r, c);
  if (!target.ok()) {
    co_return StatusReply(target.status(), r.start);
  }
  std::shared_ptr<Collection> collection = std::move(target->collection);
  const json::value* body = &target->body;
  FieldReader reader(*body, "");
  if (!reader.status().ok()) {
    co_return StatusReply(reader.status(), r.start);
  }
  std::vector<PointId> ids;
  PayloadSelector payload;
  VectorSelector vectors;
  Status s = Status::Ok();
  if (const json::value* list = reader.Find("ids")) {
    s = ParsePointIds(*list, "ids", &ids);
  } else {
    s = DeserializeError("", "missing field `ids`");
  }
  if (s.ok()) {
    s = ParseWithPayload(reader.Find("with_payload"), true, &payload);
  }
  if (s.ok()) {
    s = ParseWithVectorField(reader, &vectors);
  }
  if (s.ok()) {
    s = CheckSelectedVectors(vectors, *collection->config_ptr());
  }
  if (!s.ok()) {
    co_return StatusReply(s, r.start);
  }
  const bool single = collection->config_ptr()->single_unnamed_vector;
  json::array out;
  for (const engine::PointRecord& rec : collection->Retrieve(ids, payload.any(), vectors.any())) {
    out.push_back(RecordToJson(rec, payload, vectors, single));
  }
  co_return JsonResult(out, r.start);
}

asio::awaitable<Reply> Api::GetPoint(Request& r, engine::Catalog& c) {
  Result<std::shared_ptr<Collection>> found = c.GetCollection(r.Param("collection_name"));
  if (!found.ok()) {
    co_return StatusReply(found.status(), r.start);
  }
  const std::shared_ptr<Collection>& collection = *found;
  Result<PointId> id = ParsePointIdText(r.Param("id"));
  if (!id.ok()) {
    co_return StatusReply(id.status(), r.start);
  }
  auto records = collection->Retrieve({*id}, true, true);
  if (records.empty()) {
    co_return StatusReply(
        Status::NotFound("Not found: No point with id " + id->ToString() + " found"), r.start);
  }
  PayloadSelector payload{PayloadSelector::Mode::kAll, {}};
  VectorSelector vectors{true, {}};
  co_return JsonResult(
      RecordToJson(records[0], payload, vectors, collection->config_ptr()->single_unnamed_vector),
      r.start);
}

namespace {

// What a search-like request asks for, parsed: the engine query, and what to show of each hit.
struct SearchInput {
  engine::Query query;
  PayloadSelector payload;
  VectorSelector vectors;
};

Status ParseSearchCommon(const FieldReader& r, SearchInput* in, uint64_t default_limit = 10) {
  engine::Query& q = in->query;
  std::optional<uint64_t> limit, offset, ef;
  std::optional<double> threshold;
  TESSERA_RETURN_IF_ERROR(r.Get("limit", &limit));
  TESSERA_RETURN_IF_ERROR(r.Get("offset", &offset));
  TESSERA_RETURN_IF_ERROR(r.Get("score_threshold", &threshold));
  q.limit = limit.value_or(default_limit);
  q.offset = offset.value_or(0);
  if (q.limit == 0) {
    return Status::ValidationFailed("limit: value 0 invalid, must be 1 or larger");
  }
  // Any u64 limit or offset is taken, as Qdrant takes it; the engine returns at most every
  // point there is.
  if (threshold) {
    q.score_threshold = static_cast<float>(*threshold);
  }
  // Fields of Qdrant's search requests this server does not implement: a 400 naming them,
  // never an answer that silently differs.
  TESSERA_RETURN_IF_ERROR(r.Unsupported("shard_key", "custom sharding (`shard_key`)"));
  if (const json::value* lookup = r.Find("lookup_from"); lookup != nullptr && !lookup->is_null()) {
    FieldReader lr(*lookup, r.PathOf("lookup_from"));
    TESSERA_RETURN_IF_ERROR(lr.status());
    TESSERA_RETURN_IF_ERROR(lr.OnlyKnown({"collection", "vector"}));
    engine::Query::LookupFrom from;
    TESSERA_RETURN_IF_ERROR(lr.Require("collection", &from.collection));
    TESSERA_RETURN_IF_ERROR(lr.Get("vector", &from.vector));
    q.lookup_from = std::move(from);
  }
  if (const json::value* params = r.Find("params")) {
    FieldReader pr(*params, r.PathOf("params"));
    TESSERA_RETURN_IF_ERROR(pr.status());
    // `quantization` is a no-op in Qdrant too for what a collection here can be (no quantized
    // vectors), so it is accepted (its shape is checked by the spec); `idf` "global" is the
    // default, a corpus filter is not supported yet.
    if (const json::value* acorn = pr.Find("acorn")) {
      // {enable, max_selectivity}: the two-hop walk where a filter's estimated share of a
      // segment is at most max_selectivity (0.4 by default, as Qdrant).
      FieldReader ar(*acorn, pr.PathOf("acorn"));
      TESSERA_RETURN_IF_ERROR(ar.status());
      std::optional<bool> enable;
      std::optional<double> max_selectivity;
      TESSERA_RETURN_IF_ERROR(ar.Get("enable", &enable));
      TESSERA_RETURN_IF_ERROR(ar.Get("max_selectivity", &max_selectivity));
      if (enable.value_or(false)) {
        q.acorn_max_selectivity = max_selectivity.value_or(0.4);
      }
    }
    if (const json::value* idf = pr.Find("idf"); idf != nullptr && idf->is_object()) {
      // {corpus: filter}: IDF statistics over the matching points ("global" is the default).
      FieldReader ir(*idf, pr.PathOf("idf"));
      if (const json::value* corpus = ir.Find("corpus")) {
        TESSERA_ASSIGN_OR_RETURN(q.idf_corpus, ParseFilter(*corpus, ir.PathOf("corpus")));
      }
    }
    std::optional<bool> indexed_only;
    TESSERA_RETURN_IF_ERROR(pr.Get("indexed_only", &indexed_only));
    if (indexed_only.value_or(false)) {
      return DeserializeError(pr.PathOf("indexed_only"),
                              "`indexed_only: true` is not supported by Tessera");
    }
    std::optional<bool> exact;
    TESSERA_RETURN_IF_ERROR(pr.Get("hnsw_ef", &ef));
    TESSERA_RETURN_IF_ERROR(pr.Get("exact", &exact));
    if (ef) {
      if (*ef > 100000) {
        return Status::ValidationFailed("params.hnsw_ef: must be at most 100000");
      }
      q.ef = static_cast<size_t>(*ef);
    }
    q.exact = exact.value_or(false);
  }
  if (const json::value* filter = r.Find("filter")) {
    TESSERA_ASSIGN_OR_RETURN(q.filter, ParseFilter(*filter, "filter"));
  }
  TESSERA_RETURN_IF_ERROR(ParseWithPayload(r.Find("with_payload"), false, &in->payload));
  TESSERA_RETURN_IF_ERROR(ParseWithVectorField(r, &in->vectors));
  q.with_payload = in->payload.any();
  q.with_vectors = in->vectors.any();
  return Status::Ok();
}

// Examples for recommend: point ids (their vectors are used and they are left out of the
// results) or vectors.
Status ParseExamples(const json::value* v, std::string_view path,
                     std::vector<engine::VectorExample>* out) {
  if (v == nullptr) {
    return Status::Ok();
  }
  if (!v->is_array()) {
    return DeserializeError(path, "expected a list of point ids or vectors");
  }
  for (const json::value& e : v->get_array()) {
    if (e.is_array()) {
      engine::DenseVector vec;
      TESSERA_RETURN_IF_ERROR(ParseDenseVector(e, path, &vec));
      out->push_back(std::move(vec));
    } else {
      TESSERA_ASSIGN_OR_RETURN(PointId id, ParsePointId(e, path));
      out->push_back(id);
    }
  }
  return Status::Ok();
}

// `legacy`: the 1.18 /points/recommend route, whose checks are Qdrant's recommendations.rs
// (400s) rather than the query API's validation (a 422 for no examples at all).
Result<engine::RecommendQuery> ParseRecommend(const json::value* positive,
                                              const json::value* negative,
                                              const json::value* strategy, bool legacy) {
  engine::RecommendQuery recommend;
  if (strategy != nullptr && strategy->is_string()) {  // the spec check took the enum
    if (strategy->get_string() == "best_score") {
      recommend.strategy = engine::RecommendStrategy::kBestScore;
    } else if (strategy->get_string() == "sum_scores") {
      recommend.strategy = engine::RecommendStrategy::kSumScores;
    }
  }
  TESSERA_RETURN_IF_ERROR(ParseExamples(positive, "positive", &recommend.positive));
  TESSERA_RETURN_IF_ERROR(ParseExamples(negative, "negative", &recommend.negative));
  if (legacy && recommend.positive.empty()) {
    if (recommend.strategy == engine::RecommendStrategy::kAverageVector) {
      return Status::InvalidArgument(
          "Bad request: At least one positive vector ID required with this strategy");
    }
    if (recommend.negative.empty()) {
      return Status::InvalidArgument(
          "Bad request: At least one positive or negative vector ID required with this strategy");
    }
  }
  if (recommend.positive.empty() && recommend.negative.empty()) {  // Qdrant's validation
    return Status::ValidationFailed(
        "positives, negatives: At least one positive or negative vector/id must be provided");
  }
  if (recommend.positive.empty() &&
      recommend.strategy == engine::RecommendStrategy::kAverageVector) {
    return Status::InvalidArgument("Wrong input: at least one positive example is required");
  }
  return recommend;
}

// A value Qdrant takes as one item or a list of them (MaybeOneOrMany): the items.
std::vector<const json::value*> OneOrMany(const json::value& v) {
  std::vector<const json::value*> out;
  if (const json::array* a = v.if_array()) {
    for (const json::value& e : *a) {
      out.push_back(&e);
    }
  } else {
    out.push_back(&v);
  }
  return out;
}

// One example (a point id or a dense vector), as ParseExamples reads each.
Result<engine::VectorExample> ParseExample(const json::value& v, std::string_view path) {
  const json::value list = json::array{v};
  std::vector<engine::VectorExample> out;
  TESSERA_RETURN_IF_ERROR(ParseExamples(&list, path, &out));
  return std::move(out.front());
}

// A context: one {positive, negative} pair or a list of them (null: none).
Status ParseContext(const json::value* v, const std::string& path,
                    std::vector<engine::ContextPair>* out) {
  if (v == nullptr || v->is_null()) {
    return Status::Ok();
  }
  const std::vector<const json::value*> pairs = OneOrMany(*v);
  for (size_t i = 0; i < pairs.size(); ++i) {
    const std::string at = v->is_array() ? path + "[" + std::to_string(i) + "]" : path;
    FieldReader pr(*pairs[i], at);
    TESSERA_RETURN_IF_ERROR(pr.status());
    TESSERA_RETURN_IF_ERROR(pr.OnlyKnown({"positive", "negative"}));
    const json::value* positive = pr.Find("positive");
    const json::value* negative = pr.Find("negative");
    if (positive == nullptr || negative == nullptr) {
      return DeserializeError(at, positive == nullptr ? "missing field `positive`"
                                                      : "missing field `negative`");
    }
    engine::ContextPair pair;
    TESSERA_ASSIGN_OR_RETURN(pair.positive, ParseExample(*positive, at + ".positive"));
    TESSERA_ASSIGN_OR_RETURN(pair.negative, ParseExample(*negative, at + ".negative"));
    out->push_back(std::move(pair));
  }
  return Status::Ok();
}

json::array HitsToJson(const std::vector<engine::ScoredPoint>& hits, const SearchInput& in,
                       bool single) {
  json::array out;
  for (const engine::ScoredPoint& p : hits) {
    out.push_back(ScoredPointToJson(p, in.payload, in.vectors, single));
  }
  return out;
}

// The universal query: a vector / {nearest} / point id / {recommend} / {fusion} over
// prefetches, decoded into the engine's query tree.
Status ParseQueryRequest(const json::value& body, const std::string& path, SearchInput* in,
                         int depth) {
  if (depth > 4) {  // as the engine refuses; checked here too, before recursing any deeper
    return Status::InvalidArgument("Wrong input: prefetch nested too deeply");
  }
  FieldReader reader(body, path);
  TESSERA_RETURN_IF_ERROR(reader.status());
  TESSERA_RETURN_IF_ERROR(ParseSearchCommon(reader, in));
  engine::Query& q = in->query;
  std::optional<std::string> using_name;
  TESSERA_RETURN_IF_ERROR(reader.Get("using", &using_name));
  q.using_vector = using_name.value_or("");

  if (const json::value* prefetch = reader.Find("prefetch")) {
    const std::vector<const json::value*> subs = OneOrMany(*prefetch);
    for (size_t i = 0; i < subs.size(); ++i) {
      SearchInput sub;
      TESSERA_RETURN_IF_ERROR(ParseQueryRequest(
          *subs[i], path + "prefetch[" + std::to_string(i) + "].", &sub, depth + 1));
      q.prefetch.push_back(std::move(sub.query));
    }
  }

  const json::value* query = reader.Find("query");
  if (query == nullptr || query->is_null()) {
    if (!q.prefetch.empty()) {
      return Status::InvalidArgument(
          "Bad request: A query is needed to merge the prefetches. Can't have prefetches "
          "without defining a query.");
    }
    if (q.score_threshold) {
      return Status::InvalidArgument(
          "Bad request: A query is needed to use the score_threshold. Can't have "
          "score_threshold without defining a query.");
    }
    q.query = engine::ScrollQuery{};  // the points in id order, as Qdrant lists them
    return Status::Ok();
  }
  if (query->is_object()) {
    // A query object is one kind: a key beside it is refused, never dropped.
    FieldReader qr(*query, path + "query");
    for (const char* kind : {"fusion", "rrf", "order_by", "sample", "discover",
                             "relevance_feedback", "context", "recommend"}) {
      if (query->get_object().contains(kind)) {
        TESSERA_RETURN_IF_ERROR(qr.OnlyKnown({kind}));
      }
    }
    if (query->get_object().contains("nearest")) {
      TESSERA_RETURN_IF_ERROR(qr.OnlyKnown({"nearest", "mmr"}));
    }
  }
  if (query->is_object() &&
      (query->get_object().contains("fusion") || query->get_object().contains("rrf"))) {
    // {fusion: "rrf" | "dbsf"} or {rrf: {k, weights}} (the spec check took the shapes).
    engine::FusionQuery fusion;
    if (const json::value* name = query->get_object().if_contains("fusion")) {
      fusion.fusion = name->is_string() && name->get_string() == "dbsf" ? engine::Fusion::kDbsf
                                                                         : engine::Fusion::kRrf;
    } else {
      FieldReader rr(query->get_object().at("rrf"), path + "query.rrf");
      TESSERA_RETURN_IF_ERROR(rr.status());
      std::optional<uint64_t> k;
      TESSERA_RETURN_IF_ERROR(rr.Get("k", &k));
      if (k) {
        fusion.k = static_cast<size_t>(*k);
      }
      if (const json::value* weights = rr.Find("weights");
          weights != nullptr && weights->is_array()) {
        for (const json::value& w : weights->get_array()) {
          fusion.weights.push_back(static_cast<float>(w.to_number<double>()));
        }
      }
    }
    // Refused by the engine once the prefetches' examples are resolved (a missing point is
    // a 404 first, as in Qdrant).
    fusion.with_using = using_name.has_value();
    q.query = std::move(fusion);
    return Status::Ok();
  }
  const json::value* nearest = query;
  std::optional<engine::MmrParams> mmr;
  if (query->is_object() && query->get_object().contains("nearest")) {
    nearest = &query->get_object().at("nearest");
    if (const json::value* m = query->get_object().if_contains("mmr"); m != nullptr && !m->is_null()) {
      // {diversity, candidates_limit} (the spec check took the bounds: [0, 1], <= 16384).
      FieldReader mr(*m, path + "query.mmr");
      TESSERA_RETURN_IF_ERROR(mr.status());
      TESSERA_RETURN_IF_ERROR(mr.OnlyKnown({"diversity", "candidates_limit"}));
      std::optional<double> diversity;
      std::optional<uint64_t> candidates;
      TESSERA_RETURN_IF_ERROR(mr.Get("diversity", &diversity));
      TESSERA_RETURN_IF_ERROR(mr.Get("candidates_limit", &candidates));
      mmr.emplace();
      if (diversity) {
        mmr->lambda = 1.0f - static_cast<float>(*diversity);
      }
      if (candidates) {
        mmr->candidates_limit = static_cast<size_t>(*candidates);
      }
    }
  }
  if (query->is_object() && query->get_object().contains("order_by")) {
    TESSERA_ASSIGN_OR_RETURN(engine::OrderBy order,
                             ParseOrderBy(query->get_object().at("order_by"),
                                          path + "query.order_by"));
    q.query = engine::OrderByQuery{std::move(order)};
    return Status::Ok();
  }
  if (query->is_object() && query->get_object().contains("sample")) {
    q.query = engine::SampleQuery{};  // "random", the only kind (the spec check took it)
    return Status::Ok();
  }
  if (query->is_object() && query->get_object().contains("discover")) {
    FieldReader dr(query->get_object().at("discover"), path + "query.discover");
    TESSERA_RETURN_IF_ERROR(dr.status());
    TESSERA_RETURN_IF_ERROR(dr.OnlyKnown({"target", "context"}));
    const json::value* target = dr.Find("target");
    if (target == nullptr) {
      return DeserializeError(path + "query.discover", "missing field `target`");
    }
    engine::DiscoverQuery discover;
    TESSERA_ASSIGN_OR_RETURN(discover.target, ParseExample(*target, path + "query.discover.target"));
    TESSERA_RETURN_IF_ERROR(
        ParseContext(dr.Find("context"), path + "query.discover.context", &discover.context));
    q.query = std::move(discover);
    return Status::Ok();
  }
  if (query->is_object() && query->get_object().contains("relevance_feedback")) {
    // {target, feedback: [{example, score}], strategy: {naive: {a, b, c}}} (the spec check
    // took the shapes and b >= 0).
    const std::string at = path + "query.relevance_feedback";
    FieldReader fr(query->get_object().at("relevance_feedback"), at);
    TESSERA_RETURN_IF_ERROR(fr.status());
    TESSERA_RETURN_IF_ERROR(fr.OnlyKnown({"target", "feedback", "strategy"}));
    const json::value* target = fr.Find("target");
    const json::value* list = fr.Find("feedback");
    const json::value* strategy = fr.Find("strategy");
    const json::value* naive_v = strategy != nullptr && strategy->is_object()
                                     ? strategy->get_object().if_contains("naive")
                                     : nullptr;
    if (target == nullptr || list == nullptr || !list->is_array() || naive_v == nullptr ||
        !naive_v->is_object()) {
      return DeserializeError(at, "expected `target`, a `feedback` list and a `naive` strategy");
    }
    if (list->get_array().empty()) {  // Qdrant's validation
      return Status::ValidationFailed(at + ": feedback elements must be non-empty");
    }
    engine::RelevanceFeedbackQuery feedback;
    TESSERA_ASSIGN_OR_RETURN(feedback.target, ParseExample(*target, at + ".target"));
    const json::array& items = list->get_array();
    for (size_t i = 0; i < items.size(); ++i) {
      const std::string item_at = at + ".feedback[" + std::to_string(i) + "]";
      FieldReader ir(items[i], item_at);
      TESSERA_RETURN_IF_ERROR(ir.status());
      TESSERA_RETURN_IF_ERROR(ir.OnlyKnown({"example", "score"}));
      const json::value* example = ir.Find("example");
      std::optional<double> score;
      TESSERA_RETURN_IF_ERROR(ir.Get("score", &score));
      if (example == nullptr || !score) {
        return DeserializeError(item_at, "expected `example` and `score`");
      }
      engine::FeedbackItem item;
      TESSERA_ASSIGN_OR_RETURN(item.example, ParseExample(*example, item_at + ".example"));
      item.score = static_cast<float>(*score);
      feedback.feedback.push_back(std::move(item));
    }
    TESSERA_RETURN_IF_ERROR(FieldReader(*strategy, at + ".strategy").OnlyKnown({"naive"}));
    FieldReader nr(*naive_v, at + ".strategy.naive");
    TESSERA_RETURN_IF_ERROR(nr.OnlyKnown({"a", "b", "c"}));
    std::optional<double> a, b, c;
    TESSERA_RETURN_IF_ERROR(nr.Get("a", &a));
    TESSERA_RETURN_IF_ERROR(nr.Get("b", &b));
    TESSERA_RETURN_IF_ERROR(nr.Get("c", &c));
    if (!a || !b || !c) {
      return DeserializeError(at + ".strategy.naive", "expected `a`, `b` and `c`");
    }
    feedback.a = static_cast<float>(*a);
    feedback.b = static_cast<float>(*b);
    feedback.c = static_cast<float>(*c);
    q.query = std::move(feedback);
    return Status::Ok();
  }
  if (query->is_object() && query->get_object().contains("context")) {
    engine::ContextQuery context;
    TESSERA_RETURN_IF_ERROR(
        ParseContext(&query->get_object().at("context"), path + "query.context", &context.pairs));
    q.query = std::move(context);
    return Status::Ok();
  }
  if (query->is_object() && query->get_object().contains("recommend")) {
    FieldReader rr(query->get_object().at("recommend"), path + "query.recommend");
    TESSERA_RETURN_IF_ERROR(rr.status());
    TESSERA_RETURN_IF_ERROR(rr.OnlyKnown({"positive", "negative", "strategy"}));
    TESSERA_ASSIGN_OR_RETURN(q.query,
                             ParseRecommend(rr.Find("positive"), rr.Find("negative"),
                                            rr.Find("strategy"), false));
  } else if (nearest->is_array() && !nearest->get_array().empty() &&
             nearest->get_array()[0].is_array()) {
    engine::VectorInput multi;
    TESSERA_RETURN_IF_ERROR(ParseVector(*nearest, nearest == query ? "query" : "query.nearest",
                                        &multi));
    q.query = engine::NearestQuery{std::get<engine::MultiDenseVector>(std::move(multi))};
  } else if (nearest->is_array()) {
    engine::DenseVector vector;
    TESSERA_RETURN_IF_ERROR(ParseDenseVector(*nearest, "query", &vector));
    q.query = engine::NearestQuery{std::move(vector)};
  } else if (nearest->is_object() && (nearest->get_object().contains("indices") ||
                                      nearest->get_object().contains("values"))) {
    engine::VectorInput sparse;
    TESSERA_RETURN_IF_ERROR(ParseVector(*nearest, nearest == query ? "query" : "query.nearest",
                                        &sparse));
    q.query = engine::NearestQuery{std::get<engine::SparseVector>(std::move(sparse))};
  } else if (nearest->is_object()) {
    return Status::InvalidArgument(
        "Wrong input: this query variant is not supported by Tessera "
        "(supported: a vector, nearest, a point id, recommend, discover, context, order_by, "
        "sample, fusion)");
  } else {
    TESSERA_ASSIGN_OR_RETURN(PointId id, ParsePointId(*nearest, "query"));
    q.query = engine::NearestQuery{id};
  }
  if (auto* n = std::get_if<engine::NearestQuery>(&q.query); n != nullptr && mmr) {
    n->mmr = mmr;
  }
  return Status::Ok();
}

// Replaces the point-id examples of every level with `lookup_from` by the vectors those points
// hold in that collection (Qdrant's errors for a missing collection, vector name or point).
Status ResolveLookups(const engine::Catalog& catalog, engine::Query* q) {
  for (engine::Query& sub : q->prefetch) {
    TESSERA_RETURN_IF_ERROR(ResolveLookups(catalog, &sub));
  }
  if (!q->lookup_from) {
    return Status::Ok();
  }
  const engine::Query::LookupFrom from = *std::exchange(q->lookup_from, std::nullopt);
  Result<std::shared_ptr<Collection>> other = catalog.GetCollection(from.collection);
  if (!other.ok()) {
    return other.status().code() == Code::kNotFound
               ? Status::NotFound("Not found: Collection " + from.collection + " not found")
               : other.status();
  }
  // The examples that are point ids, then their points (a missing one is a 404 before the
  // vector name is checked, as in Qdrant), then their vectors by name.
  std::vector<engine::VectorExample*> ids;
  auto note = [&](engine::VectorExample& e) {
    if (std::holds_alternative<PointId>(e)) {
      ids.push_back(&e);
    }
  };
  if (auto* nearest = std::get_if<engine::NearestQuery>(&q->query)) {
    note(nearest->target);
  } else if (auto* recommend = std::get_if<engine::RecommendQuery>(&q->query)) {
    for (auto* list : {&recommend->positive, &recommend->negative}) {
      for (engine::VectorExample& e : *list) note(e);
    }
  } else if (auto* discover = std::get_if<engine::DiscoverQuery>(&q->query)) {
    note(discover->target);
    for (engine::ContextPair& p : discover->context) {
      note(p.positive);
      note(p.negative);
    }
  } else if (auto* context = std::get_if<engine::ContextQuery>(&q->query)) {
    for (engine::ContextPair& p : context->pairs) {
      note(p.positive);
      note(p.negative);
    }
  } else if (auto* feedback = std::get_if<engine::RelevanceFeedbackQuery>(&q->query)) {
    note(feedback->target);
    for (engine::FeedbackItem& item : feedback->feedback) {
      note(item.example);
    }
  }
  std::vector<engine::PointRecord> records;
  for (engine::VectorExample* e : ids) {
    const PointId& id = std::get<PointId>(*e);
    std::vector<engine::PointRecord> found = (*other)->Retrieve({id}, false, true);
    if (found.empty()) {
      return Status::NotFound("Not found: No point with id " + id.ToString() + " found");
    }
    records.push_back(std::move(found[0]));
  }
  const std::string name = from.vector.value_or(q->using_vector);
  const auto config = (*other)->config_ptr();
  if (!config->vectors.contains(name) && !config->sparse_vectors.contains(name)) {
    return Status::InvalidArgument("Wrong input: Not existing vector name error: " +
                                   (name.empty() ? std::string("(unnamed)") : name));
  }
  for (size_t k = 0; k < ids.size(); ++k) {
    auto it = records[k].vectors.find(name);
    if (it == records[k].vectors.end()) {
      return Status::InvalidArgument("Wrong input: point " + records[k].id.ToString() +
                                     " has no vector `" + name + "`");
    }
    *ids[k] = std::visit([](auto&& v) -> engine::VectorExample { return std::move(v); },
                         std::move(it->second));
  }
  return Status::Ok();
}

Result<std::vector<engine::ScoredPoint>> RunQueryRequest(const engine::Catalog& catalog,
                                                         const Collection& c,
                                                         const json::value& body,
                                                         const std::string& path,
                                                         SearchInput* in) {
  TESSERA_RETURN_IF_ERROR(ParseQueryRequest(body, path, in, 0));
  TESSERA_RETURN_IF_ERROR(CheckSelectedVectors(in->vectors, *c.config_ptr()));
  TESSERA_RETURN_IF_ERROR(ResolveLookups(catalog, &in->query));
  return c.Query(in->query);
}

}  // namespace

asio::awaitable<Reply> Api::QueryPoints(Request& r, engine::Catalog& c) {
  Result<Target> target = CollectionAndBody(r, c);
  if (!target.ok()) {
    co_return StatusReply(target.status(), r.start);
  }
  std::shared_ptr<Collection> collection = std::move(target->collection);
  const json::value* body = &target->body;
  SearchInput in;
  Result<std::vector<engine::ScoredPoint>> hits = RunQueryRequest(c, *collection, *body, "", &in);
  if (!hits.ok()) {
    co_return StatusReply(hits.status(), r.start);
  }
  const bool single = collection->config_ptr()->single_unnamed_vector;
  co_return JsonResult(json::object{{"points", HitsToJson(*hits, in, single)}}, r.start);
}

asio::awaitable<Reply> Api::QueryBatch(Request& r, engine::Catalog& c) {
  Result<Target> target = CollectionAndBody(r, c);
  if (!target.ok()) {
    co_return StatusReply(target.status(), r.start);
  }
  std::shared_ptr<Collection> collection = std::move(target->collection);
  const json::value* body = &target->body;
  FieldReader reader(*body, "");
  const json::value* searches = reader.Find("searches");
  if (!reader.status().ok() || searches == nullptr || !searches->is_array()) {
    co_return StatusReply(DeserializeError("searches", "expected a list of queries"), r.start);
  }
  const bool single = collection->config_ptr()->single_unnamed_vector;
  json::array results;
  for (size_t i = 0; i < searches->get_array().size(); ++i) {
    SearchInput in;
    auto hits = RunQueryRequest(c, *collection, searches->get_array()[i],
                                "searches[" + std::to_string(i) + "]", &in);
    if (!hits.ok()) {
      co_return StatusReply(hits.status(), r.start);
    }
    results.push_back(json::object{{"points", HitsToJson(*hits, in, single)}});
  }
  co_return JsonResult(results, r.start);
}

asio::awaitable<Reply> Api::QueryGroups(Request& r, engine::Catalog& c) {
  Result<Target> target = CollectionAndBody(r, c);
  if (!target.ok()) {
    co_return StatusReply(target.status(), r.start);
  }
  std::shared_ptr<Collection> collection = std::move(target->collection);
  const json::value* body = &target->body;
  FieldReader reader(*body, "");
  engine::GroupRequest group;
  std::optional<uint64_t> group_size, limit;
  Status s = reader.status();
  if (s.ok()) {
    s = reader.Require("group_by", &group.group_by);
  }
  if (s.ok()) {
    s = CheckKeyPath("group_by", group.group_by);
  }
  if (s.ok()) {
    s = reader.Get("group_size", &group_size);
  }
  if (s.ok()) {
    s = reader.Get("limit", &limit);
  }
  if (s.ok() && ((group_size && (*group_size == 0 || *group_size > 1000)) ||
                 (limit && (*limit == 0 || *limit > 1000)))) {
    s = Status::ValidationFailed("group_size and limit must be from 1 to 1000");
  }
  SearchInput in;
  if (s.ok()) {
    // `limit` counts groups here, not hits: the engine sets the query's own.
    json::object query = body->as_object();
    query.erase("limit");
    query.erase("offset");
    s = ParseQueryRequest(query, "", &in, 0);
  }
  if (s.ok()) {
    s = CheckSelectedVectors(in.vectors, *collection->config_ptr());
  }
  if (s.ok()) {
    s = ResolveLookups(c, &in.query);
  }
  if (!s.ok()) {
    co_return StatusReply(s, r.start);
  }
  group.group_size = group_size.value_or(3);
  group.limit = limit.value_or(10);
  auto groups = collection->QueryGroups(in.query, group);
  if (!groups.ok()) {
    co_return StatusReply(groups.status(), r.start);
  }
  // Grouped on the full payload; ScoredPointToJson shows what was asked for.
  const bool single = collection->config_ptr()->single_unnamed_vector;
  json::array out;
  for (const engine::PointGroup& g : *groups) {
    out.push_back(json::object{{"id", g.key}, {"hits", HitsToJson(g.hits, in, single)}});
  }
  co_return JsonResult(json::object{{"groups", std::move(out)}}, r.start);
}

namespace {

// /points/search body: {vector: [..] | {name, vector}, ...}.
Status ParseLegacySearch(const json::value& body, const std::string& path, SearchInput* in) {
  FieldReader reader(body, path);
  TESSERA_RETURN_IF_ERROR(reader.status());
  if (!reader.Has("limit")) {
    return DeserializeError(path, "missing field `limit`");
  }
  TESSERA_RETURN_IF_ERROR(ParseSearchCommon(reader, in));
  const json::value* vector = reader.Find("vector");
  if (vector == nullptr) {
    return DeserializeError(path, "missing field `vector`");
  }
  if (vector->is_object()) {
    // NamedVector {name, vector: [..]} or NamedSparseVector {name, vector: {indices, values}}.
    FieldReader vr(*vector, reader.PathOf("vector"));
    TESSERA_RETURN_IF_ERROR(vr.Require("name", &in->query.using_vector));
    const json::value* v = vr.Find("vector");
    if (v == nullptr) {
      return DeserializeError(vr.PathOf("vector"), "missing field `vector`");
    }
    if (v->is_object()) {
      engine::VectorInput sparse;
      TESSERA_RETURN_IF_ERROR(ParseVector(*v, vr.PathOf("vector"), &sparse));
      in->query.query = engine::NearestQuery{std::get<engine::SparseVector>(std::move(sparse))};
      return Status::Ok();
    }
    engine::DenseVector values;
    TESSERA_RETURN_IF_ERROR(ParseDenseVector(*v, vr.PathOf("vector"), &values));
    in->query.query = engine::NearestQuery{std::move(values)};
    return Status::Ok();
  }
  engine::DenseVector values;
  TESSERA_RETURN_IF_ERROR(ParseDenseVector(*vector, reader.PathOf("vector"), &values));
  in->query.query = engine::NearestQuery{std::move(values)};
  return Status::Ok();
}

// /points/recommend body: {positive, negative, strategy, using, ...}.
Status ParseLegacyRecommend(const json::value& body, const std::string& path, SearchInput* in) {
  FieldReader reader(body, path);
  TESSERA_RETURN_IF_ERROR(reader.status());
  if (!reader.Has("limit")) {
    return DeserializeError(path, "missing field `limit`");
  }
  TESSERA_RETURN_IF_ERROR(ParseSearchCommon(reader, in));
  std::optional<std::string> using_name;
  TESSERA_RETURN_IF_ERROR(reader.Get("using", &using_name));
  in->query.using_vector = using_name.value_or("");
  TESSERA_ASSIGN_OR_RETURN(
      in->query.query,
      ParseRecommend(reader.Find("positive"), reader.Find("negative"), reader.Find("strategy"),
                     true));
  return Status::Ok();
}

}  // namespace

asio::awaitable<Reply> Api::LegacySearch(Request& r, engine::Catalog& c, bool recommend,
                                         bool batch) {
  Result<Target> target = CollectionAndBody(r, c);
  if (!target.ok()) {
    co_return StatusReply(target.status(), r.start);
  }
  std::shared_ptr<Collection> collection = std::move(target->collection);
  const json::value* body = &target->body;
  std::vector<std::pair<const json::value*, std::string>> requests;
  if (batch) {
    FieldReader reader(*body, "");
    const json::value* searches = reader.Find("searches");
    if (!reader.status().ok() || searches == nullptr || !searches->is_array()) {
      co_return StatusReply(DeserializeError("searches", "expected a list of requests"), r.start);
    }
    for (size_t i = 0; i < searches->get_array().size(); ++i) {
      requests.emplace_back(&searches->get_array()[i], "searches[" + std::to_string(i) + "]");
    }
  } else {
    requests.emplace_back(&*body, "");
  }
  const bool single = collection->config_ptr()->single_unnamed_vector;
  json::array results;
  for (const auto& [request, path] : requests) {
    SearchInput in;
    Status s = recommend ? ParseLegacyRecommend(*request, path, &in)
                         : ParseLegacySearch(*request, path, &in);
    if (s.ok()) {
      s = CheckSelectedVectors(in.vectors, *collection->config_ptr());
    }
    if (s.ok()) {
      s = ResolveLookups(c, &in.query);
    }
    if (!s.ok()) {
      co_return StatusReply(s, r.start);
    }
    auto hits = collection->Query(in.query);
    if (!hits.ok()) {
      co_return StatusReply(hits.status(), r.start);
    }
    results.push_back(HitsToJson(*hits, in, single));
  }
  if (!batch) {
    co_return JsonResult(results[0], r.start);
  }
  co_return JsonResult(results, r.start);
}

}  // namespace tessera::api

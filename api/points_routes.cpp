// The points API handlers of Api: upsert, retrieve, delete, and vector search.

#include <charconv>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/filter_codec.h"
#include "api/json_util.h"
#include "api/points_codec.h"
#include "api/routes.h"

namespace tessera::api {

namespace json = boost::json;
using engine::Collection;
using engine::PointId;

namespace {

Status QueryError(std::string_view message) {
  return Status::InvalidArgument("Query deserialize error: " + std::string(message));
}

json::object UpdateResult(engine::SeqNo seq, std::string_view status) {
  return json::object{{"operation_id", seq}, {"status", status}};
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
    return JsonResult(UpdateResult(*seq, applied ? "completed" : "wait_timeout"), start);
  });
}

namespace {

// Resolves a `filter` to the ids of the points it matches now, after the collection has
// applied every write acknowledged so far.
std::vector<PointId> Resolve(Collection& collection, const engine::Filter& filter) {
  collection.WaitApplied(collection.wal().last_seq(), Clock::now() + std::chrono::seconds(60));
  return collection.MatchingIds(&filter);
}

// PointsSelector: {"points": [ids]} or {"filter": {...}}.
Status ParseSelector(const FieldReader& r, Collection& collection, std::vector<PointId>* ids) {
  if (const json::value* points = r.Find("points")) {
    return ParsePointIds(*points, r.PathOf("points"), ids);
  }
  if (const json::value* filter = r.Find("filter")) {
    TESSERA_ASSIGN_OR_RETURN(auto parsed, ParseFilter(*filter, r.PathOf("filter")));
    *ids = Resolve(collection, *parsed);
    return Status::Ok();
  }
  return DeserializeError(r.PathOf(""), "expected `points` or `filter`");
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

Status ParseNames(const json::value* v, std::string_view path, std::vector<std::string>* out) {
  if (v == nullptr || !v->is_array()) {
    return DeserializeError(path, "expected a list of strings");
  }
  for (const json::value& item : v->get_array()) {
    if (!item.is_string()) {
      return DeserializeError(path, "expected a list of strings");
    }
    out->emplace_back(item.get_string());
  }
  return Status::Ok();
}

// One write operation in the shapes of the points API, by its batch name.
Result<engine::Operation> ParseOperation(std::string_view kind, const json::value& body,
                                         const std::string& path, Collection& collection) {
  if (kind == "upsert") {
    TESSERA_ASSIGN_OR_RETURN(engine::UpsertOp op, ParseUpsert(body));
    return engine::Operation(std::move(op));
  }
  FieldReader r(body, path);
  TESSERA_RETURN_IF_ERROR(r.status());
  if (kind == "delete") {
    engine::DeletePointsOp op;
    TESSERA_RETURN_IF_ERROR(ParseSelector(r, collection, &op.ids));
    return engine::Operation(std::move(op));
  }
  if (kind == "set_payload" || kind == "overwrite_payload") {
    TESSERA_ASSIGN_OR_RETURN(json::object payload, RequireObject(r, "payload"));
    std::vector<PointId> ids;
    TESSERA_RETURN_IF_ERROR(ParseSelector(r, collection, &ids));
    std::optional<std::string> key;
    TESSERA_RETURN_IF_ERROR(r.Get("key", &key));
    if (kind == "overwrite_payload") {
      return engine::Operation(
          engine::OverwritePayloadOp{std::move(ids), std::move(payload), key.value_or("")});
    }
    return engine::Operation(
        engine::SetPayloadOp{std::move(ids), std::move(payload), key.value_or("")});
  }
  if (kind == "delete_payload") {
    engine::DeletePayloadOp op;
    TESSERA_RETURN_IF_ERROR(ParseNames(r.Find("keys"), r.PathOf("keys"), &op.keys));
    TESSERA_RETURN_IF_ERROR(ParseSelector(r, collection, &op.ids));
    return engine::Operation(std::move(op));
  }
  if (kind == "clear_payload") {
    engine::ClearPayloadOp op;
    TESSERA_RETURN_IF_ERROR(ParseSelector(r, collection, &op.ids));
    return engine::Operation(std::move(op));
  }
  if (kind == "update_vectors") {
    const json::value* points = r.Find("points");
    if (points == nullptr || !points->is_array()) {
      return DeserializeError(r.PathOf("points"), "expected a list of {id, vector}");
    }
    engine::UpdateVectorsOp op;
    size_t i = 0;
    for (const json::value& p : points->get_array()) {
      const std::string ppath = r.PathOf("points") + "[" + std::to_string(i++) + "]";
      FieldReader pr(p, ppath);
      TESSERA_RETURN_IF_ERROR(pr.status());
      const json::value* id = pr.Find("id");
      const json::value* vector = pr.Find("vector");
      if (id == nullptr || vector == nullptr) {
        return DeserializeError(ppath, "expected `id` and `vector`");
      }
      engine::PointVectors pv;
      TESSERA_ASSIGN_OR_RETURN(pv.id, ParsePointId(*id, pr.PathOf("id")));
      TESSERA_RETURN_IF_ERROR(ParseVectorStruct(*vector, pr.PathOf("vector"), &pv.vectors));
      op.points.push_back(std::move(pv));
    }
    return engine::Operation(std::move(op));
  }
  if (kind == "delete_vectors") {
    engine::DeleteVectorsOp op;
    TESSERA_RETURN_IF_ERROR(ParseNames(r.Find("vector"), r.PathOf("vector"), &op.names));
    TESSERA_RETURN_IF_ERROR(ParseSelector(r, collection, &op.ids));
    return engine::Operation(std::move(op));
  }
  return DeserializeError(path, "unknown variant `" + std::string(kind) +
                                    "`, expected one of `upsert`, `delete`, `set_payload`, "
                                    "`overwrite_payload`, `delete_payload`, `clear_payload`, "
                                    "`update_vectors`, `delete_vectors`");
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
  Result<json::value> body = ParseJsonBody(r.body);
  if (!body.ok()) {
    co_return StatusReply(body.status(), r.start);
  }
  Result<engine::Operation> op = ParseOperation(kind, *body, "", **collection);
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
  Result<std::shared_ptr<Collection>> collection = c.GetCollection(r.Param("collection_name"));
  if (!collection.ok()) {
    co_return StatusReply(collection.status(), r.start);
  }
  Result<json::value> body = ParseJsonBody(r.body);
  if (!body.ok()) {
    co_return StatusReply(body.status(), r.start);
  }
  FieldReader reader(*body, "");
  const json::value* operations = reader.Find("operations");
  Status s = reader.status();
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
    Result<engine::Operation> op =
        ParseOperation(kind, args, path + "." + std::string(kind), **collection);
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
  Reply reply = co_await Write(r, std::move(collection).value(), std::move(ops), options);
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
  Result<std::shared_ptr<Collection>> collection = c.GetCollection(r.Param("collection_name"));
  if (!collection.ok()) {
    co_return StatusReply(collection.status(), r.start);
  }
  Result<json::value> body =
      r.body.empty() ? Result<json::value>(json::object()) : ParseJsonBody(r.body);
  if (!body.ok()) {
    co_return StatusReply(body.status(), r.start);
  }
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
    s = ParseWithVector(reader.Find("with_vector"), false, &vectors);
  }
  if (s.ok()) {
    if (const json::value* order_by = reader.Find("order_by")) {
      std::string key = order_by->is_string() ? std::string(order_by->get_string()) : "";
      if (order_by->is_object() && order_by->get_object().contains("key") &&
          order_by->get_object().at("key").is_string()) {
        key = std::string(order_by->get_object().at("key").get_string());
      }
      s = Status::InvalidArgument(
          "Bad request: No range index for `order_by` key: `" + key +
          "`. Please create one to use `order_by`. Check "
          "https://qdrant.tech/documentation/concepts/indexing/#payload-index "
          "to see which payload schemas support Range conditions");
    }
  }
  if (!s.ok()) {
    co_return StatusReply(s, r.start);
  }
  std::optional<PointId> next;
  const auto records =
      (*collection)
          ->Scroll(offset, limit.value_or(10), filter.get(), payload.any(), vectors.any(), &next);
  const bool single = (*collection)->config().single_unnamed_vector;
  json::array points;
  for (const engine::PointRecord& rec : records) {
    points.push_back(RecordToJson(rec, payload, vectors, single));
  }
  json::object result{{"points", std::move(points)},
                      {"next_page_offset", next ? PointIdToJson(*next) : json::value(nullptr)}};
  co_return JsonResult(result, r.start);
}

asio::awaitable<Reply> Api::CountPoints(Request& r, engine::Catalog& c) {
  Result<std::shared_ptr<Collection>> collection = c.GetCollection(r.Param("collection_name"));
  if (!collection.ok()) {
    co_return StatusReply(collection.status(), r.start);
  }
  Result<json::value> body =
      r.body.empty() ? Result<json::value>(json::object()) : ParseJsonBody(r.body);
  if (!body.ok()) {
    co_return StatusReply(body.status(), r.start);
  }
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
  // Counts are always exact here: `exact: false` gets the exact figure too.
  co_return JsonResult(json::object{{"count", (*collection)->Count(filter.get())}}, r.start);
}

asio::awaitable<Reply> Api::RetrievePoints(Request& r, engine::Catalog& c) {
  Result<std::shared_ptr<Collection>> collection = c.GetCollection(r.Param("collection_name"));
  if (!collection.ok()) {
    co_return StatusReply(collection.status(), r.start);
  }
  Result<json::value> body = ParseJsonBody(r.body);
  if (!body.ok()) {
    co_return StatusReply(body.status(), r.start);
  }
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
    s = ParseWithVector(reader.Find("with_vector"), false, &vectors);
  }
  if (!s.ok()) {
    co_return StatusReply(s, r.start);
  }
  const bool single = (*collection)->config().single_unnamed_vector;
  json::array out;
  for (const engine::PointRecord& rec :
       (*collection)->Retrieve(ids, payload.any(), vectors.any())) {
    out.push_back(RecordToJson(rec, payload, vectors, single));
  }
  co_return JsonResult(out, r.start);
}

asio::awaitable<Reply> Api::GetPoint(Request& r, engine::Catalog& c) {
  Result<std::shared_ptr<Collection>> collection = c.GetCollection(r.Param("collection_name"));
  if (!collection.ok()) {
    co_return StatusReply(collection.status(), r.start);
  }
  Result<PointId> id = ParsePointIdText(r.Param("id"));
  if (!id.ok()) {
    co_return StatusReply(id.status(), r.start);
  }
  auto records = (*collection)->Retrieve({*id}, true, true);
  if (records.empty()) {
    co_return StatusReply(
        Status::NotFound("Not found: No point with id " + id->ToString() + " found"), r.start);
  }
  PayloadSelector payload{PayloadSelector::Mode::kAll, {}};
  VectorSelector vectors{true, {}};
  co_return JsonResult(
      RecordToJson(records[0], payload, vectors, (*collection)->config().single_unnamed_vector),
      r.start);
}

namespace {

// The fields /points/query and /points/search share.
struct SearchInput {
  engine::SearchRequest request;
  PayloadSelector payload;
  VectorSelector vectors;
  std::shared_ptr<const engine::Filter> filter;  // owns what request.filter points to
};

Status ParseSearchCommon(const FieldReader& r, SearchInput* in) {
  std::optional<uint64_t> limit, offset, ef;
  std::optional<double> threshold;
  TESSERA_RETURN_IF_ERROR(r.Get("limit", &limit));
  TESSERA_RETURN_IF_ERROR(r.Get("offset", &offset));
  TESSERA_RETURN_IF_ERROR(r.Get("score_threshold", &threshold));
  in->request.limit = limit.value_or(10);
  in->request.offset = offset.value_or(0);
  if (in->request.limit == 0) {
    return Status::ValidationFailed("limit: value 0 invalid, must be 1 or larger");
  }
  if (in->request.limit > 1000000 || in->request.offset > 1000000) {
    return Status::ValidationFailed("limit and offset must be at most 1000000");
  }
  if (threshold) {
    in->request.score_threshold = static_cast<float>(*threshold);
  }
  if (const json::value* params = r.Find("params")) {
    FieldReader pr(*params, "params");
    TESSERA_RETURN_IF_ERROR(pr.status());
    std::optional<bool> exact;
    TESSERA_RETURN_IF_ERROR(pr.Get("hnsw_ef", &ef));
    TESSERA_RETURN_IF_ERROR(pr.Get("exact", &exact));
    if (ef) {
      if (*ef > 100000) {
        return Status::ValidationFailed("params.hnsw_ef: must be at most 100000");
      }
      in->request.ef = static_cast<size_t>(*ef);
    }
    in->request.exact = exact.value_or(false);
  }
  if (const json::value* filter = r.Find("filter")) {
    TESSERA_ASSIGN_OR_RETURN(in->filter, ParseFilter(*filter, "filter"));
    in->request.filter = in->filter.get();
  }
  TESSERA_RETURN_IF_ERROR(ParseWithPayload(r.Find("with_payload"), false, &in->payload));
  TESSERA_RETURN_IF_ERROR(ParseWithVector(r.Find("with_vector"), false, &in->vectors));
  in->request.with_payload = in->payload.any();
  in->request.with_vectors = in->vectors.any();
  return Status::Ok();
}

}  // namespace

asio::awaitable<Reply> Api::QueryPoints(Request& r, engine::Catalog& c) {
  Result<std::shared_ptr<Collection>> collection = c.GetCollection(r.Param("collection_name"));
  if (!collection.ok()) {
    co_return StatusReply(collection.status(), r.start);
  }
  Result<json::value> body = ParseJsonBody(r.body);
  if (!body.ok()) {
    co_return StatusReply(body.status(), r.start);
  }
  FieldReader reader(*body, "");
  SearchInput in;
  Status s = reader.status();
  if (s.ok()) {
    s = ParseSearchCommon(reader, &in);
  }
  std::optional<std::string> using_name;
  if (s.ok()) {
    s = reader.Get("using", &using_name);
  }
  in.request.vector_name = using_name.value_or("");
  const json::value* query = reader.Find("query");
  if (s.ok() && query == nullptr) {
    s = Status::InvalidArgument(
        "Wrong input: `query` is required by Tessera (prefetch and "
        "id-ordered listing are not supported yet)");
  }
  if (s.ok()) {
    const json::value* nearest = query;
    if (query->is_object() && query->get_object().contains("nearest")) {
      nearest = &query->get_object().at("nearest");
    }
    if (nearest->is_array()) {
      s = ParseDenseVector(*nearest, "query", &in.request.query);
    } else {
      Result<PointId> id = ParsePointId(*nearest, "query");
      if (!id.ok()) {
        s = id.status();
      } else {
        auto records = (*collection)->Retrieve({*id}, false, true);
        auto vector = records.empty() ? records.end() : records.begin();
        if (records.empty() || !records[0].vectors.contains(in.request.vector_name)) {
          s = Status::NotFound("Not found: No point with id " + id->ToString() + " found");
        } else {
          in.request.query = vector->vectors.at(in.request.vector_name);
        }
      }
    }
  }
  if (!s.ok()) {
    co_return StatusReply(s, r.start);
  }
  Result<std::vector<engine::ScoredPoint>> hits = (*collection)->Search(in.request);
  if (!hits.ok()) {
    co_return StatusReply(hits.status(), r.start);
  }
  const bool single = (*collection)->config().single_unnamed_vector;
  json::array points;
  for (const engine::ScoredPoint& p : *hits) {
    points.push_back(ScoredPointToJson(p, in.payload, in.vectors, single));
  }
  co_return JsonResult(json::object{{"points", std::move(points)}}, r.start);
}

asio::awaitable<Reply> Api::SearchPoints(Request& r, engine::Catalog& c) {
  Result<std::shared_ptr<Collection>> collection = c.GetCollection(r.Param("collection_name"));
  if (!collection.ok()) {
    co_return StatusReply(collection.status(), r.start);
  }
  Result<json::value> body = ParseJsonBody(r.body);
  if (!body.ok()) {
    co_return StatusReply(body.status(), r.start);
  }
  FieldReader reader(*body, "");
  SearchInput in;
  Status s = reader.status();
  if (s.ok() && !reader.Has("limit")) {
    s = DeserializeError("", "missing field `limit`");
  }
  if (s.ok()) {
    s = ParseSearchCommon(reader, &in);
  }
  if (s.ok()) {
    // NamedVectorStruct: [..] or {"name": "...", "vector": [..]}.
    const json::value* vector = reader.Find("vector");
    if (vector == nullptr) {
      s = DeserializeError("", "missing field `vector`");
    } else if (vector->is_object()) {
      FieldReader vr(*vector, "vector");
      std::string name;
      s = vr.Require("name", &name);
      in.request.vector_name = name;
      if (s.ok()) {
        const json::value* values = vr.Find("vector");
        s = values == nullptr ? DeserializeError("vector", "missing field `vector`")
                              : ParseDenseVector(*values, "vector.vector", &in.request.query);
      }
    } else {
      s = ParseDenseVector(*vector, "vector", &in.request.query);
    }
  }
  if (!s.ok()) {
    co_return StatusReply(s, r.start);
  }
  Result<std::vector<engine::ScoredPoint>> hits = (*collection)->Search(in.request);
  if (!hits.ok()) {
    co_return StatusReply(hits.status(), r.start);
  }
  const bool single = (*collection)->config().single_unnamed_vector;
  json::array points;
  for (const engine::ScoredPoint& p : *hits) {
    points.push_back(ScoredPointToJson(p, in.payload, in.vectors, single));
  }
  co_return JsonResult(points, r.start);
}

}  // namespace tessera::api

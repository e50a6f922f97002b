// The points API handlers of Api: upsert, retrieve, delete, and vector search.

#include <charconv>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

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

asio::awaitable<Reply> Api::UpsertPoints(Request& r, engine::Catalog& c) {
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
  Result<engine::UpsertOp> upsert = ParseUpsert(*body);
  if (!upsert.ok()) {
    co_return StatusReply(upsert.status(), r.start);
  }
  engine::OperationList ops;
  ops.emplace_back(std::move(upsert).value());
  co_return co_await Write(r, std::move(collection).value(), std::move(ops), options);
}

asio::awaitable<Reply> Api::DeletePoints(Request& r, engine::Catalog& c) {
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
  if (!reader.status().ok()) {
    co_return StatusReply(reader.status(), r.start);
  }
  engine::DeletePointsOp del;
  if (const json::value* points = reader.Find("points")) {
    if (Status s = ParsePointIds(*points, "points", &del.ids); !s.ok()) {
      co_return StatusReply(s, r.start);
    }
  } else {
    co_return StatusReply(DeserializeError("", "expected `points`"), r.start);
  }
  engine::OperationList ops;
  ops.emplace_back(std::move(del));
  co_return co_await Write(r, std::move(collection).value(), std::move(ops), options);
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
  if (r.Find("filter") != nullptr) {
    return Status::InvalidArgument("Wrong input: filters are not supported by this build yet");
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

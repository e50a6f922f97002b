#include "api/routes.h"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <exception>

#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "api/collection_codec.h"
#include "api/json_util.h"
#include "api/openapi_check.h"
#include "common/logging.h"

#ifndef TESSERA_API_VERSION
#define TESSERA_API_VERSION "0.0.0"
#endif
#ifndef TESSERA_COMMIT
#define TESSERA_COMMIT "unknown"
#endif

namespace tessera::api {

namespace json = boost::json;

namespace {

// Constant-time comparison: the time taken does not depend on where the strings differ.
bool KeysEqual(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

asio::awaitable<Reply> NotReadyAsync(Clock::time_point start) {
  co_return JsonError(http::status::service_unavailable,
                      "Service Unavailable: storage is still loading", start);
}

// Parses the request body as JSON, or returns the 400 reply.
Result<json::value> Body(const Request& r) {
  return TakeJsonBody(r);
}

}  // namespace

Api::Api(const ServerOptions& options) : options_(options) {
  AddRoutes();
}

void Api::AddRoutes() {
  using V = http::verb;
  auto bind = [this](asio::awaitable<Reply> (Api::*method)(Request&)) {
    return [this, method](Request& r) { return (this->*method)(r); };
  };
  // Routes that need storage answer 503 until it has loaded.
  auto bind_storage = [this](StorageHandler method) {
    return [this, method](Request& r) -> asio::awaitable<Reply> {
      engine::Catalog* c = catalog();
      if (c == nullptr) {
        return NotReadyAsync(r.start);
      }
      return (this->*method)(r, *c);
    };
  };
  auto text = [](http::status status, std::string body) {
    return
        [status, body](Request&) -> asio::awaitable<Reply> { co_return TextReply(status, body); };
  };
  router_.Add(V::get, "/", Access::kOpen, bind(&Api::Root));
  router_.Add(V::get, "/healthz", Access::kOpen, text(http::status::ok, "healthz check passed"));
  router_.Add(V::get, "/livez", Access::kOpen, text(http::status::ok, "healthz check passed"));
  router_.Add(V::get, "/readyz", Access::kOpen, [this](Request&) -> asio::awaitable<Reply> {
    if (catalog() == nullptr) {
      co_return TextReply(http::status::service_unavailable, "some shards are not ready");
    }
    co_return TextReply(http::status::ok, "all shards are ready");
  });

  router_.Add(V::get, "/metrics", Access::kRead, bind_storage(&Api::Metrics));
  router_.Add(V::get, "/telemetry", Access::kRead, bind_storage(&Api::Telemetry));
  router_.Add(V::get, "/cluster", Access::kRead, [](Request& r) -> asio::awaitable<Reply> {
    // A standalone server, as Qdrant without distributed mode answers.
    co_return JsonResult(json::object{{"status", "disabled"}}, r.start);
  });
  router_.Add(V::get, "/dashboard/{path...}", Access::kOpen, bind(&Api::Dashboard));
  router_.Add(V::get, "/collections", Access::kRead, bind_storage(&Api::ListCollections));
  router_.Add(V::post, "/collections/{collection_name}/snapshots", Access::kWrite,
              bind_storage(&Api::CreateSnapshot));
  router_.Add(V::get, "/collections/{collection_name}/snapshots", Access::kRead,
              bind_storage(&Api::ListSnapshots));
  router_.Add(V::get, "/collections/{collection_name}/snapshots/{snapshot_name}", Access::kRead,
              bind_storage(&Api::GetSnapshot));
  router_.Add(V::delete_, "/collections/{collection_name}/snapshots/{snapshot_name}",
              Access::kWrite, bind_storage(&Api::DeleteSnapshot));
  router_.Add(V::put, "/collections/{collection_name}/snapshots/recover", Access::kWrite,
              bind_storage(&Api::RecoverSnapshot));
  router_.Add(V::post, "/collections/{collection_name}/snapshots/upload", Access::kWrite,
              bind_storage(&Api::UploadSnapshot));
  router_.Add(V::get, "/collections/{collection_name}/optimizations", Access::kRead,
              bind_storage(&Api::Optimizations));
  router_.Add(V::get, "/collections/{collection_name}", Access::kRead,
              bind_storage(&Api::GetCollection));
  router_.Add(V::put, "/collections/{collection_name}", Access::kWrite,
              bind_storage(&Api::CreateCollection));
  router_.Add(V::patch, "/collections/{collection_name}", Access::kWrite,
              bind_storage(&Api::UpdateCollection));
  router_.Add(V::delete_, "/collections/{collection_name}", Access::kWrite,
              bind_storage(&Api::DeleteCollection));
  router_.Add(V::put, "/collections/{collection_name}/index", Access::kWrite,
              bind_storage(&Api::CreateIndex));
  router_.Add(V::delete_, "/collections/{collection_name}/index/{field_name}", Access::kWrite,
              bind_storage(&Api::DeleteIndex));
  router_.Add(V::get, "/collections/{collection_name}/exists", Access::kRead,
              bind_storage(&Api::CollectionExists));
  router_.Add(V::post, "/collections/aliases", Access::kWrite, bind_storage(&Api::UpdateAliases));
  router_.Add(V::get, "/aliases", Access::kRead, bind_storage(&Api::ListAliases));
  router_.Add(V::get, "/collections/{collection_name}/aliases", Access::kRead,
              bind_storage(&Api::ListCollectionAliases));

  // The write routes, each one operation of the batch vocabulary.
  auto write = [this](std::string_view kind) {
    return [this, kind](Request& r) -> asio::awaitable<Reply> {
      engine::Catalog* c = catalog();
      if (c == nullptr) {
        return NotReadyAsync(r.start);
      }
      return WriteOne(r, *c, kind);
    };
  };
  router_.Add(V::put, "/collections/{collection_name}/points", Access::kWrite, write("upsert"));
  router_.Add(V::post, "/collections/{collection_name}/points/delete", Access::kWrite,
              write("delete"));
  router_.Add(V::post, "/collections/{collection_name}/points/payload", Access::kWrite,
              write("set_payload"));
  router_.Add(V::put, "/collections/{collection_name}/points/payload", Access::kWrite,
              write("overwrite_payload"));
  router_.Add(V::post, "/collections/{collection_name}/points/payload/delete", Access::kWrite,
              write("delete_payload"));
  router_.Add(V::post, "/collections/{collection_name}/points/payload/clear", Access::kWrite,
              write("clear_payload"));
  router_.Add(V::put, "/collections/{collection_name}/points/vectors", Access::kWrite,
              write("update_vectors"));
  router_.Add(V::post, "/collections/{collection_name}/points/vectors/delete", Access::kWrite,
              write("delete_vectors"));
  router_.Add(V::post, "/collections/{collection_name}/points/batch", Access::kWrite,
              bind_storage(&Api::BatchUpdate));
  router_.Add(V::post, "/collections/{collection_name}/points/scroll", Access::kRead,
              bind_storage(&Api::ScrollPoints));
  router_.Add(V::post, "/collections/{collection_name}/points/count", Access::kRead,
              bind_storage(&Api::CountPoints));
  router_.Add(V::post, "/collections/{collection_name}/facet", Access::kRead,
              bind_storage(&Api::Facet));
  for (bool offsets : {false, true}) {
    router_.Add(V::post,
                offsets ? "/collections/{collection_name}/points/search/matrix/offsets"
                        : "/collections/{collection_name}/points/search/matrix/pairs",
                Access::kRead, [this, offsets](Request& r) -> asio::awaitable<Reply> {
                  engine::Catalog* c = catalog();
                  if (c == nullptr) {
                    return NotReadyAsync(r.start);
                  }
                  return SearchMatrix(r, *c, offsets);
                });
  }
  router_.Add(V::post, "/collections/{collection_name}/points", Access::kRead,
              bind_storage(&Api::RetrievePoints));
  router_.Add(V::get, "/collections/{collection_name}/points/{id}", Access::kRead,
              bind_storage(&Api::GetPoint));
  router_.Add(V::post, "/collections/{collection_name}/points/query", Access::kRead,
              bind_storage(&Api::QueryPoints));
  router_.Add(V::post, "/collections/{collection_name}/points/query/batch", Access::kRead,
              bind_storage(&Api::QueryBatch));
  router_.Add(V::post, "/collections/{collection_name}/points/query/groups", Access::kRead,
              bind_storage(&Api::QueryGroups));
  auto legacy = [this](bool recommend, bool batch) {
    return [this, recommend, batch](Request& r) -> asio::awaitable<Reply> {
      engine::Catalog* c = catalog();
      if (c == nullptr) {
        return NotReadyAsync(r.start);
      }
      return LegacySearch(r, *c, recommend, batch);
    };
  };
  router_.Add(V::post, "/collections/{collection_name}/points/search", Access::kRead,
              legacy(false, false));
  router_.Add(V::post, "/collections/{collection_name}/points/search/batch", Access::kRead,
              legacy(false, true));
  router_.Add(V::post, "/collections/{collection_name}/points/recommend", Access::kRead,
              legacy(true, false));
  router_.Add(V::post, "/collections/{collection_name}/points/recommend/batch", Access::kRead,
              legacy(true, true));
}

std::optional<Reply> Api::CheckAccess(const http::request<http::string_body>& raw, Access access,
                                      Clock::time_point start) const {
  if (access == Access::kOpen || (!options_.api_key && !options_.read_only_api_key)) {
    return std::nullopt;
  }
  std::string_view presented;
  if (auto it = raw.find("api-key"); it != raw.end()) {
    presented = it->value();
  } else if (auto auth = raw.find(http::field::authorization); auth != raw.end()) {
    const std::string_view value = auth->value();
    constexpr std::string_view kBearer = "Bearer ";
    if (value.size() > kBearer.size() && value.substr(0, kBearer.size()) == kBearer) {
      presented = value.substr(kBearer.size());
    }
  }
  if (presented.empty()) {
    return JsonError(http::status::unauthorized,
                     "Unauthorized: Must provide an API key or an Authorization bearer token",
                     start);
  }
  if (options_.api_key && KeysEqual(presented, *options_.api_key)) {
    return std::nullopt;
  }
  if (options_.read_only_api_key && KeysEqual(presented, *options_.read_only_api_key)) {
    if (access == Access::kRead) {
      return std::nullopt;
    }
    return JsonError(http::status::forbidden, "Forbidden: Write access is required", start);
  }
  return JsonError(http::status::unauthorized, "Unauthorized: Invalid API key or JWT", start);
}

asio::awaitable<Reply> Api::Dispatch(const http::request<http::string_body>& raw) {
  Request request;
  const std::string_view target = raw.target();
  const size_t question = target.find('?');
  std::vector<std::string> segments;
  if (!SplitPath(target.substr(0, question), &segments) ||
      (question != std::string_view::npos &&
       !ParseQuery(target.substr(question + 1), &request.query))) {
    co_return JsonError(http::status::bad_request, "Bad request: malformed percent-encoding in URL",
                        request.start);
  }
  request.path = std::string(target.substr(0, question));
  // Names and parameters are text: bytes that are not UTF-8 never reach a handler (or an
  // answer, or a directory name).
  const bool utf8 =
      std::all_of(segments.begin(), segments.end(),
                  [](const std::string& s) { return IsValidUtf8(s); }) &&
      std::all_of(request.query.begin(), request.query.end(),
                  [](const auto& kv) { return IsValidUtf8(kv.first) && IsValidUtf8(kv.second); });
  if (!utf8) {
    co_return JsonError(http::status::bad_request, "Bad request: the URL is not valid UTF-8",
                        request.start);
  }
  Router::Match match = router_.Find(raw.method(), segments);
  if (match.outcome == Router::Outcome::kNoPath) {
    co_return JsonError(http::status::not_found, "Not found: " + request.path, request.start);
  }
  if (match.outcome == Router::Outcome::kNoMethod) {
    co_return JsonError(
        http::status::method_not_allowed,
        "Method Not Allowed: " + std::string(raw.method_string()) + " " + request.path,
        request.start);
  }
  if (auto denied = CheckAccess(raw, match.route->access, request.start)) {
    co_return std::move(*denied);
  }
  if (Status s = CheckQueryParameters(request.query); !s.ok()) {
    co_return StatusReply(s, request.start);
  }
  request.method = raw.method();
  request.params = std::move(match.params);
  request.body = raw.body();
  if (auto it = raw.find(http::field::content_type); it != raw.end()) {
    request.content_type = std::string(it->value());
  }
  // The body against the operation's schema in Qdrant's spec, before any decoder. An upsert
  // is checked by its handler, and only when its text decoder declines it (the upload path
  // decodes floats straight from the text).
  const bool upsert = raw.method() == http::verb::put &&
                      match.route->pattern == "/collections/{collection_name}/points";
  if (!request.body.empty() && !upsert && HasSpecBody(raw.method(), match.route->pattern)) {
    Result<json::value> parsed = ParseJsonBody(request.body);
    if (!parsed.ok()) {
      co_return StatusReply(parsed.status(), request.start);
    }
    if (Status s = CheckSpecBody(raw.method(), match.route->pattern, *parsed); !s.ok()) {
      co_return StatusReply(s, request.start);
    }
    request.json_body = std::move(parsed).value();
  }
  try {
    Reply reply = co_await match.route->handler(request);
    if (static_cast<int>(reply.status) >= 400) {
      HideServerPaths(&reply.body);
    }
    metrics_.Record(raw.method_string(), match.route->pattern, static_cast<int>(reply.status),
                    std::chrono::duration<double>(Clock::now() - request.start).count());
    co_return reply;
  } catch (const std::exception& e) {
    TESSERA_LOG(kError) << "internal error in " << raw.method_string() << " " << request.path
                        << ": " << e.what();
    Reply reply = JsonError(http::status::internal_server_error,
                            std::string("Service internal error: ") + e.what(), request.start);
    HideServerPaths(&reply.body);
    co_return reply;
  }
}

// An error answer never shows where the server keeps its files: the storage and snapshot
// folders, as configured and as absolute paths, read as `<storage>` and `<snapshots>`.
void Api::HideServerPaths(std::string* body) const {
  std::vector<std::pair<std::string, std::string>> folders;
  for (const auto& [folder, label] : {std::pair{options_.storage_path, "<storage>"},
                                      std::pair{options_.snapshots_path, "<snapshots>"}}) {
    std::error_code ec;
    for (const std::filesystem::path& p :
         {folder, std::filesystem::absolute(folder, ec), std::filesystem::weakly_canonical(folder, ec)}) {
      std::string text = p.string();
      while (text.size() > 1 && text.back() == '/') text.pop_back();
      // A path as text: the configured one ("./storage", "/var/lib/x") or an absolute form;
      // a bare relative name ("storage") is too likely a word of the message to replace.
      if (text.find('/') != std::string::npos && text != "/" && text != ".") {
        folders.emplace_back(text, label);
      }
    }
  }
  // Longest first, so that an absolute path is replaced whole rather than by its tail.
  std::sort(folders.begin(), folders.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  for (const auto& [text, label] : folders) {
    for (size_t at = body->find(text); at != std::string::npos; at = body->find(text, at)) {
      body->replace(at, text.size(), label);
      at += label.size();
    }
  }
}

asio::awaitable<Reply> Api::Root(Request& r) {
  json::object info;
  info["title"] = "tessera - vector search engine (Qdrant API)";
  info["version"] = TESSERA_API_VERSION;
  info["commit"] = TESSERA_COMMIT;
  (void)r;
  // `GET /` answers the bare object, not the envelope, as Qdrant does.
  co_return Reply{http::status::ok, json::serialize(info)};
}

asio::awaitable<Reply> Api::Metrics(Request& r, engine::Catalog& c) {
  (void)r;
  std::string out;
  out += "# HELP app_info information about the server\n# TYPE app_info gauge\n";
  out += std::string("app_info{name=\"tessera\",version=\"") + TESSERA_API_VERSION + "\"} 1\n";
  out += "# HELP cluster_enabled is cluster support enabled\n# TYPE cluster_enabled gauge\n";
  out += "cluster_enabled 0\n";
  const std::vector<std::string> names = c.ListCollections();
  out += "# HELP collections_total number of collections\n# TYPE collections_total gauge\n";
  out += "collections_total " + std::to_string(names.size()) + "\n";
  std::string points, segments, fsyncs, lag, wal_bytes;
  for (const std::string& name : names) {
    Result<std::shared_ptr<engine::Collection>> collection = c.GetCollection(name);
    if (!collection.ok()) {
      continue;
    }
    const engine::CollectionInfo info = (*collection)->Info();
    const std::string label = "{collection=\"" + PromLabel(name) + "\"} ";
    points += "collection_points" + label + std::to_string(info.points_count) + "\n";
    segments += "tessera_segments" + label + std::to_string(info.segments_count) + "\n";
    fsyncs += "tessera_wal_fsyncs_total" + label +
              std::to_string((*collection)->wal().sync_count()) + "\n";
    wal_bytes += "tessera_wal_appended_bytes_total" + label +
                 std::to_string((*collection)->wal().appended_bytes()) + "\n";
    const uint64_t last = (*collection)->wal().last_seq();
    const uint64_t applied = (*collection)->applied_seq();
    lag += "tessera_apply_lag_operations" + label +
           std::to_string(last > applied ? last - applied : 0) + "\n";
  }
  out +=
      "# HELP collection_points approximate number of points per collection\n"
      "# TYPE collection_points gauge\n" +
      points;
  out +=
      "# HELP tessera_segments segments per collection\n# TYPE tessera_segments gauge\n" + segments;
  out +=
      "# HELP tessera_wal_fsyncs_total WAL fdatasync calls since start\n"
      "# TYPE tessera_wal_fsyncs_total counter\n" +
      fsyncs;
  out +=
      "# HELP tessera_wal_appended_bytes_total WAL bytes appended since start\n"
      "# TYPE tessera_wal_appended_bytes_total counter\n" +
      wal_bytes;
  out +=
      "# HELP tessera_apply_lag_operations acknowledged operations not yet applied\n"
      "# TYPE tessera_apply_lag_operations gauge\n" +
      lag;
  metrics_.Render(&out);
  co_return Reply{http::status::ok, std::move(out), "text/plain; version=0.0.4"};
}

asio::awaitable<Reply> Api::Telemetry(Request& r, engine::Catalog& c) {
  // Nothing is ever sent anywhere: this only answers the request.
  const std::time_t started = std::chrono::system_clock::to_time_t(started_);
  std::tm tm{};
  gmtime_r(&started, &tm);
  char startup[32];
  std::strftime(startup, sizeof(startup), "%Y-%m-%dT%H:%M:%SZ", &tm);
  json::object app{{"name", "tessera"}, {"version", TESSERA_API_VERSION}, {"startup", startup}};
  json::object collections{{"number_of_collections", c.ListCollections().size()}};
  co_return JsonResult(json::object{{"id", "tessera-" + std::to_string(started)},
                                    {"app", std::move(app)},
                                    {"collections", std::move(collections)}},
                       r.start);
}

asio::awaitable<Reply> Api::ListCollections(Request& r, engine::Catalog& c) {
  json::array collections;
  for (const std::string& name : c.ListCollections()) {
    collections.push_back(json::object{{"name", name}});
  }
  co_return JsonResult(json::object{{"collections", std::move(collections)}}, r.start);
}

asio::awaitable<Reply> Api::GetCollection(Request& r, engine::Catalog& c) {
  Result<std::shared_ptr<engine::Collection>> collection =
      c.GetCollection(r.Param("collection_name"));
  if (!collection.ok()) {
    co_return StatusReply(collection.status(), r.start);
  }
  co_return JsonResult(CollectionInfoToJson((*collection)->Info()), r.start);
}

Reply Api::CreateCollectionBlocking(const Request& r, engine::Catalog& c) {
  const std::string& name = r.Param("collection_name");
  if (Status valid = engine::ValidateCollectionName(name); !valid.ok()) {
    return JsonError(
        http::status::unprocessable_entity,
        "Validation error in path parameters: [collection_name: " + valid.message() + "]", r.start);
  }
  Result<json::value> body = Body(r);
  if (!body.ok()) {
    return StatusReply(body.status(), r.start);
  }
  Result<engine::CollectionConfig> config =
      ParseCreateCollection(*body, options_.collection_defaults);
  if (!config.ok()) {
    return StatusReply(config.status(), r.start);
  }
  if (Status s = c.CreateCollection(name, std::move(config).value()); !s.ok()) {
    return StatusReply(s, r.start);
  }
  return JsonResult(true, r.start);
}

// Runs on the blocking pool: the change fsyncs files (and a delete waits for the collection's
// threads), which must not hold an I/O thread.
asio::awaitable<Reply> Api::CreateCollection(Request& r, engine::Catalog& c) {
  return RunBlocking([this, &r, &c] { return CreateCollectionBlocking(r, c); });
}


Reply Api::UpdateCollectionBlocking(const Request& r, engine::Catalog& c) {
  Result<json::value> body = Body(r);
  if (!body.ok()) {
    return StatusReply(body.status(), r.start);
  }
  Result<engine::CollectionUpdate> update = ParseUpdateCollection(*body);
  if (!update.ok()) {
    return StatusReply(update.status(), r.start);
  }
  if (Status s = c.UpdateCollection(r.Param("collection_name"), *update); !s.ok()) {
    return StatusReply(s, r.start);
  }
  return JsonResult(true, r.start);
}

// Runs on the blocking pool: the change fsyncs files (and a delete waits for the collection's
// threads), which must not hold an I/O thread.
asio::awaitable<Reply> Api::UpdateCollection(Request& r, engine::Catalog& c) {
  return RunBlocking([this, &r, &c] { return UpdateCollectionBlocking(r, c); });
}


Reply Api::DeleteCollectionBlocking(const Request& r, engine::Catalog& c) {
  Result<bool> deleted = c.DeleteCollection(r.Param("collection_name"));
  if (!deleted.ok()) {
    return StatusReply(deleted.status(), r.start);
  }
  return JsonResult(*deleted, r.start);
}

// Runs on the blocking pool: the change fsyncs files (and a delete waits for the collection's
// threads), which must not hold an I/O thread.
asio::awaitable<Reply> Api::DeleteCollection(Request& r, engine::Catalog& c) {
  return RunBlocking([this, &r, &c] { return DeleteCollectionBlocking(r, c); });
}


Reply Api::CreateIndexBlocking(const Request& r, engine::Catalog& c) {
  WriteOptions options;
  if (Status s = ParseWriteOptions(r, &options); !s.ok()) {
    return StatusReply(s, r.start);
  }
  Result<std::shared_ptr<engine::Collection>> collection =
      c.GetCollection(r.Param("collection_name"));
  if (!collection.ok()) {
    return StatusReply(collection.status(), r.start);
  }
  Result<json::value> body = Body(r);
  if (!body.ok()) {
    return StatusReply(body.status(), r.start);
  }
  auto index = ParseCreateIndex(*body);
  if (!index.ok()) {
    return StatusReply(index.status(), r.start);
  }
  if (Status s = (*collection)->CreatePayloadIndex(index->first, index->second); !s.ok()) {
    return StatusReply(s, r.start);
  }
  return JsonResult(
      json::object{{"operation_id", (*collection)->applied_seq()}, {"status", "completed"}},
      r.start);
}

// Runs on the blocking pool: the change fsyncs files (and a delete waits for the collection's
// threads), which must not hold an I/O thread.
asio::awaitable<Reply> Api::CreateIndex(Request& r, engine::Catalog& c) {
  return RunBlocking([this, &r, &c] { return CreateIndexBlocking(r, c); });
}


Reply Api::DeleteIndexBlocking(const Request& r, engine::Catalog& c) {
  Result<std::shared_ptr<engine::Collection>> collection =
      c.GetCollection(r.Param("collection_name"));
  if (!collection.ok()) {
    return StatusReply(collection.status(), r.start);
  }
  if (Status s = CheckKeyPath("field_name", r.Param("field_name")); !s.ok()) {
    return StatusReply(s, r.start);
  }
  if (Status s = (*collection)->DeletePayloadIndex(r.Param("field_name")); !s.ok()) {
    return StatusReply(s, r.start);
  }
  return JsonResult(
      json::object{{"operation_id", (*collection)->applied_seq()}, {"status", "completed"}},
      r.start);
}

// Runs on the blocking pool: the change fsyncs files (and a delete waits for the collection's
// threads), which must not hold an I/O thread.
asio::awaitable<Reply> Api::DeleteIndex(Request& r, engine::Catalog& c) {
  return RunBlocking([this, &r, &c] { return DeleteIndexBlocking(r, c); });
}


asio::awaitable<Reply> Api::CollectionExists(Request& r, engine::Catalog& c) {
  const bool exists = c.CollectionExists(r.Param("collection_name"));
  co_return JsonResult(json::object{{"exists", exists}}, r.start);
}

Reply Api::UpdateAliasesBlocking(const Request& r, engine::Catalog& c) {
  Result<json::value> body = Body(r);
  if (!body.ok()) {
    return StatusReply(body.status(), r.start);
  }
  Result<std::vector<engine::AliasAction>> actions = ParseAliasActions(*body);
  if (!actions.ok()) {
    return StatusReply(actions.status(), r.start);
  }
  if (Status s = c.ChangeAliases(*actions); !s.ok()) {
    return StatusReply(s, r.start);
  }
  return JsonResult(true, r.start);
}

// Runs on the blocking pool: the change fsyncs files (and a delete waits for the collection's
// threads), which must not hold an I/O thread.
asio::awaitable<Reply> Api::UpdateAliases(Request& r, engine::Catalog& c) {
  return RunBlocking([this, &r, &c] { return UpdateAliasesBlocking(r, c); });
}


namespace {
json::value AliasesToJson(const std::vector<engine::AliasDescription>& aliases) {
  json::array out;
  for (const auto& a : aliases) {
    out.push_back(
        json::object{{"alias_name", a.alias_name}, {"collection_name", a.collection_name}});
  }
  return json::object{{"aliases", std::move(out)}};
}
}  // namespace

asio::awaitable<Reply> Api::ListAliases(Request& r, engine::Catalog& c) {
  co_return JsonResult(AliasesToJson(c.ListAliases()), r.start);
}

asio::awaitable<Reply> Api::ListCollectionAliases(Request& r, engine::Catalog& c) {
  Result<std::vector<engine::AliasDescription>> aliases = c.ListAliases(r.Param("collection_name"));
  if (!aliases.ok()) {
    co_return StatusReply(aliases.status(), r.start);
  }
  co_return JsonResult(AliasesToJson(*aliases), r.start);
}

}  // namespace tessera::api

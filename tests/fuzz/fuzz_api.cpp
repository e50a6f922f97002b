// Fuzz target: every request decoder, through the real route table. An input is
//   route:u8 flags:u8 body...
// `route` picks a (method, path) of the points, collections and aliases API (below), `flags`
// picks the collection (one unnamed Cosine vector, or named dense, multivector and sparse ones)
// and the query string
// (wait / ordering / timeout). The body goes to Api::Dispatch as it would from a socket.
//
// Oracle: no crash or sanitizer report, never a 5xx, and every reply is JSON in Qdrant's shape
// (errors carry status.error). Every body also goes to the upsert text decoder: what it decodes
// must be what the DOM path (ParseJsonBody + ParseUpsert) decodes. Both collections hold a few
// points with payloads, so searches, filters and recommendations touch real data; writes change
// them as a client's would.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include "api/json_util.h"
#include "api/options.h"
#include "api/points_codec.h"
#include "api/routes.h"
#include "common/logging.h"
#include "engine/catalog.h"

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tessera::api::Reply;

struct Route {
  http::verb method;
  const char* path;  // after /collections/<name>; "" for the collection itself
  bool collection_scoped = true;
};

constexpr Route kRoutes[] = {
    {http::verb::put, "/points"},
    {http::verb::post, "/points/delete"},
    {http::verb::post, "/points/payload"},
    {http::verb::put, "/points/payload"},
    {http::verb::post, "/points/payload/delete"},
    {http::verb::post, "/points/payload/clear"},
    {http::verb::put, "/points/vectors"},
    {http::verb::post, "/points/vectors/delete"},
    {http::verb::post, "/points/batch"},
    {http::verb::post, "/points"},
    {http::verb::post, "/points/scroll"},
    {http::verb::post, "/points/count"},
    {http::verb::post, "/points/query"},
    {http::verb::post, "/points/query/batch"},
    {http::verb::post, "/points/query/groups"},
    {http::verb::post, "/points/search"},
    {http::verb::post, "/points/search/batch"},
    {http::verb::post, "/points/recommend"},
    {http::verb::post, "/points/recommend/batch"},
    {http::verb::patch, ""},
    {http::verb::put, "/index"},
    {http::verb::post, "/collections/aliases", false},
    {http::verb::put, "/collections/fuzz_new", false},  // a create; dropped again at once
};
constexpr size_t kRouteCount = sizeof(kRoutes) / sizeof(kRoutes[0]);

constexpr const char* kQueries[] = {"",
                                    "?wait=true",
                                    "?wait=false",
                                    "?wait=true&ordering=strong",
                                    "?ordering=medium&timeout=1",
                                    "?wait=maybe&ordering=sideways"};
constexpr size_t kQueryCount = sizeof(kQueries) / sizeof(kQueries[0]);

class Fixture {
 public:
  Fixture() : dir_(MakeDir()), api_(Options(dir_)) {
    tessera::SetLogLevel(tessera::LogLevel::kError);
    auto opened = tessera::engine::Catalog::Open(dir_ / "storage", {});
    if (!opened.ok()) {
      std::fprintf(stderr, "fuzz_api: %s\n", opened.status().ToString().c_str());
      std::abort();
    }
    catalog_ = std::move(opened).value();
    api_.SetCatalog(catalog_.get());
  }
  ~Fixture() {
    api_.SetCatalog(nullptr);
    catalog_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  Reply Send(http::verb method, const std::string& target, std::string body) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    req.prepare_payload();
    asio::io_context ioc;
    Reply reply;
    asio::co_spawn(ioc, api_.Dispatch(req), [&](std::exception_ptr e, Reply r) {
      if (e) {
        std::fprintf(stderr, "fuzz_api: Dispatch threw\n");
        std::abort();
      }
      reply = std::move(r);
    });
    ioc.run();
    return reply;
  }

  // Sends a fixture request, which must succeed.
  void Setup(http::verb method, const std::string& target, std::string body) {
    const Reply reply = Send(method, target, std::move(body));
    if (reply.status != http::status::ok) {
      std::fprintf(stderr, "fuzz_api: setup %s: %s\n", target.c_str(), reply.body.c_str());
      std::abort();
    }
  }

  // The two collections, created (with a few points) if a previous input removed them.
  void EnsureCollections() {
    if (!catalog_->GetCollection("plain").ok()) {
      Setup(http::verb::put, "/collections/plain",
            R"({"vectors":{"size":4,"distance":"Cosine"},"hnsw_config":{"m":4,"ef_construct":8,
               "full_scan_threshold":10},"optimizers_config":{"indexing_threshold":1}})");
      Setup(
          http::verb::put, "/collections/plain/points?wait=true",
          R"({"points":[{"id":1,"vector":[1,0,0,0],"payload":{"k":"a","n":1,"t":"2024-01-01T00:00:00Z",
               "g":{"lat":52.5,"lon":13.4},"arr":[{"x":1},{"x":2}]}},
               {"id":"6f1c2a8e-7b3d-4c5e-9f00-112233445566","vector":[0,1,0,0],"payload":{"k":"b","n":2.5}},
               {"id":3,"vector":[0.5,0.5,0,0]}]})");
    }
    if (!catalog_->GetCollection("named").ok()) {
      Setup(
          http::verb::put, "/collections/named",
          R"({"vectors":{"img":{"size":3,"distance":"Euclid"},"txt":{"size":2,"distance":"Dot"},
              "mv":{"size":2,"distance":"Cosine","multivector_config":{"comparator":"max_sim"}}},
              "sparse_vectors":{"sp":{},"idf":{"modifier":"idf"}}})");
      Setup(http::verb::put, "/collections/named/points?wait=true",
            R"({"points":[{"id":1,"vector":{"img":[1,2,3],"txt":[1,0],"sp":{"indices":[1,5],
               "values":[0.5,1]},"mv":[[1,0],[0,1]]},"payload":{"k":"a"}},
               {"id":2,"vector":{"img":[3,2,1],"idf":{"indices":[5],"values":[2]}},
               "payload":{"k":["a","b"]}}]})");
    }
  }

  void DropCreated() {
    if (catalog_->GetCollection("fuzz_new").ok()) {
      Send(http::verb::delete_, "/collections/fuzz_new", "");
    }
  }

 private:
  static std::filesystem::path MakeDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tessera-fuzz-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::abort();
    }
    return tmpl;
  }
  static tessera::api::ServerOptions Options(const std::filesystem::path& dir) {
    tessera::api::ServerOptions options;
    options.storage_path = dir / "storage";
    options.snapshots_path = dir / "snapshots";
    options.threads = 1;
    return options;
  }

  const std::filesystem::path dir_;
  tessera::api::Api api_;
  std::unique_ptr<tessera::engine::Catalog> catalog_;
};

void CheckReply(const Reply& reply, const Route& route) {
  const int status = static_cast<int>(reply.status);
  if (status >= 500) {
    std::fprintf(stderr, "fuzz_api: %d from %s: %s\n", status, route.path, reply.body.c_str());
    std::abort();
  }
  boost::system::error_code ec;
  const boost::json::value parsed = boost::json::parse(reply.body, ec);
  if (ec || !parsed.is_object()) {
    std::fprintf(stderr, "fuzz_api: reply is not a JSON object: %s\n", reply.body.c_str());
    std::abort();
  }
  if (status >= 400) {
    const auto* s = parsed.as_object().if_contains("status");
    if (s == nullptr || !s->is_object() || !s->as_object().contains("error")) {
      std::fprintf(stderr, "fuzz_api: error without status.error: %s\n", reply.body.c_str());
      std::abort();
    }
  }
}

void CheckUpsertText(std::string_view body) {
  const std::optional<tessera::engine::UpsertOp> text = tessera::api::ParseUpsertText(body);
  if (!text) {
    return;
  }
  auto dom = tessera::api::ParseJsonBody(body);
  if (!dom.ok()) {
    std::fprintf(stderr, "fuzz_api: text decoder took a body the DOM path refuses\n");
    std::abort();
  }
  auto op = tessera::api::ParseUpsert(*dom);
  if (!op.ok() || !(*op == *text)) {
    std::fprintf(stderr, "fuzz_api: text decoder and DOM path disagree\n");
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture instance;  // lives for the process; its temp storage is removed at exit
  Fixture* fixture = &instance;
  if (size < 2) {
    return 0;
  }
  const Route& route = kRoutes[data[0] % kRouteCount];
  const char* collection = (data[1] & 1) != 0 ? "named" : "plain";
  const char* query = kQueries[(data[1] >> 1) % kQueryCount];
  std::string target = route.collection_scoped
                           ? std::string("/collections/") + collection + route.path + query
                           : std::string(route.path) + query;
  CheckUpsertText(std::string_view(reinterpret_cast<const char*>(data) + 2, size - 2));
  fixture->EnsureCollections();
  const Reply reply = fixture->Send(route.method, target,
                                    std::string(reinterpret_cast<const char*>(data) + 2, size - 2));
  CheckReply(reply, route);
  if (std::getenv("FUZZ_VERBOSE") != nullptr) {  // what each input reached, for seed upkeep
    std::fprintf(stderr, "%d %s %s\n", static_cast<int>(reply.status), target.c_str(),
                 reply.body.substr(0, 160).c_str());
  }
  fixture->DropCreated();
  return 0;
}

#pragma once

// The HTTP API: the route table and its handlers. Turns a Beast request into a Request,
// enforces auth from each route's Access level, dispatches, and catches anything thrown
// (-> 500). Until SetCatalog() is called (storage still loading) every route that needs
// storage answers 503, and so does /readyz.

#include <atomic>
#include <chrono>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "api/metrics.h"
#include "api/options.h"
#include "api/reply.h"
#include "api/router.h"
#include "engine/catalog.h"

namespace tessera::api {

namespace asio = boost::asio;

class Api {
 public:
  explicit Api(const ServerOptions& options);

  // `catalog` must outlive every request; call once, after storage has loaded.
  void SetCatalog(engine::Catalog* catalog) { catalog_.store(catalog); }

  asio::awaitable<Reply> Dispatch(const http::request<http::string_body>& raw);
  const Router& router() const { return router_; }

  // `wait`, `ordering` and `timeout` of a write request.
  struct WriteOptions {
    bool wait = true;  // absent: true (DESIGN.md)
    engine::Durability durability = engine::Durability::kWritten;
    std::optional<std::chrono::seconds> timeout;
  };
  static Status ParseWriteOptions(const Request& r, WriteOptions* out);

 private:
  void HideServerPaths(std::string* body) const;

  void AddRoutes();
  // Returns an error reply when the request's key does not grant `access`.
  std::optional<Reply> CheckAccess(const http::request<http::string_body>& raw, Access access,
                                   Clock::time_point start) const;
  // The catalog, or nullptr when storage is still loading.
  engine::Catalog* catalog() const { return catalog_.load(); }

  using StorageHandler = asio::awaitable<Reply> (Api::*)(Request&, engine::Catalog&);
  asio::awaitable<Reply> Root(Request& r);
  asio::awaitable<Reply> Metrics(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> Telemetry(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> ListCollections(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> GetCollection(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> CreateCollection(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> UpdateCollection(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> DeleteCollection(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> CollectionExists(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> CreateIndex(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> DeleteIndex(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> UpdateAliases(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> ListAliases(Request& r, engine::Catalog& c);
  // What the changes above run on the blocking pool.
  Reply CreateCollectionBlocking(const Request& r, engine::Catalog& c);
  Reply UpdateCollectionBlocking(const Request& r, engine::Catalog& c);
  Reply DeleteCollectionBlocking(const Request& r, engine::Catalog& c);
  Reply CreateIndexBlocking(const Request& r, engine::Catalog& c);
  Reply DeleteIndexBlocking(const Request& r, engine::Catalog& c);
  Reply UpdateAliasesBlocking(const Request& r, engine::Catalog& c);
  asio::awaitable<Reply> ListCollectionAliases(Request& r, engine::Catalog& c);

  // Snapshots, optimizations and the dashboard (ops_routes.cpp).
  std::filesystem::path SnapshotDir(const std::string& collection) const;
  // The snapshot file a request names ({collection_name}, {snapshot_name}), or NotFound.
  Result<std::filesystem::path> ExistingSnapshot(const Request& r, engine::Catalog& c) const;
  asio::awaitable<Reply> CreateSnapshot(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> ListSnapshots(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> GetSnapshot(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> DeleteSnapshot(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> RecoverSnapshot(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> UploadSnapshot(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> Optimizations(Request& r, engine::Catalog& c);
  Reply CreateSnapshotBlocking(const Request& r, engine::Catalog& c);
  Reply RecoverSnapshotBlocking(const Request& r, engine::Catalog& c);
  Reply UploadSnapshotBlocking(const Request& r, engine::Catalog& c);
  asio::awaitable<Reply> Dashboard(Request& r);

  // One write operation of the batch vocabulary ("upsert", "set_payload", ...) from its own route.
  asio::awaitable<Reply> WriteOne(Request& r, engine::Catalog& c, std::string_view kind);
  asio::awaitable<Reply> BatchUpdate(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> RetrievePoints(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> GetPoint(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> ScrollPoints(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> CountPoints(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> Facet(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> SearchMatrix(Request& r, engine::Catalog& c, bool offsets);
  asio::awaitable<Reply> QueryPoints(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> QueryBatch(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> QueryGroups(Request& r, engine::Catalog& c);
  // The 1.18 routes: /points/search and /points/recommend, single or batch.
  asio::awaitable<Reply> LegacySearch(Request& r, engine::Catalog& c, bool recommend, bool batch);

  // Submits `ops` and replies with an UpdateResult once `options` are met. Runs on the
  // blocking pool: fsync and apply waits never hold an I/O thread.
  asio::awaitable<Reply> Write(const Request& r, std::shared_ptr<engine::Collection> collection,
                               engine::OperationList ops, const WriteOptions& options);

  // Runs `fn` (which may block) on the blocking pool and resumes on the caller's executor.
  // Not itself a coroutine: GCC 12 mishandles moves of coroutine parameters into lambda
  // captures (a use-after-free found by ASan), so values are moved here, in plain functions.
  template <typename Fn>
  asio::awaitable<Reply> RunBlocking(Fn fn) {
    return asio::co_spawn(blocking_pool_, CallBlocking(std::move(fn)), asio::use_awaitable);
  }
  // A coroutine taking `fn` by value keeps it in its own frame. (A capturing lambda coroutine
  // would not: its captures live in a closure that co_spawn may destroy first.)
  template <typename Fn>
  static asio::awaitable<Reply> CallBlocking(Fn fn) {
    co_return fn();
  }

  const ServerOptions options_;
  Router router_;
  std::atomic<engine::Catalog*> catalog_{nullptr};
  RequestMetrics metrics_;
  const std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
  // Threads that may block on group-commit fsyncs and apply waits; many, so that concurrent
  // writers share fsyncs.
  asio::thread_pool blocking_pool_{64};
};

}  // namespace tessera::api

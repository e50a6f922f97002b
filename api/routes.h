#pragma once

// The HTTP API: the route table and its handlers. Turns a Beast request into a Request,
// enforces auth from each route's Access level, dispatches, and catches anything thrown
// (-> 500). Until SetCatalog() is called (storage still loading) every route that needs
// storage answers 503, and so does /readyz.

#include <atomic>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

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

 private:
  void AddRoutes();
  // Returns an error reply when the request's key does not grant `access`.
  std::optional<Reply> CheckAccess(const http::request<http::string_body>& raw, Access access,
                                   Clock::time_point start) const;
  // The catalog, or nullptr when storage is still loading.
  engine::Catalog* catalog() const { return catalog_.load(); }

  using StorageHandler = asio::awaitable<Reply> (Api::*)(Request&, engine::Catalog&);
  asio::awaitable<Reply> Root(Request& r);
  asio::awaitable<Reply> ListCollections(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> GetCollection(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> CreateCollection(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> UpdateCollection(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> DeleteCollection(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> CollectionExists(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> UpdateAliases(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> ListAliases(Request& r, engine::Catalog& c);
  asio::awaitable<Reply> ListCollectionAliases(Request& r, engine::Catalog& c);

  const ServerOptions options_;
  Router router_;
  std::atomic<engine::Catalog*> catalog_{nullptr};
};

}  // namespace tessera::api

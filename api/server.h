#pragma once

// The HTTP/1.1 server on Boost.Beast: one acceptor, a pool of I/O threads, one coroutine per
// connection on its own strand, keep-alive, a request body cap. Stop() ends it gracefully: no
// new connections, idle ones closed, in-flight requests answered, then Run() returns.

#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "api/options.h"
#include "api/routes.h"
#include "common/status.h"

namespace tessera::api {

class Server {
 public:
  // Binds and listens; fails if the address is taken. `api` must outlive the server.
  static Result<std::unique_ptr<Server>> Create(const ServerOptions& options, Api& api);
  ~Server();

  uint16_t port() const { return port_; }
  // Serves on options.threads threads until Stop(); returns after the last connection closed.
  void Run();
  // Thread-safe, idempotent.
  void Stop();

  struct Connection;

 private:
  Server(const ServerOptions& options, Api& api);
  boost::asio::awaitable<void> Accept();
  boost::asio::awaitable<void> Serve(std::shared_ptr<Connection> connection);

  const ServerOptions options_;
  Api& api_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::mutex mu_;
  bool stopping_ = false;                              // guarded by mu_
  std::set<std::shared_ptr<Connection>> connections_;  // guarded by mu_
};

}  // namespace tessera::api

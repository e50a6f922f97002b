#pragma once

// The HTTP/1.1 server on Boost.Beast: one acceptor, one io_context per I/O thread, one coroutine
// per connection pinned to one of them (round robin), keep-alive, a request body cap. Pinning
// keeps a request on the thread that read it: no cross-thread wake-ups between the socket
// read, the handler and the reply (on 2 cores that hand-off cost as much as the search). Stop()
// ends it gracefully: no new connections, idle ones closed, in-flight requests answered, then Run()
// returns.

#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
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
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> iocs_;  // one per I/O thread
  std::vector<WorkGuard> work_;  // keeps idle threads running until Stop(); guarded by mu_
  size_t next_ioc_ = 0;          // round robin; touched only by Accept()
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::mutex mu_;
  bool stopping_ = false;                              // guarded by mu_
  std::set<std::shared_ptr<Connection>> connections_;  // guarded by mu_
};

}  // namespace tessera::api

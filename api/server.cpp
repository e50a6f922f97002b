#include "api/server.h"

#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "common/logging.h"

namespace tessera::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// How long a keep-alive connection may sit idle, or take to send one request.
constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr size_t kHeaderLimitBytes = 64 * 1024;

struct Server::Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  bool busy = false;  // a request is being handled; touched only on the connection's strand
};

Server::Server(const ServerOptions& options, Api& api)
    : options_(options), api_(api), acceptor_(ioc_) {}

Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::Create(const ServerOptions& options, Api& api) {
  std::unique_ptr<Server> server(new Server(options, api));
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options.host, ec);
  if (ec) {
    return Status::InvalidArgument("bad host address `" + options.host + "`: " + ec.message());
  }
  const tcp::endpoint endpoint(address, options.http_port);
  tcp::acceptor& acceptor = server->acceptor_;
  if (acceptor.open(endpoint.protocol(), ec);
      !ec && (acceptor.set_option(asio::socket_base::reuse_address(true), ec), !ec) &&
      (acceptor.bind(endpoint, ec), !ec) &&
      (acceptor.listen(asio::socket_base::max_listen_connections, ec), !ec)) {
    server->port_ = acceptor.local_endpoint().port();
    return server;
  }
  return Status::Unavailable("cannot listen on " + options.host + ":" +
                             std::to_string(options.http_port) + ": " + ec.message());
}

void Server::Run() {
  asio::co_spawn(acceptor_.get_executor(), Accept(), asio::detached);
  std::vector<std::jthread> threads;
  for (unsigned i = 1; i < options_.threads; ++i) {
    threads.emplace_back([this] { ioc_.run(); });
  }
  ioc_.run();
}

void Server::Stop() {
  std::set<std::shared_ptr<Connection>> connections;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      return;
    }
    stopping_ = true;
    connections = connections_;
  }
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  // Idle connections are closed; busy ones finish their request, then see stopping_.
  for (const auto& c : connections) {
    asio::post(c->stream.get_executor(), [c] {
      if (!c->busy) {
        boost::system::error_code ignored;
        c->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        c->stream.cancel();
      }
    });
  }
}

asio::awaitable<void> Server::Accept() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
        co_return;
      }
      TESSERA_LOG(kWarn) << "accept: " << ec.message();
      continue;
    }
    auto connection = std::make_shared<Connection>(std::move(socket));
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        continue;
      }
      connections_.insert(connection);
    }
    asio::co_spawn(connection->stream.get_executor(), Serve(connection), asio::detached);
  }
}

namespace {
// After refusing a request whose body we did not read, let the client finish sending it (up
// to a bounded time and size) so that closing does not reset the connection before the client
// has read our reply.
asio::awaitable<void> DrainAndClose(beast::tcp_stream& stream) {
  constexpr auto kDrainTime = std::chrono::seconds(5);
  constexpr size_t kDrainBytes = 256u << 20;
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_after(kDrainTime);
  std::vector<char> sink(64 * 1024);
  size_t drained = 0;
  while (drained < kDrainBytes) {
    auto [read_ec, n] = co_await stream.async_read_some(asio::buffer(sink), use_tuple);
    if (read_ec) {
      break;
    }
    drained += n;
  }
}
}  // namespace

asio::awaitable<void> Server::Serve(std::shared_ptr<Connection> connection) {
  beast::tcp_stream& stream = connection->stream;
  beast::flat_buffer buffer;
  const uint64_t body_limit = options_.max_request_size_mb * 1024 * 1024;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(body_limit);
    parser.header_limit(kHeaderLimitBytes);
    stream.expires_after(kIdleTimeout);
    auto [ec, bytes] = co_await http::async_read(stream, buffer, parser, use_tuple);
    (void)bytes;
    if (ec) {
      if (ec == http::error::body_limit) {
        // Qdrant answers an oversized body with 400 before reading it.
        Reply reply = JsonError(http::status::bad_request,
                                "Payload error: JSON payload is larger than allowed (limit: " +
                                    std::to_string(body_limit) + " bytes)",
                                Clock::now());
        http::response<http::string_body> res{reply.status, 11};
        res.set(http::field::content_type, reply.content_type);
        res.keep_alive(false);
        res.body() = std::move(reply.body);
        res.prepare_payload();
        co_await http::async_write(stream, res, use_tuple);
        co_await DrainAndClose(stream);
        break;
      } else if (ec == http::error::header_limit || ec == http::error::bad_target ||
                 ec == http::error::bad_method || ec == http::error::bad_version) {
        http::response<http::string_body> res{http::status::bad_request, 11};
        res.keep_alive(false);
        res.set(http::field::content_type, "application/json");
        res.body() =
            JsonError(http::status::bad_request, "Bad request: " + ec.message(), Clock::now()).body;
        res.prepare_payload();
        co_await http::async_write(stream, res, use_tuple);
      }
      break;  // end of stream, timeout, cancellation or a malformed request
    }
    connection->busy = true;
    http::request<http::string_body> req = parser.release();
    Reply reply = co_await api_.Dispatch(req);
    TESSERA_LOG(kDebug) << req.method_string() << " " << req.target() << " -> "
                        << static_cast<int>(reply.status);

    bool stopping;
    {
      std::lock_guard lock(mu_);
      stopping = stopping_;
    }
    http::response<http::string_body> res{reply.status, req.version()};
    res.set(http::field::server, "tessera");
    res.set(http::field::content_type, reply.content_type);
    res.keep_alive(req.keep_alive() && !stopping);
    res.body() = std::move(reply.body);
    res.prepare_payload();
    stream.expires_after(kIdleTimeout);
    auto [write_ec, written] = co_await http::async_write(stream, res, use_tuple);
    (void)written;
    connection->busy = false;
    if (write_ec || !res.keep_alive()) {
      break;
    }
    {
      std::lock_guard lock(mu_);  // Stop() may have skipped us while we were busy
      if (stopping_) {
        break;
      }
    }
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.close();
  std::lock_guard lock(mu_);
  connections_.erase(connection);
}

}  // namespace tessera::api

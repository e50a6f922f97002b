#include "api/server.h"

#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/file_body.hpp>
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

// How long a keep-alive connection may wait for a request's first byte; then how long the
// request may take to send its header, and its body. A client that trickles bytes (slowloris)
// is cut off at these deadlines; waiting costs a coroutine, never an I/O thread.
constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr auto kHeaderTimeout = std::chrono::seconds(10);
constexpr auto kBodyTimeout = std::chrono::seconds(60);
constexpr size_t kHeaderLimitBytes = 64 * 1024;

struct Server::Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  bool busy = false;  // a request is being handled; touched only on the connection's thread
};

namespace {
std::vector<std::unique_ptr<asio::io_context>> MakeContexts(unsigned threads) {
  std::vector<std::unique_ptr<asio::io_context>> iocs;
  for (unsigned i = 0; i < std::max(threads, 1u); ++i) {
    iocs.push_back(std::make_unique<asio::io_context>(1));  // one thread runs each
  }
  return iocs;
}
}  // namespace

Server::Server(const ServerOptions& options, Api& api)
    : options_(options), api_(api), iocs_(MakeContexts(options.threads)), acceptor_(*iocs_[0]) {
  for (auto& ioc : iocs_) {
    work_.emplace_back(ioc->get_executor());
  }
}

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
  for (size_t i = 1; i < iocs_.size(); ++i) {
    threads.emplace_back([this, i] { iocs_[i]->run(); });
  }
  iocs_[0]->run();
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
    work_.clear();  // each thread returns once its connections are done
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
    asio::io_context& ioc = *iocs_[next_ioc_++ % iocs_.size()];
    auto [ec, socket] = co_await acceptor_.async_accept(ioc, use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
        co_return;
      }
      TESSERA_LOG(kWarn) << "accept: " << ec.message();
      continue;
    }
    boost::system::error_code nodelay_ec;  // replies go out at once, not after a delayed ACK
    socket.set_option(tcp::no_delay(true), nodelay_ec);
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

namespace {
// Snapshot uploads may exceed max_request_size_mb (as in Qdrant): up to this many bytes, and
// with more time to arrive.
constexpr uint64_t kUploadLimitBytes = uint64_t{4} << 30;
constexpr auto kUploadTimeout = std::chrono::minutes(30);

bool IsUpload(const http::request_parser<http::string_body>& parser) {
  const std::string_view target = parser.get().target();
  const std::string_view path = target.substr(0, target.find('?'));
  return parser.get().method() == http::verb::post && path.ends_with("/snapshots/upload");
}

// A request Beast's parser refused for its syntax or framing (bad or repeated Content-Length,
// Content-Length beside chunked, a bad chunk, a header line without a colon, a NUL in a
// field, an oversized header, a bad method, target or version), as opposed to a client that
// went away mid-message or a timeout.
bool IsMalformedRequest(const boost::system::error_code& ec) {
  if (ec.category() != make_error_code(http::error::bad_method).category()) {
    return false;
  }
  switch (static_cast<http::error>(ec.value())) {
    case http::error::end_of_stream:
    case http::error::partial_message:
    case http::error::need_more:
    case http::error::need_buffer:
    case http::error::end_of_chunk:
    case http::error::short_read:
    case http::error::stale_parser:
    case http::error::body_limit:  // answered on its own, above
      return false;
    default:
      return true;
  }
}

void AddCorsHeaders(http::fields& fields) {
  fields.set(http::field::access_control_allow_origin, "*");
  fields.set(http::field::access_control_allow_methods, "GET, POST, PUT, PATCH, DELETE, OPTIONS");
  fields.set(http::field::access_control_allow_headers, "*");
}
}  // namespace

asio::awaitable<void> Server::Serve(std::shared_ptr<Connection> connection) {
  beast::tcp_stream& stream = connection->stream;
  beast::flat_buffer buffer;
  for (;;) {
    uint64_t body_limit = options_.max_request_size_mb * 1024 * 1024;
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimitBytes);
    // Beast checks a Content-Length against body_limit as soon as the header is parsed, before
    // we know the route: allow the largest, then apply the route's own limit here.
    parser.body_limit(std::max(body_limit, kUploadLimitBytes));
    stream.expires_after(kIdleTimeout);
    if (buffer.size() == 0) {  // (a pipelined request may be buffered already)
      auto [first_ec, n] = co_await stream.async_read_some(buffer.prepare(16 * 1024), use_tuple);
      if (first_ec) {
        break;  // idle timeout, the client closed, or a stop
      }
      buffer.commit(n);
    }
    stream.expires_after(kHeaderTimeout);
    auto [ec, bytes] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    (void)bytes;
    if (!ec) {
      stream.expires_after(kBodyTimeout);
      if (IsUpload(parser)) {
        body_limit = std::max(body_limit, kUploadLimitBytes);
        stream.expires_after(kUploadTimeout);
      }
      if (parser.content_length() && *parser.content_length() > body_limit) {
        ec = http::error::body_limit;
      } else {
        parser.body_limit(body_limit);  // still applies to a chunked body
        std::tie(ec, bytes) = co_await http::async_read(stream, buffer, parser, use_tuple);
      }
    }
    if (ec) {
      if (ec == http::error::body_limit) {
        // Qdrant answers an oversized body with 400 before reading it.
        Reply reply = JsonError(http::status::bad_request,
                                "Payload error: JSON payload is larger than allowed (limit: " +
                                    std::to_string(body_limit) + " bytes)",
                                Clock::now());
        http::response<http::string_body> res{reply.status, 11};
        res.set(http::field::content_type, reply.content_type);
        if (options_.enable_cors) {
          AddCorsHeaders(res);
        }
        res.keep_alive(false);
        res.body() = std::move(reply.body);
        res.prepare_payload();
        co_await http::async_write(stream, res, use_tuple);
        co_await DrainAndClose(stream);
        break;
      } else if (IsMalformedRequest(ec)) {
        // RFC 9112: a message whose framing cannot be read is answered 400 and the connection
        // closed, since where the next request would start is unknown.
        http::response<http::string_body> res{http::status::bad_request, 11};
        res.keep_alive(false);
        res.set(http::field::content_type, "application/json");
        if (options_.enable_cors) {
          AddCorsHeaders(res);
        }
        res.body() =
            JsonError(http::status::bad_request, "Bad request: " + ec.message(), Clock::now()).body;
        res.prepare_payload();
        co_await http::async_write(stream, res, use_tuple);
        co_await DrainAndClose(stream);
      }
      break;  // end of stream, timeout, cancellation or a malformed request
    }
    connection->busy = true;
    const auto request_start = Clock::now();
    http::request<http::string_body> req = parser.release();
    Reply reply;
    if (req.method() == http::verb::options && options_.enable_cors) {
      reply = Reply{http::status::ok, "", "text/plain"};  // a CORS preflight
    } else {
      reply = co_await api_.Dispatch(req);
    }
    // The access log: one line per request, at debug level.
    boost::system::error_code peer_ec;
    TESSERA_LOG(kDebug)
        << "access " << stream.socket().remote_endpoint(peer_ec) << " " << req.method_string()
        << " " << req.target() << " -> " << static_cast<int>(reply.status) << " "
        << std::chrono::duration<double, std::milli>(Clock::now() - request_start).count() << " ms";

    bool stopping;
    {
      std::lock_guard lock(mu_);
      stopping = stopping_;
    }
    const bool keep_alive = req.keep_alive() && !stopping;
    // Headers every response carries.
    auto decorate = [&](http::fields& fields) {
      fields.set(http::field::server, "tessera");
      fields.set(http::field::content_type, reply.content_type);
      if (options_.enable_cors) {
        AddCorsHeaders(fields);
      }
    };
    boost::system::error_code write_ec;
    stream.expires_after(kIdleTimeout);
    if (reply.file) {
      http::response<http::file_body> res{reply.status, req.version()};
      decorate(res);
      res.keep_alive(keep_alive);
      res.body().open(reply.file->c_str(), beast::file_mode::scan, write_ec);
      if (!write_ec) {
        stream.expires_after(kUploadTimeout);
        res.prepare_payload();
        std::tie(write_ec, bytes) = co_await http::async_write(stream, res, use_tuple);
      } else {
        TESSERA_LOG(kWarn) << "cannot open " << *reply.file << ": " << write_ec.message();
      }
    } else {
      http::response<http::string_body> res{reply.status, req.version()};
      decorate(res);
      res.keep_alive(keep_alive);
      res.body() = std::move(reply.body);
      res.prepare_payload();
      std::tie(write_ec, bytes) = co_await http::async_write(stream, res, use_tuple);
    }
    connection->busy = false;
    if (write_ec || !keep_alive) {
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

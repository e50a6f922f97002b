#pragma once

// The HTTP side of the benchmark clients (http_bench, filter_bench): one keep-alive connection
// to the server on 127.0.0.1, requests written and read in turn, and vectors encoded as JSON
// arrays with the shortest round-trip float text.

#include <charconv>
#include <cstdint>
#include <string>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace bench {

class Client {
 public:
  explicit Client(uint16_t port) : socket_(io_) {
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    socket_.set_option(boost::asio::ip::tcp::no_delay(true));
  }
  // Returns the status and the body; throws on a transport error.
  std::pair<int, std::string> Send(boost::beast::http::verb method, const std::string& target,
                                   std::string body = {}) {
    namespace http = boost::beast::http;
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.keep_alive(true);
    req.body() = std::move(body);
    req.prepare_payload();
    http::write(socket_, req);
    http::response<http::string_body> res;
    http::read(socket_, buffer_, res);
    return {res.result_int(), std::move(res.body())};
  }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

inline void AppendVector(std::string* out, const float* v, size_t dim) {
  char buf[32];
  *out += '[';
  for (size_t i = 0; i < dim; ++i) {
    if (i > 0)
      *out += ',';
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v[i]);
    out->append(buf, end);
  }
  *out += ']';
}

}  // namespace bench

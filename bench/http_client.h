#pragma once

// The HTTP side of the benchmark clients (http_bench, filter_bench): one keep-alive connection
// to the server on 127.0.0.1, requests written and read in turn, vectors encoded as JSON
// arrays with the shortest round-trip float text, and the parallel upload.

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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

// Upserts rows 0..n-1 of `rows` (dim floats each) as points 0..n-1 into collection `bench`
// with wait=false, in batches of `batch` from `uploaders` connections; `extra(j, &request)`
// may append more fields to point j's object (a payload). Exits the process on a refusal.
template <typename Extra>
void Upload(uint16_t port, const float* rows, uint32_t n, size_t dim, uint32_t batch,
            int uploaders, Extra extra) {
  std::atomic<uint32_t> next{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < uploaders; ++t) {
    workers.emplace_back([&] {
      Client client(port);
      std::string request;
      for (uint32_t i = next.fetch_add(batch); i < n; i = next.fetch_add(batch)) {
        request = "{\"points\":[";
        for (uint32_t j = i; j < std::min(n, i + batch); ++j) {
          if (j > i)
            request += ',';
          request += "{\"id\":" + std::to_string(j) + ",\"vector\":";
          AppendVector(&request, rows + size_t{j} * dim, dim);
          extra(j, &request);
          request += '}';
        }
        request += "]}";
        auto [code, reply] = client.Send(boost::beast::http::verb::put,
                                         "/collections/bench/points?wait=false",
                                         std::move(request));
        if (code != 200) {
          std::fprintf(stderr, "upsert: %s\n", reply.c_str());
          std::exit(1);
        }
      }
    });
  }
  for (auto& w : workers)
    w.join();
}

}  // namespace bench

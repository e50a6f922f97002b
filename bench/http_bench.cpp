// Tessera over HTTP, as a client measures it:
//   http_bench NAME PORT SERVER_PID BASE QUERIES GT M EFC EF,EF,... BATCH UPLOADERS CLIENTS [LAYOUT]
// Creates collection `bench` (Euclid, m, ef_construct; LAYOUT `default`, the default: every
// other setting as a user's create leaves it, so the optimizers choose the segments, reported
// as system `tessera-http`; `one-segment`: indexing_threshold sized so that the points form
// one indexed segment, reported as `tessera-http-1seg`), uploads BATCH points per request from UPLOADERS keep-alive
// connections with wait=false, reports points/s and the time until the collection is green
// with every point counted; the server's resident memory after load; then for each ef,
// single-query /points/query requests from 1 and from CLIENTS connections, and
// /points/query/batch requests of 100 queries from one connection: QPS, p50/p99 latency per
// request, recall@10 (each the fastest of bench::Rounds() passes; connections are opened before
// the clock starts). One JSON line per measurement.

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "bench/bench_data.h"
#include "bench/http_client.h"

namespace {

using bench::AppendVector;
using bench::Client;
namespace http = boost::beast::http;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

std::string QueryBody(const bench::Matrix& q, uint32_t i, int ef) {
  std::string body = "{\"query\":";
  AppendVector(&body, q.row(i), q.dim);
  body += ",\"limit\":10,\"params\":{\"hnsw_ef\":" + std::to_string(ef) + "}}";
  return body;
}

std::vector<int64_t> IdsOf(const json::value& points) {
  std::vector<int64_t> ids;
  for (const auto& p : points.as_array())
    ids.push_back(p.at("id").to_number<int64_t>());
  return ids;
}

void Fail(const std::string& what) {
  std::fprintf(stderr, "http_bench: %s\n", what.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 13 && argc != 14) {
    std::fprintf(stderr,
                 "usage: http_bench NAME PORT SERVER_PID BASE QUERIES GT M EFC EF,EF,... BATCH "
                 "UPLOADERS CLIENTS [default|one-segment]\n");
    return 2;
  }
  const char* name = argv[1];
  const auto port = static_cast<uint16_t>(std::atoi(argv[2]));
  const int pid = std::atoi(argv[3]);
  const bench::Matrix base = bench::ReadFbin(argv[4]);
  const bench::Matrix queries = bench::ReadFbin(argv[5]);
  const bench::GroundTruth gt = bench::ReadIbin(argv[6]);
  const int m = std::atoi(argv[7]);
  const int efc = std::atoi(argv[8]);
  const std::vector<int> efs = bench::ParseList(argv[9]);
  const uint32_t batch = static_cast<uint32_t>(std::atoi(argv[10]));
  const int uploaders = std::atoi(argv[11]);
  const int clients = std::atoi(argv[12]);

  Client admin(port);
  const uint64_t rss_empty = bench::RssBytes(pid);
  const uint64_t threshold_kb = uint64_t{base.n} * base.dim * sizeof(float) / 1024;
  const std::string layout = argc == 14 ? argv[13] : "default";
  if (layout != "default" && layout != "one-segment")
    Fail("layout: default or one-segment");
  const bool one_segment = layout == "one-segment";
  const char* system = one_segment ? "tessera-http-1seg" : "tessera-http";
  const std::string create =
      "{\"vectors\":{\"size\":" + std::to_string(base.dim) +
      ",\"distance\":\"Euclid\"},\"hnsw_config\":{\"m\":" + std::to_string(m) +
      ",\"ef_construct\":" + std::to_string(efc) + "}" +
      (one_segment ? ",\"optimizers_config\":{\"indexing_threshold\":" +
                         std::to_string(threshold_kb) + "}"
                   : std::string()) +
      "}";

  // Upload and index Rounds() times, each into a fresh collection: the fastest round is
  // reported (as for every system), the last one is searched, memory is the first round's.
  double indexed = 0, uploaded = 0;
  uint64_t rss_loaded = 0, points = 0, segments = 0;
  for (int round = 0; round < bench::Rounds(); ++round) {
    admin.Send(http::verb::delete_, "/collections/bench");
    auto [status, body] = admin.Send(http::verb::put, "/collections/bench", create);
    if (status != 200)
      Fail("create collection: " + body);
    const auto start = Clock::now();
    bench::Upload(port, base.row(0), base.n, base.dim, batch, uploaders,
                  [](uint32_t, std::string*) {});
    const double upload_seconds = bench::Seconds(start);
    for (;;) {
      auto [code, reply] = admin.Send(http::verb::get, "/collections/bench");
      if (code != 200)
        Fail("collection info: " + reply);
      const json::value info = json::parse(reply).at("result");
      points = info.at("points_count").to_number<uint64_t>();
      segments = info.at("segments_count").to_number<uint64_t>();
      if (info.at("status").as_string() == "green" && points == base.n)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const double seconds = bench::Seconds(start);
    // Memory and searches as a user meets them: once the first periodic flush after green
    // (5 s interval) has written the new segment, not during its transient.
    if (round == 0 || round + 1 == bench::Rounds()) {
      std::this_thread::sleep_for(std::chrono::seconds(6));
    }
    if (round == 0) {
      rss_loaded = bench::RssBytes(pid);
    }
    if (round == 0 || seconds < indexed) {
      indexed = seconds;
      uploaded = upload_seconds;
    }
  }
  std::printf(
      "{\"kind\":\"build\",\"dataset\":\"%s\",\"system\":\"%s\",\"seconds\":%.3f,"
      "\"upload_seconds\":%.3f,\"points_per_s\":%.0f,\"batch\":%u,\"uploaders\":%d,"
      "\"rss_empty\":%llu,\"rss_loaded\":%llu,\"points\":%llu,\"segments\":%llu,\"rounds\":%d}\n",
      name, system, indexed, uploaded, base.n / uploaded, batch, uploaders,
      static_cast<unsigned long long>(rss_empty), static_cast<unsigned long long>(rss_loaded),
      static_cast<unsigned long long>(points), static_cast<unsigned long long>(segments),
      bench::Rounds());
  std::fflush(stdout);

  for (int ef : efs) {
    std::vector<std::string> bodies(queries.n);
    for (uint32_t q = 0; q < queries.n; ++q)
      bodies[q] = QueryBody(queries, q, ef);
    for (int conns : {1, clients}) {
      const bench::Pass pass = bench::Fastest([&] {
        bench::Pass p{0, std::vector<double>(queries.n),
                      std::vector<std::vector<int64_t>>(queries.n)};
        std::atomic<uint32_t> next_query{0};
        std::vector<std::unique_ptr<Client>> connections;
        for (int c = 0; c < conns; ++c)
          connections.push_back(std::make_unique<Client>(port));
        const auto t0 = Clock::now();
        std::vector<std::thread> threads;
        for (int c = 0; c < conns; ++c) {
          threads.emplace_back([&, c] {
            Client& client = *connections[c];
            for (uint32_t q = next_query++; q < queries.n; q = next_query++) {
              const auto t = Clock::now();
              auto [code, reply] =
                  client.Send(http::verb::post, "/collections/bench/points/query", bodies[q]);
              p.latencies_us[q] = bench::Seconds(t) * 1e6;
              if (code != 200)
                Fail("query: " + reply);
              p.results[q] = IdsOf(json::parse(reply).at("result").at("points"));
            }
          });
        }
        for (auto& t : threads)
          t.join();
        p.seconds = bench::Seconds(t0);
        return p;
      });
      bench::PrintSearch(name, system,
                         "single, " + std::to_string(conns) + (conns == 1 ? " client" : " clients"),
                         ef, queries.n, pass, gt);
    }
    {  // batch requests of 100 queries, one connection
      constexpr uint32_t kPerRequest = 100;
      Client client(port);
      const bench::Pass pass = bench::Fastest([&] {
        bench::Pass p{0, {}, std::vector<std::vector<int64_t>>(queries.n)};
        const auto t0 = Clock::now();
        for (uint32_t q = 0; q < queries.n; q += kPerRequest) {
          std::string request = "{\"searches\":[";
          for (uint32_t i = q; i < std::min(queries.n, q + kPerRequest); ++i) {
            if (i > q)
              request += ',';
            request += bodies[i];
          }
          request += "]}";
          const auto t = Clock::now();
          auto [code, reply] = client.Send(
              http::verb::post, "/collections/bench/points/query/batch", std::move(request));
          p.latencies_us.push_back(bench::Seconds(t) * 1e6);
          if (code != 200)
            Fail("query batch: " + reply);
          const json::value parsed = json::parse(reply);
          const auto& answers = parsed.at("result").as_array();
          for (size_t i = 0; i < answers.size(); ++i)
            p.results[q + i] = IdsOf(answers[i].at("points"));
        }
        p.seconds = bench::Seconds(t0);
        return p;
      });
      bench::PrintSearch(name, system,
                         "batch of " + std::to_string(kPerRequest) + ", 1 client", ef, queries.n,
                         pass, gt);
    }
  }
  return 0;
}

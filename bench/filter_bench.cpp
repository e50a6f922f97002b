// Filtered search, count and scroll over HTTP, as a client measures them (#17's benchmark):
//   filter_bench NAME PORT SERVER_PID BASE QUERIES GT EF,EF,... BATCH UPLOADERS
// Creates collection `bench` at the default config (Euclid; every other setting as a user's
// create leaves it), uploads the base rows with a payload drawn from each point's id
//   n: integer 0..999, k: keyword "k0".."k49", r: integer 0..99, t: text "w<0..299> alpha beta"
// (each from its own bits of a 64-bit mix of the id, so they are independent of each other and
// of the vectors), waits for green, then creates the payload indexes (n, r integer; k keyword;
// t text, word tokenizer) one at a time with wait=true, each timed with the first filtered count
// on its field, and the server's resident memory before and after. Then for each filter of the
// table below and each ef: single-query /points/query requests with that filter from one
// connection (the fastest of bench::Rounds() passes), recall@10 against exact search over the
// points the filter matches (computed here); exact count and filtered scroll requests/s, each
// answer checked against the payload drawn here. One JSON line per measurement.
// For experiments: FILTER_BENCH_REUSE=1 keeps a collection `bench` that already holds every
// point (no upload, no index build, no build lines), FILTER_BENCH_ONLY=TEXT runs only the
// filters whose label contains TEXT.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

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

void Fail(const std::string& what) {
  std::fprintf(stderr, "filter_bench: %s\n", what.c_str());
  std::exit(1);
}

uint64_t Mix(uint64_t x) {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

struct Fields {
  int n, k, r, t;
};

Fields FieldsOf(uint32_t id) {
  const uint64_t h = Mix(id);
  return {static_cast<int>(h % 1000), static_cast<int>((h >> 16) % 50),
          static_cast<int>((h >> 32) % 100), static_cast<int>((h >> 48) % 300)};
}

std::string PayloadOf(const Fields& f) {
  return "{\"n\":" + std::to_string(f.n) + ",\"k\":\"k" + std::to_string(f.k) +
         "\",\"r\":" + std::to_string(f.r) + ",\"t\":\"w" + std::to_string(f.t) + " alpha beta\"}";
}

struct Filter {
  std::string label;  // as reported
  std::string json;   // the request's filter; empty: none
  std::function<bool(const Fields&)> match;
};

std::vector<Filter> Filters() {
  return {
      {"none", "", [](const Fields&) { return true; }},
      {"integer match n = 7", R"({"must":[{"key":"n","match":{"value":7}}]})",
       [](const Fields& f) { return f.n == 7; }},
      {"keyword match k = k3", R"({"must":[{"key":"k","match":{"value":"k3"}}]})",
       [](const Fields& f) { return f.k == 3; }},
      {"integer range 0 <= r < 10", R"({"must":[{"key":"r","range":{"gte":0,"lt":10}}]})",
       [](const Fields& f) { return f.r < 10; }},
      {"integer range r < 50", R"({"must":[{"key":"r","range":{"lt":50}}]})",
       [](const Fields& f) { return f.r < 50; }},
      {"text match t: w7", R"({"must":[{"key":"t","match":{"text":"w7"}}]})",
       [](const Fields& f) { return f.t == 7; }},
      {"must k = k3, must_not r < 50",
       R"({"must":[{"key":"k","match":{"value":"k3"}}],"must_not":[{"key":"r","range":{"lt":50}}]})",
       [](const Fields& f) { return f.k == 3 && f.r >= 50; }},
  };
}

// Exact top-10 (squared L2) of each query over the rows in `rows`, on all cores.
bench::GroundTruth ExactOver(const bench::Matrix& base, const bench::Matrix& queries,
                             const std::vector<uint32_t>& rows) {
  constexpr uint32_t kK = 10;
  bench::GroundTruth gt;
  gt.nq = queries.n;
  gt.k = kK;
  gt.ids.assign(size_t{queries.n} * kK, -1);
  std::atomic<uint32_t> next{0};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < std::max(1u, std::thread::hardware_concurrency()); ++t) {
    threads.emplace_back([&] {
      std::vector<std::pair<float, uint32_t>> scored(rows.size());
      for (uint32_t q = next++; q < queries.n; q = next++) {
        const float* qv = queries.row(q);
        for (size_t i = 0; i < rows.size(); ++i) {
          const float* v = base.row(rows[i]);
          float d = 0;
          for (uint32_t j = 0; j < base.dim; ++j) {
            const float x = v[j] - qv[j];
            d += x * x;
          }
          scored[i] = {d, rows[i]};
        }
        const size_t k = std::min<size_t>(kK, scored.size());
        std::partial_sort(scored.begin(), scored.begin() + static_cast<long>(k), scored.end());
        for (size_t i = 0; i < k; ++i)
          gt.ids[size_t{q} * kK + i] = static_cast<int32_t>(scored[i].second);
      }
    });
  }
  for (auto& t : threads)
    t.join();
  return gt;
}

std::vector<int64_t> IdsOf(const json::value& points) {
  std::vector<int64_t> ids;
  for (const auto& p : points.as_array())
    ids.push_back(p.at("id").to_number<int64_t>());
  return ids;
}

// Requests of one body sent back to back from one connection for about `seconds` (at least 20):
// requests/s and the median latency; `check` sees every answer's result.
template <typename Check>
std::pair<double, double> Repeat(uint16_t port, const std::string& target, const std::string& body,
                                 double seconds, Check check) {
  Client client(port);
  std::vector<double> latencies;
  const auto t0 = Clock::now();
  while (latencies.size() < 20 || bench::Seconds(t0) < seconds) {
    const auto t = Clock::now();
    auto [code, reply] = client.Send(http::verb::post, target, body);
    latencies.push_back(bench::Seconds(t) * 1e6);
    if (code != 200)
      Fail(target + ": " + reply);
    if (latencies.size() == 1)
      check(json::parse(reply).at("result"));
  }
  return {static_cast<double>(latencies.size()) / bench::Seconds(t0),
          bench::Percentile(latencies, 0.5)};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 10) {
    std::fprintf(stderr,
                 "usage: filter_bench NAME PORT SERVER_PID BASE QUERIES GT EF,EF,... BATCH "
                 "UPLOADERS\n");
    return 2;
  }
  const std::string name = argv[1];
  const auto port = static_cast<uint16_t>(std::atoi(argv[2]));
  const int pid = std::atoi(argv[3]);
  const bench::Matrix base = bench::ReadFbin(argv[4]);
  const bench::Matrix queries = bench::ReadFbin(argv[5]);
  const bench::GroundTruth all_gt = bench::ReadIbin(argv[6]);
  const std::vector<int> efs = bench::ParseList(argv[7]);
  const uint32_t batch = static_cast<uint32_t>(std::atoi(argv[8]));
  const int uploaders = std::atoi(argv[9]);
  const char* system = "tessera-http";

  Client admin(port);
  const std::vector<Filter> filters = Filters();
  bool reuse = false;
  if (const char* env = std::getenv("FILTER_BENCH_REUSE"); env != nullptr && *env == '1') {
    auto [code, reply] = admin.Send(http::verb::get, "/collections/bench");
    reuse = code == 200 &&
            json::parse(reply).at("result").at("points_count").to_number<uint64_t>() == base.n;
  }
  if (!reuse) {
    const uint64_t rss_empty = bench::RssBytes(pid);
    admin.Send(http::verb::delete_, "/collections/bench");
    {
      auto [status, body] = admin.Send(
          http::verb::put, "/collections/bench",
          "{\"vectors\":{\"size\":" + std::to_string(base.dim) + ",\"distance\":\"Euclid\"}}");
      if (status != 200)
        Fail("create collection: " + body);
    }

    // Upload with payloads, wait=false, then wait for green with every point counted.
    std::atomic<uint64_t> payload_bytes{0};
    const auto start = Clock::now();
    bench::Upload(port, base.row(0), base.n, base.dim, batch, uploaders,
                  [&](uint32_t j, std::string* request) {
                    const std::string payload = PayloadOf(FieldsOf(j));
                    payload_bytes += payload.size();
                    *request += ",\"payload\":" + payload;
                  });
    const double upload_seconds = bench::Seconds(start);
    uint64_t segments = 0;
    for (;;) {
      auto [code, reply] = admin.Send(http::verb::get, "/collections/bench");
      if (code != 200)
        Fail("collection info: " + reply);
      const json::value info = json::parse(reply).at("result");
      segments = info.at("segments_count").to_number<uint64_t>();
      if (info.at("status").as_string() == "green" &&
          info.at("points_count").to_number<uint64_t>() == base.n)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const double green_seconds = bench::Seconds(start);
    std::this_thread::sleep_for(std::chrono::seconds(6));  // the first periodic flush after green
    const uint64_t rss_loaded = bench::RssBytes(pid);
    std::printf(
        "{\"kind\":\"build\",\"dataset\":\"%s\",\"system\":\"%s\",\"seconds\":%.3f,"
        "\"upload_seconds\":%.3f,\"points\":%u,\"segments\":%llu,\"rss_empty\":%llu,"
        "\"rss_loaded\":%llu,\"payload_bytes\":%llu}\n",
        name.c_str(), system, green_seconds, upload_seconds, base.n,
        static_cast<unsigned long long>(segments), static_cast<unsigned long long>(rss_empty),
        static_cast<unsigned long long>(rss_loaded),
        static_cast<unsigned long long>(payload_bytes.load()));
    std::fflush(stdout);

    // The payload indexes, one at a time, each timed to its first answered count.
    struct Index {
      const char* field;
      const char* schema;
      const Filter* probe;
    };
    const Index indexes[] = {
        {"n", R"("integer")", &filters[1]},
        {"k", R"("keyword")", &filters[2]},
        {"r", R"("integer")", &filters[3]},
        {"t", R"({"type":"text","tokenizer":"word"})", &filters[5]},
    };
    for (const Index& index : indexes) {
      const auto t0 = Clock::now();
      auto [code, reply] = admin.Send(http::verb::put, "/collections/bench/index?wait=true",
                                      std::string("{\"field_name\":\"") + index.field +
                                          "\",\"field_schema\":" + index.schema + "}");
      if (code != 200)
        Fail(std::string("create index ") + index.field + ": " + reply);
      auto [ccode, creply] = admin.Send(http::verb::post, "/collections/bench/points/count",
                                        "{\"exact\":true,\"filter\":" + index.probe->json + "}");
      if (ccode != 200)
        Fail("count: " + creply);
      std::printf(
          "{\"kind\":\"index\",\"dataset\":\"%s\",\"system\":\"%s\",\"field\":\"%s\","
          "\"schema\":%s,\"seconds\":%.3f}\n",
          name.c_str(), system, index.field, index.schema, bench::Seconds(t0));
    }
    std::this_thread::sleep_for(std::chrono::seconds(6));
    const uint64_t rss_indexed = bench::RssBytes(pid);
    std::printf(
        "{\"kind\":\"index_memory\",\"dataset\":\"%s\",\"system\":\"%s\",\"rss_before\":%llu,"
        "\"rss_after\":%llu,\"payload_bytes\":%llu}\n",
        name.c_str(), system, static_cast<unsigned long long>(rss_loaded),
        static_cast<unsigned long long>(rss_indexed),
        static_cast<unsigned long long>(payload_bytes.load()));
    std::fflush(stdout);
  }

  const char* only = std::getenv("FILTER_BENCH_ONLY");
  std::vector<Fields> fields(base.n);
  for (uint32_t i = 0; i < base.n; ++i)
    fields[i] = FieldsOf(i);

  for (const Filter& filter : filters) {
    if (only != nullptr && filter.label.find(only) == std::string::npos) {
      continue;
    }
    std::vector<uint32_t> rows;
    for (uint32_t i = 0; i < base.n; ++i) {
      if (filter.match(fields[i]))
        rows.push_back(i);
    }
    const bench::GroundTruth gt = filter.json.empty() ? all_gt : ExactOver(base, queries, rows);
    std::printf(
        "{\"kind\":\"filter\",\"dataset\":\"%s\",\"label\":\"%s\",\"matches\":%zu,"
        "\"share\":%.5f}\n",
        name.c_str(), filter.label.c_str(), rows.size(), static_cast<double>(rows.size()) / base.n);
    std::fflush(stdout);
    const std::string filter_part = filter.json.empty() ? "" : ",\"filter\":" + filter.json;
    for (int ef : efs) {
      std::vector<std::string> bodies(queries.n);
      for (uint32_t q = 0; q < queries.n; ++q) {
        bodies[q] = "{\"query\":";
        AppendVector(&bodies[q], queries.row(q), queries.dim);
        bodies[q] +=
            filter_part + ",\"limit\":10,\"params\":{\"hnsw_ef\":" + std::to_string(ef) + "}}";
      }
      const bench::Pass pass = bench::Fastest([&] {
        bench::Pass p{0, std::vector<double>(queries.n),
                      std::vector<std::vector<int64_t>>(queries.n)};
        Client client(port);
        const auto t0 = Clock::now();
        for (uint32_t q = 0; q < queries.n; ++q) {
          const auto t = Clock::now();
          auto [code, reply] =
              client.Send(http::verb::post, "/collections/bench/points/query", bodies[q]);
          p.latencies_us[q] = bench::Seconds(t) * 1e6;
          if (code != 200)
            Fail("query: " + reply);
          p.results[q] = IdsOf(json::parse(reply).at("result").at("points"));
          for (int64_t id : p.results[q]) {
            if (!filter.match(fields[static_cast<size_t>(id)]))
              Fail("query with filter " + filter.label + " returned " + std::to_string(id));
          }
        }
        p.seconds = bench::Seconds(t0);
        return p;
      });
      bench::PrintSearch(name, system, filter.label, ef, queries.n, pass, gt);
    }
    if (filter.json.empty())
      continue;
    const auto [count_rps, count_p50] = Repeat(
        port, "/collections/bench/points/count", "{\"exact\":true,\"filter\":" + filter.json + "}",
        2.0, [&](const json::value& result) {
          const auto count = result.at("count").to_number<uint64_t>();
          if (count != rows.size())
            Fail("count of " + filter.label + ": " + std::to_string(count) + ", expected " +
                 std::to_string(rows.size()));
        });
    const auto [scroll_rps, scroll_p50] = Repeat(
        port, "/collections/bench/points/scroll",
        "{\"limit\":10,\"with_payload\":false,\"filter\":" + filter.json + "}", 2.0,
        [&](const json::value& result) {
          const std::vector<int64_t> ids = IdsOf(result.at("points"));
          // scroll lists the matching points in id order: the first ten rows
          const std::vector<int64_t> want(
              rows.begin(), rows.begin() + std::min<long>(10, static_cast<long>(rows.size())));
          if (ids != want)
            Fail("scroll of " + filter.label + " is not the first matching ids");
        });
    std::printf(
        "{\"kind\":\"count\",\"dataset\":\"%s\",\"system\":\"%s\",\"label\":\"%s\","
        "\"count_rps\":%.1f,\"count_p50_us\":%.1f,\"scroll_rps\":%.1f,"
        "\"scroll_p50_us\":%.1f}\n",
        name.c_str(), system, filter.label.c_str(), count_rps, count_p50, scroll_rps, scroll_p50);
    std::fflush(stdout);
  }
  return 0;
}

#pragma once

// Per-route request counters and latency histograms for `GET /metrics`, in Prometheus text
// format under Qdrant's names (rest_responses_total, rest_responses_duration_seconds).
// Thread-safe.

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/lock_order.h"

namespace tessera::api {

class RequestMetrics {
 public:
  // `endpoint` is the route pattern ("/collections/{collection_name}"), not the raw path.
  void Record(std::string_view method, std::string_view endpoint, int status, double seconds);
  // Appends the rest_* families to `out`.
  void Render(std::string* out) const;

  static constexpr double kBuckets[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5};

 private:
  struct Route {
    std::map<int, uint64_t> by_status;
    std::vector<uint64_t> buckets = std::vector<uint64_t>(std::size(kBuckets), 0);
    uint64_t count = 0;
    double sum = 0;
  };
  mutable RankedMutex mu_{LockRank::kLeaf, "RequestMetrics::mu_"};
  std::map<std::pair<std::string, std::string>, Route> routes_;  // guarded by mu_
};

// Escapes a Prometheus label value (backslash, quote, newline).
std::string PromLabel(std::string_view value);

}  // namespace tessera::api

#include "api/metrics.h"

#include <cstdio>

namespace tessera::api {

std::string PromLabel(std::string_view value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void RequestMetrics::Record(std::string_view method, std::string_view endpoint, int status,
                            double seconds) {
  std::lock_guard lock(mu_);
  Route& r = routes_[{std::string(method), std::string(endpoint)}];
  ++r.by_status[status];
  ++r.count;
  r.sum += seconds;
  for (size_t i = 0; i < std::size(kBuckets); ++i) {
    if (seconds <= kBuckets[i]) {
      ++r.buckets[i];
    }
  }
}

void RequestMetrics::Render(std::string* out) const {
  std::lock_guard lock(mu_);
  char number[64];
  *out += "# HELP rest_responses_total total number of responses\n";
  *out += "# TYPE rest_responses_total counter\n";
  for (const auto& [key, r] : routes_) {
    for (const auto& [status, n] : r.by_status) {
      *out += "rest_responses_total{method=\"" + PromLabel(key.first) + "\",endpoint=\"" +
              PromLabel(key.second) + "\",status=\"" + std::to_string(status) + "\"} " +
              std::to_string(n) + "\n";
    }
  }
  *out += "# HELP rest_responses_duration_seconds response duration histogram\n";
  *out += "# TYPE rest_responses_duration_seconds histogram\n";
  for (const auto& [key, r] : routes_) {
    const std::string labels =
        "method=\"" + PromLabel(key.first) + "\",endpoint=\"" + PromLabel(key.second) + "\"";
    for (size_t i = 0; i < std::size(kBuckets); ++i) {
      std::snprintf(number, sizeof(number), "%g", kBuckets[i]);
      *out += "rest_responses_duration_seconds_bucket{" + labels + ",le=\"" + number + "\"} " +
              std::to_string(r.buckets[i]) + "\n";
    }
    *out += "rest_responses_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
            std::to_string(r.count) + "\n";
    std::snprintf(number, sizeof(number), "%.9g", r.sum);
    *out += "rest_responses_duration_seconds_sum{" + labels + "} " + number + "\n";
    *out +=
        "rest_responses_duration_seconds_count{" + labels + "} " + std::to_string(r.count) + "\n";
  }
}

}  // namespace tessera::api

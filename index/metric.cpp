#include "index/metric.h"

#include <cmath>

namespace tessera::index {

namespace {

// Sixteen independent partial sums: with -O3 and the machine's instruction set the compiler
// turns each step into one or two SIMD multiply-adds (a single running sum could not be
// vectorised without reordering float additions). The order is fixed, so results are exact
// functions of the inputs.
constexpr size_t kLanes = 16;

template <typename Term>
float Reduce(const float* a, const float* b, size_t dim, Term term) {
  float lanes[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= dim; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) {
      lanes[j] += term(a[i + j], b[i + j]);
    }
  }
  float tail = 0;
  for (; i < dim; ++i) {
    tail += term(a[i], b[i]);
  }
  float sum = 0;
  for (size_t j = 0; j < kLanes; ++j) {
    sum += lanes[j];
  }
  return sum + tail;
}

float DotDistance(const float* a, const float* b, size_t dim) {
  return 1.0f - Reduce(a, b, dim, [](float x, float y) { return x * y; });
}
float L2Distance(const float* a, const float* b, size_t dim) {
  return Reduce(a, b, dim, [](float x, float y) { return (x - y) * (x - y); });
}
float L1Distance(const float* a, const float* b, size_t dim) {
  return Reduce(a, b, dim, [](float x, float y) { return std::fabs(x - y); });
}

}  // namespace

DistanceFn DistanceFunction(Metric metric) {
  switch (metric) {
    case Metric::kCosine:
    case Metric::kDot:
      return DotDistance;
    case Metric::kEuclid:
      return L2Distance;
    case Metric::kManhattan:
      return L1Distance;
  }
  return L2Distance;
}

float Distance(Metric metric, const float* a, const float* b, size_t dim) {
  return DistanceFunction(metric)(a, b, dim);
}

float ScoreFromDistance(Metric metric, float distance) {
  switch (metric) {
    case Metric::kCosine:
    case Metric::kDot:
      return 1.0f - distance;
    case Metric::kEuclid:
      return std::sqrt(std::max(0.0f, distance));
    case Metric::kManhattan:
      return distance;
  }
  return distance;
}

}  // namespace tessera::index

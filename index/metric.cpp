#include "index/metric.h"

#include <cmath>

#include <faiss/utils/distances.h>

namespace tessera::index {

float Distance(Metric metric, const float* a, const float* b, size_t dim) {
  switch (metric) {
    case Metric::kCosine:
    case Metric::kDot:
      return 1.0f - faiss::fvec_inner_product(a, b, dim);
    case Metric::kEuclid:
      return faiss::fvec_L2sqr(a, b, dim);
    case Metric::kManhattan:
      return faiss::fvec_L1(a, b, dim);
  }
  return 0;
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

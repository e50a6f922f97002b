#include "index/exact_search.h"

namespace tessera::index {

std::vector<Hit> ExactSearch(Metric metric, std::span<const float> matrix, size_t dim,
                             std::span<const float> query, size_t k, const AcceptFn& accept) {
  if (dim == 0) {
    return {};
  }
  return ExactSearchRows(
      metric, matrix.size() / dim, dim, query, k, accept,
      [&](size_t i) { return matrix.data() + i * dim; },
      [](size_t i) { return static_cast<Offset>(i); });
}

}  // namespace tessera::index

#include "index/exact_search.h"

#include <algorithm>
#include <queue>

namespace tessera::index {

namespace {
struct Closer {
  bool operator()(const Hit& a, const Hit& b) const {
    return a.distance < b.distance || (a.distance == b.distance && a.offset < b.offset);
  }
};
}  // namespace

std::vector<Hit> ExactSearch(Metric metric, std::span<const float> matrix, size_t dim,
                             std::span<const float> query, size_t k, const AcceptFn& accept) {
  std::vector<Hit> out;
  if (k == 0 || dim == 0) {
    return out;
  }
  const size_t rows = matrix.size() / dim;
  // Max-heap of the best k so far: top() is the worst kept hit.
  std::priority_queue<Hit, std::vector<Hit>, Closer> best;
  for (size_t row = 0; row < rows; ++row) {
    const auto offset = static_cast<Offset>(row);
    if (accept && !accept(offset)) {
      continue;
    }
    const Hit hit{offset, Distance(metric, query.data(), matrix.data() + row * dim, dim)};
    if (best.size() < k) {
      best.push(hit);
    } else if (Closer()(hit, best.top())) {
      best.pop();
      best.push(hit);
    }
  }
  out.resize(best.size());
  for (size_t i = out.size(); i-- > 0;) {
    out[i] = best.top();
    best.pop();
  }
  return out;
}

}  // namespace tessera::index

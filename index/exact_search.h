#pragma once

// Exact (brute-force) k-nearest search over a dense row-major matrix, with a predicate that
// decides which rows may be returned. The path for small segments and selective filters.

#include <algorithm>
#include <functional>
#include <queue>
#include <span>
#include <vector>

#include "index/metric.h"

namespace tessera::index {

// `accept(offset)` false means the row is skipped (deleted, filtered out, no vector).
using AcceptFn = std::function<bool(Offset)>;

// Closer first, ties by offset: the order every search returns.
inline bool CloserHit(const Hit& a, const Hit& b) {
  return a.distance < b.distance || (a.distance == b.distance && a.offset < b.offset);
}

// The k closest of `hits`, closest first, ties by offset.
inline std::vector<Hit> BestHits(std::vector<Hit> hits, size_t k) {
  if (hits.size() > k) {
    std::nth_element(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(k), hits.end(),
                     CloserHit);
    hits.resize(k);
  }
  std::sort(hits.begin(), hits.end(), CloserHit);
  return hits;
}

// The k rows of `matrix` (rows of `dim` floats) closest to `query`, closest first; ties by
// offset. `accept` may be empty (every row).
std::vector<Hit> ExactSearch(Metric metric, std::span<const float> matrix, size_t dim,
                             std::span<const float> query, size_t k, const AcceptFn& accept);

// The same over `rows` rows stored anywhere: row i is `row(i)` (dim floats) and is known as
// `offset_of(i)`. Serves a matrix and a graph's own copy of its vectors alike.
template <typename RowFn, typename OffsetFn>
std::vector<Hit> ExactSearchRows(Metric metric, size_t rows, size_t dim,
                                 std::span<const float> query, size_t k, const AcceptFn& accept,
                                 RowFn row, OffsetFn offset_of) {
  auto closer = [](const Hit& a, const Hit& b) {
    return a.distance < b.distance || (a.distance == b.distance && a.offset < b.offset);
  };
  std::vector<Hit> out;
  if (k == 0 || dim == 0) {
    return out;
  }
  // Max-heap of the best k so far: top() is the worst kept hit.
  std::priority_queue<Hit, std::vector<Hit>, decltype(closer)> best(closer);
  // Rows a few ahead are prefetched whole: among a filter's scattered candidates the hardware
  // prefetcher cannot guess the next row, and overlapping the reads is most of the speed.
  constexpr size_t kAhead = 4;
  const size_t row_bytes = dim * sizeof(float);
  auto prefetch = [&](size_t i) {
    const char* p = reinterpret_cast<const char*>(row(i));
    for (size_t b = 0; b < row_bytes; b += 64) {
      __builtin_prefetch(p + b);
    }
  };
  for (size_t i = 0; i < std::min(kAhead, rows); ++i) {
    prefetch(i);
  }
  for (size_t i = 0; i < rows; ++i) {
    if (i + kAhead < rows) {
      prefetch(i + kAhead);
    }
    const Offset offset = offset_of(i);
    if (accept && !accept(offset)) {
      continue;
    }
    const Hit hit{offset, Distance(metric, query.data(), row(i), dim)};
    if (best.size() < k) {
      best.push(hit);
    } else if (closer(hit, best.top())) {
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

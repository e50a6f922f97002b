#pragma once

// Exact (brute-force) k-nearest search over a dense row-major matrix, with a predicate that
// decides which rows may be returned. The path for small segments and selective filters.

#include <functional>
#include <span>
#include <vector>

#include "index/metric.h"

namespace tessera::index {

// `accept(offset)` false means the row is skipped (deleted, filtered out, no vector).
using AcceptFn = std::function<bool(Offset)>;

// The k rows of `matrix` (rows of `dim` floats) closest to `query`, closest first; ties by
// offset. `accept` may be empty (every row).
std::vector<Hit> ExactSearch(Metric metric, std::span<const float> matrix, size_t dim,
                             std::span<const float> query, size_t k, const AcceptFn& accept);

}  // namespace tessera::index

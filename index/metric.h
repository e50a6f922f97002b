#pragma once

// Distance kernels of the index layer. Every index ranks by a "distance" where lower is
// closer: -dot for Cosine (on unit vectors) and Dot (the similarity negated, so read back
// exactly), squared L2 for Euclid, L1 for Manhattan. ScoreFromDistance turns one into the score Qdrant reports. The kernels are ours,
// built for this machine's SIMD width (Debian's libfaiss.a is not; bench/RESULTS.md).

#include <cstddef>
#include <cstdint>

namespace tessera::index {

enum class Metric : uint8_t { kCosine, kDot, kEuclid, kManhattan };

// Offset of a vector inside one segment.
using Offset = uint32_t;

struct Hit {
  Offset offset;
  float distance;  // lower is closer
  bool operator==(const Hit&) const = default;
};

float Distance(Metric metric, const float* a, const float* b, size_t dim);

// The kernel Distance runs for `metric`, for loops that call it many times (no switch per
// call). Same results as Distance.
using DistanceFn = float (*)(const float* a, const float* b, size_t dim);
DistanceFn DistanceFunction(Metric metric);

// Cosine/Dot: similarity (higher is better); Euclid: L2 distance; Manhattan: L1 distance.
float ScoreFromDistance(Metric metric, float distance);

// Qdrant's similarity of two vectors, higher closer: the dot product for Dot and Cosine, the
// negated squared L2 distance for Euclid, the negated L1 distance for Manhattan (the same
// kernels as Distance). MaxSim sums these (multi_dense_storage.h).
float Similarity(Metric metric, const float* a, const float* b, size_t dim);

// True when a higher score is better (Cosine, Dot).
inline bool HigherIsBetter(Metric metric) {
  return metric == Metric::kCosine || metric == Metric::kDot;
}

}  // namespace tessera::index

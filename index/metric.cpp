#include "index/metric.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstdint>
#include <cstring>

namespace tessera::index {

namespace {

// Sixteen-float SIMD vectors (GCC/Clang vector extensions: one AVX-512 register, or four SSE
// ones on a plain x86-64 build). Two running sums, each over every other block of sixteen
// floats, keep two multiply-adds in flight; the sixteen partial sums are then added pairwise,
// as a tree. The order is fixed, so results are exact functions of the inputs.
using V16 = float __attribute__((vector_size(64)));
using V8 = float __attribute__((vector_size(32)));
using V4 = float __attribute__((vector_size(16)));
using V16Bits = uint32_t __attribute__((vector_size(64)));
constexpr size_t kLanes = 16;

inline V16 Load(const float* p) {
  V16 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

inline float Sum(V16 v) {
  const V8 h = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
               __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  const V4 q =
      __builtin_shufflevector(h, h, 0, 1, 2, 3) + __builtin_shufflevector(h, h, 4, 5, 6, 7);
  return (q[0] + q[2]) + (q[1] + q[3]);
}

// `term` maps two blocks (V16) or two floats to the summands.
template <typename Term>
float Reduce(const float* a, const float* b, size_t dim, Term term) {
  V16 even = {}, odd = {};
  size_t i = 0;
  for (; i + 2 * kLanes <= dim; i += 2 * kLanes) {
    even += term(Load(a + i), Load(b + i));
    odd += term(Load(a + i + kLanes), Load(b + i + kLanes));
  }
  if (i + kLanes <= dim) {
    even += term(Load(a + i), Load(b + i));
    i += kLanes;
  }
  float tail = 0;
  for (; i < dim; ++i) {
    tail += term(a[i], b[i]);
  }
  return Sum(even + odd) + tail;
}

// The scalar terms (the tail of a row, all of a vector shorter than a block) round each
// product to float before it is added, as a plain `sum += a * b` without FMA does (Qdrant's
// scalar kernels for vectors under 16 floats). The empty asm makes the rounded product a value
// the compiler must hold, so it cannot fuse it with the addition (-ffp-contract).
inline float Rounded(float p) {
#if defined(__x86_64__) || defined(__i386__)
  __asm__("" : "+x"(p));
#else
  volatile float held = p;
  p = held;
#endif
  return p;
}
struct Product {
  V16 operator()(V16 x, V16 y) const { return x * y; }
  float operator()(float x, float y) const { return Rounded(x * y); }
};
struct Square {
  V16 operator()(V16 x, V16 y) const { return (x - y) * (x - y); }
  float operator()(float x, float y) const { return Rounded((x - y) * (x - y)); }
};
constexpr Product kProduct;
constexpr Square kSquare;
struct AbsDifference {
  V16 operator()(V16 x, V16 y) const {
    return reinterpret_cast<V16>(reinterpret_cast<V16Bits>(x - y) & 0x7fffffffu);
  }
  float operator()(float x, float y) const { return std::fabs(x - y); }
};

}  // namespace

float Similarity(Metric metric, const float* a, const float* b, size_t dim) {
  switch (metric) {
    case Metric::kCosine:
    case Metric::kDot:
      return Reduce(a, b, dim, kProduct);
    case Metric::kEuclid:
      return -Reduce(a, b, dim, kSquare);
    case Metric::kManhattan:
      return -Reduce(a, b, dim, AbsDifference{});
  }
  return 0.0f;
}

namespace {

// The negated dot product: negation is exact, so the score read back is the similarity to the
// last bit (1 - dot would round, e.g. 1.1550001 read back as 1.155).
float DotDistance(const float* a, const float* b, size_t dim) {
  return -Reduce(a, b, dim, kProduct);
}
float L2Distance(const float* a, const float* b, size_t dim) {
  return Reduce(a, b, dim, kSquare);
}
float L1Distance(const float* a, const float* b, size_t dim) {
  return Reduce(a, b, dim, AbsDifference{});
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
  // Finite inputs can still overflow (Dot or squared L2 of components near float max): a
  // score saturates at the largest float, and NaN (huge products of both signs) reads as the
  // worst distance, so that every answer is a JSON number and orders as the distance did.
  constexpr float kMax = std::numeric_limits<float>::max();
  if (std::isnan(distance)) {
    distance = std::numeric_limits<float>::infinity();
  }
  float score = distance;
  switch (metric) {
    case Metric::kCosine:
    case Metric::kDot:
      score = -distance;
      break;
    case Metric::kEuclid:
      score = std::sqrt(std::max(0.0f, distance));
      break;
    case Metric::kManhattan:
      break;
  }
  return std::clamp(score, -kMax, kMax);
}

}  // namespace tessera::index

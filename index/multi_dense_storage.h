#pragma once

// Multivectors by Offset — a segment's storage for one multivector name (Qdrant's
// `multivector_config: {comparator: "max_sim"}`): each offset holds any number of rows of one
// dimension, or nothing. Scored by MaxSim as Qdrant scores it: the sum over the query's rows of
// the best similarity among the point's rows (similarity: the dot product for Dot and Cosine —
// Cosine rows are normalised before they get here — and the negated squared L2 / L1 distance
// for Euclid / Manhattan, with no post-processing, as Qdrant leaves it). Higher is better.
//
// Search here is exact: every accepted point is scored (no graph over multivectors yet).
//
// Thread-safety: none of its own (the segment's lock guards it); const methods from any thread.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/coding.h"
#include "index/exact_search.h"
#include "index/metric.h"

namespace tessera::index {

class MultiDenseStorage {
 public:
  MultiDenseStorage(Metric metric, size_t dim) : metric_(metric), dim_(dim) {}

  Metric metric() const { return metric_; }
  size_t dim() const { return dim_; }
  size_t size() const { return rows_.size(); }  // offsets, with a multivector or not
  bool has(Offset o) const { return o < rows_.size() && rows_[o].present; }
  // The offset's rows, row-major (rows x dim floats); empty if absent.
  std::span<const float> Get(Offset o) const;

  void Reserve(size_t offsets) { rows_.reserve(offsets); }
  void Append() { rows_.emplace_back(); }
  // values.size() is a positive multiple of dim().
  void Set(Offset o, std::span<const float> values);
  void Clear(Offset o) { rows_[o] = Row{}; }

  // MaxSim of `query` (rows of dim floats) with o's rows.
  float Score(std::span<const float> query, Offset o) const;
  // The k best accepted points with a multivector, best first, ties by offset; Hit::distance
  // is the negated score.
  std::vector<Hit> ExactSearch(std::span<const float> query, size_t k,
                               const AcceptFn& accept) const;
  std::vector<Hit> ExactSearchAmong(std::span<const float> query, size_t k,
                                    std::span<const Offset> offsets,
                                    const AcceptFn& accept) const;

  size_t bytes() const;

  // Persistence, n = size(): (present:bool [rows:varint f32[rows*dim]])*n.
  void EncodeTo(std::string* out) const;
  bool DecodeFrom(Decoder* in, size_t n);

 private:
  struct Row {
    bool present = false;
    std::vector<float> values;
  };

  Metric metric_;
  size_t dim_;
  std::vector<Row> rows_;
};

}  // namespace tessera::index

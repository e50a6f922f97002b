#pragma once

// Sparse vectors by Offset — a segment's storage and index for one sparse vector name: each
// offset's vector (indices unique and sorted, with their values) and an inverted index, a
// posting list per dimension of (offset, weight) sorted by offset, kept exact on every change
// (appendable and sealed segments alike: one structure, no rebuild).
//
// Scores are dot products, as Qdrant scores sparse vectors. A search answers the points that
// share a dimension with the query and score non-zero (Qdrant's inverted-index search publishes
// only non-zero scores), highest first, ties by offset. The index search accumulates term at a
// time over the query's posting lists (cost: the lengths of those lists, not the segment's
// size); a search among given offsets (a selective filter's candidates) scores each of them by
// a merge of sorted indices. Both sum in the order of the query's sorted indices, so a point
// scores the same float either way.
//
// Thread-safety: none of its own (the segment's lock guards it); const methods from any
// thread (Search uses per-thread scratch).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/coding.h"
#include "index/exact_search.h"
#include "index/metric.h"

namespace tessera::index {

// A query: indices sorted and unique, values[i] at indices[i].
struct SparseQuery {
  std::span<const uint32_t> indices;
  std::span<const float> values;
};

class SparseVectorIndex {
 public:
  struct View {
    std::span<const uint32_t> indices;  // sorted, unique
    std::span<const float> values;
  };

  size_t size() const { return rows_.size(); }  // offsets, with a vector or not
  size_t count() const { return count_; }        // offsets with a vector
  bool has(Offset o) const { return o < rows_.size() && rows_[o].present; }
  View Get(Offset o) const;

  void Reserve(size_t rows) { rows_.reserve(rows); }
  // Appends an offset without a vector.
  void Append() { rows_.emplace_back(); }
  // Sets o's vector. `indices` unique, in any order (stored sorted); an empty vector is a
  // vector (present, scoring nothing).
  void Set(Offset o, std::span<const uint32_t> indices, std::span<const float> values);
  void Clear(Offset o);

  // The k best accepted points sharing a dimension with `query` and scoring non-zero.
  // Hit::distance is the negated score (lower is closer).
  std::vector<Hit> Search(const SparseQuery& query, size_t k, const AcceptFn& accept) const;
  // The same among `offsets` only (each < size()).
  std::vector<Hit> SearchAmong(const SparseQuery& query, size_t k, std::span<const Offset> offsets,
                               const AcceptFn& accept) const;
  // o's dot product with `query` (0 if o has no vector).
  float Score(Offset o, const SparseQuery& query) const;
  // Whether o shares a dimension with `query`.
  bool Overlaps(Offset o, const SparseQuery& query) const;
  // The accepted offsets whose vector holds dimension `dim` (IDF's document frequency).
  uint64_t DocumentFrequency(uint32_t dim, const AcceptFn& accept) const;

  // Bytes held (allocated), vectors and postings.
  size_t bytes() const;

  // Persistence, n = size() rows: (present:bool [nnz:varint (index:varint value:f32)*nnz])*n.
  void EncodeTo(std::string* out) const;
  // Reads what EncodeTo wrote for `n` rows; false if the bytes do not fit.
  bool DecodeFrom(Decoder* in, size_t n);

 private:
  struct Row {
    bool present = false;
    std::vector<uint32_t> indices;
    std::vector<float> values;
  };
  struct Posting {
    Offset offset;
    float weight;
  };
  void Unpost(Offset o);
  void Post(Offset o);

  std::vector<Row> rows_;
  size_t count_ = 0;
  std::unordered_map<uint32_t, std::vector<Posting>> postings_;  // by dimension, by offset
};

}  // namespace tessera::index

#pragma once

// Dense float32 vectors by Offset: a segment's vector storage for one dense vector name, and
// the scorer (distance computer) an index walks with over it.
//
// Rows are 64-byte aligned and zero-padded to whole lines (16 floats), in one PageArray (huge
// pages once past 2 MiB): a walk reads whole cache lines and the padding adds nothing to any
// metric (the query is padded too). A row may be absent: the point has no vector by this name.
// Storage grows by doubling while a segment is appendable; a sealed segment's never changes, so
// an index built over it reads it in place (one copy of the vectors in memory).
//
// Thread-safety: none of its own (the segment's lock guards it); const methods from any thread.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "index/exact_search.h"
#include "index/metric.h"
#include "index/page_array.h"

namespace tessera::index {

inline constexpr size_t kRowFloats = 16;  // a row is padded to whole 64-byte lines

class DenseStorage {
 public:
  DenseStorage(Metric metric, size_t dim);
  // Rows [0, matrix.size() / dim) of a row-major matrix, every one present.
  static DenseStorage FromMatrix(Metric metric, size_t dim, std::span<const float> matrix);

  Metric metric() const { return metric_; }
  size_t dim() const { return dim_; }
  size_t row_floats() const { return row_; }  // dim rounded up to kRowFloats
  // The floats a distance kernel reads per row: row_floats(), or the dimension itself below
  // one block, so that short vectors add their products one by one as Qdrant does and small
  // collections score to the same bit.
  size_t kernel_floats() const { return dim_ < kRowFloats ? dim_ : row_; }
  size_t size() const { return present_.size(); }  // rows, present or not

  bool has(Offset o) const { return present_[o] != 0; }
  // The row's dim floats, or an empty span if absent.
  std::span<const float> Get(Offset o) const;
  // Row o's padded floats (row_floats() of them), present or not; for scorers.
  const float* row(Offset o) const { return rows_.data() + static_cast<size_t>(o) * row_; }

  // Room for `rows` rows without growing.
  void Reserve(size_t rows);
  // Appends an absent row.
  void Append();
  void Set(Offset o, std::span<const float> values);  // values.size() == dim()
  void Clear(Offset o);

  // The k present, accepted rows closest to `query`, closest first, ties by offset.
  std::vector<Hit> ExactSearch(std::span<const float> query, size_t k,
                               const AcceptFn& accept) const;
  // The same over the given offsets only (each < size()), e.g. a filter's candidates.
  std::vector<Hit> ExactSearchAmong(std::span<const float> query, size_t k,
                                    std::span<const Offset> offsets, const AcceptFn& accept) const;

  // Bytes held (allocated, not just used).
  size_t bytes() const;

  // Persistence: present:bytes[n] data:f32[n*dim] (unpadded, zeros where absent), n = size().
  void EncodeTo(std::string* out) const;
  // Reads what EncodeTo wrote for `n` rows (`present`: n bytes, `data`: n*dim floats).
  // False if the bytes do not fit.
  bool DecodeFrom(size_t n, std::string_view present, std::string_view data);

 private:
  void Grow(size_t rows);

  Metric metric_;
  size_t dim_;
  size_t row_;
  PageArray<float> rows_;  // capacity rows x row_
  size_t capacity_ = 0;    // rows
  std::vector<uint8_t> present_;
};

// Scores rows of a DenseStorage against one query: the distance computer of a walk. A plain
// struct the walk is templated on: no virtual call per distance, one indirect call to the
// metric's kernel as before.
class DenseScorer {
 public:
  DenseScorer(const DenseStorage& storage, std::span<const float> query);
  float operator()(Offset o) const { return distance_(query_, storage_.row(o), row_); }
  // Prefetches the start of row o (its first lines) before its distance is computed.
  void Prefetch(Offset o) const {
    const float* v = storage_.row(o);
    for (size_t line = 0; line < prefetch_lines_; ++line) {
      __builtin_prefetch(v + line * kRowFloats);
    }
  }

 private:
  const DenseStorage& storage_;
  std::vector<float> padded_;  // the query zero-padded to row_floats()
  const float* query_;
  size_t row_;  // the storage's kernel_floats()
  DistanceFn distance_;
  size_t prefetch_lines_;
};

}  // namespace tessera::index

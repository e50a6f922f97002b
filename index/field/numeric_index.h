#pragma once

// A numeric field index of one segment (integer, float, datetime as microseconds): value ->
// offsets, ordered, so that it serves both `match` on a value (Qdrant's `lookup`) and `range`
// (Qdrant's `range`). A point may hold several values; each is indexed. Kept exact on every
// change by its owner, which says what an offset held when it changes it (the payload being
// replaced): the index keeps no offset -> values map, so that it costs little more than its
// bitmaps. NaN is never indexed (no range holds it). No JSON here.
//
// Range blocks: once the index holds many distinct values, the sorted values are also cut into
// contiguous blocks of an eighth to a quarter of the indexed offsets each (at least
// `min_block` offsets), each with the union of its values' offsets. A range takes the blocks it
// covers whole and only the values of the (at most two) blocks it cuts, so a wide range unions
// a few dense bitmaps (bitset containers: an eighth of the offsets of a segment fills every
// 65,536-offset chunk past 4,096) instead of every value's (a 50% range over 100 values: 2 to 4
// blocks and at most one block's values, instead of 50 values). Blocks split as they grow; a
// remove takes the offset out of its values' blocks.
//
// Thread-safety: none of its own (the segment's lock guards it); const methods from any thread.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "index/field/keyword_index.h"

namespace tessera::index {

template <typename T>
struct NumericRange {
  std::optional<T> lower;
  bool lower_inclusive = true;
  std::optional<T> upper;
  bool upper_inclusive = true;
};

template <typename T>
class NumericIndex {
 public:
  static constexpr uint64_t kMinBlock = 4096;  // offsets: below, unions of values are cheap
  static constexpr size_t kBlockValues = 32;   // distinct values before blocks are kept
  explicit NumericIndex(uint64_t min_block = kMinBlock) : min_block_(min_block) {}

  // Indexes `values` for offset `o`, which holds none now (duplicates count once; NaNs are
  // dropped).
  void Add(Offset o, std::span<const T> values);
  // Unindexes offset `o`, which was added with `values`.
  void Remove(Offset o, std::span<const T> values);

  const Postings& Match(T value) const;
  // Offsets holding a value in the range.
  Postings Range(const NumericRange<T>& range) const;
  // Values in the range, counted with multiplicity: an upper bound on Range's cardinality,
  // without building it (for planning).
  uint64_t CountRangeValues(const NumericRange<T>& range) const;
  const Postings& with_values() const { return with_values_; }
  // f(value, offsets) for each value some offset holds, ascending.
  template <typename F>
  void ForEachValue(F&& f) const {
    for (const auto& [value, offsets] : by_value_) {
      f(value, offsets);
    }
  }
  // The same in either order, for as long as f returns true.
  template <typename F>
  void WalkValues(bool descending, F&& f) const {
    if (descending) {
      for (auto it = by_value_.rbegin(); it != by_value_.rend() && f(it->first, it->second); ++it) {
      }
    } else {
      for (auto it = by_value_.begin(); it != by_value_.end() && f(it->first, it->second); ++it) {
      }
    }
  }
  // The smallest value held, if any.
  std::optional<T> min() const;
  size_t blocks() const { return blocks_.size(); }  // range blocks kept (0: none)

 private:
  // [first, last) of by_value_ that the range covers.
  std::pair<typename std::map<T, Postings>::const_iterator,
            typename std::map<T, Postings>::const_iterator>
  Span(const NumericRange<T>& range) const;

  size_t BlockOf(T v) const;
  // The values of block b: [first, last) of by_value_.
  std::pair<typename std::map<T, Postings>::const_iterator,
            typename std::map<T, Postings>::const_iterator>
  BlockValues(size_t b) const;
  void BuildBlocks();
  void SplitIfLarge(size_t b);

  std::map<T, Postings> by_value_;  // only values some offset holds
  Postings with_values_;
  const uint64_t min_block_;
  // Block b holds the offsets of the values in [bounds_[b - 1], bounds_[b]) (open ends at
  // either side); blocks_.size() == bounds_.size() + 1, or both empty when not kept.
  std::vector<T> bounds_;
  std::vector<Postings> blocks_;
};

extern template class NumericIndex<int64_t>;
extern template class NumericIndex<double>;
using IntegerIndex = NumericIndex<int64_t>;
using FloatIndex = NumericIndex<double>;

}  // namespace tessera::index

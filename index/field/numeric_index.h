#pragma once

// A numeric field index of one segment (integer, float, datetime as microseconds): value ->
// offsets, ordered, so that it serves both `match` on a value (Qdrant's `lookup`) and `range`
// (Qdrant's `range`). A point may hold several values; each is indexed. Kept exact on every
// change by its owner, which says what an offset held when it changes it (the payload being
// replaced): the index keeps no offset -> values map, so that it costs little more than its
// bitmaps. NaN is never indexed (no range holds it). No JSON here.
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

 private:
  // [first, last) of by_value_ that the range covers.
  std::pair<typename std::map<T, Postings>::const_iterator,
            typename std::map<T, Postings>::const_iterator>
  Span(const NumericRange<T>& range) const;

  std::map<T, Postings> by_value_;  // only values some offset holds
  Postings with_values_;
};

extern template class NumericIndex<int64_t>;
extern template class NumericIndex<double>;
using IntegerIndex = NumericIndex<int64_t>;
using FloatIndex = NumericIndex<double>;

}  // namespace tessera::index

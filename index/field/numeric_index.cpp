#include "index/field/numeric_index.h"

#include <algorithm>
#include <cmath>

namespace tessera::index {

namespace {
const Postings kNone;

template <typename T>
bool IsNan(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::isnan(v);
  } else {
    return false;
  }
}
}  // namespace

template <typename T>
void NumericIndex<T>::Add(Offset o, std::span<const T> values) {
  bool any = false;
  for (T v : values) {
    if (IsNan(v)) {
      continue;
    }
    const T key = v == T{} ? T{} : v;  // -0.0 and 0.0 are one value; a repeat is a no-op
    by_value_[key].add(o);
    any = true;
    if (!blocks_.empty()) {
      const size_t b = BlockOf(key);
      blocks_[b].add(o);
      SplitIfLarge(b);
    }
  }
  if (any) {
    with_values_.add(o);
  }
  if (blocks_.empty() && by_value_.size() >= kBlockValues) {
    BuildBlocks();
  }
}

template <typename T>
void NumericIndex<T>::Remove(Offset o, std::span<const T> values) {
  for (T v : values) {
    if (IsNan(v)) {
      continue;
    }
    const T key = v == T{} ? T{} : v;
    auto it = by_value_.find(key);
    if (it != by_value_.end()) {
      it->second.remove(o);
      if (it->second.isEmpty()) {
        by_value_.erase(it);
      }
    }
    // The offset held no value but these: it leaves every block one of them is in.
    if (!blocks_.empty()) {
      blocks_[BlockOf(key)].remove(o);
    }
  }
  with_values_.remove(o);
  if (!blocks_.empty() && by_value_.size() < kBlockValues / 2) {
    bounds_.clear();
    blocks_.clear();
  }
}

template <typename T>
size_t NumericIndex<T>::BlockOf(T v) const {
  return static_cast<size_t>(std::upper_bound(bounds_.begin(), bounds_.end(), v) -
                             bounds_.begin());
}

template <typename T>
std::pair<typename std::map<T, Postings>::const_iterator,
          typename std::map<T, Postings>::const_iterator>
NumericIndex<T>::BlockValues(size_t b) const {
  return {b == 0 ? by_value_.begin() : by_value_.lower_bound(bounds_[b - 1]),
          b == bounds_.size() ? by_value_.end() : by_value_.lower_bound(bounds_[b])};
}

// Cuts the values into blocks of about target offsets each, in value order.
template <typename T>
void NumericIndex<T>::BuildBlocks() {
  bounds_.clear();
  blocks_.clear();
  uint64_t total = 0;
  for (const auto& [value, offsets] : by_value_) {
    total += offsets.cardinality();
  }
  const uint64_t target = std::max(min_block_, total / 8);
  std::vector<const Postings*> parts;
  uint64_t size = 0;
  for (const auto& [value, offsets] : by_value_) {
    if (!parts.empty() && size >= target) {
      blocks_.push_back(Postings::fastunion(parts.size(), parts.data()));
      bounds_.push_back(value);
      parts.clear();
      size = 0;
    }
    parts.push_back(&offsets);
    size += offsets.cardinality();
  }
  blocks_.push_back(parts.empty() ? Postings()
                                  : Postings::fastunion(parts.size(), parts.data()));
}

// A block grown past twice the target with two values or more is cut in two where half its
// offsets (counted by value) fall on each side.
template <typename T>
void NumericIndex<T>::SplitIfLarge(size_t b) {
  const uint64_t target = std::max(min_block_, with_values_.cardinality() / 8);
  if (blocks_[b].cardinality() <= 2 * target) {
    return;
  }
  auto [first, last] = BlockValues(b);
  uint64_t total = 0;
  size_t values = 0;
  for (auto it = first; it != last; ++it, ++values) {
    total += it->second.cardinality();
  }
  if (values < 2) {
    return;
  }
  std::vector<const Postings*> low, high;
  uint64_t seen = 0;
  auto cut = first;
  for (; cut != last; ++cut) {
    if (!low.empty() && seen >= total / 2) {
      break;
    }
    low.push_back(&cut->second);
    seen += cut->second.cardinality();
  }
  if (cut == last) {  // the last value holds more than half: cut before it
    --cut;
    low.pop_back();
  }
  for (auto it = cut; it != last; ++it) {
    high.push_back(&it->second);
  }
  const T bound = cut->first;
  Postings lower = Postings::fastunion(low.size(), low.data());
  Postings upper = Postings::fastunion(high.size(), high.data());
  blocks_[b] = std::move(upper);
  blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(b), std::move(lower));
  bounds_.insert(bounds_.begin() + static_cast<std::ptrdiff_t>(b), bound);
}

template <typename T>
const Postings& NumericIndex<T>::Match(T value) const {
  if (IsNan(value)) {
    return kNone;  // NaN compares equivalent to every key of an ordered map
  }
  auto it = by_value_.find(value);
  return it == by_value_.end() ? kNone : it->second;
}

template <typename T>
std::pair<typename std::map<T, Postings>::const_iterator,
          typename std::map<T, Postings>::const_iterator>
NumericIndex<T>::Span(const NumericRange<T>& r) const {
  const auto none = std::make_pair(by_value_.end(), by_value_.end());
  if ((r.lower && IsNan(*r.lower)) || (r.upper && IsNan(*r.upper))) {
    return none;
  }
  if (r.lower && r.upper &&
      (*r.lower > *r.upper ||
       (*r.lower == *r.upper && !(r.lower_inclusive && r.upper_inclusive)))) {
    return none;  // an empty range: below, first would come after last
  }
  auto first = by_value_.begin();
  auto last = by_value_.end();
  if (r.lower) {
    first = r.lower_inclusive ? by_value_.lower_bound(*r.lower) : by_value_.upper_bound(*r.lower);
  }
  if (r.upper) {
    last = r.upper_inclusive ? by_value_.upper_bound(*r.upper) : by_value_.lower_bound(*r.upper);
  }
  return {first, last};
}

template <typename T>
Postings NumericIndex<T>::Range(const NumericRange<T>& range) const {
  auto [first, last] = Span(range);
  std::vector<const Postings*> parts;
  const auto end = by_value_.end();
  for (auto it = first; it != last;) {
    if (blocks_.empty()) {
      parts.push_back(&it->second);
      ++it;
      continue;
    }
    // The block of this value: whole when the range starts at or before its first value and
    // ends at or after its last; otherwise its values in the range.
    const size_t b = BlockOf(it->first);
    const auto [block_first, block_last] = BlockValues(b);
    const bool ends_inside = last == end || (block_last != end && block_last->first <= last->first);
    if (it == block_first && ends_inside) {
      parts.push_back(&blocks_[b]);
      it = block_last;
      continue;
    }
    for (; it != last && it != block_last; ++it) {
      parts.push_back(&it->second);
    }
  }
  if (parts.empty()) {
    return Postings();
  }
  return Postings::fastunion(parts.size(), parts.data());
}

template <typename T>
uint64_t NumericIndex<T>::CountRangeValues(const NumericRange<T>& range) const {
  auto [first, last] = Span(range);
  uint64_t n = 0;
  for (auto it = first; it != last; ++it) {
    n += it->second.cardinality();
  }
  return n;
}

template <typename T>
std::optional<T> NumericIndex<T>::min() const {
  if (by_value_.empty()) {
    return std::nullopt;
  }
  return by_value_.begin()->first;
}

template class NumericIndex<int64_t>;
template class NumericIndex<double>;

}  // namespace tessera::index

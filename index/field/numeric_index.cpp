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
    if (!IsNan(v)) {
      by_value_[v == T{} ? T{} : v].add(o);  // -0.0 and 0.0 are one value; a repeat is a no-op
      any = true;
    }
  }
  if (any) {
    with_values_.add(o);
  }
}

template <typename T>
void NumericIndex<T>::Remove(Offset o, std::span<const T> values) {
  for (T v : values) {
    if (IsNan(v)) {
      continue;
    }
    auto it = by_value_.find(v == T{} ? T{} : v);
    if (it != by_value_.end()) {
      it->second.remove(o);
      if (it->second.isEmpty()) {
        by_value_.erase(it);
      }
    }
  }
  with_values_.remove(o);
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
  for (auto it = first; it != last; ++it) {
    parts.push_back(&it->second);
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

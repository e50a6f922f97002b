#pragma once

// A keyword (or uuid) field index of one segment: value -> the offsets that hold it, as Roaring
// bitmaps (Debian's libroaring). A point may hold several values (a payload array); each is
// indexed. Kept exact on every change: Set replaces an offset's values, Remove drops them.
// No JSON here: the engine hands in the values it read from a payload. (Part of the
// payload-index issue, #17; the filters do not use it yet.)
//
// Thread-safety: none of its own (the segment's lock guards it); const methods from any thread.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <roaring/roaring.hh>

#include "index/metric.h"

namespace tessera::index {

using Postings = ::Roaring;  // libroaring 0.2 (Debian 12) has it in the global namespace

class KeywordIndex {
 public:
  // Indexes `values` for offset `o`, which holds none now (duplicates count once). The owner
  // says what an offset held when it changes it (the payload being replaced): no offset ->
  // values map is kept, so that the index costs little more than its bitmaps.
  void Add(Offset o, std::span<const std::string> values);
  // Unindexes offset `o`, which was added with `values`.
  void Remove(Offset o, std::span<const std::string> values);

  // The offsets holding `value` (empty if none).
  const Postings& Match(std::string_view value) const;
  // The offsets holding any of `values`.
  Postings MatchAny(std::span<const std::string> values) const;
  uint64_t Count(std::string_view value) const { return Match(value).cardinality(); }
  // Offsets with at least one value.
  const Postings& with_values() const { return with_values_; }
  // f(value, offsets) for each value some offset holds, in no particular order.
  template <typename F>
  void ForEachValue(F&& f) const {
    for (size_t i = 0; i < values_.size(); ++i) {
      if (!postings_[i].isEmpty()) {
        f(values_[i], postings_[i]);
      }
    }
  }
  // Bytes held (approximate: bitmaps, strings, the reverse map).
  size_t bytes() const;

 private:
  uint32_t Intern(const std::string& value);

  struct Hash {  // lookups by string_view, without building a string
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> ids_;  // value -> its id
  std::vector<std::string> values_;                // id -> value
  std::vector<Postings> postings_;                 // id -> offsets
  Postings with_values_;
  static const Postings kEmpty;
};

}  // namespace tessera::index

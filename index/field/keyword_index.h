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
  // Replaces the values of offset `o` (duplicates count once; empty: the point has none).
  void Set(Offset o, std::span<const std::string> values);
  void Remove(Offset o) { Set(o, {}); }

  // The offsets holding `value` (empty if none).
  const Postings& Match(std::string_view value) const;
  // The offsets holding any of `values`.
  Postings MatchAny(std::span<const std::string> values) const;
  uint64_t Count(std::string_view value) const { return Match(value).cardinality(); }
  // Offsets with at least one value.
  const Postings& with_values() const { return with_values_; }
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
  std::vector<std::vector<uint32_t>> of_offset_;   // offset -> value ids it holds
  Postings with_values_;
  static const Postings kEmpty;
};

}  // namespace tessera::index

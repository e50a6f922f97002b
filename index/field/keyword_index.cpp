#include "index/field/keyword_index.h"

#include <algorithm>

namespace tessera::index {

const Postings KeywordIndex::kEmpty;

uint32_t KeywordIndex::Intern(const std::string& value) {
  auto [it, added] = ids_.try_emplace(value, static_cast<uint32_t>(values_.size()));
  if (added) {
    values_.push_back(value);
    postings_.emplace_back();
  }
  return it->second;
}

void KeywordIndex::Set(Offset o, std::span<const std::string> values) {
  if (of_offset_.size() <= o) {
    of_offset_.resize(static_cast<size_t>(o) + 1);
  }
  for (uint32_t id : of_offset_[o]) {
    postings_[id].remove(o);
  }
  std::vector<uint32_t> ids;
  ids.reserve(values.size());
  for (const std::string& v : values) {
    ids.push_back(Intern(v));
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (uint32_t id : ids) {
    postings_[id].add(o);
  }
  if (ids.empty()) {
    with_values_.remove(o);
  } else {
    with_values_.add(o);
  }
  of_offset_[o] = std::move(ids);
}

const Postings& KeywordIndex::Match(std::string_view value) const {
  auto it = ids_.find(value);
  return it == ids_.end() ? kEmpty : postings_[it->second];
}

Postings KeywordIndex::MatchAny(std::span<const std::string> values) const {
  Postings out;
  for (const std::string& v : values) {
    out |= Match(v);
  }
  return out;
}

size_t KeywordIndex::bytes() const {
  size_t n = with_values_.getSizeInBytes();
  for (size_t i = 0; i < values_.size(); ++i) {
    n += postings_[i].getSizeInBytes() + values_[i].capacity() + sizeof(std::string) * 2 + 16;
  }
  for (const auto& ids : of_offset_) {
    n += sizeof(ids) + ids.capacity() * sizeof(uint32_t);
  }
  return n;
}

}  // namespace tessera::index

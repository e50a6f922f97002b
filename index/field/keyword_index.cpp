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

void KeywordIndex::Add(Offset o, std::span<const std::string> values) {
  for (const std::string& v : values) {
    postings_[Intern(v)].add(o);  // a repeat is a no-op
  }
  if (!values.empty()) {
    with_values_.add(o);
  }
}

void KeywordIndex::Remove(Offset o, std::span<const std::string> values) {
  for (const std::string& v : values) {
    if (auto it = ids_.find(v); it != ids_.end()) {
      postings_[it->second].remove(o);
    }
  }
  with_values_.remove(o);
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
  return n;
}

}  // namespace tessera::index

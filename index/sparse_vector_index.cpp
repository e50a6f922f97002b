#include "index/sparse_vector_index.h"

#include <algorithm>
#include <numeric>

namespace tessera::index {

SparseVectorIndex::View SparseVectorIndex::Get(Offset o) const {
  if (!has(o)) {
    return {};
  }
  return {rows_[o].indices, rows_[o].values};
}

void SparseVectorIndex::Unpost(Offset o) {
  for (uint32_t dim : rows_[o].indices) {
    auto it = postings_.find(dim);
    if (it == postings_.end()) {
      continue;
    }
    std::vector<Posting>& list = it->second;
    auto at = std::lower_bound(list.begin(), list.end(), o,
                               [](const Posting& p, Offset x) { return p.offset < x; });
    if (at != list.end() && at->offset == o) {
      list.erase(at);
    }
    if (list.empty()) {
      postings_.erase(it);
    }
  }
}

void SparseVectorIndex::Post(Offset o) {
  const Row& row = rows_[o];
  for (size_t i = 0; i < row.indices.size(); ++i) {
    std::vector<Posting>& list = postings_[row.indices[i]];
    if (list.empty() || list.back().offset < o) {
      list.push_back({o, row.values[i]});  // the usual case: offsets grow
    } else {
      auto at = std::lower_bound(list.begin(), list.end(), o,
                                 [](const Posting& p, Offset x) { return p.offset < x; });
      list.insert(at, {o, row.values[i]});
    }
  }
}

void SparseVectorIndex::Set(Offset o, std::span<const uint32_t> indices,
                            std::span<const float> values) {
  if (has(o)) {
    Unpost(o);
  } else {
    ++count_;
  }
  Row& row = rows_[o];
  std::vector<size_t> order(indices.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return indices[a] < indices[b]; });
  row.indices.resize(indices.size());
  row.values.resize(indices.size());
  for (size_t i = 0; i < order.size(); ++i) {
    row.indices[i] = indices[order[i]];
    row.values[i] = values[order[i]];
  }
  row.present = true;
  Post(o);
}

void SparseVectorIndex::Clear(Offset o) {
  if (!has(o)) {
    return;
  }
  Unpost(o);
  rows_[o] = Row{};
  --count_;
}

float SparseVectorIndex::Score(Offset o, const SparseQuery& query) const {
  if (!has(o)) {
    return 0.0f;
  }
  const Row& row = rows_[o];
  float score = 0.0f;
  size_t i = 0, j = 0;
  while (i < row.indices.size() && j < query.indices.size()) {
    if (row.indices[i] < query.indices[j]) {
      ++i;
    } else if (row.indices[i] > query.indices[j]) {
      ++j;
    } else {
      score += row.values[i] * query.values[j];
      ++i;
      ++j;
    }
  }
  return score;
}

bool SparseVectorIndex::Overlaps(Offset o, const SparseQuery& query) const {
  if (!has(o)) {
    return false;
  }
  const Row& row = rows_[o];
  size_t i = 0, j = 0;
  while (i < row.indices.size() && j < query.indices.size()) {
    if (row.indices[i] == query.indices[j]) {
      return true;
    }
    row.indices[i] < query.indices[j] ? ++i : ++j;
  }
  return false;
}

std::vector<Hit> SparseVectorIndex::Search(const SparseQuery& query, size_t k,
                                           const AcceptFn& accept) const {
  if (k == 0) {
    return {};
  }
  // Per-thread accumulators, sized to the segment and left zeroed after each search.
  thread_local std::vector<float> scores;
  thread_local std::vector<uint8_t> seen;
  thread_local std::vector<Offset> touched;
  if (scores.size() < rows_.size()) {
    scores.resize(rows_.size(), 0.0f);
    seen.resize(rows_.size(), 0);
  }
  touched.clear();
  for (size_t j = 0; j < query.indices.size(); ++j) {
    auto it = postings_.find(query.indices[j]);
    if (it == postings_.end()) {
      continue;
    }
    const float q = query.values[j];
    for (const Posting& p : it->second) {
      if (!seen[p.offset]) {
        seen[p.offset] = 1;
        touched.push_back(p.offset);
      }
      scores[p.offset] += p.weight * q;
    }
  }
  std::vector<Hit> hits;
  for (Offset o : touched) {
    const float score = scores[o];
    scores[o] = 0.0f;
    seen[o] = 0;
    if (score != 0.0f && (!accept || accept(o))) {
      hits.push_back({o, -score});
    }
  }
  return BestHits(std::move(hits), k);
}

std::vector<Hit> SparseVectorIndex::SearchAmong(const SparseQuery& query, size_t k,
                                                std::span<const Offset> offsets,
                                                const AcceptFn& accept) const {
  std::vector<Hit> hits;
  if (k == 0) {
    return hits;
  }
  for (Offset o : offsets) {
    if (!has(o) || (accept && !accept(o))) {
      continue;
    }
    const float score = Score(o, query);
    if (score != 0.0f) {
      hits.push_back({o, -score});
    }
  }
  return BestHits(std::move(hits), k);
}

uint64_t SparseVectorIndex::DocumentFrequency(uint32_t dim, const AcceptFn& accept) const {
  auto it = postings_.find(dim);
  if (it == postings_.end()) {
    return 0;
  }
  if (!accept) {
    return it->second.size();
  }
  uint64_t n = 0;
  for (const Posting& p : it->second) {
    n += accept(p.offset) ? 1 : 0;
  }
  return n;
}

size_t SparseVectorIndex::bytes() const {
  size_t bytes = rows_.capacity() * sizeof(Row);
  for (const Row& row : rows_) {
    bytes += row.indices.capacity() * sizeof(uint32_t) + row.values.capacity() * sizeof(float);
  }
  for (const auto& [dim, list] : postings_) {
    bytes += sizeof(dim) + sizeof(list) + list.capacity() * sizeof(Posting);
  }
  return bytes;
}

void SparseVectorIndex::EncodeTo(std::string* out) const {
  for (const Row& row : rows_) {
    PutBool(out, row.present);
    if (!row.present) {
      continue;
    }
    PutVarint64(out, row.indices.size());
    for (size_t i = 0; i < row.indices.size(); ++i) {
      PutVarint64(out, row.indices[i]);
      PutFloat(out, row.values[i]);
    }
  }
}

bool SparseVectorIndex::DecodeFrom(Decoder* in, size_t n) {
  rows_.clear();
  postings_.clear();
  count_ = 0;
  if (n > in->remaining()) {
    return false;
  }
  rows_.resize(n);
  std::vector<uint32_t> indices;
  std::vector<float> values;
  for (size_t o = 0; o < n; ++o) {
    bool present;
    if (!in->GetBool(&present)) {
      return false;
    }
    if (!present) {
      continue;
    }
    uint64_t nnz;
    if (!in->GetVarint64(&nnz) || nnz > in->remaining() / 5) {
      return false;
    }
    indices.resize(nnz);
    values.resize(nnz);
    for (uint64_t i = 0; i < nnz; ++i) {
      uint64_t dim;
      if (!in->GetVarint64(&dim) || dim > UINT32_MAX || !in->GetFloat(&values[i])) {
        return false;
      }
      indices[i] = static_cast<uint32_t>(dim);
    }
    std::vector<uint32_t> sorted = indices;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
      return false;  // indices are unique in every stored vector
    }
    Set(static_cast<Offset>(o), indices, values);
  }
  return true;
}

}  // namespace tessera::index

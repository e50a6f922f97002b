#include "index/multi_dense_storage.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tessera::index {

std::span<const float> MultiDenseStorage::Get(Offset o) const {
  return has(o) ? std::span<const float>(rows_[o].values) : std::span<const float>();
}

void MultiDenseStorage::Set(Offset o, std::span<const float> values) {
  rows_[o].present = true;
  rows_[o].values.assign(values.begin(), values.end());
}

float MultiDenseStorage::Score(std::span<const float> query, Offset o) const {
  const std::vector<float>& doc = rows_[o].values;
  float sum = 0.0f;
  for (size_t q = 0; q + dim_ <= query.size(); q += dim_) {
    float best = -std::numeric_limits<float>::infinity();
    for (size_t d = 0; d + dim_ <= doc.size(); d += dim_) {
      best = std::max(best, Similarity(metric_, query.data() + q, doc.data() + d, dim_));
    }
    sum += best;
  }
  return sum;
}

namespace {

template <typename Offsets>
std::vector<Hit> TopK(const MultiDenseStorage& s, std::span<const float> query, size_t k,
                      const Offsets& offsets, const AcceptFn& accept) {
  std::vector<Hit> hits;
  if (k == 0) {
    return hits;
  }
  for (Offset o : offsets) {
    if (!s.has(o) || (accept && !accept(o))) {
      continue;
    }
    float score = s.Score(query, o);
    if (std::isnan(score)) {
      score = -std::numeric_limits<float>::infinity();
    }
    hits.push_back({o, -score});
  }
  return BestHits(std::move(hits), k);
}

struct AllOffsets {
  size_t n;
  struct It {
    Offset o;
    Offset operator*() const { return o; }
    It& operator++() {
      ++o;
      return *this;
    }
    bool operator!=(const It& other) const { return o != other.o; }
  };
  It begin() const { return {0}; }
  It end() const { return {static_cast<Offset>(n)}; }
};

}  // namespace

std::vector<Hit> MultiDenseStorage::ExactSearch(std::span<const float> query, size_t k,
                                                const AcceptFn& accept) const {
  return TopK(*this, query, k, AllOffsets{rows_.size()}, accept);
}

std::vector<Hit> MultiDenseStorage::ExactSearchAmong(std::span<const float> query, size_t k,
                                                     std::span<const Offset> offsets,
                                                     const AcceptFn& accept) const {
  return TopK(*this, query, k, offsets, accept);
}

size_t MultiDenseStorage::bytes() const {
  size_t bytes = rows_.capacity() * sizeof(Row);
  for (const Row& row : rows_) {
    bytes += row.values.capacity() * sizeof(float);
  }
  return bytes;
}

void MultiDenseStorage::EncodeTo(std::string* out) const {
  for (const Row& row : rows_) {
    PutBool(out, row.present);
    if (row.present) {
      PutVarint64(out, dim_ == 0 ? 0 : row.values.size() / dim_);
      for (float v : row.values) {
        PutFloat(out, v);
      }
    }
  }
}

bool MultiDenseStorage::DecodeFrom(Decoder* in, size_t n) {
  rows_.clear();
  if (n > in->remaining() || dim_ == 0) {
    return n == 0;
  }
  rows_.resize(n);
  for (Row& row : rows_) {
    if (!in->GetBool(&row.present)) {
      return false;
    }
    if (!row.present) {
      continue;
    }
    uint64_t count;
    if (!in->GetVarint64(&count) || count == 0 ||
        count > in->remaining() / (dim_ * sizeof(float))) {
      return false;
    }
    row.values.resize(count * dim_);
    for (float& v : row.values) {
      if (!in->GetFloat(&v)) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace tessera::index

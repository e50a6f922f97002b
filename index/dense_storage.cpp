#include "index/dense_storage.h"

#include <algorithm>
#include <cstring>

namespace tessera::index {

namespace {
constexpr size_t kPrefetchLines = 4;  // of each neighbour's row, before the distances
}  // namespace

DenseStorage::DenseStorage(Metric metric, size_t dim)
    : metric_(metric), dim_(dim), row_((dim + kRowFloats - 1) / kRowFloats * kRowFloats) {}

DenseStorage DenseStorage::FromMatrix(Metric metric, size_t dim, std::span<const float> matrix) {
  DenseStorage s(metric, dim);
  const size_t n = dim == 0 ? 0 : matrix.size() / dim;
  s.Reserve(n);
  for (size_t i = 0; i < n; ++i) {
    s.Append();
    s.Set(static_cast<Offset>(i), matrix.subspan(i * dim, dim));
  }
  return s;
}

std::span<const float> DenseStorage::Get(Offset o) const {
  if (!has(o)) {
    return {};
  }
  return std::span<const float>(row(o), dim_);
}

void DenseStorage::Grow(size_t rows) {
  PageArray<float> bigger(rows * row_);
  if (size() > 0) {
    std::memcpy(bigger.data(), rows_.data(), size() * row_ * sizeof(float));
  }
  rows_ = std::move(bigger);
  capacity_ = rows;
}

void DenseStorage::Reserve(size_t rows) {
  if (rows > capacity_) {
    Grow(rows);
  }
  present_.reserve(rows);
}

void DenseStorage::Append() {
  if (size() == capacity_) {
    Grow(std::max<size_t>(16, capacity_ * 2));
  }
  present_.push_back(0);  // the row is zero: arrays start zeroed, Clear zeroes again
}

void DenseStorage::Set(Offset o, std::span<const float> values) {
  std::memcpy(rows_.data() + static_cast<size_t>(o) * row_, values.data(),
              std::min(values.size(), dim_) * sizeof(float));
  present_[o] = 1;
}

void DenseStorage::Clear(Offset o) {
  std::fill_n(rows_.data() + static_cast<size_t>(o) * row_, row_, 0.0f);
  present_[o] = 0;
}

std::vector<Hit> DenseStorage::ExactSearch(std::span<const float> query, size_t k,
                                           const AcceptFn& accept) const {
  std::vector<float> padded(row_, 0.0f);  // the rows are padded: so is the query
  std::copy_n(query.begin(), std::min(query.size(), dim_), padded.begin());
  const AcceptFn present = [&](Offset o) { return has(o) && (!accept || accept(o)); };
  return ExactSearchRows(
      metric_, size(), kernel_floats(), padded, k, present,
      [&](size_t i) { return row(static_cast<Offset>(i)); },
      [](size_t i) { return static_cast<Offset>(i); });
}

std::vector<Hit> DenseStorage::ExactSearchAmong(std::span<const float> query, size_t k,
                                                std::span<const Offset> offsets,
                                                const AcceptFn& accept) const {
  std::vector<float> padded(row_, 0.0f);
  std::copy_n(query.begin(), std::min(query.size(), dim_), padded.begin());
  const AcceptFn present = [&](Offset o) { return has(o) && (!accept || accept(o)); };
  return ExactSearchRows(
      metric_, offsets.size(), kernel_floats(), padded, k, present,
      [&](size_t i) { return row(offsets[i]); }, [&](size_t i) { return offsets[i]; });
}

size_t DenseStorage::bytes() const {
  return capacity_ * row_ * sizeof(float) + present_.capacity();
}

void DenseStorage::EncodeTo(std::string* out) const {
  const size_t n = size();
  out->append(reinterpret_cast<const char*>(present_.data()), n);
  if (row_ == dim_) {
    out->append(reinterpret_cast<const char*>(rows_.data()), n * dim_ * sizeof(float));
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    out->append(reinterpret_cast<const char*>(rows_.data() + i * row_), dim_ * sizeof(float));
  }
}

bool DenseStorage::DecodeFrom(size_t n, std::string_view present, std::string_view data) {
  if (present.size() != n || data.size() != n * dim_ * sizeof(float)) {
    return false;
  }
  present_.assign(present.begin(), present.end());
  rows_ = PageArray<float>(n * row_);
  capacity_ = n;
  for (size_t i = 0; i < n; ++i) {
    if (present_[i] > 1) {
      return false;
    }
    std::memcpy(rows_.data() + i * row_, data.data() + i * dim_ * sizeof(float),
                dim_ * sizeof(float));
  }
  return true;
}

DenseScorer::DenseScorer(const DenseStorage& storage, std::span<const float> query)
    : storage_(storage),
      padded_(storage.row_floats(), 0.0f),
      query_(padded_.data()),
      row_(storage.kernel_floats()),
      distance_(DistanceFunction(storage.metric())),
      prefetch_lines_(std::min(kPrefetchLines, storage.row_floats() / kRowFloats)) {
  std::copy_n(query.begin(), std::min(query.size(), storage.dim()), padded_.begin());
}

}  // namespace tessera::index

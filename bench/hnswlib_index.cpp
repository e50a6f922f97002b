#include "bench/hnswlib_index.h"

#include <atomic>
#include <thread>

#include <hnswlib/hnswlib.h>

namespace bench {

struct HnswlibIndex::Impl {
  Impl(size_t capacity, size_t dim, size_t m, size_t ef_construct)
      : space(dim), index(&space, capacity, m, ef_construct) {}
  hnswlib::L2Space space;
  hnswlib::HierarchicalNSW<float> index;
  size_t dim() { return *static_cast<size_t*>(space.get_dist_func_param()); }
};

HnswlibIndex::HnswlibIndex(size_t capacity, size_t dim, size_t m, size_t ef_construct)
    : impl_(std::make_unique<Impl>(capacity, dim, m, ef_construct)) {}

HnswlibIndex::~HnswlibIndex() = default;

void HnswlibIndex::AddAll(const float* rows, size_t n, size_t threads) {
  const size_t dim = impl_->dim();
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (size_t t = 0; t < std::max<size_t>(threads, 1); ++t) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) {
        impl_->index.addPoint(rows + i * dim, i);
      }
    });
  }
  for (auto& w : workers) {
    w.join();
  }
}

void HnswlibIndex::Search(const float* query, size_t k, size_t ef, std::vector<int64_t>* ids) {
  impl_->index.setEf(ef);
  auto top = impl_->index.searchKnn(query, k);
  ids->resize(top.size());
  for (size_t i = top.size(); i-- > 0;) {
    (*ids)[i] = static_cast<int64_t>(top.top().second);
    top.pop();
  }
}

}  // namespace bench

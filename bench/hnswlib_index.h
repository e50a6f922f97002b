#pragma once

// Raw hnswlib (Debian's 0.6.2, L2), the reference the engine is measured against, behind a
// small interface. It lives in a shared library of its own (bench_hnswlib) that exports only
// this class: hnswlib's header defines non-inline functions, so a binary that links
// index/hnsw_graph.cpp (which builds with hnswlib) could not include it a second time. With
// the library, engine_bench searches the engine and raw hnswlib side by side in one process.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace bench {

class __attribute__((visibility("default"))) HnswlibIndex {
 public:
  // Room for `capacity` points of `dim` floats; hnswlib's defaults otherwise (seed 100).
  HnswlibIndex(size_t capacity, size_t dim, size_t m, size_t ef_construct);
  ~HnswlibIndex();
  HnswlibIndex(const HnswlibIndex&) = delete;
  HnswlibIndex& operator=(const HnswlibIndex&) = delete;

  // Inserts rows [0, n) of a row-major matrix, row i as label i, on `threads` threads.
  void AddAll(const float* rows, size_t n, size_t threads);
  // The `k` labels nearest to `query`, nearest first, exploring `ef` (hnswlib's setEf: one
  // thread at a time).
  void Search(const float* query, size_t k, size_t ef, std::vector<int64_t>* ids);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bench

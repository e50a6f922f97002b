#pragma once

// One segment's HNSW graph. hnswlib (Debian's 0.6.2) builds it; then the graph is copied into
// our own frozen layout and hnswlib's structure is dropped. The layout: nodes numbered in
// offset order, every vector in one aligned row (zero-padded to 16 floats) of one array, level
// 0's links in another, both on transparent huge pages; the upper levels beside them. Reads
// of a walk touch whole cache lines of vectors and links only, no hnswlib per-node locks or
// label map stay in memory, and the search loop is ours: per-query `ef`, and a predicate that
// skips deleted or filtered-out points while the walk still passes through them. This header
// is the only door to hnswlib: index/hnsw_graph.cpp is the one file that includes it.
//
// Thread-safety: a graph is immutable once built or loaded; Search() and the other readers
// may run on any number of threads at once.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "common/status.h"
#include "index/exact_search.h"
#include "index/metric.h"

namespace tessera::index {

struct HnswParams {
  size_t m = 16;
  size_t ef_construct = 100;
  size_t seed = 100;
};

class HnswGraph {
 public:
  // Builds a graph over rows [0, rows) of a row-major matrix (rows of `dim` floats), on
  // `threads` threads; rows that `accept` rejects are left out. Row r is known as offset r.
  static Result<std::unique_ptr<HnswGraph>> Build(Metric metric, size_t dim,
                                                  const HnswParams& params,
                                                  std::span<const float> matrix, size_t threads,
                                                  const AcceptFn& accept);
  // Loads a file written by SaveTo; `crc32c` is the value SaveTo returned. Reads the files of
  // earlier versions (hnswlib's own format) too.
  static Result<std::unique_ptr<HnswGraph>> Load(const std::filesystem::path& file, Metric metric,
                                                 size_t dim, uint32_t crc32c);
  ~HnswGraph();
  HnswGraph(const HnswGraph&) = delete;
  HnswGraph& operator=(const HnswGraph&) = delete;

  // The k accepted points closest to `query`, closest first, exploring `ef` candidates
  // (at least k). `accept` may be empty.
  std::vector<Hit> Search(std::span<const float> query, size_t k, size_t ef,
                          const AcceptFn& accept) const;

  // The graph keeps its own copy of every vector it holds: `offset`'s, or nullptr if the graph
  // does not hold it. Lets a segment drop its copy once the graph is built.
  const float* VectorOf(Offset offset) const;
  // Exact search over the graph's own vectors (ties by offset), for the planner's full scans.
  std::vector<Hit> ExactSearch(std::span<const float> query, size_t k,
                               const AcceptFn& accept) const;

  // Writes the graph atomically (temp file, fsync, rename, fsync dir); returns its CRC32C.
  Result<uint32_t> SaveTo(const std::filesystem::path& file) const;

  size_t size() const;
  size_t dim() const { return dim_; }
  Metric metric() const { return metric_; }

 private:
  struct Impl;
  HnswGraph(Metric metric, size_t dim, std::unique_ptr<Impl> impl);
  const Metric metric_;
  const size_t dim_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::index

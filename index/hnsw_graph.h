#pragma once

// One segment's HNSW graph. hnswlib (Debian's 0.6.2) builds and stores it; the search loop is
// ours, so that each query has its own `ef` and a predicate that skips deleted or filtered-out
// points while the walk still passes through them. This header is the only door to hnswlib:
// index/hnsw_graph.cpp is the one file that includes it.
//
// Thread-safety: Add() may run on several threads at once (hnswlib locks per node). Search()
// may run on several threads at once, but not while Add() runs: graphs are built, then frozen.

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
  static Result<std::unique_ptr<HnswGraph>> Create(Metric metric, size_t dim,
                                                   const HnswParams& params, size_t capacity);
  // Loads a file written by SaveTo; `crc32c` is the value SaveTo returned.
  static Result<std::unique_ptr<HnswGraph>> Load(const std::filesystem::path& file, Metric metric,
                                                 size_t dim, uint32_t crc32c);
  ~HnswGraph();
  HnswGraph(const HnswGraph&) = delete;
  HnswGraph& operator=(const HnswGraph&) = delete;

  // Inserts `vector` under `offset`; capacity must not be exceeded.
  Status Add(Offset offset, std::span<const float> vector);
  // Adds rows [0, rows) of a row-major matrix on `threads` threads; rows that `accept` rejects
  // are left out.
  Status AddAll(std::span<const float> matrix, size_t threads, const AcceptFn& accept);

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

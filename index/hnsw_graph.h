#pragma once

// One segment's HNSW graph over one vector storage. hnswlib (Debian's 0.6.2) builds it; then
// the graph is copied into our own frozen layout and hnswlib's structure is dropped. The graph
// holds links only: node n is the storage's row n (offset n), rows left out of the graph are
// nodes without links that no walk reaches. Level 0's links are one array (huge pages), the
// upper levels beside them. The walk is ours and scores through a distance computer over the
// storage (a `Scorer`: `float operator()(Offset)` and `void Prefetch(Offset)`), so the same
// walk serves any storage or code a scorer reads; it is a template, instantiated in
// hnsw_graph.cpp for each scorer there is (no virtual call per distance). It takes a per-query
// `ef` and a predicate that skips deleted or filtered-out points while the walk still passes
// through them. This header is the only door to hnswlib: index/hnsw_graph.cpp is the one file
// that includes it.
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
#include "index/dense_storage.h"
#include "index/exact_search.h"
#include "index/metric.h"

namespace tessera::index {

struct HnswParams {
  size_t m = 16;
  size_t ef_construct = 100;
  size_t seed = 100;
};

class HnswGraph;

// A built graph to grow from instead of building from nothing (Qdrant 1.14's incremental
// HNSW): node n of `graph` is row row_of[n] of the new storage, kNoRow if its point is gone.
// Its links among the points kept are taken as they are; a kept node that lost a quarter or
// more of its level-0 links to gone points is re-linked (healed, as Qdrant 1.15 does); then
// the rows the graph lacks are inserted. Used when the graph was built with the same m and
// no more than `max_missing` of its nodes are gone (Qdrant's healing_threshold, 0.3).
struct HnswSeed {
  static constexpr Offset kNoRow = ~Offset{0};
  const HnswGraph* graph = nullptr;
  std::vector<Offset> row_of;
  double max_missing = 0.3;
};

// What a build did (for logs and tests).
struct HnswBuildStats {
  size_t reused = 0;    // nodes taken from the seed with their links
  size_t healed = 0;    // of those, re-linked
  size_t inserted = 0;  // rows inserted anew
};

class HnswGraph {
 public:
  // Builds a graph over the present rows of `storage` that `accept` allows (empty: all), on
  // `threads` threads; from `seed` when it is given and usable (see HnswSeed).
  static Result<std::unique_ptr<HnswGraph>> Build(const HnswParams& params,
                                                  const DenseStorage& storage, size_t threads,
                                                  const AcceptFn& accept,
                                                  const HnswSeed* seed = nullptr,
                                                  HnswBuildStats* stats = nullptr);
  // Loads a file written by SaveTo for a storage of `rows` rows; `crc32c` is the value SaveTo
  // returned. Reads the files of earlier versions too (version 1, which held the vectors, and
  // hnswlib's own format); their vectors are not kept: the storage has them.
  static Result<std::unique_ptr<HnswGraph>> Load(const std::filesystem::path& file, Metric metric,
                                                 size_t dim, uint32_t crc32c, size_t rows);
  ~HnswGraph();
  HnswGraph(const HnswGraph&) = delete;
  HnswGraph& operator=(const HnswGraph&) = delete;

  // The k accepted points closest to the scorer's query, closest first, exploring `ef`
  // candidates (at least k). `accept` may be empty. `two_hop`: with `accept`, the ACORN-1 walk
  // (only accepted points scored, rejected links bridged through to their own links), for
  // restrictive filters; otherwise rejected points are walked through but never kept.
  template <typename Scorer>
  std::vector<Hit> Search(const Scorer& score, size_t k, size_t ef, const AcceptFn& accept,
                          bool two_hop = false) const;

  // Writes the graph atomically (temp file, fsync, rename, fsync dir); returns its CRC32C.
  Result<uint32_t> SaveTo(const std::filesystem::path& file) const;

  size_t size() const;  // points in the graph
  size_t rows() const;  // nodes: the storage's rows when it was built
  size_t dim() const { return dim_; }
  Metric metric() const { return metric_; }
  size_t m() const;  // links per node on the upper levels (twice that on level 0)
  // The candidate list the graph was built with; 0 for a graph loaded from a file written
  // before it was recorded.
  size_t ef_construct() const;

 private:
  struct Impl;
  HnswGraph(Metric metric, size_t dim, std::unique_ptr<Impl> impl);
  template <typename Scorer>
  static std::vector<Hit> TwoHopWalk(const Impl& g, const Scorer& score, size_t k, size_t ef,
                                     const AcceptFn& accept, uint32_t entry, float entry_dist);
  const Metric metric_;
  const size_t dim_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::index

#pragma once

// Nearest-neighbour search over a collection's segments: plans each segment (an exact scan
// when the vectors it would touch are under full_scan_threshold, else an HNSW walk with the
// filter consulted on the way, as Qdrant plans), fans large segments out on the search
// thread pool, merges the top-k and builds the records. Also retrieve by id.
//
// Thread-safety: const methods from any thread; each holds the segment lock shared.

#include <vector>

#include "common/status.h"
#include "engine/collection_config.h"
#include "engine/payload_index.h"
#include "engine/query.h"
#include "engine/segment_set.h"

namespace tessera::engine {

class Searcher {
 public:
  // Every argument must outlive this.
  Searcher(const SegmentSet& segments, const SharedConfig& config, const PayloadStats& stats)
      : segments_(segments), config_(config), stats_(stats) {}

  Result<std::vector<ScoredPoint>> Search(const SearchRequest& request) const;
  // A search by a score of several vectors (see ScoredSearchRequest): exact.
  Result<std::vector<ScoredPoint>> SearchScored(const ScoredSearchRequest& request) const;
  // The collection's configuration now.
  std::shared_ptr<const CollectionConfig> config() const { return config_.get(); }
  // The live points among `ids`, each once, in the order first asked for.
  std::vector<PointRecord> Retrieve(const std::vector<PointId>& ids, bool with_payload,
                                    bool with_vectors) const;

 private:
  // Weighs a sparse query's values by each dimension's inverse document frequency over the
  // segments (the `idf` modifier). Under the segment lock.
  // `corpus` (may be nullptr: every point) picks the points the statistics count.
  static void ApplyIdf(const std::vector<std::shared_ptr<Segment>>& segments,
                       const std::string& name, PointFilter corpus, SparseVector* query);

  const SegmentSet& segments_;
  const SharedConfig& config_;
  const PayloadStats& stats_;
};

// Estimated number of live points of `segment` that `filter` accepts: exact on small
// segments, else from an even sample, rounded towards more (a too-high estimate only costs
// an HNSW walk, never recall).
uint64_t EstimateMatches(PointFilter filter, const Segment& segment);

}  // namespace tessera::engine

#pragma once

// Reads that walk every live point: scroll in id order, count, ids matching a filter, and
// scroll ordered by a payload value.
//
// Thread-safety: const methods from any thread; each holds the segment lock shared.

#include <optional>
#include <vector>

#include "common/status.h"
#include "engine/collection_config.h"
#include "engine/query.h"
#include "engine/segment_set.h"

namespace tessera::engine {

class Scans {
 public:
  // Both must outlive this.
  Scans(const SegmentSet& segments, const SharedConfig& config)
      : segments_(segments), config_(config) {}

  // Live points with id >= `from` in id order (integers, then UUIDs), at most `limit`;
  // `next` is the id after the last one returned, if any.
  std::vector<PointRecord> Scroll(const std::optional<PointId>& from, size_t limit,
                                  PointFilter filter, bool with_payload, bool with_vectors,
                                  std::optional<PointId>* next) const;
  // Live points the filter accepts. `exact` false (Qdrant's `exact: false`): an estimate where
  // the exact figure costs a scan: per segment, the payload indexes' exact answer scaled by
  // the segment's live share, or the filter evaluated on an even sample of 2,048 of the
  // segment's points (of the indexes' candidates when there are some) and scaled up; small
  // segments are counted exactly.
  uint64_t Count(PointFilter filter, bool exact = true) const;
  // Ids of live points the filter accepts, in id order.
  std::vector<PointId> MatchingIds(PointFilter filter) const;
  // Points ordered by the numeric (or datetime) payload value at `order.key`, which needs a
  // range index (InvalidArgument otherwise, in Qdrant's words), read from that index: a
  // point appears once for each value it holds there (as in Qdrant), ties by id.
  Result<std::vector<PointRecord>> ScrollOrdered(const OrderBy& order, size_t limit,
                                                 PointFilter filter, bool with_payload,
                                                 bool with_vectors) const;
  // The values at `key` and how many live points the filter accepts hold each (a point with
  // several values counts once per value): the `limit` largest counts, ties by value
  // ascending, as Qdrant's facet. Needs a keyword, uuid, bool or integer (lookup) index on
  // `key`: InvalidArgument in Qdrant's words otherwise. Counted from the index's bitmaps.
  Result<std::vector<FacetHit>> Facet(const std::string& key, size_t limit,
                                      PointFilter filter) const;

 private:
  const SegmentSet& segments_;
  const SharedConfig& config_;
};

}  // namespace tessera::engine

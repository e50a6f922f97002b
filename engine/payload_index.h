#pragma once

// Payload indexes as the planner sees them today: for each indexed field of a sealed
// segment, value counts gathered from its payloads on first use and cached (sealed segments
// only lose points, so the counts stay upper bounds), giving filter cardinality estimates.
// Real index structures (postings, ranges, full text) replace this in the payload-index issue
// (#17); the planner's interface, IndexEstimate(), stays.
//
// Thread-safety: every method from any thread; mu_ is a leaf. The segment passed must be read
// under the segment lock (shared).

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/lock_order.h"
#include "engine/collection_config.h"
#include "engine/filter.h"
#include "engine/segment.h"

namespace tessera::engine {

class PayloadStats {
 public:
  // An upper bound on the matches from the payload indexes of a sealed segment: the smallest
  // estimate among the filter's `must` conditions on indexed fields. Nullopt if none applies.
  std::optional<uint64_t> IndexEstimate(const Filter& filter, const Segment& segment,
                                        const CollectionConfig& config) const;
  // Drops what is cached for a segment that left the collection.
  void Forget(uint64_t segment_id);

 private:
  struct FieldStats {
    std::unordered_map<std::string, uint64_t> values;  // "s:<string>", "i:<int>", "b:<0|1>"
    std::vector<double> numbers;                       // sorted
  };
  std::shared_ptr<const FieldStats> StatsFor(const Segment& segment,
                                             const std::string& field) const;

  mutable RankedMutex mu_{LockRank::kLeaf, "PayloadStats::mu_"};
  mutable std::map<std::pair<uint64_t, std::string>, std::shared_ptr<const FieldStats>>
      stats_;  // guarded by mu_; by (segment id, field)
};

}  // namespace tessera::engine

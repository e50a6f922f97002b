#pragma once

// Payload indexes as the planner sees them: the cardinality of a filter on a sealed segment,
// estimated from the segment's payload index (segment_payload_index.h). The payload-index issue
// (#17) replaces the structures behind it; the planner's interface, IndexEstimate(), stays.
//
// Thread-safety: stateless; the segment passed must be read under the segment lock (shared).

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

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
};

}  // namespace tessera::engine

#pragma once

// A segment's payload index: per indexed field, what the planner knows of the segment's values
// there. Today that is value counts gathered from the segment's payloads on first use, so that a
// filter's cardinality can be estimated (a sealed segment only loses points: the counts stay
// upper bounds). The payload-index issue (#17) puts the real structures here — postings, range
// indexes, full text — built with the segment and read by compiled filters.
//
// Thread-safety: const methods from any thread (mu_ is a leaf); the segment it belongs to must
// be read under the segment lock (shared) meanwhile.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/lock_order.h"
#include "engine/id_tracker.h"
#include "engine/payload_storage.h"

namespace tessera::engine {

struct FieldStats {
  std::unordered_map<std::string, uint64_t> values;  // "s:<string>", "i:<int>", "b:<0|1>"
  std::vector<double> numbers;                       // sorted
};

class SegmentPayloadIndex {
 public:
  // The field's statistics over the live points, gathered on first use.
  std::shared_ptr<const FieldStats> Field(const std::string& field, const IdTracker& ids,
                                          const PayloadStorage& payloads) const;

 private:
  mutable RankedMutex mu_{LockRank::kLeaf, "SegmentPayloadIndex::mu_"};
  mutable std::map<std::string, std::shared_ptr<const FieldStats>> fields_;  // guarded by mu_
};

}  // namespace tessera::engine

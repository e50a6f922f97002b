#pragma once

// A segment's payload index: per indexed field, what the segment's values there are. Two kinds,
// both gathered from a sealed segment's payloads on first use (a sealed segment only loses
// points, so what they hold stays a superset of the live matches; readers check tombstones):
//   - value counts (FieldStats), for the planner's estimates;
//   - field indexes (index/field/): the strings (keyword), the integers and the numbers of the
//     field, each value -> a Roaring bitmap of offsets, from which filters get their candidates
//     (indexed_filter.h). Values are read with the filter evaluator's own path grammar
//     (ValuesAt), so an index answers exactly what the evaluator would.
// The payload-index issue (#17) goes on from here: every field type, kept exact on appendable
// segments too, persisted with the segment.
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
#include "index/field/keyword_index.h"
#include "index/field/numeric_index.h"

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
  // The field's string values (keyword), integer values, and numeric values (integers and
  // floats, as doubles), over the live points, each built on first use.
  std::shared_ptr<const index::KeywordIndex> Strings(const std::string& field, const IdTracker& ids,
                                                     const PayloadStorage& payloads) const;
  std::shared_ptr<const index::IntegerIndex> Integers(const std::string& field,
                                                      const IdTracker& ids,
                                                      const PayloadStorage& payloads) const;
  std::shared_ptr<const index::FloatIndex> Numbers(const std::string& field, const IdTracker& ids,
                                                   const PayloadStorage& payloads) const;

 private:
  template <typename Index, typename Build>
  std::shared_ptr<const Index> Cached(std::map<std::string, std::shared_ptr<const Index>>& cache,
                                      const std::string& field, Build build) const;

  mutable RankedMutex mu_{LockRank::kLeaf, "SegmentPayloadIndex::mu_"};
  mutable std::map<std::string, std::shared_ptr<const FieldStats>> fields_;  // guarded by mu_
  mutable std::map<std::string, std::shared_ptr<const index::KeywordIndex>> strings_;  // mu_
  mutable std::map<std::string, std::shared_ptr<const index::IntegerIndex>> integers_;  // mu_
  mutable std::map<std::string, std::shared_ptr<const index::FloatIndex>> numbers_;    // mu_
};

}  // namespace tessera::engine

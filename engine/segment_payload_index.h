#pragma once

// A segment's payload index: per indexed field, what the segment's values there are. Two kinds:
//   - value counts (FieldStats), for the planner's estimates on sealed segments;
//   - the offsets with any non-null value (payload_schema's point counts in collection info);
//   - field indexes (index/field/): the strings (keyword), the integers and the numbers of the
//     field, each value -> a Roaring bitmap of offsets, from which filters get their candidates
//     (indexed_filter.h). Values are read with the filter evaluator's own path grammar
//     (ValuesAt), so an index answers exactly what the evaluator would. Each is built on first
//     use at the segment's body generation and rebuilt when that has moved (a payload or a
//     point changed; tombstones do not move it: readers check them). A sealed segment's never
//     moves; an appendable segment's index is rebuilt after writes.
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
#include "index/field/geo_index.h"
#include "index/field/keyword_index.h"
#include "index/field/numeric_index.h"
#include "index/field/text_tokenizer.h"

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
  // `generation`: the segment's body generation now.
  std::shared_ptr<const index::KeywordIndex> Strings(const std::string& field, uint64_t generation,
                                                     const IdTracker& ids,
                                                     const PayloadStorage& payloads) const;
  std::shared_ptr<const index::IntegerIndex> Integers(const std::string& field,
                                                      uint64_t generation, const IdTracker& ids,
                                                      const PayloadStorage& payloads) const;
  std::shared_ptr<const index::FloatIndex> Numbers(const std::string& field, uint64_t generation,
                                                   const IdTracker& ids,
                                                   const PayloadStorage& payloads) const;
  // The field's string values as `tokenizer` cuts them (a text index): token -> the offsets
  // whose values hold it. Built per tokenizer (an index recreated with other parameters gets
  // its own).
  std::shared_ptr<const index::KeywordIndex> Tokens(
      const std::string& field, uint64_t generation,
      const std::shared_ptr<const index::TextTokenizer>& tokenizer, const IdTracker& ids,
      const PayloadStorage& payloads) const;
  // The field's booleans ("true" / "false" -> offsets) and its datetimes (RFC 3339 strings, as
  // microseconds since the epoch).
  std::shared_ptr<const index::KeywordIndex> Bools(const std::string& field, uint64_t generation,
                                                   const IdTracker& ids,
                                                   const PayloadStorage& payloads) const;
  std::shared_ptr<const index::FloatIndex> Datetimes(const std::string& field, uint64_t generation,
                                                     const IdTracker& ids,
                                                     const PayloadStorage& payloads) const;
  // The field's geo points ({lon, lat} objects, as the filter evaluator reads them).
  std::shared_ptr<const index::GeoIndex> Geo(const std::string& field, uint64_t generation,
                                             const IdTracker& ids,
                                             const PayloadStorage& payloads) const;
  // The live offsets with at least one non-null value at `field` (payload_schema's counts).
  std::shared_ptr<const index::Postings> Present(const std::string& field, uint64_t generation,
                                                 const IdTracker& ids,
                                                 const PayloadStorage& payloads) const;

 private:
  template <typename Index>
  using Cache = std::map<std::string, std::pair<uint64_t, std::shared_ptr<const Index>>>;
  template <typename Index, typename Build>
  std::shared_ptr<const Index> Cached(Cache<Index>& cache, const std::string& field,
                                      uint64_t generation, Build build) const;

  mutable RankedMutex mu_{LockRank::kLeaf, "SegmentPayloadIndex::mu_"};
  mutable std::map<std::string, std::shared_ptr<const FieldStats>> fields_;  // guarded by mu_
  // By field: the generation each was built at, and the index. Guarded by mu_.
  mutable Cache<index::KeywordIndex> strings_;
  mutable Cache<index::IntegerIndex> integers_;
  mutable Cache<index::FloatIndex> numbers_;
  mutable Cache<index::Postings> present_;
  mutable Cache<index::KeywordIndex> tokens_;
  mutable Cache<index::KeywordIndex> bools_;
  mutable Cache<index::FloatIndex> datetimes_;
  mutable Cache<index::GeoIndex> geo_;  // by "<field>\x1f<tokenizer address>"
};

}  // namespace tessera::engine

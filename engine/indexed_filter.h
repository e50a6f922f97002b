#pragma once

// What a segment's payload indexes answer of a filter, so that a search, a count or a scan
// visits candidates instead of every point's JSON. A condition an index answers exactly is
// match value / any on strings, integers and booleans, a range on numbers, a datetime_range,
// a text match (all tokens, any token) on a text index, of an indexed field, and has_id; a
// phrase on a text index and a geo condition on a geo index are answered as supersets (the
// tokens, the grid cells around the area); a nested filter is answered as a filter. `must`
// answers are intersected, `should` answers united (when every `should` condition is
// answered), exact `must_not` answers subtracted. When every condition was answered exactly the
// bitmap is the filter's answer (no payload is read); otherwise it holds every match and each
// candidate is still checked with the evaluator. Offsets may be tombstoned: callers check.
// (Part of the payload-index issue, #17: values_count, is_empty/is_null, `nested` conditions
// and min_should still go through the evaluator.)

#include <optional>

#include "engine/collection_config.h"
#include "engine/filter.h"
#include "engine/records.h"
#include "engine/segment.h"

namespace tessera::engine {

struct IndexedCandidates {
  index::Postings offsets;
  bool exact = false;  // the filter accepts exactly these (live) offsets
};

// Builds the field indexes the collection's payload indexes declare (by schema type, the ones
// their conditions read, and the non-null postings collection info counts) on `segment`, so
// its first filtered request does not pay for them. Call on a segment nobody else can see
// yet (a new sealed segment before it is swapped in), or under its lock (shared).
void BuildDeclaredIndexes(const Segment& segment, const CollectionConfig& config);

// Nullopt when no condition could be answered by an index.
std::optional<IndexedCandidates> IndexedCandidatesFor(const Filter& filter, const Segment& segment,
                                                      const CollectionConfig& config);

// Calls f(o) for each live offset of `segment` that `filter` accepts, ascending, given what
// IndexedCandidatesFor answered for it (nullopt: nothing): only the candidates then (each
// checked with the evaluator unless the answer is exact), else every offset.
template <typename F>
void ForEachMatchOf(const Filter& filter, const Segment& segment,
                    const std::optional<IndexedCandidates>& candidates, F&& f) {
  if (candidates) {
    for (Offset o : candidates->offsets) {
      if (o < segment.size() && !segment.deleted(o) &&
          (candidates->exact || Accepts(&filter, segment, o))) {
        f(o);
      }
    }
    return;
  }
  for (Offset o = 0; o < segment.size(); ++o) {
    if (!segment.deleted(o) && Accepts(&filter, segment, o)) {
      f(o);
    }
  }
}

// The same from the filter (every live offset when it is null), with the payload indexes of
// `config` (null: none, every offset is checked). requires the segment lock (shared).
template <typename F>
void ForEachMatch(PointFilter filter, const Segment& segment, const CollectionConfig* config,
                  F&& f) {
  if (filter == nullptr) {
    for (Offset o = 0; o < segment.size(); ++o) {
      if (!segment.deleted(o)) {
        f(o);
      }
    }
    return;
  }
  ForEachMatchOf(*filter, segment,
                 config != nullptr ? IndexedCandidatesFor(*filter, segment, *config) : std::nullopt,
                 f);
}

}  // namespace tessera::engine

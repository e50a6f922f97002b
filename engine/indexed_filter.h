#pragma once

// What a segment's payload indexes answer of a filter, so that a search, a count or a
// scan visits candidates instead of every point's JSON. The `must` conditions an index answers
// exactly (match value / any on strings and integers, range on numbers, of an indexed field;
// has_id) are intersected into one bitmap of offsets; when those were the filter's only
// conditions, the bitmap is the filter's exact answer (no payload is read), otherwise every
// candidate is still checked with the evaluator. Offsets may be tombstoned: callers check.
// (Part of the payload-index issue, #17: should / must_not / nested and the other field types
// still go through the evaluator.)

#include <optional>

#include "engine/collection_config.h"
#include "engine/filter.h"
#include "engine/segment.h"

namespace tessera::engine {

struct IndexedCandidates {
  index::Postings offsets;
  bool exact = false;  // the filter accepts exactly these (live) offsets
};

// Nullopt when no condition could be answered by an index.
std::optional<IndexedCandidates> IndexedCandidatesFor(const Filter& filter, const Segment& segment,
                                                      const CollectionConfig& config);

}  // namespace tessera::engine

#pragma once

// Reading points out of a segment: whether a filter accepts a live point, and the record a
// read returns. requires the segment lock (shared) for as long as the segment is read.

#include "engine/query.h"
#include "engine/segment.h"

namespace tessera::engine {

// Whether `filter` (nullptr: none) accepts the live point at `o` of `segment`.
bool Accepts(PointFilter filter, const Segment& segment, Offset o);

// The record of the point at `o`, with its payload and vectors when asked for.
PointRecord MakeRecord(const Segment& segment, Offset o, bool with_payload, bool with_vectors);

}  // namespace tessera::engine

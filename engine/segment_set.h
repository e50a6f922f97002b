#pragma once

// The segments of one collection: the floor every other part stands on. It owns the list
// (sealed segments first, the appendable one last), the segment id counter and the state lock
// that guards them and the segments themselves.
//
// Locking: readers (search, scans, retrieve, info, the flusher's snapshot) hold mu() shared;
// the update worker holds it exclusive per record, the optimizer briefly to copy a segment and
// to swap its optimized copy in. Nothing does file I/O while holding it exclusive, and nothing
// fsyncs while holding it at all.

#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <utility>
#include <vector>

#include "common/lock_order.h"
#include "engine/segment.h"

namespace tessera::engine {

// Where a live point is: which segment (an index into segments()) and at which offset.
struct PointLocation {
  size_t segment = 0;
  Offset offset = 0;
};

class SegmentSet {
 public:
  // `loaded` in manifest order; an appendable segment is added if the last one is sealed.
  SegmentSet(std::vector<std::shared_ptr<Segment>> loaded, uint64_t next_segment_id,
             std::vector<VectorSpec> specs);

  RankedSharedMutex& mu() const { return mu_; }

  // ---- requires mu() (shared or exclusive) ----
  const std::vector<std::shared_ptr<Segment>>& segments() const { return segments_; }
  const Segment& appendable() const { return *segments_.back(); }
  uint64_t next_segment_id() const { return next_segment_id_; }
  // The live copy of `id`, searching newest first.
  std::optional<PointLocation> Locate(const PointId& id) const;
  // The highest version of `id`, live or tombstoned, in any segment; 0 if unknown.
  SeqNo Version(const PointId& id) const;

  // ---- requires mu() exclusive ----
  Segment& mutable_appendable() { return *segments_.back(); }
  Segment& mutable_segment(size_t i) { return *segments_[i]; }
  // Moves the live point at `at` into the appendable segment (tombstoning it at `seq` where it
  // was) and returns its offset there; a point already in the appendable segment stays.
  Offset MakeWritable(PointLocation at, SeqNo seq);
  // Seals the appendable segment and starts a new one.
  void SealAppendable();
  // A fresh segment id (for an optimized copy).
  uint64_t AllocateId() { return next_segment_id_++; }
  // Puts `copy` where the first of `old` is and removes the others; false (changing nothing)
  // if one of `old` is no longer in the set.
  bool Replace(std::span<const std::shared_ptr<Segment>> old, std::shared_ptr<Segment> copy);

 private:
  void AddAppendable();

  mutable RankedSharedMutex mu_{LockRank::kSegments, "SegmentSet::mu_"};
  const std::vector<VectorSpec> specs_;             // of new appendable segments
  std::vector<std::shared_ptr<Segment>> segments_;  // guarded by mu_; appendable last
  uint64_t next_segment_id_ = 1;                    // guarded by mu_
};

}  // namespace tessera::engine

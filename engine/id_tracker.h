#pragma once

// A segment's id tracker: external PointId <-> internal Offset, and per offset the version that
// last wrote it and whether it is deleted (a tombstone keeps the id and the deleting version, so
// replay can tell an old write from a new one). Offsets are never reused within a segment.
//
// Ids are fixed once a segment is sealed; versions and tombstones are what still changes then,
// so they are persisted apart, in a small file of their own (Segment::SerializeVersions): a
// delete rewrites that file, never the segment's vectors or payloads.
//
// Thread-safety: none of its own (the segment's lock guards it).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/point_id.h"
#include "index/metric.h"
#include "wal/log_format.h"

namespace tessera {
class Decoder;
}  // namespace tessera

namespace tessera::engine {

using index::Offset;
using wal::SeqNo;

class IdTracker {
 public:
  // The offset of `id` whether live or tombstoned.
  std::optional<Offset> Find(const PointId& id) const;
  // The offset of `id` if it is live.
  std::optional<Offset> FindLive(const PointId& id) const;

  size_t size() const { return ids_.size(); }  // offsets, tombstones included
  size_t live_count() const { return live_count_; }
  const PointId& point_id(Offset o) const { return ids_[o]; }
  bool deleted(Offset o) const { return deleted_[o] != 0; }
  SeqNo version(Offset o) const { return versions_[o]; }

  void Reserve(size_t points);
  // A new live offset for `id` (not present yet), at `version`.
  Offset Add(const PointId& id, SeqNo version);
  void SetVersion(Offset o, SeqNo version) { versions_[o] = version; }
  // Tombstones, or revives, offset `o`.
  void SetDeleted(Offset o, bool deleted);

  // What changes in a sealed segment: a copy a flush serializes without the segment's lock.
  struct Versions {
    std::vector<uint8_t> deleted;
    std::vector<SeqNo> versions;
  };
  Versions CopyVersions() const { return {deleted_, versions_}; }

  // ids := n:varint id*[n]      (point_id.h's id)
  void EncodeIds(std::string* out) const;
  // Reads what EncodeIds wrote into an empty tracker: every offset live at version 0 until
  // DecodeVersions (or SetVersion/SetDeleted) says otherwise. False if malformed.
  bool DecodeIds(Decoder* in);
  // versions := n:varint (deleted:bool version:varint)*[n]
  static void EncodeVersions(const Versions& versions, std::string* out);
  // Reads what EncodeVersions wrote for exactly this tracker's offsets. False if malformed.
  bool DecodeVersions(Decoder* in);

 private:
  std::vector<PointId> ids_;
  std::unordered_map<PointId, Offset, PointIdHash> offsets_;
  std::vector<uint8_t> deleted_;
  std::vector<SeqNo> versions_;
  size_t live_count_ = 0;
};

}  // namespace tessera::engine

#pragma once

// A collection's manifest: which segment files hold its state, at which applied operation.
// Replaced atomically (temp file, fsync, rename, fsync the folder); a manifest names only files
// that were durable before it was written, so the WAL may be truncated below persisted_seq.
//
//   manifest.bin := magic:"TSMF" version:fixed32(=2) body crc32c(body):fixed32
//   body         := persisted_seq:varint next_segment_id:varint n:varint segment*[n]
//   segment      := body_file:lp versions_file:lp
// Version 1 named one file per segment (`body_file` only): a segment body of format version 1,
// which holds its versions and tombstones itself.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "wal/log_format.h"

namespace tessera::engine {

inline constexpr const char* kSegmentsDir = "segments";
inline constexpr const char* kManifestFile = "manifest.bin";

// One segment's files (segment.h): its body, and its versions and tombstones ("" for a body of
// format version 1).
struct SegmentFiles {
  std::string body;
  std::string versions;
  bool operator==(const SegmentFiles&) const = default;
};

struct Manifest {
  wal::SeqNo persisted_seq = 0;  // every record up to here is in the files
  uint64_t next_segment_id = 1;
  std::vector<SegmentFiles> segments;  // files in the segments folder, in segment order
  // Every file `segments` names.
  std::vector<std::string> files() const;
};

std::string EncodeManifest(const Manifest& manifest);
Result<Manifest> DecodeManifest(std::string_view bytes);

// The manifest in `segments_dir`, or nullopt when there is none yet (a new collection).
Result<std::optional<Manifest>> ReadManifest(const std::filesystem::path& segments_dir);
// Replaces the manifest in `segments_dir` atomically and durably.
Status WriteManifest(const std::filesystem::path& segments_dir, const Manifest& manifest);

}  // namespace tessera::engine

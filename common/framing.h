#pragma once

// The frame every small persisted file uses (collection config, aliases, segment manifest,
// segment data):
//
//   file := magic:4 bytes  version:fixed32  body  crc32c(body):fixed32
//
// so that a file can be recognised, versioned, and checked before its body is decoded.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tessera {

std::string FrameFile(std::string_view magic, uint32_t version, std::string_view body);

struct FramedBody {
  uint32_t version;
  std::string_view body;  // points into the bytes given to Unframe
};

// Checks the magic, a version in [1, max_version] and the checksum. Damage is a Corruption
// whose message starts with `what`.
Result<FramedBody> UnframeFile(std::string_view bytes, std::string_view magic, uint32_t max_version,
                               std::string_view what);

}  // namespace tessera

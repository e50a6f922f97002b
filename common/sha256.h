#pragma once

// SHA-256 (OpenSSL's libcrypto), as lower-case hex: snapshot checksums.

#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tessera {

std::string Sha256Hex(std::string_view data);
// Streams the file; IoError if it cannot be read.
Result<std::string> Sha256FileHex(const std::filesystem::path& path);

}  // namespace tessera

#pragma once

// CRC32C (Castagnoli), the checksum of every WAL record and persisted file. Uses the SSE4.2
// instruction when the CPU has it, a table otherwise; both give the same values.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tessera::crc32c {

// Extends `crc` (the CRC of some earlier bytes, 0 for none) with `data`.
uint32_t Extend(uint32_t crc, const void* data, size_t size);
inline uint32_t Value(std::string_view data) {
  return Extend(0, data.data(), data.size());
}

}  // namespace tessera::crc32c

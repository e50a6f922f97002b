#pragma once

// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012), written from
// the paper: 64-bit output of a 128-bit key (k0, k1 as little-endian words) over a message.
// Qdrant's `slice` condition assigns a point to hash(id) % total with a zero key.

#include <cstdint>
#include <string_view>

namespace tessera {

uint64_t SipHash24(uint64_t k0, uint64_t k1, std::string_view message);

}  // namespace tessera

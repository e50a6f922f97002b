#include "common/siphash.h"

#include <bit>

namespace tessera {

namespace {

struct State {
  uint64_t v0, v1, v2, v3;
  void Round() {  // one SipRound
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  }
  void Compress(uint64_t m) {  // c = 2 rounds per message word
    v3 ^= m;
    Round();
    Round();
    v0 ^= m;
  }
};

uint64_t LittleEndian(const char* p, size_t n) {
  uint64_t out = 0;
  for (size_t i = 0; i < n; ++i) {
    out |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  }
  return out;
}

}  // namespace

uint64_t SipHash24(uint64_t k0, uint64_t k1, std::string_view message) {
  State s{k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
          k1 ^ 0x7465646279746573ULL};
  const size_t whole = message.size() / 8 * 8;
  for (size_t i = 0; i < whole; i += 8) {
    s.Compress(LittleEndian(message.data() + i, 8));
  }
  // The last word: the remaining bytes, and the message length (mod 256) in the top byte.
  s.Compress(LittleEndian(message.data() + whole, message.size() - whole) |
             (static_cast<uint64_t>(message.size() & 0xff) << 56));
  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) {  // d = 4 finalization rounds
    s.Round();
  }
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace tessera

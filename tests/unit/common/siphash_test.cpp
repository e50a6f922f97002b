#include "common/siphash.h"

#include <string>

#include <gtest/gtest.h>

namespace tessera {
namespace {

// The SipHash paper's vectors (appendix A, and the reference implementation's table): key
// 00 01 .. 0f, messages 00 01 .. (n-1).
TEST(SipHashTest, MatchesPublishedVectors) {
  const uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
  std::string message;
  for (int i = 0; i < 15; ++i) {
    message.push_back(static_cast<char>(i));
  }
  EXPECT_EQ(SipHash24(k0, k1, message), 0xa129ca6149be45e5ULL);  // the paper's 15 bytes
  EXPECT_EQ(SipHash24(k0, k1, ""), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(SipHash24(k0, k1, message.substr(0, 8)), 0x93f5f5799a932462ULL);
  EXPECT_NE(SipHash24(0, 0, message), SipHash24(k0, k1, message));
}

}  // namespace
}  // namespace tessera

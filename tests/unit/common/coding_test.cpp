#include "common/coding.h"

#include <limits>

#include <gtest/gtest.h>

namespace tessera {
namespace {

TEST(CodingTest, RoundTripsEveryKind) {
  std::string buf;
  PutFixed32(&buf, 0xdeadbeef);
  PutFixed64(&buf, 0x0123456789abcdefULL);
  const uint64_t varints[] = {
      0, 1, 127, 128, 300, 1ULL << 35, std::numeric_limits<uint64_t>::max()};
  for (uint64_t v : varints) {
    PutVarint64(&buf, v);
  }
  PutDouble(&buf, -2.5);
  PutFloat(&buf, 0.125f);
  PutBool(&buf, true);
  PutLengthPrefixed(&buf, "hello");

  Decoder d(buf);
  uint32_t f32;
  uint64_t f64;
  ASSERT_TRUE(d.GetFixed32(&f32));
  EXPECT_EQ(f32, 0xdeadbeefu);
  ASSERT_TRUE(d.GetFixed64(&f64));
  EXPECT_EQ(f64, 0x0123456789abcdefULL);
  for (uint64_t v : varints) {
    uint64_t got;
    ASSERT_TRUE(d.GetVarint64(&got));
    EXPECT_EQ(got, v);
  }
  double dv;
  float fv;
  bool b;
  std::string_view s;
  ASSERT_TRUE(d.GetDouble(&dv));
  EXPECT_EQ(dv, -2.5);
  ASSERT_TRUE(d.GetFloat(&fv));
  EXPECT_EQ(fv, 0.125f);
  ASSERT_TRUE(d.GetBool(&b));
  EXPECT_TRUE(b);
  ASSERT_TRUE(d.GetLengthPrefixed(&s));
  EXPECT_EQ(s, "hello");
  EXPECT_TRUE(d.empty());
}

TEST(CodingTest, DecoderRefusesToReadPastTheEnd) {
  std::string buf;
  PutLengthPrefixed(&buf, "hello");
  buf.pop_back();  // the string is now one byte short
  Decoder d(buf);
  std::string_view s;
  EXPECT_FALSE(d.GetLengthPrefixed(&s));

  Decoder short_fixed(std::string_view("\x01\x02\x03", 3));
  uint32_t v;
  EXPECT_FALSE(short_fixed.GetFixed32(&v));

  Decoder unterminated(std::string_view("\x80\x80", 2));
  uint64_t u;
  EXPECT_FALSE(unterminated.GetVarint64(&u));

  const std::string overlong_bytes = std::string(10, '\xff') + "\x01";  // > 64 bits
  Decoder overlong(overlong_bytes);
  EXPECT_FALSE(overlong.GetVarint64(&u));

  Decoder bad_bool(std::string_view("\x02", 1));
  bool b;
  EXPECT_FALSE(bad_bool.GetBool(&b));
}

}  // namespace
}  // namespace tessera

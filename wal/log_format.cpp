#include "wal/log_format.h"

#include <charconv>
#include <cstdio>

#include "common/coding.h"
#include "common/crc32c.h"

namespace tessera::wal {

std::string LogFileName(SeqNo first_seq) {
  char name[64];
  std::snprintf(name, sizeof(name), "wal-%020llu.log", static_cast<unsigned long long>(first_seq));
  return name;
}

std::optional<SeqNo> ParseLogFileName(std::string_view name) {
  constexpr std::string_view kPrefix = "wal-";
  constexpr std::string_view kSuffix = ".log";
  if (name.size() != kPrefix.size() + 20 + kSuffix.size() || !name.starts_with(kPrefix) ||
      !name.ends_with(kSuffix)) {
    return std::nullopt;
  }
  const std::string_view digits = name.substr(kPrefix.size(), 20);
  SeqNo seq = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return seq;
}

std::string EncodeFileHeader(SeqNo first_seq) {
  std::string out(kFileMagic);
  PutFixed32(&out, kFormatVersion);
  PutFixed64(&out, first_seq);
  return out;
}

void EncodeRecord(uint8_t type, SeqNo seq, std::string_view body, std::string* out) {
  char meta[9];
  meta[0] = static_cast<char>(type);
  for (int i = 0; i < 8; ++i) {
    meta[1 + i] = static_cast<char>((seq >> (8 * i)) & 0xff);
  }
  uint32_t crc = crc32c::Extend(0, meta, sizeof(meta));
  crc = crc32c::Extend(crc, body.data(), body.size());
  PutFixed32(out, static_cast<uint32_t>(body.size()));
  PutFixed32(out, crc);
  out->append(meta, sizeof(meta));
  out->append(body.data(), body.size());
}

}  // namespace tessera::wal

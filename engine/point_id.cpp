#include "engine/point_id.h"

#include <cstring>

#include "common/coding.h"

namespace tessera::engine {

std::optional<PointId> PointId::ParseUuid(std::string_view text) {
  if (text.starts_with("urn:uuid:")) {
    text.remove_prefix(9);
  } else if (text.size() == 38 && text.front() == '{' && text.back() == '}') {
    text = text.substr(1, 36);
  }
  std::string digits;
  if (text.size() == 36) {
    for (size_t i = 0; i < text.size(); ++i) {
      const bool dash_pos = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash_pos != (text[i] == '-')) {
        return std::nullopt;
      }
      if (!dash_pos) {
        digits.push_back(text[i]);
      }
    }
  } else if (text.size() == 32) {
    digits = std::string(text);
  } else {
    return std::nullopt;
  }
  std::array<uint8_t, 16> bytes{};
  for (size_t i = 0; i < 16; ++i) {
    const int hi = HexDigitValue(digits[2 * i]);
    const int lo = HexDigitValue(digits[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return Uuid(bytes);
}

std::string PointId::ToString() const {
  if (!is_uuid_) {
    return std::to_string(num_);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      out.push_back('-');
    }
    out.push_back(kHex[uuid_[i] >> 4]);
    out.push_back(kHex[uuid_[i] & 0xf]);
  }
  return out;
}

size_t PointId::Hash() const {
  if (!is_uuid_) {
    return std::hash<uint64_t>()(num_);
  }
  uint64_t a = 0, b = 0;
  for (size_t i = 0; i < 8; ++i) {
    a = (a << 8) | uuid_[i];
    b = (b << 8) | uuid_[8 + i];
  }
  return std::hash<uint64_t>()(a ^ (b * 0x9e3779b97f4a7c15ULL)) ^ 0x5bd1e995;
}

void PutPointId(std::string* out, const PointId& id) {
  if (id.is_uuid()) {
    out->push_back(1);
    out->append(reinterpret_cast<const char*>(id.uuid().data()), 16);
  } else {
    out->push_back(0);
    PutVarint64(out, id.num());
  }
}

bool GetPointId(Decoder* in, PointId* id) {
  Decoder& d = *in;
  std::string_view tag;
  if (!d.GetBytes(1, &tag)) {
    return false;
  }
  if (tag[0] == 0) {
    uint64_t n;
    if (!d.GetVarint64(&n)) {
      return false;
    }
    *id = PointId::Num(n);
  } else {
    std::string_view raw;
    if (tag[0] != 1 || !d.GetBytes(16, &raw)) {
      return false;
    }
    std::array<uint8_t, 16> bytes;
    std::memcpy(bytes.data(), raw.data(), 16);
    *id = PointId::Uuid(bytes);
  }
  return true;
}

}  // namespace tessera::engine

#pragma once

// Little-endian fixed-width and varint encoding for Tessera's binary formats (WAL record bodies,
// operation lists, persisted metadata). Encoders append to a std::string; Decoder reads from a
// borrowed byte range and fails (returns false) instead of reading past its end.

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tessera {

inline void PutFixed32(std::string* out, uint32_t v) {
  char buf[4];
  for (int i = 0; i < 4; ++i) {
    buf[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  }
  out->append(buf, 4);
}

inline void PutFixed64(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) {
    buf[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  }
  out->append(buf, 8);
}

inline void PutVarint64(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

inline void PutDouble(std::string* out, double v) {
  PutFixed64(out, std::bit_cast<uint64_t>(v));
}
inline void PutFloat(std::string* out, float v) {
  PutFixed32(out, std::bit_cast<uint32_t>(v));
}

inline void PutLengthPrefixed(std::string* out, std::string_view bytes) {
  PutVarint64(out, bytes.size());
  out->append(bytes.data(), bytes.size());
}

inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  }
  return v;
}

inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  }
  return v;
}

// Reads values in the order they were put. Every getter returns false, consuming nothing
// further, when the input is too short or malformed.
class Decoder {
 public:
  explicit Decoder(std::string_view input) : rest_(input) {}

  bool empty() const { return rest_.empty(); }
  size_t remaining() const { return rest_.size(); }

  bool GetFixed32(uint32_t* v) {
    if (rest_.size() < 4) {
      return false;
    }
    *v = DecodeFixed32(rest_.data());
    rest_.remove_prefix(4);
    return true;
  }
  bool GetFixed64(uint64_t* v) {
    if (rest_.size() < 8) {
      return false;
    }
    *v = DecodeFixed64(rest_.data());
    rest_.remove_prefix(8);
    return true;
  }
  bool GetVarint64(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift <= 63 && !rest_.empty(); shift += 7) {
      const auto byte = static_cast<unsigned char>(rest_.front());
      rest_.remove_prefix(1);
      if (shift == 63 && byte > 1) {
        return false;  // more than 64 bits
      }
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool GetDouble(double* v) {
    uint64_t bits;
    if (!GetFixed64(&bits)) {
      return false;
    }
    *v = std::bit_cast<double>(bits);
    return true;
  }
  bool GetFloat(float* v) {
    uint32_t bits;
    if (!GetFixed32(&bits)) {
      return false;
    }
    *v = std::bit_cast<float>(bits);
    return true;
  }
  bool GetBool(bool* v) {
    if (rest_.empty() || static_cast<unsigned char>(rest_.front()) > 1) {
      return false;
    }
    *v = rest_.front() == 1;
    rest_.remove_prefix(1);
    return true;
  }
  bool GetLengthPrefixed(std::string_view* bytes) {
    uint64_t len;
    if (!GetVarint64(&len) || len > rest_.size()) {
      return false;
    }
    *bytes = rest_.substr(0, static_cast<size_t>(len));
    rest_.remove_prefix(static_cast<size_t>(len));
    return true;
  }
  bool GetBytes(size_t n, std::string_view* bytes) {
    if (n > rest_.size()) {
      return false;
    }
    *bytes = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return true;
  }

 private:
  std::string_view rest_;
};

inline void PutBool(std::string* out, bool v) {
  out->push_back(v ? 1 : 0);
}

// The value of a hexadecimal digit (either case), or -1.
inline int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace tessera

#pragma once

// PointId: a point's external id, an unsigned 64-bit integer or a UUID, as in Qdrant. Integer
// ids order before UUIDs; UUIDs order by their 128-bit value (the scroll order).

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace tessera {
class Decoder;
}  // namespace tessera

namespace tessera::engine {

class PointId {
 public:
  PointId() = default;
  static PointId Num(uint64_t n) {
    PointId id;
    id.num_ = n;
    return id;
  }
  static PointId Uuid(const std::array<uint8_t, 16>& bytes) {
    PointId id;
    id.is_uuid_ = true;
    id.uuid_ = bytes;
    return id;
  }
  // Parses the canonical 8-4-4-4-12 hex form (any case), the 32-digit simple form, a braced
  // {...} form or a urn:uuid: prefix, as Rust's uuid crate does. Nullopt if invalid.
  static std::optional<PointId> ParseUuid(std::string_view text);

  bool is_uuid() const { return is_uuid_; }
  uint64_t num() const { return num_; }
  const std::array<uint8_t, 16>& uuid() const { return uuid_; }
  // "42" or "550e8400-e29b-41d4-a716-446655440000" (lower-case hyphenated).
  std::string ToString() const;

  std::strong_ordering operator<=>(const PointId& other) const {
    if (is_uuid_ != other.is_uuid_) {
      return is_uuid_ ? std::strong_ordering::greater : std::strong_ordering::less;
    }
    if (!is_uuid_) {
      return num_ <=> other.num_;
    }
    return uuid_ <=> other.uuid_;
  }
  bool operator==(const PointId& other) const = default;

  size_t Hash() const;

 private:
  bool is_uuid_ = false;
  uint64_t num_ = 0;
  std::array<uint8_t, 16> uuid_{};
};

// The binary form every engine codec uses (WAL lists, filters, segment files):
//   id := 0 num:varint | 1 uuid:16 bytes
void PutPointId(std::string* out, const PointId& id);
// Reads one id; false if malformed.
bool GetPointId(Decoder* in, PointId* id);

struct PointIdHash {
  size_t operator()(const PointId& id) const { return id.Hash(); }
};

}  // namespace tessera::engine

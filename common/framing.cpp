#include "common/framing.h"

#include "common/coding.h"
#include "common/crc32c.h"

namespace tessera {

std::string FrameFile(std::string_view magic, uint32_t version, std::string_view body) {
  std::string out(magic);
  out.reserve(magic.size() + body.size() + 8);
  PutFixed32(&out, version);
  out.append(body.data(), body.size());
  PutFixed32(&out, crc32c::Value(body));
  return out;
}

Result<FramedBody> UnframeFile(std::string_view bytes, std::string_view magic, uint32_t max_version,
                               std::string_view what) {
  const std::string prefix = std::string(what) + ": ";
  if (bytes.size() < magic.size() + 8 || bytes.substr(0, magic.size()) != magic) {
    return Status::Corruption(prefix + "bad magic or too short");
  }
  const uint32_t version = DecodeFixed32(bytes.data() + magic.size());
  if (version < 1 || version > max_version) {
    return Status::Corruption(prefix + "unsupported version " + std::to_string(version));
  }
  const std::string_view body = bytes.substr(magic.size() + 4, bytes.size() - magic.size() - 8);
  if (crc32c::Value(body) != DecodeFixed32(bytes.data() + bytes.size() - 4)) {
    return Status::Corruption(prefix + "checksum mismatch");
  }
  return FramedBody{version, body};
}

}  // namespace tessera

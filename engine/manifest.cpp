#include "engine/manifest.h"

#include "common/coding.h"
#include "common/file.h"
#include "common/framing.h"

namespace tessera::engine {

namespace {
constexpr std::string_view kManifestMagic = "TSMF";
constexpr uint32_t kManifestVersion = 2;  // 1: one file per segment
}  // namespace

std::string EncodeManifest(const Manifest& m) {
  std::string body;
  PutVarint64(&body, m.persisted_seq);
  PutVarint64(&body, m.next_segment_id);
  PutVarint64(&body, m.segments.size());
  for (const SegmentFiles& f : m.segments) {
    PutLengthPrefixed(&body, f.body);
    PutLengthPrefixed(&body, f.versions);
  }
  return FrameFile(kManifestMagic, kManifestVersion, body);
}

Result<Manifest> DecodeManifest(std::string_view bytes) {
  TESSERA_ASSIGN_OR_RETURN(FramedBody framed,
                           UnframeFile(bytes, kManifestMagic, kManifestVersion, "manifest"));
  Decoder d(framed.body);
  Manifest m;
  uint64_t n;
  if (!d.GetVarint64(&m.persisted_seq) || !d.GetVarint64(&m.next_segment_id) ||
      !d.GetVarint64(&n) || n > d.remaining()) {
    return Status::Corruption("manifest: malformed body");
  }
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view body, versions;
    if (!d.GetLengthPrefixed(&body) || (framed.version >= 2 && !d.GetLengthPrefixed(&versions))) {
      return Status::Corruption("manifest: malformed body");
    }
    m.segments.push_back({std::string(body), std::string(versions)});
  }
  if (!d.empty()) {
    return Status::Corruption("manifest: malformed body");
  }
  return m;
}

Result<std::optional<Manifest>> ReadManifest(const std::filesystem::path& segments_dir) {
  const std::filesystem::path path = segments_dir / kManifestFile;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return std::optional<Manifest>();
  }
  TESSERA_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  Result<Manifest> decoded = DecodeManifest(bytes);
  if (!decoded.ok()) {
    return decoded.status().WithPrefix(path.string() + ": ");
  }
  return std::optional<Manifest>(std::move(decoded).value());
}

std::vector<std::string> Manifest::files() const {
  std::vector<std::string> out;
  for (const SegmentFiles& f : segments) {
    out.push_back(f.body);
    if (!f.versions.empty()) {
      out.push_back(f.versions);
    }
  }
  return out;
}

Status WriteManifest(const std::filesystem::path& segments_dir, const Manifest& manifest) {
  return WriteFileAtomically(segments_dir / kManifestFile, EncodeManifest(manifest));
}

}  // namespace tessera::engine

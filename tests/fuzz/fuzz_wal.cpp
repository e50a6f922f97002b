// Fuzz target: the WAL reader (wal/log_reader) and the operation-list codec that decodes each
// record's body (engine/operations). An input is mode:u8 rest...
//   even mode: `rest` is a whole log file, header included, as a crash or a bad disk leaves it;
//   odd mode:  `rest` is record bodies separated by the bytes FF 00, which the target frames
//              with correct checksums, so that mutations reach the body decoder.
//
// Oracle: no crash or sanitizer report; the reader never reports more intact records than the
// file holds, reads a well-framed file whole; a body that decodes re-encodes to bytes that decode
// to the same encoding again.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "engine/operations.h"
#include "wal/log_format.h"
#include "wal/log_reader.h"

namespace {

namespace fs = std::filesystem;

// A scratch folder for the log file, removed at exit.
struct ScratchDir {
  ScratchDir() {
    const fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string tmpl = (base / "tessera-fuzz-wal-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::abort();
    }
    path = tmpl;
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  fs::path path;
};

const fs::path& Dir() {
  static const ScratchDir dir;
  return dir.path;
}

void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_wal: %s\n", what.c_str());
  std::abort();
}

void CheckRoundTrip(std::string_view body) {
  auto ops = tessera::engine::DecodeOperationList(body);
  if (!ops.ok()) {
    return;
  }
  const std::string encoded = tessera::engine::EncodeOperationList(*ops);
  auto again = tessera::engine::DecodeOperationList(encoded);
  if (!again.ok()) {
    Fail("a decoded list re-encodes to bytes that do not decode: " + again.status().ToString());
  }
  if (tessera::engine::EncodeOperationList(*again) != encoded) {
    Fail("encoding is not stable across a decode");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool framed = (data[0] & 1) != 0;
  std::string file;
  std::vector<std::string_view> bodies;
  if (framed) {
    file = tessera::wal::EncodeFileHeader(1);
    size_t pos = 0;
    for (;;) {
      const size_t sep = rest.find(std::string_view("\xff\x00", 2), pos);
      bodies.push_back(rest.substr(pos, sep == std::string_view::npos ? sep : sep - pos));
      if (sep == std::string_view::npos) {
        break;
      }
      pos = sep + 2;
    }
    for (size_t i = 0; i < bodies.size(); ++i) {
      tessera::wal::EncodeRecord(1, i + 1, bodies[i], &file);
    }
  } else {
    file.assign(rest);
  }
  for (const auto& entry : fs::directory_iterator(Dir())) {
    fs::remove(entry.path());
  }
  {
    std::ofstream out(Dir() / tessera::wal::LogFileName(1), std::ios::binary);
    out.write(file.data(), static_cast<std::streamsize>(file.size()));
  }
  size_t records = 0;
  auto report = tessera::wal::ReadLog(Dir(), 0, [&](const tessera::wal::Record& r) {
    ++records;
    if (r.seq != records) {
      Fail("records out of sequence");
    }
    if (framed && r.body != bodies[records - 1]) {
      Fail("a framed body read back different");
    }
    CheckRoundTrip(r.body);
    return tessera::Status::Ok();
  });
  if (!report.ok()) {
    return 0;  // an I/O error, not damage
  }
  if (records * tessera::wal::kRecordHeaderSize > file.size()) {
    Fail("more records than the file can hold");
  }
  if (framed &&
      (records != bodies.size() || report->stop_reason != tessera::wal::StopReason::kEndOfLog)) {
    Fail("a well-framed log was not read whole: " + report->detail);
  }
  CheckRoundTrip(rest);  // the codec on arbitrary bytes, too
  return 0;
}

#include "wal/log_reader.h"

#include <algorithm>
#include <system_error>

#include "common/coding.h"
#include "common/crc32c.h"
#include "common/file.h"

namespace tessera::wal {

namespace fs = std::filesystem;

std::string_view StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kEndOfLog:
      return "end of log";
    case StopReason::kTornTail:
      return "torn tail";
    case StopReason::kCorruption:
      return "corruption";
  }
  return "?";
}

Result<std::vector<LogFile>> ListLogFiles(const fs::path& dir) {
  std::vector<LogFile> files;
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    return files;
  }
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (auto seq = ParseLogFileName(entry.path().filename().string())) {
      files.push_back({*seq, entry.path()});
    }
  }
  if (ec) {
    return Status::IoError("wal: list " + dir.string() + ": " + ec.message());
  }
  std::sort(files.begin(), files.end(),
            [](const LogFile& a, const LogFile& b) { return a.first_seq < b.first_seq; });
  return files;
}

namespace {

struct FileScan {
  bool damaged = false;
  bool torn = false;  // the damage is an incomplete record at the very end of the file
  uint64_t stop_offset = 0;
  std::string detail;
};

// Scans one file's bytes; `expected` is the seq its first record must have and is advanced.
Result<FileScan> ScanFile(std::string_view bytes, SeqNo first_seq, SeqNo from, SeqNo* expected,
                          SeqNo* last_seq, const RecordFn& fn) {
  FileScan scan;
  if (bytes.size() < kFileHeaderSize) {
    scan.damaged = true;
    scan.torn = true;
    scan.detail = "file header incomplete";
    return scan;
  }
  if (bytes.substr(0, 4) != kFileMagic || DecodeFixed32(bytes.data() + 4) != kFormatVersion ||
      DecodeFixed64(bytes.data() + 8) != first_seq) {
    scan.damaged = true;
    scan.detail = "bad file header";
    return scan;
  }
  if (first_seq != *expected) {
    scan.damaged = true;
    scan.detail = "file starts at seq " + std::to_string(first_seq) + ", expected " +
                  std::to_string(*expected);
    return scan;
  }
  uint64_t pos = kFileHeaderSize;
  while (pos < bytes.size()) {
    const uint64_t left = bytes.size() - pos;
    scan.stop_offset = pos;
    if (left < kRecordHeaderSize) {
      scan.damaged = true;
      scan.torn = true;
      scan.detail = "record header incomplete";
      return scan;
    }
    const char* p = bytes.data() + pos;
    const uint32_t length = DecodeFixed32(p);
    const uint32_t crc = DecodeFixed32(p + 4);
    const auto type = static_cast<uint8_t>(p[8]);
    const SeqNo seq = DecodeFixed64(p + 9);
    if (length > kMaxRecordBodyBytes) {
      scan.damaged = true;
      scan.detail = "record length " + std::to_string(length) + " out of range";
      return scan;
    }
    if (left < kRecordHeaderSize + length) {
      scan.damaged = true;
      scan.torn = true;
      scan.detail = "record body incomplete";
      return scan;
    }
    const std::string_view body(p + kRecordHeaderSize, length);
    uint32_t actual = crc32c::Extend(0, p + 8, 9);
    actual = crc32c::Extend(actual, body.data(), body.size());
    if (actual != crc) {
      scan.damaged = true;
      // A checksum failure on the file's last record is what a crash mid-write leaves.
      scan.torn = left == kRecordHeaderSize + length;
      scan.detail = "checksum mismatch";
      return scan;
    }
    if (seq != *expected) {
      scan.damaged = true;
      scan.detail = "record seq " + std::to_string(seq) + ", expected " + std::to_string(*expected);
      return scan;
    }
    if (seq >= from) {
      TESSERA_RETURN_IF_ERROR(fn(Record{seq, type, body}));
    }
    *last_seq = seq;
    ++*expected;
    pos += kRecordHeaderSize + length;
  }
  scan.stop_offset = pos;
  return scan;
}

}  // namespace

Result<ReadReport> ReadLog(const fs::path& dir, SeqNo from, const RecordFn& fn) {
  ReadReport report;
  TESSERA_ASSIGN_OR_RETURN(report.files, ListLogFiles(dir));
  if (report.files.empty()) {
    return report;
  }
  SeqNo expected = report.files.front().first_seq;
  report.last_seq = expected - 1;
  for (size_t i = 0; i < report.files.size(); ++i) {
    const LogFile& file = report.files[i];
    TESSERA_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(file.path));
    TESSERA_ASSIGN_OR_RETURN(
        FileScan scan, ScanFile(bytes, file.first_seq, from, &expected, &report.last_seq, fn));
    if (scan.damaged) {
      const bool last_file = i + 1 == report.files.size();
      report.stop_reason = scan.torn && last_file ? StopReason::kTornTail : StopReason::kCorruption;
      report.stop_file = file.path;
      report.stop_offset = scan.stop_offset;
      report.detail = scan.detail;
      return report;
    }
  }
  return report;
}

}  // namespace tessera::wal

#pragma once

// Reads a WAL folder back: every intact record in order, stopping cleanly at the first damage
// (a torn tail or corrupt bytes) and saying where. Never modifies the folder.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "wal/log_format.h"

namespace tessera::wal {

struct Record {
  SeqNo seq = 0;
  uint8_t type = 0;
  std::string_view body;  // valid only during the callback
};

enum class StopReason : uint8_t {
  kEndOfLog,    // every byte was part of an intact record
  kTornTail,    // the last record of the last file is incomplete (a crash mid-append)
  kCorruption,  // bytes that fail their checksum, or break the framing, with data after them
};
std::string_view StopReasonName(StopReason reason);

struct LogFile {
  SeqNo first_seq = 0;
  std::filesystem::path path;
};

struct ReadReport {
  StopReason stop_reason = StopReason::kEndOfLog;
  SeqNo last_seq = 0;  // last intact record (0: none)
  // Where reading stopped (only when stop_reason != kEndOfLog): the file, and the offset of
  // the first byte not part of an intact record.
  std::filesystem::path stop_file;
  uint64_t stop_offset = 0;
  std::string detail;          // what was wrong there
  std::vector<LogFile> files;  // every log file found, by first_seq
};

// The log files in `dir`, sorted by first_seq. A missing folder has none.
Result<std::vector<LogFile>> ListLogFiles(const std::filesystem::path& dir);

// Calls `fn` for each intact record with seq >= `from`, in order, until the first damage.
// A non-OK status from `fn` stops reading and is returned. I/O errors are returned too;
// damage is not an error: it is reported in the ReadReport.
using RecordFn = std::function<Status(const Record&)>;
Result<ReadReport> ReadLog(const std::filesystem::path& dir, SeqNo from, const RecordFn& fn);

}  // namespace tessera::wal

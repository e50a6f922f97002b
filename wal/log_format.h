#pragma once

// The write-ahead log's on-disk format, shared by the reader and the writer. Prose and a
// worked example: wal/FORMAT.md.
//
//   file    := header record*                       named wal-<first_seq, 20 digits>.log
//   header  := magic:"TSWL" version:fixed32(=1) first_seq:fixed64              (16 bytes)
//   record  := length:fixed32 crc:fixed32 type:u8 seq:fixed64 body[length]     (17 + length)
//   crc     := crc32c(type, seq, body)
//
// Sequence numbers start at 1 and rise by one per record across files; a file's first record
// has seq == first_seq. A record never spans two files.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace tessera::wal {

// A record's place in the log. The engine uses it as the client-visible operation_id.
using SeqNo = uint64_t;

inline constexpr std::string_view kFileMagic = "TSWL";
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kFileHeaderSize = 16;
inline constexpr size_t kRecordHeaderSize = 17;
// Larger lengths can only be damage: requests are capped far below this.
inline constexpr uint32_t kMaxRecordBodyBytes = 1u << 30;

std::string LogFileName(SeqNo first_seq);
// The first_seq encoded in a log file name, or nullopt if `name` is not a log file name.
std::optional<SeqNo> ParseLogFileName(std::string_view name);

std::string EncodeFileHeader(SeqNo first_seq);
// Appends one framed record to `out`.
void EncodeRecord(uint8_t type, SeqNo seq, std::string_view body, std::string* out);

}  // namespace tessera::wal

#pragma once

// The write-ahead log of one collection: framed records in rotating files (format in
// log_format.h and FORMAT.md).
//
// Open() recovers: it replays every intact record, truncates a torn tail, moves a corrupt
// suffix byte-for-byte into a quarantine file, and then appends after the last intact record.
// Append() writes a record to the file (the OS page cache): it survives a crash of the process.
// Sync() makes it survive power loss; concurrent callers share one fdatasync (group commit:
// the first waiter syncs for everyone queued behind it). A failed write or fsync latches: every
// later Append() and Sync() returns that error, nothing retries it.
//
// Thread-safe. Lock order: sync_mu_ is never held while taking mu_ and vice versa.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string_view>

#include "common/lock_order.h"
#include "common/file.h"
#include "common/status.h"
#include "wal/log_format.h"
#include "wal/log_reader.h"

namespace tessera::wal {

struct LogOptions {
  // A file is closed and a new one started once it holds at least this many bytes. Files are
  // not preallocated.
  uint64_t file_size_bytes = 32u << 20;
};

struct RecoveryReport {
  ReadReport read;                        // what the reader found
  uint64_t dropped_bytes = 0;             // bytes removed from the log by the repair
  std::filesystem::path quarantine_file;  // where corrupt bytes were kept (empty: none)
  SeqNo dropped_first_seq = 0;            // operation ids held by the dropped bytes, best effort
  SeqNo dropped_last_seq = 0;
};

class Log {
 public:
  // Opens (creating if needed) the log in `dir`. Calls `replay` for every intact record with
  // seq >= `replay_from`. New records get seqs above every intact record and at least
  // `min_next_seq` (so operation ids keep rising after the log was truncated).
  static Result<std::unique_ptr<Log>> Open(const std::filesystem::path& dir,
                                           const LogOptions& options, SeqNo replay_from,
                                           SeqNo min_next_seq, const RecordFn& replay,
                                           RecoveryReport* report);
  ~Log();

  // Appends one record (written to the file, not yet fsynced) and returns its seq.
  Result<SeqNo> Append(uint8_t type, std::string_view body);
  // Returns once every record up to `seq` is fdatasynced (group commit).
  Status Sync(SeqNo seq);
  // Removes every file all of whose records have seq < `seq`; never the file being written.
  Status TruncateBelow(SeqNo seq);

  SeqNo last_seq() const { return last_seq_.load(); }
  SeqNo synced_seq() const;
  // OK, or the latched failure.
  Status health() const;
  size_t file_count() const;
  // How many fdatasync calls Sync() has made (group commit makes this < the number of calls).
  uint64_t sync_count() const { return sync_count_.load(); }
  // Bytes appended (framed records) since Open.
  uint64_t appended_bytes() const { return appended_bytes_.load(); }

 private:
  Log(std::filesystem::path dir, const LogOptions& options);
  Status StartFile(SeqNo first_seq);  // requires mu_
  void Latch(const Status& status);   // requires mu_

  const std::filesystem::path dir_;
  const LogOptions options_;

  mutable RankedMutex mu_{LockRank::kWal, "wal::Log::mu_"};
  std::deque<LogFile> files_;      // guarded by mu_; the last one is being written
  std::shared_ptr<File> current_;  // guarded by mu_
  uint64_t current_size_ = 0;      // guarded by mu_
  Status failure_;                 // guarded by mu_
  std::atomic<bool> failed_{false};
  std::atomic<SeqNo> last_seq_{0};  // written under mu_
  std::atomic<uint64_t> sync_count_{0};
  std::atomic<uint64_t> appended_bytes_{0};

  mutable RankedMutex sync_mu_{LockRank::kWalSync, "wal::Log::sync_mu_"};
  std::condition_variable_any sync_cv_;
  bool syncing_ = false;  // guarded by sync_mu_: a leader is in fdatasync
  SeqNo synced_seq_ = 0;  // guarded by sync_mu_
};

}  // namespace tessera::wal

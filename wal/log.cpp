#include "wal/log.h"

#include <fcntl.h>
#include <system_error>

#include "common/coding.h"
#include "common/logging.h"

namespace tessera::wal {

namespace fs = std::filesystem;

namespace {

// The highest seq among the intact records at the start of `path` (0 if none); used only to
// report which operation ids a repair dropped.
SeqNo LastParsableSeq(const fs::path& path, SeqNo first_seq) {
  SeqNo last = 0;
  SeqNo expected = first_seq;
  Result<std::string> bytes = ReadFileToString(path);
  if (!bytes.ok() || bytes->size() < kFileHeaderSize) {
    return 0;
  }
  // Reuse the reader's framing on a folder-less basis: walk records until they stop parsing.
  std::string_view rest = std::string_view(*bytes).substr(kFileHeaderSize);
  while (rest.size() >= kRecordHeaderSize) {
    const uint32_t length = DecodeFixed32(rest.data());
    const SeqNo seq = DecodeFixed64(rest.data() + 9);
    if (length > rest.size() - kRecordHeaderSize || seq != expected) {
      break;
    }
    last = seq;
    ++expected;
    rest.remove_prefix(kRecordHeaderSize + length);
  }
  return last;
}

}  // namespace

Log::Log(fs::path dir, const LogOptions& options) : dir_(std::move(dir)), options_(options) {}

Log::~Log() = default;

Result<std::unique_ptr<Log>> Log::Open(const fs::path& dir, const LogOptions& options,
                                       SeqNo replay_from, SeqNo min_next_seq,
                                       const RecordFn& replay, RecoveryReport* report) {
  *report = RecoveryReport{};
  TESSERA_RETURN_IF_ERROR(CreateDirDurably(dir));
  TESSERA_ASSIGN_OR_RETURN(report->read, ReadLog(dir, replay_from, replay));
  const ReadReport& read = report->read;
  std::unique_ptr<Log> log(new Log(dir, options));
  std::lock_guard lock(log->mu_);

  std::vector<LogFile> keep;
  if (read.stop_reason == StopReason::kEndOfLog) {
    keep = read.files;
  } else {
    // Repair: everything from the damage on leaves the log.
    size_t damaged = 0;
    while (read.files[damaged].path != read.stop_file) {
      ++damaged;
    }
    const LogFile& file = read.files[damaged];
    TESSERA_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(file.path));
    std::string dropped = bytes.substr(std::min<uint64_t>(read.stop_offset, bytes.size()));
    report->dropped_first_seq = read.last_seq + 1;
    report->dropped_last_seq = read.last_seq;
    for (size_t i = damaged + 1; i < read.files.size(); ++i) {
      TESSERA_ASSIGN_OR_RETURN(std::string later, ReadFileToString(read.files[i].path));
      dropped += later;
      report->dropped_last_seq = std::max(
          report->dropped_last_seq, LastParsableSeq(read.files[i].path, read.files[i].first_seq));
    }
    report->dropped_bytes = dropped.size();
    if (read.stop_reason == StopReason::kCorruption && !dropped.empty()) {
      report->quarantine_file = dir / ("quarantine-" + std::to_string(read.last_seq + 1) + ".bin");
      TESSERA_RETURN_IF_ERROR(WriteFileAtomically(report->quarantine_file, dropped));
    }
    for (size_t i = damaged + 1; i < read.files.size(); ++i) {
      std::error_code ec;
      fs::remove(read.files[i].path, ec);
      if (ec) {
        return Status::IoError("wal: remove " + read.files[i].path.string() + ": " + ec.message());
      }
    }
    keep.assign(read.files.begin(), read.files.begin() + static_cast<long>(damaged));
    if (read.stop_offset >= kFileHeaderSize) {
      TESSERA_ASSIGN_OR_RETURN(File f, File::Open(file.path, O_WRONLY));
      TESSERA_RETURN_IF_ERROR(f.Truncate(read.stop_offset));
      TESSERA_RETURN_IF_ERROR(f.Sync());
      keep.push_back(file);
    } else {
      std::error_code ec;
      fs::remove(file.path, ec);
    }
    TESSERA_RETURN_IF_ERROR(SyncDir(dir));
    TESSERA_LOG(kWarn) << "wal " << dir.string() << ": " << StopReasonName(read.stop_reason)
                       << " at " << file.path.filename().string() << " offset " << read.stop_offset
                       << " (" << read.detail << "); kept records up to " << read.last_seq
                       << ", dropped " << report->dropped_bytes << " bytes"
                       << (report->dropped_last_seq >= report->dropped_first_seq
                               ? " holding operation ids " +
                                     std::to_string(report->dropped_first_seq) + ".." +
                                     std::to_string(report->dropped_last_seq)
                               : std::string())
                       << (report->quarantine_file.empty()
                               ? std::string()
                               : ", kept in " + report->quarantine_file.string());
  }

  SeqNo last = read.last_seq;
  if (last + 1 < min_next_seq) {
    // Every record here is older than what the caller has persisted: start afresh above it.
    for (const LogFile& f : keep) {
      std::error_code ec;
      fs::remove(f.path, ec);
    }
    keep.clear();
    last = min_next_seq - 1;
  }
  log->last_seq_ = last;
  log->synced_seq_ = last;  // what was read back from disk counts as durable enough to build on
  log->files_.assign(keep.begin(), keep.end());
  if (log->files_.empty()) {
    TESSERA_RETURN_IF_ERROR(log->StartFile(last + 1));
  } else {
    const LogFile& tail = log->files_.back();
    TESSERA_ASSIGN_OR_RETURN(File f, File::Open(tail.path, O_WRONLY | O_APPEND));
    TESSERA_ASSIGN_OR_RETURN(log->current_size_, f.Size());
    log->current_ = std::make_shared<File>(std::move(f));
  }
  return log;
}

Status Log::StartFile(SeqNo first_seq) {
  const fs::path path = dir_ / LogFileName(first_seq);
  TESSERA_ASSIGN_OR_RETURN(File f, File::Open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND));
  const std::string header = EncodeFileHeader(first_seq);
  TESSERA_RETURN_IF_ERROR(f.Append(header));
  TESSERA_RETURN_IF_ERROR(f.DataSync());
  TESSERA_RETURN_IF_ERROR(SyncDir(dir_));
  current_ = std::make_shared<File>(std::move(f));
  current_size_ = header.size();
  files_.push_back({first_seq, path});
  return Status::Ok();
}

void Log::Latch(const Status& status) {
  if (failure_.ok()) {
    failure_ = status.WithPrefix("wal: ");
    TESSERA_LOG(kError) << failure_.message() << "; the log refuses further writes";
  }
  failed_ = true;
}

Status Log::health() const {
  if (!failed_) {
    return Status::Ok();
  }
  std::lock_guard lock(mu_);
  return failure_;
}

SeqNo Log::synced_seq() const {
  std::lock_guard lock(sync_mu_);
  return synced_seq_;
}

size_t Log::file_count() const {
  std::lock_guard lock(mu_);
  return files_.size();
}

Result<SeqNo> Log::Append(uint8_t type, std::string_view body) {
  if (body.size() > kMaxRecordBodyBytes) {
    return Status::ResourceExhausted("wal: record of " + std::to_string(body.size()) +
                                     " bytes is larger than allowed");
  }
  std::lock_guard lock(mu_);
  if (failed_) {
    return failure_;
  }
  const SeqNo seq = last_seq_ + 1;
  if (current_size_ >= options_.file_size_bytes) {
    // Rotate: the finished file is made durable before the next one exists, so a damaged
    // record can only ever be in the last file.
    if (Status s = current_->DataSync(); !s.ok()) {
      Latch(s);
      return failure_;
    }
    if (Status s = StartFile(seq); !s.ok()) {
      Latch(s);
      return failure_;
    }
  }
  std::string frame;
  frame.reserve(kRecordHeaderSize + body.size());
  EncodeRecord(type, seq, body, &frame);
  if (Status s = current_->Append(frame); !s.ok()) {
    Latch(s);  // the file may now end in a partial record: nothing more may follow it
    return failure_;
  }
  current_size_ += frame.size();
  appended_bytes_ += frame.size();
  last_seq_ = seq;
  return seq;
}

Status Log::Sync(SeqNo seq) {
  std::unique_lock lk(sync_mu_);
  for (;;) {
    if (failed_) {
      lk.unlock();
      return health();
    }
    if (synced_seq_ >= seq) {
      return Status::Ok();
    }
    if (!syncing_) {
      break;
    }
    sync_cv_.wait(lk);
  }
  // This caller leads: one fdatasync covers every record appended so far.
  syncing_ = true;
  lk.unlock();
  std::shared_ptr<File> file;
  SeqNo target;
  {
    std::lock_guard lock(mu_);
    file = current_;
    target = last_seq_;
  }
  Status s = file->DataSync();
  ++sync_count_;
  if (!s.ok()) {
    std::lock_guard lock(mu_);
    Latch(s);
  }
  lk.lock();
  syncing_ = false;
  if (s.ok() && target > synced_seq_) {
    synced_seq_ = target;
  }
  sync_cv_.notify_all();
  lk.unlock();
  if (!s.ok()) {
    return health();
  }
  return Sync(seq);  // a record appended after our target (if it is `seq`) needs another round
}

Status Log::TruncateBelow(SeqNo seq) {
  std::lock_guard lock(mu_);
  bool removed = false;
  // File i holds seqs [files_[i].first_seq, files_[i+1].first_seq).
  while (files_.size() >= 2 && files_[1].first_seq <= seq) {
    std::error_code ec;
    fs::remove(files_.front().path, ec);
    if (ec) {
      return Status::IoError("wal: remove " + files_.front().path.string() + ": " + ec.message());
    }
    files_.pop_front();
    removed = true;
  }
  return removed ? SyncDir(dir_) : Status::Ok();
}

}  // namespace tessera::wal

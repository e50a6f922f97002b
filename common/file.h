#pragma once

// Files the way storage needs them: an RAII descriptor whose every call reports failure, and the
// atomic replace (write temp, fsync, rename, fsync directory) that metadata relies on.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tessera {

// An open file descriptor, closed on destruction. Move-only. Not thread-safe.
class File {
 public:
  File() = default;
  ~File();
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  // `flags` as for open(2), e.g. O_WRONLY | O_CREAT | O_APPEND.
  static Result<File> Open(const std::filesystem::path& path, int flags, int mode = 0644);

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::filesystem::path& path() const { return path_; }

  // Writes all of `data` (retrying short writes and EINTR) at the current position.
  Status Append(std::string_view data);
  // Reads up to `size` bytes at `offset`; returns fewer only at end of file.
  Result<std::string> ReadAt(uint64_t offset, size_t size) const;
  Result<uint64_t> Size() const;
  Status Truncate(uint64_t size);
  Status DataSync();  // fdatasync(2)
  Status Sync();      // fsync(2)
  Status Close();

 private:
  File(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::filesystem::path path_;
};

// Moves `from` over `to` (rename(2)); durable once the parent folder is synced.
Status RenameFile(const std::filesystem::path& from, const std::filesystem::path& to);

// A test seam over every write, fsync, create and rename that goes through this file layer:
// tests install one to inject failures (EIO, a full disk) or to record what has been made
// durable, so that they can build the state a power cut would leave. Production installs none.
class FileObserver {
 public:
  virtual ~FileObserver() = default;
  // Before a write to `path`; a non-OK status fails the write without writing.
  virtual Status BeforeWrite(const std::filesystem::path& path) {
    (void)path;
    return Status::Ok();
  }
  // Before each write(2) of an append, `written` bytes into it: may lower `*max_bytes` (a short
  // write, as a signal can cause; the append must go on until done), or fail the append here,
  // after what was already written (a torn write: the bytes before stay in the file).
  virtual Status BeforeWriteCall(const std::filesystem::path& path, size_t written,
                                 size_t* max_bytes) {
    (void)path, (void)written, (void)max_bytes;
    return Status::Ok();
  }
  // Before an fsync/fdatasync of `path`; a non-OK status fails it. Setting `*skip` makes the
  // sync report success without syncing (to prove a test notices a missing fsync).
  virtual Status BeforeSync(const std::filesystem::path& path, bool* skip) {
    (void)path;
    (void)skip;
    return Status::Ok();
  }
  // After a sync that succeeded (or was skipped): the file's size at that moment.
  virtual void Synced(const std::filesystem::path& path, uint64_t size, bool skipped) {
    (void)path, (void)size, (void)skipped;
  }
  virtual void Created(const std::filesystem::path& path) { (void)path; }
  virtual void Renamed(const std::filesystem::path& from, const std::filesystem::path& to) {
    (void)from, (void)to;
  }
  virtual void DirSynced(const std::filesystem::path& dir) { (void)dir; }
};
// Installs `observer` (nullptr: none) for the whole process. Not thread-safe against file
// operations in flight: install before, remove after.
void SetFileObserver(FileObserver* observer);

// Builds "what path: strerror(errno)" as an IoError.
Status ErrnoStatus(std::string_view what, const std::filesystem::path& path, int err);

// fsync(2) on a directory, so that entries created, renamed or removed in it are durable.
Status SyncDir(const std::filesystem::path& dir);

// Replaces `path` with `data` so that a crash leaves either the old or the new content:
// write `path`.tmp, fsync it, rename over `path`, fsync the directory.
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view data);

Result<std::string> ReadFileToString(const std::filesystem::path& path);

// Creates `dir` (and parents) and fsyncs its parent so the new entry is durable.
Status CreateDirDurably(const std::filesystem::path& dir);

// Removes a directory tree so that a crash never leaves a half-removed tree under its old name:
// renames it to a hidden sibling, fsyncs the parent, then removes the renamed tree.
Status RemoveDirDurably(const std::filesystem::path& dir);

}  // namespace tessera

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

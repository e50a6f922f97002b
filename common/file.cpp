#include "common/file.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace tessera {

namespace fs = std::filesystem;

namespace {
std::atomic<FileObserver*> g_observer{nullptr};
FileObserver* Observer() {
  return g_observer.load(std::memory_order_acquire);
}
}  // namespace

void SetFileObserver(FileObserver* observer) {
  g_observer.store(observer);
}

Status ErrnoStatus(std::string_view what, const fs::path& path, int err) {
  std::string message(what);
  message += ' ';
  message += path.string();
  message += ": ";
  message += std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) {
    return Status::ResourceExhausted(std::move(message));
  }
  return Status::IoError(std::move(message));
}

File::~File() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

File::File(File&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

Result<File> File::Open(const fs::path& path, int flags, int mode) {
  FileObserver* observer = Observer();
  const bool creating =
      observer != nullptr && (flags & O_CREAT) != 0 && ::access(path.c_str(), F_OK) != 0;
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    return ErrnoStatus("open", path, errno);
  }
  if (creating) {
    observer->Created(path);
  }
  return File(fd, path);
}

Status File::Append(std::string_view data) {
  FileObserver* observer = Observer();
  if (observer != nullptr) {
    TESSERA_RETURN_IF_ERROR(observer->BeforeWrite(path_));
  }
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    size_t chunk = left;
    if (observer != nullptr) {
      TESSERA_RETURN_IF_ERROR(
          observer->BeforeWriteCall(path_, static_cast<size_t>(p - data.data()), &chunk));
      chunk = std::clamp<size_t>(chunk, 1, left);
    }
    const ssize_t n = ::write(fd_, p, chunk);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoStatus("write", path_, errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

Result<std::string> File::ReadAt(uint64_t offset, size_t size) const {
  std::string out(size, '\0');
  size_t done = 0;
  while (done < size) {
    const ssize_t n =
        ::pread(fd_, out.data() + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoStatus("read", path_, errno);
    }
    if (n == 0) {
      break;
    }
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

Result<uint64_t> File::Size() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    return ErrnoStatus("fstat", path_, errno);
  }
  return static_cast<uint64_t>(st.st_size);
}

Status File::Truncate(uint64_t size) {
  if (FileObserver* observer = Observer()) {
    TESSERA_RETURN_IF_ERROR(observer->BeforeWrite(path_));
  }
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    return ErrnoStatus("ftruncate", path_, errno);
  }
  return Status::Ok();
}

namespace {
// fsync or fdatasync through the observer, if any.
Status SyncFd(int fd, const fs::path& path, bool data_only) {
  FileObserver* observer = Observer();
  bool skip = false;
  if (observer != nullptr) {
    TESSERA_RETURN_IF_ERROR(observer->BeforeSync(path, &skip));
  }
  if (!skip && (data_only ? ::fdatasync(fd) : ::fsync(fd)) != 0) {
    return ErrnoStatus(data_only ? "fdatasync" : "fsync", path, errno);
  }
  if (observer != nullptr) {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
      observer->Synced(path, static_cast<uint64_t>(st.st_size), skip);
    } else if (S_ISDIR(st.st_mode) && !skip) {
      observer->DirSynced(path);
    }
  }
  return Status::Ok();
}
}  // namespace

Status File::DataSync() {
  return SyncFd(fd_, path_, true);
}

Status File::Sync() {
  return SyncFd(fd_, path_, false);
}

Status File::Close() {
  if (fd_ < 0) {
    return Status::Ok();
  }
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    return ErrnoStatus("close", path_, errno);
  }
  return Status::Ok();
}

Status SyncDir(const fs::path& dir) {
  TESSERA_ASSIGN_OR_RETURN(File f, File::Open(dir, O_RDONLY | O_DIRECTORY));
  TESSERA_RETURN_IF_ERROR(f.Sync());
  return f.Close();
}

Status WriteFileAtomically(const fs::path& path, std::string_view data) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    TESSERA_ASSIGN_OR_RETURN(File f, File::Open(tmp, O_WRONLY | O_CREAT | O_TRUNC));
    TESSERA_RETURN_IF_ERROR(f.Append(data));
    TESSERA_RETURN_IF_ERROR(f.Sync());
    TESSERA_RETURN_IF_ERROR(f.Close());
  }
  TESSERA_RETURN_IF_ERROR(RenameFile(tmp, path));
  return SyncDir(path.has_parent_path() ? path.parent_path() : fs::path("."));
}

Status RenameFile(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoStatus("rename", from, errno);
  }
  if (FileObserver* observer = Observer()) {
    observer->Renamed(from, to);
  }
  return Status::Ok();
}

Result<std::string> ReadFileToString(const fs::path& path) {
  TESSERA_ASSIGN_OR_RETURN(File f, File::Open(path, O_RDONLY));
  TESSERA_ASSIGN_OR_RETURN(uint64_t size, f.Size());
  return f.ReadAt(0, static_cast<size_t>(size));
}

Status CreateDirDurably(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return Status::IoError("mkdir " + dir.string() + ": " + ec.message());
  }
  const fs::path parent = dir.has_parent_path() ? dir.parent_path() : fs::path(".");
  return SyncDir(parent);
}

Status RemoveDirDurably(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    return Status::Ok();
  }
  const fs::path parent = dir.has_parent_path() ? dir.parent_path() : fs::path(".");
  fs::path doomed = parent / ("." + dir.filename().string() + ".deleting");
  fs::remove_all(doomed, ec);
  TESSERA_RETURN_IF_ERROR(RenameFile(dir, doomed));
  TESSERA_RETURN_IF_ERROR(SyncDir(parent));
  fs::remove_all(doomed, ec);
  if (ec) {
    return Status::IoError("remove " + doomed.string() + ": " + ec.message());
  }
  return Status::Ok();
}

}  // namespace tessera

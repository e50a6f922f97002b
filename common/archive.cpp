#include "common/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"

namespace tessera {

namespace fs = std::filesystem;

namespace {

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

std::string ErrorText(archive* a) {
  const char* message = a != nullptr ? archive_error_string(a) : nullptr;
  return message != nullptr ? message : "unknown libarchive error";
}

Status ArchiveError(std::string_view what, const fs::path& path, archive* a) {
  return Status::IoError(std::string(what) + " " + path.string() + ": " + ErrorText(a));
}

// A plain relative name: components of [A-Za-z0-9._-], none "." or "..", at most `max_depth`.
bool SafeName(std::string_view name, size_t max_depth) {
  if (name.empty() || name.front() == '/' || name.back() == '/') {
    return false;
  }
  size_t depth = 0;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) {
      end = name.size();
    }
    const std::string_view part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return false;
    }
    for (const char c : part) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
      if (!ok) {
        return false;
      }
    }
    ++depth;
    start = end + 1;
  }
  return depth <= max_depth;
}

}  // namespace

Status WriteTarArchive(const fs::path& out, const std::vector<ArchiveEntry>& entries) {
  const fs::path tmp = out.string() + ".tmp";
  {
    ArchivePtr a(archive_write_new());
    if (a == nullptr || archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
        archive_write_open_filename(a.get(), tmp.c_str()) != ARCHIVE_OK) {
      return ArchiveError("create archive", tmp, a.get());
    }
    constexpr uint64_t kChunk = 1 << 20;
    for (const ArchiveEntry& e : entries) {
      std::optional<File> in;
      uint64_t size = e.data.size();
      if (!e.source.empty()) {
        TESSERA_ASSIGN_OR_RETURN(in, File::Open(e.source, O_RDONLY));
        TESSERA_ASSIGN_OR_RETURN(size, in->Size());
      }
      std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
      archive_entry_set_pathname(entry.get(), e.name.c_str());
      archive_entry_set_size(entry.get(), static_cast<la_int64_t>(size));
      archive_entry_set_filetype(entry.get(), AE_IFREG);
      archive_entry_set_perm(entry.get(), 0644);
      archive_entry_set_mtime(entry.get(), ::time(nullptr), 0);
      if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) {
        return ArchiveError("write header of " + e.name + " to", tmp, a.get());
      }
      for (uint64_t offset = 0; offset < size;) {
        const size_t n = static_cast<size_t>(std::min(kChunk, size - offset));
        std::string chunk;
        if (in) {
          TESSERA_ASSIGN_OR_RETURN(chunk, in->ReadAt(offset, n));
          if (chunk.size() != n) {
            return Status::IoError("short read of " + e.source.string());
          }
        }
        const std::string_view bytes =
            in ? std::string_view(chunk) : std::string_view(e.data).substr(offset, n);
        if (archive_write_data(a.get(), bytes.data(), n) != static_cast<la_ssize_t>(n)) {
          return ArchiveError("write " + e.name + " to", tmp, a.get());
        }
        offset += n;
      }
    }
    if (archive_write_close(a.get()) != ARCHIVE_OK) {
      return ArchiveError("close", tmp, a.get());
    }
  }
  {
    TESSERA_ASSIGN_OR_RETURN(File f, File::Open(tmp, O_RDWR));
    TESSERA_RETURN_IF_ERROR(f.Sync());
  }
  TESSERA_RETURN_IF_ERROR(RenameFile(tmp, out));
  return SyncDir(out.parent_path().empty() ? fs::path(".") : out.parent_path());
}

Status ExtractTarArchive(const fs::path& path, const fs::path& dir, size_t max_depth,
                         const std::function<bool(std::string_view)>& accept) {
  ArchivePtr a(archive_read_new());
  if (a == nullptr || archive_read_support_format_tar(a.get()) != ARCHIVE_OK ||
      archive_read_open_filename(a.get(), path.c_str(), 1 << 20) != ARCHIVE_OK) {
    return Status::InvalidArgument("not a readable snapshot archive: " + ErrorText(a.get()));
  }
  std::set<std::string> seen;
  std::set<fs::path> dirs{dir};
  std::vector<char> buffer(1 << 20);
  for (;;) {
    archive_entry* entry = nullptr;
    const int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) {
      break;
    }
    if (r != ARCHIVE_OK) {
      return Status::InvalidArgument("corrupt snapshot archive: " + ErrorText(a.get()));
    }
    const char* raw_name = archive_entry_pathname(entry);
    const std::string name = raw_name != nullptr ? raw_name : "";
    const bool is_dir = archive_entry_filetype(entry) == AE_IFDIR;
    const std::string plain = is_dir && name.ends_with('/') ? name.substr(0, name.size() - 1) : name;
    if (accept != nullptr && SafeName(plain, max_depth) && !accept(plain)) {
      return Status::InvalidArgument("snapshot archive entry `" + name +
                                     "` is not part of a collection snapshot");
    }
    if (is_dir && SafeName(plain, max_depth)) {
      continue;  // folders are created for the files inside them
    }
    if (archive_entry_filetype(entry) != AE_IFREG) {
      return Status::InvalidArgument("snapshot archive entry `" + name + "` is not a regular file");
    }
    if (!SafeName(name, max_depth)) {
      return Status::InvalidArgument("snapshot archive entry `" + name + "` has an unsafe name");
    }
    if (!seen.insert(name).second) {
      return Status::InvalidArgument("snapshot archive entry `" + name + "` appears twice");
    }
    const fs::path target = dir / name;
    for (fs::path p = target.parent_path(); p != dir && !dirs.contains(p); p = p.parent_path()) {
      dirs.insert(p);
    }
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) {
      return Status::IoError("extract snapshot archive entry `" + name + "`: " + ec.message());
    }
    Result<File> opened = File::Open(target, O_WRONLY | O_CREAT | O_EXCL);
    if (!opened.ok()) {
      return Status(opened.status().code(), "extract snapshot archive entry `" + name +
                                                "`: cannot create the file");
    }
    File out = std::move(opened).value();
    for (;;) {
      const la_ssize_t n = archive_read_data(a.get(), buffer.data(), buffer.size());
      if (n < 0) {
        return Status::InvalidArgument("corrupt snapshot archive at `" + name +
                                       "`: " + ErrorText(a.get()));
      }
      if (n == 0) {
        break;
      }
      TESSERA_RETURN_IF_ERROR(out.Append(std::string_view(buffer.data(), static_cast<size_t>(n))));
    }
    TESSERA_RETURN_IF_ERROR(out.Sync());
  }
  for (const fs::path& d : dirs) {
    TESSERA_RETURN_IF_ERROR(SyncDir(d));
  }
  return Status::Ok();
}

}  // namespace tessera

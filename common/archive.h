#pragma once

// Tar archives (libarchive, POSIX ustar/pax): collection snapshots. Extraction accepts only
// regular files under plain relative names, so an archive from a hostile upload cannot write
// outside the target folder, create links or devices, or overwrite anything.

#include <filesystem>
#include <functional>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace tessera {

struct ArchiveEntry {
  std::string name;              // path inside the archive, e.g. "segments/manifest.bin"
  std::filesystem::path source;  // file on disk to store under that name; if empty, `data`
  std::string data;              // the content of an entry that is not a file on disk
};

// Writes the entries to `out` (replacing it atomically: written as `out`.tmp, fsynced, renamed).
Status WriteTarArchive(const std::filesystem::path& out, const std::vector<ArchiveEntry>& entries);

// Extracts every entry of the archive into `dir` (which must exist and be empty). Rejects (with
// InvalidArgument naming the entry) anything but regular files, absolute names, "." or ".."
// components, names with characters outside [A-Za-z0-9._-/], more than `max_depth` components,
// duplicates, and names `accept` refuses (folders are asked with their name without the
// slash). Files are fsynced, and so are the folders created. Errors name entries, never paths
// of the machine.
Status ExtractTarArchive(const std::filesystem::path& archive, const std::filesystem::path& dir,
                         size_t max_depth = 2,
                         const std::function<bool(std::string_view)>& accept = nullptr);

}  // namespace tessera

// Operations routes: collection snapshots, optimizations, the /dashboard static folder.
//
// Snapshots live in <snapshots_path>/<collection>/<name>.snapshot (a tar archive, see
// Collection::CreateSnapshot) with <name>.snapshot.checksum beside it holding the SHA-256 in
// hex, as Qdrant lays them out. Disk work runs on the blocking pool.

#include <algorithm>
#include <ctime>
#include <fstream>
#include <random>
#include <sys/stat.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/json_util.h"
#include "api/multipart.h"
#include "api/routes.h"
#include "common/file.h"
#include "common/sha256.h"

namespace tessera::api {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr std::string_view kSnapshotSuffix = ".snapshot";
constexpr std::string_view kChecksumSuffix = ".checksum";

// "2022-08-04T10:49:10" (Qdrant's creation_time) or "2022-08-04-10-49-10" (file names).
std::string FormatTime(std::time_t t, const char* format) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[32];
  std::strftime(out, sizeof(out), format, &tm);
  return out;
}

// A file name a client may name in a URL: no folders, not hidden, nothing odd.
bool PlainFileName(std::string_view name) {
  return !name.empty() && name.size() <= 255 && name.front() != '.' &&
         name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

Reply NotFoundReply(const std::string& message, Clock::time_point start) {
  return JsonError(http::status::not_found, "Not found: " + message, start);
}

// InvalidArgument from the engine or the archive reader, framed as Qdrant frames a 400.
Reply BadRequest(const Status& s, Clock::time_point start) {
  if (s.code() != Code::kInvalidArgument || s.message().starts_with("Bad request")) {
    return StatusReply(s, start);
  }
  return JsonError(http::status::bad_request, "Bad request: " + s.message(), start);
}

json::object Describe(const fs::path& file) {
  std::error_code ec;
  json::object d;
  d["name"] = file.filename().string();
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0) {
    d["creation_time"] = FormatTime(st.st_mtime, "%Y-%m-%dT%H:%M:%S");
  } else {
    d["creation_time"] = nullptr;
  }
  d["size"] = static_cast<uint64_t>(fs::file_size(file, ec));
  Result<std::string> checksum = ReadFileToString(file.string() + std::string(kChecksumSuffix));
  if (checksum.ok()) {
    std::string hex = *checksum;
    hex.erase(std::find_if(hex.begin(), hex.end(), [](char c) { return std::isspace(c) != 0; }),
              hex.end());
    d["checksum"] = hex;
  } else {
    d["checksum"] = nullptr;
  }
  return d;
}

// Compares a client's expected checksum with the one computed; InvalidArgument on a mismatch.
Status CheckChecksum(const std::optional<std::string>& expected, const std::string& actual) {
  if (!expected) {
    return Status::Ok();
  }
  std::string lower = *expected;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower != actual) {
    return Status::InvalidArgument("Snapshot checksum mismatch: expected " + *expected + ", got " +
                                   actual);
  }
  return Status::Ok();
}

std::string RandomSuffix() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  return std::to_string(rng() >> 12);
}

}  // namespace

fs::path Api::SnapshotDir(const std::string& collection) const {
  return options_.snapshots_path / collection;
}

// The handlers that touch the disk at length run whole on the blocking pool. They are plain
// functions: GCC 12 mishandles a capturing lambda temporary inside a co_await (routes.h).
asio::awaitable<Reply> Api::CreateSnapshot(Request& r, engine::Catalog& c) {
  return RunBlocking([this, &r, &c] { return CreateSnapshotBlocking(r, c); });
}

Reply Api::CreateSnapshotBlocking(const Request& r, engine::Catalog& c) {
  Result<std::shared_ptr<engine::Collection>> collection =
      c.GetCollection(r.Param("collection_name"));
  if (!collection.ok()) {
    return StatusReply(collection.status(), r.start);
  }
  const std::shared_ptr<engine::Collection>& target = *collection;
  const fs::path dir = SnapshotDir(target->name());
  if (Status s = CreateDirDurably(dir); !s.ok()) {
    return StatusReply(s, r.start);
  }
  const std::string name = target->name() + "-" + RandomSuffix() + "-" +
                           FormatTime(std::time(nullptr), "%Y-%m-%d-%H-%M-%S") +
                           std::string(kSnapshotSuffix);
  const fs::path file = dir / name;
  Result<engine::SeqNo> taken = target->CreateSnapshot(file);
  if (!taken.ok()) {
    return StatusReply(taken.status(), r.start);
  }
  Result<std::string> checksum = Sha256FileHex(file);
  if (!checksum.ok()) {
    return StatusReply(checksum.status(), r.start);
  }
  if (Status s = WriteFileAtomically(file.string() + std::string(kChecksumSuffix), *checksum);
      !s.ok()) {
    return StatusReply(s, r.start);
  }
  TESSERA_LOG(kInfo) << "snapshot " << name << " of " << target->name() << " at operation "
                     << *taken;
  return JsonResult(Describe(file), r.start);
}

asio::awaitable<Reply> Api::ListSnapshots(Request& r, engine::Catalog& c) {
  Result<std::shared_ptr<engine::Collection>> collection =
      c.GetCollection(r.Param("collection_name"));
  if (!collection.ok()) {
    co_return StatusReply(collection.status(), r.start);
  }
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(SnapshotDir((*collection)->name()), ec)) {
    if (entry.is_regular_file() && entry.path().string().ends_with(kSnapshotSuffix) &&
        PlainFileName(entry.path().filename().string())) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  json::array out;
  for (const fs::path& f : files) {
    out.push_back(Describe(f));
  }
  co_return JsonResult(out, r.start);
}

Result<fs::path> Api::ExistingSnapshot(const Request& r, engine::Catalog& c) const {
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<engine::Collection> collection,
                           c.GetCollection(r.Param("collection_name")));
  const std::string& name = r.Param("snapshot_name");
  const fs::path file = SnapshotDir(collection->name()) / name;
  std::error_code ec;
  if (!PlainFileName(name) || !name.ends_with(kSnapshotSuffix) || !fs::is_regular_file(file, ec)) {
    return Status::NotFound("Not found: Snapshot " + name + " not found");
  }
  return file;
}

asio::awaitable<Reply> Api::GetSnapshot(Request& r, engine::Catalog& c) {
  Result<fs::path> file = ExistingSnapshot(r, c);
  if (!file.ok()) {
    co_return StatusReply(file.status(), r.start);
  }
  Reply reply{http::status::ok, "", "application/octet-stream"};
  reply.file = std::move(file).value();
  co_return reply;
}

asio::awaitable<Reply> Api::DeleteSnapshot(Request& r, engine::Catalog& c) {
  Result<fs::path> found = ExistingSnapshot(r, c);
  if (!found.ok()) {
    co_return StatusReply(found.status(), r.start);
  }
  const fs::path& file = *found;
  std::error_code ec;
  fs::remove(file.string() + std::string(kChecksumSuffix), ec);
  if (!fs::remove(file, ec) || ec) {
    co_return StatusReply(Status::IoError("remove " + file.string() + ": " + ec.message()),
                          r.start);
  }
  co_return JsonResult(true, r.start);
}

asio::awaitable<Reply> Api::RecoverSnapshot(Request& r, engine::Catalog& c) {
  return RunBlocking([this, &r, &c] { return RecoverSnapshotBlocking(r, c); });
}

Reply Api::RecoverSnapshotBlocking(const Request& r, engine::Catalog& c) {
  Result<json::value> body = TakeJsonBody(r);
  if (!body.ok()) {
    return StatusReply(body.status(), r.start);
  }
  FieldReader reader(*body, "");
  std::string location;
  std::optional<std::string> priority, checksum, api_key;
  Status parsed = reader.status();
  if (parsed.ok())
    parsed = reader.Require("location", &location);
  if (parsed.ok())
    parsed = reader.Get("priority", &priority);
  if (parsed.ok())
    parsed = reader.Get("checksum", &checksum);
  if (parsed.ok())
    parsed = reader.Get("api_key", &api_key);
  if (parsed.ok() && priority && *priority != "no_sync" && *priority != "snapshot" &&
      *priority != "replica") {
    parsed =
        DeserializeError("priority", "unknown variant `" + *priority +
                                         "`, expected one of `no_sync`, `snapshot`, `replica`");
  }
  if (!parsed.ok()) {
    return StatusReply(parsed, r.start);
  }
  if (location.starts_with("http://") || location.starts_with("https://")) {
    return JsonError(http::status::bad_request,
                     "Bad request: Tessera recovers snapshots from file:// locations in its "
                     "snapshots folder only; download the file and POST it to "
                     "/collections/{collection_name}/snapshots/upload",
                     r.start);
  }
  if (!location.starts_with("file://")) {
    return JsonError(http::status::bad_request,
                     "Bad request: snapshot location must be a file:// URL, got `" + location + "`",
                     r.start);
  }
  std::string decoded;
  if (!PercentDecode(std::string_view(location).substr(7), false, &decoded) ||
      decoded.find('\0') != std::string::npos) {
    return JsonError(http::status::bad_request, "Bad request: malformed file:// URL", r.start);
  }
  // Only files inside the snapshots folder (as Qdrant): a request must not read any file the
  // server can.
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(options_.snapshots_path, ec);
  const fs::path file = fs::weakly_canonical(fs::path(decoded), ec);
  const auto [root_end, file_it] =
      std::mismatch(root.begin(), root.end(), file.begin(), file.end());
  if (ec || root_end != root.end() || file == root) {
    return JsonError(http::status::bad_request,
                     "Bad request: snapshot file " + decoded +
                         " is not inside the snapshots folder " + root.string(),
                     r.start);
  }
  if (!fs::is_regular_file(file, ec)) {
    return NotFoundReply("Snapshot file " + decoded + " does not exist", r.start);
  }
  if (checksum) {
    Result<std::string> actual = Sha256FileHex(file);
    if (!actual.ok()) {
      return StatusReply(actual.status(), r.start);
    }
    if (Status s = CheckChecksum(checksum, *actual); !s.ok()) {
      return BadRequest(s, r.start);
    }
  }
  if (Status s = c.RecoverCollection(r.Param("collection_name"), file); !s.ok()) {
    return BadRequest(s, r.start);
  }
  return JsonResult(true, r.start);
}

asio::awaitable<Reply> Api::UploadSnapshot(Request& r, engine::Catalog& c) {
  return RunBlocking([this, &r, &c] { return UploadSnapshotBlocking(r, c); });
}

Reply Api::UploadSnapshotBlocking(const Request& r, engine::Catalog& c) {
  Result<FormPart> part = FindFormPart(r.content_type, r.body, "snapshot");
  if (!part.ok()) {
    return BadRequest(part.status(), r.start);
  }
  std::optional<std::string> checksum;
  if (const std::string* q = r.Query("checksum")) {
    checksum = *q;
  }
  if (const std::string* q = r.Query("priority");
      q != nullptr && *q != "no_sync" && *q != "snapshot" && *q != "replica") {
    return JsonError(http::status::bad_request,
                     "Bad request: unknown priority `" + *q +
                         "`, expected one of `no_sync`, `snapshot`, `replica`",
                     r.start);
  }
  const std::string_view data = part->data;
  if (Status s = CheckChecksum(checksum, Sha256Hex(data)); !s.ok()) {
    return BadRequest(s, r.start);
  }
  const fs::path dir = options_.snapshots_path / ".uploads";
  if (Status s = CreateDirDurably(dir); !s.ok()) {
    return StatusReply(s, r.start);
  }
  const fs::path file = dir / ("upload-" + RandomSuffix() + std::string(kSnapshotSuffix));
  Status s = WriteFileAtomically(file, data);
  if (s.ok()) {
    s = c.RecoverCollection(r.Param("collection_name"), file);
  }
  std::error_code ec;
  fs::remove(file, ec);
  if (!s.ok()) {
    return BadRequest(s, r.start);
  }
  return JsonResult(true, r.start);
}

asio::awaitable<Reply> Api::Optimizations(Request& r, engine::Catalog& c) {
  Result<std::shared_ptr<engine::Collection>> collection =
      c.GetCollection(r.Param("collection_name"));
  if (!collection.ok()) {
    co_return StatusReply(collection.status(), r.start);
  }
  const engine::OptimizationStatus status = (*collection)->Optimizations();
  std::vector<std::string> with;
  if (const std::string* w = r.Query("with")) {
    size_t pos = 0;
    while (pos <= w->size()) {
      const size_t comma = std::min(w->find(',', pos), w->size());
      with.push_back(w->substr(pos, comma - pos));
      pos = comma + 1;
    }
  }
  auto wants = [&](std::string_view what) {
    return std::find(with.begin(), with.end(), what) != with.end();
  };
  // Segments are numbered; Qdrant names them by UUID, so the number is written as one.
  auto segment = [](const engine::OptimizationStatus::SegmentInfo& s) {
    char uuid[40];
    std::snprintf(uuid, sizeof(uuid), "00000000-0000-0000-0000-%012llx",
                  static_cast<unsigned long long>(s.id));
    return json::object{{"uuid", uuid}, {"points_count", s.points}};
  };
  auto segments = [&](const engine::OptimizationStatus::Task& t) {
    json::array out;
    for (const auto& s : t.segments) {
      out.push_back(segment(s));
    }
    return out;
  };
  uint64_t queued_points = 0, queued_segments = 0;
  for (const auto& t : status.queued) {
    for (const auto& s : t.segments) {
      queued_points += s.points;
      ++queued_segments;
    }
  }
  json::array idle;
  for (const auto& s : status.idle) {
    idle.push_back(segment(s));
  }
  json::array running;
  if (status.running) {
    const std::time_t since = std::chrono::system_clock::to_time_t(status.running_since);
    const auto& first = status.running->segments.front();
    running.push_back(json::object{
        {"uuid", segment(first)["uuid"]},
        {"optimizer", engine::OptimizerName(status.running->kind)},
        {"status", "optimizing"},
        {"segments", segments(*status.running)},
        {"progress", json::object{{"name", status.running->kind == engine::OptimizerKind::kMerge ||
                                                   status.running->kind ==
                                                       engine::OptimizerKind::kVacuum
                                               ? "copy_and_index"
                                               : "hnsw_index"},
                                  {"started_at", FormatTime(since, "%Y-%m-%dT%H:%M:%SZ")},
                                  {"children", json::array{}}}}});
  }
  json::object result{{"summary", json::object{{"queued_optimizations", status.queued.size()},
                                               {"queued_segments", queued_segments},
                                               {"queued_points", queued_points},
                                               {"idle_segments", status.idle.size()}}},
                      {"running", std::move(running)}};
  if (wants("queued")) {
    json::array queued;
    for (const auto& t : status.queued) {
      queued.push_back(
          json::object{{"optimizer", engine::OptimizerName(t.kind)}, {"segments", segments(t)}});
    }
    result["queued"] = std::move(queued);
  }
  if (wants("completed")) {
    result["completed"] = json::array{};  // finished optimizations are not kept
  }
  if (wants("idle_segments")) {
    result["idle_segments"] = std::move(idle);
  }
  co_return JsonResult(result, r.start);
}

asio::awaitable<Reply> Api::Dashboard(Request& r) {
  const fs::path root = options_.static_content_dir;
  std::error_code ec;
  if (!options_.enable_static_content || !fs::is_directory(root, ec)) {
    co_return NotFoundReply("the dashboard is not installed: put a built web UI in " +
                                root.string() + " (service.static_content_dir)",
                            r.start);
  }
  std::string rel = r.Param("path");
  // Each component plain (the router decoded %2F and %2E%2E already, so check again here).
  size_t pos = 0;
  while (pos < rel.size()) {
    const size_t slash = std::min(rel.find('/', pos), rel.size());
    if (!PlainFileName(std::string_view(rel).substr(pos, slash - pos))) {
      co_return NotFoundReply("/dashboard/" + rel, r.start);
    }
    pos = slash + 1;
  }
  fs::path file = root / rel;
  if (rel.empty() || fs::is_directory(file, ec)) {
    file /= "index.html";
  }
  if (!fs::is_regular_file(file, ec)) {
    // A single-page app routes in the browser: unknown paths without an extension get the app.
    if (fs::path(rel).extension().empty() && fs::is_regular_file(root / "index.html", ec)) {
      file = root / "index.html";
    } else {
      co_return NotFoundReply("/dashboard/" + rel, r.start);
    }
  }
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript"},
      {".css", "text/css"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"}};
  std::string type = "application/octet-stream";
  const std::string ext = file.extension().string();
  for (const auto& [e, t] : kTypes) {
    if (ext == e) {
      type = t;
    }
  }
  Reply reply{http::status::ok, "", type};
  reply.file = file;
  co_return reply;
}

}  // namespace tessera::api

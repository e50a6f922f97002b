#include "engine/catalog.h"

#include <algorithm>
#include <cstring>
#include <system_error>

#include "common/archive.h"
#include "common/coding.h"
#include "common/file.h"
#include "common/framing.h"
#include "common/logging.h"

namespace tessera::engine {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kAliasesFile = "aliases.bin";
constexpr std::string_view kAliasesMagic = "TSAL";
constexpr uint32_t kAliasesVersion = 1;

// aliases.bin := magic:"TSAL" version:fixed32(=1) body crc32c(body):fixed32
// body        := count:varint (alias:lp collection:lp)*
std::string EncodeAliases(const std::map<std::string, std::string, std::less<>>& aliases) {
  std::string body;
  PutVarint64(&body, aliases.size());
  for (const auto& [alias, collection] : aliases) {
    PutLengthPrefixed(&body, alias);
    PutLengthPrefixed(&body, collection);
  }
  return FrameFile(kAliasesMagic, kAliasesVersion, body);
}

Result<std::map<std::string, std::string, std::less<>>> DecodeAliases(std::string_view bytes) {
  TESSERA_ASSIGN_OR_RETURN(FramedBody framed,
                           UnframeFile(bytes, kAliasesMagic, kAliasesVersion, "aliases"));
  const std::string_view body = framed.body;
  Decoder d(body);
  uint64_t count;
  if (!d.GetVarint64(&count)) {
    return Status::Corruption("aliases: malformed body");
  }
  std::map<std::string, std::string, std::less<>> aliases;
  for (uint64_t i = 0; i < count; ++i) {
    std::string_view alias, collection;
    if (!d.GetLengthPrefixed(&alias) || !d.GetLengthPrefixed(&collection)) {
      return Status::Corruption("aliases: malformed body");
    }
    aliases.emplace(alias, collection);
  }
  return aliases;
}

Status CollectionNotFound(std::string_view name) {
  return Status::NotFound("Not found: Collection `" + std::string(name) + "` doesn't exist!");
}

}  // namespace

Status ValidateCollectionName(std::string_view name) {
  if (name.empty() || name.size() > 255) {
    return Status::ValidationFailed("collection name must be between 1 and 255 bytes long");
  }
  if (name == "." || name == "..") {
    return Status::ValidationFailed("collection name cannot be `.` or `..`");
  }
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f ||
        std::string_view("<>:\"/\\|?*").find(c) != std::string_view::npos) {
      return Status::ValidationFailed(
          "collection name cannot contain control characters or any of `<>:\"/\\|?*`");
    }
  }
  return Status::Ok();
}

fs::path Catalog::CollectionDir(std::string_view name) const {
  return storage_path_ / "collections" / std::string(name);
}

Result<std::unique_ptr<Catalog>> Catalog::Open(const fs::path& storage_path,
                                               const CollectionOptions& options) {
  std::unique_ptr<Catalog> catalog(new Catalog(storage_path, options));
  TESSERA_RETURN_IF_ERROR(CreateDirDurably(storage_path / "collections"));

  std::error_code ec;
  std::vector<std::string> restored_names;  // collection folders to open
  std::vector<fs::path> folders;
  for (const auto& entry : fs::directory_iterator(storage_path / "collections", ec)) {
    folders.push_back(entry.path());
  }
  if (ec) {
    return Status::IoError("list " + (storage_path / "collections").string() + ": " + ec.message());
  }
  for (const fs::path& folder : folders) {
    const fs::directory_entry entry(folder, ec);
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.starts_with('.')) {
      // A delete or a restore that a crash interrupted (RecoverCollection's folder names).
      if (name.ends_with(".deleting") || name.ends_with(".restoring")) {
        fs::remove_all(entry.path(), ec);
      } else if (name.ends_with(".replaced")) {
        const std::string original = name.substr(1, name.size() - 1 - strlen(".replaced"));
        const fs::path target = entry.path().parent_path() / original;
        if (fs::exists(target)) {
          fs::remove_all(entry.path(), ec);  // the restored collection made it into place
        } else if (ValidateCollectionName(original).ok()) {
          TESSERA_RETURN_IF_ERROR(RenameFile(entry.path(), target));  // put the old one back
          TESSERA_RETURN_IF_ERROR(SyncDir(entry.path().parent_path()));
          restored_names.push_back(original);
          TESSERA_LOG(kWarn) << "catalog: a restore of " << original
                             << " was interrupted; keeping the collection as it was";
        }
      }
      continue;
    }
    if (!ValidateCollectionName(name).ok() || !fs::exists(entry.path() / Collection::kConfigFile)) {
      TESSERA_LOG(kWarn) << "catalog: ignoring " << entry.path() << ": not a collection folder";
      continue;
    }
    restored_names.push_back(name);
  }
  for (const std::string& name : restored_names) {
    Result<std::unique_ptr<Collection>> collection =
        Collection::Open(name, catalog->CollectionDir(name), options);
    if (collection.ok()) {
      catalog->collections_.emplace(name, std::move(collection).value());
      continue;
    }
    TESSERA_LOG(kError) << "catalog: collection " << name
                        << " is out of service, its files are kept as they are: "
                        << collection.status().ToString();
    catalog->unavailable_.emplace(
        name,
        Status::Unavailable("Collection `" + name + "` is out of service: it failed to load: " +
                            collection.status().message() +
                            ". Its files are kept; recover it from a snapshot or delete it"));
  }

  const fs::path aliases_path = storage_path / kAliasesFile;
  if (fs::exists(aliases_path)) {
    TESSERA_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(aliases_path));
    TESSERA_ASSIGN_OR_RETURN(catalog->aliases_, DecodeAliases(bytes));
    // An alias whose collection is gone (deleted while the alias file was not yet rewritten)
    // resolves to nothing; drop it.
    std::erase_if(catalog->aliases_, [&](const auto& kv) {
      return !catalog->collections_.contains(kv.second) &&
             !catalog->unavailable_.contains(kv.second);
    });
  }
  return catalog;
}

Status Catalog::CreateCollection(const std::string& name, CollectionConfig config) {
  TESSERA_RETURN_IF_ERROR(ValidateCollectionName(name));
  std::lock_guard change(change_mu_);
  if (collections_.contains(name) || unavailable_.contains(name)) {
    return Status::AlreadyExists("Wrong input: Collection `" + name + "` already exists!");
  }
  if (aliases_.contains(name)) {
    return Status::AlreadyExists("Wrong input: Alias `" + name + "` already exists!");
  }
  TESSERA_ASSIGN_OR_RETURN(
      std::unique_ptr<Collection> collection,
      Collection::Create(name, CollectionDir(name), std::move(config), options_));
  {
    std::lock_guard lock(mu_);
    collections_.emplace(name, std::move(collection));
  }
  TESSERA_LOG(kInfo) << "created collection " << name;
  return Status::Ok();
}

Result<bool> Catalog::DeleteCollection(const std::string& name) {
  std::lock_guard change(change_mu_);
  auto it = collections_.find(name);
  const bool broken = it == collections_.end() && unavailable_.contains(name);
  if (it == collections_.end() && !broken) {
    return false;
  }
  auto aliases = aliases_;
  const size_t dropped = std::erase_if(aliases, [&](const auto& kv) { return kv.second == name; });
  if (dropped > 0) {
    TESSERA_RETURN_IF_ERROR(PersistAliasesLocked(aliases));
  }
  // Out of the maps first (new requests get 404), then dropped and removed without mu_. A
  // removal cut short by a crash is finished by the next Open() (RemoveDirDurably renames
  // the folder away first).
  std::shared_ptr<Collection> gone;
  {
    std::lock_guard lock(mu_);
    if (broken) {
      unavailable_.erase(name);
    } else {
      gone = std::move(it->second);
      collections_.erase(it);
    }
    aliases_ = std::move(aliases);
  }
  if (gone != nullptr) {
    gone->Drop();
  }
  TESSERA_RETURN_IF_ERROR(RemoveDirDurably(CollectionDir(name)));
  TESSERA_LOG(kInfo) << "deleted collection " << name;
  return true;
}

namespace {

// The names a collection snapshot holds (Collection::CreateSnapshot): the config, the segments'
// manifest, and segment files (body, versions, graph) under short plain names.
bool IsSnapshotEntry(std::string_view name) {
  if (name == Collection::kConfigFile || name == "segments" || name == "segments/manifest.bin") {
    return true;
  }
  constexpr std::string_view kDir = "segments/";
  if (!name.starts_with(kDir)) {
    return false;
  }
  const std::string_view file = name.substr(kDir.size());
  if (file.empty() || file.size() > 128 || file.find('/') != std::string_view::npos) {
    return false;
  }
  return file.ends_with(".bin") || file.ends_with(".ver") || file.ends_with(".hnsw");
}

}  // namespace

Status Catalog::RecoverCollection(const std::string& name, const fs::path& archive) {
  TESSERA_RETURN_IF_ERROR(ValidateCollectionName(name));
  std::lock_guard restore_lock(restore_mu_);
  // Unpack under a hidden name that Open() clears after a crash; readers are not blocked.
  const fs::path collections_dir = storage_path_ / "collections";
  const fs::path staging = collections_dir / ("." + name + ".restoring");
  const fs::path parked = collections_dir / ("." + name + ".replaced");
  std::error_code ec;
  fs::remove_all(staging, ec);
  TESSERA_RETURN_IF_ERROR(CreateDirDurably(staging));
  auto discard_staging = [&] {
    if (Status s = RemoveDirDurably(staging); !s.ok()) {
      TESSERA_LOG(kWarn) << "catalog: " << s.ToString();
    }
  };
  if (Status s = ExtractTarArchive(archive, staging, 2, IsSnapshotEntry); !s.ok()) {
    discard_staging();
    return s;
  }
  // What can be checked before anything is replaced: the config and the manifest decode.
  {
    Result<std::string> bytes = ReadFileToString(staging / Collection::kConfigFile);
    Result<CollectionConfig> config =
        bytes.ok() ? DecodeCollectionConfig(*bytes) : Result<CollectionConfig>(bytes.status());
    if (!config.ok() || !fs::exists(staging / "segments" / "manifest.bin")) {
      discard_staging();
      return Status::InvalidArgument(
          "not a Tessera collection snapshot: " +
          (config.ok() ? std::string("no segments/manifest.bin") : config.status().message()));
    }
  }

  std::lock_guard change(change_mu_);
  if (aliases_.contains(name)) {
    discard_staging();
    return Status::AlreadyExists("Wrong input: Alias `" + name + "` already exists!");
  }
  std::shared_ptr<Collection> old;
  const bool broken = unavailable_.contains(name);  // out of service: parked the same way
  if (auto it = collections_.find(name); it != collections_.end()) {
    old = it->second;
    old->Drop();  // its WAL keeps everything, should it have to come back
    TESSERA_RETURN_IF_ERROR(RenameFile(old->dir(), parked));
    TESSERA_RETURN_IF_ERROR(SyncDir(collections_dir));
    std::lock_guard lock(mu_);
    collections_.erase(name);
  } else if (broken) {
    TESSERA_RETURN_IF_ERROR(RenameFile(CollectionDir(name), parked));
    TESSERA_RETURN_IF_ERROR(SyncDir(collections_dir));
  }
  const fs::path dir = CollectionDir(name);
  Status placed = RenameFile(staging, dir);
  if (placed.ok()) {
    placed = SyncDir(collections_dir);
  }
  Result<std::unique_ptr<Collection>> opened = placed.ok()
                                                   ? Collection::Open(name, dir, options_)
                                                   : Result<std::unique_ptr<Collection>>(placed);
  if (!opened.ok()) {
    // Put back what was there.
    if (fs::exists(dir)) {
      (void)RemoveDirDurably(dir);
    }
    discard_staging();
    if (old != nullptr) {
      TESSERA_RETURN_IF_ERROR(RenameFile(parked, dir));
      TESSERA_RETURN_IF_ERROR(SyncDir(collections_dir));
      TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Collection> again,
                               Collection::Open(name, dir, options_));
      std::lock_guard lock(mu_);
      collections_.emplace(name, std::move(again));
    } else if (broken) {  // back as it was: still out of service
      TESSERA_RETURN_IF_ERROR(RenameFile(parked, dir));
      TESSERA_RETURN_IF_ERROR(SyncDir(collections_dir));
    }
    return Status::InvalidArgument("snapshot does not load: " + opened.status().message());
  }
  {
    std::lock_guard lock(mu_);
    collections_.emplace(name, std::move(opened).value());
    unavailable_.erase(name);
  }
  if (old != nullptr || broken) {
    if (Status s = RemoveDirDurably(parked); !s.ok()) {
      TESSERA_LOG(kWarn) << "catalog: " << s.ToString();
    }
  }
  TESSERA_LOG(kInfo) << "recovered collection " << name << " from " << archive;
  return Status::Ok();
}

Result<std::shared_ptr<Collection>> Catalog::ResolveLocked(std::string_view name) const {
  std::string_view target = name;
  if (!collections_.contains(name) && !unavailable_.contains(name)) {
    if (auto alias = aliases_.find(name); alias != aliases_.end()) {
      target = alias->second;
    }
  }
  if (auto it = collections_.find(target); it != collections_.end()) {
    return it->second;
  }
  if (auto it = unavailable_.find(target); it != unavailable_.end()) {
    return it->second;
  }
  return CollectionNotFound(name);
}

Result<std::shared_ptr<Collection>> Catalog::GetCollection(std::string_view name) const {
  std::lock_guard lock(mu_);
  return ResolveLocked(name);
}

bool Catalog::CollectionExists(std::string_view name) const {
  std::lock_guard lock(mu_);
  return ResolveLocked(name).status().code() != Code::kNotFound;
}

std::vector<std::string> Catalog::ListCollections() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  names.reserve(collections_.size() + unavailable_.size());
  for (const auto& [name, collection] : collections_) {
    names.push_back(name);
  }
  for (const auto& [name, status] : unavailable_) {
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Status Catalog::UpdateCollection(std::string_view name, const CollectionUpdate& update) {
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<Collection> collection, GetCollection(name));
  return collection->Update(update);
}

Status Catalog::ChangeAliases(const std::vector<AliasAction>& actions) {
  std::lock_guard change(change_mu_);
  auto next = aliases_;
  for (const AliasAction& action : actions) {
    if (const auto* create = std::get_if<CreateAlias>(&action)) {
      TESSERA_RETURN_IF_ERROR(ValidateCollectionName(create->alias_name));
      if (!collections_.contains(create->collection_name)) {
        return CollectionNotFound(create->collection_name);
      }
      if (collections_.contains(create->alias_name)) {
        return Status::AlreadyExists("Wrong input: Collection `" + create->alias_name +
                                     "` already exists!");
      }
      next[create->alias_name] = create->collection_name;
    } else if (const auto* del = std::get_if<DeleteAlias>(&action)) {
      if (next.erase(del->alias_name) == 0) {
        return Status::NotFound("Not found: Alias `" + del->alias_name + "` doesn't exist!");
      }
    } else if (const auto* rename = std::get_if<RenameAlias>(&action)) {
      TESSERA_RETURN_IF_ERROR(ValidateCollectionName(rename->new_alias_name));
      auto it = next.find(rename->old_alias_name);
      if (it == next.end()) {
        return Status::NotFound("Not found: Alias `" + rename->old_alias_name + "` doesn't exist!");
      }
      if (collections_.contains(rename->new_alias_name)) {
        return Status::AlreadyExists("Wrong input: Collection `" + rename->new_alias_name +
                                     "` already exists!");
      }
      std::string target = it->second;
      next.erase(it);
      next[rename->new_alias_name] = std::move(target);
    }
  }
  TESSERA_RETURN_IF_ERROR(PersistAliasesLocked(next));
  std::lock_guard lock(mu_);
  aliases_ = std::move(next);
  return Status::Ok();
}

Status Catalog::PersistAliasesLocked(
    const std::map<std::string, std::string, std::less<>>& aliases) {
  return WriteFileAtomically(storage_path_ / kAliasesFile, EncodeAliases(aliases));
}

std::vector<AliasDescription> Catalog::ListAliases() const {
  std::lock_guard lock(mu_);
  std::vector<AliasDescription> out;
  for (const auto& [alias, collection] : aliases_) {
    out.push_back({alias, collection});
  }
  return out;
}

Result<std::vector<AliasDescription>> Catalog::ListAliases(std::string_view collection_name) const {
  std::lock_guard lock(mu_);
  if (!collections_.contains(collection_name)) {
    return CollectionNotFound(collection_name);
  }
  std::vector<AliasDescription> out;
  for (const auto& [alias, collection] : aliases_) {
    if (collection == collection_name) {
      out.push_back({alias, collection});
    }
  }
  return out;
}

}  // namespace tessera::engine

#include "engine/catalog.h"

#include <algorithm>
#include <system_error>

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

Result<std::unique_ptr<Catalog>> Catalog::Open(const fs::path& storage_path) {
  std::unique_ptr<Catalog> catalog(new Catalog(storage_path));
  TESSERA_RETURN_IF_ERROR(CreateDirDurably(storage_path / "collections"));

  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(storage_path / "collections", ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.starts_with('.')) {
      if (name.ends_with(".deleting")) {  // a delete that a crash interrupted
        fs::remove_all(entry.path(), ec);
      }
      continue;
    }
    if (!ValidateCollectionName(name).ok() || !fs::exists(entry.path() / Collection::kConfigFile)) {
      TESSERA_LOG(kWarn) << "catalog: ignoring " << entry.path() << ": not a collection folder";
      continue;
    }
    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Collection> collection,
                             Collection::Open(name, entry.path()));
    catalog->collections_.emplace(name, std::move(collection));
  }
  if (ec) {
    return Status::IoError("list " + (storage_path / "collections").string() + ": " + ec.message());
  }

  const fs::path aliases_path = storage_path / kAliasesFile;
  if (fs::exists(aliases_path)) {
    TESSERA_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(aliases_path));
    TESSERA_ASSIGN_OR_RETURN(catalog->aliases_, DecodeAliases(bytes));
    // An alias whose collection is gone (deleted while the alias file was not yet rewritten)
    // resolves to nothing; drop it.
    std::erase_if(catalog->aliases_,
                  [&](const auto& kv) { return !catalog->collections_.contains(kv.second); });
  }
  return catalog;
}

Status Catalog::CreateCollection(const std::string& name, CollectionConfig config) {
  TESSERA_RETURN_IF_ERROR(ValidateCollectionName(name));
  std::lock_guard lock(mu_);
  if (collections_.contains(name)) {
    return Status::AlreadyExists("Wrong input: Collection `" + name + "` already exists!");
  }
  if (aliases_.contains(name)) {
    return Status::AlreadyExists("Wrong input: Alias `" + name + "` already exists!");
  }
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Collection> collection,
                           Collection::Create(name, CollectionDir(name), std::move(config)));
  collections_.emplace(name, std::move(collection));
  TESSERA_LOG(kInfo) << "created collection " << name;
  return Status::Ok();
}

Result<bool> Catalog::DeleteCollection(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = collections_.find(name);
  if (it == collections_.end()) {
    return false;
  }
  auto aliases = aliases_;
  const size_t dropped = std::erase_if(aliases, [&](const auto& kv) { return kv.second == name; });
  if (dropped > 0) {
    TESSERA_RETURN_IF_ERROR(PersistAliasesLocked(aliases));
  }
  it->second->Drop();
  TESSERA_RETURN_IF_ERROR(RemoveDirDurably(it->second->dir()));
  aliases_ = std::move(aliases);
  collections_.erase(it);
  TESSERA_LOG(kInfo) << "deleted collection " << name;
  return true;
}

Result<std::shared_ptr<Collection>> Catalog::ResolveLocked(std::string_view name) const {
  if (auto it = collections_.find(name); it != collections_.end()) {
    return it->second;
  }
  if (auto alias = aliases_.find(name); alias != aliases_.end()) {
    if (auto it = collections_.find(alias->second); it != collections_.end()) {
      return it->second;
    }
  }
  return CollectionNotFound(name);
}

Result<std::shared_ptr<Collection>> Catalog::GetCollection(std::string_view name) const {
  std::lock_guard lock(mu_);
  return ResolveLocked(name);
}

bool Catalog::CollectionExists(std::string_view name) const {
  std::lock_guard lock(mu_);
  return ResolveLocked(name).ok();
}

std::vector<std::string> Catalog::ListCollections() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  names.reserve(collections_.size());
  for (const auto& [name, collection] : collections_) {
    names.push_back(name);
  }
  return names;
}

Status Catalog::UpdateCollection(std::string_view name, const CollectionUpdate& update) {
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<Collection> collection, GetCollection(name));
  return collection->Update(update);
}

Status Catalog::ChangeAliases(const std::vector<AliasAction>& actions) {
  std::lock_guard lock(mu_);
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

#pragma once

// The catalog: every collection and alias under one storage folder.
//
//   <storage>/collections/<name>/config.bin   one folder per collection (see Collection)
//   <storage>/aliases.bin                     alias -> collection map (grammar in catalog.cpp)
//
// Thread-safe. Collection and alias changes are serialised by change_mu_, held across their
// file I/O (creating, dropping, removing, restoring), and are on disk before they are
// visible; mu_ guards the maps and is held only to read or swap an entry, never across I/O,
// so a lookup (every request) never waits on a change. Lock order: restore_mu_ -> change_mu_
// -> mu_. Readers get a shared_ptr that stays valid while a collection is deleted.

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/lock_order.h"
#include "common/status.h"
#include "engine/collection.h"

namespace tessera::engine {

struct CreateAlias {
  std::string alias_name;
  std::string collection_name;
};
struct DeleteAlias {
  std::string alias_name;
};
struct RenameAlias {
  std::string old_alias_name;
  std::string new_alias_name;
};
using AliasAction = std::variant<CreateAlias, DeleteAlias, RenameAlias>;

struct AliasDescription {
  std::string alias_name;
  std::string collection_name;
  bool operator==(const AliasDescription&) const = default;
};

// Collection and alias names: 1..255 bytes, none of `<>:"/\|?*`, no control characters, not
// "." or "..". Returns kValidationFailed saying why.
Status ValidateCollectionName(std::string_view name);

class Catalog {
 public:
  // Opens (creating if needed) the storage folder and loads every collection in it.
  // Every collection runs with `options` (threads, intervals). A collection that fails to load
  // is logged and left out of service (its requests answer kUnavailable saying why); it does
  // not keep the others from serving.
  static Result<std::unique_ptr<Catalog>> Open(const std::filesystem::path& storage_path,
                                               const CollectionOptions& options = {});

  const std::filesystem::path& storage_path() const { return storage_path_; }

  Status CreateCollection(const std::string& name, CollectionConfig config);
  // Returns whether a collection was deleted (false: there was none by that name).
  Result<bool> DeleteCollection(const std::string& name);
  // Resolves `name` as a collection name, then as an alias.
  Result<std::shared_ptr<Collection>> GetCollection(std::string_view name) const;
  bool CollectionExists(std::string_view name) const;
  std::vector<std::string> ListCollections() const;  // sorted by name
  Status UpdateCollection(std::string_view name, const CollectionUpdate& update);
  // Restores collection `name` from a snapshot archive (Collection::CreateSnapshot), replacing
  // the collection of that name if there is one; its aliases stay. All or nothing: an archive
  // that does not load (InvalidArgument saying why) leaves the old collection in place. A
  // crash midway leaves either the old or the new collection after restart.
  Status RecoverCollection(const std::string& name, const std::filesystem::path& archive);

  // Applies every action in order, or none of them.
  Status ChangeAliases(const std::vector<AliasAction>& actions);
  std::vector<AliasDescription> ListAliases() const;  // sorted by alias name
  // Aliases of one collection; NotFound if the collection does not exist.
  Result<std::vector<AliasDescription>> ListAliases(std::string_view collection_name) const;

 private:
  Catalog(std::filesystem::path storage_path, const CollectionOptions& options)
      : storage_path_(std::move(storage_path)), options_(options) {}
  std::filesystem::path CollectionDir(std::string_view name) const;
  // requires mu_ or change_mu_
  Result<std::shared_ptr<Collection>> ResolveLocked(std::string_view name) const;
  Status PersistAliasesLocked(const std::map<std::string, std::string, std::less<>>& aliases);

  const std::filesystem::path storage_path_;
  const CollectionOptions options_;
  RankedMutex restore_mu_{LockRank::kCatalogRestore, "Catalog::restore_mu_"};  // one restore at a time (its unpacking); held before change_mu_
  RankedMutex change_mu_{LockRank::kCatalogChange, "Catalog::change_mu_"};  // serialises changes; the maps may be read holding it alone
  mutable RankedMutex mu_{LockRank::kCatalogMap, "Catalog::mu_"};  // held to read or change the maps, briefly
  // Written holding change_mu_ and mu_; read holding either.
  std::map<std::string, std::shared_ptr<Collection>, std::less<>> collections_;
  std::map<std::string, std::string, std::less<>> aliases_;  // alias -> collection
  // Collections whose files did not load (a corrupt segment, config or WAL record): out of
  // service with this status (kUnavailable, naming the damage), their files left as they are,
  // until deleted or recovered from a snapshot. The rest of the storage serves. As collections_.
  std::map<std::string, Status, std::less<>> unavailable_;
};

}  // namespace tessera::engine

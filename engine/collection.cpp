#include "engine/collection.h"

#include <system_error>

#include "common/file.h"

namespace tessera::engine {

namespace fs = std::filesystem;

std::string_view CollectionStatusName(CollectionStatus status) {
  switch (status) {
    case CollectionStatus::kGreen:
      return "green";
    case CollectionStatus::kYellow:
      return "yellow";
    case CollectionStatus::kGrey:
      return "grey";
    case CollectionStatus::kRed:
      return "red";
  }
  return "red";
}

Result<std::unique_ptr<Collection>> Collection::Create(std::string name, fs::path dir,
                                                       CollectionConfig config) {
  TESSERA_RETURN_IF_ERROR(ValidateConfig(config));
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    return Status::AlreadyExists("Wrong input: Can't create collection with name " + name +
                                 ". Collection data already exists at " + dir.string());
  }
  TESSERA_RETURN_IF_ERROR(CreateDirDurably(dir));
  TESSERA_RETURN_IF_ERROR(WriteFileAtomically(dir / kConfigFile, EncodeCollectionConfig(config)));
  return std::unique_ptr<Collection>(
      new Collection(std::move(name), std::move(dir), std::move(config)));
}

Result<std::unique_ptr<Collection>> Collection::Open(std::string name, fs::path dir) {
  TESSERA_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(dir / kConfigFile));
  Result<CollectionConfig> config = DecodeCollectionConfig(bytes);
  if (!config.ok()) {
    return config.status().WithPrefix((dir / kConfigFile).string() + ": ");
  }
  return std::unique_ptr<Collection>(
      new Collection(std::move(name), std::move(dir), std::move(config).value()));
}

CollectionConfig Collection::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

CollectionInfo Collection::Info() const {
  CollectionInfo info;
  info.config = config();
  return info;
}

Status Collection::Update(const CollectionUpdate& update) {
  std::lock_guard lock(mu_);
  TESSERA_ASSIGN_OR_RETURN(CollectionConfig next, ApplyUpdate(config_, update));
  TESSERA_RETURN_IF_ERROR(WriteFileAtomically(dir_ / kConfigFile, EncodeCollectionConfig(next)));
  config_ = std::move(next);
  return Status::Ok();
}

}  // namespace tessera::engine

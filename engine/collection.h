#pragma once

// One collection: its name, folder and configuration. The point store (WAL, segments, update
// worker) joins it with the durable core. Thread-safe: config reads and updates are serialised
// by mu_, and every config change is on disk (atomically replaced) before it is visible.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "engine/collection_config.h"

namespace tessera::engine {

enum class CollectionStatus : uint8_t { kGreen, kYellow, kGrey, kRed };
std::string_view CollectionStatusName(CollectionStatus status);

struct CollectionInfo {
  CollectionStatus status = CollectionStatus::kGreen;
  uint64_t points_count = 0;
  uint64_t indexed_vectors_count = 0;
  uint64_t segments_count = 0;
  CollectionConfig config;
};

class Collection {
 public:
  // Creates `dir` and writes the config into it; fails if `dir` already exists.
  static Result<std::unique_ptr<Collection>> Create(std::string name, std::filesystem::path dir,
                                                    CollectionConfig config);
  // Opens a collection folder written by Create.
  static Result<std::unique_ptr<Collection>> Open(std::string name, std::filesystem::path dir);

  static constexpr const char* kConfigFile = "config.bin";

  const std::string& name() const { return name_; }
  const std::filesystem::path& dir() const { return dir_; }
  CollectionConfig config() const;
  CollectionInfo Info() const;

  // Applies `update`, persists it, then makes it visible. Nothing changes on failure.
  Status Update(const CollectionUpdate& update);

 private:
  Collection(std::string name, std::filesystem::path dir, CollectionConfig config)
      : name_(std::move(name)), dir_(std::move(dir)), config_(std::move(config)) {}

  const std::string name_;
  const std::filesystem::path dir_;
  mutable std::mutex mu_;
  CollectionConfig config_;  // guarded by mu_
};

}  // namespace tessera::engine

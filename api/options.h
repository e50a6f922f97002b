#pragma once

// Server options, as Qdrant layers them (lowest to highest precedence): defaults, a YAML config
// file (--config-path, else config/config.yaml if present) with Qdrant's keys, Qdrant-style
// environment variables (QDRANT__SERVICE__HTTP_PORT, ...) and command-line flags (--port, ...).
// Every setting has one dotted Qdrant key ("service.http_port"); the file, the environment and
// the flags all name it. Unknown keys in the file or environment are reported, not fatal;
// Qdrant keys that do not apply to a single Tessera node are accepted silently.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/logging.h"
#include "common/status.h"
#include "engine/collection.h"
#include "engine/collection_config.h"

namespace tessera::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t http_port = 6333;
  std::filesystem::path storage_path = "./storage";
  std::filesystem::path snapshots_path = "./snapshots";
  std::optional<std::string> api_key;
  std::optional<std::string> read_only_api_key;
  unsigned threads = 0;  // 0: one per core
  uint64_t max_request_size_mb = 32;
  bool enable_cors = true;
  bool enable_static_content = true;
  std::filesystem::path static_content_dir = "./static";
  LogLevel log_level = LogLevel::kInfo;

  // Defaults for new collections (storage.hnsw_index, storage.optimizers, storage.wal,
  // storage.on_disk_payload); a create request's own fields win.
  engine::CollectionConfig collection_defaults;
  // storage.performance: how collections use threads.
  engine::CollectionOptions collection_options;

  std::optional<std::filesystem::path> config_file;  // the file read, if any
  std::vector<std::string> warnings;                 // unknown keys, for the startup log
};

// Environment variables by name (only QDRANT__* ones matter).
using Env = std::map<std::string, std::string>;
Env ProcessEnv();

// Returns the options, or InvalidArgument naming the bad flag, variable or file key. `--help` is
// reported as a FailedPrecondition whose message is the usage text. `default_config` is read
// when no --config-path is given and it exists.
Result<ServerOptions> ParseOptions(
    const std::vector<std::string>& args, const Env& env,
    const std::filesystem::path& default_config = "config/config.yaml");

// "key: value" lines of every setting in effect, keys masked; for the startup banner.
std::vector<std::string> EffectiveConfig(const ServerOptions& options);

std::string Usage();

}  // namespace tessera::api

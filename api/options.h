#pragma once

// Server options, from (lowest to highest precedence) defaults, Qdrant-style environment
// variables (QDRANT__SERVICE__HTTP_PORT, ...) and command-line flags (--port, ...).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/logging.h"
#include "common/status.h"

namespace tessera::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t http_port = 6333;
  std::filesystem::path storage_path = "./storage";
  std::optional<std::string> api_key;
  std::optional<std::string> read_only_api_key;
  unsigned threads = 0;  // 0: one per core
  uint64_t max_request_size_mb = 32;
  LogLevel log_level = LogLevel::kInfo;
};

// Looks up an environment variable; returns nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

// Returns the options, or InvalidArgument naming the bad flag or variable. `--help` is
// reported as a FailedPrecondition whose message is the usage text.
Result<ServerOptions> ParseOptions(const std::vector<std::string>& args, const EnvLookup& env);

std::string Usage();

}  // namespace tessera::api

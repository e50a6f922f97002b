#include "api/options.h"

#include <charconv>
#include <cstdlib>
#include <thread>

namespace tessera::api {

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) {
      return std::nullopt;
    }
    return std::string(v);
  };
}

std::string Usage() {
  return "usage: tessera [options]\n"
         "  --host HOST               listen address        (QDRANT__SERVICE__HOST, 127.0.0.1)\n"
         "  --port PORT               HTTP port             (QDRANT__SERVICE__HTTP_PORT, 6333)\n"
         "  --storage-path DIR        data folder           (QDRANT__STORAGE__STORAGE_PATH, "
         "./storage)\n"
         "  --api-key KEY             full-access key       (QDRANT__SERVICE__API_KEY)\n"
         "  --read-only-api-key KEY   read-only key         (QDRANT__SERVICE__READ_ONLY_API_KEY)\n"
         "  --threads N               HTTP worker threads   (QDRANT__SERVICE__MAX_WORKERS, cores)\n"
         "  --max-request-size-mb N   request body cap      (QDRANT__SERVICE__MAX_REQUEST_SIZE_MB, "
         "32)\n"
         "  --log-level LEVEL         debug|info|warn|error (QDRANT__LOG_LEVEL, info)\n";
}

namespace {

Status ParseUnsigned(const std::string& what, const std::string& text, uint64_t max,
                     uint64_t* out) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v > max) {
    return Status::InvalidArgument(what + ": expected an integer up to " + std::to_string(max) +
                                   ", got `" + text + "`");
  }
  *out = v;
  return Status::Ok();
}

// Applies one named setting; `what` names its source in errors.
Status Apply(ServerOptions* o, const std::string& key, const std::string& value,
             const std::string& what) {
  uint64_t n = 0;
  if (key == "host") {
    o->host = value;
  } else if (key == "port") {
    TESSERA_RETURN_IF_ERROR(ParseUnsigned(what, value, 65535, &n));
    o->http_port = static_cast<uint16_t>(n);
  } else if (key == "storage-path") {
    if (value.empty()) {
      return Status::InvalidArgument(what + ": storage path cannot be empty");
    }
    o->storage_path = value;
  } else if (key == "api-key") {
    o->api_key = value;
  } else if (key == "read-only-api-key") {
    o->read_only_api_key = value;
  } else if (key == "threads") {
    TESSERA_RETURN_IF_ERROR(ParseUnsigned(what, value, 1024, &n));
    o->threads = static_cast<unsigned>(n);
  } else if (key == "max-request-size-mb") {
    TESSERA_RETURN_IF_ERROR(ParseUnsigned(what, value, 4096, &n));
    if (n == 0) {
      return Status::InvalidArgument(what + ": must be at least 1");
    }
    o->max_request_size_mb = n;
  } else if (key == "log-level") {
    if (!ParseLogLevel(value, &o->log_level)) {
      return Status::InvalidArgument(what + ": unknown log level `" + value + "`");
    }
  } else {
    return Status::InvalidArgument("unknown option " + what);
  }
  return Status::Ok();
}

struct EnvName {
  const char* env;
  const char* key;
};
constexpr EnvName kEnvNames[] = {
    {"QDRANT__SERVICE__HOST", "host"},
    {"QDRANT__SERVICE__HTTP_PORT", "port"},
    {"QDRANT__STORAGE__STORAGE_PATH", "storage-path"},
    {"QDRANT__SERVICE__API_KEY", "api-key"},
    {"QDRANT__SERVICE__READ_ONLY_API_KEY", "read-only-api-key"},
    {"QDRANT__SERVICE__MAX_WORKERS", "threads"},
    {"QDRANT__SERVICE__MAX_REQUEST_SIZE_MB", "max-request-size-mb"},
    {"QDRANT__LOG_LEVEL", "log-level"},
};

}  // namespace

Result<ServerOptions> ParseOptions(const std::vector<std::string>& args, const EnvLookup& env) {
  ServerOptions o;
  for (const EnvName& e : kEnvNames) {
    if (std::optional<std::string> v = env(e.env)) {
      TESSERA_RETURN_IF_ERROR(Apply(&o, e.key, *v, e.env));
    }
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      return Status::FailedPrecondition(Usage());
    }
    if (!arg.starts_with("--")) {
      return Status::InvalidArgument("unexpected argument `" + arg + "`\n" + Usage());
    }
    std::string key = arg.substr(2);
    std::string value;
    if (const size_t eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key.resize(eq);
    } else {
      if (i + 1 >= args.size()) {
        return Status::InvalidArgument("option " + arg + " needs a value");
      }
      value = args[++i];
    }
    if (key == "http-port") {
      key = "port";
    }
    TESSERA_RETURN_IF_ERROR(Apply(&o, key, value, "--" + key));
  }
  if (o.threads == 0) {
    o.threads = std::max(1u, std::thread::hardware_concurrency());
  }
  return o;
}

}  // namespace tessera::api

#include "api/options.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <thread>
#include <utility>
#include <yaml-cpp/yaml.h>

extern char** environ;

namespace tessera::api {

namespace fs = std::filesystem;

Env ProcessEnv() {
  Env env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (!entry.starts_with("QDRANT__")) {
      continue;
    }
    if (const size_t eq = entry.find('='); eq != std::string_view::npos) {
      env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
    }
  }
  return env;
}

std::string Usage() {
  return "usage: tessera [options]\n"
         "  --config-path FILE        YAML config (Qdrant's keys)  (config/config.yaml if "
         "present)\n"
         "  --host HOST               listen address        (service.host, 127.0.0.1)\n"
         "  --port PORT               HTTP port             (service.http_port, 6333)\n"
         "  --storage-path DIR        data folder           (storage.storage_path, ./storage)\n"
         "  --snapshots-path DIR      snapshot folder       (storage.snapshots_path, ./snapshots)\n"
         "  --api-key KEY             full-access key       (service.api_key)\n"
         "  --read-only-api-key KEY   read-only key         (service.read_only_api_key)\n"
         "  --threads N               HTTP worker threads   (service.max_workers, cores)\n"
         "  --max-request-size-mb N   request body cap      (service.max_request_size_mb, 32)\n"
         "  --enable-cors BOOL        CORS headers          (service.enable_cors, true)\n"
         "  --static-content-dir DIR  /dashboard files      (service.static_content_dir, "
         "./static)\n"
         "  --log-level LEVEL         debug|info|warn|error (log_level, info)\n"
         "Every key can also be set as QDRANT__SECTION__KEY (e.g. QDRANT__SERVICE__HTTP_PORT);\n"
         "flags override the environment, which overrides the config file.\n";
}

namespace {

Status ParseU64(const std::string& text, uint64_t max, uint64_t* out) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v > max) {
    return Status::InvalidArgument("expected an integer up to " + std::to_string(max) + ", got `" +
                                   text + "`");
  }
  *out = v;
  return Status::Ok();
}

Status ParseBool(const std::string& text, bool* out) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "true" || lower == "1" || lower == "yes") {
    *out = true;
  } else if (lower == "false" || lower == "0" || lower == "no") {
    *out = false;
  } else {
    return Status::InvalidArgument("expected true or false, got `" + text + "`");
  }
  return Status::Ok();
}

Status ParseFraction(const std::string& text, double* out) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !(v >= 0 && v <= 1)) {
    return Status::InvalidArgument("expected a number from 0 to 1, got `" + text + "`");
  }
  *out = v;
  return Status::Ok();
}

// Typed helpers for the table: parse into a member, show it back.
template <uint64_t Max, typename T>
Status SetU64(const std::string& v, T* out) {
  uint64_t n = 0;
  TESSERA_RETURN_IF_ERROR(ParseU64(v, Max, &n));
  *out = static_cast<T>(n);
  return Status::Ok();
}

std::string Show(uint64_t v) {
  return std::to_string(v);
}
std::string Show(bool v) {
  return v ? "true" : "false";
}
std::string Show(const std::optional<uint64_t>& v) {
  return v ? std::to_string(*v) : "null";
}

struct Setting {
  std::string_view key;   // Qdrant's dotted key
  std::string_view flag;  // "" if there is no flag
  Status (*set)(ServerOptions*, const std::string&);
  std::string (*show)(const ServerOptions&);
};

constexpr uint64_t kMaxU64 = UINT64_MAX;

const Setting kSettings[] = {
    {"service.host", "host",
     [](ServerOptions* o, const std::string& v) {
       if (v.empty()) {
         return Status::InvalidArgument("host cannot be empty");
       }
       o->host = v;
       return Status::Ok();
     },
     [](const ServerOptions& o) { return o.host; }},
    {"service.http_port", "port",
     [](ServerOptions* o, const std::string& v) { return SetU64<65535>(v, &o->http_port); },
     [](const ServerOptions& o) { return Show(uint64_t{o.http_port}); }},
    {"service.api_key", "api-key",
     [](ServerOptions* o, const std::string& v) {
       o->api_key = v;
       return Status::Ok();
     },
     [](const ServerOptions& o) { return std::string(o.api_key ? "(set)" : "(none)"); }},
    {"service.read_only_api_key", "read-only-api-key",
     [](ServerOptions* o, const std::string& v) {
       o->read_only_api_key = v;
       return Status::Ok();
     },
     [](const ServerOptions& o) { return std::string(o.read_only_api_key ? "(set)" : "(none)"); }},
    {"service.max_workers", "threads",
     [](ServerOptions* o, const std::string& v) { return SetU64<1024>(v, &o->threads); },
     [](const ServerOptions& o) { return Show(uint64_t{o.threads}); }},
    {"service.max_request_size_mb", "max-request-size-mb",
     [](ServerOptions* o, const std::string& v) {
       uint64_t n = 0;
       TESSERA_RETURN_IF_ERROR(ParseU64(v, 4096, &n));
       if (n == 0) {
         return Status::InvalidArgument("must be at least 1");
       }
       o->max_request_size_mb = n;
       return Status::Ok();
     },
     [](const ServerOptions& o) { return Show(o.max_request_size_mb); }},
    {"service.enable_cors", "enable-cors",
     [](ServerOptions* o, const std::string& v) { return ParseBool(v, &o->enable_cors); },
     [](const ServerOptions& o) { return Show(o.enable_cors); }},
    {"service.enable_static_content", "enable-static-content",
     [](ServerOptions* o, const std::string& v) { return ParseBool(v, &o->enable_static_content); },
     [](const ServerOptions& o) { return Show(o.enable_static_content); }},
    {"service.static_content_dir", "static-content-dir",
     [](ServerOptions* o, const std::string& v) {
       o->static_content_dir = v;
       return Status::Ok();
     },
     [](const ServerOptions& o) { return o.static_content_dir.string(); }},
    {"storage.storage_path", "storage-path",
     [](ServerOptions* o, const std::string& v) {
       if (v.empty()) {
         return Status::InvalidArgument("storage path cannot be empty");
       }
       o->storage_path = v;
       return Status::Ok();
     },
     [](const ServerOptions& o) { return o.storage_path.string(); }},
    {"storage.snapshots_path", "snapshots-path",
     [](ServerOptions* o, const std::string& v) {
       if (v.empty()) {
         return Status::InvalidArgument("snapshots path cannot be empty");
       }
       o->snapshots_path = v;
       return Status::Ok();
     },
     [](const ServerOptions& o) { return o.snapshots_path.string(); }},
    {"storage.on_disk_payload", "",
     [](ServerOptions* o, const std::string& v) {
       return ParseBool(v, &o->collection_defaults.on_disk_payload);
     },
     [](const ServerOptions& o) { return Show(o.collection_defaults.on_disk_payload); }},
    {"storage.wal.wal_capacity_mb", "",
     [](ServerOptions* o, const std::string& v) {
       return SetU64<1024 * 1024>(v, &o->collection_defaults.wal.wal_capacity_mb);
     },
     [](const ServerOptions& o) { return Show(o.collection_defaults.wal.wal_capacity_mb); }},
    {"storage.wal.wal_segments_ahead", "",
     [](ServerOptions* o, const std::string& v) {
       return SetU64<kMaxU64>(v, &o->collection_defaults.wal.wal_segments_ahead);
     },
     [](const ServerOptions& o) { return Show(o.collection_defaults.wal.wal_segments_ahead); }},
    {"storage.hnsw_index.m", "",
     [](ServerOptions* o, const std::string& v) {
       return SetU64<kMaxU64>(v, &o->collection_defaults.hnsw.m);
     },
     [](const ServerOptions& o) { return Show(o.collection_defaults.hnsw.m); }},
    {"storage.hnsw_index.ef_construct", "",
     [](ServerOptions* o, const std::string& v) {
       return SetU64<kMaxU64>(v, &o->collection_defaults.hnsw.ef_construct);
     },
     [](const ServerOptions& o) { return Show(o.collection_defaults.hnsw.ef_construct); }},
    {"storage.hnsw_index.full_scan_threshold_kb", "",
     [](ServerOptions* o, const std::string& v) {
       return SetU64<kMaxU64>(v, &o->collection_defaults.hnsw.full_scan_threshold);
     },
     [](const ServerOptions& o) { return Show(o.collection_defaults.hnsw.full_scan_threshold); }},
    {"storage.hnsw_index.max_indexing_threads", "",
     [](ServerOptions* o, const std::string& v) {
       return SetU64<kMaxU64>(v, &o->collection_defaults.hnsw.max_indexing_threads);
     },
     [](const ServerOptions& o) { return Show(o.collection_defaults.hnsw.max_indexing_threads); }},
    {"storage.hnsw_index.on_disk", "",
     [](ServerOptions* o, const std::string& v) {
       return ParseBool(v, &o->collection_defaults.hnsw.on_disk);
     },
     [](const ServerOptions& o) { return Show(o.collection_defaults.hnsw.on_disk); }},
    {"storage.optimizers.deleted_threshold", "",
     [](ServerOptions* o, const std::string& v) {
       return ParseFraction(v, &o->collection_defaults.optimizers.deleted_threshold);
     },
     [](const ServerOptions& o) {
       return std::to_string(o.collection_defaults.optimizers.deleted_threshold);
     }},
    {"storage.optimizers.vacuum_min_vector_number", "",
     [](ServerOptions* o, const std::string& v) {
       return SetU64<kMaxU64>(v, &o->collection_defaults.optimizers.vacuum_min_vector_number);
     },
     [](const ServerOptions& o) {
       return Show(o.collection_defaults.optimizers.vacuum_min_vector_number);
     }},
    {"storage.optimizers.default_segment_number", "",
     [](ServerOptions* o, const std::string& v) {
       return SetU64<kMaxU64>(v, &o->collection_defaults.optimizers.default_segment_number);
     },
     [](const ServerOptions& o) {
       return Show(o.collection_defaults.optimizers.default_segment_number);
     }},
    {"storage.optimizers.max_segment_size_kb", "",
     [](ServerOptions* o, const std::string& v) {
       uint64_t n = 0;
       TESSERA_RETURN_IF_ERROR(ParseU64(v, kMaxU64, &n));
       o->collection_defaults.optimizers.max_segment_size = n;
       return Status::Ok();
     },
     [](const ServerOptions& o) {
       return Show(o.collection_defaults.optimizers.max_segment_size);
     }},
    {"storage.optimizers.indexing_threshold_kb", "",
     [](ServerOptions* o, const std::string& v) {
       return SetU64<kMaxU64>(v, &o->collection_defaults.optimizers.indexing_threshold);
     },
     [](const ServerOptions& o) {
       return Show(o.collection_defaults.optimizers.indexing_threshold);
     }},
    {"storage.optimizers.flush_interval_sec", "",
     [](ServerOptions* o, const std::string& v) {
       return SetU64<kMaxU64>(v, &o->collection_defaults.optimizers.flush_interval_sec);
     },
     [](const ServerOptions& o) {
       return Show(o.collection_defaults.optimizers.flush_interval_sec);
     }},
    {"storage.optimizers.max_optimization_threads", "",
     [](ServerOptions* o, const std::string& v) {
       uint64_t n = 0;
       TESSERA_RETURN_IF_ERROR(ParseU64(v, kMaxU64, &n));
       o->collection_defaults.optimizers.max_optimization_threads = n;
       return Status::Ok();
     },
     [](const ServerOptions& o) {
       return Show(o.collection_defaults.optimizers.max_optimization_threads);
     }},
    {"storage.performance.max_optimization_runtime_threads", "",
     [](ServerOptions* o, const std::string& v) {
       return SetU64<1024>(v, &o->collection_options.indexing_threads);
     },
     [](const ServerOptions& o) { return Show(uint64_t{o.collection_options.indexing_threads}); }},
    {"log_level", "log-level",
     [](ServerOptions* o, const std::string& v) {
       // Qdrant accepts "INFO,module=level" filters: the first entry is the level.
       const std::string level = v.substr(0, v.find(','));
       if (!ParseLogLevel(level, &o->log_level)) {
         return Status::InvalidArgument("unknown log level `" + v + "`");
       }
       return Status::Ok();
     },
     [](const ServerOptions& o) {
       constexpr const char* kNames[] = {"debug", "info", "warn", "error"};
       return std::string(kNames[static_cast<int>(o.log_level)]);
     }},
};

// Qdrant keys that mean nothing for one Tessera node (cluster, TLS, gRPC, ...): accepted and
// left alone, so that a Qdrant config file loads without a warning per line.
constexpr std::string_view kInapplicablePrefixes[] = {
    "cluster.",
    "tls.",
    "logger.",
    "gpu.",
    "inference.",
    "debugger.",
    "debug",
    "telemetry_disabled",
    "service.grpc_port",
    "service.enable_tls",
    "service.verify_https_client_certificate",
    "service.jwt_rbac",
    "service.hide_jwt_dashboard",
    "storage.temp_path",
    "storage.update_concurrency",
    "storage.node_type",
    "storage.performance.",
    "storage.snapshots_config.",
    "storage.collection.",
    "storage.shard_transfer_method",
    "storage.update_queue_size",
    "storage.recovery_mode",
    "storage.max_collections",
    "storage.hnsw_index.payload_m",
    "storage.hnsw_index.inline_storage",
    "storage.optimizers.memmap_threshold",
    "storage.optimizers.prevent_unoptimized",
};

const Setting* FindSetting(std::string_view key) {
  for (const Setting& s : kSettings) {
    if (s.key == key) {
      return &s;
    }
  }
  return nullptr;
}

const Setting* FindFlag(std::string_view flag) {
  if (flag == "http-port") {
    flag = "port";
  }
  for (const Setting& s : kSettings) {
    if (!s.flag.empty() && s.flag == flag) {
      return &s;
    }
  }
  return nullptr;
}

bool Inapplicable(std::string_view key) {
  return std::any_of(std::begin(kInapplicablePrefixes), std::end(kInapplicablePrefixes),
                     [&](std::string_view p) { return key.starts_with(p); });
}

// Applies `value` to the setting named `key` from `source` ("config file x.yaml", ...). Unknown
// keys become warnings; bad values are errors naming the key and its source.
Status ApplyKey(ServerOptions* o, const std::string& key, const std::string& value,
                const std::string& source) {
  const Setting* s = FindSetting(key);
  if (s == nullptr) {
    if (!Inapplicable(key)) {
      o->warnings.push_back(source + ": unknown key `" + key + "` ignored");
    }
    return Status::Ok();
  }
  if (Status st = s->set(o, value); !st.ok()) {
    return Status::InvalidArgument(source + ": " + key + ": " + st.message());
  }
  return Status::Ok();
}

// Flattens a YAML mapping into dotted keys with scalar values; null values are skipped (the
// default stays), and lists are reported as unsupported.
void Flatten(const YAML::Node& node, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>* out,
             std::vector<std::string>* unsupported) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      const std::string key = kv.first.as<std::string>();
      Flatten(kv.second, prefix.empty() ? key : prefix + "." + key, out, unsupported);
    }
  } else if (node.IsScalar()) {
    const std::string& v = node.Scalar();
    if (v != "null" && v != "~") {
      out->emplace_back(prefix, v);
    }
  } else if (node.IsSequence()) {
    unsupported->push_back(prefix);
  }
}

Status LoadConfigFile(const fs::path& path, ServerOptions* o) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path.string());
  } catch (const YAML::BadFile&) {
    return Status::InvalidArgument("cannot read config file " + path.string());
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("config file " + path.string() + ": " + e.what());
  }
  if (root.IsNull()) {
    return Status::Ok();  // an empty file
  }
  if (!root.IsMap()) {
    return Status::InvalidArgument("config file " + path.string() + ": expected a mapping");
  }
  std::vector<std::pair<std::string, std::string>> values;
  std::vector<std::string> lists;
  try {
    Flatten(root, "", &values, &lists);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("config file " + path.string() + ": " + e.what());
  }
  const std::string source = "config file " + path.string();
  for (const auto& [key, value] : values) {
    TESSERA_RETURN_IF_ERROR(ApplyKey(o, key, value, source));
  }
  for (const std::string& key : lists) {
    if (FindSetting(key) != nullptr) {
      return Status::InvalidArgument(source + ": " + key + ": expected a single value");
    }
    if (!Inapplicable(key)) {
      o->warnings.push_back(source + ": unknown key `" + key + "` ignored");
    }
  }
  return Status::Ok();
}

// QDRANT__STORAGE__WAL__WAL_CAPACITY_MB -> storage.wal.wal_capacity_mb
std::string EnvKey(std::string_view name) {
  std::string key;
  std::string_view rest = name.substr(std::string_view("QDRANT__").size());
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest.substr(i).starts_with("__")) {
      key += '.';
      ++i;
    } else {
      key += static_cast<char>(std::tolower(static_cast<unsigned char>(rest[i])));
    }
  }
  return key;
}

}  // namespace

Result<ServerOptions> ParseOptions(const std::vector<std::string>& args, const Env& env,
                                   const fs::path& default_config) {
  // Flags first into (key, value) pairs: --config-path decides which file is read, and the
  // flags are applied last.
  std::optional<fs::path> config_path;
  std::vector<std::pair<const Setting*, std::string>> flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      return Status::FailedPrecondition(Usage());
    }
    if (!arg.starts_with("--")) {
      return Status::InvalidArgument("unexpected argument `" + arg + "`\n" + Usage());
    }
    std::string name = arg.substr(2);
    std::string value;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else {
      if (i + 1 >= args.size()) {
        return Status::InvalidArgument("option " + arg + " needs a value");
      }
      value = args[++i];
    }
    if (name == "config-path") {
      config_path = value;
      continue;
    }
    const Setting* s = FindFlag(name);
    if (s == nullptr) {
      return Status::InvalidArgument("unknown option --" + name + "\n" + Usage());
    }
    flags.emplace_back(s, value);
  }

  ServerOptions o;
  std::error_code ec;
  if (config_path) {
    TESSERA_RETURN_IF_ERROR(LoadConfigFile(*config_path, &o));
    o.config_file = *config_path;
  } else if (!default_config.empty() && fs::is_regular_file(default_config, ec)) {
    TESSERA_RETURN_IF_ERROR(LoadConfigFile(default_config, &o));
    o.config_file = default_config;
  }
  for (const auto& [name, value] : env) {
    if (name.starts_with("QDRANT__")) {
      TESSERA_RETURN_IF_ERROR(ApplyKey(&o, EnvKey(name), value, name));
    }
  }
  for (const auto& [setting, value] : flags) {
    if (Status s = setting->set(&o, value); !s.ok()) {
      return Status::InvalidArgument("--" + std::string(setting->flag) + ": " + s.message());
    }
  }
  if (o.threads == 0) {
    o.threads = std::max(1u, std::thread::hardware_concurrency());
  }
  if (Status s = engine::ValidateConfig([&] {
        // The defaults must make a valid collection once a vector is added.
        engine::CollectionConfig c = o.collection_defaults;
        c.vectors.emplace(std::string(engine::kDefaultVectorName), engine::VectorParams{.size = 1});
        return c;
      }());
      !s.ok()) {
    return Status::InvalidArgument("collection defaults: " + s.message());
  }
  return o;
}

std::vector<std::string> EffectiveConfig(const ServerOptions& options) {
  std::vector<std::string> lines;
  for (const Setting& s : kSettings) {
    lines.push_back(std::string(s.key) + ": " + s.show(options));
  }
  return lines;
}

}  // namespace tessera::api

#include "api/options.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <stdlib.h>

#include <gtest/gtest.h>

namespace tessera::api {
namespace {

Env FakeEnv(std::map<std::string, std::string> vars) {
  return vars;
}

// A config file in a fresh temporary folder, removed at the end of the test.
class ConfigFile {
 public:
  explicit ConfigFile(const std::string& yaml) {
    char tmpl[] = "/tmp/tessera-options-XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::ofstream(path()) << yaml;
  }
  ~ConfigFile() { std::filesystem::remove_all(dir_); }
  std::filesystem::path path() const { return dir_ / "config.yaml"; }

 private:
  std::filesystem::path dir_;
};

TEST(OptionsTest, DefaultsMatchQdrant) {
  Result<ServerOptions> o = ParseOptions({}, FakeEnv({}), "");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->host, "127.0.0.1");
  EXPECT_EQ(o->http_port, 6333);
  EXPECT_EQ(o->storage_path, "./storage");
  EXPECT_FALSE(o->api_key.has_value());
  EXPECT_EQ(o->max_request_size_mb, 32u);
  EXPECT_GE(o->threads, 1u);
  EXPECT_TRUE(o->enable_cors);
  EXPECT_EQ(o->snapshots_path, "./snapshots");
  EXPECT_EQ(o->static_content_dir, "./static");
  EXPECT_EQ(o->collection_defaults.hnsw.m, 16u);
  EXPECT_EQ(o->collection_defaults.wal.wal_capacity_mb, 32u);
  EXPECT_FALSE(o->config_file.has_value());
}

TEST(OptionsTest, ConfigFileThenEnvironmentThenFlags) {
  ConfigFile file(R"(
log_level: DEBUG
service:
  host: 10.0.0.1
  http_port: 7100
  api_key: file-key
  enable_cors: false
storage:
  storage_path: /from-file
  snapshots_path: /snaps
  wal:
    wal_capacity_mb: 64
  hnsw_index:
    m: 32
    ef_construct: 200
  optimizers:
    indexing_threshold_kb: 500
    max_segment_size_kb: null
  performance:
    max_optimization_runtime_threads: 3
)");
  const std::string config = "--config-path=" + file.path().string();
  Result<ServerOptions> from_file = ParseOptions({config}, FakeEnv({}));
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  EXPECT_EQ(from_file->config_file, file.path());
  EXPECT_EQ(from_file->host, "10.0.0.1");
  EXPECT_EQ(from_file->http_port, 7100);
  EXPECT_EQ(from_file->api_key, "file-key");
  EXPECT_FALSE(from_file->enable_cors);
  EXPECT_EQ(from_file->storage_path, "/from-file");
  EXPECT_EQ(from_file->snapshots_path, "/snaps");
  EXPECT_EQ(from_file->log_level, LogLevel::kDebug);
  EXPECT_EQ(from_file->collection_defaults.wal.wal_capacity_mb, 64u);
  EXPECT_EQ(from_file->collection_defaults.hnsw.m, 32u);
  EXPECT_EQ(from_file->collection_defaults.hnsw.ef_construct, 200u);
  EXPECT_EQ(from_file->collection_defaults.optimizers.indexing_threshold, 500u);
  EXPECT_FALSE(from_file->collection_defaults.optimizers.max_segment_size.has_value());
  EXPECT_EQ(from_file->collection_options.indexing_threads, 3u);
  EXPECT_TRUE(from_file->warnings.empty());

  // The environment overrides the file, key by key; the flags override both.
  const auto env = FakeEnv({{"QDRANT__SERVICE__HTTP_PORT", "7200"},
                            {"QDRANT__STORAGE__HNSW_INDEX__M", "8"},
                            {"PATH", "/usr/bin"}});
  Result<ServerOptions> with_env = ParseOptions({config}, env);
  ASSERT_TRUE(with_env.ok()) << with_env.status().ToString();
  EXPECT_EQ(with_env->http_port, 7200);
  EXPECT_EQ(with_env->collection_defaults.hnsw.m, 8u);
  EXPECT_EQ(with_env->host, "10.0.0.1");

  Result<ServerOptions> with_flags = ParseOptions({config, "--port", "7300"}, env);
  ASSERT_TRUE(with_flags.ok());
  EXPECT_EQ(with_flags->http_port, 7300);
  EXPECT_EQ(with_flags->collection_defaults.hnsw.m, 8u);
  EXPECT_EQ(with_flags->storage_path, "/from-file");
}

TEST(OptionsTest, DefaultConfigFileIsReadWhenPresent) {
  ConfigFile file("service:\n  http_port: 7400\n");
  Result<ServerOptions> o = ParseOptions({}, FakeEnv({}), file.path());
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->http_port, 7400);
  EXPECT_EQ(o->config_file, file.path());
  Result<ServerOptions> absent = ParseOptions({}, FakeEnv({}), file.path().string() + ".none");
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(absent->http_port, 6333);
  EXPECT_FALSE(absent->config_file.has_value());
}

TEST(OptionsTest, UnknownKeysAreReportedNotFatal) {
  ConfigFile file(R"(
service:
  http_port: 7500
  grpc_port: 6334
  colour: blue
cluster:
  enabled: false
storage:
  optimizers:
    made_up: 1
)");
  Result<ServerOptions> o = ParseOptions({"--config-path", file.path().string()},
                                         FakeEnv({{"QDRANT__SERVICE__NO_SUCH_KEY", "1"}}));
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->http_port, 7500);
  ASSERT_EQ(o->warnings.size(), 3u);
  std::string all;
  for (const std::string& w : o->warnings) {
    all += w + "\n";
  }
  EXPECT_NE(all.find("service.colour"), std::string::npos) << all;
  EXPECT_NE(all.find("storage.optimizers.made_up"), std::string::npos) << all;
  EXPECT_NE(all.find("QDRANT__SERVICE__NO_SUCH_KEY"), std::string::npos) << all;
  EXPECT_EQ(all.find("grpc_port"), std::string::npos) << all;  // a Qdrant key: accepted quietly
}

TEST(OptionsTest, BadConfigFilesAreErrorsNamingTheKey) {
  ConfigFile bad_value("storage:\n  wal:\n    wal_capacity_mb: lots\n");
  Result<ServerOptions> o = ParseOptions({"--config-path", bad_value.path().string()}, {});
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("storage.wal.wal_capacity_mb"), std::string::npos);
  ConfigFile bad_yaml("service: [unclosed\n");
  EXPECT_FALSE(ParseOptions({"--config-path", bad_yaml.path().string()}, {}).ok());
  EXPECT_FALSE(ParseOptions({"--config-path", "/no/such/file.yaml"}, {}).ok());
  ConfigFile invalid_defaults("storage:\n  hnsw_index:\n    m: 0\n    ef_construct: 0\n");
  EXPECT_FALSE(ParseOptions({"--config-path", invalid_defaults.path().string()}, {}).ok());
}

TEST(OptionsTest, ShippedConfigLoadsWithoutWarningsAndMatchesTheDefaults) {
  const std::filesystem::path shipped =
      std::filesystem::path(TESSERA_SOURCE_DIR) / "config" / "config.yaml";
  Result<ServerOptions> o = ParseOptions({"--config-path", shipped.string()}, {});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_TRUE(o->warnings.empty()) << o->warnings.front();
  Result<ServerOptions> defaults = ParseOptions({}, {}, "");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(EffectiveConfig(*o), EffectiveConfig(*defaults));
}

TEST(OptionsTest, FlagsOverrideEnvironmentWhichOverridesDefaults) {
  const auto env = FakeEnv({{"QDRANT__SERVICE__HOST", "0.0.0.0"},
                            {"QDRANT__SERVICE__HTTP_PORT", "7000"},
                            {"QDRANT__STORAGE__STORAGE_PATH", "/data"},
                            {"QDRANT__SERVICE__API_KEY", "env-key"}});
  Result<ServerOptions> from_env = ParseOptions({}, env, "");
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env->host, "0.0.0.0");
  EXPECT_EQ(from_env->http_port, 7000);
  EXPECT_EQ(from_env->storage_path, "/data");
  EXPECT_EQ(from_env->api_key, "env-key");

  Result<ServerOptions> flags = ParseOptions(
      {"--port", "7001", "--storage-path=/other", "--api-key", "flag-key", "--threads", "3"}, env);
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ(flags->host, "0.0.0.0");
  EXPECT_EQ(flags->http_port, 7001);
  EXPECT_EQ(flags->storage_path, "/other");
  EXPECT_EQ(flags->api_key, "flag-key");
  EXPECT_EQ(flags->threads, 3u);
}

TEST(OptionsTest, BadValuesAreReportedByName) {
  Result<ServerOptions> port = ParseOptions({"--port", "70000"}, FakeEnv({}));
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.status().message().find("--port"), std::string::npos);
  Result<ServerOptions> env = ParseOptions({}, FakeEnv({{"QDRANT__SERVICE__HTTP_PORT", "x"}}));
  ASSERT_FALSE(env.ok());
  EXPECT_NE(env.status().message().find("QDRANT__SERVICE__HTTP_PORT"), std::string::npos);
  EXPECT_FALSE(ParseOptions({"--bogus", "1"}, FakeEnv({})).ok());
  EXPECT_FALSE(ParseOptions({"--port"}, FakeEnv({})).ok());
  EXPECT_FALSE(ParseOptions({"stray"}, FakeEnv({})).ok());
  EXPECT_FALSE(ParseOptions({"--log-level", "loud"}, FakeEnv({})).ok());
  EXPECT_EQ(ParseOptions({"--help"}, FakeEnv({})).status().code(), Code::kFailedPrecondition);
}

}  // namespace
}  // namespace tessera::api

#include "api/options.h"

#include <map>

#include <gtest/gtest.h>

namespace tessera::api {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

TEST(OptionsTest, DefaultsMatchQdrant) {
  Result<ServerOptions> o = ParseOptions({}, FakeEnv({}));
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->host, "127.0.0.1");
  EXPECT_EQ(o->http_port, 6333);
  EXPECT_EQ(o->storage_path, "./storage");
  EXPECT_FALSE(o->api_key.has_value());
  EXPECT_EQ(o->max_request_size_mb, 32u);
  EXPECT_GE(o->threads, 1u);
}

TEST(OptionsTest, FlagsOverrideEnvironmentWhichOverridesDefaults) {
  const auto env = FakeEnv({{"QDRANT__SERVICE__HOST", "0.0.0.0"},
                            {"QDRANT__SERVICE__HTTP_PORT", "7000"},
                            {"QDRANT__STORAGE__STORAGE_PATH", "/data"},
                            {"QDRANT__SERVICE__API_KEY", "env-key"}});
  Result<ServerOptions> from_env = ParseOptions({}, env);
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

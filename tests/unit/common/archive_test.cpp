#include "common/archive.h"

#include <filesystem>
#include <fstream>
#include <stdlib.h>

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/sha256.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;

class ArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tessera-archive-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ArchiveTest, RoundTripsFilesAndInMemoryEntries) {
  const std::string big(3 << 20, 'x');  // several write chunks
  ASSERT_TRUE(WriteFileAtomically(dir_ / "a.bin", big).ok());
  const fs::path archive = dir_ / "out.tar";
  ASSERT_TRUE(WriteTarArchive(archive, {{"config.bin", {}, "in memory"},
                                        {"segments/a.bin", dir_ / "a.bin", {}},
                                        {"segments/empty.bin", {}, {}}})
                  .ok());
  EXPECT_FALSE(fs::exists(archive.string() + ".tmp"));
  const fs::path out = dir_ / "x";
  fs::create_directory(out);
  ASSERT_TRUE(ExtractTarArchive(archive, out).ok());
  EXPECT_EQ(*ReadFileToString(out / "config.bin"), "in memory");
  EXPECT_EQ(*ReadFileToString(out / "segments" / "a.bin"), big);
  EXPECT_EQ(*ReadFileToString(out / "segments" / "empty.bin"), "");
}

TEST_F(ArchiveTest, RefusesUnsafeNamesAndGarbage) {
  for (const std::string name : {"../escape", "/abs", "a/../b", "a/b/c", "sp ace"}) {
    const fs::path archive = dir_ / "bad.tar";
    ASSERT_TRUE(WriteTarArchive(archive, {{name, {}, "evil"}}).ok());
    const fs::path out = dir_ / "out";
    fs::remove_all(out);
    fs::create_directory(out);
    Status s = ExtractTarArchive(archive, out);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << name;
    EXPECT_FALSE(fs::exists(dir_ / "escape"));
  }
  ASSERT_TRUE(WriteFileAtomically(dir_ / "garbage.tar", std::string(5000, 'g')).ok());
  EXPECT_EQ(ExtractTarArchive(dir_ / "garbage.tar", dir_).code(), Code::kInvalidArgument);
}

TEST_F(ArchiveTest, RefusesNamesTheCallerDoesNotExpectBeforeWritingThem) {
  const fs::path archive = dir_ / "extra.tar";
  ASSERT_TRUE(WriteTarArchive(archive, {{"config.bin", {}, "c"}, {"xx", {}, "1"}, {"xx/yy", {}, "2"}})
                  .ok());
  const fs::path out = dir_ / "out";
  fs::create_directory(out);
  Status s = ExtractTarArchive(archive, out, 2, [](std::string_view name) { return name == "config.bin"; });
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("`xx` is not part of a collection snapshot"), std::string::npos)
      << s.ToString();
  EXPECT_EQ(s.message().find(dir_.string()), std::string::npos) << s.ToString();  // no paths
  EXPECT_FALSE(fs::exists(out / "xx"));
}

TEST(Sha256Test, KnownVectorsAndFilesAgree) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  char tmpl[] = "/tmp/tessera-sha-XXXXXX";
  const fs::path dir = mkdtemp(tmpl);
  const std::string data(2500000, 'q');
  ASSERT_TRUE(WriteFileAtomically(dir / "f", data).ok());
  EXPECT_EQ(*Sha256FileHex(dir / "f"), Sha256Hex(data));
  EXPECT_FALSE(Sha256FileHex(dir / "missing").ok());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tessera

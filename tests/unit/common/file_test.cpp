#include "common/file.h"

#include <fcntl.h>
#include <filesystem>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/unit/temp_dir.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;

TEST(FileTest, WriteFileAtomicallyReplacesContentAndLeavesNoTemp) {
  TempDir dir;
  const fs::path p = dir.path() / "meta.bin";
  ASSERT_TRUE(WriteFileAtomically(p, "first").ok());
  ASSERT_TRUE(WriteFileAtomically(p, "second, longer").ok());
  Result<std::string> read = ReadFileToString(p);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, "second, longer");
  EXPECT_FALSE(fs::exists(dir.path() / "meta.bin.tmp"));
}

TEST(FileTest, AppendReadAtAndTruncate) {
  TempDir dir;
  Result<File> f = File::Open(dir.path() / "log", O_RDWR | O_CREAT | O_APPEND);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(f->Append("abc").ok());
  ASSERT_TRUE(f->Append("defg").ok());
  ASSERT_TRUE(f->DataSync().ok());
  EXPECT_EQ(*f->Size(), 7u);
  EXPECT_EQ(*f->ReadAt(2, 3), "cde");
  EXPECT_EQ(*f->ReadAt(5, 100), "fg");  // short only at end of file
  ASSERT_TRUE(f->Truncate(4).ok());
  EXPECT_EQ(*f->ReadAt(0, 100), "abcd");
  EXPECT_TRUE(f->Close().ok());
  EXPECT_FALSE(f->is_open());
}

TEST(FileTest, ErrorsNameTheFileAndTheReason) {
  TempDir dir;
  Result<File> missing = File::Open(dir.path() / "nope", O_RDONLY);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kIoError);
  EXPECT_NE(missing.status().message().find("nope"), std::string::npos);
  EXPECT_NE(missing.status().message().find("No such file"), std::string::npos);
  EXPECT_FALSE(ReadFileToString(dir.path() / "nope").ok());
  EXPECT_FALSE(WriteFileAtomically(dir.path() / "no-dir" / "x", "data").ok());
}

TEST(FileTest, ErrnoStatusMapsFullDiskToResourceExhausted) {
  EXPECT_EQ(ErrnoStatus("write", "x", ENOSPC).code(), Code::kResourceExhausted);
  EXPECT_EQ(ErrnoStatus("write", "x", EIO).code(), Code::kIoError);
}

TEST(FileTest, CreateAndRemoveDirDurably) {
  TempDir dir;
  const fs::path sub = dir.path() / "a" / "b";
  ASSERT_TRUE(CreateDirDurably(sub).ok());
  ASSERT_TRUE(WriteFileAtomically(sub / "f", "x").ok());
  ASSERT_TRUE(RemoveDirDurably(dir.path() / "a").ok());
  EXPECT_FALSE(fs::exists(dir.path() / "a"));
  EXPECT_TRUE(fs::is_empty(dir.path()));
  EXPECT_TRUE(RemoveDirDurably(dir.path() / "a").ok());  // already gone: fine
}

}  // namespace
}  // namespace tessera

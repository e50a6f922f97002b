#include "engine/catalog.h"

#include <gtest/gtest.h>

#include "common/file.h"
#include "engine/collection.h"
#include "tests/unit/temp_dir.h"

namespace tessera::engine {
namespace {

using testing::TempDir;
namespace json = boost::json;

CollectionConfig Config(uint64_t dim) {
  CollectionConfig c;
  c.vectors[""] = VectorParams{.size = dim, .distance = Distance::kEuclid};
  return c;
}

std::unique_ptr<Catalog> OpenOrDie(const std::filesystem::path& path) {
  Result<std::unique_ptr<Catalog>> catalog = Catalog::Open(path);
  EXPECT_TRUE(catalog.ok()) << catalog.status().ToString();
  return std::move(catalog).value();
}

TEST(CatalogTest, CollectionsAndAliasesSurviveReopen) {
  TempDir dir;
  {
    auto catalog = OpenOrDie(dir.path());
    ASSERT_TRUE(catalog->CreateCollection("books", Config(4)).ok());
    ASSERT_TRUE(catalog->CreateCollection("films", Config(8)).ok());
    ASSERT_TRUE(catalog->ChangeAliases({CreateAlias{"library", "books"}}).ok());
    CollectionUpdate update;
    update.hnsw = HnswConfigDiff{.m = 32};
    ASSERT_TRUE(catalog->UpdateCollection("films", update).ok());
  }
  auto catalog = OpenOrDie(dir.path());
  EXPECT_EQ(catalog->ListCollections(), (std::vector<std::string>{"books", "films"}));
  EXPECT_EQ(catalog->ListAliases(), (std::vector<AliasDescription>{{"library", "books"}}));
  EXPECT_EQ((*catalog->GetCollection("library"))->name(), "books");
  EXPECT_EQ((*catalog->GetCollection("films"))->config().hnsw.m, 32u);
  EXPECT_EQ((*catalog->GetCollection("books"))->config(), Config(4));
}

TEST(CatalogTest, CreateRefusesDuplicatesAndBadNames) {
  TempDir dir;
  auto catalog = OpenOrDie(dir.path());
  ASSERT_TRUE(catalog->CreateCollection("a", Config(4)).ok());
  EXPECT_EQ(catalog->CreateCollection("a", Config(4)).code(), Code::kAlreadyExists);
  ASSERT_TRUE(catalog->ChangeAliases({CreateAlias{"alias", "a"}}).ok());
  EXPECT_EQ(catalog->CreateCollection("alias", Config(4)).code(), Code::kAlreadyExists);
  for (const char* bad : {"", ".", "..", "../x", "a/b", "a\\b", "x\ny", "what?", "a*"}) {
    EXPECT_EQ(catalog->CreateCollection(bad, Config(4)).code(), Code::kValidationFailed) << bad;
  }
  EXPECT_EQ(catalog->CreateCollection(std::string(256, 'x'), Config(4)).code(),
            Code::kValidationFailed);
  EXPECT_TRUE(catalog->CreateCollection("ünïcode name-1.2", Config(4)).ok());
  EXPECT_EQ(catalog->CreateCollection("bad", Config(0)).code(), Code::kValidationFailed);
  EXPECT_FALSE(catalog->CollectionExists("bad"));
}

TEST(CatalogTest, DeleteRemovesFolderAndAliases) {
  TempDir dir;
  auto catalog = OpenOrDie(dir.path());
  ASSERT_TRUE(catalog->CreateCollection("a", Config(4)).ok());
  ASSERT_TRUE(catalog->ChangeAliases({CreateAlias{"x", "a"}}).ok());
  std::shared_ptr<Collection> held = *catalog->GetCollection("a");
  EXPECT_TRUE(*catalog->DeleteCollection("a"));
  EXPECT_FALSE(*catalog->DeleteCollection("a"));
  EXPECT_FALSE(catalog->CollectionExists("a"));
  EXPECT_FALSE(catalog->CollectionExists("x"));
  EXPECT_TRUE(catalog->ListAliases().empty());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "collections" / "a"));
  EXPECT_EQ(held->name(), "a");  // a reader's handle stays valid
  auto reopened = OpenOrDie(dir.path());
  EXPECT_TRUE(reopened->ListCollections().empty());
  EXPECT_TRUE(reopened->ListAliases().empty());
}

TEST(CatalogTest, AliasActionsApplyAllOrNothing) {
  TempDir dir;
  auto catalog = OpenOrDie(dir.path());
  ASSERT_TRUE(catalog->CreateCollection("a", Config(4)).ok());
  ASSERT_TRUE(catalog->CreateCollection("b", Config(4)).ok());
  ASSERT_TRUE(catalog
                  ->ChangeAliases({CreateAlias{"x", "a"}, CreateAlias{"y", "b"},
                                   RenameAlias{"y", "z"}, DeleteAlias{"x"}})
                  .ok());
  EXPECT_EQ(catalog->ListAliases(), (std::vector<AliasDescription>{{"z", "b"}}));

  // The last action fails: the first one must not take effect.
  const Status s = catalog->ChangeAliases({CreateAlias{"w", "a"}, DeleteAlias{"missing"}});
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(catalog->ListAliases(), (std::vector<AliasDescription>{{"z", "b"}}));
  EXPECT_EQ(catalog->ChangeAliases({CreateAlias{"w", "nope"}}).code(), Code::kNotFound);
  EXPECT_EQ(catalog->ChangeAliases({CreateAlias{"b", "a"}}).code(), Code::kAlreadyExists);
  EXPECT_EQ(catalog->ChangeAliases({RenameAlias{"nope", "q"}}).code(), Code::kNotFound);

  // Re-pointing an alias replaces its target, as in Qdrant.
  ASSERT_TRUE(catalog->ChangeAliases({CreateAlias{"z", "a"}}).ok());
  EXPECT_EQ(*catalog->ListAliases("a"), (std::vector<AliasDescription>{{"z", "a"}}));
  EXPECT_TRUE(catalog->ListAliases("b")->empty());
  EXPECT_EQ(catalog->ListAliases("nope").status().code(), Code::kNotFound);
}

// Damage to one collection's files, as a bad disk or an operator's mistake leaves it.
enum class Damage { kConfigGarbage, kSegmentBitFlip, kSegmentTruncated, kManifestGarbage };

void Inflict(const std::filesystem::path& dir, Damage damage) {
  namespace fs = std::filesystem;
  const fs::path segments = dir / "segments";
  fs::path segment;
  for (const auto& entry : fs::directory_iterator(segments)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("segment-") && name.ends_with(".bin") &&
        (segment.empty() || fs::file_size(entry.path()) > fs::file_size(segment))) {
      segment = entry.path();  // the largest: the one holding the points
    }
  }
  ASSERT_FALSE(segment.empty());
  std::string bytes = *ReadFileToString(segment);
  switch (damage) {
    case Damage::kConfigGarbage:
      ASSERT_TRUE(WriteFileAtomically(dir / "config.bin", "garbage").ok());
      return;
    case Damage::kSegmentBitFlip:
      bytes[bytes.size() / 2] ^= 0x10;
      break;
    case Damage::kSegmentTruncated:
      bytes.resize(bytes.size() - 7);
      break;
    case Damage::kManifestGarbage:
      ASSERT_TRUE(WriteFileAtomically(segments / "manifest.bin", "TSMF garbage").ok());
      return;
  }
  ASSERT_TRUE(WriteFileAtomically(segment, bytes).ok());
}

TEST(CatalogTest, ACollectionThatFailsToLoadIsOutOfServiceAndTheRestServes) {
  for (Damage damage : {Damage::kConfigGarbage, Damage::kSegmentBitFlip, Damage::kSegmentTruncated,
                        Damage::kManifestGarbage}) {
    SCOPED_TRACE(static_cast<int>(damage));
    TempDir dir;
    {
      auto catalog = OpenOrDie(dir.path());
      for (const char* name : {"a", "b"}) {
        ASSERT_TRUE(catalog->CreateCollection(name, Config(4)).ok());
        auto c = *catalog->GetCollection(name);
        UpsertOp upsert;
        for (uint64_t id = 1; id <= 50; ++id) {
          upsert.points.push_back(
              {PointId::Num(id), {{"", DenseVector{1.0f * id, 2.0f, 3.0f, 4.0f}}}, json::object{{"id", id}}});
        }
        auto seq = c->Submit({upsert}, Durability::kWritten);
        ASSERT_TRUE(seq.ok());
        c->WaitApplied(*seq, std::chrono::steady_clock::time_point::max());
        ASSERT_TRUE(c->Flush().ok());
      }
      ASSERT_TRUE(catalog->ChangeAliases({CreateAlias{"alias_a", "a"}}).ok());
    }
    Inflict(dir.path() / "collections" / "a", damage);

    auto catalog = OpenOrDie(dir.path());  // the server starts
    auto a = catalog->GetCollection("a");
    ASSERT_EQ(a.status().code(), Code::kUnavailable);
    EXPECT_NE(a.status().message().find("out of service"), std::string::npos);
    EXPECT_EQ(catalog->GetCollection("alias_a").status().code(), Code::kUnavailable);
    EXPECT_TRUE(catalog->CollectionExists("a"));
    EXPECT_EQ(catalog->ListCollections(), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(catalog->CreateCollection("a", Config(4)).code(), Code::kAlreadyExists);
    EXPECT_EQ((*catalog->GetCollection("b"))->Info().points_count, 50u);  // untouched

    // Nothing is dropped behind the operator's back: a reopen finds the same damage.
    catalog.reset();
    catalog = OpenOrDie(dir.path());
    EXPECT_EQ(catalog->GetCollection("a").status().code(), Code::kUnavailable);

    // Deleting it frees the name.
    EXPECT_TRUE(*catalog->DeleteCollection("a"));
    EXPECT_EQ(catalog->GetCollection("a").status().code(), Code::kNotFound);
    EXPECT_TRUE(catalog->ListAliases().empty());
    ASSERT_TRUE(catalog->CreateCollection("a", Config(4)).ok());
  }
}

TEST(CatalogTest, OpenFinishesAnInterruptedDelete) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "collections" / ".a.deleting");
  auto catalog = OpenOrDie(dir.path());
  EXPECT_TRUE(catalog->ListCollections().empty());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "collections" / ".a.deleting"));
}

}  // namespace
}  // namespace tessera::engine

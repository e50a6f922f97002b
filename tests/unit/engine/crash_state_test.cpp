// Power-cut crash states, as LevelDB's fault-injection environment builds them: a FileObserver
// records what each fsync made durable, and the "crash image" of a storage folder keeps only
// that (file data up to the last real sync; no file whose creation was not followed by a sync
// of its folder). A collection opened on the image must hold every write acknowledged as
// durable. A negative control that skips the WAL's fsyncs proves the check can fail.

#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "common/file.h"
#include "engine/collection.h"
#include "tests/unit/temp_dir.h"

namespace tessera::engine {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

class DurabilityTracker : public FileObserver {
 public:
  explicit DurabilityTracker(bool skip_wal_syncs) : skip_wal_syncs_(skip_wal_syncs) {}

  Status BeforeWrite(const fs::path& path) override {
    std::lock_guard lock(mu_);
    dirty_.insert(path);
    return Status::Ok();
  }
  Status BeforeSync(const fs::path& path, bool* skip) override {
    *skip = skip_wal_syncs_ && path.parent_path().filename() == "wal";
    return Status::Ok();
  }
  void Synced(const fs::path& path, uint64_t size, bool skipped) override {
    if (skipped) {
      return;
    }
    std::lock_guard lock(mu_);
    synced_size_[path] = size;
    dirty_.erase(path);
  }
  void Created(const fs::path& path) override {
    std::lock_guard lock(mu_);
    unsynced_entries_.insert(path);
    synced_size_[path] = 0;
    dirty_.insert(path);
  }
  void Renamed(const fs::path& from, const fs::path& to) override {
    std::lock_guard lock(mu_);
    if (auto it = synced_size_.find(from); it != synced_size_.end()) {
      synced_size_[to] = it->second;
      synced_size_.erase(it);
    }
    if (dirty_.erase(from) > 0) {
      dirty_.insert(to);
    } else {
      dirty_.erase(to);
    }
    unsynced_entries_.erase(from);
  }
  void DirSynced(const fs::path& dir) override {
    std::lock_guard lock(mu_);
    std::erase_if(unsynced_entries_, [&](const fs::path& p) { return p.parent_path() == dir; });
  }

  // Copies `from` to `to` as a power cut now would leave it.
  void CrashImage(const fs::path& from, const fs::path& to) {
    std::lock_guard lock(mu_);
    for (const auto& entry : fs::recursive_directory_iterator(from)) {
      const fs::path rel = fs::relative(entry.path(), from);
      if (entry.is_directory()) {
        fs::create_directories(to / rel);
        continue;
      }
      if (unsynced_entries_.contains(entry.path())) {
        continue;
      }
      uint64_t size = fs::file_size(entry.path());
      if (dirty_.contains(entry.path())) {
        auto it = synced_size_.find(entry.path());
        size = std::min(size, it == synced_size_.end() ? 0 : it->second);
      }
      std::ifstream in(entry.path(), std::ios::binary);
      std::string bytes(size, '\0');
      in.read(bytes.data(), static_cast<std::streamsize>(size));
      fs::create_directories((to / rel).parent_path());
      std::ofstream out(to / rel, std::ios::binary);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
  }

 private:
  const bool skip_wal_syncs_;
  std::mutex mu_;
  std::map<fs::path, uint64_t> synced_size_;
  std::set<fs::path> dirty_;
  std::set<fs::path> unsynced_entries_;
};

// One unnamed 2-d Dot vector: the collection the fault tests write to.
CollectionConfig SmallDotConfig() {
  CollectionConfig config;
  config.vectors[""] = VectorParams{.size = 2, .distance = Distance::kDot};
  return config;
}

struct ScopedObserver {
  explicit ScopedObserver(FileObserver* o) { SetFileObserver(o); }
  ~ScopedObserver() { SetFileObserver(nullptr); }
};

// Writes with Durability::kSynced, crashes at random moments, and returns how many
// acknowledged points the crash images lost in total.
size_t RunCrashStates(bool skip_wal_syncs, uint32_t seed) {
  std::mt19937 rng(seed);
  TempDir dir;
  DurabilityTracker tracker(skip_wal_syncs);
  ScopedObserver scoped(&tracker);
  CollectionConfig config;
  config.vectors[""] = VectorParams{.size = 4, .distance = Distance::kEuclid};
  config.optimizers.indexing_threshold = 1;
  CollectionOptions options;
  options.flush_interval = std::chrono::hours(1);
  options.indexing_threads = 1;
  auto collection = std::move(Collection::Create("c", dir.path() / "c", config, options)).value();
  std::map<uint64_t, std::vector<float>> acknowledged;
  size_t lost = 0;
  for (int round = 0; round < 120; ++round) {
    const uint64_t id = rng() % 60;
    std::vector<float> v{static_cast<float>(round), static_cast<float>(id), 1, 2};
    Result<SeqNo> seq = collection->Submit(
        {UpsertOp{{PointStruct{PointId::Num(id), {{"", v}}, {}}}}}, Durability::kSynced);
    EXPECT_TRUE(seq.ok());
    acknowledged[id] = v;
    if (rng() % 20 == 0) {
      EXPECT_TRUE(
          collection->WaitApplied(*seq, std::chrono::steady_clock::now() + std::chrono::hours(1)));
      EXPECT_TRUE(collection->Flush().ok());
    }
    if (rng() % 40 == 0) {
      EXPECT_TRUE(collection->OptimizeNow().ok());
    }
    if (rng() % 15 == 0) {
      TempDir image;
      tracker.CrashImage(dir.path(), image.path());
      SetFileObserver(nullptr);
      {
        auto recovered = Collection::Open("c", image.path() / "c", options);
        EXPECT_TRUE(recovered.ok()) << recovered.status().ToString();
        if (recovered.ok()) {
          for (const auto& [pid, vector] : acknowledged) {
            auto r = (*recovered)->Retrieve({PointId::Num(pid)}, false, true);
            lost += r.empty() || r[0].vectors.at("") != VectorInput(vector);
          }
        }
      }
      SetFileObserver(&tracker);
    }
  }
  return lost;
}

TEST(CrashStateTest, EveryAcknowledgedSyncedWriteSurvivesAPowerCut) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  EXPECT_EQ(RunCrashStates(/*skip_wal_syncs=*/false, seed), 0u);
}

TEST(CrashStateTest, NegativeControlDetectsLossWhenTheWalIsNotSynced) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  EXPECT_GT(RunCrashStates(/*skip_wal_syncs=*/true, seed), 0u);
}

// Injected I/O errors are never acknowledged, and a failed fsync latches: the collection
// refuses every later write.
class FailingSync : public FileObserver {
 public:
  Status BeforeSync(const fs::path& path, bool* skip) override {
    (void)skip;
    if (fail_ && path.parent_path().filename() == "wal") {
      return Status::IoError("fdatasync " + path.string() + ": Input/output error (injected)");
    }
    return Status::Ok();
  }
  Status BeforeWrite(const fs::path& path) override {
    if (fail_writes_ && path.parent_path().filename() == "wal") {
      return Status::ResourceExhausted("write " + path.string() + ": No space left (injected)");
    }
    return Status::Ok();
  }
  std::atomic<bool> fail_{false};
  std::atomic<bool> fail_writes_{false};
};

TEST(CrashStateTest, AFailedFsyncIsNeverAcknowledgedAndLatches) {
  TempDir dir;
  FailingSync faults;
  ScopedObserver scoped(&faults);
  const CollectionConfig config = SmallDotConfig();
  auto c = std::move(Collection::Create("c", dir.path() / "c", config)).value();
  auto upsert = [](uint64_t id) {
    return OperationList{UpsertOp{{PointStruct{PointId::Num(id), {{"", DenseVector{1, 2}}}, {}}}}};
  };
  ASSERT_TRUE(c->Submit(upsert(1), Durability::kSynced).ok());
  faults.fail_ = true;
  Result<SeqNo> failed = c->Submit(upsert(2), Durability::kSynced);
  EXPECT_EQ(failed.status().code(), Code::kUnavailable);
  EXPECT_NE(failed.status().message().find("injected"), std::string::npos);
  faults.fail_ = false;  // the disk "recovers": the latch must hold anyway
  EXPECT_EQ(c->Submit(upsert(3), Durability::kWritten).status().code(), Code::kUnavailable);
  EXPECT_FALSE(c->wal().health().ok());
}

TEST(CrashStateTest, AFailedWriteIsNeverAcknowledged) {
  TempDir dir;
  FailingSync faults;
  ScopedObserver scoped(&faults);
  const CollectionConfig config = SmallDotConfig();
  auto c = std::move(Collection::Create("c", dir.path() / "c", config)).value();
  faults.fail_writes_ = true;
  Result<SeqNo> r = c->Submit({UpsertOp{{PointStruct{PointId::Num(1), {{"", DenseVector{1, 2}}}, {}}}}},
                              Durability::kWritten);
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(c->Count(nullptr), 0u);
}

// Every write(2) to the WAL writes at most `max_bytes`; the one that would pass byte
// `fail_at` of an append fails there instead (EIO after a partial write), when set.
class ShortWrites : public FileObserver {
 public:
  Status BeforeWriteCall(const fs::path& path, size_t written, size_t* max_bytes) override {
    if (path.parent_path().filename() != "wal") {
      return Status::Ok();
    }
    ++calls_;
    *max_bytes = std::min(*max_bytes, max_bytes_);
    if (fail_at_ > 0 && written >= fail_at_) {
      return Status::IoError("write " + path.string() + ": Input/output error (injected)");
    }
    return Status::Ok();
  }
  size_t max_bytes_ = 7;
  std::atomic<size_t> fail_at_{0};
  std::atomic<size_t> calls_{0};
};

OperationList UpsertOne(uint64_t id) {
  return {UpsertOp{{PointStruct{PointId::Num(id), {{"", DenseVector{1.0f * id, 2}}}, {}}}}};
}

TEST(CrashStateTest, ShortWritesAreCompletedAndReadBackWhole) {
  TempDir dir;
  ShortWrites faults;
  const CollectionConfig config = SmallDotConfig();
  {
    ScopedObserver scoped(&faults);
    auto c = std::move(Collection::Create("c", dir.path() / "c", config)).value();
    for (uint64_t id = 1; id <= 20; ++id) {
      ASSERT_TRUE(c->Submit(UpsertOne(id), Durability::kSynced).ok());
    }
    EXPECT_GT(faults.calls_, 20u * 5);  // each record took several write calls
    c->Drop();                          // no flush: the records live only in the WAL
  }
  auto reopened = Collection::Open("c", dir.path() / "c");
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->Count(nullptr), 20u);
}

TEST(CrashStateTest, AWriteTornByAnErrorIsNotAcknowledgedAndRestartDropsIt) {
  TempDir dir;
  ShortWrites faults;
  faults.max_bytes_ = 5;
  const CollectionConfig config = SmallDotConfig();
  {
    ScopedObserver scoped(&faults);
    auto c = std::move(Collection::Create("c", dir.path() / "c", config)).value();
    for (uint64_t id = 1; id <= 5; ++id) {
      ASSERT_TRUE(c->Submit(UpsertOne(id), Durability::kSynced).ok());
    }
    faults.fail_at_ = 12;  // part of the next record's header reaches the file
    Result<SeqNo> torn = c->Submit(UpsertOne(6), Durability::kWritten);
    EXPECT_EQ(torn.status().code(), Code::kUnavailable);
    EXPECT_NE(torn.status().message().find("injected"), std::string::npos);
    faults.fail_at_ = 0;
    EXPECT_EQ(c->Submit(UpsertOne(7), Durability::kWritten).status().code(), Code::kUnavailable);
    c->Drop();
  }
  auto reopened = Collection::Open("c", dir.path() / "c");
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->Count(nullptr), 5u);  // the torn record was cut off, the rest kept
  Result<SeqNo> again = (*reopened)->Submit(UpsertOne(8), Durability::kSynced);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  (*reopened)->WaitApplied(*again, std::chrono::steady_clock::time_point::max());
  EXPECT_EQ((*reopened)->Count(nullptr), 6u);
}

}  // namespace
}  // namespace tessera::engine

namespace tessera::engine {
namespace {

using namespace std::chrono_literals;

// Fails the next `failures` writes of segment data files (a disk that is full for a while).
class FailSegmentWrites : public FileObserver {
 public:
  Status BeforeWrite(const fs::path& path) override {
    const std::string name = path.filename().string();
    if (name.starts_with("segment-") && name.find(".bin") != std::string::npos &&
        failures_.load() > 0) {
      --failures_;
      ++failed_;
      return Status::ResourceExhausted("write " + path.string() +
                                       ": No space left on device (injected)");
    }
    return Status::Ok();
  }
  std::atomic<int> failures_{0};
  std::atomic<int> failed_{0};
};

CollectionOptions ExplicitFlushOptions() {
  CollectionOptions o;
  o.flush_interval = std::chrono::hours(1);  // the test flushes
  return o;
}

// The copy a kill -9 now would leave: every file as it is (the page cache survives).
void CopyAsProcessCrash(const fs::path& from, const fs::path& to) {
  fs::copy(from, to, fs::copy_options::recursive);
}

// A flush whose segment file fails to write must not count that segment as persisted: the
// next flush writes it again before naming it in a manifest, and the WAL keeps the records
// until then. (Before the fix, the segment was marked clean before its file was durable, the
// next flush named the old file at the new version and truncated the WAL: data lost.)
TEST(CrashStateTest, ASegmentWriteThatFailsIsRetriedBeforeTheWalIsTruncated) {
  TempDir dir;
  FailSegmentWrites faults;
  ScopedObserver scoped(&faults);
  CollectionConfig config = SmallDotConfig();
  config.wal.wal_capacity_mb = 1;  // several WAL files, so truncation can drop records
  auto c =
      std::move(Collection::Create("c", dir.path() / "c", config, ExplicitFlushOptions())).value();
  const std::string blob(100000, 'x');
  auto upsert = [&](uint64_t id) {
    return OperationList{UpsertOp{
        {PointStruct{PointId::Num(id), {{"", DenseVector{1, 2}}}, boost::json::object{{"blob", blob}}}}}};
  };
  for (uint64_t id = 0; id < 10; ++id) {
    ASSERT_TRUE(c->Submit(upsert(id), Durability::kSynced).ok());
  }
  ASSERT_TRUE(c->WaitApplied(c->wal().last_seq(), std::chrono::steady_clock::now() + 1h));
  ASSERT_TRUE(c->Flush().ok());
  for (uint64_t id = 10; id < 40; ++id) {
    ASSERT_TRUE(c->Submit(upsert(id), Durability::kSynced).ok());
  }
  ASSERT_TRUE(c->WaitApplied(c->wal().last_seq(), std::chrono::steady_clock::now() + 1h));

  faults.failures_ = 1;
  EXPECT_FALSE(c->Flush().ok());
  EXPECT_EQ(faults.failed_.load(), 1);
  ASSERT_TRUE(c->Flush().ok());  // space is back: this flush must write the segment again
  EXPECT_EQ(c->persisted_seq(), c->applied_seq());

  CopyAsProcessCrash(dir.path() / "c", dir.path() / "crashed");
  auto reopened = std::move(Collection::Open("crashed", dir.path() / "crashed")).value();
  EXPECT_EQ(reopened->Count(nullptr), 40u);
  std::vector<PointId> ids;
  for (uint64_t id = 0; id < 40; ++id) {
    ids.push_back(PointId::Num(id));
  }
  EXPECT_EQ(reopened->Retrieve(ids, false, false).size(), 40u);
}

// A flush that keeps failing latches the collection, as LevelDB's background error does:
// writes are refused (reads serve), and nothing acknowledged is lost.
TEST(CrashStateTest, RepeatedFlushFailuresLatchTheCollection) {
  TempDir dir;
  FailSegmentWrites faults;
  ScopedObserver scoped(&faults);
  CollectionOptions options = ExplicitFlushOptions();
  options.flush_failures_before_latch = 3;
  auto c = std::move(Collection::Create("c", dir.path() / "c", SmallDotConfig(), options)).value();
  auto upsert = [](uint64_t id) {
    return OperationList{UpsertOp{{PointStruct{PointId::Num(id), {{"", DenseVector{1, 2}}}, {}}}}};
  };
  ASSERT_TRUE(c->Submit(upsert(1), Durability::kSynced).ok());
  ASSERT_TRUE(c->WaitApplied(c->wal().last_seq(), std::chrono::steady_clock::now() + 1h));
  faults.failures_ = 1000;
  for (int i = 0; i < 2; ++i) {
    EXPECT_FALSE(c->Flush().ok());
    EXPECT_TRUE(c->Submit(upsert(2 + i), Durability::kSynced).ok()) << "latched too early";
  }
  ASSERT_TRUE(c->WaitApplied(c->wal().last_seq(), std::chrono::steady_clock::now() + 1h));
  EXPECT_FALSE(c->Flush().ok());
  Result<SeqNo> refused = c->Submit(upsert(9), Durability::kSynced);
  EXPECT_EQ(refused.status().code(), Code::kUnavailable);
  EXPECT_NE(refused.status().message().find("No space left on device"), std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(c->Count(nullptr), 3u);  // reads serve

  faults.failures_ = 0;
  CopyAsProcessCrash(dir.path() / "c", dir.path() / "crashed");
  auto reopened = std::move(Collection::Open("crashed", dir.path() / "crashed")).value();
  EXPECT_EQ(reopened->Count(nullptr), 3u);
}

}  // namespace
}  // namespace tessera::engine

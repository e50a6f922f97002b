#include "wal/log.h"

#include <fcntl.h>
#include <fstream>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "common/file.h"
#include "tests/unit/temp_dir.h"
#include "wal/log_reader.h"

namespace tessera::wal {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

struct Replayed {
  std::vector<std::string> bodies;
  std::vector<SeqNo> seqs;
  RecordFn Fn() {
    return [this](const Record& r) {
      bodies.emplace_back(r.body);
      seqs.push_back(r.seq);
      return Status::Ok();
    };
  }
};

std::unique_ptr<Log> OpenLog(const fs::path& dir, Replayed* replayed = nullptr,
                             RecoveryReport* report = nullptr, LogOptions options = {},
                             SeqNo from = 1, SeqNo min_next = 1) {
  Replayed ignored;
  RecoveryReport local;
  Result<std::unique_ptr<Log>> log =
      Log::Open(dir, options, from, min_next, (replayed ? replayed : &ignored)->Fn(),
                report ? report : &local);
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  return log.ok() ? std::move(log).value() : nullptr;
}

std::vector<std::string> Bodies(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    std::string body(rng() % 300, '\0');
    for (char& c : body) {
      c = static_cast<char>(rng());
    }
    out.push_back(body);
  }
  return out;
}

void AppendAll(Log& log, const std::vector<std::string>& bodies) {
  for (const std::string& b : bodies) {
    ASSERT_TRUE(log.Append(1, b).ok());
  }
}

Result<ReadReport> ReadInto(const fs::path& dir, Replayed* replayed) {
  return ReadLog(dir, 1, replayed->Fn());
}

// Plain write, no fsync: these tests never crash the machine.
void WriteBytes(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good());
}

fs::path OnlyFile(const fs::path& dir) {
  Result<std::vector<LogFile>> files = ListLogFiles(dir);
  EXPECT_EQ(files->size(), 1u);
  return files->front().path;
}

TEST(LogTest, RoundTripsRecordsAcrossReopen) {
  TempDir dir;
  const auto bodies = Bodies(100, 1);
  {
    auto log = OpenLog(dir.path());
    for (size_t i = 0; i < bodies.size(); ++i) {
      Result<SeqNo> seq = log->Append(static_cast<uint8_t>(i % 3), bodies[i]);
      ASSERT_TRUE(seq.ok());
      EXPECT_EQ(*seq, i + 1);
    }
    EXPECT_EQ(log->last_seq(), 100u);
  }
  Replayed replayed;
  RecoveryReport report;
  auto log = OpenLog(dir.path(), &replayed, &report);
  EXPECT_EQ(replayed.bodies, bodies);
  EXPECT_EQ(report.read.stop_reason, StopReason::kEndOfLog);
  EXPECT_EQ(report.read.last_seq, 100u);
  EXPECT_EQ(*log->Append(1, "next"), 101u);
}

TEST(LogTest, ReplayStartsAtTheRequestedSeq) {
  TempDir dir;
  { AppendAll(*OpenLog(dir.path()), Bodies(10, 2)); }
  Replayed replayed;
  RecoveryReport report;
  OpenLog(dir.path(), &replayed, &report, {}, /*from=*/7);
  EXPECT_EQ(replayed.seqs, (std::vector<SeqNo>{7, 8, 9, 10}));
}

TEST(LogTest, RotatesFilesAndTruncatesWholeFilesBelowASeq) {
  TempDir dir;
  const auto bodies = Bodies(200, 3);
  LogOptions options{.file_size_bytes = 1024};
  {
    auto log = OpenLog(dir.path(), nullptr, nullptr, options);
    AppendAll(*log, bodies);
    const size_t files = log->file_count();
    EXPECT_GT(files, 10u);
    // Files are not preallocated: none is much bigger than the limit plus one record.
    const std::vector<LogFile> listed = *ListLogFiles(dir.path());
    for (const LogFile& f : listed) {
      EXPECT_LT(fs::file_size(f.path), 1024u + kRecordHeaderSize + 300);
    }
    ASSERT_TRUE(log->TruncateBelow(100).ok());
    EXPECT_LT(log->file_count(), files);
    const auto remaining = *ListLogFiles(dir.path());
    EXPECT_LE(remaining.front().first_seq, 100u);  // seq 100 itself is kept
    ASSERT_TRUE(log->TruncateBelow(1000).ok());
    EXPECT_EQ(log->file_count(), 1u);  // never the file being written
  }
  Replayed replayed;
  RecoveryReport report;
  auto log = OpenLog(dir.path(), &replayed, &report, options);
  ASSERT_FALSE(replayed.seqs.empty());
  EXPECT_EQ(replayed.seqs.back(), 200u);
  EXPECT_EQ(report.read.stop_reason, StopReason::kEndOfLog);
  EXPECT_EQ(*log->Append(1, "x"), 201u);
}

TEST(LogTest, MinNextSeqKeepsIdsRisingAfterTheLogWasEmptied) {
  TempDir dir;
  {
    auto log = OpenLog(dir.path(), nullptr, nullptr, {}, 1, /*min_next=*/500);
    EXPECT_EQ(*log->Append(1, "a"), 500u);
  }
  auto log = OpenLog(dir.path(), nullptr, nullptr, {}, 1, /*min_next=*/400);
  EXPECT_EQ(*log->Append(1, "b"), 501u);
}

TEST(LogTest, TornTailAtEveryByteOfTheLastRecordKeepsThePrefix) {
  TempDir proto;
  { AppendAll(*OpenLog(proto.path()), {"first", "second", "third record"}); }
  const fs::path file = OnlyFile(proto.path());
  const std::string full = *ReadFileToString(file);
  const size_t last_len = kRecordHeaderSize + std::string("third record").size();

  // Cutting all `last_len` bytes leaves a clean log of two records; any fewer leaves a tear.
  for (size_t cut = 1; cut < last_len; ++cut) {
    TempDir dir;
    fs::create_directories(dir.path());
    const fs::path copy = dir.path() / file.filename();
    WriteBytes(copy, full.substr(0, full.size() - cut));

    Replayed read;
    Result<ReadReport> report = ReadInto(dir.path(), &read);
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(read.bodies, (std::vector<std::string>{"first", "second"})) << "cut " << cut;
    EXPECT_EQ(report->stop_reason, StopReason::kTornTail) << "cut " << cut;
    EXPECT_EQ(report->stop_offset, full.size() - last_len);

    // Open repairs the tail in place, and appending continues with the lost seq.
    {
      RecoveryReport recovery;
      auto log = OpenLog(dir.path(), nullptr, &recovery);
      EXPECT_TRUE(recovery.quarantine_file.empty());
      EXPECT_EQ(*log->Append(1, "third again"), 3u);
    }
    Replayed again;
    ASSERT_EQ(ReadInto(dir.path(), &again)->stop_reason, StopReason::kEndOfLog);
    EXPECT_EQ(again.bodies, (std::vector<std::string>{"first", "second", "third again"}));
  }
}

TEST(LogTest, AFlippedBitAnywhereNeverYieldsAWrongRecord) {
  TempDir proto;
  const auto bodies = Bodies(6, 4);
  { AppendAll(*OpenLog(proto.path()), bodies); }
  const fs::path file = OnlyFile(proto.path());
  const std::string full = *ReadFileToString(file);
  for (size_t bit = 0; bit < full.size() * 8; ++bit) {
    std::string damaged = full;
    damaged[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    TempDir dir;
    WriteBytes(dir.path() / file.filename(), damaged);
    Replayed read;
    Result<ReadReport> report = ReadInto(dir.path(), &read);
    ASSERT_TRUE(report.ok());
    // What comes back is an exact prefix of what was written, and the damage is reported.
    ASSERT_LT(read.bodies.size(), bodies.size()) << "bit " << bit;
    for (size_t i = 0; i < read.bodies.size(); ++i) {
      ASSERT_EQ(read.bodies[i], bodies[i]) << "bit " << bit;
    }
    EXPECT_NE(report->stop_reason, StopReason::kEndOfLog) << "bit " << bit;
  }
}

TEST(LogTest, MidLogCorruptionQuarantinesTheRestAndReportsTheirIds) {
  TempDir dir;
  LogOptions options{.file_size_bytes = 512};
  const auto bodies = Bodies(60, 5);
  { AppendAll(*OpenLog(dir.path(), nullptr, nullptr, options), bodies); }
  const auto files = *ListLogFiles(dir.path());
  ASSERT_GE(files.size(), 4u);
  // Damage the first record of the second file.
  const fs::path victim = files[1].path;
  std::string bytes = *ReadFileToString(victim);
  bytes[kFileHeaderSize + kRecordHeaderSize] ^= 0x40;
  ASSERT_TRUE(WriteFileAtomically(victim, bytes).ok());
  uint64_t expected_dropped = bytes.size() - kFileHeaderSize;
  for (size_t i = 2; i < files.size(); ++i) {
    expected_dropped += fs::file_size(files[i].path);
  }

  Replayed replayed;
  RecoveryReport report;
  auto log = OpenLog(dir.path(), &replayed, &report, options);
  const SeqNo good = files[1].first_seq - 1;
  EXPECT_EQ(report.read.stop_reason, StopReason::kCorruption);
  EXPECT_EQ(replayed.seqs.size(), good);
  EXPECT_EQ(report.dropped_first_seq, good + 1);
  EXPECT_EQ(report.dropped_last_seq, 60u);
  EXPECT_EQ(report.dropped_bytes, expected_dropped);
  ASSERT_FALSE(report.quarantine_file.empty());
  const std::string kept = *ReadFileToString(report.quarantine_file);
  EXPECT_EQ(kept.size(), expected_dropped);
  EXPECT_EQ(kept.substr(0, bytes.size() - kFileHeaderSize), bytes.substr(kFileHeaderSize));
  EXPECT_EQ(*log->Append(1, "after"), good + 1);
  log.reset();

  Replayed again;
  Result<ReadReport> reread = ReadInto(dir.path(), &again);
  EXPECT_EQ(reread->stop_reason, StopReason::kEndOfLog);
  EXPECT_EQ(again.seqs.back(), good + 1);
}

TEST(LogTest, OneSyncCoversEverythingAppendedBeforeIt) {
  TempDir dir;
  auto log = OpenLog(dir.path());
  AppendAll(*log, Bodies(10, 6));
  EXPECT_EQ(log->synced_seq(), 0u);
  ASSERT_TRUE(log->Sync(3).ok());
  EXPECT_EQ(log->synced_seq(), 10u);
  EXPECT_EQ(log->sync_count(), 1u);
  ASSERT_TRUE(log->Sync(10).ok());  // already durable: no second fdatasync
  EXPECT_EQ(log->sync_count(), 1u);
}

TEST(LogTest, ConcurrentWritersShareFsyncsAndLoseNothing) {
  TempDir dir;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100;
  {
    auto log = OpenLog(dir.path());
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < kPerThread; ++i) {
          Result<SeqNo> seq = log->Append(1, std::to_string(t) + ":" + std::to_string(i));
          ASSERT_TRUE(seq.ok());
          ASSERT_TRUE(log->Sync(*seq).ok());
          ASSERT_GE(log->synced_seq(), *seq);
        }
      });
    }
    threads.clear();
    EXPECT_EQ(log->last_seq(), static_cast<SeqNo>(kThreads * kPerThread));
    EXPECT_LE(log->sync_count(), static_cast<uint64_t>(kThreads * kPerThread));
    std::printf("group commit: %llu fdatasyncs for %d synced appends\n",
                static_cast<unsigned long long>(log->sync_count()), kThreads * kPerThread);
  }
  Replayed replayed;
  ASSERT_TRUE(ReadInto(dir.path(), &replayed).ok());
  ASSERT_EQ(replayed.bodies.size(), static_cast<size_t>(kThreads * kPerThread));
  // Each writer's records appear in its own order.
  std::vector<int> next(kThreads, 0);
  for (const std::string& b : replayed.bodies) {
    const int t = std::stoi(b.substr(0, b.find(':')));
    EXPECT_EQ(std::stoi(b.substr(b.find(':') + 1)), next[t]++);
  }
}

TEST(LogTest, ReplayErrorStopsOpen) {
  TempDir dir;
  { AppendAll(*OpenLog(dir.path()), {"a", "b"}); }
  RecoveryReport report;
  Result<std::unique_ptr<Log>> log = Log::Open(
      dir.path(), {}, 1, 1, [](const Record&) { return Status::Corruption("cannot decode"); },
      &report);
  EXPECT_EQ(log.status().code(), Code::kCorruption);
}

TEST(LogTest, FileNamesRoundTrip) {
  EXPECT_EQ(LogFileName(42), "wal-00000000000000000042.log");
  EXPECT_EQ(ParseLogFileName(LogFileName(42)), 42u);
  EXPECT_FALSE(ParseLogFileName("wal-42.log").has_value());
  EXPECT_FALSE(ParseLogFileName("quarantine-3.bin").has_value());
}

}  // namespace
}  // namespace tessera::wal

#pragma once

// Persists a collection's segments and its manifest, and truncates the WAL below them; also
// fsyncs the WAL on an interval (so a `weak` write is durable within it).
//
// A flush takes an image of every segment that changed (Segment::TakeImage, under the segment
// lock shared), then writes without any lock the others wait on: each changed segment to new
// files (temp, fsync, rename, fsync folder) — its versions file, and its body file unless only
// versions and tombstones changed — then the manifest naming them, then truncates the WAL below
// the manifest's persisted_seq. A segment counts as persisted only once its files are durable,
// at the generation its image was taken; any failure leaves the durable state as it
// was, so the next flush writes the same segments again. A failing flush is retried after at
// most a second; `failures_before_latch` failures in a row latch: health() then reports the
// failure and the collection refuses writes until it is opened again.
//
// Thread-safety: every method from any thread. Lock order: flush_mu_ (held across file I/O;
// only flushes and snapshots wait on it) -> the segment set's lock -> the update worker's.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "common/lock_order.h"
#include "common/status.h"
#include "engine/manifest.h"
#include "engine/segment_set.h"
#include "wal/log.h"

namespace tessera::engine {

class Flusher {
 public:
  struct Options {
    std::chrono::milliseconds wal_sync_interval{1000};
    std::chrono::milliseconds flush_interval{5000};
    size_t failures_before_latch = 5;
  };

  // `segments` and `wal` must outlive this. `applied_seq` (called under the segment lock)
  // says which record the segments hold up to. `recovered` is the manifest the segments were
  // loaded from (persisted_seq 0 and no files for a new collection).
  Flusher(std::string name, std::filesystem::path segments_dir, SegmentSet& segments, wal::Log& wal,
          std::function<SeqNo()> applied_seq, const Manifest& recovered, Options options);
  ~Flusher();  // Stop()

  // Starts the interval thread (WAL fsync, flush).
  void Start();
  void Stop();

  // Persists every changed segment now.
  Status Flush();
  // Flushes, then calls `fn` with the durable manifest while no flush can replace or remove
  // the files it names (a snapshot archives them meanwhile).
  Status WithFlushed(const std::function<Status(const Manifest&)>& fn);
  // Removes files in the segments folder that neither the manifest nor a segment's graphs
  // name (left by a flush that a crash cut short). Call before Start().
  void RemoveUnreferenced();

  SeqNo persisted_seq() const { return persisted_seq_.load(); }
  // OK, or the latched failure after repeated failed flushes.
  Status health() const;

 private:
  Status FlushLocked();                                                  // requires flush_mu_
  void RemoveUnreferencedLocked(const std::vector<std::string>& files);  // requires flush_mu_
  void Run(std::stop_token stop);

  struct DurableFiles {
    SegmentFiles files;
    uint64_t generation = 0;       // the segment's, when the files were written
    uint64_t body_generation = 0;  // the same for the body file
  };

  const std::string name_;
  const std::filesystem::path dir_;
  SegmentSet& segments_;
  wal::Log& wal_;
  const std::function<SeqNo()> applied_seq_;
  const Options options_;

  RankedMutex flush_mu_{LockRank::kFlush, "Flusher::flush_mu_"};
  Manifest manifest_;                                  // guarded by flush_mu_: the durable one
  // Graph files the durable manifest's bodies name: kept even once the optimizer has replaced
  // their segments in memory, until a manifest without them is durable.
  std::vector<std::string> manifest_graphs_;  // guarded by flush_mu_
  std::unordered_map<uint64_t, DurableFiles> durable_;  // guarded by flush_mu_; by segment id
  size_t failures_ = 0;                                // guarded by flush_mu_; in a row
  std::atomic<SeqNo> persisted_seq_{0};

  mutable RankedMutex failure_mu_{LockRank::kLeaf, "Flusher::failure_mu_"};  // leaf
  Status failure_;                 // guarded by failure_mu_
  std::atomic<bool> failed_{false};

  std::jthread thread_;  // last: started after, and joined before, the rest
};

}  // namespace tessera::engine

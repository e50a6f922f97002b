#pragma once

// Background optimization of a collection's segments. Policies decide what to do; one
// mechanism does it: copy the chosen segment's live points (vacuumed) under the segment lock,
// build the copy's HNSW graphs without it, then swap the copy in (points deleted from the
// original meanwhile are tombstoned in the copy first).
//
// Policies today: seal the appendable segment once it holds `indexing_threshold` KB of
// vectors (AppendableFull, consulted by the update worker after each record), and index every
// sealed segment without graphs (NextToIndex). Merge, vacuum and rebuild-on-config-change are
// the optimizer issue's (#18).
//
// Thread-safety: every method from any thread. Lock order: optimizer_mu_ and status_mu_ are
// leaves, except that the optimizer thread's wait predicate takes the segment lock shared
// under optimizer_mu_ (nothing takes optimizer_mu_ under the segment lock).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/lock_order.h"
#include "engine/collection_config.h"
#include "engine/segment_set.h"

namespace tessera::engine {

// What the optimizer has to do (GET /collections/{name}/optimizations).
struct OptimizationStatus {
  struct SegmentInfo {
    uint64_t id = 0;
    uint64_t points = 0;  // live points
  };
  std::vector<SegmentInfo> queued;     // sealed without a graph yet, or appendable and full
  std::vector<SegmentInfo> idle;       // nothing to do
  std::optional<SegmentInfo> running;  // the segment being indexed now
  std::chrono::system_clock::time_point running_since;
};

// Policy: the appendable segment is full and should be sealed (and then indexed).
bool AppendableFull(const Segment& appendable, const CollectionConfig& config);
// Policy: a sealed segment that still needs its graphs. requires the segment lock.
bool NeedsIndexing(const Segment& segment);

class Optimizer {
 public:
  // `segments` and `config` must outlive this.
  Optimizer(std::string name, SegmentSet& segments, const SharedConfig& config,
            size_t indexing_threads);
  ~Optimizer();  // Stop()

  void Start();
  void Stop();
  // Wakes the thread (a segment was sealed).
  void Notify() { cv_.notify_all(); }
  // Seals the appendable segment and indexes everything now, in this thread.
  Status OptimizeNow();

  OptimizationStatus Optimizations() const;
  bool running() const { return running_.load(); }
  uint64_t graphs_built() const { return graphs_built_.load(); }

 private:
  // requires the segment lock
  std::shared_ptr<Segment> NextToIndex() const;
  Status IndexSegment(std::shared_ptr<Segment> frozen);
  void Run(std::stop_token stop);

  const std::string name_;
  SegmentSet& segments_;
  const SharedConfig& config_;
  const size_t indexing_threads_;

  std::atomic<bool> running_{false};
  std::atomic<uint64_t> graphs_built_{0};
  mutable RankedMutex status_mu_{LockRank::kLeaf, "Optimizer::status_mu_"};
  std::optional<OptimizationStatus::SegmentInfo> running_segment_;  // guarded by status_mu_
  std::chrono::system_clock::time_point running_since_;             // guarded by status_mu_
  RankedMutex mu_{LockRank::kOptimizer, "Optimizer::mu_"};
  std::condition_variable_any cv_;
  std::jthread thread_;  // last: started after, and joined before, the rest
};

}  // namespace tessera::engine

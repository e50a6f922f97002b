#pragma once

// Background optimization of a collection's segments, as Qdrant's optimizers: policies plan
// what to do over the segment set (PlanOptimizations, a pure function of the segments' facts
// and the thresholds, unit-tested on its own), and one mechanism does every plan: copy the
// chosen sealed segments' live points (vacuumed) into one new segment, a few thousand points
// per hold of the segment lock (shared), build the copy's HNSW graphs without any lock, then
// swap the copy in for its sources (points deleted from, or moved out of, a source meanwhile
// are tombstoned in the copy first). Each graph of the copy grows from the largest source
// graph (index::HnswSeed: its links kept, gone points healed around, the rest inserted).
//
// Policies (Qdrant 1.19's, with Tessera's appendable segment outside them):
//   - vacuum: a sealed segment with at least `vacuum_min_vector_number` tombstones making more
//     than `deleted_threshold` of it is rewritten without them;
//   - indexing: a sealed segment without its graphs is indexed, and merged on the way, while
//     the collection has more than `default_segment_number` sealed segments (0: CPUs / 2,
//     clamped to 2..8), with the smallest unindexed ones and then one indexed one that fit
//     `max_segment_size` (Qdrant takes one at a time; taking every unindexed one that fits
//     makes a bulk upload one graph build instead of pairwise builds and merges);
//   - merge: while there are more sealed segments than that, the smallest are merged (their
//     sum under `max_segment_size`, default indexing threads x 256,000 KB);
//   - config mismatch: a sealed segment whose graphs another config built (a PATCH of
//     hnsw_config, the collection's or a vector's) is rebuilt with the config's now, the
//     largest first, from nothing (a seed is used only when m and ef_construct both match).
// The appendable segment is sealed once it holds `indexing_threshold` KB of vectors
// (AppendableFull: by the update worker after each record, and by the optimizer thread, so a
// PATCH lowering the threshold seals what is there), and by the optimizer thread once it has
// not changed for `quiet_period` while holding a tenth of that or more (AppendableWorthIndexing;
// the indexing policy then merges it into the smallest sealed segment, growing its graph).
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
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/lock_order.h"
#include "engine/collection_config.h"
#include "engine/segment_set.h"

namespace tessera::engine {

enum class OptimizerKind { kVacuum, kIndexing, kMerge, kConfigMismatch };
// Qdrant's names: "vacuum", "indexing", "merge", "config mismatch"
std::string_view OptimizerName(OptimizerKind kind);

// What the planner sees of a segment.
struct SegmentFacts {
  uint64_t id = 0;
  uint64_t bytes = 0;    // vector bytes of its live points
  uint64_t live = 0;     // live points
  uint64_t deleted = 0;  // tombstoned offsets
  bool appendable = false;
  bool indexed = false;  // sealed with every graph it needs
  // Sealed with a graph built with other parameters than the config's now (or one the config
  // no longer wants): rebuilt by the config-mismatch policy.
  bool mismatch = false;
};

// The optimizers' settings, resolved (OptimizerThresholdsFor).
struct OptimizerThresholds {
  size_t segment_number = 2;      // sealed segments to aim for
  uint64_t max_segment_bytes = 0;  // a merge's result stays under this
  double deleted_threshold = 0.2;
  uint64_t vacuum_min_vectors = 1000;
};
// From the collection's config: default_segment_number 0 = cpus / 2 clamped to 2..8;
// max_segment_size unset = indexing_threads x 256,000 KB.
OptimizerThresholds OptimizerThresholdsFor(const CollectionConfig& config, size_t indexing_threads,
                                           size_t cpus);

struct PlannedOptimization {
  OptimizerKind kind = OptimizerKind::kIndexing;
  std::vector<uint64_t> segments;  // ids; their live points become one new segment
  bool operator==(const PlannedOptimization&) const = default;
};
// Every optimization the segments need now, in the order they should run (vacuum, config
// mismatch, indexing, merge); no segment is in two plans. `segments` in the set's order, the appendable one last
// (never planned).
std::vector<PlannedOptimization> PlanOptimizations(std::span<const SegmentFacts> segments,
                                                   const OptimizerThresholds& thresholds);

// What the optimizer has to do (GET /collections/{name}/optimizations).
struct OptimizationStatus {
  struct SegmentInfo {
    uint64_t id = 0;
    uint64_t points = 0;  // live points
  };
  struct Task {
    OptimizerKind kind = OptimizerKind::kIndexing;
    std::vector<SegmentInfo> segments;
  };
  std::vector<Task> queued;          // planned, not started
  std::vector<SegmentInfo> idle;     // in no plan
  std::optional<Task> running;       // the optimization running now
  std::chrono::system_clock::time_point running_since;
  bool enabled = true;  // false: max_optimization_threads is 0, plans wait
};

// Policy: the appendable segment is full and should be sealed (and then indexed).
bool AppendableFull(const Segment& appendable, const CollectionConfig& config);
// Policy: the appendable segment holds enough to be sealed and indexed once writes have gone
// quiet (a tenth of indexing_threshold or more), so that an upload that stops short of a full
// segment does not leave its tail to an exact scan on every search.
inline constexpr uint64_t kQuietTailFraction = 10;
bool AppendableWorthIndexing(const Segment& appendable, const CollectionConfig& config);
// The graph parameters the config gives each of a segment's vectors (HnswFor: the collection's
// HNSW with the vector's own over it); m 0 for a vector that gets no graph (m 0 configured,
// or a sparse or multivector).
std::vector<index::HnswParams> GraphParamsFor(const Segment& segment,
                                              const CollectionConfig& config);
// Policy: a sealed segment that still lacks a graph the config wants. requires the segment lock.
bool NeedsIndexing(const Segment& segment, const CollectionConfig& config);
// Policy: a sealed segment with a graph the config would build otherwise (another m or
// ef_construct; a graph loaded from a file too old to record its ef_construct is compared by
// m alone) or not at all (m 0 now). Qdrant's config-mismatch optimizer. requires the segment lock.
bool GraphsMismatch(const Segment& segment, const CollectionConfig& config);
// requires the segment lock
SegmentFacts FactsOf(const Segment& segment, bool appendable, const CollectionConfig& config);

class Optimizer {
 public:
  // `segments` and `config` must outlive this.
  Optimizer(std::string name, SegmentSet& segments, const SharedConfig& config,
            size_t indexing_threads,
            std::chrono::milliseconds quiet_period = std::chrono::seconds(1));
  ~Optimizer();  // Stop()

  void Start();
  void Stop();
  // Wakes the thread (a segment was sealed, or the config changed).
  void Notify() { cv_.notify_all(); }
  // Seals the appendable segment (if it holds points) and runs every plan now, in this thread,
  // until none is left (whatever max_optimization_threads says).
  Status OptimizeNow();

  OptimizationStatus Optimizations() const;
  // Whether an optimization runs, or one is planned and waits (the collection's status).
  bool running() const { return running_.load(); }
  bool pending() const;
  uint64_t graphs_built() const { return graphs_built_.load(); }
  uint64_t optimizations_done() const { return done_.load(); }
  // Graph nodes the builds took from a source graph, and inserted anew, since the start.
  uint64_t nodes_reused() const { return nodes_reused_.load(); }
  uint64_t nodes_inserted() const { return nodes_inserted_.load(); }
  OptimizerThresholds thresholds() const;

 private:
  // requires the segment lock
  std::vector<PlannedOptimization> Plan(const CollectionConfig& config) const;
  // Whether the appendable segment should be sealed now: full, or worth indexing and unchanged
  // for quiet_period_. requires the segment lock and mu_
  bool SealDue(const CollectionConfig& config);
  // Seals the appendable segment if SealDue. Takes mu_, then the segment lock.
  void SealIfDue();
  // Runs one plan; Ok (doing nothing) if its segments changed meanwhile.
  Status Execute(const PlannedOptimization& plan);
  void Run(std::stop_token stop);

  const std::string name_;
  SegmentSet& segments_;
  const SharedConfig& config_;
  const size_t indexing_threads_;
  const size_t cpus_;
  const std::chrono::milliseconds quiet_period_;

  std::atomic<bool> running_{false};
  std::atomic<uint64_t> graphs_built_{0};
  std::atomic<uint64_t> done_{0};
  std::atomic<uint64_t> nodes_reused_{0};
  std::atomic<uint64_t> nodes_inserted_{0};
  mutable RankedMutex status_mu_{LockRank::kLeaf, "Optimizer::status_mu_"};
  std::optional<OptimizationStatus::Task> running_task_;  // guarded by status_mu_
  std::chrono::system_clock::time_point running_since_;   // guarded by status_mu_
  RankedMutex mu_{LockRank::kOptimizer, "Optimizer::mu_"};
  // The appendable segment as last seen (id, generation) and since when it has not changed.
  uint64_t seen_id_ = 0;                                // guarded by mu_
  uint64_t seen_generation_ = 0;                        // guarded by mu_
  std::chrono::steady_clock::time_point seen_since_;  // guarded by mu_
  std::condition_variable_any cv_;
  std::jthread thread_;  // last: started after, and joined before, the rest
};

}  // namespace tessera::engine

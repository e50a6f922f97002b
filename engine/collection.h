#pragma once

// One collection: the parts below, composed, plus the write path's front door.
//
//   Submit()        validates an OperationList against the schema and against the state every
//                   earlier record will leave (applied segments plus records still queued),
//                   appends it to the WAL as one record, hands it to the update worker, and
//                   returns once the record is as durable as asked.
//   SegmentSet      the segments and the state lock (segment_set.h)
//   UpdateWorker    applies records strictly in WAL order, each all-or-nothing
//   Flusher         fsyncs the WAL on an interval; persists segments, manifest, truncates WAL
//   Optimizer       seals full appendable segments' copies with HNSW graphs and swaps them in
//   Searcher/Scans  reads (search, retrieve; scroll, count, order_by)
//   PayloadStats    payload-index statistics for planning
//
// Lock order (a lock is taken only while holding locks to its left, never to its right). Every
// lock here is a RankedMutex whose rank (common/lock_order.h) encodes this order, and every
// acquisition is checked against it at run time: the test suite aborts on any inversion.
//
//   Flusher::flush_mu_ -> config_write_mu_          (snapshots: a flush, then the config file)
//   submit_mu_ -> SegmentSet::mu() -> UpdateWorker::queue_mu_ -> wal::Log's own locks
//   Flusher::flush_mu_ -> SegmentSet::mu() (shared) -> UpdateWorker::queue_mu_
//   Optimizer::mu_ -> SegmentSet::mu() (shared)
//   leaves: SharedConfig, SegmentPayloadIndex, Flusher::failure_mu_, Optimizer::status_mu_
//
// The update worker holds no lock while it takes the next (queue_mu_ alone, then the segment
// lock alone, then submit_mu_ alone). File writes and fsyncs happen only under flush_mu_ and
// config_write_mu_, which no read and no write waits on.
//
// Folder:  config.bin  wal/  segments/manifest.bin  segments/segment-<id>-<seq>.bin (body)
//          segments/segment-<id>-<seq>.ver (versions, tombstones)
//          segments/segment-<id>-<vector>.hnsw

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/lock_order.h"
#include "common/status.h"
#include "engine/collection_config.h"
#include "engine/filter.h"
#include "engine/operations.h"
#include "engine/optimizer.h"
#include "engine/payload_index.h"
#include "engine/query.h"
#include "engine/segment.h"
#include "wal/log.h"

namespace tessera::engine {

class Flusher;
class Scans;
class Searcher;
class SegmentSet;
class UpdateWorker;

enum class CollectionStatus : uint8_t { kGreen, kYellow, kGrey, kRed };
std::string_view CollectionStatusName(CollectionStatus status);

struct PayloadSchemaInfo {
  PayloadIndexInfo index;
  uint64_t points = 0;  // live points with a value for the field
};

struct CollectionInfo {
  std::map<std::string, PayloadSchemaInfo> payload_schema;
  CollectionStatus status = CollectionStatus::kGreen;
  uint64_t points_count = 0;
  uint64_t indexed_vectors_count = 0;
  uint64_t segments_count = 0;
  CollectionConfig config;
};

// How durable a write must be before Submit() returns (DESIGN.md's `ordering`).
enum class Durability : uint8_t {
  kWritten,  // weak: in the WAL file (survives a process crash)
  kSynced,   // medium, strong: fdatasynced (survives power loss)
};

struct CollectionOptions {
  std::chrono::milliseconds wal_sync_interval{1000};
  // Segment flush interval; unset: the config's optimizers.flush_interval_sec.
  std::optional<std::chrono::milliseconds> flush_interval;
  size_t indexing_threads = 0;  // 0: one per core
  // How long the appendable segment must go unchanged before the optimizer seals and indexes
  // a tail worth indexing (Optimizer, AppendableWorthIndexing).
  std::chrono::milliseconds tail_quiet_period{1000};
  // A flush that fails is retried (after at most a second); this many failures in a row latch
  // the collection: writes are refused (503) until it is opened again, reads serve, and the
  // WAL keeps every record the segments on disk lack.
  size_t flush_failures_before_latch = 5;
};

class Collection {
 public:
  static Result<std::unique_ptr<Collection>> Create(std::string name, std::filesystem::path dir,
                                                    CollectionConfig config,
                                                    const CollectionOptions& options = {});
  static Result<std::unique_ptr<Collection>> Open(std::string name, std::filesystem::path dir,
                                                  const CollectionOptions& options = {});
  // Stops the threads, applies what is queued and flushes (unless Drop() was called).
  ~Collection();
  // For a collection being deleted: refuses further writes, stops the threads, and leaves the
  // folder alone so that it can be removed. Readers holding a pointer may still read.
  void Drop();

  static constexpr const char* kConfigFile = "config.bin";

  const std::string& name() const { return name_; }
  const std::filesystem::path& dir() const { return dir_; }
  CollectionConfig config() const { return *config_.get(); }
  // The current config without copying it (the request and apply paths use this); a config
  // change swaps in a new object, so the one returned stays valid and unchanged.
  std::shared_ptr<const CollectionConfig> config_ptr() const { return config_.get(); }
  CollectionInfo Info() const;
  OptimizationStatus Optimizations() const;
  Status Update(const CollectionUpdate& update);

  // ---- writes ----
  // Returns the record's operation_id once it is as durable as `durability` says. Rejects
  // (and writes nothing) a list that breaks the schema or touches a missing point.
  Result<SeqNo> Submit(OperationList ops, Durability durability);
  // True once `seq` is applied (visible to reads); false if `deadline` passes first.
  bool WaitApplied(SeqNo seq, std::chrono::steady_clock::time_point deadline) const;
  // Once `seq` is applied (WaitApplied): OK, or why its list was skipped whole.
  Status Outcome(SeqNo seq) const;
  SeqNo applied_seq() const;
  SeqNo persisted_seq() const;
  wal::Log& wal() { return *wal_; }
  // How many segments this process has indexed (HNSW graphs built) since it opened.
  uint64_t graphs_built() const;
  // Graph nodes optimizations took from an earlier graph, and inserted anew (Optimizer).
  uint64_t graph_nodes_reused() const;
  uint64_t graph_nodes_inserted() const;

  // Persists every segment now (also done on an interval and at shutdown).
  Status Flush();
  // Writes a consistent snapshot of the collection (config and segments at one applied
  // operation, no WAL) to `out` as a tar archive; returns that operation's id. Writes go on
  // meanwhile. Catalog::RecoverCollection restores one.
  Result<SeqNo> CreateSnapshot(const std::filesystem::path& out);
  // Seals the appendable segment and indexes it now, in this thread (tests, benchmarks).
  Status OptimizeNow();

  // ---- reads ----
  std::vector<PointRecord> Retrieve(const std::vector<PointId>& ids, bool with_payload,
                                    bool with_vectors) const;
  Result<std::vector<ScoredPoint>> Search(const SearchRequest& request) const;
  // Runs a query tree (query.h).
  Result<std::vector<ScoredPoint>> Query(const engine::Query& query) const;
  Result<SearchMatrix> SearchMatrixOf(const SearchMatrixRequest& request) const;
  Result<std::vector<PointGroup>> QueryGroups(const engine::Query& query,
                                              const GroupRequest& group) const;
  // Live points with id >= `from` in id order (integers, then UUIDs), at most `limit`;
  // `next` is the id after the last one returned, if any.
  std::vector<PointRecord> Scroll(const std::optional<PointId>& from, size_t limit,
                                  PointFilter filter, bool with_payload, bool with_vectors,
                                  std::optional<PointId>* next) const;
  uint64_t Count(PointFilter filter, bool exact = true) const;  // see Scans::Count
  // See Scans::ScrollOrdered.
  Result<std::vector<PointRecord>> ScrollOrdered(const OrderBy& order, size_t limit,
                                                 PointFilter filter, bool with_payload,
                                                 bool with_vectors) const;

  // See Scans::Facet.
  Result<std::vector<FacetHit>> Facet(const std::string& key, size_t limit,
                                      PointFilter filter) const;

  // Payload indexes: declared, persisted with the config, reported in Info().
  Status CreatePayloadIndex(const std::string& field, const PayloadIndexInfo& info);
  Status DeletePayloadIndex(std::string_view field);
  // Ids of live points the filter accepts (to resolve filter-based writes before Submit).
  std::vector<PointId> MatchingIds(PointFilter filter) const;

 private:
  Collection(std::string name, std::filesystem::path dir, CollectionConfig config,
             const CollectionOptions& options);
  Status Recover();
  void StartThreads();
  void StopThreads();
  // Replaces the config file and then the config in effect. requires config_write_mu_
  Status WriteConfigLocked(CollectionConfig next);

  // Existence check for Submit: points that exist after every queued record.
  Status CheckExistence(const OperationList& ops) const;  // requires submit_mu_
  bool ExistsAfterQueued(const PointId& id) const;        // requires submit_mu_, segment lock

  const std::string name_;
  const std::filesystem::path dir_;
  const CollectionOptions options_;

  SharedConfig config_;
  RankedMutex config_write_mu_{LockRank::kConfigWrite, "Collection::config_write_mu_"};  // serializes config changes (held across the file's fsync)

  std::unique_ptr<wal::Log> wal_;
  std::unique_ptr<SegmentSet> segments_;
  PayloadStats payload_stats_;

  // Submission order == WAL order == apply order.
  mutable RankedMutex submit_mu_{LockRank::kSubmit, "Collection::submit_mu_"};
  struct Pending {
    bool exists;
    SeqNo seq;
  };
  std::unordered_map<PointId, Pending, PointIdHash> pending_;  // guarded by submit_mu_
  bool dropped_ = false;                                       // guarded by submit_mu_
  // The last record with a filter selector: which points it touches is known only once it is
  // applied, so a list that needs points to exist waits for it before its check.
  SeqNo last_filter_seq_ = 0;  // guarded by submit_mu_

  std::unique_ptr<Searcher> searcher_;
  std::unique_ptr<Scans> scans_;
  // The parts with threads, last: stopped (StopThreads) before the rest is destroyed.
  std::unique_ptr<UpdateWorker> updater_;
  std::unique_ptr<Flusher> flusher_;
  std::unique_ptr<Optimizer> optimizer_;
};

}  // namespace tessera::engine

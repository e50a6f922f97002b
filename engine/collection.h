#pragma once

// One collection: config, write-ahead log, segments, and the threads that keep them.
//
// Write path (DESIGN.md): Submit() checks an OperationList against the schema and against the
// state every earlier record will leave (applied segments plus records still queued), appends
// it to the WAL as one record, hands it to the update worker, and returns once the record is
// as durable as asked. The update worker applies records strictly in WAL order, each
// all-or-nothing, and advances applied_seq(). The maintenance thread fsyncs the WAL on an
// interval and flushes segments (new files, then a manifest, then WAL truncation). The
// optimizer seals a full appendable segment's copy with HNSW graphs and swaps it in.
//
// Reads take the state lock shared; the update worker takes it exclusive per record.
//
// Folder:  config.bin  wal/  segments/manifest.bin  segments/segment-<id>-<seq>.bin
//          segments/segment-<id>-<vector>.hnsw

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "engine/collection_config.h"
#include "engine/filter.h"
#include "engine/operations.h"
#include "engine/segment.h"
#include "wal/log.h"

namespace tessera::engine {

enum class CollectionStatus : uint8_t { kGreen, kYellow, kGrey, kRed };
std::string_view CollectionStatusName(CollectionStatus status);

struct PayloadSchemaInfo {
  PayloadIndexInfo index;
  uint64_t points = 0;  // live points with a value for the field
};

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
  // A flush that fails is retried (after at most a second); this many failures in a row latch
  // the collection: writes are refused (503) until it is opened again, reads serve, and the
  // WAL keeps every record the segments on disk lack.
  size_t flush_failures_before_latch = 5;
};

struct PointRecord {
  PointId id;
  SeqNo version = 0;
  std::optional<double> order_value;  // set by ScrollOrdered
  boost::json::object payload;        // filled only when asked for
  NamedVectors vectors;               // filled only when asked for
};

struct ScoredPoint {
  PointRecord record;
  float score = 0;
};

// Decides, for a live point, whether a read may return it; nullptr accepts every point.
using PointFilter = const Filter*;

// Which search path each segment took (query planning, as Qdrant plans it).
struct SearchStats {
  size_t exact_segments = 0;   // full scan: small segment, selective filter, no graph, or exact
  size_t hnsw_segments = 0;    // HNSW walk, with the filter consulted during the walk
  size_t index_estimates = 0;  // filter cardinality taken from payload indexes (else sampled)
};

struct SearchRequest {
  std::string vector_name;  // "" for the unnamed vector
  std::vector<float> query;
  size_t limit = 10;
  size_t offset = 0;
  std::optional<size_t> ef;  // default: the HNSW ef_construct
  bool exact = false;
  std::optional<float> score_threshold;
  PointFilter filter = nullptr;
  bool with_payload = false;
  bool with_vectors = false;
  SearchStats* stats = nullptr;  // filled when set
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
  CollectionConfig config() const { return *config_ptr(); }
  // The current config without copying it (the request and apply paths use this); a config
  // change swaps in a new object, so the one returned stays valid and unchanged.
  std::shared_ptr<const CollectionConfig> config_ptr() const;
  CollectionInfo Info() const;
  OptimizationStatus Optimizations() const;
  Status Update(const CollectionUpdate& update);

  // ---- writes ----
  // Returns the record's operation_id once it is as durable as `durability` says. Rejects
  // (and writes nothing) a list that breaks the schema or touches a missing point.
  Result<SeqNo> Submit(OperationList ops, Durability durability);
  // True once `seq` is applied (visible to reads); false if `deadline` passes first.
  bool WaitApplied(SeqNo seq, std::chrono::steady_clock::time_point deadline) const;
  SeqNo applied_seq() const;
  SeqNo persisted_seq() const;
  wal::Log& wal() { return *wal_; }
  // How many segments this process has indexed (HNSW graphs built) since it opened.
  uint64_t graphs_built() const { return graphs_built_.load(); }

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
  // Live points with id >= `from` in id order (integers, then UUIDs), at most `limit`;
  // `next` is the id after the last one returned, if any.
  std::vector<PointRecord> Scroll(const std::optional<PointId>& from, size_t limit,
                                  const PointFilter& filter, bool with_payload, bool with_vectors,
                                  std::optional<PointId>* next) const;
  uint64_t Count(const PointFilter& filter) const;

  // Points ordered by the numeric (or datetime) payload value at `key`, which needs a range
  // index (InvalidArgument otherwise, in Qdrant's words). Each point appears once, at its
  // smallest value ascending or largest descending.
  struct OrderBy {
    std::string key;
    bool descending = false;
    std::optional<double> start_from;
  };
  Result<std::vector<PointRecord>> ScrollOrdered(const OrderBy& order, size_t limit,
                                                 PointFilter filter, bool with_payload,
                                                 bool with_vectors) const;

  // Payload indexes: declared, persisted with the config, reported in Info().
  Status CreatePayloadIndex(const std::string& field, const PayloadIndexInfo& info);
  Status DeletePayloadIndex(std::string_view field);
  // Ids of live points the filter accepts (to resolve filter-based writes before Submit).
  std::vector<PointId> MatchingIds(const PointFilter& filter) const;

 private:
  Collection(std::string name, std::filesystem::path dir, CollectionConfig config,
             const CollectionOptions& options);
  Status Recover();
  Status FlushLocked();  // requires flush_mu_
  void StartThreads();
  void StopThreads();

  // Applies one record (update worker, or replay before the threads start). requires state_mu_
  // exclusive. A list that fails its check is skipped whole.
  Status ApplyLocked(SeqNo seq, const OperationList& ops);
  // Finds the live copy of `id`: (segment index, offset).
  std::optional<std::pair<size_t, Offset>> LocateLocked(const PointId& id) const;
  // Version of `id` live or tombstoned, 0 if unknown.
  SeqNo VersionLocked(const PointId& id) const;
  // Moves a live point out of a sealed segment into the appendable one; returns its offset.
  Offset MakeWritableLocked(size_t segment, Offset offset, SeqNo seq);
  std::shared_ptr<Segment> NewAppendableLocked();
  bool AppendableFullLocked() const;

  // Existence check for Submit: points that exist after every queued record.
  Status CheckExistence(const OperationList& ops) const;  // requires submit_mu_
  bool ExistsAfterQueued(const PointId& id) const;        // requires submit_mu_

  void UpdateLoop(std::stop_token stop);
  void MaintenanceLoop(std::stop_token stop);
  void OptimizerLoop(std::stop_token stop);
  Status OptimizeOne(std::shared_ptr<Segment> frozen);

  // Whether `filter` accepts the live point at `o` of `segment`.
  static bool Accepts(PointFilter filter, const Segment& segment, Offset o);
  // Estimated number of live points of `segment` that `filter` accepts.
  static uint64_t EstimateMatches(PointFilter filter, const Segment& segment);
  // An upper bound on the matches from the payload indexes of a sealed segment: the smallest
  // estimate among the filter's `must` conditions on indexed fields. Nullopt if none applies.
  std::optional<uint64_t> IndexEstimate(const Filter& filter, const Segment& segment,
                                        const CollectionConfig& config) const;

  // Value counts of one field in one sealed segment (its payload index data), built on first
  // use and cached: sealed segments only lose points, so the counts stay upper bounds.
  struct FieldStats {
    std::unordered_map<std::string, uint64_t> values;  // "s:<string>", "i:<int>", "b:<0|1>"
    std::vector<double> numbers;                       // sorted
  };
  std::shared_ptr<const FieldStats> StatsFor(const Segment& segment,
                                             const std::string& field) const;
  PointRecord MakeRecord(const Segment& segment, Offset o, bool with_payload,
                         bool with_vectors) const;

  const std::string name_;
  const std::filesystem::path dir_;
  const CollectionOptions options_;

  mutable std::mutex config_mu_;
  std::shared_ptr<const CollectionConfig> config_;  // guarded by config_mu_

  std::unique_ptr<wal::Log> wal_;

  // Segment state. Lock order: submit_mu_ before state_mu_; queue_mu_ and flush_mu_ alone.
  mutable std::shared_mutex state_mu_;
  std::vector<std::shared_ptr<Segment>> segments_;  // guarded by state_mu_; appendable last
  uint64_t next_segment_id_ = 1;                    // guarded by state_mu_
  // What the last durable manifest names, and per segment id the file that holds it and the
  // segment generation that file was serialized at (a segment whose generation moved on since
  // must be written again). Guarded by flush_mu_.
  struct DurableFile {
    std::string file;
    uint64_t generation = 0;
  };
  std::vector<std::string> manifest_files_;
  std::unordered_map<uint64_t, DurableFile> durable_;
  size_t flush_failures_ = 0;  // in a row; guarded by flush_mu_
  // Set once flushes have failed flush_failures_before_latch times in a row.
  mutable std::mutex storage_failure_mu_;
  Status storage_failure_;  // guarded by storage_failure_mu_
  std::atomic<bool> storage_failed_{false};

  // Submission order == WAL order == apply order.
  mutable std::mutex submit_mu_;
  struct Pending {
    bool exists;
    SeqNo seq;
  };
  std::unordered_map<PointId, Pending, PointIdHash> pending_;  // guarded by submit_mu_

  mutable std::mutex queue_mu_;
  mutable std::condition_variable_any queue_cv_;
  std::deque<std::pair<SeqNo, OperationList>> queue_;  // guarded by queue_mu_
  SeqNo applied_seq_ = 0;                              // guarded by queue_mu_
  mutable std::condition_variable applied_cv_;

  bool dropped_ = false;  // guarded by submit_mu_
  std::mutex flush_mu_;
  std::atomic<SeqNo> persisted_seq_{0};
  std::atomic<bool> optimizing_{false};
  // The segment OptimizeOne is indexing (id, live points, start); guarded by optimizing_mu_.
  mutable std::mutex optimizing_mu_;
  std::optional<OptimizationStatus::SegmentInfo> optimizing_segment_;
  std::chrono::system_clock::time_point optimizing_since_;
  std::atomic<uint64_t> graphs_built_{0};
  mutable std::mutex field_stats_mu_;
  mutable std::map<std::pair<uint64_t, std::string>, std::shared_ptr<const FieldStats>>
      field_stats_;  // guarded by field_stats_mu_; by (segment id, field)
  std::mutex optimizer_mu_;
  std::condition_variable_any optimizer_cv_;

  // Last members: started after, and joined before, everything above.
  std::jthread update_thread_;
  std::jthread maintenance_thread_;
  std::jthread optimizer_thread_;
};

}  // namespace tessera::engine

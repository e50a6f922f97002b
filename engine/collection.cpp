#include "engine/collection.h"

#include <algorithm>
#include <system_error>

#include "common/archive.h"
#include "common/file.h"
#include "common/logging.h"
#include "engine/flusher.h"
#include "engine/manifest.h"
#include "engine/payload.h"
#include "engine/scan.h"
#include "engine/searcher.h"
#include "engine/segment_set.h"
#include "engine/update_worker.h"

namespace tessera::engine {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {
constexpr uint8_t kRecordOperationList = 1;
}  // namespace

std::string_view CollectionStatusName(CollectionStatus status) {
  switch (status) {
    case CollectionStatus::kGreen:
      return "green";
    case CollectionStatus::kYellow:
      return "yellow";
    case CollectionStatus::kGrey:
      return "grey";
    case CollectionStatus::kRed:
      return "red";
  }
  return "red";
}

Collection::Collection(std::string name, fs::path dir, CollectionConfig config,
                       const CollectionOptions& options)
    : name_(std::move(name)), dir_(std::move(dir)), options_(options), config_(std::move(config)) {}

Result<std::unique_ptr<Collection>> Collection::Create(std::string name, fs::path dir,
                                                       CollectionConfig config,
                                                       const CollectionOptions& options) {
  TESSERA_RETURN_IF_ERROR(ValidateConfig(config));
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    return Status::AlreadyExists("Wrong input: Can't create collection with name " + name +
                                 ". Collection data already exists at " + dir.string());
  }
  TESSERA_RETURN_IF_ERROR(CreateDirDurably(dir));
  TESSERA_RETURN_IF_ERROR(WriteFileAtomically(dir / kConfigFile, EncodeCollectionConfig(config)));
  return Open(std::move(name), std::move(dir), options);
}

Result<std::unique_ptr<Collection>> Collection::Open(std::string name, fs::path dir,
                                                     const CollectionOptions& options) {
  TESSERA_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(dir / kConfigFile));
  Result<CollectionConfig> config = DecodeCollectionConfig(bytes);
  if (!config.ok()) {
    return config.status().WithPrefix((dir / kConfigFile).string() + ": ");
  }
  std::unique_ptr<Collection> c(
      new Collection(std::move(name), std::move(dir), std::move(config).value(), options));
  TESSERA_RETURN_IF_ERROR(c->Recover());
  c->StartThreads();
  return c;
}

void Collection::Drop() {
  {
    std::lock_guard lock(submit_mu_);
    dropped_ = true;
  }
  StopThreads();
}

Collection::~Collection() {
  StopThreads();
  {
    std::lock_guard lock(submit_mu_);
    if (dropped_) {
      return;
    }
  }
  if (flusher_ != nullptr) {
    if (Status s = flusher_->Flush(); !s.ok()) {
      TESSERA_LOG(kError) << "collection " << name_ << ": final flush failed: " << s.ToString();
    }
  }
  if (wal_ != nullptr) {
    if (Status s = wal_->Sync(wal_->last_seq()); !s.ok()) {
      TESSERA_LOG(kError) << "collection " << name_ << ": final WAL sync failed: " << s.ToString();
    }
  }
}

Status Collection::WriteConfigLocked(CollectionConfig next) {
  TESSERA_RETURN_IF_ERROR(WriteFileAtomically(dir_ / kConfigFile, EncodeCollectionConfig(next)));
  config_.Set(std::move(next));
  if (optimizer_ != nullptr) {
    optimizer_->Notify();  // thresholds may have changed
  }
  return Status::Ok();
}

Status Collection::Update(const CollectionUpdate& update) {
  std::lock_guard lock(config_write_mu_);
  TESSERA_ASSIGN_OR_RETURN(CollectionConfig next, ApplyUpdate(*config_.get(), update));
  return WriteConfigLocked(std::move(next));
}

Status Collection::CreatePayloadIndex(const std::string& field, const PayloadIndexInfo& info) {
  if (field.empty()) {
    return Status::ValidationFailed("field_name: must not be empty");
  }
  std::lock_guard lock(config_write_mu_);
  CollectionConfig next = *config_.get();
  next.payload_indexes[field] = info;
  return WriteConfigLocked(std::move(next));
}

Status Collection::DeletePayloadIndex(std::string_view field) {
  std::lock_guard lock(config_write_mu_);
  CollectionConfig next = *config_.get();
  if (next.payload_indexes.erase(std::string(field)) == 0) {
    return Status::Ok();  // as in Qdrant: deleting a missing index is not an error
  }
  return WriteConfigLocked(std::move(next));
}

// ---- recovery ----

Status Collection::Recover() {
  const fs::path seg_dir = dir_ / kSegmentsDir;
  TESSERA_RETURN_IF_ERROR(CreateDirDurably(seg_dir));
  TESSERA_ASSIGN_OR_RETURN(std::optional<Manifest> read, ReadManifest(seg_dir));
  const Manifest manifest = read.value_or(Manifest{});
  std::vector<std::shared_ptr<Segment>> loaded;
  for (const SegmentFiles& files : manifest.segments) {
    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Segment> segment,
                             Segment::Load(seg_dir, files.body, files.versions));
    loaded.push_back(std::move(segment));
  }
  const std::shared_ptr<const CollectionConfig> config = config_.get();
  segments_ =
      std::make_unique<SegmentSet>(std::move(loaded), manifest.next_segment_id, SpecsFor(*config));

  // Replay every record after the persisted snapshot, in order.
  wal::RecoveryReport report;
  size_t replayed = 0;
  std::unique_lock state(segments_->mu());
  auto replay = [&](const wal::Record& record) -> Status {
    if (record.type != kRecordOperationList) {
      return Status::Ok();
    }
    Result<OperationList> ops = DecodeOperationList(record.body);
    if (!ops.ok()) {
      return ops.status().WithPrefix("wal record " + std::to_string(record.seq) + ": ");
    }
    const std::shared_ptr<const CollectionConfig> config = config_.get();
    if (Status s = ApplyRecord(*segments_, record.seq, *ops, config.get()); !s.ok()) {
      TESSERA_LOG(kDebug) << "replay skipped record " << record.seq << ": " << s.message();
    }
    ++replayed;
    return Status::Ok();
  };
  wal::LogOptions log_options;
  log_options.file_size_bytes = config->wal.wal_capacity_mb << 20;
  TESSERA_ASSIGN_OR_RETURN(wal_,
                           wal::Log::Open(dir_ / "wal", log_options, manifest.persisted_seq + 1,
                                          manifest.persisted_seq + 1, replay, &report));
  state.unlock();
  const SeqNo applied = std::max<SeqNo>(manifest.persisted_seq, report.read.last_seq);
  if (replayed > 0 || !manifest.segments.empty()) {
    TESSERA_LOG(kInfo) << "collection " << name_ << ": loaded " << manifest.segments.size()
                       << " segments at operation " << manifest.persisted_seq << ", replayed "
                       << replayed << " WAL records";
  }

  searcher_ = std::make_unique<Searcher>(*segments_, config_, payload_stats_);
  scans_ = std::make_unique<Scans>(*segments_, config_);
  UpdateWorker::Hooks hooks;
  hooks.appendable_full = [this](const Segment& appendable) {
    return AppendableFull(appendable, *config_.get());
  };
  hooks.sealed = [this] { optimizer_->Notify(); };
  hooks.config = [this] { return config_.get(); };
  hooks.applied = [this](SeqNo seq, const OperationList& ops) {
    std::lock_guard lock(submit_mu_);
    for (const Operation& op : ops) {
      ForEachTouched(op, [&](const PointId& id, bool) {
        auto it = pending_.find(id);
        if (it != pending_.end() && it->second.seq == seq) {
          pending_.erase(it);
        }
      });
    }
  };
  updater_ = std::make_unique<UpdateWorker>(name_, *segments_, applied, std::move(hooks));
  Flusher::Options flush_options;
  flush_options.wal_sync_interval = options_.wal_sync_interval;
  flush_options.flush_interval = options_.flush_interval.value_or(
      std::chrono::seconds(std::max<uint64_t>(1, config->optimizers.flush_interval_sec)));
  flush_options.failures_before_latch = options_.flush_failures_before_latch;
  flusher_ = std::make_unique<Flusher>(
      name_, seg_dir, *segments_, *wal_, [this] { return updater_->applied_seq(); }, manifest,
      flush_options);
  // Files from a flush that a crash cut short are not in the manifest: remove them.
  flusher_->RemoveUnreferenced();
  optimizer_ = std::make_unique<Optimizer>(name_, *segments_, config_, options_.indexing_threads,
                                           options_.tail_quiet_period);
  return Status::Ok();
}

// ---- threads ----

void Collection::StartThreads() {
  updater_->Start();
  flusher_->Start();
  optimizer_->Start();
}

void Collection::StopThreads() {
  // The optimizer first (it swaps segments), then the flusher, then the update worker, which
  // drains its queue before it stops.
  if (optimizer_ != nullptr) {
    optimizer_->Stop();
  }
  if (flusher_ != nullptr) {
    flusher_->Stop();
  }
  if (updater_ != nullptr) {
    updater_->Stop();
  }
}

// ---- write path ----

bool Collection::ExistsAfterQueued(const PointId& id) const {
  auto it = pending_.find(id);
  if (it != pending_.end()) {
    return it->second.exists;
  }
  return segments_->Locate(id).has_value();
}

Status Collection::CheckExistence(const OperationList& ops) const {
  bool needs_state = false;
  for (const Operation& op : ops) {
    needs_state = needs_state || RequiresExisting(op);
  }
  if (!needs_state) {
    return Status::Ok();
  }
  std::shared_lock state(segments_->mu());
  return CheckList(ops, [&](const PointId& id) { return ExistsAfterQueued(id); });
}

Result<SeqNo> Collection::Submit(OperationList ops, Durability durability) {
  TESSERA_RETURN_IF_ERROR(PrepareOperations(*config_.get(), &ops));
  for (const Status& health : {wal_->health(), flusher_->health()}) {
    if (!health.ok()) {
      return Status::Unavailable("collection " + name_ +
                                 " refuses writes after a storage failure: " + health.message());
    }
  }
  const std::string record = EncodeOperationList(ops);
  const bool needs_existing = std::any_of(ops.begin(), ops.end(), RequiresExisting);
  const bool by_filter = HasFilterSelector(ops);
  SeqNo seq;
  for (;;) {
    std::unique_lock lock(submit_mu_);
    if (dropped_) {
      return Status::NotFound("Not found: Collection `" + name_ + "` doesn't exist!");
    }
    if (needs_existing && last_filter_seq_ > updater_->applied_seq()) {
      // Wait (without the lock: the update worker takes it) for the filter record to apply.
      const SeqNo wait_for = last_filter_seq_;
      lock.unlock();
      updater_->WaitApplied(wait_for, std::chrono::steady_clock::time_point::max());
      continue;
    }
    TESSERA_RETURN_IF_ERROR(CheckExistence(ops));
    Result<SeqNo> appended = wal_->Append(kRecordOperationList, record);
    if (!appended.ok()) {
      return Status::Unavailable(appended.status().message());
    }
    seq = *appended;
    if (by_filter) {
      last_filter_seq_ = seq;
    }
    for (const Operation& op : ops) {
      ForEachTouched(op, [&](const PointId& id, bool exists_after) {
        pending_[id] = Pending{exists_after, seq};
      });
    }
    updater_->Enqueue(seq, std::move(ops));
    break;
  }
  if (durability == Durability::kSynced) {
    if (Status s = wal_->Sync(seq); !s.ok()) {
      return Status::Unavailable(s.message());
    }
  }
  return seq;
}

bool Collection::WaitApplied(SeqNo seq, std::chrono::steady_clock::time_point deadline) const {
  return updater_->WaitApplied(seq, deadline);
}

Status Collection::Outcome(SeqNo seq) const {
  return updater_->Outcome(seq);
}

SeqNo Collection::applied_seq() const {
  return updater_->applied_seq();
}

SeqNo Collection::persisted_seq() const {
  return flusher_->persisted_seq();
}

uint64_t Collection::graphs_built() const {
  return optimizer_->graphs_built();
}

uint64_t Collection::graph_nodes_reused() const {
  return optimizer_->nodes_reused();
}

uint64_t Collection::graph_nodes_inserted() const {
  return optimizer_->nodes_inserted();
}

Status Collection::Flush() {
  return flusher_->Flush();
}

Status Collection::OptimizeNow() {
  return optimizer_->OptimizeNow();
}

OptimizationStatus Collection::Optimizations() const {
  return optimizer_->Optimizations();
}

Result<SeqNo> Collection::CreateSnapshot(const fs::path& out) {
  // The flusher holds off every other flush while the files of this one are archived, so
  // none is replaced or removed meanwhile; writes go on into the WAL. The archive holds
  // exactly the state at one applied operation (the manifest's persisted_seq) and no WAL.
  SeqNo at = 0;
  TESSERA_RETURN_IF_ERROR(flusher_->WithFlushed([&](const Manifest& manifest) -> Status {
    const fs::path seg_dir = dir_ / kSegmentsDir;
    std::vector<ArchiveEntry> entries;
    {
      // The config file as in effect: no change replaces it meanwhile.
      std::lock_guard config_lock(config_write_mu_);
      TESSERA_ASSIGN_OR_RETURN(std::string config_bytes, ReadFileToString(dir_ / kConfigFile));
      entries.push_back({kConfigFile, {}, std::move(config_bytes)});
    }
    entries.push_back({std::string(kSegmentsDir) + "/" + kManifestFile, seg_dir / kManifestFile});
    for (const std::string& file : manifest.files()) {
      entries.push_back({std::string(kSegmentsDir) + "/" + file, seg_dir / file});
    }
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(seg_dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.ends_with(".hnsw")) {  // graph files; ones no segment uses are dropped on load
        entries.push_back({std::string(kSegmentsDir) + "/" + name, entry.path()});
      }
    }
    if (ec) {
      return Status::IoError("list " + seg_dir.string() + ": " + ec.message());
    }
    at = manifest.persisted_seq;
    return WriteTarArchive(out, entries);
  }));
  return at;
}

// ---- reads ----

std::vector<PointRecord> Collection::Retrieve(const std::vector<PointId>& ids, bool with_payload,
                                              bool with_vectors) const {
  return searcher_->Retrieve(ids, with_payload, with_vectors);
}

Result<std::vector<ScoredPoint>> Collection::Query(const engine::Query& query) const {
  return RunQuery(QuerySources{*searcher_, *scans_}, query);
}

Result<SearchMatrix> Collection::SearchMatrixOf(const SearchMatrixRequest& request) const {
  return RunSearchMatrix(QuerySources{*searcher_, *scans_}, request);
}

Result<std::vector<PointGroup>> Collection::QueryGroups(const engine::Query& query,
                                                        const GroupRequest& group) const {
  return RunGroupQuery(QuerySources{*searcher_, *scans_}, query, group);
}

Result<std::vector<ScoredPoint>> Collection::Search(const SearchRequest& request) const {
  return searcher_->Search(request);
}

std::vector<PointRecord> Collection::Scroll(const std::optional<PointId>& from, size_t limit,
                                            PointFilter filter, bool with_payload,
                                            bool with_vectors, std::optional<PointId>* next) const {
  return scans_->Scroll(from, limit, filter, with_payload, with_vectors, next);
}

uint64_t Collection::Count(PointFilter filter, bool exact) const {
  return scans_->Count(filter, exact);
}

std::vector<PointId> Collection::MatchingIds(PointFilter filter) const {
  return scans_->MatchingIds(filter);
}

Result<std::vector<PointRecord>> Collection::ScrollOrdered(const OrderBy& order, size_t limit,
                                                           PointFilter filter, bool with_payload,
                                                           bool with_vectors) const {
  return scans_->ScrollOrdered(order, limit, filter, with_payload, with_vectors);
}

Result<std::vector<FacetHit>> Collection::Facet(const std::string& key, size_t limit,
                                                PointFilter filter) const {
  return scans_->Facet(key, limit, filter);
}

CollectionInfo Collection::Info() const {
  CollectionInfo info;
  info.config = config();
  std::shared_lock state(segments_->mu());
  const auto& segments = segments_->segments();
  for (const auto& [field, index] : info.config.payload_indexes) {
    PayloadSchemaInfo& schema = info.payload_schema[field];
    schema.index = index;
    // From each segment's payload index: gathered once per body generation, so a repeated
    // GET reads bitmaps, not payloads.
    for (const auto& s : segments) {
      const auto present =
          s->payload_index().Present(field, s->body_generation(), s->ids(), s->payloads());
      for (Offset o : *present) {
        schema.points += !s->deleted(o);
      }
    }
  }
  for (const auto& s : segments) {
    info.points_count += s->live_count();
    info.indexed_vectors_count += s->indexed_vectors();
  }
  info.segments_count = segments.size();
  state.unlock();
  // Yellow while an optimization runs or is planned; grey when one is planned but
  // optimizations are disabled (max_optimization_threads 0), as Qdrant's.
  const bool pending = optimizer_->pending();
  info.status = optimizer_->running() ? CollectionStatus::kYellow
                : !pending            ? CollectionStatus::kGreen
                : info.config.optimizers.max_optimization_threads == uint64_t{0}
                    ? CollectionStatus::kGrey
                    : CollectionStatus::kYellow;
  return info;
}

}  // namespace tessera::engine

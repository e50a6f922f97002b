#include "engine/collection.h"

#include <algorithm>
#include <ctime>
#include <future>
#include <set>
#include <system_error>

#include "common/archive.h"
#include "common/coding.h"
#include "common/file.h"
#include "common/framing.h"
#include "common/logging.h"
#include "common/memory.h"
#include "engine/payload.h"

namespace tessera::engine {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr uint8_t kRecordOperationList = 1;
constexpr const char* kSegmentsDir = "segments";
constexpr const char* kManifestFile = "manifest.bin";
constexpr std::string_view kManifestMagic = "TSMF";
constexpr uint32_t kManifestVersion = 1;

// manifest.bin := magic:"TSMF" version:fixed32(=1) body crc32c(body):fixed32
// body         := persisted_seq:varint next_segment_id:varint n:varint file:lp*
struct Manifest {
  SeqNo persisted_seq = 0;
  uint64_t next_segment_id = 1;
  std::vector<std::string> files;
};

std::string EncodeManifest(const Manifest& m) {
  std::string body;
  PutVarint64(&body, m.persisted_seq);
  PutVarint64(&body, m.next_segment_id);
  PutVarint64(&body, m.files.size());
  for (const std::string& f : m.files) {
    PutLengthPrefixed(&body, f);
  }
  return FrameFile(kManifestMagic, kManifestVersion, body);
}

Result<Manifest> DecodeManifest(std::string_view bytes) {
  TESSERA_ASSIGN_OR_RETURN(FramedBody framed,
                           UnframeFile(bytes, kManifestMagic, kManifestVersion, "manifest"));
  const std::string_view body = framed.body;
  Decoder d(body);
  Manifest m;
  uint64_t n;
  if (!d.GetVarint64(&m.persisted_seq) || !d.GetVarint64(&m.next_segment_id) ||
      !d.GetVarint64(&n) || n > d.remaining()) {
    return Status::Corruption("manifest: malformed body");
  }
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view f;
    if (!d.GetLengthPrefixed(&f)) {
      return Status::Corruption("manifest: malformed body");
    }
    m.files.emplace_back(f);
  }
  return m;
}

// Calls fn(id, exists_after) for every point an operation touches, in order.
template <typename Fn>
void ForEachTouched(const Operation& op, Fn&& fn) {
  std::visit(
      [&](const auto& o) {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, UpsertOp>) {
          for (const PointStruct& p : o.points) {
            fn(p.id, true);
          }
        } else if constexpr (std::is_same_v<T, UpdateVectorsOp>) {
          for (const PointVectors& p : o.points) {
            fn(p.id, true);
          }
        } else if constexpr (std::is_same_v<T, DeletePointsOp>) {
          for (const PointId& id : o.ids) {
            fn(id, false);
          }
        } else {
          for (const PointId& id : o.ids) {
            fn(id, true);
          }
        }
      },
      op);
}

bool RequiresExisting(const Operation& op) {
  return !std::holds_alternative<UpsertOp>(op) && !std::holds_alternative<DeletePointsOp>(op);
}

// Runs the all-or-nothing check of a list: every point an operation needs exists at that
// step. `exists` answers for the state before the list.
template <typename ExistsFn>
Status CheckList(const OperationList& ops, ExistsFn&& exists) {
  std::unordered_map<PointId, bool, PointIdHash> overlay;
  for (size_t i = 0; i < ops.size(); ++i) {
    const Operation& op = ops[i];
    Status failure;
    ForEachTouched(op, [&](const PointId& id, bool exists_after) {
      if (!failure.ok()) {
        return;
      }
      if (RequiresExisting(op)) {
        auto it = overlay.find(id);
        const bool present = it != overlay.end() ? it->second : exists(id);
        if (!present) {
          std::string message = "Not found: No point with id " + id.ToString() + " found";
          if (ops.size() > 1) {
            message +=
                " (operation " + std::to_string(i) + ": " + std::string(OperationName(op)) + ")";
          }
          failure = Status::NotFound(std::move(message));
          return;
        }
      }
      overlay[id] = exists_after;
    });
    TESSERA_RETURN_IF_ERROR(failure);
  }
  return Status::Ok();
}

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
    : name_(std::move(name)),
      dir_(std::move(dir)),
      options_(options),
      config_(std::make_shared<const CollectionConfig>(std::move(config))) {}

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
  if (Status s = Flush(); !s.ok()) {
    TESSERA_LOG(kError) << "collection " << name_ << ": final flush failed: " << s.ToString();
  }
  if (wal_ != nullptr) {
    if (Status s = wal_->Sync(wal_->last_seq()); !s.ok()) {
      TESSERA_LOG(kError) << "collection " << name_ << ": final WAL sync failed: " << s.ToString();
    }
  }
}

std::shared_ptr<const CollectionConfig> Collection::config_ptr() const {
  std::lock_guard lock(config_mu_);
  return config_;
}

Status Collection::Update(const CollectionUpdate& update) {
  std::lock_guard lock(config_mu_);
  TESSERA_ASSIGN_OR_RETURN(CollectionConfig next, ApplyUpdate(*config_, update));
  TESSERA_RETURN_IF_ERROR(WriteFileAtomically(dir_ / kConfigFile, EncodeCollectionConfig(next)));
  config_ = std::make_shared<const CollectionConfig>(std::move(next));
  return Status::Ok();
}

// ---- recovery ----

Status Collection::Recover() {
  const fs::path seg_dir = dir_ / kSegmentsDir;
  TESSERA_RETURN_IF_ERROR(CreateDirDurably(seg_dir));
  Manifest manifest;
  if (fs::exists(seg_dir / kManifestFile)) {
    TESSERA_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(seg_dir / kManifestFile));
    Result<Manifest> decoded = DecodeManifest(bytes);
    if (!decoded.ok()) {
      return decoded.status().WithPrefix((seg_dir / kManifestFile).string() + ": ");
    }
    manifest = std::move(decoded).value();
  }
  std::unique_lock state(state_mu_);
  for (const std::string& file : manifest.files) {
    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Segment> segment, Segment::Load(seg_dir, file));
    segments_.push_back(std::move(segment));
  }
  next_segment_id_ = manifest.next_segment_id;
  persisted_seq_ = manifest.persisted_seq;
  manifest_files_ = manifest.files;
  for (size_t i = 0; i < segments_.size(); ++i) {
    durable_[segments_[i]->id()] = DurableFile{manifest.files[i], segments_[i]->generation()};
  }
  if (segments_.empty() || segments_.back()->sealed()) {
    NewAppendableLocked();
  }

  // Replay every record after the persisted snapshot, in order.
  const CollectionConfig config = this->config();
  wal::RecoveryReport report;
  size_t replayed = 0;
  auto replay = [&](const wal::Record& record) -> Status {
    if (record.type != kRecordOperationList) {
      return Status::Ok();
    }
    Result<OperationList> ops = DecodeOperationList(record.body);
    if (!ops.ok()) {
      return ops.status().WithPrefix("wal record " + std::to_string(record.seq) + ": ");
    }
    if (Status s = ApplyLocked(record.seq, *ops); !s.ok()) {
      TESSERA_LOG(kDebug) << "replay skipped record " << record.seq << ": " << s.message();
    }
    ++replayed;
    return Status::Ok();
  };
  wal::LogOptions log_options;
  log_options.file_size_bytes = config.wal.wal_capacity_mb << 20;
  TESSERA_ASSIGN_OR_RETURN(wal_,
                           wal::Log::Open(dir_ / "wal", log_options, manifest.persisted_seq + 1,
                                          manifest.persisted_seq + 1, replay, &report));
  {
    std::lock_guard lock(queue_mu_);
    applied_seq_ = std::max<SeqNo>(manifest.persisted_seq, report.read.last_seq);
  }
  if (replayed > 0 || !manifest.files.empty()) {
    TESSERA_LOG(kInfo) << "collection " << name_ << ": loaded " << segments_.size()
                       << " segments at operation " << manifest.persisted_seq << ", replayed "
                       << replayed << " WAL records";
  }

  // Files from a flush that a crash cut short are not in the manifest: remove them.
  std::set<std::string> keep(manifest.files.begin(), manifest.files.end());
  keep.insert(kManifestFile);
  for (const auto& segment : segments_) {
    for (const std::string& g : segment->graph_files()) {
      keep.insert(g);
    }
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(seg_dir, ec)) {
    if (!keep.contains(entry.path().filename().string())) {
      fs::remove(entry.path(), ec);
    }
  }
  return Status::Ok();
}

std::shared_ptr<Segment> Collection::NewAppendableLocked() {
  auto segment = std::make_shared<Segment>(next_segment_id_++, SpecsFor(config()));
  segments_.push_back(segment);
  return segment;
}

// ---- threads ----

void Collection::StartThreads() {
  update_thread_ = std::jthread([this](std::stop_token stop) { UpdateLoop(stop); });
  maintenance_thread_ = std::jthread([this](std::stop_token stop) { MaintenanceLoop(stop); });
  optimizer_thread_ = std::jthread([this](std::stop_token stop) { OptimizerLoop(stop); });
}

void Collection::StopThreads() {
  for (std::jthread* t : {&optimizer_thread_, &maintenance_thread_, &update_thread_}) {
    if (t->joinable()) {
      t->request_stop();
      t->join();
    }
  }
}

void Collection::UpdateLoop(std::stop_token stop) {
  try {
    for (;;) {
      std::pair<SeqNo, OperationList> item;
      {
        std::unique_lock lock(queue_mu_);
        // Drain the queue even when asked to stop: every queued record is applied.
        queue_cv_.wait(lock, stop, [&] { return !queue_.empty(); });
        if (queue_.empty()) {
          return;
        }
        item = std::move(queue_.front());
        queue_.pop_front();
      }
      const SeqNo seq = item.first;  // not a structured binding: lambdas below capture it
      const OperationList& ops = item.second;
      bool sealed = false;
      {
        std::unique_lock state(state_mu_);
        if (Status s = ApplyLocked(seq, ops); !s.ok()) {
          TESSERA_LOG(kWarn) << "collection " << name_ << ": record " << seq
                             << " not applied: " << s.message();
        }
        if (AppendableFullLocked()) {
          segments_.back()->Seal();
          NewAppendableLocked();
          sealed = true;
        }
      }
      if (sealed) {
        optimizer_cv_.notify_all();
      }
      {
        std::lock_guard lock(submit_mu_);
        for (const Operation& op : ops) {
          ForEachTouched(op, [&](const PointId& id, bool) {
            auto it = pending_.find(id);
            if (it != pending_.end() && it->second.seq == seq) {
              pending_.erase(it);
            }
          });
        }
      }
      {
        std::lock_guard lock(queue_mu_);
        applied_seq_ = seq;
      }
      applied_cv_.notify_all();
    }
  } catch (const std::exception& e) {
    TESSERA_LOG(kError) << "collection " << name_ << ": update worker died: " << e.what();
    std::abort();  // a silent dead worker is worse: restart replays the WAL
  }
}

void Collection::MaintenanceLoop(std::stop_token stop) {
  const auto flush_interval = options_.flush_interval.value_or(
      std::chrono::seconds(std::max<uint64_t>(1, config().optimizers.flush_interval_sec)));
  auto next_sync = Clock::now() + options_.wal_sync_interval;
  auto next_flush = Clock::now() + flush_interval;
  std::mutex mu;
  std::condition_variable_any cv;
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mu);
      cv.wait_until(lock, stop, std::min(next_sync, next_flush), [] { return false; });
    }
    if (stop.stop_requested()) {
      return;
    }
    const auto now = Clock::now();
    if (now >= next_sync) {
      if (Status s = wal_->Sync(wal_->last_seq()); !s.ok()) {
        TESSERA_LOG(kError) << "collection " << name_ << ": " << s.message();
      }
      next_sync = now + options_.wal_sync_interval;
    }
    if (now >= next_flush) {
      // Flush() logs a failure; it is retried after at most a second.
      const bool ok = Flush().ok();
      next_flush =
          Clock::now() + (ok ? flush_interval
                             : std::min<Clock::duration>(flush_interval, std::chrono::seconds(1)));
    }
  }
}

void Collection::OptimizerLoop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    std::shared_ptr<Segment> frozen;
    {
      std::unique_lock lock(optimizer_mu_);
      optimizer_cv_.wait_for(lock, stop, std::chrono::seconds(1), [&] {
        std::shared_lock state(state_mu_);
        for (const auto& s : segments_) {
          if (s->sealed() && !s->specs().empty() && !s->has_graph(0)) {
            frozen = s;
            return true;
          }
        }
        return false;
      });
    }
    if (frozen == nullptr || stop.stop_requested()) {
      continue;
    }
    if (Status s = OptimizeOne(std::move(frozen)); !s.ok()) {
      TESSERA_LOG(kError) << "collection " << name_ << ": indexing failed: " << s.ToString();
      std::unique_lock lock(optimizer_mu_);
      optimizer_cv_.wait_for(lock, stop, std::chrono::seconds(10), [] { return false; });
    }
  }
}

bool Collection::AppendableFullLocked() const {
  const std::shared_ptr<const CollectionConfig> config = config_ptr();
  const CollectionConfig& c = *config;
  if (c.optimizers.indexing_threshold == 0 || c.hnsw.m == 0 || c.vectors.empty()) {
    return false;
  }
  uint64_t floats = 0;
  for (const auto& [name, params] : c.vectors) {
    floats += params.size;
  }
  const uint64_t kb = segments_.back()->size() * floats * sizeof(float) / 1024;
  return kb >= c.optimizers.indexing_threshold;
}

Status Collection::OptimizeOne(std::shared_ptr<Segment> frozen) {
  optimizing_ = true;
  size_t live = 0;
  {
    std::shared_lock state(state_mu_);  // the update worker still tombstones the frozen segment
    live = frozen->live_count();
  }
  {
    std::lock_guard lock(optimizing_mu_);
    optimizing_segment_ = OptimizationStatus::SegmentInfo{frozen->id(), live};
    optimizing_since_ = std::chrono::system_clock::now();
  }
  struct Reset {
    Collection* c;
    ~Reset() {
      std::lock_guard lock(c->optimizing_mu_);
      c->optimizing_segment_.reset();
      c->optimizing_ = false;
    }
  } reset{this};
  const CollectionConfig c = config();
  std::shared_ptr<Segment> copy;
  {
    // A vacuumed copy: live points only.
    std::unique_lock state(state_mu_);
    copy = std::make_shared<Segment>(next_segment_id_++, frozen->specs());
    copy->Reserve(frozen->live_count());  // one allocation per column, no growth slack
    for (Offset o = 0; o < frozen->size(); ++o) {
      if (!frozen->deleted(o)) {
        copy->Put(frozen->point_id(o), frozen->version(o), frozen->vectors_of(o),
                  frozen->payload(o));
      }
    }
  }
  copy->Seal();
  const size_t threads = options_.indexing_threads > 0
                             ? options_.indexing_threads
                             : std::max(1u, std::thread::hardware_concurrency());
  index::HnswParams params{.m = c.hnsw.m, .ef_construct = c.hnsw.ef_construct};
  const auto started = Clock::now();
  const std::clock_t cpu_started = std::clock();  // the whole process's CPU time
  TESSERA_RETURN_IF_ERROR(copy->BuildGraphs(params, threads));
  const double build_cpu_s = static_cast<double>(std::clock() - cpu_started) / CLOCKS_PER_SEC;
  {
    std::unique_lock state(state_mu_);
    auto it = std::find(segments_.begin(), segments_.end(), frozen);
    if (it == segments_.end()) {
      return Status::Ok();
    }
    // Points deleted from, or moved out of, the frozen segment during the build.
    for (Offset o = 0; o < copy->size(); ++o) {
      const auto f = frozen->Find(copy->point_id(o));
      if (f && frozen->deleted(*f)) {
        copy->Delete(o, frozen->version(*f));
      }
    }
    *it = copy;
  }
  {
    std::lock_guard lock(field_stats_mu_);
    std::erase_if(field_stats_, [&](const auto& kv) { return kv.first.first == frozen->id(); });
  }
  ++graphs_built_;
  frozen.reset();  // the last reference but a search's: its points now live in the copy
  ReleaseFreeMemory();
  TESSERA_LOG(kInfo)
      << "collection " << name_ << ": indexed segment " << copy->id() << " (" << copy->live_count()
      << " points) in "
      << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()
      << " ms (process CPU during the build " << build_cpu_s << " s, " << threads << " threads)";
  return Status::Ok();
}

Status Collection::OptimizeNow() {
  std::shared_ptr<Segment> frozen;
  {
    std::unique_lock state(state_mu_);
    if (segments_.back()->size() > 0) {
      segments_.back()->Seal();
      NewAppendableLocked();
    }
  }
  for (;;) {
    frozen.reset();
    {
      std::shared_lock state(state_mu_);
      for (const auto& s : segments_) {
        if (s->sealed() && !s->specs().empty() && !s->has_graph(0)) {
          frozen = s;
          break;
        }
      }
    }
    if (frozen == nullptr) {
      return Status::Ok();
    }
    TESSERA_RETURN_IF_ERROR(OptimizeOne(std::move(frozen)));
  }
}

// ---- write path ----

std::optional<std::pair<size_t, Offset>> Collection::LocateLocked(const PointId& id) const {
  for (size_t i = segments_.size(); i-- > 0;) {
    if (auto o = segments_[i]->FindLive(id)) {
      return std::make_pair(i, *o);
    }
  }
  return std::nullopt;
}

SeqNo Collection::VersionLocked(const PointId& id) const {
  SeqNo version = 0;
  for (const auto& s : segments_) {
    if (auto o = s->Find(id)) {
      version = std::max(version, s->version(*o));
    }
  }
  return version;
}

Offset Collection::MakeWritableLocked(size_t segment, Offset offset, SeqNo seq) {
  Segment& source = *segments_[segment];
  Segment& appendable = *segments_.back();
  if (&source == &appendable) {
    return offset;
  }
  const Offset moved = appendable.Put(source.point_id(offset), seq, source.vectors_of(offset),
                                      source.payload(offset));
  source.Delete(offset, seq);
  return moved;
}

Status Collection::ApplyLocked(SeqNo seq, const OperationList& ops) {
  std::unordered_map<PointId, bool, PointIdHash> skip;
  auto skipped = [&](const PointId& id) {
    auto [it, inserted] = skip.try_emplace(id, false);
    if (inserted) {
      it->second = VersionLocked(id) >= seq;  // replay of a write this point already has
    }
    return it->second;
  };
  TESSERA_RETURN_IF_ERROR(CheckList(
      ops, [&](const PointId& id) { return skipped(id) || LocateLocked(id).has_value(); }));

  Segment& app = *segments_.back();
  auto writable = [&](const PointId& id) -> std::optional<Offset> {
    if (skipped(id)) {
      return std::nullopt;
    }
    auto loc = LocateLocked(id);
    if (!loc) {
      return std::nullopt;  // unreachable after CheckList
    }
    const Offset o = MakeWritableLocked(loc->first, loc->second, seq);
    app.SetVersion(o, seq);
    return o;
  };
  for (const Operation& op : ops) {
    if (const auto* upsert = std::get_if<UpsertOp>(&op)) {
      for (const PointStruct& p : upsert->points) {
        if (skipped(p.id)) {
          continue;
        }
        if (auto loc = LocateLocked(p.id); loc && loc->first + 1 != segments_.size()) {
          segments_[loc->first]->Delete(loc->second, seq);
        }
        app.Put(p.id, seq, p.vectors, p.payload);
      }
    } else if (const auto* del = std::get_if<DeletePointsOp>(&op)) {
      for (const PointId& id : del->ids) {
        if (skipped(id)) {
          continue;
        }
        if (auto loc = LocateLocked(id)) {
          segments_[loc->first]->Delete(loc->second, seq);
        }
      }
    } else if (const auto* set = std::get_if<SetPayloadOp>(&op)) {
      for (const PointId& id : set->ids) {
        if (auto o = writable(id)) {
          SetPayloadAt(app.mutable_payload(*o), set->key, set->payload);
        }
      }
    } else if (const auto* overwrite = std::get_if<OverwritePayloadOp>(&op)) {
      for (const PointId& id : overwrite->ids) {
        if (auto o = writable(id)) {
          ReplacePayloadAt(app.mutable_payload(*o), overwrite->key, overwrite->payload);
        }
      }
    } else if (const auto* delete_payload = std::get_if<DeletePayloadOp>(&op)) {
      for (const PointId& id : delete_payload->ids) {
        if (auto o = writable(id)) {
          for (const std::string& key : delete_payload->keys) {
            DeletePayloadPath(app.mutable_payload(*o), key);
          }
        }
      }
    } else if (const auto* clear = std::get_if<ClearPayloadOp>(&op)) {
      for (const PointId& id : clear->ids) {
        if (auto o = writable(id)) {
          app.mutable_payload(*o).clear();
        }
      }
    } else if (const auto* update = std::get_if<UpdateVectorsOp>(&op)) {
      for (const PointVectors& p : update->points) {
        if (auto o = writable(p.id)) {
          for (const auto& [name, values] : p.vectors) {
            const int v = app.VectorIndex(name);
            if (v >= 0) {
              app.SetVector(static_cast<size_t>(v), *o, values);
            }
          }
        }
      }
    } else if (const auto* delete_vectors = std::get_if<DeleteVectorsOp>(&op)) {
      for (const PointId& id : delete_vectors->ids) {
        if (auto o = writable(id)) {
          for (const std::string& name : delete_vectors->names) {
            const int v = app.VectorIndex(name);
            if (v >= 0) {
              app.RemoveVector(static_cast<size_t>(v), *o);
            }
          }
        }
      }
    }
  }
  return Status::Ok();
}

bool Collection::ExistsAfterQueued(const PointId& id) const {
  auto it = pending_.find(id);
  if (it != pending_.end()) {
    return it->second.exists;
  }
  return LocateLocked(id).has_value();
}

Status Collection::CheckExistence(const OperationList& ops) const {
  bool needs_state = false;
  for (const Operation& op : ops) {
    needs_state = needs_state || RequiresExisting(op);
  }
  if (!needs_state) {
    return Status::Ok();
  }
  std::shared_lock state(state_mu_);
  return CheckList(ops, [&](const PointId& id) { return ExistsAfterQueued(id); });
}

Result<SeqNo> Collection::Submit(OperationList ops, Durability durability) {
  TESSERA_RETURN_IF_ERROR(PrepareOperations(*config_ptr(), &ops));
  if (Status health = wal_->health(); !health.ok()) {
    return Status::Unavailable("collection " + name_ +
                               " refuses writes after a storage failure: " + health.message());
  }
  if (storage_failed_.load(std::memory_order_acquire)) {
    std::lock_guard lock(storage_failure_mu_);
    return Status::Unavailable("collection " + name_ + " refuses writes after a storage failure: " +
                               storage_failure_.message());
  }
  const std::string record = EncodeOperationList(ops);
  SeqNo seq;
  {
    std::lock_guard lock(submit_mu_);
    if (dropped_) {
      return Status::NotFound("Not found: Collection `" + name_ + "` doesn't exist!");
    }
    TESSERA_RETURN_IF_ERROR(CheckExistence(ops));
    Result<SeqNo> appended = wal_->Append(kRecordOperationList, record);
    if (!appended.ok()) {
      return Status::Unavailable(appended.status().message());
    }
    seq = *appended;
    for (const Operation& op : ops) {
      ForEachTouched(op, [&](const PointId& id, bool exists_after) {
        pending_[id] = Pending{exists_after, seq};
      });
    }
    {
      std::lock_guard queue_lock(queue_mu_);
      queue_.emplace_back(seq, std::move(ops));
    }
    queue_cv_.notify_one();
  }
  if (durability == Durability::kSynced) {
    if (Status s = wal_->Sync(seq); !s.ok()) {
      return Status::Unavailable(s.message());
    }
  }
  return seq;
}

bool Collection::WaitApplied(SeqNo seq, Clock::time_point deadline) const {
  std::unique_lock lock(queue_mu_);
  return applied_cv_.wait_until(lock, deadline, [&] { return applied_seq_ >= seq; });
}

SeqNo Collection::applied_seq() const {
  std::lock_guard lock(queue_mu_);
  return applied_seq_;
}

SeqNo Collection::persisted_seq() const {
  return persisted_seq_.load();
}

// ---- flush ----

Status Collection::Flush() {
  std::lock_guard flush_lock(flush_mu_);
  Status s = FlushLocked();
  if (s.ok()) {
    flush_failures_ = 0;
    return s;
  }
  ++flush_failures_;
  TESSERA_LOG(kError) << "collection " << name_ << ": flush failed (" << flush_failures_
                      << " in a row): " << s.ToString();
  if (flush_failures_ >= options_.flush_failures_before_latch && !storage_failed_.load()) {
    {
      std::lock_guard lock(storage_failure_mu_);
      storage_failure_ = Status::Unavailable("flush failed " + std::to_string(flush_failures_) +
                                             " times in a row: " + s.message());
    }
    storage_failed_.store(true, std::memory_order_release);
    TESSERA_LOG(kError) << "collection " << name_
                        << ": writes refused until it is opened again (the WAL keeps them)";
  }
  return s;
}

Result<SeqNo> Collection::CreateSnapshot(const fs::path& out) {
  // Flush, then archive the files of that flush while holding flush_mu_: no later flush can
  // replace or remove them meanwhile, and writes go on into the WAL. The archive holds exactly
  // the state at one applied operation (the manifest's persisted_seq) and no WAL.
  std::lock_guard flush_lock(flush_mu_);
  TESSERA_RETURN_IF_ERROR(FlushLocked());
  const fs::path seg_dir = dir_ / kSegmentsDir;
  std::vector<ArchiveEntry> entries;
  {
    // Update() replaces the config file atomically; read it under its lock so that the copy
    // archived is the one in effect.
    std::lock_guard config_lock(config_mu_);
    TESSERA_ASSIGN_OR_RETURN(std::string config_bytes, ReadFileToString(dir_ / kConfigFile));
    entries.push_back({kConfigFile, {}, std::move(config_bytes)});
  }
  entries.push_back({std::string(kSegmentsDir) + "/" + kManifestFile, seg_dir / kManifestFile});
  for (const std::string& file : manifest_files_) {
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
  TESSERA_RETURN_IF_ERROR(WriteTarArchive(out, entries));
  return persisted_seq_.load();
}

Status Collection::FlushLocked() {
  // A segment counts as persisted only once its file is durable (written, fsynced, renamed,
  // directory fsynced) and only at the generation that was serialized; the manifest names only
  // durable files; the WAL is truncated only below a durable manifest. Any failure leaves
  // durable_ as it was, so the next flush writes the same segments again.
  const fs::path seg_dir = dir_ / kSegmentsDir;
  Manifest manifest;
  struct Written {
    uint64_t segment_id;
    uint64_t generation;
    std::string file;
    std::string bytes;
  };
  std::vector<Written> to_write;
  std::vector<uint64_t> live_ids;
  {
    std::shared_lock state(state_mu_);
    {
      std::lock_guard lock(queue_mu_);
      manifest.persisted_seq = applied_seq_;
    }
    bool unchanged =
        manifest.persisted_seq == persisted_seq_ && manifest_files_.size() == segments_.size();
    for (const auto& s : segments_) {
      auto it = durable_.find(s->id());
      unchanged = unchanged && it != durable_.end() && it->second.generation == s->generation();
    }
    if (unchanged) {
      return Status::Ok();
    }
    manifest.next_segment_id = next_segment_id_;
    for (const auto& s : segments_) {
      live_ids.push_back(s->id());
      auto it = durable_.find(s->id());
      if (it != durable_.end() && it->second.generation == s->generation()) {
        manifest.files.push_back(it->second.file);
        continue;
      }
      std::string file = "segment-" + std::to_string(s->id()) + "-" +
                         std::to_string(manifest.persisted_seq) + ".bin";
      TESSERA_ASSIGN_OR_RETURN(std::string bytes, s->Serialize(seg_dir));
      manifest.files.push_back(file);
      to_write.push_back({s->id(), s->generation(), std::move(file), std::move(bytes)});
    }
  }
  for (const Written& w : to_write) {
    TESSERA_RETURN_IF_ERROR(WriteFileAtomically(seg_dir / w.file, w.bytes));
  }
  TESSERA_RETURN_IF_ERROR(WriteFileAtomically(seg_dir / kManifestFile, EncodeManifest(manifest)));
  for (Written& w : to_write) {
    durable_[w.segment_id] = DurableFile{std::move(w.file), w.generation};
  }
  std::erase_if(durable_, [&](const auto& kv) {
    return std::find(live_ids.begin(), live_ids.end(), kv.first) == live_ids.end();
  });
  manifest_files_ = manifest.files;
  persisted_seq_ = manifest.persisted_seq;

  // The manifest is durable: older segment files and WAL records below it can go.
  std::set<std::string> keep(manifest.files.begin(), manifest.files.end());
  keep.insert(kManifestFile);
  {
    std::shared_lock state(state_mu_);
    for (const auto& s : segments_) {
      for (const std::string& g : s->graph_files()) {
        keep.insert(g);
      }
    }
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(seg_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!keep.contains(name) && !name.ends_with(".tmp") &&
        (name.ends_with(".bin") || name.ends_with(".hnsw"))) {
      fs::remove(entry.path(), ec);
    }
  }
  return wal_->TruncateBelow(manifest.persisted_seq + 1);
}

// ---- reads ----

uint64_t Collection::EstimateMatches(PointFilter filter, const Segment& segment) {
  // Count exactly on small segments; otherwise evaluate an even sample and scale up, rounding
  // towards more matches (a too-high estimate only costs an HNSW walk, never recall).
  constexpr size_t kSample = 2048;
  const size_t n = segment.size();
  if (n <= kSample) {
    uint64_t matches = 0;
    for (Offset o = 0; o < n; ++o) {
      matches += !segment.deleted(o) && Accepts(filter, segment, o);
    }
    return matches;
  }
  uint64_t hits = 0;
  const size_t step = n / kSample;
  for (size_t i = 0; i < kSample; ++i) {
    const auto o = static_cast<Offset>(i * step);
    hits += !segment.deleted(o) && Accepts(filter, segment, o);
  }
  const double rate = (static_cast<double>(hits) + 1.0) / kSample;
  return static_cast<uint64_t>(rate * static_cast<double>(segment.live_count()));
}

namespace {
// The key a scalar payload value is counted under in FieldStats.
std::optional<std::string> StatsKey(const json::value& v) {
  if (v.is_string()) {
    return "s:" + std::string(v.get_string());
  }
  if (v.is_int64()) {
    return "i:" + std::to_string(v.get_int64());
  }
  if (v.is_uint64()) {
    return "i:" + std::to_string(v.get_uint64());
  }
  if (v.is_bool()) {
    return std::string(v.get_bool() ? "b:1" : "b:0");
  }
  return std::nullopt;
}
std::string StatsKey(const MatchScalar& m) {
  if (const auto* s = std::get_if<std::string>(&m)) {
    return "s:" + *s;
  }
  if (const auto* b = std::get_if<bool>(&m)) {
    return *b ? "b:1" : "b:0";
  }
  return "i:" + std::to_string(std::get<int64_t>(m));
}
}  // namespace

std::shared_ptr<const Collection::FieldStats> Collection::StatsFor(const Segment& segment,
                                                                   const std::string& field) const {
  const auto key = std::make_pair(segment.id(), field);
  {
    std::lock_guard lock(field_stats_mu_);
    if (auto it = field_stats_.find(key); it != field_stats_.end()) {
      return it->second;
    }
  }
  auto stats = std::make_shared<FieldStats>();
  for (Offset o = 0; o < segment.size(); ++o) {
    if (segment.deleted(o)) {
      continue;
    }
    for (const json::value* v : ValuesAt(segment.payload(o), field)) {
      if (auto k = StatsKey(*v)) {
        ++stats->values[*k];
      }
      if (v->is_number()) {
        stats->numbers.push_back(v->to_number<double>());
      }
    }
  }
  std::sort(stats->numbers.begin(), stats->numbers.end());
  std::lock_guard lock(field_stats_mu_);
  return field_stats_.emplace(key, std::move(stats)).first->second;
}

std::optional<uint64_t> Collection::IndexEstimate(const Filter& filter, const Segment& segment,
                                                  const CollectionConfig& config) const {
  std::optional<uint64_t> best;
  auto offer = [&](uint64_t estimate) { best = best ? std::min(*best, estimate) : estimate; };
  for (const Condition& condition : filter.must) {
    if (const auto* has_id = std::get_if<HasIdCondition>(&condition)) {
      offer(has_id->ids.size());
      continue;
    }
    const auto* field = std::get_if<FieldCondition>(&condition);
    if (field == nullptr || !config.payload_indexes.contains(field->key)) {
      continue;
    }
    const auto stats = StatsFor(segment, field->key);
    auto count = [&](const MatchScalar& m) -> uint64_t {
      auto it = stats->values.find(StatsKey(m));
      return it == stats->values.end() ? 0 : it->second;
    };
    if (field->match) {
      if (const auto* value = std::get_if<MatchValue>(&*field->match)) {
        offer(count(value->value));
      } else if (const auto* any = std::get_if<MatchAny>(&*field->match)) {
        uint64_t sum = 0;
        for (const MatchScalar& m : any->values) {
          sum += count(m);
        }
        offer(sum);
      }
    }
    if (field->range) {
      const RangeBounds& r = *field->range;
      const double lo = r.gte ? *r.gte : r.gt ? *r.gt : -std::numeric_limits<double>::infinity();
      const double hi = r.lte ? *r.lte : r.lt ? *r.lt : std::numeric_limits<double>::infinity();
      const auto first = std::lower_bound(stats->numbers.begin(), stats->numbers.end(), lo);
      const auto last = std::upper_bound(stats->numbers.begin(), stats->numbers.end(), hi);
      offer(last > first ? static_cast<uint64_t>(last - first) : 0);
    }
  }
  return best;
}

bool Collection::Accepts(PointFilter filter, const Segment& segment, Offset o) {
  if (filter == nullptr) {
    return true;
  }
  const std::function<bool(std::string_view)> has_vector = [&](std::string_view name) {
    const int v = segment.VectorIndex(name);
    return v >= 0 && segment.has_vector(static_cast<size_t>(v), o);
  };
  return Matches(*filter, PointView{segment.point_id(o), segment.payload(o), has_vector});
}

PointRecord Collection::MakeRecord(const Segment& segment, Offset o, bool with_payload,
                                   bool with_vectors) const {
  PointRecord r;
  r.id = segment.point_id(o);
  r.version = segment.version(o);
  if (with_payload) {
    r.payload = segment.payload(o);
  }
  if (with_vectors) {
    r.vectors = segment.vectors_of(o);
  }
  return r;
}

std::vector<PointRecord> Collection::Retrieve(const std::vector<PointId>& ids, bool with_payload,
                                              bool with_vectors) const {
  std::shared_lock state(state_mu_);
  std::vector<PointRecord> out;
  std::unordered_map<PointId, bool, PointIdHash> seen;
  for (const PointId& id : ids) {
    if (!seen.emplace(id, true).second) {
      continue;
    }
    if (auto loc = LocateLocked(id)) {
      out.push_back(MakeRecord(*segments_[loc->first], loc->second, with_payload, with_vectors));
    }
  }
  return out;
}

Result<std::vector<ScoredPoint>> Collection::Search(const SearchRequest& request) const {
  const std::shared_ptr<const CollectionConfig> config = config_ptr();
  const CollectionConfig& c = *config;
  auto it = c.vectors.find(request.vector_name);
  if (it == c.vectors.end()) {
    return Status::InvalidArgument(
        "Wrong input: Not existing vector name error: " +
        (request.vector_name.empty() ? std::string("(unnamed)") : request.vector_name));
  }
  std::vector<float> q = request.query;
  TESSERA_RETURN_IF_ERROR(PrepareVector(c, request.vector_name, &q));
  const index::Metric metric = MetricFor(it->second.distance);
  const size_t want = request.offset + request.limit;
  const size_t ef = std::max(request.ef.value_or(c.hnsw.ef_construct), want);

  struct Candidate {
    float distance;
    size_t segment;
    Offset offset;
  };
  std::shared_lock state(state_mu_);
  const uint64_t threshold_kb =
      it->second.hnsw_config && it->second.hnsw_config->full_scan_threshold
          ? *it->second.hnsw_config->full_scan_threshold
          : c.hnsw.full_scan_threshold;
  struct SegmentResult {
    std::vector<Candidate> hits;
    int path = -1;  // -1 not searched, 0 exact, 1 HNSW
    bool indexed = false;
  };
  std::vector<SegmentResult> results(segments_.size());
  auto search_segment = [&](size_t i) {
    const Segment& s = *segments_[i];
    const int v = s.VectorIndex(request.vector_name);
    if (v < 0 || s.live_count() == 0) {
      return;
    }
    index::AcceptFn accept;
    if (request.filter != nullptr) {
      accept = [&](Offset o) { return Accepts(request.filter, s, o); };
    }
    // Plan as Qdrant does: a full scan when the vectors it would touch (the segment's, or the
    // estimated matches of the filter) are under full_scan_threshold KB; HNSW otherwise.
    uint64_t estimate = s.live_count();
    if (request.filter != nullptr) {
      std::optional<uint64_t> indexed;
      if (s.sealed() && !c.payload_indexes.empty()) {
        indexed = IndexEstimate(*request.filter, s, c);
      }
      results[i].indexed = indexed.has_value();
      estimate = indexed ? std::min<uint64_t>(*indexed, s.live_count())
                         : EstimateMatches(request.filter, s);
    }
    const uint64_t kb = estimate * it->second.size * sizeof(float) / 1024;
    const bool exact = request.exact || !s.has_graph(static_cast<size_t>(v)) || kb < threshold_kb;
    results[i].path = exact ? 0 : 1;
    for (const index::Hit& h : s.Search(static_cast<size_t>(v), q, want, ef, exact, accept)) {
      results[i].hits.push_back({h.distance, i, h.offset});
    }
  };
  // Large segments are searched in parallel when there are two or more (a thread costs tens of
  // microseconds, so small ones are searched here); one large segment always runs on this
  // thread, so a collection of one big segment never pays for a thread.
  constexpr size_t kParallelPoints = 10000;
  std::vector<size_t> large;
  for (size_t i = 0; i < segments_.size(); ++i) {
    if (segments_[i]->live_count() >= kParallelPoints) {
      large.push_back(i);
    }
  }
  std::vector<std::future<void>> running;
  for (size_t i = 0; i < segments_.size(); ++i) {
    const bool parallel =
        large.size() >= 2 && segments_[i]->live_count() >= kParallelPoints && i != large.back();
    if (parallel) {
      running.push_back(std::async(std::launch::async, search_segment, i));
    } else {
      search_segment(i);
    }
  }
  for (auto& f : running) {
    f.get();
  }
  std::vector<Candidate> all;
  for (const SegmentResult& r : results) {
    all.insert(all.end(), r.hits.begin(), r.hits.end());
    if (request.stats != nullptr && r.path >= 0) {
      ++(r.path == 0 ? request.stats->exact_segments : request.stats->hnsw_segments);
      request.stats->index_estimates += r.indexed ? 1 : 0;
    }
  }
  std::sort(all.begin(), all.end(), [&](const Candidate& a, const Candidate& b) {
    if (a.distance != b.distance) {
      return a.distance < b.distance;
    }
    return segments_[a.segment]->point_id(a.offset) < segments_[b.segment]->point_id(b.offset);
  });
  std::vector<ScoredPoint> out;
  for (size_t i = request.offset; i < std::min(all.size(), want); ++i) {
    const float score = index::ScoreFromDistance(metric, all[i].distance);
    if (request.score_threshold) {
      const bool passes = index::HigherIsBetter(metric) ? score >= *request.score_threshold
                                                        : score <= *request.score_threshold;
      if (!passes) {
        break;
      }
    }
    out.push_back({MakeRecord(*segments_[all[i].segment], all[i].offset, request.with_payload,
                              request.with_vectors),
                   score});
  }
  return out;
}

std::vector<PointRecord> Collection::Scroll(const std::optional<PointId>& from, size_t limit,
                                            const PointFilter& filter, bool with_payload,
                                            bool with_vectors, std::optional<PointId>* next) const {
  std::shared_lock state(state_mu_);
  std::vector<std::tuple<PointId, size_t, Offset>> live;
  for (size_t i = 0; i < segments_.size(); ++i) {
    const Segment& s = *segments_[i];
    for (Offset o = 0; o < s.size(); ++o) {
      if (!s.deleted(o) && (!from || !(s.point_id(o) < *from)) && Accepts(filter, s, o)) {
        live.emplace_back(s.point_id(o), i, o);
      }
    }
  }
  const size_t n = std::min(live.size(), limit);
  std::partial_sort(
      live.begin(), live.begin() + static_cast<std::ptrdiff_t>(std::min(live.size(), limit + 1)),
      live.end(), [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
  std::vector<PointRecord> out;
  for (size_t i = 0; i < n; ++i) {
    const auto& [id, seg, o] = live[i];
    out.push_back(MakeRecord(*segments_[seg], o, with_payload, with_vectors));
  }
  next->reset();
  if (live.size() > limit) {
    *next = std::get<0>(live[limit]);
  }
  return out;
}

uint64_t Collection::Count(const PointFilter& filter) const {
  std::shared_lock state(state_mu_);
  uint64_t n = 0;
  for (const auto& s : segments_) {
    if (filter == nullptr) {
      n += s->live_count();
      continue;
    }
    for (Offset o = 0; o < s->size(); ++o) {
      n += !s->deleted(o) && Accepts(filter, *s, o);
    }
  }
  return n;
}

std::vector<PointId> Collection::MatchingIds(const PointFilter& filter) const {
  std::shared_lock state(state_mu_);
  std::vector<PointId> out;
  for (const auto& s : segments_) {
    for (Offset o = 0; o < s->size(); ++o) {
      if (!s->deleted(o) && Accepts(filter, *s, o)) {
        out.push_back(s->point_id(o));
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status Collection::CreatePayloadIndex(const std::string& field, const PayloadIndexInfo& info) {
  if (field.empty()) {
    return Status::ValidationFailed("field_name: must not be empty");
  }
  std::lock_guard lock(config_mu_);
  CollectionConfig next = *config_;
  next.payload_indexes[field] = info;
  TESSERA_RETURN_IF_ERROR(WriteFileAtomically(dir_ / kConfigFile, EncodeCollectionConfig(next)));
  config_ = std::make_shared<const CollectionConfig>(std::move(next));
  return Status::Ok();
}

Status Collection::DeletePayloadIndex(std::string_view field) {
  std::lock_guard lock(config_mu_);
  CollectionConfig next = *config_;
  if (next.payload_indexes.erase(std::string(field)) == 0) {
    return Status::Ok();  // as in Qdrant: deleting a missing index is not an error
  }
  TESSERA_RETURN_IF_ERROR(WriteFileAtomically(dir_ / kConfigFile, EncodeCollectionConfig(next)));
  config_ = std::make_shared<const CollectionConfig>(std::move(next));
  return Status::Ok();
}

namespace {
// The numeric value of a payload value for ordering: numbers, and datetimes as microseconds.
std::optional<double> OrderValue(const json::value& v) {
  if (v.is_number()) {
    return v.to_number<double>();
  }
  if (v.is_string()) {
    if (auto micros = ParseDatetimeMicros(v.get_string())) {
      return static_cast<double>(*micros);
    }
  }
  return std::nullopt;
}
}  // namespace

Result<std::vector<PointRecord>> Collection::ScrollOrdered(const OrderBy& order, size_t limit,
                                                           PointFilter filter, bool with_payload,
                                                           bool with_vectors) const {
  const CollectionConfig c = config();
  auto index = c.payload_indexes.find(order.key);
  if (index == c.payload_indexes.end() || !index->second.IsRange()) {
    return Status::InvalidArgument(
        "Bad request: No range index for `order_by` key: `" + order.key +
        "`. Please create one to use `order_by`. Check "
        "https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which "
        "payload schemas support Range conditions");
  }
  struct Item {
    double value;
    PointId id;
    size_t segment;
    Offset offset;
  };
  std::vector<Item> items;
  std::shared_lock state(state_mu_);
  for (size_t i = 0; i < segments_.size(); ++i) {
    const Segment& s = *segments_[i];
    for (Offset o = 0; o < s.size(); ++o) {
      if (s.deleted(o) || !Accepts(filter, s, o)) {
        continue;
      }
      std::optional<double> best;
      for (const json::value* v : ValuesAt(s.payload(o), order.key)) {
        if (auto x = OrderValue(*v)) {
          best = !best ? *x : order.descending ? std::max(*best, *x) : std::min(*best, *x);
        }
      }
      if (best && (!order.start_from ||
                   (order.descending ? *best <= *order.start_from : *best >= *order.start_from))) {
        items.push_back({*best, s.point_id(o), i, o});
      }
    }
  }
  std::sort(items.begin(), items.end(), [&](const Item& a, const Item& b) {
    if (a.value != b.value) {
      return order.descending ? a.value > b.value : a.value < b.value;
    }
    return a.id < b.id;
  });
  std::vector<PointRecord> out;
  for (size_t i = 0; i < std::min(limit, items.size()); ++i) {
    out.push_back(
        MakeRecord(*segments_[items[i].segment], items[i].offset, with_payload, with_vectors));
    out.back().order_value = items[i].value;
  }
  return out;
}

OptimizationStatus Collection::Optimizations() const {
  OptimizationStatus status;
  {
    std::lock_guard lock(optimizing_mu_);
    status.running = optimizing_segment_;
    status.running_since = optimizing_since_;
  }
  std::shared_lock state(state_mu_);
  for (size_t i = 0; i < segments_.size(); ++i) {
    const Segment& s = *segments_[i];
    const OptimizationStatus::SegmentInfo info{s.id(), s.live_count()};
    if (status.running && status.running->id == s.id()) {
      continue;
    }
    const bool appendable = i + 1 == segments_.size() && !s.sealed();
    const bool pending =
        appendable ? AppendableFullLocked() : !s.specs().empty() && !s.has_graph(0);
    (pending ? status.queued : status.idle).push_back(info);
  }
  return status;
}

CollectionInfo Collection::Info() const {
  CollectionInfo info;
  info.config = config();
  std::shared_lock state(state_mu_);
  for (const auto& [field, index] : info.config.payload_indexes) {
    PayloadSchemaInfo& schema = info.payload_schema[field];
    schema.index = index;
    for (const auto& s : segments_) {
      for (Offset o = 0; o < s->size(); ++o) {
        if (!s->deleted(o)) {
          const auto values = ValuesAt(s->payload(o), field);
          schema.points += std::any_of(values.begin(), values.end(),
                                       [](const json::value* v) { return !v->is_null(); });
        }
      }
    }
  }
  bool pending_index = false;
  for (const auto& s : segments_) {
    info.points_count += s->live_count();
    info.indexed_vectors_count += s->indexed_vectors();
    pending_index = pending_index || (s->sealed() && !s->specs().empty() && !s->has_graph(0));
  }
  info.segments_count = segments_.size();
  info.status = pending_index || optimizing_ ? CollectionStatus::kYellow : CollectionStatus::kGreen;
  return info;
}

}  // namespace tessera::engine

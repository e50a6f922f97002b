#include "engine/flusher.h"

#include <algorithm>
#include <condition_variable>
#include <set>

#include "common/file.h"
#include "common/logging.h"

namespace tessera::engine {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

Flusher::Flusher(std::string name, fs::path segments_dir, SegmentSet& segments, wal::Log& wal,
                 std::function<SeqNo()> applied_seq, const Manifest& recovered, Options options)
    : name_(std::move(name)),
      dir_(std::move(segments_dir)),
      segments_(segments),
      wal_(wal),
      applied_seq_(std::move(applied_seq)),
      options_(options),
      manifest_(recovered),
      persisted_seq_(recovered.persisted_seq) {
  std::shared_lock state(segments_.mu());
  const auto& loaded = segments_.segments();
  for (size_t i = 0; i < recovered.segments.size() && i < loaded.size(); ++i) {
    // Generation 0: the segment as its files hold it (replay since then moved it on).
    durable_[loaded[i]->id()] = DurableFiles{recovered.segments[i], 0, 0};
    for (std::string& g : loaded[i]->graph_files()) {
      manifest_graphs_.push_back(std::move(g));
    }
  }
}

Flusher::~Flusher() {
  Stop();
}

void Flusher::Start() {
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void Flusher::Stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

Status Flusher::health() const {
  if (!failed_.load(std::memory_order_acquire)) {
    return Status::Ok();
  }
  std::lock_guard lock(failure_mu_);
  return failure_;
}

Status Flusher::Flush() {
  std::lock_guard flush_lock(flush_mu_);
  Status s = FlushLocked();
  if (s.ok()) {
    failures_ = 0;
    return s;
  }
  ++failures_;
  TESSERA_LOG(kError) << "collection " << name_ << ": flush failed (" << failures_
                      << " in a row): " << s.ToString();
  if (failures_ >= options_.failures_before_latch && !failed_.load()) {
    {
      std::lock_guard lock(failure_mu_);
      failure_ = Status::Unavailable("flush failed " + std::to_string(failures_) +
                                     " times in a row: " + s.message());
    }
    failed_.store(true, std::memory_order_release);
    TESSERA_LOG(kError) << "collection " << name_
                        << ": writes refused until it is opened again (the WAL keeps them)";
  }
  return s;
}

Status Flusher::WithFlushed(const std::function<Status(const Manifest&)>& fn) {
  std::lock_guard flush_lock(flush_mu_);
  TESSERA_RETURN_IF_ERROR(FlushLocked());
  return fn(manifest_);
}

Status Flusher::FlushLocked() {
  Manifest manifest;
  struct Pending {
    uint64_t segment_id;
    SegmentFiles files;
    bool write_body = false;
    Segment::Image image;
  };
  std::vector<Pending> pending;
  std::vector<uint64_t> ids;
  std::vector<std::shared_ptr<const Segment>> listed;  // the manifest's segments
  {
    std::shared_lock state(segments_.mu());
    manifest.persisted_seq = applied_seq_();
    manifest.next_segment_id = segments_.next_segment_id();
    const auto& segments = segments_.segments();
    bool unchanged = manifest.persisted_seq == manifest_.persisted_seq &&
                     manifest_.segments.size() == segments.size();
    for (const auto& s : segments) {
      auto it = durable_.find(s->id());
      unchanged = unchanged && it != durable_.end() && it->second.generation == s->generation();
    }
    if (unchanged) {
      return Status::Ok();
    }
    const std::string suffix = "-" + std::to_string(manifest.persisted_seq);
    for (const auto& s : segments) {
      ids.push_back(s->id());
      listed.push_back(s);
      auto it = durable_.find(s->id());
      if (it != durable_.end() && it->second.generation == s->generation()) {
        manifest.segments.push_back(it->second.files);
        continue;
      }
      Pending p{s->id(), {}, true, Segment::TakeImage(s)};
      const std::string stem = "segment-" + std::to_string(s->id()) + suffix;
      // Only versions and tombstones changed (a delete from a sealed segment): the body file
      // stays. A body of format version 1 (no versions file yet) is written anew.
      if (it != durable_.end() && it->second.body_generation == s->body_generation() &&
          !it->second.files.versions.empty()) {
        p.files.body = it->second.files.body;
        p.write_body = false;
      } else {
        p.files.body = stem + ".bin";
      }
      p.files.versions = stem + ".ver";
      manifest.segments.push_back(p.files);
      pending.push_back(std::move(p));
    }
  }
  // No lock the update worker or readers wait on is held from here on.
  for (const Pending& p : pending) {
    if (p.write_body) {
      TESSERA_ASSIGN_OR_RETURN(std::string bytes, Segment::Serialize(p.image, dir_));
      TESSERA_RETURN_IF_ERROR(WriteFileAtomically(dir_ / p.files.body, bytes));
    }
    TESSERA_RETURN_IF_ERROR(
        WriteFileAtomically(dir_ / p.files.versions, Segment::SerializeVersions(p.image)));
  }
  TESSERA_RETURN_IF_ERROR(WriteManifest(dir_, manifest));
  for (Pending& p : pending) {
    durable_[p.segment_id] =
        DurableFiles{std::move(p.files), p.image.generation, p.image.body_generation};
  }
  std::erase_if(durable_, [&](const auto& kv) {
    return std::find(ids.begin(), ids.end(), kv.first) == ids.end();
  });
  manifest_ = manifest;
  // The graphs its bodies name (Serialize above named those of the bodies just written; only
  // this thread writes a segment's graph names).
  manifest_graphs_.clear();
  for (const auto& s : listed) {
    for (std::string& g : s->graph_files()) {
      manifest_graphs_.push_back(std::move(g));
    }
  }
  persisted_seq_ = manifest.persisted_seq;
  // The manifest is durable: older segment files and WAL records below it can go.
  RemoveUnreferencedLocked(manifest.files());
  return wal_.TruncateBelow(manifest.persisted_seq + 1);
}

void Flusher::RemoveUnreferenced() {
  std::lock_guard flush_lock(flush_mu_);
  RemoveUnreferencedLocked(manifest_.files());
}

void Flusher::RemoveUnreferencedLocked(const std::vector<std::string>& files) {
  std::set<std::string> keep(files.begin(), files.end());
  keep.insert(kManifestFile);
  keep.insert(manifest_graphs_.begin(), manifest_graphs_.end());
  {
    std::shared_lock state(segments_.mu());
    for (const auto& s : segments_.segments()) {
      for (const std::string& g : s->graph_files()) {
        keep.insert(g);
      }
    }
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (!keep.contains(name) &&
        (name.ends_with(".bin") || name.ends_with(".ver") || name.ends_with(".hnsw") ||
         name.ends_with(".tmp"))) {
      fs::remove(entry.path(), ec);
    }
  }
}

void Flusher::Run(std::stop_token stop) {
  auto next_sync = Clock::now() + options_.wal_sync_interval;
  auto next_flush = Clock::now() + options_.flush_interval;
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
      if (Status s = wal_.Sync(wal_.last_seq()); !s.ok()) {
        TESSERA_LOG(kError) << "collection " << name_ << ": " << s.message();
      }
      next_sync = now + options_.wal_sync_interval;
    }
    if (now >= next_flush) {
      // Flush() logs a failure; it is retried after at most a second.
      const bool ok = Flush().ok();
      next_flush = Clock::now() + (ok ? options_.flush_interval
                                      : std::min<Clock::duration>(options_.flush_interval,
                                                                  std::chrono::seconds(1)));
    }
  }
}

}  // namespace tessera::engine

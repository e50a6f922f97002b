#include "engine/optimizer.h"

#include <algorithm>
#include <ctime>

#include "common/logging.h"
#include "common/memory.h"

namespace tessera::engine {

using Clock = std::chrono::steady_clock;

bool AppendableFull(const Segment& appendable, const CollectionConfig& c) {
  if (c.optimizers.indexing_threshold == 0 || c.hnsw.m == 0 || c.vectors.empty()) {
    return false;
  }
  uint64_t floats = 0;
  for (const auto& [name, params] : c.vectors) {
    floats += params.size;
  }
  const uint64_t kb = appendable.size() * floats * sizeof(float) / 1024;
  return kb >= c.optimizers.indexing_threshold;
}

bool NeedsIndexing(const Segment& segment) {
  return segment.sealed() && segment.needs_graphs();
}

Optimizer::Optimizer(std::string name, SegmentSet& segments, const SharedConfig& config,
                     size_t indexing_threads)
    : name_(std::move(name)),
      segments_(segments),
      config_(config),
      indexing_threads_(indexing_threads > 0 ? indexing_threads
                                             : std::max(1u, std::thread::hardware_concurrency())) {}

Optimizer::~Optimizer() {
  Stop();
}

void Optimizer::Start() {
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void Optimizer::Stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

std::shared_ptr<Segment> Optimizer::NextToIndex() const {
  for (const auto& s : segments_.segments()) {
    if (NeedsIndexing(*s)) {
      return s;
    }
  }
  return nullptr;
}

void Optimizer::Run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    std::shared_ptr<Segment> frozen;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, stop, std::chrono::seconds(1), [&] {
        std::shared_lock state(segments_.mu());
        frozen = NextToIndex();
        return frozen != nullptr;
      });
    }
    if (frozen == nullptr || stop.stop_requested()) {
      continue;
    }
    if (Status s = IndexSegment(std::move(frozen)); !s.ok()) {
      TESSERA_LOG(kError) << "collection " << name_ << ": indexing failed: " << s.ToString();
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, stop, std::chrono::seconds(10), [] { return false; });
    }
  }
}

Status Optimizer::OptimizeNow() {
  {
    std::unique_lock state(segments_.mu());
    if (segments_.appendable().size() > 0) {
      segments_.SealAppendable();
    }
  }
  for (;;) {
    std::shared_ptr<Segment> frozen;
    {
      std::shared_lock state(segments_.mu());
      frozen = NextToIndex();
    }
    if (frozen == nullptr) {
      return Status::Ok();
    }
    TESSERA_RETURN_IF_ERROR(IndexSegment(std::move(frozen)));
  }
}

Status Optimizer::IndexSegment(std::shared_ptr<Segment> frozen) {
  running_ = true;
  size_t live = 0;
  {
    std::shared_lock state(segments_.mu());  // the update worker still tombstones `frozen`
    live = frozen->live_count();
  }
  {
    std::lock_guard lock(status_mu_);
    running_segment_ = OptimizationStatus::SegmentInfo{frozen->id(), live};
    running_since_ = std::chrono::system_clock::now();
  }
  struct Reset {
    Optimizer* o;
    ~Reset() {
      std::lock_guard lock(o->status_mu_);
      o->running_segment_.reset();
      o->running_ = false;
    }
  } reset{this};
  const std::shared_ptr<const CollectionConfig> config = config_.get();
  std::shared_ptr<Segment> copy;
  {
    // A vacuumed copy: live points only. (Exclusive: AllocateId; the copy is a read.)
    std::unique_lock state(segments_.mu());
    copy = std::make_shared<Segment>(segments_.AllocateId(), frozen->specs());
    copy->Reserve(frozen->live_count());  // one allocation per column, no growth slack
    for (Offset o = 0; o < frozen->size(); ++o) {
      if (!frozen->deleted(o)) {
        copy->Put(frozen->point_id(o), frozen->version(o), frozen->vectors_of(o),
                  frozen->payload(o));
      }
    }
  }
  copy->Seal();
  index::HnswParams params{.m = config->hnsw.m, .ef_construct = config->hnsw.ef_construct};
  const auto started = Clock::now();
  const std::clock_t cpu_started = std::clock();  // the whole process's CPU time
  TESSERA_RETURN_IF_ERROR(copy->BuildGraphs(params, indexing_threads_));
  const double build_cpu_s = static_cast<double>(std::clock() - cpu_started) / CLOCKS_PER_SEC;
  {
    std::unique_lock state(segments_.mu());
    // Points deleted from, or moved out of, the frozen segment during the build.
    for (Offset o = 0; o < copy->size(); ++o) {
      const auto f = frozen->Find(copy->point_id(o));
      if (f && frozen->deleted(*f)) {
        copy->Delete(o, frozen->version(*f));
      }
    }
    if (!segments_.Replace(frozen, copy)) {
      return Status::Ok();
    }
  }
  ++graphs_built_;
  frozen.reset();  // the last reference but a search's: its points now live in the copy
  ReleaseFreeMemory();
  TESSERA_LOG(kInfo)
      << "collection " << name_ << ": indexed segment " << copy->id() << " (" << copy->live_count()
      << " points) in "
      << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()
      << " ms (process CPU during the build " << build_cpu_s << " s, " << indexing_threads_
      << " threads)";
  return Status::Ok();
}

OptimizationStatus Optimizer::Optimizations() const {
  OptimizationStatus status;
  {
    std::lock_guard lock(status_mu_);
    status.running = running_segment_;
    status.running_since = running_since_;
  }
  const std::shared_ptr<const CollectionConfig> config = config_.get();
  std::shared_lock state(segments_.mu());
  const auto& segments = segments_.segments();
  for (size_t i = 0; i < segments.size(); ++i) {
    const Segment& s = *segments[i];
    const OptimizationStatus::SegmentInfo info{s.id(), s.live_count()};
    if (status.running && status.running->id == s.id()) {
      continue;
    }
    const bool appendable = i + 1 == segments.size() && !s.sealed();
    const bool pending = appendable ? AppendableFull(s, *config) : NeedsIndexing(s);
    (pending ? status.queued : status.idle).push_back(info);
  }
  return status;
}

}  // namespace tessera::engine

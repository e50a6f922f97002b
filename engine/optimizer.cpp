#include "engine/optimizer.h"

#include <algorithm>
#include <ctime>
#include <string>
#include <tuple>
#include <vector>

#include "common/logging.h"
#include "common/memory.h"
#include "engine/indexed_filter.h"

namespace tessera::engine {

using Clock = std::chrono::steady_clock;

namespace {

constexpr uint64_t kMaxSegmentKbPerThread = 256'000;  // Qdrant's default, per indexing thread
constexpr size_t kCopyChunk = 4096;  // offsets copied per hold of the segment lock

std::string_view ToName(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kVacuum:
      return "vacuum";
    case OptimizerKind::kIndexing:
      return "indexing";
    case OptimizerKind::kMerge:
      return "merge";
    case OptimizerKind::kConfigMismatch:
      return "config mismatch";
  }
  return "indexing";
}

// The payload indexes declared `is_tenant: true` (keyword, uuid) or `is_principal: true`
// (integer, float, datetime), by field name: the keys a copy is ordered by.
std::vector<std::string> DefragmentKeys(const CollectionConfig& config) {
  std::vector<std::string> keys;
  for (const auto& [field, info] : config.payload_indexes) {
    // Qdrant has each flag on those types only (elsewhere serde ignores it).
    const bool tenant_type =
        info.type == PayloadSchemaType::kKeyword || info.type == PayloadSchemaType::kUuid;
    const boost::json::value* v =
        info.params.if_contains(tenant_type ? "is_tenant" : "is_principal");
    if (v != nullptr && v->is_bool() && v->as_bool() && (tenant_type || info.IsRange())) {
      keys.push_back(field);
    }
  }
  return keys;
}

// A point's place in a defragmented copy: per key, its smallest value (numbers before strings;
// points without a value last).
using DefragmentKey = std::vector<std::tuple<int, double, std::string>>;

DefragmentKey DefragmentKeyOf(const boost::json::object& payload,
                              const std::vector<std::string>& keys) {
  DefragmentKey out;
  for (const std::string& key : keys) {
    std::tuple<int, double, std::string> best{2, 0.0, {}};
    for (const boost::json::value* v : ValuesAt(payload, key)) {
      std::tuple<int, double, std::string> k{2, 0.0, {}};
      if (v->is_number()) {
        k = {0, v->to_number<double>(), {}};
      } else if (v->is_string()) {
        k = {1, 0.0, std::string(v->get_string())};
      } else {
        continue;
      }
      best = std::min(best, k);
    }
    out.push_back(std::move(best));
  }
  return out;
}
}  // namespace

std::string_view OptimizerName(OptimizerKind kind) {
  return ToName(kind);
}

namespace {

// The dense vector bytes the appendable segment holds (its offsets x the vectors' floats); 0
// when indexing is off (indexing_threshold 0, or no dense vector the config gives a graph).
uint64_t IndexableBytes(const Segment& appendable, const CollectionConfig& c) {
  if (c.optimizers.indexing_threshold == 0) {
    return 0;
  }
  uint64_t floats = 0;
  bool graphs = false;
  for (const auto& [name, params] : c.vectors) {
    floats += params.size;
    graphs = graphs || (!params.multivector && HnswFor(c, name).m > 0);
  }
  return graphs ? appendable.size() * floats * sizeof(float) : 0;
}

}  // namespace

bool AppendableFull(const Segment& appendable, const CollectionConfig& c) {
  const uint64_t bytes = IndexableBytes(appendable, c);
  // In bytes, as Qdrant compares them: indexing_threshold 1 seals 1 KB of vectors.
  return bytes > 0 && bytes >= c.optimizers.indexing_threshold * 1024;
}

bool AppendableWorthIndexing(const Segment& appendable, const CollectionConfig& c) {
  const uint64_t bytes = IndexableBytes(appendable, c);
  return bytes > 0 && bytes >= c.optimizers.indexing_threshold * 1024 / kQuietTailFraction;
}

std::vector<index::HnswParams> GraphParamsFor(const Segment& segment,
                                              const CollectionConfig& config) {
  std::vector<index::HnswParams> params(segment.specs().size(), index::HnswParams{.m = 0});
  for (size_t v = 0; v < params.size(); ++v) {
    const VectorSpec& spec = segment.specs()[v];
    if (spec.kind == VectorKind::kDense) {
      const HnswConfig hnsw = HnswFor(config, spec.name);
      params[v].m = hnsw.m;
      params[v].ef_construct = hnsw.ef_construct;
    }
  }
  return params;
}

bool NeedsIndexing(const Segment& segment, const CollectionConfig& config) {
  if (!segment.sealed()) {
    return false;
  }
  const std::vector<index::HnswParams> params = GraphParamsFor(segment, config);
  for (size_t v = 0; v < params.size(); ++v) {
    if (params[v].m > 0 && !segment.has_graph(v)) {
      return true;
    }
  }
  return false;
}

bool GraphsMismatch(const Segment& segment, const CollectionConfig& config) {
  if (!segment.sealed()) {
    return false;
  }
  const std::vector<index::HnswParams> params = GraphParamsFor(segment, config);
  for (size_t v = 0; v < params.size(); ++v) {
    const index::HnswGraph* g = segment.graph(v);
    if (g != nullptr && (params[v].m == 0 || g->m() != params[v].m ||
                         (g->ef_construct() != 0 && g->ef_construct() != params[v].ef_construct))) {
      return true;
    }
  }
  return false;
}

SegmentFacts FactsOf(const Segment& s, bool appendable, const CollectionConfig& config) {
  SegmentFacts f;
  f.id = s.id();
  f.live = s.live_count();
  f.deleted = s.size() - f.live;
  // The storages' bytes, in the share of live offsets (dense rows are all the same size).
  f.bytes = s.size() == 0 ? 0 : s.column_bytes() * f.live / s.size();
  f.appendable = appendable;
  f.indexed = s.sealed() && !NeedsIndexing(s, config);
  f.mismatch = GraphsMismatch(s, config);
  return f;
}

OptimizerThresholds OptimizerThresholdsFor(const CollectionConfig& config, size_t indexing_threads,
                                           size_t cpus) {
  OptimizerThresholds t;
  const OptimizersConfig& o = config.optimizers;
  t.segment_number = o.default_segment_number > 0
                         ? static_cast<size_t>(o.default_segment_number)
                         : std::clamp<size_t>(cpus / 2, 2, 8);
  const uint64_t kb = o.max_segment_size.value_or(std::max<size_t>(indexing_threads, 1) *
                                                  kMaxSegmentKbPerThread);
  t.max_segment_bytes = kb > UINT64_MAX / 1024 ? UINT64_MAX : kb * 1024;
  t.deleted_threshold = o.deleted_threshold;
  t.vacuum_min_vectors = o.vacuum_min_vector_number;
  return t;
}

std::vector<PlannedOptimization> PlanOptimizations(std::span<const SegmentFacts> segments,
                                                   const OptimizerThresholds& t) {
  std::vector<PlannedOptimization> plans;
  std::vector<const SegmentFacts*> open;  // sealed segments in no plan yet
  for (const SegmentFacts& s : segments) {
    if (!s.appendable) {
      open.push_back(&s);
    }
  }
  size_t expected = open.size();  // sealed segments once the plans so far have run
  auto take = [&](const SegmentFacts* s) { std::erase(open, s); };
  auto by_size = [](const SegmentFacts* a, const SegmentFacts* b) {
    return a->bytes != b->bytes ? a->bytes < b->bytes : a->id < b->id;
  };

  // Vacuum: the most littered first.
  std::vector<std::pair<double, const SegmentFacts*>> littered;
  for (const SegmentFacts* s : open) {
    const uint64_t total = s->live + s->deleted;
    const double ratio = total == 0 ? 0 : static_cast<double>(s->deleted) / total;
    if (s->deleted >= t.vacuum_min_vectors && ratio > t.deleted_threshold) {
      littered.emplace_back(ratio, s);
    }
  }
  std::stable_sort(littered.begin(), littered.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [ratio, s] : littered) {
    plans.push_back({OptimizerKind::kVacuum, {s->id}});
    take(s);
  }

  // Config mismatch: each segment rebuilt alone, the largest first (as Qdrant's).
  std::vector<const SegmentFacts*> mismatched;
  for (const SegmentFacts* s : open) {
    if (s->mismatch) {
      mismatched.push_back(s);
    }
  }
  std::stable_sort(mismatched.begin(), mismatched.end(),
                   [](const SegmentFacts* a, const SegmentFacts* b) { return a->bytes > b->bytes; });
  for (const SegmentFacts* s : mismatched) {
    plans.push_back({OptimizerKind::kConfigMismatch, {s->id}});
    take(s);
  }

  // Indexing: the largest unindexed segment first, merged on the way with the smallest
  // unindexed ones, or an indexed one, that fit when there are enough segments already.
  std::vector<const SegmentFacts*> unindexed, indexed;
  for (const SegmentFacts* s : open) {
    (s->indexed ? indexed : unindexed).push_back(s);
  }
  std::sort(unindexed.begin(), unindexed.end(), by_size);
  std::sort(indexed.begin(), indexed.end(), by_size);
  while (!unindexed.empty()) {
    const SegmentFacts* selected = unindexed.back();
    unindexed.pop_back();
    take(selected);
    PlannedOptimization plan{OptimizerKind::kIndexing, {selected->id}};
    // Over the target, the smallest unindexed segments join it while they fit (a bulk upload's
    // sealed segments become one graph build, not pairwise builds and then merges), then at
    // most one indexed segment, whose graph the build grows from.
    uint64_t bytes = selected->bytes;
    bool took_indexed = false;
    while (expected > t.segment_number) {
      if (!unindexed.empty() && bytes + unindexed.front()->bytes < t.max_segment_bytes) {
        bytes += unindexed.front()->bytes;
        plan.segments.push_back(unindexed.front()->id);
        take(unindexed.front());
        unindexed.erase(unindexed.begin());
      } else if (!took_indexed && !indexed.empty() &&
                 bytes + indexed.front()->bytes < t.max_segment_bytes) {
        bytes += indexed.front()->bytes;
        plan.segments.push_back(indexed.front()->id);
        take(indexed.front());
        indexed.erase(indexed.begin());
        took_indexed = true;
      } else {
        break;
      }
      --expected;
    }
    plans.push_back(std::move(plan));
  }

  // Merge: the smallest indexed segments, as many as bring the count to the target and fit.
  while (expected > t.segment_number && indexed.size() >= 2) {
    const size_t want = expected - t.segment_number + 1;
    std::vector<uint64_t> batch;
    uint64_t sum = 0;
    size_t n = 0;
    while (n < indexed.size() && batch.size() < want && sum + indexed[n]->bytes < t.max_segment_bytes) {
      sum += indexed[n]->bytes;
      batch.push_back(indexed[n]->id);
      ++n;
    }
    if (batch.size() < 2) {
      break;
    }
    for (size_t i = 0; i < n; ++i) {
      take(indexed[i]);
    }
    indexed.erase(indexed.begin(), indexed.begin() + static_cast<std::ptrdiff_t>(n));
    expected -= batch.size() - 1;
    plans.push_back({OptimizerKind::kMerge, std::move(batch)});
  }
  return plans;
}

Optimizer::Optimizer(std::string name, SegmentSet& segments, const SharedConfig& config,
                     size_t indexing_threads, std::chrono::milliseconds quiet_period)
    : name_(std::move(name)),
      segments_(segments),
      config_(config),
      indexing_threads_(indexing_threads > 0 ? indexing_threads
                                             : std::max(1u, std::thread::hardware_concurrency())),
      cpus_(std::max(1u, std::thread::hardware_concurrency())),
      quiet_period_(quiet_period) {}

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

OptimizerThresholds Optimizer::thresholds() const {
  return OptimizerThresholdsFor(*config_.get(), indexing_threads_, cpus_);
}

std::vector<PlannedOptimization> Optimizer::Plan(const CollectionConfig& config) const {
  const auto& segments = segments_.segments();
  std::vector<SegmentFacts> facts;
  facts.reserve(segments.size());
  for (size_t i = 0; i < segments.size(); ++i) {
    facts.push_back(
        FactsOf(*segments[i], i + 1 == segments.size() && !segments[i]->sealed(), config));
  }
  return PlanOptimizations(facts, OptimizerThresholdsFor(config, indexing_threads_, cpus_));
}

bool Optimizer::pending() const {
  const std::shared_ptr<const CollectionConfig> config = config_.get();
  std::shared_lock state(segments_.mu());
  // A tail worth indexing counts from the start: it will be indexed once writes go quiet.
  return AppendableWorthIndexing(segments_.appendable(), *config) || !Plan(*config).empty();
}

bool Optimizer::SealDue(const CollectionConfig& config) {
  const Segment& appendable = segments_.appendable();
  if (AppendableFull(appendable, config)) {
    return true;
  }
  const auto now = Clock::now();
  if (appendable.id() != seen_id_ || appendable.generation() != seen_generation_) {
    seen_id_ = appendable.id();
    seen_generation_ = appendable.generation();
    seen_since_ = now;
    return false;
  }
  return now - seen_since_ >= quiet_period_ && AppendableWorthIndexing(appendable, config);
}

void Optimizer::SealIfDue() {
  const std::shared_ptr<const CollectionConfig> config = config_.get();
  std::lock_guard lock(mu_);
  {
    std::shared_lock state(segments_.mu());
    if (!SealDue(*config)) {
      return;
    }
  }
  std::unique_lock state(segments_.mu());
  if (SealDue(*config)) {  // unchanged meanwhile
    segments_.SealAppendable();
  }
}

void Optimizer::Run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    std::optional<PlannedOptimization> next;
    {
      std::unique_lock lock(mu_);
      // Often enough to seal a quiet tail soon after its quiet period (SealDue).
      const auto poll = std::clamp<std::chrono::milliseconds>(
          quiet_period_ / 4, std::chrono::milliseconds(10), std::chrono::seconds(1));
      cv_.wait_for(lock, stop, poll, [&] {
        const std::shared_ptr<const CollectionConfig> config = config_.get();
        if (config->optimizers.max_optimization_threads == uint64_t{0}) {
          return false;  // optimizations disabled
        }
        std::shared_lock state(segments_.mu());
        if (SealDue(*config)) {
          return true;
        }
        std::vector<PlannedOptimization> plans = Plan(*config);
        if (!plans.empty()) {
          next = std::move(plans.front());
        }
        return next.has_value();
      });
    }
    if (stop.stop_requested()) {
      return;
    }
    SealIfDue();
    if (!next) {
      continue;  // sealed: plan again
    }
    if (Status s = Execute(*next); !s.ok()) {
      TESSERA_LOG(kError) << "collection " << name_ << ": " << OptimizerName(next->kind)
                          << " failed: " << s.ToString();
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
    std::vector<PlannedOptimization> plans;
    {
      const std::shared_ptr<const CollectionConfig> config = config_.get();
      std::shared_lock state(segments_.mu());
      plans = Plan(*config);
    }
    if (plans.empty()) {
      return Status::Ok();
    }
    TESSERA_RETURN_IF_ERROR(Execute(plans.front()));
  }
}

Status Optimizer::Execute(const PlannedOptimization& plan) {
  std::vector<std::shared_ptr<Segment>> sources;
  uint64_t copy_id = 0;
  OptimizationStatus::Task task{plan.kind, {}};
  {
    std::unique_lock state(segments_.mu());  // exclusive for AllocateId only
    const auto& segments = segments_.segments();
    for (uint64_t id : plan.segments) {
      auto it = std::find_if(segments.begin(), segments.end(),
                             [&](const auto& s) { return s->id() == id && s->sealed(); });
      if (it == segments.end()) {
        return Status::Ok();  // replaced meanwhile: plan again
      }
      if ((*it)->specs() != segments.front()->specs()) {
        return Status::FailedPrecondition("segments " + std::to_string(segments.front()->id()) +
                                          " and " + std::to_string(id) +
                                          " hold different vectors");
      }
      sources.push_back(*it);
      task.segments.push_back({id, (*it)->live_count()});
    }
    if (sources.empty()) {
      return Status::Ok();
    }
    copy_id = segments_.AllocateId();
  }
  running_ = true;
  {
    std::lock_guard lock(status_mu_);
    running_task_ = task;
    running_since_ = std::chrono::system_clock::now();
  }
  struct Reset {
    Optimizer* o;
    ~Reset() {
      std::lock_guard lock(o->status_mu_);
      o->running_task_.reset();
      o->running_ = false;
    }
  } reset{this};
  const std::shared_ptr<const CollectionConfig> config = config_.get();
  const auto started = Clock::now();

  // A vacuumed copy: live points only, a chunk of offsets per hold of the lock (shared: the
  // sources are sealed, only tombstones change, and those made meanwhile are applied below).
  auto copy = std::make_shared<Segment>(copy_id, sources.front()->specs());
  struct Origin {
    uint32_t source;
    Offset offset;
  };
  std::vector<Origin> origin;  // copy offset -> where the point came from
  {
    size_t live = 0;
    std::shared_lock state(segments_.mu());
    for (const auto& s : sources) {
      live += s->live_count();
    }
    copy->Reserve(live);  // one allocation per column, no growth slack
    origin.reserve(live);
  }
  // Qdrant's defragmentation: with payload indexes declared `is_tenant` or `is_principal`, the
  // copy holds its points in the order of those fields' values (DefragmentKeyOf), so that one
  // tenant's points, or a principal range's, are neighbouring rows; otherwise in source order.
  const std::vector<std::string> keys = DefragmentKeys(*config);
  std::vector<DefragmentKey> sort_keys;
  for (uint32_t i = 0; i < sources.size(); ++i) {
    const Segment& source = *sources[i];
    const size_t size = source.size();  // a sealed segment's offsets do not grow
    for (size_t begin = 0; begin < size; begin += kCopyChunk) {
      std::shared_lock state(segments_.mu());
      for (size_t o = begin; o < std::min(size, begin + kCopyChunk); ++o) {
        const auto off = static_cast<Offset>(o);
        if (!source.deleted(off)) {
          origin.push_back({i, off});
          if (!keys.empty()) {
            sort_keys.push_back(DefragmentKeyOf(source.payload(off), keys));
          }
        }
      }
    }
  }
  if (!keys.empty()) {
    std::vector<size_t> rank(origin.size());
    for (size_t r = 0; r < rank.size(); ++r) {
      rank[r] = r;
    }
    std::stable_sort(rank.begin(), rank.end(),
                     [&](size_t a, size_t b) { return sort_keys[a] < sort_keys[b]; });
    std::vector<Origin> sorted;
    sorted.reserve(origin.size());
    for (size_t r : rank) {
      sorted.push_back(origin[r]);
    }
    origin = std::move(sorted);
  }
  // Copy offset o is origin[o]. Points deleted since they were listed are copied all the same:
  // the tombstones made during the build are applied to the copy below.
  for (size_t begin = 0; begin < origin.size(); begin += kCopyChunk) {
    std::shared_lock state(segments_.mu());
    for (size_t k = begin; k < std::min(origin.size(), begin + kCopyChunk); ++k) {
      const Segment& source = *sources[origin[k].source];
      const Offset off = origin[k].offset;
      copy->Put(source.point_id(off), source.version(off), source.vectors_of(off),
                source.payload(off));
    }
  }
  copy->Seal();
  const std::vector<index::HnswParams> params = GraphParamsFor(*copy, *config);
  const std::clock_t cpu_started = std::clock();  // the whole process's CPU time
  const bool builds = std::any_of(params.begin(), params.end(),
                                  [](const index::HnswParams& p) { return p.m > 0; });
  // hnsw_config.max_indexing_threads, when set, bounds a build's threads (Qdrant's).
  const size_t threads = config->hnsw.max_indexing_threads > 0
                             ? static_cast<size_t>(config->hnsw.max_indexing_threads)
                             : indexing_threads_;
  index::HnswBuildStats stats;
  if (builds) {
    // Each graph grows from the largest source graph built with these parameters (Qdrant
    // 1.14's incremental HNSW): its nodes are renumbered to the copy's offsets; the rest are
    // inserted. A graph of another m or ef_construct is not grown from (a config-mismatch
    // rebuild starts from nothing).
    std::vector<index::HnswSeed> seeds(copy->specs().size());
    for (size_t v = 0; v < seeds.size(); ++v) {
      size_t best = sources.size();
      for (size_t i = 0; i < sources.size(); ++i) {
        const index::HnswGraph* g = sources[i]->graph(v);
        if (g != nullptr && params[v].m > 0 && g->m() == params[v].m &&
            (g->ef_construct() == 0 || g->ef_construct() == params[v].ef_construct) &&
            (best == sources.size() || g->size() > sources[best]->graph(v)->size())) {
          best = i;
        }
      }
      if (best == sources.size()) {
        continue;
      }
      seeds[v].graph = sources[best]->graph(v);
      seeds[v].row_of.assign(seeds[v].graph->rows(), index::HnswSeed::kNoRow);
      for (Offset o = 0; o < origin.size(); ++o) {
        if (origin[o].source == best && origin[o].offset < seeds[v].row_of.size()) {
          seeds[v].row_of[origin[o].offset] = o;
        }
      }
    }
    TESSERA_RETURN_IF_ERROR(copy->BuildGraphs(params, threads, seeds, &stats));
  }
  // Its payload indexes too, before anyone can search it (writes never reach a sealed
  // segment's payloads, so they stay exact; tombstones do not touch them).
  BuildDeclaredIndexes(*copy, *config);
  const double build_cpu_s = static_cast<double>(std::clock() - cpu_started) / CLOCKS_PER_SEC;
  {
    std::unique_lock state(segments_.mu());
    // Points deleted from, or moved out of, a source during the build.
    for (Offset o = 0; o < origin.size(); ++o) {
      const Segment& source = *sources[origin[o].source];
      if (source.deleted(origin[o].offset)) {
        copy->Delete(o, source.version(origin[o].offset));
      }
    }
    if (!segments_.Replace(sources, copy)) {
      return Status::Ok();
    }
  }
  graphs_built_ += builds ? 1 : 0;
  nodes_reused_ += stats.reused;
  nodes_inserted_ += stats.inserted;
  ++done_;
  sources.clear();  // the last references but a search's: their points now live in the copy
  ReleaseFreeMemory();
  TESSERA_LOG(kInfo)
      << "collection " << name_ << ": " << OptimizerName(plan.kind) << " of " << task.segments.size()
      << " segment(s) into segment " << copy->id() << " (" << copy->live_count()
      << " points) in "
      << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()
      << " ms (process CPU during the build " << build_cpu_s << " s, " << threads
      << " threads; graph nodes reused " << stats.reused << ", healed " << stats.healed
      << ", inserted " << stats.inserted << ")";
  return Status::Ok();
}

OptimizationStatus Optimizer::Optimizations() const {
  OptimizationStatus status;
  {
    std::lock_guard lock(status_mu_);
    status.running = running_task_;
    status.running_since = running_since_;
  }
  const std::shared_ptr<const CollectionConfig> config = config_.get();
  status.enabled = config->optimizers.max_optimization_threads != uint64_t{0};
  std::shared_lock state(segments_.mu());
  const auto& segments = segments_.segments();
  auto info = [&](uint64_t id) {
    for (const auto& s : segments) {
      if (s->id() == id) {
        return OptimizationStatus::SegmentInfo{id, s->live_count()};
      }
    }
    return OptimizationStatus::SegmentInfo{id, 0};
  };
  auto busy = [&](uint64_t id) {
    if (status.running) {
      for (const auto& s : status.running->segments) {
        if (s.id == id) {
          return true;
        }
      }
    }
    return false;
  };
  std::vector<uint64_t> planned;
  for (const PlannedOptimization& p : Plan(*config)) {
    if (std::any_of(p.segments.begin(), p.segments.end(), busy)) {
      continue;  // the running one
    }
    OptimizationStatus::Task task{p.kind, {}};
    for (uint64_t id : p.segments) {
      task.segments.push_back(info(id));
      planned.push_back(id);
    }
    status.queued.push_back(std::move(task));
  }
  if (AppendableWorthIndexing(segments_.appendable(), *config)) {
    status.queued.push_back({OptimizerKind::kIndexing, {info(segments_.appendable().id())}});
    planned.push_back(segments_.appendable().id());
  }
  for (const auto& s : segments) {
    if (!busy(s->id()) &&
        std::find(planned.begin(), planned.end(), s->id()) == planned.end()) {
      status.idle.push_back({s->id(), s->live_count()});
    }
  }
  return status;
}

}  // namespace tessera::engine

#include "index/hnsw_graph.h"

#include <algorithm>
#include <atomic>
#include <fcntl.h>
#include <sys/mman.h>
#include <queue>
#include <thread>

#include <hnswlib/hnswlib.h>

#include "common/crc32c.h"
#include "common/file.h"

namespace tessera::index {

namespace fs = std::filesystem;

namespace {

float L1Distance(const void* a, const void* b, const void* param) {
  return Distance(Metric::kManhattan, static_cast<const float*>(a), static_cast<const float*>(b),
                  *static_cast<const size_t*>(param));
}

// hnswlib ships L2 and inner product spaces; Manhattan needs its own.
class L1Space : public hnswlib::SpaceInterface<float> {
 public:
  explicit L1Space(size_t dim) : dim_(dim) {}
  size_t get_data_size() override { return dim_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return L1Distance; }
  void* get_dist_func_param() override { return &dim_; }

 private:
  size_t dim_;
};

std::unique_ptr<hnswlib::SpaceInterface<float>> MakeSpace(Metric metric, size_t dim) {
  switch (metric) {
    case Metric::kCosine:
    case Metric::kDot:
      return std::make_unique<hnswlib::InnerProductSpace>(dim);
    case Metric::kEuclid:
      return std::make_unique<hnswlib::L2Space>(dim);
    case Metric::kManhattan:
      return std::make_unique<L1Space>(dim);
  }
  return nullptr;
}

// Level 0 (every point's links and vector, one block) is read at random by every search and
// insert: on 4 KiB pages nearly each vector read is a TLB miss, which a VM's nested paging
// makes dear. Transparent huge pages are opt-in here (`madvise` mode), so ask for them; on a
// block already filled (a loaded graph) MADV_COLLAPSE converts it in place. Advice only: a
// kernel that refuses changes nothing but speed.
void AdviseHugePages(const void* block, size_t bytes, bool filled) {
  constexpr uintptr_t kPage = 4096;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(block) + kPage - 1) & ~(kPage - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(block) + bytes) & ~(kPage - 1);
  if (end <= begin) {
    return;
  }
  void* start = reinterpret_cast<void*>(begin);
  (void)::madvise(start, end - begin, MADV_HUGEPAGE);
  if (filled) {
    constexpr int kMadvCollapse = 25;  // Linux 6.1's MADV_COLLAPSE; glibc 2.36 lacks the name
    (void)::madvise(start, end - begin, kMadvCollapse);
  }
}

void AdviseHugePages(const hnswlib::HierarchicalNSW<float>& h, bool filled) {
  AdviseHugePages(h.data_level0_memory_, h.max_elements_ * h.size_data_per_element_, filled);
}

struct CloserFirst {  // min-heap on distance, over internal ids
  bool operator()(const std::pair<float, hnswlib::tableint>& a,
                  const std::pair<float, hnswlib::tableint>& b) const {
    return a.first > b.first;
  }
};

}  // namespace

struct HnswGraph::Impl {
  std::unique_ptr<hnswlib::SpaceInterface<float>> space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw;
};

HnswGraph::HnswGraph(Metric metric, size_t dim, std::unique_ptr<Impl> impl)
    : metric_(metric), dim_(dim), impl_(std::move(impl)) {}

HnswGraph::~HnswGraph() = default;

Result<std::unique_ptr<HnswGraph>> HnswGraph::Create(Metric metric, size_t dim,
                                                     const HnswParams& params, size_t capacity) {
  auto impl = std::make_unique<Impl>();
  impl->space = MakeSpace(metric, dim);
  try {
    impl->hnsw = std::make_unique<hnswlib::HierarchicalNSW<float>>(
        impl->space.get(), std::max<size_t>(capacity, 1), std::max<size_t>(params.m, 2),
        std::max<size_t>(params.ef_construct, 4), params.seed);
  } catch (const std::exception& e) {
    return Status::ResourceExhausted(std::string("hnsw: cannot create graph: ") + e.what());
  }
  AdviseHugePages(*impl->hnsw, /*filled=*/false);
  return std::unique_ptr<HnswGraph>(new HnswGraph(metric, dim, std::move(impl)));
}

Result<std::unique_ptr<HnswGraph>> HnswGraph::Load(const fs::path& file, Metric metric, size_t dim,
                                                   uint32_t crc) {
  TESSERA_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(file));
  if (crc32c::Value(bytes) != crc) {
    return Status::Corruption("hnsw: checksum mismatch in " + file.string());
  }
  auto impl = std::make_unique<Impl>();
  impl->space = MakeSpace(metric, dim);
  try {
    impl->hnsw =
        std::make_unique<hnswlib::HierarchicalNSW<float>>(impl->space.get(), file.string());
  } catch (const std::exception& e) {
    return Status::Corruption("hnsw: cannot load " + file.string() + ": " + e.what());
  }
  AdviseHugePages(*impl->hnsw, /*filled=*/true);
  return std::unique_ptr<HnswGraph>(new HnswGraph(metric, dim, std::move(impl)));
}

Status HnswGraph::Add(Offset offset, std::span<const float> vector) {
  try {
    impl_->hnsw->addPoint(vector.data(), offset);
  } catch (const std::exception& e) {
    return Status::ResourceExhausted(std::string("hnsw: add failed: ") + e.what());
  }
  return Status::Ok();
}

Status HnswGraph::AddAll(std::span<const float> matrix, size_t threads, const AcceptFn& accept) {
  const size_t rows = matrix.size() / dim_;
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  Status first_error;
  std::mutex error_mu;
  auto work = [&] {
    for (size_t row = next++; row < rows && !failed; row = next++) {
      const auto offset = static_cast<Offset>(row);
      if (accept && !accept(offset)) {
        continue;
      }
      Status s = Add(offset, matrix.subspan(row * dim_, dim_));
      if (!s.ok()) {
        std::lock_guard lock(error_mu);
        first_error = s;
        failed = true;
      }
    }
  };
  {
    std::vector<std::jthread> pool;
    for (size_t t = 1; t < std::max<size_t>(threads, 1); ++t) {
      pool.emplace_back(work);
    }
    work();
  }
  return first_error;
}

std::vector<Hit> HnswGraph::Search(std::span<const float> query, size_t k, size_t ef,
                                   const AcceptFn& accept) const {
  using hnswlib::tableint;
  const hnswlib::HierarchicalNSW<float>& h = *impl_->hnsw;
  std::vector<Hit> out;
  if (k == 0 || h.cur_element_count == 0) {
    return out;
  }
  ef = std::max(ef, k);
  const void* param = h.dist_func_param_;
  auto dist = [&](tableint id) {
    return h.fstdistfunc_(query.data(), h.getDataByInternalId(id), param);
  };
  auto accepted = [&](tableint id) {
    return !accept || accept(static_cast<Offset>(h.getExternalLabel(id)));
  };

  // Greedy descent through the upper layers, unfiltered: they only find an entry point.
  tableint cur = h.enterpoint_node_;
  float cur_dist = dist(cur);
  for (int level = h.maxlevel_; level > 0; --level) {
    bool changed = true;
    while (changed) {
      changed = false;
      unsigned int* links = h.get_linklist(cur, level);
      const int count = h.getListCount(links);
      const auto* neighbours = reinterpret_cast<const tableint*>(links + 1);
      for (int i = 0; i < count; ++i) {
        const float d = dist(neighbours[i]);
        if (d < cur_dist) {
          cur_dist = d;
          cur = neighbours[i];
          changed = true;
        }
      }
    }
  }

  // Beam search on layer 0: rejected points are walked through but never kept. Both heaps hold
  // internal ids (labels are read once, at the end); the next neighbour's mark and vector are
  // prefetched while this one's distance is computed, which is most of hnswlib's own speed.
  hnswlib::VisitedList* visited = h.visited_list_pool_->getFreeVisitedList();
  hnswlib::vl_type* marks = visited->mass;
  const hnswlib::vl_type tag = visited->curV;
  using Entry = std::pair<float, tableint>;
  std::priority_queue<Entry, std::vector<Entry>, CloserFirst> candidates;
  std::priority_queue<Entry> kept;  // farthest on top
  float bound = std::numeric_limits<float>::max();
  candidates.emplace(cur_dist, cur);
  marks[cur] = tag;
  if (accepted(cur)) {
    kept.emplace(cur_dist, cur);
    bound = cur_dist;
  }
  while (!candidates.empty()) {
    const auto [d, node] = candidates.top();
    if (d > bound && kept.size() >= ef) {
      break;
    }
    candidates.pop();
    unsigned int* links = h.get_linklist0(node);
    const int count = h.getListCount(links);
    const auto* neighbours = reinterpret_cast<const tableint*>(links + 1);
    if (count > 0) {
      __builtin_prefetch(marks + neighbours[0]);
      __builtin_prefetch(h.getDataByInternalId(neighbours[0]));
    }
    for (int i = 0; i < count; ++i) {
      const tableint n = neighbours[i];
      if (i + 1 < count) {
        __builtin_prefetch(marks + neighbours[i + 1]);
        __builtin_prefetch(h.getDataByInternalId(neighbours[i + 1]));
      }
      if (marks[n] == tag) {
        continue;
      }
      marks[n] = tag;
      const float nd = dist(n);
      if (kept.size() < ef || nd < bound) {
        candidates.emplace(nd, n);
        __builtin_prefetch(h.get_linklist0(candidates.top().second));
        if (accepted(n)) {
          kept.emplace(nd, n);
          if (kept.size() > ef) {
            kept.pop();
          }
          bound = kept.top().first;
        }
      }
    }
  }
  h.visited_list_pool_->releaseVisitedList(visited);

  // The k closest of the kept, ties by offset as ExactSearch breaks them (labels read once).
  out.reserve(kept.size());
  for (; !kept.empty(); kept.pop()) {
    out.push_back({static_cast<Offset>(h.getExternalLabel(kept.top().second)), kept.top().first});
  }
  const auto closer = [](const Hit& a, const Hit& b) {
    return a.distance < b.distance || (a.distance == b.distance && a.offset < b.offset);
  };
  const size_t keep = std::min(k, out.size());
  std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(keep), out.end(),
                    closer);
  out.resize(keep);
  return out;
}

const float* HnswGraph::VectorOf(Offset offset) const {
  const hnswlib::HierarchicalNSW<float>& h = *impl_->hnsw;
  auto it = h.label_lookup_.find(offset);  // frozen graph: no insert races with this read
  if (it == h.label_lookup_.end()) {
    return nullptr;
  }
  return reinterpret_cast<const float*>(h.getDataByInternalId(it->second));
}

std::vector<Hit> HnswGraph::ExactSearch(std::span<const float> query, size_t k,
                                        const AcceptFn& accept) const {
  const hnswlib::HierarchicalNSW<float>& h = *impl_->hnsw;
  return ExactSearchRows(
      metric_, h.cur_element_count, dim_, query, k, accept,
      [&](size_t i) {
        return reinterpret_cast<const float*>(
            h.getDataByInternalId(static_cast<hnswlib::tableint>(i)));
      },
      [&](size_t i) {
        return static_cast<Offset>(h.getExternalLabel(static_cast<hnswlib::tableint>(i)));
      });
}

Result<uint32_t> HnswGraph::SaveTo(const fs::path& file) const {
  fs::path tmp = file;
  tmp += ".tmp";
  try {
    impl_->hnsw->saveIndex(tmp.string());
  } catch (const std::exception& e) {
    return Status::IoError("hnsw: save " + tmp.string() + ": " + e.what());
  }
  TESSERA_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(tmp));
  {
    TESSERA_ASSIGN_OR_RETURN(File f, File::Open(tmp, O_RDONLY));
    TESSERA_RETURN_IF_ERROR(f.Sync());
  }
  TESSERA_RETURN_IF_ERROR(RenameFile(tmp, file));
  TESSERA_RETURN_IF_ERROR(SyncDir(file.parent_path()));
  return crc32c::Value(bytes);
}

size_t HnswGraph::size() const {
  return impl_->hnsw->cur_element_count;
}

}  // namespace tessera::index

#include "index/hnsw_graph.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <queue>
#include <sys/mman.h>
#include <thread>
#include <utility>

#include <hnswlib/hnswlib.h>

#include "common/coding.h"
#include "common/crc32c.h"
#include "common/file.h"

namespace tessera::index {

namespace fs = std::filesystem;

namespace {

using Node = uint32_t;  // a node of the frozen layout: nodes are numbered in offset order
constexpr Node kNoNode = std::numeric_limits<Node>::max();
constexpr size_t kRowFloats = 16;     // a vector row is padded to whole 64-byte lines
constexpr size_t kPrefetchLines = 4;  // of each neighbour's vector, before the distances
constexpr size_t kHugePage = size_t{2} << 20;

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

// Vectors and links are read at random by every walk: on 4 KiB pages nearly each read is a TLB
// miss, which a VM's nested paging makes dear. Transparent huge pages are opt-in here
// (`madvise` mode), so large arrays start on a 2 MiB boundary and ask for them before their
// first touch. Advice only: a kernel that refuses changes nothing but speed.
template <typename T>
class PageArray {
 public:
  PageArray() = default;
  explicit PageArray(size_t n) : size_(n) {
    if (n == 0) {
      return;
    }
    const size_t bytes = n * sizeof(T);
    const size_t align = bytes >= kHugePage ? kHugePage : 64;
    const size_t rounded = (bytes + align - 1) / align * align;
    data_ = static_cast<T*>(std::aligned_alloc(align, rounded));
    if (data_ == nullptr) {
      throw std::bad_alloc();
    }
    if (align == kHugePage) {
      (void)::madvise(data_, rounded, MADV_HUGEPAGE);
    }
    std::memset(static_cast<void*>(data_), 0, rounded);
  }
  ~PageArray() { std::free(data_); }
  PageArray(PageArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  PageArray& operator=(PageArray&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

// hnswlib's level 0 while a graph is built (inserts read it at random too).
void AdviseHugePages(const hnswlib::HierarchicalNSW<float>& h) {
  const auto begin = (reinterpret_cast<uintptr_t>(h.data_level0_memory_) + 4095) & ~uintptr_t{4095};
  const auto end = (reinterpret_cast<uintptr_t>(h.data_level0_memory_) +
                    h.max_elements_ * h.size_data_per_element_) &
                   ~uintptr_t{4095};
  if (end > begin) {
    (void)::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
  }
}

// Per-thread scratch of the walks, kept between them so that a search allocates none of it:
// visited marks (a mark equal to the walk's tag means visited) and the buffer of one
// expansion's fresh neighbours.
struct WalkScratch {
  std::vector<uint16_t> marks;
  uint16_t tag = 0;
  std::vector<Node> fresh;
  // Starts a walk over `count` nodes of at most `degree` links each.
  void Begin(size_t count, size_t degree) {
    if (marks.size() < count) {
      marks.assign(count, 0);
      tag = 0;
    }
    if (++tag == 0) {
      std::fill(marks.begin(), marks.end(), uint16_t{0});
      tag = 1;
    }
    if (fresh.size() < degree) {
      fresh.resize(degree);
    }
  }
};
thread_local WalkScratch walk_scratch;

struct CloserFirst {  // min-heap on distance
  bool operator()(const std::pair<float, Node>& a, const std::pair<float, Node>& b) const {
    return a.first > b.first;
  }
};

// File: magic:"TSHG" version:fixed32(=1) metric:fixed32 dim:fixed64 count:fixed64
//       max0:fixed64 max_upper:fixed64 entry:fixed32 max_level:fixed32
//       offsets:u32[count] levels:u8[count] vectors:f32[count*dim] degree0:u32[count]
//       links0:u32[sum degree0] upper:u32[sum levels*(1+max_upper)]
// (little-endian; the caller keeps the file's CRC32C). Files that do not start with the
// magic are hnswlib's own format, written by earlier versions.
constexpr std::string_view kMagic = "TSHG";
constexpr uint32_t kVersion = 1;

template <typename T>
void PutArray(std::string* out, const T* data, size_t n) {
  out->append(reinterpret_cast<const char*>(data), n * sizeof(T));
}

template <typename T>
bool GetArray(Decoder* d, T* data, size_t n) {
  std::string_view bytes;
  if (n > d->remaining() / sizeof(T) || !d->GetBytes(n * sizeof(T), &bytes)) {
    return false;
  }
  if (n > 0) {
    std::memcpy(static_cast<void*>(data), bytes.data(), bytes.size());
  }
  return true;
}

}  // namespace

// The frozen layout.
struct HnswGraph::Impl {
  size_t count = 0;  // nodes
  size_t dim = 0;
  size_t row = 0;        // floats per stored vector: dim rounded up to kRowFloats, zero-padded
  size_t max0 = 0;       // link slots per node on level 0
  size_t max_upper = 0;  // link slots per node on each upper level
  Node entry = kNoNode;
  int max_level = 0;
  DistanceFn distance = nullptr;
  PageArray<float> vectors;        // count x row
  PageArray<Node> links0;          // count x max0
  std::vector<uint32_t> degree0;   // node -> links used on level 0
  std::vector<Offset> offsets;     // node -> offset, ascending
  std::vector<uint8_t> levels;     // node -> its top level
  std::vector<uint32_t> upper_at;  // node -> its level-1 list in `upper` (levels > 0 only)
  std::vector<Node> upper;         // per node and upper level: degree, max_upper slots

  const float* vector(Node n) const { return vectors.data() + n * row; }
  const Node* level0(Node n) const { return links0.data() + n * max0; }
  const Node* upper_list(Node n, int level) const {  // degree, then the links
    return upper.data() + upper_at[n] + static_cast<size_t>(level - 1) * (1 + max_upper);
  }

  static std::unique_ptr<Impl> Empty(Metric metric, size_t dim, size_t count, size_t max0,
                                     size_t max_upper) {
    auto g = std::make_unique<Impl>();
    g->count = count;
    g->dim = dim;
    g->row = (dim + kRowFloats - 1) / kRowFloats * kRowFloats;
    g->max0 = max0;
    g->max_upper = max_upper;
    g->distance = DistanceFunction(metric);
    g->vectors = PageArray<float>(count * g->row);
    g->links0 = PageArray<Node>(count * max0);
    g->degree0.assign(count, 0);
    g->offsets.assign(count, 0);
    g->levels.assign(count, 0);
    g->upper_at.assign(count, 0);
    return g;
  }

  // Index the upper lists by the levels: node by node, each level's list after the last.
  size_t IndexUpper() {
    size_t at = 0;
    for (size_t n = 0; n < count; ++n) {
      upper_at[n] = static_cast<uint32_t>(at);
      at += levels[n] * (1 + max_upper);
    }
    return at;
  }

  static std::unique_ptr<Impl> Freeze(const hnswlib::HierarchicalNSW<float>& h, Metric metric,
                                      size_t dim) {
    const size_t count = h.cur_element_count;
    auto g = Empty(metric, dim, count, h.maxM0_, h.maxM_);
    std::vector<std::pair<Offset, hnswlib::tableint>> order(count);
    for (size_t i = 0; i < count; ++i) {
      const auto id = static_cast<hnswlib::tableint>(i);
      order[i] = {static_cast<Offset>(h.getExternalLabel(id)), id};
    }
    std::sort(order.begin(), order.end());
    std::vector<Node> node_of(count);
    for (size_t n = 0; n < count; ++n) {
      node_of[order[n].second] = static_cast<Node>(n);
      g->offsets[n] = order[n].first;
      g->levels[n] = static_cast<uint8_t>(std::min(h.element_levels_[order[n].second], 255));
    }
    g->upper.assign(g->IndexUpper(), 0);
    for (size_t n = 0; n < count; ++n) {
      const hnswlib::tableint id = order[n].second;
      std::memcpy(g->vectors.data() + n * g->row, h.getDataByInternalId(id), dim * sizeof(float));
      unsigned int* links = h.get_linklist0(id);
      g->degree0[n] = h.getListCount(links);
      for (size_t j = 0; j < g->degree0[n]; ++j) {
        g->links0.data()[n * g->max0 + j] = node_of[links[1 + j]];
      }
      for (int level = 1; level <= g->levels[n]; ++level) {
        unsigned int* list = h.get_linklist(id, level);
        Node* out = g->upper.data() + g->upper_at[n] + (level - 1) * (1 + g->max_upper);
        out[0] = h.getListCount(list);
        for (size_t j = 0; j < out[0]; ++j) {
          out[1 + j] = node_of[list[1 + j]];
        }
      }
    }
    if (count > 0) {
      g->entry = node_of[h.enterpoint_node_];
      g->max_level = h.maxlevel_;
    }
    return g;
  }

  std::string Serialize(Metric metric) const {
    std::string out(kMagic);
    PutFixed32(&out, kVersion);
    PutFixed32(&out, static_cast<uint32_t>(metric));
    PutFixed64(&out, dim);
    PutFixed64(&out, count);
    PutFixed64(&out, max0);
    PutFixed64(&out, max_upper);
    PutFixed32(&out, entry);
    PutFixed32(&out, static_cast<uint32_t>(max_level));
    PutArray(&out, offsets.data(), count);
    PutArray(&out, levels.data(), count);
    for (size_t n = 0; n < count; ++n) {
      PutArray(&out, vector(static_cast<Node>(n)), dim);
    }
    PutArray(&out, degree0.data(), count);
    for (size_t n = 0; n < count; ++n) {
      PutArray(&out, level0(static_cast<Node>(n)), degree0[n]);
    }
    PutArray(&out, upper.data(), upper.size());
    return out;
  }

  // Parses what Serialize wrote and checks every link and count, so that even a file whose
  // checksum matches cannot send a walk out of bounds.
  static std::unique_ptr<Impl> Parse(std::string_view bytes, Metric metric, size_t dim) {
    Decoder d(bytes.substr(kMagic.size()));
    uint32_t version, file_metric, entry, max_level;
    uint64_t file_dim, count, max0, max_upper;
    if (!d.GetFixed32(&version) || version != kVersion || !d.GetFixed32(&file_metric) ||
        file_metric != static_cast<uint32_t>(metric) || !d.GetFixed64(&file_dim) ||
        file_dim != dim || !d.GetFixed64(&count) || !d.GetFixed64(&max0) ||
        !d.GetFixed64(&max_upper) || !d.GetFixed32(&entry) || !d.GetFixed32(&max_level) ||
        count > d.remaining() / (sizeof(Offset) + 1) || max_upper == 0 ||
        max_upper > (uint64_t{1} << 30) || max0 != 2 * max_upper || max_level > 255 ||
        (count > 0 ? entry >= count : entry != kNoNode)) {
      return nullptr;
    }
    auto g = Empty(metric, dim, count, max0, max_upper);
    g->entry = entry;
    g->max_level = static_cast<int>(max_level);
    if (!GetArray(&d, g->offsets.data(), count) || !GetArray(&d, g->levels.data(), count)) {
      return nullptr;
    }
    for (size_t n = 0; n < count; ++n) {
      if ((n > 0 && g->offsets[n] <= g->offsets[n - 1]) || g->levels[n] > max_level) {
        return nullptr;
      }
      if (!GetArray(&d, g->vectors.data() + n * g->row, dim)) {
        return nullptr;
      }
    }
    if ((count > 0 && g->levels[entry] != max_level) || !GetArray(&d, g->degree0.data(), count)) {
      return nullptr;
    }
    auto links_ok = [&](const Node* links, size_t n) {
      return std::all_of(links, links + n, [&](Node l) { return l < count; });
    };
    for (size_t n = 0; n < count; ++n) {
      Node* links = g->links0.data() + n * max0;
      if (g->degree0[n] > max0 || !GetArray(&d, links, g->degree0[n]) ||
          !links_ok(links, g->degree0[n])) {
        return nullptr;
      }
    }
    g->upper.resize(g->IndexUpper());
    if (!GetArray(&d, g->upper.data(), g->upper.size()) || !d.empty()) {
      return nullptr;
    }
    for (size_t at = 0; at < g->upper.size(); at += 1 + max_upper) {
      if (g->upper[at] > max_upper || !links_ok(&g->upper[at + 1], g->upper[at])) {
        return nullptr;
      }
    }
    return g;
  }
};

HnswGraph::HnswGraph(Metric metric, size_t dim, std::unique_ptr<Impl> impl)
    : metric_(metric), dim_(dim), impl_(std::move(impl)) {}

HnswGraph::~HnswGraph() = default;

Result<std::unique_ptr<HnswGraph>> HnswGraph::Build(Metric metric, size_t dim,
                                                    const HnswParams& params,
                                                    std::span<const float> matrix, size_t threads,
                                                    const AcceptFn& accept) {
  const size_t rows = dim == 0 ? 0 : matrix.size() / dim;
  auto space = MakeSpace(metric, dim);
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> h;
  try {
    h = std::make_unique<hnswlib::HierarchicalNSW<float>>(
        space.get(), std::max<size_t>(rows, 1), std::max<size_t>(params.m, 2),
        std::max<size_t>(params.ef_construct, 4), params.seed);
  } catch (const std::exception& e) {
    return Status::ResourceExhausted(std::string("hnsw: cannot create graph: ") + e.what());
  }
  AdviseHugePages(*h);

  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  Status first_error;
  std::mutex error_mu;
  auto work = [&] {
    for (size_t row = next++; row < rows && !failed; row = next++) {
      if (accept && !accept(static_cast<Offset>(row))) {
        continue;
      }
      try {
        h->addPoint(matrix.data() + row * dim, row);
      } catch (const std::exception& e) {
        std::lock_guard lock(error_mu);
        first_error = Status::ResourceExhausted(std::string("hnsw: add failed: ") + e.what());
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
  TESSERA_RETURN_IF_ERROR(first_error);
  try {
    return std::unique_ptr<HnswGraph>(new HnswGraph(metric, dim, Impl::Freeze(*h, metric, dim)));
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("hnsw: out of memory freezing the graph");
  }
}

Result<std::unique_ptr<HnswGraph>> HnswGraph::Load(const fs::path& file, Metric metric, size_t dim,
                                                   uint32_t crc) {
  TESSERA_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(file));
  if (crc32c::Value(bytes) != crc) {
    return Status::Corruption("hnsw: checksum mismatch in " + file.string());
  }
  std::unique_ptr<Impl> impl;
  try {
    if (bytes.starts_with(kMagic)) {
      impl = Impl::Parse(bytes, metric, dim);
    } else {  // hnswlib's own format, from an earlier version
      std::string().swap(bytes);
      auto space = MakeSpace(metric, dim);
      hnswlib::HierarchicalNSW<float> h(space.get(), file.string());
      if (h.label_offset_ == h.offsetData_ + dim * sizeof(float)) {  // written for `dim`
        impl = Impl::Freeze(h, metric, dim);
      }
    }
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("hnsw: out of memory loading " + file.string());
  } catch (const std::exception& e) {
    return Status::Corruption("hnsw: cannot load " + file.string() + ": " + e.what());
  }
  if (impl == nullptr) {
    return Status::Corruption("hnsw: malformed graph file " + file.string());
  }
  return std::unique_ptr<HnswGraph>(new HnswGraph(metric, dim, std::move(impl)));
}

std::vector<Hit> HnswGraph::Search(std::span<const float> query, size_t k, size_t ef,
                                   const AcceptFn& accept) const {
  const Impl& g = *impl_;
  std::vector<Hit> out;
  if (k == 0 || g.count == 0) {
    return out;
  }
  ef = std::max(ef, k);
  const float* q = query.data();
  std::vector<float> padded;
  if (g.row != dim_) {  // rows are zero-padded: so is the query, and the padding adds nothing
    padded.assign(g.row, 0.0f);
    std::copy_n(query.data(), std::min(query.size(), dim_), padded.begin());
    q = padded.data();
  }
  const DistanceFn distance = g.distance;
  const size_t row = g.row;
  auto dist = [&](Node n) { return distance(q, g.vector(n), row); };
  auto accepted = [&](Node n) { return !accept || accept(g.offsets[n]); };

  // Greedy descent through the upper levels, unfiltered: they only find an entry point.
  Node cur = g.entry;
  float cur_dist = dist(cur);
  for (int level = g.max_level; level > 0; --level) {
    bool changed = true;
    while (changed) {
      changed = false;
      const Node* list = g.upper_list(cur, level);
      for (Node i = 0; i < list[0]; ++i) {
        const float d = dist(list[1 + i]);
        if (d < cur_dist) {
          cur_dist = d;
          cur = list[1 + i];
          changed = true;
        }
      }
    }
  }

  // Beam search on level 0: rejected points are walked through but never kept. Each expansion
  // first marks the neighbours not yet visited and prefetches the start of their vectors, so
  // that their reads overlap, then computes their distances.
  WalkScratch& scratch = walk_scratch;
  scratch.Begin(g.count, g.max0);
  uint16_t* marks = scratch.marks.data();
  const uint16_t tag = scratch.tag;
  Node* fresh = scratch.fresh.data();
  using Entry = std::pair<float, Node>;
  std::priority_queue<Entry, std::vector<Entry>, CloserFirst> candidates;
  std::priority_queue<Entry> kept;  // farthest on top
  const size_t prefetch_lines = std::min(kPrefetchLines, row / kRowFloats);
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
    const Node* links = g.level0(node);
    const uint32_t degree = g.degree0[node];
    size_t nfresh = 0;
    for (uint32_t i = 0; i < degree; ++i) {
      const Node n = links[i];
      if (marks[n] == tag) {
        continue;
      }
      marks[n] = tag;
      fresh[nfresh++] = n;
      const float* v = g.vector(n);
      for (size_t line = 0; line < prefetch_lines; ++line) {
        __builtin_prefetch(v + line * kRowFloats);
      }
    }
    for (size_t i = 0; i < nfresh; ++i) {
      const Node n = fresh[i];
      const float nd = dist(n);
      if (kept.size() < ef || nd < bound) {
        candidates.emplace(nd, n);
        if (accepted(n)) {
          kept.emplace(nd, n);
          if (kept.size() > ef) {
            kept.pop();
          }
          bound = kept.top().first;
        }
      }
    }
    if (!candidates.empty()) {
      __builtin_prefetch(g.level0(candidates.top().second));
      __builtin_prefetch(&g.degree0[candidates.top().second]);
    }
  }

  // The k closest of the kept, ties by offset as ExactSearch breaks them.
  out.reserve(kept.size());
  for (; !kept.empty(); kept.pop()) {
    out.push_back({g.offsets[kept.top().second], kept.top().first});
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
  const Impl& g = *impl_;
  auto it = std::lower_bound(g.offsets.begin(), g.offsets.end(), offset);
  if (it == g.offsets.end() || *it != offset) {
    return nullptr;
  }
  return g.vector(static_cast<Node>(it - g.offsets.begin()));
}

std::vector<Hit> HnswGraph::ExactSearch(std::span<const float> query, size_t k,
                                        const AcceptFn& accept) const {
  const Impl& g = *impl_;
  return ExactSearchRows(
      metric_, g.count, dim_, query, k, accept,
      [&](size_t i) { return g.vector(static_cast<Node>(i)); },
      [&](size_t i) { return g.offsets[i]; });
}

Result<uint32_t> HnswGraph::SaveTo(const fs::path& file) const {
  const std::string bytes = impl_->Serialize(metric_);
  TESSERA_RETURN_IF_ERROR(WriteFileAtomically(file, bytes));
  return crc32c::Value(bytes);
}

size_t HnswGraph::size() const {
  return impl_->count;
}

}  // namespace tessera::index

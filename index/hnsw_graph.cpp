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
#include "index/page_array.h"

namespace tessera::index {

namespace fs = std::filesystem;

namespace {

using Node = uint32_t;  // a node of the frozen layout: nodes are numbered in offset order
constexpr Node kNoNode = std::numeric_limits<Node>::max();

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
  std::vector<uint16_t> marks;   // visited: marks[n] == tag
  std::vector<uint16_t> marks2;  // the two-hop walk's second list (explored as a 2-hop link)
  uint16_t tag = 0;
  std::vector<Node> fresh;
  std::vector<Node> bridges;  // the two-hop walk's rejected 1-hop links
  // Starts a walk over `count` nodes of at most `degree` links each.
  void Begin(size_t count, size_t degree, bool two_hop = false) {
    if (marks.size() < count || (two_hop && marks2.size() < count)) {
      marks.assign(count, 0);
      marks2.assign(two_hop ? count : 0, 0);
      tag = 0;
    }
    if (++tag == 0) {
      std::fill(marks.begin(), marks.end(), uint16_t{0});
      std::fill(marks2.begin(), marks2.end(), uint16_t{0});
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

// File, version 3 (little-endian; the caller keeps the file's CRC32C):
//   magic:"TSHG" version:fixed32(=3) metric:fixed32 dim:fixed64 rows:fixed64 max0:fixed64
//   max_upper:fixed64 ef_construct:fixed64 entry:fixed32 max_level:fixed32 in_graph:u8[rows]
//   levels:u8[rows] degree0:u32[rows] links0:u32[sum degree0]
//   upper:u32[sum levels*(1+max_upper)]
// Version 2 is version 3 without ef_construct (read as 0, unknown).
// Version 1 numbered only the points in the graph and held their vectors:
//   ... count:fixed64 max0 max_upper entry max_level offsets:u32[count] levels:u8[count]
//   vectors:f32[count*dim] degree0:u32[count] links0 upper
// Files that do not start with the magic are hnswlib's own format, written before version 1.
constexpr std::string_view kMagic = "TSHG";
constexpr uint32_t kVersion = 3;

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

// The frozen layout: node n is row n of the storage.
struct HnswGraph::Impl {
  size_t rows = 0;       // nodes
  size_t inserted = 0;   // nodes in the graph
  size_t max0 = 0;       // link slots per node on level 0
  size_t max_upper = 0;  // link slots per node on each upper level
  size_t ef_construct = 0;  // the build's candidate list; 0 if unknown (older files)
  Node entry = kNoNode;
  int max_level = 0;
  PageArray<Node> links0;          // rows x max0
  std::vector<uint32_t> degree0;   // node -> links used on level 0
  std::vector<uint8_t> in_graph;   // node -> 1 if its row was inserted
  std::vector<uint8_t> levels;     // node -> its top level
  std::vector<uint32_t> upper_at;  // node -> its level-1 list in `upper` (levels > 0 only)
  std::vector<Node> upper;         // per node and upper level: degree, max_upper slots

  const Node* level0(Node n) const { return links0.data() + n * max0; }
  Node* level0(Node n) { return links0.data() + n * max0; }
  const Node* upper_list(Node n, int level) const {  // degree, then the links
    return upper.data() + upper_at[n] + static_cast<size_t>(level - 1) * (1 + max_upper);
  }
  Node* upper_list(Node n, int level) {
    return upper.data() + upper_at[n] + static_cast<size_t>(level - 1) * (1 + max_upper);
  }

  static std::unique_ptr<Impl> Empty(size_t rows, size_t max0, size_t max_upper) {
    auto g = std::make_unique<Impl>();
    g->rows = rows;
    g->max0 = max0;
    g->max_upper = max_upper;
    g->links0 = PageArray<Node>(rows * max0);
    g->degree0.assign(rows, 0);
    g->in_graph.assign(rows, 0);
    g->levels.assign(rows, 0);
    g->upper_at.assign(rows, 0);
    return g;
  }

  // Index the upper lists by the levels: node by node, each level's list after the last.
  size_t IndexUpper() {
    size_t at = 0;
    for (size_t n = 0; n < rows; ++n) {
      upper_at[n] = static_cast<uint32_t>(at);
      at += levels[n] * (1 + max_upper);
    }
    return at;
  }

  // hnswlib's graph, its labels being rows < `rows`; nullptr if one is not.
  static std::unique_ptr<Impl> Freeze(const hnswlib::HierarchicalNSW<float>& h, size_t rows) {
    const size_t count = h.cur_element_count;
    auto g = Empty(rows, h.maxM0_, h.maxM_);
    g->ef_construct = h.ef_construction_;
    std::vector<Node> node_of(count);
    for (size_t i = 0; i < count; ++i) {
      const size_t label = h.getExternalLabel(static_cast<hnswlib::tableint>(i));
      if (label >= rows || g->in_graph[label]) {
        return nullptr;
      }
      node_of[i] = static_cast<Node>(label);
      g->in_graph[label] = 1;
      g->levels[label] = static_cast<uint8_t>(std::clamp(h.element_levels_[i], 0, 255));
    }
    g->inserted = count;
    g->upper.assign(g->IndexUpper(), 0);
    for (size_t i = 0; i < count; ++i) {
      const auto id = static_cast<hnswlib::tableint>(i);
      const Node n = node_of[i];
      unsigned int* links = h.get_linklist0(id);
      g->degree0[n] = std::min<uint32_t>(h.getListCount(links), g->max0);
      for (size_t j = 0; j < g->degree0[n]; ++j) {
        if (links[1 + j] >= count) {
          return nullptr;
        }
        g->level0(n)[j] = node_of[links[1 + j]];
      }
      for (int level = 1; level <= g->levels[n]; ++level) {
        unsigned int* list = h.get_linklist(id, level);
        Node* out = g->upper_list(n, level);
        out[0] = std::min<uint32_t>(h.getListCount(list), g->max_upper);
        for (size_t j = 0; j < out[0]; ++j) {
          if (list[1 + j] >= count) {
            return nullptr;
          }
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

  // Copies this graph into the empty `h` as `seed` maps it (see HnswSeed): nodes kept get
  // internal ids 0.., their links among kept nodes, their levels; `taken[row]` is set for each
  // row taken, and the nodes healed (level 0) are listed. False (h untouched) if the seed is
  // not usable.
  bool SeedInto(hnswlib::HierarchicalNSW<float>& h, const DenseStorage& storage,
                const AcceptFn& accept, const HnswSeed& seed, std::vector<uint8_t>* taken,
                std::vector<hnswlib::tableint>* heal) const {
    if (seed.row_of.size() != rows || max0 != h.maxM0_ || max_upper != h.maxM_) {
      return false;
    }
    std::vector<Node> internal(rows, kNoNode);
    size_t kept = 0, gone = 0;
    for (size_t n = 0; n < rows; ++n) {
      if (!in_graph[n]) {
        continue;
      }
      const Offset row = seed.row_of[n];
      if (row == HnswSeed::kNoRow || row >= storage.size() || !storage.has(row) ||
          (accept && !accept(row)) || (*taken)[row]) {
        ++gone;
        continue;
      }
      (*taken)[row] = 1;
      internal[n] = static_cast<Node>(kept++);
    }
    if (kept == 0 || static_cast<double>(gone) > seed.max_missing * static_cast<double>(kept + gone)) {
      std::fill(taken->begin(), taken->end(), uint8_t{0});
      return false;
    }
    int top = -1;
    hnswlib::tableint top_node = 0;
    for (size_t n = 0; n < rows; ++n) {  // vectors, labels and levels first: healing reads them
      if (internal[n] == kNoNode) {
        continue;
      }
      const auto id = static_cast<hnswlib::tableint>(internal[n]);
      const auto label = static_cast<hnswlib::labeltype>(seed.row_of[n]);
      std::memset(h.data_level0_memory_ + id * h.size_data_per_element_ + h.offsetLevel0_, 0,
                  h.size_data_per_element_);
      std::memcpy(h.getExternalLabeLp(id), &label, sizeof(label));
      std::memcpy(h.getDataByInternalId(id), storage.row(seed.row_of[n]), h.data_size_);
      h.label_lookup_[label] = id;
      const int level = levels[n];
      h.element_levels_[id] = level;
      if (level > 0) {
        h.linkLists_[id] = static_cast<char*>(std::malloc(h.size_links_per_element_ * level + 1));
        if (h.linkLists_[id] == nullptr) {
          throw std::bad_alloc();
        }
        std::memset(h.linkLists_[id], 0, h.size_links_per_element_ * level + 1);
      }
      if (level > top) {
        top = level;
        top_node = id;
      }
    }
    using Candidates = std::priority_queue<std::pair<float, hnswlib::tableint>,
                                           std::vector<std::pair<float, hnswlib::tableint>>,
                                           hnswlib::HierarchicalNSW<float>::CompareByFirst>;
    auto links_of = [&](Node n, int level) -> std::span<const Node> {
      if (level == 0) {
        return {level0(n), degree0[n]};
      }
      const Node* list = upper_list(n, level);
      return {list + 1, list[0]};
    };
    std::vector<hnswlib::tableint> seen;
    for (size_t n = 0; n < rows; ++n) {
      if (internal[n] == kNoNode) {
        continue;
      }
      const auto id = static_cast<hnswlib::tableint>(internal[n]);
      for (int level = 0; level <= levels[n]; ++level) {
        unsigned int* list = level == 0 ? h.get_linklist0(id) : h.get_linklist(id, level);
        auto* out = reinterpret_cast<hnswlib::tableint*>(list + 1);
        const std::span<const Node> links = links_of(static_cast<Node>(n), level);
        unsigned short count = 0;
        bool lost = false;
        for (Node l : links) {
          if (internal[l] != kNoNode) {
            out[count++] = internal[l];
          } else {
            lost = true;
          }
        }
        if (lost) {
          // Healing: the links left and the kept links of the gone neighbours are the
          // candidates; hnswlib's neighbour heuristic picks the list from them.
          seen.assign(out, out + count);
          for (Node l : links) {
            if (internal[l] != kNoNode || levels[l] < level) {
              continue;
            }
            for (Node ll : links_of(l, level)) {
              if (ll != n && internal[ll] != kNoNode) {
                seen.push_back(internal[ll]);
              }
            }
          }
          std::sort(seen.begin(), seen.end());
          seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
          Candidates candidates;
          const char* self = h.getDataByInternalId(id);
          for (hnswlib::tableint c : seen) {
            candidates.emplace(h.fstdistfunc_(self, h.getDataByInternalId(c), h.dist_func_param_),
                               c);
          }
          const size_t slots = level == 0 ? h.maxM0_ : h.maxM_;
          while (candidates.size() > std::max<size_t>(slots, h.ef_construction_)) {
            candidates.pop();  // the farthest
          }
          h.getNeighborsByHeuristic2(candidates, slots);
          count = 0;
          while (!candidates.empty() && count < slots) {
            out[count++] = candidates.top().second;
            candidates.pop();
          }
          if (level == 0) {
            heal->push_back(id);
          }
        }
        h.setListCount(list, count);
      }
    }
    h.cur_element_count = kept;
    if (entry != kNoNode && internal[entry] != kNoNode) {
      h.enterpoint_node_ = internal[entry];
      h.maxlevel_ = max_level;
    } else {
      h.enterpoint_node_ = top_node;
      h.maxlevel_ = top;
    }
    return true;
  }

  std::string Serialize(Metric metric, size_t dim) const {
    std::string out(kMagic);
    PutFixed32(&out, kVersion);
    PutFixed32(&out, static_cast<uint32_t>(metric));
    PutFixed64(&out, dim);
    PutFixed64(&out, rows);
    PutFixed64(&out, max0);
    PutFixed64(&out, max_upper);
    PutFixed64(&out, ef_construct);
    PutFixed32(&out, entry);
    PutFixed32(&out, static_cast<uint32_t>(max_level));
    PutArray(&out, in_graph.data(), rows);
    PutArray(&out, levels.data(), rows);
    PutArray(&out, degree0.data(), rows);
    for (size_t n = 0; n < rows; ++n) {
      PutArray(&out, level0(static_cast<Node>(n)), degree0[n]);
    }
    PutArray(&out, upper.data(), upper.size());
    return out;
  }

  // Checks what a parse read, so that even a file whose checksum matches cannot send a walk
  // out of bounds: every link names a node of the graph, every count fits its slots.
  // (The header's counts — slots, levels — are checked by the parsers before they allocate.)
  bool Consistent() const {
    size_t n_in = 0;
    for (size_t n = 0; n < rows; ++n) {
      if (in_graph[n] > 1 || levels[n] > max_level ||
          (!in_graph[n] && (levels[n] != 0 || degree0[n] != 0))) {
        return false;
      }
      n_in += in_graph[n];
    }
    if (n_in != inserted || (inserted > 0 ? entry >= rows || !in_graph[entry] ||
                                                levels[entry] != max_level
                                          : entry != kNoNode)) {
      return false;
    }
    auto links_ok = [&](const Node* links, size_t n) {
      return std::all_of(links, links + n, [&](Node l) { return l < rows && in_graph[l]; });
    };
    for (size_t n = 0; n < rows; ++n) {
      if (degree0[n] > max0 || !links_ok(level0(static_cast<Node>(n)), degree0[n])) {
        return false;
      }
    }
    for (size_t at = 0; at < upper.size(); at += 1 + max_upper) {
      if (upper[at] > max_upper || !links_ok(&upper[at + 1], upper[at])) {
        return false;
      }
    }
    return true;
  }

  // Parses a version 2 or 3 file (after the magic and version).
  static std::unique_ptr<Impl> Parse(Decoder& d, size_t rows, uint32_t version) {
    uint64_t file_rows, max0, max_upper, ef_construct = 0;
    uint32_t entry, max_level;
    if (!d.GetFixed64(&file_rows) || file_rows != rows || !d.GetFixed64(&max0) ||
        !d.GetFixed64(&max_upper) || (version >= 3 && !d.GetFixed64(&ef_construct)) ||
        !d.GetFixed32(&entry) || !d.GetFixed32(&max_level) ||
        rows > d.remaining() / 6 || max_upper == 0 || max_upper > (uint64_t{1} << 30) ||
        max0 != 2 * max_upper || max_level > 255) {
      return nullptr;
    }
    auto g = Empty(rows, max0, max_upper);
    g->ef_construct = ef_construct;
    g->entry = entry;
    g->max_level = static_cast<int>(max_level);
    if (!GetArray(&d, g->in_graph.data(), rows) || !GetArray(&d, g->levels.data(), rows) ||
        !GetArray(&d, g->degree0.data(), rows)) {
      return nullptr;
    }
    for (size_t n = 0; n < rows; ++n) {
      if (g->in_graph[n] > 1 || g->degree0[n] > max0 ||
          !GetArray(&d, g->level0(static_cast<Node>(n)), g->degree0[n])) {
        return nullptr;
      }
      g->inserted += g->in_graph[n];
    }
    g->upper.resize(g->IndexUpper());
    if (!GetArray(&d, g->upper.data(), g->upper.size()) || !d.empty() || !g->Consistent()) {
      return nullptr;
    }
    return g;
  }

  // Parses a version 1 file (after the magic and version): its nodes are renumbered by their
  // offsets, and its vectors skipped.
  static std::unique_ptr<Impl> ParseVersion1(Decoder& d, size_t dim, size_t rows) {
    uint64_t count, max0, max_upper;
    uint32_t entry, max_level;
    if (!d.GetFixed64(&count) || !d.GetFixed64(&max0) || !d.GetFixed64(&max_upper) ||
        !d.GetFixed32(&entry) || !d.GetFixed32(&max_level) ||
        count > d.remaining() / (sizeof(Offset) + 1) || count > rows || max_upper == 0 ||
        max_upper > (uint64_t{1} << 30) || max0 != 2 * max_upper || max_level > 255 ||
        (count > 0 ? entry >= count : entry != kNoNode)) {
      return nullptr;
    }
    std::vector<Offset> offsets(count);
    std::vector<uint8_t> levels(count);
    std::vector<uint32_t> degree0(count);
    if (!GetArray(&d, offsets.data(), count) || !GetArray(&d, levels.data(), count)) {
      return nullptr;
    }
    std::string_view vectors;
    if (count * dim > d.remaining() / sizeof(float) ||
        !d.GetBytes(count * dim * sizeof(float), &vectors) ||
        !GetArray(&d, degree0.data(), count)) {
      return nullptr;
    }
    auto g = Empty(rows, max0, max_upper);
    g->max_level = static_cast<int>(max_level);
    g->inserted = count;
    for (size_t i = 0; i < count; ++i) {
      if (offsets[i] >= rows || (i > 0 && offsets[i] <= offsets[i - 1]) || degree0[i] > max0) {
        return nullptr;
      }
      g->in_graph[offsets[i]] = 1;
      g->levels[offsets[i]] = levels[i];
      g->degree0[offsets[i]] = degree0[i];
    }
    if (count > 0) {
      g->entry = offsets[entry];
    }
    auto node = [&](uint32_t old, Node* out) {
      if (old >= count) {
        return false;
      }
      *out = offsets[old];
      return true;
    };
    for (size_t i = 0; i < count; ++i) {
      Node* links = g->level0(offsets[i]);
      if (!GetArray(&d, links, degree0[i]) ||
          !std::all_of(links, links + degree0[i], [&](Node& l) { return node(l, &l); })) {
        return nullptr;
      }
    }
    g->upper.resize(g->IndexUpper());
    // Version 1's upper lists run node by node in offset order, as version 2's do.
    if (!GetArray(&d, g->upper.data(), g->upper.size()) || !d.empty()) {
      return nullptr;
    }
    for (size_t at = 0; at < g->upper.size(); at += 1 + max_upper) {
      if (g->upper[at] > max_upper ||
          !std::all_of(&g->upper[at + 1], &g->upper[at + 1] + g->upper[at],
                       [&](Node& l) { return node(l, &l); })) {
        return nullptr;
      }
    }
    return g->Consistent() ? std::move(g) : nullptr;
  }
};

HnswGraph::HnswGraph(Metric metric, size_t dim, std::unique_ptr<Impl> impl)
    : metric_(metric), dim_(dim), impl_(std::move(impl)) {}

HnswGraph::~HnswGraph() = default;

Result<std::unique_ptr<HnswGraph>> HnswGraph::Build(const HnswParams& params,
                                                    const DenseStorage& storage, size_t threads,
                                                    const AcceptFn& accept, const HnswSeed* seed,
                                                    HnswBuildStats* stats) {
  const size_t rows = storage.size();
  const size_t dim = storage.dim();
  auto space = MakeSpace(storage.metric(), dim);
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> h;
  try {
    h = std::make_unique<hnswlib::HierarchicalNSW<float>>(
        space.get(), std::max<size_t>(rows, 1), std::max<size_t>(params.m, 2),
        std::max<size_t>(params.ef_construct, 4), params.seed);
  } catch (const std::exception& e) {
    return Status::ResourceExhausted(std::string("hnsw: cannot create graph: ") + e.what());
  }
  AdviseHugePages(*h);

  std::vector<uint8_t> taken(rows, 0);  // rows already in `h` (from the seed)
  std::vector<hnswlib::tableint> heal;  // seeded nodes re-linked
  bool seeded = false;
  if (seed != nullptr && seed->graph != nullptr && seed->graph->dim() == dim &&
      seed->graph->metric() == storage.metric()) {
    try {
      seeded = seed->graph->impl_->SeedInto(*h, storage, accept, *seed, &taken, &heal);
    } catch (const std::bad_alloc&) {
      return Status::ResourceExhausted("hnsw: out of memory seeding the graph");
    }
  }
  HnswBuildStats done;
  done.reused = seeded ? h->cur_element_count : 0;
  done.healed = heal.size();

  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::atomic<size_t> inserted{0};
  Status first_error;
  std::mutex error_mu;
  auto fail = [&](const std::exception& e) {
    std::lock_guard lock(error_mu);
    first_error = Status::ResourceExhausted(std::string("hnsw: add failed: ") + e.what());
    failed = true;
  };
  auto insert_work = [&] {
    for (size_t row = next++; row < rows && !failed; row = next++) {
      const auto o = static_cast<Offset>(row);
      if (taken[row] || !storage.has(o) || (accept && !accept(o))) {
        continue;
      }
      try {
        h->addPoint(storage.row(o), row);  // reads the row's first dim floats
        ++inserted;
      } catch (const std::exception& e) {
        fail(e);
      }
    }
  };
  {
    std::vector<std::jthread> pool;
    for (size_t t = 1; t < std::max<size_t>(threads, 1); ++t) {
      pool.emplace_back(insert_work);
    }
    insert_work();
  }
  TESSERA_RETURN_IF_ERROR(first_error);
  done.inserted = inserted.load();
  if (stats != nullptr) {
    *stats = done;
  }
  try {
    auto impl = Impl::Freeze(*h, rows);
    if (impl == nullptr) {
      return Status::Internal("hnsw: the built graph does not fit its storage");
    }
    return std::unique_ptr<HnswGraph>(new HnswGraph(storage.metric(), dim, std::move(impl)));
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("hnsw: out of memory freezing the graph");
  }
}

Result<std::unique_ptr<HnswGraph>> HnswGraph::Load(const fs::path& file, Metric metric, size_t dim,
                                                   uint32_t crc, size_t rows) {
  TESSERA_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(file));
  if (crc32c::Value(bytes) != crc) {
    return Status::Corruption("hnsw: checksum mismatch in " + file.string());
  }
  std::unique_ptr<Impl> impl;
  try {
    if (bytes.starts_with(kMagic)) {
      Decoder d(std::string_view(bytes).substr(kMagic.size()));
      uint32_t version, file_metric;
      uint64_t file_dim;
      if (d.GetFixed32(&version) && d.GetFixed32(&file_metric) &&
          file_metric == static_cast<uint32_t>(metric) && d.GetFixed64(&file_dim) &&
          file_dim == dim) {
        if (version == kVersion || version == 2) {
          impl = Impl::Parse(d, rows, version);
        } else if (version == 1) {
          impl = Impl::ParseVersion1(d, dim, rows);
        }
      }
    } else {  // hnswlib's own format, from an earlier version
      std::string().swap(bytes);
      auto space = MakeSpace(metric, dim);
      hnswlib::HierarchicalNSW<float> h(space.get(), file.string());
      if (h.label_offset_ == h.offsetData_ + dim * sizeof(float)) {  // written for `dim`
        impl = Impl::Freeze(h, rows);
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

namespace {

// The k closest of a walk's kept points (a max-heap), ties by offset as ExactSearch breaks them.
std::vector<Hit> ClosestKept(std::priority_queue<std::pair<float, Node>>* kept, size_t k) {
  std::vector<Hit> out;
  out.reserve(kept->size());
  for (; !kept->empty(); kept->pop()) {
    out.push_back({kept->top().second, kept->top().first});
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

}  // namespace

// ACORN-1 on level 0 (Patel et al., SIGMOD 2024; Qdrant 1.16's `params.acorn`): only accepted
// points are scored and walked from. An expansion takes the node's accepted links (at most
// max0), and through each rejected link that link's own accepted links not yet seen (at most
// max0 more per rejected link), so the walk stays inside the filter's subgraph even where a
// restrictive filter leaves it without direct links. `marks` holds what was taken or bridged
// through as a 1-hop link; `marks2` what was looked at as a 2-hop link.
template <typename Scorer>
std::vector<Hit> HnswGraph::TwoHopWalk(const Impl& g, const Scorer& score, size_t k, size_t ef,
                                       const AcceptFn& accept, Node entry, float entry_dist) {
  WalkScratch& scratch = walk_scratch;
  scratch.Begin(g.rows, g.max0, /*two_hop=*/true);
  uint16_t* marks = scratch.marks.data();
  uint16_t* marks2 = scratch.marks2.data();
  const uint16_t tag = scratch.tag;
  std::vector<Node>& fresh = scratch.fresh;
  std::vector<Node>& bridges = scratch.bridges;
  using Entry = std::pair<float, Node>;
  std::priority_queue<Entry, std::vector<Entry>, CloserFirst> candidates;
  std::priority_queue<Entry> kept;  // farthest on top
  float bound = std::numeric_limits<float>::max();
  // The entry is walked from even when rejected: it is where the upper levels led.
  candidates.emplace(entry_dist, entry);
  marks[entry] = tag;
  if (accept(entry)) {
    kept.emplace(entry_dist, entry);
    bound = entry_dist;
  }
  const size_t limit = g.max0;
  while (!candidates.empty()) {
    const auto [d, node] = candidates.top();
    if (d > bound && kept.size() >= ef) {
      break;
    }
    candidates.pop();
    fresh.clear();
    bridges.clear();
    const Node* links = g.level0(node);
    const uint32_t degree = g.degree0[node];
    for (uint32_t i = 0; i < degree && fresh.size() < limit; ++i) {
      const Node n = links[i];
      if (marks[n] == tag) {
        continue;
      }
      marks[n] = tag;
      if (accept(n)) {
        fresh.push_back(n);
        score.Prefetch(n);
      } else {
        bridges.push_back(n);
        __builtin_prefetch(g.level0(n));
      }
    }
    for (const Node bridge : bridges) {
      const size_t most = fresh.size() + limit;
      const Node* links2 = g.level0(bridge);
      const uint32_t degree2 = g.degree0[bridge];
      for (uint32_t i = 0; i < degree2 && fresh.size() < most; ++i) {
        const Node n = links2[i];
        if (marks[n] == tag || marks2[n] == tag) {
          continue;
        }
        marks2[n] = tag;
        if (accept(n)) {
          marks[n] = tag;
          fresh.push_back(n);
          score.Prefetch(n);
        }
      }
    }
    for (const Node n : fresh) {
      const float nd = score(n);
      if (kept.size() < ef || nd < bound) {
        candidates.emplace(nd, n);
        kept.emplace(nd, n);
        if (kept.size() > ef) {
          kept.pop();
        }
        bound = kept.top().first;
      }
    }
    if (!candidates.empty()) {
      __builtin_prefetch(g.level0(candidates.top().second));
      __builtin_prefetch(&g.degree0[candidates.top().second]);
    }
  }
  return ClosestKept(&kept, k);
}

template <typename Scorer>
std::vector<Hit> HnswGraph::Search(const Scorer& score, size_t k, size_t ef,
                                   const AcceptFn& accept, bool two_hop) const {
  const Impl& g = *impl_;
  std::vector<Hit> out;
  if (k == 0 || g.inserted == 0) {
    return out;
  }
  ef = std::max(ef, k);
  auto accepted = [&](Node n) { return !accept || accept(n); };

  // Greedy descent through the upper levels, unfiltered: they only find an entry point.
  Node cur = g.entry;
  float cur_dist = score(cur);
  for (int level = g.max_level; level > 0; --level) {
    bool changed = true;
    while (changed) {
      changed = false;
      const Node* list = g.upper_list(cur, level);
      for (Node i = 0; i < list[0]; ++i) {
        const float d = score(list[1 + i]);
        if (d < cur_dist) {
          cur_dist = d;
          cur = list[1 + i];
          changed = true;
        }
      }
    }
  }

  if (two_hop && accept) {
    return TwoHopWalk(*impl_, score, k, ef, accept, cur, cur_dist);
  }

  // Beam search on level 0: rejected points are walked through but never kept. Each expansion
  // first marks the neighbours not yet visited and prefetches the start of their rows, so
  // that their reads overlap, then computes their distances.
  WalkScratch& scratch = walk_scratch;
  scratch.Begin(g.rows, g.max0);
  uint16_t* marks = scratch.marks.data();
  const uint16_t tag = scratch.tag;
  Node* fresh = scratch.fresh.data();
  using Entry = std::pair<float, Node>;
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
      score.Prefetch(n);
    }
    for (size_t i = 0; i < nfresh; ++i) {
      const Node n = fresh[i];
      const float nd = score(n);
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

  return ClosestKept(&kept, k);
}

// The scorers a walk runs with.
template std::vector<Hit> HnswGraph::Search<DenseScorer>(const DenseScorer&, size_t, size_t,
                                                         const AcceptFn&, bool) const;

Result<uint32_t> HnswGraph::SaveTo(const fs::path& file) const {
  const std::string bytes = impl_->Serialize(metric_, dim_);
  TESSERA_RETURN_IF_ERROR(WriteFileAtomically(file, bytes));
  return crc32c::Value(bytes);
}

size_t HnswGraph::size() const {
  return impl_->inserted;
}

size_t HnswGraph::rows() const {
  return impl_->rows;
}

size_t HnswGraph::m() const {
  return impl_->max_upper;
}

size_t HnswGraph::ef_construct() const {
  return impl_->ef_construct;
}

}  // namespace tessera::index

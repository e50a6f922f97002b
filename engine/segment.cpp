#include "engine/segment.h"

#include <cassert>
#include <cstring>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/coding.h"
#include "common/file.h"
#include "common/framing.h"

namespace tessera::engine {

namespace fs = std::filesystem;
namespace json = boost::json;

index::Metric MetricFor(Distance distance) {
  switch (distance) {
    case Distance::kCosine:
      return index::Metric::kCosine;
    case Distance::kDot:
      return index::Metric::kDot;
    case Distance::kEuclid:
      return index::Metric::kEuclid;
    case Distance::kManhattan:
      return index::Metric::kManhattan;
  }
  return index::Metric::kCosine;
}

std::vector<VectorSpec> SpecsFor(const CollectionConfig& config) {
  std::vector<VectorSpec> specs;
  for (const auto& [name, params] : config.vectors) {
    specs.push_back({name, params.size, MetricFor(params.distance),
                     params.multivector ? VectorKind::kMulti : VectorKind::kDense});
  }
  for (const auto& [name, params] : config.sparse_vectors) {
    specs.push_back({name, 0, index::Metric::kDot, VectorKind::kSparse});
  }
  return specs;
}

Segment::Segment(uint64_t id, std::vector<VectorSpec> specs)
    : id_(id), specs_(std::move(specs)), graph_files_(specs_.size()) {
  vectors_.reserve(specs_.size());
  for (const VectorSpec& spec : specs_) {
    const size_t dense_dim = spec.kind == VectorKind::kDense ? spec.dim : 0;
    vectors_.push_back({index::DenseStorage(spec.metric, dense_dim), nullptr, {},
                        index::MultiDenseStorage(spec.metric, spec.multi() ? spec.dim : 0)});
  }
}

Segment::~Segment() = default;

int Segment::VectorIndex(std::string_view name) const {
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (specs_[i].name == name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

NamedVectors Segment::vectors_of(Offset o) const {
  NamedVectors out;
  for (size_t v = 0; v < specs_.size(); ++v) {
    if (!has_vector(v, o)) {
      continue;
    }
    if (specs_[v].sparse()) {
      const index::SparseVectorIndex::View view = vectors_[v].sparse.Get(o);
      out[specs_[v].name] = SparseVector{{view.indices.begin(), view.indices.end()},
                                         {view.values.begin(), view.values.end()}};
    } else if (specs_[v].multi()) {
      const std::span<const float> rows = vectors_[v].multi.Get(o);
      out[specs_[v].name] = MultiDenseVector{specs_[v].dim, {rows.begin(), rows.end()}};
    } else {
      const auto values = vector(v, o);
      out[specs_[v].name] = DenseVector(values.begin(), values.end());
    }
  }
  return out;
}

std::vector<index::Hit> Segment::Search(size_t vec, std::span<const float> query, size_t k,
                                        size_t ef, bool exact, const index::AcceptFn& accept,
                                        bool two_hop) const {
  const VectorSlot& slot = vectors_[vec];
  auto live = [&](Offset o) {
    return o < ids_.size() && !ids_.deleted(o) && slot.storage.has(o) && (!accept || accept(o));
  };
  if (slot.index != nullptr && !exact) {
    const index::DenseScorer score(slot.storage, query);
    // A graph holds only points that had this vector when it was built, and a sealed segment
    // changes only by tombstones: with none, and no filter, every graph point is a hit and the
    // walk needs no per-point check.
    if (!accept && ids_.live_count() == ids_.size()) {
      return slot.index->Search(score, k, ef, {});
    }
    return slot.index->Search(score, k, ef, live, two_hop && accept);
  }
  return slot.storage.ExactSearch(query, k, live);
}

std::vector<index::Hit> Segment::SearchAmong(size_t vec, std::span<const float> query, size_t k,
                                             std::span<const Offset> offsets,
                                             const index::AcceptFn& accept) const {
  auto live = [&](Offset o) {
    return o < ids_.size() && !ids_.deleted(o) && (!accept || accept(o));
  };
  return vectors_[vec].storage.ExactSearchAmong(query, k, offsets, live);
}

std::vector<index::Hit> Segment::SearchSparse(size_t vec, const index::SparseQuery& query,
                                              size_t k, const std::vector<Offset>* offsets,
                                              const index::AcceptFn& accept) const {
  auto live = [&](Offset o) {
    return o < ids_.size() && !ids_.deleted(o) && (!accept || accept(o));
  };
  const index::SparseVectorIndex& sparse = vectors_[vec].sparse;
  return offsets != nullptr ? sparse.SearchAmong(query, k, *offsets, live)
                            : sparse.Search(query, k, live);
}

std::vector<index::Hit> Segment::SearchMulti(size_t vec, std::span<const float> query, size_t k,
                                             const std::vector<Offset>* offsets,
                                             const index::AcceptFn& accept) const {
  auto live = [&](Offset o) {
    return o < ids_.size() && !ids_.deleted(o) && (!accept || accept(o));
  };
  const index::MultiDenseStorage& multi = vectors_[vec].multi;
  return offsets != nullptr ? multi.ExactSearchAmong(query, k, *offsets, live)
                            : multi.ExactSearch(query, k, live);
}

void Segment::Reserve(size_t points) {
  ids_.Reserve(points);
  payloads_.Reserve(points);
  for (size_t v = 0; v < specs_.size(); ++v) {
    switch (specs_[v].kind) {
      case VectorKind::kSparse:
        vectors_[v].sparse.Reserve(points);
        break;
      case VectorKind::kMulti:
        vectors_[v].multi.Reserve(points);
        break;
      case VectorKind::kDense:
        vectors_[v].storage.Reserve(points);
        break;
    }
  }
}

Offset Segment::Put(const PointId& id, SeqNo version, const NamedVectors& vectors,
                    json::object payload) {
  Offset o;
  std::optional<json::object> before;  // kept for the payload indexes when some is current
  bool fresh = false;
  if (auto existing = ids_.Find(id)) {
    o = *existing;
    if (payload_index_.Tracking(body_generation_)) {
      before = std::move(payloads_.Mutable(o));
    }
    ids_.SetDeleted(o, false);
    ids_.SetVersion(o, version);
  } else {
    o = ids_.Add(id, version);
    fresh = true;
    payloads_.Append();
    for (size_t v = 0; v < specs_.size(); ++v) {
      switch (specs_[v].kind) {
        case VectorKind::kSparse:
          vectors_[v].sparse.Append();
          break;
        case VectorKind::kMulti:
          vectors_[v].multi.Append();
          break;
        case VectorKind::kDense:
          vectors_[v].storage.Append();
          break;
      }
    }
  }
  payloads_.Mutable(o) = std::move(payload);
  PayloadChanged(o, before ? &*before : nullptr, fresh);
  for (size_t v = 0; v < specs_.size(); ++v) {
    auto it = vectors.find(specs_[v].name);
    if (it != vectors.end()) {
      SetVector(v, o, it->second);
    } else {
      RemoveVector(v, o);
    }
  }
  BodyChanged();
  return o;
}

void Segment::Delete(Offset o, SeqNo version) {
  ids_.SetDeleted(o, true);
  ids_.SetVersion(o, version);
  ++generation_;
}

void Segment::SetVector(size_t vec, Offset o, const VectorInput& value) {
  assert(vectors_[vec].index == nullptr);  // sealed segments change by tombstones only
  if (specs_[vec].multi()) {
    const auto* multi = std::get_if<MultiDenseVector>(&value);
    assert(multi != nullptr && multi->dim == specs_[vec].dim);
    if (multi == nullptr || multi->dim != specs_[vec].dim || multi->values.empty() ||
        multi->values.size() % multi->dim != 0) {
      return;
    }
    vectors_[vec].multi.Set(o, multi->values);
    BodyChanged();
    return;
  }
  if (specs_[vec].sparse()) {
    const auto* sparse = std::get_if<SparseVector>(&value);
    assert(sparse != nullptr);
    if (sparse == nullptr || sparse->indices.size() != sparse->values.size()) {
      return;
    }
    vectors_[vec].sparse.Set(o, sparse->indices, sparse->values);
    BodyChanged();
    return;
  }
  const DenseVector* dense = AsDense(value);
  assert(dense != nullptr && dense->size() == specs_[vec].dim);
  if (dense == nullptr || dense->size() != specs_[vec].dim) {
    return;
  }
  vectors_[vec].storage.Set(o, *dense);
  BodyChanged();
}

void Segment::RemoveVector(size_t vec, Offset o) {
  assert(vectors_[vec].index == nullptr);
  switch (specs_[vec].kind) {
    case VectorKind::kSparse:
      vectors_[vec].sparse.Clear(o);
      break;
    case VectorKind::kMulti:
      vectors_[vec].multi.Clear(o);
      break;
    case VectorKind::kDense:
      vectors_[vec].storage.Clear(o);
      break;
  }
  BodyChanged();
}

Status Segment::BuildGraphs(std::span<const index::HnswParams> params, size_t threads,
                            std::span<const index::HnswSeed> seeds,
                            index::HnswBuildStats* stats) {
  if (params.size() != specs_.size()) {
    return Status::InvalidArgument("BuildGraphs: parameters for " +
                                   std::to_string(params.size()) + " vectors, the segment has " +
                                   std::to_string(specs_.size()));
  }
  for (size_t v = 0; v < specs_.size(); ++v) {
    if (specs_[v].kind != VectorKind::kDense) {
      continue;  // a sparse vector's inverted index is kept as the points come; multivectors
                 // are searched exactly
    }
    if (params[v].m == 0) {  // searched exactly
      vectors_[v].index.reset();
      graph_files_[v] = {};
      continue;
    }
    const index::HnswSeed* seed =
        v < seeds.size() && seeds[v].graph != nullptr ? &seeds[v] : nullptr;
    index::HnswBuildStats built;
    TESSERA_ASSIGN_OR_RETURN(
        vectors_[v].index,
        index::HnswGraph::Build(params[v], vectors_[v].storage, threads,
                                [&](Offset o) { return !ids_.deleted(o); }, seed, &built));
    if (stats != nullptr) {
      stats->reused += built.reused;
      stats->healed += built.healed;
      stats->inserted += built.inserted;
    }
    graph_files_[v] = {};
  }
  BodyChanged();
  return Status::Ok();
}

bool Segment::needs_graphs() const {
  for (size_t v = 0; v < specs_.size(); ++v) {
    if (specs_[v].kind == VectorKind::kDense && vectors_[v].index == nullptr) {
      return true;
    }
  }
  return false;
}

size_t Segment::indexed_vectors() const {
  size_t n = 0;
  for (const VectorSlot& slot : vectors_) {
    if (slot.index != nullptr) {
      for (size_t o = 0; o < ids_.size(); ++o) {
        n += !ids_.deleted(static_cast<Offset>(o)) && slot.storage.has(static_cast<Offset>(o));
      }
    }
  }
  return n;
}

size_t Segment::column_bytes() const {
  size_t bytes = 0;
  for (size_t v = 0; v < specs_.size(); ++v) {
    bytes += specs_[v].sparse()  ? vectors_[v].sparse.bytes()
             : specs_[v].multi() ? vectors_[v].multi.bytes()
                                 : vectors_[v].storage.bytes();
  }
  return bytes;
}

std::vector<std::string> Segment::graph_files() const {
  std::vector<std::string> out;
  for (const GraphFile& g : graph_files_) {
    if (!g.name.empty()) {
      out.push_back(g.name);
    }
  }
  return out;
}

// ---- persistence ----
//
//   body  := magic:"TSSG" version:fixed32(=3) b crc32c(b):fixed32
//   b     := id:varint sealed:bool nspec:varint (name:lp dim:varint metric:u8 kind:u8)*
//            ids payload*[n] column*[nspec] graph*[nspec]
//   ids   := n:varint id*[n]                          (id_tracker.h; id: point_id.h)
//   payload := lp(JSON text, "" = {})
//   column:= present:bytes[n] data:f32[n*dim]         (a dense vector; zeros where absent)
//          | (present:bool [nnz:varint (index:varint value:f32)*nnz])*[n]    (a sparse one)
//          | (present:bool [rows:varint f32[rows*dim]])*[n]                 (a multivector)
//   kind  := 0 dense | 1 sparse | 2 multivector (segment.h VectorKind)
//   graph := has:bool [file:lp crc:fixed32]           (file: a name in the same folder)
//
//   versions file := magic:"TSSV" version:fixed32(=1) v crc32c(v):fixed32
//   v     := segment_id:varint n:varint (deleted:bool version:varint)*[n]
//
// Body version 2 is version 3 without the specs' `kind` byte (dense vectors only).
// Body version 1 (written before versions had a file of their own) has, after the specs,
//   n:varint (id deleted:bool version:varint payload)*[n] column*[nspec] graph*[nspec]

namespace {
constexpr std::string_view kMagic = "TSSG";
constexpr uint32_t kVersion = 3;
constexpr std::string_view kVersionsMagic = "TSSV";
constexpr uint32_t kVersionsVersion = 1;
}  // namespace

Segment::Image Segment::TakeImage(const std::shared_ptr<const Segment>& segment) {
  Image image;
  image.generation = segment->generation_;
  image.body_generation = segment->body_generation_;
  bool has_graph = false;
  for (const VectorSlot& slot : segment->vectors_) {
    has_graph = has_graph || slot.index != nullptr;
  }
  if (segment->sealed_ || has_graph) {
    image.versions = segment->ids_.CopyVersions();
    image.segment = segment;
    return image;
  }
  // An appendable segment has no graphs: everything it holds is in these members.
  auto copy = std::make_shared<Segment>(segment->id_, segment->specs_);
  copy->ids_ = segment->ids_;
  copy->payloads_ = segment->payloads_;
  for (size_t v = 0; v < copy->vectors_.size(); ++v) {
    copy->vectors_[v].storage = segment->vectors_[v].storage;
    copy->vectors_[v].sparse = segment->vectors_[v].sparse;
    copy->vectors_[v].multi = segment->vectors_[v].multi;
  }
  copy->sealed_ = segment->sealed_;
  image.versions = copy->ids_.CopyVersions();
  image.segment = std::move(copy);
  return image;
}

Result<std::string> Segment::Serialize(const Image& image, const fs::path& dir) {
  const Segment& s = *image.segment;
  for (size_t v = 0; v < s.specs_.size(); ++v) {
    if (s.vectors_[v].index != nullptr && s.graph_files_[v].name.empty()) {
      const std::string name =
          "segment-" + std::to_string(s.id_) + "-" + std::to_string(v) + ".hnsw";
      TESSERA_ASSIGN_OR_RETURN(uint32_t crc, s.vectors_[v].index->SaveTo(dir / name));
      s.graph_files_[v] = {name, crc};
    }
  }
  std::string body;
  PutVarint64(&body, s.id_);
  PutBool(&body, s.sealed_);
  PutVarint64(&body, s.specs_.size());
  for (const VectorSpec& spec : s.specs_) {
    PutLengthPrefixed(&body, spec.name);
    PutVarint64(&body, spec.dim);
    body.push_back(static_cast<char>(spec.metric));
    body.push_back(static_cast<char>(spec.kind));
  }
  s.ids_.EncodeIds(&body);
  s.payloads_.EncodeTo(&body);
  for (size_t v = 0; v < s.specs_.size(); ++v) {
    if (s.specs_[v].sparse()) {
      s.vectors_[v].sparse.EncodeTo(&body);
    } else if (s.specs_[v].multi()) {
      s.vectors_[v].multi.EncodeTo(&body);
    } else {
      s.vectors_[v].storage.EncodeTo(&body);
    }
  }
  for (size_t v = 0; v < s.specs_.size(); ++v) {
    PutBool(&body, !s.graph_files_[v].name.empty());
    if (!s.graph_files_[v].name.empty()) {
      PutLengthPrefixed(&body, s.graph_files_[v].name);
      PutFixed32(&body, s.graph_files_[v].crc);
    }
  }
  return FrameFile(kMagic, kVersion, body);
}

std::string Segment::SerializeVersions(const Image& image) {
  std::string body;
  PutVarint64(&body, image.segment->id_);
  IdTracker::EncodeVersions(image.versions, &body);
  return FrameFile(kVersionsMagic, kVersionsVersion, body);
}

namespace {

struct Head {
  uint64_t id = 0;
  bool sealed = false;
  std::vector<VectorSpec> specs;
};

bool ReadHead(Decoder* d, uint32_t version, Head* head) {
  uint64_t nspec;
  if (!d->GetVarint64(&head->id) || !d->GetBool(&head->sealed) || !d->GetVarint64(&nspec) ||
      nspec > 4096) {
    return false;
  }
  head->specs.resize(nspec);
  for (VectorSpec& s : head->specs) {
    std::string_view name, metric;
    if (!d->GetLengthPrefixed(&name) || !d->GetVarint64(&s.dim) || s.dim > (1u << 20) ||
        !d->GetBytes(1, &metric) || static_cast<uint8_t>(metric[0]) > 3) {
      return false;
    }
    s.name = std::string(name);
    s.metric = static_cast<index::Metric>(metric[0]);
    std::string_view kind;
    if (version >= 3) {
      if (!d->GetBytes(1, &kind) || static_cast<uint8_t>(kind[0]) > 2) {
        return false;
      }
      s.kind = static_cast<VectorKind>(kind[0]);
      if ((s.sparse() && s.dim != 0) || (s.multi() && s.dim == 0)) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

Status Segment::LoadColumnsAndGraphs(Decoder* in, const fs::path& dir, const std::string& where) {
  auto bad = [&] { return Status::Corruption(where + ": malformed body"); };
  const size_t n = size();
  for (size_t v = 0; v < specs_.size(); ++v) {
    if (specs_[v].sparse() || specs_[v].multi()) {
      const bool ok = specs_[v].sparse() ? vectors_[v].sparse.DecodeFrom(in, n)
                                         : vectors_[v].multi.DecodeFrom(in, n);
      if (!ok) {
        return bad();
      }
      continue;
    }
    std::string_view present, data;
    if (n > in->remaining() / std::max<size_t>(1, specs_[v].dim * sizeof(float)) ||
        !in->GetBytes(n, &present) || !in->GetBytes(n * specs_[v].dim * sizeof(float), &data) ||
        !vectors_[v].storage.DecodeFrom(n, present, data)) {
      return bad();
    }
  }
  for (size_t v = 0; v < specs_.size(); ++v) {
    bool has;
    if (!in->GetBool(&has)) {
      return bad();
    }
    if (has) {
      std::string_view name;
      uint32_t crc;
      if (!in->GetLengthPrefixed(&name) || !in->GetFixed32(&crc)) {
        return bad();
      }
      const VectorSpec& s = specs_[v];
      Result<std::unique_ptr<index::HnswGraph>> graph =
          index::HnswGraph::Load(dir / name, s.metric, s.dim, crc, n);
      if (!graph.ok()) {
        return graph.status().code() == Code::kCorruption
                   ? Status::Corruption(where + ": " + graph.status().message())
                   : graph.status();
      }
      vectors_[v].index = std::move(graph).value();
      graph_files_[v] = {std::string(name), crc};
    }
  }
  return in->empty() ? Status::Ok() : bad();
}

Result<std::unique_ptr<Segment>> Segment::Load(const fs::path& dir, const fs::path& body_file,
                                               const fs::path& versions_file) {
  TESSERA_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(dir / body_file));
  const std::string where = "segment " + (dir / body_file).string();
  TESSERA_ASSIGN_OR_RETURN(FramedBody framed, UnframeFile(bytes, kMagic, kVersion, where));
  if (framed.version == 1) {
    return LoadVersion1(framed.body, dir, where);
  }
  if (versions_file.empty()) {
    return Status::Corruption(where + ": no versions file named for it");
  }
  Decoder d(framed.body);
  auto bad = [&] { return Status::Corruption(where + ": malformed body"); };
  Head head;
  if (!ReadHead(&d, framed.version, &head)) {
    return bad();
  }
  auto segment = std::make_unique<Segment>(head.id, std::move(head.specs));
  segment->sealed_ = head.sealed;
  if (!segment->ids_.DecodeIds(&d)) {
    return bad();
  }
  const size_t n = segment->size();
  if (!segment->payloads_.DecodeFrom(&d, n)) {
    return bad();
  }
  TESSERA_RETURN_IF_ERROR(segment->LoadColumnsAndGraphs(&d, dir, where));

  const std::string vwhere = "segment versions " + (dir / versions_file).string();
  TESSERA_ASSIGN_OR_RETURN(std::string vbytes, ReadFileToString(dir / versions_file));
  TESSERA_ASSIGN_OR_RETURN(FramedBody vframed,
                           UnframeFile(vbytes, kVersionsMagic, kVersionsVersion, vwhere));
  Decoder vd(vframed.body);
  uint64_t vid;
  if (!vd.GetVarint64(&vid) || vid != segment->id_ || !segment->ids_.DecodeVersions(&vd) ||
      !vd.empty()) {
    return Status::Corruption(vwhere + ": malformed, or not this segment's");
  }
  segment->generation_ = 0;
  segment->body_generation_ = 0;
  return segment;
}

Result<std::unique_ptr<Segment>> Segment::LoadVersion1(std::string_view body, const fs::path& dir,
                                                       const std::string& where) {
  Decoder d(body);
  auto bad = [&] { return Status::Corruption(where + ": malformed body"); };
  Head head;
  if (!ReadHead(&d, 1, &head)) {
    return bad();
  }
  auto segment = std::make_unique<Segment>(head.id, std::move(head.specs));
  segment->sealed_ = head.sealed;
  uint64_t n;
  if (!d.GetVarint64(&n) || n > d.remaining()) {
    return bad();
  }
  segment->ids_.Reserve(n);  // not the vector storages: decoding sizes them once
  segment->payloads_.Reserve(n);
  for (uint64_t o = 0; o < n; ++o) {
    PointId pid;
    bool deleted;
    uint64_t version;
    json::object payload;
    if (!GetPointId(&d, &pid) || !d.GetBool(&deleted) || !d.GetVarint64(&version) ||
        !PayloadStorage::DecodeOne(&d, &payload) || segment->ids_.Find(pid)) {
      return bad();
    }
    const Offset at = segment->ids_.Add(pid, version);
    segment->ids_.SetDeleted(at, deleted);
    segment->payloads_.Append();
    segment->payloads_.Mutable(at) = std::move(payload);
  }
  TESSERA_RETURN_IF_ERROR(segment->LoadColumnsAndGraphs(&d, dir, where));
  segment->generation_ = 0;
  segment->body_generation_ = 0;
  return segment;
}

}  // namespace tessera::engine

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
    specs.push_back({name, params.size, MetricFor(params.distance)});
  }
  return specs;
}

Segment::Segment(uint64_t id, std::vector<VectorSpec> specs)
    : id_(id),
      specs_(std::move(specs)),
      vectors_(specs_.size()),
      graphs_(specs_.size()),
      graph_files_(specs_.size()) {}

Segment::~Segment() = default;

int Segment::VectorIndex(std::string_view name) const {
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (specs_[i].name == name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

std::optional<Offset> Segment::Find(const PointId& id) const {
  auto it = offsets_.find(id);
  if (it == offsets_.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::optional<Offset> Segment::FindLive(const PointId& id) const {
  auto o = Find(id);
  if (o && deleted_[*o]) {
    return std::nullopt;
  }
  return o;
}

std::span<const float> Segment::vector(size_t vec, Offset o) const {
  const size_t dim = specs_[vec].dim;
  if (vectors_[vec].in_graph) {
    const float* v = graphs_[vec]->VectorOf(o);
    return v != nullptr ? std::span<const float>(v, dim) : std::span<const float>();
  }
  return std::span<const float>(vectors_[vec].data).subspan(o * dim, dim);
}

NamedVectors Segment::vectors_of(Offset o) const {
  NamedVectors out;
  for (size_t v = 0; v < specs_.size(); ++v) {
    if (has_vector(v, o)) {
      const auto values = vector(v, o);
      out[specs_[v].name] = std::vector<float>(values.begin(), values.end());
    }
  }
  return out;
}

std::vector<index::Hit> Segment::Search(size_t vec, std::span<const float> query, size_t k,
                                        size_t ef, bool exact,
                                        const index::AcceptFn& accept) const {
  auto live = [&](Offset o) {
    return o < ids_.size() && !deleted_[o] && vectors_[vec].present[o] && (!accept || accept(o));
  };
  if (graphs_[vec] != nullptr && !exact) {
    // A graph holds only points that had this vector when it was built, and a sealed segment
    // changes only by tombstones: with none, and no filter, every graph point is a hit and the
    // walk needs no per-point check.
    if (!accept && live_count_ == ids_.size()) {
      return graphs_[vec]->Search(query, k, ef, {});
    }
    return graphs_[vec]->Search(query, k, ef, live);
  }
  if (vectors_[vec].in_graph) {
    return graphs_[vec]->ExactSearch(query, k, live);
  }
  return index::ExactSearch(specs_[vec].metric, vectors_[vec].data, specs_[vec].dim, query, k,
                            live);
}

void Segment::Reserve(size_t points) {
  ids_.reserve(points);
  offsets_.reserve(points);
  deleted_.reserve(points);
  versions_.reserve(points);
  payloads_.reserve(points);
  for (size_t v = 0; v < specs_.size(); ++v) {
    vectors_[v].data.reserve(points * specs_[v].dim);
    vectors_[v].present.reserve(points);
  }
}

Offset Segment::Put(const PointId& id, SeqNo version, const NamedVectors& vectors,
                    json::object payload) {
  Offset o;
  if (auto existing = Find(id)) {
    o = *existing;
    if (deleted_[o]) {
      deleted_[o] = 0;
      ++live_count_;
    }
  } else {
    o = static_cast<Offset>(ids_.size());
    ids_.push_back(id);
    offsets_.emplace(id, o);
    deleted_.push_back(0);
    versions_.push_back(0);
    payloads_.emplace_back();
    for (size_t v = 0; v < specs_.size(); ++v) {
      vectors_[v].data.resize(vectors_[v].data.size() + specs_[v].dim, 0.0f);
      vectors_[v].present.push_back(0);
    }
    ++live_count_;
  }
  versions_[o] = version;
  payloads_[o] = std::move(payload);
  for (size_t v = 0; v < specs_.size(); ++v) {
    auto it = vectors.find(specs_[v].name);
    if (it != vectors.end()) {
      SetVector(v, o, it->second);
    } else {
      RemoveVector(v, o);
    }
  }
  ++generation_;
  return o;
}

void Segment::Delete(Offset o, SeqNo version) {
  if (!deleted_[o]) {
    deleted_[o] = 1;
    --live_count_;
  }
  versions_[o] = version;
  ++generation_;
}

void Segment::SetVector(size_t vec, Offset o, std::span<const float> values) {
  assert(!vectors_[vec].in_graph);  // sealed segments change by tombstones only
  std::memcpy(vectors_[vec].data.data() + o * specs_[vec].dim, values.data(),
              values.size() * sizeof(float));
  vectors_[vec].present[o] = 1;
  ++generation_;
}

void Segment::RemoveVector(size_t vec, Offset o) {
  assert(!vectors_[vec].in_graph);
  std::fill_n(vectors_[vec].data.begin() + static_cast<std::ptrdiff_t>(o * specs_[vec].dim),
              specs_[vec].dim, 0.0f);
  vectors_[vec].present[o] = 0;
  ++generation_;
}

Status Segment::BuildGraphs(const index::HnswParams& params, size_t threads) {
  for (size_t v = 0; v < specs_.size(); ++v) {
    TESSERA_ASSIGN_OR_RETURN(
        auto graph,
        index::HnswGraph::Build(specs_[v].metric, specs_[v].dim, params, vectors_[v].data, threads,
                                [&](Offset o) { return !deleted_[o] && vectors_[v].present[o]; }));
    graphs_[v] = std::move(graph);
    graph_files_[v] = {};
    std::vector<float>().swap(vectors_[v].data);  // the graph has its own copy (`= {}` keeps
    vectors_[v].in_graph = true;                  // the capacity)
  }
  ++generation_;
  return Status::Ok();
}

size_t Segment::indexed_vectors() const {
  size_t n = 0;
  for (size_t v = 0; v < specs_.size(); ++v) {
    if (graphs_[v] != nullptr) {
      for (size_t o = 0; o < ids_.size(); ++o) {
        n += !deleted_[o] && vectors_[v].present[o];
      }
    }
  }
  return n;
}

size_t Segment::column_bytes() const {
  size_t bytes = 0;
  for (const VectorColumn& c : vectors_) {
    bytes += c.data.capacity() * sizeof(float) + c.present.capacity();
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
//   file  := magic:"TSSG" version:fixed32(=1) body crc32c(body):fixed32
//   body  := id:varint sealed:bool nspec:varint (name:lp dim:varint metric:u8)*
//            n:varint point*[n] column*[nspec] graph*[nspec]
//   point := id deleted:bool version:varint payload:lp(JSON text, "" = {})
//   column:= present:bytes[n] data:f32[n*dim]
//   graph := has:bool [file:lp crc:fixed32]       (file: a name in the same folder)
//   id    := 0 num:varint | 1 uuid:16 bytes

namespace {
constexpr std::string_view kMagic = "TSSG";
constexpr uint32_t kVersion = 1;
}  // namespace

Segment::Image Segment::TakeImage(const std::shared_ptr<const Segment>& segment) {
  Image image;
  image.generation = segment->generation_;
  bool has_graph = false;
  for (const auto& g : segment->graphs_) {
    has_graph = has_graph || g != nullptr;
  }
  if (segment->sealed_ || has_graph) {
    image.segment = segment;
    image.deleted = segment->deleted_;
    image.versions = segment->versions_;
    return image;
  }
  // An appendable segment has no graphs: everything it holds is in these members.
  auto copy = std::make_shared<Segment>(segment->id_, segment->specs_);
  copy->ids_ = segment->ids_;
  copy->offsets_ = segment->offsets_;
  copy->deleted_ = segment->deleted_;
  copy->versions_ = segment->versions_;
  copy->payloads_ = segment->payloads_;
  copy->vectors_ = segment->vectors_;
  copy->live_count_ = segment->live_count_;
  copy->sealed_ = segment->sealed_;
  image.deleted = segment->deleted_;
  image.versions = segment->versions_;
  image.segment = std::move(copy);
  return image;
}

Result<std::string> Segment::Serialize(const Image& image, const fs::path& dir) {
  const Segment& s = *image.segment;
  for (size_t v = 0; v < s.specs_.size(); ++v) {
    if (s.graphs_[v] != nullptr && s.graph_files_[v].name.empty()) {
      const std::string name =
          "segment-" + std::to_string(s.id_) + "-" + std::to_string(v) + ".hnsw";
      TESSERA_ASSIGN_OR_RETURN(uint32_t crc, s.graphs_[v]->SaveTo(dir / name));
      s.graph_files_[v] = {name, crc};
    }
  }
  const size_t n = image.deleted.size();
  std::string body;
  PutVarint64(&body, s.id_);
  PutBool(&body, s.sealed_);
  PutVarint64(&body, s.specs_.size());
  for (const VectorSpec& spec : s.specs_) {
    PutLengthPrefixed(&body, spec.name);
    PutVarint64(&body, spec.dim);
    body.push_back(static_cast<char>(spec.metric));
  }
  PutVarint64(&body, n);
  for (size_t o = 0; o < n; ++o) {
    const PointId& id = s.ids_[o];
    if (id.is_uuid()) {
      body.push_back(1);
      body.append(reinterpret_cast<const char*>(id.uuid().data()), 16);
    } else {
      body.push_back(0);
      PutVarint64(&body, id.num());
    }
    PutBool(&body, image.deleted[o] != 0);
    PutVarint64(&body, image.versions[o]);
    PutLengthPrefixed(&body,
                      s.payloads_[o].empty() ? std::string() : json::serialize(s.payloads_[o]));
  }
  for (size_t v = 0; v < s.specs_.size(); ++v) {
    body.append(reinterpret_cast<const char*>(s.vectors_[v].present.data()), n);
    if (!s.vectors_[v].in_graph) {
      body.append(reinterpret_cast<const char*>(s.vectors_[v].data.data()),
                  n * s.specs_[v].dim * sizeof(float));
      continue;
    }
    const std::vector<float> zeros(s.specs_[v].dim, 0.0f);
    for (Offset o = 0; o < n; ++o) {
      std::span<const float> values = s.vector(v, o);
      if (values.empty()) {
        values = zeros;
      }
      body.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
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

Result<std::unique_ptr<Segment>> Segment::Load(const fs::path& dir, const fs::path& file) {
  TESSERA_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(dir / file));
  const std::string where = "segment " + (dir / file).string();
  TESSERA_ASSIGN_OR_RETURN(FramedBody framed, UnframeFile(bytes, kMagic, kVersion, where));
  const std::string_view body = framed.body;
  Decoder d(body);
  auto bad = [&] { return Status::Corruption(where + ": malformed body"); };
  uint64_t id, nspec, n;
  bool sealed;
  if (!d.GetVarint64(&id) || !d.GetBool(&sealed) || !d.GetVarint64(&nspec) || nspec > 4096) {
    return bad();
  }
  std::vector<VectorSpec> specs(nspec);
  for (VectorSpec& s : specs) {
    std::string_view name, metric;
    if (!d.GetLengthPrefixed(&name) || !d.GetVarint64(&s.dim) || !d.GetBytes(1, &metric) ||
        static_cast<uint8_t>(metric[0]) > 3) {
      return bad();
    }
    s.name = std::string(name);
    s.metric = static_cast<index::Metric>(metric[0]);
  }
  auto segment = std::make_unique<Segment>(id, std::move(specs));
  segment->sealed_ = sealed;
  if (!d.GetVarint64(&n) || n > d.remaining()) {
    return bad();
  }
  segment->ids_.reserve(n);
  for (uint64_t o = 0; o < n; ++o) {
    std::string_view tag, payload_text;
    PointId pid;
    bool deleted;
    uint64_t version;
    if (!d.GetBytes(1, &tag)) {
      return bad();
    }
    if (tag[0] == 0) {
      uint64_t num;
      if (!d.GetVarint64(&num)) {
        return bad();
      }
      pid = PointId::Num(num);
    } else {
      std::string_view raw;
      if (tag[0] != 1 || !d.GetBytes(16, &raw)) {
        return bad();
      }
      std::array<uint8_t, 16> uuid;
      std::memcpy(uuid.data(), raw.data(), 16);
      pid = PointId::Uuid(uuid);
    }
    if (!d.GetBool(&deleted) || !d.GetVarint64(&version) || !d.GetLengthPrefixed(&payload_text)) {
      return bad();
    }
    json::object payload;
    if (!payload_text.empty()) {
      boost::system::error_code ec;
      json::value v = json::parse(payload_text, ec);
      if (ec || !v.is_object()) {
        return bad();
      }
      payload = std::move(v.as_object());
    }
    segment->offsets_.emplace(pid, static_cast<Offset>(o));
    segment->ids_.push_back(pid);
    segment->deleted_.push_back(deleted ? 1 : 0);
    segment->versions_.push_back(version);
    segment->payloads_.push_back(std::move(payload));
    segment->live_count_ += deleted ? 0 : 1;
  }
  std::vector<std::string_view> columns(segment->specs_.size());
  for (size_t v = 0; v < segment->specs_.size(); ++v) {
    std::string_view present;
    const size_t dim = segment->specs_[v].dim;
    if (!d.GetBytes(n, &present) || !d.GetBytes(n * dim * sizeof(float), &columns[v])) {
      return bad();
    }
    segment->vectors_[v].present.assign(present.begin(), present.end());
  }
  for (size_t v = 0; v < segment->specs_.size(); ++v) {
    bool has;
    if (!d.GetBool(&has)) {
      return bad();
    }
    if (has) {
      std::string_view name;
      uint32_t crc;
      if (!d.GetLengthPrefixed(&name) || !d.GetFixed32(&crc)) {
        return bad();
      }
      const VectorSpec& s = segment->specs_[v];
      TESSERA_ASSIGN_OR_RETURN(segment->graphs_[v],
                               index::HnswGraph::Load(dir / name, s.metric, s.dim, crc));
      segment->graph_files_[v] = {std::string(name), crc};
    }
  }
  if (!d.empty()) {
    return bad();
  }
  for (size_t v = 0; v < segment->specs_.size(); ++v) {
    VectorColumn& column = segment->vectors_[v];
    if (segment->graphs_[v] != nullptr) {
      column.in_graph = true;  // read from the graph: one copy in memory
      continue;
    }
    column.data.resize(n * segment->specs_[v].dim);
    if (!columns[v].empty()) {  // memcpy from an empty (null) view is undefined
      std::memcpy(column.data.data(), columns[v].data(), columns[v].size());
    }
  }
  segment->generation_ = 0;
  return segment;
}

}  // namespace tessera::engine

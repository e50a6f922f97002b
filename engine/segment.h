#pragma once

// A segment: a set of points, made of components as Qdrant's segment is:
//   - an id tracker (id_tracker.h): PointId <-> Offset, versions, tombstones;
//   - per vector name a vector storage (index/dense_storage.h; sparse, multivector and
//     quantized storages go beside it) and an optional vector index (an HNSW graph over the
//     storage, scoring through the storage's distance computer);
//   - a payload storage (payload_storage.h) and its payload index (segment_payload_index.h:
//     today per-field statistics for planning; the payload-index issue, #17, builds postings,
//     ranges and full text there).
//
// A point is live in at most one segment of a collection. The appendable segment takes new
// points and changes in place; a sealed segment is immutable except for tombstones (a change
// to one of its points copies the point into the appendable segment and tombstones it here).
// So a segment is persisted as two files: its body (ids, vectors, payloads, graph names),
// written once a sealed segment, and its versions and tombstones, small, rewritten as they
// change.
//
// Thread-safety: none of its own. The collection's state lock guards it: writers exclusive,
// readers (Search, accessors) shared.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json/object.hpp>

#include "common/status.h"
#include "engine/id_tracker.h"
#include "engine/operations.h"
#include "engine/payload_storage.h"
#include "engine/segment_payload_index.h"
#include "engine/point_id.h"
#include "index/dense_storage.h"
#include "index/hnsw_graph.h"
#include "index/metric.h"
#include "index/multi_dense_storage.h"
#include "index/sparse_vector_index.h"
#include "wal/log_format.h"

namespace tessera::engine {

// A vector name's kind: dense (index/dense_storage.h, with a graph once sealed), sparse
// (index/sparse_vector_index.h, dot products) or multivector (index/multi_dense_storage.h,
// MaxSim over rows of `dim`).
enum class VectorKind : uint8_t { kDense = 0, kSparse = 1, kMulti = 2 };

struct VectorSpec {
  std::string name;
  size_t dim = 0;  // 0 for a sparse vector; a multivector's row dimension
  index::Metric metric = index::Metric::kCosine;
  VectorKind kind = VectorKind::kDense;
  bool sparse() const { return kind == VectorKind::kSparse; }
  bool multi() const { return kind == VectorKind::kMulti; }
  bool operator==(const VectorSpec&) const = default;
};

class Segment {
 public:
  Segment(uint64_t id, std::vector<VectorSpec> specs);
  ~Segment();

  uint64_t id() const { return id_; }
  const std::vector<VectorSpec>& specs() const { return specs_; }
  // -1 if there is no vector by that name.
  int VectorIndex(std::string_view name) const;

  // ---- reads ----
  const IdTracker& ids() const { return ids_; }
  std::optional<Offset> FindLive(const PointId& id) const { return ids_.FindLive(id); }
  std::optional<Offset> Find(const PointId& id) const { return ids_.Find(id); }
  size_t size() const { return ids_.size(); }  // offsets, tombstones included
  size_t live_count() const { return ids_.live_count(); }
  const PointId& point_id(Offset o) const { return ids_.point_id(o); }
  bool deleted(Offset o) const { return ids_.deleted(o); }
  SeqNo version(Offset o) const { return ids_.version(o); }
  const boost::json::object& payload(Offset o) const { return payloads_.Get(o); }
  const PayloadStorage& payloads() const { return payloads_; }
  // The payload-index slot: per-field structures over this segment's payloads.
  const SegmentPayloadIndex& payload_index() const { return payload_index_; }
  bool has_vector(size_t vec, Offset o) const {
    switch (specs_[vec].kind) {
      case VectorKind::kSparse:
        return vectors_[vec].sparse.has(o);
      case VectorKind::kMulti:
        return vectors_[vec].multi.has(o);
      case VectorKind::kDense:
        break;
    }
    return vectors_[vec].storage.has(o);
  }
  // A dense vector's values (empty for a sparse vector: see sparse()).
  std::span<const float> vector(size_t vec, Offset o) const { return vectors_[vec].storage.Get(o); }
  // A sparse vector's storage and inverted index.
  const index::SparseVectorIndex& sparse(size_t vec) const { return vectors_[vec].sparse; }
  // A multivector's storage.
  const index::MultiDenseStorage& multi(size_t vec) const { return vectors_[vec].multi; }
  // All vectors of a live point, by name.
  NamedVectors vectors_of(Offset o) const;

  // The k closest live points with vector `vec` that `accept` allows. Uses the vector's index
  // when it has one and `exact` is false (with `two_hop`, the graph's two-hop walk for a
  // restrictive `accept`: HnswGraph::Search); otherwise scans the storage.
  std::vector<index::Hit> Search(size_t vec, std::span<const float> query, size_t k, size_t ef,
                                 bool exact, const index::AcceptFn& accept,
                                 bool two_hop = false) const;
  // Exact search over the given offsets only (a filter's candidates), live ones `accept` allows.
  std::vector<index::Hit> SearchAmong(size_t vec, std::span<const float> query, size_t k,
                                      std::span<const Offset> offsets,
                                      const index::AcceptFn& accept) const;
  // The same for a sparse vector: from its inverted index, or among `offsets` when given.
  // Hit::distance is the negated dot product.
  std::vector<index::Hit> SearchSparse(size_t vec, const index::SparseQuery& query, size_t k,
                                       const std::vector<Offset>* offsets,
                                       const index::AcceptFn& accept) const;
  // The same for a multivector (`query`: rows of the vector's dimension), by exact MaxSim.
  // Hit::distance is the negated score.
  std::vector<index::Hit> SearchMulti(size_t vec, std::span<const float> query, size_t k,
                                      const std::vector<Offset>* offsets,
                                      const index::AcceptFn& accept) const;

  // ---- writes ----
  // Room for `points` points in all, so that filling a copy of known size allocates once.
  void Reserve(size_t points);
  // Inserts `id`, or overwrites it in place if present (live or tombstoned).
  Offset Put(const PointId& id, SeqNo version, const NamedVectors& vectors,
             boost::json::object payload);
  void Delete(Offset o, SeqNo version);
  void SetVersion(Offset o, SeqNo version) {
    ids_.SetVersion(o, version);
    ++generation_;
  }
  // Changes offset `o`'s payload by `edit`, keeping the payload indexes exact.
  template <typename Edit>
  void EditPayload(Offset o, Edit&& edit) {
    std::optional<boost::json::object> before;
    if (payload_index_.Tracking(body_generation_)) {
      before = payloads_.Get(o);
    }
    edit(payloads_.Mutable(o));
    PayloadChanged(o, before ? &*before : nullptr, /*fresh=*/false);
  }
  // Stores `value` in vector `vec`'s storage; a value of another kind than the storage's is
  // refused before it gets here (PrepareOperations) and ignored.
  void SetVector(size_t vec, Offset o, const VectorInput& value);
  void RemoveVector(size_t vec, Offset o);

  // ---- sealing and graphs ----
  bool sealed() const { return sealed_; }
  void Seal() {
    sealed_ = true;
    BodyChanged();
  }
  bool has_graph(size_t vec) const { return vectors_[vec].index != nullptr; }
  // Vector `vec`'s graph; null if it has none.
  const index::HnswGraph* graph(size_t vec) const { return vectors_[vec].index.get(); }
  // Whether a dense vector still lacks its graph (sparse and multivectors build none).
  bool needs_graphs() const;
  // Builds one graph per dense vector over the live points (without any lock: call on a
  // segment nobody else can see yet) with params[vec] (m 0: none, and any it had is dropped),
  // each grown from seeds[vec] when there is one with a graph (see index::HnswSeed). Adds what
  // the builds did to `stats` when given.
  Status BuildGraphs(std::span<const index::HnswParams> params, size_t threads,
                     std::span<const index::HnswSeed> seeds = {},
                     index::HnswBuildStats* stats = nullptr);
  // The same with one set of parameters for every dense vector.
  Status BuildGraphs(const index::HnswParams& params, size_t threads) {
    return BuildGraphs(std::vector<index::HnswParams>(specs_.size(), params), threads);
  }
  // Indexed vectors: points with a vector in a graph.
  size_t indexed_vectors() const;
  // Bytes the segment's vector storages hold (allocated, not just used); graphs not counted.
  size_t column_bytes() const;

  // ---- persistence ----
  // Bumped by every change. A flush records the generation it serialized and counts the
  // segment as persisted at that generation only once its files are durable, so a change made
  // meanwhile, or a write that failed, leaves the segment to be written again.
  uint64_t generation() const { return generation_; }
  // Bumped by every change but those to versions and tombstones: while it stays, the body file
  // need not be written again.
  uint64_t body_generation() const { return body_generation_; }

  // What a flush serializes, taken under the state lock (shared) and serialized without it.
  // A sealed segment's body never changes, so the image shares the segment and copies its
  // versions and tombstones; an appendable segment is copied whole (its size is bounded by
  // indexing_threshold).
  struct Image {
    std::shared_ptr<const Segment> segment;
    IdTracker::Versions versions;
    uint64_t generation = 0;
    uint64_t body_generation = 0;
  };
  static Image TakeImage(const std::shared_ptr<const Segment>& segment);
  // Writes the image's graphs (once; they are immutable) into `dir`, then returns the body
  // file's bytes, which name those graph files. See segment.cpp for the grammar. Only the
  // flusher calls this, one at a time: it records the graph files in the segment.
  static Result<std::string> Serialize(const Image& image, const std::filesystem::path& dir);
  // The versions file's bytes.
  static std::string SerializeVersions(const Image& image);
  // Loads a body file and its versions file (`versions_file` empty: a body of format version
  // 1, which held versions and tombstones itself).
  static Result<std::unique_ptr<Segment>> Load(const std::filesystem::path& dir,
                                               const std::filesystem::path& body_file,
                                               const std::filesystem::path& versions_file);
  // Names of files in `dir` this segment's body refers to (its graphs).
  std::vector<std::string> graph_files() const;

 private:
  struct GraphFile {
    std::string name;
    uint32_t crc = 0;
  };
  struct VectorSlot {
    index::DenseStorage storage;              // a dense vector's (unused for a sparse one)
    std::unique_ptr<index::HnswGraph> index;  // over `storage`; null until built
    index::SparseVectorIndex sparse;          // a sparse vector's (empty otherwise)
    index::MultiDenseStorage multi;           // a multivector's (empty otherwise)
  };
  void BodyChanged() {
    payload_index_.Advance(body_generation_, body_generation_ + 1);
    ++generation_;
    ++body_generation_;
  }
  // Offset `o`'s payload changed (from `before`, null when not kept; `fresh`: a new offset,
  // which had none): the payload indexes follow, and the body generation moves.
  void PayloadChanged(Offset o, const boost::json::object* before, bool fresh) {
    if (before != nullptr || fresh) {
      payload_index_.PayloadChanged(o, before, payloads_.Get(o), body_generation_,
                                    body_generation_ + 1);
    }
    ++generation_;
    ++body_generation_;
  }
  static Result<std::unique_ptr<Segment>> LoadVersion1(std::string_view body,
                                                       const std::filesystem::path& dir,
                                                       const std::string& where);
  // The body's tail, the same in both versions: column*[nspec] graph*[nspec], then its end.
  Status LoadColumnsAndGraphs(Decoder* in, const std::filesystem::path& dir,
                              const std::string& where);

  const uint64_t id_;
  const std::vector<VectorSpec> specs_;
  IdTracker ids_;
  std::vector<VectorSlot> vectors_;  // by spec
  PayloadStorage payloads_;
  SegmentPayloadIndex payload_index_;
  // Set by Serialize (the flusher, one at a time) and read by the flusher and at recovery.
  mutable std::vector<GraphFile> graph_files_;
  bool sealed_ = false;
  uint64_t generation_ = 1;  // 0 only for a segment just loaded from its files
  uint64_t body_generation_ = 1;
};

// Distance -> index metric.
index::Metric MetricFor(Distance distance);
// The vector specs of a collection, in name order.
std::vector<VectorSpec> SpecsFor(const CollectionConfig& config);

}  // namespace tessera::engine

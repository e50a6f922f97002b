#pragma once

// A segment: a set of points with their ids, per-point versions, tombstones, vectors (one
// dense matrix per vector name) and payloads, plus an HNSW graph per vector once sealed.
//
// A point is live in at most one segment of a collection. The appendable segment takes new
// points and changes in place; a sealed segment is immutable except for tombstones (a change
// to one of its points copies the point into the appendable segment and tombstones it here).
// A tombstone keeps the point's id and the version that deleted it, so replay can tell an old
// write from a new one.
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
#include "engine/operations.h"
#include "engine/point_id.h"
#include "index/hnsw_graph.h"
#include "index/metric.h"
#include "wal/log_format.h"

namespace tessera::engine {

using index::Offset;
using wal::SeqNo;

struct VectorSpec {
  std::string name;
  size_t dim = 0;
  index::Metric metric = index::Metric::kCosine;
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
  // The offset of `id` if it is live here.
  std::optional<Offset> FindLive(const PointId& id) const;
  // The offset of `id` whether live or tombstoned.
  std::optional<Offset> Find(const PointId& id) const;
  size_t size() const { return ids_.size(); }  // offsets, tombstones included
  size_t live_count() const { return live_count_; }
  const PointId& point_id(Offset o) const { return ids_[o]; }
  bool deleted(Offset o) const { return deleted_[o] != 0; }
  SeqNo version(Offset o) const { return versions_[o]; }
  const boost::json::object& payload(Offset o) const { return payloads_[o]; }
  bool has_vector(size_t vec, Offset o) const { return vectors_[vec].present[o] != 0; }
  std::span<const float> vector(size_t vec, Offset o) const;
  // All vectors of a live point, by name.
  NamedVectors vectors_of(Offset o) const;

  // The k closest live points with vector `vec` that `accept` allows. Uses the HNSW graph when
  // the segment has one and `exact` is false; otherwise scans.
  std::vector<index::Hit> Search(size_t vec, std::span<const float> query, size_t k, size_t ef,
                                 bool exact, const index::AcceptFn& accept) const;

  // ---- writes ----
  // Room for `points` points in all, so that filling a copy of known size allocates once.
  void Reserve(size_t points);
  // Inserts `id`, or overwrites it in place if present (live or tombstoned).
  Offset Put(const PointId& id, SeqNo version, const NamedVectors& vectors,
             boost::json::object payload);
  void Delete(Offset o, SeqNo version);
  void SetVersion(Offset o, SeqNo version) {
    versions_[o] = version;
    ++generation_;
  }
  boost::json::object& mutable_payload(Offset o) {
    ++generation_;
    return payloads_[o];
  }
  void SetVector(size_t vec, Offset o, std::span<const float> values);
  void RemoveVector(size_t vec, Offset o);

  // ---- sealing and graphs ----
  bool sealed() const { return sealed_; }
  void Seal() {
    sealed_ = true;
    ++generation_;
  }
  bool has_graph(size_t vec) const { return graphs_[vec] != nullptr; }
  // Builds one graph per vector over the live points (without any lock: call on a segment
  // nobody else can see yet).
  Status BuildGraphs(const index::HnswParams& params, size_t threads);
  // Indexed vectors: points with a vector in a graph.
  size_t indexed_vectors() const;
  // Bytes the segment's own vector columns hold (allocated, not just used); graphs not counted.
  size_t column_bytes() const;

  // ---- persistence ----
  // Bumped by every change. A flush records the generation it serialized and counts the
  // segment as persisted at that generation only once the file is durable, so a change made
  // meanwhile, or a write that failed, leaves the segment to be written again.
  uint64_t generation() const { return generation_; }

  // What a flush serializes, taken under the state lock (shared) and serialized without it.
  // A sealed segment's ids, vectors and payloads never change (it changes by tombstones
  // only), so the image shares the segment and copies its tombstones and versions; an
  // appendable segment is copied whole (its size is bounded by indexing_threshold).
  struct Image {
    std::shared_ptr<const Segment> segment;
    std::vector<uint8_t> deleted;
    std::vector<SeqNo> versions;
    uint64_t generation = 0;
  };
  static Image TakeImage(const std::shared_ptr<const Segment>& segment);
  // Writes the image's graphs (once; they are immutable) into `dir`, then returns the file's
  // bytes, which name those graph files. See segment.cpp for the grammar. (The bytes hold
  // every vector even where a graph file holds it too; in memory there is one copy.) Only the
  // flusher calls this, one at a time: it records the graph files in the segment.
  static Result<std::string> Serialize(const Image& image, const std::filesystem::path& dir);
  static Result<std::unique_ptr<Segment>> Load(const std::filesystem::path& dir,
                                               const std::filesystem::path& file);
  // Names of files in `dir` this segment's bytes refer to (its graphs).
  std::vector<std::string> graph_files() const;

 private:
  struct VectorColumn {
    std::vector<float> data;  // size() * dim floats; zeros where absent; empty if in_graph
    std::vector<uint8_t> present;
    // The column's graph holds the vectors (a sealed segment keeps one copy, not two); only
    // points that had a vector when the graph was built can be read, the others are deleted.
    bool in_graph = false;
  };
  struct GraphFile {
    std::string name;
    uint32_t crc = 0;
  };

  const uint64_t id_;
  const std::vector<VectorSpec> specs_;
  std::vector<PointId> ids_;
  std::unordered_map<PointId, Offset, PointIdHash> offsets_;
  std::vector<uint8_t> deleted_;
  std::vector<SeqNo> versions_;
  std::vector<boost::json::object> payloads_;
  std::vector<VectorColumn> vectors_;
  std::vector<std::unique_ptr<index::HnswGraph>> graphs_;
  // Set by Serialize (the flusher, one at a time) and read by the flusher and at recovery.
  mutable std::vector<GraphFile> graph_files_;
  size_t live_count_ = 0;
  bool sealed_ = false;
  uint64_t generation_ = 1;  // 0 only for a segment just loaded from its file
};

// Distance -> index metric.
index::Metric MetricFor(Distance distance);
// The vector specs of a collection, in name order.
std::vector<VectorSpec> SpecsFor(const CollectionConfig& config);

}  // namespace tessera::engine

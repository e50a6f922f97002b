#pragma once

// What reads ask the engine and what they get back: point records, scored points, and the
// nearest-neighbour search request with its planning statistics. (The query-IR part of the
// engine-core issue, #16, grows from here: prefetch trees, fusion, recommend, groups.)

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "engine/filter.h"
#include "engine/operations.h"
#include "engine/point_id.h"
#include "wal/log_format.h"

namespace tessera::engine {

struct PointRecord {
  PointId id;
  wal::SeqNo version = 0;
  std::optional<double> order_value;  // set by ScrollOrdered
  boost::json::object payload;        // filled only when asked for
  NamedVectors vectors;               // filled only when asked for
};

struct ScoredPoint {
  PointRecord record;
  float score = 0;
};

// Decides, for a live point, whether a read may return it; nullptr accepts every point.
using PointFilter = const Filter*;

// Which search path each segment took (query planning, as Qdrant plans it).
struct SearchStats {
  size_t exact_segments = 0;   // full scan: small segment, selective filter, no graph, or exact
  size_t hnsw_segments = 0;    // HNSW walk, with the filter consulted during the walk
  size_t index_estimates = 0;  // filter cardinality taken from payload indexes (else sampled)
};

struct SearchRequest {
  std::string vector_name;  // "" for the unnamed vector
  std::vector<float> query;
  size_t limit = 10;
  size_t offset = 0;
  std::optional<size_t> ef;  // default: the HNSW ef_construct
  bool exact = false;
  std::optional<float> score_threshold;
  PointFilter filter = nullptr;
  bool with_payload = false;
  bool with_vectors = false;
  SearchStats* stats = nullptr;  // filled when set
};

// Scroll ordered by a payload value (see Scans::ScrollOrdered).
struct OrderBy {
  std::string key;
  bool descending = false;
  std::optional<double> start_from;
};

}  // namespace tessera::engine

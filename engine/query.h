#pragma once

// What reads ask the engine and what they get back: point records, scored points, the
// nearest-neighbour search request with its planning statistics, and the query IR — a tree of
// prefetches under a scoring query (nearest, recommend, fusion; later discover, context,
// formula, MMR), with filter, limit/offset, score threshold and selectors — that `api/`
// decodes REST (and later gRPC) requests into, and query.cpp plans and runs.

#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <memory>
#include <variant>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/status.h"
#include "engine/filter.h"
#include "engine/operations.h"
#include "engine/point_id.h"
#include "index/metric.h"
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

// a + b, or the largest size_t when that overflows (a limit may be any u64, as in Qdrant).
inline size_t SaturatingAdd(size_t a, size_t b) {
  return a > std::numeric_limits<size_t>::max() - b ? std::numeric_limits<size_t>::max() : a + b;
}

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
  std::vector<float> query;           // for a dense vector
  std::optional<SparseVector> sparse;  // the query instead, for a sparse vector
  size_t multi_dim = 0;  // set: `query` is a multivector, rows of this many floats
  // The IDF corpus (`params.idf.corpus`): the points IDF statistics count; nullptr: all.
  PointFilter idf_corpus = nullptr;
  size_t limit = 10;
  size_t offset = 0;
  std::optional<size_t> ef;  // default: the HNSW ef_construct
  bool exact = false;
  // `params.acorn` enabled: the walk of a segment the filter matches at most this share of is
  // the two-hop one (HnswGraph::Search).
  std::optional<double> acorn_max_selectivity;
  std::optional<float> score_threshold;
  PointFilter filter = nullptr;
  bool with_payload = false;
  bool with_vectors = false;
  SearchStats* stats = nullptr;  // filled when set
};

// A search by a score of several vectors (Qdrant's custom scorers: recommend best_score and
// sum_scores, discover, context): score(sims), sims[i] the point's raw similarity to
// vectors[i] (RawSimilarity), higher better, over every live point with the vector that the
// filter accepts and `exclude` does not name; exact (a scan); ties by id. Scores are not
// post-processed (Qdrant post-processes only nearest scores).
struct ScoredSearchRequest {
  std::string vector_name;
  std::vector<VectorInput> vectors;  // prepared by the searcher (normalised, sorted)
  std::function<float(const float* sims)> score;
  std::vector<PointId> exclude;
  size_t limit = 10;
  size_t offset = 0;
  std::optional<float> score_threshold;  // kept: score >= threshold
  PointFilter filter = nullptr;
  bool with_payload = false;
  bool with_vectors = false;
};

// One value of a facet and how many points hold it (see Scans::Facet).
struct FacetHit {
  boost::json::value value;
  uint64_t count = 0;
};

// Scroll ordered by a payload value (see Scans::ScrollOrdered).
struct OrderBy {
  std::string key;
  bool descending = false;
  std::optional<double> start_from;
};

// ---- the query IR ----

// An example or a target: a stored point (its vector by the query's `using` name) or a vector.
using VectorExample = std::variant<PointId, DenseVector, SparseVector, MultiDenseVector>;

// Maximal Marginal Relevance (Qdrant 1.15's `nearest` with `mmr`): the nearest
// `candidates_limit` points (default: the query's limit), or a prefetch's points, re-ranked
// greedily: first the most relevant, then each time the candidate maximising
// lambda * sim(query, c) - (1 - lambda) * max over the chosen s of sim(c, s), with Qdrant's raw
// similarities (index::Similarity; sparse: the dot product; multivectors: MaxSim of the
// first's rows against the second's). The points keep the scores they were found with.
struct MmrParams {
  float lambda = 0.5f;  // 1 - diversity
  std::optional<size_t> candidates_limit;
};

// The points closest to a vector, or to a stored point's vector.
struct NearestQuery {
  VectorExample target;
  std::optional<MmrParams> mmr;
};

enum class RecommendStrategy : uint8_t { kAverageVector, kBestScore, kSumScores };

// Points like the positive examples and unlike the negative ones. average_vector: the nearest to
// avg(positive) + (avg(positive) - avg(negative)). best_score (Qdrant's RecoBestScoreQuery):
// with p, n the best similarities to a positive and to a negative, sigmoid(p) if p > n, else
// -sigmoid(n), sigmoid(x) = (x / (1 + |x|) + 1) / 2; sum_scores: the positives' similarities
// summed less the negatives'. Example points are left out of the results.
struct RecommendQuery {
  std::vector<VectorExample> positive;
  std::vector<VectorExample> negative;
  RecommendStrategy strategy = RecommendStrategy::kAverageVector;
};

struct ContextPair {
  VectorExample positive;
  VectorExample negative;
};

// Qdrant's discovery: the number of pairs a point is closer to the positive than to the
// negative of (+1 closer, -1 farther, 0 equal) plus sigmoid(similarity to the target), so the
// points inside the context's zone come first, by closeness to the target.
struct DiscoverQuery {
  VectorExample target;
  std::vector<ContextPair> context;
};

// Qdrant 1.17's relevance feedback, naive strategy: a * sim(target) plus, for every ordered
// pair of feedback items (i, j) with confidence score_i - score_j > 0,
// confidence^b * c * (sim(example_i) - sim(example_j)).
struct FeedbackItem {
  VectorExample example;
  float score = 0;
};
struct RelevanceFeedbackQuery {
  VectorExample target;
  std::vector<FeedbackItem> feedback;
  float a = 1, b = 1, c = 1;
};

// Qdrant's context search: the sum over pairs of x / (1 + |x|) for x = min(sim(positive) -
// sim(negative) - FLT_EPSILON, 0): 0 for a point closer to every positive, less the farther
// it strays.
struct ContextQuery {
  std::vector<ContextPair> pairs;
};

enum class Fusion : uint8_t { kRrf, kDbsf };

// Fuses the prefetches' ranked lists, as Qdrant does.
// RRF: score = sum over lists of 1 / ((rank + 1) / weight + k - 1), rank from 0, k = 2 and
// weight 1 by default (so 1 / (k + rank): a point first in two lists scores 1.0).
// DBSF: each list's scores normalised to [0, 1] between mean -/+ 3 standard deviations (a list
// of one point scores 0.5), then summed.
struct FusionQuery {
  Fusion fusion = Fusion::kRrf;
  size_t k = 2;                // RRF
  std::vector<float> weights;  // RRF, one per prefetch; empty: all 1
  bool with_using = false;     // the request named `using`: Qdrant's 400, after the prefetches
};

// No scoring: the points in id order (Qdrant's query without `query`), each scoring 1 as in
// Qdrant's query_scroll.
struct ScrollQuery {};

// The points ordered by a payload value (Qdrant's `{order_by}` query: Scans::ScrollOrdered,
// a point once per value), each scoring 1 with its order_value.
struct OrderByQuery {
  OrderBy order;
};

// `{sample: "random"}`: points the filter (or the prefetches) allow in a random order, each
// scoring 1.
struct SampleQuery {};

using ScoringQuery = std::variant<NearestQuery, RecommendQuery, FusionQuery, ScrollQuery,
                                  DiscoverQuery, ContextQuery, OrderByQuery, SampleQuery,
                                  RelevanceFeedbackQuery>;

// A node of the query tree. With prefetches, the scoring query ranks the points they found (a
// nearest or recommend re-scores them exactly; a fusion fuses their lists); without, it searches
// the collection.
struct Query {
  std::vector<Query> prefetch;
  ScoringQuery query;
  std::string using_vector;  // "" for the unnamed vector
  std::shared_ptr<const Filter> filter;
  size_t limit = 10;
  size_t offset = 0;
  std::optional<float> score_threshold;
  std::optional<size_t> ef;  // default: the HNSW ef_construct
  bool exact = false;
  std::optional<double> acorn_max_selectivity;  // see SearchRequest
  std::shared_ptr<const Filter> idf_corpus;  // `params.idf.corpus`; null: the whole collection
  bool with_payload = false;  // of the results (the root's; prefetches' are not returned)
  bool with_vectors = false;
  // `lookup_from`: this level's point-id examples name points of another collection, whose
  // vector `vector` (default: `using_vector`) they stand for. The API replaces them with those
  // vectors before the engine runs the query (it cannot see other collections); the engine
  // refuses a query that still carries one.
  struct LookupFrom {
    std::string collection;
    std::optional<std::string> vector;
  };
  std::optional<LookupFrom> lookup_from;
};

// Results grouped by a payload value (strings and integers; an array by each element).
struct GroupRequest {
  std::string group_by;  // a dotted payload path
  size_t group_size = 3;  // hits per group, at most
  size_t limit = 10;      // groups, at most
};

struct PointGroup {
  boost::json::value key;
  std::vector<ScoredPoint> hits;
};

// Qdrant's distance matrix (/points/search/matrix/*): `sample` random points with vector
// `using` that the filter accepts, sorted by id, and for each its `limit` nearest among them
// (itself left out), scored as a nearest query scores.
struct SearchMatrixRequest {
  size_t sample = 10;
  size_t limit = 3;
  std::shared_ptr<const Filter> filter;
  std::string using_vector;
};
struct SearchMatrix {
  std::vector<PointId> ids;                     // the sample, by id
  std::vector<std::vector<ScoredPoint>> nearest;  // per sampled point, best first
};

// ---- running a query ----

class Searcher;
class Scans;

// What a query reads from: the searcher (nearest, recommend) and the scans (id order).
struct QuerySources {
  const Searcher& searcher;
  const Scans& scans;
};

// Runs the query tree: prefetches first (depth-first, at most 4 levels below the root), then the
// scoring query over what they found, or over the collection without prefetches.
Result<std::vector<ScoredPoint>> RunQuery(const QuerySources& sources, const Query& query);
Result<SearchMatrix> RunSearchMatrix(const QuerySources& sources,
                                     const SearchMatrixRequest& request);
// Runs `query` deep enough to fill the groups (its limit and offset are replaced), with the
// payload (needed to group), and groups the results.
Result<std::vector<PointGroup>> RunGroupQuery(const QuerySources& sources, Query query,
                                              const GroupRequest& group);

// The pieces, for tests and for other query kinds:
// Reciprocal Rank Fusion of ranked lists (ties by id); `weights` empty or one per list.
std::vector<ScoredPoint> FuseRrf(const std::vector<std::vector<ScoredPoint>>& lists, double k,
                                 const std::vector<float>& weights = {});
// Distribution-Based Score Fusion of scored lists (ties by id).
std::vector<ScoredPoint> FuseDbsf(const std::vector<std::vector<ScoredPoint>>& lists);
// MMR's choice over candidates (see MmrParams): `relevance[i]` is candidate i's similarity to
// the query and `similarity(i, j)` candidate i's to candidate j; the indexes of at most `limit`
// candidates in the order chosen.
std::vector<size_t> MmrOrder(const std::vector<float>& relevance,
                             const std::function<float(size_t, size_t)>& similarity,
                             float lambda, size_t limit);
// Qdrant's raw similarity of two vectors of one kind under `metric` (0 for different kinds):
// index::Similarity for dense vectors, the dot product of sparse ones, MaxSim for multivectors
// (each of a's rows with its best row of b).
float RawSimilarity(index::Metric metric, const VectorInput& a, const VectorInput& b);
float SparseDot(std::span<const uint32_t> ai, std::span<const float> av,
                std::span<const uint32_t> bi, std::span<const float> bv);
float MaxSimOf(index::Metric metric, size_t dim, std::span<const float> a,
               std::span<const float> b);
// Groups ranked hits in order: the first `group.limit` distinct keys, `group.group_size` hits
// each, every hit into each group its key array names.
std::vector<PointGroup> GroupHits(const std::vector<ScoredPoint>& hits, const GroupRequest& group);

}  // namespace tessera::engine

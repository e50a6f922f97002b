#include "engine/query.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <unordered_map>

#include "engine/filter.h"
#include "engine/scan.h"
#include "engine/searcher.h"

namespace tessera::engine {

namespace {

constexpr int kMaxPrefetchDepth = 4;  // levels of prefetch below the root

// a + b, or the largest size_t (a limit may be any u64, as in Qdrant).

// The stored vector `name` of point `id`, of any kind.
Result<VectorInput> StoredVector(const Searcher& searcher, const PointId& id,
                                 const std::string& name) {
  auto records = searcher.Retrieve({id}, false, true);
  if (records.empty()) {
    return Status::NotFound("Not found: No point with id " + id.ToString() + " found");
  }
  auto it = records[0].vectors.find(name);
  if (it == records[0].vectors.end()) {
    return Status::InvalidArgument("Wrong input: point " + id.ToString() + " has no vector `" +
                                   name + "`");
  }
  return std::move(it->second);
}

// The example's vector, of any kind; a point example's id is added to `ids`.
Result<VectorInput> Resolve(const Searcher& searcher, const VectorExample& example,
                            const std::string& name, std::vector<PointId>* ids) {
  if (const auto* id = std::get_if<PointId>(&example)) {
    if (ids != nullptr) {
      ids->push_back(*id);
    }
    return StoredVector(searcher, *id, name);
  }
  if (const auto* dense = std::get_if<DenseVector>(&example)) {
    return VectorInput(*dense);
  }
  if (const auto* sparse = std::get_if<SparseVector>(&example)) {
    return VectorInput(*sparse);
  }
  return VectorInput(std::get<MultiDenseVector>(example));
}

// a's and b's union of indices (sorted), each value f(a's or 0, b's or 0).
template <typename F>
SparseVector CombineSparse(const SparseVector& a, const SparseVector& b, F f) {
  SparseVector out;
  size_t i = 0, j = 0;
  while (i < a.indices.size() || j < b.indices.size()) {
    if (j == b.indices.size() || (i < a.indices.size() && a.indices[i] < b.indices[j])) {
      out.indices.push_back(a.indices[i]);
      out.values.push_back(f(a.values[i++], 0.0f));
    } else if (i == a.indices.size() || b.indices[j] < a.indices[i]) {
      out.indices.push_back(b.indices[j]);
      out.values.push_back(f(0.0f, b.values[j++]));
    } else {
      out.indices.push_back(a.indices[i]);
      out.values.push_back(f(a.values[i++], b.values[j++]));
    }
  }
  return out;
}

VectorExample VectorExampleOf(VectorInput v) {
  if (auto* dense = AsDense(v)) {
    return std::move(*dense);
  }
  if (auto* sparse = std::get_if<SparseVector>(&v)) {
    return std::move(*sparse);
  }
  return std::get<MultiDenseVector>(std::move(v));
}

// A nearest query's target into the request: a dense or a sparse vector, or a stored point's.
Status SetTarget(const Searcher& searcher, const VectorExample& target, const std::string& name,
                 SearchRequest* request) {
  VectorInput v;
  if (const auto* id = std::get_if<PointId>(&target)) {
    TESSERA_ASSIGN_OR_RETURN(v, StoredVector(searcher, *id, name));
  } else if (const auto* dense = std::get_if<DenseVector>(&target)) {
    v = *dense;
  } else if (const auto* sparse = std::get_if<SparseVector>(&target)) {
    v = *sparse;
  } else {
    v = std::get<MultiDenseVector>(target);
  }
  if (auto* dense = AsDense(v)) {
    request->query = std::move(*dense);
  } else if (auto* sparse = std::get_if<SparseVector>(&v)) {
    request->sparse = std::move(*sparse);
  } else {
    auto& multi = std::get<MultiDenseVector>(v);
    request->multi_dim = multi.dim;
    request->query = std::move(multi.values);
  }
  return Status::Ok();
}

// Qdrant's average of examples (recommendations.rs avg_vectors): dense vectors averaged
// component-wise, sparse ones over the union of their indices, multivectors concatenated.
Result<VectorInput> Average(const Searcher& searcher, const std::vector<VectorExample>& examples,
                            const std::string& name, std::vector<PointId>* ids) {
  std::vector<VectorInput> vectors;
  for (const VectorExample& e : examples) {
    TESSERA_ASSIGN_OR_RETURN(VectorInput v, Resolve(searcher, e, name, ids));
    if (!vectors.empty() && v.index() != vectors.front().index()) {
      return Status::InvalidArgument("Wrong input: Can't average vectors with different types");
    }
    vectors.push_back(std::move(v));
  }
  if (vectors.empty()) {
    return Status::InvalidArgument(
        "Wrong input: Positive vectors should not be empty with `average` strategy");
  }
  const auto n = static_cast<float>(vectors.size());
  if (AsDense(vectors.front()) != nullptr) {
    DenseVector avg(AsDense(vectors.front())->size(), 0.0f);
    for (const VectorInput& v : vectors) {
      const DenseVector& d = *AsDense(v);
      if (d.size() != avg.size()) {
        return Status::InvalidArgument("Wrong input: examples have different dimensions");
      }
      for (size_t i = 0; i < d.size(); ++i) {
        avg[i] += d[i] / n;
      }
    }
    return VectorInput(std::move(avg));
  }
  if (std::holds_alternative<SparseVector>(vectors.front())) {
    SparseVector sum;
    for (const VectorInput& v : vectors) {
      sum = CombineSparse(std::get<SparseVector>(v), sum, [](float a, float b) { return a + b; });
    }
    for (float& x : sum.values) {
      x /= n;
    }
    return VectorInput(std::move(sum));
  }
  MultiDenseVector rows = std::get<MultiDenseVector>(vectors.front());
  for (size_t k = 1; k < vectors.size(); ++k) {
    const auto& m = std::get<MultiDenseVector>(vectors[k]);
    if (m.dim != rows.dim) {
      return Status::InvalidArgument("Wrong input: examples have different dimensions");
    }
    rows.values.insert(rows.values.end(), m.values.begin(), m.values.end());
  }
  return VectorInput(std::move(rows));
}

// average_vector: avg(positive) + (avg(positive) - avg(negative)); for multivectors the
// negative rows are appended negated (Qdrant's merge_positive_and_negative_avg).
Result<VectorInput> RecommendVector(const Searcher& searcher, const RecommendQuery& recommend,
                                    const std::string& name, std::vector<PointId>* examples) {
  if (recommend.positive.empty()) {
    return Status::InvalidArgument("Wrong input: at least one positive example is required");
  }
  TESSERA_ASSIGN_OR_RETURN(VectorInput query,
                           Average(searcher, recommend.positive, name, examples));
  if (recommend.negative.empty()) {
    return query;
  }
  TESSERA_ASSIGN_OR_RETURN(VectorInput negative,
                           Average(searcher, recommend.negative, name, examples));
  if (negative.index() != query.index()) {
    return Status::InvalidArgument(
        "Wrong input: Positive and negative vectors should be of the same type, either all "
        "dense or all sparse or all multi");
  }
  if (auto* dense = AsDense(query)) {
    const DenseVector& neg = *AsDense(negative);
    if (neg.size() != dense->size()) {
      return Status::InvalidArgument("Wrong input: examples have different dimensions");
    }
    for (size_t i = 0; i < dense->size(); ++i) {
      (*dense)[i] += (*dense)[i] - neg[i];
    }
    return query;
  }
  if (auto* sparse = std::get_if<SparseVector>(&query)) {
    return VectorInput(CombineSparse(*sparse, std::get<SparseVector>(negative),
                                     [](float p, float n) { return p + p - n; }));
  }
  auto& rows = std::get<MultiDenseVector>(query);
  const auto& neg = std::get<MultiDenseVector>(negative);
  if (neg.dim != rows.dim) {
    return Status::InvalidArgument("Wrong input: examples have different dimensions");
  }
  for (float x : neg.values) {
    rows.values.push_back(-x);
  }
  return query;
}

// A search that leaves out `exclude`d points: asks for as many more as it may drop.
Result<std::vector<ScoredPoint>> SearchExcluding(const Searcher& searcher, SearchRequest request,
                                                 const std::vector<PointId>& exclude) {
  if (exclude.empty()) {
    return searcher.Search(request);
  }
  const size_t limit = request.limit;
  request.limit = SaturatingAdd(request.limit, exclude.size());
  TESSERA_ASSIGN_OR_RETURN(auto hits, searcher.Search(request));
  std::erase_if(hits, [&](const ScoredPoint& p) {
    return std::find(exclude.begin(), exclude.end(), p.record.id) != exclude.end();
  });
  if (hits.size() > limit) {
    hits.resize(limit);
  }
  return hits;
}

Result<std::vector<ScoredPoint>> Run(const QuerySources& sources, const Query& q, int depth);

// MMR (see MmrParams) over `candidates` (unique by id, in the order given) with the query's
// `target` vector; then Qdrant's offset and limit: the first `limit` chosen, less `offset`.
Result<std::vector<ScoredPoint>> RerankMmr(const Searcher& searcher, const Query& q,
                                           const NearestQuery& nearest,
                                           std::vector<ScoredPoint> candidates) {
  const std::shared_ptr<const CollectionConfig> config = searcher.config();
  index::Metric metric = index::Metric::kDot;  // sparse vectors
  if (auto it = config->vectors.find(q.using_vector); it != config->vectors.end()) {
    metric = MetricFor(it->second.distance);
  }
  std::vector<PointId> ignored;
  TESSERA_ASSIGN_OR_RETURN(VectorInput target,
                           Resolve(searcher, nearest.target, q.using_vector, &ignored));
  if (auto* dense = AsDense(target)) {
    TESSERA_RETURN_IF_ERROR(PrepareVector(*config, q.using_vector, dense));
  } else if (auto* multi = std::get_if<MultiDenseVector>(&target)) {
    if (auto it = config->vectors.find(q.using_vector); it != config->vectors.end()) {
      TESSERA_RETURN_IF_ERROR(PrepareRows(it->second, multi->values.data(), multi->values.size()));
    }
  }
  // The candidates' vectors (a point without one is dropped, as in Qdrant).
  std::vector<PointId> ids;
  std::unordered_map<PointId, size_t, PointIdHash> seen;
  std::vector<ScoredPoint> unique;
  for (ScoredPoint& p : candidates) {
    if (seen.try_emplace(p.record.id, unique.size()).second) {
      ids.push_back(p.record.id);
      unique.push_back(std::move(p));
    }
  }
  std::vector<PointRecord> stored = searcher.Retrieve(ids, false, true);
  std::unordered_map<PointId, VectorInput, PointIdHash> vector_of;
  for (PointRecord& r : stored) {
    if (auto it = r.vectors.find(q.using_vector); it != r.vectors.end()) {
      vector_of.emplace(r.id, std::move(it->second));
    }
  }
  std::vector<ScoredPoint> kept;
  std::vector<const VectorInput*> vectors;
  for (ScoredPoint& p : unique) {
    if (auto it = vector_of.find(p.record.id); it != vector_of.end()) {
      vectors.push_back(&it->second);
      kept.push_back(std::move(p));
    }
  }
  std::vector<float> relevance(kept.size());
  for (size_t i = 0; i < kept.size(); ++i) {
    relevance[i] = RawSimilarity(metric, target, *vectors[i]);
  }
  const std::vector<size_t> order = MmrOrder(
      relevance,
      [&](size_t i, size_t j) { return RawSimilarity(metric, *vectors[i], *vectors[j]); },
      nearest.mmr->lambda, q.limit);
  std::vector<ScoredPoint> out;
  for (size_t k = q.offset; k < order.size(); ++k) {
    out.push_back(std::move(kept[order[k]]));
  }
  if (!q.with_vectors) {
    for (ScoredPoint& p : out) {
      p.record.vectors.clear();
    }
  }
  return out;
}

// The payload and vectors the query asks for, into points found without them (one read).
void FillRecords(const Searcher& searcher, const Query& q, std::vector<ScoredPoint>* points) {
  if (!q.with_payload && !q.with_vectors) {
    return;
  }
  std::vector<PointId> ids;
  for (const ScoredPoint& p : *points) {
    ids.push_back(p.record.id);
  }
  std::unordered_map<PointId, PointRecord, PointIdHash> by_id;
  for (PointRecord& r : searcher.Retrieve(ids, q.with_payload, q.with_vectors)) {
    by_id.emplace(r.id, std::move(r));
  }
  for (ScoredPoint& p : *points) {
    if (auto it = by_id.find(p.record.id); it != by_id.end()) {
      it->second.version = p.record.version;
      p.record = std::move(it->second);
      by_id.erase(it);
    }
  }
}

// What a level scores: its filter, and with prefetches only the points they found.
std::shared_ptr<const Filter> LevelFilter(const Query& q,
                                          const std::vector<std::vector<ScoredPoint>>& prefetched) {
  if (q.prefetch.empty()) {
    return q.filter;
  }
  auto candidates = std::make_shared<Filter>();
  HasIdCondition has;
  for (const auto& list : prefetched) {
    for (const ScoredPoint& p : list) {
      has.ids.insert(p.record.id);
    }
  }
  candidates->must.push_back(std::move(has));
  if (q.filter != nullptr) {
    candidates->must.push_back(FilterCondition{q.filter});
  }
  return candidates;
}

// Qdrant's sigmoids (common/math.rs): x / (1 + |x|) in (-1, 1), and scaled into (0, 1).
float FastSigmoid(float x) {
  return x / (1.0f + std::fabs(x));
}
float ScaledFastSigmoid(float x) {
  return 0.5f * (FastSigmoid(x) + 1.0f);
}

// Recommend best_score / sum_scores, discover and context: the examples resolved (point
// examples left out of the results) and the points scored by the query's function of their
// similarities to them, over the prefetches' points when there are prefetches.
Result<std::vector<ScoredPoint>> RunScored(const QuerySources& sources, const Query& q,
                                           const std::vector<std::vector<ScoredPoint>>& prefetched) {
  const Searcher& searcher = sources.searcher;
  ScoredSearchRequest request;
  request.vector_name = q.using_vector;
  auto add = [&](const VectorExample& e) -> Status {
    TESSERA_ASSIGN_OR_RETURN(VectorInput v, Resolve(searcher, e, q.using_vector, &request.exclude));
    request.vectors.push_back(std::move(v));
    return Status::Ok();
  };
  if (const auto* recommend = std::get_if<RecommendQuery>(&q.query)) {
    if (recommend->positive.empty() && recommend->negative.empty()) {
      return Status::ValidationFailed(
          "positives, negatives: At least one positive or negative vector/id must be provided");
    }
    for (const VectorExample& e : recommend->positive) TESSERA_RETURN_IF_ERROR(add(e));
    for (const VectorExample& e : recommend->negative) TESSERA_RETURN_IF_ERROR(add(e));
    const size_t positives = recommend->positive.size();
    const size_t all = positives + recommend->negative.size();
    if (recommend->strategy == RecommendStrategy::kSumScores) {
      request.score = [positives, all](const float* sims) {
        float sum = 0;
        for (size_t i = 0; i < all; ++i) {
          sum += i < positives ? sims[i] : -sims[i];
        }
        return sum;
      };
    } else {
      request.score = [positives, all](const float* sims) {
        float pos = -std::numeric_limits<float>::infinity();
        float neg = -std::numeric_limits<float>::infinity();
        for (size_t i = 0; i < all; ++i) {
          (i < positives ? pos : neg) = std::max(i < positives ? pos : neg, sims[i]);
        }
        return pos > neg ? ScaledFastSigmoid(pos) : -ScaledFastSigmoid(neg);
      };
    }
  } else if (const auto* discover = std::get_if<DiscoverQuery>(&q.query)) {
    TESSERA_RETURN_IF_ERROR(add(discover->target));
    for (const ContextPair& pair : discover->context) {
      TESSERA_RETURN_IF_ERROR(add(pair.positive));
      TESSERA_RETURN_IF_ERROR(add(pair.negative));
    }
    const size_t pairs = discover->context.size();
    request.score = [pairs](const float* sims) {
      int rank = 0;
      for (size_t p = 0; p < pairs; ++p) {
        const float pos = sims[1 + 2 * p], neg = sims[2 + 2 * p];
        rank += pos > neg ? 1 : pos < neg ? -1 : 0;
      }
      return static_cast<float>(rank) + ScaledFastSigmoid(sims[0]);
    };
  } else if (const auto* feedback = std::get_if<RelevanceFeedbackQuery>(&q.query)) {
    TESSERA_RETURN_IF_ERROR(add(feedback->target));
    for (const FeedbackItem& item : feedback->feedback) {
      TESSERA_RETURN_IF_ERROR(add(item.example));
    }
    // The pairs in Qdrant's order (permutations of two), each with its weight.
    struct Pair {
      size_t positive, negative;
      float weight;
    };
    std::vector<Pair> pairs;
    const auto& items = feedback->feedback;
    for (size_t i = 0; items.size() >= 2 && i < items.size(); ++i) {
      for (size_t j = 0; j < items.size(); ++j) {
        const float confidence = items[i].score - items[j].score;
        if (i == j || confidence <= 0.0f) {
          continue;
        }
        pairs.push_back({1 + i, 1 + j, std::pow(confidence, feedback->b) * feedback->c});
      }
    }
    request.score = [pairs, a = feedback->a](const float* sims) {
      float score = a * sims[0];
      for (const Pair& p : pairs) {
        score += p.weight * (sims[p.positive] - sims[p.negative]);
      }
      return score;
    };
  } else {
    const auto& context = std::get<ContextQuery>(q.query);
    for (const ContextPair& pair : context.pairs) {
      TESSERA_RETURN_IF_ERROR(add(pair.positive));
      TESSERA_RETURN_IF_ERROR(add(pair.negative));
    }
    const size_t pairs = context.pairs.size();
    request.score = [pairs](const float* sims) {
      float sum = 0;
      for (size_t p = 0; p < pairs; ++p) {
        const float difference =
            sims[2 * p] - sims[2 * p + 1] - std::numeric_limits<float>::epsilon();
        sum += FastSigmoid(std::min(difference, 0.0f));
      }
      return sum;
    };
  }
  request.limit = q.limit;
  request.offset = q.offset;
  request.score_threshold = q.score_threshold;
  request.with_payload = q.with_payload;
  request.with_vectors = q.with_vectors;
  const std::shared_ptr<const Filter> filter = LevelFilter(q, prefetched);
  request.filter = filter.get();
  return searcher.SearchScored(request);
}

Result<std::vector<ScoredPoint>> Run(const QuerySources& sources, const Query& q, int depth) {
  const Searcher& searcher = sources.searcher;
  if (depth > kMaxPrefetchDepth) {
    return Status::InvalidArgument("Wrong input: prefetch nested too deeply");
  }
  if (q.lookup_from) {
    return Status::Internal("lookup_from reached the engine unresolved");
  }
  std::vector<std::vector<ScoredPoint>> prefetched;
  for (const Query& sub : q.prefetch) {
    // A level's filter applies to its prefetches too, as in Qdrant.
    if (q.filter != nullptr) {
      Query filtered = sub;
      if (sub.filter == nullptr) {
        filtered.filter = q.filter;
      } else {
        auto both = std::make_shared<Filter>();
        both->must.push_back(FilterCondition{q.filter});
        both->must.push_back(FilterCondition{sub.filter});
        filtered.filter = std::move(both);
      }
      TESSERA_ASSIGN_OR_RETURN(auto hits, Run(sources, filtered, depth + 1));
      prefetched.push_back(std::move(hits));
      continue;
    }
    TESSERA_ASSIGN_OR_RETURN(auto hits, Run(sources, sub, depth + 1));
    prefetched.push_back(std::move(hits));
  }

  if (std::holds_alternative<ScrollQuery>(q.query)) {
    if (!q.prefetch.empty()) {
      return Status::InvalidArgument(
          "Bad request: A query is needed to merge the prefetches. Can't have prefetches "
          "without defining a query.");
    }
    std::optional<PointId> next;
    std::vector<PointRecord> records = sources.scans.Scroll(
        std::nullopt, SaturatingAdd(q.offset, q.limit), q.filter.get(), q.with_payload,
        q.with_vectors, &next);
    std::vector<ScoredPoint> out;
    for (size_t i = q.offset; i < records.size(); ++i) {
      out.push_back({std::move(records[i]), 1.0f});
    }
    return out;
  }

  if (std::holds_alternative<OrderByQuery>(q.query) ||
      std::holds_alternative<SampleQuery>(q.query)) {
    const std::shared_ptr<const Filter> filter = LevelFilter(q, prefetched);
    std::vector<ScoredPoint> out;
    if (const auto* order = std::get_if<OrderByQuery>(&q.query)) {
      if (q.score_threshold) {
        return Status::InvalidArgument(
            "Bad request: Can't use score_threshold with an order_by query.");
      }
      TESSERA_ASSIGN_OR_RETURN(
          std::vector<PointRecord> records,
          sources.scans.ScrollOrdered(order->order, SaturatingAdd(q.offset, q.limit),
                                      filter.get(), q.with_payload, q.with_vectors));
      for (size_t i = q.offset; i < records.size(); ++i) {
        out.push_back({std::move(records[i]), 1.0f});
      }
      return out;
    }
    std::vector<PointId> ids = sources.scans.MatchingIds(filter.get());
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const size_t want = std::min(ids.size(), SaturatingAdd(q.offset, q.limit));
    for (size_t i = 0; i < want; ++i) {  // a partial Fisher-Yates shuffle
      std::swap(ids[i], ids[i + rng() % (ids.size() - i)]);
    }
    ids.resize(want);
    if (q.offset >= ids.size()) {
      return out;
    }
    ids.erase(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(q.offset));
    for (PointRecord& r : searcher.Retrieve(ids, q.with_payload, q.with_vectors)) {
      out.push_back({std::move(r), 1.0f});
    }
    return out;
  }

  if (const auto* fusion = std::get_if<FusionQuery>(&q.query)) {
    if (fusion->with_using) {
      return Status::InvalidArgument(
          "Bad request: Fusion queries cannot be combined with the 'using' field.");
    }
    if (q.prefetch.empty()) {
      return Status::InvalidArgument("Wrong input: fusion needs `prefetch`");
    }
    if (!fusion->weights.empty() && fusion->weights.size() != prefetched.size()) {
      return Status::InvalidArgument(
          "Wrong input: Number of weights in RRF should match number of pre-fetches: got " +
          std::to_string(fusion->weights.size()) + ", expected " +
          std::to_string(prefetched.size()));
    }
    std::vector<ScoredPoint> fused =
        fusion->fusion == Fusion::kDbsf
            ? FuseDbsf(prefetched)
            : FuseRrf(prefetched, static_cast<double>(fusion->k), fusion->weights);
    if (q.score_threshold) {  // on the fused scores
      std::erase_if(fused, [&](const ScoredPoint& p) { return p.score < *q.score_threshold; });
    }
    if (q.offset >= fused.size()) {
      return std::vector<ScoredPoint>();
    }
    fused.erase(fused.begin(), fused.begin() + static_cast<std::ptrdiff_t>(q.offset));
    if (fused.size() > q.limit) {
      fused.resize(q.limit);
    }
    FillRecords(searcher, q, &fused);
    return fused;
  }

  SearchRequest request;
  request.vector_name = q.using_vector;
  request.limit = q.limit;
  request.offset = q.offset;
  request.ef = q.ef;
  request.exact = q.exact;
  request.acorn_max_selectivity = q.acorn_max_selectivity;
  request.idf_corpus = q.idf_corpus.get();
  request.score_threshold = q.score_threshold;
  request.with_payload = q.with_payload;
  request.with_vectors = q.with_vectors;
  std::vector<PointId> exclude;
  if (const auto* nearest = std::get_if<NearestQuery>(&q.query); nearest && nearest->mmr) {
    // The candidates: the prefetches' points as they scored there, or the nearest
    // candidates_limit points (a point-id target left out, as always).
    std::vector<ScoredPoint> candidates;
    if (!q.prefetch.empty()) {
      for (auto& list : prefetched) {
        for (ScoredPoint& p : list) {
          candidates.push_back(std::move(p));
        }
      }
    } else {
      TESSERA_RETURN_IF_ERROR(SetTarget(searcher, nearest->target, q.using_vector, &request));
      if (const auto* id = std::get_if<PointId>(&nearest->target)) {
        exclude.push_back(*id);
      }
      request.limit = nearest->mmr->candidates_limit.value_or(q.limit);
      request.offset = 0;
      request.with_payload = false;
      request.with_vectors = false;
      request.filter = q.filter.get();
      TESSERA_ASSIGN_OR_RETURN(candidates,
                               SearchExcluding(searcher, std::move(request), exclude));
    }
    TESSERA_ASSIGN_OR_RETURN(auto chosen, RerankMmr(searcher, q, *nearest, std::move(candidates)));
    FillRecords(searcher, q, &chosen);
    return chosen;
  }
  if (const auto* recommend = std::get_if<RecommendQuery>(&q.query);
      std::holds_alternative<DiscoverQuery>(q.query) ||
      std::holds_alternative<ContextQuery>(q.query) ||
      std::holds_alternative<RelevanceFeedbackQuery>(q.query) ||
      (recommend != nullptr && recommend->strategy != RecommendStrategy::kAverageVector)) {
    return RunScored(sources, q, prefetched);
  }
  if (const auto* nearest = std::get_if<NearestQuery>(&q.query)) {
    TESSERA_RETURN_IF_ERROR(SetTarget(searcher, nearest->target, q.using_vector, &request));
    if (const auto* id = std::get_if<PointId>(&nearest->target)) {
      exclude.push_back(*id);  // a point id query leaves the point out, as Qdrant
    }
  } else {
    TESSERA_ASSIGN_OR_RETURN(
        VectorInput target,
        RecommendVector(searcher, std::get<RecommendQuery>(q.query), q.using_vector, &exclude));
    TESSERA_RETURN_IF_ERROR(SetTarget(searcher, VectorExampleOf(std::move(target)),
                                      q.using_vector, &request));
  }
  const std::shared_ptr<const Filter> filter = LevelFilter(q, prefetched);
  if (!q.prefetch.empty()) {
    request.exact = true;  // re-score the prefetched candidates with this query, exactly
  }
  request.filter = filter.get();
  return SearchExcluding(searcher, std::move(request), exclude);
}

}  // namespace

namespace {

// Sums each point's contributions over the lists, best first, ties by id.
template <typename Contribution>
std::vector<ScoredPoint> SumOver(const std::vector<std::vector<ScoredPoint>>& lists,
                                 Contribution contribution) {
  std::vector<ScoredPoint> fused;
  std::unordered_map<PointId, size_t, PointIdHash> at;
  for (size_t l = 0; l < lists.size(); ++l) {
    const auto& list = lists[l];
    for (size_t rank = 0; rank < list.size(); ++rank) {
      const float add = contribution(l, rank);
      auto [it, inserted] = at.try_emplace(list[rank].record.id, fused.size());
      if (inserted) {
        fused.push_back(list[rank]);
        fused.back().score = 0;
      }
      fused[it->second].score += add;
    }
  }
  std::stable_sort(fused.begin(), fused.end(), [](const auto& a, const auto& b) {
    return a.score > b.score || (a.score == b.score && a.record.id < b.record.id);
  });
  return fused;
}

}  // namespace

std::vector<ScoredPoint> FuseRrf(const std::vector<std::vector<ScoredPoint>>& lists, double k,
                                 const std::vector<float>& weights) {
  return SumOver(lists, [&](size_t list, size_t rank) {
    const float weight = weights.empty() ? 1.0f : weights[list];
    if (weight <= 0.0f) {
      return 0.0f;  // Qdrant: a zero weight contributes nothing
    }
    return 1.0f / (static_cast<float>(rank + 1) / weight + static_cast<float>(k) - 1.0f);
  });
}

std::vector<ScoredPoint> FuseDbsf(const std::vector<std::vector<ScoredPoint>>& lists) {
  // Per list: mean and sample variance (Welford's, in float as Qdrant), extremes at 3 sigma.
  std::vector<std::pair<float, float>> range(lists.size());
  for (size_t l = 0; l < lists.size(); ++l) {
    const auto& list = lists[l];
    if (list.size() < 2) {
      continue;
    }
    float mean = 0.0f, aggregate = 0.0f;
    for (size_t i = 0; i < list.size(); ++i) {
      const float old_delta = list[i].score - mean;
      mean += old_delta / static_cast<float>(i + 1);
      aggregate += old_delta * (list[i].score - mean);
    }
    const float sd = std::sqrt(aggregate / (static_cast<float>(list.size()) - 1.0f));
    range[l] = {mean - 3.0f * sd, mean + 3.0f * sd};
  }
  return SumOver(lists, [&](size_t list, size_t rank) {
    if (lists[list].size() < 2) {
      return 0.5f;
    }
    const auto [min, max] = range[list];
    return min == max ? 0.5f : (lists[list][rank].score - min) / (max - min);
  });
}

std::vector<size_t> MmrOrder(const std::vector<float>& relevance,
                             const std::function<float(size_t, size_t)>& similarity,
                             float lambda, size_t limit) {
  const size_t n = relevance.size();
  std::vector<size_t> chosen;
  if (n == 0 || limit == 0) {
    return chosen;
  }
  if (n < 2) {  // Qdrant returns a single candidate as it is
    chosen.push_back(0);
    return chosen;
  }
  // max_sim[i]: candidate i's highest similarity to a chosen one so far (computed once per
  // pair, as Qdrant's lazy matrix does).
  std::vector<float> max_sim(n, -std::numeric_limits<float>::infinity());
  std::vector<bool> taken(n, false);
  size_t first = 0;
  for (size_t i = 1; i < n; ++i) {
    if (relevance[i] >= relevance[first]) {  // the last of equals, as Rust's max_by_key
      first = i;
    }
  }
  chosen.push_back(first);
  taken[first] = true;
  while (chosen.size() < std::min(limit, n)) {
    const size_t last = chosen.back();
    size_t best = n;
    float best_score = 0;
    for (size_t i = 0; i < n; ++i) {
      if (taken[i]) {
        continue;
      }
      max_sim[i] = std::max(max_sim[i], similarity(i, last));
      const float score = lambda * relevance[i] - (1.0f - lambda) * max_sim[i];
      if (best == n || score > best_score) {
        best = i;
        best_score = score;
      }
    }
    chosen.push_back(best);
    taken[best] = true;
  }
  return chosen;
}

float SparseDot(std::span<const uint32_t> ai, std::span<const float> av,
                std::span<const uint32_t> bi, std::span<const float> bv) {
  float dot = 0;  // both sorted by index
  for (size_t i = 0, j = 0; i < ai.size() && j < bi.size();) {
    if (ai[i] == bi[j]) {
      dot += av[i++] * bv[j++];
    } else if (ai[i] < bi[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  return dot;
}

float MaxSimOf(index::Metric metric, size_t dim, std::span<const float> a,
               std::span<const float> b) {
  if (dim == 0 || b.empty()) {
    return 0;
  }
  float sum = 0;
  for (size_t r = 0; r + dim <= a.size(); r += dim) {
    float best = -std::numeric_limits<float>::infinity();
    for (size_t t = 0; t + dim <= b.size(); t += dim) {
      best = std::max(best, index::Similarity(metric, a.data() + r, b.data() + t, dim));
    }
    sum += best;
  }
  return sum;
}

float RawSimilarity(index::Metric metric, const VectorInput& a, const VectorInput& b) {
  if (const auto* x = AsDense(a)) {
    const auto* y = AsDense(b);
    if (y == nullptr || y->size() != x->size()) {
      return 0;
    }
    return index::Similarity(metric, x->data(), y->data(), x->size());
  }
  if (const auto* x = std::get_if<SparseVector>(&a)) {
    const auto* y = std::get_if<SparseVector>(&b);
    return y == nullptr ? 0 : SparseDot(x->indices, x->values, y->indices, y->values);
  }
  const auto& x = std::get<MultiDenseVector>(a);
  const auto* y = std::get_if<MultiDenseVector>(&b);
  if (y == nullptr || y->dim != x.dim) {
    return 0;
  }
  return MaxSimOf(metric, x.dim, x.values, y->values);
}

std::vector<PointGroup> GroupHits(const std::vector<ScoredPoint>& hits, const GroupRequest& group) {
  std::vector<PointGroup> groups;
  for (const ScoredPoint& p : hits) {
    for (const boost::json::value* key : ValuesAt(p.record.payload, group.group_by)) {
      if (!key->is_string() && !key->is_int64() && !key->is_uint64()) {
        continue;
      }
      auto it = std::find_if(groups.begin(), groups.end(),
                             [&](const PointGroup& g) { return g.key == *key; });
      if (it == groups.end()) {
        if (groups.size() >= group.limit) {
          continue;
        }
        groups.push_back({*key, {}});
        it = groups.end() - 1;
      }
      if (it->hits.size() < group.group_size) {
        it->hits.push_back(p);
      }
    }
  }
  return groups;
}

Result<std::vector<ScoredPoint>> RunQuery(const QuerySources& sources, const Query& query) {
  return Run(sources, query, 0);
}

Result<SearchMatrix> RunSearchMatrix(const QuerySources& sources,
                                     const SearchMatrixRequest& request) {
  SearchMatrix out;
  const auto config = sources.searcher.config();
  if (!config->vectors.contains(request.using_vector) &&
      !config->sparse_vectors.contains(request.using_vector)) {
    return Status::InvalidArgument(
        "Wrong input: Not existing vector name error: " +
        (request.using_vector.empty() ? std::string("(unnamed)") : request.using_vector));
  }
  if (request.sample == 0 || request.limit == 0) {
    return out;
  }
  // The sample: random points holding the vector (and matching the filter).
  Query sample;
  sample.query = SampleQuery{};
  auto with_vector = std::make_shared<Filter>();
  with_vector->must.push_back(HasVectorCondition{request.using_vector});
  if (request.filter != nullptr) {
    with_vector->must.push_back(FilterCondition{request.filter});
  }
  sample.filter = with_vector;
  sample.limit = request.sample;
  sample.with_vectors = true;
  TESSERA_ASSIGN_OR_RETURN(std::vector<ScoredPoint> sampled, Run(sources, sample, 0));
  if (sampled.size() < 2) {
    return out;
  }
  std::sort(sampled.begin(), sampled.end(),
            [](const ScoredPoint& a, const ScoredPoint& b) { return a.record.id < b.record.id; });
  auto among = std::make_shared<Filter>();
  HasIdCondition has;
  for (const ScoredPoint& p : sampled) {
    out.ids.push_back(p.record.id);
    has.ids.insert(p.record.id);
  }
  among->must.push_back(std::move(has));
  for (ScoredPoint& p : sampled) {
    auto it = p.record.vectors.find(request.using_vector);
    if (it == p.record.vectors.end()) {
      return Status::Internal("a sampled point lost its vector");
    }
    Query nearest;
    nearest.query = NearestQuery{VectorExampleOf(std::move(it->second))};
    nearest.using_vector = request.using_vector;
    nearest.filter = among;
    nearest.limit = request.limit + 1;  // itself among them, left out below
    TESSERA_ASSIGN_OR_RETURN(std::vector<ScoredPoint> hits, Run(sources, nearest, 0));
    auto self = std::find_if(hits.begin(), hits.end(), [&](const ScoredPoint& h) {
      return h.record.id == p.record.id;
    });
    if (self != hits.end()) {
      hits.erase(self);
    } else if (hits.size() == request.limit + 1) {
      hits.pop_back();
    }
    out.nearest.push_back(std::move(hits));
  }
  return out;
}

Result<std::vector<PointGroup>> RunGroupQuery(const QuerySources& sources, Query query,
                                              const GroupRequest& group) {
  // Deep enough to fill the groups in most collections; the payload is needed to group.
  query.limit = std::min<size_t>(group.limit * group.group_size * 8, 10000);
  query.offset = 0;
  query.with_payload = true;
  TESSERA_ASSIGN_OR_RETURN(auto hits, Run(sources, query, 0));
  return GroupHits(hits, group);
}

}  // namespace tessera::engine

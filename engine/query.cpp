#include "engine/query.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "engine/filter.h"
#include "engine/scan.h"
#include "engine/searcher.h"

namespace tessera::engine {

namespace {

constexpr int kMaxPrefetchDepth = 4;  // levels of prefetch below the root

// a + b, or the largest size_t (a limit may be any u64, as in Qdrant).
size_t SaturatingAdd(size_t a, size_t b) {
  return a > std::numeric_limits<size_t>::max() - b ? std::numeric_limits<size_t>::max() : a + b;
}

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

Result<std::vector<ScoredPoint>> Run(const QuerySources& sources, const Query& q, int depth) {
  const Searcher& searcher = sources.searcher;
  if (depth > kMaxPrefetchDepth) {
    return Status::InvalidArgument("Wrong input: prefetch nested too deeply");
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
      out.push_back({std::move(records[i]), 0.0f});
    }
    return out;
  }

  if (const auto* fusion = std::get_if<FusionQuery>(&q.query)) {
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
    if (q.with_payload || q.with_vectors) {
      for (ScoredPoint& p : fused) {
        auto rec = searcher.Retrieve({p.record.id}, q.with_payload, q.with_vectors);
        if (!rec.empty()) {
          rec[0].version = p.record.version;
          p.record = std::move(rec[0]);
        }
      }
    }
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
  std::shared_ptr<const Filter> filter = q.filter;
  if (!q.prefetch.empty()) {
    // Re-score the prefetched candidates with this query, exactly.
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
    filter = std::move(candidates);
    request.exact = true;
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

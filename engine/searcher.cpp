#include "engine/searcher.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <unordered_set>

#include "engine/indexed_filter.h"
#include "engine/records.h"
#include "engine/thread_pool.h"

namespace tessera::engine {

namespace {

// A candidate set's offsets, ascending.
std::vector<Offset> OffsetsOf(const index::Postings& postings) {
  std::vector<Offset> out(postings.cardinality());
  postings.toUint32Array(out.data());
  return out;
}

}  // namespace

uint64_t EstimateMatches(PointFilter filter, const Segment& segment) {
  // Count exactly on small segments; otherwise evaluate an even sample and scale up, rounding
  // towards more matches (a too-high estimate only costs an HNSW walk, never recall).
  constexpr size_t kSample = 2048;
  const size_t n = segment.size();
  if (n <= kSample) {
    uint64_t matches = 0;
    for (Offset o = 0; o < n; ++o) {
      matches += !segment.deleted(o) && Accepts(filter, segment, o);
    }
    return matches;
  }
  uint64_t hits = 0;
  const size_t step = n / kSample;
  for (size_t i = 0; i < kSample; ++i) {
    const auto o = static_cast<Offset>(i * step);
    hits += !segment.deleted(o) && Accepts(filter, segment, o);
  }
  const double rate = (static_cast<double>(hits) + 1.0) / kSample;
  return static_cast<uint64_t>(rate * static_cast<double>(segment.live_count()));
}

std::vector<PointRecord> Searcher::Retrieve(const std::vector<PointId>& ids, bool with_payload,
                                            bool with_vectors) const {
  std::shared_lock state(segments_.mu());
  std::vector<PointRecord> out;
  std::unordered_map<PointId, bool, PointIdHash> seen;
  for (const PointId& id : ids) {
    if (!seen.emplace(id, true).second) {
      continue;
    }
    if (auto loc = segments_.Locate(id)) {
      out.push_back(
          MakeRecord(*segments_.segments()[loc->segment], loc->offset, with_payload, with_vectors));
    }
  }
  return out;
}

void Searcher::ApplyIdf(const std::vector<std::shared_ptr<Segment>>& segments,
                        const std::string& name, PointFilter corpus, SparseVector* query) {
  // Qdrant's IDF: ln((N - df + 0.5) / (df + 0.5) + 1), N the live points holding the vector,
  // df those holding the dimension, over the whole collection.
  uint64_t n = 0;
  std::vector<uint64_t> df(query->indices.size(), 0);
  for (const auto& segment : segments) {
    const int v = segment->VectorIndex(name);
    if (v < 0) {
      continue;
    }
    const index::SparseVectorIndex& index = segment->sparse(static_cast<size_t>(v));
    const bool tombstones = segment->live_count() != segment->size() || corpus != nullptr;
    auto live = [&](Offset o) {
      return !segment->deleted(o) && (corpus == nullptr || Accepts(corpus, *segment, o));
    };
    if (!tombstones) {
      n += index.count();
    } else {
      for (Offset o = 0; o < segment->size(); ++o) {
        n += index.has(o) && live(o) ? 1 : 0;
      }
    }
    for (size_t j = 0; j < query->indices.size(); ++j) {
      df[j] += tombstones ? index.DocumentFrequency(query->indices[j], live)
                          : index.DocumentFrequency(query->indices[j], {});
    }
  }
  for (size_t j = 0; j < query->indices.size(); ++j) {
    const auto nf = static_cast<float>(n);
    const auto d = static_cast<float>(df[j]);
    query->values[j] *= std::log((nf - d + 0.5f) / (d + 0.5f) + 1.0f);
  }
}

Result<std::vector<ScoredPoint>> Searcher::Search(const SearchRequest& unbound) const {
  const std::shared_ptr<const CollectionConfig> config = config_.get();
  const CollectionConfig& c = *config;
  // Text conditions meet their index; the request is copied only when something was bound.
  const BoundFilter bound(unbound.filter, TextIndexesOf(c));
  std::optional<SearchRequest> rebound;
  if (bound.get() != unbound.filter) {
    rebound = unbound;
    rebound->filter = bound.get();
  }
  const SearchRequest& request = rebound ? *rebound : unbound;
  auto it = c.vectors.find(request.vector_name);
  auto sparse_it = c.sparse_vectors.find(request.vector_name);
  const bool sparse = it == c.vectors.end() && sparse_it != c.sparse_vectors.end();
  if (it == c.vectors.end() && !sparse) {
    return Status::InvalidArgument(
        "Wrong input: Not existing vector name error: " +
        (request.vector_name.empty() ? std::string("(unnamed)") : request.vector_name));
  }
  if (sparse != request.sparse.has_value()) {
    return Status::InvalidArgument(
        "Wrong input: Conversion between sparse and regular vectors failed");
  }
  const bool multi = !sparse && it->second.multivector.has_value();
  if (!multi && request.multi_dim != 0) {
    return Status::InvalidArgument(
        "Wrong input: Conversion between multi and regular vectors failed");
  }
  if (request.idf_corpus != nullptr && !(sparse && sparse_it->second.idf())) {
    return Status::InvalidArgument(
        "Wrong input: `params.idf` applies only to a sparse vector with the `idf` modifier");
  }
  std::vector<float> q;
  SparseVector sq;
  if (sparse) {
    sq = *request.sparse;
    TESSERA_RETURN_IF_ERROR(SortSparse(&sq));
  } else if (multi) {
    // A multivector query, or one dense vector (a multivector of one row, as Qdrant).
    q = request.query;
    const size_t dim = request.multi_dim != 0 ? request.multi_dim : q.size();
    if (dim != it->second.size || q.empty()) {
      return Status::InvalidArgument("Wrong input: Vector dimension error: expected dim: " +
                                     std::to_string(it->second.size) + ", got " +
                                     std::to_string(dim));
    }
    TESSERA_RETURN_IF_ERROR(PrepareRows(it->second, q.data(), q.size()));
  } else {
    q = request.query;
    TESSERA_RETURN_IF_ERROR(PrepareVector(c, request.vector_name, &q));
  }
  const index::Metric metric = sparse ? index::Metric::kDot : MetricFor(it->second.distance);
  // Results wanted: saturating (a limit may be as large as u64 allows, as in Qdrant), and
  // at most every point there is (set below, under the lock).
  size_t want = SaturatingAdd(request.offset, request.limit);

  struct Candidate {
    float distance;
    size_t segment;
    Offset offset;
  };
  std::shared_lock state(segments_.mu());
  const auto& segments = segments_.segments();
  uint64_t threshold_kb = c.hnsw.full_scan_threshold;
  uint64_t sparse_threshold = kDefaultSparseFullScanThreshold;  // vectors, not KB
  if (sparse) {
    const SparseVectorParams& params = sparse_it->second;
    if (params.index && params.index->full_scan_threshold) {
      sparse_threshold = *params.index->full_scan_threshold;
    }
    if (params.idf()) {
      const BoundFilter corpus(request.idf_corpus, TextIndexesOf(c));
      ApplyIdf(segments, request.vector_name, corpus.get(), &sq);
    }
  } else if (it->second.hnsw_config && it->second.hnsw_config->full_scan_threshold) {
    threshold_kb = *it->second.hnsw_config->full_scan_threshold;
  }
  const index::SparseQuery sparse_query{sq.indices, sq.values};
  size_t live = 0;
  for (const auto& segment : segments) {
    live += segment->live_count();
  }
  want = std::min(want, live);
  // Qdrant's default ef is the vector's ef_construct.
  const HnswConfig hnsw = HnswFor(c, request.vector_name);
  const size_t ef = std::max<size_t>(request.ef.value_or(hnsw.ef_construct), want);
  struct SegmentResult {
    std::vector<Candidate> hits;
    int path = -1;  // -1 not searched, 0 exact, 1 HNSW
    bool indexed = false;
    // The plan (plan_segment): what the payload indexes give, the estimated matches, and
    // whether the search is worth a thread of its own.
    std::optional<IndexedCandidates> candidates;
    uint64_t estimate = 0;
    bool parallel = false;
  };
  std::vector<SegmentResult> results(segments.size());
  // Planning, per segment, as Qdrant does, with one rule more: a segment is scanned exactly
  // when the vectors the scan would touch (all its points, or the filter's estimated matches)
  // are under full_scan_threshold KB, and, with a filter, when scoring its matches is cheaper
  // than the filtered walk: a walk that keeps ef of a share p of the points expands about
  // ef / p nodes of 2m links each, so for M matches among N points it scores about
  // c * ef * 2m * N / M vectors against the scan's M (c measured, bench/RESULTS.md); the scan
  // wins below M = sqrt(c * ef * 2m * N).
  constexpr double kWalkCost = 0.65;
  // Segments with much to do are searched in parallel on the search pool when there are two
  // or more; the rest on this thread (handing work over costs more than they take), and this
  // thread takes part in the fan-out, so a collection of one big segment never leaves it.
  // Much: a walk or a scan of a segment of 10,000 points or more, or an exact scan of a
  // filter's matches of 1,000 or more 128-dimensional vectors (some 50 us of random reads).
  constexpr uint64_t kParallelWalk = 10000;
  constexpr double kParallelScan = 1000;
  const double dim_scale =
      sparse ? 1.0 : static_cast<double>(multi ? q.size() : it->second.size) / 128.0;
  auto plan_segment = [&](size_t i) {
    SegmentResult& r = results[i];
    const Segment& s = *segments[i];
    const int v = s.VectorIndex(request.vector_name);
    if (v < 0 || s.live_count() == 0) {
      return;
    }
    r.estimate = s.live_count();
    if (request.filter != nullptr) {
      // The candidates the payload indexes give (indexed_filter.h): then only they are
      // checked, and not at all when they are the filter's exact answer.
      r.candidates = IndexedCandidatesFor(*request.filter, s, c);
      std::optional<uint64_t> indexed;
      if (r.candidates) {
        indexed = r.candidates->offsets.cardinality();
      } else if (s.sealed() && !c.payload_indexes.empty()) {
        indexed = stats_.IndexEstimate(*request.filter, s, c);
      }
      r.indexed = indexed.has_value();
      r.estimate = indexed ? std::min<uint64_t>(*indexed, s.live_count())
                           : EstimateMatches(request.filter, s);
    }
    if (multi || sparse) {
      r.path = 0;
      r.parallel = s.live_count() >= kParallelWalk;
      return;
    }
    const uint64_t kb = r.estimate * it->second.size * sizeof(float) / 1024;
    const bool graph = s.has_graph(static_cast<size_t>(v));
    bool exact = request.exact || !graph || kb < threshold_kb;
    if (exact && graph && !request.exact && request.filter != nullptr) {
      const double links = static_cast<double>(ef) * 2.0 * static_cast<double>(hnsw.m);
      const double m = static_cast<double>(std::max<uint64_t>(r.estimate, 1));
      exact = m * m < kWalkCost * links * static_cast<double>(s.live_count());
    }
    r.path = exact ? 0 : 1;
    r.parallel = exact && r.candidates
                     ? static_cast<double>(r.estimate) * dim_scale >= kParallelScan
                     : s.live_count() >= kParallelWalk;
  };
  auto search_segment = [&](size_t i) {
    SegmentResult& r = results[i];
    if (r.path < 0) {
      return;
    }
    const Segment& s = *segments[i];
    const int v = s.VectorIndex(request.vector_name);
    const std::optional<IndexedCandidates>& candidates = r.candidates;
    index::AcceptFn accept;
    if (request.filter != nullptr) {
      if (candidates && candidates->exact) {
        accept = [&](Offset o) { return candidates->offsets.contains(o); };
      } else if (candidates) {
        accept = [&](Offset o) {
          return candidates->offsets.contains(o) && Accepts(request.filter, s, o);
        };
      } else {
        accept = [&](Offset o) { return Accepts(request.filter, s, o); };
      }
    }
    // Scoring a candidate list needs no membership test: only the evaluator's, when the
    // indexes answered part of the filter.
    index::AcceptFn among;
    if (candidates && !candidates->exact) {
      among = [&](Offset o) { return Accepts(request.filter, s, o); };
    }
    std::vector<index::Hit> hits;
    if (multi) {
      // Exact MaxSim over the segment's multivectors, or over a filter's candidates.
      std::vector<Offset> offsets;
      if (candidates) {
        offsets = OffsetsOf(candidates->offsets);
      }
      hits = s.SearchMulti(static_cast<size_t>(v), q, want, candidates ? &offsets : nullptr,
                           candidates ? among : accept);
    } else if (sparse) {
      // The inverted index answers exactly; a small enough candidate set is scored directly.
      std::vector<Offset> offsets;
      const bool plain = candidates && r.estimate < sparse_threshold;
      if (plain) {
        offsets = OffsetsOf(candidates->offsets);
      }
      r.path = plain ? 0 : 1;
      hits = s.SearchSparse(static_cast<size_t>(v), sparse_query, want,
                            plain ? &offsets : nullptr, plain ? among : accept);
    } else if (r.path == 0 && candidates) {
      const std::vector<Offset> offsets = OffsetsOf(candidates->offsets);
      hits = s.SearchAmong(static_cast<size_t>(v), q, want, offsets, among);
    } else {
      // The two-hop walk when asked for (params.acorn) and the filter is restrictive enough.
      const bool two_hop =
          request.acorn_max_selectivity && request.filter != nullptr &&
          static_cast<double>(r.estimate) <=
              *request.acorn_max_selectivity * static_cast<double>(s.live_count());
      hits = s.Search(static_cast<size_t>(v), q, want, ef, r.path == 0, accept, two_hop);
    }
    for (const index::Hit& h : hits) {
      r.hits.push_back({h.distance, i, h.offset});
    }
  };
  for (size_t i = 0; i < segments.size(); ++i) {
    plan_segment(i);
  }
  std::vector<size_t> large;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (results[i].parallel) {
      large.push_back(i);
    } else {
      search_segment(i);
    }
  }
  if (large.size() == 1) {
    search_segment(large[0]);
  } else if (large.size() > 1) {
    ThreadPool::Search().ParallelFor(large.size(), [&](size_t k) { search_segment(large[k]); });
  }
  std::vector<Candidate> all;
  for (const SegmentResult& r : results) {
    all.insert(all.end(), r.hits.begin(), r.hits.end());
    for (size_t k = all.size() - r.hits.size(); k < all.size(); ++k) {
      if (std::isnan(all[k].distance)) {  // a strict weak order for the sort below
        all[k].distance = std::numeric_limits<float>::infinity();
      }
    }
    if (request.stats != nullptr && r.path >= 0) {
      ++(r.path == 0 ? request.stats->exact_segments : request.stats->hnsw_segments);
      request.stats->index_estimates += r.indexed ? 1 : 0;
    }
  }
  std::sort(all.begin(), all.end(), [&](const Candidate& a, const Candidate& b) {
    if (a.distance != b.distance) {
      return a.distance < b.distance;
    }
    return segments[a.segment]->point_id(a.offset) < segments[b.segment]->point_id(b.offset);
  });
  std::vector<ScoredPoint> out;
  for (size_t i = request.offset; i < std::min(all.size(), want); ++i) {
    // A sparse or multivector hit's distance is its negated score (sparse_vector_index.h,
    // multi_dense_storage.h).
    float score = sparse || multi ? -all[i].distance
                                  : index::ScoreFromDistance(metric, all[i].distance);
    if (multi && (metric == index::Metric::kEuclid || metric == index::Metric::kManhattan)) {
      // Qdrant post-processes the summed similarity as its metric's score: the L2 distance
      // (square root) or the L1 distance, smaller closer.
      score = metric == index::Metric::kEuclid ? std::sqrt(std::fabs(score)) : std::fabs(score);
    }
    if (request.score_threshold) {
      const bool passes = index::HigherIsBetter(metric) ? score >= *request.score_threshold
                                                        : score <= *request.score_threshold;
      if (!passes) {
        break;
      }
    }
    out.push_back({MakeRecord(*segments[all[i].segment], all[i].offset, request.with_payload,
                              request.with_vectors),
                   score});
  }
  return out;
}

Result<std::vector<ScoredPoint>> Searcher::SearchScored(const ScoredSearchRequest& unbound) const {
  const std::shared_ptr<const CollectionConfig> config = config_.get();
  const CollectionConfig& c = *config;
  const BoundFilter bound(unbound.filter, TextIndexesOf(c));
  const std::string& name = unbound.vector_name;
  auto it = c.vectors.find(name);
  const bool sparse = it == c.vectors.end() && c.sparse_vectors.contains(name);
  if (it == c.vectors.end() && !sparse) {
    return Status::InvalidArgument(
        "Wrong input: Not existing vector name error: " +
        (name.empty() ? std::string("(unnamed)") : name));
  }
  const bool multi = !sparse && it->second.multivector.has_value();
  const index::Metric metric = sparse ? index::Metric::kDot : MetricFor(it->second.distance);
  const size_t dim = sparse ? 0 : static_cast<size_t>(it->second.size);
  // The examples, prepared as stored vectors are (Cosine normalised, sparse sorted).
  std::vector<VectorInput> vectors = unbound.vectors;
  for (VectorInput& v : vectors) {
    if (sparse) {
      auto* sv = std::get_if<SparseVector>(&v);
      if (sv == nullptr) {
        return Status::InvalidArgument(
            "Wrong input: Conversion between sparse and regular vectors failed");
      }
      TESSERA_RETURN_IF_ERROR(SortSparse(sv));
    } else if (multi) {
      if (auto* dense = AsDense(v)) {  // a plain vector is a multivector of one row
        v = MultiDenseVector{dim, std::move(*dense)};
      }
      auto* mv = std::get_if<MultiDenseVector>(&v);
      if (mv == nullptr || mv->dim != dim || mv->values.empty() || mv->values.size() % dim != 0) {
        return Status::InvalidArgument(
            "Wrong input: Vector dimension error: expected dim: " + std::to_string(dim));
      }
      TESSERA_RETURN_IF_ERROR(PrepareRows(it->second, mv->values.data(), mv->values.size()));
    } else {
      auto* dv = AsDense(v);
      if (dv == nullptr) {
        return Status::InvalidArgument(
            "Wrong input: Conversion between multi and regular vectors failed");
      }
      TESSERA_RETURN_IF_ERROR(PrepareVector(c, name, dv));
    }
  }
  const std::unordered_set<PointId, PointIdHash> exclude(unbound.exclude.begin(),
                                                         unbound.exclude.end());
  const size_t want = SaturatingAdd(unbound.offset, unbound.limit);
  struct Scored {
    float score;
    PointId id;
    size_t segment;
    Offset offset;
  };
  // Better first: a higher score, then a smaller id.
  auto better = [](const Scored& a, const Scored& b) {
    return a.score > b.score || (a.score == b.score && a.id < b.id);
  };
  std::vector<Scored> heap;  // the `want` best so far, the worst on top
  std::vector<float> sims(vectors.size());
  std::shared_lock state(segments_.mu());
  const auto& segments = segments_.segments();
  for (size_t si = 0; si < segments.size(); ++si) {
    const Segment& s = *segments[si];
    const int vi = s.VectorIndex(name);
    if (vi < 0 || s.live_count() == 0 || want == 0) {
      continue;
    }
    const auto v = static_cast<size_t>(vi);
    std::optional<IndexedCandidates> candidates;
    if (bound.get() != nullptr) {
      candidates = IndexedCandidatesFor(*bound.get(), s, c);
    }
    auto visit = [&](Offset o) {
      if (s.deleted(o) || !s.has_vector(v, o)) {
        return;
      }
      if (bound.get() != nullptr && !(candidates && candidates->exact) &&
          !Accepts(bound.get(), s, o)) {
        return;
      }
      if (!exclude.empty() && exclude.contains(s.point_id(o))) {
        return;
      }
      for (size_t k = 0; k < vectors.size(); ++k) {
        if (sparse) {
          const auto& q = std::get<SparseVector>(vectors[k]);
          const index::SparseVectorIndex::View p = s.sparse(v).Get(o);
          sims[k] = SparseDot(q.indices, q.values, p.indices, p.values);
        } else if (multi) {
          sims[k] = MaxSimOf(metric, dim, std::get<MultiDenseVector>(vectors[k]).values,
                             s.multi(v).Get(o));
        } else {
          sims[k] = index::Similarity(metric, AsDense(vectors[k])->data(), s.vector(v, o).data(),
                                      dim);
        }
      }
      const float score = unbound.score(sims.data());
      if (std::isnan(score) || (unbound.score_threshold && score < *unbound.score_threshold)) {
        return;
      }
      Scored entry{score, s.point_id(o), si, o};
      if (heap.size() < want) {
        heap.push_back(entry);
        std::push_heap(heap.begin(), heap.end(), better);
      } else if (better(entry, heap.front())) {
        std::pop_heap(heap.begin(), heap.end(), better);
        heap.back() = entry;
        std::push_heap(heap.begin(), heap.end(), better);
      }
    };
    if (candidates) {
      for (Offset o : candidates->offsets) {
        visit(o);
      }
    } else {
      for (Offset o = 0; o < s.size(); ++o) {
        visit(o);
      }
    }
  }
  std::sort(heap.begin(), heap.end(), better);
  std::vector<ScoredPoint> out;
  for (size_t i = unbound.offset; i < heap.size(); ++i) {
    out.push_back({MakeRecord(*segments[heap[i].segment], heap[i].offset, unbound.with_payload,
                              unbound.with_vectors),
                   heap[i].score});
  }
  return out;
}

}  // namespace tessera::engine

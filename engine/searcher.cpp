#include "engine/searcher.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "engine/indexed_filter.h"
#include "engine/records.h"
#include "engine/thread_pool.h"

namespace tessera::engine {

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
  if (it == c.vectors.end()) {
    return Status::InvalidArgument(
        "Wrong input: Not existing vector name error: " +
        (request.vector_name.empty() ? std::string("(unnamed)") : request.vector_name));
  }
  std::vector<float> q = request.query;
  TESSERA_RETURN_IF_ERROR(PrepareVector(c, request.vector_name, &q));
  const index::Metric metric = MetricFor(it->second.distance);
  const size_t want = request.offset + request.limit;
  const size_t ef = std::max(request.ef.value_or(c.hnsw.ef_construct), want);

  struct Candidate {
    float distance;
    size_t segment;
    Offset offset;
  };
  std::shared_lock state(segments_.mu());
  const auto& segments = segments_.segments();
  const uint64_t threshold_kb =
      it->second.hnsw_config && it->second.hnsw_config->full_scan_threshold
          ? *it->second.hnsw_config->full_scan_threshold
          : c.hnsw.full_scan_threshold;
  struct SegmentResult {
    std::vector<Candidate> hits;
    int path = -1;  // -1 not searched, 0 exact, 1 HNSW
    bool indexed = false;
  };
  std::vector<SegmentResult> results(segments.size());
  auto search_segment = [&](size_t i) {
    const Segment& s = *segments[i];
    const int v = s.VectorIndex(request.vector_name);
    if (v < 0 || s.live_count() == 0) {
      return;
    }
    index::AcceptFn accept;
    // The candidates the payload indexes give (indexed_filter.h): then only they are checked,
    // and not at all when they are the filter's exact answer.
    std::optional<IndexedCandidates> candidates;
    if (request.filter != nullptr) {
      candidates = IndexedCandidatesFor(*request.filter, s, c);
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
    // Plan as Qdrant does: a full scan when the vectors it would touch (the segment's, or the
    // estimated matches of the filter) are under full_scan_threshold KB; HNSW otherwise.
    uint64_t estimate = s.live_count();
    if (request.filter != nullptr) {
      std::optional<uint64_t> indexed;
      if (candidates) {
        indexed = candidates->offsets.cardinality();
      } else if (s.sealed() && !c.payload_indexes.empty()) {
        indexed = stats_.IndexEstimate(*request.filter, s, c);
      }
      results[i].indexed = indexed.has_value();
      estimate = indexed ? std::min<uint64_t>(*indexed, s.live_count())
                         : EstimateMatches(request.filter, s);
    }
    const uint64_t kb = estimate * it->second.size * sizeof(float) / 1024;
    const bool exact = request.exact || !s.has_graph(static_cast<size_t>(v)) || kb < threshold_kb;
    results[i].path = exact ? 0 : 1;
    std::vector<index::Hit> hits;
    if (exact && candidates) {
      std::vector<Offset> offsets(candidates->offsets.cardinality());
      candidates->offsets.toUint32Array(offsets.data());
      hits = s.SearchAmong(static_cast<size_t>(v), q, want, offsets, accept);
    } else {
      hits = s.Search(static_cast<size_t>(v), q, want, ef, exact, accept);
    }
    for (const index::Hit& h : hits) {
      results[i].hits.push_back({h.distance, i, h.offset});
    }
  };
  // Large segments are searched in parallel on the search pool when there are two or more;
  // small ones here (fanning out costs more than they take), and the caller's thread takes
  // part in the fan-out, so a collection of one big segment never leaves this thread.
  constexpr size_t kParallelPoints = 10000;
  std::vector<size_t> large;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (segments[i]->live_count() >= kParallelPoints) {
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
    const float score = index::ScoreFromDistance(metric, all[i].distance);
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

}  // namespace tessera::engine

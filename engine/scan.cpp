#include "engine/scan.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

#include "engine/indexed_filter.h"
#include "engine/records.h"

namespace tessera::engine {

namespace json = boost::json;

std::vector<PointRecord> Scans::Scroll(const std::optional<PointId>& from, size_t limit,
                                       PointFilter unbound_filter, bool with_payload,
                                       bool with_vectors, std::optional<PointId>* next) const {
  const std::shared_ptr<const CollectionConfig> config = config_.get();
  const BoundFilter bound(unbound_filter, TextIndexesOf(*config));
  const PointFilter filter = bound.get();
  std::shared_lock state(segments_.mu());
  const auto& segments = segments_.segments();
  // The `limit` + 1 smallest matching ids from `from` on (the last one is `next`), kept in a
  // max-heap on id, so that a page costs one pass over the matches and no more memory than it.
  using Entry = std::tuple<PointId, size_t, Offset>;
  auto by_id = [](const Entry& a, const Entry& b) { return std::get<0>(a) < std::get<0>(b); };
  const size_t keep = limit == std::numeric_limits<size_t>::max() ? limit : limit + 1;
  std::vector<Entry> heap;
  for (size_t i = 0; i < segments.size(); ++i) {
    const Segment& s = *segments[i];
    ForEachMatch(filter, s, config.get(), [&](Offset o) {
      const PointId& id = s.point_id(o);
      if (from && id < *from) {
        return;
      }
      if (heap.size() < keep) {
        heap.emplace_back(id, i, o);
        std::push_heap(heap.begin(), heap.end(), by_id);
      } else if (keep > 0 && id < std::get<0>(heap.front())) {
        std::pop_heap(heap.begin(), heap.end(), by_id);
        heap.back() = {id, i, o};
        std::push_heap(heap.begin(), heap.end(), by_id);
      }
    });
  }
  std::sort_heap(heap.begin(), heap.end(), by_id);
  const size_t n = std::min(heap.size(), limit);
  std::vector<PointRecord> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const auto& [id, seg, o] = heap[i];
    out.push_back(MakeRecord(*segments[seg], o, with_payload, with_vectors));
  }
  next->reset();
  if (heap.size() > limit) {
    *next = std::get<0>(heap[limit]);
  }
  return out;
}

namespace {

// Count's estimate on one segment (see Scans::Count).
uint64_t EstimateCount(const Filter& filter, const Segment& s,
                       const std::optional<IndexedCandidates>& candidates) {
  constexpr uint64_t kSample = 2048;
  const uint64_t size = s.size();
  if (size == 0) {
    return 0;
  }
  const double live_share = static_cast<double>(s.live_count()) / static_cast<double>(size);
  if (candidates && candidates->exact) {
    return static_cast<uint64_t>(
        std::llround(static_cast<double>(candidates->offsets.cardinality()) * live_share));
  }
  const uint64_t pool = candidates ? candidates->offsets.cardinality() : size;
  if (pool <= kSample) {
    uint64_t n = 0;
    ForEachMatchOf(filter, s, candidates, [&](Offset) { ++n; });
    return n;
  }
  uint64_t hits = 0;
  for (uint64_t i = 0; i < kSample; ++i) {
    const uint64_t rank = i * pool / kSample;
    Offset o = static_cast<Offset>(rank);
    if (candidates && !candidates->offsets.select(static_cast<uint32_t>(rank), &o)) {
      continue;
    }
    hits += !s.deleted(o) && Accepts(&filter, s, o);
  }
  return static_cast<uint64_t>(
      std::llround(static_cast<double>(hits) * static_cast<double>(pool) / kSample));
}

}  // namespace

uint64_t Scans::Count(PointFilter unbound_filter, bool exact) const {
  const std::shared_ptr<const CollectionConfig> config = config_.get();
  const BoundFilter bound(unbound_filter, TextIndexesOf(*config));
  const PointFilter filter = bound.get();
  std::shared_lock state(segments_.mu());
  uint64_t n = 0;
  for (const auto& s : segments_.segments()) {
    if (filter == nullptr) {
      n += s->live_count();
      continue;
    }
    // The indexes' exact answer on a segment without tombstones is the count.
    const std::optional<IndexedCandidates> candidates = IndexedCandidatesFor(*filter, *s, *config);
    if (!exact) {
      n += EstimateCount(*filter, *s, candidates);
    } else if (candidates && candidates->exact && s->live_count() == s->size()) {
      n += candidates->offsets.cardinality();
    } else {
      ForEachMatchOf(*filter, *s, candidates, [&](Offset) { ++n; });
    }
  }
  return n;
}

std::vector<PointId> Scans::MatchingIds(PointFilter unbound_filter) const {
  const std::shared_ptr<const CollectionConfig> config = config_.get();
  const BoundFilter bound(unbound_filter, TextIndexesOf(*config));
  const PointFilter filter = bound.get();
  std::shared_lock state(segments_.mu());
  std::vector<PointId> out;
  for (const auto& s : segments_.segments()) {
    ForEachMatch(filter, *s, config.get(), [&](Offset o) { out.push_back(s->point_id(o)); });
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<PointRecord>> Scans::ScrollOrdered(const OrderBy& order, size_t limit,
                                                      PointFilter unbound_filter,
                                                      bool with_payload,
                                                      bool with_vectors) const {
  const std::shared_ptr<const CollectionConfig> config = config_.get();
  const CollectionConfig& c = *config;
  auto index = c.payload_indexes.find(order.key);
  if (index == c.payload_indexes.end() || !index->second.IsRange()) {
    return Status::InvalidArgument(
        "Bad request: No range index for `order_by` key: `" + order.key +
        "`. Please create one to use `order_by`. Check "
        "https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which "
        "payload schemas support Range conditions");
  }
  const bool datetime = index->second.type == PayloadSchemaType::kDatetime;
  const BoundFilter bound(unbound_filter, TextIndexesOf(c));
  const PointFilter filter = bound.get();
  // One entry per value a point holds (Qdrant lists a point once for each of its values),
  // walked in order from each segment's range index until `limit` entries, then merged.
  struct Item {
    double value;
    PointId id;
    size_t segment;
    Offset offset;
  };
  std::vector<Item> items;
  std::shared_lock state(segments_.mu());
  const auto& segments = segments_.segments();
  for (size_t i = 0; i < segments.size(); ++i) {
    const Segment& s = *segments[i];
    std::optional<index::Postings> counted;  // the filter's matches, or the live points
    if (filter != nullptr || s.live_count() != s.size()) {
      counted.emplace();
      ForEachMatch(filter, s, &c, [&](Offset o) { counted->add(o); });
    }
    const SegmentPayloadIndex& slot = s.payload_index();
    const auto numbers =
        datetime ? slot.Datetimes(order.key, s.body_generation(), s.ids(), s.payloads())
                 : slot.Numbers(order.key, s.body_generation(), s.ids(), s.payloads());
    size_t taken = 0;
    numbers->WalkValues(order.descending, [&](double value, const index::Postings& offsets) {
      if (order.start_from &&
          (order.descending ? value > *order.start_from : value < *order.start_from)) {
        return true;
      }
      const index::Postings selected = counted ? offsets & *counted : offsets;
      for (Offset o : selected) {
        items.push_back({value, s.point_id(o), i, o});
        ++taken;
      }
      return taken < limit;  // a value's points are taken whole: ties are ordered below
    });
  }
  std::sort(items.begin(), items.end(), [&](const Item& a, const Item& b) {
    if (a.value != b.value) {
      return order.descending ? a.value > b.value : a.value < b.value;
    }
    return a.id < b.id;
  });
  std::vector<PointRecord> out;
  for (size_t i = 0; i < std::min(limit, items.size()); ++i) {
    out.push_back(
        MakeRecord(*segments[items[i].segment], items[i].offset, with_payload, with_vectors));
    out.back().order_value = items[i].value;
  }
  return out;
}

Result<std::vector<FacetHit>> Scans::Facet(const std::string& key, size_t limit,
                                           PointFilter unbound_filter) const {
  const std::shared_ptr<const CollectionConfig> config = config_.get();
  const CollectionConfig& c = *config;
  auto index = c.payload_indexes.find(key);
  const PayloadSchemaType type =
      index != c.payload_indexes.end() ? index->second.type : PayloadSchemaType::kGeo;
  const bool lookup = index == c.payload_indexes.end() || !index->second.params.contains("lookup") ||
                      index->second.params.at("lookup") != json::value(false);
  if (!(type == PayloadSchemaType::kKeyword || type == PayloadSchemaType::kUuid ||
        type == PayloadSchemaType::kBool || (type == PayloadSchemaType::kInteger && lookup))) {
    return Status::InvalidArgument(
        "Bad request: No appropriate index for faceting: `" + key +
        "`. Please create one to facet on this field. Check "
        "https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which "
        "payload schemas support Match conditions");
  }
  const BoundFilter bound(unbound_filter, TextIndexesOf(c));
  const PointFilter filter = bound.get();
  std::map<std::string, uint64_t> strings;  // keyword and uuid values
  std::map<int64_t, uint64_t> integers;
  uint64_t trues = 0, falses = 0;
  std::shared_lock state(segments_.mu());
  for (const auto& segment : segments_.segments()) {
    const Segment& s = *segment;
    // The offsets counted: the filter's matches, or the live ones when there are tombstones.
    std::optional<index::Postings> counted;
    if (filter != nullptr || s.live_count() != s.size()) {
      counted.emplace();
      ForEachMatch(filter, s, &c, [&](Offset o) { counted->add(o); });
    }
    auto count = [&](const index::Postings& p) {
      return counted ? p.and_cardinality(*counted) : p.cardinality();
    };
    const SegmentPayloadIndex& slot = s.payload_index();
    switch (type) {
      case PayloadSchemaType::kKeyword:
      case PayloadSchemaType::kUuid:
        slot.Strings(key, s.body_generation(), s.ids(), s.payloads())
            ->ForEachValue([&](const std::string& value, const index::Postings& p) {
              std::string name = value;
              if (type == PayloadSchemaType::kUuid) {  // the uuid index holds uuids only
                std::optional<PointId> uuid = PointId::ParseUuid(value);
                if (!uuid) {
                  return;
                }
                name = uuid->ToString();
              }
              if (const uint64_t n = count(p)) {
                strings[name] += n;
              }
            });
        break;
      case PayloadSchemaType::kInteger:
        slot.Integers(key, s.body_generation(), s.ids(), s.payloads())
            ->ForEachValue([&](int64_t value, const index::Postings& p) {
              if (const uint64_t n = count(p)) {
                integers[value] += n;
              }
            });
        break;
      default: {
        const auto bools = slot.Bools(key, s.body_generation(), s.ids(), s.payloads());
        trues += count(bools->Match("true"));
        falses += count(bools->Match("false"));
      }
    }
  }
  std::vector<FacetHit> hits;
  for (const auto& [value, n] : strings) {
    hits.push_back({json::value(value), n});
  }
  for (const auto& [value, n] : integers) {
    hits.push_back({json::value(value), n});
  }
  if (falses > 0) {  // false before true: ties by value ascending
    hits.push_back({json::value(false), falses});
  }
  if (trues > 0) {
    hits.push_back({json::value(true), trues});
  }
  // Ascending values already (each map is ordered, one kind per index): a stable sort by
  // count keeps them so within a count.
  std::stable_sort(hits.begin(), hits.end(),
                   [](const FacetHit& a, const FacetHit& b) { return a.count > b.count; });
  hits.resize(std::min(hits.size(), limit));
  return hits;
}

}  // namespace tessera::engine

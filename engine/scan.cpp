#include "engine/scan.h"

#include <algorithm>
#include <tuple>

#include "engine/indexed_filter.h"
#include "engine/records.h"

namespace tessera::engine {

namespace json = boost::json;

std::vector<PointRecord> Scans::Scroll(const std::optional<PointId>& from, size_t limit,
                                       PointFilter unbound_filter, bool with_payload,
                                       bool with_vectors, std::optional<PointId>* next) const {
  const std::shared_ptr<const CollectionConfig> bind_config = config_.get();
  const BoundFilter bound(unbound_filter, TextIndexesOf(*bind_config));
  const PointFilter filter = bound.get();
  std::shared_lock state(segments_.mu());
  const auto& segments = segments_.segments();
  std::vector<std::tuple<PointId, size_t, Offset>> live;
  for (size_t i = 0; i < segments.size(); ++i) {
    const Segment& s = *segments[i];
    for (Offset o = 0; o < s.size(); ++o) {
      if (!s.deleted(o) && (!from || !(s.point_id(o) < *from)) && Accepts(filter, s, o)) {
        live.emplace_back(s.point_id(o), i, o);
      }
    }
  }
  const size_t n = std::min(live.size(), limit);
  const size_t sorted = limit >= live.size() ? live.size() : limit + 1;  // and the next id
  std::partial_sort(
      live.begin(), live.begin() + static_cast<std::ptrdiff_t>(sorted), live.end(),
      [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
  std::vector<PointRecord> out;
  for (size_t i = 0; i < n; ++i) {
    const auto& [id, seg, o] = live[i];
    out.push_back(MakeRecord(*segments[seg], o, with_payload, with_vectors));
  }
  next->reset();
  if (live.size() > limit) {
    *next = std::get<0>(live[limit]);
  }
  return out;
}

uint64_t Scans::Count(PointFilter unbound_filter) const {
  const std::shared_ptr<const CollectionConfig> bind_config = config_.get();
  const BoundFilter bound(unbound_filter, TextIndexesOf(*bind_config));
  const PointFilter filter = bound.get();
  std::shared_lock state(segments_.mu());
  const auto& segments = segments_.segments();
  const std::shared_ptr<const CollectionConfig> config = config_.get();
  uint64_t n = 0;
  for (const auto& s : segments) {
    if (filter == nullptr) {
      n += s->live_count();
      continue;
    }
    // The payload indexes' candidates, when they have some: only those are counted or checked.
    if (auto candidates = IndexedCandidatesFor(*filter, *s, *config)) {
      for (Offset o : candidates->offsets) {
        n += !s->deleted(o) && (candidates->exact || Accepts(filter, *s, o));
      }
      continue;
    }
    for (Offset o = 0; o < s->size(); ++o) {
      n += !s->deleted(o) && Accepts(filter, *s, o);
    }
  }
  return n;
}

std::vector<PointId> Scans::MatchingIds(PointFilter unbound_filter) const {
  const std::shared_ptr<const CollectionConfig> bind_config = config_.get();
  const BoundFilter bound(unbound_filter, TextIndexesOf(*bind_config));
  const PointFilter filter = bound.get();
  std::shared_lock state(segments_.mu());
  const auto& segments = segments_.segments();
  std::vector<PointId> out;
  for (const auto& s : segments) {
    for (Offset o = 0; o < s->size(); ++o) {
      if (!s->deleted(o) && Accepts(filter, *s, o)) {
        out.push_back(s->point_id(o));
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {
// The numeric value of a payload value for ordering: numbers, and datetimes as microseconds.
std::optional<double> OrderValue(const json::value& v) {
  if (v.is_number()) {
    return v.to_number<double>();
  }
  if (v.is_string()) {
    if (auto micros = ParseDatetimeMicros(v.get_string())) {
      return static_cast<double>(*micros);
    }
  }
  return std::nullopt;
}
}  // namespace

Result<std::vector<PointRecord>> Scans::ScrollOrdered(const OrderBy& order, size_t limit,
                                                      PointFilter unbound_filter,
                                                      bool with_payload,
                                                      bool with_vectors) const {
  const std::shared_ptr<const CollectionConfig> bind_config = config_.get();
  const BoundFilter bound(unbound_filter, TextIndexesOf(*bind_config));
  const PointFilter filter = bound.get();
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
    for (Offset o = 0; o < s.size(); ++o) {
      if (s.deleted(o) || !Accepts(filter, s, o)) {
        continue;
      }
      std::optional<double> best;
      for (const json::value* v : ValuesAt(s.payload(o), order.key)) {
        if (auto x = OrderValue(*v)) {
          best = !best ? *x : order.descending ? std::max(*best, *x) : std::min(*best, *x);
        }
      }
      if (best && (!order.start_from ||
                   (order.descending ? *best <= *order.start_from : *best >= *order.start_from))) {
        items.push_back({*best, s.point_id(o), i, o});
      }
    }
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

}  // namespace tessera::engine

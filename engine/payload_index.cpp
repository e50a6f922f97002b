#include "engine/payload_index.h"

#include <algorithm>
#include <limits>

#include "engine/payload.h"

namespace tessera::engine {

namespace json = boost::json;

namespace {
// The key a scalar payload value is counted under in FieldStats.
std::optional<std::string> StatsKey(const json::value& v) {
  if (v.is_string()) {
    return "s:" + std::string(v.get_string());
  }
  if (v.is_int64()) {
    return "i:" + std::to_string(v.get_int64());
  }
  if (v.is_uint64()) {
    return "i:" + std::to_string(v.get_uint64());
  }
  if (v.is_bool()) {
    return std::string(v.get_bool() ? "b:1" : "b:0");
  }
  return std::nullopt;
}
std::string StatsKey(const MatchScalar& m) {
  if (const auto* s = std::get_if<std::string>(&m)) {
    return "s:" + *s;
  }
  if (const auto* b = std::get_if<bool>(&m)) {
    return *b ? "b:1" : "b:0";
  }
  return "i:" + std::to_string(std::get<int64_t>(m));
}
}  // namespace

std::shared_ptr<const FieldStats> SegmentPayloadIndex::Field(const std::string& field,
                                                             const IdTracker& ids,
                                                             const PayloadStorage& payloads) const {
  {
    std::lock_guard lock(mu_);
    if (auto it = fields_.find(field); it != fields_.end()) {
      return it->second;
    }
  }
  auto stats = std::make_shared<FieldStats>();
  for (Offset o = 0; o < ids.size(); ++o) {
    if (ids.deleted(o)) {
      continue;
    }
    for (const json::value* v : ValuesAt(payloads.Get(o), field)) {
      if (auto k = StatsKey(*v)) {
        ++stats->values[*k];
      }
      if (v->is_number()) {
        stats->numbers.push_back(v->to_number<double>());
      }
    }
  }
  std::sort(stats->numbers.begin(), stats->numbers.end());
  std::lock_guard lock(mu_);
  return fields_.emplace(field, std::move(stats)).first->second;
}

namespace {

// An index of `field` over the live points: each point's values that `take` accepts (it
// appends them to the list it is given).
template <typename Index, typename Value, typename Take>
std::shared_ptr<Index> BuildFieldIndex(const std::string& field, const IdTracker& ids,
                                       const PayloadStorage& payloads, const Take& take) {
  auto index = std::make_shared<Index>();
  std::vector<Value> values;
  for (Offset o = 0; o < ids.size(); ++o) {
    if (ids.deleted(o)) {
      continue;
    }
    values.clear();
    for (const json::value* v : ValuesAt(payloads.Get(o), field)) {
      take(*v, &values);
    }
    if (!values.empty()) {
      index->Add(o, values);
    }
  }
  return index;
}

template <typename Value, typename Take>
void ValuesOf(const json::object& payload, const std::string& field, const Take& take,
              std::vector<Value>* out) {
  out->clear();
  for (const json::value* v : ValuesAt(payload, field)) {
    take(*v, out);
  }
}

}  // namespace

template <typename Index, typename Value>
std::shared_ptr<const Index> SegmentPayloadIndex::Cached(
    Cache<Index, Value>& cache, const std::string& key, const std::string& field,
    uint64_t generation, const IdTracker& ids, const PayloadStorage& payloads,
    typename Entry<Index, Value>::Take take) const {
  {
    std::lock_guard lock(mu_);
    if (auto it = cache.find(key); it != cache.end() && it->second.generation == generation) {
      return it->second.index;
    }
  }
  // Outside the lock: a scan of the segment.
  std::shared_ptr<Index> built = BuildFieldIndex<Index, Value>(field, ids, payloads, take);
  std::lock_guard lock(mu_);
  ++builds_;
  cache[key] = Entry<Index, Value>{generation, field, built, std::move(take)};
  return built;
}

template <typename Index, typename Value>
void SegmentPayloadIndex::Apply(Cache<Index, Value>& cache, Offset o,
                                const json::object* before, const json::object& after,
                                uint64_t from, uint64_t to) {
  std::vector<Value> values;
  for (auto& [key, entry] : cache) {
    if (entry.generation != from) {
      continue;  // stale already: rebuilt on its next use
    }
    if (before != nullptr) {
      // What the index holds for `o`: these values, or nothing if it was built while `o` was
      // a tombstone (removing what is not there is a no-op).
      ValuesOf(*before, entry.field, entry.take, &values);
      if (!values.empty()) {
        entry.index->Remove(o, values);
      }
    }
    ValuesOf(after, entry.field, entry.take, &values);
    if (!values.empty()) {
      entry.index->Add(o, values);
    }
    entry.generation = to;
  }
}

template <typename Fn>
void SegmentPayloadIndex::ForEachCache(Fn&& fn) const {
  fn(strings_);
  fn(integers_);
  fn(numbers_);
  fn(present_);
  fn(tokens_);
  fn(bools_);
  fn(datetimes_);
  fn(geo_);
}

size_t SegmentPayloadIndex::builds() const {
  std::lock_guard lock(mu_);
  return builds_;
}

bool SegmentPayloadIndex::Tracking(uint64_t generation) const {
  std::lock_guard lock(mu_);
  bool any = false;
  ForEachCache([&](const auto& cache) {
    for (const auto& [key, entry] : cache) {
      any = any || entry.generation == generation;
    }
  });
  return any;
}

void SegmentPayloadIndex::PayloadChanged(Offset o, const json::object* before,
                                         const json::object& after, uint64_t from, uint64_t to) {
  std::lock_guard lock(mu_);
  ForEachCache([&](auto& cache) { Apply(cache, o, before, after, from, to); });
}

void SegmentPayloadIndex::Advance(uint64_t from, uint64_t to) {
  std::lock_guard lock(mu_);
  ForEachCache([&](auto& cache) {
    for (auto& [key, entry] : cache) {
      if (entry.generation == from) {
        entry.generation = to;
      }
    }
  });
}

std::shared_ptr<const index::KeywordIndex> SegmentPayloadIndex::Strings(
    const std::string& field, uint64_t generation, const IdTracker& ids,
    const PayloadStorage& payloads) const {
  return Cached<index::KeywordIndex, std::string>(
      strings_, field, field, generation, ids, payloads,
      [](const json::value& v, std::vector<std::string>* out) {
        if (v.is_string()) {
          out->emplace_back(v.get_string());
        }
      });
}

std::shared_ptr<const index::KeywordIndex> SegmentPayloadIndex::Tokens(
    const std::string& field, uint64_t generation,
    const std::shared_ptr<const index::TextTokenizer>& tokenizer, const IdTracker& ids,
    const PayloadStorage& payloads) const {
  const std::string key =
      field + '\x1f' + std::to_string(reinterpret_cast<uintptr_t>(tokenizer.get()));
  return Cached<index::KeywordIndex, std::string>(
      tokens_, key, field, generation, ids, payloads,
      [tokenizer](const json::value& v, std::vector<std::string>* out) {
        if (v.is_string()) {
          for (std::string& t :
               tokenizer->Tokenize(v.get_string(), index::TextTokenizer::Kind::kDocument)) {
            out->push_back(std::move(t));
          }
        }
      });
}

std::shared_ptr<const index::KeywordIndex> SegmentPayloadIndex::Bools(
    const std::string& field, uint64_t generation, const IdTracker& ids,
    const PayloadStorage& payloads) const {
  return Cached<index::KeywordIndex, std::string>(
      bools_, field, field, generation, ids, payloads,
      [](const json::value& v, std::vector<std::string>* out) {
        if (v.is_bool()) {
          out->emplace_back(v.get_bool() ? "true" : "false");
        }
      });
}

std::shared_ptr<const index::FloatIndex> SegmentPayloadIndex::Datetimes(
    const std::string& field, uint64_t generation, const IdTracker& ids,
    const PayloadStorage& payloads) const {
  return Cached<index::FloatIndex, double>(
      datetimes_, field, field, generation, ids, payloads,
      [](const json::value& v, std::vector<double>* out) {
        if (v.is_string()) {
          if (std::optional<int64_t> micros = ParseDatetimeMicros(v.get_string())) {
            out->push_back(static_cast<double>(*micros));
          }
        }
      });
}

std::shared_ptr<const index::GeoIndex> SegmentPayloadIndex::Geo(
    const std::string& field, uint64_t generation, const IdTracker& ids,
    const PayloadStorage& payloads) const {
  return Cached<index::GeoIndex, index::GeoIndex::Point>(
      geo_, field, field, generation, ids, payloads,
      [](const json::value& v, std::vector<index::GeoIndex::Point>* out) {
        if (std::optional<GeoPoint> p = AsGeoPoint(v)) {
          out->push_back({p->lat, p->lon});
        }
      });
}

std::shared_ptr<const index::IntegerIndex> SegmentPayloadIndex::Integers(
    const std::string& field, uint64_t generation, const IdTracker& ids,
    const PayloadStorage& payloads) const {
  return Cached<index::IntegerIndex, int64_t>(
      integers_, field, field, generation, ids, payloads,
      [](const json::value& v, std::vector<int64_t>* out) {
        if (v.is_int64()) {
          out->push_back(v.get_int64());
        } else if (v.is_uint64() &&
                   v.get_uint64() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          out->push_back(static_cast<int64_t>(v.get_uint64()));
        }
      });
}

std::shared_ptr<const index::FloatIndex> SegmentPayloadIndex::Numbers(
    const std::string& field, uint64_t generation, const IdTracker& ids,
    const PayloadStorage& payloads) const {
  return Cached<index::FloatIndex, double>(
      numbers_, field, field, generation, ids, payloads,
      [](const json::value& v, std::vector<double>* out) {
        if (v.is_number()) {
          out->push_back(v.to_number<double>());
        }
      });
}

std::shared_ptr<const index::Postings> SegmentPayloadIndex::Present(
    const std::string& field, uint64_t generation, const IdTracker& ids,
    const PayloadStorage& payloads) const {
  // A one-value index ("" for any non-null value): its offsets with values are the answer.
  auto index = Cached<index::KeywordIndex, std::string>(
      present_, field, field, generation, ids, payloads,
      [](const json::value& v, std::vector<std::string>* out) {
        if (!v.is_null() && out->empty()) {
          out->emplace_back();
        }
      });
  return std::shared_ptr<const index::Postings>(index, &index->with_values());
}

std::optional<uint64_t> PayloadStats::IndexEstimate(const Filter& filter, const Segment& segment,
                                                    const CollectionConfig& config) const {
  std::optional<uint64_t> best;
  auto offer = [&](uint64_t estimate) { best = best ? std::min(*best, estimate) : estimate; };
  for (const Condition& condition : filter.must) {
    if (const auto* has_id = std::get_if<HasIdCondition>(&condition)) {
      offer(has_id->ids.size());
      continue;
    }
    const auto* field = std::get_if<FieldCondition>(&condition);
    if (field == nullptr || !config.payload_indexes.contains(field->key)) {
      continue;
    }
    const auto stats = segment.payload_index().Field(field->key, segment.ids(), segment.payloads());
    auto count = [&](const MatchScalar& m) -> uint64_t {
      auto it = stats->values.find(StatsKey(m));
      return it == stats->values.end() ? 0 : it->second;
    };
    if (field->match) {
      if (const auto* value = std::get_if<MatchValue>(&*field->match)) {
        offer(count(value->value));
      } else if (const auto* any = std::get_if<MatchAny>(&*field->match)) {
        uint64_t sum = 0;
        for (const MatchScalar& m : any->values) {
          sum += count(m);
        }
        offer(sum);
      }
    }
    if (field->range) {
      const RangeBounds& r = *field->range;
      const double lo = r.gte ? *r.gte : r.gt ? *r.gt : -std::numeric_limits<double>::infinity();
      const double hi = r.lte ? *r.lte : r.lt ? *r.lt : std::numeric_limits<double>::infinity();
      const auto first = std::lower_bound(stats->numbers.begin(), stats->numbers.end(), lo);
      const auto last = std::upper_bound(stats->numbers.begin(), stats->numbers.end(), hi);
      offer(last > first ? static_cast<uint64_t>(last - first) : 0);
    }
  }
  return best;
}

}  // namespace tessera::engine

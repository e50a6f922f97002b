#include "engine/indexed_filter.h"

#include <cmath>

namespace tessera::engine {

namespace {

// A field condition with exactly one part set, and that part one an index can answer: a
// `match`, a `range`, a `datetime_range`, or (on a geo index) a geo condition.
bool OnlyMatchOrRange(const FieldCondition& c) {
  const int parts = c.match.has_value() + c.range.has_value() + c.datetime_range.has_value() +
                    c.values_count.has_value() + c.geo_bounding_box.has_value() +
                    c.geo_radius.has_value() + c.geo_polygon.has_value() +
                    c.is_empty.has_value() + c.is_null.has_value();
  return parts == 1 && !c.values_count && !c.is_empty && !c.is_null;
}

bool IsGeo(const FieldCondition& c) {
  return c.geo_bounding_box || c.geo_radius || c.geo_polygon;
}

// The box a geo condition's points lie in: its own, a radius's (with a margin: the evaluator
// measures great-circle distance), a polygon's exterior's. Nullopt: no box narrower than the
// world (a radius over a pole, or one of half the earth).
std::optional<index::GeoIndex::Box> GeoBox(const FieldCondition& c) {
  if (c.geo_bounding_box) {
    const auto& b = *c.geo_bounding_box;
    return index::GeoIndex::Box{b.bottom_right.lat, b.top_left.lat, b.top_left.lon,
                                b.bottom_right.lon};
  }
  if (c.geo_radius) {
    constexpr double kEarthRadiusM = 6371008.8;  // the evaluator's
    constexpr double kDeg = 180.0 / M_PI;
    const GeoPoint& at = c.geo_radius->center;
    const double delta = c.geo_radius->radius_m / kEarthRadiusM;  // radians of arc
    if (!(delta < M_PI / 4)) {
      return std::nullopt;
    }
    const double dlat = delta * kDeg * 1.01 + 1e-9;
    if (std::fabs(at.lat) + dlat >= 90.0) {
      return std::nullopt;  // the circle holds a pole: every longitude
    }
    const double s = std::sin(delta) / std::cos(at.lat / kDeg);
    if (!(s < 1.0)) {
      return std::nullopt;
    }
    const double dlon = std::asin(s) * kDeg * 1.01 + 1e-9;
    double min_lon = at.lon - dlon, max_lon = at.lon + dlon;
    if (min_lon < -180.0) {
      min_lon += 360.0;  // across the antimeridian: min_lon > max_lon
    }
    if (max_lon > 180.0) {
      max_lon -= 360.0;
    }
    return index::GeoIndex::Box{at.lat - dlat, at.lat + dlat, min_lon, max_lon};
  }
  index::GeoIndex::Box box{90, -90, 180, -180};
  for (const GeoPoint& p : c.geo_polygon->exterior) {  // InRing is planar in (lon, lat)
    box.min_lat = std::min(box.min_lat, p.lat);
    box.max_lat = std::max(box.max_lat, p.lat);
    box.min_lon = std::min(box.min_lon, p.lon);
    box.max_lon = std::max(box.max_lon, p.lon);
  }
  if (box.min_lon > box.max_lon) {
    return index::GeoIndex::Box{0, -1, 0, 0};  // no points: nothing inside
  }
  return box;
}

// The bound the evaluator's RangeBounds::Contains applies, as one lower and one upper bound.
index::NumericRange<double> AsRange(const RangeBounds& r) {
  index::NumericRange<double> out;
  auto lower = [&](double v, bool inclusive) {
    if (!out.lower || v > *out.lower || (v == *out.lower && !inclusive)) {
      out.lower = v;
      out.lower_inclusive = inclusive;
    }
  };
  auto upper = [&](double v, bool inclusive) {
    if (!out.upper || v < *out.upper || (v == *out.upper && !inclusive)) {
      out.upper = v;
      out.upper_inclusive = inclusive;
    }
  };
  if (r.gt) lower(*r.gt, false);
  if (r.gte) lower(*r.gte, true);
  if (r.lt) upper(*r.lt, false);
  if (r.lte) upper(*r.lte, true);
  return out;
}

// The offsets an index says `c` holds for (a superset for geo and phrase: AnswerIsSuperset),
// or nullopt if no index answers it. `geo`: the field's index is a geo index.
std::optional<index::Postings> Answer(const FieldCondition& c, const Segment& s, bool geo) {
  if (!OnlyMatchOrRange(c)) {
    return std::nullopt;
  }
  const SegmentPayloadIndex& slot = s.payload_index();
  if (IsGeo(c)) {
    if (!geo) {
      return std::nullopt;
    }
    const std::optional<index::GeoIndex::Box> box = GeoBox(c);
    if (!box) {
      return std::nullopt;
    }
    return slot.Geo(c.key, s.body_generation(), s.ids(), s.payloads())->Within(*box);
  }
  if (c.range) {
    for (const std::optional<double>& b : {c.range->gt, c.range->gte, c.range->lt, c.range->lte}) {
      if (b && std::isnan(*b)) {
        return std::nullopt;
      }
    }
    return slot.Numbers(c.key, s.body_generation(), s.ids(), s.payloads())->Range(AsRange(*c.range));
  }
  if (c.datetime_range) {  // the evaluator's reading: RFC 3339 strings as microseconds
    return slot.Datetimes(c.key, s.body_generation(), s.ids(), s.payloads())
        ->Range(AsRange(*c.datetime_range));
  }
  // ScalarEquals: strings equal strings, integers integers, booleans booleans.
  auto one = [&](const MatchScalar& m) -> std::optional<index::Postings> {
    if (const auto* str = std::get_if<std::string>(&m)) {
      return slot.Strings(c.key, s.body_generation(), s.ids(), s.payloads())->Match(*str);
    }
    if (const auto* i = std::get_if<int64_t>(&m)) {
      return slot.Integers(c.key, s.body_generation(), s.ids(), s.payloads())->Match(*i);
    }
    const bool b = std::get<bool>(m);
    return slot.Bools(c.key, s.body_generation(), s.ids(), s.payloads())->Match(b ? "true" : "false");
  };
  if (const auto* value = std::get_if<MatchValue>(&*c.match)) {
    return one(value->value);
  }
  if (const auto* any = std::get_if<MatchAny>(&*c.match)) {
    index::Postings out;
    for (const MatchScalar& m : any->values) {
      std::optional<index::Postings> part = one(m);
      if (!part) {
        return std::nullopt;
      }
      out |= *part;
    }
    return out;
  }
  if (const auto* text = std::get_if<MatchText>(&*c.match)) {
    // A text condition bound to its field's text index (filter.h BoundFilter): the tokens'
    // postings. all tokens: their intersection; any: their union; phrase: the intersection
    // (a superset: AnswerCondition leaves the order to the evaluator).
    if (text->tokenizer == nullptr || text->kind == MatchText::Kind::kPrefix) {
      return std::nullopt;
    }
    const bool phrase = text->kind == MatchText::Kind::kPhrase;
    if (phrase && !text->tokenizer->params().phrase_matching) {
      return index::Postings();  // no positions: nothing matches, as in the evaluator
    }
    const std::vector<std::string> tokens = text->tokenizer->Tokenize(
        text->text,
        phrase ? index::TextTokenizer::Kind::kDocument : index::TextTokenizer::Kind::kQuery);
    if (tokens.empty()) {
      return index::Postings();
    }
    const auto postings =
        slot.Tokens(c.key, s.body_generation(), text->tokenizer, s.ids(), s.payloads());
    if (text->kind == MatchText::Kind::kAny) {
      return postings->MatchAny(tokens);
    }
    index::Postings out = postings->Match(tokens.front());
    for (size_t i = 1; i < tokens.size() && !out.isEmpty(); ++i) {
      out &= postings->Match(tokens[i]);
    }
    return out;
  }
  return std::nullopt;  // except
}

// Whether an index answer of `c` is a superset only (a phrase: the tokens are there, their
// order is for the evaluator; geo: the cells around the area).
bool AnswerIsSuperset(const FieldCondition& c) {
  const auto* text = c.match ? std::get_if<MatchText>(&*c.match) : nullptr;
  return IsGeo(c) || (text != nullptr && text->kind == MatchText::Kind::kPhrase);
}

}  // namespace

namespace {

// One condition's answer: the offsets it holds for (a superset unless `exact`), or nullopt.
std::optional<IndexedCandidates> AnswerCondition(const Condition& condition,
                                                 const Segment& segment,
                                                 const CollectionConfig& config) {
  if (const auto* has_id = std::get_if<HasIdCondition>(&condition)) {
    index::Postings p;
    for (const PointId& id : has_id->ids) {
      if (auto o = segment.Find(id)) {
        p.add(*o);
      }
    }
    return IndexedCandidates{std::move(p), true};
  }
  if (const auto* sub = std::get_if<FilterCondition>(&condition)) {
    return sub->filter != nullptr ? IndexedCandidatesFor(*sub->filter, segment, config)
                                  : std::nullopt;
  }
  const auto* field = std::get_if<FieldCondition>(&condition);
  const auto declared = field != nullptr ? config.payload_indexes.find(field->key)
                                         : config.payload_indexes.end();
  if (declared == config.payload_indexes.end()) {
    return std::nullopt;
  }
  std::optional<index::Postings> answer =
      Answer(*field, segment, declared->second.type == PayloadSchemaType::kGeo);
  if (!answer) {
    return std::nullopt;
  }
  return IndexedCandidates{std::move(*answer), !AnswerIsSuperset(*field)};
}

}  // namespace

// must: the intersection of what its conditions answer; should: the union, when every one of
// them is answered (else no restriction); must_not: each exactly answered condition subtracted
// (from every offset, when nothing else restricts). The result is exact only if every
// condition was answered exactly and there is no min_should.
void BuildDeclaredIndexes(const Segment& s, const CollectionConfig& config) {
  const SegmentPayloadIndex& slot = s.payload_index();
  const uint64_t g = s.body_generation();
  const TextIndexLookup text = TextIndexesOf(config);
  for (const auto& [field, info] : config.payload_indexes) {
    slot.Present(field, g, s.ids(), s.payloads());
    switch (info.type) {
      case PayloadSchemaType::kKeyword:
      case PayloadSchemaType::kUuid:
        slot.Strings(field, g, s.ids(), s.payloads());
        break;
      case PayloadSchemaType::kInteger:
        slot.Integers(field, g, s.ids(), s.payloads());
        slot.Numbers(field, g, s.ids(), s.payloads());
        break;
      case PayloadSchemaType::kFloat:
        slot.Numbers(field, g, s.ids(), s.payloads());
        break;
      case PayloadSchemaType::kBool:
        slot.Bools(field, g, s.ids(), s.payloads());
        break;
      case PayloadSchemaType::kDatetime:
        slot.Datetimes(field, g, s.ids(), s.payloads());
        break;
      case PayloadSchemaType::kGeo:
        slot.Geo(field, g, s.ids(), s.payloads());
        break;
      case PayloadSchemaType::kText:
        if (auto tokenizer = text(field)) {
          slot.Tokens(field, g, tokenizer, s.ids(), s.payloads());
        }
        break;
    }
  }
}

std::optional<IndexedCandidates> IndexedCandidatesFor(const Filter& filter, const Segment& segment,
                                                      const CollectionConfig& config) {
  std::optional<index::Postings> candidates;
  bool exact = !filter.min_should.has_value();
  auto intersect = [&](index::Postings p) {
    if (candidates) {
      *candidates &= p;
    } else {
      candidates = std::move(p);
    }
  };
  for (const Condition& condition : filter.must) {
    if (auto answer = AnswerCondition(condition, segment, config)) {
      exact = exact && answer->exact;
      intersect(std::move(answer->offsets));
    } else {
      exact = false;
    }
  }
  if (!filter.should.empty()) {
    index::Postings any;
    bool answered = true;
    for (const Condition& condition : filter.should) {
      auto answer = AnswerCondition(condition, segment, config);
      if (!answer) {
        answered = false;
        break;
      }
      exact = exact && answer->exact;
      any |= answer->offsets;
    }
    if (answered) {
      intersect(std::move(any));
    } else {
      exact = false;
    }
  }
  for (const Condition& condition : filter.must_not) {
    auto answer = AnswerCondition(condition, segment, config);
    if (!answer || !answer->exact) {
      exact = false;  // a superset cannot be subtracted
      continue;
    }
    if (!candidates) {
      index::Postings all;
      all.addRange(0, segment.size());
      candidates = std::move(all);
    }
    *candidates -= answer->offsets;
  }
  if (!candidates) {
    return std::nullopt;
  }
  return IndexedCandidates{std::move(*candidates), exact};
}

}  // namespace tessera::engine

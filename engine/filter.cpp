#include "engine/filter.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>

#include "common/siphash.h"
#include "engine/json_path.h"

namespace tessera::engine {

namespace json = boost::json;

bool RangeBounds::Contains(double x) const {
  return (!gt || x > *gt) && (!gte || x >= *gte) && (!lt || x < *lt) && (!lte || x <= *lte);
}

namespace {

// Qdrant's JsonPath::value_get: the values `path` reaches from item `i` inside `v`. A key
// applies to an object only ("a.b" on {"a": [{"b": 1}]} reaches nothing; "a[].b" does), `[]`
// takes every element and `[N]` one. Arrays reached are not flattened here.
void CollectFrom(const json::value& v, const JsonPath& path, size_t i,
                 std::vector<const json::value*>* out) {
  if (i == path.size()) {
    out->push_back(&v);
    return;
  }
  const JsonPathItem& item = path[i];
  switch (item.kind) {
    case JsonPathItem::Kind::kKey:
      if (const json::object* o = v.if_object()) {
        if (const json::value* child = o->if_contains(item.key)) {
          CollectFrom(*child, path, i + 1, out);
        }
      }
      return;
    case JsonPathItem::Kind::kAll:
      if (const json::array* a = v.if_array()) {
        for (const json::value& e : *a) {
          CollectFrom(e, path, i + 1, out);
        }
      }
      return;
    case JsonPathItem::Kind::kIndex:
      if (const json::array* a = v.if_array(); a != nullptr && item.index < a->size()) {
        CollectFrom((*a)[item.index], path, i + 1, out);
      }
      return;
  }
}

bool ScalarEquals(const json::value& v, const MatchScalar& m) {
  if (const auto* s = std::get_if<std::string>(&m)) {
    return v.is_string() && v.get_string() == *s;
  }
  if (const auto* b = std::get_if<bool>(&m)) {
    return v.is_bool() && v.get_bool() == *b;
  }
  const int64_t i = std::get<int64_t>(m);
  if (v.is_int64()) {
    return v.get_int64() == i;
  }
  if (v.is_uint64()) {
    return i >= 0 && v.get_uint64() == static_cast<uint64_t>(i);
  }
  return false;
}

bool AnyEquals(const json::value& v, const std::vector<MatchScalar>& set) {
  return std::any_of(set.begin(), set.end(),
                     [&](const MatchScalar& m) { return ScalarEquals(v, m); });
}

// One value against `except`. Lists are strings or integers (api/filter_codec.cpp); an old
// log record's mixed list is read as each stored kind against the list's entries of that kind.
bool ExceptMatches(const json::value& v, const std::vector<MatchScalar>& list) {
  if (v.is_null()) {
    return false;
  }
  if (v.is_string()) {
    return !AnyEquals(v, list);
  }
  if (v.is_number()) {
    const bool has_integers = std::any_of(list.begin(), list.end(), [](const MatchScalar& m) {
      return std::holds_alternative<int64_t>(m);
    });
    const bool is_i64 = v.is_int64() || (v.is_uint64() && v.get_uint64() <= INT64_MAX);
    return !has_integers || !is_i64 || !AnyEquals(v, list);
  }
  return true;  // bools, objects and arrays inside the array are never in a list
}

std::optional<GeoPoint> AsGeo(const json::value& v) {
  if (!v.is_object()) {
    return std::nullopt;
  }
  const json::value* lon = v.get_object().if_contains("lon");
  const json::value* lat = v.get_object().if_contains("lat");
  if (lon == nullptr || lat == nullptr || !lon->is_number() || !lat->is_number()) {
    return std::nullopt;
  }
  return GeoPoint{lon->to_number<double>(), lat->to_number<double>()};
}

double HaversineMeters(const GeoPoint& a, const GeoPoint& b) {
  constexpr double kEarthRadiusM = 6371008.8;
  constexpr double kRad = M_PI / 180.0;
  const double dlat = (b.lat - a.lat) * kRad;
  const double dlon = (b.lon - a.lon) * kRad;
  const double h =
      std::sin(dlat / 2) * std::sin(dlat / 2) +
      std::cos(a.lat * kRad) * std::cos(b.lat * kRad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadiusM * std::asin(std::min(1.0, std::sqrt(h)));
}

bool InRing(const GeoPoint& p, const std::vector<GeoPoint>& ring) {
  bool inside = false;
  for (size_t i = 0, j = ring.size() - 1; i < ring.size(); j = i++) {
    const GeoPoint& a = ring[i];
    const GeoPoint& b = ring[j];
    if ((a.lat > p.lat) != (b.lat > p.lat) &&
        p.lon < (b.lon - a.lon) * (p.lat - a.lat) / (b.lat - a.lat) + a.lon) {
      inside = !inside;
    }
  }
  return inside;
}

// Qdrant's plain text checks (no text index on the key): condition_checker.rs.
bool PlainTextMatches(const MatchText& m, std::string_view value) {
  switch (m.kind) {
    case MatchText::Kind::kText:
    case MatchText::Kind::kPhrase:
      return value.find(m.text) != std::string_view::npos;
    case MatchText::Kind::kPrefix:
      return value.starts_with(m.text);
    case MatchText::Kind::kAny: {  // any whitespace-separated word of the query, as a substring
      const std::string_view text = m.text;
      size_t pos = 0;
      while (pos < text.size()) {
        while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
        size_t end = pos;
        while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;
        if (end > pos && value.find(text.substr(pos, end - pos)) != std::string_view::npos) {
          return true;
        }
        pos = end;
      }
      return false;
    }
  }
  return false;
}

// A phrase with the key's text index, on one value: the query's tokens in a row among the
// value's (full_text_index_read.rs check_payload_match; arrays are not joined, as Qdrant's
// index puts a boundary between their values).
bool PhraseMatches(const MatchText& m, const std::vector<std::string>& query,
                   std::string_view value) {
  if (query.empty() || !m.tokenizer->params().phrase_matching) {
    return false;  // no tokens, or no positions in the index: Qdrant matches nothing
  }
  const std::vector<std::string> doc =
      m.tokenizer->Tokenize(value, index::TextTokenizer::Kind::kDocument);
  return std::search(doc.begin(), doc.end(), query.begin(), query.end()) != doc.end();
}

// FieldCondition's is_empty / is_null (Qdrant's check_is_empty / check_is_null of
// condition_checker.rs) on the values the key reaches, arrays whole.
bool MatchEmptyOrNull(const FieldCondition& c, const json::object& payload) {
  const auto raw = RawValuesAt(payload, c.key);
  if (raw.empty()) {
    return c.is_empty ? *c.is_empty : !*c.is_null;
  }
  return std::any_of(raw.begin(), raw.end(), [&](const json::value* v) {
    if (c.is_empty) {
      const bool empty = v->is_null() || (v->is_array() && v->get_array().empty());
      return empty == *c.is_empty;
    }
    bool null = v->is_null();
    if (const json::array* a = v->if_array()) {
      null = std::any_of(a->begin(), a->end(), [](const json::value& e) { return e.is_null(); });
    }
    return null == *c.is_null;
  });
}

bool MatchField(const FieldCondition& c, const json::object& payload) {
  if ((c.is_empty || c.is_null) && !MatchEmptyOrNull(c, payload)) {
    return false;
  }
  const std::vector<const json::value*> values = ValuesAt(payload, c.key);
  if (c.match) {
    if (const auto* except = std::get_if<MatchExcept>(&*c.match)) {
      // Qdrant's condition checker: element-wise, a value matches unless it is null or a value
      // of the list's kind that the list holds. A missing key or an empty array never matches.
      return std::any_of(values.begin(), values.end(),
                         [&](const json::value* v) { return ExceptMatches(*v, except->values); });
    }
    const auto* text = std::get_if<MatchText>(&*c.match);
    std::vector<std::string> query_tokens;
    if (text != nullptr && text->tokenizer != nullptr && text->kind != MatchText::Kind::kPrefix) {
      query_tokens = text->tokenizer->Tokenize(text->text, text->kind == MatchText::Kind::kPhrase
                                                               ? index::TextTokenizer::Kind::kDocument
                                                               : index::TextTokenizer::Kind::kQuery);
    }
    bool any = false;
    if (text != nullptr && text->tokenizer != nullptr &&
        (text->kind == MatchText::Kind::kText || text->kind == MatchText::Kind::kAny)) {
      // The point's tokens are those of all its string values together, as Qdrant's text
      // index holds them (one token set per point, arrays included).
      std::vector<std::string> doc;
      for (const json::value* v : values) {
        if (v->is_string()) {
          for (std::string& t :
               text->tokenizer->Tokenize(v->get_string(), index::TextTokenizer::Kind::kDocument)) {
            doc.push_back(std::move(t));
          }
        }
      }
      auto has = [&](const std::string& t) {
        return std::find(doc.begin(), doc.end(), t) != doc.end();
      };
      any = !query_tokens.empty() &&
            (text->kind == MatchText::Kind::kText
                 ? std::all_of(query_tokens.begin(), query_tokens.end(), has)
                 : std::any_of(query_tokens.begin(), query_tokens.end(), has));
    } else {
      any = std::any_of(values.begin(), values.end(), [&](const json::value* v) {
        if (const auto* m = std::get_if<MatchValue>(&*c.match)) {
          return ScalarEquals(*v, m->value);
        }
        if (const auto* m = std::get_if<MatchAny>(&*c.match)) {
          return AnyEquals(*v, m->values);
        }
        if (!v->is_string()) {
          return false;
        }
        // A prefix is a string prefix with or without an index.
        return text->tokenizer != nullptr && text->kind == MatchText::Kind::kPhrase
                   ? PhraseMatches(*text, query_tokens, v->get_string())
                   : PlainTextMatches(*text, v->get_string());
      });
    }
    if (!any) {
      return false;
    }
  }
  if (c.range && std::none_of(values.begin(), values.end(), [&](const json::value* v) {
        return v->is_number() && c.range->Contains(v->to_number<double>());
      })) {
    return false;
  }
  if (c.datetime_range && std::none_of(values.begin(), values.end(), [&](const json::value* v) {
        if (!v->is_string()) {
          return false;
        }
        auto micros = ParseDatetimeMicros(v->get_string());
        return micros && c.datetime_range->Contains(static_cast<double>(*micros));
      })) {
    return false;
  }
  if (c.values_count) {
    // Qdrant's check_count_from on each value reached (an array counts its elements, null
    // none, anything else one); a missing key counts zero.
    const auto raw = RawValuesAt(payload, c.key);
    auto count_ok = [&](const json::value* v) {
      const size_t n = v->is_null() ? 0 : v->is_array() ? v->get_array().size() : 1;
      return c.values_count->Contains(static_cast<double>(n));
    };
    if (raw.empty() ? !c.values_count->Contains(0) : std::none_of(raw.begin(), raw.end(), count_ok)) {
      return false;
    }
  }
  auto any_geo = [&](auto&& predicate) {
    return std::any_of(values.begin(), values.end(), [&](const json::value* v) {
      auto p = AsGeo(*v);
      return p && predicate(*p);
    });
  };
  if (c.geo_bounding_box && !any_geo([&](const GeoPoint& p) {
        const auto& box = *c.geo_bounding_box;
        const bool lat_ok = p.lat <= box.top_left.lat && p.lat >= box.bottom_right.lat;
        const bool lon_ok = box.top_left.lon <= box.bottom_right.lon
                                ? p.lon >= box.top_left.lon && p.lon <= box.bottom_right.lon
                                : p.lon >= box.top_left.lon || p.lon <= box.bottom_right.lon;
        return lat_ok && lon_ok;
      })) {
    return false;
  }
  if (c.geo_radius && !any_geo([&](const GeoPoint& p) {
        return HaversineMeters(p, c.geo_radius->center) <= c.geo_radius->radius_m;
      })) {
    return false;
  }
  if (c.geo_polygon && !any_geo([&](const GeoPoint& p) {
        if (!InRing(p, c.geo_polygon->exterior)) {
          return false;
        }
        return std::none_of(c.geo_polygon->interiors.begin(), c.geo_polygon->interiors.end(),
                            [&](const auto& ring) { return InRing(p, ring); });
      })) {
    return false;
  }
  return true;
}

}  // namespace

std::optional<GeoPoint> AsGeoPoint(const json::value& v) {
  return AsGeo(v);
}

uint64_t SliceHash(const PointId& id) {
  char bytes[16];
  if (!id.is_uuid()) {
    for (int i = 0; i < 8; ++i) {
      bytes[i] = static_cast<char>((id.num() >> (8 * i)) & 0xff);
    }
    return SipHash24(0, 0, std::string_view(bytes, 8));
  }
  std::memcpy(bytes, id.uuid().data(), 16);
  return SipHash24(0, 0, std::string_view(bytes, 16));
}

namespace {

bool MatchCondition(const Condition& condition, const PointView& point);

bool MatchNested(const NestedCondition& c, const PointView& point) {
  static const std::function<bool(std::string_view)> kNoVectors = [](std::string_view) {
    return false;
  };
  // Qdrant checks the nested filter on each object element of the array at `key` (its path
  // `key[]`), with no point id and no vectors: has_id and has_vector inside never match.
  static const PointId kNoId = PointId::Num(UINT64_MAX);
  // `key[]` names the same array as `key` (Qdrant appends `[]` only when it is not there).
  const std::string_view key = std::string_view(c.key).ends_with("[]")
                                   ? std::string_view(c.key).substr(0, c.key.size() - 2)
                                   : std::string_view(c.key);
  for (const json::value* array : RawValuesAt(point.payload, key)) {
    if (!array->is_array()) {
      continue;
    }
    for (const json::value& element : array->get_array()) {
      if (element.is_object()) {
        PointView inner{kNoId, element.get_object(), kNoVectors, /*nested=*/true};
        if (Matches(*c.filter, inner)) {
          return true;
        }
      }
    }
  }
  return false;
}

bool MatchCondition(const Condition& condition, const PointView& point) {
  return std::visit(
      [&](const auto& c) -> bool {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, FieldCondition>) {
          return MatchField(c, point.payload);
        } else if constexpr (std::is_same_v<T, IsEmptyCondition>) {
          // Qdrant's check_is_empty: every value reached is null or an empty array.
          const auto values = RawValuesAt(point.payload, c.key);
          return std::all_of(values.begin(), values.end(), [](const json::value* v) {
            return v->is_null() || (v->is_array() && v->get_array().empty());
          });
        } else if constexpr (std::is_same_v<T, IsNullCondition>) {
          // Qdrant's check_is_null: some value reached is null ([null] is an array, not null).
          const auto values = RawValuesAt(point.payload, c.key);
          return std::any_of(values.begin(), values.end(),
                             [](const json::value* v) { return v->is_null(); });
        } else if constexpr (std::is_same_v<T, HasIdCondition>) {
          return !point.nested && c.ids.contains(point.id);
        } else if constexpr (std::is_same_v<T, HasVectorCondition>) {
          return point.has_vector(c.name);
        } else if constexpr (std::is_same_v<T, NestedCondition>) {
          return MatchNested(c, point);
        } else if constexpr (std::is_same_v<T, SliceCondition>) {
          return !point.nested && SliceHash(point.id) % c.total == c.index;  // no id inside
        } else {
          return Matches(*c.filter, point);
        }
      },
      condition);
}

}  // namespace

std::vector<const json::value*> RawValuesAt(const json::object& payload,
                                            std::string_view path_text) {
  std::vector<const json::value*> out;
  // A key that is not a path (refused by the API; only a record from before the grammar could
  // hold one) reaches nothing.
  std::optional<JsonPath> path = ParseJsonPath(path_text);
  if (path) {
    if (const json::value* first = payload.if_contains(path->front().key)) {
      CollectFrom(*first, *path, 1, &out);
    }
  }
  return out;
}

std::vector<const json::value*> ValuesAt(const json::object& payload, std::string_view path_text) {
  std::vector<const json::value*> out;
  for (const json::value* v : RawValuesAt(payload, path_text)) {
    if (const json::array* a = v->if_array()) {
      for (const json::value& e : *a) {
        out.push_back(&e);
      }
    } else {
      out.push_back(v);
    }
  }
  return out;
}

namespace {

bool NeedsBinding(const Filter& f, const TextIndexLookup& lookup, const std::string& prefix);

bool NeedsBinding(const std::vector<Condition>& conditions, const TextIndexLookup& lookup,
                  const std::string& prefix) {
  for (const Condition& c : conditions) {
    if (const auto* field = std::get_if<FieldCondition>(&c)) {
      if (field->match && std::holds_alternative<MatchText>(*field->match) &&
          lookup(prefix + field->key) != nullptr) {
        return true;
      }
    } else if (const auto* sub = std::get_if<FilterCondition>(&c)) {
      if (sub->filter != nullptr && NeedsBinding(*sub->filter, lookup, prefix)) return true;
    } else if (const auto* nested = std::get_if<NestedCondition>(&c)) {
      if (nested->filter != nullptr &&
          NeedsBinding(*nested->filter, lookup, prefix + nested->key + "[].")) {
        return true;
      }
    }
  }
  return false;
}

bool NeedsBinding(const Filter& f, const TextIndexLookup& lookup, const std::string& prefix) {
  return NeedsBinding(f.must, lookup, prefix) || NeedsBinding(f.should, lookup, prefix) ||
         NeedsBinding(f.must_not, lookup, prefix) ||
         (f.min_should && NeedsBinding(f.min_should->conditions, lookup, prefix));
}

std::shared_ptr<const Filter> Bind(const Filter& f, const TextIndexLookup& lookup,
                                   const std::string& prefix);

void BindAll(std::vector<Condition>* conditions, const TextIndexLookup& lookup,
             const std::string& prefix) {
  for (Condition& c : *conditions) {
    if (auto* field = std::get_if<FieldCondition>(&c)) {
      if (field->match) {
        if (auto* text = std::get_if<MatchText>(&*field->match)) {
          text->tokenizer = lookup(prefix + field->key);
        }
      }
    } else if (auto* sub = std::get_if<FilterCondition>(&c)) {
      if (sub->filter != nullptr) sub->filter = Bind(*sub->filter, lookup, prefix);
    } else if (auto* nested = std::get_if<NestedCondition>(&c)) {
      if (nested->filter != nullptr) {
        nested->filter = Bind(*nested->filter, lookup, prefix + nested->key + "[].");
      }
    }
  }
}

std::shared_ptr<const Filter> Bind(const Filter& f, const TextIndexLookup& lookup,
                                   const std::string& prefix) {
  auto copy = std::make_shared<Filter>(f);
  BindAll(&copy->must, lookup, prefix);
  BindAll(&copy->should, lookup, prefix);
  BindAll(&copy->must_not, lookup, prefix);
  if (copy->min_should) {
    BindAll(&copy->min_should->conditions, lookup, prefix);
  }
  return copy;
}

}  // namespace

BoundFilter::BoundFilter(const Filter* filter, const TextIndexLookup& lookup) : filter_(filter) {
  if (filter != nullptr && lookup != nullptr && NeedsBinding(*filter, lookup, "")) {
    owned_ = Bind(*filter, lookup, "");
    filter_ = owned_.get();
  }
}

bool Matches(const Filter& filter, const PointView& point) {
  for (const Condition& c : filter.must) {
    if (!MatchCondition(c, point)) {
      return false;
    }
  }
  for (const Condition& c : filter.must_not) {
    if (MatchCondition(c, point)) {
      return false;
    }
  }
  if (!filter.should.empty() &&
      std::none_of(filter.should.begin(), filter.should.end(),
                   [&](const Condition& c) { return MatchCondition(c, point); })) {
    return false;
  }
  if (filter.min_should) {
    size_t n = 0;
    for (const Condition& c : filter.min_should->conditions) {
      n += MatchCondition(c, point) ? 1 : 0;
    }
    if (n < filter.min_should->min_count) {
      return false;
    }
  }
  return true;
}

std::optional<int64_t> ParseDatetimeMicros(std::string_view s) {
  auto num = [&](size_t pos, size_t len, int* out) {
    if (pos + len > s.size()) {
      return false;
    }
    const auto [end, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, *out);
    return ec == std::errc() && end == s.data() + pos + len;
  };
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (!num(0, 4, &year) || s.size() < 10 || s[4] != '-' || !num(5, 2, &month) || s[7] != '-' ||
      !num(8, 2, &day) || month < 1 || month > 12 || day < 1 || day > 31) {
    return std::nullopt;
  }
  size_t pos = 10;
  int64_t micros = 0;
  int64_t offset_s = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') {
      return std::nullopt;
    }
    if (!num(pos + 1, 2, &hour) || s.size() < pos + 6 || s[pos + 3] != ':' ||
        !num(pos + 4, 2, &minute)) {
      return std::nullopt;
    }
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!num(pos + 1, 2, &second)) {
        return std::nullopt;
      }
      pos += 3;
    }
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int64_t scale = 100000;
      while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
        micros += (s[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
    }
    if (pos < s.size()) {
      if (s[pos] == 'Z' || s[pos] == 'z') {
        ++pos;
      } else if (s[pos] == '+' || s[pos] == '-') {
        int oh, om;
        if (!num(pos + 1, 2, &oh) || s.size() < pos + 6 || s[pos + 3] != ':' ||
            !num(pos + 4, 2, &om)) {
          return std::nullopt;
        }
        offset_s = (s[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
        pos += 6;
      }
    }
    if (pos != s.size() || hour > 23 || minute > 59 || second > 60) {
      return std::nullopt;
    }
  }
  // Days from civil (Howard Hinnant's algorithm).
  const int y = year - (month <= 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
  const int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  return secs * 1000000 + micros;
}

}  // namespace tessera::engine

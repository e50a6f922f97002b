#include "api/filter_codec.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/json_util.h"
#include "api/points_codec.h"

namespace tessera::api {

namespace json = boost::json;
using namespace engine;

namespace {

constexpr int kMaxFilterDepth = 32;

Status Bad(std::string_view path, std::string_view what) {
  return DeserializeError(path, what);
}

Result<MatchScalar> ParseScalar(const json::value& v, std::string_view path) {
  if (v.is_string()) {
    return MatchScalar(std::string(v.get_string()));
  }
  if (v.is_bool()) {
    return MatchScalar(v.get_bool());
  }
  if (v.is_int64()) {
    return MatchScalar(v.get_int64());
  }
  if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return MatchScalar(static_cast<int64_t>(v.get_uint64()));
  }
  return Bad(path, "expected a string, an integer or a boolean to match");
}

// Qdrant's AnyVariants: a list of strings or a list of integers, never mixed or boolean.
Status ParseScalars(const json::value& v, std::string_view path, std::vector<MatchScalar>* out) {
  constexpr std::string_view kWhat =
      "data did not match any variant of untagged enum AnyVariants (expected a list of strings "
      "or a list of integers)";
  if (!v.is_array()) {
    return Bad(path, kWhat);
  }
  for (const json::value& item : v.get_array()) {
    TESSERA_ASSIGN_OR_RETURN(MatchScalar s, ParseScalar(item, path));
    if (std::holds_alternative<bool>(s) ||
        (!out->empty() && out->front().index() != s.index())) {
      return Bad(path, kWhat);
    }
    out->push_back(std::move(s));
  }
  return Status::Ok();
}

Result<Match> ParseMatch(const json::value& v, const std::string& path) {
  FieldReader r(v, path);
  TESSERA_RETURN_IF_ERROR(
      r.OnlyKnown({"value", "any", "except", "text", "text_any", "phrase", "prefix"}));
  if (r.object()->size() != 1) {
    return Bad(path,
               "expected exactly one of `value`, `any`, `except`, `text`, `text_any`, `phrase`, "
               "`prefix`");
  }
  if (const json::value* value = r.Find("value")) {
    TESSERA_ASSIGN_OR_RETURN(MatchScalar s, ParseScalar(*value, r.PathOf("value")));
    return Match(MatchValue{std::move(s)});
  }
  if (const json::value* any = r.Find("any")) {
    MatchAny m;
    TESSERA_RETURN_IF_ERROR(ParseScalars(*any, r.PathOf("any"), &m.values));
    return Match(std::move(m));
  }
  if (const json::value* except = r.Find("except")) {
    MatchExcept m;
    TESSERA_RETURN_IF_ERROR(ParseScalars(*except, r.PathOf("except"), &m.values));
    return Match(std::move(m));
  }
  for (const auto& [name, kind] : {std::pair{"text", MatchText::Kind::kText},
                                   std::pair{"text_any", MatchText::Kind::kAny},
                                   std::pair{"phrase", MatchText::Kind::kPhrase},
                                   std::pair{"prefix", MatchText::Kind::kPrefix}}) {
    if (const json::value* text = r.Find(name)) {
      if (!text->is_string()) {
        return Bad(r.PathOf(name), "expected a string");
      }
      MatchText m;
      m.text = std::string(text->get_string());
      m.kind = kind;
      return Match(std::move(m));
    }
  }
  return Bad(path, "expected one of `value`, `any`, `except`, `text`, `text_any`, `phrase`, `prefix`");
}

// Range bounds: numbers, or (datetime) RFC 3339 strings.
Status ParseRange(const json::value& v, const std::string& path, bool datetime, RangeBounds* out,
                  bool* saw_string) {
  FieldReader r(v, path);
  TESSERA_RETURN_IF_ERROR(r.OnlyKnown({"gt", "gte", "lt", "lte"}));
  *saw_string = false;
  for (const char* key : {"gt", "gte", "lt", "lte"}) {
    const json::value* bound = r.Find(key);
    if (bound == nullptr) {
      continue;
    }
    double value;
    if (bound->is_number() && !datetime) {
      value = bound->to_number<double>();
    } else if (bound->is_string()) {
      auto micros = ParseDatetimeMicros(bound->get_string());
      if (!micros) {
        return Bad(r.PathOf(key),
                   "`" + std::string(bound->get_string()) + "` is not an RFC 3339 datetime");
      }
      value = static_cast<double>(*micros);
      *saw_string = true;
    } else {
      return Bad(r.PathOf(key),
                 datetime ? "expected an RFC 3339 datetime string" : "expected a number");
    }
    std::string_view k(key);
    (k == "gt" ? out->gt : k == "gte" ? out->gte : k == "lt" ? out->lt : out->lte) = value;
  }
  return Status::Ok();
}

Result<GeoPoint> ParseGeoPoint(const json::value& v, const std::string& path) {
  FieldReader r(v, path);
  TESSERA_RETURN_IF_ERROR(r.OnlyKnown({"lon", "lat"}));
  std::optional<double> lon, lat;
  TESSERA_RETURN_IF_ERROR(r.Get("lon", &lon));
  TESSERA_RETURN_IF_ERROR(r.Get("lat", &lat));
  if (!lon || !lat) {
    return Bad(path, "expected {\"lon\": number, \"lat\": number}");
  }
  if (*lat < -90 || *lat > 90 || *lon < -180 || *lon > 180) {
    return Status::ValidationFailed(path +
                                    ": latitude must be within [-90, 90] and longitude "
                                    "within [-180, 180]");
  }
  return GeoPoint{*lon, *lat};
}

Result<std::vector<GeoPoint>> ParseRing(const json::value& v, const std::string& path) {
  FieldReader r(v, path);
  TESSERA_RETURN_IF_ERROR(r.OnlyKnown({"points"}));
  const json::value* points = r.Find("points");
  if (points == nullptr || !points->is_array()) {
    return Bad(path, "expected {\"points\": [...]}");
  }
  std::vector<GeoPoint> ring;
  for (const json::value& p : points->get_array()) {
    TESSERA_ASSIGN_OR_RETURN(GeoPoint g, ParseGeoPoint(p, r.PathOf("points")));
    ring.push_back(g);
  }
  if (ring.size() < 4) {  // Qdrant's validation, in its words
    return Status::ValidationFailed(path + ": polygon invalid, the size must be at least 4, got " +
                                    std::to_string(ring.size()));
  }
  if (ring.front().lat != ring.back().lat || ring.front().lon != ring.back().lon) {
    return Status::ValidationFailed(path +
                                    ": polygon invalid, the first and the last points should be "
                                    "the same to form a closed line");
  }
  return ring;
}

Result<std::shared_ptr<const Filter>> ParseFilterAt(const json::value& v, const std::string& path,
                                                    int depth);

// A field condition: `key` and at least one check on it.
Result<Condition> ParseFieldCondition(const FieldReader& r, const std::string& path) {
  TESSERA_RETURN_IF_ERROR(r.OnlyKnown({"key", "match", "range", "geo_bounding_box", "geo_radius",
                                       "geo_polygon", "values_count", "is_empty", "is_null",
                                       "datetime_range"}));
  FieldCondition c;
  TESSERA_RETURN_IF_ERROR(r.Require("key", &c.key));
  TESSERA_RETURN_IF_ERROR(CheckKeyPath(r.PathOf("key"), c.key));
  // Qdrant accepts several kinds in one condition and its checker ORs them, while its indexes
  // answer only one of them; we refuse the ambiguity rather than pick an answer.
  int kinds = 0;
  for (const char* kind : {"match", "range", "datetime_range", "values_count", "geo_bounding_box",
                           "geo_radius", "geo_polygon", "is_empty", "is_null"}) {
    const json::value* v = r.Find(kind);
    kinds += v != nullptr && !v->is_null();
  }
  if (kinds > 1) {
    return Bad(path,
               "a field condition takes exactly one of `match`, `range`, `datetime_range`, "
               "`values_count`, `geo_bounding_box`, `geo_radius`, `geo_polygon`, `is_empty`, "
               "`is_null`; combine conditions with `must` or `should`");
  }
  bool any = false;
  for (auto [kind, out] : {std::pair{"is_empty", &c.is_empty}, std::pair{"is_null", &c.is_null}}) {
    TESSERA_RETURN_IF_ERROR(r.Get(kind, out));
    any = any || out->has_value();
  }
  if (const json::value* match = r.Find("match")) {
    TESSERA_ASSIGN_OR_RETURN(c.match, ParseMatch(*match, r.PathOf("match")));
    any = true;
  }
  if (const json::value* range = r.Find("range")) {
    RangeBounds bounds;
    bool strings = false;
    TESSERA_RETURN_IF_ERROR(ParseRange(*range, r.PathOf("range"), false, &bounds, &strings));
    (strings ? c.datetime_range : c.range) = bounds;
    any = true;
  }
  if (const json::value* range = r.Find("datetime_range")) {
    RangeBounds bounds;
    bool strings = false;
    TESSERA_RETURN_IF_ERROR(
        ParseRange(*range, r.PathOf("datetime_range"), true, &bounds, &strings));
    c.datetime_range = bounds;
    any = true;
  }
  if (const json::value* count = r.Find("values_count")) {
    RangeBounds bounds;
    FieldReader cr(*count, r.PathOf("values_count"));
    TESSERA_RETURN_IF_ERROR(cr.OnlyKnown({"gt", "gte", "lt", "lte"}));
    std::optional<uint64_t> gt, gte, lt, lte;
    TESSERA_RETURN_IF_ERROR(cr.Get("gt", &gt));
    TESSERA_RETURN_IF_ERROR(cr.Get("gte", &gte));
    TESSERA_RETURN_IF_ERROR(cr.Get("lt", &lt));
    TESSERA_RETURN_IF_ERROR(cr.Get("lte", &lte));
    auto to_double = [](std::optional<uint64_t> x) -> std::optional<double> {
      return x ? std::optional<double>(static_cast<double>(*x)) : std::nullopt;
    };
    bounds = {to_double(gt), to_double(gte), to_double(lt), to_double(lte)};
    c.values_count = bounds;
    any = true;
  }
  if (const json::value* box = r.Find("geo_bounding_box")) {
    FieldReader br(*box, r.PathOf("geo_bounding_box"));
    TESSERA_RETURN_IF_ERROR(br.OnlyKnown({"top_left", "bottom_right"}));
    const json::value* tl = br.Find("top_left");
    const json::value* bottom = br.Find("bottom_right");
    if (tl == nullptr || bottom == nullptr) {
      return Bad(br.PathOf(""), "expected `top_left` and `bottom_right`");
    }
    GeoBoundingBox b;
    TESSERA_ASSIGN_OR_RETURN(b.top_left, ParseGeoPoint(*tl, br.PathOf("top_left")));
    TESSERA_ASSIGN_OR_RETURN(b.bottom_right, ParseGeoPoint(*bottom, br.PathOf("bottom_right")));
    c.geo_bounding_box = b;
    any = true;
  }
  if (const json::value* radius = r.Find("geo_radius")) {
    FieldReader rr(*radius, r.PathOf("geo_radius"));
    TESSERA_RETURN_IF_ERROR(rr.OnlyKnown({"center", "radius"}));
    const json::value* center = rr.Find("center");
    std::optional<double> meters;
    TESSERA_RETURN_IF_ERROR(rr.Get("radius", &meters));
    if (center == nullptr || !meters) {
      return Bad(r.PathOf("geo_radius"), "expected `center` and `radius`");
    }
    GeoRadius g;
    TESSERA_ASSIGN_OR_RETURN(g.center, ParseGeoPoint(*center, rr.PathOf("center")));
    g.radius_m = *meters;
    c.geo_radius = g;
    any = true;
  }
  if (const json::value* polygon = r.Find("geo_polygon")) {
    FieldReader pr(*polygon, r.PathOf("geo_polygon"));
    TESSERA_RETURN_IF_ERROR(pr.OnlyKnown({"exterior", "interiors"}));
    const json::value* exterior = pr.Find("exterior");
    if (exterior == nullptr) {
      return Bad(r.PathOf("geo_polygon"), "missing field `exterior`");
    }
    GeoPolygon g;
    TESSERA_ASSIGN_OR_RETURN(g.exterior, ParseRing(*exterior, pr.PathOf("exterior")));
    if (const json::value* interiors = pr.Find("interiors")) {
      if (!interiors->is_array()) {
        return Bad(pr.PathOf("interiors"), "expected a list of rings");
      }
      for (const json::value& ring : interiors->get_array()) {
        TESSERA_ASSIGN_OR_RETURN(auto parsed, ParseRing(ring, pr.PathOf("interiors")));
        g.interiors.push_back(std::move(parsed));
      }
    }
    c.geo_polygon = std::move(g);
    any = true;
  }
  if (!any) {  // Qdrant's validation: a key alone is a 422
    return Status::ValidationFailed(
        path +
        ": At least one field condition must be specified (`match`, `range`, "
        "`datetime_range`, `values_count`, `geo_bounding_box`, `geo_radius`, `geo_polygon`, "
        "`is_empty` or `is_null`)");
  }
  return Condition(std::move(c));
}


Result<Condition> ParseCondition(const json::value& v, const std::string& path, int depth) {
  FieldReader r(v, path);
  TESSERA_RETURN_IF_ERROR(r.status());
  const json::object& o = *r.object();
  // As Qdrant decides: an object with `key` is a field condition, otherwise the one kind its
  // keys name. Every kind refuses keys it does not know, so nothing unread is dropped.
  if (o.contains("key")) {
    return ParseFieldCondition(r, path);
  }
  for (const char* kind : {"is_empty", "is_null"}) {
    if (!o.contains(kind)) {
      continue;
    }
    TESSERA_RETURN_IF_ERROR(r.OnlyKnown({kind}));
    FieldReader kr(o.at(kind), r.PathOf(kind));
    TESSERA_RETURN_IF_ERROR(kr.OnlyKnown({"key"}));
    std::string key;
    TESSERA_RETURN_IF_ERROR(kr.Require("key", &key));
    TESSERA_RETURN_IF_ERROR(CheckKeyPath(kr.PathOf("key"), key));
    if (std::string_view(kind) == "is_empty") {
      return Condition(IsEmptyCondition{std::move(key)});
    }
    return Condition(IsNullCondition{std::move(key)});
  }
  for (const char* kind : {"has_id", "has_vector", "nested", "slice"}) {
    if (o.contains(kind)) {
      TESSERA_RETURN_IF_ERROR(r.OnlyKnown({kind}));
    }
  }
  if (o.contains("must") || o.contains("should") || o.contains("must_not") ||
      o.contains("min_should")) {
    TESSERA_ASSIGN_OR_RETURN(auto filter, ParseFilterAt(v, path, depth + 1));
    return Condition(FilterCondition{std::move(filter)});
  }
  if (const json::value* has_id = r.Find("has_id")) {
    std::vector<PointId> ids;
    TESSERA_RETURN_IF_ERROR(ParsePointIds(*has_id, r.PathOf("has_id"), &ids));
    HasIdCondition c;
    c.ids.insert(ids.begin(), ids.end());
    return Condition(std::move(c));
  }
  if (const json::value* has_vector = r.Find("has_vector")) {
    if (!has_vector->is_string()) {
      return Bad(r.PathOf("has_vector"), "expected a vector name");
    }
    return Condition(HasVectorCondition{std::string(has_vector->get_string())});
  }
  if (const json::value* slice = r.Find("slice")) {
    // {total, index}: total a non-zero u32 (serde's error otherwise), index below it (a 422).
    FieldReader sr(*slice, r.PathOf("slice"));
    TESSERA_RETURN_IF_ERROR(sr.status());
    TESSERA_RETURN_IF_ERROR(sr.OnlyKnown({"total", "index"}));
    uint32_t total = 0, index = 0;
    TESSERA_RETURN_IF_ERROR(sr.Require("total", &total));
    TESSERA_RETURN_IF_ERROR(sr.Require("index", &index));
    if (total == 0) {
      return Bad(sr.PathOf("total"), "invalid value: integer `0`, expected a nonzero u32");
    }
    if (index >= total) {
      return Status::ValidationFailed(
          r.PathOf("slice") + ": Slice index must be less than the total number of slices");
    }
    return Condition(SliceCondition{total, index});
  }
  if (const json::value* nested = r.Find("nested")) {
    FieldReader nr(*nested, r.PathOf("nested"));
    TESSERA_RETURN_IF_ERROR(nr.OnlyKnown({"key", "filter"}));
    NestedCondition c;
    TESSERA_RETURN_IF_ERROR(nr.Require("key", &c.key));
    TESSERA_RETURN_IF_ERROR(CheckKeyPath(nr.PathOf("key"), c.key));
    const json::value* inner = nr.Find("filter");
    if (inner == nullptr) {
      return Bad(nr.PathOf("filter"), "missing field `filter`");
    }
    TESSERA_ASSIGN_OR_RETURN(c.filter, ParseFilterAt(*inner, nr.PathOf("filter"), depth + 1));
    return Condition(std::move(c));
  }
  return Bad(path,
             "unknown condition: expected a field condition (`key`), `is_empty`, "
             "`is_null`, `has_id`, `has_vector`, `nested`, `slice` or a nested filter");
}

Status ParseConditions(const json::value& v, const std::string& path, int depth,
                       std::vector<Condition>* out) {
  if (v.is_array()) {
    size_t i = 0;
    for (const json::value& item : v.get_array()) {
      TESSERA_ASSIGN_OR_RETURN(Condition c,
                               ParseCondition(item, path + "[" + std::to_string(i++) + "]", depth));
      out->push_back(std::move(c));
    }
    return Status::Ok();
  }
  TESSERA_ASSIGN_OR_RETURN(Condition c, ParseCondition(v, path, depth));  // a single condition
  out->push_back(std::move(c));
  return Status::Ok();
}

Result<std::shared_ptr<const Filter>> ParseFilterAt(const json::value& v, const std::string& path,
                                                    int depth) {
  if (depth > kMaxFilterDepth) {
    return Status::InvalidArgument("Wrong input: filter nested deeper than " +
                                   std::to_string(kMaxFilterDepth) + " levels");
  }
  FieldReader r(v, path);
  TESSERA_RETURN_IF_ERROR(r.OnlyKnown({"should", "min_should", "must", "must_not"}));
  auto filter = std::make_shared<Filter>();
  if (const json::value* must = r.Find("must")) {
    TESSERA_RETURN_IF_ERROR(ParseConditions(*must, r.PathOf("must"), depth, &filter->must));
  }
  if (const json::value* should = r.Find("should")) {
    TESSERA_RETURN_IF_ERROR(ParseConditions(*should, r.PathOf("should"), depth, &filter->should));
  }
  if (const json::value* must_not = r.Find("must_not")) {
    TESSERA_RETURN_IF_ERROR(
        ParseConditions(*must_not, r.PathOf("must_not"), depth, &filter->must_not));
  }
  if (const json::value* min_should = r.Find("min_should")) {
    FieldReader mr(*min_should, r.PathOf("min_should"));
    TESSERA_RETURN_IF_ERROR(mr.OnlyKnown({"conditions", "min_count"}));
    MinShould m;
    uint64_t min_count = 0;
    TESSERA_RETURN_IF_ERROR(mr.Require("min_count", &min_count));
    if (min_count == 0) {
      return Status::ValidationFailed(mr.PathOf("min_count") +
                                      ": value 0 invalid, must be 1 or larger");
    }
    m.min_count = static_cast<size_t>(min_count);
    const json::value* conditions = mr.Find("conditions");
    if (conditions == nullptr) {
      return Bad(mr.PathOf("conditions"), "missing field `conditions`");
    }
    TESSERA_RETURN_IF_ERROR(
        ParseConditions(*conditions, mr.PathOf("conditions"), depth, &m.conditions));
    filter->min_should = std::move(m);
  }
  return std::shared_ptr<const Filter>(std::move(filter));
}

}  // namespace

Result<std::shared_ptr<const Filter>> ParseFilter(const json::value& v, std::string_view path) {
  return ParseFilterAt(v, std::string(path), 0);
}

}  // namespace tessera::api

#pragma once

// Qdrant's filter language, evaluated against a point's id, payload and vectors.
//
//   Filter    := must[] should[] must_not[] min_should{conditions[], min_count}
//   Condition := Field{key, match | range | datetime_range | values_count | geo_*}
//              | IsEmpty{key} | IsNull{key} | HasId{ids} | HasVector{name}
//              | Nested{key, Filter} | Filter
//
// Keys are paths into the payload (engine/json_path.h) read as Qdrant reads them: "a.b" (a key
// of an object), "a[].b" (every element of array a), "a[2]". A match, range or geo condition
// tests each value reached, an array's elements in its place, so {"tags": ["x", "y"]} matches
// "x"; a key does not walk into an array of objects without "[]".

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "engine/point_id.h"
#include "index/field/text_tokenizer.h"

namespace tessera::engine {

struct Filter;

// A value to match: a string, an integer or a boolean.
using MatchScalar = std::variant<std::string, int64_t, bool>;

struct MatchValue {
  MatchScalar value;
};
struct MatchAny {
  std::vector<MatchScalar> values;
};
struct MatchExcept {
  std::vector<MatchScalar> values;
};
// match.text / text_any / phrase / prefix. Without a text index on the key they are Qdrant's
// plain checks (a substring; any whitespace-separated word of the query as a substring; a
// substring; a string prefix). With one, BindTextIndexes sets `tokenizer`, and text is "every
// query token is a token of the value", text_any "one of them is", phrase "the tokens in a
// row" (nothing when the index has no phrase_matching); prefix stays a string prefix.
struct MatchText {
  enum class Kind : uint8_t { kText, kAny, kPhrase, kPrefix };
  std::string text;
  Kind kind = Kind::kText;
  std::shared_ptr<const index::TextTokenizer> tokenizer;  // bound per request, never logged
};
using Match = std::variant<MatchValue, MatchAny, MatchExcept, MatchText>;

struct RangeBounds {  // numbers, or datetimes as microseconds since the epoch
  std::optional<double> gt, gte, lt, lte;
  bool Contains(double x) const;
};

struct GeoPoint {
  double lon = 0;
  double lat = 0;
};
struct GeoBoundingBox {
  GeoPoint top_left, bottom_right;
};
struct GeoRadius {
  GeoPoint center;
  double radius_m = 0;
};
struct GeoPolygon {
  std::vector<GeoPoint> exterior;
  std::vector<std::vector<GeoPoint>> interiors;
};

struct FieldCondition {
  std::string key;
  std::optional<Match> match;
  std::optional<RangeBounds> range;
  std::optional<RangeBounds> datetime_range;
  std::optional<RangeBounds> values_count;
  std::optional<GeoBoundingBox> geo_bounding_box;
  std::optional<GeoRadius> geo_radius;
  std::optional<GeoPolygon> geo_polygon;
  // The field-condition forms `{"key": k, "is_empty": b}` and `{"key": k, "is_null": b}`, with
  // Qdrant's FieldCondition semantics (condition_checker.rs), which are not those of the
  // IsEmpty/IsNull conditions: any value reached decides, and a missing key matches
  // `is_empty: true` and `is_null: false`.
  std::optional<bool> is_empty;
  std::optional<bool> is_null;
};
struct IsEmptyCondition {
  std::string key;
};
struct IsNullCondition {
  std::string key;
};
struct HasIdCondition {
  std::unordered_set<PointId, PointIdHash> ids;
};
struct HasVectorCondition {
  std::string name;
};
struct NestedCondition {
  std::string key;
  std::shared_ptr<const Filter> filter;
};
struct FilterCondition {
  std::shared_ptr<const Filter> filter;
};
// Qdrant's `slice` (1.19): the points whose id hashes to `index` modulo `total` (SliceOf), so
// that slices 0..total-1 of one `total` are disjoint and cover every point.
struct SliceCondition {
  uint32_t total = 1;
  uint32_t index = 0;
};
// A geo value as geo conditions read it: an object with numeric `lon` and `lat`.
std::optional<GeoPoint> AsGeoPoint(const boost::json::value& v);
// Qdrant's public slice hash: SipHash-2-4 with a zero key over the id's canonical bytes (8
// little-endian bytes of a number, the 16 RFC 4122 bytes of a UUID).
uint64_t SliceHash(const PointId& id);

// (New alternatives go at the end: the index is the WAL codec's tag.)
using Condition = std::variant<FieldCondition, IsEmptyCondition, IsNullCondition, HasIdCondition,
                               HasVectorCondition, NestedCondition, FilterCondition,
                               SliceCondition>;

struct MinShould {
  std::vector<Condition> conditions;
  size_t min_count = 0;
};

struct Filter {
  std::vector<Condition> must;
  std::vector<Condition> should;
  std::vector<Condition> must_not;
  std::optional<MinShould> min_should;
};

// What a filter sees of one point.
struct PointView {
  const PointId& id;
  const boost::json::object& payload;
  // Whether the point has the named vector ("" for the unnamed one).
  const std::function<bool(std::string_view)>& has_vector;
  bool nested = false;  // an element inside a nested condition: no id, no vectors
};

bool Matches(const Filter& filter, const PointView& point);

// The text index of a key (a path as the collection's payload_indexes name it), or nullptr.
using TextIndexLookup =
    std::function<std::shared_ptr<const index::TextTokenizer>(std::string_view key)>;

// `filter` with every text condition on a text-indexed key given that index's tokenizer (keys
// inside `nested` are looked up under "<nested key>[].<key>", as Qdrant names them). Copies
// only when something is bound; otherwise holds `filter` itself.
class BoundFilter {
 public:
  BoundFilter(const Filter* filter, const TextIndexLookup& lookup);
  const Filter* get() const { return filter_; }

 private:
  std::shared_ptr<const Filter> owned_;
  const Filter* filter_ = nullptr;
};

// The values `path` reaches in `payload`, as Qdrant's JsonPath::value_get: a key applies to
// objects only, `[]` takes every element of an array and `[N]` one; arrays reached are kept.
std::vector<const boost::json::value*> RawValuesAt(const boost::json::object& payload,
                                                   std::string_view path);

// What a match, range or geo condition tests: RawValuesAt with each array reached replaced by
// its elements (one level; an array inside stays an array).
std::vector<const boost::json::value*> ValuesAt(const boost::json::object& payload,
                                                std::string_view path);

// RFC 3339 datetimes ("2024-01-31T10:00:00Z", "...+02:00", "2024-01-31 10:00:00",
// "2024-01-31") as microseconds since the epoch (UTC when no offset is given).
std::optional<int64_t> ParseDatetimeMicros(std::string_view text);

}  // namespace tessera::engine

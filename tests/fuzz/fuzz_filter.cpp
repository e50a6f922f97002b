// Fuzz target: the filter decoder (api/filter_codec) and matcher (engine/filter). An input is
// JSON text for a `filter`.
//
// Oracle: no crash or sanitizer report; a filter that parses is evaluated on a set of points
// with varied payloads, and {"must_not": [filter]} must match exactly the points
// the filter does not (the matcher's negation is exact). The same points in a segment with a
// payload index on every field they hold: what the indexes answer of the filter (engine/
// indexed_filter.h) is exactly the evaluator's matches when it says it is exact, and holds
// them all otherwise.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>

#include "api/filter_codec.h"
#include "api/json_util.h"
#include "engine/collection_config.h"
#include "engine/filter.h"
#include "engine/indexed_filter.h"
#include "engine/records.h"
#include "engine/segment.h"

namespace {

namespace json = boost::json;
using tessera::engine::PointId;

struct Point {
  PointId id;
  json::object payload;
};

const std::vector<Point>& Points() {
  static const std::vector<Point> points = [] {
    const char* payloads[] = {
        R"({})",
        R"({"k":"a","n":1,"f":1.5,"b":true,"t":"2024-01-01T00:00:00Z","s":"hello world"})",
        R"({"k":["a","b"],"n":[1,2,3],"g":{"lat":52.5,"lon":13.4},"e":[],"z":null})",
        R"({"arr":[{"x":1,"y":"p"},{"x":2,"y":"q"}],"d":{"e":{"f":7}},"u":"6f1c2a8e-7b3d-4c5e-9f00-112233445566"})",
        R"({"k":"","n":-1e300,"f":-0.0,"b":false,"g":[{"lat":-90,"lon":180}],"":"empty key"})",
    };
    std::vector<Point> out;
    uint64_t id = 1;
    for (const char* text : payloads) {
      out.push_back({PointId::Num(id++), json::parse(text).as_object()});
    }
    out.push_back({PointId::Num(~uint64_t{0}), json::object()});
    return out;
  }();
  return points;
}

// The points in one appendable segment, and a config indexing their fields.
struct Indexed {
  tessera::engine::CollectionConfig config;
  std::unique_ptr<tessera::engine::Segment> segment;
};

const Indexed& IndexedPoints() {
  static const Indexed indexed = [] {
    using namespace tessera::engine;
    Indexed out;
    out.config.vectors[""] = VectorParams{.size = 2, .distance = Distance::kDot};
    const std::pair<const char*, PayloadSchemaType> fields[] = {
        {"k", PayloadSchemaType::kKeyword}, {"n", PayloadSchemaType::kInteger},
        {"f", PayloadSchemaType::kFloat},   {"b", PayloadSchemaType::kBool},
        {"t", PayloadSchemaType::kDatetime}, {"s", PayloadSchemaType::kText},
        {"g", PayloadSchemaType::kGeo},     {"u", PayloadSchemaType::kUuid},
        {"arr[].x", PayloadSchemaType::kInteger}, {"d.e.f", PayloadSchemaType::kInteger}};
    for (const auto& [field, type] : fields) {
      out.config.payload_indexes[field] = PayloadIndexInfo{.type = type};
    }
    out.segment = std::make_unique<Segment>(1, SpecsFor(out.config));
    tessera::wal::SeqNo version = 1;
    for (const Point& p : Points()) {
      out.segment->Put(p.id, version++, {{"", DenseVector{1, 0}}}, p.payload);
    }
    return out;
  }();
  return indexed;
}

void CheckIndexedAnswer(const tessera::engine::Filter& unbound) {
  using namespace tessera::engine;
  const Indexed& x = IndexedPoints();
  const BoundFilter bound(&unbound, TextIndexesOf(x.config));
  const Filter& f = *bound.get();
  const Segment& s = *x.segment;
  auto candidates = IndexedCandidatesFor(f, s, x.config);
  if (!candidates) {
    return;
  }
  for (Offset o = 0; o < s.size(); ++o) {
    const bool match = Accepts(&f, s, o);
    const bool candidate = candidates->offsets.contains(o);
    if ((match && !candidate) || (candidates->exact && candidate != match)) {
      std::fprintf(stderr, "fuzz_filter: the indexes' %s answer %s point %s\n",
                   candidates->exact ? "exact" : "partial",
                   match ? "misses" : "wrongly holds", s.point_id(o).ToString().c_str());
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto body = tessera::api::ParseJsonBody(text);
  if (!body.ok()) {
    return 0;
  }
  auto filter = tessera::api::ParseFilter(*body, "filter");
  if (!filter.ok()) {
    return 0;
  }
  tessera::engine::Filter inverse;
  inverse.must_not.push_back(tessera::engine::FilterCondition{*filter});
  const std::function<bool(std::string_view)> has_vector = [](std::string_view name) {
    return name.empty();
  };
  for (const Point& p : Points()) {
    const tessera::engine::PointView view{p.id, p.payload, has_vector};
    if (tessera::engine::Matches(**filter, view) == tessera::engine::Matches(inverse, view)) {
      std::fprintf(stderr, "fuzz_filter: filter and must_not agree on point %s\n",
                   p.id.ToString().c_str());
      std::abort();
    }
  }
  CheckIndexedAnswer(**filter);
  return 0;
}

#include "engine/records.h"

#include <functional>

namespace tessera::engine {

bool Accepts(PointFilter filter, const Segment& segment, Offset o) {
  if (filter == nullptr) {
    return true;
  }
  const std::function<bool(std::string_view)> has_vector = [&](std::string_view name) {
    const int v = segment.VectorIndex(name);
    return v >= 0 && segment.has_vector(static_cast<size_t>(v), o);
  };
  return Matches(*filter, PointView{segment.point_id(o), segment.payload(o), has_vector});
}

PointRecord MakeRecord(const Segment& segment, Offset o, bool with_payload, bool with_vectors) {
  PointRecord r;
  r.id = segment.point_id(o);
  r.version = segment.version(o);
  if (with_payload) {
    r.payload = segment.payload(o);
  }
  if (with_vectors) {
    r.vectors = segment.vectors_of(o);
  }
  return r;
}

}  // namespace tessera::engine

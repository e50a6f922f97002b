#pragma once

// A geo field index of one segment: each point's (lat, lon) values filed in grid cells at three
// resolutions (1, 1/8 and 1/64 of a degree; the finest about 1.7 km of latitude), so that a
// bounding box is answered with the offsets of the cells it overlaps: a superset of the points
// inside it, which the filter evaluator then checks (a radius or a polygon is answered as its
// bounding box). Coordinates out of range are clamped to the edge cells, for points and boxes
// alike, so the superset holds for any values. Kept exact by its owner as the other field
// indexes are (Add, then Remove with what was added). No JSON here.
//
// Thread-safety: none of its own (the segment's lock guards it); const methods from any thread.

#include <array>
#include <cstdint>
#include <span>
#include <unordered_map>

#include "index/field/keyword_index.h"

namespace tessera::index {

class GeoIndex {
 public:
  struct Point {
    double lat = 0;
    double lon = 0;
  };
  // A box of latitudes [min_lat, max_lat] and longitudes [min_lon, max_lon]; min_lon greater
  // than max_lon: the box crosses the antimeridian (min_lon..180 and -180..max_lon).
  struct Box {
    double min_lat, max_lat, min_lon, max_lon;
  };

  // Indexes `points` for offset `o`, which holds none now.
  void Add(Offset o, std::span<const Point> points);
  // Unindexes offset `o`, which was added with `points`.
  void Remove(Offset o, std::span<const Point> points);

  // Every offset with a point in `box`, and possibly others near it.
  Postings Within(const Box& box) const;
  const Postings& with_values() const { return with_values_; }

 private:
  static constexpr int kLevels = 3;
  static constexpr std::array<int, kLevels> kCellsPerDegree = {1, 8, 64};
  static uint64_t Cell(int64_t row, int64_t col) {
    return (static_cast<uint64_t>(row) << 32) | static_cast<uint64_t>(col);
  }
  static int64_t Row(int level, double lat);
  static int64_t Col(int level, double lon);

  std::array<std::unordered_map<uint64_t, Postings>, kLevels> cells_;
  Postings with_values_;
};

}  // namespace tessera::index

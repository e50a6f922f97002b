#include "index/field/geo_index.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace tessera::index {

namespace {
// Cells a query looks up one by one at most; past that, a coarser level (or a pass over the
// cells there are).
constexpr int64_t kMostCells = 4096;
}  // namespace

int64_t GeoIndex::Row(int level, double lat) {
  const int64_t rows = 180 * kCellsPerDegree[level];
  const double r = std::floor((lat + 90.0) * kCellsPerDegree[level]);
  return std::isnan(r) ? 0 : static_cast<int64_t>(std::clamp(r, 0.0, static_cast<double>(rows - 1)));
}

int64_t GeoIndex::Col(int level, double lon) {
  const int64_t cols = 360 * kCellsPerDegree[level];
  const double c = std::floor((lon + 180.0) * kCellsPerDegree[level]);
  return std::isnan(c) ? 0 : static_cast<int64_t>(std::clamp(c, 0.0, static_cast<double>(cols - 1)));
}

void GeoIndex::Add(Offset o, std::span<const Point> points) {
  for (const Point& p : points) {
    for (int level = 0; level < kLevels; ++level) {
      cells_[level][Cell(Row(level, p.lat), Col(level, p.lon))].add(o);
    }
  }
  if (!points.empty()) {
    with_values_.add(o);
  }
}

void GeoIndex::Remove(Offset o, std::span<const Point> points) {
  for (const Point& p : points) {
    for (int level = 0; level < kLevels; ++level) {
      auto it = cells_[level].find(Cell(Row(level, p.lat), Col(level, p.lon)));
      if (it != cells_[level].end()) {
        it->second.remove(o);
        if (it->second.isEmpty()) {
          cells_[level].erase(it);
        }
      }
    }
  }
  with_values_.remove(o);
}

Postings GeoIndex::Within(const Box& box) const {
  if (!(box.min_lat <= box.max_lat)) {
    return Postings();  // no latitude is in it (NaN bounds included)
  }
  // Column ranges: one, or two across the antimeridian.
  struct Cols {
    double from, to;
  };
  std::vector<Cols> spans;
  if (box.min_lon <= box.max_lon) {
    spans.push_back({box.min_lon, box.max_lon});
  } else {
    spans.push_back({box.min_lon, 180.0});
    spans.push_back({-180.0, box.max_lon});
  }
  // The finest level whose cells in the box are few enough to look up.
  int level = kLevels - 1;
  auto count = [&](int l) {
    int64_t n = 0;
    const int64_t rows = Row(l, box.max_lat) - Row(l, box.min_lat) + 1;
    for (const Cols& s : spans) {
      n += rows * (Col(l, s.to) - Col(l, s.from) + 1);
    }
    return n;
  };
  while (level > 0 && count(level) > kMostCells) {
    --level;
  }
  const int64_t r0 = Row(level, box.min_lat), r1 = Row(level, box.max_lat);
  std::vector<const Postings*> parts;
  const auto& cells = cells_[level];
  if (count(level) > static_cast<int64_t>(cells.size())) {
    for (const auto& [key, offsets] : cells) {  // fewer cells held than the box covers
      const auto row = static_cast<int64_t>(key >> 32);
      const auto col = static_cast<int64_t>(key & 0xffffffffu);
      const bool in_cols = std::any_of(spans.begin(), spans.end(), [&](const Cols& s) {
        return col >= Col(level, s.from) && col <= Col(level, s.to);
      });
      if (row >= r0 && row <= r1 && in_cols) {
        parts.push_back(&offsets);
      }
    }
  } else {
    for (const Cols& s : spans) {
      const int64_t c0 = Col(level, s.from), c1 = Col(level, s.to);
      for (int64_t r = r0; r <= r1; ++r) {
        for (int64_t c = c0; c <= c1; ++c) {
          if (auto it = cells.find(Cell(r, c)); it != cells.end()) {
            parts.push_back(&it->second);
          }
        }
      }
    }
  }
  if (parts.empty()) {
    return Postings();
  }
  return Postings::fastunion(parts.size(), parts.data());
}

}  // namespace tessera::index

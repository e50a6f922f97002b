// Payload field indexes (index/field/) against a brute-force oracle: random values per point,
// arrays with duplicates, points changed and removed again and again; every query answer is
// compared with a scan of what the oracle holds.

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "index/field/geo_index.h"
#include "index/field/keyword_index.h"
#include "index/field/numeric_index.h"

namespace tessera::index {
namespace {

std::set<uint32_t> ToSet(const Postings& p) {
  std::set<uint32_t> out;
  for (uint32_t o : p) {
    out.insert(o);
  }
  return out;
}

TEST(KeywordIndexTest, AgreesWithAScanThroughRandomChanges) {
  std::mt19937 rng(17);
  const std::vector<std::string> vocabulary = {"a", "b", "ä", "日本", "", "long value", "A"};
  const size_t n = 400;
  std::vector<std::vector<std::string>> truth(n);
  KeywordIndex index;
  for (int step = 0; step < 4000; ++step) {
    const auto o = static_cast<Offset>(rng() % n);
    std::vector<std::string> values;
    const size_t k = rng() % 4;  // 0: the point has none (or is removed)
    for (size_t i = 0; i < k; ++i) {
      values.push_back(vocabulary[rng() % vocabulary.size()]);  // duplicates happen
    }
    // As a segment changes a point: what it held is unindexed, then what it holds now.
    index.Remove(o, truth[o]);
    if (rng() % 10 == 0) {
      truth[o].clear();
    } else {
      index.Add(o, values);
      truth[o] = values;
    }
    if (step % 200 != 0) {
      continue;
    }
    std::set<uint32_t> with_values;
    for (const std::string& v : vocabulary) {
      std::set<uint32_t> expected;
      for (uint32_t p = 0; p < n; ++p) {
        if (std::find(truth[p].begin(), truth[p].end(), v) != truth[p].end()) {
          expected.insert(p);
        }
        if (!truth[p].empty()) {
          with_values.insert(p);
        }
      }
      ASSERT_EQ(ToSet(index.Match(v)), expected) << "value '" << v << "' at step " << step;
      ASSERT_EQ(index.Count(v), expected.size());
    }
    ASSERT_EQ(ToSet(index.with_values()), with_values);
    const std::vector<std::string> any = {"a", "日本", "missing"};
    std::set<uint32_t> expected_any;
    for (uint32_t p = 0; p < n; ++p) {
      for (const std::string& v : any) {
        if (std::find(truth[p].begin(), truth[p].end(), v) != truth[p].end()) {
          expected_any.insert(p);
        }
      }
    }
    ASSERT_EQ(ToSet(index.MatchAny(any)), expected_any);
  }
  EXPECT_TRUE(index.Match("never seen").isEmpty());
  EXPECT_GT(index.bytes(), 0u);
}

template <typename T>
std::set<uint32_t> ScanRange(const std::vector<std::vector<T>>& truth, const NumericRange<T>& r) {
  std::set<uint32_t> out;
  for (uint32_t p = 0; p < truth.size(); ++p) {
    for (T v : truth[p]) {
      if (std::isnan(static_cast<double>(v))) {
        continue;
      }
      const bool above = !r.lower || (r.lower_inclusive ? v >= *r.lower : v > *r.lower);
      const bool below = !r.upper || (r.upper_inclusive ? v <= *r.upper : v < *r.upper);
      if (above && below) {
        out.insert(p);
      }
    }
  }
  return out;
}

template <typename T>
void CheckNumeric(std::mt19937& rng, const std::vector<T>& domain, uint64_t min_block = 4096,
                  size_t n = 300) {
  std::vector<std::vector<T>> truth(n);
  NumericIndex<T> index(min_block);
  for (int step = 0; step < 3000; ++step) {
    const auto o = static_cast<Offset>(rng() % n);
    std::vector<T> values;
    for (size_t i = 0, k = rng() % 4; i < k; ++i) {
      values.push_back(domain[rng() % domain.size()]);
    }
    index.Remove(o, truth[o]);
    index.Add(o, values);
    truth[o] = values;
    if (step % 150 != 0) {
      continue;
    }
    for (int q = 0; q < 30; ++q) {
      NumericRange<T> r;
      if (rng() % 4 != 0) {
        r.lower = domain[rng() % domain.size()];
        r.lower_inclusive = rng() % 2;
      }
      if (rng() % 4 != 0) {
        r.upper = domain[rng() % domain.size()];
        r.upper_inclusive = rng() % 2;
      }
      const auto expected = ScanRange(truth, r);
      ASSERT_EQ(ToSet(index.Range(r)), expected) << "step " << step;
      ASSERT_GE(index.CountRangeValues(r), expected.size());
    }
    for (T v : domain) {
      NumericRange<T> exactly{v, true, v, true};
      ASSERT_EQ(ToSet(index.Match(v)), ScanRange(truth, exactly)) << "value " << v;
    }
  }
  if (domain.size() >= 2 * NumericIndex<T>::kBlockValues && min_block < n) {
    EXPECT_GT(index.blocks(), 4u) << "the ranges above were answered from range blocks";
  }
}

TEST(NumericIndexTest, IntegersAgreeWithAScanThroughRandomChanges) {
  std::mt19937 rng(18);
  CheckNumeric<int64_t>(rng, {INT64_MIN, -1000, -1, 0, 1, 2, 3, 7, 1000, INT64_MAX});
}

// Many distinct values: ranges are answered from range blocks (cut small here so that blocks
// split, and ranges start, end and cut through blocks), through adds and removes.
TEST(NumericIndexTest, RangeBlocksAgreeWithAScanThroughRandomChanges) {
  std::mt19937 rng(20);
  std::vector<int64_t> domain;
  for (int64_t v = -100; v < 100; v += 2) {
    domain.push_back(v);
  }
  CheckNumeric<int64_t>(rng, domain, /*min_block=*/8, /*n=*/400);
  std::vector<double> reals;
  for (int i = 0; i < 80; ++i) {
    reals.push_back(i * 0.25 - 10.0);
  }
  reals.push_back(-0.0);
  CheckNumeric<double>(rng, reals, /*min_block=*/16, /*n=*/400);
}

TEST(NumericIndexTest, FloatsAgreeWithAScanIncludingNanAndSignedZero) {
  std::mt19937 rng(19);
  CheckNumeric<double>(rng, {-1e300, -2.5, -0.0, 0.0, 1e-9, 0.5, 3.25, 1e300,
                             std::numeric_limits<double>::quiet_NaN()});
  FloatIndex index;
  const double values[] = {std::numeric_limits<double>::quiet_NaN()};
  index.Add(0, values);
  EXPECT_TRUE(index.with_values().isEmpty()) << "NaN is not a value any range holds";
  const double zero[] = {-0.0};
  index.Add(1, zero);
  EXPECT_EQ(ToSet(index.Match(0.0)), (std::set<uint32_t>{1}));
  EXPECT_EQ(index.min(), 0.0);
}

}  // namespace
}  // namespace tessera::index

namespace tessera::index {
namespace {

// The geo grid answers a box with a superset of the points inside it, through changes, at
// every size of box (each level of the grid), across the antimeridian and at the poles, and
// with coordinates out of range; a small box is answered with few offsets.
TEST(GeoIndexTest, BoxesHoldEveryPointInsideThroughRandomChanges) {
  std::mt19937 rng(23);
  std::uniform_real_distribution<double> lat(-90, 90), lon(-180, 180), unit(0, 1);
  auto point = [&]() -> GeoIndex::Point {
    switch (rng() % 10) {
      case 0:
        return {rng() % 2 ? 90.0 : -90.0, lon(rng)};  // a pole
      case 1:
        return {lat(rng), rng() % 2 ? 180.0 : -180.0};  // the antimeridian
      case 2:
        return {lat(rng) * 1.5, lon(rng) * 1.5};  // out of range
      default:
        return {lat(rng), lon(rng)};
    }
  };
  const size_t n = 600;
  std::vector<std::vector<GeoIndex::Point>> truth(n);
  GeoIndex index;
  auto inside = [](const GeoIndex::Point& p, const GeoIndex::Box& b) {  // the evaluator's test
    const bool lat_ok = p.lat <= b.max_lat && p.lat >= b.min_lat;
    const bool lon_ok = b.min_lon <= b.max_lon ? p.lon >= b.min_lon && p.lon <= b.max_lon
                                               : p.lon >= b.min_lon || p.lon <= b.max_lon;
    return lat_ok && lon_ok;
  };
  size_t small_boxes = 0, small_answers = 0;
  for (int step = 0; step < 3000; ++step) {
    const auto o = static_cast<Offset>(rng() % n);
    index.Remove(o, truth[o]);
    truth[o].clear();
    for (size_t i = 0, k = rng() % 3; i < k; ++i) {
      truth[o].push_back(point());
    }
    index.Add(o, truth[o]);
    if (step % 100 != 0) {
      continue;
    }
    for (int q = 0; q < 40; ++q) {
      const double size = std::pow(10.0, -3 + 5 * unit(rng));  // 0.001 to 100 degrees
      const GeoIndex::Point at = point();
      GeoIndex::Box box{at.lat - size * unit(rng), at.lat + size * unit(rng),
                        at.lon - size * unit(rng), at.lon + size * unit(rng)};
      if (rng() % 4 == 0) {
        std::swap(box.min_lon, box.max_lon);  // across the antimeridian (or nearly all of it)
      }
      const Postings answer = index.Within(box);
      for (Offset p = 0; p < n; ++p) {
        for (const GeoIndex::Point& v : truth[p]) {
          if (inside(v, box)) {
            ASSERT_TRUE(answer.contains(p))
                << "step " << step << " box " << box.min_lat << ".." << box.max_lat << " x "
                << box.min_lon << ".." << box.max_lon << " lost " << v.lat << "," << v.lon;
          }
        }
      }
      for (Offset p : answer) {
        ASSERT_FALSE(truth[p].empty()) << "an offset without points";
      }
      if (size < 1 && box.min_lon <= box.max_lon) {
        ++small_boxes;
        small_answers += answer.cardinality();
      }
    }
  }
  // Boxes under a degree wide hold few of the 600 offsets: the grid narrows them down.
  ASSERT_GT(small_boxes, 0u);
  EXPECT_LT(static_cast<double>(small_answers) / small_boxes, 10.0);
}

}  // namespace
}  // namespace tessera::index

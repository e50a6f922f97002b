// The storages of the other vector kinds against brute-force oracles: the sparse vector index
// (random vectors with dimensions shared across points, negative weights, empty vectors;
// overwrites, clears, filters) and multivectors (MaxSim for every metric), with their
// persisted forms.

#include "index/multi_dense_storage.h"
#include "index/sparse_vector_index.h"

#include <algorithm>
#include <map>
#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>

namespace tessera::index {
namespace {

struct Vec {
  std::vector<uint32_t> indices;
  std::vector<float> values;
};

Vec RandomVector(std::mt19937& rng, uint32_t dims, size_t max_nnz) {
  std::uniform_int_distribution<size_t> nnz(0, max_nnz);
  std::uniform_int_distribution<uint32_t> dim(0, dims - 1);
  std::uniform_real_distribution<float> weight(-1.0f, 2.0f);
  std::map<uint32_t, float> picked;
  const size_t n = nnz(rng);
  while (picked.size() < n) {
    picked[dim(rng)] = weight(rng);
  }
  Vec v;
  for (auto [i, w] : picked) {  // then shuffled: Set takes any order
    v.indices.push_back(i);
    v.values.push_back(w);
  }
  std::vector<size_t> order(v.indices.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  Vec shuffled;
  for (size_t i : order) {
    shuffled.indices.push_back(v.indices[i]);
    shuffled.values.push_back(v.values[i]);
  }
  return shuffled;
}

// The oracle: dot products summed in the order of the query's sorted indices.
std::vector<Hit> BruteForce(const std::map<Offset, Vec>& stored, const Vec& query, size_t k,
                            const AcceptFn& accept) {
  std::vector<std::pair<uint32_t, float>> q;
  for (size_t i = 0; i < query.indices.size(); ++i) {
    q.emplace_back(query.indices[i], query.values[i]);
  }
  std::sort(q.begin(), q.end());
  std::vector<Hit> hits;
  for (const auto& [o, v] : stored) {
    if (accept && !accept(o)) {
      continue;
    }
    std::map<uint32_t, float> row;
    for (size_t i = 0; i < v.indices.size(); ++i) {
      row[v.indices[i]] = v.values[i];
    }
    float score = 0.0f;
    bool overlap = false;
    for (auto [dim, w] : q) {
      if (auto it = row.find(dim); it != row.end()) {
        score += it->second * w;
        overlap = true;
      }
    }
    if (overlap && score != 0.0f) {
      hits.push_back({o, -score});
    }
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.distance < b.distance || (a.distance == b.distance && a.offset < b.offset);
  });
  if (hits.size() > k) {
    hits.resize(k);
  }
  return hits;
}

SparseQuery Sorted(const Vec& v, std::vector<uint32_t>* indices, std::vector<float>* values) {
  std::vector<size_t> order(v.indices.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return v.indices[a] < v.indices[b]; });
  indices->clear();
  values->clear();
  for (size_t i : order) {
    indices->push_back(v.indices[i]);
    values->push_back(v.values[i]);
  }
  return {*indices, *values};
}

TEST(SparseVectorIndexTest, SearchMatchesBruteForceThroughChanges) {
  std::mt19937 rng(7);
  SparseVectorIndex index;
  std::map<Offset, Vec> stored;
  constexpr size_t kPoints = 600;
  for (size_t o = 0; o < kPoints; ++o) {
    index.Append();
  }
  auto set = [&](Offset o, const Vec& v) {
    index.Set(o, v.indices, v.values);
    stored[o] = v;
  };
  for (Offset o = 0; o < kPoints; ++o) {
    if (o % 7 != 3) {  // some offsets never get a vector
      set(o, RandomVector(rng, 200, 30));
    }
  }
  std::uniform_int_distribution<Offset> any(0, kPoints - 1);
  for (int round = 0; round < 6; ++round) {
    // Overwrites and clears between rounds.
    for (int i = 0; i < 50; ++i) {
      const Offset o = any(rng);
      if (i % 5 == 0) {
        index.Clear(o);
        stored.erase(o);
      } else {
        set(o, RandomVector(rng, 200, 30));
      }
    }
    EXPECT_EQ(index.count(), stored.size());
    for (int qn = 0; qn < 20; ++qn) {
      const Vec query = RandomVector(rng, 220, 12);
      std::vector<uint32_t> qi;
      std::vector<float> qv;
      const SparseQuery q = Sorted(query, &qi, &qv);
      for (size_t k : {1, 10, 1000}) {
        EXPECT_EQ(index.Search(q, k, {}), BruteForce(stored, query, k, {})) << round << " " << k;
      }
      const AcceptFn even = [](Offset o) { return o % 2 == 0; };
      EXPECT_EQ(index.Search(q, 10, even), BruteForce(stored, query, 10, even));
      std::vector<Offset> among;
      for (Offset o = 0; o < kPoints; o += 3) {
        among.push_back(o);
      }
      const AcceptFn in_among = [](Offset o) { return o % 3 == 0; };
      EXPECT_EQ(index.SearchAmong(q, 10, among, {}), BruteForce(stored, query, 10, in_among));
      // The two paths score a point the same float.
      for (const Hit& h : index.Search(q, 5, {})) {
        EXPECT_EQ(index.Score(h.offset, q), -h.distance);
        EXPECT_TRUE(index.Overlaps(h.offset, q));
      }
    }
  }
  // Document frequencies are the postings' lengths.
  for (uint32_t dim = 0; dim < 200; dim += 17) {
    uint64_t expected = 0;
    for (const auto& [o, v] : stored) {
      expected += std::count(v.indices.begin(), v.indices.end(), dim);
    }
    EXPECT_EQ(index.DocumentFrequency(dim, {}), expected);
  }
}

TEST(SparseVectorIndexTest, StoresSortedAndRoundTripsItsPersistedForm) {
  SparseVectorIndex index;
  for (int i = 0; i < 4; ++i) {
    index.Append();
  }
  const std::vector<uint32_t> idx = {30, 4, 17};
  const std::vector<float> val = {0.3f, -0.4f, 1.7f};
  index.Set(1, idx, val);
  index.Set(2, std::vector<uint32_t>{}, std::vector<float>{});  // empty: present, scores nothing
  EXPECT_TRUE(index.has(2));
  EXPECT_FALSE(index.has(0));
  const SparseVectorIndex::View v = index.Get(1);
  EXPECT_EQ(std::vector<uint32_t>(v.indices.begin(), v.indices.end()),
            (std::vector<uint32_t>{4, 17, 30}));
  EXPECT_EQ(std::vector<float>(v.values.begin(), v.values.end()),
            (std::vector<float>{-0.4f, 1.7f, 0.3f}));

  std::string bytes;
  index.EncodeTo(&bytes);
  SparseVectorIndex loaded;
  Decoder d(bytes);
  ASSERT_TRUE(loaded.DecodeFrom(&d, 4));
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(loaded.count(), 2u);
  EXPECT_TRUE(loaded.has(2));
  const std::vector<uint32_t> qi = {4, 30};
  const std::vector<float> qv = {1.0f, 1.0f};
  EXPECT_EQ(loaded.Search({qi, qv}, 10, {}), index.Search({qi, qv}, 10, {}));
  ASSERT_EQ(loaded.Search({qi, qv}, 10, {}).size(), 1u);
  EXPECT_FLOAT_EQ(loaded.Search({qi, qv}, 10, {})[0].distance, -(-0.4f + 0.3f));

  // Every truncation is refused.
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    SparseVectorIndex partial;
    Decoder dd(std::string_view(bytes).substr(0, cut));
    EXPECT_FALSE(partial.DecodeFrom(&dd, 4)) << cut;
  }
}

}  // namespace
}  // namespace tessera::index

// ---- multivectors (index/multi_dense_storage.h) ----

namespace tessera::index {
namespace {

// MaxSim as Qdrant defines it, written out: sum over query rows of the best similarity.
float OracleMaxSim(Metric metric, const std::vector<float>& query, const std::vector<float>& doc,
                   size_t dim) {
  float sum = 0;
  for (size_t q = 0; q < query.size(); q += dim) {
    float best = -std::numeric_limits<float>::infinity();
    for (size_t d = 0; d < doc.size(); d += dim) {
      float sim = 0;
      for (size_t i = 0; i < dim; ++i) {
        const float a = query[q + i], b = doc[d + i];
        switch (metric) {
          case Metric::kCosine:
          case Metric::kDot:
            sim += a * b;
            break;
          case Metric::kEuclid:
            sim -= (a - b) * (a - b);
            break;
          case Metric::kManhattan:
            sim -= std::fabs(a - b);
            break;
        }
      }
      best = std::max(best, sim);
    }
    sum += best;
  }
  return sum;
}

TEST(MultiDenseStorageTest, MaxSimSearchMatchesTheOracleForEveryMetric) {
  std::mt19937 rng(3);
  std::normal_distribution<float> g(0, 1);
  std::uniform_int_distribution<size_t> rows(1, 5);
  constexpr size_t kDim = 6;
  for (Metric metric : {Metric::kDot, Metric::kCosine, Metric::kEuclid, Metric::kManhattan}) {
    MultiDenseStorage s(metric, kDim);
    std::vector<std::vector<float>> docs(200);
    for (Offset o = 0; o < docs.size(); ++o) {
      s.Append();
      if (o % 9 == 4) {
        continue;  // no multivector
      }
      docs[o].resize(rows(rng) * kDim);
      for (float& x : docs[o]) x = g(rng);
      s.Set(o, docs[o]);
    }
    s.Clear(10);
    docs[10].clear();
    for (int qn = 0; qn < 10; ++qn) {
      std::vector<float> query(rows(rng) * kDim);
      for (float& x : query) x = g(rng);
      std::vector<Hit> want;
      for (Offset o = 0; o < docs.size(); ++o) {
        if (!docs[o].empty() && o % 2 == 0) {
          want.push_back({o, -OracleMaxSim(metric, query, docs[o], kDim)});
        }
      }
      std::sort(want.begin(), want.end(), [](const Hit& a, const Hit& b) {
        return a.distance < b.distance || (a.distance == b.distance && a.offset < b.offset);
      });
      want.resize(7);
      const auto got = s.ExactSearch(query, 7, [](Offset o) { return o % 2 == 0; });
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].offset, want[i].offset) << static_cast<int>(metric);
        EXPECT_NEAR(got[i].distance, want[i].distance, 1e-4);
      }
      std::vector<Offset> among = {0, 2, 4, 6, 8, 10};
      for (const Hit& h : s.ExactSearchAmong(query, 10, among, {})) {
        EXPECT_NE(std::find(among.begin(), among.end(), h.offset), among.end());
        EXPECT_NE(h.offset, 4u);   // no multivector
        EXPECT_NE(h.offset, 10u);  // cleared
      }
    }
    std::string bytes;
    s.EncodeTo(&bytes);
    MultiDenseStorage loaded(metric, kDim);
    Decoder d(bytes);
    ASSERT_TRUE(loaded.DecodeFrom(&d, docs.size()));
    EXPECT_TRUE(d.empty());
    for (Offset o = 0; o < docs.size(); ++o) {
      const auto row = loaded.Get(o);
      EXPECT_EQ(std::vector<float>(row.begin(), row.end()), docs[o]) << o;
    }
    for (size_t cut = 0; cut + 1 < bytes.size(); cut += 97) {
      MultiDenseStorage partial(metric, kDim);
      Decoder dd(std::string_view(bytes).substr(0, cut));
      EXPECT_FALSE(partial.DecodeFrom(&dd, docs.size())) << cut;
    }
  }
}

}  // namespace
}  // namespace tessera::index

#pragma once

// Shared by the end-to-end benchmark binaries (scripts/bench.sh): dataset files, the seeded
// clustered generator of ../shared/data/SOURCES.md, recall, percentiles, result lines.
//
// Files: vectors are .fbin (u32 n, u32 dim, n*dim float32), ground truth is .ibin (u32 nq,
// u32 k, nq*k int32 ids of the exact nearest base rows, nearest first).
// Results: one JSON object per line on stdout, merged into bench/RESULTS.md by bench/report.py.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

struct Matrix {
  uint32_t n = 0, dim = 0;
  std::vector<float> data;
  const float* row(size_t i) const { return data.data() + i * dim; }
};

inline Matrix ReadFbin(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Matrix m;
  if (!in.read(reinterpret_cast<char*>(&m.n), 4) || !in.read(reinterpret_cast<char*>(&m.dim), 4)) {
    throw std::runtime_error("cannot read " + path);
  }
  m.data.resize(size_t{m.n} * m.dim);
  if (!in.read(reinterpret_cast<char*>(m.data.data()),
               static_cast<std::streamsize>(m.data.size() * sizeof(float)))) {
    throw std::runtime_error("short file " + path);
  }
  return m;
}

inline void WriteFbin(const std::string& path, const Matrix& m) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(&m.n), 4);
  out.write(reinterpret_cast<const char*>(&m.dim), 4);
  out.write(reinterpret_cast<const char*>(m.data.data()),
            static_cast<std::streamsize>(m.data.size() * sizeof(float)));
}

struct GroundTruth {
  uint32_t nq = 0, k = 0;
  std::vector<int32_t> ids;
};

inline GroundTruth ReadIbin(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  GroundTruth g;
  if (!in.read(reinterpret_cast<char*>(&g.nq), 4) || !in.read(reinterpret_cast<char*>(&g.k), 4)) {
    throw std::runtime_error("cannot read " + path);
  }
  g.ids.resize(size_t{g.nq} * g.k);
  in.read(reinterpret_cast<char*>(g.ids.data()),
          static_cast<std::streamsize>(g.ids.size() * sizeof(int32_t)));
  return g;
}

inline void WriteIbin(const std::string& path, const GroundTruth& g) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(&g.nq), 4);
  out.write(reinterpret_cast<const char*>(&g.k), 4);
  out.write(reinterpret_cast<const char*>(g.ids.data()),
            static_cast<std::streamsize>(g.ids.size() * sizeof(int32_t)));
}

// SOURCES.md's make_clustered: k = sqrt(n) Gaussian clusters in an r-dimensional latent space
// (r = 32 for d <= 256, else 64), centres ~ N(0,1), Zipf-like sizes (weight ~ rank^-0.7), spread
// sigma_c ~ U(0.5, 1.5), a fixed random r x d linear map, then isotropic noise at 0.2 x the
// per-coordinate signal std. Base rows and queries are draws from the same mixture.
inline void MakeClustered(uint32_t n, uint32_t nq, uint32_t d, uint32_t seed, Matrix* base,
                          Matrix* queries) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> gauss(0, 1);
  std::uniform_real_distribution<double> uni(0.5, 1.5);
  const uint32_t r = d <= 256 ? 32 : 64;
  const auto k = static_cast<uint32_t>(std::max(1.0, std::sqrt(static_cast<double>(n))));
  std::vector<double> centres(size_t{k} * r), sigma(k), weights(k);
  for (double& c : centres)
    c = gauss(rng);
  for (uint32_t c = 0; c < k; ++c) {
    sigma[c] = uni(rng);
    weights[c] = std::pow(static_cast<double>(c + 1), -0.7);
  }
  std::vector<double> map(size_t{r} * d);
  for (double& m : map)
    m = gauss(rng) / std::sqrt(static_cast<double>(r));
  std::discrete_distribution<uint32_t> pick(weights.begin(), weights.end());
  auto draw = [&](Matrix* out, uint32_t count) {
    out->n = count;
    out->dim = d;
    out->data.assign(size_t{count} * d, 0);
    std::vector<double> latent(r);
    for (uint32_t i = 0; i < count; ++i) {
      const uint32_t c = pick(rng);
      for (uint32_t j = 0; j < r; ++j)
        latent[j] = centres[size_t{c} * r + j] + sigma[c] * gauss(rng);
      for (uint32_t j = 0; j < d; ++j) {
        double v = 0;
        for (uint32_t t = 0; t < r; ++t)
          v += latent[t] * map[size_t{t} * d + j];
        out->data[size_t{i} * d + j] = static_cast<float>(v);
      }
    }
  };
  draw(base, n);
  draw(queries, nq);
  // Noise at 0.2 x the per-coordinate signal std, measured on the base rows.
  double sum = 0, sq = 0;
  for (float v : base->data) {
    sum += v;
    sq += double{v} * v;
  }
  const double count = static_cast<double>(base->data.size());
  const double std_dev = std::sqrt(std::max(0.0, sq / count - (sum / count) * (sum / count)));
  for (Matrix* m : {base, queries}) {
    for (float& v : m->data)
      v += static_cast<float>(0.2 * std_dev * gauss(rng));
  }
}

// Mean share of the true top-k found among the first k results of each query.
inline double Recall(const GroundTruth& gt, const std::vector<std::vector<int64_t>>& results,
                     uint32_t k) {
  double found = 0;
  for (size_t q = 0; q < results.size(); ++q) {
    std::set<int64_t> truth(gt.ids.begin() + static_cast<long>(q * gt.k),
                            gt.ids.begin() + static_cast<long>(q * gt.k + k));
    size_t hits = 0;
    for (size_t i = 0; i < std::min<size_t>(k, results[q].size()); ++i) {
      hits += truth.count(results[q][i]);
    }
    found += static_cast<double>(hits) / k;
  }
  return results.empty() ? 0 : found / static_cast<double>(results.size());
}

inline double Percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

// "16,32,64" -> {16, 32, 64}
inline std::vector<int> ParseList(const std::string& s) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t comma = std::min(s.find(',', pos), s.size());
    out.push_back(std::stoi(s.substr(pos, comma - pos)));
    pos = comma + 1;
  }
  return out;
}

inline double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// One timed pass over the queries: wall time, per-request latencies, the ids each query found.
struct Pass {
  double seconds = 0;
  std::vector<double> latencies_us;
  std::vector<std::vector<int64_t>> results;
};

// How many passes each measurement takes (env BENCH_ROUNDS, default 3).
inline int Rounds() {
  const char* env = std::getenv("BENCH_ROUNDS");
  const int rounds = env != nullptr ? std::atoi(env) : 3;
  return std::max(rounds, 1);
}

// Runs `pass()` Rounds() times and keeps the fastest. The machine shares its cores and caches
// with neighbours (run-to-run spread of 20-30% was seen on one binary): the fastest pass is the
// least disturbed, for every system alike.
template <typename Fn>
Pass Fastest(Fn pass) {
  Pass best;
  for (int r = 0; r < Rounds(); ++r) {
    Pass p = pass();
    if (r == 0 || p.seconds < best.seconds) {
      best = std::move(p);
    }
  }
  return best;
}

// Resident set size of a process (self if pid is 0), in bytes, from /proc.
inline uint64_t RssBytes(int pid = 0) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/status")
                            : "/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stoull(line.substr(6)) * 1024;
    }
  }
  return 0;
}

// One search measurement as a result line: `count` queries in `pass.seconds`, per-request
// latencies in microseconds, recall@10 of `pass.results` against `gt`.
inline void PrintSearch(const std::string& dataset, const std::string& system,
                        const std::string& mode, int ef, size_t count, const Pass& pass,
                        const GroundTruth& gt) {
  const double seconds = pass.seconds;
  const std::vector<double>& latencies_us = pass.latencies_us;
  const std::vector<std::vector<int64_t>>& results = pass.results;
  std::printf(
      "{\"kind\":\"search\",\"dataset\":\"%s\",\"system\":\"%s\",\"mode\":\"%s\",\"ef\":%d,"
      "\"qps\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"recall\":%.4f}\n",
      dataset.c_str(), system.c_str(), mode.c_str(), ef, static_cast<double>(count) / seconds,
      Percentile(latencies_us, 0.5), Percentile(latencies_us, 0.99), Recall(gt, results, 10));
  std::fflush(stdout);
}

}  // namespace bench

// Scale check for the durable core: load N points (default 1,000,000 x 16 floats), let the
// optimizer index them, shut down cleanly, reopen, and show that no HNSW graph is rebuilt:
// the graphs are loaded from disk and the collection is green at once. Prints one line of
// figures; exits non-zero on any failed check. Run by scripts/scale-test.sh.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include "engine/collection.h"

using namespace tessera;
using namespace tessera::engine;
using Clock = std::chrono::steady_clock;

static double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

#define CHECK(cond)                                              \
  do {                                                           \
    if (!(cond)) {                                               \
      std::fprintf(stderr, "check failed: %s (line %d)\n", #cond, __LINE__); \
      return 1;                                                  \
    }                                                            \
  } while (0)

int main() {
  const size_t n = std::getenv("SCALE_POINTS") ? std::strtoull(std::getenv("SCALE_POINTS"), nullptr, 10) : 1000000;
  const size_t dim = 16;
  const char* tmp = std::getenv("TMPDIR");
  const std::filesystem::path dir =
      std::filesystem::path(tmp ? tmp : "/tmp") / ("tessera-scale-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  CollectionConfig config;
  config.vectors[""] = VectorParams{.size = dim, .distance = Distance::kEuclid};
  std::mt19937 rng(7);
  std::normal_distribution<float> gauss(0, 1);
  std::vector<float> centres(64 * dim);
  for (float& c : centres) {
    c = gauss(rng) * 4;
  }
  uint64_t indexed = 0, segments = 0;
  double upload_s = 0, index_s = 0;
  {
    auto c = std::move(Collection::Create("scale", dir / "scale", config)).value();
    const auto start = Clock::now();
    SeqNo last = 0;
    for (size_t base = 0; base < n; base += 1000) {
      UpsertOp op;
      for (size_t i = base; i < std::min(n, base + 1000); ++i) {
        std::vector<float> v(dim);
        const size_t k = rng() % 64;
        for (size_t d = 0; d < dim; ++d) {
          v[d] = centres[k * dim + d] + gauss(rng);
        }
        op.points.push_back(PointStruct{PointId::Num(i), {{"", std::move(v)}}, {}});
      }
      Result<SeqNo> seq = c->Submit({std::move(op)}, Durability::kWritten);
      CHECK(seq.ok());
      last = *seq;
    }
    CHECK(c->WaitApplied(last, Clock::now() + std::chrono::hours(1)));
    upload_s = Seconds(start);
    const auto index_start = Clock::now();
    while (c->Info().status != CollectionStatus::kGreen) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    index_s = Seconds(index_start);
    CHECK(c->Flush().ok());
    const CollectionInfo info = c->Info();
    CHECK(info.points_count == n);
    indexed = info.indexed_vectors_count;
    segments = info.segments_count;
    std::printf("loaded: points=%zu segments=%llu indexed=%llu upload_s=%.1f index_s=%.1f built=%llu\n",
                n, (unsigned long long)segments, (unsigned long long)indexed, upload_s, index_s,
                (unsigned long long)c->graphs_built());
    std::fflush(stdout);
  }
  const auto reopen_start = Clock::now();
  auto c = std::move(Collection::Open("scale", dir / "scale")).value();
  const double reopen_s = Seconds(reopen_start);
  const CollectionInfo info = c->Info();
  CHECK(info.points_count == n);
  CHECK(info.indexed_vectors_count == indexed);
  CHECK(info.status == CollectionStatus::kGreen);
  CHECK(c->graphs_built() == 0);
  // Each of a few points finds itself first.
  size_t self_found = 0;
  for (uint64_t id = 0; id < n; id += n / 50) {
    auto rec = c->Retrieve({PointId::Num(id)}, false, true);
    SearchRequest r{.vector_name = "", .query = std::get<DenseVector>(rec[0].vectors.at("")),
                    .limit = 1};
    auto hits = c->Search(r);
    self_found += hits.ok() && !hits->empty() && (*hits)[0].record.id == PointId::Num(id);
  }
  std::printf("points=%zu segments=%llu indexed=%llu upload_s=%.1f index_s=%.1f reopen_s=%.2f "
              "graphs_rebuilt=%llu self_found=%zu/50\n",
              n, (unsigned long long)segments, (unsigned long long)indexed, upload_s, index_s,
              reopen_s, (unsigned long long)c->graphs_built(), self_found);
  c.reset();
  std::filesystem::remove_all(dir);
  return 0;
}

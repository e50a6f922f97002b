#include "engine/thread_pool.h"

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace tessera::engine {
namespace {

TEST(ThreadPoolTest, ParallelForRunsEveryItemOnceAndWaitsForAll) {
  ThreadPool pool(3);
  for (size_t n : {0u, 1u, 2u, 7u, 100u}) {
    std::vector<std::atomic<int>> runs(n);
    pool.ParallelFor(n, [&](size_t i) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      ++runs[i];
    });
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(runs[i].load(), 1) << "item " << i << " of " << n;
    }
  }
}

TEST(ThreadPoolTest, ItemsRunOnSeveralThreadsIncludingTheCaller) {
  ThreadPool pool(2);
  std::mutex mu;
  std::set<std::thread::id> threads;
  pool.ParallelFor(64, [&](size_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::lock_guard lock(mu);
    threads.insert(std::this_thread::get_id());
  });
  EXPECT_GE(threads.size(), 2u);
  EXPECT_LE(threads.size(), 3u);  // two pool threads and the caller
}

// Callers from many threads at once share the pool; none waits for another's items forever,
// because each caller works through its own items too.
TEST(ThreadPoolTest, ConcurrentCallersAllFinish) {
  ThreadPool pool(1);
  std::atomic<size_t> total{0};
  std::vector<std::jthread> callers;
  for (int c = 0; c < 8; ++c) {
    callers.emplace_back([&] {
      for (int r = 0; r < 50; ++r) {
        pool.ParallelFor(4, [&](size_t) { ++total; });
      }
    });
  }
  callers.clear();
  EXPECT_EQ(total.load(), 8u * 50u * 4u);
}

}  // namespace
}  // namespace tessera::engine

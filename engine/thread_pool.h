#pragma once

// A fixed set of worker threads for work that fans out within one request (a search over
// several large segments), instead of a thread per segment per query. The caller takes part:
// ParallelFor runs items on the caller's thread too, so a pool busy with other requests
// delays a request but never deadlocks it.
//
// Thread-safety: ParallelFor from any thread, except from inside one of its own items.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/lock_order.h"

namespace tessera::engine {

class ThreadPool {
 public:
  explicit ThreadPool(size_t threads);
  ~ThreadPool();  // finishes queued tasks, joins
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Runs fn(i) for every i in [0, n), on up to size() pool threads and the caller's; returns
  // once every call has returned. fn must not throw.
  void ParallelFor(size_t n, const std::function<void(size_t)>& fn);
  size_t size() const { return threads_.size(); }

  // The process's search pool: one thread per core, started on first use.
  static ThreadPool& Search();

 private:
  void Run();

  RankedMutex mu_{LockRank::kThreadPool, "ThreadPool::mu_"};
  std::condition_variable_any cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::jthread> threads_;        // last
};

}  // namespace tessera::engine

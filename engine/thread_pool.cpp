#include "engine/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <memory>

namespace tessera::engine {

ThreadPool::ThreadPool(size_t threads) {
  for (size_t i = 0; i < std::max<size_t>(1, threads); ++i) {
    threads_.emplace_back([this] { Run(); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  threads_.clear();  // joins
}

ThreadPool& ThreadPool::Search() {
  static ThreadPool pool(std::max(1u, std::thread::hardware_concurrency()));
  return pool;
}

void ThreadPool::Run() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) {
        return;
      }
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

void ThreadPool::ParallelFor(size_t n, const std::function<void(size_t)>& fn) {
  if (n == 0) {
    return;
  }
  // Shared with the helpers, which may outlive this call by the moment it takes them to see
  // that no item is left.
  struct State {
    std::atomic<size_t> next{0};
    std::mutex mu;
    std::condition_variable cv;
    size_t done = 0;  // guarded by mu
  };
  auto state = std::make_shared<State>();
  auto work = [state, n, &fn] {
    for (size_t i; (i = state->next.fetch_add(1)) < n;) {
      fn(i);
      std::lock_guard lock(state->mu);
      if (++state->done == n) {
        state->cv.notify_all();
      }
    }
  };
  const size_t helpers = std::min(n - 1, threads_.size());
  if (helpers > 0) {
    {
      std::lock_guard lock(mu_);
      for (size_t h = 0; h < helpers; ++h) {
        tasks_.emplace_back(work);
      }
    }
    cv_.notify_all();
  }
  work();
  std::unique_lock lock(state->mu);
  state->cv.wait(lock, [&] { return state->done == n; });
}

}  // namespace tessera::engine

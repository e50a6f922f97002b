#pragma once

// The process's one lock order, checked at run time. Every mutex of wal/, engine/ and api/ that
// another lock may be held around is a RankedMutex (or RankedSharedMutex) with a rank from the
// table below; a thread may acquire one only while every ranked mutex it already holds has a
// lower rank. Each acquisition checks this against a thread-local list of the ranks held, so
// every run of the test suite checks the order at every place a lock is taken — whether or not
// two threads ever meet there, which is what a deadlock detector needs (ThreadSanitizer's
// cannot be used: hnswlib's mutex per graph node swamps it). A violation logs both locks and
// aborts: it is a deadlock waiting to happen. try_lock is not checked (it cannot wait).
//
// Condition variables wait through the lock's unlock/lock, so use std::condition_variable_any
// with these (a re-acquisition after a wait is checked too).

#include <mutex>
#include <shared_mutex>

namespace tessera {

// Lower first. Gaps leave room. Where two locks are never held together their order is free;
// the table still orders them, so any future nesting is checked against one total order.
enum class LockRank : int {
  kCatalogRestore = 10,    // engine/catalog.h: one restore at a time
  kCatalogChange = 20,     // engine/catalog.h: serialises changes, held across their I/O
  kCatalogMap = 30,        // engine/catalog.h: the maps, held briefly
  kFlush = 40,             // engine/flusher.h: held across a flush's file I/O
  kOptimizer = 45,         // engine/optimizer.h: its wake-up
  kConfigWrite = 50,       // engine/collection.h: config changes, across the file's fsync
  kSubmit = 60,            // engine/collection.h: WAL order = apply order
  kSegments = 70,          // engine/segment_set.h: the segment state (shared for reads)
  kUpdateQueue = 80,       // engine/update_worker.h
  kWal = 90,               // wal/log.h: files and appends
  kWalSync = 92,           // wal/log.h: the group commit
  kThreadPool = 100,       // engine/thread_pool.h: search fan-out (under kSegments)
  kLeaf = 200,             // held alone around plain data: config, stats, status, metrics
};

namespace lock_order {
// Checks `rank` against the ranks this thread holds (aborting on a violation), then records it.
void Acquire(LockRank rank, const char* name);
// Records that the thread holds it (a successful try_lock), unchecked.
void Held(LockRank rank, const char* name);
void Release(LockRank rank);
}  // namespace lock_order

template <typename M>
class Ranked {
 public:
  Ranked(LockRank rank, const char* name) : rank_(rank), name_(name) {}
  Ranked(const Ranked&) = delete;
  Ranked& operator=(const Ranked&) = delete;

  void lock() {
    lock_order::Acquire(rank_, name_);
    m_.lock();
  }
  bool try_lock() {
    if (!m_.try_lock()) {
      return false;
    }
    lock_order::Held(rank_, name_);
    return true;
  }
  void unlock() {
    m_.unlock();
    lock_order::Release(rank_);
  }
  // Shared mutexes only.
  void lock_shared() {
    lock_order::Acquire(rank_, name_);
    m_.lock_shared();
  }
  bool try_lock_shared() {
    if (!m_.try_lock_shared()) {
      return false;
    }
    lock_order::Held(rank_, name_);
    return true;
  }
  void unlock_shared() {
    m_.unlock_shared();
    lock_order::Release(rank_);
  }

 private:
  M m_;
  const LockRank rank_;
  const char* const name_;
};

using RankedMutex = Ranked<std::mutex>;
using RankedSharedMutex = Ranked<std::shared_mutex>;

}  // namespace tessera

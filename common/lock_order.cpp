#include "common/lock_order.h"

#include <cstddef>
#include <cstdio>
#include <cstdlib>

namespace tessera::lock_order {

namespace {

struct HeldLock {
  LockRank rank;
  const char* name;
};

// The ranked locks this thread holds, in acquisition order: a handful at most (one per rank).
// Trivially destructible on purpose: static destructors run after the main thread's
// thread_locals are gone, and may still take locks.
constexpr size_t kMaxHeld = 32;
struct HeldLocks {
  HeldLock locks[kMaxHeld];
  size_t count;
};
thread_local HeldLocks held;

void Push(LockRank rank, const char* name) {
  if (held.count == kMaxHeld) {
    std::fprintf(stderr, "lock order: more than %zu ranked locks held by one thread\n", kMaxHeld);
    std::abort();
  }
  held.locks[held.count++] = {rank, name};
}

}  // namespace

void Acquire(LockRank rank, const char* name) {
  for (size_t i = 0; i < held.count; ++i) {
    const HeldLock& h = held.locks[i];
    if (h.rank >= rank) {
      // No logging machinery here: it may itself lock. One line to stderr, then abort.
      std::fprintf(stderr,
                   "lock order violated: acquiring %s (rank %d) while holding %s (rank %d); "
                   "see common/lock_order.h\n",
                   name, static_cast<int>(rank), h.name, static_cast<int>(h.rank));
      std::abort();
    }
  }
  Push(rank, name);
}

void Held(LockRank rank, const char* name) {
  Push(rank, name);
}

void Release(LockRank rank) {
  for (size_t i = held.count; i-- > 0;) {
    if (held.locks[i].rank == rank) {
      for (size_t j = i + 1; j < held.count; ++j) {
        held.locks[j - 1] = held.locks[j];
      }
      --held.count;
      return;
    }
  }
}

}  // namespace tessera::lock_order

// The run-time lock order (common/lock_order.h): locks taken in rank order pass, in any other
// order abort with both locks named, before the second one is waited on.

#include "common/lock_order.h"

#include <condition_variable>
#include <thread>

#include <gtest/gtest.h>

namespace tessera {
namespace {

TEST(LockOrderTest, AscendingRanksReleasedInAnyOrderPass) {
  RankedMutex low(LockRank::kFlush, "low");
  RankedSharedMutex mid(LockRank::kSegments, "mid");
  RankedMutex high(LockRank::kLeaf, "high");
  {
    std::unique_lock a(low);
    std::shared_lock b(mid);
    std::lock_guard c(high);
    a.unlock();  // out of order: the others stay held
  }
  // Everything was released: the same locks again, another order of nesting.
  std::lock_guard b(mid);
  std::lock_guard c(high);
}

TEST(LockOrderTest, AWaitReacquiresItsLockUnderTheSameCheck) {
  RankedMutex mu(LockRank::kUpdateQueue, "queue");
  std::condition_variable_any cv;
  bool ready = false;
  std::thread t([&] {
    std::lock_guard lock(mu);
    ready = true;
    cv.notify_one();
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return ready; });
  }
  t.join();
}

TEST(LockOrderDeathTest, AnInversionAbortsNamingBothLocks) {
  RankedMutex submit(LockRank::kSubmit, "Collection::submit_mu_");
  RankedMutex flush(LockRank::kFlush, "Flusher::flush_mu_");
  EXPECT_DEATH(
      {
        std::lock_guard a(submit);
        std::lock_guard b(flush);
      },
      "lock order violated: acquiring Flusher::flush_mu_ \\(rank 40\\) while holding "
      "Collection::submit_mu_ \\(rank 60\\)");
}

TEST(LockOrderDeathTest, TwoLocksOfOneRankAbort) {
  // Two collections' submit locks nested: a deadlock if another thread nests them the other way.
  RankedMutex one(LockRank::kSubmit, "one");
  RankedMutex two(LockRank::kSubmit, "two");
  EXPECT_DEATH(
      {
        std::lock_guard a(one);
        std::lock_guard b(two);
      },
      "acquiring two .* while holding one");
  // A shared lock taken again by its holder is the same mistake (it can deadlock behind a writer).
  RankedSharedMutex state(LockRank::kSegments, "state");
  EXPECT_DEATH(
      {
        std::shared_lock a(state);
        std::shared_lock b(state);
      },
      "acquiring state .* while holding state");
}

TEST(LockOrderTest, TryLockIsRecordedNotChecked) {
  RankedMutex high(LockRank::kLeaf, "high");
  RankedMutex low(LockRank::kFlush, "low");
  std::lock_guard a(high);
  ASSERT_TRUE(low.try_lock());  // cannot wait, so cannot deadlock
  low.unlock();
}

}  // namespace
}  // namespace tessera

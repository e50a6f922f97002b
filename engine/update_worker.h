#pragma once

// Applies operation lists to a collection's segments strictly in log order, each
// all-or-nothing. Records come from whoever appends them to the log (Collection::Submit today;
// a shard's replicated stream later): the worker knows SeqNos and OperationLists, not wal::Log.
//
// ApplyRecord() is the one place an operation list changes segments; recovery calls it for
// replay before the worker starts. Points already at or past a record's seq are skipped, so
// replay over segments that hold a record already is idempotent.
//
// Thread-safety: Enqueue(), WaitApplied() and applied_seq() from any thread. Lock order: the
// worker takes queue_mu_ alone, or under the segment set's lock (never the other way); callers may
// hold their own locks (Collection's submit_mu_) around Enqueue().

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "common/lock_order.h"
#include "engine/collection_config.h"
#include "engine/operations.h"
#include "engine/segment_set.h"

namespace tessera::engine {

// Applies one record. requires segments.mu() exclusive. A list that fails its check (a point
// it needs is missing) is skipped whole and the check's status returned.
// `config`, when given, is the collection's config in effect: a filter's text conditions meet
// the text indexes it declares (filter.h BoundFilter).
Status ApplyRecord(SegmentSet& segments, SeqNo seq, const OperationList& ops,
                   const CollectionConfig* config = nullptr);

class UpdateWorker {
 public:
  struct Hooks {
    // After a record, under the segment lock: whether the appendable segment should be sealed.
    std::function<bool(const Segment& appendable)> appendable_full;
    // After a seal, without locks (wakes the optimizer).
    std::function<void()> sealed;
    // After a record is applied, before applied_seq() moves to it, without locks.
    std::function<void(SeqNo seq, const OperationList& ops)> applied;
    // The config in effect (for filters' text indexes); may be empty.
    std::function<std::shared_ptr<const CollectionConfig>()> config;
  };

  // `segments` must outlive this. `applied` is the last record already in the segments.
  UpdateWorker(std::string name, SegmentSet& segments, SeqNo applied, Hooks hooks);
  ~UpdateWorker();  // Stop()

  void Start();
  // Applies every queued record, then joins the thread.
  void Stop();

  void Enqueue(SeqNo seq, OperationList ops);
  // True once `seq` is applied (visible to reads); false if `deadline` passes first.
  bool WaitApplied(SeqNo seq, std::chrono::steady_clock::time_point deadline) const;
  SeqNo applied_seq() const;
  // Once `seq` is applied: OK, or why its list was skipped whole (a point it needs was gone
  // by then, which Submit cannot always foresee). Kept for the last kFailuresKept failures.
  Status Outcome(SeqNo seq) const;
  static constexpr size_t kFailuresKept = 4096;

 private:
  void Run(std::stop_token stop);

  const std::string name_;
  SegmentSet& segments_;
  const Hooks hooks_;
  mutable RankedMutex queue_mu_{LockRank::kUpdateQueue, "UpdateWorker::queue_mu_"};
  std::condition_variable_any queue_cv_;
  std::deque<std::pair<SeqNo, OperationList>> queue_;  // guarded by queue_mu_
  SeqNo applied_seq_ = 0;                              // guarded by queue_mu_
  std::map<SeqNo, Status> failures_;                   // guarded by queue_mu_
  mutable std::condition_variable_any applied_cv_;
  std::jthread thread_;  // last: started after, and joined before, the rest
};

}  // namespace tessera::engine

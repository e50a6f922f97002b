#include "engine/update_worker.h"

#include <cstdlib>
#include <unordered_map>

#include "common/logging.h"
#include "engine/payload.h"

namespace tessera::engine {

Status ApplyRecord(SegmentSet& set, SeqNo seq, const OperationList& ops) {
  std::unordered_map<PointId, bool, PointIdHash> skip;
  auto skipped = [&](const PointId& id) {
    auto [it, inserted] = skip.try_emplace(id, false);
    if (inserted) {
      it->second = set.Version(id) >= seq;  // replay of a write this point already has
    }
    return it->second;
  };
  TESSERA_RETURN_IF_ERROR(
      CheckList(ops, [&](const PointId& id) { return skipped(id) || set.Locate(id).has_value(); }));

  Segment& app = set.mutable_appendable();
  const size_t app_index = set.segments().size() - 1;
  auto writable = [&](const PointId& id) -> std::optional<Offset> {
    if (skipped(id)) {
      return std::nullopt;
    }
    auto loc = set.Locate(id);
    if (!loc) {
      return std::nullopt;  // unreachable after CheckList
    }
    const Offset o = set.MakeWritable(*loc, seq);
    app.SetVersion(o, seq);
    return o;
  };
  for (const Operation& op : ops) {
    if (const auto* upsert = std::get_if<UpsertOp>(&op)) {
      for (const PointStruct& p : upsert->points) {
        if (skipped(p.id)) {
          continue;
        }
        if (auto loc = set.Locate(p.id); loc && loc->segment != app_index) {
          set.mutable_segment(loc->segment).Delete(loc->offset, seq);
        }
        app.Put(p.id, seq, p.vectors, p.payload);
      }
    } else if (const auto* del = std::get_if<DeletePointsOp>(&op)) {
      for (const PointId& id : del->ids) {
        if (skipped(id)) {
          continue;
        }
        if (auto loc = set.Locate(id)) {
          set.mutable_segment(loc->segment).Delete(loc->offset, seq);
        }
      }
    } else if (const auto* set_payload = std::get_if<SetPayloadOp>(&op)) {
      for (const PointId& id : set_payload->ids) {
        if (auto o = writable(id)) {
          SetPayloadAt(app.mutable_payload(*o), set_payload->key, set_payload->payload);
        }
      }
    } else if (const auto* overwrite = std::get_if<OverwritePayloadOp>(&op)) {
      for (const PointId& id : overwrite->ids) {
        if (auto o = writable(id)) {
          ReplacePayloadAt(app.mutable_payload(*o), overwrite->key, overwrite->payload);
        }
      }
    } else if (const auto* delete_payload = std::get_if<DeletePayloadOp>(&op)) {
      for (const PointId& id : delete_payload->ids) {
        if (auto o = writable(id)) {
          for (const std::string& key : delete_payload->keys) {
            DeletePayloadPath(app.mutable_payload(*o), key);
          }
        }
      }
    } else if (const auto* clear = std::get_if<ClearPayloadOp>(&op)) {
      for (const PointId& id : clear->ids) {
        if (auto o = writable(id)) {
          app.mutable_payload(*o).clear();
        }
      }
    } else if (const auto* update = std::get_if<UpdateVectorsOp>(&op)) {
      for (const PointVectors& p : update->points) {
        if (auto o = writable(p.id)) {
          for (const auto& [name, values] : p.vectors) {
            const int v = app.VectorIndex(name);
            if (v >= 0) {
              app.SetVector(static_cast<size_t>(v), *o, values);
            }
          }
        }
      }
    } else if (const auto* delete_vectors = std::get_if<DeleteVectorsOp>(&op)) {
      for (const PointId& id : delete_vectors->ids) {
        if (auto o = writable(id)) {
          for (const std::string& name : delete_vectors->names) {
            const int v = app.VectorIndex(name);
            if (v >= 0) {
              app.RemoveVector(static_cast<size_t>(v), *o);
            }
          }
        }
      }
    }
  }
  return Status::Ok();
}

UpdateWorker::UpdateWorker(std::string name, SegmentSet& segments, SeqNo applied, Hooks hooks)
    : name_(std::move(name)),
      segments_(segments),
      hooks_(std::move(hooks)),
      applied_seq_(applied) {}

UpdateWorker::~UpdateWorker() {
  Stop();
}

void UpdateWorker::Start() {
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void UpdateWorker::Stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void UpdateWorker::Enqueue(SeqNo seq, OperationList ops) {
  {
    std::lock_guard lock(queue_mu_);
    queue_.emplace_back(seq, std::move(ops));
  }
  queue_cv_.notify_one();
}

bool UpdateWorker::WaitApplied(SeqNo seq, std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock(queue_mu_);
  return applied_cv_.wait_until(lock, deadline, [&] { return applied_seq_ >= seq; });
}

SeqNo UpdateWorker::applied_seq() const {
  std::lock_guard lock(queue_mu_);
  return applied_seq_;
}

void UpdateWorker::Run(std::stop_token stop) {
  try {
    for (;;) {
      std::pair<SeqNo, OperationList> item;
      {
        std::unique_lock lock(queue_mu_);
        // Drain the queue even when asked to stop: every queued record is applied.
        queue_cv_.wait(lock, stop, [&] { return !queue_.empty(); });
        if (queue_.empty()) {
          return;
        }
        item = std::move(queue_.front());
        queue_.pop_front();
      }
      const SeqNo seq = item.first;
      const OperationList& ops = item.second;
      bool sealed = false;
      {
        std::unique_lock state(segments_.mu());
        if (Status s = ApplyRecord(segments_, seq, ops); !s.ok()) {
          TESSERA_LOG(kWarn) << "collection " << name_ << ": record " << seq
                             << " not applied: " << s.message();
        }
        if (hooks_.appendable_full && hooks_.appendable_full(segments_.appendable())) {
          segments_.SealAppendable();
          sealed = true;
        }
      }
      if (sealed && hooks_.sealed) {
        hooks_.sealed();
      }
      if (hooks_.applied) {
        hooks_.applied(seq, ops);
      }
      {
        std::lock_guard lock(queue_mu_);
        applied_seq_ = seq;
      }
      applied_cv_.notify_all();
    }
  } catch (const std::exception& e) {
    TESSERA_LOG(kError) << "collection " << name_ << ": update worker died: " << e.what();
    std::abort();  // a silent dead worker is worse: restart replays the WAL
  }
}

}  // namespace tessera::engine

#include "engine/update_worker.h"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <unordered_map>

#include "common/logging.h"
#include "engine/indexed_filter.h"
#include "engine/payload.h"
#include "engine/records.h"

namespace tessera::engine {

namespace {

// A point as the operations of one list leave it, step by step: what a filter sees of it.
struct ModelPoint {
  boost::json::object payload;
  std::set<std::string, std::less<>> vectors;  // names of the vectors it has
};

// Resolves every filter selector of `ops` to the ids of the live points it matches at its
// step of the list. Earlier operations of the list are played on a model of the points they
// touch (payloads and vector names), so a filter sees them, as if the list were applied one
// operation at a time (Qdrant's order) - while the segments stay untouched until the whole
// list has passed its check. requires the segment lock.
OperationList ResolveSelectors(const SegmentSet& set, const OperationList& ops,
                               const CollectionConfig* config) {
  const TextIndexLookup text = config != nullptr ? TextIndexesOf(*config) : TextIndexLookup();
  std::unordered_map<PointId, std::optional<ModelPoint>, PointIdHash> model;
  auto current = [&](const PointId& id) -> std::optional<ModelPoint>* {
    auto it = model.find(id);
    if (it != model.end()) {
      return &it->second;
    }
    std::optional<ModelPoint> point;
    if (auto loc = set.Locate(id)) {
      const Segment& s = *set.segments()[loc->segment];
      point.emplace();
      point->payload = s.payload(loc->offset);
      for (size_t v = 0; v < s.specs().size(); ++v) {
        if (s.has_vector(v, loc->offset)) {
          point->vectors.insert(s.specs()[v].name);
        }
      }
    }
    return &model.emplace(id, std::move(point)).first->second;
  };
  auto matching = [&](const Filter& unbound) {
    const BoundFilter bound(&unbound, text);
    const Filter& filter = *bound.get();
    std::vector<PointId> ids;
    for (const auto& s : set.segments()) {
      ForEachMatch(&filter, *s, config, [&](Offset o) {
        if (!model.contains(s->point_id(o))) {
          ids.push_back(s->point_id(o));
        }
      });
    }
    for (const auto& entry : model) {
      const auto& id = entry.first;
      const auto& point = entry.second;  // not a structured binding: lambdas capture it (C++20)
      if (!point) {
        continue;
      }
      const std::function<bool(std::string_view)> has_vector = [&](std::string_view name) {
        return point->vectors.contains(name);
      };
      if (Matches(filter, PointView{id, point->payload, has_vector})) {
        ids.push_back(id);
      }
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  size_t last_filter = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (SelectorFilter(ops[i]) != nullptr) {
      last_filter = i;
    }
  }
  OperationList out = ops;
  for (size_t i = 0; i <= last_filter; ++i) {
    Operation& op = out[i];
    if (const Filter* filter = SelectorFilter(op)) {
      std::vector<PointId> ids = matching(*filter);
      std::visit(
          [&](auto& o) {
            using T = std::decay_t<decltype(o)>;
            if constexpr (!std::is_same_v<T, UpsertOp> && !std::is_same_v<T, UpdateVectorsOp>) {
              o.ids = std::move(ids);
              o.filter.reset();
            }
          },
          op);
    }
    if (i == last_filter) {
      break;  // no later filter needs the model
    }
    // Play the operation on the model.
    auto each = [&](const std::vector<PointId>& ids, const auto& fn) {
      for (const PointId& id : ids) {
        if (std::optional<ModelPoint>* p = current(id); *p) {
          fn(**p);
        }
      }
    };
    if (const auto* upsert = std::get_if<UpsertOp>(&op)) {
      for (const PointStruct& p : upsert->points) {
        ModelPoint m{p.payload, {}};
        for (const auto& [name, values] : p.vectors) {
          m.vectors.insert(name);
        }
        model[p.id] = std::move(m);
      }
    } else if (const auto* del = std::get_if<DeletePointsOp>(&op)) {
      for (const PointId& id : del->ids) {
        model[id].reset();
      }
    } else if (const auto* sp = std::get_if<SetPayloadOp>(&op)) {
      each(sp->ids, [&](ModelPoint& m) { SetPayloadAt(m.payload, sp->key, sp->payload); });
    } else if (const auto* op_over = std::get_if<OverwritePayloadOp>(&op)) {
      each(op_over->ids,
           [&](ModelPoint& m) { ReplacePayloadAt(m.payload, op_over->key, op_over->payload); });
    } else if (const auto* dp = std::get_if<DeletePayloadOp>(&op)) {
      each(dp->ids, [&](ModelPoint& m) {
        for (const std::string& key : dp->keys) {
          DeletePayloadPath(m.payload, key);
        }
      });
    } else if (const auto* cp = std::get_if<ClearPayloadOp>(&op)) {
      each(cp->ids, [&](ModelPoint& m) { m.payload.clear(); });
    } else if (const auto* uv = std::get_if<UpdateVectorsOp>(&op)) {
      for (const PointVectors& p : uv->points) {
        if (std::optional<ModelPoint>* m = current(p.id); *m) {
          for (const auto& [name, values] : p.vectors) {
            (*m)->vectors.insert(name);
          }
        }
      }
    } else if (const auto* dv = std::get_if<DeleteVectorsOp>(&op)) {
      each(dv->ids, [&](ModelPoint& m) {
        for (const std::string& name : dv->names) {
          m.vectors.erase(name);
        }
      });
    }
  }
  return out;
}

}  // namespace

Status ApplyRecord(SegmentSet& set, SeqNo seq, const OperationList& listed,
                   const CollectionConfig* config) {
  const bool by_filter = HasFilterSelector(listed);
  OperationList resolved;
  if (by_filter) {
    resolved = ResolveSelectors(set, listed, config);
  }
  const OperationList& ops = by_filter ? resolved : listed;
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
          app.EditPayload(*o, [&](boost::json::object& payload) {
            SetPayloadAt(payload, set_payload->key, set_payload->payload);
          });
        }
      }
    } else if (const auto* overwrite = std::get_if<OverwritePayloadOp>(&op)) {
      for (const PointId& id : overwrite->ids) {
        if (auto o = writable(id)) {
          app.EditPayload(*o, [&](boost::json::object& payload) {
            ReplacePayloadAt(payload, overwrite->key, overwrite->payload);
          });
        }
      }
    } else if (const auto* delete_payload = std::get_if<DeletePayloadOp>(&op)) {
      for (const PointId& id : delete_payload->ids) {
        if (auto o = writable(id)) {
          app.EditPayload(*o, [&](boost::json::object& payload) {
            for (const std::string& key : delete_payload->keys) {
              DeletePayloadPath(payload, key);
            }
          });
        }
      }
    } else if (const auto* clear = std::get_if<ClearPayloadOp>(&op)) {
      for (const PointId& id : clear->ids) {
        if (auto o = writable(id)) {
          app.EditPayload(*o, [](boost::json::object& payload) { payload.clear(); });
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

Status UpdateWorker::Outcome(SeqNo seq) const {
  std::lock_guard lock(queue_mu_);
  auto it = failures_.find(seq);
  return it == failures_.end() ? Status::Ok() : it->second;
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
        const std::shared_ptr<const CollectionConfig> config =
            hooks_.config ? hooks_.config() : nullptr;
        if (Status s = ApplyRecord(segments_, seq, ops, config.get()); !s.ok()) {
          TESSERA_LOG(kWarn) << "collection " << name_ << ": record " << seq
                             << " not applied: " << s.message();
          std::lock_guard lock(queue_mu_);
          failures_.emplace(seq, std::move(s));
          while (failures_.size() > kFailuresKept) {
            failures_.erase(failures_.begin());
          }
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

#include "engine/id_tracker.h"

#include "common/coding.h"

namespace tessera::engine {

std::optional<Offset> IdTracker::Find(const PointId& id) const {
  auto it = offsets_.find(id);
  if (it == offsets_.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::optional<Offset> IdTracker::FindLive(const PointId& id) const {
  auto o = Find(id);
  if (o && deleted_[*o]) {
    return std::nullopt;
  }
  return o;
}

void IdTracker::Reserve(size_t points) {
  ids_.reserve(points);
  offsets_.reserve(points);
  deleted_.reserve(points);
  versions_.reserve(points);
}

Offset IdTracker::Add(const PointId& id, SeqNo version) {
  const auto o = static_cast<Offset>(ids_.size());
  ids_.push_back(id);
  offsets_.emplace(id, o);
  deleted_.push_back(0);
  versions_.push_back(version);
  ++live_count_;
  return o;
}

void IdTracker::SetDeleted(Offset o, bool deleted) {
  if (deleted_[o] != static_cast<uint8_t>(deleted)) {
    deleted_[o] = deleted ? 1 : 0;
    live_count_ += deleted ? -1 : 1;
  }
}

void IdTracker::EncodeIds(std::string* out) const {
  PutVarint64(out, ids_.size());
  for (const PointId& id : ids_) {
    PutPointId(out, id);
  }
}

bool IdTracker::DecodeIds(Decoder* in) {
  uint64_t n;
  if (!ids_.empty() || !in->GetVarint64(&n) || n > in->remaining()) {  // an id is 2+ bytes
    return false;
  }
  Reserve(n);
  for (uint64_t o = 0; o < n; ++o) {
    PointId id;
    if (!GetPointId(in, &id) || offsets_.contains(id)) {
      return false;
    }
    Add(id, 0);
  }
  return true;
}

void IdTracker::EncodeVersions(const Versions& versions, std::string* out) {
  PutVarint64(out, versions.deleted.size());
  for (size_t o = 0; o < versions.deleted.size(); ++o) {
    PutBool(out, versions.deleted[o] != 0);
    PutVarint64(out, versions.versions[o]);
  }
}

bool IdTracker::DecodeVersions(Decoder* in) {
  uint64_t n;
  if (!in->GetVarint64(&n) || n != ids_.size()) {
    return false;
  }
  for (size_t o = 0; o < n; ++o) {
    bool deleted;
    if (!in->GetBool(&deleted) || !in->GetVarint64(&versions_[o])) {
      return false;
    }
    SetDeleted(static_cast<Offset>(o), deleted);
  }
  return true;
}

}  // namespace tessera::engine

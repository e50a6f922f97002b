#include "engine/segment_set.h"

#include <algorithm>

namespace tessera::engine {

SegmentSet::SegmentSet(std::vector<std::shared_ptr<Segment>> loaded, uint64_t next_segment_id,
                       std::vector<VectorSpec> specs)
    : specs_(std::move(specs)), segments_(std::move(loaded)), next_segment_id_(next_segment_id) {
  if (segments_.empty() || segments_.back()->sealed()) {
    AddAppendable();
  }
}

void SegmentSet::AddAppendable() {
  segments_.push_back(std::make_shared<Segment>(next_segment_id_++, specs_));
}

std::optional<PointLocation> SegmentSet::Locate(const PointId& id) const {
  for (size_t i = segments_.size(); i-- > 0;) {
    if (auto o = segments_[i]->FindLive(id)) {
      return PointLocation{i, *o};
    }
  }
  return std::nullopt;
}

SeqNo SegmentSet::Version(const PointId& id) const {
  SeqNo version = 0;
  for (const auto& s : segments_) {
    if (auto o = s->Find(id)) {
      version = std::max(version, s->version(*o));
    }
  }
  return version;
}

Offset SegmentSet::MakeWritable(PointLocation at, SeqNo seq) {
  Segment& source = *segments_[at.segment];
  Segment& appendable = *segments_.back();
  if (&source == &appendable) {
    return at.offset;
  }
  const Offset moved = appendable.Put(source.point_id(at.offset), seq, source.vectors_of(at.offset),
                                      source.payload(at.offset));
  source.Delete(at.offset, seq);
  return moved;
}

void SegmentSet::SealAppendable() {
  segments_.back()->Seal();
  AddAppendable();
}

bool SegmentSet::Replace(std::span<const std::shared_ptr<Segment>> old,
                         std::shared_ptr<Segment> copy) {
  std::vector<size_t> at;
  for (const auto& o : old) {
    auto it = std::find(segments_.begin(), segments_.end(), o);
    if (it == segments_.end()) {
      return false;
    }
    at.push_back(static_cast<size_t>(it - segments_.begin()));
  }
  if (at.empty()) {
    return false;
  }
  std::sort(at.begin(), at.end());
  segments_[at[0]] = std::move(copy);
  for (size_t i = at.size(); i-- > 1;) {
    segments_.erase(segments_.begin() + static_cast<std::ptrdiff_t>(at[i]));
  }
  return true;
}

}  // namespace tessera::engine

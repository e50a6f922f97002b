#include "engine/filter_codec.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/coding.h"

namespace tessera::engine {

namespace {

void PutScalar(std::string* out, const MatchScalar& m) {
  if (const auto* s = std::get_if<std::string>(&m)) {
    out->push_back(0);
    PutLengthPrefixed(out, *s);
  } else if (const auto* i = std::get_if<int64_t>(&m)) {
    out->push_back(1);
    PutFixed64(out, static_cast<uint64_t>(*i));
  } else {
    out->push_back(2);
    PutBool(out, std::get<bool>(m));
  }
}

void PutScalars(std::string* out, const std::vector<MatchScalar>& values) {
  PutVarint64(out, values.size());
  for (const MatchScalar& m : values) {
    PutScalar(out, m);
  }
}

void PutRange(std::string* out, const RangeBounds& r) {
  const uint8_t bits = (r.gt ? 1 : 0) | (r.gte ? 2 : 0) | (r.lt ? 4 : 0) | (r.lte ? 8 : 0);
  out->push_back(static_cast<char>(bits));
  for (const auto* b : {&r.gt, &r.gte, &r.lt, &r.lte}) {
    if (*b) {
      PutDouble(out, **b);
    }
  }
}

void PutPoint(std::string* out, const GeoPoint& p) {
  PutDouble(out, p.lon);
  PutDouble(out, p.lat);
}

void PutRing(std::string* out, const std::vector<GeoPoint>& ring) {
  PutVarint64(out, ring.size());
  for (const GeoPoint& p : ring) {
    PutPoint(out, p);
  }
}

void PutConditions(std::string* out, const std::vector<Condition>& conditions);

void PutCondition(std::string* out, const Condition& condition) {
  out->push_back(static_cast<char>(condition.index()));
  if (const auto* f = std::get_if<FieldCondition>(&condition)) {
    PutLengthPrefixed(out, f->key);
    const uint8_t parts = (f->match ? 1 : 0) | (f->range ? 2 : 0) | (f->datetime_range ? 4 : 0) |
                          (f->values_count ? 8 : 0) | (f->geo_bounding_box ? 16 : 0) |
                          (f->geo_radius ? 32 : 0) | (f->geo_polygon ? 64 : 0) |
                          (f->is_empty || f->is_null ? 128 : 0);
    out->push_back(static_cast<char>(parts));
    if (parts & 128) {  // one byte: has is_empty, its value, has is_null, its value
      out->push_back(static_cast<char>((f->is_empty ? 1 : 0) | (f->is_empty.value_or(false) ? 2 : 0) |
                                       (f->is_null ? 4 : 0) | (f->is_null.value_or(false) ? 8 : 0)));
    }
    if (f->match) {
      // Match kinds: 0 value, 1 any, 2 except, 3 + MatchText::Kind (3 text, 4 text_any,
      // 5 phrase, 6 prefix; 3 alone in records before the others existed).
      const auto* text = std::get_if<MatchText>(&*f->match);
      out->push_back(static_cast<char>(text != nullptr ? 3 + static_cast<int>(text->kind)
                                                       : static_cast<int>(f->match->index())));
      if (const auto* v = std::get_if<MatchValue>(&*f->match)) {
        PutScalar(out, v->value);
      } else if (const auto* any = std::get_if<MatchAny>(&*f->match)) {
        PutScalars(out, any->values);
      } else if (const auto* except = std::get_if<MatchExcept>(&*f->match)) {
        PutScalars(out, except->values);
      } else {
        PutLengthPrefixed(out, std::get<MatchText>(*f->match).text);
      }
    }
    for (const auto* r : {&f->range, &f->datetime_range, &f->values_count}) {
      if (*r) {
        PutRange(out, **r);
      }
    }
    if (f->geo_bounding_box) {
      PutPoint(out, f->geo_bounding_box->top_left);
      PutPoint(out, f->geo_bounding_box->bottom_right);
    }
    if (f->geo_radius) {
      PutPoint(out, f->geo_radius->center);
      PutDouble(out, f->geo_radius->radius_m);
    }
    if (f->geo_polygon) {
      PutRing(out, f->geo_polygon->exterior);
      PutVarint64(out, f->geo_polygon->interiors.size());
      for (const auto& ring : f->geo_polygon->interiors) {
        PutRing(out, ring);
      }
    }
  } else if (const auto* e = std::get_if<IsEmptyCondition>(&condition)) {
    PutLengthPrefixed(out, e->key);
  } else if (const auto* n = std::get_if<IsNullCondition>(&condition)) {
    PutLengthPrefixed(out, n->key);
  } else if (const auto* h = std::get_if<HasIdCondition>(&condition)) {
    std::vector<PointId> ids(h->ids.begin(), h->ids.end());
    std::sort(ids.begin(), ids.end());  // one encoding per set, whatever its hash order
    PutVarint64(out, ids.size());
    for (const PointId& id : ids) {
      PutPointId(out, id);
    }
  } else if (const auto* v = std::get_if<HasVectorCondition>(&condition)) {
    PutLengthPrefixed(out, v->name);
  } else if (const auto* nested = std::get_if<NestedCondition>(&condition)) {
    PutLengthPrefixed(out, nested->key);
    EncodeFilter(out, *nested->filter);
  } else if (const auto* slice = std::get_if<SliceCondition>(&condition)) {
    PutVarint64(out, slice->total);
    PutVarint64(out, slice->index);
  } else {
    EncodeFilter(out, *std::get<FilterCondition>(condition).filter);
  }
}

void PutConditions(std::string* out, const std::vector<Condition>& conditions) {
  PutVarint64(out, conditions.size());
  for (const Condition& c : conditions) {
    PutCondition(out, c);
  }
}

class FilterDecoder {
 public:
  explicit FilterDecoder(std::string_view bytes) : d_(bytes) {}
  size_t remaining() const { return d_.remaining(); }

  bool Filter(engine::Filter* f, int depth) {
    if (depth > kMaxEncodedFilterDepth) {
      return false;
    }
    bool has_min;
    if (!Conditions(&f->must, depth) || !Conditions(&f->should, depth) ||
        !Conditions(&f->must_not, depth) || !d_.GetBool(&has_min)) {
      return false;
    }
    if (has_min) {
      MinShould m;
      uint64_t count;
      if (!d_.GetVarint64(&count) || !Conditions(&m.conditions, depth)) {
        return false;
      }
      m.min_count = count;
      f->min_should = std::move(m);
    }
    return true;
  }

 private:
  bool Count(uint64_t* n) { return d_.GetVarint64(n) && *n <= d_.remaining(); }
  bool String(std::string* s) {
    std::string_view v;
    if (!d_.GetLengthPrefixed(&v)) {
      return false;
    }
    *s = std::string(v);
    return true;
  }
  bool Byte(uint8_t* b) {
    std::string_view v;
    if (!d_.GetBytes(1, &v)) {
      return false;
    }
    *b = static_cast<uint8_t>(v[0]);
    return true;
  }
  bool Id(PointId* id) { return GetPointId(&d_, id); }
  bool Scalar(MatchScalar* m) {
    uint8_t tag;
    if (!Byte(&tag)) {
      return false;
    }
    if (tag == 0) {
      std::string s;
      if (!String(&s)) {
        return false;
      }
      *m = std::move(s);
      return true;
    }
    if (tag == 1) {
      uint64_t v;
      if (!d_.GetFixed64(&v)) {
        return false;
      }
      *m = static_cast<int64_t>(v);
      return true;
    }
    bool b;
    if (tag != 2 || !d_.GetBool(&b)) {
      return false;
    }
    *m = b;
    return true;
  }
  bool Scalars(std::vector<MatchScalar>* out) {
    uint64_t n;
    if (!Count(&n)) {
      return false;
    }
    out->resize(n);
    for (MatchScalar& m : *out) {
      if (!Scalar(&m)) {
        return false;
      }
    }
    return true;
  }
  bool Range(std::optional<RangeBounds>* out) {
    uint8_t bits;
    if (!Byte(&bits) || bits > 15) {
      return false;
    }
    RangeBounds r;
    std::optional<double>* bounds[] = {&r.gt, &r.gte, &r.lt, &r.lte};
    for (int i = 0; i < 4; ++i) {
      if (bits & (1 << i)) {
        double v;
        if (!d_.GetDouble(&v)) {
          return false;
        }
        *bounds[i] = v;
      }
    }
    *out = r;
    return true;
  }
  bool Point(GeoPoint* p) { return d_.GetDouble(&p->lon) && d_.GetDouble(&p->lat); }
  bool Ring(std::vector<GeoPoint>* ring) {
    uint64_t n;
    if (!Count(&n)) {
      return false;
    }
    ring->resize(n);
    for (GeoPoint& p : *ring) {
      if (!Point(&p)) {
        return false;
      }
    }
    return true;
  }
  bool Nested(std::shared_ptr<const engine::Filter>* out, int depth) {
    auto f = std::make_shared<engine::Filter>();
    if (!Filter(f.get(), depth + 1)) {
      return false;
    }
    *out = std::move(f);
    return true;
  }
  bool Field(FieldCondition* f) {
    uint8_t parts;
    if (!String(&f->key) || !Byte(&parts)) {
      return false;
    }
    if (parts & 128) {
      uint8_t flags;
      if (!Byte(&flags) || flags > 15 || (flags & 3) == 2 || (flags & 12) == 8) {
        return false;
      }
      if (flags & 1) f->is_empty = (flags & 2) != 0;
      if (flags & 4) f->is_null = (flags & 8) != 0;
    }
    if (parts & 1) {
      uint8_t kind;
      if (!Byte(&kind)) {
        return false;
      }
      switch (kind) {
        case 0: {
          MatchValue v;
          if (!Scalar(&v.value)) {
            return false;
          }
          f->match = std::move(v);
          break;
        }
        case 1: {
          MatchAny any;
          if (!Scalars(&any.values)) {
            return false;
          }
          f->match = std::move(any);
          break;
        }
        case 2: {
          MatchExcept except;
          if (!Scalars(&except.values)) {
            return false;
          }
          f->match = std::move(except);
          break;
        }
        case 3:
        case 4:
        case 5:
        case 6: {
          MatchText text;
          text.kind = static_cast<MatchText::Kind>(kind - 3);
          if (!String(&text.text)) {
            return false;
          }
          f->match = std::move(text);
          break;
        }
        default:
          return false;
      }
    }
    if (((parts & 2) && !Range(&f->range)) || ((parts & 4) && !Range(&f->datetime_range)) ||
        ((parts & 8) && !Range(&f->values_count))) {
      return false;
    }
    if (parts & 16) {
      GeoBoundingBox box;
      if (!Point(&box.top_left) || !Point(&box.bottom_right)) {
        return false;
      }
      f->geo_bounding_box = box;
    }
    if (parts & 32) {
      GeoRadius radius;
      if (!Point(&radius.center) || !d_.GetDouble(&radius.radius_m)) {
        return false;
      }
      f->geo_radius = radius;
    }
    if (parts & 64) {
      GeoPolygon polygon;
      uint64_t n;
      if (!Ring(&polygon.exterior) || !Count(&n)) {
        return false;
      }
      polygon.interiors.resize(n);
      for (auto& ring : polygon.interiors) {
        if (!Ring(&ring)) {
          return false;
        }
      }
      f->geo_polygon = std::move(polygon);
    }
    return true;
  }
  bool OneCondition(Condition* c, int depth) {
    uint8_t tag;
    if (!Byte(&tag)) {
      return false;
    }
    switch (tag) {
      case 0: {
        FieldCondition f;
        if (!Field(&f)) {
          return false;
        }
        *c = std::move(f);
        return true;
      }
      case 1: {
        IsEmptyCondition e;
        if (!String(&e.key)) {
          return false;
        }
        *c = std::move(e);
        return true;
      }
      case 2: {
        IsNullCondition n;
        if (!String(&n.key)) {
          return false;
        }
        *c = std::move(n);
        return true;
      }
      case 3: {
        HasIdCondition h;
        uint64_t n;
        if (!Count(&n)) {
          return false;
        }
        for (uint64_t i = 0; i < n; ++i) {
          PointId id;
          if (!Id(&id)) {
            return false;
          }
          h.ids.insert(id);
        }
        *c = std::move(h);
        return true;
      }
      case 4: {
        HasVectorCondition v;
        if (!String(&v.name)) {
          return false;
        }
        *c = std::move(v);
        return true;
      }
      case 5: {
        NestedCondition nested;
        if (!String(&nested.key) || !Nested(&nested.filter, depth)) {
          return false;
        }
        *c = std::move(nested);
        return true;
      }
      case 6: {
        FilterCondition fc;
        if (!Nested(&fc.filter, depth)) {
          return false;
        }
        *c = std::move(fc);
        return true;
      }
      case 7: {
        uint64_t total, index;
        if (!d_.GetVarint64(&total) || !d_.GetVarint64(&index) || total == 0 ||
            total > UINT32_MAX || index >= total) {
          return false;
        }
        *c = SliceCondition{static_cast<uint32_t>(total), static_cast<uint32_t>(index)};
        return true;
      }
      default:
        return false;
    }
  }
  bool Conditions(std::vector<Condition>* out, int depth) {
    uint64_t n;
    if (!Count(&n)) {
      return false;
    }
    out->resize(n);
    for (Condition& c : *out) {
      if (!OneCondition(&c, depth)) {
        return false;
      }
    }
    return true;
  }

  Decoder d_;
};

}  // namespace

void EncodeFilter(std::string* out, const Filter& filter) {
  PutConditions(out, filter.must);
  PutConditions(out, filter.should);
  PutConditions(out, filter.must_not);
  PutBool(out, filter.min_should.has_value());
  if (filter.min_should) {
    PutVarint64(out, filter.min_should->min_count);
    PutConditions(out, filter.min_should->conditions);
  }
}

Result<std::shared_ptr<const Filter>> DecodeFilter(std::string_view* bytes) {
  FilterDecoder in(*bytes);
  auto filter = std::make_shared<Filter>();
  if (!in.Filter(filter.get(), 0)) {
    return Status::Corruption("filter: malformed");
  }
  bytes->remove_prefix(bytes->size() - in.remaining());
  return std::shared_ptr<const Filter>(std::move(filter));
}

}  // namespace tessera::engine

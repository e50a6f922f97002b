#include "engine/operations.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/coding.h"
#include "engine/filter_codec.h"
#include "engine/payload_storage.h"

namespace tessera::engine {

namespace json = boost::json;

std::string_view OperationName(const Operation& op) {
  static constexpr std::string_view kNames[] = {
      "upsert",         "delete",        "set_payload",    "overwrite_payload",
      "delete_payload", "clear_payload", "update_vectors", "delete_vectors"};
  return kNames[op.index()];
}

namespace {

}  // namespace

Status SortSparse(SparseVector* v) {
  std::vector<std::pair<uint32_t, float>> pairs(v->indices.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    pairs[i] = {v->indices[i], v->values[i]};
  }
  std::sort(pairs.begin(), pairs.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i > 0 && pairs[i].first == pairs[i - 1].first) {
      return Status::InvalidArgument("Wrong input: a sparse vector's indices must be unique");
    }
    v->indices[i] = pairs[i].first;
    v->values[i] = pairs[i].second;
  }
  return Status::Ok();
}

namespace {

Status CheckVectors(const CollectionConfig& config, NamedVectors* vectors) {
  for (auto& [name, vector] : *vectors) {
    if (config.sparse_vectors.contains(name) && !config.vectors.contains(name)) {
      auto* sparse = std::get_if<SparseVector>(&vector);
      if (sparse == nullptr) {
        return Status::InvalidArgument(
            "Wrong input: Conversion between sparse and regular vectors failed");
      }
      if (sparse->indices.size() != sparse->values.size()) {
        return Status::InvalidArgument(
            "Wrong input: a sparse vector's values must be as many as its indices");
      }
      for (float v : sparse->values) {
        if (!std::isfinite(v)) {
          return Status::InvalidArgument("Wrong input: vector values must be finite numbers");
        }
      }
      TESSERA_RETURN_IF_ERROR(SortSparse(sparse));
      continue;
    }
    if (auto it = config.vectors.find(name); it != config.vectors.end() && it->second.multivector) {
      TESSERA_RETURN_IF_ERROR(PrepareMultiVector(it->second, &vector));
      continue;
    }
    DenseVector* dense = AsDense(vector);
    if (dense == nullptr) {
      if (!config.vectors.contains(name)) {
        return Status::InvalidArgument("Wrong input: Not existing vector name error: " +
                                       (name.empty() ? std::string("(unnamed)") : name));
      }
      return Status::InvalidArgument(
          std::holds_alternative<SparseVector>(vector)
              ? "Wrong input: Conversion between sparse and regular vectors failed"
              : "Wrong input: Conversion between multi and regular vectors failed");
    }
    TESSERA_RETURN_IF_ERROR(PrepareVector(config, name, dense));
  }
  // Every vector is optional, as in Qdrant: a point may hold any subset of the names.
  return Status::Ok();
}

Status CheckNames(const CollectionConfig& config, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (!config.vectors.contains(name) && !config.sparse_vectors.contains(name)) {
      return Status::InvalidArgument("Wrong input: Not existing vector name error: " +
                                     (name.empty() ? std::string("(unnamed)") : name));
    }
  }
  return Status::Ok();
}

}  // namespace

Status PrepareVector(const CollectionConfig& config, const std::string& name,
                     std::vector<float>* values) {
  auto it = config.vectors.find(name);
  if (it == config.vectors.end()) {
    return Status::InvalidArgument("Wrong input: Not existing vector name error: " +
                                   (name.empty() ? std::string("(unnamed)") : name));
  }
  if (values->size() != it->second.size) {
    return Status::InvalidArgument(
        "Wrong input: Vector dimension error: expected dim: " + std::to_string(it->second.size) +
        ", got " + std::to_string(values->size()));
  }
  return PrepareRows(it->second, values->data(), values->size());
}

Status PrepareRows(const VectorParams& params, float* values, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(values[i])) {
      return Status::InvalidArgument("Wrong input: vector values must be finite numbers");
    }
  }
  if (params.distance != Distance::kCosine || params.size == 0) {
    return Status::Ok();
  }
  for (size_t row = 0; row + params.size <= n; row += params.size) {
    // Qdrant's cosine_preprocess: a vector whose squared length is below f32 epsilon (zero,
    // or denormal components whose inverse length would overflow a float) or already 1 is
    // kept as it is, so no score or stored component becomes infinite.
    float* v = values + row;
    double norm = 0;
    for (size_t i = 0; i < params.size; ++i) {
      norm += static_cast<double>(v[i]) * v[i];
    }
    if (norm >= std::numeric_limits<float>::epsilon() && std::fabs(norm - 1.0) > 1e-6) {
      const auto inv = static_cast<float>(1.0 / std::sqrt(norm));
      for (size_t i = 0; i < params.size; ++i) {
        v[i] *= inv;
      }
    }
  }
  return Status::Ok();
}

Status PrepareMultiVector(const VectorParams& params, VectorInput* vector) {
  if (auto* dense = AsDense(*vector)) {  // one vector: a multivector of one row, as Qdrant
    MultiDenseVector multi{dense->size(), std::move(*dense)};
    *vector = std::move(multi);
  }
  auto* multi = std::get_if<MultiDenseVector>(vector);
  if (multi == nullptr) {
    return Status::InvalidArgument(
        "Wrong input: Conversion between sparse and regular vectors failed");
  }
  if (multi->dim != params.size || multi->values.empty()) {
    return Status::InvalidArgument("Wrong input: Vector dimension error: expected dim: " +
                                   std::to_string(params.size) + ", got " +
                                   std::to_string(multi->dim));
  }
  return PrepareRows(params, multi->values.data(), multi->values.size());
}

Status PrepareOperations(const CollectionConfig& config, OperationList* ops) {
  for (Operation& op : *ops) {
    if (auto* upsert = std::get_if<UpsertOp>(&op)) {
      for (PointStruct& p : upsert->points) {
        TESSERA_RETURN_IF_ERROR(CheckVectors(config, &p.vectors));
      }
    } else if (auto* update = std::get_if<UpdateVectorsOp>(&op)) {
      for (PointVectors& p : update->points) {
        TESSERA_RETURN_IF_ERROR(CheckVectors(config, &p.vectors));
      }
    } else if (auto* del = std::get_if<DeleteVectorsOp>(&op)) {
      TESSERA_RETURN_IF_ERROR(CheckNames(config, del->names));
    }
  }
  return Status::Ok();
}

// ---- codec ----

namespace {

constexpr uint8_t kListVersion = 3;  // 2: dense vectors only; 1: selectors were ids only

void PutIds(std::string* out, const std::vector<PointId>& ids) {
  PutVarint64(out, ids.size());
  for (const PointId& id : ids) {
    PutPointId(out, id);
  }
}
void PutSelector(std::string* out, const std::vector<PointId>& ids,
                 const std::shared_ptr<const Filter>& filter) {
  if (filter != nullptr) {
    out->push_back(1);
    std::string bytes;
    EncodeFilter(&bytes, *filter);
    PutLengthPrefixed(out, bytes);
    return;
  }
  out->push_back(0);
  PutIds(out, ids);
}
void PutFloats(std::string* out, const std::vector<float>& values) {
  for (float v : values) {
    PutFloat(out, v);
  }
}
void PutVectors(std::string* out, const NamedVectors& vectors) {
  PutVarint64(out, vectors.size());
  for (const auto& [name, vector] : vectors) {
    PutLengthPrefixed(out, name);
    out->push_back(static_cast<char>(vector.index()));
    if (const auto* dense = std::get_if<DenseVector>(&vector)) {
      PutVarint64(out, dense->size());
      PutFloats(out, *dense);
    } else if (const auto* sparse = std::get_if<SparseVector>(&vector)) {
      PutVarint64(out, sparse->indices.size());
      for (uint32_t i : sparse->indices) {
        PutVarint64(out, i);
      }
      PutFloats(out, sparse->values);
    } else {
      const auto& multi = std::get<MultiDenseVector>(vector);
      PutVarint64(out, multi.dim);
      PutVarint64(out, multi.rows());
      PutFloats(out, multi.values);
    }
  }
}
void PutPayload(std::string* out, const json::object& payload) {
  PayloadStorage::EncodeOne(out, payload);
}
void PutStrings(std::string* out, const std::vector<std::string>& strings) {
  PutVarint64(out, strings.size());
  for (const std::string& s : strings) {
    PutLengthPrefixed(out, s);
  }
}

class OpDecoder {
 public:
  explicit OpDecoder(std::string_view bytes) : d_(bytes) {}
  Decoder& d() { return d_; }
  uint8_t version = kListVersion;

  bool Id(PointId* id) { return GetPointId(&d_, id); }
  bool Count(uint64_t* n) {
    // Every element takes at least one byte: a larger count can only be damage.
    return d_.GetVarint64(n) && *n <= d_.remaining();
  }
  bool Ids(std::vector<PointId>* ids) {
    uint64_t n;
    if (!Count(&n)) {
      return false;
    }
    ids->resize(n);
    for (PointId& id : *ids) {
      if (!Id(&id)) {
        return false;
      }
    }
    return true;
  }
  bool Selector(std::vector<PointId>* ids, std::shared_ptr<const Filter>* filter) {
    if (version < 2) {
      return Ids(ids);
    }
    std::string_view tag;
    if (!d_.GetBytes(1, &tag)) {
      return false;
    }
    if (tag[0] == 0) {
      return Ids(ids);
    }
    std::string_view bytes;
    if (tag[0] != 1 || !d_.GetLengthPrefixed(&bytes)) {
      return false;
    }
    Result<std::shared_ptr<const Filter>> decoded = DecodeFilter(&bytes);
    if (!decoded.ok() || !bytes.empty()) {
      return false;
    }
    *filter = std::move(decoded).value();
    return true;
  }
  bool Floats(uint64_t n, std::vector<float>* values) {
    if (n > d_.remaining() / sizeof(float)) {
      return false;
    }
    values->resize(n);
    for (float& v : *values) {
      if (!d_.GetFloat(&v)) {
        return false;
      }
    }
    return true;
  }
  bool Vector(VectorInput* vector) {
    uint8_t kind = 0;  // before version 3 every vector was dense, without a kind
    if (version >= 3) {
      std::string_view k;
      if (!d_.GetBytes(1, &k)) {
        return false;
      }
      kind = static_cast<uint8_t>(k[0]);
    }
    uint64_t n;
    switch (kind) {
      case 0: {
        DenseVector dense;
        if (!d_.GetVarint64(&n) || !Floats(n, &dense)) {
          return false;
        }
        *vector = std::move(dense);
        return true;
      }
      case 1: {
        SparseVector sparse;
        if (!Count(&n)) {
          return false;
        }
        sparse.indices.resize(n);
        for (uint32_t& i : sparse.indices) {
          uint64_t index;
          if (!d_.GetVarint64(&index) || index > UINT32_MAX) {
            return false;
          }
          i = static_cast<uint32_t>(index);
        }
        if (!Floats(n, &sparse.values)) {
          return false;
        }
        *vector = std::move(sparse);
        return true;
      }
      case 2: {
        MultiDenseVector multi;
        uint64_t rows;
        if (!d_.GetVarint64(&multi.dim) || !d_.GetVarint64(&rows) || multi.dim == 0 ||
            rows > d_.remaining() / sizeof(float) / multi.dim ||
            !Floats(rows * multi.dim, &multi.values)) {
          return false;
        }
        *vector = std::move(multi);
        return true;
      }
      default:
        return false;
    }
  }
  bool Vectors(NamedVectors* vectors) {
    uint64_t n;
    if (!Count(&n)) {
      return false;
    }
    for (uint64_t i = 0; i < n; ++i) {
      std::string_view name;
      VectorInput vector;
      if (!d_.GetLengthPrefixed(&name) || !Vector(&vector)) {
        return false;
      }
      (*vectors)[std::string(name)] = std::move(vector);
    }
    return true;
  }
  bool Payload(json::object* payload) { return PayloadStorage::DecodeOne(&d_, payload); }
  bool Strings(std::vector<std::string>* out) {
    uint64_t n;
    if (!Count(&n)) {
      return false;
    }
    out->resize(n);
    for (std::string& s : *out) {
      std::string_view v;
      if (!d_.GetLengthPrefixed(&v)) {
        return false;
      }
      s = std::string(v);
    }
    return true;
  }

 private:
  Decoder d_;
};

bool DecodeOne(OpDecoder& in, uint8_t kind, Operation* op) {
  switch (kind) {
    case 0: {
      UpsertOp u;
      uint64_t n;
      if (!in.Count(&n)) {
        return false;
      }
      u.points.resize(n);
      for (PointStruct& p : u.points) {
        if (!in.Id(&p.id) || !in.Vectors(&p.vectors) || !in.Payload(&p.payload)) {
          return false;
        }
      }
      *op = std::move(u);
      return true;
    }
    case 1: {
      DeletePointsOp d;
      if (!in.Selector(&d.ids, &d.filter)) {
        return false;
      }
      *op = std::move(d);
      return true;
    }
    case 2: {
      SetPayloadOp s;
      std::string_view key;
      if (!in.Selector(&s.ids, &s.filter) || !in.Payload(&s.payload) ||
          !in.d().GetLengthPrefixed(&key)) {
        return false;
      }
      s.key = std::string(key);
      *op = std::move(s);
      return true;
    }
    case 3: {
      OverwritePayloadOp o;
      std::string_view key;
      if (!in.Selector(&o.ids, &o.filter) || !in.Payload(&o.payload) ||
          !in.d().GetLengthPrefixed(&key)) {
        return false;
      }
      o.key = std::string(key);
      *op = std::move(o);
      return true;
    }
    case 4: {
      DeletePayloadOp d;
      if (!in.Selector(&d.ids, &d.filter) || !in.Strings(&d.keys)) {
        return false;
      }
      *op = std::move(d);
      return true;
    }
    case 5: {
      ClearPayloadOp c;
      if (!in.Selector(&c.ids, &c.filter)) {
        return false;
      }
      *op = std::move(c);
      return true;
    }
    case 6: {
      UpdateVectorsOp u;
      uint64_t n;
      if (!in.Count(&n)) {
        return false;
      }
      u.points.resize(n);
      for (PointVectors& p : u.points) {
        if (!in.Id(&p.id) || !in.Vectors(&p.vectors)) {
          return false;
        }
      }
      *op = std::move(u);
      return true;
    }
    case 7: {
      DeleteVectorsOp d;
      if (!in.Selector(&d.ids, &d.filter) || !in.Strings(&d.names)) {
        return false;
      }
      *op = std::move(d);
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

std::string EncodeOperationList(const OperationList& ops) {
  std::string out;
  out.push_back(static_cast<char>(kListVersion));
  PutVarint64(&out, ops.size());
  for (const Operation& op : ops) {
    out.push_back(static_cast<char>(op.index()));
    std::visit(
        [&out](const auto& o) {
          using T = std::decay_t<decltype(o)>;
          if constexpr (std::is_same_v<T, UpsertOp>) {
            PutVarint64(&out, o.points.size());
            for (const PointStruct& p : o.points) {
              PutPointId(&out, p.id);
              PutVectors(&out, p.vectors);
              PutPayload(&out, p.payload);
            }
          } else if constexpr (std::is_same_v<T, DeletePointsOp> ||
                               std::is_same_v<T, ClearPayloadOp>) {
            PutSelector(&out, o.ids, o.filter);
          } else if constexpr (std::is_same_v<T, SetPayloadOp>) {
            PutSelector(&out, o.ids, o.filter);
            PutPayload(&out, o.payload);
            PutLengthPrefixed(&out, o.key);
          } else if constexpr (std::is_same_v<T, OverwritePayloadOp>) {
            PutSelector(&out, o.ids, o.filter);
            PutPayload(&out, o.payload);
            PutLengthPrefixed(&out, o.key);
          } else if constexpr (std::is_same_v<T, DeletePayloadOp>) {
            PutSelector(&out, o.ids, o.filter);
            PutStrings(&out, o.keys);
          } else if constexpr (std::is_same_v<T, UpdateVectorsOp>) {
            PutVarint64(&out, o.points.size());
            for (const PointVectors& p : o.points) {
              PutPointId(&out, p.id);
              PutVectors(&out, p.vectors);
            }
          } else if constexpr (std::is_same_v<T, DeleteVectorsOp>) {
            PutSelector(&out, o.ids, o.filter);
            PutStrings(&out, o.names);
          }
        },
        op);
  }
  return out;
}

Result<OperationList> DecodeOperationList(std::string_view bytes) {
  OpDecoder in(bytes);
  std::string_view version;
  uint64_t count;
  if (!in.d().GetBytes(1, &version) || static_cast<uint8_t>(version[0]) < 1 ||
      static_cast<uint8_t>(version[0]) > kListVersion || !in.Count(&count)) {
    return Status::Corruption("operation list: bad header");
  }
  in.version = static_cast<uint8_t>(version[0]);
  OperationList ops(count);
  for (Operation& op : ops) {
    std::string_view kind;
    if (!in.d().GetBytes(1, &kind) || !DecodeOne(in, static_cast<uint8_t>(kind[0]), &op)) {
      return Status::Corruption("operation list: malformed operation");
    }
  }
  if (!in.d().empty()) {
    return Status::Corruption("operation list: trailing bytes");
  }
  return ops;
}

void ForEachTouched(const Operation& op,
                    const std::function<void(const PointId& id, bool exists_after)>& fn) {
  std::visit(
      [&](const auto& o) {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, UpsertOp>) {
          for (const PointStruct& p : o.points) {
            fn(p.id, true);
          }
        } else if constexpr (std::is_same_v<T, UpdateVectorsOp>) {
          for (const PointVectors& p : o.points) {
            fn(p.id, true);
          }
        } else if constexpr (std::is_same_v<T, DeletePointsOp>) {
          for (const PointId& id : o.ids) {
            fn(id, false);
          }
        } else {
          for (const PointId& id : o.ids) {
            fn(id, true);
          }
        }
      },
      op);
}

const Filter* SelectorFilter(const Operation& op) {
  return std::visit(
      [](const auto& o) -> const Filter* {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, UpsertOp> || std::is_same_v<T, UpdateVectorsOp>) {
          return nullptr;
        } else {
          return o.filter.get();
        }
      },
      op);
}

bool HasFilterSelector(const OperationList& ops) {
  return std::any_of(ops.begin(), ops.end(),
                     [](const Operation& op) { return SelectorFilter(op) != nullptr; });
}

bool RequiresExisting(const Operation& op) {
  return !std::holds_alternative<UpsertOp>(op) && !std::holds_alternative<DeletePointsOp>(op);
}

Status CheckList(const OperationList& ops, const std::function<bool(const PointId&)>& exists) {
  std::unordered_map<PointId, bool, PointIdHash> overlay;
  for (size_t i = 0; i < ops.size(); ++i) {
    const Operation& op = ops[i];
    Status failure;
    ForEachTouched(op, [&](const PointId& id, bool exists_after) {
      if (!failure.ok()) {
        return;
      }
      if (RequiresExisting(op)) {
        auto it = overlay.find(id);
        const bool present = it != overlay.end() ? it->second : exists(id);
        if (!present) {
          std::string message = "Not found: No point with id " + id.ToString() + " found";
          if (ops.size() > 1) {
            message +=
                " (operation " + std::to_string(i) + ": " + std::string(OperationName(op)) + ")";
          }
          failure = Status::NotFound(std::move(message));
          return;
        }
      }
      overlay[id] = exists_after;
    });
    TESSERA_RETURN_IF_ERROR(failure);
  }
  return Status::Ok();
}

}  // namespace tessera::engine

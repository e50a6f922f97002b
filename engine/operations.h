#pragma once

// OperationList: what one write request does, in order. One request = one list = one WAL
// record = one operation_id. Filters are resolved to ids before a list is built, so replay
// never depends on the state a filter saw.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>

#include "common/status.h"
#include "engine/collection_config.h"
#include "engine/point_id.h"

namespace tessera::engine {

// Vectors of one point by vector name ("" for the single unnamed vector).
using NamedVectors = std::map<std::string, std::vector<float>, std::less<>>;

struct PointStruct {
  PointId id;
  NamedVectors vectors;
  boost::json::object payload;
  bool operator==(const PointStruct&) const = default;
};

struct UpsertOp {
  std::vector<PointStruct> points;
  bool operator==(const UpsertOp&) const = default;
};
struct DeletePointsOp {
  std::vector<PointId> ids;
};
// Merges `payload` into each point's payload, or into the object at `key` (a dotted path).
struct SetPayloadOp {
  std::vector<PointId> ids;
  boost::json::object payload;
  std::string key;  // empty: top level
};
// Replaces each point's payload, or the value at `key` (a dotted path), with `payload`.
struct OverwritePayloadOp {
  std::vector<PointId> ids;
  boost::json::object payload;
  std::string key;  // empty: the whole payload
};
struct DeletePayloadOp {
  std::vector<PointId> ids;
  std::vector<std::string> keys;  // dotted paths
};
struct ClearPayloadOp {
  std::vector<PointId> ids;
};
struct PointVectors {
  PointId id;
  NamedVectors vectors;
};
struct UpdateVectorsOp {
  std::vector<PointVectors> points;
};
struct DeleteVectorsOp {
  std::vector<PointId> ids;
  std::vector<std::string> names;
};

using Operation = std::variant<UpsertOp, DeletePointsOp, SetPayloadOp, OverwritePayloadOp,
                               DeletePayloadOp, ClearPayloadOp, UpdateVectorsOp, DeleteVectorsOp>;
using OperationList = std::vector<Operation>;

// The operation's name as Qdrant's batch API spells it ("upsert", "set_payload", ...).
std::string_view OperationName(const Operation& op);

// Checks every vector name and dimension against the collection (kInvalidArgument, in
// Qdrant's words), and normalises Cosine vectors in place. Touches no stored state.
Status PrepareOperations(const CollectionConfig& config, OperationList* ops);
// The same for one vector (a stored one or a query): name, dimension, finite values, Cosine
// normalising.
Status PrepareVector(const CollectionConfig& config, const std::string& name,
                     std::vector<float>* values);

// Calls fn(id, exists_after) for every point an operation touches, in order.
void ForEachTouched(const Operation& op,
                    const std::function<void(const PointId& id, bool exists_after)>& fn);
// Whether the operation needs its points to exist (everything but upsert and delete).
bool RequiresExisting(const Operation& op);
// The all-or-nothing check of a list: every point an operation needs exists at that step
// (kNotFound in Qdrant's words, naming the operation in a batch). `exists` answers for the
// state before the list; the list's own effects are tracked here.
Status CheckList(const OperationList& ops, const std::function<bool(const PointId&)>& exists);

// The WAL body of a list:
//   list    := version:u8(=1) count:varint op*
//   op      := kind:u8 (0 upsert .. 7 delete_vectors, in Operation's order) fields
//   upsert  := n:varint (id vectors payload)*        delete := ids
//   set     := ids payload key:lp                    overwrite := ids payload key:lp
//   delpay  := ids n:varint key:lp*                  clear := ids
//   updvec  := n:varint (id vectors)*                delvec := ids n:varint name:lp*
//   ids     := n:varint id*      id := 0 num:varint | 1 uuid:16 bytes
//   vectors := n:varint (name:lp dim:varint f32*dim)*     payload := lp(JSON text)
std::string EncodeOperationList(const OperationList& ops);
Result<OperationList> DecodeOperationList(std::string_view bytes);

}  // namespace tessera::engine

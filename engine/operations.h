#pragma once

// OperationList: what one write request does, in order. One request = one list = one WAL
// record = one operation_id. An operation that selects points (all but upsert and
// update_vectors) names them by `ids`, or by a `filter` (ids then empty) that is resolved when
// the list is applied, in log order, as Qdrant does: it sees the list's own earlier operations.
// The WAL carries the filter; replay resolves it again over the same state (points a record
// already changed are skipped by version), so replay stays idempotent.

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
#include "engine/filter.h"
#include "engine/point_id.h"
#include "engine/vectors.h"

namespace tessera::engine {

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
  std::shared_ptr<const Filter> filter;  // set: the points it matches when applied
};
// Merges `payload` into each point's payload, or into the object at `key` (a dotted path).
struct SetPayloadOp {
  std::vector<PointId> ids;
  boost::json::object payload;
  std::string key;  // empty: top level
  std::shared_ptr<const Filter> filter;
};
// Replaces each point's payload, or the value at `key` (a dotted path), with `payload`.
struct OverwritePayloadOp {
  std::vector<PointId> ids;
  boost::json::object payload;
  std::string key;  // empty: the whole payload
  std::shared_ptr<const Filter> filter;
};
struct DeletePayloadOp {
  std::vector<PointId> ids;
  std::vector<std::string> keys;  // dotted paths
  std::shared_ptr<const Filter> filter;
};
struct ClearPayloadOp {
  std::vector<PointId> ids;
  std::shared_ptr<const Filter> filter;
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
  std::shared_ptr<const Filter> filter;
};

using Operation = std::variant<UpsertOp, DeletePointsOp, SetPayloadOp, OverwritePayloadOp,
                               DeletePayloadOp, ClearPayloadOp, UpdateVectorsOp, DeleteVectorsOp>;
using OperationList = std::vector<Operation>;

// The operation's name as Qdrant's batch API spells it ("upsert", "set_payload", ...).
std::string_view OperationName(const Operation& op);

// Checks every vector name and dimension against the collection (kInvalidArgument, in
// Qdrant's words), and normalises Cosine vectors in place. Touches no stored state.
Status PrepareOperations(const CollectionConfig& config, OperationList* ops);
// Checks finite values and normalises each row of `n` floats for Cosine (rows of
// params.size).
Status PrepareRows(const VectorParams& params, float* values, size_t n);
// A multivector name's value: a multivector of params.size-wide rows, or one dense vector
// (made a multivector of one row, as Qdrant takes it); rows prepared as above.
Status PrepareMultiVector(const VectorParams& params, VectorInput* vector);
// Sorts a sparse vector by index (as Qdrant stores and scores them); InvalidArgument if an
// index repeats.
Status SortSparse(SparseVector* v);
// The same for one vector (a stored one or a query): name, dimension, finite values, Cosine
// normalising.
Status PrepareVector(const CollectionConfig& config, const std::string& name,
                     std::vector<float>* values);

// The operation's filter selector, or nullptr (ids, or an operation without a selector).
const Filter* SelectorFilter(const Operation& op);
bool HasFilterSelector(const OperationList& ops);

// Calls fn(id, exists_after) for every point an operation lists, in order (none for a filter
// selector: its points are known only when it is applied).
void ForEachTouched(const Operation& op,
                    const std::function<void(const PointId& id, bool exists_after)>& fn);
// Whether the operation needs its points to exist (everything but upsert and delete).
bool RequiresExisting(const Operation& op);
// The all-or-nothing check of a list: every point an operation needs exists at that step
// (kNotFound in Qdrant's words, naming the operation in a batch). `exists` answers for the
// state before the list; the list's own effects are tracked here.
Status CheckList(const OperationList& ops, const std::function<bool(const PointId&)>& exists);

// The WAL body of a list (version 3; version 2, whose vectors were dense only:
// `n (name:lp dim:varint f32*dim)*`, and version 1, which also had `ids` where `sel` is, still
// decode):
//   list    := version:u8(=3) count:varint op*
//   op      := kind:u8 (0 upsert .. 7 delete_vectors, in Operation's order) fields
//   upsert  := n:varint (id vectors payload)*        delete := sel
//   set     := sel payload key:lp                    overwrite := sel payload key:lp
//   delpay  := sel n:varint key:lp*                  clear := sel
//   updvec  := n:varint (id vectors)*                delvec := sel n:varint name:lp*
//   sel     := 0 ids | 1 filter:lp (filter_codec.h)
//   ids     := n:varint id*      id := 0 num:varint | 1 uuid:16 bytes
//   vectors := n:varint (name:lp vector)*                 payload := lp(JSON text)
//   vector  := 0 dim:varint f32*dim                                   (dense)
//            | 1 n:varint (index:varint)*n f32*n                      (sparse)
//            | 2 dim:varint rows:varint f32*(dim*rows)                (multivector)
std::string EncodeOperationList(const OperationList& ops);
Result<OperationList> DecodeOperationList(std::string_view bytes);

}  // namespace tessera::engine

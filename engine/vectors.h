#pragma once

// A point's vectors as operations carry them and reads return them: by vector name ("" for the
// single unnamed vector), each of any kind a Qdrant collection may declare — dense, sparse
// (indices and values) or multivector (rows of one dimension). The WAL codec, the update worker
// and the segments pass them on as they are; a segment stores each name in the storage of its
// kind. (Only dense storages exist yet: a collection cannot declare a sparse or multivector
// name, so PrepareOperations refuses those in Qdrant's words; the vector-model issue adds the
// storages.)

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tessera::engine {

using DenseVector = std::vector<float>;

struct SparseVector {
  std::vector<uint32_t> indices;
  std::vector<float> values;  // values[i] is at indices[i]
  bool operator==(const SparseVector&) const = default;
};

struct MultiDenseVector {
  size_t dim = 0;
  std::vector<float> values;  // rows of `dim` floats, row-major
  size_t rows() const { return dim == 0 ? 0 : values.size() / dim; }
  bool operator==(const MultiDenseVector&) const = default;
};

using VectorInput = std::variant<DenseVector, SparseVector, MultiDenseVector>;

// Vectors of one point by vector name ("" for the single unnamed vector).
using NamedVectors = std::map<std::string, VectorInput, std::less<>>;

// The dense vector, or nullptr if `v` is of another kind.
inline const DenseVector* AsDense(const VectorInput& v) { return std::get_if<DenseVector>(&v); }
inline DenseVector* AsDense(VectorInput& v) { return std::get_if<DenseVector>(&v); }

}  // namespace tessera::engine

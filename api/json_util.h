#pragma once

// Reading request JSON with errors in Qdrant's words. Shape and type errors are
// kInvalidArgument ("Json deserialize error: ...", HTTP 400); each names the field's path.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "common/status.h"

namespace tessera::api {

namespace json = boost::json;

// Parses a request body. Empty or malformed JSON is an InvalidArgument.
Result<json::value> ParseJsonBody(std::string_view body);

// Whether a number in `v` is not finite (what a too-large literal such as 1e400 parses to).
bool HasNonFinite(const json::value& v);

// "Json deserialize error: <path>: <what>"
Status DeserializeError(std::string_view path, std::string_view what);

// Typed, optional fields of one JSON object. A key that is absent or null leaves the output
// empty; a value of the wrong type is an error naming `path`.key.
class FieldReader {
 public:
  // `value` must outlive the reader. A non-object value is reported by `status()`.
  FieldReader(const json::value& value, std::string path);

  const Status& status() const { return status_; }
  const json::object* object() const { return object_; }
  std::string PathOf(std::string_view key) const;
  bool Has(std::string_view key) const;

  Status Get(std::string_view key, std::optional<uint64_t>* out) const;
  Status Get(std::string_view key, std::optional<uint32_t>* out) const;
  Status Get(std::string_view key, std::optional<double>* out) const;
  Status Get(std::string_view key, std::optional<bool>* out) const;
  Status Get(std::string_view key, std::optional<std::string>* out) const;
  // Present and non-null: the value (any type); otherwise nullptr.
  const json::value* Find(std::string_view key) const;
  // Every key of the object is one of `known` (null values too): otherwise serde's
  // "unknown field `k`, expected one of `a`, `b`" at the key's path. Decoders call it where
  // Qdrant's type refuses unknown fields, and everywhere in a body that writes or deletes.
  Status OnlyKnown(std::initializer_list<std::string_view> known) const;
  // A field of Qdrant's schema this server does not implement: absent or null is fine, any
  // other value a 400 naming it ("`what` is not supported").
  Status Unsupported(std::string_view key, std::string_view what) const;
  // Like Get, but a missing value is an error ("missing field `key`").
  template <typename T>
  Status Require(std::string_view key, T* out) const {
    std::optional<T> v;
    TESSERA_RETURN_IF_ERROR(Get(key, &v));
    if (!v) {
      return DeserializeError(path_, "missing field `" + std::string(key) + "`");
    }
    *out = std::move(*v);
    return Status::Ok();
  }

 private:
  const json::object* object_ = nullptr;
  std::string path_;
  Status status_;
};

// A payload key path (engine/json_path.h) read from `path`: OK, or a 400
// "Json deserialize error: <path>: Invalid json path: '<key>'".
Status CheckKeyPath(std::string_view path, std::string_view key);

// Whether `text` is well-formed UTF-8.
bool IsValidUtf8(std::string_view text);
// `text` with each ill-formed UTF-8 sequence replaced by U+FFFD, so that it can go into JSON.
std::string ToValidUtf8(std::string_view text);

// Reads an unsigned integer the way serde does: no fractions, no negatives, no overflow.
Status ReadU64(const json::value& v, std::string_view path, uint64_t* out);

// A short description of a JSON value's type for error messages ("string", "map", ...).
std::string_view JsonTypeName(const json::value& v);

}  // namespace tessera::api

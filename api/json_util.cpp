#include "api/json_util.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <boost/json/parse.hpp>

#include <unicode/utf8.h>

#include "engine/json_path.h"

namespace tessera::api {

Result<json::value> ParseJsonBody(std::string_view body) {
  if (body.empty()) {
    return Status::InvalidArgument("Json deserialize error: EOF while parsing a value");
  }
  json::parse_options options;
  options.max_depth = 64;
  boost::system::error_code ec;
  json::value value = json::parse(body, ec, json::storage_ptr(), options);
  if (ec) {
    return Status::InvalidArgument("Json deserialize error: " + ec.message());
  }
  // Boost.JSON reads 1e400 as infinity; serde_json refuses it, and a stored infinity could
  // only come back as a token that is not JSON.
  if (HasNonFinite(value)) {
    return Status::InvalidArgument("Json deserialize error: number out of range");
  }
  return value;
}

bool HasNonFinite(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_:
      return !std::isfinite(v.get_double());
    case json::kind::array:
      for (const json::value& e : v.get_array()) {
        if (HasNonFinite(e)) return true;
      }
      return false;
    case json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (HasNonFinite(kv.value())) return true;
      }
      return false;
    default:
      return false;
  }
}

Status CheckKeyPath(std::string_view path, std::string_view key) {
  if (engine::ParseJsonPath(key)) {
    return Status::Ok();
  }
  return DeserializeError(path, "Invalid json path: '" + std::string(key) + "'");
}

bool IsValidUtf8(std::string_view text) {
  if (text.size() > static_cast<size_t>(INT32_MAX)) {
    return false;
  }
  const auto n = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U8_NEXT(text.data(), i, n, c);
    if (c < 0) {
      return false;
    }
  }
  return true;
}

std::string ToValidUtf8(std::string_view text) {
  if (IsValidUtf8(text)) {
    return std::string(text);
  }
  std::string out;
  const auto n = static_cast<int32_t>(std::min<size_t>(text.size(), INT32_MAX));
  for (int32_t i = 0; i < n;) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(text.data(), i, n, c);
    if (c < 0) {
      out += "\xEF\xBF\xBD";
    } else {
      out.append(text.data() + start, static_cast<size_t>(i - start));
    }
  }
  return out;
}

Status DeserializeError(std::string_view path, std::string_view what) {
  std::string message = "Json deserialize error: ";
  if (!path.empty()) {
    message += path;
    message += ": ";
  }
  message += what;
  return Status::InvalidArgument(std::move(message));
}

std::string_view JsonTypeName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
      return "integer";
    case json::kind::double_:
      return "floating point";
    case json::kind::string:
      return "string";
    case json::kind::array:
      return "sequence";
    case json::kind::object:
      return "map";
  }
  return "value";
}

namespace {
Status WrongType(std::string_view path, const json::value& v, std::string_view expected) {
  return DeserializeError(path, "invalid type: " + std::string(JsonTypeName(v)) + ", expected " +
                                    std::string(expected));
}
}  // namespace

Status ReadU64(const json::value& v, std::string_view path, uint64_t* out) {
  if (v.is_uint64()) {
    *out = v.get_uint64();
    return Status::Ok();
  }
  if (v.is_int64()) {
    if (v.get_int64() < 0) {
      return DeserializeError(path, "invalid value: integer `" + std::to_string(v.get_int64()) +
                                        "`, expected an unsigned integer");
    }
    *out = static_cast<uint64_t>(v.get_int64());
    return Status::Ok();
  }
  return WrongType(path, v, "an unsigned integer");
}

FieldReader::FieldReader(const json::value& value, std::string path) : path_(std::move(path)) {
  if (value.is_object()) {
    object_ = &value.get_object();
  } else {
    status_ = WrongType(path_, value, "a map");
  }
}

std::string FieldReader::PathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

bool FieldReader::Has(std::string_view key) const {
  return Find(key) != nullptr;
}

const json::value* FieldReader::Find(std::string_view key) const {
  if (object_ == nullptr) {
    return nullptr;
  }
  const json::value* v = object_->if_contains(key);
  return (v == nullptr || v->is_null()) ? nullptr : v;
}

Status FieldReader::OnlyKnown(std::initializer_list<std::string_view> known) const {
  if (object_ == nullptr) {
    return status_;
  }
  for (const auto& [key, value] : *object_) {
    if (std::find(known.begin(), known.end(), key) != known.end()) {
      continue;
    }
    std::string expected;
    if (known.size() == 0) {
      expected = "there are no fields";
    } else if (known.size() == 1) {
      expected = "expected `" + std::string(*known.begin()) + "`";
    } else if (known.size() == 2) {
      expected = "expected `" + std::string(*known.begin()) + "` or `" +
                 std::string(*(known.begin() + 1)) + "`";
    } else {
      expected = "expected one of ";
      for (auto it = known.begin(); it != known.end(); ++it) {
        expected += (it == known.begin() ? "`" : ", `") + std::string(*it) + "`";
      }
    }
    return DeserializeError(PathOf(key), "unknown field `" + std::string(key) + "`, " + expected);
  }
  return Status::Ok();
}

Status FieldReader::Unsupported(std::string_view key, std::string_view what) const {
  if (Find(key) != nullptr) {
    return DeserializeError(PathOf(key), std::string(what) + " is not supported");
  }
  return Status::Ok();
}

Status FieldReader::Get(std::string_view key, std::optional<uint64_t>* out) const {
  out->reset();
  if (const json::value* v = Find(key)) {
    uint64_t x;
    TESSERA_RETURN_IF_ERROR(ReadU64(*v, PathOf(key), &x));
    *out = x;
  }
  return Status::Ok();
}

Status FieldReader::Get(std::string_view key, std::optional<uint32_t>* out) const {
  out->reset();
  std::optional<uint64_t> wide;
  TESSERA_RETURN_IF_ERROR(Get(key, &wide));
  if (wide) {
    if (*wide > std::numeric_limits<uint32_t>::max()) {
      return DeserializeError(
          PathOf(key), "invalid value: integer `" + std::to_string(*wide) + "`, expected u32");
    }
    *out = static_cast<uint32_t>(*wide);
  }
  return Status::Ok();
}

Status FieldReader::Get(std::string_view key, std::optional<double>* out) const {
  out->reset();
  if (const json::value* v = Find(key)) {
    if (!v->is_number()) {
      return WrongType(PathOf(key), *v, "a number");
    }
    const double x = v->to_number<double>();
    if (!std::isfinite(x)) {
      return DeserializeError(PathOf(key), "number out of range");
    }
    *out = x;
  }
  return Status::Ok();
}

Status FieldReader::Get(std::string_view key, std::optional<bool>* out) const {
  out->reset();
  if (const json::value* v = Find(key)) {
    if (!v->is_bool()) {
      return WrongType(PathOf(key), *v, "a boolean");
    }
    *out = v->get_bool();
  }
  return Status::Ok();
}

Status FieldReader::Get(std::string_view key, std::optional<std::string>* out) const {
  out->reset();
  if (const json::value* v = Find(key)) {
    if (!v->is_string()) {
      return WrongType(PathOf(key), *v, "a string");
    }
    *out = std::string(v->get_string());
  }
  return Status::Ok();
}

}  // namespace tessera::api

#pragma once

// Payload key paths, in Qdrant's JsonPath grammar: every place that takes a key (filter keys,
// set/delete payload keys, payload index field names, order_by, group_by, with_payload
// include/exclude) reads it with this one parser.
//
//   path  := key ( "." key | "[" digits "]" | "[]" )*
//   key   := raw | quoted
//   raw   := one or more of: a Unicode letter or number, "_", "-"
//   quoted:= '"' any characters but '"' and '\' '"'
//
// So "a.b", "a[0].b", "a[].b", "\"a.b\"[2]" and "ключ" are paths; "", "a..b", "a[", "a.", "[0]",
// "a[-1]", "a b" and an index past 2^64 are not.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tessera::engine {

struct JsonPathItem {
  enum class Kind : uint8_t { kKey, kIndex, kAll };  // .key, [N], []
  Kind kind = Kind::kKey;
  std::string key;   // kKey
  size_t index = 0;  // kIndex
  bool operator==(const JsonPathItem&) const = default;
};

// A parsed path: its first item is always a key.
using JsonPath = std::vector<JsonPathItem>;

// The path, or nullopt when `text` is not one.
std::optional<JsonPath> ParseJsonPath(std::string_view text);

// OK, or InvalidArgument "Invalid json path: '<text>'" (Qdrant's words).
Status CheckJsonPath(std::string_view text);

}  // namespace tessera::engine

#include "engine/payload.h"

#include <string>

#include "engine/json_path.h"

namespace tessera::engine {

namespace json = boost::json;

namespace {

// Qdrant's JsonPath::value_set, and its replace variant: walks `path` from item `i` inside
// `dest`, making objects (for keys) and arrays (for indexes) where the value has another type;
// `[N]` past an array's end and `[]` on an empty array reach nothing. At the end, `values` are
// merged into the object there, or (replace) become it.
void SetIn(json::value& dest, const JsonPath& path, size_t i, const json::object& values,
           bool replace) {
  if (i == path.size()) {
    if (replace) {
      dest = values;
      return;
    }
    if (!dest.is_object()) {
      dest = json::object();
    }
    for (const auto& [key, value] : values) {
      dest.as_object()[key] = value;
    }
    return;
  }
  const JsonPathItem& item = path[i];
  switch (item.kind) {
    case JsonPathItem::Kind::kKey:
      if (!dest.is_object()) {
        dest = json::object();
      }
      SetIn(dest.as_object()[item.key], path, i + 1, values, replace);
      return;
    case JsonPathItem::Kind::kIndex:
      if (!dest.is_array()) {
        dest = json::array();
      }
      if (item.index < dest.as_array().size()) {
        SetIn(dest.as_array()[item.index], path, i + 1, values, replace);
      }
      return;
    case JsonPathItem::Kind::kAll:
      if (!dest.is_array()) {
        dest = json::array();
        return;
      }
      for (json::value& element : dest.as_array()) {
        SetIn(element, path, i + 1, values, replace);
      }
      return;
  }
}

void SetAt(json::object& payload, std::string_view path_text, const json::object& values,
           bool replace) {
  std::optional<JsonPath> path = ParseJsonPath(path_text);
  if (!path) {
    return;  // refused at the API; a record written before the grammar was enforced changes nothing
  }
  SetIn(payload[path->front().key], *path, 1, values, replace);
}

// Qdrant's JsonPath::value_remove: the last item removes a key, or empties an array (`[]`);
// removing one array index is not supported (not idempotent), as in Qdrant.
void RemoveIn(json::value& value, const JsonPath& path, size_t i) {
  const JsonPathItem& item = path[i];
  const bool last = i + 1 == path.size();
  switch (item.kind) {
    case JsonPathItem::Kind::kKey:
      if (json::object* o = value.if_object()) {
        if (last) {
          o->erase(item.key);
        } else if (json::value* child = o->if_contains(item.key)) {
          RemoveIn(*child, path, i + 1);
        }
      }
      return;
    case JsonPathItem::Kind::kIndex:
      if (json::array* a = value.if_array(); a != nullptr && !last && item.index < a->size()) {
        RemoveIn((*a)[item.index], path, i + 1);
      }
      return;
    case JsonPathItem::Kind::kAll:
      if (json::array* a = value.if_array()) {
        if (last) {
          a->clear();
        } else {
          for (json::value& element : *a) {
            RemoveIn(element, path, i + 1);
          }
        }
      }
      return;
  }
}

}  // namespace

void SetPayloadAt(json::object& payload, std::string_view path, const json::object& values) {
  if (path.empty()) {
    for (const auto& [key, value] : values) {
      payload[key] = value;
    }
    return;
  }
  SetAt(payload, path, values, /*replace=*/false);
}

void ReplacePayloadAt(json::object& payload, std::string_view path, const json::object& values) {
  if (path.empty()) {
    payload = values;
    return;
  }
  SetAt(payload, path, values, /*replace=*/true);
}

void DeletePayloadPath(json::object& payload, std::string_view path_text) {
  std::optional<JsonPath> path = ParseJsonPath(path_text);
  if (!path) {
    return;
  }
  if (path->size() == 1) {
    payload.erase(path->front().key);
  } else if (json::value* first = payload.if_contains(path->front().key)) {
    RemoveIn(*first, *path, 1);
  }
}

}  // namespace tessera::engine

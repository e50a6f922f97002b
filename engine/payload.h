#pragma once

// Payload edits at a key path (engine/json_path.h: "a.b", "a[0].b", "a[].b", "\"x.y\""), as
// Qdrant's set_payload `key` and delete_payload `keys` use them. A path that does not parse
// (refused by the API; only a record from before the grammar could hold one) changes nothing.

#include <string_view>

#include <boost/json/object.hpp>

namespace tessera::engine {

// Merges `values` into the object at `path` (empty: the top level), creating objects (for keys)
// and arrays (for indexes) along the way in place of values of another type, as Qdrant's
// value_set does; `[N]` past an array's end reaches nothing, `[]` every element.
void SetPayloadAt(boost::json::object& payload, std::string_view path,
                  const boost::json::object& values);

// Replaces the value at `path` (created if missing) with `values`; empty path: everything.
void ReplacePayloadAt(boost::json::object& payload, std::string_view path,
                      const boost::json::object& values);

// Removes the value at `path` (`...[]` at the end empties the array; a final `[N]` removes
// nothing, as in Qdrant); a missing path is not an error.
void DeletePayloadPath(boost::json::object& payload, std::string_view path);

}  // namespace tessera::engine

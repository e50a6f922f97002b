#pragma once

// Payload edits by dotted path ("a.b.c"; "a[]" walks every element of array `a`), as Qdrant's
// set_payload `key` and delete_payload `keys` use them.

#include <string_view>

#include <boost/json/object.hpp>

namespace tessera::engine {

// Merges `values` into the object at `path` (empty: the top level), creating objects along
// the way and replacing any non-object found there.
void SetPayloadAt(boost::json::object& payload, std::string_view path,
                  const boost::json::object& values);

// Replaces the value at `path` (created if missing) with `values`; empty path: everything.
void ReplacePayloadAt(boost::json::object& payload, std::string_view path,
                      const boost::json::object& values);

// Removes the value at `path`; a missing path is not an error.
void DeletePayloadPath(boost::json::object& payload, std::string_view path);

}  // namespace tessera::engine

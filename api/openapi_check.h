#pragma once

// Request bodies checked against Qdrant's OpenAPI document (api/spec/, embedded in the binary)
// before any decoder reads them: JSON types, `required`, `enum`, `nullable`, integer formats
// (uint, uint8/16/32/64, int64) and `minimum`/`maximum`/`minLength`/`minItems`, through `$ref`,
// `anyOf`/`oneOf` (Qdrant's untagged enums) and `allOf`. The statuses follow Qdrant's layers:
// what serde refuses (a wrong type, a missing field, an enum miss, a negative or overflowing
// unsigned integer, no variant of an untagged enum) is a 400 "Json deserialize error: <path>:
// ...", found in document order; what its validator refuses once the body has decoded (a range
// or length constraint) is a 422 "Validation error in JSON body: [<path>: ...; ...]".
//
// Unknown fields are not this layer's business (the spec does not say where Qdrant refuses
// them): the decoders refuse them where Qdrant does, and everywhere in a write (json_util.h).
// The 1.19 document is read first; operations it dropped (/points/search, /points/recommend,
// /points/discover and their batch and group forms) come from the 1.18 one.

#include <string_view>

#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>

#include "common/status.h"

namespace tessera::api {

// Whether the operation at (method, route pattern) takes a JSON body the spec describes.
bool HasSpecBody(boost::beast::http::verb method, std::string_view pattern);

// The body checked against the operation's request schema; OK when the spec has none.
Status CheckSpecBody(boost::beast::http::verb method, std::string_view pattern,
                     const boost::json::value& body);

}  // namespace tessera::api

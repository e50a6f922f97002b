#pragma once

// multipart/form-data bodies (RFC 7578), as curl -F and the official clients send snapshot
// uploads: finds one named part without copying the body.

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tessera::api {

struct FormPart {
  std::string name;  // the form field name
  std::optional<std::string> filename;
  std::string_view data;  // points into the body passed in
};

// The part called `name` in `body`, whose Content-Type header is `content_type`; when no part
// has that name, the first part that carries a file. InvalidArgument saying what is wrong
// otherwise (not multipart, no boundary, truncated body, no such part).
Result<FormPart> FindFormPart(std::string_view content_type, std::string_view body,
                              std::string_view name);

}  // namespace tessera::api

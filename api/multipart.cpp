#include "api/multipart.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace tessera::api {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// The value of `key=` in a header's parameters ("form-data; name=\"x\"; filename=y").
std::optional<std::string> HeaderParam(std::string_view header, std::string_view key) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t semi = header.find(';', pos);
    if (semi == std::string_view::npos) {
      semi = header.size();
    }
    const std::string_view item = Trim(header.substr(pos, semi - pos));
    pos = semi + 1;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos || Lower(Trim(item.substr(0, eq))) != key) {
      continue;
    }
    std::string_view value = Trim(item.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return std::string(value);
  }
  return std::nullopt;
}

}  // namespace

Result<FormPart> FindFormPart(std::string_view content_type, std::string_view body,
                              std::string_view name) {
  if (!Lower(content_type).starts_with("multipart/form-data")) {
    return Status::InvalidArgument("Bad request: expected a multipart/form-data body, got `" +
                                   std::string(content_type) + "`");
  }
  const std::optional<std::string> boundary = HeaderParam(content_type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 200) {
    return Status::InvalidArgument("Bad request: multipart body without a boundary");
  }
  const std::string delimiter = "--" + *boundary;
  size_t pos = body.find(delimiter);
  if (pos == std::string_view::npos) {
    return Status::InvalidArgument("Bad request: multipart body has no parts");
  }
  std::vector<FormPart> parts;
  for (;;) {
    pos += delimiter.size();
    if (body.substr(pos).starts_with("--")) {
      break;  // the closing delimiter
    }
    if (!body.substr(pos).starts_with("\r\n")) {
      return Status::InvalidArgument("Bad request: malformed multipart body");
    }
    pos += 2;
    const size_t headers_end = body.find("\r\n\r\n", pos);
    if (headers_end == std::string_view::npos) {
      return Status::InvalidArgument("Bad request: truncated multipart body");
    }
    FormPart part;
    std::string_view headers = body.substr(pos, headers_end - pos);
    while (!headers.empty()) {
      size_t eol = headers.find("\r\n");
      if (eol == std::string_view::npos) {
        eol = headers.size();
      }
      const std::string_view line = headers.substr(0, eol);
      headers.remove_prefix(std::min(headers.size(), eol + 2));
      const size_t colon = line.find(':');
      if (colon != std::string_view::npos &&
          Lower(Trim(line.substr(0, colon))) == "content-disposition") {
        const std::string_view value = line.substr(colon + 1);
        part.name = HeaderParam(value, "name").value_or("");
        part.filename = HeaderParam(value, "filename");
      }
    }
    const size_t data_start = headers_end + 4;
    const size_t next = body.find("\r\n" + delimiter, data_start);
    if (next == std::string_view::npos) {
      return Status::InvalidArgument("Bad request: truncated multipart body");
    }
    part.data = body.substr(data_start, next - data_start);
    parts.push_back(std::move(part));
    pos = next + 2;
  }
  for (const FormPart& p : parts) {
    if (p.name == name) {
      return p;
    }
  }
  for (const FormPart& p : parts) {
    if (p.filename) {
      return p;
    }
  }
  return Status::InvalidArgument("Bad request: multipart body has no `" + std::string(name) +
                                 "` part");
}

}  // namespace tessera::api

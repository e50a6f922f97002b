#pragma once

// Qdrant's response envelope. Success: {"result": ..., "status": "ok", "time": seconds}.
// Failure: {"status": {"error": "..."}, "time": seconds} with no "result" key. One function
// (HttpStatusFor) maps a Status code to an HTTP status.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/status.hpp>
#include <boost/json/value.hpp>

#include "common/status.h"

namespace tessera::api {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

struct Reply {
  http::status status = http::status::ok;
  std::string body;
  std::string content_type = "application/json";
  // When set, the response body is this file, streamed from disk (`body` is ignored).
  std::optional<std::filesystem::path> file;
};

http::status HttpStatusFor(Code code);

Reply JsonResult(const boost::json::value& result, Clock::time_point start);
Reply JsonError(http::status status, std::string_view message, Clock::time_point start);
// A non-OK Status as an error reply; 422 messages get Qdrant's "Validation error" framing.
Reply StatusReply(const Status& status, Clock::time_point start);
Reply TextReply(http::status status, std::string text);

}  // namespace tessera::api

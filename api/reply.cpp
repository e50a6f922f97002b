#include "api/reply.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "api/json_util.h"

namespace tessera::api {

namespace json = boost::json;

namespace {
double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}
}  // namespace

http::status HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk:
      return http::status::ok;
    case Code::kNotFound:
      return http::status::not_found;
    case Code::kAlreadyExists:
      return http::status::conflict;
    case Code::kInvalidArgument:
    case Code::kFailedPrecondition:
      return http::status::bad_request;
    case Code::kValidationFailed:
      return http::status::unprocessable_entity;
    case Code::kResourceExhausted:
      return http::status::insufficient_storage;
    case Code::kUnavailable:
      return http::status::service_unavailable;
    case Code::kCorruption:
    case Code::kIoError:
    case Code::kInternal:
      return http::status::internal_server_error;
  }
  return http::status::internal_server_error;
}

Reply JsonResult(const json::value& result, Clock::time_point start) {
  json::object o;
  o["result"] = result;
  o["status"] = "ok";
  o["time"] = SecondsSince(start);
  return Reply{http::status::ok, json::serialize(o)};
}

Reply JsonError(http::status status, std::string_view message, Clock::time_point start) {
  json::object o;
  o["status"] = json::object{{"error", ToValidUtf8(message)}};  // errors may echo input
  o["time"] = SecondsSince(start);
  return Reply{status, json::serialize(o)};
}

Reply StatusReply(const Status& status, Clock::time_point start) {
  if (status.code() == Code::kValidationFailed) {
    return JsonError(http::status::unprocessable_entity,
                     "Validation error in JSON body: [" + status.message() + "]", start);
  }
  return JsonError(HttpStatusFor(status.code()), status.message(), start);
}

Reply TextReply(http::status status, std::string text) {
  return Reply{status, std::move(text), "text/plain; charset=utf-8"};
}

}  // namespace tessera::api

#pragma once

// Routes requests by method and path pattern ("/collections/{collection_name}/aliases").
// Literal segments win over parameters, so "/collections/aliases" is not a collection named
// "aliases". A last segment "{name...}" takes the rest of the path ("a/b.js"; may be empty).
// Every route states its access level; auth is enforced from that in one place.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>

#include "api/reply.h"

namespace tessera::api {

enum class Access { kOpen, kRead, kWrite };

struct Request {
  http::verb method = http::verb::get;
  std::string path;                                        // decoded, without the query
  std::map<std::string, std::string, std::less<>> query;   // decoded query parameters
  std::map<std::string, std::string, std::less<>> params;  // path parameters
  std::string body;
  std::string content_type;
  // The body as JSON when the spec check (openapi_check.h) has parsed it; TakeJsonBody moves it
  // out so that the decoder does not parse it again.
  mutable std::optional<boost::json::value> json_body;
  Clock::time_point start = Clock::now();

  // A query parameter, or nullptr.
  const std::string* Query(std::string_view key) const;
  const std::string& Param(std::string_view key) const { return params.find(key)->second; }
};

// The request's JSON body: the one the spec check parsed, or parsed now (json_util.h's errors).
Result<boost::json::value> TakeJsonBody(const Request& r);

using Handler = std::function<boost::asio::awaitable<Reply>(Request&)>;

struct Route {
  http::verb method;
  std::string pattern;
  Access access;
  Handler handler;
  std::vector<std::string> segments;  // "{name}" marks a parameter
};

class Router {
 public:
  void Add(http::verb method, std::string pattern, Access access, Handler handler);

  enum class Outcome { kFound, kNoPath, kNoMethod };
  struct Match {
    Outcome outcome = Outcome::kNoPath;
    const Route* route = nullptr;
    std::map<std::string, std::string, std::less<>> params;
  };
  // `path` is already percent-decoded per segment by SplitPath.
  Match Find(http::verb method, const std::vector<std::string>& segments) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// Splits "/a/b%20c/" into {"a", "b c"}; false on bad percent-encoding.
bool SplitPath(std::string_view path, std::vector<std::string>* segments);
// Decodes "%xx" and '+' (in queries); false on a bad escape.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out);
// Parses "a=1&b=x%20y" into `out`; false on a bad escape.
bool ParseQuery(std::string_view query, std::map<std::string, std::string, std::less<>>* out);
// Every query parameter Qdrant's API declares, checked against its schema wherever it comes
// (wait, anonymize, per_collection, force: booleans; ordering, consistency, priority: their
// enums; timeout: an integer >= 1; details_level, completed_limit: integers >= 0), so a bad
// value is a 400 before anything runs. Parameters Qdrant does not declare are ignored, as there.
Status CheckQueryParameters(const std::map<std::string, std::string, std::less<>>& query);

}  // namespace tessera::api

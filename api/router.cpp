#include "api/router.h"

#include <algorithm>
#include <charconv>
#include <initializer_list>

#include "api/json_util.h"
#include "common/coding.h"

namespace tessera::api {

namespace {

Status BadQuery(std::string_view name, std::string_view what) {
  return Status::InvalidArgument("Query deserialize error: " + std::string(name) + ": " +
                                 std::string(what));
}

bool Unsigned(std::string_view text, uint64_t* out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

bool OneOf(std::string_view value, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), value) != names.end();
}

std::string Expected(std::initializer_list<std::string_view> names) {
  std::string out = "expected one of ";
  for (auto it = names.begin(); it != names.end(); ++it) {
    out += (it == names.begin() ? "`" : ", `") + std::string(*it) + "`";
  }
  return out;
}

}  // namespace

Status CheckQueryParameters(const std::map<std::string, std::string, std::less<>>& query) {
  for (const auto& [name, value] : query) {
    uint64_t n = 0;
    if (OneOf(name, {"wait", "anonymize", "per_collection", "force"})) {
      if (value != "true" && value != "false") {
        return BadQuery(name, "provided string was not `true` or `false`");
      }
    } else if (name == "ordering") {
      if (!OneOf(value, {"weak", "medium", "strong"})) {
        return BadQuery(name, "unknown variant `" + value + "`, " +
                                  Expected({"weak", "medium", "strong"}));
      }
    } else if (name == "priority") {
      if (!OneOf(value, {"no_sync", "snapshot", "replica"})) {
        return BadQuery(name, "unknown variant `" + value + "`, " +
                                  Expected({"no_sync", "snapshot", "replica"}));
      }
    } else if (name == "consistency") {
      if (!(Unsigned(value, &n) && n >= 1) && !OneOf(value, {"majority", "quorum", "all"})) {
        return BadQuery(name, "expected an integer >= 1 or one of `majority`, `quorum`, `all`");
      }
    } else if (name == "timeout") {
      if (!Unsigned(value, &n) || n < 1) {
        return BadQuery(name, "expected an integer number of seconds, at least 1");
      }
    } else if (OneOf(name, {"details_level", "completed_limit"})) {
      if (!Unsigned(value, &n)) {
        return BadQuery(name, "expected a non-negative integer");
      }
    }
  }
  return Status::Ok();
}

const std::string* Request::Query(std::string_view key) const {
  auto it = query.find(key);
  return it == query.end() ? nullptr : &it->second;
}

bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) {
        return false;
      }
      const int hi = HexDigitValue(in[i + 1]);
      const int lo = HexDigitValue(in[i + 2]);
      if (hi < 0 || lo < 0) {
        return false;
      }
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

bool SplitPath(std::string_view path, std::vector<std::string>* segments) {
  segments->clear();
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) {
      slash = path.size();
    }
    const std::string_view raw = path.substr(pos, slash - pos);
    if (!raw.empty()) {
      std::string decoded;
      if (!PercentDecode(raw, false, &decoded)) {
        return false;
      }
      segments->push_back(std::move(decoded));
    }
    pos = slash + 1;
  }
  return true;
}

bool ParseQuery(std::string_view query, std::map<std::string, std::string, std::less<>>* out) {
  size_t pos = 0;
  while (pos < query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) {
      amp = query.size();
    }
    const std::string_view pair = query.substr(pos, amp - pos);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      std::string key, value;
      if (!PercentDecode(pair.substr(0, eq), true, &key) ||
          (eq != std::string_view::npos && !PercentDecode(pair.substr(eq + 1), true, &value))) {
        return false;
      }
      (*out)[key] = value;
    }
    pos = amp + 1;
  }
  return true;
}

Result<json::value> TakeJsonBody(const Request& r) {
  if (r.json_body) {
    json::value body = std::move(*r.json_body);
    r.json_body.reset();
    return body;
  }
  return ParseJsonBody(r.body);
}

void Router::Add(http::verb method, std::string pattern, Access access, Handler handler) {
  Route route{method, pattern, access, std::move(handler), {}};
  const bool ok = SplitPath(pattern, &route.segments);
  (void)ok;
  routes_.push_back(std::move(route));
}

namespace {
bool IsParam(const std::string& s) {
  return s.size() >= 2 && s.front() == '{' && s.back() == '}';
}
// "{path...}" as a route's last segment: the rest of the path, zero or more segments.
bool IsTail(const Route& route) {
  return !route.segments.empty() && route.segments.back().ends_with("...}");
}
}  // namespace

Router::Match Router::Find(http::verb method, const std::vector<std::string>& segments) const {
  Match best;
  int best_literals = -1;
  bool path_matched = false;
  for (const Route& route : routes_) {
    const bool tail = IsTail(route);
    const size_t fixed = route.segments.size() - (tail ? 1 : 0);
    if (tail ? segments.size() < fixed : route.segments.size() != segments.size()) {
      continue;
    }
    int literals = 0;
    bool matches = true;
    for (size_t i = 0; i < fixed && matches; ++i) {
      const std::string& s = route.segments[i];
      if (IsParam(s)) {
        continue;
      }
      if (s == segments[i]) {
        ++literals;
      } else {
        matches = false;
      }
    }
    if (!matches) {
      continue;
    }
    path_matched = true;
    if (route.method == method && literals > best_literals) {
      best_literals = literals;
      best.route = &route;
    }
  }
  if (best.route == nullptr) {
    best.outcome = path_matched ? Outcome::kNoMethod : Outcome::kNoPath;
    return best;
  }
  best.outcome = Outcome::kFound;
  const bool tail = IsTail(*best.route);
  const size_t fixed = best.route->segments.size() - (tail ? 1 : 0);
  for (size_t i = 0; i < fixed; ++i) {
    const std::string& s = best.route->segments[i];
    if (IsParam(s)) {
      best.params[s.substr(1, s.size() - 2)] = segments[i];
    }
  }
  if (tail) {
    const std::string& s = best.route->segments.back();
    std::string rest;
    for (size_t i = fixed; i < segments.size(); ++i) {
      rest += (rest.empty() ? "" : "/") + segments[i];
    }
    best.params[s.substr(1, s.size() - 5)] = std::move(rest);
  }
  return best;
}

}  // namespace tessera::api

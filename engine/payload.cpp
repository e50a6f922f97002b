#include "engine/payload.h"

#include <string>

namespace tessera::engine {

namespace json = boost::json;

namespace {

// Splits off the first segment of a dotted path. "a[]" marks an array walk.
std::string_view Head(std::string_view path, std::string_view* rest) {
  const size_t dot = path.find('.');
  if (dot == std::string_view::npos) {
    *rest = {};
    return path;
  }
  *rest = path.substr(dot + 1);
  return path.substr(0, dot);
}

void DeleteIn(json::value& value, std::string_view path);

void DeleteInObject(json::object& object, std::string_view path) {
  std::string_view rest;
  std::string_view head = Head(path, &rest);
  const bool walk_array = head.ends_with("[]");
  if (walk_array) {
    head.remove_suffix(2);
  }
  auto it = object.find(head);
  if (it == object.end()) {
    return;
  }
  if (rest.empty() && !walk_array) {
    object.erase(it);
    return;
  }
  if (walk_array) {
    if (!it->value().is_array()) {
      return;
    }
    if (rest.empty()) {
      it->value().as_array().clear();
      return;
    }
    for (json::value& element : it->value().as_array()) {
      DeleteIn(element, rest);
    }
    return;
  }
  DeleteIn(it->value(), rest);
}

void DeleteIn(json::value& value, std::string_view path) {
  if (value.is_object()) {
    DeleteInObject(value.as_object(), path);
  }
}

}  // namespace

void SetPayloadAt(json::object& payload, std::string_view path, const json::object& values) {
  json::object* target = &payload;
  while (!path.empty()) {
    std::string_view rest;
    const std::string_view head = Head(path, &rest);
    json::value& next = (*target)[head];
    if (!next.is_object()) {
      next = json::object();
    }
    target = &next.as_object();
    path = rest;
  }
  for (const auto& [key, value] : values) {
    (*target)[key] = value;
  }
}

void ReplacePayloadAt(json::object& payload, std::string_view path, const json::object& values) {
  if (path.empty()) {
    payload = values;
    return;
  }
  const size_t last_dot = path.rfind('.');
  const std::string_view parent =
      last_dot == std::string_view::npos ? std::string_view() : path.substr(0, last_dot);
  const std::string_view leaf =
      last_dot == std::string_view::npos ? path : path.substr(last_dot + 1);
  json::object* target = &payload;
  std::string_view walk = parent;
  while (!walk.empty()) {
    std::string_view tail;
    const std::string_view head = Head(walk, &tail);
    json::value& next = (*target)[head];
    if (!next.is_object()) {
      next = json::object();
    }
    target = &next.as_object();
    walk = tail;
  }
  (*target)[leaf] = values;
}

void DeletePayloadPath(json::object& payload, std::string_view path) {
  DeleteInObject(payload, path);
}

}  // namespace tessera::engine

#include "api/openapi_check.h"

#include <charconv>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/json/parse.hpp>

#include "api/json_util.h"

// The two documents, embedded as they are in api/spec/ (CMakeLists.txt names the folder).
extern "C" const char tessera_spec_1_19[];
extern "C" const char tessera_spec_1_19_end[];
extern "C" const char tessera_spec_1_18[];
extern "C" const char tessera_spec_1_18_end[];
asm(".section .rodata\n"
    ".global tessera_spec_1_19\n"
    "tessera_spec_1_19:\n"
    ".incbin \"" TESSERA_SPEC_DIR "/qdrant-openapi.json\"\n"
    ".global tessera_spec_1_19_end\n"
    "tessera_spec_1_19_end:\n"
    ".global tessera_spec_1_18\n"
    "tessera_spec_1_18:\n"
    ".incbin \"" TESSERA_SPEC_DIR "/qdrant-openapi-v1.18.x.json\"\n"
    ".global tessera_spec_1_18_end\n"
    "tessera_spec_1_18_end:\n"
    ".previous\n");

namespace tessera::api {

namespace http = boost::beast::http;

namespace {

enum TypeBit : uint8_t {
  kObject = 1,
  kArray = 2,
  kString = 4,
  kInteger = 8,
  kNumber = 16,
  kBoolean = 32,
};

// Where Qdrant's request types flatten an inner struct into the body (`#[serde(flatten)]`):
// the spec shows one flat object, but the validator's paths go through the inner field, so a
// query's `limit: 0` is `internal.limit`. The group fields sit one struct deeper.
struct Flattened {
  std::string_view schema, inner, groups;
};
const Flattened* FlattenedFields(std::string_view schema) {
  static constexpr Flattened kFlat[] = {
      {"QueryRequest", "internal", ""},
      {"QueryGroupsRequest", "search_group_request", "search_group_request.group_request"},
      {"SearchMatrixRequest", "search_request", ""},
      {"FacetRequest", "facet_request", ""},
      {"SearchRequest", "search_request", ""},
      {"SearchGroupsRequest", "search_group_request", "search_group_request.group_request"},
      {"RecommendRequest", "recommend_request", ""},
      {"RecommendGroupsRequest", "recommend_group_request",
       "recommend_group_request.group_request"},
      {"DiscoverRequest", "discover_request", ""},
      {"CountRequest", "count_request", ""},
      {"ScrollRequest", "scroll_request", ""},
      {"PointRequest", "point_request", ""},
  };
  for (const Flattened& f : kFlat) {
    if (f.schema == schema) {
      return &f;
    }
  }
  return nullptr;
}

// One schema, compiled from the document: references resolved to nodes (shared, so recursive
// schemas such as Filter are cycles), keywords read once.
struct Node {
  std::string name;  // the components/schemas name, when the node is one
  // Qdrant's `#[serde(flatten)]` inner struct of this request type, as its validator names
  // it in paths (FlattenedFields), and the one its group fields sit in; empty for the rest.
  std::string_view flattened, flattened_groups;
  uint8_t types = 0;  // 0: any type
  bool nullable = false;
  bool null_only = false;  // {"nullable": true} alone: Option<T>'s None branch
  const json::array* enum_values = nullptr;
  const char* format_name = nullptr;  // "usize", "u64", ... for integer formats
  std::optional<int64_t> format_min;
  std::optional<uint64_t> format_max;
  const json::value* minimum = nullptr;  // explicit (validator) bounds
  const json::value* maximum = nullptr;
  bool nonzero = false;  // a NonZero integer type: 0 does not decode
  std::optional<uint64_t> min_length, max_length, min_items, max_items;
  std::map<std::string, const Node*, std::less<>> properties;
  std::vector<std::string> property_names;  // for "expected one of"
  std::vector<std::string> required;
  const Node* additional = nullptr;
  bool additional_false = false;
  const Node* items = nullptr;
  std::vector<const Node*> any_of;  // anyOf and oneOf
  std::vector<const Node*> variants;  // any_of without the {"nullable": true} branch
  std::vector<const Node*> all_of;
};

class Document {
 public:
  explicit Document(std::string_view text) : root_(json::parse(text)) {
    const json::object& root = root_.as_object();
    schemas_ = &root.at("components").at("schemas").as_object();
    for (const auto& [path, item] : root.at("paths").as_object()) {
      for (const auto& [method, op] : item.as_object()) {
        const json::object* o = op.if_object();
        if (o == nullptr) {
          continue;
        }
        const json::value* body = o->if_contains("requestBody");
        const json::value* schema = nullptr;
        if (body != nullptr) {
          if (const json::value* content = body->as_object().if_contains("content")) {
            if (const json::value* js = content->as_object().if_contains("application/json")) {
              schema = js->as_object().if_contains("schema");
            }
          }
        }
        operations_[Key(method, path)] = schema != nullptr ? Compile(*schema) : nullptr;
      }
    }
  }

  static std::string Key(std::string_view method, std::string_view path) {
    std::string key;
    for (char c : method) {
      key.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    key += ' ';
    key += path;
    return key;
  }

  // nullptr (no body schema) when the operation is listed without one; nullopt when unlisted.
  std::optional<const Node*> Operation(const std::string& key) const {
    auto it = operations_.find(key);
    if (it == operations_.end()) {
      return std::nullopt;
    }
    return it->second;
  }

  Node* Named(std::string_view name) {
    std::string key(name);
    if (auto it = named_.find(key); it != named_.end()) {
      return it->second;
    }
    const json::value* schema = schemas_->if_contains(key);
    if (schema == nullptr) {
      return nullptr;
    }
    Node* node = &nodes_.emplace_back();
    node->name = key;
    if (const Flattened* f = FlattenedFields(key)) {
      node->flattened = f->inner;
      node->flattened_groups = f->groups.empty() ? f->inner : f->groups;
    }
    named_[key] = node;  // before filling: a schema may reach itself
    Fill(schema->as_object(), node);
    return node;
  }

 private:
  Node* Compile(const json::value& schema) {
    const json::object& o = schema.as_object();
    if (const json::value* ref = o.if_contains("$ref")) {
      std::string_view target = ref->as_string();
      constexpr std::string_view kPrefix = "#/components/schemas/";
      if (target.starts_with(kPrefix)) {
        if (Node* named = Named(target.substr(kPrefix.size()))) {
          return named;
        }
      }
      return &nodes_.emplace_back();  // an unknown reference constrains nothing
    }
    Node* node = &nodes_.emplace_back();
    Fill(o, node);
    return node;
  }

  static std::optional<uint64_t> U64(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (v != nullptr && v->is_uint64()) return v->get_uint64();
    if (v != nullptr && v->is_int64() && v->get_int64() >= 0) return v->get_int64();
    return std::nullopt;
  }

  // The fields whose `minimum: 1` is their Rust type's (a NonZero integer that serde refuses
  // to decode from 0: 400) rather than a validator's (422). Qdrant's own tests pin them:
  // test_filter_slice.py has `slice.total: 0` a 400, while test_named_vector_crud.py has
  // `size: 0` a 422 (its NonZeroU64 carries a range validator that answers first).
  static bool IsNonZero(std::string_view schema, std::string_view property) {
    return schema == "Slice" && property == "total";
  }

  void Fill(const json::object& o, Node* node) {
    if (const json::value* type = o.if_contains("type"); type != nullptr && type->is_string()) {
      const std::string_view t = type->get_string();
      node->types = t == "object"    ? kObject
                    : t == "array"   ? kArray
                    : t == "string"  ? kString
                    : t == "integer" ? kInteger
                    : t == "number"  ? (kNumber | kInteger)
                    : t == "boolean" ? kBoolean
                                     : 0;
    }
    if (const json::value* n = o.if_contains("nullable"); n != nullptr && n->is_bool()) {
      node->nullable = n->get_bool();
    }
    node->null_only = node->nullable && node->types == 0 && !o.contains("anyOf") &&
                      !o.contains("oneOf") && !o.contains("allOf") && !o.contains("enum") &&
                      !o.contains("properties");
    if (const json::value* e = o.if_contains("enum"); e != nullptr && e->is_array()) {
      node->enum_values = &e->get_array();
    }
    if (const json::value* f = o.if_contains("format"); f != nullptr && f->is_string() &&
                                                         (node->types & kInteger) &&
                                                         !(node->types & kNumber)) {
      const std::string_view format = f->get_string();
      struct Bounds {
        std::string_view format;
        const char* name;
        std::optional<int64_t> min;
        uint64_t max;
      };
      static constexpr Bounds kFormats[] = {
          {"uint", "usize", 0, UINT64_MAX},     {"uint64", "u64", 0, UINT64_MAX},
          {"uint32", "u32", 0, UINT32_MAX},     {"uint16", "u16", 0, UINT16_MAX},
          {"uint8", "u8", 0, UINT8_MAX},        {"int64", "i64", INT64_MIN, INT64_MAX},
          {"int32", "i32", INT32_MIN, INT32_MAX},
      };
      for (const Bounds& b : kFormats) {
        if (b.format == format) {
          node->format_name = b.name;
          node->format_min = b.min;
          node->format_max = b.max;
        }
      }
    }
    // schemars writes `minimum: 0` for every unsigned integer: that bound is the type's (serde
    // refuses it, 400); any other bound is a validator's (422).
    if (const json::value* m = o.if_contains("minimum")) {
      const bool implied = node->format_min && *node->format_min == 0 && m->is_number() &&
                           m->to_number<double>() == 0;
      if (!implied) node->minimum = m;
    }
    node->maximum = o.if_contains("maximum");
    node->min_length = U64(o, "minLength");
    node->max_length = U64(o, "maxLength");
    node->min_items = U64(o, "minItems");
    node->max_items = U64(o, "maxItems");
    if (const json::value* props = o.if_contains("properties"); props != nullptr) {
      for (const auto& [key, schema] : props->as_object()) {
        Node* child = Compile(schema);
        if (IsNonZero(node->name, key) && child->minimum != nullptr) {
          // Rust's NonZero types: 0 is refused when decoding (400), not by a validator.
          child->minimum = nullptr;
          child->nonzero = true;
        }
        node->properties[std::string(key)] = child;
        node->property_names.emplace_back(key);
      }
    }
    if (const json::value* req = o.if_contains("required"); req != nullptr && req->is_array()) {
      for (const json::value& r : req->get_array()) {
        node->required.emplace_back(r.as_string());
      }
    }
    if (const json::value* add = o.if_contains("additionalProperties")) {
      if (add->is_bool()) {
        node->additional_false = !add->get_bool();
      } else if (add->is_object()) {
        node->additional = Compile(*add);
      }
    }
    if (const json::value* items = o.if_contains("items"); items != nullptr && items->is_object()) {
      node->items = Compile(*items);
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (const json::value* list = o.if_contains(key); list != nullptr && list->is_array()) {
        for (const json::value& branch : list->get_array()) {
          node->any_of.push_back(Compile(branch));
        }
      }
    }
    for (const Node* b : node->any_of) {
      if (!b->null_only) node->variants.push_back(b);
    }
    if (const json::value* list = o.if_contains("allOf"); list != nullptr && list->is_array()) {
      for (const json::value& branch : list->get_array()) {
        node->all_of.push_back(Compile(branch));
      }
    }
  }

  json::value root_;
  const json::object* schemas_ = nullptr;
  std::deque<Node> nodes_;
  std::unordered_map<std::string, Node*> named_;
  std::unordered_map<std::string, const Node*> operations_;
};

struct Spec {
  Document current{std::string_view(tessera_spec_1_19,
                                    static_cast<size_t>(tessera_spec_1_19_end - tessera_spec_1_19))};
  Document legacy{std::string_view(tessera_spec_1_18,
                                   static_cast<size_t>(tessera_spec_1_18_end - tessera_spec_1_18))};

  const Node* Body(http::verb method, std::string_view pattern) const {
    const std::string key = Document::Key(http::to_string(method), pattern);
    if (std::optional<const Node*> op = current.Operation(key)) {
      return *op;
    }
    return legacy.Operation(key).value_or(nullptr);
  }
};

const Spec& TheSpec() {
  static const Spec* spec = new Spec();  // parsed once, never destroyed (read by every thread)
  return *spec;
}

double AsDouble(const json::value& v) {
  return v.is_double() ? v.get_double()
         : v.is_int64() ? static_cast<double>(v.get_int64())
                        : static_cast<double>(v.get_uint64());
}

// A number as serde_json prints it: integers plain, floats with a fraction or exponent.
std::string NumberText(const json::value& v) {
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  char buf[64];
  const double d = AsDouble(v);
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  std::string s(buf, end);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

// serde's `Unexpected` for a value: `string "x"`, `integer `5``, `floating point `1.5``, ...
std::string Unexpected(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return std::string("boolean `") + (v.get_bool() ? "true" : "false") + "`";
    case json::kind::int64:
    case json::kind::uint64:
      return "integer `" + NumberText(v) + "`";
    case json::kind::double_:
      return "floating point `" + NumberText(v) + "`";
    case json::kind::string: {
      std::string_view s = v.get_string();
      if (s.size() > 64) s = s.substr(0, 64);
      return "string \"" + std::string(s) + "\"";
    }
    case json::kind::array:
      return "sequence";
    case json::kind::object:
      return "map";
  }
  return "value";
}

std::string Expected(const Node& n) {
  if (n.types & kNumber) return "a number";
  if (n.types & kInteger) return n.format_name != nullptr ? n.format_name : "an integer";
  if (n.types & kBoolean) return "a boolean";
  if (n.types & kString) return "a string";
  if (n.types & kArray) return "a sequence";
  if (n.types & kObject) return n.name.empty() ? "a map" : "struct " + n.name;
  return "a value";
}

bool HasType(uint8_t types, const json::value& v) {
  switch (v.kind()) {
    case json::kind::bool_:
      return types & kBoolean;
    case json::kind::int64:
    case json::kind::uint64:
      return types & kInteger;
    case json::kind::double_:
      return types & kNumber;
    case json::kind::string:
      return types & kString;
    case json::kind::array:
      return types & kArray;
    case json::kind::object:
      return types & kObject;
    case json::kind::null:
      return false;
  }
  return false;
}

// Where a value sits in the body, as a chain up to the root; spelled out ("a.b[2].c") only for
// an error, so that checking a large body allocates nothing per value.
struct Path {
  const Path* parent = nullptr;
  std::string_view key;
  size_t index = 0;
  bool is_index = false;  // an array element: `index`, not `key`
  // The fields of Qdrant's structs that serde flattens into this key's object and its
  // validator still names ("internal" for QueryRequest's fields): in 422 paths, not in 400s.
  std::string_view flattened;
};

// The flattened struct a field of `n` sits in, as Qdrant's validator names it (Node::flattened).
std::string_view FlattenedInto(const Node& n, std::string_view key) {
  if (n.flattened.empty() || key == "shard_key") {
    return {};
  }
  const bool group_field =
      key == "group_by" || key == "group_size" || key == "limit" || key == "with_lookup";
  return group_field ? n.flattened_groups : n.flattened;
}


// A path as serde names it (`validator`: as Qdrant's validator does, through flattened
// fields).
std::string Render(const Path* path, bool validator = false) {
  std::vector<const Path*> chain;
  for (const Path* p = path; p != nullptr && p->parent != nullptr; p = p->parent) {
    chain.push_back(p);
  }
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if ((*it)->is_index) {
      out += "[" + std::to_string((*it)->index) + "]";
      continue;
    }
    if (!out.empty()) {
      out += '.';
    }
    if (validator && !(*it)->flattened.empty()) {
      out += std::string((*it)->flattened) + '.';
    }
    out += std::string((*it)->key);
  }
  return out;
}

class Checker {
 public:
  // The first 400 in document order; 422s gathered in `ranges_`.
  Status Check(const Node& n, const json::value& v, const Path* path) {
    Status s = CheckNode(n, v, path);
    progress_ += s.ok();
    return s;
  }

  std::vector<std::string>& ranges() { return ranges_; }

 private:
  Status CheckNode(const Node& n, const json::value& v, const Path* path) {
    if (v.is_null()) {
      if (n.nullable || (n.types == 0 && n.any_of.empty() && n.enum_values == nullptr)) {
        return Status::Ok();
      }
      bool branch_allows_null = false;
      for (const Node* b : n.any_of) {
        branch_allows_null = branch_allows_null || b->nullable || b->null_only;
      }
      if (branch_allows_null) {
        return Status::Ok();
      }
      if (n.any_of.empty()) {
        return TypeError(path, "invalid type: null, expected " + Expected(n));
      }
    }
    for (const Node* part : n.all_of) {
      TESSERA_RETURN_IF_ERROR(Check(*part, v, path));
    }
    if (!n.any_of.empty()) {
      TESSERA_RETURN_IF_ERROR(CheckAnyOf(n, v, path));
    }
    if (n.enum_values != nullptr) {
      bool found = false;
      for (const json::value& e : *n.enum_values) {
        found = found || e == v;
      }
      if (!found) {
        std::string expected;
        for (const json::value& e : *n.enum_values) {
          expected += expected.empty() ? "" : ", ";
          expected += e.is_string() ? "`" + std::string(e.get_string()) + "`" : NumberText(e);
        }
        if (v.is_string()) {
          return TypeError(path, "unknown variant `" + std::string(v.get_string()) +
                                     "`, expected one of " + expected);
        }
        return TypeError(path, "invalid type: " + Unexpected(v) + ", expected one of " + expected);
      }
    }
    if (n.types == 0) {
      return Status::Ok();
    }
    if (!HasType(n.types, v)) {
      return TypeError(path, "invalid type: " + Unexpected(v) + ", expected " + Expected(n));
    }
    if (v.is_number()) {
      return CheckNumber(n, v, path);
    }
    if (const json::string* s = v.if_string()) {
      CheckLength(path, *s, n.min_length, n.max_length);
      return Status::Ok();
    }
    if (const json::array* a = v.if_array()) {
      if (n.items != nullptr) {
        for (size_t i = 0; i < a->size(); ++i) {
          const Path item{path, {}, i, true};
          TESSERA_RETURN_IF_ERROR(Check(*n.items, (*a)[i], &item));
        }
      }
      const uint64_t size = a->size();
      if ((n.min_items && size < *n.min_items) || (n.max_items && size > *n.max_items)) {
        ranges_.push_back(Render(path, true) + ": " + LengthText(n.min_items, n.max_items, "items"));
      }
      return Status::Ok();
    }
    if (const json::object* o = v.if_object()) {
      for (const auto& [key, value] : *o) {
        const Path child_path{path, key, 0, false, FlattenedInto(n, key)};
        const Path* child = &child_path;
        if (auto it = n.properties.find(std::string_view(key)); it != n.properties.end()) {
          ++progress_;  // a field this variant knows: evidence that it is the one meant
          TESSERA_RETURN_IF_ERROR(Check(*it->second, value, child));
        } else if (n.additional != nullptr) {
          TESSERA_RETURN_IF_ERROR(Check(*n.additional, value, child));
        } else if (n.additional_false) {
          std::string expected;
          for (const std::string& name : n.property_names) {
            expected += (expected.empty() ? "`" : ", `") + name + "`";
          }
          return TypeError(child, "unknown field `" + std::string(key) + "`, expected " +
                                     (n.property_names.size() == 1 ? "" : "one of ") + expected);
        }
      }
      for (const std::string& field : n.required) {
        if (!o->contains(field)) {
          return TypeError(path, "missing field `" + field + "`");
        }
      }
    }
    return Status::Ok();
  }

  Status TypeError(const Path* path, std::string what) {
    return DeserializeError(Render(path), what);
  }

  Status CheckAnyOf(const Node& n, const json::value& v, const Path* path) {
    const std::vector<const Node*>& branches = n.variants;
    if (branches.size() == 1) {  // Option<T>: T's own errors
      return Check(*branches.front(), v, path);
    }
    // Qdrant's untagged enums: the first variant that decodes. When none does, the variant
    // that got furthest (the most values checked before its error) is the one the client
    // meant, and its error is reported; when several got equally far the body is left to the
    // decoder, whose errors name the shapes (api/*_codec.cpp).
    // A variant of another JSON type than the value's is no candidate; if none is left the
    // value matches no variant, serde's error.
    std::optional<std::vector<std::string>> ranges;
    size_t ranges_progress = 0;
    bool any_candidate = false;
    bool have_best = false;
    std::optional<Status> best_error;  // nullopt: the furthest variant was itself left open
    size_t best_progress = 0;
    bool tie = false;
    for (const Node* b : branches) {
      if (!TypeFits(*b, v)) {
        continue;
      }
      any_candidate = true;
      Checker trial;
      Status s = trial.Check(*b, v, path);
      if (s.ok() && !trial.deferred_) {
        if (trial.ranges_.empty()) {
          progress_ += trial.progress_;
          return Status::Ok();
        }
        if (!ranges) {  // it decodes as this variant, whose validation fails
          ranges = std::move(trial.ranges_);
          ranges_progress = trial.progress_;
        }
        continue;
      }
      if (!have_best || trial.progress_ > best_progress) {
        have_best = true;
        best_progress = trial.progress_;
        best_error = s.ok() ? std::nullopt : std::optional<Status>(std::move(s));
        tie = false;
      } else if (trial.progress_ == best_progress) {
        tie = true;
      }
    }
    if (ranges) {
      ranges_.insert(ranges_.end(), ranges->begin(), ranges->end());
      progress_ += ranges_progress;
      return Status::Ok();
    }
    if (!any_candidate) {
      return TypeError(path, "data did not match any variant of untagged enum" +
                                 (n.name.empty() ? std::string() : " " + n.name));
    }
    progress_ += best_progress;
    if (tie || !best_error) {
      deferred_ = true;
      return Status::Ok();
    }
    return *best_error;
  }

  // Whether `v`'s JSON type is one `n` can take at its top.
  static bool TypeFits(const Node& n, const json::value& v) {
    if (v.is_null()) {
      return n.nullable || n.null_only;
    }
    if (!n.any_of.empty()) {
      for (const Node* b : n.any_of) {
        if (!b->null_only && TypeFits(*b, v)) return true;
      }
      return false;
    }
    for (const Node* part : n.all_of) {
      if (!TypeFits(*part, v)) return false;
    }
    if (n.types != 0) {
      return HasType(n.types, v);
    }
    if (n.enum_values != nullptr) {
      for (const json::value& e : *n.enum_values) {
        if (e.kind() == v.kind()) return true;
      }
      return false;
    }
    return !n.null_only;
  }

  Status CheckNumber(const Node& n, const json::value& v, const Path* path) {
    if ((n.types & kNumber) == 0) {  // integer
      if (n.format_min && v.is_int64() && v.get_int64() < *n.format_min) {
        return TypeError(path, "invalid value: " + Unexpected(v) + ", expected " + Expected(n));
      }
      if (n.format_max && ((v.is_uint64() && v.get_uint64() > *n.format_max) ||
                           (v.is_int64() && v.get_int64() > 0 &&
                            static_cast<uint64_t>(v.get_int64()) > *n.format_max))) {
        return TypeError(path, "invalid value: " + Unexpected(v) + ", expected " + Expected(n));
      }
    }
    if (n.nonzero && AsDouble(v) == 0) {
      return TypeError(path, "invalid value: " + Unexpected(v) + ", expected a nonzero " +
                                 Expected(n));
    }
    if (n.minimum == nullptr && n.maximum == nullptr) {
      return Status::Ok();
    }
    const double x = AsDouble(v);
    const bool low = n.minimum != nullptr && n.minimum->is_number() && x < AsDouble(*n.minimum);
    const bool high = n.maximum != nullptr && n.maximum->is_number() && x > AsDouble(*n.maximum);
    if (low || high) {
      // A float field's value and bounds print as floats (`0.0`), whatever the JSON wrote.
      const bool float_field = (n.types & kNumber) != 0;  // "number" (it takes integers too)
      auto text = [&](const json::value& x) {
        return float_field ? NumberText(json::value(AsDouble(x))) : NumberText(x);
      };
      std::string msg = "value " + text(v) + " invalid, ";
      if (n.minimum != nullptr && n.maximum != nullptr) {
        msg += "must be from " + text(*n.minimum) + " to " + text(*n.maximum);
      } else if (n.minimum != nullptr) {
        msg += "must be " + text(*n.minimum) + " or larger";
      } else {
        msg += "must be " + text(*n.maximum) + " or smaller";
      }
      ranges_.push_back(Render(path, true) + ": " + msg);
    }
    return Status::Ok();
  }

  static std::string LengthText(std::optional<uint64_t> min, std::optional<uint64_t> max,
                                std::string_view unit) {
    const std::string u(unit);
    if (min && max) {
      return "must be from " + std::to_string(*min) + " to " + std::to_string(*max) + " " + u;
    }
    if (min) {
      return "must be at least " + std::to_string(*min) + " " + u;
    }
    return "must be at most " + std::to_string(max.value_or(0)) + " " + u;
  }

  void CheckLength(const Path* path, std::string_view s, std::optional<uint64_t> min,
                   std::optional<uint64_t> max) {
    const uint64_t size = s.size();
    if ((min && size < *min) || (max && size > *max)) {
      ranges_.push_back(Render(path, true) + ": " + LengthText(min, max, "characters"));
    }
  }

  std::vector<std::string> ranges_;
  size_t progress_ = 0;  // values checked without error
  bool deferred_ = false;  // an untagged enum left to the decoder (several variants came close)
};

Status RunCheck(const Node& node, const json::value& body) {
  Checker checker;
  const Path root;
  TESSERA_RETURN_IF_ERROR(checker.Check(node, body, &root));
  if (!checker.ranges().empty()) {
    std::string joined;
    for (const std::string& r : checker.ranges()) {
      joined += (joined.empty() ? "" : "; ") + r;
    }
    return Status::ValidationFailed(joined);
  }
  return Status::Ok();
}

}  // namespace

bool HasSpecBody(http::verb method, std::string_view pattern) {
  return TheSpec().Body(method, pattern) != nullptr;
}

Status CheckSpecBody(http::verb method, std::string_view pattern, const json::value& body) {
  const Node* node = TheSpec().Body(method, pattern);
  return node == nullptr ? Status::Ok() : RunCheck(*node, body);
}

}  // namespace tessera::api

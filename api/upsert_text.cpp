// ParseUpsertText: an upsert body (a `points` list or a columnar `batch`) decoded straight from
// its text. The DOM path (ParseJsonBody + ParseUpsert) builds a json::value for every float,
// converts it and destroys it again; for an upload that is most of the server's work. This
// handler takes the same Boost.JSON parser's events and writes floats into the points' vectors
// as they are read.
//
// It only accepts what it can decode exactly as ParseUpsert would, and gives up on anything
// else (a syntax error, an unexpected type, a duplicate or unknown key, a value ParseUpsert would
// reject, a key it reads only when null),
// so that the DOM path decodes the body or reports the error in its words.

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

#include "api/points_codec.h"

namespace tessera::api {

namespace {

namespace json = boost::json;
using boost::system::error_code;

class UpsertHandler {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  engine::UpsertOp& op() { return op_; }
  bool done() const { return at_ == At::kEnd; }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code& ec) { return at_ == At::kEnd || GiveUp(ec); }

  bool on_object_begin(error_code& ec) {
    switch (at_) {
      case At::kStart:
        at_ = At::kTop;
        return true;
      case At::kPoints:
        op_.points.emplace_back();
        point_fields_ = 0;
        at_ = At::kPoint;
        return true;
      case At::kTopValue:
        if (field_ == Field::kBatch) {
          at_ = At::kBatch;
          return true;
        }
        return GiveUp(ec);
      case At::kPointValue:
        if (field_ == Field::kVector) {
          at_ = At::kNamed;
          return true;
        }
        if (field_ == Field::kPayload) {
          return BeginPayload(At::kPoint);
        }
        return GiveUp(ec);
      case At::kBatchValue:
        if (field_ == Field::kVector) {
          at_ = At::kNamedColumns;
          return true;
        }
        return GiveUp(ec);
      case At::kPayloads:
        return BeginPayload(At::kPayloads);
      case At::kPayload:
        ++depth_;
        return true;
      default:
        return GiveUp(ec);
    }
  }

  bool on_object_end(std::size_t n, error_code& ec) {
    switch (at_) {
      case At::kTop:
        if (!(top_fields_ & (Bit(Field::kPoints) | Bit(Field::kBatch)))) {
          return GiveUp(ec);
        }
        at_ = At::kEnd;
        return true;
      case At::kPoint:
        if (!(point_fields_ & Bit(Field::kId)) || !(point_fields_ & Bit(Field::kVector))) {
          return GiveUp(ec);
        }
        at_ = At::kPoints;
        return true;
      case At::kNamed:
        at_ = At::kPoint;
        return true;
      case At::kBatch:
        return EndBatch(ec);
      case At::kNamedColumns:
        at_ = At::kBatch;
        return true;
      case At::kPayload:
        stack_.push_object(n);
        return --depth_ == 0 ? EndPayload(ec) : true;
      default:
        return GiveUp(ec);
    }
  }

  bool on_array_begin(error_code& ec) {
    switch (at_) {
      case At::kTopValue:
        if (field_ == Field::kPoints) {
          at_ = At::kPoints;
          return true;
        }
        return GiveUp(ec);
      case At::kPointValue:
        if (field_ == Field::kVector) {
          vector_ = engine::AsDense(op_.points.back().vectors[""]);  // a new map value: dense
          vector_->reserve(dim_hint_);
          at_ = At::kVector;
          return true;
        }
        return GiveUp(ec);
      case At::kNamedValue:
        at_ = At::kNamedVector;
        return true;
      case At::kBatchValue:
        switch (field_) {
          case Field::kId:
            at_ = At::kIds;
            return true;
          case Field::kVector:
            column_ = &columns_[""];
            columns_return_ = At::kBatch;
            at_ = At::kColumns;
            return true;
          case Field::kPayload:
            has_payloads_ = true;
            at_ = At::kPayloads;
            return true;
          default:
            return GiveUp(ec);
        }
      case At::kNamedColumnsValue:
        columns_return_ = At::kNamedColumns;
        at_ = At::kColumns;
        return true;
      case At::kColumns:
        vector_ = &column_->emplace_back();
        vector_->reserve(dim_hint_);
        at_ = At::kColumnVector;
        return true;
      case At::kPayload:
        ++depth_;
        return true;
      default:
        return GiveUp(ec);
    }
  }

  bool on_array_end(std::size_t n, error_code& ec) {
    switch (at_) {
      case At::kPoints:
      case At::kIds:
      case At::kPayloads:
        at_ = at_ == At::kPoints ? At::kTop : At::kBatch;
        return true;
      case At::kVector:
      case At::kNamedVector:
      case At::kColumnVector:
        if (vector_->empty()) {
          return GiveUp(ec);  // the DOM path's validation error ("dense vector must not be empty")
        }
        dim_hint_ = vector_->size();
        at_ = at_ == At::kVector ? At::kPoint : at_ == At::kNamedVector ? At::kNamed : At::kColumns;
        return true;
      case At::kColumns:
        at_ = columns_return_;
        return true;
      case At::kPayload:
        stack_.push_array(n);
        return --depth_ == 0 ? EndPayload(ec) : true;
      default:
        return GiveUp(ec);
    }
  }

  bool on_key_part(std::string_view part, std::size_t, error_code&) {
    if (at_ == At::kPayload) {
      stack_.push_chars(part);
    } else {
      key_.append(part);
    }
    return true;
  }

  bool on_key(std::string_view part, std::size_t, error_code& ec) {
    if (at_ == At::kPayload) {
      stack_.push_key(part);
      return true;
    }
    if (key_.empty()) {
      return OnKey(part, ec);  // the usual case: the key came in one piece
    }
    key_.append(part);
    const bool ok = OnKey(key_, ec);
    key_.clear();
    return ok;
  }

  bool on_string_part(std::string_view part, std::size_t, error_code&) {
    if (at_ == At::kPayload) {
      stack_.push_chars(part);
    } else if (ReadingId()) {
      key_.append(part);  // an id's text, whole at on_string
    }
    return true;
  }

  bool on_string(std::string_view part, std::size_t, error_code& ec) {
    if (at_ == At::kPayload) {
      stack_.push_string(part);
      return true;
    }
    if (ReadingId()) {
      key_.append(part);
      const json::value id(key_);
      key_.clear();
      return SetId(id, ec);
    }
    return GiveUp(ec);
  }

  bool on_number_part(std::string_view, error_code&) { return true; }

  bool on_int64(int64_t i, std::string_view, error_code& ec) { return Integer(i, ec); }
  bool on_uint64(uint64_t u, std::string_view, error_code& ec) { return Integer(u, ec); }

  bool on_double(double d, std::string_view, error_code& ec) {
    if (at_ == At::kPayload) {
      if (!std::isfinite(d)) {
        return GiveUp(ec);  // 1e400: the DOM path refuses it
      }
      stack_.push_double(d);
      return true;
    }
    return Number(d, ec);
  }

  bool on_bool(bool b, error_code& ec) {
    if (at_ == At::kPayload) {
      stack_.push_bool(b);
      return true;
    }
    return GiveUp(ec);
  }

  bool on_null(error_code& ec) {
    if (at_ == At::kPayload) {
      stack_.push_null();
      return true;
    }
    if (at_ == At::kPointValue && field_ == Field::kPayload) {
      at_ = At::kPoint;  // a null payload is an empty one
      return true;
    }
    if (at_ == At::kBatchValue && field_ == Field::kPayload) {
      at_ = At::kBatch;  // null payloads: none
      return true;
    }
    if (at_ == At::kPayloads) {
      payloads_.emplace_back();
      return true;
    }
    return GiveUp(ec);
  }

  bool on_comment_part(std::string_view, error_code& ec) { return GiveUp(ec); }
  bool on_comment(std::string_view, error_code& ec) { return GiveUp(ec); }

 private:
  enum class At {
    kStart,              // before the body's object
    kTop,                // in the body's object: a key or its end
    kTopValue,           // the value of a top-level key
    kPoints,             // in `points`: a point or the end
    kPoint,              // in a point: a key or its end
    kPointValue,         // the value of a point's key
    kVector,             // in a point's unnamed vector: numbers
    kNamed,              // in a point's {name: vector} map: a name or its end
    kNamedValue,         // the value of a vector name
    kNamedVector,        // in a named vector: numbers
    kBatch,              // in `batch`: a key or its end
    kBatchValue,         // the value of a batch key
    kIds,                // in batch.ids: ids
    kColumns,            // in a list of vectors (batch.vectors or one of its names): vectors
    kColumnVector,       // in one vector of such a list: numbers
    kNamedColumns,       // in batch.vectors as {name: list}: a name or its end
    kNamedColumnsValue,  // the value of such a name
    kPayloads,           // in batch.payloads: payloads or nulls
    kPayload,            // in a payload: every event goes to stack_
    kEnd,
  };
  // One bit each in a fields mask; `vector`/`vectors` share kVector (ParseUpsert reads the
  // first present), batch.ids is kId, batch.vectors kVector, batch.payloads kPayload.
  enum class Field { kUnknown, kPoints, kBatch, kId, kVector, kPayload };
  static unsigned Bit(Field f) { return 1u << static_cast<unsigned>(f); }

  bool OnKey(std::string_view key, error_code& ec) {
    switch (at_) {
      case At::kTop:
        field_ = key == "points"  ? Field::kPoints
                 : key == "batch" ? Field::kBatch
                                  : Field::kUnknown;
        // Any other key (refused, or read only when null), both `points` and `batch`, or one
        // twice: the DOM path decides.
        if (field_ == Field::kUnknown || !Claim(&top_fields_) ||
            (top_fields_ & Bit(Field::kPoints) && top_fields_ & Bit(Field::kBatch))) {
          return GiveUp(ec);
        }
        at_ = At::kTopValue;
        return true;
      case At::kPoint:
        field_ = key == "id"                           ? Field::kId
                 : key == "vector" || key == "vectors" ? Field::kVector
                 : key == "payload"                    ? Field::kPayload
                                                       : Field::kUnknown;
        if (field_ == Field::kUnknown || !Claim(&point_fields_)) {
          return GiveUp(ec);
        }
        at_ = At::kPointValue;
        return true;
      case At::kBatch:
        field_ = key == "ids"        ? Field::kId
                 : key == "vectors"  ? Field::kVector
                 : key == "payloads" ? Field::kPayload
                                     : Field::kUnknown;
        if (field_ == Field::kUnknown || !Claim(&batch_fields_)) {
          return GiveUp(ec);
        }
        at_ = At::kBatchValue;
        return true;
      case At::kNamed: {
        auto [it, added] = op_.points.back().vectors.try_emplace(std::string(key));
        if (!added) {
          return GiveUp(ec);
        }
        vector_ = engine::AsDense(it->second);  // a new map value: dense
        vector_->reserve(dim_hint_);
        at_ = At::kNamedValue;
        return true;
      }
      case At::kNamedColumns: {
        auto [it, added] = columns_.try_emplace(std::string(key));
        if (!added) {
          return GiveUp(ec);
        }
        column_ = &it->second;
        at_ = At::kNamedColumnsValue;
        return true;
      }
      default:
        return GiveUp(ec);
    }
  }

  // Marks field_ as seen in `fields`; false when it comes twice.
  bool Claim(unsigned* fields) {
    if (*fields & Bit(field_)) {
      return false;
    }
    *fields |= Bit(field_);
    return true;
  }

  bool GiveUp(error_code& ec) {
    ec = boost::json::error::exception;  // any error: the caller only sees "not decoded here"
    return false;
  }

  bool ReadingId() const {
    return (at_ == At::kPointValue && field_ == Field::kId) || at_ == At::kIds;
  }

  bool BeginPayload(At then) {
    stack_.reset();
    payload_return_ = then;
    at_ = At::kPayload;
    depth_ = 1;
    return true;
  }
  bool EndPayload(error_code& ec) {
    json::value payload = stack_.release();
    if (!payload.is_object()) {
      return GiveUp(ec);
    }
    if (payload_return_ == At::kPayloads) {
      payloads_.push_back(std::move(payload.get_object()));
    } else {
      op_.points.back().payload = std::move(payload.get_object());
    }
    at_ = payload_return_;
    return true;
  }

  bool SetId(const json::value& id, error_code& ec) {
    Result<engine::PointId> parsed = ParsePointId(id, "id");
    if (!parsed.ok()) {
      return GiveUp(ec);
    }
    if (at_ == At::kIds) {
      ids_.push_back(*parsed);
      return true;
    }
    op_.points.back().id = *parsed;
    at_ = At::kPoint;
    return true;
  }

  // An integer: a payload value, an id, or a vector element.
  template <typename Int>
  bool Integer(Int i, error_code& ec) {
    if (at_ == At::kPayload) {
      if constexpr (std::is_signed_v<Int>) {
        stack_.push_int64(i);
      } else {
        stack_.push_uint64(i);
      }
      return true;
    }
    if (ReadingId()) {
      return SetId(json::value(i), ec);
    }
    return Number(static_cast<double>(i), ec);
  }

  // A vector element, with ParseDenseVector's check.
  bool Number(double d, error_code& ec) {
    if (at_ == At::kVector || at_ == At::kNamedVector || at_ == At::kColumnVector) {
      if (!std::isfinite(d) || std::fabs(d) > std::numeric_limits<float>::max()) {
        return GiveUp(ec);
      }
      vector_->push_back(static_cast<float>(d));
      return true;
    }
    return GiveUp(ec);
  }

  // The end of `batch`: its columns become points, when every length matches the ids.
  bool EndBatch(error_code& ec) {
    if (!(batch_fields_ & Bit(Field::kId)) || !(batch_fields_ & Bit(Field::kVector))) {
      return GiveUp(ec);
    }
    const size_t n = ids_.size();
    for (const auto& [name, column] : columns_) {
      if (column.size() != n) {
        return GiveUp(ec);
      }
    }
    if (has_payloads_ && payloads_.size() != n) {
      return GiveUp(ec);
    }
    op_.points.resize(n);
    for (size_t i = 0; i < n; ++i) {
      engine::PointStruct& point = op_.points[i];
      point.id = ids_[i];
      for (auto& [name, column] : columns_) {
        point.vectors[name] = std::move(column[i]);
      }
      if (has_payloads_) {
        point.payload = std::move(payloads_[i]);
      }
    }
    at_ = At::kTop;
    return true;
  }

  engine::UpsertOp op_;
  At at_ = At::kStart;
  At payload_return_ = At::kPoint;  // after a payload
  At columns_return_ = At::kBatch;  // after a list of vectors
  Field field_ = Field::kUnknown;
  unsigned top_fields_ = 0;
  unsigned point_fields_ = 0;
  unsigned batch_fields_ = 0;
  size_t depth_ = 0;  // nesting inside a payload
  size_t dim_hint_ = 0;
  std::string key_;
  std::vector<float>* vector_ = nullptr;
  // batch: its ids, vector lists by name ("" for the unnamed one) and payloads
  std::vector<engine::PointId> ids_;
  std::map<std::string, std::vector<std::vector<float>>, std::less<>> columns_;
  std::vector<std::vector<float>>* column_ = nullptr;
  std::vector<json::object> payloads_;
  bool has_payloads_ = false;
  json::value_stack stack_;
};

bool IsJsonSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

std::optional<engine::UpsertOp> ParseUpsertText(std::string_view body) {
  json::parse_options options;
  options.max_depth = 64;  // as ParseJsonBody
  json::basic_parser<UpsertHandler> parser(options);
  error_code ec;
  size_t used = 0;
  try {
    used = parser.write_some(false, body.data(), body.size(), ec);
  } catch (const std::exception&) {
    return std::nullopt;  // out of memory or a length limit: the DOM path reports it
  }
  if (ec || !parser.handler().done()) {
    return std::nullopt;
  }
  for (size_t i = used; i < body.size(); ++i) {
    if (!IsJsonSpace(body[i])) {
      return std::nullopt;
    }
  }
  return std::move(parser.handler().op());
}

}  // namespace tessera::api

#include "engine/json_path.h"

#include <charconv>

#include <unicode/uchar.h>
#include <unicode/utf8.h>

namespace tessera::engine {

namespace {

// Rust's char::is_alphanumeric, which Qdrant's raw keys use: the Alphabetic property or a
// number (Nd, Nl, No).
bool IsAlphanumeric(UChar32 c) {
  if (c < 0x80) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }
  if (u_hasBinaryProperty(c, UCHAR_ALPHABETIC)) {
    return true;
  }
  const int8_t type = u_charType(c);
  return type == U_DECIMAL_DIGIT_NUMBER || type == U_LETTER_NUMBER || type == U_OTHER_NUMBER;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  std::optional<JsonPath> Parse() {
    JsonPath path;
    std::string first;
    if (!Key(&first)) {
      return std::nullopt;
    }
    path.push_back({JsonPathItem::Kind::kKey, std::move(first), 0});
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '.') {
        ++pos_;
        std::string key;
        if (!Key(&key)) {
          return std::nullopt;
        }
        path.push_back({JsonPathItem::Kind::kKey, std::move(key), 0});
      } else if (c == '[') {
        ++pos_;
        if (pos_ < text_.size() && text_[pos_] == ']') {
          ++pos_;
          path.push_back({JsonPathItem::Kind::kAll, {}, 0});
          continue;
        }
        const size_t start = pos_;
        while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
          ++pos_;
        }
        size_t index = 0;
        const auto [end, ec] = std::from_chars(text_.data() + start, text_.data() + pos_, index);
        if (pos_ == start || ec != std::errc() || end != text_.data() + pos_ ||
            pos_ >= text_.size() || text_[pos_] != ']') {
          return std::nullopt;  // no digits, too large, or not closed
        }
        ++pos_;
        path.push_back({JsonPathItem::Kind::kIndex, {}, index});
      } else {
        return std::nullopt;
      }
    }
    return path;
  }

 private:
  // A raw or quoted key at pos_.
  bool Key(std::string* out) {
    if (pos_ < text_.size() && text_[pos_] == '"') {
      const size_t start = ++pos_;
      while (pos_ < text_.size() && text_[pos_] != '"' && text_[pos_] != '\\') {
        ++pos_;
      }
      if (pos_ >= text_.size() || text_[pos_] != '"') {
        return false;
      }
      out->assign(text_.substr(start, pos_ - start));
      ++pos_;
      return true;
    }
    const size_t start = pos_;
    while (pos_ < text_.size()) {
      int32_t next = static_cast<int32_t>(pos_);
      UChar32 c;
      U8_NEXT(text_.data(), next, static_cast<int32_t>(text_.size()), c);
      if (c < 0 || !(c == '_' || c == '-' || IsAlphanumeric(c))) {
        break;
      }
      pos_ = static_cast<size_t>(next);
    }
    out->assign(text_.substr(start, pos_ - start));
    return pos_ > start;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<JsonPath> ParseJsonPath(std::string_view text) {
  if (text.size() > static_cast<size_t>(INT32_MAX)) {
    return std::nullopt;
  }
  return Parser(text).Parse();
}

Status CheckJsonPath(std::string_view text) {
  if (ParseJsonPath(text)) {
    return Status::Ok();
  }
  return Status::InvalidArgument("Invalid json path: '" + std::string(text) + "'");
}

}  // namespace tessera::engine

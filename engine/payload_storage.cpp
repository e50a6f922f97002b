#include "engine/payload_storage.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/coding.h"

namespace tessera::engine {

namespace json = boost::json;

void PayloadStorage::EncodeOne(std::string* out, const json::object& payload) {
  PutLengthPrefixed(out, payload.empty() ? std::string() : json::serialize(payload));
}

void PayloadStorage::EncodeTo(std::string* out) const {
  for (const json::object& p : payloads_) {
    EncodeOne(out, p);
  }
}

bool PayloadStorage::DecodeOne(Decoder* in, json::object* payload) {
  std::string_view text;
  if (!in->GetLengthPrefixed(&text)) {
    return false;
  }
  payload->clear();
  if (text.empty()) {
    return true;
  }
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    return false;
  }
  *payload = std::move(v.as_object());
  return true;
}

bool PayloadStorage::DecodeFrom(Decoder* in, size_t n) {
  if (n > in->remaining()) {
    return false;
  }
  payloads_.resize(n);
  for (json::object& p : payloads_) {
    if (!DecodeOne(in, &p)) {
      return false;
    }
  }
  return true;
}

}  // namespace tessera::engine

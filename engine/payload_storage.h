#pragma once

// A segment's payload storage: one JSON object per offset ({} when the point has none).
// Filters still read these objects; the payload-index issue (#17) puts typed per-field indexes
// beside them and keeps JSON to the API edge.
//
// Thread-safety: none of its own (the segment's lock guards it).

#include <cstddef>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "index/metric.h"

namespace tessera {
class Decoder;
}  // namespace tessera

namespace tessera::engine {

using index::Offset;

class PayloadStorage {
 public:
  size_t size() const { return payloads_.size(); }
  const boost::json::object& Get(Offset o) const { return payloads_[o]; }
  boost::json::object& Mutable(Offset o) { return payloads_[o]; }
  void Reserve(size_t points) { payloads_.reserve(points); }
  void Append() { payloads_.emplace_back(); }

  // payloads := payload*[n]      payload := lp(JSON text, "" = {})
  void EncodeTo(std::string* out) const;
  static void EncodeOne(std::string* out, const boost::json::object& payload);
  // Reads `n` payloads. False if malformed.
  bool DecodeFrom(Decoder* in, size_t n);
  static bool DecodeOne(Decoder* in, boost::json::object* payload);

 private:
  std::vector<boost::json::object> payloads_;
};

}  // namespace tessera::engine

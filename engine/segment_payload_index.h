#pragma once

// A segment's payload index: per indexed field, what the segment's values there are. Two kinds:
//   - value counts (FieldStats), for the planner's estimates on sealed segments;
//   - the offsets with any non-null value (payload_schema's point counts in collection info);
//   - field indexes (index/field/): the strings (keyword), the integers and the numbers of the
//     field, each value -> a Roaring bitmap of offsets, from which filters get their candidates
//     (indexed_filter.h). Values are read with the filter evaluator's own path grammar
//     (ValuesAt), so an index answers exactly what the evaluator would. Each is built on first
//     use, at the segment's body generation, and from then on kept exact by the segment's
//     writes (PayloadChanged, Advance): an appendable segment's indexes follow its payloads
//     value by value instead of being rebuilt after each write. An index that was not current
//     when a write came (none was asked for since) is rebuilt on its next use. Tombstones do
//     not touch the indexes: readers check them.
// The payload-index issue (#17) goes on from here: persisted with the segment.
//
// Thread-safety: const methods from any thread (mu_ is a leaf); the segment it belongs to must
// be read under the segment lock (shared) meanwhile.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/lock_order.h"
#include "engine/id_tracker.h"
#include "engine/payload_storage.h"
#include "index/field/geo_index.h"
#include "index/field/keyword_index.h"
#include "index/field/numeric_index.h"
#include "index/field/text_tokenizer.h"

namespace tessera::engine {

struct FieldStats {
  std::unordered_map<std::string, uint64_t> values;  // "s:<string>", "i:<int>", "b:<0|1>"
  std::vector<double> numbers;                       // sorted
};

class SegmentPayloadIndex {
 public:
  // The field's statistics over the live points, gathered on first use.
  std::shared_ptr<const FieldStats> Field(const std::string& field, const IdTracker& ids,
                                          const PayloadStorage& payloads) const;
  // The field's string values (keyword), integer values, and numeric values (integers and
  // floats, as doubles), over the live points, each built on first use.
  // `generation`: the segment's body generation now.
  std::shared_ptr<const index::KeywordIndex> Strings(const std::string& field, uint64_t generation,
                                                     const IdTracker& ids,
                                                     const PayloadStorage& payloads) const;
  std::shared_ptr<const index::IntegerIndex> Integers(const std::string& field,
                                                      uint64_t generation, const IdTracker& ids,
                                                      const PayloadStorage& payloads) const;
  std::shared_ptr<const index::FloatIndex> Numbers(const std::string& field, uint64_t generation,
                                                   const IdTracker& ids,
                                                   const PayloadStorage& payloads) const;
  // The field's string values as `tokenizer` cuts them (a text index): token -> the offsets
  // whose values hold it. Built per tokenizer (an index recreated with other parameters gets
  // its own).
  std::shared_ptr<const index::KeywordIndex> Tokens(
      const std::string& field, uint64_t generation,
      const std::shared_ptr<const index::TextTokenizer>& tokenizer, const IdTracker& ids,
      const PayloadStorage& payloads) const;
  // The field's booleans ("true" / "false" -> offsets) and its datetimes (RFC 3339 strings, as
  // microseconds since the epoch).
  std::shared_ptr<const index::KeywordIndex> Bools(const std::string& field, uint64_t generation,
                                                   const IdTracker& ids,
                                                   const PayloadStorage& payloads) const;
  std::shared_ptr<const index::FloatIndex> Datetimes(const std::string& field, uint64_t generation,
                                                     const IdTracker& ids,
                                                     const PayloadStorage& payloads) const;
  // The field's geo points ({lon, lat} objects, as the filter evaluator reads them).
  std::shared_ptr<const index::GeoIndex> Geo(const std::string& field, uint64_t generation,
                                             const IdTracker& ids,
                                             const PayloadStorage& payloads) const;
  // The live offsets with at least one non-null value at `field` (payload_schema's counts).
  std::shared_ptr<const index::Postings> Present(const std::string& field, uint64_t generation,
                                                 const IdTracker& ids,
                                                 const PayloadStorage& payloads) const;

  // How many indexes were built by a scan of the segment so far.
  size_t builds() const;

  // ---- the segment's writes (under its exclusive lock: no reader holds an index) ----
  // Whether some index is current at `generation` (then a writer keeps the payload it is
  // about to change, for PayloadChanged).
  bool Tracking(uint64_t generation) const;
  // Offset `o`'s payload went from `before` (null: a new offset) to `after`: every index
  // current at `from` is updated in place and becomes current at `to`.
  void PayloadChanged(Offset o, const boost::json::object* before,
                      const boost::json::object& after, uint64_t from, uint64_t to);
  // The body changed but no payload did: what is current at `from` is current at `to`.
  void Advance(uint64_t from, uint64_t to);

 private:
  // One built index: the generation it is exact at, the field it reads, and how a payload
  // value becomes its values (kept to apply a write to it).
  template <typename Index, typename Value>
  struct Entry {
    using Take = std::function<void(const boost::json::value&, std::vector<Value>*)>;
    uint64_t generation = 0;
    std::string field;
    std::shared_ptr<Index> index;
    Take take;
  };
  template <typename Index, typename Value>
  using Cache = std::map<std::string, Entry<Index, Value>>;  // by field (tokens: see below)
  template <typename Index, typename Value>
  std::shared_ptr<const Index> Cached(Cache<Index, Value>& cache, const std::string& key,
                                      const std::string& field, uint64_t generation,
                                      const IdTracker& ids, const PayloadStorage& payloads,
                                      typename Entry<Index, Value>::Take take) const;
  template <typename Index, typename Value>
  static void Apply(Cache<Index, Value>& cache, Offset o, const boost::json::object* before,
                    const boost::json::object& after, uint64_t from, uint64_t to);
  // Calls fn(cache) for each cache.
  template <typename Fn>
  void ForEachCache(Fn&& fn) const;

  mutable RankedMutex mu_{LockRank::kLeaf, "SegmentPayloadIndex::mu_"};
  mutable std::map<std::string, std::shared_ptr<const FieldStats>> fields_;  // guarded by mu_
  mutable size_t builds_ = 0;  // guarded by mu_
  // Guarded by mu_.
  mutable Cache<index::KeywordIndex, std::string> strings_;
  mutable Cache<index::IntegerIndex, int64_t> integers_;
  mutable Cache<index::FloatIndex, double> numbers_;
  mutable Cache<index::KeywordIndex, std::string> present_;  // one value: "" (any non-null)
  // By "<field>\x1f<tokenizer address>": the entry's Take holds the tokenizer, so the address
  // names no other tokenizer while the entry lives.
  mutable Cache<index::KeywordIndex, std::string> tokens_;
  mutable Cache<index::KeywordIndex, std::string> bools_;
  mutable Cache<index::FloatIndex, double> datetimes_;
  mutable Cache<index::GeoIndex, index::GeoIndex::Point> geo_;
};

}  // namespace tessera::engine

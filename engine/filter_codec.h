#pragma once

// The binary form of a Filter, for WAL records that carry a filter to be resolved when the
// record is applied (operations.h). Decoding refuses damage (kCorruption) and nesting deeper
// than kMaxEncodedFilterDepth, so a damaged record can neither crash nor exhaust the stack.
//
//   filter    := conds(must) conds(should) conds(must_not) has_min:bool [min_count:varint conds]
//   conds     := n:varint cond*
//   cond      := 0 field | 1 key:lp (is_empty) | 2 key:lp (is_null) | 3 ids (has_id)
//              | 4 name:lp (has_vector) | 5 key:lp filter (nested) | 6 filter
//   field     := key:lp parts:u8 (bit i: part i present, in this order)
//                [match] [range] [datetime_range] [values_count] [bbox] [radius] [polygon]
//   match     := 0 scalar | 1 scalars (any) | 2 scalars (except) | 3 text:lp
//   scalars   := n:varint scalar*      scalar := 0 lp | 1 fixed64 (int64) | 2 bool
//   range     := bounds:u8 (bit 0 gt, 1 gte, 2 lt, 3 lte) f64 per bound set
//   bbox      := point point   radius := point meters:f64   point := lon:f64 lat:f64
//   polygon   := ring n:varint ring*   ring := n:varint point*
//   ids       := n:varint id*          id := 0 num:varint | 1 uuid:16 bytes

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "engine/filter.h"

namespace tessera::engine {

inline constexpr int kMaxEncodedFilterDepth = 64;

void EncodeFilter(std::string* out, const Filter& filter);
// Reads one filter from the front of `*bytes` and advances it past the filter.
Result<std::shared_ptr<const Filter>> DecodeFilter(std::string_view* bytes);

}  // namespace tessera::engine

#pragma once

// JSON -> engine::Filter, for every request that takes a `filter`, in the forms of Qdrant's
// OpenAPI spec (Filter, FieldCondition, Match*, Range, DatetimeRange, ValuesCount, Geo*,
// IsEmpty, IsNull, HasId, HasVector, Nested). Errors are 400s naming the path.

#include <memory>
#include <string_view>

#include <boost/json/value.hpp>

#include "common/status.h"
#include "engine/filter.h"

namespace tessera::api {

Result<std::shared_ptr<const engine::Filter>> ParseFilter(const boost::json::value& v,
                                                          std::string_view path);

}  // namespace tessera::api

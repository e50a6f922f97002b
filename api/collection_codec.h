#pragma once

// JSON <-> engine types for the collections API: CreateCollection, UpdateCollection,
// ChangeAliasesOperation requests, and the CollectionInfo / CollectionConfig responses, in the
// shapes of Qdrant's OpenAPI spec. Type errors are kInvalidArgument (400); range violations
// are kValidationFailed (422), checked by the engine's ValidateConfig.

#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/status.h"
#include "engine/catalog.h"
#include "engine/collection.h"
#include "engine/collection_config.h"

namespace tessera::api {

// Fields the request leaves out come from `defaults` (the server's storage.* config).
Result<engine::CollectionConfig> ParseCreateCollection(
    const boost::json::value& body, const engine::CollectionConfig& defaults = {});
Result<engine::CollectionUpdate> ParseUpdateCollection(const boost::json::value& body);
Result<std::vector<engine::AliasAction>> ParseAliasActions(const boost::json::value& body);
// CreateFieldIndex: {field_name, field_schema: "keyword" | {"type": "keyword", ...}}.
Result<std::pair<std::string, engine::PayloadIndexInfo>> ParseCreateIndex(
    const boost::json::value& body);

boost::json::object CollectionConfigToJson(const engine::CollectionConfig& config);
boost::json::object CollectionInfoToJson(const engine::CollectionInfo& info);

}  // namespace tessera::api

// Conversions between nlohmann::json (the engine's working representation of
// state) and google.protobuf.Value/Struct (the API contract), plus safe parsing.
#ifndef TESSERA_AGENTS_JSON_UTIL_H_
#define TESSERA_AGENTS_JSON_UTIL_H_

#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace tessera::agents {

using Json = nlohmann::json;

// Parses JSON text; never throws. Errors name `what` and the parser position.
absl::StatusOr<Json> ParseJson(absl::string_view text, absl::string_view what = "JSON");

// Serialises without throwing (invalid UTF-8 is replaced, not rejected).
std::string DumpJson(const Json& value, int indent = -1);

google::protobuf::Value JsonToValue(const Json& value);
// Fails when `value` is not an object.
absl::StatusOr<google::protobuf::Struct> JsonToStruct(const Json& value);
Json ValueToJson(const google::protobuf::Value& value);
Json StructToJson(const google::protobuf::Struct& value);

// A short, human-readable name of a JSON value's type ("string", "number", ...).
const char* JsonTypeName(const Json& value);

}  // namespace tessera::agents

#endif  // TESSERA_AGENTS_JSON_UTIL_H_

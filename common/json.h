// nlohmann::json (working JSON: agent state, OpenAI wire format) and its
// conversions to and from google.protobuf.Value/Struct (the API contracts), with
// parsing and dumping that never throw.
#ifndef TESSERA_COMMON_JSON_H_
#define TESSERA_COMMON_JSON_H_

#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace tessera {

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

}  // namespace tessera

#endif  // TESSERA_COMMON_JSON_H_

// Conversions between nlohmann::json (the OpenAI wire format) and
// google.protobuf.Struct/Value (tool arguments and JSON schemas in the protos),
// plus non-throwing parse/dump.
#ifndef TESSERA_GATEWAY_JSON_STRUCT_H_
#define TESSERA_GATEWAY_JSON_STRUCT_H_

#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace tessera::gateway {

using Json = nlohmann::json;

// Parses JSON text without throwing; errors name `what` and the byte position.
absl::StatusOr<Json> ParseJsonText(absl::string_view text, absl::string_view what);

// Serialises without throwing; invalid UTF-8 is replaced with U+FFFD.
std::string DumpJsonText(const Json& value);

google::protobuf::Value JsonToProtoValue(const Json& value);
// Fails (InvalidArgument) when `value` is not an object.
absl::StatusOr<google::protobuf::Struct> JsonToProtoStruct(const Json& value);
Json ProtoValueToJson(const google::protobuf::Value& value);
Json ProtoStructToJson(const google::protobuf::Struct& value);

// "string", "number", "object", ... for error messages.
const char* JsonKindName(const Json& value);

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_JSON_STRUCT_H_

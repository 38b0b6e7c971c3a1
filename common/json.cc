#include "common/json.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tessera {

absl::StatusOr<Json> ParseJson(absl::string_view text, absl::string_view what) {
  Json parsed = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    // Re-parse with exceptions only to recover the position for the message.
    try {
      Json reparsed = Json::parse(text.begin(), text.end());
      (void)reparsed;
    } catch (const Json::exception& e) {
      return absl::InvalidArgumentError(absl::StrCat("invalid ", what, ": ", e.what()));
    }
    return absl::InvalidArgumentError(absl::StrCat("invalid ", what));
  }
  return parsed;
}

std::string DumpJson(const Json& value, int indent) {
  return value.dump(indent, ' ', false, Json::error_handler_t::replace);
}

google::protobuf::Value JsonToValue(const Json& value) {
  google::protobuf::Value out;
  switch (value.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      out.set_null_value(google::protobuf::NULL_VALUE);
      break;
    case Json::value_t::boolean:
      out.set_bool_value(value.get<bool>());
      break;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      out.set_number_value(value.get<double>());
      break;
    case Json::value_t::string:
      out.set_string_value(value.get<std::string>());
      break;
    case Json::value_t::array: {
      auto* list = out.mutable_list_value();
      for (const Json& item : value) *list->add_values() = JsonToValue(item);
      break;
    }
    case Json::value_t::object: {
      auto* fields = out.mutable_struct_value()->mutable_fields();
      for (auto it = value.begin(); it != value.end(); ++it) {
        (*fields)[it.key()] = JsonToValue(it.value());
      }
      break;
    }
    case Json::value_t::binary:
      out.set_null_value(google::protobuf::NULL_VALUE);
      break;
  }
  return out;
}

absl::StatusOr<google::protobuf::Struct> JsonToStruct(const Json& value) {
  if (!value.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a JSON object, got ", JsonTypeName(value)));
  }
  google::protobuf::Value converted = JsonToValue(value);
  return converted.struct_value();
}

Json ValueToJson(const google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kNullValue:
    case google::protobuf::Value::KIND_NOT_SET:
      return nullptr;
    case google::protobuf::Value::kBoolValue:
      return value.bool_value();
    case google::protobuf::Value::kNumberValue: {
      // Keep integral numbers integral so "{{count}}" renders as 3, not 3.0.
      double number = value.number_value();
      if (number == static_cast<double>(static_cast<int64_t>(number)) && number < 9.0e15 &&
          number > -9.0e15) {
        return static_cast<int64_t>(number);
      }
      return number;
    }
    case google::protobuf::Value::kStringValue:
      return value.string_value();
    case google::protobuf::Value::kListValue: {
      Json out = Json::array();
      for (const auto& item : value.list_value().values()) out.push_back(ValueToJson(item));
      return out;
    }
    case google::protobuf::Value::kStructValue:
      return StructToJson(value.struct_value());
  }
  return nullptr;
}

Json StructToJson(const google::protobuf::Struct& value) {
  Json out = Json::object();
  for (const auto& [key, field] : value.fields()) out[key] = ValueToJson(field);
  return out;
}

const char* JsonTypeName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "number";
    case Json::value_t::string:
      return "string";
    case Json::value_t::array:
      return "list";
    case Json::value_t::object:
      return "object";
    default:
      return "unknown";
  }
}

}  // namespace tessera

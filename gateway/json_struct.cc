#include "gateway/json_struct.h"

#include "absl/strings/str_cat.h"

namespace tessera::gateway {

absl::StatusOr<Json> ParseJsonText(absl::string_view text, absl::string_view what) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& error) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON in ", what, " at byte ", error.byte));
  } catch (const std::exception& error) {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON in ", what, ": ", error.what()));
  }
}

std::string DumpJsonText(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

google::protobuf::Value JsonToProtoValue(const Json& value) {
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
    case Json::value_t::array:
      for (const Json& item : value) {
        *out.mutable_list_value()->add_values() = JsonToProtoValue(item);
      }
      if (value.empty()) out.mutable_list_value();
      break;
    case Json::value_t::object:
      out.mutable_struct_value();
      for (const auto& [key, item] : value.items()) {
        (*out.mutable_struct_value()->mutable_fields())[key] = JsonToProtoValue(item);
      }
      break;
    case Json::value_t::binary:
      out.set_null_value(google::protobuf::NULL_VALUE);
      break;
  }
  return out;
}

absl::StatusOr<google::protobuf::Struct> JsonToProtoStruct(const Json& value) {
  if (!value.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a JSON object, got ", JsonKindName(value)));
  }
  return JsonToProtoValue(value).struct_value();
}

Json ProtoValueToJson(const google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kBoolValue:
      return value.bool_value();
    case google::protobuf::Value::kNumberValue: {
      // Integral numbers round-trip as integers so "3" does not come back as "3.0".
      double number = value.number_value();
      if (number == static_cast<double>(static_cast<int64_t>(number)) &&
          number > -9.007199254740992e15 && number < 9.007199254740992e15) {
        return static_cast<int64_t>(number);
      }
      return number;
    }
    case google::protobuf::Value::kStringValue:
      return value.string_value();
    case google::protobuf::Value::kListValue: {
      Json out = Json::array();
      for (const auto& item : value.list_value().values()) out.push_back(ProtoValueToJson(item));
      return out;
    }
    case google::protobuf::Value::kStructValue:
      return ProtoStructToJson(value.struct_value());
    default:
      return nullptr;
  }
}

Json ProtoStructToJson(const google::protobuf::Struct& value) {
  Json out = Json::object();
  for (const auto& [key, item] : value.fields()) out[key] = ProtoValueToJson(item);
  return out;
}

const char* JsonKindName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "integer";
    case Json::value_t::number_float:
      return "number";
    case Json::value_t::string:
      return "string";
    case Json::value_t::array:
      return "array";
    case Json::value_t::object:
      return "object";
    default:
      return "unknown";
  }
}

}  // namespace tessera::gateway

#include "gateway/openai_api.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/json.h"

namespace tessera::gateway {
namespace {

using tessera::generation::v1::EmbedResponse;
using tessera::generation::v1::FinishReason;
using tessera::generation::v1::GenerateRequest;
using tessera::generation::v1::GenerateResponse;
using tessera::generation::v1::GenerateStreamResponse;

constexpr char kParamPayload[] = "type.tessera.ai/gateway.openai_param";
constexpr char kCodePayload[] = "type.tessera.ai/gateway.openai_code";

absl::Status Invalid(absl::string_view param, absl::string_view message) {
  return WithOpenAiParam(absl::InvalidArgumentError(message), param);
}

absl::Status WrongType(absl::string_view param, absl::string_view want, const Json& got) {
  return Invalid(param, absl::StrCat("Invalid type for '", param, "': expected ", want, ", but got ",
                                     JsonTypeName(got), "."));
}

absl::StatusOr<Json> ParseBodyObject(absl::string_view body) {
  auto json = ParseJson(body, "request body");
  if (!json.ok()) {
    return Invalid("", absl::StrCat("We could not parse the JSON body of your request: ",
                                    json.status().message()));
  }
  if (!json->is_object()) {
    return Invalid("", absl::StrCat("The request body must be a JSON object, not ",
                                    JsonTypeName(*json), "."));
  }
  return json;
}

absl::Status CheckKnownFields(const Json& body, const std::set<std::string>& known) {
  for (const auto& [key, value] : body.items()) {
    if (known.count(key) == 0) {
      return Invalid(key, absl::StrCat("Unrecognized request argument supplied: ", key));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<double> NumberIn(const Json& value, absl::string_view param, double low,
                                double high) {
  if (!value.is_number()) return WrongType(param, "a number", value);
  double number = value.get<double>();
  if (!(number >= low && number <= high)) {
    return Invalid(param, absl::StrCat(number, " is not a valid value for '", param,
                                       "': it must be between ", low, " and ", high, "."));
  }
  return number;
}

absl::StatusOr<int64_t> Integer(const Json& value, absl::string_view param) {
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) {
    double number = value.get<double>();
    if (std::floor(number) == number && std::fabs(number) < 9e15) {
      return static_cast<int64_t>(number);
    }
  }
  return WrongType(param, "an integer", value);
}

// Text content: a string or an array of {"type":"text","text":...} parts.
absl::StatusOr<std::string> ContentText(const Json& content, const std::string& param) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) return WrongType(param, "a string or an array of content parts", content);
  std::vector<std::string> texts;
  for (size_t i = 0; i < content.size(); ++i) {
    const Json& part = content[i];
    std::string part_param = absl::StrCat(param, "[", i, "]");
    if (!part.is_object()) return WrongType(part_param, "an object", part);
    auto type = part.find("type");
    if (type == part.end() || !type->is_string()) {
      return Invalid(absl::StrCat(part_param, ".type"), "Missing required parameter: 'type'.");
    }
    if (*type != "text") {
      return Invalid(absl::StrCat(part_param, ".type"),
                     absl::StrCat("Content part type '", type->get<std::string>(),
                                  "' is not supported; only 'text' is."));
    }
    auto text = part.find("text");
    if (text == part.end() || !text->is_string()) {
      return Invalid(absl::StrCat(part_param, ".text"), "Missing required parameter: 'text'.");
    }
    texts.push_back(text->get<std::string>());
  }
  return absl::StrJoin(texts, "\n");
}

absl::Status ParseToolCalls(const Json& calls, const std::string& param,
                            tessera::common::v1::Message* message) {
  if (!calls.is_array()) return WrongType(param, "an array", calls);
  for (size_t i = 0; i < calls.size(); ++i) {
    const Json& call = calls[i];
    std::string call_param = absl::StrCat(param, "[", i, "]");
    if (!call.is_object()) return WrongType(call_param, "an object", call);
    auto id = call.find("id");
    auto function = call.find("function");
    if (id == call.end() || !id->is_string()) {
      return Invalid(absl::StrCat(call_param, ".id"), "Missing required parameter: 'id'.");
    }
    if (function == call.end() || !function->is_object()) {
      return Invalid(absl::StrCat(call_param, ".function"),
                     "Missing required parameter: 'function'.");
    }
    auto name = function->find("name");
    auto arguments = function->find("arguments");
    if (name == function->end() || !name->is_string()) {
      return Invalid(absl::StrCat(call_param, ".function.name"),
                     "Missing required parameter: 'name'.");
    }
    auto* tool_call = message->add_tool_calls();
    tool_call->set_id(id->get<std::string>());
    tool_call->set_name(name->get<std::string>());
    if (arguments != function->end()) {
      if (!arguments->is_string()) {
        return WrongType(absl::StrCat(call_param, ".function.arguments"), "a string", *arguments);
      }
      auto parsed = ParseJson(arguments->get<std::string>(), "tool call arguments");
      auto as_struct = parsed.ok() ? JsonToStruct(*parsed) : parsed.status();
      if (!as_struct.ok()) {
        return Invalid(absl::StrCat(call_param, ".function.arguments"),
                       "Tool call arguments must be a JSON object encoded as a string.");
      }
      *tool_call->mutable_arguments() = std::move(*as_struct);
    }
  }
  return absl::OkStatus();
}

absl::Status ParseMessages(const Json& messages, GenerateRequest* request) {
  if (!messages.is_array()) return WrongType("messages", "an array", messages);
  if (messages.empty()) {
    return Invalid("messages", "Invalid 'messages': empty array. Expected at least one message.");
  }
  static const std::set<std::string> kRoles = {"system", "developer", "user", "assistant", "tool"};
  for (size_t i = 0; i < messages.size(); ++i) {
    const Json& in = messages[i];
    std::string param = absl::StrCat("messages[", i, "]");
    if (!in.is_object()) return WrongType(param, "an object", in);
    for (const auto& [key, value] : in.items()) {
      if (key != "role" && key != "content" && key != "name" && key != "tool_calls" &&
          key != "tool_call_id") {
        return Invalid(absl::StrCat(param, ".", key),
                       absl::StrCat("Unrecognized message field: ", key));
      }
    }
    auto role = in.find("role");
    if (role == in.end()) {
      return Invalid(absl::StrCat(param, ".role"), "Missing required parameter: 'role'.");
    }
    if (!role->is_string() || kRoles.count(role->get<std::string>()) == 0) {
      return Invalid(absl::StrCat(param, ".role"),
                     "Invalid 'role': must be one of 'system', 'developer', 'user', 'assistant' "
                     "or 'tool'.");
    }
    auto* message = request->add_messages();
    std::string role_name = role->get<std::string>();
    message->set_role(role_name == "developer" ? "system" : role_name);

    bool has_tool_calls = false;
    if (auto calls = in.find("tool_calls"); calls != in.end() && !calls->is_null()) {
      if (role_name != "assistant") {
        return Invalid(absl::StrCat(param, ".tool_calls"),
                       "Only assistant messages may contain 'tool_calls'.");
      }
      absl::Status status = ParseToolCalls(*calls, absl::StrCat(param, ".tool_calls"), message);
      if (!status.ok()) return status;
      has_tool_calls = message->tool_calls_size() > 0;
    }
    auto content = in.find("content");
    if (content == in.end() || content->is_null()) {
      if (!has_tool_calls) {
        return Invalid(absl::StrCat(param, ".content"), "Missing required parameter: 'content'.");
      }
    } else {
      auto text = ContentText(*content, absl::StrCat(param, ".content"));
      if (!text.ok()) return text.status();
      message->set_content(std::move(*text));
    }
    if (auto name = in.find("name"); name != in.end()) {
      if (!name->is_string()) return WrongType(absl::StrCat(param, ".name"), "a string", *name);
      message->set_name(name->get<std::string>());
    }
    auto tool_call_id = in.find("tool_call_id");
    if (role_name == "tool") {
      if (tool_call_id == in.end() || !tool_call_id->is_string()) {
        return Invalid(absl::StrCat(param, ".tool_call_id"),
                       "Missing required parameter: 'tool_call_id' (tool messages answer a call).");
      }
      message->set_tool_call_id(tool_call_id->get<std::string>());
    } else if (tool_call_id != in.end()) {
      return Invalid(absl::StrCat(param, ".tool_call_id"),
                     "Only tool messages may contain 'tool_call_id'.");
    }
  }
  return absl::OkStatus();
}

absl::Status ParseTools(const Json& tools, GenerateRequest* request) {
  if (!tools.is_array()) return WrongType("tools", "an array", tools);
  if (tools.size() > 128) return Invalid("tools", "At most 128 tools are allowed.");
  for (size_t i = 0; i < tools.size(); ++i) {
    const Json& tool = tools[i];
    std::string param = absl::StrCat("tools[", i, "]");
    if (!tool.is_object()) return WrongType(param, "an object", tool);
    auto type = tool.find("type");
    if (type == tool.end() || *type != "function") {
      return Invalid(absl::StrCat(param, ".type"), "Tool type must be 'function'.");
    }
    auto function = tool.find("function");
    if (function == tool.end() || !function->is_object()) {
      return Invalid(absl::StrCat(param, ".function"), "Missing required parameter: 'function'.");
    }
    auto name = function->find("name");
    if (name == function->end() || !name->is_string()) {
      return Invalid(absl::StrCat(param, ".function.name"), "Missing required parameter: 'name'.");
    }
    std::string name_text = name->get<std::string>();
    bool name_ok = !name_text.empty() && name_text.size() <= 64;
    for (char c : name_text) {
      name_ok &= std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    }
    if (!name_ok) {
      return Invalid(absl::StrCat(param, ".function.name"),
                     "Invalid function name: must be 1-64 characters of a-z, A-Z, 0-9, '_' or '-'.");
    }
    auto* spec = request->add_tools();
    spec->set_name(name_text);
    if (auto description = function->find("description"); description != function->end()) {
      if (!description->is_string()) {
        return WrongType(absl::StrCat(param, ".function.description"), "a string", *description);
      }
      spec->set_description(description->get<std::string>());
    }
    if (auto parameters = function->find("parameters"); parameters != function->end()) {
      if (!parameters->is_object()) {
        return WrongType(absl::StrCat(param, ".function.parameters"), "an object", *parameters);
      }
      spec->set_parameters_json_schema(DumpJson(*parameters));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseResponseFormat(const Json& format, GenerateRequest* request) {
  if (!format.is_object()) return WrongType("response_format", "an object", format);
  auto type = format.find("type");
  if (type == format.end() || !type->is_string()) {
    return Invalid("response_format.type", "Missing required parameter: 'response_format.type'.");
  }
  if (*type == "text") return absl::OkStatus();
  if (*type == "json_object") {
    (*request->mutable_sampling()->mutable_json_schema()->mutable_fields())["type"]
        .set_string_value("object");
    return absl::OkStatus();
  }
  if (*type == "json_schema") {
    auto schema_holder = format.find("json_schema");
    if (schema_holder == format.end() || !schema_holder->is_object()) {
      return Invalid("response_format.json_schema", "Missing required parameter: 'json_schema'.");
    }
    auto schema = schema_holder->find("schema");
    if (schema == schema_holder->end() || !schema->is_object()) {
      return Invalid("response_format.json_schema.schema",
                     "'json_schema.schema' must be a JSON schema object.");
    }
    auto as_struct = JsonToStruct(*schema);
    if (!as_struct.ok()) return Invalid("response_format.json_schema.schema", "bad schema");
    *request->mutable_sampling()->mutable_json_schema() = std::move(*as_struct);
    return absl::OkStatus();
  }
  return Invalid("response_format.type",
                 "Invalid 'response_format.type': must be 'text', 'json_object' or 'json_schema'.");
}

Json UsageJson(const tessera::common::v1::Usage& usage) {
  return {{"prompt_tokens", usage.prompt_tokens()},
          {"completion_tokens", usage.completion_tokens()},
          {"total_tokens", usage.total_tokens() > 0
                               ? usage.total_tokens()
                               : usage.prompt_tokens() + usage.completion_tokens()}};
}

Json ToolCallsJson(const google::protobuf::RepeatedPtrField<tessera::common::v1::ToolCall>& calls,
                   bool with_index) {
  Json out = Json::array();
  for (int i = 0; i < calls.size(); ++i) {
    Json call = {{"id", calls[i].id()},
                 {"type", "function"},
                 {"function",
                  {{"name", calls[i].name()},
                   {"arguments", DumpJson(StructToJson(calls[i].arguments()))}}}};
    if (with_index) call["index"] = i;
    out.push_back(std::move(call));
  }
  return out;
}

Json FinishReasonJson(FinishReason reason) {
  if (reason == tessera::generation::v1::FINISH_REASON_UNSPECIFIED) return nullptr;
  return FinishReasonName(reason);
}

Json LogprobsJson(const google::protobuf::RepeatedPtrField<tessera::generation::v1::GeneratedToken>&
                      tokens) {
  bool any = false;
  Json content = Json::array();
  for (const auto& token : tokens) {
    any |= token.logprob() != 0 || token.top_logprobs_size() > 0;
    Json top = Json::array();
    for (const auto& alternative : token.top_logprobs()) {
      top.push_back({{"token", alternative.token()}, {"logprob", alternative.logprob()}});
    }
    content.push_back({{"token", token.text()}, {"logprob", token.logprob()}, {"top_logprobs", top}});
  }
  if (!any) return nullptr;
  return {{"content", content}};
}

}  // namespace

absl::Status WithOpenAiParam(absl::Status status, absl::string_view param, absl::string_view code) {
  if (!param.empty()) status.SetPayload(kParamPayload, absl::Cord(param));
  if (!code.empty()) status.SetPayload(kCodePayload, absl::Cord(code));
  return status;
}

const char* FinishReasonName(FinishReason reason) {
  switch (reason) {
    case tessera::generation::v1::STOP:
    case tessera::generation::v1::CANCELLED:
      return "stop";
    case tessera::generation::v1::LENGTH:
      return "length";
    case tessera::generation::v1::TOOL_CALLS:
      return "tool_calls";
    case tessera::generation::v1::CONTENT_FILTER:
      return "content_filter";
    default:
      return "stop";
  }
}

absl::StatusOr<ChatCompletionRequest> ParseChatCompletionRequest(absl::string_view body) {
  auto parsed = ParseBodyObject(body);
  if (!parsed.ok()) return parsed.status();
  const Json& json = *parsed;
  absl::Status known = CheckKnownFields(
      json, {"model", "messages", "temperature", "top_p", "n", "stream", "stream_options", "stop",
             "max_tokens", "max_completion_tokens", "presence_penalty", "frequency_penalty",
             "logit_bias", "logprobs", "top_logprobs", "user", "seed", "tools", "tool_choice",
             "parallel_tool_calls", "response_format", "top_k", "repetition_penalty"});
  if (!known.ok()) return known;

  ChatCompletionRequest out;
  GenerateRequest& request = out.generate;
  auto* sampling = request.mutable_sampling();

  auto model = json.find("model");
  if (model == json.end()) return Invalid("model", "You must provide a model parameter.");
  if (!model->is_string()) return WrongType("model", "a string", *model);
  if (model->get<std::string>().empty()) return Invalid("model", "'model' must not be empty.");
  request.set_model(model->get<std::string>());

  auto messages = json.find("messages");
  if (messages == json.end()) return Invalid("messages", "Missing required parameter: 'messages'.");
  if (absl::Status status = ParseMessages(*messages, &request); !status.ok()) return status;

  for (const auto& [key, value] : json.items()) {
    if (value.is_null()) continue;  // explicit null means "default"
    if (key == "temperature") {
      auto number = NumberIn(value, key, 0, 2);
      if (!number.ok()) return number.status();
      sampling->set_temperature(static_cast<float>(*number));
    } else if (key == "top_p") {
      auto number = NumberIn(value, key, 0, 1);
      if (!number.ok()) return number.status();
      sampling->set_top_p(static_cast<float>(*number));
    } else if (key == "top_k") {
      auto number = Integer(value, key);
      if (!number.ok()) return number.status();
      if (*number < 0) return Invalid(key, "'top_k' must be >= 0.");
      sampling->set_top_k(static_cast<int32_t>(std::min<int64_t>(*number, 1 << 30)));
    } else if (key == "repetition_penalty") {
      auto number = NumberIn(value, key, 0.01, 10);
      if (!number.ok()) return number.status();
      sampling->set_repetition_penalty(static_cast<float>(*number));
    } else if (key == "presence_penalty" || key == "frequency_penalty") {
      // Accepted for compatibility; the local runtime has no such penalty.
      auto number = NumberIn(value, key, -2, 2);
      if (!number.ok()) return number.status();
    } else if (key == "n") {
      auto number = Integer(value, key);
      if (!number.ok()) return number.status();
      if (*number != 1) return Invalid(key, "Only n=1 is supported.");
    } else if (key == "max_tokens" || key == "max_completion_tokens") {
      auto number = Integer(value, key);
      if (!number.ok()) return number.status();
      if (*number < 1 || *number > (1 << 30)) {
        return Invalid(key, absl::StrCat("'", key, "' must be at least 1."));
      }
      if (sampling->max_tokens() != 0 && sampling->max_tokens() != *number) {
        return Invalid(key, "'max_tokens' and 'max_completion_tokens' disagree.");
      }
      sampling->set_max_tokens(static_cast<int32_t>(*number));
    } else if (key == "stop") {
      if (value.is_string()) {
        sampling->add_stop(value.get<std::string>());
      } else if (value.is_array()) {
        if (value.size() > 4) return Invalid(key, "At most 4 stop sequences are allowed.");
        for (const Json& stop : value) {
          if (!stop.is_string() || stop.get<std::string>().empty()) {
            return Invalid(key, "Stop sequences must be non-empty strings.");
          }
          sampling->add_stop(stop.get<std::string>());
        }
      } else {
        return WrongType(key, "a string or an array of strings", value);
      }
    } else if (key == "seed") {
      auto number = Integer(value, key);
      if (!number.ok()) return number.status();
      sampling->set_seed(static_cast<uint64_t>(*number));
    } else if (key == "logprobs") {
      if (!value.is_boolean()) return WrongType(key, "a boolean", value);
      sampling->set_logprobs(value.get<bool>());
    } else if (key == "top_logprobs") {
      auto number = Integer(value, key);
      if (!number.ok()) return number.status();
      if (*number < 0 || *number > 20) return Invalid(key, "'top_logprobs' must be 0-20.");
      sampling->set_top_logprobs(static_cast<int32_t>(*number));
    } else if (key == "stream") {
      if (!value.is_boolean()) return WrongType(key, "a boolean", value);
      out.stream = value.get<bool>();
    } else if (key == "user") {
      if (!value.is_string()) return WrongType(key, "a string", value);
      request.set_user(value.get<std::string>());
    } else if (key == "tools") {
      if (absl::Status status = ParseTools(value, &request); !status.ok()) return status;
    } else if (key == "response_format") {
      if (absl::Status status = ParseResponseFormat(value, &request); !status.ok()) return status;
    } else if (key == "logit_bias") {
      if (!value.is_object()) return WrongType(key, "an object", value);
      if (!value.empty()) return Invalid(key, "'logit_bias' is not supported.");
    } else if (key == "parallel_tool_calls") {
      if (!value.is_boolean()) return WrongType(key, "a boolean", value);
    }
  }
  if (sampling->top_logprobs() > 0 && !sampling->logprobs()) {
    return Invalid("top_logprobs", "'top_logprobs' requires 'logprobs' to be true.");
  }
  if (auto options = json.find("stream_options"); options != json.end() && !options->is_null()) {
    if (!out.stream) {
      return Invalid("stream_options", "'stream_options' is only allowed when 'stream' is true.");
    }
    if (!options->is_object()) return WrongType("stream_options", "an object", *options);
    for (const auto& [key, value] : options->items()) {
      if (key != "include_usage") {
        return Invalid(absl::StrCat("stream_options.", key),
                       absl::StrCat("Unrecognized stream option: ", key));
      }
      if (!value.is_boolean()) return WrongType("stream_options.include_usage", "a boolean", value);
      out.include_usage = value.get<bool>();
    }
  }
  if (auto choice = json.find("tool_choice"); choice != json.end() && !choice->is_null()) {
    if (*choice == "none") {
      request.clear_tools();  // the model may not call tools
    } else if (*choice != "auto") {
      return Invalid("tool_choice",
                     "Only 'auto' and 'none' are supported for 'tool_choice'; forcing a tool call "
                     "is not.");
    }
  }
  return out;
}

absl::StatusOr<EmbeddingsRequest> ParseEmbeddingsRequest(absl::string_view body) {
  auto parsed = ParseBodyObject(body);
  if (!parsed.ok()) return parsed.status();
  const Json& json = *parsed;
  absl::Status known =
      CheckKnownFields(json, {"model", "input", "encoding_format", "user", "dimensions"});
  if (!known.ok()) return known;
  EmbeddingsRequest out;
  auto model = json.find("model");
  if (model == json.end()) return Invalid("model", "You must provide a model parameter.");
  if (!model->is_string()) return WrongType("model", "a string", *model);
  if (model->get<std::string>().empty()) return Invalid("model", "'model' must not be empty.");
  out.embed.set_model(model->get<std::string>());

  auto input = json.find("input");
  if (input == json.end()) return Invalid("input", "Missing required parameter: 'input'.");
  if (input->is_string()) {
    if (input->get<std::string>().empty()) return Invalid("input", "'input' must not be empty.");
    out.embed.add_inputs(input->get<std::string>());
  } else if (input->is_array()) {
    if (input->empty()) return Invalid("input", "'input' must not be an empty array.");
    if (input->size() > 2048) return Invalid("input", "At most 2048 inputs are allowed.");
    for (size_t i = 0; i < input->size(); ++i) {
      const Json& item = (*input)[i];
      std::string param = absl::StrCat("input[", i, "]");
      if (item.is_number_integer() || item.is_array()) {
        return Invalid(param, "Token-id inputs are not supported; send text.");
      }
      if (!item.is_string()) return WrongType(param, "a string", item);
      if (item.get<std::string>().empty()) return Invalid(param, "Inputs must not be empty.");
      out.embed.add_inputs(item.get<std::string>());
    }
  } else {
    return WrongType("input", "a string or an array of strings", *input);
  }
  if (auto format = json.find("encoding_format"); format != json.end() && !format->is_null()) {
    if (*format == "base64") {
      out.base64 = true;
    } else if (*format != "float") {
      return Invalid("encoding_format", "'encoding_format' must be 'float' or 'base64'.");
    }
  }
  if (auto dimensions = json.find("dimensions"); dimensions != json.end() && !dimensions->is_null()) {
    return Invalid("dimensions", "'dimensions' is not supported: models embed at their native size.");
  }
  if (auto user = json.find("user"); user != json.end() && !user->is_null() && !user->is_string()) {
    return WrongType("user", "a string", *user);
  }
  return out;
}

std::string RenderChatCompletion(const GenerateResponse& response,
                                 const CompletionContext& context) {
  Json message = {{"role", "assistant"}};
  if (response.text().empty() && response.tool_calls_size() > 0) {
    message["content"] = nullptr;
  } else {
    message["content"] = response.text();
  }
  if (response.tool_calls_size() > 0) message["tool_calls"] = ToolCallsJson(response.tool_calls(), false);
  FinishReason finish = response.finish_reason();
  if (finish == tessera::generation::v1::FINISH_REASON_UNSPECIFIED) {
    finish = response.tool_calls_size() > 0 ? tessera::generation::v1::TOOL_CALLS
                                            : tessera::generation::v1::STOP;
  }
  Json out = {{"id", context.id},
              {"object", "chat.completion"},
              {"created", context.created_unix_seconds},
              {"model", context.model.empty() ? response.model() : context.model},
              {"choices",
               Json::array({{{"index", 0},
                             {"message", message},
                             {"logprobs", LogprobsJson(response.tokens())},
                             {"finish_reason", FinishReasonName(finish)}}})},
              {"usage", UsageJson(response.usage())}};
  return DumpJson(out);
}

std::string RenderChatCompletionChunk(const GenerateStreamResponse& chunk,
                                      const CompletionContext& context, bool first_chunk,
                                      bool include_usage) {
  bool last = chunk.finish_reason() != tessera::generation::v1::FINISH_REASON_UNSPECIFIED;
  Json delta = Json::object();
  if (first_chunk) delta["role"] = "assistant";
  std::string text;
  for (const auto& token : chunk.tokens()) text += token.text();
  if (!text.empty() || (first_chunk && !last)) delta["content"] = text;
  if (chunk.tool_calls_size() > 0) delta["tool_calls"] = ToolCallsJson(chunk.tool_calls(), true);
  Json base = {{"id", context.id},
               {"object", "chat.completion.chunk"},
               {"created", context.created_unix_seconds},
               {"model", context.model}};
  Json choice_chunk = base;
  choice_chunk["choices"] = Json::array({{{"index", 0},
                                          {"delta", delta},
                                          {"logprobs", LogprobsJson(chunk.tokens())},
                                          {"finish_reason", FinishReasonJson(chunk.finish_reason())}}});
  std::string out = absl::StrCat("data: ", DumpJson(choice_chunk), "\n\n");
  if (last && include_usage) {
    Json usage_chunk = base;
    usage_chunk["choices"] = Json::array();
    usage_chunk["usage"] = UsageJson(chunk.usage());
    absl::StrAppend(&out, "data: ", DumpJson(usage_chunk), "\n\n");
  }
  return out;
}

std::string RenderStreamDone() { return "data: [DONE]\n\n"; }

std::string RenderEmbeddings(const EmbedResponse& response, absl::string_view model, bool base64) {
  Json data = Json::array();
  for (int i = 0; i < response.embeddings_size(); ++i) {
    const auto& values = response.embeddings(i).values();
    Json item = {{"object", "embedding"}, {"index", i}};
    if (base64) {
      // Little-endian float32, as OpenAI's base64 encoding is.
      std::string bytes(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
      item["embedding"] = absl::Base64Escape(bytes);
    } else {
      item["embedding"] = Json(std::vector<float>(values.begin(), values.end()));
    }
    data.push_back(std::move(item));
  }
  int64_t tokens = response.usage().embedding_tokens() > 0 ? response.usage().embedding_tokens()
                                                           : response.usage().prompt_tokens();
  Json out = {{"object", "list"},
              {"data", data},
              {"model", model.empty() ? response.model() : std::string(model)},
              {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
  return DumpJson(out);
}

OpenAiError OpenAiErrorFromStatus(const absl::Status& status) {
  OpenAiError error;
  std::string type = "server_error";
  Json code = nullptr;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      error.http_status = 400;
      type = "invalid_request_error";
      break;
    case absl::StatusCode::kUnauthenticated:
      error.http_status = 401;
      type = "authentication_error";
      code = "invalid_api_key";
      break;
    case absl::StatusCode::kPermissionDenied:
      error.http_status = 403;
      type = "permission_error";
      break;
    case absl::StatusCode::kNotFound:
      error.http_status = 404;
      type = "not_found_error";
      break;
    case absl::StatusCode::kResourceExhausted:
      error.http_status = 429;
      type = "rate_limit_error";
      code = "rate_limit_exceeded";
      break;
    case absl::StatusCode::kUnavailable:
      error.http_status = 503;
      type = "service_unavailable";
      break;
    case absl::StatusCode::kDeadlineExceeded:
      error.http_status = 504;
      type = "timeout";
      break;
    default:
      error.http_status = 500;
      break;
  }
  Json param = nullptr;
  if (auto payload = status.GetPayload(kParamPayload); payload.has_value()) {
    param = std::string(*payload);
  }
  if (auto payload = status.GetPayload(kCodePayload); payload.has_value()) {
    code = std::string(*payload);
  }
  Json body = {{"error",
                {{"message", std::string(status.message())},
                 {"type", type},
                 {"param", param},
                 {"code", code}}}};
  error.body = DumpJson(body);
  return error;
}

}  // namespace tessera::gateway

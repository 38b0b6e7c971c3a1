#include "agents/chat_model.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_split.h"

namespace tessera::agents {

void ModelRegistry::Register(const std::string& name, std::shared_ptr<ChatModel> model) {
  models_[name] = std::move(model);
}

void ModelRegistry::SetDefault(std::shared_ptr<ChatModel> model) { default_model_ = std::move(model); }

std::shared_ptr<ChatModel> ModelRegistry::Find(const std::string& name) const {
  auto it = models_.find(name);
  if (it != models_.end()) return it->second;
  return name.empty() || name == "default" ? default_model_ : nullptr;
}

void ScriptedChatModel::AddTurn(std::string reply) {
  std::lock_guard<std::mutex> lock(mu_);
  turns_.push_back(std::move(reply));
}

void ScriptedChatModel::AddRule(std::string pattern, std::string reply, int times) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.push_back({std::move(pattern), std::move(reply), times > 0 ? times : -1});
}

absl::StatusOr<ChatResult> ScriptedChatModel::Generate(const std::vector<ChatMessage>& messages,
                                                       const std::vector<ToolSpec>& tools,
                                                       const SamplingParams& sampling) {
  std::lock_guard<std::mutex> lock(mu_);
  Request request;
  request.messages = messages;
  for (const ToolSpec& tool : tools) request.tool_names.push_back(tool.name);
  requests_.push_back(std::move(request));

  std::string conversation;
  int64_t prompt_words = 0;
  for (const ChatMessage& message : messages) {
    conversation += message.content();
    conversation += '\n';
    prompt_words += static_cast<int64_t>(
        std::vector<absl::string_view>(absl::StrSplit(message.content(), ' ', absl::SkipEmpty())).size());
  }
  std::string reply;
  bool found = false;
  for (Rule& rule : rules_) {
    if (rule.remaining == 0 || conversation.find(rule.pattern) == std::string::npos) continue;
    if (rule.remaining > 0) --rule.remaining;
    reply = rule.reply;
    found = true;
    break;
  }
  if (!found) {
    if (next_turn_ >= turns_.size()) {
      return absl::FailedPreconditionError("scripted model: no rule matches and the turn script is exhausted");
    }
    reply = turns_[next_turn_++];
  }
  ChatResult result;
  result.text = reply;
  int64_t completion_words = static_cast<int64_t>(
      std::vector<absl::string_view>(absl::StrSplit(reply, ' ', absl::SkipEmpty())).size());
  result.usage.set_prompt_tokens(prompt_words);
  result.usage.set_completion_tokens(completion_words);
  result.usage.set_total_tokens(prompt_words + completion_words);
  return result;
}

std::vector<ScriptedChatModel::Request> ScriptedChatModel::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

int ScriptedChatModel::call_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(requests_.size());
}

ChatMessage JsonToChatMessage(const Json& message) {
  ChatMessage out;
  if (!message.is_object()) {
    out.set_role("user");
    out.set_content(message.is_string() ? message.get<std::string>() : DumpJson(message));
    return out;
  }
  auto text = [&](const char* key) {
    auto it = message.find(key);
    return it != message.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  out.set_role(text("role"));
  out.set_content(text("content"));
  out.set_tool_call_id(text("tool_call_id"));
  out.set_name(text("name"));
  if (auto calls = message.find("tool_calls"); calls != message.end() && calls->is_array()) {
    for (const Json& call : *calls) {
      if (!call.is_object()) continue;
      auto* added = out.add_tool_calls();
      auto id = call.find("id");
      auto name = call.find("name");
      if (id != call.end() && id->is_string()) added->set_id(id->get<std::string>());
      if (name != call.end() && name->is_string()) added->set_name(name->get<std::string>());
      if (auto args = call.find("arguments"); args != call.end() && args->is_object()) {
        absl::StatusOr<google::protobuf::Struct> converted = JsonToStruct(*args);
        if (converted.ok()) *added->mutable_arguments() = *converted;
      }
    }
  }
  return out;
}

Json ChatMessageToJson(const ChatMessage& message) {
  Json out = {{"role", message.role()}, {"content", message.content()}};
  if (!message.tool_call_id().empty()) out["tool_call_id"] = message.tool_call_id();
  if (!message.name().empty()) out["name"] = message.name();
  if (message.tool_calls_size() > 0) {
    Json calls = Json::array();
    for (const auto& call : message.tool_calls()) {
      calls.push_back({{"id", call.id()}, {"name", call.name()}, {"arguments", StructToJson(call.arguments())}});
    }
    out["tool_calls"] = calls;
  }
  return out;
}

}  // namespace tessera::agents

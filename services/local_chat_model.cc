#include "services/local_chat_model.h"

#include "absl/strings/str_cat.h"
#include "engine/chat_generation.h"
#include "engine/constrained/json_schema_constraint.h"
#include "spdlog/spdlog.h"

namespace tessera::services {
namespace {

std::string ToolInstructions(const std::vector<agents::ToolSpec>& tools, bool constrained) {
  std::string text = constrained
                         ? "Reply with only one JSON object: {\"tool\": NAME, \"arguments\": {...}} to "
                           "call a tool, or {\"answer\": TEXT} to answer. Tools:\n"
                         : "You can call tools. To call one, reply with only a JSON object "
                           "{\"tool\": NAME, \"arguments\": {...}}. Tools:\n";
  for (const agents::ToolSpec& tool : tools) {
    absl::StrAppend(&text, "- ", tool.name, ": ", tool.description,
                    " Arguments (JSON schema): ", DumpJson(tool.parameters), "\n");
  }
  return text;
}

// Turns a constrained reply into an answer or a native tool call. A reply cut
// short by max_tokens is closed leniently so a long answer is not lost.
void ReadToolReply(const std::string& text, agents::ChatResult* chat) {
  absl::StatusOr<Json> reply = ParseJson(text);
  for (size_t cut = 0; !reply.ok() && cut <= 6 && cut <= text.size(); ++cut) {
    reply = ParseJson(absl::StrCat(text.substr(0, text.size() - cut), "\"}"));
  }
  if (!reply.ok() || !reply->is_object()) return;  // Keep the text as it is.
  if (reply->contains("answer") && (*reply)["answer"].is_string()) {
    chat->text = (*reply)["answer"].get<std::string>();
    return;
  }
  if (!reply->contains("tool") || !(*reply)["tool"].is_string()) return;
  absl::StatusOr<google::protobuf::Struct> arguments =
      JsonToStruct(reply->value("arguments", Json::object()));
  if (!arguments.ok()) return;
  common::v1::ToolCall& call = chat->tool_calls.emplace_back();
  call.set_name((*reply)["tool"].get<std::string>());
  *call.mutable_arguments() = *std::move(arguments);
  chat->text.clear();
}

}  // namespace

Json ToolReplySchema(const std::vector<agents::ToolSpec>& tools) {
  Json alternatives = Json::array();
  for (const agents::ToolSpec& tool : tools) {
    Json arguments = tool.parameters.is_object() && !tool.parameters.empty() ? tool.parameters
                                                                              : Json{{"type", "object"}};
    alternatives.push_back({{"type", "object"},
                            {"properties", {{"tool", {{"const", tool.name}}}, {"arguments", arguments}}},
                            {"required", {"tool", "arguments"}}});
  }
  alternatives.push_back({{"type", "object"},
                          {"properties", {{"answer", {{"type", "string"}}}}},
                          {"required", {"answer"}}});
  return {{"anyOf", alternatives}};
}

absl::StatusOr<agents::ChatResult> LocalChatModel::Generate(
    const std::vector<agents::ChatMessage>& messages, const std::vector<agents::ToolSpec>& tools,
    const agents::SamplingParams& sampling) {
  return GenerateStreaming(messages, tools, sampling, nullptr);
}

absl::StatusOr<agents::ChatResult> LocalChatModel::GenerateStreaming(
    const std::vector<agents::ChatMessage>& messages, const std::vector<agents::ToolSpec>& tools,
    const agents::SamplingParams& sampling, const agents::TokenSink& on_token) {
  auto options = engine::ToSamplingOptions(sampling);
  if (!options.ok()) return options.status();
  if (sampling.top_logprobs() > 0) options->logprobs = true;
  // A caller's own schema (structured output) wins over the tool-reply schema;
  // tool schemas the constraint cannot enforce fall back to free text.
  bool tool_reply = false;
  if (!tools.empty() && constrain_tool_calls_ && options->json_schema.empty()) {
    std::string schema = DumpJson(ToolReplySchema(tools));
    tool_reply = constrained::CompiledSchema::Compile(schema).ok();
    if (tool_reply) options->json_schema = std::move(schema);
  }
  std::vector<common::v1::Message> prompt = messages;
  if (!tools.empty()) {
    const std::string instructions = ToolInstructions(tools, tool_reply);
    if (!prompt.empty() && prompt.front().role() == "system") {
      prompt.front().set_content(absl::StrCat(prompt.front().content(), "\n\n", instructions));
    } else {
      common::v1::Message system;
      system.set_role("system");
      system.set_content(instructions);
      prompt.insert(prompt.begin(), std::move(system));
    }
  }
  auto ids = engine::ChatPromptIds(*model_, prompt);
  if (!ids.ok()) return ids.status();
  // Agent state grows turn by turn; a run should not die on one long turn.
  const int cut = engine::FitPromptToContext(&*ids, model_->hparams().context_length, options->max_tokens);
  if (cut > 0) spdlog::warn("agent prompt cut by {} tokens to fit the generator's context", cut);
  llama::TokenCallback callback;
  if (on_token) {
    callback = [&on_token](const llama::GeneratedToken& token) {
      if (!token.text_delta.empty()) on_token(token.text_delta);
      return true;
    };
  }
  auto result = model_->Generate(*ids, *options, callback);
  if (!result.ok()) return result.status();
  agents::ChatResult chat;
  chat.text = std::move(result->text);
  if (tool_reply) ReadToolReply(chat.text, &chat);
  chat.usage.set_prompt_tokens(result->timings.prompt_tokens);
  chat.usage.set_completion_tokens(result->timings.generated_tokens);
  chat.usage.set_total_tokens(result->timings.prompt_tokens + result->timings.generated_tokens);
  const tokenizer::Tokenizer* tok = model_->tokenizer();
  auto text_of = [tok](int32_t id) {
    return tok == nullptr ? std::string() : tokenizer::TokenDisplayText(*tok, id);
  };
  for (size_t i = 0; i < result->logprobs.size() && i < result->tokens.size(); ++i) {
    agents::TokenLogprob& token = chat.logprobs.emplace_back();
    token.token = text_of(result->tokens[i]);
    token.logprob = result->logprobs[i];
    if (i < result->top_logprobs.size()) {
      for (const llama::TokenLogprob& alternative : result->top_logprobs[i]) {
        token.top.push_back({text_of(alternative.token), alternative.logprob});
      }
    }
  }
  return chat;
}

}  // namespace tessera::services

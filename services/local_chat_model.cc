#include "services/local_chat_model.h"

#include "absl/strings/str_cat.h"
#include "engine/chat_generation.h"

namespace tessera::services {
namespace {

std::string ToolInstructions(const std::vector<agents::ToolSpec>& tools) {
  std::string text =
      "You can call tools. To call one, reply with only a JSON object "
      "{\"tool\": NAME, \"arguments\": {...}}. Tools:\n";
  for (const agents::ToolSpec& tool : tools) {
    absl::StrAppend(&text, "- ", tool.name, ": ", tool.description,
                    " Arguments (JSON schema): ", DumpJson(tool.parameters), "\n");
  }
  return text;
}

}  // namespace

absl::StatusOr<agents::ChatResult> LocalChatModel::Generate(
    const std::vector<agents::ChatMessage>& messages, const std::vector<agents::ToolSpec>& tools,
    const agents::SamplingParams& sampling) {
  std::vector<common::v1::Message> prompt = messages;
  if (!tools.empty()) {
    if (!prompt.empty() && prompt.front().role() == "system") {
      prompt.front().set_content(
          absl::StrCat(prompt.front().content(), "\n\n", ToolInstructions(tools)));
    } else {
      common::v1::Message system;
      system.set_role("system");
      system.set_content(ToolInstructions(tools));
      prompt.insert(prompt.begin(), std::move(system));
    }
  }
  auto ids = engine::ChatPromptIds(*model_, prompt);
  if (!ids.ok()) return ids.status();
  auto options = engine::ToSamplingOptions(sampling);
  if (!options.ok()) return options.status();
  auto result = model_->Generate(*ids, *options);
  if (!result.ok()) return result.status();
  agents::ChatResult chat;
  chat.text = std::move(result->text);
  chat.usage.set_prompt_tokens(result->timings.prompt_tokens);
  chat.usage.set_completion_tokens(result->timings.generated_tokens);
  chat.usage.set_total_tokens(result->timings.prompt_tokens + result->timings.generated_tokens);
  return chat;
}

}  // namespace tessera::services

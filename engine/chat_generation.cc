#include "engine/chat_generation.h"

#include <algorithm>

#include "common/json.h"
#include "engine/tokenizer/chat_template.h"

namespace tessera::engine {
namespace {

constexpr int kDefaultMaxTokens = 256;

}  // namespace

absl::StatusOr<llama::SamplingOptions> ToSamplingOptions(const common::v1::SamplingParams& params) {
  llama::SamplingOptions options;
  if (params.has_temperature()) options.temperature = params.temperature();
  if (params.has_top_k()) options.top_k = params.top_k();
  if (params.has_top_p()) options.top_p = params.top_p();
  if (params.has_repetition_penalty()) options.repetition_penalty = params.repetition_penalty();
  if (params.has_seed()) options.seed = params.seed();
  options.max_tokens = params.max_tokens() > 0 ? params.max_tokens() : kDefaultMaxTokens;
  options.stop.assign(params.stop().begin(), params.stop().end());
  options.logprobs = params.logprobs();
  options.top_logprobs = params.top_logprobs();
  if (params.has_json_schema()) options.json_schema = DumpJson(StructToJson(params.json_schema()));
  absl::Status valid = llama::ValidateSamplingOptions(options);
  if (!valid.ok()) return valid;
  return options;
}

absl::StatusOr<std::vector<int32_t>> ChatPromptIds(const llama::LlamaModel& model,
                                                   absl::Span<const common::v1::Message> messages) {
  const tokenizer::Tokenizer* tok = model.tokenizer();
  if (tok == nullptr) return absl::FailedPreconditionError("the generator's files hold no tokenizer");
  if (messages.empty()) return absl::InvalidArgumentError("messages are required");
  std::vector<tokenizer::ChatMessage> chat;
  chat.reserve(messages.size());
  for (const common::v1::Message& message : messages) {
    // Tool results are shown to the model as user turns: Llama-2 chat has no tool role.
    chat.push_back({message.role() == "tool" ? "user" : message.role(), message.content()});
  }
  auto rendered = tokenizer::ChatTemplate(tokenizer::ChatFormat::kLlama2)
                      .Render(chat, /*add_generation_prompt=*/true);
  if (!rendered.ok()) return rendered.status();
  return tokenizer::EncodeWithSpecialTokens(*tok, *rendered);
}

int FitPromptToContext(std::vector<int32_t>* ids, int context_length, int reserve) {
  const int budget = context_length - std::min(reserve, context_length / 2);
  const int excess = static_cast<int>(ids->size()) - budget;
  if (excess <= 0) return 0;
  const int head = budget / 4;
  ids->erase(ids->begin() + head, ids->begin() + head + excess);
  return excess;
}

}  // namespace tessera::engine

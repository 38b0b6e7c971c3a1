#include "eval/model_call.h"

#include <vector>

namespace tessera::eval {

absl::StatusOr<agents::ChatResult> ModelCaller::Call(absl::string_view system,
                                                     absl::string_view user,
                                                     const agents::SamplingParams* sampling) {
  if (model_ == nullptr) return absl::FailedPreconditionError("no judge model");
  if (admit_) {
    absl::Status admitted = admit_();
    if (!admitted.ok()) return admitted;
  }
  std::vector<agents::ChatMessage> messages;
  if (!system.empty()) {
    agents::ChatMessage& message = messages.emplace_back();
    message.set_role("system");
    message.set_content(std::string(system));
  }
  agents::ChatMessage& message = messages.emplace_back();
  message.set_role("user");
  message.set_content(std::string(user));
  ++calls_;
  auto result = model_->Generate(messages, {}, sampling != nullptr ? *sampling : sampling_);
  if (!result.ok()) return result.status();
  AddUsage(result->usage, &usage_);
  return result;
}

agents::SamplingParams JudgeSampling(const agents::SamplingParams& configured) {
  agents::SamplingParams sampling = configured;
  if (!sampling.has_temperature()) sampling.set_temperature(0);
  if (sampling.max_tokens() == 0) sampling.set_max_tokens(512);
  return sampling;
}

void AddUsage(const agents::Usage& from, agents::Usage* to) {
  to->set_prompt_tokens(to->prompt_tokens() + from.prompt_tokens());
  to->set_completion_tokens(to->completion_tokens() + from.completion_tokens());
  to->set_total_tokens(to->total_tokens() + from.total_tokens());
  to->set_embedding_tokens(to->embedding_tokens() + from.embedding_tokens());
  to->set_cost_micros(to->cost_micros() + from.cost_micros());
}

}  // namespace tessera::eval

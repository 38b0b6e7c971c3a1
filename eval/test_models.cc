#include "eval/test_models.h"

#include <algorithm>
#include <cmath>

namespace tessera::eval::testing {

absl::StatusOr<agents::ChatResult> LogprobChatModel::Generate(
    const std::vector<agents::ChatMessage>&, const std::vector<agents::ToolSpec>&,
    const agents::SamplingParams& sampling) {
  {
    absl::MutexLock lock(&mu_);
    samplings_.push_back(sampling);
  }
  agents::ChatResult result;
  for (const agents::TokenLogprob& token : tokens_) result.text += token.token;
  if (sampling.logprobs() || sampling.top_logprobs() > 0) result.logprobs = tokens_;
  result.usage.set_prompt_tokens(10);
  result.usage.set_completion_tokens(static_cast<int64_t>(tokens_.size()));
  result.usage.set_total_tokens(10 + static_cast<int64_t>(tokens_.size()));
  return result;
}

std::vector<agents::SamplingParams> LogprobChatModel::samplings() const {
  absl::MutexLock lock(&mu_);
  return samplings_;
}

absl::StatusOr<agents::ChatResult> InstrumentedChatModel::Generate(
    const std::vector<agents::ChatMessage>& messages, const std::vector<agents::ToolSpec>& tools,
    const agents::SamplingParams& sampling) {
  {
    absl::MutexLock lock(&mu_);
    prompts_.push_back(messages.empty() ? "" : messages.back().content());
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    if (hold_number_ > 0 && static_cast<int>(prompts_.size()) == hold_number_) {
      held_ = true;
      mu_.Await(absl::Condition(&released_));
    }
  }
  if (delay_ > absl::ZeroDuration()) absl::SleepFor(delay_);
  auto result = inner_->Generate(messages, tools, sampling);
  absl::MutexLock lock(&mu_);
  --in_flight_;
  return result;
}

void InstrumentedChatModel::HoldCall(int number) {
  absl::MutexLock lock(&mu_);
  hold_number_ = number;
}

bool InstrumentedChatModel::WaitUntilHeld(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&held_), timeout);
}

void InstrumentedChatModel::Release() {
  absl::MutexLock lock(&mu_);
  released_ = true;
}

std::vector<std::string> InstrumentedChatModel::prompts() const {
  absl::MutexLock lock(&mu_);
  return prompts_;
}

int InstrumentedChatModel::max_in_flight() const {
  absl::MutexLock lock(&mu_);
  return max_in_flight_;
}

agents::TokenLogprob MakeToken(std::string text, double p,
                               std::vector<std::pair<std::string, double>> alternatives) {
  agents::TokenLogprob token;
  token.token = std::move(text);
  token.logprob = std::log(p);
  for (auto& [alternative, q] : alternatives) token.top.push_back({alternative, std::log(q)});
  return token;
}

}  // namespace tessera::eval::testing

// Chat models for eval tests (testonly): replies with token logprobs, and a
// wrapper that counts, delays or holds calls so tests can stop a job mid-way.
#ifndef TESSERA_EVAL_TEST_MODELS_H_
#define TESSERA_EVAL_TEST_MODELS_H_

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agents/chat_model.h"

namespace tessera::eval::testing {

// Replies `text` split into the given tokens, each with its logprob and top
// alternatives; records the sampling of every call. `supports_json_schema`:
// what SupportsJsonSchema declares (the replies are the same either way).
class LogprobChatModel : public agents::ChatModel {
 public:
  explicit LogprobChatModel(std::vector<agents::TokenLogprob> tokens, bool supports_json_schema = false)
      : tokens_(std::move(tokens)), supports_json_schema_(supports_json_schema) {}
  absl::StatusOr<agents::ChatResult> Generate(const std::vector<agents::ChatMessage>& messages,
                                              const std::vector<agents::ToolSpec>& tools,
                                              const agents::SamplingParams& sampling) override;
  bool SupportsJsonSchema() const override { return supports_json_schema_; }
  std::vector<agents::SamplingParams> samplings() const;

 private:
  std::vector<agents::TokenLogprob> tokens_;
  bool supports_json_schema_;
  mutable absl::Mutex mu_;
  std::vector<agents::SamplingParams> samplings_;
};

// Forwards to `inner`, recording the last user message of each call, and
// tracking how many calls run at once. With a hold set, the call with that
// (1-based) number waits until Release().
class InstrumentedChatModel : public agents::ChatModel {
 public:
  explicit InstrumentedChatModel(agents::ChatModel* inner, absl::Duration delay = absl::ZeroDuration())
      : inner_(inner), delay_(delay) {}
  absl::StatusOr<agents::ChatResult> Generate(const std::vector<agents::ChatMessage>& messages,
                                              const std::vector<agents::ToolSpec>& tools,
                                              const agents::SamplingParams& sampling) override;
  bool SupportsJsonSchema() const override { return inner_->SupportsJsonSchema(); }

  void HoldCall(int number);
  // Blocks until the held call has arrived (true) or `timeout` passes.
  bool WaitUntilHeld(absl::Duration timeout);
  void Release();

  std::vector<std::string> prompts() const;
  int max_in_flight() const;

 private:
  agents::ChatModel* inner_;
  absl::Duration delay_;
  mutable absl::Mutex mu_;
  std::vector<std::string> prompts_;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  int hold_number_ = 0;
  bool held_ = false;
  bool released_ = false;
};

// A token with probability `p` and alternatives (text, probability).
agents::TokenLogprob MakeToken(std::string text, double p,
                               std::vector<std::pair<std::string, double>> alternatives = {});

}  // namespace tessera::eval::testing

#endif  // TESSERA_EVAL_TEST_MODELS_H_

// How judges and metrics call a model: one system + user turn, admitted by the
// job's rate limit first, with the tokens tallied.
#ifndef TESSERA_EVAL_MODEL_CALL_H_
#define TESSERA_EVAL_MODEL_CALL_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agents/chat_model.h"

namespace tessera::eval {

// Blocks until a call may start (rate limit); an error aborts the call.
using AdmitCall = std::function<absl::Status()>;

class ModelCaller {
 public:
  // `model` must outlive the caller; `admit` may be empty (no limit).
  ModelCaller(agents::ChatModel* model, agents::SamplingParams sampling, AdmitCall admit = {})
      : model_(model), sampling_(std::move(sampling)), admit_(std::move(admit)) {}

  // `sampling` null: the caller's default (greedy unless configured).
  absl::StatusOr<agents::ChatResult> Call(absl::string_view system, absl::string_view user,
                                          const agents::SamplingParams* sampling = nullptr);

  const agents::SamplingParams& sampling() const { return sampling_; }
  // Whether the model enforces sampling.json_schema (see agents::ChatModel).
  bool SupportsJsonSchema() const { return model_ != nullptr && model_->SupportsJsonSchema(); }
  // Tokens of every call so far. Not thread-safe: one caller per case.
  const agents::Usage& usage() const { return usage_; }
  // Model calls made so far (admitted and answered, successfully or not).
  int calls() const { return calls_; }

 private:
  agents::ChatModel* model_;
  agents::SamplingParams sampling_;
  AdmitCall admit_;
  agents::Usage usage_;
  int calls_ = 0;
};

// Judges' defaults: greedy, 512 tokens, unless the job's sampling says otherwise.
agents::SamplingParams JudgeSampling(const agents::SamplingParams& configured);

void AddUsage(const agents::Usage& from, agents::Usage* to);

}  // namespace tessera::eval

#endif  // TESSERA_EVAL_MODEL_CALL_H_

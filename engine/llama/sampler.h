// Next-token selection for the LLaMA runtime: repetition penalty, greedy or
// temperature sampling with top-k / top-p, a seeded std::mt19937_64 (the same
// seed gives the same tokens), and per-token log-probabilities with top-n
// alternatives. Buffers are sized once per vocabulary, so sampling a token in the
// decode loop allocates nothing.
#ifndef TESSERA_ENGINE_LLAMA_SAMPLER_H_
#define TESSERA_ENGINE_LLAMA_SAMPLER_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace tessera::llama {

struct SamplingOptions {
  // 0: greedy (argmax after the repetition penalty); > 0 divides the logits.
  float temperature = 0.0f;
  // Keep the k most likely tokens; 0 = all.
  int top_k = 0;
  // Keep the smallest set of most likely tokens whose probability reaches top_p;
  // 1 = all.
  float top_p = 1.0f;
  // Hugging Face / CTRL rule over the prompt and generated tokens: a positive
  // logit is divided by the penalty, a negative one multiplied; 1 = off.
  float repetition_penalty = 1.0f;
  uint64_t seed = 0;
  // Generation stops after this many new tokens.
  int max_tokens = 128;
  // Generation stops when one of these appears in the decoded text; the text
  // returned and streamed ends before it. Needs a tokenizer.
  std::vector<std::string> stop;
  // Stop at the model's end-of-sequence token (not included in the text).
  bool stop_at_eos = true;
  // Return the log-probability of every generated token and, when > 0, the
  // `top_logprobs` most likely alternatives (log-softmax of the model's logits,
  // before penalty and temperature; under a json_schema, of the logits of the
  // tokens the schema allows, so the alternatives are the choices the
  // generation really had and their probabilities sum to one).
  bool logprobs = false;
  int top_logprobs = 0;
  // When set, a JSON schema (as JSON text) the output must satisfy: tokens that
  // cannot continue valid output are masked before sampling, and generation
  // ends when the JSON value closes (see engine/constrained). Needs a tokenizer.
  std::string json_schema;
};

// INVALID_ARGUMENT for a negative or non-finite temperature, top_k < 0, top_p
// outside (0, 1], repetition_penalty <= 0, max_tokens < 0, top_logprobs outside
// [0, 20], or an empty stop string.
absl::Status ValidateSamplingOptions(const SamplingOptions& options);

struct TokenLogprob {
  int32_t token = -1;
  float logprob = 0;
};

class Sampler {
 public:
  // `options` must have passed ValidateSamplingOptions.
  Sampler(const SamplingOptions& options, int vocab_size);

  // Picks the next token from `logits` (vocab_size values; modified in place by
  // the penalty and temperature). `history`: the prompt and the tokens so far.
  int32_t Sample(absl::Span<float> logits, absl::Span<const int32_t> history);

  // log-softmax of `logits` at `token`, and the `top_n` largest entries (most
  // likely first) in `top`. Call before Sample, which changes `logits`.
  float LogProbs(absl::Span<const float> logits, int32_t token, int top_n,
                 std::vector<TokenLogprob>* top);

 private:
  SamplingOptions options_;
  int vocab_size_;
  std::mt19937_64 rng_;
  std::vector<int32_t> order_;  // Candidate ids, reused every step.
  std::vector<float> probs_;
  std::vector<uint8_t> seen_;  // Tokens already penalised in this step.
};

// Numerically stable log(sum(exp(x))).
float LogSumExp(absl::Span<const float> values);

}  // namespace tessera::llama

#endif  // TESSERA_ENGINE_LLAMA_SAMPLER_H_

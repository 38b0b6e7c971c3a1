// From the API's chat messages and sampling parameters to what the LLaMA decoder
// takes. Shared by the generation service and agents' LLM nodes.
#ifndef TESSERA_ENGINE_CHAT_GENERATION_H_
#define TESSERA_ENGINE_CHAT_GENERATION_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "engine/llama/llama_model.h"
#include "tessera/common/v1/common.pb.h"

namespace tessera::engine {

// Unset fields keep the decoder's defaults; max_tokens 0 means 256; json_schema
// constrains decoding (engine/constrained). INVALID_ARGUMENT for out-of-range values.
absl::StatusOr<llama::SamplingOptions> ToSamplingOptions(const common::v1::SamplingParams& params);

// The messages rendered with the Llama-2 chat template and encoded with the
// model's tokenizer (special markers become their ids).
absl::StatusOr<std::vector<int32_t>> ChatPromptIds(const llama::LlamaModel& model,
                                                   absl::Span<const common::v1::Message> messages);

// Shortens a prompt that leaves fewer than `reserve` tokens of the context for
// the reply by cutting its middle: the head (system prompt, instructions) and
// the tail (the latest turn and the generation prompt) are kept. Returns the
// number of tokens cut. For callers that must keep going (agent loops); the
// API reports an over-long prompt as an error instead.
int FitPromptToContext(std::vector<int32_t>* ids, int context_length, int reserve);

}  // namespace tessera::engine

#endif  // TESSERA_ENGINE_CHAT_GENERATION_H_

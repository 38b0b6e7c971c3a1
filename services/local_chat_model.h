// Agents' LLM nodes on the server's own generator: agents::ChatModel over the
// LLaMA decoder. Tools are described in the system prompt; the agent runtime
// parses the JSON tool calls out of the reply.
#ifndef TESSERA_SERVICES_LOCAL_CHAT_MODEL_H_
#define TESSERA_SERVICES_LOCAL_CHAT_MODEL_H_

#include "agents/chat_model.h"
#include "engine/llama/llama_model.h"

namespace tessera::services {

class LocalChatModel : public agents::ChatModel {
 public:
  // `model` must outlive this object.
  explicit LocalChatModel(const llama::LlamaModel* model) : model_(model) {}

  absl::StatusOr<agents::ChatResult> Generate(const std::vector<agents::ChatMessage>& messages,
                                              const std::vector<agents::ToolSpec>& tools,
                                              const agents::SamplingParams& sampling) override;

 private:
  const llama::LlamaModel* model_;
};

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_LOCAL_CHAT_MODEL_H_

// Agents' LLM nodes on the server's own generator: agents::ChatModel over the
// LLaMA decoder. When a node offers tools, the reply is constrained (see
// engine/constrained) to one JSON object: {"tool": NAME, "arguments": {...}}
// with arguments valid for that tool's schema, or {"answer": TEXT}; tool calls
// are returned natively, so the agent runtime never has to repair them.
#ifndef TESSERA_SERVICES_LOCAL_CHAT_MODEL_H_
#define TESSERA_SERVICES_LOCAL_CHAT_MODEL_H_

#include "agents/chat_model.h"
#include "engine/llama/llama_model.h"

namespace tessera::services {

class LocalChatModel : public agents::ChatModel {
 public:
  // `model` must outlive this object. `constrain_tool_calls` false leaves the
  // reply free and the runtime parses tool calls out of the text.
  explicit LocalChatModel(const llama::LlamaModel* model, bool constrain_tool_calls = true)
      : model_(model), constrain_tool_calls_(constrain_tool_calls) {}

  absl::StatusOr<agents::ChatResult> Generate(const std::vector<agents::ChatMessage>& messages,
                                              const std::vector<agents::ToolSpec>& tools,
                                              const agents::SamplingParams& sampling) override;
  absl::StatusOr<agents::ChatResult> GenerateStreaming(const std::vector<agents::ChatMessage>& messages,
                                                       const std::vector<agents::ToolSpec>& tools,
                                                       const agents::SamplingParams& sampling,
                                                       const agents::TokenSink& on_token) override;
  // Constrained decoding needs the model's tokenizer.
  bool SupportsJsonSchema() const override { return model_->tokenizer() != nullptr; }

 private:
  const llama::LlamaModel* model_;
  bool constrain_tool_calls_;
};

// The schema of a constrained reply offering `tools`: anyOf one object per tool
// ({"tool": const NAME, "arguments": the tool's schema}) and {"answer": string}.
Json ToolReplySchema(const std::vector<agents::ToolSpec>& tools);

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_LOCAL_CHAT_MODEL_H_

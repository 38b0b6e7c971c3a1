// The model interface agents call. The local generator and remote gateways
// implement ChatModel; ScriptedChatModel gives tests deterministic replies.
#ifndef TESSERA_AGENTS_CHAT_MODEL_H_
#define TESSERA_AGENTS_CHAT_MODEL_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/json.h"
#include "tessera/common/v1/common.pb.h"

namespace tessera::agents {

using ChatMessage = ::tessera::common::v1::Message;
using SamplingParams = ::tessera::common::v1::SamplingParams;
using Usage = ::tessera::common::v1::Usage;

// A tool as advertised to the model.
struct ToolSpec {
  std::string name;
  std::string description;
  Json parameters;  // JSON Schema.
};

// A generated token's log-probability, and the most likely alternatives at its
// position (G-Eval weighs score tokens by them).
struct TokenAlternative {
  std::string token;
  double logprob = 0;
};
struct TokenLogprob {
  std::string token;
  double logprob = 0;
  std::vector<TokenAlternative> top;
};

struct ChatResult {
  std::string text;
  // Native tool calls, when the backend supports them. When empty, the runtime
  // also parses calls out of `text` (see tool_call_parser.h).
  std::vector<::tessera::common::v1::ToolCall> tool_calls;
  Usage usage;
  // One entry per generated token when sampling asked for logprobs and the
  // backend reports them; empty otherwise.
  std::vector<TokenLogprob> logprobs;
};

// Receives generated text as it is produced (a delta per call).
using TokenSink = std::function<void(absl::string_view text_delta)>;

class ChatModel {
 public:
  virtual ~ChatModel() = default;
  // Must be thread-safe.
  virtual absl::StatusOr<ChatResult> Generate(const std::vector<ChatMessage>& messages,
                                              const std::vector<ToolSpec>& tools,
                                              const SamplingParams& sampling) = 0;
  // Generate that also streams the text to `on_token`. Backends that cannot
  // stream deliver the whole text once, when it is complete.
  virtual absl::StatusOr<ChatResult> GenerateStreaming(const std::vector<ChatMessage>& messages,
                                                       const std::vector<ToolSpec>& tools,
                                                       const SamplingParams& sampling, const TokenSink& on_token) {
    absl::StatusOr<ChatResult> result = Generate(messages, tools, sampling);
    if (result.ok() && on_token && !result->text.empty()) on_token(result->text);
    return result;
  }
  // True when Generate enforces sampling.json_schema (constrained decoding), so
  // a reply is JSON valid for the schema unless cut short by max_tokens.
  // Backends that ignore the schema keep the default.
  virtual bool SupportsJsonSchema() const { return false; }
};

// Models by name (LlmNode.model); "" and "default" (unless a model is
// registered under that name) select the default model.
class ModelRegistry {
 public:
  void Register(const std::string& name, std::shared_ptr<ChatModel> model);
  void SetDefault(std::shared_ptr<ChatModel> model);
  std::shared_ptr<ChatModel> Find(const std::string& name) const;

 private:
  std::map<std::string, std::shared_ptr<ChatModel>> models_;
  std::shared_ptr<ChatModel> default_model_;
};

// Deterministic replies for tests:
//  - rules: when a conversation's text (every message's content, joined)
//    contains `pattern`, reply with `reply`; first matching rule wins; a rule
//    with `times` > 0 is used at most that often;
//  - otherwise the next reply of the turn script;
//  - when both are exhausted, FAILED_PRECONDITION.
// Usage counts whitespace-separated words. Every request is recorded.
class ScriptedChatModel : public ChatModel {
 public:
  void AddTurn(std::string reply);
  void AddRule(std::string pattern, std::string reply, int times = 0);

  absl::StatusOr<ChatResult> Generate(const std::vector<ChatMessage>& messages,
                                      const std::vector<ToolSpec>& tools,
                                      const SamplingParams& sampling) override;

  struct Request {
    std::vector<ChatMessage> messages;
    std::vector<std::string> tool_names;
  };
  std::vector<Request> requests() const;
  int call_count() const;

 private:
  struct Rule {
    std::string pattern;
    std::string reply;
    int remaining;  // -1 = unlimited.
  };
  mutable std::mutex mu_;
  std::vector<std::string> turns_;
  size_t next_turn_ = 0;
  std::vector<Rule> rules_;
  std::vector<Request> requests_;
};

// A conversion for messages stored in a MESSAGES channel.
ChatMessage JsonToChatMessage(const Json& message);
Json ChatMessageToJson(const ChatMessage& message);

}  // namespace tessera::agents

#endif  // TESSERA_AGENTS_CHAT_MODEL_H_

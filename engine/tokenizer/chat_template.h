// Renders chat messages into a model's prompt format (Llama-2 chat, ChatML), and
// encodes such a prompt with its special-token markers ("<s>", "<|im_start|>")
// turned into the special ids rather than spelled out as text.
#ifndef TESSERA_ENGINE_TOKENIZER_CHAT_TEMPLATE_H_
#define TESSERA_ENGINE_TOKENIZER_CHAT_TEMPLATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/tokenizer/tokenizer.h"

namespace tessera::tokenizer {

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant".
  std::string content;
};

enum class ChatFormat {
  // <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} </s>...
  kLlama2,
  // <|im_start|>{role}\n{content}<|im_end|>\n ...
  kChatMl,
};

class ChatTemplate {
 public:
  explicit ChatTemplate(ChatFormat format) : format_(format) {}

  // INVALID_ARGUMENT for an unknown role, or (Llama-2) when user and assistant
  // turns do not alternate starting with the user, as Meta's template requires.
  // `add_generation_prompt` (ChatML) opens an assistant turn at the end; Llama-2
  // prompts already end ready for the answer after "[/INST]".
  absl::StatusOr<std::string> Render(absl::Span<const ChatMessage> messages,
                                     bool add_generation_prompt) const;

  ChatFormat format() const { return format_; }

 private:
  ChatFormat format_;
};

// Encodes `prompt`, turning every occurrence of a special token's piece (a CONTROL
// piece such as "<s>", or an added special token such as "<|im_start|>") into its
// id and encoding the text between them normally. For SentencePiece each text
// segment gets its own dummy-prefix space, as in Meta's Llama-2 chat reference
// (which encodes every turn separately).
absl::StatusOr<std::vector<int32_t>> EncodeWithSpecialTokens(const Tokenizer& tokenizer,
                                                             absl::string_view prompt);

}  // namespace tessera::tokenizer

#endif  // TESSERA_ENGINE_TOKENIZER_CHAT_TEMPLATE_H_

#include "engine/tokenizer/chat_template.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace tessera::tokenizer {
namespace {

bool IsKnownRole(absl::string_view role) {
  return role == "system" || role == "user" || role == "assistant";
}

absl::StatusOr<std::string> RenderLlama2(absl::Span<const ChatMessage> messages) {
  absl::string_view system;
  if (!messages.empty() && messages.front().role == "system") {
    system = absl::StripAsciiWhitespace(messages.front().content);
    messages.remove_prefix(1);
  }
  std::string prompt;
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& message = messages[i];
    const bool expect_user = i % 2 == 0;
    if (message.role != (expect_user ? "user" : "assistant")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Llama-2 chat: message ", i, " has role '", message.role,
          "'; after an optional system message, roles must alternate user/assistant"));
    }
    const absl::string_view content = absl::StripAsciiWhitespace(message.content);
    if (expect_user) {
      absl::StrAppend(&prompt, "<s>[INST] ");
      if (i == 0 && !system.empty()) absl::StrAppend(&prompt, "<<SYS>>\n", system, "\n<</SYS>>\n\n");
      absl::StrAppend(&prompt, content, " [/INST]");
    } else {
      absl::StrAppend(&prompt, " ", content, " </s>");
    }
  }
  return prompt;
}

std::string RenderChatMl(absl::Span<const ChatMessage> messages, bool add_generation_prompt) {
  std::string prompt;
  for (const ChatMessage& message : messages) {
    absl::StrAppend(&prompt, "<|im_start|>", message.role, "\n", message.content, "<|im_end|>\n");
  }
  if (add_generation_prompt) absl::StrAppend(&prompt, "<|im_start|>assistant\n");
  return prompt;
}

}  // namespace

absl::StatusOr<std::string> ChatTemplate::Render(absl::Span<const ChatMessage> messages,
                                                 bool add_generation_prompt) const {
  for (size_t i = 0; i < messages.size(); ++i) {
    if (!IsKnownRole(messages[i].role)) {
      return absl::InvalidArgumentError(
          absl::StrCat("chat message ", i, " has unknown role '", messages[i].role, "'"));
    }
    if (i > 0 && messages[i].role == "system") {
      return absl::InvalidArgumentError("only the first chat message may be a system message");
    }
  }
  switch (format_) {
    case ChatFormat::kLlama2:
      return RenderLlama2(messages);
    case ChatFormat::kChatMl:
      return RenderChatMl(messages, add_generation_prompt);
  }
  return absl::InternalError("unknown chat format");
}

absl::StatusOr<std::vector<int32_t>> EncodeWithSpecialTokens(const Tokenizer& tokenizer,
                                                             absl::string_view prompt) {
  // The special pieces, scanned once per call (a few thousand ids at most matter).
  std::vector<std::pair<std::string, int32_t>> specials;
  for (int32_t id = 0; id < tokenizer.vocab_size(); ++id) {
    if (!tokenizer.IsSpecial(id)) continue;
    absl::StatusOr<std::string> piece = tokenizer.IdToPiece(id);
    if (piece.ok() && !piece->empty()) specials.emplace_back(std::move(*piece), id);
  }
  std::vector<int32_t> ids;
  auto encode_text = [&](absl::string_view text) -> absl::Status {
    if (text.empty()) return absl::OkStatus();
    absl::StatusOr<std::vector<int32_t>> part = tokenizer.Encode(text, false);
    if (!part.ok()) return part.status();
    ids.insert(ids.end(), part->begin(), part->end());
    return absl::OkStatus();
  };
  size_t text_start = 0;
  size_t position = 0;
  while (position < prompt.size()) {
    const std::pair<std::string, int32_t>* match = nullptr;
    for (const auto& special : specials) {
      if (prompt.compare(position, special.first.size(), special.first) == 0 &&
          (match == nullptr || special.first.size() > match->first.size())) {
        match = &special;
      }
    }
    if (match == nullptr) {
      ++position;
      continue;
    }
    if (absl::Status s = encode_text(prompt.substr(text_start, position - text_start)); !s.ok()) {
      return s;
    }
    ids.push_back(match->second);
    position += match->first.size();
    text_start = position;
  }
  if (absl::Status s = encode_text(prompt.substr(text_start)); !s.ok()) return s;
  return ids;
}

}  // namespace tessera::tokenizer

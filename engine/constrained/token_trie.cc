#include "engine/constrained/token_trie.h"

#include <algorithm>
#include <map>

#include "absl/strings/match.h"

namespace tessera::constrained {

absl::StatusOr<std::vector<std::string>> TokenBytes(const tokenizer::Tokenizer& tokenizer) {
  // Decode each token after an anchor token and strip the anchor's text: this
  // gives the token's bytes in the middle of text for every tokenizer kind
  // (SentencePiece drops a leading space only at the start of text).
  absl::StatusOr<std::vector<int32_t>> anchor_ids = tokenizer.Encode("a", /*add_special_tokens=*/false);
  if (!anchor_ids.ok()) return anchor_ids.status();
  // The last token of "a" (a SentencePiece vocabulary without "▁a" spells it
  // as "▁" + byte tokens).
  if (anchor_ids->empty()) return absl::FailedPreconditionError("the tokenizer cannot encode \"a\"");
  const int32_t anchor = anchor_ids->back();
  absl::StatusOr<std::string> anchor_text = tokenizer.Decode({anchor});
  if (!anchor_text.ok()) return anchor_text.status();
  if (anchor_text->empty()) return absl::FailedPreconditionError("the tokenizer decodes \"a\" to nothing");
  std::vector<std::string> bytes(tokenizer.vocab_size());
  for (int32_t id = 0; id < tokenizer.vocab_size(); ++id) {
    if (tokenizer.IsSpecial(id)) continue;
    const int32_t pair[] = {anchor, id};
    absl::StatusOr<std::string> text = tokenizer.Decode(pair);
    if (!text.ok()) return text.status();
    if (absl::StartsWith(*text, *anchor_text)) {
      bytes[id] = text->substr(anchor_text->size());
    }
  }
  return bytes;
}

TokenTrie::TokenTrie(const std::vector<std::string>& token_bytes) : token_bytes_(token_bytes) {
  // Build with ordered child maps, then flatten into first-child/next-sibling.
  struct BuildNode {
    std::map<uint8_t, int> children;
    std::vector<int32_t> tokens;
  };
  std::vector<BuildNode> build(1);
  size_t max_length = 0;
  for (int32_t id = 0; id < static_cast<int32_t>(token_bytes.size()); ++id) {
    const std::string& text = token_bytes[id];
    if (text.empty()) continue;
    max_length = std::max(max_length, text.size());
    int node = 0;
    for (char c : text) {
      const uint8_t byte = static_cast<uint8_t>(c);
      auto it = build[node].children.find(byte);
      if (it == build[node].children.end()) {
        build.emplace_back();
        it = build[node].children.emplace(byte, static_cast<int>(build.size()) - 1).first;
      }
      node = it->second;
    }
    build[node].tokens.push_back(id);
  }
  nodes_.resize(build.size());
  for (size_t i = 0; i < build.size(); ++i) {
    nodes_[i].tokens_begin = static_cast<int>(tokens_.size());
    tokens_.insert(tokens_.end(), build[i].tokens.begin(), build[i].tokens.end());
    nodes_[i].tokens_end = static_cast<int>(tokens_.size());
    int previous = -1;
    for (const auto& [byte, child] : build[i].children) {
      nodes_[child].byte = byte;
      if (previous < 0) {
        nodes_[i].first_child = child;
      } else {
        nodes_[previous].next_sibling = child;
      }
      previous = child;
    }
  }
  scratch_.reserve(max_length + 1);
}

void TokenTrie::AllowedTokens(const JsonSchemaAcceptor& state, std::vector<int32_t>* allowed) {
  if (scratch_.empty()) scratch_.push_back(state);
  scratch_[0] = state;
  Walk(0, 0, allowed);
}

void TokenTrie::Walk(int node, size_t depth, std::vector<int32_t>* allowed) {
  for (int child = nodes_[node].first_child; child >= 0; child = nodes_[child].next_sibling) {
    if (scratch_.size() <= depth + 1) scratch_.push_back(scratch_[depth]);
    scratch_[depth + 1] = scratch_[depth];  // Reuses the scratch state's storage.
    if (!scratch_[depth + 1].Feed(nodes_[child].byte)) continue;
    allowed->insert(allowed->end(), tokens_.begin() + nodes_[child].tokens_begin,
                    tokens_.begin() + nodes_[child].tokens_end);
    Walk(child, depth + 1, allowed);
  }
}

}  // namespace tessera::constrained

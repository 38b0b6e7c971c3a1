// The vocabulary as a byte trie, for constrained decoding: the tokens a
// JsonSchemaAcceptor allows next are found by walking the trie with the
// acceptor, pruning every subtree whose prefix it rejects, instead of testing
// each of the (tens of thousands of) tokens on its own.
#ifndef TESSERA_ENGINE_CONSTRAINED_TOKEN_TRIE_H_
#define TESSERA_ENGINE_CONSTRAINED_TOKEN_TRIE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/constrained/json_schema_constraint.h"
#include "engine/tokenizer/tokenizer.h"

namespace tessera::constrained {

// The bytes each token adds to text that already has content before it (so a
// SentencePiece "▁the" is " the"); empty for special tokens, which constrained
// decoding never picks.
absl::StatusOr<std::vector<std::string>> TokenBytes(const tokenizer::Tokenizer& tokenizer);

class TokenTrie {
 public:
  explicit TokenTrie(const std::vector<std::string>& token_bytes);

  // Appends to `allowed` every token whose bytes `state` accepts, in no
  // particular order. Not thread-safe (uses internal scratch states).
  void AllowedTokens(const JsonSchemaAcceptor& state, std::vector<int32_t>* allowed);

  const std::string& bytes(int32_t token) const { return token_bytes_[token]; }

 private:
  struct Node {
    int first_child = -1;
    int next_sibling = -1;
    int tokens_begin = 0;  // Range in tokens_ of tokens ending here.
    int tokens_end = 0;
    uint8_t byte = 0;
  };
  void Walk(int node, size_t depth, std::vector<int32_t>* allowed);

  std::vector<std::string> token_bytes_;
  std::vector<Node> nodes_;
  std::vector<int32_t> tokens_;
  std::vector<JsonSchemaAcceptor> scratch_;  // One state per depth.
};

}  // namespace tessera::constrained

#endif  // TESSERA_ENGINE_CONSTRAINED_TOKEN_TRIE_H_

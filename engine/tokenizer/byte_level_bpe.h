// GPT-2-style byte-level BPE: text is split with (an RE2 rendering of) GPT-2's
// pre-tokenisation pattern, each piece's bytes are mapped to printable code
// points (the ByteLevel byte-to-unicode table), and merges apply in rank order.
#ifndef TESSERA_ENGINE_TOKENIZER_BYTE_LEVEL_BPE_H_
#define TESSERA_ENGINE_TOKENIZER_BYTE_LEVEL_BPE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/tokenizer/tokenizer.h"

namespace re2 {
class RE2;
}

namespace tessera::tokenizer {

// Tokens matched verbatim in the input before pre-tokenisation ("<|endoftext|>").
struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = true;  // Special tokens are skipped by Decode.
};

struct ByteLevelBpeConfig {
  // id -> piece in byte-level form ("Ġthe"); empty strings for unused ids.
  std::vector<std::string> vocab;
  // Merge rules, best first.
  std::vector<std::pair<std::string, std::string>> merges;
  bool add_prefix_space = false;
  std::vector<AddedToken> added_tokens;
  // Wrapped around the ids when Encode's add_special_tokens is true.
  std::vector<int32_t> prefix_ids;
  std::vector<int32_t> suffix_ids;
  SpecialTokenIds special;
};

// The GPT-2 byte -> code point table: printable Latin-1 bytes map to themselves,
// the other 68 bytes to U+0100.. in order (so " " is "Ġ", "\n" is "Ċ").
char32_t ByteToUnicode(uint8_t byte);

class ByteLevelBpeTokenizer : public Tokenizer {
 public:
  // INVALID_ARGUMENT for duplicate pieces, a merge whose parts or result are not
  // in the vocabulary, or added-token ids out of range.
  static absl::StatusOr<std::unique_ptr<ByteLevelBpeTokenizer>> Create(ByteLevelBpeConfig config);
  ~ByteLevelBpeTokenizer() override;

  TokenizerKind kind() const override { return TokenizerKind::kByteLevelBpe; }
  absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                              bool add_special_tokens) const override;
  absl::StatusOr<std::string> Decode(absl::Span<const int32_t> ids) const override;
  int32_t vocab_size() const override { return static_cast<int32_t>(config_.vocab.size()); }
  absl::StatusOr<std::string> IdToPiece(int32_t id) const override;
  std::optional<int32_t> PieceToId(absl::string_view piece) const override;
  bool IsSpecial(int32_t id) const override;
  const SpecialTokenIds& special_ids() const override { return config_.special; }

  // The pre-tokenisation stage alone (exposed for tests).
  std::vector<absl::string_view> PreTokenize(absl::string_view text) const;

 private:
  explicit ByteLevelBpeTokenizer(ByteLevelBpeConfig config);
  absl::Status EncodeWord(absl::string_view word, std::vector<int32_t>* ids) const;
  absl::Status EncodeSegment(absl::string_view segment, std::vector<int32_t>* ids) const;

  ByteLevelBpeConfig config_;
  absl::flat_hash_map<std::string, int32_t> piece_ids_;
  // (left id, right id) -> (rank, merged id).
  absl::flat_hash_map<uint64_t, std::pair<int32_t, int32_t>> merges_;
  std::array<int32_t, 256> byte_ids_;  // -1 when a byte's piece is missing.
  absl::flat_hash_map<char32_t, uint8_t> unicode_to_byte_;
  std::vector<bool> is_special_;
  std::vector<bool> is_added_;
  std::unique_ptr<re2::RE2> pattern_;
};

}  // namespace tessera::tokenizer

#endif  // TESSERA_ENGINE_TOKENIZER_BYTE_LEVEL_BPE_H_

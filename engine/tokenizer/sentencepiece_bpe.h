// SentencePiece-style BPE with byte fallback (the Llama tokenizers): spaces become
// U+2581, a dummy prefix space is added, and adjacent symbols are merged by piece
// score; characters outside the vocabulary become <0xNN> byte tokens.
#ifndef TESSERA_ENGINE_TOKENIZER_SENTENCEPIECE_BPE_H_
#define TESSERA_ENGINE_TOKENIZER_SENTENCEPIECE_BPE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/tokenizer/tokenizer.h"

namespace tessera::tokenizer {

// Same numbering as SentencePiece's ModelProto.SentencePiece.Type and GGUF's
// tokenizer.ggml.token_type, so either can be cast directly.
enum class PieceType : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

// An in-memory vocabulary: from tokenizer.model, tokenizer.bin, or GGUF metadata
// (tokenizer.ggml.tokens / scores / token_type). Pieces use U+2581 for spaces.
struct SentencePieceVocab {
  std::vector<std::string> pieces;
  std::vector<float> scores;
  std::vector<PieceType> types;
};

struct SentencePieceOptions {
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = false;
  bool escape_whitespaces = true;
  bool byte_fallback = true;
  // -1: take them from the vocabulary (first UNKNOWN piece, "<s>", "</s>", "<pad>").
  int32_t unk_id = -1;
  int32_t bos_id = -1;
  int32_t eos_id = -1;
  int32_t pad_id = -1;
};

class SentencePieceBpeTokenizer : public Tokenizer {
 public:
  // INVALID_ARGUMENT when the three vectors differ in length, a type is out of
  // range, a byte piece is not "<0xNN>", a normal piece is empty, or there is no
  // unknown piece. A repeated piece keeps its first id (as llama.cpp does).
  static absl::StatusOr<std::unique_ptr<SentencePieceBpeTokenizer>> Create(
      SentencePieceVocab vocab, SentencePieceOptions options);

  TokenizerKind kind() const override { return TokenizerKind::kSentencePieceBpe; }
  // Adds BOS (not EOS) when `add_special_tokens`, as Llama does.
  absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                              bool add_special_tokens) const override;
  // Control tokens are skipped, byte tokens are reassembled into UTF-8 (bad
  // sequences become U+FFFD), U+2581 becomes a space, and the dummy prefix space
  // of the first piece is removed. The unknown token decodes to " \u2047 ".
  absl::StatusOr<std::string> Decode(absl::Span<const int32_t> ids) const override;
  int32_t vocab_size() const override { return static_cast<int32_t>(vocab_.pieces.size()); }
  absl::StatusOr<std::string> IdToPiece(int32_t id) const override;
  std::optional<int32_t> PieceToId(absl::string_view piece) const override;
  bool IsSpecial(int32_t id) const override;
  const SpecialTokenIds& special_ids() const override { return special_; }

  float Score(int32_t id) const { return vocab_.scores[id]; }
  PieceType Type(int32_t id) const { return vocab_.types[id]; }
  const SentencePieceOptions& options() const { return options_; }

 private:
  SentencePieceBpeTokenizer(SentencePieceVocab vocab, SentencePieceOptions options);
  std::string Normalize(absl::string_view text) const;
  void EncodeNormalized(absl::string_view normalized, std::vector<int32_t>* ids) const;
  // The SentencePiece BPE merge loop over one independent stretch of text.
  void EncodeSegment(absl::string_view normalized, std::vector<int32_t>* ids) const;
  size_t MatchUserDefined(absl::string_view text) const;

  SentencePieceVocab vocab_;
  SentencePieceOptions options_;
  // Pieces that may come out of a merge: NORMAL, USER_DEFINED, UNUSED.
  absl::flat_hash_map<std::string, int32_t> mergeable_ids_;
  // Every piece, for PieceToId.
  absl::flat_hash_map<std::string, int32_t> all_ids_;
  std::array<int32_t, 256> byte_ids_;
  std::vector<std::string> user_defined_;  // Matched whole before merging.
  size_t max_user_defined_length_ = 0;
  bool split_at_word_starts_ = false;
  SpecialTokenIds special_;
};

}  // namespace tessera::tokenizer

#endif  // TESSERA_ENGINE_TOKENIZER_SENTENCEPIECE_BPE_H_

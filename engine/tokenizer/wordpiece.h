// BERT's WordPiece tokenizer: BasicTokenizer (clean text, CJK split, lower-casing
// and accent stripping, punctuation split) followed by greedy longest-match-first
// WordPiece with "##" continuation pieces. Where Python BERT and the Hugging Face
// `tokenizers` library (what sentence-transformers runs) differ, this follows the
// library: testdata/hf_minilm_fixture.json holds its ids.
#ifndef TESSERA_ENGINE_TOKENIZER_WORDPIECE_H_
#define TESSERA_ENGINE_TOKENIZER_WORDPIECE_H_

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

namespace tessera::tokenizer {

struct WordPieceOptions {
  bool do_lower_case = true;
  // Unset: follow do_lower_case (BERT's rule).
  std::optional<bool> strip_accents;
  bool tokenize_chinese_chars = true;
  bool clean_text = true;
  int max_input_chars_per_word = 100;
  std::string continuing_subword_prefix = "##";
  std::string unk_token = "[UNK]";
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
  std::string mask_token = "[MASK]";
  // Tokens matched verbatim in the raw text before normalisation (the library's
  // added tokens), each giving its vocabulary id. Unset: the five tokens above
  // that the vocabulary has. Entries missing from the vocabulary are ignored.
  std::optional<std::vector<std::string>> added_tokens;
};

class WordPieceTokenizer : public Tokenizer {
 public:
  // `vocab[i]` is the piece of id i. INVALID_ARGUMENT when the vocabulary is empty,
  // has duplicates, or lacks the unknown token.
  static absl::StatusOr<std::unique_ptr<WordPieceTokenizer>> Create(
      std::vector<std::string> vocab, WordPieceOptions options);

  // Parses a BERT vocab.txt (one piece per line; line number = id).
  static absl::StatusOr<std::unique_ptr<WordPieceTokenizer>> FromVocabText(
      absl::string_view vocab_text, WordPieceOptions options);

  TokenizerKind kind() const override { return TokenizerKind::kWordPiece; }
  absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                              bool add_special_tokens) const override;
  // Skips special tokens and [UNK], joins pieces with spaces, glues "##" pieces,
  // and drops the space before a piece that is ".", "?", "!" or "," (the library's
  // WordPiece decoder, whose clean-up works piece by piece).
  absl::StatusOr<std::string> Decode(absl::Span<const int32_t> ids) const override;
  int32_t vocab_size() const override { return static_cast<int32_t>(vocab_.size()); }
  absl::StatusOr<std::string> IdToPiece(int32_t id) const override;
  std::optional<int32_t> PieceToId(absl::string_view piece) const override;
  bool IsSpecial(int32_t id) const override;
  const SpecialTokenIds& special_ids() const override { return special_; }

  // The BasicTokenizer stage alone (exposed for tests): normalised words.
  std::vector<std::string> BasicTokenize(absl::string_view valid_utf8) const;

 private:
  WordPieceTokenizer(std::vector<std::string> vocab, WordPieceOptions options);
  void AppendWordPieces(absl::string_view word, std::vector<int32_t>* ids) const;
  void AppendText(absl::string_view text, std::vector<int32_t>* ids) const;

  std::vector<std::string> vocab_;
  WordPieceOptions options_;
  bool strip_accents_;
  absl::flat_hash_map<std::string, int32_t> word_start_ids_;
  // Continuation pieces keyed without their "##" prefix.
  absl::flat_hash_map<std::string, int32_t> continuation_ids_;
  SpecialTokenIds special_;
  // (content, id) of the tokens matched verbatim before normalisation.
  std::vector<std::pair<std::string, int32_t>> added_tokens_;
};

}  // namespace tessera::tokenizer

#endif  // TESSERA_ENGINE_TOKENIZER_WORDPIECE_H_

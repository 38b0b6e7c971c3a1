// The tokenizer interface of the model runtime. Implementations: WordPiece (BERT),
// SentencePiece-style BPE with byte fallback (Llama), byte-level BPE (GPT-2).
// Use LoadTokenizer() in load_tokenizer.h to build one from a file.
#ifndef TESSERA_ENGINE_TOKENIZER_TOKENIZER_H_
#define TESSERA_ENGINE_TOKENIZER_TOKENIZER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace tessera::tokenizer {

enum class TokenizerKind { kWordPiece, kSentencePieceBpe, kByteLevelBpe };

// Ids of the special tokens; -1 where the vocabulary has none.
struct SpecialTokenIds {
  int32_t bos = -1;
  int32_t eos = -1;
  int32_t pad = -1;
  int32_t unk = -1;
  int32_t cls = -1;
  int32_t sep = -1;
  int32_t mask = -1;
};

// A (query, passage) pair encoded for a cross-encoder: [CLS] a [SEP] b [SEP].
struct PairEncoding {
  std::vector<int32_t> ids;
  std::vector<int32_t> token_type_ids;  // 0 for the first segment, 1 for the second.
};

// Immutable after construction; every method is safe to call from many threads.
class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  virtual TokenizerKind kind() const = 0;

  // Text to ids. `text` must be valid UTF-8 (INVALID_ARGUMENT otherwise).
  // `add_special_tokens`: [CLS] ... [SEP] for WordPiece, BOS for SentencePiece,
  // the tokenizer.json post-processor's tokens for byte-level BPE.
  virtual absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                                      bool add_special_tokens) const = 0;

  // Ids to text; special (control) tokens are skipped. INVALID_ARGUMENT for an id
  // outside [0, vocab_size()).
  virtual absl::StatusOr<std::string> Decode(absl::Span<const int32_t> ids) const = 0;

  // Encodes `first` and `second` as one input truncated to `max_length` tokens
  // (special tokens included) with the Hugging Face "longest_first" rule.
  // UNIMPLEMENTED for tokenizers without [CLS]/[SEP] (only WordPiece has them).
  virtual absl::StatusOr<PairEncoding> EncodePair(absl::string_view first,
                                                  absl::string_view second,
                                                  int max_length) const;

  virtual int32_t vocab_size() const = 0;

  // The vocabulary entry of `id` (e.g. "##ing", "▁the", "<0x0A>", "Ġthe");
  // INVALID_ARGUMENT when out of range.
  virtual absl::StatusOr<std::string> IdToPiece(int32_t id) const = 0;
  virtual std::optional<int32_t> PieceToId(absl::string_view piece) const = 0;

  // True for tokens with no surface text (BOS/EOS/CLS/SEP/PAD/MASK, control pieces).
  virtual bool IsSpecial(int32_t id) const = 0;

  virtual const SpecialTokenIds& special_ids() const = 0;
};

// A token's text for logprob reports (what OpenAI's API shows as `token`): the
// vocabulary piece with the space markers of SentencePiece (U+2581) and
// byte-level BPE (U+0120) shown as spaces; "" for an id outside the vocabulary.
std::string TokenDisplayText(const Tokenizer& tokenizer, int32_t id);

}  // namespace tessera::tokenizer

#endif  // TESSERA_ENGINE_TOKENIZER_TOKENIZER_H_

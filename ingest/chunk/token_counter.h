// Token counting for chunk sizes. The default is an approximation that needs no
// vocabulary; an embedding model's own tokenizer can be plugged in through the
// same interface.
#ifndef TESSERA_INGEST_CHUNK_TOKEN_COUNTER_H_
#define TESSERA_INGEST_CHUNK_TOKEN_COUNTER_H_

#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"

namespace tessera::ingest {

// Byte offsets [begin, end) of one token in the text given to Tokenize.
struct TokenSpan {
  int64_t begin = 0;
  int64_t end = 0;
};

class TokenCounter {
 public:
  virtual ~TokenCounter() = default;

  // Appends the tokens of `text` (valid UTF-8) to `tokens`: in order, not
  // overlapping, on code-point boundaries, covering no whitespace at their ends.
  // Chunkers cut text only between tokens. Must be thread-safe.
  virtual void Tokenize(absl::string_view text, std::vector<TokenSpan>* tokens) const = 0;

  // Number of tokens of `text`; by default the size of Tokenize's output.
  virtual int64_t Count(absl::string_view text) const;
};

// The default approximation of a sub-word tokenizer, by Unicode category:
//  - White space (Unicode White_Space) separates tokens and is no token.
//  - A run of letters, digits and combining marks is a word; a word of n code
//    points is ceil(n / 8) tokens ("word pieces" of at most 8 code points, about
//    what BPE/WordPiece vocabularies give for long or rare words).
//  - Each CJK ideograph, kana and Hangul syllable is one token (these scripts are
//    written without spaces and tokenizers split them per character).
//  - Each other visible code point (punctuation, symbols, emoji) is one token;
//    combining marks and variation selectors after it belong to it.
//  - Other control and format characters (e.g. ZWJ) are no token.
class ApproximateTokenCounter : public TokenCounter {
 public:
  static constexpr int kMaxWordPieceCodePoints = 8;

  void Tokenize(absl::string_view text, std::vector<TokenSpan>* tokens) const override;
  int64_t Count(absl::string_view text) const override;
};

// A process-wide ApproximateTokenCounter.
const TokenCounter& DefaultTokenCounter();

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_CHUNK_TOKEN_COUNTER_H_
